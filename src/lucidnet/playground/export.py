"""The playground's "export as Python": a short script that rebuilds the page's data and
network with lucidnet and retrains it from the start.

Run with the same settings and epochs, the script's ``fit`` takes the same steps as the
page (the same initial weights, the same shuffling from ``(seed, epoch)``), so it ends
with the same weights, unless the page's training was changed by hand on the way (a
weight edited, a one-step update, a live change of the learning rate).
"""

from __future__ import annotations

from .network import layer_specs, loss_name, optimizer_code
from .settings import Settings

__all__ = ["script"]

_TARGETS = {
    "binary": "y = data.targets.astype(np.float32)[:, None]  # (n, 1): 0 or 1",
    "multiclass": "y = data.targets  # class indices",
    "regression": "y = data.targets  # (n, 1) values",
}
_METRICS = {"binary": '["binary_accuracy"]', "multiclass": '["accuracy"]', "regression": '["mae"]'}


def _differs(changed_by_hand: list[str] | None) -> str:
    if not changed_by_hand:
        return "It ends with the same weights as the page's network.\n"
    return (
        "Its weights will differ from the page's network, whose training was changed on\n"
        f"the way: {'; '.join(changed_by_hand)}.\n"
    )


def _call(kind: str, args: tuple, kwargs: dict | None) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    if kind == "Dense":
        parts.append("seed=rng")
    return f"ln.{kind}({', '.join(parts)})"


def script(
    s: Settings,
    epochs: int,
    n_outputs: int,
    task: str,
    upload_name: str | None = None,
    changed_by_hand: list[str] | None = None,
) -> str:
    """The script for settings ``s`` after ``epochs`` epochs; ``upload_name``: the CSV
    file the data came from (the script reads it from the working folder);
    ``changed_by_hand``: what happened in the page that the script cannot retrace (its
    docstring then says that its weights will differ)."""
    if s.dataset == "upload":
        load = (
            f"with open({upload_name!r}, encoding='utf-8') as f:  # the uploaded file\n"
            f"    data = read_upload({upload_name!r}, f.read())"
        )
    else:
        load = (
            f"data = generate({s.dataset!r}, {s.samples}, {s.noise!r}, "
            f"classes={s.classes}, seed={s.seed})"
        )
    layers = "\n".join(
        f"        {_call(spec.kind, spec.args, spec.kwargs)},"
        for spec in layer_specs(s, n_outputs, task)
    )
    return f'''"""The lucidnet playground's network, rebuilt and retrained from the start.

Data set {s.dataset!r}, features {", ".join(s.features)}, hidden layers {s.layers or "none"},
{s.optimizer} at learning rate {s.learning_rate:g}, batch size {s.batch_size}, {epochs} epochs.
Run it with lucidnet installed: python this_file.py
{_differs(changed_by_hand)}"""

import numpy as np

import lucidnet as ln
from lucidnet.playground.data import features, generate, read_upload, split

{load}
train, test = split(data, {s.train_ratio!r})
X = features(data.points, {s.features!r})
{_TARGETS[task]}
X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]

rng = np.random.default_rng({s.seed})  # every Dense layer's initial weights, in order
model = ln.Sequential(
    [
{layers}
    ],
    input_shape=({len(s.features)},),
)
model.compile({loss_name(task)!r}, {optimizer_code(s)}, metrics={_METRICS[task]})
model.fit(X_train, y_train, epochs={epochs}, batch_size={s.batch_size}, seed={s.seed}, verbose=0)
print("test:", model.evaluate(X_test, y_test))
ln.save(model, "playground.lucid")
'''
