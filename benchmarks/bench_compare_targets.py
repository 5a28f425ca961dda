"""``compare`` on a multi-label target and on segmentation masks: leaderboards and wall time.

- Multi-label: the training rows of ``bench_multilabel.py``'s set (scikit-learn's
  ``make_multilabel_classification`` with skewed label priors: 6 labels, the rarest on about
  1 % of the rows), ``compare(x, Y)`` with the default strategies and models (linear + MLP),
  ranked by balanced accuracy averaged over the labels (and macro-F1 shown).
- Segmentation: ``bench_segmentation.py``'s synthetic images (32 x 32 noise, rectangles of
  class 1, small discs of class 2 on under 1 % of the pixels) and its small U-Net,
  ``compare(images, masks, model_fn=unet)`` with every segmentation strategy, ranked by mean
  IoU (and the rare class's IoU shown).

Run::

    KERAS_BACKEND=torch OMP_NUM_THREADS=2 python benchmarks/bench_compare_targets.py
    KERAS_BACKEND=torch OMP_NUM_THREADS=2 python benchmarks/bench_compare_targets.py \\
        --only segmentation --images 128 --epochs 10
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import keras_imbalance as ki  # noqa: E402


def show(result, columns, seconds) -> None:
    board = result.leaderboard[result.leaderboard["rank"] > 0]
    keep = ["rank", "model", "strategy", "mean", "ci_low", "ci_high", *columns]
    print(board[keep].to_string(index=False, float_format="%.3f"))
    print(result.recommendation["text"])
    print(f"wall time {seconds:.0f} s ({len(result.folds)} fold rows)", flush=True)


def results(args, name):
    return None if args.out is None else os.path.join(args.out, f"{name}.jsonl")


def multilabel(args) -> None:
    from bench_multilabel import dataset

    (x, y), _ = dataset()
    if args.rows:
        x, y = x[: args.rows], y[: args.rows]
    print(f"multi-label: {len(y)} rows, positives per label {y.sum(axis=0).tolist()}", flush=True)
    start = time.perf_counter()
    result = ki.compare(
        x,
        y,
        cv=args.cv,
        epochs=args.epochs,
        patience=args.patience,
        results_path=results(args, "multilabel"),
        random_state=0,
    )
    show(result, ["macro_f1", "pr_auc"], time.perf_counter() - start)


def segmentation(args) -> None:
    from bench_segmentation import make_images, unet

    x, masks = make_images(args.images, np.random.default_rng(0))
    pixels = np.bincount(masks.reshape(-1), minlength=3) / masks.size
    print(f"segmentation: {len(x)} images, pixel shares {np.round(100 * pixels, 2)} %", flush=True)

    def model_fn(input_shape, n_classes):
        return unet()

    start = time.perf_counter()
    result = ki.compare(
        x,
        masks,
        model_fn={"unet": model_fn},
        cv=args.cv,
        epochs=args.epochs,
        patience=args.patience,
        results_path=results(args, "segmentation"),
        random_state=0,
    )
    show(result, ["rare_iou", "mean_dice"], time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["multilabel", "segmentation"])
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--rows", type=int, default=None, help="first rows of the multi-label set")
    parser.add_argument("--images", type=int, default=192)
    parser.add_argument("--out", default=None, help="folder for the results files")
    args = parser.parse_args()
    if args.only != "segmentation":
        multilabel(args)
    if args.only != "multilabel":
        segmentation(args)


if __name__ == "__main__":
    main()
