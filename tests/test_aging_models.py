"""Published anchors of the shipped ageing models, stress properties, the API's contract."""

import math
import warnings

import numpy as np
import pytest

import batterylab.aging as aging
from batterylab.aging.models import OutOfRangeWarning, compile_spec
from batterylab.errors import InputError, OptionError, ParameterError
from batterylab.io import read_results

DAY = 86400.0


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        return fn(*a, **k)


def soc_at_voltage(model, volts):
    """The SOC at which the model's (resampled) OCV table gives ``volts`` exactly."""
    m = aging.load(model)
    return float(np.interp(volts, m.ocv, np.linspace(0, 1, m.ocv.size)))


def rest(soc, temperature_K, days):
    return dict(time_s=[0.0, DAY], soc=[soc, soc], temperature_K=temperature_K, repeat=days)


@pytest.mark.parametrize(
    "volts, temp_K, published",
    [(3.6, 298.15, 0.01960), (4.0, 308.15, 0.07901)],
)
def test_schmalstieg_calendar_anchors(volts, temp_K, published):
    soc = soc_at_voltage("schmalstieg2014", volts)
    if temp_K < 308.15:  # 25 C is below the tested 35-50 C: the call must say so, once
        with pytest.warns(OutOfRangeWarning, match=r"temperature_K = 298\.15 K is below the fitted range \[308\.15, 323\.15\]"):
            r = aging.simulate("schmalstieg2014", **rest(soc, temp_K, 365))
    else:
        r = aging.simulate("schmalstieg2014", **rest(soc, temp_K, 365))
    # published to 4 significant digits: within half a unit of the last digit
    assert 1 - r.capacity_fraction[-1] == pytest.approx(published, abs=5e-6)
    assert r.time_s[-1] == 365 * DAY


def test_naumann_calendar_anchor():
    r = aging.simulate("naumann2020", **rest(0.5, 298.15, 365))
    assert 1 - r.capacity_fraction[-1] == pytest.approx(0.0425, abs=5e-5)  # 4.25 % published
    assert r.resistance_factor[-1] > 1.0


def test_wang_throughput_anchor():
    # C/2 between 10 % and 90 % SOC at 25 C; Ah-throughput = EFC x 2.2 Ah (Wang's definition)
    th = 0.8 / 0.5 * 3600
    r = aging.simulate("wang2011", [0, th, 2 * th], [0.9, 0.1, 0.9], 298.15, repeat=12000)
    ah = r.efc * aging.load("wang2011").nominal_capacity_Ah
    loss = 1 - r.capacity_fraction
    ah_at_20 = np.interp(0.20, loss, ah)
    # published 16,693 Ah; linear interpolation between per-repetition samples (3.5 Ah apart) of
    # a concave curve: 1e-3 relative is far above that error and far below a convention error (2x)
    assert ah_at_20 == pytest.approx(16693.0, rel=1e-3)


SHIPPED = ["naumann2020", "schmalstieg2014", "wang2011"]


def day_cycle(dod, mean=0.5, hours_cycling=4.0):
    """One cycle of depth ``dod`` around ``mean`` at the start of a day, then rest."""
    h = 3600.0
    t = np.array([0.0, hours_cycling / 2 * h, hours_cycling * h, 24 * h])
    soc = np.array([mean + dod / 2, mean - dod / 2, mean + dod / 2, mean + dod / 2])
    return t, soc


@pytest.mark.parametrize("name", SHIPPED)
def test_more_fade_hotter_above_25C(name):
    t, soc = day_cycle(0.6)
    loss = [1 - quiet(aging.simulate, name, t, soc, T, repeat=365).capacity_fraction[-1] for T in (298.15, 308.15, 318.15)]
    assert loss[0] < loss[1] < loss[2]


@pytest.mark.parametrize("name", SHIPPED)
def test_more_fade_at_larger_dod(name):
    loss = []
    for dod in (0.2, 0.5, 0.8):
        t, soc = day_cycle(dod)
        loss.append(1 - quiet(aging.simulate, name, t, soc, 308.15, repeat=365).capacity_fraction[-1])
    assert loss[0] < loss[1] < loss[2]


def test_one_warning_per_call_naming_stressor_value_range():
    t, soc = day_cycle(0.5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        aging.simulate("naumann2020", t, soc, 253.15, repeat=30)
    msgs = [str(x.message) for x in w if issubclass(x.category, OutOfRangeWarning)]
    assert len(msgs) == 1
    assert "temperature_K = 253.15 K is below the fitted range [298.15, 333.15] K" in msgs[0]


def test_models_and_info():
    names = aging.models()
    assert {"schmalstieg2014", "naumann2020", "wang2011"} <= set(names)
    info = aging.model_info("wang2011")
    assert info["chemistry"] == "LFP/graphite"
    assert "10.1016/j.jpowsour.2010.11.134" in info["source"]
    assert info["validity"]["crate_per_h"] == (0.5, 10.0)
    assert "A_h = (cycle number) x (DOD) x (full cell capacity)" in info["conventions"]
    assert not info["has_resistance"]


def test_bad_inputs_name_argument_value_and_expectation():
    t = [0.0, 3600.0]
    with pytest.raises(OptionError, match="naumann2020"):
        aging.simulate("naumann", t, [0.5, 0.5], 300.0)
    with pytest.raises(InputError, match="looks like Celsius"):
        aging.simulate("naumann2020", t, [0.5, 0.5], 25.0)
    with pytest.raises(InputError, match=r"soc must lie in \[0, 1\]"):
        aging.simulate("naumann2020", t, [0.5, 50.0], 300.0)
    with pytest.raises(InputError, match="strictly increasing"):
        aging.simulate("naumann2020", [0.0, 0.0], [0.5, 0.5], 300.0)
    r = aging.simulate("naumann2020", t, [0.5, 0.5], 300.0)
    with pytest.raises(InputError, match="before the end of the state"):
        aging.simulate("naumann2020", t, [0.5, 0.5], 300.0, state=r.state)
    with pytest.raises(InputError, match="made by model 'naumann2020'"):
        aging.simulate("wang2011", [3600.0, 7200.0], [0.5, 0.5], 300.0, state=r.state)
    with pytest.raises(InputError, match="one value per cell"):
        aging.simulate_fleet("naumann2020", t, [0.5, 0.5], 300.0, n_cells=3, temperature_offset_K=[1.0, 2.0], progress=False)


def test_model_file_typos_are_errors():
    spec = {"name": "x", "nominal_capacity_Ah": 1.0, "groups": {"capacity": {"target": "capacity"}},
            "states": [{"name": "a", "type": "power", "driver": "time_days", "exponent": 0.5, "group": "capacity",
                        "k": {"coef": 1.0, "terms": [{"type": "arrhenius", "activation_energy_J_per_mol": 1.0,
                                                      "reference_temperatur_K": 298.15}]}}]}
    with pytest.raises(ParameterError, match="reference_temperatur_K.*valid keys are"):
        compile_spec(spec)
    spec["states"][0]["k"] = 1.0
    spec["states"][0]["driver"] = "time_weeks"
    with pytest.raises(OptionError, match="time_days"):
        compile_spec(spec)


LINEAR = {
    "name": "linear_test", "nominal_capacity_Ah": 1.0,
    "groups": {"capacity": {"target": "capacity", "offset": 1.0}},
    "states": [{"name": "loss", "type": "power", "driver": "time_days", "exponent": 1.0, "group": "capacity", "k": 0.01}],
}


def test_eol_time_and_fleet_overrides():
    r = aging.simulate(LINEAR, [0.0, DAY], [0.5, 0.5], 300.0, repeat=30)
    assert r.eol_time_s == pytest.approx(20 * DAY, rel=1e-12)  # q = 1 - 0.01 t[d] hits 0.8 at 20 d
    f = aging.simulate_fleet(LINEAR, [0.0, DAY], [0.5, 0.5], 300.0, coefficient_multipliers=[[1.0], [2.0]],
                             repeat=30, progress=False)
    np.testing.assert_allclose(f.eol_time_s, [20 * DAY, 10 * DAY], rtol=1e-12)
    short = aging.simulate(LINEAR, [0.0, DAY], [0.5, 0.5], 300.0, repeat=5)
    assert math.isinf(short.eol_time_s)


def test_usage_scale_and_per_cell_profiles():
    t, soc = day_cycle(0.4, mean=0.6)
    f = quiet(aging.simulate_fleet, "naumann2020", t, soc, 300.0, usage_scale=[0.5, 1.0, 1.5], repeat=100, progress=False)
    q = f.capacity_fraction[:, -1]
    assert q[0] > q[1] > q[2]
    np.testing.assert_allclose(f.efc[:, -1], [20.0, 40.0, 60.0], rtol=1e-12)  # depth 0.2/0.4/0.6: that many EFC a day
    soc2 = np.vstack([soc, np.full_like(soc, 0.5)])
    g = quiet(aging.simulate_fleet, "naumann2020", t, soc2, 300.0, repeat=100, progress=False)
    assert g.capacity_fraction[0, -1] == f.capacity_fraction[1, -1]
    assert g.efc[1, -1] == 0.0


def test_save_hdf5_with_units(tmp_path):
    r = aging.simulate("naumann2020", **rest(0.5, 298.15, 10))
    path = r.save(tmp_path / "one.h5")
    v, attrs = read_results(path)
    assert v["capacity_fraction"].units == "1"
    assert v["time_s"].units == "s"
    np.testing.assert_array_equal(v["capacity_fraction"].data, r.capacity_fraction)
    assert "naumann2020" in attrs["configuration_json"]
    f = aging.simulate_fleet("naumann2020", [0.0, DAY], [0.5, 0.5], 300.0, n_cells=3, repeat=4, progress=False)
    v, _ = read_results(f.save(tmp_path / "fleet.h5"))
    assert v["capacity_fraction"].dims == ("cell", "time_s")
    assert v["eol_time_s"].data.shape == (3,)


def test_state_saved_to_file_resumes_exactly(tmp_path):
    t, soc = day_cycle(0.5)
    a = quiet(aging.simulate, "naumann2020", t, soc, 305.0, repeat=3, finalize=False)
    path = a.state.save(tmp_path / "state.npz")
    b = quiet(aging.simulate, "naumann2020", t + 3 * DAY, soc, 305.0, repeat=2, state=aging.AgingState.load(path))
    both = quiet(aging.simulate, "naumann2020", t, soc, 305.0, repeat=5)
    assert b.capacity_fraction[-1] == both.capacity_fraction[-1]
    assert b.resistance_factor[-1] == both.resistance_factor[-1]


def test_check_periodic_warns_on_a_repeated_profile_that_does_not_return_to_its_soc():
    from batterylab.aging import NonPeriodicProfileWarning
    from batterylab.aging.simulate import check_periodic, repetitions

    t = np.array([0.0, 43200.0, 86400.0])
    assert repetitions(t, years=10) == 3650 and repetitions(t, repeat=4) == 4 and repetitions(t) == 1
    with pytest.warns(NonPeriodicProfileWarning, match=r"repeated 10 times .* 0\.8 at the start, 0\.6 at the end") as w:
        check_periodic(np.array([0.8, 0.5, 0.6]), 10)
    assert w[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonPeriodicProfileWarning)
        check_periodic(np.array([0.8, 0.5, 0.8]), 10)  # periodic
        check_periodic(np.array([0.8, 0.5, 0.6]), 1)  # run once
    with pytest.warns(NonPeriodicProfileWarning, match=r"\(cell 1\)"):
        check_periodic(np.array([[0.8, 0.5, 0.8], [0.8, 0.5, 0.7]]), 2)


def test_state_file_of_the_earlier_layout_is_converted(tmp_path):
    """State files written before the power states of BLAST-Lite window models were kept as y
    (state layout 1: as y^(1/p)) resume as the same run."""
    from batterylab.kernels import aging as K

    t, soc = day_cycle(0.5)
    model = "blast_nmc111_kokam75ah"
    a = quiet(aging.simulate, model, t, soc, 305.0, repeat=3, finalize=False)
    m = aging.load(model)
    old = a.state.data.copy()
    for s, sd in enumerate(m.spec["states"]):
        if sd.get("type", "power") == "power":
            old[:, K.HEAD + s] = old[:, K.HEAD + s] ** (1.0 / m.state_f[s, K.SF_P])
    path = tmp_path / "layout1.npz"
    np.savez(path, model=np.array(model), data=old, head=np.array(K.HEAD), stack=np.array(K.STACK))
    back = aging.AgingState.load(path)
    np.testing.assert_allclose(back.data, a.state.data, rtol=1e-13, atol=0.0)
    b = quiet(aging.simulate, model, t + 3 * DAY, soc, 305.0, repeat=2, state=back)
    both = quiet(aging.simulate, model, t, soc, 305.0, repeat=5)
    assert b.capacity_fraction[-1] == pytest.approx(both.capacity_fraction[-1], rel=1e-12)
    # a file of this version carries its layout and round-trips exactly
    assert aging.AgingState.load(a.state.save(tmp_path / "now.npz")).data.tobytes() == a.state.data.tobytes()
