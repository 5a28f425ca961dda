"""A user's CNN without a packed form: packed against ``packed=False``, on jax and on torch.

Usage (2-core container shared with other jobs; every variant runs in a fresh process, one
after the other, ``--rounds`` times; the ratios between variants of one round are the figures
to read, each variant's CPU seconds of ``compare`` printed next to its wall seconds):

    OMP_NUM_THREADS=1 python benchmarks/bench_cnn_packed.py                 # every variant
    OMP_NUM_THREADS=1 python benchmarks/bench_cnn_packed.py --backends torch --rounds 2
    OMP_NUM_THREADS=1 python benchmarks/bench_cnn_packed.py --model cnn_model
    OMP_NUM_THREADS=1 python benchmarks/bench_cnn_packed.py --backends torch \
        --variants torch-vmap,torch-unpacked --rounds 2       # packed against packed=False
    OMP_NUM_THREADS=1 python benchmarks/bench_cnn_packed.py --backends torch \
        --variants torch-vmap,torch-unpacked,torch-vmap-before,torch-unpacked-before \
        --before /path/to/old/checkout/src                    # the same, old code alternating
    OMP_NUM_THREADS=1 python benchmarks/bench_cnn_packed.py steps        # one fold, per step

``compare(x, y, model_fn=small_cnn)`` on the 8x8 long-tailed digits (``load_digits_lt``,
imbalance ratio 10: 1,021 images), strategies balanced, logit_adjusted, random_over,
random_under and focal (with the default none and none+threshold rows), 3 folds,
``n_jobs=1``, timed in the process around the ``compare`` call (imports excluded: Keras is
imported before, as the user's script does for the builder).
``small_cnn`` is ``Conv2D(8, 3, relu) -> Flatten -> Dense(32, relu) -> Dense(K)`` with Adam
1e-3 and no ``packed`` form (``--model cnn_model``: the default CNN instead). Variants:

- ``torch-vmap``: KERAS_BACKEND=torch, packed, the copies vectorised with ``torch.func.vmap``
  (:mod:`keras_imbalance.comparison._vmap_torch`);
- ``torch-stack``: the same with ``KERAS_IMBALANCE_VMAP=0``: the per-copy stack (the torch
  engine before the vectorised copies);
- ``torch-unpacked``: ``packed=False`` (one Keras fit per copy);
- ``torch-vmap-before``, ``torch-unpacked-before`` (with ``--before SRC``): ``torch-vmap`` and
  ``torch-unpacked`` run on another checkout's ``src`` (the code before a change), alternating
  with this one's in the same run;
- ``jax-compiled``: KERAS_BACKEND=jax, packed, the compiled fold (the copies of a
  convolutional model one after the other inside the program, ``jax.lax.map``);
- ``jax-compiled-unpacked``: the compiled fold with ``packed=False`` (one copy per program);
- ``jax-keras-stack``: KERAS_BACKEND=jax, ``KERAS_IMBALANCE_COMPILED=0``: the packed Keras fit
  (the per-copy stack);
- ``jax-keras-unpacked``: ``KERAS_IMBALANCE_COMPILED=0`` and ``packed=False``.

Every jax variant runs with a warm persistent compilation cache (one untimed run first fills
it). ``steps``: one packed fold of ``small_cnn`` on torch, the seconds of one training step of
the vectorised copies against the per-copy stack, and where a vectorised step's time goes
(``torch.profiler``, the operators that take most).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_compiled import small_cnn  # noqa: E402  (a user's CNN without a packed form)

STRATEGIES = ["balanced", "logit_adjusted", "random_over", "random_under", "focal"]

_RUN = """
import json, sys, time
sys.path.insert(0, {here!r})
import bench_cnn_packed as bench
from keras_imbalance import compare
import keras  # the user's script imports Keras for the builder: not timed
x, y = bench.digits()
kwargs = json.loads(sys.argv[1])
model_fn = bench.builder(kwargs.pop("model"))
t, cpu = time.perf_counter(), time.process_time()
result = compare(x, y, model_fn=model_fn, strategies=bench.STRATEGIES, cv=3, n_jobs=1, **kwargs)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
board = result.leaderboard
notes = sorted({{str(n) for n in result.folds.get("note", []) if n}})
print(json.dumps({{"compare_s": seconds, "compare_cpu_s": cpu, "notes": notes,
                  "top": [board.iloc[0]["strategy"], round(float(board.iloc[0]["mean"]), 4)]}}))
"""


def digits():
    """The 8x8 long-tailed digits as ``(n, 8, 8, 1)`` images in [0, 1] and their labels."""
    from keras_imbalance.datasets import load_digits_lt

    x, y, _, _ = load_digits_lt(imbalance_ratio=10)
    return x.reshape(-1, 8, 8, 1).astype("float32") / 16.0, y


def builder(name: str):
    """``small_cnn`` or the default ``cnn_model``."""
    if name == "cnn_model":
        from keras_imbalance.comparison import cnn_model

        return cnn_model
    return small_cnn


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _variants(backends: list, cache: str, before: str = "") -> list:
    """``(name, environment, compare keywords)`` in the order they run (``before``: the
    ``src`` folder of another checkout, whose torch packed and unpacked runs alternate with
    this one's)."""
    torch = {"KERAS_BACKEND": "torch"}
    jax = {"KERAS_BACKEND": "jax", "KERAS_IMBALANCE_JAX_CACHE": cache}
    keras_fit = {**jax, "KERAS_IMBALANCE_COMPILED": "0"}
    out = []
    if "torch" in backends:
        out += [
            ("torch-vmap", torch, {}),
            ("torch-stack", {**torch, "KERAS_IMBALANCE_VMAP": "0"}, {}),
            ("torch-unpacked", torch, {"packed": False}),
        ]
        if before:
            old = {**torch, "PYTHONPATH": os.path.abspath(before)}
            out += [
                ("torch-vmap-before", old, {}),
                ("torch-unpacked-before", old, {"packed": False}),
            ]
    if "jax" in backends:
        out += [
            ("jax-compiled", jax, {}),
            ("jax-compiled-unpacked", jax, {"packed": False}),
            ("jax-keras-stack", keras_fit, {}),
            ("jax-keras-unpacked", keras_fit, {"packed": False}),
        ]
    return out


def _one(name: str, env: dict, kwargs: dict, model: str) -> dict:
    base = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(ROOT, "src")}
    before = _load()
    done = subprocess.run(
        [sys.executable, "-c", _RUN.format(here=HERE), json.dumps({**kwargs, "model": model})],
        env={**base, **env},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        return {"variant": name, "failed": done.stderr[-1500:]}
    found = json.loads(done.stdout.strip().splitlines()[-1])
    found.update(variant=name, load_before=before, load_after=_load())
    found["compare_s"] = round(found["compare_s"], 1)
    found["compare_cpu_s"] = round(found["compare_cpu_s"], 1)
    return found


def compare_rounds(backends: list, rounds: int, model: str, only=None, before="") -> None:
    with tempfile.TemporaryDirectory() as cache:
        variants = _variants(backends, cache, before)
        if only:
            variants = [v for v in variants if v[0] in only]
        if "jax" in backends:  # fill the compilation cache (untimed)
            for name, env, kwargs in variants:
                if name.startswith("jax-compiled"):
                    _one(name, env, kwargs, model)
        for r in range(1, rounds + 1):
            results, cpu = {}, {}
            for name, env, kwargs in variants:
                found = _one(name, env, kwargs, model)
                found["round"] = r
                print(json.dumps(found), flush=True)
                if "compare_s" in found:
                    results[name] = found["compare_s"]
                    cpu[name] = found["compare_cpu_s"]
            ratios, cpu_ratios = {}, {}
            for packed, unpacked in (
                ("torch-vmap", "torch-unpacked"),
                ("torch-stack", "torch-unpacked"),
                ("jax-compiled", "jax-compiled-unpacked"),
                ("jax-compiled", "jax-keras-unpacked"),
                ("jax-keras-stack", "jax-keras-unpacked"),
                ("torch-vmap", "torch-stack"),
                ("torch-vmap-before", "torch-unpacked-before"),
                ("torch-vmap", "torch-vmap-before"),
                ("torch-unpacked", "torch-unpacked-before"),
            ):
                if packed in results and unpacked in results:
                    ratios[f"{unpacked} / {packed}"] = round(results[unpacked] / results[packed], 2)
                    cpu_ratios[f"{unpacked} / {packed}"] = round(cpu[unpacked] / cpu[packed], 2)
            print(json.dumps({"round": r, "speed-ups": ratios, "cpu": cpu_ratios}), flush=True)


def steps() -> None:
    """Seconds per training step of one packed fold of ``small_cnn`` on torch: the vectorised
    copies against the per-copy stack, same rows and copies; and the operators of a
    vectorised step."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import numpy as np
    import torch

    from keras_imbalance.comparison import KINDS, TrainingSettings, _fold, _packing

    torch.set_num_threads(1)
    x, y = digits()
    k = int(y.max()) + 1
    strategies = [KINDS["multiclass"].strategies[s] for s in ["none", *STRATEGIES]]
    settings = TrainingSettings(epochs=6, patience=100)
    found = {}
    real_fit = _packing.fit

    def timed(net, rows, epochs, callbacks):
        seconds = real_fit(net, rows, epochs, callbacks)
        found.setdefault(mode, []).append(
            (seconds, len(rows) * epochs, net.copies, rows.batch_size, type(net.model).__name__)
        )
        return seconds

    _packing.fit = timed
    for mode in ("1", "0", "1", "0"):
        os.environ["KERAS_IMBALANCE_VMAP"] = mode
        _fold.fit_fold(small_cnn, strategies, x, y, np.arange(y.size), settings, 0, k)
    for runs in found.values():
        for seconds, n_steps, copies, batch, kind in runs:
            print(
                f"{kind}: {copies} copies, batch {batch} rows per copy, {n_steps} steps: "
                f"{1000 * seconds / n_steps:.1f} ms per step (validation included)"
            )
    os.environ["KERAS_IMBALANCE_VMAP"] = "1"
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _fold.fit_fold(small_cnn, strategies, x, y, np.arange(y.size), settings, 0, k)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="compare", choices=["compare", "steps"])
    parser.add_argument("--backends", default="torch,jax")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--model", default="small_cnn", choices=["small_cnn", "cnn_model"])
    parser.add_argument("--variants", default="", help="comma-separated names (default: all)")
    parser.add_argument("--before", default="", help="src folder of another checkout (torch)")
    args = parser.parse_args()
    if args.what == "steps":
        steps()
    else:
        only = [v for v in args.variants.split(",") if v]
        compare_rounds(args.backends.split(","), args.rounds, args.model, only, args.before)


if __name__ == "__main__":
    main()
