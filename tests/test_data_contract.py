"""The data contract: the task rule, text features, names, the split, and the JSON form."""

import numpy as np
import pytest

from lucidnet.data_contract import DataContract, fit_contract, infer_task
from lucidnet.datasets.tabular import read_raw


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return read_raw(path)


# --- the task rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "task", "names"),
    [
        (["red", "blue", "red"], "classification", ["blue", "red"]),
        (["-1", "+1", "1", "-1"], "classification", [-1, 1]),
        ([str(k % 10) for k in range(40)], "classification", list(range(10))),
        (["1", "2", "1", "2"], "classification", [1, 2]),
        (["0.5", "1.25", "2"], "regression", None),
        ([str(1000 + 7 * k) for k in range(30)], "regression", None),  # mostly distinct
    ],
)
def test_the_task_rule(values, task, names):
    assert infer_task(values, "auto", "f") == (task, names)


def test_ambiguous_whole_numbers_ask_for_the_task():
    ages = [str(18 + k % 40) for k in range(200)]  # 40 distinct ages, each 5 times
    with pytest.raises(ValueError, match=r"40 distinct whole numbers \(18, 19, .*--task classify"):
        infer_task(ages, "auto", "f")
    assert infer_task(ages, "classify", "f")[0] == "classification"
    assert infer_task(ages, "regress", "f") == ("regression", None)
    ratings = [str(1 + k % 5) for k in range(50)]  # 1..5: labels or scores?
    with pytest.raises(ValueError, match="--task regress"):
        infer_task(ratings, "auto", "f")


def test_one_class_and_contradicting_tasks_are_refused():
    with pytest.raises(ValueError, match=r"only one class \('a'\); a classifier needs at least"):
        infer_task(["a", "a"], "auto", "f")
    with pytest.raises(ValueError, match=r"only one class \(3\)"):
        infer_task(["3", "3", "3"], "classify", "f")
    with pytest.raises(ValueError, match=r"--task regress needs numbers, .* such as 'cat'"):
        infer_task(["1", "cat"], "regress", "f")
    with pytest.raises(ValueError, match=r"--task classify needs class labels, .* '0\.5'"):
        infer_task(["1", "0.5"], "classify", "f")


# --- reading a training file ------------------------------------------------------------------

TRAIN = "size,color,kind\n1.5,red,a\n2.0,blue,b\n0.5,red,a\n3.0,green,b\n2.5,blue,a\n"


def test_text_features_are_one_hot_and_the_split_is_remembered(tmp_path):
    table = _csv(tmp_path, "train.csv", TRAIN)
    fitted = fit_contract(table, "kind", seed=0, test_fraction=0.4)
    contract = fitted.contract
    assert contract.input_names == ["size", "color=blue", "color=green", "color=red"]
    np.testing.assert_array_equal(fitted.x[0], [1.5, 0, 0, 1])
    np.testing.assert_array_equal(fitted.x[3], [3.0, 0, 1, 0])
    assert contract.class_names == ["a", "b"] and list(fitted.y) == [0, 1, 0, 1, 0]
    assert sorted(fitted.test_rows) == contract.split["test_rows"] and len(fitted.test_rows) == 2
    assert sorted([*fitted.train_rows, *fitted.test_rows]) == [0, 1, 2, 3, 4]
    rows, what = contract.rows_to_score(table)
    np.testing.assert_array_equal(rows, contract.split["test_rows"])
    assert what == "the 2 test rows held out when the model trained on it"
    other = _csv(tmp_path, "other.csv", TRAIN + "1.0,red,b\n")
    assert contract.rows_to_score(other) == (None, "all 6 rows")


def test_new_files_are_read_by_column_name(tmp_path):
    contract = fit_contract(_csv(tmp_path, "train.csv", TRAIN), "kind").contract
    swapped = _csv(tmp_path, "new.csv", "kind,color,size\nb,green,3.0\na,red,1.5\n")
    np.testing.assert_array_equal(contract.encode(swapped), [[3, 0, 1, 0], [1.5, 0, 0, 1]])
    assert list(contract.targets(swapped)) == [1, 0]
    without_target = _csv(tmp_path, "in.csv", "color,size\nblue,2\n")
    np.testing.assert_array_equal(contract.encode(without_target), [[2, 1, 0, 0]])
    with pytest.raises(ValueError, match=r"no target column 'kind' to score against"):
        contract.targets(without_target)


def test_what_a_new_file_cannot_be(tmp_path):
    contract = fit_contract(_csv(tmp_path, "train.csv", TRAIN), "kind").contract
    unseen = _csv(tmp_path, "u.csv", "size,color,kind\n1,purple,a\n")
    with pytest.raises(
        ValueError, match=r"u\.csv, line 2, column 2 \('color'\): category 'purple'"
    ):
        contract.encode(unseen)
    unknown = _csv(tmp_path, "k.csv", "size,color,kind\n1,red,c\n")
    with pytest.raises(ValueError, match=r"line 2, column 3 \('kind'\): class 'c' is not one"):
        contract.targets(unknown)
    missing = _csv(tmp_path, "m.csv", "size,kind\n1,a\n")
    with pytest.raises(ValueError, match=r"missing the column\(s\) \['color'\]"):
        contract.encode(missing)
    extra = _csv(tmp_path, "e.csv", "size,color,weight,kind\n1,red,3,a\n")
    with pytest.raises(ValueError, match=r"column\(s\) \['weight'\] are not inputs of the model"):
        contract.encode(extra)
    bad_number = _csv(tmp_path, "b.csv", "size,color,kind\nbig,red,a\n")
    with pytest.raises(ValueError, match=r"line 2, column 1 \('size'\): 'big' is not a number"):
        contract.encode(bad_number)


def test_a_typo_in_a_numeric_column_is_an_error_not_a_category(tmp_path):
    table = _csv(tmp_path, "t.csv", "size,kind\n1.5,a\n2x,b\n3,a\n")
    with pytest.raises(ValueError, match=r"line 3, column 1 \('size'\): '2x' is not a number"):
        fit_contract(table, "kind")


def test_labels_compare_by_value_of_what_was_written(tmp_path):
    table = _csv(tmp_path, "t.csv", "x,y\n1,-1\n2,1\n3,-1\n4,1\n")
    contract = fit_contract(table, "y").contract
    assert contract.class_names == [-1, 1]
    new = _csv(tmp_path, "n.csv", "x,y\n5,+1\n6,-1.0\n")
    assert list(contract.targets(new)) == [1, 0]


def test_json_round_trip_and_malformed_contracts(tmp_path):
    contract = fit_contract(_csv(tmp_path, "train.csv", TRAIN), "kind").contract
    again = DataContract.from_json(contract.to_json())
    assert again == contract
    for broken in (
        [],
        {**contract.to_json(), "task": "clustering"},
        {**contract.to_json(), "class_names": [1.5]},
        {**contract.to_json(), "features": [{"name": 3}]},
    ):
        with pytest.raises(ValueError, match="the data contract is malformed"):
            DataContract.from_json(broken, "m.lucid")


def test_one_class_written_two_ways_is_one_class(tmp_path):
    table = _csv(tmp_path, "t.csv", "x,y\n1,1\n2,1.0\n3,x\n4,x\n5,1\n")
    fitted = fit_contract(table, "y")
    assert fitted.contract.class_names == ["1", "x"]
    assert list(fitted.y) == [0, 0, 1, 1, 0]


def test_read_raw_refuses_a_header_without_rows_and_drops_a_bom_from_stdin(tmp_path):
    with pytest.raises(ValueError, match=r"h\.csv: a header on line 1 but no data rows"):
        _csv(tmp_path, "h.csv", "a,b\n")
    table = read_raw("-", stdin="\ufeffa,b\n1,2\n")
    assert table.names == ["a", "b"] and table.source == "<stdin>"


def test_a_regression_target_too_large_for_float32_is_named(tmp_path):
    table = _csv(
        tmp_path, "t.csv", "x,y\n" + "".join(f"{i},{i + 0.5}\n" for i in range(9)) + "9,1e39\n"
    )
    with pytest.raises(ValueError, match=r"line 11, column 2 \('y'\): '1e39' is too large"):
        fit_contract(table, "y")


def test_a_headerless_file_is_read_in_the_training_files_column_order(tmp_path):
    rows = "".join(f"{i % 5},{'ab'[i % 2]},{(i * 7) % 3}\n" for i in range(30))
    contract = fit_contract(_csv(tmp_path, "train.csv", rows), 1).contract  # target: column 2
    assert contract.target == "column 2" and contract.class_names == ["a", "b"]
    with_target = _csv(tmp_path, "new.csv", "3,b,2\n4,a,0\n1,b,1\n")  # b again: no header
    np.testing.assert_array_equal(contract.encode(with_target), [[3, 2], [4, 0], [1, 1]])
    assert list(contract.targets(with_target)) == [1, 0, 1]
    features_only = _csv(tmp_path, "in.csv", "3,2\n4,0\n")
    np.testing.assert_array_equal(contract.encode(features_only), [[3, 2], [4, 0]])
    with pytest.raises(ValueError, match=r"4 columns and no header row; the model reads 2"):
        contract.encode(_csv(tmp_path, "wide.csv", "1,2,3,4\n5,6,7,8\n"))
