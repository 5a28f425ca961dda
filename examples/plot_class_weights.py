"""
Which way do class weights go? Every strategy on one long tail
==============================================================

The question of the oldest Keras-users thread on the subject: for counts
``{0: 1000, 1: 500, 2: 100}``, is it ``{0: 0.1, 1: 0.5, 2: 1}`` or the reverse? The rare class
weighs **more**: the reference answer is ``{0: 1, 1: 2, 2: 10}`` (each class's loss summed over
its rows then counts as much as the majority's).

The strategies of ``ki.class_weights`` differ in how hard they push: ``balanced`` and
``reference`` fully undo the imbalance, ``sqrt``, ``log`` and ``log_mu`` damp it,
``effective_number`` treats extra rows of a large class as partly redundant. With
``normalize="mean"`` the mean weight per row is 1, so the learning rate keeps its meaning.
The plot shows them on a long tail of 8 classes, then a 3-class model trained with the
weights the wrong way round and the right way round.

Run it yourself with ``python examples/plot_class_weights.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import matplotlib.pyplot as plt
import numpy as np


def main(argv=None) -> dict:
    import keras

    import keras_imbalance as ki
    from keras_imbalance import metrics

    thread = {0: 1000, 1: 500, 2: 100}
    print("reference:", ki.class_weights(thread, "reference"))
    print("balanced: ", {k: round(v, 3) for k, v in ki.class_weights(thread, "balanced").items()})

    tail = {c: int(5000 * 0.5**c) for c in range(8)}  # 5000, 2500, ..., 39 rows
    strategies = ["balanced", "sqrt", "log", "log_mu", "effective_number"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name in strategies:
        w = ki.class_weights(tail, name, normalize="mean")
        left.plot(list(tail.values()), list(w.values()), "o-", label=name)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("rows of the class")
    left.set_ylabel("weight (mean 1 per row)")
    left.legend(fontsize=8)
    left.set_title("rare classes weigh more")

    # a 3-class problem with the thread's counts: weights reversed vs the right way
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [1000, 500, 100])
    centers = np.array([[0.0, 0.0], [1.2, 0.0], [0.6, 1.0]])
    x = (centers[y] + rng.normal(scale=0.6, size=(len(y), 2))).astype("float32")
    right_way = ki.class_weights(y, "reference")
    wrong_way = {c: 1 / w for c, w in right_way.items()}  # the thread's first guess
    recalls = {}
    for name, weights in (("none", None), ("reversed", wrong_way), ("reference", right_way)):
        keras.utils.set_random_seed(0)
        net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
        net.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
        kwargs = {"y": y} if weights is None else ki.fit_kwargs(y, weights, normalize="mean")
        net.fit(x, **kwargs, epochs=30, batch_size=100, verbose=0)
        pred = np.asarray(net.predict(x, verbose=0)).argmax(axis=1)
        recalls[name] = metrics.per_class_recall(y, pred, num_classes=3)
        print(f"{name:>9}: recall per class {np.round(recalls[name], 2).tolist()}")
    for i, (name, recall) in enumerate(recalls.items()):
        right.bar(np.arange(3) + 0.27 * (i - 1), recall, width=0.27, label=name)
    right.set_xticks(range(3), ["0 (1000 rows)", "1 (500)", "2 (100)"])
    right.set_ylabel("recall")
    right.legend(fontsize=8)
    right.set_title("weights the wrong way: the rare class vanishes")
    fig.tight_layout()
    return recalls


if __name__ == "__main__":
    main()
