"""``batterylab fast-response``: grid fast-response duty for a solid-state or liquid cell."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..cli_options import ambient_option, deprecated_option, figure_option, out_option


@click.command("fast-response")
@click.option("--cell", "cell", default="sulfide", show_default=True,
              help="Solid-state set (sulfide, llzo, or a solid_state JSON path) or LGM50 (liquid reference).")
@click.option("--signal", default="regd", show_default=True,
              help="'regd' (synthetic RegD-like, seeded) or a CSV with columns time_s,signal (signal in -1..1).")
@click.option("--hours", type=float, default=1.0, show_default=True, help="Duty length [h].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic signal.")
@click.option("--regulation-W", "regulation_W", type=float, default=None,
              help="Regulation power [W] (default: 1C x nominal energy of the LG M50 reference).")
@ambient_option(None)
@click.option("--mesh-points", type=int, default=10, show_default=True,
              help="Finite-volume points per domain and particle (PyBaMM default mesh: 0).")
@click.option("--aging/--no-aging", default=True, show_default=True,
              help="Age the liquid cell over a year of the duty with the compiled core.")
@click.option("--capability-price", "capability_price", type=float, default=None,
              help="Regulation capability clearing price [$/(MW h)] for the revenue rows (with the two below).")
@click.option("--performance-price", "performance_price", type=float, default=None,
              help="Regulation performance clearing price [$/MW of mileage].")
@click.option("--mileage-ratio", "mileage_ratio", type=float, default=None, help="RegD / RegA mileage ratio [-].")
@click.option("--compare", "do_compare", is_flag=True, help="Run the same duty on the solid-state sets and LG M50 and print the table.")
@out_option("Result HDF5 file.")
@figure_option("PNG file for the figures (the first at PATH, the others at PATH_2.png, ...).")
@deprecated_option("--figures", dest="figures_beside_out", new="--figure PATH", value=True, is_flag=True)
@deprecated_option("--no-figures", dest=None, new="no --figure (no figure is the default)", is_flag=True)
def fast_response(cell, signal, hours, seed, regulation_W, ambient_K, mesh_points, aging, capability_price,
                  performance_price, mileage_ratio, do_compare, out, figure, figures_beside_out=False):
    """Track a frequency-regulation signal and score it as PJM does (Manual 12).

    Writes the runs (current, voltage, temperature, heat, delivered and requested power) and the
    score to OUT (HDF5 with units); with --compare, the side-by-side table of the solid-state
    cells and the LG M50 liquid cell.
    """
    from . import compare as cmp

    from ..checks import integer, text_file

    if signal.lower() != "regd":
        text_file("--signal", signal, what="regulation signal CSV")
    integer("--seed", seed, low=0)
    integer("--mesh-points", mesh_points, low=0)
    from ..checks import finite_scalar

    for flag, value in (("--capability-price", capability_price), ("--performance-price", performance_price),
                        ("--mileage-ratio", mileage_ratio)):
        if value is not None:
            finite_scalar(flag, value, low=0.0)
    given = [x is not None for x in (capability_price, performance_price, mileage_ratio)]
    if any(given) and not all(given):
        raise click.UsageError("--capability-price, --performance-price and --mileage-ratio go together (the revenue "
                               "needs all three market numbers)")
    prices = None
    if all(given):
        prices = {"capability_price_per_MWh": capability_price, "performance_price_per_MW": performance_price,
                  "mileage_ratio": mileage_ratio}
    out = Path(out)
    cells = ("sulfide", "llzo", "LGM50") if do_compare else (cell,)
    result = cmp.compare(cells, hours=hours, signal=signal, seed=seed, regulation_W=regulation_W, ambient_temperature_K=ambient_K,
                         mesh_points=mesh_points or None, aging_model=None if aging else "none",
                         regulation_prices=prices)
    result.save(out)
    click.echo(result.to_text())
    if figure or figures_beside_out:
        from ..cli_options import save_figure

        first = Path(figure) if figure else out.with_name(f"{out.stem}_fig1.png")
        for i, fig in enumerate(result.figures()):
            if figure:
                target = first if i == 0 else first.with_name(f"{first.stem}_{i + 1}{first.suffix or '.png'}")
            else:
                target = out.with_name(f"{out.stem}_fig{i + 1}.png")
            save_figure(fig, target)
    click.echo(f"wrote {out}")
    return 0 if np.isfinite(result.values[result.cells[0]]["score"]) else 1
