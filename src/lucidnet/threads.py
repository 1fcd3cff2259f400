"""Elementwise work on large batches, split over the batch across threads.

Matrix products already run on every core (the BLAS library's own threads). The copies,
comparisons and sums around them (im2col, pooling, col2im's additions) are plain NumPy
calls, which run on one core; NumPy releases the GIL inside them, so Python threads
working on separate slices of the batch run them in parallel. ``over_batch`` does that
for a function of a batch slice, when the batch is large enough to pay for the threads.

``set_num_threads(n)`` sets how many threads (default: the ``LUCIDNET_NUM_THREADS``
environment variable, else the cores this process may use, at most 4); ``1`` turns the
splitting off. Under a process-level parallelism of your own (joblib, Dask, MPI ranks on
one machine) give each process its share, as for the BLAS threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MIN_VALUES_PER_THREAD", "get_num_threads", "over_batch", "set_num_threads"]

ENV = "LUCIDNET_NUM_THREADS"
MIN_VALUES_PER_THREAD = 1 << 17  # below ~128k values a slice is faster than a thread hand-off

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_threads: int | None = None


def _default_threads() -> int:
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{ENV}={text!r}: expected a whole number >= 1") from None
        if value < 1:
            raise ValueError(f"{ENV}={text!r}: expected a whole number >= 1")
        return value
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def get_num_threads() -> int:
    """The threads ``over_batch`` uses (1: no splitting)."""
    global _threads
    if _threads is None:
        _threads = _default_threads()
    return _threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (>= 1) for elementwise work on large batches."""
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected an int >= 1, got {n!r}")
    with _lock:
        _threads = n
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def _executor() -> ThreadPoolExecutor:
    """The helper threads (one fewer than ``get_num_threads``: the caller works too)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(get_num_threads() - 1, thread_name_prefix="lucidnet")
        return _pool


def over_batch(work: Callable[[slice], object], rows: int, values_per_row: int) -> None:
    """Call ``work(rows_slice)`` on consecutive slices of ``range(rows)`` that together
    cover it once, in parallel when there is enough work (``rows * values_per_row``
    values), else as one call ``work(slice(0, rows))``.

    ``work`` must only write what belongs to its slice. An exception in any slice is
    raised here after every slice has finished.
    """
    threads = min(get_num_threads(), rows, max(1, rows * values_per_row // MIN_VALUES_PER_THREAD))
    if threads <= 1 or threading.current_thread().name.startswith("lucidnet"):
        work(slice(0, rows))
        return
    bounds = [rows * k // threads for k in range(threads + 1)]
    slices = [slice(bounds[k], bounds[k + 1]) for k in range(threads)]
    pool = _executor()
    futures = [pool.submit(work, s) for s in slices[1:]]
    error: BaseException | None = None
    try:
        work(slices[0])
    except BaseException as err:  # re-raised after the other slices end
        error = err
    for future in futures:
        try:
            future.result()
        except BaseException as err:
            error = error or err
    if error is not None:
        raise error
