"""Every model packed on the torch backend: a builder's copies vectorised with ``torch.func``.

A builder without a ``packed`` form (the default :func:`cnn_model`, a user's Sequential,
functional or subclassed model) used to train its copies on torch as a per-copy stack: one
Keras model per copy, called one after the other at every step, so packing shared only Keras'
own per-step work. Here the copies' variables are stacked along a leading axis (one Keras
variable of shape ``(C, *shape)`` per variable of the builder's model) and the builder's own
model is called once per step on all of them: its ``stateless_call`` vectorised over the
copies with ``torch.func.vmap``, each copy on its own rows ``x[:, c]`` (:class:`Vectorised`).
The packed Keras fit (:func:`._packing.fit`) trains it as it trains any packed model:
autograd through the vectorised call gives each copy's gradient of the packed loss (its own
loss), and the builder's optimizer updates the stacked variables, element by element, as it
would update each copy alone (Adam, AdamW, SGD, RMSprop...: the same exactness conditions as
the other packed forms, :mod:`._packing`).

- Random-number states (a ``Dropout``'s ``SeedGenerator``) start equal in every copy: one state
  is read and advanced for all (as on the JAX backend, :func:`._compiled._seed_states`), and
  each step's random numbers are drawn once (``randomness="same"``): the copies share one mask
  per step, each a fresh one at every step.
- Other non-trainable variables (``BatchNormalization``'s moving statistics) are per copy.
- Regularisation losses of the copies are added up (each copy's gradient is its own).
- Keras' torch convolution asks a memory-layout question that ``torch.func.vmap`` does not
  answer: skipped for batched tensors while the vectorised model runs (:func:`_layout_hint_off`:
  same values).
- A convolutional model on large images (:func:`one_by_one`) runs its copies one after the
  other inside the one model call (as the compiled JAX fold does with ``jax.lax.map``):
  vectorised, its convolutions would become grouped convolutions, slow on CPUs.

A model that cannot be vectorised (a value read on the host: ``.item()``, ``float(x)``, a
branch on a tensor's value; an operation without a batching rule...) is found by one forward
and backward pass on a few rows (:func:`vectorise`), and its copies train on the per-copy
stack, with a note naming the failure. ``KERAS_IMBALANCE_VMAP=0`` turns this path off (the
per-copy stack, as before it, for comparisons).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os

import keras
import numpy as np

from keras_imbalance.comparison._compiled import _OFF, _reason, _Ref

VMAP_ENV = "KERAS_IMBALANCE_VMAP"


def enabled() -> bool:
    """Whether a builder's copies are vectorised with ``torch.func`` on the torch backend: the
    torch backend, unless ``$KERAS_IMBALANCE_VMAP`` says ``0``."""
    if keras.backend.backend() != "torch":
        return False
    return os.environ.get(VMAP_ENV, "1").strip().lower() not in _OFF


def _seed_ids(lone) -> set:
    """``id`` of every random-number state variable of ``lone`` (shared by the copies)."""
    return {
        id(generator.state)
        for layer in lone._flatten_layers()
        for generator in getattr(layer, "_seed_generators", ())
    }


@contextlib.contextmanager
def _layout_hint_off():
    """Keras' torch convolution converts its input and kernel to channels-last memory when
    they are not (a speed hint), asking ``tensor.is_contiguous(memory_format=...)``, which
    ``torch.func.vmap`` cannot answer for a batched tensor (``NYI: querying is_contiguous
    inside of vmap``); for the duration, a batched tensor keeps its layout (the values, and
    so the convolution, are the same)."""
    import torch

    try:
        module = importlib.import_module("keras.src.backend.torch.nn")
        hint = module._maybe_convert_to_channels_last
    except (ImportError, AttributeError):  # another Keras: nothing to step around
        yield
        return
    batched = torch._C._functorch.is_batchedtensor

    def keep_batched(tensor):
        return tensor if batched(tensor) else hint(tensor)

    module._maybe_convert_to_channels_last = keep_batched
    try:
        yield
    finally:
        module._maybe_convert_to_channels_last = hint


_LARGE_IMAGE = 256  # pixels per channel from which a convolutional model runs copy by copy


def one_by_one(lone, sample) -> bool:
    """Whether the copies run one after the other inside the vectorised model instead of
    under ``torch.func.vmap``: a convolutional model on images of :data:`_LARGE_IMAGE`
    pixels or more. Vectorised, per-copy kernels make grouped convolutions, and the pooling
    and activations around them run on batched layouts that the CPU kernels handle slowly:
    on 28 x 28 images the default CNN's step took 1.0 s vectorised against 0.74 s for the
    per-copy stack (12 copies of 64 rows), while on 8 x 8 digits vectorised is faster (the
    per-step work of Keras, shared, outweighs the arithmetic). Copy by copy, the copies
    still share one model call, one loss and one optimizer update of the stacked variables.
    """
    convolves = any("Conv" in type(layer).__name__ for layer in lone._flatten_layers())
    shape = np.shape(sample)[2:]
    return convolves and len(shape) >= 2 and math.prod(shape[:-1]) >= _LARGE_IMAGE


class Vectorised(keras.Model):
    """``copies`` copies of the lone model ``lone``, their variables stacked on a leading axis,
    its ``stateless_call`` vectorised over them: ``(B, C, ...) -> (B, C, K)``, copy ``c`` on
    its rows ``x[:, c]`` (``one_by_one``: the copies called one after the other on their
    slices of the stacked variables instead, :func:`one_by_one`).

    Variables: ``stacked`` (one per variable of ``lone.weights``, shape ``(C, *shape)``,
    trainable where the lone one is) and one copy of each random-number state (shared).
    ``get_weights()`` lists the stacked weights in ``lone.get_weights()`` order, so copy ``c``'s
    weights are ``[w[c] for w in get_weights()]``.
    """

    def __init__(self, lone, copies: int, one_by_one: bool = False, **kwargs):
        kwargs.setdefault("name", "vectorised_copies")
        super().__init__(**kwargs)
        self._lone = _Ref(lone)
        self.copies = int(copies)
        self.one_by_one = bool(one_by_one)  # the copies one after the other, not vmap
        seeds = _seed_ids(lone)
        made = {}
        for i, v in enumerate(lone.weights):
            value = np.asarray(keras.ops.convert_to_numpy(v.value))
            made[id(v)] = self.add_weight(
                shape=(self.copies, *value.shape),
                dtype=v.dtype,
                trainable=v.trainable,
                initializer=keras.initializers.Constant(0),
                name=f"stacked_{i}",
            )
            made[id(v)].assign(np.broadcast_to(value, (self.copies, *value.shape)))
        self.stacked = [made[id(v)] for v in lone.weights]
        self._tv = [made[id(v)] for v in lone.trainable_variables]
        # non-trainable: per copy (stacked) or shared (a random-number state, kept once)
        self._ntv = []
        for i, v in enumerate(lone.non_trainable_variables):
            if id(v) in seeds:
                shared = self.add_weight(
                    shape=tuple(v.shape),
                    dtype=v.dtype,
                    trainable=False,
                    initializer=keras.initializers.Constant(0),
                    name=f"seed_state_{i}",
                )
                shared.assign(v.value)
                self._ntv.append((shared, True))
            else:
                self._ntv.append((made[id(v)], False))
        self._training_arg = getattr(lone, "_call_has_training_arg", True)
        self._functions: dict = {}
        self.built = True

    @property
    def lone(self):
        return self._lone.obj

    def get_weights(self):
        return [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in self.stacked]

    def _function(self, training: bool):
        """The vectorised call: ``(tv, own, shared, x) -> (out (B, C, K), own, shared, reg)``;
        ``tv`` / ``own`` stacked per copy, ``shared`` the random-number states."""
        if training in self._functions:
            return self._functions[training]
        from torch.func import vmap

        lone, ntv = self.lone, self._ntv
        kwargs = {"training": training} if self._training_arg else {}

        def one(tv, own, shared, xc):
            it_own, it_shared = iter(own), iter(shared)
            values = [next(it_shared) if s else next(it_own) for _, s in ntv]
            out, values, losses = lone.stateless_call(tv, values, xc, return_losses=True, **kwargs)
            reg = sum(losses) if losses else keras.ops.zeros((), dtype="float32")
            new_own = [v for v, (_, s) in zip(values, ntv, strict=True) if not s]
            new_shared = [v for v, (_, s) in zip(values, ntv, strict=True) if s]
            return out, new_own, new_shared, reg

        if not self.one_by_one:
            fn = vmap(one, in_dims=(0, 0, None, 1), out_dims=(1, 0, 0, 0), randomness="same")
            self._functions[training] = fn
            return fn
        import torch

        def in_turn(tv, own, shared, x):  # the random-number states advance copy by copy
            outs, owns, regs = [], [], []
            for c in range(self.copies):
                out, new_own, shared, reg = one(
                    [v[c] for v in tv], [v[c] for v in own], shared, x[:, c]
                )
                outs.append(out)
                owns.append(new_own)
                regs.append(reg)
            own = [torch.stack(values) for values in zip(*owns, strict=True)]
            return torch.stack(outs, dim=1), own, [v[None] for v in shared], torch.stack(regs)

        self._functions[training] = in_turn
        return in_turn

    def run(self, x, training: bool):
        """``(out (B, C, K), own, shared, reg)`` of the copies on ``x`` without touching the
        variables (the new non-trainable values are returned)."""
        tv = [v.value for v in self._tv]
        own = [v.value for v, s in self._ntv if not s]
        shared = [v.value for v, s in self._ntv if s]
        x = keras.ops.convert_to_tensor(x)
        with _layout_hint_off():
            return self._function(bool(training))(tv, own, shared, x)

    def call(self, x, training=None):
        import torch

        training = bool(training)
        with contextlib.nullcontext() if training else torch.no_grad():
            out, own, shared, reg = self.run(x, training)
        for (var, _), value in zip([p for p in self._ntv if not p[1]], own, strict=True):
            var.assign(value.detach())
        for (var, _), value in zip([p for p in self._ntv if p[1]], shared, strict=True):
            var.assign(value[0].detach())  # the same new state in every slot
        if training and reg.requires_grad:  # a regulariser: the copies' penalties added up
            self.add_loss(torch.sum(reg))
        return out


def _probe(model: Vectorised, sample) -> str | None:
    """One training forward pass and gradient on ``sample`` (``(b, C, ...)``); ``None`` when
    they ran and gave ``(b, C, ...)`` outputs, else the reason in one line."""
    import torch

    try:
        out, _, _, reg = model.run(sample, True)
        if not isinstance(out, torch.Tensor) or tuple(out.shape[:2]) != tuple(sample.shape[:2]):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            return f"its vectorised output is {shape}, not (rows, copies, classes)"
        wrt = [v.value for v in model._tv]
        if wrt:
            torch.autograd.grad(torch.sum(out.float()) + torch.sum(reg), wrt, allow_unused=True)
    except (RuntimeError, NotImplementedError) as exc:
        # what torch.func raises for an operation it cannot batch: a value read on the host
        # (.item(), float(x), a branch on a tensor), an operator without a batching rule, a
        # memory-layout query (Keras wraps a layer's error in one of the same type)
        return _reason(exc)
    return None


def vectorise(lone, copies: int, sample) -> tuple:
    """``(Vectorised, None)``, or ``(None, reason)`` when the lone model cannot run under
    ``torch.func.vmap`` (``sample``: a few rows of every copy, ``(b, C, ...)``; a model that
    runs its copies one by one is probed that way: it needs no ``vmap``)."""
    model = Vectorised(lone, copies, one_by_one(lone, sample))
    reason = _probe(model, np.asarray(sample, dtype=np.float32))
    if reason is not None:
        return None, reason
    return model, None


__all__ = ["VMAP_ENV", "Vectorised", "enabled", "one_by_one", "vectorise"]
