"""``batterylab swap STATION.json --years N --policy NAME --out result.h5``."""

from __future__ import annotations

import click

from ..cli_options import figure_option, out_option, progress_option, summary_table

from .station import CHARGING_POLICIES, HANDOUT_POLICIES


def _split_policy(policy: str | None):
    """``--policy`` takes a charging or a hand-out policy name, or ``charging/handout``."""
    from ..errors import unknown_option

    if policy is None:
        return None, None
    charging = handout = None
    for part in policy.split("/"):
        if part in CHARGING_POLICIES and charging is None:
            charging = part
        elif part in HANDOUT_POLICIES and handout is None:
            handout = part
        else:
            raise unknown_option("policy", part, [*CHARGING_POLICIES, *HANDOUT_POLICIES])
    return charging, handout


@click.command("swap")
@click.argument("station", metavar="STATION.json")
@click.option("--years", type=float, default=None, help="Length of the run [a] (default 1).")
@click.option("--days", type=int, default=None, help="Length of the run [d] (instead of --years).")
@click.option("--policy", default=None,
              help="Charging policy (immediate, tou, valley), hand-out policy (highest_soc, "
                   "wear_levelling, soh_aware), or both as charging/handout. Default: the file's.")
@click.option("--compare", default=None,
              help="A baseline charging policy run on the same arrivals; the main run's "
                   "difference from it (peak reduction in percent, ...) is printed and stored.")
@click.option("--arrivals", "arrivals_csv", default=None,
              help="Recorded arrivals: CSV with columns time_s, soc (replaces the Poisson draw).")
@click.option("--v2g/--no-v2g", default=None, help="Switch export to the grid on or off.")
@click.option("--aging-model", default=None, help="Ageing model (default: the file's, else schmalstieg2014).")
@click.option("--no-aging", is_flag=True, help="Keep every pack's state of health at 1.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the arrival draws.")
@out_option("HDF5 file to write (with units); the summary is printed either way.", required=False)
@figure_option("PNG file for the pack relative-capacity and daily peak-demand figure.")
@progress_option
def swap(station, years, days, policy, compare, arrivals_csv, v2g, aging_model, no_aging, seed, out, figure,
         progress):
    """Simulate a battery-swap station over years and save the result.

    STATION.json is a station file (format in docs/guide/swap.md) or the
    name of a shipped example (nio_gen2_like, nio_gen3_like).
    """
    import numpy as np

    from .results import policy_difference
    from .simulate import simulate_station
    from .station import load_station

    from .. import checks
    from ..errors import InputError

    st = load_station(station)
    charging, handout = _split_policy(policy)
    if compare is not None:
        checks.choice("--compare", compare, CHARGING_POLICIES, kind="--compare charging policy")
    if no_aging and aging_model is not None:
        raise InputError(f"give --aging-model or --no-aging, not both (got --aging-model {aging_model})")
    if aging_model is not None:
        from ..aging import load as _load_aging

        with checks.named("--aging-model"):
            _load_aging(aging_model)
    aging = False if no_aging else (aging_model or True)
    checks.integer("--seed", seed, low=0)
    arrivals = None
    if arrivals_csv is not None:
        from .arrivals import read_arrivals_csv

        arrivals = read_arrivals_csv(checks.text_file("--arrivals", arrivals_csv, what="arrivals CSV"))
    kw = dict(years=years, days=days, handout=handout, v2g=v2g, aging=aging, progress=progress,
              arrivals=arrivals)
    result = simulate_station(st, charging=charging, rng=np.random.default_rng(seed), **kw)
    summary = result.summary()
    extra = {"seed": seed, "policy": policy}
    attrs = {}
    if compare is not None:
        other = simulate_station(st, charging=compare, rng=np.random.default_rng(seed), **kw)
        diff = policy_difference(other, result)
        summary["comparison"] = diff
        extra["compare"] = compare
        attrs = {f"comparison_{k}": v for k, v in diff.items()}
    what = f"{st.name}: {summary['days']} days, {summary['charging_policy']} charging, {summary['handout_policy']} hand-out"
    click.echo(summary_table(summary, what))
    if out:
        files = [p for p in [_station_path(station)] if p is not None]
        path = result.save(out, extra_config=extra, parameter_files=files, attrs=attrs)
        click.echo(f"wrote {path}")
    if figure:
        from ..cli_options import save_figure

        save_figure(result.figure(), figure)


def _station_path(station):
    from pathlib import Path

    from .station import shipped_stations

    p = Path(station)
    if p.exists():
        return p
    return shipped_stations().get(str(station))
