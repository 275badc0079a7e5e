"""Window aggregation (``stress_definitions.aggregation: window``) against a naive reference, and
one property per stress definition.

The reference is ``naive_blast_window.simulate_battery_life`` (BLAST-Lite's control flow, written
from its source) driven by a ``step`` written here from the model JSON and BLAST-Lite's state
update functions (``_update_power_state``, ``_update_sigmoid_state``,
``_update_exponential_relax_state`` of ``blast/models/degradation_model.py``): every expression
is evaluated at every sample of the window with the window's stressors and averaged by the
trapezoid rule, the clip and power applied to the mean, and each state takes one Euler step.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import batterylab.aging as aging
from batterylab.aging.models import OutOfRangeWarning
from batterylab.kernels import aging as K
from batterylab.parameter_sets import path as pset_path

import naive_aging as naive
import naive_blast_window as bw

# --- BLAST-Lite's state updates, literally -------------------------------------------------------


def update_power(y0, dx, k, p):
    if dx == 0:
        return 0.0
    if y0 == 0:
        return k * dx**p
    return k * p * (y0 / k) ** ((p - 1) / p) * dx


def update_sigmoid(y0, dx, y_inf, k, p):
    if dx == 0:
        return 0.0
    if y0 != 0 and not (-(2 * y_inf / (y0 - y_inf)) - 1 > 1):  # at or past the plateau: BLAST-Lite
        return 0.0  # gives NaN here, batterylab keeps the state (kernels/aging.py, _euler)
    if y0 == 0:
        return 2 * y_inf * (1 / 2 - 1 / (1 + math.exp((k * dx) ** p)))
    x_inv = (1 / k) * (math.log(-(2 * y_inf / (y0 - y_inf)) - 1)) ** (1 / p)
    z = (k * x_inv) ** p
    return (2 * y_inf * p * math.exp(z) * z) / (x_inv * (math.exp(z) + 1) ** 2) * dx


def update_exp_relax(y0, dx, y_inf, tau):
    if dx == 0 or y0 == y_inf:
        return 0.0
    return max((tau * y_inf**2) / (y_inf - y0), 0.0) * dx


#: q below which the next window's SOC is rescaled by 1/Q_FLOOR (the kernel's floor)
Q_FLOOR = 1e-6


def window_step(spec, mult=None, overshoot=None):
    """A ``step`` for ``naive_blast_window.simulate_battery_life`` from a model JSON;
    ``overshoot`` (a list of one float), if given, gets the largest ratio of a power state's Euler
    increment to the exact increment of its power law, k ((y0/k)^(1/p) + dx)^p - y0."""
    states = spec["states"]
    y = [s.get("initial", 0.0) for s in states]
    mult = mult or [1.0] * len(states)
    qnom = spec["nominal_capacity_Ah"]
    tfac = spec.get("throughput_factor", 1.0)
    sd = spec.get("stress_definitions", {})
    discharge = sd.get("crate_direction", "both") == "discharge"

    def step(S):
        t = S["t_secs"]
        span = t[-1] - t[0]
        if span == 0:  # a one-sample window (adjacent breakpoints): BLAST-Lite's rates are NaN
            return max(naive.combine(spec, y)[0], Q_FLOOR)  # there and stay so; batterylab ages nothing in it
        crate = S["Cdis"] if discharge else S["Crate"]
        window = {"dod": S["dod"], "soc_mean": float(np.mean(S["soc"])), "crate_per_h": crate,
                  "efc_per_day": S["delta_efc"] / S["delta_t_days"],
                  "charge_crate_per_h": math.nan, "discharge_crate_per_h": math.nan}

        def mean(e):
            vals = []
            for T, soc in zip(S["TdegK"], S["soc"]):
                stress = naive._stress(spec, T, soc, crate, S["dod"])
                stress.update(window)
                vals.append(naive.expr_sum(e, stress))
            return naive.expr_finish(e, bw.trapezoid(vals, t) / span)

        for i, s in enumerate(states):
            d = s["driver"]
            base = {"time_s": 86400.0, "time_hours": 24.0, "time_days": 1.0}.get(d)
            if base is not None:
                dx = S["delta_t_days"] * base * s.get("driver_scale", 1.0)
            else:
                dx = S["delta_efc"] * (qnom * tfac if d.endswith("_Ah") else 1.0) * s.get("driver_scale", 1.0)
            k = mean(s["k"]) * mult[i]
            typ = s.get("type", "power")
            if typ == "power":
                dy = update_power(y[i], dx, k, s["exponent"]) if k > 0 else 0.0
                p = s["exponent"]
                if overshoot is not None and y[i] > 0 and k > 0 and dx > 0:
                    exact = k * ((y[i] / k) ** (1 / p) + dx) ** p - y[i]
                    if exact > 0:
                        overshoot[0] = max(overshoot[0], dy / exact)
            elif typ == "sigmoid":
                p = s["exponent"] if not isinstance(s["exponent"], dict) else mean(s["exponent"])
                dy = update_sigmoid(y[i], dx, mean(s["y_inf"]), k, p) if k > 0 else 0.0
            else:
                dy = update_exp_relax(y[i], dx, mean(s["y_inf"]), k)
            y[i] = naive.bounded(spec, s, y[i] + dy)
        q, r, _ = naive.combine(spec, y)
        return max(q, Q_FLOOR)  # the next window's SOC rescale by 1/q (the kernel's floor)

    return step, y


def naive_window(spec, t, soc, T_K, overshoot=None):
    step, y = window_step(spec, overshoot=overshoot)
    h = bw.simulate_battery_life(t, soc, np.asarray(T_K) - 273.15, step,
                                 discharge_crate=spec.get("stress_definitions", {}).get("crate_direction") == "discharge")
    return h, y


MODELS = ["blast_nmc111_kokam75ah", "blast_lfp_250ah_prismatic", "blast_nmc811_lgm50", "blast_lfp_sonymurata3ah"]


@st.composite
def duty(draw):
    """A few days of a random duty at 30-minute to 2-hour samples: rests, charges, discharges."""
    n = draw(st.integers(30, 120))
    dt = draw(st.lists(st.sampled_from([1800.0, 3600.0, 7200.0]), min_size=n - 1, max_size=n - 1))
    t = np.concatenate([[0.0], np.cumsum(dt)])
    moves = draw(st.lists(st.sampled_from([0.0, 0.0, 0.1, -0.1, 0.3, -0.25]), min_size=n - 1, max_size=n - 1))
    soc = np.clip(0.6 + np.concatenate([[0.0], np.cumsum(moves)]), 0.02, 0.98)
    T = draw(st.floats(275.0, 315.0)) + 5.0 * np.sin(2 * np.pi * t / 86400.0)
    return t, soc, T


@pytest.mark.parametrize("model", MODELS)
@given(p=duty())
@settings(max_examples=12, deadline=None)
def test_window_kernel_matches_naive_reference(model, p):
    t, soc, T = p
    spec = json.loads(pset_path("aging", f"{model}.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        res = aging.simulate(model, t, soc, T)
    over = [0.0]
    h, y = naive_window(spec, t, soc, T, over)
    # same arithmetic in another order (trapezoid sums, table lookups of the anode potential
    # against BLAST's formula are not involved: both read the model's table): 1e-9 relative.
    # A cell can die in a window: BLAST-Lite's forward-Euler step of a power state from a small y
    # (a first window of low rate, then a high one) overshoots and the loss saturates at 1. Both
    # then rescale the SOC by 1/Q_FLOOR = 1e6, which amplifies rounding in the states that read
    # the rescaled SOC: there the states agree to 1e-5 and the saturated ones exactly.
    dead = naive.combine(spec, y)[0] <= Q_FLOOR
    for i, s in enumerate(spec["states"]):
        if dead and y[i] == 1.0:
            assert res.states[s["name"]][-1] == 1.0, s["name"]
        assert res.states[s["name"]][-1] == pytest.approx(y[i], rel=1e-5 if dead else 1e-8, abs=1e-13), s["name"]
    assert res.capacity_fraction[-1] == pytest.approx(naive.combine(spec, y)[0], rel=1e-9, abs=1e-13)
    if not dead:  # BLAST-Lite's Euler step against the exact update, as the naive step measures it
        assert res.config["euler_overshoot"] == pytest.approx(over[0], rel=1e-6)
    assert (res.time_s[-1] - t[0]) / 86400.0 == pytest.approx(h["t_days"][-1], rel=1e-12)
    assert res.efc[-1] == pytest.approx(h["efc"][-1], rel=1e-9, abs=1e-13)


# --- one property per definition -------------------------------------------------------------

BASE = {
    "nominal_capacity_Ah": 1.0,
    "groups": {"capacity": {"target": "capacity", "offset": 1.0}},
}


def _model(driver, stressor, definitions, exponent=1.0):
    return aging.load({**BASE, "name": f"test_{stressor}", "stress_definitions": definitions, "states": [
        {"name": "s", "type": "power", "driver": driver, "exponent": 1.0, "group": "capacity",
         "k": {"coef": 1e-3, "terms": [{"type": "power", "stressor": stressor, "exponent": exponent}]}}]})


def _loss(model, t, soc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        return 1.0 - aging.simulate(model, t, soc, 298.15).capacity_fraction[-1]


DAY = np.arange(0, 24 * 3600 + 1, 1800.0)


def test_rests_counted_or_not_in_a_window_crate():
    # the same daily moves, fast (then a long rest) or slow: a rest-inclusive window mean C-rate
    # is the day's charge moved over the day, the same up to BLAST-Lite's trapezoid of step rates
    # placed at the steps' ends (its integral starts one step late: edge terms of one or two
    # half-hour steps of the day, 5 % here); without rests it follows the speed (6x here)
    fast = np.interp(DAY, [0, 2 * 3600, 4 * 3600, 24 * 3600], [0.9, 0.3, 0.9, 0.9])
    slow = np.interp(DAY, [0, 12 * 3600, 24 * 3600], [0.9, 0.3, 0.9])
    include = _model("cycle_efc", "crate_per_h", {"aggregation": "window", "crate_rests": "include"})
    exclude = _model("cycle_efc", "crate_per_h", {"aggregation": "window", "crate_rests": "exclude"})
    assert _loss(include, DAY, fast) == pytest.approx(_loss(include, DAY, slow), rel=0.1)
    assert _loss(exclude, DAY, fast) > 3.0 * _loss(exclude, DAY, slow)


def test_a_rest_inside_a_cycle_dilutes_only_a_rest_inclusive_cycle_crate():
    t = np.arange(0, 30 * 3600 + 1, 1800.0)
    plain = np.interp(t, [0, 6 * 3600, 12 * 3600, 30 * 3600], [0.9, 0.3, 0.9, 0.9])
    rest = np.interp(t, [0, 6 * 3600, 12 * 3600, 18 * 3600, 30 * 3600], [0.9, 0.3, 0.3, 0.9, 0.9])
    include = _model("cycle_efc", "crate_per_h", {"aggregation": "sample", "crate_rests": "include"})
    exclude = _model("cycle_efc", "crate_per_h", {"aggregation": "sample", "crate_rests": "exclude"})
    assert _loss(exclude, t, rest) == pytest.approx(_loss(exclude, t, plain), rel=1e-9)
    assert _loss(include, t, rest) < 0.9 * _loss(include, t, plain)


def test_a_discharge_only_crate_ignores_charging():
    # k ~ C-rate^2 over time: a fast charge ages a both-directions model more, a discharge-only
    # model not at all
    t = np.arange(0, 48 * 3600 + 1, 1800.0)
    slow = np.interp(t, [0, 8 * 3600, 16 * 3600, 48 * 3600], [0.9, 0.3, 0.9, 0.9])
    fast = np.interp(t, [0, 8 * 3600, 9 * 3600, 48 * 3600], [0.9, 0.3, 0.9, 0.9])  # 8x faster charge
    for agg in ("window", "sample"):
        dis = _model("time_days", "crate_per_h", {"aggregation": agg, "crate_direction": "discharge",
                                                  "crate_rests": "exclude"}, exponent=2.0)
        both = _model("time_days", "crate_per_h", {"aggregation": agg, "crate_direction": "both",
                                                   "crate_rests": "exclude"}, exponent=2.0)
        assert _loss(dis, t, slow) == pytest.approx(_loss(dis, t, fast), rel=1e-9), agg
        assert _loss(both, t, fast) > 1.5 * _loss(both, t, slow), agg


@pytest.mark.parametrize("signed", ["charge_crate_per_h", "discharge_crate_per_h"])
def test_signed_crate_stressors_see_their_direction_only(signed):
    t = np.arange(0, 24 * 3600 + 1, 1800.0)
    down = np.interp(t, [0, 6 * 3600, 24 * 3600], [0.9, 0.3, 0.3])
    up = down[::-1].copy()
    for agg in ("window", "sample"):
        m = _model("time_days", signed, {"aggregation": agg})
        hit, miss = (down, up) if signed.startswith("discharge") else (up, down)
        assert _loss(m, t, hit) > 0.0
        assert _loss(m, t, miss) == 0.0


def test_window_mean_soc_is_the_sample_mean():
    # under window aggregation soc_mean is the window's mean SOC; a state reading it over a
    # storage window at constant SOC sees exactly that SOC
    t = np.arange(0, 3 * 86400 + 1, 3600.0)
    m = _model("time_days", "soc_mean", {"aggregation": "window"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        r = aging.simulate(m, t, np.full(t.size, 0.7), 298.15)
    clock_days = (r.time_s[-1] - t[0]) / 86400.0
    assert 1.0 - r.capacity_fraction[-1] == pytest.approx(1e-3 * 0.7 * clock_days, rel=1e-12)


def test_an_euler_step_far_beyond_the_exact_update_is_warned_about():
    """A cold day parked at low SOC (a small calendar loss), then a day at high SOC: BLAST-Lite's
    Euler step of the power law from that small state overshoots the exact update many times
    over, and a warning says so; steady days stay below 1 / ln 2 of it, and say nothing."""
    t = np.arange(0.0, 2 * 86400.0 + 1.0, 1800.0)
    soc = np.where(t < 90000.0, 0.1, 0.8)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        jump = aging.simulate("blast_nmc111_kokam75ah", t, soc, 275.0)
    assert jump.config["euler_overshoot"] > 100.0
    assert any("forward-Euler window step overshoots" in str(x.message) for x in w)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        steady = aging.simulate("blast_nmc111_kokam75ah", t, np.full(t.size, 0.5), 298.15, years=1)
        exact = aging.simulate("blast_nmc111_kokam75ah:exact", t, soc, 275.0)
    assert 1.0 < steady.config["euler_overshoot"] <= 1.0 / math.log(2.0)
    assert "euler_overshoot" not in exact.config  # exact updates: nothing to compare
    assert not any("overshoots" in str(x.message) for x in w)


def test_loss_fractions_saturate_at_one_and_say_so():
    # the calibrated model cycled at -30 C: LAM would exceed 100 %; it saturates at 1, q >= 0,
    # and a warning says so
    t = np.linspace(0.0, 86400.0, 97)
    soc = 0.5 + 0.4 * np.cos(2 * np.pi * t / 86400.0)
    I = 5.0 * 0.4 * 2 * np.pi / 24 * np.sin(2 * np.pi * t / 86400.0) * 3
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = aging.simulate("calibrated_lgm50_okane2022_spm_lam", t, soc, 243.15, I, years=30)
    assert any("saturate" in str(x.message) for x in w)
    for name, y in r.states.items():
        assert np.all(y <= 1.0) and np.all(y >= 0.0), name
    assert np.all(r.capacity_fraction >= 0.0)


@pytest.mark.parametrize("usage", [None, [1.0, 0.7, 1.0, 0.4]])
def test_a_fleet_cell_is_that_cell_alone(usage):
    # cells of a fleet share the update windows of their SOC samples (when the usage scales are
    # equal) and reuse each window's temperature-only means over the repetitions of the profile:
    # neither may leak from one cell into the next, so every cell equals its run alone, to the bit
    t = np.arange(0.0, 2 * 86400.0 + 1, 3600.0)
    soc = 0.5 + 0.4 * np.sin(2 * np.pi * t / 86400.0)
    T = 295.0 + 8.0 * np.sin(2 * np.pi * t / 86400.0 + 1.0)
    offsets = np.array([0.0, 6.0, -4.0, 11.0])
    us = None if usage is None else np.asarray(usage)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        for model in ("blast_nmc111_kokam75ah", "blast_lfp_250ah_prismatic"):
            fleet = aging.simulate_fleet(model, t, soc, T, temperature_offset_K=offsets, usage_scale=us,
                                         repeat=6, progress=False, share_profile=False)
            for c, dT in enumerate(offsets):
                one = aging.simulate_fleet(model, t, soc, T, temperature_offset_K=[dT], repeat=6, progress=False,
                                           usage_scale=None if us is None else us[c:c + 1], share_profile=False)
                assert np.array_equal(fleet.capacity_fraction[c], one.capacity_fraction[0]), (model, c)
                if fleet.resistance_factor is not None:  # the LFP model has no resistance states
                    assert np.array_equal(fleet.resistance_factor[c], one.resistance_factor[0]), (model, c)
            assert len(set(np.round(fleet.capacity_fraction[:, -1], 12))) == offsets.size  # the cells differ


# --- the linear form of exponential products (kernels.aging.window_plan) -------------------------


_STRESSOR_NAMES = ["temperature_K", "soc", "voltage_V", "anode_potential_V", "crate_per_h", "dod", "soc_mean",
                   "charge_crate_per_h", "discharge_crate_per_h", "efc_per_day"]


@st.composite
def _term(draw):
    kind = draw(st.sampled_from(["arrhenius", "arrhenius_raw", "exp", "exp_over_T", "poly", "power"]))
    x = draw(st.sampled_from(_STRESSOR_NAMES))
    rate = draw(st.floats(-5e3, 5e3))
    if kind == "arrhenius":
        return {"type": kind, "activation_energy_J_per_mol": draw(st.floats(1e3, 9e4)),
                "reference_temperature_K": draw(st.floats(280.0, 320.0))}, True
    if kind == "arrhenius_raw":
        return {"type": kind, "a_K": rate, "b": draw(st.floats(-20.0, 20.0)), "stressor": x}, x == "temperature_K"
    if kind == "exp":
        return {"type": kind, "stressor": x, "rate": rate / 1e3, "center": draw(st.floats(-1.0, 1.0))}, True
    if kind == "exp_over_T":
        return {"type": kind, "stressor": x, "rate_K": rate, "offset": draw(st.floats(-0.01, 0.01))}, True
    if kind == "poly":
        coefs = draw(st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=4))
        return {"type": kind, "stressor": x, "coefficients": coefs, "center": draw(st.floats(-0.5, 0.5))}, False
    return {"type": kind, "stressor": x, "exponent": draw(st.floats(0.1, 2.0))}, False


def _sat(v):
    """A rate as the kernel uses it: beyond +-BIG (1e300) every value saturates the states alike (a
    negative rate ages nothing), and the two evaluators may overflow there in another order (the
    linear form multiplies its exponential by the polynomial before the coefficient: +-inf where
    the term-by-term product is +-1e305), so values beyond +-BIG compare as +-BIG."""
    return min(max(v, -K.BIG), K.BIG)


@given(terms=st.lists(_term(), min_size=1, max_size=4), T=st.sampled_from([0.0, 250.0, 298.15, 330.0]),
       xs=st.lists(st.floats(0.0, 1.0), min_size=K.N_STRESS, max_size=K.N_STRESS))
@settings(max_examples=150, deadline=None)
def test_linear_form_of_a_product_is_the_product(terms, T, xs):
    """Where every per-sample term of a window product is an Arrhenius law in temperature or an
    exponential of a stressor (or of its ratio to temperature), but for at most one polynomial,
    the window path takes one exponential of a linear form, and so does the per-sample path for
    an expression of one such product: the same number as the term-by-term evaluator."""
    tables = {"ocv_table": {"soc": [0.0, 1.0], "voltage_V": [3.0, 4.2]},
              "anode_potential_table": {"soc": [0.0, 1.0], "potential_V": [0.8, 0.05]}}
    state = {"name": "s", "type": "power", "driver": "time_s", "exponent": 0.5, "group": "capacity",
             "k": {"coef": 1e-3, "terms": [t for t, _ in terms]}}
    model = aging.load({**BASE, **tables, "name": "test_linear", "stress_definitions": {"aggregation": "window"},
                        "states": [state]})
    km = model.kernel_model()
    pl = K.window_plan(km)
    lwin = np.zeros(2)
    stress = np.array([T] + [3.0 + x if i == K.S_V else x for i, x in enumerate(xs[1:], 1)])
    terms_arrays = K.Terms(km.expr_i, km.prod_i, km.prod_f, km.term_i, km.term_f)
    window_wide = [_STRESSOR_NAMES[k] for k in (K.S_CRATE, K.S_DOD, K.S_SOC_MEAN, K.S_CHARGE, K.S_DISCHARGE,
                                                 K.S_EFC_RATE)]
    for j in range(km.prod_i.shape[0]):
        if pl.pread[j] <= K.R_WINDOW:
            continue
        sample_terms = [(t, lin) for (t, lin) in terms
                        if t.get("stressor") not in window_wide or t["type"] == "exp_over_T"]
        n_poly = sum(t["type"] == "poly" for t, _ in sample_terms)  # one polynomial factor is part of the form
        assert (pl.lrow[j] >= 0) == (all(lin or t["type"] == "poly" for t, lin in sample_terms) and n_poly <= 1)
        if pl.lrow[j] < 0:
            continue
        K._linear_window(pl.lin[j], stress, lwin)
        got = K._linear_value(pl.lin[j], lwin, stress, 1.0 / T if T > 0 else 0.0, K.N_SAMPLE_STRESS)
        want = K._product(j, stress, terms_arrays, K.PART_SAMPLE, pl.tread)
        assert _sat(got) == pytest.approx(_sat(want), rel=1e-12, abs=1e-300)
    # the per-sample path's form of the whole expression (every term read at each step)
    e = model.state_i[0, K.SI_EK]
    n_poly = sum(t["type"] == "poly" for t, _ in terms)
    assert km.lin_i[e] == (all(lin or t["type"] == "poly" for t, lin in terms) and n_poly <= 1)
    if km.lin_i[e]:
        row = km.lin_f[e]
        got = km.prod_f[km.expr_i[e, K.EI_FIRST]] * K._linear_value(row, row[K.L_A:K.L_B + 1], stress,
                                                                     1.0 / T if T > 0 else 0.0, K.N_STRESS)
        assert _sat(got) == pytest.approx(_sat(K._raw(e, stress, terms_arrays)), rel=1e-12, abs=1e-300)
