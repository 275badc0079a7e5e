"""The committed BLAST-Lite ``simulate_battery_life`` reference is complete and self-consistent.

Files: ``validation/data/blast_lite_sbl/`` (written by ``benchmarks/blast_lite_sbl_reference.py``
inside BLAST-Lite's own environment); profiles: ``batterylab.validation.blast_sbl_profiles``.
This checks the data only (no kernel): every MATRIX pair has its file, the manifest hashes
match, the profiles regenerate deterministically with the length and duration recorded, and
the histories are sane (q in (0, 1.01], clocks increasing, NaN only where recorded).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from batterylab.validation import blast_sbl_profiles as profiles

DATA = Path(__file__).resolve().parent.parent / "validation" / "data" / "blast_lite_sbl"
MODELS = {"blast_nmc111_kokam75ah", "blast_lfp_250ah_prismatic", "blast_nca_panasonic18650b",
          "blast_lfp_sonymurata3ah", "blast_nmc811_lgm50", "blast_lmo_nissanleaf_2ndlife"}


def _read(name):
    with open(DATA / name, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def summary():
    header, rows = _read("summary.csv")
    return {(r[0], r[1]): dict(zip(header, r)) for r in rows}


@pytest.fixture(scope="module")
def manifest():
    return json.loads((DATA / "manifest.json").read_text())


def test_matrix_covers_every_model_with_four_profiles():
    assert set(profiles.MATRIX) == set(map(tuple, profiles.MATRIX))
    assert len(set(profiles.MATRIX)) == len(profiles.MATRIX)
    assert {m for m, _ in profiles.MATRIX} == MODELS
    for model in MODELS:
        assert len({p for m, p in profiles.MATRIX if m == model}) >= 4, model
    assert {p for _, p in profiles.MATRIX} <= set(profiles.PROFILES)
    assert len(profiles.PROFILES) >= 15


def test_every_pair_present_and_hashes_match(summary, manifest):
    expected = {f"{m}__{p}.csv" for m, p in profiles.MATRIX} | {"summary.csv"}
    assert set(manifest["sha256"]) == expected
    assert {p.name for p in DATA.glob("*.csv")} == expected
    assert set(summary) == set(profiles.MATRIX)
    assert [tuple(p) for p in manifest["matrix"]] == list(profiles.MATRIX)
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    assert manifest["kwargs"]["threshold_time"] is None
    assert manifest["kwargs"]["is_conserve_energy_throughput"] is True


def test_folder_is_small():
    assert sum(p.stat().st_size for p in DATA.iterdir()) < 15e6


@pytest.mark.parametrize("name", sorted(profiles.PROFILES))
def test_profiles_are_deterministic_and_match_summary(name, summary, manifest):
    t, soc, temp = profiles.PROFILES[name]()
    recorded = manifest["profile_array_sha256"].get(name)
    if recorded is not None:
        # the very arrays BLAST-Lite ran on (numpy 1.26 there). The temperature's cosines may
        # differ in the last bit between numpy builds, so only time and SOC are compared exactly.
        for key, a in (("time_s", t), ("soc", soc)):
            assert hashlib.sha256(a.tobytes()).hexdigest() == recorded[key], key
    t2, soc2, temp2 = profiles.PROFILES[name]()
    for a, b in ((t, t2), (soc, soc2), (temp, temp2)):
        assert a.dtype == np.float64 and np.array_equal(a, b)
    assert len(t) == len(soc) == len(temp) and t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert np.all((soc >= 0.0) & (soc <= 1.0))
    dt = t[1] - t[0]
    assert np.all(np.diff(t) == dt) and dt in (600.0, 3600.0)
    days = t[-1] / 86400.0
    assert 365.0 <= days <= 3650.0
    for (_, p), s in summary.items():
        if p == name:
            assert int(s["n_samples"]) == len(t)
            assert float(s["input_days"]) == days
            assert float(s["dt_s"]) == dt


@pytest.mark.parametrize("pair", sorted(profiles.MATRIX), ids="/".join)
def test_history_is_sane(pair, summary):
    model, pname = pair
    s = summary[pair]
    header, rows = _read(f"{model}__{pname}.csv")
    assert header[:7] == ["update", "pass", "window", "t_days", "efc", "q", "r"]
    assert all(h.startswith(("state:", "rate:", "stress:")) for h in header[7:])
    col = {h: i for i, h in enumerate(header)}
    upd = np.array([int(r[col["update"]]) for r in rows])
    t = np.array([float(r[col["t_days"]]) for r in rows])
    efc = np.array([float(r[col["efc"]]) for r in rows])
    q = np.array([float(r[col["q"]]) for r in rows])
    assert len(rows) <= 3001 and upd[0] == 0 and upd[-1] == int(s["n_updates"])
    assert np.all(np.diff(upd) > 0) and np.all(np.diff(t) > 0)
    assert np.all(np.diff(efc[np.isfinite(efc)]) >= 0)  # after a NaN q, BLAST's efc is NaN too
    last = rows[-1]
    assert last[col["t_days"]] == s["t_days"] and last[col["efc"]] == s["efc"] and last[col["q"]] == s["q"]
    assert last[col["r"]] == s["r"]
    # BLAST's clock passes the input's duration (by at most about one window) and stops there
    assert float(s["input_days"]) - 1 / 86400 < t[-1] < float(s["input_days"]) + 1.5
    assert t[-2] <= float(s["input_days"])
    finite = np.isfinite(q)
    if s["first_nan_update"]:
        first = int(s["first_nan_update"])
        assert np.all(finite[upd < first]) and not np.any(finite[upd >= first])
    else:
        assert finite.all()
    assert np.all((q[finite] > 0.0) & (q[finite] <= 1.01))
