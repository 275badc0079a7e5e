"""``batterylab simulate``: one cell model run saved to HDF5."""

from __future__ import annotations

import sys

import click

from ..cli_options import ambient_option, deprecated_option, figure_option, out_option
from ..errors import InputError


@click.command("simulate")
@click.option("--cell", default="LGM50", show_default=True,
              help="Shipped parameter-set name (LGM50, LFP26650, NMCPouchBPX, LFP18650BPX, ...) or a BPX / batterylab cell JSON file.")
@click.option("--model", default="SPMe", show_default=True, help="SPM, SPMe or DFN.")
@click.option("--thermal", default="isothermal", show_default=True, help="isothermal, lumped, x-lumped or x-full.")
@click.option("--experiment", "experiment", multiple=True,
              help='PyBaMM experiment step, repeatable, e.g. --experiment "Discharge at 1C until 2.5 V".')
@click.option("--current-csv", type=click.Path(dir_okay=False), help="CSV with columns time_s,current_A (discharge positive).")
@click.option("--power-csv", type=click.Path(dir_okay=False), help="CSV with columns time_s,power_W (discharge positive).")
@click.option("--profile", help="Shipped profile name (e.g. WLTC, vehicle power) scaled with --peak-c-rate.")
@click.option("--peak-c-rate", type=float, help="Scale --profile so its peak is this C-rate [1/h] of the cell.")
@ambient_option(None, "Ambient and initial temperature [K].")
@deprecated_option("--ambient-k", dest="ambient_K", new="--ambient-K", type=float)
@click.option("--initial-soc", type=float, default=1.0, show_default=True, help="Initial state of charge [0-1].")
@click.option("--sei", help="PyBaMM SEI option, e.g. 'solvent-diffusion limited'.")
@click.option("--lithium-plating", help="PyBaMM lithium plating option, e.g. 'irreversible'.")
@click.option("--lam", "lam", help="PyBaMM loss of active material option, e.g. 'stress-driven'.")
@click.option("--mesh", default="default", show_default=True, help="coarse, default or fine.")
@click.option("--no-validity-check", is_flag=True, help="Allow C-rates and temperatures outside the set's validity.")
@click.option("--allow-early-stop", is_flag=True,
              help="Exit 0 when the run stops at a voltage limit before the end of the duty (default: exit 1).")
@out_option("Output HDF5 file.")
@figure_option("PNG file: voltage and temperature over time.")
def simulate(cell, model, thermal, experiment, current_csv, power_csv, profile, peak_c_rate, ambient_K,
             initial_soc, sei, lithium_plating, lam, mesh, no_validity_check, allow_early_stop, out, figure):
    """Run one cell model (PyBaMM) under one duty and save the result to HDF5.

    Give exactly one duty: --experiment (repeatable), --current-csv, --power-csv or --profile.
    Current and power are discharge positive. A run that stops at a voltage limit before the end of
    its duty is saved as far as it ran, says where it stopped and what to change, and exits with
    status 1 unless --allow-early-stop is given. Examples:

        batterylab simulate --cell LGM50 --model DFN --thermal lumped
        --experiment "Discharge at 1C until 2.5 V" --out result.h5

        batterylab simulate --cell LGM50 --thermal lumped --profile WLTC --peak-c-rate 2
        --initial-soc 0.8 --out wltc.h5
    """
    from .result import expect_early_stop

    if peak_c_rate is not None:
        from ..checks import positive

        positive("--peak-c-rate", peak_c_rate, "1/h")
        if profile is None:
            raise InputError("--peak-c-rate scales a --profile; give it with --profile only")
    given = [bool(experiment), current_csv is not None, power_csv is not None, profile is not None]
    if sum(given) != 1:
        raise InputError("give exactly one duty: --experiment, --current-csv, --power-csv or --profile")
    kw = dict(cell=cell, model=model, thermal=thermal, ambient_temperature_K=ambient_K, initial_soc=initial_soc,
              sei=sei, lithium_plating=lithium_plating, loss_of_active_material=lam, mesh=mesh,
              check_validity=not no_validity_check)
    with expect_early_stop():  # said below, as an error or a note
        result = _run(experiment, current_csv, power_csv, profile, peak_c_rate, kw)
    path = result.save(out)
    if figure:
        from ..cli_options import save_figure

        save_figure(result.plot().figure, figure)
    s = result.summary()
    click.echo(
        f"{path}: {result.time_s.size} samples over {s['duration_s']:.0f} s, final voltage "
        f"{s['final_voltage_V']:.3f} V, max temperature {s['max_temperature_K']:.2f} K, "
        f"throughput {s['throughput_Ah']:.3f} Ah, termination: {s['termination']}"
    )
    if not result.completed:
        message = result.early_stop_message()
        if not allow_early_stop:
            click.echo(f"batterylab: error: {message} The partial run is saved in {path}; pass --allow-early-stop "
                       "to accept it.", err=True)
            sys.exit(1)
        click.echo(f"batterylab: note: {message}", err=True)


def _run(experiment, current_csv, power_csv, profile, peak_c_rate, kw):
    """The run of the one duty given (``kw``: the model and run options)."""
    from .model import simulate as _simulate
    from .profiles import load_profile, read_profile_csv

    if experiment:
        result = _simulate(experiment=list(experiment), **kw)
    else:
        if profile is not None:
            if peak_c_rate is None:
                raise InputError("--profile needs --peak-c-rate [1/h] to scale the profile to the cell")
            prof = load_profile(profile, cell=kw["cell"], peak_c_rate=peak_c_rate)
        else:
            option = "--current-csv" if current_csv else "--power-csv"
            prof = read_profile_csv(current_csv or power_csv, option=option)
            expected = "current" if current_csv else "power"
            if prof.quantity != expected:
                raise InputError(f"--{expected}-csv {current_csv or power_csv!r} holds a {prof.quantity} column, not {expected}")
        if prof.quantity == "current":
            result = _simulate(time_s=prof.time_s, current_A=prof.values, **kw)
        else:
            result = _simulate(time_s=prof.time_s, power_W=prof.values, **kw)
    return result
