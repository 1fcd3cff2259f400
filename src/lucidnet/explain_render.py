"""Renderers of an ``explain`` trace: plain text, Markdown with LaTeX, standalone HTML.

Large arrays are abbreviated, never dumped: at most ``MAX_COLS`` columns and
``MAX_ROWS`` rows are shown (the first ones, an ellipsis, the last two), with the full
shape beside them.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np

from .explain import LayerTrace, Trace

MAX_COLS = 8
MAX_ROWS = 6


def _pick(n: int, limit: int) -> list[int | None]:
    """Indices to show out of ``n``: all, or the first ones, None (an ellipsis), the last 2."""
    if n <= limit:
        return list(range(n))
    return [*range(limit - 3), None, n - 2, n - 1]


def _grid(a: np.ndarray, decimals: int) -> list[list[str]]:
    """A 2-D array as rows of formatted cells, abbreviated; "..." marks what is left out."""
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
    return a


def _shape(a: np.ndarray) -> str:
    return "(" + " x ".join(str(s) for s in np.shape(a)) + ")"


def _abbreviated(a: np.ndarray) -> bool:
    a2 = _as_2d(a)
    return a2.shape[0] > MAX_ROWS or a2.shape[1] > MAX_COLS


# --- text --------------------------------------------------------------------------------


def _text_array(a: np.ndarray, decimals: int, indent: int) -> str:
    """``[0.8000  1.2000]`` for a row, bracketed aligned rows for a matrix."""
    if np.ndim(a) == 3:  # softmax Jacobians: the first sample's
        a = np.asarray(a)[0]
    a2 = _as_2d(a)
    cells = _grid(a2, decimals)
    width = max(len(c) for row in cells for c in row)
    lines = ["[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells]
    note = f"  {_shape(a)}, abbreviated" if _abbreviated(a) else ""
    if len(lines) == 1:
        return lines[0] + note
    pad = " " * (indent + 1)
    body = ("\n" + pad).join(lines)
    return "[" + body + "]" + note


def to_text(trace: Trace, decimals: int = 4) -> str:
    """The trace for a terminal: formulas, shapes and aligned numbers."""
    out: list[str] = []

    def line(label: str, value: np.ndarray | None, formula: str = "") -> None:
        if value is None:
            return
        head = f"  {label:<9}= " + (f"{formula} = " if formula else "")
        out.append(head + _text_array(value, decimals, len(head)))

    out.append(f"Forward pass ({len(trace.x)} sample(s), x {_shape(trace.x)})")
    out.append("Rows are samples: z = x W + b, with one column of W per neuron (the seeds'")
    out.append("W x + b uses its transpose, one row per neuron).")
    for t in trace.layers:
        out.append("")
        out.append(_title(t))
        if t.is_dense:
            out.append(
                f"  z = x W + b    x {_shape(t.x)} @ W {_shape(t.weights)}"
                + (f" + b {_shape(t.bias)}" if t.bias is not None else "")
                + f" -> z {_shape(t.z)}"
            )
            line("x", t.x)
            line("W", t.weights)
            line("b", t.bias)
            line("z", t.z)
        if t.activation != "Identity" or not t.is_dense:
            line("a", t.a, f"{_act(t)}(z)")
    out.append("")
    out.append(f"Prediction y_hat = {_text_array(trace.y_hat, decimals, 19)}")
    if trace.grad_y_hat is None:
        _notes(out, trace)
        return "\n".join(out)
    out.append("")
    if trace.loss is not None:
        out.append(f"Loss: {trace.loss_name}   {trace.loss_formula}")
        line("y", trace.y)
        out.append(f"  {'L':<9}= {trace.loss:.{decimals}f}" + _penalty_text(trace, decimals))
    else:
        line("dL/dy_hat", trace.grad_y_hat, "given")
    out.append("")
    out.append("Backward pass (the chain rule, output to input)")
    for t in reversed(trace.layers):
        out.append("")
        out.append(_title(t) + ", backward")
        line("dL/da", t.grad_a)
        if t.activation != "Identity" or not t.is_dense:
            line(t.local_label, t.local, t.derivative_formula)
            fused = "   (sigmoid/softmax + cross-entropy: (y_hat - y) / batch)" if t.fused else ""
            line("delta", t.delta, t.delta_formula)
            if fused:
                out[-1] += fused
        if t.is_dense:
            line("dL/dW", t.grad_weights, t.grad_weights_formula)
            line("dL/db", t.grad_bias, "sum of delta")
        line("dL/dx", t.grad_x, "delta W^T" if t.is_dense else "delta")
    if trace.learning_rate is not None:
        lr = trace.learning_rate
        out.append("")
        out.append(f"Update: W <- W - {lr:g} dL/dW,  b <- b - {lr:g} dL/db")
        for t in trace.layers:
            if t.is_dense:
                out.append(f"  layer {t.index} {t.name!r}")
                line("W new", t.new_weights)
                line("b new", t.new_bias)
        out.append("")
        out.append(f"New prediction y_hat = {_text_array(trace.new_y_hat, decimals, 23)}")
        if trace.new_loss is not None:
            out.append(
                f"New loss L = {trace.new_loss:.{decimals}f} (was {trace.loss:.{decimals}f})"
            )
    _notes(out, trace)
    return "\n".join(out)


def _title(t: LayerTrace) -> str:
    if t.is_dense:
        n_in, n_out = t.weights.shape  # type: ignore[union-attr]
        then = "" if t.activation == "Identity" else f", then {_act(t)}"
        return f"Layer {t.index} {t.name!r}: Dense {n_in} -> {n_out}{then}"
    return f"Layer {t.index} {t.name!r}: {_act(t)}"


def _act(t: LayerTrace) -> str:
    return t.activation.lower()


def _penalty_text(trace: Trace, decimals: int) -> str:
    return f"   (includes the L2 penalty {trace.penalty:.{decimals}f})" if trace.penalty else ""


def _notes(out: list[str], trace: Trace) -> None:
    for note in trace.notes:
        out.append(f"Note: {note}")


# --- Markdown with LaTeX -----------------------------------------------------------------

TEX_DERIVATIVES = {
    "Identity": "1",
    "ReLU": r"1 \text{ if } z > 0 \text{ else } 0",
    "LeakyReLU": r"1 \text{ if } z > 0 \text{ else } \alpha",
    "Sigmoid": r"\sigma(z)\,(1 - \sigma(z))",
    "Tanh": r"1 - \tanh^2(z)",
    "Step": "0",
    "Softmax": r"\operatorname{diag}(a) - a a^T",
}
TEX_LOSSES = {
    "mse": r"L = \frac{1}{n} \sum (\hat{y} - y)^2",
    "binary_crossentropy": (
        r"L = -\frac{1}{n} \sum \left(y \log \hat{y} + (1 - y) \log(1 - \hat{y})\right)"
    ),
    "crossentropy": r"L = -\frac{1}{n} \sum_i \sum_k y_{ik} \log \hat{y}_{ik}",
}


def _tex(a: np.ndarray, decimals: int) -> str:
    """A ``bmatrix``; abbreviated with ``\\cdots`` and ``\\vdots``."""
    if np.ndim(a) == 3:
        a = np.asarray(a)[0]
    rows = _grid(_as_2d(a), decimals)
    body = r" \\ ".join(
        " & ".join(
            r"\cdots" if c == "..." and len(set(row)) > 1 else (r"\vdots" if c == "..." else c)
            for c in row
        )
        for row in rows
    )
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def to_markdown(trace: Trace, decimals: int = 4) -> str:
    """Markdown with ``$$`` LaTeX blocks (rows are samples: ``z = x W + b``)."""
    t2 = lambda a: _tex(a, decimals)  # noqa: E731
    out = ["# One pass through the network", ""]
    out.append(f"Input $x = {t2(trace.x)}$, shape {_shape(trace.x)}.")
    out.append("")
    out.append(
        "Rows are samples: $z = x W + b$, with one column of $W$ per neuron. Seed 003 writes "
        "$z = W x + b$ with one row per neuron: its $W$ is the transpose of the one here."
    )
    out.append("")
    out.append("## Forward pass")
    for t in trace.layers:
        k = t.index
        out.append("")
        out.append(f"### {_title(t)}")
        if t.is_dense:
            bias = f" + {t2(t.bias)}" if t.bias is not None else ""
            out.append(
                f"$$ z_{k} = x_{k} W_{k} + b_{k} = {t2(t.x)} {t2(t.weights)}{bias} = {t2(t.z)} $$"
            )
        if t.activation != "Identity" or not t.is_dense:
            out.append(f"$$ a_{k} = \\operatorname{{{_act(t)}}}(z_{k}) = {t2(t.a)} $$")
    out.append("")
    out.append(f"Prediction: $\\hat{{y}} = {t2(trace.y_hat)}$.")
    if trace.grad_y_hat is not None:
        out.append("")
        out.append("## Loss")
        if trace.loss is not None:
            formula = TEX_LOSSES.get(str(trace.loss_name), "L")
            out.append(f"{trace.loss_name}, with $y = {t2(trace.y)}$:")
            out.append(f"$$ {formula} = {trace.loss:.{decimals}f} $$")
        else:
            out.append(
                f"$$ \\frac{{\\partial L}}{{\\partial \\hat{{y}}}} = {t2(trace.grad_y_hat)} $$"
            )
        out.append("")
        out.append("## Backward pass")
        for t in reversed(trace.layers):
            k = t.index
            out.append("")
            out.append(f"### {_title(t)}, backward")
            out.append(f"$$ \\frac{{\\partial L}}{{\\partial a_{k}}} = {t2(t.grad_a)} $$")
            if t.activation != "Identity" or not t.is_dense:
                tex = TEX_DERIVATIVES.get(t.activation, "f'(z)")
                local = f"J_{k}" if t.is_softmax else f"f'(z_{k})"
                which = f" \\quad (\\text{{{t.local_label}}})" if t.is_softmax else ""
                out.append(f"$$ {local} = {tex} = {t2(t.local)}{which} $$")
                product = (
                    f"J_{k}^T \\frac{{\\partial L}}{{\\partial a_{k}}}"
                    if t.is_softmax
                    else f"\\frac{{\\partial L}}{{\\partial a_{k}}} \\odot f'(z_{k})"
                )
                out.append(
                    f"$$ \\delta_{k} = \\frac{{\\partial L}}{{\\partial z_{k}}} = {product} = "
                    f"{t2(t.delta)} $$"
                )
                if t.fused:
                    out.append("(With the cross-entropy this product is $(\\hat{y} - y)$ / batch.)")
            if t.is_dense:
                penalty = f" + 2 \\cdot {t.l2:g} \\, W_{k}" if t.l2 else ""
                bias = (
                    ""
                    if t.grad_bias is None
                    else f" \\qquad \\frac{{\\partial L}}{{\\partial b_{k}}} = {t2(t.grad_bias)}"
                )
                out.append(
                    f"$$ \\frac{{\\partial L}}{{\\partial W_{k}}} = x_{k}^T \\delta_{k}{penalty} = "
                    f"{t2(t.grad_weights)}{bias} $$"
                )
                out.append(
                    f"$$ \\frac{{\\partial L}}{{\\partial x_{k}}} = \\delta_{k} W_{k}^T = "
                    f"{t2(t.grad_x)} $$"
                )
    if trace.learning_rate is not None:
        lr = trace.learning_rate
        out.append("")
        out.append(f"## Update, learning rate $\\eta = {lr:g}$")
        for t in trace.layers:
            if t.is_dense:
                k = t.index
                out.append(
                    f"$$ W_{k} \\leftarrow W_{k} - \\eta "
                    f"\\frac{{\\partial L}}{{\\partial W_{k}}} = {t2(t.new_weights)}"
                    + ("" if t.new_bias is None else f" \\qquad b_{k} \\leftarrow {t2(t.new_bias)}")
                    + " $$"
                )
        out.append("")
        out.append(
            f"New prediction: $\\hat{{y}} = {t2(trace.new_y_hat)}$"
            + (
                f", new loss {trace.new_loss:.{decimals}f} (was {trace.loss:.{decimals}f})."
                if trace.new_loss is not None
                else "."
            )
        )
    for note in trace.notes:
        out.append("")
        out.append(f"> {note}")
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
.f { color: #555; font-family: monospace; margin-left: 0.5em; } .note { color: #666; }
"""


def _html_array(a: np.ndarray, decimals: int) -> str:
    if np.ndim(a) == 3:
        a = np.asarray(a)[0]
    rows = _grid(_as_2d(a), decimals)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    note = f' <span class="note">{_shape(a)}, abbreviated</span>' if _abbreviated(a) else ""
    return f'<table class="m">{body}</table>{note}'


def _svg(trace: Trace, max_units: int = 10) -> str:
    """The network as circles and lines: blue for positive weights, red for negative,
    thicker for larger; each neuron shows its activation for the first sample."""
    dense = [t for t in trace.layers if t.is_dense]
    values = [trace.x[0]] + [t.a[0] for t in dense]
    shown = [_pick(len(v), max_units) for v in values]
    names = ["input"] + [t.name for t in dense]
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
    arr: Callable[[np.ndarray], str] = lambda a: _html_array(a, decimals)  # noqa: E731
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>lucidnet explain</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>One pass through the network</h1>",
        _svg(trace),
        '<p class="note">Blue lines: positive weights, red: negative; thicker is larger. '
        "Each circle shows its neuron's output for the first sample.</p>",
        '<p class="note">Rows are samples: z = x W + b, with one column of W per neuron '
        "(the seeds' W x + b uses its transpose, one row per neuron).</p>",
        "<h2>Forward pass</h2>",
    ]

    def row(label: str, value: np.ndarray | None, formula: str = "") -> None:
        if value is None:
            return
        f = f'<span class="f">{html.escape(formula)}</span> ' if formula else ""
        out.append(
            f'<div class="row"><span class="lab">{html.escape(label)}</span>{f}{arr(value)}</div>'
        )

    for t in trace.layers:
        out.append(f"<h3>{html.escape(_title(t))}</h3>")
        if t.is_dense:
            row("x", t.x)
            row("W", t.weights)
            row("b", t.bias)
            row("z", t.z, "z = x W + b =")
        if t.activation != "Identity" or not t.is_dense:
            row("a", t.a, f"a = {_act(t)}(z) =")
    row("y_hat", trace.y_hat, "prediction")
    if trace.grad_y_hat is not None:
        out.append("<h2>Loss</h2>")
        if trace.loss is not None:
            out.append(
                f'<p>{html.escape(str(trace.loss_name))}: <span class="f">'
                f"{html.escape(trace.loss_formula)}</span></p>"
            )
            row("y", trace.y, "target")
            out.append(
                f'<div class="row"><span class="lab">L</span>{trace.loss:.{decimals}f}</div>'
            )
        else:
            row("dL/dy_hat", trace.grad_y_hat, "given")
        out.append("<h2>Backward pass</h2>")
        for t in reversed(trace.layers):
            out.append(f"<h3>{html.escape(_title(t))}, backward</h3>")
            row("dL/da", t.grad_a)
            if t.activation != "Identity" or not t.is_dense:
                row(t.local_label, t.local, t.derivative_formula + " =")
                row("delta", t.delta, t.delta_formula + " =")
            if t.is_dense:
                row("dL/dW", t.grad_weights, t.grad_weights_formula + " =")
                row("dL/db", t.grad_bias, "sum of delta =")
            row("dL/dx", t.grad_x, "delta W^T =" if t.is_dense else "")
    if trace.learning_rate is not None:
        out.append(f"<h2>Update, learning rate {trace.learning_rate:g}</h2>")
        for t in trace.layers:
            if t.is_dense:
                out.append(f"<h3>{html.escape(_title(t))}</h3>")
                row("W new", t.new_weights, "W - lr dL/dW =")
                row("b new", t.new_bias, "b - lr dL/db =")
        row("y_hat new", trace.new_y_hat, "prediction after the step")
        if trace.new_loss is not None:
            value = f"{trace.new_loss:.{decimals}f}"
            out.append(f'<div class="row"><span class="lab">L new</span>{value}</div>')
    for note in trace.notes:
        out.append(f'<p class="note">{html.escape(note)}</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"
