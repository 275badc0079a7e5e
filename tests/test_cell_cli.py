"""``batterylab simulate``: help, a run to HDF5, and one-line errors with a non-zero exit."""

import subprocess
import sys

import h5py
import numpy as np
import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "batterylab", *args], capture_output=True, text=True, cwd=cwd)


def test_simulate_help():
    res = run_cli("simulate", "--help")
    assert res.returncode == 0
    for opt in ("--cell", "--model", "--thermal", "--experiment", "--current-csv", "--power-csv", "--out"):
        assert opt in res.stdout


def test_simulate_experiment_and_current_csv(tmp_path):
    out = tmp_path / "r.h5"
    res = run_cli("simulate", "--cell", "LGM50", "--model", "SPM", "--thermal", "lumped", "--mesh", "coarse",
                  "--experiment", "Discharge at 1C for 10 minutes", "--experiment", "Rest for 5 minutes",
                  "--out", str(out))
    assert res.returncode == 0, res.stderr
    with h5py.File(out) as f:
        assert f["voltage_V"].attrs["units"] == "V"
        assert f["temperature_K"][-1] > 298.15
    csv = tmp_path / "i.csv"
    t = np.arange(0, 301, 10.0)
    csv.write_text("# test duty\ntime_s,current_A\n" + "\n".join(f"{a},{2.5}" for a in t) + "\n")
    res = run_cli("simulate", "--model", "SPM", "--mesh", "coarse", "--current-csv", str(csv), "--out", str(out))
    assert res.returncode == 0, res.stderr
    with h5py.File(out) as f:
        np.testing.assert_allclose(f["current_A"][()], 2.5)
        np.testing.assert_allclose(f["time_s"][()], t)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "DFM", "--experiment", "Rest for 1 minute"], "unknown model 'DFM'; valid models are: DFN, SPM, SPMe"),
        (["--experiment", "Discharge at 4C until 2.5 V"], "beyond the parameter set's validity of at most 3C"),
        (["--current-csv", "missing.csv"], "--current-csv: file 'missing.csv' does not exist"),
        ([], "give exactly one duty"),
    ],
)
def test_simulate_bad_input_one_line(tmp_path, args, message):
    # the other messages (option typos, Celsius) are checked in test_cell.py; here the CLI path
    res = run_cli("simulate", *args, "--out", str(tmp_path / "x.h5"), cwd=tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batterylab: error:"), res.stderr
    assert message in lines[0]
    assert not (tmp_path / "x.h5").exists()
