"""What to hand to ``model.fit``: weights for arrays, multi-output dicts and streamed batches.

Numpy only, never a deep-learning framework: the weighers of a stream of batches are built
here; :func:`keras_imbalance.weighted` (in :mod:`keras_imbalance.sampling._weighted`) fits them to
Keras, torch and tf.data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from keras_imbalance._validation import check_batch, invalid
from keras_imbalance.targets import _as_array, analyse, class_counts
from keras_imbalance.weights._core import _analysis_from_counts, _lookup, _resolve, _Resolved


def _encoded(y_arr: np.ndarray, analysis) -> np.ndarray:
    """String labels become their class ids (int32); anything else is returned as given."""
    if analysis.info.classes.dtype.kind in "USO" and analysis.info.encoding == "index":
        return np.maximum(analysis.labels, 0).astype(np.int32).reshape(y_arr.shape)
    return y_arr


class _Weighter:
    """Resolved weights of one output, applicable to the training targets and to any later batch."""

    def __init__(self, resolved: _Resolved, layout, ignore_class):
        self.resolved = resolved
        self.layout = layout
        self.ignore_class = ignore_class

    def __call__(self, y, sample_weight=None, mask=None, *, name="y", part=None, source=None):
        arr = _as_array(y, name)
        analysis = analyse(
            arr,
            layout=self.layout,
            mask=mask,
            ignore_class=self.ignore_class,
            classes=self.resolved.classes,
            name=name,
            classes_from=source or "the weighted targets",
            label=part,
        )
        return _encoded(arr, analysis), _lookup(
            analysis, _resolve(analysis, self.resolved), sample_weight
        )


def _fit_one(y, class_weight, sample_weight, layout, mask, ignore_class, classes, options):
    arr = _as_array(y)
    analysis = analyse(arr, layout=layout, mask=mask, ignore_class=ignore_class, classes=classes)
    resolved = _resolve(analysis, class_weight, **options)
    weighter = _Weighter(resolved, analysis.info.layout, ignore_class)
    return _encoded(arr, analysis), _lookup(analysis, resolved, sample_weight), weighter


def _split_per_output(names, settings: dict) -> dict:
    """{setting: value} -> {output: {setting: value}}; a dict keyed by output names is per output."""
    out = {name: {} for name in names}
    outputs = set(names)
    for key, value in settings.items():
        keys = set(value) if isinstance(value, Mapping) else set()
        per_output = bool(keys) and keys <= outputs
        if keys & outputs and not per_output:
            raise invalid(
                key,
                f"a dict keyed by output names {sorted(outputs)} or one setting for every output",
                value,
            )
        for name in names:
            out[name][key] = value.get(name) if per_output else value
    return out


def fit_kwargs(
    y: Any,
    class_weight: Any = "balanced",
    *,
    sample_weight: Any = None,
    layout: Any = None,
    mask: Any = None,
    ignore_class: Any = None,
    classes: Any = None,
    validation_data: tuple | None = None,
    **options: Any,
) -> dict:
    """Keyword arguments for ``model.fit`` that weight every target layout correctly.

    ``model.fit(x, **fit_kwargs(y, "balanced"), epochs=...)`` replaces Keras' ``class_weight``
    (which is only right for one output with one label per sample) by per-element sample
    weights from :func:`sample_weights`.

    Parameters
    ----------
    y : array-like or dict of array-like
        Training targets in any layout; a dict ``{output_name: y}`` for a multi-output model.
    class_weight : str, dict, callable or None, default='balanced'
        As in :func:`sample_weights`. For a multi-output model, a dict keyed by output names
        gives one setting per output (None: weight 1); anything else applies to every output.
    sample_weight : array-like, optional
        The user's per-sample (or per-element) weights, multiplied in. May be per output.
    layout, mask, ignore_class, classes : optional
        As in :func:`keras_imbalance.describe`; each may be a dict keyed by output names.
    validation_data : tuple, optional
        ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``. Weighted with the class
        weights computed on the training ``y`` so validation loss is comparable.
    **options
        Strategy options (``normalize``, ``clip``, ``absent``, ``ref``, ``mu``, ``beta``...).

    Returns
    -------
    dict
        ``{"y": ..., "sample_weight": ...}`` plus ``"validation_data"`` when given. ``y`` is
        the input unchanged, except that string labels are replaced by their int32 class ids.

    Examples
    --------
    >>> kw = fit_kwargs([0, 0, 0, 1], "balanced")
    >>> kw["sample_weight"].tolist()
    [0.6666666865348816, 0.6666666865348816, 0.6666666865348816, 2.0]
    """
    settings = {
        "class_weight": class_weight,
        "sample_weight": sample_weight,
        "layout": layout,
        "mask": mask,
        "ignore_class": ignore_class,
        "classes": classes,
    }
    if isinstance(y, Mapping):
        if not y:
            raise invalid("y", "a non-empty dict {output_name: targets}", y)
        per = _split_per_output(list(y), settings)
        ys, sws, weighters = {}, {}, {}
        for name, target in y.items():
            s = per[name]
            ys[name], sws[name], weighters[name] = _fit_one(
                target,
                s["class_weight"],
                s["sample_weight"],
                s["layout"],
                s["mask"],
                s["ignore_class"],
                s["classes"],
                options,
            )
        _same_length(ys)
        result = {"y": ys, "sample_weight": sws}
    else:
        ys, sws, weighters = _fit_one(
            y, class_weight, sample_weight, layout, mask, ignore_class, classes, options
        )
        result = {"y": ys, "sample_weight": sws}
    if validation_data is not None:
        result["validation_data"] = _weighted_validation(validation_data, weighters)
    return result


def _same_length(ys: dict) -> None:
    lengths = {name: len(v) for name, v in ys.items()}
    if len(set(lengths.values())) > 1:
        raise invalid("y", "the same number of samples for every output", lengths)


def _weighted_validation(validation_data, weighters):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise invalid(
            "validation_data",
            "(x_val, y_val) or (x_val, y_val, sample_weight_val)",
            validation_data,
            kind=TypeError,
        )
    x_val, y_val = validation_data[0], validation_data[1]
    sw_val = validation_data[2] if len(validation_data) == 3 else None
    if isinstance(weighters, Mapping):
        if not isinstance(y_val, Mapping) or set(y_val) != set(weighters):
            raise invalid(
                "validation_data",
                f"y_val as a dict with keys {sorted(weighters)}",
                type(y_val).__name__,
                kind=TypeError,
            )
        ys, sws = {}, {}
        for name, w in weighters.items():
            sw = sw_val.get(name) if isinstance(sw_val, Mapping) else sw_val
            ys[name], sws[name] = w(
                y_val[name],
                sw,
                name="validation_data",
                part=f"y_val[{name!r}]",
                source=f"the training targets of output {name!r}",
            )
        return x_val, ys, sws
    y_out, sw = weighters(
        y_val, sw_val, name="validation_data", part="y_val", source="the training targets"
    )
    return x_val, y_out, sw


# --------------------------------------------------------------------------- streamed data


def _weighters_for_stream(data, class_weight, layout, ignore_class, classes, options):
    """Resolve weights once, counting the stream first when a strategy needs counts."""
    needs_counts = isinstance(class_weight, str) or callable(class_weight)
    if not needs_counts:
        if class_weight is not None and not isinstance(class_weight, Mapping):
            raise invalid(
                "class_weight",
                "a strategy name, a {class: weight} dict, a callable or None",
                class_weight,
                kind=TypeError,
            )
        if classes is None and class_weight is not None:
            classes = sorted(class_weight, key=lambda k: (isinstance(k, str), k))
        if class_weight is None and classes is None:
            raise invalid("classes", "the list of classes when class_weight is None", classes)
        counts = dict.fromkeys(classes, 1)
    else:
        if isinstance(data, Iterator):
            raise invalid(
                "class_weight",
                "a {class: weight} dict for a one-shot generator or iterator (counting it would "
                "consume it): use class_weights(class_counts(...)) on a re-iterable source",
                class_weight,
            )
        source = iter(data) if isinstance(data, (list, tuple)) else data
        counts = class_counts(source, layout=layout, ignore_class=ignore_class, classes=classes)
    resolved = _resolve(_analysis_from_counts(counts, classes), class_weight, **options)
    return _Weighter(resolved, layout, ignore_class)


def _weigh_batch(batch, weighter):
    """``(x, y, sample_weight)`` of one ``(x, y[, sample_weight])`` batch (numpy weights)."""
    batch = check_batch("data", batch, "batches shaped (x, y) or (x, y, sample_weight)")
    x, y = batch[0], batch[1]
    sw = batch[2] if len(batch) == 3 else None
    _, weights = weighter(
        y, None if sw is None else _as_array(sw, "sample_weight"), name="data", part="a y batch"
    )
    return x, y, weights
