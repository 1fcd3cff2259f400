"""Hyperparameter search on a Dask cluster (docs/scaling.md): lucidnet's estimators under
``GridSearchCV`` / ``RandomizedSearchCV`` with joblib's Dask backend, on a
``LocalCluster`` of 2 worker processes with 1 thread each, bound to 127.0.0.1, each
worker's BLAS held to 1 thread. Also a Dask array fed to ``partial_fit`` block by block.

The search must give exactly what ``n_jobs=1`` gives, not only to rounding: every
candidate's fit is deterministic (``random_state`` fixed, the data pickled bit for bit,
one BLAS thread on both sides, so the same sums in the same order), and joblib hands the
scores back in the candidates' order. The n_jobs=1 run is held to one BLAS thread too:
a multi-threaded BLAS may split a product differently and round differently.
"""

import os
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip(
    "dask.distributed", reason="dask.distributed is not installed: pip install 'lucidnet[dask]'"
)

import joblib  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from lucidnet.sklearn import MLPClassifier  # noqa: E402

BLAS_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 processes x 1 thread on loopback only, each worker's BLAS held
    to its share of the cores (1 thread here) by the environment its process starts in."""
    env = dict.fromkeys(BLAS_LIMITS, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's start-up chatter is not ours to fix
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env=env,
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.close()
            cluster.close()


def _blas_threads():
    """The thread count of every BLAS library loaded in this process."""
    return [
        (lib["internal_api"], lib["num_threads"])
        for lib in threadpool_info()
        if lib["user_api"] == "blas"
    ]


def _data():
    return make_classification(n_samples=240, n_features=8, n_informative=5, random_state=0)


ESTIMATOR = MLPClassifier(max_iter=25, random_state=0)
GRID = {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-1], "solver": ["adam", "sgd"]}


def _searches():
    return [
        GridSearchCV(ESTIMATOR, GRID, cv=3),
        RandomizedSearchCV(
            ESTIMATOR,
            {"learning_rate_init": loguniform(1e-3, 1e-1), "hidden_layer_sizes": [(8,), (16,)]},
            n_iter=6,
            cv=3,
            random_state=0,
        ),
    ]


def test_workers_are_loopback_processes_with_one_blas_thread(client):
    info = client.scheduler_info()
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(info["workers"]) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in info["workers"])
    assert all(w["nthreads"] == 1 for w in info["workers"].values())
    pids = client.run(os.getpid)
    assert len(set(pids.values()) | {os.getpid()}) == 3  # two processes, neither this one
    threads = client.run(_blas_threads)
    assert all(t and all(n == 1 for _, n in t) for t in threads.values()), threads


@pytest.mark.parametrize("which", [0, 1], ids=["GridSearchCV", "RandomizedSearchCV"])
def test_search_on_dask_equals_one_job(client, which):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(1, user_api="blas"):
            alone = _searches()[which].set_params(n_jobs=1).fit(X, y)
        with joblib.parallel_config(backend="dask"):
            on_dask = _searches()[which].set_params(n_jobs=-1).fit(X, y)
    assert on_dask.best_params_ == alone.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        assert np.array_equal(on_dask.cv_results_[key], alone.cv_results_[key]), key
    assert on_dask.cv_results_["params"] == alone.cv_results_["params"]
    assert np.array_equal(on_dask.best_estimator_.coefs_[0], alone.best_estimator_.coefs_[0])
    assert len(set(alone.cv_results_["mean_test_score"])) > 1  # the candidates differ


def test_partial_fit_block_by_block_from_a_dask_array(client):
    # A Dask array larger than memory is read one block at a time: each block is
    # computed (on the cluster), fed to partial_fit, and dropped.
    da = pytest.importorskip("dask.array")
    X, y = _data()
    Xd, yd = da.from_array(X, chunks=(60, -1)), da.from_array(y, chunks=60)
    streamed = MLPClassifier((8,), random_state=0)
    for xb, yb in zip(Xd.blocks, yd.blocks, strict=True):
        xb, yb = client.compute([xb, yb], sync=True)
        streamed.partial_fit(xb, yb, classes=[0, 1])
    in_memory = MLPClassifier((8,), random_state=0)
    for start in range(0, len(X), 60):
        in_memory.partial_fit(X[start : start + 60], y[start : start + 60], classes=[0, 1])
    for a, b in zip(streamed.coefs_, in_memory.coefs_, strict=True):
        assert np.array_equal(a, b)
