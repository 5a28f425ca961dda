"""
Segmentation with a rare class: median-frequency weights, Dice and per-class IoU
================================================================================

Masks that are mostly background: a common class (large blobs, about 10 % of the pixels)
and a rare one (small spots, about 1 %). With a plain pixel-wise cross-entropy the network
learns the background and the blobs and misses most of the spots; pixel accuracy stays high.

Keras' ``class_weight`` raises on (N, H, W) targets. Three losses are trained here on the
same network: the plain cross-entropy; cross-entropy plus a soft Dice term
(``losses.CombinedLoss`` with ``losses.DiceLoss``), which scores the overlap of each class
whatever its size; and a cross-entropy weighted by ``ki.class_weights(masks,
"median_frequency")`` (SegNet's rule). The scores are the IoU and the recall of each class
(``metrics.per_class_iou``, over every pixel), not pixel accuracy, which is high for all three.
Expect the weights to catch most of the rare pixels at the price of false alarms around
them (recall up, IoU down), and the Dice term to raise the rare class's IoU.

Run it yourself with ``python examples/plot_segmentation.py [--fast]``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import matplotlib.pyplot as plt
import numpy as np

SIZE = 24


def make_images(n: int, seed: int = 0):
    """Noisy images; class 1: a bright disc, class 2: a few small dim squares."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:SIZE, :SIZE]
    masks = np.zeros((n, SIZE, SIZE), dtype=np.int64)
    for mask in masks:
        cy, cx, r = rng.uniform(6, SIZE - 6), rng.uniform(6, SIZE - 6), rng.uniform(3, 5)
        mask[(rows - cy) ** 2 + (cols - cx) ** 2 < r**2] = 1
        for _ in range(rng.integers(1, 3)):
            y0, x0 = rng.integers(0, SIZE - 2, size=2)
            mask[y0 : y0 + 2, x0 : x0 + 2] = 2
    images = np.where(masks == 1, 1.0, np.where(masks == 2, 0.55, 0.0))
    images = images + rng.normal(scale=0.25, size=images.shape)
    return images[..., None].astype("float32"), masks


def segmenter():
    import keras

    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(3, 1),  # logits per pixel
        ]
    )


def main(argv=None) -> dict:
    import keras

    import keras_imbalance as ki
    from keras_imbalance import losses, metrics

    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    n, epochs = (60, 2) if args.fast else (240, 15)
    x, masks = make_images(n)
    x_test, masks_test = make_images(n // 2, seed=1)

    print("pixels per class:", ki.class_counts(masks))
    weights = ki.class_weights(masks, "median_frequency", normalize="mean")
    print("median-frequency weights:", {k: round(v, 2) for k, v in weights.items()})

    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    ce_dice = losses.CombinedLoss([plain, losses.DiceLoss(from_logits=True)], weights=[1.0, 1.0])
    weighted = losses.WeightedSparseCategoricalCrossentropy(weights, from_logits=True)
    iou, recall, predictions = {}, {}, {}
    for name, loss in (("CE", plain), ("CE + Dice", ce_dice), ("weighted CE", weighted)):
        keras.utils.set_random_seed(0)
        net = segmenter()
        net.compile(keras.optimizers.Adam(3e-3), loss=loss)
        net.fit(x, masks, epochs=epochs, batch_size=16, verbose=0)
        pred = np.asarray(net.predict(x_test, verbose=0)).argmax(axis=-1)
        predictions[name] = pred
        iou[name] = metrics.per_class_iou(masks_test, pred, num_classes=3)
        recall[name] = metrics.per_class_recall(masks_test.ravel(), pred.ravel(), num_classes=3)
        accuracy = float((pred == masks_test).mean())
        print(
            f"{name}: pixel accuracy {accuracy:.3f}, IoU per class {np.round(iou[name], 3)}, "
            f"recall per class {np.round(recall[name], 3)}"
        )

    fig, axes = plt.subplots(3, 5, figsize=(10, 6.2))
    for row in range(3):
        shown = [x_test[row, ..., 0], masks_test[row], *(p[row] for p in predictions.values())]
        titles = ["image", "true mask", *predictions]
        for ax, img, title in zip(axes[row], shown, titles, strict=True):
            ax.imshow(img, cmap="gray" if title == "image" else "viridis", vmin=0,
                      vmax=None if title == "image" else 2)  # fmt: skip
            ax.set_axis_off()
            if row == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return {"iou": iou, "recall": recall, "weights": weights}


if __name__ == "__main__":
    main()
