"""Calibration from PyBaMM: a small design (3 points, few cycles), invariants, the shipped model."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from batterylab import parameter_sets
from batterylab.aging import calibrate as cal
from batterylab.errors import OptionError
from batterylab.validation.cases.calibration import data_file

SHIPPED = "calibrated_lgm50_okane2022_spm_lam"

SHIPPED_ALL = ("calibrated_lgm50_okane2022_spm_lam", "calibrated_lgm50_okane2022_spme")

SMALL = [
    cal.DesignPoint("t25", "cycle", 298.15, 1.0, 1.0, 0.0, 1.0, 3),
    cal.DesignPoint("t10_w", "cycle", 283.15, 0.5, 1.0, 0.3, 0.9, 3, rest_h=0.2),
    cal.DesignPoint("t40_store", "storage", 313.15, soc_high=0.9, storage_days=20, storage_step_days=5),
]


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        return fn(*a, **k)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("pybamm_cache")


@pytest.fixture(scope="module")
def small(cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "small.json"
    d = cal.calibrate("LGM50", out, points=SMALL, cache_dir=cache, progress=False, name="small_test")
    return d, out


def test_small_design_fits_and_compiles(small, cache):
    d, out = small
    c = d["calibration"]
    assert c["pybamm_version"] and c["pybamm_options"]["SEI"] == "solvent-diffusion limited"
    assert [p["name"] for p in c["design"]] == [p.name for p in SMALL]
    assert json.loads(out.read_text())["name"] == "small_test"
    res = cal.run_design(SMALL, cache_dir=cache, progress=False)
    # The kernel on PyBaMM's own trajectory reproduces the fit's closed form (same arithmetic)
    # and PyBaMM's capacity to a fraction of the fade (fit quality on a tiny design).
    from batterylab.aging import simulate

    for p in SMALL:
        r = res[p.name]
        k = _quiet(simulate, str(out), r["time_s"], r["soc"], r["temperature_K"], r["current_A"])
        q_kernel = k.capacity_fraction[r["record_index"]]
        fit = c["fit_residuals"][p.name]
        assert 100 * (1 - q_kernel[-1]) == pytest.approx(fit["fit_capacity_loss_pct"], rel=1e-6, abs=1e-9)
        assert fit["pybamm_capacity_loss_pct"] > 0
        # The parabolic SEI state is PyBaMM's own solvent-diffusion law (L^2 - L0^2 ~ D(T) t):
        # it must fit every point of even a tiny design closely (2 %); the other mechanisms need
        # the full design (three points cannot pin their C-rate and SOC laws; held-out validation
        # checks the shipped model instead).
        steps = cal._steps(r, float(r["nominal_capacity_Ah"]), d["anode_potential_table"])
        sei_fit = cal._pred_time(c["coefficients"]["lli_sei"], steps)
        sei_ref = r["lli_sei_Ah"] / float(r["nominal_capacity_Ah"])
        assert sei_fit[-1] == pytest.approx(sei_ref[-1], rel=0.02)


def test_cache_hit_does_not_resimulate(small, cache, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("PyBaMM run despite a cached result")

    monkeypatch.setattr(cal, "run_point", boom)
    res = cal.run_design(SMALL, cache_dir=cache, progress=False)
    assert set(res) == {p.name for p in SMALL}
    # a different PyBaMM configuration is a different key
    other = cal.RunSpec(options=dict(cal.NO_DEGRADATION_OPTIONS))
    assert other.key(SMALL[0]) != cal.RunSpec().key(SMALL[0])


def test_degradation_off_predicts_no_fade(tmp_path):
    spec = cal.RunSpec(options=dict(cal.NO_DEGRADATION_OPTIONS))
    pts = SMALL[:1] + SMALL[2:]
    d = cal.calibrate("LGM50", tmp_path / "off.json", points=pts, run_spec=spec, cache_dir=tmp_path / "c",
                      progress=False, name="off")
    from batterylab.aging import simulate

    t = np.linspace(0, 86400.0, 50)
    soc = 0.5 + 0.4 * np.sin(2 * np.pi * t / 86400.0)
    r = _quiet(simulate, str(tmp_path / "off.json"), t, soc, 310.0, 5.0 * np.cos(2 * np.pi * t / 86400.0), years=5)
    assert np.all(r.capacity_fraction == 1.0)
    assert all(v == 0.0 for v in d["calibration"]["sensitivity"].values())


@settings(max_examples=30)
@given(soc=st.floats(0.0, 1.0), u=st.floats(0.0, 1.0), v=st.floats(0.0, 1.0), days=st.floats(1.0, 3650.0))
def test_hotter_storage_never_ages_slower(soc, u, v, days):
    """Within the design's temperature range, as in PyBaMM (O'Kane 2022 set, 60 days of storage:
    fade 0.50, 0.57, 0.69 % at SOC 0.95 and 0.22, 0.29, 0.43 % at SOC 0.6, at 1, 11 and 25 degC).
    Below it the plating law (faster when cold) extrapolates, with a validity warning."""
    from batterylab.aging import simulate

    lo, hi = json.loads(parameter_sets.path("aging", f"{SHIPPED}.json").read_text())["validity"]["temperature_K"]
    t_lo = lo + u * (hi - lo)
    t_hi = t_lo + v * (hi - t_lo)
    t = np.array([0.0, days * 86400.0])
    s = np.full(2, soc)
    q = [_quiet(simulate, SHIPPED, t, s, T, np.zeros(2)).capacity_fraction[-1] for T in (t_lo, t_hi)]
    assert q[1] <= q[0]


@pytest.mark.parametrize("name", SHIPPED_ALL)
def test_shipped_model_provenance_and_held_out(name):
    d = json.loads(parameter_sets.path("aging", f"{name}.json").read_text())
    c = d["calibration"]
    cfg = name.rsplit("okane2022_", 1)[1]
    assert c["configuration"] == cfg
    assert c["pybamm_model"] == cal.CONFIGURATIONS[cfg]["model"] and c["pybamm_options"] == cal.CONFIGURATIONS[cfg]["options"]
    assert c["pybamm_version"].startswith("26.") and len(c["design"]) >= 40
    assert set(c["fit_residuals"]) == {p["name"] for p in c["design"]}
    assert [p["name"] for p in c["design"]] == [p.name for p in cal.design()]  # the shipped design is the committed one
    for draw in range(1, len(cal.HELD_OUT_CORNERS) + 1):
        held = cal.held_out_design(draw=draw)
        assert len(held) >= 10 and not {p.name for p in held} & {p["name"] for p in c["design"]}
        for h in held:  # not a design point, inside the box
            assert all((p["ambient_K"], p["charge_c"], p["discharge_c"]) != (h.ambient_K, h.charge_c, h.discharge_c)
                       for p in c["design"])
            assert cal.DESIGN_BOX["ambient_K"][0] <= h.ambient_K <= cal.DESIGN_BOX["ambient_K"][1]
            assert cal.DESIGN_BOX["charge_c"][0] <= h.charge_c <= cal.DESIGN_BOX["charge_c"][1]
        data = json.loads(data_file(cfg, draw).read_text())
        assert [x["point"]["name"] for x in data["conditions"]] == [p.name for p in held]
        assert data["pybamm_options"] == c["pybamm_options"] and data["held_out_draw"] == draw


def test_old_name_still_loads_with_a_warning():
    from batterylab.aging import load

    with pytest.warns(DeprecationWarning, match="calibrated_lgm50_okane2022_spm_lam"):
        m = load("calibrated_lgm50_okane2022")
    assert m.name == "calibrated_lgm50_okane2022_spm_lam"


def test_design_fills_the_box():
    pts = [p for p in cal.design() if p.kind == "cycle"]
    assert len(pts) >= 40 and len(cal.design()) - len(pts) >= 4
    for key, lo_hi in (("ambient_K", cal.DESIGN_BOX["ambient_K"]), ("charge_c", cal.DESIGN_BOX["charge_c"]),
                       ("discharge_c", cal.DESIGN_BOX["discharge_c"])):
        x = np.array([getattr(p, key) for p in pts])
        lo, hi = lo_hi
        # a Latin hypercube: one point in each of n equal strata of every range
        strata = np.floor((x - lo) / (hi - lo) * len(pts) - 1e-6).astype(int)
        assert sorted(strata) == list(range(len(pts))), key
    assert any(p.rest_h > 0.5 for p in pts) and any(p.soc_high - p.soc_low < 0.5 for p in pts)
    assert any(p.soc_low == 0.0 and p.soc_high == 1.0 for p in pts)
    corners = [p for p in cal.held_out_design() if "corner" in p.name]
    assert [c.ambient_K for c in corners] == pytest.approx([273.15 + 0.05 * 45, 273.15 + 0.95 * 45])


@pytest.mark.parametrize("name", SHIPPED_ALL)
def test_each_mechanism_sees_its_current_direction(name):
    """Plating's current term sees only the charge, LAM_ne only the discharge, LAM_pe only the
    charge (PyBaMM's tensile-stress LAM on each electrode's delithiation)."""
    from batterylab.aging import simulate

    t = np.linspace(0.0, 10 * 3600.0, 101)
    soc = np.full(t.size, 0.8)
    runs = {k: _quiet(simulate, name, t, soc, 298.15, np.full(t.size, i)) for k, i in
            (("rest", 0.0), ("charge", -5.0), ("discharge", 5.0))}
    y = {k: {s: float(v[-1]) for s, v in r.states.items()} for k, r in runs.items()}
    assert y["charge"]["LLI_plating"] > y["rest"]["LLI_plating"] == pytest.approx(y["discharge"]["LLI_plating"], rel=1e-12)
    if "spm_lam" in name:
        assert y["discharge"]["LAM_ne"] > 0.0 == y["charge"]["LAM_ne"] == y["rest"]["LAM_ne"]
        assert y["charge"]["LAM_pe"] > 0.0 == y["discharge"]["LAM_pe"] == y["rest"]["LAM_pe"]
    else:
        assert all(y[k]["LAM_ne"] == y[k]["LAM_pe"] == 0.0 for k in y)


def _cycle(T, cc, cd, lo, hi):
    """One cycle: charge at cc from lo to hi, discharge at cd back (5 Ah cell, cell temperature T)."""
    tc, td = (hi - lo) / cc * 3600.0, (hi - lo) / cd * 3600.0
    t = np.linspace(0.0, tc + td, 41)
    return t, np.interp(t, [0.0, tc, tc + td], [lo, hi, lo]), np.full(t.size, T), np.where(t < tc, -5.0 * cc, 5.0 * cd)


@pytest.mark.parametrize("name", SHIPPED_ALL)
def test_a_combination_outside_the_design_warns_though_each_stressor_is_in_range(name):
    """Each stressor of a cold fast charge to full is inside the design's box, but no design point
    charged fast while cold: the duty lies outside the hull of the design's charging steps in
    (temperature, charge C-rate, SOC), and the warning names that combination. A duty in the
    middle of the design warns about nothing."""
    from batterylab import aging

    m = aging.load(name)
    assert set(m.validity_hull) == {"charge", "discharge"}
    corner = _cycle(276.0, 1.9, 1.0, 0.1, 0.95)
    (a, b), (c_lo, c_hi) = m.validity["temperature_K"], m.validity["charge_crate_per_h"]
    assert a < 276.0 < b and c_lo < 1.9 < c_hi  # each stressor on its own is in range
    with pytest.warns(aging.OutOfRangeWarning, match=r"charge steps combine temperature_K, charge_crate_per_h, soc "
                                                     r"outside the calibration design's hull"):
        aging.simulate(name, *corner, repeat=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aging.simulate(name, *_cycle(298.0, 0.5, 1.0, 0.2, 0.8), repeat=10)
        # a fleet on the same mid-design cycle: quiet, until one of its cells runs 22 K colder
        mid = _cycle(298.0, 0.5, 1.0, 0.1, 0.95)
        aging.simulate_fleet(name, *mid[:3], current_A=mid[3], temperature_offset_K=[0.0, 2.0], repeat=5, progress=False)
    with pytest.warns(aging.OutOfRangeWarning, match="outside the calibration design's hull"):
        aging.simulate_fleet(name, *mid[:3], current_A=mid[3], temperature_offset_K=[0.0, -22.0], repeat=5,
                             progress=False)


def test_validity_hull_of_a_design_and_its_check():
    """The hull is that of the design's own steps: every design step is inside it (to the
    tolerance), and a point beyond a facet is flagged."""
    from batterylab.aging.models import check_hull, hull_steps

    rng = np.random.default_rng(7)
    results = {}
    for i in range(6):  # six cycles at different temperatures and charge rates
        t, soc, T, I = _cycle(280.0 + 8 * i, 0.3 + 0.3 * i, 1.0, 0.1, 0.9)
        results[f"p{i}"] = {"time_s": t, "soc": soc, "temperature_K": T + rng.normal(0, 0.2, t.size), "current_A": I,
                            "record_index": np.array([t.size - 1])}
    hull = cal._validity_hull(results, 5.0)
    spec = json.loads(parameter_sets.path("aging", f"{SHIPPED}.json").read_text())
    spec.update(name="hull_test", validity_hull=hull)
    for k in ("temperature_K", "charge_crate_per_h", "discharge_crate_per_h", "soc"):
        spec["validity"][k] = [0.0, 1e3]  # every range wide open: only the hull can warn
    from batterylab.aging import load

    m = load(spec)
    for r in results.values():
        steps = {d: hull_steps(r["time_s"], r["soc"], r["temperature_K"], r["current_A"], 5.0, d) for d in hull}
        assert check_hull(m, steps) == []
    # the hottest point's temperature with the slowest rate: inside the box of the design, outside its hull
    off = {"charge": np.array([[320.0, 0.3, 0.5]])}
    with pytest.warns(UserWarning, match="1 of 1 charge steps"):
        assert len(check_hull(m, off)) == 1


def test_bpx_cell_with_user_options(tmp_path):
    """``batterylab calibrate`` end to end on a BPX cell with the user's own PyBaMM options (a
    tiny design: 2 cycling points of 20 cycles and one of storage)."""
    from click.testing import CliRunner

    from batterylab.aging import simulate
    from batterylab.aging.calibrate_cli import calibrate

    bpx = parameter_sets.path("cells", "bpx", "nmc_pouch_cell_BPX.json")
    points = [cal.DesignPoint("b25", "cycle", 298.15, 1.0, 1.0, 0.0, 1.0, 20),
              cal.DesignPoint("b10_w", "cycle", 283.15, 1.5, 1.0, 0.2, 0.9, 20, rest_h=0.1),
              cal.DesignPoint("b40_store", "storage", 313.15, soc_high=0.9, storage_days=20, storage_step_days=5)]
    spec = cal.configuration_spec(str(bpx), None, model="SPM",
                                  options={"SEI": "reaction limited", "lithium plating": "irreversible", "thermal": "lumped"})
    d = _quiet(cal.calibrate, str(bpx), tmp_path / "bpx.json", configuration=None, points=points, run_spec=spec,
               cache_dir=tmp_path / "c", progress=False)
    c = d["calibration"]
    assert c["pybamm_options"]["SEI"] == "reaction limited" and c["pybamm_parameter_set"] == str(bpx)
    assert all(r["pybamm_capacity_loss_pct"] > 0 for r in c["fit_residuals"].values())
    r = _quiet(simulate, str(tmp_path / "bpx.json"), [0.0, 86400.0 * 100], [0.5, 0.5], 308.15, [0.0, 0.0])
    assert 0.0 < r.capacity_fraction[-1] < 1.0
    # the CLI takes the same: cell path, model and options (cached runs: no PyBaMM again)
    res = CliRunner().invoke(calibrate, [str(bpx), "--out", str(tmp_path / "cli.json"), "--model", "SPM", "--option",
                                         "SEI=reaction limited", "--option", "lithium plating=irreversible",
                                         "--option", "thermal=lumped", "--quick", "--cache", str(tmp_path / "c2"),
                                         "--no-progress"])
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert json.loads((tmp_path / "cli.json").read_text())["calibration"]["pybamm_options"]["lithium plating"] == "irreversible"


def test_bad_parameter_set():
    with pytest.raises(OptionError, match="LGM50"):
        cal.calibrate("NoSuchCell", None)
    with pytest.raises(OptionError, match="spm_lam"):
        cal.configuration_spec("LGM50", "dfn_everything")


def test_cli_quick_errors():
    from click.testing import CliRunner

    from batterylab.aging.calibrate_cli import calibrate

    r = CliRunner().invoke(calibrate, ["NoSuchCell", "--out", "x.json"])
    assert r.exit_code != 0 and "valid" in str(r.exception)  # exit 2 through batterylab.cli.main
