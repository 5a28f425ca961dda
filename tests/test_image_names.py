"""The file names of an image folder read on demand, packed (issue 24, item 6).

``ImageFiles`` keeps one name a row for the whole run: as a list of Python strings that was
about 50 bytes plus the name's length a row, plus 8 for the list slot (96 bytes a row for
the paths of the 36,000-image benchmark folder, the largest thing kept per image once the
decode cache is full). :class:`FileNames` packs them in one buffer: the bytes of each name
past their common prefix and a 4-byte offset, counted here by tracemalloc; the names read
back are the given ones, character for character.
"""

from __future__ import annotations

import os
import pickle
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from keras_imbalance.datasets import load_image_folder  # noqa: E402
from keras_imbalance.datasets._images import FileNames, ImageFiles  # noqa: E402
from test_images_lazy import _folder  # noqa: E402


def test_names_are_kept_as_their_bytes_past_the_prefix_and_an_offset():
    n = 3000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        names = [f"/data/images/train/class{i % 5}/{i:06d}.png" for i in range(n)]
        packed = FileNames(names)
        del names  # what stays is what the packed names hold
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert packed.prefix == "/data/images/train/class"
    # "0/000000.png": 12 bytes a name past the prefix, and a uint32 end offset (4 bytes);
    # the object, its two arrays' headers and the prefix: under 2 KiB. A list of the
    # strings kept 8 + 49 + 40 bytes a name (291,000 B here)
    assert packed.data.nbytes == 12 * n and packed.ends.dtype == np.uint32
    assert kept <= 16 * n + 2048
    assert packed[0] == "/data/images/train/class0/000000.png"
    assert packed[n - 1] == f"/data/images/train/class{(n - 1) % 5}/{n - 1:06d}.png"


def test_names_read_back_as_given():
    odd = os.fsdecode(b"/x/caf\xe9.png")  # an undecodable byte, as os.listdir gives it
    given = ["/x/a.png", "/x/été/ü.jpeg", odd, "/x/" + "n" * 300 + ".png", "/x/b.png"]
    names = FileNames(given)
    assert names.prefix == "/x/"
    assert list(names) == given and names == given and given == names
    assert names[2] == odd and os.fsencode(names[2]) == b"/x/caf\xe9.png"
    assert names[-1] == "/x/b.png" and names[1:4] == given[1:4] and names[::-2] == given[::-2]
    assert pickle.loads(pickle.dumps(names)) == given
    assert FileNames(names) == given and names != given[:-1] and names != given[::-1]
    # bytes and paths are names too; no common prefix; none at all
    assert FileNames([b"/a/1.png", Path("/b/2.png")]) == ["/a/1.png", "/b/2.png"]
    assert FileNames(["a.png", "b.png"]).prefix == ""
    assert len(FileNames([])) == 0 and list(FileNames([])) == []
    with pytest.raises(IndexError, match="file 5 is out of range for 5 files"):
        names[5]


def test_image_files_read_their_files_through_the_packed_names(tmp_path):
    root = _folder(tmp_path / "imgs", {"a": 4, "b": 3}, seed=1)
    os.rename(root / "b" / "000.png", root / "b" / "é 000.png")
    eager = load_image_folder(root, image_size=(6, 5))
    lazy = load_image_folder(root, image_size=(6, 5), lazy=True)
    assert isinstance(lazy.x.files, FileNames) and len(lazy.x.files) == 7
    assert any(name.endswith("é 000.png") for name in lazy.x.files)
    assert np.array_equal(np.asarray(lazy.x), eager.x)
    copy = pickle.loads(pickle.dumps(lazy.x))
    assert copy.files == lazy.x.files and np.array_equal(copy[[6, 0]], eager.x[[6, 0]])
    with pytest.raises(TypeError, match="Invalid value for argument `files`"):
        ImageFiles(str(root), [1, 2], (6, 5), "rgb", "bilinear")
