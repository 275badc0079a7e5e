"""Readers for cycler files used in second-life grading.

Every reader returns a list of :class:`CellRecord` (a file may hold one cell or several), with
batterylab's conventions applied at the file boundary:

- **current is discharge positive** (PyBaMM's convention). Battery Data Format (BDF) files and
  Arbin exports store charge positive: their current is negated on reading;
- time in seconds, capacity in ampere-hours, temperature in kelvin; voltages that look like
  millivolts and time columns that look like milliseconds are refused
  (:mod:`batterylab.grading.units`).

Supported formats (``read_cell_file`` picks one from the file's header):

=====================  ===================================================================
``bdf``                Battery Data Format CSV: ``Test Time / s``, ``Voltage / V``,
                       ``Current / A`` (charge positive) and optional ``Cycle Count / 1``,
                       ``Step Index / 1``, ``Temperature T1 / degC``, ... (also the
                       machine-readable names ``test_time_second``, ``voltage_volt``, ...)
``arbin``              Arbin CSV export (``Test_Time(s)``, ``Current(A)``, ``Voltage(V)``,
                       ``Cycle_Index``, ``Charge_Capacity(Ah)``, ``Discharge_Capacity(Ah)``);
                       the capacity counters are cumulative across cycles within one file, so
                       the capacity of a cycle is the difference of the counter between the
                       ends of consecutive cycles (a counter that resets is also handled);
                       ``Internal_Resistance(Ohm)`` becomes a per-cycle resistance
``doe-summary``        DOE Battery Data Hub per-cycle summary CSV (``Cycle_Index``,
                       ``Cycle_Label``, ``Q_chg``, ``Q_dis``, ``V_min``, ...): capacity checks
                       are the cycles labelled ``Capacity check``
``capacity-history``   a capacity-vs-cycle CSV (``cell``, ``cycle`` or ``discharge_index``,
                       ``capacity_Ah`` or ``discharge_capacity_Ah``), one or many cells
``pulse-table``        the pulse-test table of Tao et al. (``Idx``, ``Qn``, ``Q``, ``SOC``,
                       ``U1`` ... ``U21``): one record per ``Idx``
``batterylab-h5``      batterylab's own cell-record HDF5 (:func:`write_cell_record`)
``maccor``             Maccor text export (tab separated: ``Rec#``, ``Cyc#``, ``Step``,
                       ``Test (Sec)`` / ``Test (Min)`` / ``TestTime``, ``Amp-hr``, ``Amps``,
                       ``Volts``, ``State``); ``Amp-hr`` restarts at every step, so the
                       capacity of a cycle is the sum of its steps' last readings
                       (:func:`read_maccor_txt`)
``neware-nda``         Neware ``.nda`` / ``.ndax`` binary files, through NewareNDA
                       (:func:`read_neware_nda`)
``biologic-mpr``       BioLogic EC-Lab ``.mpr`` files, through galvani
                       (:func:`read_biologic_mpr`)
``batdata-h5``         battery-data-toolkit HDF5, through ``battdat``
=====================  ===================================================================

Neware, BioLogic and battery-data-toolkit files need optional packages (NewareNDA, galvani,
battery-data-toolkit): ``pip install 'batterylab[readers]'``; without them the reader raises
:class:`CellFileError` saying so. The Maccor reader is plain Python (pandas).

A reader that cannot use a file raises :class:`CellFileError` naming the file and what is wrong.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

#: Record-format tag stored in batterylab cell-record HDF5 files.
RECORD_FORMAT = "batterylab-cell-record/1"

#: Current below this magnitude counts as rest when segmenting a time series [A].
REST_CURRENT_A = 1e-3


class CellFileError(InputError):
    """A cycler file cannot be read: the message names the file and what is wrong."""


@dataclass
class CellRecord:
    """What one cell's files hold, in batterylab conventions.

    Time series (``time_s`` [s], ``current_A`` [A, discharge positive], ``voltage_V`` [V],
    ``temperature_K`` [K], ``cycle_index``, ``step_index``) are ``None`` when absent.
    ``cycles`` holds a per-cycle summary (``cycle``, ``discharge_capacity_Ah`` [Ah],
    ``charge_capacity_Ah`` [Ah], optional ``label``, ``min_voltage_V`` [V],
    ``resistance_ohm`` [ohm]). ``c20_capacity_Ah`` / ``c20_voltage_V`` are a slow (C/20)
    charge curve from empty; ``pulse_voltage_V`` (n_soc x n_samples) and ``pulse_soc`` hold a
    pulse-test table (Tao et al. protocol). ``metadata`` holds what the file itself states
    (e.g. nominal capacity); sidecar files add to it later.
    """

    cell_id: str
    source: str
    format: str
    time_s: np.ndarray | None = None
    current_A: np.ndarray | None = None
    voltage_V: np.ndarray | None = None
    temperature_K: np.ndarray | None = None
    cycle_index: np.ndarray | None = None
    step_index: np.ndarray | None = None
    cycles: dict = field(default_factory=dict)
    c20_capacity_Ah: np.ndarray | None = None
    c20_voltage_V: np.ndarray | None = None
    pulse_voltage_V: np.ndarray | None = None
    pulse_soc: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def has_timeseries(self) -> bool:
        return self.time_s is not None and self.current_A is not None and self.voltage_V is not None


# --------------------------------------------------------------------------------------------
# helpers


def _fail(path, what: str) -> CellFileError:
    return CellFileError(f"cannot read {Path(path).name!r} ({path}): {what}")


def _read_csv(path, **kwargs):
    import pandas as pd

    try:
        return pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except UnicodeDecodeError:
        raise _fail(path, "not a text (CSV) file") from None
    except Exception as exc:  # pandas raises several parser error types
        raise _fail(path, f"not a readable CSV file: {type(exc).__name__}: {exc}") from None


def _numeric(df, column: str, path, *, allow_nan: bool = False) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any() and not allow_nan:
        i = int(np.flatnonzero(bad)[0])
        raise _fail(path, f"column {column!r} has a non-numeric or missing value {df[column].iloc[i]!r} at data row {i + 1}")
    return values


def _require(df, columns, path, fmt: str):
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise _fail(path, f"{fmt} file lacks column(s) {missing}; found {list(df.columns)[:12]}")


def _voltage_units(v: np.ndarray, column: str, path) -> None:
    from .units import check_cell_voltage

    try:
        check_cell_voltage(f"column {column!r}", v)
    except InputError as exc:
        raise _fail(path, str(exc)) from None


def _check_time(t: np.ndarray, path, column: str) -> None:
    if t.size < 2:
        raise _fail(path, f"needs at least 2 samples, got {t.size}")
    steps = np.diff(t)
    if (steps < 0).any():
        i = int(np.flatnonzero(steps < 0)[0])
        raise _fail(path, f"{column} goes backwards at data row {i + 2}: {t[i + 1]} after {t[i]} s")


def per_cycle_from_cumulative(cycle_index: np.ndarray, counter: np.ndarray):
    """Per-cycle increments of a counter that is cumulative across cycles.

    Returns ``(cycles, increment)``. For cycle k, the increment is the counter at the end of
    cycle k minus the counter at the end of cycle k-1 (the file's first value for the first
    cycle). When a cycle starts below the previous end (the counter was reset), the increment
    is the end minus the start of that cycle. Cycles are taken in order of appearance.
    """
    cycle_index = np.asarray(cycle_index)
    counter = np.asarray(counter, dtype=np.float64)
    change = np.flatnonzero(np.diff(cycle_index) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [cycle_index.size]]) - 1
    cycles = cycle_index[starts]
    inc = np.empty(starts.size)
    prev_end = counter[0]
    tol = 1e-9 + 1e-6 * abs(counter).max(initial=0.0)
    for k, (s, e) in enumerate(zip(starts, ends)):
        if counter[s] < prev_end - tol:  # counter reset at the start of this cycle
            inc[k] = counter[e] - counter[s]
        else:
            inc[k] = counter[e] - prev_end
        prev_end = counter[e]
    return cycles, inc


def per_cycle_from_step_counter(cycle_index: np.ndarray, step_index: np.ndarray, counter: np.ndarray,
                                select: np.ndarray | None = None):
    """Per-cycle sums of a counter that restarts from zero at every step.

    Maccor's ``Amp-hr``, Neware's ``Charge_Capacity`` / ``Discharge_Capacity`` and BioLogic's
    ``Q charge/discharge`` (per half cycle) count from zero at the start of each step. A step is
    a run of consecutive rows with the same cycle and step index; its capacity is the counter at
    its last row among the ``select`` rows (all rows when ``select`` is None; a step without
    selected rows adds nothing). Returns ``(cycles, total)``, cycles in order of appearance.
    """
    cyc = np.asarray(cycle_index, dtype=np.float64)
    stp = np.asarray(step_index, dtype=np.float64)
    q = np.asarray(counter, dtype=np.float64)
    sel = np.ones(cyc.size, dtype=bool) if select is None else np.asarray(select, dtype=bool)
    new_cycle = np.concatenate([[False], np.diff(cyc) != 0])
    cycle_id = np.cumsum(new_cycle)
    cycles = cyc[np.concatenate([[0], np.flatnonzero(new_cycle)])]
    run_id = np.cumsum(new_cycle | np.concatenate([[False], np.diff(stp) != 0]))
    total = np.zeros(cycles.size)
    idx = np.flatnonzero(sel)
    if idx.size:
        r = run_id[idx]
        last = idx[np.concatenate([r[1:] != r[:-1], [True]])]
        np.add.at(total, cycle_id[last], q[last])
    return cycles, total


def _fill_cycles_from_steps(rec: CellRecord, path, dis: np.ndarray, chg: np.ndarray, cycles: np.ndarray, *,
                            time_column: str, current_column: str, counter_column: str) -> None:
    """Per-cycle summary from step counters, with the ms-vs-s check against the integrated current."""
    from .units import check_counter_consistency

    cyc = rec.cycle_index
    rec.cycles = {
        "cycle": cycles.astype(np.float64),
        "discharge_capacity_Ah": dis,
        "charge_capacity_Ah": chg,
        "min_voltage_V": np.array([rec.voltage_V[cyc == c].min() for c in cycles]),
    }
    i = np.clip(rec.current_A, 0.0, None)
    integrated = float(np.sum(0.5 * (i[1:] + i[:-1]) * np.diff(rec.time_s))) / 3600.0
    try:
        check_counter_consistency(integrated, float(np.sum(np.clip(dis, 0.0, None))), time_column=time_column,
                                  current_column=current_column, counter_column=counter_column)
    except InputError as exc:
        raise _fail(path, str(exc)) from None
    rec.metadata["capacity_from_counters"] = counter_column


# --------------------------------------------------------------------------------------------
# BDF

_BDF_NAMES = {
    # human-readable BDF names and machine-readable names -> record field
    "Test Time / s": "time_s",
    "test_time_second": "time_s",
    "Voltage / V": "voltage_V",
    "voltage_volt": "voltage_V",
    "Current / A": "current_A",
    "current_ampere": "current_A",
    "Cycle Count / 1": "cycle_index",
    "cycle_count": "cycle_index",
    "Step Index / 1": "step_index",
    "step_index": "step_index",
    "Step Count / 1": "step_index",
    "step_count": "step_index",
    "Temperature T1 / degC": "temperature_C",
    "temperature_t1_celsius": "temperature_C",
    "Ambient Temperature / degC": "ambient_C",
    "ambient_temperature_celsius": "ambient_C",
}
_BDF_REQUIRED = ("time_s", "voltage_V", "current_A")


def read_bdf_csv(path) -> list[CellRecord]:
    """Read a Battery Data Format CSV file (one cell).

    BDF stores current **charge positive**; batterylab's ``current_A`` is discharge positive,
    so the current column is negated here. Temperatures in degC become kelvin.
    """
    df = _read_csv(path)
    cols = {}
    for name in df.columns:
        key = _BDF_NAMES.get(str(name).strip())
        if key and key not in cols:
            cols[key] = name
    missing = [k for k in _BDF_REQUIRED if k not in cols]
    if missing:
        want = {"time_s": "Test Time / s", "voltage_V": "Voltage / V", "current_A": "Current / A"}
        raise _fail(path, f"BDF file lacks column(s) {[want[m] for m in missing]}; found {list(df.columns)[:12]}")
    t = _numeric(df, cols["time_s"], path)
    _check_time(t, path, cols["time_s"])
    _voltage_units(_numeric(df, cols["voltage_V"], path), cols["voltage_V"], path)
    rec = CellRecord(
        cell_id=Path(path).stem,
        source=str(path),
        format="bdf",
        time_s=t,
        voltage_V=_numeric(df, cols["voltage_V"], path),
        current_A=-_numeric(df, cols["current_A"], path),  # BDF charge positive -> discharge positive
    )
    if "cycle_index" in cols:
        rec.cycle_index = _numeric(df, cols["cycle_index"], path)
    if "step_index" in cols:
        rec.step_index = _numeric(df, cols["step_index"], path)
    tc = cols.get("temperature_C") or cols.get("ambient_C")
    if tc is not None:
        rec.temperature_K = _numeric(df, tc, path) + 273.15
    rec.notes.append("BDF current is charge positive: negated to batterylab's discharge-positive convention")
    return [rec]


# --------------------------------------------------------------------------------------------
# Arbin

_ARBIN_REQUIRED = ("Test_Time(s)", "Current(A)", "Voltage(V)", "Cycle_Index")


def read_arbin_csv(path) -> list[CellRecord]:
    """Read an Arbin CSV export (one cell).

    Arbin stores current **charge positive**: negated here to discharge positive. The
    ``Charge_Capacity(Ah)`` and ``Discharge_Capacity(Ah)`` counters are cumulative across the
    cycles of one file; the per-cycle capacities in ``record.cycles`` are their per-cycle
    differences (:func:`per_cycle_from_cumulative`). The cycler's ``Internal_Resistance(Ohm)``
    column, where present, becomes ``cycles["resistance_ohm"]``: per cycle, the mean of the
    readings the cycler made during that cycle (the column holds the latest reading and repeats
    it until the next; zeros before the first reading are ignored; NaN for a cycle without a
    reading).

    Units are checked at this boundary (:mod:`batterylab.grading.units`): a voltage column in
    millivolts, or a time column in milliseconds (the integrated discharge current disagrees
    with the counter by a factor near 1000), raises :class:`CellFileError`.
    """
    from .units import check_counter_consistency

    df = _read_csv(path)
    df.columns = [str(c).strip() for c in df.columns]
    _require(df, _ARBIN_REQUIRED, path, "Arbin")
    t = _numeric(df, "Test_Time(s)", path)
    _check_time(t, path, "Test_Time(s)")
    cyc = _numeric(df, "Cycle_Index", path)
    volt = _numeric(df, "Voltage(V)", path)
    _voltage_units(volt, "Voltage(V)", path)
    rec = CellRecord(
        cell_id=Path(path).stem,
        source=str(path),
        format="arbin",
        time_s=t,
        current_A=-_numeric(df, "Current(A)", path),  # Arbin charge positive -> discharge positive
        voltage_V=volt,
        cycle_index=cyc,
    )
    if "Step_Index" in df.columns:
        rec.step_index = _numeric(df, "Step_Index", path)
    for col in ("Temperature (C)_1", "Aux_Temperature_1(C)", "Temperature(C)"):
        if col in df.columns:
            rec.temperature_K = _numeric(df, col, path) + 273.15
            break
    if "Discharge_Capacity(Ah)" in df.columns and "Charge_Capacity(Ah)" in df.columns:
        dis_counter = _numeric(df, "Discharge_Capacity(Ah)", path)
        cycles, dis = per_cycle_from_cumulative(cyc, dis_counter)
        _, chg = per_cycle_from_cumulative(cyc, _numeric(df, "Charge_Capacity(Ah)", path))
        vmin = np.array([rec.voltage_V[cyc == c].min() for c in cycles])
        rec.cycles = {
            "cycle": cycles.astype(np.float64),
            "discharge_capacity_Ah": dis,
            "charge_capacity_Ah": chg,
            "min_voltage_V": vmin,
        }
        i = np.clip(rec.current_A, 0.0, None)
        integrated = float(np.sum(0.5 * (i[1:] + i[:-1]) * np.diff(t))) / 3600.0
        try:
            check_counter_consistency(integrated, float(np.sum(np.clip(dis, 0.0, None))), time_column="Test_Time(s)",
                                      current_column="Current(A)", counter_column="Discharge_Capacity(Ah)")
        except InputError as exc:
            raise _fail(path, str(exc)) from None
        rec.metadata["capacity_from_counters"] = "Discharge_Capacity(Ah)"
    if "Internal_Resistance(Ohm)" in df.columns and "cycle" in rec.cycles:
        ir = _numeric(df, "Internal_Resistance(Ohm)", path, allow_nan=True)
        rec.cycles["resistance_ohm"] = per_cycle_readings(cyc, ir)
    rec.notes.append("Arbin current is charge positive: negated to discharge positive; capacity counters "
                     "cumulative across cycles: per-cycle capacity is the per-cycle difference")
    return [rec]


def per_cycle_readings(cycle_index: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Per cycle, the mean of the new readings of a column that repeats its latest reading.

    A reading is a sample whose value differs from the sample before it (the first sample of
    the file counts as a reading when it is not zero). Zero and non-finite values are not
    readings. Cycles in order of appearance; NaN for a cycle without a reading.
    """
    cycle_index = np.asarray(cycle_index)
    x = np.asarray(column, dtype=np.float64)
    new = np.ones(x.size, dtype=bool)
    new[1:] = x[1:] != x[:-1]
    new &= np.isfinite(x) & (x > 0)
    change = np.flatnonzero(np.diff(cycle_index) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [cycle_index.size]])
    out = np.full(starts.size, np.nan)
    for k, (s, e) in enumerate(zip(starts, ends)):
        m = new[s:e]
        if m.any():
            out[k] = float(np.mean(x[s:e][m]))
    return out


# --------------------------------------------------------------------------------------------
# Maccor text export

#: Maccor test-time columns and their factor to seconds (``TestTime`` is ``"<d>d HH:MM:SS.s"``).
_MACCOR_TIME = {"Test (Sec)": 1.0, "Test (Min)": 60.0, "Test (Hr)": 3600.0, "TestTime": None, "Test Time": None}
_MACCOR_HEADER_LINES = 40


def _maccor_header(path) -> int | None:
    """Index of the Maccor column-header line (``Rec#  Cyc#  Step ...``) in the first lines, or None."""
    try:
        with open(path, encoding="latin-1") as fh:
            for k, line in enumerate(fh):
                if k >= _MACCOR_HEADER_LINES:
                    break
                fields = [f.strip() for f in line.split("\t")]
                if fields[0] == "Rec#" and "Cyc#" in fields and "State" in fields:
                    return k
    except OSError:
        return None
    return None


def _maccor_duration(values, path, column: str) -> np.ndarray:
    """``"<d>d HH:MM:SS.s"`` strings to seconds."""
    import pandas as pd

    parts = pd.Series(values, dtype=str).str.extract(r"^\s*(\d+)d\s+(\d+):(\d+):(\d+(?:\.\d*)?)\s*$")
    bad = parts.isna().any(axis=1).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(path, f"column {column!r} has {values[i]!r} at data row {i + 1}; expected '<days>d HH:MM:SS.s'")
    d, h, m, sec = (parts[k].astype(float).to_numpy() for k in range(4))
    return ((d * 24.0 + h) * 60.0 + m) * 60.0 + sec


def read_maccor_txt(path) -> list[CellRecord]:
    """Read a Maccor text export (one cell): tab-separated, a few header lines, then ``Rec#``, ...

    Columns used: ``Cyc#``, ``Step``, a test-time column (``Test (Sec)``, ``Test (Min)`` or
    ``TestTime`` as ``<d>d HH:MM:SS.s``), ``Amps`` (or ``mAmps``), ``Volts``, ``State`` (``C``
    charge, ``D`` discharge, ``R`` rest, others such as ``O``, ``S``, ``P``) and ``Amp-hr`` (or
    ``mAmp-hr``). Exports either sign the current (charge positive, discharge negative) or give
    its magnitude with the direction in ``State``; both become discharge-positive amperes here,
    and a signed current that contradicts ``State`` is refused.

    ``Amp-hr`` restarts from zero at every step, so the per-cycle capacities in
    ``record.cycles`` are the sums, over the cycle's discharge (``D``) or charge (``C``) steps,
    of each step's last ``Amp-hr`` (:func:`per_cycle_from_step_counter`). Voltages in
    millivolts, and a time column whose integrated current disagrees with ``Amp-hr`` by a factor
    near 1000, raise :class:`CellFileError` (:mod:`batterylab.grading.units`).
    """
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "file not found")
    k = _maccor_header(path)
    if k is None:
        raise _fail(path, f"not a Maccor text export: no 'Rec#<TAB>Cyc#<TAB>...<TAB>State' header line in the first "
                          f"{_MACCOR_HEADER_LINES} lines")
    df = _read_csv(path, sep="\t", skiprows=k, header=0, encoding="latin-1", index_col=False, dtype=str,
                   skip_blank_lines=True)
    df.columns = [str(c).strip() for c in df.columns]
    tcol = next((c for c in _MACCOR_TIME if c in df.columns), None)
    icol = "Amps" if "Amps" in df.columns else ("mAmps" if "mAmps" in df.columns else None)
    qcol = "Amp-hr" if "Amp-hr" in df.columns else ("mAmp-hr" if "mAmp-hr" in df.columns else None)
    missing = [name for name, col in (("Cyc#", "Cyc#" if "Cyc#" in df.columns else None),
                                      ("Step", "Step" if "Step" in df.columns else None),
                                      ("a test time column " + "/".join(_MACCOR_TIME), tcol),
                                      ("Amps", icol), ("Volts", "Volts" if "Volts" in df.columns else None),
                                      ("State", "State" if "State" in df.columns else None)) if col is None]
    if missing:
        raise _fail(path, f"Maccor export lacks {missing}; found {list(df.columns)[:14]}")
    df = df[df["Cyc#"].notna() & (df["Cyc#"].astype(str).str.strip() != "")].reset_index(drop=True)
    if _MACCOR_TIME[tcol] is None:
        t = _maccor_duration(df[tcol].to_numpy(), path, tcol)
    else:
        t = _numeric(df, tcol, path) * _MACCOR_TIME[tcol]
    _check_time(t, path, tcol)
    volt = _numeric(df, "Volts", path)
    _voltage_units(volt, "Volts", path)
    amps = _numeric(df, icol, path) * (1e-3 if icol == "mAmps" else 1.0)
    state = df["State"].astype(str).str.strip().to_numpy()
    is_c, is_d = state == "C", state == "D"
    if (amps < -REST_CURRENT_A).any():  # signed export: charge positive
        bad = (is_d & (amps > REST_CURRENT_A)) | (is_c & (amps < -REST_CURRENT_A))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _fail(path, f"{icol} = {amps[i]:g} A at data row {i + 1} contradicts State {state[i]!r} (a signed "
                              "export has charge positive, discharge negative)")
        current = -amps
        note = "Maccor current signed charge positive: negated to discharge positive"
    else:  # magnitudes, the direction is in State
        unknown = ~(is_c | is_d) & (np.abs(amps) > REST_CURRENT_A)
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise _fail(path, f"{icol} = {amps[i]:g} A at data row {i + 1} in State {state[i]!r}: the export gives "
                              "current magnitudes and this state does not say charge (C) or discharge (D)")
        current = np.where(is_d, np.abs(amps), -np.abs(amps))
        note = "Maccor current given as magnitude: signed from State (D discharge positive, C charge negative)"
    cyc = _numeric(df, "Cyc#", path)
    step = _numeric(df, "Step", path)
    rec = CellRecord(cell_id=path.stem, source=str(path), format="maccor", time_s=t, current_A=current,
                     voltage_V=volt, cycle_index=cyc, step_index=step)
    for col in ("Temp 1", "Temp1", "Temperature"):
        if col in df.columns:
            rec.temperature_K = _numeric(df, col, path, allow_nan=True) + 273.15
            break
    if qcol is not None:
        q = _numeric(df, qcol, path) * (1e-3 if qcol == "mAmp-hr" else 1.0)
        cycles, dis = per_cycle_from_step_counter(cyc, step, q, is_d)
        _, chg = per_cycle_from_step_counter(cyc, step, q, is_c)
        _fill_cycles_from_steps(rec, path, dis, chg, cycles, time_column=tcol, current_column=icol, counter_column=qcol)
    rec.notes.append(note + f"; {qcol} restarts at every step: per-cycle capacity is the sum of the steps' last readings")
    return [rec]


# --------------------------------------------------------------------------------------------
# DOE Battery Data Hub summary

_DOE_REQUIRED = ("Cycle_Index", "Q_dis", "Q_chg")


def read_doe_summary_csv(path) -> list[CellRecord]:
    """Read a DOE Battery Data Hub per-cycle summary CSV (one cell).

    ``Q_dis`` / ``Q_chg`` are the per-cycle discharge / charge capacities [Ah]; rows labelled
    ``Capacity check`` in ``Cycle_Label`` are the reference-rate capacity tests.
    """
    df = _read_csv(path)
    df.columns = [str(c).strip() for c in df.columns]
    _require(df, _DOE_REQUIRED, path, "DOE summary")
    cycle = _numeric(df, "Cycle_Index", path)
    if (np.diff(cycle) <= 0).any():
        raise _fail(path, "Cycle_Index must increase from row to row")
    label = df["Cycle_Label"].fillna("").astype(str).to_numpy() if "Cycle_Label" in df.columns else np.full(cycle.size, "")
    rec = CellRecord(cell_id=Path(path).stem, source=str(path), format="doe-summary")
    rec.cycles = {
        "cycle": cycle,
        "discharge_capacity_Ah": _numeric(df, "Q_dis", path, allow_nan=True),
        "charge_capacity_Ah": _numeric(df, "Q_chg", path, allow_nan=True),
        "label": label,
    }
    if "V_min" in df.columns:
        rec.cycles["min_voltage_V"] = _numeric(df, "V_min", path, allow_nan=True)
    if "Equivalent_Full_Cycles" in df.columns:
        rec.cycles["equivalent_full_cycles"] = _numeric(df, "Equivalent_Full_Cycles", path, allow_nan=True)
    return [rec]


# --------------------------------------------------------------------------------------------
# capacity history (one or many cells)

_CELL_COLS = ("cell", "cell_id", "cellid")
_CYCLE_COLS = ("cycle", "cycle_number", "discharge_index", "cycle_index")
_CAP_COLS = ("capacity_Ah", "discharge_capacity_Ah")


def _first(df, names):
    for n in names:
        if n in df.columns:
            return n
    return None


def read_capacity_history_csv(path) -> list[CellRecord]:
    """Read a capacity-vs-cycle CSV with one or many cells (a BMS log or cycler summary).

    Columns: a cell column (``cell``), a cycle column (``cycle`` or ``discharge_index``), a
    capacity column (``capacity_Ah`` or ``discharge_capacity_Ah``) [Ah] and optionally
    ``internal_resistance_ohm`` [ohm].
    """
    df = _read_csv(path)
    ccell, ccyc, ccap = _first(df, _CELL_COLS), _first(df, _CYCLE_COLS), _first(df, _CAP_COLS)
    if ccyc is None or ccap is None:
        raise _fail(path, f"capacity history needs a cycle column {list(_CYCLE_COLS)} and a capacity column {list(_CAP_COLS)}")
    cells = df[ccell].astype(str).to_numpy() if ccell else np.full(len(df), Path(path).stem)
    cyc = _numeric(df, ccyc, path)
    cap = _numeric(df, ccap, path)
    res = _numeric(df, "internal_resistance_ohm", path, allow_nan=True) if "internal_resistance_ohm" in df.columns else None
    out = []
    for name in dict.fromkeys(cells):
        m = cells == name
        order = np.argsort(cyc[m], kind="stable")
        rec = CellRecord(cell_id=f"{Path(path).stem}:{name}" if ccell else name, source=str(path), format="capacity-history")
        rec.cycles = {"cycle": cyc[m][order], "discharge_capacity_Ah": cap[m][order]}
        if res is not None:
            rec.cycles["resistance_ohm"] = res[m][order]
        out.append(rec)
    return out


# --------------------------------------------------------------------------------------------
# pulse-test table (Tao et al.)


def read_pulse_table_csv(path) -> list[CellRecord]:
    """Read the pulse-test table of Tao et al. (one record per ``Idx``).

    Columns ``Idx`` (test id), ``Qn`` (nominal capacity [Ah]), ``Q`` (measured capacity [Ah]),
    ``SOC`` [%], ``U1`` ... ``U21`` (voltage samples of the pulse test [V]); ``SOH`` if present
    is kept as the measured reference.
    """
    df = _read_csv(path)
    ucols = [f"U{i}" for i in range(1, 22)]
    _require(df, ["Idx", "Qn", "Q", "SOC", *ucols], path, "pulse table")
    u = np.column_stack([_numeric(df, c, path) for c in ucols])
    _voltage_units(u, "U1..U21", path)
    soc = _numeric(df, "SOC", path)
    qn, q = _numeric(df, "Qn", path), _numeric(df, "Q", path)
    idx = df["Idx"].astype(str).to_numpy()
    fmt = df["format"].astype(str).to_numpy() if "format" in df.columns else np.full(len(df), "")
    out = []
    for name in dict.fromkeys(idx):
        m = np.flatnonzero(idx == name)
        m = m[np.argsort(soc[m], kind="stable")]
        rec = CellRecord(cell_id=f"{fmt[m[0]]}:{name}".lstrip(":"), source=str(path), format="pulse-table")
        rec.pulse_voltage_V = u[m]
        rec.pulse_soc = soc[m] / 100.0
        rec.metadata["nominal_capacity_Ah"] = float(qn[m[0]])
        rec.cycles = {"cycle": np.array([0.0]), "discharge_capacity_Ah": np.array([float(q[m[0]])]),
                      "label": np.array(["Capacity check"])}
        out.append(rec)
    return out


# --------------------------------------------------------------------------------------------
# batterylab HDF5 cell record


def write_cell_record(path, record: CellRecord) -> Path:
    """Write ``record`` as a batterylab cell-record HDF5 file (atomically, with units)."""
    from ..io import Variable, write_results

    v = {}
    if record.has_timeseries:
        n = record.time_s.size
        v["timeseries/time_s"] = Variable(record.time_s, "s", "Test time [s]", ("time_s",))
        v["timeseries/current_A"] = Variable(record.current_A, "A", "Current, discharge positive [A]", ("time_s",))
        v["timeseries/voltage_V"] = Variable(record.voltage_V, "V", "Terminal voltage [V]", ("time_s",))
        for name, unit, long in (("temperature_K", "K", "Temperature [K]"), ("cycle_index", "1", "Cycle index"),
                                 ("step_index", "1", "Step index")):
            arr = getattr(record, name)
            if arr is not None:
                if arr.size != n:
                    raise InputError(f"record {record.cell_id!r}: {name} has {arr.size} samples, time_s has {n}")
                v[f"timeseries/{name}"] = Variable(arr, unit, long, ("time_s",))
    if record.c20_capacity_Ah is not None:
        v["c20/capacity_Ah"] = Variable(record.c20_capacity_Ah, "Ah", "C/20 charge capacity [Ah]", ("sample",))
        v["c20/voltage_V"] = Variable(record.c20_voltage_V, "V", "C/20 charge voltage [V]", ("sample",))
    if record.pulse_voltage_V is not None:
        v["pulse/voltage_V"] = Variable(record.pulse_voltage_V, "V", "Pulse-test voltage samples [V]", ("soc", "sample"))
        v["pulse/soc"] = Variable(record.pulse_soc, "1", "State of charge of each pulse test", ("soc",))
    units = {"discharge_capacity_Ah": "Ah", "charge_capacity_Ah": "Ah", "min_voltage_V": "V", "resistance_ohm": "ohm"}
    for key, arr in record.cycles.items():
        arr = np.asarray(arr)
        v[f"cycles/{key}"] = Variable(arr, units.get(key, "1"), f"Per-cycle {key}", ("cycle",) if key != "cycle" else ("cycle",))
    attrs = {"record_format": RECORD_FORMAT, "cell_id": record.cell_id,
             "metadata_json": json.dumps(record.metadata, sort_keys=True)}
    return write_results(path, v, attrs=attrs)


def read_batterylab_h5(path) -> list[CellRecord]:
    """Read a batterylab cell-record HDF5 file written by :func:`write_cell_record`."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise _fail(path, "file not found") from None
    except OSError as exc:
        raise _fail(path, f"not a readable HDF5 file ({exc})") from None
    batdata = False
    with f:
        fmt = f.attrs.get("record_format", None)
        if isinstance(fmt, bytes):
            fmt = fmt.decode()
        if fmt != RECORD_FORMAT and "raw_data" in f:
            batdata = True
        elif fmt != RECORD_FORMAT:
            raise _fail(path, f"HDF5 file is not a batterylab cell record (record_format={fmt!r}, expected {RECORD_FORMAT!r})")
        if batdata:
            rec = None
        else:
            rec = _read_record_body(f, path)
    if rec is None:
        return read_batdata_h5(path)
    for name in ("time_s", "current_A", "voltage_V", "c20_capacity_Ah", "c20_voltage_V"):
        arr = getattr(rec, name)
        if arr is not None and not np.isfinite(arr).all():
            raise _fail(path, f"{name} contains NaN or infinite values")
    if rec.time_s is not None:
        _check_time(rec.time_s, path, "timeseries/time_s")
    return [rec]


def _read_record_body(f, path) -> CellRecord:
    import h5py

    cell_id = f.attrs.get("cell_id", Path(path).stem)
    cell_id = cell_id.decode() if isinstance(cell_id, bytes) else str(cell_id)
    rec = CellRecord(cell_id=cell_id, source=str(path), format="batterylab-h5")
    try:
        rec.metadata = json.loads(f.attrs.get("metadata_json", "{}"))
    except json.JSONDecodeError as exc:
        raise _fail(path, f"metadata_json attribute is not valid JSON: {exc}") from None

    def get(name):
        ds = f.get(name)
        return None if ds is None else np.asarray(ds[()], dtype=np.float64)

    if "timeseries" in f:
        rec.time_s = get("timeseries/time_s")
        rec.current_A = get("timeseries/current_A")
        rec.voltage_V = get("timeseries/voltage_V")
        rec.temperature_K = get("timeseries/temperature_K")
        rec.cycle_index = get("timeseries/cycle_index")
        rec.step_index = get("timeseries/step_index")
        if rec.time_s is None or rec.current_A is None or rec.voltage_V is None:
            raise _fail(path, "timeseries group needs time_s, current_A and voltage_V")
    if "c20" in f:
        rec.c20_capacity_Ah = get("c20/capacity_Ah")
        rec.c20_voltage_V = get("c20/voltage_V")
    if "pulse" in f:
        rec.pulse_voltage_V = get("pulse/voltage_V")
        rec.pulse_soc = get("pulse/soc")
    if "cycles" in f:
        for key in f["cycles"]:
            ds = f["cycles"][key]
            rec.cycles[key] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else np.asarray(ds[()], dtype=np.float64)
    return rec


# --------------------------------------------------------------------------------------------
# optional third-party readers


def read_biologic_mpr(path) -> list[CellRecord]:
    """Read a BioLogic EC-Lab ``.mpr`` file through galvani (optional: ``pip install 'batterylab[readers]'``).

    Voltage is ``Ecell/V`` where the file has it, else ``Ewe/V``. Current is ``I/mA`` where the
    file has it; galvanostatic (GCPL) files often record none, and then the current of each
    sample is the charge the file records for it (``dq/mA.h``) over its time step. BioLogic's
    current and charges are positive for charge (oxidation at the working electrode): negated
    and scaled to discharge-positive amperes.

    Per-cycle capacities come from the file's own counter ``Q charge/discharge/mA.h``, which
    restarts at every half cycle (positive on charge, negative on discharge): a cycle's discharge
    (charge) capacity is the sum of the last readings of its negative (positive) half cycles.
    Cycles are ``cycle number`` where the file has it, else pairs of half cycles (0-1, 2-3, ...).
    """
    try:
        from galvani import BioLogic
    except ImportError:
        raise _fail(path, "BioLogic .mpr files need the optional package galvani: pip install 'batterylab[readers]'") from None
    if not Path(path).is_file():
        raise _fail(path, "file not found")
    try:
        with open(path, "rb") as fh:  # galvani leaves a file it opened itself open
            mpr = BioLogic.MPRfile(fh)
    except Exception as exc:  # noqa: BLE001 - galvani raises many types on a foreign or damaged file
        raise _fail(path, f"galvani could not parse it as a BioLogic .mpr file: {type(exc).__name__}: {exc}") from None
    data = mpr.data
    names = data.dtype.names or ()

    def col(name):
        return np.asarray(data[name], dtype=np.float64)

    if "time/s" not in names:
        raise _fail(path, f"BioLogic file lacks 'time/s'; has {names}")
    vname = "Ecell/V" if "Ecell/V" in names else ("Ewe/V" if "Ewe/V" in names else None)
    if vname is None:
        raise _fail(path, f"BioLogic file lacks a voltage ('Ecell/V' or 'Ewe/V'); has {names}")
    t = col("time/s")
    _check_time(t, path, "time/s")
    volt = col(vname)
    _voltage_units(volt, vname, path)
    if "I/mA" in names:
        i_mA = col("I/mA")
        iname = "I/mA"
    elif "dq/mA.h" in names:
        dq = col("dq/mA.h")
        dt = np.diff(t)
        i_mA = np.zeros(t.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            i_mA[1:] = np.where(dt > 0, dq[1:] * 3600.0 / dt, 0.0)
        iname = "dq/mA.h"
    else:
        raise _fail(path, f"BioLogic file has no current ('I/mA') and no charge per sample ('dq/mA.h'); has {names}")
    rec = CellRecord(cell_id=Path(path).stem, source=str(path), format="biologic-mpr", time_s=t, voltage_V=volt,
                     current_A=-i_mA / 1000.0)
    rec.notes.append("BioLogic current positive for charge (oxidation at the working electrode): negated to discharge "
                     "positive" + ("; current from dq/mA.h over each time step (the file records no I/mA)"
                                   if iname == "dq/mA.h" else ""))
    if "Q charge/discharge/mA.h" in names and "half cycle" in names:
        half = col("half cycle")
        cyc = col("cycle number") if "cycle number" in names else np.floor(half / 2.0)
        q = col("Q charge/discharge/mA.h") / 1000.0
        cycles, dis = per_cycle_from_step_counter(cyc, half, -q, q < 0)
        _, chg = per_cycle_from_step_counter(cyc, half, q, q > 0)
        rec.cycle_index = cyc
        rec.step_index = half
        _fill_cycles_from_steps(rec, path, dis, chg, cycles, time_column="time/s", current_column=iname,
                                counter_column="Q charge/discharge/mA.h")
    return [rec]


def _neware_test_time(step_time: np.ndarray, step_index: np.ndarray) -> tuple[np.ndarray, str]:
    """NewareNDA's ``Time``: test time in some files, time since the start of the step in others.

    Where ``Time`` goes back only at step changes it is step time: each step is placed after the
    previous one (its first sample at the previous step's last time).
    """
    back = np.flatnonzero(np.diff(step_time) < 0) + 1
    if back.size == 0:
        return step_time, "Time"
    new_step = np.flatnonzero(np.diff(step_index) != 0) + 1
    if not np.isin(back, new_step).all():
        return step_time, "Time"  # goes back inside a step: _check_time reports it
    t = step_time.copy()
    starts = np.concatenate([[0], new_step, [t.size]])
    offset = 0.0
    for s, e in itertools.pairwise(starts):
        if s > 0:
            offset = t[s - 1] - step_time[s]  # previous step's last test time, minus this step's start
        t[s:e] = step_time[s:e] + offset
    return t, "Time (step time, made cumulative)"


def read_neware_nda(path) -> list[CellRecord]:
    """Read a Neware ``.nda`` or ``.ndax`` file through NewareNDA (optional: ``pip install 'batterylab[readers]'``).

    NewareNDA gives ``Current(mA)`` charge positive (negated and scaled to discharge-positive
    amperes here), ``Voltage`` [V], ``Time`` [s] (test time, or step time in some files: then
    made cumulative), ``Cycle`` (NewareNDA's cycle count: a new cycle at each charge that follows
    a discharge), ``Step`` (or ``Step_Index``) and the per-step counters ``Charge_Capacity(mAh)`` and
    ``Discharge_Capacity(mAh)``, which restart at every step: a cycle's capacity is the sum of
    its steps' last readings (:func:`per_cycle_from_step_counter`). ``T1`` [degC], where
    present, becomes ``temperature_K``.
    """
    try:
        import NewareNDA
    except ImportError:
        raise _fail(path, "Neware .nda/.ndax files need the optional package NewareNDA: "
                          "pip install 'batterylab[readers]'") from None
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "file not found")
    if path.suffix.lower() not in (".nda", ".ndax"):
        raise _fail(path, f"Neware files end in .nda or .ndax; got {path.suffix!r}")
    import logging
    import warnings

    try:
        with warnings.catch_warnings():  # NewareNDA's pandas deprecation noise is not the user's concern
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            df = NewareNDA.read(str(path), log_level="ERROR")
    except Exception as exc:  # noqa: BLE001 - NewareNDA raises many types on a foreign or damaged file
        raise _fail(path, f"NewareNDA could not parse it as a Neware file: {type(exc).__name__}: {exc}") from None
    finally:
        logging.getLogger("newarenda").setLevel(logging.WARNING)
    scol = "Step" if "Step" in df.columns else "Step_Index"  # Step counts step changes; Step_Index is the program's
    _require(df, ["Time", "Voltage", "Current(mA)", "Cycle", scol], path, "Neware")
    if len(df) == 0:
        raise _fail(path, "Neware file holds no records")
    step_idx = _numeric(df, scol, path)
    t, tname = _neware_test_time(_numeric(df, "Time", path), step_idx)
    _check_time(t, path, tname)
    volt = _numeric(df, "Voltage", path)
    _voltage_units(volt, "Voltage", path)
    cyc = _numeric(df, "Cycle", path)
    rec = CellRecord(cell_id=path.stem, source=str(path), format="neware-nda", time_s=t,
                     current_A=-_numeric(df, "Current(mA)", path) / 1000.0, voltage_V=volt, cycle_index=cyc,
                     step_index=step_idx)
    if "T1" in df.columns:
        rec.temperature_K = _numeric(df, "T1", path, allow_nan=True) + 273.15
    if "Charge_Capacity(mAh)" in df.columns and "Discharge_Capacity(mAh)" in df.columns:
        cycles, dis = per_cycle_from_step_counter(cyc, step_idx, _numeric(df, "Discharge_Capacity(mAh)", path) / 1000.0)
        _, chg = per_cycle_from_step_counter(cyc, step_idx, _numeric(df, "Charge_Capacity(mAh)", path) / 1000.0)
        _fill_cycles_from_steps(rec, path, dis, chg, cycles, time_column=tname, current_column="Current(mA)",
                                counter_column="Discharge_Capacity(mAh)")
    rec.notes.append("Neware current is charge positive: negated to discharge positive; capacity counters restart at "
                     "every step: per-cycle capacity is the sum of the steps' last readings")
    if tname != "Time":
        rec.notes.append("Neware Time is step time in this file: made cumulative (each step starts at the previous "
                         "step's last time)")
    return [rec]


def read_batdata_h5(path) -> list[CellRecord]:
    """Read a battery-data-toolkit (``batdata``) HDF5 file (optional dependency).

    battdat's ``current`` is charge positive: negated to discharge positive.
    """
    try:
        from battdat.data import BatteryDataset
    except ImportError:
        raise _fail(path, "battery-data-toolkit HDF5 files need the optional package battery-data-toolkit: "
                          "pip install 'batterylab[readers]'") from None
    try:
        ds = BatteryDataset.from_hdf(str(path))
        raw = ds.tables["raw_data"] if hasattr(ds, "tables") else ds.raw_data
    except Exception as exc:
        raise _fail(path, f"battery-data-toolkit could not read it: {exc}") from None
    rec = CellRecord(cell_id=Path(path).stem, source=str(path), format="batdata-h5",
                     time_s=raw["test_time"].to_numpy(float), voltage_V=raw["voltage"].to_numpy(float),
                     current_A=-raw["current"].to_numpy(float))
    if "cycle_number" in raw:
        rec.cycle_index = raw["cycle_number"].to_numpy(float)
    _check_time(rec.time_s, path, "test_time")
    return [rec]


# --------------------------------------------------------------------------------------------
# dispatch

READERS = {
    "bdf": read_bdf_csv,
    "arbin": read_arbin_csv,
    "doe-summary": read_doe_summary_csv,
    "capacity-history": read_capacity_history_csv,
    "pulse-table": read_pulse_table_csv,
    "batterylab-h5": read_batterylab_h5,
    "maccor": read_maccor_txt,
    "neware-nda": read_neware_nda,
    "biologic-mpr": read_biologic_mpr,
    "batdata-h5": read_batdata_h5,
}

#: File suffixes the batch pipeline looks at.
CELL_FILE_SUFFIXES = (".csv", ".h5", ".hdf5", ".mpr", ".nda", ".ndax")


def is_cell_file_suffix(suffix: str) -> bool:
    """A suffix the batch pipeline reads: :data:`CELL_FILE_SUFFIXES` or Maccor's numbered ``.001`` ..."""
    suffix = suffix.lower()
    return suffix in CELL_FILE_SUFFIXES or (len(suffix) == 4 and suffix[1:].isdigit())


def _is_hdf5(path: Path) -> bool:
    """The HDF5 file signature (the reader itself validates the content)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


def sniff_format(path) -> str:
    """Guess a cell file's format from its suffix and header; raise :class:`CellFileError` if unknown."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".mpr":
        return "biologic-mpr"
    if suffix in (".nda", ".ndax"):
        return "neware-nda"
    if suffix in (".h5", ".hdf5"):
        if not _is_hdf5(path):
            raise _fail(path, "not an HDF5 file (no HDF5 signature)")
        return "batterylab-h5"  # read_batterylab_h5 hands battery-data-toolkit files on
    if _maccor_header(path) is not None:  # Maccor exports are Latin-1 text with a preamble
        return "maccor"
    try:
        with open(path, encoding="utf-8-sig") as fh:
            header = fh.readline()
    except UnicodeDecodeError:
        raise _fail(path, "not a text (CSV) file") from None
    cols = {c.strip().strip('"') for c in header.split(",")}
    if cols & {"Test Time / s", "test_time_second"}:
        return "bdf"
    if {"Test_Time(s)", "Current(A)", "Voltage(V)"} <= cols:
        return "arbin"
    if {"Cycle_Index", "Q_dis", "Q_chg"} <= cols:
        return "doe-summary"
    if {"Idx", "Qn", "U1"} <= cols:
        return "pulse-table"
    if cols & set(_CYCLE_COLS) and cols & set(_CAP_COLS):
        return "capacity-history"
    raise _fail(path, f"unrecognised CSV header {sorted(cols)[:10]}; supported formats: {', '.join(sorted(READERS))}")


def read_cell_file(path, format: str | None = None) -> list[CellRecord]:  # noqa: A002
    """Read any supported cell file; ``format`` overrides the guess (one of :data:`READERS`)."""
    from ..checks import named, path_like
    from ..errors import unknown_option

    path_like("path", path)  # a missing file is the reader's CellFileError (a batch records it as an error row)
    if format is not None and (not isinstance(format, str) or format not in READERS):
        raise unknown_option("cell file format", format, READERS)
    with named("path"):
        if format is None:
            format = sniff_format(path)  # noqa: A001
        if format not in READERS:
            raise unknown_option("cell file format", format, READERS)
        return READERS[format](path)
