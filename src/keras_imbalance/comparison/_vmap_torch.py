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
  vectorised, its convolutions would become grouped convolutions, slow on CPUs. Each copy
  starts from the step's random-number states, so its draws do not depend on the others.
  One copy (a fit of its own with ``packed=False``, or the last copy still training) runs
  without ``vmap``.
- A copy whose training is over (early-stopped, its refit partner, a snapshot taken) costs
  nothing more: the packed fit retires it (:meth:`Vectorised.retire`, called by
  :func:`._packing.fit` before every epoch) and the calls leave it out, its outputs zeros with
  no graph (no gradient); its kept weights are the snapshots taken before, so the optimizer's
  element-wise update of its zero gradient (Adam's momentum) changes nothing that is kept.
- The training step is Keras' torch step without the machinery this model does not need
  (the layer call's checks, the compiled-loss wrapper, the running loss metric):
  :meth:`Vectorised.train_step`.

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
        self.live = None  # the copies still training, in order (None: every copy)
        self._at = None  # ``live`` as a tensor of indices (made once per change)
        self.built = True

    @property
    def lone(self):
        return self._lone.obj

    def get_weights(self):
        return [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in self.stacked]

    def retire(self, retired) -> None:
        """Leave the copies ``retired`` (their training over: early-stopped, refit or
        snapshot taken) out of every later call: no forward or backward pass of theirs, their
        outputs zeros with no graph, so the packed loss gives them no gradient. Their
        variables stay in the stack (the optimizer's element-wise update of a zero gradient
        may still move them: their kept weights are the snapshots the callbacks took before
        they retired). ``retire(())`` brings every copy back."""
        retired = set(retired)
        live = [c for c in range(self.copies) if c not in retired]
        if not live:
            raise ValueError("at least one copy must stay in training")
        live = None if len(live) == self.copies else live
        if live != self.live:
            self.live, self._at = live, None

    def _function(self, training: bool, vectorised: bool):
        """The copies' call: ``(tv, own, shared, x) -> (out (B, L, K), own, shared, reg)``;
        ``tv`` / ``own`` stacked per copy (``L`` copies: the live ones), ``x`` their rows
        ``(L, B, ...)``, ``shared`` the random-number states; under ``torch.func.vmap`` where
        ``vectorised``, else one copy after the other."""
        key = (training, vectorised)
        if key in self._functions:
            return self._functions[key]
        import torch
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

        def in_turn(tv, own, shared, x):
            # every copy starts from the step's random-number states and draws alike (as
            # under vmap's randomness="same"), so a copy's draws do not depend on which
            # other copies run; the new states are the last copy's
            outs, owns, regs, new_shared = [], [], [], shared
            for c in range(x.shape[0]):
                out, new_own, new_shared, reg = one(
                    [v[c] for v in tv], [v[c] for v in own], shared, x[c]
                )
                outs.append(out)
                owns.append(new_own)
                regs.append(reg)
            own = [torch.stack(values) for values in zip(*owns, strict=True)]
            return torch.stack(outs, dim=1), own, [v[None] for v in new_shared], torch.stack(regs)

        fn = in_turn
        if vectorised:
            fn = vmap(one, in_dims=(0, 0, None, 0), out_dims=(1, 0, 0, 0), randomness="same")

        self._functions[key] = fn
        return fn

    def _live_index(self, device):
        """The live copies as a tensor of indices on ``device`` (None: every copy)."""
        import torch

        if self.live is None:
            return None
        if self._at is None or self._at.device != device:
            self._at = torch.as_tensor(self.live, dtype=torch.long, device=device)
        return self._at

    def run(self, x, training: bool):
        """``(out (B, L, K), own, shared, reg)`` of the live copies on their rows of ``x``
        (``(B, C, ...)``) without touching the variables (the new non-trainable values of
        the live copies are returned)."""
        tv = [v.value for v in self._tv]
        own = [v.value for v, s in self._ntv if not s]
        shared = [v.value for v, s in self._ntv if s]
        x = keras.ops.convert_to_tensor(x).movedim(1, 0)  # (C, B, ...): a copy's rows together
        at = self._live_index(x.device)
        if at is not None:  # gathered: the gradient reaches the live copies' slices only
            tv = [v.index_select(0, at) for v in tv]
            own = [v.index_select(0, at) for v in own]
            x = x.index_select(0, at)
        x = x.contiguous()  # (the batched convolutions and products run faster on it)
        # one copy (a fit of its own, the last copy still training) needs no vmap
        vectorised = not self.one_by_one and x.shape[0] > 1
        with _layout_hint_off():
            return self._function(bool(training), vectorised)(tv, own, shared, x)

    def _forward(self, x, training: bool):
        """``(out (B, C, K), reg)``: the copies' outputs (zeros for a retired copy) and their
        regularisation losses added up (``None`` without a regulariser); the new
        non-trainable values (moving statistics, random-number states) assigned."""
        import torch

        with contextlib.nullcontext() if training else torch.no_grad():
            out, own, shared, reg = self.run(x, training)
        at = self._live_index(out.device)
        if at is not None:  # a retired copy's output: zeros, a constant
            full = out.new_zeros((out.shape[0], self.copies, *out.shape[2:]))
            out = full.index_copy(1, at, out)
        for (var, _), value in zip([p for p in self._ntv if not p[1]], own, strict=True):
            value = value.detach()
            var.assign(value if at is None else var.value.index_copy(0, at, value))
        for (var, _), value in zip([p for p in self._ntv if p[1]], shared, strict=True):
            var.assign(value[0].detach())  # the same new state in every slot
        if training and reg.requires_grad:  # a regulariser: the copies' penalties added up
            return out, torch.sum(reg)
        return out, None

    def call(self, x, training=None):
        out, reg = self._forward(x, bool(training))
        if reg is not None:
            self.add_loss(reg)
        return out

    def train_step(self, data):
        """Keras' torch training step (the packed loss of the copies' outputs plus their
        regularisation, its gradient, one optimizer update of every trainable variable),
        without the machinery around it that this model does not need: the layer call's
        argument checks, the compiled-loss wrapper and the running loss metric. A fit with
        sample weights or a loss that is not a ``keras.losses.Loss`` takes Keras' own."""
        import torch

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss_fn = getattr(self, "loss", None)
        if sample_weight is not None or not isinstance(loss_fn, keras.losses.Loss):
            return super().train_step(data)
        out, reg = self._forward(x, True)
        weights = self.trainable_weights[:]
        for v in weights:
            v.value.grad = None
        loss = keras.ops.cast(loss_fn(y, out), keras.backend.floatx())
        if reg is not None:
            loss = loss + keras.ops.cast(reg, loss.dtype)
        loss = self.optimizer.scale_loss(loss)
        if weights:
            loss.backward()
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in weights], weights)
        return {}


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
