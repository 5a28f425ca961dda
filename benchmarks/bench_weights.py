"""class_weights / sample_weights against scikit-learn and a memcpy, in one process.

    python benchmarks/bench_weights.py [--repeat 7]

Prints a markdown table (best of --repeat runs, seconds). Targets (issue "Foundation"):
class_weights on 1e7 int labels with 1000 classes >= 50x faster than
sklearn.utils.class_weight.compute_class_weight and within 3x of a memcpy of the labels;
>= 10x on 1e6 string labels; sample_weights for 1e6 samples and a (1e4, 64, 64) mask within 3x
of a memcpy of the output.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import sklearn
from sklearn.utils.class_weight import compute_class_weight

from keras_imbalance import class_weights, sample_weights


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def memcpy(arr):
    """Copy into an existing, warm buffer (no allocation, no page faults)."""
    out = np.empty_like(arr)
    return lambda: np.copyto(out, arr)


def alloc_copy(arr):
    """``arr.copy()``: allocate a new array and copy (what returning a new array costs)."""
    return lambda: arr.copy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    r = args.repeat
    rng = np.random.default_rng(0)
    rows = []

    # 1e7 int labels, 1000 classes (long-tailed)
    p = 1.0 / np.arange(1, 1001)
    y = rng.choice(1000, size=10_000_000, p=p / p.sum()).astype(np.int64)
    ours = best(lambda: class_weights(y), r)
    sk = best(lambda: compute_class_weight("balanced", classes=np.unique(y), y=y), max(2, r // 3))
    mc = best(memcpy(y), r)
    got = class_weights(y)
    ref = compute_class_weight("balanced", classes=np.unique(y), y=y)
    assert np.allclose(list(got.values()), ref)
    rows.append(
        ("class_weights, 1e7 int64 labels, 1000 classes", ours, sk, mc, best(alloc_copy(y), r))
    )

    # 1e6 string labels
    names = np.array([f"class_{i:03d}" for i in range(50)], dtype=object)
    ys = names[rng.choice(50, size=1_000_000, p=(q := 1.0 / np.arange(1, 51)) / q.sum())]
    ours_s = best(lambda: class_weights(ys), r)
    sk_s = best(
        lambda: compute_class_weight("balanced", classes=np.unique(ys), y=ys), max(2, r // 3)
    )
    mc_s = best(memcpy(ys), r)
    rows.append(
        (
            "class_weights, 1e6 string labels, 50 classes",
            ours_s,
            sk_s,
            mc_s,
            best(alloc_copy(ys), r),
        )
    )

    # sample_weights: 1e6 samples, 1e4 x 64 x 64 mask
    y1 = rng.choice(10, size=1_000_000, p=p[:10] / p[:10].sum()).astype(np.int64)
    cw = class_weights(y1)
    out1 = np.empty(y1.shape, np.float32)
    y1_32 = y1.astype(np.int32)
    y1_8 = y1.astype(np.uint8)
    for name, labels in (("int64", y1), ("int32", y1_32), ("uint8", y1_8)):
        rows.append(
            (
                f"sample_weights, 1e6 {name} labels, dict",
                best(lambda labels=labels: sample_weights(labels, cw), r),
                None,
                best(memcpy(out1), r),
                best(alloc_copy(out1), r),
            )
        )
    rows.append(
        (
            "sample_weights, 1e6 int64 labels, 'balanced'",
            best(lambda: sample_weights(y1, "balanced"), r),
            None,
            best(memcpy(out1), r),
            best(alloc_copy(out1), r),
        )
    )
    mask = (rng.random((10_000, 64, 64)) < 0.03).astype(np.uint8)
    out2 = np.empty(mask.shape, np.float32)
    cwm = class_weights(mask)
    m2, a2 = best(memcpy(out2), r), best(alloc_copy(out2), r)
    rows.append(
        (
            "sample_weights, (1e4, 64, 64) uint8 0/1 mask, dict",
            best(lambda: sample_weights(mask, cwm), r),
            None,
            m2,
            a2,
        )
    )
    rows.append(
        (
            "sample_weights, (1e4, 64, 64) uint8 0/1 mask, 'balanced'",
            best(lambda: sample_weights(mask, "balanced"), r),
            None,
            m2,
            a2,
        )
    )
    mask3 = rng.choice(3, size=(10_000, 64, 64), p=[0.9, 0.08, 0.02]).astype(np.uint8)
    rows.append(
        (
            "sample_weights, (1e4, 64, 64) uint8 3-class mask, 'balanced'",
            best(lambda: sample_weights(mask3, "balanced"), r),
            None,
            m2,
            a2,
        )
    )

    print(
        f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}"
    )
    print(
        "| case | ours (s) | scikit-learn (s) | speed-up | memcpy warm (s) | ours / memcpy | copy() (s) | ours / copy() |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, o, s, m, a in rows:
        sk_cell = f"{s:.4f}" if s else "-"
        speed = f"{s / o:.0f}x" if s else "-"
        print(
            f"| {name} | {o:.4f} | {sk_cell} | {speed} | {m:.4f} | {o / m:.1f}x | {a:.4f} | {o / a:.1f}x |"
        )


if __name__ == "__main__":
    main()
