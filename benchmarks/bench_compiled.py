"""The compiled JAX fold against today's engines: the README ``compare`` on bundled yeast4.

Usage (2-core container shared with other jobs; every variant runs in a fresh process,
one after the other, ``--rounds`` times, so a busy machine slows all of them alike; ratios
between variants of the same round are the figures to read, and each variant's CPU seconds
of ``compare`` are printed next to its wall seconds):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compiled.py readme --baseline /work/main/src
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compiled.py readme --one-fit
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compiled.py bound
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compiled.py cnn

``readme``: ``compare(x, y)`` on yeast4 (the README job: same candidates, folds, settings and
reference rows), ``n_jobs`` as the CLI chooses it (1 on jax, 2 on torch), timed in the
process around the ``compare`` call (imports excluded), with

- ``jax-compiled-cold``: KERAS_BACKEND=jax, the compiled fold, an empty compilation cache;
- ``baseline-jax-compiled-cold`` / ``baseline-jax-compiled`` (``--baseline SRC``): the same
  job with another checkout's package (e.g. the main branch's engine), cold then warm;
- ``jax-compiled``: the compiled fold, the persistent compilation cache filled by the cold run;
- ``jax-compiled-2jobs``: the same with ``n_jobs=2`` (two workers: each imports and traces);
- ``jax-keras``: KERAS_BACKEND=jax, ``KERAS_IMBALANCE_COMPILED=0`` (the packed Keras fit);
- ``torch-packed``: KERAS_BACKEND=torch, the packed Keras fit (``n_jobs=2``);
- ``torch-one-fit`` (``--one-fit``): KERAS_BACKEND=torch, ``packed=False`` (one Keras fit per
  candidate and fold: the engine the issue's 10x target is measured against).

``bound``: the arithmetic lower bound of the compiled README job: it runs the job in this
process (``n_jobs=1``, jax) counting, per epoch, the rows each still-training copy trains on and
the validation rows each copy predicts, times the model's multiply-adds per row (its kernels:
2 FLOPs per multiply-add forward, 4 backward); divided by the matmul rate of this machine
(a 1024 x 1024 float32 matrix product, jax, best of 20) and by the measured rate of the
fold's own shapes (a batched ``(C, B, F) @ (C, F, H)`` product as the MLP's hidden layer).

``cnn``: a user's CNN builder without a packed form on the 8x8 long-tailed digits, packed
against ``packed=False``, compiled and with the Keras fit (see :func:`cnn`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_README_RUN = """
import json, os, sys, tempfile, time
start = time.perf_counter()
from keras_imbalance import compare
from keras_imbalance.datasets import load_dataset
x, y = load_dataset("yeast4")
kwargs = json.loads(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    t, cpu = time.perf_counter(), time.process_time()
    kwargs = {"n_jobs": 2, **kwargs}
    result = compare(x, y, results_path=os.path.join(tmp, "r.jsonl"), **kwargs)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
board = result.leaderboard
print(json.dumps({"compare_s": seconds, "compare_cpu_s": cpu, "process_s": time.perf_counter() - start,
                  "rows": len(board), "fold_rows": len(result.folds),
                  "winner": [result.recommendation["winner_model"],
                             result.recommendation["winner_strategy"]],
                  "top": [board.iloc[0]["model"], board.iloc[0]["strategy"],
                          round(float(board.iloc[0]["mean"]), 4)]}))
"""


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _variants(one_fit: bool, cache: str, baseline: str | None) -> list:
    """``(name, environment, compare keywords)`` in the order they run; ``n_jobs`` as the CLI
    chooses it (``--jobs 1`` on jax, 2 on torch)."""
    jax = {"KERAS_BACKEND": "jax", "KERAS_IMBALANCE_JAX_CACHE": cache}
    one = {"n_jobs": 1}
    out = [("jax-compiled-cold", jax, one)]
    if baseline:  # another checkout's engine (e.g. the main branch's), its own cache entries
        base = {**jax, "PYTHONPATH": baseline}
        out += [("baseline-jax-compiled-cold", base, one), ("baseline-jax-compiled", base, one)]
    out += [
        ("jax-compiled", jax, one),
        ("jax-compiled-2jobs", jax, {"n_jobs": 2}),
        ("jax-keras", {**jax, "KERAS_IMBALANCE_COMPILED": "0"}, one),
        ("torch-packed", {"KERAS_BACKEND": "torch"}, {"n_jobs": 2}),
    ]
    if one_fit:
        out.append(("torch-one-fit", {"KERAS_BACKEND": "torch"}, {"packed": False, "n_jobs": 2}))
    return out


def readme(rounds: int, one_fit: bool, baseline: str | None = None) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(ROOT, "src")}
    for r in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            results = {}
            for name, extra, kwargs in _variants(one_fit, cache, baseline):
                before = _load()
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", _README_RUN, json.dumps(kwargs)],
                    env={**env, **extra},
                    capture_output=True,
                    text=True,
                )
                wall = time.perf_counter() - start
                if done.returncode:
                    print(name, "failed:", done.stderr[-2000:])
                    continue
                found = json.loads(done.stdout.strip().splitlines()[-1])
                results[name] = found
                print(
                    json.dumps(
                        {
                            "round": r,
                            "variant": name,
                            "compare_s": round(found["compare_s"], 1),
                            "compare_cpu_s": round(found["compare_cpu_s"], 1),
                            "process_s": round(wall, 1),
                            "load_before": before,
                            "load_after": _load(),
                            "winner": found["winner"],
                            "top": found["top"],
                        }
                    ),
                    flush=True,
                )
            for base_name in ("torch-packed", "baseline-jax-compiled", "torch-one-fit"):
                base = results.get(base_name)
                if base:
                    ratios = {
                        n: round(base["compare_s"] / v["compare_s"], 2) for n, v in results.items()
                    }
                    print(json.dumps({"round": r, f"speed-up vs {base_name}": ratios}), flush=True)


_CNN_RUN = """
import json, sys, time
sys.path.insert(0, {here!r})
from bench_compiled import small_cnn
from keras_imbalance import compare
from keras_imbalance.datasets import load_digits_lt
x, y, _, _ = load_digits_lt(imbalance_ratio=10)
x = x.reshape(-1, 8, 8, 1).astype("float32") / 16.0
strategies = ["balanced", "logit_adjusted", "random_over", "random_under", "focal"]
t = time.perf_counter()
result = compare(x, y, model_fn=small_cnn, strategies=strategies, cv=3, n_jobs=1,
                 **json.loads(sys.argv[1]))
board = result.leaderboard
print(json.dumps({{"compare_s": time.perf_counter() - t,
                  "top": [board.iloc[0]["strategy"], round(float(board.iloc[0]["mean"]), 4)]}}))
"""


def small_cnn(input_shape, n_classes):
    """A user's CNN builder without a packed form (as bench_packed.py's)."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def cnn() -> None:
    """``compare(model_fn=small_cnn)`` on the 8x8 long-tailed digits (5 strategies, 3 folds,
    ``n_jobs=1``): packed against ``packed=False``, compiled (jax) and with the Keras fit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(ROOT, "src")}
    here = os.path.dirname(os.path.abspath(__file__))
    code = _CNN_RUN.format(here=here)
    variants = [
        ("jax-compiled packed", {}, {}),
        ("jax-compiled packed=False", {}, {"packed": False}),
        ("jax-keras packed (per-copy stack)", {"KERAS_IMBALANCE_COMPILED": "0"}, {}),
        ("jax-keras packed=False", {"KERAS_IMBALANCE_COMPILED": "0"}, {"packed": False}),
    ]
    for name, extra, kwargs in variants:
        before = _load()
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(kwargs)],
            env={**env, "KERAS_BACKEND": "jax", **extra},
            capture_output=True,
            text=True,
        )
        if done.returncode:
            print(name, "failed:", done.stderr[-2000:])
            continue
        found = json.loads(done.stdout.strip().splitlines()[-1])
        found.update(variant=name, load_before=before, load_after=_load())
        found["compare_s"] = round(found["compare_s"], 1)
        print(json.dumps(found), flush=True)


def _matmul_rate(shape_a, shape_b, repeats=20) -> float:
    """FLOP/s of ``a @ b`` (batched when 3-D) compiled by jax, best of ``repeats``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    a = jax.device_put(np.random.default_rng(0).normal(size=shape_a).astype(np.float32))
    b = jax.device_put(np.random.default_rng(1).normal(size=shape_b).astype(np.float32))
    fn = jax.jit(jnp.matmul)
    fn(a, b).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn(a, b).block_until_ready()
        best = min(best, time.perf_counter() - t)
    flops = 2 * np.prod(shape_a) * shape_b[-1]
    return float(flops / best)


def bound() -> None:
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np

    from keras_imbalance import compare
    from keras_imbalance.comparison import _compiled
    from keras_imbalance.datasets import load_dataset

    count = {"train": 0.0, "predict": 0.0, "epochs": 0, "copy_epochs": 0}
    real_epoch = _compiled._Run.epoch

    def macs(model) -> int:
        return int(sum(np.prod(v.shape) for v in model.lone.trainable_variables if v.ndim >= 2))

    def epoch(self, e, retired):
        live = [c for c in range(self.model.copies) if c not in retired]
        rows = sum(len(self.rows.rows[c]) for c in live)
        count["train"] += 6.0 * macs(self.model) * rows
        count["epochs"] += 1
        count["copy_epochs"] += len(live)
        return real_epoch(self, e, retired)

    real_logits = _compiled.Stacked.logits

    def logits(self, x):
        count["predict"] += 2.0 * macs(self) * x.shape[0] * len(self.slots)
        return real_logits(self, x)

    _compiled._Run.epoch = epoch
    _compiled.Stacked.logits = logits
    x, y = load_dataset("yeast4")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        compare(x, y, n_jobs=1, results_path=os.path.join(tmp, "r.jsonl"))
        seconds = time.perf_counter() - start
    flops = count["train"] + count["predict"]
    big = _matmul_rate((1024, 1024), (1024, 1024))
    small = _matmul_rate((26, 128, 8), (26, 8, 64), repeats=200)
    print(
        json.dumps(
            {
                "gflop": round(flops / 1e9, 2),
                "train_gflop": round(count["train"] / 1e9, 2),
                "epochs": count["epochs"],
                "copy_epochs": count["copy_epochs"],
                "matmul_gflops_1024": round(big / 1e9, 1),
                "matmul_gflops_fold_shape": round(small / 1e9, 1),
                "bound_s_1024": round(flops / big, 2),
                "bound_s_fold_shape": round(flops / small, 2),
                "compare_s_n_jobs_1": round(seconds, 1),
                "load": _load(),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["readme", "bound", "cnn"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--one-fit", action="store_true")
    parser.add_argument(
        "--baseline",
        help="readme: the src folder of another checkout (e.g. /work/main/src) run as well",
    )
    args = parser.parse_args()
    if args.what == "readme":
        readme(args.rounds, args.one_fit, args.baseline)
    elif args.what == "cnn":
        cnn()
    else:
        bound()


if __name__ == "__main__":
    main()
