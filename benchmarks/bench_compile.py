"""Compile time of the ageing core, as a new user meets it (empty Numba cache), and the warm first call.

    python benchmarks/bench_compile.py

Each measurement runs in a fresh Python process; "cold" ones get an empty ``NUMBA_CACHE_DIR``:

1. the yardstick: ``rainflow_count`` alone (a 150-line kernel), first call;
2. ``import batterylab.aging`` and the first ``simulate`` of one model (``naumann2020``,
   per-sample aggregation: compiles that kernel), then, in the same process, the first call of
   each further model family (a ``blast_*`` model: compiles the window kernel; a fleet; a run
   with current: neither compiles again);
4. as 2 but a ``blast_*`` model first (the window kernel alone).
3. the same first ``simulate`` in a fresh process with the cache left warm by 2.

Printed: wall seconds and CPU seconds of the process so far (compilation is single-threaded, so
on a shared machine CPU seconds are the steadier measure), and the ratio to the yardstick; targets: first call of any one model <= 20 s cold
(<= 10x the yardstick), warm first call < 0.5 s. Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

YARDSTICK = r"""
import resource, time, numpy as np
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t0 = time.perf_counter()
from batterylab.kernels import rainflow
t1 = time.perf_counter()
c1 = cpu()
t = np.arange(50.0); rainflow.count(t, 0.5 + 0.4 * np.sin(t))
print({"import_s": t1 - t0, "rainflow_first_call_s": time.perf_counter() - t1, "rainflow_first_call_cpu_s": cpu() - c1})
"""

AGEING = r"""
import resource, time, warnings, numpy as np
warnings.simplefilter("ignore")
cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t0 = time.perf_counter()
import batterylab.aging as aging
t1 = time.perf_counter()
day = np.arange(25) * 3600.0
soc = np.interp(day, [0, 3600, 72000, 75600, 86400], [0.85, 0.35, 0.35, 0.85, 0.85])
T = 300.0 + 3.0 * np.sin(2 * np.pi * day / 86400)
out = {"import_s": t1 - t0}
c2 = cpu(); t2 = time.perf_counter(); aging.simulate(FIRST, day, soc, T, years=1)
out["first_simulate_s"] = time.perf_counter() - t2
out["first_simulate_cpu_s"] = cpu() - c2
if FURTHER:
    c2 = cpu(); t2 = time.perf_counter(); aging.simulate("blast_nmc111_kokam75ah", day, soc, T, years=1)
    out["then_blast_window_s"] = time.perf_counter() - t2
    out["then_blast_window_cpu_s"] = cpu() - c2
    t2 = time.perf_counter(); aging.simulate_fleet("blast_lfp_250ah_prismatic", day, soc, T, n_cells=4, years=1, progress=False)
    out["then_fleet_s"] = time.perf_counter() - t2
    t2 = time.perf_counter(); aging.simulate("calibrated_lgm50_okane2022_spm_lam", day, soc, T, np.gradient(soc) * -5.0, years=1)
    out["then_with_current_s"] = time.perf_counter() - t2
print(out)
"""


def run(script: str, cache: str, **defs) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    code = "".join(f"{k} = {v!r}\n" for k, v in defs.items()) + script
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return eval(p.stdout.strip().splitlines()[-1])  # noqa: S307 (our own dict literal)


def main() -> None:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, tempfile.TemporaryDirectory() as c:
        yard = run(YARDSTICK, a)
        cold = run(AGEING, b, FIRST="naumann2020", FURTHER=True)
        warm = run(AGEING, b, FIRST="naumann2020", FURTHER=False)
        window = run(AGEING, c, FIRST="blast_nmc111_kokam75ah", FURTHER=False)
    y, yc = yard["rainflow_first_call_s"], yard["rainflow_first_call_cpu_s"]
    print(f"{'':52s} {'wall':>8s} {'CPU':>8s}  CPU / yardstick CPU")
    print(f"{'yardstick: rainflow_count first call, cold cache':52s} {y:7.2f}s {yc:7.2f}s")
    print(f"{'import batterylab.aging':52s} {cold['import_s']:7.2f}s")
    for label, w, cp in (
        ("first simulate, naumann2020 (sample kernel), cold", cold["first_simulate_s"], cold["first_simulate_cpu_s"]),
        ("  then a blast_* model (window kernel)", cold["then_blast_window_s"], cold["then_blast_window_cpu_s"]),
        ("first simulate, blast_nmc111_kokam75ah, cold", window["first_simulate_s"], window["first_simulate_cpu_s"]),
    ):
        print(f"{label:52s} {w:7.2f}s {cp:7.2f}s  {cp / yc:5.1f}x")
    print(f"{'  then a fleet / a run with current':52s} {cold['then_fleet_s']:7.2f}s / {cold['then_with_current_s']:.2f}s")
    print(f"{'first simulate, warm cache, fresh process':52s} {warm['first_simulate_s']:7.2f}s"
          f"  (import {warm['import_s']:.2f} s)")
    print("targets: first call of any one model <= 20 s cold and <= 10x the yardstick; warm first call < 0.5 s")
    print(json.dumps({"yardstick": yard, "cold": cold, "warm": warm, "window_first": window}))


if __name__ == "__main__":
    main()
