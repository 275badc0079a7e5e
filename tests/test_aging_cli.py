"""``batterylab age``: listing, one cell and a quick fleet from the shipped EV-day profile."""

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
    v2, _ = read_results(tmp_path / "g.h5")
    np.testing.assert_array_equal(v2["capacity_fraction"].data, v["capacity_fraction"].data)  # seeded


def test_bad_profile_names_missing_columns(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("t,soc\n0,0.5\n1,0.5\n")
    r = CliRunner().invoke(age, ["naumann2020", str(bad)])
    assert r.exit_code != 0
    assert "time_s" in str(r.exception)
