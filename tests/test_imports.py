"""import batterylab is fast and does not import PyBaMM."""

import subprocess
import sys


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_import_batterylab_does_not_import_pybamm():
    out = _run("import sys, batterylab; print('pybamm' in sys.modules)")
    assert out.strip() == "False"


def test_non_pybamm_parts_do_not_import_pybamm():
    code = (
        "import sys, importlib, batterylab\n"
        "for m in ['batterylab.io', 'batterylab.kernels.jit', 'batterylab.checks', 'batterylab.validation']:\n"
        "    importlib.import_module(m)\n"
        "for m in ['batterylab.aging', 'batterylab.grading', 'batterylab.swap', 'batterylab.pcm']:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if e.name != m: raise\n"
        "print('pybamm' in sys.modules)"
    )
    assert _run(code).strip() == "False"


def test_import_time_under_one_second():
    """Measured with -X importtime: the cumulative time of the batterylab import."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", "import batterylab"],
                         check=True, capture_output=True, text=True)
    line = [ln for ln in res.stderr.splitlines() if ln.rstrip().endswith("| batterylab")][-1]
    cumulative_us = int(line.split("|")[1])
    assert cumulative_us < 1_000_000, line
