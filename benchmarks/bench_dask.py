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

Both stream their yearly rows and final states to an HDF5 file as the chunks finish
(``save_to``), so neither holds the whole fleet. Both are timed after a warm-up call (kernel
compiled and cached; workers started and warmed); the Dask time includes scattering, scheduling,
gathering and writing on the client. Printed: wall time and pack-years per second of each,
pack-years per second per core, the Dask overhead against in-process, the client's peak memory,
whether the two files are bit-identical (every dataset), and a paper estimate for a cluster of ``--nodes`` x
``--cores-per-node`` from the measured per-core throughput. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

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
    tmp = Path(tempfile.mkdtemp(prefix="bench_dask-"))
    try:
        t0 = time.perf_counter()
        local = aging.simulate_fleet(args.model, t, soc, T, n_cells=args.packs, save_to=tmp / "local.h5", **kw)
        dt_local = time.perf_counter() - t0
        threads = get_num_threads()
        rate_local = pack_years / dt_local
        print(f"in-process ({threads} Numba threads): {dt_local:.1f} s, {rate_local:,.0f} pack-years/s, "
              f"{rate_local / threads:,.0f} per core; peak memory so far {_peak_gb():.2f} GB")

        numba_threads = max(1, cores // args.workers)
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               env=bd.worker_environment(numba_threads), dashboard_address=":0",
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            aging.simulate_fleet(args.model, t, soc, T, n_cells=2 * args.workers, client=client, chunk_size=1,
                                 **{**kw, "repeat": 1})  # workers import batterylab and load the kernel
            t0 = time.perf_counter()
            dist = aging.simulate_fleet(args.model, t, soc, T, n_cells=args.packs, client=client,
                                        save_to=tmp / "dask.h5", **kw)
            dt_dist = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        used = args.workers * numba_threads
        rate_dist = pack_years / dt_dist
        print(f"Dask LocalCluster ({args.workers} workers x {numba_threads} Numba threads): {dt_dist:.1f} s, "
              f"{rate_dist:,.0f} pack-years/s, {rate_dist / used:,.0f} per core; scheduling, transfer and "
              f"assembly overhead {dt_dist - dt_local:+.1f} s ({dt_dist / dt_local - 1:+.1%} of the in-process time); "
              f"client peak memory so far {_peak_gb():.2f} GB")
        same, size = _same_datasets(local.path, dist.path)
        print(f"bit-identical results (every dataset of the two streamed files, the state included): {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    per_core = rate_dist / used
    n = args.nodes * args.cores_per_node
    full = 1_000_000 * args.years
    m = aging.load(args.model)  # a chunk's records per pack: state vector, output rows, stress ranges
    sent = 8 * (m.state_length + (args.years + 1) * (4 + m.n_states + len(m.group_names)) + 2 * 10)
    print(f"paper estimate, {args.nodes} nodes x {args.cores_per_node} cores at the measured "
          f"{per_core:,.0f} pack-years/s per core: 1,000,000 packs x {args.years} years = "
          f"{full / (per_core * n):.1f} s of compute (plus cluster start-up, and gathering about "
          f"{sent:,} bytes per pack to the client, which writes {size / args.packs:,.0f} bytes per pack, compressed)")


def _peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def _same_datasets(a_path, b_path) -> tuple[bool, int]:
    """Whether every dataset of two files is bit-identical (read in blocks of cells), and a's size [bytes]."""
    import h5py

    names = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        a.visititems(lambda k, v: names.append(k) if isinstance(v, h5py.Dataset) else None)
        for k in names:
            if k not in b or a[k].shape != b[k].shape:
                return False, 0
            n = a[k].shape[0] if a[k].ndim else 1
            for i in range(0, n, 65536):
                sl = slice(i, i + 65536) if a[k].ndim else ()
                if not np.array_equal(a[k][sl], b[k][sl]):
                    return False, 0
    return True, Path(a_path).stat().st_size


if __name__ == "__main__":
    main()
