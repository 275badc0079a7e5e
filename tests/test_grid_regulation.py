"""batterylab.grid: PJM regulation score, RegD-like signal, signal files and regulation revenue (no PyBaMM)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from batterylab.errors import InputError
from batterylab.grid import scoring, signal as duty


@pytest.fixture(scope="module")
def regd():
    return duty.regd_signal(1.0, seed=7)


def test_regd_signal_shape_range_and_energy_neutral(regd):
    t, s = regd
    assert np.all(np.diff(t) == 2.0)  # RegD resolution
    assert t[-1] == 3600.0
    assert np.max(np.abs(s)) == pytest.approx(1.0, abs=1e-12)
    assert s[0] == 0.0 and s[-1] == 0.0
    # energy-neutral over its period: the integral is zero to round-off (vs |s| integral ~ 2000 s)
    assert abs(np.trapezoid(s, t)) < 1e-9 * np.trapezoid(np.abs(s), t)


def test_regd_signal_reproducible_from_seed():
    a = duty.regd_signal(0.5, seed=3)[1]
    b = duty.regd_signal(0.5, seed=3)[1]
    c = duty.regd_signal(0.5, seed=4)[1]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    d = duty.regd_signal(0.5, rng=np.random.default_rng(3))[1]
    assert np.array_equal(a, d)


def test_identical_response_scores_one(regd):
    t, s = regd
    r = scoring.performance_score(t, 25.0 * s, 25.0 * s)
    assert r["accuracy"] == pytest.approx(1.0, abs=1e-12)
    assert r["delay"] == 1.0
    assert r["precision"] == pytest.approx(1.0, abs=1e-12)
    assert r["score"] == pytest.approx(1.0, abs=1e-12)
    assert r["passed"]


def test_zero_response_has_zero_precision_and_fails(regd):
    t, s = regd
    r = scoring.performance_score(t, s, np.zeros_like(s))
    assert r["precision"] == pytest.approx(0.0, abs=1e-12)
    assert r["accuracy"] == 0.0
    assert not r["passed"]


def test_half_amplitude_response_hand_computed(regd):
    """R = S/2: correlation 1 at zero delay, precision 1 - mean|S/2|/mean|S| = 0.5 -> score 5/6."""
    t, s = regd
    r = scoring.performance_score(t, s, 0.5 * s)
    assert r["accuracy"] == pytest.approx(1.0, abs=1e-12)
    assert r["precision"] == pytest.approx(0.5, abs=1e-12)
    assert r["score"] == pytest.approx(5.0 / 6.0, abs=1e-12)


def test_delayed_response_found_by_delay_search(regd):
    t, s = regd
    lag = 60.0
    resp = np.interp(t - lag, t, s, left=0.0)
    r = scoring.performance_score(t, s, resp)
    assert r["delay_s"] == lag
    # delay score |(delta - 5 min)/5 min| after the 10-s propagation allowance
    assert r["delay"] == pytest.approx(1.0 - (lag - 10.0) / 300.0, abs=1e-12)
    assert r["accuracy"] > 0.999


def naive_hourly(s, r, interval=10.0, kmax=30, allowance=10.0):
    """Slow reference: every delay, numpy corrcoef, PJM formulas."""
    best = None
    for k in range(kmax + 1):
        a, b = s[: len(s) - k], r[k:]
        c = 0.0 if a.std() == 0 or b.std() == 0 else np.corrcoef(a, b)[0, 1]
        d = abs((max(k * interval - allowance, 0) - 300.0) / 300.0)
        if best is None or c + d > best[0] + 1e-12:
            best = (c + d, c, d)
    prec = 1 - np.mean(np.abs(r - s)) / np.mean(np.abs(s))
    vals = [min(max(x, 0), 1) for x in (best[1], best[2], prec)]
    return sum(vals) / 3


@settings(max_examples=25)
@given(seed=st.integers(0, 10_000), gain=st.floats(0.2, 1.5), noise=st.floats(0.0, 0.5), lag=st.integers(0, 40))
def test_hourly_score_matches_naive_reference(seed, gain, noise, lag):
    rng = np.random.default_rng(seed)
    s = np.cumsum(rng.standard_normal(361)).astype(np.float64)
    s -= s.mean()
    r = gain * np.roll(s, lag) + noise * rng.standard_normal(361) * s.std()
    got = scoring.hourly_score(s, r)["score"]
    assert got == pytest.approx(naive_hourly(s, r), abs=1e-9)


def test_downsample_to_10_s(regd):
    t, s = regd
    ts, s10 = scoring.downsample(t, s)
    assert np.all(np.diff(ts) == 10.0)
    assert np.array_equal(s10, s[::5])


def test_score_rejects_short_and_mismatched_input():
    t = np.arange(0, 200.0, 2.0)
    with pytest.raises(InputError, match="needs at least"):
        scoring.performance_score(t, np.sin(t), np.sin(t))
    with pytest.raises(InputError, match="same length"):
        scoring.performance_score(t, np.sin(t), np.sin(t[:-1]))


def test_signal_csv_roundtrip_and_errors(tmp_path):
    t, s = duty.regd_signal(0.2, seed=1)
    p = tmp_path / "sig.csv"
    p.write_text("# synthetic\ntime_s,signal\n" + "\n".join(f"{float(a)!r},{float(b)!r}" for a, b in zip(t, s)))
    t2, s2 = duty.load_signal_csv(p)
    assert np.array_equal(t2, t) and np.array_equal(s2, s)
    bad = tmp_path / "bad.csv"
    bad.write_text("time,value\n0,0\n")
    with pytest.raises(InputError, match="expected 'time_s' and 'signal'"):
        duty.load_signal_csv(bad)
    big = tmp_path / "big.csv"
    big.write_text("time_s,signal\n0,0\n2,1.5\n")
    with pytest.raises(InputError, match=r"\[-1, 1\]"):
        duty.load_signal_csv(big)
    with pytest.raises(InputError, match="does not exist"):
        duty.signal_from_spec(tmp_path / "missing.csv", 1.0)


@settings(max_examples=20)
@given(hours=st.floats(0.05, 2.0), seed=st.integers(0, 2**31 - 1), tau=st.floats(5.0, 600.0))
def test_regd_signal_properties_hold_for_any_seed(hours, seed, tau):
    t, s = duty.regd_signal(hours, seed=seed, tau_s=tau)
    assert t.dtype == np.float64 and s.dtype == np.float64
    assert np.all(np.isfinite(s))
    assert np.max(np.abs(s)) == pytest.approx(1.0, abs=1e-12)
    assert abs(np.trapezoid(s, t)) < 1e-9 * max(np.trapezoid(np.abs(s), t), 1.0)


# --- revenue (PJM regulation credits) -----------------------------------------------------------


def test_mileage_is_the_sum_of_absolute_changes():
    from batterylab.grid import mileage

    assert mileage([0.0, 0.5, -0.5, -0.5, 1.0]) == pytest.approx(0.5 + 1.0 + 0.0 + 1.5)
    t, s = duty.regd_signal(1.0, seed=2)
    assert mileage(s) == pytest.approx(np.abs(np.diff(s)).sum())


def test_regulation_revenue_follows_the_settlement_formula():
    from batterylab.grid import regulation_revenue

    # 2 MW for 3 h at score 0.9: capability 2*3*0.9*12 = 64.8 $, performance 2*3*2.5*0.9*1.5 = 20.25 $
    r = regulation_revenue(2e6, 3.0, 0.9, capability_price_per_MWh=12.0, performance_price_per_MW=1.5,
                           mileage_ratio=2.5)
    assert r["capability"] == pytest.approx(64.8)
    assert r["performance"] == pytest.approx(20.25)
    assert r["total"] == pytest.approx(85.05)
    assert r["per_hour"] == pytest.approx(85.05 / 3.0)
    # linear in capacity, hours and score; zero at score 0
    r2 = regulation_revenue(4e6, 3.0, 0.45, capability_price_per_MWh=12.0, performance_price_per_MW=1.5,
                            mileage_ratio=2.5)
    assert r2["total"] == pytest.approx(r["total"])
    assert regulation_revenue(2e6, 3.0, 0.0, capability_price_per_MWh=12.0, performance_price_per_MW=1.5,
                              mileage_ratio=2.5)["total"] == 0.0


@pytest.mark.parametrize("kw,needle", [({"score": 1.2}, "score"), ({"mileage_ratio": -1.0}, "mileage_ratio"),
                                       ({"regulation_W": 0.0}, "regulation_W"),
                                       ({"capability_price_per_MWh": float("nan")}, "capability_price_per_MWh")])
def test_regulation_revenue_rejects_bad_input(kw, needle):
    from batterylab.grid import regulation_revenue

    args = {"regulation_W": 1e6, "hours": 1.0, "score": 0.9, "capability_price_per_MWh": 10.0,
            "performance_price_per_MW": 1.0, "mileage_ratio": 3.0}
    args.update(kw)
    with pytest.raises(InputError, match=needle):
        regulation_revenue(**args)


def test_applications_share_one_regulation_module():
    from batterylab import grid, solid_state

    assert solid_state.regd_signal is grid.regd_signal
    assert solid_state.performance_score is grid.performance_score
