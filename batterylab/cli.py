"""The ``batterylab`` command line.

Subcommands live beside the code they drive and are imported only when used, so ``batterylab
--help`` is fast and a command that needs PyBaMM imports it only when run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from ._version import __version__
from .cli_options import one_line_warning
from .errors import BatterylabError, RunError

#: command name -> "module:attribute" of a click command
COMMANDS = {
    "simulate": ("batterylab.cell.cli", "simulate", "Run one cell model (PyBaMM) and save the result to HDF5."),
    "age": ("batterylab.aging.cli", "age", "Age a cell or a fleet over years with the compiled ageing core."),
    "calibrate": ("batterylab.aging.calibrate_cli", "calibrate", "Fit a kernel ageing model to PyBaMM degradation runs."),
    "lifetime": ("batterylab.lifetime_cli", "lifetime", "Coupled electro-thermal-ageing lifetime under a power duty."),
    "swap": ("batterylab.swap.cli", "swap", "Simulate a battery-swap station over years."),
    "fast-response": ("batterylab.solid_state.cli", "fast_response", "Grid fast-response duty for a solid-state or liquid cell."),
    "grade": ("batterylab.grading.cli", "grade", "Grade second-life cells from cycler files."),
    "pcm": ("batterylab.pcm.cli", "pcm", "Phase-change thermal storage scenarios."),
    "materials": ("batterylab.pcm.cli", "materials", "List the shipped thermal materials."),
    "scenario": ("batterylab.scenarios.cli", "scenario", "Grid-interaction scenarios: V2G, smart charging, fleet sharing, MW backup, wireless."),
    "report": ("batterylab.report.cli", "report", "Run the validation cases and write the HTML report."),
    "clean": ("batterylab.io.cli", "clean", "Remove temporary files left by interrupted writes."),
}


def _available():
    """Commands whose module exists in this installation."""
    out = {}
    for name, (module, attr, short) in COMMANDS.items():
        if importlib.util.find_spec(module.rsplit(".", 1)[0]) is None:
            continue
        try:
            if importlib.util.find_spec(module) is None:
                continue
        except ModuleNotFoundError:
            continue
        out[name] = (module, attr, short)
    return out


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(_available())

    def get_command(self, ctx, name):
        entry = _available().get(name)
        if entry is None:
            return None
        module, attr, _ = entry
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, short) for name, (_, _, short) in sorted(_available().items())]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="batterylab")
def cli():
    """batterylab: battery physics and degradation modelling with a compiled core."""


def main(argv=None):
    """Entry point: a batterylab error becomes a one-line message; exit status 2 for bad input
    (a batterylab input error, a missing file, a usage error), 1 for a run that failed. Warnings
    are printed one line each (:func:`one_line_warning`)."""
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = one_line_warning
        return _main(argv)


def _main(argv):
    try:
        return cli.main(args=argv, prog_name="batterylab", standalone_mode=False) or 0
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:  # one line, as for every other bad input
        where = exc.ctx.command_path if exc.ctx is not None else "batterylab"
        click.echo(f"batterylab: error: {exc.format_message()} (try '{where} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except RunError as exc:
        click.echo(f"batterylab: error: the run failed: {exc}", err=True)
        sys.exit(1)
    except BatterylabError as exc:
        click.echo(f"batterylab: error: {exc}", err=True)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        click.echo(f"batterylab: error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
