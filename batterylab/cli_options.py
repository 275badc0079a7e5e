"""The command line's one grammar: the options every ``batterylab`` subcommand spells the same way.

- ``--progress/--no-progress``: a progress bar; by default one when the output is a terminal
  (``progress=None`` in the Python API, tqdm's convention);
- ``--figure PATH``: write the command's first figure as a PNG to PATH (nothing by default);
- ``--out PATH``: the file (or folder) the command produces, required where a file is the product;
- ``--jobs N``: local worker processes;
- ``--scheduler ADDR`` / ``--dask-workers N``: a Dask cluster (an existing scheduler, or a local
  cluster of N processes started for the run);
- ``--ambient-K``: the ambient temperature [K];
- exit status 2 for bad input (a batterylab error, a missing file, a usage error) and 1 for a run
  that failed.

Older spellings (``--quiet``, ``--workers``, ``--ambient-k``, ``--figures/--no-figures``,
``--no-figure``) still work for one release: hidden, with a deprecation note on stderr.
"""

from __future__ import annotations

import functools

import click

__all__ = ["ambient_option", "dask_options", "deprecated_option", "figure_option", "jobs_option", "out_option",
           "progress_option", "save_figure"]


def progress_option(f):
    return click.option("--progress/--no-progress", "progress", default=None,
                        help="Show a progress bar (default: when the output is a terminal).")(f)


def figure_option(help: str = "PNG file for the result's figure."):
    return click.option("--figure", "figure", type=click.Path(dir_okay=False), default=None, metavar="PATH", help=help)


def out_option(help: str = "HDF5 result file.", *, required: bool = True, **kw):
    kw.setdefault("type", click.Path(dir_okay=False))
    return click.option("--out", "out", required=required, metavar="PATH", help=help, **kw)


def jobs_option(help: str = "Local worker processes.", **kw):
    kw.setdefault("type", click.IntRange(min=1))
    kw.setdefault("default", None)
    return click.option("--jobs", "jobs", metavar="N", help=help, **kw)


def dask_options(what: str = "the work"):
    def deco(f):
        f = click.option("--dask-workers", "dask_workers", type=click.IntRange(min=1), default=None, metavar="N",
                         help=f"Run {what} on a local Dask cluster of N worker processes.")(f)
        return click.option("--scheduler", "scheduler", default=None, metavar="ADDR",
                            help=f"Run {what} as tasks on this Dask scheduler (e.g. tcp://10.0.0.1:8786).")(f)
    return deco


def _check_ambient(ctx, param, value):
    if value is not None:
        from .checks import temperature_K

        temperature_K("--ambient-K", value)
    return value


def ambient_option(default=None, help: str = "Ambient temperature [K].", **kw):
    kw.setdefault("callback", _check_ambient)
    return click.option("--ambient-K", "ambient_K", type=float, default=default, show_default=default is not None,
                        help=help, **kw)


_UNSET = object()


def deprecated_option(*decls, dest: str, new: str, value=_UNSET, **kw):
    """A hidden old spelling of an option: sets the new option's parameter ``dest`` and notes on stderr.

    ``value`` is what ``dest`` becomes when the old flag is given (default: the old option's value);
    ``dest=None`` makes the old option a no-op.
    """
    key = "_deprecated_" + decls[0].lstrip("-").replace("-", "_").lower()

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            given = kwargs.pop(key, None)
            if given is not None and given is not False:
                click.echo(f"batterylab: warning: {decls[0]} is deprecated and will be removed; use {new}", err=True)
                if dest is not None:
                    kwargs[dest] = given if value is _UNSET else value
            return f(*args, **kwargs)

        if kw.get("is_flag"):
            kw.setdefault("default", None)
        return click.option(*decls, key, hidden=True, **kw)(wrapper)

    return deco


def save_figure(fig, path) -> str:
    """Write ``fig`` as a PNG to ``path`` atomically and close it; returns the path."""
    from .io import atomic_path

    with atomic_path(path, suffix=".png.tmp") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - a figure not made by pyplot
        pass
    click.echo(f"wrote {path}")
    return str(path)


def one_line_warning(message, category, filename=None, lineno=None, file=None, line=None):
    """``warnings.showwarning`` for the command line: one line per warning on standard error,
    ``batterylab: warning: <category>: <message>``, without Python's source file and line."""
    text = " ".join(str(message).split())
    click.echo(f"batterylab: warning: {category.__name__}: {text}", err=True)


def format_number(value) -> str:
    """A number for a table: four significant digits (integers in full), '\u2014' for missing."""
    import math

    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value.is_integer() and abs(value) < 1e9:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


#: Unit suffixes of summary keys (batterylab names carry their unit) -> the unit shown, longest first.
KEY_UNITS = (
    ("_kWh_per_day", "kWh/d"), ("_per_day", "1/d"), ("_kWh", "kWh"), ("_Wh", "Wh"), ("_kW", "kW"), ("_W", "W"),
    ("_Ah", "Ah"), ("_pct", "%"), ("_percent", "%"), ("_s", "s"), ("_h", "h"), ("_K", "K"), ("_V", "V"), ("_A", "A"),
)


def key_unit(key: str, currency: str | None = None) -> tuple[str, str]:
    """``(label, unit)`` of a summary key: ``"mean_wait_s"`` -> ``("mean wait", "s")``; a cost in
    ``currency`` (``energy_cost_per_day`` -> ``"CNY/d"``); a relative quantity (``*fraction*``) is [-]."""
    unit = "d" if key == "days" else ("-" if "fraction" in key else "")  # relative quantities [-]
    for suffix, u in KEY_UNITS:
        if key.endswith(suffix) or f"{suffix}_" in key:
            unit, key = u, key.replace(suffix, "", 1)
            break
    if currency and "cost" in key and unit in ("", "1/d"):  # a cost (not a change in percent)
        unit = currency if not unit else f"{currency}/d"
    return key.replace("_", " ").strip(), unit


def summary_table(summary: dict, title: str = "") -> str:
    """A result's ``summary()`` as a readable table (quantity, value, unit), units from the keys;
    a nested dict becomes its own table below."""
    currency = summary.get("currency") if isinstance(summary.get("currency"), str) else None
    rows, nested = [], []
    for key, value in summary.items():
        if isinstance(value, dict):
            nested.append((key, value))
            continue
        if key == "currency":
            continue
        label, unit = key_unit(key, currency)
        rows.append((label, format_number(value), unit))
    lines = [title] if title else []
    if rows:
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines += [f"  {a.ljust(w0)}  {b.rjust(w1)}  {c}".rstrip() for a, b, c in rows]
    for key, value in nested:
        lines += ["", summary_table({**value, **({"currency": currency} if currency else {})}, key.replace("_", " ") + ":")]
    return "\n".join(lines)
