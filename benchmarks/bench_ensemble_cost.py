"""Cost of one packed training step: the default MLP against the packed ensembles.

One ``train_on_batch`` of each model's packed form (``C`` strategy copies, as ``compare``
trains them, ``B`` rows, ``F`` features, 2 classes) with the engine's packed loss, on one
torch thread; the median of ``--repeat`` timings of ``--steps`` steps, in milliseconds.

Usage:
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_ensemble_cost.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--copies", type=int, default=14)
    p.add_argument("--rows", type=int, default=148)
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--models", default="mlp,easy_ensemble,ens_be_k4w32,ens_be,ens,ens_be_all")
    args = p.parse_args(argv)

    import keras
    import numpy as np
    import torch
    from _candidates import builders

    from keras_imbalance.comparison._packing import PackedCrossentropy
    from keras_imbalance.comparison._strategies import LossSpec

    torch.set_num_threads(1)
    c, b, f = args.copies, args.rows, args.features
    rng = np.random.default_rng(0)
    x = rng.normal(size=(b, c, f)).astype("float32")
    y = np.stack([(rng.random((b, c)) < 0.1), np.ones((b, c))], axis=-1).astype("float32")
    print(f"copies {c}, rows {b}, features {f}; ms per step (median of {args.repeat})")
    print("| model | ms per step |")
    print("|---|---|")
    for name, fn in builders(args.models).items():
        model = fn.packed((f,), 2, c)
        model.compile(
            optimizer=keras.optimizers.AdamW(3e-3), loss=PackedCrossentropy([LossSpec()] * c, 2)
        )
        model.train_on_batch(x, y)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            for _ in range(args.steps):
                model.train_on_batch(x, y)
            times.append((time.perf_counter() - start) / args.steps * 1000)
        print(f"| {name} | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
