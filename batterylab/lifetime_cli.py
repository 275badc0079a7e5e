"""``batterylab lifetime``: coupled electro-thermal-ageing lifetime of a cell under a duty."""

from __future__ import annotations

import click

from .cli_options import ambient_option, figure_option, out_option, progress_option


@click.command("lifetime")
@click.option("--cell", default="LGM50", show_default=True, help="Cell parameter set (batterylab cell --list).")
@click.option("--duty", "duty", type=click.Path(dir_okay=False), required=True,
              help="Duty CSV: time_s and power_W or current_A (discharge positive), one period (e.g. a day).")
@click.option("--ambient", "ambient", type=click.Path(dir_okay=False), default=None,
              help="Ambient CSV: time_s, temperature_K (periodic over its span, e.g. a year); default --ambient-K.")
@ambient_option(298.15, "Constant ambient [K] without --ambient.")
@click.option("--years", type=float, default=10.0, show_default=True, help="Horizon [years of 365 days].")
@click.option("--aging-model", default="calibrated_lgm50_okane2022_spm_lam", show_default=True, help="Kernel ageing model.")
@click.option("--update-days", type=float, default=30.0, show_default=True, help="Re-simulate the period with the aged cell every this many days.")
@click.option("--initial-soc", type=float, default=0.8, show_default=True, help="SOC at the start of each period [-].")
@click.option("--model", "model", default="SPM", show_default=True, help="PyBaMM model: SPM, SPMe or DFN.")
@out_option("HDF5 result file.")
@figure_option("PNG file: relative capacity, resistance and temperature over the years.")
@progress_option
def lifetime(cell, duty, ambient, ambient_K, years, aging_model, update_days, initial_soc, model, out, figure, progress):
    """Age a cell over YEARS under a repeated duty: PyBaMM electro-thermal model + ageing kernel,
    coupled every --update-days (capacity and resistance fed back as PyBaMM inputs).

    Example (shipped WLTC commute day and seasonal ambient):

        batterylab lifetime --cell LGM50 --duty parameter_sets/aging/lifetime/wltc_commute_day.csv
            --ambient parameter_sets/aging/lifetime/seasonal_ambient.csv --years 10 --out life.h5
    """
    from .lifetime import read_ambient_csv, read_duty_csv, simulate_lifetime

    from .checks import positive, text_file

    positive("--update-days", update_days, "days")
    d = read_duty_csv(text_file("--duty", duty, what="duty CSV"))
    if ambient:
        a = read_ambient_csv(text_file("--ambient", ambient, what="ambient CSV"))
        kw = {"ambient_temperature_K": a["temperature_K"], "ambient_time_s": a["time_s"]}
    else:
        kw = {"ambient_temperature_K": ambient_K}
    r = simulate_lifetime(
        cell,
        duty_power_W=d.get("power_W"),
        duty_current_A=None if "power_W" in d else d.get("current_A"),
        time_s=d["time_s"], years=years, aging_model=aging_model,
        update_interval_s=update_days * 86400.0, initial_soc=initial_soc, model=model,
        progress=progress, **kw,
    )
    r.save(out)
    if figure:
        from .cli_options import save_figure

        save_figure(r.plot().figure, figure)
    click.echo(f"wrote {out}: relative capacity {r.capacity_fraction[-1]:.4f} after {years:g} years, added resistance "
               f"{1e3 * r.added_resistance_ohm[-1]:.2f} mOhm (x{r.resistance_factor[-1]:.3f}), max cell temperature "
               f"{r.max_temperature_K.max():.1f} K; {r.timings_s['pybamm_solves']} PyBaMM solves, {r.timings_s['total']:.1f} s")
