"""What every plot shares: matplotlib on demand, the figure and its atomic save, the
Playground colours, and the checks and model walks that several pictures use."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..serialization import _write_atomically

if TYPE_CHECKING:
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from ..layers import Dense, Layer
    from ..model import Sequential

INSTALL_HINT = "pip install 'lucidnet[plot]'"
DPI = 100  # pixels per inch: a figure of 6 x 5 inches is a 600 x 500 PNG

NEGATIVE = "#f59322"  # Playground's orange: negative values, class 0
NEUTRAL = "#e8eaeb"
POSITIVE = "#0877bd"  # Playground's blue: positive values, class 1
CLASS_COLOURS = (
    NEGATIVE,
    POSITIVE,
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_PathLike = str | os.PathLike[str]


def require_matplotlib() -> None:
    """Import matplotlib, or raise ImportError that names the ``plot`` extra."""
    try:
        import matplotlib  # first: a missing (or blocked) package fails here
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"lucidnet's plots need matplotlib, which is not installed: {INSTALL_HINT}"
        ) from err


def _figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    """A figure of ``width x height`` inches on its own Agg canvas (no pyplot state).

    ``layout=None`` leaves the spacing to the caller (``subplots_adjust``): a grid of many
    small images draws several times faster without the constrained layout's solver."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _encoded(fig: Figure, fmt: str = "png") -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt)
    return buffer.getvalue()


def _finish(fig: Figure, path: _PathLike | None) -> Figure:
    """Write ``fig`` to ``path`` (if given) atomically, in the format its suffix names."""
    if path is not None:
        fmt = Path(path).suffix.lstrip(".").lower() or "png"
        supported = fig.canvas.get_supported_filetypes()
        if fmt not in supported:
            raise ValueError(f"cannot save {path}: unknown format {fmt!r}; use .png")
        _write_atomically(Path(path), _encoded(fig, fmt))
    return fig


def _diverging() -> Colormap:
    """Orange (negative) through grey to blue (positive), as in the Playground."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("lucidnet", [NEGATIVE, NEUTRAL, POSITIVE])


def _class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


def _labels(y: Any, n: int, who: str) -> np.ndarray:
    """Class labels ``(n,)`` from labels ``(n,)``/``(n, 1)`` or one-hot rows ``(n, k)``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    y = y.reshape(-1)
    if len(y) != n:
        raise ValueError(f"{who}: x has {n} rows but y has {len(y)} labels")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError(f"{who}: y must be class labels (whole numbers), got fractions")
    if len(y) and y.min() < 0:
        raise ValueError(
            f"{who}: y must be class labels 0, 1, ..., got {int(y.min())} (map -1/+1 labels "
            "to 0/1 first)"
        )
    return y.astype(np.int64)


def _dense_blocks(model: Sequential, who: str) -> list[tuple[Dense, list[Layer]]]:
    """Each Dense layer with the layers after it up to the next Dense (its activation).

    Only Dense layers, activations and Dropout have a place in these pictures; any other
    layer raises rather than being left out of the drawing."""
    from ..activations import Activation
    from ..layers import Dense, Dropout, Standardize

    blocks: list[tuple[Dense, list[Layer]]] = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Standardize) and not blocks:
            continue  # the inputs' preprocessing: the pictures show the network after it
        if not isinstance(layer, (Dense, Activation, Dropout)):
            raise ValueError(
                f"{who}: layer {i} ({layer.name}, {type(layer).__name__}) has no place in this "
                "picture, which draws Dense layers with their activations and Dropout"
            )
        if isinstance(layer, Dense):
            blocks.append((layer, []))
        elif blocks:
            blocks[-1][1].append(layer)
    if not blocks:
        raise ValueError(f"{who}: the model has no Dense layer to draw")
    return blocks


def _block_title(index: int, count: int, following: list[Layer]) -> str:
    kind = "output" if index == count - 1 else f"hidden {index + 1}"
    names = [type(layer).__name__ for layer in following]
    return f"{kind} ({', '.join(names)})" if names else kind
