"""batterylab fast-response: bad input fails in seconds with a one-line message; a short run writes HDF5."""

import subprocess
import sys

import numpy as np

from batterylab.io import read_results


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "batterylab", "fast-response", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_missing_signal_file_and_unknown_cell(tmp_path):
    res = run_cli("--signal", str(tmp_path / "none.csv"), "--out", str(tmp_path / "x.h5"))
    assert res.returncode == 2
    assert "does not exist" in res.stderr
    res = run_cli("--cell", "sulphide", "--out", str(tmp_path / "x.h5"))
    assert res.returncode == 2
    assert "valid solid-state cells are" in res.stderr
    assert not (tmp_path / "x.h5").exists()


def test_short_run_writes_units_and_score(tmp_path):
    t = np.arange(0.0, 362.0, 2.0)
    s = np.sin(2 * np.pi * t / 120.0)
    csv = tmp_path / "sig.csv"
    csv.write_text("time_s,signal\n" + "\n".join(f"{a!r},{b!r}" for a, b in zip(t.tolist(), s.tolist())))
    out = tmp_path / "r.h5"
    res = run_cli("--cell", "sulfide", "--signal", str(csv), "--hours", "0.1", "--regulation-W", "5",
                  "--mesh-points", "6", "--no-aging", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "Regulation performance score" in res.stdout
    v, attrs = read_results(out)
    assert v["table/score"].units == "1"
    assert 0.9 < v["table/score"].data[0] <= 1.0  # 5 W is well within the cell's limits
    run = "runs/solid_state_sulfide_lsipscl"
    assert v[f"{run}/temperature_K"].units == "K"
    assert np.allclose(v[f"{run}/requested_W"].data, 5 * np.interp(v[f"{run}/time_s"].data, t, s))
    assert "pybamm_version" in attrs
    assert np.isnan(v["table/capacity_fraction_lost_1yr"].data[0])  # --no-aging: not run, not faked
