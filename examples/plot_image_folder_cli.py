"""
A long-tailed image folder from the command line
================================================

Writes the training split of ``load_digits_lt(imbalance_ratio=...)`` as 8 x 8 grayscale PNGs,
one folder per class (the layout of Keras' ``image_dataset_from_directory``:
``digits/digit0/*.png`` ...), then runs::

    keras-imbalance inspect digits --plot digits-examples.png
    keras-imbalance compare digits

``compare`` reads the folder with Pillow and trains the default small CNN with each strategy.
The rarest classes hold 1 to 3 images: SMOTE is skipped with its reason, a class of one image
is never tested (it stays in every training fold), and the report marks the thin evidence.

Run it yourself with ``python examples/plot_image_folder_cli.py [--ratio 100] [--folder DIR]``;
``--fast`` is what the tests run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image


def write_folder(root: str, ratio: int) -> None:
    from keras_imbalance.datasets import load_digits_lt

    x, y, _, _ = load_digits_lt(imbalance_ratio=ratio)
    for i, (row, label) in enumerate(zip(x, y, strict=True)):
        folder = os.path.join(root, f"digit{label}")
        os.makedirs(folder, exist_ok=True)
        pixels = np.round(row.reshape(8, 8) * 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(os.path.join(folder, f"{i:04d}.png"))


def _cli(*args, cwd):
    cli = [sys.executable, "-m", "keras_imbalance.cli", *args]
    out = subprocess.run(cli, cwd=cwd, capture_output=True, text=True)
    print(out.stdout + out.stderr)
    if out.returncode:
        raise SystemExit(out.returncode)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratio", type=int, default=100)
    parser.add_argument(
        "--folder", default=None, help="where to write (default: a new temp folder)"
    )
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    folder = args.folder or tempfile.mkdtemp(prefix="ki-digits-")
    root = os.path.join(folder, "digits")
    write_folder(root, args.ratio)
    plot = os.path.join(folder, "digits-examples.png")
    _cli("inspect", root, "--plot", plot, "--force", cwd=folder)
    compare = ["compare", root, "--force", "--jobs", "1", "--cv", "2", "--random-state", "0"]
    if args.fast:
        compare += ["--strategies", "balanced,logit_adjusted", "--epochs", "2"]
    else:
        compare += ["--strategies", "none,balanced,logit_adjusted", "--epochs", "10"]
    _cli(*compare, cwd=folder)

    # the grid of example images that inspect --plot wrote (also in the HTML report)
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.imshow(plt.imread(plot))
    ax.set_axis_off()
    return 0


if __name__ == "__main__":
    main()
