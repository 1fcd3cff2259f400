"""The worked examples of the four source documents, reproduced to the digit."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import seeds


def test_seed_002_neuron_forward_and_backward():
    n = seeds.neuron_example()
    out = n.forward(seeds.NEURON_INPUT)
    # z = 0.5 * 0.1 + (-1.2) * (-0.3) + 0 = 0.05 + 0.36 = 0.41
    assert round(float(n.z), 4) == 0.41
    # sigmoid(0.41) = 1 / (1 + e^-0.41) = 0.6011
    assert round(float(out), 4) == 0.6011
    # sigmoid'(z) = 0.6011 * (1 - 0.6011) = 0.2398
    assert round(float(ln.Sigmoid.derivative(n.z, out)), 4) == 0.2398
    d_input = n.backward(seeds.NEURON_D_OUTPUT, seeds.NEURON_LEARNING_RATE)
    # delta = 0.2 * 0.2398 = 0.0480
    assert round(float(n.delta), 4) == 0.0480
    # dL/dw = delta * x. The seed multiplies the *rounded* delta: 0.0480 * -1.2 = -0.0576;
    # unrounded, 0.047956 * -1.2 = -0.057548. Both agree to 1e-4.
    np.testing.assert_allclose(n.d_weights, [0.0240, -0.0576], atol=1e-4)
    np.testing.assert_allclose(n.d_weights, 0.2 * 0.6010878 * 0.3989122 * np.array([0.5, -1.2]))
    assert round(float(n.d_bias), 4) == 0.0480
    # dL/dx = delta * w (the weights before the update) = [0.0048, -0.0144]
    np.testing.assert_array_equal(np.round(d_input, 4), [0.0048, -0.0144])
    # w - 0.1 * dL/dw = [0.1 - 0.0024, -0.3 + 0.0058] = [0.0976, -0.2942]
    np.testing.assert_array_equal(np.round(n.weights, 4), [0.0976, -0.2942])
    # b = 0 - 0.1 * 0.0480 = -0.0048
    assert round(float(n.bias), 4) == -0.0048


def test_seed_002_also_in_float32():
    n = seeds.neuron_example(np.float32)
    n.forward(seeds.NEURON_INPUT)
    n.backward(seeds.NEURON_D_OUTPUT, seeds.NEURON_LEARNING_RATE)
    assert n.weights.dtype == np.float32
    np.testing.assert_array_equal(np.round(n.weights, 4), np.float32([0.0976, -0.2942]))


@pytest.mark.parametrize("gate", ["and_gate", "or_gate"])
def test_seed_000_perceptron_rule_learns_and_or(gate):
    x, y = getattr(ln.datasets, gate)()
    p = ln.Perceptron(2, activation="step", seed=0).fit(x, y, epochs=50)
    assert p.converged_
    np.testing.assert_array_equal(p.predict(x), y)


def test_seed_000_perceptron_rule_cannot_learn_xor():
    x, y = ln.datasets.xor()
    p = ln.Perceptron(2, activation="step", seed=0).fit(x, y, epochs=50)
    assert p.converged_ is False


def test_seed_003_fruit_forward():
    model = seeds.fruit_network()
    x, _ = ln.datasets.fruit()
    hidden, relu, output, sigmoid = model.layers
    z1 = hidden.forward(x)
    # z1 = W1 x + b1 = [0.5 + 0.2, 0.3 + 0.8] + [0.1, 0.1] = [0.8, 1.2]
    np.testing.assert_allclose(z1, [[0.8, 1.2]])
    h1 = relu.forward(z1)
    np.testing.assert_allclose(h1, [[0.8, 1.2]])
    z2 = output.forward(h1)
    # z2 = 0.4 * 0.8 + 0.7 * 1.2 + 0.2 = 0.32 + 0.84 + 0.2 = 1.36
    np.testing.assert_allclose(z2, [[1.36]])
    # sigmoid(1.36) = 1 / (1 + 0.2567) = 0.796
    assert round(float(sigmoid.forward(z2)[0, 0]), 3) == 0.796
    assert round(float(model.predict(x)[0, 0]), 3) == 0.796


def test_seed_003_fruit_weights_are_the_transpose_of_the_seed_matrices():
    model = seeds.fruit_network()
    np.testing.assert_array_equal(model.layers[0].weights.T, [[0.5, 0.2], [0.3, 0.8]])
    np.testing.assert_array_equal(model.layers[2].weights[:, 0], [0.4, 0.7])


def test_seed_003_one_gradient_step_moves_toward_the_label():
    model = seeds.fruit_network()
    x, y = ln.datasets.fruit()
    before = float(model.predict(x)[0, 0])
    loss = ln.train_step(model, x, y, ln.MSE(), ln.SGD(0.5))
    after = float(model.predict(x)[0, 0])
    # MSE = (1 - 0.7958)^2 = 0.0417
    assert loss == pytest.approx((1 - before) ** 2)
    assert round(loss, 4) == 0.0417
    assert before < after < 1.0
    # the output-layer gradient by the chain rule: dL/dz2 = 2 (y_hat - 1) * y_hat (1 - y_hat),
    # dL/dW2 = dL/dz2 * h1 with h1 = [0.8, 1.2]
    dz2 = 2 * (before - 1) * before * (1 - before)
    np.testing.assert_allclose(model.layers[2].grad_weights[:, 0], dz2 * np.array([0.8, 1.2]))


def test_seed_001_two_layer_network_learns_xor():
    x, y = ln.datasets.xor()
    model = seeds.xor_network(hidden=8, seed=0)
    curve = seeds.train(model, x, y, epochs=2000, lr=0.5)
    assert curve[-1] < curve[0]
    accuracy = np.mean((model.predict(x)[:, 0] > 0.5) == y)
    assert accuracy == 1.0


def test_seed_001_single_layer_cannot_pass_75_percent():
    x, y = ln.datasets.xor()
    model = ln.Sequential([ln.Dense(2, 1, seed=0), ln.Sigmoid()])
    seeds.train(model, x, y, epochs=2000, lr=0.5)
    accuracy = np.mean((model.predict(x)[:, 0] > 0.5) == y)
    assert accuracy <= 0.75
