"""Optimizers: one update rule each, applied in place to ``Parameter`` values.

``optimizer.step(model.parameters())`` reads each parameter's gradient (left there by
``backward``) and updates its value in place, so every reference to ``layer.weights``
stays valid. State (velocities, moment estimates) lives per parameter, keyed by the
parameter's name, in ``optimizer.state``.

Conventions, stated once:

- The formulas follow PyTorch's ``torch.optim`` (momentum as ``v = mu v + g``; epsilon
  added *outside* the square root, after bias correction for Adam). Keras differs in
  details: its SGD momentum folds ``lr`` into the velocity, its Adam adds epsilon to the
  uncorrected ``sqrt(v)``, and its RMSprop adds it inside the root. For a constant
  learning rate the SGD forms agree exactly; the epsilon placements differ only when
  ``sqrt(v)`` is near epsilon.
- ``weight_decay`` is *decoupled* weight decay (Loshchilov and Hutter's AdamW), available
  on every optimizer: before the rule, ``w <- w - lr * weight_decay * w``. It shrinks the
  weights directly and is not part of the loss. An L2 penalty (``Dense(..., l2=...)``) is
  different: it adds ``l2 * sum(w^2)`` to the loss and ``2 * l2 * w`` to the gradient, so
  it passes through the adaptive scaling of RMSprop and Adam. For plain SGD the two are
  the same thing (``weight_decay = 2 * l2``).
- Each update is a handful of whole-array NumPy calls writing into per-parameter buffers
  (``out=``), with no allocation per step after the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from .parameters import Parameter, ParameterList
from .registry import Registry
from .validation import check_fraction, check_non_negative, check_positive

__all__ = [
    "REGISTRY",
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "OptimizerSnapshot",
    "RMSprop",
    "get",
    "names",
]

State = dict[str, np.ndarray]


class OptimizerSnapshot(NamedTuple):
    """An optimizer's state at one moment (``Optimizer.snapshot``)."""

    state: dict[str, State]  # copies of the per-parameter buffers and step counts
    arrays: dict[str, np.ndarray]  # the parameter array each name's state belonged to
    iterations: int
    lr: float


class Optimizer:
    """Base class: ``step(parameters)`` applies one update to every parameter.

    Subclasses write their rule in ``_update(value, grad, state)``, where ``state`` is the
    parameter's own dict of buffers, created empty on its first step (``_buffer`` makes
    them). ``iterations`` counts steps; ``lr`` may be changed between steps (schedules).

    State is kept per parameter name *and* array: if a name comes with a different array
    (the optimizer reused on a fresh model), that parameter starts from fresh state, as
    in PyTorch, where state belongs to the tensor. ``state[name]["step"]`` counts the
    steps each parameter has taken.

    **Whole-buffer updates.** A ``Sequential`` keeps all its parameters in one flat
    buffer and all gradients in another (``Parameter`` values are views into them), and
    its ``parameters()`` list says so (``ParameterList.flat``). Handed such a list, the
    rule runs once on the two flat buffers, with its own buffers flat too: a handful of
    NumPy calls per step for the whole model instead of a handful per array. Nothing is
    guessed from memory addresses. ``state[name]`` then holds views into those flat
    buffers, so it reads the same either way.
    """

    default_lr = 0.001  # each rule's default learning rate

    def __init__(
        self, lr: float | None = None, weight_decay: float = 0.0, learning_rate: float | None = None
    ) -> None:
        self._label = type(self).__name__
        if lr is not None and learning_rate is not None:
            raise ValueError(
                f"{self._label}: give lr or learning_rate (the same setting), not both; "
                f"got lr={lr!r}, learning_rate={learning_rate!r}"
            )
        rate = lr if lr is not None else learning_rate
        self.lr = check_positive(
            self.default_lr if rate is None else rate, f"{self._label}: learning rate"
        )
        self.weight_decay = check_non_negative(weight_decay, f"{self._label}: weight_decay")
        self.iterations = 0
        self.state: dict[str, State] = {}
        self._arrays: dict[str, np.ndarray] = {}  # the array each name's state belongs to
        self._flat: _FlatState | None = None

    def step(self, parameters: Iterable[Parameter]) -> None:
        """Update each ``value`` in place from its ``grad``.

        Handed a ``ParameterList`` that carries flat buffers (``model.parameters()``), the
        rule runs once on the two flat arrays; any other list is updated parameter by
        parameter.
        """
        params = parameters if isinstance(parameters, ParameterList) else list(parameters)
        known = self._flat
        if known is not None and known.same_arrays(params):  # the usual case: no re-check
            self.iterations += 1
            self._step_flat(params, known.values, known.grads)
            return
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(
                f"{self._label}: parameter names must be unique (state is kept per name); "
                "pass model.parameters(), not the parameters of several layers mixed"
            )
        self.iterations += 1
        flat = params.flat if isinstance(params, ParameterList) else None
        if flat is not None and self._step_flat(params, flat.values, flat.grads):
            return
        self._flat = None
        for p in params:
            if self._arrays.get(p.name) is not p.value:
                self._arrays[p.name] = p.value
                self.state[p.name] = {}
            self._apply(p.value, p.grad, self.state[p.name])

    def _apply(self, value: np.ndarray, grad: np.ndarray, state: State) -> None:
        """Count the step, decay the weights (decoupled), then the rule."""
        count = state.setdefault("step", np.zeros((), dtype=np.int64))
        count += 1
        if self.weight_decay:
            value *= value.dtype.type(1.0 - self.lr * self.weight_decay)
        self._update(value, grad, state, int(count))

    def _step_flat(self, params: list[Parameter], values: np.ndarray, grads: np.ndarray) -> bool:
        """One update on the flat buffers; False if the state cannot be made flat (the
        parameters have taken different numbers of steps)."""
        flat = self._flat
        if flat is None or not flat.same_arrays(params):
            flat = _FlatState.gather(params, values, grads, self.state, self._arrays)
            if flat is None:
                return False
            self._flat = flat
            for p in params:
                self._arrays[p.name] = p.value
        self._apply(values, grads, flat.state)
        if len(flat.state) != flat.linked:  # the rule made new buffers: expose their views
            flat.link(params, self.state)
        return True

    def _update(self, value: np.ndarray, grad: np.ndarray, state: State, step: int) -> None:
        """The rule, in place; ``step`` counts from 1."""
        raise NotImplementedError

    def get_state(self) -> dict[str, State]:
        """The per-parameter buffers (scratch space left out), for saving."""
        return {
            name: {key: buf for key, buf in state.items() if key != "scratch"}
            for name, state in self.state.items()
        }

    def state_of(self, parameters: Iterable[Parameter]) -> dict[str, State]:
        """The buffers that belong to ``parameters`` (by name *and* array; scratch space
        left out): what their next step continues from. A name whose state belongs to
        another array is left out, as the next step starts it fresh."""
        arrays = {p.name: p.value for p in parameters}
        return {
            name: {key: buf for key, buf in buffers.items() if key != "scratch"}
            for name, buffers in self.state.items()
            if name in arrays and self._arrays.get(name) is arrays[name]
        }

    def set_state(
        self, state: dict[str, State], parameters: Iterable[Parameter], iterations: int
    ) -> None:
        """Take saved buffers for ``parameters`` (matched by name), to resume training."""
        arrays = {p.name: p.value for p in parameters}
        unknown = sorted(set(state) - set(arrays))
        if unknown:
            raise ValueError(f"{self._label}: state for unknown parameters {unknown}")
        self.state = {name: dict(buffers) for name, buffers in state.items()}
        self._arrays = {name: arrays[name] for name in state}
        self._flat = None  # rebuilt from these on the next step
        self.iterations = int(iterations)

    def snapshot(self) -> OptimizerSnapshot:
        """A copy of everything a step changes (buffers, step counts, ``iterations``, ``lr``)
        that ``restore`` puts back: what ``fit`` keeps from the start of each epoch."""
        state = {
            name: {key: buf.copy() for key, buf in buffers.items() if key != "scratch"}
            for name, buffers in self.state.items()
        }
        return OptimizerSnapshot(state, dict(self._arrays), self.iterations, self.lr)

    def restore(self, snapshot: OptimizerSnapshot) -> None:
        """Put back the state of ``snapshot`` (copied: the snapshot stays reusable)."""
        self.state = {
            name: {key: buf.copy() for key, buf in buffers.items()}
            for name, buffers in snapshot.state.items()
        }
        self._arrays = dict(snapshot.arrays)
        self._flat = None  # rebuilt from these on the next step
        self.iterations, self.lr = snapshot.iterations, snapshot.lr

    @staticmethod
    def _buffer(state: State, key: str, like: np.ndarray) -> np.ndarray:
        """The buffer ``state[key]``, created as zeros shaped like ``like`` if missing."""
        buf = state.get(key)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = state[key] = np.zeros_like(like)
        return buf

    @property
    def learning_rate(self) -> float:
        """The learning rate (Keras' name for ``lr``; the same attribute)."""
        return self.lr

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.lr = value

    def get_config(self) -> dict[str, float | bool]:
        """The hyperparameters, as keyword arguments of the constructor."""
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self._label}({args})"


class SGD(Optimizer):
    """Gradient descent, with optional momentum and Nesterov momentum.

    Plain (``momentum=0``), seed 003's rule::

        w <- w - lr * g

    With momentum ``mu`` (velocity ``v``, zero at first)::

        v <- mu * v + g
        w <- w - lr * v                  (classical)
        w <- w - lr * (g + mu * v)       (nesterov=True: look ahead along v)
    """

    default_lr = 0.01

    def __init__(
        self,
        lr: float | None = None,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate)
        self.momentum = check_fraction(momentum, "SGD: momentum")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError(f"SGD: nesterov=True needs momentum > 0, got momentum={momentum!r}")

    def _update(self, value: np.ndarray, grad: np.ndarray, state: State, step: int) -> None:
        lr = value.dtype.type(self.lr)
        tmp = self._buffer(state, "scratch", value)
        if not self.momentum:
            np.multiply(grad, lr, out=tmp)
            value -= tmp  # w = w - lr g
            return
        mu = value.dtype.type(self.momentum)
        v = self._buffer(state, "velocity", value)
        v *= mu
        v += grad  # v = mu v + g
        if self.nesterov:
            np.multiply(v, mu, out=tmp)
            tmp += grad  # g + mu v
            tmp *= lr
        else:
            np.multiply(v, lr, out=tmp)
        value -= tmp

    def get_config(self) -> dict[str, float | bool]:
        """The hyperparameters, as keyword arguments of the constructor."""
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divide by a running root mean square of the gradient.

    With ``rho`` the decay of the average ``s`` of ``g^2`` (zero at first)::

        s <- rho * s + (1 - rho) * g^2
        m <- rho * m + (1 - rho) * g           (centered=True only)
        d <- sqrt(s - m^2) + eps               (centered)   or   sqrt(s) + eps
        w <- w - lr * g / d                    (momentum = 0)
        b <- mu * b + g / d;  w <- w - lr * b  (momentum mu > 0)

    ``eps`` is added outside the square root (PyTorch; Keras adds it inside). Defaults:
    ``lr=0.001``, ``rho=0.9`` (Keras; PyTorch uses 0.99), ``eps=1e-7``.
    """

    def __init__(
        self,
        lr: float | None = None,
        rho: float = 0.9,
        eps: float = 1e-7,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate)
        self.rho = check_fraction(rho, "RMSprop: rho")
        self.eps = check_positive(eps, "RMSprop: eps")
        self.momentum = check_fraction(momentum, "RMSprop: momentum")
        self.centered = bool(centered)

    def _update(self, value: np.ndarray, grad: np.ndarray, state: State, step: int) -> None:
        t = value.dtype.type
        rho = t(self.rho)
        s = self._buffer(state, "square_avg", value)
        d = self._buffer(state, "scratch", value)
        np.square(grad, out=d)
        d *= 1 - rho
        s *= rho
        s += d  # s = rho s + (1 - rho) g^2
        if self.centered:
            m = self._buffer(state, "grad_avg", value)
            np.multiply(grad, 1 - rho, out=d)
            m *= rho
            m += d  # m = rho m + (1 - rho) g
            np.square(m, out=d)
            np.subtract(s, d, out=d)
            np.maximum(d, 0, out=d)  # s - m^2 >= 0 in exact arithmetic, not always in float32
            np.sqrt(d, out=d)
        else:
            np.sqrt(s, out=d)
        d += t(self.eps)
        np.divide(grad, d, out=d)  # g / (sqrt(...) + eps)
        if self.momentum:
            b = self._buffer(state, "momentum", value)
            b *= t(self.momentum)
            b += d
            np.multiply(b, t(self.lr), out=d)
        else:
            d *= t(self.lr)
        value -= d

    def get_config(self) -> dict[str, float | bool]:
        """The hyperparameters, as keyword arguments of the constructor."""
        return {
            **super().get_config(),
            "rho": self.rho,
            "eps": self.eps,
            "momentum": self.momentum,
            "centered": self.centered,
        }


class Adam(Optimizer):
    """Adam: momentum on the gradient, scaled by a running root mean square.

    At step ``t`` (from 1), with ``m`` and ``v`` zero at first::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        v_max <- max(v_max, v); use v_max as v (amsgrad=True only: never shrink)
        m_hat = m / (1 - beta1^t)              (bias corrections: m and v start at 0)
        v_hat = v / (1 - beta2^t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    ``t`` counts the steps of each parameter (PyTorch's rule), so a parameter that joins
    later gets its own bias correction.

    ``eps`` is added to ``sqrt(v_hat)``, after bias correction (PyTorch's "epsilon";
    Keras adds its epsilon to the uncorrected ``sqrt(v)``). Defaults ``lr=0.001``,
    ``beta1=0.9``, ``beta2=0.999``, ``eps=1e-8``. ``weight_decay > 0`` makes it AdamW.
    """

    def __init__(
        self,
        lr: float | None = None,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        amsgrad: bool = False,
        weight_decay: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, weight_decay, learning_rate)
        self.beta1 = check_fraction(beta1, f"{self._label}: beta1")
        self.beta2 = check_fraction(beta2, f"{self._label}: beta2")
        self.eps = check_positive(eps, f"{self._label}: eps")
        self.amsgrad = bool(amsgrad)

    def _update(self, value: np.ndarray, grad: np.ndarray, state: State, step: int) -> None:
        t = value.dtype.type
        b1, b2 = t(self.beta1), t(self.beta2)
        m = self._buffer(state, "m", value)
        v = self._buffer(state, "v", value)
        d = self._buffer(state, "scratch", value)
        np.multiply(grad, 1 - b1, out=d)
        m *= b1
        m += d  # m = b1 m + (1 - b1) g
        np.square(grad, out=d)
        d *= 1 - b2
        v *= b2
        v += d  # v = b2 v + (1 - b2) g^2
        if self.amsgrad:
            v_max = self._buffer(state, "v_max", value)
            np.maximum(v_max, v, out=v_max)  # the largest v so far (same correction)
            v = v_max
        # With c1 = 1 - b1^t and c2 = 1 - b2^t, lr * m_hat / (sqrt(v_hat) + eps) is
        # (lr sqrt(c2) / c1) * m / (sqrt(v) + eps sqrt(c2)): one whole-array pass fewer.
        c1, c2 = 1.0 - self.beta1**step, 1.0 - self.beta2**step
        np.sqrt(v, out=d)
        d += t(self.eps * np.sqrt(c2))
        np.divide(m, d, out=d)
        d *= t(self.lr * np.sqrt(c2) / c1)
        value -= d

    def get_config(self) -> dict[str, float | bool]:
        """The hyperparameters, as keyword arguments of the constructor."""
        return {
            **super().get_config(),
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01): ``w <- w - lr * wd * w``, then Adam.

    The decay acts on the weights directly instead of through the gradient, so Adam's
    per-parameter scaling does not weaken it for parameters with large gradients.
    """

    def __init__(
        self,
        lr: float | None = None,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        amsgrad: bool = False,
        weight_decay: float = 0.01,
        learning_rate: float | None = None,
    ) -> None:
        super().__init__(lr, beta1, beta2, eps, amsgrad, weight_decay, learning_rate)


class _FlatState:
    """An optimizer's buffers for a flat parameter buffer, and the per-name views."""

    def __init__(
        self, params: list[Parameter], values: np.ndarray, grads: np.ndarray, state: State
    ):
        self.params, self.values, self.grads, self.state = params, values, grads, state
        # what the parameters held when this state was built (they are live objects)
        self.arrays = [(p.name, p.value, p.grad) for p in params]
        self.linked = 0  # how many of the state's buffers the per-name views cover

    def same_arrays(self, params: list[Parameter]) -> bool:
        """Whether ``params`` are the very arrays (and names) this state was built for."""
        flat = getattr(params, "flat", None)
        if params is self.params and flat is not None and flat.values is self.values:
            return True  # the model's own list, as it laid it out (the usual case)
        return len(params) == len(self.arrays) and all(
            p.value is value and p.grad is grad and p.name == name
            for p, (name, value, grad) in zip(params, self.arrays, strict=True)
        )

    @classmethod
    def gather(
        cls,
        params: list[Parameter],
        values: np.ndarray,
        grads: np.ndarray,
        states: dict[str, State],
        arrays: dict[str, np.ndarray],
    ) -> _FlatState | None:
        """Flat buffers holding the existing per-name state (fresh where it belongs to
        another array), or None if the step counts differ."""
        own = [states.get(p.name, {}) if arrays.get(p.name) is p.value else {} for p in params]
        steps = {int(s["step"]) if "step" in s else 0 for s in own}
        if len(steps) != 1:
            return None
        keys = set.intersection(*(set(s) for s in own)) - {"step"}
        flat: State = {"step": np.array(steps.pop(), dtype=np.int64)}
        for key in keys:
            buf = flat[key] = np.zeros_like(values)
            start = 0
            for p, s in zip(params, own, strict=True):
                buf[start : start + p.value.size] = s[key].reshape(-1)
                start += p.value.size
        result = cls(params, values, grads, flat)
        result.link(params, states)
        return result

    def link(self, params: list[Parameter], states: dict[str, State]) -> None:
        """Point ``states[name]`` at views of the flat buffers."""
        start = 0
        for p in params:
            stop = start + p.value.size
            states[p.name] = {
                key: buf if key == "step" else buf[start:stop].reshape(p.value.shape)
                for key, buf in self.state.items()
            }
            start = stop
        self.linked = len(self.state)


REGISTRY: Registry[Optimizer] = Registry("optimizer", Optimizer)
for _cls in (SGD, RMSprop, Adam, AdamW):
    REGISTRY.register(_cls)


def get(identifier: str | Optimizer) -> Optimizer:
    """Return a new optimizer (default hyperparameters) for a name, or the instance itself.

    Names are case-insensitive: ``"sgd"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``.
    Raises ValueError naming the bad value and listing the valid names.
    """
    return REGISTRY.get(identifier)


def names() -> list[str]:
    """The valid optimizer names."""
    return REGISTRY.names()
