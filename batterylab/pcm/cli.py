"""``batterylab materials`` and ``batterylab pcm ...`` commands."""

from __future__ import annotations

import click


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
