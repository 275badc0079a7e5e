"""``batterylab fast-response``: grid fast-response duty for a solid-state or liquid cell."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np


@click.command("fast-response")
@click.option("--cell", "cell", default="sulfide", show_default=True,
              help="Solid-state set (sulfide, llzo, or a solid_state JSON path) or LGM50 (liquid reference).")
@click.option("--signal", default="regd", show_default=True,
              help="'regd' (synthetic RegD-like, seeded) or a CSV with columns time_s,signal (signal in -1..1).")
@click.option("--hours", type=float, default=1.0, show_default=True, help="Duty length [h].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic signal.")
@click.option("--regulation-W", "regulation_W", type=float, default=None,
              help="Regulation power [W] (default: 1C x nominal energy of the LG M50 reference).")
@click.option("--ambient-K", "ambient_K", type=float, default=None, help="Ambient temperature [K].")
@click.option("--mesh-points", type=int, default=10, show_default=True,
              help="Finite-volume points per domain and particle (PyBaMM default mesh: 0).")
@click.option("--aging/--no-aging", default=True, show_default=True,
              help="Age the liquid cell over a year of the duty with the compiled core.")
@click.option("--compare", "do_compare", is_flag=True, help="Run the same duty on the solid-state sets and LG M50 and print the table.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="Result HDF5 file.")
@click.option("--figures/--no-figures", default=True, show_default=True, help="Write PNG figures beside --out.")
def fast_response(cell, signal, hours, seed, regulation_W, ambient_K, mesh_points, aging, do_compare, out, figures):
    """Track a frequency-regulation signal and score it as PJM does (Manual 12).

    Writes the runs (current, voltage, temperature, heat, delivered and requested power) and the
    score to OUT (HDF5 with units); with --compare, the side-by-side table of the solid-state
    cells and the LG M50 liquid cell.
    """
    from ..io import write_results
    from . import compare as cmp

    out = Path(out)
    cells = ("sulfide", "llzo", "LGM50") if do_compare else (cell,)
    result = cmp.compare(cells, hours=hours, signal=signal, seed=seed, regulation_W=regulation_W, ambient_K=ambient_K,
                         mesh_points=mesh_points or None, aging_model=None if aging else "none")
    variables = result.variables()
    t, s = result.signal
    from ..io import Variable

    variables["signal/time_s"] = Variable(t, "s", "Time [s]", ("time_s",))
    variables["signal/signal"] = Variable(s, "1", "Normalised regulation signal [-]", ("time_s",))
    files = [cmp.COMPARISON_FILE]
    for c in result.cells:
        p = Path(cmp.COMPARISON_FILE).parent / f"{c}.json"
        if p.is_file():
            files.append(p)
    write_results(out, variables, config=result.config, parameter_files=files,
                  attrs={"notes": "\n".join(result.notes)})
    click.echo(result.to_text())
    if figures:
        from ..io import atomic_path

        for i, fig in enumerate(result.figures()):
            target = out.with_name(f"{out.stem}_fig{i + 1}.png")
            with atomic_path(target, suffix=".png") as tmp:
                fig.savefig(tmp, format="png", dpi=110)
            click.echo(f"figure: {target}")
    click.echo(f"wrote {out}")
    return 0 if np.isfinite(result.values[result.cells[0]]["score"]) else 1
