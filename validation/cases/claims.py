"""Audit of the headline claims made for car-grid storage, each computed with batterylab.

The claims are those of the web article "When Cars Meet Power Banks: The Future of Car & Energy
Storage Interaction". For each: what batterylab needs to compute it (each input sourced or
marked ASSUMPTION), the number batterylab computes, and a verdict by a rule stated here, in
:data:`CLAIMS`, before any number was computed: ``consistent``, ``not consistent`` or ``not
computable with this package`` (and why). Every computed number is also recomputed with one
input changed (``perturbed``): a number that does not move is a constant, not a calculation, and
fails the case.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import Case, CaseResult, Metric

#: id -> (claim, assumptions, verdict rule, the case that computes it in depth). The rule reads the
#: computed value x.
CLAIMS = {
    "swap_peak": ("battery swap stations reduce peak-hour grid load by 18 %",
                  "station nio_gen3_like (batterylab parameter set, NIO-like second generation); baseline = "
                  "immediate charging of returned packs, optimised = valley filling; peak = mean daily peak import; "
                  "14 days (ASSUMPTION: the claim names neither baseline nor period)",
                  "consistent if the reduction x >= 13.5 % (three quarters of the claim: the claim is achievable)",
                  "swap_policies"),
    "swap_life": ("swap stations extend battery lifespan through optimised charging cycles",
                  "station nio_gen2_like, 1 year, wear-levelling hand-out against highest-SOC hand-out (same arrivals); "
                  "lifespan of the pool = its lowest pack SOH (the first pack to retire)",
                  "consistent if the lowest pack SOH is higher with wear levelling (x = difference > 0)",
                  "swap_policies"),
    "v2g_leaf": ("100 Nissan Leaf owners in Oxford earned $420 monthly from V2G",
                 "per owner (ASSUMPTION: the claim does not say whether $420 is per owner or in total); 40 kWh pack "
                 "(Nissan Leaf 40 kWh); 6 kW bidirectional charger (ASSUMPTION); the shipped illustrative price day "
                 "(0.09-0.40 per kWh, not a UK market record: ASSUMPTION); BLAST NMC811 ageing; net of degradation "
                 "at 150 per kWh of pack",
                 "consistent if the net monthly value x lies within a factor 2 of 420 (210 to 840)", "scenario_v2g"),
    "delayed_charging": ("drivers offered a reward voluntarily delayed charging by 2 hours (89 %), with 73 % "
                         "participation", "", "not computable: driver behaviour is not modelled by batterylab",
                         ""),
    "ssb_thermal": ("solid-state batteries have a 4x faster thermal response",
                    "lumped thermal time constant m c_p / (h A) of each shipped solid-state cell against the LG M50 "
                    "liquid reference (batterylab.solid_state.thermal_summary); response speed = 1 / time constant",
                    "consistent if liquid / solid-state time constant x lies in [3, 5] for every shipped solid-state "
                    "cell", "solid_state_vs_liquid"),
    "truck_backup": ("one Freightliner eCascadia provided backup power for 12 homes for 8 hours",
                     "438 kWh pack (Freightliner's published eCascadia 438 kWh option: ASSUMPTION that all of it is "
                     "installed), from 90 % to 10 % SOC (ASSUMPTION), 95 % inverter, the shipped household evening "
                     "load from 18:00 (batterylab.scenarios.mw_backup.backup_hours)",
                     "consistent if the backup lasts x >= 8 h", "scenario_mw_backup"),
    "pcm_range": ("solar-thermal storage that pre-heats batteries boosted winter range by 22 %",
                  "batterylab.pcm.preheat with its defaults (75 kWh pack, 30 kg RT28HC, -10 to +2 degC day, "
                  "2 kW heater for 7 h: ASSUMPTIONS stated in that function)",
                  "consistent if the range gain x lies within a factor 2 of 22 % (11 % to 44 %)", "pcm_energy_conservation"),
    "pcm_density": ("phase-change composites store 1.8 kWh/m3",
                    "latent energy density of the shipped PCMs and composites (liquid density; "
                    "batterylab.pcm.materials)",
                    "consistent if the lowest shipped latent density x >= 1.8 kWh/m3 (the claim is achievable)",
                    "pcm_energy_conservation"),
    "parking_rte": ("a bidirectional parking facility stores solar energy in EV batteries at 94 % round-trip "
                    "efficiency",
                    "LG M50 cell (PyBaMM SPM, lumped thermal, 25 degC) discharged from full at C/4 to 2.5 V and charged "
                    "back to full (C/4 to 4.2 V, then 4.2 V to C/50), times a 97 % one-way charger efficiency squared "
                    "(ASSUMPTION)",
                    "consistent if the round-trip efficiency x >= 0.92 (within 2 points of the claim)", ""),
    "wireless_road": ("a 1-mile wireless charging road charges moving vehicles at 75 kW with a 31 % reduction in "
                      "transformer stress", "",
                      "not computable: the distribution transformer is not modelled by batterylab (the 75 kW coil "
                      "power is an input of batterylab.scenarios.simulate_wireless, not a result)", "scenario_wireless"),
    "truck_cooling": ("20 trucks sharing charge cut cooling costs by 40 %", "",
                      "not computable: cooling cost is not modelled by batterylab (batterylab.scenarios."
                      "simulate_fleet_sharing computes energy, peaks and fade)", "scenario_fleet_sharing"),
    "million_mile": ("million-mile batteries keep 94 % capacity after 200,000 miles",
                     "200,000 miles at 0.30 kWh per mile on a 75 kWh pack = 800 equivalent full cycles over 8 years "
                     "(ASSUMPTIONS), one daily discharge from 90 % SOC and charge back at C/3, 25 degC; BLAST-Lite's "
                     "LFP model (blast_lfp_sonymurata3ah: LFP is the long-life chemistry shipped)",
                     "consistent if the relative capacity x >= 0.92 (within 2 points of the claim)", "aging_blast_lite"),
    "resale": ("million-mile batteries resell as home storage at 60 % of new battery cost",
               "residual value of batterylab.grading (remaining usable-energy throughput to SOH 0.6) at the SOH "
               "computed for the million-mile claim, as a fraction of a new pack's price",
               "consistent if the fraction x lies in [0.45, 0.75] (within 15 points of the claim)", ""),
}


#: The claimed number of each numeric claim (for the figure: batterylab's number over the claim's).
CLAIMED = {"swap_peak": 18.0, "v2g_leaf": 420.0, "ssb_thermal": 4.0, "truck_backup": 8.0, "pcm_range": 22.0,
           "pcm_density": 1.8, "parking_rte": 0.94, "million_mile": 0.94, "resale": 0.60}


def _swap_peak(seed):
    from ...swap import policy_difference, simulate_station

    imm = simulate_station("nio_gen3_like", days=14, aging=False, charging="immediate", seed=seed)
    val = simulate_station("nio_gen3_like", days=14, aging=False, charging="valley", seed=seed)
    return float(policy_difference(imm, val)["peak_reduction_pct"])


def _swap_life(seed):
    from ...swap import simulate_station

    a = simulate_station("nio_gen2_like", years=1, handout="highest_soc", seed=seed)
    b = simulate_station("nio_gen2_like", years=1, handout="wear_levelling", seed=seed)
    return float(np.min(np.asarray(b.capacity_fraction)[-1]) - np.min(np.asarray(a.capacity_fraction)[-1]))


def _v2g_leaf(pack_kWh):
    from ...scenarios import simulate_v2g

    r = simulate_v2g(aging_models=["blast_nmc811_lgm50"], years=1.0, pack_energy_kWh=pack_kWh, charger_power_kW=6.0)
    return float(r.net_value["blast_nmc811_lgm50"] / 12.0)


def _ssb_thermal(h):
    from ...solid_state import thermal_summary

    liquid = thermal_summary("LGM50", h_W_m2K=h)["thermal_time_constant_s"]
    return [float(liquid / thermal_summary(c, h_W_m2K=h)["thermal_time_constant_s"]) for c in ("sulfide", "llzo")]


def _truck_backup(n_homes):
    from ...scenarios.common import example
    from ...scenarios.mw_backup import backup_hours, read_household_load

    load = read_household_load(example("household_load.csv"))
    return float(backup_hours(load, n_homes, pack_energy_kWh=438.0, start_soc=0.9, min_soc=0.1)[0])


def _pcm_range(mass_kg, cell):
    from ...pcm import preheat

    return float(preheat(pcm_mass_kg=mass_kg, cell=cell).range_gain_percent)


def _pcm_density(which):
    from ...pcm import load_material, materials_table

    vals = [load_material(row[0]).latent_energy_density_kWh_m3() for row in materials_table()]
    return float(min(vals) if which == "min" else max(vals))


def _parking_rte(c_rate):
    from ...cell import simulate

    # a closed cycle: from full, discharge, then charge back to full (constant current, then 4.2 V to C/50)
    r = simulate("LGM50", "SPM", "lumped", experiment=[f"Discharge at {c_rate}C until 2.5 V", f"Charge at {c_rate}C until 4.2 V",
                                                       "Hold at 4.2 V until C/50"],
                 initial_soc=1.0, ambient_temperature_K=298.15)
    p = np.asarray(r.current_A) * np.asarray(r.voltage_V)
    t = np.asarray(r.time_s)
    dt = np.diff(t)
    pm = 0.5 * (p[1:] + p[:-1])
    out_Wh = float(np.sum(np.clip(pm, 0, None) * dt))
    in_Wh = float(np.sum(np.clip(-pm, 0, None) * dt))
    return 0.97**2 * out_Wh / in_Wh


def _million_mile(efc):
    from ... import aging

    m = aging.load("blast_lfp_sonymurata3ah")
    dod = efc / (8 * 365.0)
    # one day: rest at 90 %, a 2-h drive down by dod, rest, charge back at C/3
    t = np.array([0.0, 7 * 3600, 9 * 3600, 18 * 3600, 18 * 3600 + dod * 3 * 3600, 86400.0])
    soc = np.array([0.9, 0.9, 0.9 - dod, 0.9 - dod, 0.9, 0.9])
    res = aging.simulate(m, t, soc, np.full(t.size, 298.15), years=8.0)
    return float(res.capacity_fraction[-1])


def _resale(soh):
    from ...grading.grade import residual_value

    v = residual_value(soh, 100.0, 3.6, 150.0, end_soh=0.6, repurposing_cost_fraction=0.0, usable_dod=1.0,
                       fade_per_efc=None)
    return float(v["residual_value"] / (150.0 * 0.36))


def run_claims(quick: bool) -> CaseResult:
    from ...aging import OutOfRangeWarning

    computed = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)
        computed["swap_peak"] = (_swap_peak(9), _swap_peak(10))
        computed["swap_life"] = (_swap_life(4), _swap_life(5))
        computed["v2g_leaf"] = (_v2g_leaf(40.0), _v2g_leaf(60.0))
        s1, s2 = _ssb_thermal(10.0)
        computed["ssb_thermal"] = ((s1, s2), (s2,))
        computed["truck_backup"] = (_truck_backup(12), _truck_backup(24))
        if not quick:  # three PyBaMM drive-cycle energies (~16 s): full mode only
            from ...pcm import PyBaMMCell

            cell = PyBaMMCell("LGM50")  # preheat's default provider, shared: the pack without PCM is run once
            computed["pcm_range"] = (_pcm_range(30.0, cell), _pcm_range(15.0, cell))
        computed["pcm_density"] = (_pcm_density("min"), _pcm_density("max"))
        computed["parking_rte"] = (_parking_rte(0.25), _parking_rte(1.0))
        q = _million_mile(800.0)
        computed["million_mile"] = (q, _million_mile(1600.0))
        computed["resale"] = (_resale(q), _resale(0.8))
    rules = {
        "swap_peak": lambda x: x >= 13.5,
        "swap_life": lambda x: x > 0.0,
        "v2g_leaf": lambda x: 210.0 <= x <= 840.0,
        "ssb_thermal": lambda x: all(3.0 <= v <= 5.0 for v in x),
        "truck_backup": lambda x: x >= 8.0,
        "pcm_range": lambda x: 11.0 <= x <= 44.0,
        "pcm_density": lambda x: x >= 1.8,
        "parking_rte": lambda x: x >= 0.92,
        "million_mile": lambda x: x >= 0.92,
        "resale": lambda x: 0.45 <= x <= 0.75,
    }
    units = {"swap_peak": "%", "swap_life": "1", "v2g_leaf": "currency/month", "ssb_thermal": "1", "truck_backup": "h",
             "pcm_range": "%", "pcm_density": "kWh/m3", "parking_rte": "1", "million_mile": "1", "resale": "1"}
    metrics, rows = [], []
    for cid, (claim, assumptions, rule, case) in CLAIMS.items():
        if cid not in computed:
            verdict = "computed in full mode only" if quick and cid == "pcm_range" else "not computable with this package"
            rows.append((claim, "-", verdict, rule, case or "-"))
            continue
        value, perturbed = computed[cid]
        verdict = "consistent" if rules[cid](value) else "not consistent"
        shown = ", ".join(f"{v:.3g}" for v in value) if isinstance(value, tuple) else f"{value:.3g}"
        rows.append((claim, f"{shown} {units[cid]}", verdict, rule, case or "-"))
        first = value[0] if isinstance(value, tuple) else value
        other = perturbed[0] if isinstance(perturbed, tuple) else perturbed
        metrics.append(Metric(f"{cid}: |computed - recomputed with one input changed| (a calculation, not a constant)",
                              abs(first - other), 1e-12, units[cid], ">=",
                              "the number must respond to its inputs (any change above round-off)"))
        metrics.append(Metric(f"{cid}: computed value ({verdict})", float(first), None, units[cid], "info",
                              f"{claim}; rule: {rule}; assumptions: {assumptions}"))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 4.2), layout="constrained")
    ax = fig.subplots()
    names, ratios, colours = [], [], []
    for cid, claimed in CLAIMED.items():
        if cid in computed:
            value = computed[cid][0]
            first = value[0] if isinstance(value, tuple) else value
            names.append(cid)
            ratios.append(first / claimed)
            colours.append("C2" if rules[cid](value) else "C3")
    ax.barh(names, ratios, color=colours)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("batterylab's number / the claimed number (green: consistent by the committed rule, red: not)")
    ax.set_title("Claims audit", fontsize=9)
    header = ["claim", "batterylab", "verdict", "rule (committed before computing)", "case"]
    notes = ("Claims of the web article 'When Cars Meet Power Banks: The Future of Car & Energy Storage Interaction'. "
             "Each row's assumptions are in its 'computed value' metric; ASSUMPTION marks an input the claim does not "
             "give. A verdict applies to batterylab's computation under those assumptions, not to the original "
             "projects. Both solid-state cells are listed for the thermal claim (sulfide, LLZO). Quick mode leaves out "
             "the PCM range claim (three PyBaMM drive cycles).")
    return CaseResult(metrics, [fig], {}, tables=[("Claims audit", header, rows)], notes=notes)


CASES = [
    Case(
        name="claims_audit",
        title="Claims audit: the article's headline numbers for car-grid storage, computed with batterylab",
        capability="grid-interaction scenarios",
        reference="the claims of 'When Cars Meet Power Banks' (web article); each verdict's rule is committed in "
                  "validation/cases/claims.py before the numbers were computed",
        validity="the assumptions listed per claim; verdicts say what batterylab computes under them",
        run=run_claims,
    ),
]
