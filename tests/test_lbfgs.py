"""lucidnet.lbfgs: the two-loop recursion, the strong Wolfe line search, and L-BFGS against
SciPy's fmin_l_bfgs_b (SciPy comes with scikit-learn) on Rosenbrock and a model's loss."""

from collections import deque

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.lbfgs import C1, C2, fit_lbfgs, minimize, two_loop, wolfe_line_search

optimize = pytest.importorskip("scipy.optimize", reason="SciPy (with scikit-learn) is absent")


def rosenbrock(x):
    return optimize.rosen(x), optimize.rosen_der(x)


@pytest.mark.parametrize("n", [2, 10])
def test_rosenbrock_reaches_its_minimum_about_as_fast_as_scipy(n):
    x0 = np.tile([-1.2, 1.0], n // 2)
    ours = minimize(rosenbrock, x0)
    _, _, info = optimize.fmin_l_bfgs_b(rosenbrock, x0)
    assert ours.converged, ours.message
    np.testing.assert_allclose(ours.x, np.ones(n), atol=1e-4)
    assert ours.fun < 1e-9
    assert ours.nit <= 1.5 * info["nit"] and ours.nfev <= 1.5 * info["funcalls"]


def test_the_line_search_step_satisfies_the_strong_wolfe_conditions():
    x = np.array([-1.2, 1.0])
    f0, g0 = rosenbrock(x)
    p = -g0
    t, f, g = wolfe_line_search(rosenbrock, x, f0, g0, p, t=1.0)
    f_there, g_there = rosenbrock(x + t * p)  # what it returns is the function there
    assert f == pytest.approx(f_there) and np.allclose(g, g_there)
    assert f <= f0 + C1 * t * (g0 @ p)  # sufficient decrease
    assert abs(g @ p) <= C2 * abs(g0 @ p)  # curvature


def test_the_line_search_refuses_an_uphill_direction():
    x = np.array([-1.2, 1.0])
    f0, g0 = rosenbrock(x)
    assert wolfe_line_search(rosenbrock, x, f0, g0, g0) is None


def test_two_loop_satisfies_the_secant_condition_of_the_newest_pair():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    hessian = a @ a.T + 6 * np.eye(6)  # positive definite: every pair has y.s > 0
    pairs = deque()
    for _ in range(4):
        s = rng.normal(size=6)
        y = hessian @ s
        pairs.append((s, y, 1.0 / (s @ y)))
    s, y, _ = pairs[-1]
    np.testing.assert_allclose(two_loop(y, pairs), s, rtol=1e-10)  # H y_k = s_k
    g = rng.normal(size=6)
    assert g @ two_loop(g, pairs) > 0  # positive definite: -H g goes downhill


def _logistic(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 5))
    y = (x @ [1.0, -2.0, 0.5, 0.0, 1.0] + 0.3 * rng.normal(size=200) > 0).astype(float)[:, None]
    model = ln.Sequential(
        [ln.Dense(5, 1, seed=seed, dtype=np.float64, l2=0.01), ln.Sigmoid()], input_shape=(5,)
    ).compile("bce", "sgd")
    return model, x, y


def test_fit_lbfgs_finds_scipys_minimum_of_the_same_loss():
    model, x, y = _logistic()
    dense = model.layers[0]

    def loss(w):
        dense.weights[...] = w[:5, None]
        dense.bias[...] = w[5:]
        value = ln.loss_and_gradients(model, x, y, "bce").loss
        return value, np.concatenate([dense.grad_weights.ravel(), dense.grad_bias])

    w_scipy, f_scipy, _ = optimize.fmin_l_bfgs_b(loss, np.zeros(6))
    model, x, y = _logistic()
    result = fit_lbfgs(model, x, y)
    assert result.converged and result.fun == pytest.approx(f_scipy, rel=1e-7)
    got = np.concatenate([model.layers[0].weights.ravel(), model.layers[0].bias])
    np.testing.assert_allclose(got, w_scipy, atol=1e-3)
    assert ln.loss_and_gradients(model, x, y, "bce").loss == pytest.approx(result.fun, rel=1e-12)


def test_fit_lbfgs_trains_a_small_network_on_xor():
    x, y = ln.datasets.xor()
    model = ln.Sequential(
        [
            ln.Dense(2, 4, seed=3, dtype=np.float64),
            ln.Tanh(),
            ln.Dense(4, 1, seed=4, dtype=np.float64),
            ln.Sigmoid(),
        ],
        input_shape=(2,),
    ).compile("bce", "sgd")
    result = fit_lbfgs(model, x, y[:, None].astype(float), max_iter=500)
    assert result.fun < 1e-3
    assert np.array_equal(model.predict(x)[:, 0] > 0.5, y == 1)


@pytest.mark.parametrize("layer", [lambda: ln.Dropout(0.5), lambda: ln.BatchNorm(4)])
def test_fit_lbfgs_refuses_layers_that_change_the_loss_between_evaluations(layer):
    model = ln.Sequential([ln.Dense(2, 4, seed=0), layer(), ln.Dense(4, 1, seed=1)]).compile(
        "mse", "sgd"
    )
    with pytest.raises(ValueError, match="deterministic full-batch loss"):
        fit_lbfgs(model, np.zeros((3, 2)), np.zeros((3, 1)))


def test_fit_lbfgs_needs_a_loss():
    model = ln.Sequential([ln.Dense(2, 1, seed=0)])
    with pytest.raises(ValueError, match="give a loss"):
        fit_lbfgs(model, np.zeros((3, 2)), np.zeros((3, 1)))


def test_the_limits_stop_it_and_say_so():
    result = minimize(rosenbrock, np.array([-1.2, 1.0]), max_iter=3)
    assert not result.converged and result.nit == 3 and result.message == "max_iter reached"
    result = minimize(rosenbrock, np.array([-1.2, 1.0]), max_fun=5)
    assert not result.converged and result.nfev <= 5 + 30


@pytest.mark.parametrize("memory", [0, -1, 2.5, True])
def test_memory_must_be_a_positive_int(memory):
    with pytest.raises(ValueError, match="memory must be an int >= 1"):
        minimize(rosenbrock, np.zeros(2), memory=memory)


def test_a_non_finite_start_is_refused():
    with pytest.raises(ValueError, match="not finite at x0"):
        minimize(lambda x: (float("nan"), x), np.zeros(2))


def test_a_cubic_through_a_non_finite_slope_falls_back_to_bisection():
    from lucidnet.lbfgs import _cubic_min

    assert _cubic_min(0.0, 1.0, -1.0, 2.0, 3.0, float("nan")) == 1.0
    t = _cubic_min(0.0, 1.0, -1.0, 2.0, 3.0, 4.0)  # a real cubic: inside the middle 80 %
    assert 0.2 <= t <= 1.8
