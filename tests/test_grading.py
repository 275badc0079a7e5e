"""Second-life grading: readers, measurements, OCV fit, pulse screening, grades, matching, forecast."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterylab.errors import BatterylabError, InputError, OptionError
from batterylab.grading import measurements as M
from batterylab.grading import readers as R

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "grading"
VDATA = ROOT / "validation" / "data" / "grading"
ARBIN_FRESH = DATA / "calce_CS2_33_8_17_10_arbin.csv"
ARBIN_AGED = DATA / "calce_CS2_33_2_2_11_arbin_first5cycles.csv"
DOE = DATA / "doe_xcel_p492-13-summary.csv"


def _raw_arbin(path):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in
            ("Test_Time(s)", "Current(A)", "Cycle_Index", "Discharge_Capacity(Ah)", "Charge_Capacity(Ah)")}


# ------------------------------------------------------------------------------------ readers


def test_arbin_real_fresh_file():
    assert R.sniff_format(ARBIN_FRESH) == "arbin"
    (rec,) = R.read_cell_file(ARBIN_FRESH)
    raw = _raw_arbin(ARBIN_FRESH)
    # sign convention: Arbin charge positive -> batterylab discharge positive
    np.testing.assert_array_equal(rec.current_A, -raw["Current(A)"])
    assert rec.cycles["cycle"].tolist() == [1.0]
    # one cycle: per-cycle capacity equals the counter's end value
    assert rec.cycles["discharge_capacity_Ah"][0] == pytest.approx(raw["Discharge_Capacity(Ah)"][-1])
    # independent check: integrating the (discharge-positive) current gives the same charge
    # within 1 % (30 s sampling, trapezoidal rule)
    ct = M.discharge_capacity(rec.time_s, rec.current_A, rec.voltage_V)
    assert ct.capacity_Ah == pytest.approx(rec.cycles["discharge_capacity_Ah"][0], rel=0.01)
    assert 1.0 < ct.capacity_Ah < 1.25  # a fresh 1.1 Ah CS2 cell


def test_arbin_counters_cumulative_across_cycles():
    (rec,) = R.read_cell_file(ARBIN_AGED)
    raw = _raw_arbin(ARBIN_AGED)
    dis = rec.cycles["discharge_capacity_Ah"]
    assert rec.cycles["cycle"].tolist() == [1, 2, 3, 4, 5]
    # the counter is cumulative: per-cycle values sum to its final value, and each is far below
    # the cumulative value (which would be the naive per-cycle maximum)
    assert dis.sum() == pytest.approx(raw["Discharge_Capacity(Ah)"][-1], rel=1e-9)
    cyc_max = np.array([raw["Discharge_Capacity(Ah)"][raw["Cycle_Index"] == c].max() for c in range(1, 6)])
    assert np.all(np.diff(cyc_max) > 0) and dis[-1] < 0.5 * cyc_max[-1]
    # independent: the discharge current integrated (trapezoid) over each cycle. The 30 s
    # samples blur each current step by up to one interval, so they agree to within one
    # sample interval at the largest current: 0.55 A x 30 s = 4.6 mAh
    t, i, c = rec.time_s, np.clip(rec.current_A, 0.0, None), rec.cycle_index
    dq = 0.5 * (i[1:] + i[:-1]) * np.diff(t) / 3600.0
    tol = np.abs(rec.current_A).max() * np.median(np.diff(t)) / 3600.0
    for k in range(5):
        assert abs(dis[k] - dq[c[:-1] == k + 1].sum()) <= tol


def test_per_cycle_from_cumulative_handles_reset():
    cyc = np.array([1, 1, 1, 2, 2, 2, 3, 3])
    cnt = np.array([0.0, 0.5, 1.0, 1.0, 1.4, 1.8, 0.0, 0.7])  # resets at cycle 3
    cycles, inc = R.per_cycle_from_cumulative(cyc, cnt)
    assert cycles.tolist() == [1, 2, 3]
    np.testing.assert_allclose(inc, [1.0, 0.8, 0.7])


def test_doe_summary_real_file():
    assert R.sniff_format(DOE) == "doe-summary"
    (rec,) = R.read_cell_file(DOE)
    lab = rec.cycles["label"]
    checks = np.flatnonzero(lab == "Capacity check")
    assert len(checks) == 5
    q = rec.cycles["discharge_capacity_Ah"][checks]
    assert 0.030 > q[0] > 0.015  # 32-37 mAh CAMP pouch, C/20-ish check
    assert 0.0 < 1 - q[-1] / q[0] < 0.08  # the README's "only ~4 % fade"
    from batterylab.grading.batch import GradeConfig, measure_record

    m = measure_record(rec, {"nominal_capacity_Ah": q[0]}, GradeConfig())
    assert m["capacity_Ah"] == pytest.approx(q[-1])
    assert "Capacity check" in "".join(rec.cycles["label"]) and "capacity check" in m["tests"]["capacity"]


def test_bdf_csv_charge_positive_is_negated(tmp_path):
    p = tmp_path / "cell.csv"
    t = np.arange(0.0, 100.0, 10.0)
    cur = np.where(t < 50, 1.0, -2.0)  # BDF: charge positive
    with open(p, "w") as fh:
        fh.write("Test Time / s,Voltage / V,Current / A,Cycle Count / 1,Temperature T1 / degC\n")
        for a, b in zip(t, cur):
            fh.write(f"{a},{3.7},{b},1,25\n")
    assert R.sniff_format(p) == "bdf"
    (rec,) = R.read_cell_file(p)
    np.testing.assert_array_equal(rec.current_A, -cur)
    np.testing.assert_allclose(rec.temperature_K, 298.15)
    assert any("negated" in n for n in rec.notes)


def test_bdf_missing_column_names_file_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Test Time / s,Voltage / V\n0,3.7\n1,3.7\n")
    with pytest.raises(R.CellFileError, match=r"bad\.csv.*Current / A"):
        R.read_bdf_csv(p)


def test_reader_errors_name_the_file(tmp_path):
    p = tmp_path / "junk.csv"
    p.write_bytes(b"hello,world\n\x00\x01\n")
    with pytest.raises(R.CellFileError, match="junk.csv"):
        R.read_cell_file(p)
    back = tmp_path / "backwards.csv"
    back.write_text("Test Time / s,Voltage / V,Current / A\n0,3.7,0\n10,3.7,0\n5,3.7,0\n")
    with pytest.raises(R.CellFileError, match=r"backwards\.csv.*goes backwards"):
        R.read_cell_file(back)
    nan = tmp_path / "nan.csv"
    nan.write_text("Test Time / s,Voltage / V,Current / A\n0,3.7,0\n10,abc,0\n")
    with pytest.raises(R.CellFileError, match=r"nan\.csv.*Voltage / V.*'abc'"):
        R.read_cell_file(nan)
    with pytest.raises(R.CellFileError, match="not found"):
        R.read_cell_file(tmp_path / "absent.csv")
    with pytest.raises(OptionError, match="valid cell file formats"):
        R.read_cell_file(ARBIN_FRESH, format="nope")
    h5 = tmp_path / "x.h5"
    h5.write_bytes(b"not hdf5")
    with pytest.raises(R.CellFileError, match="x.h5"):
        R.read_cell_file(h5)


def test_hdf5_cell_record_roundtrip(tmp_path):
    from batterylab.grading.synthetic import make_cell

    rec, _ = make_cell("c1", LLI=0.1)
    rec.cycles = {"cycle": np.array([1.0, 2.0]), "discharge_capacity_Ah": np.array([2.4, 2.39])}
    path = R.write_cell_record(tmp_path / "c1.h5", rec)
    assert R.sniff_format(path) == "batterylab-h5"
    (back,) = R.read_cell_file(path)
    assert back.cell_id == "c1" and back.metadata == rec.metadata
    for name in ("time_s", "current_A", "voltage_V", "c20_capacity_Ah", "c20_voltage_V"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rec, name))
    np.testing.assert_array_equal(back.cycles["discharge_capacity_Ah"], [2.4, 2.39])


def test_capacity_history_multi_cell():
    recs = R.read_cell_file(VDATA / "nasa_pcoe_capacity.csv")
    assert [r.cell_id.split(":")[1] for r in recs] == ["B0005", "B0006", "B0007"]
    assert all(np.all(np.diff(r.cycles["cycle"]) > 0) for r in recs)


# ------------------------------------------------------------------------------------ measurements


@given(r=st.floats(0.005, 0.5), i=st.floats(0.1, 20.0), v0=st.floats(3.0, 4.1))
@settings(max_examples=30)
def test_dcir_recovers_known_resistance(r, i, v0):
    t = np.concatenate([np.arange(0.0, 60.0, 5.0), 60.0 + np.arange(1.0, 16.0, 1.0), [80.0, 90.0]])
    cur = np.where((t > 60.0) & (t <= 70.0), i, 0.0)
    v = np.where(cur > 0, v0 - i * r, v0)
    pr = M.dcir_from_pulses(t, cur, v)
    assert pr is not None and pr.n_pulses == 1
    assert pr.resistance_ohm == pytest.approx(r, rel=1e-9)


def test_dcir_ignores_long_discharge_and_needs_rest_before():
    t = np.arange(0.0, 4000.0, 10.0)
    cur = np.where(t > 100, 1.0, 0.0)  # one long discharge: not a pulse
    assert M.dcir_from_pulses(t, cur, np.full(t.size, 3.7)) is None


def test_discharge_capacity_and_rest_slope():
    t = np.arange(0.0, 7200.0 + 1, 10.0)
    cur = np.where(t >= 3600, 2.0, 0.0)
    v = np.where(t < 3600, 4.0 - 0.01 * t / 3600, 3.5)
    ct = M.discharge_capacity(t, cur, v)
    assert ct.capacity_Ah == pytest.approx(2.0, rel=1e-9)
    assert M.rest_voltage_slope(t, cur, v) == pytest.approx(-0.01, rel=1e-6)
    assert M.soh_from_capacity(2.0, 2.5) == pytest.approx(0.8)
    with pytest.raises(InputError, match="nominal_capacity_Ah"):
        M.soh_from_capacity(2.0, 0.0)


def test_robust_z_flags_outlier_only_with_enough_peers():
    x = np.array([-0.002, -0.0021, -0.0019, -0.002, -0.0022, -0.05, np.nan])
    z = M.robust_z(x)
    assert z[5] < -3.5 and np.all(np.abs(z[:5]) < 3.5) and np.isnan(z[6])
    assert np.isnan(M.robust_z([1.0, 2.0, 3.0])).all()


# ------------------------------------------------------------------------------------ OCV fit


def test_tabulated_ocp_matches_analytic_terms():
    from batterylab.grading.ocv_fit import load_ocp_set

    ocp = load_ocp_set("nmc-graphite")
    s = np.linspace(0.0, 1.0, 10007)
    for half, tab in ((ocp.positive, ocp.tables[0]), (ocp.negative, ocp.tables[1])):
        u, du = tab.both(s)
        assert np.max(np.abs(u - half(s))) < 1e-5  # the documented interpolation error
        fd = (half(s + 1e-7) - half(s - 1e-7)) / 2e-7
        np.testing.assert_allclose(half.derivative(s), fd, rtol=1e-5, atol=1e-4)


def test_ocp_formula_matches_readme_values():
    # U_p(0.5), U_n(0.5) evaluated by hand from the published formulas (Weng et al. 2021)
    from batterylab.grading.ocv_fit import load_ocp_set

    ocp = load_ocp_set("nmc111-graphite")
    y = 0.5
    up = 4.3452 - 1.6518 * y + 1.6225 * y**2 - 2.0843 * y**3 + 3.5146 * y**4 - 2.2166 * y**5 - 0.5623e-4 * np.exp(109.451 * y - 100.006)
    x = 0.5
    un = (0.063 + 0.8 * np.exp(-75 * (x + 0.007)) - 0.0120 * np.tanh((x - 0.127) / 0.016) - 0.0118 * np.tanh((x - 0.155) / 0.016)
          - 0.0035 * np.tanh((x - 0.220) / 0.020) - 0.0095 * np.tanh((x - 0.190) / 0.013) - 0.0145 * np.tanh((x - 0.490) / 0.018)
          - 0.0800 * np.tanh((x - 1.030) / 0.055))
    assert ocp.positive(y) == pytest.approx(up, abs=1e-12)
    assert ocp.negative(x) == pytest.approx(un, abs=1e-12)


def test_synthetic_modes_recovered_within_one_point():
    """Known LLI / LAM_PE / LAM_NE, 2 mV noise: recovered within 1 percentage point."""
    from batterylab.grading.ocv_fit import degradation_modes, fit_ocv_batch
    from batterylab.grading.synthetic import electrode_state
    from batterylab.grading.ocv_fit import synthetic_c20_curve

    rng = np.random.default_rng(7)
    truth, qs, vs = [], [], []
    for _ in range(40):
        modes = rng.uniform([0.0, 0.0, 0.0], [0.3, 0.2, 0.2])
        cp, cn, y0, x0 = electrode_state(2.5, *modes)
        q, v = synthetic_c20_curve(cp, cn, y0, x0, n_points=200, noise_V=0.002, rng=rng)
        truth.append(modes)
        qs.append(q)
        vs.append(v)
    fits = fit_ocv_batch(qs, vs)
    est = np.array([[d.LLI, d.LAM_PE, d.LAM_NE] for d in (degradation_modes(f, nominal_capacity_Ah=2.5) for f in fits)])
    err = np.abs(est - np.array(truth))
    assert err.max() < 0.01, err.max(axis=0)
    assert all(f.rmse_V < 0.003 for f in fits)


def test_batch_fit_agrees_with_scipy_least_squares():
    from batterylab.grading.ocv_fit import fit_ocv, fit_ocv_batch

    rng = np.random.default_rng(3)
    from batterylab.grading.synthetic import electrode_state
    from batterylab.grading.ocv_fit import synthetic_c20_curve

    cp, cn, y0, x0 = electrode_state(2.0, 0.15, 0.05, 0.1)
    q, v = synthetic_c20_curve(cp, cn, y0, x0, noise_V=0.003, rng=rng)
    batch = fit_ocv_batch([q], [v])[0]
    polished = fit_ocv(q, v)
    # scipy's trust-region solver started at the batch optimum finds no meaningfully better point
    assert batch.rmse_V <= polished.rmse_V * 1.01
    assert batch.Cp_Ah == pytest.approx(polished.Cp_Ah, rel=2e-3)


def test_ocv_fit_input_errors():
    from batterylab.grading.ocv_fit import fit_ocv_batch, load_ocp_set

    with pytest.raises(InputError, match="at least 10"):
        fit_ocv_batch([np.arange(5.0)], [np.arange(5.0)])
    # a discharge curve (voltage falling with capacity) would fit to negative losses: refused
    rows = _umich_rows()
    q, v = rows[0][4], rows[0][5]
    fit_ocv_batch([q[::-1]], [v[::-1]])  # the samples' order does not matter
    with pytest.raises(InputError, match="curve 0: voltage_V does not rise with capacity_Ah.*discharge curve"):
        fit_ocv_batch([q], [v[::-1]])
    with pytest.raises(OptionError, match="nmc-graphite"):
        load_ocp_set("unobtainium")


def _umich_rows():
    import pandas as pd

    tab = pd.read_csv(VDATA / "umich_weng2021_esoh_summary.csv")
    rows = []
    for f in sorted((VDATA / "umich_c20").glob("cell_*_cyc_*.csv")):
        _, cell, _, cyc = f.stem.split("_")
        pub = tab[(tab.cellid == int(cell)) & (tab.cycle_number == int(cyc))].iloc[0]
        ref = tab[(tab.cellid == int(cell)) & (tab.cycle_number == 3)].iloc[0]
        curve = pd.read_csv(f)
        rows.append((int(cell), int(cyc), pub, ref, curve.charge_capacity_Ah.to_numpy(), curve.voltage_V.to_numpy()))
    return rows


def test_umich_fit_reproduces_published_modes():
    """Rows with published RMSE < 20 mV: LLI within 0.5 pp, LAM_PE and LAM_NE within 1.5 pp.

    The table's LLI is the fraction REMAINING (1 - batterylab's LLI); LAM are fractions lost.
    Reference = the published cycle-3 fit of the same cell (Cp, Cn, n_li in mol -> Ah).
    Measured: LLI <= 0.2 pp, LAM_PE <= 0.5 pp, LAM_NE <= 1.2 pp; the LAM_NE tolerance is the
    largest because Cn is the least identifiable parameter of a full-cell curve.
    """
    from batterylab.grading.ocv_fit import FARADAY, degradation_modes, fit_ocv_batch

    rows = [r for r in _umich_rows() if r[2].RMSE_mV < 20]
    assert len(rows) == 4
    fits = fit_ocv_batch([r[4] for r in rows], [r[5] for r in rows], "nmc111-graphite")
    for (cell, cyc, pub, ref, *_), fit in zip(rows, fits):
        d = degradation_modes(fit, {"Cp_Ah": ref.Cp, "Cn_Ah": ref.Cn, "n_li_Ah": ref.n_li * FARADAY / 3600})
        assert abs((1 - d.LLI) - pub.LLI) < 0.005, (cell, cyc)
        assert abs(d.LAM_PE - pub.LAM_PE) < 0.015, (cell, cyc)
        assert abs(d.LAM_NE - pub.LAM_NE) < 0.015, (cell, cyc)
        assert fit.rmse_V < 0.010 and fit.confident


# ------------------------------------------------------------------------------------ pulse screening


def test_pulse_model_file_is_reproduced_and_cv_error():
    from batterylab.grading import pulse

    model = pulse.load_pulse_model()
    x, y, groups, _ = pulse.training_table(R.read_pulse_table_csv(VDATA / "thu_pulse_voltage_Cylind21.csv"))
    assert len(np.unique(groups)) == 12 and y.size == 67
    coef, b = pulse._ridge(x, y, model["ridge_lambda"])
    np.testing.assert_allclose(coef, model["model"]["coef"], rtol=1e-6, atol=1e-9)
    # leave-one-cell-out error with the shipped penalty: the brief's aim is MAE <= 3 % SOH
    pred = pulse._loco(x, y, groups, model["ridge_lambda"])
    mae = np.mean(np.abs(pred - y))
    assert mae <= 0.03
    assert model["cv"]["mae_soh"] <= 0.03
    # the stated uncertainty covers most cross-validated errors
    assert np.mean(np.abs(pred - y) <= 1.96 * model["cv"]["rmse_soh"]) >= 0.9


def test_pulse_prediction_has_uncertainty_and_checks_protocol():
    from batterylab.grading.pulse import predict_soh

    recs = R.read_pulse_table_csv(VDATA / "thu_pulse_voltage_Cylind21.csv")
    est = predict_soh(recs[0].pulse_voltage_V, recs[0].pulse_soc)
    assert 0.5 < est.soh < 1.1 and 0.0 < est.sigma < 0.05
    with pytest.raises(InputError, match="SOC 0.50"):
        predict_soh(recs[0].pulse_voltage_V[:9], recs[0].pulse_soc[:9])


# ------------------------------------------------------------------------------------ grades and value


def _record(**kw):
    from batterylab.grading.grade import GradeRecord

    base = dict(cell_id="c", source="s", soh=0.85, chemistry="nmc-graphite", intake_voltage_V=3.7, resistance_ohm=0.05,
                resistance_ratio=1.2, rest_slope_V_per_h=-0.002, rest_slope_z=0.1)
    base.update(kw)
    return GradeRecord(**base)


def test_grade_bands_and_safety_checks():
    from batterylab.grading.grade import decide_grade, load_bands

    b = load_bands()
    assert decide_grade(_record(), b, traceable=True).grade == "reuse"
    assert decide_grade(_record(soh=0.7), b, traceable=True).grade == "repurpose"
    assert decide_grade(_record(soh=0.5), b, traceable=True).grade == "recycle"
    r = decide_grade(_record(intake_voltage_V=1.2), b, traceable=True)
    assert r.grade == "recycle" and "over-discharged" in r.failed_checks[0]
    assert decide_grade(_record(resistance_ratio=2.3), b, traceable=True).grade == "recycle"
    assert decide_grade(_record(rest_slope_z=-8.0), b, traceable=True).grade == "recycle"
    r = decide_grade(_record(), b, traceable=False)
    assert r.grade == "incomplete" and r.provisional_grade == "reuse" and "traceability" in r.missing[0]
    r = decide_grade(_record(resistance_ratio=float("nan")), b, traceable=True)
    assert r.grade == "incomplete" and any(m.startswith("resistance") for m in r.missing)
    ev = r.evidence(b)
    assert ev["thresholds"]["max_resistance_ratio"] == 2.0 and "UL 1974" in ev["standards"]
    json.dumps(ev)  # the audit record is JSON


def test_bands_file_errors(tmp_path):
    from batterylab.grading.grade import load_bands

    spec = json.loads(load_bands().path and Path(load_bands().path).read_text())
    spec["bands"][0]["grade"] = "resell"
    p = tmp_path / "b.json"
    p.write_text(json.dumps(spec))
    with pytest.raises(OptionError, match="reuse"):
        load_bands(p)


def test_residual_value_formula():
    from batterylab.grading.grade import residual_value, throughput_fraction

    assert throughput_fraction(1.0, 0.6) == pytest.approx(1.0)
    assert throughput_fraction(0.6, 0.6) == 0.0 and throughput_fraction(0.5, 0.6) == 0.0
    assert throughput_fraction(0.8, 0.6) == pytest.approx((0.64 - 0.36) / 0.64)
    v = residual_value(0.8, 50.0, 3.65, 100.0, end_soh=0.6, fade_per_efc=1e-4)
    assert v["residual_value"] == pytest.approx(100 * 0.1825 * 0.4375)
    assert v["remaining_efc"] == pytest.approx(2000.0)
    with pytest.raises(InputError, match="nominal_capacity_Ah"):
        residual_value(0.8, -1, 3.6, 100)


# ------------------------------------------------------------------------------------ matching


@given(n=st.integers(8, 60), seed=st.integers(0, 1000))
@settings(max_examples=20)
def test_matching_uses_each_cell_once_and_improves(n, seed):
    from batterylab.grading.matching import match_modules

    rng = np.random.default_rng(seed)
    cap = rng.uniform(1.5, 2.5, n)
    res = rng.uniform(0.02, 0.06, n)
    out = match_modules(cap, res, 2, 2, seed=seed)
    used = [c for m in out.modules for g in m.cells for c in g] + out.unassigned
    assert sorted(used) == list(range(n))
    assert out.objective <= out.objective_baseline + 1e-12
    for m in out.modules:
        assert len(m.cells) == 2 and all(len(g) == 2 for g in m.cells)
        assert m.capacity_Ah == pytest.approx(min(cap[g].sum() for g in m.cells))


def test_matching_beats_random_grouping():
    from batterylab.grading.matching import _module_cost, match_modules

    rng = np.random.default_rng(0)
    cap = rng.uniform(1.5, 2.5, 96)
    res = rng.uniform(0.02, 0.06, 96)
    out = match_modules(cap, res, 4, 2)
    perm = rng.permutation(96).reshape(12, 8)
    random_cost = sum(_module_cost(cap[p], res[p], 1.0) for p in perm)
    assert out.objective < 0.6 * random_cost
    with pytest.raises(InputError, match="cannot fill"):
        match_modules(cap[:3], res[:3], 4, 2)


# ------------------------------------------------------------------------------------ forecast


def test_power_law_fit_recovers_parameters():
    from batterylab.grading.forecast import fit_capacity_history

    n = np.arange(0.0, 1000.0, 10.0)
    q = 2.0 * (1 - 2e-4 * n**0.9)
    fit = fit_capacity_history(n, q, backtest=False)
    np.testing.assert_allclose(fit.params, [2.0, 2e-4, 0.9], rtol=1e-4)
    pred, sig = fit.predict([2000.0])
    assert pred[0] == pytest.approx(2.0 * (1 - 2e-4 * 2000**0.9), rel=1e-4)


def _bacon_watts_eq1(n, a0, a1, a2, n1, gamma=1e-8):
    """Fermin-Cueto et al. 2020, eq. 1, written out (the reference for the fitted form)."""
    return a0 + a1 * (n - n1) + a2 * (n - n1) * np.tanh((n - n1) / gamma)


def test_bacon_watts_fit_recovers_the_knee_of_two_lines():
    from batterylab.grading.forecast import fit_capacity_history

    n = np.arange(1.0, 1001.0)
    q = np.where(n < 600, 2.0 - 2e-4 * n, 2.0 - 2e-4 * 600 - 1.6e-3 * (n - 600))
    fit = fit_capacity_history(n, q, "bacon_watts")
    a0, a1, a2, n1 = fit.params
    assert n1 == 600.0
    assert (a1 - a2, a1 + a2) == (pytest.approx(-2e-4, rel=1e-9), pytest.approx(-1.6e-3, rel=1e-9))
    later = np.array([1100.0, 1500.0])
    np.testing.assert_allclose(fit.predict(later)[0], _bacon_watts_eq1(later, *fit.params), rtol=1e-12)
    np.testing.assert_allclose(fit.predict(later)[0], 2.0 - 0.12 - 1.6e-3 * (later - 600), rtol=1e-9)
    # its back-test (first half: no knee visible) says how little the form knows beyond the history
    assert fit.predict([1500.0])[1][0] > 0.1


def test_bacon_watts_fit_matches_exhaustive_search_and_never_decelerates():
    """The coarse-then-refined knee search finds the exhaustive optimum over every cycle."""
    from batterylab.grading.forecast import _fit_bacon_watts

    rng = np.random.default_rng(11)
    for _ in range(20):
        nk = rng.uniform(200, 1800)
        n = np.arange(0.0, 2000.0, rng.choice([1.0, 5.0]))
        q = 1.0 - 1e-4 * n - rng.uniform(1e-4, 1e-3) * np.maximum(n - nk, 0) + rng.normal(0, 1e-3, n.size)
        p, r = _fit_bacon_watts(n, q)
        sse = []
        for n1 in np.unique(n)[2:-2]:
            A = np.column_stack([np.ones_like(n), n - n1, np.abs(n - n1)])
            c = np.linalg.lstsq(A, q, rcond=None)[0]
            if c[2] > 0:
                c = np.append(np.linalg.lstsq(A[:, :2], q, rcond=None)[0], 0.0)
            sse.append(float(np.sum((A @ c - q) ** 2)))
        assert float(r @ r) <= min(sse) * (1 + 1e-9)
        assert p[2] <= 0.0
    # a decelerating history has no knee: the fit is the straight line (a2 = 0)
    n = np.arange(0.0, 500.0)
    p, _ = _fit_bacon_watts(n, 1.0 - 0.02 * np.sqrt(n))
    assert p[2] == 0.0


def test_history_forecast_on_nasa_cells():
    """Fit the first 40 % of each NASA cell's cycles, predict the rest (measured RMSE 2-13 % of
    the initial capacity, B0006 worst: its fade accelerates); every held-out point within 95 %."""
    import pandas as pd

    from batterylab.grading.forecast import holdout_error

    d = pd.read_csv(VDATA / "nasa_pcoe_capacity.csv")
    errs = []
    for _, g in d.groupby("cell"):
        r = holdout_error(g.discharge_index.to_numpy(), g.capacity_Ah.to_numpy())
        errs.append(r["rmse_rel"])
        assert r["coverage95"] >= 0.9
    assert np.median(errs) < 0.06 and max(errs) < 0.15


def test_second_life_time_shift():
    from batterylab.grading.batch import _Life

    years = np.linspace(0, 10, 11)
    q = 1 - 0.05 * years
    life = _Life("m", years, q, 300 * years, 0.6)
    assert life(1.0) == pytest.approx((8.0, 2400.0))
    assert life(0.8) == pytest.approx((4.0, 1200.0))
    assert life(0.6) == (0.0, 0.0)


def test_home_storage_profile_shape():
    from batterylab.grading.forecast import load_home_storage_profile

    t, soc, temp = load_home_storage_profile()
    assert t[0] == 0 and t[-1] == 86400 and np.all(np.diff(t) > 0)
    assert soc[0] == pytest.approx(soc[-1]) and 0.7 < soc.max() - soc.min() < 0.8
    assert np.all((temp > 290) & (temp < 305))


# ------------------------------------------------------------------------------------ errors are batterylab errors


def test_cellfileerror_is_batterylab_error():
    assert issubclass(R.CellFileError, BatterylabError)


def test_pybamm_c20_modes_recovered():
    """PyBaMM SPM (Mohtat2020) C/20 charges at known modes, fitted with the set's own OCPs,
    relative to the fresh cell's fit: within 1 percentage point (measured <= 0.2 pp here)."""
    from batterylab.grading.ocv_fit import degradation_modes, fit_ocv_batch
    from batterylab.grading.synthetic import pybamm_c20_curve

    fresh = pybamm_c20_curve()
    aged = pybamm_c20_curve(0.1, 0.05, 0.05)
    f0, f1 = fit_ocv_batch([fresh[0], aged[0]], [fresh[1], aged[1]], "nmc532-graphite-mohtat2020")
    d = degradation_modes(f1, f0)
    assert abs(d.LLI - 0.1) < 0.01 and abs(d.LAM_PE - 0.05) < 0.01 and abs(d.LAM_NE - 0.05) < 0.01
    assert f1.rmse_V < 0.005


def test_fit_offset_recovers_constant_overpotential():
    from batterylab.grading.ocv_fit import fit_ocv, synthetic_c20_curve
    from batterylab.grading.synthetic import electrode_state

    cp, cn, y0, x0 = electrode_state(2.5, 0.1, 0.05, 0.05)
    q, v = synthetic_c20_curve(cp, cn, y0, x0)
    fit = fit_ocv(q, v + 0.01, fit_offset=True)
    assert fit.offset_V == pytest.approx(0.01, abs=2e-3) and fit.rmse_V < 1e-3


def test_knee_risk_rule():
    from batterylab.grading.batch import knee_risk
    from batterylab.grading.grade import load_bands

    b = load_bands()
    assert knee_risk({"LLI": 0.10, "LAM_NE": 0.05, "lithium_margin": 0.2}, b) == "low"
    assert knee_risk({"LLI": 0.05, "LAM_NE": 0.10, "lithium_margin": 0.2}, b) == "elevated"
    assert knee_risk({"LLI": 0.05, "LAM_NE": 0.20, "lithium_margin": 0.02}, b) == "high"
