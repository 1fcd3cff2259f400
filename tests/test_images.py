"""lucidnet.datasets.images: finding, checking and downloading MNIST and Fashion-MNIST."""

import functools
import hashlib
import http.server
import os
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from idxfiles import idx_bytes, write
from lucidnet import datasets
from lucidnet.datasets import images

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


def test_as_images_gives_channels_last_images_for_conv2d(machine):
    arrays = image_set(machine / "d", n_train=5, n_test=3)
    for loader in (datasets.load_fashion_mnist, datasets.load_mnist):
        (x, _), (xt, _) = loader(machine / "d", as_images=True, download=False)
        assert x.shape == (5, 28, 28, 1) and xt.shape == (3, 28, 28, 1)
        np.testing.assert_array_equal(x[..., 0], arrays[FILES[0]] / np.float32(255))
    (x, _), _ = datasets.load_mnist(machine / "d", normalize=False, as_images=True, download=False)
    assert x.dtype == np.uint8
    np.testing.assert_array_equal(x[..., 0], arrays[FILES[0]])


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
