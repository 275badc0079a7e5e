"""Compile time of the ageing core, as a new user meets it (empty Numba cache), and the warm first call.

    python benchmarks/bench_compile.py

Each measurement runs in a fresh Python process; "cold" ones get an empty ``NUMBA_CACHE_DIR``:

1. the yardstick: ``rainflow_count`` alone (a 150-line kernel), first call;
2. ``import batterylab.aging`` and the first ``simulate`` of one model (``naumann2020``,
   per-sample aggregation), then, in the same process, the first call of each further model
   family (a ``blast_*`` model with window aggregation, a fleet, a run with current);
3. the same first ``simulate`` in a fresh process with the cache left warm by 2.

Printed: seconds and the ratio to the yardstick; targets: first call of any one model <= 20 s cold
(<= 10x the yardstick), warm first call < 0.5 s. Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

YARDSTICK = r"""
import time, numpy as np
t0 = time.perf_counter()
from batterylab.kernels import rainflow
t1 = time.perf_counter()
t = np.arange(50.0); rainflow.count(t, 0.5 + 0.4 * np.sin(t))
print({"import_s": t1 - t0, "rainflow_first_call_s": time.perf_counter() - t1})
"""

AGEING = r"""
import time, warnings, numpy as np
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import batterylab.aging as aging
t1 = time.perf_counter()
day = np.arange(25) * 3600.0
soc = np.interp(day, [0, 3600, 72000, 75600, 86400], [0.85, 0.35, 0.35, 0.85, 0.85])
T = 300.0 + 3.0 * np.sin(2 * np.pi * day / 86400)
out = {"import_s": t1 - t0}
t2 = time.perf_counter(); aging.simulate("naumann2020", day, soc, T, years=1)
out["first_simulate_naumann2020_s"] = time.perf_counter() - t2
if FURTHER:
    t2 = time.perf_counter(); aging.simulate("blast_nmc111_kokam75ah", day, soc, T, years=1)
    out["then_blast_window_s"] = time.perf_counter() - t2
    t2 = time.perf_counter(); aging.simulate_fleet("blast_lfp_250ah_prismatic", day, soc, T, n_cells=4, years=1, progress=False)
    out["then_fleet_s"] = time.perf_counter() - t2
    t2 = time.perf_counter(); aging.simulate("calibrated_lgm50_okane2022", day, soc, T, np.gradient(soc) * -5.0, years=1)
    out["then_with_current_s"] = time.perf_counter() - t2
print(out)
"""


def run(script: str, cache: str, **defs) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    code = "".join(f"{k} = {v!r}\n" for k, v in defs.items()) + script
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return eval(p.stdout.strip().splitlines()[-1])  # noqa: S307 (our own dict literal)


def main() -> None:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        yard = run(YARDSTICK, a)
        cold = run(AGEING, b, FURTHER=True)
        warm = run(AGEING, b, FURTHER=False)
    y = yard["rainflow_first_call_s"]
    print(f"yardstick: rainflow_count first call, cold cache   {y:7.2f} s")
    print(f"import batterylab.aging                             {cold['import_s']:7.2f} s")
    c = cold["first_simulate_naumann2020_s"]
    print(f"first simulate (naumann2020), cold cache           {c:7.2f} s  = {c / y:5.1f}x yardstick  (target <= 20 s, <= 10x)")
    for k in ("then_blast_window_s", "then_fleet_s", "then_with_current_s"):
        print(f"  then {k[5:-2]:<44s} {cold[k]:7.2f} s")
    w = warm["first_simulate_naumann2020_s"]
    print(f"first simulate, warm cache, fresh process          {w:7.2f} s  (target < 0.5 s; import {warm['import_s']:.2f} s)")
    print(json.dumps({"yardstick_s": y, "cold": cold, "warm": warm}))


if __name__ == "__main__":
    main()
