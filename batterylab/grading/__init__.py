"""Second-life grading: from cycler files to graded, valued and matched cells.

Main entry points (the modules hold the rest):

- :func:`grade_directory`, :func:`grade_records`, :class:`GradeConfig` — a batch of cells
  (:mod:`~batterylab.grading.batch`);
- :func:`read_cell_file` — one cycler file (:mod:`~batterylab.grading.readers`);
- :func:`fit_ocv`, :func:`degradation_modes`, :func:`available_chemistries` — C/20 curves to
  degradation modes (:mod:`~batterylab.grading.ocv_fit`);
- :func:`mechanism_forecast` — degradation modes of several check-ups projected forward
  (:mod:`~batterylab.grading.mechanisms`);
- :func:`load_bands` — the grading bands (:mod:`~batterylab.grading.grade`);
- :func:`electrode_state`, :func:`make_cell`, :func:`make_batch` — synthetic cells with known
  state (:mod:`~batterylab.grading.synthetic`).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "GradeConfig": ".batch",
    "grade_directory": ".batch",
    "grade_records": ".batch",
    "read_cell_file": ".readers",
    "fit_ocv": ".ocv_fit",
    "degradation_modes": ".ocv_fit",
    "available_chemistries": ".ocv_fit",
    "load_bands": ".grade",
    "mechanism_forecast": ".mechanisms",
    "electrode_state": ".synthetic",
    "make_cell": ".synthetic",
    "make_batch": ".synthetic",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
