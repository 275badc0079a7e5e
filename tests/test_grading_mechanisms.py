"""Mechanism forecast: modes of several check-ups projected, the electrode state rebuilt from them."""

from __future__ import annotations

import numpy as np
import pytest

from batterylab.errors import InputError
from batterylab.grading import electrode_state, mechanism_forecast
from batterylab.grading.ocv_fit import load_ocp_set, synthetic_c20_curve

NOM = 2.5


def _bol(chem="nmc-graphite"):
    k = load_ocp_set(chem).bol_per_Ah
    return {"Cp_Ah": k["Cp"] * NOM, "Cn_Ah": k["Cn"] * NOM, "n_li_Ah": k["n_li"] * NOM}


def test_power_laws_of_the_modes_are_recovered():
    n = np.array([0.0, 50.0, 120.0, 200.0, 300.0])
    truth = {"LLI": (2e-3, 0.6), "LAM_PE": (1e-4, 1.0), "LAM_NE": (1e-7, 2.5)}
    m = {k: a * n**b for k, (a, b) in truth.items()}
    fc = mechanism_forecast(n, m["LLI"], m["LAM_PE"], m["LAM_NE"], nominal_capacity_Ah=NOM)
    for k, (a, b) in truth.items():
        assert fc.params[k] == (pytest.approx(a, rel=1e-4), pytest.approx(b, rel=1e-4)), k
    later = fc.modes([600.0])
    assert later["LAM_NE"][0] == pytest.approx(1e-7 * 600**2.5, rel=1e-3)


def test_state_equals_the_half_cell_model_of_the_same_modes():
    """The forecast's capacity at a cycle is the C/20 capacity of electrode_state with the projected
    modes, computed independently from the synthetic C/20 curve (charge to the upper limit)."""
    n = np.array([0.0, 100.0, 200.0, 300.0])
    fc = mechanism_forecast(n, 0.1 * n / 300, 0.05 * n / 300, 0.05 * n / 300, nominal_capacity_Ah=NOM)
    st = fc.state([0.0, 300.0, 450.0])
    for i, cyc in enumerate([0.0, 300.0, 450.0]):
        m = {k: v[0] for k, v in fc.modes([cyc]).items()}
        cp, cn, y0, x0 = electrode_state(NOM, m["LLI"], m["LAM_PE"], m["LAM_NE"])
        q, _ = synthetic_c20_curve(cp, cn, y0, x0, n_points=2)
        assert st["capacity_Ah"][i] == pytest.approx(q[-1], rel=1e-6)
        assert 0.0 < st["lithium_margin"][i] < 1.0
    assert st["capacity_Ah"][0] > st["capacity_Ah"][1] > st["capacity_Ah"][2]
    assert fc.limiting_change_cycle == float("inf")  # LLI keeps ahead of LAM_NE: the margin grows


def test_accelerating_negative_electrode_loss_changes_the_limiting_mechanism():
    """LAM_NE outpacing LLI shrinks the lithium margin to zero: the negative electrode fills at the
    top of charge (plating), and the capacity then follows C_n (1 - x0)."""
    n = np.array([0.0, 100.0, 200.0, 300.0])
    lam_ne = 2e-9 * n**3  # 0.054 at cycle 300, against 0.02 LLI
    fc = mechanism_forecast(n, 0.02 * n / 300, 0.02 * n / 300, lam_ne, nominal_capacity_Ah=NOM)
    assert 300.0 < fc.limiting_change_cycle < 3000.0
    before, after = fc.limiting_change_cycle - 20, fc.limiting_change_cycle + 20
    st = fc.state([before, after])
    assert st["lithium_margin"][0] > 0.0 >= st["lithium_margin"][1]
    m = {k: v[0] for k, v in fc.modes([after]).items()}
    b = _bol()
    cn = b["Cn_Ah"] * (1 - m["LAM_NE"])
    cp, cn2, y0, x0 = electrode_state(NOM, m["LLI"], m["LAM_PE"], m["LAM_NE"])
    assert st["capacity_Ah"][1] == pytest.approx(cn * (1 - x0), rel=1e-9)


def test_bol_reference_and_input_errors():
    n = np.array([0.0, 100.0, 200.0])
    z = np.zeros(3)
    fc = mechanism_forecast(n, z, z, z, bol_reference=_bol())
    ref = mechanism_forecast(n, z, z, z, nominal_capacity_Ah=NOM)
    assert fc.state([500.0])["capacity_Ah"][0] == pytest.approx(ref.state([500.0])["capacity_Ah"][0])
    with pytest.raises(InputError, match="bol_reference= .* or nominal_capacity_Ah"):
        mechanism_forecast(n, z, z, z)
    with pytest.raises(InputError, match="at least 3 check-ups"):
        mechanism_forecast(n[:2], z[:2], z[:2], z[:2], nominal_capacity_Ah=NOM)
    with pytest.raises(InputError, match="strictly increasing"):
        mechanism_forecast(n[::-1], z, z, z, nominal_capacity_Ah=NOM)
    with pytest.raises(InputError, match="LAM_NE must be fractions lost"):
        mechanism_forecast(n, z, z, np.array([0.0, 0.1, 1.2]), nominal_capacity_Ah=NOM)
    with pytest.raises(InputError, match="bol_reference lacks 'n_li_Ah'"):
        mechanism_forecast(n, z, z, z, bol_reference={"Cp_Ah": 1.0, "Cn_Ah": 1.0})
