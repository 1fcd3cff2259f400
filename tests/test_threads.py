"""lucidnet.threads: elementwise work split over the batch, and layers that use it giving
the same numbers with one thread or several."""

import threading

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import threads


@pytest.fixture
def two_threads():
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    yield
    threads.set_num_threads(before)


def test_over_batch_covers_every_row_once_in_parallel(two_threads):
    rows = 1000
    seen = np.zeros(rows, dtype=int)
    names = set()

    def work(s):
        seen[s] += 1
        names.add(threading.current_thread().name)

    threads.over_batch(work, rows, values_per_row=threads.MIN_VALUES_PER_THREAD)
    np.testing.assert_array_equal(seen, 1)
    assert len(names) == 2 and any(name.startswith("lucidnet") for name in names)


def test_small_work_runs_as_one_call(two_threads):
    calls = []
    threads.over_batch(calls.append, 64, values_per_row=10)
    assert calls == [slice(0, 64)]


def test_one_thread_turns_splitting_off(two_threads):
    threads.set_num_threads(1)
    calls = []
    threads.over_batch(calls.append, 1000, values_per_row=1 << 20)
    assert calls == [slice(0, 1000)]


def test_an_error_in_a_slice_is_raised_after_every_slice_ends(two_threads):
    done = []

    def work(s):
        if s.start == 0:
            raise ValueError("bad slice")
        done.append(s)

    with pytest.raises(ValueError, match="bad slice"):
        threads.over_batch(work, 100, values_per_row=1 << 20)
    assert len(done) == 1  # the other slice still ran to its end


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_checks_its_argument(bad):
    with pytest.raises(ValueError, match="set_num_threads: expected an int >= 1"):
        threads.set_num_threads(bad)


@pytest.mark.parametrize("text", ["zero", "0", "-2"])
def test_the_environment_variable_is_checked(monkeypatch, text):
    monkeypatch.setenv(threads.ENV, text)
    with pytest.raises(ValueError, match="LUCIDNET_NUM_THREADS"):
        threads._default_threads()
    monkeypatch.setenv(threads.ENV, "3")
    assert threads._default_threads() == 3


def _cnn():
    return ln.Sequential(
        [
            ln.Conv2D(1, 8, 3, seed=0),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Conv2D(8, 16, 3, padding="same", seed=1),
            ln.ReLU(),
            ln.MaxPool2D(2),
            ln.Flatten(),
            ln.Dense(6 * 6 * 16, 3, seed=2),
        ],
        input_shape=(26, 26, 1),
    )


def test_layers_give_the_same_numbers_with_one_thread_or_two(two_threads):
    x = np.random.default_rng(0).standard_normal((256, 26, 26, 1)).astype(np.float32)
    results = []
    for n in (1, 2):
        threads.set_num_threads(n)
        model = _cnn()
        y = model.forward(x, training=True)
        grad_x = model.backward(np.ones_like(y))
        results.append((y, grad_x, [p.grad.copy() for p in model.parameters()]))
    (y1, gx1, g1), (y2, gx2, g2) = results
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(gx1, gx2)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_array_equal(a, b)
