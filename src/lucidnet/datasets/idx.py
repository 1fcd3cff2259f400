"""The IDX file format of MNIST (raw or gzip): ``read_idx``, checked byte by byte."""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXError", "read_idx"]

_Path = str | os.PathLike[str]


class IDXError(ValueError):
    """An IDX file (or a set of them) whose content is not what it must be."""


# type code -> dtype as stored; multi-byte types are big-endian
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _idx_type_list() -> str:
    return ", ".join(
        f"0x{code:02X} ({dt.newbyteorder('=').name})" for code, dt in _IDX_TYPES.items()
    )


def read_idx(path: _Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), raw or gzip-compressed.

    Layout: two zero bytes, a type code byte (``0x08`` uint8, ``0x09`` int8, ``0x0B``
    int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), a byte ``d`` with the
    number of dimensions, then ``d`` big-endian uint32 sizes ``s_1 .. s_d``, then exactly
    ``s_1 * ... * s_d * itemsize`` bytes of data, big-endian. A gzip stream is recognised
    by its magic bytes ``1f 8b``, whatever the file's name.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    ndarray of shape (s_1, ..., s_d), in native byte order, writable.

    Raises
    ------
    IDXError
        The content is wrong: bad magic, unknown type code, no dimensions, a truncated
        header or data, trailing bytes, a corrupt or truncated gzip stream. The message
        names the file.
    FileNotFoundError
        There is no such file.
    """
    path = Path(path)
    data = path.read_bytes()
    what = "the file has"
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise IDXError(f"{path}: corrupt or truncated gzip stream ({err})") from err
        what = "the decompressed data has"
    if len(data) < 4:
        raise IDXError(
            f"{path}: too short for an IDX file: {what} {len(data)} bytes, the header "
            "alone needs at least 4"
        )
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00":
        raise IDXError(
            f"{path}: not an IDX file: the first two bytes must be 00 00, got {zero.hex(' ')}"
        )
    if code not in _IDX_TYPES:
        raise IDXError(
            f"{path}: unknown IDX type code 0x{code:02X}; expected one of {_idx_type_list()}"
        )
    if ndim == 0:
        raise IDXError(f"{path}: the IDX header declares 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header} header bytes, "
            f"{what} {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[code]
    need = math.prod(shape) * dtype.itemsize
    have = len(data) - header
    if have != need:
        kind = "truncated IDX data" if have < need else f"{have - need} trailing bytes"
        dims = " x ".join(str(s) for s in shape)
        raise IDXError(
            f"{path}: {kind}: dimensions {dims} of {dtype.newbyteorder('=').name} need "
            f"{need} data bytes after the {header}-byte header, {what} {have}"
        )
    flat = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=header)
    return flat.astype(dtype.newbyteorder("="), copy=True).reshape(shape)
