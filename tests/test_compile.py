"""Every compiled kernel's helpers are compiled once on a cold first call."""

import os
import subprocess
import sys

_COMPILE_ALL = r"""
import warnings, numba
warnings.simplefilter("ignore")
from batterylab.report.precompile import PARTS
from batterylab import kernels
from batterylab.kernels import aging, forecast, interpolate, pcm, rainflow, station
for part in PARTS.values():  # every kernel the report uses, through the public functions
    part()
twice = {}
for mod in (aging, forecast, interpolate, pcm, rainflow, station):
    for name in dir(mod):
        f = getattr(mod, name)
        if isinstance(f, numba.core.registry.CPUDispatcher):
            literal = [str(s) for s in f.signatures if "Literal" in str(s)]
            if literal:
                twice[f"{mod.__name__}.{name}"] = literal
print(twice)
"""


def test_no_helper_is_compiled_for_a_literal_constant(tmp_path):
    """An integer constant passed to a compiled helper (a counter that starts at 0, a named code)
    is typed as a literal, and Numba compiles the helper once more for that value: a full compile
    of its body (see kernels/jit.py). Runs the report's precompilation in an empty Numba cache (a
    cached kernel compiles nothing) and finds no helper compiled for a literal argument."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _COMPILE_ALL], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "{}", out.stdout
