"""Profile CSV columns: one table of accepted header names and one reader, for every command.

A profile CSV has ``#`` comment lines (provenance), one header line and numeric rows. Headers are
batterylab's names (``time_s``, ``power_W``, ``current_A``, ``soc``, ``temperature_K``) or the
PyBaMM-style and BDF-style names of :data:`COLUMNS`, mapped onto batterylab's names (and SI units)
as pvlib's readers map source columns (``map_variables=True``). ``batterylab simulate`` and
``batterylab age`` read their profiles with :func:`read_columns`, so they accept the same headers.
Current is **discharge positive** here (a BDF ``Current / A`` column, charge positive, is not
accepted as a profile column: convert it first).
"""

from __future__ import annotations


import numpy as np

from ..errors import InputError, unknown_option

#: Accepted header -> (batterylab name, factor to the batterylab unit).
COLUMNS = {
    "time_s": ("time_s", 1.0),
    "Time [s]": ("time_s", 1.0),
    "Test Time / s": ("time_s", 1.0),
    "power_W": ("power_W", 1.0),
    "Power [W]": ("power_W", 1.0),
    "power_kW": ("power_W", 1000.0),
    "Power [kW]": ("power_W", 1000.0),
    "current_A": ("current_A", 1.0),
    "Current [A]": ("current_A", 1.0),
    "soc": ("soc", 1.0),
    "SOC": ("soc", 1.0),
    "SoC": ("soc", 1.0),
    "State of charge [-]": ("soc", 1.0),
    "temperature_K": ("temperature_K", 1.0),
    "Temperature [K]": ("temperature_K", 1.0),
    "Cell temperature [K]": ("temperature_K", 1.0),
    "Volume-averaged cell temperature [K]": ("temperature_K", 1.0),
}


def read_columns(path, *, name: str = "path") -> tuple[list[str], dict[str, np.ndarray], list[str]]:
    """Read a profile CSV.

    Returns ``(header, columns, comments)``: the header as written, the columns as float64 arrays
    by batterylab name in batterylab units (see :data:`COLUMNS`), and the comment lines. An unknown
    header, a duplicated quantity, a non-numeric or short row, or a file without rows raises
    :class:`batterylab.errors.InputError` naming the file and line (``name``: the argument or
    option that gave the file, named when it is missing, empty or binary).
    """
    from ..checks import text_file

    path = text_file(name, path, what="profile CSV")  # exists, not empty, not binary
    comments, header, rows = [], None, []
    for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s.lstrip("# "))
            continue
        if header is None:
            header = [c.strip() for c in s.split(",")]
            continue
        try:
            rows.append([float(x) for x in s.split(",")])
        except ValueError:
            raise InputError(f"{path}: line {i} is not numeric: {s!r}") from None
        if len(rows[-1]) != len(header):
            raise InputError(f"{path}: line {i} has {len(rows[-1])} values, the header {len(header)}")
    if header is None:
        raise InputError(f"profile file {str(path)!r} is empty (no header line)")
    names = []
    for col in header:
        if col not in COLUMNS:
            raise unknown_option(f"profile column in {path.name}", col, COLUMNS)
        name = COLUMNS[col][0]
        if name in names:
            raise InputError(f"{path}: column {col!r} gives {name} a second time (header {header})")
        names.append(name)
    if not rows:
        raise InputError(f"{path}: no data rows")
    data = np.asarray(rows, dtype=np.float64)
    columns = {name: data[:, j] * COLUMNS[col][1] for j, (name, col) in enumerate(zip(names, header))}
    return header, columns, comments
