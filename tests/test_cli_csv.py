"""The practitioner's path on their own CSV (issue 12's acceptance): scikit-learn's wine data
with text labels, trained from one file, scored on another that lacks a class, predicted
by class name from a file that still has its target column."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

import lucidnet as ln
from test_cli import _cli  # the command in a subprocess, as a user runs it

CLASSES = np.array(["barolo", "grignolino", "barbera"])


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wine")
    frame = load_wine(as_frame=True).frame
    frame["target"] = CLASSES[frame["target"]]
    frame = frame.sample(frac=1, random_state=0)
    train, held = frame.iloc[:140], frame.iloc[140:]
    train.to_csv(folder / "train.csv", index=False)
    held[held["target"] != "barbera"].to_csv(folder / "new.csv", index=False)
    held.to_csv(folder / "held.csv", index=False)
    result = _cli(
        "train", "--data", "train.csv", "--target", "target", "--layers", "32", "--epochs",
        "60", "--batch-size", "16", "--verbose", "0", "--out", "wine.lucid", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, held


def _accuracy(model, frame):
    """What the model gets right on ``frame``, computed here, by class name."""
    x = frame.drop(columns="target").to_numpy(np.float32)
    names = np.array(model.info["data"]["class_names"])
    return float(np.mean(names[model.predict_classes(x)] == frame["target"].to_numpy()))


def test_evaluate_scores_a_new_file_whole_and_by_class_name(wine):
    folder, held = wine
    model = ln.load(folder / "wine.lucid")
    assert model.info["data"]["class_names"] == ["barbera", "barolo", "grignolino"]
    new = held[held["target"] != "barbera"]
    result = _cli("evaluate", "wine.lucid", "--data", "new.csv", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert f"scoring new.csv: all {len(new)} rows" in result.stdout
    printed = float(result.stdout.split("accuracy")[1].split()[0])
    assert printed == pytest.approx(_accuracy(model, new), abs=1e-4)
    assert printed > 0.85  # a file lacking a class is scored as well as the full held-out set
    full = _cli("evaluate", "wine.lucid", "--data", "held.csv", cwd=folder)
    assert float(full.stdout.split("accuracy")[1].split()[0]) > 0.85


def test_evaluate_on_the_training_file_scores_only_its_test_rows(wine):
    folder, _ = wine
    model = ln.load(folder / "wine.lucid")
    test_rows = model.info["data"]["split"]["test_rows"]
    assert len(test_rows) == 28
    for args in ((), ("--data", "train.csv")):
        result = _cli("evaluate", "wine.lucid", *args, cwd=folder)
        assert result.returncode == 0, result.stderr
        assert "the 28 test rows held out when the model trained on it" in result.stdout
    train = pd.read_csv(folder / "train.csv")
    printed = float(result.stdout.split("accuracy")[1].split()[0])
    assert printed == pytest.approx(_accuracy(model, train.iloc[test_rows]), abs=1e-4)
    again = _cli("evaluate", "wine.lucid", "--seed", "5", cwd=folder)
    assert again.returncode == 1 and "stores its target column and split" in again.stderr


def test_predict_by_class_name_from_a_file_with_its_target_column(wine):
    folder, held = wine
    model = ln.load(folder / "wine.lucid")
    result = _cli("predict", "wine.lucid", "held.csv", cwd=folder)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "target" and len(lines) == len(held) + 1
    names = np.array(model.info["data"]["class_names"])
    x = held.drop(columns="target").to_numpy(np.float32)
    assert lines[1:] == list(names[model.predict_classes(x)])
    proba = _cli(
        "predict", "wine.lucid", "-", "--proba", cwd=folder, stdin=held.to_csv(index=False)
    )
    assert proba.returncode == 0, proba.stderr
    rows = proba.stdout.splitlines()
    assert rows[0] == "target,P(barbera),P(barolo),P(grignolino)"
    p = np.array([[float(v) for v in row.split(",")[1:]] for row in rows[1:]])
    np.testing.assert_allclose(p, model.predict_proba(x), rtol=1e-5, atol=1e-6)
    written = _cli("predict", "wine.lucid", "held.csv", "--out", "labels.csv", cwd=folder)
    assert written.returncode == 0, written.stderr
    assert (folder / "labels.csv").read_text().split() == lines


def test_a_class_the_model_never_saw_is_named(wine):
    folder, held = wine
    odd = held.copy()
    odd.iloc[2, odd.columns.get_loc("target")] = "chianti"
    odd.to_csv(folder / "odd.csv", index=False)
    result = _cli("evaluate", "wine.lucid", "--data", "odd.csv", cwd=folder)
    assert result.returncode == 1
    assert "odd.csv, line 4, column 14 ('target'): class 'chianti' is not one the model" in (
        result.stderr
    )


def test_features_are_standardized_inside_the_model_unless_asked_not_to(wine, tmp_path):
    folder, _ = wine
    model = ln.load(folder / "wine.lucid")
    first = model.layers[0]
    assert isinstance(first, ln.Standardize)
    train = pd.read_csv(folder / "train.csv")
    rows = np.array(model.info["data"]["split"]["test_rows"])
    fit_rows = np.setdiff1d(np.arange(len(train)), rows)
    x = train.drop(columns="target").to_numpy(np.float64)
    mean = first.buffers()[0].value
    # learned from training rows only (the rows fit trained on, a subset of these)
    assert not np.allclose(mean, x.mean(axis=0), rtol=1e-6)
    assert np.all(mean >= x[fit_rows].min(axis=0)) and np.all(mean <= x[fit_rows].max(axis=0))
    raw = _cli(
        "train", "--data", folder / "train.csv", "--target", "target", "--layers", "8",
        "--epochs", "1", "--verbose", "0", "--no-standardize", "--out", tmp_path / "raw.lucid",
    )  # fmt: skip
    assert raw.returncode == 0, raw.stderr
    layers = ln.load(tmp_path / "raw.lucid").layers
    assert not any(isinstance(layer, ln.Standardize) for layer in layers)


def test_a_model_file_without_data_contract_still_works(tmp_path):
    model = ln.Sequential([ln.Dense(2, 8, seed=0), ln.Tanh(), ln.Dense(8, 2, seed=1), ln.Softmax()])
    model.compile("crossentropy", ln.Adam(0.05), metrics=["accuracy"])
    x, y = ln.datasets.xor()
    model.fit(x, y, epochs=300, batch_size=4, verbose=0, seed=0)
    model.save(tmp_path / "old.lucid")  # as a file from before the contract: no info
    assert ln.load(tmp_path / "old.lucid").info == {}
    needs_data = _cli("evaluate", tmp_path / "old.lucid")
    assert needs_data.returncode == 1
    assert "saved without its data contract; give --data" in needs_data.stderr
    result = _cli("evaluate", tmp_path / "old.lucid", "--data", "xor")
    assert result.returncode == 0, result.stderr
    assert "has no data contract: scoring a re-split test set" in result.stdout
    assert "accuracy 1.0000" in result.stdout
    inputs = tmp_path / "in.csv"
    inputs.write_text("0,0\n0,1\n")
    predicted = _cli("predict", tmp_path / "old.lucid", inputs)
    assert predicted.stdout.split() == ["0", "1"]  # class indices, as before


def test_evaluate_uses_the_split_the_model_was_trained_on(tmp_path):
    out = tmp_path / "sp.lucid"
    trained = _cli(
        "train", "--data", "spirals", "--seed", "5", "--layers", "8", "--epochs", "2",
        "--verbose", "0", "--out", out,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    test_line = next(line for line in trained.stdout.splitlines() if line.startswith("test"))
    result = _cli("evaluate", out)  # no --data: the data it was trained on, with seed 5
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == test_line
    other = _cli("evaluate", out, "--seed", "3")
    assert other.returncode == 1 and "trained on the split of seed 5" in other.stderr


def test_evaluate_without_data_finds_the_training_file_by_its_path(wine, tmp_path):
    folder, _ = wine
    decoy = tmp_path / "train.csv"  # a different file of the same name, here
    pd.read_csv(folder / "train.csv").iloc[:40].to_csv(decoy, index=False)
    result = _cli("evaluate", folder / "wine.lucid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "the 28 test rows held out when the model trained on it" in result.stdout


def test_a_headerless_file_with_text_labels_keeps_its_first_row(tmp_path):
    csv = tmp_path / "noheader.csv"
    csv.write_text("".join(f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}\n" for i in range(40)))
    from lucidnet.datasets import read_raw

    table = read_raw(csv)
    assert not table.has_header and len(table.rows) == 40
    assert read_raw(tmp_path / "noheader.csv").names == ["column 1", "column 2", "column 3"]
    named = tmp_path / "named.csv"
    named.write_text("x,y,label\n" + csv.read_text())
    assert read_raw(named).has_header and len(read_raw(named).rows) == 40


def test_checkpoint_and_regression_outputs(tmp_path):
    folder_as_file = _cli("train", "--data", "xor", "--checkpoint", tmp_path, "--epochs", "1")
    assert folder_as_file.returncode == 1
    assert "--checkpoint" in folder_as_file.stderr and "is a folder" in folder_as_file.stderr
    assert "Epoch" not in folder_as_file.stdout  # refused before training
    csv = tmp_path / "prices.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    csv.write_text("a,b,price\n" + "".join(f"{a:.3f},{b:.3f},{1e6 + 1e5 * a:.2f}\n" for a, b in x))
    trained = _cli("train", "--data", csv, "--layers", "8", "--epochs", "2", "--verbose", "0",
                   "--out", tmp_path / "p.lucid")  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    predicted = _cli("predict", tmp_path / "p.lucid", csv)
    values = predicted.stdout.split()[1:]
    model = ln.load(tmp_path / "p.lucid")
    inputs = pd.read_csv(csv).drop(columns="price").to_numpy(np.float32)  # as written
    expected = model.predict(inputs).ravel()
    assert predicted.stdout.split()[0] == "price"
    np.testing.assert_array_equal(np.array(values, dtype=np.float32), expected)


def test_minus_one_plus_one_labels_and_their_class_weights(tmp_path):
    csv = tmp_path / "pm.csv"
    rows = [(i / 10, -1 if i % 3 else 1) for i in range(60)]
    csv.write_text("x,y\n" + "".join(f"{x},{'+1' if y == 1 else -1}\n" for x, y in rows))
    result = _cli("train", "--data", csv, "--layers", "4", "--epochs", "1", "--verbose", "0",
                  "--class-weight", "+1:2", "--out", tmp_path / "pm.lucid")  # fmt: skip
    assert result.returncode == 0, result.stderr
    model = ln.load(tmp_path / "pm.lucid")
    assert model.info["data"]["class_names"] == [-1, 1] and model.is_classifier


def test_an_image_model_predicts_the_names_of_its_classes(tmp_path):
    from lucidnet.cli.data import FASHION_MNIST_CLASSES, Split, _with_contract

    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    split = _with_contract(Split(x, np.zeros(3), x, np.zeros(3), 10, FASHION_MNIST_CLASSES), "f")
    model = ln.Sequential([ln.Dense(784, 10, seed=0), ln.Softmax()])
    model.compile("crossentropy", "adam")
    model.info["data"] = split.contract.to_json()
    model.save(tmp_path / "f.lucid")
    np.save(tmp_path / "images.npy", x)
    result = _cli("predict", tmp_path / "f.lucid", tmp_path / "images.npy")
    assert result.returncode == 0, result.stderr
    names = np.array(FASHION_MNIST_CLASSES)[model.predict_classes(x)]
    assert result.stdout.splitlines() == ["prediction", *names]
