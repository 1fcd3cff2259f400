"""Data sets: the toy sets, IDX files, the MNIST loaders (search, download) and CSV files."""

import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lucidnet import datasets
from lucidnet.datasets import idx, images, tabular, toy


@pytest.mark.parametrize(
    ("make", "labels"),
    [
        (datasets.xor, [0, 1, 1, 0]),
        (datasets.and_gate, [0, 0, 0, 1]),
        (datasets.or_gate, [0, 1, 1, 1]),
    ],
)
def test_truth_tables(make, labels):
    x, y = make()
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, labels)
    x[0, 0] = 9  # a fresh copy each call
    assert make()[0][0, 0] == 0


def test_fruit_is_the_seed_example():
    x, y = datasets.fruit()
    np.testing.assert_array_equal(x, [[1.0, 1.0]])
    np.testing.assert_array_equal(y, [1])


def test_spirals_shape_balance_and_seed():
    x, y = datasets.spirals(300, classes=3, noise=0.1, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    x2, y2 = datasets.spirals(300, classes=3, noise=0.1, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, datasets.spirals(300, classes=3, noise=0.1, seed=1)[0])
    # radii run from 0 to 1 (noise only turns the angle)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.min() == pytest.approx(0.0, abs=1e-6) and r.max() == pytest.approx(1.0, abs=1e-6)
    # rows are shuffled: the last 20% hold every class
    assert set(y[-60:]) == {0, 1, 2}


def test_spirals_without_noise_follow_the_formula():
    x, y = datasets.spirals(30, classes=2, noise=0.0, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    theta = np.arctan2(x[:, 0], x[:, 1])  # x = r sin(theta), y = r cos(theta)
    expected = 4 * r + np.pi * y  # 2 pi k / classes with classes = 2
    diff = np.angle(np.exp(1j * (theta - expected)))  # compare angles modulo 2 pi
    np.testing.assert_allclose(diff[r > 1e-6], 0.0, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 2, "classes": 3}, "n must be an int >= classes"),
        ({"classes": 1}, "classes must be"),
        ({"noise": -1}, "noise must be >= 0"),
    ],
)
def test_spirals_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.spirals(**kwargs)


# --- moons and circles ------------------------------------------------------------------


@pytest.mark.parametrize("make", [datasets.moons, datasets.circles])
def test_toy_sets_shape_balance_and_seed(make):
    x, y = make(201, seed=0)
    assert x.shape == (201, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [101, 100])  # n - n // 2, n // 2
    x2, y2 = make(201, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, make(201, seed=1)[0])
    # rows are shuffled: the last 20% hold both classes, the labels are not sorted
    assert set(y[-40:]) == {0, 1} and not np.all(np.diff(y) >= 0)
    assert make()[0].shape == (200, 2)  # default n = 200


def test_moons_without_noise_lie_on_two_half_circles():
    x, y = datasets.moons(100, noise=0.0, seed=0)
    upper, lower = x[y == 0], x[y == 1]
    # class 0: (cos t, sin t), t in [0, pi]: unit circle around (0, 0), upper half
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6
    # class 1: (1 - cos t, 1/2 - sin t): unit circle around (1, 1/2), lower half
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert lower[:, 1].max() <= 0.5 + 1e-6
    # the ends: t = 0 and t = pi give (1, 0), (-1, 0) and (0, 0.5), (2, 0.5)
    for point in ([1, 0], [-1, 0]):
        assert np.min(np.linalg.norm(upper - point, axis=1)) < 1e-6
    for point in ([0, 0.5], [2, 0.5]):
        assert np.min(np.linalg.norm(lower - point, axis=1)) < 1e-6


def test_circles_without_noise_have_radii_one_and_factor():
    x, y = datasets.circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)
    # 50 angles evenly spaced over [0, 2 pi) on each circle: steps of 2 pi / 50
    for k in (0, 1):
        angles = np.sort(np.mod(np.arctan2(x[y == k, 1], x[y == k, 0]), 2 * np.pi))
        np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 50, atol=1e-5)


@pytest.mark.parametrize("noise", [0.05, 0.2])
def test_noise_is_gaussian_of_the_given_scale(noise):
    # with noise s per coordinate, the distance to the true circle has std about s
    x, y = datasets.circles(4000, noise=noise, factor=0.5, seed=0)
    r = np.hypot(x[:, 0], x[:, 1])
    residual = np.concatenate([r[y == 0] - 1.0, r[y == 1] - 0.5])
    assert residual.std() == pytest.approx(noise, rel=0.1)
    x, y = datasets.moons(4000, noise=noise, seed=0)
    upper, lower = x[y == 0], x[y == 1]
    residual = np.concatenate(
        [np.hypot(*upper.T) - 1.0, np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5) - 1.0]
    )
    assert residual.std() == pytest.approx(noise, rel=0.15)


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (datasets.moons, {"n": 1}, r"moons: n must be an int >= 2, got 1"),
        (datasets.moons, {"n": 10.0}, r"moons: n must be an int >= 2, got 10\.0"),
        (datasets.moons, {"n": True}, r"moons: n must be an int >= 2, got True"),
        (datasets.moons, {"noise": -0.1}, r"moons: noise must be >= 0, got -0\.1"),
        (datasets.moons, {"noise": float("nan")}, r"moons: noise must be >= 0, got nan"),
        (datasets.moons, {"noise": "a"}, r"moons: noise must be a number >= 0, got 'a'"),
        (datasets.circles, {"n": 0}, r"circles: n must be an int >= 2, got 0"),
        (datasets.circles, {"noise": -1}, r"circles: noise must be >= 0, got -1"),
        (datasets.circles, {"factor": 0}, r"circles: factor must be in \(0, 1\), got 0"),
        (datasets.circles, {"factor": 1.0}, r"circles: factor must be in \(0, 1\), got 1\.0"),
        (datasets.circles, {"factor": None}, r"circles: factor must be a number in \(0, 1\)"),
    ],
)
def test_toy_set_validation(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


# --- IDX files --------------------------------------------------------------------------

# type code -> dtype as stored in the file (big-endian), written independently of the module
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array, code=0x08):
    """An IDX file's bytes: 00 00, type code, number of dims, big-endian sizes, data."""
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(IDX_DTYPES[code]).tobytes()


def _native(code):
    return np.dtype(IDX_DTYPES[code]).newbyteorder("=")


def write(path, data, compress=False):
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def test_read_idx_hand_written_bytes(tmp_path):
    # 2 x 3 int16 (type 0x0B), big-endian: 1 = 00 01, -2 = ff fe, 258 = 01 02
    data = bytes.fromhex("00 00 0b 02  00 00 00 02  00 00 00 03")
    data += bytes.fromhex("0001 fffe 0102  0000 7fff 8000")
    a = datasets.read_idx(write(tmp_path / "a.idx", data))
    np.testing.assert_array_equal(a, [[1, -2, 258], [0, 32767, -32768]])
    assert a.dtype == np.int16 and a.dtype.isnative and a.flags.writeable


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("code", sorted(IDX_DTYPES), ids=lambda c: f"0x{c:02X}")
def test_read_idx_round_trip_each_type(tmp_path, code, compress):
    dtype = _native(code)
    rng = np.random.default_rng(code)
    if dtype.kind == "f":
        array = rng.normal(scale=1e3, size=(3, 4, 5)).astype(dtype)
        array[0, 0, :3] = [np.inf, -0.0, np.finfo(dtype).tiny]
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True, dtype=dtype)
        array[0, 0, :2] = [info.min, info.max]
    out = datasets.read_idx(write(tmp_path / "x-idx3-ubyte", idx_bytes(array, code), compress))
    assert out.dtype == dtype and out.dtype.isnative and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, array)


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(sorted(IDX_DTYPES)).flatmap(
        lambda code: st.tuples(
            st.just(code),
            hnp.arrays(_native(code), hnp.array_shapes(min_dims=1, max_dims=4, min_side=0)),
        )
    ),
    compress=st.booleans(),
)
def test_read_idx_round_trip_property(tmp_path_factory, case, compress):
    code, array = case
    path = tmp_path_factory.mktemp("idx") / "a"
    out = datasets.read_idx(write(path, idx_bytes(array, code), compress))
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)  # NaN == NaN here


def test_read_idx_detects_gzip_by_content_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    compressed = write(tmp_path / "plain-name", idx_bytes(array), compress=True)
    raw = write(tmp_path / "looks-compressed.gz", idx_bytes(array))
    np.testing.assert_array_equal(datasets.read_idx(compressed), array)
    np.testing.assert_array_equal(datasets.read_idx(str(raw)), array)  # a str path works too


def _truncated_gzip():
    return gzip.compress(idx_bytes(np.arange(600, dtype=np.int32)))[:-40]


def _corrupt_gzip():
    data = bytearray(gzip.compress(idx_bytes(np.arange(600, dtype=np.int32), 0x0C)))
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


GOOD = idx_bytes(np.zeros((2, 3), dtype=np.uint8))  # 00 00 08 02 | 2 | 3 | 6 bytes


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", r"too short for an IDX file: the file has 0 bytes"),
        (b"\x00\x00\x08", r"too short for an IDX file: the file has 3 bytes"),
        (b"\x01\x00" + GOOD[2:], r"not an IDX file: the first two bytes must be 00 00, got 01 00"),
        (gzip.compress(b"PK\x03\x04" + GOOD[4:]), r"first two bytes must be 00 00, got 50 4b"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], r"unknown IDX type code 0x0A; expected one of 0x08"),
        (GOOD[:3] + b"\x00" + GOOD[4:], r"declares 0 dimensions; expected at least 1"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", r"truncated IDX header: 3 dimensions need 16"),
        (GOOD[:-1], r"truncated IDX data: dimensions 2 x 3 of uint8 need 6 data bytes .* has 5"),
        (
            gzip.compress(GOOD[:-2]),
            r"truncated IDX data: .* the decompressed data has 4",
        ),
        (GOOD + b"\x00\x00", r"2 trailing bytes: dimensions 2 x 3 of uint8 need 6 .* has 8"),
        (_truncated_gzip(), r"corrupt or truncated gzip stream"),
        (_corrupt_gzip(), r"corrupt or truncated gzip stream"),
        (b"\x1f\x8b" + GOOD, r"corrupt or truncated gzip stream"),
    ],
    ids=[
        "empty",
        "short",
        "bad-magic",
        "bad-magic-in-gzip",
        "unknown-type",
        "zero-dims",
        "truncated-header",
        "truncated-data",
        "truncated-data-in-gzip",
        "trailing-bytes",
        "truncated-gzip",
        "corrupt-gzip",
        "not-really-gzip",
    ],
)
def test_read_idx_corruption_gives_a_clear_error(tmp_path, data, match):
    path = write(tmp_path / "broken-idx1-ubyte", data)
    with pytest.raises(datasets.IDXError, match=match) as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)  # the message names the file
    assert isinstance(info.value, ValueError)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        datasets.read_idx(tmp_path / "nothing-here")


# --- MNIST and Fashion-MNIST: finding the files -----------------------------------------

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")  # dataset-fashion-mnist's place


def image_set(directory, n_train=3, n_test=2, compress=True, seed=0, files=FILES):
    """Write a small MNIST-like set (28 x 28 uint8 images, labels 0-9) into ``directory``;
    return ``{file name: the array written}``."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        FILES[0]: rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        FILES[1]: ((np.arange(n_train) + seed) % 10).astype(np.uint8),
        FILES[2]: rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        FILES[3]: ((np.arange(n_test)[::-1] + seed) % 10).astype(np.uint8),
    }
    for name in files:
        suffix = ".gz" if compress else ""
        write(directory / f"{name}{suffix}", idx_bytes(arrays[name]), compress)
    return arrays


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine without data: no $LUCIDNET_DATA, the Debian directories, $XDG_CACHE_HOME
    and $HOME under tmp_path, and any network access outside 127.0.0.1 an error."""
    monkeypatch.delenv("LUCIDNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("fashion-mnist", "mnist"):
        monkeypatch.setitem(images.DEBIAN_DIRS, name, tmp_path / "debian" / name)
    real_urlopen = images.urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        assert url.startswith("http://127.0.0.1:"), f"network access to {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(images.urllib.request, "urlopen", local_only)
    return tmp_path


def n_train(result):
    (x_train, _), _ = result
    return len(x_train)


def test_search_order(machine, monkeypatch):
    # a distinct training-set size in each place tells which one was read
    image_set(machine / "explicit", n_train=1)
    image_set(machine / "env", n_train=2)
    image_set(machine / "env" / "fashion-mnist", n_train=3)
    image_set(machine / "debian" / "fashion-mnist", n_train=4)
    image_set(machine / "xdg" / "lucidnet" / "fashion-mnist", n_train=5)
    image_set(machine / "home" / ".cache" / "lucidnet" / "fashion-mnist", n_train=6)
    monkeypatch.setenv("LUCIDNET_DATA", str(machine / "env"))
    load = functools.partial(datasets.load_fashion_mnist, download=False)

    assert n_train(load(machine / "explicit")) == 1  # the explicit path beats the rest
    assert n_train(load(str(machine / "explicit"))) == 1
    assert n_train(load()) == 2  # then $LUCIDNET_DATA itself
    for name in FILES:
        (machine / "env" / f"{name}.gz").unlink()
    assert n_train(load()) == 3  # then its subfolder fashion-mnist
    assert n_train(load(machine / "nowhere")) == 3  # an empty explicit path is skipped
    monkeypatch.delenv("LUCIDNET_DATA")
    assert n_train(load()) == 4  # then the Debian package's directory
    (machine / "debian" / "fashion-mnist" / f"{FILES[3]}.gz").unlink()
    assert n_train(load()) == 5  # three files out of four do not count: the cache
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert n_train(load()) == 6  # without $XDG_CACHE_HOME: ~/.cache/lucidnet
    image_set(machine / "mine", n_train=7)
    assert n_train(load(cache_dir=machine / "mine")) == 7  # cache_dir replaces both


def test_raw_and_gz_files_mix_and_mnist_has_its_own_folder(machine, monkeypatch):
    image_set(machine / "env" / "mnist", n_train=4, files=FILES[:2], compress=False)
    image_set(machine / "env" / "mnist", n_train=4, files=FILES[2:], compress=True)
    image_set(machine / "env" / "fashion-mnist", n_train=9)
    monkeypatch.setenv("LUCIDNET_DATA", str(machine / "env"))
    assert n_train(datasets.load_mnist(download=False)) == 4
    assert n_train(datasets.load_fashion_mnist(download=False)) == 9


@pytest.mark.parametrize("compress", [True, False])
def test_normalize_and_flatten(machine, compress):
    arrays = image_set(machine / "d", n_train=5, n_test=3, compress=compress)
    (x, y), (xt, yt) = datasets.load_fashion_mnist(machine / "d", download=False)
    assert x.shape == (5, 784) and xt.shape == (3, 784)
    assert x.dtype == np.float32 and y.dtype == np.int64 and yt.dtype == np.int64
    np.testing.assert_array_equal(x, arrays[FILES[0]].reshape(5, 784) / np.float32(255))
    np.testing.assert_array_equal(y, arrays[FILES[1]])
    np.testing.assert_array_equal(yt, arrays[FILES[3]])

    (x, y), (xt, _) = datasets.load_fashion_mnist(
        machine / "d", normalize=False, flatten=False, download=False
    )
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28) and xt.shape == (3, 28, 28)
    np.testing.assert_array_equal(x, arrays[FILES[0]])
    np.testing.assert_array_equal(xt, arrays[FILES[2]])

    (x, _), _ = datasets.load_mnist(machine / "d", normalize=True, flatten=False, download=False)
    assert x.shape == (5, 28, 28) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0


def test_normalize_maps_0_and_255_to_0_and_1_exactly(machine):
    image_set(machine / "d")
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 255, 51
    write(machine / "d" / f"{FILES[0]}.gz", idx_bytes(images), compress=True)
    (x, _), _ = datasets.load_fashion_mnist(machine / "d", download=False)
    assert x[0, 0] == 1.0 and x[2, 0] == 0.0 and x[1, 0] == np.float32(0.2)


def test_images_and_labels_must_agree_in_count(machine):
    image_set(machine / "d", n_train=5)
    labels = machine / "d" / f"{FILES[1]}.gz"
    write(labels, idx_bytes(np.zeros(4, dtype=np.uint8)), compress=True)
    with pytest.raises(datasets.IDXError, match=r"holds 5 images but .* holds 4 labels") as info:
        datasets.load_fashion_mnist(machine / "d", download=False)
    assert FILES[0] in str(info.value) and FILES[1] in str(info.value)


@pytest.mark.parametrize(
    ("name", "array", "match"),
    [
        (FILES[2], np.zeros((2, 28, 27), np.uint8), r"expected 28 x 28 uint8 images, got .*27"),
        (FILES[2], np.zeros((2, 28, 28), np.int16), r"expected 28 x 28 uint8 .* of int16"),
        (FILES[2], np.zeros((2, 784), np.uint8), r"expected 28 x 28 uint8 images"),
        (FILES[3], np.zeros((2, 1), np.uint8), r"expected a 1-D array of uint8 labels"),
        (FILES[3], np.array([3, 10], np.uint8), r"label 10 at index 1 is not in 0-9"),
    ],
)
def test_loader_checks_images_and_labels(machine, name, array, match):
    image_set(machine / "d", n_test=2)
    code = 0x0B if array.dtype == np.int16 else 0x08
    write(machine / "d" / f"{name}.gz", idx_bytes(array, code), compress=True)
    with pytest.raises(datasets.IDXError, match=match) as info:
        datasets.load_fashion_mnist(machine / "d", download=False)
    assert name in str(info.value)


def test_a_corrupt_file_found_is_an_error_not_skipped(machine):
    image_set(machine / "d")
    image_set(machine / "debian" / "fashion-mnist")
    path = machine / "d" / f"{FILES[0]}.gz"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(datasets.IDXError, match="corrupt or truncated gzip"):
        datasets.load_fashion_mnist(machine / "d", download=False)


def test_download_false_raises_without_network(machine, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("no network access expected")

    monkeypatch.setattr(images.urllib.request, "urlopen", no_network)
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.load_fashion_mnist(machine / "explicit", download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "Fashion-MNIST not found" in message and "download=False" in message
    for place in ("explicit", "debian/fashion-mnist", "xdg/lucidnet/fashion-mnist"):
        assert str(machine / place) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "LUCIDNET_DATA" in message
    assert not (machine / "xdg").exists()  # nothing created


def test_mnist_message_has_no_apt_line(machine, monkeypatch):
    monkeypatch.setenv("LUCIDNET_DATA", str(machine / "env"))
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.load_mnist(download=False)
    message = str(info.value)
    assert "MNIST not found" in message and "apt-get" not in message
    assert str(machine / "env") in message and str(machine / "env" / "mnist") in message
    assert str(machine / "xdg" / "lucidnet" / "mnist") in message


@pytest.mark.parametrize(
    ("mirrors", "match"),
    [
        ("http://example.org/", r"load_mnist: mirrors must be a list of http\(s\) URLs"),
        ([], r"load_mnist: mirrors must not be empty"),
        (["file:///etc/"], r"mirrors must be http:// or https:// URLs, got 'file:///etc/'"),
    ],
)
def test_mirrors_are_checked(machine, mirrors, match):
    with pytest.raises(ValueError, match=match):
        datasets.load_mnist(mirrors=mirrors)


def test_default_mirrors_and_hashes():
    # the package re-exports the tables of lucidnet.datasets.images: the same objects
    assert datasets.MIRRORS is images.MIRRORS and datasets.SHA256 is images.SHA256
    assert datasets.DEBIAN_DIRS is images.DEBIAN_DIRS
    assert datasets.DOWNLOAD_TIMEOUT == images.DOWNLOAD_TIMEOUT == 30.0
    assert datasets.MIRRORS["mnist"][0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert datasets.MIRRORS["mnist"][1] == "http://yann.lecun.com/exdb/mnist/"
    assert datasets.MIRRORS["fashion-mnist"] == (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    )
    for name in ("mnist", "fashion-mnist"):
        hashes = datasets.SHA256[name]
        assert sorted(hashes) == sorted(f"{f}.gz" for f in FILES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes.values())
    assert datasets.SHA256["fashion-mnist"][f"{FILES[0]}.gz"].startswith("08dc20ab")
    assert datasets.SHA256["mnist"][f"{FILES[3]}.gz"].endswith("204aec6")


# --- downloads, from a local HTTP server --------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; ``requests`` logs the paths asked."""
    root = tmp_path / "www"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):  # quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield SimpleNamespace(
            root=root, url=f"http://127.0.0.1:{httpd.server_port}", requests=requests
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def publish(server, folder, monkeypatch=None, seed=0, n_train=4, files=FILES):
    """Serve a small image set as .gz files under ``/folder/``; with ``monkeypatch``, make
    their SHA-256 the expected Fashion-MNIST hashes. Returns the arrays."""
    arrays = image_set(server.root / folder, n_train=n_train, seed=seed, files=files)
    if monkeypatch is not None:
        hashes = {
            f"{name}.gz": hashlib.sha256(
                (server.root / folder / f"{name}.gz").read_bytes()
            ).hexdigest()
            for name in FILES
            if (server.root / folder / f"{name}.gz").exists()
        }
        monkeypatch.setitem(images.SHA256, "fashion-mnist", hashes)
    return arrays


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there now: connection refused


def test_download_lands_in_the_cache_atomically_and_once(machine, server, monkeypatch):
    arrays = publish(server, "good", monkeypatch)
    cache = machine / "xdg" / "lucidnet" / "fashion-mnist"
    renames = []
    real_replace = os.replace

    def replace(src, dst):
        src, dst = Path(src), Path(dst)
        assert src.parent == dst.parent == cache  # a rename within one directory
        assert src.name.startswith(f".{dst.name}.") and src.name.endswith(".part")
        assert not dst.exists()  # the final name appears only complete
        renames.append(dst.name)
        real_replace(src, dst)

    monkeypatch.setattr(images.os, "replace", replace)
    (x, _), (_, yt) = datasets.load_fashion_mnist(
        mirrors=[f"{server.url}/good/"], normalize=False, flatten=False
    )
    np.testing.assert_array_equal(x, arrays[FILES[0]])
    np.testing.assert_array_equal(yt, arrays[FILES[3]])
    assert sorted(renames) == sorted(f"{f}.gz" for f in FILES)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{f}.gz" for f in FILES)
    for name in FILES:  # byte for byte what was served
        served = (server.root / "good" / f"{name}.gz").read_bytes()
        assert (cache / f"{name}.gz").read_bytes() == served
    assert sorted(server.requests) == sorted(f"/good/{f}.gz" for f in FILES)

    server.requests.clear()
    (x2, _), _ = datasets.load_fashion_mnist(mirrors=[f"{server.url}/good/"], normalize=False)
    assert server.requests == []  # the second call reads the cache
    np.testing.assert_array_equal(x2.reshape(x.shape), x)


def test_download_into_cache_dir_argument(machine, server, monkeypatch):
    publish(server, "good", monkeypatch, n_train=6)
    mine = machine / "my" / "cache"
    assert (
        n_train(datasets.load_fashion_mnist(cache_dir=mine, mirrors=[f"{server.url}/good/"])) == 6
    )
    assert sorted(p.name for p in mine.iterdir()) == sorted(f"{f}.gz" for f in FILES)
    assert not (machine / "xdg").exists()


@pytest.mark.parametrize("first", ["hash-mismatch", "not-found", "closed-port"])
def test_download_falls_back_to_the_next_mirror(machine, server, monkeypatch, first):
    publish(server, "bad", seed=1)  # same names, other bytes: the hashes will not match
    arrays = publish(server, "good", monkeypatch, seed=0)
    first_mirror = {
        "hash-mismatch": f"{server.url}/bad/",
        "not-found": f"{server.url}/missing/",
        "closed-port": closed_port_url(),
    }[first]
    (x, _), _ = datasets.load_fashion_mnist(
        mirrors=[first_mirror, f"{server.url}/good"], normalize=False, flatten=False
    )
    np.testing.assert_array_equal(x, arrays[FILES[0]])
    cache = machine / "xdg" / "lucidnet" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{f}.gz" for f in FILES)
    good = [p for p in server.requests if p.startswith("/good/")]
    assert len(good) == 4
    if first != "closed-port":
        assert len(server.requests) == 8  # each file tried on the first mirror first


def test_all_mirrors_failing_raises_with_the_how_to(machine, server, monkeypatch):
    publish(server, "bad", seed=1)
    publish(server, "good", seed=0)
    monkeypatch.setitem(images.SHA256, "fashion-mnist", {f"{f}.gz": "0" * 64 for f in FILES})
    refused = closed_port_url()
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.load_fashion_mnist(mirrors=[refused, f"{server.url}/bad/"])
    message = str(info.value)
    assert "Download failed" in message
    assert f"{refused}{FILES[0]}.gz" in message  # each attempt with its reason
    assert f"{server.url}/bad/{FILES[0]}.gz: SHA-256 mismatch" in message
    assert "apt-get install dataset-fashion-mnist" in message and "LUCIDNET_DATA" in message
    cache = machine / "xdg" / "lucidnet" / "fashion-mnist"
    assert list(cache.iterdir()) == []  # no partial or temporary file left


def test_a_partial_download_resumes_with_the_missing_files(machine, server, monkeypatch):
    publish(server, "good", monkeypatch, files=FILES[:3])
    monkeypatch.setitem(images.SHA256["fashion-mnist"], f"{FILES[3]}.gz", "0" * 64)
    with pytest.raises(datasets.DatasetNotFoundError, match="HTTP Error 404"):
        datasets.load_fashion_mnist(mirrors=[f"{server.url}/good/"])
    cache = machine / "xdg" / "lucidnet" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{f}.gz" for f in FILES[:3])

    publish(server, "good", monkeypatch)  # now all four are there
    server.requests.clear()
    (x, _), _ = datasets.load_fashion_mnist(mirrors=[f"{server.url}/good/"])
    assert server.requests == [f"/good/{FILES[3]}.gz"]  # only the missing one
    assert x.shape == (4, 784)


def test_a_silent_server_times_out(machine, monkeypatch):
    # the loader reads images.DOWNLOAD_TIMEOUT at call time; were the patch to miss (set on
    # the package, say), urlopen would get the default 30 s and the checks below fail
    monkeypatch.setattr(images, "DOWNLOAD_TIMEOUT", 0.2)
    timeouts = []
    local_urlopen = images.urllib.request.urlopen  # the machine fixture's guard

    def record(url, *args, timeout=None, **kwargs):
        timeouts.append(timeout)
        assert timeout == 0.2, f"urlopen got timeout={timeout}, not the patched 0.2"
        return local_urlopen(url, *args, timeout=timeout, **kwargs)

    monkeypatch.setattr(images.urllib.request, "urlopen", record)
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        start = time.monotonic()
        with pytest.raises(datasets.DatasetNotFoundError, match="timed out"):
            datasets.load_fashion_mnist(mirrors=[url])
        assert time.monotonic() - start < 10  # one 0.2 s timeout, not 30 s
    assert timeouts == [0.2]  # the first file fails on the only mirror: no more tries


def test_settings_are_read_from_the_images_module_at_call_time(machine, monkeypatch):
    # replacing a table on lucidnet.datasets.images (not just an entry) takes effect
    image_set(machine / "elsewhere", n_train=3)
    debian = {"fashion-mnist": machine / "elsewhere", "mnist": machine / "nowhere"}
    monkeypatch.setattr(images, "DEBIAN_DIRS", debian)
    assert n_train(datasets.load_fashion_mnist(download=False)) == 3
    monkeypatch.setattr(images, "MIRRORS", {"mnist": ("ftp://mirror.example/",)})
    with pytest.raises(ValueError, match=r"got 'ftp://mirror\.example/'"):
        datasets.load_mnist()


# --- the real Fashion-MNIST, where the Debian package is installed ---------------------


def test_real_fashion_mnist():
    present = all(
        (REAL_FASHION / name).is_file() or (REAL_FASHION / f"{name}.gz").is_file() for name in FILES
    )
    if not present:
        pytest.skip(
            f"Fashion-MNIST is not in {REAL_FASHION}: apt-get install dataset-fashion-mnist"
        )
    (x, y), (xt, yt) = datasets.load_fashion_mnist(REAL_FASHION, download=False)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == np.float32 and y.dtype == yt.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0 and xt.min() == 0.0 and xt.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(yt, minlength=10), [1000] * 10)
    np.testing.assert_array_equal(y[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])  # as in Keras


# --- CSV files ----------------------------------------------------------------------------


def csv_file(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


IRIS = """sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
"""


def test_csv_header_string_classes_and_target_by_name(tmp_path):
    table = datasets.read_csv(csv_file(tmp_path, IRIS), target="species")
    assert table.X.dtype == np.float32 and table.X.shape == (4, 2)
    np.testing.assert_array_equal(
        table.X, np.float32([[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]])
    )
    assert table.classes == ["setosa", "versicolor", "virginica"]  # sorted
    assert table.y.dtype == np.int64
    np.testing.assert_array_equal(table.y, [0, 1, 2, 0])
    assert table.feature_names == ["sepal_length", "sepal_width"]
    assert table.target_name == "species"
    x, y = datasets.load_csv(csv_file(tmp_path, IRIS))  # target=-1, the same column
    np.testing.assert_array_equal(x, table.X)
    np.testing.assert_array_equal(y, table.y)


@pytest.mark.parametrize("target", [0, -3, "label", " label "])
def test_csv_target_by_index_or_name_anywhere(tmp_path, target):
    path = csv_file(tmp_path, "label,a,b\n1,0.5,2\n0,1.5,3\n")
    table = datasets.read_csv(path, target=target)
    assert table.target_name == "label" and table.feature_names == ["a", "b"]
    np.testing.assert_array_equal(table.X, [[0.5, 2], [1.5, 3]])
    np.testing.assert_array_equal(table.y, [1, 0])
    assert table.y.dtype == np.int64 and table.classes is None


def test_csv_string_column_as_a_feature_is_an_error(tmp_path):
    # the species column is a feature once the target is another column
    message = _error(tmp_path, IRIS, target=0)
    assert "line 2, column 3 ('species'): 'setosa' is not a number" in message


def test_csv_numeric_targets_and_no_header(tmp_path):
    # every cell of the first row is a number: no header; whole-number targets: int64
    table = datasets.read_csv(csv_file(tmp_path, "1.5,2,0\n3,4e-1,1\n-5,6,2.0\n"))
    assert table.feature_names == ["column 1", "column 2"] and table.target_name == "column 3"
    assert table.classes is None and table.y.dtype == np.int64
    np.testing.assert_array_equal(table.y, [0, 1, 2])
    np.testing.assert_array_equal(table.X, np.float32([[1.5, 2], [3, 0.4], [-5, 6]]))
    # numbers not all whole: float32
    table = datasets.read_csv(csv_file(tmp_path, "1,0.5\n2,1.25\n"), target=1)
    assert table.y.dtype == np.float32
    np.testing.assert_array_equal(table.y, np.float32([0.5, 1.25]))


def test_csv_header_option_and_delimiters(tmp_path):
    path = csv_file(tmp_path, "1;2;3\n4;5;6\n")
    forced = datasets.read_csv(path, delimiter=";", header=True)
    assert forced.feature_names == ["1", "2"] and forced.X.shape == (1, 2)
    assert datasets.read_csv(path, delimiter=";", header=False).X.shape == (2, 2)
    assert datasets.read_csv(path, delimiter=";").X.shape == (2, 2)  # auto: no header
    tabs = csv_file(tmp_path, "a\tb\n1\t2\n", name="t.tsv")
    table = datasets.read_csv(tabs, delimiter="\t", target="b")
    assert table.feature_names == ["a"] and table.y.tolist() == [2]


def test_csv_blank_lines_quotes_and_bom(tmp_path):
    text = '\ufeffx,"label"\n\n1,"two\nlines"\n   \n2,plain\n'
    table = datasets.read_csv(csv_file(tmp_path, text), target="label")
    assert table.feature_names == ["x"]  # the byte-order mark is not part of the name
    assert table.classes == ["plain", "two\nlines"]
    np.testing.assert_array_equal(table.X, [[1], [2]])


def _error(tmp_path, text, **kwargs):
    path = csv_file(tmp_path, text)
    with pytest.raises(ValueError) as info:
        datasets.read_csv(path, **kwargs)
    message = str(info.value)
    assert str(path) in message  # every message names the file
    return message


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("a,b,y\n1,2,0\n3,x,1\n", {}, "line 3, column 2 ('b'): 'x' is not a number"),
        ("1,2,0\n3,4,1\n5,six,0\n", {}, "line 3, column 2: 'six' is not a number"),
        ("a,b,y\n1,,0\n", {}, "line 2, column 2 ('b'): empty cell"),
        ("a,b,y\n1,2,\n", {}, "line 2, column 3 ('y'): empty cell"),
        ("a,b,y\n1,nan,0\n", {}, "line 2, column 2 ('b'): 'nan' is not a finite number"),
        ("a,b,y\n1,-inf,0\n", {}, "line 2, column 2 ('b'): '-inf' is not a finite number"),
        ("a,b,y\n1,2,nan\n", {}, "line 2, column 3 ('y'): 'nan' is not a finite number"),
        ("a,b,y\n1,1e39,0\n", {}, "line 2, column 2 ('b'): '1e39' is too large for float32"),
        ("a,b,y\n1,2,0.5\n1,2,1e39\n", {}, "line 3, column 3 ('y'): '1e39' is too large"),
        (
            "a,b,y\n1,2,0\n\n3,4\n",
            {},
            "line 4: expected 3 cells (as on line 1), got 2: column 3 ('y') onwards missing",
        ),
        (
            "a,b,y\n1,2,0,9\n",
            {},
            "line 2: expected 3 cells (as on line 1), got 4: cells after column 3 ('y'), the "
            "last, are extra",
        ),
        # the line count goes on across a quoted newline
        ('a,b,y\n1,2,"x\ny"\n3,oops,z\n', {}, "line 4, column 2 ('b'): 'oops' is not"),
        ("a,b,y\n1,2,0\n", {"target": "z"}, "line 1: target 'z' is not in the header; "),
        ("a,b,a\n1,2,0\n", {"target": "a"}, "target 'a' appears more than once"),
        ("1,2,0\n", {"target": "y"}, "target 'y' is a column name, but"),
        ("a,b,y\n1,2,0\n", {"target": 3}, "target index 3 is out of range for"),
        ("a,b,y\n1,2,0\n", {"target": -4}, "(valid: -3 to 2)"),
        ("", {}, ": the file is empty"),
        ("\n  \n", {}, ": the file is empty"),
        ("a,b,y\n\n", {}, ": a header on line 1 but no data rows"),
        ("y\n1\n", {}, "line 1: found 1 column; need at least 2"),
        ('a,b\n1,"2\n', {}, "line 2: unexpected end of data"),
        ('a,b\n"1"x,2\n', {}, "line 2: ',' expected after '\"'"),
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path, text, kwargs, expected):
    message = _error(tmp_path, text, **kwargs)
    assert expected in message, message


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,y\ncaf\u00e9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text"):
        datasets.read_csv(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"delimiter": ";;"}, r"read_csv: delimiter must be one character, got ';;'"),
        ({"header": "yes"}, r"read_csv: header must be True, False or 'auto', got 'yes'"),
        (
            {"target": 1.0},
            r"read_csv: target must be a column index, a column name or None, got 1\.0",
        ),
        ({"target": True}, r"read_csv: target must be .* or None, got True"),
    ],
)
def test_csv_argument_checks(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.read_csv(csv_file(tmp_path, IRIS), **kwargs)


def test_csv_no_target_with_header(tmp_path):
    # target=None: every column is a feature, the last one too
    path = csv_file(tmp_path, "a,b,c\n1,2,3\n4.5,-6,7e-1\n")
    table = datasets.read_csv(path, target=None)
    np.testing.assert_array_equal(table.X, np.float32([[1, 2, 3], [4.5, -6, 0.7]]))
    assert table.X.dtype == np.float32 and table.X.shape == (2, 3)
    assert table.y.dtype == np.int64 and table.y.shape == (0,)
    assert table.feature_names == ["a", "b", "c"]
    assert table.target_name == "" and table.classes is None
    x, y = datasets.load_csv(path, target=None)
    np.testing.assert_array_equal(x, table.X)
    assert y.shape == (0,) and y.dtype == np.int64


def test_csv_no_target_without_header(tmp_path):
    path = csv_file(tmp_path, "1,2\n\n3,4\n5,6\n")
    table = datasets.read_csv(path, target=None)  # auto: all numbers, no header
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4], [5, 6]])
    assert table.feature_names == ["column 1", "column 2"]
    assert table.y.shape == (0,) and table.target_name == "" and table.classes is None
    forced = datasets.read_csv(path, target=None, header=True)
    assert forced.feature_names == ["1", "2"] and forced.X.shape == (2, 2)
    # a single column is enough without a target
    one = datasets.read_csv(csv_file(tmp_path, "0.5\n1.5\n", name="one.csv"), target=None)
    np.testing.assert_array_equal(one.X, [[0.5], [1.5]])
    assert one.feature_names == ["column 1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,y\n1,2,setosa\n", "line 2, column 3 ('y'): 'setosa' is not a number"),
        ("1,2\n3\n", "line 2: expected 2 cells (as on line 1), got 1"),
        ("a,b\n1,nan\n", "line 2, column 2 ('b'): 'nan' is not a finite number"),
        ("a,b\n1,1e39\n", "line 2, column 2 ('b'): '1e39' is too large for float32"),
        ("a,b\n", ": a header on line 1 but no data rows"),
        ("", ": the file is empty"),
    ],
)
def test_csv_no_target_errors(tmp_path, text, expected):
    # without a target the last column is a feature like any other: checked as one
    message = _error(tmp_path, text, target=None)
    assert expected in message, message


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        datasets.load_csv(tmp_path / "absent.csv")


# --- the package: its public names and its modules ------------------------------------------


def test_public_api_is_re_exported_from_the_modules():
    expected = {
        toy: ["and_gate", "circles", "fruit", "moons", "or_gate", "spirals", "xor"],
        idx: ["IDXError", "read_idx"],
        images: [
            "DEBIAN_DIRS",
            "DOWNLOAD_TIMEOUT",
            "MIRRORS",
            "SHA256",
            "DatasetNotFoundError",
            "load_fashion_mnist",
            "load_mnist",
        ],
        tabular: ["CSVTable", "load_csv", "read_csv"],
    }
    names = [name for module_names in expected.values() for name in module_names]
    assert sorted(datasets.__all__) == sorted(names) and len(set(names)) == len(names)
    for module, module_names in expected.items():
        assert sorted(module.__all__) == sorted(module_names), module.__name__
        for name in module_names:
            assert getattr(datasets, name) is getattr(module, name), name
