"""Regenerate the BLAST-Lite ``simulate_battery_life`` reference in ``validation/data/blast_lite_sbl/``.

Runs NREL BLAST-Lite 1.1.1's one-call driver ``BatteryDegradationModel.simulate_battery_life`` with
its default arguments on every (model, profile) pair of ``MATRIX`` in
``validation/blast_sbl_profiles.py`` and writes BLAST-Lite's own per-update history. It reuses the
virtual environment of ``benchmarks/blast_lite_reference.py`` (``benchmarks/.venv-blast``,
git-ignored, ``blast-lite==1.1.1`` and ``numpy<2``) and re-runs itself inside it::

    python benchmarks/blast_lite_sbl_reference.py                # build the venv if needed, write
    python benchmarks/blast_lite_sbl_reference.py --check        # rerun, compare, write nothing
    python benchmarks/blast_lite_sbl_reference.py --check-naive  # tests/naive_blast_window.py vs BLAST

``--check-naive`` drives ``tests/naive_blast_window.py`` (the plain numpy re-implementation of the
driver's control flow) with BLAST-Lite's own model methods and reports, for every pair, the
largest difference of q, t_days and efc from ``simulate_battery_life``.

The call, for each pair (``cls`` the BLAST-Lite class, arrays from the profile function)::

    cell = cls()
    cell.simulate_battery_life({"Time_s": t, "SOC": soc, "Temperature_C": T}, **SBL_KWARGS)

``SBL_KWARGS`` spells out BLAST-Lite's defaults (checked against the signature at run time):
no stopping threshold (so BLAST-Lite sets ``threshold_time = (t[-1] - 1 s)`` in years),
``is_constant_input=False``, ``is_conserve_energy_throughput=True``, breakpoints every 86400 s or
1 EFC.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import inspect
import io
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from blast_lite_reference import MODELS, ensure_venv  # noqa: E402  (same venv, same model map)

REPO = HERE.parent
OUT = REPO / "validation" / "data" / "blast_lite_sbl"
PROFILES_FILE = REPO / "validation" / "blast_sbl_profiles.py"
NAIVE_FILE = REPO / "tests" / "naive_blast_window.py"
SBL_KWARGS = {
    "threshold_time": None,
    "threshold_capacity": None,
    "threshold_efc": None,
    "is_constant_input": False,
    "is_conserve_energy_throughput": True,
    "breakpoints_max_time_diff_s": 86400,
    "breakpoints_max_EFC_diff": 1,
}
#: At most this many history rows per pair: every k-th update (k = ceil(n / ROW_CAP)) plus the last.
ROW_CAP = 1000
#: BLAST-Lite stressor histories written as ``stress:<name>`` when the model keeps them
#: (``TdegK`` and ``soc`` are window means, as BLAST-Lite stores them).
STRESSORS = ("delta_t_days", "delta_efc", "dod", "Crate", "Cdis", "TdegK", "soc")


def load_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fmt(v) -> str:
    return repr(float(v))


# ---------------------------------------------------------------- inside BLAST-Lite's venv


def windows_per_pass(soc, t):
    """The breakpoints simulate_battery_life uses (its own code path: rainflow + _find_breakpoints)."""
    import numpy as np
    from blast.models.degradation_model import BatteryDegradationModel
    from blast.utils.rainflow import extract_cycles

    idx = np.unique(np.array([c[-1] for c in extract_cycles(soc)]))
    efcs = np.cumsum(np.abs(np.ediff1d(soc, to_begin=0))) / 2
    bps = BatteryDegradationModel._find_breakpoints(
        t, efcs, idx, max_time_diff_s=SBL_KWARGS["breakpoints_max_time_diff_s"],
        max_EFC_diff=SBL_KWARGS["breakpoints_max_EFC_diff"])
    if not bps or bps[-1] != len(t) - 1:
        bps.append(len(t) - 1)
    return len(bps)


def run_pair(pair):
    """One BLAST-Lite simulate_battery_life run; returns (header, rows, summary dict)."""
    import numpy as np
    import blast.models

    warnings.simplefilter("ignore")  # BLAST-Lite's NaN arithmetic warns; NaN is recorded instead
    model, pname = pair
    cls_name, has_r = MODELS[model]
    prof = load_file(PROFILES_FILE, "blast_sbl_profiles")
    t, soc, temp_C = prof.PROFILES[pname]()
    cell = getattr(blast.models, cls_name)()
    t0 = time.perf_counter()
    cell.simulate_battery_life({"Time_s": t, "SOC": soc.copy(), "Temperature_C": temp_C.copy()},
                               **SBL_KWARGS)
    elapsed = time.perf_counter() - t0
    n_win = windows_per_pass(soc, t)

    cols = {}
    n = len(cell.stressors["t_days"])
    cols["update"] = np.arange(n)
    cols["pass"] = np.r_[0, (np.arange(1, n) - 1) // n_win]
    cols["window"] = np.r_[-1, (np.arange(1, n) - 1) % n_win]
    cols["t_days"] = cell.stressors["t_days"]
    cols["efc"] = cell.stressors["efc"]
    cols["q"] = cell.outputs["q"]
    cols["r"] = cell.outputs["r"] if has_r else None
    for k, v in cell.states.items():
        cols[f"state:{k}"] = v
    for k, v in cell.rates.items():
        cols[f"rate:{k}"] = v
    for k in STRESSORS:
        if k in cell.stressors:
            cols[f"stress:{k}"] = cell.stressors[k]
    for k, v in cols.items():
        if v is not None and len(v) != n:
            raise RuntimeError(f"{model}/{pname}: history {k} has {len(v)} entries, t_days {n}")
    step = max(1, -(-n // ROW_CAP))
    keep = np.unique(np.r_[np.arange(0, n, step), n - 1])
    header = list(cols)
    rows = []
    for i in keep:
        row = []
        for k, v in cols.items():
            if v is None:
                row.append("")
            elif k in ("update", "pass", "window"):
                row.append(str(int(v[i])))
            else:
                row.append(fmt(v[i]))
        rows.append(row)
    q = np.asarray(cell.outputs["q"], dtype=float)
    bad = np.flatnonzero(~np.isfinite(q))
    summary = {
        "model": model, "profile": pname,
        "t_days": fmt(cell.stressors["t_days"][-1]), "efc": fmt(cell.stressors["efc"][-1]),
        "q": fmt(q[-1]), "r": fmt(cell.outputs["r"][-1]) if has_r else "",
        "n_updates": str(n - 1), "windows_per_pass": str(n_win),
        "input_days": fmt(t[-1] / 86400.0), "n_samples": str(len(t)), "dt_s": fmt(t[1] - t[0]),
        "first_nan_update": str(int(bad[0])) if len(bad) else "",
        "rows_written": str(len(rows)), "every_kth": str(step),
        "run_s": f"{elapsed:.2f}",
    }
    return header, rows, summary


def profile_hashes(prof, names):
    """sha256 of the float64 bytes of each profile's arrays as BLAST-Lite received them."""
    import numpy as np

    out = {}
    for name in names:
        arrays = prof.PROFILES[name]()
        out[name] = {key: hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()
                     for key, a in zip(("time_s", "soc", "temperature_C"), arrays)}
    return out


def csv_text(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def inside(check: bool) -> int:
    import numpy as np
    from importlib.metadata import version
    from multiprocessing import Pool
    from blast.models.degradation_model import BatteryDegradationModel

    sig = inspect.signature(BatteryDegradationModel.simulate_battery_life).parameters
    defaults = {k: sig[k].default for k in SBL_KWARGS}
    if defaults != SBL_KWARGS:
        raise RuntimeError(f"SBL_KWARGS {SBL_KWARGS} are not BLAST-Lite's defaults {defaults}")
    prof = load_file(PROFILES_FILE, "blast_sbl_profiles")
    pairs = list(prof.MATRIX)
    t0 = time.perf_counter()
    with Pool(processes=2) as pool:
        results = pool.map(run_pair, pairs, chunksize=1)
    total = time.perf_counter() - t0
    files = {}
    summaries = []
    for (model, pname), (header, rows, summary) in zip(pairs, results):
        files[f"{model}__{pname}.csv"] = csv_text(header, rows)
        summaries.append(summary)
        print(f"{model:30s} {pname:27s} q={float(summary['q']):.6f} t_days={float(summary['t_days']):10.4f} "
              f"input={float(summary['input_days']):10.4f} updates={summary['n_updates']:>5s} "
              f"{summary['run_s']} s", flush=True)
    sheader = list(summaries[0])
    files["summary.csv"] = csv_text(sheader, [[s[k] for k in sheader] for s in summaries])
    print(f"total BLAST-Lite time {total:.1f} s (2 processes)")
    if check:
        return compare(files)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.csv"):
        if old.name not in files:
            old.unlink()
    for fname, text in files.items():
        tmp = OUT / (fname + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, OUT / fname)
    manifest = {
        "generator": "benchmarks/blast_lite_sbl_reference.py",
        "command": "python benchmarks/blast_lite_sbl_reference.py",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "blast_lite_version": version("blast-lite"),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "licence": "BSD-3-Clause (BLAST-Lite, Alliance for Energy Innovation, LLC)",
        "call": 'cls().simulate_battery_life({"Time_s": time_s, "SOC": soc, "Temperature_C": temperature_C}, **kwargs)',
        "kwargs": SBL_KWARGS,
        "kwargs_are_blast_defaults": True,
        "models": {k: v[0] for k, v in MODELS.items()},
        "profiles_module": "validation/blast_sbl_profiles.py",
        "profiles": {p: prof.DESCRIPTIONS[p] for p in sorted({p for _, p in pairs})},
        "profile_array_sha256": profile_hashes(prof, sorted({p for _, p in pairs})),
        "matrix": [list(p) for p in pairs],
        "row_cap": ROW_CAP,
        "total_run_s_2_processes": round(total, 1),
        "sha256": {f: hashlib.sha256(files[f].encode()).hexdigest() for f in sorted(files)},
    }
    tmp = OUT / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, OUT / "manifest.json")
    print("wrote", OUT)
    return 0


def compare(files) -> int:
    """0 when every committed file is reproduced (summary.csv: all but the run time)."""
    status = 0
    for fname, text in files.items():
        path = OUT / fname
        old = path.read_text() if path.exists() else None
        if fname == "summary.csv" and old is not None:
            def strip(s):
                rows = list(csv.reader(io.StringIO(s)))
                i = rows[0].index("run_s")
                return [r[:i] + r[i + 1:] for r in rows]
            same = strip(old) == strip(text)
        else:
            same = old == text
        if not same:
            print(f"{fname}: DIFFERS")
        status |= 0 if same else 1
    print("all files reproduced" if status == 0 else "some files differ")
    return status


def check_naive_pair(pair):
    """Run tests/naive_blast_window.py with BLAST-Lite's model methods; compare with BLAST-Lite."""
    import numpy as np
    import blast.models

    warnings.simplefilter("ignore")
    model, pname = pair
    cls = getattr(blast.models, MODELS[model][0])
    prof = load_file(PROFILES_FILE, "blast_sbl_profiles")
    naive = load_file(NAIVE_FILE, "naive_blast_window")
    t, soc, temp_C = prof.PROFILES[pname]()
    ref = cls()
    ref.simulate_battery_life({"Time_s": t, "SOC": soc.copy(), "Temperature_C": temp_C.copy()}, **SBL_KWARGS)
    cell = cls()

    def step(stressors):
        cell.update_rates(stressors)
        cell.update_states(stressors)
        cell.update_outputs(stressors)
        return cell.outputs["q"][-1]

    res = naive.simulate_battery_life(t, soc, temp_C, step, discharge_crate=(model == "blast_nmc811_lgm50"))
    out = {}
    for key, mine, theirs in (("q", res["q"], ref.outputs["q"]), ("t_days", res["t_days"], ref.stressors["t_days"]),
                              ("efc", res["efc"], ref.stressors["efc"])):
        mine, theirs = np.asarray(mine, float), np.asarray(theirs, float)
        if len(mine) != len(theirs):
            out[key] = f"length {len(mine)} vs {len(theirs)}"
            continue
        both = np.isfinite(mine) & np.isfinite(theirs)
        same_nan = np.array_equal(~np.isfinite(mine), ~np.isfinite(theirs))
        out[key] = float(np.max(np.abs(mine[both] - theirs[both]), initial=0.0)) if same_nan else "NaN pattern differs"
    for k, v in cell.states.items():
        a, b = np.asarray(v, float), np.asarray(ref.states[k], float)
        out[f"state:{k}"] = (float(np.nanmax(np.abs(a - b), initial=0.0)) if len(a) == len(b)
                             else f"length {len(a)} vs {len(b)}")
    out["clipped_windows"] = int(res["n_clipped"])
    clipped = np.flatnonzero(res["clipped"])
    out["first_clipped_update"] = int(clipped[0]) if len(clipped) else None
    out["updates"] = len(res["q"]) - 1
    out["windows_per_pass"] = len(res["breakpoints"])
    out["t_days_end_of_input"] = float(res["t_days"][len(res["breakpoints"])])
    out["input_days"] = float(t[-1] / 86400)
    return model, pname, out


def inside_check_naive(pairs) -> int:
    from multiprocessing import Pool

    prof = load_file(PROFILES_FILE, "blast_sbl_profiles")
    pairs = pairs or list(prof.MATRIX)
    with Pool(processes=2) as pool:
        results = pool.map(check_naive_pair, pairs, chunksize=1)
    status = 0
    for model, pname, out in results:
        print(f"{model}/{pname}: {json.dumps(out)}", flush=True)
        status |= 0 if all(v == 0.0 for k, v in out.items() if k.startswith(("q", "t_days", "efc", "state:"))
                              and k != "t_days_end_of_input") else 1
    print("naive re-implementation identical to BLAST-Lite" if status == 0 else "naive re-implementation DIFFERS")
    return status


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="rerun and compare with the committed files, write nothing")
    ap.add_argument("--check-naive", action="store_true",
                    help="compare tests/naive_blast_window.py driven by BLAST-Lite's model methods with BLAST-Lite")
    ap.add_argument("--pair", action="append", default=[], metavar="MODEL/PROFILE",
                    help="with --check-naive: only these pairs (repeatable)")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inside:
        if args.check_naive:
            return inside_check_naive([tuple(p.split("/")) for p in args.pair])
        return inside(args.check)
    py = ensure_venv()
    cmd = [str(py), str(Path(__file__).resolve()), "--inside"]
    cmd += ["--check"] if args.check else []
    cmd += ["--check-naive"] if args.check_naive else []
    for p in args.pair:
        cmd += ["--pair", p]
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
