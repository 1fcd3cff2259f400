"""Parameters and buffers: one object per array, shared by the layer and the model."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.layers import Layer
from lucidnet.parameters import Buffer, FlatBuffers, Parameter, ParameterList, parameter_property


def test_parameter_holds_value_grad_and_penalties():
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    p = Parameter("weights", value, l1=0.5, l2=0.25)
    assert p.name == "weights" and p.value is value
    assert p.grad.shape == (2, 3) and p.grad.dtype == np.float32
    np.testing.assert_array_equal(p.grad, 0)
    assert (p.l1, p.l2) == (0.5, 0.25)
    assert p.penalized
    assert not Parameter("bias", np.zeros(3)).penalized
    assert Parameter("b", np.zeros(3), l2=1e-3).penalized
    grad = np.ones(3)
    assert Parameter("b", np.zeros(3), grad=grad).grad is grad
    assert repr(p) == "Parameter('weights', shape=(2, 3))"


def test_parameter_is_a_mutable_object_not_a_tuple():
    p = Parameter("w", np.zeros(2))
    with pytest.raises(TypeError):
        _name, _value, _grad = p
    p.l2 = 0.1
    p.value = np.ones(2)
    p.name = "dense.w"
    assert (p.name, p.l2) == ("dense.w", 0.1)
    np.testing.assert_array_equal(p.value, 1)
    assert isinstance(p, Buffer)  # a parameter is a buffer that is also trained


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "much"])
@pytest.mark.parametrize("which", ["l1", "l2"])
def test_penalty_factors_are_checked(which, bad):
    with pytest.raises(ValueError, match=rf"weights: {which} must be a finite number >= 0"):
        Parameter("weights", np.zeros(2), **{which: bad})


def test_buffer_assign_copies_into_the_live_array():
    live = np.zeros((2, 2), np.float32)
    view = live[:]
    b = Buffer("running_mean", view)
    b.assign([[1, 2], [3, 4]])  # ints are cast to the buffer's dtype
    assert b.value is view
    np.testing.assert_array_equal(live, [[1, 2], [3, 4]])
    assert live.dtype == np.float32
    b.assign(np.full((2, 2), 0.5, np.float64))
    np.testing.assert_array_equal(live, 0.5)
    b.assign(np.array([[True, False], [False, True]]))
    np.testing.assert_array_equal(live, [[1, 0], [0, 1]])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros(3), r"running_mean: expected an array of shape \(2, 2\), got \(3,\)"),
        (
            np.zeros((2, 2, 1)),
            r"running_mean: expected an array of shape \(2, 2\), got \(2, 2, 1\)",
        ),
        (np.zeros((2, 2), complex), r"running_mean: expected real numbers .*got dtype complex128"),
        (np.full((2, 2), "a"), r"running_mean: expected real numbers .*got dtype <U1"),
    ],
)
def test_buffer_assign_rejects_wrong_shapes_and_types(value, message):
    live = np.arange(4.0).reshape(2, 2)
    b = Buffer("running_mean", live)
    with pytest.raises(ValueError, match=message):
        b.assign(value)
    np.testing.assert_array_equal(live, np.arange(4.0).reshape(2, 2))


def test_parameter_list_is_a_list_with_flat_buffers():
    params = [Parameter("a", np.zeros(2)), Parameter("b", np.zeros(3))]
    plain = ParameterList(params)
    assert isinstance(plain, list) and list(plain) == params
    assert plain.flat is None
    flat = FlatBuffers(np.zeros(5), np.zeros(5))
    listed = ParameterList(params, flat)
    assert listed.flat is flat
    assert listed.flat.values is flat.values and listed.flat.grads is flat.grads
    assert ParameterList().flat is None and len(ParameterList()) == 0


class Scale(Layer):
    """A layer with one parameter ``s`` and read access to its gradient."""

    s = parameter_property("s")
    grad_s = parameter_property("s", grad=True)
    missing = parameter_property("missing")

    def __init__(self, name=None):
        super().__init__(name)
        self.add_parameter("s", np.ones(3, np.float32))


def test_parameter_property_reads_the_live_array():
    layer = Scale()
    p = layer.parameter("s")
    assert layer.s is p.value
    assert layer.grad_s is p.grad
    assert layer.missing is None  # a parameter the layer does not have reads as None
    assert isinstance(Scale.s, parameter_property)  # on the class: the descriptor
    p.value = np.full(3, 2.0, np.float32)  # the model re-lays it out: the attribute follows
    assert layer.s is p.value


def test_parameter_property_assignment_copies():
    layer = Scale()
    array = layer.s
    layer.s = [1, 2, 3]
    assert layer.s is array and layer.parameter("s").value is array
    np.testing.assert_array_equal(array, [1, 2, 3])
    assert array.dtype == np.float32
    with pytest.raises(
        ValueError, match=r"scale\.s: expected an array of shape \(3,\), got \(2,\)"
    ):
        layer.s = [1, 2]
    with pytest.raises(AttributeError, match=r"scale\.s gradient is written by backward"):
        layer.grad_s = np.zeros(3)
    with pytest.raises(AttributeError, match="scale has no parameter 'missing'"):
        layer.missing = np.zeros(3)


def test_dense_attributes_are_parameter_properties():
    dense = ln.Dense(3, 2, seed=0)
    assert dense.weights is dense.parameter("weights").value
    assert dense.bias is dense.parameter("bias").value
    assert dense.grad_weights is dense.parameter("weights").grad
    assert ln.Dense(3, 2, bias=False).bias is None
    with pytest.raises(AttributeError, match="has no parameter 'bias'"):
        ln.Dense(3, 2, bias=False).bias = np.zeros(2)
    with pytest.raises(
        KeyError, match=r"dense has no parameter 'kernel'; it has \['bias', 'weights'\]"
    ):
        dense.parameter("kernel")


def test_a_layer_cannot_name_two_arrays_alike():
    layer = Scale()
    with pytest.raises(ValueError, match="scale: an array named 's' exists already"):
        layer.add_parameter("s", np.zeros(1))
    with pytest.raises(ValueError, match="scale: an array named 's' exists already"):
        layer.add_buffer("s", np.zeros(1))
    layer.add_buffer("mean", np.zeros(3))
    with pytest.raises(ValueError, match="an array named 'mean' exists already"):
        layer.add_parameter("mean", np.zeros(3))
    assert [b.name for b in layer.buffers()] == ["mean"]
    assert [p.name for p in layer.parameters()] == ["s"]


def test_model_lists_the_layers_own_parameter_objects():
    first, second = ln.Dense(2, 3, seed=0), ln.Dense(3, 1, seed=1)
    objects = [*first.parameters(), *second.parameters()]
    values = [p.value.copy() for p in objects]
    model = ln.Sequential([first, ln.ReLU(), second])
    params = model.parameters()
    assert isinstance(params, ParameterList)
    assert [id(p) for p in params] == [id(p) for p in objects]
    assert [p.name for p in params] == [
        "dense.weights",
        "dense.bias",
        "dense_1.weights",
        "dense_1.bias",
    ]
    flat = params.flat
    assert flat.values.shape == (2 * 3 + 3 + 3 + 1,) and flat.grads.shape == flat.values.shape
    for p, v in zip(params, values, strict=True):
        np.testing.assert_array_equal(p.value, v)  # packing kept the numbers
        assert np.shares_memory(p.value, flat.values)
        assert np.shares_memory(p.grad, flat.grads)
    np.testing.assert_array_equal(flat.values, np.concatenate([v.ravel() for v in values]))
    assert model.flat_buffers is flat
    assert model.parameters() is params


def test_writes_through_any_holder_are_seen_by_all():
    model = ln.Sequential([ln.Dense(2, 1, seed=0)])
    dense = model.layers[0]
    model.parameters().flat.values[:] = 7.0  # as an optimizer does
    np.testing.assert_array_equal(dense.weights, 7.0)
    np.testing.assert_array_equal(dense.bias, 7.0)
    dense.weights = [[1.0], [2.0]]
    np.testing.assert_array_equal(model.parameters().flat.values, [1.0, 2.0, 7.0])
    np.testing.assert_array_equal(model.predict(np.array([[1.0, 1.0]])), [[10.0]])
    model.forward(np.array([[1.0, 1.0]]))
    model.backward(np.array([[1.0]]))
    np.testing.assert_array_equal(model.parameters().flat.grads, [1.0, 1.0, 1.0])


def test_mixed_dtypes_leave_the_parameters_unpacked():
    model = ln.Sequential([ln.Dense(2, 2, dtype=np.float64), ln.Dense(2, 1, dtype=np.float32)])
    params = model.parameters()
    assert params.flat is None and model.flat_buffers is None
    assert [p.value.dtype for p in params] == [np.float64, np.float64, np.float32, np.float32]
