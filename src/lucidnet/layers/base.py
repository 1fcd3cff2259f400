"""The layer contract.

A layer maps a batch ``x: (batch, *input_shape)`` to ``y: (batch, *output_shape)``. Its
methods, each overridden where the layer differs from the identity:

- ``output_shape(input_shape) -> output_shape`` on per-sample shapes (batch excluded;
  None when unknown), raising ValueError when the layer cannot take the input. A layer
  whose input shape is fixed by its configuration says so in ``input_shape``.
- ``forward(x, training=False) -> y`` computes ``y`` and keeps what ``backward`` needs.
- ``backward(grad_y, need_input_grad=True) -> grad_x`` takes ``dL/dy`` (the shape of
  ``y``), writes ``dL/dθ`` into each parameter's ``grad`` and returns ``dL/dx``; with
  ``need_input_grad=False`` (the first trainable layer of a network) it may skip
  ``dL/dx`` and return None.
- ``parameters()`` (trained) and ``buffers()`` (saved, not trained), created in
  ``__init__`` with ``add_parameter`` and ``add_buffer``.
- ``get_config()``: the constructor's keyword arguments, JSON-ready; ``from_config``
  builds the layer back (model files use the pair).

Gradients are overwritten by each ``backward``, not accumulated (Keras' behaviour; in
PyTorch terms there is an implicit ``zero_grad``). Penalties (L1, L2) are not part of
``backward``: they sit on the parameters and the training step applies them once.
"""

from __future__ import annotations

import copy
import re
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ..parameters import Buffer, Parameter, penalty
from ..validation import float_dtype

if TYPE_CHECKING:
    from ..model import Sequential

__all__ = ["Layer", "Shape"]

Shape = tuple[int, ...]


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", name).lower()


class Layer:
    """Base class: an identity layer with no parameters.

    A subclass overrides ``forward`` and ``backward`` (and ``output_shape`` if it changes
    the shape), creates its arrays in ``__init__`` with ``add_parameter`` /
    ``add_buffer``, and lists its constructor arguments in ``get_config``. Everything
    else (dtype conversion, deep copies, saving, the model's flat buffers) works from
    those.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name if name is not None else _snake_case(type(self).__name__)
        self._parameters: dict[str, Parameter] = {}
        self._buffers: dict[str, Buffer] = {}
        self._owner: weakref.ref[Sequential] | None = None  # the model holding the layer

    # --- the arrays -----------------------------------------------------------------------

    def add_parameter(
        self, name: str, value: np.ndarray, l1: float = 0.0, l2: float = 0.0
    ) -> Parameter:
        """Create the trained array ``name`` (its gradient starts at zero)."""
        if name in self._parameters or name in self._buffers:
            raise ValueError(f"{self.name}: an array named {name!r} exists already")
        p = Parameter(name, np.asarray(value), l1=l1, l2=l2)
        self._parameters[name] = p
        self._relayout()
        return p

    def add_buffer(self, name: str, value: np.ndarray) -> Buffer:
        """Create the saved, untrained array ``name`` (running statistics)."""
        if name in self._parameters or name in self._buffers:
            raise ValueError(f"{self.name}: an array named {name!r} exists already")
        b = Buffer(name, np.asarray(value))
        self._buffers[name] = b
        self._relayout()
        return b

    def _relayout(self) -> None:
        """A new array in a layer that is already in a model (built lazily, say): the
        model lays its parameters out again, so that it trains the new one too."""
        owner = self.owner
        if owner is not None:
            owner._pack_parameters()

    def parameter(self, name: str) -> Parameter:
        """The parameter object ``name`` (raises KeyError naming the valid ones)."""
        try:
            return self._parameters[name]
        except KeyError:
            raise KeyError(
                f"{self.name} has no parameter {name!r}; it has {sorted(self._parameters)}"
            ) from None

    def parameters(self) -> list[Parameter]:
        """The layer's trained arrays, with their gradients and penalties."""
        return list(self._parameters.values())

    def buffers(self) -> list[Buffer]:
        """The layer's saved but untrained arrays (none by default)."""
        return list(self._buffers.values())

    def penalty(self) -> float:
        """``sum(l1 |w| + l2 w^2)`` over the layer's parameters (0 when none applies)."""
        return penalty(self._parameters.values())

    # --- shapes -----------------------------------------------------------------------------

    keeps_shape = False  # True for layers whose output always has their input's shape

    @property
    def input_shape(self) -> Shape | None:
        """The per-sample input shape the layer's configuration fixes (None: any)."""
        return None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """The per-sample output shape for ``input_shape`` (None: unknown).

        Raises ValueError when the layer cannot take ``input_shape``. The default is a
        shape-preserving layer that takes any input.
        """
        return input_shape

    def _check_input_shape(self, input_shape: Shape | None) -> None:
        """Raise ValueError if ``input_shape`` is known and differs from ``input_shape``."""
        fixed = self.input_shape
        if input_shape is not None and fixed is not None and tuple(input_shape) != fixed:
            raise ValueError(
                f"{self.name}: expects inputs of shape (batch, {_dims(fixed)}), but receives "
                f"(batch, {_dims(input_shape)})"
                + (
                    f"; flatten them first ({int(np.prod(input_shape))} features)"
                    if len(input_shape) > 1 and len(fixed) == 1
                    else ""
                )
            )

    # --- computation --------------------------------------------------------------------------

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Return the layer's output for the batch ``x``."""
        return np.asarray(x)

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Return ``dL/dx`` from ``dL/dy`` (None allowed without ``need_input_grad``);
        write each parameter's gradient."""
        return np.asarray(grad)

    def start_epoch(
        self, epoch: int, rng: np.random.Generator, stream: tuple[int, ...] = ()
    ) -> None:
        """Called by training before each epoch with a generator derived from
        ``(seed, epoch)``, for layers with training-time randomness (Dropout).

        Deriving each epoch's randomness from the epoch number is what makes a run that
        stops, saves and resumes identical to a run in one piece. ``stream`` tells
        processes apart (the rank, in data-parallel training; empty in one process): a
        layer that seeds itself mixes it into its seed, ``[seed, epoch, *stream]``.
        """

    # --- conversion, copies, configuration ------------------------------------------------------

    @property
    def dtype(self) -> np.dtype | None:
        """The dtype of the layer's arrays (None for a layer without any)."""
        arrays = [*self._parameters.values(), *self._buffers.values()]
        return arrays[0].value.dtype if arrays else None

    def astype(self, dtype: object) -> Layer:
        """Convert every parameter and float buffer to ``dtype`` in place and return the
        layer (an integer buffer, such as a counter, stays as it is).

        Inside a model the model lays its parameters out again and hands its optimizer
        the state for them, cast to ``dtype``.
        """
        dt = float_dtype(dtype)
        for p in self._parameters.values():
            value = p.value.astype(dt)
            p._bind(value=value, grad=np.zeros_like(value))
        for b in self._buffers.values():
            if b.value.dtype.kind == "f":
                b._bind(value=b.value.astype(dt))
        owner = self.owner
        if owner is not None:
            owner._pack_parameters()
        return self

    @property
    def owner(self) -> Sequential | None:
        """The model this layer belongs to (None if none)."""
        return None if self._owner is None else self._owner()

    def __getstate__(self) -> dict[str, Any]:
        """A copy (``copy.deepcopy``) belongs to no model until one adopts it."""
        state = self.__dict__.copy()
        state["_owner"] = None
        return state

    def __copy__(self) -> Layer:
        """``copy.copy`` gives an independent copy, as ``copy.deepcopy`` does: a shallow
        copy would share the parameter objects, and two models training them would each
        lay them out in their own buffers."""
        return copy.deepcopy(self)

    def get_config(self) -> dict[str, Any]:
        """The constructor's keyword arguments, JSON-ready (model files store them)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """The layer ``get_config`` describes; its arrays are filled in afterwards."""
        return cls(**config)

    @classmethod
    def array_shapes(cls, config: dict[str, Any]) -> dict[str, Shape] | None:
        """The shapes of the arrays a layer built from ``config`` will have, when known
        without building it; model files check these before allocating anything."""
        return None

    # --- helpers for subclasses -----------------------------------------------------------------

    def _cached(self, value: np.ndarray | None) -> np.ndarray:
        """Return a value cached by ``forward``, or say that ``forward`` never ran."""
        if value is None:
            raise RuntimeError(f"{self.name}: backward called before forward")
        return value

    def _check_grad(self, grad: np.ndarray, expected: tuple[int, ...]) -> np.ndarray:
        grad = np.asarray(grad)
        if grad.shape != expected:
            raise ValueError(
                f"{self.name}: backward expected a gradient of shape {expected} "
                f"(the shape of the last output), got {grad.shape}"
            )
        return grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _dims(shape: Shape) -> str:
    return ", ".join(str(d) for d in shape)
