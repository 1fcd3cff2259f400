"""Model files: ``save(model, path)`` and ``load(path)``, safe to load from anyone.

A ``.lucid`` file is::

    b"LUCIDNET" | format version (1 byte) | SHA-256 of the payload (32 bytes) | payload

The payload is a NumPy ``.npz`` archive holding the arrays and, as UTF-8 bytes in the
array ``__model__.json``, a JSON description: the layers (type and constructor
arguments), the compile settings (loss, optimizer and metric names), and a list of
every array with its shape and dtype.

Why this shape:

- **No code runs on load.** JSON is data; the arrays are read with
  ``np.load(..., allow_pickle=False)``; layer types come from a fixed table of lucidnet
  classes, never from names looked up at run time. Pickle is never used.
- **Every corruption is caught.** The checksum covers every byte after the header, so a
  truncated or bit-flipped file fails before any parsing; then every array is checked
  against the JSON (missing, extra, shape, dtype) and the JSON against the layer table.
  All of these raise one error type, ``ModelFileError``, saying which part is wrong.
- **Writes are atomic.** The file is written to a temporary file in the same folder,
  flushed to disk, then renamed over the target: a crash leaves the old file or the new
  one, never half of one.

With ``include_optimizer=True`` (the default, when the model is compiled) the
optimizer's buffers (momentum, Adam's moments and step counts) are saved too, so that
``fit(..., initial_epoch=k)`` after ``load`` continues exactly where training stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from . import activations as activations_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers import Dense, Dropout, Layer
from .model import Sequential

__all__ = ["ModelFileError", "load", "save"]

MAGIC = b"LUCIDNET"
VERSION = 1
_HEADER = len(MAGIC) + 1 + 32
_JSON_KEY = "__model__.json"

# The only classes a file can name. Looking names up anywhere else would let a file pick
# what code runs.
LAYER_TYPES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Dense,
        Dropout,
        activations_module.Identity,
        activations_module.Step,
        activations_module.Sigmoid,
        activations_module.Tanh,
        activations_module.ReLU,
        activations_module.LeakyReLU,
        activations_module.Softmax,
    )
}
LOSS_TYPES: dict[str, type[losses_module.Loss]] = {
    cls.__name__: cls
    for cls in (losses_module.MSE, losses_module.BinaryCrossEntropy, losses_module.CrossEntropy)
}
OPTIMIZER_TYPES: dict[str, type[optimizers_module.Optimizer]] = {
    cls.__name__: cls
    for cls in (
        optimizers_module.SGD,
        optimizers_module.RMSprop,
        optimizers_module.Adam,
        optimizers_module.AdamW,
    )
}


class ModelFileError(ValueError):
    """A model file is damaged, malformed, or describes something lucidnet cannot build."""


# --- save -------------------------------------------------------------------------------


def _metric_names(model: Sequential) -> list[str]:
    names = []
    for name, fn in model.metrics:
        if metrics_module._REGISTRY.get(name) is not fn:
            raise ValueError(
                f"save: metric {name!r} is a custom function; model files store only the "
                "built-in metric names. Compile without it before saving, or re-add it "
                "after loading."
            )
        names.append(name)
    return names


def save(model: Sequential, path: str | os.PathLike, include_optimizer: bool = True) -> None:
    """Write ``model`` to ``path`` atomically (see the module docstring for the format)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"save: expected a Sequential, got {type(model).__name__}")
    arrays: dict[str, np.ndarray] = {}
    layers = []
    for i, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if LAYER_TYPES.get(kind) is not type(layer):
            raise ValueError(f"save: layer {i} ({kind}) is not a built-in lucidnet layer")
        layers.append({"type": kind, "config": layer.get_config()})
        for p in layer.parameters():
            arrays[f"layers/{i}/{p.name}"] = p.value
    description: dict[str, Any] = {
        "format": "lucidnet-model",
        "version": VERSION,
        "lucidnet_version": __version__,
        "layers": layers,
        "compile": None,
        "optimizer_state": None,
    }
    if model.loss is not None and model.optimizer is not None:
        optimizer = model.optimizer
        description["compile"] = {
            "loss": {"type": type(model.loss).__name__, "config": model.loss.get_config()},
            "optimizer": {"type": type(optimizer).__name__, "config": optimizer.get_config()},
            "metrics": _metric_names(model),
        }
        if include_optimizer:
            state = optimizer.get_state()
            description["optimizer_state"] = {
                "iterations": optimizer.iterations,
                "buffers": {name: sorted(buffers) for name, buffers in state.items()},
            }
            for name, buffers in state.items():
                for key, buf in buffers.items():
                    arrays[f"optimizer/{name}/{key}"] = buf
    description["arrays"] = {
        key: {"shape": list(a.shape), "dtype": a.dtype.name} for key, a in arrays.items()
    }
    payload = io.BytesIO()
    blob = np.frombuffer(json.dumps(description, indent=1).encode("utf-8"), dtype=np.uint8)
    np.savez(payload, **{_JSON_KEY: blob}, **arrays)
    body = payload.getvalue()
    header = MAGIC + bytes([VERSION]) + hashlib.sha256(body).digest()
    _write_atomically(Path(path), header + body)


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file in the target's folder, fsync, rename over the target, fsync the
    folder. Through a symlink, the file it points to is replaced and the link kept."""
    target = path.resolve()
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot save {path}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as a plain open() would (mkstemp makes it 0600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable, where possible
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --- load -------------------------------------------------------------------------------

MAX_LAYERS = 10_000  # far beyond any real Sequential; bounds the work a crafted file can ask
_ARRAY_DTYPES = {"float32", "float64", "int64", "uint8"}


def _fail(path: Path, problem: str) -> ModelFileError:
    return ModelFileError(f"{path}: {problem}")


def load(path: str | os.PathLike) -> Sequential:
    """Read a model written by ``save``: layers, weights, and (if saved) compile settings
    and optimizer state.

    Raises ``FileNotFoundError`` if there is no such file and ``ModelFileError`` for
    anything else wrong with it. The checks run before anything big is allocated: the
    arrays must be stored uncompressed (as ``save`` writes them), so the file's size
    bounds the memory a load can take.
    """
    path = Path(path)
    try:
        return _load(path)
    except (ModelFileError, FileNotFoundError):
        raise
    except Exception as err:  # a safety net at the trust boundary; the checks have messages
        raise _fail(path, f"cannot be read ({type(err).__name__}: {err})") from None


def _load(path: Path) -> Sequential:
    description, arrays = _read_payload(path)
    if description.get("version") != VERSION:
        raise _fail(path, f"description version {description.get('version')!r} not supported")
    _check_arrays(path, description, arrays)
    specs = description.get("layers")
    if not isinstance(specs, list) or not specs:
        raise _fail(path, "the description lists no layers")
    if len(specs) > MAX_LAYERS:
        raise _fail(path, f"{len(specs)} layers is more than the {MAX_LAYERS} allowed")
    layers = [_build_layer(path, i, spec, arrays) for i, spec in enumerate(specs)]
    try:
        model = Sequential(layers)
    except (TypeError, ValueError) as err:
        raise _fail(path, f"the layers do not fit together ({err})") from None
    used = {_JSON_KEY}
    for i, layer in enumerate(model.layers):
        for p in layer.parameters():
            key = f"layers/{i}/{p.name}"
            np.copyto(p.value, arrays[key])  # shapes and dtypes were checked in _build_layer
            used.add(key)
    _restore_compile(path, model, description, arrays, used)
    unused = sorted(set(arrays) - used)
    if unused:
        raise _fail(path, f"array {unused[0]!r} belongs to no layer or optimizer")
    return model


def _read_payload(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if path.exists() and not path.is_file():
        raise _fail(path, "not a regular file")
    data = path.read_bytes()
    if len(data) < _HEADER or not data.startswith(MAGIC):
        raise _fail(path, "not a lucidnet model file (no LUCIDNET header)")
    if data[len(MAGIC)] != VERSION:
        raise _fail(path, f"format version {data[len(MAGIC)]} is not supported (only {VERSION})")
    digest, body = data[len(MAGIC) + 1 : _HEADER], data[_HEADER:]
    if hashlib.sha256(body).digest() != digest:
        raise _fail(path, "checksum mismatch: the file is truncated or damaged")
    arrays = _read_arrays(path, body)
    blob = arrays.pop(_JSON_KEY, None)
    if blob is None or blob.dtype != np.uint8 or blob.ndim != 1:
        raise _fail(path, f"the description {_JSON_KEY} is missing")
    try:
        description = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _fail(path, f"the description is not valid JSON ({err})") from None
    if not isinstance(description, dict) or description.get("format") != "lucidnet-model":
        raise _fail(path, "the description is not a lucidnet model")
    return description, arrays


def _read_arrays(path: Path, body: bytes) -> dict[str, np.ndarray]:
    """The ``.npy`` members of the archive, each header checked before its data is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as err:
        raise _fail(path, f"the array archive cannot be read ({err})") from None
    arrays: dict[str, np.ndarray] = {}
    with archive:
        for info in archive.infolist():
            where = f"archive member {info.filename!r}"
            if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(body):
                raise _fail(path, f"{where} is compressed; lucidnet stores arrays uncompressed")
            if not info.filename.endswith(".npy") or info.filename[:-4] in arrays:
                raise _fail(path, f"{where} is not a single .npy array")
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in ((1, 0), (2, 0)):
                    raise _fail(path, f"{where} has .npy format {version}, not one lucidnet writes")
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                if dtype.name not in _ARRAY_DTYPES or dtype.byteorder == ">":
                    raise _fail(path, f"{where} has dtype {dtype.str}, not one lucidnet writes")
                if int(np.prod(shape, dtype=np.float64)) * dtype.itemsize > info.file_size:
                    raise _fail(path, f"{where} claims shape {shape}, more than it holds")
            with archive.open(info) as member:
                arrays[info.filename[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_arrays(path: Path, description: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    listed = description.get("arrays")
    if not isinstance(listed, dict):
        raise _fail(path, "the description has no array list")
    missing = sorted(set(listed) - set(arrays))
    extra = sorted(set(arrays) - set(listed))
    if missing:
        raise _fail(path, f"array {missing[0]!r} is listed but missing")
    if extra:
        raise _fail(path, f"array {extra[0]!r} is not listed in the description")
    for key, meta in listed.items():
        a = arrays[key]
        if not isinstance(meta, dict) or list(a.shape) != meta.get("shape"):
            raise _fail(path, f"array {key!r} has shape {a.shape}, listed as {meta}")
        if a.dtype.name != meta.get("dtype"):
            raise _fail(path, f"array {key!r} has dtype {a.dtype.name}, listed as {meta}")


def _build(table: dict[str, type], spec: Any, what: str, path: Path) -> Any:
    """An instance of ``table[spec["type"]](**spec["config"])``, or ModelFileError."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise _fail(path, f"{what}: malformed entry {spec!r:.200}")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in table:
        raise _fail(path, f"{what}: unknown type {kind!r:.100} (known: {', '.join(sorted(table))})")
    try:
        return table[kind](**spec.get("config", {}))
    except (TypeError, ValueError, OverflowError) as err:
        raise _fail(path, f"{what}: cannot build {kind} ({err})") from None


def _build_layer(path: Path, i: int, spec: Any, arrays: dict[str, np.ndarray]) -> Layer:
    """Layer ``i``, after checking that the file holds its parameters in the right shapes
    and dtype (so that a config cannot make us allocate more than the file holds)."""
    if isinstance(spec, dict) and spec.get("type") == "Dense":
        config = spec.get("config")
        if not isinstance(config, dict):
            raise _fail(path, f"layer {i}: malformed entry")
        n_in, n_out = config.get("in_features"), config.get("out_features")
        dtype = config.get("dtype", "float32")
        expected = {"weights": [n_in, n_out]}
        if config.get("bias", True):
            expected["bias"] = [n_out]
        for name, shape in expected.items():
            a = arrays.get(f"layers/{i}/{name}")
            if a is None:
                raise _fail(path, f"array 'layers/{i}/{name}' for layer {i} is missing")
            if list(a.shape) != shape or a.dtype.name != dtype:
                raise _fail(
                    path,
                    f"array 'layers/{i}/{name}' is {a.dtype.name}{list(a.shape)}, but layer "
                    f"{i} ({config.get('name')}) needs {dtype}{shape}",
                )
        spec = {"type": "Dense", "config": {**config, "init": "zeros"}}  # weights come next
    return _build(LAYER_TYPES, spec, f"layer {i}", path)


def _restore_compile(
    path: Path,
    model: Sequential,
    description: dict[str, Any],
    arrays: dict[str, np.ndarray],
    used: set[str],
) -> None:
    settings = description.get("compile")
    if settings is None:
        return
    if not isinstance(settings, dict):
        raise _fail(path, "compile: malformed entry")
    loss = _build(LOSS_TYPES, settings.get("loss"), "loss", path)
    optimizer = _build(OPTIMIZER_TYPES, settings.get("optimizer"), "optimizer", path)
    metrics = settings.get("metrics", [])
    if not isinstance(metrics, list) or not all(
        isinstance(m, str) and m in metrics_module._REGISTRY for m in metrics
    ):
        raise _fail(path, f"compile: unknown metrics {metrics!r:.200}")
    model.compile(loss, optimizer, metrics)
    state_spec = description.get("optimizer_state")
    if state_spec is None:
        return
    if not isinstance(state_spec, dict) or not isinstance(state_spec.get("buffers"), dict):
        raise _fail(path, "optimizer_state: malformed entry")
    parameters = {p.name: p.value for p in model.parameters()}
    state: dict[str, dict[str, np.ndarray]] = {}
    for name, keys in state_spec["buffers"].items():
        if name not in parameters or not isinstance(keys, list):
            raise _fail(path, f"optimizer_state: unknown parameter {name!r:.100}")
        state[name] = {}
        for key in keys:
            array_key = f"optimizer/{name}/{key}"
            buf = arrays.get(array_key) if isinstance(key, str) else None
            if buf is None:
                raise _fail(path, f"array {array_key!r:.200} is missing")
            value = parameters[name]
            if key == "step":  # Adam's per-parameter step count
                ok = buf.shape == () and buf.dtype == np.int64 and 0 <= int(buf) < 2**53
            else:
                ok = buf.shape == value.shape and buf.dtype == value.dtype
            if not ok:
                raise _fail(
                    path,
                    f"array {array_key!r} is {buf.dtype.name}{list(buf.shape)}, which does not "
                    f"fit {name} ({value.dtype.name}{list(value.shape)})",
                )
            state[name][key] = buf.copy()
            used.add(array_key)
    iterations = state_spec.get("iterations")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise _fail(path, f"optimizer_state: iterations {iterations!r:.100} is not a count")
    optimizer.set_state(state, model.parameters(), iterations)
