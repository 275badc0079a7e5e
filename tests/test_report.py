"""The validation report: runner, HTML, HDF5, CLI, a real browser, and the real cases.

Most tests run a small test-only case module (written to a temporary folder and put on
``sys.path``, which spawned workers inherit) so that they are fast and do not depend on the other
areas' cases. ``test_real_quick_report_runs_every_case`` runs the real ``batterylab report --quick``
over every shipped case: it is the one place in the suite where all validation cases run.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from batterylab.errors import InputError, OptionError
from batterylab.report import cli as report_cli
from batterylab.report.runner import discover, run_report
from batterylab.report.worker import collect, CaseOutcome, png_size, plain_variables

DEMO_MODULE = "batterylab_report_demo_cases"
EMPTY_MODULE = "batterylab_report_no_cases"

DEMO_SOURCE = textwrap.dedent(
    '''
    """Test-only validation cases for tests/test_report.py."""
    import os

    import numpy as np
    from matplotlib.figure import Figure

    from batterylab.io import Variable
    from batterylab.validation import Case, CaseResult, Metric


    def _overlay(t, model, ref):
        fig = Figure(figsize=(6, 4))
        ax, res = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        ax.plot(t, ref, "k.", label="reference")
        ax.plot(t, model, "C0-", label="model")
        ax.set_title("model vs reference")
        ax.legend()
        res.plot(t, (model - ref) * 1e3, "C3-")
        res.set_xlabel("time [s]")
        res.set_ylabel("residual [mV]")
        return fig


    def run_pass(quick):
        t = np.linspace(0.0, 10.0, 21 if quick else 201)
        ref = 3.0 + 0.1 * np.sin(t)
        model = ref + 1e-3 * np.cos(3 * t)
        rmse = float(np.sqrt(np.mean((model - ref) ** 2)))
        return CaseResult(
            metrics=[
                Metric("voltage RMSE", rmse, 0.01, "V", "<=", "10 mV: the reference's quoted accuracy"),
                Metric("points", float(t.size), None, "", "info"),
                Metric("R2", 0.999, 0.99, "", ">=", "score"),
                Metric("worker pid", float(os.getpid()), None, "", "info"),
            ],
            figures=[_overlay(t, model, ref), (Figure(figsize=(3, 2)), "an empty second figure")],
            variables={
                "time_s": Variable(t, "s", "Time [s]", ("time_s",)),
                "voltage_V": Variable(model, "V", "Terminal voltage [V]", ("time_s",)),
                "reference/voltage_V": Variable(ref, "V", "Reference terminal voltage [V]"),
                "label": Variable(np.array(["a", "b"]), "", "Labels"),
            },
            tables=[("Table <with> markup & friends", ["quantity", "value"], [["rate", 1.5], ["cells", np.int64(3)], ["ok", True]])],
            notes="quick" if quick else "full <script>alert(1)</script>",
        )


    def run_fail(quick):
        return CaseResult(metrics=[Metric("capacity error", 0.5, 0.1, "Ah", "<=", "deliberately failing"),
                                   Metric("worker pid", float(os.getpid()), None, "", "info")])


    def run_error(quick):
        raise RuntimeError("deliberate failure inside the demo case")


    CASES = [
        Case("demo_pass", "A passing demo case", "demo capability", "Doe et al. 2020, doi:10.0000/demo", "0 to 10 s", run_pass, "A sine."),
        Case("demo_fail", "A failing demo case", "demo capability", "none", "none", run_fail),
        Case("demo_error", "A demo case that raises", "demo capability", "none", "none", run_error),
    ]
    def run_sleep(quick):
        import time
        time.sleep(60)


    def run_stuck(quick):
        # like a long call into compiled code: the worker's SIGALRM time limit cannot interrupt it
        import signal, time
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)


    if os.environ.get("BATTERYLAB_DEMO_SLOW"):
        CASES.append(Case("demo_sleep", "A case that sleeps", "demo", "none", "none", run_sleep))
        CASES.append(Case("demo_stuck", "A case stuck in compiled code", "demo", "none", "none", run_stuck))
    if os.environ.get("BATTERYLAB_DEMO_CRASH"):
        CASES.append(Case("demo_crash", "A case that kills its worker", "demo", "none", "none", lambda quick: os._exit(3)))
    '''
)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    """A folder holding the demo case modules, put on sys.path for this module's tests."""
    folder = tmp_path_factory.mktemp("demo_cases")
    (folder / f"{DEMO_MODULE}.py").write_text(DEMO_SOURCE)
    (folder / f"{EMPTY_MODULE}.py").write_text("CASES = []\n")
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    for name in (DEMO_MODULE, EMPTY_MODULE):
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def demo_report(demo_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    report = run_report(out, quick=False, jobs=2, modules=[DEMO_MODULE], progress=False)
    return report, out


def test_results_h5_opens_as_a_datatree_with_named_dimensions(demo_report):
    pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    from datatree_check import assert_named_datatree

    _, out = demo_report
    assert_named_datatree(out / "results.h5")


def test_outcomes_pass_fail_and_error(demo_report):
    report, _ = demo_report
    by_name = {o.name: o for o in report.outcomes}
    assert [o.name for o in report.outcomes] == ["demo_pass", "demo_fail", "demo_error"]
    assert by_name["demo_pass"].status == "passed"
    assert by_name["demo_fail"].status == "failed"
    assert by_name["demo_error"].status == "error"
    assert "deliberate failure inside the demo case" in by_name["demo_error"].error
    assert "RuntimeError" in by_name["demo_error"].traceback
    assert not report.passed and report.n_failed == 2
    # figures come back rendered, as PNG bytes, with their size read from the PNG header
    figs = by_name["demo_pass"].figures
    assert len(figs) == 2 and figs[0]["png"].startswith(b"\x89PNG") and figs[0]["width"] > 100
    assert figs[1]["caption"] == "an empty second figure"
    assert all(o.runtime_s > 0 for o in report.outcomes)


def test_html_is_self_contained_and_summary_comes_first(demo_report):
    report, out = demo_report
    text = (out / "report.html").read_text()
    summary = text.index('<section id="summary">')
    assert summary < text.index('id="case-demo_pass"') < text.index('id="case-demo_fail"')
    # every case name, metric and the error's message and traceback are in the page
    for needle in ("demo_pass", "demo_fail", "demo_error", "voltage RMSE", "deliberate failure inside the demo case",
                   "Traceback", "Doe et al. 2020, doi:10.0000/demo", "0 to 10 s", "demo capability"):
        assert needle in text, needle
    # the summary table has the columns asked for, in order
    head = re.search(r'<table class="summary">.*?</thead>', text, re.S).group(0)
    cols = re.findall(r"<th[^>]*>(.*?)</th>", head)
    assert cols == ["case", "capability", "metric", "value", "unit", "tolerance", "result"]
    assert text.count('<img src="data:image/png;base64,') == 2
    # reported-only rows (no tolerance) say so and are not counted as checks in the banner
    assert "2 of 3 cases failed; 1 passed (3 checked metrics; 3 reported)." in text
    points = re.search(r'<tr class="(\w+)">\s*<td>points</td>.*?<td class="result">(.*?)</td>', text, re.S)
    assert points.groups() == ("reported", "reported"), points.group(0)
    rmse = re.search(r'<tr class="(\w+)">\s*<td>voltage RMSE</td>.*?<td class="result">(.*?)</td>', text, re.S)
    assert rmse.groups() == ("pass", "pass"), rmse.group(0)
    # nothing external: no http(s) or protocol-relative URLs, no external scripts or stylesheets
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text and "<script" not in text
    # case text is escaped, not interpreted
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Table &lt;with&gt; markup &amp; friends" in text
    # provenance
    for needle in ("git commit", "NumPy", "Numba", "PyBaMM", "CPU count", "Parameter-set files", "Run time per case"):
        assert needle in text, needle


def test_results_h5_has_a_group_per_case_with_units(demo_report):
    report, out = demo_report
    with h5py.File(out / "results.h5", "r") as f:
        assert {"demo_pass", "demo_fail", "demo_error"} <= set(f)
        g = f["demo_pass"]
        assert g.attrs["status"] == "passed" and g.attrs["reference"].startswith("Doe")
        np.testing.assert_allclose(g["time_s"][()], np.linspace(0, 10, 201))
        assert g["voltage_V"].attrs["units"] == "V"
        assert g["reference/voltage_V"].attrs["long_name"] == "Reference terminal voltage [V]"
        m = g["metrics/voltage RMSE"]
        assert m.attrs["units"] == "V" and m.attrs["tolerance"] == 0.01 and bool(m.attrs["passed"])
        assert 0 < m[()] < 0.01
        assert not bool(f["demo_fail/metrics/capacity error"].attrs["passed"])
        assert f["demo_error"].attrs["status"] == "error"
        assert "deliberate failure" in f["demo_error"].attrs["error"]
        assert not bool(f.attrs["report_passed"]) and f.attrs["n_failed"] == 2
        assert "numba_version" in f.attrs and "git_commit" in f.attrs
        assert json.loads(f.attrs["configuration_json"])["cases"] == ["demo_pass", "demo_fail", "demo_error"]
        summary_cases = f["summary/case"].asstr()[()]
        assert list(summary_cases).count("demo_pass") == 4
    # the summary is a table with a named row dimension for xarray / pandas
    import xarray as xr

    with xr.open_dataset(out / "results.h5", group="summary", engine="h5netcdf", phony_dims="sort") as ds:
        table = ds.to_dataframe()
    assert list(table["case"]) == ["demo_pass"] * 4 + ["demo_fail"] * 2 + ["demo_error"]
    assert list(table["passed"]) == [1, 1, 1, 1, 0, 1, 0]
    assert list(table["status"]) == ["pass", "reported", "pass", "reported", "fail", "reported", "fail"]
    with h5py.File(out / "results.h5", "r") as f:
        assert f["demo_pass/metrics/points"].attrs["status"] == "reported"
        assert not bool(f["demo_pass/metrics/points"].attrs["checked"])
    assert report.summary()["metrics"] == 3 and report.summary()["reported_metrics"] == 3
    # the next run in this folder starts with the longest cases: it reads these run times back
    from batterylab.report.runner import previous_runtimes

    runtimes = previous_runtimes(out / "results.h5", quick=False)
    assert runtimes == {o.name: pytest.approx(o.runtime_s) for o in report.outcomes}
    assert previous_runtimes(out / "results.h5", quick=True) == {}
    # no temporary files left behind by the atomic writes; the files are as readable as any other
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "results.h5"]
    mask = os.umask(0)
    os.umask(mask)
    for name in ("report.html", "results.h5"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~mask


def test_unknown_case_lists_the_valid_ones(demo_path, tmp_path):
    with pytest.raises(OptionError, match="demo_error, demo_fail, demo_pass"):
        run_report(tmp_path, cases=["nope"], modules=[DEMO_MODULE], progress=False)
    assert not (tmp_path / "report.html").exists()


def test_cli_unknown_case_is_a_one_line_error(demo_path, tmp_path, capsys):
    from batterylab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["report", "--out", str(tmp_path), "--module", DEMO_MODULE, "--case", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown validation case 'nope'; valid validation cases are: demo_error, demo_fail, demo_pass" in err


def test_bad_arguments(demo_path, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="out must be a folder"):
        run_report(tmp_path / "file", modules=[EMPTY_MODULE], progress=False)
    with pytest.raises(InputError, match="jobs"):
        run_report(tmp_path, jobs=0, modules=[EMPTY_MODULE], progress=False)


def test_zero_cases_still_give_a_valid_report(demo_path, tmp_path):
    report = run_report(tmp_path, modules=[EMPTY_MODULE], progress=False)
    assert report.outcomes == [] and report.passed
    assert "There are no validation cases" in (tmp_path / "report.html").read_text()
    with h5py.File(tmp_path / "results.h5", "r") as f:
        assert f.attrs["n_cases"] == 0 and "batterylab_version" in f.attrs


def test_results_h5_failure_still_writes_the_html_and_fails(demo_path, tmp_path, monkeypatch):
    from batterylab.report import runner

    def broken(report, path):
        raise OSError("disk full")

    monkeypatch.setattr(runner, "write_h5", broken)
    report = run_report(tmp_path, modules=[EMPTY_MODULE], progress=False)
    assert not report.passed and report.h5_path is None
    assert "results.h5 could not be written: OSError: disk full" in (tmp_path / "report.html").read_text()


def test_module_that_fails_to_import_is_a_failed_row(tmp_path, monkeypatch):
    (tmp_path / "batterylab_report_broken_cases.py").write_text("raise ImportError('no such dependency')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    specs, problems = discover(["batterylab_report_broken_cases"])
    assert specs == [] and len(problems) == 1
    assert "no such dependency" in problems[0].error and problems[0].status == "error"


def test_collect_rejects_what_cannot_be_stored():
    from batterylab.io import Variable
    from batterylab.validation import CaseResult, Metric

    with pytest.raises(TypeError, match="must be a batterylab.io.Variable"):
        plain_variables({"x": np.arange(3.0)})
    with pytest.raises(ValueError, match="coordinate 'time_s' has length 3"):
        plain_variables({"time_s": Variable(np.arange(3.0), "s", "t", ("time_s",)),
                         "v": Variable(np.arange(4.0), "V", "v", ("time_s",))})
    with pytest.raises(ValueError, match="also used as a group"):
        plain_variables({"a": Variable(np.arange(3.0), "s", "t"), "a/b": Variable(np.arange(3.0), "s", "t")})
    odd = plain_variables({"x": Variable(np.arange(2.0), "V", "x", attrs={"config": {"a": 1}, "n": 3, "v": [1.0, 2.0]})})
    assert odd["x"]["attrs"]["config"] == '{"a": 1}' and odd["x"]["attrs"]["n"] == 3
    np.testing.assert_array_equal(odd["x"]["attrs"]["v"], [1.0, 2.0])
    out = collect(CaseResult(metrics=[]), CaseOutcome(name="x", module="m"))
    assert out.status == "failed" and "no metrics" in out.error
    only_reported = collect(CaseResult(metrics=[Metric("e", 1.0, None, "V", "info")]), CaseOutcome(name="x", module="m"))
    assert only_reported.status == "failed" and "reported only" in only_reported.error
    nan = collect(CaseResult(metrics=[Metric("e", float("nan"), 1.0)]), CaseOutcome(name="x", module="m"))
    assert nan.status == "failed"
    with pytest.raises(ValueError, match="comparison"):
        collect(CaseResult(metrics=[Metric("e", 1.0, 1.0, comparison="<")]), CaseOutcome(name="x", module="m"))


def test_png_size_reads_the_header():
    from matplotlib.figure import Figure
    import io

    buf = io.BytesIO()
    Figure(figsize=(2, 1)).savefig(buf, format="png", dpi=50)
    assert png_size(buf.getvalue()) == (100, 50)


def test_cli_exit_status_and_terminal_summary(demo_path, tmp_path):
    runner = CliRunner()
    res = runner.invoke(report_cli.report, ["--out", str(tmp_path), "--module", DEMO_MODULE, "--case", "demo_fail", "--no-progress"])
    assert res.exit_code == 1, res.output
    assert re.search(r"demo_fail\s+demo capability\s+capacity error\s+0\.5\s+Ah\s+\u2264 0\.1\s+FAIL", res.output)
    assert "FAILED: 0 of 1 cases passed (1 checked metric; 1 reported)" in res.output
    assert re.search(r"demo_fail\s+demo capability\s+worker pid\s+\d+\s+\u2014 \(reported\)\s+reported", res.output), res.output
    res = runner.invoke(report_cli.report, ["--module", DEMO_MODULE, "--list"])
    assert res.exit_code == 0 and "demo_pass\tdemo capability" in res.output
    # --isolate: every case in a fresh worker process
    res = runner.invoke(report_cli.report, ["--out", str(tmp_path), "--module", DEMO_MODULE, "--case", "demo_fail",
                                            "--case", "demo_pass", "--isolate", "--jobs", "1", "--no-progress"])
    assert res.exit_code == 1, res.output
    with h5py.File(tmp_path / "results.h5", "r") as f:
        assert f["demo_fail/metrics/worker pid"][()] != f["demo_pass/metrics/worker pid"][()]


def test_kernels_are_compiled_once_before_the_workers(demo_path, tmp_path, capsys, monkeypatch):
    """The shipped report compiles every kernel the cases use into the disk cache before it spawns
    the workers (in parallel processes, here in an empty cache), says so, and keeps the time
    apart from the cases' model times."""
    cache = tmp_path / "numba-cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))  # read by the compiling processes
    report = run_report(tmp_path, cases=["demo_pass"], modules=[DEMO_MODULE], progress=True, precompile=True)
    err = capsys.readouterr().err
    assert "compiling the Numba kernels once, before the case workers start" in err
    assert "the run time of each case below is its model time" in err
    assert report.provenance["compile_s"] > 0 and report.summary()["compile_s"] == report.provenance["compile_s"]
    assert not report.warnings, report.warnings  # no part failed to compile
    cached = {p.name.split("-")[0] for p in cache.rglob("*.nbi")}
    for kernel in ("aging.integrate_fleet", "aging.integrate_fleet_windows", "aging.rainflow_count", "pcm.enthalpy_1d",
                   "pcm.lumped_two_node", "pcm.enthalpy_of_temperature", "pcm.temperature_of_enthalpy",
                   "station.station_chunk", "interpolate.barycentric"):
        assert kernel in cached, kernel  # on disk for the workers to load
    text = (tmp_path / "report.html").read_text()
    assert "compiling the Numba kernels once, before the cases ran" in text
    assert "(model time: the kernels were compiled before the cases ran)" in text
    with h5py.File(tmp_path / "results.h5", "r") as f:
        assert f.attrs["compile_s"] == pytest.approx(report.provenance["compile_s"])
    # a report of other modules (the demo cases here) does not compile by default
    plain = run_report(tmp_path / "plain", cases=["demo_pass"], modules=[DEMO_MODULE], progress=False)
    assert "compile_s" not in plain.provenance


def test_a_case_that_kills_its_worker_fails_alone(demo_path, tmp_path, monkeypatch):
    monkeypatch.setenv("BATTERYLAB_DEMO_CRASH", "1")
    sys.modules.pop(DEMO_MODULE, None)
    try:
        report = run_report(tmp_path, cases=["demo_crash", "demo_fail"], modules=[DEMO_MODULE], jobs=1, progress=False)
    finally:
        sys.modules.pop(DEMO_MODULE, None)
    by_name = {o.name: o for o in report.outcomes}
    assert by_name["demo_crash"].status == "error" and "died" in by_name["demo_crash"].error
    assert by_name["demo_fail"].status == "failed" and by_name["demo_fail"].metrics


def test_cases_over_their_time_limit_fail_alone(demo_path, tmp_path, monkeypatch):
    from batterylab.report import runner

    monkeypatch.setenv("BATTERYLAB_DEMO_SLOW", "1")
    monkeypatch.setattr(runner, "STALL_GRACE_S", 1.0)
    sys.modules.pop(DEMO_MODULE, None)
    try:
        report = run_report(tmp_path, cases=["demo_sleep", "demo_stuck", "demo_fail"], modules=[DEMO_MODULE],
                            jobs=2, progress=False, timeout_s=1.0)
    finally:
        sys.modules.pop(DEMO_MODULE, None)
    by_name = {o.name: o for o in report.outcomes}
    assert by_name["demo_sleep"].status == "error" and "time limit of 1 s" in by_name["demo_sleep"].error
    assert "in run_sleep" in by_name["demo_sleep"].traceback  # where it was stuck
    assert by_name["demo_stuck"].status == "error" and "worker process was stopped" in by_name["demo_stuck"].error
    assert by_name["demo_fail"].status == "failed"


# ---------------------------------------------------------------------------------------------
# a real browser

CHECK_SCRIPT = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href)) || 'resource'));
}, true);
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('rejection: ' + e.reason); });
['error', 'warn'].forEach(function (level) {
  var orig = console[level];
  console[level] = function () {
    window.__errors.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' '));
    orig.apply(console, arguments);
  };
});
window.addEventListener('load', function () {
  var broken = [];
  for (var i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (!img.complete || img.naturalWidth === 0) broken.push(i);
  }
  // every case section must hold a figure that the browser drew
  var noFigure = [];
  document.querySelectorAll('section.case').forEach(function (sec) {
    var drawn = Array.prototype.some.call(sec.querySelectorAll('figure img'), function (img) {
      return img.complete && img.naturalWidth > 0;
    });
    if (!drawn) noFigure.push(sec.id);
  });
  // a reported-only row (no tolerance) must never carry a "pass" badge
  var reported = 0, reportedAsPass = [];
  document.querySelectorAll('tr').forEach(function (tr) {
    var result = tr.querySelector('td.result');
    if (!result) return;
    var isReported = tr.textContent.indexOf('(reported)') >= 0;
    if (isReported) reported++;
    if (isReported && result.textContent.trim() !== 'reported') reportedAsPass.push(tr.textContent.trim().slice(0, 120));
    if (result.textContent.trim() === 'reported' && !isReported) reportedAsPass.push('reported badge on a checked row: ' + tr.textContent.trim().slice(0, 120));
  });
  var out = document.createElement('pre');
  out.id = '__browser_check';
  out.textContent = JSON.stringify({images: document.images.length, broken: broken, errors: window.__errors,
                                    tables: document.querySelectorAll('table').length,
                                    cases: document.querySelectorAll('section.case').length, no_figure: noFigure,
                                    reported_rows: reported, reported_not_marked: reportedAsPass,
                                    verdict: (document.querySelector('p.verdict') || {textContent: ''}).textContent.trim()});
  document.body.appendChild(out);
});
</script>"""


def _chromium():
    for name in ("chromium", "chromium-browser"):
        exe = shutil.which(name)
        if exe:
            return exe
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed, and CI is set: the browser check must run in CI (apt-get install chromium)")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser check runs in CI")


def _run_chromium(exe, tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def browser_check(exe, page: Path, tmp_path) -> tuple[dict, list[str]]:
    """Open a copy of ``page`` with a probe script; return the probe's findings and console lines."""
    text = page.read_text()
    probed = page.with_name(page.stem + ".probe.html")
    probed.write_text(text.replace('<meta charset="utf-8">', '<meta charset="utf-8">' + CHECK_SCRIPT, 1))
    res = _run_chromium(exe, tmp_path, "--virtual-time-budget=10000", "--dump-dom", probed.resolve().as_uri())
    found = re.search(r'<pre id="__browser_check">(.*?)</pre>', res.stdout, re.S)
    assert found, f"the page did not finish loading in chromium:\n{res.stderr[-3000:]}"
    console = [line for line in res.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(html.unescape(found.group(1))), console


def test_report_renders_in_headless_chromium(demo_report, tmp_path):
    exe = _chromium()
    _, out = demo_report
    page = tmp_path / "report.html"
    shutil.copy(out / "report.html", page)

    # the probe can fail: a page with a broken image and a script error is caught
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                   '<img src="data:image/png;base64,AAAA"><script>console.error("boom")</script>'
                   '<section class="case" id="case-x"><figure><img src="data:image/png;base64,AAAA"></figure>'
                   '<table><tr><td>m</td><td>\u2014 (reported)</td><td class="result">pass</td></tr></table></section>'
                   '</body></html>')
    found, console = browser_check(exe, bad, tmp_path)
    assert found["broken"] == [0, 1] and any("boom" in e for e in found["errors"]) and console
    assert found["no_figure"] == ["case-x"] and len(found["reported_not_marked"]) == 1, found

    found, console = browser_check(exe, page, tmp_path)
    assert found["images"] == 2, found
    # the figure check can fail: the two demo cases without figures are found
    assert found["cases"] == 3 and found["no_figure"] == ["case-demo_fail", "case-demo_error"], found
    # the three reported-only metrics, each in the summary and in its case's table, say "reported"
    assert found["reported_rows"] == 6 and found["reported_not_marked"] == [], found
    assert found["verdict"] == "2 of 3 cases failed; 1 passed (3 checked metrics; 3 reported).", found
    assert found["broken"] == [], f"images that did not load: {found['broken']}"
    assert found["errors"] == [], found["errors"]
    assert console == [], console
    assert found["tables"] >= 4

    shot = tmp_path / "report-screenshot.png"
    res = _run_chromium(exe, tmp_path, "--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}", page.resolve().as_uri())
    assert shot.exists(), res.stderr[-3000:]
    width, height = png_size(shot.read_bytes())
    assert (width, height) == (1280, 2400)
    print(f"report screenshot: {shot}")


# ---------------------------------------------------------------------------------------------
# the real cases


@pytest.mark.slow
def test_real_quick_report_runs_every_case(tmp_path):
    """``batterylab report --quick`` over every shipped case: exit 0, every case in HTML and HDF5."""
    with warnings.catch_warnings():
        # which warnings count is the report's business (it runs outside pytest's error filter)
        warnings.simplefilter("ignore")
        specs, problems = discover()
    assert not problems, [f"{p.name}: {p.error}" for p in problems]
    out = tmp_path / "report"
    res = subprocess.run([sys.executable, "-m", "batterylab", "report", "--quick", "--no-progress", "--out", str(out)],
                         capture_output=True, text=True, timeout=900)
    print(res.stdout)
    assert res.returncode == 0, f"{res.stdout}\n{res.stderr[-5000:]}"
    text = (out / "report.html").read_text()
    if not specs:
        assert "There are no validation cases" in text
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["n_cases"] == len(specs) and bool(f.attrs["report_passed"])
        for spec in specs:
            anchor = "case-" + re.sub(r"[^A-Za-z0-9_-]+", "-", spec.name).strip("-")
            assert f'id="{anchor}"' in text and f'href="#{anchor}"' in text, spec.name
            group = spec.name.replace("/", "_")
            assert group in f, spec.name
            assert f[group].attrs["status"] == "passed", spec.name
            assert len(f[group]["metrics"]) >= 1, spec.name

            def has_units(name, obj, case=spec.name):
                if isinstance(obj, h5py.Dataset):
                    assert "units" in obj.attrs, f"{case}/{name} has no units"

            f[group].visititems(has_units)
    from datatree_check import assert_named_datatree

    assert_named_datatree(out / "results.h5")  # every case's group, swap_policies' included

    # in a real browser: every case section shows a figure, and no reported-only row says "pass"
    exe = _chromium()
    found, console = browser_check(exe, out / "report.html", tmp_path)
    assert found["cases"] == len(specs), found
    assert found["broken"] == [] and found["errors"] == [] and console == [], found
    assert found["no_figure"] == [], f"case sections without a figure: {found['no_figure']}"
    assert found["reported_rows"] > 0 and found["reported_not_marked"] == [], found["reported_not_marked"]
    assert re.fullmatch(rf"All {len(specs)} cases passed \(\d+ checked metrics; \d+ reported\)\.", found["verdict"]), found
    shot = Path(os.environ.get("BATTERYLAB_REPORT_SCREENSHOT", tmp_path / "quick-report.png"))
    res = _run_chromium(exe, tmp_path, "--hide-scrollbars", "--window-size=1280,6000", f"--screenshot={shot}",
                        (out / "report.html").resolve().as_uri())
    assert shot.exists(), res.stderr[-3000:]
    print(f"report screenshot: {shot}")

def test_git_commit_does_not_touch_the_index(tmp_path):
    """`git status` refreshes (locks and rewrites) a stale index unless optional locks are off; the
    report must leave the user's index alone, so a commit running beside it never meets index.lock."""
    import shutil

    from batterylab.report.runner import git_commit

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    run = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True, env=env)  # noqa: E731
    run("init", "-q")
    (tmp_path / "f.txt").write_text("a\n")
    run("add", "f.txt")
    run("commit", "-q", "-m", "x")
    index = tmp_path / ".git" / "index"
    before = index.stat().st_mtime_ns
    future = time.time() + 5
    os.utime(tmp_path / "f.txt", (future, future))  # stat data differs from the index: status would refresh it
    commit = git_commit(tmp_path)
    assert len(commit) == 40 and "+modified" not in commit
    assert index.stat().st_mtime_ns == before
    (tmp_path / "f.txt").write_text("b\n")
    assert git_commit(tmp_path).endswith("+modified")
    assert index.stat().st_mtime_ns == before
