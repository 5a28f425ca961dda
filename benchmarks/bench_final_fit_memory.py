"""Benchmark: peak memory of the final ensemble fit on every row (issue 21, item 3).

    KERAS_BACKEND=jax python benchmarks/bench_final_fit_memory.py [--rows 1000000]

The table of ``bench_real_size.py fraud`` (1,000,000 x 30 at 1:1000, seed 0), held in memory,
and ``fit_strategy(x, y, "ensemble")`` with the default settings: the default models (linear,
mlp) x the default ensemble members, each model's copies (an early-stopping copy on the fit
part and a refit copy on every row per member) in packed fits, what ``compare --save-model``
runs after its search. Prints the wall time, the process's peak memory (maximum resident set
size) and the load average before and after. ``$KERAS_IMBALANCE_PACK_BYTES`` sets the byte
budget of one packed fit (see ``comparison/_packing.py``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def load() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def table(rows: int):
    """The rows of ``bench_real_size.write_fraud`` (same draws), as arrays."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_real_size import fraud_table

    x, fraud = fraud_table(rows)
    return x, np.where(fraud, "fraud", "ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    x, y = table(args.rows)
    from keras_imbalance.comparison import fit_strategy

    print(f"load before: {load()}", flush=True)
    start = time.perf_counter()
    model = fit_strategy(x, y, "ensemble")
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    print(f"load after: {load()}")
    print(
        f"fit_strategy ensemble on {args.rows:,} rows: {wall:.0f} s wall, peak RSS {peak:,.0f} MB"
    )
    print(f"budget: {os.environ.get('KERAS_IMBALANCE_PACK_BYTES', 'default')}; model {model.name}")


if __name__ == "__main__":
    main()
