"""The target kinds of a comparison, one module each (see :mod:`.._kind`).

:data:`KINDS` maps a kind's name to its :class:`~keras_imbalance.comparison._kind.Kind`:
``KINDS["multilabel"].strategies`` is the multi-label registry, ``.default_strategies`` the
names run by default, ``.ensemble_members``, ``.metrics``, ``.aliases`` and so on.
"""

from __future__ import annotations

from keras_imbalance.comparison.kinds import multiclass, multilabel, segmentation

#: target kind name -> its Kind object
KINDS = {k.name: k for k in (multiclass.KIND, multilabel.KIND, segmentation.KIND)}

__all__ = ["KINDS"]
