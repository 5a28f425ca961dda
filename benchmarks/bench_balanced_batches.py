"""Benchmark: BalancedBatches vs imbalanced-learn's Keras generator (throughput, extra memory).

Data: 1e6 x 64 float32 rows (256 MB), 1 % minority, batch 256, one process. Every measurement
runs in its own subprocess so that its peak RSS is clean:

    OMP_NUM_THREADS=1 KERAS_BACKEND=torch python benchmarks/bench_balanced_batches.py

Extra memory = peak RSS (``resource.getrusage`` ru_maxrss) after building and iterating minus
the peak RSS before building (x, y and the imports already resident); the numpy allocation peak
(``tracemalloc``, which numpy reports to) is measured on a second, traced run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

N, D, MINORITY, BATCH = 1_000_000, 64, 0.01, 256
MIN_SECONDS = 3.0


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, D), dtype=np.float32)
    y = (rng.random(N) < MINORITY).astype(np.int64)
    return x, y


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _iterate(make, redraw):
    """Build, then iterate whole epochs for at least MIN_SECONDS; rows/s and batches/s."""
    t0 = time.perf_counter()
    ds = make()
    build = time.perf_counter() - t0
    rows = batches = epochs = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < MIN_SECONDS or epochs == 0:
        for i in range(len(ds)):
            b = ds[i]
            rows += len(b[1])
            batches += 1
        epochs += 1
        ds = redraw(ds)
    seconds = time.perf_counter() - t0
    return {
        "build_s": build,
        "rows_per_s": rows / seconds,
        "batches_per_s": batches / seconds,
        "epochs": epochs,
        "batches_per_epoch": batches // epochs,
    }


def _candidates(x, y):
    import numpy as np

    def ours(strategy, replacement=False):
        from keras_imbalance.sampling import BalancedBatches

        def make():
            return BalancedBatches(
                x, y, batch_size=BATCH, strategy=strategy, random_state=0, replacement=replacement
            )

        def redraw(ds):
            ds.on_epoch_end()
            return ds

        return make, redraw

    def imblearn(sampler_name, rebuild):
        from imblearn.keras import BalancedBatchGenerator
        from imblearn.over_sampling import RandomOverSampler
        from imblearn.under_sampling import RandomUnderSampler

        sampler = {"under": RandomUnderSampler, "over": RandomOverSampler}[sampler_name]
        seed = [0]

        def make():
            return BalancedBatchGenerator(
                x, y, sampler=sampler(random_state=seed[0]), batch_size=BATCH, random_state=seed[0]
            )

        def redraw(ds):  # the generator samples once; redrawing means building it again
            if not rebuild:
                return ds
            seed[0] += 1
            return make()

        return make, redraw

    def numpy_sampler():
        class Sampler:  # plain per-class index pools, one Generator per epoch
            def __init__(self):
                self.pools = [np.flatnonzero(y == c).astype(np.int32) for c in (0, 1)]
                self.epoch = 0
                self.rng = np.random.default_rng(0)

            def __len__(self):
                return -(-2 * len(self.pools[0]) // BATCH)

            def __getitem__(self, i):
                cls = self.rng.integers(0, 2, BATCH)
                idx = np.where(
                    cls == 0,
                    self.pools[0][self.rng.integers(0, len(self.pools[0]), BATCH)],
                    self.pools[1][self.rng.integers(0, len(self.pools[1]), BATCH)],
                )
                return x[idx], y[idx]

        return Sampler, lambda ds: ds

    return {
        "balanced_batches_oversample": lambda: ours("oversample"),
        "balanced_batches_undersample": lambda: ours("undersample"),
        "balanced_batches_oversample_replacement": lambda: ours("oversample", True),
        "balanced_batches_undersample_replacement": lambda: ours("undersample", True),
        "imblearn_generator_under": lambda: imblearn("under", rebuild=False),
        "imblearn_generator_under_redrawn": lambda: imblearn("under", rebuild=True),
        "imblearn_generator_over": lambda: imblearn("over", rebuild=False),
        "numpy_index_sampler": numpy_sampler,
    }


def measure(name: str) -> dict:
    x, y = _data()
    if name == "random_over_sampler_fit_resample":
        from imblearn.over_sampling import RandomOverSampler

        before = _maxrss_mb()
        t0 = time.perf_counter()
        xr, yr = RandomOverSampler(random_state=0).fit_resample(x, y)
        return {
            "build_s": time.perf_counter() - t0,
            "extra_peak_rss_mb": _maxrss_mb() - before,
            "rows": int(len(yr)),
        }
    _candidates(x[:2000], y[:2000])[name]()[0]()  # warm imports on a small slice
    make, redraw = _candidates(x, y)[name]()
    import gc

    gc.collect()
    before = _maxrss_mb()
    result = _iterate(make, redraw)
    result["extra_peak_rss_mb"] = _maxrss_mb() - before
    tracemalloc.start()
    ds = make()
    for i in range(min(len(ds), 500)):
        ds[i]
    result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result


def check_imblearn_fit() -> str:
    """Does imblearn's generator train a Keras 3 model on this backend?"""
    import keras
    import numpy as np
    from imblearn.keras import BalancedBatchGenerator

    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4)).astype("float32")
    y = (np.arange(500) < 25).astype(int)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    try:
        model.fit(BalancedBatchGenerator(x, y, batch_size=32, random_state=0), epochs=2, verbose=0)
    except Exception as exc:  # report exactly what fails
        return f"fails: {type(exc).__name__}: {exc}"
    return f"works (keras {keras.__version__}, backend {keras.backend.backend()})"


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        out = check_imblearn_fit() if sys.argv[2] == "imblearn_fit" else measure(sys.argv[2])
        print(json.dumps(out))
        return
    env = dict(
        os.environ, OMP_NUM_THREADS="1", KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "torch")
    )
    names = list(_candidates(None, None)) + ["random_over_sampler_fit_resample", "imblearn_fit"]
    x_mb = N * D * 4 / 2**20
    results = {}
    for name in names:
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", name], capture_output=True, text=True, env=env
        )
        if proc.returncode:
            results[name] = {"error": proc.stderr.strip().splitlines()[-1]}
        else:
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(name, results[name], flush=True)
    base = results["imblearn_generator_under"]["rows_per_s"]
    print(f"\nx = {x_mb:.0f} MiB; throughput relative to imblearn BalancedBatchGenerator (under):")
    for name, r in results.items():
        if isinstance(r, dict) and "rows_per_s" in r:
            print(
                f"  {name:42s} {r['rows_per_s'] / 1e6:7.2f} M rows/s  x{r['rows_per_s'] / base:5.2f}"
                f"  extra peak RSS {r['extra_peak_rss_mb']:7.1f} MiB"
                f" ({100 * r['extra_peak_rss_mb'] / x_mb:5.2f} % of x)"
                f"  tracemalloc peak {r['tracemalloc_peak_mb']:6.2f} MiB  build {r['build_s']:.3f} s"
            )
    r = results["random_over_sampler_fit_resample"]
    if "extra_peak_rss_mb" in r:
        print(
            f"  RandomOverSampler.fit_resample: extra peak RSS {r['extra_peak_rss_mb']:.0f} MiB "
            f"({100 * r['extra_peak_rss_mb'] / x_mb:.0f} % of x), {r['build_s']:.2f} s"
        )
    print("  imblearn generator in model.fit:", results["imblearn_fit"])


if __name__ == "__main__":
    main()
