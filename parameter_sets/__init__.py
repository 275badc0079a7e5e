"""Data shipped with batterylab: cell parameter sets (BPX JSON), ageing-model coefficients,
materials and profiles. Each file carries its citation, licence, units and validity range.

Folders: ``cells/`` (BPX JSON and sidecars), ``aging/`` (ageing-model JSON), ``materials/``
(phase-change and thermal materials), ``profiles/`` (CSV duty and ambient profiles).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """Absolute path of a shipped data file, e.g. ``path("aging", "schmalstieg2014.json")``."""
    return ROOT.joinpath(*parts)


def listing(folder: str, suffix: str = ".json") -> list[Path]:
    """Shipped files in one folder, sorted by name."""
    from batterylab.errors import InputError

    if not isinstance(folder, str) or not (ROOT / folder).is_dir():
        valid = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
        raise InputError(f"folder must be a folder of parameter_sets, one of {', '.join(valid)}; got {folder!r}")
    if not isinstance(suffix, str):
        raise InputError(f"suffix must be a file suffix such as '.json', got {type(suffix).__name__} {suffix!r}")
    return sorted((ROOT / folder).glob(f"*{suffix}"))
