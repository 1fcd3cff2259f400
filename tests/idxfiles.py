"""Shared by test_idx.py and test_images.py: IDX files written without lucidnet's reader."""

import gzip
import struct

import numpy as np

# type code -> dtype as stored in the file (big-endian), written independently of the module
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array, code=0x08):
    """An IDX file's bytes: 00 00, type code, number of dims, big-endian sizes, data."""
    array = np.asarray(array)
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(IDX_DTYPES[code]).tobytes()


def write(path, data, compress=False):
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path
