"""lucidnet.plotting: each picture renders with Agg to a non-blank file of the right size."""

import subprocess
import sys

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import plotting

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def _tiny(seed=0):
    return ln.Sequential(
        [ln.Dense(2, 4, seed=seed), ln.Tanh(), ln.Dense(4, 1, seed=seed), ln.Sigmoid()]
    )


@pytest.fixture(scope="module")
def moons():
    return ln.datasets.moons(60, noise=0.1, seed=0)


@pytest.fixture(scope="module")
def spirals_model():
    x, y = ln.datasets.spirals(60, classes=3, seed=0)
    model = ln.Sequential([ln.Dense(2, 6, seed=0), ln.ReLU(), ln.Dense(6, 3, seed=1), ln.Softmax()])
    return model, x, y


def _assert_picture(path, fig=None, size=None):
    """The file opens, has the figure's pixel size, and is not one flat colour."""
    assert path.exists()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temp file left"
    with PIL.open(path) as image:
        if fig is not None:
            width, height = fig.get_size_inches() * fig.dpi
            assert image.size == (round(width), round(height))
        if size is not None:
            assert image.size == size
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.std() > 0
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10


def test_importing_lucidnet_does_not_import_matplotlib():
    code = (
        "import sys, lucidnet, lucidnet.plotting, lucidnet.report, lucidnet.cli; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_without_matplotlib_the_error_names_the_extra(monkeypatch, moons):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'lucidnet\[plot\]'"):
        plotting.training_curves({"loss": [1.0, 0.5]})
    with pytest.raises(ImportError, match=r"lucidnet\[plot\]"):
        plotting.decision_boundary(_tiny(), *moons)


def test_training_curves_from_a_history_and_from_a_dict(tmp_path, moons):
    model = _tiny()
    model.compile("binary_crossentropy", ln.Adam(lr=0.05), metrics=["accuracy"])
    history = model.fit(*moons, epochs=4, validation_split=0.25, verbose=0, seed=0)
    fig = plotting.training_curves(history, tmp_path / "curves.png")
    _assert_picture(tmp_path / "curves.png", fig, size=(840, 320))  # loss and accuracy panels
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["loss", "accuracy"]
    loss_axes = fig.axes[0]
    assert [line.get_label() for line in loss_axes.get_lines()] == ["training", "validation"]
    np.testing.assert_allclose(loss_axes.get_lines()[1].get_ydata(), history.history["val_loss"])
    # a changing learning rate gets a third panel; a plain dict works too
    logs = {"loss": [1.0, 0.6, 0.4], "lr": [0.1, 0.05, 0.01]}
    fig = plotting.training_curves(logs, tmp_path / "lr.png")
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["loss", "learning rate"]
    _assert_picture(tmp_path / "lr.png", fig, size=(840, 320))  # 2 panels of 4.2 x 3.2 in


def test_training_curves_rejects_an_empty_or_foreign_history():
    with pytest.raises(ValueError, match="history is empty"):
        plotting.training_curves({})
    with pytest.raises(TypeError, match="History or a dict"):
        plotting.training_curves([0.5, 0.4])


def test_decision_boundary_binary_and_multiclass(tmp_path, moons, spirals_model):
    fig = plotting.decision_boundary(_tiny(), *moons, tmp_path / "b.png", resolution=40)
    _assert_picture(tmp_path / "b.png", fig, size=(600, 500))
    assert fig.axes[1].get_ylabel() == "P(class 1)"  # the colour bar of a probability
    model, x, y = spirals_model
    fig = plotting.decision_boundary(
        model, x, y, tmp_path / "m.png", resolution=40, class_names=["a", "b", "c"]
    )
    _assert_picture(tmp_path / "m.png", fig, size=(600, 500))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b", "c"]
    assert fig.axes[0].get_images()[0].get_array().shape == (40, 40, 3)  # class colours


def test_decision_boundary_needs_points_in_the_plane(moons):
    x, y = moons
    with pytest.raises(ValueError, match=r"x must be points in the plane, shape \(n, 2\)"):
        plotting.decision_boundary(_tiny(), np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"got \(60,\)"):
        plotting.decision_boundary(_tiny(), x[:, 0], y)
    with pytest.raises(ValueError, match="x has 60 rows but y has 59 labels"):
        plotting.decision_boundary(_tiny(), x, y[:-1])
    wide = ln.Sequential([ln.Dense(3, 1, seed=0), ln.Sigmoid()])
    with pytest.raises(
        ValueError,
        match=r"decision_boundary: the model takes inputs of shape \(3,\); this picture needs "
        r"\(2,\)",
    ):
        plotting.decision_boundary(wide, x, y)
    with pytest.raises(ValueError, match="resolution must be an int >= 2"):
        plotting.decision_boundary(_tiny(), x, y, resolution=1)


def test_boundary_animation_trains_between_frames(tmp_path, moons):
    model = _tiny()
    model.compile("binary_crossentropy", ln.Adam(lr=0.1), metrics=["accuracy"])
    before = model.get_weights()
    path = tmp_path / "train.gif"
    fig = plotting.boundary_animation(
        model, *moons, path, epochs=6, frames=4, resolution=30, fit_kwargs={"seed": 0}
    )
    with PIL.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 4
        assert gif.size == (550, 500)
        frames = []
        for k in range(gif.n_frames):
            gif.seek(k)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.float64))
    assert all(frame.std() > 0 for frame in frames)
    assert np.abs(frames[0] - frames[-1]).max() > 0  # the boundary moved
    assert fig.axes[0].get_title().startswith("epoch 6/6")
    assert any(np.any(a != b) for a, b in zip(before, model.get_weights(), strict=True))


def _spiral_classifier(seed=0):
    model = ln.Sequential(
        [ln.Dense(2, 8, seed=seed), ln.Tanh(), ln.Dropout(0.2, seed=seed),
         ln.Dense(8, 3, seed=seed + 1), ln.Softmax()]
    )  # fmt: skip
    return model.compile("crossentropy", ln.Adam(lr=0.05), metrics=["accuracy"])


def test_boundary_recorder_records_the_run_itself_and_changes_nothing(tmp_path):
    x, y = ln.datasets.spirals(60, classes=3, seed=0)
    plain = _spiral_classifier()
    plain.fit(x, y, epochs=7, batch_size=16, validation_split=0.2, verbose=0, seed=3)
    model = _spiral_classifier()
    recorder = plotting.BoundaryRecorder(x, y, frames=4, resolution=30)
    model.fit(
        x, y, epochs=7, batch_size=16, validation_split=0.2, verbose=0, seed=3,
        callbacks=[recorder],
    )  # fmt: skip
    for a, b in zip(plain.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # watching did not change the training
    assert recorder.epochs == [0, 2, 5, 7]  # round(linspace(0, 7, 4))
    final = model.predict_proba(recorder.grid, batch_size=8192)
    np.testing.assert_array_equal(recorder.outputs[-1], final)  # the last frame: this model
    assert not np.array_equal(recorder.outputs[0], final)
    recorder.save(tmp_path / "run.gif")
    with PIL.open(tmp_path / "run.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (550, 500)
    assert recorder.figure.axes[0].get_title().startswith("epoch 7/7")
    with pytest.raises(ValueError, match=r"must end in \.gif"):
        recorder.save(tmp_path / "run.png")


def test_boundary_recorder_ends_on_the_model_an_early_stop_leaves(tmp_path):
    x, y = ln.datasets.spirals(60, classes=3, seed=0)
    model = _spiral_classifier()
    recorder = plotting.BoundaryRecorder(x, y, frames=3, resolution=20)
    stop = ln.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)  # stops after 2 epochs
    history = model.fit(x, y, epochs=50, verbose=0, seed=0, callbacks=[stop, recorder])
    assert len(history.epoch) < 50
    assert recorder.epochs[0] == 0 and recorder.epochs[-1] == len(history.epoch)
    final = model.predict_proba(recorder.grid, batch_size=8192)
    np.testing.assert_array_equal(recorder.outputs[-1], final)
    with pytest.raises(ValueError, match="frames must be an int >= 2"):
        plotting.BoundaryRecorder(x, y, frames=1)
    with pytest.raises(ValueError, match="no frames"):
        plotting.BoundaryRecorder(x, y).save(tmp_path / "none.gif")


def test_boundary_animation_rejects_bad_arguments(tmp_path, moons):
    model = _tiny()
    with pytest.raises(ValueError, match="compile the model first"):
        plotting.boundary_animation(model, *moons, tmp_path / "a.gif")
    model.compile("binary_crossentropy", "adam")
    with pytest.raises(ValueError, match=r"must end in \.gif"):
        plotting.boundary_animation(model, *moons, tmp_path / "a.png")
    with pytest.raises(ValueError, match="fit_kwargs may not set epochs"):
        plotting.boundary_animation(model, *moons, tmp_path / "a.gif", fit_kwargs={"epochs": 3})
    with pytest.raises(ValueError, match="frames must be an int >= 2"):
        plotting.boundary_animation(model, *moons, tmp_path / "a.gif", frames=1)
    assert not list(tmp_path.iterdir())


def test_predicted_vs_true_one_panel_per_output_with_its_r2(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 2))
    p = y + 0.3 * rng.normal(size=(50, 2))
    fig = plotting.predicted_vs_true(y[:, 0], p[:, :1], tmp_path / "one.png")
    _assert_picture(tmp_path / "one.png", fig, size=(460, 440))  # 4.4 x 4.4 in, + 0.2
    r2 = ln.metrics.r2_score(y[:, 0], p[:, 0])
    assert fig.axes[0].get_title() == f"R² {r2:.3f} on 50 samples"
    points = fig.axes[0].collections[0].get_offsets()  # (true, predicted) per sample
    np.testing.assert_array_equal(points, np.column_stack([y[:, 0], p[:, 0]]))
    fig = plotting.predicted_vs_true(y, p, tmp_path / "two.png")
    _assert_picture(tmp_path / "two.png", fig, size=(900, 440))
    assert [ax.get_xlabel() for ax in fig.axes] == ["true (output 0)", "true (output 1)"]
    with pytest.raises(ValueError, match=r"y_true has shape \(50, 2\) but y_pred has shape"):
        plotting.predicted_vs_true(y, p[:, 0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        plotting.predicted_vs_true(y[:, 0], np.full(50, np.nan))


def test_network_diagram_draws_every_weight_of_a_small_network(tmp_path):
    model = _tiny()
    fig = plotting.network_diagram(model, tmp_path / "net.png")
    # 3 columns: max(4.5, 1.4 * 3 + 1.5) x max(3, 0.48 * 4 + 1.4) inches at 100 dpi
    _assert_picture(tmp_path / "net.png", fig, size=(570, 332))
    ax = fig.axes[0]
    assert len(ax.patches) == 2 + 4 + 1  # one circle per neuron
    lines = [len(c.get_segments()) for c in ax.collections]  # one collection per layer
    assert lines == [2 * 4, 4 * 1]  # one line per weight
    labels = " ".join(t.get_text() for t in ax.texts)
    assert "input\n2 units" in labels and "output (Sigmoid)\n1 units" in labels


def test_network_diagram_abbreviates_wide_layers(tmp_path):
    model = ln.Sequential([ln.Dense(30, 5, seed=0), ln.ReLU(), ln.Dense(5, 2, seed=1)])
    fig = plotting.network_diagram(model, tmp_path / "wide.png", max_units=8)
    _assert_picture(tmp_path / "wide.png", fig, size=(570, 524))  # 8 slots: 0.48 * 8 + 1.4
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "⋮" in texts and "+23" in texts  # 4 first + ellipsis + 3 last of 30
    assert len(ax.patches) == 7 + 5 + 2
    assert [len(c.get_segments()) for c in ax.collections] == [7 * 5, 5 * 2]
    with pytest.raises(ValueError, match="max_units must be an int >= 3, got 2"):
        plotting.network_diagram(model, max_units=2)
    with pytest.raises(ValueError, match="no Dense layer"):
        plotting.network_diagram(ln.Sequential([ln.ReLU()]))


def test_network_pictures_refuse_a_layer_they_cannot_draw():
    class Scale(ln.Layer):  # any layer that is not Dense, an activation or Dropout
        pass

    model = ln.Sequential([Scale(), ln.Dense(2, 3), ln.ReLU(), ln.Dense(3, 1)])
    with pytest.raises(ValueError, match=r"layer 0 \(scale, Scale\) has no place"):
        plotting.network_diagram(model)
    with pytest.raises(ValueError, match=r"layer 0 \(scale, Scale\) has no place"):
        plotting.first_layer_weights(model, shape=(1, 2))


def test_activation_maps_one_row_per_layer(tmp_path, moons):
    model = ln.Sequential(
        [
            *(ln.Dense(2, 3, seed=0), ln.Tanh()),
            *(ln.Dense(3, 5, seed=1), ln.ReLU()),
            *(ln.Dense(5, 1, seed=2), ln.Sigmoid()),
        ]
    )
    fig = plotting.activation_maps(model, moons[0], tmp_path / "maps.png", resolution=20)
    # 5 columns, 3 rows: (1.05 * 5 + 1.2) x (1.25 * 3 + 0.4) inches
    _assert_picture(tmp_path / "maps.png", fig, size=(645, 415))
    images = [ax for ax in fig.axes if ax.get_images()]
    assert len(images) == 3 + 5 + 1
    assert images[0].get_images()[0].get_array().shape == (20, 20)
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == ["hidden 1 (Tanh)", "hidden 2 (ReLU)", "output (Sigmoid)"]
    # the first hidden unit's map is tanh(x @ w + b) over the plane, computed independently
    first = images[0].get_images()[0].get_array()
    xmin, _, ymin, _ = images[0].get_images()[0].get_extent()  # grid point 0 is the corner
    corner = np.array([[xmin, ymin]])
    expected = np.tanh(corner @ model.layers[0].weights + model.layers[0].bias)[0, 0]
    assert first[0, 0] == pytest.approx(expected, abs=1e-5)


def test_activation_maps_without_data_and_with_a_cap(tmp_path):
    model = ln.Sequential([ln.Dense(2, 20, seed=0), ln.Tanh(), ln.Dense(20, 1, seed=1)])
    fig = plotting.activation_maps(model, None, tmp_path / "cap.png", resolution=10, max_units=4)
    assert len([ax for ax in fig.axes if ax.get_images()]) == 4 + 1
    assert "(first 4 of 20)" in fig.axes[0].get_ylabel()
    _assert_picture(tmp_path / "cap.png", fig, size=(540, 290))  # 4 columns, 2 rows
    with pytest.raises(
        ValueError, match=r"activation_maps: the model takes inputs of shape \(784,\)"
    ):
        plotting.activation_maps(ln.Sequential([ln.Dense(784, 2, seed=0)]))


def test_first_layer_weights_as_images(tmp_path):
    model = ln.Sequential([ln.Dense(784, 10, seed=0), ln.ReLU(), ln.Dense(10, 3, seed=1)])
    fig = plotting.first_layer_weights(model, tmp_path / "w.png", max_units=6)
    _assert_picture(tmp_path / "w.png", fig, size=(315, 250))  # 6 units: 3 x 2 of 0.95 in
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 6
    np.testing.assert_array_equal(
        images[2].get_array(), model.layers[0].weights[:, 2].reshape(28, 28)
    )
    with pytest.raises(ValueError, match=r"takes 784 inputs, but shape \(8, 8\) has 64 pixels"):
        plotting.first_layer_weights(model, shape=(8, 8))


def test_confusion_matrix_counts_in_the_cells(tmp_path):
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2, 2, 2, 0])
    names = ["cat", "dog", "bird"]
    fig = plotting.confusion_matrix(y_true, y_pred, labels=names, path=tmp_path / "cm.png")
    _assert_picture(tmp_path / "cm.png", fig, size=(480, 400))  # 3 classes: the 4 in minimum
    ax = fig.axes[0]
    counts = np.array([int(t.get_text()) for t in ax.texts]).reshape(3, 3)
    np.testing.assert_array_equal(counts, ln.metrics.confusion_matrix(y_true, y_pred))
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert "accuracy 0.667 on 9 samples" in ax.get_title()
    with pytest.raises(ValueError, match="no samples"):
        plotting.confusion_matrix(np.array([], dtype=int), np.array([], dtype=int))


def test_saving_is_atomic_and_checks_the_path(tmp_path):
    logs = {"loss": [1.0, 0.5]}
    target = tmp_path / "curves.png"
    target.write_bytes(b"old")
    plotting.training_curves(logs, target)
    assert target.read_bytes().startswith(b"\x89PNG")  # replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]
    plotting.training_curves(logs, tmp_path / "curves.svg")
    assert b"<svg" in (tmp_path / "curves.svg").read_bytes()
    with pytest.raises(ValueError, match="unknown format 'bmpx'"):
        plotting.training_curves(logs, tmp_path / "curves.bmpx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plotting.training_curves(logs, tmp_path / "missing" / "curves.png")


def test_figures_use_their_own_agg_canvas():
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    backend = matplotlib.get_backend()
    fig = plotting.training_curves({"loss": [1.0]})
    assert isinstance(fig.canvas, FigureCanvasAgg)
    assert matplotlib.get_backend() == backend


def test_decision_boundary_refuses_negative_labels(tmp_path):
    model = ln.Sequential([ln.Dense(2, 4, seed=0), ln.Tanh(), ln.Dense(4, 1, seed=0), ln.Sigmoid()])
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    y = np.where(x[:, 0] > 0, 1, -1)
    with pytest.raises(ValueError, match="map -1/\\+1 labels to 0/1"):
        plotting.decision_boundary(model, x, y)
