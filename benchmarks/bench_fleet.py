"""Fleet ageing throughput of batterylab's compiled core, beside the machine's floor, in one run.

    python benchmarks/bench_fleet.py                  # a million packs (a few minutes)
    python benchmarks/bench_fleet.py --packs 100000   # fewer

Workloads (10 years, ``simulate_fleet``, per-pack temperature offsets from N(0, 2 K), seed 1,
yearly output rows):

- a representative day (hourly, one full cycle 0.9 -> 0.1 -> 0.9, 22 +- 8 degC) repeated
  3,650 times;
- a representative hourly year (``continental_cycle`` of ``validation/cases/_blast_profiles.py``)
  repeated 10 times;
- per-pack histories: each pack its own materialised hourly series (no repetition), reported
  in cell-steps per second.

Models: ``naumann2020`` (per-sample aggregation), with ``simulate_fleet``'s default (a fleet
sharing one profile is interpolated in the temperature offset, ``batterylab.aging.shared_profile``)
and on the per-cell path (``share_profile=False``) beside it; and ``blast_nmc111_kokam75ah``
(BLAST-Lite's update windows: not smooth in the offset, so the per-cell path runs, every window
of every repetition computed). Runs of 10,000 packs or more stream their yearly rows to HDF5 as
the chunks finish (``simulate_fleet(..., save_to=path)``), and their time includes the writing;
the process's peak memory is printed after them.

The floor is a plain Numba loop, committed here (``floor_loop``), that does per pack and step one
Arrhenius exponential and one power per state (four states) and nothing else; its cell-steps
per second, measured in the same run on the same number of threads, are printed beside each
rate. Compilation is excluded (a warm-up call first); times are the best of ``--runs`` calls.
Nothing is asserted: the numbers are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
YEARS = 10.0


def _profiles():
    spec = importlib.util.spec_from_file_location("_p", REPO / "validation" / "cases" / "_blast_profiles.py")
    P = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(P)
    return P


def representative_day():
    t = np.arange(0.0, 86400.0 + 1.0, 3600.0)
    soc = 0.5 + 0.4 * np.cos(2 * np.pi * t / 86400.0)
    T = 295.15 + 8.0 * np.sin(2 * np.pi * t / 86400.0)
    return t, soc, T


def best_of(runs, fn):
    best, out = math.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def floor_loop():
    """The floor: per pack and step, one Arrhenius exponential and one power per state."""
    import numba

    @numba.njit(parallel=True, cache=True, fastmath=False)
    def loop(T, dT, out):  # T (n,), dT (packs,), out (packs, 4)
        n = T.shape[0]
        for c in numba.prange(dT.shape[0]):
            u0 = u1 = u2 = u3 = 0.0
            for j in range(n):
                a = math.exp(-3000.0 * (1.0 / (T[j] + dT[c]) - 1.0 / 298.15))
                u0 += (1e-6 * a) ** 2.0
                u1 += (2e-6 * a) ** 1.5
                u2 += (3e-6 * a) ** 1.25
                u3 += (4e-6 * a) ** 1.1
            out[c, 0], out[c, 1], out[c, 2], out[c, 3] = u0, u1, u2, u3

    return loop


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packs", type=int, default=1_000_000, help="packs of the repeated-profile runs")
    ap.add_argument("--per-cell-packs", type=int, default=2_000,
                    help="packs of the per-cell path's runs (Kokam, and naumann2020 with share_profile=False)")
    ap.add_argument("--history-packs", type=int, default=200, help="packs of the per-pack history run")
    ap.add_argument("--runs", type=int, default=2, help="best of this many calls (runs of 10,000 packs or more: one)")
    args = ap.parse_args(argv)

    import resource
    import tempfile

    from batterylab.aging import simulate_fleet
    from batterylab.aging.models import OutOfRangeWarning
    from batterylab.kernels.jit import get_num_threads

    warnings.simplefilter("ignore", OutOfRangeWarning)
    P = _profiles()
    threads = get_num_threads()
    rng = np.random.default_rng(1)
    print(f"threads: {threads}; packs: {args.packs:,}; {YEARS:g} years")

    # the floor, on an hourly year, in the same run
    loop = floor_loop()
    ty, socy, Ty = P.profile("continental_cycle", 1.0)
    dT = rng.normal(0.0, 2.0, 20_000)
    out = np.zeros((dT.size, 4))
    loop(Ty[:10], dT[:10], out[:10])
    t_floor, _ = best_of(args.runs, lambda: loop(Ty, dT, out))
    floor = dT.size * Ty.size / t_floor
    print(f"floor (one Arrhenius exp + one power per state, 4 states): {floor:.3g} cell-steps/s")

    rows = 365.25 * 86400.0
    profiles = (("representative day x 3,650", representative_day()),
                ("representative hourly year x 10", (ty, socy, Ty)))
    runs = [("naumann2020", args.packs, None), ("naumann2020", args.per_cell_packs, False),
            ("blast_nmc111_kokam75ah", args.per_cell_packs, None)]
    for model, n, share in runs:
        for label, (t, soc, T) in profiles:
            def run(n=n, t=t, soc=soc, T=T, share=share, save_to=None):
                return simulate_fleet(model, t, soc, T, years=YEARS, n_cells=n, temperature_spread_K=2.0, seed=1,
                                      output_interval_s=rows, progress=False, share_profile=share, save_to=save_to)

            simulate_fleet(model, t, soc, T, years=1.0, n_cells=2, seed=1, progress=False,
                           share_profile=share is not False)  # compile / load
            with tempfile.TemporaryDirectory() as tmp:
                if n >= 10_000:  # streamed to HDF5 as the chunks finish, as a user asking for a file gets it
                    wall, res = best_of(1, lambda: run(save_to=Path(tmp) / "fleet.h5"))
                    written = f"; streamed to HDF5 ({res.path.stat().st_size / 1e6:.0f} MB, the time includes it)"
                else:
                    wall, res = best_of(args.runs, run)
                    written = ""
                q_end = res.summary()["capacity_fraction_end"]
            pack_years = n * YEARS / wall
            steps = n * (t.size - 1) * YEARS * 86400 * 365.25 / (t[-1] - t[0])
            how = "shared" if res.config["shared_profile"].startswith("interpolated") else "per cell"
            print(f"{model:24s} {label:32s} {n:>9,} packs {how:8s} {wall:8.2f} s  {pack_years:12,.0f} pack-years/s  "
                  f"(1e6 packs: {1e7 / pack_years:7.1f} s; {steps / wall / floor:8.3f} x the floor in "
                  f"stepped-equivalent cell-steps)  q mean {q_end:.4f}{written}")
            print(f"    {res.config['shared_profile']}")
            del res
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux -> GB
    print(f"peak memory of the process so far: {peak:.2f} GB")

    # per-pack histories: each pack its own materialised 10-year hourly series
    t10, soc10, T10 = P.profile("continental_cycle", YEARS)
    m = args.history_packs
    off = rng.normal(0.0, 2.0, m)
    Tm = T10[None, :] + off[:, None]
    socm = np.clip(soc10[None, :] + rng.normal(0.0, 0.01, (m, 1)), 0.0, 1.0)
    for model in ("naumann2020", "blast_nmc111_kokam75ah"):
        simulate_fleet(model, t10[:49], socm[:2, :49], Tm[:2, :49], progress=False)

        def hist(model=model):
            return simulate_fleet(model, t10, socm, Tm, output_interval_s=rows, progress=False)

        wall, _ = best_of(args.runs, hist)
        rate = m * (t10.size - 1) / wall
        print(f"{model:24s} per-pack 10-year hourly histories {m:>6,} packs {wall:8.2f} s  {rate:.3g} cell-steps/s "
              f"({rate / floor:.3f} x the floor)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
