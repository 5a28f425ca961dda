"""One model on one training fold: every strategy trained in one packed fit (Keras 3).

:func:`fit_fold` is what ``compare`` runs per (model, repeat, fold) and ``fit_strategy`` runs
on all rows:

1. a stratified validation split is taken from the training fold, before any resampling;
2. strategies that train identically (same loss, per-row weights equal or, with a scale-free
   optimizer, proportional) are merged into one *recipe*; ``none`` and ``none+threshold``
   always share one;
3. one packed fit (:mod:`~keras_imbalance.comparison._packing`) trains, side by side, an
   *early-stopping* copy of every recipe on the fit part (training fold minus validation
   rows; monitored per copy on the validation rows, :class:`~._packing.CopyMonitor`) and a
   *refit* copy of every recipe with an argmax rule on the whole training fold; a refit copy
   is kept at the epoch its early-stopping partner found best, so it is a refit for that many
   epochs, trained in lockstep instead of afterwards. Each part is standardised with its own
   statistics (2-D tables). A builder with ``fixed_epochs`` is not monitored: its copies run
   that many epochs, on the fit part only where a tuned threshold or ``refit=False`` needs it;
4. each (recipe, decision rule) gets a :class:`Decider`: the weights, scaler and threshold
   that decide for its strategies.

Memory: the rows of one packed fit (its store of features, each copy's row ids and weights,
the compiled fit's device copy) are kept under :func:`~._packing.pack_budget` bytes
(``$KERAS_IMBALANCE_PACK_BYTES``). A fold that needs more (a million rows, SMOTE doubling
them) trains its copies in several packed fits, one after the other: the early-stopping
copies on the fit part first, then the whole-fold copies for their partner's best epoch (as
they would be kept in lockstep), each phase split into as few fits as the budget allows. Every
fit takes the whole fold's steps per epoch and batch, and each copy shuffles by its place among
all the fold's copies, so a copy's result does not depend on the budget (up to float rounding;
dropout masks, shared by the copies of a fit, are drawn for that fit's shapes).

Rows of image files read lazily (``load_image_folder(..., lazy=True)``) stay row numbers:
the store is a :class:`~._data.LazyStack` whose batches decode their own rows (the compiled
JAX fold feeds its program a chunk of steps' rows at a time, as 8-bit pixels).

``settings.packed=False`` trains each copy in a Keras fit of its own, the refits after the
early-stopped fits (same rows, weights and losses; the cost before packing, for measurements).

``target`` (None: one class per row) plugs in another kind of label (a multi-label row, a
segmentation mask; :mod:`~._multilabel`, :mod:`~._segmentation`): an object with ``strata``
(an int code per row of the data, which the validation split is stratified on),
``check_model(model, k, sample)``, ``packed_loss(specs, k)``, ``rule_score(metric, y,
logits, rule)`` (the validation score of a copy) and ``tune(y, logits, metric)``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keras_imbalance._validation import invalid
from keras_imbalance.comparison._data import (
    LazyRows,
    LazyStack,
    Scaler,
    call_builder,
    fixed_epochs,
    predict_rows,
    repeat_rows,
    take,
    validation_split,
)
from keras_imbalance.comparison._scoring import (
    REFITTED,
    VALIDATED,
    rule_of,
)
from keras_imbalance.comparison._strategies import Strategy

# recipes whose training rows depend on the labels only (cheap; candidates for merging)
_MERGEABLE = ("plain", "class_weight", "loss")


@dataclass
class Recipe:
    """One copy of a packed fit: the strategy whose rows and loss it trains, and the names it
    answers for under each decision rule (first name = the row's strategy, then aliases)."""

    strategy: Strategy
    names: dict  # rule -> [strategy names]
    variant: int = 0  # which of the builder's hyperparameter variants (0: the builder's own)

    @property
    def rules(self) -> list:
        return list(self.names)


@dataclass
class Decider:
    """What decides for one (recipe, rule): a lone model's weights, the scaler of the rows
    they were trained on, and the tuned threshold (or None: argmax)."""

    weights: list
    scaler: Scaler
    threshold: Any
    best_epoch: int
    epochs_run: int
    refit: bool
    n_fit: int
    batch_size: int
    note: str = ""
    prior: Any = None  # cost rule, > 2 classes: log-space prior correction of the logits
    costs: Any = None  # cost rule: the cost matrix
    variant: Any = None  # the hyperparameter variant kept (a dict; None: the builder's own;
    # "average": the mean of every variant's probabilities, whose weights are ``members``)
    members: list = field(default_factory=list)
    # a fit-part decider: its validation score as the early stopping measured it (nan where
    # no monitor watched it), and its validation logits once computed (_Fold.validation_logits)
    score: float = math.nan
    val_logits: Any = None


@dataclass
class FoldFit:
    """:func:`fit_fold`'s result: a :class:`Decider` per (recipe, rule), and bookkeeping."""

    recipes: list
    deciders: dict  # (recipe index, rule) -> Decider
    lone: Any  # an untrained model of the builder (weights are set per decider)
    n_val: int
    seconds: float
    copies: int  # copies of the largest packed fit
    fits: int  # Keras fits run
    # ensemble selection (settings.ensemble != "average"): per (recipe, rule) of REFITTED,
    # the early-stopped weights' logits on the validation rows, their labels and row ids
    validation: dict = field(default_factory=dict)
    y_val: Any = None
    val_rows: Any = None
    model_fn: Any = None  # the builder (compiled predictions are kept per builder)
    squash: str = "softmax"  # the kind's logits -> probabilities (averaged variants)


def recipes_of(strategies, y, n_classes, up_to_scale: bool, costs=None) -> list[Recipe]:
    """Group ``strategies`` into recipes: a shared ``group`` (``none`` / ``none+threshold``),
    or rows and loss that train identically on labels ``y`` (merged into the first). With
    ``costs`` every strategy decides by cost (``none+threshold`` then answers with ``none``)."""
    groups: dict[str, list[Strategy]] = {}
    for s in strategies:
        groups.setdefault(s.group, []).append(s)
    recipes: list[Recipe] = []
    seen: list[tuple] = []  # (recipe, rows, spec) of mergeable recipes
    for members in groups.values():
        head = members[0]
        names: dict = {}
        for s in members:
            names.setdefault(rule_of(s, costs), []).append(s.name)
        merged = False
        if head.kind in _MERGEABLE:
            rows = head.rows(None, y, n_classes, 0)
            spec = head.loss_spec(y, n_classes)
            for recipe, other_rows, other_spec in seen:
                if spec == other_spec and rows.same_training(other_rows, up_to_scale=up_to_scale):
                    for rule, more in names.items():
                        recipe.names.setdefault(rule, []).extend(more)
                    merged = True
                    break
            if not merged:
                recipe = Recipe(head, names)
                recipes.append(recipe)
                seen.append((recipe, rows, spec))
        else:
            recipes.append(Recipe(head, names))
    return recipes


@dataclass
class _Copy:
    """One copy of a packed fit: a recipe trained on the fit part or on the whole fold."""

    recipe: int
    full: bool  # the whole training fold (a refit) rather than the early-stopping fit part
    rows: Any = None  # its TrainingRows
    scaler: Any = None


def _repeat(positions: np.ndarray, multiplicity: np.ndarray, weight: np.ndarray):
    """Row ids (a row repeated ``multiplicity`` times) and their loss weights."""
    times = np.rint(multiplicity).astype(np.int64)
    return np.repeat(positions, times), np.repeat(weight, times)


class _Fold:
    """The rows of one training fold and how copies on its parts are packed and trained."""

    def __init__(self, model_fn, x, codes, train_idx, settings, seed, k, spec=None, target=None):
        self.model_fn, self.settings, self.seed, self.k = model_fn, settings, seed, k
        if target is None:  # one class per row
            from keras_imbalance.comparison.kinds.multiclass import MulticlassTarget

            target = MulticlassTarget(k, codes, settings.costs)
        self.target = target
        self.recipes: list = []
        self.y = codes[train_idx]
        every = isinstance(x, np.ndarray) and np.array_equal(train_idx, np.arange(len(x)))
        self.raw = x if every else take(x, train_idx)  # every row (fit_strategy): no copy
        strata = target.strata[train_idx]
        self.fit_pos, val_pos = validation_split(strata, settings.validation_fraction, seed)
        self.val_rows = np.asarray(train_idx)[val_pos]  # row ids in the data
        self.full_scaler = Scaler.fit(self.raw, settings.standardize, spec)
        if spec is None:
            self.fit_scaler = Scaler.fit(take(self.raw, self.fit_pos), settings.standardize)
            self.input_shape = tuple(x.shape[1:])
        else:
            # a raw table's one-hot layout must be the same for every copy of the fit: one
            # encoder, fitted on the whole training fold (never on its test fold)
            self.fit_scaler = self.full_scaler
            self.input_shape = (int(self.full_scaler.encoder.n_features_out),)
        self.x_val = self.fit_scaler.transform(take(self.raw, val_pos))
        self.y_val = self.y[val_pos]
        self.fixed = fixed_epochs(model_fn, settings.epochs)
        self.variants = variants_of(model_fn)  # [{}]: the builder's own only
        self.choose = getattr(model_fn, "choose", "best")  # keep one variant, or average
        self.squash = getattr(target, "squash", "softmax")
        self.early: dict = {}  # (recipe, rule) -> its decider of a fit-part copy
        self.lone = None  # the builder's untrained model (seeded with ``seed``), once built
        self.steps = self.batch = None  # of the whole fold, where :meth:`groups` planned it
        self.places: dict = {}  # id of a copy -> its place among the fold's copies, in groups

    def validation_logits(self, decider: Decider) -> np.ndarray:
        """``decider``'s logits on the validation rows, computed once (the variant choice,
        the tuned threshold and ensemble selection all read them)."""
        if decider.val_logits is None:
            decider.val_logits = decider_logits(
                self.lone, decider, self.x_val, self.model_fn, self.squash
            )
        return decider.val_logits

    def part(self, full: bool):
        """``(positions in the fold, scaler)`` of the fit part or the whole fold."""
        if full:
            return np.arange(len(self.y)), self.full_scaler
        return self.fit_pos, self.fit_scaler

    def part_bytes(self, n: int) -> int:
        """Bytes a part of ``n`` rows takes in one packed fit: its store on the host and the
        compiled fit's copy on the device (2 float32 rows of model input a row); a part of
        image files read on demand (:class:`~._data.LazyRows`) only its row numbers (int64):
        its rows are decoded a chunk of steps at a time, whatever the part's size."""
        if isinstance(self.raw, LazyRows):
            return 8 * int(n)
        return 2 * 4 * int(np.prod(self.input_shape)) * int(n)

    def fit(self, copies: list, known_epochs: dict) -> tuple:
        """Train ``copies`` in one packed fit; ``(deciders, seconds)``. Early-stopping copies
        (``full=False`` without ``fixed_epochs``) are monitored on the validation rows; a
        whole-fold copy of the same recipe is their partner (kept at its best epoch); other
        whole-fold copies run ``known_epochs[recipe]`` epochs."""
        from keras_imbalance.comparison import _packing

        # a group of the fold's copies (:meth:`groups`): each shuffles by its place among all
        keys = [self.places[id(c)] for c in copies] if self.places else None
        net, data, specs = self._pack(copies, keys)
        priors = self._priors(copies, specs)
        watch = self._callbacks(copies, net, priors, known_epochs)
        seconds = _packing.fit(net, data, watch.epochs, watch.callbacks)
        batch = data.batch_size
        del data  # the store goes before the deciders read the weights back
        return self._deciders(copies, net, batch, priors, watch), seconds

    def _mixed(self, full: bool) -> np.ndarray:
        """The rows of a part as its scaler makes them for the resamplers."""
        pos, scaler = self.part(full)
        return scaler.mixed(take(self.raw, pos))

    def _training_rows(self, c: _Copy, x_part) -> None:
        """Set ``c.scaler`` and ``c.rows``: what its strategy trains on in its part (the same
        draws whenever asked: the strategies are seeded with the fold's seed)."""
        pos, c.scaler = self.part(c.full)
        strategy = self.recipes[c.recipe].strategy
        c.rows = strategy.rows(x_part, self.y[pos], self.k, self.seed, space=c.scaler)

    def groups(self, copies: list) -> list:
        """``copies`` split into packed fits whose rows stay under
        :func:`~._packing.pack_budget` bytes: all in one fit where they fit (the rows drawn
        here are kept for it); else the early-stopping copies in fits of their own, then the
        whole-fold copies (trained for their partner's best epoch, as in lockstep), each
        phase in as few fits as the budget allows. Every fit takes the steps per epoch and
        the batch of the whole fold's, so a copy trains as it would packed with all."""
        from keras_imbalance.comparison import _packing

        budget = _packing.pack_budget()
        row = 4 * int(np.prod(self.input_shape))  # bytes of a float32 row of model input
        part_cost = {f: self.part_bytes(self.part(f)[0].size) for f in {c.full for c in copies}}
        need = sum(part_cost.values())
        sizes, cost, keep = [], [], True
        mixed = {}
        for c in copies:
            if c.full not in mixed:
                mixed[c.full] = self._mixed(c.full)
            self._training_rows(c, mixed[c.full])
            sizes.append(int(c.rows.size))
            # row ids and weights (kept, drawn each epoch, planned, compiled) and the
            # synthetic rows in the store and on the device
            cost.append(48 * int(c.rows.size) + 2 * row * c.rows.n_extra)
            need += cost[-1]
            if keep and need > budget:  # several fits: each draws its copies' rows again
                keep = False
                for d in copies:
                    d.rows = None
            if not keep:
                c.rows = None
        self.steps = max(math.ceil(n / self.settings.batch_for(n)) for n in sizes)
        self.batch = max(math.ceil(n / self.steps) for n in sizes)
        if keep:
            return [list(copies)]
        self.places = {id(c): i for i, c in enumerate(copies)}
        fits = []
        for full in (False, True):
            fit, used = [], part_cost.get(full, 0)
            for c, bytes_ in zip(copies, cost, strict=True):
                if c.full != full:
                    continue
                if fit and used + bytes_ > budget:
                    fits.append(fit)
                    fit, used = [], part_cost[full]
                fit.append(c)
                used += bytes_
            if fit:
                fits.append(fit)
        return fits

    def _pack(self, copies: list, keys=None) -> tuple:
        """``(net, rows, loss specs)`` of one packed fit: every copy's training rows in one
        store, the packed network of the builder, compiled with the kind's packed loss."""
        import dataclasses

        from keras_imbalance.comparison import _compiled, _packing

        k, settings = self.k, self.settings
        # the store: each part's rows as its scaler makes them (resamplers see them "mixed":
        # categories as codes), then every copy's synthetic rows; all turned into model input
        # in one array (padded for the compiled fit, which then takes it without a copy)
        parts = sorted({c.full for c in copies})
        mixed = {full: self._mixed(full) for full in parts}
        blocks, labels, offsets, n = [], [], {}, 0
        for full in parts:
            offsets[full] = n
            n += len(mixed[full])
            blocks.append(mixed[full])
            labels.append(self.y[self.part(full)[0]])
        rows, weights, redraw = [], [], {}
        for i, c in enumerate(copies):
            if c.rows is None:
                self._training_rows(c, mixed[c.full])
            pos, c.scaler = self.part(c.full)
            r = c.rows
            ids = offsets[c.full] + np.arange(pos.size)
            own_ids, own_w = _repeat(ids, r.multiplicity, r.weight)
            extra_ids, extra_w = np.zeros(0, np.int64), np.zeros(0)
            if r.n_extra:
                blocks.append(r.extra_x)
                labels.append(r.extra_y)
                extra_ids, extra_w = np.arange(n, n + r.n_extra), r.extra_weight
                n += r.n_extra
                r = c.rows = dataclasses.replace(r, extra_x=None)  # the store holds them now
            rows.append(np.concatenate([own_ids, extra_ids]).astype(np.int64, copy=False))
            weights.append(np.concatenate([own_w, extra_w]))
            if r.per_epoch is not None:

                def draw(epoch, r=r, ids=ids):
                    return _repeat(ids, r.per_epoch(epoch), r.weight)

                redraw[i] = draw
        del mixed, r
        scaler = copies[0].scaler
        store, at = None, 0
        if any(isinstance(b, LazyRows) for b in blocks):
            # image files: the store holds row numbers and each batch decodes its own rows
            # (the compiled fold's program is fed a chunk of steps' rows at a time)
            store = LazyStack(
                [b if isinstance(b, LazyRows) else scaler.to_model(b) for b in blocks]
            )
            blocks = []
        while blocks:
            block = scaler.to_model(blocks.pop(0))
            if store is None:
                store = np.zeros((_compiled.store_rows(n), *block.shape[1:]), dtype=np.float32)
            store[at : at + len(block)] = block
            at += len(block)
        labels = np.concatenate(labels)

        specs = [
            self._smoothed(
                self.recipes[c.recipe].strategy.loss_spec(self.y[self.part(c.full)[0]], k),
                self.variants[self.recipes[c.recipe].variant],
            )
            for c in copies
        ]
        # every copy takes as many steps per epoch as the copy that takes most alone (of the
        # whole fold, where its copies train in several fits: :meth:`groups`)
        steps = self.steps or max(
            math.ceil(c.rows.size / settings.batch_for(c.rows.size)) for c in copies
        )
        grouped = keys is not None
        data = _packing.PackedRows(
            store,
            labels,
            rows,
            weights,
            steps,
            self.seed,
            redraw,
            keys=keys,
            batch=self.batch if grouped else None,
        )
        data.transient = True  # the compiled fit may drop the host store once on the device
        sample = np.stack([store[r[:8]] if r.size >= 8 else store[:8] for r in rows], axis=1)
        del store
        net = _packing.build_net(
            self.model_fn, self.input_shape, k, len(copies), self.seed, sample[:8], self.lone
        )
        _packing.compile_net(net, specs, k, settings, self.target.packed_loss(specs, k))
        if len(self.variants) > 1:  # each copy with its variant's learning rate and decay
            own = [self.variants[self.recipes[c.recipe].variant] for c in copies]
            from keras_imbalance.comparison._rates import copy_rates

            net.rates = copy_rates(net.model.optimizer, own)
        return net, data, specs

    @staticmethod
    def _smoothed(spec, variant: dict):
        """``spec`` with the label smoothing of a hyperparameter ``variant`` (if any)."""
        smoothing = variant.get("label_smoothing", 0.0)
        if not smoothing:
            return spec
        if not hasattr(spec, "smoothing"):
            raise invalid(
                "variants",
                "label_smoothing only where each row has one class (a softmax loss)",
                type(spec).__name__,
            )
        return dataclasses.replace(spec, smoothing=float(smoothing))

    def _priors(self, copies: list, specs: list) -> list:
        """Per copy, the log-space prior correction of a cost rule (None without costs)."""
        if self.settings.costs is None:
            return [None] * len(copies)
        return [
            _prior_correction(c.rows, spec, self.y[self.part(c.full)[0]], self.k)
            for c, spec in zip(copies, specs, strict=True)
        ]

    def _callbacks(self, copies: list, net, priors: list, known_epochs: dict) -> _Watch:
        """Who watches the fit: a :class:`~._packing.CopyMonitor` of the early-stopping
        copies (scored by the kind on the validation rows, their whole-fold partners kept at
        their best epoch) and :class:`~._packing.Snapshots` of whole-fold copies that run a
        known number of epochs; and how many epochs the fit runs."""
        from keras_imbalance.comparison import _packing

        settings = self.settings
        watched = {
            i: self.recipes[c.recipe].rules
            for i, c in enumerate(copies)
            if not c.full and self.fixed is None
        }
        order = list(watched)
        partners = {
            order.index(j): i
            for i, c in enumerate(copies)
            for j, d in enumerate(copies)
            if c.full and j in watched and d.recipe == c.recipe
        }
        watch = _Watch([], self.fixed, order, partners)
        if watched:
            # every copy's validation rows: a view (the monitor makes a chunk real at a time)
            x_val = repeat_rows(self.x_val, len(copies))
            y_val, metric = self.y_val, settings.metric

            def score(copy, rule, logits):
                return self.target.rule_score(metric, y_val, logits, rule, priors[order[copy]])

            watch.monitor = _packing.CopyMonitor(
                net, x_val, watched, score, settings.patience, partners, REFITTED
            )
            watch.callbacks.append(watch.monitor)
            watch.epochs = settings.epochs
        watch.alone = {
            i: known_epochs[c.recipe]
            for i, c in enumerate(copies)
            if c.full and i not in partners.values() and self.fixed is None
        }
        if watch.alone:
            watch.snaps = _packing.Snapshots(net, watch.alone)
            watch.callbacks.append(watch.snaps)
            watch.epochs = max(watch.alone.values())
        return watch

    def _deciders(self, copies: list, net, batch: int, priors: list, watch: _Watch) -> dict:
        """A :class:`Decider` per (recipe, rule) from the fitted copies: the monitor's best
        weights (or the refit partner's at that epoch, a snapshot, the final weights)."""
        final = net.all_copy_weights(range(len(copies)))
        costs = None if self.settings.costs is None else np.asarray(self.settings.costs)
        monitor, partners, order = watch.monitor, watch.partners, watch.order
        deciders = {}
        for i, c in enumerate(copies):
            n_rows = int(self.part(c.full)[0].size)
            note = "; ".join(n for n in (c.rows.note, net.note) if n)
            if c.full:
                rule = next(r for r in self.recipes[c.recipe].rules if r in REFITTED)
                if i in partners.values():
                    m = next(m for m, j in partners.items() if j == i)
                    found = monitor.partner_weights[m]
                    best = monitor.best_epoch[m][rule]
                    run = monitor.copy_epochs_run(m)
                elif i in watch.alone:
                    found, best, run = watch.snaps.weights[i], watch.alone[i], watch.alone[i]
                else:
                    found, best, run = final[i], self.fixed, self.fixed
                deciders[(c.recipe, rule)] = Decider(
                    found, c.scaler, None, best, run, True, n_rows, batch, note, priors[i], costs
                )
                continue
            for rule in self.recipes[c.recipe].rules:
                score = math.nan
                if monitor is not None:
                    m = order.index(i)
                    found = monitor.best_weights[m][rule] or final[i]
                    best, run = monitor.best_epoch[m][rule], monitor.copy_epochs_run(m)
                    score = monitor.best[m][rule]
                else:
                    found, best, run = final[i], self.fixed, self.fixed
                key = (c.recipe, rule)
                # the fit-part decider, also where a refit one decides (ensemble selection)
                self.early[key] = Decider(
                    found,
                    c.scaler,
                    None,
                    best,
                    run,
                    False,
                    n_rows,
                    batch,
                    note,
                    priors[i],
                    costs if rule == "cost" else None,
                    score=score,
                )
                if key not in deciders or not deciders[key].refit:
                    deciders[key] = self.early[key]
        return deciders


@dataclass
class _Watch:
    """The callbacks of one packed fit and what the deciders read back from them."""

    callbacks: list
    epochs: Any
    order: list  # copy index of each monitored copy
    partners: dict  # monitored copy (its place in order) -> its whole-fold partner copy
    monitor: Any = None
    snaps: Any = None
    alone: dict = field(default_factory=dict)


def fit_fold(
    model_fn, strategies, x, codes, train_idx, settings, seed, n_classes, spec=None, target=None
) -> FoldFit:
    """Train ``strategies`` with ``model_fn`` on the training fold ``train_idx`` (see the
    module docstring): one packed fit with early-stopping copies on the fit part and refit
    copies on the whole fold (``settings.packed=False``: one fit per copy, refits after).
    ``codes``: the labels (class codes, or another ``target``'s labels)."""
    import keras

    from keras_imbalance.comparison import _packing

    k = n_classes
    fold = _Fold(model_fn, x, codes, train_idx, settings, seed, k, spec, target)
    target = fold.target
    sample = np.asarray(fold.full_scaler.transform(take(fold.raw, np.arange(min(8, len(fold.y))))))
    keras.utils.set_random_seed(seed)
    lone = call_builder(model_fn, fold.input_shape, k)
    target.check_model(lone, k, sample)
    fold.lone = lone
    recipes = recipes_of(strategies, fold.y, k, _packing.scale_free(lone), settings.costs)
    base = recipes
    variants = fold.variants
    if len(variants) > 1:  # every recipe once per variant, more copies of the same fit
        recipes = [dataclasses.replace(r, variant=v) for v in range(len(variants)) for r in base]
    fold.recipes = recipes
    fixed = fold.fixed

    def any_of(recipe, rules):
        return any(rule in recipe.names for rule in rules)

    selecting = getattr(settings, "ensemble", "average") != "average"
    early = [
        _Copy(i, False)
        for i, r in enumerate(recipes)
        if fixed is None
        or any_of(r, VALIDATED)
        or not settings.refit
        or selecting
        or len(variants) > 1
    ]
    late = [_Copy(i, True) for i, r in enumerate(recipes) if settings.refit and any_of(r, REFITTED)]
    if settings.packed:  # one fit, or a few where the rows would take too much memory
        plan = fold.groups(early + late)
    else:  # one copy per fit; the refits after every early-stopped fit
        plan = [[c] for c in early] + [[c] for c in late]
    deciders: dict = {}
    early_stopped: dict = {}  # the fit-part decider of each (recipe, rule)
    seconds = 0.0
    grouped = settings.packed and len(plan) > 1
    for copies in plan:
        known = {key[0]: d.best_epoch for key, d in deciders.items() if key[1] in REFITTED}
        found, secs = fold.fit(copies, known)
        for key, d in found.items():
            if not d.refit:
                early_stopped[key] = d
            if key not in deciders or d.refit:
                deciders[key] = d
        seconds += secs
    if grouped:  # as the one packed fit reports them
        for key, d in deciders.items():
            d.batch_size = fold.batch
            if d.refit and fixed is None and key in early_stopped:
                d.epochs_run = early_stopped[key].epochs_run  # a partner runs its copy's
    if len(variants) > 1 and fold.choose == "average":  # every variant, probabilities averaged
        made: dict = {}  # one averaged decider per builder's-own decider, in every dict
        deciders, early_stopped, fold.early = (
            _averaged(found, len(base), len(variants), made)
            for found in (deciders, early_stopped, fold.early)
        )
        recipes = base
    elif len(variants) > 1:  # each recipe keeps the variant its validation rows prefer
        chosen = _chosen_variants(fold, base)
        deciders, early_stopped, fold.early = (
            _renamed(found, chosen, fold.variants, len(base))
            for found in (deciders, early_stopped, fold.early)
        )
        recipes = base
    for key, d in deciders.items():
        rule = key[1]
        if rule == "tuned" or (rule == "cost" and k == 2):
            # tuned on the validation predictions of the early-stopped weights (the refit
            # model, if any, then applies the same threshold)
            logits = fold.validation_logits(early_stopped.get(key, d))
            d.threshold = target.tune(fold.y_val, logits, settings.metric, rule)
    widest = max(len(p) for p in plan) if plan else 0
    out = FoldFit(
        recipes,
        deciders,
        lone,
        int(fold.y_val.size),
        seconds,
        widest,
        len(plan),
        model_fn=model_fn,
        squash=fold.squash,
    )
    if selecting:  # hook of ensemble selection (_ensemble.Selector)
        out.y_val, out.val_rows = fold.y_val, fold.val_rows
        for key in deciders:
            early_fit = fold.early.get(key)
            if key[1] in REFITTED and early_fit is not None:
                out.validation[key] = fold.validation_logits(early_fit)
    return out


def variants_of(model_fn) -> list:
    """The hyperparameter variants a builder carries (its ``variants`` attribute, set by
    :func:`~keras_imbalance.comparison.with_variants`): ``[{}]`` (the builder's own) followed
    by each variant's dict of optimizer settings."""
    found = getattr(model_fn, "variants", None)
    return [{}] + [dict(v) for v in found or ()]


def _chosen_variants(fold: _Fold, base: list) -> dict:
    """``{(recipe, rule): (variant recipe, rule)}`` over the recipes of ``base``: the variant
    whose early-stopped copy scores best on the validation rows (the kind's score of that
    rule: the score the early stopping measured at its best epoch, or computed here for a
    copy no monitor watched, ``fixed_epochs``); ties keep the earlier variant (the
    builder's own first)."""
    n, target, metric = len(base), fold.target, fold.settings.metric
    chosen = {}
    for i, recipe in enumerate(base):
        for rule in recipe.rules:
            best, found = -math.inf, 0
            for v in range(len(fold.variants)):
                d = fold.early.get((v * n + i, rule))
                if d is None:
                    continue
                value = d.score
                if math.isnan(value):
                    logits = fold.validation_logits(d)
                    value = target.rule_score(metric, fold.y_val, logits, rule, d.prior)
                if np.isfinite(value) and value > best + 1e-9:
                    best, found = value, v
            chosen[(i, rule)] = (found * n + i, rule)
    return chosen


def variant_text(decider: Decider, model_fn=None) -> str:
    """The hyperparameter variant a decider stands for, as the leaderboard's ``variant``
    column shows it: ``""`` for a builder without variants, ``"own"`` (the builder's own
    settings), ``"average"`` (every variant averaged) or the kept variant's settings
    (``"learning_rate=0.01"``)."""
    if decider.variant == "average":
        return "average"
    if decider.variant:
        return " ".join(f"{k}={v:g}" for k, v in sorted(decider.variant.items()))
    return "own" if getattr(model_fn, "variants", None) else ""


def _averaged(found: dict, n: int, count: int, made: dict) -> dict:
    """The deciders of ``found`` (keyed by the recipes of ``count`` variants of ``n`` base
    recipes) merged per base (recipe, rule): the builder's own copy's decider (its epochs,
    scaler, prior: the same rows and loss for every variant) whose ``members`` are the
    weights of every variant's copy, their probabilities averaged (:func:`decider_logits`).
    ``made``: the averaged decider of each own decider already merged (by id), shared."""
    out = {}
    for (i, rule), d in found.items():
        if i >= n:
            continue
        if id(d) not in made:
            same = [found.get((v * n + i, rule)) for v in range(count)]
            made[id(d)] = dataclasses.replace(
                d,
                variant="average",
                members=[m.weights for m in same if m is not None],
                score=math.nan,
                val_logits=None,
            )
        out[(i, rule)] = made[id(d)]
    return out


def _renamed(found: dict, chosen: dict, variants: list, n: int) -> dict:
    """The entries of ``found`` (keyed by variant recipes) that ``chosen`` keeps, keyed by
    the base recipes; each decider says which variant it is (None: the builder's own)."""
    out = {}
    for key, source in chosen.items():
        if source in found:
            out[key] = found[source]
            out[key].variant = variants[source[0] // n] or None
    return out


def _prior_correction(rows, spec, y, k) -> np.ndarray:
    """Log-space offsets that turn a copy's probabilities into estimates under the class
    priors of ``y`` (the rows it learns from): ``log pi - log pi_eff``. Its effective training
    prior ``pi_eff`` is the weighted class share of its rows (weights, duplicates, synthetic
    rows) divided by ``exp(offsets)`` of a logit-adjusted loss (its softmax learns
    ``p(y | x) / pi ** tau``). Focal and LDAM distort probabilities in ways this ignores."""
    shares = np.bincount(y, weights=rows.weight * rows.multiplicity, minlength=k)
    if rows.n_extra:
        shares = shares + np.bincount(rows.extra_y, weights=rows.extra_weight, minlength=k)
    eff = np.log(np.maximum(shares, 1e-12))
    if spec.offsets is not None:
        eff = eff - np.asarray(spec.offsets)
    pi = np.log(np.maximum(np.bincount(y, minlength=k).astype(np.float64), 1e-12))
    correction = pi - eff
    return correction - correction.mean()


def _logits(model, x: np.ndarray, model_fn=None) -> np.ndarray:
    """``(n, K)`` float64 logits of ``model`` on ``x``; compiled (one call) on the JAX
    backend's compiled path when its builder ``model_fn`` is known."""
    import keras

    from keras_imbalance.comparison import _compiled

    if model_fn is not None and x.shape[0] and _compiled.enabled():
        try:
            return _compiled.predict(model_fn, model, x)
        except Exception:  # a model that cannot be traced: Keras' own call below
            pass
    out = []
    step = predict_rows(x)  # a bounded forward pass: memory does not grow with the rows
    for i in range(0, x.shape[0], step):
        out.append(keras.ops.convert_to_numpy(model(x[i : i + step], training=False)))
    if not out:
        return np.zeros((0, model.outputs[0].shape[-1] if model.outputs else 0))
    return np.asarray(np.concatenate(out, axis=0), dtype=np.float64)


def decider_logits(model, decider: Decider, x: np.ndarray, model_fn=None, squash="softmax"):
    """Logits of ``decider``'s weights set into ``model`` on (scaled) rows ``x``; for averaged
    variants (``decider.members``) logits whose probabilities are the mean of the members'
    (:func:`mean_logits`)."""
    if not decider.members:
        model.set_weights(decider.weights)
        return _logits(model, x, model_fn)
    each = []
    for weights in decider.members:
        model.set_weights(weights)
        each.append(_logits(model, x, model_fn))
    return mean_logits(each, squash)


def mean_logits(logits: list, squash: str = "softmax") -> np.ndarray:
    """Logits whose probabilities are the mean of those of each array of ``logits``.

    ``softmax``: ``log mean_c softmax(z_c)`` (the softmax of a log-probability vector is that
    vector's exponential), computed as a log-sum-exp of log-softmaxes. ``sigmoid`` (one
    probability per label): ``log p - log(1 - p)`` of ``p = mean_c sigmoid(z_c)``, with
    ``log sigmoid(z) = -log(1 + exp(-z))`` and ``log(1 - sigmoid(z)) = log sigmoid(-z)``."""
    from scipy.special import log_softmax, logsumexp

    z = np.stack([np.asarray(a, dtype=np.float64) for a in logits])
    shift = math.log(len(logits))
    if squash == "sigmoid":
        log_p = logsumexp(-np.logaddexp(0.0, -z), axis=0) - shift
        log_q = logsumexp(-np.logaddexp(0.0, z), axis=0) - shift
        return log_p - log_q
    return logsumexp(log_softmax(z, axis=-1), axis=0) - shift


def predict_logits(fitted: FoldFit, key, x_raw: np.ndarray) -> np.ndarray:
    """Logits of decider ``key`` on raw rows ``x_raw`` (scaled with the decider's scaler)."""
    decider = fitted.deciders[key]
    x = decider.scaler.transform(x_raw)
    return decider_logits(fitted.lone, decider, x, fitted.model_fn, fitted.squash)


__all__ = [
    "Decider",
    "FoldFit",
    "Recipe",
    "decider_logits",
    "fit_fold",
    "mean_logits",
    "predict_logits",
    "recipes_of",
    "variant_text",
]
