"""Model files: ``save(model, path)`` and ``load(path)``, safe to load from anyone.

A ``.lucid`` file is::

    b"LUCIDNET" | format version (1 byte) | SHA-256 of the payload (32 bytes) | payload

The payload is a NumPy ``.npz`` archive holding the arrays and, as UTF-8 bytes in the
array ``__model__.json``, a JSON description: the layers (type and constructor
arguments), the model's input shape, the compile settings (loss, optimizer and metric
names), ``model.info`` (JSON data: the data contract of the CLI, where training stands),
and a list of every array with its shape and dtype.

Why this shape:

- **No code runs on load.** JSON is data; the arrays are read with
  ``np.load(..., allow_pickle=False)``; layer types come from a fixed table of lucidnet
  classes, or from the classes the caller passes as ``custom_objects``, never from names
  looked up at run time. Pickle is never used.
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
from . import layers as layers_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers import Layer
from .model import Sequential

__all__ = ["ModelFileError", "load", "save"]

MAGIC = b"LUCIDNET"
VERSION = 1
_HEADER = len(MAGIC) + 1 + 32
_JSON_KEY = "__model__.json"

# The only classes a file can name: the family tables (read when a file is saved or
# loaded, so a class registered later counts), plus the layer classes the caller of
# ``load`` passes as ``custom_objects``. Looking names up anywhere else would let a file
# pick what code runs.


class ModelFileError(ValueError):
    """A model file is damaged, malformed, or describes something lucidnet cannot build."""


# --- save -------------------------------------------------------------------------------


def _metric_names(model: Sequential) -> list[str]:
    names = []
    for name, fn in model.metrics:
        if name not in metrics_module.names() or metrics_module.REGISTRY.lookup(name) is not fn:
            raise ValueError(
                f"save: metric {name!r} is a custom function; model files store only the "
                "built-in metric names. Compile without it before saving, or re-add it "
                "after loading."
            )
        names.append(name)
    return names


def _info_json(model: Sequential) -> dict[str, Any]:
    """``model.info``, checked to be JSON data (it is stored as it is)."""
    info = model.info
    if not isinstance(info, dict):
        raise ValueError(f"save: model.info must be a dict, got {type(info).__name__}")
    try:
        json.dumps(info, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"save: model.info must hold only JSON data ({err})") from None
    return info


def save(model: Sequential, path: str | os.PathLike, include_optimizer: bool = True) -> None:
    """Write ``model`` to ``path`` atomically (see the module docstring for the format)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"save: expected a Sequential, got {type(model).__name__}")
    arrays: dict[str, np.ndarray] = {}
    layers = []
    layer_types = layers_module.REGISTRY.classes()
    for i, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if layer_types.get(kind, type(layer)) is not type(layer):
            raise ValueError(
                f"save: layer {i} ({layer.name}) is a {type(layer).__module__}.{kind}, not "
                f"lucidnet's {kind}; give the class another name"
            )
        layers.append({"type": kind, "config": layer.get_config()})
        for local, p in layer._parameters.items():
            arrays[f"layers/{i}/{local}"] = p.value
        for local, b in layer._buffers.items():
            arrays[f"layers/{i}/{local}"] = b.value
    description: dict[str, Any] = {
        "format": "lucidnet-model",
        "version": VERSION,
        "lucidnet_version": __version__,
        "layers": layers,
        "input_shape": None if model.input_shape is None else list(model.input_shape),
        "compile": None,
        "optimizer_state": None,
        "info": _info_json(model),
    }
    if model.loss is not None and model.optimizer is not None:
        optimizer = model.optimizer
        for what, obj, family in (
            ("loss", model.loss, losses_module.REGISTRY),
            ("optimizer", optimizer, optimizers_module.REGISTRY),
        ):
            kind = type(obj).__name__
            if family.classes().get(kind) is not type(obj):
                raise ValueError(
                    f"save: the {what} {type(obj).__module__}.{kind} is not one of lucidnet's "
                    f"({', '.join(sorted(family.classes()))}); a file can only name those. "
                    "Compile with a built-in one before saving, or save without compile "
                    "settings by compiling afterwards"
                )
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


def load(
    path: str | os.PathLike, custom_objects: dict[str, type[Layer]] | None = None
) -> Sequential:
    """Read a model written by ``save``: layers, weights, buffers, and (if saved) compile
    settings and optimizer state.

    ``custom_objects`` maps class names to your own ``Layer`` subclasses
    (``{"MyLayer": MyLayer}``): the file names a class, but only the classes you pass (and
    lucidnet's own) can be built. A layer class is rebuilt with
    ``cls.from_config(config)`` (by default ``cls(**config)``), then its parameters and
    buffers are filled from the file.

    Raises ``FileNotFoundError`` if there is no such file and ``ModelFileError`` for
    anything else wrong with it. The checks run before anything big is allocated: the
    arrays must be stored uncompressed (as ``save`` writes them), so the file's size
    bounds the memory a load can take.
    """
    path = Path(path)
    builtin = layers_module.REGISTRY.classes()
    table = dict(builtin)
    for name, cls in (custom_objects or {}).items():
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise TypeError(f"load: custom_objects[{name!r}] must be a Layer subclass, got {cls!r}")
        if builtin.get(name, cls) is not cls:
            raise ValueError(f"load: custom_objects[{name!r}] would replace lucidnet's {name}")
        table[name] = cls
    try:
        return _load(path, table)
    except (ModelFileError, FileNotFoundError):
        raise
    except Exception as err:  # a safety net at the trust boundary; the checks have messages
        raise _fail(path, f"cannot be read ({type(err).__name__}: {err})") from None


def _load(path: Path, table: dict[str, type[Layer]]) -> Sequential:
    description, arrays = _read_payload(path)
    if description.get("version") != VERSION:
        raise _fail(path, f"description version {description.get('version')!r} not supported")
    _check_arrays(path, description, arrays)
    specs = description.get("layers")
    if not isinstance(specs, list) or not specs:
        raise _fail(path, "the description lists no layers")
    if len(specs) > MAX_LAYERS:
        raise _fail(path, f"{len(specs)} layers is more than the {MAX_LAYERS} allowed")
    layers = [_build_layer(path, i, spec, arrays, table) for i, spec in enumerate(specs)]
    input_shape = description.get("input_shape")
    if input_shape is not None and not (
        isinstance(input_shape, list)
        and 0 < len(input_shape) <= 32
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in input_shape)
    ):
        raise _fail(path, f"input_shape {input_shape!r:.100} is not a list of sizes >= 1")
    try:
        model = Sequential(layers, input_shape=input_shape)
    except (TypeError, ValueError) as err:
        raise _fail(path, f"the layers do not fit together ({err})") from None
    used = {_JSON_KEY}
    for i, layer in enumerate(model.layers):
        for local, a in [*layer._parameters.items(), *layer._buffers.items()]:
            key = f"layers/{i}/{local}"
            np.copyto(a.value, arrays[key])  # shapes and dtypes were checked in _build_layer
            used.add(key)
    _restore_compile(path, model, description, arrays, used)
    info = description.get("info", {})  # files written before ``info`` existed have none
    if not isinstance(info, dict) or not all(isinstance(k, str) for k in info):
        raise _fail(path, f"info: expected a JSON object, got {type(info).__name__}")
    model.info = info
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


def _build_layer(
    path: Path, i: int, spec: Any, arrays: dict[str, np.ndarray], table: dict[str, type[Layer]]
) -> Layer:
    """Layer ``i``, after checking that the file holds its arrays in the right shapes and
    dtype: before building, from the class's ``array_shapes(config)`` where it gives them
    (so that a config cannot make us allocate more than the file holds), and after."""
    where = f"layer {i}"
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise _fail(path, f"{where}: malformed entry {spec!r:.200}")
    kind, config = spec.get("type"), spec.get("config", {})
    if not isinstance(kind, str) or kind not in table:
        known = ", ".join(sorted(table))
        raise _fail(
            path,
            f"{where}: unknown type {kind!r:.100} (known: {known}); for a layer class of your "
            "own, pass load(path, custom_objects={name: class})",
        )
    cls = table[kind]
    dtype = config.get("dtype")  # None: the config does not record it (checked after)
    expected = cls.array_shapes(config) or {}
    for name, shape in expected.items():
        a = arrays.get(f"layers/{i}/{name}")
        if a is None:
            raise _fail(path, f"array 'layers/{i}/{name}' for {where} is missing")
        if a.shape != tuple(shape) or (dtype is not None and a.dtype.name != dtype):
            raise _fail(
                path,
                f"array 'layers/{i}/{name}' is {a.dtype.name}{list(a.shape)}, but {where} "
                f"({config.get('name')}) needs {dtype or a.dtype.name}{list(shape)}",
            )
    try:
        layer = cls.from_config(config)
    except (TypeError, ValueError, OverflowError) as err:
        raise _fail(path, f"{where}: cannot build {kind} ({err})") from None
    if not isinstance(layer, Layer):
        raise _fail(path, f"{where}: {kind}.from_config returned {type(layer).__name__}")
    stored = {
        arrays[key].dtype
        for key in (f"layers/{i}/{local}" for local in [*layer._parameters, *layer._buffers])
        if key in arrays
    }
    if len(stored) == 1 and layer.dtype is not None and stored != {layer.dtype}:
        # a layer whose config does not record its dtype, saved after astype
        (dtype,) = stored
        if dtype.kind == "f":
            layer.astype(dtype)
    for local, a in [*layer._parameters.items(), *layer._buffers.items()]:
        stored = arrays.get(f"layers/{i}/{local}")
        if stored is None:
            raise _fail(path, f"array 'layers/{i}/{local}' for {where} ({layer.name}) is missing")
        if stored.shape != a.value.shape or stored.dtype != a.value.dtype:
            raise _fail(
                path,
                f"array 'layers/{i}/{local}' is {stored.dtype.name}{list(stored.shape)}, but "
                f"{where} ({layer.name}) needs {a.value.dtype.name}{list(a.value.shape)}",
            )
    return layer


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
    loss = _build(losses_module.REGISTRY.classes(), settings.get("loss"), "loss", path)
    optimizer = _build(
        optimizers_module.REGISTRY.classes(), settings.get("optimizer"), "optimizer", path
    )
    metrics = settings.get("metrics", [])
    if not isinstance(metrics, list) or not all(
        isinstance(m, str) and m in metrics_module.names() for m in metrics
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
