"""``lucidnet demo``: a terminal tour of the four seed stories, every number printed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

import numpy as np

from . import datasets, seeds
from .activations import Sigmoid
from .gradcheck import gradcheck
from .layers import Dense
from .losses import MSE
from .model import Sequential
from .optimizers import SGD
from .perceptron import Perceptron
from .training import train_step

Say = Callable[..., None]


def _vec(a: np.ndarray, digits: int = 4) -> str:
    return np.array2string(np.asarray(a, dtype=np.float64), precision=digits, suppress_small=True)


def _perceptron_rule(say: Say) -> None:
    say("1. Rosenblatt's perceptron learns AND and OR, never XOR (seed 000)")
    say("   y_hat = step(w . x + b); on a mistake: w += lr (y - y_hat) x, b += lr (y - y_hat)")
    for name, gate in (("AND", datasets.and_gate), ("OR", datasets.or_gate), ("XOR", datasets.xor)):
        x, y = gate()
        p = Perceptron(2, activation="step", seed=0).fit(x, y, epochs=50)
        verdict = (
            f"converged after {p.n_epochs_} epochs"
            if p.converged_
            else f"no convergence in {p.n_epochs_} epochs\n        (still {p.errors_[-1]} "
            "mistakes per epoch: no straight line separates XOR)"
        )
        say(
            f"   {name:<3}  w = {_vec(p.weights, 2)}, b = {float(p.bias):+.2f}, "
            f"predicts {p.predict(x).astype(int)} for {y}: {verdict}"
        )


def _neuron(say: Say) -> None:
    say("2. One sigmoid neuron, forward and backward by hand (seed 002)")
    n = seeds.neuron_example()
    x, d_out, lr = seeds.NEURON_INPUT, seeds.NEURON_D_OUTPUT, seeds.NEURON_LEARNING_RATE
    w_before = n.weights.copy()
    out = n.forward(x)
    d_in = n.backward(d_out, lr)
    say(f"   x = {_vec(x)}, w = {_vec(w_before)}, b = 0, d_output = {d_out}, lr = {lr}")
    say(f"   z = x . w + b              = {float(n.z):.4f}   (seed: 0.41)")
    say(f"   output = sigmoid(z)        = {float(out):.4f}   (seed: 0.6011)")
    say(f"   sigmoid'(z) = out (1 - out) = {float(out * (1 - out)):.4f}   (seed: 0.2398)")
    say(f"   delta = d_output sigmoid'  = {float(n.delta):.4f}   (seed: 0.0480)")
    say(
        f"   dL/dw = delta x            = {_vec(n.d_weights)}  (seed: [0.0240 -0.0576]; "
        "the seed rounds delta to 0.0480 first)"
    )
    say(f"   dL/dx = delta w            = {_vec(d_in)}  (seed: [0.0048 -0.0144])")
    say(f"   w - lr dL/dw               = {_vec(n.weights)}  (seed: [0.0976 -0.2942])")
    say(f"   b - lr dL/db               = {float(n.bias):.4f}   (seed: -0.0048)")


def _fruit(say: Say) -> None:
    say("3. The fruit network: 2 inputs -> 2 ReLU -> 1 sigmoid (seed 003)")
    model = seeds.fruit_network()
    x, label = datasets.fruit()
    hidden, relu, output, sigmoid = model.layers
    z1 = hidden.forward(x)
    h1 = relu.forward(z1)
    z2 = output.forward(h1)
    y_hat = sigmoid.forward(z2)
    say(f"   x = {_vec(x[0])} (very orange, very round), label 1 = orange")
    say(f"   z1 = x @ W1.T + b1 = {_vec(z1[0])}   h1 = relu(z1) = {_vec(h1[0])}")
    say(f"   z2 = h1 @ W2.T + b2 = {float(z2[0, 0]):.2f}   y_hat = sigmoid(z2) = {y_hat[0, 0]:.3f}")
    loss = MSE()
    before = float(y_hat[0, 0])
    value = train_step(model, x, label, loss, SGD(0.5))
    after = float(model.predict(x)[0, 0])
    grads = {p.name: p.grad for p in model.parameters()}
    say(f"   MSE = (1 - {before:.3f})^2 = {value:.4f}")
    dw2, db2 = grads["output.weights"][:, 0], grads["output.bias"]
    say(f"   backprop: dL/dW2 = {_vec(dw2)}, dL/db2 = {_vec(db2)}")
    say(f"             dL/dW1 = {_vec(grads['hidden.weights'].T.ravel())} (rows per neuron, as W1)")
    say(f"   one step of gradient descent (lr 0.5): y_hat {before:.4f} -> {after:.4f}, toward 1")


def _xor(say: Say) -> None:
    say("4. XOR needs a hidden layer (seed 001)")
    x, y = datasets.xor()
    model = seeds.xor_network(hidden=8, seed=0)
    curve = seeds.train(model, x, y, epochs=2000, lr=0.5)
    probs = model.predict(x)[:, 0]
    acc = float(np.mean((probs > 0.5) == y))
    say("   2-8-1 network, ReLU + sigmoid, binary cross-entropy, SGD lr 0.5, 2000 steps")
    say(
        "   loss at steps 1, 10, 100, 1000, 2000: "
        + ", ".join(f"{curve[i - 1]:.4f}" for i in (1, 10, 100, 1000, 2000))
    )
    say(f"   predictions {_vec(probs, 3)} for {y}: accuracy {acc:.0%}")
    linear = Sequential([Dense(2, 1, seed=0), Sigmoid()])
    seeds.train(linear, x, y, epochs=2000, lr=0.5)
    lin_acc = float(np.mean((linear.predict(x)[:, 0] > 0.5) == y))
    say(f"   a single Dense + sigmoid (no hidden layer) reaches only {lin_acc:.0%}")
    # Checked at random points: a trained ReLU network has pre-activations at exactly 0
    # (for the input [0, 0], z = b, and b stays 0 in a dead unit), where ReLU has no
    # derivative and central differences see half the slope.
    rng = np.random.default_rng(1)
    x_check, y_check = rng.standard_normal((6, 2)), rng.integers(0, 2, 6)
    report = gradcheck(seeds.xor_network(seed=1), x_check, y_check, "binary_crossentropy")
    verdict = "passes" if report.passed else "FAILS"
    say(
        f"   gradient check of this architecture {verdict}: worst relative error "
        f"{report.max_rel_error:.1e} (central differences in float64, 6 random inputs)"
    )


def run(stream: TextIO | None = None) -> None:
    """Print the tour to ``stream`` (standard output by default)."""
    out = stream if stream is not None else sys.stdout

    def say(line: str = "") -> None:
        print(line, file=out)

    say("lucidnet demo: the four seed stories, every number computed now")
    for story in (_perceptron_rule, _neuron, _fruit, _xor):
        say()
        story(say)
