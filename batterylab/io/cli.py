"""``batterylab clean PATH``: remove the temporaries that interrupted writes left behind."""

from __future__ import annotations

import click


@click.command("clean")
@click.argument("path", type=click.Path(file_okay=True, dir_okay=True))
def clean(path):
    """Remove stale temporary files of interrupted writes under PATH (a folder, searched
    recursively, or a result file). Temporaries whose writer is still running are kept."""
    from .atomic import clean_stale

    removed = clean_stale(path)
    for p in removed:
        click.echo(f"removed {p}")
    click.echo(f"{len(removed)} stale temporary file{'s' if len(removed) != 1 else ''} removed")
