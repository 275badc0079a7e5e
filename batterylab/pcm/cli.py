"""``batterylab materials`` and ``batterylab pcm ...`` commands."""

from __future__ import annotations

import click

from ..cli_options import ambient_option, deprecated_option, figure_option, out_option


@click.command("materials")
def materials():
    """List the shipped thermal materials with their volumetric energy densities."""
    from .materials import TABLE_HEADER, materials_table

    rows = materials_table()
    table = [TABLE_HEADER] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(TABLE_HEADER))]
    for j, r in enumerate(table):
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if j == 0:
            click.echo("  ".join("-" * w for w in widths))
    click.echo("\nlatent [kWh/m3] = L x density (liquid: the volume a container must hold); "
               "stored +-5 K = latent + sensible from 5 K below solidus to 5 K above liquidus, per liquid volume.")


@click.group("pcm")
def pcm():
    """Phase-change thermal storage scenarios (cold-weather preheat, fast-charge buffering)."""


def _report(result, out, figure, figure_beside_out=False):
    """Print the summary, write HDF5 (and a PNG figure)."""
    from pathlib import Path

    for key, value in result.summary().items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        click.echo(f"{key}: {text}")
    for note in result.notes:
        click.echo(f"note: {note}")
    path = result.save(out)
    click.echo(f"wrote {path}")
    if figure or figure_beside_out:
        from ..cli_options import save_figure

        save_figure(result.figure(), figure or Path(out).with_suffix(".png"))


@pcm.command("preheat")
@click.option("--cell", default="LGM50", show_default=True, help="Cell parameter set.")
@click.option("--model", "cell_model", default="SPMe", show_default=True, help="Cell model: SPM, SPMe or DFN.")
@click.option("--material", default="rt28hc", show_default=True, help="PCM (see `batterylab materials`).")
@click.option("--pcm-mass-kg", default=30.0, show_default=True, help="PCM mass in the pack [kg].")
@click.option("--pack-energy-kWh", "pack_energy_kWh", default=75.0, show_default=True, help="Pack energy [kWh].")
@click.option("--enclosure-conductance-W-K", "enclosure_conductance_W_K", default=4.0, show_default=True,
              help="Pack enclosure U A to ambient [W/K].")
@click.option("--heater-power-W", "heater_power_W", default=2000.0, show_default=True, help="Heater into the PCM [W].")
@click.option("--heater-hours", nargs=2, type=float, default=(9.0, 16.0), show_default=True,
              help="Heater on from, to [h since midnight of day 1].")
@click.option("--night-ambient-K", "night_ambient_K", default=263.15, show_default=True, help="Night minimum [K].")
@click.option("--day-ambient-K", "day_ambient_K", default=275.15, show_default=True, help="Day maximum [K].")
@click.option("--departure-h", default=31.5, show_default=True, help="Departure [h since midnight of day 1].")
@click.option("--target-departure-K", "target_departure_K", default=288.15, show_default=True,
              help="Departure temperature that sets the PCM mass needed [K].")
@click.option("--consumption-Wh-km", "consumption_Wh_km", default=160.0, show_default=True, help="Vehicle consumption [Wh/km].")
@out_option("HDF5 output file.")
@figure_option("PNG file: cell and PCM temperatures overnight.")
@deprecated_option("--no-figure", dest=None, new="no --figure (no figure is the default)", is_flag=True)
def preheat_cmd(cell, cell_model, material, pcm_mass_kg, pack_energy_kWh, enclosure_conductance_W_K, heater_power_W,
                heater_hours, night_ambient_K, day_ambient_K, departure_h, target_departure_K, consumption_Wh_km, out,
                figure):
    """Cold-weather preheat: PCM charged during the day keeps the pack warm overnight."""
    from .scenarios import PyBaMMCell, preheat

    result = preheat(cell=PyBaMMCell(cell, cell_model), material=material, pcm_mass_kg=pcm_mass_kg,
                     pack_energy_kWh=pack_energy_kWh, enclosure_conductance_W_K=enclosure_conductance_W_K,
                     heater_power_W=heater_power_W, heater_start_h=heater_hours[0], heater_end_h=heater_hours[1],
                     night_ambient_K=night_ambient_K, day_ambient_K=day_ambient_K, departure_h=departure_h,
                     target_departure_K=target_departure_K, consumption_Wh_km=consumption_Wh_km)
    _report(result, out, figure)


@pcm.command("fast-charge")
@click.option("--cell", default="LGM50", show_default=True, help="Cell parameter set.")
@click.option("--model", "cell_model", default="SPMe", show_default=True, help="Cell model: SPM, SPMe or DFN.")
@click.option("--material", default="rt35", show_default=True, help="PCM (see `batterylab materials`).")
@click.option("--pcm-mass-per-cell-kg", default=0.015, show_default=True, help="PCM per cell [kg].")
@click.option("--charger-power-kW", "charger_power_kW", default=1000.0, show_default=True, help="Charger power [kW].")
@click.option("--pack-energy-kWh", "pack_energy_kWh", default=600.0, show_default=True, help="Pack energy [kWh].")
@click.option("--initial-soc", default=0.1, show_default=True, help="SOC at plug-in [-].")
@ambient_option(298.15, "Ambient / coolant temperature [K].")
@click.option("--aging-model", default="wang2011", show_default=True,
              help="Ageing model for the year of daily charges ('none' to skip).")
@click.option("--feedback-interval-days", type=click.FloatRange(min=0.0, min_open=True), default=30.0,
              show_default=True, help="Closed loop: the day simulated again for the aged cell this often [days] "
                                      "(each update costs two cell-model days).")
@click.option("--open-loop-only", is_flag=True, help="Skip the closed loop (the fresh day repeated only).")
@out_option("HDF5 output file.")
@figure_option("PNG file: cell temperature during the charge, with and without PCM.")
@deprecated_option("--no-figure", dest=None, new="no --figure (no figure is the default)", is_flag=True)
def fast_charge_cmd(cell, cell_model, material, pcm_mass_per_cell_kg, charger_power_kW, pack_energy_kWh, initial_soc,
                    ambient_K, aging_model, feedback_interval_days, open_loop_only, out, figure):
    """Fast-charge buffering: peak cell temperature and ageing with and without PCM."""
    from .scenarios import PyBaMMCell, fast_charge

    result = fast_charge(cell=PyBaMMCell(cell, cell_model), material=material,
                         pcm_mass_per_cell_kg=pcm_mass_per_cell_kg, charger_power_kW=charger_power_kW,
                         pack_energy_kWh=pack_energy_kWh, initial_soc=initial_soc, ambient_temperature_K=ambient_K,
                         aging_model=None if aging_model.lower() == "none" else aging_model,
                         feedback_interval_days=None if open_loop_only else feedback_interval_days)
    _report(result, out, figure)
