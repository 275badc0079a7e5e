"""Regenerate the shipped PyBaMM-calibrated ageing models and their held-out references.

    python validation/regenerate_calibration.py [--jobs 2] [--cache DIR] [--configuration spm_lam ...]

For every named configuration (:data:`batterylab.aging.calibrate.CONFIGURATIONS`): runs the
calibration design (:func:`batterylab.aging.calibrate.design`: a Latin hypercube over
``DESIGN_BOX``, 40 cycling points of 300 cycles and 6 storage points of 240 days) with PyBaMM,
fits the kernel model and writes ``parameter_sets/aging/calibrated_lgm50_okane2022_<configuration>.json``;
then runs every held-out draw (:func:`batterylab.aging.calibrate.held_out_design`, each drawn
with a fixed seed before the fit it judges) and writes ``validation/data/calibration_heldout[2]_lgm50_<configuration>.json``,
which the report's ``calibration_heldout`` case checks the shipped model against. Every PyBaMM run
is cached on disk (``--cache``), so a re-fit reruns nothing. About 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    from batterylab.aging import calibrate as cal

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", default=None, help="PyBaMM result cache (default ~/.cache/batterylab/pybamm_aging)")
    ap.add_argument("--configuration", action="append", choices=sorted(cal.CONFIGURATIONS),
                    help="only this configuration (repeatable; default: all)")
    args = ap.parse_args()
    for cfg in args.configuration or list(cal.CONFIGURATIONS):
        model = ROOT / "parameter_sets" / "aging" / f"calibrated_lgm50_okane2022_{cfg}.json"
        d = cal.calibrate("LGM50", model, configuration=cfg, jobs=args.jobs, cache_dir=args.cache)
        print(f"wrote {model.relative_to(ROOT)} ({len(d['calibration']['design'])} design points)")
        for draw in range(1, len(cal.HELD_OUT_CORNERS) + 1):
            data = ROOT / "validation" / "data" / f"calibration_heldout{'' if draw == 1 else draw}_lgm50_{cfg}.json"
            ref = cal.held_out(data, configuration=cfg, draw=draw, jobs=args.jobs, cache_dir=args.cache)
            print(f"wrote {data.relative_to(ROOT)}")
            show(cal.compare_held_out(model, ref))


def show(rows):
    for r in rows:
        mech = "  ".join(f"{k} {v['pybamm_pct']:.3f}/{v['kernel_pct']:.3f}" for k, v in r["mechanisms"].items())
        print(f"  {r['name']:26s} fade PyBaMM {r['pybamm_fade_pct']:.3f} %  kernel {r['kernel_fade_pct']:.3f} %  "
              f"(tolerance {r['tolerance_pct_points']:.3f}) {'ok' if r['passed'] else 'OUTSIDE'}   {mech}")


if __name__ == "__main__":
    main()
