"""One helper for the packages that import their parts on first use (PEP 562).

>>> __getattr__, __dir__ = lazy_exports(__name__, globals(), {"simulate": ".model"})  # doctest: +SKIP

``exports`` maps a public name to the module that defines it (relative to the package, e.g.
``".model"``), or to ``"module:attribute"`` when the public name differs from the attribute.
A name that maps to ``None`` is a submodule of the package itself.
"""

from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, namespace: dict, exports: dict[str, str | None]):
    """``(__getattr__, __dir__)`` for ``package`` that import ``exports`` on first access."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = exports[name]
        if target is None:
            value = importlib.import_module(f".{name}", package)
        else:
            module, _, attr = target.partition(":")
            value = getattr(importlib.import_module(module, package), attr or name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
