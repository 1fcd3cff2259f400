"""Model files: round trips, resume, atomic writes, and damaged files that only ever give
ModelFileError."""

import hashlib
import io
import json
import os
import pickle

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import serialization
from lucidnet.serialization import ModelFileError


def _every_layer_model():
    return ln.Sequential(
        [
            ln.Dense(3, 6, seed=0, l2=0.01),
            ln.LeakyReLU(0.2),
            ln.Dropout(0.3),
            ln.Dense(6, 5, bias=False, seed=1),
            ln.Tanh(),
            ln.Dense(5, 5, seed=2),
            ln.ReLU(),
            ln.Identity(),
            ln.Sigmoid(),
            ln.Step(),
            ln.Dense(5, 4, seed=3, name="head"),
            ln.Softmax(),
        ]
    )


def test_round_trip_of_every_layer_type_gives_identical_predictions(tmp_path):
    model = _every_layer_model()
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    path = tmp_path / "model.lucid"
    ln.save(model, path)
    loaded = ln.load(path)
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    assert [a.name for a in loaded.layers] == [b.name for b in model.layers]
    assert [a.get_config() for a in loaded.layers] == [b.get_config() for b in model.layers]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for a, b in zip(loaded.get_weights(), model.get_weights(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert loaded.loss is None  # never compiled


def test_float64_model_and_model_method(tmp_path):
    model = ln.Sequential([ln.Dense(2, 3, dtype=np.float64, seed=0), ln.Sigmoid()])
    model.save(str(tmp_path / "m.lucid"))
    loaded = ln.load(tmp_path / "m.lucid")
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.layers[0].weights, model.layers[0].weights)


def test_compile_settings_are_restored(tmp_path):
    model = ln.Sequential([ln.Dense(2, 3, seed=0)])
    model.compile(
        ln.CrossEntropy(from_logits=True),
        ln.Adam(0.005, beta2=0.99, amsgrad=True),
        metrics=["accuracy", "top_k_accuracy"],
    )
    ln.save(model, tmp_path / "m.lucid")
    loaded = ln.load(tmp_path / "m.lucid")
    assert isinstance(loaded.loss, ln.CrossEntropy) and loaded.loss.from_logits
    assert isinstance(loaded.optimizer, ln.Adam)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert [name for name, _ in loaded.metrics] == ["accuracy", "top_k_accuracy"]


def _resume_model():
    return ln.Sequential(
        [
            ln.Dense(2, 32, init="he_normal", seed=0),
            ln.ReLU(),
            ln.Dropout(0.2),
            ln.Dense(32, 3, seed=1),
            ln.Softmax(),
        ]
    ).compile("crossentropy", ln.Adam(0.01), metrics=["accuracy"])


@pytest.mark.parametrize("optimizer", [ln.Adam(0.01), ln.SGD(0.1, momentum=0.9), ln.RMSprop(0.01)])
def test_resume_equals_training_in_one_piece(tmp_path, optimizer):
    x, y = ln.datasets.spirals(150, classes=3, seed=0)
    whole = _resume_model()
    whole.compile("crossentropy", type(optimizer)(**optimizer.get_config()))
    h_whole = whole.fit(x, y, epochs=4, batch_size=16, verbose=0, seed=7)

    first = _resume_model()
    first.compile("crossentropy", type(optimizer)(**optimizer.get_config()))
    h_first = first.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=7)
    ln.save(first, tmp_path / "half.lucid")
    second = ln.load(tmp_path / "half.lucid")
    h_second = second.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0, seed=7)

    for a, b in zip(whole.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert h_whole.history["loss"] == h_first.history["loss"] + h_second.history["loss"]
    assert h_second.epoch == [2, 3]


def test_without_optimizer_state_resume_differs(tmp_path):
    x, y = ln.datasets.spirals(150, classes=3, seed=0)
    whole = _resume_model()
    whole.fit(x, y, epochs=4, batch_size=16, verbose=0, seed=7)
    first = _resume_model()
    first.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=7)
    ln.save(first, tmp_path / "half.lucid", include_optimizer=False)
    second = ln.load(tmp_path / "half.lucid")
    assert second.optimizer.state == {}
    second.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0, seed=7)
    assert not np.array_equal(whole.get_weights()[0], second.get_weights()[0])


# --- atomic writes ----------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.lucid"
    old = ln.Sequential([ln.Dense(2, 2, seed=0)])
    ln.save(old, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        ln.save(ln.Sequential([ln.Dense(2, 2, seed=1)]), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.lucid"]


def test_a_crash_before_the_rename_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        ln.save(ln.Sequential([ln.Dense(2, 2, seed=0)]), tmp_path / "m.lucid")
    assert list(tmp_path.iterdir()) == []


# --- damaged and malicious files -------------------------------------------------------


def _saved_bytes(tmp_path):
    model = ln.Sequential([ln.Dense(2, 3, seed=0), ln.ReLU(), ln.Dense(3, 2, seed=1)])
    model.compile("mse", ln.Adam(0.01))
    model.fit(np.ones((4, 2)), np.ones((4, 2)), epochs=1, verbose=0)
    ln.save(model, tmp_path / "good.lucid")
    return (tmp_path / "good.lucid").read_bytes()


def _expect_model_file_error(path):
    with pytest.raises(ModelFileError) as info:
        ln.load(path)
    assert str(path) in str(info.value)
    return str(info.value)


def test_fuzz_bit_flips_truncations_and_junk_only_give_model_file_error(tmp_path):
    good = _saved_bytes(tmp_path)
    rng = np.random.default_rng(0)
    bad = tmp_path / "bad.lucid"
    positions = list(range(60)) + list(rng.integers(0, len(good), 300))
    for pos in positions:
        damaged = bytearray(good)
        damaged[pos] ^= 1 << int(rng.integers(0, 8))
        bad.write_bytes(bytes(damaged))
        _expect_model_file_error(bad)
    for length in [0, 5, 8, 9, 40, 41, 100, len(good) // 2, len(good) - 1]:
        bad.write_bytes(good[:length])
        _expect_model_file_error(bad)
    bad.write_bytes(good + b"junk")
    _expect_model_file_error(bad)
    bad.write_bytes(b"PK\x03\x04" + good)  # a plain zip header in front
    _expect_model_file_error(bad)


def _write(path, description, arrays):
    """A file with a valid header around any content: tests what the checksum lets through."""
    buffer = io.BytesIO()
    blob = np.frombuffer(json.dumps(description).encode(), dtype=np.uint8)
    np.savez(buffer, **{"__model__.json": blob}, **arrays)
    body = buffer.getvalue()
    path.write_bytes(b"LUCIDNET" + bytes([1]) + hashlib.sha256(body).digest() + body)


def _valid_parts():
    weights = np.zeros((2, 3), np.float32)
    bias = np.zeros(3, np.float32)
    description = {
        "format": "lucidnet-model",
        "version": 1,
        "layers": [{"type": "Dense", "config": {"in_features": 2, "out_features": 3, "name": "d"}}],
        "compile": None,
        "optimizer_state": None,
        "arrays": {
            "layers/0/weights": {"shape": [2, 3], "dtype": "float32"},
            "layers/0/bias": {"shape": [3], "dtype": "float32"},
        },
    }
    return description, {"layers/0/weights": weights, "layers/0/bias": bias}


def test_the_crafting_helper_makes_loadable_files(tmp_path):
    description, arrays = _valid_parts()
    _write(tmp_path / "ok.lucid", description, arrays)
    assert ln.load(tmp_path / "ok.lucid").layers[0].name == "d"


def _mutations():
    def unknown_type(d, a):
        d["layers"][0]["type"] = "os.system"

    def bad_config(d, a):
        d["layers"][0]["config"]["in_features"] = -2

    def unexpected_argument(d, a):
        d["layers"][0]["config"]["__class__"] = "x"

    def missing_array(d, a):
        del a["layers/0/bias"]

    def extra_listed_array(d, a):
        a["layers/0/extra"] = np.zeros(1, np.float32)
        d["arrays"]["layers/0/extra"] = {"shape": [1], "dtype": "float32"}

    def unlisted_array(d, a):
        a["stowaway"] = np.zeros(1)

    def wrong_shape(d, a):
        a["layers/0/weights"] = np.zeros((3, 2), np.float32)
        d["arrays"]["layers/0/weights"]["shape"] = [3, 2]

    def wrong_dtype(d, a):
        a["layers/0/weights"] = np.zeros((2, 3), np.float64)
        d["arrays"]["layers/0/weights"]["dtype"] = "float64"

    def listed_shape_lies(d, a):
        d["arrays"]["layers/0/weights"]["shape"] = [9, 9]

    def no_layers(d, a):
        d["layers"] = []

    def layers_do_not_fit(d, a):
        d["layers"].append({"type": "Dense", "config": {"in_features": 7, "out_features": 1}})

    def not_a_model(d, a):
        d["format"] = "something-else"

    def newer_version(d, a):
        d["version"] = 99

    def unknown_loss(d, a):
        d["compile"] = {"loss": {"type": "eval"}, "optimizer": {"type": "SGD"}, "metrics": []}

    def unknown_metric(d, a):
        d["compile"] = {
            "loss": {"type": "MSE"},
            "optimizer": {"type": "SGD"},
            "metrics": ["__import__"],
        }

    def optimizer_state_for_nobody(d, a):
        d["compile"] = {"loss": {"type": "MSE"}, "optimizer": {"type": "SGD"}, "metrics": []}
        d["optimizer_state"] = {"iterations": 1, "buffers": {"ghost.weights": ["velocity"]}}

    def optimizer_buffer_missing(d, a):
        d["compile"] = {"loss": {"type": "MSE"}, "optimizer": {"type": "SGD"}, "metrics": []}
        d["optimizer_state"] = {"iterations": 1, "buffers": {"d.weights": ["velocity"]}}

    return [
        unknown_type,
        bad_config,
        unexpected_argument,
        missing_array,
        extra_listed_array,
        unlisted_array,
        wrong_shape,
        wrong_dtype,
        listed_shape_lies,
        no_layers,
        layers_do_not_fit,
        not_a_model,
        newer_version,
        unknown_loss,
        unknown_metric,
        optimizer_state_for_nobody,
        optimizer_buffer_missing,
    ]


@pytest.mark.parametrize("mutate", _mutations(), ids=lambda f: f.__name__)
def test_content_problems_behind_a_valid_checksum_are_named(tmp_path, mutate):
    description, arrays = _valid_parts()
    mutate(description, arrays)
    _write(tmp_path / "m.lucid", description, arrays)
    _expect_model_file_error(tmp_path / "m.lucid")


def test_malformed_json_and_a_missing_description(tmp_path):
    body = io.BytesIO()
    np.savez(body, **{"__model__.json": np.frombuffer(b"{not json", dtype=np.uint8)})
    data = body.getvalue()
    path = tmp_path / "m.lucid"
    path.write_bytes(b"LUCIDNET\x01" + hashlib.sha256(data).digest() + data)
    assert "not valid JSON" in _expect_model_file_error(path)
    body = io.BytesIO()
    np.savez(body, weights=np.zeros(2))
    data = body.getvalue()
    path.write_bytes(b"LUCIDNET\x01" + hashlib.sha256(data).digest() + data)
    assert "description" in _expect_model_file_error(path)


class _Canary:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_payload_never_runs(tmp_path):
    canary = tmp_path / "pwned"
    description, arrays = _valid_parts()
    arrays["layers/0/bias"] = np.array([_Canary(str(canary))], dtype=object)
    description["arrays"]["layers/0/bias"] = {"shape": [1], "dtype": "object"}
    _write(tmp_path / "m.lucid", description, arrays)
    _expect_model_file_error(tmp_path / "m.lucid")
    assert not canary.exists()
    # a raw pickle behind a valid header is refused too
    body = pickle.dumps(_Canary(str(canary)))
    path = tmp_path / "p.lucid"
    path.write_bytes(b"LUCIDNET\x01" + hashlib.sha256(body).digest() + body)
    _expect_model_file_error(path)
    assert not canary.exists()


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ln.load(tmp_path / "nope.lucid")


def test_save_refuses_what_it_cannot_store(tmp_path):
    def my_metric(y_true, y_pred):
        return 0.0

    model = ln.Sequential([ln.Dense(2, 1)]).compile("mse", "sgd", metrics=[my_metric])
    with pytest.raises(ValueError, match="metric 'my_metric' is a custom function"):
        ln.save(model, tmp_path / "m.lucid")
    with pytest.raises(TypeError, match="expected a Sequential"):
        ln.save(ln.Dense(2, 1), tmp_path / "m.lucid")

    class Dense(ln.Layer):  # a class of one's own under the name of a built-in one
        pass

    with pytest.raises(
        ValueError,
        match=r"layer 1 \(dense_1\) is a .*\.Dense, not lucidnet's Dense; give the class another",
    ):
        ln.save(ln.Sequential([ln.Dense(2, 2), Dense()]), tmp_path / "m.lucid")

    # a layer class of one's own is stored by name; only the caller can supply the class
    class MyLayer(ln.Layer):
        pass

    ln.save(ln.Sequential([ln.Dense(2, 2), MyLayer()]), tmp_path / "custom.lucid")
    with pytest.raises(
        ln.ModelFileError, match=r"layer 1: unknown type 'MyLayer' .*custom_objects"
    ):
        ln.load(tmp_path / "custom.lucid")
    loaded = ln.load(tmp_path / "custom.lucid", custom_objects={"MyLayer": MyLayer})
    assert type(loaded.layers[1]) is MyLayer


def test_model_checkpoint_writes_loadable_best_models(tmp_path):
    x, y = ln.datasets.spirals(90, classes=3, seed=0)
    model = _resume_model()
    path = tmp_path / "best.lucid"
    checkpoint = ln.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)
    history = model.fit(
        x, y, epochs=6, validation_split=0.3, callbacks=[checkpoint], verbose=0, seed=0
    )
    best = int(np.argmin(history.history["val_loss"]))
    loaded = ln.load(path)
    split = int(len(x) * (1 - 0.3))  # fit holds out the last rows
    x_val, y_val = x[split:], y[split:]
    assert loaded.evaluate(x_val, y_val)["loss"] == pytest.approx(
        history.history["val_loss"][best], rel=1e-6
    )
    assert len(checkpoint.saved) >= 1
    assert serialization.MAGIC == path.read_bytes()[:8]


# --- crafted payloads behind a valid checksum (found in review) --------------------------


def _rehash(path, body):
    path.write_bytes(b"LUCIDNET\x01" + hashlib.sha256(body).digest() + body)


def test_fuzz_the_payload_with_a_recomputed_checksum(tmp_path):
    good = _saved_bytes(tmp_path)
    body = good[41:]
    rng = np.random.default_rng(1)
    bad = tmp_path / "bad.lucid"
    for _ in range(400):
        damaged = bytearray(body)
        for pos in rng.integers(0, len(body), int(rng.integers(1, 4))):
            damaged[pos] = int(rng.integers(0, 256))
        _rehash(bad, bytes(damaged))
        try:
            ln.load(bad)  # a harmless change (a name, a timestamp) may still load
        except ModelFileError:
            pass


JUNK = [None, True, -1, 0, 10**400, 1.5, "x", "Dense", [], [1, [2]], {}, {"type": []}, "nan"]


def test_fuzz_every_description_field_with_junk(tmp_path):
    good = _saved_bytes(tmp_path)
    with np.load(io.BytesIO(good[41:]), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    description = json.loads(arrays.pop("__model__.json").tobytes())

    def paths(node, prefix=()):
        yield prefix
        if isinstance(node, dict):
            for key, value in node.items():
                yield from paths(value, (*prefix, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from paths(value, (*prefix, i))

    bad = tmp_path / "bad.lucid"
    for where in list(paths(description))[1:]:
        for junk in JUNK:
            mutated = json.loads(json.dumps(description))
            node = mutated
            for key in where[:-1]:
                node = node[key]
            node[where[-1]] = junk
            _write(bad, mutated, arrays)
            try:
                ln.load(bad)
            except ModelFileError:
                pass


def test_compressed_members_are_refused_before_decompressing(tmp_path):
    description, arrays = _valid_parts()
    buffer = io.BytesIO()
    blob = np.frombuffer(json.dumps(description).encode(), dtype=np.uint8)
    bomb = np.zeros(50_000_000, dtype=np.uint8)  # 50 MB of zeros compress to ~50 KB
    np.savez_compressed(buffer, **{"__model__.json": blob}, bomb=bomb, **arrays)
    _rehash(tmp_path / "m.lucid", buffer.getvalue())
    assert "compressed" in _expect_model_file_error(tmp_path / "m.lucid")


def test_a_lying_array_header_is_refused(tmp_path):
    import struct
    import zipfile

    description, arrays = _valid_parts()
    buffer = io.BytesIO()
    np.savez(
        buffer,
        **{"__model__.json": np.frombuffer(json.dumps(description).encode(), np.uint8)},
        **arrays,
    )
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000000,), }"
    header += " " * (118 - len(header)) + "\n"
    liar = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("huge.npy", liar)
    _rehash(tmp_path / "m.lucid", buffer.getvalue())
    assert "claims shape" in _expect_model_file_error(tmp_path / "m.lucid")


def test_a_config_cannot_ask_for_more_memory_than_the_file_holds(tmp_path):
    description, arrays = _valid_parts()
    description["layers"][0]["config"].update(in_features=100_000, out_features=100_000)
    _write(tmp_path / "m.lucid", description, arrays)
    assert "needs float32[100000, 100000]" in _expect_model_file_error(tmp_path / "m.lucid")


def test_too_many_layers_are_refused(tmp_path):
    description, arrays = _valid_parts()
    description["layers"] += [{"type": "ReLU", "config": {}}] * serialization.MAX_LAYERS
    _write(tmp_path / "m.lucid", description, arrays)
    assert "layers is more than" in _expect_model_file_error(tmp_path / "m.lucid")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("m", np.zeros((2, 3), np.float64)),  # wrong dtype
        ("m", np.zeros((3, 2), np.float32)),  # wrong shape
        ("step", np.zeros(3, np.int64)),  # a step count must be a scalar
        ("step", np.array(-5, np.int64)),  # and not negative
    ],
)
def test_optimizer_buffers_are_checked(tmp_path, key, value):
    description, arrays = _valid_parts()
    description["compile"] = {"loss": {"type": "MSE"}, "optimizer": {"type": "Adam"}, "metrics": []}
    description["optimizer_state"] = {"iterations": 1, "buffers": {"d.weights": [key]}}
    arrays[f"optimizer/d.weights/{key}"] = value
    description["arrays"][f"optimizer/d.weights/{key}"] = {
        "shape": list(value.shape),
        "dtype": value.dtype.name,
    }
    _write(tmp_path / "m.lucid", description, arrays)
    assert "does not fit d.weights" in _expect_model_file_error(tmp_path / "m.lucid")


def test_a_directory_is_not_a_model(tmp_path):
    assert "not a regular file" in _expect_model_file_error(tmp_path)


def test_resume_with_a_seeded_dropout_is_bit_identical(tmp_path):
    def model():
        return ln.Sequential(
            [
                ln.Dense(2, 16, seed=0),
                ln.ReLU(),
                ln.Dropout(0.3, seed=7),
                ln.Dense(16, 3, seed=1),
                ln.Softmax(),
            ]
        ).compile("crossentropy", ln.Adam(0.01))

    x, y = ln.datasets.spirals(90, classes=3, seed=0)
    whole = model()
    whole.fit(x, y, epochs=4, batch_size=16, verbose=0, seed=3)
    half = model()
    half.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=3)
    ln.save(half, tmp_path / "half.lucid")
    resumed = ln.load(tmp_path / "half.lucid")
    assert resumed.layers[2].seed == 7
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0, seed=3)
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_saving_through_a_symlink_keeps_the_link_and_the_umask(tmp_path):
    real = tmp_path / "real.lucid"
    link = tmp_path / "link.lucid"
    ln.save(ln.Sequential([ln.Dense(2, 2, seed=0)]), real)
    link.symlink_to(real)
    ln.save(ln.Sequential([ln.Dense(2, 2, seed=1)]), link)
    assert link.is_symlink()
    np.testing.assert_array_equal(ln.load(real).layers[0].weights, ln.Dense(2, 2, seed=1).weights)
    umask = os.umask(0)
    os.umask(umask)
    assert real.stat().st_mode & 0o777 == 0o666 & ~umask


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"the folder .*missing does not exist"):
        ln.save(ln.Sequential([ln.Dense(2, 2)]), tmp_path / "missing" / "m.lucid")


def test_long_models_get_unique_names_quickly():
    model = ln.Sequential([ln.ReLU() for _ in range(20_000)])
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == 20_000 and names[:3] == ["relu", "relu_1", "relu_2"]


class _Scale(ln.Layer):
    """A custom layer whose configuration holds no dtype: ``x * s``."""

    def __init__(self, n, name=None):
        super().__init__(name)
        self.n = n
        self.add_parameter("s", np.full(n, 0.5, dtype=np.float32))

    def forward(self, x, training=False):
        return np.asarray(x) * self.parameter("s").value

    def get_config(self):
        return {"n": self.n, "name": self.name}


def test_a_custom_layer_without_dtype_in_its_config_loads_after_astype(tmp_path):
    class Scale(_Scale):  # saved under the name "Scale"
        pass

    model = ln.Sequential([Scale(3), ln.Dense(3, 1, seed=0)]).astype(np.float64)
    model.layers[0].parameter("s").value = [0.1, 0.2, 0.3]
    model.save(tmp_path / "m.lucid")
    again = ln.load(tmp_path / "m.lucid", custom_objects={"Scale": Scale})
    assert again.layers[0].dtype == np.float64
    np.testing.assert_array_equal(again.layers[0].parameter("s").value, [0.1, 0.2, 0.3])


def test_a_layer_with_array_shapes_but_no_dtype_in_its_config_loads_after_astype(tmp_path):
    class Scale(_Scale):
        @classmethod
        def array_shapes(cls, config):
            return {"s": (config["n"],)}

    model = ln.Sequential([Scale(3)]).astype(np.float64)
    model.save(tmp_path / "m.lucid")
    again = ln.load(tmp_path / "m.lucid", custom_objects={"Scale": Scale})
    assert again.layers[0].dtype == np.float64
    description = {
        "format": "lucidnet-model",
        "version": 1,
        "layers": [{"type": "Scale", "config": {"n": 4, "name": "s"}}],  # the file holds 3
        "compile": None,
        "optimizer_state": None,
        "arrays": {"layers/0/s": {"shape": [3], "dtype": "float64"}},
    }
    _write(tmp_path / "bad.lucid", description, {"layers/0/s": np.zeros(3)})
    with pytest.raises(ModelFileError, match=r"is float64\[3\], but layer 0 \(s\) needs"):
        ln.load(tmp_path / "bad.lucid", custom_objects={"Scale": Scale})


def test_model_info_is_saved_as_json_and_checked(tmp_path):
    model = ln.Sequential([ln.Dense(2, 1)])
    assert model.info == {}
    model.info = {"data": {"class_names": ["a", 1, -1]}, "training": {"epochs_done": 3}}
    model.save(tmp_path / "m.lucid")
    assert ln.load(tmp_path / "m.lucid").info == model.info
    model.info = {"bad": np.float32(1)}
    with pytest.raises(ValueError, match=r"model\.info must hold only JSON data"):
        model.save(tmp_path / "bad.lucid")
    model.info = {"bad": float("nan")}
    with pytest.raises(ValueError, match=r"model\.info must hold only JSON data"):
        model.save(tmp_path / "bad.lucid")
    description, arrays = _valid_parts()
    description["info"] = ["not", "an", "object"]
    _write(tmp_path / "crafted.lucid", description, arrays)
    with pytest.raises(ModelFileError, match=r"info: expected a JSON object, got list"):
        ln.load(tmp_path / "crafted.lucid")
    del description["info"]  # a file from before info existed
    _write(tmp_path / "old.lucid", description, arrays)
    assert ln.load(tmp_path / "old.lucid").info == {}
