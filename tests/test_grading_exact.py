"""Exact readers for grading: counter capacities, latest full test, cycler resistance, units, end-of-life reference."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from batterylab.errors import BatterylabError, InputError, OptionError
from batterylab.grading import measurements as M
from batterylab.grading import readers as R
from batterylab.grading.batch import GradeConfig, grade_directory, measure_record

DATA = Path(__file__).resolve().parent / "data" / "grading"
FRESH = DATA / "calce_CS2_33_8_17_10_arbin.csv"
FIRST5 = DATA / "calce_CS2_33_2_2_11_arbin_first5cycles.csv"
LAST6 = DATA / "calce_CS2_33_2_2_11_arbin_last6cycles.csv"


def _raw(path):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    out = {k: np.array([float(r[k]) for r in rows]) for k in
           ("Test_Time(s)", "Current(A)", "Voltage(V)", "Cycle_Index", "Step_Index", "Discharge_Capacity(Ah)",
            "Internal_Resistance(Ohm)")}
    return out


def _counter_end(raw, cycle):
    return raw["Discharge_Capacity(Ah)"][raw["Cycle_Index"] == cycle][-1]


def _measure(path, **cfg):
    (rec,) = R.read_cell_file(path)
    return measure_record(rec, {"nominal_capacity_Ah": 1.1}, GradeConfig(**cfg))


# ------------------------------------------------------------------------ capacity from the counters


def test_grade_capacity_is_the_counter_difference_of_the_latest_full_test():
    raw = _raw(FIRST5)
    m = _measure(FIRST5)
    # default: the latest full test, cycle 5; its capacity is the counter's difference between the
    # ends of cycles 4 and 5, read straight from the file (not the integral of 30 s samples)
    assert m["capacity_cycle"] == 5.0
    assert m["capacity_Ah"] == _counter_end(raw, 5) - _counter_end(raw, 4)
    assert m["soh"] == pytest.approx((_counter_end(raw, 5) - _counter_end(raw, 4)) / 1.1, rel=1e-12)
    assert "cycler counter" in m["tests"]["capacity"] and "latest of 5" in m["tests"]["capacity"]
    # configurable: the largest full test is cycle 1 (the counter's first-cycle value)
    big = _measure(FIRST5, capacity_test="largest")
    assert big["capacity_cycle"] == 1.0 and big["capacity_Ah"] == _counter_end(raw, 1) - raw["Discharge_Capacity(Ah)"][0]
    assert big["capacity_Ah"] > m["capacity_Ah"] * 1.2  # the cell faded over these 5 cycles
    with pytest.raises(OptionError, match="latest"):
        GradeConfig(capacity_test="newest")


def test_the_integrated_discharge_reads_below_the_counter():
    """The issue's measurement: the largest-segment integral of the 30 s samples reads low."""
    (rec,) = R.read_cell_file(FRESH)
    ct = M.discharge_capacity(rec.time_s, rec.current_A, rec.voltage_V)
    m = _measure(FRESH)
    # measured: 0.3 % low on the fresh file; the counter is the cycler's own coulomb count
    assert ct.capacity_Ah < m["capacity_Ah"]
    assert m["capacity_Ah"] == _raw(FRESH)["Discharge_Capacity(Ah)"][-1] - _raw(FRESH)["Discharge_Capacity(Ah)"][0]


def test_cycles_without_the_cv_step_are_not_full_tests():
    raw = _raw(LAST6)
    (rec,) = R.read_cell_file(LAST6)
    segs = M.discharge_segments(rec.time_s, rec.current_A, rec.voltage_V, rec.cycle_index)
    full = {g.cycle: g for g in segs}
    # cycles 49 and 50 of the source schedule have no step 4 (the constant-voltage charge)
    for c in (49.0, 50.0):
        assert 4.0 not in set(raw["Step_Index"][raw["Cycle_Index"] == c])
        assert not full[c].full and "taper" in full[c].why
    for c in (45.0, 46.0, 47.0, 48.0):
        assert 4.0 in set(raw["Step_Index"][raw["Cycle_Index"] == c]) and full[c].full
    m = measure_record(rec, {"nominal_capacity_Ah": 1.1}, GradeConfig())
    assert m["capacity_cycle"] == 48.0
    assert m["capacity_Ah"] == pytest.approx(_counter_end(raw, 48) - _counter_end(raw, 47), abs=1e-15)


def test_discharge_segments_need_a_charge_before_and_the_cut_off():
    t = np.arange(0.0, 20000.0, 10.0)
    i = np.zeros_like(t)
    v = np.full(t.size, 3.7)
    # charge CC-CV to 4.2 V, full discharge to 2.7 V, charge again, partial discharge to 3.5 V
    i[(t >= 100) & (t < 3000)] = -1.0
    v[(t >= 100) & (t < 3000)] = 4.2
    i[(t >= 2500) & (t < 3000)] = -0.05  # CV taper
    i[(t >= 3100) & (t < 6700)] = 1.0
    v[(t >= 3100) & (t < 6700)] = np.linspace(4.1, 2.7, int(((t >= 3100) & (t < 6700)).sum()))
    i[(t >= 7000) & (t < 9000)] = -1.0
    v[(t >= 7000) & (t < 9000)] = 4.2
    i[(t >= 8500) & (t < 9000)] = -0.05
    i[(t >= 9100) & (t < 10900)] = 1.0
    v[(t >= 9100) & (t < 10900)] = np.linspace(4.1, 3.5, int(((t >= 9100) & (t < 10900)).sum()))
    segs = M.discharge_segments(t, i, v)
    assert [g.full for g in segs] == [True, False]
    assert "cut-off" in segs[1].why
    assert segs[0].capacity_Ah == pytest.approx(1.0, rel=0.01)


# ------------------------------------------------------------------------ resistance from the column


def test_resistance_from_the_internal_resistance_column():
    raw = _raw(LAST6)
    m = _measure(LAST6)
    ir, cyc = raw["Internal_Resistance(Ohm)"], raw["Cycle_Index"]
    # independent: the readings are the samples where the column changes value, within cycle 48
    new = np.r_[True, ir[1:] != ir[:-1]] & (ir > 0)
    expect = ir[(cyc == 48) & new].mean()
    assert m["resistance_ohm"] == pytest.approx(expect, rel=1e-12)
    assert "Internal_Resistance(Ohm)" in m["tests"]["resistance"]
    assert 0.1 < m["resistance_ohm"] < 0.2  # CS2 1.1 Ah cell at end of test
    np.testing.assert_allclose(R.per_cycle_readings(np.array([1, 1, 1, 2, 2, 3]), np.array([0, 0.1, 0.1, 0.1, 0.3, 0.3])),
                               [0.1, 0.3, np.nan])


def test_arbin_folder_grades_with_counter_capacity_and_resistance(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(FRESH, d / "cs2_33_fresh.csv")
    shutil.copy(LAST6, d / "cs2_33_aged.csv")
    bol_r = _measure(FRESH)["resistance_ohm"]
    (d / "metadata.json").write_text(json.dumps({"defaults": {
        "nominal_capacity_Ah": 1.1, "chemistry": "lco-graphite", "bol_resistance_ohm": bol_r,
        "history": "CALCE CS2_33, test records of one cell"}}))
    grade_directory(d, tmp_path / "out", GradeConfig(second_life=False), workers=1, progress=False)
    with open(tmp_path / "out" / "grades.csv") as fh:
        rows = {r["cell_id"]: r for r in csv.DictReader(fh)}
    fresh, aged = rows["cs2_33_fresh"], rows["cs2_33_aged"]
    # both are graded (no longer 'incomplete' for want of a resistance)
    assert fresh["status"] == "graded" and aged["status"] == "graded"
    assert not any(m.startswith("resistance") for m in fresh["missing"].split("; ") if m)
    assert float(fresh["resistance_ratio"]) == pytest.approx(1.0)
    assert float(aged["resistance_ratio"]) > 1.2
    assert fresh["grade"] == "reuse" and aged["grade"] == "recycle"
    raw = _raw(LAST6)
    assert float(aged["capacity_Ah"]) == pytest.approx(_counter_end(raw, 48) - _counter_end(raw, 47), rel=5e-6)


# ------------------------------------------------------------------------ units at the boundary


def _rewrite(src, dst, column, factor):
    with open(src) as fh:
        rows = list(csv.reader(fh))
    k = rows[0].index(column)
    for r in rows[1:]:
        r[k] = repr(float(r[k]) * factor)
    with open(dst, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return dst


def test_arbin_millivolts_and_milliseconds_are_refused(tmp_path):
    mv = _rewrite(FIRST5, tmp_path / "mv.csv", "Voltage(V)", 1000.0)
    with pytest.raises(R.CellFileError, match=r"mv\.csv.*Voltage\(V\).*millivolts"):
        R.read_cell_file(mv)
    ms = _rewrite(FIRST5, tmp_path / "ms.csv", "Test_Time(s)", 1000.0)
    with pytest.raises(R.CellFileError, match=r"ms\.csv.*Test_Time\(s\) looks like milliseconds"):
        R.read_cell_file(ms)
    # the unchanged file passes
    R.read_cell_file(FIRST5)


def test_bdf_millivolts_refused(tmp_path):
    p = tmp_path / "cell.csv"
    p.write_text("Test Time / s,Voltage / V,Current / A\n0,3700,0\n10,3690,-1\n")
    with pytest.raises(R.CellFileError, match="millivolts"):
        R.read_cell_file(p)


def test_capacity_in_mah_against_nominal_in_ah():
    (rec,) = R.read_cell_file(FRESH)
    with pytest.raises(InputError, match=r"nominal_capacity_Ah = 1100 Ah.*mAh"):
        measure_record(rec, {"nominal_capacity_Ah": 1100.0}, GradeConfig())
    hist = R.CellRecord("h", "s", "capacity-history", cycles={"cycle": np.arange(1.0, 11.0),
                                                              "discharge_capacity_Ah": np.linspace(2100.0, 2000.0, 10)})
    with pytest.raises(InputError, match="mAh"):
        measure_record(hist, {"nominal_capacity_Ah": 2.1}, GradeConfig())


def test_fit_ocv_in_millivolts_and_negative_nominal_refused():
    from batterylab.grading.ocv_fit import degradation_modes, fit_ocv, fit_ocv_batch, synthetic_c20_curve
    from batterylab.grading.synthetic import electrode_state

    cp, cn, y0, x0 = electrode_state(2.5, 0.1, 0.05, 0.05)
    q, v = synthetic_c20_curve(cp, cn, y0, x0)
    with pytest.raises(InputError, match=r"voltage_V\[0\].*millivolts"):
        fit_ocv(q, v * 1000.0)
    fit = fit_ocv_batch([q], [v])[0]
    with pytest.raises(InputError, match=r"nominal_capacity_Ah must be > 0.*-1"):
        degradation_modes(fit, nominal_capacity_Ah=-1)
    with pytest.raises(InputError, match="mAh"):
        degradation_modes(fit, nominal_capacity_Ah=2500.0)
    with pytest.raises(InputError, match="n_li_Ah"):
        degradation_modes(fit, {"Cp_Ah": 2.0, "Cn_Ah": 2.0, "n_li_Ah": -1.0})
    d = degradation_modes(fit, nominal_capacity_Ah=2.5)
    assert abs(d.LLI - 0.1) < 0.01


def test_pulse_seconds_checked():
    t = np.arange(0.0, 100.0, 1.0)
    with pytest.raises(InputError, match="milliseconds"):
        M.dcir_from_pulses(t, np.zeros_like(t), np.full(t.size, 3.7), pulse_s=10_000.0)


def test_pulse_table_millivolts_refused(tmp_path):
    src = Path(__file__).resolve().parents[1] / "validation" / "data" / "grading" / "thu_pulse_voltage_Cylind21.csv"
    p = _rewrite(src, tmp_path / "pulse.csv", "U3", 1.0)  # unchanged copy
    R.read_cell_file(p)
    with open(src) as fh:
        rows = list(csv.reader(fh))
    ks = [rows[0].index(f"U{j}") for j in range(1, 22)]
    for r in rows[1:]:
        for k in ks:
            r[k] = repr(float(r[k]) * 1000)
    bad = tmp_path / "pulse_mv.csv"
    with open(bad, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(BatterylabError, match="millivolts"):
        R.read_cell_file(bad)


# ------------------------------------------------------------------------ end-of-life reference


def _history(n=40):
    c = np.arange(1.0, n + 1) * 10
    q = 2.0 * (1 - 2e-4 * c**0.9)
    return R.CellRecord("h", "s", "capacity-history", cycles={"cycle": c, "discharge_capacity_Ah": q})


def test_end_of_life_needs_a_stated_reference():
    from batterylab.grading.batch import eol_reference, finish_batch

    rec = _history()
    # without nominal or BOL capacity: no end of life, and the record says why
    m = measure_record(rec, {}, GradeConfig())
    assert m["forecast"]["cycles_to_end"] is None and "no nominal_capacity_Ah or bol_capacity_Ah" in m["forecast"]["error"]
    records, _ = finish_batch([dict(m, metadata={})], GradeConfig(second_life=False))
    assert np.isnan(records[0].remaining_efc) and "no reference" in records[0].forecast_note
    # against nominal: crossing of 0.6 x nominal
    m = measure_record(rec, {"nominal_capacity_Ah": 2.0}, GradeConfig())
    f = m["forecast"]
    assert f["end_capacity_Ah"] == pytest.approx(0.6 * 2.0) and "nominal capacity 2 Ah" in f["reference"]
    # the true power law crosses 1.2 Ah at n = (0.4 / 2e-4)^(1/0.9); remaining from the last cycle 400
    n_true = (0.4 / 2e-4) ** (1 / 0.9)
    assert f["cycles_to_end"] == pytest.approx(n_true - 400.0, rel=0.02)
    # an explicit BOL capacity wins over the nominal
    m = measure_record(rec, {"nominal_capacity_Ah": 2.0, "bol_capacity_Ah": 2.2}, GradeConfig())
    assert m["forecast"]["end_capacity_Ah"] == pytest.approx(0.6 * 2.2) and "beginning-of-life" in m["forecast"]["reference"]
    assert eol_reference(None, None)[0] is None
    with pytest.raises(InputError, match="bol_capacity_Ah"):
        eol_reference(2.0, -1.0)
    with pytest.raises(InputError, match="bol_capacity_Ah"):
        GradeConfig(bol_capacity_Ah=0.0)
