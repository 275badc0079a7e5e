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


def test_star_import_gives_every_public_name():
    code = (
        "import batterylab\n"
        "ns = {}\n"
        "exec('from batterylab import *', ns)\n"
        "missing = [n for n in batterylab.__all__ if n not in ns]\n"
        "print(missing, sorted(set(batterylab.__all__) - set(dir(batterylab))))\n"
    )
    assert _run(code).strip() == "[] []"


def test_every_package_is_in_the_lazy_list():
    """Each subpackage/top-level module of batterylab is reachable as ``batterylab.<name>``."""
    import pkgutil

    import batterylab

    names = {m.name for m in pkgutil.iter_modules(batterylab.__path__) if not m.name.startswith("_")}
    names -= {"cli", "cli_options", "lifetime_cli"}  # the command line, reached through `batterylab CMD`
    assert names <= set(batterylab.__all__), sorted(names - set(batterylab.__all__))


def test_one_lazy_import_helper():
    """Packages that import their parts on first use all go through batterylab._lazy."""
    from pathlib import Path

    import batterylab

    root = Path(batterylab.__file__).parent
    own = [p for p in root.rglob("*.py") if "def __getattr__(name" in p.read_text()]
    allowed = {root / "_lazy.py", root / "distributed.py"}  # distributed: moved names, see _MOVED
    assert set(own) <= allowed, sorted(str(p.relative_to(root)) for p in set(own) - allowed)


def test_lazy_exports_resolve():
    import batterylab.cell as cell
    import batterylab.report as report
    import batterylab.solid_state as ss

    for pkg in (cell, report, ss):
        for name in pkg.__all__:
            assert getattr(pkg, name) is not None, (pkg.__name__, name)
    assert ss.compare_cells.__name__ == "compare"
