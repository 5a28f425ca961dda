"""The compiled packed fit (JAX backend): a fold's copies trained as one XLA program per epoch.

:func:`~._packing.fit` hands a net built as a :class:`Stacked` (every model on the JAX backend
that can be vectorised, see :func:`vectorise`) to :func:`fit` here. The copies' variables are
stacked along a leading axis and the builder's own model is vectorised over them with
``jax.vmap`` of its ``stateless_call``, so any model -- the default CNN, a user's functional or
subclassed model -- trains its copies in one batched computation, as ``PackedDense`` does for
the default MLP (a convolutional model on CPU runs its copies one after the other inside the
compiled program instead: vectorised, its convolutions would become grouped convolutions,
which XLA runs slowly on CPUs; the training step unrolls the copies, as the gradient of a loop
over them ran 4-5x slower, and its max pooling is computed as a reshape, see
:mod:`~._pooling`). One epoch is one call of a compiled function: ``jax.lax.scan``
over the epoch's steps (a convolutional model on CPU: one call per step, see
:func:`_steps_apart`), each step gathering its batch by index from the fold's rows resident on
the device, computing the packed loss (the net's compiled loss, with its per-copy constants
passed as arguments so that folds share one compilation) and applying the optimizer's
``stateless_apply``. The host only draws each epoch's row order (the
same numpy draws as :class:`~._packing.PackedRows`, so a copy trains exactly as on the step-by-
step path) and runs the callbacks (:class:`~._packing.CopyMonitor`,
:class:`~._packing.Snapshots`) between epochs.

Rows read on demand (a :class:`~._data.LazyStack` of image files) are never held whole: the
epoch is fed from the host, a chunk of steps per call (:data:`FEED_BYTES` of rows, as 8-bit
pixels where the store's rows are 8-bit images / 255, scaled inside the program bit for bit),
the next chunk decoded while the previous one trains. The same step runs in both programs,
so a copy's weights are the resident program's.

Exactness and cost:

- a copy's update at each step is the one :class:`~._packing.PackedRows` defines (its own
  rows of the step, weighted mean loss), so a copy still equals its lone fit on full batches;
- copies are grouped by batch size (a copy that keeps 7 % of the rows is not padded to the
  batch of a copy that doubles them) when the loss's per-copy constants can be split;
- a copy that has stopped (its early stopping, its snapshot taken) is frozen by a mask, and
  when at most half the copies still train and ten epochs of the saving outweigh a new
  program's tracing and compilation (measured here), the survivors are packed again (a
  smaller program), so that a stopped copy costs nothing more;
- random numbers (dropout) are drawn once per step for all copies: their seed states start
  equal, so one state is read and advanced for every copy (:func:`_seed_states`);
- the packed loss is called once per step for every batch-size group (traced once);
- shapes are bucketed (rows of the store, batch sizes) and compiled functions are kept per
  architecture and shape, in memory and on disk (JAX's persistent compilation cache, in
  ``~/.cache/keras-imbalance/jax`` or ``$KERAS_IMBALANCE_JAX_CACHE``; ``off`` disables it).

``KERAS_IMBALANCE_COMPILED=0`` turns the compiled path off (the Keras ``fit`` path runs, as on
the torch and tensorflow backends).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from keras_imbalance.comparison._data import predict_rows
from keras_imbalance.comparison._pooling import window_pooling
from keras_imbalance.comparison._rates import rescale_step

ENGINE_ENV = "KERAS_IMBALANCE_COMPILED"
CACHE_ENV = "KERAS_IMBALANCE_JAX_CACHE"
_OFF = ("0", "off", "false", "no", "")

# per-copy constants of the packed losses, passed to the compiled code as arguments (one
# compilation for every fold); a loss not named here is traced with its constants inside
_LIFTED = {"PackedCrossentropy": ("_offsets", "_margins", "_scale", "_gamma", "_smoothing")}


def enabled() -> bool:
    """Whether packed fits run compiled: the JAX backend, unless ``$KERAS_IMBALANCE_COMPILED``
    says ``0``."""
    if keras.backend.backend() != "jax":
        return False
    return os.environ.get(ENGINE_ENV, "1").strip().lower() not in _OFF


_cache_done = False


def cache_dir() -> str | None:
    """The persistent compilation cache's folder (None: disabled by ``$KERAS_IMBALANCE_JAX_CACHE``
    set to ``off``)."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else os.path.expanduser(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras-imbalance", "jax")


def enable_cache() -> None:
    """Point JAX's persistent compilation cache at :func:`cache_dir` (once per process; a
    folder already chosen by the user's own ``jax.config`` is kept)."""
    global _cache_done
    if _cache_done:
        return
    _cache_done = True
    import jax

    where = cache_dir()
    if where is None or jax.config.jax_compilation_cache_dir:
        return
    try:
        os.makedirs(where, exist_ok=True)
    except OSError:  # a read-only home: compile in memory only
        return
    jax.config.update("jax_compilation_cache_dir", where)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


# --------------------------------------------------------------------------------------------
# the stacked model
# --------------------------------------------------------------------------------------------


class _Ref:
    """Holds an object out of Keras' attribute tracking (the lone model is not a sublayer)."""

    def __init__(self, obj):
        self.obj = obj


class Stacked(keras.Model):
    """``copies`` copies of a lone model, their variables stacked on a leading axis and the
    model's ``stateless_call`` vectorised over them: ``(B, C, ...) -> (B, C, K)``.

    ``state``: the ``(trainable, non_trainable)`` values of the copies in the program, each a
    list of arrays of shape ``(len(slots), *variable.shape)`` in the lone model's
    ``trainable_variables`` / ``non_trainable_variables`` order, slot ``s`` holding copy
    ``slots[s]``; ``retired``: the weights of copies taken out of the program (their training
    over). The Keras variables of this model only give the optimizer their shapes.
    """

    def __init__(self, lone, copies: int, key, **kwargs):
        super().__init__(**kwargs)
        self._lone = _Ref(lone)
        self.copies = int(copies)
        self.key = key  # the architecture: compiled functions are shared between equal keys
        c = self.copies
        self._box = _Ref(None)  # plain lists, out of Keras' tracking (jax pytrees)
        self._box.obj = {
            "state": (
                [_stack(v, c) for v in lone.trainable_variables],
                [_stack(v, c) for v in lone.non_trainable_variables],
            ),
            "slots": list(range(c)),
            "retired": {},
        }
        self.stacked = [
            self.add_weight(
                shape=(c, *v.shape), dtype=v.dtype, initializer="zeros", name=f"stacked_{i}"
            )
            for i, v in enumerate(lone.trainable_variables)
        ]
        # lone.get_weights() order -> (0 trainable | 1 non-trainable, position)
        where = {id(v): (0, i) for i, v in enumerate(lone.trainable_variables)}
        where.update({id(v): (1, i) for i, v in enumerate(lone.non_trainable_variables)})
        self._box.obj["order"] = [where[id(w)] for w in lone.weights]
        self.built = True

    @property
    def lone(self):
        return self._lone.obj

    @property
    def state(self) -> tuple:
        return self._box.obj["state"]

    @property
    def slots(self) -> list:
        return self._box.obj["slots"]

    def place(self, state, slots) -> None:
        """Hold ``state`` for the copies ``slots``; a copy that leaves the program keeps its
        weights as they were."""
        box = self._box.obj
        gone = [c for c in box["slots"] if c not in slots and c not in box["retired"]]
        box["retired"].update(self._weights(gone))
        box["state"] = (list(state[0]), list(state[1]))
        box["slots"] = list(slots)

    def call(self, x, training=None):
        return self.logits(x)

    def logits(self, x) -> np.ndarray:
        """``(n, C, K)`` float32 logits of every copy on its rows ``x[:, c]`` (inference; 0
        for a copy out of the program)."""
        x = np.asarray(x, dtype=np.float32)
        slots, n = self.slots, x.shape[0]
        rows = _bucket(n)
        part = x[:, slots]
        if rows > n:
            part = np.concatenate([part, np.zeros((rows - n, *part.shape[1:]), part.dtype)])
        out = np.asarray(_forward_fn(self)(self.state[0], self.state[1], part))[:n]
        if len(slots) == self.copies and slots == sorted(slots):
            return out
        full = np.zeros((n, self.copies, *out.shape[2:]), dtype=out.dtype)
        full[:, slots] = out
        return full

    def _weights(self, wanted) -> dict:
        host = ([np.asarray(v) for v in self.state[0]], [np.asarray(v) for v in self.state[1]])
        slot = {c: i for i, c in enumerate(self.slots)}
        order = self._box.obj["order"]
        return {c: [host[k][i][slot[c]].copy() for k, i in order] for c in wanted}

    def copy_weights(self, wanted) -> dict:
        """``{c: weights}`` in the lone model's ``get_weights()`` order."""
        retired = self._box.obj["retired"]
        found = self._weights([c for c in wanted if c not in retired])
        return {c: found[c] if c in found else [w.copy() for w in retired[c]] for c in wanted}


def _put(array):
    """A numpy array onto the device (``jnp.asarray`` compiles a small program per shape)."""
    import jax

    return jax.device_put(np.asarray(array))


def padded(rows) -> np.ndarray:
    """``rows`` as float32 with zero rows up to :func:`_bucket` of their count (no copy when
    they already are: a store built with :func:`store_rows` rows)."""
    rows = np.asarray(rows, dtype=np.float32)
    n = rows.shape[0]
    total = _bucket(n)
    if total == n:
        return rows
    out = np.zeros((total, *rows.shape[1:]), dtype=np.float32)
    out[:n] = rows
    return out


def store_rows(n: int) -> int:
    """Rows to allocate for a store of ``n`` rows that the compiled fit takes without a copy
    (``n`` where the fit is not compiled)."""
    return _bucket(n) if enabled() else n


def _stack(variable, copies: int):
    """``copies`` copies of a variable's value along a new leading axis (on the host: no
    compilation)."""

    value = np.asarray(variable.value)
    return _put(np.broadcast_to(value, (copies, *value.shape)).copy())


def _architecture(model_fn, lone) -> tuple:
    """What a compiled function depends on in the lone model: the builder (a function, by
    identity: every fold of a comparison calls the same one), the model's class and its
    variables' shapes."""
    try:
        hash(model_fn)
        name = model_fn
    except TypeError:  # an unhashable callable: by identity
        name = (type(model_fn).__qualname__, id(model_fn))
    shapes = tuple((tuple(v.shape), str(v.dtype), bool(v.trainable)) for v in lone.variables)
    return (name, shapes, type(lone).__qualname__)


def vectorise(model_fn, lone, copies: int, sample) -> tuple:
    """``(Stacked, None)``, or ``(None, reason)`` when the lone model cannot be traced under
    ``jax.vmap`` (Python control flow on values, a host callback, outputs that are not one
    array...)."""
    import jax

    enable_cache()
    try:
        model = Stacked(lone, copies, _architecture(model_fn, lone))
        x = jax.numpy.asarray(sample)
        probed = ("probed", model.key, copies, x.shape[2:])
        if probed in _FUNCTIONS:  # this architecture traced before: no need to trace again
            return model, None
        grad = _probe_fn(model)
        jax.eval_shape(grad, model.state[0], model.state[1], x)
        out = jax.eval_shape(_forward_fn(model), model.state[0], model.state[1], x)
        if not hasattr(out, "shape") or out.shape[:2] != x.shape[:2]:
            raise ValueError(f"output {out}")
        _remember(probed, True)
    except Exception as exc:
        return None, _reason(exc)
    return model, None


def _reason(exc: BaseException) -> str:
    """One line: the innermost error's type and first line (Keras wraps a layer's error)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0][:160]}" if lines else type(exc).__name__


def _apply(lone, tv, ntv, x, training):
    """The lone model on one copy's variables: ``(logits, non_trainable, regularisation)``."""
    import jax.numpy as jnp

    kwargs = {"training": training} if getattr(lone, "_call_has_training_arg", True) else {}
    # on CPU, max pooling as a reshape (_pooling: the same numbers, its gradient ~9x faster)
    pooling = window_pooling() if _convolves(lone) else contextlib.nullcontext()
    with pooling:
        out, ntv, losses = lone.stateless_call(tv, ntv, x, return_losses=True, **kwargs)
    reg = sum((jnp.sum(v) for v in losses), jnp.zeros((), "float32"))
    return out, ntv, reg


def _convolves(lone) -> bool:
    """Whether the model has a convolution: vectorised over copies, a convolution with
    per-copy kernels becomes a grouped convolution, which XLA runs slowly on CPUs."""
    import jax

    if jax.default_backend() != "cpu":
        return False
    return any("Conv" in type(layer).__name__ for layer in lone._flatten_layers())


def _seed_states(lone) -> list:
    """Positions in ``lone.non_trainable_variables`` of random-number states (the
    ``SeedGenerator`` of a ``Dropout``...).

    Every copy starts from the lone model's state, so the copies' states are equal: the
    compiled program draws each step's random numbers once for all copies (vectorised, a
    state per copy would draw them once per copy: for a dropout layer that was most of an
    epoch's time) and advances the one state for every copy, stopped ones included. Each
    copy still gets fresh masks at every step, as alone; the copies share them (as the
    default MLP's packed form shares one mask per row), their weights stay apart.
    """
    ids = set()
    for layer in lone._flatten_layers():
        for generator in getattr(layer, "_seed_generators", ()):
            ids.add(id(generator.state))
    return [i for i, v in enumerate(lone.non_trainable_variables) if id(v) in ids]


def _vmapped(lone, training):
    """The lone model over the copies: ``(tv, ntv, x (B, C, ...)) -> (out (B, C, K), ntv,
    regularisation)``; ``jax.vmap`` (one batched computation), or, for a convolutional model
    on CPU, the copies one after the other inside the compiled program (unrolled when
    training). The random-number states (:func:`_seed_states`) are read from slot 0 and
    shared by every copy; the returned ntv holds their one new value in every slot."""
    import jax
    import jax.numpy as jnp

    shared = set(_seed_states(lone))

    def one(t, n, xc):
        return _apply(lone, t, n, xc, training)

    if shared and not _convolves(lone):

        def run(tv, ntv, x):  # x: (B, C, ...) pytree; returns (B, C, K)
            own = [v for i, v in enumerate(ntv) if i not in shared]
            common = [v[0] for i, v in enumerate(ntv) if i in shared]

            def split(t, o, s, xc):
                it_o, it_s = iter(o), iter(s)
                n = [next(it_s) if i in shared else next(it_o) for i in range(len(ntv))]
                out, n, reg = one(t, n, xc)
                return (
                    out,
                    [v for i, v in enumerate(n) if i not in shared],
                    reg,
                    [v for i, v in enumerate(n) if i in shared],
                )

            vm = jax.vmap(split, in_axes=(0, 0, None, 1), out_axes=(0, 0, 0, None))
            out, own, reg, common = vm(tv, own, common, x)
            it_o, it_s = iter(own), iter(common)
            c = out.shape[0]
            new = [
                jnp.broadcast_to(next(it_s), (c, *v.shape[1:])) if i in shared else next(it_o)
                for i, v in enumerate(ntv)
            ]
            return jnp.swapaxes(out, 0, 1), new, jnp.sum(reg)

        return run

    if _convolves(lone):
        # training: the copies unrolled in the program (the gradient of a loop over them ran
        # 4-5x slower on CPU than the same copies unrolled; compiling takes longer in
        # proportion to the copies); predicting: a loop (as fast either way)
        unroll = bool(training)

        def run(tv, ntv, x):
            xs = jax.tree_util.tree_map(lambda a: jnp.swapaxes(a, 0, 1), x)
            _, (out, ntv, reg) = jax.lax.scan(
                lambda carry, args: (carry, one(*args)), None, (tv, ntv, xs), unroll=unroll
            )
            return jnp.swapaxes(out, 0, 1), ntv, jnp.sum(reg)

        return run

    def run(tv, ntv, x):  # x: (B, C, ...) pytree; returns (B, C, K)
        out, ntv, reg = jax.vmap(one, in_axes=(0, 0, 1))(tv, ntv, x)
        return jnp.swapaxes(out, 0, 1), ntv, jnp.sum(reg)

    return run


_FUNCTIONS: dict = {}  # key -> compiled function (insertion order: oldest first)
_KEEP = 64


def _remember(key, fn):
    """Keep ``fn`` under ``key``, forgetting the oldest beyond :data:`_KEEP` (a function holds
    its lone model and loss)."""
    _FUNCTIONS[key] = fn
    while len(_FUNCTIONS) > _KEEP:
        del _FUNCTIONS[next(iter(_FUNCTIONS))]
    return fn


def _forward_fn(model: Stacked):
    """The compiled inference of ``model``: ``(tv, ntv, x) -> (B, C, K)`` float32 logits."""
    import jax

    key = ("forward", model.key)
    if key not in _FUNCTIONS:
        run = _vmapped(model.lone, False)
        _remember(key, jax.jit(lambda tv, ntv, x: run(tv, ntv, x)[0]))
    return _FUNCTIONS[key]


def predict(model_fn, lone, x: np.ndarray) -> np.ndarray:
    """``(n, K)`` float64 logits of the lone model ``lone`` (built by ``model_fn``, with its
    current weights) on ``x``: compiled calls (traced once per architecture and row bucket)
    of at most :func:`~._data.predict_rows` rows each, instead of Keras' eager call, one
    small program per layer operation."""
    import jax

    enable_cache()
    key = ("predict", _architecture(model_fn, lone))
    if key not in _FUNCTIONS:
        kwargs = {"training": False} if getattr(lone, "_call_has_training_arg", True) else {}

        def forward(tv, ntv, x, lone=lone):
            return lone.stateless_call(tv, ntv, x, **kwargs)[0]

        _remember(key, jax.jit(forward))
    fn = _FUNCTIONS[key]
    tv = [v.value for v in lone.trainable_variables]
    ntv = [v.value for v in lone.non_trainable_variables]
    parts = []
    # one shape for every full chunk, of bounded bytes (rows read on demand are decoded a
    # chunk at a time: a test fold of image files is never one array)
    step = predict_rows(x, _PREDICT_CHUNK)
    for i in range(0, x.shape[0], step):
        part = np.asarray(x[i : i + step], dtype=np.float32)
        n, rows = part.shape[0], _bucket(part.shape[0])
        if rows > n:
            part = np.concatenate([part, np.zeros((rows - n, *part.shape[1:]), part.dtype)])
        parts.append(np.asarray(fn(tv, ntv, part), dtype=np.float64)[:n])
    return np.concatenate(parts, axis=0)


_PREDICT_CHUNK = 8192


def _probe_fn(model: Stacked):
    """A gradient of the stacked model's outputs (to check that it traces under vmap)."""
    import jax
    import jax.numpy as jnp

    run = _vmapped(model.lone, True)

    def loss(tv, ntv, x):
        out, _, reg = run(tv, ntv, x)
        return jnp.sum(out.astype("float32")) + reg

    return jax.grad(loss)


# --------------------------------------------------------------------------------------------
# the compiled fit
# --------------------------------------------------------------------------------------------


def _bucket(n: int, fine: int = 8) -> int:
    """``n`` rounded up to a coarse grid (``fine`` steps per power of two): shapes of
    neighbouring folds fall in one bucket and share one compilation."""
    if n <= fine:
        return max(int(n), 1)
    grid = 2 ** max(0, math.floor(math.log2(n)) - int(math.log2(fine)))
    return int(math.ceil(n / grid) * grid)


def _lifted(loss) -> tuple:
    """``(names, values)`` of the per-copy constants of ``loss`` passed as arguments."""
    names = _LIFTED.get(type(loss).__name__, ())
    names = tuple(n for n in names if isinstance(getattr(loss, n, None), np.ndarray))
    return names, [np.asarray(getattr(loss, n)) for n in names]


def _loss_key(loss, names) -> tuple:
    """What a compiled function depends on in the loss: its type, its flags and (for a loss
    whose constants are not passed as arguments) the object itself."""
    flags = repr(sorted(getattr(loss, "_use", {}).items()))
    base = (type(loss).__module__, type(loss).__qualname__, flags, names)
    if names:
        shape = tuple(np.shape(getattr(loss, n)) for n in names)
        return (*base, getattr(loss, "n_classes", None), shape)
    return (*base, id(loss))


class _Swap:
    """Sets the loss's constants to the traced arguments while the loss is traced."""

    def __init__(self, loss, names, values):
        self.loss, self.names, self.values = loss, names, values

    def __enter__(self):
        self.saved = [getattr(self.loss, n) for n in self.names]
        for n, v in zip(self.names, self.values, strict=True):
            object.__setattr__(self.loss, n, v)

    def __exit__(self, *exc):
        for n, v in zip(self.names, self.saved, strict=True):
            object.__setattr__(self.loss, n, v)


@dataclass
class _Group:
    """Copies trained with one batch size: slots ``[start, stop)`` of the packed state."""

    start: int
    stop: int
    batch: int


@dataclass
class _Layout:
    """Which copies the compiled program trains, in which slots, in which batch groups."""

    slots: list  # slot -> copy
    groups: list = field(default_factory=list)

    def shape_key(self) -> tuple:
        return tuple((g.stop - g.start, g.batch) for g in self.groups)


_COMPILE_S = [3.0]  # seconds a new epoch program costs here: trace + compile (largest seen)


def _epoch_key(model, optimizer, loss, names, layout, steps, y_ndim) -> tuple:
    """What an epoch program depends on."""
    return (
        "epoch",
        model.key,
        type(optimizer).__qualname__,
        repr(sorted((k, v) for k, v in optimizer.get_config().items() if k != "name")),
        _loss_key(loss, names),
        layout.shape_key(),
        steps,
        y_ndim,
    )


def _step_fn(model: Stacked, optimizer, loss, names, layout: _Layout, y_ndim):
    """One training step of every copy in ``layout``: ``(tv, ntv, ov, consts, live, batch,
    weight) -> (tv, ntv, ov, loss)``, where ``batch(at, size, b) -> (x, y)`` gives the rows
    ``[at, at + size * b)`` of the step (batch-major) as ``x`` ``(b, size, ...)`` and their
    labels ``y`` ``(b, size, ...)``, and ``weight`` is the step's ``(sum_g B_g C_g,)``."""
    import jax
    import jax.numpy as jnp

    lone = model.lone
    run = _vmapped(lone, True)
    c = layout.groups[-1].stop
    per_copy = [v.ndim >= 1 and v.shape[0] == c for v in optimizer.variables]
    seeds = set(_seed_states(lone))
    groups = list(layout.groups)

    # one call of the loss for every group (its per-copy constants gathered per row), when
    # its constants are arguments and a label is one code per row: the loss is traced once
    merge = bool(names) and len(groups) > 1 and y_ndim == 1
    copy_of = np.concatenate(  # the slot of each (row, copy) entry, groups concatenated
        [np.tile(np.arange(g.start, g.stop), g.batch) for g in groups]
    )

    def group_forward(tv, ntv, batch, at, g):
        sl = slice(g.start, g.stop)
        t = [v[sl] for v in tv]
        n = [v[sl] for v in ntv]
        x, y = batch(at, g.stop - g.start, g.batch)  # (B_g, C_g, ...)
        out, n, reg = run(t, n, x)
        return out, y, n, reg

    def group_loss(y, w, out, consts):
        wb = jnp.reshape(w, w.shape + (1,) * (y.ndim - 2))
        y_true = jnp.stack([y, jnp.broadcast_to(wb, y.shape)], axis=-1)
        with _Swap(loss, names, consts):
            return loss(y_true, out)

    def update(tv, ntv, ov, consts, live, batch, weight):
        def total(tv):
            value, new_n, at = jnp.zeros((), "float32"), [], 0
            outs, ys, ws = [], [], []
            for g in groups:
                size = g.stop - g.start
                w = weight[at : at + size * g.batch].reshape(g.batch, size)
                out, y, n, reg = group_forward(tv, ntv, batch, at, g)
                at += size * g.batch
                value = value + reg
                new_n.append(n)
                if merge:  # the group's mean over its B_g batch rows folded into the weights
                    outs.append(jnp.reshape(out, (-1, out.shape[-1])))
                    ys.append(jnp.reshape(y, (-1,)))
                    ws.append(jnp.reshape(w, (-1,)) / g.batch)
                else:
                    sl = slice(g.start, g.stop)
                    value = value + group_loss(y, w, out, [v[sl] for v in consts])
            if merge:  # as one batch row of sum_g B_g C_g copies
                out = jnp.concatenate(outs)[None]
                y, w = jnp.concatenate(ys)[None], jnp.concatenate(ws)[None]
                value = value + group_loss(y, w, out, [v[copy_of] for v in consts])
            merged = [jnp.concatenate(parts, axis=0) for parts in zip(*new_n, strict=True)]
            return value, merged

        (value, new_ntv), grads = jax.value_and_grad(total, has_aux=True)(tv)
        new_tv, new_ov = optimizer.stateless_apply(ov, grads, tv)

        def keep(new, old):
            mask = jnp.reshape(live, (c,) + (1,) * (new.ndim - 1))
            return jnp.where(mask, new, old)

        tv = [keep(a, b) for a, b in zip(new_tv, tv, strict=True)]
        # a random-number state advances for every copy (it is shared: _seed_states)
        ntv = [
            a if i in seeds else keep(a, b)
            for i, (a, b) in enumerate(zip(new_ntv, ntv, strict=True))
        ]
        ov = [keep(a, b) if p else a for a, b, p in zip(new_ov, ov, per_copy, strict=True)]
        return tv, ntv, ov, value

    return update


def _epoch_fn(model: Stacked, optimizer, loss, names, layout: _Layout, steps: int, y_ndim):
    """The compiled epoch on rows resident on the device: ``(tv, ntv, ov, store, labels,
    consts, index, weight, live) -> (tv, ntv, ov, losses)``; ``index`` / ``weight`` ``(steps,
    sum B_g)`` per group concatenated, ``live`` ``(C,)`` which slots still train."""
    import jax

    key = _epoch_key(model, optimizer, loss, names, layout, steps, y_ndim)
    if key in _FUNCTIONS:
        return _FUNCTIONS[key]
    update = _step_fn(model, optimizer, loss, names, layout, y_ndim)

    def one(tv, ntv, ov, store, labels, consts, live, index, weight):
        def batch(at, size, b):  # the step's rows gathered by index from the store
            idx = index[at : at + size * b].reshape(b, size)
            return jax.tree_util.tree_map(lambda s: s[idx], store), labels[idx]

        return update(tv, ntv, ov, consts, live, batch, weight)

    if _steps_apart(model.lone):
        step = jax.jit(one)

        def epoch_apart(tv, ntv, ov, store, labels, consts, index, weight, live):
            fixed = (store, labels, consts, live)
            return _each_step(
                step, (tv, ntv, ov), len(index), lambda i: (*fixed, index[i], weight[i])
            )

        return _remember(key, epoch_apart)

    def step(carry, inputs):
        tv, ntv, ov, store, labels, consts, live = carry
        tv, ntv, ov, value = one(tv, ntv, ov, store, labels, consts, live, *inputs)
        return (tv, ntv, ov, store, labels, consts, live), value

    def epoch(tv, ntv, ov, store, labels, consts, index, weight, live):
        # index / weight: (steps, sum_g B_g * C_g), batch-major within each group
        carry = (tv, ntv, ov, store, labels, consts, live)
        carry, values = jax.lax.scan(step, carry, (index, weight))
        return carry[0], carry[1], carry[2], values

    return _remember(key, jax.jit(epoch))


def _steps_apart(lone) -> bool:
    """Whether the steps run as one compiled call each instead of a loop inside one program:
    for a convolutional model on CPU, where a training step inside an XLA loop ran about 5x
    slower than the same step called on its own (the gradients of its convolutions); the
    Python between calls is a small share of such a step."""
    return _convolves(lone)


def _each_step(step, state: tuple, count: int, args_of) -> tuple:
    """``state`` ``(tv, ntv, ov)`` through ``count`` calls of the compiled ``step(tv, ntv, ov,
    *args_of(i))`` (:func:`_steps_apart`): the new state and the steps' losses, as the
    compiled loop returns them."""
    import jax.numpy as jnp

    values = []
    for i in range(count):
        *state, value = step(*state, *args_of(i))
        values.append(value)
    return (*state, jnp.stack(values))


#: 8-bit pixel values as float32 (``v / 255``, numpy's division): the fed program scales
#: 8-bit rows by this table, so they equal the decoded float32 rows bit for bit
_SCALE8 = np.arange(256, dtype=np.float32) / np.float32(255.0)


def _fed_fn(model: Stacked, optimizer, loss, names, layout: _Layout, chunk: int, y_ndim, kind):
    """The compiled epoch fed from the host, ``chunk`` steps per call: ``(tv, ntv, ov,
    consts, live, xs, ys, weight, n) -> (tv, ntv, ov, losses)``; ``xs`` ``(chunk, sum_g B_g
    C_g, ...)`` the steps' rows (``kind`` ``"uint8"``: 8-bit pixels, scaled by
    :data:`_SCALE8` here), ``ys`` their labels, ``weight`` ``(chunk, sum_g B_g C_g)``; the
    first ``n`` steps run (the last call of an epoch may have fewer)."""
    import jax
    import jax.numpy as jnp

    key = _fed_key(model, optimizer, loss, names, layout, chunk, y_ndim, kind)
    if key in _FUNCTIONS:
        return _FUNCTIONS[key]
    update = _step_fn(model, optimizer, loss, names, layout, y_ndim)

    def one(tv, ntv, ov, consts, live, x_i, y_i, weight_i):
        def batch(at, size, b):  # the step's rows as gathered on the host
            x = x_i[at : at + size * b]
            if x.dtype == jnp.uint8:
                x = jnp.asarray(_SCALE8)[x.astype("int32")]
            part = y_i[at : at + size * b]
            return x.reshape(b, size, *x.shape[1:]), part.reshape(b, size, *part.shape[1:])

        return update(tv, ntv, ov, consts, live, batch, weight_i)

    if _steps_apart(model.lone):
        step = jax.jit(one)

        def calls_apart(tv, ntv, ov, consts, live, xs, ys, weight, n):
            args_of = lambda i: (consts, live, xs[i], ys[i], weight[i])  # noqa: E731
            return _each_step(step, (tv, ntv, ov), int(n), args_of)

        return _remember(key, calls_apart)

    def calls(tv, ntv, ov, consts, live, xs, ys, weight, n):
        def body(i, carry):
            tv, ntv, ov, values = carry
            tv, ntv, ov, value = one(tv, ntv, ov, consts, live, xs[i], ys[i], weight[i])
            return tv, ntv, ov, values.at[i].set(value)

        values = jnp.zeros((xs.shape[0],), "float32")
        return jax.lax.fori_loop(0, n, body, (tv, ntv, ov, values))

    return _remember(key, jax.jit(calls))


def _fed_key(model, optimizer, loss, names, layout, chunk, y_ndim, kind) -> tuple:
    return ("fed", kind, *_epoch_key(model, optimizer, loss, names, layout, chunk, y_ndim))


#: Bytes of rows one call of the fed epoch program takes (:func:`_chunk_steps`)
FEED_BYTES = 16 << 20


def _chunk_steps(step_bytes: int, steps: int) -> int:
    """Steps per call of the fed program: as many as fit :data:`FEED_BYTES` (at least 1), a
    power of two, at most the epoch's steps rounded up to one (one program per shape)."""
    most = max(1, FEED_BYTES // max(1, int(step_bytes)))
    chunk = 2 ** int(math.floor(math.log2(most)))
    return int(min(chunk, 2 ** math.ceil(math.log2(max(1, steps)))))


_MIN_BATCH = 16  # a group's batch is at least this (small batches of neighbouring folds: 8, 9...)


def _batch_bucket(b: int) -> int:
    """A group's batch size on the bucket grid, at least :data:`_MIN_BATCH` rows: padding a
    few small copies costs less than a second program for the fold next door."""
    return _bucket(max(int(b), _MIN_BATCH))


def _plan_layout(sizes: dict, steps: int, split: bool) -> _Layout:
    """Slots ordered by batch size (largest first), a new group where the batch halves (one
    group, the copies in order, when the loss's constants cannot be split); ``sizes``: rows
    per copy."""
    batch = {c: max(1, math.ceil(n / steps)) for c, n in sizes.items()}
    if not split:  # the loss holds every copy's constants in the copies' order: keep it
        return _Layout(sorted(sizes), [_Group(0, len(sizes), _batch_bucket(max(batch.values())))])
    order = sorted(sizes, key=lambda c: -batch[c])
    groups: list = []
    for i, c in enumerate(order):
        b = _batch_bucket(batch[c])
        if groups and (not split or b * 2 > groups[-1].batch):
            groups[-1].stop = i + 1
        else:
            groups.append(_Group(i, i + 1, b))
    return _Layout(order, groups)


def _fits(layout: _Layout, sizes: dict, steps: int) -> bool:
    """Whether every copy's batch fits its group's."""
    return all(
        math.ceil(sizes[c] / steps) <= g.batch
        for g in layout.groups
        for c in layout.slots[g.start : g.stop]
    )


def _arrays(rows, layout: _Layout, draws: list):
    """``(index, weight)`` of one epoch: ``(steps, sum_g B_g C_g)`` int32 / float32, each
    group's ``(B_g, C_g)`` block flattened row-major."""

    idx_parts, w_parts = [], []
    for g in layout.groups:
        copies = layout.slots[g.start : g.stop]
        index, scaled = rows.plan([draws[c] for c in copies], g.batch)
        idx_parts.append(index.reshape(rows.steps, -1))
        w_parts.append(scaled.reshape(rows.steps, -1))
    # numpy: the compiled call moves them (cheaper than a device_put each)
    index = np.concatenate(idx_parts, axis=1).astype(np.int32)
    weight = np.concatenate(w_parts, axis=1).astype(np.float32)
    return index, weight


def _retired(callbacks, copies: int) -> set:
    """Copies whose training is over, as the callbacks that know say (``retired()`` of a
    :class:`CopyMonitor`: early-stopped copies and their refit partners; of
    :class:`Snapshots`: copies whose snapshot is taken)."""
    done = set()
    for cb in callbacks:
        retired = getattr(cb, "retired", None)
        if callable(retired):
            done.update(retired())
    return {c for c in done if 0 <= c < copies}


class _Run:
    """The state of one compiled fit: which copies sit in which slots of the program."""

    def __init__(self, net, rows, optimizer, loss):

        self.rows, self.model = rows, net.model
        self.optimizer, self.loss = optimizer, loss
        self.names, self.consts_full = _lifted(loss)
        # rows read on demand (image files: a LazyStack) are fed from the host a chunk of
        # steps per call (:meth:`_feed`); an array is put on the device whole (resident)
        self.fed = not isinstance(rows.store, np.ndarray)
        if self.fed:
            self.store, self.labels = rows.store, np.asarray(rows.labels, dtype=np.float32)
            self.kind = "uint8" if getattr(rows.store, "eight_bit", False) else "float32"
        else:
            self.store, self.labels = _put(padded(rows.store)), _put(padded(rows.labels))
            if getattr(rows, "transient", False):  # on the device now: the host copy can go
                rows.store = None
        self.y_ndim = np.ndim(rows.labels)
        self.layout = None
        self.ov = None
        self.seconds: list = []  # wall seconds of each epoch call
        self.new, self.compiling = False, None
        self.ahead = None  # (epoch, its draws, the layout, its batches), drawn ahead
        self.buffers: list = [None, None]  # the fed program's rows, two calls' (_buffer)

    def pack(self, slots: list, sizes: dict) -> None:
        """Lay out ``slots`` (the copies still training) for batches of ``sizes`` rows; the
        program's state gathered on the host (no compilation for the shuffle)."""

        model = self.model
        previous = model.slots
        layout = _plan_layout({c: sizes[c] for c in slots}, self.rows.steps, bool(self.names))
        where = np.asarray([previous.index(c) for c in layout.slots])
        state = tuple([_put(np.asarray(v)[where]) for v in part] for part in model.state)
        model.place(state, layout.slots)
        self.consts = [_put(v[layout.slots]) for v in self.consts_full]
        c, old_c = len(layout.slots), len(previous)
        if self.ov is None:
            self.opt = self.optimizer
            self.opt.build(model.stacked)
            self.ov = [v.value for v in self.opt.variables]
            old_c = model.copies
        if c != old_c:
            self.opt = self._rebuild(c)
        self.ov = [
            _put(np.asarray(v)[where]) if v.ndim >= 1 and v.shape[0] == old_c else v
            for v in self.ov
        ]
        self.layout = layout
        self.new_program = self._key(layout) not in _FUNCTIONS
        if self.fed:
            self.chunk = self._chunk(layout)
            self.fn = _fed_fn(
                model, self.opt, self.loss, self.names, layout, self.chunk, self.y_ndim, self.kind
            )
        else:
            self.fn = _epoch_fn(
                model, self.opt, self.loss, self.names, layout, self.rows.steps, self.y_ndim
            )
        self.new = self.new_program  # the next call compiles (or reads the disk cache)

    def _chunk(self, layout: _Layout) -> int:
        """Steps per call of the fed program (:func:`_chunk_steps`) for ``layout``."""
        entries = sum((g.stop - g.start) * g.batch for g in layout.groups)
        row = int(np.prod(self.store.shape[1:])) * (1 if self.kind == "uint8" else 4)
        return _chunk_steps(entries * row, self.rows.steps)

    def _key(self, layout: _Layout) -> tuple:
        """The key of the program that trains ``layout``."""
        args = (self.model, self.opt, self.loss, self.names, layout)
        if self.fed:
            return _fed_key(*args, self._chunk(layout), self.y_ndim, self.kind)
        return _epoch_key(*args, self.rows.steps, self.y_ndim)

    def _rebuild(self, c: int):
        """An optimizer of the same configuration built for ``c`` copies (its variables then
        replaced by the survivors' values)."""
        opt = self.optimizer.__class__.from_config(self.optimizer.get_config())
        opt.build(
            [
                keras.Variable(np.zeros((c, *v.shape[1:]), dtype=v.dtype), trainable=True)
                for v in self.model.stacked
            ]
        )
        if len(opt.variables) != len(self.ov):
            raise RuntimeError("the optimizer's variables changed when its copies were re-packed")
        return opt

    def worth_repacking(self, live: list, sizes: dict) -> bool:
        """Whether leaving the stopped copies out pays for a new program: at most half the
        slots still train, and ten epochs at the saving outweigh its compilation (none when
        this process holds the program already)."""
        if len(live) > len(self.layout.slots) // 2 or not self.names or len(self.seconds) < 2:
            return False
        layout = _plan_layout({c: sizes[c] for c in live}, self.rows.steps, True)
        cost = 0.0 if self._key(layout) in _FUNCTIONS else _COMPILE_S[0]
        steady = float(np.median(self.seconds[1:]))
        return 10 * steady * (1 - len(live) / len(self.layout.slots)) > cost

    def _draw_ahead(self, e: int, start: float, losses) -> float:
        """Draw epoch ``e``'s rows and batches (for the layout of now) while the dispatched
        program runs (JAX returns before it finishes), then wait for it; its seconds from
        ``start``. Draws are a function of the epoch, so the next epoch takes these (its
        batches too when the layout stayed)."""
        drawn = time.perf_counter()
        draws = self.rows.draws(e)
        self.ahead = (e, draws, self.layout, _arrays(self.rows, self.layout, draws))
        drawn = time.perf_counter() - drawn
        ready = losses.is_ready()
        losses.block_until_ready()
        took = time.perf_counter() - start
        # the program ended while drawing: its seconds lie between the dispatch and the
        # end of the drawing; the middle (the epoch timings only weigh re-packing)
        return took - drawn / 2 if ready else took

    def epoch(self, e: int, retired: set) -> None:
        """Train epoch ``e`` (from 1); copies in ``retired`` are frozen (left out of the
        program once that pays)."""
        ahead, self.ahead = self.ahead, None
        draws = ahead[1] if ahead is not None and ahead[0] == e else self.rows.draws(e)
        sizes = {c: r.size for c, (r, _) in enumerate(draws)}
        if self.layout is None:
            self.pack(list(range(len(draws))), sizes)
        live = [c for c in self.layout.slots if c not in retired]
        if len(live) < len(self.layout.slots) and self.worth_repacking(live, sizes):
            self.pack(live, sizes)
        elif not _fits(self.layout, sizes, self.rows.steps):  # a redrawn copy grew
            self.pack(list(self.layout.slots), sizes)
        if ahead is not None and ahead[0] == e and ahead[2] is self.layout:
            index, weight = ahead[3]
        else:
            index, weight = _arrays(self.rows, self.layout, draws)
        mask = np.asarray([c not in retired for c in self.layout.slots])
        start = time.perf_counter()
        tv, ntv = self.model.state
        if self.fed:
            tv, ntv, self.ov, losses = self._feed(tv, ntv, index, weight, mask)
        else:
            tv, ntv, self.ov, losses = self.fn(
                tv, ntv, self.ov, self.store, self.labels, self.consts, index, weight, mask
            )
        self.model.place((tv, ntv), self.layout.slots)
        took = self._draw_ahead(e + 1, start, losses)
        self.seconds.append(took)
        if self.new:  # this call compiled the program: its excess over later calls
            self.compiling, self.new = took, False
        elif self.compiling is not None and len(self.seconds) >= 3:
            steady = float(np.median(self.seconds[-2:]))
            _COMPILE_S[0] = max(_COMPILE_S[0], self.compiling - steady)
            self.compiling = None

    def _feed(self, tv, ntv, index, weight, live) -> tuple:
        """One epoch of the fed program: the rows of :attr:`chunk` steps gathered on the host
        (decoded from their files) while the previous call runs, one call each; at most
        one call's rows wait on the device, so memory holds two chunks, whatever the
        store's size. The rows go into two buffers used in turn (:meth:`_buffer`; JAX reads
        a numpy argument in place on the CPU, so a buffer is written again only once its
        call has ended). Returns what the resident program returns (the last call's
        losses)."""
        steps, chunk = index.shape[0], self.chunk
        ov, running = self.ov, None
        for j, lo in enumerate(range(0, steps, chunk)):
            # the buffer of call j - 2, which ended before call j - 1 was dispatched (and
            # an epoch's last call ends before the next epoch: _draw_ahead waits for it)
            rows = self._buffer(j % 2, index.shape[1])
            xs, ys, ws = self._gather(index[lo : lo + chunk], weight[lo : lo + chunk], rows)
            if running is not None:  # the previous call's rows leave before these go in
                running.block_until_ready()
            n = np.int32(min(chunk, steps - lo))
            tv, ntv, ov, running = self.fn(tv, ntv, ov, self.consts, live, xs, ys, ws, n)
        return tv, ntv, ov, running

    def _buffer(self, k: int, entries: int) -> np.ndarray:
        """Host buffer ``k`` (0 or 1) of one call's rows, ``(chunk, entries, ...)`` of the
        fed kind; made again when the layout or the chunk changed."""
        shape = (self.chunk, entries, *self.store.shape[1:])
        buffers = self.buffers
        if buffers[k] is None or buffers[k].shape != shape:
            buffers[k] = np.zeros(shape, dtype=self._dtype())
        return buffers[k]

    def _gather(self, index: np.ndarray, weight: np.ndarray, rows: np.ndarray) -> tuple:
        """``(xs, ys, weight)`` of the steps ``index`` (``(n, entries)`` store rows), padded
        with zeros to :attr:`chunk` steps: the rows (8-bit pixels where the store has them),
        written into ``rows`` (a buffer of :meth:`_buffer`), their labels and their
        weights."""
        n, entries = index.shape
        pad = self.chunk - n
        if self.kind == "uint8":
            self.store.codes(index, out=rows[:n])  # decoded straight into the buffer
        else:
            rows[:n] = self.store[index]
        rows[n:] = 0
        ys = self.labels[index]
        if pad:
            ys = np.concatenate([ys, np.zeros((pad, *ys.shape[1:]), ys.dtype)])
            weight = np.concatenate([weight, np.zeros((pad, entries), weight.dtype)])
        return rows, ys, weight

    def _dtype(self):
        return np.uint8 if self.kind == "uint8" else np.float32


class _Rated:
    """The builder's optimizer with each copy's own learning rate and weight decay
    (:func:`._rates.copy_rates`): its variables are the optimizer's plus the ``(C, 2)``
    factors, which follow their copies through re-packing like any per-copy slot variable;
    ``stateless_apply`` rescales the shared step per copy (:func:`._rates.rescale_step`)."""

    def __init__(self, base, rates=None):
        self.base, self.rates = base, rates
        self.variables: list = []

    def get_config(self) -> dict:
        return {**self.base.get_config(), "per_copy_rates": type(self.base)}

    @classmethod
    def from_config(cls, config):  # an optimizer for fewer copies (_Run._rebuild)
        config = dict(config)
        return cls(config.pop("per_copy_rates").from_config(config))

    def build(self, variables) -> None:
        self.base.build(variables)
        c = int(variables[0].shape[0])
        rates = np.zeros((c, 2), np.float32) if self.rates is None else self.rates
        self.variables = [*self.base.variables, keras.Variable(rates, trainable=False)]

    def stateless_apply(self, ov, grads, tv):
        rates = ov[-1]
        new_tv, new_ov = self.base.stateless_apply(list(ov[:-1]), grads, tv)
        new_tv = [
            rescale_step(old, new, rates[:, 0], rates[:, 1])
            for old, new in zip(tv, new_tv, strict=True)
        ]
        return new_tv, [*new_ov, rates]


def fit(net, rows, epochs: int, callbacks) -> float:
    """Train the :class:`Stacked` ``net`` on ``rows`` (:class:`~._packing.PackedRows`) for at
    most ``epochs`` epochs, one compiled call per epoch; the callbacks run between epochs as
    in a Keras fit. Returns the wall seconds."""
    start = time.perf_counter()
    model = net.model
    optimizer = model.optimizer if net.rates is None else _Rated(model.optimizer, net.rates)
    run = _Run(net, rows, optimizer, model.loss)
    callbacks = list(callbacks)
    model.stop_training = False
    for cb in callbacks:
        cb.set_model(model)
        cb.on_train_begin()
    for e in range(1, int(epochs) + 1):
        retired = _retired(callbacks, net.copies)
        if len(retired) == net.copies:
            break
        for cb in callbacks:
            cb.on_epoch_begin(e - 1)
        run.epoch(e, retired)
        for cb in callbacks:
            cb.on_epoch_end(e - 1, {})
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end()
    return time.perf_counter() - start


__all__: list[Any] = ["Stacked", "cache_dir", "enabled", "fit", "predict", "vectorise"]
