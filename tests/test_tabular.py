"""lucidnet.datasets.tabular: read_csv and load_csv, errors naming file, line and column."""

import numpy as np
import pytest

from lucidnet import datasets


def csv_file(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


IRIS = """sepal_length,sepal_width,species
5.1,3.5,setosa
7.0,3.2,versicolor
6.3,3.3,virginica
4.9,3.0,setosa
"""


def test_csv_header_string_classes_and_target_by_name(tmp_path):
    table = datasets.read_csv(csv_file(tmp_path, IRIS), target="species")
    assert table.X.dtype == np.float32 and table.X.shape == (4, 2)
    np.testing.assert_array_equal(
        table.X, np.float32([[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]])
    )
    assert table.classes == ["setosa", "versicolor", "virginica"]  # sorted
    assert table.y.dtype == np.int64
    np.testing.assert_array_equal(table.y, [0, 1, 2, 0])
    assert table.feature_names == ["sepal_length", "sepal_width"]
    assert table.target_name == "species"
    x, y = datasets.load_csv(csv_file(tmp_path, IRIS))  # target=-1, the same column
    np.testing.assert_array_equal(x, table.X)
    np.testing.assert_array_equal(y, table.y)


@pytest.mark.parametrize("target", [0, -3, "label", " label "])
def test_csv_target_by_index_or_name_anywhere(tmp_path, target):
    path = csv_file(tmp_path, "label,a,b\n1,0.5,2\n0,1.5,3\n")
    table = datasets.read_csv(path, target=target)
    assert table.target_name == "label" and table.feature_names == ["a", "b"]
    np.testing.assert_array_equal(table.X, [[0.5, 2], [1.5, 3]])
    np.testing.assert_array_equal(table.y, [1, 0])
    assert table.y.dtype == np.int64 and table.classes is None


def test_csv_string_column_as_a_feature_is_an_error(tmp_path):
    # the species column is a feature once the target is another column
    message = _error(tmp_path, IRIS, target=0)
    assert "line 2, column 3 ('species'): 'setosa' is not a number" in message


def test_csv_numeric_targets_and_no_header(tmp_path):
    # every cell of the first row is a number: no header; whole-number targets: int64
    table = datasets.read_csv(csv_file(tmp_path, "1.5,2,0\n3,4e-1,1\n-5,6,2.0\n"))
    assert table.feature_names == ["column 1", "column 2"] and table.target_name == "column 3"
    assert table.classes is None and table.y.dtype == np.int64
    np.testing.assert_array_equal(table.y, [0, 1, 2])
    np.testing.assert_array_equal(table.X, np.float32([[1.5, 2], [3, 0.4], [-5, 6]]))
    # numbers not all whole: float32
    table = datasets.read_csv(csv_file(tmp_path, "1,0.5\n2,1.25\n"), target=1)
    assert table.y.dtype == np.float32
    np.testing.assert_array_equal(table.y, np.float32([0.5, 1.25]))


def test_csv_header_option_and_delimiters(tmp_path):
    path = csv_file(tmp_path, "1;2;3\n4;5;6\n")
    forced = datasets.read_csv(path, delimiter=";", header=True)
    assert forced.feature_names == ["1", "2"] and forced.X.shape == (1, 2)
    assert datasets.read_csv(path, delimiter=";", header=False).X.shape == (2, 2)
    assert datasets.read_csv(path, delimiter=";").X.shape == (2, 2)  # auto: no header
    tabs = csv_file(tmp_path, "a\tb\n1\t2\n", name="t.tsv")
    table = datasets.read_csv(tabs, delimiter="\t", target="b")
    assert table.feature_names == ["a"] and table.y.tolist() == [2]


def test_csv_blank_lines_quotes_and_bom(tmp_path):
    text = '\ufeffx,"label"\n\n1,"two\nlines"\n   \n2,plain\n'
    table = datasets.read_csv(csv_file(tmp_path, text), target="label")
    assert table.feature_names == ["x"]  # the byte-order mark is not part of the name
    assert table.classes == ["plain", "two\nlines"]
    np.testing.assert_array_equal(table.X, [[1], [2]])


def _error(tmp_path, text, **kwargs):
    path = csv_file(tmp_path, text)
    with pytest.raises(ValueError) as info:
        datasets.read_csv(path, **kwargs)
    message = str(info.value)
    assert str(path) in message  # every message names the file
    return message


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("a,b,y\n1,2,0\n3,x,1\n", {}, "line 3, column 2 ('b'): 'x' is not a number"),
        ("1,2,0\n3,4,1\n5,six,0\n", {}, "line 3, column 2: 'six' is not a number"),
        ("a,b,y\n1,,0\n", {}, "line 2, column 2 ('b'): empty cell"),
        ("a,b,y\n1,2,\n", {}, "line 2, column 3 ('y'): empty cell"),
        ("a,b,y\n1,nan,0\n", {}, "line 2, column 2 ('b'): 'nan' is not a finite number"),
        ("a,b,y\n1,-inf,0\n", {}, "line 2, column 2 ('b'): '-inf' is not a finite number"),
        ("a,b,y\n1,2,nan\n", {}, "line 2, column 3 ('y'): 'nan' is not a finite number"),
        ("a,b,y\n1,1e39,0\n", {}, "line 2, column 2 ('b'): '1e39' is too large for float32"),
        ("a,b,y\n1,2,0.5\n1,2,1e39\n", {}, "line 3, column 3 ('y'): '1e39' is too large"),
        (
            "a,b,y\n1,2,0\n\n3,4\n",
            {},
            "line 4: expected 3 cells (as on line 1), got 2: column 3 ('y') onwards missing",
        ),
        (
            "a,b,y\n1,2,0,9\n",
            {},
            "line 2: expected 3 cells (as on line 1), got 4: cells after column 3 ('y'), the "
            "last, are extra",
        ),
        # the line count goes on across a quoted newline
        ('a,b,y\n1,2,"x\ny"\n3,oops,z\n', {}, "line 4, column 2 ('b'): 'oops' is not"),
        ("a,b,y\n1,2,0\n", {"target": "z"}, "line 1: target 'z' is not in the header; "),
        ("a,b,a\n1,2,0\n", {"target": "a"}, "target 'a' appears more than once"),
        ("1,2,0\n", {"target": "y"}, "target 'y' is a column name, but"),
        ("a,b,y\n1,2,0\n", {"target": 3}, "target index 3 is out of range for"),
        ("a,b,y\n1,2,0\n", {"target": -4}, "(valid: -3 to 2)"),
        ("", {}, ": the file is empty"),
        ("\n  \n", {}, ": the file is empty"),
        ("a,b,y\n\n", {}, ": a header on line 1 but no data rows"),
        ("y\n1\n", {}, "line 1: found 1 column; need at least 2"),
        ('a,b\n1,"2\n', {}, "line 2: unexpected end of data"),
        ('a,b\n"1"x,2\n', {}, "line 2: ',' expected after '\"'"),
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path, text, kwargs, expected):
    message = _error(tmp_path, text, **kwargs)
    assert expected in message, message


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,y\ncaf\u00e9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text"):
        datasets.read_csv(path)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"delimiter": ";;"}, r"read_csv: delimiter must be one character, got ';;'"),
        ({"header": "yes"}, r"read_csv: header must be True, False or 'auto', got 'yes'"),
        (
            {"target": 1.0},
            r"read_csv: target must be a column index, a column name or None, got 1\.0",
        ),
        ({"target": True}, r"read_csv: target must be .* or None, got True"),
    ],
)
def test_csv_argument_checks(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.read_csv(csv_file(tmp_path, IRIS), **kwargs)


def test_csv_no_target_with_header(tmp_path):
    # target=None: every column is a feature, the last one too
    path = csv_file(tmp_path, "a,b,c\n1,2,3\n4.5,-6,7e-1\n")
    table = datasets.read_csv(path, target=None)
    np.testing.assert_array_equal(table.X, np.float32([[1, 2, 3], [4.5, -6, 0.7]]))
    assert table.X.dtype == np.float32 and table.X.shape == (2, 3)
    assert table.y.dtype == np.int64 and table.y.shape == (0,)
    assert table.feature_names == ["a", "b", "c"]
    assert table.target_name == "" and table.classes is None
    x, y = datasets.load_csv(path, target=None)
    np.testing.assert_array_equal(x, table.X)
    assert y.shape == (0,) and y.dtype == np.int64


def test_csv_no_target_without_header(tmp_path):
    path = csv_file(tmp_path, "1,2\n\n3,4\n5,6\n")
    table = datasets.read_csv(path, target=None)  # auto: all numbers, no header
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4], [5, 6]])
    assert table.feature_names == ["column 1", "column 2"]
    assert table.y.shape == (0,) and table.target_name == "" and table.classes is None
    forced = datasets.read_csv(path, target=None, header=True)
    assert forced.feature_names == ["1", "2"] and forced.X.shape == (2, 2)
    # a single column is enough without a target
    one = datasets.read_csv(csv_file(tmp_path, "0.5\n1.5\n", name="one.csv"), target=None)
    np.testing.assert_array_equal(one.X, [[0.5], [1.5]])
    assert one.feature_names == ["column 1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,y\n1,2,setosa\n", "line 2, column 3 ('y'): 'setosa' is not a number"),
        ("1,2\n3\n", "line 2: expected 2 cells (as on line 1), got 1"),
        ("a,b\n1,nan\n", "line 2, column 2 ('b'): 'nan' is not a finite number"),
        ("a,b\n1,1e39\n", "line 2, column 2 ('b'): '1e39' is too large for float32"),
        ("a,b\n", ": a header on line 1 but no data rows"),
        ("", ": the file is empty"),
    ],
)
def test_csv_no_target_errors(tmp_path, text, expected):
    # without a target the last column is a feature like any other: checked as one
    message = _error(tmp_path, text, target=None)
    assert expected in message, message


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        datasets.load_csv(tmp_path / "absent.csv")
