"""The sections of a trace's convolutions, poolings, ``Flatten`` and ``BatchNorm``.

``explain_render`` builds the sections of Dense layers (every number shown); the layers of
a convolutional network get theirs here, in the same ``Section``/``Row`` form, so the
three renderers format them unchanged: forward, the formula and the shapes, then the
worked position (``explain_windows``) term by term; backward, the norms and shapes of the
gradients and the gradient at the worked position; the update, the worked filter's new
kernel (its first input channel) and the other parameters' new values.
"""

from __future__ import annotations

import numpy as np

from .explain import LayerTrace, Trace
from .explain_render import Row, Section, _d, _shape, _title
from .explain_windows import ConvPosition, NormPosition, PoolPosition

__all__ = ["MAX_CHANNELS", "backward", "forward", "shapes", "update"]

MAX_CHANNELS = 3  # a worked convolution shows window, kernel and products of this many

IMAGES = (
    "Images are channels last: (batch, height, width, channels). A convolution, pooling\n"
    "or BatchNorm shows its shapes and one output number worked out term by term (of the\n"
    "first sample); Dense layers show every number."
)

FORMULAS = {  # the forward formula of each kind of layer, in plain text
    "Conv2D": "z[n, i, j, f] = b[f] + sum over a, b, c of xp[n, i*sh + a, j*sw + b, c] "
    "W[a, b, c, f]   (xp: x zero-padded)",
    "MaxPool2D": "z[n, i, j, c] = max over a, b of x[n, i*sh + a, j*sw + b, c]",
    "AvgPool2D": "z[n, i, j, c] = mean over a, b of x[n, i*sh + a, j*sw + b, c]",
    "GlobalAveragePooling2D": "z[n, c] = mean over i, j of x[n, i, j, c]",
    "Flatten": "z[n, (i*W + j)*C + c] = x[n, i, j, c]   (pixel by pixel, channels together)",
    "Reshape": "z[n] = x[n] in the target shape   (C order: the last axis varies fastest)",
    "BatchNorm": "z = gamma (x - running_mean) / sqrt(running_var + eps) + beta",
}


def shapes(trace: Trace) -> Section:
    """Every layer of the model with its input and output shapes and parameter count."""
    table = [["layer", "type", "input", "output", "parameters"]]
    for s in trace.shapes:
        output = "?" if s.output is None else str(s.output)
        table.append([s.name, s.kind, str(s.input), output, f"{s.parameters:,}"])
    return Section("Shapes, layer by layer", level=2, table=table)


def _idx(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, index)) + "]"


def _tex_idx(index: tuple[int, ...]) -> str:
    return "[" + ",".join(map(str, index)) + "]"


def _span(r: range) -> str:
    return f"{r.start}..{r.stop - 1}"


def _own(value: float, decimals: int) -> str:
    return f"the layer's own output: {value:.{decimals}f}"


def _shows_activation(t: LayerTrace) -> bool:
    return t.activation != "Identity" or t.kind == "Activation"


def forward(t: LayerTrace, decimals: int) -> Section:
    """The formula and shapes, the worked position, and the vectors (2-D arrays) whole."""
    act = _shows_activation(t) and t.kind != "Activation"
    caption = FORMULAS.get(t.kind, f"a = {t.activation.lower()}(z)")
    caption += f"\nx {_shape(t.x)} -> z {_shape(t.z)}" + (f" -> a {_shape(t.a)}" if act else "")
    rows: list[Row] = []
    w = t.worked
    if isinstance(w, ConvPosition):
        caption += "\n" + _conv_caption(w)
        rows += _conv_rows(t, w, decimals)
    elif isinstance(w, PoolPosition):
        caption += "\n" + _pool_caption(w)
        rows += _pool_rows(t, w, decimals)
    elif isinstance(w, NormPosition):
        rows += _norm_rows(t, w, decimals)
    k = t.index
    if t.kind == "Activation":  # an activation alone, on images: shapes only
        return Section(_title(t), [], caption=caption)
    if np.ndim(t.x) <= 2:  # vectors: every number, as for Dense
        rows.insert(0, Row("x", t.x, tex=f"x_{k}"))
    if np.ndim(t.z) <= 2:
        rows.append(Row("z", t.z, tex=f"z_{k}"))
    if act and w is not None and np.ndim(t.a) > 2:
        f = t.activation.lower()
        at = _idx(w.index)
        tex = rf"a_{k}{_tex_idx(w.index)} = \operatorname{{{f}}}(z_{k}{_tex_idx(w.index)})"
        rows.append(Row(f"a{at}", float(t.a[w.index]), f"{f}(z{at})", tex=tex))
    elif act and np.ndim(t.a) <= 2:
        f = t.activation.lower()
        rows.append(Row("a", t.a, f"{f}(z)", tex=rf"a_{k} = \operatorname{{{f}}}(z_{k})"))
    return Section(_title(t), rows, caption=caption, label_width=_width(rows))


def _width(rows: list[Row]) -> int:
    return max([9, *(len(row.label) + 1 for row in rows)])


def _conv_caption(w: ConvPosition) -> str:
    kh, kw, c = w.x.shape
    pad = " (outside the image: zeros of the padding)" if w.padding.any() else ""
    return (
        f"Worked: z{_idx(w.index)}, filter {w.channel} at output row {w.row}, column "
        f"{w.col}: its {kh}x{kw} window over input rows {_span(w.rows)}, columns "
        f"{_span(w.cols)}{pad}, {c} channel(s)"
    )


def _conv_rows(t: LayerTrace, w: ConvPosition, decimals: int) -> list[Row]:
    k, f = t.index, w.channel
    kh, kw, channels = w.x.shape
    r, s = _span(w.rows), _span(w.cols)
    rows = []
    for c in range(min(channels, MAX_CHANNELS)):
        tex_x = rf"x_{k}[{r},\,{s},\,{c}]"
        rows.append(Row(f"x[{r}, {s}, {c}]", w.x[:, :, c], tex=tex_x))
        rows.append(Row(f"W[:, :, {c}, {f}]", w.kernel[:, :, c], tex=rf"W_{k}[:,:,{c},{f}]"))
        note = f"sum {w.channel_sums[c]:.{decimals}f}"
        tex = rf"x_{k}[{r},\,{s},\,{c}] \odot W_{k}[:,:,{c},{f}]"
        rows.append(Row("x * W", w.products[:, :, c], tex=tex, note=note))
    if channels > 1:
        more = f"channels {MAX_CHANNELS}..{channels - 1} appear only here" if channels > 3 else ""
        rows.append(
            Row(
                "sums per channel",
                w.channel_sums,
                "sum of x * W over the window",
                tex=r"s_c = \sum_{a,b} x_{a,b,c} W_{a,b,c}",
                note=more,
            )
        )
    n = w.products.size
    sum_tex = rf"\sum_{{a,b,c}} x_{k}[{w.rows.start}+a,\,{w.cols.start}+b,\,c]\, W_{k}[a,b,c,{f}]"
    rows.append(Row("sum", w.total, f"sum of the {kh}x{kw}x{channels} = {n} products", tex=sum_tex))
    rows.append(Row(f"b[{f}]", w.bias, tex=f"b_{k}[{f}]"))
    z_tex = rf"z_{k}{_tex_idx(w.index)} = \sum x W" + (
        rf" + b_{k}[{f}]" if w.bias is not None else ""
    )
    formula = "sum + b" if w.bias is not None else "sum"
    rows.append(
        Row(f"z{_idx(w.index)}", w.value, formula, tex=z_tex, note=_own(w.output, decimals))
    )
    return rows


def _pool_caption(w: PoolPosition) -> str:
    if w.row is None:
        return f"Worked: z{_idx(w.index)}, the mean of channel {w.channel} over the whole map"
    ph, pw = w.window.shape
    what = "maximum" if w.kind == "max" else "mean"
    return (
        f"Worked: z{_idx(w.index)}, the {what} of the {ph}x{pw} window over input rows "
        f"{_span(w.rows)}, columns {_span(w.cols)} of channel {w.channel}"
    )


def _window_label(w: PoolPosition) -> str:
    if w.row is None:
        return f"x[:, :, {w.channel}]"
    return f"x[{_span(w.rows)}, {_span(w.cols)}, {w.channel}]"


def _pool_rows(t: LayerTrace, w: PoolPosition, decimals: int) -> list[Row]:
    k, at, tat = t.index, _idx(w.index), _tex_idx(w.index)
    label = _window_label(w)
    rows = [Row(label, w.window, tex=f"x_{k}" + label[1:])]
    own = _own(w.output, decimals)
    if w.kind == "max":
        a, b = w.argmax  # type: ignore[misc]
        where = f"at input row {w.rows[a]}, column {w.cols[b]}"
        if w.ties > 1:
            where += f"; {w.ties} values tie: the first in row-major order is the one"
        tex = rf"z_{k}{tat} = \max {_tex_window(k, w)}"
        rows.append(Row(f"z{at}", w.value, "max of the window", tex=tex, note=f"{where}; {own}"))
        return rows
    n = w.window.size
    tex = rf"z_{k}{tat} = \frac{{1}}{{{n}}} \sum {_tex_window(k, w)}"
    what = "sum of the window" if w.row is not None else "sum of the map"
    rows.append(Row("sum", float(w.window.sum()), what, tex=rf"\sum {_tex_window(k, w)}"))
    rows.append(Row(f"z{at}", w.value, f"sum / {n}", tex=tex, note=own))
    return rows


def _tex_window(k: int, w: PoolPosition) -> str:
    if w.row is None:
        return rf"x_{k}[:,:,{w.channel}]"
    return rf"x_{k}[{_span(w.rows)},\,{_span(w.cols)},\,{w.channel}]"


def _norm_rows(t: LayerTrace, w: NormPosition, decimals: int) -> list[Row]:
    k, c, at, tat = t.index, w.channel, _idx(w.index), _tex_idx(w.index)
    x_hat_tex = rf"\hat{{x}} = \frac{{x - \mu_{{{c}}}}}{{\sqrt{{\sigma^2_{{{c}}} + \epsilon}}}}"
    z_tex = rf"z_{k}{tat} = \gamma_{{{c}}} \hat{{x}} + \beta_{{{c}}}"
    return [
        Row(f"x{at}", w.x, tex=f"x_{k}{tat}"),
        Row(f"running_mean[{c}]", w.mean, tex=rf"\mu_{{{c}}}"),
        Row(f"running_var[{c}]", w.var, tex=rf"\sigma^2_{{{c}}}"),
        Row("x_hat", w.x_hat, "(x - mean) / sqrt(var + eps)", tex=x_hat_tex, note=f"eps {w.eps:g}"),
        Row(f"gamma[{c}]", w.gamma, tex=rf"\gamma_{{{c}}}"),
        Row(f"beta[{c}]", w.beta, tex=rf"\beta_{{{c}}}"),
        Row(f"z{at}", w.value, "gamma x_hat + beta", tex=z_tex, note=_own(w.output, decimals)),
    ]


SYMBOLS = {"weights": ("W", "W"), "bias": ("b", "b"), "gamma": ("gamma", r"\gamma")}
SYMBOLS["beta"] = ("beta", r"\beta")


def _norm_row(label: str, tex_of: str, value: np.ndarray | None, note: str = "") -> Row:
    """``||dL/d(label)||`` with the array's shape (None stays None: the row is dropped)."""
    norm = None if value is None else float(np.linalg.norm(np.asarray(value, np.float64)))
    shape = "" if value is None else "shape " + " x ".join(map(str, np.shape(value)))
    return Row(
        f"||dL/d{label}||",
        norm,
        tex=rf"\lVert {_d(tex_of)} \rVert",
        note=shape + (f"; {note}" if note else ""),
    )


def backward(t: LayerTrace) -> Section:
    """Norms and shapes of the gradients; the gradient at the worked position."""
    k = t.index
    rows = []
    if _shows_activation(t) and t.kind != "Activation":
        rows.append(_norm_row("a", f"a_{k}", t.grad_a))
    rows.append(_norm_row("z" if t.kind != "Activation" else "a", f"z_{k}", t.delta))
    for name, grad in t.grad_params.items():
        penalties = [f"+ 2 l2 W, l2 = {t.l2:g}"] if t.l2 else []
        penalties += [f"+ l1 sign(W), l1 = {t.l1:g}"] if t.l1 else []
        note = "; ".join(penalties) if name == "weights" else ""
        text, tex = SYMBOLS.get(name, (name, rf"\mathrm{{{name}}}"))
        rows.append(_norm_row(text, f"{tex}_{k}", grad, note))
    rows.append(_norm_row("x", f"x_{k}", t.grad_x))
    w = t.worked
    if w is not None and w.grad_output is not None:
        at, tat = _idx(w.index), _tex_idx(w.index)
        rows.append(Row(f"dL/dz{at}", w.grad_output, tex=_d(f"z_{k}{tat}")))
    if isinstance(w, ConvPosition):
        f = w.channel
        grad_w = t.grad_params["weights"][:, :, 0, f]
        dw_tex = _d(rf"W_{k}[:,:,0,{f}]")
        note = "the sum over every output position of dL/dz times its window"
        rows.append(Row(f"dL/dW[:, :, 0, {f}]", grad_w, tex=dw_tex, note=note))
        if "bias" in t.grad_params:
            rows.append(
                Row(
                    f"dL/db[{f}]",
                    float(t.grad_params["bias"][f]),
                    f"sum of dL/dz[..., {f}]",
                    tex=_d(f"b_{k}[{f}]"),
                )
            )
    elif isinstance(w, PoolPosition) and w.grad_window is not None:
        if w.kind == "max":
            formula = "dL/dz to the maximum, 0 elsewhere"
        else:
            formula = f"dL/dz / {w.window.size} to each"
        label = "dL/d" + _window_label(w)
        rows.append(Row(label, w.grad_window, formula, tex=_d(_tex_window(k, w))))
    elif isinstance(w, NormPosition) and w.grad_input is not None:
        formula = "dL/dz gamma / sqrt(running_var + eps)"
        at, tat = _idx(w.index), _tex_idx(w.index)
        rows.append(Row(f"dL/dx{at}", w.grad_input, formula, tex=_d(f"x_{k}{tat}")))
    return Section(f"{_title(t)}, backward", rows, label_width=_width(rows))


def update(t: LayerTrace) -> Section:
    """The new parameters: a convolution's worked filter (first input channel) and bias,
    a BatchNorm's gamma and beta."""
    k, rows = t.index, []
    for name, value in t.new_params.items():
        if value.ndim == 4 and isinstance(t.worked, ConvPosition):
            f = t.worked.channel
            w_tex = f"W_{k}[:,:,0,{f}]"
            tex = rf"{w_tex} \leftarrow {w_tex} - \eta {_d(w_tex)}"
            rows.append(Row(f"W[:, :, 0, {f}] new", value[:, :, 0, f], tex=tex))
        elif value.ndim <= 2:
            text, tex = SYMBOLS.get(name, (name, rf"\mathrm{{{name}}}"))
            sym = f"{tex}_{k}"
            rows.append(Row(f"{text} new", value, tex=rf"{sym} \leftarrow {sym} - \eta {_d(sym)}"))
    return Section(_title(t), rows, label_width=_width(rows))
