"""``batterylab grade``: grade every cell file in a folder."""

from __future__ import annotations

import click

from ..cli_options import dask_options, deprecated_option, jobs_option, progress_option


@click.command("grade")
@click.argument("input_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--chemistry", default=None, help="Chemistry of cells without a sidecar (e.g. nmc-graphite, lfp-graphite).")
@click.option("--nominal-capacity", "nominal_capacity_Ah", type=float, default=None, help="Nominal capacity [Ah] of cells without a sidecar.")
@click.option("--bol-capacity", "bol_capacity_Ah", type=float, default=None,
              help="Beginning-of-life capacity [Ah]: the end of second life is measured against it (default: the nominal capacity).")
@click.option("--capacity-test", type=click.Choice(["latest", "largest"]), default="latest", show_default=True,
              help="Which full capacity test of a file sets the SOH.")
@click.option("--forecast", "forecast_model", type=click.Choice(["auto", "power", "double_exp", "bacon_watts", "linear"]), default="auto",
              show_default=True, help="Capacity-history forecast: auto = population prior of the batch's longer "
                                      "histories, else the form chosen by back-test.")
@click.option("--bol-resistance", "bol_resistance_ohm", type=float, default=None, help="Beginning-of-life DC resistance [ohm].")
@click.option("--history", default=None, help="Traceability record for the whole batch (IEC 63338), e.g. 'fleet X, BMS logs 2019-2025'.")
@click.option("--price", "new_pack_price_per_kWh", type=float, default=None, help="New-pack price per kWh, for the residual value.")
@click.option("--currency", default="EUR", show_default=True)
@click.option("--repurposing-cost", "repurposing_cost_fraction", type=float, default=0.0, show_default=True,
              help="Fraction of the value spent on testing and repackaging.")
@click.option("--bands", "bands_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Grading bands JSON (default: parameter_sets/grading/bands_default.json).")
@click.option("--modules", default=None, help="Module layout SERIESxPARALLEL, e.g. 4x2, for module matching.")
@jobs_option("Local worker processes (default: all cores).")
@click.option("--force", is_flag=True, help="Measure every file again, even those graded before.")
@click.option("--no-second-life", is_flag=True, help="Skip the home-storage ageing forecast.")
@progress_option
@dask_options("the measurement of the files (instead of local processes)")
@deprecated_option("--workers", dest="jobs", new="--jobs", type=int)
@deprecated_option("--quiet", dest="progress", new="--no-progress", value=False, is_flag=True)
def grade(input_dir, out_dir, chemistry, nominal_capacity_Ah, bol_capacity_Ah, capacity_test, forecast_model,
          bol_resistance_ohm, history, new_pack_price_per_kWh,
          currency, repurposing_cost_fraction, bands_path, modules, jobs, force, no_second_life, progress, scheduler,
          dask_workers):
    """Grade second-life cells from the cycler files in INPUT_DIR.

    Reads BDF / Arbin / DOE-summary / capacity-history / pulse-table CSV and batterylab HDF5
    files (sidecars: FILE.meta.json or metadata.json), and writes grades.csv, evidence.jsonl,
    measurements.h5, modules.csv and summary.html to --out. A file that cannot be read becomes an
    error row. Re-running measures only new or changed files unless --force.
    """
    from ..errors import InputError
    from .batch import GradeConfig, grade_directory

    series = parallel = None
    if modules:
        try:
            series, parallel = (int(x) for x in modules.lower().split("x"))
        except ValueError:
            raise InputError(f"--modules must look like SERIESxPARALLEL (e.g. 4x2), got {modules!r}") from None
        if series < 1 or parallel < 1:
            raise InputError(f"--modules must be SERIESxPARALLEL with at least one cell each way (e.g. 4x2), got {modules!r}")
    cfg = GradeConfig(chemistry=chemistry, nominal_capacity_Ah=nominal_capacity_Ah, bol_resistance_ohm=bol_resistance_ohm,
                      bol_capacity_Ah=bol_capacity_Ah, capacity_test=capacity_test, forecast_model=forecast_model,
                      history=history, new_pack_price_per_kWh=new_pack_price_per_kWh, currency=currency,
                      repurposing_cost_fraction=repurposing_cost_fraction, bands_path=bands_path, series=series,
                      parallel=parallel, second_life=not no_second_life)
    from ..distributed import client_from_options

    from ..progress import show_progress

    client, close = client_from_options(scheduler, dask_workers)
    try:
        summary = grade_directory(input_dir, out_dir, cfg, workers=jobs, force=force, progress=show_progress(progress),
                                  client=client)
    finally:
        close()
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(summary["counts"].items()))
    click.echo(f"graded {len(summary['records'])} cell(s) from {summary['n_files']} file(s) "
               f"({summary['n_reused_files']} unchanged file(s) reused) -> {counts}")
    for name, path in summary["outputs"].items():
        click.echo(f"  {name}: {path}")
