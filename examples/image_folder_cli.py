"""A long-tailed image folder, inspected and compared from the command line.

    python examples/image_folder_cli.py [--ratio 100] [--folder DIR] [--fast]

Writes the training split of ``load_digits_lt(imbalance_ratio=...)`` as 8 x 8 grayscale PNGs,
one folder per class (Keras' ``image_dataset_from_directory`` layout: ``digits/digit0/*.png``
...), then runs

    keras-imbalance inspect digits --plot digits-examples.png
    keras-imbalance compare digits

``compare`` reads the folder with Pillow, trains the default small CNN with every strategy
(classes of 1 to 3 images: SMOTE is skipped with its reason, the rarest class is never
tested, and the report marks the thin evidence). ``--fast`` runs a few strategies for a couple
of epochs (what the tests run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratio", type=int, default=100)
    parser.add_argument("--folder", default=".")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args(argv)
    root = os.path.join(args.folder, "digits")
    write_folder(root, args.ratio)
    cli = [sys.executable, "-m", "keras_imbalance.cli"]
    plot = os.path.join(args.folder, "digits-examples.png")
    subprocess.run([*cli, "inspect", root, "--plot", plot, "--force"], check=True)
    compare = [*cli, "compare", root, "--force"]
    if args.fast:
        compare += ["--strategies", "balanced,logit_adjusted", "--cv", "2", "--epochs", "2"]
        compare += ["--jobs", "1"]
    return subprocess.run(compare, check=True, cwd=args.folder).returncode


if __name__ == "__main__":
    sys.exit(main())
