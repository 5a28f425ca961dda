"""Benchmark: default ``keras-imbalance compare`` on real-size data (issue 21, item 3).

    python benchmarks/bench_real_size.py images [--dir DIR]
    python benchmarks/bench_real_size.py fraud [--dir DIR] [--rows 1000000] [--anchor-minutes 5]

``images``: 745 grayscale images of 28 x 28 in a class-per-folder tree, long-tailed from 300
down to 3 per class (300, 180, 108, 65, 39, 23, 14, 8, 5, 3): scikit-learn's 8 x 8 digits
upsampled to 24 x 24 (bilinear) in a 28 x 28 canvas, each drawn image shifted by up to 4
pixels with a little noise so that the 300 of digit 0 are distinct (seed 0). Runs ``keras-imbalance compare DIR``
(the default CNN, every default strategy) under ``/usr/bin/time -v``.

``fraud``: a 1,000,000 x 30 table at 1:1000 (1,000 positives; seed 0; six informative
columns, the rest noise), written as Parquet, then ``keras-imbalance compare FILE --target
fraud --save-model model.keras`` under ``/usr/bin/time -v`` (the search on a sample of the
majority, the final model on every row). ``--anchor-minutes N`` also runs the engine without
sampling (``--subsample none``) for at most N minutes and says how far it got.

Each run prints its wall time, peak memory (maximum resident set size) and the load average
before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

COUNTS = (300, 180, 108, 65, 39, 23, 14, 8, 5, 3)


def write_images(folder: str) -> None:
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(0)
    for label, count in enumerate(COUNTS):
        out = os.path.join(folder, f"digit{label}")
        os.makedirs(out, exist_ok=True)
        pool = digits.images[digits.target == label]
        for i in range(count):
            small = pool[i % len(pool)] / 16.0
            big = Image.fromarray(np.uint8(small * 255)).resize((24, 24), Image.BILINEAR)
            canvas = np.zeros((28, 28), dtype=np.float64)
            dy, dx = rng.integers(0, 5, size=2)
            canvas[dy : dy + 24, dx : dx + 24] = np.asarray(big, dtype=np.float64)
            canvas += rng.normal(0, 8, size=canvas.shape)
            pixels = np.clip(canvas, 0, 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(os.path.join(out, f"{i}.png"))


def fraud_table(rows: int) -> tuple:
    """``(x, fraud)``: the features (float32, 30 columns) and a bool per row (1 in 1,000)."""
    rng = np.random.default_rng(0)
    n_pos = rows // 1000
    y = np.zeros(rows, dtype=bool)
    y[rng.choice(rows, size=n_pos, replace=False)] = True
    x = rng.normal(size=(rows, 30)).astype(np.float32)
    shift = np.r_[2.0, 1.5, 1.0, 0.8, 0.5, 0.3, np.zeros(24)].astype(np.float32)
    x[y] += shift
    return x, y


def write_fraud(path: str, rows: int) -> None:
    import pandas as pd

    x, y = fraud_table(rows)
    frame = pd.DataFrame(x, columns=[f"v{i}" for i in range(30)])
    frame["fraud"] = np.where(y, "fraud", "ok")
    frame.to_parquet(path, index=False)


def load() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def timed(args: list, cwd: str, timeout: float | None = None) -> None:
    """Run the CLI under /usr/bin/time -v; print wall time, peak memory, load before/after."""
    before = load()
    try:
        done = subprocess.run(
            ["/usr/bin/time", "-v", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        lines = [line for line in err.splitlines() if line.startswith("compare:")]
        print(f"stopped after {timeout:.0f} s; load {before} -> {load()}; last progress lines:")
        print("\n".join(lines[-5:]) or "(none)")
        return
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = sum(
        float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
    )
    tail = [
        line
        for line in done.stderr.splitlines()
        if line.startswith(("compare:", "sampled", "training", "model written", "time budget"))
    ]
    print("\n".join(tail[-12:]))
    print(done.stdout[-1500:])
    print(
        f"exit {done.returncode}; wall {wall.group(1) if wall else '?'}; peak RSS "
        f"{int(rss.group(1)) / 1024:.0f} MB; CPU {cpu:.0f} s (user + system); load {before} "
        f"-> {load()}"
    )
    if done.returncode:
        print(done.stderr[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["images", "fraud"])
    parser.add_argument("--dir", default=None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--anchor-minutes", type=float, default=0)
    parser.add_argument("--extra", nargs="*", default=[], help="more CLI flags")
    args = parser.parse_args()
    base = args.dir or tempfile.mkdtemp(prefix=f"ki-{args.case}-")
    cli = os.path.join(os.path.dirname(sys.executable), "keras-imbalance")
    if args.case == "images":
        data = os.path.join(base, "digits745")
        if not os.path.isdir(data):
            write_images(data)
        print(f"{sum(COUNTS)} images of 28 x 28 in {data}, counts {list(COUNTS)}")
        run = tempfile.mkdtemp(dir=base, prefix="run-")
        timed([cli, "compare", data, *args.extra], run)
        return
    data = os.path.join(base, "fraud1m.parquet")
    if not os.path.exists(data):
        write_fraud(data, args.rows)
    print(f"{args.rows} x 30 table at 1:1000 in {data}")
    run = tempfile.mkdtemp(dir=base, prefix="run-")
    timed(
        [cli, "compare", data, "--target", "fraud", "--save-model", "model.keras", *args.extra],
        run,
    )
    if args.anchor_minutes:
        anchor = tempfile.mkdtemp(dir=base, prefix="anchor-")
        timed(
            [cli, "compare", data, "--target", "fraud", "--subsample", "none"],
            anchor,
            timeout=60 * args.anchor_minutes,
        )


if __name__ == "__main__":
    main()
