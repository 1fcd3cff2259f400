"""Learning-rate schedules: values against their formulas, and validation."""

import itertools
import math
import re

import pytest

from lucidnet.schedules import CosineDecay, ExponentialDecay, StepDecay


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, 0.1),
        (9, 0.1),  # still in the first block of 10
        (10, 0.05),  # 0.1 * 0.5
        (19, 0.05),
        (20, 0.025),  # 0.1 * 0.25
        (35, 0.0125),  # 35 // 10 = 3: 0.1 * 0.125
    ],
)
def test_step_decay(epoch, expected):
    schedule = StepDecay(0.1, factor=0.5, every=10)
    assert schedule(epoch) == pytest.approx(expected, rel=1e-12)
    assert schedule(epoch) == pytest.approx(0.1 * 0.5 ** (epoch // 10), rel=1e-12)


def test_step_decay_defaults_and_other_factor():
    # defaults factor 0.5, every 10
    assert StepDecay(1.0)(25) == pytest.approx(0.25)
    # factor 0.1 every 3: epoch 7 -> 7 // 3 = 2 -> 2.0 * 0.01 = 0.02
    assert StepDecay(2.0, factor=0.1, every=3)(7) == pytest.approx(0.02)
    # factor 1: constant
    assert StepDecay(0.3, factor=1.0, every=1)(50) == 0.3


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, 0.2),
        (1, 0.18),  # 0.2 * 0.9
        (2, 0.162),  # 0.2 * 0.81
        (10, 0.2 * 0.3486784401),  # 0.9^10 = 0.3486784401
    ],
)
def test_exponential_decay(epoch, expected):
    schedule = ExponentialDecay(0.2, rate=0.9)
    assert schedule(epoch) == pytest.approx(expected, rel=1e-12)


def test_exponential_decay_default_rate():
    # default rate 0.96: 0.96^2 = 0.9216
    assert ExponentialDecay(1.0)(2) == pytest.approx(0.9216)


def _cosine(epoch, initial, minimum, epochs):
    progress = min(epoch, epochs) / epochs
    return minimum + (initial - minimum) * 0.5 * (1 + math.cos(math.pi * progress))


@pytest.mark.parametrize("epoch", [0, 1, 2, 3, 5, 7, 9, 10, 11, 100])
def test_cosine_decay_formula(epoch):
    schedule = CosineDecay(0.1, epochs=10, min_lr=0.001)
    assert schedule(epoch) == pytest.approx(_cosine(epoch, 0.1, 0.001, 10), rel=1e-12)


def test_cosine_decay_landmarks():
    schedule = CosineDecay(0.1, epochs=10, min_lr=0.001)
    assert schedule(0) == pytest.approx(0.1, rel=1e-12)  # start: the initial rate
    # middle: cos(pi / 2) = 0 -> (0.1 + 0.001) / 2 = 0.0505
    assert schedule(5) == pytest.approx(0.0505, rel=1e-12)
    assert schedule(10) == pytest.approx(0.001, rel=1e-12)  # end: the floor
    assert schedule(11) == pytest.approx(0.001, rel=1e-12)  # after: stays there
    assert schedule(1000) == pytest.approx(0.001, rel=1e-12)
    rates = [schedule(e) for e in range(11)]
    assert all(a > b for a, b in itertools.pairwise(rates))  # decreasing to the end


def test_cosine_decay_default_floor_is_a_millionth():
    schedule = CosineDecay(2.0, epochs=4)
    assert schedule(4) == pytest.approx(2e-6, rel=1e-9)
    assert schedule(2) == pytest.approx((2.0 + 2e-6) / 2, rel=1e-12)


def test_cosine_decay_min_equal_to_initial_is_constant():
    schedule = CosineDecay(0.01, epochs=3, min_lr=0.01)
    assert [schedule(e) for e in range(5)] == pytest.approx([0.01] * 5)


@pytest.mark.parametrize(
    "schedule",
    [StepDecay(0.1, 0.5, 2), ExponentialDecay(0.1, 0.5), CosineDecay(0.1, 4)],
    ids=lambda s: type(s).__name__,
)
def test_rate_depends_only_on_epoch_not_on_current_lr(schedule):
    for epoch in (0, 3, 7):
        assert schedule(epoch, 123.0) == schedule(epoch) == schedule(epoch, 1e-9)


@pytest.mark.parametrize(
    ("make", "echo"),
    [
        (lambda: StepDecay(0), "StepDecay: initial_lr must be > 0, got 0"),
        (lambda: StepDecay(-0.1), "StepDecay: initial_lr must be > 0, got -0.1"),
        (lambda: StepDecay(float("nan")), "StepDecay: initial_lr must be > 0, got nan"),
        (lambda: StepDecay(0.1, factor=0), "StepDecay: factor must be in (0, 1], got 0"),
        (lambda: StepDecay(0.1, factor=1.5), "StepDecay: factor must be in (0, 1], got 1.5"),
        (lambda: StepDecay(0.1, factor=-0.5), "StepDecay: factor must be in (0, 1], got -0.5"),
        (
            lambda: StepDecay(0.1, factor=float("nan")),
            "StepDecay: factor must be in (0, 1], got nan",
        ),
        (lambda: StepDecay(0.1, every=0), "StepDecay: every must be an int >= 1, got 0"),
        (lambda: StepDecay(0.1, every=2.5), "StepDecay: every must be an int >= 1, got 2.5"),
        (lambda: StepDecay(0.1, every=True), "StepDecay: every must be an int >= 1, got True"),
        (lambda: ExponentialDecay(0), "ExponentialDecay: initial_lr must be > 0, got 0"),
        (
            lambda: ExponentialDecay(0.1, rate=0),
            "ExponentialDecay: rate must be in (0, 1], got 0",
        ),
        (
            lambda: ExponentialDecay(0.1, rate=1.01),
            "ExponentialDecay: rate must be in (0, 1], got 1.01",
        ),
        (lambda: CosineDecay(-1, 10), "CosineDecay: initial_lr must be > 0, got -1"),
        (lambda: CosineDecay(0.1, 0), "CosineDecay: epochs must be an int >= 1, got 0"),
        (lambda: CosineDecay(0.1, 10.0), "CosineDecay: epochs must be an int >= 1, got 10.0"),
        (lambda: CosineDecay(0.1, True), "CosineDecay: epochs must be an int >= 1, got True"),
        (lambda: CosineDecay(0.1, 10, min_lr=0), "CosineDecay: min_lr must be > 0, got 0"),
        (lambda: CosineDecay(0.1, 10, min_lr=-1e-3), "CosineDecay: min_lr must be > 0, got"),
        (
            lambda: CosineDecay(0.1, 10, min_lr=0.2),
            "CosineDecay: min_lr must be <= initial_lr, got 0.2 > 0.1",
        ),
    ],
)
def test_validation_errors_echo_values(make, echo):
    with pytest.raises(ValueError, match=re.escape(echo)):
        make()


@pytest.mark.parametrize(
    "make",
    [
        lambda: StepDecay(0.1, factor="half"),
        lambda: StepDecay(0.1, factor=None),
        lambda: ExponentialDecay(0.1, rate="fast"),
    ],
)
def test_non_numeric_factor_or_rate_raise_value_error(make):
    # Like the optimizers' and check_positive's "got 'fast'": a ValueError echoing the
    # value, not a TypeError from comparing a string with a number.
    with pytest.raises(ValueError, match="got"):
        make()
