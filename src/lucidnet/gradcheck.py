"""Central-difference gradient check: are the backward formulas right?

For a scalar objective ``f(θ)`` the derivative with respect to one number ``θ_i`` is
approximated by::

    df/dθ_i  ≈  (f(θ + eps e_i) - f(θ - eps e_i)) / (2 eps)

whose error shrinks like ``eps^2``. ``gradcheck`` computes this for every number of every
parameter and of the input, in float64 on a copy of the model (the original is never
touched), and compares it with what ``backward`` produced.

The objective is the loss if one is given; otherwise it is ``sum(y * R)`` for a fixed
random ``R`` of the output's shape, whose gradient with respect to the output is ``R``:
every output element then takes part with its own weight. Layer penalties (L2) are
added to either, as in training.

For each array the report gives the largest absolute difference and the largest
elementwise relative error::

    rel = max_i |a_i - n_i| / max(|a_i|, |n_i|, floor)

and passes if ``rel < tol`` for every array. Elementwise, so that one wrong entry among
large correct ones is caught. The ``floor`` keeps the rounding noise of the difference
quotient from failing entries whose true gradient is zero or tiny: ``f`` is computed to
about machine epsilon, so the quotient carries an error near
``noise = 100 * finfo(float64).eps * max(1, |f|) / eps`` (about ``2e-8`` for
``|f| = 1``), and ``floor = noise / tol``. An entry then passes exactly when
``|a_i - n_i| < max(tol * max(|a_i|, |n_i|), noise)``.

Gradients exist only where the function is smooth: at a kink (ReLU's input exactly 0)
the two one-sided slopes differ and the check rightly reports a mismatch. Check at random
points.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import losses as losses_module
from .layers import Layer
from .losses import Loss
from .model import Sequential
from .training import LossAndGradients, loss_and_gradients
from .training.penalties import PenaltyGradients

__all__ = ["GradCheckEntry", "GradCheckReport", "gradcheck"]


@dataclass(frozen=True)
class GradCheckEntry:
    """The comparison for one array: a layer's parameter, or the model's input."""

    layer: str
    parameter: str
    shape: tuple[int, ...]
    max_abs_error: float
    rel_error: float
    passed: bool


@dataclass
class GradCheckReport:
    """All comparisons of one check; ``passed`` if every one is within ``tol``."""

    entries: list[GradCheckEntry] = field(default_factory=list)
    tol: float = 1e-6
    eps: float = 1e-6
    floor: float = 0.0

    @property
    def passed(self) -> bool:
        """True if every array's relative error is below ``tol``."""
        return all(e.passed for e in self.entries)

    @property
    def max_rel_error(self) -> float:
        """The worst relative error over all arrays."""
        return max((e.rel_error for e in self.entries), default=0.0)

    def failures(self) -> list[GradCheckEntry]:
        """The entries that did not pass."""
        return [e for e in self.entries if not e.passed]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        header = ("layer", "parameter", "shape", "max abs error", "rel error", "")
        rows = [header] + [
            (
                e.layer,
                e.parameter,
                "x".join(map(str, e.shape)) or "scalar",
                f"{e.max_abs_error:.3e}",
                f"{e.rel_error:.3e}",
                "ok" if e.passed else "FAIL",
            )
            for e in self.entries
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "-" * len(lines[0]))
        verdict = "PASSED" if self.passed else f"FAILED ({len(self.failures())} array(s))"
        lines.append(
            f"gradient check {verdict}: worst relative error {self.max_rel_error:.3e} "
            f"(tolerance {self.tol:.0e}, eps {self.eps:.0e}, floor {self.floor:.0e}, float64)"
        )
        return "\n".join(lines)


def _compare(
    layer: str, name: str, analytic: np.ndarray, numeric: np.ndarray, tol: float, floor: float
) -> GradCheckEntry:
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    abs_err = float(np.max(diff, initial=0.0))
    rel = float(np.max(diff / scale, initial=0.0))
    return GradCheckEntry(layer, name, tuple(analytic.shape), abs_err, rel, rel < tol)


def _numeric_gradient(objective: Callable[[], float], array: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of ``objective()`` over every element of ``array`` (in place)."""
    grad = np.zeros_like(array)
    for i in np.ndindex(array.shape):
        old = array[i]
        array[i] = old + eps
        plus = objective()
        array[i] = old - eps
        minus = objective()
        array[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    model_or_layer: Sequential | Layer,
    x: np.ndarray,
    y: np.ndarray | None = None,
    loss: Loss | str | None = None,
    eps: float = 1e-6,
    tol: float = 1e-6,
    training: bool = False,
    seed: int = 0,
    sample_weight: np.ndarray | None = None,
) -> GradCheckReport:
    """Check every parameter gradient and the input gradient by central differences.

    Parameters
    ----------
    model_or_layer : Sequential or Layer
        What to check. It is deep-copied and converted to float64; the original is
        unchanged.
    x : array (batch, *input_shape)
        The input batch.
    y, loss : optional
        Targets and loss (instance or name). Without a loss the objective is
        ``sum(output * R)`` with a fixed random ``R``. With a fused output pair the fused
        path is what gets checked.
    eps : float
        The step of the central difference.
    tol : float
        The largest relative error that passes.
    training : bool
        Passed to ``forward`` (keep a layer's randomness fixed if True).
    seed : int
        Seed of ``R``.
    sample_weight : array (batch,) or None
        Weights of the samples' losses (needs a loss): the weighted loss
        ``sum_i w_i l_i / batch`` is what gets checked.

    Returns
    -------
    GradCheckReport
        Per layer and parameter the errors, ``passed``, and a readable ``str()``.
    """
    if isinstance(model_or_layer, Layer):
        model = Sequential([copy.deepcopy(model_or_layer)])
    elif isinstance(model_or_layer, Sequential):
        model = copy.deepcopy(model_or_layer)
    else:
        raise TypeError(
            f"gradcheck: expected a Sequential or a Layer, got {type(model_or_layer).__name__}"
        )
    model.astype(np.float64)
    x64 = np.array(x, dtype=np.float64)  # a copy, perturbed in place below
    if sample_weight is not None and loss is None:
        raise ValueError("gradcheck: sample_weight weighs a loss; give loss= and y= too")

    if loss is None:
        projection = np.random.default_rng(seed).standard_normal(
            np.shape(model.forward(x64, training=training))
        )

        def objective() -> float:
            out = model.forward(x64, training=training)
            return float(np.sum(out * projection)) + model.penalty()

        model.forward(x64, training=training)
        grad_input = model.backward(projection)
        PenaltyGradients().add(model.parameters())
    else:
        if y is None:
            raise ValueError("gradcheck: a loss needs targets y")
        loss_fn = losses_module.get(loss)

        def run() -> LossAndGradients:
            return loss_and_gradients(
                model, x64, y, loss_fn, training=training, sample_weight=sample_weight
            )

        def objective() -> float:
            return run().loss

        grad_input = run().grad_input

    grad_input = np.array(grad_input, dtype=np.float64)
    analytic = {
        (layer.name, name): p.grad.copy()
        for layer in model.layers
        for name, p in layer._parameters.items()
    }
    noise = 100 * np.finfo(np.float64).eps * max(1.0, abs(objective())) / eps
    report = GradCheckReport(tol=tol, eps=eps, floor=noise / tol)
    for layer in model.layers:
        for name, p in layer._parameters.items():
            numeric = _numeric_gradient(objective, p.value, eps)
            analytic_grad = analytic[(layer.name, name)]
            report.entries.append(
                _compare(layer.name, name, analytic_grad, numeric, tol, report.floor)
            )
    numeric_input = _numeric_gradient(objective, x64, eps)
    report.entries.append(
        _compare("(model)", "input", grad_input, numeric_input, tol, report.floor)
    )
    return report
