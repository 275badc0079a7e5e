"""PCM kernels and model API: Neumann verification, energy conservation, naive references."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import naive_pcm
from batterylab.errors import BatterylabError, OptionError
from batterylab.kernels import pcm as K
from batterylab.pcm import stefan
from batterylab.pcm.materials import Material, composite, load_material
from batterylab.pcm.model import Boundary, shell_grid, simulate_1d, simulate_lumped, slab_grid

# --------------------------------------------------------------------------- Neumann solutions


def test_neumann_lambda_reproduces_published_numbers():
    p2 = stefan.two_phase_problem()
    assert stefan.neumann_lambda(p2) == pytest.approx(0.181276, abs=5e-7)  # quoted to 6 decimals
    assert stefan.front_position_m(p2, 3600.0) * 1e3 == pytest.approx(7.691, abs=5e-4)
    p1 = dataclasses.replace(p2, initial_K=p2.melt_K)  # same material, one-phase
    assert stefan.neumann_lambda(p1) == pytest.approx(0.209070, abs=5e-7)
    q = stefan.one_phase_problem()
    assert stefan.neumann_lambda(q) == pytest.approx(0.258415, abs=5e-7)
    assert stefan.front_position_m(q, 3600.0) * 1e3 == pytest.approx(25.752, abs=5e-4)


def _stefan_material(p: stefan.NeumannProblem) -> Material:
    return Material("neumann", p.melt_K, p.melt_K, p.latent_J_kg, p.rho, p.rho, p.c_s, p.c_l, p.k_s, p.k_l)


# Grid: slab 0.1 m long (semi-infinite to within erfc(2.3) ~ 1e-3 of the solid's temperature
# change after 1 h), 250 uniform nodes (dx = 0.4 mm), wall at the left face (Dirichlet), adiabatic
# far end, explicit steps at 0.9 of the stability limit. Front = melted volume / area.
GRID = dict(length_m=0.1, n_nodes=250)


@pytest.mark.parametrize("problem", ["two_phase", "one_phase"])
def test_enthalpy_solver_front_within_one_percent(problem):
    p = getattr(stefan, f"{problem}_problem")()
    grid = slab_grid(GRID["length_m"], GRID["n_nodes"])
    t = np.linspace(0.0, 3600.0, 7)
    res = simulate_1d(grid, _stefan_material(p), t, p.initial_K, left=Boundary("temperature", p.wall_K))
    exact = stefan.front_position_m(p, t[2:])  # from 20 min on, the front spans > 10 nodes
    err = np.abs(res.melted_thickness_m[2:] / exact - 1.0)
    assert err.max() < 0.01, err
    # temperature profile at 1 h: staircase of the fixed-grid method stays within 0.5 K (5 % of
    # the 10 K wall superheat) of the analytical profile
    prof = stefan.temperature_profile_K(p, grid.centre_m, 3600.0)
    assert np.max(np.abs(res.temperature_K[-1] - prof)) < 0.5
    assert res.energy_error_relative < 1e-9


# --------------------------------------------------------------------------- energy conservation


def test_coupled_shell_energy_conserved_to_round_off():
    """Cell node + cylindrical PCM shell + convection to ambient, with a varying heat duty."""
    mat = load_material("rt28hc")
    grid = shell_grid(0.0105, 0.020, 40, height_m=0.07)
    t = np.linspace(0.0, 4 * 3600.0, 241)
    rng = np.random.default_rng(1)
    heat = rng.uniform(0.0, 8.0, t.size - 1)
    amb = 273.15 + rng.uniform(-10.0, 35.0, t.size - 1)
    res = simulate_1d(grid, mat, t, 293.15, left=Boundary("cell", heat, 0.5),
                      right=Boundary("convective", amb, 10.0), cell_capacity_J_K=45.0,
                      cell_ambient_conductance_W_K=0.02, cell_ambient_K=amb)
    assert res.energy_error_relative < 1e-9
    assert res.liquid_fraction.max() > 0.0  # the PCM did melt: latent heat is in the ledger


def test_lumped_energy_conserved_and_heater_thermostat():
    mat = load_material("rt28hc")
    t = np.arange(0, 3 * 24 * 60 + 1) * 60.0
    hour = (t[:-1] / 3600.0) % 24
    heater = np.where((hour > 9) & (hour < 16), 20.0, 0.0)
    amb = 273.15 - 10.0 + 5.0 * np.sin(2 * np.pi * hour / 24)
    res = simulate_lumped(t, 0.0, amb, mat, pcm_mass_kg=0.2, cell_capacity_J_K=45.0,
                          cell_pcm_conductance_W_K=1.0, pcm_ambient_conductance_W_K=0.05,
                          heater_W=heater, heater_setpoint_K=305.0, cell_initial_K=263.15)
    assert res.energy_error_relative.max() < 1e-9
    # the thermostat is checked once per substep (here one 60 s step): overshoot at most P dt / (m c)
    assert res.pcm_temperature_K.max() < 305.0 + 20.0 * 60.0 / (0.2 * 2000.0) + 1e-9
    assert res.pcm_temperature_K.max() > 303.15  # it did reach the liquid
    assert res.heater_energy_J[0] < 20.0 * 7 * 3600 * 3  # less than always-on
    assert res.heater_energy_J[0] > 0.2 * mat.latent_heat_J_kg  # enough to melt it


# --------------------------------------------------------------------------- sensible-only limit


def test_zero_latent_heat_is_the_sensible_two_node_model():
    base = load_material("rt28hc")
    mat = dataclasses.replace(base.with_latent_heat(0.0), specific_heat_liquid_J_kg_K=base.specific_heat_solid_J_kg_K)
    t = np.arange(0, 6 * 60 + 1) * 60.0
    rng = np.random.default_rng(2)
    heat = rng.uniform(0, 10, t.size - 1)
    amb = 273.15 + rng.uniform(0, 40, t.size - 1)
    kw = dict(pcm_mass_kg=0.15, cell_capacity_J_K=45.0, cell_pcm_conductance_W_K=0.8,
              pcm_ambient_conductance_W_K=0.1, cell_ambient_conductance_W_K=0.05)
    res = simulate_lumped(t, heat, amb, mat, cell_initial_K=290.0, **kw)
    c_p = kw["pcm_mass_kg"] * mat.specific_heat_solid_J_kg_K
    lim = 0.9 * min(45.0 / (0.8 + 0.05), c_p / (0.8 + 0.1))
    tc, tp = naive_pcm.sensible_two_node(t, heat, amb, c_p, 45.0, 0.8, 0.1, 0.05, 290.0, 290.0, lim)
    # same scheme in temperature form: equal up to round-off of the h <-> T mapping
    np.testing.assert_allclose(res.cell_temperature_K[0], tc, rtol=1e-12, atol=0)
    np.testing.assert_allclose(res.pcm_temperature_K[0], tp, rtol=1e-12, atol=0)
    assert res.mushy_time_s[0] >= 0


def test_sensible_limit_converges_to_exact_linear_solution():
    """Constant inputs: the linear 2-node ODE has an exact matrix-exponential solution."""
    from scipy.linalg import expm

    base = load_material("rt35")
    mat = dataclasses.replace(base.with_latent_heat(0.0), specific_heat_liquid_J_kg_K=2000.0)
    cap, cp, gcp, gpa = 45.0, 0.1 * 2000.0, 0.5, 0.2
    t = np.linspace(0, 7200.0, 7201)
    res = simulate_lumped(t, 3.0, 280.0, mat, pcm_mass_kg=0.1, cell_capacity_J_K=cap,
                          cell_pcm_conductance_W_K=gcp, pcm_ambient_conductance_W_K=gpa, cell_initial_K=300.0)
    A = np.array([[-gcp / cap, gcp / cap], [gcp / cp, -(gcp + gpa) / cp]])
    b = np.array([3.0 / cap, gpa * 280.0 / cp])
    x_inf = -np.linalg.solve(A, b)
    x = x_inf + expm(A * 7200.0) @ (np.array([300.0, 300.0]) - x_inf)
    # forward Euler with 1 s steps on time constants >= 60 s: error ~ dt/(2 tau) of the change
    assert abs(res.cell_temperature_K[0, -1] - x[0]) < 0.02
    assert abs(res.pcm_temperature_K[0, -1] - x[1]) < 0.02


# --------------------------------------------------------------------------- naive references

materials = st.builds(
    lambda rho, cs, cl, L, ts, dm, ks, kl: np.array([rho, cs, cl, L, ts, ts + dm, ks, kl]),
    st.floats(500, 2500), st.floats(500, 4000), st.floats(500, 4000), st.floats(0, 3e5),
    st.floats(260, 340), st.floats(0, 15), st.floats(0.05, 20), st.floats(0.05, 20),
)


@given(mat=materials, temps=st.lists(st.floats(220, 400), min_size=1, max_size=20))
def test_enthalpy_temperature_relation_matches_naive_and_inverts(mat, temps):
    t = np.array(temps, dtype=np.float64)
    h = K.enthalpy_of_temperature(t, mat)
    np.testing.assert_allclose(h, [naive_pcm.enthalpy(x, mat) for x in t], rtol=1e-12, atol=1e-9)
    t2, f = K.temperature_of_enthalpy(h, mat)
    np.testing.assert_allclose(t2, t, rtol=0, atol=1e-9)
    assert np.all((f >= 0) & (f <= 1))
    np.testing.assert_allclose(f, [naive_pcm.fraction(x, mat) for x in h], rtol=1e-12, atol=1e-15)


@settings(max_examples=25)
@given(mat=materials, n=st.integers(1, 8), geometry=st.sampled_from(["slab", "shell"]),
       left=st.sampled_from([0, 1, 2, 3]), right=st.sampled_from([0, 1, 2]),
       seed=st.integers(0, 2**31), same_k=st.booleans())
def test_enthalpy_1d_matches_naive(mat, n, geometry, left, right, seed, same_k):
    rng = np.random.default_rng(seed)
    if same_k:  # the kernel precomputes face conductances when k does not depend on the phase
        mat = mat.copy()
        mat[K.K_L] = mat[K.K_S]
    grid = slab_grid(0.02, n, 0.01) if geometry == "slab" else shell_grid(0.01, 0.03, n, 0.07)
    m = 5
    t = np.cumsum(np.r_[0.0, rng.uniform(10.0, 200.0, m)])
    h0 = rng.uniform(-2e4, 4e5, n)
    vals = {0: rng.uniform(-500, 500, m), 1: rng.uniform(260, 340, m), 2: rng.uniform(260, 340, m),
            3: rng.uniform(0, 10, m)}
    codes = np.array([left, right], dtype=np.int64)
    coefs = np.array([{2: 15.0, 3: 0.3}.get(left, 0.0), {2: 25.0}.get(right, 0.0)])
    args = (t, grid.volume_m3, grid.area_m2, grid.half_left_m, grid.half_right_m, mat, h0, codes, coefs,
            vals[left], vals[right].copy(), 40.0, 300.0, rng.uniform(0.0, 0.2), rng.uniform(260, 320, m), 0.9)
    h, tc, led = K.enthalpy_1d(*args)
    nh, ntc, e_l, e_r = naive_pcm.enthalpy_1d(*args)
    scale = np.abs(nh).max() + 1e3
    np.testing.assert_allclose(h, nh, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(tc, ntc, rtol=1e-12)
    assert led[-1, 0] == pytest.approx(e_l, rel=1e-9, abs=1e-6)
    assert led[-1, 1] == pytest.approx(e_r, rel=1e-9, abs=1e-6)
    # energy closes to round-off
    total = abs(led[-1, 0]) + abs(led[-1, 1]) + abs(led[-1, 2]) + 1e-6
    assert abs(led[-1, 2] - led[-1, 0] - led[-1, 1]) / total < 1e-9
    assert np.isfinite(h).all()


@settings(max_examples=25)
@given(mat=materials, n_cells=st.integers(1, 4), seed=st.integers(0, 2**31), record_every=st.integers(1, 4))
def test_lumped_matches_naive(mat, n_cells, seed, record_every):
    rng = np.random.default_rng(seed)
    m = 9
    t = np.cumsum(np.r_[0.0, rng.uniform(5.0, 600.0, m)])
    heat = rng.uniform(0, 20, (n_cells, m))
    heater = rng.uniform(0, 30, (1, m))
    amb = rng.uniform(250, 320, (n_cells, m))
    mats = np.tile(mat, (n_cells, 1))
    mp = rng.uniform(0.01, 1.0, n_cells)
    cap = rng.uniform(10, 500, n_cells)
    gcp, gpa, gca = rng.uniform(0, 3, n_cells), rng.uniform(0, 1, n_cells), rng.uniform(0, 1, n_cells)
    tset = rng.uniform(280, 320, n_cells)
    tc0 = rng.uniform(260, 320, n_cells)
    hp0 = rng.uniform(-5e4, 4e5, n_cells)
    tc, tp, f, led = K.lumped_two_node(t, heat, heater, amb, mats, mp, cap, gcp, gpa, gca, tset, tc0, hp0,
                                       record_every, 0.9)
    idx = list(range(0, m + 1, record_every))
    if idx[-1] != m:
        idx.append(m)
    for c in range(n_cells):
        TC, TP, F, nl = naive_pcm.lumped_one(t, heat[c], heater[0], amb[c], mat, mp[c], cap[c], gcp[c], gpa[c],
                                             gca[c], tset[c], tc0[c], hp0[c], 0.9)
        np.testing.assert_allclose(tc[c], TC[idx], rtol=1e-11)
        np.testing.assert_allclose(tp[c], TP[idx], rtol=1e-11)
        np.testing.assert_allclose(f[c], F[idx], rtol=1e-9, atol=1e-9)
        for j, key in enumerate(["gen", "heat", "amb", "stored", "peak", "low", "mushy"]):
            assert led[c, j] == pytest.approx(nl[key], rel=1e-9, abs=1e-6 * (abs(nl["gen"]) + abs(nl["heat"]) + 1))
        total = abs(led[c, 0]) + abs(led[c, 1]) + abs(led[c, 2]) + abs(led[c, 3]) + 1e-9
        assert abs(led[c, 3] - led[c, 0] - led[c, 1] - led[c, 2]) / total < 1e-9


@settings(max_examples=20)
@given(k=st.floats(0.1, 5.0), rho=st.floats(600, 1500), c=st.floats(1000, 3000), L=st.floats(5e4, 3e5),
       mush=st.floats(0.0, 5.0), wall=st.floats(5.0, 30.0))
def test_maximum_principle_over_material_properties(k, rho, c, L, mush, wall):
    """Under the stability limit the explicit enthalpy scheme stays between the initial and wall
    temperatures and the melt advances monotonically."""
    mat = Material("m", 300.0, 300.0 + mush, L, rho, rho, c, c, k, 0.5 * k)
    grid = slab_grid(0.02, 20)
    t = np.linspace(0, 1800.0, 7)
    res = simulate_1d(grid, mat, t, 295.0, left=Boundary("temperature", 300.0 + mush + wall))
    assert res.temperature_K.min() >= 295.0 - 1e-9
    assert res.temperature_K.max() <= 300.0 + mush + wall + 1e-9
    assert np.all(np.diff(res.melted_thickness_m) >= -1e-15)
    assert res.energy_error_relative < 1e-9


def test_lumped_cells_are_independent_of_thread_count():
    from batterylab.kernels.jit import get_num_threads, set_num_threads

    mat = load_material("rt28hc").vector()
    rng = np.random.default_rng(3)
    n, m = 16, 200
    t = np.arange(m + 1) * 60.0
    args = (t, rng.uniform(0, 10, (n, m)), np.zeros((1, m)), np.full((1, m), 290.0), mat[None, :],
            rng.uniform(0.05, 0.5, n), np.full(n, 45.0), np.full(n, 0.5), np.full(n, 0.1), np.zeros(n),
            np.full(n, np.inf), np.full(n, 295.0), np.zeros(n), 1, 0.9)
    before = get_num_threads()
    try:
        set_num_threads(1)
        a = K.lumped_two_node(*args)
        set_num_threads(before)
        b = K.lumped_two_node(*args)
    finally:
        set_num_threads(before)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    one = K.lumped_two_node(t, args[1][5:6], *args[2:5], *(v[5:6] for v in args[5:13]), 1, 0.9)
    assert np.array_equal(one[0][0], a[0][5])


# --------------------------------------------------------------------------- materials


def test_materials_ship_with_sources_and_energy_densities():
    rt = load_material("rt28hc")
    assert rt.latent_heat_J_kg == pytest.approx(222.19e3, rel=1e-4)
    assert (rt.solidus_K, rt.liquidus_K) == (296.15, 303.15)
    # about 50 kWh/m3 (not the 1.8 kWh/m3 of a marketing figure)
    assert 45 < rt.latent_energy_density_kWh_m3("liquid") < 56
    assert rt.source.startswith("10.")
    assert load_material("rt35").latent_heat_J_kg < rt.latent_heat_J_kg


def test_composite_mixture_rules():
    pcm = load_material("rt28hc")
    eg = load_material("rt28hc_expanded_graphite")
    lo, hi = eg.conductivity_bounds_W_m_K
    assert pcm.conductivity_solid_W_m_K < lo < hi
    assert eg.latent_heat_J_kg == pytest.approx(0.8 * pcm.latent_heat_J_kg)
    par = load_material("rt28hc_expanded_graphite", conductivity_bound="parallel")
    assert par.conductivity_solid_W_m_K == pytest.approx(hi)
    # w = 1 gives the PCM back
    same = composite(pcm, pcm_mass_fraction=1.0, matrix_density_kg_m3=2200, matrix_specific_heat_J_kg_K=710,
                     matrix_conductivity_W_m_K=150)
    assert same.conductivity_solid_W_m_K == pytest.approx(pcm.conductivity_solid_W_m_K)
    assert same.density_liquid_kg_m3 == pytest.approx(pcm.density_liquid_kg_m3)


def test_materials_cli_prints_the_table():
    from click.testing import CliRunner

    from batterylab.pcm.cli import materials

    out = CliRunner().invoke(materials, []).output
    assert "RT28HC" in out and "RT35" in out and "kWh/m3" in out


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_are_named():
    rt = load_material("rt28hc")
    grid = slab_grid(0.01, 5)
    with pytest.raises(OptionError, match="rt28hc"):
        load_material("rt28")
    with pytest.raises(BatterylabError, match="kelvin"):
        simulate_1d(grid, rt, [0, 60], 25.0)
    with pytest.raises(OptionError, match="convective"):
        simulate_1d(grid, rt, [0, 60], 298.0, left=Boundary("convection", 290.0, 5.0))
    with pytest.raises(BatterylabError, match="pcm_mass_kg"):
        simulate_lumped([0, 60], 1.0, 290.0, rt, pcm_mass_kg=0.0, cell_capacity_J_K=40,
                        cell_pcm_conductance_W_K=1, cell_initial_K=290)
    with pytest.raises(BatterylabError, match="liquidus"):
        Material("x", 300.0, 290.0, 1e5, 800, 800, 2000, 2000, 0.2, 0.2)
    with pytest.raises(BatterylabError, match="time_s"):
        simulate_lumped([0, 60, 30], 1.0, 290.0, rt, pcm_mass_kg=1, cell_capacity_J_K=40,
                        cell_pcm_conductance_W_K=1, cell_initial_K=290)


def test_shell_steady_conduction_matches_log_profile():
    """Cylindrical shell between fixed temperatures: the steady heat flow is 2 pi k H dT / ln(ro/ri)."""
    mat = Material("sensible", 400.0, 400.0, 0.0, 900.0, 900.0, 2000.0, 2000.0, 0.5, 0.5)
    ri, ro, height = 0.01, 0.03, 0.07
    grid = shell_grid(ri, ro, 40, height)
    t = np.linspace(0.0, 20 * 3600.0, 21)  # >> (ro - ri)^2 / alpha = 1.4 h
    res = simulate_1d(grid, mat, t, 300.0, left=Boundary("temperature", 310.0), right=Boundary("temperature", 300.0))
    q_in = np.diff(res.energy_in_left_J)[-1] / np.diff(t)[-1]
    exact = 2 * np.pi * 0.5 * height * 10.0 / np.log(ro / ri)
    # second-order finite volumes with face areas at the faces: 40 nodes give ~1e-4 relative
    assert q_in == pytest.approx(exact, rel=2e-3)
    r_exact = 310.0 - 10.0 * np.log(grid.centre_m / ri) / np.log(ro / ri)
    np.testing.assert_allclose(res.temperature_K[-1], r_exact, atol=0.02)


def test_a_grid_whose_explicit_step_would_take_hours_is_refused_before_it_runs(monkeypatch):
    """Micrometre nodes: the stability limit (growing with the square of a node's width) would ask
    for about 1e12 node-substeps (some 45 minutes); the run is refused before it starts, with the
    limit and what to change."""
    from batterylab.errors import InputError
    from batterylab.pcm import load_material, shell_grid, simulate_1d

    t = np.linspace(0.0, 36000.0, 200)
    with monkeypatch.context() as mp:
        mp.setattr(K, "enthalpy_1d", lambda *a: pytest.fail("the run started"))
        with pytest.raises(InputError, match=r"explicit stability limit of this grid is .* s .*use fewer nodes"):
            simulate_1d(shell_grid(0.01, 0.010001, 5), load_material("rt28hc"), t, 298.15)
    r = simulate_1d(shell_grid(0.01, 0.0101, 5), load_material("rt28hc"), t, 298.15)  # 1e8 node-substeps: runs
    assert r.summary()["substeps"] > 1e7


def test_a_lumped_cell_whose_explicit_step_would_take_hours_is_refused(monkeypatch):
    """A heat capacity in kJ given as J (1e-3 J K-1 against 1e6 W K-1): 4e13 substeps, refused."""
    from batterylab.errors import InputError
    from batterylab.pcm import load_material, simulate_lumped

    t = np.linspace(0.0, 36000.0, 200)
    kw = dict(pcm_mass_kg=1.0, cell_pcm_conductance_W_K=1e6, cell_initial_K=298.15)
    with monkeypatch.context() as mp:
        mp.setattr(K, "lumped_two_node", lambda *a: pytest.fail("the run started"))
        with pytest.raises(InputError, match=r"stability limit of cell 0 is 9e-10 s .*check the heat capacities"):
            simulate_lumped(t, np.full(199, 10.0), 298.15, load_material("rt28hc"), cell_capacity_J_K=1e-3, **kw)
    assert simulate_lumped(t, np.full(199, 10.0), 298.15, load_material("rt28hc"), cell_capacity_J_K=1e3,
                           **kw).summary()["cells"] == 1


def test_the_lumped_substep_estimate_is_the_kernels_count():
    """The guard's estimate follows the kernel's own step rule: equal to the substeps it takes."""
    from batterylab.pcm import load_material, simulate_lumped
    from batterylab.pcm.model import lumped_substeps

    rng = np.random.default_rng(5)
    t = np.concatenate([[0.0], np.cumsum(rng.uniform(1.0, 600.0, 40))])
    mat = load_material("rt28hc")
    n = 6
    kw = dict(pcm_mass_kg=rng.uniform(0.01, 1.0, n), cell_capacity_J_K=rng.uniform(5.0, 500.0, n),
              cell_pcm_conductance_W_K=rng.uniform(0.0, 5.0, n), pcm_ambient_conductance_W_K=rng.uniform(0.0, 1.0, n),
              cell_ambient_conductance_W_K=np.r_[0.0, rng.uniform(0.0, 1.0, n - 1)])
    r = simulate_lumped(t, np.full((n, t.size - 1), 2.0), 298.15, mat, cell_initial_K=298.15, **kw)
    matv = np.array([mat.vector("solid")])
    _, steps = lumped_substeps(t, matv, kw["pcm_mass_kg"], kw["cell_capacity_J_K"], kw["cell_pcm_conductance_W_K"],
                               kw["pcm_ambient_conductance_W_K"], kw["cell_ambient_conductance_W_K"], 0.9)
    assert np.array_equal(steps, r.substeps)
