"""Benchmark: the held-out forecast protocol over every shipped capacity history.

Runs leave-cells-out and leave-one-dataset-out at fit fractions 20, 40 and 60 % with the
population forecast, the back-test selection (``auto``) and the power law, the straight line
beside each; prints the summary per split and the run time. Asserts nothing (the checked
metrics are in the validation case ``grading_forecast_protocol``).

    python benchmarks/bench_forecast_protocol.py
    python benchmarks/bench_forecast_protocol.py --methods population --fractions 0.4
"""

from __future__ import annotations

import argparse
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", default="population,auto,power")
    ap.add_argument("--fractions", default="0.2,0.4,0.6")
    ap.add_argument("--schemes", default="leave-cells-out,leave-one-dataset-out")
    args = ap.parse_args()

    from batterylab.grading.protocol import run_protocol, summarise
    from batterylab.validation.cases.grading import forecast_histories

    hist = forecast_histories(False)
    print(f"{len(hist)} histories from {len({h.dataset for h in hist})} data sets")
    keys = ("n_crossing", "crossing_error_median", "naive_crossing_error_median", "share_within_3pp",
            "naive_share_within_3pp", "share_better_than_naive", "coverage_median", "coverage_pooled",
            "half_width_median_pp", "abs_error_median_pp", "n_failed")
    print("scheme | fit | method | " + " | ".join(keys) + " | time [s]")
    for scheme in args.schemes.split(","):
        for frac in (float(f) for f in args.fractions.split(",")):
            for method in args.methods.split(","):
                t0 = time.perf_counter()
                s = summarise(run_protocol(hist, scheme=scheme, fit_fraction=frac, method=method))
                dt = time.perf_counter() - t0
                vals = " | ".join(f"{s[k]:.3g}" if isinstance(s[k], float) else str(s[k]) for k in keys)
                print(f"{scheme} | {frac:.0%} | {method} | {vals} | {dt:.0f}", flush=True)


if __name__ == "__main__":
    main()
