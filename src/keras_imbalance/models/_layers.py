"""Layers of the ensemble and embedding models (Keras 3, ``keras.ops`` only, every backend).

Every layer takes ``copies=None`` (one model) or ``copies=C``: then each weight carries a
leading axis of length ``C`` and the layer maps a per-copy input ``(B, C, ...)`` to
``(B, C, ...)``, copy ``c`` computing with its own weights only, so the comparison engine can
train ``C`` independent copies in one model (``keras_imbalance.comparison``'s packed form:
copy ``c``'s weights are ``[w[c] for w in model.get_weights()]``, those of one lone model).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_imbalance._validation import check_number, check_option, invalid

__all__ = ["EnsembleDense", "PeriodicEmbedding"]

_PACKAGE = "keras_imbalance"
_ADAPTER_INITS = ("ones", "random_signs")


def _copies(copies):
    if copies is None:
        return None
    return check_number("copies", copies, low=1, integer=True)


class _RandomSigns(keras.initializers.Initializer):
    """+1 or -1 with probability 1/2 each (TabM's initialisation of the first adapter)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        bits = keras.random.randint(shape, 0, 2, seed=self.seed)
        return ops.cast(2 * bits - 1, dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EnsembleDense(keras.layers.Layer):
    """``members`` dense layers side by side: ``(B, [C,] F)`` or ``(B, [C,] k, F)`` ->
    ``(B, [C,] k, units)``.

    - ``shared=False``: member ``m`` computes ``x_m @ W_m + b_m`` with its own kernel
      ``W_m`` (``(k, F, units)``), each initialised like a lone ``Dense`` (Glorot uniform on
      ``(F, units)``, not on the stacked shape).
    - ``shared=True`` (BatchEnsemble, Wen et al. 2020; TabM, Gorishniy et al. 2025): one
      kernel ``W`` shared by the members and rank-1 adapters per member,
      ``((x_m * r_m) @ W) * s_m + b_m``; ``r`` is initialised to ``adapter_init`` (random
      signs for a first layer, as TabM, so that the members differ from the first step) and
      ``s`` to ones.

    A 2-D input ``(B, F)`` (or ``(B, C, F)`` with ``copies``) is fed to every member. With
    ``copies=C`` every weight gets a leading axis ``C`` (see the module docstring).

    Parameters
    ----------
    units : int
        Output units per member.
    members : int
        Number of members ``k`` (>= 1).
    shared : bool, default=False
        BatchEnsemble sharing (one kernel, per-member adapters) instead of ``k`` kernels.
    activation : str or callable, default=None
    adapter_init : {"ones", "random_signs"}, default="ones"
        Initial value of the input adapter ``r`` (``shared=True`` only).
    copies : int or None, default=None
        Independent copies of the whole layer (the comparison engine's packed form).

    Examples
    --------
    >>> layer = EnsembleDense(4, members=3)
    >>> tuple(layer(keras.ops.ones((2, 5))).shape)
    (2, 3, 4)
    """

    def __init__(
        self,
        units,
        members,
        *,
        shared=False,
        activation=None,
        adapter_init="ones",
        copies=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_number("units", units, low=1, integer=True)
        self.members = check_number("members", members, low=1, integer=True)
        if not isinstance(shared, bool):
            raise invalid("shared", "a bool", shared, kind=TypeError)
        self.shared = shared
        self.activation = keras.activations.get(activation)
        self.adapter_init = check_option("adapter_init", adapter_init, _ADAPTER_INITS)
        self.copies = _copies(copies)
        self._lead = () if self.copies is None else (self.copies,)

    def build(self, input_shape):
        lead, k, u = self._lead, self.members, self.units
        rank = len(input_shape)
        if rank not in (2 + len(lead), 3 + len(lead)):
            raise invalid(
                "input_shape",
                f"(batch, {'copies, ' if lead else ''}[members,] features)",
                tuple(input_shape),
            )
        self._per_member = rank == 3 + len(lead)
        if self._per_member and input_shape[-2] != k:
            raise invalid("input_shape", f"{k} members on axis -2", tuple(input_shape))
        f = int(input_shape[-1])
        limit = math.sqrt(6.0 / (f + u))  # Glorot uniform of one (f, u) kernel
        glorot = keras.initializers.RandomUniform(-limit, limit)
        if self.shared:
            self.kernel = self.add_weight(shape=(*lead, f, u), initializer=glorot, name="kernel")
            first = _RandomSigns() if self.adapter_init == "random_signs" else "ones"
            self.r = self.add_weight(shape=(*lead, k, f), initializer=first, name="r")
            self.s = self.add_weight(shape=(*lead, k, u), initializer="ones", name="s")
        else:
            self.kernel = self.add_weight(shape=(*lead, k, f, u), initializer=glorot, name="kernel")
        self.bias = self.add_weight(shape=(*lead, k, u), initializer="zeros", name="bias")

    def member_kernels(self):
        """Each member's kernel ``([C,] k, F, units)``: ``W_m`` or, shared,
        ``diag(r_m) W diag(s_m)``, since ``((x * r_m) @ W) * s_m = x @ (diag(r_m) W diag(s_m))``
        (the small kernel is scaled instead of the batch: one product per member, no pass of
        the adapters over the rows)."""
        if not self.shared:
            return self.kernel
        w = ops.expand_dims(self.kernel, -3)  # ([C,] 1, F, U)
        return ops.expand_dims(self.r, -1) * w * ops.expand_dims(self.s, -2)

    def call(self, x):
        c = "c" if self._lead else ""
        kernel = self.member_kernels()
        if self._per_member:
            h = ops.einsum(f"b{c}kf,{c}kfu->b{c}ku", x, kernel)
        else:
            h = ops.einsum(f"b{c}f,{c}kfu->b{c}ku", x, kernel)
        return self.activation(h + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._lead, self.members, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "members": self.members,
            "shared": self.shared,
            "activation": keras.activations.serialize(self.activation),
            "adapter_init": self.adapter_init,
            "copies": self.copies,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PeriodicEmbedding(keras.layers.Layer):
    """Periodic embeddings of numeric features (PLR, Gorishniy et al., NeurIPS 2022):
    ``(B, [C,] F) -> (B, [C,] F * d)``.

    Feature ``j`` of a row becomes ``relu(concat(cos(v), sin(v)) @ A_j + a_j)`` with
    ``v = 2 pi c_j x_j``, ``c_j`` ``n_frequencies`` trainable frequencies initialised from
    ``N(0, sigma^2)`` and ``A_j (2 n_frequencies, d)``, ``a_j (d,)`` a per-feature linear map
    (``lite=True``: one map shared by the features, as TabM's "lite" variant). The outputs of
    the features are concatenated. ``sigma`` sets the scale of the initial frequencies (the
    paper tunes it; features standardised to unit variance have periods of about ``1 /
    sigma`` standard deviations).

    Parameters
    ----------
    n_frequencies : int, default=16
        Frequencies per feature.
    sigma : float, default=0.1
        Standard deviation of the initial frequencies.
    d_embedding : int, default=8
        Output size per feature ``d``.
    lite : bool, default=False
        One linear map for all features instead of one per feature.
    copies : int or None, default=None
        Independent copies (the comparison engine's packed form).

    Examples
    --------
    >>> tuple(PeriodicEmbedding(d_embedding=4)(keras.ops.ones((2, 3))).shape)
    (2, 12)
    """

    def __init__(
        self,
        n_frequencies=16,
        sigma=0.1,
        d_embedding=8,
        *,
        lite=False,
        copies=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n_frequencies = check_number("n_frequencies", n_frequencies, low=1, integer=True)
        self.sigma = float(check_number("sigma", sigma, low=0, low_inclusive=False))
        self.d_embedding = check_number("d_embedding", d_embedding, low=1, integer=True)
        if not isinstance(lite, bool):
            raise invalid("lite", "a bool", lite, kind=TypeError)
        self.lite = lite
        self.copies = _copies(copies)
        self._lead = () if self.copies is None else (self.copies,)

    def build(self, input_shape):
        lead, n, d = self._lead, self.n_frequencies, self.d_embedding
        if len(input_shape) != 2 + len(lead):
            raise invalid(
                "input_shape", f"(batch, {'copies, ' if lead else ''}features)", input_shape
            )
        f = int(input_shape[-1])
        self.frequencies = self.add_weight(
            shape=(*lead, f, n),
            initializer=keras.initializers.RandomNormal(0.0, self.sigma),
            name="frequencies",
        )
        limit = math.sqrt(6.0 / (2 * n + d))
        glorot = keras.initializers.RandomUniform(-limit, limit)
        per_feature = () if self.lite else (f,)
        self.kernel = self.add_weight(
            shape=(*lead, *per_feature, 2 * n, d), initializer=glorot, name="kernel"
        )
        # lite: (1, d), broadcast over the features
        self.bias = self.add_weight(
            shape=(*lead, *(per_feature or (1,)), d), initializer="zeros", name="bias"
        )

    def call(self, x):
        c = "c" if self._lead else ""
        v = (2.0 * math.pi) * ops.expand_dims(x, -1) * self.frequencies  # (B, [C,] F, n)
        periodic = ops.concatenate([ops.cos(v), ops.sin(v)], axis=-1)  # (B, [C,] F, 2n)
        if self.lite:
            h = ops.einsum(f"b{c}fn,{c}nd->b{c}fd", periodic, self.kernel)
        else:
            h = ops.einsum(f"b{c}fn,{c}fnd->b{c}fd", periodic, self.kernel)
        h = ops.relu(h + self.bias)
        f = self.frequencies.shape[-2]
        return ops.reshape(h, (-1, *self._lead, f * self.d_embedding))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._lead, int(input_shape[-1]) * self.d_embedding)

    def get_config(self):
        return {
            **super().get_config(),
            "n_frequencies": self.n_frequencies,
            "sigma": self.sigma,
            "d_embedding": self.d_embedding,
            "lite": self.lite,
            "copies": self.copies,
        }
