"""A fleet sharing one profile, interpolated in the temperature offset, against the per-cell path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.interpolate import BarycentricInterpolator

import batterylab.aging as aging
from batterylab.aging import shared_profile as sp
from batterylab.errors import InputError
from batterylab.kernels import aging as K
from batterylab.kernels.interpolate import barycentric, barycentric_weights, chebyshev_points
from batterylab.kernels.jit import get_num_threads, set_num_threads

# two days a cycle: a deep discharge, a rest, a shallow cycle, a recharge (hourly, 2 days)
T_S = np.arange(49) * 3600.0
SOC = np.interp(T_S / 3600.0, [0, 5, 12, 20, 26, 30, 40, 48], [0.9, 0.2, 0.2, 0.6, 0.4, 0.5, 0.9, 0.9])
T_K = 298.15 + 6.0 * np.sin(2 * np.pi * T_S / 86400.0)
# the profile is outside some models' fitted ranges: these tests compare two paths, not the models
pytestmark = pytest.mark.filterwarnings("ignore::batterylab.aging.models.OutOfRangeWarning")
PER_SAMPLE = ["naumann2020", "schmalstieg2014", "wang2011", "calibrated_lgm50_okane2022_spm_lam"]


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.where(a == b, 0.0, np.abs(a - b) / np.abs(b)), initial=0.0))


def _pair(model, **kw):
    kw = dict(years=3, progress=False, **kw)
    return (aging.simulate_fleet(model, T_S, SOC, T_K, share_profile=True, **kw),
            aging.simulate_fleet(model, T_S, SOC, T_K, share_profile=False, **kw))


def _assert_close(a, b, rtol=1e-10):
    assert np.array_equal(a.time_s, b.time_s)
    for name in ("capacity_fraction", "efc", "full_cycles", "half_cycles"):
        assert _rel(getattr(a, name), getattr(b, name)) <= rtol, name
    if b.resistance_factor is not None:
        assert _rel(a.resistance_factor, b.resistance_factor) <= rtol
    for k in b.states:
        assert _rel(a.states[k], b.states[k]) <= rtol, k
    for k in b.groups:
        assert _rel(a.groups[k], b.groups[k]) <= rtol, k
    assert _rel(a.state.data, b.state.data) <= rtol
    assert np.array_equal(np.isnan(a.eol_time_s), np.isnan(b.eol_time_s))


def test_barycentric_is_the_interpolating_polynomial():
    """The kernel against SciPy's barycentric interpolator through the same points, and exact at nodes."""
    rng = np.random.default_rng(0)
    xn = chebyshev_points(-3.0, 5.0, 9)
    values = rng.normal(size=(9, 4))
    x = np.concatenate([rng.uniform(-3.0, 5.0, 50), xn[[0, 4, 8]]])
    out = np.empty((x.size, 4))
    barycentric(xn, barycentric_weights(9), values, np.zeros(4, dtype=np.bool_), x, out)
    want = BarycentricInterpolator(xn, values)(x)
    assert np.max(np.abs(out - want)) < 1e-12
    assert np.array_equal(out[-3:], values[[0, 4, 8]])  # a node gives its own row, to the bit
    # an entire function: the error bound 2 M (h/2)^n / n! (h the half-width) is below rounding at
    # n = 33 points on [-3, 5]
    xn = chebyshev_points(-3.0, 5.0, 33)
    out = np.empty((x.size, 1))
    barycentric(xn, barycentric_weights(33), np.exp(xn)[:, None], np.zeros(1, dtype=np.bool_), x, out)
    assert np.max(np.abs(out[:, 0] / np.exp(x) - 1.0)) < 1e-13


def test_constant_columns_are_copied():
    xn = chebyshev_points(0.0, 1.0, 5)
    values = np.column_stack([np.full(5, 0.1 + 0.2), xn ** 2])
    out = np.empty((3, 2))
    barycentric(xn, barycentric_weights(5), values, np.array([True, False]), np.array([0.13, 0.5, 0.91]), out)
    assert np.all(out[:, 0] == 0.1 + 0.2)
    assert np.allclose(out[:, 1], [0.13 ** 2, 0.25, 0.91 ** 2], rtol=1e-13)


@pytest.mark.parametrize("model", PER_SAMPLE)
def test_per_sample_models_equal_the_per_cell_path(model):
    """Offsets, multipliers and two usage scales: every output within 1e-10 of the per-cell path."""
    rng = np.random.default_rng(1)
    n = 40
    m = aging.load(model)
    a, b = _pair(model, temperature_offset_K=rng.normal(0.0, 3.0, n),
                 coefficient_multipliers=np.exp(rng.normal(0.0, 0.2, (n, m.n_states))),
                 usage_scale=np.where(np.arange(n) % 2 == 0, 1.0, 0.8))
    assert a.config["shared_profile"].startswith("interpolated"), a.config["shared_profile"]
    assert "2 group(s)" in a.config["shared_profile"]
    _assert_close(a, b)


def test_a_window_model_goes_the_per_cell_path():
    """BLAST-Lite's update windows are not smooth in the offset: the check finds it, and the fleet
    is the per-cell path's to the bit."""
    a, b = _pair("blast_nmc111_kokam75ah", temperature_offset_K=np.linspace(-6.0, 6.0, 30))
    assert "not smooth" in a.config["shared_profile"]
    assert np.array_equal(a.capacity_fraction, b.capacity_fraction)
    assert np.array_equal(a.state.data, b.state.data)


def test_thread_count_does_not_change_the_result():
    kw = dict(n_cells=50, temperature_spread_K=2.0, coefficient_spread=0.1, seed=4, years=2, progress=False,
              share_profile=True)
    before = get_num_threads()
    try:
        set_num_threads(1)
        one = aging.simulate_fleet("naumann2020", T_S, SOC, T_K, **kw)
        set_num_threads(2)
        two = aging.simulate_fleet("naumann2020", T_S, SOC, T_K, **kw)
    finally:
        set_num_threads(before)
    assert np.array_equal(one.capacity_fraction, two.capacity_fraction)
    assert np.array_equal(one.state.data, two.state.data)
    for k in one.states:
        assert np.array_equal(one.states[k], two.states[k])


def test_cells_at_a_bound_run_per_cell(monkeypatch):
    """A multiplier that takes a loss fraction to 1 cannot be scaled: that cell runs per cell."""
    monkeypatch.setattr(sp, "BLOCK", 7)  # several blocks of cells
    n = 20
    mult = np.ones((n, aging.load("naumann2020").n_states))
    mult[3] = 1e4
    a, b = _pair("naumann2020", temperature_offset_K=np.linspace(-4.0, 4.0, n), coefficient_multipliers=mult)
    assert "1 cell(s) reaching a bound" in a.config["shared_profile"]
    assert a.state.data[3, K.H_SATURATED] > 0  # the per-cell path's own count
    _assert_close(a, b)


def test_when_the_per_cell_path_runs():
    off = np.linspace(-2.0, 2.0, 12)
    auto = aging.simulate_fleet("naumann2020", T_S, SOC, T_K, temperature_offset_K=off, years=1, progress=False)
    assert "fewer than" in auto.config["shared_profile"]
    no = aging.simulate_fleet("naumann2020", T_S, SOC, T_K, temperature_offset_K=off, years=1, progress=False,
                              share_profile=False)
    assert np.array_equal(auto.state.data, no.state.data)
    rows = np.repeat(SOC[None, :], 3, axis=0)
    per_row = aging.simulate_fleet("naumann2020", T_S, rows, T_K, years=1, progress=False, share_profile=True)
    assert "per-cell profiles" in per_row.config["shared_profile"]
    # a resumed fleet whose cells differ
    resumed = aging.simulate_fleet("naumann2020", T_S + no.state.time_s, SOC, T_K, temperature_offset_K=off, years=1,
                                   progress=False, state=no.state, share_profile=True)
    assert "different states" in resumed.config["shared_profile"]
    # multipliers that do not scale a window model's states exactly
    kok = aging.simulate_fleet("blast_nmc111_kokam75ah", T_S, SOC, T_K, n_cells=4, coefficient_spread=0.1, seed=1,
                               years=1, progress=False, share_profile=True)
    assert "do not scale" in kok.config["shared_profile"]


def test_one_offset_is_one_cell_copied():
    a, b = _pair("naumann2020", temperature_offset_K=np.full(6, 1.5))
    assert "1 node cells" in a.config["shared_profile"]
    assert np.array_equal(a.state.data, b.state.data)
    assert np.array_equal(a.capacity_fraction, b.capacity_fraction)


def test_share_profile_is_checked():
    with pytest.raises(InputError, match="share_profile"):
        aging.simulate_fleet("naumann2020", T_S, SOC, T_K, n_cells=2, share_profile="yes", progress=False)


@settings(max_examples=10, deadline=None)
@given(spread=st.floats(0.1, 12.0), centre=st.floats(-10.0, 10.0), seed=st.integers(0, 2 ** 16))
def test_any_offset_range(spread, centre, seed):
    """Whatever the range of offsets, the result is the per-cell path's (or it is the per-cell path)."""
    off = centre + np.random.default_rng(seed).uniform(-spread, spread, 25)
    a, b = _pair("naumann2020", temperature_offset_K=off)
    _assert_close(a, b)


def test_equal_multipliers_of_a_model_that_does_not_scale():
    """A zero multiplier (a state switched off) on every cell of a model whose states do not scale
    exactly: the nodes run with it, nothing is divided by it."""
    m = aging.load("blast_nmc111_kokam75ah:exact")
    mult = np.ones((30, m.n_states))
    mult[:, 0] = 0.0
    a, b = _pair("blast_nmc111_kokam75ah:exact", temperature_offset_K=np.full(30, 1.0), coefficient_multipliers=mult)
    assert "1 node cells" in a.config["shared_profile"]
    assert not np.isnan(a.capacity_fraction).any()
    _assert_close(a, b)
