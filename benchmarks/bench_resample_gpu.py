"""Benchmark: imbalanced-learn's default neighbour search vs ``neighbors="torch"`` (GPU).

For each data kind and method, on the same data and seed in one process:

- ``default``: imbalanced-learn's sampler as is (``SMOTE(random_state=0)``,
  ``BorderlineSMOTE(random_state=0, kind="borderline-1")``): scikit-learn's
  ``NearestNeighbors(n_jobs=None)``, brute force for more than 15 features (its
  pairwise-distance reduction runs on all OpenMP threads whatever ``n_jobs`` says);
- ``torch``: ``keras_imbalance.resample(x, y, method, random_state=0, neighbors="torch")``;

and checks that the outputs are identical (``np.array_equal`` on x and y).

Data: ``make_data`` of ``benchmarks/bench_resample.py`` (``noise`` and ``lowrank`` kinds).
Only ``noise`` runs by default; add ``--kinds noise,lowrank`` for both.

Budget guard: before a run at ``--rows``, the same case is timed on a ``--probe-rows`` data
set (default 1e5) and extrapolated as ``t_probe * (rows / probe_rows)^2`` (the neighbour
search is quadratic); a run whose prediction would end past ``--max-seconds`` (counted
from the start of the script) is skipped and its extrapolated time is printed, marked
``~... (extrapolated)``. Rows of the table are printed as each case finishes.

Usage (GPU machine, 10-minute limit):
    python benchmarks/bench_resample_gpu.py --rows 1000000 --max-seconds 420
CPU smoke test:
    OMP_NUM_THREADS=2 python benchmarks/bench_resample_gpu.py --rows 20000 --device cpu
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_resample import make_data  # noqa: E402  (same generators as bench_resample.py)

_T0 = time.perf_counter()


def say(text=""):
    print(text, flush=True)


def elapsed():
    return time.perf_counter() - _T0


def data(kind, rows, dim, minority, seed=0):
    """``make_data`` of bench_resample.py, with its fixed 20 columns and 10 % minority."""
    extra = {}
    if (dim, minority) != (20, 0.1):
        params = inspect.signature(make_data).parameters
        if "dim" not in params or "minority" not in params:
            raise SystemExit(
                "bench_resample.make_data only makes 20 columns with a 10 % minority: "
                "use --dim 20 --minority 0.1 (or give make_data `dim` and `minority` arguments)"
            )
        extra = {"dim": dim, "minority": minority}
    return make_data(kind, rows, seed=seed, **extra)


def default_sampler(method):
    from imblearn.over_sampling import SMOTE, BorderlineSMOTE

    if method == "smote":
        return SMOTE(random_state=0)
    if method == "borderline_smote1":
        return BorderlineSMOTE(random_state=0, kind="borderline-1")
    raise SystemExit(f"unknown method {method!r}: use smote, borderline_smote1")


def run_default(x, y, method):
    t = time.perf_counter()
    out = default_sampler(method).fit_resample(x, y)
    return time.perf_counter() - t, out


def run_torch(x, y, method, device):
    from keras_imbalance.resampling import TorchNeighbors, resample

    t = time.perf_counter()
    if device is None:
        out = resample(x, y, method, random_state=0, neighbors="torch")
    else:  # same as neighbors="torch", on the requested device
        out = resample(x, y, method, random_state=0, neighbors=TorchNeighbors(device=device))
    return time.perf_counter() - t, out


def same(a, b):
    return bool(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))


def environment(device):
    import imblearn
    import sklearn
    import torch
    from threadpoolctl import threadpool_info

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(device) if str(device).startswith("cuda") else "cpu"
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    pools = {f"{p['user_api']}:{p['internal_api']}": p["num_threads"] for p in threadpool_info()}
    say(f"device: {device} ({name})")
    say(
        f"CPU: {platform.processor() or platform.machine()}, os.cpu_count()={os.cpu_count()}, "
        f"usable={affinity}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    say(f"thread pools: {pools}")
    say(
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}, "
        f"scikit-learn {sklearn.__version__}, imbalanced-learn {imblearn.__version__}"
    )
    return name, affinity


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=20)
    parser.add_argument("--minority", type=float, default=0.1)
    parser.add_argument("--methods", default="smote,borderline_smote1")
    parser.add_argument("--kinds", default="noise", help="comma list of noise,lowrank")
    parser.add_argument(
        "--device", default=None, help="cuda, cuda:1, cpu (default: cuda if available)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=420.0,
        help="wall-clock budget of the whole script (default 420 s = 7 min)",
    )
    parser.add_argument("--probe-rows", type=int, default=100_000)
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    kinds = [k for k in args.kinds.split(",") if k]
    for kind in kinds:
        if kind not in ("noise", "lowrank"):
            raise SystemExit(f"unknown kind {kind!r}: use noise, lowrank")

    name, cpus = environment(args.device)
    # warm-up: CUDA context, kernels, imbalanced-learn's first call (not timed below)
    xw, yw = data("noise", 5000, args.dim, args.minority)
    t_w, _ = run_torch(xw, yw, "smote", args.device)
    run_default(xw, yw, "smote")
    say(f"warm-up (first torch call, 5000 rows incl. CUDA start): {t_w:.2f}s")
    say()
    header = (
        "| rows | method | data | default s | torch s | speed-up | identical | device | CPUs |\n"
        "|---:|---|---|---:|---:|---:|---|---|---:|"
    )
    say(header)
    table = []
    for kind in kinds:
        t = time.perf_counter()
        x, y = data(kind, args.rows, args.dim, args.minority)
        gen = time.perf_counter() - t
        probe = None
        if args.rows > args.probe_rows:
            probe = data(kind, args.probe_rows, args.dim, args.minority)
        say(
            f"<!-- {kind}: {args.rows} x {x.shape[1]} rows, minority {int((y == 1).sum())}, "
            f"generated in {gen:.1f}s -->"
        )
        for method in methods:
            note = []
            predicted = {}
            if probe is not None:
                scale = (args.rows / args.probe_rows) ** 2
                tp_def, out_def = run_default(*probe, method)
                tp_tch, out_tch = run_torch(*probe, method, args.device)
                predicted = {"default": tp_def * scale, "torch": tp_tch * scale}
                note.append(
                    f"probe {args.probe_rows} rows: default {tp_def:.2f}s, torch "
                    f"{tp_tch:.2f}s, identical {'yes' if same(out_def, out_tch) else 'NO'}"
                )
            results = {}
            for which, fn in (("default", run_default), ("torch", run_torch)):
                guess = predicted.get(which, 0.0)
                if elapsed() + 1.25 * guess > args.max_seconds:
                    results[which] = None
                    note.append(
                        f"{which} skipped: predicted {guess:.0f}s, {elapsed():.0f}s of "
                        f"{args.max_seconds:.0f}s used"
                    )
                    continue
                extra = (args.device,) if which == "torch" else ()
                results[which] = fn(x, y, method, *extra)
            cells = []
            for which in ("default", "torch"):
                if results[which] is not None:
                    cells.append(f"{results[which][0]:.2f}")
                else:
                    cells.append(f"~{predicted[which]:.3g} (extrapolated)")
            if results["default"] is not None and results["torch"] is not None:
                speed = f"{results['default'][0] / results['torch'][0]:.1f}x"
                ident = "yes" if same(results["default"][1], results["torch"][1]) else "NO"
            else:
                t_def = results["default"][0] if results["default"] else predicted["default"]
                t_tch = results["torch"][0] if results["torch"] else predicted["torch"]
                speed = f"~{t_def / t_tch:.1f}x (extrapolated)"
                ident = "n/a (not run; probe above)"
            row = (
                f"| {args.rows} | {method} | {kind} | {cells[0]} | {cells[1]} | {speed} | "
                f"{ident} | {name} | {cpus} |"
            )
            table.append(row)
            say(row)
            for line in note:
                say(f"<!-- {method}/{kind}: {line} -->")
            del results
    say()
    say(f"total {elapsed():.0f}s")
    say(header)
    for row in table:
        say(row)


if __name__ == "__main__":
    main()
