"""One table per family (layers, activations, losses, optimizers, initializers, metrics).

Each family has one ``Registry``: the names a user types (``"relu"``, ``"adam"``) and the
classes a model file may name, read by the family's ``get()``, by ``load``, by the
conformance tests and by exporters. ``get`` behaves the same in every family:

- an instance of the family (or, for function families, a callable) is returned as is;
- a name, case-insensitive, gives a new instance made with default arguments (for
  function families, the function);
- None gives the family's default, where it has one (activations: ``Identity``);
- anything else raises ValueError naming the bad value and the valid names.

Adding a class is one ``register`` call beside it.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """The entries of one family, by lower-case name and by class name.

    ``base`` is the family's base class (None for a family of functions).
    """

    def __init__(self, family: str, base: type | None = None, default: Any = None) -> None:
        self.family, self.base, self.default = family, base, default
        self._names: dict[str, Any] = {}  # the names users type -> class or function
        self._classes: dict[str, Any] = {}  # the exact class name -> class (model files)

    def register(self, entry: Any, *aliases: str, name: str | None = None) -> Any:
        """Add ``entry`` under ``name`` (default: its own name in lower case) and
        ``aliases``; return it."""
        primary = name or entry.__name__
        for key in (primary, *aliases):
            key = key.lower()
            if self._names.get(key, entry) is not entry:
                raise ValueError(f"{self.family}: the name {key!r} is taken")
            self._names[key] = entry
        if isinstance(entry, type):
            self._classes[entry.__name__] = entry
        return entry

    def names(self) -> list[str]:
        """Every valid name, sorted."""
        return sorted(self._names)

    def classes(self) -> dict[str, type]:
        """The registered classes by their exact class name (what model files store)."""
        return dict(self._classes)

    def lookup(self, name: str) -> Any:
        """The class or function registered as ``name`` (case-insensitive), or ValueError."""
        if isinstance(name, str) and name.lower() in self._names:
            return self._names[name.lower()]
        raise ValueError(f"unknown {self.family} {name!r}; valid names: {', '.join(self.names())}")

    def get(self, identifier: Any) -> T:
        """An instance (or function) for ``identifier``; see the module docstring."""
        if identifier is None and self.default is not None:
            return self.default()  # type: ignore[no-any-return]
        if self.base is not None and isinstance(identifier, self.base):
            return identifier  # type: ignore[return-value]
        if self.base is None and callable(identifier) and not isinstance(identifier, str):
            return identifier  # type: ignore[return-value]
        entry = self.lookup(identifier)
        return entry() if self.base is not None else entry  # type: ignore[no-any-return]
