"""Renderers of an ``explain`` trace: plain text, Markdown with LaTeX, standalone HTML.

What a trace shows is decided once, by ``sections``: a list of ``Section`` (a title and
its rows, or a table), each ``Row`` one quantity with its formula in plain text and in TeX
and its value. The sections of convolutions, poolings, ``Flatten`` and ``BatchNorm`` are
built in ``explain_render_windows``. The renderers only format that list: ``to_text``
aligns the rows under their titles, ``to_markdown`` writes each row as a ``$$`` equation
in the style of seed 003, ``to_html`` writes a page of them.

Large arrays are abbreviated, never dumped: at most ``MAX_COLS`` columns and
``MAX_ROWS`` rows are shown (the first ones, an ellipsis, the last two), with the full
shape beside them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from .explain import LayerTrace, Trace

__all__ = ["Row", "Section", "sections", "to_html", "to_markdown", "to_text"]

MAX_COLS = 8
MAX_ROWS = 6

Value = np.ndarray | float  # an array with a row per sample, or a scalar (a loss)


@dataclass
class Row:
    """One quantity: ``label = formula = value``.

    ``tex`` is ``label = formula`` in TeX; Markdown writes ``$$ tex = value $$`` and leaves
    out a row without it, whose value another row's equation shows (seed 003 substitutes
    x, W and b into the equation of z). ``note`` is said after the value.
    """

    label: str  # "dL/dW"
    value: Value | None
    formula: str = ""  # "x^T delta"
    tex: str = ""  # r"\frac{\partial L}{\partial W_1} = x_1^T \delta_1"
    note: str = ""


@dataclass
class Section:
    """A title and its rows: a part of the trace (``level`` 2) or a layer in it (3).

    An untitled section holds results that stand on their own (the prediction). Rows whose
    value is None (a layer without bias, the backward pass of a forward-only trace) are
    dropped here, once for every renderer.
    """

    title: str
    rows: list[Row] = field(default_factory=list)
    level: int = 3
    tex_title: str = ""  # the title for Markdown, when it differs (math in it)
    caption: str = ""  # plain text under the title; Markdown's equations say it in TeX
    table: list[list[str]] = field(default_factory=list)  # a header row, then rows
    label_width: int = 9  # the text renderer aligns "=" after this many characters

    def __post_init__(self) -> None:
        self.rows = [row for row in self.rows if row.value is not None]


ROWS_ARE_SAMPLES = (
    "Rows are samples: z = x W + b, with one column of W per neuron (the seeds'\n"
    "W x + b uses its transpose, one row per neuron)."
)


def sections(trace: Trace, decimals: int = 4) -> list[Section]:
    """What the renderers show, in order: the forward pass layer by layer, the prediction,
    the loss, the backward pass from the output, the update and the new prediction (each
    only as far as the trace goes)."""
    from . import explain_render_windows as windows

    title = f"Forward pass ({len(trace.x)} sample(s), x {_shape(trace.x)})"
    out = []
    caption = ROWS_ARE_SAMPLES
    if not trace.dense_only:
        out.append(windows.shapes(trace))
        caption = windows.IMAGES + "\n" + ROWS_ARE_SAMPLES
    out.append(Section(title, level=2, caption=caption))
    for t in trace.layers:
        out.append(_forward(t, decimals) if t.shows_every_number else windows.forward(t, decimals))
    out.append(_prediction(trace))
    if trace.grad_y_hat is None:
        return out
    out.append(_loss(trace, decimals))
    out.append(Section("Backward pass (the chain rule, output to input)", level=2))
    out += [
        _backward(t) if t.shows_every_number else windows.backward(t) for t in trace.layers[::-1]
    ]
    if trace.learning_rate is None:
        return out
    lr = trace.learning_rate
    title = f"Update: W <- W - {lr:g} dL/dW,  b <- b - {lr:g} dL/db"
    out.append(Section(title, level=2, tex_title=rf"Update, learning rate $\eta = {lr:g}$"))
    out += [
        _update(t) if t.is_dense else windows.update(t)
        for t in trace.layers
        if t.is_dense or t.new_params
    ]
    was = "" if trace.loss is None else f"was {trace.loss:.{decimals}f}"
    new_y_hat = Row("New prediction y_hat", _matrix(trace.new_y_hat), tex=r"\hat{y}_\text{new}")
    new_loss = Row("New loss L", trace.new_loss, tex=r"L_\text{new}", note=was)
    out.append(Section("", [new_y_hat, new_loss]))
    return out


def _title(t: LayerTrace) -> str:
    then = "" if t.activation == "Identity" else f", then {_act(t)}"
    if t.is_dense:
        n_in, n_out = t.weights.shape  # type: ignore[union-attr]
        return f"Layer {t.index} {t.name!r}: Dense {n_in} -> {n_out}{then}"
    if t.kind != "Activation":
        info = f" {t.info}" if t.info else ""
        return f"Layer {t.index} {t.name!r}: {t.kind}{info}{then}"
    return f"Layer {t.index} {t.name!r}: {_act(t)}"


def _prediction(trace: Trace) -> Section:
    """The prediction; an image-shaped one (a network ending in a convolution) by shape."""
    if np.ndim(trace.y_hat) > 2:
        return Section("", level=2, caption=_not_printed("Prediction y_hat", trace.y_hat))
    return Section("", [Row("Prediction y_hat", trace.y_hat, tex=r"\hat{y}")])


def _act(t: LayerTrace) -> str:
    return t.activation.lower()


def _shows_activation(t: LayerTrace) -> bool:
    """A Dense layer with no activation after it shows z only; any other shows a = f(z)."""
    return t.activation != "Identity" or not t.is_dense


def _d(of: str) -> str:
    """``dL/d(of)`` in TeX."""
    return rf"\frac{{\partial L}}{{\partial {of}}}"


def _forward(t: LayerTrace, decimals: int) -> Section:
    """x, W, b and z = x W + b (in TeX with the numbers substituted), then a = f(z)."""
    k, rows, caption = t.index, [], ""
    if t.is_dense:
        has_b = t.bias is not None  # Dense(bias=False): z = x W
        bias = f" + b {_shape(t.bias)}" if has_b else ""
        formula = "z = x W + b" if has_b else "z = x W"
        caption = f"{formula}    x {_shape(t.x)} @ W {_shape(t.weights)}{bias} -> z {_shape(t.z)}"
        terms = f"{_tex(t.x, decimals)} {_tex(t.weights, decimals)}"
        terms += f" + {_tex(t.bias, decimals)}" if has_b else ""
        z_tex = f"z_{k} = x_{k} W_{k}{f' + b_{k}' if has_b else ''} = {terms}"
        rows = [Row("x", t.x), Row("W", t.weights), Row("b", t.bias), Row("z", t.z, tex=z_tex)]
    if _shows_activation(t):
        a_tex = rf"a_{k} = \operatorname{{{_act(t)}}}(z_{k})"
        rows.append(Row("a", t.a, f"{_act(t)}(z)", tex=a_tex))
    return Section(_title(t), rows, caption=caption)


def _loss(trace: Trace, decimals: int) -> Section:
    """The loss and its target, or the dL/dy_hat given instead of a loss."""
    if trace.loss is None:
        given = Row("dL/dy_hat", _matrix(trace.grad_y_hat), "given", tex=_d(r"\hat{y}"))
        return Section(
            "Loss", [given], level=2, caption=_not_printed("dL/dy_hat", trace.grad_y_hat)
        )
    name = str(trace.loss_name)
    tex = trace.loss_function.formula.tex if trace.loss_function is not None else "L"
    penalty = f"includes the penalty {trace.penalty:.{decimals}f}" if trace.penalty else ""
    rows = [Row("y", _matrix(trace.y), tex="y"), Row("L", trace.loss, tex=tex, note=penalty)]
    title = f"Loss: {name}   {trace.loss_formula}"
    caption = _not_printed("y", trace.y)
    return Section(title, rows, level=2, tex_title=f"Loss: {name}", caption=caption)


def _matrix(a: np.ndarray | None) -> np.ndarray | None:
    """``a``, or None (no row) for an image-shaped array, which a renderer cannot print."""
    return None if np.ndim(a) > 2 else a


def _not_printed(label: str, a: np.ndarray | None) -> str:
    return f"{label}: {_shape(a)}, not printed" if np.ndim(a) > 2 else ""


def _backward(t: LayerTrace) -> Section:
    """dL/da; f'(z) and delta = dL/dz through the activation; the Dense layer's dL/dW and
    dL/db; dL/dx, the dL/da of the layer before."""
    k = t.index
    da, dz, dw, db, dx = _d(f"a_{k}"), _d(f"z_{k}"), _d(f"W_{k}"), _d(f"b_{k}"), _d(f"x_{k}")
    rows = [Row("dL/da", t.grad_a, tex=da)]
    if _shows_activation(t):
        local, local_tex, product = t.local, f"f'(z_{k})", rf"{da} \odot f'(z_{k})"
        if t.is_softmax:  # one Jacobian per sample: the first one is shown
            which = rf"\ (\text{{sample 1 of {len(t.z)}}})" if len(t.z) > 1 else ""
            local, local_tex = t.local[0], f"J_{k}{which}"  # type: ignore[index]
            product = rf"J_{k}^T {da}"
        local_tex += " = " + t.derivative.tex
        fused = "sigmoid/softmax/exp fused with the loss: (y_hat - y) / n" if t.fused else ""
        delta_tex = rf"\delta_{k} = {dz} = {product}"
        rows.append(Row(t.local_label, local, t.derivative_formula, tex=local_tex))
        rows.append(Row("delta", t.delta, t.delta_formula, tex=delta_tex, note=fused))
    if t.is_dense:
        penalty = rf" + 2 \cdot {t.l2:g} \, W_{k}" if t.l2 else ""
        penalty += rf" + {t.l1:g} \operatorname{{sign}}(W_{k})" if t.l1 else ""
        dw_tex = rf"{dw} = x_{k}^T \delta_{k}{penalty}"
        rows.append(Row("dL/dW", t.grad_weights, t.grad_weights_formula, tex=dw_tex))
        rows.append(Row("dL/db", t.grad_bias, "sum of delta", tex=rf"{db} = \sum \delta_{k}"))
        rows.append(Row("dL/dx", t.grad_x, "delta W^T", tex=rf"{dx} = \delta_{k} W_{k}^T"))
    else:
        rows.append(Row("dL/dx", t.grad_x, "delta", tex=rf"{dx} = \delta_{k}"))
    return Section(f"{_title(t)}, backward", rows)


def _update(t: LayerTrace) -> Section:
    """The Dense layer's new weights and bias (the part's title says the rule)."""
    k = t.index
    new_w = Row("W new", t.new_weights, tex=rf"W_{k} \leftarrow W_{k} - \eta {_d(f'W_{k}')}")
    new_b = Row("b new", t.new_bias, tex=rf"b_{k} \leftarrow b_{k} - \eta {_d(f'b_{k}')}")
    return Section(_title(t), [new_w, new_b])


# --- arrays ------------------------------------------------------------------------------


def _pick(n: int, limit: int) -> list[int | None]:
    """Indices to show out of ``n``: all, or the first ones, None (an ellipsis), the last 2."""
    if n <= limit:
        return list(range(n))
    return [*range(limit - 3), None, n - 2, n - 1]


def _grid(a: np.ndarray, decimals: int) -> list[list[str]]:
    """An array as rows of formatted cells, abbreviated; "..." marks what is left out."""
    a = _as_2d(a)
    rows = []
    for i in _pick(a.shape[0], MAX_ROWS):
        if i is None:
            rows.append(["..."] * len(_pick(a.shape[1], MAX_COLS)))
            continue
        rows.append(
            ["..." if j is None else f"{a[i, j]:.{decimals}f}" for j in _pick(a.shape[1], MAX_COLS)]
        )
    return rows


def _as_2d(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim > 2:  # a renderer shows matrices: an image's numbers go through a worked position
        raise ValueError(f"explain: cannot print an array of shape {a.shape} as a matrix")
    return a


def _shape(a: np.ndarray) -> str:
    return "(" + " x ".join(str(s) for s in np.shape(a)) + ")"


def _abbreviated(a: np.ndarray) -> bool:
    a2 = _as_2d(a)
    return a2.shape[0] > MAX_ROWS or a2.shape[1] > MAX_COLS


# --- text --------------------------------------------------------------------------------


def _text_value(a: Value, decimals: int, indent: int) -> str:
    """A scalar as a number, ``[0.8000  1.2000]`` for a row, bracketed aligned rows for a
    matrix (continued ``indent`` characters in)."""
    if isinstance(a, float):
        return f"{a:.{decimals}f}"
    cells = _grid(a, decimals)
    width = max(len(c) for row in cells for c in row)
    lines = ["[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells]
    note = f"  {_shape(a)}, abbreviated" if _abbreviated(a) else ""
    if len(lines) == 1:
        return lines[0] + note
    pad = " " * (indent + 1)
    return "[" + ("\n" + pad).join(lines) + "]" + note


def _text_table(table: list[list[str]]) -> list[str]:
    """Aligned columns; the last (a count) aligned right."""
    if not table:
        return []
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i == len(row) - 1 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in table
    ]


def to_text(trace: Trace, decimals: int = 4) -> str:
    """The trace for a terminal: formulas, shapes and aligned numbers."""
    out: list[str] = []
    for section in sections(trace, decimals):
        out += ["", *section_text(section, decimals)]
    out += [f"Note: {note}" for note in trace.notes]
    return "\n".join(out[1:])


def section_text(section: Section, decimals: int = 4) -> list[str]:
    """One section's lines for the terminal (the playground's one-step mode shows them one
    section at a time)."""
    out = [section.title] if section.title else []
    indent = "  " * (section.level - 2)
    out += [indent + line for line in section.caption.splitlines()]
    out += ["  " + line for line in _text_table(section.table)]
    for row in section.rows:
        # under a title, rows are indented and their "=" aligned
        width = section.label_width
        head = f"  {row.label:<{width}}= " if section.title else f"{row.label} = "
        head += f"{row.formula} = " if row.formula else ""
        note = f"   ({row.note})" if row.note else ""
        out.append(head + _text_value(row.value, decimals, len(head)) + note)
    return out


# --- Markdown with LaTeX -----------------------------------------------------------------


def _tex(a: Value, decimals: int) -> str:
    """A scalar as a number, an array as a ``bmatrix`` abbreviated with ``\\cdots`` and
    ``\\vdots``."""
    if isinstance(a, float):
        return f"{a:.{decimals}f}"
    body = r" \\ ".join(
        " & ".join(
            r"\cdots" if c == "..." and len(set(row)) > 1 else (r"\vdots" if c == "..." else c)
            for c in row
        )
        for row in _grid(a, decimals)
    )
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def to_markdown(trace: Trace, decimals: int = 4) -> str:
    """Markdown with ``$$`` LaTeX blocks (rows are samples: ``z = x W + b``)."""
    if np.ndim(trace.x) > 2:
        first = (
            f"Input $x$: {len(trace.x)} image(s), shape {_shape(trace.x)} (batch, height, "
            "width, channels). A convolution, pooling or BatchNorm is worked out at one "
            "output position of the first sample."
        )
    else:
        first = f"Input $x = {_tex(trace.x, decimals)}$, shape {_shape(trace.x)}."
    out = [
        "# One pass through the network",
        "",
        first,
        "",
        "Rows are samples: $z = x W + b$, with one column of $W$ per neuron. Seed 003 writes "
        "$z = W x + b$ with one row per neuron: its $W$ is the transpose of the one here.",
    ]
    for section in sections(trace, decimals):
        out.append("")
        if section.title:
            out.append("#" * section.level + " " + (section.tex_title or section.title))
        if section.table:
            head, *body = section.table
            out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(row) + " |" for row in body]
        for row in section.rows:
            if not row.tex:
                continue  # its value is in another row's equation
            out.append(f"$$ {row.tex} = {_tex(row.value, decimals)} $$")
            if row.note:
                out.append(f"({row.note})")
    for note in trace.notes:
        out += ["", f"> {note}"]
    return "\n".join(out) + "\n"


# --- HTML --------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1.5em;
  color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
table.m { border-collapse: collapse; display: inline-table; vertical-align: middle;
  border-left: 2px solid #444; border-right: 2px solid #444; margin: 0.2em; }
table.m td { padding: 0.1em 0.5em; text-align: right; font-family: monospace; }
.row { margin: 0.3em 0; } .lab { display: inline-block; min-width: 6em; font-weight: 600; }
.f { color: #555; font-family: monospace; } .note { color: #666; } .eq { color: #555; }
.cap { white-space: pre-wrap; }
"""
_TABLE_CSS = """table.t { border-collapse: collapse; }
table.t td, table.t th { padding: 0.1em 0.8em; text-align: left; font-family: monospace;
  border-bottom: 1px solid #ddd; }
"""


def _html_value(a: Value, decimals: int) -> str:
    """A scalar as a number, an array as a bordered table (abbreviated)."""
    if isinstance(a, float):
        return f"{a:.{decimals}f}"
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in _grid(a, decimals)
    )
    note = f' <span class="note">{_shape(a)}, abbreviated</span>' if _abbreviated(a) else ""
    return f'<table class="m">{body}</table>{note}'


def _svg(trace: Trace, max_units: int = 10) -> str:
    """The network as circles and lines: blue for positive weights, red for negative,
    thicker for larger; each neuron shows its activation for the first sample."""
    dense = [t for t in trace.layers if t.is_dense]
    first, name = trace.x, "input"
    if not trace.dense_only:  # the Dense layers only, from the input of the first one
        first, name = dense[0].x, f"input of {dense[0].name}"
    values = [first[0]] + [t.a[0] for t in dense]
    shown = [_pick(len(v), max_units) for v in values]
    names = [name] + [t.name for t in dense]
    w_px, h_px = 160 * len(values), 80 + 46 * max(len(s) for s in shown)

    def pos(layer: int, k: int) -> tuple[float, float]:
        n = len(shown[layer])
        return 80 + 160 * layer, (h_px - 20) / 2 + (k - (n - 1) / 2) * 46

    parts = [f'<svg width="{w_px}" height="{h_px}" role="img" aria-label="the network">']
    biggest = max((float(np.abs(t.weights).max()) for t in dense), default=1.0) or 1.0
    for layer, t in enumerate(dense, start=1):
        for ki, i in enumerate(shown[layer - 1]):
            for kj, j in enumerate(shown[layer]):
                if i is None or j is None:
                    continue
                w = float(t.weights[i, j])  # type: ignore[index]
                (x1, y1), (x2, y2) = pos(layer - 1, ki), pos(layer, kj)
                colour = "#2b6cb0" if w >= 0 else "#c53030"
                width = 0.5 + 3.5 * abs(w) / biggest
                parts.append(
                    f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                    f'stroke="{colour}" stroke-width="{width:.2f}">'
                    f"<title>w = {w:.4f}</title></line>"
                )
    for layer, idx in enumerate(shown):
        for k, i in enumerate(idx):
            cx, cy = pos(layer, k)
            if i is None:
                parts.append(
                    f'<text x="{cx:.0f}" y="{cy + 5:.0f}" text-anchor="middle">&#8942;</text>'
                )
                continue
            v = float(values[layer][i])
            parts.append(
                f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="17" fill="#fff" stroke="#333"/>'
                f'<text x="{cx:.0f}" y="{cy + 4:.0f}" font-size="10" text-anchor="middle">'
                f"{v:.2f}</text>"
            )
    for layer, name in enumerate(names):
        parts.append(
            f'<text x="{80 + 160 * layer}" y="{h_px - 8}" font-size="12" text-anchor="middle">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def to_html(trace: Trace, decimals: int = 4) -> str:
    """One standalone page: inline CSS and SVG, no scripts, nothing fetched."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>lucidnet explain</title>',
        f"<style>{_CSS}{'' if trace.dense_only else _TABLE_CSS}</style></head><body>",
        "<h1>One pass through the network</h1>",
    ]
    if any(t.is_dense for t in trace.layers):
        only = "" if trace.dense_only else "The drawing shows the Dense layers only. "
        out += [
            _svg(trace),
            f'<p class="note">{only}Blue lines: positive weights, red: negative; thicker is '
            "larger. Each circle shows its neuron's output for the first sample.</p>",
        ]
    for section in sections(trace, decimals):
        if section.title:
            h = f"h{section.level}"
            out.append(f"<{h}>{html.escape(section.title)}</{h}>")
        if section.caption:
            out.append(f'<p class="note cap">{html.escape(section.caption)}</p>')
        if section.table:
            head, *body = section.table
            cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in body
            )
            out.append(f'<table class="t"><tr>{cells}</tr>{rows}</table>')
        for row in section.rows:
            f = f'<span class="f">{html.escape(row.formula)} =</span> ' if row.formula else ""
            note = f' <span class="note">({html.escape(row.note)})</span>' if row.note else ""
            value = _html_value(row.value, decimals)
            out.append(  # "label = formula = value", as the text format reads
                f'<div class="row"><span class="lab">{html.escape(row.label)}</span> '
                f'<span class="eq">=</span> {f}{value}{note}</div>'
            )
    out += [f'<p class="note">{html.escape(note)}</p>' for note in trace.notes]
    out.append("</body></html>")
    return "\n".join(out) + "\n"
