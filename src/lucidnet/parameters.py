"""Parameters and buffers: the arrays a layer owns, one object shared by the layer and the model.

A ``Parameter`` is a trained array: its ``value``, the ``grad`` that ``backward`` writes,
and the penalties that apply to it (``l1``, ``l2``: the training step adds
``l1 * sum|w| + l2 * sum(w^2)`` to the loss and ``l1 * sign(w) + 2 l2 w`` to the
gradient). A ``Buffer`` is state that is saved and restored but never trained (a
BatchNorm's running mean).

There is exactly one object per array. The layer reads it (``layer.weights`` is
``layer.parameter("weights").value``); the model lists the same objects; the optimizer
updates ``value`` in place. When a ``Sequential`` lays its parameters out in one flat
buffer (for speed), it replaces each ``value`` and ``grad`` by a view of that buffer, so
every holder keeps seeing the live numbers. Assigning to ``layer.weights`` copies into
the parameter (``Parameter.assign``): it can never detach the layer from the model.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .validation import check_non_negative

__all__ = [
    "Buffer",
    "FlatBuffers",
    "Parameter",
    "ParameterList",
    "parameter_property",
    "penalty",
]


def _copy_into(target: np.ndarray, value: Any, where: str) -> None:
    """Copy ``value`` into ``target`` (same shape; a real number type), or raise naming it."""
    a = np.asarray(value)
    if a.shape != target.shape:
        raise ValueError(f"{where}: expected an array of shape {target.shape}, got {a.shape}")
    if a.dtype.kind not in "fiub":
        raise ValueError(
            f"{where}: expected real numbers (cast to {target.dtype.name}), got dtype {a.dtype}"
        )
    np.copyto(target, a, casting="unsafe" if a.dtype.kind in "iub" else "same_kind")


class Buffer:
    """State saved with the model but not trained: ``name`` and its live ``value``.

    Assigning ``buffer.value = a`` copies ``a`` into the live array (same shape, cast to
    its dtype): a holder can never end up with an array the others do not see. Only the
    model, laying out its flat buffers, and ``astype`` put a new array in place
    (``_bind``).
    """

    __slots__ = ("name", "value")
    _live = ("value",)  # attributes whose assignment copies into the array

    def __init__(self, name: str, value: np.ndarray) -> None:
        self.name = name
        self._bind(value=value)

    def __setattr__(self, attr: str, new: Any) -> None:
        if attr in self._live and hasattr(self, attr):
            current = getattr(self, attr)
            if new is not current:  # (p.value += d has already written into it)
                where = self.name if attr == "value" else f"{self.name} {attr}"
                _copy_into(current, new, where)
            return
        object.__setattr__(self, attr, new)

    def _bind(self, **arrays: np.ndarray) -> None:
        """Put new arrays in place (the model's flat-buffer views, a converted dtype)."""
        for attr, array in arrays.items():
            object.__setattr__(self, attr, array)

    def assign(self, value: Any) -> None:
        """Copy ``value`` into the live array (same shape; cast to its dtype)."""
        _copy_into(self.value, value, self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, shape={self.value.shape})"


class Parameter(Buffer):
    """A trained array: ``name``, ``value``, its gradient ``grad`` and its penalties.

    ``name`` is the parameter's name in its layer (``"weights"``) until a model adopts the
    layer; the model then names it ``"<layer>.<parameter>"`` (``"dense_1.weights"``), the
    key of optimizer state and of model files. Assigning ``value`` or ``grad`` copies into
    the live array (a ``backward`` may write ``p.grad = x.T @ g``); ``l1`` and ``l2`` are
    checked whenever they are set.
    """

    __slots__ = ("grad", "l1", "l2")
    _live = ("value", "grad")

    def __init__(
        self,
        name: str,
        value: np.ndarray,
        grad: np.ndarray | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> None:
        super().__init__(name, value)
        self._bind(grad=np.zeros_like(value) if grad is None else grad)
        self.l1 = l1
        self.l2 = l2

    def __setattr__(self, attr: str, new: Any) -> None:
        if attr in ("l1", "l2"):
            new = check_non_negative(new, f"{getattr(self, 'name', 'parameter')}: {attr}")
        super().__setattr__(attr, new)

    @property
    def penalized(self) -> bool:
        """Whether a penalty applies to this parameter."""
        return bool(self.l1 or self.l2)


def penalty(params: Any) -> float:
    """``sum(l1 |w| + l2 w^2)`` over ``params`` (for L2 a dot product, no copy).

    The penalty's gradient, ``l1 sign(w) + 2 l2 w``, is added by the training step
    (``lucidnet.training.penalties``).
    """
    total = 0.0
    for p in params:
        if p.l2:
            total += p.l2 * float(np.vdot(p.value, p.value))
        if p.l1:
            total += p.l1 * float(np.add.reduce(np.abs(p.value), axis=None, dtype=np.float64))
    return total


class FlatBuffers(NamedTuple):
    """One flat array holding every parameter value, one holding every gradient."""

    values: np.ndarray
    grads: np.ndarray


class ParameterList(list):
    """A model's parameters in order, and the flat buffers they are views of (or None).

    An optimizer handed such a list with ``flat`` set may update the two flat arrays in a
    few whole-array calls instead of looping over the parameters: the model laid them out
    that way on purpose (``Sequential``), and says so here.
    """

    flat: FlatBuffers | None = None

    def __init__(self, params: Any = (), flat: FlatBuffers | None = None) -> None:
        super().__init__(params)
        self.flat = flat


class parameter_property:
    """A layer attribute that reads a parameter's live array; assigning copies into it.

    ``weights = parameter_property("weights")`` on a layer class makes ``layer.weights``
    the array of ``layer.parameter("weights")`` and ``layer.weights = a`` a checked copy
    (shape kept, cast to the parameter's dtype), never a rebinding that would detach the
    layer from the model's flat buffer. ``grad=True`` gives read-only access to the
    gradient instead. A parameter the layer does not have reads as None.
    """

    def __init__(self, name: str, grad: bool = False) -> None:
        self.name, self.grad = name, grad

    def __get__(self, layer: Any, owner: type | None = None) -> Any:
        if layer is None:
            return self
        p = layer._parameters.get(self.name)
        if p is None:
            return None
        return p.grad if self.grad else p.value

    def __set__(self, layer: Any, value: Any) -> None:
        p = layer._parameters.get(self.name)
        what = f"{layer.name}.{self.name}" + (" gradient" if self.grad else "")
        if p is None:
            raise AttributeError(f"{layer.name} has no parameter {self.name!r}")
        if value is (p.grad if self.grad else p.value):
            return  # an in-place operator (layer.weights -= d) has already written into it
        if self.grad:
            raise AttributeError(f"{what} is written by backward; it cannot be assigned")
        _copy_into(p.value, value, what)
