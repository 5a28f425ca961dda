"""Images of a class-per-folder directory read when a batch needs them (numpy + Pillow)."""

from __future__ import annotations

import numpy as np

from keras_imbalance.datasets._images import ImageFiles
from keras_imbalance.targets import image_index

#: The rows of a folder tree read on demand (one class for the balanced batches and for
#: ``load_image_folder(lazy=True)``).
ImageRows = ImageFiles


def image_rows(path, classes, image_size, color_mode, interpolation):
    """(the reader, class ids (int64), class names) of a class-per-folder directory."""
    if image_size is None:
        raise ValueError(
            "Invalid value for argument `image_size`. Expected (height, width) for images "
            "read batch by batch (every batch must have one shape). Received: image_size=None"
        )
    index = image_index(path, classes, "path")
    files = [f for names in index.values() for f in names]
    y = np.repeat(np.arange(len(index), dtype=np.int64), [len(v) for v in index.values()])
    reader = ImageRows(str(path), files, image_size, color_mode, interpolation)
    return reader, y, list(index)
