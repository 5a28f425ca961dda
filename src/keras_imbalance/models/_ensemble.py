"""An EasyEnsemble inside one Keras model: ``k`` MLPs, each trained on its own balanced
undersample of every batch, averaged at prediction (Keras 3, ``keras.ops`` only).

The members train side by side in one model with one output (the log of their mean class
probabilities). What makes each member see its own rows is :meth:`PackedEnsemble.
compute_loss`, the documented Keras hook that ``fit`` calls with the labels: it computes every
member's logits, draws a balanced mask per member from the labels of the batch
(:func:`balanced_member_mask`) and adds the members' masked losses, using the loss the model
was compiled with. So ``model.fit(x, y)`` works with any compiled classification loss, on
every backend, and so does the comparison engine, which compiles its own packed loss.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_imbalance._validation import check_number, check_option, check_shape, invalid
from keras_imbalance.models._layers import EnsembleDense, PeriodicEmbedding, _copies

__all__ = ["PackedEnsemble", "balanced_member_mask", "packed_ensemble"]

_PACKAGE = "keras_imbalance"
MEMBER_SAMPLING = ("undersample", "none")
SHARED = ("none", "batchensemble")
EMBEDDINGS = (None, "periodic")


def balanced_member_mask(labels, weights, keys, n_classes):
    """Per-member row weights of a balanced undersample of one batch (``keras.ops``).

    For each column ``l`` (a copy of the comparison engine's packed model, or 1) and member
    ``m``: among the rows with a positive weight, ``n_j`` of class ``j``, member ``m`` keeps
    ``min_i n_i`` rows of every class (every row of the smallest class), those with the
    smallest ``keys[:, l, m]`` in their class: the classic balanced undersample
    (imbalanced-learn's ``RandomUnderSampler``, EasyEnsemble's members). A class with no row in
    the batch makes the member keep nothing there.

    The returned factor multiplies the row weight. For a kept row of class ``j`` it is
    ``(M / M_j) * (n / kept)``: ``M_j`` the kept rows' weight total of class ``j`` and ``M``
    the mean of those totals, so the member's weighted class totals are equal whatever the
    row weights (class weights that already balance the data are not applied twice), and
    ``n / kept`` (``n`` rows with a positive weight, ``kept`` rows kept) makes the member's
    mean loss the mean over its own rows, as if trained alone on them. Other rows get 0.

    Parameters
    ----------
    labels : tensor of shape (batch, L)
        Class codes ``0 .. n_classes - 1``.
    weights : tensor of shape (batch, L)
        Row weights; rows with weight 0 (padding, another copy's rows) are never kept.
    keys : tensor of shape (batch, L, members)
        Random keys in ``[0, 1)`` (the draw: new keys, new undersample).
    n_classes : int

    Returns
    -------
    tensor of shape (batch, L, members)
        The factor of each row's weight for each member (0: not kept).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0], [0], [0], [1]]); w = np.ones((4, 1)); keys = np.full((4, 1, 1), 0.5)
    >>> keras.ops.convert_to_numpy(balanced_member_mask(y, w, keys, 2))[:, 0, 0].tolist()
    [2.0, 0.0, 0.0, 2.0]
    """
    labels = ops.cast(labels, "int32")
    weights = ops.cast(weights, "float32")
    keys = ops.cast(keys, "float32")
    present = ops.cast(weights > 0, "float32")  # (B, L)
    onehot = ops.one_hot(labels, n_classes, dtype="float32") * present[..., None]  # (B, L, K)
    counts = ops.sum(onehot, axis=0)  # (L, K)
    keep = ops.min(counts, axis=-1, keepdims=True)  # (L, 1): 0 when a class has no row
    # each row's position among the present rows sorted by (class, key): its class's start
    # plus its rank within the class, separately for every member
    code = ops.cast(labels, "float32")[..., None]
    sort_key = ops.where(present[..., None] > 0, code + keys, float(n_classes) + keys)
    order = ops.argsort(sort_key, axis=0)
    position = ops.cast(ops.argsort(order, axis=0), "float32")  # (B, L, k)
    start = ops.cumsum(counts, axis=-1) - counts  # (L, K)
    rank = position - ops.sum(onehot * start[None], axis=-1)[..., None]
    kept = present[..., None] * ops.cast(rank < keep[None], "float32")  # (B, L, k)
    # equal weighted class totals per member: class j's kept rows scaled by M / M_j
    per_class = ops.expand_dims(onehot, 2) * ops.expand_dims(kept * weights[..., None], -1)
    totals = ops.sum(per_class, axis=0)  # (L, k, K)
    factor = ops.divide_no_nan(ops.mean(totals, axis=-1, keepdims=True), totals)
    row_factor = ops.sum(ops.expand_dims(onehot, 2) * factor[None], axis=-1)  # (B, L, k)
    step = ops.divide_no_nan(ops.sum(counts, axis=-1), n_classes * keep[:, 0])  # (L,)
    return kept * row_factor * step[None, :, None]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PackedEnsemble(keras.Model):
    """``k`` MLPs in one model, each trained on its own balanced undersample, averaged.

    Rows ``(batch, *input_shape)`` (flattened) -> optional periodic embeddings
    (:class:`PeriodicEmbedding`, shared by the members) -> ``depth`` hidden layers of
    ``width`` ReLU units per member (:class:`EnsembleDense`: independent kernels, or with
    ``shared="batchensemble"`` one kernel and rank-1 adapters per member, as TabM) with
    dropout -> an independent linear head per member -> ``n_classes`` logits per member
    ``z_m``. The output is ``log(mean_m softmax(z_m))``: logits whose softmax is the members'
    mean probability (EasyEnsemble averages probabilities).

    Training (``fit``): :meth:`compute_loss` adds the compiled loss of every member on its own
    rows, ``mean_m loss(y, z_m, weight * mask_m)``, ``mask_m`` from
    :func:`balanced_member_mask` with new random keys at every step:

    - ``member_sampling="undersample"``: each member sees, in every batch, a balanced
      undersample (every row of the smallest class, as many of each other class, drawn at
      random, redrawn every step, so every epoch too): an EasyEnsemble. Row weights are
      rescaled per class so the member's weighted class totals are equal (class weights are
      not applied twice); a loss-side correction (logit adjustment, focal alpha) is applied
      on top of the balanced undersample.
    - ``member_sampling="none"``: every member sees every row (a deep ensemble; TabM).

    Evaluation and prediction use the averaged output. ``copies=C`` is the comparison
    engine's packed form: ``C`` independent ensembles, inputs ``(batch, C, ...)``, outputs
    ``(batch, C, n_classes)``, targets ``(batch, C, 2)`` (class code, row weight) as the
    engine feeds them.

    Parameters
    ----------
    n_classes : int
        Classes (>= 2); every class must have rows in the training data.
    k : int, default=4
        Members.
    width, depth, dropout
        Hidden units per member (32), hidden layers (1; 0: linear members), dropout (0.2).
    shared : {"none", "batchensemble"}, default="batchensemble"
    member_sampling : {"undersample", "none"}, default="undersample"
    embeddings : {None, "periodic"}, default=None
    sigma, n_frequencies, d_embedding
        Settings of the periodic embeddings.
    copies : int or None, default=None
    seed : int or None, default=None
        Seed of the members' undersamples (None: drawn from Keras' global seed).

    Examples
    --------
    >>> model = PackedEnsemble(2, k=4)
    >>> tuple(model(keras.ops.ones((3, 5))).shape)
    (3, 2)
    """

    def __init__(
        self,
        n_classes,
        *,
        k=4,
        width=32,
        depth=1,
        dropout=0.2,
        shared="batchensemble",
        member_sampling="undersample",
        embeddings=None,
        sigma=0.1,
        n_frequencies=16,
        d_embedding=8,
        copies=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_classes = check_number("n_classes", n_classes, low=2, integer=True)
        self.k = check_number("k", k, low=1, integer=True)
        self.width = check_number("width", width, low=1, integer=True)
        self.depth = check_number("depth", depth, low=0, integer=True)
        self.dropout = float(check_number("dropout", dropout, low=0, high=1, high_inclusive=False))
        self.shared = check_option("shared", shared, SHARED)
        self.member_sampling = check_option("member_sampling", member_sampling, MEMBER_SAMPLING)
        self.embeddings = check_option("embeddings", embeddings, EMBEDDINGS)
        self.sigma, self.n_frequencies, self.d_embedding = sigma, n_frequencies, d_embedding
        self.copies = _copies(copies)
        self.seed = None if seed is None else check_number("seed", seed, integer=True)
        self.embedding = None
        if embeddings == "periodic":
            self.embedding = PeriodicEmbedding(
                n_frequencies, sigma, d_embedding, copies=copies, name="embedding"
            )
        self.hidden = [
            EnsembleDense(
                width,
                self.k,
                shared=self.shared == "batchensemble",
                activation="relu",
                adapter_init="random_signs" if i == 0 else "ones",
                copies=copies,
                name=f"hidden_{i}",
            )
            for i in range(self.depth)
        ]
        self.dropout_seed = keras.random.SeedGenerator(self.seed, name="dropout")
        self.head = EnsembleDense(self.n_classes, self.k, copies=copies, name="head")
        self.mask_seed = keras.random.SeedGenerator(self.seed, name="member_sampling")
        # the last training call's (output, member logits), read back by compute_loss; kept
        # out of Keras' attribute tracking
        object.__setattr__(self, "_last", [])

    # ---------------------------------------------------------------------------------------
    def _flat(self, x):
        lead = () if self.copies is None else (self.copies,)
        if len(x.shape) > 2 + len(lead):
            size = math.prod(int(d) for d in x.shape[1 + len(lead) :])
            x = ops.reshape(x, (-1, *lead, size))
        return x

    def build(self, input_shape):
        lead = () if self.copies is None else (self.copies,)
        self.row_shape = tuple(int(d) for d in input_shape[1 + len(lead) :])
        size = math.prod(self.row_shape)
        shape = (None, *lead, size)
        if self.embedding is not None:
            self.embedding.build(shape)
            shape = (None, *lead, size * self.d_embedding)
        for dense in self.hidden:
            dense.build(shape)
            shape = (None, *lead, self.k, self.width)
        self.head.build(shape)
        self.built = True

    def member_logits(self, x, training=None):
        """Every member's logits: ``(batch, [copies,] k, n_classes)``."""
        h = self._flat(x)
        if self.embedding is not None:
            h = self.embedding(h)
        for dense in self.hidden:
            h = self._drop(dense(h), training)
        return self.head(h)

    def _drop(self, h, training):
        """Inverted dropout as one product with a 0 / (1 / keep) mask (Keras' ``Dropout``
        costs three passes over ``h`` on torch). The packed form draws one mask per (row,
        member, unit), shared by the copies, as the default MLP's packed form does."""
        if not training or self.dropout == 0:
            return h
        keep = 1.0 - self.dropout
        shape = list(ops.shape(h))
        if self.copies is not None:
            shape[1] = 1
        draw = keras.random.uniform(tuple(shape), seed=self.dropout_seed)
        return h * (ops.cast(draw < keep, h.dtype) * (1.0 / keep))  # scale the small mask

    def call(self, x, training=None):
        z = self.member_logits(x, training=training)
        out = ops.logsumexp(ops.log_softmax(z, axis=-1), axis=-2) - math.log(self.k)
        if training:
            self._last[:] = [out, z]
        return out

    def to_functional(self):
        """The same prediction as a functional model of built-in Keras layers
        (``EinsumDense``, ``keras.ops``): rows ``(batch, *row_shape)`` -> the averaged logits.

        For inference only (no dropout, no member sampling). It saves and loads with
        ``keras.models.load_model`` without importing ``keras_imbalance``;
        :func:`keras_imbalance.comparison.fit_strategy` builds its fitted models with it.
        """
        if self.copies is not None:
            raise invalid("copies", "None (one ensemble) to export", self.copies)
        if not self.built:
            raise invalid("model", "a built PackedEnsemble", "an unbuilt one")
        k, name = self.k, self.name
        inputs = keras.Input(self.row_shape, name="rows")
        h = inputs
        if len(self.row_shape) > 1:
            h = keras.layers.Flatten(name=f"{name}_flatten")(h)
        size = math.prod(self.row_shape)
        if self.embedding is not None:
            e = self.embedding
            n, d = e.n_frequencies, e.d_embedding
            angle = keras.layers.EinsumDense("bf,fn->bfn", (size, n), name=f"{name}_angle")
            v = angle(h)
            angle.set_weights([2.0 * math.pi * ops.convert_to_numpy(e.frequencies)])
            h = ops.concatenate([ops.cos(v), ops.sin(v)], axis=-1)
            project = keras.layers.EinsumDense(
                "bfn,nd->bfd" if e.lite else "bfn,fnd->bfd",
                (size, d),
                bias_axes="fd",
                activation="relu",
                name=f"{name}_embedding",
            )
            h = project(h)
            bias = ops.convert_to_numpy(e.bias)
            bias = bias.repeat(size, axis=0) if e.lite else bias
            project.set_weights([ops.convert_to_numpy(e.kernel), bias])
            h = keras.layers.Reshape((size * d,), name=f"{name}_embedded")(h)
        for i, dense in enumerate([*self.hidden, self.head]):
            last = dense is self.head
            per_member = len(h.shape) == 3
            layer = keras.layers.EinsumDense(
                "bkf,kfu->bku" if per_member else "bf,fku->bku",
                (k, dense.units),
                bias_axes="ku",
                activation=None if last else "relu",
                name=f"{name}_{'head' if last else f'hidden_{i}'}",
            )
            h = layer(h)
            kernel = ops.convert_to_numpy(dense.member_kernels())  # (k, F, U)
            if not per_member:
                kernel = kernel.transpose(1, 0, 2)
            layer.set_weights([kernel, ops.convert_to_numpy(dense.bias)])
        logits = ops.logsumexp(ops.log_softmax(h, axis=-1), axis=1) - math.log(k)
        return keras.Model(inputs, logits, name=f"{name}_functional")

    # ---------------------------------------------------------------------------------------
    def member_masks(self, labels, weights):
        """:func:`balanced_member_mask` with new keys from the model's seed generator (a new
        draw at every call): ``(batch, L, k)`` for ``labels`` and ``weights`` ``(batch, L)``.
        With ``member_sampling="none"``: ``1`` for every row with a positive weight."""
        if self.member_sampling == "none":
            present = ops.cast(ops.cast(weights, "float32") > 0, "float32")
            return ops.repeat(present[..., None], self.k, axis=-1)
        shape = (ops.shape(labels)[0], ops.shape(labels)[1], self.k)
        keys = keras.random.uniform(shape, seed=self.mask_seed)
        return balanced_member_mask(labels, weights, keys, self.n_classes)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Training: the mean over members of the compiled loss on each member's own rows
        (see the class docstring); evaluation: the compiled loss of the averaged output."""
        if not training or y is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        last, self._last[:] = list(self._last), []
        z = last[1] if len(last) == 2 and last[0] is y_pred else None
        if z is None:  # compute_loss called without our own forward pass: run it
            z = self.member_logits(x, training=True)
        k = self.k
        y = ops.convert_to_tensor(y)
        if self.copies is None:
            labels = ops.reshape(y, (-1,))
            if len(y.shape) == 2 and y.shape[-1] == self.n_classes:  # one-hot rows
                labels = ops.argmax(y, axis=-1)
            weights = ops.ones_like(labels, dtype="float32")
            if sample_weight is not None:
                weights = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            mask = self.member_masks(labels[:, None], weights[:, None])[:, 0, :]  # (B, k)
            z = ops.reshape(ops.moveaxis(z, -2, 0), (-1, self.n_classes))  # (k * B, K)
            y = ops.concatenate([y] * k, axis=0)
            row_weight = ops.reshape(ops.transpose(mask), (-1,)) * ops.tile(weights, (k,))
            return super().compute_loss(x, y, z, row_weight, training=training)
        # packed form: targets (B, C, 2) = (class code, row weight)
        weights = ops.cast(y[..., 1], "float32")
        mask = self.member_masks(y[..., 0], weights)  # (B, C, k)
        z = ops.reshape(ops.moveaxis(z, -2, 0), (-1, self.copies, self.n_classes))
        row_weight = ops.reshape(ops.moveaxis(mask, -1, 0), (-1, self.copies))
        row_weight = row_weight * ops.tile(weights, (k, 1))
        codes = ops.tile(ops.cast(y[..., :1], "float32"), (k, 1, 1))
        y = ops.concatenate([codes, row_weight[..., None]], axis=-1)
        if sample_weight is not None:
            sample_weight = ops.tile(sample_weight, (k, *[1] * (len(sample_weight.shape) - 1)))
        return super().compute_loss(x, y, z, sample_weight, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "n_classes": self.n_classes,
            "k": self.k,
            "width": self.width,
            "depth": self.depth,
            "dropout": self.dropout,
            "shared": self.shared,
            "member_sampling": self.member_sampling,
            "embeddings": self.embeddings,
            "sigma": self.sigma,
            "n_frequencies": self.n_frequencies,
            "d_embedding": self.d_embedding,
            "copies": self.copies,
            "seed": self.seed,
        }


def _build(input_shape, n_classes, copies, *, weight_decay, learning_rate, **options):
    shape = check_shape("input_shape", input_shape)
    weight_decay = check_number("weight_decay", weight_decay, low=0)
    learning_rate = check_number("learning_rate", learning_rate, low=0, low_inclusive=False)
    model = PackedEnsemble(n_classes, copies=copies, name="packed_ensemble", **options)
    lead = () if copies is None else (copies,)
    model.build((None, *lead, *shape))
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def packed_ensemble(
    input_shape,
    n_classes,
    *,
    k=4,
    member_sampling="undersample",
    shared="batchensemble",
    width=32,
    depth=1,
    dropout=0.2,
    embeddings=None,
    sigma=0.1,
    weight_decay=1e-3,
    learning_rate=3e-3,
):
    """A compiled :class:`PackedEnsemble`: an EasyEnsemble of ``k`` MLPs in one Keras model.

    Follows the ``model_fn(input_shape, n_classes)`` contract of
    :func:`keras_imbalance.compare` (logits out, no softmax) and carries its packed form
    (``packed_ensemble.packed(input_shape, n_classes, copies, **options)``), so ``compare``
    trains the ensemble of every strategy of a fold in one fit, and ``fixed_epochs = 30``:
    ``compare`` trains it 30 epochs on the whole training fold instead of early-stopping it
    (as good on the 20 benchmark sets, about half the cost: docs/benchmarks.md). On its own it
    is compiled with sparse cross-entropy on the logits and AdamW: ``model.fit(x, y)`` trains
    each member on its own balanced undersample of every batch.
    ``keras_imbalance.comparison.with_options(packed_ensemble, k=8, width=64)`` gives a
    builder with other settings.

    The defaults (4 BatchEnsemble members of 32 units) are the measured trade-off: 8 members
    of 64 units scored about the same on the 20 benchmark sets at twice the cost, independent
    members lower (docs/benchmarks.md).

    Parameters
    ----------
    input_shape : tuple of int, or int
        Shape of one row (flattened).
    n_classes : int
        Classes (>= 2).
    k : int, default=4
        Members.
    member_sampling : {"undersample", "none"}, default="undersample"
        Each member's rows: a balanced undersample of every batch, redrawn every step, or
        every row.
    shared : {"none", "batchensemble"}, default="batchensemble"
        Independent members, or one kernel per layer with rank-1 adapters per member (TabM).
    width, depth, dropout
        Hidden units per member (32), hidden layers (1), dropout (0.2).
    embeddings : {None, "periodic"}, default=None
        Periodic embeddings of the features (:class:`PeriodicEmbedding`), shared by the members.
    sigma : float, default=0.1
        Initial frequency scale of the periodic embeddings.
    weight_decay, learning_rate
        AdamW's (1e-3, 3e-3: the default MLP's).

    Returns
    -------
    PackedEnsemble
        Built and compiled.

    Examples
    --------
    >>> model = packed_ensemble((8,), 2)
    >>> model.k, model.shared, model.member_sampling
    (4, 'batchensemble', 'undersample')
    """
    return _build(
        input_shape,
        n_classes,
        None,
        k=k,
        member_sampling=member_sampling,
        shared=shared,
        width=width,
        depth=depth,
        dropout=dropout,
        embeddings=embeddings,
        sigma=sigma,
        weight_decay=weight_decay,
        learning_rate=learning_rate,
    )


def _packed(input_shape, n_classes, copies, **options):
    """``packed_ensemble``'s packed form: ``copies`` independent ensembles in one model."""
    unknown = sorted(set(options) - set(packed_ensemble.__kwdefaults__))
    if unknown:
        raise invalid("options", "keywords of packed_ensemble", unknown, kind=TypeError)
    settings = {**packed_ensemble.__kwdefaults__, **options}
    return _build(input_shape, n_classes, copies, **settings)


packed_ensemble.packed = _packed
packed_ensemble.fixed_epochs = 30
