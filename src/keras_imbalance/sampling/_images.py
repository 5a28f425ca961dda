"""Images of a class-per-folder directory read when a batch needs them (numpy + Pillow)."""

from __future__ import annotations

import numpy as np

from keras_imbalance._files import RowReader
from keras_imbalance._validation import check_option
from keras_imbalance.datasets._images import (
    COLOR_MODES,
    INTERPOLATIONS,
    _image_size,
    _read,
    _rel,
)
from keras_imbalance.targets import image_index

_CHANNELS = {"rgb": 3, "grayscale": 1, "rgba": 4}


class ImageRows(RowReader):
    """The images of a folder tree as rows: ``take`` opens only the files asked for.

    Pixels are float32 in [0, 1] (8-bit values / 255), resized to ``image_size`` with
    ``interpolation``, as :func:`keras_imbalance.datasets.load_image_folder` reads them. Only
    the file names are stored.
    """

    def __init__(self, folder, files, image_size, color_mode, interpolation):
        self.folder, self.files = folder, list(files)
        self.size = _image_size(image_size)
        self.color_mode = check_option("color_mode", color_mode, COLOR_MODES)
        self.interpolation = check_option("interpolation", interpolation, INTERPOLATIONS)
        self.shape = (len(self.files), *self.size, _CHANNELS[self.color_mode])
        self.dtype = np.dtype(np.float32)

    def take(self, rows, axis: int = 0) -> np.ndarray:
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.float32)
        for i, row in enumerate(np.asarray(rows, dtype=np.int64).tolist()):
            image = _read(self.files[row], self.size, self.color_mode, self.interpolation)
            if image is None:
                raise ValueError(
                    "Invalid value for argument `path`. Expected readable image files. "
                    f"Received: {_rel(self.files[row], self.folder)!r}, which Pillow cannot read"
                )
            out[i] = image
        out /= np.float32(255.0)
        return out


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
