"""Solid-state fast response: model invariants against analytical results, and the solid-state vs
liquid-electrolyte comparison table on the same grid-regulation duty."""

from __future__ import annotations

import numpy as np

from batterylab.io import Variable
from batterylab.validation import Case, CaseResult, Metric


def run_invariants(quick: bool) -> CaseResult:
    from matplotlib.figure import Figure

    from batterylab.grid import scoring, signal as duty
    from batterylab.solid_state import model
    from batterylab.solid_state.parameters import FARADAY_C_MOL, load_cell

    tight = {"rtol": 1e-8, "atol": 1e-10}
    cell = load_cell("sulfide")
    metrics = []

    # 1. separator drop = I L / kappa: 3 mA/cm2, 30 um, 3 mS/cm -> 3.0 mV
    c = cell.replace(separator_thickness_m=30e-6, electrolyte_conductivity_S_m=0.3,
                     electrolyte_activation_energy_J_mol=0.0)
    i_A_m2, L, kappa = 30.0, 30e-6, 0.3
    I = i_A_m2 * c.electrode_area_m2
    r = model.simulate(c, [0.0, 30.0], current_A=[I, I], limits=model.Limits(10 * I, 2.0, 5.0),
                       t_eval_s=[0.0, 30.0], mesh_points=8,
                       extra_variables=["Separator electrolyte potential [V]", "x_s [m]"], **tight)
    phi, x = r["Separator electrolyte potential [V]"][:, -1], r["x_s [m]"][:, -1]
    drop = -np.polyfit(x, phi, 1)[0] * L
    expected = i_A_m2 * L / kappa
    metrics.append(Metric("separator ohmic drop relative error vs I L / kappa (3.0 mV)", abs(drop / expected - 1), 1e-6,
                          "1", "<=", "the potential is linear in a single-ion conductor, so the finite-volume solution is exact to solver tolerance"))

    # 2. 1C discharge: uniform concentration, Li thickness 4.85 um per mAh/cm2
    I1 = cell.capacity_Ah
    dur = 600.0 if quick else 3300.0
    te = np.linspace(0.0, dur, 23)
    r = model.simulate(cell, [0.0, dur], current_A=[I1, I1], limits=model.Limits(2 * I1, 2.5, 4.5), initial_soc=0.95,
                       t_eval_s=te, mesh_points=8 if quick else None,
                       extra_variables=["Electrolyte concentration [mol.m-3]"], **tight)
    ce = r["Electrolyte concentration [mol.m-3]"]
    spread = float(np.max(np.abs(ce - ce[0, 0])) / ce[0, 0])
    metrics.append(Metric("electrolyte concentration spread / initial over a 1C discharge", spread, 1e-6, "1", "<=",
                          "t+ = 1: no source term and zero-flux boundaries keep the solid electrolyte uniform"))
    q = r["discharge_capacity_Ah"][-1] * 1e3 / (cell.electrode_area_m2 * 1e4)
    dh = (r["lithium_thickness_m"][0] - r["lithium_thickness_m"][-1]) * 1e6
    per = dh / q
    analytic = 36000.0 / FARADAY_C_MOL * cell["lithium_molar_volume_m3_mol"] * 1e6
    metrics.append(Metric("Li thickness change per mAh/cm2 stripped", per, None, "um", "info",
                          f"Faraday's law with V_Li = 1.3e-5 m3/mol gives {analytic:.4f} um"))
    metrics.append(Metric("Li thickness change per mAh/cm2: deviation from 4.85 um", abs(per - 4.85), 0.005, "um", "<=",
                          "4.85 um is the rounded value of 36000/96485.33 x 1.3e-5 m"))

    # 3. energy balance over a regulation duty: electrical out + heat = chemical power released
    t, s = duty.regd_signal(4.0 / 60.0 if quick else 0.25, seed=3)
    r = model.simulate(cell, t, power_W=15.0 * s, mesh_points=8 if quick else None, **tight,
                       extra_variables=["Positive electrode volumetric interfacial current density [A.m-3]",
                                        "Positive electrode open-circuit potential [V]"])
    aj = r["Positive electrode volumetric interfacial current density [A.m-3]"]
    U = r["Positive electrode open-circuit potential [V]"]
    p_chem = -(aj * U).sum(axis=0) * cell["cathode_thickness_m"] / aj.shape[0] * cell.electrode_area_m2
    p_el = r["current_A"] * r["voltage_V"]
    resid = float(np.max(np.abs(p_chem - p_el - r["heat_W"])) / np.max(np.abs(p_el)))
    metrics.append(Metric("energy balance residual |P_chem - P_el - Q| / max|P_el|", resid, 1e-5, "1", "<=",
                          "PyBaMM's heat terms (ohmic, reaction at both interfaces) must add up to the chemical power; measured ~2e-6 at rtol 1e-8"))

    # 4. instantaneous resistance vs the porous-electrode solution of Newman & Tobias (1962)
    from pybamm.input.parameters.lithium_ion.Chen2020 import nmc_LGM50_ocp_Chen2020 as ocp

    parts = model.instantaneous_resistance_ohm(cell, 298.15, 0.5)
    x50 = cell["cathode_stoichiometry_at_100_soc"] + 0.5 * (cell["cathode_stoichiometry_at_0_soc"] - cell["cathode_stoichiometry_at_100_soc"])
    I_small = 0.01 * cell.capacity_Ah
    n_mesh = 20 if quick else 80
    r0 = model.simulate(cell, [0.0, 1.0], current_A=[I_small, I_small], limits=model.Limits(10.0, 2.0, 5.0),
                        t_eval_s=[0.0, 1e-3], rtol=1e-9, atol=1e-11, mesh_points=n_mesh)
    r_model = (float(ocp(x50)) - r0["voltage_V"][0]) / I_small
    metrics.append(Metric("instantaneous resistance, model", 1e3 * r_model, None, "mOhm", "info",
                          f"analytic parts [mOhm]: Li interface {1e3 * parts['lithium_interface_ohm']:.3f}, "
                          f"separator {1e3 * parts['separator_ohm']:.3f}, cathode {1e3 * parts['cathode_ohm']:.3f}"))
    metrics.append(Metric("instantaneous resistance relative error vs Newman-Tobias porous electrode", abs(r_model / parts["total_ohm"] - 1),
                          5e-3 if quick else 1.5e-3, "1", "<=",
                          f"finite-volume error is first order: measured 0.27 % at 20 points, 0.06 % at 80 ({n_mesh} used)"))

    # 5. PJM score: identical response scores 1, zero response has zero precision
    ts, sig = duty.regd_signal(0.25, seed=11)
    one = scoring.performance_score(ts, sig, sig)["score"]
    zero = scoring.performance_score(ts, sig, 0 * sig)["precision"]
    half = scoring.performance_score(ts, sig, 0.5 * sig)["score"]
    metrics.append(Metric("PJM score of a response identical to the signal", one, 1.0 - 1e-12, "1", ">=", "PJM Manual 12 definitions"))
    metrics.append(Metric("PJM precision of a zero response", zero, 1e-12, "1", "<=", "1 - mean|S| / mean|S| = 0"))
    metrics.append(Metric("PJM score of a half-amplitude response minus 5/6", abs(half - 5 / 6), 1e-12, "1", "<=",
                          "accuracy 1, delay 1, precision 0.5 by hand"))

    fig = Figure(figsize=(8, 3.5))
    ax = fig.subplots()
    ax.plot(r["time_s"], p_el, label="electrical power [W]")
    ax.plot(r["time_s"], 1e3 * (p_chem - p_el - r["heat_W"]), label="balance residual [mW]")
    ax.set_xlabel("time [s]")
    ax.set_ylabel("power [W]; residual [mW]")
    ax.legend(fontsize=8)
    ax.set_title("Solid-state cell energy balance over a RegD-like duty")
    variables = {
        "time_s": Variable(r["time_s"], "s", "Time [s]", ("time_s",)),
        "electrical_power_W": Variable(p_el, "W", "Electrical power, discharge positive [W]", ("time_s",)),
        "heat_W": Variable(r["heat_W"], "W", "Total heating [W]", ("time_s",)),
        "chemical_power_W": Variable(p_chem, "W", "Chemical power released [W]", ("time_s",)),
    }
    return CaseResult(metrics=metrics, figures=[fig], variables=variables)


def run_comparison(quick: bool) -> CaseResult:
    from batterylab.solid_state.compare import compare

    if quick:
        # short duty, coarse mesh, no ramp test and no ageing (the compiled core's first-call
        # compilation alone can exceed the quick budget; full mode ages the liquid cell)
        res = compare(hours=0.1, mesh_points=6, step_hold_s=20.0, ramp_s=None, aging_model="none")
    else:
        res = compare(hours=1.0, mesh_points=10)
    v = res.values
    ss, liq = res.cells[0], res.cells[-1]
    metrics = [
        Metric(f"PJM score {liq}", v[liq]["score"], 0.75, "1", ">=",
               "the liquid cell follows 1C regulation within its current limit, so it must pass PJM's 0.75"),
    ]
    for c in res.cells:
        if c != liq:
            metrics.append(Metric(f"PJM score {c}", v[c]["score"], None, "1", "info",
                                  "same request in W for every cell; limited by the critical stripping current"))
        run = res.runs[c]
        q = np.trapezoid(run["heat_W"], run["time_s"])
        net = np.trapezoid(run["heat_W"] + run["cooling_W"], run["time_s"])
        from batterylab.solid_state import model as _m
        from batterylab.solid_state.compare import thermal_summary

        cap = thermal_summary(_m.resolve_cell(c))["heat_capacity_J_K"]
        stored = cap * (run["temperature_K"][-1] - run["temperature_K"][0])
        metrics.append(Metric(f"thermal balance error {c}: |int(Q - hA dT) - C dT| / int Q", abs(net - stored) / q, 0.02, "1", "<=",
                              "ties the heat capacity used for tau = C/(hA) to the simulated run; trapezoid on 2-s samples with kinks at every sample (~1 % error)"))
    ratio = v[liq]["thermal_time_constant_s"] / v[ss]["thermal_time_constant_s"]
    ratio_fmt = v[liq]["thermal_time_constant_s"] / v[ss]["thermal_time_constant_reference_format_s"]
    metrics.append(Metric(f"thermal time constant ratio {liq} / {ss} (as built)", ratio, None, "1", "info",
                          "a '4x faster thermal response' claim holds for these cells if this is >= 4"))
    metrics.append(Metric(f"thermal time constant ratio {liq} / {ss} (same 21700 format)", ratio_fmt, None, "1", "info",
                          "chemistry alone: the solid-state stack given the reference cell's volume and cooling area"))
    header, rows = res.table()
    tables = [("Solid-state vs liquid cell on the same regulation duty (1C of the LG M50)", header, rows)]
    if not quick:
        # like-for-like heat: a request every cell can follow. 3.6 V is below every cell's voltage
        # near 50 % SOC, so the current stays under 0.8 x the smallest current limit
        low = compare(hours=0.25, mesh_points=6, regulation_W=0.8 * min(v[c]["current_limit_A"] for c in res.cells) * 3.6,
                      step_hold_s=60.0, ramp_s=None, aging_model="none")
        h2, r2 = low.table()
        tables.append((f"Same duty at {low.config['regulation_W']:.2f} W, within every cell's limits (ageing not run)", h2, r2))
        for c in low.cells:
            metrics.append(Metric(f"PJM score {c} at {low.config['regulation_W']:.2f} W", low.values[c]["score"], 0.75, "1", ">=",
                                  "a request within the current limit must be followed"))
    notes = " ".join(res.notes)
    notes += (f" Thermal time constant ratio (liquid/solid): {ratio:.2f} as built, {ratio_fmt:.2f} in the same format: "
              f"the '4x faster thermal response' claim is {'confirmed' if ratio >= 4 else 'not confirmed'} for the cells as built "
              f"and {'confirmed' if ratio_fmt >= 4 else 'not confirmed'} once the format is the same.")
    variables = {f"comparison/{k}": var for k, var in res.variables().items()}
    return CaseResult(metrics=metrics, figures=res.figures(), variables=variables, tables=tables, notes=notes)


CASES = [
    Case(
        name="solid_state_invariants",
        title="Solid-state cell model: single-ion electrolyte, Li thickness, energy balance, PJM score",
        capability="solid-state fast response",
        reference="Ohm's law I L / kappa; Faraday's law with the Li molar volume 1.3e-5 m3/mol (CRC Handbook); "
                  "porous-electrode resistance of Newman & Tobias, J. Electrochem. Soc. 109 (1962) 1183; "
                  "PJM Manual 12 regulation performance score definitions",
        validity="Li | Li9.54Si1.74P1.44S11.7Cl0.3 | NMC811 cell, 298 K, 1C and RegD-like power",
        run=run_invariants,
        description="Invariants of the PyBaMM Li-metal half-cell DFN with a single-ion (t+ = 1) solid electrolyte.",
    ),
    Case(
        name="solid_state_vs_liquid",
        title="Grid fast response: solid-state cells vs LG M50 on the same regulation duty",
        capability="solid-state fast response",
        reference="LG M50 parameters: Chen et al. 2020, doi:10.1149/1945-7111/ab9050; scoring: PJM Manual 12; "
                  "ageing: Schmalstieg et al. 2014, doi:10.1016/j.jpowsour.2014.02.012",
        validity="1C regulation (same W for every cell), synthetic RegD-like signal, 298 K, h = 10 W/m2/K",
        run=run_comparison,
        description="Step settling, PJM score, heat, temperature rise, thermal time constants, efficiency and ageing, side by side.",
    ),
]
