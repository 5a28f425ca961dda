"""Class-per-folder image directories (Keras' ``image_dataset_from_directory`` layout), read with
Pillow: no TensorFlow needed on the torch or jax backend."""

from __future__ import annotations

import operator
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._files import RowReader
from .._validation import Text, check_number, check_option, invalid
from ..targets import IMAGE_SUFFIXES, image_index

COLOR_MODES = ("rgb", "grayscale", "rgba")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos", "box")
_PIL_MODES = {"rgb": "RGB", "grayscale": "L", "rgba": "RGBA"}
_SHOWN = 3  # example file names per message
_CHANNELS = {"rgb": 3, "grayscale": 1, "rgba": 4}
#: Bytes held per pixel value while a folder is read: the 8-bit images (list and stack) and
#: the float32 array.
BYTES_PER_VALUE = 6


class ImageFolder(NamedTuple):
    """What :func:`load_image_folder` returns; unpacks as ``x, y, class_names``.

    Attributes
    ----------
    x : ndarray of shape (n_images, height, width, channels), float32
        Pixel values in [0, 1] (8-bit values divided by 255).
    y : ndarray of shape (n_images,), int64
        Class ids: ``class_names[y[i]]`` is the folder of image ``i``.
    class_names : list of str
        The class folders, sorted as Keras sorts them.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: list

    @property
    def class_indices(self) -> dict:
        """``{class name: class id}``, like Keras' ``DirectoryIterator.class_indices``."""
        return {name: i for i, name in enumerate(self.class_names)}


def load_image_folder(
    path,
    *,
    image_size=None,
    color_mode="rgb",
    classes=None,
    max_per_class=None,
    interpolation="bilinear",
    lazy=False,
):
    """Load a directory with one sub-folder of images per class into arrays.

    The layout, class order and file order of ``keras.utils.image_dataset_from_directory``
    (and ``flow_from_directory``): class names are the sorted sub-folder names (names starting
    with a dot are skipped), each class folder is searched recursively, and files ending in
    ``.bmp``, ``.gif``, ``.jpeg``, ``.jpg`` or ``.png`` (any case) are images, read in sorted
    order (the first frame of an animated GIF). Reading uses Pillow only.

    Parameters
    ----------
    path : str or path-like
        The directory: ``path/<class name>/**/<image>``.
    image_size : (int, int), int or None, default=None
        ``(height, width)`` to resize every image to (an int: a square), with
        ``interpolation``. None keeps the images' own size, which must then be the same for
        all of them.
    color_mode : {"rgb", "grayscale", "rgba"}, default="rgb"
        3, 1 or 4 channels (Pillow's ``convert``).
    classes : list of str, optional
        The class folders to load, in this order (default: all, sorted).
    max_per_class : int, optional
        Load at most this many readable images per class (the first ones in file order).
    interpolation : {"bilinear", "nearest", "bicubic", "lanczos", "box"}, default="bilinear"
        Pillow's resampling filter for ``image_size``.
    lazy : bool, default=False
        Return ``x`` as an :class:`ImageFiles` instead of an array: the same images, rows and
        values, decoded from the files when rows are asked for (``x[rows]``, ``x.take``), so
        memory does not grow with the folder. The files are still decoded once here, to skip
        the same unreadable files and check the same sizes as the eager load (only their
        shapes are kept). :func:`keras_imbalance.compare` decodes such an ``x`` a fold at a
        time, so the memory check below applies to it too.

    Returns
    -------
    ImageFolder
        ``x`` float32 of shape (n, height, width, channels) in [0, 1], ``y`` int64 class ids
        and ``class_names``; unpacks as ``x, y, class_names``; ``.class_indices`` maps each
        name to its id.

    Raises
    ------
    ValueError
        One line each: ``path`` is not a directory; fewer than 2 class folders; no image
        files; a class folder without image files; a class whose every file is unreadable;
        images of different sizes and no ``image_size``; images that would not fit in the
        available memory (checked before any image is decoded: the number of files times
        ``image_size``, or the first image's size, times the channels, times
        :data:`BYTES_PER_VALUE`; :func:`memory_needed` says the figure).

    Warns
    -----
    UserWarning
        Unreadable and zero-byte files are skipped, with their count and a few names.

    Notes
    -----
    :func:`keras_imbalance.class_counts` on the same directory counts the same files without
    opening them, so it also counts the files this function skips.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for name, count in (("cat", 3), ("dog", 1)):
    ...     os.makedirs(os.path.join(root, name))
    ...     for i in range(count):
    ...         Image.fromarray(np.full((4, 6, 3), 255, np.uint8)).save(f"{root}/{name}/{i}.png")
    >>> x, y, class_names = load_image_folder(root)
    >>> x.shape, y.tolist(), class_names
    ((4, 4, 6, 3), [0, 0, 0, 1], ['cat', 'dog'])
    """
    folder = os.fspath(path) if isinstance(path, (str, bytes, os.PathLike)) else None
    if folder is None:
        raise invalid("path", "a path to a directory", path, kind=TypeError)
    folder = os.fsdecode(folder)
    if not os.path.isdir(folder):
        what = "a file" if os.path.exists(folder) else "no such directory"
        raise invalid(
            "path",
            "a directory with one sub-folder of images per class",
            Text(f"{what}: {folder!r}"),
        )
    size = _image_size(image_size)
    check_option("color_mode", color_mode, COLOR_MODES)
    check_option("interpolation", interpolation, INTERPOLATIONS)
    if max_per_class is not None:
        max_per_class = check_number("max_per_class", max_per_class, low=1, integer=True)
    index = image_index(folder, classes, "path")
    if len(index) < 2:
        raise invalid(
            "path",
            "a directory with at least 2 class sub-folders (one per class)",
            Text(f"{folder!r} with the single class folder {list(index)}"),
        )
    empty = [label for label, files in index.items() if not files]
    if len(empty) == len(index):
        raise invalid(
            "path",
            f"image files ({', '.join(IMAGE_SUFFIXES)}) in the class sub-folders",
            Text(f"{folder!r} with no image file in {list(index)[:10]}"),
        )
    if empty:
        raise invalid(
            "path",
            "image files in every class sub-folder",
            Text(f"{folder!r} with no image file in {empty[:10]}"),
        )
    need, shape, count = _needed(index, size, color_mode, max_per_class)
    free = available_memory()  # lazy too: compare decodes a training fold at a time
    if free is not None and need > free:
        raise invalid(
            "image_size",
            f"images that fit in the available memory ({format_bytes(free)}): resize them with a "
            "smaller image_size (--image-size HxW on the command line)",
            Text(
                f"{_size_text(size)}: {count} images of {' x '.join(map(str, shape))} need "
                f"about {format_bytes(need)}"
            ),
        )

    images, shapes = [], []

    def keep(array):
        shapes.append(array.shape[:2])
        if not lazy:
            images.append(array)

    labels, paths, skipped, unreadable_classes = _scan(
        index, size, color_mode, interpolation, max_per_class, keep
    )
    if unreadable_classes:
        text = "; ".join(
            f"class {label!r}: all {len(bad)} file(s) unreadable or empty "
            f"(e.g. {_rel(bad[0], folder)!r})"
            for label, bad in unreadable_classes[:5]
        )
        raise invalid("path", "at least one readable image in every class", Text(text))
    if skipped:
        names = ", ".join(repr(_rel(f, folder)) for f in skipped[:_SHOWN])
        warnings.warn(
            f"load_image_folder: skipped {len(skipped)} unreadable or empty image file(s) of "
            f"the {len(skipped) + len(paths)} read in {folder!r}: {names}"
            + (" ..." if len(skipped) > _SHOWN else ""),
            UserWarning,
            stacklevel=2,
        )
    if size is None:
        sizes = Counter(shapes)
        if len(sizes) > 1:
            example = {}
            for shape, file in zip(shapes, paths, strict=True):
                example.setdefault(shape, _rel(file, folder))
            described = ", ".join(
                f"{h}x{w}: {count} image{'s' if count > 1 else ''} (e.g. {example[(h, w)]!r})"
                for (h, w), count in sizes.most_common(4)
            )
            raise invalid(
                "image_size",
                "(height, width) to resize to (--image-size HxW on the command line): the "
                f"images have different sizes ({described}{' ...' if len(sizes) > 4 else ''})",
                None,
            )
    y = np.asarray(labels, dtype=np.int64)
    if lazy:
        files = ImageFiles(folder, paths, size or shapes[0], color_mode, interpolation)
        return ImageFolder(files, y, list(index))
    x = np.stack(images).astype(np.float32)
    images.clear()  # the 8-bit copies go before the division
    x /= np.float32(255.0)  # in place: no second float32 copy
    return ImageFolder(x, y, list(index))


#: what :meth:`ImageFiles._fresh` makes again in each process (the lock, the cache, counts)
_UNPICKLED = ("_lock", "_row_bytes", "_sized_for", "_slab", "_slot_of", "_row_in", "_used")
_UNPICKLED += ("_tick", "decoded")


class FileNames(Sequence):
    """File names packed in one buffer: a read-only sequence of ``str`` (an int gives a name,
    a slice a list) whose memory is the names' bytes past their common prefix, UTF-8 (lone
    surrogates kept), and one offset a name (4 bytes while the buffer is under 4 GiB),
    instead of a Python string a name (about 50 bytes plus its length, and 8 for its list
    slot). Equal to any sequence of the same names.

    Examples
    --------
    >>> names = FileNames(["/data/cats/1.png", "/data/dogs/2.png"])
    >>> names.prefix, names[1], names[::-1], len(names)
    ('/data/', '/data/dogs/2.png', ['/data/dogs/2.png', '/data/cats/1.png'], 2)
    """

    def __init__(self, names):
        if isinstance(names, FileNames):  # packed already: shared (read-only)
            self.prefix, self.ends, self.data = names.prefix, names.ends, names.data
            return
        try:
            names = [os.fsdecode(n) for n in names]
        except TypeError:
            raise invalid(
                "files", "file names (str, bytes or os.PathLike)", names, kind=TypeError
            ) from None
        self.prefix = os.path.commonprefix(names) if names else ""
        cut = len(self.prefix)
        parts = [n[cut:].encode("utf-8", "surrogatepass") for n in names]
        ends = np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)))
        total = int(ends[-1]) if len(parts) else 0
        self.ends = ends.astype(np.uint32 if total < 2**32 else np.int64)
        self.data = np.frombuffer(b"".join(parts), dtype=np.uint8)

    def __len__(self) -> int:
        return int(self.ends.size)

    def _name(self, i: int) -> str:
        lo = int(self.ends[i - 1]) if i else 0
        tail = self.data[lo : int(self.ends[i])].tobytes()
        return self.prefix + tail.decode("utf-8", "surrogatepass")

    def __getitem__(self, key):
        if isinstance(key, slice):
            return [self._name(i) for i in range(*key.indices(len(self)))]
        i = operator.index(key)
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"file {i} is out of range for {n} files")
        return self._name(i % n)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return f"FileNames({len(self)} names under {self.prefix!r})"


class ImageFiles(RowReader):
    """The images of a folder tree as an array-like whose rows are decoded when asked for.

    ``x[rows]`` / ``x.take(rows)`` (an int, a slice, an int array of any shape, a boolean
    mask) decode only those files and return float32 values in [0, 1] (8-bit values / 255),
    resized to ``image_size`` with ``interpolation``, exactly as :func:`load_image_folder`
    reads them; ``np.asarray(x)`` decodes every row. Only the file names are stored (packed in
    one buffer, :class:`FileNames`: the bytes of each name past their common prefix and 4
    bytes a row), plus the 8-bit pixels of recently read images in one array of at most
    ``cache_bytes`` (least recently used leave first; its bookkeeping is two numpy arrays, 4 bytes a row and 12 a
    cached image, no Python object per image; dropped when the object is pickled, e.g. for a
    worker process).

    Parameters
    ----------
    folder : str
        The folder the files are named relative to in messages.
    files : sequence of str
        One image file per row (kept as :attr:`files`, a :class:`FileNames`).
    image_size : (int, int) or int
        ``(height, width)`` of every row.
    color_mode : {"rgb", "grayscale", "rgba"}
    interpolation : {"bilinear", "nearest", "bicubic", "lanczos", "box"}
    cache_bytes : int, default=64 MiB

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     Image.fromarray(np.full((2, 2, 3), 51 * i, np.uint8)).save(f"{root}/{i}.png")
    >>> x = ImageFiles(root, [f"{root}/{i}.png" for i in range(3)], (2, 2), "rgb", "bilinear")
    >>> x.shape, x[[2, 0]][:, 0, 0, 0].tolist()
    ((3, 2, 2, 3), [0.4000000059604645, 0.0])
    """

    def __init__(self, folder, files, image_size, color_mode, interpolation, cache_bytes=64 << 20):
        self.folder, self.files = str(folder), FileNames(files)
        self.size = _image_size(image_size)
        if self.size is None:
            raise invalid("image_size", "(height, width) of positive ints or an int", None)
        self.color_mode = check_option("color_mode", color_mode, COLOR_MODES)
        self.interpolation = check_option("interpolation", interpolation, INTERPOLATIONS)
        self.shape = (len(self.files), *self.size, _CHANNELS[self.color_mode])
        self.dtype = np.dtype(np.float32)
        self.cache_bytes = int(cache_bytes)
        self._fresh()

    def _fresh(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._row_bytes = int(np.prod(self.shape[1:]))
        self._sized_for = None  # the cache_bytes the slab was laid out for
        self._slab = None  # (slots, h, w, c) uint8, allocated on the first row it keeps
        self._slot_of = self._row_in = self._used = None
        self._tick = 0
        self.decoded = 0  # files decoded (cache misses)

    def __getstate__(self):
        state = self.__dict__.copy()
        for key in _UNPICKLED:
            state.pop(key)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._fresh()

    @property
    def cached(self) -> int:
        """Rows whose 8-bit pixels the cache holds now."""
        with self._lock:
            return 0 if self._row_in is None else int(np.count_nonzero(self._row_in >= 0))

    def _slots(self) -> int:
        """Rows the cache holds at most (its pixels within :attr:`cache_bytes`); lays the
        cache out again when ``cache_bytes`` changed. Call with the lock held."""
        if self._sized_for != self.cache_bytes:
            slots = int(min(self.shape[0], max(0, self.cache_bytes) // max(1, self._row_bytes)))
            self._slab = None
            # bookkeeping: 4 bytes a row of the folder, 12 a slot (never a Python object)
            self._slot_of = np.full(self.shape[0], -1, np.int32) if slots else None
            self._row_in = np.full(slots, -1, np.int32)
            self._used = np.zeros(slots, np.int64)  # the tick of each slot's last use
            self._sized_for = self.cache_bytes
        return self._row_in.size

    def _decode(self, row: int, out: np.ndarray) -> None:
        image = _read(self.files[row], self.size, self.color_mode, self.interpolation)
        if image is None:
            raise ValueError(
                "Invalid value for argument `path`. Expected readable image files. "
                f"Received: {_rel(self.files[row], self.folder)!r}, which Pillow cannot read"
            )
        out[...] = image

    def take(self, rows, axis: int = 0) -> np.ndarray:
        """Rows ``rows`` (an int array of any shape; repeats allowed) as float32 of shape
        ``rows.shape + (height, width, channels)``."""
        if axis != 0:
            raise invalid("axis", "0 (image files are read by row)", axis)
        out = self.pixels(rows).astype(np.float32)
        out /= np.float32(255.0)  # as load_image_folder: float32(v) / float32(255)
        return out

    def pixels(self, rows, out: np.ndarray | None = None) -> np.ndarray:
        """The 8-bit values of rows ``rows`` (an int array of any shape), uint8 of shape
        ``rows.shape + (height, width, channels)``: :meth:`take` is them / 255. ``out``: a
        C-contiguous uint8 array of that many rows to write them into (returned, reshaped).

        Rows the cache holds are copied from its slab; the others are decoded once each
        (a repeated row is copied) and the most recent of them kept, the least recently
        used rows leaving."""
        rows = np.asarray(rows)
        if rows.dtype.kind not in "iu":
            raise invalid("rows", "integer row numbers", rows, kind=TypeError)
        flat = rows.reshape(-1).astype(np.int64)
        n, row_shape = self.shape[0], self.shape[1:]
        if flat.size and (flat.min() < -n or flat.max() >= n):
            bad = int(flat[np.argmax(np.maximum(flat - n + 1, -n - flat))])
            raise IndexError(f"row {bad} is out of range for {n} images")
        flat %= max(n, 1)
        if out is None:
            out = np.empty((flat.size, *row_shape), dtype=np.uint8)
        elif (
            out.dtype != np.uint8
            or out.size != flat.size * self._row_bytes
            or not out.flags.c_contiguous
        ):
            raise invalid(
                "out", f"a C-contiguous uint8 array of {flat.size} rows of {row_shape}", out
            )
        shaped, out = out, out.reshape(flat.size, *row_shape)  # a view (C-contiguous)
        with self._lock:
            slots = self._slots()
            if slots and self._slab is not None:
                self._tick += 1
                where = self._slot_of[flat]
                hit = where >= 0
                self._used[where[hit]] = self._tick
                if hit.all():  # "clip": the slots are valid, and "raise" buffers ``out``
                    np.take(self._slab, where, axis=0, out=out, mode="clip")
                    return shaped.reshape(rows.shape + row_shape)
                at = np.flatnonzero(hit)
                out[at] = self._slab[where[at]]
                missing = np.flatnonzero(~hit)
            else:
                missing = np.arange(flat.size)
        # each missing row decoded once, outside the lock (other threads read meanwhile),
        # into its first place in ``out``; its repeats copied from there
        wanted, first, again = np.unique(flat[missing], return_index=True, return_inverse=True)
        first = missing[first]
        for row, place in zip(wanted.tolist(), first.tolist(), strict=True):
            self._decode(row, out[place])
        if missing.size > wanted.size:
            out[missing] = out[first[again.reshape(-1)]]
        with self._lock:
            self.decoded += int(wanted.size)
            if self._slots():
                self._keep(wanted, first, out)
        return shaped.reshape(rows.shape + row_shape)

    def _keep(self, rows: np.ndarray, places: np.ndarray, out: np.ndarray) -> None:
        """Put the decoded ``rows`` (``out[places]``) in the cache, the most recent last:
        the least recently used slots (empty ones first) take them. Call with the lock
        held."""
        fresh = self._slot_of[rows] < 0  # another thread may have kept some meanwhile
        rows, places = rows[fresh], places[fresh]
        slots = self._row_in.size
        if rows.size > slots:
            rows, places = rows[-slots:], places[-slots:]
        if not rows.size:
            return
        if self._slab is None:  # pages become resident as slots fill
            self._slab = np.empty((slots, *self.shape[1:]), dtype=np.uint8)
        self._tick += 1
        if rows.size < slots:
            victims = np.argpartition(self._used, rows.size - 1)[: rows.size]
        else:
            victims = np.arange(slots)
        old = self._row_in[victims]
        self._slot_of[old[old >= 0]] = -1
        self._row_in[victims] = rows
        self._slot_of[rows] = victims
        self._used[victims] = self._tick
        self._slab[victims] = out[places]

    def __getitem__(self, key):
        rest = ()
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        if isinstance(key, (int, np.integer)):
            return self.take(np.asarray([key]))[0][rest]
        if isinstance(key, slice):
            key = np.arange(self.shape[0])[key]
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        out = self.take(key)
        return out[(slice(None),) * key.ndim + rest] if rest else out

    def __array__(self, dtype=None, copy=None):
        out = self.take(np.arange(self.shape[0]))
        return out if dtype is None else out.astype(dtype, copy=False)

    @property
    def nbytes(self) -> int:
        """Bytes of the decoded float32 array (what ``np.asarray(x)`` would hold)."""
        return int(np.prod(self.shape)) * 4

    def __repr__(self) -> str:
        return (
            f"ImageFiles({len(self.files)} images of {self.folder!r}, "
            f"{' x '.join(map(str, self.shape[1:]))}, float32)"
        )


def _scan(index, size, color_mode, interpolation, max_per_class, keep):
    """Decode the files of ``index`` in order, as :func:`load_image_folder` reads them:
    ``keep(uint8 array)`` gets each readable image (at most ``max_per_class`` per class).
    Returns (labels, paths, skipped files, [(class, its files) of classes with none
    readable])."""
    labels, paths, skipped, unreadable_classes = [], [], [], []
    for label_id, (label, files) in enumerate(index.items()):
        found = 0
        bad_here = []
        for file in files:
            if max_per_class is not None and found >= max_per_class:
                break
            array = _read(file, size, color_mode, interpolation)
            if array is None:
                bad_here.append(file)
                continue
            keep(array)
            labels.append(label_id)
            paths.append(file)
            found += 1
        skipped += bad_here
        if not found:
            unreadable_classes.append((label, bad_here))
    return labels, paths, skipped, unreadable_classes


def memory_needed(path, *, image_size=None, color_mode="rgb", max_per_class=None):
    """(bytes, (height, width, channels), images) that :func:`load_image_folder` would hold.

    Counts the files and reads one image header (none when ``image_size`` is given); decodes
    nothing. The bytes are images x height x width x channels x :data:`BYTES_PER_VALUE`.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for name in ("a", "b"):
    ...     os.makedirs(os.path.join(root, name))
    ...     Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(f"{root}/{name}/0.png")
    >>> memory_needed(root, image_size=(10, 10))
    (3600, (10, 10, 3), 2)
    """
    folder = os.fsdecode(os.fspath(path))
    size = _image_size(image_size)
    check_option("color_mode", color_mode, COLOR_MODES)
    return _needed(image_index(folder, None, "path"), size, color_mode, max_per_class)


def _needed(index, size, color_mode, max_per_class):
    counts = [len(files) for files in index.values()]
    if max_per_class is not None:
        counts = [min(n, max_per_class) for n in counts]
    count = sum(counts)
    if size is None:
        size = _first_size(index) or (0, 0)
    shape = (size[0], size[1], _CHANNELS[color_mode])
    return count * shape[0] * shape[1] * shape[2] * BYTES_PER_VALUE, shape, count


def _first_size(index):
    """(height, width) of the first image whose header Pillow reads (nothing decoded)."""
    from PIL import Image

    for files in index.values():
        for file in files[:5]:
            try:
                with Image.open(file) as image:
                    width, height = image.size
                return height, width
            except Exception:  # unreadable: the loader skips it and says so
                continue
    return None


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable; elsewhere the
    physical memory), or None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n: float) -> str:
    """``n`` bytes in words: ``1.6 TB``, ``4.6 KB`` (powers of 1000)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _size_text(size) -> str:
    return "None (the images' own size)" if size is None else f"{size[0]}x{size[1]}"


def _image_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        height, width = image_size
        ok = all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
            for v in (height, width)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise invalid("image_size", "(height, width) of positive ints, an int or None", image_size)
    return int(height), int(width)


def _read(file, size, color_mode, interpolation):
    """The image as uint8 (h, w, c), or None when Pillow cannot read it (an empty file too)."""
    from PIL import Image

    try:
        if os.path.getsize(file) == 0:
            return None
        with Image.open(file) as image:
            image = image.convert(_PIL_MODES[color_mode])
            if size is not None and image.size != (size[1], size[0]):
                resample = getattr(Image.Resampling, interpolation.upper())
                image = image.resize((size[1], size[0]), resample)
            array = np.asarray(image, dtype=np.uint8)
    except Exception:  # Pillow raises many kinds on a broken file: skipped and counted
        return None
    return array[..., None] if array.ndim == 2 else array


def _rel(file, folder) -> str:
    return os.path.relpath(file, folder)
