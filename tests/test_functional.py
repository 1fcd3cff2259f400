"""Tests of ``lucidnet.functional``: sigmoid, softplus, logsumexp, softmax, log_softmax.

The reference values are computed here, independently of NumPy, in 60-digit decimal
arithmetic (the standard library's ``decimal``), whose exponent range (about 1e±999999)
holds ``exp(x)`` for every ``|x| <= 2000``. Each primitive must be finite and correct for
every finite float32 and float64 input, keep its dtype, and emit no RuntimeWarning (the
pytest configuration turns warnings into errors; ``_no_warnings`` below does the same
for the tests that are about warnings, so they hold under any configuration).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lucidnet import functional as F

DTYPES = [np.float32, np.float64]
PREC = 60  # decimal digits of the reference arithmetic
HUGE = 3e38  # close to float32's largest number, 3.4028235e38
LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)


@contextmanager
def _no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- references in 60-digit decimal arithmetic --------------------------------------------


def ref_sigmoid(x: float) -> float:
    """``1 / (1 + exp(-x))`` directly (the naive formula cannot overflow in Decimal)."""
    with localcontext() as ctx:
        ctx.prec = PREC
        d = Decimal(float(x))
        if d < -2000:  # sigmoid(x) < exp(x) < 1e-868: rounds to 0 in float64
            return 0.0
        if d > 2000:  # 1 - sigmoid(x) < exp(-x) < 1e-868: rounds to 1
            return 1.0
        return float(1 / (1 + (-d).exp()))


def ref_softplus(x: float) -> float:
    """``log(1 + exp(x))``; for tiny ``e = exp(x)`` the series ``e - e^2/2`` (error < e^3)."""
    with localcontext() as ctx:
        ctx.prec = PREC
        d = Decimal(float(x))
        if d > 2000:  # x + log(1 + exp(-x)) with exp(-x) < 1e-868: exactly x after rounding
            return float(d)
        if d < -2000:  # < exp(x) < 1e-868
            return 0.0
        e = d.exp()
        if e < Decimal("1e-20"):
            return float(e - e * e / 2)
        return float((1 + e).ln())


def _row_parts(row: np.ndarray) -> tuple[list[Decimal], Decimal, Decimal]:
    """``(x_i - m, m, sum_j exp(x_j - m))`` for one row, in Decimal.

    ``log(sum exp(x)) = m + log(sum exp(x - m))`` is an exact identity; with ``m = max``
    every exponent is <= 0, so Decimal's exp only underflows (to 0), never overflows.
    """
    xs = [Decimal(float(v)) for v in row]
    m = max(xs)
    shifted = [v - m for v in xs]
    return shifted, m, sum(s.exp() for s in shifted)


def ref_logsumexp(row: np.ndarray) -> float:
    with localcontext() as ctx:
        ctx.prec = PREC
        _, m, total = _row_parts(row)
        return float(m + total.ln())


def ref_softmax(row: np.ndarray) -> list[float]:
    with localcontext() as ctx:
        ctx.prec = PREC
        shifted, _, total = _row_parts(row)
        return [float(s.exp() / total) for s in shifted]


def ref_log_softmax(row: np.ndarray) -> list[float]:
    with localcontext() as ctx:
        ctx.prec = PREC
        shifted, _, total = _row_parts(row)
        return [float(s - total.ln()) for s in shifted]  # float() gives -inf past 1.8e308


def reference(name: str, x: np.ndarray) -> np.ndarray:
    """The float64 reference of ``functional.<name>(x)`` over the last axis."""
    x = np.asarray(x)
    if name == "sigmoid":
        return np.array([ref_sigmoid(v) for v in x.ravel()]).reshape(x.shape)
    if name == "softplus":
        return np.array([ref_softplus(v) for v in x.ravel()]).reshape(x.shape)
    rows = x.reshape(-1, x.shape[-1])
    if name == "logsumexp":
        return np.array([ref_logsumexp(r) for r in rows]).reshape(x.shape[:-1])
    if name == "softmax":
        return np.array([ref_softmax(r) for r in rows]).reshape(x.shape)
    return np.array([ref_log_softmax(r) for r in rows]).reshape(x.shape)


def assert_matches(got: np.ndarray, ref: np.ndarray, dtype: type, scale: object = 0.0) -> None:
    """``got`` has ``dtype`` and equals ``ref`` to a few units of ``dtype``'s precision.

    The tolerance is ``16 eps (|ref| + scale) + 16 tiny``: relative for most values,
    absolute (``scale``) where the true value comes from cancelling large terms, and a
    few smallest-normal numbers for results in the subnormal range. Where ``|ref|`` is
    beyond the dtype's largest number the correctly rounded answer is ``+-inf`` (the
    largest finite number is accepted too, within rounding).
    """
    got = np.asarray(got)
    assert got.dtype == np.dtype(dtype), f"dtype {got.dtype}, expected {np.dtype(dtype)}"
    info = np.finfo(dtype)
    ref = np.broadcast_to(np.asarray(ref, dtype=np.float64), got.shape)
    over = np.abs(ref) > float(info.max)
    g64 = got.astype(np.float64)
    if over.any():
        g_over = g64[over]
        assert np.all(np.sign(g_over) == np.sign(ref[over]))
        assert np.all(np.abs(g_over) >= float(info.max) * (1 - 16 * float(info.eps)))
    within = ~over
    assert np.all(np.isfinite(g64[within])), f"non-finite result {got} for reference {ref}"
    eps, tiny = float(info.eps), float(info.tiny)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), got.shape)[within]
    # two separate products, each far below float64's largest number
    tol = 16 * eps * np.abs(ref[within]) + 16 * eps * scale + 16 * tiny
    err = np.abs(g64[within] - ref[within])
    assert np.all(err <= tol), f"got {got}, expected {ref}, error {err}, tolerance {tol}"


def call(name: str, x: np.ndarray) -> np.ndarray:
    return getattr(F, name)(x)


def scale_for(name: str, x: np.ndarray, ref: np.ndarray) -> object:
    """The absolute error scale of each function (see ``assert_matches``).

    logsumexp = m + log(s) and log_softmax = (x - m) - log(s) subtract large terms that
    may cancel; softmax normalises by a sum of up to n terms.
    """
    x64 = np.asarray(x, dtype=np.float64)
    n = x64.shape[-1] if x64.ndim else 1
    if name == "logsumexp":
        return np.max(np.abs(x64), axis=-1) + math.log(n) + 1
    if name == "log_softmax":
        # |x - m| <= 2 max(|x|, |m|), and rounding x - m costs half an eps of that
        m = np.max(x64, axis=-1, keepdims=True)
        return np.maximum(np.abs(x64), np.abs(m)) + math.log(n) + 1
    if name == "softmax":
        return float(n)
    return 0.0


FUNCTIONS = ["sigmoid", "softplus", "logsumexp", "softmax", "log_softmax"]


# --- hand-worked values -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_hand_worked_values(dtype: type) -> None:
    tol = {"rtol": 4 * float(np.finfo(dtype).eps), "atol": 4 * float(np.finfo(dtype).eps)}

    def arr(*values: float) -> np.ndarray:
        return np.array(values, dtype=dtype)

    # sigmoid(0) = 1 / (1 + e^0) = 1 / 2
    np.testing.assert_allclose(F.sigmoid(arr(0.0)), [0.5], **tol)
    # sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4 and sigmoid(-ln 3) = 1 / (1 + 3) = 1/4
    np.testing.assert_allclose(F.sigmoid(arr(LN3, -LN3)), [0.75, 0.25], **tol)
    # sigmoid(1.36): e^-1.36 = 0.256661..., 1 / 1.256661... = 0.795757... ≈ 0.7958
    assert abs(float(F.sigmoid(arr(1.36))[0]) - 0.7958) < 1e-4
    # softplus(0) = ln(1 + 1) = ln 2; softplus(ln 3) = ln(1 + 3) = ln 4;
    # softplus(-ln 3) = ln(1 + 1/3) = ln 4 - ln 3
    np.testing.assert_allclose(F.softplus(arr(0.0, LN3, -LN3)), [LN2, LN4, LN4 - LN3], **tol)
    # logsumexp([0, ln 3]) = ln(1 + 3) = ln 4; logsumexp([5, 5, 5, 5]) = 5 + ln(4)
    np.testing.assert_allclose(F.logsumexp(arr(0.0, LN3)), LN4, **tol)
    np.testing.assert_allclose(F.logsumexp(arr(5.0, 5.0, 5.0, 5.0)), 5 + LN4, **tol)
    # softmax([0, ln 3]) = [1, 3] / (1 + 3) = [0.25, 0.75]
    np.testing.assert_allclose(F.softmax(arr(0.0, LN3)), [0.25, 0.75], **tol)
    # softmax([0, ln 2, ln 5]) = [1, 2, 5] / 8
    np.testing.assert_allclose(F.softmax(arr(0.0, LN2, math.log(5))), [0.125, 0.25, 0.625], **tol)
    # log_softmax([0, ln 3]) = [0, ln 3] - ln 4 = [-ln 4, ln(3/4)]
    np.testing.assert_allclose(F.log_softmax(arr(0.0, LN3)), [-LN4, LN3 - LN4], **tol)


# --- extreme inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_softplus_at_extremes(dtype: type) -> None:
    x = np.array([-HUGE, -1e4, 0.0, 1e4, HUGE], dtype=dtype)
    with _no_warnings():
        s = F.sigmoid(x)
        sp = F.softplus(x)
    # sigmoid(-1e4) = 1 / (1 + e^1e4) ≈ e^-1e4 ≈ 1e-4343 rounds to 0; sigmoid(1e4) rounds to 1
    np.testing.assert_array_equal(s, np.array([0.0, 0.0, 0.5, 1.0, 1.0], dtype=dtype))
    # softplus(x) = x + ln(1 + e^-x) ≈ x for x >> 0, ≈ e^x ≈ 0 for x << 0, ln 2 at 0
    expected_sp = np.array([0.0, 0.0, LN2, 1e4, HUGE], dtype=dtype)
    np.testing.assert_allclose(sp, expected_sp, rtol=2 * float(np.finfo(dtype).eps), atol=0)
    assert s.dtype == dtype and sp.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_row_functions_at_extremes(dtype: type) -> None:
    rows = np.array(
        [
            [HUGE, -HUGE],
            [-HUGE, HUGE],
            [HUGE, HUGE],
            [-HUGE, -HUGE],
            [1e4, -1e4],
            [1e4, 1e4],
        ],
        dtype=dtype,
    )
    with _no_warnings():
        lse = F.logsumexp(rows)
        sm = F.softmax(rows)
        lsm = F.log_softmax(rows)
    assert lse.dtype == sm.dtype == lsm.dtype == dtype
    eps = float(np.finfo(dtype).eps)
    # logsumexp = max + ln(sum e^(x - max)): [3e38, -3e38] -> 3e38 + ln(1 + 0) = 3e38;
    # [3e38, 3e38] -> 3e38 + ln 2, and ln 2 is far below half an ulp of 3e38.
    f = np.finfo(dtype).dtype.type
    np.testing.assert_array_equal(lse[:4], [f(HUGE), f(HUGE), f(HUGE), f(-HUGE)])
    np.testing.assert_allclose(lse[4:], [1e4, 1e4 + LN2], rtol=4 * eps)
    # softmax: the larger entry takes everything (e^-6e38 = 0), equal entries share
    np.testing.assert_allclose(
        sm, [[1, 0], [0, 1], [0.5, 0.5], [0.5, 0.5], [1, 0], [0.5, 0.5]], rtol=0, atol=4 * eps
    )
    # log_softmax([3e38, -3e38]) = [0, -6e38] - ln(1 + e^-6e38) = [0, -6e38].
    # -6e38 is beyond float32's largest number (3.4028235e38), so in float32 the
    # correctly rounded value is -inf; float64 holds it.
    if dtype == np.float64:
        np.testing.assert_allclose(lsm[0], [0.0, -6e38], rtol=4 * eps)
        np.testing.assert_allclose(lsm[1], [-6e38, 0.0], rtol=4 * eps)
    else:
        np.testing.assert_array_equal(lsm[0], np.array([0.0, -np.inf], dtype=dtype))
        np.testing.assert_array_equal(lsm[1], np.array([-np.inf, 0.0], dtype=dtype))
    # equal rows: log(1/2) = -ln 2 each; [1e4, -1e4] -> [0, -2e4]
    np.testing.assert_allclose(lsm[2:4], np.full((2, 2), -LN2), rtol=4 * eps)
    np.testing.assert_allclose(lsm[4], [0.0, -2e4], rtol=4 * eps, atol=4 * eps)
    np.testing.assert_allclose(lsm[5], [-LN2, -LN2], rtol=4 * eps)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_grid_of_magnitudes_matches_reference(name: str, dtype: type) -> None:
    """Every pair from a grid of tiny to huge magnitudes, as rows, against the reference."""
    info = np.finfo(dtype)
    mags = [0.0, 1e-30, 0.5, 1.0, 20.0, 100.0, 800.0, 1e4, HUGE, float(info.max)]
    grid = np.array(sorted({s * m for m in mags for s in (1.0, -1.0)}), dtype=dtype)
    x = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    with _no_warnings():
        got = call(name, x)
    ref = reference(name, x)
    assert_matches(got, ref, dtype, scale_for(name, x, ref))


# --- properties on random finite inputs -------------------------------------------------------


def finite(dtype: type) -> st.SearchStrategy[float]:
    width = 32 if dtype == np.float32 else 64
    return st.floats(allow_nan=False, allow_infinity=False, width=width)


def finite_arrays(min_dims: int = 1) -> st.SearchStrategy[np.ndarray]:
    """float32 or float64 arrays of 1 or 2 dimensions (sides 1 to 6), every element finite."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=2, min_side=1, max_side=6)
    return st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(dt, shapes, elements=finite(dt)))


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


@PROPERTY_SETTINGS
@given(x=finite_arrays(), name=st.sampled_from(FUNCTIONS))
def test_matches_reference_for_any_finite_input(x: np.ndarray, name: str) -> None:
    with _no_warnings():
        got = call(name, x)
    ref = reference(name, x)
    assert_matches(got, ref, x.dtype.type, scale_for(name, x, ref))


@PROPERTY_SETTINGS
@given(x=finite_arrays())
def test_sigmoid_properties(x: np.ndarray) -> None:
    eps = float(np.finfo(x.dtype).eps)
    with _no_warnings():
        s, s_neg = F.sigmoid(x), F.sigmoid(-x)
    assert s.dtype == x.dtype and s.shape == x.shape
    assert np.all((s >= 0) & (s <= 1))
    # sigmoid(-x) = e^-x / (1 + e^-x) = 1 - 1 / (1 + e^-x) = 1 - sigmoid(x)
    np.testing.assert_allclose(s_neg, 1 - s, rtol=0, atol=4 * eps)
    # monotone: x <= x' implies sigmoid(x) <= sigmoid(x')
    order = np.argsort(x.ravel(), kind="stable")
    assert np.all(np.diff(s.ravel()[order].astype(np.float64)) >= 0)


@PROPERTY_SETTINGS
@given(x=finite_arrays())
def test_softplus_properties(x: np.ndarray) -> None:
    eps = float(np.finfo(x.dtype).eps)
    with _no_warnings():
        sp, sp_neg = F.softplus(x), F.softplus(-x)
    assert sp.dtype == x.dtype and sp.shape == x.shape
    assert np.all(np.isfinite(sp))
    x64, sp64 = x.astype(np.float64), sp.astype(np.float64)
    # softplus(x) - softplus(-x) = ln((1 + e^x) / (1 + e^-x)) = ln(e^x) = x
    np.testing.assert_allclose(sp64 - sp_neg.astype(np.float64), x64, rtol=4 * eps, atol=4 * eps)
    # max(x, 0) <= softplus(x) = max(x, 0) + ln(1 + e^-|x|) <= max(x, 0) + ln 2
    # (written as differences, which cannot overflow near float64's largest number)
    relu = np.maximum(x64, 0)
    assert np.all(sp64 - relu >= -2 * eps * relu)
    assert np.all(sp64 - relu <= LN2 * (1 + 2 * eps) + 2 * eps * relu)


@PROPERTY_SETTINGS
@given(x=finite_arrays())
def test_logsumexp_properties(x: np.ndarray) -> None:
    eps = float(np.finfo(x.dtype).eps)
    with _no_warnings():
        lse = F.logsumexp(x)
        lse_keep = F.logsumexp(x, keepdims=True)
    assert lse.dtype == x.dtype and lse.shape == x.shape[:-1]
    assert lse_keep.shape == (*x.shape[:-1], 1)
    np.testing.assert_array_equal(lse_keep[..., 0], lse)
    assert np.all(np.isfinite(lse))
    # max <= logsumexp = max + ln(sum e^(x - max)) <= max + ln(n), the sum being in [1, n]
    # (written as differences, which cannot overflow near float64's largest number)
    m = np.max(x, axis=-1).astype(np.float64)
    above_max = lse.astype(np.float64) - m
    slack = 4 * eps * np.abs(m) + 4 * eps
    assert np.all(above_max >= -slack)
    assert np.all(above_max <= math.log(x.shape[-1]) + slack)


@PROPERTY_SETTINGS
@given(x=finite_arrays())
def test_softmax_and_log_softmax_properties(x: np.ndarray) -> None:
    eps = float(np.finfo(x.dtype).eps)
    tiny = float(np.finfo(x.dtype).tiny)
    with _no_warnings():
        p = F.softmax(x)
        log_p = F.log_softmax(x)
    assert p.dtype == log_p.dtype == x.dtype and p.shape == log_p.shape == x.shape
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(np.sum(p.astype(np.float64), axis=-1), 1.0, atol=8 * eps)
    assert np.all(~np.isnan(log_p)) and np.all(log_p <= 0)
    # log_softmax = log(softmax) wherever softmax is a normal number (log(0) = -inf aside,
    # and subnormal results have fewer significant digits)
    normal = p > tiny
    log_of_p = np.log(p[normal].astype(np.float64))
    scale = np.abs(log_of_p) + 1
    assert np.all(np.abs(log_p[normal].astype(np.float64) - log_of_p) <= 16 * eps * scale)


# --- dtype, shape and axis ----------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_is_kept(name: str, dtype: type) -> None:
    x = np.array([[0.5, -2.0, 3.0], [1e4, -1e4, 0.0]], dtype=dtype)
    out = call(name, x)
    assert out.dtype == dtype
    assert out.shape == ((2,) if name == "logsumexp" else (2, 3))


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_axis_argument(name: str) -> None:
    x = np.random.default_rng(0).normal(size=(3, 4)) * 10
    along_rows = getattr(F, name)(x, axis=0)
    np.testing.assert_allclose(along_rows, getattr(F, name)(x.T).T, rtol=1e-15)
    np.testing.assert_allclose(along_rows, reference(name, x.T).T, rtol=1e-13, atol=1e-13)


def test_integer_input_is_computed_in_float64() -> None:
    # sigmoid([0, 1, -3]) = [0.5, 1 / (1 + e^-1), 1 / (1 + e^3)] = [0.5, 0.7311, 0.0474]
    np.testing.assert_allclose(
        F.sigmoid(np.array([0, 1, -3])), [0.5, 0.731059, 0.047426], atol=1e-6
    )
    assert F.softplus(np.array([0])).dtype == np.float64
    np.testing.assert_allclose(F.softmax(np.array([[0, 0]])), [[0.5, 0.5]])


@pytest.mark.parametrize("shape", [(200, 10), (64, 2), (100, 32), (100, 33), (3, 10)])
def test_many_rows_few_columns_take_the_column_loop_and_agree(shape) -> None:
    # (n >= 64, classes <= 32) reduces with np.maximum over columns and a product with ones;
    # the results must match the plain np.max / np.sum formulas
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 30
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(F.softmax(x), e / s, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(F.log_softmax(x), x - m - np.log(s), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(F.logsumexp(x), (m + np.log(s))[:, 0], rtol=1e-6)
    nan_row = x.copy()
    nan_row[-1, 1] = np.nan
    with np.errstate(invalid="ignore"):
        assert np.isnan(F.softmax(nan_row)[-1]).all()  # NaN propagates as with np.max
