"""``lucidnet train --conv``: convolutional networks from the command line, on scikit-learn's
8x8 digits (always there with the sklearn extra), run as a user runs the command."""

import re

import numpy as np
import pytest

import lucidnet as ln
from lucidnet.cli.data import image_shape_of
from lucidnet.cli.memory import model_training_bytes
from lucidnet.cli.train import build_model
from test_cli import _assert_one_line_error, _cli


@pytest.fixture(scope="module")
def digits_cnn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conv")
    result = _cli(
        "train", "--data", "digits", "--conv", "16", "--batchnorm", "--layers", "64",
        "--epochs", "8", "--dropout", "0", "--verbose", "0", "--out", "cnn.lucid",
        cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, result


def test_train_builds_the_blocks_and_the_summary_shows_them(digits_cnn):
    folder, result = digits_cnn
    model = ln.load(folder / "cnn.lucid")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Reshape", "Conv2D", "BatchNorm", "ReLU", "MaxPool2D", "Flatten",
        "Dense", "ReLU", "Dense", "Softmax",
    ]  # fmt: skip
    assert model.input_shape == (64,)
    assert model.shapes()[:6] == [(8, 8, 1), (6, 6, 16), (6, 6, 16), (6, 6, 16), (3, 3, 16), (144,)]
    # conv 3*3*1*16 + 16, batchnorm 2*16, dense 144*64 + 64, dense 64*10 + 10
    assert model.count_parameters() == 160 + 32 + 9280 + 650
    assert "conv2d (Conv2D)         (batch, 6, 6, 16)     160" in result.stdout
    assert "Non-trainable (buffers): 32" in result.stdout


def test_the_cnn_learns_digits_and_evaluate_and_predict_take_its_file(digits_cnn):
    folder, result = digits_cnn
    test_line = next(line for line in result.stdout.splitlines() if line.startswith("test "))
    accuracy = float(test_line.split("accuracy")[1])
    assert accuracy > 0.9, result.stdout
    evaluated = _cli("evaluate", "cnn.lucid", cwd=folder)
    assert evaluated.returncode == 0, evaluated.stderr
    assert test_line in evaluated.stdout  # the same rows, the same model, the same numbers
    model = ln.load(folder / "cnn.lucid")
    x = np.random.default_rng(0).random((3, 64)).astype(np.float32)
    np.savetxt(folder / "rows.csv", x, delimiter=",")
    predicted = _cli("predict", "cnn.lucid", "rows.csv", cwd=folder)
    assert predicted.returncode == 0, predicted.stderr
    header, *labels = predicted.stdout.split()
    assert header == "prediction"
    labels = [int(label) for label in labels]
    np.testing.assert_array_equal(labels, model.predict_classes(x))


def test_gradcheck_of_the_built_network_passes():
    x = np.random.default_rng(1).random((3, 64))
    model = build_model(64, [8], 10, "tanh", 0.0, 0, conv=[4], image_shape=(8, 8, 1))
    report = ln.gradcheck(model, x, np.array([1, 2, 3]), loss="crossentropy")
    assert report.passed, str(report)
    with_bn = build_model(
        64, [8], 10, "tanh", 0.0, 0, conv=[4], image_shape=(8, 8, 1), batchnorm=True
    )
    report = ln.gradcheck(with_bn, x, np.array([1, 2, 3]), loss="crossentropy", training=True)
    assert report.passed, str(report)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "xor", "--conv", "8"], "--conv needs image data"),
        (["--data", "digits", "--conv", "8,8"], "too many blocks for 8x8 images"),
        (["--data", "digits", "--conv", "8,x"], "--conv '8,x': expected filter counts"),
        (["--data", "digits", "--conv", "0"], "expected filter counts >= 1"),
        (["--data", "digits", "--batchnorm"], "--batchnorm goes with --conv"),
        (["--data", "digits", "--conv-dropout", "0.2"], "--conv-dropout goes with --conv"),
        (["--data", "digits", "--conv", "4", "--conv-dropout", "1.5"], "must be in [0, 1)"),
    ],
)
def test_conv_mistakes_are_one_line_errors(tmp_path, args, message):
    result = _cli("train", *args, "--epochs", "1", "--verbose", "0", cwd=tmp_path)
    _assert_one_line_error(result, contains=message)
    assert not (tmp_path / "model.lucid").exists()


def test_image_shapes_of_the_named_sets():
    assert image_shape_of("fashion-mnist", 784) == (28, 28, 1)
    assert image_shape_of("MNIST", 784) == (28, 28, 1)
    assert image_shape_of("digits", 64) == (8, 8, 1)
    with pytest.raises(ValueError, match="--conv needs image data"):
        image_shape_of("wine.csv", 13)


def test_memory_estimate_counts_feature_maps_and_im2col():
    model = build_model(784, [128], 10, "relu", 0.0, 0, conv=[32, 64], image_shape=(28, 28, 1))
    need = model_training_bytes(model, 128, slots=2, samples=60000)
    params = model.count_parameters()
    assert need["parameters"] == 4 * params and need["optimizer"] == 8 * params
    per_row = sum(4 * int(np.prod(shape)) for shape in model.shapes())
    per_row += 26 * 26 * 9 * 1 + 11 * 11 * 9 * 32  # the two im2col buffers
    assert need["activations"] == 4 * 1024 * per_row


def test_plots_and_report_of_a_cnn_show_its_filters_and_feature_maps(tmp_path):
    result = _cli(
        "train", "--data", "digits", "--conv", "4", "--layers", "16", "--epochs", "1",
        "--verbose", "0", "--plots", "plots", "--report", "report.html", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert written == [
        "confusion_matrix.png", "feature_maps.png", "filters.png", "training_curves.png"
    ]  # fmt: skip
    page = (tmp_path / "report.html").read_text()
    assert "What the first convolution looks for" in page
    assert "What the first layer looks for" not in page


def test_feature_maps_take_a_row_for_a_model_that_reshapes_rows_to_images():
    from lucidnet.plotting.filters import feature_maps

    model = build_model(64, [8], 10, "relu", 0.0, 0, conv=[4], image_shape=(8, 8, 1))
    row = np.random.default_rng(2).random(64).astype(np.float32)
    rows = feature_maps(model, row, "test")
    assert [label for label, _ in rows] == ["input", "conv2d (Conv2D)", "max_pool2d (MaxPool2D)"]
    np.testing.assert_array_equal(rows[0][1][..., 0], row.reshape(8, 8))
    conv = model.layers[1].forward(row.reshape(1, 8, 8, 1))
    np.testing.assert_allclose(rows[1][1], conv[0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"image must be one image \(64,\), got shape \(63,\)"):
        feature_maps(model, row[:63], "test")


def test_gradcheck_subcommand_checks_a_convolutional_network():
    result = _cli(
        "gradcheck", "--conv", "2,3", "--image", "12,12,2", "--layers", "4", "--batch", "3"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "gradient check PASSED" in result.stdout
    for row in ("conv2d    weights    3x3x2x2", "conv2d_1  weights    3x3x2x3", "3x12x12x2"):
        assert row in result.stdout
    bad = _cli("gradcheck", "--conv", "2", "--image", "1,2")
    _assert_one_line_error(bad, contains="--image '1,2': expected HEIGHT,WIDTH,CHANNELS")
    small = _cli("gradcheck", "--conv", "2,2", "--image", "6,6,1")
    _assert_one_line_error(small, contains="too many blocks for 6x6 images")


def test_explain_traces_the_cli_cnn_from_a_row_of_pixels(digits_cnn):
    folder, _ = digits_cnn
    np.save(folder / "row.npy", np.random.default_rng(3).random(64).astype(np.float32))
    result = _cli("explain", "cnn.lucid", "--input", "row.npy", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert re.search(r"reshape +Reshape +\(1, 64\) +\(1, 8, 8, 1\)", result.stdout)
    assert "Layer 1 'reshape': Reshape" in result.stdout
    assert "Worked: z[0, 2, 2, 0], filter 0 at output row 2, column 2" in result.stdout


def test_conv_dropout_drops_the_flattened_features():
    model = build_model(
        64, [8], 10, "relu", 0.25, 0, conv=[4], image_shape=(8, 8, 1), conv_dropout=0.4
    )
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[4:7] == ["Flatten", "Dropout", "Dense"]
    assert model.layers[5].rate == 0.4 and model.layers[-3].rate == 0.25


def test_conv_padding_same_keeps_the_size_before_each_pool():
    model = build_model(
        64, [8], 10, "relu", 0.0, 0, conv=[4, 6], image_shape=(8, 8, 1), conv_padding="same"
    )
    assert [layer.padding for layer in model.layers if isinstance(layer, ln.Conv2D)] == [
        "same",
        "same",
    ]
    assert model.shapes()[1:8] == [
        (8, 8, 4), (8, 8, 4), (4, 4, 4), (4, 4, 6), (4, 4, 6), (2, 2, 6), (24,)
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"too many blocks for 8x8 images .*\(same\)"):
        build_model(64, [8], 10, "relu", 0.0, 0, conv=[2, 2, 2, 2], image_shape=(8, 8, 1),
                    conv_padding="same")  # fmt: skip
