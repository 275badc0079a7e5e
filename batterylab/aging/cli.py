"""``batterylab age``: age a cell or a fleet over years from a profile CSV."""

from __future__ import annotations

import math
import warnings

import click
import numpy as np

from ..cli_options import dask_options, deprecated_option, one_line_warning, out_option, progress_option
from ..errors import InputError

REQUIRED = ("time_s", "soc", "temperature_K")


def read_profile(path, *, name: str = "path") -> dict:
    """Read a profile CSV with columns time, SOC and temperature (optionally current).

    The headers are those every command accepts (:data:`batterylab.io.columns.COLUMNS`:
    ``time_s`` or ``Time [s]``, ``soc``, ``temperature_K`` or ``Temperature [K]``, ``current_A`` or
    ``Current [A]``, ...); lines starting with ``#`` are comments. Returns float64 arrays by
    batterylab column name.
    """
    from ..io.columns import read_columns

    header, cols, _ = read_columns(path, name=name)
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise InputError(
            f"profile file {str(path)!r} lacks column(s) {missing}; expected columns "
            f"{', '.join(REQUIRED)} (and optionally current_A), found {header}"
        )
    extra = [h for h, name in zip(header, cols) if name not in (*REQUIRED, "current_A")]
    if extra:
        raise InputError(f"profile file {str(path)!r}: column(s) {extra} are not used by age; expected "
                         f"{', '.join(REQUIRED)} (and optionally current_A)")
    return cols


def _list_models() -> None:
    from . import model_info, models

    for name in models():
        info = model_info(name)
        click.echo(f"{name}")
        click.echo(f"  chemistry: {info['chemistry']}  cell: {info['cell']}")
        click.echo(f"  source:    {info['source']}")
        ranges = ", ".join(f"{k} {lo:g}..{hi:g}" for k, (lo, hi) in info["validity"].items())
        click.echo(f"  validity:  {ranges}")
        click.echo(f"  outputs:   capacity{' and resistance' if info['has_resistance'] else ''}; states {', '.join(info['states'])}")


@click.command("age")
@click.argument("model", required=False)
@click.argument("profile", required=False, type=click.Path(dir_okay=False))
@click.option("--list", "list_", is_flag=True, help="List the ageing models with chemistry, source and validity range.")
@click.option("--years", type=float, default=None, help="Repeat the (periodic) profile to cover this many 365-day years.")
@click.option("--repeat", type=int, default=None, help="Repeat the profile this many times (instead of --years).")
@out_option("HDF5 result file (the summary is printed either way; without --out nothing is written, and it says so).",
            required=False)
@click.option("--cells", type=int, default=1, show_default=True, help="Number of cells (a fleet when > 1).")
@click.option("--temperature-spread-K", "spread", type=float, default=0.0, show_default=True,
              help="Standard deviation of per-cell temperature offsets [K].")
@click.option("--coefficient-spread", type=float, default=0.0, show_default=True,
              help="Log-normal spread of per-cell rate coefficients [-].")
@click.option("--seed", type=int, default=None, help="Random seed for the per-cell draws.")
@click.option("--eol", type=float, default=0.8, show_default=True, help="End-of-life relative capacity.")
@progress_option
@dask_options("a fleet's chunks")
@deprecated_option("--quiet", dest="progress", new="--no-progress", value=False, is_flag=True)
@deprecated_option("--workers", dest="dask_workers", new="--dask-workers", type=int)
def age(model, profile, list_, years, repeat, out, cells, spread, coefficient_spread, seed, eol, progress,
        scheduler, dask_workers):
    """Age MODEL over the periodic PROFILE.csv (columns time_s, soc, temperature_K[, current_A]).

    The profile's headers are those of every command (e.g. Time [s], Temperature [K]); a repeated
    profile whose SOC does not end where it started is warned about.

    Example: batterylab age naumann2020 ev_day.csv --years 10 --out result.h5 --cells 1000
    --temperature-spread-K 3 --seed 1
    """
    if list_:
        _list_models()
        return
    if not model or not profile:
        raise click.UsageError("give MODEL and PROFILE.csv (or --list)")
    from . import NonPeriodicProfileWarning, OutOfRangeWarning, simulate, simulate_fleet

    from .simulate import check_periodic, repetitions

    from ..distributed import _check_scheduler

    p = read_profile(profile, name="PROFILE")
    if scheduler is not None and dask_workers is None:  # both: client_from_options says "not both"
        _check_scheduler(scheduler)  # before the run, not after
    if years is None and repeat is None:
        years = 1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OutOfRangeWarning)
        warnings.simplefilter("always", NonPeriodicProfileWarning)
        check_periodic(p["soc"], repetitions(p["time_s"], repeat, years))
        single = cells == 1 and spread == 0 and coefficient_spread == 0
        if single:
            r = simulate(model, p["time_s"], p["soc"], p["temperature_K"], p.get("current_A"), years=years,
                         repeat=repeat, eol_threshold=eol)
            q_end = np.atleast_1d(r.capacity_fraction[-1])
            q_end = (q_end.mean(), q_end.min(), q_end.max())
            eol_s = np.atleast_1d(r.eol_time_s)
        else:
            from ..distributed import client_from_options
            from ..progress import show_progress

            client, close = client_from_options(scheduler, dask_workers)
            try:
                # with --out the cells are streamed to the file as they finish (never all in memory)
                r = simulate_fleet(model, p["time_s"], p["soc"], p["temperature_K"], p.get("current_A"),
                                   n_cells=cells, temperature_spread_K=spread, coefficient_spread=coefficient_spread,
                                   seed=seed, years=years, repeat=repeat, eol_threshold=eol, progress=show_progress(progress),
                                   client=client, save_to=out or None,
                                   config={"profile": str(profile), "years": years} if out else None)
            finally:
                close()
            if out:
                q_end = (r.capacity_fraction_mean[-1], r.capacity_fraction_min[-1], r.capacity_fraction_max[-1])
            else:
                q = r.capacity_fraction[:, -1]
                q_end = (q.mean(), q.min(), q.max())
            eol_s = r.eol_time_s
    for w in caught:
        one_line_warning(w.message, w.category)
    span_y = (r.time_s[-1] - r.time_s[0]) / (365 * 86400)
    click.echo(f"{model}: {len(eol_s)} cell(s), {span_y:.3g} years simulated")
    click.echo(f"relative capacity at end: mean {q_end[0]:.4f}, min {q_end[1]:.4f}, max {q_end[2]:.4f}")
    reached = np.isfinite(eol_s)
    if reached.any():
        click.echo(f"end of life (q <= {eol:g}) reached by {int(reached.sum())} cell(s); "
                   f"median {np.median(eol_s[reached]) / (365 * 86400):.3g} years")
    else:
        click.echo(f"end of life (q <= {eol:g}) not reached")
    if out and single:
        r.config.update({"profile": str(profile), "years": years, "cells": cells, "seed": seed})
        click.echo(f"wrote {r.save(out)}")
    elif out:
        click.echo(f"wrote {r.path}")
    else:  # never discard a result silently
        click.echo("nothing was written: give --out PATH to save the trajectories (HDF5)")
    if math.isnan(float(q_end[0])):  # pragma: no cover - kernels never return NaN
        raise click.ClickException("NaN in results")
