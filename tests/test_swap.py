"""Swap-station simulator: Erlang-B, energy balance, policies, ageing feedback, files, CLI."""

import json

import numpy as np
import pytest

from batterylab.errors import InputError, OptionError, ParameterError
from batterylab.swap import (Station, erlang_b, load_station, policy_difference, simulate_station,
                             simulate_sweep)

# The shipped stations run at 20-25 degC and charge near 1C late in a pack's life, outside
# Schmalstieg's fitted 35-50 degC / <= 1C range; the run reports that as one OutOfRangeWarning.
EXTRAPOLATES = pytest.mark.filterwarnings("ignore::batterylab.aging.OutOfRangeWarning")


def loss_station(packs, rate_per_h, soc):
    """A charger per pack, no waiting, no swap time, no grid limit: an M/G/S/S loss system whose
    service time is the pack's recharge, E (0.95 - SOC) / (P eta) = 1 h at SOC 0.2."""
    return dict(packs=packs, chargers=packs, pack_energy_Wh=80000.0, charger_power_W=62500.0,
                charger_efficiency=0.96, grid_limit_W=1e9, arrival_rate_per_h=[rate_per_h] * 24,
                arrival_soc=soc, soc_full=0.95, soc_min=0.0, wait_limit_s=0.0, swap_time_s=0.0)


def test_erlang_b_recursion():
    assert erlang_b(13, 13.0) == pytest.approx(0.1919, abs=5e-5)
    assert erlang_b(21, 17.0) == pytest.approx(0.0650, abs=5e-5)
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 2.0) == pytest.approx(2.0 / 3.0)
    # closed form A^S/S! / sum A^k/k! for a small case
    a, s = 4.5, 6
    terms = [a**k / np.prod(np.arange(1, k + 1)) for k in range(s + 1)]
    assert erlang_b(s, a) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)
    with pytest.raises(InputError, match="offered_load"):
        erlang_b(3, -1.0)


def batch_error(result, n_batches=20):
    """Lost share and its Monte Carlo standard error from batch means over arrival order."""
    lost = (result.wait_s == -1).astype(float)
    batches = np.array_split(lost, n_batches)
    means = np.array([b.mean() for b in batches])
    return lost.mean(), means.std(ddof=1) / np.sqrt(n_batches)


@pytest.mark.parametrize("packs, rate, soc", [
    (13, 13.0, {"distribution": "fixed", "value": 0.2}),
    # uniform SOC: the service time is uniform between 0.8 h and 1.2 h with the same 1 h mean;
    # Erlang-B's insensitivity says the blocking does not change
    (13, 13.0, {"distribution": "uniform", "low": 0.15, "high": 0.25}),
    (21, 17.0, {"distribution": "fixed", "value": 0.2}),
])
def test_lost_share_is_erlang_b(packs, rate, soc):
    r = simulate_station(loss_station(packs, rate, soc), days=200, aging=False, seed=11)
    p, se = batch_error(r)
    expected = erlang_b(packs, rate * 1.0)
    # 200 days give ~60,000-80,000 arrivals: standard error ~0.001-0.002 (batch means)
    assert se < 0.004
    assert abs(p - expected) < 4 * se, (p, expected, se)
    served = r.wait_s >= 0
    assert np.all(r.wait_s[served] == 0.0)


def energy_station(**changes):
    st = load_station("nio_gen2_like").to_dict()
    st.update(changes)
    return st


@pytest.mark.parametrize("charging, v2g, chargers", [
    ("immediate", False, 13), ("tou", True, 6), ("valley", False, 13), ("valley", True, 4)])
def test_energy_balance(charging, v2g, chargers):
    """grid import x eta = energy stored in the packs + energy driven away + energy exported
    (pack side); the grid gets export x eta_export. Independent bookkeeping: step power series,
    SOC of the packs at start and end, SOC out/back of every customer."""
    st = Station.from_dict(energy_station(chargers=chargers, v2g={"enabled": v2g, "soc_floor": 0.4}))
    r = simulate_station(st, days=10, aging=False, charging=charging, seed=3)
    dt_h = st.time_step_s / 3600.0
    imp_Wh = r.step_import_W.sum() * dt_h
    exp_Wh = r.step_export_W.sum() * dt_h
    E = r.final["energy_Wh"]
    stored = ((r.final["soc"] - st.soc_full) * E).sum()
    served = r.wait_s >= 0
    pk = r.final["pack"][served]
    driven = ((r.final["soc_out"][served] - r.final["soc_back"][served]) * E[pk]).sum()
    eta, eta_x = st.charger_efficiency, st.v2g["efficiency"]
    lhs = imp_Wh * eta
    rhs = stored + driven + exp_Wh / eta_x
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-3)
    losses = imp_Wh * (1 - eta) + exp_Wh * (1 / eta_x - 1)
    assert imp_Wh - exp_Wh == pytest.approx(stored + driven + losses, rel=1e-9, abs=1e-3)
    assert np.isclose(r.day_import_Wh.sum(), imp_Wh, rtol=1e-12)
    if v2g:
        assert exp_Wh > 0.0
    else:
        assert exp_Wh == 0.0
    assert driven > 0


def test_valley_peak_between_mean_and_immediate_peak():
    a = simulate_station("nio_gen3_like", days=60, aging=False, charging="immediate", seed=5)
    b = simulate_station("nio_gen3_like", days=60, aging=False, charging="valley", seed=5)
    assert np.array_equal(a.arrival_time_s, b.arrival_time_s)
    mean_W = b.day_import_Wh / 24.0
    assert np.all(b.day_peak_import_W >= mean_W - 1e-9)
    assert np.all(b.day_peak_import_W <= a.day_peak_import_W + 1e-9)
    d = policy_difference(a, b)
    assert d["peak_reduction_pct"] > 30.0  # flattening is the point of the policy
    # same energy (to the packs still charging at the end): within 1 %
    assert abs(d["energy_change_pct"]) < 1.0


def test_tou_moves_energy_to_cheap_hours():
    a = simulate_station("nio_gen3_like", days=30, aging=False, charging="immediate", seed=2)
    b = simulate_station("nio_gen3_like", days=30, aging=False, charging="tou", seed=2)
    assert b.day_cost.sum() < 0.8 * a.day_cost.sum()


def test_v2g_exports_in_peak_hours_only():
    st = load_station("nio_gen3_like")
    r = simulate_station(st, days=5, aging=False, v2g=True, seed=1)
    hours = (np.arange(r.step_export_W.size) * st.time_step_s // 3600 % 24).astype(int)
    price = np.asarray(st.tariff_per_kWh)[hours]
    assert r.step_export_W.sum() > 0
    assert np.all(r.step_export_W[price < st.v2g["min_price_per_kWh"]] == 0.0)
    assert r.final["pack_exported_Wh"].sum() > 0


@EXTRAPOLATES
def test_wear_levelling_reduces_soh_spread_and_ageing_feeds_back():
    a = simulate_station("nio_gen2_like", years=2, handout="highest_soc", seed=4)
    b = simulate_station("nio_gen2_like", years=2, handout="wear_levelling", seed=4)
    assert np.array_equal(a.arrival_time_s, b.arrival_time_s)
    assert b.capacity_fraction_spread()[-1] < 0.5 * a.capacity_fraction_spread()[-1]
    c = simulate_station("nio_gen2_like", years=2, handout="soh_aware", seed=4)
    assert c.capacity_fraction_spread()[-1] < 0.5 * a.capacity_fraction_spread()[-1]
    # highest SOC hands out the first full pack: low slots do most swaps and age most
    swaps = a.final["pack_swaps"]
    assert swaps[0] > 10 * max(swaps[-1], 1)
    assert a.capacity_fraction[-1, 0] < a.capacity_fraction[-1, -1]
    # SOH feeds back: a worn pack comes back with a deeper SOC drop for the same trip energy
    served = a.wait_s >= 0
    E_nom = a.station.pack_energy_Wh
    drop = a.final["soc_out"][served] - a.final["soc_back"][served]
    trip = a.trip_Wh[served]
    ok = a.final["soc_back"][served] > a.station.soc_min + 1e-9
    ratio = drop[ok] * E_nom / trip[ok]  # = 1 / SOH of the pack at the time
    assert ratio.min() >= 1.0 - 1e-9
    assert ratio.max() > 1.02
    assert a.aging_model == "schmalstieg2014"


def test_same_seed_same_result_and_sweep_matches():
    a = simulate_station("nio_gen3_like", days=20, aging=False, seed=7)
    b = simulate_station("nio_gen3_like", days=20, aging=False, seed=7)
    c = simulate_station("nio_gen3_like", days=20, aging=False, seed=8)
    assert np.array_equal(a.step_import_W, b.step_import_W)
    assert not np.array_equal(a.step_import_W, c.step_import_W)
    rows = simulate_sweep(["nio_gen3_like", "nio_gen3_like"], days=20, seeds=[7, 8], threads=2)
    np.testing.assert_allclose(rows[0]["day_import_Wh"], a.day_import_Wh, rtol=1e-10)
    np.testing.assert_allclose(rows[1]["day_peak_import_W"], c.day_peak_import_W, rtol=1e-12)
    assert rows[0]["lost_fraction"] == a.lost_fraction


def test_recorded_arrivals_are_used_as_given():
    st = loss_station(2, 1.0, {"distribution": "fixed", "value": 0.2})
    t = np.array([100.0, 200.0, 300.0, 5000.0])
    r = simulate_station(st, days=1, aging=False, arrivals=(t, [0.2, 0.2, 0.2, 0.5]))
    # two packs, each out for 1 h: the third customer (no waiting) is lost, the fourth served
    np.testing.assert_array_equal(r.wait_s, [0.0, 0.0, -1.0, 0.0])
    assert r.final["pack"][3] == 0


@pytest.mark.parametrize("change, match", [
    ({"charger_power_W": -5.0}, "'charger_power_W' must be > 0"),
    ({"chargers": 14}, "'chargers' .* must not exceed 'packs'"),
    ({"charging_policy": "valey"}, "'charging_policy'.*valid charging policies are: immediate, tou, valley"),
    ({"handout_policy": "oldest"}, "'handout_policy'"),
    ({"charger_efficiency": 1.5}, "'charger_efficiency' must be <= 1"),
    ({"arrival_rate_per_h": [1.0] * 23}, "'arrival_rate_per_h' must have 24"),
    ({"ambient_temperature_K": 25.0}, "'ambient_temperature_K'.*Celsius"),
    ({"arrival_soc": {"distribution": "beta", "mean": 0.3}}, "'arrival_soc.std'"),
    ({"grid_limt_W": 1.0}, "unknown field 'grid_limt_W'"),
    ({"time_step_s": 7.0}, "'time_step_s' must divide one day"),
])
def test_bad_station_fields_are_named(change, match):
    st = energy_station(**change)
    with pytest.raises((ParameterError, OptionError), match=match):
        Station.from_dict(st)


def test_missing_field_and_bad_files(tmp_path):
    st = energy_station()
    del st["grid_limit_W"]
    with pytest.raises(ParameterError, match="missing required field 'grid_limit_W'"):
        Station.from_dict(st)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ParameterError, match="not valid JSON"):
        load_station(bad)
    with pytest.raises(OptionError, match="nio_gen2_like"):
        load_station("no_such_station")
    with pytest.raises(OptionError, match="valid handout policies are"):
        simulate_station("nio_gen2_like", days=1, handout="lifo")
    with pytest.raises(InputError, match="years"):
        simulate_station("nio_gen2_like", years=-1)


def test_shipped_stations_are_valid():
    for name, n in (("nio_gen2_like", 13), ("nio_gen3_like", 21)):
        st = load_station(name)
        assert st.packs == n and st.chargers <= st.packs
        # 25 to 30 swaps a day (public figure); hourly rates are rounded to 4 decimals in the file
        assert 25.0 - 1e-3 <= st.swaps_per_day() <= 30.0 + 1e-3


def test_hdf5_has_units(tmp_path):
    import h5py

    r = simulate_station("nio_gen2_like", days=3, aging=False, seed=1)
    path = r.save(tmp_path / "r.h5")
    with h5py.File(path) as f:
        assert f["peak_import_W"].attrs["units"] == "W"
        assert f["capacity_fraction"].shape == (2, 13)
        assert f["wait_s"].attrs["units"] == "s"
        cfg = json.loads(f.attrs["configuration_json"])
        assert cfg["station"]["packs"] == 13
        assert f.attrs["summary_customers"] == r.wait_s.size


@EXTRAPOLATES
def test_cli_runs_and_matches_python(tmp_path):
    from click.testing import CliRunner

    from batterylab.cli import cli
    from batterylab.io import read_results

    out = tmp_path / "r.h5"
    res = CliRunner().invoke(cli, ["swap", "nio_gen2_like", "--days", "30", "--policy", "valley",
                                   "--compare", "immediate", "--seed", "3", "--out", str(out),
                                   "--no-progress"])
    assert res.exit_code == 0, res.output
    v, attrs = read_results(out)
    py = simulate_station("nio_gen2_like", days=30, charging="valley", seed=3)
    np.testing.assert_allclose(v["peak_import_W"].data, py.day_peak_import_W)
    np.testing.assert_allclose(v["capacity_fraction"].data, py.capacity_fraction)
    assert attrs["comparison_peak_reduction_pct"] > 0
    bad = tmp_path / "bad.json"
    st = energy_station(chargers=20)
    bad.write_text(json.dumps(st))
    res = CliRunner().invoke(cli, ["swap", str(bad), "--days", "1"])
    assert res.exit_code != 0
    assert "'chargers'" in str(res.exception)


@EXTRAPOLATES
def test_v2g_export_reaches_the_ageing_core():
    """Export adds discharge throughput (equivalent cycles) that the ageing core sees. Whether it
    costs SOH depends on the model: exported packs also spend less time full, which slows
    Schmalstieg's voltage-driven calendar ageing, so only a difference is asserted."""
    a = simulate_station("nio_gen3_like", days=90, handout="wear_levelling", seed=6)
    b = simulate_station("nio_gen3_like", days=90, handout="wear_levelling", v2g=True, seed=6)
    exported = b.final["pack_exported_Wh"]
    assert exported.sum() > 1e6
    extra = np.array(b.cycles_rows[-1]) - np.array(a.cycles_rows[-1])
    assert extra.sum() > 0.9 * (exported / b.final["energy_Wh"]).sum()
    assert not np.allclose(a.capacity_fraction[-1], b.capacity_fraction[-1], rtol=1e-6)


@EXTRAPOLATES
def test_pack_ageing_resumes_exactly_across_periods():
    """Two 30-day periods aged one after the other equal one 60-day call of the ageing core."""
    import batterylab.aging as aging
    from batterylab.swap.aging_link import PackAger
    from batterylab.swap.simulate import StationState

    st = load_station("nio_gen2_like")
    rng = np.random.default_rng(0)
    ager = PackAger(st)
    nb = 2 * 30 * 96
    S = st.packs
    out = {"soc": rng.uniform(0.3, 0.95, (nb, S)), "soc_min": rng.uniform(0.05, 0.3, (nb, S)),
           "power_W": rng.uniform(-1e4, 3e4, (nb, S)), "abs_power_W": rng.uniform(0, 3e4, (nb, S)),
           "swaps": (rng.random((nb, S)) < 0.02).astype(float)}
    state = StationState(st, 0)
    half = nb // 2
    ager.age(0.0, {k: v[:half] for k, v in out.items()}, state)
    soh2 = ager.age(half * 900.0, {k: v[half:] for k, v in out.items()}, state)
    one = PackAger(st)
    soh1 = one.age(0.0, out, state)
    np.testing.assert_allclose(soh2, soh1, rtol=1e-12)
    assert np.all(soh1 < 1.0)
    # a swap block hands the trip's lowest SOC and the vehicle C-rate to the ageing core
    assert isinstance(one.state, aging.AgingState)


def test_cli_recorded_arrivals(tmp_path):
    from click.testing import CliRunner

    from batterylab.cli import cli
    from batterylab.io import read_results

    csv = tmp_path / "arrivals.csv"
    csv.write_text("time_s,soc\n100,0.2\n200,0.3\n90000,0.25\n")
    out = tmp_path / "r.h5"
    res = CliRunner().invoke(cli, ["swap", "nio_gen2_like", "--days", "2", "--arrivals", str(csv),
                                   "--no-aging", "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    v, _ = read_results(out)
    np.testing.assert_array_equal(v["arrival_time_s"].data, [100.0, 200.0, 90000.0])
    np.testing.assert_array_equal(v["wait_s"].data, [0.0, 80.0, 0.0])  # one bay busy 100-280 s
    bad = tmp_path / "bad.csv"
    bad.write_text("t,soc\n1,0.2\n")
    res = CliRunner().invoke(cli, ["swap", "nio_gen2_like", "--days", "1", "--arrivals", str(bad)])
    assert res.exit_code != 0 and "time_s" in str(res.exception)


def test_cli_prints_one_line_warnings_and_a_table_with_units():
    """Run as a user does (a subprocess): a warning is one line without Python's source line, and the
    summary is a table with units and four significant digits, not raw JSON."""
    import re
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "batterylab", "swap", "nio_gen2_like", "--days", "20", "--seed", "1",
                          "--no-progress"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    err = res.stderr.strip().splitlines()
    assert err and all(line.startswith("batterylab: warning: OutOfRangeWarning: nio_gen2_like: ageing model")
                       for line in err), res.stderr
    assert "warnings.warn" not in res.stderr and ".py:" not in res.stderr
    out = res.stdout
    assert out.startswith("nio_gen2_like: 20 days, immediate charging, highest_soc hand-out\n")
    assert "{" not in out and not re.search(r"\d\.\d{6,}", out), out
    assert re.search(r"^  mean wait +\d[\d.]* +s$", out, re.M), out
    assert re.search(r"^  grid import +\d[\d.]* +kWh/d$", out, re.M), out
    assert re.search(r"^  energy cost +\d[\d.]* +CNY/d$", out, re.M), out
    assert re.search(r"^  lost fraction +[\d.e-]+ +-$", out, re.M), out


def test_summary_table_units_from_the_keys():
    from batterylab.cli_options import key_unit, summary_table

    assert key_unit("mean_wait_s") == ("mean wait", "s")
    assert key_unit("grid_import_kWh_per_day") == ("grid import", "kWh/d")
    assert key_unit("energy_cost_per_day", "EUR") == ("energy cost", "EUR/d")
    assert key_unit("cost_reduction_pct", "EUR") == ("cost reduction", "%")
    assert key_unit("lost_fraction") == ("lost fraction", "-")
    text = summary_table({"max_peak_import_kW": 415.99999999999994, "v2g": False, "b": {"peak_reduction_pct": 12.3456}},
                         "title")
    assert text.splitlines() == ["title", "  max peak import    416  kW", "  v2g              False", "", "b:",
                                 "  peak reduction  12.35  %"]


def test_closed_loop_station_carries_its_open_loop():
    import warnings

    from batterylab.swap import simulate_station

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        closed = simulate_station("nio_gen2_like", days=90, seed=2, aging="schmalstieg2014")
        open_ = simulate_station("nio_gen2_like", days=90, seed=2, aging="schmalstieg2014", feedback=False)
    # the open loop beside the closed one is the station run with the nominal energy throughout
    np.testing.assert_array_equal(closed.open_loop_capacity_fraction, open_.capacity_fraction)
    np.testing.assert_array_equal(open_.open_loop_capacity_fraction, open_.capacity_fraction)
    # both start from the same fresh packs and the same first period, then part as energy feeds back
    np.testing.assert_array_equal(closed.capacity_fraction[:2], open_.capacity_fraction[:2])
    assert not np.array_equal(closed.capacity_fraction[-1], open_.capacity_fraction[-1])
    np.testing.assert_allclose(open_.final["energy_Wh"], open_.station.pack_energy_Wh)
    assert closed.final["energy_Wh"].max() < closed.station.pack_energy_Wh
    assert np.isfinite(closed.summary()["final_capacity_fraction_mean_open_loop"])
