"""The lucidnet command: demo, help, version, python -m."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lucidnet as ln
from lucidnet import __version__, cli, demo


def test_demo_prints_the_four_stories_with_the_seed_numbers():
    out = io.StringIO()
    demo.run(out)
    text = out.getvalue()
    for needle in [
        "seed 000",
        "seed 001",
        "seed 002",
        "seed 003",
        "= 0.4100",
        "= 0.6011",
        "= 0.2398",
        "[ 0.0976 -0.2942]",
        "y_hat = sigmoid(z2) = 0.796",
        "accuracy 100%",
        "gradient check of this architecture passes",
    ]:
        assert needle in text, needle
    assert "AND" in text and "converged after" in text
    assert "no convergence" in text


def test_main_runs_demo(capsys):
    assert cli.main(["demo"]) == 0
    assert "seed 003" in capsys.readouterr().out


def test_no_command_prints_help_and_returns_2(capsys):
    assert cli.main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_python_dash_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "lucidnet", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "demo" in result.stdout


def test_demo_into_a_closed_pipe_is_quiet():
    # -u: unbuffered, so later lines are written after the reader has gone
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "lucidnet", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"lucidnet demo")
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr


# --- every subcommand, run as a subprocess --------------------------------------------


FASHION = Path("/usr/share/datasets/fashion-mnist")


def _cli(*args, cwd=None, stdin=None):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lucidnet", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        input=stdin,
        env=env,
        timeout=300,
    )


def _assert_one_line_error(result, code=1, contains=""):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert contains in lines[0], lines[0]


@pytest.fixture(scope="module")
def xor_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "xor.lucid"
    result = _cli(
        "train", "--data", "xor", "--layers", "8", "--activation", "tanh", "--epochs", "300",
        "--batch-size", "4",
        "--lr", "0.05", "--dropout", "0", "--validation-split", "0", "--verbose", "0",
        "--out", path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test        loss" in result.stdout and "accuracy 1.0000" in result.stdout
    assert f"saved {path}" in result.stdout
    return path


def test_train_saves_a_loadable_model(xor_model):
    model = ln.load(xor_model)
    x, y = ln.datasets.xor()
    np.testing.assert_array_equal(model.predict_classes(x), y)


def test_train_on_xor_with_the_defaults_learns_xor(tmp_path):
    result = _cli("train", "--data", "xor", "--verbose", "0", "--out", tmp_path / "x.lucid")
    assert result.returncode == 0, result.stderr
    assert "no validation split: fewer than 100 training rows" in result.stdout
    assert "validation  loss" not in result.stdout
    test_line = next(line for line in result.stdout.splitlines() if line.startswith("test "))
    assert test_line.endswith("accuracy 1.0000"), test_line


def test_train_on_spirals_reports_train_validation_and_test(tmp_path):
    result = _cli(
        "train", "--data", "spirals", "--layers", "32,32", "--epochs", "5", "--verbose", "2",
        "--out", tmp_path / "s.lucid",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for line in ("Epoch 5/5", "train ", "validation ", "test "):
        assert line in result.stdout


def test_train_on_a_csv_with_a_named_target(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    labels = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    csv = tmp_path / "data.csv"
    rows = ["a,b,c,answer"] + [
        f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}" for r, t in zip(x, labels, strict=True)
    ]
    csv.write_text("\n".join(rows) + "\n")
    result = _cli(
        "train", "--data", csv, "--target", "answer", "--layers", "8", "--epochs", "30",
        "--verbose", "0", "--out", tmp_path / "c.lucid",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test        loss" in result.stdout


def test_evaluate(xor_model):
    result = _cli("evaluate", xor_model, "--data", "xor")
    assert result.returncode == 0, result.stderr
    assert "accuracy 1.0000" in result.stdout


def test_predict_prints_labels_or_probabilities_or_writes_a_file(xor_model, tmp_path):
    inputs = tmp_path / "in.csv"
    inputs.write_text("0,0\n0,1\n1,0\n1,1\n")
    result = _cli("predict", xor_model, inputs)
    assert result.returncode == 0, result.stderr
    # a CSV with a header: the class names of the data set (xor's are 0 and 1)
    assert result.stdout.split() == ["prediction", "0", "1", "1", "0"]
    proba = _cli("predict", xor_model, inputs, "--proba")
    lines = proba.stdout.split()
    assert lines[0] == "prediction,P(0),P(1)"
    rows = [list(map(float, line.split(",")[1:])) for line in lines[1:]]
    np.testing.assert_allclose(np.sum(rows, axis=1), 1.0, rtol=1e-4)
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "1", "0"]
    np.save(tmp_path / "in.npy", np.array([[0.0, 1.0], [1.0, 1.0]]))
    out = tmp_path / "out.npy"
    written = _cli("predict", xor_model, tmp_path / "in.npy", "--out", out)
    assert written.returncode == 0, written.stderr
    np.testing.assert_array_equal(np.load(out), [1, 0])


def test_summary(xor_model):
    result = _cli("summary", xor_model)
    assert result.returncode == 0, result.stderr
    assert "Total params: 42" in result.stdout  # (2*8 + 8) + (8*2 + 2)
    assert "CrossEntropy" in result.stdout


def test_gradcheck_subcommand():
    result = _cli("gradcheck", "--layers", "3,4,2")
    assert result.returncode == 0, result.stderr
    assert "gradient check PASSED" in result.stdout


def test_demo_subcommand():
    result = _cli("demo")
    assert result.returncode == 0, result.stderr
    assert "seed 003" in result.stdout


def test_every_subcommand_has_help():
    for command in ("train", "evaluate", "predict", "summary", "gradcheck", "demo"):
        result = _cli(command, "--help")
        assert result.returncode == 0 and "usage: lucidnet" in result.stdout, command


def test_expected_problems_are_one_line_and_exit_1(tmp_path, xor_model):
    _assert_one_line_error(_cli("summary", tmp_path / "missing.lucid"), contains="no such file")
    damaged = tmp_path / "damaged.lucid"
    damaged.write_bytes(xor_model.read_bytes()[:-10])
    _assert_one_line_error(_cli("summary", damaged), contains="checksum mismatch")
    _assert_one_line_error(
        _cli("train", "--data", "nonsense", "--out", tmp_path / "x"), contains="--data 'nonsense'"
    )
    _assert_one_line_error(_cli("train", "--data", "xor", "--layers", "8,x"), contains="--layers")
    _assert_one_line_error(_cli("train", "--data", "xor", "--dropout", "1.5"), contains="--dropout")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b,y\n1,2,0\n3,oops,1\n")
    _assert_one_line_error(_cli("train", "--data", bad_csv), contains="line 3")
    inputs = tmp_path / "wide.csv"
    inputs.write_text("1,2,3\n")
    _assert_one_line_error(
        _cli("predict", xor_model, inputs),
        contains="wide.csv: x has shape (1, 3), but the model takes (batch, 2)",
    )
    _assert_one_line_error(_cli("predict", xor_model, tmp_path / "x.txt"), contains=".csv or .npy")


def test_usage_errors_exit_2():
    result = _cli("train", "--no-such-option")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert _cli("predict").returncode == 2


@pytest.mark.skipif(
    not (FASHION / "train-images-idx3-ubyte.gz").exists(),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)
def test_train_on_real_fashion_mnist_one_short_epoch(tmp_path):
    result = _cli(
        "train", "--data", "fashion-mnist", "--layers", "64", "--epochs", "1",
        "--batch-size", "256", "--verbose", "0", "--out", tmp_path / "f.lucid",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    test_line = next(line for line in result.stdout.splitlines() if line.startswith("test"))
    accuracy = float(test_line.split("accuracy")[1])
    assert accuracy > 0.75


def test_a_numeric_csv_target_trains_a_regression(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2))
    price = 1e6 + 1e5 * x[:, 0]  # large numbers: never class labels
    csv = tmp_path / "prices.csv"
    csv.write_text(
        "a,b,price\n"
        + "".join(f"{r[0]:.4f},{r[1]:.4f},{int(p)}\n" for r, p in zip(x, price, strict=True))
    )
    result = _cli(
        "train",
        "--data",
        csv,
        "--layers",
        "8",
        "--epochs",
        "2",
        "--verbose",
        "0",
        "--out",
        tmp_path / "r.lucid",
    )
    assert result.returncode == 0, result.stderr
    assert "mae" in result.stdout and "accuracy" not in result.stdout
    fractions = tmp_path / "fractions.csv"
    fractions.write_text("a,y\n" + "".join(f"{i},{i / 3:.4f}\n" for i in range(10)))
    forced = _cli("train", "--data", fractions, "--task", "classify", "--out", tmp_path / "r.lucid")
    _assert_one_line_error(forced, contains="--task classify needs class labels, but the target")


def test_the_report_of_a_csv_regression_names_its_columns_and_gives_r2(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(150, 2))
    csv = tmp_path / "houses.csv"
    csv.write_text(
        "rooms,age,price\n" + "".join(f"{a:.4f},{b:.4f},{3 * a - b + 0.5:.4f}\n" for a, b in x)
    )
    report = tmp_path / "r.html"
    result = _cli(
        "train", "--data", csv, "--layers", "16", "--epochs", "20", "--lr", "0.01",
        "--verbose", "0", "--out", tmp_path / "h.lucid", "--report", report,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = report.read_text(encoding="utf-8")
    assert "<th>row</th><th>rooms</th><th>age</th><th>predicted</th>" in text
    assert "x[0]" not in text
    assert "test R²" in text and "<h2>Predicted against true</h2>" in text


def test_bad_numbers_and_paths_fail_before_training(tmp_path, xor_model):
    _assert_one_line_error(
        _cli("train", "--data", "xor", "--epochs", "0"), contains="--epochs must be >= 1"
    )
    _assert_one_line_error(
        _cli("train", "--data", "xor", "--out", tmp_path / "missing" / "m.lucid"),
        contains="does not exist",
    )
    _assert_one_line_error(_cli("gradcheck", "--batch", "0"), contains="--batch must be >= 1")
    npz = tmp_path / "fake.npy"
    np.savez(npz, a=np.zeros((2, 2)))
    (tmp_path / "fake.npy.npz").rename(npz)
    _assert_one_line_error(_cli("predict", xor_model, npz), contains="expected a 2-D numeric array")
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([[0.0, np.nan]]))
    _assert_one_line_error(_cli("predict", xor_model, nan), contains="row 0, column 1")


def test_divergence_is_one_clean_line_without_numpy_warnings(tmp_path):
    result = _cli(
        "train", "--data", "spirals", "--layers", "64,64", "--optimizer", "sgd", "--lr", "1e30",
        "--epochs", "3", "--verbose", "0", "--out", tmp_path / "d.lucid",
    )  # fmt: skip
    _assert_one_line_error(result, contains="training diverged at epoch 1")
    assert "RuntimeWarning" not in result.stderr


def test_output_paths_are_checked_before_training(tmp_path):
    folder = tmp_path / "a folder"
    folder.mkdir()
    model = ("--out", tmp_path / "m.lucid")
    cases = [
        (("--out", folder), f"--out {folder}: is a folder; give a file name such as "
         f"{folder / 'model.lucid'}"),
        (("--report", folder, *model), f"--report {folder}: is a folder; give a file name "
         f"such as {folder / 'report.html'}"),
        # a place nobody may write in, root included: /sys takes no new files
        (("--out", "/sys/m.lucid"), "--out /sys/m.lucid: cannot write in /sys"),
        (("--report", "/sys/r.html", *model), "--report /sys/r.html: cannot write in /sys"),
        (("--plots", "/sys", *model), "--plots /sys: cannot write in /sys"),
    ]  # fmt: skip
    for options, message in cases:
        result = _cli("train", "--data", "xor", "--verbose", "0", *options)
        _assert_one_line_error(result, contains=message)
        assert "training on" not in result.stdout  # nothing was trained
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a folder"]  # no probe left


def test_a_network_too_large_for_the_memory_stops_before_allocating(tmp_path, monkeypatch):
    monkeypatch.setenv("LUCIDNET_MEMORY_LIMIT", "64G")
    result = _cli("train", "--data", "xor", "--layers", "100000,100000", "--out", tmp_path / "m")
    _assert_one_line_error(result, contains="--layers 100000,100000 with --batch-size 128")
    # 1.0e10 parameters, float32: weights, gradients, Adam's 2 buffers, and the epoch's
    # rollback copy of the weights and of Adam's buffers (3 more): 7 copies of 37.3 GiB
    assert "needs about 260.8 GiB of memory" in result.stderr
    assert "Adam's 2 buffers 74.5 GiB, the epoch's rollback copy 111.8 GiB" in result.stderr
    assert "more than the 64.0 GiB available; use smaller --layers" in result.stderr
    assert "training on" not in result.stdout
    monkeypatch.setenv("LUCIDNET_MEMORY_LIMIT", "100K")  # the fixed cap decides
    small = ("train", "--data", "spirals", "--layers", "64", "--epochs", "1", "--verbose", "0")
    result = _cli(*small, "--out", tmp_path / "m")
    _assert_one_line_error(result, contains="more than the 100.0 KiB available")
    monkeypatch.setenv("LUCIDNET_MEMORY_LIMIT", "1M")
    assert _cli(*small, "--out", tmp_path / "m").returncode == 0


def test_the_memory_estimate_counts_parameters_gradients_buffers_and_activations():
    from lucidnet.cli import memory

    adam, sgd = ln.optimizers.get("adam"), ln.optimizers.get("sgd")
    assert memory.optimizer_slots(adam) == 2 and memory.optimizer_slots(sgd) == 0
    assert memory.optimizer_slots(ln.SGD(0.1, momentum=0.9)) == 1
    need = memory.training_bytes([2, 8, 3], batch_size=4, slots=2, samples=10)
    params = (2 * 8 + 8) + (8 * 3 + 3)
    assert need == {
        "parameters": 4 * params,
        "gradients": 4 * params,
        "optimizer": 2 * 4 * params,
        "snapshot": 3 * 4 * params,  # fit's copy of the weights and of Adam's 2 buffers
        "activations": memory.ARRAYS_PER_LAYER * 10 * (2 + 8 + 3) * 4,  # 10 rows at most
    }
    assert memory.training_bytes([2, 8, 3], 4, 0)["activations"] == 4 * 1024 * 13 * 4


def test_the_memory_available_comes_from_the_cap_or_from_proc_meminfo(monkeypatch):
    from lucidnet.cli import memory

    monkeypatch.setenv("LUCIDNET_MEMORY_LIMIT", "1.5G")
    assert memory.available_bytes() == 3 * 2**29
    monkeypatch.setenv("LUCIDNET_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="LUCIDNET_MEMORY_LIMIT='lots': expected a number"):
        memory.available_bytes()
    monkeypatch.delenv("LUCIDNET_MEMORY_LIMIT")
    text = Path("/proc/meminfo").read_text()
    kilobytes = int(re.search(r"^MemAvailable:\s+(\d+) kB", text, re.M).group(1))
    assert abs(memory.available_bytes() - 1024 * kilobytes) < 2**30  # it moves a little


def test_train_with_a_cosine_schedule(tmp_path):
    result = _cli(
        "train", "--data", "xor", "--layers", "8", "--activation", "tanh", "--epochs", "3",
        "--schedule", "cosine", "--verbose", "2", "--validation-split", "0",
        "--out", tmp_path / "c.lucid",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Epoch 3/3" in result.stdout


# --- pictures: --plots DIR and --report FILE.html --------------------------------------


def test_train_with_plots_and_report_on_2d_data(tmp_path):
    pytest.importorskip("matplotlib")
    plots, report = tmp_path / "plots", tmp_path / "report.html"
    result = _cli(
        "train", "--data", "spirals", "--layers", "8", "--epochs", "2", "--verbose", "0",
        "--out", tmp_path / "s.lucid", "--plots", plots, "--report", report,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = [
        "activation_maps.png",
        "confusion_matrix.png",
        "decision_boundary.png",
        "decision_boundary_training.gif",
        "network_diagram.png",
        "training_curves.png",
    ]
    assert sorted(p.name for p in plots.iterdir()) == expected
    assert f"wrote 6 plots to {plots}: training_curves.png" in result.stdout
    assert f"wrote the report {report}" in result.stdout
    for name in expected:
        magic = b"GIF8" if name.endswith(".gif") else b"\x89PNG"
        assert (plots / name).read_bytes().startswith(magic), name
    from PIL import Image

    with Image.open(plots / "decision_boundary_training.gif") as gif:
        assert gif.n_frames == 3  # the start, after epoch 1, after epoch 2
    text = report.read_text(encoding="utf-8")
    assert "Total params: 51" in text  # (2*8 + 8) + (8*3 + 3)
    assert text.count('src="data:image/png;base64,') == 3  # curves, matrix, boundary


def test_the_plots_gif_is_recorded_during_the_one_training_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from lucidnet import plotting

    recorders, fits = [], []

    class Recorder(plotting.BoundaryRecorder):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            recorders.append(self)

    real_fit = ln.Sequential.fit

    def counted_fit(self, *args, **kwargs):
        fits.append(self)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(plotting, "BoundaryRecorder", Recorder)
    monkeypatch.setattr(ln.Sequential, "fit", counted_fit)
    out, plots = tmp_path / "s.lucid", tmp_path / "plots"
    code = cli.main(
        ["train", "--data", "spirals", "--layers", "8", "--epochs", "3", "--verbose", "0",
         "--out", str(out), "--plots", str(plots)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert len(fits) == 1  # no second model trained for the GIF
    (recorder,) = recorders
    assert recorder.epochs == [0, 1, 2, 3]
    saved = ln.load(out).predict_proba(recorder.grid, batch_size=8192)
    np.testing.assert_array_equal(recorder.outputs[-1], saved)  # the last frame: saved model
    from PIL import Image

    with Image.open(plots / "decision_boundary_training.gif") as gif:
        assert gif.n_frames == len(recorder.images) == 4  # the frames it recorded


def test_train_with_plots_on_28x28_images_draws_the_first_layer(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(30, 784))
    labels = np.arange(30) % 2
    csv = tmp_path / "images.csv"
    np.savetxt(csv, np.column_stack([pixels, labels]), fmt="%d", delimiter=",")
    plots, report = tmp_path / "plots", tmp_path / "r.html"
    result = _cli(
        "train", "--data", csv, "--layers", "4", "--epochs", "1", "--verbose", "0",
        "--out", tmp_path / "i.lucid", "--plots", plots, "--report", report,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in plots.iterdir())
    assert names == ["confusion_matrix.png", "first_layer_weights.png", "training_curves.png"]
    text = report.read_text(encoding="utf-8")
    assert "What the first layer looks for" in text
    assert "image-rendering: pixelated" in text and "<figure" in text  # samples as images


def test_plot_options_fail_before_training(tmp_path):
    _assert_one_line_error(
        _cli("train", "--data", "xor", "--report", tmp_path / "missing" / "r.html"),
        contains="--report",
    )
    a_file = tmp_path / "file"
    a_file.write_text("")
    _assert_one_line_error(
        _cli("train", "--data", "xor", "--plots", a_file), contains="is not a folder"
    )
    blocked = (
        "import sys; sys.modules['matplotlib'] = None; from lucidnet import cli; "
        f"sys.exit(cli.main(['train', '--data', 'xor', '--plots', {str(tmp_path / 'p')!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    _assert_one_line_error(
        result, contains="--plots needs matplotlib: pip install 'lucidnet[plot]'"
    )
    assert "training on" not in result.stdout


# --- --class-weight -----------------------------------------------------------------------


def test_parse_class_weight_by_index_or_by_name():
    from lucidnet.cli.train import parse_class_weight

    assert parse_class_weight("balanced", 3) == "balanced"
    assert parse_class_weight(" Balanced ", 3, ["a", "b", "c"]) == "balanced"
    assert parse_class_weight("0:1,2:5.5", 3) == {0: 1.0, 2: 5.5}
    assert parse_class_weight("yes:3, no:0.5", 2, ["no", "yes"]) == {1: 3.0, 0: 0.5}
    # names that are not numbers leave the indices usable
    assert parse_class_weight("1:4", 2, ["no", "yes"]) == {1: 4.0}
    # names that are numbers are matched as names, never as indices: -1/+1 labels
    assert parse_class_weight("-1:2,1:3", 2, ["-1", "1"]) == {0: 2.0, 1: 3.0}
    # a name may hold a colon: the weight follows the last one
    assert parse_class_weight("a:b:2", 2, ["a:b", "c"]) == {0: 2.0}


@pytest.mark.parametrize(
    ("text", "classes", "names", "message"),
    [
        ("balanced", None, None, "--class-weight needs a classification target; this data is a r"),
        ("0:1", None, None, "needs a classification target"),
        ("0=1", 2, None, "expected 'balanced' or CLASS:WEIGHT pairs like 0:1,1:5"),
        (":1", 2, None, "expected 'balanced' or CLASS:WEIGHT pairs"),
        ("2:1", 2, None, "--class-weight: '2' is not a class of the data (0 to 1)"),
        ("maybe:1", 2, ["no", "yes"], "'maybe' is not a class of the data (no, yes)"),
        ("0:1", 2, ["-1", "1"], "'0' is not a class of the data (-1, 1)"),
        ("0:-1", 2, None, "the weight of '0' must be a number >= 0, got '-1'"),
        ("0:x", 2, None, "the weight of '0' must be a number >= 0, got 'x'"),
        ("0:nan", 2, None, "got 'nan'"),
        ("0:1,0:2", 2, None, "'0' is given twice"),
    ],
)
def test_parse_class_weight_errors(text, classes, names, message):
    from lucidnet.cli.train import parse_class_weight

    with pytest.raises(ValueError) as info:
        parse_class_weight(text, classes, names)
    assert message in str(info.value)


def test_train_with_class_weight(tmp_path):
    common = (
        "train", "--data", "xor", "--layers", "4", "--epochs", "3", "--verbose", "0",
        "--validation-split", "0", "--batch-size", "4", "--dropout", "0",
    )  # fmt: skip
    plain = _cli(*common, "--out", tmp_path / "p.lucid")
    weighted = _cli(*common, "--class-weight", "0:1,1:5", "--out", tmp_path / "w.lucid")
    balanced = _cli(*common, "--class-weight", "balanced", "--out", tmp_path / "b.lucid")
    for result in (plain, weighted, balanced):
        assert result.returncode == 0, result.stderr

    def train_line(result):
        return next(line for line in result.stdout.splitlines() if line.startswith("train "))

    # the weighted loss is what is reported, so it differs; xor's classes are balanced
    # already: "balanced" (weights 4 / (2 * 2) = 1) gives the unweighted loss
    assert train_line(weighted) != train_line(plain)
    assert train_line(balanced).split()[:3] == train_line(plain).split()[:3]


def test_class_weight_is_refused_for_a_regression_and_for_unknown_classes(tmp_path):
    csv = tmp_path / "prices.csv"
    csv.write_text("a,price\n" + "".join(f"{i},{1000 + 37 * i}.5\n" for i in range(20)))
    result = _cli("train", "--data", csv, "--class-weight", "balanced", "--out", tmp_path / "r")
    _assert_one_line_error(result, contains="--class-weight needs a classification target")
    result = _cli("train", "--data", "xor", "--class-weight", "2:1", "--out", tmp_path / "x")
    _assert_one_line_error(result, contains="'2' is not a class of the data (0 to 1)")
