"""Peak memory of ``keras-imbalance compare DIR`` on synthetic image folders of one image size.

Usage (from the repository root):

    OMP_NUM_THREADS=1 KERAS_BACKEND=torch python benchmarks/bench_image_memory.py \\
        --dir /tmp/kiimg --sizes 745,7450 --src after=src --src before=/path/to/old/src

    # the JAX backend (the CLI's default: the compiled fold), each run compiling afresh
    OMP_NUM_THREADS=1 python benchmarks/bench_image_memory.py --backend jax \\
        --dir /tmp/kiimg --sizes 7450,22350 --src new=src --src old=/path/to/old/src

Writes a class-per-folder tree of 28 x 28 RGB PNGs per size (5 classes, long-tailed: 54 %,
27 %, 12 %, 5 %, 2 % of the images; the classes differ in the mean of one channel), then runs
the CLI on each folder under ``/usr/bin/time -v`` once per ``--src`` (a ``PYTHONPATH`` to
compare code versions on the same folders in the same run) and prints the peak resident set
("Maximum resident set size") and the wall time of each run. The comparison is kept short:
``--cv 2 --epochs 2 --strategies none,balanced --jobs 1 --references none``.

``--backend`` sets ``KERAS_BACKEND`` of the runs (default: the variable's value, else torch);
on jax, ``--jax-cache`` is the persistent compilation cache of every run (default ``off``:
each run compiles its programs, so that no run profits from another's cache).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

SHARES = (0.54, 0.27, 0.12, 0.05, 0.02)


def write_folder(root: str, n: int, seed: int = 0) -> None:
    import numpy as np
    from PIL import Image

    if os.path.isdir(root) and sum(len(f) for _, _, f in os.walk(root)) == n:
        return
    rng = np.random.default_rng(seed)
    counts = [int(round(s * n)) for s in SHARES]
    counts[0] += n - sum(counts)
    for c, count in enumerate(counts):
        folder = os.path.join(root, f"class{c}")
        os.makedirs(folder, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 200, (28, 28, 3), dtype=np.uint8)
            pixels[..., c % 3] += np.uint8(10 * (c + 1))
            Image.fromarray(pixels).save(os.path.join(folder, f"{i:06d}.png"))


def run(src: str, folder: str, out: str, backend: str, cache: str) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src), KERAS_BACKEND=backend)
    env.setdefault("OMP_NUM_THREADS", "1")
    if backend == "jax":
        env["KERAS_IMBALANCE_JAX_CACHE"] = cache
    command = [
        "/usr/bin/time", "-v", sys.executable, "-m", "keras_imbalance.cli", "compare", folder,
        "--cv", "2", "--epochs", "2", "--strategies", "none,balanced", "--jobs", "1",
        "--references", "none", "--results", os.path.join(out, "r.jsonl"),
        "--report", os.path.join(out, "r.html"), "--force",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=out)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", done.stderr)[1]
    minutes, seconds = wall.split(":")[-2:]
    return peak / 1024, 60 * float(minutes) + float(seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "kiimg"))
    parser.add_argument("--sizes", default="745,7450")
    parser.add_argument("--src", action="append", default=None, help="NAME=PYTHONPATH")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "torch"))
    parser.add_argument("--jax-cache", default="off", help="a folder, or off")
    args = parser.parse_args()
    sources = [s.split("=", 1) for s in (args.src or ["this=src"])]
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        write_folder(os.path.join(args.dir, f"n{n}"), n)
    print(f"backend {args.backend}, load {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"{'code':>8} {'images':>7} {'float32 MB':>10} {'peak MB':>8} {'seconds':>8}")
    for n in sizes:
        for name, src in sources:
            with tempfile.TemporaryDirectory() as out:
                folder = os.path.join(args.dir, f"n{n}")
                peak, wall = run(src, folder, out, args.backend, args.jax_cache)
            mb = n * 28 * 28 * 3 * 4 / 2**20
            load = os.getloadavg()[0]
            print(f"{name:>8} {n:>7} {mb:>10.1f} {peak:>8.0f} {wall:>8.1f}  (load {load:.1f})")


if __name__ == "__main__":
    main()
