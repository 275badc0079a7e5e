"""Calibrated ageing kernel vs the PyBaMM degradation simulation it replaces (same run).

    /work/venv/bin/python benchmarks/bench_calibration.py [--cycles 100] [--lifetime-years 10]

Prints: (1) the held-out errors of the shipped calibration (committed PyBaMM reference); (2) wall
time of PyBaMM (SPM + lumped thermal + O'Kane 2022 degradation) for N cycles of the 25 degC / 2C
charge held-out condition, and of the calibrated kernel for the same N cycles (one fresh cycle
repeated; compiled beforehand; best of 5), and their ratio; (3) the coupled electro-thermal-ageing
loop over 10 years with monthly updates (WLTC commute day, seasonal ambient).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--lifetime-years", type=float, default=10.0)
    ap.add_argument("--skip-pybamm", action="store_true", help="only the held-out table and the lifetime loop")
    args = ap.parse_args()

    from batterylab.aging import calibrate as cal
    from batterylab import parameter_sets
    from batterylab.validation import cases  # noqa: F401

    model = "calibrated_lgm50_okane2022"
    from pathlib import Path

    data = json.loads((Path(cal.__file__).resolve().parents[2] / "validation" / "data" / "calibration_heldout_lgm50.json").read_text())
    print("== held-out accuracy (committed PyBaMM reference, PyBaMM", data["pybamm_version"], ")")
    for r in cal.compare_held_out(model, data):
        print(f"  {r['name']:26s} {r['cycles']} cycles: fade PyBaMM {r['pybamm_fade_pct']:.3f} %  kernel {r['kernel_fade_pct']:.3f} %  "
              f"error {r['error_pct_points']:+.3f} points (tolerance {r['tolerance_pct_points']:.3f}) "
              f"{'ok' if r['passed'] else 'OUTSIDE'};  LLI {r['pybamm_LLI_pct']:.3f}/{r['kernel_LLI_pct']:.3f} %  "
              f"LAM_ne {r['pybamm_LAM_ne_pct']:.3f}/{r['kernel_LAM_ne_pct']:.3f} %  LAM_pe {r['pybamm_LAM_pe_pct']:.3f}/{r['kernel_LAM_pe_pct']:.3f} %")

    if not args.skip_pybamm:
        speed(cal, model, args.cycles)
    lifetime(args.lifetime_years)


def speed(cal, model, cycles):
    print(f"== speed: {cycles} cycles, 25 degC, 2C charge / 1C discharge")
    p = cal.DesignPoint("bench_fast_25C_2_1", "cycle", 298.15, 2.0, 1.0, 0.0, 1.0, cycles)
    t0 = time.perf_counter()
    res = cal.run_point(p, cal.RunSpec())
    t_pybamm_total = time.perf_counter() - t0
    res = cal._with_soc(res, p)
    prof = cal.cycle_profile(res)
    cal.predict_cycles(model, prof, 2)  # compile / load
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        pred = cal.predict_cycles(model, prof, cycles)
        best = min(best, time.perf_counter() - t0)
    q_ref = float(res["capacity_Ah"][-1] / res["capacity0_Ah"])
    print(f"  PyBaMM solve {float(res['wall_s']):.2f} s (with model build and SOH summary {t_pybamm_total:.2f} s)")
    print(f"  kernel {best * 1e3:.3f} ms ({prof['time_s'].size} samples per cycle)")
    print(f"  speed ratio (PyBaMM solve / kernel): {float(res['wall_s']) / best:,.0f}x")
    print(f"  capacity after {cycles} cycles: PyBaMM {100 * q_ref:.3f} %  kernel {100 * float(pred['capacity_fraction'][-1]):.3f} %")



def lifetime(years):
    from batterylab import parameter_sets

    print(f"== coupled lifetime: {years:g} years, monthly updates")
    from batterylab.lifetime import read_duty_csv, read_ambient_csv, simulate_lifetime

    duty = read_duty_csv(parameter_sets.path("aging", "lifetime", "wltc_commute_day.csv"))
    amb = read_ambient_csv(parameter_sets.path("aging", "lifetime", "seasonal_ambient.csv"))
    t0 = time.perf_counter()
    r = simulate_lifetime("LGM50", duty_power_W=duty["power_W"], time_s=duty["time_s"],
                          ambient_temperature_K=amb["temperature_K"], ambient_time_s=amb["time_s"],
                          years=years)
    wall = time.perf_counter() - t0
    print(f"  wall {wall:.1f} s, CPU {r.timings_s['cpu']:.1f} s ({r.timings_s['pybamm_solves']} PyBaMM period solves {r.timings_s['pybamm']:.1f} s, "
          f"kernel {r.timings_s['kernel']:.2f} s, build {r.timings_s['build']:.1f} s)")
    print(f"  relative capacity {r.capacity_fraction[-1]:.4f}, added resistance {1e3 * r.added_resistance_ohm[-1]:.2f} mOhm "
          f"(x{r.resistance_factor[-1]:.3f}), max cell temperature {r.max_temperature_K.max():.2f} K")


if __name__ == "__main__":
    main()
