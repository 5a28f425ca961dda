"""Packed training: every strategy of a (model, repeat, fold) in ONE Keras fit (Keras 3).

The packed model holds ``C`` independent copies of the candidate network, one per training
recipe, all fed the same input batch; its output is ``(batch, C, n_classes)`` logits. Copies
share no weight: each has its own loss (a :class:`~._strategies.LossSpec`) and its own weight
per row, so the gradient of the packed loss with respect to copy ``c``'s weights is exactly
the gradient of ``c``'s own loss, and an element-wise optimizer (Adam, AdamW, SGD, RMSprop...)
updates every copy as if it were trained alone.

Rows: the packed fit trains on the *union* of the fit rows and every copy's synthetic rows.
Copy ``c`` weighs row ``r`` by ``w_rc = weight_r * multiplicity_r * N / size_c`` (``N`` rows
in the union, ``size_c`` rows in ``c``'s own training set; 0 for another copy's synthetic
rows). Keras divides the summed loss of a batch by its number of rows, so over an epoch copy
``c`` minimises ``sum_r w_rc loss_rc / N = sum_r weight_r multiplicity_r loss_rc / size_c``,
its loss trained alone: a copy that keeps 7 % of the rows does not train with a 14x smaller
step. With one batch per epoch (full-batch training) the copy's update equals the lone fit's
exactly; with mini-batches each batch holds a random share of the copy's rows instead of a
batch of its own (same expected gradient, different noise). Exactness also needs:

- an optimizer that treats every weight separately (a global ``clipnorm`` /
  ``global_clipnorm`` clips the joint gradient of all copies, not each copy's);
- no layer that mixes the rows of a batch (``BatchNormalization`` sees every row of the shared
  batch, including rows whose weight is 0 for its copy);
- per-row randomness (dropout) draws other random numbers than a lone fit would.

Builders: on the JAX backend any builder's model is vectorised over its copies' stacked
variables and trained by the compiled fit (:mod:`._compiled`; a model that cannot be traced
under ``jax.vmap`` falls back to :class:`_Stack`, with a note). Elsewhere a builder with a
``packed(input_shape, n_classes, copies)`` attribute (the default models) returns one model
whose layers hold every copy's weights along a leading axis (one matrix product for all
copies); on torch any other builder's model is vectorised over its copies' stacked variables
with ``torch.func.vmap`` (:mod:`._vmap_torch`); otherwise (tensorflow, or a model that cannot
be vectorised, with a note) the builder is called once per copy and the copies are stacked
(:class:`_Stack`). Either way copy ``c`` starts from the weights the builder gives
after ``keras.utils.set_random_seed(seed)``, as a lone fit with that seed does.

A copy whose training is over (early-stopped with its refit partner, or its snapshot taken)
is retired before the next epoch of an eager torch Keras fit (:class:`_Retire`; a compiled
step would compile again for the shorter batches): the batches drop the rows that only
retired copies used, and a vectorised model (:mod:`._vmap_torch`) leaves it out of its calls.
Its kept weights were read before, so nothing kept changes.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_imbalance._validation import invalid
from keras_imbalance.comparison._data import call_builder, predict_rows
from keras_imbalance.comparison._rates import rescale_step
from keras_imbalance.comparison._strategies import LossSpec
from keras_imbalance.losses._core import focal_nll, shifted_logits, softmax_family

_CHUNK = 8192  # rows per forward pass when predicting

BUDGET_ENV = "KERAS_IMBALANCE_PACK_BYTES"
_DEFAULT_BUDGET = 1 << 30  # bytes of one packed fit's rows, at most a quarter of free memory
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def pack_budget() -> int:
    """Bytes the rows of one packed fit may take (its store of features, each copy's row ids
    and weights, the compiled fit's device copy): ``$KERAS_IMBALANCE_PACK_BYTES`` (a byte count,
    ``1.5G``, ``800M``...), else 1 GiB or a quarter of the memory available, the smaller.

    A fold whose copies need more trains them in groups, one packed fit after the other
    (:func:`._fold.fit_fold`); the budget changes memory and time, never a copy's result.
    """
    value = os.environ.get(BUDGET_ENV)
    if value is not None and value.strip():
        text = value.strip().upper().removesuffix("B").removesuffix("I")
        unit = text[-1:] if text[-1:] in _UNITS else ""
        try:
            number = float(text[: len(text) - len(unit)])
        except ValueError:
            number = -1.0
        if not number > 0 or not math.isfinite(number):
            raise invalid(
                f"${BUDGET_ENV}", "a positive byte count such as 2000000000, 800M or 1.5G", value
            )
        return int(number * _UNITS[unit])
    return min(_DEFAULT_BUDGET, max(_available() // 4, 64 << 20))


def _available() -> int:
    """Bytes of memory available to new work (Linux ``MemAvailable``; 4 GiB where unknown)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4 << 30


# --------------------------------------------------------------------------------------------
# layers and models
# --------------------------------------------------------------------------------------------


class PackedDense(keras.layers.Layer):
    """``copies`` independent ``Dense(units)`` layers: ``(B, C, F) -> (B, C, units)``.

    Weights ``kernel (C, F, units)`` and ``bias (C, units)``; copy ``c`` computes
    ``x[:, c] @ kernel[c] + bias[c]`` (a 2-D input ``(B, F)`` is shared by every copy). A
    kernel regulariser sees the whole kernel: ``L2(l)`` adds ``l * sum_c ||kernel[c]||^2``,
    the copies' penalties.
    """

    def __init__(self, copies, units, activation=None, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.copies = int(copies)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        features = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(self.copies, features, self.units),
            initializer="glorot_uniform",
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.copies, self.units), initializer="zeros", name="bias"
        )

    def call(self, x):
        c, f, u = self.copies, self.kernel.shape[1], self.units
        if len(x.shape) == 2:  # one input for every copy: one matrix product
            kernel = ops.reshape(ops.transpose(self.kernel, (1, 0, 2)), (f, c * u))
            out = ops.reshape(ops.matmul(x, kernel), (-1, c, u))
        else:  # (B, C, F): copy c's own features
            out = ops.transpose(ops.matmul(ops.transpose(x, (1, 0, 2)), self.kernel), (1, 0, 2))
        return self.activation(out + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.copies, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "copies": self.copies,
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


class _Stack(keras.Model):
    """The copies of a user's model side by side: ``(B, C, ...) -> (B, C, n_classes)``, copy
    ``c`` on its own rows ``x[:, c]``."""

    def __init__(self, members, **kwargs):
        # Keras names a model after its class: "__stack", which TensorFlow refuses as a
        # root name scope (a leading underscore)
        kwargs.setdefault("name", "stacked_copies")
        super().__init__(**kwargs)
        self.members = list(members)

    def call(self, x, training=None):
        outs = [m(x[:, c], training=training) for c, m in enumerate(self.members)]
        return ops.stack(outs, axis=1)


class PackedSequential(keras.Model):
    """Layers applied in order to a per-copy input ``(B, C, ...)`` (no input-shape check)."""

    def __init__(self, layers, **kwargs):
        super().__init__(**kwargs)
        self.stack = list(layers)

    def call(self, x, training=None):
        for layer in self.stack:
            x = layer(x)  # Keras passes `training` on to the layers that take it
        return x


def model_output(model, sample: np.ndarray) -> np.ndarray:
    """The output of a builder's model on ``sample`` (float64), or one line naming
    ``model_fn`` when it is not a one-output ``keras.Model`` that takes such inputs."""
    if not isinstance(model, keras.Model):
        raise invalid(
            "model_fn",
            "a function returning a keras.Model",
            f"a {type(model).__name__}",
            kind=TypeError,
        )
    try:
        out = model(sample, training=False)
    except Exception as exc:  # the user's model cannot take the data: say so, in one line
        raise invalid(
            "model_fn",
            f"a model that takes inputs of shape {(None, *sample.shape[1:])}",
            f"a model that raised {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
        ) from None
    if isinstance(out, list | tuple | dict):
        raise invalid("model_fn", "a model with one output", f"{len(out)} outputs")
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)


def check_model(model, n_classes: int, sample: np.ndarray, unit="class", squash="softmax"):
    """Refuse, in one line naming ``model_fn``, a builder result that is not a one-output
    ``keras.Model`` returning ``n_classes`` logits (a softmax output is refused too; with
    ``unit="label"`` and ``squash="sigmoid"``, for one logit per label, outputs all in
    [0, 1])."""
    out = model_output(model, sample)
    if out.ndim != 2 or out.shape[1] != n_classes:
        raise invalid(
            "model_fn",
            f"a model with {n_classes} output logits per row (one per {unit}, no {squash}), "
            f"shape (None, {n_classes})",
            f"a model with output shape {(None, *out.shape[1:])}",
        )
    if squash == "softmax":
        squashed = out.min() >= 0 and np.allclose(out.sum(axis=1), 1.0, atol=1e-5)
        seen = "probabilities (rows sum to 1)"
    else:
        squashed = out.min() >= 0 and out.max() <= 1
        seen = "all in [0, 1] (probabilities)"
    if out.shape[0] and squashed:
        raise invalid(
            "model_fn",
            f"a model returning logits (no {squash} on the last layer)",
            f"a model whose outputs are {seen}",
        )


@dataclass
class Net:
    """A packed model and how to read one copy's weights."""

    model: Any  # keras.Model: (B, C, ...) -> (B, C, K)
    copies: int
    vectorised: bool  # weights carry a leading copies axis (builder.packed)
    lone: Any  # the builder's own model (its optimizer configures the packed fit)
    note: str = ""  # why the copies are not vectorised, when they could not be
    rates: Any = None  # (copies, 2) per-copy optimizer factors (_rates.copy_rates), or None

    @property
    def compiled(self) -> bool:
        """Whether the copies train in the compiled JAX fit (:mod:`._compiled`)."""
        return hasattr(self.model, "copy_weights")

    def all_copy_weights(self, wanted) -> dict:
        """``{c: weights}`` for the copies ``wanted``, reading the model once."""
        if self.compiled:
            return self.model.copy_weights(wanted)
        if self.vectorised:
            full = self.model.get_weights()
            return {c: [w[c].copy() for w in full] for c in wanted}
        return {c: self.model.members[c].get_weights() for c in wanted}

    def logits(self, x: np.ndarray) -> np.ndarray:
        """``(n, C, K)`` float64 logits of every copy on its rows ``x[:, c]`` (inference; ``x``
        may be a broadcast view: one chunk of rows at a time is made real)."""
        call = self.model.logits if self.compiled else (lambda x: self.model(x, training=False))
        step = predict_rows(x, _CHUNK)  # images: fewer rows per pass (bounded activations)
        parts = [
            np.asarray(
                ops.convert_to_numpy(call(np.ascontiguousarray(x[i : i + step]))),
                dtype=np.float64,
            )
            for i in range(0, x.shape[0], step)
        ]
        return np.concatenate(parts, axis=0)


def _optimizer(model):
    """A fresh optimizer configured like the builder's (Adam 1e-3 when it has none)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return keras.optimizers.Adam(1e-3)
    return optimizer.__class__.from_config(optimizer.get_config())


_SCALE_FREE = ("Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Lion")


def scale_free(model) -> bool:
    """Whether multiplying a copy's loss by a constant leaves its training unchanged: an
    optimizer that normalises the gradient's scale, no clipping, no loss-side regulariser."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return True  # Adam
    if type(optimizer).__name__ not in _SCALE_FREE:
        return False
    if any(getattr(optimizer, a, None) for a in ("clipnorm", "clipvalue", "global_clipnorm")):
        return False
    return not model.losses


def build_net(model_fn, input_shape, n_classes, copies, seed, sample, lone=None) -> Net:
    """The packed model of ``copies`` copies of ``model_fn``'s network, each starting from the
    weights the builder gives after ``keras.utils.set_random_seed(seed)``; it maps
    ``(B, copies, *input_shape)`` (``sample``: a few such rows) to ``(B, copies, n_classes)``.

    On the JAX backend (:func:`._compiled.enabled`) the builder's own model is vectorised over
    the copies' stacked variables (:class:`._compiled.Stacked`, trained by the compiled fit),
    whatever the builder; a model that cannot be traced under ``jax.vmap`` falls back to the
    per-copy stack with ``note`` saying why. Elsewhere a builder's ``packed`` form packs the
    copies in its layers; on torch any other builder's model is vectorised with ``torch.func``
    (:func:`_vectorised_torch`, the same fallback and note); the rest are stacked
    (:class:`_Stack`).

    ``lone``: the builder's model built after ``keras.utils.set_random_seed(seed)`` and not
    trained (the fold's own): the compiled fit stacks its weights instead of building the
    model again (the other paths build it again: their layers draw from the global seed
    after it).
    """
    from keras_imbalance.comparison import _compiled

    compiled = _compiled.enabled()
    keras.utils.set_random_seed(seed)
    if lone is None or not compiled:
        lone = call_builder(model_fn, input_shape, n_classes)
    note = ""
    if compiled:
        model, reason = _compiled.vectorise(model_fn, lone, copies, sample)
        if model is not None:
            return Net(model, copies, True, lone)
        note = f"copies trained one after the other: the model cannot be vectorised ({reason})"
    packed = getattr(model_fn, "packed", None)
    if packed is not None:
        model = packed(input_shape, n_classes, copies)
        model(sample, training=False)  # build
        model.set_weights([np.stack([w] * copies) for w in lone.get_weights()])
        return Net(model, copies, True, lone, note)
    model, note = _vectorised_torch(lone, copies, sample, note)
    if model is not None:
        return Net(model, copies, True, lone)
    members = []
    for _ in range(copies):
        keras.utils.set_random_seed(seed)
        members.append(call_builder(model_fn, input_shape, n_classes))
    model = _Stack(members)
    model(sample, training=False)
    return Net(model, copies, False, lone, note)


def _vectorised_torch(lone, copies, sample, note) -> tuple:
    """``(model, note)``: on torch, the lone model vectorised over the copies' stacked
    variables (:mod:`._vmap_torch`), or ``None`` and why it cannot be; elsewhere ``None``
    and ``note`` unchanged."""
    from keras_imbalance.comparison import _vmap_torch

    if not _vmap_torch.enabled():
        return None, note
    model, reason = _vmap_torch.vectorise(lone, copies, sample)
    if model is None:
        note = f"copies trained one after the other: the model cannot be vectorised ({reason})"
    return model, note


def compile_net(net: Net, specs, n_classes, settings, loss=None) -> None:
    """Compile with a fresh copy of the builder's optimizer and the packed loss of ``specs``
    (``loss``: another packed loss, for targets other than one class per row)."""
    net.model.compile(
        optimizer=_optimizer(net.lone),
        loss=PackedCrossentropy(specs, n_classes) if loss is None else loss,
        jit_compile=settings.jit_for(keras.backend.backend()),
    )


# --------------------------------------------------------------------------------------------
# the packed loss
# --------------------------------------------------------------------------------------------


class PackedCrossentropy(keras.losses.Loss):
    """``sum_c w_ic * loss_c(y_ic, z_ic)`` per batch position ``i``, ``loss_c`` copy ``c``'s
    :class:`LossSpec` and ``(y_ic, w_ic)`` the class code and weight of copy ``c``'s row there.

    ``y_true`` is ``(B, C, 2)`` (code, weight), ``y_pred`` ``(B, C, K)`` logits. One
    vectorised expression serves every copy.
    """

    def __init__(self, specs, n_classes, **kwargs):
        super().__init__(name="packed_crossentropy", **kwargs)
        self.n_classes = int(n_classes)
        c, k = len(specs), self.n_classes
        self._gamma = np.array([s.gamma for s in specs], dtype=np.float32)
        self._offsets = np.zeros((c, k), dtype=np.float32)
        self._margins = np.zeros((c, k), dtype=np.float32)
        self._scale = np.array([s.scale for s in specs], dtype=np.float32)[:, None]
        self._smoothing = np.array([s.smoothing for s in specs], dtype=np.float32)[:, None]
        for i, s in enumerate(specs):
            if s.offsets is not None:
                self._offsets[i] = s.offsets
            if s.margins is not None:
                self._margins[i] = s.margins
        self._use = {
            "offsets": bool(np.any(self._offsets)),
            "margins": bool(np.any(self._margins)),
            "scale": bool(np.any(self._scale != 1.0)),
            "gamma": bool(np.any(self._gamma)),
            "smoothing": bool(np.any(self._smoothing)),
        }
        self._tensors: dict = {}

    def _constants(self, like):
        names = ("offsets", "margins", "scale", "gamma", "smoothing")
        if keras.backend.backend() != "torch":  # traced once by jit: nothing to save
            return {name: ops.convert_to_tensor(getattr(self, f"_{name}")) for name in names}
        # eager torch: converted once per device, not at every step
        device = str(like.device)
        if device not in self._tensors:
            self._tensors[device] = {
                name: ops.convert_to_tensor(getattr(self, f"_{name}")) for name in names
            }
        return self._tensors[device]

    def call(self, y_true, y_pred):
        label = ops.cast(y_true[..., 0], "int32")
        weight = y_true[..., 1]
        one_hot = ops.one_hot(label, self.n_classes, dtype=y_pred.dtype)
        const = self._constants(y_pred)
        use = self._use
        if use["smoothing"]:  # label smoothing variants: soft targets, margins on the class
            shifted = shifted_logits(
                y_pred,
                one_hot,
                offsets=const["offsets"] if use["offsets"] else None,
                margins=const["margins"] if use["margins"] else None,
                scale=const["scale"] if use["scale"] else None,
            )
            eps = const["smoothing"]
            targets = one_hot * (1.0 - eps) + eps / self.n_classes
            loss = focal_nll(
                targets,
                ops.log_softmax(shifted, axis=-1),
                gamma=ops.expand_dims(const["gamma"], -1) if use["gamma"] else None,
            )
            return ops.sum(weight * loss, axis=-1)
        loss = softmax_family(  # (B, C): the losses' one maths, per-copy parameters
            one_hot,
            y_pred,
            gamma=ops.expand_dims(const["gamma"], -1) if use["gamma"] else None,
            offsets=const["offsets"] if use["offsets"] else None,
            margins=const["margins"] if use["margins"] else None,
            scale=const["scale"] if use["scale"] else None,
        )
        return ops.sum(weight * loss, axis=-1)


# --------------------------------------------------------------------------------------------
# the rows
# --------------------------------------------------------------------------------------------


class PackedRows(keras.utils.PyDataset):
    """Every copy's own mini-batches, side by side: step ``i`` gives ``(x, y)`` with ``x`` of
    shape ``(B, C, ...)`` and ``y`` ``(B, C, 2)`` (class code, weight); with a label per
    element (``labels`` of shape ``(N, ...)``: a multi-label row, a mask) ``y`` is
    ``(B, C, ..., 2)``, the row's weight repeated along the element axes.

    Copy ``c`` trains on the rows ``rows[c]`` of ``store`` (repeated rows are repeated draws)
    with loss weights ``weights[c]``; ``redraw[c](epoch) -> (rows, weights)`` replaces them
    each epoch for copies that redraw. An epoch is ``steps`` steps for every copy: its rows,
    shuffled by ``(seed, epoch, c)`` (or in order with ``shuffle=False``), are split into
    ``steps`` consecutive batches whose sizes differ by at most one, so every copy sees each of
    its rows once per epoch. Batches are padded to the largest with weight-0 rows, and a real
    row's weight is multiplied by ``B / m`` (``m`` real rows of that copy in the batch): Keras
    divides the summed loss by ``B``, so each copy's step minimises the mean weighted loss of
    its own batch, as a lone fit with that batch does.

    ``keys``: the number each copy's shuffle is seeded with (default: its place ``c``), and
    ``batch``: the least ``B``; a fold trained in groups of copies gives each group its copies'
    places in the whole fold and the whole fold's ``B``, so a copy draws what it would draw
    packed with every other copy.
    """

    def __init__(
        self,
        store,
        labels,
        rows,
        weights,
        steps,
        seed,
        redraw=None,
        shuffle=True,
        keys=None,
        batch=None,
    ):
        super().__init__()
        self.store = store
        self.labels = np.asarray(labels, dtype=np.float32)
        self.rows = [np.asarray(r, dtype=np.int64) for r in rows]
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.steps = int(steps)
        self.seed = int(seed)
        self.redraw = dict(redraw or {})
        self.shuffle = shuffle
        self.keys = list(range(len(self.rows))) if keys is None else [int(k) for k in keys]
        self.batch = batch
        self.epoch = 0
        self._prepared = None
        self.retired: set = set()  # copies whose training is over (:meth:`retire`)

    def __len__(self):
        return self.steps

    @property
    def batch_size(self) -> int:
        """Rows per copy in the largest batch (``B``)."""
        return max([math.ceil(r.size / self.steps) for r in self.rows] + [self.batch or 0])

    def draws(self, epoch: int) -> list:
        """Each copy's ``(rows, weights)`` of training epoch ``epoch`` (from 1), in the order
        its batches take them."""
        pairs = []
        for c in range(len(self.rows)):
            rows, weights = self.rows[c], self.weights[c]
            if c in self.redraw:
                rows, weights = self.redraw[c](epoch)
            if self.shuffle:
                rng = np.random.default_rng([self.seed, epoch, self.keys[c]])
                order = rng.permutation(rows.size)
                rows, weights = rows[order], weights[order]
            pairs.append((rows, weights))
        return pairs

    def plan(self, pairs: list, b: int | None = None) -> tuple:
        """``(index, scaled)``, each ``(steps, B, len(pairs))``: the store rows of every step
        and their loss weights times ``B / m`` (``B``: ``b``, at least the largest batch)."""
        steps, copies = self.steps, len(pairs)
        sizes = np.asarray([r.size for r, _ in pairs], dtype=np.int64)
        b = max(int(-(-sizes.max() // steps)) if copies else 0, b or 0)
        index = np.zeros((steps, b, copies), dtype=np.int64)
        scaled = np.zeros((steps, b, copies), dtype=np.float32)
        if not copies or not sizes.sum():
            return index, scaled
        # copy c's step i takes its rows [start_i, start_i + m_i), m_i = q + 1 for the first
        # r steps and q after (q, r = divmod(size, steps)); one copy at a time, so that the
        # temporaries take one copy's rows, not every copy's
        for c, (rows, weights) in enumerate(pairs):
            q, r = divmod(int(sizes[c]), steps)
            j = np.arange(rows.size)
            head = r * (q + 1)  # rows in the first r steps
            first = j < head
            short = max(q, 1)
            step = np.where(first, j // (q + 1), r + (j - head) // short)
            slot = np.where(first, j % (q + 1), (j - head) % short)
            m = np.where(first, q + 1, q)
            index[step, slot, c] = rows
            scaled[step, slot, c] = weights * (b / m)
        return index, scaled

    def retire(self, retired) -> None:
        """Copies whose training is over: from the next epoch, a batch ends with the last
        row that a copy still training uses (a copy's rows come first in its column, the
        rest is padding), its weights scaled to the shorter batch."""
        self.retired = set(retired)
        self._prepared = None

    def _prepare(self):
        if self._prepared == self.epoch:
            return
        # Keras reads one batch to build, then calls on_epoch_end before the first epoch: the
        # first training epoch is epoch 1 (as BalancedBatches' first fit epoch)
        pairs = self.draws(max(1, self.epoch))
        self._index, self._scaled = self.plan(pairs, self.batch)
        live = [r.size for c, (r, _) in enumerate(pairs) if c not in self.retired]
        b = self._index.shape[1]
        if self.retired and live and self.steps:
            # rows past every live copy's batch are padding for all of them: left out, and
            # the weights scaled b' / m instead of b / m (each copy's mean loss unchanged)
            short = max(math.ceil(n / self.steps) for n in live)
            if 0 < short < b:
                self._index = self._index[:, :short]
                self._scaled = self._scaled[:, :short] * np.float32(short / b)
        self._prepared = self.epoch

    def __getitem__(self, step):
        self._prepare()
        index = self._index[step]
        labels = self.labels[index]  # (B, C, ...): a code, a label vector or a mask per row
        weight = self._scaled[step].reshape(index.shape + (1,) * (labels.ndim - 2))
        y = np.stack([labels, np.broadcast_to(weight, labels.shape)], axis=-1)
        return self.store[index], y

    def on_epoch_end(self):
        self.epoch += 1


# --------------------------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------------------------


class _Synchronous(keras.callbacks.Callback):
    """Defines ``on_train_batch_end``, which makes Keras call batch-end hooks in line instead
    of handing each batch to a thread pool (measurably slower for steps of a millisecond)."""

    def on_train_batch_end(self, batch, logs=None):
        pass


class CopyMonitor(_Synchronous):
    """Early stopping per copy on its own validation score, one track per decision rule.

    ``score(copy, rule, logits)`` returns the validation metric of a copy's ``(n_val, K)``
    logits under ``rule``. Each track keeps its best epoch and the copy's weights there; ties
    move the best epoch forward (plateaus of balanced metrics are common on small validation
    sets) but only a strict improvement resets the patience. A copy stops when every track
    of it has waited ``patience`` epochs (its later epochs are ignored, as if it had stopped
    alone); the fit stops when every copy has.
    """

    def __init__(
        self, net: Net, x_val, rules: dict, score, patience: int, partners=None, followed=()
    ):
        super().__init__()
        self.net = net
        self.x_val = x_val
        self.copies = list(rules)  # the monitored copies of the net
        rules = [rules[c] for c in self.copies]
        self.rules = rules  # per monitored copy: its rules
        self.score = score
        self.patience = patience
        # partner copies: trained on other rows (the whole training fold) in the same fit; a
        # partner's weights are kept whenever its copy's argmax track moves its best epoch,
        # so they are the partner's weights after that many epochs (a refit, in lockstep)
        self.partners = dict(partners or {})
        self.followed = tuple(followed) or ("argmax",)  # the rules a partner follows
        self.partner_weights: dict = {}
        self.best = [dict.fromkeys(r, -math.inf) for r in rules]
        self.best_epoch = [dict.fromkeys(r, 0) for r in rules]
        self.best_weights = [dict.fromkeys(r) for r in rules]
        self.wait = [dict.fromkeys(r, 0) for r in rules]
        self.stopped = [None] * len(rules)  # epoch at which a copy stopped
        self.epochs_run = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_run = epoch + 1
        active = [c for c, s in enumerate(self.stopped) if s is None]
        logits = self.net.logits(self.x_val)
        improved = {}
        for c in active:
            for rule in self.rules[c]:
                value = self.score(c, rule, logits[:, self.copies[c], :])
                if not np.isfinite(value):
                    value = -math.inf
                if value > self.best[c][rule] + 1e-9:
                    self.wait[c][rule] = 0
                else:
                    self.wait[c][rule] += 1
                if value >= self.best[c][rule]:
                    self.best[c][rule] = value
                    self.best_epoch[c][rule] = epoch + 1
                    improved.setdefault(c, []).append(rule)
        if improved:
            wanted = {self.copies[c] for c in improved}
            moved = [c for c, r in improved.items() if c in self.partners and self._follows(r)]
            wanted |= {self.partners[c] for c in moved}
            weights = self.net.all_copy_weights(sorted(wanted))
            for c, rules in improved.items():
                for rule in rules:
                    self.best_weights[c][rule] = weights[self.copies[c]]
            for c in moved:
                self.partner_weights[c] = weights[self.partners[c]]
        for c in active:
            if all(w >= self.patience for w in self.wait[c].values()):
                self.stopped[c] = epoch + 1
        if all(s is not None for s in self.stopped):
            self.model.stop_training = True

    def retired(self) -> set:
        """The copies of the net whose training is over: the stopped monitored copies (their
        kept weights taken at their best epochs) and their partners (kept at the same
        epochs)."""
        done = set()
        for m, s in enumerate(self.stopped):
            if s is not None:
                done.add(self.copies[m])
                if m in self.partners:
                    done.add(self.partners[m])
        return done

    def _follows(self, rules) -> bool:
        """Whether a partner follows one of these rules' best epoch."""
        return any(f in rules for f in self.followed)

    def copy_epochs_run(self, c: int) -> int:
        """Epochs copy ``c`` trained before its own stop (the fit may have run longer)."""
        return self.stopped[c] if self.stopped[c] is not None else self.epochs_run


class CopyRates(_Synchronous):
    """Each copy's own learning rate and weight decay in a packed Keras fit: the weights
    before every step are kept, and the shared optimizer's step is rescaled per copy after it
    (:func:`._rates.copy_rates`, :func:`._rates.rescale_step`). The compiled fit does the
    same in its program (:mod:`._compiled`)."""

    def __init__(self, net: Net):
        super().__init__()
        f, d = np.asarray(net.rates[:, 0]), np.asarray(net.rates[:, 1])
        if net.vectorised:  # every variable holds the copies along its leading axis
            self.parts = [(v, f, d) for v in net.model.trainable_variables]
        else:  # one model per copy
            self.parts = [
                (v, f[c : c + 1], d[c : c + 1])
                for c, member in enumerate(net.model.members)
                for v in member.trainable_variables
            ]
        self.old: list = []

    def on_train_batch_begin(self, batch, logs=None):
        self.old = [ops.copy(v.value) for v, _, _ in self.parts]

    def on_train_batch_end(self, batch, logs=None):
        for (v, f, d), old in zip(self.parts, self.old, strict=True):
            v.assign(rescale_step(old, v.value, f.astype(v.dtype), d.astype(v.dtype)))
        self.old = []


class Snapshots(_Synchronous):
    """Each copy's weights at the end of its own epoch count; stops after the last one."""

    def __init__(self, net: Net, epochs: dict):
        super().__init__()
        self.net = net
        self.epochs = dict(epochs)  # copy -> epoch count
        self.weights: dict = {}

    def on_epoch_end(self, epoch, logs=None):
        due = [c for c, e in self.epochs.items() if e == epoch + 1]
        if due:
            self.weights.update(self.net.all_copy_weights(due))
        if len(self.weights) == len(self.epochs):
            self.model.stop_training = True

    def retired(self) -> set:
        """The copies whose snapshot is taken (their training is over)."""
        return set(self.weights)


class _Retire(keras.callbacks.Callback):
    """Before every epoch, the copies whose training is over (what the other callbacks'
    ``retired()`` say) cost nothing more: a vectorised model leaves them out of its calls
    (:meth:`._vmap_torch.Vectorised.retire`) and the batches drop the rows only they used
    (:meth:`PackedRows.retire`); every copy comes back when the fit ends."""

    def __init__(self, net: Net, rows: PackedRows, callbacks):
        super().__init__()
        self.net, self.rows = net, rows
        self.watchers = [cb for cb in callbacks if callable(getattr(cb, "retired", None))]

    def _retire(self, retired) -> None:
        self.rows.retire(retired)
        if callable(getattr(self.net.model, "retire", None)):
            self.net.model.retire(retired)

    def on_epoch_begin(self, epoch, logs=None):
        retired = set().union(*(cb.retired() for cb in self.watchers))
        if len(retired) >= self.net.copies:  # nothing left to train (the watchers stop
            self.model.stop_training = True  # the fit first: one step at most)
        elif retired != self.rows.retired:
            self._retire(retired)

    def on_train_end(self, logs=None):
        self._retire(())


def fit(net: Net, rows: PackedRows, epochs: int, callbacks) -> float:
    """Train ``net`` on ``rows`` for at most ``epochs`` epochs; returns the wall seconds. A
    net built for the compiled fit (JAX) trains there, one compiled call per epoch; any other
    in a Keras ``fit``."""
    if net.compiled:
        from keras_imbalance.comparison import _compiled

        return _compiled.fit(net, rows, epochs, callbacks)
    start = time.perf_counter()
    callbacks = list(callbacks) or [_Synchronous()]
    if net.rates is not None:  # first: the monitors read the rescaled weights
        callbacks.insert(0, CopyRates(net))
    if keras.backend.backend() == "torch" and not getattr(net.model, "jit_compile", False):
        # a stopped copy costs nothing more (eager steps: a shorter batch compiles nothing)
        callbacks.append(_Retire(net, rows, callbacks))
    # the rows shuffle themselves (each copy's, per epoch); Keras' own shuffle of the batch
    # order would draw from Python's global `random` and differ from the compiled fit's
    net.model.fit(rows, epochs=int(epochs), callbacks=callbacks, verbose=0, shuffle=False)
    return time.perf_counter() - start


__all__ = [
    "CopyMonitor",
    "CopyRates",
    "LossSpec",
    "Net",
    "PackedCrossentropy",
    "PackedDense",
    "PackedRows",
    "Snapshots",
    "build_net",
    "check_model",
    "pack_budget",
    "compile_net",
    "fit",
    "scale_free",
]
