"""Training from a memory map (``np.load(path, mmap_mode="r")``): the same weights as from
the array in memory, bit for bit, and a peak memory that does not grow with the file."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import lucidnet as ln
from lucidnet.batches import Batches
from lucidnet.sklearn import MLPClassifier, MLPRegressor
from lucidnet.streaming import max_abs, on_disk, take_rows


def _mapped(tmp_path, x, name="x"):
    path = tmp_path / f"{name}.npy"
    np.save(path, x)
    return np.load(path, mmap_mode="r")


def _data(n, features=6, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    if np.dtype(dtype).kind == "u":
        x = np.clip(x * 40 + 128, 0, 255)
    return x.astype(dtype), y


def test_on_disk_sees_memory_maps_and_their_views(tmp_path):
    x = _mapped(tmp_path, np.ones((4, 3)))
    assert on_disk(x) and on_disk(np.asarray(x)) and on_disk(x[1:3]) and on_disk(x.T)
    assert not on_disk(np.ones((4, 3))) and not on_disk(np.asarray(x) + 1)
    assert not on_disk(np.take(x, [0, 1], axis=0))  # gathered rows are in memory
    assert not on_disk([[1.0]])


def test_take_rows_casts_as_astype():
    x = np.arange(12, dtype=np.uint8).reshape(4, 3)
    out = np.empty((2, 3), np.float32)
    got = take_rows(x, np.array([3, 1]), out)
    assert got is out and np.array_equal(out, x[[3, 1]].astype(np.float32))
    same = np.empty((2, 3), np.uint8)
    assert np.array_equal(take_rows(x, np.array([0, 2]), same), x[[0, 2]])


def test_max_abs_in_blocks_equals_whole():
    x = np.random.default_rng(1).normal(size=(3000, 200))  # 600k values: several blocks
    x[2999, 5] = -1e6
    assert max_abs(x) == float(np.abs(x).max()) == 1e6
    assert max_abs(x[:, 0]) == float(np.abs(x[:, 0]).max())


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_batches_cast_each_batch_to_dtype(shuffle, weighted):
    x = np.arange(30, dtype=np.uint8).reshape(10, 3)
    y = np.arange(10)
    w = np.linspace(0.5, 1.5, 10) if weighted else None
    plain = Batches(x.astype(np.float32), y, 4, shuffle, np.random.default_rng(3), w)
    cast = Batches(x, y, 4, shuffle, np.random.default_rng(3), w, dtype=np.float32)
    for a, b in zip(plain, cast, strict=True):
        assert b[0].dtype == np.float32
        for u, v in zip(a, b, strict=True):
            assert np.array_equal(u, v)


def _model(dtype, features=6):
    return ln.Sequential(
        [
            ln.Dense(features, 16, seed=0, dtype=dtype),
            ln.ReLU(),
            ln.Dropout(0.2, seed=2),
            ln.Dense(16, 2, seed=1, dtype=dtype),
            ln.Softmax(),
        ]
    ).compile("sparse_categorical_crossentropy", "adam", metrics=["accuracy"])


@pytest.mark.parametrize(
    ("data_dtype", "model_dtype"),
    [("float32", "float32"), ("float64", "float32"), ("uint8", "float32"), ("float32", "float64")],
)
@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_on_a_memory_map_gives_the_in_memory_weights(
    tmp_path, data_dtype, model_dtype, shuffle
):
    # Casting a row when it is gathered and casting the whole array first give the same
    # numbers, and the batches hold the same rows: so the same weights, bit for bit.
    x, y = _data(300, dtype=data_dtype)
    w = np.random.default_rng(4).uniform(0.5, 2.0, len(x))
    xm = _mapped(tmp_path, x)
    runs = []
    for data in (x, xm):
        model = _model(model_dtype)
        history = model.fit(
            data, y, epochs=3, batch_size=32, validation_split=0.2, shuffle=shuffle,
            sample_weight=w, verbose=0, seed=7,
        )  # fmt: skip
        runs.append((model.get_weights(), history.history))
    (w_mem, h_mem), (w_map, h_map) = runs
    assert all(np.array_equal(a, b) for a, b in zip(w_mem, w_map, strict=True))
    assert h_mem == h_map
    model = _model(model_dtype)
    model.set_weights(w_mem)
    assert model.evaluate(x, y) == model.evaluate(xm, y)


def test_fit_on_a_memory_map_names_a_non_finite_value(tmp_path):
    x, y = _data(50, dtype=np.float32)
    x[41, 3] = np.nan
    with pytest.raises(ValueError, match="row 41, column 3"):
        _model("float32").fit(_mapped(tmp_path, x), y, verbose=0)


@pytest.mark.parametrize("row", [10, 110], ids=["training-row", "validation-row"])
@pytest.mark.parametrize("mapped", [False, True], ids=["in-memory", "memory-map"])
def test_fit_names_a_value_beyond_float32(tmp_path, row, mapped):
    # float64 data for a float32 model: 1e39 is finite in the file and inf once cast.
    # Refused before any step, naming row and column, in memory and from a memory map
    # alike (a memory map used to train into a misleading TrainingDiverged, and a
    # validation row into a val_loss computed from inf)
    x, y = _data(120)
    x[row, 2] = -1e39
    data = _mapped(tmp_path, x) if mapped else x
    message = rf"fit: x has -1e\+39 at row {row}, column 2, beyond the range of float32"
    with pytest.raises(ValueError, match=message):
        _model("float32").fit(data, y, epochs=1, validation_split=0.2, verbose=0)
    x[row, 2] = 0.5
    y_float = y.astype(np.float64)
    y_float[row] = 1e40
    with pytest.raises(ValueError, match=rf"fit: y has 1e\+40 at index {row},"):
        _model("float32").fit(data if not mapped else x, y_float, epochs=1, verbose=0)


ESTIMATORS = [
    pytest.param(MLPClassifier, {"solver": "adam"}, id="adam"),
    pytest.param(MLPClassifier, {"solver": "adam", "early_stopping": True}, id="early"),
    pytest.param(MLPClassifier, {"solver": "sgd", "shuffle": False}, id="sgd-in-order"),
    pytest.param(MLPClassifier, {"solver": "lbfgs"}, id="lbfgs"),
    pytest.param(MLPRegressor, {"solver": "adam", "early_stopping": True}, id="regressor"),
]


@pytest.mark.parametrize(("cls", "params"), ESTIMATORS)
@pytest.mark.parametrize("data_dtype", ["float64", "float32"])
def test_estimators_on_a_memory_map_give_the_in_memory_weights(tmp_path, cls, params, data_dtype):
    x, y = _data(400, dtype=data_dtype)
    target = y if cls is MLPClassifier else x[:, 0] - 2 * x[:, 1]
    xm = _mapped(tmp_path, x)
    fitted = []
    for data in (x, xm):
        est = cls(hidden_layer_sizes=(12,), max_iter=8, random_state=0, dtype="float32", **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(data, target)
            if params["solver"] != "lbfgs" and not params.get("early_stopping"):
                est.partial_fit(data, target)
        fitted.append(est)
    mem, mapped = fitted
    for a, b in zip(mem.coefs_ + mem.intercepts_, mapped.coefs_ + mapped.intercepts_, strict=True):
        assert np.array_equal(a, b)
    assert mem.loss_curve_ == mapped.loss_curve_
    assert mem.validation_scores_ == mapped.validation_scores_
    assert np.array_equal(mem.predict(x), mapped.predict(xm))


def _peak(fn):
    """Peak of the memory NumPy and Python allocate while ``fn`` runs (tracemalloc sees
    NumPy's buffers; a memory map's pages are the file's, not allocations)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_file(tmp_path):
    # 4x the rows on disk: the peak stays that of the batches, the network and the
    # labels' few bytes a row, far below one copy of the data (a whole cast to float32
    # alone would be 2 MB at 1x and 8 MB at 4x).
    peaks = {}
    for times in (1, 4):
        x, y = _data(2500 * times, features=200, dtype=np.float64, seed=times)
        xm = _mapped(tmp_path, x, f"x{times}")
        del x

        def train(xm=xm, y=y):
            model = _model("float32", features=200)
            model.fit(xm, y, epochs=1, batch_size=64, validation_split=0.1, verbose=0, seed=0)

        def estimator(xm=xm, y=y):
            MLPClassifier((16,), max_iter=1, random_state=0, dtype="float32").fit(xm, y)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            peaks[times] = (_peak(train), _peak(estimator), xm.nbytes)
    (fit1, est1, size1), (fit4, est4, size4) = peaks[1], peaks[4]
    grown = size4 - size1  # 12 MB more on disk
    assert fit4 - fit1 < 0.02 * grown, peaks
    assert est4 - est1 < 0.02 * grown, peaks
    assert max(fit4, est4) < 0.3 * size4, peaks
