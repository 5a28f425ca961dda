"""Default model builders for small tabular data and small images (Keras 3, any backend).

All follow the ``model_fn(input_shape, n_classes)`` contract of :func:`keras_imbalance.compare`:
they return a compiled ``keras.Model`` mapping ``(batch, *input_shape)`` features (standardised
by the comparison for a 2-D table; higher-rank inputs are flattened first) to ``n_classes``
logits (no softmax). The engine keeps the optimizer and replaces the loss.

The table models also have a ``packed(input_shape, n_classes, copies)`` attribute: the same network
``copies`` times in one model whose layers hold the copies' weights along a leading axis
(:class:`~keras_imbalance.comparison._packing.PackedDense`), so the comparison trains every
strategy of a fold with one matrix product per layer instead of one per copy. The image model
:func:`cnn_model` has none: the comparison builds one copy of it per strategy.
"""

from __future__ import annotations

from keras_imbalance._validation import check_number, invalid

__all__ = ["linear_model", "mlp_model", "cnn_model", "DEFAULT_MODELS"]


def _shape(input_shape) -> tuple:
    """``input_shape`` as a tuple (an int is the number of columns of a table)."""
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise invalid(
            "input_shape", "a tuple of positive ints (or an int)", input_shape, kind=TypeError
        ) from None
    if not shape or min(shape) < 1:
        raise invalid("input_shape", "a tuple of positive ints (or an int)", input_shape)
    return shape


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
    """``builder``'s ``packed(input_shape, n_classes, copies)``: ``build`` with its defaults."""
    defaults = dict(builder.__kwdefaults__)

    def packed(input_shape, n_classes, copies):
        return build(input_shape, n_classes, copies, **defaults)

    return packed


def _linear(input_shape, n_classes, copies, *, l2, learning_rate):
    import keras

    shape = _shape(input_shape)
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    layers = _flatten(keras, shape, copies)
    layers.append(_dense(keras, copies, n_classes, kernel_regularizer=keras.regularizers.L2(l2)))
    model = _model(keras, shape, layers, "linear", copies)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def _mlp(input_shape, n_classes, copies, *, width, dropout, weight_decay, learning_rate):
    import keras

    shape = _shape(input_shape)
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    layers = _flatten(keras, shape, copies)
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
):
    """Small MLP tuned for small tabular data: ``Dense(width, relu) -> Dropout -> Dense(K)``.

    One hidden layer of ``width`` ReLU units with dropout, trained with AdamW (decoupled weight
    decay). Wider or deeper nets over-fit the few minority samples of typical imbalanced tabular
    sets (see docs/benchmarks.md for the measurements behind these defaults).

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

    shape = _shape(input_shape)
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


#: The models run when ``model_fn=None``: name -> builder.
DEFAULT_MODELS = {"linear": linear_model, "mlp": mlp_model}
