"""``compare`` on segmentation masks: images ``(N, H, W, C)``, masks ``(N, H, W)`` of class ids.

The user's model maps an image to per-pixel logits ``(H, W, K)``. The strategies
(:data:`SEGMENTATION_STRATEGIES`) are losses; none resamples images, so every copy trains
on the same rows (each with its own shuffle, as a lone fit):

- ``none``: cross-entropy per pixel (``keras.losses.SparseCategoricalCrossentropy``), the
  baseline, as in the other kinds (``ce``, its name in 0.1, is a deprecated alias; results
  files keep ``ce``, so that files written by 0.1 resume);
- ``weighted_ce_balanced``, ``weighted_ce_median_frequency``: cross-entropy weighted by the
  class of the pixel, ``class_weights(masks, "balanced" | "median_frequency",
  normalize="mean")`` of the training masks;
- ``dice``: soft Dice over the pixels of a batch (:class:`~keras_imbalance.losses.DiceLoss`);
- ``ce+dice``: their sum (:class:`~keras_imbalance.losses.CombinedLoss`, weights 1, 1);
- ``focal_tversky``: :class:`~keras_imbalance.losses.FocalTverskyLoss` (alpha 0.3, beta 0.7,
  gamma 4/3).

Decision: the argmax class of each pixel. Scores over every pixel of a test fold (one
confusion matrix): ``mean_iou`` (mean IoU over the classes present in the masks or the
predictions), ``rare_iou`` (the IoU of the class with the fewest pixels in the data) and
``mean_dice``; each fold row also holds the per-class IoU (``per_class_iou``), the pixel
confusion matrix and the test images holding each class (``test_counts``). Early stopping
watches each copy's validation ``metric`` (mean IoU by default).

Folds and the validation split are stratified on each image's rarest class (the class
present in it with the fewest pixels in the data).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from keras_imbalance import _names
from keras_imbalance._validation import Text, invalid
from keras_imbalance.comparison import _data
from keras_imbalance.comparison._kind import Kind
from keras_imbalance.comparison._settings import SEGMENTATION_METRICS
from keras_imbalance.comparison._strategies import Strategy
from keras_imbalance.targets import analyse


@dataclass(frozen=True)
class SegmentationLossSpec:
    """The loss of one copy: ``ce`` times the (class-weighted) cross-entropy plus an overlap
    term, given by its family parameters as sorted ``(name, value)`` pairs, or None (see
    :class:`~._packed_losses.PackedSegmentationLoss`)."""

    ce: float = 1.0
    class_weight: tuple | None = None
    overlap: tuple | None = None


#: the cross-entropy term of a segmentation loss
CE = "WeightedSparseCategoricalCrossentropy"


@dataclass(frozen=True)
class SegmentationLossStrategy(Strategy):
    """A segmentation loss: the sum (weights 1, as :class:`~keras_imbalance.losses.
    CombinedLoss`) of public losses of :mod:`keras_imbalance.losses`, each a ``(class name,
    options)`` pair of ``terms``. A ``class_weight`` option given as a ``class_weights``
    strategy (``"balanced"``, ``"median_frequency"``) is computed on the training masks; a
    cross-entropy without one weighs every class 1. The packed loss is built from these
    public losses' configs (their ``family()``), so a loss of the family needs no code here."""

    terms: tuple = ((CE, ()),)
    kind = "loss"
    param_field = "name"

    def losses(self, y, n_classes) -> list:
        """The public loss objects this strategy sums, on the training masks ``y``."""
        import inspect

        from keras_imbalance import losses, weights

        out = []
        for class_name, options in self.terms:
            cls = getattr(losses, class_name)
            config = {"from_logits": True, **dict(options)}
            parameter = inspect.signature(cls).parameters.get("class_weight")
            weight = config.get("class_weight")
            if isinstance(weight, str):
                table = weights.class_weights(
                    y,
                    weight,
                    layout="dense",
                    classes=list(range(n_classes)),
                    ignore_class=n_classes,  # the code of void pixels (see masks_of)
                    absent="one",
                    normalize="mean",
                )
                config["class_weight"] = [float(table[c]) for c in range(n_classes)]
            elif parameter is not None and parameter.default is parameter.empty:
                config.setdefault("class_weight", [1.0] * n_classes)
            out.append(cls(**config))
        return out

    def public_loss(self, y, n_classes):
        """The public Keras loss of this strategy trained alone (its void pixels, code
        ``n_classes``, are not left out here)."""
        from keras_imbalance.losses import CombinedLoss

        terms = self.losses(y, n_classes)
        return terms[0] if len(terms) == 1 else CombinedLoss(terms)

    def loss_spec(self, y, n_classes):
        from keras_imbalance.losses._core import family_of

        ce, class_weight, overlap = 0.0, None, None
        for loss in self.losses(y, n_classes):
            if loss.family_name == "overlap":
                overlap = tuple(sorted(family_of(loss).items()))
            else:  # the cross-entropy: weighted, of no other softmax-family parameter
                if family_of(loss):
                    raise ValueError(f"{type(loss).__name__} is not a packed segmentation term")
                ce += 1.0
                class_weight = tuple(loss.current_class_weight)
        if class_weight is not None and all(w == 1.0 for w in class_weight):
            class_weight = None
        return SegmentationLossSpec(ce, class_weight, overlap)


def _weighted(strategy: str) -> tuple:
    return ((CE, (("class_weight", strategy),)),)


def _registry() -> dict[str, Strategy]:
    out = [
        SegmentationLossStrategy("none", "cross-entropy per pixel"),
        SegmentationLossStrategy(
            "weighted_ce_balanced",
            "cross-entropy weighted by class_weights(masks, 'balanced')",
            terms=_weighted("balanced"),
        ),
        SegmentationLossStrategy(
            "weighted_ce_median_frequency",
            "cross-entropy weighted by class_weights(masks, 'median_frequency') (SegNet)",
            terms=_weighted("median_frequency"),
        ),
        SegmentationLossStrategy(
            "dice", "soft Dice over the pixels of a batch", terms=(("DiceLoss", ()),)
        ),
        SegmentationLossStrategy(
            "ce+dice",
            "cross-entropy + soft Dice (weights 1, 1)",
            terms=((CE, ()), ("DiceLoss", ())),
        ),
        SegmentationLossStrategy(
            "focal_tversky",
            "focal Tversky, alpha 0.3, beta 0.7, gamma 4/3 (Abraham & Khan 2019)",
            terms=(("FocalTverskyLoss", ()),),
        ),
    ]
    return {s.name: s for s in out}


#: Every strategy of a segmentation comparison, by name (all run by default).
SEGMENTATION_STRATEGIES: dict[str, Strategy] = _registry()

_ALIASES = {
    "crossentropy": "none",
    "weighted_ce": "weighted_ce_balanced",
    "balanced": "weighted_ce_balanced",
    "median_frequency": "weighted_ce_median_frequency",
    "ce_dice": "ce+dice",
    "dice+ce": "ce+dice",
}


# --------------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------------


def pixel_confusion(masks: np.ndarray, logits: np.ndarray, k: int) -> np.ndarray:
    """``(K, K)`` counts of (true class, argmax class) over every pixel (void pixels, code
    ``K``, are left out)."""
    pred = np.argmax(logits, axis=-1).reshape(-1)
    true = np.asarray(masks, dtype=np.int64).reshape(-1)
    kept = true < k
    return np.bincount(true[kept] * k + pred[kept], minlength=k * k).reshape(k, k)


def mask_scores(cm: np.ndarray, rare: int) -> dict:
    """``mean_iou``, ``rare_iou``, ``mean_dice`` and ``per_class_iou`` of pixel counts ``cm``
    (the package's :func:`~keras_imbalance.metrics.from_confusion`; a class absent from both
    masks and predictions has a NaN IoU and leaves the means)."""
    from keras_imbalance import metrics

    iou = np.asarray(metrics.from_confusion(cm, "per_class_iou"), dtype=np.float64)
    return {
        "metrics": {
            "mean_iou": metrics.from_confusion(cm, "mean_iou"),
            "rare_iou": float(iou[rare]),
            "mean_dice": metrics.from_confusion(cm, "mean_dice"),
        },
        "per_class_iou": iou.tolist(),
    }


class SegmentationTarget:
    """What the fold engine needs to know about a segmentation target (see :mod:`._fold`)."""

    kind = "segmentation"

    def __init__(self, k: int, strata: np.ndarray, rare: int):
        self.k = int(k)
        self.strata = strata
        self.rare = int(rare)

    def check_model(self, model, k, sample) -> None:
        from keras_imbalance.comparison._packing import model_output

        out = model_output(model, sample)
        want = (*sample.shape[1:3], k)
        if out.shape[1:] != want:
            raise invalid(
                "model_fn",
                f"a model returning per-pixel logits of shape {(None, *want)} (height and width "
                f"of the masks, one logit per class, no softmax)",
                f"a model with output shape {(None, *out.shape[1:])}",
            )

    def packed_loss(self, specs, k):
        from keras_imbalance.comparison._packed_losses import PackedSegmentationLoss

        return PackedSegmentationLoss(
            [s.ce for s in specs],
            [[1.0] * k if s.class_weight is None else list(s.class_weight) for s in specs],
            [None if s.overlap is None else dict(s.overlap) for s in specs],
        )

    def tune(self, y, logits, metric, rule="argmax"):
        return None  # argmax only

    def rule_score(self, metric, y, logits, rule, prior=None) -> float:
        value = mask_scores(pixel_confusion(y, logits, self.k), self.rare)["metrics"][metric]
        return value if math.isfinite(value) else 0.0

    def scores(self, y, logits, threshold, max_scores, seed, prior=None, costs=None) -> dict:
        cm = pixel_confusion(y, logits, self.k)
        present = np.stack([np.any(y == c, axis=tuple(range(1, y.ndim))) for c in range(self.k)])
        return {
            **mask_scores(cm, self.rare),
            "confusion": cm.astype(np.int64).tolist(),
            "test_counts": present.sum(axis=1).astype(int).tolist(),
            "scores": None,
            "_all_scores": None,
        }


# --------------------------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------------------------


def masks_of(y, x_shape: tuple, ignore_class=None) -> tuple[np.ndarray, list[str]]:
    """``(masks as class codes 0..K-1, class names)`` of ``y`` ``(N, H, W)`` or
    ``(N, H, W, 1)`` matching images ``x`` ``(N, H, W, ...)``; pixels of ``ignore_class``
    (void) get the code ``K`` and name no class."""
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError):
        raise invalid("y", "masks of class ids of shape (n_samples, height, width)", y) from None
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    want = tuple(x_shape[:3])
    if arr.ndim != 3 or arr.shape != want:
        raise invalid(
            "y",
            f"masks of class ids of shape {want} (the images' number, height and width)",
            Text(f"shape {arr.shape}"),
        )
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        raise invalid("y", "masks of integer class ids", Text("non-integer values"))
    if arr.dtype.kind not in "biuf":
        raise invalid("y", "masks of integer class ids", Text(f"dtype {arr.dtype}"))
    void = None
    if ignore_class is not None:
        if isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer)):
            raise invalid("ignore_class", "an integer class id (e.g. 255) or None", ignore_class)
        void = arr == ignore_class
        if not void.any():
            raise invalid("ignore_class", "a class id that occurs in the masks", ignore_class)
    # the classes, void pixels left out: read by targets, the package's one reader of y
    ids = np.asarray(analyse(arr, layout="dense", ignore_class=ignore_class).info.classes)
    if ids.size < 2:
        rest = "" if void is None else f" besides ignore_class={ignore_class}"
        raise invalid("y", "masks with at least 2 classes", f"only class {ids.tolist()}{rest}")
    codes = np.searchsorted(ids, arr).astype(np.int64)
    if void is not None:
        codes[void] = ids.size
    return codes, [str(i) for i in ids.tolist()]


def rarest_class(masks: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str], int]:
    """``(each image's stratum, the strata names, the rarest class)``: an image's stratum is
    the class present in it with the fewest pixels in all the masks."""
    k = len(names)
    pixels = np.bincount(masks.reshape(-1), minlength=k + 1)[:k]  # code k: void pixels
    order = np.argsort(pixels, kind="stable")  # rarest first
    present = np.stack([np.any(masks == c, axis=(1, 2)) for c in order], axis=1)
    key = order[np.argmax(present, axis=1)]
    values, codes = np.unique(key, return_inverse=True)
    return codes.astype(np.int64), [f"class {names[v]}" for v in values], int(order[0])


class SegmentationKind(Kind):
    """Masks of class ids ``(N, H, W)`` for images ``(N, H, W[, C])``, a user's per-pixel
    model; the strategies are losses, all run by default, ``none`` is the baseline."""

    name = "segmentation"
    strategies = SEGMENTATION_STRATEGIES
    default_strategies = tuple(SEGMENTATION_STRATEGIES)
    aliases = _ALIASES
    deprecated = _names.RENAMED["segmentation"]
    metrics = SEGMENTATION_METRICS
    default_metric = "mean_iou"
    first = ("none",)
    default_models = {}

    def features(self, x):
        xa, spec = _data.features(x)
        if spec is not None or xa.ndim < 3:
            raise invalid(
                "x",
                "images of shape (n_samples, height, width[, channels]) for segmentation masks",
                Text(f"shape {tuple(getattr(xa, 'shape', ()))}"),
            )
        return xa, spec

    ignore_class = None

    def ignoring(self, ignore_class):
        out = copy.copy(self)
        out.ignore_class = ignore_class
        return out

    def read(self, y, xa):
        return masks_of(y, xa.shape, self.ignore_class)

    def strata(self, labels, names):
        strata, strata_names, rare = rarest_class(labels, names)
        return strata, strata_names, {"rare": rare}

    def counts(self, labels, names):
        return np.bincount(labels.reshape(-1), minlength=len(names) + 1)[: len(names)]

    def models(self, model_fn):
        if model_fn is None:
            raise invalid(
                "model_fn",
                "a builder model_fn(input_shape, n_classes) of a model returning per-pixel "
                "logits (there is no default segmentation model)",
                None,
            )
        return _data.builders(model_fn, {})

    def target(self, labels, names, strata, facts, settings):
        return SegmentationTarget(len(names), strata, facts["rare"])

    def collector(self, members, label, target, settings, seeds):
        raise invalid("strategies", "no 'ensemble' for a segmentation target", label)

    def config_extra(self, names, facts):
        return {
            "target": "segmentation",
            "metrics": list(SEGMENTATION_METRICS),
            "fold_columns": ["per_class_iou", "test_counts"],
            "baseline": "none",
            "prefer": None,
            "rare_class": names[facts["rare"]],
            "strata": "each image's rarest class",
            **({} if self.ignore_class is None else {"ignore_class": int(self.ignore_class)}),
        }


KIND = SegmentationKind()


__all__ = [
    "SEGMENTATION_STRATEGIES",
    "SegmentationLossStrategy",
    "SegmentationLossSpec",
    "SegmentationKind",
    "SegmentationTarget",
    "mask_scores",
    "masks_of",
    "pixel_confusion",
    "rarest_class",
]
