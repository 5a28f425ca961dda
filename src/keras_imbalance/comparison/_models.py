"""Default model builders for small tabular data (Keras 3, any backend).

Both follow the ``model_fn(n_features, n_classes)`` contract of :func:`keras_imbalance.compare`:
they return a compiled ``keras.Model`` mapping ``(batch, n_features)`` standardised features to
``n_classes`` logits (no softmax). The engine keeps the optimizer and replaces the loss.
"""

from __future__ import annotations

from keras_imbalance._validation import check_number

__all__ = ["linear_model", "mlp_model", "DEFAULT_MODELS"]


def linear_model(n_features, n_classes, *, l2=1e-3, learning_rate=3e-2):
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
    n_features : int
        Number of input columns.
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
    >>> linear_model(8, 2).output_shape
    (None, 2)
    """
    import keras

    n_features = check_number("n_features", n_features, low=1, integer=True)
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(n_classes, kernel_regularizer=keras.regularizers.L2(l2)),
        ],
        name="linear",
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


linear_model.fixed_epochs = 50


def mlp_model(
    n_features,
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
    n_features : int
        Number of input columns.
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
    >>> mlp_model(8, 3).output_shape
    (None, 3)
    """
    import keras

    n_features = check_number("n_features", n_features, low=1, integer=True)
    n_classes = check_number("n_classes", n_classes, low=2, integer=True)
    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(n_classes),
        ],
        name="mlp",
    )
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    model.compile(optimizer=optimizer, loss="mse")
    return model


#: The models run when ``model_fn=None``: name -> builder.
DEFAULT_MODELS = {"linear": linear_model, "mlp": mlp_model}
