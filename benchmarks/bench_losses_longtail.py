"""Long-tail quality: balanced accuracy of six losses on long-tailed digits (5 seeds).

Data: ``keras_imbalance.datasets.load_digits_lt(imbalance_ratio=100, profile="exponential")``
(297 training images, counts 120 ... 1; balanced test split of 500). Model: the same MLP
64 -> 128 -> 128 -> 10 (ReLU, logits), Adam(1e-3), batch 32, the same number of epochs for
every loss. Prediction: argmax of the raw logits. Run (JAX is much faster for small fits)::

    KERAS_BACKEND=jax OMP_NUM_THREADS=1 python benchmarks/bench_losses_longtail.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402

import keras_imbalance.losses as L  # noqa: E402
from keras_imbalance import class_weights  # noqa: E402
from keras_imbalance.datasets import load_digits_lt  # noqa: E402

EPOCHS, BATCH, K = 150, 32, 10
DRW_START = int(0.8 * EPOCHS)


def make_losses(counts):
    counts = np.asarray(counts, dtype=float)
    by_class = dict(enumerate(counts.astype(int).tolist()))
    balanced = class_weights(by_class, "balanced")  # scikit-learn's "balanced" weights
    eff = class_weights(by_class, "effective_number")  # Cui et al. 2019, sum K, beta 0.999
    ldam = L.LDAMCrossentropy(counts, max_margin=0.5, scale=5.0, sparse=True, from_logits=True)
    return {
        "CE": (keras.losses.SparseCategoricalCrossentropy(from_logits=True), []),
        "weighted CE (balanced)": (
            L.WeightedSparseCategoricalCrossentropy(balanced, from_logits=True),
            [],
        ),
        "focal (gamma=2)": (L.SparseCategoricalFocalCrossentropy(gamma=2.0, from_logits=True), []),
        "logit-adjusted (tau=1)": (
            L.LogitAdjustedCrossentropy(counts, tau=1.0, sparse=True, from_logits=True),
            [],
        ),
        "balanced softmax": (
            L.BalancedSoftmaxCrossentropy(counts, sparse=True, from_logits=True),
            [],
        ),
        "LDAM-DRW (scale=5)": (ldam, [L.DeferredReweighting(ldam, eff, start_epoch=DRW_START)]),
    }


def run(seed):
    x_tr, y_tr, x_te, y_te = load_digits_lt(
        imbalance_ratio=100, profile="exponential", random_state=seed
    )
    counts = np.bincount(y_tr, minlength=K)
    out = {}
    for name, (loss, callbacks) in make_losses(counts).items():
        keras.utils.set_random_seed(seed)
        model = keras.Sequential(
            [
                keras.Input((x_tr.shape[1],)),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dense(128, activation="relu"),
                keras.layers.Dense(K),
            ]
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        model.fit(x_tr, y_tr, epochs=EPOCHS, batch_size=BATCH, verbose=0, callbacks=callbacks)
        pred = np.argmax(model.predict(x_te, verbose=0, batch_size=500), axis=-1)
        out[name] = balanced_accuracy_score(y_te, pred)
    return out


def main(seeds=(0, 1, 2, 3, 4)):
    t0 = time.perf_counter()
    results = [run(s) for s in seeds]
    print(
        f"backend={keras.backend.backend()} keras={keras.__version__} python={sys.version.split()[0]} "
        f"epochs={EPOCHS} batch={BATCH} seeds={list(seeds)} time={time.perf_counter() - t0:.0f}s"
    )
    print("| loss | balanced accuracy, mean ± sd (5 seeds) | per seed |\n|---|---|---|")
    for name in results[0]:
        vals = [100 * r[name] for r in results]
        print(
            f"| {name} | {statistics.mean(vals):.1f} ± {statistics.stdev(vals):.1f} | "
            + ", ".join(f"{v:.1f}" for v in vals)
            + " |"
        )


if __name__ == "__main__":
    main()
