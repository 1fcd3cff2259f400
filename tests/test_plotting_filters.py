"""lucidnet.plotting.filters: the filters and feature maps of a convolutional network, each
picture's image data checked against the kernels and the layers' outputs."""

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import plotting

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def cnn(in_channels=1):
    return ln.Sequential(
        [
            ln.Conv2D(in_channels, 6, 3, seed=0, name="c1"),
            ln.ReLU(),
            ln.MaxPool2D(2, name="p1"),
            ln.Conv2D(6, 20, (2, 3), padding="same", seed=1, name="c2"),
            ln.ReLU(),
            ln.AvgPool2D(2, name="p2"),
            ln.Flatten(),
            ln.Dense(2 * 2 * 20, 3, seed=2),
            ln.Softmax(),
        ],
        input_shape=(10, 10, in_channels),
    )


def _images(fig):
    """The image of each axes that shows one, in the figure's order."""
    return [ax.get_images()[0] for ax in fig.axes if ax.get_images()]


def _saved(path, fig):
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temp file left"
    with PIL.open(path) as picture:
        width, height = fig.get_size_inches() * fig.dpi
        assert picture.size == (round(width), round(height))
        pixels = np.asarray(picture.convert("RGB"), dtype=np.float64)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10


def test_plot_filters_shows_each_kernel_as_its_own_image(tmp_path):
    model = cnn()
    fig = plotting.plot_filters(model, tmp_path / "filters.png")
    _saved(tmp_path / "filters.png", fig)
    images = _images(fig)
    assert len(images) == 6 and len(fig.axes) == 3 * 2  # 6 filters on a 3 x 2 grid
    kernel = model.layers[0].weights  # (3, 3, 1, 6)
    for f, shown in enumerate(images):
        np.testing.assert_array_equal(shown.get_array(), kernel[:, :, 0, f])
    scale = float(np.abs(kernel).max())
    assert images[0].get_clim() == pytest.approx((-scale, scale))  # one scale for all
    assert "c1: 6 filters 3x3" in fig._suptitle.get_text()


def test_plot_filters_of_several_input_channels_mean_or_one_channel(tmp_path):
    model = cnn()
    conv = model.layers[3]  # (2, 3, 6, 20)
    mean = plotting.plot_filters(model, layer="c2", max_filters=7)
    images = _images(mean)
    assert len(images) == 7 and len(mean.axes) == 3 * 3
    np.testing.assert_allclose(
        images[4].get_array(), conv.weights[:, :, :, 4].astype(np.float64).mean(axis=2)
    )
    assert "7 of 20 filters 2x3, mean of 6 input channels" in mean._suptitle.get_text()
    one = plotting.plot_filters(conv, channel=5)
    assert len(_images(one)) == 20
    np.testing.assert_array_equal(_images(one)[19].get_array(), conv.weights[:, :, 5, 19])
    assert "input channel 5" in one._suptitle.get_text()
    by_index = plotting.plot_filters(model, layer=1, max_filters=1)
    np.testing.assert_allclose(_images(by_index)[0].get_array(), images[0].get_array())


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"layer": "c3"}, r"no Conv2D layer named 'c3'; the model's are \['c1', 'c2'\]"),
        ({"layer": 2}, r"layer 2: the model has 2 Conv2D layer\(s\)"),
        ({"layer": "c2", "channel": 6}, "channel 6 is not an input channel"),
        ({"max_filters": 0}, "max_filters must be an int >= 1"),
    ],
)
def test_plot_filters_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        plotting.plot_filters(cnn(), **args)


def test_plot_filters_needs_a_convolution():
    with pytest.raises(ValueError, match="no Conv2D layer"):
        plotting.plot_filters(ln.Sequential([ln.Dense(2, 3)]))


def _direct_conv(x, kernel, bias):
    """A 'valid' stride-1 convolution of one image (H, W, C), written out."""
    kh, kw, _, f = kernel.shape
    out = np.empty((x.shape[0] - kh + 1, x.shape[1] - kw + 1, f))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.tensordot(x[i : i + kh, j : j + kw], kernel, axes=3) + bias
    return out


def test_plot_feature_maps_one_row_per_convolution_and_pooling(tmp_path):
    model = cnn()
    image = np.random.default_rng(0).random((10, 10, 1)).astype(np.float32)
    fig = plotting.plot_feature_maps(model, image, tmp_path / "maps.png", max_channels=8)
    _saved(tmp_path / "maps.png", fig)
    images = _images(fig)
    assert len(images) == 1 + 6 + 6 + 8 + 8  # input, c1, p1, c2 (8 of 20), p2 (8 of 20)
    assert len(fig.axes) == 5 * 8  # 5 rows of 8 columns
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels[0] == "input\n10x10x1"
    assert labels[1] == "c1 (Conv2D)\n8x8x6" and labels[2] == "p1 (MaxPool2D)\n4x4x6"
    assert labels[3] == "c2 (Conv2D)\n4x4x20\n(first 8 of 20)"
    np.testing.assert_array_equal(images[0].get_array(), image[:, :, 0])
    # the first convolution's maps: z before the ReLU, by the definition
    conv = model.layers[0]
    z = _direct_conv(image.astype(np.float64), conv.weights, conv.bias)
    for f in range(6):
        np.testing.assert_allclose(images[1 + f].get_array(), z[:, :, f], rtol=1e-5, atol=1e-6)
    # the max-pool of the ReLU of those maps
    pooled = np.maximum(z, 0).reshape(4, 2, 4, 2, 6).max(axis=(1, 3))
    for f in range(6):
        np.testing.assert_allclose(images[7 + f].get_array(), pooled[:, :, f], rtol=1e-5, atol=1e-6)
    scale = float(np.abs(z).max())
    assert images[1].get_clim() == pytest.approx((-scale, scale), rel=1e-5)


def test_plot_feature_maps_takes_one_image_and_says_what_it_expected():
    model = cnn(in_channels=3)
    image = np.random.default_rng(1).random((1, 10, 10, 3))
    fig = plotting.plot_feature_maps(model, image, max_channels=4)  # a batch of one image
    assert len(_images(fig)) == 3 + 4 + 4 + 4 + 4
    with pytest.raises(ValueError, match=r"image must be one image \(10, 10, 3\), got shape"):
        plotting.plot_feature_maps(model, np.zeros((2, 10, 10, 3)))
    with pytest.raises(ValueError, match="no Conv2D, MaxPool2D or AvgPool2D"):
        plotting.plot_feature_maps(
            ln.Sequential([ln.Flatten(), ln.Dense(4, 2)]), np.zeros((2, 2, 1))
        )


def test_train_plots_of_a_convolutional_network(tmp_path, monkeypatch):
    from lucidnet.cli.data import Split
    from lucidnet.cli.train import _write_plots

    for name in ("training_curves", "confusion_matrix"):  # tested elsewhere; slow to draw
        monkeypatch.setattr(plotting, name, lambda *args: open(args[-1], "wb").close())
    model = cnn()
    rng = np.random.default_rng(2)
    x, y = rng.random((6, 10, 10, 1)).astype(np.float32), np.array([0, 1, 2, 0, 1, 2])
    data = Split(x, y, x, y, 3)
    written = _write_plots(model, {"loss": [1.0, 0.5]}, data, str(tmp_path))
    assert written == [
        "training_curves.png",
        "confusion_matrix.png",
        "filters.png",
        "feature_maps.png",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)
