"""Optimizers: the update rules (SGD, RMSprop, Adam, AdamW) in place, their state, their
validation, the registry and the config round trip.

The rules are checked against reference implementations written out below from the
docstring formulas (PyTorch's conventions), one plain NumPy expression per line, with
fresh arrays each step: nothing is shared with the library's in-place code.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lucidnet as ln
from lucidnet import optimizers
from lucidnet.layers import Parameter
from lucidnet.optimizers import SGD, Adam, AdamW, RMSprop

# ---------------------------------------------------------------------------------------
# The seed tests (SGD).


def test_sgd_step_is_w_minus_lr_grad_in_place():
    value = np.array([1.0, -2.0], dtype=np.float32)
    grad = np.array([0.5, 0.25], dtype=np.float32)
    ln.SGD(0.1).step([Parameter("w", value, grad)])
    # [1 - 0.1 * 0.5, -2 - 0.1 * 0.25] = [0.95, -2.025]
    np.testing.assert_allclose(value, [0.95, -2.025], rtol=1e-6)
    assert value.dtype == np.float32


def test_sgd_updates_model_weights_seen_by_layers():
    model = ln.Sequential([ln.Dense(2, 1, seed=0)])
    w = model.layers[0].weights
    before = w.copy()
    model.forward(np.ones((1, 2)))
    model.backward(np.ones((1, 1)))
    ln.SGD(1.0).step(model.parameters())
    assert model.layers[0].weights is w
    np.testing.assert_allclose(w, before - 1.0)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "fast"])
def test_bad_learning_rate_is_echoed(lr):
    with pytest.raises(ValueError, match="SGD: learning rate must be"):
        ln.SGD(lr)


def test_registry():
    assert isinstance(optimizers.get("SGD"), ln.SGD)
    opt = ln.SGD(0.3)
    assert optimizers.get(opt) is opt
    with pytest.raises(
        ValueError, match=r"unknown optimizer .adamm.; valid names: adam, adamw, rmsprop, sgd"
    ):
        optimizers.get("adamm")


# ---------------------------------------------------------------------------------------
# Reference implementations, straight from the formulas. Each takes the initial weights,
# the list of gradients (one per step) and the learning rate (a number, or a list with
# one rate per step) and returns the weights after every step.


def _rates(lr, steps):
    return list(lr) if isinstance(lr, (list, tuple)) else [lr] * steps


def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    w = np.array(w, dtype=np.float64)
    v = np.zeros_like(w)
    out = []
    for g, a in zip(grads, _rates(lr, len(grads)), strict=True):
        w = w - a * weight_decay * w  # decoupled decay first
        if momentum == 0:
            w = w - a * g
        else:
            v = momentum * v + g
            direction = g + momentum * v if nesterov else v
            w = w - a * direction
        out.append(w)
    return out


def ref_rmsprop(w, grads, lr, rho=0.9, eps=1e-7, momentum=0.0, centered=False, weight_decay=0.0):
    w = np.array(w, dtype=np.float64)
    s = np.zeros_like(w)  # running mean of g^2
    m = np.zeros_like(w)  # running mean of g (centered)
    b = np.zeros_like(w)  # momentum buffer
    out = []
    for g, a in zip(grads, _rates(lr, len(grads)), strict=True):
        w = w - a * weight_decay * w
        s = rho * s + (1 - rho) * g**2
        if centered:
            m = rho * m + (1 - rho) * g
            denom = np.sqrt(s - m**2) + eps
        else:
            denom = np.sqrt(s) + eps
        if momentum > 0:
            b = momentum * b + g / denom
            w = w - a * b
        else:
            w = w - a * g / denom
        out.append(w)
    return out


def ref_adam(w, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=False, weight_decay=0.0):
    w = np.array(w, dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    v_max = np.zeros_like(w)
    out = []
    for t, (g, a) in enumerate(zip(grads, _rates(lr, len(grads)), strict=True), start=1):
        w = w - a * weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        if amsgrad:  # PyTorch: the max is over the raw v, then bias-corrected at step t
            v_max = np.maximum(v_max, v)
            v_used = v_max
        else:
            v_used = v
        m_hat = m / (1 - beta1**t)
        v_hat = v_used / (1 - beta2**t)
        w = w - a * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


W0 = np.array([[0.5, -1.5, 2.0], [0.0, 3.0, -0.25]])
# Five different gradients, varied in sign and size (so that amsgrad's max, the centered
# variance and the momentum buffers all matter).
GRADS = [
    np.array([[1.0, -2.0, 0.5], [0.1, 3.0, -0.7]]),
    np.array([[-0.5, 1.0, 0.25], [0.2, -1.0, 0.9]]),
    np.array([[0.05, 0.01, -2.0], [4.0, 0.3, 0.2]]),
    np.array([[2.0, -0.3, 0.1], [-0.6, 0.02, -1.5]]),
    np.array([[-0.1, 0.7, 1.2], [0.3, -2.5, 0.05]]),
]

# (optimizer class, constructor kwargs, reference function). Learning rates are large
# enough that the steps are visible at rtol=1e-12.
CASES = {
    "sgd": (SGD, {"lr": 0.1}, ref_sgd),
    "sgd_momentum": (SGD, {"lr": 0.1, "momentum": 0.9}, ref_sgd),
    "sgd_nesterov": (SGD, {"lr": 0.1, "momentum": 0.8, "nesterov": True}, ref_sgd),
    "sgd_weight_decay": (SGD, {"lr": 0.1, "weight_decay": 0.3}, ref_sgd),
    "sgd_momentum_weight_decay": (
        SGD,
        {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.2},
        ref_sgd,
    ),
    "rmsprop": (RMSprop, {"lr": 0.01, "rho": 0.9, "eps": 1e-7}, ref_rmsprop),
    "rmsprop_rho": (RMSprop, {"lr": 0.02, "rho": 0.5, "eps": 1e-3}, ref_rmsprop),
    "rmsprop_momentum": (RMSprop, {"lr": 0.01, "momentum": 0.9}, ref_rmsprop),
    "rmsprop_centered": (RMSprop, {"lr": 0.01, "centered": True}, ref_rmsprop),
    "rmsprop_centered_momentum": (
        RMSprop,
        {"lr": 0.01, "rho": 0.8, "centered": True, "momentum": 0.7},
        ref_rmsprop,
    ),
    "rmsprop_weight_decay": (RMSprop, {"lr": 0.01, "weight_decay": 0.5}, ref_rmsprop),
    "adam": (Adam, {"lr": 0.01}, ref_adam),
    "adam_betas": (Adam, {"lr": 0.05, "beta1": 0.5, "beta2": 0.8, "eps": 1e-4}, ref_adam),
    "adam_amsgrad": (Adam, {"lr": 0.01, "amsgrad": True}, ref_adam),
    "adam_amsgrad_betas": (
        Adam,
        {"lr": 0.01, "beta1": 0.7, "beta2": 0.6, "amsgrad": True},
        ref_adam,
    ),
    "adam_weight_decay": (Adam, {"lr": 0.01, "weight_decay": 0.5}, ref_adam),
    "adamw_default_decay": (AdamW, {"lr": 0.01}, ref_adam),
    "adamw": (AdamW, {"lr": 0.02, "weight_decay": 0.3, "amsgrad": True}, ref_adam),
}


def _ref_kwargs(cls, kwargs):
    kw = dict(kwargs)
    if cls is AdamW:
        kw.setdefault("weight_decay", 0.01)  # AdamW's documented default
    kw.pop("lr")
    return kw


@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_match_reference_formulas(case):
    cls, kwargs, ref = CASES[case]
    opt = cls(**kwargs)
    value = W0.copy()
    expected = ref(W0, GRADS, kwargs["lr"], **_ref_kwargs(cls, kwargs))
    for step, (g, want) in enumerate(zip(GRADS, expected, strict=True), start=1):
        grad = g.copy()
        opt.step([Parameter("w", value, grad)])
        np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")
        np.testing.assert_array_equal(grad, g)  # the gradient is read, never written
    assert opt.iterations == len(GRADS)
    # The weights moved, so a no-op optimizer would have failed above.
    assert not np.allclose(value, W0)


def test_amsgrad_differs_from_adam_when_the_gradient_shrinks():
    # A large gradient then small ones: v shrinks, amsgrad keeps the larger v, so its
    # steps are smaller. Guards against amsgrad being silently ignored.
    grads = [np.array([10.0]), np.array([0.1]), np.array([0.1]), np.array([0.1])]
    plain = ref_adam(np.zeros(1), grads, 0.1, beta2=0.5)
    ams = ref_adam(np.zeros(1), grads, 0.1, beta2=0.5, amsgrad=True)
    assert not np.allclose(plain[-1], ams[-1])
    for amsgrad, want in ((False, plain), (True, ams)):
        opt, w = Adam(0.1, beta2=0.5, amsgrad=amsgrad), np.zeros(1)
        for g in grads:
            opt.step([Parameter("w", w, g.copy())])
        np.testing.assert_allclose(w, want[-1], rtol=1e-12)


def test_sgd_momentum_hand_worked():
    # lr 0.1, mu 0.9, w = 1, g = 1 twice:
    # classical: v1 = 1, w1 = 1 - 0.1 = 0.9; v2 = 0.9 + 1 = 1.9, w2 = 0.9 - 0.19 = 0.71
    # nesterov:  v1 = 1, w1 = 1 - 0.1 * (1 + 0.9) = 0.81
    #            v2 = 1.9, w2 = 0.81 - 0.1 * (1 + 0.9 * 1.9) = 0.81 - 0.271 = 0.539
    for nesterov, (w1, w2) in ((False, (0.9, 0.71)), (True, (0.81, 0.539))):
        opt, w = SGD(0.1, momentum=0.9, nesterov=nesterov), np.array([1.0])
        opt.step([Parameter("w", w, np.array([1.0]))])
        np.testing.assert_allclose(w, [w1], rtol=1e-14)
        opt.step([Parameter("w", w, np.array([1.0]))])
        np.testing.assert_allclose(w, [w2], rtol=1e-14)


def test_rmsprop_and_adam_first_step_hand_worked():
    # RMSprop, rho 0.9, g = 2: s = 0.1 * 4 = 0.4, w = 1 - 0.01 * 2 / (sqrt(0.4) + eps)
    #   = 1 - 0.01 * 3.16227766... = 0.968377223...
    w = np.array([1.0])
    RMSprop(0.01, rho=0.9, eps=1e-12).step([Parameter("w", w, np.array([2.0]))])
    np.testing.assert_allclose(w, [0.9683772233983162], rtol=1e-10)
    # Adam, first step: m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps),
    # lr * sign(g) to within eps: w = [1 - 0.01, 1 + 0.01] for g = [3, -0.5].
    w = np.array([1.0, 1.0])
    Adam(0.01, eps=1e-12).step([Parameter("w", w, np.array([3.0, -0.5]))])
    np.testing.assert_allclose(w, [0.99, 1.01], rtol=1e-10)
    # eps is added outside the square root: with eps = 1, the first step is
    # lr * g / (|g| + 1) = 0.01 * 3 / 4 = 0.0075 (inside the root it would be 3/sqrt(10)).
    w = np.array([1.0])
    Adam(0.01, eps=1.0).step([Parameter("w", w, np.array([3.0]))])
    np.testing.assert_allclose(w, [1 - 0.0075], rtol=1e-12)


def test_decoupled_weight_decay_hand_worked():
    # SGD, lr 0.1, wd 0.5, w = 2, g = 1: w <- 2 - 0.1 * 0.5 * 2 = 1.9, then 1.9 - 0.1 = 1.8
    w = np.array([2.0])
    SGD(0.1, weight_decay=0.5).step([Parameter("w", w, np.array([1.0]))])
    np.testing.assert_allclose(w, [1.8], rtol=1e-14)
    # Adam, lr 0.1, wd 0.5, w = 2, g = 0 (so the Adam step itself is 0 / eps = 0):
    # only the decay acts: w = 2 * (1 - 0.05) = 1.9. An L2 term in the gradient would
    # instead pass through Adam's scaling and give a step of about lr = 0.1.
    w = np.array([2.0])
    AdamW(0.1, weight_decay=0.5).step([Parameter("w", w, np.array([0.0]))])
    np.testing.assert_allclose(w, [1.9], rtol=1e-14)


@settings(max_examples=30, deadline=None)
@given(
    grads=st.lists(
        hnp.arrays(np.float64, 3, elements=st.floats(-10, 10, allow_subnormal=False)),
        min_size=1,
        max_size=5,
    ),
    case=st.sampled_from(sorted(CASES)),
)
def test_steps_match_reference_on_random_gradients(grads, case):
    cls, kwargs, ref = CASES[case]
    w0 = np.array([1.0, -0.5, 0.25])
    opt, value = cls(**kwargs), w0.copy()
    expected = ref(w0, grads, kwargs["lr"], **_ref_kwargs(cls, kwargs))
    for g, want in zip(grads, expected, strict=True):
        opt.step([Parameter("w", value, g.copy())])
        # Centered RMSprop takes sqrt(s - m^2), a difference of nearly equal numbers
        # when the gradients barely vary: compare at a tolerance that allows for it.
        np.testing.assert_allclose(value, want, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------
# dtype, in place, state per name, iterations, lr changes.


@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_stays_float32_and_matches_float64(case):
    cls, kwargs, ref = CASES[case]
    opt = cls(**kwargs)
    value = W0.astype(np.float32)
    expected = ref(W0, GRADS, kwargs["lr"], **_ref_kwargs(cls, kwargs))
    for g, want in zip(GRADS, expected, strict=True):
        opt.step([Parameter("w", value, g.astype(np.float32))])
        assert value.dtype == np.float32
        np.testing.assert_allclose(value, want, rtol=1e-4, atol=1e-5)
    for key, buf in opt.state["w"].items():
        if key == "step":  # Adam's per-parameter step count is an integer
            assert buf.dtype.kind == "i" and int(buf) == len(GRADS)
        else:
            assert buf.dtype == np.float32, key


@pytest.mark.parametrize("case", sorted(CASES))
def test_update_is_in_place(case):
    cls, kwargs, ref = CASES[case]
    base = np.zeros((3, *W0.shape))
    base[1] = W0
    value = base[1]  # a view: only an in-place update reaches ``base``
    opt = cls(**kwargs)
    expected = ref(W0, GRADS[:2], kwargs["lr"], **_ref_kwargs(cls, kwargs))
    for g in GRADS[:2]:
        param = Parameter("w", value, g.copy())
        opt.step([param])
        assert param.value is value
    np.testing.assert_allclose(base[1], expected[-1], rtol=1e-12)
    np.testing.assert_array_equal(base[0], 0.0)
    np.testing.assert_array_equal(base[2], 0.0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_state_is_kept_per_parameter_name(case):
    cls, kwargs, ref = CASES[case]
    opt = cls(**kwargs)
    a, b = W0.copy(), -2.0 * W0[:, :2].copy()  # different shapes too
    grads_b = [3.0 * g[::-1, :2] for g in GRADS]
    for ga, gb in zip(GRADS, grads_b, strict=True):
        opt.step([Parameter("layer.a", a, ga.copy()), Parameter("layer.b", b, gb.copy())])
    kw = _ref_kwargs(cls, kwargs)
    np.testing.assert_allclose(a, ref(W0, GRADS, kwargs["lr"], **kw)[-1], rtol=1e-12)
    np.testing.assert_allclose(
        b, ref(-2.0 * W0[:, :2], grads_b, kwargs["lr"], **kw)[-1], rtol=1e-12
    )
    assert set(opt.state) == {"layer.a", "layer.b"}


def test_same_name_shares_state_across_steps_different_name_does_not():
    # Momentum: the second step of "w" sees the velocity of its first step; a parameter
    # named "u" stepped afterwards starts from a zero velocity.
    opt = SGD(1.0, momentum=0.5)
    w, u = np.zeros(1), np.zeros(1)
    opt.step([Parameter("w", w, np.array([1.0]))])  # v_w = 1, w = -1
    opt.step([Parameter("w", w, np.array([1.0])), Parameter("u", u, np.array([1.0]))])
    # v_w = 0.5 + 1 = 1.5, w = -1 - 1.5 = -2.5; v_u = 1, u = -1
    np.testing.assert_allclose(w, [-2.5])
    np.testing.assert_allclose(u, [-1.0])


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW])
def test_duplicate_names_raise_and_change_nothing(cls):
    opt = cls(0.1)
    a, b = np.ones(2), np.ones(2)
    with pytest.raises(ValueError, match="unique"):
        opt.step([Parameter("w", a, np.ones(2)), Parameter("w", b, np.ones(2))])
    np.testing.assert_array_equal(a, 1.0)
    np.testing.assert_array_equal(b, 1.0)
    assert opt.iterations == 0


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW])
def test_iterations_count_steps(cls):
    opt = cls(0.1)
    assert opt.iterations == 0
    w = np.ones(2)
    for i in range(1, 4):
        opt.step([Parameter("w", w, np.full(2, 0.5))])
        assert opt.iterations == i
    opt.step(iter([Parameter("w", w, np.full(2, 0.5))]))  # any iterable, once
    assert opt.iterations == 4


@pytest.mark.parametrize("case", ["sgd", "sgd_momentum", "rmsprop_centered", "adam", "adamw"])
def test_changing_lr_between_steps_takes_effect(case):
    cls, kwargs, ref = CASES[case]
    rates = [kwargs["lr"], kwargs["lr"] / 10, kwargs["lr"] * 3, kwargs["lr"], kwargs["lr"] / 2]
    opt, value = cls(**kwargs), W0.copy()
    expected = ref(W0, GRADS, rates, **_ref_kwargs(cls, kwargs))
    for g, a, want in zip(GRADS, rates, expected, strict=True):
        opt.lr = a
        opt.step([Parameter("w", value, g.copy())])
        np.testing.assert_allclose(value, want, rtol=1e-12)
    # ... and the result differs from a constant rate, so the test can tell.
    constant = ref(W0, GRADS, kwargs["lr"], **_ref_kwargs(cls, kwargs))[-1]
    assert not np.allclose(value, constant)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SGD, {"lr": 0.1}),
        (SGD, {"lr": 0.02, "momentum": 0.9}),
        (SGD, {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
        (RMSprop, {"lr": 0.05}),
        (RMSprop, {"lr": 0.01, "momentum": 0.9}),
        (RMSprop, {"lr": 0.05, "centered": True}),
        (Adam, {"lr": 0.1}),
        (Adam, {"lr": 0.1, "amsgrad": True}),
        (AdamW, {"lr": 0.1}),
    ],
    ids=str,
)
def test_reduces_a_quadratic_loss(cls, kwargs):
    target = np.array([1.0, -2.0, 0.5, 3.0])
    w = np.zeros(4)
    grad = np.empty(4)

    def loss():
        return 0.5 * float(np.sum((w - target) ** 2))

    start = loss()  # 0.5 * (1 + 4 + 0.25 + 9) = 7.125
    assert start == 7.125
    opt = cls(**kwargs)
    for _ in range(200):
        np.subtract(w, target, out=grad)  # dL/dw = w - target
        opt.step([Parameter("w", w, grad)])
    assert loss() < 0.01 * start, (loss(), w)


# ---------------------------------------------------------------------------------------
# Validation: every bad hyperparameter raises ValueError naming it and echoing the value.

NAN = float("nan")
BAD = [
    (SGD, {"lr": 0}, "SGD: learning rate", "0"),
    (SGD, {"lr": -0.5}, "SGD: learning rate", "-0.5"),
    (SGD, {"lr": NAN}, "SGD: learning rate", "nan"),
    (RMSprop, {"lr": 0.0}, "RMSprop: learning rate", "0.0"),
    (Adam, {"lr": -1}, "Adam: learning rate", "-1"),
    (AdamW, {"lr": NAN}, "AdamW: learning rate", "nan"),
    (SGD, {"momentum": 1.0}, "SGD: momentum", "1.0"),
    (SGD, {"momentum": -0.1}, "SGD: momentum", "-0.1"),
    (SGD, {"momentum": NAN}, "SGD: momentum", "nan"),
    (SGD, {"nesterov": True}, "SGD: nesterov=True needs momentum > 0", "momentum=0"),
    (SGD, {"weight_decay": -0.01}, "SGD: weight_decay", "-0.01"),
    (SGD, {"weight_decay": NAN}, "SGD: weight_decay", "nan"),
    (RMSprop, {"rho": 1.0}, "RMSprop: rho", "1.0"),
    (RMSprop, {"rho": -0.2}, "RMSprop: rho", "-0.2"),
    (RMSprop, {"rho": 1.5}, "RMSprop: rho", "1.5"),
    (RMSprop, {"eps": 0.0}, "RMSprop: eps", "0.0"),
    (RMSprop, {"eps": -1e-8}, "RMSprop: eps", "-1e-08"),
    (RMSprop, {"momentum": 1.0}, "RMSprop: momentum", "1.0"),
    (RMSprop, {"momentum": -0.5}, "RMSprop: momentum", "-0.5"),
    (RMSprop, {"weight_decay": -1.0}, "RMSprop: weight_decay", "-1.0"),
    (Adam, {"beta1": 1.0}, "Adam: beta1", "1.0"),
    (Adam, {"beta1": -0.1}, "Adam: beta1", "-0.1"),
    (Adam, {"beta1": NAN}, "Adam: beta1", "nan"),
    (Adam, {"beta2": 1.0}, "Adam: beta2", "1.0"),
    (Adam, {"beta2": 2}, "Adam: beta2", "2"),
    (Adam, {"eps": 0}, "Adam: eps", "0"),
    (Adam, {"eps": -1e-8}, "Adam: eps", "-1e-08"),
    (Adam, {"eps": NAN}, "Adam: eps", "nan"),
    (Adam, {"weight_decay": -0.1}, "Adam: weight_decay", "-0.1"),
    (AdamW, {"beta1": 1.0}, "AdamW: beta1", "1.0"),
    (AdamW, {"beta2": -0.001}, "AdamW: beta2", "-0.001"),
    (AdamW, {"eps": 0.0}, "AdamW: eps", "0.0"),
    (AdamW, {"weight_decay": -0.01}, "AdamW: weight_decay", "-0.01"),
    (AdamW, {"weight_decay": NAN}, "AdamW: weight_decay", "nan"),
]


@pytest.mark.parametrize(("cls", "kwargs", "what", "echo"), BAD)
def test_bad_hyperparameter_raises_and_echoes_value(cls, kwargs, what, echo):
    with pytest.raises(ValueError, match=re.escape(what)) as info:
        cls(**kwargs)
    assert echo in str(info.value)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SGD, {"momentum": 0.0}),
        (SGD, {"momentum": 0.999, "nesterov": True}),
        (RMSprop, {"rho": 0.0, "momentum": 0.0}),
        (Adam, {"beta1": 0.0, "beta2": 0.0}),
        (AdamW, {"weight_decay": 0.0}),
    ],
)
def test_boundary_hyperparameters_are_accepted(cls, kwargs):
    opt = cls(**kwargs)
    for key, value in kwargs.items():
        assert opt.get_config()[key] == value


# ---------------------------------------------------------------------------------------
# Registry and config.


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sgd", SGD),
        ("SGD", SGD),
        ("rmsprop", RMSprop),
        ("RMSProp", RMSprop),
        ("adam", Adam),
        ("ADAM", Adam),
        ("adamw", AdamW),
        ("AdamW", AdamW),
    ],
)
def test_registry_names_are_case_insensitive_and_give_defaults(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()
    assert optimizers.get(name) is not opt  # a new instance each time (no shared state)


def test_registry_defaults():
    assert optimizers.get("sgd").lr == 0.01
    assert optimizers.get("adam").lr == 0.001
    assert optimizers.get("adam").weight_decay == 0.0
    assert optimizers.get("adamw").weight_decay == 0.01
    assert optimizers.get("rmsprop").get_config()["rho"] == 0.9


@pytest.mark.parametrize("bad", ["adamm", "", "sgd ", "momentum", None, 3, SGD])
def test_registry_bad_names_list_valid_names(bad):
    with pytest.raises(ValueError, match=re.escape(f"unknown optimizer {bad!r}")) as info:
        optimizers.get(bad)
    assert "valid names: adam, adamw, rmsprop, sgd" in str(info.value)
    assert optimizers.names() == ["adam", "adamw", "rmsprop", "sgd"]


@pytest.mark.parametrize(
    "opt",
    [
        SGD(),
        SGD(0.3, momentum=0.7, nesterov=True, weight_decay=0.01),
        RMSprop(),
        RMSprop(0.02, rho=0.5, eps=1e-5, momentum=0.3, centered=True, weight_decay=0.1),
        Adam(),
        Adam(0.2, beta1=0.5, beta2=0.75, eps=1e-6, amsgrad=True, weight_decay=0.05),
        AdamW(),
        AdamW(0.004, amsgrad=True, weight_decay=0.25),
    ],
    ids=repr,
)
def test_config_and_repr_round_trip(opt):
    config = opt.get_config()
    clone = type(opt)(**config)
    assert clone.get_config() == config
    assert repr(clone) == repr(opt)
    namespace = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}
    rebuilt = eval(repr(opt), namespace)  # the repr is constructor syntax
    assert type(rebuilt) is type(opt)
    assert rebuilt.get_config() == config


def test_config_contents():
    assert SGD(0.3, momentum=0.7, nesterov=True, weight_decay=0.01).get_config() == {
        "lr": 0.3,
        "weight_decay": 0.01,
        "momentum": 0.7,
        "nesterov": True,
    }
    assert set(RMSprop().get_config()) == {
        "lr",
        "weight_decay",
        "rho",
        "eps",
        "momentum",
        "centered",
    }
    config = AdamW(0.004, beta1=0.8).get_config()
    assert config == {
        "lr": 0.004,
        "weight_decay": 0.01,
        "beta1": 0.8,
        "beta2": 0.999,
        "eps": 1e-8,
        "amsgrad": False,
    }
    assert repr(SGD(0.5)) == "SGD(lr=0.5, weight_decay=0.0, momentum=0.0, nesterov=False)"
    assert math.isclose(AdamW().lr, 0.001)


def test_adam_counts_steps_per_parameter():
    # PyTorch's rule: a parameter that joins at a later step gets the bias correction of
    # its own first step. Its first update is then lr * g / (|g| + eps), about lr.
    opt = optimizers.Adam(0.1)
    a = np.zeros(1)
    for _ in range(3):
        opt.step([Parameter("a", a, np.ones(1))])
    b = np.zeros(1)
    opt.step([Parameter("a", a, np.ones(1)), Parameter("b", b, np.ones(1))])
    np.testing.assert_allclose(b, [-0.1], rtol=1e-6)


def test_centered_rmsprop_stays_finite_with_a_constant_gradient():
    # s - m^2 is 0 in exact arithmetic for a constant gradient; float32 rounding can make
    # it slightly negative, and sqrt of that would be NaN
    value = np.zeros(1000, dtype=np.float32)
    grad = np.full(1000, 0.37, dtype=np.float32)
    opt = optimizers.RMSprop(1e-3, centered=True)
    for _ in range(300):
        opt.step([Parameter("w", value, grad)])
    assert np.isfinite(value).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        lambda: optimizers.Adam(0.01, amsgrad=True),
        lambda: optimizers.AdamW(0.01),
    ],
)
def test_whole_buffer_update_equals_the_per_array_update(make):
    # a model's parameters are views of one flat buffer: the optimizer updates it in one
    # go; the same rule applied array by array must give the same numbers
    model = ln.Sequential([ln.Dense(3, 4, seed=0), ln.Tanh(), ln.Dense(4, 2, seed=1)])
    loose = [Parameter(p.name, p.value.copy(), p.grad) for p in model.parameters()]
    flat_opt, loose_opt = make(), make()
    rng = np.random.default_rng(0)
    for _ in range(5):
        for p in model.parameters():
            p.grad[...] = rng.standard_normal(p.grad.shape)
        loose = [
            Parameter(p.name, q.value, p.grad.copy())
            for p, q in zip(model.parameters(), loose, strict=True)
        ]
        flat_opt.step(model.parameters())
        loose_opt.step(loose)
    assert flat_opt._flat is not None and loose_opt._flat is None
    for p, q in zip(model.parameters(), loose, strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-6, atol=1e-7)
    # the per-name state reads the same either way
    for name, state in loose_opt.get_state().items():
        for key, buf in state.items():
            np.testing.assert_allclose(flat_opt.get_state()[name][key], buf, rtol=1e-6, atol=1e-7)


def test_flat_state_survives_save_and_set_state():
    model = ln.Sequential([ln.Dense(3, 4, seed=0), ln.Dense(4, 2, seed=1)])
    opt = optimizers.Adam(0.01)
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step(model.parameters())
    saved = {name: {k: v.copy() for k, v in s.items()} for name, s in opt.get_state().items()}
    fresh = optimizers.Adam(0.01)
    fresh.set_state(saved, model.parameters(), opt.iterations)
    fresh.step(model.parameters())
    opt.step(model.parameters())
    for name in saved:
        np.testing.assert_array_equal(fresh.get_state()[name]["m"], opt.get_state()[name]["m"])
        assert int(fresh.get_state()[name]["step"]) == 2


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("make", [lambda: Adam(0.01, amsgrad=True), lambda: SGD(0.1, momentum=0.9)])
def test_restore_puts_back_the_state_of_the_snapshot(flat, make):
    """Steps after a restore repeat the steps after the snapshot exactly."""
    model = ln.Sequential([ln.Dense(3, 4, seed=0), ln.Tanh(), ln.Dense(4, 2, seed=1)])
    if not flat:
        model.layers[2].astype(np.float64)  # mixed dtypes: no flat buffers
    params = model.parameters()
    assert (params.flat is not None) == flat
    grads = np.random.default_rng(0).standard_normal((6, sum(p.value.size for p in params)))

    def steps(optimizer, rows):
        for row in rows:
            start = 0
            for p in params:
                p.grad[...] = row[start : start + p.value.size].reshape(p.value.shape)
                start += p.value.size
            optimizer.step(params)
        return [p.value.copy() for p in params]

    optimizer = make()
    steps(optimizer, grads[:2])
    weights, snapshot = model.get_weights(), optimizer.snapshot()
    first = steps(optimizer, grads[2:])
    optimizer.lr *= 3  # a schedule moved it
    model.set_weights(weights)
    optimizer.restore(snapshot)
    assert optimizer.iterations == 2 and optimizer.lr == make().lr
    again = steps(optimizer, grads[2:])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert optimizer.iterations == 6


def test_state_of_is_the_state_the_next_step_continues_from():
    model = ln.Sequential([ln.Dense(3, 2, seed=0), ln.Dense(2, 1, seed=1)])
    opt = Adam(0.01)
    for p in model.parameters():
        p.grad[...] = 1.0
    opt.step(model.parameters())
    state = opt.state_of(model.parameters())
    assert sorted(state) == sorted(p.name for p in model.parameters())
    assert all({"m", "v", "step"} <= set(buffers) for buffers in state.values())
    assert all("scratch" not in buffers for buffers in state.values())
    # the same names on another model's arrays: that state would start fresh, so it is
    # not the other model's
    other = ln.Sequential([ln.Dense(3, 2, seed=0), ln.Dense(2, 1, seed=1)])
    assert opt.state_of(other.parameters()) == {}
    # set on a fresh optimizer, it continues as the first would
    fresh = Adam(0.01)
    copied = {name: {k: v.copy() for k, v in buffers.items()} for name, buffers in state.items()}
    fresh.set_state(copied, model.parameters(), opt.iterations)  # as MPI's broadcast copies
    twin = [p.value.copy() for p in model.parameters()]
    opt.step(model.parameters())
    after = [p.value.copy() for p in model.parameters()]
    for p, value in zip(model.parameters(), twin, strict=True):
        p.value[...] = value
    fresh.step(model.parameters())
    for p, value in zip(model.parameters(), after, strict=True):
        np.testing.assert_array_equal(p.value, value)
