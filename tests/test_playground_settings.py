"""playground.settings: the page's controls, checked by Settings.from_dict."""

import math
import re
from dataclasses import fields

import pytest

from lucidnet.playground.data import FEATURES
from lucidnet.playground.settings import LIVE, Settings


def test_defaults_are_tensorflow_playgrounds():
    s = Settings.from_dict({})
    assert s == Settings()
    assert s.mode == "network"
    assert s.problem == "classification"
    assert s.dataset == "circle"
    assert s.features == ["x1", "x2"]
    assert s.layers == [4, 2]
    assert s.activations == ["tanh", "tanh"]
    assert s.learning_rate == 0.03
    assert s.batch_size == 10
    assert s.train_ratio == 0.5
    assert s.noise == 0.0
    assert s.regularization == "none"
    assert s.reg_rate == 0.0


def test_defaults_do_not_share_lists():
    a, b = Settings(), Settings()
    a.layers.append(3)
    assert b.layers == [4, 2]


def test_given_keys_update_the_base_and_keep_the_rest():
    base = Settings.from_dict({"dataset": "xor", "layers": [3], "seed": 7})
    s = Settings.from_dict({"learning_rate": 0.1}, base)
    assert (s.dataset, s.layers, s.seed, s.learning_rate) == ("xor", [3], 7, 0.1)
    assert base.learning_rate == 0.03  # the base is not changed


def test_to_dict_round_trips():
    s = Settings.from_dict(
        {"dataset": "spiral", "classes": 3, "layers": [5, 3, 2], "optimizer": "adam"}
    )
    assert Settings.from_dict(s.to_dict()) == s


def test_settings_must_be_an_object():
    with pytest.raises(ValueError, match="settings must be a JSON object, got list"):
        Settings.from_dict([1, 2])  # type: ignore[arg-type]


def test_unknown_key_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"unknown setting 'colour'; valid: .*learning_rate"):
        Settings.from_dict({"colour": "red"})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("learning_rate", 0.0),
        ("learning_rate", 11.0),
        ("batch_size", 0),
        ("batch_size", 2001),
        ("samples", 19),
        ("samples", 2001),
        ("noise", -0.1),
        ("noise", 0.6),
        ("train_ratio", 0.05),
        ("train_ratio", 0.95),
        ("dropout", 0.95),
        ("reg_rate", -1.0),
        ("heatmap", 9),
        ("heatmap", 101),
        ("classes", 1),
        ("classes", 9),
        ("seed", -1),
        ("stop_epochs", -1),
        ("epochs_per_frame", 0),
    ],
)
def test_out_of_range_numbers_are_refused_naming_the_setting(key, value):
    with pytest.raises(
        ValueError, match=rf"setting '{key}' must be between .*got {re.escape(repr(value))}"
    ):
        Settings.from_dict({key: value})


@pytest.mark.parametrize(
    ("key", "value"),
    [("learning_rate", 1e-6), ("learning_rate", 10.0), ("samples", 20), ("samples", 2000)],
)
def test_range_ends_are_accepted(key, value):
    assert getattr(Settings.from_dict({key: value}), key) == value


@pytest.mark.parametrize("key", ["learning_rate", "samples", "noise", "batch_size"])
@pytest.mark.parametrize("value", [True, False, "0.1", None, [1]])
def test_non_numbers_and_bools_are_refused_for_numbers(key, value):
    with pytest.raises(ValueError, match=rf"setting '{key}' must be a number"):
        Settings.from_dict({key: value})


@pytest.mark.parametrize("key", ["samples", "batch_size", "seed", "classes", "heatmap"])
def test_int_settings_refuse_fractions(key):
    with pytest.raises(ValueError, match=rf"setting '{key}' must be a whole number, got 20.5"):
        Settings.from_dict({key: 20.5})


def test_int_settings_take_whole_floats_as_ints():
    s = Settings.from_dict({"samples": 300.0, "batch_size": 25.0})
    assert s.samples == 300 and type(s.samples) is int
    assert s.batch_size == 25 and type(s.batch_size) is int


def test_float_settings_take_ints_as_floats():
    s = Settings.from_dict({"learning_rate": 1})
    assert s.learning_rate == 1.0 and type(s.learning_rate) is float


@pytest.mark.parametrize("key", ["learning_rate", "noise", "samples", "seed"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_naming_the_setting(key, value):
    with pytest.raises(ValueError, match=rf"setting '{key}' must be a (finite|whole) number"):
        Settings.from_dict({key: value})


@pytest.mark.parametrize("key", ["seed", "samples"])
def test_huge_integers_are_refused_naming_the_setting(key):
    # JSON can carry an integer too large for a float: still a refused setting, not a crash
    with pytest.raises(ValueError, match=rf"setting '{key}'"):
        Settings.from_dict({key: 10**400})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("mode", "teacher"),
        ("problem", "ranking"),
        ("dataset", "moons"),
        ("optimizer", "lbfgs"),
        ("regularization", "l3"),
        ("optimizer", ["sgd"]),
    ],
)
def test_choices_are_checked_naming_the_setting(key, value):
    with pytest.raises(
        ValueError, match=rf"setting '{key}' must be one of .*got {re.escape(repr(value))}"
    ):
        Settings.from_dict({key: value})


def test_features_take_the_pages_order():
    s = Settings.from_dict({"features": ["sin(x2)", "x2", "x1^2", "x1"]})
    expected = [f for f in FEATURES if f in {"sin(x2)", "x2", "x1^2", "x1"}]
    assert s.features == expected == ["x1", "x2", "x1^2", "sin(x2)"]


@pytest.mark.parametrize("value", [[], ["x3"], ["x1", "x1"], ["x1", "X2"], ["x1", 2]], ids=repr)
def test_bad_features_are_refused(value):
    with pytest.raises(ValueError, match=r"setting 'features' must be distinct names from x1"):
        Settings.from_dict({"features": value})


def test_features_must_be_a_list():
    with pytest.raises(ValueError, match=r"setting 'features' must be a list, got 'x1'"):
        Settings.from_dict({"features": "x1"})


@pytest.mark.parametrize("value", [[["x1"]], [{"x1": 1}]], ids=repr)
def test_unhashable_features_are_refused_naming_the_setting(value):
    # JSON can put a list or an object inside the list: a refused setting, not a crash
    with pytest.raises(ValueError, match=r"setting 'features'"):
        Settings.from_dict({"features": value})


def test_layers_accept_zero_to_six_layers_of_one_to_eight():
    assert Settings.from_dict({"layers": []}).layers == []
    assert Settings.from_dict({"layers": [8, 1, 8, 1, 8, 1]}).layers == [8, 1, 8, 1, 8, 1]


@pytest.mark.parametrize(
    "value",
    [[4] * 7, [9], [0], [4, -1], [True], [2.0], ["4"]],
    ids=repr,
)
def test_bad_layers_are_refused(value):
    with pytest.raises(ValueError, match=r"setting 'layers' must list 0 to 6 hidden layers of 1"):
        Settings.from_dict({"layers": value})


def test_activations_follow_the_number_of_layers():
    s = Settings.from_dict({"layers": [4, 2, 3]})
    assert s.activations == ["tanh", "tanh", "tanh"]
    s = Settings.from_dict({"layers": [3, 3, 3], "activations": ["relu"]})
    assert s.activations == ["relu", "relu", "relu"]  # the last one, repeated
    base = Settings.from_dict({"activations": ["relu", "sigmoid"]})
    assert Settings.from_dict({"layers": [5]}, base).activations == ["relu"]
    assert Settings.from_dict({"layers": []}, base).activations == []
    s = Settings.from_dict({"layers": [2, 2], "activations": ["linear", "leaky_relu"]})
    assert s.activations == ["linear", "leaky_relu"]


def test_bad_activation_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"setting 'activations': 'swish' is not one of tanh"):
        Settings.from_dict({"activations": ["tanh", "swish"]})


def test_switching_the_problem_switches_the_dataset():
    reg = Settings.from_dict({"problem": "regression"})
    assert (reg.problem, reg.dataset) == ("regression", "plane")
    back = Settings.from_dict({"problem": "classification"}, reg)
    assert (back.problem, back.dataset) == ("classification", "circle")


def test_problem_and_dataset_given_together_must_agree():
    with pytest.raises(ValueError, match=r"dataset 'xor' is for classification, not regression"):
        Settings.from_dict({"problem": "regression", "dataset": "xor"})
    with pytest.raises(ValueError, match=r"dataset 'plane' is for regression, not classification"):
        Settings.from_dict({"problem": "classification", "dataset": "plane"})
    s = Settings.from_dict({"problem": "regression", "dataset": "reg-gauss"})
    assert (s.problem, s.dataset) == ("regression", "reg-gauss")


def test_a_dataset_given_alone_is_kept():
    # "#dataset=reg-gauss" in a shared URL: the data set named, not silently another one
    s = Settings.from_dict({"dataset": "reg-gauss"})
    assert s.dataset == "reg-gauss"
    assert s.problem == "regression"


def test_circle_and_xor_have_two_classes():
    assert Settings.from_dict({"dataset": "gauss", "classes": 4}).classes == 4
    assert Settings.from_dict({"dataset": "circle", "classes": 4}).classes == 2
    assert Settings.from_dict({"dataset": "xor", "classes": 3}).classes == 2


def test_perceptron_mode_forces_x1_x2():
    s = Settings.from_dict({"mode": "perceptron", "features": ["x1^2", "sin(x1)"]})
    assert s.features == ["x1", "x2"]


@pytest.mark.parametrize(
    "given",
    [
        {"mode": "perceptron", "dataset": "spiral", "classes": 3},
        {"mode": "perceptron", "problem": "regression"},
    ],
)
def test_perceptron_mode_needs_two_classes(given):
    with pytest.raises(ValueError, match=r"perceptron mode .* separates two classes"):
        Settings.from_dict(given)


# A changed, valid value for every setting: the live ones keep the training.
LIVE_CHANGES = {
    "learning_rate": 0.1,
    "reg_rate": 0.01,
    "batch_size": 30,
    "stop_epochs": 100,
    "stop_loss": 0.1,
    "epochs_per_frame": 5,
}
STRUCTURAL_CHANGES = {
    "mode": "perceptron",
    "problem": "regression",
    "dataset": "xor",
    "classes": 3,
    "samples": 200,
    "noise": 0.2,
    "train_ratio": 0.7,
    "features": ["x1", "x2", "x1*x2"],
    "layers": [4, 3],
    "activations": ["relu", "tanh"],
    "optimizer": "adam",
    "regularization": "l2",
    "dropout": 0.2,
    "seed": 2,
    "heatmap": 30,
}


def test_every_setting_is_classified_as_live_or_structural():
    names = {f.name for f in fields(Settings)}
    assert set(LIVE_CHANGES) == set(LIVE)
    assert set(LIVE_CHANGES) | set(STRUCTURAL_CHANGES) == names
    assert not set(LIVE_CHANGES) & set(STRUCTURAL_CHANGES)


@pytest.mark.parametrize(("key", "value"), sorted(LIVE_CHANGES.items()))
def test_live_settings_do_not_restart(key, value):
    base = Settings.from_dict({"dataset": "gauss"})
    new = Settings.from_dict({key: value}, base)
    assert getattr(new, key) != getattr(base, key)
    assert not new.restarts(base)


@pytest.mark.parametrize(("key", "value"), sorted(STRUCTURAL_CHANGES.items()))
def test_structural_settings_restart(key, value):
    base = Settings.from_dict({"dataset": "gauss"})
    new = Settings.from_dict({key: value}, base)
    assert getattr(new, key) != getattr(base, key)
    assert new.restarts(base)


def test_the_same_settings_do_not_restart():
    assert not Settings().restarts(Settings.from_dict({}))


def test_a_new_problem_leaves_an_uploaded_file_for_its_first_data_set():
    base = Settings.from_dict({"dataset": "upload", "problem": "classification"})
    assert Settings.from_dict({"problem": "regression"}, base).dataset == "plane"
    same = Settings.from_dict({"problem": "classification", "noise": 0.1}, base)
    assert same.dataset == "upload"  # the same problem: the file stays
