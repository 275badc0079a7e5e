"""Fleet ageing in-process versus on a 2-worker Dask LocalCluster, in pack-years per second.

    python benchmarks/bench_dask.py                 # 1,000,000 packs (about 45 min on 2 cores: both runs)
    python benchmarks/bench_dask.py --packs 10000   # the size measured for docs/dask.md

Workload: a representative year at hourly resolution (8,761 samples: one 0.5C cycle a day between
SOC 0.85 and 0.35, cell temperature with a seasonal +-8 K and a daily +-3 K swing around 20 C)
repeated 10 times (87,600 kernel steps per pack), model ``naumann2020`` (one ageing cell per pack),
per-pack temperature offsets N(0, 2 K) and rate-coefficient spread lognormal(0, 0.05), seed 1.
One output row a year per pack.

Both runs take the per-cell path (``share_profile=False``): this is what a cluster scales out.
A fleet sharing one profile, as here, is otherwise interpolated in its temperature offsets in
this process, a million packs in seconds (``bench_fleet.py``), and needs no cluster.

1. In-process: ``simulate_fleet``, blocks of cells in one thread per core of this process.
2. Dask: a ``LocalCluster`` with ``--workers`` worker processes (one Dask thread each,
   ``NUMBA_NUM_THREADS = cores / workers``), the same call with ``client=``.

Both are timed after a warm-up call (kernel compiled and cached; workers started and warmed),
the Dask time includes scattering, scheduling, gathering and assembling on the client. Printed:
wall time and pack-years per second of each, pack-years per second per core, whether the two
results are bit-identical, and a paper estimate for a cluster of ``--nodes`` x
``--cores-per-node`` from the measured per-core throughput. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np

HOUR_S = 3600.0


def representative_year():
    """Hourly year [s], SOC [-] and cell temperature [K] (periodic: last sample = first)."""
    t = np.arange(8761) * HOUR_S
    day = t % 86400.0
    soc = np.interp(day, [0, 3600, 72000, 75600, 86400], [0.85, 0.35, 0.35, 0.85, 0.85])
    T = 293.15 + 8.0 * np.sin(2 * np.pi * t / (8760 * HOUR_S)) + 3.0 * np.sin(2 * np.pi * day / 86400.0)
    return t, soc, T


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packs", type=int, default=1_000_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--model", default="naumann2020")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--nodes", type=int, default=100, help="cluster size of the paper estimate")
    ap.add_argument("--cores-per-node", type=int, default=64, help="cores per node of the paper estimate")
    args = ap.parse_args(argv)

    import warnings

    import batterylab.aging as aging
    from batterylab import distributed as bd
    from batterylab.kernels.jit import get_num_threads

    warnings.simplefilter("ignore", aging.OutOfRangeWarning)
    from distributed import Client, LocalCluster

    t, soc, T = representative_year()
    kw = dict(repeat=args.years, temperature_spread_K=2.0, coefficient_spread=0.05, seed=1, progress=False,
              share_profile=False,
              max_output_rows=args.years + 1)
    cores = os.cpu_count() or 1
    pack_years = args.packs * args.years
    print(f"workload: {args.packs:,} packs x {args.years} years of an hourly year ({t.size} samples), "
          f"model {args.model}: {pack_years:,} pack-years, {args.packs * args.years * 8760:.3g} kernel steps")
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.2f} (shared)")

    aging.simulate_fleet(args.model, t, soc, T, n_cells=4, **{**kw, "repeat": 1})  # compile / load cache
    t0 = time.perf_counter()
    local = aging.simulate_fleet(args.model, t, soc, T, n_cells=args.packs, **kw)
    dt_local = time.perf_counter() - t0
    threads = get_num_threads()
    rate_local = pack_years / dt_local
    print(f"in-process ({threads} Numba threads): {dt_local:.1f} s, {rate_local:,.0f} pack-years/s, "
          f"{rate_local / threads:,.0f} per core")

    numba_threads = max(1, cores // args.workers)
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           env=bd.worker_environment(numba_threads), dashboard_address=":0",
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        aging.simulate_fleet(args.model, t, soc, T, n_cells=2 * args.workers, client=client, chunk_size=1,
                             **{**kw, "repeat": 1})  # workers import batterylab and load the kernel
        t0 = time.perf_counter()
        dist = aging.simulate_fleet(args.model, t, soc, T, n_cells=args.packs, client=client, **kw)
        dt_dist = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    used = args.workers * numba_threads
    rate_dist = pack_years / dt_dist
    print(f"Dask LocalCluster ({args.workers} workers x {numba_threads} Numba threads): {dt_dist:.1f} s, "
          f"{rate_dist:,.0f} pack-years/s, {rate_dist / used:,.0f} per core")
    same = all(np.array_equal(getattr(local, k), getattr(dist, k))
               for k in ("capacity_fraction", "resistance_factor", "efc", "eol_time_s")) and \
        np.array_equal(local.state.data, dist.state.data)
    print(f"bit-identical results: {same}")

    arrays = [local.capacity_fraction, local.efc, local.state.data, *local.states.values(), *local.groups.values()]
    if local.resistance_factor is not None:
        arrays.append(local.resistance_factor)
    bytes_per_pack = sum(a.nbytes for a in arrays) / args.packs
    per_core = rate_dist / used
    n = args.nodes * args.cores_per_node
    full = 1_000_000 * args.years
    print(f"paper estimate, {args.nodes} nodes x {args.cores_per_node} cores at the measured "
          f"{per_core:,.0f} pack-years/s per core: 1,000,000 packs x {args.years} years = "
          f"{full / (per_core * n):.1f} s of compute (plus cluster start-up, and gathering "
          f"{bytes_per_pack:,.0f} bytes per pack to the client)")


if __name__ == "__main__":
    main()
