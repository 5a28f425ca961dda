"""The names a user types live in one stdlib-only module (keras_imbalance._names), read by the
command line and equal to the engine's registries (issue 22, item 5)."""

import ast
from pathlib import Path

from keras_imbalance import _names, comparison, resampling, weights

CLI_FILES = [
    Path(__file__).parents[1] / "src" / "keras_imbalance" / "cli.py",
    *sorted((Path(__file__).parents[1] / "src" / "keras_imbalance" / "_cli").glob("*.py")),
]


def test_names_equal_the_engine_registries_in_order():
    assert _names.STRATEGIES == tuple(comparison.STRATEGIES)
    assert _names.ALIASES == dict(comparison.ALIASES)
    assert _names.MULTILABEL_STRATEGIES == tuple(comparison.MULTILABEL_STRATEGIES)
    assert _names.SEGMENTATION_STRATEGIES == tuple(comparison.SEGMENTATION_STRATEGIES)
    assert _names.METRICS == tuple(comparison.METRICS)
    assert _names.SEGMENTATION_METRICS == tuple(comparison.SEGMENTATION_METRICS)
    assert _names.WEIGHT_STRATEGIES == tuple(weights.WEIGHT_STRATEGIES)
    assert _names.RESAMPLING_METHODS == tuple(resampling.METHODS)


def test_strategy_key_reads_names_as_compare_does():
    assert _names.strategy_key("Focal_Loss") == "focal"
    assert _names.strategy_key("None + Threshold") == "none+threshold"
    assert _names.strategy_key("ROS") == "random_over"
    assert _names.strategy_key("smote") == "smote"


def test_the_command_line_keeps_no_copy_of_the_names():
    """No tuple, list, set or dict literal of registry names in the CLI's sources."""
    known = set(_names.STRATEGIES) | set(_names.METRICS) | set(_names.RESAMPLING_METHODS)
    known |= set(_names.WEIGHT_STRATEGIES)
    copies = []
    for path in CLI_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [k for k in node.keys if k is not None]
            else:
                continue
            names = [e.value for e in items if isinstance(e, ast.Constant)]
            if sum(isinstance(n, str) and n in known for n in names) >= 2:
                copies.append(f"{path.name}:{node.lineno} {names}")
    assert not copies, copies
