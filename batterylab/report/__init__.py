"""The validation report: runs every validation case and writes HTML and HDF5.

>>> from batterylab.report import run_report          # doctest: +SKIP
>>> report = run_report("report/", quick=True)       # doctest: +SKIP
>>> report.passed, report.html_path, report.h5_path  # doctest: +SKIP

Submodules are imported on first use: a worker process imports this package before it sizes its
thread pools, so nothing heavy may be imported here.
"""

from __future__ import annotations

__all__ = ["Report", "discover", "format_summary", "run_report"]


def __getattr__(name: str):
    if name in ("Report", "discover", "run_report"):
        from . import runner

        return getattr(runner, name)
    if name == "format_summary":
        from .cli import format_summary

        return format_summary
    raise AttributeError(f"module 'batterylab.report' has no attribute {name!r}")
