"""Model candidates of the benchmarks, by name: the default models and issue 14's variants.

``builders("linear,mlp,ens")`` -> ``{name: model_fn}`` for ``compare(model_fn=...)``. Names:

- ``linear``, ``mlp``: ``comparison.DEFAULT_MODELS`` as installed; ``easy_ensemble``:
  ``comparison.easy_ensemble_model`` (``models.packed_ensemble``'s defaults, 4 BatchEnsemble MLPs of 32 units,
  each on its own balanced undersample of every batch, 30 fixed epochs);
- ``mlp_plr``: the default MLP with periodic embeddings (``embeddings="periodic"``);
- ``ens``: ``packed_ensemble`` with 8 independent members of 64 units, early-stopped (the
  first configuration measured); ``ens_be``: the same with BatchEnsemble sharing (one kernel,
  rank-1 adapters; TabM);
- ``ens_all`` / ``ens_be_all``: every member on every row (``member_sampling="none"``: a deep
  ensemble / TabM), independent or shared; ``ens_plr`` / ``ens_be_plr``: with periodic
  embeddings;
- ``ens_be_k4w32``, ``ens_be_k8w32``, ``ens_k4w32``: k members of w units, early-stopped;
- ``ens_be_f30``: ``ens_be`` trained 30 fixed epochs; ``ens_be_k4w32_f30``: the defaults
  (= ``easy_ensemble``).
"""

from __future__ import annotations


def _epochs(builder, epochs):
    """``builder`` trained ``epochs`` fixed epochs, or early-stopped (None)."""
    if epochs is None:
        if hasattr(builder, "fixed_epochs"):
            del builder.fixed_epochs
        builder.__qualname__ += "[early stopping]"
    else:
        builder.fixed_epochs = epochs
        builder.__qualname__ += f"[fixed_epochs={epochs}]"
    return builder


def _variants() -> dict:
    from keras_imbalance.comparison import (
        DEFAULT_MODELS,
        easy_ensemble_model,
        mlp_model,
        with_options,
    )
    from keras_imbalance.models import packed_ensemble

    def ens(epochs=None, **options):
        return _epochs(with_options(packed_ensemble, **options), epochs)

    big = {"k": 8, "width": 64}
    return {
        **DEFAULT_MODELS,
        "easy_ensemble": easy_ensemble_model,
        "mlp_plr": with_options(mlp_model, embeddings="periodic"),
        "ens": ens(shared="none", **big),
        "ens_be": ens(shared="batchensemble", **big),
        "ens_all": ens(shared="none", member_sampling="none", **big),
        "ens_be_all": ens(shared="batchensemble", member_sampling="none", **big),
        "ens_plr": ens(shared="none", embeddings="periodic", **big),
        "ens_be_plr": ens(shared="batchensemble", embeddings="periodic", **big),
        "ens_be_k4w32": ens(shared="batchensemble", k=4, width=32),
        "ens_be_k8w32": ens(shared="batchensemble", k=8, width=32),
        "ens_k4w32": ens(shared="none", k=4, width=32),
        "ens_be_f30": ens(30, shared="batchensemble", **big),
        "ens_be_k4w32_f30": ens(30, shared="batchensemble", k=4, width=32),
    }


def builders(names) -> dict:
    """``{name: model_fn}`` for comma-separated (or listed) candidate names."""
    if isinstance(names, str):
        names = [n for n in names.split(",") if n]
    table = _variants()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"unknown models {unknown}; known: {sorted(table)}")
    return {n: table[n] for n in names}
