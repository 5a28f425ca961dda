"""
Multi-label tags: label imbalance, MLSMOTE and per-label strategies
===================================================================

Four tags of falling frequency (about 40 %, 12 %, 5 % and 2 % of the rows), several per row.
``ki.multilabel_stats`` gives each tag's imbalance ratio (IRLbl) and their mean (MeanIR);
``ki.resample(..., method="mlsmote")`` over-samples the rare tags per label instead of
splitting the target into label combinations; ``ki.compare`` compares the per-label strategies
(weighted, focal and logit-adjusted binary cross-entropy per tag, ML-ROS, MLSMOTE,
label-balanced batches, a threshold per tag) by balanced accuracy averaged over the tags.
Last, the plain Keras way: a model trained with and without per-tag weights
(``losses.WeightedBinaryCrossentropy``), each tag's recall measured on held-out rows.

Run it yourself with ``python examples/plot_multilabel.py [--fast]``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import matplotlib.pyplot as plt
import numpy as np

PREVALENCE = (0.40, 0.12, 0.05, 0.02)


def make_tags(n: int, seed: int = 0):
    """Rows of 8 features and 4 tags; tag j is on when a noisy score of x exceeds a cut."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    # tags 2 and 3 share a feature with tag 1, so they co-occur with it
    score = np.stack([x[:, 0], x[:, 1], x[:, 1] + x[:, 2], x[:, 2] + x[:, 3]], axis=1)
    score = score / score.std(axis=0) + rng.normal(scale=0.4, size=score.shape)
    cuts = [np.quantile(score[:, j], 1 - p) for j, p in enumerate(PREVALENCE)]
    return x, (score > np.asarray(cuts)).astype(np.int64)


def tagger(n_features: int, n_tags: int):
    import keras

    return keras.Sequential(
        [keras.Input((n_features,)), keras.layers.Dense(32, activation="relu"),
         keras.layers.Dense(n_tags)]
    )  # fmt: skip


def main(argv=None) -> dict:
    import keras

    import keras_imbalance as ki
    from keras_imbalance import losses, metrics

    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    n, epochs, cv = (600, 4, 2) if args.fast else (1000, 12, 2)
    x_all, tags_all = make_tags(2 * n)
    x, tags, x_test, tags_test = x_all[:n], tags_all[:n], x_all[n:], tags_all[n:]

    before = ki.multilabel_stats(tags)
    print("tag counts:", before["label_counts"], " IRLbl:", np.round(before["irlbl"], 1).tolist())
    x_res, tags_res = ki.resample(x, tags, method="mlsmote", random_state=0)
    after = ki.multilabel_stats(tags_res)
    print(
        f"MLSMOTE: {len(tags)} -> {len(tags_res)} rows, MeanIR "
        f"{before['mean_ir']:.2f} -> {after['mean_ir']:.2f}, tag counts {after['label_counts']}"
    )

    result = ki.compare(x, tags, cv=cv, epochs=epochs, patience=3, random_state=0)
    print(result.leaderboard[["model", "strategy", "mean", "macro_f1"]].head(6).to_string())
    print(result.recommendation["text"])

    n_pos = tags.sum(axis=0)
    recalls = {}
    for name in ("unweighted", "balanced"):
        keras.utils.set_random_seed(0)
        model = tagger(x.shape[1], tags.shape[1])
        if name == "unweighted":
            loss = keras.losses.BinaryCrossentropy(from_logits=True)
        else:  # each tag's positives and negatives weigh the same in total
            loss = losses.WeightedBinaryCrossentropy(
                pos_weight=(n / (2 * n_pos)).tolist(),
                neg_weight=(n / (2 * (n - n_pos))).tolist(),
                from_logits=True,
            )
        model.compile(keras.optimizers.Adam(3e-3), loss=loss)
        model.fit(x, tags, epochs=epochs, batch_size=64, verbose=0)
        pred = (np.asarray(model.predict(x_test, verbose=0)) > 0).astype(np.int64)
        recalls[name] = [
            float(metrics.per_class_recall(tags_test[:, j], pred[:, j], num_classes=2)[1])
            for j in range(tags.shape[1])
        ]
        print(f"{name}: recall per tag on held-out rows {np.round(recalls[name], 3).tolist()}")

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    tags_at = np.arange(tags.shape[1])
    left.bar(tags_at - 0.2, before["label_counts"], width=0.4, label="original")
    left.bar(tags_at + 0.2, after["label_counts"], width=0.4, label="after MLSMOTE")
    left.set_xticks(tags_at, [f"tag {j}" for j in tags_at])
    left.set_ylabel("rows with the tag")
    left.legend()
    for i, (name, recall) in enumerate(recalls.items()):
        right.bar(tags_at + 0.4 * i - 0.2, recall, width=0.4, label=name)
    right.set_xticks(tags_at, [f"tag {j}" for j in tags_at])
    right.set_ylabel("recall on held-out rows")
    right.set_ylim(0, 1)
    right.legend()
    fig.tight_layout()
    return {"before": before, "after": after, "result": result, "recalls": recalls}


if __name__ == "__main__":
    main()
