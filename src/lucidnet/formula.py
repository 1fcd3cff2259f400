"""``Formula``: one formula in two notations, kept on the class it describes.

Activations carry the formula of ``f`` and of ``f'``, losses the formula of their value;
``explain`` renders whichever notation it needs, so a new class brings its own formulas.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Formula"]


class Formula(NamedTuple):
    """A formula in the renderers' two notations."""

    text: str  # plain text: the terminal and HTML
    tex: str  # LaTeX: Markdown
