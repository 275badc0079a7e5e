"""``batterylab report``: run the validation cases and write the HTML report and HDF5 numbers."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_options import jobs_option, progress_option


#: Metric names longer than this are cut in the terminal table (the HTML has them in full).
METRIC_WIDTH = 64


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_summary(report) -> str:
    """The summary table as plain text for the terminal."""
    from ..errors import InputError
    from .html import RESULT_TEXT, fmt, tolerance_text
    from .runner import Report
    from .worker import metric_status

    if not isinstance(report, Report):
        raise InputError(f"report must be a Report (from run_report), got {type(report).__name__} {report!r:.60}")

    rows = [("case", "capability", "metric", "value", "unit", "tolerance", "result")]
    for o in report.outcomes:
        if o.metrics:
            for m in o.metrics:
                result = RESULT_TEXT["error" if o.status == "error" else metric_status(m)]
                rows.append((o.name, _cut(o.capability, 30), _cut(m["name"], METRIC_WIDTH), fmt(m["value"]), m["unit"], tolerance_text(m), result))
        else:
            first = (o.error.splitlines() or [o.status])[0]
            rows.append((o.name, _cut(o.capability, 30), _cut(first, METRIC_WIDTH), "", "", "", "ERROR" if o.status == "error" else "FAIL"))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [str(c).rjust(w) if i in (3, 5) and k else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    if len(rows) == 1:
        lines.append("(no validation cases)")
    n = len(report.outcomes)
    if n:
        times = sorted(report.outcomes, key=lambda o: -o.runtime_s)
        lines.append("")
        compile_s = report.provenance.get("compile_s")
        if compile_s is not None:
            lines.append(f"compiling the Numba kernels (once, before the cases): {compile_s:.1f} s")
        lines.append("run time per case [s] (model time): " + ", ".join(f"{o.name} {o.runtime_s:.1f}" for o in times))
    verdict = "PASSED" if report.passed else "FAILED"
    lines.append("")
    lines.append(f"{verdict}: {n - report.n_failed} of {n} cases passed ({report.metric_counts()}); total run time "
                 f"{report.total_s:.1f} s ({report.provenance.get('mode', '')} mode)")
    return "\n".join(lines)


@click.command("report")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("report"), show_default=True,
              help="Folder for report.html and results.h5 (created if needed).")
@click.option("--case", "cases", multiple=True, metavar="NAME", help="Run only this case (repeatable). Default: all.")
@click.option("--quick", is_flag=True, help="Run each case's quick variant (seconds each) instead of the full one.")
@jobs_option("Worker processes. Default: the number of CPUs.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=900.0, show_default=True,
              help="Time limit of each case [s]; a case over it is a failed row.")
@click.option("--isolate", is_flag=True, help="Run every case in a fresh worker process (slower; for a case that misbehaves after another).")
@click.option("--module", "modules", multiple=True, metavar="MODULE",
              help="Take the cases from this importable Python module (its CASES list) instead of the shipped ones (repeatable).")
@click.option("--list", "list_only", is_flag=True, help="List the cases and exit.")
@progress_option
def report(out, cases, quick, jobs, timeout_s, isolate, modules, list_only, progress):
    """Run the validation cases and write OUT/report.html and OUT/results.h5.

    Cases run in parallel worker processes. Exits with status 1 if any case fails (a metric outside
    its tolerance, or an error), 2 on bad input such as an unknown case name.
    """
    from .runner import discover, run_report

    if list_only:
        specs, problems = discover(list(modules) or None)
        for s in specs:
            click.echo(f"{s.name}\t{s.capability}\t{s.title}")
        for p in problems:
            click.echo(f"{p.name}\t(error)\t{p.error}", err=True)
        if not specs:
            click.echo("(no validation cases)", err=True)
        return
    result = run_report(out, cases=list(cases), quick=quick, jobs=jobs, modules=list(modules) or None,
                        progress=progress, timeout_s=timeout_s, isolate=isolate)
    for note in result.warnings:
        click.echo(f"note: {note}", err=True)
    for problem in result.errors:
        click.echo(f"error: {problem}", err=True)
    click.echo(format_summary(result))
    click.echo(f"report: {result.html_path}")
    if result.h5_path is not None:
        click.echo(f"numbers: {result.h5_path}")
    if not result.passed:
        sys.exit(1)
