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


def test_simulate_wltc_from_full_charge_exits_1_and_says_why(tmp_path):
    """From the default initial SOC 1.0 the WLTC's regenerative braking reaches 4.2 V after 152 s of
    1800 s: never a silent truncation."""
    out = tmp_path / "x.h5"
    res = run_cli("simulate", "--cell", "LGM50", "--profile", "WLTC", "--peak-c-rate", "2", "--out", str(out))
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batterylab: error: the SPMe run of LGM50 stopped early at t = ")
    assert "of the requested 1800 s: event: Maximum voltage [V]" in lines[0]
    assert "lower initial SOC" in lines[0] and "--allow-early-stop" in lines[0]
    with h5py.File(out) as f:  # the partial run is kept
        assert f["time_s"][-1] < 1800.0
    res = run_cli("simulate", "--cell", "LGM50", "--profile", "WLTC", "--peak-c-rate", "2", "--allow-early-stop",
                  "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stderr.startswith("batterylab: note: the SPMe run of LGM50 stopped early")


def test_simulate_documented_wltc_example_completes_with_a_temperature_rise(tmp_path):
    """The drive-cycle example of the docs: the whole 30-minute cycle, and the lumped thermal model
    heats the cell by a few kelvin (about 5.6 K at 2C peak)."""
    out = tmp_path / "wltc.h5"
    res = run_cli("simulate", "--cell", "LGM50", "--thermal", "lumped", "--profile", "WLTC", "--peak-c-rate", "2",
                  "--initial-soc", "0.8", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "termination: final time" in res.stdout and res.stderr == ""
    with h5py.File(out) as f:
        assert f["time_s"][-1] == pytest.approx(1800.0)
        assert f["temperature_K"][()].max() - f["temperature_K"][0] > 3.0
