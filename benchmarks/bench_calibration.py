"""Calibrated ageing kernels vs the PyBaMM degradation simulations they replace (same run).

    python benchmarks/bench_calibration.py [--configuration spm_lam] [--draw 3] [--lifetime-years 10]

For every shipped configuration (SPM + stress-driven LAM; SPMe without LAM) and every held-out
condition of the chosen draw (committed in ``validation/data/calibration_heldout*_lgm50_*.json``):
(1) the kernel's fade and mechanisms against the committed PyBaMM reference; (2) PyBaMM's wall
time for the condition's 300 cycles, run here afresh (model build, solve and electrode-SOH
summary: what a user waits for), and the calibrated kernel's for the same 300 cycles (one fresh
cycle repeated, compiled beforehand, best of 5), and their ratio (target >= 1000x). Then (3) the
coupled electro-thermal-ageing loop over 10 years with monthly updates (WLTC commute day,
seasonal ambient).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main():
    from batterylab.aging import calibrate as cal
    from batterylab.validation.cases.calibration import MODELS, data_file

    ap = argparse.ArgumentParser()
    ap.add_argument("--configuration", action="append", choices=sorted(MODELS))
    ap.add_argument("--draw", type=int, default=3, choices=(1, 2, 3))
    ap.add_argument("--lifetime-years", type=float, default=10.0)
    ap.add_argument("--skip-pybamm", action="store_true", help="only the held-out table and the lifetime loop")
    args = ap.parse_args()
    for cfg in args.configuration or list(MODELS):
        model = MODELS[cfg]
        data = json.loads(data_file(cfg, args.draw).read_text())
        spec = cal.configuration_spec("LGM50", cfg)
        print(f"== {model}: held-out draw {args.draw} (PyBaMM {data['pybamm_version']} {data['pybamm_model']})")
        rows = cal.compare_held_out(model, data)
        ratios = []
        for c, r in zip(data["conditions"], rows):
            line = (f"  {r['name']:26s} fade PyBaMM {r['pybamm_fade_pct']:.3f} %  kernel {r['kernel_fade_pct']:.3f} % "
                    f"{'ok' if r['passed'] else 'OUTSIDE'}")
            if not args.skip_pybamm:
                p = cal.DesignPoint(**c["point"])
                t0 = time.perf_counter()
                cal.run_point(p, spec)
                t_pybamm = time.perf_counter() - t0
                prof = {k: np.asarray(v) for k, v in c["profile"].items()}
                best = np.inf
                for _ in range(5):
                    t0 = time.perf_counter()
                    cal.predict_cycles(model, prof, p.cycles)
                    best = min(best, time.perf_counter() - t0)
                ratios.append(t_pybamm / best)
                line += f"   PyBaMM {t_pybamm:6.2f} s  kernel {best * 1e3:7.2f} ms  ratio {t_pybamm / best:,.0f}x"
            print(line, flush=True)
        if ratios:
            print(f"  smallest ratio {min(ratios):,.0f}x, median {np.median(ratios):,.0f}x (target >= 1000x: "
                  f"{'met' if min(ratios) >= 1000 else 'NOT met'})")
    lifetime(args.lifetime_years)


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
