"""Second-life grading pipeline and the ``batterylab grade`` command."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from batterylab.grading.batch import GradeConfig, grade_directory, grade_records
from batterylab.grading.readers import write_cell_record
from batterylab.grading.synthetic import make_batch, make_cell

DATA = Path(__file__).resolve().parent / "data" / "grading"


def _folder(tmp_path, n_syn=12):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(DATA / "calce_CS2_33_8_17_10_arbin.csv", d / "calce_fresh.csv")
    shutil.copy(DATA / "doe_xcel_p492-13-summary.csv", d / "doe.csv")
    (d / "calce_fresh.meta.json").write_text(json.dumps({"nominal_capacity_Ah": 1.1, "chemistry": "lco-graphite"}))
    recs, truths = make_batch(n_syn, seed=5, soft_short_fraction=0.0)
    for r in recs:
        write_cell_record(d / f"{r.cell_id}.h5", r)
    # one soft-short cell and one over-discharged cell
    bad, _ = make_cell("shorted", LLI=0.05, rest_slope_V_per_h=-0.08)
    bad.metadata.update({"bol_resistance_ohm": 0.0386, "history": "synthetic"})
    write_cell_record(d / "shorted.h5", bad)
    od, _ = make_cell("overdischarged", LLI=0.05, intake_voltage_V=1.1)
    od.metadata.update({"bol_resistance_ohm": 0.0386, "history": "synthetic"})
    write_cell_record(d / "overdischarged.h5", od)
    (d / "corrupt.csv").write_bytes(b"\x00\x01\x02garbage\n")
    (d / "metadata.json").write_text(json.dumps({"defaults": {"history": "test batch, BMS logs"}}))
    return d, recs, truths


def _rows(path):
    with open(path) as fh:
        return {r["cell_id"]: r for r in csv.DictReader(fh)}


def test_grade_directory_mixed_folder(tmp_path):
    d, recs, truths = _folder(tmp_path)
    out = tmp_path / "out"
    s = grade_directory(d, out, GradeConfig(chemistry="nmc-graphite", new_pack_price_per_kWh=120.0, series=2, parallel=2,
                                            second_life=False), workers=1, progress=False)
    rows = _rows(out / "grades.csv")
    assert set(rows) >= {"calce_fresh", "doe", "corrupt", "shorted", "overdischarged"} | {r.cell_id for r in recs}
    # the corrupt file is one error row naming the file; the batch went on
    assert rows["corrupt"]["status"] == "error" and "corrupt.csv" in rows["corrupt"]["error"]
    assert rows["shorted"]["grade"] == "recycle" and "self-discharge outlier" in rows["shorted"]["failed_checks"]
    assert rows["overdischarged"]["grade"] == "recycle" and "over-discharged" in rows["overdischarged"]["failed_checks"]
    # the DOE file has no nominal capacity: the row says so instead of guessing
    assert rows["doe"]["grade"] == "incomplete" and "soh" in rows["doe"]["missing"]
    # the real CALCE file: capacity from the cycler counter of its full test, SOH against the sidecar's 1.1 Ah
    assert float(rows["calce_fresh"]["soh"]) == pytest.approx(1.16 / 1.1, rel=0.02)
    # synthetic cells: SOH, resistance and modes measured against the known truth
    for r, t in zip(recs, truths):
        row = rows[r.cell_id]
        assert float(row["capacity_Ah"]) == pytest.approx(t.capacity_Ah, rel=5e-6)  # CSV keeps 6 digits
        # the synthetic voltage carries 0.1 mV noise: two samples at 2.5 A give sigma_R = 5.7e-5 ohm; allow 4 sigma
        assert float(row["resistance_ohm"]) == pytest.approx(t.resistance_ohm, abs=2.3e-4)
        assert abs(float(row["LLI"]) - t.LLI) < 0.01 and abs(float(row["LAM_NE"]) - t.LAM_NE) < 0.01
        assert row["grade"] in ("reuse", "repurpose", "recycle")
        if row["grade"] != "recycle":
            assert float(row["residual_value"]) > 0
    # evidence records, HDF5 with units, modules and the summary page
    ev = [json.loads(line) for line in (out / "evidence.jsonl").read_text().splitlines()]
    assert len(ev) == len(rows) and all("batterylab_version" in e for e in ev)
    syn = next(e for e in ev if e["cell_id"] == recs[0].cell_id)
    assert "capacity" in syn["tests"] and "ocv_fit" in syn["models"] and syn["thresholds"]["bands"][0]["min_soh"] == 0.8
    from batterylab.io import read_results

    v, attrs = read_results(out / "measurements.h5")
    assert v["soh"].units == "1" and v["capacity_Ah"].units == "Ah" and len(v["cell_id"].data) == len(rows)
    assert "bands_default.json" in attrs["parameter_set_sha256_json"]
    html = (out / "summary.html").read_text()
    assert "Second-life grading summary" in html and "corrupt" in html
    if "modules" in s["outputs"]:
        mods = list(csv.DictReader((out / "modules.csv").read_text().splitlines()))
        assert all(len(m["cells"].split("|")) == 2 for m in mods)


def test_rerun_skips_and_force_remeasures(tmp_path):
    d, _, _ = _folder(tmp_path, n_syn=3)
    out = tmp_path / "out"
    cfg = GradeConfig(chemistry="nmc-graphite", second_life=False)
    first = grade_directory(d, out, cfg, workers=1, progress=False)
    assert first["n_reused_files"] == 0
    again = grade_directory(d, out, cfg, workers=1, progress=False)
    assert again["n_measured_files"] == 0 and again["n_reused_files"] == first["n_files"]
    assert (out / "grades.csv").read_text().splitlines()[1:] == (out / "grades.csv").read_text().splitlines()[1:]
    (d / "metadata.json").write_text(json.dumps({"defaults": {"history": "changed"}}))
    assert grade_directory(d, out, cfg, workers=1, progress=False)["n_measured_files"] == first["n_files"]
    assert grade_directory(d, out, cfg, workers=1, progress=False, force=True)["n_measured_files"] == first["n_files"]


def test_cli_grade_parallel_spawn(tmp_path):
    from batterylab.grading.cli import grade

    d, _, _ = _folder(tmp_path, n_syn=6)
    out = tmp_path / "out"
    res = CliRunner().invoke(grade, [str(d), "--out", str(out), "--chemistry", "nmc-graphite", "--price", "100",
                                     "--modules", "2x2", "--jobs", "2", "--no-progress", "--no-second-life"])
    assert res.exit_code == 0, res.output
    assert "graded" in res.output and (out / "grades.csv").is_file() and (out / "summary.html").is_file()
    res = CliRunner().invoke(grade, [str(d), "--out", str(out), "--chemistry", "unobtainium"])
    assert res.exit_code != 0 and "nmc-graphite" in str(res.exception)
    res = CliRunner().invoke(grade, [str(d), "--out", str(out), "--modules", "four"])
    assert res.exit_code != 0 and "SERIESxPARALLEL" in str(res.exception)


def test_grade_records_in_memory_pulse_only_and_missing_metadata():
    from batterylab.grading.readers import read_pulse_table_csv

    thu = read_pulse_table_csv(Path(__file__).resolve().parents[1] / "validation" / "data" / "grading" / "thu_pulse_voltage_Cylind21.csv")[:3]
    for r in thu:
        r.cycles = {}  # no capacity test: the SOH must come from the pulse screening, with sigma
    rec, _ = make_cell("nometa", with_timeseries=True)
    rec.metadata = {}
    records, _ = grade_records(thu + [rec], GradeConfig(chemistry="nmc-graphite", second_life=False))
    for r in records[:3]:
        assert r.soh_method == "pulse screening" and 0 < r.soh_sigma < 0.05
    last = records[-1]
    assert last.grade == "incomplete" and any(m.startswith("soh") for m in last.missing)
    assert np.isnan(last.soh)


def test_second_life_from_ageing_core():
    aging = pytest.importorskip("batterylab.aging")
    if not hasattr(aging, "simulate"):
        pytest.skip("batterylab.aging.simulate not available")
    from batterylab.grading.forecast import home_storage_trajectory

    tr = home_storage_trajectory("nmc-graphite")
    assert tr is not None and tr["model"] == "schmalstieg2014"
    q = tr["capacity_fraction"]
    assert q[0] == pytest.approx(1.0, abs=1e-6) and np.all(np.diff(q) <= 1e-12) and q[-1] < 0.6
    recs, _ = make_batch(3, seed=2)
    records, _ = grade_records(recs, GradeConfig(chemistry="nmc-graphite"))
    for r in records:
        if r.soh > 0.6:
            assert np.isfinite(r.remaining_years) and r.remaining_years > 0
            assert "home-storage duty" in r.forecast_note
