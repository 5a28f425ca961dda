"""Default model builders for small tabular data and small images (Keras 3, any backend).

All follow the ``model_fn(input_shape, n_classes)`` contract of :func:`keras_imbalance.compare`:
they return a compiled ``keras.Model`` mapping ``(batch, *input_shape)`` features (standardised
by the comparison for a 2-D table; higher-rank inputs are flattened first) to ``n_classes``
logits (no softmax). The engine keeps the optimizer and replaces the loss.

The table models also have a ``packed(input_shape, n_classes, copies)`` attribute: the same network
``copies`` times in one model whose layers hold the copies' weights along a leading axis
(:class:`~keras_imbalance.comparison._packing.PackedDense`, the layers of
:mod:`keras_imbalance.models`), so the comparison trains every strategy of a fold with one
matrix product per layer instead of one per copy. The image model :func:`cnn_model` has none:
the comparison builds one copy of it per strategy. ``linear_model`` and
``easy_ensemble_model`` set ``fixed_epochs`` (trained that many epochs, not early-stopped).
:func:`with_variants` gives a builder learning-rate / weight-decay variants, trained as more
copies of the same packed fit (:data:`DEFAULT_VARIANTS`: the measured sets; not a default).
"""

from __future__ import annotations

import inspect
import math

from keras_imbalance._validation import check_number, check_option, check_shape, invalid

__all__ = [
    "linear_model",
    "mlp_model",
    "cnn_model",
    "easy_ensemble_model",
    "with_options",
    "with_variants",
    "DEFAULT_MODELS",
    "DEFAULT_VARIANTS",
]


def _dense(keras, copies, units, **kwargs):
    """``Dense(units)``, or ``copies`` independent ones packed in one layer."""
    if copies is None:
        return keras.layers.Dense(units, **kwargs)
    from keras_imbalance.comparison._packing import PackedDense

    return PackedDense(copies, units, **kwargs)


def _flatten(keras, shape, copies) -> list:
    """Flatten rows of rank > 1 (per copy: ``(B, C, ...) -> (B, C, prod)``)."""
    if len(shape) == 1:
        return []
    if copies is None:
        return [keras.layers.Flatten()]
    return [keras.layers.Reshape((copies, -1))]


def _model(keras, shape, layers, name, copies):
    """A Sequential model (one copy) or its packed form (``copies``; no input-shape check)."""
    if copies is None:
        return keras.Sequential([keras.Input(shape), *layers], name=name)
    from keras_imbalance.comparison._packing import PackedSequential

    return PackedSequential(layers, name=f"packed_{name}")


def _packed(build, builder):
    """``builder``'s ``packed(input_shape, n_classes, copies, **options)``: ``build`` with
    its defaults, updated by ``options`` (the builder's keywords)."""
    defaults = dict(builder.__kwdefaults__)

    def packed(input_shape, n_classes, copies, **options):
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise invalid("options", f"keywords of {builder.__name__}", unknown, kind=TypeError)
        return build(input_shape, n_classes, copies, **{**defaults, **options})

    return packed


def _linear(input_shape, n_classes, copies, *, l2, learning_rate):
    import keras

    shape = check_shape("input_shape", input_shape)
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    layers = _flatten(keras, shape, copies)
    layers.append(_dense(keras, copies, n_classes, kernel_regularizer=keras.regularizers.L2(l2)))
    model = _model(keras, shape, layers, "linear", copies)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def _mlp(
    input_shape,
    n_classes,
    copies,
    *,
    width,
    dropout,
    weight_decay,
    learning_rate,
    embeddings=None,
    sigma=0.1,
):
    import keras

    shape = check_shape("input_shape", input_shape)
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    embeddings = check_option("embeddings", embeddings, (None, "periodic"))
    layers = _flatten(keras, shape, copies)
    if embeddings == "periodic":
        from keras_imbalance.models import PeriodicEmbedding

        layers.append(PeriodicEmbedding(sigma=sigma, copies=copies, name="embedding"))
    # packed: one dropout mask per row, shared by the copies (each copy still sees a fresh
    # Bernoulli(1 - dropout) mask per row and unit, as alone; the copies' weights stay apart)
    layers += [
        _dense(keras, copies, width, activation="relu"),
        keras.layers.Dropout(dropout, noise_shape=None if copies is None else (None, 1, width)),
        _dense(keras, copies, n_classes),
    ]
    model = _model(keras, shape, layers, "mlp", copies)
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def linear_model(input_shape, n_classes, *, l2=1e-3, learning_rate=3e-2):
    """Regularised linear (multinomial logistic) model: one ``Dense(n_classes)`` layer.

    ``logits = x W + b`` with an L2 penalty ``l2 * ||W||^2`` on the kernel, trained with Adam.
    The Keras counterpart of scikit-learn's ``LogisticRegression``, which holds its own on
    small tabular data (see docs/benchmarks.md).

    The loss is convex, so the model is trained to convergence, like ``LogisticRegression``:
    the function's attribute ``fixed_epochs = 50`` tells :func:`keras_imbalance.compare` and
    :func:`~keras_imbalance.comparison.fit_strategy` to train it 50 epochs (at most their
    ``epochs``) on the whole training fold instead of stopping on the validation part, which,
    with a few minority rows there, stops far too early (docs/benchmarks.md). Set the same
    attribute on your own builder to get this behaviour.

    Parameters
    ----------
    input_shape : tuple of int, or int
        Shape of one row (``(n_features,)`` for a table; an int is read as ``(n,)``);
        higher-rank rows are flattened.
    n_classes : int
        Number of classes (>= 2); the model returns that many logits.
    l2 : float, default=1e-3
        L2 penalty on the kernel.
    learning_rate : float, default=3e-2
        Adam's learning rate.

    Returns
    -------
    keras.Model
        Compiled with Adam (the loss is set by the comparison engine).

    Examples
    --------
    >>> from keras_imbalance.comparison import linear_model
    >>> linear_model((8,), 2).output_shape
    (None, 2)
    """
    return _linear(input_shape, n_classes, None, l2=l2, learning_rate=learning_rate)


linear_model.fixed_epochs = 50
linear_model.packed = _packed(_linear, linear_model)


def mlp_model(
    input_shape,
    n_classes,
    *,
    width=64,
    dropout=0.2,
    weight_decay=1e-3,
    learning_rate=3e-3,
    embeddings=None,
    sigma=0.1,
):
    """Small MLP tuned for small tabular data: ``Dense(width, relu) -> Dropout -> Dense(K)``.

    One hidden layer of ``width`` ReLU units with dropout, trained with AdamW (decoupled weight
    decay). Wider or deeper nets over-fit the few minority samples of typical imbalanced tabular
    sets (see docs/benchmarks.md for the measurements behind these defaults).
    ``embeddings="periodic"`` first maps each feature to periodic embeddings
    (:class:`keras_imbalance.models.PeriodicEmbedding`, 16 frequencies of initial scale
    ``sigma``, 8 outputs per feature; Gorishniy et al. 2022); the packed form has them too.

    Parameters
    ----------
    input_shape : tuple of int, or int
        Shape of one row (``(n_features,)`` for a table; an int is read as ``(n,)``);
        higher-rank rows are flattened.
    n_classes : int
        Number of classes (>= 2); the model returns that many logits.
    width : int, default=64
        Hidden units.
    dropout : float, default=0.2
        Dropout rate after the hidden layer.
    weight_decay : float, default=1e-3
        AdamW's decoupled weight decay.
    learning_rate : float, default=3e-3
        AdamW's learning rate.
    embeddings : {None, "periodic"}, default=None
        Periodic embeddings of the features before the hidden layer.
    sigma : float, default=0.1
        Standard deviation of the embeddings' initial frequencies.

    Returns
    -------
    keras.Model
        Compiled with AdamW (the loss is set by the comparison engine).

    Examples
    --------
    >>> from keras_imbalance.comparison import mlp_model
    >>> mlp_model((8,), 3).output_shape
    (None, 3)
    """
    return _mlp(
        input_shape,
        n_classes,
        None,
        width=width,
        dropout=dropout,
        weight_decay=weight_decay,
        learning_rate=learning_rate,
        embeddings=embeddings,
        sigma=sigma,
    )


mlp_model.packed = _packed(_mlp, mlp_model)


def cnn_model(
    input_shape,
    n_classes,
    *,
    filters=(16, 32),
    dropout=0.25,
    learning_rate=1e-3,
):
    """Small CNN for small images: two ``Conv2D -> MaxPooling2D`` blocks and a Dense head.

    ``Conv2D(filters[0], 3, relu) -> MaxPool(2) -> Conv2D(filters[1], 3, relu) -> MaxPool(2)
    -> Flatten -> Dropout -> Dense(n_classes)`` (``same`` padding, so 8 x 8 digits work as
    well as 64 x 64 photos), trained with Adam. The default model of ``keras-imbalance compare
    DIR`` on an image folder; a baseline to compare strategies with, not a strong image
    classifier (bring your own ``model_fn`` for that).

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` (``(height, width)`` is read as one channel), pixel
        values as :func:`keras_imbalance.datasets.load_image_folder` returns them (in [0, 1]).
    n_classes : int
        Number of classes (>= 2); the model returns that many logits (no softmax).
    filters : tuple of two int, default=(16, 32)
        Filters of the two convolution blocks.
    dropout : float, default=0.25
        Dropout rate before the Dense head.
    learning_rate : float, default=1e-3
        Adam's learning rate.

    Returns
    -------
    keras.Model
        Compiled with Adam (the loss is set by the comparison engine).

    Examples
    --------
    >>> from keras_imbalance.comparison import cnn_model
    >>> cnn_model((8, 8, 1), 3).output_shape
    (None, 3)
    """
    import keras

    shape = check_shape("input_shape", input_shape)
    if len(shape) not in (2, 3):
        raise invalid(
            "input_shape", "(height, width, channels) or (height, width) for an image", shape
        )
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    try:
        first, second = (int(f) for f in filters)
    except (TypeError, ValueError):
        raise invalid("filters", "two positive ints", filters, kind=TypeError) from None
    if min(first, second) < 1:
        raise invalid("filters", "two positive ints", filters)
    dropout = check_number("dropout", dropout, low=0, high=1, high_inclusive=False)
    layers = [keras.Input(shape)]
    if len(shape) == 2:
        layers.append(keras.layers.Reshape((*shape, 1)))
    for count in (first, second):
        layers += [
            keras.layers.Conv2D(count, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2, padding="same"),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(n_classes),
    ]
    model = keras.Sequential(layers, name="cnn")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def with_options(builder, /, **options):
    """``builder`` with keyword ``options``, keeping what :func:`~keras_imbalance.compare`
    reads from a builder: its packed form (given the same options) and ``fixed_epochs``.

    ``functools.partial(mlp_model, width=32)`` loses both (``compare`` then builds one model
    per strategy copy and early-stops a builder meant to run a fixed number of epochs).

    Parameters
    ----------
    builder : callable
        A ``model_fn(input_shape, n_classes, **options)``, e.g. :func:`mlp_model` or
        :func:`keras_imbalance.models.packed_ensemble`.
    **options
        Its keyword arguments.

    Returns
    -------
    callable
        ``model_fn(input_shape, n_classes)``; its name is the builder's, its qualified name
        lists the options (``compare``'s results-file fingerprint tells variants apart).

    Examples
    --------
    >>> from keras_imbalance.comparison import mlp_model, with_options
    >>> periodic = with_options(mlp_model, embeddings="periodic")
    >>> periodic.__qualname__
    "mlp_model(embeddings='periodic')"
    """
    if not callable(builder):
        raise invalid(
            "builder", "a model_fn(input_shape, n_classes, **options)", builder, kind=TypeError
        )
    try:
        inspect.signature(builder).bind_partial((1,), 2, **options)
    except TypeError:
        raise invalid(
            "options",
            f"keyword arguments of {getattr(builder, '__name__', builder)}",
            sorted(options),
            kind=TypeError,
        ) from None
    except ValueError:  # no signature (a builtin): checked at the first call
        pass

    def configured(input_shape, n_classes):
        return builder(input_shape, n_classes, **options)

    packed = getattr(builder, "packed", None)
    if packed is not None:

        def packed_form(input_shape, n_classes, copies):
            return packed(input_shape, n_classes, copies, **options)

        configured.packed = packed_form
    text = ", ".join(f"{k}={v!r}" for k, v in sorted(options.items()))
    return _keep_attributes(configured, builder, f"({text})", f"(input_shape, n_classes, {text})")


def _keep_attributes(configured, builder, suffix: str, doc: str):
    """``configured`` (a variation of ``builder``) with the builder's ``fixed_epochs``, name,
    module and source, a qualified name ending in ``suffix`` (the results-file fingerprint
    tells variations apart) and a docstring: the builder's name followed by ``doc``."""
    if getattr(builder, "fixed_epochs", None) is not None:
        configured.fixed_epochs = builder.fixed_epochs
    name = getattr(builder, "__name__", type(builder).__name__)
    configured.__name__ = name
    configured.__qualname__ = f"{getattr(builder, '__qualname__', name)}{suffix}"
    configured.__module__ = getattr(builder, "__module__", configured.__module__)
    configured.__doc__ = f"{name}{doc}"
    configured.__wrapped__ = builder  # inspect.getsource: the builder's own source
    return configured


#: What a variant may set, and its bounds.
_VARIANT_KEYS = {"learning_rate": "> 0", "weight_decay": ">= 0", "label_smoothing": "in [0, 1)"}


def with_variants(builder, /, *variants, choose="best"):
    """``builder`` carrying hyperparameter variants that :func:`~keras_imbalance.compare`
    trains as more copies of the same packed fit, each strategy keeping the variant its
    validation rows prefer (``choose="best"``) or averaging them all (``choose="average"``).

    Every strategy's copy is trained once with the builder's own optimizer settings and
    once per variant (each variant: a dict of absolute ``learning_rate`` and/or
    ``weight_decay`` values replacing the optimizer's, and/or a ``label_smoothing`` ``e``
    of the loss's targets, ``(1 - e) onehot(y) + e / K``, for one class per row). Per
    strategy and decision rule the variant whose early-stopped copy scores best on the
    fold's validation rows (the comparison's metric; ties keep the builder's own settings)
    decides, refitted like any copy; the ensemble averages the kept variants.
    ``choose="average"`` chooses nothing: a strategy's class probabilities are the mean of
    its variant copies' probabilities (the early-stopped copies' for a tuned threshold, the
    refitted copies' where they decide), so no choice is fitted to the noise of a few
    validation rows. The copies share one optimizer: Adam's, AdamW's or SGD's step is
    linear in the learning rate and decoupled decay is ``theta -= lr * wd * theta``, so each
    copy's step is the shared step rescaled (``theta + f (theta_shared - theta) + d
    theta``, ``f = lr_c / lr``, ``d = lr_c (wd - wd_c)``): the same weights as a lone fit
    with that copy's own optimizer (on the JAX backend inside the compiled fold, elsewhere
    in the packed Keras fit); label smoothing is a per-copy constant of the packed loss.
    The optimizer needs a constant learning rate.

    Parameters
    ----------
    builder : callable
        A ``model_fn(input_shape, n_classes)`` returning a compiled model (e.g.
        :func:`mlp_model`, or one made by :func:`with_options`).
    *variants : dict
        Each ``{"learning_rate": float > 0, "weight_decay": float >= 0, "label_smoothing":
        float in [0, 1)}`` (any key may be left out: the builder's value; no smoothing).
        None given: the measured set of a default model (:data:`DEFAULT_VARIANTS`).
    choose : {"best", "average"}, default="best"
        Per strategy and decision rule, keep the variant whose early-stopped copy scores
        best on the validation rows, or average the probabilities of every variant's copy.

    Returns
    -------
    callable
        ``model_fn(input_shape, n_classes)`` (the builder's own model, packed form and
        ``fixed_epochs``) with ``variants`` and ``choose`` attributes; its qualified name
        lists them (the results-file fingerprint tells it from the builder alone, and one
        policy from the other).

    Examples
    --------
    >>> from keras_imbalance.comparison import mlp_model, with_variants
    >>> tuned = with_variants(mlp_model, {"learning_rate": 1e-2}, {"weight_decay": 1e-2})
    >>> tuned.variants
    ({'learning_rate': 0.01}, {'weight_decay': 0.01})
    >>> with_variants(mlp_model, choose="average").choose
    'average'
    """
    if not callable(builder):
        raise invalid("builder", "a model_fn(input_shape, n_classes)", builder, kind=TypeError)
    if not isinstance(choose, str):
        raise invalid("choose", f"one of {list(CHOOSE)}", choose, kind=TypeError)
    if choose not in CHOOSE:
        raise invalid("choose", f"one of {list(CHOOSE)}", choose)
    if not variants:
        named = [k for k, b in DEFAULT_MODELS.items() if b is builder]
        if not named:
            raise invalid(
                "variants",
                "at least one dict of learning_rate / weight_decay (only the default models "
                f"{sorted(DEFAULT_VARIANTS)} have a measured set)",
                "none",
                kind=TypeError,
            )
        variants = DEFAULT_VARIANTS[named[0]]
    checked = []
    keys = ", ".join(_VARIANT_KEYS)
    for i, variant in enumerate(variants):
        what = f"variants[{i}]"
        if not isinstance(variant, dict) or not variant:
            raise invalid(what, f"a non-empty dict of {keys}", variant, kind=TypeError)
        unknown = sorted(set(variant) - set(_VARIANT_KEYS))
        if unknown:
            raise invalid(what, f"keys among {keys}", unknown, kind=TypeError)
        for key, value in variant.items():
            bound = _VARIANT_KEYS[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise invalid(f"{what}[{key!r}]", f"a number {bound}", value, kind=TypeError)
            low_ok = value > 0 if key == "learning_rate" else value >= 0
            if not math.isfinite(value) or not low_ok or (key == "label_smoothing" and value >= 1):
                raise invalid(f"{what}[{key!r}]", f"a finite number {bound}", value)
        checked.append({k: float(v) for k, v in sorted(variant.items())})

    def configured(input_shape, n_classes):
        return builder(input_shape, n_classes)

    packed = getattr(builder, "packed", None)
    if packed is not None:
        configured.packed = packed
    configured.variants = tuple(checked)
    configured.choose = choose
    text = ", ".join(repr(v) for v in checked)
    if choose != "best":  # "best" keeps the fingerprint it had before the policy existed
        text += f"; choose={choose!r}"
    return _keep_attributes(configured, builder, f"[variants={text}]", f" with variants {text}")


def easy_ensemble_model(input_shape, n_classes, **options):
    """An EasyEnsemble of MLPs in one Keras model (:func:`keras_imbalance.models.
    packed_ensemble` with its defaults): ``k = 4`` BatchEnsemble MLPs of 32 units, each trained
    on its own balanced undersample of every batch (redrawn every step), their class
    probabilities averaged.

    The model balances by itself, so its ``none`` row is the EasyEnsemble; with a strategy
    that reweights the rows, each member's class totals are still made equal (the weights are
    not applied twice), while a loss-side correction (``logit_adjusted``, ``focal``'s alpha)
    is applied on top of the balanced undersample. ``fixed_epochs = 30``: trained 30 epochs
    on the whole training fold, not early-stopped. :func:`fit_strategy` turns it into
    built-in Keras layers (``PackedEnsemble.to_functional``), so a saved fitted model loads
    without importing ``keras_imbalance``.

    Parameters
    ----------
    input_shape : tuple of int, or int
        Shape of one row (flattened).
    n_classes : int
        Number of classes (>= 2).
    **options
        Keywords of :func:`keras_imbalance.models.packed_ensemble` (``k``, ``width``,
        ``shared``, ``member_sampling``, ``embeddings``...).

    Returns
    -------
    keras_imbalance.models.PackedEnsemble
        Built and compiled with AdamW.

    Examples
    --------
    >>> from keras_imbalance.comparison import easy_ensemble_model
    >>> easy_ensemble_model((8,), 2).k
    4
    """
    from keras_imbalance.models import packed_ensemble

    return packed_ensemble(input_shape, n_classes, **options)


def _easy_ensemble_packed(input_shape, n_classes, copies, **options):
    from keras_imbalance.models import packed_ensemble

    return packed_ensemble.packed(input_shape, n_classes, copies, **options)


easy_ensemble_model.fixed_epochs = 30
easy_ensemble_model.packed = _easy_ensemble_packed

#: How a strategy uses its hyperparameter variants (:func:`with_variants`' ``choose``): keep
#: the one its validation rows prefer, or average the probabilities of all.
CHOOSE = ("best", "average")

#: The models run when ``model_fn=None``: name -> builder.
DEFAULT_MODELS = {"linear": linear_model, "mlp": mlp_model}

#: The hyperparameter variants measured for each default model (``with_variants(builder)``;
#: docs/benchmarks.md, "Hyperparameter variants inside the pack"): absolute optimizer values
#: next to the builder's own (linear: Adam 3e-2 with an L2 penalty in the loss, plus
#: decoupled decay; mlp: AdamW 3e-3, decay 1e-3).
DEFAULT_VARIANTS = {
    "linear": ({"weight_decay": 1e-2}, {"weight_decay": 1e-1}),
    "mlp": ({"learning_rate": 1e-3}, {"learning_rate": 1e-2}, {"weight_decay": 1e-2}),
}
