"""
Balanced batches for ``model.fit``: how many rare rows a batch holds
====================================================================

Instead of weighting the loss or copying rows, draw each batch with the classes in equal
shares. ``sampling.BalancedBatches`` is a Keras ``PyDataset`` redrawn every epoch
(``strategy="oversample"``: every majority row once per epoch and the minority rows repeated;
``"undersample"``: every minority row once and a fresh subset of the majority each epoch;
``"smote"``: synthetic minority rows made per batch). The same plan drives the torch
``BalancedSampler`` and ``balanced_tf_dataset``; batch ``i`` of epoch ``e`` depends only on
``(random_state, e, i)``, so results are the same with any number of workers.

The plot counts the minority rows in each batch of one epoch: about 2 per batch of 64 when
shuffling plainly (many batches have none), 32 with balanced batches.

Run it yourself with ``python examples/plot_balanced_batches.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import matplotlib.pyplot as plt
import numpy as np


def main(argv=None) -> dict:
    import keras

    from keras_imbalance import metrics
    from keras_imbalance.sampling import BalancedBatches

    rng = np.random.default_rng(0)
    y = (rng.random(4000) < 0.03).astype(np.int64)
    x = (rng.normal(size=(4000, 6)) + 1.2 * y[:, None] * [1, -1, 0, 0, 0.5, 0]).astype("float32")

    plain = [y[i : i + 64].sum() for i in range(0, len(y), 64)]
    shares = {"plain shuffle": np.asarray(plain)}
    for strategy in ("oversample", "undersample"):
        batches = BalancedBatches(x, y, batch_size=64, strategy=strategy, random_state=0)
        shares[strategy] = np.array([batches[i][1].sum() for i in range(len(batches))])
        print(f"{strategy}: {len(batches)} batches per epoch, minority rows per batch "
              f"{shares[strategy].mean():.1f} on average")  # fmt: skip
    print(f"plain shuffle: minority rows per batch {shares['plain shuffle'].mean():.1f} on average")

    # training on balanced batches: nothing else changes in the Keras code
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, activation="sigmoid")])
    net.compile(
        keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=[metrics.BalancedAccuracy()]
    )
    batches = BalancedBatches(x, y, batch_size=64, strategy="oversample", random_state=0)
    history = net.fit(batches, epochs=5, verbose=0)
    print("balanced accuracy per epoch:", np.round(history.history["balanced_accuracy"], 3))
    pred = (np.asarray(net.predict(x, verbose=0)).ravel() > 0.5).astype(int)
    print("balanced accuracy on all rows:", round(metrics.balanced_accuracy(y, pred), 3))

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for name, share in shares.items():
        left.hist(share, bins=np.arange(0, 40) - 0.5, alpha=0.6, label=name)
    left.set_xlabel("minority rows in a batch of 64")
    left.set_ylabel("batches")
    left.legend()
    right.plot(history.history["balanced_accuracy"])
    right.set_xlabel("epoch (over-sampled balanced batches)")
    right.set_ylabel("balanced accuracy (training)")
    fig.tight_layout()
    return {"shares": shares, "history": history.history}


if __name__ == "__main__":
    main()
