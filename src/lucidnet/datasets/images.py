"""MNIST and Fashion-MNIST: found on disk (explicit path, ``$LUCIDNET_DATA``, the Debian
package's directory, the user cache) or downloaded and verified by SHA-256.

The settings ``DEBIAN_DIRS``, ``MIRRORS``, ``SHA256`` and ``DOWNLOAD_TIMEOUT`` are module
attributes of ``lucidnet.datasets.images``, read at each call: set or patch them here.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx

__all__ = [
    "DEBIAN_DIRS",
    "DOWNLOAD_TIMEOUT",
    "MIRRORS",
    "SHA256",
    "DatasetNotFoundError",
    "load_fashion_mnist",
    "load_mnist",
]

_Path = str | os.PathLike[str]


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are neither on disk nor downloadable; the message says how to
    get them."""


# (train images, train labels, test images, test labels), each raw or with ".gz"
_IMAGE_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: Where the Debian packages put the files (``dataset-fashion-mnist``). Tests point these
#: elsewhere with ``monkeypatch.setitem``.
DEBIAN_DIRS: dict[str, Path] = {
    "fashion-mnist": Path("/usr/share/datasets/fashion-mnist"),
    "mnist": Path("/usr/share/datasets/mnist"),
}

#: The official mirrors, tried in order.
MIRRORS: dict[str, tuple[str, ...]] = {
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
}

#: SHA-256 of the official ``.gz`` files. They check downloads only: files found on disk
#: (the Debian package recompresses them) are checked by their structure.
SHA256: dict[str, dict[str, str]] = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (
            "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc"
        ),
        "train-labels-idx1-ubyte.gz": (
            "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf"
        ),
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    },
}

DOWNLOAD_TIMEOUT = 30.0  # seconds, per connection attempt and per read


@dataclass(frozen=True)
class _ImageSet:
    name: str  # the folder name: "fashion-mnist"
    title: str  # for messages: "Fashion-MNIST"
    apt_package: str | None


_FASHION = _ImageSet("fashion-mnist", "Fashion-MNIST", "dataset-fashion-mnist")
_MNIST = _ImageSet("mnist", "MNIST", None)


def _files_in(directory: Path) -> list[Path] | None:
    """The four files in ``directory`` (raw preferred over .gz), or None if any is missing."""
    found = []
    for base in _IMAGE_FILES:
        for candidate in (directory / base, directory / f"{base}.gz"):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def _cache_dir(spec: _ImageSet, cache_dir: _Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return root / "lucidnet" / spec.name


def _candidates(spec: _ImageSet, path: _Path | None, cache: Path) -> list[tuple[Path, str]]:
    """The directories to search, in order, each with where it came from."""
    places = []
    if path is not None:
        places.append((Path(path).expanduser(), "the path argument"))
    env = os.environ.get("LUCIDNET_DATA", "")
    if env:
        root = Path(env).expanduser()
        places.append((root, "$LUCIDNET_DATA"))
        places.append((root / spec.name, "$LUCIDNET_DATA"))
    debian = DEBIAN_DIRS[spec.name]
    package = f"Debian package {spec.apt_package}" if spec.apt_package else "Debian location"
    places.append((debian, package))
    places.append((cache, "the cache directory"))
    return places


def _download_one(url: str, dest: Path, sha256: str) -> None:
    """Fetch ``url`` into a temporary file beside ``dest``, check its SHA-256, then rename
    it to ``dest`` in one step. On any failure the temporary file is removed."""
    try:
        response = urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT)
    except urllib.error.HTTPError as err:
        err.close()  # an HTTP error carries an open response body
        raise
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with response, os.fdopen(fd, "wb") as out:
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())  # on disk before the rename makes it visible
        got = digest.hexdigest()
        if got != sha256.lower():
            raise ValueError(f"SHA-256 mismatch: got {got}, expected {sha256}")
        os.replace(tmp, dest)  # atomic: dest is absent or complete, never partial
    finally:
        tmp.unlink(missing_ok=True)


def _download(spec: _ImageSet, cache: Path, mirrors: Sequence[str], failures: list[str]) -> bool:
    """Download the missing ``.gz`` files into ``cache``; True when all four are there.
    Each failure (network, HTTP status, hash mismatch) is appended to ``failures``."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        failures.append(f"cannot create the cache directory {cache}: {err}")
        return False
    hashes = SHA256[spec.name]
    for base in _IMAGE_FILES:
        if (cache / base).is_file() or (cache / f"{base}.gz").is_file():
            continue
        name = f"{base}.gz"
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _download_one(url, cache / name, hashes[name])
                break
            except (OSError, ValueError, http.client.HTTPException) as err:
                failures.append(f"{url}: {err}")
        else:
            return False
    return True


def _check_mirrors(mirrors: object, where: str) -> tuple[str, ...]:
    if isinstance(mirrors, (str, bytes)) or not isinstance(mirrors, Sequence):
        raise ValueError(f"{where}: mirrors must be a list of http(s) URLs, got {mirrors!r}")
    if not mirrors:
        raise ValueError(f"{where}: mirrors must not be empty")
    for url in mirrors:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"{where}: mirrors must be http:// or https:// URLs, got {url!r}")
    return tuple(mirrors)


def _not_found(
    spec: _ImageSet,
    places: list[tuple[Path, str]],
    cache: Path,
    download: bool,
    failures: list[str],
) -> DatasetNotFoundError:
    lines = [
        f"{spec.title} not found. A directory counts when it holds all four files "
        f"{', '.join(_IMAGE_FILES)} (each raw or .gz). Searched:"
    ]
    lines += [f"  - {place} ({origin})" for place, origin in places]
    if not download:
        lines.append("Download disabled (download=False).")
    else:
        lines.append("Download failed:")
        lines += [f"  - {failure}" for failure in failures]
    lines.append("To get the files, any one of:")
    if spec.apt_package:
        lines.append(f"  - apt-get install {spec.apt_package}  (Debian and Ubuntu)")
    lines.append(f"  - set LUCIDNET_DATA to a directory holding them (or its {spec.name} folder)")
    lines.append(f"  - place them in the cache directory {cache}")
    if not download:
        lines.append("  - call again with download=True on a machine online")
    return DatasetNotFoundError("\n".join(lines))


def _read_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        raise IDXError(
            f"{images_path}: expected 28 x 28 uint8 images, got shape {images.shape} of "
            f"{images.dtype.name}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IDXError(
            f"{labels_path}: expected a 1-D array of uint8 labels, got shape {labels.shape} "
            f"of {labels.dtype.name}"
        )
    if len(images) != len(labels):
        raise IDXError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; they must agree"
        )
    if labels.size and labels.max() > 9:
        first = int(np.argmax(labels > 9))
        raise IDXError(f"{labels_path}: label {labels[first]} at index {first} is not in 0-9")
    return images, labels.astype(np.int64)


def _load_image_set(
    spec: _ImageSet,
    path: _Path | None,
    normalize: bool,
    flatten: bool,
    download: bool,
    cache_dir: _Path | None,
    mirrors: Sequence[str] | None,
    as_images: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    where = f"load_{spec.name.replace('-', '_')}"
    urls = _check_mirrors(MIRRORS[spec.name] if mirrors is None else mirrors, where)
    cache = _cache_dir(spec, cache_dir)
    places = _candidates(spec, path, cache)
    files = next((f for f in (_files_in(p) for p, _ in places) if f is not None), None)
    failures: list[str] = []
    if files is None and download and _download(spec, cache, urls, failures):
        files = _files_in(cache)
    if files is None:
        raise _not_found(spec, places, cache, download, failures)
    splits = []
    for images_path, labels_path in (files[:2], files[2:]):
        images, labels = _read_split(images_path, labels_path)
        if as_images:  # (n, 28, 28, 1): channels last, what Conv2D takes
            x = images.reshape(len(images), 28, 28, 1)
        else:  # (n, 784) or (n, 28, 28)
            x = images.reshape(len(images), 28 * 28) if flatten else images
        if normalize:
            x = x.astype(np.float32)
            np.divide(x, 255.0, out=x)  # exact 0 and 1 at the ends
        splits.append((x, labels))
    return splits[0], splits[1]


def load_fashion_mnist(
    path: _Path | None = None,
    normalize: bool = True,
    flatten: bool = True,
    download: bool = True,
    cache_dir: _Path | None = None,
    mirrors: Sequence[str] | None = None,
    as_images: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST (Zalando's clothing images): 60,000 training and 10,000 test
    images of 28 x 28 pixels, labels 0-9, like ``keras.datasets.fashion_mnist.load_data()``.

    The four files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each raw or ``.gz``) are read
    from the first of these directories that holds all four:

    1. ``path``;
    2. ``$LUCIDNET_DATA``, then its subfolder ``fashion-mnist``;
    3. ``/usr/share/datasets/fashion-mnist/`` (``apt-get install dataset-fashion-mnist``;
       the table ``lucidnet.datasets.DEBIAN_DIRS``);
    4. the cache directory: ``cache_dir``, else ``$XDG_CACHE_HOME/lucidnet/fashion-mnist``
       or ``~/.cache/lucidnet/fashion-mnist``.

    If none holds them and ``download`` is true, the missing ``.gz`` files are downloaded
    into the cache directory from ``mirrors``, tried in order: each into a temporary file,
    checked against its SHA-256 in ``lucidnet.datasets.SHA256`` (a mismatch moves on to the
    next mirror), then renamed into place in one step, so that an interrupted download
    never leaves a partial file. Files found on disk are checked by their structure
    (``read_idx``), not by hash: the Debian package recompresses them.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A directory holding the four files.
    normalize : bool
        Pixels as float32 ``x / 255`` in ``[0, 1]``; else uint8 as stored.
    flatten : bool
        Images as rows of ``28 * 28 = 784`` pixels; else ``(n, 28, 28)``.
    as_images : bool
        Images as ``(n, 28, 28, 1)``, channels last, the layout ``Conv2D`` takes (wins
        over ``flatten``).
    download : bool
        Download the files when they are not found.
    cache_dir : str or os.PathLike, optional
        Where downloads go (and are looked for).
    mirrors : sequence of str, optional
        Base URLs (http or https) to download from; default
        ``lucidnet.datasets.MIRRORS["fashion-mnist"]``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x``: ``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)``, float32 or uint8;
        ``y``: ``(n,)`` int64.

    Raises
    ------
    DatasetNotFoundError
        The files are not found and cannot be downloaded; the message lists the places
        searched and how to get the files.
    IDXError
        A file is corrupt, holds no 28 x 28 uint8 images or 0-9 uint8 labels, or images and
        labels disagree in count.
    """
    return _load_image_set(
        _FASHION, path, normalize, flatten, download, cache_dir, mirrors, as_images
    )


def load_mnist(
    path: _Path | None = None,
    normalize: bool = True,
    flatten: bool = True,
    download: bool = True,
    cache_dir: _Path | None = None,
    mirrors: Sequence[str] | None = None,
    as_images: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST (handwritten digits): 60,000 training and 10,000 test images of 28 x 28
    pixels, labels 0-9, like ``keras.datasets.mnist.load_data()``.

    Arguments, search order, download, returns and errors as in ``load_fashion_mnist``,
    with the folder name ``mnist``: ``$LUCIDNET_DATA/mnist``, ``/usr/share/datasets/mnist/``,
    ``$XDG_CACHE_HOME/lucidnet/mnist`` or ``~/.cache/lucidnet/mnist``, and the mirrors
    ``lucidnet.datasets.MIRRORS["mnist"]``.
    """
    return _load_image_set(
        _MNIST, path, normalize, flatten, download, cache_dir, mirrors, as_images
    )
