"""compare on segmentation masks (keras_imbalance.comparison.kinds.segmentation): every loss runs,
the IoU columns are the package's per-class IoU / mean IoU of the stored pixel counts, a
packed copy trains as its lone fit, bad models and masks get one line."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_imbalance as ki
from keras_imbalance import losses, metrics
from keras_imbalance.comparison import (
    KINDS,
    TrainingSettings,
    _fold,
    compare,
)
from keras_imbalance.comparison.kinds.segmentation import (
    SegmentationTarget,
    mask_scores,
    masks_of,
    pixel_confusion,
    rarest_class,
)
from test_packing import assert_copies_match, fit_alone

SEGMENTATION_STRATEGIES = KINDS["segmentation"].strategies


def squares(n=24, size=12, seed=0):
    """Noise images with a large square (class 1) and, in about half of them, a 2 x 2 one
    (class 2, under 2 % of the pixels)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        top, left = rng.integers(0, size - 6, size=2)
        masks[i, top : top + 5, left : left + 5] = 1
        if i % 2 == 0:
            top, left = rng.integers(0, size - 2, size=2)
            masks[i, top : top + 2, left : left + 2] = 2
    x = np.array([0.0, 0.6, 1.2], dtype=np.float32)[masks]
    x = x + rng.normal(scale=0.3, size=masks.shape).astype(np.float32)
    return x[..., None], masks


def tiny_unet(input_shape, n_classes):
    """Two resolutions joined by a skip connection; per-pixel logits."""
    inputs = keras.Input(input_shape)
    high = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    low = keras.layers.MaxPooling2D()(high)
    low = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(low)
    joined = keras.layers.Concatenate()([high, keras.layers.UpSampling2D()(low)])
    return keras.Model(inputs, keras.layers.Conv2D(n_classes, 1)(joined))


FAST = dict(model_fn=tiny_unet, cv=2, epochs=2, patience=1)


def test_every_loss_runs_and_the_iou_columns_are_the_packages():
    x, masks = squares()
    result = compare(x, masks, **FAST)
    board = result.leaderboard
    assert set(board["strategy"]) == set(SEGMENTATION_STRATEGIES)
    assert result.metric == "mean_iou" and result.config["rare_class"] == "2"
    assert result.class_counts == np.bincount(masks.ravel()).tolist()
    assert len(result.folds) == 2 * len(SEGMENTATION_STRATEGIES)
    for row in result.rows:
        cm = np.asarray(row["confusion"])
        assert cm.sum() == row["n_test"] * 12 * 12  # every test pixel counted once
        iou = metrics.from_confusion(cm, "per_class_iou")
        np.testing.assert_allclose(row["per_class_iou"], iou)
        assert row["metrics"]["mean_iou"] == pytest.approx(np.nanmean(iou))
        assert row["metrics"]["rare_iou"] == pytest.approx(iou[2], nan_ok=True)
    # the recommendation is measured against plain cross-entropy
    assert result.recommendation["baseline_strategy"] == "none"


def test_scores_equal_the_numpy_metrics_on_the_predictions():
    rng = np.random.default_rng(3)
    masks = rng.choice(3, size=(5, 6, 7), p=[0.7, 0.25, 0.05])
    logits = rng.normal(size=(5, 6, 7, 3))
    target = SegmentationTarget(3, np.zeros(5, int), rare=2)
    out = target.scores(masks, logits, None, 100, 0)
    pred = np.argmax(logits, axis=-1)
    np.testing.assert_allclose(
        out["per_class_iou"], metrics.per_class_iou(masks, pred, num_classes=3)
    )
    assert out["metrics"]["mean_iou"] == pytest.approx(metrics.mean_iou(masks, pred, num_classes=3))
    assert out["metrics"]["mean_dice"] == pytest.approx(
        metrics.mean_dice(masks, pred, num_classes=3)
    )
    assert out["test_counts"] == [int(np.any(masks == c, axis=(1, 2)).sum()) for c in range(3)]
    # a class absent from masks and predictions: NaN IoU, left out of the mean
    cm = pixel_confusion(np.zeros((1, 2, 2), int), np.zeros((1, 2, 2, 3)), 3)
    scored = mask_scores(cm, rare=2)
    assert np.isnan(scored["per_class_iou"][2]) and scored["metrics"]["mean_iou"] == 1.0


def test_strata_are_each_images_rarest_class():
    masks = np.zeros((4, 2, 2), int)
    masks[0, 0, 0] = 1
    masks[1] = 1
    masks[1, 0, 0] = 2
    masks[2, 0, :] = 1  # pixels: class 0 8, class 1 6, class 2 1
    codes, names, rare = rarest_class(masks, ["0", "1", "2"])
    assert rare == 2 and [names[c] for c in codes] == ["class 1", "class 2", "class 1", "class 0"]


def test_a_packed_segmentation_copy_ends_with_the_weights_of_its_lone_fit():
    x, masks = squares(n=8, size=8)
    seed, epochs = 5, 2

    def builder(input_shape, n_classes):
        model = tiny_unet(input_shape, n_classes)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
        return model

    builder.fixed_epochs = epochs
    names = ["none", "weighted_ce_median_frequency", "ce+dice", "focal_tversky"]
    settings = TrainingSettings(
        batch_size=10_000, epochs=epochs, target="segmentation", metric="mean_iou"
    )
    target = SegmentationTarget(3, rarest_class(masks, ["0", "1", "2"])[0], rare=2)
    fitted = _fold.fit_fold(
        builder,
        [SEGMENTATION_STRATEGIES[s] for s in names],
        x,
        masks,
        np.arange(len(masks)),
        settings,
        seed,
        3,
        target=target,
    )
    assert fitted.fits == 1
    weights = losses.WeightedSparseCategoricalCrossentropy
    median = list(ki.class_weights(masks, "median_frequency", normalize="mean").values())
    lone = {
        "none": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "weighted_ce_median_frequency": weights(median, from_logits=True),
        "ce+dice": losses.CombinedLoss(
            [
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                losses.DiceLoss(from_logits=True),
            ]
        ),
        "focal_tversky": losses.FocalTverskyLoss(from_logits=True),
    }

    def alone(name):
        keras.utils.set_random_seed(seed)
        return fit_alone(builder(x.shape[1:], 3), lone[name], dict(x=x, y=masks), epochs)

    assert_copies_match(fitted, epochs, alone, rtol=1e-4)


def test_bad_models_and_masks_get_one_line():
    x, masks = squares(n=12)

    def per_image(input_shape, n_classes):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(n_classes)(keras.layers.Flatten()(inputs)))

    with pytest.raises(
        ValueError, match=r"`model_fn`.*per-pixel logits of shape \(None, 12, 12, 3\)"
    ) as err:
        compare(x, masks, **{**FAST, "model_fn": per_image})
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="`model_fn`.*no default segmentation model"):
        compare(x, masks, **{**FAST, "model_fn": None})
    with pytest.raises(ValueError, match=r"`y`.*shape \(12, 12, 12\)"):
        compare(x, masks[:, :6], **FAST)
    with pytest.raises(ValueError, match="`costs`"):
        compare(x, masks, costs={0: 1, 1: 5}, **FAST)
    with pytest.raises(ValueError, match="`metric`"):
        compare(x, masks, metric="balanced_accuracy", **FAST)


def test_ignore_class_leaves_void_pixels_out_of_classes_loss_strata_and_scores():
    """Void pixels (255, a 1-pixel border) are no class: the classes and counts are the real
    ones, every score counts only the labelled test pixels, the strata never pick the void,
    and the packed loss does not change whatever the logits at void pixels are."""
    from keras_imbalance.comparison._packed_losses import PackedSegmentationLoss

    x, masks = squares()
    void = np.zeros(masks.shape, bool)
    void[:, 0, :] = void[:, :, 0] = True
    masks = np.where(void, 255, masks)
    result = compare(
        x, masks, strategies=["none", "weighted_ce_balanced"], ignore_class=255, **FAST
    )
    assert result.classes == ["0", "1", "2"] and result.config["ignore_class"] == 255
    assert result.class_counts == np.bincount(masks[~void], minlength=3).tolist()
    for row in result.rows:
        labelled = int((~void[: row["n_test"]]).sum())  # every image has the same border
        assert np.asarray(row["confusion"]).sum() == labelled
    # without ignore_class, 255 would be a fourth class
    assert compare(x, masks, strategies=["none"], **{**FAST, "epochs": 1}).classes[-1] == "255"

    codes, names = masks_of(masks, x.shape, ignore_class=255)
    assert names == ["0", "1", "2"] and (codes[void] == 3).all() and (codes[~void] < 3).all()
    strata, strata_names, rare = rarest_class(codes, names)
    assert rare == 2 and strata_names == ["class 1", "class 2"]  # real classes only

    rng = np.random.default_rng(0)
    y_true = np.stack([codes[:4, None], np.ones((4, 1, 12, 12))], axis=-1).astype(np.float32)
    loss = PackedSegmentationLoss([1.0], [[1.0, 2.0, 3.0]], ["dice"])
    logits = rng.normal(size=(4, 1, 12, 12, 3)).astype(np.float32)
    other = np.where(void[:4, None, ..., None], rng.normal(size=logits.shape) * 5, logits)
    np.testing.assert_allclose(
        np.asarray(loss(y_true, logits)),
        np.asarray(loss(y_true, other.astype(np.float32))),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="`ignore_class`.*segmentation masks only"):
        compare(x[:, 0, 0], masks[:, 0, 0], ignore_class=255)
    with pytest.raises(ValueError, match="`ignore_class`.*occurs in the masks"):
        compare(x, masks, ignore_class=7, **FAST)


BUILT = []


def counted_unet(input_shape, n_classes):
    BUILT.append(input_shape)
    return tiny_unet(input_shape, n_classes)


def test_the_baseline_is_none_and_a_results_file_naming_ce_resumes(tmp_path):
    """The baseline is ``none`` as in every kind; ``ce`` (0.1) is a deprecated alias. Results
    files keep ``ce`` and its fingerprint: a file of 0.1 resumes without training again."""
    import hashlib
    import json

    from keras_imbalance.comparison import load_results

    x, masks = squares(n=12)
    path = tmp_path / "seg.jsonl"
    fast = {**FAST, "model_fn": counted_unet, "epochs": 1}
    first = compare(x, masks, strategies=["dice"], results_path=path, **fast)
    assert first.recommendation["baseline_strategy"] == "none"
    assert set(first.leaderboard["strategy"]) == {"none", "dice"}
    header, *rows = [json.loads(line) for line in path.read_text().splitlines()]
    # the file is in 0.1's words: the baseline is ce there, and the fingerprint is the sha256
    # of that config (sorted keys, compact), as 0.1 computed it
    assert header["config"]["strategies"] == ["ce", "dice"]
    assert header["config"]["baseline"] == "ce"
    assert {r["strategy"] for r in rows} == {"ce", "dice"}
    assert all(r["key"].split("|")[1] == r["strategy"] for r in rows)
    text = json.dumps(header["config"], sort_keys=True, separators=(",", ":"))
    assert header["fingerprint"] == hashlib.sha256(text.encode()).hexdigest()

    BUILT.clear()
    again = compare(x, masks, strategies=["dice"], results_path=path, **fast)
    assert BUILT == []  # every fold came from the file
    assert again.leaderboard.equals(first.leaderboard)
    with pytest.warns(DeprecationWarning, match="'ce' is deprecated.*use 'none'"):
        old = compare(x, masks, strategies=["ce", "dice"], results_path=path, **fast)
    assert BUILT == [] and old.leaderboard.equals(first.leaderboard)
    loaded = load_results(path)
    assert set(loaded.leaderboard["strategy"]) == {"none", "dice"}
    assert loaded.recommendation["baseline_strategy"] == "none"
    assert path.read_text().count("\n") == 1 + len(rows)  # nothing appended


def test_a_loss_strategy_builds_its_loss_from_the_public_losses_configs():
    """Each segmentation strategy names public losses; its packed spec is their family
    parameters: Dice is the overlap family at alpha = beta = 1/2 with half the smoothing."""
    from keras_imbalance.comparison.kinds.segmentation import SegmentationLossSpec

    masks = np.array([[[0, 0], [0, 1]], [[0, 0], [2, 2]]])
    registry = SEGMENTATION_STRATEGIES
    both = registry["ce+dice"].public_loss(masks, 3)
    assert isinstance(both, losses.CombinedLoss)
    assert [type(t).__name__ for t in both.losses] == [
        "WeightedSparseCategoricalCrossentropy",
        "DiceLoss",
    ]
    dice = (("alpha", 0.5), ("beta", 0.5), ("gamma", 1.0), ("smooth", 5e-6), ("squared", False))
    assert registry["ce+dice"].loss_spec(masks, 3) == SegmentationLossSpec(1.0, None, dice)
    assert registry["dice"].loss_spec(masks, 3) == SegmentationLossSpec(0.0, None, dice)
    tversky = registry["focal_tversky"].loss_spec(masks, 3)
    assert dict(tversky.overlap)["gamma"] == pytest.approx(4 / 3) and tversky.ce == 0.0
    weighted = registry["weighted_ce_balanced"].public_loss(masks, 3)
    # 5, 1, 2 pixels: balanced weights n / (k count), whose mean over the pixels is already 1
    np.testing.assert_allclose(weighted.class_weight, [8 / 15, 8 / 3, 4 / 3], rtol=1e-6)
