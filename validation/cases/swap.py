"""Swap-station simulator against Erlang-B, an energy balance, and the charging-policy comparison."""

from __future__ import annotations

import warnings

import numpy as np

from .. import Case, CaseResult, Metric

ERLANG_CONFIGS = ((13, 13.0, 0.1919), (21, 17.0, 0.0650))


def _loss_station(packs, rate_per_h, soc):
    # a charger per pack, no waiting room, no swap time, no grid limit: an M/G/S/S loss system
    # whose service time is the recharge E (0.95 - SOC) / (P eta) = 1 h at SOC 0.2
    return dict(packs=packs, chargers=packs, pack_energy_Wh=80000.0, charger_power_W=62500.0,
                charger_efficiency=0.96, grid_limit_W=1e9, arrival_rate_per_h=[rate_per_h] * 24,
                arrival_soc=soc, soc_full=0.95, soc_min=0.0, wait_limit_s=0.0, swap_time_s=0.0,
                name=f"loss_{packs}")


def _lost_and_error(result, n_batches=20):
    lost = (result.wait_s == -1).astype(float)
    means = np.array([b.mean() for b in np.array_split(lost, n_batches)])
    return float(lost.mean()), float(means.std(ddof=1) / np.sqrt(n_batches))


def run_erlang(quick: bool) -> CaseResult:
    from matplotlib.figure import Figure

    from ...io import Variable
    from ...swap import erlang_b, simulate_station

    days = 60 if quick else 400
    metrics, rows, variables = [], [], {}
    fig = Figure(figsize=(6.5, 4))
    ax = fig.add_subplot(1, 1, 1)
    for i, (S, lam, published) in enumerate(ERLANG_CONFIGS):
        b = erlang_b(S, lam)
        metrics.append(Metric(f"S={S}, A={lam:g} erlang: |Erlang-B recursion - published|", abs(b - published),
                              5e-5, "1", "<=", "published value given to 4 decimals"))
        for dist, soc in (("fixed 1 h", {"distribution": "fixed", "value": 0.2}),
                          ("uniform 0.8-1.2 h", {"distribution": "uniform", "low": 0.15, "high": 0.25})):
            r = simulate_station(_loss_station(S, lam, soc), days=days, aging=False, seed=100 + i)
            p, se = _lost_and_error(r)
            z = abs(p - b) / se
            metrics.append(Metric(
                f"S={S}, {lam:g}/h, service {dist}: |lost share - Erlang-B| / MC standard error", z, 4.0, "1",
                "<=", f"{r.wait_s.size} arrivals; standard error {se:.4f} from 20 batch means; 4 standard "
                      f"errors leave a 1-in-15,000 chance of a false alarm"))
            rows.append((S, f"{lam:g}", dist, r.wait_s.size, f"{p:.4f}", f"{b:.4f}", f"{se:.4f}", f"{z:.2f}"))
            variables[f"S{S}_{dist.split()[0]}/lost_share"] = Variable(np.array([p]), "1", "Simulated lost share [-]",
                                                                       ("scalar",))
            ax.errorbar([lam], [p], yerr=[2 * se], fmt="o" if dist.startswith("fixed") else "s",
                        color=f"C{i}", ms=5, capsize=3,
                        label=f"simulated, S={S}, service {dist}")
        loads = np.linspace(0.5 * lam, 1.5 * lam, 41)
        ax.plot(loads, [erlang_b(S, a) for a in loads], color=f"C{i}", lw=1, label=f"Erlang-B, S={S}")
    ax.set_xlabel("offered load A = arrivals per hour x 1 h charge [erlang]")
    ax.set_ylabel("share of customers lost [-]")
    ax.set_title("Loss station (a charger per pack, no waiting) vs Erlang-B", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    table = ("Erlang-B check", ["packs", "arrivals/h", "service time", "arrivals", "lost share", "Erlang-B",
                                "standard error", "|diff| / s.e."], rows)
    return CaseResult(metrics=metrics, figures=[fig], variables=variables, tables=[table],
                      notes="Event times inside a time step are exact, so the pack's unavailability is exactly its "
                            "recharge time; the uniform case checks the insensitivity of Erlang-B to the service-time "
                            "distribution.")


def run_energy(quick: bool) -> CaseResult:
    from ...swap import Station, load_station, simulate_station

    days = 5 if quick else 30
    metrics, rows, bars = [], [], []
    base = load_station("nio_gen2_like").to_dict()
    for charging, v2g, chargers in (("immediate", False, 13), ("tou", True, 6), ("valley", False, 13),
                                    ("valley", True, 4)):
        st = Station.from_dict({**base, "chargers": chargers, "v2g": {"enabled": v2g, "soc_floor": 0.4}})
        r = simulate_station(st, days=days, aging=False, charging=charging, seed=3)
        dt_h = st.time_step_s / 3600.0
        imp = r.step_import_W.sum() * dt_h
        exp = r.step_export_W.sum() * dt_h
        E = r.final["energy_Wh"]
        stored = ((r.final["soc"] - st.soc_full) * E).sum()
        ok = r.wait_s >= 0
        driven = ((r.final["soc_out"][ok] - r.final["soc_back"][ok]) * E[r.final["pack"][ok]]).sum()
        lhs = imp * st.charger_efficiency
        rhs = stored + driven + exp / st.v2g["efficiency"]
        rel = float(abs(lhs - rhs) / max(lhs, 1.0))
        name = f"{charging}{' + V2G' if v2g else ''}, {chargers} chargers"
        metrics.append(Metric(f"{name}: |grid x eta - (stored + driven + exported)| / (grid x eta)", rel, 1e-9, "1",
                              "<=", "every Wh is booked once; round-off only"))
        rows.append((name, f"{imp / 1e3:.1f}", f"{exp / 1e3:.1f}", f"{stored / 1e3:.2f}", f"{driven / 1e3:.1f}",
                     f"{(imp * (1 - st.charger_efficiency)) / 1e3:.1f}", f"{rel:.1e}"))
        bars.append({"name": name.replace(", ", "\n"), "grid": lhs / 1e3, "stored": stored / 1e3, "driven": driven / 1e3,
                     "exported": exp / st.v2g["efficiency"] / 1e3, "residual": rel})
    table = ("Energy balance [kWh]", ["run", "grid import", "grid export", "stored change", "driven away",
                                      "charger losses", "relative residual"], rows)
    return CaseResult(metrics=metrics, tables=[table], figures=[_energy_figure(bars, 1e-9)],
                      notes="13-pack station, independent bookkeeping: per-step grid power, pack SOC at start and end, "
                            "SOC out/back of every customer.")


def _soh_lines(ax, t, soh, colour) -> int:
    """Per-pack SOH lines that break where a pack is replaced (SOH jumps up to a new pack's), with a
    marker at each replacement, instead of a ramp drawn across the sampling interval; returns the
    number of replacements."""
    soh = np.atleast_2d(soh.T).T  # (time, pack)
    n = 0
    for k in range(soh.shape[1]):
        y = soh[:, k]
        jumps = np.flatnonzero(np.diff(y) > 0.0) + 1
        n += jumps.size
        ax.plot(np.insert(t, jumps, np.nan), np.insert(y, jumps, np.nan), color=colour, lw=0.6)
        ax.plot(t[jumps], y[jumps], "^", color=colour, ms=4, ls="none")
    return n


def _energy_figure(rows, tolerance):
    """Both sides of the energy balance per run [kWh], and their relative residual against the tolerance."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1.0]})
    names = [r["name"] for r in rows]
    x = np.arange(len(rows))
    w = 0.38
    ax.bar(x - w / 2, [r["grid"] for r in rows], w, color="0.45", label="grid import x charger efficiency")
    ax.bar(x + w / 2, [r["stored"] + r["driven"] + r["exported"] for r in rows], w, color="C0",
           label="stored change + driven away + exported / V2G efficiency")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("energy over the run [kWh]")
    ax.set_title("Swap station energy balance: grid side and pack side, per run", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    floor = 1e-17  # a residual of exactly 0 drawn at the bottom of the log axis
    ax2.bar(x, [max(r["residual"], floor) for r in rows], 0.6, color="C2", label="relative residual")
    ax2.axhline(tolerance, color="C3", ls="--", lw=0.9, label=f"tolerance {tolerance:g} (round-off)")
    ax2.set_yscale("log")
    ax2.set_ylim(floor, 1e-6)
    ax2.set_xticks(x, names, fontsize=8)
    ax2.set_ylabel("|grid side - pack side| / grid side [-]")
    ax2.set_title("Residual of the balance", fontsize=10)
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    fig.tight_layout()
    return fig


def run_policies(quick: bool) -> CaseResult:
    from matplotlib.figure import Figure

    from ...io import Variable
    from ...swap import policy_difference, simulate_station

    days = 30 if quick else 120
    runs = {pol: simulate_station("nio_gen3_like", days=days, aging=False, charging=pol, seed=9)
            for pol in ("immediate", "tou", "valley")}
    imm, val = runs["immediate"], runs["valley"]
    above = int(np.sum(val.day_peak_import_W > imm.day_peak_import_W + 1e-9))
    below = int(np.sum(val.day_peak_import_W < val.day_import_Wh / 24.0 - 1e-9))
    d = policy_difference(imm, val)
    dt = policy_difference(imm, runs["tou"])
    metrics = [
        Metric("days on which valley filling peaks above immediate charging", above, 0, "d", "<=",
               "valley filling caps the charging power; the readiness override never needs more chargers than "
               "immediate charging uses"),
        Metric("days on which valley filling's peak is below daily energy / 24 h", below, 0, "d", "<=",
               "a peak below the mean power is impossible"),
        Metric("valley filling vs immediate: mean daily peak reduction", d["peak_reduction_pct"], None, "%", "info",
               f"lost customers {100 * d['lost_fraction_a']:.2f} % -> {100 * d['lost_fraction_b']:.2f} %"),
        Metric("time-of-use vs immediate: energy cost reduction", dt["cost_reduction_pct"], None, "%", "info",
               f"mean daily peak changes by {-dt['peak_reduction_pct']:.0f} %; lost customers "
               f"{100 * dt['lost_fraction_b']:.2f} %"),
    ]
    st = imm.station
    spd = int(86400 / st.time_step_s)
    fig = Figure(figsize=(11, 4))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    hours = np.arange(spd) * st.time_step_s / 3600.0
    for i, (pol, r) in enumerate(runs.items()):
        prof = r.step_import_W.reshape(-1, spd).mean(axis=0) / 1e3
        ax1.plot(hours, prof, color=f"C{i}", lw=1, label=pol)
        ax2.plot(np.arange(r.days), r.day_peak_import_W / 1e3, color=f"C{i}", lw=0.8, label=pol)
    ax1.set_xlabel("hour of day [h]")
    ax1.set_ylabel("mean charger import [kW]")
    ax1.set_title(f"nio_gen3_like, {days} days: average day", fontsize=9)
    ax2.set_xlabel("day [d]")
    ax2.set_ylabel("daily peak import [kW]")
    ax2.set_title(f"valley filling: {d['peak_reduction_pct']:.0f} % lower mean daily peak", fontsize=9)
    for ax in (ax1, ax2):  # below the axes: a legend inside covered the lines
        ax.legend(title="charging policy", fontsize=7, title_fontsize=7, ncol=3, loc="upper center",
                  bbox_to_anchor=(0.5, -0.18))
    # per-pack SOH: highest-SOC hand-out vs wear levelling, with ageing
    years = 1 if quick else 4
    notes = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = simulate_station("nio_gen2_like", years=years, handout="highest_soc", seed=4)
        b = simulate_station("nio_gen2_like", years=years, handout="wear_levelling", seed=4)
    msgs = sorted({str(c.message) for c in caught})
    if msgs:
        notes = "Ageing model extrapolation reported: " + " | ".join(msgs[:2])
    t_a = np.asarray(a.soh_time_s) / (365 * 86400.0)
    n_new = 0
    for r, colour, label in ((a, "C3", "highest-SOC hand-out"), (b, "C0", "wear-levelling hand-out")):
        n_new += _soh_lines(ax3, t_a, np.asarray(r.capacity_fraction), colour)
        ax3.plot([], [], color=colour, label=label)
    if n_new:
        ax3.plot([], [], "k^", ms=4, ls="none", label="pack replaced (new pack at SOH 1)")
    ax3.set_xlabel("time [a]")
    ax3.set_ylabel("per-pack SOH [-]")
    ax3.set_title(f"nio_gen2_like, {a.aging_model} (retired below {a.station.retire_soh})", fontsize=9)
    ax3.legend(fontsize=7, ncol=1, loc="upper center", bbox_to_anchor=(0.5, -0.18))  # below: the markers sit at the top
    fig.tight_layout()
    spread_a, spread_b = float(a.capacity_fraction_spread()[-1]), float(b.capacity_fraction_spread()[-1])
    metrics.append(Metric("wear levelling / highest-SOC hand-out: final SOH spread ratio", spread_b / spread_a, 0.5,
                          "1", "<=", "same arrivals; levelling spreads the swaps evenly over the packs, so the "
                                     "spread must fall well below the highest-SOC policy's"))
    for r, name in ((a, "highest-SOC"), (b, "wear levelling")):
        metrics.append(Metric(f"{name} hand-out: closed vs open loop over the first ageing period, max |capacity "
                              "difference|", float(np.max(np.abs(r.capacity_fraction[1] - r.open_loop_capacity_fraction[1]))),
                              0.0, "1", "<=", "the same arrivals and fresh packs: the two part only once the aged "
                                              "packs' energy feeds back into the dispatch"))
        metrics.append(Metric(f"{name} hand-out: mean pack capacity after {years} y, closed - open loop",
                              float(r.capacity_fraction[-1].mean() - r.open_loop_capacity_fraction[-1].mean()), None,
                              "1", "info", f"closed loop {r.capacity_fraction[-1].mean():.4f} (an aged pack carries less "
                              f"energy into the next period), open loop {r.open_loop_capacity_fraction[-1].mean():.4f} "
                              f"(the nominal energy throughout); replaced packs restart at 1 in both"))
    variables = {
        "day": Variable(np.arange(days, dtype=float), "d", "Day [d]", ("day",)),
        **{f"peak_{p}_W": Variable(r.day_peak_import_W, "W", f"Daily peak charger import, {p} [W]", ("day",))
           for p, r in runs.items()},
        "soh_time_s": Variable(np.asarray(a.soh_time_s), "s", "Time [s]", ("soh_time_s",)),
        "soh_highest_soc": Variable(a.capacity_fraction, "1", "Per-pack SOH, highest-SOC hand-out [-]", ("soh_time_s", "pack")),
        "soh_wear_levelling": Variable(b.capacity_fraction, "1", "Per-pack SOH, wear levelling [-]", ("soh_time_s", "pack")),
    }
    rows = [(p, f"{r.day_import_Wh.mean() / 1e3:.0f}", f"{r.day_peak_import_W.mean() / 1e3:.0f}",
             f"{r.day_peak_import_W.max() / 1e3:.0f}", f"{r.day_cost.mean():.0f} {st.currency}",
             f"{100 * r.lost_fraction:.2f}") for p, r in runs.items()]
    table = ("Charging policies, nio_gen3_like", ["policy", "kWh/day", "mean daily peak [kW]", "max peak [kW]",
                                                  "cost/day", "lost [%]"], rows)
    return CaseResult(metrics=metrics, figures=[fig], variables=variables, tables=[table], notes=notes)


CASES = [
    Case(
        name="swap_erlang_b",
        title="Swap station as a loss system: lost customers vs Erlang-B (13 packs at 13/h, 21 packs at 17/h)",
        capability="swap-pack rotation",
        reference="Erlang-B blocking, A. K. Erlang (1917); insensitivity: Sevastyanov 1957, doi:10.1137/1102005; "
                  "B(13, 13) = 0.1919, B(21, 17) = 0.0650",
        validity="a charger per pack, no waiting, Poisson arrivals, 1 h mean recharge (fixed or uniform 0.8-1.2 h)",
        run=run_erlang,
        description="Share of customers who find no ready pack against the Erlang-B blocking probability, with the "
                    "Monte Carlo standard error from batch means.",
    ),
    Case(
        name="swap_energy_balance",
        title="Swap station: energy balance of grid, packs, trips and export",
        capability="swap-pack rotation",
        reference="first law: grid import x efficiency = stored change + energy driven away + export (pack side)",
        validity="nio_gen2_like with immediate, time-of-use (+V2G) and valley-filling (+V2G) charging",
        run=run_energy,
    ),
    Case(
        name="swap_policies",
        title="Swap station: valley filling vs immediate and time-of-use charging; wear levelling vs highest SOC",
        capability="swap-pack rotation",
        reference="bounds: mean power <= valley-filling peak <= immediate-charging peak, day by day",
        validity="nio_gen3_like (charging policies, no ageing); nio_gen2_like over 1 (quick) or 4 years with the "
                 "Schmalstieg 2014 NMC ageing model (SOH spread)",
        run=run_policies,
        description="Average-day charger load and daily peaks for the three charging policies, the peak reduction "
                    "of valley filling in percent, and per-pack SOH trajectories under two hand-out policies.",
    ),
]
