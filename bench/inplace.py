"""Why the hot path writes NumPy results into one of the inputs.

A binary ufunc that writes a third array ran slower on these machines than the same
ufunc writing into one of its inputs (``a += b``): ``a + b`` (a new array) 2x slower
from 8k float32 elements, 2.7x at 262k; ``np.add(a, b, out=c)`` into a third,
preallocated array as slow as ``a + b`` from 131k elements (three arrays no longer fit
the cache together). ``np.square(a)`` is as fast as in place, ``a * a`` is not. This
script measures it::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv-bench/bin/python bench/inplace.py

It prints the best of 5 repeats, in microseconds, per size. Not a test: no assertion.
"""

from __future__ import annotations

import timeit

import numpy as np


def best_us(fn, number: int = 200) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}; float32; microseconds, best of 5")
    print(f"{'elements':>9} {'a + b':>8} {'out=c':>8} {'a += b':>8} {'square':>8} {'a * a':>8}")
    for n in (8_192, 32_768, 131_072, 262_144, 1_048_576):
        print(f"{n:>9,} " + " ".join(f"{t:8.1f}" for t in _row(rng, n)))


def _row(rng: np.random.Generator, n: int) -> list[float]:
    a, b, c = (rng.random(n, dtype=np.float32) + 1 for _ in range(3))
    return [
        best_us(lambda: a + b),
        best_us(lambda: np.add(a, b, out=c)),
        best_us(lambda: np.add(c, b, out=c)),
        best_us(lambda: np.square(a, out=c)),
        best_us(lambda: np.multiply(a, a, out=c)),
    ]


if __name__ == "__main__":
    main()
