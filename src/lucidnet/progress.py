"""Progress output of ``fit``: a live bar, a line per epoch, or nothing.

- ``verbose=1``: a tqdm bar per epoch on a terminal, showing the running loss and metrics
  (cut at the terminal's width); when the epoch ends, the bar gives way to the epoch's
  line (below), wrapped at the terminal's width, so that every result, the validation
  metrics included, shows on a terminal of any width (80 columns too). When the output is
  not a terminal (a log file, CI, a notebook capture), it falls back to one line per
  epoch, so that logs hold no bar noise.
- ``verbose=2``: one line per epoch:
  ``Epoch 3/10 - 0.21s - loss: 0.4123 - accuracy: 0.8750 - val_loss: 0.4410 - ...``
- ``verbose=0``: silent.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

from .callbacks import Callback, Logs

__all__ = ["ProgressLogger"]

_REFRESH_SECONDS = 0.1  # how often the bar's numbers are redrawn


def _parts(logs: Logs, skip: tuple[str, ...] = ()) -> list[str]:
    return [f"{k}: {v:.4g}" for k, v in logs.items() if k not in skip]


def _format(logs: Logs, skip: tuple[str, ...] = ()) -> str:
    return " - ".join(_parts(logs, skip))


def _wrap(parts: list[str], width: int, indent: str = "    ") -> list[str]:
    """``parts`` joined by `` - `` into lines shorter than ``width`` characters (the last
    column stays free), breaking only between parts; continuation lines are indented."""
    lines: list[str] = []
    line = ""
    for part in parts:
        joined = f"{line} - {part}" if line else part
        if line and len(joined) >= width:
            lines.append(line)
            joined = indent + part
        line = joined
    return [*lines, line] if line else lines


def _width(stream: TextIO) -> int:
    """The terminal's width in columns for ``stream``; 80 when it cannot be read."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):
        return 80


class ProgressLogger(Callback):
    """The progress callback that ``fit`` adds for ``verbose`` 1 or 2."""

    def __init__(self, verbose: int = 1, stream: TextIO | None = None) -> None:
        super().__init__()
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.stream = stream if stream is not None else sys.stdout
        is_terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.verbose = 2 if verbose == 1 and not is_terminal else verbose
        self._bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Start the epoch's clock, and its bar for ``verbose=1``."""
        self._start = self._last = time.perf_counter()
        if self.verbose == 1:
            self._bar = tqdm(
                total=self.params.get("steps"),
                desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                file=self.stream,
                leave=False,  # the epoch's line replaces it
                dynamic_ncols=True,
                unit="batch",
            )

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Advance the bar; redraw the numbers at most every 0.1 s."""
        if self._bar is None:
            return
        now = time.perf_counter()
        if logs and now - self._last >= _REFRESH_SECONDS:
            self._bar.set_postfix_str(_format(logs), refresh=False)
            self._last = now
        self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Print the epoch's line (replacing the bar on a terminal, wrapped to its width)."""
        logs = logs or {}
        if self.verbose == 0:
            return
        seconds = time.perf_counter() - self._start
        parts = [f"Epoch {epoch + 1}/{self.params.get('epochs')}", f"{seconds:.2f}s"]
        parts += _parts(logs, skip=("lr",))
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            lines = _wrap(parts, _width(self.stream))
        else:
            lines = [" - ".join(parts)]
        print("\n".join(lines), file=self.stream, flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Close a bar left open by an early stop."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
