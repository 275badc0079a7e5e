"""``batterylab scenario ...``: grid-interaction scenarios on their shipped example inputs by default."""

from __future__ import annotations

import warnings

import click

from ..cli_options import figure_option, out_option


@click.group("scenario")
def scenario():
    """Grid-interaction scenarios: V2G (arbitrage, regulation), smart charging, fleet sharing, MW backup, wireless."""


def _quiet(fn, *args, **kwargs):
    """Run a scenario; ageing-model range warnings are summarised in one line instead of repeated."""
    from ..aging import OutOfRangeWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OutOfRangeWarning)
        out = fn(*args, **kwargs)
    msgs = sorted({str(w.message).split(":")[0] for w in caught if issubclass(w.category, OutOfRangeWarning)})
    for m in msgs:
        click.echo(f"warning: {m} (outside its fitted range)", err=True)
    for w in caught:
        if not issubclass(w.category, OutOfRangeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _files(**paths):
    """Check the CSV options before any scenario runs: each must be a non-empty text file."""
    from ..checks import text_file

    for name, path in paths.items():
        if path is not None:
            text_file("--" + name.replace("_", "-"), path, what="CSV")


def _write(result, out, figure):
    click.echo(f"wrote {result.save(out)}")
    if figure:
        from ..cli_options import save_figure

        save_figure(result.plot().figure, figure)


_models_opt = click.option("--aging-model", "aging_models", multiple=True,
                           help="Ageing model (repeatable; see `batterylab age --help` for the names).")
_cell_opt = click.option("--cell", default=None,
                         help="Shipped cell for the PyBaMM electro-thermal pass (default: energy bookkeeping, cell at ambient).")


@scenario.command("v2g")
@click.option("--itinerary", type=click.Path(dir_okay=False), default=None,
              help="CSV departure_h,arrival_h,trip_energy_kWh (default: shipped example).")
@click.option("--prices", type=click.Path(dir_okay=False), default=None,
              help="CSV hour,price_per_kWh (default: shipped example).")
@_models_opt
@click.option("--years", default=10.0, show_default=True, help="Horizon [years].")
@click.option("--pack-energy-kWh", "pack_energy_kWh", default=60.0, show_default=True, help="Pack energy [kWh].")
@click.option("--charger-power-kW", "charger_power_kW", default=7.4, show_default=True, help="Bidirectional charger [kW].")
@click.option("--max-export-kWh", "max_export", default=None, type=float, help="Daily export cap [kWh] (default: SOC window only).")
@click.option("--pack-price-per-kWh", "pack_price", default=150.0, show_default=True, help="Pack price [currency/kWh].")
@click.option("--site-load", type=click.Path(dir_okay=False), default=None,
              help="Peak shaving: CSV hour,load_kW of the site (with --peak-limit-kW).")
@click.option("--peak-limit-kW", "peak_limit_kW", type=float, default=None, help="Peak shaving: site import limit [kW].")
@_cell_opt
@out_option("HDF5 output.")
@figure_option()
def v2g(itinerary, prices, aging_models, years, pack_energy_kWh, charger_power_kW, max_export, pack_price, site_load,
        peak_limit_kW, cell, out, figure):
    """V2G arbitrage versus driving only: revenue, fade per ageing model, degradation cost, net value."""
    from .v2g import DEFAULT_MODELS, simulate_v2g

    _files(itinerary=itinerary, prices=prices, site_load=site_load)
    r = _quiet(simulate_v2g, itinerary, prices, aging_models=aging_models or DEFAULT_MODELS, years=years,
               pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW,
               max_export_kWh_per_day=max_export, pack_price_per_kWh=pack_price, cell=cell, site_load_kW=site_load,
               peak_limit_kW=peak_limit_kW)
    click.echo(f"exported: {r.exported_kWh_per_day:.2f} kWh/day, revenue: {r.revenue_per_day:.3f} /day, "
               f"extra EFC: {r.extra_efc_per_day:.3f} /day")
    if site_load is not None:
        click.echo(f"site peak: {r.peak_site_kW_drive:.2f} kW driving only, {r.peak_site_kW_v2g:.2f} kW with V2G")
    click.echo("model  fade_drive  fade_v2g  delta  sign  deg_cost_per_kWh  net_value")
    for row in r.table():
        click.echo(f"{row[0]}  {row[1]:.4f}  {row[2]:.4f}  {row[3]:+.4f}  {row[4]}  {row[5]:.4f}  {row[6]:.1f}")
    _write(r, out, figure)


@scenario.command("v2g-regulation")
@click.option("--itinerary", type=click.Path(dir_okay=False), default=None,
              help="CSV departure_h,arrival_h,trip_energy_kWh (default: shipped example).")
@click.option("--prices", type=click.Path(dir_okay=False), default=None,
              help="Energy prices, CSV hour,price_per_kWh (default: shipped example).")
@click.option("--capability-price", "capability_price", type=float, required=True,
              help="Regulation capability clearing price RMCCP [$/MWh] (market data: required).")
@click.option("--performance-price", "performance_price", type=float, required=True,
              help="Regulation performance clearing price RMPCP [$/MW of mileage] (required).")
@click.option("--mileage-ratio", type=float, required=True, help="RegD / RegA mileage ratio [-] (required).")
@click.option("--regulation-kW", "regulation_kW", type=float, default=None,
              help="Regulation capacity offered per eligible hour [kW] (default: the charger limit).")
@click.option("--signal", default="regd", show_default=True,
              help="'regd' (synthetic RegD-like, seeded) or a CSV time_s,signal of 24 h at 2 s.")
@click.option("--seed", default=0, show_default=True, help="Seed of the synthetic signal.")
@_models_opt
@click.option("--years", default=10.0, show_default=True, help="Horizon [years].")
@click.option("--pack-energy-kWh", "pack_energy_kWh", default=60.0, show_default=True, help="Pack energy [kWh].")
@click.option("--charger-power-kW", "charger_power_kW", default=7.4, show_default=True, help="Bidirectional charger [kW].")
@click.option("--pack-price-per-kWh", "pack_price", default=150.0, show_default=True, help="Pack price [currency/kWh].")
@_cell_opt
@click.option("--feedback-interval-days", default=30.0, show_default=True,
              help="Closed loop: both days planned again for the aged pack this often [days].")
@click.option("--open-loop-only", is_flag=True, help="Skip the closed loop (the fresh pack's days repeated only).")
@out_option("HDF5 output.")
@figure_option()
def v2g_regulation(itinerary, prices, capability_price, performance_price, mileage_ratio, regulation_kW, signal, seed,
                   aging_models, years, pack_energy_kWh, charger_power_kW, pack_price, cell, feedback_interval_days,
                   open_loop_only, out, figure):
    """V2G frequency regulation versus driving only and arbitrage: score, credits, fade, net value per month."""
    from .regulation import simulate_v2g_regulation
    from .v2g import DEFAULT_MODELS

    _files(itinerary=itinerary, prices=prices)
    r = _quiet(simulate_v2g_regulation, itinerary, prices, capability_price_per_MWh=capability_price,
               performance_price_per_MW=performance_price, mileage_ratio=mileage_ratio, regulation_kW=regulation_kW,
               signal=signal, seed=seed, aging_models=aging_models or DEFAULT_MODELS, years=years,
               pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW, pack_price_per_kWh=pack_price,
               cell=cell, feedback_interval_days=None if open_loop_only else feedback_interval_days)
    s = r.summary()
    click.echo(f"offered: {s['offered_hours']} h/day, score {r.score:.3f}, credits {r.credits_per_day:.3f} /day, "
               f"extra energy {r.energy_cost_per_day:.3f} /day, arbitrage revenue {r.arbitrage_revenue_per_day:.3f} /day")
    click.echo("model  fade_drive  fade_regulation  fade_arbitrage  net_value_regulation  net_value_arbitrage  per_month")
    for row, m in zip(r.table(), r.models):
        click.echo(f"{row[0]}  {row[1]:.4f}  {row[2]:.4f}  {row[3]:.4f}  {row[4]:.1f}  {row[5]:.1f}  "
                   f"{r.net_value_per_month[m]:.2f}")
    for m in r.net_value_closed_loop:
        note = f" ({r.closed_loop_note[m]})" if r.closed_loop_note[m] else ""
        click.echo(f"closed loop {m}: fade drive {r.capacity_fraction_lost_drive_closed_loop[m]:.4f}, regulation "
                   f"{r.capacity_fraction_lost_regulation_closed_loop[m]:.4f}, net value "
                   f"{r.net_value_closed_loop[m]:.1f}{note}")
    _write(r, out, figure)


@scenario.command("smart-charging")
@click.option("--itinerary", type=click.Path(dir_okay=False), default=None, help="CSV (default: shipped example).")
@click.option("--tariff", type=click.Path(dir_okay=False), default=None, help="CSV hour,price_per_kWh (default: shipped example).")
@_models_opt
@click.option("--years", default=10.0, show_default=True, help="Horizon [years].")
@click.option("--cap-soc", default=0.6, show_default=True, help="SOC cap of the capped strategy [-].")
@_cell_opt
@out_option("HDF5 output.")
@figure_option()
def smart_charging(itinerary, tariff, aging_models, years, cap_soc, cell, out, figure):
    """Immediate vs delayed vs SOC-capped charging: cost per day and fade."""
    from .smart_charging import STRATEGIES, simulate_smart_charging

    _files(itinerary=itinerary, tariff=tariff)
    r = _quiet(simulate_smart_charging, itinerary, tariff, aging_models=aging_models or ("blast_nmc811_lgm50",),
               years=years, cap_soc=cap_soc, cell=cell)
    for s in STRATEGIES:
        fades = ", ".join(f"{m} {r.capacity_fraction_lost[s][m]:.4f}" for m in r.models)
        click.echo(f"{s}: cost {r.cost_per_day[s]:.3f}/day, grid {r.grid_energy_kWh_per_day[s]:.2f} kWh/day, "
                   f"mean SOC {r.mean_soc[s]:.3f}, fade after {years:g} y: {fades}")
    _write(r, out, figure)


@scenario.command("wireless")
@click.option("--itinerary", type=click.Path(dir_okay=False), default=None, help="CSV (default: shipped example).")
@click.option("--wireless-power-kW", "wireless_power_kW", default=50.0, show_default=True, help="Power on a coil segment [kW].")
@click.option("--segment-s", default=20.0, show_default=True, help="Time on a coil segment [s].")
@click.option("--spacing-s", default=120.0, show_default=True, help="Time between segment starts [s].")
@_models_opt
@click.option("--years", default=10.0, show_default=True, help="Horizon [years].")
@_cell_opt
@out_option("HDF5 output.")
@figure_option()
def wireless(itinerary, wireless_power_kW, segment_s, spacing_s, aging_models, years, cell, out, figure):
    """Dynamic wireless charging: micro-cycles (rainflow) and fade versus stationary charging."""
    from .wireless import simulate_wireless

    _files(itinerary=itinerary)
    r = _quiet(simulate_wireless, itinerary, wireless_power_kW=wireless_power_kW, segment_s=segment_s,
               spacing_s=spacing_s, aging_models=aging_models or ("blast_nca_panasonic18650b",), years=years, cell=cell)
    for c in ("stationary", "wireless"):
        fades = ", ".join(f"{m} {r.capacity_fraction_lost[c][m]:.4f}" for m in r.models)
        click.echo(f"{c}: in-motion {r.wireless_kWh_per_day[c]:.2f} kWh/day, plugged {r.stationary_kWh_per_day[c]:.2f} kWh/day, "
                   f"rainflow cycles {r.cycles_per_day[c]:.1f}/day, EFC {r.efc_per_day[c]:.3f}/day, fade after {years:g} y: {fades}")
    _write(r, out, figure)


@scenario.command("mw-backup")
@click.option("--household-load", type=click.Path(dir_okay=False), default=None,
              help="CSV hour,load_kW of one home (default: shipped example).")
@click.option("--homes", "n_homes", default=12, show_default=True, help="Number of homes backed up.")
@click.option("--cell", default="LGM50", show_default=True, help="Cell of the truck pack (PyBaMM parameter set).")
@_models_opt
@click.option("--pack-energy-kWh", "pack_energy_kWh", default=600.0, show_default=True, help="Truck pack energy [kWh].")
@click.option("--charger-power-kW", "charger_power_kW", default=1000.0, show_default=True, help="Megawatt charger [kW].")
@click.option("--events-per-year", default=4.0, show_default=True, help="Backup events per year.")
@click.option("--years", default=10.0, show_default=True, help="Horizon [years].")
@out_option("HDF5 output.")
@figure_option()
def mw_backup(household_load, n_homes, cell, aging_models, pack_energy_kWh, charger_power_kW, events_per_year, years, out, figure):
    """Megawatt charge (peak temperature, plating risk) and backup for N homes (hours, DOD, ageing cost per event)."""
    from .mw_backup import simulate_mw_backup

    _files(household_load=household_load)
    r = _quiet(simulate_mw_backup, household_load, n_homes, cell=cell, aging_models=aging_models or ("blast_nmc811_lgm50",),
               pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW, events_per_year=events_per_year,
               years=years)
    c = r.charge
    click.echo(f"MW charge: {c['c_rate']:.2f} C, peak cell temperature {c['peak_temperature_K'] - 273.15:.1f} C, "
               f"min anode potential at separator {c['min_anode_potential_V'] * 1000:.1f} mV "
               f"({'plating possible' if c['plating_risk'] else 'no plating'}), reached SOC {c['final_soc']:.3f}"
               f"{'' if c['reached_target'] else ' (voltage cut-off)'} in {c['duration_s'] / 60:.1f} min, "
               f"pack heat {c['heat_kWh']:.1f} kWh")
    click.echo(f"backup: {r.n_homes} homes for {r.backup_hours:.1f} h, DOD {r.depth_of_discharge:.2f}, "
               f"{r.energy_delivered_kWh:.0f} kWh delivered")
    for m in r.models:
        click.echo(f"{m}: fade per event {r.capacity_fraction_lost_per_event[m]:.2e}, ageing cost per event {r.cost_per_event[m]:.1f}")
        if m in r.backup_hours_closed_loop:
            click.echo(f"{m}, closed loop (the event planned for the aged pack every 30 days): fade per event "
                       f"{r.capacity_fraction_lost_per_event_closed_loop[m]:.2e}, backup of the aged pack at the end "
                       f"{r.backup_hours_closed_loop[m]:.1f} h")
    _write(r, out, figure)


@scenario.command("fleet-sharing")
@click.option("--fleet", type=click.Path(dir_okay=False), default=None,
              help="CSV truck,route_energy_kWh,temperature_offset_K (default: shipped 20-truck depot).")
@click.option("--tariff", type=click.Path(dir_okay=False), default=None, help="CSV hour,price_per_kWh (default: shipped example).")
@click.option("--aging-model", default="blast_nca_panasonic18650b", show_default=True, help="Ageing model.")
@click.option("--years", default=5.0, show_default=True, help="Horizon [years].")
@click.option("--grid-limit-kW", "grid_limit_kW", default=800.0, show_default=True, help="Depot grid connection [kW].")
@click.option("--transfer-power-kW", "transfer_power_kW", default=0.0, show_default=True,
              help="Pack-to-pack transfer limit per vehicle through the depot DC bus [kW] (0: no transfer; "
                   "donors are spare trucks with route_energy_kWh 0).")
@click.option("--transfer-efficiency", default=0.95, show_default=True, help="Pack-to-pack transfer efficiency [-].")
@click.option("--seed", default=0, show_default=True, help="Seed of the cell-to-cell coefficient spread.")
@out_option("HDF5 output.")
@figure_option()
def fleet_sharing(fleet, tariff, aging_model, years, grid_limit_kW, transfer_power_kW, transfer_efficiency, seed, out, figure):
    """Depot with a shared grid connection: SOH/temperature-aware vs naive dispatch (SOH spread, energy cost)."""
    from .fleet_sharing import MODES, simulate_fleet_sharing

    _files(fleet=fleet, tariff=tariff)
    r = _quiet(simulate_fleet_sharing, fleet, tariff, aging_model=aging_model, years=years, grid_limit_kW=grid_limit_kW,
               transfer_power_kW=transfer_power_kW, transfer_efficiency=transfer_efficiency, seed=seed)
    for md in MODES:
        s = r.capacity_fraction[md][-1]
        click.echo(f"{md}: after {r.block_start_years[-1]:.2f} y relative capacity mean {s.mean():.4f}, min {s.min():.4f}, "
                   f"spread {r.spread(md)[-1]:.4f}; energy cost {r.energy_cost_per_year[md].mean():.0f}/year, "
                   f"grid {r.grid_kWh_per_day[md].mean():.0f} kWh/day; pack-to-pack transfer "
                   f"{r.transfer_kWh_per_day[md].mean():.1f} kWh/day (loss {r.transfer_loss_kWh_per_day[md].mean():.1f})")
    _write(r, out, figure)
