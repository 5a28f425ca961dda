"""``compare`` on an image folder of long-tailed digits, as the CLI runs it.

Usage (2-core container):

    KERAS_BACKEND=torch OMP_NUM_THREADS=1 python benchmarks/bench_image_folder.py --ratio 100

The training split of ``load_digits_lt(imbalance_ratio=r)`` is written as 8 x 8 grayscale
PNGs, one folder per class (Keras' ``image_dataset_from_directory`` layout); the folder is
read back with ``datasets.load_image_folder`` and compared with ``model_fn={"cnn":
cnn_model}`` (every default strategy, 5 folds, 2 jobs: what ``keras-imbalance compare DIR``
runs). The recommended strategy (``fit_recommended``), ``none`` and ``logit_adjusted`` (each
with the CNN) are then trained on the whole folder and scored by balanced accuracy on the
balanced test split (50 images per class).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratio", type=int, default=100)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()

    import numpy as np
    from PIL import Image
    from sklearn.metrics import balanced_accuracy_score

    from keras_imbalance import compare
    from keras_imbalance.comparison import cnn_model, fit_strategy
    from keras_imbalance.datasets import load_digits_lt, load_image_folder

    x, y, x_test, y_test = load_digits_lt(imbalance_ratio=args.ratio)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (row, label) in enumerate(zip(x, y, strict=True)):
            folder = os.path.join(tmp, f"digit{label}")
            os.makedirs(folder, exist_ok=True)
            pixels = np.round(row.reshape(8, 8) * 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(os.path.join(folder, f"{i}.png"))
        images = load_image_folder(tmp, color_mode="grayscale")
    xi = images.x
    labels = np.asarray(images.class_names)[images.y]
    print(f"{len(labels)} images of {xi.shape[1:]}, counts {np.bincount(images.y).tolist()}")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        result = compare(xi, labels, model_fn={"cnn": cnn_model}, n_jobs=args.n_jobs)
    print(f"compare: {time.perf_counter() - start:.0f} s; skipped: {result.skipped or 'none'}")
    for w in caught:
        if issubclass(w.category, UserWarning):
            print("warning:", w.message)
    print(result.recommendation["text"])
    xt = np.round(x_test.reshape(-1, 8, 8, 1) * 255) / 255.0  # as the PNGs store them
    names = np.asarray([f"digit{c}" for c in y_test])

    def score(model):
        proba = np.asarray(model.predict(xt.astype("float32"), verbose=0))
        return balanced_accuracy_score(names, np.asarray(result.classes)[proba.argmax(axis=1)])

    rec = result.recommendation
    rows = [
        (
            f"recommended ({rec['winner_strategy']})",
            score(result.fit_recommended(xi, labels, model_fn={"cnn": cnn_model})),
        )
    ]
    for strategy in ("none", "logit_adjusted"):
        rows.append(
            (f"cnn:{strategy}", score(fit_strategy(xi, labels, strategy, model_fn=cnn_model)))
        )
    print(f"\n| imbalance ratio {args.ratio} | balanced accuracy (balanced test split) |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.3f} |")
    board = result.leaderboard[result.leaderboard["rank"] > 0]
    print(board[["rank", "strategy", "aliases", "mean", "ci_low", "ci_high"]].head(8).to_string())


if __name__ == "__main__":
    main()
