"""Model candidates of the benchmarks, by name: the default models and issue 14's new ones.

``builders("linear,mlp,ens")`` -> ``{name: model_fn}`` for ``compare(model_fn=...)``. Names:

- ``linear``, ``mlp``: ``comparison.DEFAULT_MODELS`` as installed;
- ``mlp_plr``: the default MLP with periodic embeddings (``embeddings="periodic"``);
- ``ens``: ``models.packed_ensemble`` (8 independent MLPs, each on its own balanced
  undersample of every batch: an EasyEnsemble in one model);
- ``ens_be``: the same with BatchEnsemble sharing (one kernel, rank-1 adapters; TabM);
- ``ens_all`` / ``ens_be_all``: every member on every row (``member_sampling="none"``: a deep
  ensemble / TabM), independent or shared;
- ``*_plr`` of the ensembles: with periodic embeddings.
"""

from __future__ import annotations


def _variants() -> dict:
    from keras_imbalance.comparison import DEFAULT_MODELS, mlp_model, with_options
    from keras_imbalance.models import packed_ensemble

    ens = packed_ensemble
    return {
        **DEFAULT_MODELS,
        "mlp_plr": with_options(mlp_model, embeddings="periodic"),
        "ens": ens,
        "ens_be": with_options(ens, shared="batchensemble"),
        "ens_all": with_options(ens, member_sampling="none"),
        "ens_be_all": with_options(ens, shared="batchensemble", member_sampling="none"),
        "ens_plr": with_options(ens, embeddings="periodic"),
        "ens_be_plr": with_options(ens, shared="batchensemble", embeddings="periodic"),
    }


NAMES = ("linear", "mlp", "mlp_plr", "ens", "ens_be", "ens_all", "ens_be_all", "ens_plr")
NAMES += ("ens_be_plr",)


def builders(names) -> dict:
    """``{name: model_fn}`` for comma-separated (or listed) candidate names."""
    if isinstance(names, str):
        names = [n for n in names.split(",") if n]
    table = _variants()
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"unknown models {unknown}; known: {sorted(table)}")
    return {n: table[n] for n in names}
