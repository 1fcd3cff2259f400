"""Loss functions: a value from ``(y_true, y_pred)`` and its gradient w.r.t. ``y_pred``.

The argument order is Keras' and scikit-learn's, the same as the metrics': the truth first,
``loss(y_true, y_pred)``; both may be given as keywords. (PyTorch puts the prediction
first.) Shapes that do not fit raise ValueError instead of broadcasting into a number.

Each loss knows its task (``"classification"`` or ``"regression"``) and its link function
(``"softmax"``, ``"sigmoid"``, ``"exp"`` or ``"identity"``: what turns the model's output
into probabilities or predictions, ``loss.probabilities(y_pred)``), and its formula in text
and TeX (``loss.formula``) for ``explain``.

==========================  ==============================  ===============================
loss                        value                           gradient dL/dy_pred
==========================  ==============================  ===============================
``MSE``                     ``mean((p - y)^2)`` over all    ``2 (p - y) / p.size``
                            elements (seed 003)
``BinaryCrossEntropy``      ``-mean(y log p + (1-y)         ``(p - y) / (p (1 - p)) / n``,
                            log(1-p))``, p clipped          p clipped
``BinaryCrossEntropy(       ``mean(softplus(z) - y z)``     ``(sigmoid(z) - y) / n``
from_logits=True)``
``CrossEntropy``            ``-mean_rows(sum(y log p))``,   ``-y / p / batch``, p clipped
                            p clipped
``CrossEntropy(             ``-mean_rows(sum(y              ``(softmax(z) - y) / batch``
from_logits=True)``         log_softmax(z)))``
``Poisson``                 ``mean(y log(y / p) - y + p)``  ``(1 - y / p) / n``, p > 0
                            (half the deviance; y >= 0)
``Poisson(from_log=True)``  ``mean(exp(z) - y z + y log y   ``(exp(z) - y) / n``
                            - y)``
==========================  ==============================  ===============================

Probabilities are clipped to ``[eps, 1 - eps]`` with ``eps = finfo(dtype).eps``, so a
confident wrong prediction gives a large finite loss rather than ``inf``. The logits forms
use ``softplus`` and ``log_softmax`` from ``functional`` and are finite for any finite
input; they are the better choice whenever the model can output logits. Poisson means are
not clipped: a mean ``<= 0`` is refused, and ``exp(z)`` of a large log mean is ``inf``,
which training reports as a diverged step (``y log y`` is taken as 0 at ``y = 0``).

**Fused output pairs.** A network that ends in ``Sigmoid`` trained with
``BinaryCrossEntropy()``, in ``Softmax`` trained with ``CrossEntropy()`` or in ``Exp``
trained with ``Poisson()`` has a chain rule that collapses: ``dL/dz = p - y`` on the
activation's input ``z`` (divided by the batch size, or by the number of elements for
binary cross-entropy and Poisson). Training (``lucidnet.training``) detects these pairs
through ``fused_logits_loss`` and computes the value and gradient from ``z``, skipping the
activation's backward. This is exact, faster, and stable where the unfused path would
divide by ``p (1 - p) = 0`` (or by ``p``). The valid pairs are exactly:

- ``Sigmoid`` + ``BinaryCrossEntropy(from_logits=False)``
- ``Softmax`` + ``CrossEntropy(from_logits=False)``
- ``Exp`` + ``Poisson(from_log=False)``

Any other ending (``Identity`` + MSE, ``Sigmoid`` + MSE, ...) goes through the ordinary
backward pass.

**Sample weights.** ``value_and_gradient``, ``__call__`` and ``gradient`` take
``sample_weight=None`` or one weight ``w_i >= 0`` per sample, shape ``(batch,)``. With
``l_i`` the loss of sample ``i`` (its own elements averaged for ``MSE``, binary
cross-entropy and ``Poisson``), the value is Keras' default reduction, "sum over batch size"::

    L = sum_i w_i l_i / batch          dL/dy_pred[i] = w_i dl_i/dy_pred[i] / batch

All weights 1 give the unweighted value (up to rounding); ``None`` runs the unweighted
code, unchanged. A weight of 0 takes the sample out of the gradient but not out of
``batch``. See ``lucidnet.weights``.

Labels for ``CrossEntropy`` may be integers ``(batch,)`` in ``[0, classes)`` or one-hot
(or any probability rows) ``(batch, classes)``. Values and gradients have the dtype of
``y_pred``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .formula import Formula
from .layers import Layer
from .registry import Registry
from .weights import check_sample_weight

__all__ = [
    "MSE",
    "REGISTRY",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Loss",
    "Poisson",
    "fused_logits_loss",
    "get",
    "names",
]


def _sum64(a: np.ndarray) -> float:
    """The sum of all elements, accumulated in float64 (a float32 sum of large losses can
    overflow where their mean would not); ``ufunc.reduce`` skips NumPy's Python wrapper."""
    return float(np.add.reduce(a, axis=None, dtype=np.float64))


def _mean64(a: np.ndarray) -> float:
    """The mean of all elements, accumulated in float64."""
    return _sum64(a) / max(a.size, 1)


def _weighted_sum64(w: np.ndarray, a: np.ndarray) -> float:
    """``sum_i w_i sum_j a[i, j]`` for the rows ``i`` of ``a``, in float64."""
    rows = np.add.reduce(a.reshape(len(a), -1), axis=1, dtype=np.float64)
    return float(np.dot(w, rows))


def _weight_column(w: np.ndarray, scale: float, like: np.ndarray) -> np.ndarray:
    """``w * scale`` in ``like``'s dtype, shaped ``(batch, 1, ...)`` to scale its rows."""
    return (w * scale).astype(like.dtype).reshape((-1,) + (1,) * (like.ndim - 1))


class Loss:
    """Base class. ``loss(y_true, y_pred)`` returns the value, ``gradient`` its derivative.

    Class attributes: ``name`` (what metrics and files call it), ``task``
    (``"classification"`` or ``"regression"``) and ``formula`` (text and TeX). The
    property ``link`` names the function from the model's output to what the loss
    compares with the targets, applied by ``probabilities``.
    """

    name = "loss"
    task = "regression"
    formula = Formula("L = loss(y, y_hat)", "L")

    @property
    def link(self) -> str:
        """``"identity"``, ``"sigmoid"``, ``"softmax"`` or ``"exp"``: applied by
        ``probabilities``."""
        return "identity"

    @property
    def is_classifier(self) -> bool:
        """Whether the loss trains a classifier (its task is classification)."""
        return self.task == "classification"

    def probabilities(self, y_pred: np.ndarray) -> np.ndarray:
        """The model's output through the link function: probabilities for a classifier
        trained from logits, the means for ``Poisson(from_log=True)``, the output itself
        otherwise."""
        link = self.link
        if link == "softmax":
            return F.softmax(np.asarray(y_pred), axis=-1)
        if link == "sigmoid":
            return F.sigmoid(np.asarray(y_pred))
        if link == "exp":
            return np.exp(np.asarray(y_pred))
        return np.asarray(y_pred)

    def __call__(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        """The loss value, a float; ``sample_weight`` ``(batch,)`` weights the samples'
        losses (``sum_i w_i l_i / batch``)."""
        if sample_weight is None:
            return self.value_and_gradient(y_true, y_pred, need_gradient=False)[0]
        return self.value_and_gradient(
            y_true, y_pred, need_gradient=False, sample_weight=sample_weight
        )[0]

    def gradient(
        self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> np.ndarray:
        """``dL/dy_pred``, same shape and dtype as ``y_pred`` (weighted as ``__call__``)."""
        if sample_weight is None:
            return self.value_and_gradient(y_true, y_pred)[1]  # type: ignore[return-value]
        return self.value_and_gradient(y_true, y_pred, sample_weight=sample_weight)[1]  # type: ignore[return-value]

    def value_and_gradient(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        need_gradient: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray | None]:
        """Both at once, sharing the work (the gradient is None if not needed).

        ``sample_weight``: None, or one weight ``>= 0`` per sample, shape ``(batch,)``;
        the value is then ``sum_i w_i l_i / batch`` (see the module's docstring).
        """
        raise NotImplementedError

    def _sample_weight(self, sample_weight: np.ndarray, batch: int) -> np.ndarray:
        """The weights checked for this batch: float64 ``(batch,)``, finite, ``>= 0``
        (a batch whose weights are all 0 is allowed: it contributes nothing)."""
        return check_sample_weight(
            sample_weight, batch, f"{self.name}: sample_weight", allow_all_zero=True
        )

    def _pred(self, y_pred: np.ndarray) -> np.ndarray:
        p = np.asarray(y_pred)
        if p.dtype.kind != "f":
            p = p.astype(np.float32)
        if p.ndim == 0:
            raise ValueError(f"{self.name}: y_pred must have a batch dimension, got a scalar")
        if p.shape[0] == 0:
            raise ValueError(f"{self.name}: the batch is empty (y_pred has shape {p.shape})")
        return p

    def _probabilities(self, p: np.ndarray) -> np.ndarray:
        """``p`` clipped to ``[eps, 1 - eps]``, after checking that it is in [0, 1]."""
        if p.min() < 0 or p.max() > 1:
            raise ValueError(
                f"{self.name}: y_pred must be probabilities in [0, 1], got values in "
                f"[{p.min():.4g}, {p.max():.4g}]; for raw scores use from_logits=True"
            )
        eps = np.finfo(p.dtype).eps
        return np.clip(p, eps, 1 - eps)

    def check_targets(
        self, y_true: np.ndarray, output_shape: tuple[int, ...] | None, where: str
    ) -> None:
        """Check a whole target set against a model whose per-sample output shape is
        ``output_shape``, once, before training, so that a bad row is named by its index
        in the data."""
        y = np.asarray(y_true)
        if output_shape is None:
            return
        if y.ndim == 0:
            raise ValueError(f"{where} must have one row per sample, got a scalar")
        shape = (len(y), *output_shape)
        if y.shape != shape and not (y.ndim == 1 and output_shape == (1,)):
            raise ValueError(
                f"{where} has shape {y.shape}, but the model's output is "
                f"(batch, {', '.join(map(str, output_shape))}) and {self.name} needs targets "
                f"of shape {shape}"
            )

    def _same_shape_target(self, p: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """``y_true`` as an array of ``p``'s shape and dtype; ``(n,)`` is accepted for
        ``(n, 1)`` (a common source of silent ``(n, n)`` broadcasting elsewhere)."""
        y = np.asarray(y_true)
        if y.shape != p.shape and y.ndim == 1 and p.shape == (y.shape[0], 1):
            y = y.reshape(-1, 1)
        if y.shape != p.shape:
            raise ValueError(
                f"{self.name}: y_true has shape {y.shape} but y_pred has shape {p.shape}; "
                "they must match"
            )
        return y.astype(p.dtype, copy=False)

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (model files store them)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error over all elements: ``L = mean((p - y)^2)``, ``dL/dp = 2 (p - y) / N``.

    ``N = p.size``: the seed 003 formula ``1/n sum (y_i - y_hat_i)^2``, extended to several
    outputs by averaging over them too (as Keras and PyTorch do).

    With ``sample_weight`` ``w`` (``batch`` rows of ``m`` elements each, ``N = batch m``),
    each sample's squared errors are averaged first, then weighted::

        L = sum_i w_i mean_j (p_ij - y_ij)^2 / batch = sum_ij w_i (p_ij - y_ij)^2 / N
        dL/dp_ij = 2 w_i (p_ij - y_ij) / N
    """

    name = "mse"
    task = "regression"
    formula = Formula("L = mean((y_hat - y)^2)", r"L = \frac{1}{n} \sum (\hat{y} - y)^2")

    def value_and_gradient(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        need_gradient: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray | None]:
        p = self._pred(y_pred)
        diff = p - self._same_shape_target(p, y_true)
        if sample_weight is None:
            value = _mean64(np.square(diff, dtype=np.float64))
            grad = diff * p.dtype.type(2.0 / max(p.size, 1)) if need_gradient else None
            return value, grad
        w = self._sample_weight(sample_weight, p.shape[0])
        n = max(p.size, 1)
        value = _weighted_sum64(w, np.square(diff, dtype=np.float64)) / n
        grad = diff * _weight_column(w, 2.0 / n, p) if need_gradient else None
        return value, grad


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy, averaged over all elements (one or more independent outputs).

    From probabilities ``p`` (clipped to ``[eps, 1 - eps]``)::

        L = -mean(y log p + (1 - y) log(1 - p))
        dL/dp = (p - y) / (p (1 - p)) / N

    From logits ``z`` (``from_logits=True``), with ``log p = -softplus(-z)`` and
    ``log(1 - p) = -softplus(z)``, which simplifies to::

        L = mean(softplus(z) - y z)
        dL/dz = (sigmoid(z) - y) / N

    Targets ``y`` are in [0, 1] (usually 0 or 1) with the shape of the prediction;
    ``(n,)`` is accepted for ``(n, 1)``.

    With ``sample_weight`` ``w`` (``N = batch m`` elements, ``m`` per sample), each
    sample's elements are averaged first, then weighted (``l_ij`` the element's loss
    above)::

        L = sum_i w_i mean_j l_ij / batch = sum_ij w_i l_ij / N
        dL/dp_ij = w_i (p_ij - y_ij) / (p_ij (1 - p_ij)) / N
        dL/dz_ij = w_i (sigmoid(z_ij) - y_ij) / N          (from logits)
    """

    name = "binary_crossentropy"
    task = "classification"
    formula = Formula(
        "L = -mean(y log(y_hat) + (1 - y) log(1 - y_hat))",
        r"L = -\frac{1}{n} \sum \left(y \log \hat{y} + (1 - y) \log(1 - \hat{y})\right)",
    )

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = bool(from_logits)

    @property
    def link(self) -> str:
        """``"sigmoid"`` from logits, else ``"identity"`` (the output is a probability)."""
        return "sigmoid" if self.from_logits else "identity"

    def check_targets(
        self, y_true: np.ndarray, output_shape: tuple[int, ...] | None, where: str
    ) -> None:
        """Shapes as the base class checks them, and every target in [0, 1]."""
        super().check_targets(y_true, output_shape, where)
        y = np.asarray(y_true)
        bad = np.flatnonzero(~((y >= 0) & (y <= 1)).reshape(len(y), -1).all(axis=1))
        if bad.size:
            raise ValueError(
                f"{where}: binary cross-entropy needs targets in [0, 1]; row {bad[0]} has "
                f"{y[bad[0]]!r}"
            )

    def value_and_gradient(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        need_gradient: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray | None]:
        z = self._pred(y_pred)
        y = self._same_shape_target(z, y_true)
        if sample_weight is not None:
            return self._weighted(y, z, need_gradient, sample_weight)
        n = z.dtype.type(max(z.size, 1))
        if self.from_logits:
            value = _mean64(F.softplus(z) - y * z)
            grad = (F.sigmoid(z) - y) / n if need_gradient else None
            return value, grad
        p = self._probabilities(z)
        value = -_mean64(y * np.log(p) + (1 - y) * np.log1p(-p))
        grad = (p - y) / (p * (1 - p)) / n if need_gradient else None
        return value, grad

    def _weighted(
        self, y: np.ndarray, z: np.ndarray, need_gradient: bool, sample_weight: np.ndarray
    ) -> tuple[float, np.ndarray | None]:
        w = self._sample_weight(sample_weight, z.shape[0])
        n = max(z.size, 1)
        if self.from_logits:
            value = _weighted_sum64(w, F.softplus(z) - y * z) / n
            grad = (F.sigmoid(z) - y) * _weight_column(w, 1.0 / n, z) if need_gradient else None
            return value, grad
        p = self._probabilities(z)
        value = -_weighted_sum64(w, y * np.log(p) + (1 - y) * np.log1p(-p)) / n
        grad = (p - y) / (p * (1 - p)) * _weight_column(w, 1.0 / n, p) if need_gradient else None
        return value, grad

    def get_config(self) -> dict[str, Any]:
        """``from_logits``."""
        return {"from_logits": self.from_logits}

    def __repr__(self) -> str:
        return f"BinaryCrossEntropy(from_logits={self.from_logits})"


class CrossEntropy(Loss):
    """Categorical cross-entropy, averaged over the batch.

    From probabilities ``p: (batch, classes)`` (clipped to ``[eps, 1 - eps]``)::

        L = -mean_rows(sum_k y_k log p_k)
        dL/dp = -y / p / batch

    From logits ``z`` (``from_logits=True``) through ``log_softmax``::

        L = -mean_rows(sum_k y_k log_softmax(z)_k)
        dL/dz = (softmax(z) sum_k y_k - y) / batch  =  (softmax(z) - y) / batch

    (the second form when each target row sums to 1, as one-hot rows and labels do).

    ``y_true`` is either integer labels ``(batch,)`` in ``[0, classes)`` (Keras'
    "sparse" form, PyTorch's usual form) or rows of class probabilities ``(batch, classes)``
    such as one-hot vectors.

    With ``sample_weight`` ``w``, sample ``i``'s loss ``l_i = -sum_k y_ik log p_ik`` is
    weighted::

        L = sum_i w_i l_i / batch
        dL/dp_ik = -w_i y_ik / p_ik / batch
        dL/dz_ik = w_i (softmax(z_i)_k sum_k' y_ik' - y_ik) / batch      (from logits)
    """

    name = "crossentropy"
    task = "classification"
    formula = Formula(
        "L = -mean over samples of sum_k y_k log(y_hat_k)",
        r"L = -\frac{1}{n} \sum_i \sum_k y_{ik} \log \hat{y}_{ik}",
    )

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = bool(from_logits)

    @property
    def link(self) -> str:
        """``"softmax"`` from logits, else ``"identity"`` (the output is probabilities)."""
        return "softmax" if self.from_logits else "identity"

    def check_targets(
        self, y_true: np.ndarray, output_shape: tuple[int, ...] | None, where: str
    ) -> None:
        """Labels in ``[0, classes)`` (named by row), or rows of ``classes`` probabilities."""
        if output_shape is None:
            return
        y = np.asarray(y_true)
        if y.ndim == 0:
            raise ValueError(f"{where} must have one row per sample, got a scalar")
        try:
            self._labels((len(y), *output_shape), y)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None

    def _labels(self, shape: tuple[int, ...], y_true: np.ndarray) -> np.ndarray | None:
        """Integer labels ``(batch,)`` for predictions of ``shape``, or None for 2-D targets."""
        if len(shape) != 2:
            raise ValueError(f"{self.name}: y_pred must have shape (batch, classes), got {shape}")
        batch, classes = shape
        y = np.asarray(y_true)
        if y.shape == (batch, 1) and classes > 1:  # a column of labels
            y = y.reshape(-1)
        if y.ndim == 2:
            if y.shape != shape:
                raise ValueError(
                    f"{self.name}: one-hot (or probability) rows must have shape {shape}, "
                    f"got {y.shape}"
                )
            return None
        if y.shape != (batch,):
            raise ValueError(
                f"{self.name}: y_true must be labels of shape ({batch},) or one-hot "
                f"rows of shape {shape}, got {y.shape}"
            )
        if y.dtype.kind in "iu":
            bad = (y < 0) | (y >= classes)
        elif y.dtype.kind == "f":  # NaN fails every comparison, so it counts as bad
            bad = ~((y >= 0) & (y < classes) & (np.floor(y) == y))
        else:
            raise ValueError(f"{self.name}: labels must be integers, got dtype {y.dtype}")
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{self.name}: label {y[i].item()!r} at index {i} is not an integer in "
                f"[0, {classes})"
            )
        return y.astype(np.intp, copy=False)

    def value_and_gradient(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        need_gradient: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray | None]:
        z = self._pred(y_pred)
        labels = self._labels(z.shape, y_true)
        rows = np.arange(z.shape[0])
        y = None if labels is not None else self._same_shape_target(z, y_true)
        if sample_weight is not None:
            return self._weighted(y, labels, z, need_gradient, sample_weight)
        batch = z.dtype.type(z.shape[0])
        if self.from_logits:
            log_p = F.log_softmax(z, axis=-1)
            grad = None
            if labels is not None:
                value = -_sum64(log_p[rows, labels])
                if need_gradient:
                    grad = np.exp(log_p)
                    grad[rows, labels] -= 1
            else:
                # y * log_p only where y != 0: a far-off class has log_p = -inf, and 0 * -inf
                # would be NaN. The gradient softmax * sum(y) - y is p - y for rows summing to 1.
                y_log_p = np.multiply(y, log_p, out=np.zeros_like(log_p), where=y != 0)
                value = -_sum64(y_log_p)
                if need_gradient:
                    grad = np.exp(log_p) * np.sum(y, axis=1, keepdims=True) - y
            if grad is not None:
                grad /= batch
            return float(value / z.shape[0]), grad
        p = self._probabilities(z)
        if y is None:
            y = np.zeros_like(p)
            y[rows, labels] = 1
        value = -_sum64(y * np.log(p)) / z.shape[0]
        grad = -y / p / batch if need_gradient else None
        return float(value), grad

    def _weighted(
        self,
        y: np.ndarray | None,
        labels: np.ndarray | None,
        z: np.ndarray,
        need_gradient: bool,
        sample_weight: np.ndarray,
    ) -> tuple[float, np.ndarray | None]:
        batch = z.shape[0]
        w = self._sample_weight(sample_weight, batch)
        rows = np.arange(batch)
        grad = None
        if self.from_logits:
            log_p = F.log_softmax(z, axis=-1)
            if labels is not None:
                value = -float(np.dot(w, log_p[rows, labels].astype(np.float64)))
                if need_gradient:
                    grad = np.exp(log_p)
                    grad[rows, labels] -= 1
            else:
                y_log_p = np.multiply(y, log_p, out=np.zeros_like(log_p), where=y != 0)
                value = -_weighted_sum64(w, y_log_p)
                if need_gradient:
                    grad = np.exp(log_p) * np.sum(y, axis=1, keepdims=True) - y
        else:
            p = self._probabilities(z)
            if y is None:
                y = np.zeros_like(p)
                y[rows, labels] = 1
            value = -_weighted_sum64(w, y * np.log(p))
            if need_gradient:
                grad = -y / p
        if grad is not None:
            grad *= _weight_column(w, 1.0 / batch, grad)
        return value / batch, grad

    def get_config(self) -> dict[str, Any]:
        """``from_logits``."""
        return {"from_logits": self.from_logits}

    def __repr__(self) -> str:
        return f"CrossEntropy(from_logits={self.from_logits})"


class Poisson(Loss):
    """Half the Poisson deviance, averaged over all elements (scikit-learn's
    ``HalfPoissonLoss``, the loss of ``MLPRegressor(loss="poisson")``).

    From means ``p > 0`` and targets ``y >= 0`` (counts, or any non-negative values)::

        L = mean(y log(y / p) - y + p)            (y log(y / p) = 0 where y = 0)
        dL/dp = (1 - y / p) / N

    Each term is ``>= 0``, and 0 exactly where ``p = y``. (Keras' ``Poisson`` is
    ``mean(p - y log p)``: the same gradient, without the constant ``y log y - y`` that
    makes a perfect prediction score 0.)

    From log means ``z = log p`` (``from_log=True``: a model whose output is the input of an
    ``Exp``, the log link)::

        L = mean(exp(z) - y z + y log y - y)
        dL/dz = (exp(z) - y) / N

    ``exp(z)`` is not clipped: a large ``z`` gives ``inf``, which training reports as a
    diverged step. The term ``y log y`` is computed only where ``y > 0`` (scipy's ``xlogy``
    without scipy), and each element is evaluated as ``y (log y - log p) + (p - y)`` in
    both forms, two small differences where ``p`` is near ``y``.

    With ``sample_weight`` ``w`` (``N = batch m`` elements, ``m`` per sample), each sample's
    elements are averaged first, then weighted (``l_ij`` the element's loss above)::

        L = sum_i w_i mean_j l_ij / batch = sum_ij w_i l_ij / N
        dL/dp_ij = w_i (1 - y_ij / p_ij) / N
        dL/dz_ij = w_i (exp(z_ij) - y_ij) / N          (from log means)
    """

    name = "poisson"
    task = "regression"
    formula = Formula(
        "L = mean(y log(y / y_hat) - y + y_hat)",
        r"L = \frac{1}{n} \sum \left(y \log \frac{y}{\hat{y}} - y + \hat{y}\right)",
    )

    def __init__(self, from_log: bool = False) -> None:
        self.from_log = bool(from_log)

    @property
    def link(self) -> str:
        """``"exp"`` from log means, else ``"identity"`` (the output is the mean)."""
        return "exp" if self.from_log else "identity"

    def check_targets(
        self, y_true: np.ndarray, output_shape: tuple[int, ...] | None, where: str
    ) -> None:
        """Shapes as the base class checks them, and every target finite and ``>= 0``."""
        super().check_targets(y_true, output_shape, where)
        y = np.asarray(y_true)
        i = _first_negative_or_not_finite(y)
        if i is not None:
            row = int(np.unravel_index(i, y.shape)[0])
            raise ValueError(
                f"{where}: the Poisson loss needs finite targets >= 0; row {row} has "
                f"{np.asarray(y[row]).tolist()!r}"
            )

    def value_and_gradient(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        need_gradient: bool = True,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray | None]:
        z = self._pred(y_pred)
        y = self._non_negative(self._same_shape_target(z, y_true))
        if self.from_log:
            p = np.exp(z)
            terms = _half_poisson_deviance(y, z, p)
            grad = p - y if need_gradient else None  # times w_i / N below
        else:
            p = self._means(z)
            terms = _half_poisson_deviance(y, np.log(p), p)
            grad = (p - y) / p if need_gradient else None  # 1 - y / p
        n = max(z.size, 1)
        if sample_weight is None:
            if grad is not None:
                grad /= z.dtype.type(n)
            return _mean64(terms), grad
        w = self._sample_weight(sample_weight, z.shape[0])
        if grad is not None:
            grad *= _weight_column(w, 1.0 / n, z)
        return _weighted_sum64(w, terms) / n, grad

    def _non_negative(self, y: np.ndarray) -> np.ndarray:
        """``y``, after checking that every target is finite and ``>= 0``."""
        i = _first_negative_or_not_finite(y)
        if i is not None:
            row = np.unravel_index(i, y.shape)[0]
            raise ValueError(
                f"{self.name}: y_true must be finite and >= 0 (counts or other non-negative "
                f"values); row {row} has {y.reshape(-1)[i].item()!r}"
            )
        return y

    def _means(self, p: np.ndarray) -> np.ndarray:
        """``p``, after checking that every mean is ``> 0`` (as the probability losses check
        ``[0, 1]``, a NaN passes: its loss is NaN, which training reports as diverged)."""
        if p.min() <= 0:
            raise ValueError(
                f"{self.name}: y_pred must be means > 0, got values in "
                f"[{p.min():.4g}, {p.max():.4g}]; for log means use from_log=True (or end "
                "the model in Exp)"
            )
        return p

    def get_config(self) -> dict[str, Any]:
        """``from_log``."""
        return {"from_log": self.from_log}

    def __repr__(self) -> str:
        return f"Poisson(from_log={self.from_log})"


def _first_negative_or_not_finite(y: np.ndarray) -> int | None:
    """The flat index of the first target that is negative, NaN or infinite, or None (two
    reductions when every target is good, the usual case)."""
    if y.size == 0 or (y.min() >= 0 and np.isfinite(y.max())):
        return None
    return int(np.flatnonzero(~(np.isfinite(y) & (y >= 0)))[0])


def _half_poisson_deviance(y: np.ndarray, log_p: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``y (log y - log p) + (p - y)`` elementwise, the first term 0 where ``y = 0`` (also
    where ``log p`` is infinite, where ``0 * inf`` would be NaN)."""
    y_log = np.log(y, out=np.zeros_like(y), where=y > 0)  # log y, 0 where y = 0
    y_log -= log_p  # log y - log p (only read where y > 0)
    terms = np.multiply(y, y_log, out=np.zeros_like(y_log), where=y != 0)
    terms += p
    terms -= y
    return terms


def fused_logits_loss(last_layer: Layer, loss: Loss) -> Loss | None:
    """The logits form of ``loss`` if ``last_layer`` + ``loss`` is a fused pair, else None.

    The pairs are ``Sigmoid`` + ``BinaryCrossEntropy()``, ``Softmax`` + ``CrossEntropy()``
    (both from probabilities) and ``Exp`` + ``Poisson()`` (from means). Training then feeds
    the activation's *input* to the returned loss, whose gradient is ``p - y`` (scaled by
    the mean), ``p`` the activation's output.
    """
    from .activations import Exp, Sigmoid, Softmax  # activations imports layers, not losses

    if isinstance(loss, BinaryCrossEntropy) and not loss.from_logits:
        if type(last_layer) is Sigmoid:  # exactly: a subclass may change f or its backward
            return BinaryCrossEntropy(from_logits=True)
    if isinstance(loss, CrossEntropy) and not loss.from_logits:
        if type(last_layer) is Softmax:
            return CrossEntropy(from_logits=True)
    if isinstance(loss, Poisson) and not loss.from_log:
        if type(last_layer) is Exp:
            return Poisson(from_log=True)
    return None


REGISTRY: Registry[Loss] = Registry("loss", Loss)
REGISTRY.register(MSE, "mean_squared_error")
REGISTRY.register(BinaryCrossEntropy, "bce", name="binary_crossentropy")
REGISTRY.register(
    CrossEntropy,
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "cross_entropy",
    name="crossentropy",
)
REGISTRY.register(Poisson)


def get(identifier: str | Loss) -> Loss:
    """Return a new loss for a name (case-insensitive) or the instance itself.

    Raises ValueError naming the bad value and listing the valid names.
    """
    return REGISTRY.get(identifier)


def names() -> list[str]:
    """The valid loss names."""
    return REGISTRY.names()
