"""Benchmark: grade synthetic second-life cell records (capacity test, pulse and C/20 curve each).

Target: 10,000 records in under 2 minutes on 2 cores. Prints numbers; asserts nothing.

    python benchmarks/bench_grading.py                 # 10,000 records in memory, 2 workers
    python benchmarks/bench_grading.py --files 2000    # also through files and `grade_directory`
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000, help="records graded in memory")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--files", type=int, default=0, help="also grade this many records written as HDF5 files")
    ap.add_argument("--modules", default="4x2")
    args = ap.parse_args()

    from batterylab.grading.batch import GradeConfig, grade_directory, grade_records
    from batterylab.grading.ocv_fit import fit_ocv_batch
    from batterylab.grading.readers import write_cell_record
    from batterylab.grading.synthetic import make_batch

    s, p = (int(x) for x in args.modules.split("x"))
    t0 = time.perf_counter()
    recs, truths = make_batch(args.n, seed=1)
    print(f"generated {args.n} synthetic records in {time.perf_counter() - t0:.1f} s (not part of the target)")

    t0 = time.perf_counter()
    fit_ocv_batch([r.c20_capacity_Ah for r in recs[:2000]], [r.c20_voltage_V for r in recs[:2000]])
    print(f"vectorised OCV fit, 2000 curves, 1 process: {time.perf_counter() - t0:.2f} s")

    cfg = GradeConfig(chemistry="nmc-graphite", new_pack_price_per_kWh=120.0, series=s, parallel=p)
    # the home-storage trajectory is one compiled-core run per chemistry, shared by all cells; its
    # first call compiles the ageing kernel (cached on disk afterwards): timed separately
    from batterylab.grading.forecast import home_storage_trajectory

    t0 = time.perf_counter()
    home_storage_trajectory("nmc-graphite")
    print(f"home-storage ageing trajectory (batterylab.aging.simulate, incl. any kernel compile): "
          f"{time.perf_counter() - t0:.1f} s (not part of the target)")
    t0 = time.perf_counter()
    graded, modules = grade_records(recs, cfg, workers=args.workers, progress=True)
    dt = time.perf_counter() - t0
    counts = {}
    for r in graded:
        counts[r.grade] = counts.get(r.grade, 0) + 1
    n_mod = sum(len(m.modules) for m in modules.values()) if modules else 0
    print(f"graded {len(graded)} records in memory with {args.workers} worker processes (spawn): {dt:.1f} s "
          f"({dt / len(graded) * 1e3:.2f} ms/record); grades {counts}; {n_mod} modules {args.modules}")
    err = [abs(g.LLI - t.LLI) for g, t in zip(graded, truths) if g.LLI == g.LLI]
    print(f"LLI recovered on {len(err)} cells: max error {max(err) * 100:.2f} percentage points")

    if args.files:
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "in"
            src.mkdir()
            t0 = time.perf_counter()
            for r in recs[: args.files]:
                write_cell_record(src / f"{r.cell_id}.h5", r)
            print(f"wrote {args.files} HDF5 cell records in {time.perf_counter() - t0:.1f} s (not part of the target)")
            t0 = time.perf_counter()
            out = grade_directory(src, Path(d) / "out", cfg, workers=args.workers, progress=True)
            dt = time.perf_counter() - t0
            print(f"grade_directory on {args.files} files, {args.workers} workers, all outputs written: {dt:.1f} s "
                  f"({dt / args.files * 1e3:.2f} ms/file)")
            t0 = time.perf_counter()
            out = grade_directory(src, Path(d) / "out", cfg, workers=args.workers, progress=False)
            print(f"re-run (all files unchanged, cached): {time.perf_counter() - t0:.1f} s, "
                  f"{out['n_reused_files']} files reused")
    print(f"cpu count {os.cpu_count()}")


if __name__ == "__main__":
    main()
