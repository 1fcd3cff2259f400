"""The data contract: how a raw CSV row becomes the model's input, and the model's output a
named prediction. The CLI fits one on the training file and stores it in the model file
(``model.info["data"]``), so that ``evaluate`` and ``predict`` read new files the way the
training file was read.

What it holds:

- the feature columns, by name and in order; a text column is one-hot encoded over the
  categories seen in the training file (in sorted order; a category the model never saw is
  an error naming its file, line and column);
- the target column's name, the task (``"classification"`` or ``"regression"``) and the
  class names as they were written (``"red"``, ``3``, ``-1``): class ``k`` of the model's
  output is ``class_names[k]``;
- the split: the seed, the test fraction, the number of rows, the SHA-256 of the training
  file and which of its rows were held out for testing, so that the training file is only
  ever scored on those rows.

The task rule (``task="auto"``), written once here:

- text in the target column: classification;
- numbers that are not all whole: regression;
- whole numbers: classification when there are exactly two distinct values (``0/1``,
  ``-1/+1``, ``1/2``) or when they are exactly ``0, 1, ..., k-1`` with ``k <= 20``;
  regression when most values are distinct (more distinct values than half the rows:
  prices, no class could be learned from one example); anything else (ages, counts,
  ratings ``1..5``) could be either, and stops with an error that asks for
  ``--task classify`` or ``--task regress``.

A classification target needs at least two classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .datasets.tabular import RawTable, _finite_number, _is_float

__all__ = ["DataContract", "FeatureColumn", "Fitted", "class_key", "fit_contract", "infer_task"]

TASKS = ("classification", "regression")
MAX_AUTO_CLASSES = 20  # whole-number targets 0..k-1 count as classes up to this k


_number = _finite_number  # a cell's value if it is a finite number, else None
_looks_numeric = _is_float  # whether float() reads the cell (inf and nan included)


@dataclass
class FeatureColumn:
    """A feature column: its name and, for a text column, its categories."""

    name: str
    categories: list[str] | None = None  # None: a numeric column

    @property
    def input_names(self) -> list[str]:
        """The model inputs this column becomes: itself, or ``name=category`` each."""
        if self.categories is None:
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]


def infer_task(values: list[str], task: str, where: str) -> tuple[str, list[Any] | None]:
    """``(task, class_names)`` for the target cells ``values`` (see the module docstring).

    ``task`` is ``"auto"``, ``"classify"`` or ``"regress"`` (the CLI's words) or one of
    ``TASKS``. Raises ValueError with the rule and the fix when the data cannot decide or
    contradict the task asked for.
    """
    asked = {"classify": "classification", "regress": "regression"}.get(task, task)
    if asked not in (*TASKS, "auto"):
        raise ValueError(f"{where}: task must be auto, classify or regress, got {task!r}")
    numbers = [_number(v) for v in values]
    text = any(v is None for v in numbers)
    if text:
        if asked == "regression":
            bad = next(v for v, n in zip(values, numbers, strict=True) if n is None)
            raise ValueError(
                f"{where}: --task regress needs numbers, but the target holds text such as {bad!r}"
            )
        first: dict[str, str] = {}  # one class per value: "1" and "1.0" are one class
        for v in sorted(set(values)):
            first.setdefault(class_key(v), v)
        return _classes(list(first.values()), where)
    whole = all(float(n).is_integer() and abs(n) < 2**53 for n in numbers)  # type: ignore[arg-type]
    if asked == "regression":
        return "regression", None
    if not whole:
        if asked == "classification":
            bad = next(v for v, n in zip(values, numbers, strict=True) if not float(n).is_integer())  # type: ignore[arg-type]
            raise ValueError(
                f"{where}: --task classify needs class labels, but the target holds "
                f"{bad!r}, not a whole number or a name"
            )
        return "regression", None
    distinct = sorted({int(n) for n in numbers})  # type: ignore[arg-type]
    if asked == "classification":
        return _classes(distinct, where)
    if len(distinct) == 2 or (
        distinct == list(range(len(distinct))) and len(distinct) <= MAX_AUTO_CLASSES
    ):
        return _classes(distinct, where)
    if len(distinct) == 1:
        return _classes(distinct, where)  # raises: one class
    if len(distinct) > len(values) / 2:
        return "regression", None  # mostly distinct: quantities, not labels
    shown = ", ".join(map(str, distinct[:6])) + (", ..." if len(distinct) > 6 else "")
    raise ValueError(
        f"{where}: the target holds {len(distinct)} distinct whole numbers ({shown}): class "
        "labels or quantities? Say which with --task classify or --task regress"
    )


def _classes(names: list[Any], where: str) -> tuple[str, list[Any]]:
    if len(names) < 2:
        raise ValueError(
            f"{where}: the target has only one class ({names[0]!r}); a classifier needs at "
            "least two"
        )
    return "classification", names


@dataclass
class DataContract:
    """See the module docstring. ``features`` is None for array data (images), whose
    inputs are the array's columns as they are."""

    source: str
    task: str
    target: str | None = None
    class_names: list[Any] | None = None
    features: list[FeatureColumn] | None = None
    split: dict[str, Any] = field(default_factory=dict)

    # --- names ------------------------------------------------------------------------

    @property
    def input_names(self) -> list[str] | None:
        """The names of the model's inputs, in order (None for array data)."""
        if self.features is None:
            return None
        return [name for column in self.features for name in column.input_names]

    @property
    def is_classifier(self) -> bool:
        """Whether the task is classification."""
        return self.task == "classification"

    def class_name(self, index: int) -> Any:
        """The name of class ``index`` (the index itself when no names are known)."""
        return index if self.class_names is None else self.class_names[index]

    # --- reading files ------------------------------------------------------------------

    def _columns(self, table: RawTable, need_target: bool) -> tuple[list[int], int | None]:
        """The positions in ``table`` of the feature columns and of the target."""
        if self.features is None:
            raise ValueError(f"{table.source}: this model reads arrays ({self.source}), not CSV")
        names = [c.name for c in self.features]
        positions = {name: j for j, name in enumerate(table.names)}
        if table.has_header:
            missing = [n for n in names if n not in positions]
            if missing:
                raise ValueError(
                    f"{table.source}: missing the column(s) {missing} that the model reads; "
                    f"it has {table.names}"
                )
            target = positions.get(self.target) if self.target is not None else None
            extra = [n for n in table.names if n not in names and n != self.target]
            if extra:
                raise ValueError(
                    f"{table.source}: column(s) {extra} are not inputs of the model "
                    f"(its inputs: {names}; target: {self.target!r})"
                )
            features = [positions[n] for n in names]
        else:  # no header: the training file's column order, the target where it was
            position = self.split.get("target_position")  # None: not read from a CSV
            if position is not None and len(table.names) == len(names):
                features, target = list(range(len(names))), None
            elif position is not None and len(table.names) == len(names) + 1:
                target = int(position)
                features = [j for j in range(len(names) + 1) if j != target]
            else:
                raise ValueError(
                    f"{table.source}: {len(table.names)} columns and no header row; the model "
                    f"reads {len(names)} features (+ the target), in the training file's order"
                )
        if need_target and target is None:
            raise ValueError(f"{table.source}: no target column {self.target!r} to score against")
        return features, target

    def encode(self, table: RawTable, rows: np.ndarray | None = None) -> np.ndarray:
        """The model's input ``(n, inputs)`` float32 from ``table`` (its ``rows`` only, if
        given). The target column, if present, is ignored."""
        features, _ = self._columns(table, need_target=False)
        assert self.features is not None
        chosen = table.rows if rows is None else [table.rows[i] for i in rows]
        blocks = []
        for column, j in zip(self.features, features, strict=True):
            cells = [(line, cells[j].strip()) for line, cells in chosen]
            if column.categories is None:
                blocks.append(_numbers(table, cells, j)[:, None])
            else:
                index = {c: k for k, c in enumerate(column.categories)}
                codes = np.empty(len(cells), dtype=np.intp)
                for i, (line, cell) in enumerate(cells):
                    k = index.get(cell)
                    if k is None:
                        raise ValueError(
                            f"{table.where(line, j)}: category {cell!r} was not in the "
                            f"training data ({', '.join(map(repr, column.categories))})"
                        )
                    codes[i] = k
                blocks.append(np.eye(len(column.categories))[codes])  # one-hot rows
        x = np.hstack(blocks) if blocks else np.empty((len(chosen), 0))
        with np.errstate(over="ignore"):
            x32 = x.astype(np.float32)
        if not np.isfinite(x32).all():
            i, k = (int(v) for v in np.argwhere(~np.isfinite(x32))[0])
            raise ValueError(
                f"{table.source}, line {chosen[i][0]}: a value is too large for float32"
            )
        return x32

    def targets(self, table: RawTable, rows: np.ndarray | None = None) -> np.ndarray:
        """The target column as the model's targets: class indices by class name (a name the
        model never saw is an error naming it), or float32 numbers."""
        _, t = self._columns(table, need_target=True)
        assert t is not None
        chosen = table.rows if rows is None else [table.rows[i] for i in rows]
        cells = [(line, cells[t].strip()) for line, cells in chosen]
        if not self.is_classifier:
            with np.errstate(over="ignore"):
                out = _numbers(table, cells, t).astype(np.float32)
            if not np.isfinite(out).all():
                line, cell = cells[int(np.argmin(np.isfinite(out)))]
                raise ValueError(f"{table.where(line, t)}: {cell!r} is too large for float32")
            return out
        assert self.class_names is not None
        index = {class_key(name): k for k, name in enumerate(self.class_names)}
        labels = np.empty(len(cells), dtype=np.int64)
        for i, (line, cell) in enumerate(cells):
            k = index.get(class_key(cell))
            if k is None:
                known = ", ".join(map(repr, self.class_names))
                raise ValueError(
                    f"{table.where(line, t)}: class {cell!r} is not one the model knows ({known})"
                )
            labels[i] = k
        return labels

    def rows_to_score(self, table: RawTable) -> tuple[np.ndarray | None, str]:
        """The rows ``evaluate`` scores, and what they are: the stored test rows when
        ``table`` is the training file itself, else every row."""
        if self.split.get("sha256") and table.sha256 == self.split["sha256"]:
            rows = np.asarray(self.split["test_rows"], dtype=np.intp)
            return rows, f"the {len(rows)} test rows held out when the model trained on it"
        return None, f"all {len(table.rows)} rows"

    # --- JSON ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """JSON data for ``model.info["data"]``."""
        return {
            "source": self.source,
            "task": self.task,
            "target": self.target,
            "class_names": self.class_names,
            "features": None
            if self.features is None
            else [{"name": c.name, "categories": c.categories} for c in self.features],
            "split": self.split,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "model file") -> DataContract:
        """The contract stored by ``to_json``; ValueError naming what is malformed."""

        def bad(what: str) -> ValueError:
            return ValueError(f"{where}: the data contract is malformed ({what})")

        if not isinstance(data, dict):
            raise bad("not an object")
        task = data.get("task")
        if task not in TASKS:
            raise bad(f"task {task!r}")
        names = data.get("class_names")
        if names is not None and not (
            isinstance(names, list)
            and all(isinstance(n, (str, int)) and not isinstance(n, bool) for n in names)
        ):
            raise bad("class_names")
        features = data.get("features")
        columns = None
        if features is not None:
            if not isinstance(features, list):
                raise bad("features")
            columns = []
            for f in features:
                if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                    raise bad("a feature")
                cats = f.get("categories")
                if cats is not None and not (
                    isinstance(cats, list) and all(isinstance(c, str) for c in cats)
                ):
                    raise bad(f"the categories of {f['name']!r}")
                columns.append(FeatureColumn(f["name"], cats))
        split = data.get("split", {})
        if not isinstance(split, dict):
            raise bad("split")
        target = data.get("target")
        source = data.get("source")
        if not isinstance(source, str) or not (target is None or isinstance(target, str)):
            raise bad("source or target")
        return cls(source, task, target, names, columns, split)


def _numbers(table: RawTable, cells: list[tuple[int, str]], j: int) -> np.ndarray:
    """The cells ``(line, text)`` of column ``j`` as float64 numbers, or ValueError naming
    the first that is not a finite number (file, line, column)."""
    values = np.empty(len(cells), dtype=np.float64)
    for i, (line, cell) in enumerate(cells):
        v = _number(cell)
        if v is None:
            raise ValueError(table.cell_error(line, j, cell))
        values[i] = v
    return values


def class_key(name: Any) -> str:
    """Class names compare as the text written in the file: ``1``, ``1.0`` and ``"1"`` are
    one class; ``-1`` and ``+1`` as numbers."""
    text = str(name).strip()
    v = _number(text)
    if v is not None and float(v).is_integer():
        return str(int(v))
    return text


class Fitted(NamedTuple):
    """What ``fit_contract`` read: the contract, every row's inputs and targets, and the
    training rows (in training order) and test rows of the split."""

    contract: DataContract
    x: np.ndarray
    y: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray


def fit_contract(
    table: RawTable,
    target: int | str,
    task: str = "auto",
    seed: int = 0,
    test_fraction: float = 0.2,
) -> Fitted:
    """Read a training file: the contract, the inputs ``x`` and targets ``y`` of every row,
    and the split (a seeded permutation; the last ``test_fraction`` of it, at least one
    row, is held out, and ``contract.split["test_rows"]`` remembers which).

    Feature columns whose cells are all numbers are numeric; columns with no number at all
    are text (one-hot); a column that mixes both is an error naming the first cell that
    does not fit (a typo in a numeric column must not turn it into categories).
    """
    t = table.column_index(target)
    n = len(table.rows)
    if n < 2:
        raise ValueError(
            f"{table.source}: {n} data row(s); at least 2 are needed to train and test"
        )
    columns = []
    for j, name in enumerate(table.names):
        if j == t:
            continue
        cells = [(line, cells[j].strip()) for line, cells in table.rows]
        numeric = [_number(c) is not None for _, c in cells]
        empty = next(((line, c) for line, c in cells if not c), None)
        if empty is not None:
            raise ValueError(table.cell_error(empty[0], j, empty[1]))
        if all(numeric):
            columns.append(FeatureColumn(name))
        elif not any(numeric) and not any(_looks_numeric(c) for _, c in cells):
            columns.append(FeatureColumn(name, sorted({c for _, c in cells})))
        else:
            line, cell = next(
                (line, c) for (line, c), ok in zip(cells, numeric, strict=True) if not ok
            )
            raise ValueError(
                table.cell_error(line, j, cell)
                + " (the column holds numbers elsewhere; a text column must hold no numbers)"
            )
    values = []
    for line, cells in table.rows:
        cell = cells[t].strip()
        if not cell or (_looks_numeric(cell) and _number(cell) is None):
            raise ValueError(table.cell_error(line, t, cell))
        values.append(cell)
    where = f"{table.source}, target column {table.names[t]!r}"
    kind, names = infer_task(values, task, where)
    order = np.random.default_rng(seed).permutation(n)
    cut = n - max(1, round(n * test_fraction))
    split = {
        "seed": int(seed),
        "test_fraction": float(test_fraction),
        "rows": n,
        "sha256": table.sha256,
        "test_rows": sorted(int(i) for i in order[cut:]),
        "target_position": t,
    }
    contract = DataContract(table.source_name, kind, table.names[t], names, columns, split)
    x = contract.encode(table)
    y = contract.targets(table)
    return Fitted(contract, x, y, order[:cut], order[cut:])
