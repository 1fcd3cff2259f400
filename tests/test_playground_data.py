"""playground.data: the 2-D data sets, the input features, the grid, uploaded CSV files."""

import numpy as np
import pytest

from lucidnet.playground import data as pdata
from lucidnet.playground.data import (
    CLASSIFICATION,
    FEATURES,
    MAX_CLASSES,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_ROWS,
    REGRESSION,
    features,
    generate,
    grid,
    read_upload,
    split,
)

# --- the generated data sets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "classes"),
    [("circle", 2), ("xor", 2), ("gauss", 2), ("gauss", 3), ("spiral", 2), ("spiral", 3)],
)
def test_classification_sets_give_n_points_and_labels_in_range(name, classes):
    data = generate(name, 101, 0.1, classes=classes, seed=3)
    assert data.points.shape == (101, 2) and data.points.dtype == np.float32
    assert data.targets.shape == (101,) and data.targets.dtype == np.int64
    assert data.classes == [str(k) for k in range(classes)]
    assert not data.regression
    counts = np.bincount(data.targets, minlength=classes)
    assert len(counts) == classes  # no label outside 0 .. classes-1
    assert counts.min() > 0


@pytest.mark.parametrize("name", ["circle", "xor"])
def test_circle_and_xor_always_have_two_classes(name):
    data = generate(name, 60, 0.0, classes=4, seed=0)
    assert data.classes == ["0", "1"]
    assert set(np.unique(data.targets)) == {0, 1}


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_sets_give_a_float32_column(name):
    data = generate(name, 77, 0.1, seed=3)
    assert data.points.shape == (77, 2) and data.points.dtype == np.float32
    assert data.targets.shape == (77, 1) and data.targets.dtype == np.float32
    assert data.classes is None and data.regression


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_the_same_seed_gives_the_same_points(name):
    a = generate(name, 80, 0.2, classes=2, seed=5)
    b = generate(name, 80, 0.2, classes=2, seed=5)
    c = generate(name, 80, 0.2, classes=2, seed=6)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.array_equal(a.points, c.points)


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_points_without_noise_lie_in_the_drawn_plane(name):
    data = generate(name, 300, 0.0, classes=2, seed=1)
    assert np.abs(data.points).max() <= pdata.DOMAIN
    assert data.domain == (-pdata.DOMAIN, pdata.DOMAIN, -pdata.DOMAIN, pdata.DOMAIN)


def test_xor_labels_are_the_sign_of_x1_x2_without_noise():
    data = generate("xor", 400, 0.0, seed=2)
    p = data.points.astype(np.float64)
    np.testing.assert_array_equal(data.targets, (p[:, 0] * p[:, 1] > 0).astype(np.int64))
    assert np.abs(p).min() >= 0.3  # kept away from the axes


def test_xor_noise_moves_points_across_the_axes():
    data = generate("xor", 400, 0.5, seed=2)
    p = data.points
    assert np.any(data.targets != (p[:, 0] * p[:, 1] > 0))


def test_circle_class_1_is_inside_radius_2_5_without_noise():
    data = generate("circle", 400, 0.0, seed=4)
    r = np.hypot(data.points[:, 0], data.points[:, 1])
    inner, outer = r[data.targets == 1], r[data.targets == 0]
    assert inner.max() <= 2.5 + 1e-5
    assert outer.min() >= 3.5 - 1e-5 and outer.max() <= 5.0 + 1e-5


def test_circle_noise_blurs_the_classes():
    data = generate("circle", 400, 0.5, seed=4)
    r = np.hypot(data.points[:, 0], data.points[:, 1])
    assert r[data.targets == 1].max() > 2.5


def test_rows_come_shuffled():
    labels = generate("circle", 200, 0.0, seed=0).targets
    assert not np.array_equal(labels, np.arange(200) % 2)


def test_plane_targets_are_a_plane_in_the_points_without_noise():
    data = generate("plane", 200, 0.0, seed=3)
    a = np.column_stack([data.points, np.ones(200)]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(a, data.targets[:, 0].astype(np.float64), rcond=None)
    np.testing.assert_allclose(a @ coef, data.targets[:, 0], atol=1e-5)
    assert np.abs(coef[:2]).min() > 0  # tilted along both axes
    assert np.abs(data.targets).max() <= 1.0 + 1e-6


def test_regression_noise_changes_the_targets_not_the_points():
    clean = generate("reg-gauss", 100, 0.0, seed=3)
    noisy = generate("reg-gauss", 100, 0.3, seed=3)
    np.testing.assert_array_equal(clean.points, noisy.points)
    assert not np.allclose(clean.targets, noisy.targets)


def test_unknown_data_set_is_refused():
    with pytest.raises(ValueError, match="unknown classification data set 'moons'"):
        generate("moons", 10, 0.0)


# --- split, features, grid --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "ratio", "n_train"),
    [(100, 0.5, 50), (10, 0.75, 8), (2, 0.1, 1), (2, 0.9, 1), (10, 0.99, 9), (10, 0.01, 1)],
)
def test_split_has_at_least_one_row_in_each_part(n, ratio, n_train):
    data = generate("gauss", n, 0.0)
    train, test = split(data, ratio)
    assert len(train) == n_train and len(test) == n - n_train
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))


def test_features_are_computed_from_the_coordinates():
    p = np.array([[0.5, -1.0], [2.0, 3.0], [-4.0, 0.25]], dtype=np.float32)
    x1, x2 = p[:, 0].astype(np.float64), p[:, 1].astype(np.float64)
    expected = {
        "x1": x1,
        "x2": x2,
        "x1^2": x1**2,
        "x2^2": x2**2,
        "x1*x2": x1 * x2,
        "sin(x1)": np.sin(x1),
        "sin(x2)": np.sin(x2),
    }
    assert set(expected) == set(FEATURES)
    names = list(FEATURES)
    out = features(p, names)
    assert out.shape == (3, 7) and out.dtype == np.float32
    for j, name in enumerate(names):
        np.testing.assert_allclose(out[:, j], expected[name], rtol=1e-6, err_msg=name)


def test_features_follow_the_order_of_the_names():
    p = np.array([[0.5, -1.0], [2.0, 3.0]], dtype=np.float32)
    out = features(p, ["x2", "x1*x2"])
    np.testing.assert_allclose(out, [[-1.0, -0.5], [3.0, 6.0]])


def test_unknown_feature_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"unknown feature 'x3'; valid: x1, x2"):
        features(np.zeros((2, 2)), ["x1", "x3"])
    with pytest.raises(ValueError, match="at least one input feature"):
        features(np.zeros((2, 2)), [])


def test_grid_is_the_cell_centres_row_by_row_from_the_top():
    domain = (0.0, 4.0, -1.0, 1.0)  # cells 1 wide and 0.5 high
    g = grid(domain, 4)
    assert g.shape == (16, 2) and g.dtype == np.float32
    rows = g.reshape(4, 4, 2)
    np.testing.assert_allclose(rows[0, :, 0], [0.5, 1.5, 2.5, 3.5])  # x grows along a row
    np.testing.assert_allclose(rows[:, 0, 1], [0.75, 0.25, -0.25, -0.75])  # the top first
    assert np.all(rows[:, :, 0] == rows[0, :, 0])  # every row has the same x
    assert np.all(rows[:, :, 1] == rows[:, :1, 1])  # a row has one x2


def test_grid_covers_the_domain():
    g = grid((-6.0, 6.0, -6.0, 6.0), 50)
    cell = 12.0 / 50
    assert len(np.unique(g[:, 0])) == 50 and len(np.unique(g[:, 1])) == 50
    np.testing.assert_allclose(g.min(axis=0), -6 + cell / 2, rtol=1e-6)
    np.testing.assert_allclose(g.max(axis=0), 6 - cell / 2, rtol=1e-6)


# --- uploaded CSV files -----------------------------------------------------------------------

GOOD = "x,y,label\n1,2,cat\n3,4,dog\n5,6,cat\n-1,0.5,bird\n"


def test_upload_with_header_and_text_labels_makes_classes():
    data = read_upload("pets.csv", GOOD)
    assert data.classes == ["bird", "cat", "dog"]  # the sorted names
    assert data.points.dtype == np.float32 and data.targets.dtype == np.int64
    assert not data.regression
    # the rows come shuffled, each point with its own label
    expected = {(1.0, 2.0): "cat", (3.0, 4.0): "dog", (5.0, 6.0): "cat", (-1.0, 0.5): "bird"}
    got = {
        tuple(map(float, p)): data.classes[t]
        for p, t in zip(data.points, data.targets, strict=True)
    }
    assert got == expected


def test_upload_domain_is_the_bounding_box_with_a_tenth_margin():
    data = read_upload("pets.csv", GOOD)
    # x from -1 to 5 (size 6), y from 0.5 to 6 (size 5.5)
    np.testing.assert_allclose(data.domain, (-1.6, 5.6, -0.05, 6.55), rtol=1e-6)


def test_upload_with_whole_number_labels_makes_classes():
    data = read_upload("n.csv", "0,0,3\n1,1,-1\n2,0,3\n0,2,7\n")
    assert data.classes == ["-1", "3", "7"]
    got = {
        tuple(map(float, p)): data.classes[t]
        for p, t in zip(data.points, data.targets, strict=True)
    }
    assert got == {(0.0, 0.0): "3", (1.0, 1.0): "-1", (2.0, 0.0): "3", (0.0, 2.0): "7"}


def test_upload_with_fractional_labels_is_a_regression():
    data = read_upload("r.csv", "a,b,t\n0,0,0.5\n1,1,1.25\n2,0,-3\n")
    assert data.regression and data.classes is None
    assert data.targets.shape == (3, 1) and data.targets.dtype == np.float32
    got = {
        tuple(map(float, p)): float(t[0]) for p, t in zip(data.points, data.targets, strict=True)
    }
    assert got == {(0.0, 0.0): 0.5, (1.0, 1.0): 1.25, (2.0, 0.0): -3.0}


def test_upload_with_three_feature_columns_is_refused():
    with pytest.raises(
        ValueError, match=r"^w\.csv: the playground needs 2 feature columns .*got 3"
    ):
        read_upload("w.csv", "a,b,c,y\n1,2,3,0\n3,4,5,1\n")


def test_upload_with_too_many_classes_is_refused():
    numbers = "x,y,l\n" + "".join(f"{i},{i},{i}\n" for i in range(MAX_CLASSES + 1))
    with pytest.raises(ValueError, match=rf"^n\.csv: the label column has {MAX_CLASSES + 1} dist"):
        read_upload("n.csv", numbers)
    words = "x,y,l\n" + "".join(f"{i},{i},c{i}\n" for i in range(MAX_CLASSES + 1))
    with pytest.raises(ValueError, match=rf"at most {MAX_CLASSES} classes"):
        read_upload("w.csv", words)
    ok = "x,y,l\n" + "".join(f"{i},{i},c{i}\n" for i in range(MAX_CLASSES))
    assert len(read_upload("ok.csv", ok).classes) == MAX_CLASSES


def test_upload_with_one_class_is_refused():
    with pytest.raises(ValueError, match=r"^o\.csv: the label column has one value"):
        read_upload("o.csv", "1,2,0\n3,4,0\n")


def test_upload_over_the_byte_limit_is_refused():
    row = "1.5,2.5,1\n"
    text = "x,y,l\n" + row * (MAX_UPLOAD_BYTES // len(row) + 1)
    assert len(text.encode()) > MAX_UPLOAD_BYTES
    with pytest.raises(ValueError, match=rf"^big\.csv: \d+ bytes; .* at most {MAX_UPLOAD_BYTES}"):
        read_upload("big.csv", text)


def test_upload_limit_counts_bytes_not_characters():
    text = "é" * (MAX_UPLOAD_BYTES // 2 + 1)  # fewer characters than the limit, more bytes
    assert len(text) < MAX_UPLOAD_BYTES < len(text.encode("utf-8"))
    with pytest.raises(ValueError, match=r"bytes; the playground takes at most"):
        read_upload("e.csv", text)


def test_upload_row_counts_are_checked():
    with pytest.raises(ValueError, match=r"^one\.csv: 1 rows; the playground takes 2 to"):
        read_upload("one.csv", "x,y,l\n1,2,0\n")
    many = "x,y,l\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(MAX_UPLOAD_ROWS + 1))
    with pytest.raises(ValueError, match=rf"{MAX_UPLOAD_ROWS + 1} rows"):
        read_upload("many.csv", many)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("x,y,l\n1,2,0\n3,oops,1\n", r"line 3, column 2 \('y'\): 'oops' is not a number"),
        ("x,y,l\n1,2,0\n3,nan,1\n", r"line 3, column 2 \('y'\): 'nan' is not a finite number"),
        ("x,y,l\n1,2,0\n\n,4,1\n", r"line 4, column 1 \('x'\): empty cell"),
        ("x,y,l\n1,2,0\n3,4\n", r"line 3: expected 3 cells"),
    ],
)
def test_a_bad_cell_is_refused_naming_the_file_line_and_column(text, where):
    with pytest.raises(ValueError, match=rf"^pts\.csv, {where}"):
        read_upload("pts.csv", text)


@pytest.mark.parametrize("name", ["/tmp/secret/pts.csv", "../../pts.csv", "C/x/pts.csv"])
def test_messages_name_the_file_without_its_folders(name):
    with pytest.raises(ValueError, match=r"^pts\.csv, line 2, column 1") as err:
        read_upload(name, "x,y,l\nz,2,0\n3,4,1\n")
    assert "secret" not in str(err.value) and ".." not in str(err.value)


def test_an_unnamed_upload_is_called_upload_csv():
    with pytest.raises(ValueError, match=r"^upload\.csv, line 2"):
        read_upload("", "x,y,l\nz,2,0\n3,4,1\n")
