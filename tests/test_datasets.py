"""The seeds' small data sets."""

import numpy as np
import pytest

from lucidnet import datasets


@pytest.mark.parametrize(
    ("make", "labels"),
    [
        (datasets.xor, [0, 1, 1, 0]),
        (datasets.and_gate, [0, 0, 0, 1]),
        (datasets.or_gate, [0, 1, 1, 1]),
    ],
)
def test_truth_tables(make, labels):
    x, y = make()
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, labels)
    x[0, 0] = 9  # a fresh copy each call
    assert make()[0][0, 0] == 0


def test_fruit_is_the_seed_example():
    x, y = datasets.fruit()
    np.testing.assert_array_equal(x, [[1.0, 1.0]])
    np.testing.assert_array_equal(y, [1])
