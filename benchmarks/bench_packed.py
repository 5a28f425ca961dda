"""Packed training: the README ``compare`` side by side with the one-fit-per-candidate engine.

Usage (2-core container; every variant runs in a fresh process, interleaved, ``--rounds``
times, so a busy machine slows all of them alike):

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_packed.py readme --rounds 3
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_packed.py copies
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_packed.py rows
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_packed.py cnn

``readme``: ``compare(x, y, n_jobs=2)`` on the bundled yeast4 (the README's job, same
candidates and folds) with

- ``previous``: the engine of commit 2dfd852 (one Keras fit per candidate and fold, then one
  per refit), extracted with ``git archive`` into a temporary folder;
- ``unpacked``: this engine with ``packed=False`` (the same rows, weights and losses, one copy
  per fit);
- ``packed``: this engine (``packed=True``, the default).

Reported: wall seconds of the ``compare`` call (and of the whole process), and the ratio to
``previous`` in the same round.

``copies``: seconds per epoch of one packed fit of the default MLP on 1,200 rows as the
number of copies grows (1, 4, 16, 32). ``rows``: the same with 16 copies as rows grow (1e3,
1e4, 1e5). ``cnn``: ``compare(model_fn=small_cnn)`` on the 8x8 long-tailed digits
(``load_digits_lt``), packed vs unpacked wall time and the leaderboard.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREVIOUS = "2dfd852"

_README_RUN = """
import json, os, sys, tempfile, time
start = time.perf_counter()
from keras_imbalance import compare
from keras_imbalance.datasets import load_dataset
x, y = load_dataset("yeast4")
kwargs = json.loads(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    result = compare(x, y, n_jobs=2, results_path=os.path.join(tmp, "r.jsonl"), **kwargs)
    seconds = time.perf_counter() - t
board = result.leaderboard
print(json.dumps({"compare_s": seconds, "process_s": time.perf_counter() - start,
                  "rows": len(board), "fold_rows": len(result.folds),
                  "winner": [result.recommendation["winner_model"],
                             result.recommendation["winner_strategy"]],
                  "top": board[["model", "strategy", "mean"]].head(5).values.tolist()}))
"""


def _previous_src(tmp: str) -> str:
    """The previous engine's package, extracted from git into ``tmp``."""
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", PREVIOUS, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    return os.path.join(tmp, "src")


def _run(variant: str, previous: str) -> dict:
    env = dict(os.environ)
    kwargs = {}
    if variant == "previous":
        env["PYTHONPATH"] = previous
    elif variant == "unpacked":
        kwargs["packed"] = False
    out = subprocess.run(
        [sys.executable, "-c", _README_RUN, json.dumps(kwargs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT if variant != "previous" else previous,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def readme(rounds: int, variants: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        previous = _previous_src(tmp)
        results: dict = {v: [] for v in variants}
        for r in range(rounds):
            for v in variants:
                res = _run(v, previous)
                results[v].append(res)
                print(
                    f"round {r + 1} {v:9s} compare {res['compare_s']:6.1f} s, process "
                    f"{res['process_s']:6.1f} s, {res['rows']} leaderboard rows, winner "
                    f"{res['winner']}",
                    flush=True,
                )
        print("\n| variant | compare s (per round) | median | x faster than previous |")
        print("|---|---|---|---|")
        base = sorted(x["compare_s"] for x in results.get("previous", []))
        for v in variants:
            times = [x["compare_s"] for x in results[v]]
            med = sorted(times)[len(times) // 2]
            ratios = ""
            if base and v != "previous":
                ratios = ", ".join(
                    f"{p['compare_s'] / x['compare_s']:.1f}"
                    for p, x in zip(results["previous"], results[v], strict=True)
                )
            print(f"| {v} | {', '.join(f'{t:.1f}' for t in times)} | {med:.1f} | {ratios} |")
        for v in variants:
            print(v, "top rows:", results[v][-1]["top"])


def _fixed_mlp(epochs):
    from keras_imbalance.comparison import mlp_model

    def mlp(input_shape, n_classes):
        return mlp_model(input_shape, n_classes)

    mlp.fixed_epochs = epochs
    mlp.packed = mlp_model.packed
    return mlp


def _fold_seconds(n_rows: int, names: list, epochs: int, refit: bool) -> tuple:
    import numpy as np

    from keras_imbalance.comparison import STRATEGIES, TrainingSettings, _fold

    rng = np.random.default_rng(0)
    y = (rng.random(n_rows) < 0.05).astype(int)
    x = rng.normal(size=(n_rows, 8)) + y[:, None]
    settings = TrainingSettings(epochs=epochs, refit=refit)
    fitted = _fold.fit_fold(
        _fixed_mlp(epochs),
        [STRATEGIES[s] for s in names],
        x,
        y,
        np.arange(n_rows),
        settings,
        0,
        2,
    )
    n_copies = sum(len(r.names) for r in fitted.recipes)  # copies trained (fit part + refit)
    return fitted.seconds / epochs, n_copies


_MANY = [
    "balanced",
    "reference",
    "sqrt",
    "log",
    "log_mu",
    "effective_number",
    "focal",
    "logit_adjusted",
    "ldam",
    "random_over",
    "random_under",
    "smote",
    "borderline_smote1",
    "balanced_batches",
]


def copies() -> None:
    import torch

    torch.set_num_threads(1)
    print("| copies | seconds per epoch | x one copy |")
    print("|---|---|---|")
    base = None
    # none (1 copy); + 3 strategies (4 copies); 16 copies; 16 with none+threshold (fit part +
    # refit copies of each recipe: 32)
    for names, refit in (
        (["none"], False),
        (["none", "balanced", "focal", "random_under"], False),
        (["none", *_MANY, "random_over"], False),
        (["none", "none+threshold", *_MANY, "random_over"], True),
    ):
        seconds, _ = _fold_seconds(1200, list(dict.fromkeys(names)), 20, refit)
        n = len(dict.fromkeys(names)) - ("none+threshold" in names)
        n = n * (2 if refit else 1)
        base = base or seconds
        print(f"| {n} | {seconds:.3f} | {seconds / base:.1f} |", flush=True)


def rows() -> None:
    import torch

    torch.set_num_threads(1)
    print("| rows | seconds per epoch (16 copies) |")
    print("|---|---|")
    names = ["none", *_MANY, "random_over"][:16]
    for n in (1_000, 10_000, 100_000):
        seconds, _ = _fold_seconds(n, names, 3, False)
        print(f"| {n:,} | {seconds:.3f} |", flush=True)


def small_cnn(input_shape, n_classes):
    import keras

    inputs = keras.Input(input_shape)
    h = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(32, activation="relu")(h)
    model = keras.Model(inputs, keras.layers.Dense(n_classes)(h))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    return model


def cnn() -> None:
    from keras_imbalance import compare
    from keras_imbalance.datasets import load_digits_lt

    x, y, _, _ = load_digits_lt(imbalance_ratio=10)
    x = x.reshape(-1, 8, 8, 1).astype("float32") / 16.0
    strategies = ["balanced", "logit_adjusted", "random_over", "random_under", "focal"]
    for packed in (False, True):
        start = time.perf_counter()
        result = compare(
            x, y, model_fn=small_cnn, strategies=strategies, cv=3, packed=packed, n_jobs=2
        )
        print(f"packed={packed}: {time.perf_counter() - start:.1f} s", flush=True)
    cols = ["rank", "strategy", "aliases", "mean", "ci_low", "ci_high"]
    print(result.leaderboard[cols].to_string(index=False, float_format="%.3f"))
    print(result.recommendation["text"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["readme", "copies", "rows", "cnn"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="previous,unpacked,packed")
    args = parser.parse_args()
    if args.what == "readme":
        readme(args.rounds, args.variants.split(","))
    else:
        globals()[args.what]()


if __name__ == "__main__":
    main()
