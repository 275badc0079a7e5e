"""Phase-change material (PCM) heat conduction: the enthalpy method on a fixed grid, and a lumped
two-node (cell + PCM) model for fleets.

Material vector
---------------
Every kernel takes the material as a float64 vector ``material`` of length :data:`N_MATERIAL`::

    [rho, c_s, c_l, L, T_sol, T_liq, k_s, k_l]
    rho    density used for the node mass [kg m-3] (the grid is fixed: volume change on melting is
           not modelled; the caller chooses the density, batterylab uses the solid density)
    c_s    specific heat of the solid [J kg-1 K-1]
    c_l    specific heat of the liquid [J kg-1 K-1]
    L      latent heat of fusion [J kg-1]
    T_sol  solidus temperature [K]
    T_liq  liquidus temperature [K] (>= T_sol; equal for an isothermal phase change)
    k_s    thermal conductivity of the solid [W m-1 K-1]
    k_l    thermal conductivity of the liquid [W m-1 K-1]

Enthalpy-temperature relation
-----------------------------
Specific enthalpy ``h`` [J kg-1] is measured from the solid at the solidus. With the mushy-range
heat capacity ``c_m = (c_s + c_l)/2`` and ``h_liq = c_m (T_liq - T_sol) + L``::

    h <= 0            : T = T_sol + h / c_s,                         f = 0
    0 < h < h_liq     : T = T_sol + (T_liq - T_sol) h / h_liq,       f = h / h_liq
    h >= h_liq        : T = T_liq + (h - h_liq) / c_l,               f = 1

i.e. the latent heat is released linearly over the mushy range [T_sol, T_liq] and the liquid
fraction ``f`` is linear in temperature there: the fixed-grid enthalpy method (Voller & Cross,
Int. J. Heat Mass Transfer 24 (1981) 545, doi:10.1016/0017-9310(81)90062-4; Alexiades & Solomon,
*Mathematical Modeling of Melting and Freezing Processes*, 1993, doi:10.1201/9780203749449). The node conductivity is ``k = k_s + f (k_l - k_s)``; the conductance
of the face between two nodes uses the series (harmonic-mean) combination of the two half-cells.

Time stepping
-------------
Explicit (forward Euler) on the enthalpy, with the stability limit computed from the largest
conductances (``k = max(k_s, k_l)``) and the smallest heat capacity (``min(c_s, c_l)``; the mushy
slope ``dh/dT`` is larger): ``dt <= safety * min_i C_i / sum_j G_ij``. Each input interval is
split into the smallest number of equal substeps that respects the limit. Under this limit the
scheme is monotone (maximum principle), and because every exchanged flux is added to one node and
subtracted from the other, energy is conserved to round-off; the kernels return the ledger.

Boundary conditions (1D kernel), per side, code and meaning of the per-step ``value``:

====  ===============================  ==============================================
code  condition                        value, coefficient
====  ===============================  ==============================================
0     heat flux into the domain        value = flux [W m-2]; 0 is adiabatic
1     fixed temperature (Dirichlet)    value = wall temperature [K]
2     convection to ambient            value = ambient temperature [K], coef = h [W m-2 K-1]
3     lumped cell node (left only)     value = cell heat generation [W], coef = R [K W-1]
====  ===============================  ==============================================

Kernels here import only numpy and numba.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import helper, kernel, prange

N_MATERIAL = 8
RHO, C_S, C_L, LATENT, T_SOL, T_LIQ, K_S, K_L = range(N_MATERIAL)

BC_FLUX, BC_TEMPERATURE, BC_CONVECTIVE, BC_CELL = 0, 1, 2, 3

#: Columns of the lumped kernel's per-cell ledger.
LEDGER_COLUMNS = (
    "generated_heat_J",  # cell heat generation integrated
    "heater_energy_J",  # heater energy delivered into the PCM node
    "ambient_exchange_J",  # heat gained from ambient (negative: lost), PCM and cell paths
    "stored_change_J",  # change in stored energy (cell sensible + PCM enthalpy)
    "peak_cell_temperature_K",
    "min_cell_temperature_K",
    "mushy_time_s",  # time the PCM spent with 0 < f < 1
    "substeps",  # number of explicit substeps taken
)
N_LEDGER = len(LEDGER_COLUMNS)

#: Safety factor on the explicit stability limit.
SAFETY = 0.9


@helper
def liquid_enthalpy(material):
    """h at the liquidus [J kg-1]."""
    c_m = 0.5 * (material[C_S] + material[C_L])
    return c_m * (material[T_LIQ] - material[T_SOL]) + material[LATENT]


@helper
def temperature_of(h, material, h_liq):
    """Temperature [K] of specific enthalpy ``h`` [J kg-1] (see module docstring)."""
    if h <= 0.0 or h_liq <= 0.0:
        if h <= 0.0:
            return material[T_SOL] + h / material[C_S]
        return material[T_SOL] + h / material[C_L]
    if h >= h_liq:
        return material[T_LIQ] + (h - h_liq) / material[C_L]
    return material[T_SOL] + (material[T_LIQ] - material[T_SOL]) * (h / h_liq)


@helper
def fraction_of(h, h_liq):
    """Liquid fraction [-] of specific enthalpy ``h`` [J kg-1]."""
    if h <= 0.0:
        return 0.0
    if h >= h_liq:
        return 1.0
    return h / h_liq


@kernel
def enthalpy_of_temperature(temperature_K, material):
    """Specific enthalpy [J kg-1] of each temperature [K] (inverse of the T(h) relation)."""
    out = np.empty(temperature_K.shape[0])
    h_liq = liquid_enthalpy(material)
    t_sol = material[T_SOL]
    t_liq = material[T_LIQ]
    for i in range(temperature_K.shape[0]):
        t = temperature_K[i]
        if t <= t_sol:
            out[i] = material[C_S] * (t - t_sol)
        elif t >= t_liq:
            out[i] = h_liq + material[C_L] * (t - t_liq)
        else:
            out[i] = h_liq * (t - t_sol) / (t_liq - t_sol)
    return out


@kernel
def temperature_of_enthalpy(h_J_kg, material):
    """Temperature [K] and liquid fraction [-] of each specific enthalpy [J kg-1]."""
    n = h_J_kg.shape[0]
    t = np.empty(n)
    f = np.empty(n)
    h_liq = liquid_enthalpy(material)
    for i in range(n):
        t[i] = temperature_of(h_J_kg[i], material, h_liq)
        f[i] = fraction_of(h_J_kg[i], h_liq)
    return t, f


@helper
def _boundary_conductance(code, coef, area, half, k):
    """Conductance [W K-1] between the boundary and the adjacent node (0 for a flux condition)."""
    if code == 1:
        return area * k / half
    if code == 2:
        return 1.0 / (1.0 / (coef * area) + half / (k * area))
    if code == 3:
        return 1.0 / (coef + half / (k * area))
    return 0.0


@kernel
def stable_step_1d(volume_m3, area_m2, half_left_m, half_right_m, material, bc_codes, bc_coefs,
                   cell_capacity_J_K, cell_ambient_W_K):
    """Largest stable explicit step [s] of :func:`enthalpy_1d` (before the safety factor)."""
    n = volume_m3.shape[0]
    k_max = max(material[K_S], material[K_L])
    c_min = min(material[C_S], material[C_L])
    rho = material[RHO]
    dt = np.inf
    for i in range(n):
        g = 0.0
        if i > 0:
            g += area_m2[i] / (half_right_m[i - 1] / k_max + half_left_m[i] / k_max)
        else:
            g += _boundary_conductance(bc_codes[0], bc_coefs[0], area_m2[0], half_left_m[0], k_max)
        if i < n - 1:
            g += area_m2[i + 1] / (half_right_m[i] / k_max + half_left_m[i + 1] / k_max)
        else:
            g += _boundary_conductance(bc_codes[1], bc_coefs[1], area_m2[n], half_right_m[n - 1], k_max)
        if g > 0.0:
            dt = min(dt, rho * volume_m3[i] * c_min / g)
    if bc_codes[0] == 3:
        g = _boundary_conductance(bc_codes[0], bc_coefs[0], area_m2[0], half_left_m[0], k_max) + cell_ambient_W_K
        dt = min(dt, cell_capacity_J_K / g)
    return dt


@kernel
def enthalpy_1d(time_s, volume_m3, area_m2, half_left_m, half_right_m, material, h0_J_kg,
                bc_codes, bc_coefs, left_value, right_value, cell_capacity_J_K, cell_T0_K,
                cell_ambient_W_K, cell_ambient_K, safety):
    """Fixed-grid enthalpy method on a 1D finite-volume grid (slab or cylindrical shell).

    Parameters
    ----------
    time_s : (m+1,) strictly increasing output times [s]; inputs are constant over each interval
    volume_m3 : (n,) node volumes [m3]
    area_m2 : (n+1,) face areas [m2], face 0 is the left boundary, face n the right one
    half_left_m, half_right_m : (n,) distance from each node centre to its left / right face [m]
    material : (8,) material vector (module docstring)
    h0_J_kg : (n,) initial specific enthalpy [J kg-1]
    bc_codes : (2,) int64 boundary codes (left, right), see the module docstring
    bc_coefs : (2,) boundary coefficients (h [W m-2 K-1] for code 2, R [K W-1] for code 3)
    left_value, right_value : (m,) per-interval boundary values (flux, temperature, ambient or
        cell heat [W], by code)
    cell_capacity_J_K : heat capacity of the lumped cell node [J K-1] (code 3 only)
    cell_T0_K : initial cell temperature [K] (code 3 only)
    cell_ambient_W_K : conductance from the cell node straight to ambient [W K-1] (code 3 only;
        e.g. the cell's end caps, which the PCM shell does not cover)
    cell_ambient_K : (m,) ambient temperature of that path [K] (code 3 only)
    safety : fraction of the stability limit used (0 < safety <= 1)

    Returns
    -------
    h : (m+1, n) specific enthalpy [J kg-1] at each output time
    cell_T : (m+1,) cell temperature [K] (NaN-free; equals cell_T0_K when there is no cell)
    ledger : (m+1, 4) cumulative energy [J]: left boundary inflow (external only: for a cell
        boundary it is the cell's generated heat plus its direct exchange with ambient), right
        boundary inflow, stored change (PCM enthalpy + cell sensible), and the number of
        substeps so far.
    """
    n = volume_m3.shape[0]
    m = time_s.shape[0] - 1
    rho = material[RHO]
    h_liq = liquid_enthalpy(material)
    mass = np.empty(n)
    for i in range(n):
        mass[i] = rho * volume_m3[i]
    h = h0_J_kg.copy()
    temp = np.empty(n)
    kk = np.empty(n)
    out_h = np.empty((m + 1, n))
    out_cell = np.empty(m + 1)
    ledger = np.zeros((m + 1, 4))
    dt_stable = safety * stable_step_1d(volume_m3, area_m2, half_left_m, half_right_m, material,
                                        bc_codes, bc_coefs, cell_capacity_J_K, cell_ambient_W_K)
    t_cell = cell_T0_K
    has_cell = bc_codes[0] == 3
    e0 = 0.0
    for i in range(n):
        e0 += mass[i] * h[i]
    if has_cell:
        e0 += cell_capacity_J_K * t_cell
    e_left = 0.0
    e_right = 0.0
    steps = 0.0
    for i in range(n):
        out_h[0, i] = h[i]
    out_cell[0] = t_cell
    const_k = material[K_S] == material[K_L]
    gface = np.zeros(n + 1)  # face conductances [W K-1] when k does not depend on the phase
    if const_k:
        for i in range(n):
            kk[i] = material[K_S]
        for i in range(1, n):
            gface[i] = area_m2[i] / (half_right_m[i - 1] / kk[i - 1] + half_left_m[i] / kk[i])
        gface[0] = _boundary_conductance(bc_codes[0], bc_coefs[0], area_m2[0], half_left_m[0], kk[0])
        gface[n] = _boundary_conductance(bc_codes[1], bc_coefs[1], area_m2[n], half_right_m[n - 1], kk[n - 1])
    dtm = np.empty(n)
    k_s = material[K_S]
    dk = material[K_L] - material[K_S]
    for k in range(m):
        span = time_s[k + 1] - time_s[k]
        nsub = 1
        if span > dt_stable:
            nsub = int(math.ceil(span / dt_stable))
        dt = span / nsub
        for i in range(n):
            dtm[i] = dt / mass[i]
        lv = left_value[k]
        rv = right_value[k]
        ta_cell = cell_ambient_K[k] if has_cell else 0.0
        lcode = bc_codes[0]
        rcode = bc_codes[1]
        for _s in range(nsub):
            if const_k:
                for i in range(n):
                    temp[i] = temperature_of(h[i], material, h_liq)
            else:
                for i in range(n):
                    temp[i] = temperature_of(h[i], material, h_liq)
                    kk[i] = k_s + fraction_of(h[i], h_liq) * dk
                for i in range(1, n):
                    gface[i] = area_m2[i] / (half_right_m[i - 1] / kk[i - 1] + half_left_m[i] / kk[i])
                if lcode != 0:
                    gface[0] = _boundary_conductance(lcode, bc_coefs[0], area_m2[0], half_left_m[0], kk[0])
                if rcode != 0:
                    gface[n] = _boundary_conductance(rcode, bc_coefs[1], area_m2[n], half_right_m[n - 1], kk[n - 1])
            # left boundary inflow [W]
            if lcode == 0:
                f0 = lv * area_m2[0]
            elif lcode == 3:
                f0 = gface[0] * (t_cell - temp[0])
            else:
                f0 = gface[0] * (lv - temp[0])
            # right boundary: flow out of the domain [W]
            if rcode == 0:
                fn = -rv * area_m2[n]
            else:
                fn = gface[n] * (temp[n - 1] - rv)
            # interior faces and the update in one sweep (each face flux used by both neighbours)
            left_flux = f0
            for i in range(n - 1):
                right_flux = gface[i + 1] * (temp[i] - temp[i + 1])
                h[i] += dtm[i] * (left_flux - right_flux)
                left_flux = right_flux
            h[n - 1] += dtm[n - 1] * (left_flux - fn)
            if has_cell:
                q_ca = cell_ambient_W_K * (ta_cell - t_cell)
                t_cell += dt * (lv + q_ca - f0) / cell_capacity_J_K
                e_left += dt * (lv + q_ca)
            else:
                e_left += dt * f0
            e_right -= dt * fn
        steps += nsub
        for i in range(n):
            out_h[k + 1, i] = h[i]
        out_cell[k + 1] = t_cell
        e = 0.0
        for i in range(n):
            e += mass[i] * h[i]
        if has_cell:
            e += cell_capacity_J_K * t_cell
        ledger[k + 1, 0] = e_left
        ledger[k + 1, 1] = e_right
        ledger[k + 1, 2] = e - e0
        ledger[k + 1, 3] = steps
    return out_h, out_cell, ledger


@helper
def _row(arr, i):
    """Row ``i`` of a (1 or n, m) array: broadcasting without copies."""
    if arr.shape[0] == 1:
        return i - i  # zero of i's integer type (prange indices are unsigned: 0 would unify to float)
    return i


@kernel(parallel=True)
def lumped_two_node(time_s, heat_W, heater_W, ambient_K, material, mass_kg, cell_capacity_J_K,
                    g_cell_pcm_W_K, g_pcm_amb_W_K, g_cell_amb_W_K, heater_setpoint_K, cell_T0_K,
                    pcm_h0_J_kg, record_every, safety):
    """Lumped cell + PCM model for many cells in parallel (one cell per prange iteration).

    Equations (explicit substeps of each input interval)::

        C_cell dT_c/dt = Q_gen + G_ca (T_a - T_c) - G_cp (T_c - T_p)
        m_p    dh_p/dt = G_cp (T_c - T_p) + G_pa (T_a - T_p) + P_heater [T_p < T_set]
        T_p = T(h_p)   (enthalpy-temperature relation, module docstring)

    Parameters
    ----------
    time_s : (m+1,) times [s]; inputs constant over each interval
    heat_W : (1 or n, m) cell heat generation [W]
    heater_W : (1 or n, m) heater power into the PCM node [W] (thermostat: on while T_p < setpoint)
    ambient_K : (1 or n, m) ambient temperature [K]
    material : (1 or n, 8) material vectors
    mass_kg, cell_capacity_J_K, g_cell_pcm_W_K, g_pcm_amb_W_K, g_cell_amb_W_K,
    heater_setpoint_K, cell_T0_K, pcm_h0_J_kg : (n,) per-cell parameters
        (PCM mass [kg], cell heat capacity [J K-1], conductances [W K-1], thermostat [K], initial
        cell temperature [K], initial PCM specific enthalpy [J kg-1])
    record_every : record every this many intervals (the last time is always recorded)
    safety : fraction of the stability limit used

    Returns
    -------
    cell_T : (n, r) cell temperature [K]; pcm_T : (n, r) PCM temperature [K];
    fraction : (n, r) PCM liquid fraction [-]; ledger : (n, 8), columns LEDGER_COLUMNS.
    With r = len(range(0, m, record_every)) + 1 records at ``time_s[::record_every]`` plus the end.
    """
    n = mass_kg.shape[0]
    m = time_s.shape[0] - 1
    nrec = (m - 1) // record_every + 2 if m > 0 else 1
    out_tc = np.empty((n, nrec))
    out_tp = np.empty((n, nrec))
    out_f = np.empty((n, nrec))
    ledger = np.zeros((n, N_LEDGER))
    for c in prange(n):
        mat = material[_row(material, c)]
        rq = _row(heat_W, c)
        rh = _row(heater_W, c)
        ra = _row(ambient_K, c)
        h_liq = liquid_enthalpy(mat)
        cap = cell_capacity_J_K[c]
        mp = mass_kg[c]
        gcp = g_cell_pcm_W_K[c]
        gpa = g_pcm_amb_W_K[c]
        gca = g_cell_amb_W_K[c]
        tset = heater_setpoint_K[c]
        dt_lim = np.inf
        if gcp + gca > 0.0:
            dt_lim = min(dt_lim, cap / (gcp + gca))
        if gcp + gpa > 0.0:
            dt_lim = min(dt_lim, mp * min(mat[C_S], mat[C_L]) / (gcp + gpa))
        dt_lim *= safety
        tc = cell_T0_K[c]
        hp = pcm_h0_J_kg[c]
        tp = temperature_of(hp, mat, h_liq)
        e0 = cap * tc + mp * hp
        e_gen = 0.0
        e_heat = 0.0
        e_amb = 0.0
        peak = tc
        low = tc
        mushy = 0.0
        steps = 0.0
        out_tc[c, 0] = tc
        out_tp[c, 0] = tp
        out_f[c, 0] = fraction_of(hp, h_liq)
        r = 1
        for k in range(m):
            span = time_s[k + 1] - time_s[k]
            nsub = 1
            if span > dt_lim:
                nsub = int(math.ceil(span / dt_lim))
            dt = span / nsub
            q = heat_W[rq, k]
            p = heater_W[rh, k]
            ta = ambient_K[ra, k]
            for _s in range(nsub):
                q_cp = gcp * (tc - tp)
                q_pa = gpa * (ta - tp)
                q_ca = gca * (ta - tc)
                ph = p if tp < tset else 0.0
                if hp > 0.0 and hp < h_liq:
                    mushy += dt
                tc += dt * (q + q_ca - q_cp) / cap
                hp += dt * (q_cp + q_pa + ph) / mp
                tp = temperature_of(hp, mat, h_liq)
                e_gen += dt * q
                e_heat += dt * ph
                e_amb += dt * (q_pa + q_ca)
                if tc > peak:
                    peak = tc
                if tc < low:
                    low = tc
            steps += nsub
            if (k + 1) % record_every == 0 or k == m - 1:
                out_tc[c, r] = tc
                out_tp[c, r] = tp
                out_f[c, r] = fraction_of(hp, h_liq)
                r += 1
        ledger[c, 0] = e_gen
        ledger[c, 1] = e_heat
        ledger[c, 2] = e_amb
        ledger[c, 3] = (cap * tc + mp * hp) - e0
        ledger[c, 4] = peak
        ledger[c, 5] = low
        ledger[c, 6] = mushy
        ledger[c, 7] = steps
    return out_tc, out_tp, out_f, ledger
