"""``batterylab age``: listing, one cell and a quick fleet from the shipped EV-day profile."""

import warnings

import numpy as np
from click.testing import CliRunner

from batterylab import parameter_sets
from batterylab.aging.cli import age, read_profile
from batterylab.cli import cli
from batterylab.io import read_results

EV_DAY = str(parameter_sets.path("profiles", "ev_day.csv"))


def test_list_shows_models_with_chemistry_source_validity():
    r = CliRunner().invoke(cli, ["age", "--list"])
    assert r.exit_code == 0, r.output
    for name in ("schmalstieg2014", "naumann2020", "wang2011"):
        assert name in r.output
    assert "doi:10.1016/j.est.2018.01.019" in r.output
    assert "temperature_K 298.15..333.15" in r.output


def test_ev_day_profile_is_periodic():
    p = read_profile(EV_DAY)
    assert p["time_s"][-1] - p["time_s"][0] == 86400
    assert p["soc"][0] == p["soc"][-1]


def test_one_cell_ten_years(tmp_path):
    out = tmp_path / "r.h5"
    r = CliRunner().invoke(age, ["naumann2020", EV_DAY, "--years", "10", "--out", str(out)])
    assert r.exit_code == 0, r.output
    v, _ = read_results(out)
    q = v["capacity_fraction"].data
    assert q.shape == (3651,) and 0.5 < q[-1] < 1.0 and np.all(np.diff(q) <= 0)


def test_fleet_with_spread(tmp_path):
    out = tmp_path / "f.h5"
    args = ["schmalstieg2014", EV_DAY, "--years", "2", "--cells", "20", "--temperature-spread-K", "3",
            "--seed", "5", "--no-progress", "--out", str(out)]
    r = CliRunner().invoke(age, args)
    assert r.exit_code == 0, r.output
    assert "20 cell(s)" in r.output
    v, _ = read_results(out)
    q = v["capacity_fraction"].data[:, -1]
    assert q.shape == (20,) and q.std() > 0  # the spread shows
    r2 = CliRunner().invoke(age, args[:-1] + [str(tmp_path / "g.h5")])
    assert r2.exit_code == 0, r2.output
    v2, _ = read_results(tmp_path / "g.h5")
    np.testing.assert_array_equal(v2["capacity_fraction"].data, v["capacity_fraction"].data)  # seeded


def test_fleet_with_out_is_streamed_to_the_file_and_records_the_profile(tmp_path, monkeypatch):
    # a fleet asked for with --out goes to simulate_fleet(save_to=...), which writes the cells as
    # they finish: the same file as the in-memory result saved, with the CLI's inputs recorded
    import json

    import h5py

    from batterylab import aging

    seen = {}
    real = aging.simulate_fleet

    def spy(*a, **k):
        seen.update(k)
        return real(*a, **k)

    monkeypatch.setattr(aging, "simulate_fleet", spy)
    out = tmp_path / "s.h5"
    r = CliRunner().invoke(age, ["schmalstieg2014", EV_DAY, "--years", "2", "--cells", "12", "--temperature-spread-K",
                                 "3", "--seed", "5", "--no-progress", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert seen["save_to"] == str(out) and f"wrote {out}" in r.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", aging.OutOfRangeWarning)
        mem = real("schmalstieg2014", *(read_profile(EV_DAY)[k] for k in ("time_s", "soc", "temperature_K")),
                   n_cells=12, temperature_spread_K=3.0, seed=5, years=2.0, progress=False)
    v, _ = read_results(out)
    np.testing.assert_array_equal(v["capacity_fraction"].data, mem.capacity_fraction)
    q = mem.capacity_fraction[:, -1]
    assert f"mean {q.mean():.4f}, min {q.min():.4f}, max {q.max():.4f}" in r.output
    with h5py.File(out, "r") as f:
        cfg = json.loads(f.attrs["configuration_json"])
    assert cfg["profile"] == EV_DAY and cfg["years"] == 2.0 and cfg["n_cells"] == 12 and cfg["seed"] == 5


def test_fleet_config_entries_are_checked():
    import pytest

    from batterylab import aging
    from batterylab.errors import InputError

    warnings.simplefilter("ignore", aging.OutOfRangeWarning)  # (pytest restores the filters)
    p = read_profile(EV_DAY)
    args = ("naumann2020", p["time_s"], p["soc"], p["temperature_K"])
    r = aging.simulate_fleet(*args, n_cells=2, years=0.1, progress=False, config={"site": "depot 4", "batch": [1, 2]})
    assert r.config["site"] == "depot 4" and r.config["n_cells"] == 2
    with pytest.raises(InputError, match=r"config\['n_cells'\] is set by the run"):
        aging.simulate_fleet(*args, n_cells=2, years=0.1, progress=False, config={"n_cells": 3})
    with pytest.raises(InputError, match=r"config\['when'\] must be a JSON value"):
        aging.simulate_fleet(*args, n_cells=2, years=0.1, progress=False, config={"when": object()})
    with pytest.raises(InputError, match="config must be a dict"):
        aging.simulate_fleet(*args, n_cells=2, years=0.1, progress=False, config=["a"])


def test_bad_profile_names_missing_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("t,soc\n0,0.5\n1,0.5\n")
    r = CliRunner().invoke(age, ["naumann2020", str(bad)])
    assert r.exit_code != 0
    assert "time_s" in str(r.exception)


def _write(path, header, t, soc, temp):
    path.write_text(f"# test profile\n{header}\n" + "\n".join(f"{a},{b},{c}" for a, b, c in zip(t, soc, temp)) + "\n")
    return str(path)


def test_age_accepts_the_profile_headers_simulate_accepts(tmp_path):
    """One header table for every command: PyBaMM-style names give the same run as batterylab's."""
    p = read_profile(EV_DAY)
    ours = _write(tmp_path / "a.csv", "time_s,soc,temperature_K", p["time_s"], p["soc"], p["temperature_K"])
    pybamm_style = _write(tmp_path / "b.csv", "Time [s],SOC,Temperature [K]", p["time_s"], p["soc"], p["temperature_K"])
    b = read_profile(pybamm_style)
    for k in ("time_s", "soc", "temperature_K"):
        np.testing.assert_array_equal(b[k], read_profile(ours)[k])
    out = [tmp_path / "a.h5", tmp_path / "b.h5"]
    for f, o in zip((ours, pybamm_style), out):
        r = CliRunner().invoke(age, ["naumann2020", f, "--years", "1", "--out", str(o)])
        assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(read_results(out[0])[0]["capacity_fraction"].data,
                                  read_results(out[1])[0]["capacity_fraction"].data)
    # the same table as batterylab simulate's duty profiles (one parser, not two)
    from batterylab.cell.profiles import COLUMNS as DUTY
    from batterylab.io.columns import COLUMNS

    assert set(DUTY) == {c for c, (name, _) in COLUMNS.items() if name in ("time_s", "power_W", "current_A")}
    assert "Time [s]" in DUTY
    bad = _write(tmp_path / "c.csv", "Time [s],SOC,Temp [K]", p["time_s"], p["soc"], p["temperature_K"])
    r = CliRunner().invoke(age, ["naumann2020", bad])
    assert r.exit_code != 0 and "unknown profile column in c.csv 'Temp [K]'" in str(r.exception)


def test_age_warns_on_a_repeated_non_periodic_profile(tmp_path):
    t = np.arange(0.0, 86401.0, 3600.0)
    soc = np.linspace(0.9, 0.5, t.size)  # ends 0.4 below its start: not a periodic day
    f = _write(tmp_path / "p.csv", "time_s,soc,temperature_K", t, soc, np.full(t.size, 298.15))
    r = CliRunner().invoke(age, ["naumann2020", f, "--years", "1", "--out", str(tmp_path / "p.h5")])
    assert r.exit_code == 0, r.output
    assert "batterylab: warning: NonPeriodicProfileWarning: the profile is repeated 365 times but its SOC does not " \
           "return to its start: 0.9 at the start, 0.5 at the end" in r.output
    # a periodic profile, or one run once, is not warned about
    r = CliRunner().invoke(age, ["naumann2020", f, "--repeat", "1", "--out", str(tmp_path / "q.h5")])
    assert r.exit_code == 0 and "NonPeriodicProfileWarning" not in r.output, r.output
    r = CliRunner().invoke(age, ["naumann2020", EV_DAY, "--years", "1", "--out", str(tmp_path / "e.h5")])
    assert r.exit_code == 0 and "NonPeriodicProfileWarning" not in r.output, r.output


def test_age_without_out_says_nothing_was_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(age, ["naumann2020", EV_DAY, "--years", "1"])
    assert r.exit_code == 0, r.output
    assert "relative capacity at end: mean" in r.output  # the summary
    assert "nothing was written: give --out PATH" in r.output
    assert list(tmp_path.iterdir()) == []
