"""lucidnet.datasets.idx: read_idx on raw and gzip IDX files, and its errors."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from idxfiles import IDX_DTYPES, idx_bytes, write
from lucidnet import datasets


def _native(code):
    return np.dtype(IDX_DTYPES[code]).newbyteorder("=")


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
