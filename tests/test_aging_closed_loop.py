"""Closed-loop ageing: the duty re-simulated as the cell ages, resumed interval by interval."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from batterylab.aging import age_closed_loop
from batterylab.errors import InputError

pytestmark = pytest.mark.filterwarnings("ignore::batterylab.aging.OutOfRangeWarning")

T = np.arange(25) * 3600.0
KNOTS = ([0, 3600, 72000, 75600, 86400], [0.85, 0.35, 0.35, 0.85, 0.85])
SOC = np.interp(T, *KNOTS)


def fixed(q, r):
    return T, SOC, np.full(T.size, 310.0), None


def deeper(q, r):
    """The same energy each day from a smaller pack: the swing grows as 1 / q."""
    return T, 0.85 - (0.85 - SOC) / q, np.full(T.size, 310.0), None


@pytest.mark.parametrize("model", ["naumann2020", "blast_nmc111_kokam75ah"])
def test_a_duty_that_ignores_the_state_is_the_open_loop(model):
    r = age_closed_loop(model, fixed, years=2.0, update_interval_days=30.0)
    assert r.time_s[0] == 0.0 and r.capacity_fraction[0] == 1.0
    np.testing.assert_allclose(r.capacity_fraction, r.open_loop_capacity_fraction, rtol=1e-10, atol=0)
    assert r.fade == pytest.approx(r.open_loop_fade, rel=1e-10) and r.fade > 0
    assert np.all(np.diff(r.time_s) > 0) and r.time_s[-1] == pytest.approx(730 * 86400.0)


def test_a_deeper_swing_as_the_cell_ages_ages_it_faster():
    closed = age_closed_loop("naumann2020", deeper, years=3.0)
    assert closed.fade > closed.open_loop_fade
    assert closed.efc[-1] > age_closed_loop("naumann2020", fixed, years=3.0).efc[-1]
    # a finer update interval converges: 30 days and 10 days agree closely, both above open loop
    fine = age_closed_loop("naumann2020", deeper, years=3.0, update_interval_days=10.0)
    assert fine.fade == pytest.approx(closed.fade, rel=0.02)


def test_the_closed_loop_alone(tmp_path):
    both = age_closed_loop("blast_nmc111_kokam75ah", deeper, years=1.0)
    alone = age_closed_loop("blast_nmc111_kokam75ah", deeper, years=1.0, open_loop=False)
    assert np.array_equal(alone.capacity_fraction, both.capacity_fraction)
    assert np.array_equal(alone.resistance_factor, both.resistance_factor)
    assert alone.open_loop_capacity_fraction is None and alone.open_loop_resistance_factor is None
    assert np.isnan(alone.open_loop_fade) and "resistance_growth_open_loop" not in alone.summary()
    with h5py.File(alone.save(tmp_path / "a.h5")) as f:
        assert "capacity_fraction" in f and "open_loop_capacity_fraction" not in f
    alone.plot()


def test_the_run_stops_where_the_aged_cell_cannot_drive_the_duty(tmp_path):
    def picky(q, r):
        if q < 0.95:
            raise InputError(f"the trips empty the pack at capacity_fraction {q:.3f}")
        return deeper(q, r)

    r = age_closed_loop("naumann2020", picky, years=10.0)
    assert "cannot drive the duty" in r.stop_reason and r.capacity_fraction[-1] < 0.95
    assert r.time_s[-1] < 10 * 365 * 86400.0
    path = r.save(tmp_path / "c.h5")
    with h5py.File(path) as f:
        assert f["capacity_fraction"].shape == r.capacity_fraction.shape
    assert r.summary()["capacity_fraction_lost_closed_loop"] == pytest.approx(r.fade)


def test_bad_periods_are_named():
    with pytest.raises(InputError, match="period must be a callable"):
        age_closed_loop("naumann2020", 5, years=1.0)
    with pytest.raises(InputError, match="period must return"):
        age_closed_loop("naumann2020", lambda q, r: T, years=1.0)

    def shrinking(q, r):
        n = T.size if q == 1.0 else T.size - 2
        return T[:n], SOC[:n], np.full(n, 310.0), None

    with pytest.raises(InputError, match="same length"):
        age_closed_loop("naumann2020", shrinking, years=1.0)
    with pytest.raises(InputError, match="update_interval_days"):
        age_closed_loop("naumann2020", fixed, years=1.0, update_interval_days=0.0)


def test_window_models_resume_exactly_across_multi_window_periods():
    from batterylab.aging import simulate

    span = 91.25 * 86400.0
    t = np.concatenate([np.arange(0.0, 26 * 3600 + 1, 60.0), [26 * 3600 + 1800.0, span]])
    soc = np.concatenate([np.linspace(0.8, 0.1, t.size - 2), [0.8, 0.8]])
    one = simulate("blast_nmc811_lgm50", t, soc, 298.15, repeat=4)
    first = simulate("blast_nmc811_lgm50", t, soc, 298.15, repeat=2, finalize=False)
    second = simulate("blast_nmc811_lgm50", t + first.state.time_s, soc, 298.15, repeat=2, state=first.state)
    assert second.capacity_fraction[-1] == pytest.approx(one.capacity_fraction[-1], rel=1e-10)


def test_window_model_closed_loop_of_a_fixed_multi_window_period_is_the_open_loop():
    from batterylab.aging import simulate

    # one period per update (91 days > 30 days), each holding two update windows: every call but
    # the last stops at its period's end and the last makes up the clock's lag, as one pass does
    span = 91.25 * 86400.0
    t = np.concatenate([np.arange(0.0, 26 * 3600 + 1, 60.0), [26 * 3600 + 1800.0, span]])
    soc = np.concatenate([np.linspace(0.8, 0.1, t.size - 2), [0.8, 0.8]])
    res = age_closed_loop("blast_nmc811_lgm50", lambda q, r: (t, soc, 298.15, None), years=2.0)
    assert res.time_s.size == 9
    np.testing.assert_allclose(res.capacity_fraction, res.open_loop_capacity_fraction, rtol=1e-12)
    one = simulate("blast_nmc811_lgm50", t, soc, 298.15, repeat=8)
    assert res.capacity_fraction[-1] == pytest.approx(one.capacity_fraction[-1], rel=1e-12)


def test_window_model_last_call_runs_its_clock_past_the_unaged_steps():
    # BLAST-Lite's stop rule: the clock (window spans, not the steps between windows) must pass
    # the horizon, so a one-pass run ages a window of the next repetition; a call that is not
    # the last stops at its repetitions' end, and its state's time is the profile's end
    from batterylab.aging import simulate

    span = 91.25 * 86400.0
    t = np.concatenate([np.arange(0.0, 26 * 3600 + 1, 60.0), [26 * 3600 + 1800.0, span]])
    soc = np.concatenate([np.linspace(0.8, 0.1, t.size - 2), [0.8, 0.8]])
    last = simulate("blast_nmc811_lgm50", t, soc, 298.15, repeat=1)
    open_ = simulate("blast_nmc811_lgm50", t, soc, 298.15, repeat=1, finalize=False)
    assert open_.state.time_s == span
    assert last.state.time_s > span - 1.0
    assert last.efc[-1] > open_.efc[-1] + 0.3  # the next repetition's first window (a 24-h discharge)


def test_a_period_that_reads_the_update():
    seen = []

    def seasonal(q, r, update):
        seen.append(update)
        # a warmer half year: the period reads its update's start
        warm = (update.start_s // (182.5 * 86400.0)) % 2 == 1
        return T, SOC, np.full(T.size, 320.0 if warm else 300.0), None

    res = age_closed_loop("naumann2020", seasonal, years=1.0, update_interval_days=30.0, pass_update=True,
                          period_s=86400.0)
    assert [u.index for u in seen] == list(range(len(seen)))
    assert sum(u.periods for u in seen) == 365
    assert [u.start_s for u in seen] == list(res.time_s[:-1])
    # each update sees the state the one before reached
    assert [u.capacity_fraction for u in seen] == list(res.capacity_fraction[:-1])
    for name in res.states:
        assert [u.states[name] for u in seen] == list(res.states[name][:-1])
    assert seen[0].capacity_fraction == 1.0 and seen[-1].efc == res.efc[-2] > 0
    # the warm half ages faster than the fixed cool day's open loop
    assert res.fade > res.open_loop_fade
    with pytest.raises(InputError, match="period_s"):
        age_closed_loop("naumann2020", seasonal, years=1.0, pass_update=True)
