"""Wall time of the README job (``keras-imbalance compare``, the bundled yeast4) with and
without the default models' hyperparameter variants inside the pack, alternating.

    python benchmarks/bench_variants_time.py [--rounds 3] [--choose average] \
        [-- extra compare arguments]

Each run is a fresh interpreter running the CLI (``python -m keras_imbalance.cli compare``,
so the sources on ``PYTHONPATH`` are measured) in an empty temporary folder. "variants"
runs the same command with ``--variants CHOOSE`` (each default model with its measured set,
``DEFAULT_VARIANTS``; each strategy keeps the best variant or averages them). Runs alternate
plain / variants so that a change of the machine's load hits both; the table gives every
run, the median of each and their ratio, with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def one(args: list[str], mode: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "keras_imbalance.cli", *args],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--choose", default="average", choices=("best", "average"))
    p.add_argument("extra", nargs="*", help="more arguments of `keras-imbalance compare`")
    args = p.parse_args(argv)
    command = ["compare", *args.extra]
    times: dict[str, list[float]] = {"plain": [], "variants": []}
    before = os.getloadavg()
    for r in range(args.rounds):
        for mode in ("plain", "variants") if r % 2 == 0 else ("variants", "plain"):
            took = one(command + (["--variants", args.choose] if mode == "variants" else []), mode)
            times[mode].append(took)
            print(
                f"round {r + 1} {mode:8s} {took:6.1f} s  load {os.getloadavg()[0]:.1f}", flush=True
            )
    after = os.getloadavg()
    plain, tuned = (statistics.median(times[m]) for m in ("plain", "variants"))
    backend = os.environ.get("KERAS_BACKEND", "jax (the CLI's default)")
    print(
        f"\n`keras-imbalance {' '.join(command)}`, backend {backend}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; load average {before[0]:.1f} before, {after[0]:.1f} after\n"
    )
    print(f"| runs | plain (s) | --variants {args.choose} (s) |")
    print("|---|---|---|")
    print(
        f"| each | {', '.join(f'{t:.1f}' for t in times['plain'])} | "
        f"{', '.join(f'{t:.1f}' for t in times['variants'])} |"
    )
    print(f"| median | {plain:.1f} | {tuned:.1f} ({tuned / plain:.2f}x) |")


if __name__ == "__main__":
    main()
