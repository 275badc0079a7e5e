"""Grid-interaction scenarios: energy balances, exact limiting cases, an analytical arbitrage
optimum, and the per-chemistry sign of the V2G ageing effect (numbers behind it in a table)."""

from __future__ import annotations

import warnings

import numpy as np

from .. import Case, CaseResult, Metric

V2G_MODELS = ("blast_nmc811_lgm50", "blast_nca_panasonic18650b", "blast_lfp_sonymurata3ah")
# two more published models with a resistance law (both extrapolated at 25 C and shallow cycles)
V2G_EXTRA = ("schmalstieg2014", "naumann2020")


def _quiet():
    from ...aging import OutOfRangeWarning

    w = warnings.catch_warnings()
    w.__enter__()
    # BLAST-Lite models are fitted at DOD >= 0.8; daily V2G cycles are shallower (stated in validity).
    warnings.simplefilter("ignore", OutOfRangeWarning)
    return w


def _sign_bars(ax, names, values, xlabel, title, legend_labels):
    """Horizontal bars of signed ``values`` (one per name, labels readable at any count), coloured
    by sign, with a legend of the two colours."""
    from matplotlib.patches import Patch

    y = np.arange(len(values))
    ax.barh(y, values, color=["C3" if v > 0 else "C0" for v in values])
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0.0, color="k", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
    ax.legend(handles=[Patch(color="C3", label=legend_labels[0]), Patch(color="C0", label=legend_labels[1])],
              fontsize=8, loc="best")


#: Illustrative regulation market data for the V2G case (not market statistics).
REG_PRICES = {"capability_price_per_MWh": 20.0, "performance_price_per_MW": 5.0, "mileage_ratio": 3.0}


def run_v2g(quick: bool) -> CaseResult:
    from matplotlib.figure import Figure

    from ...io import Variable
    from ...scenarios.regulation import simulate_v2g_regulation
    from ...scenarios.v2g import simulate_v2g

    years = 3.0 if quick else 10.0
    w = _quiet()
    try:
        r = simulate_v2g(aging_models=V2G_MODELS + V2G_EXTRA, years=years, feedback_interval_days=None)
        # closed loop (both days re-planned every 30 days as the pack ages) for one BLAST model and one that
        # is fed the aged pack's deeper swings
        rc = simulate_v2g(aging_models=[V2G_MODELS[1], "naumann2020"], years=years)
        r0 = simulate_v2g(aging_models=V2G_MODELS[1:2], years=years, max_export_kWh_per_day=0.0)
        # analytical optimum: two price levels, export capped at X, ample charger and SOC window ->
        # revenue = X (eta p_high - p_low / eta) when the low price falls after the high one
        price = np.full(24, 0.10)
        price[18:20] = 0.40
        X, eta = 5.0, 0.95
        ra = simulate_v2g({"departure_h": [8.0], "arrival_h": [9.0], "trip_energy_kWh": [5.0]}, price,
                          aging_models=V2G_MODELS[1:2], years=1.0, max_export_kWh_per_day=X, efficiency=eta)
        # frequency regulation on the same day, at illustrative (not market) prices
        rr = simulate_v2g_regulation(**REG_PRICES, aging_models=V2G_MODELS[1:2], years=years, feedback_interval_days=None)
        # its closed loop over one year (2-s regulation days: each update ages the 30 days sample by sample)
        rrc = simulate_v2g_regulation(**REG_PRICES, aging_models=V2G_MODELS[1:2], years=1.0)
    finally:
        w.__exit__(None, None, None)
    h = 0.25
    bal = max(abs(np.sum(p[:-1]) * h) / (np.abs(p[:-1]).sum() * h) for p in (r.power_drive_W, r.power_v2g_W))
    exact_rev = X * (eta * 0.40 - 0.10 / eta)
    metrics = [
        Metric("pack energy balance over the periodic day |sum P dt| / sum |P| dt", float(bal), 1e-9, "1", "<=",
               "periodic day: the pack must return to its starting SOC; round-off only"),
        Metric("zero export: |fade_V2G - fade_drive| (NCA)", abs(r0.capacity_fraction_lost_v2g[V2G_MODELS[1]]
                                                                - r0.capacity_fraction_lost_drive[V2G_MODELS[1]]), 0.0, "1", "<=",
               "limiting case: no service means the driving-only run exactly"),
        Metric("two-price arbitrage: |revenue - X (eta p_hi - p_lo / eta)| per day", abs(ra.revenue_per_day - exact_rev),
               1e-9, "currency", "<=", "analytical optimum of the linear programme; HiGHS solves it to round-off"),
    ]
    on = rr.offer_kW > 0
    credits = float(np.sum(rr.offer_kW[on] / 1000.0 * rr.score_per_hour[on]
                           * (REG_PRICES["capability_price_per_MWh"]
                              + REG_PRICES["mileage_ratio"] * REG_PRICES["performance_price_per_MW"])))
    dt_h = np.diff(rr.time_s) / 3600.0
    reg_bal = abs(np.sum(rr.power_regulation_W[:-1] * dt_h)) / np.sum(np.abs(rr.power_regulation_W[:-1]) * dt_h)
    deps = np.flatnonzero((rr.power_drive_W[1:] > 0) & (rr.power_drive_W[:-1] <= 0)) + 1
    nca = V2G_MODELS[1]
    metrics += [
        Metric("regulation: |credits - sum_h MW score (RMCCP + mileage ratio x RMPCP)| per day", abs(rr.credits_per_day - credits),
               1e-12, "currency", "<=", "PJM's capability and performance credits, written out from the hourly offers and scores"),
        Metric("regulation: pack energy balance over the periodic day |sum P dt| / sum |P| dt", float(reg_bal), 1e-6, "1", "<=",
               "the charger buys back the regulation's losses: the day ends at its starting SOC (fixed point to 1e-9)"),
        Metric("regulation: min over departures of SOC(regulation) - SOC(driving only)",
               float(min(rr.soc_regulation[k] - rr.soc_drive[k] for k in deps)), -1e-6, "1", ">=",
               "the driver never notices: the car leaves at least as full as without the service"),
        Metric(f"regulation: {nca} capacity fade regulation - driving only after {years:g} y",
               rr.capacity_fraction_lost_regulation[nca] - rr.capacity_fraction_lost_drive[nca], None, "1", "info",
               f"arbitrage on the same days: {rr.capacity_fraction_lost_arbitrage[nca] - rr.capacity_fraction_lost_drive[nca]:+.4f}"),
        Metric(f"regulation: {nca} net value per month", rr.net_value_per_month[nca], None, "currency", "info",
               f"{rr.credits_per_day:.2f} credits and {rr.energy_cost_per_day:.2f} extra energy per day at RMCCP "
               f"{REG_PRICES['capability_price_per_MWh']:g}, RMPCP {REG_PRICES['performance_price_per_MW']:g}, mileage ratio "
               f"{REG_PRICES['mileage_ratio']:g} (illustrative); arbitrage {rr.arbitrage_net_value[nca] / (years * 12):.2f} per month"),
    ]
    metrics += [
        Metric(f"regulation closed loop, {nca}: |driving-only fade closed - open loop| after 1 y",
               abs(rrc.capacity_fraction_lost_drive_closed_loop[nca] - rrc.capacity_fraction_lost_drive[nca]), 1e-9, "1",
               "<=", "BLAST-Lite rescales the SOC swing by 1/q itself and the driving-only plan does not change with "
                     "the pack's energy: the closed loop must be the open loop"),
        Metric(f"regulation closed loop, {nca}: fade with regulation closed - open loop after 1 y",
               rrc.capacity_fraction_lost_regulation_closed_loop[nca] - rrc.capacity_fraction_lost_regulation[nca],
               None, "1", "info",
               f"both days re-planned every 30 days for the aged pack: closed loop "
               f"{rrc.capacity_fraction_lost_regulation_closed_loop[nca]:.5f}, open loop "
               f"{rrc.capacity_fraction_lost_regulation[nca]:.5f}; net value {rrc.net_value_closed_loop[nca]:.1f} "
               f"(open loop {rrc.net_value[nca]:.1f})"),
    ]
    metrics.append(Metric(f"closed loop, {nca}: |driving-only fade closed - open loop|",
                          abs(rc.capacity_fraction_lost_drive_closed_loop[nca] - rc.capacity_fraction_lost_drive[nca]),
                          1e-9, "1", "<=", "BLAST-Lite rescales the SOC swing by 1/q itself and the driving-only plan "
                                           "does not change with the pack's energy: the closed loop must be the open loop"))
    rows = []
    for m, fd, fv, dlt, sign, cpk, net in r.table():
        metrics.append(Metric(f"{m}: capacity fade V2G - driving only after {years:g} y", dlt, None, "1", "info",
                              f"sign {sign}; driving only {fd:.4f}, with V2G {fv:.4f}"))
    for m in rc.models:
        metrics.append(Metric(f"{m}: closed-loop capacity fade V2G - driving only after {years:g} y",
                              rc.capacity_fraction_lost_v2g_closed_loop[m] - rc.capacity_fraction_lost_drive_closed_loop[m],
                              None, "1", "info",
                              f"days re-planned every 30 days as the pack ages: driving only "
                              f"{rc.capacity_fraction_lost_drive_closed_loop[m]:.4f} (open loop {rc.capacity_fraction_lost_drive[m]:.4f}), "
                              f"with V2G {rc.capacity_fraction_lost_v2g_closed_loop[m]:.4f} (open loop "
                              f"{rc.capacity_fraction_lost_v2g[m]:.4f}); net value {rc.net_value_closed_loop[m]:.0f} (open loop "
                              f"{rc.net_value[m]:.0f})"))
        gd, gv = r.resistance_growth_drive[m], r.resistance_growth_v2g[m]
        rows.append([m, f"{fd:.4f}", f"{fv:.4f}", f"{dlt:+.5f}", sign,
                     "n/a" if np.isnan(gd) else f"{gd:.4f} -> {gv:.4f}", f"{cpk:.4f}", f"{net:.0f}"])
    fig = Figure(figsize=(11, 4.0))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1.0]})
    r.plot(ax)
    d = [r.capacity_fraction_lost_v2g[m] - r.capacity_fraction_lost_drive[m] for m in r.models]
    _sign_bars(ax2, r.models, d, f"capacity lost with V2G - driving only, after {years:g} y [-]",
               "V2G ageing effect per ageing model", ("V2G ages faster", "V2G ages slower"))
    fig.tight_layout()
    variables = {
        "v2g/time_s": Variable(r.time_s, "s", "Time of day [s]", ("time_s",)),
        "v2g/soc_drive": Variable(r.soc_drive, "1", "Pack SOC, driving only [-]", ("time_s",)),
        "v2g/soc_v2g": Variable(r.soc_v2g, "1", "Pack SOC with V2G [-]", ("time_s",)),
        "v2g/delta_capacity_fraction_lost": Variable(np.array(d), "1", "Relative capacity lost with V2G minus without [-]", ("model",)),
    }
    notes = (f"Shipped example: 60 kWh pack, 7.4 kW bidirectional charger, {r.exported_kWh_per_day:.1f} kWh exported "
             f"per day, revenue {r.revenue_per_day:.2f} per day, {r.extra_efc_per_day:.3f} extra equivalent full cycles "
             "per day; cell at 25 C ambient (energy bookkeeping). The sign of the V2G ageing effect is the model's "
             "answer for this day; a positive sign means V2G ages the pack faster.")
    return CaseResult(metrics, [fig], variables,
                      [("V2G ageing effect per chemistry", ["model", "fade drive", "fade V2G", "delta", "sign",
                                                            "resistance growth", "deg. cost per kWh exported",
                                                            "net value"], rows)], notes)


def run_smart(quick: bool) -> CaseResult:
    from ...scenarios.smart_charging import STRATEGIES, simulate_smart_charging

    years = 3.0 if quick else 10.0
    model = "blast_nca_panasonic18650b"
    w = _quiet()
    try:
        r = simulate_smart_charging(aging_models=[model], years=years)
        flat = simulate_smart_charging(tariff_per_kWh=np.full(24, 0.2), aging_models=[model], years=years, cap_soc=0.9,
                                       feedback_interval_days=None)
    finally:
        w.__exit__(None, None, None)
    bal = max(abs(r.grid_energy_kWh_per_day[s] * 0.95 - r.trip_energy_kWh_per_day) / r.trip_energy_kWh_per_day
              for s in STRATEGIES)
    metrics = [
        Metric("grid energy x efficiency = trip energy, every strategy (relative)", bal, 1e-9, "1", "<=",
               "energy balance of a periodic day; round-off only"),
        Metric("flat tariff: |cost delayed - cost immediate| / cost", abs(flat.cost_per_day["delayed"]
                                                                         - flat.cost_per_day["immediate"])
               / flat.cost_per_day["immediate"], 1e-9, "1", "<=", "limiting case: delaying cannot save on a flat tariff"),
        Metric("cap at the target: |fade capped - fade immediate|", abs(flat.capacity_fraction_lost["capped"][model]
                                                                        - flat.capacity_fraction_lost["immediate"][model]),
               0.0, "1", "<=", "limiting case: identical schedules age identically"),
    ]
    rows = [[s, f"{r.cost_per_day[s]:.3f}", f"{r.mean_soc[s]:.3f}", f"{r.capacity_fraction_lost[s][model]:.4f}"] for s in STRATEGIES]
    metrics.append(Metric("closed loop, immediate charging: |fade closed - open loop|",
                          abs(r.capacity_fraction_lost_closed_loop["immediate"][model]
                              - r.capacity_fraction_lost["immediate"][model]), 1e-9, "1", "<=",
                          "the immediate plan does not change with the pack's energy and BLAST-Lite rescales the swing "
                          "by 1/q itself: the closed loop must be the open loop"))
    for s in STRATEGIES:
        metrics.append(Metric(f"{s}: capacity fade after {years:g} y ({model})", r.capacity_fraction_lost[s][model], None, "1",
                              "info", f"cost {r.cost_per_day[s]:.3f} per day, mean SOC {r.mean_soc[s]:.3f}; closed loop "
                                      f"(day re-planned every 30 days as the pack ages) "
                                      f"{r.capacity_fraction_lost_closed_loop[s][model]:.4f}"))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.0))
    ax, ax2 = fig.subplots(1, 2)
    r.plot(ax)
    y = np.arange(len(STRATEGIES))
    ax2.barh(y, [100 * r.capacity_fraction_lost[s][model] for s in STRATEGIES], color=["C0", "C1", "C2"])
    for k, s in enumerate(STRATEGIES):
        ax2.text(0.0, k, f"  cost {r.cost_per_day[s]:.2f} currency/day, mean SOC {r.mean_soc[s]:.2f}", va="center",
                 fontsize=8, color="white")
    ax2.set_yticks(y, [f"{s} charging" for s in STRATEGIES], fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlabel(f"capacity lost after {years:g} y [%]")
    ax2.set_title(f"Capacity fade per strategy ({model})", fontsize=10)
    fig.tight_layout()
    return CaseResult(metrics, [fig], {}, [("Smart charging", ["strategy", "cost per day [currency]", "mean SOC [-]",
                                                               "fade [-]"], rows)])


CASES = [
    Case(
        name="scenario_v2g",
        title="V2G arbitrage and frequency regulation net of degradation: per-chemistry sign of the V2G ageing effect",
        capability="grid-interaction scenarios",
        reference="energy balance (first law); analytical two-price arbitrage optimum X (eta p_hi - p_lo / eta); "
                  "zero-export limit = driving-only run; sign compared with Uddin 2017 (doi:10.1016/j.energy.2017.04.116) "
                  "and Dubarry 2017 (doi:10.1016/j.jpowsour.2017.03.042), who found both signs; regulation credits "
                  "written out from PJM's settlement form (capability + performance credits)",
        validity="shipped commuter day and price shape, 25 C, BLAST-Lite models (extrapolated below their fitted "
                 "DOD >= 0.8), Schmalstieg 2014 (extrapolated below its 35 C) and Naumann 2020, 3 (quick) or 10 years",
        run=run_v2g,
        description="Driving only versus the same day with a linear-programme arbitrage while plugged in; capacity and "
                    "resistance fade per ageing model, degradation cost per kWh exported and net value.",
    ),
    Case(
        name="scenario_smart_charging",
        title="Smart delayed charging: immediate vs cheapest-hours vs SOC-capped, cost and fade",
        capability="grid-interaction scenarios",
        reference="energy balance; flat-tariff and cap-at-target limiting cases",
        validity="shipped commuter day and time-of-use tariff, 25 C, BLAST-Lite NCA, 3 (quick) or 10 years",
        run=run_smart,
    ),
]


def run_wireless(quick: bool) -> CaseResult:
    from ...scenarios.wireless import simulate_wireless

    years = 2.0 if quick else 10.0
    model = "blast_nca_panasonic18650b"
    w = _quiet()
    try:
        r = simulate_wireless(aging_models=[model], years=years, feedback_interval_days=None)
        r0 = simulate_wireless(aging_models=[model], years=years, wireless_power_kW=0.0, feedback_interval_days=None)
        # closed loop (the day re-planned every 30 days for the pack as aged) with a model fed the deeper swings
        rc = simulate_wireless(aging_models=["naumann2020"], years=2.0)  # 2 years: 73 re-planned 10-s days
    finally:
        w.__exit__(None, None, None)
    bal = max(abs(r.wireless_kWh_per_day[c] + r.stationary_kWh_per_day[c] - r.trip_energy_kWh_per_day)
              / r.trip_energy_kWh_per_day for c in ("stationary", "wireless"))
    extra = r.cycles_per_day["wireless"] - r.cycles_per_day["stationary"]
    metrics = [
        Metric("road + plug energy = trip energy (relative, both cases)", bal, 1e-9, "1", "<=",
               "energy balance of a periodic day; round-off only"),
        Metric("zero road power: |fade wireless - fade stationary|", abs(r0.capacity_fraction_lost["wireless"][model]
                                                                       - r0.capacity_fraction_lost["stationary"][model]),
               0.0, "1", "<=", "limiting case: identical days age identically"),
        Metric("|extra rainflow cycles - coil segments| / coil segments", abs(extra - r.segments_per_day) / r.segments_per_day,
               0.1, "1", "<=", "each coil segment closes one SOC micro-cycle (charge on the coil, discharge between); "
               "the first and last segment of a trip can merge with the trip's envelope cycle"),
        Metric(f"capacity fade, wireless - stationary after {years:g} y", r.capacity_fraction_lost["wireless"][model]
               - r.capacity_fraction_lost["stationary"][model], None, "1", "info",
               f"{r.cycles_per_day['wireless']:.0f} vs {r.cycles_per_day['stationary']:.0f} rainflow cycles per day; "
               f"EFC {r.efc_per_day['wireless']:.3f} vs {r.efc_per_day['stationary']:.3f} per day"),
        Metric("naumann2020: closed-loop capacity fade, wireless - stationary after 2 y",
               rc.capacity_fraction_lost_closed_loop["wireless"]["naumann2020"]
               - rc.capacity_fraction_lost_closed_loop["stationary"]["naumann2020"], None, "1", "info",
               f"closed loop {rc.capacity_fraction_lost_closed_loop['stationary']['naumann2020']:.4f} (stationary) and "
               f"{rc.capacity_fraction_lost_closed_loop['wireless']['naumann2020']:.4f} (wireless); open loop "
               f"{rc.capacity_fraction_lost['stationary']['naumann2020']:.4f} and {rc.capacity_fraction_lost['wireless']['naumann2020']:.4f}"),
    ]
    rows = [[c, f"{r.wireless_kWh_per_day[c]:.2f}", f"{r.stationary_kWh_per_day[c]:.2f}", f"{r.cycles_per_day[c]:.1f}",
             f"{r.efc_per_day[c]:.3f}", f"{r.capacity_fraction_lost[c][model]:.4f}"] for c in ("stationary", "wireless")]
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.0))
    ax, ax2 = fig.subplots(1, 2)
    r.plot(ax)
    # zoom on the first hour in which the coils charge: the micro-cycles, one per coil segment
    h = r.time_s / 3600.0
    on = np.flatnonzero(r.power_W["wireless"] < 0.0)
    start = h[on[0]] - 0.05 if on.size else 0.0
    sel = (h >= start) & (h <= start + 1.0)
    ax2.plot(h[sel], r.soc["stationary"][sel], "k-", lw=0.9, label="stationary charging only")
    ax2.plot(h[sel], r.soc["wireless"][sel], "C1-", lw=0.9, label="with dynamic wireless charging")
    ax2.set_xlabel("time of day [h]")
    ax2.set_ylabel("pack SOC [-]")
    ax2.set_title(f"First hour on the coils: {r.cycles_per_day['wireless']:.0f} vs "
                  f"{r.cycles_per_day['stationary']:.0f} rainflow cycles per day", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return CaseResult(metrics, [fig], {}, [("Dynamic wireless vs stationary", ["case", "road kWh/day", "plug kWh/day",
                                                                            "rainflow cycles/day", "EFC/day", "fade"], rows)])


def run_mw_backup(quick: bool) -> CaseResult:
    from ...scenarios.mw_backup import backup_hours, simulate_mw_backup

    w = _quiet()
    try:
        r = simulate_mw_backup(aging_models=["blast_nca_panasonic18650b"], years=2.0 if quick else 10.0)
    finally:
        w.__exit__(None, None, None)
    c = r.charge
    adiabatic = c["heat_J_per_cell"] / c["heat_capacity_J_K"]
    h, _, _ = backup_hours(np.full(24, 1.5), 10, pack_energy_kWh=600.0, start_soc=0.8, min_soc=0.2, inverter_efficiency=0.9)
    metrics = [
        Metric("peak temperature rise / adiabatic rise (heat / heat capacity)", (c["peak_temperature_K"] - 298.15) / adiabatic,
               1.0 + 1e-6, "1", "<=", "first law: a cooled cell cannot heat more than an adiabatic one; 1e-6 for the solver"),
        Metric("constant load: |hours - DOD E eta / (N P)| / hours", float(abs(h - 21.6) / 21.6), 1e-12, "1", "<=",
               "analytical backup duration 0.6 x 600 kWh x 0.9 / (10 x 1.5 kW) = 21.6 h"),
        Metric("energy delivered / (DOD E eta) - 1", abs(r.energy_delivered_kWh / (r.depth_of_discharge * 600.0 * 0.95) - 1.0),
               1e-9, "1", "<=", "energy balance of the backup event"),
        Metric("MW charge: peak cell temperature", c["peak_temperature_K"], None, "K", "info",
               f"{c['c_rate']:.2f} C from SOC 0.2; reached SOC {c['final_soc']:.3f}"
               + ("" if c["reached_target"] else " at the upper voltage cut-off")),
        Metric("MW charge: min anode potential at the separator", c["min_anode_potential_V"], None, "V", "info",
               "below 0 V lithium plating is possible" if c["plating_risk"] else "stays above 0 V: no plating"),
        Metric(f"backup hours for {r.n_homes} homes", r.backup_hours, None, "h", "info",
               f"DOD {r.depth_of_discharge:.2f}; ageing cost per event "
               + ", ".join(f"{m} {v:.1f}" for m, v in r.cost_per_event.items())),
    ]
    for m in r.models:
        q = r.capacity_fraction_closed_loop[m]
        metrics += [
            Metric(f"closed loop, {m}: aged pack's backup hours at the last update / fresh pack's",
                   r.backup_hours_closed_loop[m] / r.backup_hours, None, "1", "info",
                   f"{r.backup_hours_closed_loop[m]:.1f} h of {r.backup_hours:.1f} h; q at the end {q:.4f}"),
            Metric(f"closed loop, {m}: capacity fraction lost per event", r.capacity_fraction_lost_per_event_closed_loop[m],
                   None, "1", "info", f"open loop {r.capacity_fraction_lost_per_event[m]:.3g} (the fresh event repeated); "
                                      "closed loop: the event planned every 30 days for the pack as aged")]
        # a constant load empties the pack in a time proportional to its energy: the aged pack's
        # hours must sit between the fresh pack's and the fresh hours x the capacity at the end
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rc = simulate_mw_backup(np.full(24, 1.5), 10, aging_models=[m], years=2.0 if quick else 10.0)
        ratio = rc.backup_hours_closed_loop[m] / rc.backup_hours
        metrics.append(Metric(f"closed loop, {m}, constant load: hours ratio within [q_end, 1)",
                              float(rc.capacity_fraction_closed_loop[m] <= ratio < 1.0), 1.0, "1", ">=",
                              f"ratio {ratio:.4f}, q at the end {rc.capacity_fraction_closed_loop[m]:.4f}: the event "
                              "is planned for the pack as aged at each update"))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.0))
    ax, ax2 = fig.subplots(1, 2)
    r.plot(ax)
    ax.axhline(298.15 + adiabatic, color="C3", ls=":", lw=0.9)
    ax.text(0.0, 298.15 + adiabatic, " adiabatic bound (heat / heat capacity)", color="C3", va="bottom", fontsize=8)
    minutes = np.asarray(c["time_s"]) / 60.0
    if np.isfinite(c["anode_potential_V"]).any():
        ax2.plot(minutes, 1e3 * np.asarray(c["anode_potential_V"]), "C0-", label="anode potential at the separator")
    ax2.axhline(0.0, color="C3", ls="--", lw=0.9, label="0 V vs Li: lithium plating possible below")
    ax2.set_xlabel("time since the charge started [min]")
    ax2.set_ylabel("anode potential vs Li/Li+ [mV]")
    ax2.set_title(f"Plating indicator; backup for {r.n_homes} homes: {r.backup_hours:.1f} h", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return CaseResult(metrics, [fig], {}, [])


CASES += [
    Case(
        name="scenario_wireless",
        title="Dynamic wireless charging: micro-cycles and ageing vs stationary charging",
        capability="grid-interaction scenarios",
        reference="energy balance; zero-power limit; one rainflow micro-cycle per coil segment",
        validity="shipped commuter day, 50 kW coils for 20 s every 120 s of driving, 10-s grid, 25 C, BLAST-Lite NCA",
        run=run_wireless,
    ),
    Case(
        name="scenario_mw_backup",
        title="Megawatt charging (heat, plating indicator) and backup for N homes",
        capability="grid-interaction scenarios",
        reference="first law (adiabatic temperature-rise bound); analytical backup duration for a constant load; "
                  "plating potential 0 V vs Li (O'Kane et al. 2022, doi:10.1039/D2CP00417H)",
        validity="600 kWh truck pack of LG M50 cells (PyBaMM SPMe, lumped thermal, 25 C), 1 MW charger, "
                 "shipped household load, BLAST-Lite NCA ageing",
        run=run_mw_backup,
    ),
]


def run_fleet(quick: bool) -> CaseResult:
    from matplotlib.figure import Figure

    from ...errors import InputError
    from ...scenarios.fleet_sharing import MODES, simulate_fleet_sharing

    model = "blast_nca_panasonic18650b"
    w = _quiet()
    try:
        r = simulate_fleet_sharing(aging_model=model, years=1.0 if quick else 5.0)
        same = simulate_fleet_sharing({"route_energy_kWh": np.full(4, 150.0), "temperature_offset_K": np.zeros(4)},
                                      aging_model=model, years=0.5, coefficient_spread=0.0)
        # transfer enabled on the shipped depot: the 800 kW connection suffices, so nothing moves
        r_on = simulate_fleet_sharing(aging_model=model, years=1.0 if quick else 5.0, transfer_power_kW=150.0)
        # 3 route trucks of 150 kWh and 2 spares behind 35 kW: 420 kWh overnight against 450 kWh of routes
        tight = {"route_energy_kWh": np.array([0.0, 150.0, 150.0, 150.0, 0.0]),
                 "temperature_offset_K": np.array([6.0, 0.0, 0.0, 0.0, -6.0])}
        try:
            simulate_fleet_sharing(tight, aging_model=model, years=0.2, grid_limit_kW=35.0)
            unserved = 0.0
        except InputError:
            unserved = 1.0
        rt = simulate_fleet_sharing(tight, aging_model=model, years=1.0 if quick else 3.0, grid_limit_kW=35.0,
                                    transfer_power_kW=150.0)
    finally:
        w.__exit__(None, None, None)
    bal_tr = max(float(np.max(np.abs(rt.grid_kWh_per_day[md] * 0.95 / (450.0 + rt.transfer_loss_kWh_per_day[md]) - 1.0)))
                 for md in MODES)
    cons = 0.0
    for md in MODES:
        tw = rt.last_day[md]["transfer_W"]
        given, received = tw.clip(min=0.0).sum(), -tw.clip(max=0.0).sum()
        cons = max(cons, abs(received / given - 0.95))
    same_on = max(float(np.max(np.abs(r_on.capacity_fraction[md] - r.capacity_fraction[md]))) for md in MODES)
    bal = max(float(np.max(np.abs(r.grid_kWh_per_day[md] * 0.95 / r.route_energy_kWh.sum() - 1.0))) for md in MODES)
    metrics = [
        Metric("grid energy x efficiency = route energy, every block and dispatch (relative)", bal, 1e-9, "1", "<=",
               "energy balance of the periodic depot day; round-off only"),
        Metric("identical trucks: max SOH spread", float(max(same.spread(md).max() for md in MODES)), 0.0, "1", "<=",
               "limiting case: identical duties and cells must age identically"),
        Metric("transfer enabled but not needed: max |SOH difference| from no transfer", same_on, 0.0, "1", "<=",
               "limiting case: transfer is used only when the grid cannot recharge the fleet; bit-identical otherwise"),
        Metric("tight depot (35 kW, 450 kWh routes) without transfer: routes unserved (1 = yes)", unserved, 1.0, "1",
               ">=", "420 kWh overnight cannot replace 450 kWh of routes: the run must refuse"),
        Metric("tight depot with transfer: grid x efficiency = route energy + transfer losses (relative)", bal_tr, 1e-9,
               "1", "<=", "energy balance of the periodic day with pack-to-pack transfer; round-off only"),
        Metric("tight depot: |energy received / given - transfer efficiency|", cons, 1e-12, "1", "<=",
               "transfer conserves energy minus its losses"),
        Metric("closed vs open loop after the first block: max |capacity difference|",
               max(float(np.max(np.abs(r.capacity_fraction[md][1] - r.open_loop_capacity_fraction[md][1]))) for md in MODES),
               0.0, "1", "<=", "both age the fresh fleet's first plan over the first block; they part only when "
                               "the dispatch is planned again for the aged packs"),
    ]
    for md in MODES:
        metrics.append(Metric(f"{md}: mean capacity after {r.block_start_years[-1]:.2f} y, closed - open loop",
                              float(r.capacity_fraction[md][-1].mean() - r.open_loop_capacity_fraction[md][-1].mean()),
                              None, "1", "info", f"closed loop {r.capacity_fraction[md][-1].mean():.4f} (each block planned "
                              f"for the packs as aged), open loop {r.open_loop_capacity_fraction[md][-1].mean():.4f}"))
    for md in MODES:
        metrics.append(Metric(f"tight depot, {md}: pack-to-pack transfer per day", float(rt.transfer_kWh_per_day[md].mean()),
                              None, "kWh", "info", f"loss {rt.transfer_loss_kWh_per_day[md].mean():.2f} kWh/day; "
                              f"main donor truck {int(np.argmax(rt.transfer_throughput_kWh_per_day[md][-1]))}, "
                              f"fleet SOH {rt.capacity_fraction[md][-1].round(4)} after {rt.block_start_years[-1]:.2f} y"))
    for md in MODES:
        metrics.append(Metric(f"{md}: SOH spread at {r.block_start_years[-1]:.2f} y", float(r.spread(md)[-1]), None, "1",
                              "info", f"mean SOH {r.capacity_fraction[md][-1].mean():.4f}; energy cost "
                                      f"{r.energy_cost_per_year[md].mean():.0f} per year"))
    fig = Figure(figsize=(5, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    for k, md in enumerate(MODES):
        ax.plot(r.block_start_years, r.capacity_fraction[md].min(axis=1), f"C{k}--")
        ax.plot(r.block_start_years, r.capacity_fraction[md].max(axis=1), f"C{k}-", label=f"{md} (min dashed, max solid)")
    ax.set_xlabel("time [years]"); ax.set_ylabel("SOH [-]"); ax.legend(fontsize=8)
    ax.set_title(f"Depot fleet: truck SOH range per dispatch, {r.block_start_years[-1]:.1f} y", fontsize=9)
    fig.tight_layout()
    return CaseResult(metrics, [fig], {}, [])


CASES += [
    Case(
        name="scenario_fleet_sharing",
        title="Depot fleet charging: SOH/temperature-aware vs naive dispatch under a shared grid limit",
        capability="grid-interaction scenarios",
        reference="energy balance (with and without pack-to-pack transfer); identical-fleet and transfer-not-needed "
                  "limiting cases",
        validity="shipped 20-truck depot, 500 kWh packs, 800 kW connection, time-of-use tariff, 25 C ambient plus "
                 "per-truck offsets, BLAST-Lite NCA, 1 (quick) or 5 years; pack-to-pack transfer (150 kW, 95 %) from spare "
                 "trucks on a tight 5-truck, 35 kW depot",
        run=run_fleet,
    ),
]
