"""The compiled ageing integrator against its naive reference, and its exactness properties."""

import copy
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import batterylab.aging as aging
from batterylab.kernels import aging as K
from batterylab.aging.models import OutOfRangeWarning

import naive_aging as naive
from strategies import soc_profiles as profiles

#: A model exercising every term type, state type, driver and combination rule.
ALL_TERMS = {
    "name": "test_all_terms",
    "nominal_capacity_Ah": 2.0,
    "throughput_factor": 2.0,
    "ocv_table": {"soc": [0, 0.5, 1], "voltage_V": [3.0, 3.6, 4.2]},
    "anode_potential_table": {"soc": [0, 0.1, 1], "potential_V": [0.8, 0.2, 0.08]},
    "groups": {
        "LLI": {"target": "capacity", "offset": 1.0},
        "LAM": {"target": "capacity", "offset": 1.01},
        "R1": {"target": "resistance", "offset": 1.0},
        "R_LAM": {"target": "resistance", "kind": "inverse_of", "of": "LAM", "c0": -0.08, "c1": 1.09},
    },
    "capacity_combine": "min",
    "resistance_combine": "max",
    "states": [
        {"name": "cal", "type": "power", "driver": "time_days", "exponent": 0.5, "group": "LLI",
         "k": {"coef": 1e-3, "terms": [
             {"type": "arrhenius", "activation_energy_J_per_mol": 30000, "reference_temperature_K": 298.15},
             {"type": "exp", "stressor": "soc", "rate": 1.0, "center": 0.5},
             {"type": "exp_over_T", "stressor": "anode_potential_V", "rate_K": -500.0, "offset": 0.0004}]}},
        {"name": "cyc", "type": "power", "driver": "cycle_efc", "exponent": 0.7, "group": "LLI",
         "k": {"sum": [
             {"coef": 1e-3, "terms": [{"type": "power", "stressor": "dod", "exponent": 1.5},
                                      {"type": "exp_exp", "stressor": "dod", "outer": 0.5, "inner": 1.0, "power": 2.0}]},
             {"coef": 2e-4, "terms": [{"type": "table", "stressor": "crate_per_h", "x": [0.1, 1, 3], "y": [1, 2, 4]}]}]}},
        {"name": "lam", "type": "sigmoid", "driver": "step_efc", "exponent": 3.0, "group": "LAM", "initial": 1e-8,
         "k": {"coef": 1.0, "terms": [{"type": "linear_T", "stressor": "soc", "c0": 50.0, "c1": 2.0,
                                       "reference_temperature_K": 328.15}], "lo": 1.0, "power": -1.0},
         "y_inf": 0.5},
        {"name": "relax", "type": "exp_relax", "driver": "cycle_throughput_Ah", "group": "LLI",
         "k": {"coef": 1e-3, "terms": [{"type": "arrhenius_raw", "a_K": -1000.0, "b": 3.35}]}, "y_inf": 0.02},
        {"name": "pvar", "type": "power_var", "driver": "time_hours", "group": "R1",
         "exponent": {"coef": 0.5, "terms": [{"type": "poly", "stressor": "temperature_K", "coefficients": [1.0, 0.01],
                                              "center": 298.15}], "lo": 0.1, "hi": 2.0},
         "k": {"coef": 1e-4, "terms": [{"type": "poly", "stressor": "voltage_V", "coefficients": [0.1, 1.0, 0.5, 0.1],
                                        "center": 3.5}]}},
        {"name": "count", "type": "power", "driver": "cycle_count", "exponent": 1.0, "group": "R1", "k": 1e-5},
        {"name": "stepAh", "type": "power", "driver": "step_throughput_Ah", "exponent": 0.8, "group": "R1",
         "k": {"coef": 1e-4, "terms": [{"type": "const"}]}},
    ],
}
#: A model whose step states are all POWER states that read no C-rate (so a repeated profile is
#: replayed event to event), with every state type on the cycle drivers, a cycle rate that reads
#: the C-rate and throughput counted against the nominal capacity (so that C-rate changes as the
#: capacity fades: the C-rate terms are evaluated afresh, the others' values reused). Tables,
#: groups and combination rules as in ALL_TERMS.
CYCLE_TERMS = {
    **{key: ALL_TERMS[key] for key in ("ocv_table", "anode_potential_table", "groups",
                                       "capacity_combine", "resistance_combine")},
    "name": "test_cycle_terms",
    "nominal_capacity_Ah": 2.0,
    "throughput_basis": "nominal_capacity",
    "states": [
        ALL_TERMS["states"][0],
        {"name": "stepq", "type": "power", "driver": "step_efc", "exponent": 0.8, "group": "LLI",
         "k": {"coef": 2e-4, "terms": [{"type": "arrhenius_raw", "a_K": -800.0, "b": 2.68}]}},
        {"name": "cyc_crate", "type": "power", "driver": "cycle_efc", "exponent": 0.7, "group": "LLI",
         "k": {"coef": 1e-3, "terms": [{"type": "table", "stressor": "crate_per_h", "x": [0.1, 1, 3], "y": [1, 2, 4]},
                                       {"type": "power", "stressor": "dod", "exponent": 1.5}]}},
        {"name": "cyc_T", "type": "power", "driver": "cycle_efc", "exponent": 0.6, "group": "LLI",
         "k": {"coef": 5e-4, "terms": [{"type": "arrhenius", "activation_energy_J_per_mol": 40000,
                                        "reference_temperature_K": 298.15},
                                       {"type": "exp_exp", "stressor": "dod", "outer": 0.5, "inner": 1.0, "power": 2.0}]}},
        {"name": "lam", "type": "sigmoid", "driver": "cycle_efc", "exponent": 3.0, "group": "LAM", "initial": 1e-8,
         "k": {"coef": 1.0, "terms": [{"type": "linear_T", "stressor": "dod", "c0": 50.0, "c1": -2.0,
                                       "reference_temperature_K": 328.15}], "lo": 1.0, "power": -1.0},
         "y_inf": 0.5},
        {"name": "relax", "type": "exp_relax", "driver": "cycle_throughput_Ah", "group": "LLI",
         "k": {"coef": 1e-3, "terms": [{"type": "arrhenius_raw", "a_K": -1000.0, "b": 3.35}]}, "y_inf": 0.02},
        {"name": "pvar", "type": "power_var", "driver": "cycle_count", "group": "R1",
         "exponent": {"coef": 0.5, "terms": [{"type": "poly", "stressor": "temperature_K", "coefficients": [1.0, 0.01],
                                              "center": 298.15}], "lo": 0.1, "hi": 2.0},
         "k": {"coef": 1e-4, "terms": [{"type": "poly", "stressor": "voltage_V", "coefficients": [0.1, 1.0, 0.5, 0.1],
                                        "center": 3.5}]}},
    ],
}
SHIPPED = ["naumann2020", "schmalstieg2014", "wang2011"]
SPECS = {name: json.loads(aging.load(name).path.read_text()) for name in SHIPPED}
SPECS["test_all_terms"] = ALL_TERMS
SPECS["test_cycle_terms"] = CYCLE_TERMS


def model_of(name):
    if name in ("test_all_terms", "test_cycle_terms"):
        return aging.load(copy.deepcopy(SPECS[name]))
    return aging.load(name)


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        return fn(*a, **k)


def assert_close_to_naive(res, ref, rel):
    for name, y in ref["states"].items():
        assert res.states[name][-1] == pytest.approx(y, rel=rel, abs=1e-15), name
    assert res.capacity_fraction[-1] == pytest.approx(ref["q"], rel=rel, abs=1e-15)
    if res.resistance_factor is not None:
        assert res.resistance_factor[-1] == pytest.approx(ref["r"], rel=rel, abs=1e-15)
    assert res.efc[-1] == pytest.approx(ref["efc"], rel=1e-12, abs=1e-15)


# Kernel vs naive: the kernel stores u = y^(1/p) and takes cycle means as differences of running
# integrals; the reference applies y-formulas and sums segments. Both are exact arithmetic of the
# same equations, so they agree to accumulated rounding: 1e-7 relative covers exp(-Ea/RT)
# amplification (Ea/RT ~ 10-30) of 1e-9 relative differences in mean temperatures.
REL = 1e-7

# A repeated profile against the same profile written out: the same step path, but a
# repetition's sample times are the period's times plus an offset, which differ from the
# written-out times in their last bits; a cycle's mean temperature and C-rate are differences of
# running integrals over the cycle and a rate like Wang's exp((-Ea + b C) / RT) amplifies them
# ~20-fold. 1e-10 bounds this rounding and stays far below the effect of a cycle evaluated at a
# wrong stress (1e-7 and more on these short profiles).
REPLAY_REL = 1e-10


@pytest.mark.parametrize("name", sorted(SPECS))
@given(p=profiles(), repeat=st.integers(1, 3))
@settings(max_examples=25)
def test_kernel_matches_naive(name, p, repeat):
    t, soc, T = p
    res = quiet(aging.simulate, model_of(name), t, soc, T, repeat=repeat)
    tm, sm = naive.materialise(t, soc, repeat)
    _, Tm = naive.materialise(t, T, repeat)
    ref = naive.simulate(SPECS[name], tm, sm, Tm)
    assert_close_to_naive(res, ref, REL)


@given(p=profiles(), cur=st.floats(-10, 10))
@settings(max_examples=20)
def test_kernel_matches_naive_with_current(p, cur):
    t, soc, T = p
    I = cur * np.cos(np.arange(t.size))
    res = quiet(aging.simulate, model_of("test_all_terms"), t, soc, T, current_A=I)
    ref = naive.simulate(ALL_TERMS, t, soc, T, current_A=I)
    assert_close_to_naive(res, ref, REL)


def test_long_run_knee_matches_naive():
    # the sigmoid LAM knee and the exp relaxation need many cycles to show: 300 full swings
    t = np.array([0.0, 3600.0, 7200.0])
    soc = np.array([0.95, 0.05, 0.95])
    T = np.array([300.0, 310.0, 300.0])
    res = quiet(aging.simulate, model_of("test_all_terms"), t, soc, T, repeat=300)
    tm, sm = naive.materialise(t, soc, 300)
    _, Tm = naive.materialise(t, T, 300)
    ref = naive.simulate(ALL_TERMS, tm, sm, Tm)
    assert ref["states"]["lam"] > 0.1  # past the knee
    assert_close_to_naive(res, ref, REL)


@pytest.mark.parametrize("name", sorted(SPECS))
@given(p=profiles(3, 25), cut=st.integers(1, 23), gap=st.booleans())
@settings(max_examples=20)
def test_chunked_equals_one_shot(name, p, cut, gap):
    t, soc, T = p
    m = model_of(name)
    cut = min(cut, t.size - 2)
    whole = quiet(aging.simulate, m, t, soc, T)
    if gap:  # chunks that do not share a sample: the gap is one step
        a = quiet(aging.simulate, m, t[: cut + 1], soc[: cut + 1], T[: cut + 1], finalize=False)
        b = quiet(aging.simulate, m, t[cut + 1 :], soc[cut + 1 :], T[cut + 1 :], state=a.state)
    else:  # chunks sharing sample `cut`
        a = quiet(aging.simulate, m, t[: cut + 1], soc[: cut + 1], T[: cut + 1], finalize=False)
        b = quiet(aging.simulate, m, t[cut:], soc[cut:], T[cut:], state=a.state)
    # stitched trajectory equals the one-shot one to 1e-12 (in practice bit for bit)
    q = np.concatenate([a.capacity_fraction, b.capacity_fraction[0 if gap else 1 :]])
    np.testing.assert_allclose(q, whole.capacity_fraction, rtol=1e-12, atol=1e-15)
    for s in whole.states:
        np.testing.assert_allclose(b.states[s][-1], whole.states[s][-1], rtol=1e-12, atol=1e-15)
    assert b.efc[-1] == whole.efc[-1]


@pytest.mark.parametrize("name", sorted(SPECS))
@given(p=profiles(2, 12), repeat=st.integers(2, 6))
@settings(max_examples=15)
def test_repeated_equals_materialised(name, p, repeat):
    t, soc, T = p
    m = model_of(name)
    rep = quiet(aging.simulate, m, t, soc, T, repeat=repeat)
    tm, sm = naive.materialise(t, soc, repeat)
    _, Tm = naive.materialise(t, T, repeat)
    mat = quiet(aging.simulate, m, tm, sm, Tm, output_interval_s=None)
    # the repeated run records once per repetition: compare at those instants
    idx = np.searchsorted(mat.time_s, rep.time_s)
    np.testing.assert_allclose(rep.capacity_fraction, mat.capacity_fraction[idx], rtol=REPLAY_REL, atol=1e-15)
    for s in rep.states:
        np.testing.assert_allclose(rep.states[s], mat.states[s][idx], rtol=REPLAY_REL, atol=1e-15)


@pytest.mark.parametrize("name", ["test_cycle_terms", "naumann2020", "blast_nmc111_kokam75ah:exact"])
@given(p=profiles(3, 14), repeat=st.integers(3, 9), rows=st.integers(2, 40))
@settings(max_examples=15)
def test_repeated_equals_materialised_row_by_row(name, p, repeat, rows):
    # Output rows fall inside repetitions here: every row equals the materialised run's row at
    # the same sample, to rounding (a repetition's sample times are offsets of the period).
    t, soc, T = p
    m = model_of(name)
    interval = (t[-1] - t[0]) * repeat / rows
    rep = quiet(aging.simulate, m, t, soc, T, repeat=repeat, output_interval_s=interval)
    tm, sm = naive.materialise(t, soc, repeat)
    _, Tm = naive.materialise(t, T, repeat)
    mat = quiet(aging.simulate, m, tm, sm, Tm, output_interval_s=interval)
    np.testing.assert_array_equal(rep.time_s, mat.time_s)
    np.testing.assert_allclose(rep.capacity_fraction, mat.capacity_fraction, rtol=REPLAY_REL, atol=1e-15)
    if rep.resistance_factor is not None:
        np.testing.assert_allclose(rep.resistance_factor, mat.resistance_factor, rtol=REPLAY_REL, atol=1e-15)
    np.testing.assert_allclose(rep.efc, mat.efc, rtol=REPLAY_REL, atol=1e-15)
    for s in rep.states:
        np.testing.assert_allclose(rep.states[s], mat.states[s], rtol=REPLAY_REL, atol=1e-15, err_msg=s)
    # the resumable state continues both the same way (the next call shares the last sample)
    t2 = t - t[0] + tm[-1]
    t2[0] = tm[-1]
    more = quiet(aging.simulate, m, t2, soc, T, repeat=2, state=rep.state)
    more_m = quiet(aging.simulate, m, t2, soc, T, repeat=2, state=mat.state)
    np.testing.assert_allclose(more.capacity_fraction, more_m.capacity_fraction, rtol=REPLAY_REL, atol=1e-15)


def _day(hours=24, swing=0.4):
    t = np.arange(0.0, hours * 3600.0 + 1.0, 3600.0)
    soc = 0.5 + swing * np.cos(2 * np.pi * t / 86400.0)
    T = 295.0 + 8.0 * np.sin(2 * np.pi * t / 86400.0)
    return t, soc, T


@pytest.mark.parametrize("name", ["naumann2020", "schmalstieg2014", "wang2011", "calibrated_lgm50_okane2022_spm_lam"])
def test_replay_of_a_periodic_day_equals_the_written_out_run(name):
    # A periodic day repeated 40 times: once a repetition ends where it started (same stack,
    # same running integrals between its points), the later ones are replayed; rows inside the
    # repetitions and the resumable state equal the written-out run's to rounding.
    t, soc, T = _day()
    I = None if name != "calibrated_lgm50_okane2022_spm_lam" else 5.0 * 0.4 * 2 * np.pi / 24 * np.sin(2 * np.pi * t / 86400.0)
    rep = quiet(aging.simulate, name, t, soc, T, I, repeat=40, output_interval_s=7 * 3600.0)
    assert rep.config["replayed_repetitions"] >= 37  # the first one to three are stepped
    tm, sm = naive.materialise(t, soc, 40)
    _, Tm = naive.materialise(t, T, 40)
    Im = None if I is None else naive.materialise(t, I, 40)[1]
    mat = quiet(aging.simulate, name, tm, sm, Tm, Im, output_interval_s=7 * 3600.0)
    assert mat.config["replayed_repetitions"] == 0
    np.testing.assert_array_equal(rep.time_s, mat.time_s)
    np.testing.assert_allclose(rep.capacity_fraction, mat.capacity_fraction, rtol=REPLAY_REL, atol=1e-15)
    np.testing.assert_allclose(rep.efc, mat.efc, rtol=REPLAY_REL, atol=1e-15)
    for s in rep.states:
        np.testing.assert_allclose(rep.states[s], mat.states[s], rtol=REPLAY_REL, atol=1e-15, err_msg=s)
    assert rep.full_cycles[0] == mat.full_cycles[0] and rep.half_cycles[0] == mat.half_cycles[0]
    n = K.HEAD + len(rep.states)  # head and states of the resumable state vectors
    np.testing.assert_allclose(rep.state.data[0, :n], mat.state.data[0, :n], rtol=REPLAY_REL, atol=1e-9)


@pytest.mark.parametrize("name", ["naumann2020", "wang2011", "calibrated_lgm50_okane2022_spm_lam"])
@pytest.mark.parametrize("finalize", [True, False])
def test_replay_of_a_cycle_that_ends_above_its_start_equals_the_written_out_run(name, finalize):
    # One cycle from 0.20 up to 0.90, down to 0.30 (the held-out calibration cycles end a little
    # above their start, too). The first sample stays at the bottom of the rainflow stack for
    # good: later repetitions never go below 0.30, so their time and charge since it grow by one
    # period each and the state is never periodic in that interval. That point takes part in no
    # cycle and stays in place, so the repetitions are still replayed; the rows, the cycle counts,
    # the residue's half cycles (finalize) and the resumable state equal the written-out run's.
    t = np.array([0.0, 1800.0, 3600.0, 5400.0, 7200.0, 9000.0])
    soc = np.array([0.20, 0.55, 0.90, 0.70, 0.45, 0.30])
    T = np.array([298.0, 301.0, 304.0, 303.0, 300.0, 299.0])
    I = np.gradient(soc, t) * 5.0 * 3600.0  # the calibrated model reads the current (5 Ah cell)
    repeat = 50
    rep = quiet(aging.simulate, name, t, soc, T, I, repeat=repeat, output_interval_s=4 * 9000.0, finalize=finalize)
    assert rep.config["replayed_repetitions"] >= repeat - 4
    tm, sm = naive.materialise(t, soc, repeat)
    Tm = naive.materialise(t, T, repeat)[1]
    Im = naive.materialise(t, I, repeat)[1]
    mat = quiet(aging.simulate, name, tm, sm, Tm, Im, output_interval_s=4 * 9000.0, finalize=finalize)
    np.testing.assert_array_equal(rep.time_s, mat.time_s)
    np.testing.assert_allclose(rep.capacity_fraction, mat.capacity_fraction, rtol=REPLAY_REL, atol=1e-15)
    for s in rep.states:
        np.testing.assert_allclose(rep.states[s], mat.states[s], rtol=REPLAY_REL, atol=1e-15, err_msg=s)
    assert rep.full_cycles[0] == mat.full_cycles[0] and rep.half_cycles[0] == mat.half_cycles[0]
    n = K.HEAD + len(rep.states)
    np.testing.assert_allclose(rep.state.data[0, :n], mat.state.data[0, :n], rtol=REPLAY_REL, atol=1e-9)
    # the stack and its points' times and integrals, which a resumed run's cycles read
    rn = int(rep.state.data[0, K.H_NSTACK])
    assert rn == int(mat.state.data[0, K.H_NSTACK]) and rn >= 2
    base = n
    for f in range(K.N_PT):
        sl = slice(base + f * (K.STACK + 1), base + f * (K.STACK + 1) + rn)
        np.testing.assert_allclose(rep.state.data[0, sl], mat.state.data[0, sl], rtol=REPLAY_REL, atol=1e-9)


def test_replayed_rows_on_repetition_boundaries_fall_where_the_steps_put_them():
    # Rows every three periods fall on repetitions' last samples; with periods that are not
    # integers, a repetition's end computed as one fused multiply-add rounds differently from the
    # stepping path's time_s[j] + offset, which once put such a row one sample late.
    for period in np.linspace(3000.0, 3100.0, 60):
        t = np.array([0.0, 0.13 * period, 0.61 * period, period])
        soc = np.array([0.5, 0.9, 0.2, 0.5])
        T = np.full(4, 298.15)
        rep = quiet(aging.simulate, "naumann2020", t, soc, T, repeat=40, output_interval_s=3 * period)
        assert rep.config["replayed_repetitions"] > 30
        tm, sm = naive.materialise(t, soc, 40)
        _, Tm = naive.materialise(t, T, 40)
        mat = quiet(aging.simulate, "naumann2020", tm, sm, Tm, output_interval_s=3 * period)
        np.testing.assert_array_equal(rep.time_s, mat.time_s, err_msg=f"period {period!r}")
        np.testing.assert_allclose(rep.capacity_fraction, mat.capacity_fraction, rtol=REPLAY_REL, atol=1e-15)
        np.testing.assert_allclose(rep.efc, mat.efc, rtol=REPLAY_REL, atol=1e-15)


def test_replay_waits_for_a_periodic_state():
    # The first sample's temperature differs from the last one's: the first repetition's cycles
    # read it, so the state after one repetition is not periodic and replay must wait (a replay
    # taken from it was 3e-4 relative off in the fade).
    t = np.arange(60.0, 721.0, 60.0)
    soc = np.r_[0.3, np.full(10, 0.1), 0.3]
    T = np.r_[243.5, np.full(11, 244.0)]
    for repeat in (3, 4, 6):
        rep = quiet(aging.simulate, "wang2011", t, soc, T, repeat=repeat, finalize=False)
        tm, sm = naive.materialise(t, soc, repeat)
        _, Tm = naive.materialise(t, T, repeat)
        mat = quiet(aging.simulate, "wang2011", tm, sm, Tm, output_interval_s=None, finalize=False)
        assert rep.config["replayed_repetitions"] == repeat - 3
        assert rep.capacity_fraction[-1] == pytest.approx(mat.capacity_fraction[-1], rel=REPLAY_REL)


def test_replay_stops_at_a_bound_and_is_not_used_where_rates_read_the_state():
    # A state that would pass its bound (a loss fraction at 1) is stepped, so the bound and the
    # saturation count are the step path's.
    spec = copy.deepcopy(SPECS["naumann2020"])
    spec["name"] = "test_fast_fade"
    for s in spec["states"]:
        if isinstance(s["k"], dict):
            s["k"]["coef"] = s["k"].get("coef", 1.0) * 100.0  # one state reaches its bound in about 10 days
    m = aging.load(spec)
    t, soc, T = _day()
    rep = quiet(aging.simulate, m, t, soc, T, repeat=60, output_interval_s=86400.0)
    tm, sm = naive.materialise(t, soc, 60)
    _, Tm = naive.materialise(t, T, 60)
    mat = quiet(aging.simulate, m, tm, sm, Tm, output_interval_s=86400.0)
    assert rep.state.data[0, K.H_SATURATED] > 0
    assert rep.state.data[0, K.H_SATURATED] == mat.state.data[0, K.H_SATURATED]
    assert 0 < rep.config["replayed_repetitions"] < 57
    np.testing.assert_allclose(rep.capacity_fraction, mat.capacity_fraction, rtol=REPLAY_REL, atol=1e-15)
    # EFC on the nominal basis reads q: no replay
    exact = quiet(aging.simulate, "blast_nmc111_kokam75ah:exact", t, soc, T, repeat=10)
    assert exact.config["replayed_repetitions"] == 0


def test_repeated_period_with_nominal_throughput_matches_naive():
    # two reversals a day, repeated for 30 days, with a C-rate-dependent cycle rate whose C-rate
    # scales with the capacity (nominal throughput basis): the same cycles and rates as the
    # naive reference over the written-out profile
    t = np.arange(0.0, 86400.0 + 1.0, 3600.0)
    soc = 0.5 + 0.4 * np.cos(2 * np.pi * t / 86400.0)
    T = 295.0 + 8.0 * np.sin(2 * np.pi * t / 86400.0)
    res = quiet(aging.simulate, model_of("test_cycle_terms"), t, soc, T, repeat=30)
    assert res.state.data[0, K.H_NFULL] + res.state.data[0, K.H_NHALF] >= 58
    tm, sm = naive.materialise(t, soc, 30)
    _, Tm = naive.materialise(t, T, 30)
    ref = naive.simulate(CYCLE_TERMS, tm, sm, Tm)
    assert_close_to_naive(res, ref, REL)


@pytest.mark.parametrize("name", sorted(SPECS))
@given(p=profiles(2, 25))
@settings(max_examples=20)
def test_capacity_never_rises(name, p):
    # none of these models has a break-in term: q must be non-increasing, r non-decreasing
    t, soc, T = p
    res = quiet(aging.simulate, model_of(name), t, soc, T, repeat=3)
    assert np.all(np.diff(res.capacity_fraction) <= 0.0)
    if res.resistance_factor is not None and name != "test_all_terms":
        assert np.all(np.diff(res.resistance_factor) >= 0.0)


@pytest.mark.parametrize("name", aging.models())
def test_no_nan_anywhere(name):
    # -30 C .. 60 C and every SOC, with deep fast cycles and long rests, 20 years
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(60, 7200, 400))
    soc = rng.uniform(0, 1, 400)
    soc[::7] = 0.0
    soc[3::7] = 1.0
    T = np.linspace(243.15, 333.15, 400)
    res = quiet(aging.simulate, name, t, soc, T, years=20)
    f = quiet(aging.simulate_fleet, name, t, soc, T, temperature_offset_K=[-10.0, 0.0, 10.0], years=2, progress=False)
    for r in (res, f):
        assert np.all(np.isfinite(r.capacity_fraction))
        assert np.all(r.capacity_fraction >= 0)
        if r.resistance_factor is not None:
            assert np.all(np.isfinite(r.resistance_factor))
        for v in r.states.values():
            assert np.all(np.isfinite(v))


# the cells of a thread's block share scratch memory (the cycle-coefficient cache): no cell may
# see another's; models with a sigmoid knee (carried between cycles) and a C-rate-dependent rate
@pytest.mark.parametrize("name", ["naumann2020", "blast_nmc111_kokam75ah", "blast_lfp_250ah_prismatic"])
def test_fleet_rows_equal_single_cell_runs(name):
    t = np.linspace(0, 86400, 25)
    soc = 0.5 + 0.4 * np.sin(2 * np.pi * t / 86400 * 2)
    T = 300 + 5 * np.cos(2 * np.pi * t / 86400)
    off = np.array([-5.0, 0.0, 7.5, 2.5])
    f = quiet(aging.simulate_fleet, name, t, soc, T, temperature_offset_K=off, repeat=30, progress=False)
    for i, o in enumerate(off):
        s = quiet(aging.simulate, name, t, soc, T + o, repeat=30)
        assert f.capacity_fraction[i, -1] == s.capacity_fraction[-1]
        for k in s.states:
            assert f.states[k][i, -1] == s.states[k][-1], k


THREADS_SCRIPT = """
import hashlib, warnings
import numpy as np
import batterylab.aging as aging
warnings.simplefilter("ignore")
t = np.linspace(0, 86400, 49)
soc = 0.55 + 0.35 * np.sin(2 * np.pi * t / 86400 * 3)
T = 298.15 + 8 * np.sin(2 * np.pi * t / 86400)
r = aging.simulate_fleet("schmalstieg2014", t, soc, T, n_cells=64, temperature_spread_K=4.0,
                         coefficient_spread=0.1, seed=7, repeat=200, progress=False, chunk_size=64)
h = hashlib.sha256(r.capacity_fraction.tobytes() + r.resistance_factor.tobytes()).hexdigest()
import numba
print(numba.get_num_threads(), h)
"""


def test_one_and_two_threads_bit_identical():
    out = []
    for n in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": n}
        p = subprocess.run([sys.executable, "-c", THREADS_SCRIPT], env=env, capture_output=True, text=True, check=True)
        threads, digest = p.stdout.split()
        assert threads == n
        out.append(digest)
    assert out[0] == out[1]


def test_kernels_run_as_plain_python():
    """A subset of the kernel tests with NUMBA_DISABLE_JIT=1 (line-by-line Python, for coverage)."""
    here = Path(__file__).parent
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "--hypothesis-profile=batterylab", str(here / "test_rainflow.py"),
         str(here / "test_aging_kernel.py") + "::test_kernel_matches_naive",
         str(here / "test_aging_kernel.py") + "::test_long_run_knee_matches_naive",
         str(here / "test_aging_kernel.py") + "::test_repeated_period_with_nominal_throughput_matches_naive",
         "-k", "not drive_like and (test_all_terms or naumann2020 or not matches_naive)"],
        env=env, capture_output=True, text=True, cwd=here.parent,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


@pytest.mark.parametrize("name", ["test_all_terms", "naumann2020"])
@pytest.mark.parametrize("with_current", [False, True])
def test_repeated_fleet_with_overrides_equals_materialised(name, with_current):
    # A repeated profile computes each cell's step stress (after its temperature offset and usage
    # scale) and its POWER rate coefficients once and reuses them in every repetition; the
    # materialised profile evaluates them step by step. Same arithmetic: same states, and the
    # same out-of-range warnings (the stress range seen is tracked on the precomputed stress).
    rng = np.random.default_rng(3)
    n, repeat = 9, 5
    t = np.cumsum(rng.uniform(600.0, 7200.0, n))
    soc = rng.uniform(0.05, 0.95, n)
    T = rng.uniform(255.0, 325.0, n)
    I = rng.uniform(-3.0, 3.0, n) if with_current else None
    # usage scales above 1 stay below top / (top - min soc) (> 1.055 for SOC in 0.05..0.95): a larger one
    # drives the SOC below 0, which simulate_fleet refuses
    kw = dict(temperature_offset_K=[-6.0, 0.0, 9.0], usage_scale=[0.5, 1.0, 1.05],
              coefficient_spread=0.2, seed=5, progress=False)

    def run(*args, **more):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always", OutOfRangeWarning)
            res = aging.simulate_fleet(model_of(name), *args, **kw, **more)
        return res, sorted(str(x.message) for x in w)

    rep, w_rep = run(t, soc, T, I, repeat=repeat)
    tm, sm = naive.materialise(t, soc, repeat)
    _, Tm = naive.materialise(t, T, repeat)
    Im = naive.materialise(t, I, repeat)[1] if with_current else None
    mat, w_mat = run(tm, sm, Tm, Im)
    np.testing.assert_allclose(rep.capacity_fraction[:, -1], mat.capacity_fraction[:, -1], rtol=REPLAY_REL, atol=1e-15)
    for s in rep.states:
        np.testing.assert_allclose(rep.states[s][:, -1], mat.states[s][:, -1], rtol=REPLAY_REL, atol=1e-15)
    np.testing.assert_allclose(rep.efc[:, -1], mat.efc[:, -1], rtol=REPLAY_REL)
    assert w_rep == w_mat
    assert np.all(rep.capacity_fraction[:, -1] < 1.0)
