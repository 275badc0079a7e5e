"""Citations of the models and data batterylab uses, registered where they are used.

>>> from batterylab import citations
>>> citations.register("Schmalstieg2014", "J. Schmalstieg et al., J. Power Sources 257 (2014) 325, doi:10.1016/j.jpowsour.2014.02.012")
>>> print(citations.format())  # doctest: +SKIP
"""

from __future__ import annotations

_REGISTRY: dict[str, str] = {}
_USED: set[str] = set()


def register(key: str, text: str) -> str:
    """Register a citation ``text`` under ``key`` (idempotent) and mark it as used."""
    from .errors import InputError

    for name, value in (("key", key), ("text", text)):
        if not isinstance(value, str) or not value:
            raise InputError(f"{name} must be a non-empty string, got {type(value).__name__} {value!r:.60}")
    _REGISTRY.setdefault(key, text)
    _USED.add(key)
    return key


def used() -> dict[str, str]:
    """The citations used in this process so far, by key."""
    return {k: _REGISTRY[k] for k in sorted(_USED)}


def format() -> str:  # noqa: A001 - mirrors pybamm.print_citations in spirit
    """All citations used so far, one per line."""
    return "\n".join(f"[{k}] {v}" for k, v in used().items())
