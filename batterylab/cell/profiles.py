"""Shipped duty profiles (``parameter_sets/profiles/*.csv``) and CSV profile readers.

A profile CSV has ``#`` comment lines (provenance), then a header ``time_s,power_W`` or
``time_s,current_A`` (discharge positive) and numeric rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import checks
from ..errors import InputError, unknown_option
from ..io.columns import COLUMNS as _COLUMNS, read_columns

#: Quantity and SI unit of each batterylab column name of a duty profile.
QUANTITY = {"time_s": ("time", "s"), "power_W": ("power", "W"), "current_A": ("current", "A")}

#: Accepted column names of a duty profile -> (quantity, unit, factor to SI): the duty columns of
#: the shared table :data:`batterylab.io.columns.COLUMNS` (BDF-style and PyBaMM-style names too).
COLUMNS = {col: (*QUANTITY[name], factor) for col, (name, factor) in _COLUMNS.items() if name in QUANTITY}


@dataclass
class Profile:
    """A duty profile: ``values`` [``unit``] at ``time_s`` [s], discharge positive."""

    name: str
    time_s: np.ndarray
    values: np.ndarray
    quantity: str  # "power" or "current"
    unit: str  # "W" or "A"
    source: str = ""

    @property
    def power_W(self) -> np.ndarray:
        if self.quantity != "power":
            raise InputError(f"profile {self.name!r} is a {self.quantity} profile [{self.unit}], not power")
        return self.values

    @property
    def current_A(self) -> np.ndarray:
        if self.quantity != "current":
            raise InputError(f"profile {self.name!r} is a {self.quantity} profile [{self.unit}], not current")
        return self.values


def _profiles_dir() -> Path:
    from ..parameter_sets import ROOT

    return ROOT / "profiles"


def _is_duty(path: Path) -> bool:
    """True for a two-column time + power/current CSV (other profiles, e.g. SOC, are skipped)."""
    with open(path) as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith("#"):
                cols = [c.strip() for c in s.split(",")]
                return len(cols) == 2 and cols[0] in COLUMNS and COLUMNS.get(cols[1], ("time",))[0] != "time"
    return False


def _duty_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(_profiles_dir().glob("*.csv")) if _is_duty(p)}


def list_profiles() -> list[str]:
    """Names of the shipped duty profiles (power or current vs time; file stems)."""
    return list(_duty_files())


def read_profile_csv(path, *, name: str | None = None, option: str = "path") -> Profile:
    """Read a two-column profile CSV (time and power or current, see :data:`COLUMNS`);
    ``option`` names the file in error messages (e.g. a command-line option)."""
    header, cols, comments = read_columns(path, name=option)
    path = Path(path)
    if len(header) != 2:
        raise InputError(
            f"{path}: expected a header with 2 columns (time_s and power_W or current_A), got {header!r}"
        )
    for col in header:
        if col not in COLUMNS:
            raise unknown_option(f"profile column in {path.name}", col, COLUMNS)
    qt, qv = COLUMNS[header[0]], COLUMNS[header[1]]
    if qt[0] != "time" or qv[0] == "time":
        raise InputError(f"{path}: first column must be time and second power or current, got {header}")
    t, v = cols.values()  # in header order: time, then power or current
    t = checks.time_array(f"{path.name}: {header[0]}", t)
    v = checks.as_float_array(f"{path.name}: {header[1]}", v)
    return Profile(name or path.stem, t, v, qv[0], qv[1], source=" ".join(comments))


def load_profile(name: str = "WLTC", *, peak_power_W=None, peak_current_A=None, cell=None, peak_c_rate=None) -> Profile:
    """A shipped profile, optionally scaled so that its peak ``|value|`` is given.

    Parameters
    ----------
    name : shipped profile (see :func:`list_profiles`), e.g. ``"WLTC"`` (vehicle power [W]).
    peak_power_W / peak_current_A : scale a power / current profile to this peak ``|value|``.
    cell, peak_c_rate : scale to ``peak_c_rate`` x the cell's nominal capacity (current) or
        x nominal capacity x nominal voltage (power) [1/h].
    """
    given = [k for k, v in (("peak_power_W", peak_power_W), ("peak_current_A", peak_current_A),
                            ("peak_c_rate", peak_c_rate)) if v is not None]
    if cell is not None and peak_c_rate is None:
        raise InputError(f"cell (got {cell!r}) is used with peak_c_rate only, to scale the profile to the cell")
    if len(given) > 1:
        raise InputError(f"give one of peak_power_W, peak_current_A or peak_c_rate (with cell), got {' and '.join(given)}")
    files = {k.lower(): p for k, p in _duty_files().items()}
    if not isinstance(name, str) or name.lower() not in files:
        raise unknown_option("profile name", name, [p.stem for p in files.values()])
    prof = read_profile_csv(files[name.lower()])
    peak = float(np.max(np.abs(prof.values)))
    target = None
    if peak_c_rate is not None:
        if cell is None:
            raise InputError("peak_c_rate needs cell= (a parameter-set name) to know the capacity")
        from .parameters import cell_info

        info = cell_info(cell)
        c = checks.positive("peak_c_rate", peak_c_rate, unit="1/h")
        target = c * info.nominal_capacity_Ah * (info.nominal_voltage_V if prof.quantity == "power" else 1.0)
    elif peak_power_W is not None:
        if prof.quantity != "power":
            raise InputError(f"peak_power_W given but profile {name!r} is a {prof.quantity} profile")
        target = checks.positive("peak_power_W", peak_power_W, unit="W")
    elif peak_current_A is not None:
        if prof.quantity != "current":
            raise InputError(f"peak_current_A given but profile {name!r} is a {prof.quantity} profile")
        target = checks.positive("peak_current_A", peak_current_A, unit="A")
    if target is not None:
        prof.values = prof.values * (target / peak)
    return prof
