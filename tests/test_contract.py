"""One result contract: every public simulate / run / grade result has ``save(path)`` (through
``batterylab.io.write_results``), ``summary()`` (plain numbers, units in the keys), ``plot(ax=None)``
and ``to_xarray()``; every file it writes opens with ``xarray.open_datatree`` with named dimensions.

Each result is made once, as small as the entry point allows (seconds each).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import pytest
from datatree_check import assert_named_datatree
from fake_pcm_cell import FakeCell

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

pytestmark = pytest.mark.filterwarnings("ignore::batterylab.aging.OutOfRangeWarning")

FAST = "blast_nca_panasonic18650b"


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # model validity / extrapolation notes of tiny runs
        return fn(*a, **kw)


def _aging_profile():
    t = np.arange(0.0, 86400.0 + 1.0, 900.0)
    soc = 0.5 + 0.3 * np.sin(2 * np.pi * t / 86400.0)
    return t, soc, np.full(t.size, 298.15)


def make_cell():
    from batterylab.cell import simulate

    return simulate(cell="LGM50", model="SPM", experiment=["Discharge at 1C for 5 minutes"], check_validity=False)


def make_aging():
    from batterylab import aging

    t, soc, T = _aging_profile()
    return aging.simulate("naumann2020", t, soc, T, years=0.1)


def make_aging_fleet():
    from batterylab import aging

    t, soc, T = _aging_profile()
    return aging.simulate_fleet("naumann2020", t, soc, T, n_cells=3, temperature_spread_K=2.0, seed=1, years=0.1,
                                progress=False)


def make_lifetime():
    from batterylab.lifetime import simulate_lifetime

    t = np.array([0, 10, 1200, 1210, 1800, 1810, 3000, 3010, 3600], dtype=float)
    p = np.array([0, 10, 10, 0, 0, -10, -10, 0, 0], dtype=float)
    return _quiet(simulate_lifetime, "LGM50", duty_power_W=p, time_s=t, ambient_temperature_K=298.15, years=0.01,
                  aging_model="calibrated_lgm50_okane2022_spm_lam", update_interval_s=2 * 86400.0, initial_soc=0.7)


def make_station():
    from batterylab.swap import simulate_station

    return simulate_station("nio_gen2_like", days=3, aging=False, seed=1)


def make_sweep():
    from batterylab.swap import simulate_sweep

    return simulate_sweep(["nio_gen2_like", "nio_gen2_like"], days=2)


def make_solid_state_run():
    from batterylab.solid_state import simulate

    t = np.linspace(0.0, 120.0, 31)
    return simulate("sulfide", t, power_W=np.full(t.size, 2.0), mesh_points=6, kind="SPMe")


def make_comparison():
    from batterylab.solid_state import compare_cells

    return compare_cells(("sulfide",), hours=0.1, regulation_W=2.0, mesh_points=6, aging_model="none", ramp_s=None)


def make_pcm_1d():
    from batterylab.pcm import Boundary, load_material, simulate_1d, slab_grid

    t = np.linspace(0.0, 3600.0, 13)
    return simulate_1d(slab_grid(0.01, 8), load_material("rt28hc"), t, 290.0,
                       left=Boundary("temperature", 320.0))


def make_pcm_lumped():
    from batterylab.pcm import load_material, simulate_lumped

    t = np.linspace(0.0, 3600.0, 61)
    return simulate_lumped(t, 5.0, 298.15, load_material("rt28hc"), pcm_mass_kg=0.05, cell_capacity_J_K=45.0,
                           cell_pcm_conductance_W_K=0.5, cell_initial_K=298.15)


def make_preheat():
    from batterylab.pcm import preheat

    return preheat(cell=FakeCell())


def make_fast_charge():
    from batterylab.pcm import fast_charge

    return fast_charge(cell=FakeCell(), aging_model=None)


def make_v2g():
    from batterylab.scenarios.v2g import simulate_v2g

    return simulate_v2g(aging_models=[FAST], years=1.0)


def make_smart_charging():
    from batterylab.scenarios.smart_charging import simulate_smart_charging

    return simulate_smart_charging(aging_models=[FAST], years=1.0)


def make_wireless():
    from batterylab.scenarios.wireless import simulate_wireless

    return simulate_wireless(aging_models=[FAST], years=1.0)


def make_mw_backup():
    from batterylab.scenarios.mw_backup import simulate_mw_backup

    return simulate_mw_backup(aging_models=[FAST], years=1.0)


def make_fleet_sharing():
    from batterylab.scenarios.fleet_sharing import simulate_fleet_sharing

    return simulate_fleet_sharing(aging_model=FAST, years=0.2)


def make_grade(tmp_path_factory):
    from batterylab.grading.batch import GradeConfig, grade_directory
    from batterylab.grading.readers import write_cell_record
    from batterylab.grading.synthetic import make_batch

    d = tmp_path_factory.mktemp("cells")
    for rec in make_batch(3, seed=0, soft_short_fraction=0.0)[0]:
        write_cell_record(d / f"{rec.cell_id}.h5", rec)
    return grade_directory(d, tmp_path_factory.mktemp("graded"), GradeConfig(chemistry="nmc-graphite", second_life=False),
                           workers=1, progress=False)


def make_report():
    from batterylab.report.runner import Report
    from batterylab.report.worker import CaseOutcome

    t = np.linspace(0.0, 1.0, 5)
    metric = {"name": "error", "value": 0.01, "tolerance": 0.1, "unit": "V", "comparison": "<=", "justification": "test",
              "passed": True}
    o = CaseOutcome(name="demo/case", module="m", status="passed", metrics=[metric], runtime_s=1.5,
                    variables={"time_s": {"data": t, "units": "s", "long_name": "Time [s]", "dims": ("time_s",), "attrs": {}},
                               "v": {"data": t ** 2, "units": "V", "long_name": "v", "dims": ("time_s",), "attrs": {}},
                               "ref/v": {"data": t[:3], "units": "V", "long_name": "v", "dims": (), "attrs": {}}})
    return Report(outcomes=[o], provenance={"jobs": 1}, quick=True, total_s=1.5)


FACTORIES = {
    "cell": make_cell,
    "aging": make_aging,
    "aging_fleet": make_aging_fleet,
    "lifetime": make_lifetime,
    "swap_station": make_station,
    "swap_sweep": make_sweep,
    "solid_state_run": make_solid_state_run,
    "solid_state_comparison": make_comparison,
    "pcm_1d": make_pcm_1d,
    "pcm_lumped": make_pcm_lumped,
    "pcm_preheat": make_preheat,
    "pcm_fast_charge": make_fast_charge,
    "v2g": make_v2g,
    "smart_charging": make_smart_charging,
    "wireless": make_wireless,
    "mw_backup": make_mw_backup,
    "fleet_sharing": make_fleet_sharing,
    "grade": make_grade,
    "report": make_report,
}
#: (result, method) pairs that do not meet the contract yet, with the reason.
PENDING: dict = {}

_made: dict = {}


@pytest.fixture(scope="module")
def result(request, tmp_path_factory):
    name = request.param
    if name not in _made:
        f = FACTORIES[name]
        _made[name] = f(tmp_path_factory) if f is make_grade else f()
    return _made[name]


def _cases(method):
    out = []
    for name in FACTORIES:
        marks = [pytest.mark.xfail(strict=True, reason=PENDING[(name, method)])] if (name, method) in PENDING else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def _check_tree(tree, where):
    for node in tree.subtree:
        for dim in node.dims:
            assert not str(dim).startswith(("phony_dim", "dim_")), f"{where}: group {node.path} has unnamed dimension {dim}"
        for name, var in node.variables.items():
            assert "units" in var.attrs, f"{where}: {node.path}/{name} has no units attribute"


@pytest.mark.parametrize("result", _cases("save"), indirect=True)
def test_save_opens_as_a_datatree_with_named_dimensions(result, tmp_path):
    path = result.save(tmp_path / "r.h5")
    assert path is not None and (tmp_path / "r.h5").is_file()
    assert_named_datatree(tmp_path / "r.h5")
    tree = xr.open_datatree(tmp_path / "r.h5", engine="h5netcdf")
    try:
        assert tree.attrs["batterylab_version"]
    finally:
        tree.close()


@pytest.mark.parametrize("result", _cases("summary"), indirect=True)
def test_summary_is_plain_numbers(result):
    s = result.summary()
    assert isinstance(s, dict) and s
    numbers_seen = 0
    for key, value in s.items():
        assert isinstance(key, str)
        assert isinstance(value, (numbers.Number, str, bool, type(None))), (key, type(value))
        numbers_seen += isinstance(value, numbers.Number) and not isinstance(value, bool)
    assert numbers_seen


@pytest.mark.parametrize("result", _cases("plot"), indirect=True)
def test_plot_draws_on_given_or_new_axes(result):
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    assert result.plot(ax=ax) is ax
    assert ax.lines or ax.collections or ax.patches or ax.images
    own = result.plot()
    assert own.figure is not None and own is not ax


@pytest.mark.parametrize("result", _cases("to_xarray"), indirect=True)
def test_to_xarray_matches_the_file(result, tmp_path):
    tree = result.to_xarray()
    assert isinstance(tree, xr.DataTree)
    _check_tree(tree, "to_xarray")
    path = result.save(tmp_path / "r.h5")
    disk = xr.open_datatree(path, engine="h5netcdf")
    try:
        mem = {(n.path, k) for n in tree.subtree for k in n.variables}
        file = {(n.path, k) for n in disk.subtree for k in n.variables}
        assert mem == file
        for n in tree.subtree:
            for k, v in n.variables.items():
                d = disk[n.path][k]
                assert v.dims == d.dims, (n.path, k)
                assert v.attrs["units"] == d.attrs["units"], (n.path, k)
                if v.dtype.kind == "f":
                    np.testing.assert_array_equal(v.values, d.values)
    finally:
        disk.close()


def test_summaries_have_no_nan_in_their_headline(request):
    """Not a contract item: a guard that the tiny runs above ran (a NaN everywhere would hide a bug)."""
    s = make_station().summary()
    assert not math.isnan(s["mean_daily_peak_import_kW"])


# ------------------------------------------------------------------ every other writer


def test_write_results_names_every_dimension(tmp_path):
    """Dimensions without a coordinate get a dimension-only scale; default names stay per variable."""
    from batterylab.io import Variable, read_results, write_results

    v = {"time_s": Variable(np.arange(3.0), "s", "Time [s]", ("time_s",)),
         "q": Variable(np.ones((3, 4)), "1", "q", ("time_s", "cell")),
         "g/a": Variable(np.zeros((2, 5)), "1", "a"),  # default dims dim_0, dim_1
         "g/b": Variable(np.zeros((7,)), "1", "b")}  # dim_0 again, another length
    path = write_results(tmp_path / "w.h5", v)
    assert_named_datatree(path)
    back, _ = read_results(path)
    assert sorted(back) == sorted(v)  # the dimension-only scales are not read back as variables
    assert back["q"].dims == ("time_s", "cell")
    from batterylab.errors import InputError

    with pytest.raises(InputError, match="one dimension name, one length"):
        write_results(tmp_path / "bad.h5", {"a": Variable(np.zeros(2), "1", "a", ("cell",)),
                                            "b": Variable(np.zeros(3), "1", "b", ("cell",))})


def test_cycler_record_and_grading_outputs_open_as_datatrees(tmp_path):
    from batterylab.grading.batch import GradeConfig, grade_directory
    from batterylab.grading.readers import write_cell_record
    from batterylab.grading.synthetic import make_batch

    d = tmp_path / "cells"
    d.mkdir()
    rec = make_batch(1, seed=3, soft_short_fraction=0.0)[0][0]
    write_cell_record(d / "c.h5", rec)
    assert_named_datatree(d / "c.h5")
    g = grade_directory(d, tmp_path / "out", GradeConfig(chemistry="nmc-graphite", second_life=False), workers=1,
                        progress=False)
    assert_named_datatree(g["outputs"]["measurements"])


def test_swap_save_with_comparison_attributes_opens(tmp_path):
    r = make_station()
    path = r.save(tmp_path / "s.h5", extra_config={"seed": 1}, attrs={"comparison_peak_reduction_pct": 1.0})
    assert_named_datatree(path)
