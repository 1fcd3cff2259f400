"""SGD: the update rule, in place, and its validation."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import optimizers
from lucidnet.layers import Parameter


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
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; valid names: sgd"):
        optimizers.get("adamm")
