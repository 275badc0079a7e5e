"""Render a :class:`~batterylab.report.runner.Report` to one self-contained HTML file.

The page comes from the jinja2 template ``templates/report.html.j2`` with the stylesheet
``templates/report.css`` inlined; figures are embedded as base64 PNG ``data:`` URIs, so the file
can be mailed, archived or opened offline: nothing is fetched when it is viewed.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from .worker import metric_checked, metric_status

TEMPLATES = Path(__file__).resolve().parent / "templates"

SYMBOL = {"<=": "\u2264", ">=": "\u2265"}


def fmt(value) -> str:
    """A number for a table: four significant digits, '—' for missing (the command line's format)."""
    from ..cli_options import format_number

    return format_number(value)


#: What a summary row's status shows in the result column.
RESULT_TEXT = {"pass": "pass", "fail": "FAIL", "reported": "reported", "error": "ERROR"}


def tolerance_text(metric: dict) -> str:
    if not metric_checked(metric):
        return "\u2014 (reported)"
    return f"{SYMBOL.get(metric['comparison'], metric['comparison'])} {fmt(metric['tolerance'])}"


def _anchor(name: str, used: set) -> str:
    base = "case-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "x")
    anchor, i = base, 2
    while anchor in used:
        anchor, i = f"{base}-{i}", i + 1
    used.add(anchor)
    return anchor


def _variable_rows(variables: dict) -> list[dict]:
    import numpy as np

    rows = []
    for key, v in variables.items():
        data = v["data"]
        rng = ""
        if data.dtype.kind in "fiu" and data.size:
            finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data
            if finite.size:
                rng = f"{fmt(float(finite.min()))} to {fmt(float(finite.max()))}"
        rows.append({
            "name": key, "long_name": v["long_name"], "units": v["units"],
            "shape": " \u00d7 ".join(str(n) for n in data.shape) or "scalar", "range": rng,
        })
    return rows


def context(report) -> dict:
    """The template's variables."""
    from ..io import h5_name

    used: set = set()
    cases, summary = [], []
    for o in report.outcomes:
        anchor = _anchor(o.name, used)
        cases.append({
            "o": o,
            "anchor": anchor,
            "group": h5_name(o.name),
            "metrics": [dict(m, tolerance_text=tolerance_text(m), status=metric_status(m)) for m in o.metrics],
            "figures": [
                {"src": "data:image/png;base64," + base64.b64encode(f["png"]).decode("ascii"), "caption": f["caption"], "width": f["width"], "height": f["height"]}
                for f in o.figures
            ],
            "variables": _variable_rows(o.variables),
        })
        first = len(summary)
        if o.metrics:
            for m in o.metrics:
                status = "error" if o.status == "error" else metric_status(m)
                summary.append({"o": o, "anchor": anchor, "metric": m["name"], "value": fmt(m["value"]), "unit": m["unit"], "tolerance": tolerance_text(m), "status": status, "message": ""})
        else:
            message = (o.error.splitlines() or [o.status])[0]
            summary.append({"o": o, "anchor": anchor, "metric": "", "value": "", "unit": "", "tolerance": "", "status": "error" if o.status == "error" else "fail", "message": message})
        for i, row in enumerate(summary[first:]):
            row["span"] = len(summary) - first if i == 0 else 0
    prov = dict(report.provenance)
    hashes = prov.pop("parameter_sets_sha256", {})
    data_hashes = prov.pop("validation_data_sha256", {})
    labels = {
        "batterylab_version": "batterylab", "git_commit": "git commit", "python_version": "Python",
        "numpy_version": "NumPy", "numba_version": "Numba", "pybamm_version": "PyBaMM", "h5py_version": "h5py",
        "matplotlib_version": "Matplotlib", "platform": "platform", "cpu_model": "CPU", "cpu_count": "CPU count",
        "jobs": "worker processes", "mode": "mode", "created_utc": "created (UTC)", "total_runtime_s": "total run time [s]",
        "compile_s": "compiling the Numba kernels, once before the cases [s]",
    }
    provenance_rows = [(labels.get(k, k), fmt(v)) for k, v in prov.items()]
    return {
        "report": report,
        "n_cases": len(report.outcomes),
        "n_passed": sum(o.passed for o in report.outcomes),
        "n_failed": report.n_failed,
        "n_checked": report.n_checked,
        "n_reported": report.n_reported,
        "verdict": report.verdict(),
        "summary": summary,
        "cases": cases,
        "provenance": provenance_rows,
        "parameter_hashes": sorted(hashes.items()),
        "data_hashes": sorted(data_hashes.items()),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "fmt": fmt,
        "result_text": RESULT_TEXT,
    }


def render_html(report) -> str:
    """The report as one HTML string."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt
    return env.get_template("report.html.j2").render(**context(report))


def write_html(report, path) -> Path:
    """Write the report's HTML to ``path`` atomically."""
    from ..io import atomic_write_text

    return atomic_write_text(path, render_html(report))
