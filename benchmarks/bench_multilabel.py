"""Multi-label resampling and label-balanced batches: macro-F1 over labels with an MLP.

Data (made here): scikit-learn's ``make_multilabel_classification`` (20,000 rows, 20 features,
6 labels, 2 labels per row on average, unlabelled rows allowed, seed 0), then skewed label
priors: a row is kept with probability ``min`` over its positive labels of
``KEEP = (1, 1, 0.5, 0.2, 0.08, 0.04)`` (rows without a label are kept). Standardised features,
a fixed 70 / 30 split.
Strategies: none; powerset SMOTE (``resample(method="smote")`` on the label combinations, every
combination with at least 6 rows raised to the largest one's count: the combinations with
fewer rows cannot be interpolated with 5 neighbours); MLSMOTE (``k_neighbors=5``); ML-ROS
(``percentage=25``); label-balanced batches (``BalancedBatches(mode="labels")``).
Model: Dense(64, relu) -> Dense(64, relu) -> Dense(6) logits, binary cross-entropy, Adam 1e-3,
batch 64, the same number of gradient steps for every strategy (``--epochs`` passes over the
original training rows: a resampled set of r times the rows gets 1 / r of the epochs, rounded);
predicted positive when the logit is > 0. Score: macro-F1 over the 6 labels
on the test rows (scikit-learn ``f1_score(average="macro")``), 3 seeds (weights init, batch
order and the resampler's ``random_state``). Times: the resampling call alone, CPU seconds of
this process (the machine is shared), median of the 3 seeds. Run::

    KERAS_BACKEND=torch OMP_NUM_THREADS=2 python benchmarks/bench_multilabel.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import make_multilabel_classification  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

import keras_imbalance as ki  # noqa: E402
from keras_imbalance.sampling import BalancedBatches  # noqa: E402

KEEP = np.array([1.0, 1.0, 0.5, 0.2, 0.08, 0.04])


def dataset():
    x, y = make_multilabel_classification(
        n_samples=20000,
        n_features=20,
        n_classes=6,
        n_labels=2,
        allow_unlabeled=True,
        random_state=0,
    )
    rng = np.random.default_rng(0)
    keep_p = np.where(y.astype(bool), KEEP, 1.0).min(axis=1)
    kept = rng.random(len(y)) < keep_p
    x, y = x[kept].astype("float32"), y[kept].astype("int8")
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    order = rng.permutation(len(y))
    cut = int(0.7 * len(y))
    return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])


def powerset_smote(x, y, seed):
    combos, counts = np.unique(y, axis=0, return_counts=True)
    target = {
        tuple(int(v) for v in c): int(counts.max())
        for c, n in zip(combos, counts, strict=True)
        if n >= 6
    }
    return ki.resample(
        x, y, "smote", layout="multilabel", sampling_strategy=target, random_state=seed
    )


STRATEGIES = {
    "none": lambda x, y, seed: (x, y),
    "powerset SMOTE": powerset_smote,
    "MLSMOTE": lambda x, y, seed: ki.resample(x, y, "mlsmote", random_state=seed),
    "ML-ROS (25 %)": lambda x, y, seed: ki.resample(
        x, y, "ml_ros", percentage=25, random_state=seed
    ),
    "label-balanced batches": None,
}


def mlp(k):
    return keras.Sequential(
        [
            keras.Input((20,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(k),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    (x_tr, y_tr), (x_te, y_te) = dataset()
    stats = ki.multilabel_stats(y_tr)
    print(
        f"train {len(y_tr)} rows, test {len(y_te)}; positives per label {stats['label_counts']}; "
        f"MeanIR {stats['mean_ir']:.2f}, MaxIR {stats['max_ir']:.1f}, SCUMBLE {stats['scumble']:.3f}, "
        f"{len(np.unique(y_tr, axis=0))} label combinations",
        flush=True,
    )
    for name, make in STRATEGIES.items():
        scores, rows, seconds = [], [], []
        for seed in range(args.seeds):
            keras.utils.set_random_seed(seed)
            model = mlp(y_tr.shape[1])
            model.compile(
                keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True)
            )
            if make is None:
                data = BalancedBatches(x_tr, y_tr, batch_size=64, random_state=seed, mode="labels")
                model.fit(data, epochs=args.epochs, verbose=0)
                rows.append(data.epoch_size)
            else:
                start = time.process_time()  # CPU time: the machine is shared
                x_res, y_res = make(x_tr, y_tr, seed)
                seconds.append(time.process_time() - start)
                rows.append(len(y_res))
                epochs = max(1, round(args.epochs * len(y_tr) / len(y_res)))  # same step count
                model.fit(x_res, y_res, batch_size=64, epochs=epochs, verbose=0)
            pred = (model.predict(x_te, batch_size=1024, verbose=0) > 0).astype(int)
            scores.append(f1_score(y_te, pred, average="macro", zero_division=0))
        after = (
            "" if make is None else f"MeanIR after {ki.multilabel_stats(y_res)['mean_ir']:.2f}, "
        )
        timing = f", resampling {statistics.median(seconds):.3f} CPU s" if seconds else ""
        print(
            f"{name:<24} macro-F1 {np.mean(scores):.3f} ± {np.std(scores):.3f} "
            f"({', '.join(f'{s:.3f}' for s in scores)}); {after}{rows[-1]} rows per epoch{timing}",
            flush=True,
        )


if __name__ == "__main__":
    main()
