"""Coupled electro-thermal-ageing loop: invariants on a short duty (PyBaMM SPM, coarse mesh)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from batterylab import parameter_sets
from batterylab.errors import InputError
from batterylab.lifetime import read_ambient_csv, read_duty_csv, simulate_lifetime

MODEL = "calibrated_lgm50_okane2022_spm_lam"


def _duty():
    """One hour: 20 min at 10 W discharge, 10 min rest, charge at -10 W for 20 min, rest."""
    t = np.array([0, 10, 1200, 1210, 1800, 1810, 3000, 3010, 3600], dtype=float)
    p = np.array([0, 10, 10, 0, 0, -10, -10, 0, 0], dtype=float)
    return t, p


def _run(update_interval_s, years=0.05, **kw):
    t, p = _duty()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # the model's validity warning (cool ambient)
        return simulate_lifetime("LGM50", duty_power_W=p, time_s=t, ambient_temperature_K=298.15, years=years,
                                 aging_model=MODEL, update_interval_s=update_interval_s, initial_soc=0.7, **kw)


@pytest.fixture(scope="module")
def uncoupled():
    return _run(1e12)


@pytest.fixture(scope="module")
def coupled():
    return _run(2 * 86400.0)


def test_interval_longer_than_horizon_equals_uncoupled_kernel_run(uncoupled):
    """One PyBaMM period, then the kernel over all repetitions: the same as calling the kernel on
    that period directly. Exact up to floating-point summation order (the loop passes the same
    arrays shifted by t0 = 0): tolerance 1e-12."""
    from batterylab.aging import simulate

    r = uncoupled
    assert r.timings_s["pybamm_solves"] == 1
    p = r.first_period
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        ref = simulate(MODEL, p["time_s"], p["soc"], p["temperature_K"], p["current_A"], repeat=r.config["periods"])
    assert r.capacity_fraction[-1] == pytest.approx(ref.capacity_fraction[-1], abs=1e-12)
    assert r.capacity_fraction[0] == 1.0 and r.capacity_fraction[-1] < 1.0
    for name in ref.states:
        assert r.states[name][-1] == pytest.approx(ref.states[name][-1], rel=1e-12, abs=1e-15)


def test_coupled_cell_draws_more_current_and_ages(coupled, uncoupled):
    r = coupled
    assert r.timings_s["pybamm_solves"] == len(r.time_s) - 1 > 5
    assert np.all(np.diff(r.capacity_fraction) <= 0.0)
    assert np.all(np.diff(r.added_resistance_ohm) >= 0.0) and r.added_resistance_ohm[-1] > 0
    # same power from an aged cell (lower capacity, higher resistance): more current, more heat
    assert r.rms_current_A[-2] > r.rms_current_A[0]
    assert r.heat_J_per_period[-2] > r.heat_J_per_period[0]
    # both runs cover the same horizon
    assert r.time_s[-1] == uncoupled.time_s[-1]


def test_save_hdf5(coupled, tmp_path):
    from batterylab.io import read_results

    path = coupled.save(tmp_path / "life.h5")
    v, attrs = read_results(path)
    assert v["capacity_fraction"].units == "1" and v["max_temperature_K"].units == "K"
    np.testing.assert_array_equal(v["capacity_fraction"].data, coupled.capacity_fraction)


def test_bad_inputs():
    t, p = _duty()
    with pytest.raises(InputError, match="exactly one"):
        simulate_lifetime("LGM50", duty_power_W=p, duty_current_A=p, time_s=t)
    with pytest.raises(InputError, match="time_s"):
        simulate_lifetime("LGM50", duty_power_W=p[:-1], time_s=t)
    with pytest.raises(InputError, match="Ah"):
        simulate_lifetime("Marquis2019", duty_power_W=p / 10, time_s=t, aging_model=MODEL, years=0.01)
    with pytest.raises(InputError, match="ambient_time_s"):
        simulate_lifetime("LGM50", duty_power_W=p, time_s=t, ambient_temperature_K=np.array([290.0, 300.0]))


def test_shipped_example_csvs():
    d = read_duty_csv(parameter_sets.path("aging", "lifetime", "wltc_commute_day.csv"))
    a = read_ambient_csv(parameter_sets.path("aging", "lifetime", "seasonal_ambient.csv"))
    assert d["time_s"][0] == 0 and d["time_s"][-1] == 86400.0
    # the home charge restores the driving energy (periodic duty): net energy within 2 % of one drive
    e = np.trapezoid(d["power_W"], d["time_s"])
    drive = np.trapezoid(np.clip(d["power_W"], 0, None), d["time_s"])
    assert abs(e) < 0.02 * drive
    assert 270 < a["temperature_K"].min() < a["temperature_K"].max() < 310


def test_cli(tmp_path):
    from click.testing import CliRunner

    from batterylab.lifetime_cli import lifetime

    t, p = _duty()
    duty = tmp_path / "duty.csv"
    duty.write_text("time_s,power_W\n" + "".join(f"{a},{b}\n" for a, b in zip(t, p)))
    out = tmp_path / "r.h5"
    res = CliRunner().invoke(lifetime, ["--duty", str(duty), "--years", "0.01", "--update-days", "2",
                                        "--initial-soc", "0.7", "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert out.exists() and "relative capacity" in res.output
    bad = CliRunner().invoke(lifetime, ["--duty", str(tmp_path / "missing.csv"), "--out", str(out)])
    assert bad.exit_code != 0 and "does not exist" in str(bad.exception)  # exit 2 through batterylab.cli.main


def test_current_duty_keeps_current_and_heats_more():
    t, p = _duty()
    i = p / 4.0  # ~2.5 A steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        r = simulate_lifetime("LGM50", duty_current_A=i, time_s=t, ambient_temperature_K=298.15, years=0.02,
                              aging_model=MODEL, update_interval_s=2 * 86400.0, initial_soc=0.7)
    assert r.config["duty"] == "current"
    # a current duty is imposed: the same RMS current whatever the ageing (to solver tolerance)
    assert r.rms_current_A[-2] == pytest.approx(r.rms_current_A[0], rel=1e-6)
    assert r.added_resistance_ohm[-1] > 0 and r.heat_J_per_period[-2] > r.heat_J_per_period[0]


def test_open_loop_beside_the_coupled_run(coupled, uncoupled):
    # the shared closed loop: the open loop is the fresh period repeated, read at the same times
    np.testing.assert_allclose(uncoupled.open_loop_capacity_fraction, uncoupled.capacity_fraction, rtol=1e-12)
    # cut into updates the kernel replays the repetitions in other groups (the replay is the
    # stepped result to about 1e-10, tests/test_aging_kernel.py): 1e-9 here, not round-off
    assert coupled.open_loop_capacity_fraction[-1] == pytest.approx(uncoupled.capacity_fraction[-1], rel=1e-9)
    assert coupled.capacity_fraction[-1] != coupled.open_loop_capacity_fraction[-1]  # the coupling moves the fade
    assert coupled.stop_reason == "" and coupled.summary()["final_capacity_fraction_open_loop"] < 1.0
