"""Renamed names keep working for one release and say so with a DeprecationWarning."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::batterylab.aging.OutOfRangeWarning")


def test_renamed_kwargs():
    from batterylab._deprecation import renamed_kwargs

    @renamed_kwargs(ambient_K="ambient_temperature_K")
    def f(*, ambient_temperature_K=1.0):
        return ambient_temperature_K

    assert f(ambient_temperature_K=2.0) == 2.0
    with pytest.warns(DeprecationWarning, match=r"f\(ambient_K=\.\.\.\) is deprecated; use ambient_temperature_K"):
        assert f(ambient_K=3.0) == 3.0
    with pytest.raises(TypeError, match="both"):
        f(ambient_K=3.0, ambient_temperature_K=2.0)


def test_renamed_summary_keys():
    from batterylab.io.results import RenamedKeys

    d = RenamedKeys({"capacity_fraction": 0.9}, {"soh": "capacity_fraction"})
    assert list(d) == ["capacity_fraction"] and d == {"capacity_fraction": 0.9}
    with pytest.warns(DeprecationWarning, match="'soh' is deprecated; use 'capacity_fraction'"):
        assert d["soh"] == 0.9
    with pytest.warns(DeprecationWarning):
        assert d.get("soh") == 0.9
    import pickle

    assert pickle.loads(pickle.dumps(d))._renamed == {"soh": "capacity_fraction"}


def test_swap_station_soh_names():
    from batterylab.swap import policy_difference, simulate_station

    a = simulate_station("nio_gen2_like", days=2, aging=False, seed=1)
    with pytest.warns(DeprecationWarning, match="capacity_fraction"):
        np.testing.assert_array_equal(a.soh, a.capacity_fraction)
    with pytest.warns(DeprecationWarning, match="capacity_fraction_spread"):
        np.testing.assert_array_equal(a.soh_spread(), a.capacity_fraction_spread())
    s = a.summary()
    with pytest.warns(DeprecationWarning):
        assert s["final_soh_mean"] == s["final_capacity_fraction_mean"]
    d = policy_difference(a, a)
    with pytest.warns(DeprecationWarning):
        assert d["soh_spread_a"] == d["capacity_fraction_spread_a"]


def test_lifetime_soh():
    from batterylab.lifetime import LifetimeResult

    z = np.zeros(2)
    r = LifetimeResult(z, np.array([1.0, 0.99]), z, z, z, z, z, z, z, z, z, {})
    with pytest.warns(DeprecationWarning, match="capacity_fraction"):
        assert r.soh[-1] == 0.99


def test_scenario_fade_names():
    from batterylab.scenarios.fleet_sharing import FleetSharingResult
    from batterylab.scenarios.mw_backup import BackupResult
    from batterylab.scenarios.v2g import V2GResult

    z = np.zeros(3)
    v = V2GResult(z, z, z, z, z, z, z, z, 1.0, 1.0, 0.1, 1.0, ["m"], capacity_fraction_lost_drive={"m": 0.1},
                  capacity_fraction_lost_v2g={"m": 0.2})
    with pytest.warns(DeprecationWarning, match="capacity_fraction_lost_v2g"):
        assert v.capacity_fade_v2g == {"m": 0.2}
    with pytest.warns(DeprecationWarning):
        assert v.capacity_fade_drive == {"m": 0.1}
    b = BackupResult({}, 1, 1.0, 0.5, 10.0, ["m"], capacity_fraction_lost_per_event={"m": 1e-4})
    with pytest.warns(DeprecationWarning):
        assert b.fade_per_event == {"m": 1e-4}
    f = FleetSharingResult(np.arange(2.0), {"naive": np.ones((2, 3))}, {}, {}, z, z, "m")
    with pytest.warns(DeprecationWarning):
        assert f.soh["naive"].shape == (2, 3)


def test_cell_result_to_hdf5(tmp_path):
    from batterylab.cell.result import SERIES, CellResult

    t = np.linspace(0.0, 10.0, 5)
    r = CellResult(time_s=t, soc=np.ones(5), capacity_Ah=5.0, **{k: np.ones(5) for k in SERIES})
    with pytest.warns(DeprecationWarning, match="use CellResult.save"):
        r.to_hdf5(tmp_path / "c.h5")
    assert (tmp_path / "c.h5").is_file()


def test_pcm_write_and_ambient_K(tmp_path):
    from batterylab.pcm import load_material, simulate_lumped

    t = np.linspace(0.0, 600.0, 11)
    new = simulate_lumped(t, 1.0, 298.15, load_material("rt28hc"), pcm_mass_kg=0.05, cell_capacity_J_K=45.0,
                          cell_pcm_conductance_W_K=0.5, cell_initial_K=298.15)
    with pytest.warns(DeprecationWarning, match="ambient_temperature_K"):
        old = simulate_lumped(t, 1.0, ambient_K=298.15, material=load_material("rt28hc"), pcm_mass_kg=0.05,
                              cell_capacity_J_K=45.0, cell_pcm_conductance_W_K=0.5, cell_initial_K=298.15)
    np.testing.assert_array_equal(new.cell_temperature_K, old.cell_temperature_K)
    from test_contract import make_preheat

    r = make_preheat()
    with pytest.warns(DeprecationWarning, match="use .save"):
        r.write(tmp_path / "p.h5")
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(r.ambient_K, r.ambient_temperature_K)
