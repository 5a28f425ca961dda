"""Keras models for imbalanced tables (layer 2: Keras objects only, ``keras.ops``).

- :func:`packed_ensemble` / :class:`PackedEnsemble`: an EasyEnsemble inside one Keras model,
  ``k`` MLPs each trained on its own balanced undersample of every batch (independent members
  or BatchEnsemble-style shared weights), averaged at prediction.
- :class:`EnsembleDense`: ``k`` dense layers side by side (independent or shared with rank-1
  adapters); :class:`PeriodicEmbedding`: periodic embeddings of numeric features.
- :func:`balanced_member_mask`: the members' undersampling, as a ``keras.ops`` function.

Every layer and model is registered for ``model.save`` / ``keras.models.load_model``: import
``keras_imbalance.models`` before loading. Each also takes ``copies`` (the packed form that
``keras_imbalance.compare`` trains: one independent copy per strategy, on a leading axis).
"""

from keras_imbalance.models._ensemble import PackedEnsemble, balanced_member_mask, packed_ensemble
from keras_imbalance.models._layers import EnsembleDense, PeriodicEmbedding

__all__ = [
    "EnsembleDense",
    "PackedEnsemble",
    "PeriodicEmbedding",
    "balanced_member_mask",
    "packed_ensemble",
]
