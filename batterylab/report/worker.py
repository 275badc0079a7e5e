"""Run one validation case in a worker process and return plain, picklable data.

The report runs cases in processes started with the ``spawn`` method (never ``fork``: Numba's
threading layers and PyBaMM break in forked children). Matplotlib figures do not pickle reliably,
so the worker renders them to PNG bytes itself; metrics, tables and variables come back as plain
Python numbers, strings and numpy arrays.

This module imports nothing heavy at import time: :func:`init_worker` must be able to set the
thread counts before numpy or Numba are imported in the worker.
"""

from __future__ import annotations

import importlib
import io
import os
import struct
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

#: Environment variables that size the thread pools of Numba, OpenMP and BLAS.
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: Resolution of the PNG figures embedded in the report [dots per inch].
FIGURE_DPI = 100

#: At most this many distinct warnings are kept per case.
MAX_WARNINGS = 20

COMPARISONS = ("<=", ">=", "info")


@dataclass
class CaseOutcome:
    """What running one case gave, as plain data (picklable across processes).

    ``status`` is ``"passed"``, ``"failed"`` (a metric outside its tolerance, or no metric) or
    ``"error"`` (the case raised, or returned something the report cannot store).
    """

    name: str
    module: str
    title: str = ""
    capability: str = ""
    reference: str = ""
    validity: str = ""
    description: str = ""
    status: str = "error"
    metrics: list = field(default_factory=list)  # dicts: name value tolerance unit comparison justification checked passed
    figures: list = field(default_factory=list)  # dicts: png (bytes) caption width height
    variables: dict = field(default_factory=dict)  # name -> dict: data units long_name dims attrs
    tables: list = field(default_factory=list)  # dicts: title header rows
    notes: str = ""
    warnings: list = field(default_factory=list)
    error: str = ""
    traceback: str = ""
    runtime_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def n_checked(self) -> int:
        """Metrics judged against a tolerance (reported-only rows are not counted)."""
        return sum(metric_checked(m) for m in self.metrics)

    @property
    def n_reported(self) -> int:
        """Reported-only metrics: shown for information, never judged."""
        return len(self.metrics) - self.n_checked


#: Queue on which a worker announces ``(case name, pid, start time [s since the epoch])``.
_STARTED = None


def init_worker(threads: int, started=None) -> None:
    """Process initializer: size thread pools (unless the user did) and select the Agg backend.

    ``started`` is a multiprocessing queue on which each case's start is announced, so that the
    parent can stop a worker whose case overruns its time limit inside compiled code.
    """
    global _STARTED
    for var in THREAD_VARIABLES:
        os.environ.setdefault(var, str(int(threads)))
    os.environ["MPLBACKEND"] = "Agg"
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    _STARTED = started


def find_case(module: str, name: str):
    """The case called ``name`` in ``module``'s ``CASES``."""
    mod = importlib.import_module(module)
    for case in getattr(mod, "CASES", []):
        if getattr(case, "name", None) == name:
            return case
    raise LookupError(f"no validation case named {name!r} in module {module}")


class CaseTimeout(TimeoutError):
    """A case ran longer than its time limit."""


def _time_limit(seconds):
    """Raise :class:`CaseTimeout` in this (main) thread after ``seconds``; returns an undo function."""
    import signal
    import threading

    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return lambda: None

    def alarm(signum, frame):
        raise CaseTimeout(f"the case ran longer than its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))

    def undo():
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return undo


def run_case(module: str, name: str, quick: bool, timeout_s: float | None = None) -> CaseOutcome:
    """Run one case and collect its result; an exception becomes an ``"error"`` outcome.

    ``timeout_s`` [s] limits the case's run (not the import of its module) with SIGALRM where
    available: that interrupts Python code but not a long call into compiled code, for which the
    parent process is the backstop. ``runtime_s`` is the run's wall time, figures included.
    """
    out = CaseOutcome(name=name, module=module)
    t0 = time.perf_counter()
    undo = lambda: None  # noqa: E731
    try:
        case = find_case(module, name)
        for attr in ("title", "capability", "reference", "validity", "description"):
            setattr(out, attr, str(getattr(case, attr, "") or ""))
        t0 = time.perf_counter()
        if _STARTED is not None:
            _STARTED.put((name, os.getpid(), time.time()))
        undo = _time_limit(timeout_s)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            result = case.run(bool(quick))
        out.warnings = _distinct_warnings(caught)
        collect(result, out)
    except (Exception, SystemExit) as exc:  # a case never kills the report
        out.status = "error"
        out.error = f"{type(exc).__name__}: {exc}"
        out.traceback = traceback.format_exc()
    finally:
        undo()
    out.runtime_s = time.perf_counter() - t0
    return out


def _distinct_warnings(caught) -> list[str]:
    seen: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {w.message} ({os.path.basename(w.filename)}:{w.lineno})"
        if text not in seen:
            seen.append(text)
        if len(seen) >= MAX_WARNINGS:
            break
    return seen


def collect(result, out: CaseOutcome) -> CaseOutcome:
    """Fill ``out`` from a :class:`batterylab.validation.CaseResult` (figures rendered to PNG)."""
    from ..validation import CaseResult

    if not isinstance(result, CaseResult):
        raise TypeError(f"case.run must return a batterylab.validation.CaseResult, got {type(result).__name__}")
    out.metrics = [_metric(m) for m in result.metrics]
    out.variables = plain_variables(result.variables)
    out.tables = [_table(t) for t in result.tables]
    out.notes = str(result.notes or "")
    out.figures = [_figure(f) for f in result.figures]
    if not out.metrics:
        out.status = "failed"
        out.error = "the case returned no metrics, so nothing was checked"
    elif not any(m["checked"] for m in out.metrics):
        out.status = "failed"
        out.error = "every metric of the case is reported only (no tolerance), so nothing was checked"
    else:
        out.status = "passed" if all(m["passed"] for m in out.metrics) else "failed"
    return out


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"metric value must be a number, got {value!r}") from None


def _metric(m) -> dict:
    from ..validation import Metric

    if not isinstance(m, Metric):
        raise TypeError(f"metrics must be batterylab.validation.Metric, got {type(m).__name__}")
    if m.comparison not in COMPARISONS:
        raise ValueError(f"metric {m.name!r}: comparison {m.comparison!r} is not one of {', '.join(COMPARISONS)}")
    value = _number(m.value)
    tolerance = None if m.tolerance is None else _number(m.tolerance)
    checked = type(m)(
        name=str(m.name), value=value, tolerance=tolerance, unit=str(m.unit), comparison=m.comparison,
        justification=str(m.justification),
    )
    return {
        "name": str(m.name),
        "value": value,
        "tolerance": tolerance,
        "unit": str(m.unit or ""),
        "comparison": m.comparison,
        "justification": str(m.justification or ""),
        # a reported-only row (comparison "info" or no tolerance) is shown, never judged
        "checked": m.comparison != "info" and tolerance is not None,
        "passed": bool(checked.passed),
    }


def plain_variables(variables: dict) -> dict:
    """``name -> Variable`` as plain dicts, checked so that writing them to HDF5 cannot fail."""
    import numpy as np

    from ..io import Variable

    out = {}
    for key, var in (variables or {}).items():
        if not isinstance(var, Variable):
            raise TypeError(f"variables[{key!r}] must be a batterylab.io.Variable, got {type(var).__name__}")
        key = str(key).strip("/")
        if not key:
            raise ValueError("a variable name is empty")
        data = np.asarray(var.data)
        if data.dtype.kind not in "fiubUS":
            raise TypeError(f"variables[{key!r}] has dtype {data.dtype}, which HDF5 cannot store; use numbers or strings")
        out[key] = {
            "data": data,
            "units": str(var.units),
            "long_name": str(var.long_name),
            "dims": tuple(str(d) for d in var.dims),
            "attrs": {str(k): _attr(v) for k, v in var.attrs.items()},
        }
    groups = {key.rsplit("/", 1)[0] for key in out if "/" in key}
    for key in out:
        if key in groups or any(g.startswith(key + "/") for g in groups):
            raise ValueError(f"variable name {key!r} is also used as a group of other variables")
    check_dimensions(out)
    return out


def _attr(value):
    """An attribute value HDF5 can store (numbers, strings, numeric arrays); anything else as JSON text."""
    import json

    import numpy as np

    if isinstance(value, (str, bool, int, float, np.generic)):
        return value
    arr = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None
    if arr is not None and arr.dtype.kind in "fiub":
        return arr
    return json.dumps(value, default=str, sort_keys=True)


def check_dimensions(variables: dict) -> None:
    """Raise if a variable's axis is named like a 1-D coordinate of another length (same group)."""
    by_group: dict[str, dict] = {}
    for key, var in variables.items():
        group, _, leaf = key.rpartition("/")
        by_group.setdefault(group, {})[leaf] = var
    for group, items in by_group.items():
        coords = {leaf: v["data"].shape[0] for leaf, v in items.items() if v["data"].ndim == 1 and v["dims"] == (leaf,)}
        for leaf, v in items.items():
            for axis, dim in enumerate(v["dims"]):
                if dim in coords and dim != leaf and coords[dim] != v["data"].shape[axis]:
                    raise ValueError(
                        f"variable {leaf!r} axis {axis} ({dim}) has length {v['data'].shape[axis]} but "
                        f"coordinate {dim!r} has length {coords[dim]}"
                    )


def _cell(value):
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return str(value)


def _table(table) -> dict:
    if isinstance(table, dict):
        title, header, rows = table.get("title", ""), table.get("header", []), table.get("rows", [])
    else:
        title, header, rows = table
    return {
        "title": str(title),
        "header": [str(h) for h in header],
        "rows": [[_cell(c) for c in row] for row in rows],
    }


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height [px] from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


def _caption(fig) -> str:
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        return sup.get_text()
    titles = [ax.get_title() for ax in fig.get_axes() if ax.get_title()]
    return " / ".join(titles)


def _figure(item) -> dict:
    from matplotlib.figure import Figure

    caption = None
    if isinstance(item, tuple) and len(item) == 2:
        a, b = item
        item, caption = (a, b) if isinstance(a, Figure) else (b, a)
    if not isinstance(item, Figure):
        raise TypeError(f"figures must be matplotlib Figures, got {type(item).__name__}")
    buf = io.BytesIO()
    item.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    png = buf.getvalue()
    width, height = png_size(png)
    text = str(caption) if caption is not None else _caption(item)
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(item)  # a figure made with pyplot would otherwise stay alive in this worker
    return {"png": png, "caption": text, "width": width, "height": height}


def metric_checked(metric: dict) -> bool:
    """True for a metric judged against a tolerance; False for a reported-only row ("info" or no
    tolerance), also for metric dicts made before the ``checked`` key existed."""
    return bool(metric.get("checked", metric.get("comparison") != "info" and metric.get("tolerance") is not None))


def metric_status(metric: dict) -> str:
    """``"pass"``, ``"fail"`` or ``"reported"`` (a row shown for information, with no tolerance)."""
    if not metric_checked(metric):
        return "reported"
    return "pass" if metric["passed"] else "fail"
