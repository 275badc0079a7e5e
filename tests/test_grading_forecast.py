"""Knee-aware forecasts: population prior, straight-line baseline, selection, the held-out protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batterylab.errors import InputError, OptionError
from batterylab.grading import trajectory as T
from batterylab.grading.protocol import History, evaluate_forecast, run_protocol, summarise


def knee_curve(n, n_knee, q0=2.0):
    """A slow linear fade that bends into a fast one at n_knee (smooth over 5 % of n_knee)."""
    w = 0.05 * n_knee
    return q0 * (1 - 4e-5 * n - 8e-4 * w * np.logaddexp(0.0, (n - n_knee) / w))


def family(rng, k=8):
    out = []
    for j in range(k):
        nk = rng.uniform(600, 1400)
        n = np.arange(0.0, 1.6 * nk, 10.0)
        out.append((f"c{j}", n, knee_curve(n, nk) + rng.normal(0, 0.002, n.size), nk))
    return out


def test_population_forecast_sees_the_knee_the_line_misses():
    rng = np.random.default_rng(4)
    fam = family(rng)
    refs = [T.make_reference(name, n, q) for name, n, q, _ in fam[1:]]
    name, n, q, nk = fam[0]
    cut = n <= 0.8 * nk  # the knee is ahead of the fitted window
    thr = 0.8 * T.initial_capacity(q)
    true_cross = float(np.interp(-thr, -knee_curve(n, nk), n))
    pop = T.population_forecast(n[cut], q[cut], refs)
    line = T.linear_forecast(n[cut], q[cut])
    assert abs(pop.cycles_to(thr) - true_cross) / true_cross < 0.10
    assert abs(line.cycles_to(thr) - true_cross) / true_cross > 0.30
    med, lo, hi = pop.predict(n[~cut])
    assert np.mean((q[~cut] >= lo) & (q[~cut] <= hi)) >= 0.85
    assert np.all(lo <= med) and np.all(med <= hi)
    assert name not in pop.details["best_references"]
    # the crossing search solves only the quantile it needs: the same numbers as predict()
    for k, band in enumerate((med, lo, hi)):
        np.testing.assert_array_equal(pop._edge(n[~cut], k), band)
    assert pop.cycles_to(thr, which="lower") <= pop.cycles_to(thr) <= pop.cycles_to(thr, which="upper")


def test_linear_forecast_and_its_band():
    n = np.arange(0.0, 100.0)
    q = 2.0 - 1e-3 * n
    f = T.linear_forecast(n, q)
    med, lo, hi = f.predict([200.0])
    assert med[0] == pytest.approx(1.8, rel=1e-9) and hi[0] - lo[0] < 1e-6
    assert f.cycles_to(1.5) == pytest.approx(500.0, rel=1e-3)


def test_selection_back_tests_inside_the_history():
    n = np.arange(10.0, 1000.0, 10.0)
    q = 2.0 * (1 - 2e-3 * n**0.5)  # strongly concave: a power law, not a line
    f = T.select_forecast(n, q, candidates=("power", "linear"))
    assert f.method == "power" and f.details["backtest_rmse_Ah"]["power"] < f.details["backtest_rmse_Ah"]["linear"]
    with pytest.raises(InputError, match="at least 6"):
        T.select_forecast(n[:4], q[:4])
    with pytest.raises(InputError, match="reference"):
        T.population_forecast(n, q, [])
    with pytest.raises(OptionError, match="population"):
        T.make_forecast("spline", n, q)


def test_history_crossing_and_protocol_rows():
    h = History("d", "c", np.array([0.0, 10, 20, 30]), np.array([1.0, 1.0, 1.0, 0.7]))
    # 80 % of 1.0 between cycle 20 (1.0) and 30 (0.7): 20 + 10 * 0.2 / 0.3
    assert h.crossing() == pytest.approx(20 + 10 * 0.2 / 0.3)
    h2 = History("mit", "c", np.array([0.0, 10, 20]), np.array([1.08, 1.0, 0.87]), eol_capacity_Ah=0.88,
                 reference_capacity_Ah=1.1)
    assert h2.threshold_Ah == 0.88 and h2.ref_Ah == 1.1
    rng = np.random.default_rng(1)
    hist = [History("knee", name, n, q) for name, n, q, _ in family(rng, 6)]
    rows = run_protocol(hist, scheme="leave-cells-out", fit_fraction=0.4)
    assert len(rows) == 6 and all("error" not in r for r in rows)
    s = summarise(rows)
    assert s["n_crossing"] == 6 and s["crossing_error_median"] < 0.15
    assert s["share_better_than_naive"] >= 0.8
    # the metrics are the forecast's: a perfect forecast scores zero error and full coverage
    n, nk = np.arange(0.0, 2000.0, 10.0), 1000.0
    q = knee_curve(n, nk)
    exact = T.Forecast("exact", 800.0, lambda t: (knee_curve(t, nk),) * 3)
    e = evaluate_forecast(History("k", "x", n, q), exact, 800.0)
    # (the measured crossing is interpolated linearly between points 10 cycles apart on a curved
    # trajectory: 4e-5 points off the exact curve)
    assert e["capacity_error_pp"] == pytest.approx(0.0, abs=1e-3) and e["coverage"] == 1.0
    with pytest.raises(OptionError, match="leave-cells-out"):
        run_protocol(hist, scheme="k-fold")
    with pytest.raises(InputError, match="fit_fraction"):
        run_protocol(hist, fit_fraction=1.5)
    # leave-one-dataset-out with a single data set has no references: every row says so
    rows = run_protocol(hist, scheme="leave-one-dataset-out", method="population")
    assert all("reference" in r["error"] for r in rows)


def test_batch_grade_uses_the_population_of_longer_histories():
    from batterylab.grading.batch import GradeConfig, grade_records
    from batterylab.grading.readers import CellRecord

    rng = np.random.default_rng(9)
    recs = []
    for name, n, q, nk in family(rng, 6):
        if name == "c0":
            keep = n <= 0.8 * nk  # a young cell: its knee is ahead
            n, q = n[keep], q[keep]
        recs.append(CellRecord(name, "synthetic", "capacity-history",
                               cycles={"cycle": n, "discharge_capacity_Ah": q},
                               metadata={"nominal_capacity_Ah": 2.0, "chemistry": "nmc-graphite"}))
    records, _ = grade_records(recs, GradeConfig(second_life=False))
    young = records[0]
    fc = young.details["forecast"]
    assert fc["model"] == "population" and "95 % band" in young.forecast_note
    assert fc["cycles_to_end_low"] <= fc["cycles_to_end"]
    # the band, calibrated on the references' own forecasts, may not close: the note then says so
    assert (fc["cycles_to_end_high"] is None and "cannot tell" in young.forecast_note) or \
        fc["cycles_to_end"] <= fc["cycles_to_end_high"]
    # power-law forecasts of the same young history see no knee: they predict a much longer life
    records_p, _ = grade_records(recs[:1], GradeConfig(second_life=False, forecast_model="power"))
    assert records_p[0].remaining_efc > 1.3 * young.remaining_efc
    with pytest.raises(OptionError, match="auto"):
        GradeConfig(forecast_model="spline")


def test_cli_forecast_and_reference_options(tmp_path):
    import csv

    from click.testing import CliRunner

    from batterylab.grading.cli import grade

    rng = np.random.default_rng(2)
    d = tmp_path / "in"
    d.mkdir()
    with open(d / "fleet.csv", "w") as fh:
        fh.write("cell,cycle,capacity_Ah\n")
        for name, n, q, nk in family(rng, 5):
            if name == "c0":
                keep = n <= 0.8 * nk
                n, q = n[keep], q[keep]
            for a, b in zip(n, q):
                fh.write(f"{name},{a:g},{b:.6f}\n")
    out = tmp_path / "out"
    args = [str(d), "--out", str(out), "--chemistry", "nmc-graphite", "--nominal-capacity", "2.0", "--quiet",
            "--no-second-life", "--workers", "1"]
    res = CliRunner().invoke(grade, args)
    assert res.exit_code == 0, res.output
    with open(out / "grades.csv") as fh:
        rows = {r["cell_id"]: r for r in csv.DictReader(fh)}
    assert "population forecast" in rows["fleet:c0"]["forecast_note"]
    res = CliRunner().invoke(grade, args + ["--forecast", "power", "--bol-capacity", "2.1", "--force"])
    assert res.exit_code == 0, res.output
    with open(out / "grades.csv") as fh:
        rows = {r["cell_id"]: r for r in csv.DictReader(fh)}
    note = rows["fleet:c0"]["forecast_note"]
    assert "power forecast" in note and "beginning-of-life capacity 2.1 Ah" in note
    res = CliRunner().invoke(grade, args + ["--forecast", "spline"])
    assert res.exit_code == 2 and "spline" in res.output


def test_remaining_life_says_when_the_history_cannot_tell():
    from batterylab.grading.batch import GradeConfig, grade_records
    from batterylab.grading.readers import CellRecord

    rng = np.random.default_rng(9)
    recs = []
    for name, n, q, nk in family(rng, 3):
        if name == "c0":
            keep = n <= 0.15 * nk  # a short, nearly flat history and no other cell to learn from
            n, q = n[keep], q[keep]
        recs.append(CellRecord(name, "s", "capacity-history", cycles={"cycle": n, "discharge_capacity_Ah": q},
                               metadata={"nominal_capacity_Ah": 2.0, "chemistry": "nmc-graphite"}))
    alone, _ = grade_records(recs[:1], GradeConfig(second_life=False))
    assert "the history cannot tell" in alone[0].forecast_note
    # a cell whose own history ends below the end of second life: 0 remaining, not "cannot tell"
    batch, _ = grade_records(recs, GradeConfig(second_life=False))
    past = batch[1]
    assert past.remaining_efc == 0 and "cannot tell" not in past.forecast_note
    assert "already at or below" in past.forecast_note


@given(k=st.integers(1, 12), spread=st.floats(0.0, 0.3), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=40, deadline=None)
def test_mixture_quantiles_solve_the_mixture_cdf(k, spread, seed):
    # the band's quantiles are roots of the mixture's CDF, to 1e-9 in probability; with one
    # component they are the normal quantiles mu + sd * Phi^-1(p)
    from scipy.special import ndtr, ndtri

    rng = np.random.default_rng(seed)
    mu = rng.normal(0.8, spread + 1e-3, (50, k))
    sd = np.broadcast_to(rng.uniform(0.002, 0.05, k), mu.shape)
    w = rng.uniform(0.01, 1.0, k)
    w /= w.sum()
    probs = (0.5, 0.025, 0.975)
    q = T._mixture_quantiles(mu, sd, w, probs)
    for p, x in zip(probs, q):
        assert np.all(np.abs(ndtr((x[:, None] - mu) / sd) @ w - p) <= 1e-9)
    one = T._mixture_quantiles(mu[:, :1], sd[:, :1], np.ones(1), probs)
    for p, x in zip(probs, one):
        np.testing.assert_allclose(x, mu[:, 0] + sd[:, 0] * ndtri(p), rtol=0, atol=1e-8)


# --------------------------------------------------------------------------------------------
# knee points and the resistance elbow as a knee precursor

HKUST = Path(__file__).parents[1] / "validation" / "data" / "grading" / "hkust_capacity_resistance.csv"


def _hkust():
    import pandas as pd

    d = pd.read_csv(HKUST)
    return {c: (g.cycle.to_numpy(float), g.capacity_Ah.to_numpy(float), g.resistance_ohm.to_numpy(float))
            for c, g in d.groupby("cell")}


def test_knee_point_of_two_lines_and_of_one():
    rng = np.random.default_rng(2)
    n = np.arange(0.0, 800.0)
    q = 1.0 - 1e-4 * n - 5e-4 * np.maximum(n - 500, 0) + rng.normal(0, 1e-3, n.size)
    k = T.knee_point(n, q)
    assert k.significant and abs(k.cycle - 500) <= 10
    assert k.slope_before == pytest.approx(-1e-4, rel=0.1) and k.slope_after == pytest.approx(-6e-4, rel=0.05)
    # a rising history (resistance): the elbow, slopes in its own sign
    e = T.knee_point(n, 0.01 + 1e-5 * n + 4e-5 * np.maximum(n - 300, 0), rising=True)
    assert e.cycle == 300 and e.slope_after == pytest.approx(5e-5) and e.p_value < 1e-10
    # one straight line with serially correlated scatter is (at the 1 % level) no knee
    found = 0
    for _ in range(40):
        x = np.zeros(n.size)
        for i in range(1, n.size):
            x[i] = 0.7 * x[i - 1] + rng.normal(0, 1e-3)
        found += T.knee_point(n, 1.0 - 1e-4 * n + x).significant
    assert found <= 2


def test_resistance_elbow_precedes_the_capacity_knee_in_measured_cells():
    """HKUST cells (5 makers): every cell whose capacity history shows a knee has a resistance
    elbow before it, as Strange et al. 2021 found on other cells (measured: H11 elbow 648 /
    knee 943, H67 406 / 509)."""
    with_knee = 0
    for cell, (n, q, r) in _hkust().items():
        knee = T.knee_point(n, q)
        if not knee.significant:
            continue
        with_knee += 1
        elbow = T.knee_point(n, r, rising=True)
        assert elbow.significant and elbow.cycle < knee.cycle, cell
    assert with_knee >= 2


def test_knee_precursor_warns_before_the_knee_and_not_after():
    n, q, r = _hkust()["H67"]  # capacity knee near cycle 509 (full history)
    early = n <= 420
    pre = T.knee_precursor(n[early], q[early], n[early], r[early])
    assert pre is not None and pre["elbow_cycle"] < 420 and "knee may be ahead" in pre["note"]
    assert T.knee_precursor(n, q, n, r) is None  # the knee is in the history: the forecast sees it
    assert T.knee_precursor(n[:8], q[:8], n[:8], r[:8]) is None  # too short to tell


def test_grade_reports_the_resistance_elbow_in_the_forecast_note():
    from batterylab.grading.batch import GradeConfig, grade_records
    from batterylab.grading.readers import CellRecord

    n, q, r = _hkust()["H67"]
    early = n <= 420
    rec = CellRecord("H67", "hkust", "capacity-history",
                     cycles={"cycle": n[early], "discharge_capacity_Ah": q[early], "resistance_ohm": r[early]},
                     metadata={"nominal_capacity_Ah": 2.75, "chemistry": "nmc-graphite"})
    (out,), _ = grade_records([rec], GradeConfig(second_life=False))
    assert "resistance elbow at cycle" in out.forecast_note
    assert out.details["forecast"]["knee_precursor"]["elbow_cycle"] < 420
    del rec.cycles["resistance_ohm"]
    (plain,), _ = grade_records([rec], GradeConfig(second_life=False))
    assert "resistance elbow" not in plain.forecast_note


def test_population_band_is_calibrated_on_the_references():
    """The calibrated band is the mixture's, each half-width scaled by the same factor k (from the
    references' own forecasts at the same stage of life); one reference cannot calibrate."""
    rng = np.random.default_rng(4)
    fam = family(rng, 10)
    refs = [T.make_reference(name, n, q) for name, n, q, _ in fam[1:]]
    _, n, q, nk = fam[0]
    cut = n <= 0.6 * nk
    raw = T.population_forecast(n[cut], q[cut], refs, calibrate=False)
    cal = T.population_forecast(n[cut], q[cut], refs)
    k = cal.details["band_scale"]
    assert np.isfinite(k) and k > 0 and np.isnan(raw.details["band_scale"])
    t = np.linspace(n[cut][-1], 1.5 * nk, 7)
    m0, lo0, hi0 = raw.predict(t)
    m1, lo1, hi1 = cal.predict(t)
    np.testing.assert_allclose(m1, m0, rtol=1e-12)
    np.testing.assert_allclose(lo1, np.maximum(m1 - k * (m0 - lo0), 0.0), rtol=1e-9)  # bounded at 0 Ah
    np.testing.assert_allclose(hi1 - m1, k * (hi0 - m0), rtol=1e-9)
    thr = 0.8 * T.initial_capacity(q)
    assert cal.cycles_to(thr) == pytest.approx(raw.cycles_to(thr), rel=1e-9)  # the median is not moved
    one = T.population_forecast(n[cut], q[cut], refs[:1])
    assert np.isnan(one.details["band_scale"])


def test_forecasts_never_go_below_zero_capacity():
    """A history that falls to 0 Ah (a dead cell): every form extrapolates past it, bounded at 0."""
    n = np.arange(1.0, 30.0)
    q = np.concatenate([np.full(15, 2.0), np.zeros(14)])
    for method in ("power", "double_exp", "bacon_watts", "linear"):
        med, lo, hi = T.make_forecast(method, n, q).predict(np.linspace(1.0, 90.0, 40))
        assert np.all(lo >= 0.0) and np.all(med >= lo) and np.all(hi >= med), method


def test_double_exponential_at_cycle_counts_that_overflow_says_so():
    """exp(d n) overflows at every start when 'cycles' are in the millions (seconds given as
    cycles, say): a clear error that names the cycle range, not scipy's."""
    n = np.arange(1.0, 50.0) * 1e6
    q = 2.0 - 0.01 * np.arange(49.0)
    with pytest.raises(InputError, match="double_exp fade model could not be fitted.*are they cycle numbers"):
        T.make_forecast("double_exp", n, q)
    assert T.select_forecast(n, q).method in T.METHODS  # selection skips the form that cannot be fitted
