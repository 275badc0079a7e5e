"""Speed of the swap-station simulator (prints numbers; never asserted in tests).

1. Each shipped station (13 and 21 packs) over 10 years at 1-minute steps with per-pack ageing
   (Schmalstieg 2014, 15-min ageing history, 30-day ageing periods): wall and CPU time after a
   warm-up run that compiles and loads the kernels.
2. A sweep of 16 stations x 1 year without ageing, parallel over stations (prange), with 1 and 2
   threads; results are bit-identical.

Run: python benchmarks/bench_swap.py
"""

import time
import warnings

import numpy as np

from batterylab.kernels.jit import get_num_threads
from batterylab.swap import load_station, simulate_station, simulate_sweep


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main():
    warnings.simplefilter("ignore")  # the shipped stations extrapolate the ageing model (reported)
    for name in ("nio_gen2_like", "nio_gen3_like"):
        simulate_station(name, days=31)  # warm-up: compile / load the cached kernels
        for policy in ("immediate", "valley"):
            r, wall, cpu = timed(lambda: simulate_station(name, years=10, charging=policy,
                                                          handout="wear_levelling"))
            s = r.summary()
            print(f"{name:14s} {policy:9s} 10 years, 1-min steps, ageing: wall {wall:5.2f} s, "
                  f"CPU {cpu:5.2f} s; {s['customers']} customers, final SOH "
                  f"{s['final_soh_mean']:.3f}, {s['packs_replaced']} packs replaced")
    st = load_station("nio_gen3_like")
    stations = [st.replace(arrival_rate_per_h=[x * f for x in st.arrival_rate_per_h])
                for f in np.linspace(0.5, 4.0, 16)]
    simulate_sweep(stations[:2], days=2)
    res = {}
    for threads in (1, get_num_threads()):
        res[threads], wall, cpu = timed(lambda: simulate_sweep(stations, days=365, threads=threads))
        print(f"sweep 16 stations x 1 year, {threads} thread(s): wall {wall:5.2f} s, CPU {cpu:5.2f} s")
    a, b = res[1], res[get_num_threads()]
    same = all(np.array_equal(x["day_import_Wh"], y["day_import_Wh"]) for x, y in zip(a, b))
    print(f"sweep bit-identical across thread counts: {same}")


if __name__ == "__main__":
    main()
