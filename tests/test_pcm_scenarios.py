"""PCM scenarios: preheat and fast-charge on a synthetic cell provider, and once end to end on
the PyBaMM cell model through the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from batterylab.errors import BatterylabError
from batterylab.io import read_results
from batterylab.pcm.materials import load_material
from batterylab.pcm.scenarios import fast_charge, preheat
from fake_pcm_cell import FakeCell


def test_preheat_keeps_pack_warm_and_finds_mass_needed(tmp_path):
    cell = FakeCell()
    r = preheat(cell=cell, pcm_mass_kg=30.0, heater_power_W=2000.0)
    assert r.departure_temperature_K > r.departure_temperature_no_pcm_K + 10.0
    assert r.departure_temperature_no_pcm_K < 273.15  # a cold night without storage
    assert r.range_gain_percent > 0.0
    assert 0.0 < r.heater_energy_kWh <= 2.0 * 7.0 + 1e-9  # at most heater power x window
    assert r.energy_error_relative < 1e-9
    assert r.pcm_volume_m3 == pytest.approx(30.0 / load_material("rt28hc").density_liquid_kg_m3)
    # the cell saw the departure temperatures and the per-cell enclosure conductance
    temps, amb, g = cell.calls[0]
    assert temps == [r.departure_temperature_K, r.departure_temperature_no_pcm_K]
    assert g == pytest.approx(4.0 / r.n_cells)
    # the mass needed is the smallest that reaches the target (bisection to 0.1 %)
    m = r.mass_needed_kg
    assert np.isfinite(m)
    hot = preheat(cell=FakeCell(), pcm_mass_kg=m)
    cold = preheat(cell=FakeCell(), pcm_mass_kg=0.99 * m)
    assert hot.departure_temperature_K >= 288.15 > cold.departure_temperature_K
    # results file with units
    path = r.save(tmp_path / "preheat.h5")
    variables, attrs = read_results(path)
    assert variables["cell_temperature_K"].units == "K"
    assert variables["range_km"].units == "km"
    assert attrs["scenario"] == "preheat"
    assert r.figure().axes


def test_preheat_without_heater_gains_nothing_beyond_thermal_mass():
    r = preheat(cell=FakeCell(), heater_power_W=0.0, pcm_mass_kg=30.0)
    assert r.heater_energy_kWh == 0.0
    # the PCM never melts from a cold start without heat
    assert r.liquid_fraction.max() == 0.0


def test_fast_charge_buffers_the_peak(tmp_path):
    r = fast_charge(cell=FakeCell(), aging_model=None, pcm_mass_per_cell_kg=0.015)
    assert r.peak_temperature_K < r.peak_temperature_no_pcm_K - 2.0
    # the lumped cell-to-PCM conductance from the shell geometry reproduces the resolved 1D shell
    # (20 nodes) to within 5 % of the temperature rise
    rise = r.peak_temperature_shell_K - 298.15
    assert r.peak_temperature_K == pytest.approx(r.peak_temperature_shell_K, abs=0.05 * rise)
    assert r.plateau_s > 0.0
    assert r.charge_duration_s == pytest.approx(1200.0)
    assert r.ageing_difference_percent_points is None and "ageing" not in " ".join(r.summary())
    assert r.energy_error_relative < 1e-9
    # a vanishing PCM mass gives the no-PCM peak back
    tiny = fast_charge(cell=FakeCell(), aging_model=None, pcm_mass_per_cell_kg=1e-6, cell_pcm_conductance_W_K=1e-6,
                       shell_nodes=0)
    # (the tiny PCM node forces 0.1 s substeps; the no-PCM run takes 10 s forward-Euler steps on a
    # 900 s time constant, whose error is ~dt/(2 tau) = 0.6 % of the ~45 K rise: allow 1 %)
    rise = tiny.peak_temperature_no_pcm_K - 298.15
    assert tiny.peak_temperature_K == pytest.approx(tiny.peak_temperature_no_pcm_K, abs=0.01 * rise)
    variables, attrs = read_results(r.save(tmp_path / "fc.h5"))
    assert variables["peak_temperature_K"].units == "K"
    assert "capacity_after_year" not in variables


def test_scenario_inputs_are_checked():
    with pytest.raises(BatterylabError, match="night_ambient_K"):
        preheat(cell=FakeCell(), night_ambient_K=-10.0)
    with pytest.raises(BatterylabError, match="pcm_mass_per_cell_kg"):
        fast_charge(cell=FakeCell(), pcm_mass_per_cell_kg=0.0, aging_model=None)
    with pytest.raises(BatterylabError, match="material"):
        fast_charge(cell=FakeCell(), material="paraffin", aging_model=None)


def test_cli_runs_both_scenarios_on_the_pybamm_cell(tmp_path):
    """End to end with batterylab's PyBaMM cell model (SPM, coarse mesh, to keep it short)."""
    from click.testing import CliRunner

    from batterylab.pcm.cli import pcm

    runner = CliRunner()
    out = tmp_path / "fc.h5"
    res = runner.invoke(pcm, ["fast-charge", "--model", "SPM", "--aging-model", "none", "--out", str(out),
                              "--figure", str(out.with_suffix(".png"))])
    assert res.exit_code == 0, res.output
    assert "peak reduction [K]" in res.output and out.exists() and out.with_suffix(".png").exists()
    variables, _ = read_results(out)
    assert variables["heat_W"].data.max() > 0.5  # heat came from the electrochemical model
    peaks = variables["peak_temperature_K"].data
    assert peaks[0] < peaks[1]
    out = tmp_path / "ph.h5"
    res = runner.invoke(pcm, ["preheat", "--model", "SPM", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "range gain [%]" in res.output
    variables, attrs = read_results(out)
    assert variables["usable_energy_Wh"].data.min() > 10.0  # an LGM50 holds ~18 Wh


def test_fast_charge_closed_loop():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fast_charge(cell=FakeCell(), aging_model="wang2011", shell_nodes=0)
        r0 = fast_charge(cell=FakeCell(), aging_model="wang2011", shell_nodes=0, feedback_interval_days=None)
        once = fast_charge(cell=FakeCell(), aging_model="wang2011", shell_nodes=0, feedback_interval_days=400.0)
    # the stand-in's aged cell heats more for the same power: hotter, so it ages faster, with and without PCM
    assert r.capacity_after_year_closed_loop < r.capacity_after_year
    assert r.capacity_after_year_no_pcm_closed_loop < r.capacity_after_year_no_pcm
    # an update interval longer than the year: the fresh day throughout, the open loop
    assert once.capacity_after_year_closed_loop == pytest.approx(once.capacity_after_year, rel=1e-12)
    assert once.capacity_after_year_no_pcm_closed_loop == pytest.approx(once.capacity_after_year_no_pcm, rel=1e-12)
    assert r0.capacity_after_year_closed_loop is None and r0.capacity_after_year == r.capacity_after_year
    assert "capacity after a year with PCM, closed loop [%]" in r.summary()


def test_pybamm_cell_aged_resistance_heats_the_charge():
    from batterylab.cell import pulse_resistance
    from batterylab.pcm.scenarios import PyBaMMCell

    cell = PyBaMMCell("LGM50", "SPM")
    fresh = cell.fast_charge_day(40.0, 0.2, 298.15)
    aged = cell.fast_charge_day(40.0, 0.2, 298.15, resistance_factor=1.5)
    r_add = 0.5 * pulse_resistance("LGM50", model="SPM")
    # early in the constant-power charge the extra heat is the series resistance's Joule heat I^2 R;
    # 15 %: the same power at a higher terminal voltage draws a few % less current, so the other
    # heat sources fall a little
    k = int(np.searchsorted(fresh.time_s, 50.0))
    assert aged.time_s[k] == fresh.time_s[k] == 50.0
    assert aged.heat_W[k] - fresh.heat_W[k] == pytest.approx(aged.current_A[k] ** 2 * r_add, rel=0.15)
    assert np.trapezoid(aged.heat_W, aged.time_s) > np.trapezoid(fresh.heat_W, fresh.time_s)


def test_fast_charge_closed_loop_needs_a_provider_that_ages_its_cell():
    class OldCell(FakeCell):
        def fast_charge_day(self, power_W, initial_soc, ambient_K):
            return super().fast_charge_day(power_W, initial_soc, ambient_K)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = fast_charge(cell=OldCell(), aging_model="wang2011", shell_nodes=0)
    assert r.capacity_after_year_closed_loop is None
    assert any("closed loop not run" in n for n in r.notes)


def test_pybamm_cell_reuses_a_drive_energy_it_has_computed(monkeypatch):
    # preheat asks for the energy of the pack with and without PCM; a second preheat on the same
    # provider (the claims audit's perturbed mass) needs only the new departure temperature
    from batterylab.pcm.scenarios import PyBaMMCell

    runs = []

    class Model:
        def run_power(self, t, p, *, ambient_temperature_K, initial_soc, initial_temperature_K):
            runs.append((initial_temperature_K, ambient_temperature_K))
            tt = np.array([0.0, 3600.0])
            return type("R", (), {"termination": "event: Minimum voltage [V]", "time_s": tt,
                                  "power_W": np.full(2, initial_temperature_K - ambient_temperature_K)})()

    cell = PyBaMMCell("LGM50")
    monkeypatch.setattr(cell, "_model", lambda *a, **k: Model())
    first, _ = cell.drive_energy_Wh([290.0, 270.0], 265.0, 0.05)
    again, _ = cell.drive_energy_Wh([280.0, 270.0], 265.0, 0.05)
    assert runs == [(290.0, 265.0), (270.0, 265.0), (280.0, 265.0)]
    assert first == [25.0, 5.0] and again == [15.0, 5.0]
    cell.drive_energy_Wh([270.0], 266.0, 0.05)  # another ambient is another drive
    cell.drive_energy_Wh([270.0], 265.0, 0.06)  # and so is another conductance
    assert len(runs) == 5
