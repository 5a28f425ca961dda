"""Segmentation: Dice / Tversky / focal Tversky losses, CombinedLoss, median-frequency weights,
per-class IoU and mean Dice. Hand-computed values, identities, MONAI, masks, save/load."""

import json
import textwrap

import keras
import numpy as np
import pytest
from sklearn.metrics import f1_score, jaccard_score

import keras_imbalance as ki
import keras_imbalance.losses as L
from fresh_process import run_fresh
from keras_imbalance import metrics
from test_losses import _grad


def value(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# One 2x2 image, class 1 on the top row; predicted P(class 1) = [[0.9, 0.6], [0.2, 0.1]].
MASK = np.array([[[1, 1], [0, 0]]])
P1 = np.array([[[0.9, 0.6], [0.2, 0.1]]], dtype="float32")
PROBA = np.stack([1 - P1, P1], axis=-1)  # (1, 2, 2, 2)
# class 1: TP = 1.5, sum p = 1.8, sum p^2 = 1.22, sum g = 2, FP = 0.3, FN = 0.5
# class 0: TP = 1.7, sum p = 2.2, sum p^2 = 1.62, sum g = 2, FP = 0.5, FN = 0.3
DICE = 1 - (2 * 1.7 / 4.2 + 2 * 1.5 / 3.8) / 2  # Sørensen-Dice, linear denominators
DICE_MILLETARI = 1 - (2 * 1.7 / 3.62 + 2 * 1.5 / 3.22) / 2  # sum p^2 + sum g^2
T0, T1 = 1.7 / (1.7 + 0.3 * 0.5 + 0.7 * 0.3), 1.5 / (1.5 + 0.3 * 0.3 + 0.7 * 0.5)
TVERSKY = 1 - (T0 + T1) / 2  # alpha = 0.3 on FP, beta = 0.7 on FN (Salehi)
FOCAL_TVERSKY = ((1 - T0) ** 0.75 + (1 - T1) ** 0.75) / 2  # gamma = 4/3 (Abraham)


def masks_and_logits(n=3, h=5, w=6, k=3, seed=0):
    """Masks whose classes are 70 / 25 / 5 % of the pixels (any further class: 0 %)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=(n, h, w), p=[0.7, 0.25, 0.05])
    logits = rng.normal(scale=2.0, size=(n, h, w, k)).astype("float32")
    return labels, logits


# ------------------------------------------------------------------------ hand-computed values
@pytest.mark.backend
def test_hand_computed_dice_tversky_focal_tversky():
    kw = {"smooth": 0.0}
    np.testing.assert_allclose(value(L.dice_loss(MASK, PROBA, **kw)), [DICE], rtol=1e-6)
    np.testing.assert_allclose(
        value(L.dice_loss(MASK, PROBA, squared=True, **kw)), [DICE_MILLETARI], rtol=1e-5
    )
    np.testing.assert_allclose(value(L.tversky_loss(MASK, PROBA, **kw)), [TVERSKY], rtol=1e-6)
    np.testing.assert_allclose(
        value(L.focal_tversky_loss(MASK, PROBA, **kw)), [FOCAL_TVERSKY], rtol=1e-6
    )
    # the classes give the same numbers
    for loss, expected in [
        (L.DiceLoss(**kw), DICE),
        (L.DiceLoss(squared=True, **kw), DICE_MILLETARI),
        (L.TverskyLoss(**kw), TVERSKY),
        (L.FocalTverskyLoss(**kw), FOCAL_TVERSKY),
    ]:
        np.testing.assert_allclose(float(loss(MASK, PROBA)), expected, rtol=1e-5)
    # binary segmentation: one sigmoid channel, the loss is the foreground's
    np.testing.assert_allclose(
        float(L.DiceLoss(**kw)(MASK, P1[..., None])), 1 - 2 * 1.5 / 3.8, rtol=1e-6
    )
    logit = np.log(P1 / (1 - P1))[..., None]
    np.testing.assert_allclose(
        float(L.DiceLoss(from_logits=True, **kw)(MASK[..., None], logit)),
        1 - 2 * 1.5 / 3.8,
        rtol=1e-5,
    )
    # smooth: a class absent from mask and prediction scores D = 1 (loss 0)
    empty = np.zeros((1, 2, 2), "int32")
    np.testing.assert_allclose(float(L.DiceLoss()(empty, np.eye(2, dtype="float32")[empty])), 0.0)


@pytest.mark.backend
@pytest.mark.parametrize("per_image", [False, True])
def test_identities_tversky_half_is_dice_and_focal_gamma_one_is_tversky(per_image):
    labels, logits = masks_and_logits()
    kw = {"from_logits": True, "per_image": per_image, "class_weight": [0.5, 1.0, 3.0]}
    dice = value(L.dice_loss(labels, logits, **kw))
    np.testing.assert_allclose(
        value(L.tversky_loss(labels, logits, alpha=0.5, beta=0.5, **kw)), dice, rtol=1e-5
    )
    tversky = value(L.tversky_loss(labels, logits, alpha=0.2, beta=0.8, **kw))
    np.testing.assert_allclose(
        value(L.focal_tversky_loss(labels, logits, alpha=0.2, beta=0.8, gamma=1.0, **kw)),
        tversky,
        rtol=1e-5,
    )
    # alpha = beta = 1 is the soft Jaccard loss: TP / (sum p + sum g - TP)
    p, g = softmax(logits.astype(np.float64)), np.eye(3)[labels]
    axes = (1, 2) if per_image else (0, 1, 2)
    tp, sp, sg = ((p * g).sum(axes), p.sum(axes), g.sum(axes))
    jaccard = ((1 - (tp + 1e-5) / (sp + sg - tp + 1e-5)) * [0.5, 1.0, 3.0]).mean(-1)
    np.testing.assert_allclose(
        value(L.tversky_loss(labels, logits, alpha=1.0, beta=1.0, **kw)),
        np.broadcast_to(jaccard, (3,)),
        rtol=1e-5,
    )


@pytest.mark.backend
def test_per_batch_is_one_image_made_of_all_images_and_per_image_is_their_mean():
    labels, logits = masks_and_logits(n=4)
    tall_labels = labels.reshape(1, -1, labels.shape[2])  # images stacked along H
    tall_logits = logits.reshape(1, -1, *logits.shape[2:])
    for fn in (L.dice_loss, L.tversky_loss, L.focal_tversky_loss):
        batch = value(fn(labels, logits, from_logits=True))
        np.testing.assert_allclose(batch, np.full(4, batch[0]))  # the batch value, repeated
        np.testing.assert_allclose(
            batch[0], value(fn(tall_labels, tall_logits, from_logits=True))[0], rtol=1e-5
        )
        per_image = value(fn(labels, logits, from_logits=True, per_image=True))
        singles = [
            value(fn(labels[i : i + 1], logits[i : i + 1], from_logits=True))[0] for i in range(4)
        ]
        np.testing.assert_allclose(per_image, singles, rtol=1e-5)


@pytest.mark.backend
def test_mask_layouts_logits_and_class_weights_agree():
    labels, logits = masks_and_logits()
    onehot = np.eye(3, dtype="float32")[labels]
    proba = softmax(logits).astype("float32")
    ref = value(L.dice_loss(labels, logits, from_logits=True, per_image=True))
    for y, pred, logit in [
        (onehot, logits, True),
        (labels[..., None], logits, True),
        (labels.astype("float32"), logits, True),
        (labels, proba, False),
    ]:
        np.testing.assert_allclose(
            value(L.dice_loss(y, pred, from_logits=logit, per_image=True)), ref, rtol=1e-5
        )
    # per-class weights: w_c multiplies class c's term of the class mean
    per_class = np.stack(
        [
            value(L.dice_loss(labels, logits, from_logits=True, class_weight=np.eye(3)[c] * 3))
            for c in range(3)
        ]
    )
    weighted = value(L.dice_loss(labels, logits, from_logits=True, class_weight={0: 1, 1: 2, 2: 5}))
    np.testing.assert_allclose(weighted, (per_class.T @ [1, 2, 5]) / 3, rtol=1e-5)


@pytest.mark.backend
@pytest.mark.parametrize("per_image", [False, True])
def test_ignore_class_outside_the_classes_equals_slicing_the_pixels(per_image):
    labels, logits = masks_and_logits(n=3)
    void = np.random.default_rng(1).random(labels.shape) < 0.3
    voided = np.where(void, 255, labels)
    onehot_void = np.eye(3, dtype="float32")[labels] * ~void[..., None]  # void = all-zero row
    for fn in (L.dice_loss, L.tversky_loss, L.focal_tversky_loss):
        got = value(fn(voided, logits, from_logits=True, ignore_class=255, per_image=per_image))
        got_onehot = value(
            fn(onehot_void, logits, from_logits=True, ignore_class=255, per_image=per_image)
        )
        np.testing.assert_allclose(got_onehot, got, rtol=1e-5)
        if per_image:
            kept = [
                value(fn(labels[i][~void[i]][None], logits[i][~void[i]][None], from_logits=True))[0]
                for i in range(3)
            ]
        else:
            kept = value(fn(labels[~void][None], logits[~void][None], from_logits=True))[0]
        np.testing.assert_allclose(got, np.broadcast_to(kept, (3,)), rtol=1e-5)


@pytest.mark.backend
def test_ignore_class_that_is_a_class_drops_its_pixels_and_its_term():
    labels, logits = masks_and_logits(n=2)
    proba = softmax(logits).astype("float32")  # probabilities: slicing a channel keeps the rest
    keep = labels != 0
    got = value(L.tversky_loss(labels, proba, ignore_class=0, class_weight=[9.0, 1.0, 2.0]))
    sliced = value(
        L.tversky_loss(labels[keep][None] - 1, proba[keep][None][..., 1:], class_weight=[1.0, 2.0])
    )
    np.testing.assert_allclose(got[0], sliced[0], rtol=1e-5)


@pytest.mark.backend
def test_equal_to_monai_dice_and_tversky():
    monai = pytest.importorskip("monai.losses")
    torch = pytest.importorskip("torch")
    labels, logits = masks_and_logits(n=3, seed=3)
    labels[0, 0, :3] = 255
    t_logits = torch.from_numpy(np.moveaxis(logits, -1, 1).copy())  # MONAI is channel-first
    common = {"softmax": True, "to_onehot_y": True, "reduction": "none"}
    for per_image in (False, True):
        for ignore in (None, 255):
            y = labels if ignore else np.where(labels == 255, 1, labels)
            t_y = torch.from_numpy(y[:, None].astype(np.int64))
            settings = [
                ({}, {}),
                (
                    {"squared_pred": True, "weight": [0.5, 1.0, 4.0]},
                    {"squared": True, "class_weight": [0.5, 1.0, 4.0]},
                ),
                ({"alpha": 0.2, "beta": 0.8}, {"alpha": 0.2, "beta": 0.8}),
            ]
            cases = []
            for theirs, mine in settings:
                tversky = "alpha" in theirs
                reference = (monai.TverskyLoss if tversky else monai.DiceLoss)(
                    batch=not per_image, ignore_index=ignore, **common, **theirs
                )
                ours = (L.tversky_loss if tversky else L.dice_loss)(
                    y, logits, from_logits=True, per_image=per_image, ignore_class=ignore, **mine
                )
                cases.append((reference, ours))
            for reference, ours in cases:
                ref = reference(t_logits, t_y).detach().numpy()
                # class mean: MONAI returns (N, K, 1, 1) per image, (K, 1, 1) per batch
                ref = ref.reshape(3, -1).mean(axis=1) if per_image else ref.mean()
                np.testing.assert_allclose(value(ours), np.broadcast_to(ref, (3,)), rtol=1e-5)


@pytest.mark.backend
@pytest.mark.parametrize(
    "loss",
    [
        L.DiceLoss(from_logits=True),
        L.DiceLoss(from_logits=True, squared=True, per_image=True),
        L.TverskyLoss(from_logits=True, class_weight=[1.0, 2.0, 3.0]),
        L.FocalTverskyLoss(from_logits=True),
        L.FocalTverskyLoss(from_logits=True, gamma=3.0, per_image=True),
        L.CombinedLoss(
            [
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                L.DiceLoss(from_logits=True),
            ]
        ),
    ],
    ids=lambda loss: loss.name,
)
def test_gradients_finite_at_extreme_logits(loss):
    x = np.array(
        [[[100.0, -100.0, 0.0], [-100.0, 100.0, 100.0], [100.0, 100.0, -100.0]]], "float32"
    )
    y = np.array([[1, 0, 2]])
    assert np.isfinite(float(loss(y, x)))
    g = _grad(loss, y, x)
    assert np.all(np.isfinite(g)) and np.any(g != 0)
    # a perfect prediction: T = 1, the focal base is floored, the gradient stays finite
    perfect = (np.eye(3, dtype="float32")[y] * 200 - 100).astype("float32")
    assert np.all(np.isfinite(_grad(loss, y, perfect)))


@pytest.mark.backend
def test_sample_weights_are_per_image_and_combined_loss_is_the_weighted_sum():
    labels, logits = masks_and_logits(n=4)
    w = np.array([0.5, 1.0, 2.0, 0.0], "float32")
    dice = L.DiceLoss(from_logits=True, per_image=True)
    per_image = value(L.dice_loss(labels, logits, from_logits=True, per_image=True))
    np.testing.assert_allclose(
        float(dice(labels, logits, sample_weight=w)), np.mean(w * per_image), rtol=1e-5
    )
    with pytest.raises(
        ValueError, match=r"`sample_weight`. Expected one weight per image.*shape \(4, 5, 6\)"
    ):
        dice(labels, logits, sample_weight=np.ones(labels.shape, "float32"))
    # (Keras' own SparseCategoricalCrossentropy cannot broadcast (N,) weights over pixels)
    ce = L.WeightedSparseCategoricalCrossentropy([1.0, 1.0, 1.0], from_logits=True)
    both = L.CombinedLoss([ce, dice], weights=[1.0, 0.25])
    np.testing.assert_allclose(
        float(both(labels, logits, sample_weight=w)),
        float(ce(labels, logits, sample_weight=w))
        + 0.25 * float(dice(labels, logits, sample_weight=w)),
        rtol=1e-5,
    )
    again = L.CombinedLoss.from_config(json.loads(json.dumps(both.get_config())))
    np.testing.assert_allclose(float(again(labels, logits)), float(both(labels, logits)), rtol=1e-6)
    assert [type(x).__name__ for x in again.losses] == [
        "WeightedSparseCategoricalCrossentropy",
        "DiceLoss",
    ]


@pytest.mark.backend
def test_model_trains_with_every_loss_and_metric(rng):
    labels, _ = masks_and_logits(n=8, h=8, w=8)
    x = (labels[..., None] + rng.normal(scale=0.3, size=labels.shape + (1,))).astype("float32")
    for loss in (
        L.DiceLoss(from_logits=True),
        L.FocalTverskyLoss(from_logits=True, per_image=True),
        L.CombinedLoss(
            [
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                L.TverskyLoss(from_logits=True),
            ]
        ),
    ):
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 1)])
        model.compile(
            "adam",
            loss=loss,
            metrics=[
                metrics.PerClassIoU(num_classes=3, class_id=2),
                metrics.MeanDice(num_classes=3),
            ],
        )
        history = model.fit(x, labels, batch_size=4, epochs=2, verbose=0)
        assert all(np.isfinite(v).all() for v in history.history.values())


def test_bad_arguments_raise_one_line_errors():
    cases = [
        (lambda: L.DiceLoss(smooth=-1.0), ValueError, r"`smooth`. Expected a finite number >= 0"),
        (lambda: L.TverskyLoss(alpha="a"), TypeError, r"`alpha`. Expected a finite number"),
        (
            lambda: L.FocalTverskyLoss(gamma=0.0),
            ValueError,
            r"`gamma`. Expected a finite number > 0",
        ),
        (lambda: L.DiceLoss(class_weight={0: 1.0, 2: 1.0}), ValueError, r"`class_weight`"),
        (lambda: L.DiceLoss(per_image="yes"), TypeError, r"`per_image`. Expected a bool"),
        (lambda: L.CombinedLoss([]), TypeError, r"`losses`. Expected a non-empty list"),
        (
            lambda: L.CombinedLoss(["dice"]),
            TypeError,
            r"`losses\[0\]`. Expected a keras.losses.Loss",
        ),
        (
            lambda: L.CombinedLoss([L.DiceLoss()], weights=[1, 2]),
            ValueError,
            r"`weights`. Expected 1 weights",
        ),
        (
            lambda: L.DiceLoss()(np.zeros((2, 3)), np.zeros((2, 3), "float32")),
            ValueError,
            r"`y_pred`. Expected segmentation scores of shape \(N, ..., K\)",
        ),
        (
            lambda: L.DiceLoss()(np.zeros((2, 3, 3)), np.zeros((2, 4, 4, 2), "float32")),
            ValueError,
            r"`y_true`. Expected a sparse mask of shape \(2, 4, 4\)",
        ),
    ]
    for make, exc, match in cases:
        with pytest.raises(exc, match=match):
            make()


# ------------------------------------------------------------------------ median frequency
def test_median_frequency_hand_computed():
    masks = np.zeros((3, 4, 4), dtype=np.int64)
    masks[0, :2] = 1  # class 1: 8 pixels, image 0 only
    masks[1, 0, 0] = 2  # class 2: 1 pixel in image 1, 2 pixels in image 2
    masks[2, 3, 2:] = 2
    # freq_0 = 37 / 48, freq_1 = 8 / 16, freq_2 = 3 / 32; median = 1 / 2
    expected = {0: 0.5 / (37 / 48), 1: 1.0, 2: 0.5 / (3 / 32)}
    got = ki.class_weights(masks, "median_frequency")
    assert got.keys() == expected.keys()
    np.testing.assert_allclose(list(got.values()), list(expected.values()), rtol=1e-12)
    # one-hot masks, a trailing axis of 1, and duplicated images give the same weights
    for same in (np.eye(3)[masks], masks[..., None], np.concatenate([masks, masks])):
        np.testing.assert_allclose(
            list(ki.class_weights(same, "median_frequency").values()), list(expected.values())
        )
    # ignored pixels leave both the counts and the image sizes: void 255 on image 0's class-0 half
    voided = masks.copy()
    voided[0, 2:] = 255
    got = ki.class_weights(voided, "median_frequency", ignore_class=255)
    # class 0 leaves image 0: freq_0 = 29 / 32, freq_1 = 8 / 8, freq_2 = 3 / 32; median 29 / 32
    np.testing.assert_allclose(list(got.values()), [1.0, 29 / 32, (29 / 32) / (3 / 32)])
    # per-pixel weights and normalisation work as for every strategy
    w = ki.sample_weights(masks, "median_frequency", normalize="mean")
    assert w.shape == masks.shape and np.isclose(w.mean(), 1.0)
    # a class absent from y follows `absent`
    got = ki.class_weights(masks, "median_frequency", classes=[0, 1, 2, 3], absent="zero")
    assert got[3] == 0.0


def test_median_frequency_refuses_what_it_cannot_compute():
    with pytest.raises(
        ValueError, match="`class_weight`. Expected 'median_frequency' for per-pixel"
    ):
        ki.class_weights([0, 0, 1], "median_frequency")
    with pytest.raises(
        ValueError, match="`class_weight`. Expected 'median_frequency' for per-pixel"
    ):
        ki.sample_weights([[0, 1], [1, 1]], "median_frequency")  # multi-label
    with pytest.raises(ValueError, match="`y_or_counts`. Expected the label masks"):
        ki.class_weights({0: 10, 1: 2}, "median_frequency")
    with pytest.raises(TypeError, match="`beta`. Expected no option"):
        ki.class_weights(np.eye(3, dtype=int)[None], "median_frequency", layout="dense", beta=0.9)
    with pytest.raises(ValueError, match="`absent`"):
        ki.class_weights(
            np.zeros((2, 3, 3), int), "median_frequency", classes=[0, 1], layout="dense"
        )


# ------------------------------------------------------------------------ IoU / Dice metrics
def test_numpy_iou_and_dice_equal_scikit_learn_and_skip_absent_classes():
    labels, logits = masks_and_logits(n=4, k=4, seed=2)
    labels[labels == 3] = 0  # class 3 is in no mask ...
    logits[..., 3] = -50  # ... and never predicted
    pred = logits.argmax(-1)
    t, p = labels.reshape(-1), pred.reshape(-1)
    iou = metrics.per_class_iou(labels, logits, num_classes=4)
    ref = jaccard_score(t, p, labels=[0, 1, 2], average=None)
    np.testing.assert_allclose(iou[:3], ref)
    assert np.isnan(iou[3])
    assert np.isclose(
        metrics.mean_iou(labels, logits, num_classes=4), jaccard_score(t, p, average="macro")
    )
    assert np.isclose(metrics.mean_iou(labels, logits, num_classes=4), np.nanmean(iou))
    assert np.isclose(
        metrics.mean_dice(labels, pred, num_classes=4), f1_score(t, p, average="macro")
    )
    # one-hot masks, label maps and scores agree; ignore_class drops pixels
    onehot = np.eye(4)[labels]
    assert np.isclose(
        metrics.mean_dice(onehot, logits, num_classes=4), metrics.mean_dice(labels, pred)
    )
    voided = np.where(np.arange(labels.size).reshape(labels.shape) % 3 == 0, 255, labels)
    keep = voided != 255
    assert np.isclose(
        metrics.mean_dice(voided, pred, ignore_class=255),
        f1_score(labels[keep], pred[keep], average="macro"),
    )
    # binary masks and sigmoid scores
    binary, scores = (labels == 1).astype(int), softmax(logits)[..., 1:2]
    ref = jaccard_score(binary.reshape(-1), (scores.reshape(-1) > 0.5).astype(int), average=None)
    np.testing.assert_allclose(metrics.per_class_iou(binary, scores), ref)


@pytest.mark.backend
def test_keras_iou_and_dice_accumulated_over_batches_equal_the_whole_set():
    labels, logits = masks_and_logits(n=6, k=4, seed=5)
    labels[labels == 3] = 0
    logits[..., 3] = -50
    iou, dice = metrics.PerClassIoU(num_classes=4), metrics.MeanDice(num_classes=4)
    rare = metrics.PerClassIoU(num_classes=4, class_id=2)
    voided = np.where(labels == 1, 255, labels)
    void_dice = metrics.MeanDice(num_classes=4, ignore_class=255)
    for lo in range(0, 6, 2):  # three batches
        for m in (iou, dice, rare):
            m.update_state(labels[lo : lo + 2], logits[lo : lo + 2])
        void_dice.update_state(voided[lo : lo + 2], logits[lo : lo + 2])
    whole = metrics.per_class_iou(labels, logits, num_classes=4)
    np.testing.assert_allclose(value(iou.result()), whole, rtol=1e-6)
    np.testing.assert_allclose(float(rare.result()), whole[2], rtol=1e-6)
    np.testing.assert_allclose(
        float(dice.result()), metrics.mean_dice(labels, logits, num_classes=4), rtol=1e-6
    )
    np.testing.assert_allclose(
        float(void_dice.result()),
        metrics.mean_dice(voided, logits, num_classes=4, ignore_class=255),
        rtol=1e-6,
    )
    assert metrics.from_confusion(
        metrics.confusion_matrix(labels.reshape(-1), logits.reshape(-1, 4)), "mean_dice"
    ) == pytest.approx(float(dice.result()))


# ------------------------------------------------------------------------ save / load
CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import keras
    import keras_imbalance.losses, keras_imbalance.metrics  # registers the classes
    d = np.load(sys.argv[1])
    out = {}
    for name in json.loads(sys.argv[2]):
        model = keras.models.load_model(f"{sys.argv[3]}/{name}.keras")
        values = model.evaluate(d["x"], d["y"], verbose=0, return_dict=True)
        out[name] = [type(model.loss).__name__, model.loss.get_config(),
                     {k: float(v) for k, v in values.items()}]
    print("RESULT" + json.dumps(out))
    """
)


def test_every_segmentation_object_round_trips_in_a_fresh_process(tmp_path, rng):
    labels, _ = masks_and_logits(n=6, h=4, w=4)
    x = rng.normal(size=(6, 4, 4, 1)).astype("float32")
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    losses = {
        "dice": L.DiceLoss(
            class_weight=[0.5, 1.0, 2.0], from_logits=True, ignore_class=255, per_image=True
        ),
        "dice_sq": L.DiceLoss(from_logits=True, squared=True, smooth=1.0),
        "tversky": L.TverskyLoss(alpha=0.4, beta=0.6, from_logits=True),
        "ftl": L.FocalTverskyLoss(
            gamma=2.0, class_weight={0: 1.0, 1: 1.0, 2: 3.0}, from_logits=True
        ),
        "combined": L.CombinedLoss([ce, L.DiceLoss(from_logits=True)], weights=[1.0, 0.5]),
    }
    expected = {}
    for name, loss in losses.items():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(3, 1)])
        model.compile(
            "sgd",
            loss=loss,
            metrics=[
                metrics.PerClassIoU(num_classes=3, class_id=2, name="iou_2"),
                metrics.MeanDice(num_classes=3),
            ],
        )
        model.save(tmp_path / f"{name}.keras")
        values = model.evaluate(x, labels, verbose=0, return_dict=True)
        expected[name] = (
            type(loss).__name__,
            loss.get_config(),
            {k: float(v) for k, v in values.items()},
        )
    np.savez(tmp_path / "data.npz", x=x, y=labels)
    got = run_fresh(CHILD, str(tmp_path / "data.npz"), json.dumps(list(losses)), str(tmp_path))
    for name, (cls, config, values) in expected.items():
        assert got[name][0] == cls, name
        assert got[name][1] == json.loads(json.dumps(config)), name
        assert got[name][2].keys() == values.keys(), name
        for key, v in values.items():
            np.testing.assert_allclose(got[name][2][key], v, rtol=1e-6, err_msg=f"{name} {key}")
        assert values["loss"] > 0
