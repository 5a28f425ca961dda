"""The README job's host work: this checkout against another (e.g. the main branch),
alternating in the same run, on yeast4 with the jax backend (the CLI's default).

Usage (2-core machine shared with other jobs: every variant in a fresh process, the two
checkouts alternating, ``--rounds`` times; the load average is printed next to each figure):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_readme_host.py --other /work/main/src

Per round and checkout, four variants:

- ``cli``: the README's command, ``keras-imbalance compare`` in an empty temporary folder
  (CLI start-up, imports, the comparison, the leaderboard, the report and the results file),
  wall seconds of the whole process and its CPU seconds (user + system);
- ``cli-norefs``: the same with ``--references none``;
- ``compare``: ``compare(x, y, n_jobs=1)`` timed in the process, the imports it needs done
  before the clock starts (keras on jax, scikit-learn, imbalanced-learn, pandas): "the
  comparison" of issue 21's target (<= 8 s; the one-fit-per-candidate engine took 77.5 s
  for the same candidates and folds, timed the same way);
- ``compare-norefs``: the same with ``references=False`` (the 77.5 s engine had no reference
  rows).

The persistent compilation cache is warm (a first, untimed run of each checkout fills it),
as it is for every README run after the first. Every run's leaderboard top row is printed:
both checkouts must find the same.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_COMPARE = """
import json, os, sys, tempfile, time
import keras, sklearn.metrics, sklearn.model_selection, imblearn, pandas  # imports excluded
from keras_imbalance import compare
from keras_imbalance.datasets import load_dataset
x, y = load_dataset("yeast4")
kwargs = json.loads(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    t, cpu = time.perf_counter(), time.process_time()
    result = compare(x, y, results_path=os.path.join(tmp, "r.jsonl"), n_jobs=1, **kwargs)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
board = result.leaderboard
print(json.dumps({"s": seconds, "cpu_s": cpu,
                  "top": [board.iloc[0]["model"], board.iloc[0]["strategy"],
                          round(float(board.iloc[0]["mean"]), 4)]}))
"""


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli(src: str, extra: list[str]) -> dict:
    """The README command in an empty folder: wall and CPU seconds, the first output line."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": src}
    env.pop("KERAS_BACKEND", None)  # the CLI's own choice (jax)
    with tempfile.TemporaryDirectory() as tmp:
        cpu, start = _children_cpu(), time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "keras_imbalance.cli", "compare", *extra],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
        )
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode:
        raise SystemExit(f"{src} {extra} failed:\n{done.stderr[-2000:]}")
    return {"s": wall, "cpu_s": cpu, "top": done.stdout.splitlines()[0][:80]}


def _compare(src: str, kwargs: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": src, "KERAS_BACKEND": "jax"}
    done = subprocess.run(
        [sys.executable, "-c", _COMPARE, json.dumps(kwargs)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"{src} compare {kwargs} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


VARIANTS = {
    "cli": lambda src: _cli(src, []),
    "cli-norefs": lambda src: _cli(src, ["--references", "none"]),
    "compare": lambda src: _compare(src, {}),
    "compare-norefs": lambda src: _compare(src, {"references": False}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", default="/work/main/src", help="the other checkout's src")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument(
        "--no-warm-up", action="store_true", help="the compilation cache is warm already"
    )
    args = parser.parse_args()
    checkouts = {"this": os.path.join(ROOT, "src"), "other": args.other}
    for src in () if args.no_warm_up else checkouts.values():  # fill the cache; untimed
        _compare(src, {"references": None})
    for r in range(args.rounds):
        order = list(checkouts.items())
        if r % 2:
            order.reverse()
        for variant in args.variants:
            for name, src in order:
                before = _load()
                found = VARIANTS[variant](src)
                print(
                    json.dumps(
                        {
                            "round": r,
                            "variant": variant,
                            "checkout": name,
                            "s": round(found["s"], 2),
                            "cpu_s": round(found["cpu_s"], 2),
                            "load_before": before,
                            "load_after": _load(),
                            "top": found["top"],
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
