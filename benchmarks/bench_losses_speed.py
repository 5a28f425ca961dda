"""Train-step time of each keras_imbalance loss relative to keras.losses.CategoricalCrossentropy.

Same MLP (256 -> 256 -> 256 -> 10, ReLU), batch 256, one process, Keras' own `train_on_batch`
(the step `fit` runs). Every loss is timed in interleaved rounds after a warm-up; the figure is
the median step time over rounds. Run::

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_losses_speed.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import statistics  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_imbalance.losses as L  # noqa: E402

K, D, B = 10, 256, 256
COUNTS = [1000, 600, 360, 216, 130, 78, 47, 28, 17, 10]
WEIGHTS = [sum(COUNTS) / (K * c) for c in COUNTS]


def losses():
    return {
        "keras CategoricalCrossentropy (baseline)": (
            keras.losses.CategoricalCrossentropy(from_logits=True),
            "onehot",
        ),
        "keras SparseCategoricalCrossentropy": (
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "sparse",
        ),
        "WeightedCategoricalCrossentropy": (
            L.WeightedCategoricalCrossentropy(WEIGHTS, from_logits=True),
            "onehot",
        ),
        "WeightedSparseCategoricalCrossentropy": (
            L.WeightedSparseCategoricalCrossentropy(WEIGHTS, from_logits=True),
            "sparse",
        ),
        "CategoricalFocalCrossentropy": (
            L.CategoricalFocalCrossentropy(alpha=WEIGHTS, from_logits=True),
            "onehot",
        ),
        "SparseCategoricalFocalCrossentropy": (
            L.SparseCategoricalFocalCrossentropy(alpha=WEIGHTS, from_logits=True),
            "sparse",
        ),
        "LogitAdjustedCrossentropy": (
            L.LogitAdjustedCrossentropy(COUNTS, sparse=True, from_logits=True),
            "sparse",
        ),
        "BalancedSoftmaxCrossentropy": (
            L.BalancedSoftmaxCrossentropy(COUNTS, from_logits=True),
            "onehot",
        ),
        "LDAMCrossentropy": (
            L.LDAMCrossentropy(
                COUNTS, scale=5.0, class_weight=WEIGHTS, sparse=True, from_logits=True
            ),
            "sparse",
        ),
        "WeightedBinaryCrossentropy (10 labels)": (
            L.WeightedBinaryCrossentropy(pos_weight=WEIGHTS, from_logits=True),
            "multilabel",
        ),
        "BinaryFocalCrossentropy (10 labels)": (
            L.BinaryFocalCrossentropy(alpha=0.25, from_logits=True),
            "multilabel",
        ),
        "BatchBalancedBinaryCrossentropy (10 labels)": (
            L.BatchBalancedBinaryCrossentropy(from_logits=True),
            "multilabel",
        ),
        "keras BinaryCrossentropy (10 labels)": (
            keras.losses.BinaryCrossentropy(from_logits=True),
            "multilabel",
        ),
    }


def main(rounds=7, steps=60, warmup=20):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, D)).astype("float32")
    labels = rng.integers(0, K, B)
    targets = {
        "onehot": np.eye(K, dtype="float32")[labels],
        "sparse": labels,
        "multilabel": (rng.random((B, K)) < 0.2).astype("float32"),
    }
    models = {}
    for name, (loss, kind) in losses().items():
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((D,)),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(K),
            ]
        )
        model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=loss)
        y = targets[kind]
        for _ in range(warmup):
            model.train_on_batch(x, y)
        models[name] = (model, y)
    times = {name: [] for name in models}
    for _ in range(rounds):  # interleaved, so drifts in machine load hit every loss alike
        for name, (model, y) in models.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y)
            times[name].append((time.perf_counter() - t0) / steps)
    base = statistics.median(times["keras CategoricalCrossentropy (baseline)"])
    print(
        f"backend={keras.backend.backend()} keras={keras.__version__} batch={B} rounds={rounds} steps={steps}"
    )
    print("| loss | median step (ms) | ratio to keras CCE |\n|---|---|---|")
    for name, t in times.items():
        med = statistics.median(t)
        print(f"| {name} | {med * 1e3:.3f} | {med / base:.3f} |")


if __name__ == "__main__":
    main()
