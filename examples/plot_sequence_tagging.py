"""
Sequence tagging with padding: per-time-step class weights and a masked loss
============================================================================

Tags every token of padded sequences; the rare tags cover 2 % and 5 % of the tokens, and
padding is label -1. Keras' own ``class_weight`` refuses (N, T) targets;
``ki.fit_kwargs(y, "balanced", ignore_class=-1)`` gives one weight per time step instead (0 on
padding), and the loss ignores the padding. The recall of each tag is measured on the real
tokens of held-out sequences, with and without the weights.

Run it yourself with ``python examples/plot_sequence_tagging.py [--fast]``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import matplotlib.pyplot as plt
import numpy as np


def make_sequences(n: int, steps: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    tokens = rng.normal(size=(n, steps, 4)).astype("float32")
    tags = np.zeros((n, steps), dtype=np.int64)
    tags[tokens[..., 0] > 2.0] = 1  # a rare tag (about 2 %)
    tags[tokens[..., 1] > 1.6] = 2  # a less rare one (about 5 %)
    lengths = rng.integers(steps // 2, steps + 1, size=n)
    pad = np.arange(steps)[None, :] >= lengths[:, None]
    tags[pad] = -1  # padding
    tokens[pad] = 0.0
    return tokens, tags


def tagger(steps: int):
    import keras

    model = keras.Sequential(
        [
            keras.Input((steps, 4)),
            keras.layers.Bidirectional(keras.layers.GRU(16, return_sequences=True)),
            keras.layers.Dense(3),
        ]
    )
    return model


def main(argv=None) -> dict:
    import keras

    import keras_imbalance as ki
    from keras_imbalance import metrics

    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    n, epochs = (200, 4) if args.fast else (800, 8)  # in 2, tensorflow learnt no tag 1
    x, y = make_sequences(n)
    x_test, y_test = make_sequences(n // 2, seed=1)
    print("tag counts (padding excluded):", ki.class_counts(y, ignore_class=-1))
    recalls = {}
    for name, weighting in (("unweighted", None), ("balanced", "balanced")):
        keras.utils.set_random_seed(0)
        model = tagger(x.shape[1])
        model.compile(
            "adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
        )
        if weighting is None:
            model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
        else:
            kwargs = ki.fit_kwargs(y, weighting, ignore_class=-1, normalize="mean")
            model.fit(x, **kwargs, epochs=epochs, batch_size=64, verbose=0)
        pred = np.asarray(model.predict(x_test, verbose=0)).argmax(axis=-1)
        real = y_test >= 0
        recalls[name] = metrics.per_class_recall(y_test[real], pred[real], num_classes=3)
        print(f"{name}: per-tag recall {np.round(recalls[name], 3).tolist()}")

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for i, (name, recall) in enumerate(recalls.items()):
        ax.bar(np.arange(3) + 0.4 * i - 0.2, recall, width=0.4, label=name)
    ax.set_xticks(range(3), ["tag 0 (common)", "tag 1 (2 %)", "tag 2 (5 %)"])
    ax.set_ylabel("recall on held-out tokens")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    return recalls


if __name__ == "__main__":
    main()
