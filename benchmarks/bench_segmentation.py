"""Segmentation losses on a synthetic set with a rare class: IoU of the rare class and step time.

Data (made here, fixed seed): 32 x 32 one-channel images of Gaussian noise (sd 0.35) with
class 1 = a few large rectangles (intensity 0.6) and class 2 = a few small discs of radius 1-2
(intensity 1.0), rare: under 1 % of the pixels. 256 training and 128 test images.
Model: a small U-Net (8-16-32 filters, two poolings, skip connections), Adam 2e-3, batch 16,
logits out. For each loss and each of 3 seeds (weights init + batch order), the IoU of the rare
class and the mean IoU on the test images (all pixels pooled, argmax).
Step time: Keras' ``train_on_batch`` on one batch of 16, every loss timed for 10 steps per round
after a warm-up, in a random order each round, as CPU time of this process (wall time on the
shared 2-core machine swung 0.05-12x between rounds); the figure is the median over rounds of the
loss's time over ``keras.losses.SparseCategoricalCrossentropy``'s time in the same round (same
model and weights: Adam with learning rate 0). "background term off" = ``class_weight=[0, 1, 1]``. Run::

    KERAS_BACKEND=torch OMP_NUM_THREADS=2 python benchmarks/bench_segmentation.py
    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_segmentation.py --skip-quality
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_imbalance as ki  # noqa: E402
import keras_imbalance.losses as L  # noqa: E402
from keras_imbalance.metrics import per_class_iou  # noqa: E402

SIZE, K = 32, 3
# class_weight that leaves the background's term out of the class mean (MONAI's
# include_background=False, up to the factor K / (K - 1) of the mean)
NO_BACKGROUND = [0.0, 1.0, 1.0]


def make_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    masks = np.zeros((n, SIZE, SIZE), dtype=np.int32)
    rows, cols = np.mgrid[:SIZE, :SIZE]
    for i in range(n):
        for _ in range(rng.integers(1, 4)):  # large rectangles: class 1
            h, w = rng.integers(6, 14, size=2)
            top, left = rng.integers(0, SIZE - h), rng.integers(0, SIZE - w)
            masks[i, top : top + h, left : left + w] = 1
        for _ in range(rng.integers(0, 3)):  # small discs: class 2 (rare)
            r = rng.uniform(1.0, 2.2)
            cy, cx = rng.uniform(3, SIZE - 3, size=2)
            masks[i][(rows - cy) ** 2 + (cols - cx) ** 2 <= r * r] = 2
    intensity = np.array([0.0, 0.6, 1.0], dtype=np.float32)[masks]
    x = intensity + rng.normal(scale=0.35, size=masks.shape).astype(np.float32)
    return x[..., None], masks


def unet() -> keras.Model:
    def block(t, filters):
        t = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(t)
        return keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(t)

    inputs = keras.Input((SIZE, SIZE, 1))
    e1 = block(inputs, 8)
    e2 = block(keras.layers.MaxPooling2D()(e1), 16)
    b = block(keras.layers.MaxPooling2D()(e2), 32)
    d2 = block(keras.layers.Concatenate()([keras.layers.UpSampling2D()(b), e2]), 16)
    d1 = block(keras.layers.Concatenate()([keras.layers.UpSampling2D()(d2), e1]), 8)
    return keras.Model(inputs, keras.layers.Conv2D(K, 1)(d1))


def losses(masks: np.ndarray) -> dict:
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    balanced = ki.class_weights(masks, "balanced", normalize="mean")
    median = ki.class_weights(masks, "median_frequency", normalize="mean")
    return {
        "CE (Keras SparseCategoricalCrossentropy)": ce,
        "weighted CE, balanced": L.WeightedSparseCategoricalCrossentropy(
            balanced, from_logits=True
        ),
        "weighted CE, median_frequency": L.WeightedSparseCategoricalCrossentropy(
            median, from_logits=True
        ),
        "Dice": L.DiceLoss(from_logits=True),
        "Dice, background term off": L.DiceLoss(from_logits=True, class_weight=NO_BACKGROUND),
        "CE + Dice": L.CombinedLoss([ce, L.DiceLoss(from_logits=True)]),
        "focal Tversky": L.FocalTverskyLoss(from_logits=True),
        "focal Tversky, background term off": L.FocalTverskyLoss(
            from_logits=True, class_weight=NO_BACKGROUND
        ),
        "CE + focal Tversky": L.CombinedLoss([ce, L.FocalTverskyLoss(from_logits=True)]),
    }


def quality(args, data) -> dict:
    (x_tr, y_tr), (x_te, y_te) = data
    out = {}
    for name, loss in losses(y_tr).items():
        if args.only and name not in args.only:
            continue
        rare, mean = [], []
        for seed in range(args.seeds):
            keras.utils.set_random_seed(seed)
            model = unet()
            model.compile(keras.optimizers.Adam(2e-3), loss=loss)
            model.fit(x_tr, y_tr, batch_size=16, epochs=args.epochs, verbose=0)
            pred = model.predict(x_te, batch_size=64, verbose=0).argmax(-1)
            iou = per_class_iou(y_te, pred, num_classes=K)
            rare.append(iou[2])
            mean.append(np.nanmean(iou))
        out[name] = (rare, mean)
        print(
            f"{name:<36} rare-class IoU {np.mean(rare):.3f} ± {np.std(rare):.3f} "
            f"({', '.join(f'{v:.4f}' for v in rare)}); mean IoU {np.mean(mean):.3f}",
            flush=True,
        )
    return out


def step_times(args, data) -> None:
    (x_tr, y_tr), _ = data
    xb, yb = x_tr[:16], y_tr[:16]
    models = {}
    for name, loss in losses(y_tr).items():
        keras.utils.set_random_seed(0)
        model = unet()
        # learning rate 0: every step does all its work but the weights stay those of seed 0,
        # so no loss is timed on another network state (a collapsed network's denormal
        # numbers made the Dice-only steps 2x slower in a first run)
        model.compile(keras.optimizers.Adam(0.0), loss=loss)
        for _ in range(5):  # warm-up
            model.train_on_batch(xb, yb)
        models[name] = model
    # rounds in a random order; a loss's ratio in a round is its time over the baseline's time
    # in the same round (the machine's load drifts between rounds), reported as the median
    times = {name: [] for name in models}
    baseline = "CE (Keras SparseCategoricalCrossentropy)"
    order = list(models)
    rng = np.random.default_rng(0)
    for _ in range(args.rounds):
        rng.shuffle(order)
        for name in order:
            start = time.process_time()  # CPU time: the machine is shared with other jobs
            for _ in range(args.steps):
                models[name].train_on_batch(xb, yb)
            times[name].append((time.process_time() - start) / args.steps)
    for name, values in times.items():
        ratios = [t / b for t, b in zip(values, times[baseline], strict=True)]
        print(
            f"{name:<36} {1000 * statistics.median(values):7.2f} CPU ms/step  "
            f"{statistics.median(ratios):5.2f}x (rounds: {min(ratios):.2f}-{max(ratios):.2f})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--only", nargs="*", help="quality of these losses only (names as printed)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    data = make_images(256, rng), make_images(128, rng)
    shares = np.bincount(data[0][1].reshape(-1), minlength=K) / data[0][1].size
    print(f"pixel shares (train): {np.round(100 * shares, 2).tolist()} %", flush=True)
    print(f"backend {keras.backend.backend()}, keras {keras.__version__}", flush=True)
    start = time.perf_counter()
    if not args.skip_quality:
        quality(args, data)
    if not args.skip_timing:
        step_times(args, data)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
