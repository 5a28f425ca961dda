"""Benchmark: default ``keras-imbalance compare`` on a 10,000 x 10 table with 3 % positives
(synthetic, shaped like ISLR's ``Default``: issue 21's "real-size data" case).

    python benchmarks/bench_default_table.py [--dir DIR] [--backends jax torch]

Writes ``default10k.csv`` (seed 0: 9,666 'No', 334 'Yes'; four informative columns) and runs
the whole command once per backend in a fresh folder, one after the other, printing the wall
time of each (the torch run is the anchor: the packed Keras fit of the previous engine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd


def write_table(path: str) -> None:
    rng = np.random.default_rng(0)
    n = 10_000
    y = (rng.random(n) < 0.033).astype(int)
    shift = np.r_[1.5, 1.0, 0.5, 0.3, np.zeros(6)]
    x = rng.normal(size=(n, 10)) + y[:, None] * shift
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(10)])
    frame["default"] = np.where(y == 1, "Yes", "No")
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=tempfile.mkdtemp(prefix="ki-default10k-"))
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"])
    args = parser.parse_args()
    table = os.path.join(args.dir, "default10k.csv")
    write_table(table)
    cli = os.path.join(os.path.dirname(sys.executable), "keras-imbalance")
    for backend in args.backends:
        folder = tempfile.mkdtemp(dir=args.dir, prefix=f"{backend}-")
        start = time.perf_counter()
        subprocess.run(
            [cli, "compare", table, "--target", "default"],
            cwd=folder,
            env={**os.environ, "KERAS_BACKEND": backend},
            check=True,
            capture_output=True,
        )
        print(f"{backend}: {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
