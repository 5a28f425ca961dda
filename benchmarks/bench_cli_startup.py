"""Wall time of ``keras-imbalance --help`` and ``keras-imbalance inspect`` (fresh processes).

    python benchmarks/bench_cli_startup.py [--repeat 7]

Each command runs ``--repeat`` times in a new interpreter (``python -m keras_imbalance.cli``,
so the sources on ``PYTHONPATH`` are measured, not an installed copy); the table gives the
median and the minimum wall time, and which heavy packages the command imported. Target
(issue 12, item 5): ``--help`` under 0.5 s, and neither command importing scikit-learn,
imbalanced-learn, Keras or torch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("sklearn", "imblearn", "keras", "torch", "scipy", "matplotlib")

PROBE = (
    "import runpy, sys, json\n"
    "watch = set(json.loads(sys.argv[2]))\n"
    "sys.argv = ['keras-imbalance', *json.loads(sys.argv[1])]\n"
    "try:\n"
    "    runpy.run_module('keras_imbalance.cli', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & watch)\n"
    "sys.stderr.write('HEAVY' + json.dumps(heavy) + '\\n')\n"
)


def run(args: list[str], repeat: int) -> tuple[list[float], list[str]]:
    command = [sys.executable, "-m", "keras_imbalance.cli", *args]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    heavy = json.loads(probe.stderr.rsplit("HEAVY", 1)[1])
    return times, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "small.csv")
        with open(data, "w") as handle:
            handle.write("a,b,label\n" + "".join(f"{i},{i % 7},{i % 5 == 0}\n" for i in range(200)))
        commands = {
            "keras-imbalance --help": ["--help"],
            "keras-imbalance inspect small.csv --target label": [
                "inspect",
                data,
                "--target",
                "label",
            ],
        }
        print(
            f"python {platform.python_version()}, {os.cpu_count()} CPUs, {args.repeat} runs each\n"
        )
        print("| command | median (s) | min (s) | heavy packages imported |")
        print("|---|---:|---:|---|")
        for name, argv in commands.items():
            times, heavy = run(argv, args.repeat)
            print(
                f"| `{name}` | {statistics.median(times):.3f} | {min(times):.3f} | "
                f"{', '.join(heavy) or 'none'} |"
            )


if __name__ == "__main__":
    main()
