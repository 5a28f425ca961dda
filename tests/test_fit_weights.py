"""Real model.fit runs (learning rate 0, one batch): the reported loss equals a hand-computed
weighted loss, sum(w * loss_element) / n_elements (Keras' 'sum_over_batch_size')."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.backend

from keras_imbalance import fit_kwargs, sample_weights, weighted  # noqa: E402

EPS = 1e-7


def _fit_loss(model, loss, x, **kwargs):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss)
    history = model.fit(x, epochs=1, verbose=0, shuffle=False, **kwargs)
    return history.history["loss"][0]


def _softmax_model(in_shape, k, flatten_time=False):
    inputs = keras.Input(in_shape)
    outputs = keras.layers.Dense(k, activation="softmax")(inputs)
    return keras.Model(inputs, outputs)


def _ce(p, onehot):
    return -np.sum(onehot * np.log(np.clip(p, EPS, 1 - EPS)), axis=-1)


def test_sparse_labels(rng):
    x = rng.normal(size=(12, 4)).astype("float32")
    y = np.array([0] * 8 + [1] * 3 + [2])
    model = _softmax_model((4,), 3)
    kw = fit_kwargs(y, "balanced")
    w = 12 / (3 * np.array([8, 3, 1]))
    expected = np.mean(w[y] * _ce(model.predict(x, verbose=0), np.eye(3)[y]))
    got = _fit_loss(model, "sparse_categorical_crossentropy", x, batch_size=12, **kw)
    assert got == pytest.approx(expected, rel=1e-4)


def test_string_labels_are_encoded(rng):
    x = rng.normal(size=(6, 3)).astype("float32")
    y = np.array(["no", "no", "no", "no", "yes", "maybe"])
    model = _softmax_model((3,), 3)
    kw = fit_kwargs(y, {"no": 1.0, "yes": 5.0, "maybe": 2.0})
    ids = np.array([1, 1, 1, 1, 2, 0])  # sorted: maybe, no, yes
    np.testing.assert_array_equal(kw["y"], ids)
    w = np.array([2.0, 1.0, 5.0])[ids]
    expected = np.mean(w * _ce(model.predict(x, verbose=0), np.eye(3)[ids]))
    assert _fit_loss(
        model, "sparse_categorical_crossentropy", x, batch_size=6, **kw
    ) == pytest.approx(expected, rel=1e-4)


def test_onehot_labels(rng):
    x = rng.normal(size=(10, 4)).astype("float32")
    y = np.eye(3)[[0, 0, 0, 0, 0, 0, 1, 1, 2, 2]]
    model = _softmax_model((4,), 3)
    kw = fit_kwargs(y, "reference")
    w = np.array([1.0, 3.0, 3.0])[y.argmax(1)]
    expected = np.mean(w * _ce(model.predict(x, verbose=0), y))
    assert _fit_loss(model, "categorical_crossentropy", x, batch_size=10, **kw) == pytest.approx(
        expected, rel=1e-4
    )


def test_binary_labels_with_user_sample_weight(rng):
    x = rng.normal(size=(8, 3)).astype("float32")
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1], dtype="float32").reshape(-1, 1)
    user = np.linspace(0.5, 2, 8)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    kw = fit_kwargs(y, "balanced", sample_weight=user)
    p = np.clip(model.predict(x, verbose=0)[:, 0], EPS, 1 - EPS)
    bce = -(y[:, 0] * np.log(p) + (1 - y[:, 0]) * np.log(1 - p))
    w = np.where(y[:, 0] == 1, 8 / 4, 8 / 12) * user
    assert _fit_loss(model, "binary_crossentropy", x, batch_size=8, **kw) == pytest.approx(
        np.mean(w * bce), rel=1e-4
    )


def _elementwise_bce(y_true, y_pred):
    ops = keras.ops
    y_pred = ops.clip(y_pred, EPS, 1 - EPS)
    return -(y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred))


def test_multilabel_per_label_weights(rng):
    x = rng.normal(size=(8, 3)).astype("float32")
    y = np.array(
        [[1, 0, 0], [0, 0, 0], [1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 0]],
        "float32",
    )
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="sigmoid")])
    kw = fit_kwargs(y, {0: 2.0, 1: 7.0, 2: 7.0})
    assert kw["sample_weight"].shape == (8, 3)
    p = np.clip(model.predict(x, verbose=0), EPS, 1 - EPS)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    w = np.where(y == 1, np.array([2.0, 7.0, 7.0]), 1.0)
    expected = np.sum(w * bce) / y.size
    assert _fit_loss(model, _elementwise_bce, x, batch_size=8, **kw) == pytest.approx(
        expected, rel=1e-4
    )


def test_sequence_onehot_with_padding_mask(rng):
    n, t, k = 4, 5, 3
    x = rng.normal(size=(n, t, 2)).astype("float32")
    labels = rng.integers(0, k, size=(n, t))
    mask = np.arange(t)[None, :] < np.array([5, 3, 4, 2])[:, None]
    y = np.eye(k)[labels] * mask[..., None]  # padded steps are all-zero rows
    model = _softmax_model((t, 2), k)
    kw = fit_kwargs(y, "balanced", layout="sequence", mask=mask)
    counts = np.bincount(labels[mask], minlength=k)
    w = np.where(mask, (mask.sum() / (k * counts))[labels], 0.0)
    expected = np.sum(w * _ce(model.predict(x, verbose=0), y)) / (n * t)
    assert _fit_loss(model, "categorical_crossentropy", x, batch_size=n, **kw) == pytest.approx(
        expected, rel=1e-4
    )


def test_segmentation_onehot(rng):
    n, h, wd, k = 2, 4, 4, 2
    x = rng.normal(size=(n, h, wd, 1)).astype("float32")
    labels = (rng.random((n, h, wd)) < 0.2).astype(int)
    y = np.eye(k)[labels]
    model = _softmax_model((h, wd, 1), k)
    kw = fit_kwargs(y, "balanced")
    assert kw["sample_weight"].shape == (n, h, wd)
    counts = np.bincount(labels.ravel(), minlength=k)
    w = (labels.size / (k * counts))[labels]
    expected = np.mean(w * _ce(model.predict(x, verbose=0), y))
    assert _fit_loss(model, "categorical_crossentropy", x, batch_size=n, **kw) == pytest.approx(
        expected, rel=1e-4
    )


def test_two_outputs_and_weighted_validation(rng):
    x = rng.normal(size=(10, 3)).astype("float32")
    inputs = keras.Input((3,))
    a = keras.layers.Dense(2, activation="softmax", name="a")(inputs)
    b = keras.layers.Dense(3, activation="softmax", name="b")(inputs)
    model = keras.Model(inputs, {"a": a, "b": b})
    ya = np.array([0] * 8 + [1] * 2)
    yb = np.array([0, 1, 2] * 3 + [2])
    kw = fit_kwargs(
        {"a": ya, "b": yb},
        {"a": "balanced", "b": None},
        validation_data=(x[:4], {"a": ya[:4], "b": yb[:4]}),
    )
    pa, pb = (model.predict(x, verbose=0)[name] for name in ("a", "b"))
    wa = (10 / (2 * np.array([8, 2])))[ya]
    expected = np.mean(wa * _ce(pa, np.eye(2)[ya])) + np.mean(_ce(pb, np.eye(3)[yb]))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.0),
        loss={"a": "sparse_categorical_crossentropy", "b": "sparse_categorical_crossentropy"},
    )
    hist = model.fit(x, epochs=1, verbose=0, batch_size=10, **kw).history
    assert hist["loss"][0] == pytest.approx(expected, rel=1e-4)
    wa_val = (10 / (2 * np.array([8, 2])))[ya[:4]]  # training weights applied to validation
    expected_val = np.mean(wa_val * _ce(pa[:4], np.eye(2)[ya[:4]])) + np.mean(
        _ce(pb[:4], np.eye(3)[yb[:4]])
    )
    assert hist["val_loss"][0] == pytest.approx(expected_val, rel=1e-4)


def test_python_generator(rng):
    x = rng.normal(size=(6, 3)).astype("float32")
    y = np.array([0, 0, 0, 0, 1, 2])
    model = _softmax_model((3,), 3)
    cw = {0: 1.0, 1: 4.0, 2: 4.0}
    expected = np.mean(
        np.array([1, 1, 1, 1, 4, 4]) * _ce(model.predict(x, verbose=0), np.eye(3)[y])
    )

    def batches():
        while True:
            yield x, y

    got = _fit_loss(
        model, "sparse_categorical_crossentropy", weighted(batches(), cw), steps_per_epoch=1
    )
    assert got == pytest.approx(expected, rel=1e-4)


def test_torch_dataloader_and_pydataset(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(6, 3)).astype("float32")
    y = np.array([0, 0, 0, 0, 1, 1])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=6
    )
    model = _softmax_model((3,), 2)
    w = (6 / (2 * np.array([4, 2])))[y]
    expected = np.mean(w * _ce(model.predict(x, verbose=0), np.eye(2)[y]))
    assert _fit_loss(
        model, "sparse_categorical_crossentropy", weighted(loader, "balanced")
    ) == pytest.approx(expected, rel=1e-4)

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return x, y

    assert _fit_loss(
        model, "sparse_categorical_crossentropy", weighted(Batches(), "balanced")
    ) == pytest.approx(expected, rel=1e-4)


def test_one_shot_generator_with_strategy_is_refused():
    with pytest.raises(ValueError, match="one-shot generator"):
        weighted((b for b in [(None, [0, 1])]), "balanced")


def test_sample_weights_match_keras_class_weight_where_keras_is_right(rng):
    # single output, one label per sample: Keras' own class_weight is the reference
    x = rng.normal(size=(9, 3)).astype("float32")
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])
    cw = {0: 0.5, 1: 1.5, 2: 4.0}
    model = _softmax_model((3,), 3)
    ours = _fit_loss(
        model,
        "sparse_categorical_crossentropy",
        x,
        y=y,
        batch_size=9,
        sample_weight=sample_weights(y, cw),
    )
    theirs = _fit_loss(
        model, "sparse_categorical_crossentropy", x, y=y, batch_size=9, class_weight=cw
    )
    assert ours == pytest.approx(theirs, rel=1e-5)


def test_tf_data_dataset(rng):
    tf = pytest.importorskip("tensorflow")
    x = rng.normal(size=(6, 3)).astype("float32")
    y = np.array([0, 0, 0, 0, 1, 1])
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(6)
    model = _softmax_model((3,), 2)
    w = (6 / (2 * np.array([4, 2])))[y]
    expected = np.mean(w * _ce(model.predict(x, verbose=0), np.eye(2)[y]))
    assert _fit_loss(
        model, "sparse_categorical_crossentropy", weighted(ds, "balanced")
    ) == pytest.approx(expected, rel=1e-4)


def test_multilabel_with_weighted_binary_crossentropy_loss(rng):
    from keras_imbalance.losses import WeightedBinaryCrossentropy

    x = rng.normal(size=(6, 3)).astype("float32")
    y = np.array([[1, 0], [0, 0], [0, 1], [0, 0], [0, 0], [1, 0]], "float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="sigmoid")])
    kw = fit_kwargs(y, "balanced")
    p = np.clip(model.predict(x, verbose=0), EPS, 1 - EPS)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    pos, neg = y.sum(0), 6 - y.sum(0)
    w = np.where(y == 1, 6 / (2 * pos), 6 / (2 * neg))
    got = _fit_loss(model, WeightedBinaryCrossentropy(), x, batch_size=6, **kw)
    assert got == pytest.approx(np.sum(w * bce) / y.size, rel=1e-4)


def test_per_output_settings_must_name_outputs_only():
    y = {"a": np.array([0, 1, 1]), "b": np.array([1, 0, 0])}
    kw = fit_kwargs(y, {0: 2.0, 1: 1.0})  # a class-weight dict applies to every output
    np.testing.assert_allclose(kw["sample_weight"]["a"], [2, 1, 1])
    np.testing.assert_allclose(kw["sample_weight"]["b"], [1, 2, 2])
    with pytest.raises(ValueError, match="output names"):
        fit_kwargs(y, {"a": "balanced", "c": "balanced"})
