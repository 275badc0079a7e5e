"""The validation report: runs every validation case and writes HTML and HDF5.

>>> from batterylab.report import run_report          # doctest: +SKIP
>>> report = run_report("report/", quick=True)       # doctest: +SKIP
>>> report.passed, report.html_path, report.h5_path  # doctest: +SKIP

Submodules are imported on first use: a worker process imports this package before it sizes its
thread pools, so nothing heavy may be imported here.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {"Report": ".runner", "discover": ".runner", "run_report": ".runner", "format_summary": ".cli"}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
