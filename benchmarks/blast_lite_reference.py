"""Regenerate the NREL BLAST-Lite reference trajectories in ``validation/data/blast_lite/``.

BLAST-Lite (PyPI ``blast-lite``, BSD-3-Clause, https://github.com/NatLabRockies/BLAST-Lite) pins
``numpy<2`` and cannot share an environment with batterylab's PyBaMM stack. This script therefore
builds its own virtual environment, ``benchmarks/.venv-blast`` (git-ignored), installs a pinned
BLAST-Lite there, and re-runs itself inside it::

    python benchmarks/blast_lite_reference.py            # build the venv if needed, then run
    python benchmarks/blast_lite_reference.py --check    # run, compare with the committed files

What is run
-----------
Six BLAST-Lite models (the BLAST family batterylab ships as ``parameter_sets/aging/blast_*.json``)
on the eight fixed hourly profiles of ``validation/cases/_blast_profiles.py`` for 10 years.

Two drivers are recorded:

``trajectory_<model>.csv`` and ``end_of_horizon.csv`` (the cross-check reference)
    BLAST-Lite's public ``update_battery_state(t_secs, soc, T_celsius)`` called once per day on
    the 25 hourly points of that day (consecutive days share their end point, so no time and no
    charge throughput is dropped). Inside each call BLAST-Lite computes its stressors (time-averaged
    rates by the trapezoid rule, DOD = max - min SOC of the day, time-averaged |C-rate|, EFC as
    sum |dSOC| / 2 times the present relative capacity) and advances its states by one forward-Euler
    step of one day. This isolates BLAST-Lite's model equations and integrator from its chunking
    heuristics. ``trajectory_<model>.csv``: one row every 30 days and the last day (3650), one
    column per profile and output (``capacity_fraction:<profile>``, ``resistance_factor:<profile>``);
    ``end_of_horizon.csv``: day 3650 at full precision with the EFC (BLAST-Lite counts EFC as
    sum |dSOC| / 2 times the relative capacity q at the start of each day).

``states_end.csv`` (per-state end values)
    Every BLAST-Lite internal state at day 3650 with the daily driver (driver ``daily``), and, for
    the profiles whose stress varies within a day (``HOURLY_PROFILES``), at day 365 with an hourly
    driver (``hourly_first_year``): one ``update_battery_state`` call per hour over the first year. BLAST-Lite's daily step uses the day's mean rate; for a
    power law y = k t^p with p < 1 the exact solution under a rate that varies within the day
    grows with the day's mean of k^(1/p), which is larger (power-mean inequality), so a daily step
    underestimates such states. The hourly driver resolves the variation and converges to the
    exact solution for the time-driven (calendar) states; its cycle states are not meaningful
    (one hour's SOC change is not a cycle depth).

``simulate_battery_life.csv`` (information only)
    BLAST-Lite's one-call ``simulate_battery_life`` on the same 10-year input with its defaults
    (rainflow-based breakpoints about once a day, SOC rescaled by 1/q to conserve energy
    throughput). Its breakpoint chunks do not share end points, so about one hour per day of the
    input is not counted as ageing time, and it repeats the input until its own clock reaches
    10 years. Output: the end values and BLAST-Lite's own elapsed days.

Where a model produces NaN the value is written as ``nan`` and the first NaN day is recorded in
``manifest.json``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv-blast"
OUT = REPO / "validation" / "data" / "blast_lite"
PROFILES_FILE = REPO / "validation" / "cases" / "_blast_profiles.py"
BLAST_REQUIREMENTS = ["blast-lite==1.1.1", "numpy<2"]

#: batterylab model name -> BLAST-Lite class name, and whether BLAST-Lite models resistance.
MODELS = {
    "blast_nmc111_kokam75ah": ("Nmc111_Gr_Kokam75Ah_Battery", True),
    "blast_lfp_250ah_prismatic": ("Lfp_Gr_250AhPrismatic", False),
    "blast_nca_panasonic18650b": ("Nca_Gr_Panasonic3Ah_Battery", False),
    "blast_lfp_sonymurata3ah": ("Lfp_Gr_SonyMurata3Ah_Battery", True),
    "blast_nmc811_lgm50": ("Nmc811_GrSi_LGM50_5Ah_Battery", False),
    "blast_lmo_nissanleaf_2ndlife": ("Lmo_Gr_NissanLeaf66Ah_2ndLife_Battery", False),
}
YEARS = 10.0
SAMPLE_EVERY_DAYS = 30
#: Profiles whose stress varies within a day, also run with one BLAST-Lite step per hour over
#: their first HOURLY_YEARS (BLAST-Lite needs about a minute of CPU per simulated decade hourly).
HOURLY_PROFILES = ("continental_storage", "cycle_25C", "continental_cycle")
HOURLY_YEARS = 1.0


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """Create ``benchmarks/.venv-blast`` with the pinned BLAST-Lite if it is not there yet."""
    py = venv_python()
    ok = py.exists() and subprocess.run(
        [str(py), "-c", "import blast, numpy; assert numpy.__version__ < '2'"],
        capture_output=True,
    ).returncode == 0
    if not ok:
        print(f"creating {VENV} with {' '.join(BLAST_REQUIREMENTS)}", flush=True)
        # sys._base_executable: the interpreter itself, even when this runs inside another venv.
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", *BLAST_REQUIREMENTS], check=True)
    return py


def load_profiles():
    spec = importlib.util.spec_from_file_location("_blast_profiles", PROFILES_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- inside BLAST-Lite's venv


def run_daily(cls, t, soc, temp_C, np):
    """Drive one BLAST-Lite cell day by day; return per-day arrays (day 0 included)."""
    cell = cls()
    per_day = 24
    n_days = (len(t) - 1) // per_day
    for d in range(n_days):
        sl = slice(d * per_day, d * per_day + per_day + 1)
        cell.update_battery_state(t[sl], soc[sl], temp_C[sl])
    days = np.asarray(cell.stressors["t_days"], dtype=float)
    q = np.asarray(cell.outputs["q"], dtype=float)
    r = np.asarray(cell.outputs["r"], dtype=float) if "r" in cell.outputs else None
    efc = np.asarray(cell.stressors["efc"], dtype=float)
    return days, q, r, efc, {k: float(v[-1]) for k, v in cell.states.items()}


def run_hourly(cls, t, soc, temp_C):
    """Drive one BLAST-Lite cell hour by hour (each call on the two samples of one hour).

    BLAST-Lite keeps its whole history in arrays it grows with ``np.append``; only the last
    entries are ever read back, so the history is cut to the last two entries once a day to keep
    the run linear in time. Only the time-driven (calendar) states are meaningful: one hour's
    "depth of discharge" is that hour's SOC change, not a cycle depth.
    """
    cell = cls()
    for i in range(len(t) - 1):
        cell.update_battery_state(t[i:i + 2], soc[i:i + 2], temp_C[i:i + 2])
        if i % 24 == 23:
            for d in (cell.states, cell.outputs, cell.stressors, cell.rates):
                for k in d:
                    d[k] = d[k][-2:]
    return {k: float(v[-1]) for k, v in cell.states.items()}, float(cell.stressors["t_days"][-1])


def run_job(job):
    """One model on one profile: daily driver, hourly driver (HOURLY_PROFILES), simulate_battery_life."""
    import numpy as np
    import blast.models

    warnings.simplefilter("ignore")  # BLAST-Lite's NaN arithmetic warns; NaN is recorded instead
    name, pname = job
    cls_name, has_r = MODELS[name]
    cls = getattr(blast.models, cls_name)
    prof = load_profiles()
    t, soc, temp_K = prof.profile(pname, YEARS)
    temp_C = temp_K - prof.ZERO_CELSIUS_K
    t0 = time.perf_counter()
    days, q, r, efc, st_daily = run_daily(cls, t, soc, temp_C, np)
    st_hourly = None
    if pname in HOURLY_PROFILES:
        n1 = int(round(HOURLY_YEARS * 365 * 24)) + 1
        st_hourly, d_end = run_hourly(cls, t[:n1], soc[:n1], temp_C[:n1])
        assert abs(d_end - HOURLY_YEARS * 365) < 1e-6
    cell = cls()
    cell.simulate_battery_life({"Time_s": t, "SOC": soc.copy(), "Temperature_C": temp_C})
    sim = (float(cell.stressors["t_days"][-1]), float(cell.outputs["q"][-1]),
           float(cell.outputs["r"][-1]) if has_r else float("nan"), float(cell.stressors["efc"][-1]))
    return days, q, r, efc, st_daily, st_hourly, sim, time.perf_counter() - t0


def inside(check: bool) -> int:
    import numpy as np
    import blast
    import blast.models
    from importlib.metadata import version

    warnings.simplefilter("ignore")  # BLAST-Lite's NaN arithmetic warns; NaN is recorded instead
    from multiprocessing import Pool

    prof = load_profiles()
    jobs = [(name, pname) for name in MODELS for pname in prof.PROFILES]
    with Pool(processes=3) as pool:
        results = pool.map(run_job, jobs, chunksize=1)
    wide, end, summary, first_nan, timings, states_end = {}, [], [], {}, {}, []
    for (name, pname), res in zip(jobs, results):
        has_r = MODELS[name][1]
        days, q, r, efc, st_daily, st_hourly, sim, elapsed = res
        timings[f"{name}/{pname}"] = round(elapsed, 1)
        bad = ~np.isfinite(q) | (~np.isfinite(r) if r is not None else False)
        if bad.any():
            first_nan[f"{name}/{pname}"] = float(days[np.argmax(bad)])
        for k, v in st_daily.items():
            states_end.append([name, pname, "daily", k, f"{v:.10g}"])
        for k, v in (st_hourly or {}).items():
            states_end.append([name, pname, "hourly_first_year", k, f"{v:.10g}"])
        keep = np.unique(np.r_[np.arange(0, len(days), SAMPLE_EVERY_DAYS), len(days) - 1])
        cols = wide.setdefault(name, {})
        cols["time_s"] = [f"{d * 86400.0:.0f}" for d in days[keep]]
        cols[f"capacity_fraction:{pname}"] = [f"{v:.8g}" for v in q[keep]]
        if r is not None:
            cols[f"resistance_factor:{pname}"] = [f"{v:.8g}" for v in r[keep]]
        end.append([name, pname, f"{days[-1] * 86400.0:.0f}", f"{q[-1]:.10g}",
                    f"{r[-1]:.10g}" if r is not None else "", f"{efc[-1]:.10g}"])
        summary.append([name, pname, f"{sim[0]:.4f}", f"{sim[1]:.10g}", f"{sim[2]:.10g}" if has_r else "",
                        f"{sim[3]:.10g}"])
        print(f"{name:30s} {pname:22s} q10={q[-1]:.6f}  (simulate_battery_life q={sim[1]:.6f} at {sim[0]:.1f} d)")

    sheader = ["model", "profile", "blast_elapsed_days", "capacity_fraction", "resistance_factor", "efc"]
    header = ["model", "profile", "time_s", "capacity_fraction", "resistance_factor", "efc"]
    files = {"end_of_horizon.csv": (header, end), "simulate_battery_life.csv": (sheader, summary),
             "states_end.csv": (["model", "profile", "driver", "state", "value"], states_end)}
    for name, cols in wide.items():
        files[f"trajectory_{name}.csv"] = (list(cols), [list(x) for x in zip(*cols.values())])
    manifest = {
        "generator": "benchmarks/blast_lite_reference.py",
        "command": "python benchmarks/blast_lite_reference.py",
        "blast_lite_version": version("blast-lite"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "licence": "BSD-3-Clause (BLAST-Lite, Alliance for Energy Innovation, LLC)",
        "models": {k: v[0] for k, v in MODELS.items()},
        "profiles": prof.PROFILES,
        "years": YEARS,
        "sample_every_days": SAMPLE_EVERY_DAYS,
        "first_nan_day": first_nan,
        "hourly_profiles": list(HOURLY_PROFILES),
        "hourly_years": HOURLY_YEARS,
    }
    if check:
        return compare(files)
    OUT.mkdir(parents=True, exist_ok=True)
    for fname, (h, rows) in files.items():
        write_csv(OUT / fname, h, rows)
    tmp = OUT / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, OUT / "manifest.json")
    print("wrote", OUT, "; first NaN day:", first_nan)
    print("run times [s]:", timings)
    return 0


def write_csv(path: Path, header, rows) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def compare(files) -> int:
    """Exit status 0 when every committed file is reproduced exactly."""
    status = 0
    for fname, (h, rows) in files.items():
        with open(OUT / fname) as f:
            same = list(csv.reader(f)) == [h] + [list(map(str, r)) for r in rows]
        print(f"{fname}: {'reproduced exactly' if same else 'DIFFERS'}")
        status |= 0 if same else 1
    return status


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inside:
        return inside(args.check)
    py = ensure_venv()
    cmd = [str(py), str(Path(__file__).resolve()), "--inside"] + (["--check"] if args.check else [])
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
