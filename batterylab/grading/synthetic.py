"""Synthetic cell records with known state, for tests, benchmarks and validation.

A synthetic NMC/graphite cell has known degradation modes (LLI, LAM_PE, LAM_NE, fractions
lost), a known DC resistance and a known rest-voltage slope. Its records are made from the
same half-cell OCP model the fit uses (:mod:`batterylab.grading.ocv_fit`):

- a C/20 charge curve from 3.0 V to 4.2 V (``c20_capacity_Ah``, ``c20_voltage_V``);
- a time series: 30 min rest at the as-received voltage (with the given self-discharge slope),
  a 10 s 1C discharge pulse with a resistance R0 + R1 (1 - exp(-t/tau)), a rest, and a C/2
  capacity-test discharge whose charge equals the C/20 capacity (rate losses ignored).

The electrode state follows from the modes: C_p = C_p0 (1 - LAM_PE), C_n = C_n0 (1 - LAM_NE),
n_Li = n_Li0 (1 - LLI) with the BOL values of the chemistry's OCP file per nominal Ah; x0 and y0
solve C_p y0 + C_n x0 = n_Li and U_p(y0) - U_n(x0) = 3.0 V.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import checks
from ..errors import InputError
from .ocv_fit import load_ocp_set, synthetic_c20_curve
from .readers import CellRecord

V_MIN, V_MAX = 3.0, 4.2


@dataclass
class SyntheticTruth:
    LLI: float
    LAM_PE: float
    LAM_NE: float
    Cp_Ah: float
    Cn_Ah: float
    y0: float
    x0: float
    capacity_Ah: float
    resistance_ohm: float
    rest_slope_V_per_h: float


def electrode_state(nominal_capacity_Ah, LLI, LAM_PE, LAM_NE, chemistry="nmc-graphite"):
    """(Cp, Cn, y0, x0) of a cell with the given degradation modes (fractions lost)."""
    nominal_capacity_Ah = checks.positive("nominal_capacity_Ah", nominal_capacity_Ah, "Ah")
    for name, value in (("LLI", LLI), ("LAM_PE", LAM_PE), ("LAM_NE", LAM_NE)):
        # a fraction LOST: 0 (fresh) up to, but not including, 1 (nothing left)
        checks.finite_scalar(name, value, low=0.0, high=1.0, unit="(fraction lost)")
        if value >= 1.0:
            raise InputError(f"{name} must be < 1 (fraction lost; 1 leaves nothing), got {value}")
    ocp = load_ocp_set(chemistry)
    k = ocp.bol_per_Ah
    cp = k["Cp"] * nominal_capacity_Ah * (1 - LAM_PE)
    cn = k["Cn"] * nominal_capacity_Ah * (1 - LAM_NE)
    nli = k["n_li"] * nominal_capacity_Ah * (1 - LLI)
    try:
        return electrode_state_from(cp, cn, nli, ocp)
    except InputError as exc:
        raise InputError(f"{exc} for LLI={LLI}, LAM_PE={LAM_PE}, LAM_NE={LAM_NE}") from None


def electrode_state_from(cp, cn, nli, ocp):
    """(Cp, Cn, y0, x0) of electrodes of capacities ``cp``, ``cn`` [Ah] holding ``nli`` [Ah] of
    lithium, discharged to the lower voltage limit (OCP set ``ocp``)."""

    def g(x0):
        y0 = (nli - cn * x0) / cp
        return ocp.positive(y0) - ocp.negative(x0) - V_MIN

    hi = min(nli / cn, 0.5)
    lo = -0.006  # the graphite OCP rises steeply just below x = 0 (Weng et al. report x0 < 0 too)
    if g(lo) * g(hi) > 0:
        raise InputError(f"no discharged state at {V_MIN} V")
    x0 = brentq(g, lo, hi, xtol=1e-12)
    y0 = (nli - cn * x0) / cp
    if not 0.0 <= y0 <= 1.0:
        raise InputError(f"no discharged state at {V_MIN} V (the positive electrode's stoichiometry would be "
                         f"{y0:.3g}, outside [0, 1])")
    return cp, cn, y0, x0


def make_cell(cell_id: str, *, nominal_capacity_Ah=2.5, LLI=0.1, LAM_PE=0.05, LAM_NE=0.05, R0_ohm=0.03,
              R1_ohm=0.01, tau_s=5.0, rest_slope_V_per_h=-0.002, intake_voltage_V=None, noise_V=0.0,
              rng: np.random.Generator | None = None, chemistry="nmc-graphite", with_timeseries=True):
    """One synthetic :class:`CellRecord` and its :class:`SyntheticTruth`."""
    if not isinstance(cell_id, str) or not cell_id:
        raise InputError(f"cell_id must be a non-empty string, got {type(cell_id).__name__} {cell_id!r:.60}")
    for name, value, unit in (("R0_ohm", R0_ohm, "ohm"), ("R1_ohm", R1_ohm, "ohm"), ("noise_V", noise_V, "V")):
        checks.finite_scalar(name, value, low=0.0, unit=unit)
    checks.positive("tau_s", tau_s, "s")
    checks.finite_scalar("rest_slope_V_per_h", rest_slope_V_per_h, low=-1.0, high=1.0, unit="V/h")
    if intake_voltage_V is not None:
        checks.finite_scalar("intake_voltage_V", intake_voltage_V, low=0.0, high=6.0, unit="V")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    with_timeseries = checks.boolean("with_timeseries", with_timeseries)
    ocp = load_ocp_set(chemistry)
    cp, cn, y0, x0 = electrode_state(nominal_capacity_Ah, LLI, LAM_PE, LAM_NE, chemistry)
    q20, v20 = synthetic_c20_curve(cp, cn, y0, x0, chemistry=chemistry, n_points=150, noise_V=noise_V, rng=rng)
    cap = float(q20[-1])
    rec = CellRecord(cell_id=cell_id, source="synthetic", format="synthetic")
    rec.c20_capacity_Ah, rec.c20_voltage_V = q20, v20
    r10 = R0_ohm + R1_ohm * (1 - np.exp(-10.0 / tau_s))
    if with_timeseries:
        i1c = nominal_capacity_Ah
        soc0 = 0.5
        v_ocv = float(np.interp(soc0 * cap, q20, ocp.full_cell_voltage(q20, cp, cn, y0, x0)))
        v_in = v_ocv if intake_voltage_V is None else float(intake_voltage_V)
        # 1) rest 1800 s, 10 s samples, voltage drifting at the self-discharge slope
        t1 = np.arange(0.0, 1800.0 + 1e-9, 10.0)
        v1 = v_in + rest_slope_V_per_h * t1 / 3600.0
        i1 = np.zeros_like(t1)
        # 2) 10 s pulse at 1C, 1 s samples (+ 1 s beyond), then 60 s rest
        tp = np.arange(1.0, 11.0 + 1e-9, 1.0)
        ip = np.where(tp <= 10.5, i1c, 0.0)
        base = v1[-1]
        vp = np.where(tp <= 10.5, base - i1c * (R0_ohm + R1_ohm * (1 - np.exp(-tp / tau_s))), base)
        tr = np.arange(12.0, 72.0 + 1e-9, 10.0)
        # 3) C/2 discharge from the pulse SOC is short; emulate a full capacity test at C/2 from full
        i_cap = 0.5 * nominal_capacity_Ah
        n = 120
        qd = np.linspace(0.0, cap, n)
        ocv_d = ocp.full_cell_voltage(cap - qd, cp, cn, y0, x0)
        vd = ocv_d - i_cap * r10
        td = qd / i_cap * 3600.0
        t_cap0 = 1800.0 + 72.0 + 10.0
        t = np.concatenate([t1, 1800.0 + tp, 1800.0 + tr, t_cap0 + td, [t_cap0 + td[-1] + 10.0]])
        i = np.concatenate([i1, ip, np.zeros_like(tr), np.full(n, i_cap), [0.0]])
        v = np.concatenate([v1, vp, np.full(tr.size, base), vd, [vd[-1] + i_cap * r10]])
        # the discharge segment starts from rest: one rest sample before it at full-charge OCV
        if noise_V > 0 and rng is not None:
            v = v + rng.normal(0.0, noise_V * 0.1, v.shape)
        rec.time_s, rec.current_A, rec.voltage_V = t, i, v
    truth = SyntheticTruth(LLI, LAM_PE, LAM_NE, cp, cn, y0, x0, cap, float(r10), rest_slope_V_per_h)
    rec.metadata = {"nominal_capacity_Ah": nominal_capacity_Ah, "chemistry": chemistry}
    return rec, truth


def make_batch(n: int, *, seed: int = 0, nominal_capacity_Ah=2.5, soft_short_fraction=0.02, noise_V=0.001,
               chemistry="nmc-graphite"):
    """``n`` synthetic cells with random degradation (seeded): (records, truths)."""
    n = checks.integer("n", n, low=1)
    rng = checks.rng("seed", seed)
    checks.positive("nominal_capacity_Ah", nominal_capacity_Ah, "Ah")
    checks.finite_scalar("soft_short_fraction", soft_short_fraction, low=0.0, high=1.0)
    checks.finite_scalar("noise_V", noise_V, low=0.0, high=0.1, unit="V")
    load_ocp_set(chemistry)
    recs, truths = [], []
    for k in range(n):
        lli = rng.uniform(0.0, 0.35)
        lam_pe = rng.uniform(0.0, 0.2)
        lam_ne = rng.uniform(0.0, 0.2)
        r0 = 0.03 * (1 + rng.uniform(0.0, 1.4))
        slope = rng.normal(-0.002, 0.0003)
        if rng.uniform() < soft_short_fraction:
            slope = -0.05 * (1 + rng.uniform())
        rec, tr = make_cell(f"syn{k:05d}", nominal_capacity_Ah=nominal_capacity_Ah, LLI=lli, LAM_PE=lam_pe,
                            LAM_NE=lam_ne, R0_ohm=r0, rest_slope_V_per_h=slope, noise_V=noise_V, rng=rng,
                            chemistry=chemistry)
        rec.metadata.update({"bol_resistance_ohm": 0.03 + 0.01 * (1 - np.exp(-2.0)),
                             "history": "synthetic cell generated by batterylab.grading.synthetic"})
        recs.append(rec)
        truths.append(tr)
    return recs, truths


def pybamm_c20_curve(LLI=0.0, LAM_PE=0.0, LAM_NE=0.0, *, model: str = "SPM", v_start_V: float = V_MIN,
                     v_end_V: float = V_MAX):
    """A C/20 charge curve of PyBaMM's Mohtat2020 cell with known degradation modes.

    LAM scales each electrode's active-material volume fraction by (1 - LAM); LLI removes that
    fraction of the set's cyclable lithium; the cell starts at rest at ``v_start_V`` (the
    stoichiometries solve C_p y0 + C_n x0 = n_Li and U_p(y0) - U_n(x0) = v_start_V with the set's
    own OCP functions) and is charged at C/20 to ``v_end_V`` with PyBaMM's ``model`` (SPM or
    SPMe). Reference: Mohtat et al. 2020, doi:10.1149/1945-7111/aba5d1 (PyBaMM parameter set).

    Returns ``(capacity_Ah, voltage_V, truth)``, truth holding the fresh and aged electrode
    capacities [Ah] and lithium inventory [Ah].
    """
    import pybamm

    from ..cell import engine

    ocp = load_ocp_set("nmc532-graphite-mohtat2020")
    pv = pybamm.ParameterValues("Mohtat2020")
    faraday = 96485.33212
    area = pv["Electrode height [m]"] * pv["Electrode width [m]"]
    cmax_n = pv["Maximum concentration in negative electrode [mol.m-3]"]
    cmax_p = pv["Maximum concentration in positive electrode [mol.m-3]"]
    eps_n = pv["Negative electrode active material volume fraction"]
    eps_p = pv["Positive electrode active material volume fraction"]
    cn0 = faraday * cmax_n * eps_n * pv["Negative electrode thickness [m]"] * area / 3600.0
    cp0 = faraday * cmax_p * eps_p * pv["Positive electrode thickness [m]"] * area / 3600.0
    nli0 = (cp0 * pv["Initial concentration in positive electrode [mol.m-3]"] / cmax_p
            + cn0 * pv["Initial concentration in negative electrode [mol.m-3]"] / cmax_n)
    cp, cn, nli = cp0 * (1 - LAM_PE), cn0 * (1 - LAM_NE), nli0 * (1 - LLI)

    def g(x0):
        return ocp.positive((nli - cn * x0) / cp) - ocp.negative(x0) - v_start_V

    x0 = brentq(g, -0.006, 0.5, xtol=1e-12)
    y0 = (nli - cn * x0) / cp
    pv.update({
        "Negative electrode active material volume fraction": eps_n * (1 - LAM_NE),
        "Positive electrode active material volume fraction": eps_p * (1 - LAM_PE),
        "Initial concentration in negative electrode [mol.m-3]": max(x0, 1e-6) * cmax_n,
        "Initial concentration in positive electrode [mol.m-3]": y0 * cmax_p,
    })
    if model not in ("SPM", "SPMe"):
        from ..errors import unknown_option

        raise unknown_option("PyBaMM model", model, ("SPM", "SPMe"))
    exp = engine.experiment([f"Charge at C/20 until {v_end_V} V"], period_s=300.0)
    what = f"synthetic C/20 charge (LLI {LLI}, LAM_PE {LAM_PE}, LAM_NE {LAM_NE})"
    sim = engine.simulation(engine.pybamm_model(model), pv, experiment=exp, what=what)
    sol = engine.solve(sim, what, model=f"the {model} model", parameters="PyBaMM's Mohtat2020 set")
    q = -np.asarray(sol["Discharge capacity [A.h]"].entries, dtype=np.float64)
    v = np.asarray(sol["Voltage [V]"].entries, dtype=np.float64)
    truth = {"Cp0_Ah": cp0, "Cn0_Ah": cn0, "n_li0_Ah": nli0, "Cp_Ah": cp, "Cn_Ah": cn, "n_li_Ah": nli, "x0": x0, "y0": y0,
             "LLI": LLI, "LAM_PE": LAM_PE, "LAM_NE": LAM_NE}
    return q - q[0], v, truth
