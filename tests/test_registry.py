"""One table per family: every ``get()`` behaves alike, and model files read the tables."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import activations, initializers, layers, losses, metrics, optimizers
from lucidnet.registry import Registry

# --- the Registry itself ------------------------------------------------------------------


class Base:
    pass


class Alpha(Base):
    pass


class Beta(Base):
    pass


def _table(default=None):
    table = Registry("widget", Base, default=default)
    table.register(Alpha, "first")
    table.register(Beta, name="the_beta")
    return table


def test_register_names_classes_and_aliases():
    table = _table()
    assert table.names() == ["alpha", "first", "the_beta"]
    assert table.classes() == {"Alpha": Alpha, "Beta": Beta}
    assert table.lookup("ALPHA") is Alpha and table.lookup("First") is Alpha
    assert table.lookup("The_Beta") is Beta
    table.classes()["Gamma"] = Base  # a copy: the table is not changed through it
    assert "Gamma" not in table.classes()


def test_register_refuses_a_taken_name_but_allows_the_same_entry_again():
    table = _table()
    with pytest.raises(ValueError, match="widget: the name 'first' is taken"):
        table.register(Beta, "First")
    assert table.register(Alpha, "first") is Alpha


def test_get_instance_name_none_and_error():
    table = _table()
    alpha = Alpha()
    assert table.get(alpha) is alpha
    made = table.get("FIRST")
    assert type(made) is Alpha and made is not table.get("first")
    with pytest.raises(
        ValueError, match=r"unknown widget None; valid names: alpha, first, the_beta"
    ):
        table.get(None)
    with pytest.raises(ValueError, match=r"unknown widget 'gamma'; valid names: alpha, first"):
        table.get("gamma")
    with pytest.raises(ValueError, match=r"unknown widget 3"):
        table.get(3)
    assert type(_table(default=Beta).get(None)) is Beta


def test_a_function_family_returns_callables_as_they_are():
    table = Registry("function")
    table.register(np.sum, "total")
    assert table.get("SUM") is np.sum and table.get("total") is np.sum
    fn = lambda a: a  # noqa: E731
    assert table.get(fn) is fn
    with pytest.raises(ValueError, match="unknown function 'mean'; valid names: sum, total"):
        table.get("mean")
    assert table.classes() == {}


# --- every family behaves alike -------------------------------------------------------------

# (family module, a valid name, its class or function, an instance of the family or None)
CLASS_FAMILIES = [
    (activations, "ReLU", activations.ReLU, ln.Tanh()),
    (losses, "MSE", losses.MSE, ln.CrossEntropy(from_logits=True)),
    (optimizers, "Adam", optimizers.Adam, ln.SGD(0.5)),
]
FUNCTION_FAMILIES = [
    (initializers, "He_Normal", initializers.he_normal),
    (metrics, "ACCURACY", metrics.accuracy),
]


@pytest.mark.parametrize(
    ("module", "name", "cls", "instance"), CLASS_FAMILIES, ids=lambda v: getattr(v, "__name__", "")
)
def test_class_families_get_alike(module, name, cls, instance):
    assert module.get(instance) is instance
    assert module.REGISTRY.get(instance) is instance
    for spelling in (name, name.lower(), name.upper()):
        made = module.get(spelling)
        assert type(made) is cls
    assert module.get(name) is not module.get(name)  # a new instance every time
    with pytest.raises(ValueError, match=r"unknown \w+ 'no_such_thing'; valid names: ") as info:
        module.get("no_such_thing")
    for valid in module.names():
        assert valid in str(info.value)
    assert module.names() == module.REGISTRY.names() == sorted(module.names())


@pytest.mark.parametrize(
    ("module", "name", "fn"), FUNCTION_FAMILIES, ids=["initializers", "metrics"]
)
def test_function_families_get_alike(module, name, fn):
    assert module.REGISTRY.get(name) is fn
    assert module.REGISTRY.get(name.lower()) is fn
    custom = lambda *args: 0.0  # noqa: E731
    assert module.REGISTRY.get(custom) is custom
    with pytest.raises(ValueError, match=r"unknown \w+ 'no_such_thing'; valid names: ") as info:
        module.get("no_such_thing")
    for valid in module.names():
        assert valid in str(info.value)


def test_initializers_and_metrics_module_get():
    assert initializers.get("Glorot_Uniform") is initializers.glorot_uniform
    assert initializers.get("xavier_uniform") is initializers.glorot_uniform
    assert metrics.get("ACC") == ("accuracy", metrics.accuracy)
    assert metrics.get(metrics.mae) == ("mae", metrics.mae)


@pytest.mark.parametrize("module", [losses, optimizers, initializers, metrics])
def test_none_raises_where_a_family_has_no_default(module):
    with pytest.raises(ValueError, match=r"unknown \w+ None; valid names: "):
        module.get(None)


def test_none_gives_the_identity_activation():
    assert type(activations.get(None)) is activations.Identity
    assert activations.get(None) is not activations.get(None)


@pytest.mark.parametrize(
    ("alias", "cls"),
    [
        ("linear", activations.Identity),
        ("logistic", activations.Sigmoid),
        ("heaviside", activations.Step),
        ("leaky_relu", activations.LeakyReLU),
        ("bce", losses.BinaryCrossEntropy),
        ("sparse_categorical_crossentropy", losses.CrossEntropy),
        ("mean_squared_error", losses.MSE),
        ("adamw", optimizers.AdamW),
    ],
)
def test_aliases(alias, cls):
    family = (
        activations
        if cls.__module__.endswith("activations")
        else (losses if cls.__module__.endswith("losses") else optimizers)
    )
    assert type(family.get(alias)) is cls


def test_the_layer_table_lists_layers_and_activations():
    classes = layers.REGISTRY.classes()
    assert classes["Dense"] is ln.Dense and classes["Dropout"] is ln.Dropout
    for name, cls in activations.REGISTRY.classes().items():
        assert classes[name] is cls
    assert type(layers.REGISTRY.get("relu")) is ln.ReLU
    with pytest.raises(ValueError, match="unknown layer 'conv9d'"):
        layers.REGISTRY.get("conv9d")


def test_compile_reads_the_tables():
    model = ln.Sequential([ln.Dense(2, 1)])
    model.compile("Mean_Squared_Error", "ADAM", metrics=["MAE"])
    assert type(model.loss) is ln.MSE and type(model.optimizer) is ln.Adam
    assert model.metrics == [("mae", metrics.mae)]
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; valid names: adam, adamw"):
        model.compile("mse", "adamm")


# --- model files use the tables ---------------------------------------------------------------


def test_model_files_name_only_classes_of_the_tables(tmp_path):
    class MSE(ln.MSE):  # a user's subclass under a built-in name would load as the built-in
        pass

    class Adam(ln.Adam):
        pass

    model = ln.Sequential([ln.Dense(2, 1)])
    model.compile(MSE(), "sgd")
    with pytest.raises(ValueError, match=r"the loss .*\.MSE is not one of lucidnet's"):
        model.save(tmp_path / "m.lucid")
    model.compile("mse", Adam())
    with pytest.raises(ValueError, match=r"the optimizer .*\.Adam is not one of lucidnet's"):
        model.save(tmp_path / "m.lucid")
    assert not (tmp_path / "m.lucid").exists()
    model.compile("mse", "adam")
    model.save(tmp_path / "m.lucid")
    assert type(ln.load(tmp_path / "m.lucid").loss) is ln.MSE


def test_load_names_the_layer_table_for_an_unknown_class(tmp_path):
    class Doubler(ln.Layer):
        def forward(self, x, training=False):
            return 2 * np.asarray(x)

        def backward(self, grad, need_input_grad=True):
            return 2 * np.asarray(grad)

    path = tmp_path / "doubler.lucid"
    ln.save(ln.Sequential([ln.Dense(2, 2), Doubler()]), path)
    known = ", ".join(sorted(layers.REGISTRY.classes()))
    with pytest.raises(ln.ModelFileError, match="layer 1: unknown type 'Doubler'") as info:
        ln.load(path)
    assert f"(known: {known})" in str(info.value)
    loaded = ln.load(path, custom_objects={"Doubler": Doubler})
    assert type(loaded.layers[1]) is Doubler
    x = np.array([[1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(loaded.predict(x), 2 * (x @ loaded.layers[0].weights))


def test_custom_objects_cannot_replace_lucidnets_own_classes(tmp_path):
    class Dense(ln.Dense):
        pass

    path = tmp_path / "m.lucid"
    ln.save(ln.Sequential([ln.Dense(2, 1)]), path)
    with pytest.raises(
        ValueError, match=r"custom_objects\['Dense'\] would replace lucidnet's Dense"
    ):
        ln.load(path, custom_objects={"Dense": Dense})
    with pytest.raises(TypeError, match=r"custom_objects\['f'\] must be a Layer subclass"):
        ln.load(path, custom_objects={"f": print})
    with pytest.raises(ValueError, match=r"is a .*Dense, not lucidnet's Dense; give the class"):
        ln.save(ln.Sequential([Dense(2, 1)]), tmp_path / "shadow.lucid")


def test_every_loss_and_optimizer_class_round_trips_through_a_file(tmp_path):
    x = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    for loss_cls in losses.REGISTRY.classes().values():
        for opt_cls in optimizers.REGISTRY.classes().values():
            model = ln.Sequential([ln.Dense(2, 2, seed=0), ln.Softmax()])
            model.compile(loss_cls(), opt_cls())
            path = tmp_path / f"{loss_cls.__name__}-{opt_cls.__name__}.lucid"
            ln.save(model, path)
            loaded = ln.load(path)
            assert type(loaded.loss) is loss_cls and type(loaded.optimizer) is opt_cls
            assert loaded.optimizer.get_config() == model.optimizer.get_config()
            np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
