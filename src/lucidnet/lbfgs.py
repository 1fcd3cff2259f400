"""L-BFGS, written out: the two-loop recursion and a line search that satisfies the strong
Wolfe conditions (Nocedal & Wright, *Numerical Optimization*, 2nd ed., algorithms 7.4,
3.5 and 3.6). ``minimize`` works on any function of a vector; ``fit_lbfgs`` on a
lucidnet model's parameters, full batch.

The idea: Newton's step ``p = -H g`` with ``H`` the inverse Hessian, which L-BFGS never
forms. It keeps the last ``m`` pairs::

    s_i = x_{i+1} - x_i          (the step taken)
    y_i = g_{i+1} - g_i          (how the gradient changed along it)
    rho_i = 1 / (y_i . s_i)

and applies the inverse-Hessian approximation to ``g`` by the **two-loop recursion**::

    q = g
    for i = k-1 down to k-m:   a_i = rho_i s_i . q;   q = q - a_i y_i
    r = gamma q,  gamma = (s_{k-1} . y_{k-1}) / (y_{k-1} . y_{k-1})   (the initial scaling)
    for i = k-m up to k-1:     b = rho_i y_i . r;     r = r + s_i (a_i - b)
    p = -r

A pair with ``y . s <= 0`` (no curvature along the step) is not kept: the approximation
must stay positive definite, so that ``p`` goes downhill.

The step length ``t`` along ``p`` satisfies the **strong Wolfe conditions**::

    f(x + t p) <= f(x) + c1 t g.p           (sufficient decrease, c1 = 1e-4)
    |g(x + t p) . p| <= c2 |g.p|            (curvature, c2 = 0.9)

found by bracketing (``t`` grows until the conditions hold or an interval holding a good
``t`` is found) and zooming (the interval shrinks, each trial at the minimum of the cubic
through both ends' values and slopes, kept inside the interval).

Training stops when the largest gradient component is at most ``gtol``, when the loss
changes by less than ``ftol`` relative to its size, or after ``max_iter`` iterations or
``max_fun`` evaluations (scikit-learn's ``max_iter`` and ``max_fun``), as SciPy's
``fmin_l_bfgs_b`` does (``pgtol``, ``factr * eps``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["LBFGSResult", "fit_lbfgs", "minimize", "wolfe_line_search"]

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
C1, C2 = 1e-4, 0.9


class LBFGSResult(NamedTuple):
    x: np.ndarray  # the last point
    fun: float  # its value
    grad: np.ndarray  # its gradient
    nit: int  # iterations
    nfev: int  # evaluations of the function (with its gradient)
    converged: bool  # stopped by gtol or ftol (not by a limit)
    message: str


class _Counted:
    """The objective, counting its evaluations, in float64."""

    def __init__(self, fun: Objective) -> None:
        self.fun, self.calls = fun, 0

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.calls += 1
        f, g = self.fun(x)
        return float(f), np.asarray(g, dtype=np.float64).copy()


def two_loop(g: np.ndarray, pairs: deque[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """``H g`` by the two-loop recursion over ``pairs`` of ``(s, y, rho)``, oldest first."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * (s @ q)
        q -= a * y
        alphas.append(a)
    s, y, _ = pairs[-1]
    r = q * ((s @ y) / (y @ y))
    for (s, y, rho), a in zip(pairs, reversed(alphas), strict=True):
        b = rho * (y @ r)
        r += s * (a - b)
    return r


def _cubic_argmin(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float:
    """The minimizer of the cubic through ``(a, fa)`` and ``(b, fb)`` with slopes ``da`` and
    ``db`` (NaN when the cubic has none)::

        d1 = da + db - 3 (fa - fb) / (a - b),   d2 = sign(b - a) sqrt(d1^2 - da db)
        t  = b - (b - a) (db + d2 - d1) / (db - da + 2 d2)
    """
    d1 = da + db - 3 * (fa - fb) / (a - b)
    square = d1 * d1 - da * db
    if not square >= 0:
        return float("nan")
    d2 = np.sign(b - a) * np.sqrt(square)
    denominator = db - da + 2 * d2
    if denominator == 0:
        return float("nan")
    return float(b - (b - a) * (db + d2 - d1) / denominator)


def _cubic_min(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float:
    """The cubic's minimizer kept inside the middle 80 % of ``[a, b]`` (the midpoint when
    it has none, or when a slope is not finite)."""
    lo, hi = min(a, b), max(a, b)
    t = _cubic_argmin(a, fa, da, b, fb, db)
    if not np.isfinite(t):
        t = (lo + hi) / 2
    margin = 0.1 * (hi - lo)
    return float(min(max(t, lo + margin), hi - margin))


def _extrapolate(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float:
    """The next trial beyond ``b`` while the slope is still downhill there: the cubic's
    minimizer when it lies beyond, kept within ``[b + 1.1 (b - a), b + 4 (b - a)]`` (Moré
    and Thuente's bounds), else the far bound."""
    step = b - a
    lo, hi = b + 1.1 * step, b + 4.0 * step
    t = _cubic_argmin(a, fa, da, b, fb, db)
    if not np.isfinite(t) or t <= b:
        return hi
    return float(min(max(t, lo), hi))


def wolfe_line_search(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    f0: float,
    g0: np.ndarray,
    p: np.ndarray,
    t: float = 1.0,
    max_evals: int = 30,
) -> tuple[float, float, np.ndarray] | None:
    """A step ``t`` along ``p`` satisfying the strong Wolfe conditions, with ``f`` and ``g``
    there: ``(t, f, g)``; None if ``max_evals`` evaluations found none."""
    d0 = float(g0 @ p)
    if not d0 < 0:
        return None
    t_prev, f_prev, d_prev = 0.0, f0, d0
    for i in range(max_evals):
        f, g = fun(x + t * p)
        d = float(g @ p)
        if not np.isfinite(f) or f > f0 + C1 * t * d0 or (i and f >= f_prev):
            return _zoom(fun, x, f0, d0, p, t_prev, f_prev, d_prev, t, f, d, max_evals - i - 1)
        if abs(d) <= -C2 * d0:
            return t, f, g
        if d >= 0:
            return _zoom(fun, x, f0, d0, p, t, f, d, t_prev, f_prev, d_prev, max_evals - i - 1)
        t_next = _extrapolate(t_prev, f_prev, d_prev, t, f, d)
        t_prev, f_prev, d_prev = t, f, d
        t = t_next
    return None


def _zoom(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    f0: float,
    d0: float,
    p: np.ndarray,
    lo: float,
    f_lo: float,
    d_lo: float,
    hi: float,
    f_hi: float,
    d_hi: float,
    evals: int,
) -> tuple[float, float, np.ndarray] | None:
    """Shrink ``[lo, hi]`` (``lo`` the end with the lower value that satisfies sufficient
    decrease) until a point satisfies both conditions."""
    for _ in range(max(evals, 0)):
        if np.isfinite(f_hi):
            t = _cubic_min(lo, f_lo, d_lo, hi, f_hi, d_hi)
        else:
            t = (lo + hi) / 2
        f, g = fun(x + t * p)
        d = float(g @ p)
        if not np.isfinite(f) or f > f0 + C1 * t * d0 or f >= f_lo:
            hi, f_hi, d_hi = t, f, d
            continue
        if abs(d) <= -C2 * d0:
            return t, f, g
        if d * (hi - lo) >= 0:
            hi, f_hi, d_hi = lo, f_lo, d_lo
        lo, f_lo, d_lo = t, f, d
    return None


def minimize(
    fun: Objective,
    x0: Any,
    memory: int = 10,
    max_iter: int = 15000,
    max_fun: int = 15000,
    gtol: float = 1e-5,
    ftol: float = 2.220446049250313e-09,
    callback: Callable[[np.ndarray, float], Any] | None = None,
) -> LBFGSResult:
    """Minimize ``fun(x) -> (value, gradient)`` from ``x0`` by L-BFGS (module docstring).

    ``memory``: the pairs kept (``m``); ``gtol``: stop when ``max |g| <= gtol``; ``ftol``:
    stop when ``(f_old - f_new) / max(|f_old|, |f_new|, 1) <= ftol`` (SciPy's ``factr``
    10^7 times the float64 epsilon); ``callback(x, f)`` after each iteration.
    """
    if isinstance(memory, bool) or not isinstance(memory, int) or memory < 1:
        raise ValueError(f"minimize: memory must be an int >= 1, got {memory!r}")
    counted = _Counted(fun)
    x = np.array(x0, dtype=np.float64).ravel()
    f, g = counted(x)
    if not np.isfinite(f) or not np.all(np.isfinite(g)):
        raise ValueError(f"minimize: the function or its gradient is not finite at x0 ({f})")
    pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=memory)
    for it in range(max_iter):
        if np.max(np.abs(g), initial=0.0) <= gtol:
            return LBFGSResult(x, f, g, it, counted.calls, True, "gradient below gtol")
        if counted.calls >= max_fun:
            return LBFGSResult(x, f, g, it, counted.calls, False, "max_fun reached")
        p = -two_loop(g, pairs) if pairs else -g
        first = 1.0 if pairs else min(1.0, 1.0 / max(float(np.linalg.norm(g)), 1e-12))
        found = wolfe_line_search(counted, x, f, g, p, first, min(30, max_fun - counted.calls))
        if found is None and pairs:  # a poor direction: start the memory again, downhill
            pairs.clear()
            p = -g
            first = min(1.0, 1.0 / max(float(np.linalg.norm(g)), 1e-12))
            found = wolfe_line_search(counted, x, f, g, p, first, min(30, max_fun - counted.calls))
        if found is None:
            why = "max_fun reached" if counted.calls >= max_fun else "the line search failed"
            return LBFGSResult(x, f, g, it, counted.calls, False, why)
        t, f_new, g_new = found
        s, y = t * p, g_new - g
        sy = float(s @ y)
        if sy > 1e-10 * float(y @ y):  # curvature along the step: keep the pair
            pairs.append((s, y, 1.0 / sy))
        x, f_old, f, g = x + s, f, f_new, g_new
        if callback is not None:
            callback(x, f)
        if (f_old - f) / max(abs(f_old), abs(f), 1.0) <= ftol:
            return LBFGSResult(
                x, f, g, it + 1, counted.calls, True, "relative reduction below ftol"
            )
    return LBFGSResult(x, f, g, max_iter, counted.calls, False, "max_iter reached")


def fit_lbfgs(
    model: Any,
    x: Any,
    y: Any,
    loss: Any = None,
    memory: int = 10,
    max_iter: int = 200,
    max_fun: int = 15000,
    gtol: float = 1e-5,
    ftol: float = 2.220446049250313e-09,
) -> LBFGSResult:
    """Train ``model`` on all of ``(x, y)`` at once by L-BFGS; the model ends with the
    result's parameters. ``loss``: by default the model's compiled one. The objective is
    the loss of the whole set with the layers' penalties (``Trainer.gradients``), worked in
    float64 by L-BFGS and in the model's dtype by the model.

    A model with Dropout or BatchNorm is refused: L-BFGS needs the same loss for the same
    weights, and those layers change it from one evaluation to the next.
    """
    from .layers import BatchNorm, Dropout
    from .training import Trainer

    for layer in model.layers:
        if isinstance(layer, (Dropout, BatchNorm)):
            raise ValueError(
                f"fit_lbfgs: layer {layer.name!r} ({type(layer).__name__}) makes the loss "
                "change between evaluations; L-BFGS needs a deterministic full-batch loss"
            )
    loss = loss if loss is not None else model.loss
    if loss is None:
        raise ValueError("fit_lbfgs: give a loss, or compile the model with one")
    trainer = Trainer(model, loss)
    params = model.parameters()
    xs, ys = np.asarray(x, dtype=model.dtype), np.asarray(y)

    def set_weights(w: np.ndarray) -> None:
        start = 0
        for p in params:
            p.value[...] = w[start : start + p.value.size].reshape(p.value.shape)
            start += p.value.size

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        set_weights(w)
        with np.errstate(over="ignore", invalid="ignore"):
            value = trainer.gradients(xs, ys, training=True, need_input_grad=False).loss
        return value, np.concatenate([p.grad.ravel() for p in params])

    w0 = np.concatenate([p.value.ravel() for p in params]).astype(np.float64)
    result = minimize(objective, w0, memory, max_iter, max_fun, gtol, ftol)
    set_weights(result.x)
    return result
