"""Streaming rainflow counting (kernels/rainflow.py) against the ``rainflow`` package."""

import numpy as np
import pytest
import rainflow
from hypothesis import given
from hypothesis import strategies as st

from batterylab.kernels import rainflow as rf

import naive_aging as naive
from strategies import soc_profiles


def profiles(min_size=2, max_size=60):
    """SOC series with repeated values (plateaus, equal extremes) and random times/temperatures."""
    return soc_profiles(min_size, max_size, min_dt=1.0, max_dt=7200.0, levels=(0.0, 0.2, 0.5, 0.5, 0.8, 1.0))


def ref_cycles(x):
    return [(r, m, c) for r, m, c, _, _ in rainflow.extract_cycles(list(x))]


@given(profiles())
def test_cycles_equal_rainflow_package(p):
    t, x, T = p
    cyc, efc, _ = rf.count(t, x, T)
    assert [tuple(c) for c in cyc[:, :3]] == ref_cycles(x)  # exact, not approximate
    assert efc == pytest.approx(0.5 * np.abs(np.diff(x)).sum(), rel=1e-12, abs=1e-15)


@given(profiles(3, 60))
def test_cycle_means_match_naive(p):
    t, x, T = p
    cyc, _, _ = rf.count(t, x, T)
    ref = naive.cycles(t, x, T, naive.step_crates(t, x))
    assert len(ref) == len(cyc)
    for got, want in zip(cyc, ref):
        # means are differences of running integrals in the kernel, sums in the reference:
        # relative rounding of the running integral (up to ~1e7 K s here) bounds the agreement
        assert got[3] == pytest.approx(want[3], rel=1e-9)
        assert got[4] == pytest.approx(want[4], rel=1e-9, abs=1e-12)


@given(profiles(2, 60), st.lists(st.integers(1, 59), max_size=4))
def test_streaming_in_chunks_equals_one_shot(p, cuts):
    t, x, T = p
    whole, efc_whole, _ = rf.count(t, x, T)
    cuts = sorted({c for c in cuts if c < x.size})
    state = rf.new_state()
    got = []
    bounds = [0, *cuts, x.size]
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b <= a:
            continue
        last = b == x.size
        cyc, efc, state = rf.count(t[a:b], x[a:b], T[a:b], state=state, finalize=last)
        got.extend(map(tuple, cyc))
    assert got == [tuple(c) for c in whole]  # bit-identical
    assert efc == efc_whole


def drive_like_day(seed=3):
    """A synthetic drive-cycle-like SOC day at 10 s: stop-and-go with regenerative braking,
    parking and a CC charge (not a measured profile)."""
    rng = np.random.default_rng(seed)
    n = 8640
    t = np.arange(n) * 10.0
    power = np.zeros(n)
    for start, dur in ((7.5 * 360, 0.75 * 360), (17.5 * 360, 0.8 * 360)):
        a, b = int(start), int(start + dur)
        speed = np.abs(np.cumsum(rng.normal(0, 1.5, b - a))) % 30
        accel = np.gradient(speed)
        power[a:b] = 0.02 * speed + 0.4 * accel  # [C], negative when braking
    power[int(22 * 360) : int(23.6 * 360)] = -0.25
    soc = 0.9 - np.cumsum(power) * 10 / 3600
    return t, np.clip(soc, 0, 1), 293.15 + 5 * np.sin(2 * np.pi * t / 86400)


def test_drive_like_profile_equals_package():
    t, x, T = drive_like_day()
    cyc, _, _ = rf.count(t, x, T)
    assert len(cyc) > 50  # a busy profile, many small cycles
    assert [tuple(c) for c in cyc[:, :3]] == ref_cycles(x)
    # and in 24 chunks of one hour, streaming
    state = rf.new_state()
    got = []
    for h in range(24):
        sl = slice(h * 360, (h + 1) * 360)
        c, _, state = rf.count(t[sl], x[sl], T[sl], state=state, finalize=h == 23)
        got.extend(map(tuple, c))
    assert got == [tuple(c) for c in cyc]


def test_given_crate_is_time_averaged():
    t = np.array([0.0, 3600.0, 7200.0, 10800.0])
    x = np.array([0.9, 0.1, 0.9, 0.1])
    c = np.array([2.0, 1.0, 3.0, 0.0])  # per step
    cyc, _, _ = rf.count(t, x, crate_per_h=c)
    assert cyc[0, 4] == pytest.approx(2.0)  # first half cycle: step 0 only
