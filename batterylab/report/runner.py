"""Run the validation cases in parallel and write ``report.html`` and ``results.h5``.

:func:`run_report` is the API behind ``batterylab report``:

1. discover the cases (every module of :mod:`batterylab.validation.cases`, or the modules given);
   a module that fails to import becomes a failed row, it does not stop the report;
2. run them in worker processes started with ``spawn`` (never ``fork``), one case per task,
   longest first (run times of the previous report in the same folder), with a progress bar; a
   case that raises, overruns its time limit or kills its worker becomes a failed row with its
   traceback, and the other cases go on;
3. write ``results.h5`` (a group per case: its variables and its metrics, with units; provenance
   at the root) and the self-contained ``report.html`` (figures embedded as base64 PNG, inline
   CSS, summary table first), both atomically.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import pkgutil
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, OptionError, unknown_option
from ..io.results import Result, new_axes
from ..progress import show_progress
from .worker import CaseOutcome, metric_checked, metric_status

#: Package whose modules hold the shipped cases.
CASES_PACKAGE = "batterylab.validation.cases"

#: Default time limit of one case [s]: full-mode cases are meant to take about a minute.
DEFAULT_TIMEOUT_S = 900.0

REPORT_HTML = "report.html"
RESULTS_H5 = "results.h5"


@dataclass
class CaseSpec:
    """Where a case lives (the worker imports ``module`` and looks the case up by ``name``)."""

    name: str
    module: str
    title: str = ""
    capability: str = ""


@dataclass
class Report(Result):
    """A finished report run: outcomes in case order, provenance, output paths.

    The result contract: ``save(path)`` writes another ``results.h5`` (:func:`write_h5`),
    ``summary()`` counts the cases, ``plot()`` shows each case's run time and status and
    ``to_xarray()`` gives the numbers of ``results.h5`` without a file.
    """

    outcomes: list[CaseOutcome]
    provenance: dict
    quick: bool
    total_s: float
    html_path: Path | None = None
    h5_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # problems of the report itself (not of a case)

    @property
    def passed(self) -> bool:
        return not self.errors and all(o.passed for o in self.outcomes)

    @property
    def n_failed(self) -> int:
        return sum(not o.passed for o in self.outcomes)

    def _h5_contents(self) -> dict:
        return h5_contents(self)

    def save(self, path) -> Path:
        """Write ``results.h5`` (every case's variables and metrics, provenance) to ``path``."""
        return write_h5(self, path)

    @property
    def n_checked(self) -> int:
        """Metrics judged against a tolerance, over every case."""
        return sum(o.n_checked for o in self.outcomes)

    @property
    def n_reported(self) -> int:
        """Reported-only metrics (shown for information, not judged), over every case."""
        return sum(o.n_reported for o in self.outcomes)

    def metric_counts(self) -> str:
        """``"M checked metrics; K reported"``: reported-only rows are not counted as checks."""
        m, k = self.n_checked, self.n_reported
        return f"{m} checked metric{'s' if m != 1 else ''}; {k} reported"

    def verdict(self) -> str:
        """The banner: how many cases passed, counting only checked metrics."""
        n = len(self.outcomes)
        if n == 0:
            return "There are no validation cases in this installation: nothing was checked."
        cases = f"case{'s' if n != 1 else ''}"
        if self.n_failed == 0:
            return f"All {n} {cases} passed ({self.metric_counts()})."
        return f"{self.n_failed} of {n} {cases} failed; {n - self.n_failed} passed ({self.metric_counts()})."

    def summary(self) -> dict:
        """Cases run, passed, failed and in error; metrics judged and reported only; the run times."""
        return {
            "cases": len(self.outcomes),
            "passed": sum(o.status == "passed" for o in self.outcomes),
            "failed": sum(o.status == "failed" for o in self.outcomes),
            "errors": sum(o.status == "error" for o in self.outcomes) + len(self.errors),
            "metrics": self.n_checked,
            "reported_metrics": self.n_reported,
            "report_passed": bool(self.passed),
            "compile_s": float(self.provenance.get("compile_s", 0.0)),
            "total_runtime_s": float(self.total_s),
        }

    def plot(self, ax=None):
        """Each case's run time, coloured by status (passed, failed, error); returns ``ax``."""
        ax = new_axes(ax, figsize=(7.0, max(2.5, 0.25 * len(self.outcomes) + 1.0)))
        colours = {"passed": "C2", "failed": "C1", "error": "C3"}
        y = range(len(self.outcomes))
        ax.barh(list(y), [o.runtime_s for o in self.outcomes], color=[colours.get(o.status, "0.5") for o in self.outcomes])
        ax.set_yticks(list(y))
        ax.set_yticklabels([o.name for o in self.outcomes], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("run time [s]")
        ax.set_title(f"validation report: {self.summary()['passed']} of {len(self.outcomes)} cases passed")
        return ax


# ----------------------------------------------------------------------------------------------
# discovery


def case_modules(package: str = CASES_PACKAGE) -> list[str]:
    """Names of the modules of ``package``, sorted (nothing imported but the package)."""
    pkg = importlib.import_module(package)
    return [f"{package}.{info.name}" for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name)]


def _names(name: str, values) -> list[str] | None:
    """None, or a list of strings (a single string is not a list of names)."""
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) \
            or not all(isinstance(v, str) for v in values):
        raise InputError(f"{name} must be a list of names (or None), got {type(values).__name__} {values!r:.60}")
    return list(values)


def discover(modules=None) -> tuple[list[CaseSpec], list[CaseOutcome]]:
    """The cases of ``modules`` (default: every shipped case module), in a stable order.

    Returns ``(specs, problems)``: a module that fails to import, a ``CASES`` entry that is not a
    case, or a duplicate name becomes an ``"error"`` outcome in ``problems``.
    """
    from ..validation import Case

    modules = _names("modules", modules)
    specs: list[CaseSpec] = []
    problems: list[CaseOutcome] = []
    seen: dict[str, str] = {}
    for module in case_modules() if modules is None else modules:
        short = module.rsplit(".", 1)[-1]
        try:
            mod = importlib.import_module(module)
            cases = list(getattr(mod, "CASES", []))
        except (Exception, SystemExit) as exc:
            import traceback

            problems.append(_problem(f"{short} (import)", module, f"the case module failed to import: {type(exc).__name__}: {exc}", traceback.format_exc()))
            continue
        for i, case in enumerate(cases):
            if not isinstance(case, Case):
                problems.append(_problem(f"{short} CASES[{i}]", module, f"CASES[{i}] is a {type(case).__name__}, not a batterylab.validation.Case"))
                continue
            if case.name in seen:
                problems.append(_problem(f"{case.name} (duplicate)", module, f"case name {case.name!r} is also defined in {seen[case.name]}"))
                continue
            seen[case.name] = module
            specs.append(CaseSpec(name=case.name, module=module, title=case.title, capability=case.capability))
    return specs, problems


def _problem(name, module, error, tb="") -> CaseOutcome:
    return CaseOutcome(name=name, module=module, title="case discovery", capability="(none)", status="error", error=error, traceback=tb)


def select(specs: list[CaseSpec], names, problems=()) -> list[CaseSpec]:
    """The specs called ``names`` (in the order given); an unknown name raises, listing the valid ones."""
    by_name = {s.name: s for s in specs}
    chosen = []
    for name in names:
        if name not in by_name:
            if not by_name:
                msg = f"unknown validation case {name!r}; there are no validation cases"
                err = OptionError(msg)
            else:
                err = unknown_option("validation case", name, by_name)
            if problems:
                broken = ", ".join(sorted({p.module for p in problems}))
                err = OptionError(f"{err} (these case modules failed to load: {broken})")
            raise err
        if by_name[name] not in chosen:
            chosen.append(by_name[name])
    return chosen


# ----------------------------------------------------------------------------------------------
# running


def _pool(jobs: int, threads: int, started, isolate: bool = False):
    import multiprocessing

    from .worker import init_worker

    # spawn, never fork: a forked child of a process that has run a parallel Numba kernel (or
    # PyBaMM's own multiprocessing) can deadlock or crash.
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker, initargs=(threads, started),
        max_tasks_per_child=1 if isolate else None,
    )


def _died(spec: CaseSpec, why: str) -> CaseOutcome:
    return CaseOutcome(
        name=spec.name, module=spec.module, title=spec.title, capability=spec.capability, status="error", error=why,
    )


#: Extra time [s] the parent gives a case beyond its time limit before it stops the worker (the
#: limit inside the worker cannot interrupt compiled code).
STALL_GRACE_S = 30.0

#: How often [s] the parent looks for finished or overrunning cases.
POLL_S = 0.25

DIED = ("the worker process running this case died (a crash in compiled code or running out of "
        "memory are the usual causes)")


def _stop(executor, pid: int) -> None:
    import signal

    proc = getattr(executor, "_processes", {}).get(pid)
    try:
        if proc is not None:
            proc.terminate()
        else:
            os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass


def _run_pool(specs, quick, jobs, threads, bar, timeout_s, isolate=False) -> tuple[dict, list, bool]:
    """Run ``specs`` on one pool of ``jobs`` spawned workers.

    Returns ``(outcomes by name, specs lost to a broken pool, whether this run stopped a worker)``.
    A case still running ``STALL_GRACE_S`` after its time limit has its worker stopped and becomes
    an error row; stopping a worker breaks the pool, and the cases it held are returned as lost.
    """
    import multiprocessing
    import queue

    from .worker import run_case

    done: dict[str, CaseOutcome] = {}
    lost: list[CaseSpec] = []
    stopped = False
    started_q = multiprocessing.get_context("spawn").Queue()
    running: dict[str, tuple[int, float]] = {}
    executor = _pool(jobs, threads, started_q, isolate)
    try:
        futures = {executor.submit(run_case, s.module, s.name, quick, timeout_s): s for s in specs}
        by_name = {s.name: s for s in specs}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            while True:
                try:
                    name, pid, t_start = started_q.get_nowait()
                except queue.Empty:
                    break
                running[name] = (pid, t_start)
            for fut in finished:
                spec = futures[fut]
                running.pop(spec.name, None)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    if spec.name not in done:
                        lost.append(spec)
                    continue
                except Exception as exc:  # e.g. the outcome could not be pickled
                    import traceback

                    outcome = CaseOutcome(
                        name=spec.name, module=spec.module, title=spec.title, capability=spec.capability,
                        status="error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(),
                    )
                done[spec.name] = outcome
                bar.set_postfix_str(f"{spec.name}: {outcome.status}", refresh=False)
                bar.update(1)
            if timeout_s is None:
                continue
            now = time.time()
            for name, (pid, t_start) in list(running.items()):
                if now - t_start > timeout_s + STALL_GRACE_S and name not in done:
                    # The case is stuck where the worker's own time limit cannot reach it.
                    _stop(executor, pid)
                    stopped = True
                    running.pop(name)
                    done[name] = _died(by_name[name], (
                        f"the case did not finish within its time limit of {timeout_s:g} s "
                        f"(+{STALL_GRACE_S:g} s grace) and its worker process was stopped"))
                    bar.update(1)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        started_q.close()
    executor.shutdown(wait=True)
    started_q.join_thread()
    return done, lost, stopped


def run_cases(
    specs: list[CaseSpec], *, quick: bool = False, jobs: int | None = None, progress: bool | None = None,
    timeout_s: float | None = None, isolate: bool = False,
) -> list[CaseOutcome]:
    """Run ``specs`` in spawned worker processes; outcomes in the order of ``specs``.

    ``timeout_s`` limits each case's run time [s]; a case over the limit is an error row.
    ``isolate`` gives every case a fresh process (slower: imports and JIT compilation are not
    shared between cases; use it when a case behaves differently after another one).
    """
    from tqdm.auto import tqdm

    if not specs:
        return []
    cpus = os.cpu_count() or 1
    jobs = min(jobs or cpus, len(specs))
    with tqdm(total=len(specs), desc="validation cases", unit="case", file=sys.stderr, disable=not show_progress(progress, sys.stderr), dynamic_ncols=True) as bar:
        done, lost, stopped = _run_pool(specs, quick, jobs, max(1, cpus // jobs), bar, timeout_s, isolate)
        # A pool broken because a worker was stopped for overrunning: the others it took down run
        # again on a fresh pool.
        while lost and stopped:
            n = min(jobs, len(lost))
            again, lost, stopped = _run_pool(lost, quick, n, max(1, cpus // n), bar, timeout_s, isolate)
            done.update(again)
        # A worker that died on its own (segfault, out of memory) broke the pool: rerun each case
        # it took down alone, so that only the guilty case fails.
        for spec in lost:
            again, still, _ = _run_pool([spec], quick, 1, cpus, bar, timeout_s, isolate)
            done.update(again)
            for s in still:
                done[s.name] = _died(s, DIED)
                bar.update(1)
    return [done[s.name] for s in specs]


def run_report(
    out,
    *,
    cases=None,
    quick: bool = False,
    jobs: int | None = None,
    modules=None,
    progress: bool | None = None,
    timeout_s: float | None = DEFAULT_TIMEOUT_S,
    isolate: bool = False,
    precompile: bool | None = None,
) -> Report:
    """Run the validation cases and write ``out/report.html`` and ``out/results.h5``.

    Parameters
    ----------
    out : path
        Folder for the report (created if needed).
    cases : list of str, optional
        Names of the cases to run (default: all). An unknown name raises
        :class:`batterylab.errors.OptionError` listing the valid ones.
    quick : bool
        Run each case's quick variant (seconds per case) instead of the full one.
    jobs : int, optional
        Worker processes (default: the CPU count, at most one per case).
    modules : list of str, optional
        Import the cases from these modules instead of :mod:`batterylab.validation.cases`.
    progress : bool or None
        Show a progress bar on standard error (None: when it is a terminal).
    timeout_s : float or None
        Time limit of each case [s] (None: no limit). A case over the limit is an error row.
    isolate : bool
        Run every case in a fresh worker process (slower; by default a worker runs several cases
        and shares imports and compiled kernels between them).
    precompile : bool or None
        Compile (or load from the disk cache) every Numba kernel once in this process before the
        workers start (:func:`batterylab.report.precompile.precompile_kernels`), so that each
        case's run time is its model time and the workers do not all compile the same kernels.
        None: when the shipped cases are run (``modules`` not given). The time is
        ``provenance["compile_s"]``.

    Returns
    -------
    Report
        ``report.passed`` is False if any case failed or raised.
    """
    from .. import checks

    t0 = time.perf_counter()
    out = checks.path_like("out", out)
    checks.boolean("quick", quick)
    checks.boolean("isolate", isolate)
    checks.optional_boolean("precompile", precompile)
    checks.optional_boolean("progress", progress)
    cases = _names("cases", cases)
    modules = _names("modules", modules)
    if out.exists() and not out.is_dir():
        raise InputError(f"out must be a folder, got the file {str(out)!r}")
    jobs = checks.optional_integer("jobs", jobs, low=1)
    if timeout_s is not None:
        checks.positive("timeout_s", timeout_s, "s")
    specs, problems = discover(modules)
    notes: list[str] = []
    if cases:
        specs = select(specs, list(cases), problems)
    order = {s.name: i for i, s in enumerate(specs)}
    if cases:
        for p in problems:
            notes.append(f"not run: {p.name} in {p.module}: {p.error}")
        problems = []
    out.mkdir(parents=True, exist_ok=True)
    # Longest cases first (as long as the previous run in this folder says they are; cases it
    # does not know first of all): the run ends sooner than in discovery order.
    previous = previous_runtimes(out / RESULTS_H5, quick)
    specs = sorted(specs, key=lambda s: -previous.get(s.name, float("inf")))
    prov = provenance(jobs=min(jobs or os.cpu_count() or 1, max(len(specs), 1)), quick=quick)
    if specs and (modules is None if precompile is None else precompile):
        prov["compile_s"], problems_c = _precompile(progress, jobs)
        notes += [f"precompiling {p} (the cases compile it themselves)" for p in problems_c]
    ran = {o.name: o for o in run_cases(specs, quick=quick, jobs=jobs, progress=progress, timeout_s=timeout_s, isolate=isolate)}
    outcomes = problems + [ran[s.name] for s in sorted(specs, key=lambda s: order[s.name])]
    total = time.perf_counter() - t0
    prov["total_runtime_s"] = total
    report = Report(outcomes=outcomes, provenance=prov, quick=quick, total_s=total, warnings=notes)
    try:
        report.h5_path = write_h5(report, out / RESULTS_H5)
    except Exception as exc:  # noqa: BLE001 - the HTML report is still written, and the run fails
        report.errors.append(f"results.h5 could not be written: {type(exc).__name__}: {exc}")
    from .html import write_html

    report.total_s = time.perf_counter() - t0
    report.provenance["total_runtime_s"] = report.total_s
    report.html_path = write_html(report, out / REPORT_HTML)
    return report


def _precompile(progress, jobs) -> tuple[float, list[str]]:
    """Compile the kernels (in ``jobs`` processes at most), saying so on standard error when progress is shown."""
    from .precompile import precompile_kernels

    shown = show_progress(progress, sys.stderr)
    echo = (lambda text: print(text, file=sys.stderr, flush=True)) if shown else None
    if echo:
        echo("compiling the Numba kernels once, before the case workers start (cached on disk afterwards) ...")
    seconds, problems = precompile_kernels(echo, jobs)
    if echo:
        echo(f"compiled in {seconds:.1f} s; the run time of each case below is its model time")
    return seconds, problems


def previous_runtimes(path: Path, quick: bool) -> dict[str, float]:
    """Run time [s] of each case in an earlier ``results.h5`` of the same mode ({} if none)."""
    if not path.is_file():
        return {}
    try:
        import h5py

        with h5py.File(path, "r") as f:
            if f.attrs.get("mode") != ("quick" if quick else "full"):
                return {}
            return {
                str(g.attrs["case"]): float(g.attrs["runtime_s"])
                for g in f.values()
                if isinstance(g, h5py.Group) and "case" in g.attrs and "runtime_s" in g.attrs
            }
    except (OSError, KeyError, ValueError, TypeError):
        return {}


# ----------------------------------------------------------------------------------------------
# provenance


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_commit(root: Path | None = None) -> str:
    """The checkout's commit (with ``+modified`` if tracked files changed), or ``'unknown'``."""
    if root is None:
        root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return "unknown"
    # GIT_OPTIONAL_LOCKS=0: `git status` must not refresh (and so lock and rewrite) the user's index; a
    # report running beside an editor or a commit would otherwise make that commit fail on index.lock.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                                check=True, env=env).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True, env=env).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not commit:
        return "unknown"
    return f"{commit}+modified" if status.strip() else commit


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every data file under ``root`` (not Python sources or caches), by relative path."""
    out = {}
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix in {".py", ".pyc"} or path.name.startswith("."):
            continue
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        out[path.relative_to(root).as_posix()] = h.hexdigest()
    return out


def provenance(*, jobs: int, quick: bool) -> dict:
    """How the report was made: versions, machine, commit, data hashes."""
    from .. import parameter_sets
    from .._version import __version__

    try:
        from .. import validation

        data_root = Path(validation.__file__).resolve().parent / "data"
    except Exception:  # noqa: BLE001 - provenance must not stop the report
        data_root = Path("/nonexistent")
    return {
        "batterylab_version": __version__,
        "git_commit": git_commit(),
        "python_version": sys.version.split()[0],
        "numpy_version": _version("numpy"),
        "numba_version": _version("numba"),
        # read from the installed metadata: importing PyBaMM just to print its version is slow
        "pybamm_version": _version("pybamm"),
        "h5py_version": _version("h5py"),
        "matplotlib_version": _version("matplotlib"),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count() or 1,
        "jobs": jobs,
        "mode": "quick" if quick else "full",
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "parameter_sets_sha256": file_hashes(Path(parameter_sets.ROOT)),
        "validation_data_sha256": file_hashes(data_root),
    }


# ----------------------------------------------------------------------------------------------
# results.h5


def h5_contents(report: Report) -> dict:
    """The variables, configuration, parameter files and root attributes of ``results.h5``."""
    import numpy as np

    from ..io import Variable, h5_name

    variables: dict[str, Variable] = {}
    groups: dict[str, CaseOutcome] = {}
    rows = []
    for o in report.outcomes:
        group = h5_name(o.name)
        groups[group] = o
        for key, v in o.variables.items():
            if key.split("/")[0] == "metrics":
                key = f"variables_{key}"
            variables[f"{group}/{key}"] = Variable(data=v["data"], units=v["units"], long_name=v["long_name"], dims=v["dims"], attrs=v["attrs"])
        used = set()
        for m in o.metrics:
            leaf = h5_name(m["name"])
            while leaf in used:
                leaf += "_"
            used.add(leaf)
            attrs = {"comparison": m["comparison"], "checked": metric_checked(m), "passed": bool(m["passed"]),
                     "status": metric_status(m), "justification": m["justification"]}
            if m["tolerance"] is not None:
                attrs["tolerance"] = m["tolerance"]
            variables[f"{group}/metrics/{leaf}"] = Variable(data=np.float64(m["value"]), units=m["unit"], long_name=m["name"], dims=(), attrs=attrs)
            rows.append((o.name, m["name"], m["value"], np.nan if m["tolerance"] is None else m["tolerance"], m["unit"],
                         m["comparison"], m["passed"], metric_status(m)))
        if not o.metrics:
            rows.append((o.name, "", np.nan, np.nan, "", "", False, "fail"))
    summary = "summary" if "summary" not in groups else "report_summary"
    if rows:
        cols = list(zip(*rows))
        for key, data, units, long_name in [
            ("row", np.arange(len(rows), dtype=np.int64), "1", "Row of the summary table"),
            ("case", np.array(cols[0], dtype=str), "", "Validation case"),
            ("metric", np.array(cols[1], dtype=str), "", "Metric name"),
            ("value", np.array(cols[2], dtype=np.float64), "", "Metric value [see unit]"),
            ("tolerance", np.array(cols[3], dtype=np.float64), "", "Tolerance [see unit]; NaN when not judged"),
            ("unit", np.array(cols[4], dtype=str), "", "Unit of value and tolerance"),
            ("comparison", np.array(cols[5], dtype=str), "", "Pass rule: value <= tolerance, >= tolerance, or info"),
            ("passed", np.array(cols[6], dtype=np.int8), "1", "1 if the metric passed or is reported only (see status), else 0"),
            ("status", np.array(cols[7], dtype=str), "", "pass, fail, or reported (shown for information, not judged)"),
        ]:
            variables[f"{summary}/{key}"] = Variable(data=data, units=units, long_name=long_name, dims=("row",))
    prov = report.provenance
    config = {"quick": report.quick, "cases": [o.name for o in report.outcomes], "jobs": prov.get("jobs")}
    from .. import parameter_sets

    param_files = [Path(parameter_sets.ROOT) / rel for rel in prov.get("parameter_sets_sha256", {})]
    attrs = {
        "title": "batterylab validation report",
        "report_passed": bool(report.passed),
        "n_cases": len(report.outcomes),
        "n_failed": report.n_failed,
        "total_runtime_s": float(prov.get("total_runtime_s", report.total_s)),
        "parameter_sets_sha256_json": json.dumps(prov.get("parameter_sets_sha256", {}), sort_keys=True),
        "validation_data_sha256_json": json.dumps(prov.get("validation_data_sha256", {}), sort_keys=True),
    }
    for key, value in prov.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            attrs.setdefault(key, value)
    return {"variables": variables, "config": config, "parameter_files": param_files, "attrs": attrs, "groups": groups}


def write_h5(report: Report, path) -> Path:
    """Write every case's variables and metrics (with units) and the provenance, atomically."""
    import h5py

    from ..io import atomic_path, write_results

    c = h5_contents(report)
    groups = c["groups"]
    path = Path(path)
    with atomic_path(path, suffix=".h5.tmp") as tmp:
        write_results(tmp, c["variables"], config=c["config"], parameter_files=c["parameter_files"], attrs=c["attrs"])
        with h5py.File(tmp, "a") as f:
            for group, o in groups.items():
                g = f.require_group(group)
                g.attrs["case"] = o.name
                g.attrs["module"] = o.module
                for key in ("title", "capability", "reference", "validity", "description", "status", "error", "notes"):
                    g.attrs[key] = getattr(o, key)
                g.attrs["passed"] = bool(o.passed)
                g.attrs["runtime_s"] = float(o.runtime_s)
    return path
