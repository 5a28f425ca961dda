"""The strategy registry: each strategy is one object that carries its behaviour (no Keras).

A strategy says three things:

- **which rows it trains on** (:meth:`Strategy.rows`): given the fit rows ``(x, y)`` it returns
  a :class:`TrainingRows` -- how many times each fit row counts (``multiplicity``: 0/1 for an
  under-sampler, duplicate counts for an over-sampler, redrawn every epoch for balanced
  batches), a loss weight per row (class weights), and synthetic rows of its own (SMOTE);
- **which loss** (:meth:`Strategy.loss_spec`): every loss of the registry is one member of
  the family ``-(1 - p_y) ** gamma * log p_y`` with ``p = softmax(scale * (z + offset -
  margin * onehot(y)))`` on the logits ``z`` (:class:`LossSpec`), the per-class factors
  (weighted cross-entropy, the focal ``alpha``) being row weights;
- **how it decides**: ``argmax`` of the logits, or a threshold / per-class offsets tuned on
  the validation split (``tuned=True``).

That is all the comparison engine needs to train every strategy of a fold together (see
:mod:`keras_imbalance.comparison._packing`): a strategy trained alone on its rows minimises
``sum_r w_r m_r loss(r) / size``, and so does its copy in the packed fit.

``ensemble`` trains nothing of its own: it averages the test-fold class probabilities of the
fold's fits of the strategies in :data:`ENSEMBLE_MEMBERS` (every model). Strategies that
share a training recipe (``none`` and ``none+threshold``) share one fit per fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_imbalance import _names
from keras_imbalance._validation import invalid
from keras_imbalance.resampling._methods import TABLE, neighbor_params

__all__ = [
    "STRATEGIES",
    "DEFAULT_STRATEGIES",
    "ENSEMBLE_MEMBERS",
    "ALIASES",
    "LossSpec",
    "Strategy",
    "TrainingRows",
    "resolve_strategies",
]


@dataclass(frozen=True)
class LossSpec:
    """One loss of the family ``-(1 - p_y) ** gamma * log p_y``,
    ``p = softmax(scale * (z + offsets - margins * onehot(y)))``.

    ``gamma = 0``, no offsets, no margins and ``scale = 1`` is plain cross-entropy; ``offsets
    = tau * log(priors)`` is logit adjustment (balanced softmax: ``tau = 1``); ``gamma > 0`` is
    the focal loss; ``margins`` and ``scale`` are LDAM's. ``smoothing = e`` trains on the
    targets ``(1 - e) onehot(y) + e / K`` (label smoothing; a hyperparameter variant, never a
    strategy's own; the margins stay on the true class).
    """

    gamma: float = 0.0
    offsets: tuple | None = None
    margins: tuple | None = None
    scale: float = 1.0
    smoothing: float = 0.0


@dataclass(frozen=True, eq=False)
class TrainingRows:
    """What a strategy trains on, over the ``n`` fit rows it was given.

    Trained alone, the strategy minimises ``(sum_r weight_r * multiplicity_r * loss_r +
    sum_s extra_weight_s * loss_s) / size`` per epoch (Keras divides by the number of rows).

    Attributes
    ----------
    multiplicity : ndarray of shape (n,)
        How many times each fit row is in the strategy's training set.
    weight : ndarray of shape (n,)
        Loss weight of each fit row (class weights; ones otherwise).
    size : int
        Rows of the training set trained alone (multiplicities and synthetic rows counted).
    extra_x, extra_y : ndarray or None
        Synthetic rows of the strategy's own (SMOTE-like resamplers) and their labels.
    extra_weight : ndarray or None
        Their loss weights.
    per_epoch : callable or None
        ``per_epoch(epoch) -> multiplicity`` for strategies that redraw rows every epoch
        (epochs count from 1); ``multiplicity`` is then that of epoch 1.
    note : str
        Settings chosen for the data (e.g. a lowered ``k_neighbors``), or ``""``.
    """

    multiplicity: np.ndarray
    weight: np.ndarray
    size: int
    extra_x: np.ndarray | None = None
    extra_y: np.ndarray | None = None
    extra_weight: np.ndarray | None = None
    per_epoch: Any = None
    note: str = ""

    @property
    def n_extra(self) -> int:
        return 0 if self.extra_y is None else len(self.extra_y)

    def same_training(self, other: TrainingRows, *, up_to_scale: bool) -> bool:
        """Whether both train on the same rows with the same (or proportional) weights."""
        if self.per_epoch is not None or other.per_epoch is not None:
            return False
        if self.n_extra or other.n_extra:
            return False
        a = self.weight * self.multiplicity / self.size
        b = other.weight * other.multiplicity / other.size
        if a.shape != b.shape:
            return False
        if up_to_scale:
            sa, sb = a.sum(), b.sum()
            if sa <= 0 or sb <= 0:
                return False
            a, b = a / sa, b / sb
        return bool(np.allclose(a, b, rtol=1e-9, atol=0.0))


def _counts(y: np.ndarray, k: int) -> np.ndarray:
    return np.maximum(np.bincount(y, minlength=k).astype(np.float64), 1.0)


def _class_weights(y: np.ndarray, k: int, strategy: str) -> np.ndarray:
    """The ``weights.class_weights(y, strategy)`` dict as ``k`` per-class weights."""
    from keras_imbalance import weights

    table = weights.class_weights(y, strategy)
    return np.array([float(table.get(c, 1.0)) for c in range(k)])


def _class_weight_rows(y: np.ndarray, k: int, strategy: str) -> np.ndarray:
    """Per-row weights of the ``weights.class_weights(y, strategy)`` dict."""
    return _class_weights(y, k, strategy)[y]


def _ones(n: int) -> np.ndarray:
    return np.ones(n, dtype=np.float64)


@dataclass(frozen=True)
class Strategy:
    """One entry of the registry (immutable); subclasses carry the behaviour.

    Attributes
    ----------
    name : str
        Canonical, CLI-friendly name (no spaces).
    description : str
        One line for the report.
    tuned : bool
        Whether the decision rule is tuned on the validation split.
    """

    name: str
    description: str
    tuned: bool = False

    #: what changes in training: plain, class_weight, loss, resample, batches or ensemble
    kind = "plain"

    #: the field that says what the strategy changes (None: plain training)
    param_field = None

    @property
    def param(self) -> str | None:
        """The weight strategy, loss or resampling method (None for plain training)."""
        return None if self.param_field is None else getattr(self, self.param_field)

    @property
    def group(self) -> str:
        """Training recipe shared by strategies that need one fit only (a class of the
        user's own trains apart: its behaviour is not known from ``kind`` and ``param``)."""
        if not type(self).__module__.startswith("keras_imbalance."):
            return f"{type(self).__module__}.{type(self).__qualname__}:{self.name}"
        return f"{self.kind}:{self.param}"

    @property
    def trains(self) -> bool:
        """Whether the strategy trains a model of its own (``ensemble`` does not)."""
        return True

    @property
    def interpolates(self) -> bool:
        """Whether it interpolates between rows of a class (needs 2 rows of each class)."""
        return False

    def rows(self, x, y: np.ndarray, n_classes: int, seed: int, space=None) -> TrainingRows:
        """The :class:`TrainingRows` of the fit rows ``(x, y)`` (``y`` class codes).

        ``space`` (the fold's scaler) says which columns of ``x`` hold category codes
        (``space.categorical``) and maps rows to model input and back (``to_model``,
        ``from_model``); synthetic rows come back in the space of ``x``."""
        n = len(y)
        return TrainingRows(_ones(n), _ones(n), n)

    def loss_spec(self, y: np.ndarray, n_classes: int) -> LossSpec:
        """The :class:`LossSpec` for fit labels ``y``."""
        return LossSpec()


@dataclass(frozen=True)
class ClassWeightStrategy(Strategy):
    """Plain cross-entropy with ``weights.class_weights(y, weight_strategy)`` per row."""

    weight_strategy: str = "balanced"
    kind = "class_weight"
    param_field = "weight_strategy"

    def rows(self, x, y, n_classes, seed, space=None):
        return TrainingRows(_ones(y.size), _class_weight_rows(y, n_classes, self.param), y.size)


@dataclass(frozen=True)
class LossStrategy(Strategy):
    """An imbalance loss of :mod:`keras_imbalance.losses`: ``loss_class`` names the public
    class, ``options`` are its settings as ``(name, value)`` pairs (a ``class_weight`` or
    ``alpha`` given as a ``class_weights`` strategy, e.g. ``"balanced"``, is computed on the
    fit labels). The packed loss is built from the public loss's config (:meth:`loss_config`,
    its softmax-family parameters ``family()``), so a loss of that family needs no code here.

    Registry: ``weighted_ce`` (``class_weight``), ``focal`` (``gamma``, ``alpha``),
    ``logit_adjusted`` (``tau``), ``balanced_softmax``, ``ldam`` (``max_margin``, ``scale``).
    """

    loss: str = "weighted_ce"
    options: tuple = field(default=())
    loss_class: str = "WeightedSparseCategoricalCrossentropy"
    kind = "loss"
    param_field = "loss"

    def option(self, name: str, default=None):
        return dict(self.options).get(name, default)

    def rows(self, x, y, n_classes, seed, space=None):
        per_class = self.option("class_weight") or self.option("alpha")
        weight = _ones(y.size) if per_class is None else _class_weight_rows(y, n_classes, per_class)
        return TrainingRows(_ones(y.size), weight, y.size)

    def loss_config(self, y, n_classes) -> dict:
        """The config of the public loss (:attr:`loss_class` of
        :mod:`keras_imbalance.losses`) this strategy trains with on fit labels ``y``: its
        options, the class counts of ``y`` and, for a weight option (a ``class_weights``
        strategy such as ``"balanced"``), the per-class weights it gives."""
        import inspect

        from keras_imbalance import losses

        accepted = inspect.signature(getattr(losses, self.loss_class)).parameters
        config = {"from_logits": True}
        if "sparse" in accepted:
            config["sparse"] = True
        if "class_counts" in accepted:
            config["class_counts"] = _counts(y, n_classes).tolist()
        for name, value in self.options:
            if isinstance(value, str) and name in ("class_weight", "alpha"):
                value = _class_weights(y, n_classes, value).tolist()
            config[name] = value
        return config

    def loss_spec(self, y, n_classes):
        """The :class:`LossSpec` of the public loss built from :meth:`loss_config` (its
        per-class weights train as row weights, see :meth:`rows`)."""
        from keras_imbalance import losses
        from keras_imbalance.losses._core import family_of

        loss = getattr(losses, self.loss_class)(**self.loss_config(y, n_classes))
        return LossSpec(**family_of(loss))


@dataclass(frozen=True)
class ResampleStrategy(Strategy):
    """An imbalanced-learn sampler applied to the fit rows (``keras_imbalance.resample``)."""

    method: str = "smote"
    kind = "resample"
    param_field = "method"

    @property
    def interpolates(self) -> bool:
        entry = TABLE.get(self.method)
        return entry is not None and entry.interpolates

    def neighbor_defaults(self) -> dict:
        """The neighbour counts of the method (imbalanced-learn's defaults)."""
        return {p.name: p.default for p in neighbor_params(self.method)}

    def resample_options(self) -> dict:
        """Keywords of ``resample`` besides the neighbour counts (none here)."""
        return {}

    def neighbor_params(self, y: np.ndarray) -> dict:
        """Neighbour counts lowered to what the smallest class allows (imbalanced-learn's
        defaults otherwise): ``k`` neighbours within a class need ``k + 1`` of its rows."""
        counts = np.bincount(y)
        smallest = int(counts[counts > 0].min())
        out = {}
        for p in neighbor_params(self.method):
            limit = smallest - 1 if p.scope == "class" else y.size - 1
            out[p.name] = max(1, min(p.default, limit))
        return out

    def rows(self, x, y, n_classes, seed, space=None):
        from keras_imbalance import resampling

        params = self.neighbor_params(y)
        defaults = self.neighbor_defaults()
        lowered = {
            name: value
            for name, value in params.items()
            if name in defaults and value < defaults[name]
        }
        categorical = list(getattr(space, "categorical", ()))
        method, rows = self.method, x
        if categorical and self.interpolates and method in ("smote", "smotenc"):
            method = "smotenc"  # SMOTE-NC on the category codes
            params["categorical_features"] = categorical
        elif categorical and method not in ("random_over", "random_under", "ml_ros", "ml_rus"):
            rows = space.to_model(x)  # distances on the one-hot model input
        result = resampling.resample(
            rows, y, method=method, random_state=seed, **self.resample_options(), **params
        )
        x_res = np.asarray(result.x)
        y_res = np.asarray(result.y, dtype=np.int64)
        source = np.asarray(result.sample_indices)  # the row each output copies; -1: synthetic
        synthetic = source < 0
        multiplicity = np.bincount(source[~synthetic], minlength=len(y)).astype(np.float64)
        extra_x = extra_y = extra_w = None
        if synthetic.any():
            extra_x = x_res[synthetic]
            if rows is not x:  # back from one-hot rows: each block's largest entry's code
                extra_x = space.from_model(extra_x)
            extra_x = extra_x.astype(x.dtype if x.dtype.kind == "f" else np.float32)
            extra_y = y_res[synthetic]
            extra_w = _ones(len(extra_y))
        note = ", ".join(f"{k}={v}" for k, v in lowered.items())
        return TrainingRows(
            multiplicity,
            _ones(len(y)),
            len(y_res),
            extra_x,
            extra_y,
            extra_w,
            note=note,
        )


@dataclass(frozen=True)
class BalancedBatchesStrategy(Strategy):
    """Class-balanced draws redrawn every epoch (:class:`keras_imbalance.sampling.
    BalancedBatches`, ``mode``), as many draws per epoch as fit rows."""

    mode: str = "oversample"
    kind = "batches"
    param_field = "mode"

    def plan_options(self) -> dict:
        """How :class:`~keras_imbalance.sampling.BalancedBatches` draws (``strategy``)."""
        return {"strategy": self.mode}

    def rows(self, x, y, n_classes, seed, space=None):
        from keras_imbalance.sampling import BalancedBatches

        n = len(y)
        # the rows drawn in an epoch: BalancedBatches over the row numbers themselves
        plan = BalancedBatches(
            np.arange(n)[:, None],
            y,
            batch_size=n,
            epoch_size=n,
            random_state=seed,
            **self.plan_options(),
        )

        def per_epoch(epoch: int) -> np.ndarray:
            plan.epoch = epoch
            drawn = np.concatenate([plan[i][0][:, 0] for i in range(len(plan))])
            return np.bincount(drawn.astype(np.int64), minlength=n).astype(np.float64)

        return TrainingRows(per_epoch(1), _ones(n), n, per_epoch=per_epoch)


@dataclass(frozen=True)
class EnsembleStrategy(Strategy):
    """Mean class probabilities of the fold's fits of :data:`ENSEMBLE_MEMBERS`; trains nothing."""

    kind = "ensemble"

    @property
    def trains(self) -> bool:
        return False


_WEIGHT_TEXT = {
    "balanced": "class_weight n / (k * count_c) (scikit-learn 'balanced')",
    "reference": "class_weight count_majority / count_c",
    "sqrt": "class_weight sqrt(n / (k * count_c)) (damped)",
    "log": "class_weight ln(1 + n / (k * count_c)) (damped)",
    "log_mu": "class_weight max(1, ln(0.15 n / count_c))",
    "effective_number": "class_weight (1 - beta) / (1 - beta ** count_c), beta = 0.999",
}
_RESAMPLE_TEXT = {
    "random_over": "RandomOverSampler on the training part",
    "random_under": "RandomUnderSampler on the training part",
    "smote": "SMOTE on the training part",
    "borderline_smote1": "Borderline-SMOTE 1 on the training part",
    "borderline_smote2": "Borderline-SMOTE 2 on the training part",
    "adasyn": "ADASYN on the training part",
    "tomek": "Tomek-links cleaning of the training part",
    "smote_tomek": "SMOTE then Tomek links on the training part",
}


def _losses() -> list[LossStrategy]:
    return [
        LossStrategy(
            "weighted_ce",
            "WeightedSparseCategoricalCrossentropy with 'balanced' class weights",
            loss="weighted_ce",
            loss_class="WeightedSparseCategoricalCrossentropy",
            options=(("class_weight", "balanced"),),
        ),
        LossStrategy(
            "focal",
            "SparseCategoricalFocalCrossentropy, gamma = 2, alpha = 'balanced' weights",
            loss="focal",
            loss_class="SparseCategoricalFocalCrossentropy",
            options=(("gamma", 2.0), ("alpha", "balanced")),
        ),
        LossStrategy(
            "logit_adjusted",
            "LogitAdjustedCrossentropy, tau = 1 (Menon et al. 2021)",
            loss="logit_adjusted",
            loss_class="LogitAdjustedCrossentropy",
            options=(("tau", 1.0),),
        ),
        LossStrategy(
            "balanced_softmax",
            "BalancedSoftmaxCrossentropy (Ren et al. 2020)",
            loss="balanced_softmax",
            loss_class="BalancedSoftmaxCrossentropy",
        ),
        LossStrategy(
            "ldam",
            "LDAMCrossentropy, max margin 0.5, scale 30 (Cao et al. 2019)",
            loss="ldam",
            loss_class="LDAMCrossentropy",
            options=(("max_margin", 0.5), ("scale", 30.0)),
        ),
    ]


def baselines(cls, plain: str, tuned: str) -> dict[str, Strategy]:
    """``none`` and ``none+threshold`` of a kind: plain training of ``cls``, decided by
    argmax, and the same fit with a threshold tuned on the validation rows."""
    return {"none": cls("none", plain), "none+threshold": cls("none+threshold", tuned, tuned=True)}


def _registry() -> dict[str, Strategy]:
    out: dict[str, Strategy] = baselines(
        Strategy,
        "plain training, argmax decision",
        "plain training, decision threshold tuned on the validation split",
    )
    for name, text in _WEIGHT_TEXT.items():
        out[name] = ClassWeightStrategy(name, text, weight_strategy=name)
    for strategy in _losses():
        out[strategy.name] = strategy
    for name, text in _RESAMPLE_TEXT.items():
        out[name] = ResampleStrategy(name, text, method=name)
    out["balanced_batches"] = BalancedBatchesStrategy(
        "balanced_batches", "BalancedBatches: class-balanced draws redrawn every epoch"
    )
    out["ensemble"] = EnsembleStrategy(
        "ensemble",
        "mean class probabilities of the fold's fits of ENSEMBLE_MEMBERS (every model), argmax",
    )
    return out


#: Every strategy :func:`keras_imbalance.compare` knows, by canonical name.
STRATEGIES: dict[str, Strategy] = _registry()

#: Strategies whose fits ``ensemble`` averages (when the run includes them): the recipe measured
#: in docs/benchmarks.md, five ways of training for balanced class priors (inverse-frequency
#: weights, logit adjustment, SMOTE, under-sampling, balanced batches). Left out: ``none``, the
#: damped weights, whose probabilities keep a majority prior, and the other balanced strategies,
#: which repeat these five (``reference``, ``weighted_ce``, ``balanced_softmax``,
#: ``random_over``) or lowered the ensemble when added (``focal``, ``effective_number``,
#: ``borderline_smote1``: yeast4, balanced accuracy 0.821 -> 0.796).
ENSEMBLE_MEMBERS: frozenset[str] = frozenset(
    {"balanced", "logit_adjusted", "smote", "random_under", "balanced_batches"}
)

#: Other spellings accepted for a strategy (normalised: lower case, spaces removed); the
#: names live in :mod:`keras_imbalance._names`, read by the command line too.
ALIASES: dict[str, str] = dict(_names.ALIASES)

#: Strategies run when ``strategies=None``: the baseline and its tuned threshold, every class
#: weight strategy, four losses, four resamplers, balanced batches and the ensemble of the
#: :data:`ENSEMBLE_MEMBERS` fits (``ldam`` and the other resamplers are opt-in). Strategies that
#: train identically on the data (``balanced_softmax`` and ``logit_adjusted`` at ``tau = 1``
#: always; ``balanced``, ``reference`` and ``weighted_ce`` with a scale-free optimizer and no
#: loss-side regularisation) are trained once and reported as one row naming all of them.
_OPT_IN = frozenset({"ldam", "borderline_smote2", "adasyn", "tomek", "smote_tomek"})
DEFAULT_STRATEGIES: tuple[str, ...] = tuple(n for n in _names.STRATEGIES if n not in _OPT_IN)


def canonical_name(
    name, argument: str = "strategies", registry=None, aliases=None, deprecated=None
) -> str:
    """Canonical strategy name for ``name`` (aliases and spacing accepted) in ``registry``
    (default :data:`STRATEGIES`, with :data:`ALIASES`); a name of ``deprecated`` (old ->
    new) gives its new name with a DeprecationWarning."""
    registry = STRATEGIES if registry is None else registry
    aliases = ALIASES if aliases is None else aliases
    if not isinstance(name, str):
        expected = "a list of strategy names (str)" if argument == "strategies" else "a str"
        raise invalid(argument, expected, name, kind=TypeError)
    key = "".join(name.lower().split())
    if deprecated and key in deprecated:
        import warnings

        warnings.warn(
            f"the strategy name {key!r} is deprecated and will be removed in keras-imbalance "
            f"0.2: use {deprecated[key]!r}",
            DeprecationWarning,
            stacklevel=6,  # compare's caller (compare, plan, Kind.resolve, resolve_strategies)
        )
        key = deprecated[key]
    key = aliases.get(key, key)
    if key not in registry:
        allowed = ", ".join(registry)
        raise invalid(argument, f"names among {{{allowed}}} (or their aliases)", name)
    return key


def resolve_strategies(
    strategies,
    registry=None,
    defaults=DEFAULT_STRATEGIES,
    aliases=None,
    first=("none", "none+threshold"),
    deprecated=None,
) -> list[Strategy]:
    """Validate a list of strategy names and return the strategies, baseline first.

    ``none`` and ``none+threshold`` are always included (the recommendation needs the
    baseline, and the tuned threshold reuses its fit at no extra cost); duplicates are
    dropped, the user's order is kept otherwise. Every unknown name is reported at once.
    ``registry``, ``defaults``, ``aliases`` and ``first`` (the names always run) serve
    another target's registry (multi-label, segmentation). A :class:`Strategy` object in the
    list (a user-built one) runs as it is, under its own ``name``.
    """
    registry = STRATEGIES if registry is None else registry
    if strategies is None:
        names = list(defaults)
    else:
        if isinstance(strategies, str):
            strategies = [strategies]
        try:
            names = list(strategies)
        except TypeError:
            raise invalid(
                "strategies", "a list of strategy names or None", strategies, kind=TypeError
            ) from None
    bad = []
    canon = []
    own: dict[str, Strategy] = {}  # user-built strategies, by name
    for n in names:
        if isinstance(n, Strategy):
            taken = n.name in registry or n.name in own
            if not isinstance(n.name, str) or not n.name or (taken and own.get(n.name) != n):
                raise invalid(
                    "strategies",
                    "user-built strategies with names of their own (not a registry name, not "
                    "used twice)",
                    n.name,
                )
            own[n.name] = n
            canon.append(n.name)
            continue
        try:
            canon.append(
                canonical_name(n, registry=registry, aliases=aliases, deprecated=deprecated)
            )
        except ValueError:
            bad.append(n)
    if bad:
        allowed = ", ".join(registry)
        raise invalid("strategies", f"names among {{{allowed}}} (or their aliases)", bad)
    ordered = list(first) + [n for n in canon if n not in first]
    return [own[n] if n in own else registry[n] for n in dict.fromkeys(ordered)]
