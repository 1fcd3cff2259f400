"""Batches: every row once per epoch, the last partial batch kept, views without
shuffling, a seeded reshuffle every epoch, and buffers reused between batches."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lucidnet.batches import Batches


def _data(n, features=3):
    # row i of x is [i*features, ..., i*features + features - 1]; y[i] = i, so a row's
    # index can be read from either array and alignment checked.
    x = np.arange(n * features, dtype=np.float64).reshape(n, features)
    y = np.arange(n)
    return x, y


def _epoch(batches):
    """Copies of one epoch's batches (the yielded arrays are reused)."""
    return [(xb.copy(), yb.copy()) for xb, yb in batches]


def _row_ids(xb, features=3):
    return (xb[:, 0] // features).astype(np.int64)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_row_once_per_epoch_and_sizes(n, batch_size, shuffle, seed):
    x, y = _data(n)
    batches = Batches(x, y, batch_size, shuffle=shuffle, rng=np.random.default_rng(seed))
    expected_len = -(-n // batch_size)  # ceil(n / batch_size)
    assert len(batches) == expected_len
    for _ in range(2):  # two epochs
        epoch = _epoch(batches)
        assert len(epoch) == expected_len
        sizes = [len(xb) for xb, _ in epoch]
        if n:
            full = min(batch_size, n)
            assert sizes[:-1] == [full] * (len(sizes) - 1)
            assert sizes[-1] == n - full * (len(sizes) - 1)
        seen = np.concatenate([yb for _, yb in epoch]) if epoch else np.array([], int)
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))
        for xb, yb in epoch:
            np.testing.assert_array_equal(_row_ids(xb), yb)  # aligned rows


def test_last_partial_batch_is_kept():
    x, y = _data(10)
    for shuffle in (False, True):
        batches = Batches(x, y, 4, shuffle=shuffle, rng=np.random.default_rng(0))
        assert len(batches) == 3
        assert [len(xb) for xb, _ in batches] == [4, 4, 2]
        assert [len(yb) for _, yb in batches] == [4, 4, 2]


def test_no_shuffle_gives_views_in_order():
    x, y = _data(10)
    batches = Batches(x, y, 4, shuffle=False)
    got = list(batches)  # views stay valid: no buffer is reused without shuffling
    starts = [0, 4, 8]
    for (xb, yb), start in zip(got, starts, strict=True):
        stop = min(start + 4, 10)
        np.testing.assert_array_equal(xb, x[start:stop])
        np.testing.assert_array_equal(yb, np.arange(start, stop))
        assert np.shares_memory(xb, x)
        assert np.shares_memory(yb, y)
    # and the same order every epoch
    again = [yb.copy() for _, yb in batches]
    np.testing.assert_array_equal(np.concatenate(again), np.arange(10))


def test_shuffle_changes_order_every_epoch():
    x, y = _data(20)
    batches = Batches(x, y, 6, shuffle=True, rng=np.random.default_rng(0))
    orders = [np.concatenate([yb for _, yb in _epoch(batches)]) for _ in range(3)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(20))
        assert not np.array_equal(order, np.arange(20))  # shuffled (20! orders)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_same_seed_same_sequence_different_seed_different():
    x, y = _data(15)

    def run(seed):
        batches = Batches(x, y, 4, shuffle=True, rng=np.random.default_rng(seed))
        return [np.concatenate([yb for _, yb in _epoch(batches)]) for _ in range(3)]

    a, b, c = run(0), run(0), run(1)
    for ea, eb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ea, eb)
    assert any(not np.array_equal(ea, ec) for ea, ec in zip(a, c, strict=True))


def test_shuffled_batches_keep_x_and_y_rows_aligned_2d_y_and_trailing_dims():
    n = 13
    x = np.arange(n * 2 * 3, dtype=np.float32).reshape(n, 2, 3)  # row i starts at 6 i
    y = np.stack([np.arange(n), -np.arange(n)], axis=1)  # (n, 2): [i, -i]
    batches = Batches(x, y, 5, shuffle=True, rng=np.random.default_rng(3))
    seen = []
    for xb, yb in batches:
        assert xb.shape[1:] == (2, 3)
        assert yb.shape[1:] == (2,)
        assert xb.dtype == np.float32
        assert yb.dtype == y.dtype
        ids = (xb[:, 0, 0] // 6).astype(np.int64)
        np.testing.assert_array_equal(yb[:, 0], ids)
        np.testing.assert_array_equal(yb[:, 1], -ids)
        np.testing.assert_array_equal(xb, x[ids])
        seen.extend(ids.tolist())
    assert sorted(seen) == list(range(n))


def test_y_one_dimensional_stays_one_dimensional():
    x, y = _data(7)
    for shuffle in (False, True):
        for _, yb in Batches(x, y, 3, shuffle=shuffle, rng=np.random.default_rng(0)):
            assert yb.ndim == 1


@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_size_larger_than_the_data(shuffle):
    x, y = _data(5)
    batches = Batches(x, y, 100, shuffle=shuffle, rng=np.random.default_rng(0))
    assert len(batches) == 1
    (xb, yb), *rest = list(batches)
    assert rest == []
    assert xb.shape == (5, 3)
    np.testing.assert_array_equal(np.sort(yb), np.arange(5))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, False, "4", None, 4.0])
def test_bad_batch_size_raises_and_echoes(bad):
    x, y = _data(10)
    with pytest.raises(ValueError, match="batch_size") as info:
        Batches(x, y, bad)
    assert repr(bad) in str(info.value)


def test_numpy_integer_batch_size_is_accepted():
    x, y = _data(10)
    assert [len(xb) for xb, _ in Batches(x, y, np.int64(4), shuffle=False)] == [4, 4, 2]


def test_mismatched_lengths_raise():
    x, _ = _data(10)
    with pytest.raises(ValueError, match="10") as info:
        Batches(x, np.arange(9), 4)
    assert "9" in str(info.value)


def test_shuffled_buffers_are_reused_valid_until_next_batch():
    # The documented contract: a yielded batch is valid only until the next is drawn.
    # Two batches of equal size are the same memory; the earlier one is overwritten.
    x, y = _data(12)
    it = iter(Batches(x, y, 4, shuffle=True, rng=np.random.default_rng(0)))
    xb1, yb1 = next(it)
    first_ids = yb1.copy()
    xb2, yb2 = next(it)
    assert np.shares_memory(xb1, xb2)
    assert np.shares_memory(yb1, yb2)
    assert not np.shares_memory(xb1, x)  # gathered copies, not views of the data
    # yb1 now holds the second batch's rows, not the first's
    np.testing.assert_array_equal(yb1, yb2)
    assert not np.array_equal(yb1, first_ids)


# --- sample weights ride with their rows --------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 30),
    batch_size=st.integers(1, 40),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_weights_travel_with_their_rows(n, batch_size, shuffle, seed):
    x, y = _data(n)
    w = np.arange(n) * 0.5 + 10.0  # row i weighs 10 + i / 2
    weighted = Batches(
        x, y, batch_size, shuffle=shuffle, rng=np.random.default_rng(seed), sample_weight=w
    )
    plain = Batches(x, y, batch_size, shuffle=shuffle, rng=np.random.default_rng(seed))
    for _ in range(2):  # two epochs: a fresh permutation each, drawn as without weights
        rows = [(xb.copy(), yb.copy(), wb.copy()) for xb, yb, wb in weighted]
        for (xb, yb, wb), (px, py) in zip(rows, _epoch(plain), strict=True):
            np.testing.assert_array_equal(wb, 10.0 + yb * 0.5)  # aligned with y
            np.testing.assert_array_equal(_row_ids(xb), yb)  # and with x
            np.testing.assert_array_equal(xb, px)  # the same batches as unweighted
            np.testing.assert_array_equal(yb, py)
        seen = np.concatenate([r[2] for r in rows])
        np.testing.assert_array_equal(np.sort(seen), w)


def test_unweighted_batches_are_pairs_and_weighted_ones_triples():
    x, y = _data(6)
    for shuffle in (False, True):
        assert {len(b) for b in Batches(x, y, 4, shuffle=shuffle)} == {2}
        weighted = Batches(x, y, 4, shuffle=shuffle, sample_weight=np.ones(6))
        assert {len(b) for b in weighted} == {3}


def test_weights_without_shuffling_are_views_and_shuffled_ones_reuse_a_buffer():
    x, y = _data(8)
    w = np.linspace(1, 2, 8)
    (_, _, wb), _ = list(Batches(x, y, 4, shuffle=False, sample_weight=w))
    assert np.shares_memory(wb, w)
    it = iter(Batches(x, y, 4, shuffle=True, sample_weight=w, rng=np.random.default_rng(0)))
    (_, _, w1), (_, _, w2) = next(it), next(it)
    assert np.shares_memory(w1, w2) and not np.shares_memory(w1, w)


@pytest.mark.parametrize("bad", [np.ones(5), np.ones((6, 1)), np.ones(7)])
def test_weights_of_the_wrong_shape_are_refused(bad):
    x, y = _data(6)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(6,\)") as info:
        Batches(x, y, 2, sample_weight=bad)
    assert str(bad.shape) in str(info.value)
