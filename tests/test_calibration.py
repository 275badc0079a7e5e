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

SHIPPED = "calibrated_lgm50_okane2022"

SMALL = [
    cal.DesignPoint("t25", "cycle", 298.15, 1.0, 1.0, 0.0, 1.0, 3),
    cal.DesignPoint("t10_w", "cycle", 283.15, 0.5, 1.0, 0.3, 0.9, 3),
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
        steps = cal._steps(r, float(r["nominal_capacity_Ah"]))
        sei_fit = cal._pred_time(c["coefficients"]["lli_time"], steps)
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
@given(soc=st.floats(0.0, 1.0), t_lo=st.floats(263.15, 333.15), dt=st.floats(0.0, 40.0),
       days=st.floats(1.0, 3650.0))
def test_hotter_storage_never_ages_slower(soc, t_lo, dt, days):
    from batterylab.aging import simulate

    t = np.array([0.0, days * 86400.0])
    s = np.full(2, soc)
    q = [_quiet(simulate, SHIPPED, t, s, T, np.zeros(2)).capacity_fraction[-1] for T in (t_lo, t_lo + dt)]
    assert q[1] <= q[0]


def test_shipped_model_provenance_and_held_out():
    d = json.loads(parameter_sets.path("aging", f"{SHIPPED}.json").read_text())
    c = d["calibration"]
    assert c["pybamm_version"].startswith("26.") and len(c["design"]) >= 12
    assert set(c["fit_residuals"]) == {p["name"] for p in c["design"]}
    held = {p.name for p in cal.held_out_design()}
    assert not held & {p["name"] for p in c["design"]}
    # held-out conditions differ from every design point
    for h in cal.held_out_design():
        assert all((p["ambient_K"], p["charge_c"], p["discharge_c"]) != (h.ambient_K, h.charge_c, h.discharge_c)
                   for p in c["design"])


def test_bad_parameter_set():
    with pytest.raises(OptionError, match="LGM50"):
        cal.calibrate("NoSuchCell", None)


def test_cli_quick_errors():
    from click.testing import CliRunner

    from batterylab.aging.calibrate_cli import calibrate

    r = CliRunner().invoke(calibrate, ["NoSuchCell", "--out", "x.json"])
    assert r.exit_code != 0 and "valid" in str(r.exception)  # exit 2 through batterylab.cli.main
