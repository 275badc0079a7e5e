"""Cell models: API, options, parameter sets, bad input, HDF5 round trip, offline runs.

Runs use SPM/SPMe on coarse meshes except the LG M50 DFN + lumped HDF5 round trip.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from batterylab.errors import BatterylabError, InputError, OptionError, ParameterError

cell = pytest.importorskip("batterylab.cell")


# ---------------------------------------------------------------------------------------------
# import cost and parameter sets
# ---------------------------------------------------------------------------------------------
def test_import_cell_does_not_import_pybamm():
    code = "import sys, batterylab.cell as c; c.list_cells(); print('pybamm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_shipped_sets_carry_citation_licence_validity():
    names = cell.list_cells()
    for required in ("LGM50", "LFP26650", "NMCPouchBPX", "LFP18650BPX", "Marquis2019", "Ecker2015", "Ai2020"):
        assert required in names
    for name in names:
        ps = cell.load_parameter_set(name)
        assert ps.citations and all("doi" in c for c in ps.citations)
        assert ps.licence
        assert ps.validity["c_rate_max"] > 0
        assert 173.15 < ps.validity["temperature_min_K"] < ps.validity["temperature_max_K"] < 473.15
    assert cell.load_parameter_set("lgm50").name == "LGM50"  # case-insensitive
    assert cell.load_parameter_set("NMCPouchBPX").source_kind == "bpx"


def test_cell_info_lgm50_matches_chen2020_numbers():
    info = cell.cell_info("LGM50")
    assert info.nominal_capacity_Ah == pytest.approx(5.0)
    assert (info.lower_voltage_V, info.upper_voltage_V) == (2.5, 4.2)
    # Chen2020 21700: 2.42e-5 m3; the LG M50 weighs 69 g (data sheet); the layer-weighted
    # estimate ignores the can and void, so it can only be checked to within ~15 %.
    assert info.volume_m3 == pytest.approx(2.42e-5)
    assert 0.055 < info.mass_kg < 0.08
    # Chen2020's layer densities and heat capacities give about 650 J/kg/K, below the 800-1100
    # J/kg/K measured on whole 21700 cells (the can and electrolyte excess are not modelled): the
    # bound checks the order of magnitude and the units, not the parameter set's choices.
    assert 500 < info.specific_heat_J_kgK < 1300
    assert info.thermal_time_constant_s == pytest.approx(
        info.heat_capacity_J_K / (info.heat_transfer_coefficient_W_m2K * info.cooling_area_m2)
    )


def test_bpx_set_runs_and_has_sidecar_cooling():
    info = cell.cell_info("NMCPouchBPX")
    assert info.nominal_capacity_Ah == pytest.approx(12.5)
    assert info.heat_transfer_coefficient_W_m2K == 10.0  # from the sidecar; BPX has none
    r = cell.simulate("LFP18650BPX", "SPM", "lumped", experiment=["Discharge at 1C for 5 minutes"], mesh="coarse")
    assert r.capacity_Ah == pytest.approx(2.0)
    assert r.voltage_V[-1] < r.voltage_V[0] - 0.1  # discharging: voltage falls
    assert r.temperature_K[-1] > r.temperature_K[0]  # and the cell warms


# ---------------------------------------------------------------------------------------------
# malformed parameter files
# ---------------------------------------------------------------------------------------------
def _sidecar(tmp_path, mutate):
    with open(cell.load_parameter_set("LFP26650").files[0]) as fh:
        data = json.load(fh)
    mutate(data)
    p = tmp_path / "cell.json"
    p.write_text(json.dumps(data))
    return p


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d.pop("licence"), "missing required field 'licence'"),
        (lambda d: d.pop("citations"), "missing required field 'citations'"),
        (lambda d: d["validity"].pop("c_rate_max"), "validity/c_rate_max"),
        (lambda d: d["validity"].update(temperature_min_K=25.0), "Celsius"),
        (lambda d: d["validity"].update(c_rate_max=-1), "validity/c_rate_max must be > 0"),
        (lambda d: d.update(source={"bpx_file": "nowhere.json"}), "source/bpx_file"),
        (lambda d: d["thermal"].update({"Cell volume [m3]": "big"}), "'Cell volume [m3]' must be a finite number"),
    ],
)
def test_malformed_sidecar_names_the_field(tmp_path, mutate, expected):
    p = _sidecar(tmp_path, mutate)
    with pytest.raises(ParameterError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        cell.load_parameter_set(str(p))


def test_unknown_pybamm_source_and_override_typo(tmp_path):
    p = _sidecar(tmp_path, lambda d: d.update(source={"pybamm_parameter_set": "Chen2021"}))
    with pytest.raises(ParameterError, match="Chen2021.*valid names are.*Chen2020"):
        cell.load_parameter_set(str(p)).parameter_values()
    p = _sidecar(tmp_path, lambda d: d.update(overrides={"Nominal cell capacty [A.h]": 2.0}))
    with pytest.raises(ParameterError, match=r"'overrides': 'Nominal cell capacty \[A.h\]' is not a parameter of this set; close matches: 'Nominal cell capacity \[A.h\]'"):
        cell.load_parameter_set(str(p)).parameter_values()
    with pytest.raises(ParameterError, match="allow_new_parameters=True"):
        cell.CellModel("LGM50", "SPM", parameters={"Total heat transfer coeficient [W.m-2.K-1]": 5.0}).parameter_values()


def test_incomplete_bpx_file_names_missing_field(tmp_path):
    src = cell.load_parameter_set("LFP18650BPX").source
    with open(src) as fh:
        data = json.load(fh)
    del data["Parameterisation"]["Cell"]["Nominal cell capacity [A.h]"]
    p = tmp_path / "bad_bpx.json"
    p.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="Nominal cell capacity"):
        cell.CellModel(str(p)).parameter_values()
    del data["Parameterisation"]["Electrolyte"]
    p.write_text(json.dumps(data))
    with pytest.raises(ParameterError, match="Parameterisation/Electrolyte"):
        cell.load_parameter_set(str(p))
    p.write_text("{not json")
    with pytest.raises(ParameterError, match="not valid JSON"):
        cell.load_parameter_set(str(p))


def test_bare_bpx_file_path_is_accepted(tmp_path):
    p = tmp_path / "my_cell.json"
    shutil.copy(cell.load_parameter_set("LFP18650BPX").source, p)
    ps = cell.load_parameter_set(str(p))
    assert ps.source_kind == "bpx" and ps.validity["c_rate_max"] == 5.0


# ---------------------------------------------------------------------------------------------
# options
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"model": "DFM"}, "unknown model 'DFM'; valid models are: DFN, SPM, SPMe"),
        ({"thermal": "lumpd"}, "unknown thermal option 'lumpd'; valid thermal options are: isothermal, lumped"),
        ({"sei": "reaction limted"}, "option 'SEI': unknown value 'reaction limted'; valid values are: none, constant, reaction limited"),
        ({"lithium_plating": "irreversable"}, "option 'lithium plating': unknown value 'irreversable'; valid values are: none, reversible"),
        ({"loss_of_active_material": "stress driven"}, "option 'loss of active material': unknown value 'stress driven'; valid values are: none, stress-driven"),
        ({"options": {"particle mechanic": "swelling only"}}, "unknown PyBaMM model option 'particle mechanic'; valid PyBaMM model options are:"),
        ({"mesh": "medium"}, "unknown mesh 'medium'; valid meshes are: coarse, default, fine"),
        ({"cell": "LGM5O"}, "unknown cell parameter set 'LGM5O'; valid cell parameter sets are: Ai2020"),
    ],
)
def test_option_typos_list_valid_values(kwargs, expected):
    with pytest.raises(OptionError) as info:
        cell.CellModel(**kwargs)
    assert expected in str(info.value)


def test_incompatible_options_are_a_batterylab_error():
    # each value is valid on its own; PyBaMM rejects the combination
    with pytest.raises(OptionError, match="cannot have stress-induced diffusion without a particle mechanics model"):
        cell.CellModel("LGM50", "SPM", loss_of_active_material="stress-driven",
                       options={"particle mechanics": "none"})


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
T = np.linspace(0.0, 60.0, 7)


@pytest.fixture(scope="module")
def spm():
    return cell.CellModel("LGM50", "SPM", "isothermal", mesh="coarse")


@pytest.mark.parametrize(
    "time_s, current_A, expected",
    [
        (T, np.r_[1.0, np.nan, 1, 1, 1, 1, 1], "current_A must be finite, got nan at index 1"),
        (T, np.r_[1.0, np.inf, 1, 1, 1, 1, 1], "current_A must be finite, got inf at index 1"),
        (np.array([]), np.array([]), "time_s is empty"),
        (np.r_[0.0, 10, 5, 20, 30, 40, 50], np.ones(7), r"time_s must be strictly increasing \[s\]; time_s\[2\] = 5.0 follows time_s\[1\] = 10.0"),
        (np.r_[0.0, 10, 10, 20, 30, 40, 50], np.ones(7), r"time_s\[2\] = 10.0 follows"),
        (T, np.ones(6), "arrays must have the same length: time_s has 7, current_A has 6"),
        (T - 10.0, np.ones(7), r"time_s must start at or after 0 s, got time_s\[0\] = -10.0"),
        (T, np.full(7, 20.0), "current_A: peak |current| 20 A means 4C for LGM50 (5 Ah), beyond the parameter set's validity of at most 3C"),
    ],
)
def test_bad_current_profile(spm, time_s, current_A, expected):
    with pytest.raises(InputError) as info:
        spm.run_current(time_s, current_A)
    assert expected in str(info.value) or re.search(expected, str(info.value)), str(info.value)


def test_celsius_passed_as_kelvin(spm):
    with pytest.raises(InputError, match=r"ambient_temperature_K must be in kelvin; got 25.0 at index 0, which looks like Celsius \(add 273.15\)"):
        spm.run_current(T, np.ones(7), ambient_temperature_K=25.0)


def test_temperature_outside_validity(spm):
    with pytest.raises(InputError, match=r"ambient_temperature_K = 343.15 K is outside the validity of parameter set LGM50 \(273.15 to 318.15 K\)"):
        spm.run_current(T, np.ones(7), ambient_temperature_K=343.15)


def test_c_rate_beyond_validity_in_experiment_and_power(spm):
    with pytest.raises(InputError, match="Discharge at 4C until 2.5 V.*4C for LGM50 .* at most 3C"):
        spm.run_experiment(["Discharge at 4C until 2.5 V"])
    with pytest.raises(InputError, match="Charge at 25 A.*5C"):
        spm.run_experiment(["Charge at 25 A until 4.2 V"])
    with pytest.raises(InputError, match=r"power_W: peak \|power\| 100 W .* means 5.51C"):
        spm.run_power(T, np.full(7, 100.0))


def test_negative_capacity_and_bad_soc(spm):
    with pytest.raises(ParameterError, match=r"'Nominal cell capacity \[A.h\]' must be > 0, got -5.0"):
        cell.CellModel("LGM50", "SPM", parameters={"Nominal cell capacity [A.h]": -5.0}).run_current(T, np.ones(7))
    with pytest.raises(InputError, match=r"initial_soc must be <= 1.0 \(fraction\), got 80.0"):
        spm.run_current(T, np.ones(7), initial_soc=80)
    with pytest.raises(InputError, match="period_s must be > 0"):
        spm.run_experiment(["Rest for 1 minute"], period_s=-1)


def test_bad_experiment_and_duty(spm):
    with pytest.raises(InputError, match="could not be parsed"):
        spm.run_experiment(["Dischrge at 1C for 1 hour"])
    with pytest.raises(InputError, match="give exactly one duty"):
        cell.simulate("LGM50", experiment=["Rest for 1 minute"], time_s=T, current_A=np.ones(7))
    with pytest.raises(InputError, match="time_s is used with current_A or power_W only"):
        cell.simulate("LGM50", experiment=["Rest for 1 minute"], time_s=T)
    with pytest.raises(InputError, match=r"time_s \[s\] is required with current_A or power_W"):
        cell.simulate("LGM50", current_A=np.ones(7))


def test_solver_failure_becomes_batterylab_error(spm, monkeypatch):
    import pybamm

    def boom(self, *a, **k):
        raise pybamm.SolverError("IDA_CONV_FAIL: convergence test failed repeatedly")

    monkeypatch.setattr(pybamm.Simulation, "solve", boom)
    with pytest.raises(cell.CellSimulationError, match="PyBaMM could not solve the SPM model .*IDA_CONV_FAIL") as info:
        spm.run_current(T, np.ones(7))
    assert isinstance(info.value, BatterylabError)


# ---------------------------------------------------------------------------------------------
# physics of the outputs (checked against independent arithmetic)
# ---------------------------------------------------------------------------------------------
def test_current_profile_coulomb_counting_and_sign(spm):
    t = np.linspace(0.0, 1200.0, 121)
    current = np.where(t < 600.0, 5.0, -2.5)  # 1C discharge then C/2 charge
    r = spm.run_current(t, current, initial_soc=0.7)
    assert r.completed
    np.testing.assert_allclose(r.time_s, t)
    np.testing.assert_allclose(r.current_A, np.interp(r.time_s, t, current), atol=1e-9)
    # SOC from trapezoidal coulomb counting of the input, discharge positive
    q = np.concatenate([[0.0], np.cumsum(0.5 * (current[1:] + current[:-1]) * np.diff(t))]) / 3600.0
    np.testing.assert_allclose(r.soc, 0.7 - q / 5.0, atol=2e-4)
    fine = np.linspace(0.0, 1200.0, 120001)  # |I| of the piecewise-linear current, finely integrated
    expected = np.trapezoid(np.abs(np.interp(fine, t, current)), fine) / 3600.0
    # PyBaMM integrates |I| as an ODE state; the kink at the zero crossing costs ~0.04 %
    np.testing.assert_allclose(r.throughput_Ah[-1], expected, rtol=1e-3)
    assert r.voltage_V[59] < r.voltage_V[0] and r.voltage_V[-1] > r.voltage_V[61]  # falls, then rises
    np.testing.assert_allclose(r.power_W, r.voltage_V * r.current_A, rtol=1e-9)
    assert np.all(r.heat_W > 0)  # isothermal runs still report their heat source


def test_power_profile_follows_demand():
    prof = cell.load_profile("WLTC", cell="LGM50", peak_c_rate=2.0)
    info = cell.cell_info("LGM50")
    assert np.max(np.abs(prof.power_W)) == pytest.approx(2.0 * 5.0 * info.nominal_voltage_V)
    n = 301  # the first 5 minutes keep the test short
    r = cell.simulate("LGM50", "SPM", "lumped", time_s=prof.time_s[:n], power_W=prof.power_W[:n],
                      initial_soc=0.8, mesh="coarse")
    assert r.completed
    np.testing.assert_allclose(r.power_W, prof.power_W[:n], atol=1e-6 * np.max(np.abs(prof.power_W)))


def test_early_stop_at_a_voltage_limit_warns_where_and_what_to_change(spm):
    # 1C from SOC 0.2 for an hour: the lower cut-off comes after about 12 minutes
    t = np.linspace(0.0, 3600.0, 361)
    with pytest.warns(cell.EarlyStopWarning) as caught:
        r = spm.run_current(t, np.full(t.size, 5.0), initial_soc=0.2)
    assert not r.completed and r.duration_s < 3000.0
    assert len(caught) == 1 and caught[0].filename == __file__  # points at the caller's line
    text = str(caught[0].message)
    assert f"stopped early at t = {r.duration_s:.0f} s of the requested 3600 s" in text
    assert "Minimum voltage" in text and "higher initial SOC" in text and "it was 0.2" in text
    assert "--model" in text and "peak C-rate" in text and "voltage limits" in text
    assert text == r.early_stop_message()
    # a caller that runs to the cut-off on purpose says so, and nothing is warned
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with cell.expect_early_stop():
            spm.run_current(t, np.full(t.size, 5.0), initial_soc=0.2)
        done = spm.run_current(t[:61], np.full(61, 5.0), initial_soc=0.9)  # completes: no warning
    assert done.completed and done.early_stop_message() == ""


def test_wltc_at_full_charge_stops_at_the_upper_limit_and_says_so():
    """The drive-cycle example: from SOC 1.0 regenerative braking hits 4.2 V within minutes."""
    prof = cell.load_profile("WLTC", cell="LGM50", peak_c_rate=2.0)
    with pytest.warns(cell.EarlyStopWarning, match=r"stopped early at t = \d+ s of the requested 600 s: "
                                                    r"event: Maximum voltage.*lower initial SOC"):
        r = cell.simulate("LGM50", "SPM", "isothermal", time_s=prof.time_s[:601], power_W=prof.power_W[:601],
                          initial_soc=1.0, mesh="coarse")
    assert not r.completed and r.voltage_V[-1] == pytest.approx(4.2, abs=1e-3)


def test_lumped_energy_balance():
    """C dT/dt = Q - hA (T - T_amb), integrated: an independent check of heat_W, temperature_K
    and the heat capacity reported by cell_info."""
    info = cell.cell_info("LGM50")
    r = cell.simulate("LGM50", "SPMe", "lumped", experiment=["Discharge at 2C for 15 minutes"],
                      ambient_temperature_K=298.15, mesh="coarse", period_s=10)
    stored = info.heat_capacity_J_K * (r.temperature_K[-1] - r.temperature_K[0])
    generated = np.trapezoid(r.heat_W, r.time_s)
    cooled = info.cooling_conductance_W_K * np.trapezoid(r.temperature_K - 298.15, r.time_s)
    assert stored > 0
    # trapezoidal quadrature of a 10-s sampled solution: 1 % of the generated heat
    assert stored == pytest.approx(generated - cooled, rel=0.01)


def test_degradation_options_produce_lithium_loss():
    r = cell.simulate("LGM50", "SPM", "isothermal", sei="solvent-diffusion limited",
                      lithium_plating="irreversible", experiment=["Charge at 1C for 10 minutes"],
                      initial_soc=0.2, mesh="coarse")
    # PyBaMM's "Loss of lithium inventory [%]" is a difference of inventories: at t = 0 it is zero
    # to rounding (-1.4e-14 % with PyBaMM 26.10.1.1), so the start is checked against 1e-9 %.
    assert abs(r.lli_percent[0]) < 1e-9
    assert r.lli_percent[-1] > 1e-6
    assert r.config["options"]["SEI"] == "solvent-diffusion limited"


# ---------------------------------------------------------------------------------------------
# HDF5 and offline
# ---------------------------------------------------------------------------------------------
def test_lgm50_dfn_lumped_1c_offline_hdf5_round_trip(tmp_path, monkeypatch):
    import h5py
    import xarray as xr

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    r = cell.simulate("LGM50", "DFN", "lumped", experiment=["Discharge at 1C until 2.5 V"],
                      ambient_temperature_K=298.15, mesh="coarse")
    assert r.voltage_V[-1] == pytest.approx(2.5, abs=1e-3)
    assert 4.5 < r.discharge_capacity_Ah[-1] < 5.2  # LG M50: 5 Ah nominal
    assert 300 < r.temperature_K.max() < 320
    path = r.save(tmp_path / "m50.h5")
    back = cell.load(path)
    for name in r.names():
        np.testing.assert_array_equal(getattr(back, name), getattr(r, name))
    assert back.capacity_Ah == 5.0 and back.config["model"] == "DFN" and back.solution is None
    with h5py.File(path) as f:
        assert f["voltage_V"].attrs["units"] == "V"
        assert f["temperature_K"].attrs["long_name"] == "Volume-averaged cell temperature [K]"
        assert f.attrs["current_sign_convention"] == "discharge positive"
        assert "LGM50.json" in json.loads(f.attrs["parameter_set_sha256_json"])
        assert json.loads(f.attrs["configuration_json"])["thermal"] == "lumped"
        assert "pybamm_version" in f.attrs
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert ds["voltage_V"].dims == ("time_s",)
        assert ds["heat_W"].attrs["units"] == "W"
        np.testing.assert_array_equal(ds["time_s"].values, r.time_s)


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        cell.load(tmp_path / "none.h5")
    p = tmp_path / "x.h5"
    p.write_text("not hdf5")
    with pytest.raises(InputError, match="is not an HDF5 file"):
        cell.load(p)


# ---------------------------------------------------------------------------------------------
# profiles
# ---------------------------------------------------------------------------------------------
def test_wltc_profile_is_power_and_scales():
    raw = cell.load_profile("WLTC")
    assert raw.quantity == "power" and raw.unit == "W"
    assert raw.time_s[0] == 0 and raw.time_s[-1] == 1800 and np.all(np.diff(raw.time_s) == 1)
    assert np.max(raw.values) == pytest.approx(43249.505)  # the file's peak, 43.249505 kW
    assert np.min(raw.values) < 0  # regenerative braking
    assert np.max(np.abs(cell.load_profile("wltc", peak_power_W=30.0).values)) == pytest.approx(30.0)
    with pytest.raises(OptionError, match="unknown profile name 'UDDS'"):
        cell.load_profile("UDDS")
    with pytest.raises(InputError, match="peak_current_A given but profile 'WLTC' is a power profile"):
        cell.load_profile("WLTC", peak_current_A=3.0)


def test_read_profile_csv_errors(tmp_path):
    from batterylab.cell.profiles import read_profile_csv

    p = tmp_path / "p.csv"
    p.write_text("time_s,current_A\n0,1\n10,1\n5,1\n")
    with pytest.raises(InputError, match="strictly increasing"):
        read_profile_csv(p)
    p.write_text("time_s,curent_A\n0,1\n")
    with pytest.raises(OptionError, match="unknown profile column in p.csv 'curent_A'"):
        read_profile_csv(p)
    p.write_text("time_s,current_A\n0,1\n10,abc\n")
    with pytest.raises(InputError, match="line 3 is not numeric"):
        read_profile_csv(p)


def test_ambient_temperature_time_series(spm):
    t = np.linspace(0.0, 1800.0, 31)
    amb = np.linspace(288.15, 308.15, 31)
    m = cell.CellModel("LGM50", "SPM", "lumped", mesh="coarse")
    r = m.run_current(t, np.zeros(31), ambient_temperature_K=amb, initial_soc=0.5)
    np.testing.assert_allclose(r.ambient_temperature_K, amb, atol=1e-9)
    assert r.temperature_K[0] == pytest.approx(288.15)
    # at rest the cell lags a ramping ambient: below it, but warming
    assert np.all(np.diff(r.temperature_K) > 0) and r.temperature_K[-1] < amb[-1]
    with pytest.raises(InputError, match=r"ambient_temperature_K\[16\] = 318.8\d* K is outside the validity"):
        m.run_current(t, np.zeros(31), ambient_temperature_K=amb + 20.0)
    with pytest.raises(InputError, match="ambient_temperature_K has 3 values but time_s has 31"):
        m.run_current(t, np.zeros(31), ambient_temperature_K=[298.0, 299.0, 300.0])
    with pytest.raises(InputError, match="one number .* for an experiment"):
        m.run_experiment(["Rest for 1 minute"], ambient_temperature_K=amb)


def test_x_full_thermal_close_to_lumped_and_bpx_gap_reported():
    kw = dict(experiment=["Discharge at 2C for 15 minutes"], mesh="coarse", ambient_temperature_K=298.15)
    full = cell.simulate("LFP26650", "DFN", "x-full", **kw)
    lumped = cell.simulate("LFP26650", "DFN", "lumped", **kw)
    rise_full, rise_lumped = full.temperature_K.max() - 298.15, lumped.temperature_K.max() - 298.15
    # The x-full faces are cooled with the lumped model's h A / V (parameter-set sidecar), so the
    # two agree on the temperature rise to within the through-layer/collector heat paths:
    # measured 4.2 K vs 3.7 K (LFP26650) and 28 K vs 25 K (LGM50) at 2C.
    assert rise_lumped > 1.0
    assert rise_full == pytest.approx(rise_lumped, rel=0.2)
    with pytest.raises(ParameterError, match=r"'LFP18650BPX' lacks a parameter .*'thermal': 'x-full'.*thermal conductivity"):
        cell.simulate("LFP18650BPX", "SPM", "x-full", experiment=["Rest for 1 minute"], mesh="coarse")


def test_experiment_cycles_as_tuples():
    r = cell.simulate("LGM50", "SPM", mesh="coarse", initial_soc=0.5,
                      experiment=[("Discharge at 1C for 5 minutes", "Charge at 1C for 5 minutes")] * 2)
    assert r.completed and r.time_s[-1] == pytest.approx(1200.0)
    assert r.soc[-1] == pytest.approx(0.5, abs=1e-6)  # charge returned, coulomb for coulomb
    assert r.throughput_Ah[-1] == pytest.approx(4 * 5.0 * 300.0 / 3600.0, rel=1e-4)
    with pytest.raises(InputError, match="tuples of step strings"):
        cell.simulate("LGM50", "SPM", experiment=[("Rest for 1 minute", 5)])


def test_lgm50_bpx_conversion_reproduces_pybamm_chen2020(tmp_path):
    """The shipped BPX conversion of Chen et al. 2020 against PyBaMM's own Chen2020 set."""
    ref = tmp_path / "chen2020.json"
    ref.write_text(json.dumps({
        "batterylab_cell": 1, "name": "Chen2020", "description": "PyBaMM's Chen2020 set as published",
        "source": {"pybamm_parameter_set": "Chen2020"}, "citations": [{"doi": "10.1149/1945-7111/ab9050"}],
        "licence": "BSD-3-Clause", "validity": {"c_rate_max": 3, "temperature_min_K": 273.15, "temperature_max_K": 318.15},
    }))
    kw = dict(experiment=["Discharge at 2C until 2.5 V"], mesh="coarse", period_s=20)
    a = cell.simulate(str(ref), "DFN", "lumped", **kw)
    b = cell.simulate("LGM50BPX", "DFN", "lumped", **kw)
    tt = np.linspace(0.0, min(a.time_s[-1], b.time_s[-1]), 200)
    dv = np.interp(tt, b.time_s, b.voltage_V) - np.interp(tt, a.time_s, a.voltage_V)
    # Same equations; the conversion rounds to 6 significant digits. Measured: max 0.01 mV,
    # 1e-6 K, 3e-6 Ah; a wrong conversion (e.g. Bruggeman, rate constant) gives tens of mV.
    assert np.max(np.abs(dv)) < 1e-4
    assert b.temperature_K.max() == pytest.approx(a.temperature_K.max(), abs=1e-3)
    assert b.discharge_capacity_Ah[-1] == pytest.approx(a.discharge_capacity_Ah[-1], rel=1e-5)


@given(
    t=arrays(np.float64, st.integers(3, 40), elements=st.floats(0.0, 1e5), unique=True),
    i=st.integers(0, 38),
)
def test_any_non_increasing_time_is_rejected_before_pybamm(spm, t, i):
    t = np.sort(t)
    i = i % (t.size - 1)
    t[[i, i + 1]] = t[[i + 1, i]]  # one swapped pair
    with pytest.raises(InputError, match=rf"time_s must be strictly increasing \[s\]; time_s\[{i + 1}\] = "):
        spm.run_current(t, np.ones(t.size))


@given(
    n=st.integers(2, 40),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
    where=st.integers(0, 39),
)
def test_any_non_finite_duty_is_rejected_before_pybamm(spm, n, bad, where):
    t = np.arange(n, dtype=np.float64) * 10.0
    p = np.full(n, 3.0)
    k = where % n
    p[k] = bad
    with pytest.raises(InputError, match=rf"power_W must be finite, got {bad!r} at index {k}"):
        spm.run_power(t, p)


def test_engine_keeps_the_period_and_names_the_run_that_fails():
    # batterylab.cell.engine is the one place PyBaMM models are built and solved: the sampling
    # period reaches PyBaMM in full, and a failure names the run and raises the caller's class
    from batterylab.cell import engine
    from batterylab.errors import RunError

    exp = engine.experiment(["Rest for 1 hour"], period_s=123.4567)
    assert exp.steps[0].period == 123.4567

    class MyError(RunError):
        pass

    with pytest.raises(MyError, match="my run: could not set up the simulation"):
        engine.simulation(object(), None, what="my run", error=MyError)
    with pytest.raises(InputError, match="could not be parsed"):
        engine.experiment(["Dance for 1 hour"])
