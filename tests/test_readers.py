"""Maccor, Neware and BioLogic readers: conventions, counters and units at the file boundary.

Two kinds of test:

- on small files written here in each format's documented layout (Maccor text) or on the
  tables the third-party parsers return (NewareNDA, galvani), to pin batterylab's conventions
  (discharge-positive amperes, seconds, volts, per-cycle capacities from the step counters) and
  the units checks (mV, mAh, ms);
- on real cycler files in ``tests/data/grading`` (provenance in its README), where every number
  checked is recomputed here from the raw table (csv module, the parser library, numpy), not
  taken from the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from batterylab.grading.readers import (
    CellFileError,
    is_cell_file_suffix,
    per_cycle_from_step_counter,
    read_biologic_mpr,
    read_cell_file,
    read_maccor_txt,
    read_neware_nda,
    sniff_format,
)

DATA = Path(__file__).parent / "data" / "grading"
MACCOR_REAL = DATA / "maccor_beep_PreDiag_000229_cycle0.034"
NEWARE_REAL = DATA / "neware_NewareNDA_issue72_TestFile.nda"
BIOLOGIC_REAL = DATA / "biologic_yadg_gcpl_pr_182_1.mpr"


def _real(path: Path) -> Path:
    assert path.is_file(), f"real cycler file {path.name} is missing from tests/data/grading (see its README)"
    return path


# --------------------------------------------------------------------------------------------
# the step-counter helper


def test_per_cycle_from_step_counter_sums_the_last_reading_of_each_step():
    cyc = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2])
    step = np.array([1, 1, 2, 2, 3, 4, 4, 5, 5])
    q = np.array([0.1, 0.5, 0.2, 0.7, 0.0, 0.3, 0.9, 0.1, 0.4])
    sel = np.array([1, 1, 1, 1, 0, 1, 1, 0, 0], dtype=bool)
    cycles, total = per_cycle_from_step_counter(cyc, step, q, sel)
    assert cycles.tolist() == [1.0, 2.0]
    assert total == pytest.approx([0.5 + 0.7, 0.9])
    _, every = per_cycle_from_step_counter(cyc, step, q)
    assert every == pytest.approx([0.5 + 0.7 + 0.0, 0.9 + 0.4])


# --------------------------------------------------------------------------------------------
# Maccor text export, written here in the layout of the Maccor exports in beep's tests

_MACCOR_HEAD = ("Today's Date 09/01/2020  Date of Test:\t12/16/2019\t Filename:\tC:\\x.034 Procedure: P.000\t"
                "Comment/Barcode: 1\r\n")


def _maccor_rows(signed=True, amp_scale=1.0, volt_scale=1.0, time_scale=1.0):
    """Rest 60 s, charge 1 A for 1 h (step 2), rest, discharge 2 A for 0.5 h (step 4), then cycle 1."""
    rows = []
    t = 0.0
    rec = 1

    def add(cyc, step, state, amps, volts, dur, n):
        nonlocal t, rec
        for k in range(n + 1):
            ts = dur * k / n
            q = abs(amps) * ts / 3600.0
            a = amps if signed else abs(amps)
            rows.append([rec, cyc, step, (t + ts) * time_scale, ts * time_scale, q * amp_scale, 0.0, a * amp_scale,
                         (volts + 0.1 * k / n) * volt_scale, state, 1])
            rec += 1
        t += dur

    add(0, 1, "R", 0.0, 3.5, 60.0, 2)
    add(0, 2, "C", 1.0, 3.6, 3600.0, 60)
    add(0, 3, "R", 0.0, 4.1, 60.0, 2)
    add(0, 4, "D", -2.0, 3.6, 1800.0, 30)
    add(1, 5, "C", 0.5, 3.3, 3600.0, 30)
    return rows


def _write_maccor(path, rows, *, time_col="Test (Sec)", amp_col="Amps", cap_col="Amp-hr"):
    header = ["Rec#", "Cyc#", "Step", time_col, "Step (Sec)", cap_col, "Watt-hr", amp_col, "Volts", "State", "ES",
              "DPt Time"]
    with open(path, "w", newline="") as fh:
        fh.write(_MACCOR_HEAD)
        fh.write("\t".join(header) + "\r\n")
        fh.writelines("\t".join(str(x) for x in r) + "\t12/16/2019 14:03:25\r\n" for r in rows)
    return path


@pytest.mark.parametrize("signed", [True, False])
def test_maccor_signs_time_and_step_counters(tmp_path, signed):
    p = _write_maccor(tmp_path / "cell.034", _maccor_rows(signed=signed))
    assert sniff_format(p) == "maccor"
    (rec,) = read_cell_file(p)
    assert rec.format == "maccor"
    assert rec.time_s[-1] == pytest.approx(60 + 3600 + 60 + 1800 + 3600)
    state = np.array([r[9] for r in _maccor_rows()])
    assert (rec.current_A[state == "D"] == pytest.approx(2.0))  # discharge positive
    assert (rec.current_A[state == "C"] < 0).all()
    assert rec.cycles["cycle"].tolist() == [0.0, 1.0]
    assert rec.cycles["discharge_capacity_Ah"] == pytest.approx([1.0, 0.0])
    assert rec.cycles["charge_capacity_Ah"] == pytest.approx([1.0, 0.5])


def test_maccor_milli_units_and_day_clock_time(tmp_path):
    rows = _maccor_rows(amp_scale=1000.0)
    for r in rows:  # TestTime as "<d>d HH:MM:SS.ss"
        s = r[3]
        r[3] = f"  {int(s // 86400)}d {int(s % 86400 // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:05.2f}"
    p = _write_maccor(tmp_path / "cell.txt", rows, time_col="TestTime", amp_col="mAmps", cap_col="mAmp-hr")
    (rec,) = read_maccor_txt(p)
    assert rec.time_s[-1] == pytest.approx(9120.0)
    assert rec.cycles["discharge_capacity_Ah"] == pytest.approx([1.0, 0.0])
    assert rec.current_A.max() == pytest.approx(2.0)


def test_maccor_latin1_preamble_is_sniffed(tmp_path):
    p = _write_maccor(tmp_path / "cell.001", _maccor_rows())
    raw = p.read_bytes()
    p.write_bytes(raw.replace(b"Comment/Barcode: 1", "Comment/Barcode: 25 \u00b0C".encode("latin-1"), 1))
    assert sniff_format(p) == "maccor"
    assert read_cell_file(p)[0].cycles["discharge_capacity_Ah"] == pytest.approx([1.0, 0.0])


def test_maccor_refuses_millivolts(tmp_path):
    p = _write_maccor(tmp_path / "mv.034", _maccor_rows(volt_scale=1000.0))
    with pytest.raises(CellFileError, match="millivolts"):
        read_maccor_txt(p)


def test_maccor_refuses_milliseconds_labelled_seconds(tmp_path):
    p = _write_maccor(tmp_path / "ms.034", _maccor_rows(time_scale=1000.0))
    with pytest.raises(CellFileError, match="milliseconds"):
        read_maccor_txt(p)


def test_maccor_refuses_mah_labelled_ah(tmp_path):
    rows = _maccor_rows()
    for r in rows:
        r[5] *= 1000.0  # Amp-hr column holding mAh
    p = _write_maccor(tmp_path / "mah.034", rows)
    with pytest.raises(CellFileError, match="mAh"):
        read_maccor_txt(p)


def test_maccor_signed_current_contradicting_state(tmp_path):
    rows = _maccor_rows()
    rows[70][7] = 2.0  # a discharge row (step 4) with a charge-positive current
    p = _write_maccor(tmp_path / "bad.034", rows)
    with pytest.raises(CellFileError, match="contradicts State 'D'"):
        read_maccor_txt(p)


def test_maccor_not_a_maccor_file(tmp_path):
    p = tmp_path / "x.034"
    p.write_text("a\tb\tc\n1\t2\t3\n")
    with pytest.raises(CellFileError, match=r"x\.034.*not a Maccor text export"):
        read_maccor_txt(p)
    assert is_cell_file_suffix(".034") and is_cell_file_suffix(".NDAX") and not is_cell_file_suffix(".txt")


# --------------------------------------------------------------------------------------------
# Neware through NewareNDA; BioLogic through galvani (tables as those libraries return them)


def _fake_module(monkeypatch, name, **attrs):
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    monkeypatch.setitem(sys.modules, name, mod)
    return mod


def _neware_table(time_scale=1.0, step_time=True):
    steps = [(1, 1, "Rest", 0.0, 60.0), (1, 2, "CC_DChg", -1500.0, 3600.0), (2, 3, "CC_Chg", 1000.0, 3600.0)]
    rows, t0 = [], 0.0
    for cyc, si, status, i_mA, dur in steps:
        for k in range(11):
            ts = dur * k / 10
            q = abs(i_mA) * ts / 3600.0
            rows.append(dict(Cycle=cyc, Step_Index=si, Status=status, Time=(ts if step_time else t0 + ts) * time_scale,
                             Voltage=3.7, **{"Current(mA)": i_mA,
                                             "Charge_Capacity(mAh)": q if i_mA > 0 else 0.0,
                                             "Discharge_Capacity(mAh)": q if i_mA < 0 else 0.0}, T1=25.0))
        t0 += dur
    return pd.DataFrame(rows)


@pytest.mark.parametrize("step_time", [True, False])
def test_neware_conventions(tmp_path, monkeypatch, step_time):
    _fake_module(monkeypatch, "NewareNDA", read=lambda f, **kw: _neware_table(step_time=step_time))
    p = tmp_path / "cell.ndax"
    p.write_bytes(b"PK")
    assert sniff_format(p) == "neware-nda"
    (rec,) = read_cell_file(p)
    assert rec.time_s[-1] == pytest.approx(60 + 3600 + 3600)
    assert np.all(np.diff(rec.time_s) >= 0)
    assert rec.current_A[rec.step_index == 2] == pytest.approx(1.5)  # discharge positive, amperes
    assert rec.current_A[rec.step_index == 3] == pytest.approx(-1.0)
    assert rec.cycles["discharge_capacity_Ah"] == pytest.approx([1.5, 0.0])
    assert rec.cycles["charge_capacity_Ah"] == pytest.approx([0.0, 1.0])
    assert rec.temperature_K == pytest.approx(298.15)


def test_neware_refuses_milliseconds(tmp_path, monkeypatch):
    _fake_module(monkeypatch, "NewareNDA", read=lambda f, **kw: _neware_table(time_scale=1000.0))
    p = tmp_path / "cell.nda"
    p.write_bytes(b"NEWARE")
    with pytest.raises(CellFileError, match="milliseconds"):
        read_neware_nda(p)


def test_neware_parser_failure_names_the_file(tmp_path, monkeypatch):
    def boom(f, **kw):
        raise ValueError("bad header")

    _fake_module(monkeypatch, "NewareNDA", read=boom)
    p = tmp_path / "broken.nda"
    p.write_bytes(b"xx")
    with pytest.raises(CellFileError, match=r"broken\.nda.*NewareNDA could not parse.*bad header"):
        read_neware_nda(p)


@pytest.mark.parametrize(("reader", "module", "suffix"), [(read_neware_nda, "NewareNDA", ".nda"),
                                                          (read_biologic_mpr, "galvani", ".mpr")])
def test_missing_optional_library_says_how_to_install(tmp_path, monkeypatch, reader, module, suffix):
    monkeypatch.setitem(sys.modules, module, None)  # import fails
    p = tmp_path / f"cell{suffix}"
    p.write_bytes(b"xx")
    with pytest.raises(CellFileError, match=r"pip install 'batterylab\[readers\]'"):
        reader(p)


def _biologic_table(with_current):
    t = np.arange(0.0, 7201.0, 60.0)  # 2 h: 1 h discharge at 2 mA (half cycle 0), 1 h charge at 1.5 mA
    i = np.where(t <= 3600.0, -2.0, 1.5)
    i[0] = 0.0
    dq = np.concatenate([[0.0], i[1:] * np.diff(t) / 3600.0])  # mA.h per sample, charge positive
    half = np.where(t <= 3600.0, 0, 1)
    q = np.zeros_like(t)
    for h in (0, 1):
        m = half == h
        q[m] = np.cumsum(dq[m])
    fields = [("time/s", t), ("Ewe/V", np.full(t.size, 3.7)), ("dq/mA.h", dq), ("half cycle", half),
              ("Q charge/discharge/mA.h", q)]
    if with_current:
        fields.append(("I/mA", i))
    arr = np.zeros(t.size, dtype=[(n, "f8") for n, _ in fields])
    for n, v in fields:
        arr[n] = v
    return arr


@pytest.mark.parametrize("with_current", [True, False])
def test_biologic_conventions(tmp_path, monkeypatch, with_current):
    table = _biologic_table(with_current)
    biologic = types.SimpleNamespace(MPRfile=lambda f: types.SimpleNamespace(data=table))
    _fake_module(monkeypatch, "galvani", BioLogic=biologic)
    p = tmp_path / "cell.mpr"
    p.write_bytes(b"BIO-LOGIC")
    (rec,) = read_cell_file(p)
    assert rec.current_A[1:61] == pytest.approx(0.002)  # discharge positive, amperes
    assert rec.current_A[62:] == pytest.approx(-0.0015)
    assert rec.cycles["cycle"].tolist() == [0.0]
    assert rec.cycles["discharge_capacity_Ah"] == pytest.approx([0.002])
    assert rec.cycles["charge_capacity_Ah"] == pytest.approx([0.0015])


# --------------------------------------------------------------------------------------------
# real files


def test_real_maccor_file():
    """beep's PreDiag_000229 Maccor export, cycle 0: a charge to 4.2 V and a C/5-like discharge to 2.7 V."""
    p = _real(MACCOR_REAL)
    with open(p, newline="", encoding="latin-1") as fh:
        lines = fh.read().splitlines()
    rows = list(csv.DictReader(lines[1:], delimiter="\t"))
    (rec,) = read_cell_file(p)
    assert rec.format == "maccor" and rec.time_s.size == len(rows)
    # seconds: the test time agrees with the wall-clock stamps of the file
    stamp = [dt.datetime.strptime(r["DPt Time"], "%m/%d/%Y %H:%M:%S") for r in (rows[0], rows[-1])]
    assert rec.time_s[-1] - rec.time_s[0] == pytest.approx((stamp[1] - stamp[0]).total_seconds(), abs=5.0)
    assert np.all(np.diff(rec.time_s) >= 0)
    assert 2.6 < rec.voltage_V.min() and rec.voltage_V.max() < 4.25
    state = np.array([r["State"] for r in rows])
    amps = np.array([float(r["Amps"]) for r in rows])
    d, c = state == "D", state == "C"
    assert (rec.current_A[d] > 0).all() and (rec.current_A[c] < 0).all()
    assert rec.current_A[d] == pytest.approx(-amps[d])
    # the per-cycle capacities are the file's own counters: the last Amp-hr of each D (C) step
    q = np.array([float(r["Amp-hr"]) for r in rows])
    steps = np.array([r["Step"] for r in rows])
    dis = sum(q[d & (steps == s)][-1] for s in dict.fromkeys(steps[d]))
    chg = sum(q[c & (steps == s)][-1] for s in dict.fromkeys(steps[c]))
    assert rec.cycles["cycle"].tolist() == [0.0]
    assert rec.cycles["discharge_capacity_Ah"][0] == pytest.approx(dis, rel=1e-12)
    assert rec.cycles["charge_capacity_Ah"][0] == pytest.approx(chg, rel=1e-12)
    # hand check: the discharge integrated from the raw current over the raw time (trapezoid)
    t = np.array([float(r["Test (Sec)"]) for r in rows])
    integrated = np.trapezoid(-amps[d], t[d]) / 3600.0
    assert integrated == pytest.approx(rec.cycles["discharge_capacity_Ah"][0], rel=5e-3)
    assert 4.5 < integrated < 5.0  # this cell discharged ~4.76 Ah


def test_real_neware_file():
    """NewareNDA's Issue72 test file: three cycles of a ~5.8 Ah cell, 3 A discharges, 1.2 A CC-CV charges."""
    newarenda = pytest.importorskip("NewareNDA")
    p = _real(NEWARE_REAL)
    with warnings.catch_warnings():  # NewareNDA's pandas deprecation noise
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        raw = newarenda.read(str(p))
    (rec,) = read_cell_file(p)
    assert rec.format == "neware-nda" and rec.time_s.size == len(raw)
    assert np.all(np.diff(rec.time_s) >= 0)
    # seconds: sample by sample, the test time advances as the wall-clock stamps do (the stamps also
    # jump over a pause and a clock change in this file, hence the median)
    stamp_s = (raw["Timestamp"] - raw["Timestamp"].iloc[0]).dt.total_seconds().to_numpy()
    assert np.median(np.abs(np.diff(rec.time_s) - np.diff(stamp_s))) < 0.5
    assert np.median(np.diff(rec.time_s)) > 1.0
    assert 1.5 < rec.voltage_V.min() and rec.voltage_V.max() < 4.25
    status = raw["Status"].astype(str).to_numpy()
    assert (rec.current_A[status == "CC_DChg"] > 0).all() and (rec.current_A[status == "CC_Chg"] < 0).all()
    assert rec.current_A[status == "CC_DChg"] == pytest.approx(-raw["Current(mA)"].to_numpy()[status == "CC_DChg"] / 1000)
    # the file's own per-step counters, summed per cycle with pandas
    last = raw.groupby(["Cycle", "Step_Index"], sort=False)[["Discharge_Capacity(mAh)", "Charge_Capacity(mAh)"]].last()
    per_cycle = last.groupby(level="Cycle", sort=False).sum() / 1000.0
    assert rec.cycles["cycle"].tolist() == per_cycle.index.astype(float).tolist()
    assert rec.cycles["discharge_capacity_Ah"] == pytest.approx(per_cycle["Discharge_Capacity(mAh)"].to_numpy(), rel=1e-6)
    assert rec.cycles["charge_capacity_Ah"] == pytest.approx(per_cycle["Charge_Capacity(mAh)"].to_numpy(), rel=1e-6)
    # hand check: the full discharge of cycle 2 integrated from the raw current over the raw time
    m = (raw["Cycle"] == 2).to_numpy() & (status == "CC_DChg")
    integrated = np.trapezoid(-raw["Current(mA)"].to_numpy(float)[m], raw["Time"].to_numpy(float)[m]) / 3.6e6
    k = rec.cycles["cycle"].tolist().index(2.0)
    assert integrated == pytest.approx(rec.cycles["discharge_capacity_Ah"][k], rel=5e-3)
    assert 5.5 < integrated < 6.0


def test_real_biologic_file():
    """yadg's GCPL test file (EC-Lab .mpr): galvanostatic cycling of a half cell, 0.005 to 2.35 V."""
    galvani = pytest.importorskip("galvani")
    p = _real(BIOLOGIC_REAL)
    with open(p, "rb") as fh:
        data = galvani.BioLogic.MPRfile(fh).data
    (rec,) = read_cell_file(p)
    assert rec.format == "biologic-mpr" and rec.time_s.size == data.shape[0]
    assert np.all(np.diff(rec.time_s) >= 0) and rec.time_s[-1] > 86400.0  # days of cycling, in seconds
    assert 0.0 <= rec.voltage_V.min() and rec.voltage_V.max() < 2.5
    half = np.asarray(data["half cycle"])
    q = np.asarray(data["Q charge/discharge/mA.h"], float)
    dq = np.asarray(data["dq/mA.h"], float)
    # a half cycle whose charge counter goes negative (reduction) is batterylab's discharge: positive current
    m0 = half == 0
    assert q[m0][-1] < 0
    for h in np.unique(half):
        m = half == h
        assert np.sign(np.median(rec.current_A[m][1:])) == -np.sign(q[m][-1])
    # per-cycle capacities are the file's own counter at the end of each half cycle
    ends = {h: q[half == h][-1] for h in np.unique(half)}
    dis = [-sum(v for h, v in ends.items() if h // 2 == c and v < 0) / 1000 for c in range(int(half.max()) // 2 + 1)]
    chg = [sum(v for h, v in ends.items() if h // 2 == c and v > 0) / 1000 for c in range(int(half.max()) // 2 + 1)]
    assert rec.cycles["discharge_capacity_Ah"] == pytest.approx(dis, rel=1e-9)
    assert rec.cycles["charge_capacity_Ah"] == pytest.approx(chg, rel=1e-9)
    # hand check: the first discharge is also the sum of the per-sample charges of half cycle 0
    assert -dq[m0][1:].sum() / 1000 == pytest.approx(rec.cycles["discharge_capacity_Ah"][0], rel=1e-3)
    assert 3.0e-3 < rec.cycles["discharge_capacity_Ah"][0] < 3.5e-3
