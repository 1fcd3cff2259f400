"""Hyperparameter search on Ray (docs/scaling.md): joblib's Ray backend
(``ray.util.joblib.register_ray``) on a local Ray of 2 CPUs, each worker's BLAS held to 1
thread. The search gives exactly what ``n_jobs=1`` gives, for the reasons
tests/test_dask.py states.

Opt-in (``LUCIDNET_TEST_RAY=1``) and not in the ``dev`` extra: Ray 2.60's core servers
(GCS, raylet, workers) listen on every interface, ``_node_ip_address="127.0.0.1"`` or
not, where this project's tests start servers on loopback only; and a local Ray takes
40 s to 2 min to start and run this file on a 2-core machine. Ray's own child processes
leave ResourceWarnings behind: run it with
``LUCIDNET_TEST_RAY=1 pytest tests/test_ray.py -W ignore::pytest.PytestUnraisableExceptionWarning``.
"""

import os
import warnings

import numpy as np
import pytest

if os.environ.get("LUCIDNET_TEST_RAY") != "1":
    pytest.skip(
        "Ray's servers listen on every interface: set LUCIDNET_TEST_RAY=1 to run (docstring)",
        allow_module_level=True,
    )
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install ray")

import joblib  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from lucidnet.sklearn import MLPClassifier  # noqa: E402

BLAS_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.fixture(scope="module")
def local_ray():
    from ray.util.joblib import register_ray

    ray.init(
        num_cpus=2,
        _node_ip_address="127.0.0.1",
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": dict.fromkeys(BLAS_LIMITS, "1")},
    )
    register_ray()
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_workers_have_one_blas_thread(local_ray):
    def _blas_threads():  # defined here: Ray pickles it by value (workers cannot import tests)
        import numpy  # noqa: F401  (loads the BLAS, which threadpoolctl then reports)

        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    threads = local_ray.get([local_ray.remote(_blas_threads).remote() for _ in range(2)])
    assert all(t and set(t) == {1} for t in threads), threads


def test_search_on_ray_equals_one_job(local_ray):
    X, y = make_classification(n_samples=240, n_features=8, n_informative=5, random_state=0)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "alpha": [1e-4, 1e-1]}

    def search():
        return GridSearchCV(MLPClassifier(max_iter=25, random_state=0), grid, cv=3)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with threadpool_limits(1, user_api="blas"):
            alone = search().set_params(n_jobs=1).fit(X, y)
        with joblib.parallel_config(backend="ray"):
            on_ray = search().set_params(n_jobs=2).fit(X, y)
    assert on_ray.best_params_ == alone.best_params_
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        assert np.array_equal(on_ray.cv_results_[key], alone.cv_results_[key]), key
