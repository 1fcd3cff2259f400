"""layers/windows.py: sizes, padding, im2col and col2im against their loop definitions.

im2col has two copy paths (per window offset below 8 channels, a strided view from 8
on): both are compared with the loops, with 1, 2 and 9 channels.
"""

import numpy as np
import pytest

from lucidnet.layers.windows import (
    col2im,
    im2col,
    pad_amounts,
    pad_image,
    pair,
    window_count,
)

# (padded height, padded width, channels, kernel, stride): square and not, strides that
# leave the last rows or columns out, a 1x1 kernel, the window as large as the image
GEOMETRIES = [
    (5, 6, 1, (3, 3), (1, 1)),
    (7, 6, 2, (3, 2), (2, 1)),
    (8, 7, 9, (2, 3), (2, 3)),
    (5, 5, 9, (3, 3), (1, 1)),
    (6, 4, 2, (1, 1), (2, 2)),
    (4, 5, 8, (4, 5), (1, 1)),
    (9, 9, 1, (3, 3), (3, 3)),
]


def _out_hw(hp, wp, kernel, stride):
    # the number of window positions, counted one by one
    counts = []
    for size, k, s in zip((hp, wp), kernel, stride, strict=True):
        counts.append(sum(1 for start in range(0, size, s) if start + k <= size))
    return tuple(counts)


def im2col_loops(xp, kernel, stride, out_hw):
    """cols[n, i, j, a, b, c] = xp[n, i*sh + a, j*sw + b, c], one number at a time."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    n_, _, _, c_ = xp.shape
    cols = np.zeros((n_, ho, wo, kh, kw, c_), dtype=xp.dtype)
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                for a in range(kh):
                    for b in range(kw):
                        for c in range(c_):
                            cols[n, i, j, a, b, c] = xp[n, i * sh + a, j * sw + b, c]
    return cols


def col2im_loops(dcols, padded_hw, stride):
    """dxp[n, i*sh + a, j*sw + b, c] += dcols[a, b, n, i, j, c], one number at a time."""
    kh, kw, n_, ho, wo, c_ = dcols.shape
    sh, sw = stride
    dxp = np.zeros((n_, *padded_hw, c_), dtype=dcols.dtype)
    for n in range(n_):
        for i in range(ho):
            for j in range(wo):
                for a in range(kh):
                    for b in range(kw):
                        for c in range(c_):
                            dxp[n, i * sh + a, j * sw + b, c] += dcols[a, b, n, i, j, c]
    return dxp


@pytest.mark.parametrize(("hp", "wp", "c", "kernel", "stride"), GEOMETRIES)
def test_im2col_matches_the_loops(hp, wp, c, kernel, stride):
    rng = np.random.default_rng(hp * 100 + wp * 10 + c)
    xp = rng.standard_normal((2, hp, wp, c))
    out_hw = _out_hw(hp, wp, kernel, stride)
    cols = im2col(xp, kernel, stride, out_hw)
    assert cols.shape == (2, *out_hw, *kernel, c)
    assert cols.flags.c_contiguous
    np.testing.assert_array_equal(cols, im2col_loops(xp, kernel, stride, out_hw))


@pytest.mark.parametrize("c", [1, 9])
def test_im2col_writes_into_the_buffer_it_is_given(c):
    rng = np.random.default_rng(c)
    xp = rng.standard_normal((2, 5, 6, c)).astype(np.float32)
    out = np.full((2, 3, 2, 3, 3, c), np.nan, dtype=np.float32)
    cols = im2col(xp, (3, 3), (1, 2), (3, 2), out=out)
    assert cols is out
    np.testing.assert_array_equal(out, im2col_loops(xp, (3, 3), (1, 2), (3, 2)))


@pytest.mark.parametrize(("hp", "wp", "c", "kernel", "stride"), GEOMETRIES)
def test_col2im_matches_the_loops(hp, wp, c, kernel, stride):
    rng = np.random.default_rng(hp * 100 + wp * 10 + c + 1)
    out_hw = _out_hw(hp, wp, kernel, stride)
    dcols = rng.standard_normal((*kernel, 2, *out_hw, c))
    dxp = col2im(dcols, (hp, wp), stride)
    assert dxp.shape == (2, hp, wp, c)
    np.testing.assert_allclose(dxp, col2im_loops(dcols, (hp, wp), stride), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("hp", "wp", "c", "kernel", "stride"), GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(hp, wp, c, kernel, stride):
    """<im2col(x), d> == <x, col2im(d)> for every x and d: col2im is im2col's transpose,
    which is what makes it the input gradient."""
    rng = np.random.default_rng(hp + wp + c)
    out_hw = _out_hw(hp, wp, kernel, stride)
    x = rng.standard_normal((3, hp, wp, c))
    d = rng.standard_normal((3, *out_hw, *kernel, c))  # im2col's layout
    left = np.sum(im2col(x, kernel, stride, out_hw) * d)
    # col2im takes the offset-major layout (kh, kw, N, Ho, Wo, C)
    right = np.sum(x * col2im(d.transpose(3, 4, 0, 1, 2, 5), (hp, wp), stride))
    assert left == pytest.approx(right, rel=1e-12)


def test_col2im_counts_each_pixel_once_per_window_covering_it():
    # 1x5 image, kernel 1x3, stride 1: windows start at 0, 1, 2; pixel 2 is in all three
    dcols = np.ones((1, 3, 1, 1, 3, 1))
    dxp = col2im(dcols, (1, 5), (1, 1))
    np.testing.assert_array_equal(dxp[0, 0, :, 0], [1, 2, 3, 2, 1])
    # stride 2 on 1x6 with kernel 1x3: windows at 0 and 2; column 5 is in none
    dxp = col2im(np.ones((1, 3, 1, 1, 2, 1)), (1, 6), (1, 2))
    np.testing.assert_array_equal(dxp[0, 0, :, 0], [1, 1, 2, 1, 1, 0])


def test_window_count_drops_a_window_that_sticks_out():
    assert window_count(11, 2, 2, 0, 0) == 5  # windows at 0, 2, 4, 6, 8; 10 would stick out
    assert window_count(7, 3, 2, 0, 0) == 3  # at 0, 2, 4
    assert window_count(5, 3, 1, 1, 1) == 5  # padded to 7: at 0..4
    assert window_count(2, 3, 1, 0, 0) == 0  # does not fit
    for size, k, s, before, after in [(10, 3, 2, 1, 0), (8, 4, 3, 2, 2), (6, 1, 4, 0, 0)]:
        padded = size + before + after
        assert window_count(size, k, s, before, after) == _out_hw(padded, 1, (k, 1), (s, 1))[0]


def test_pad_amounts_valid_and_explicit():
    assert pad_amounts("valid", 7, 3, 1, 0) == (0, 0)
    assert pad_amounts(2, 7, 3, 1, 0) == (2, 2)
    assert pad_amounts((1, 3), 7, 3, 1, 0) == (1, 1)  # height takes the first
    assert pad_amounts((1, 3), 7, 3, 1, 1) == (3, 3)  # width the second


def test_pad_amounts_same_puts_the_odd_zero_after():
    # stride 1, odd kernel: (k - 1) / 2 on each side
    assert pad_amounts("same", 7, 3, 1, 0) == (1, 1)
    assert pad_amounts("same", 7, 5, 1, 0) == (2, 2)
    # stride 1, kernel 4: 3 zeros, 1 before and 2 after (TensorFlow)
    assert pad_amounts("same", 7, 4, 1, 0) == (1, 2)
    # size 6, stride 2, kernel 3: out = 3, total = (3-1)*2 + 3 - 6 = 1 -> (0, 1)
    assert pad_amounts("same", 6, 3, 2, 0) == (0, 1)
    # size 5, stride 2, kernel 3: out = 3, total = 2*2 + 3 - 5 = 2 -> (1, 1)
    assert pad_amounts("same", 5, 3, 2, 0) == (1, 1)
    # size 7, stride 3, kernel 1: out = 3, total = 2*3 + 1 - 7 = 0
    assert pad_amounts("same", 7, 1, 3, 0) == (0, 0)


@pytest.mark.parametrize("size", range(1, 12))
@pytest.mark.parametrize(("kernel", "stride"), [(1, 1), (2, 1), (3, 1), (3, 2), (4, 2), (2, 3)])
def test_same_padding_gives_ceil_size_over_stride_positions(size, kernel, stride):
    before, after = pad_amounts("same", size, kernel, stride, 0)
    assert 0 <= after - before <= 1
    assert window_count(size, kernel, stride, before, after) == -(-size // stride)


def test_pad_image_adds_zeros_around_and_keeps_the_image():
    x = np.arange(2 * 2 * 3 * 2, dtype=np.float64).reshape(2, 2, 3, 2) + 1
    assert pad_image(x, (0, 0, 0, 0)) is x
    xp = pad_image(x, (1, 2, 0, 3))
    assert xp.shape == (2, 5, 6, 2) and xp.dtype == x.dtype
    np.testing.assert_array_equal(xp[:, 1:3, 0:3], x)
    inside = np.zeros(xp.shape, dtype=bool)
    inside[:, 1:3, 0:3] = True
    assert np.all(xp[~inside] == 0)


def test_pair():
    assert pair(3, "k") == (3, 3)
    assert pair((3, 2), "k") == (3, 2)
    assert pair([1, 4], "k") == (1, 4)
    assert pair(np.int64(2), "k") == (2, 2)
    for bad in (0, -1, (1, 2, 3), (2,), True, 1.5, "3", (2, 0)):
        with pytest.raises(ValueError, match=r"my_layer: kernel_size must be an int >= 1"):
            pair(bad, "my_layer: kernel_size")
