"""Solid-state cell model invariants (PyBaMM runs, kept short)."""

import numpy as np
import pytest
from scipy.integrate import simpson

from batterylab.errors import InputError, OptionError, ParameterError
from batterylab.solid_state import duty, model
from batterylab.solid_state.parameters import FARADAY_C_MOL, load_cell

TIGHT = {"rtol": 1e-8, "atol": 1e-10}


@pytest.fixture(scope="module")
def cell():
    return load_cell("sulfide")


def test_lithium_thickness_per_areal_capacity_arithmetic():
    """1 mAh/cm2 = 3.6 C / 1e-4 m2 = 36 000 C/m2; x 1.3e-5 m3/mol / F = 4.85 um."""
    dh = 36000.0 / FARADAY_C_MOL * 1.3e-5
    assert dh == pytest.approx(4.85e-6, abs=0.005e-6)


def test_separator_ohmic_drop_is_I_L_over_kappa(cell):
    """3 mA/cm2 across 30 um at 3 mS/cm: 30 A/m2 x 30e-6 m / 0.3 S/m = 3.0 mV."""
    c = cell.replace(separator_thickness_m=30e-6, electrolyte_conductivity_S_m=0.3,
                     electrolyte_activation_energy_J_mol=0.0)
    i_A_m2 = 30.0
    current = i_A_m2 * c.electrode_area_m2
    t = np.array([0.0, 60.0])
    lim = model.Limits(10 * current, 2.0, 5.0)
    r = model.simulate(c, t, current_A=np.full(2, current), limits=lim, t_eval_s=np.array([0.0, 30.0, 60.0]),
                       extra_variables=["Separator electrolyte potential [V]", "x_s [m]"], **TIGHT)
    phi = r["Separator electrolyte potential [V]"][:, -1]
    x = r["x_s [m]"][:, -1]
    slope = np.polyfit(x, phi, 1)[0]
    drop = -slope * 30e-6
    assert i_A_m2 * 30e-6 / 0.3 == pytest.approx(3.0e-3, rel=1e-12)
    # the potential is linear in the separator, so the finite-volume solution is exact up to the solver
    assert drop == pytest.approx(3.0e-3, rel=1e-6)
    assert np.ptp(np.diff(phi) / np.diff(x)) < 1e-9 * abs(slope)


def test_concentration_uniform_and_thickness_tracks_charge(cell):
    """1C discharge: t+ = 1 keeps c_e uniform; Li thickness falls 4.85 um per mAh/cm2 stripped,
    then rises by the same rule when plating back."""
    I = cell.capacity_Ah  # 1C
    t = np.array([0.0, 3000.0, 3000.001, 4200.0])
    req = np.array([I, I, -I, -I])
    lim = model.Limits(2 * I, 2.5, 4.5)
    te = np.linspace(0.0, 4200.0, 43)
    r = model.simulate(cell, t, current_A=req, limits=lim, initial_soc=0.95, t_eval_s=te,
                       extra_variables=["Electrolyte concentration [mol.m-3]"], **TIGHT)
    c = r["Electrolyte concentration [mol.m-3]"]
    c0 = c[0, 0]
    assert np.max(np.abs(c - c0)) < 1e-6 * c0
    assert np.allclose(r["current_A"][te < 2999], I, rtol=1e-6)  # limits did not bite
    area_cm2 = cell.electrode_area_m2 * 1e4
    q_mAh_cm2 = r["discharge_capacity_Ah"] * 1e3 / area_cm2
    dh_um = (r["lithium_thickness_m"] - r["lithium_thickness_m"][0]) * 1e6
    k = q_mAh_cm2 != 0
    assert np.allclose(-dh_um[k] / q_mAh_cm2[k], 4.85, atol=0.005)
    i_end_strip = np.argmin(np.abs(te - 3000.0))
    plated = q_mAh_cm2[i_end_strip] - q_mAh_cm2[-1]
    regrown = (r["lithium_thickness_m"][-1] - r["lithium_thickness_m"][i_end_strip]) * 1e6
    assert plated > 0.5
    assert regrown / plated == pytest.approx(4.85, abs=0.005)


def test_energy_balance_over_a_regulation_duty(cell):
    """Electrical power out + heat = chemical power released, at every instant; and the heat
    generated minus the heat removed equals m c_p dT."""
    t, s = duty.regd_signal(4.0 / 60.0, seed=3)
    te = np.arange(0.0, t[-1] + 1e-9, 0.5)
    r = model.simulate(cell, t, power_W=15.0 * s, t_eval_s=te, **TIGHT,
                       extra_variables=["Positive electrode volumetric interfacial current density [A.m-3]",
                                        "Positive electrode open-circuit potential [V]"])
    aj = r["Positive electrode volumetric interfacial current density [A.m-3]"]
    U = r["Positive electrode open-circuit potential [V]"]
    dx = cell["cathode_thickness_m"] / aj.shape[0]
    p_chem = -(aj * U).sum(axis=0) * dx * cell.electrode_area_m2
    p_el = r["current_A"] * r["voltage_V"]
    resid = p_chem - p_el - r["heat_W"]
    # pointwise to solver/discretisation tolerance: 1e-5 of the power scale (measured 2e-6)
    assert np.max(np.abs(resid)) < 1e-5 * np.max(np.abs(p_el))
    tt = r["time_s"]
    stored = cell.heat_capacity_J_K() * (r["temperature_K"][-1] - r["temperature_K"][0])
    # Simpson on 0.5-s samples (the request's kinks every 2 s fall on panel edges). Measured
    # 1.8e-4 relative: IDAKLU returns t_eval values by Hermite interpolation between its own steps,
    # so 5e-4 is the solver-output tolerance here, not a modelling error
    assert simpson(r["heat_W"] + r["cooling_W"], x=tt) == pytest.approx(stored, rel=5e-4)
    assert np.trapezoid(r["heat_W"], tt) > 0


def test_limits_cap_current_and_power_follows_within_limits(cell):
    t = np.array([0.0, 60.0])
    lim = model.Limits(1.0, 3.0, 4.3)
    r = model.simulate(cell, t, power_W=np.full(2, 30.0), limits=lim, mesh_points=6)
    assert np.max(r["current_A"]) <= 1.0 + 1e-6
    assert r["current_A"][-1] == pytest.approx(1.0, rel=2e-3)  # smooth corner within 0.2 %
    r2 = model.simulate(cell, t, power_W=np.full(2, 2.0), limits=lim, mesh_points=6)
    assert np.allclose(r2["current_A"] * r2["voltage_V"], 2.0, rtol=1e-4)


def test_electrolyte_conductivity_and_interface_resistance_are_arrhenius(cell):
    """At 268.15 K the separator drop is I L / kappa(T) with kappa(T) = kappa_ref exp(E/R (1/T_ref - 1/T)),
    and the Li interface overpotential is Butler-Volmer with j0 = R T / (F R_int(T))."""
    from batterylab.solid_state.parameters import GAS_CONSTANT_J_MOL_K as R, arrhenius, interface_resistance_ohm_m2

    T = 268.15
    i_A_m2 = 10.0
    I = i_A_m2 * cell.electrode_area_m2
    r = model.simulate(cell, [0.0, 1.0], current_A=[I, I], limits=model.Limits(10 * I, 2.0, 5.0), ambient_temperature_K=T,
                       t_eval_s=[0.0, 1.0], mesh_points=6, **TIGHT,
                       extra_variables=["Separator electrolyte potential [V]", "x_s [m]",
                                        "Lithium metal interface reaction overpotential [V]"])
    assert r["temperature_K"][0] == T
    phi, x = r["Separator electrolyte potential [V]"][:, 0], r["x_s [m]"][:, 0]
    drop = -np.polyfit(x, phi, 1)[0] * cell["separator_thickness_m"]
    kappa = arrhenius(cell["electrolyte_conductivity_S_m"], cell["electrolyte_activation_energy_J_mol"], T,
                      cell["reference_temperature_K"])
    assert kappa < 0.5 * cell["electrolyte_conductivity_S_m"]  # 30 K colder: less than half
    assert drop == pytest.approx(i_A_m2 * cell["separator_thickness_m"] / kappa, rel=1e-6)
    j0 = R * T / (FARADAY_C_MOL * interface_resistance_ohm_m2(cell, T))
    eta = 2 * R * T / FARADAY_C_MOL * np.arcsinh(i_A_m2 / (2 * j0))
    assert abs(r["Lithium metal interface reaction overpotential [V]"][0]) == pytest.approx(eta, rel=1e-6)


def test_bad_inputs_name_the_argument(cell, tmp_path):
    with pytest.raises(OptionError, match="valid solid-state cells are"):
        load_cell("sulphide")
    with pytest.raises(OptionError, match="valid solid-state parameters"):
        cell.replace(separator_thicknes_m=1e-5)
    with pytest.raises(InputError, match="kelvin"):
        model.simulate(cell, [0.0, 1.0], current_A=[1.0, 1.0], ambient_temperature_K=25.0)
    with pytest.raises(InputError, match="exactly one"):
        model.simulate(cell, [0.0, 1.0])
    bad = tmp_path / "solid_state_bad.json"
    bad.write_text('{"parameters": {"lithium_thickness_m": {"value": 1}}}')
    with pytest.raises(ParameterError, match="missing parameters"):
        load_cell(bad)


def test_shipped_sets_cite_every_value():
    for name in ("sulfide", "llzo"):
        c = load_cell(name)
        assert c.meta["citations"]
        assert 4.0 < c.capacity_Ah < 6.0  # sized like the 5 Ah LG M50
        assert c["lithium_molar_volume_m3_mol"] == 1.3e-5
    assert load_cell("sulfide")["electrolyte_conductivity_S_m"] == 2.5


def test_contact_loss_above_critical_current_raises_interface_overpotential_as_one_over_a(cell):
    """Below the critical stripping current the contact stays whole; above it voids open, and the
    Li interface overpotential follows Butler-Volmer with j0 proportional to the contact fraction."""
    from batterylab.solid_state.parameters import GAS_CONSTANT_J_MOL_K as R, interface_resistance_ohm_m2

    A = cell.electrode_area_m2
    t = np.array([0.0, 300.0, 300.001, 900.0])
    te = np.linspace(0.0, 900.0, 31)
    out = {}
    for i_A_m2 in (5.0, 20.0):  # critical current at 7 MPa: 10 A/m2
        I = i_A_m2 * A
        out[i_A_m2] = model.simulate(cell, t, current_A=np.array([I, I, 0.0, 0.0]), limits=model.Limits(5 * I, 2.5, 4.5),
                                     contact_loss=True, t_eval_s=te, mesh_points=6,
                                     extra_variables=["Lithium metal interface reaction overpotential [V]"])
    assert out[5.0]["contact_fraction"].min() > 0.999
    a = out[20.0]["contact_fraction"]
    assert a[10] < 0.7  # after 300 s at twice the critical current
    assert a[-1] > a[10] + 0.1  # creep closes voids at rest
    r = out[20.0]
    k = 5  # during stripping
    T = r["temperature_K"][k]
    j0 = R * T * a[k] / (FARADAY_C_MOL * interface_resistance_ohm_m2(cell, T))
    eta = 2 * R * T / FARADAY_C_MOL * np.arcsinh(20.0 / (2 * j0))
    assert abs(r["Lithium metal interface reaction overpotential [V]"][k]) == pytest.approx(eta, rel=1e-3)


def test_instantaneous_resistance_matches_newman_tobias(cell):
    """Voltage drop the instant a small current starts = I x (Li interface + separator + porous
    cathode, Newman & Tobias 1962); the finite-volume error is first order in the mesh."""
    from pybamm.input.parameters.lithium_ion.Chen2020 import nmc_LGM50_ocp_Chen2020 as ocp

    R = model.instantaneous_resistance_ohm(cell, 298.15, 0.5)["total_ohm"]
    x = cell["cathode_stoichiometry_at_100_soc"] + 0.5 * (cell["cathode_stoichiometry_at_0_soc"] - cell["cathode_stoichiometry_at_100_soc"])
    I = 0.01 * cell.capacity_Ah  # small signal: Butler-Volmer is linear to 1e-5 here
    err = {}
    for n in (20, 40):
        r = model.simulate(cell, [0.0, 1.0], current_A=[I, I], limits=model.Limits(10.0, 2.0, 5.0),
                           t_eval_s=[0.0, 1e-3], rtol=1e-9, atol=1e-11, mesh_points=n)
        err[n] = abs((float(ocp(x)) - r["voltage_V"][0]) / I / R - 1)
    # measured 0.27 % at 20 points, 0.12 % at 40, 0.06 % at 80 (first-order convergence)
    assert err[20] < 5e-3
    assert err[40] < 0.6 * err[20]


def test_compare_revenue_rows_follow_pjm_credits_and_the_years_fade():
    from batterylab.grid import regulation_revenue
    from batterylab.solid_state import compare_cells

    prices = {"capability_price_per_MWh": 20.0, "performance_price_per_MW": 2.0, "mileage_ratio": 3.0}
    res = compare_cells(["LGM50"], hours=0.1, mesh_points=6, step_hold_s=20.0, ramp_s=None, aging_resolution_s=60.0,
                        regulation_prices=prices)
    row = res.values["LGM50"]
    want = regulation_revenue(row["regulation_W"], 8760.0, row["score"], **prices)["total"]
    assert row["regulation_revenue_1yr"] == pytest.approx(want, rel=1e-12)
    assert 0 < row["capacity_fraction_lost_1yr"] < 0.5
    assert row["revenue_per_capacity_point_lost"] == pytest.approx(want / (100 * row["capacity_fraction_lost_1yr"]))
    assert res.config["regulation_prices"] == prices
    # without prices no price is assumed
    bare = compare_cells(["LGM50"], hours=0.1, mesh_points=6, step_hold_s=20.0, ramp_s=None, aging_model="none")
    assert np.isnan(bare.values["LGM50"]["regulation_revenue_1yr"])


def test_fast_response_cli_needs_all_three_market_numbers(tmp_path, capsys):
    from batterylab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["fast-response", "--capability-price", "10", "--out", str(tmp_path / "x.h5")])
    assert exc.value.code == 2
    assert "--mileage-ratio" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()
