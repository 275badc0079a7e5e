"""Speed of batterylab's compiled ageing core against NREL BLAST-Lite, measured in one run.

    python benchmarks/bench_aging.py                   # full run (BLAST-Lite fleet: 100 cells)
    python benchmarks/bench_aging.py --blast-cells 10  # shorter: BLAST-Lite fleet of 10 cells
    python benchmarks/bench_aging.py --quick           # smoke run (1 year, small fleets)

Workload (the same arrays for both tools): 10 years of an hourly profile (87,601 samples), one
full cycle a day (SOC 0.9 -> 0.1 -> 0.9) under a continental climate (-20 .. 35 C), see
``validation/cases/_blast_profiles.py`` (``continental_cycle``). Models: the Kokam NMC111 75 Ah
(LLI + LAM knee + resistance) and the LFP/graphite 250 Ah prismatic models, as
``blast_nmc111_kokam75ah`` / ``blast_lfp_250ah_prismatic`` in batterylab and
``Nmc111_Gr_Kokam75Ah_Battery`` / ``Lfp_Gr_250AhPrismatic`` in BLAST-Lite. Fleet cells differ by
a temperature offset drawn from N(0, 2 K) (seed 1).

BLAST-Lite is given the materialised 10-year series (it has no other way). batterylab is given
the one-year profile repeated with ``years=10`` (its main use: a representative period repeated
without materialising it; the climate is periodic, so the two describe the same 10 years) and,
for comparison, the materialised series too.

BLAST-Lite runs in its own virtual environment (``benchmarks/.venv-blast``, built by
``benchmarks/blast_lite_reference.py``) in a subprocess and is timed inside that process:
``simulate_battery_life`` once per cell (it has no batch API). batterylab is timed in this
process after a warm-up call (compilation is cached on disk; the first-call latency of a cached
kernel in a fresh process is measured separately), best of ``--runs`` calls (default 3): a call
takes a fraction of a second, so one stray job on the shared machine would dominate a single
timing, while BLAST-Lite's minutes-long fleet run averages such noise out. Nothing here is
asserted: the numbers are printed, with the targets next to them.

Printed: cell-years per second of each tool (single cell and fleet), their ratio, cell-steps per
second of batterylab, the fresh-process first-call latency, and a 10,000-cell 10-year fleet run
with 1 and 2 threads (wall time and a bit-identity check).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

MODELS = {
    "blast_nmc111_kokam75ah": "Nmc111_Gr_Kokam75Ah_Battery",
    "blast_lfp_250ah_prismatic": "Lfp_Gr_250AhPrismatic",
}
PROFILE = "continental_cycle"

# Runs inside BLAST-Lite's venv: time simulate_battery_life for 1 cell and an n-cell fleet.
_BLAST_SCRIPT = r"""
import importlib.util, json, sys, time, warnings
import numpy as np
import blast.models
warnings.simplefilter("ignore")
spec = importlib.util.spec_from_file_location("_p", sys.argv[1])
P = importlib.util.module_from_spec(spec); spec.loader.exec_module(P)
years, n_cells, cls_name = float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t, soc, T = P.profile(sys.argv[5], years)
Tc = T - 273.15
off = np.random.default_rng(1).normal(0.0, 2.0, n_cells)
cls = getattr(blast.models, cls_name)
def one(dT):
    c = cls()
    c.simulate_battery_life({"Time_s": t, "SOC": soc.copy(), "Temperature_C": Tc + dT})
    return float(c.outputs["q"][-1])
t0 = time.perf_counter(); q1 = one(0.0); single = time.perf_counter() - t0
t0 = time.perf_counter(); qf = [one(d) for d in off]; fleet = time.perf_counter() - t0
print(json.dumps({"single_s": single, "fleet_s": fleet, "q_single": q1, "q_fleet_mean": float(np.nanmean(qf))}))
"""

_FRESH_SCRIPT = r"""
import time
t0 = time.perf_counter()
import numpy as np
from batterylab.aging import simulate
t1 = time.perf_counter()
t = np.arange(0.0, 48 * 3600.0 + 1, 3600.0)
soc = 0.5 + 0.4 * np.cos(2 * np.pi * t / 86400.0)
r = simulate("%s", t, soc, 298.15)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1, r.capacity_fraction[-1])
"""


def load_profile(years: float):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_p", REPO / "validation" / "cases" / "_blast_profiles.py")
    P = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(P)
    return P.profile(PROFILE, years)


def blast_timing(model_cls: str, years: float, n_cells: int) -> dict:
    from blast_lite_reference import ensure_venv

    py = ensure_venv()
    prof = str(REPO / "validation" / "cases" / "_blast_profiles.py")
    out = subprocess.run([str(py), "-c", _BLAST_SCRIPT, prof, str(years), str(n_cells), model_cls, PROFILE],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_latency(model: str) -> tuple[float, float]:
    """(import time, first simulate call) in a fresh process with a warm Numba cache [s]."""
    cmd = [sys.executable, "-c", _FRESH_SCRIPT % model]
    subprocess.run(cmd, capture_output=True, check=True)  # warm the on-disk cache
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def best_of(runs: int, fn, *a, **k):
    """(shortest wall time of ``runs`` calls [s], the last result): the usual way to time a short
    call on a shared machine, where other work can only add time."""
    best, out = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn(*a, **k)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--years", type=float, default=10.0)
    ap.add_argument("--blast-cells", type=int, default=100, help="BLAST-Lite fleet size (default 100)")
    ap.add_argument("--cells", type=int, default=100, help="batterylab fleet size compared with BLAST-Lite")
    ap.add_argument("--big-cells", type=int, default=10_000, help="large fleet for the thread check")
    ap.add_argument("--runs", type=int, default=3, help="batterylab timings: best of this many calls")
    ap.add_argument("--quick", action="store_true", help="1 year, 5 BLAST-Lite cells, 500-cell big fleet")
    ap.add_argument("--no-blast", action="store_true", help="skip BLAST-Lite (batterylab numbers only)")
    args = ap.parse_args(argv)
    if args.quick:
        args.years, args.blast_cells, args.big_cells = 1.0, 5, 500

    from batterylab.aging import simulate, simulate_fleet
    from batterylab.aging.models import OutOfRangeWarning
    from batterylab.kernels.jit import get_num_threads, set_num_threads

    # the continental winter is below both models' fitted temperature range (BLAST-Lite is run
    # on the same profile): the extrapolation is intended here, so its warnings are not repeated
    warnings.simplefilter("ignore", OutOfRangeWarning)

    t, soc, T = load_profile(args.years)
    n_steps = t.size - 1
    years = (t[-1] - t[0]) / (365.0 * 86400.0)
    # one representative year, repeated: the same hourly samples as the materialised series
    ty, socy, Ty = load_profile(1.0) if args.years >= 1.0 else (t, soc, T)
    n_rep = int(round(years / ((ty[-1] - ty[0]) / (365.0 * 86400.0))))
    offsets = np.random.default_rng(1).normal(0.0, 2.0, args.cells)
    print(f"profile {PROFILE}: {t.size} hourly samples, {years:g} years; threads available: {get_num_threads()}")
    print(f"{'model':28s} {'tool':10s} {'cells':>6s} {'wall [s]':>9s} {'cell-years/s':>13s} {'cell-steps/s':>13s}")
    summary = {}
    for model, cls in MODELS.items():
        simulate(model, t[:50], soc[:50], T[:50])  # compile / load the cache
        simulate(model, ty[:50], socy[:50], Ty[:50], repeat=2)
        simulate_fleet(model, ty[:50], socy[:50], Ty[:50], temperature_offset_K=offsets, repeat=2, progress=False)
        single, r1 = best_of(args.runs, simulate, model, ty, socy, Ty, repeat=n_rep)
        single_mat, rm = best_of(args.runs, simulate, model, t, soc, T, output_interval_s=30 * 86400.0)
        fleet, rf = best_of(args.runs, simulate_fleet, model, ty, socy, Ty, temperature_offset_K=offsets,
                            repeat=n_rep, progress=False)
        fleet_mat, _ = best_of(args.runs, simulate_fleet, model, t, soc, T, temperature_offset_K=offsets,
                               progress=False)
        rows = [("batterylab", 1, single), ("batterylab", args.cells, fleet),
                ("(materialised)", 1, single_mat), ("(materialised)", args.cells, fleet_mat)]
        if not args.no_blast:
            b = blast_timing(cls, args.years, args.blast_cells)
            rows += [("BLAST-Lite", 1, b["single_s"]), ("BLAST-Lite", args.blast_cells, b["fleet_s"])]
        cy = {}
        for tool, n, wall in rows:
            cys = n * years / wall
            cy[(tool, n > 1)] = cys
            steps = f"{n * n_steps / wall:13.3g}" if tool != "BLAST-Lite" else f"{'':13s}"
            print(f"{model:28s} {tool:10s} {n:6d} {wall:9.3f} {cys:13.4g} {steps}")
        q_bl = float(r1.capacity_fraction[-1])
        line = (f"  q after {years:g} y: batterylab {q_bl:.4f} (materialised series: "
                f"{float(rm.capacity_fraction[-1]):.4f})")
        if not args.no_blast:
            line += f", BLAST-Lite simulate_battery_life {b['q_single']:.4f} (mean fleet {b['q_fleet_mean']:.4f})"
            ratio = cy[("batterylab", True)] / cy[("BLAST-Lite", True)]
            ratio1 = cy[("batterylab", False)] / cy[("BLAST-Lite", False)]
            line += f"\n  speed ratio batterylab / BLAST-Lite: single cell {ratio1:.0f}x, fleet {ratio:.0f}x (target >= 1000x)"
            summary[model] = ratio
        print(line)
        print(f"  fleet cell-steps/s: {args.cells * n_steps / fleet:.3g} (target >= 1e7); "
              f"mean q of the fleet {float(np.mean(rf.capacity_fraction[:, -1])):.4f}")

    for model in MODELS:
        imp, first = fresh_latency(model)
        print(f"fresh process, warm cache, {model}: import {imp:.2f} s, first simulate call {first:.2f} s (target < 1 s)")

    model = "blast_nmc111_kokam75ah"
    big_off = np.random.default_rng(2).normal(0.0, 2.0, args.big_cells)
    results = {}
    n_threads = get_num_threads()
    for nt in sorted({1, min(2, n_threads)}):
        set_num_threads(nt)
        t0 = time.perf_counter()
        r = simulate_fleet(model, ty, socy, Ty, temperature_offset_K=big_off, repeat=n_rep, progress=True)
        wall = time.perf_counter() - t0
        results[nt] = r
        print(f"{args.big_cells}-cell fleet, {years:g} years hourly, {nt} thread(s): {wall:.2f} s "
              f"({args.big_cells * years / wall:.4g} cell-years/s, {args.big_cells * n_steps / wall:.3g} cell-steps/s)")
    set_num_threads(n_threads)
    if len(results) == 2:
        a, b = results[1], results[2]
        same = all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("capacity_fraction", "resistance_factor", "efc"))
        print(f"1 vs 2 threads bit-identical (q, r, efc of all cells, all rows): {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
