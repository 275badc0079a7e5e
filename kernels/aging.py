"""Compiled ageing core: a generic semi-empirical ageing integrator with streaming rainflow counting.

An ageing model is data (``parameter_sets/aging/*.json``, compiled by
:mod:`batterylab.aging.models` into the flat arrays below); this file holds the only compiled
code. See ``kernels/AGING_MODELS.md`` for how to add a model.

States
------
Every degradation state ``y`` follows a closed-form trajectory in a driver ``x`` (time, charge
throughput or rainflow cycles) whose rate coefficient ``k`` depends on stress:

- ``POWER``      y = k x^p                       (p constant; SEI-like, sqrt-time, linear)
- ``SIGMOID``    y = 2 y_inf (1/2 - 1/(1 + exp((k x)^p)))   (knee / LAM, BLAST-Lite form)
- ``EXP_RELAX``  y = y_inf (1 - exp(-k x))
- ``POWER_VAR``  y = k x^p with a stress-dependent exponent p

Under time-varying stress each state advances by the exact *virtual-time* (equivalent-time)
update: the state's current value is mapped back to the driver value ``x_eq`` that gives it under
the new stress, and the trajectory is followed from ``x_eq`` to ``x_eq + dx``. For POWER this is
``y_new = k (x_eq + dx)^p`` with ``x_eq = (y/k)^(1/p)``, computed as ``u = y^(1/p)``,
``u_new = u + k^(1/p) dx`` (the same number, one power per step). No Euler steps: splitting a
profile into chunks gives the same answer to rounding.

Stress
------
Stressor vector (index: meaning [unit]): 0 temperature [K], 1 SOC [-], 2 open-circuit voltage
[V] (model table), 3 anode potential [V] (model table), 4 |C-rate| [1/h], 5 depth of cycle [-].
Time-driven and step-throughput states see *step* stress (mean of the two samples of a step;
depth 0). Cycle-driven states see *cycle* stress of each rainflow half/full cycle when it closes:
depth = range, SOC = mean of the two reversal points, temperature = time mean over the cycle's
own segment, C-rate = mean over the time current flowed in that segment (rests excluded: steps
without current, or, when no current is given, steps in which SOC does not change), voltage and
anode potential from the tables at the mean SOC.

Rainflow counting follows ASTM E1049-85 section 5.4.4 exactly as the ``rainflow`` package
(three-point rule with the starting-point half cycle), streaming: the reversal stack lives in the
per-cell state vector, so counting continues across calls. The residue (points left on the stack)
is counted as half cycles only when a call is *finalised*, on copies, so the returned state
continues the count exactly.

Repeated profiles
-----------------
A profile repeated ``repeat`` times is never written out, and its repetitions cost far less than
their steps:

- Every step's stress, and the increment coefficient g = k^(1/p) of every POWER step state
  whose k reads no capacity-dependent stressor, is computed once per cell (``_precompute``).
- When every step state is such a state, a repetition is *replayed* from event to event
  (``_replay``): the reversal detector's confirmations in a repetition depend only on the SOC
  samples and the detector state it starts from, so they are found once (``_schedule``); between
  two events (a reversal, its confirmation, an output sample) each state, the throughput and
  the running integrals move by a difference of precomputed running sums (q, the capacity basis
  of throughput, only changes at reversals). Reversals are pushed onto the rainflow stack exactly
  as step by step.
- A rainflow cycle between two samples of the profile has the same stress in every repetition
  that closes a cycle between the same two samples (the same start sample in the period, the
  same number of samples spanned): its rate coefficients are computed once and then reused
  (``_cycle``, ``_cycle_states``), except for states whose rate reads a C-rate that scales with
  the present capacity, which re-evaluate their C-rate terms only.
- A SIGMOID cycle state carries its scaled virtual time from one advance to the next.

The results equal those of the written-out profile to rounding: the running integrals behind a
cycle's mean temperature and C-rate are summed in another order, and a rate's exponentials
amplify their last bits (the tests hold them to 1e-10 relative, row by row).

Rate expressions
----------------
``k`` (and ``y_inf``, and a variable exponent) is an *expression*: a sum of products of
stress-factor *terms*, clipped to [lo, hi] and optionally raised to a power:
``e = clip(sum_j c_j prod_i term_ij, lo, hi) ** pow``. Terms (code: value):

0 CONST        1
1 POLY         c0 + c1 z + c2 z^2 + c3 z^3, z = x - c4     (x the term's stressor)
2 EXP          exp(c0 (x - c1))
3 ARRHENIUS    exp(c0 / x + c1)        (c0 = -Ea/R, c1 = Ea/(R T_ref); x normally temperature)
4 POWER        max(x, c1) ** c0
5 EXP_OVER_T   exp(c0 (x / T - c1))    (Tafel-like in a potential over temperature; T = stressor 0)
6 EXP_EXP      exp(c0 exp(c1 x ** c2))
7 LINEAR_T     c0 + c1 (T - c2) x      (a temperature-coupled linear term)
8 TABLE4       piecewise linear through (c0, c4) ... (c3, c7), constant beyond the ends
9 EXP_POWPROD  exp(c0 max(x, c4)^c1 max(w, c5)^c2), w = stressor number int(c3) (0: temperature)

Bounds that keep every published form finite (no NaN, ever): an expression is clipped to
[lo, hi] (default [0, 1e300]); a negative base is never raised to a fractional power; overflowing
exponentials saturate; states are bounded to |y| <= 1e300; q and r are bounded to [0, 1e12].
"""

from __future__ import annotations

import math

import numpy as np

from .jit import helper, kernel, prange


def hot(func):
    """A helper of the per-step loop: inlined at the Numba IR level, so that no call boundary
    (and no reference counting of its many array arguments) costs time in every step."""
    return helper(func, inline="always")

# ---- codes (mirrored in batterylab.aging.models; keep in sync) ---------------------------------
N_STRESS = 6
S_T, S_SOC, S_V, S_UA, S_CRATE, S_DOD = 0, 1, 2, 3, 4, 5

T_CONST, T_POLY, T_EXP, T_ARRHENIUS, T_POWER, T_EXP_OVER_T, T_EXP_EXP, T_LINEAR_T, T_TABLE4, T_EXP_POWPROD = range(10)
N_TERM_COEF = 8

ST_POWER, ST_SIGMOID, ST_EXP_RELAX, ST_POWER_VAR = range(4)

D_TIME, D_STEP_EFC, D_CYCLE_EFC, D_CYCLE_COUNT = range(4)

# state_i columns
SI_TYPE, SI_DRIVER, SI_GROUP, SI_EK, SI_EAUX, SI_EP = range(6)
# state_f columns
SF_P, SF_SCALE, SF_SIGN, SF_INIT = range(4)
# group_i columns: target (0 capacity, 1 resistance), kind (0 sum of states, 1 c0 + c1/G[ref]), ref
GI_TARGET, GI_KIND, GI_REF = range(3)
# group_f columns
GF_OFFSET, GF_C0, GF_C1 = range(3)
# settings (float64 array)
SET_QNOM, SET_HAS_CURRENT, SET_CAP_COMBINE, SET_RES_COMBINE, SET_NEED_V, SET_NEED_UA, SET_FINALIZE = range(7)
#: 1.0: throughput (EFC) and the SOC-derived C-rate count against the NOMINAL capacity: each SOC
#: swing is scaled by the relative capacity q, refreshed at every confirmed SOC reversal (once
#: per half cycle; BLAST-Lite refreshes it once per day); 0.0: against the present capacity
#: (plain sum |dSOC| / 2).
SET_EFC_NOMINAL = 7
N_SETTINGS = 8

# ---- per-cell state vector layout ------------------------------------------------------------
H_T, H_SOC, H_TK, H_I, H_NSEEN, H_EFC, H_CUMT, H_CUMC = range(8)
H_RF_XLAST, H_RF_X, H_RF_DLAST, H_CAND_T, H_CAND_CT, H_CAND_CC, H_NSTACK, H_OVERFLOW = range(8, 16)
H_NFULL, H_NHALF = 16, 17
#: relative capacity q at the last confirmed SOC reversal (SET_EFC_NOMINAL models)
H_QF = 18
#: running time with current flowing [s], and its value at the reversal candidate: a cycle's mean
#: C-rate is its charge throughput over the time current flowed (rests excluded)
H_CUMA, H_CAND_CA = 20, 21
#: counters: repetitions replayed event to event (``_replay``), and rainflow cycles whose rate
#: coefficients were reused from the previous repetition
H_REPLAYED, H_REUSED = 19, 22
HEAD = 24
#: Reversal-stack capacity per cell. Rainflow ranges on the stack strictly decrease, so a SOC
#: profile needs more than this many nested, ever-smaller oscillations to overflow; on overflow
#: the oldest range is counted as a half cycle (counted in ``H_OVERFLOW``).
STACK = 64

BIG = 1e300
QR_MAX = 1e12


def state_length(n_states: int, stack: int = STACK) -> int:
    """Length of one cell's state vector for a model with ``n_states`` states."""
    return HEAD + n_states + 5 * stack


# ============================================================================================
# helpers
# ============================================================================================


@hot
def _exp(x):
    # exp that saturates instead of overflowing to inf
    if x > 700.0:
        x = 700.0
    return math.exp(x)


@hot
def _table(table, x):
    """Linear interpolation on a uniform grid over [0, 1], clamped at the ends."""
    n = table.shape[0]
    if x <= 0.0:
        return table[0]
    if x >= 1.0:
        return table[n - 1]
    pos = x * (n - 1)
    j = int(pos)
    if j >= n - 1:
        j = n - 2
    w = pos - j
    return table[j] + w * (table[j + 1] - table[j])


@hot
def _term(code, x, T, cf, i):
    if code == 0:
        return 1.0
    if code == 1:
        z = x - cf[i, 4]
        return cf[i, 0] + z * (cf[i, 1] + z * (cf[i, 2] + z * cf[i, 3]))
    if code == 2:
        return _exp(cf[i, 0] * (x - cf[i, 1]))
    if code == 3:
        if x <= 0.0:
            return 0.0
        return _exp(cf[i, 0] / x + cf[i, 1])
    if code == 4:
        b = x if x > cf[i, 1] else cf[i, 1]
        if b <= 0.0:
            if cf[i, 0] > 0.0:
                return 0.0
            if cf[i, 0] == 0.0:
                return 1.0
            return BIG
        return b ** cf[i, 0]
    if code == 5:
        if T <= 0.0:
            return 0.0
        return _exp(cf[i, 0] * (x / T - cf[i, 1]))
    if code == 6:
        b = x if x > 0.0 else 0.0
        inner = _exp(cf[i, 1] * b ** cf[i, 2])
        return _exp(cf[i, 0] * inner)
    if code == 7:
        return cf[i, 0] + cf[i, 1] * (T - cf[i, 2]) * x
    if code == 8:
        # piecewise linear through (c0, c4), (c1, c5), (c2, c6), (c3, c7), clamped at the ends
        if x <= cf[i, 0]:
            return cf[i, 4]
        for j in range(3):
            if x <= cf[i, j + 1]:
                w = cf[i, j + 1] - cf[i, j]
                if w <= 0.0:
                    return cf[i, j + 5]
                return cf[i, j + 4] + (x - cf[i, j]) * (cf[i, j + 5] - cf[i, j + 4]) / w
        return cf[i, 7]
    return 0.0


@hot
def _pow_floor(x, e, floor):
    """max(x, floor)^e without NaN: a non-positive base gives 0, 1 or BIG by the sign of e."""
    b = x if x > floor else floor
    if b <= 0.0:
        if e > 0.0:
            return 0.0
        if e == 0.0:
            return 1.0
        return BIG
    if e == 0.0:
        return 1.0
    v = b ** e
    if v > BIG:
        v = BIG
    return v


@hot
def _exp_powprod(x, w, cf, i):
    """Term 9: exp(c0 max(x, c4)^c1 max(w, c5)^c2), two stressors inside one exponential."""
    if cf[i, 0] == 0.0:
        return 1.0
    return _exp(cf[i, 0] * (_pow_floor(x, cf[i, 1], cf[i, 4]) * _pow_floor(w, cf[i, 2], cf[i, 5])))


@hot
def _clip_pow(e, total, expr_f):
    """Expression ``e``'s sum of products clipped to [lo, hi] and raised to its power."""
    lo = expr_f[e, 0]
    hi = expr_f[e, 1]
    if not (total >= lo):  # also catches NaN
        total = lo
    if total > hi:
        total = hi
    pw = expr_f[e, 2]
    if pw != 1.0:
        if total > 0.0:
            total = total ** pw
            if total > BIG:
                total = BIG
        elif pw > 0.0:
            total = 0.0
        else:
            total = BIG
    return total


@hot
def _term_at(i, stress, term_i, term_f):
    """Value of term ``i`` under ``stress``."""
    if term_i[i, 0] == 9:
        return _exp_powprod(stress[term_i[i, 1]], stress[int(term_f[i, 3])], term_f, i)
    return _term(term_i[i, 0], stress[term_i[i, 1]], stress[0], term_f, i)


#: ``_term_at`` as a called function: ``_expr_reused`` is inlined in several places, and
#: inlining every term code there made the kernel compile a third longer (it inlines POLY only)
_term_call = helper(getattr(_term_at, "py_func", _term_at), borrows=True)


@hot
def _expr_reused(e, stress, expr_i, expr_f, prod_i, term_i, term_f, tval, tvar):
    """``_expr(..., tmode=2)`` inlined: expression ``e`` from the stored products ``tval`` and
    only the terms with ``tvar[i] != 0``. A cycle state whose rate reads a C-rate that scales
    with capacity evaluates this once per reused cycle: as a call it cost a tenth of a repeated
    LFP profile's time (LFP 250 Ah fleet, 68 -> 61 ms)."""
    total = 0.0
    nt = term_i.shape[0]
    for j in range(expr_i[e, 0], expr_i[e, 1]):
        v = tval[j]
        if tvar[nt + j] != 0.0:
            for i in range(prod_i[j, 0], prod_i[j, 1]):
                if tvar[i] == 0.0:
                    continue
                if term_i[i, 0] == 1:  # POLY, the usual form of a C-rate factor
                    z = stress[term_i[i, 1]] - term_f[i, 4]
                    v *= term_f[i, 0] + z * (term_f[i, 1] + z * (term_f[i, 2] + z * term_f[i, 3]))
                else:
                    v *= _term_call(i, stress, term_i, term_f)
        total += v
    return _clip_pow(e, total, expr_f)


@helper(borrows=True)
def _expr(e, stress, expr_i, expr_f, prod_i, prod_f, term_i, term_f, tval, tvar, tmode):
    """Value of expression ``e`` under ``stress``, with a cache of product values ``tval`` (one
    per product) by ``tmode``: 0 evaluate; 1 evaluate and store each product's coefficient times
    its terms with ``tvar[i] == 0`` (terms whose stressors repeat; see ``_cycle_states``); 2 take
    that stored part and multiply in only the other terms, of the products with
    ``tvar[n_terms + j] != 0``."""
    total = 0.0
    nt = term_i.shape[0]
    for j in range(expr_i[e, 0], expr_i[e, 1]):
        if tmode == 2:
            v = tval[j]
            if tvar[nt + j] == 0.0:
                total += v
                continue
        else:
            v = prod_f[j]
        part = v
        for i in range(prod_i[j, 0], prod_i[j, 1]):
            if tmode == 2 and tvar[i] == 0.0:
                continue
            w = _term_at(i, stress, term_i, term_f)
            v *= w
            if tmode == 1 and tvar[i] == 0.0:
                part *= w
        if tmode == 1:
            tval[j] = part
        total += v
    return _clip_pow(e, total, expr_f)


@hot
def _sigmoid_w(y, aux, p):
    """SIGMOID state: its scaled virtual time w = k x_eq = z^(1/p), where y = y_inf tanh(z/2)
    (= 2 y_inf (1/2 - 1/(1 + exp(z)))) and ``aux`` = y_inf; -1 when y is at or beyond y_inf.
    atanh keeps full relative precision for small y, where the published form's
    log((1 + r)/(1 - r)) loses digits (see ``_sigmoid_y``)."""
    ratio = y / aux
    if ratio >= 1.0:
        return -1.0
    if ratio <= 0.0:
        return 0.0
    return (2.0 * math.atanh(ratio)) ** (1.0 / p)


@hot
def _sigmoid_y(w, store, aux, p):
    """SIGMOID state value at scaled virtual time ``w``, never behind the present value ``store``
    (rounding near saturation must not step backwards)."""
    h = 0.5 * w ** p
    if h < 0.02:  # tanh h by its series: exact to rounding here, where 1 - 2/(1 + e^2h) is not
        h2 = h * h
        t = h * (1.0 + h2 * (-1.0 / 3.0 + h2 * (2.0 / 15.0 + h2 * (-17.0 / 315.0
                                                          + h2 * (62.0 / 2835.0)))))
    else:  # math.tanh is several times slower than exp
        if h > 350.0:
            h = 350.0
        t = 1.0 - 2.0 / (1.0 + math.exp(2.0 * h))
    y = aux * t
    if (aux > 0.0 and y < store) or (aux < 0.0 and y > store):
        y = store
    return y


@hot
def _advance(stype, store, k, dx, p, aux):
    """Advance one state's stored value by the exact virtual-time update.

    ``store`` is u = y^(1/p) for POWER and y otherwise; returns the new stored value.
    """
    if dx <= 0.0 or k <= 0.0:
        return store
    if stype == 0:  # POWER: u += k^(1/p) dx
        if p == 1.0:
            g = k
        else:
            g = k ** (1.0 / p)
        u = store + g * dx
        if u > BIG:
            u = BIG
        return u
    if stype == 1:  # SIGMOID y = 2 yinf (1/2 - 1/(1+exp((k x)^p)))
        if aux == 0.0 or p <= 0.0:
            return store
        w = _sigmoid_w(store, aux, p)
        if w < 0.0:
            return store
        return _sigmoid_y(w + k * dx, store, aux, p)
    if stype == 2:  # EXP_RELAX y = yinf (1 - exp(-k x))
        if aux == 0.0:
            return store
        ratio = store / aux
        if ratio >= 1.0:
            return store
        x_eq = 0.0
        if ratio > 0.0:
            x_eq = -math.log(1.0 - ratio) / k
        y = aux * (1.0 - math.exp(-k * (x_eq + dx)))
        if (aux > 0.0 and y < store) or (aux < 0.0 and y > store):
            y = store
        return y
    # POWER_VAR y = k x^p, p from an expression (passed in as p)
    if p <= 0.0:
        return store
    x_eq = 0.0
    if store > 0.0:
        x_eq = (store / k) ** (1.0 / p)
    y = k * (x_eq + dx) ** p
    if y > BIG:
        y = BIG
    if y < store:
        y = store
    return y


@hot
def _value(stype, store, p):
    """State value y from the stored value."""
    if stype == 0:
        if store <= 0.0:
            return 0.0
        if p == 1.0:
            return store
        y = store ** p
        if y > BIG:
            y = BIG
        return y
    return store


@hot
def _update_states(dx_time, dx_efc, stress, st, mult, state_i, state_f, expr_i, expr_f, prod_i,
                   prod_f, term_i, term_f, pre):
    """Advance every step-driven state (time, step throughput) over one profile step.

    A state with ``pre[s] != 0`` is skipped: the caller advances it as ``u += g dx`` with its
    increment coefficient g = k^(1/p) precomputed by ``_power_coef`` for this step's stress (the
    same number).

    The expressions (k, y_inf, variable exponent) are evaluated here in a loop rather than by a
    call of ``_expr``: each inlined call would bind its seven arrays again in every step. Measured
    on materialised profiles (40 cells, 3 years hourly; the same numbers either way): taking the
    POWER fast path through the inlined ``_power_coef`` doubled the time (Kokam 0.055 -> 0.105 s,
    LFP 250 Ah 0.033 -> 0.066 s), and the clip through ``_clip_pow`` cost about 4 %.
    """
    ns = state_i.shape[0]
    T = stress[0]
    for s in range(ns):
        drv = state_i[s, 1]
        if drv == 0:
            dx = dx_time * state_f[s, 1]
        elif drv == 1:
            dx = dx_efc * state_f[s, 1]
        else:
            continue
        if dx <= 0.0:
            continue
        if pre[s] != 0.0:
            continue  # advanced by the caller with its precomputed coefficient
        stype = state_i[s, 0]
        e0 = state_i[s, 3]
        if stype == 0 and expr_i[e0, 1] - expr_i[e0, 0] == 1 and expr_f[e0, 2] == 1.0:
            # Fast path, POWER state whose k is one product: u += k^(1/p) dx with
            # k^(1/p) = exp(log k / p) and log k summed term by term (exponential terms contribute
            # their argument), one exp per state and step instead of one per term plus a power.
            # Same number as the general path; a product <= 0 or above hi falls back to it.
            j = expr_i[e0, 0]
            c = prod_f[j] * mult[s]
            ok = c > 0.0
            logk = 0.0
            if ok:
                logk = math.log(c)
                for i in range(prod_i[j, 0], prod_i[j, 1]):
                    code = term_i[i, 0]
                    x = stress[term_i[i, 1]]
                    if code == 0:
                        continue
                    if code == 2:
                        logk += term_f[i, 0] * (x - term_f[i, 1])
                    elif code == 3 and x > 0.0:
                        logk += term_f[i, 0] / x + term_f[i, 1]
                    elif code == 5 and T > 0.0:
                        logk += term_f[i, 0] * (x / T - term_f[i, 1])
                    else:
                        if code == 9:
                            v = _exp_powprod(x, stress[int(term_f[i, 3])], term_f, i)
                        else:
                            v = _term(code, x, T, term_f, i)
                        if v > 0.0:
                            logk += math.log(v)
                        else:
                            ok = False
                            break
            if ok and logk <= math.log(expr_f[e0, 1] * mult[s]) and expr_f[e0, 0] <= 0.0:
                if dx > 0.0:
                    a = logk / state_f[s, 0]
                    if a > 700.0:
                        a = 700.0
                    u = st[HEAD + s] + math.exp(a) * dx
                    if u > BIG:
                        u = BIG
                    st[HEAD + s] = u
                continue
        k = 0.0
        p = state_f[s, 0]
        aux = 0.0
        for slot in range(3):
            e = state_i[s, 3 + slot]
            if e < 0 or (slot == 2 and not (stype == 3 or stype == 1)):
                continue
            # ---- expression e (same arithmetic as _expr) ----
            total = 0.0
            for j in range(expr_i[e, 0], expr_i[e, 1]):
                v = prod_f[j]
                for i in range(prod_i[j, 0], prod_i[j, 1]):
                    if term_i[i, 0] == 9:
                        v *= _exp_powprod(stress[term_i[i, 1]], stress[int(term_f[i, 3])], term_f, i)
                    else:
                        v *= _term(term_i[i, 0], stress[term_i[i, 1]], T, term_f, i)
                total += v
            lo = expr_f[e, 0]
            hi = expr_f[e, 1]
            if not (total >= lo):  # also catches NaN
                total = lo
            if total > hi:
                total = hi
            pw = expr_f[e, 2]
            if pw != 1.0:
                if total > 0.0:
                    total = total ** pw
                    if total > BIG:
                        total = BIG
                elif pw > 0.0:
                    total = 0.0
                else:
                    total = BIG
            # ---------------------------------------------------
            if slot == 0:
                k = total * mult[s]
            elif slot == 1:
                aux = total
            else:
                p = total
        st[HEAD + s] = _advance(stype, st[HEAD + s], k, dx, p, aux)


@hot
def _power_logs(s, mult, state_i, expr_i, expr_f, prod_f):
    """The per-cell constants of POWER state ``s``'s fast path in ``_power_coef``: (log of its
    coefficient, log of its upper clip), both times the cell's multiplier ``mult[s]``; the first
    is NaN where the fast path does not apply (k not one product, a power applied, a positive
    lower clip, or a coefficient <= 0)."""
    e0 = state_i[s, 3]
    if expr_i[e0, 1] - expr_i[e0, 0] == 1 and expr_f[e0, 2] == 1.0 and expr_f[e0, 0] <= 0.0:
        c = prod_f[expr_i[e0, 0]] * mult[s]
        if c > 0.0:
            return math.log(c), math.log(expr_f[e0, 1] * mult[s])
    return np.nan, 0.0


@hot
def _fast_power(s, mult, state_i, expr_i, expr_f, prod_f):
    """Whether POWER state ``s`` takes the log-sum fast path of ``_power_coef``."""
    logc, _loghi = _power_logs(s, mult, state_i, expr_i, expr_f, prod_f)
    return logc == logc


@hot
def _power_coef(s, stress, mult, logc, loghi, state_i, state_f, expr_i, expr_f, prod_i, prod_f,
                term_i, term_f, tval, tvar, tmode):
    """Increment coefficient g = k^(1/p) of POWER state ``s`` under ``stress``: the state update
    is ``u += g dx`` (0 when k <= 0). ``logc, loghi`` from ``_power_logs``. Same arithmetic as the
    fast path of ``_update_states``, which keeps its own inlined copy: advancing the step states
    through ``_state_coefs`` instead measured 1.7-2x slower on materialised profiles (40 cells, 3
    years hourly: Kokam 0.053 -> 0.091 s, LFP 250 Ah 0.030 -> 0.054 s)."""
    T = stress[0]
    e0 = state_i[s, 3]
    p = state_f[s, 0]
    if logc == logc:
        # k^(1/p) = exp(log k / p), log k summed term by term (exponential terms contribute their
        # argument); a product <= 0 or above the upper clip falls back to the general path
        j = expr_i[e0, 0]
        ok = True
        logk = logc
        for i in range(prod_i[j, 0], prod_i[j, 1]):
            code = term_i[i, 0]
            x = stress[term_i[i, 1]]
            if code == 0:
                continue
            if code == 2:
                logk += term_f[i, 0] * (x - term_f[i, 1])
            elif code == 3 and x > 0.0:
                logk += term_f[i, 0] / x + term_f[i, 1]
            elif code == 5 and T > 0.0:
                logk += term_f[i, 0] * (x / T - term_f[i, 1])
            else:
                if code == 9:
                    v = _exp_powprod(x, stress[int(term_f[i, 3])], term_f, i)
                else:
                    v = _term(code, x, T, term_f, i)
                if v > 0.0:
                    logk += math.log(v)
                else:
                    ok = False
                    break
        if ok and logk <= loghi:
            a = logk / p
            if a > 700.0:
                a = 700.0
            return math.exp(a)
    # a state recorded on the fast path stored no products: evaluate it in full
    k = _expr(e0, stress, expr_i, expr_f, prod_i, prod_f, term_i, term_f, tval, tvar,
              0 if logc == logc else tmode) * mult[s]
    if k <= 0.0:
        return 0.0
    if p == 1.0:
        return k
    return k ** (1.0 / p)


@helper(borrows=True)
def _uses_stressor(e, which, expr_i, prod_i, term_i, term_f):
    """Whether expression ``e`` reads stressor ``which``."""
    for j in range(expr_i[e, 0], expr_i[e, 1]):
        for i in range(prod_i[j, 0], prod_i[j, 1]):
            if term_i[i, 0] == 0:
                continue
            if term_i[i, 1] == which:
                return True
            if term_i[i, 0] == 9 and int(term_f[i, 3]) == which:
                return True
            if (term_i[i, 0] == 5 or term_i[i, 0] == 7) and which == 0:
                return True
    return False


@hot
def _track(stress, smin, smax, first, last):
    for i in range(first, last):
        v = stress[i]
        if v < smin[i]:
            smin[i] = v
        if v > smax[i]:
            smax[i] = v


#: Cycle-coefficient cache. A rainflow cycle between the same two samples of a repeated profile
#: (sample ids: ``C_SID``; its start sample within the period and the samples it spans form the
#: key) has the same stress in every repetition. ``cinfo`` (int64, length ``C_SID + STACK``): 1
#: when the cache is on, samples per period, slots filled, then the sample id of each point on
#: the rainflow stack (-1: the call's first sample or an earlier call's point, never cached).
#: ``cache`` (slots, n_states + 1, 3): per slot the coefficients of each state, and in row
#: n_states the key (start sample, samples spanned, 1 when filled); open addressing.
C_ON, C_PERIOD, C_FILL, C_SID = range(4)


@helper(borrows=True)
def _state_coefs(s, stress, mult, state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i,
                 term_f, tval, tvar, tmode):
    """Rate coefficients of state ``s`` under ``stress``: (k, y_inf, exponent), where k is the
    increment coefficient g = k^(1/p) for a POWER state (the number ``_advance`` would use).
    ``tval, tvar, tmode``: the product-value cache of ``_expr``."""
    stype = state_i[s, 0]
    p = state_f[s, 0]
    if stype == 0:
        logc, loghi = _power_logs(s, mult, state_i, expr_i, expr_f, prod_f)
        return _power_coef(s, stress, mult, logc, loghi, state_i, state_f, expr_i, expr_f, prod_i,
                           prod_f, term_i, term_f, tval, tvar, tmode), 0.0, p
    k = 0.0
    aux = 0.0
    for slot in range(3):  # k, y_inf, exponent: one _expr call site
        e = state_i[s, 3 + slot]
        if e < 0 or (slot == 2 and not (stype == 3 or stype == 1)):
            continue
        v = _expr(e, stress, expr_i, expr_f, prod_i, prod_f, term_i, term_f, tval, tvar, tmode)
        if slot == 0:
            k = v * mult[s]
        elif slot == 1:
            aux = v
        else:
            p = v
    return k, aux, p


@hot
def _cycle_states(count, thr, stress, st, mult, state_i, state_f, expr_i, expr_f, prod_i, prod_f,
                  term_i, term_f, coef, cmask, use, rec, tval, tvar, carry):
    """Advance the cycle-driven states over one rainflow (half) cycle of weight ``count`` and
    throughput ``thr`` [range x capacity basis].

    ``coef`` (n_states, 3) and ``tval`` (n_products) are this cycle's rows of the coefficient and
    product-value caches. With ``use`` (the cycle repeats one recorded before) a state with
    ``cmask[s] != 0`` takes its coefficients from ``coef``, and the others evaluate their
    expressions with the recorded values of the terms whose stressors repeat (``tvar[i] == 0``);
    with ``rec`` both caches are filled. ``carry`` (n_states, 4): per SIGMOID state the scaled
    virtual time w of its last advance, the value y it gave, and the y_inf and exponent used.
    """
    tmode = 2 if use else (1 if rec else 0)
    for s in range(state_i.shape[0]):
        drv = state_i[s, 1]
        if drv == 2:
            dx = count * thr * state_f[s, 1]
        elif drv == 3:
            dx = count * state_f[s, 1]
        else:
            continue
        if dx <= 0.0:
            continue
        if use and cmask[s] != 0.0:
            k = coef[s, 0]
            aux = coef[s, 1]
            p = coef[s, 2]
        elif use and state_i[s, 0] == 0 and not _fast_power(s, mult, state_i, expr_i, expr_f,
                                                             prod_f):
            # POWER state off the log-sum fast path (so its products were stored): increment
            # coefficient g = k^(1/p)
            p = state_f[s, 0]
            aux = 0.0
            k = _expr_reused(state_i[s, 3], stress, expr_i, expr_f, prod_i, term_i, term_f, tval,
                             tvar) * mult[s]
            if k <= 0.0:
                k = 0.0
            elif p != 1.0:
                k = k ** (1.0 / p)
        else:
            k, aux, p = _state_coefs(s, stress, mult, state_i, state_f, expr_i, expr_f, prod_i,
                                     prod_f, term_i, term_f, tval, tvar, tmode)
            if rec:
                coef[s, 0] = k
                coef[s, 1] = aux
                coef[s, 2] = p
        stype = state_i[s, 0]
        if stype == 0:  # POWER: k is the increment coefficient g
            if k > 0.0:
                u = st[HEAD + s] + k * dx
                if u > BIG:
                    u = BIG
                st[HEAD + s] = u
        elif stype == 1 and k > 0.0 and aux != 0.0 and p > 0.0:
            # SIGMOID: its scaled virtual time is carried from its last advance while y_inf and
            # p stay the same (_advance's update to rounding, without a logarithm and a power)
            y = st[HEAD + s]
            if carry[s, 1] == y and carry[s, 2] == aux and carry[s, 3] == p:
                w = carry[s, 0]
            else:
                w = _sigmoid_w(y, aux, p)
            if w >= 0.0:
                w += k * dx
                y = _sigmoid_y(w, y, aux, p)
                st[HEAD + s] = y
                carry[s, 0] = w
                carry[s, 1] = y
                carry[s, 2] = aux
                carry[s, 3] = p
        else:
            st[HEAD + s] = _advance(stype, st[HEAD + s], k, dx, p, aux)


@hot
def _cycle(st, base_v, i1, i2, count, stress, mult, settings, ocv, ua, state_i, state_f, expr_i,
           expr_f, prod_i, prod_f, term_i, term_f, smin, smax, Tnow, cache, cinfo, cmask, tcache,
           tvar, carry):
    """Apply one rainflow (half) cycle between stack points i1 and i2 to the cycle states."""
    x1 = st[base_v + i1]
    x2 = st[base_v + i2]
    nstk = STACK
    t1 = st[base_v + nstk + i1]
    t2 = st[base_v + nstk + i2]
    ct1 = st[base_v + 2 * nstk + i1]
    ct2 = st[base_v + 2 * nstk + i2]
    cc1 = st[base_v + 3 * nstk + i1]
    cc2 = st[base_v + 3 * nstk + i2]
    act = abs(st[base_v + 4 * nstk + i2] - st[base_v + 4 * nstk + i1])
    rng = abs(x1 - x2)
    dur = t2 - t1
    if dur < 0.0:
        dur = -dur
    if dur > 0.0:
        Tm = abs(ct2 - ct1) / dur
    else:
        Tm = Tnow
    cr = 0.0
    if act > 0.0:
        cr = abs(cc2 - cc1) / act
    sm = 0.5 * (x1 + x2)
    stress[0] = Tm
    stress[1] = sm
    if settings[4] != 0.0:
        stress[2] = _table(ocv, sm)
    if settings[5] != 0.0:
        stress[3] = _table(ua, sm)
    stress[4] = cr
    stress[5] = rng
    if rng > 0.0:  # a zero-range residue is no cycle: it stresses nothing
        _track(stress, smin, smax, 0, N_STRESS)
    thr = rng
    if settings[7] != 0.0:
        thr = rng * st[H_QF]  # cycle throughput against the nominal capacity
    use = False
    rec = False
    row = 0
    g1 = cinfo[C_SID + i1]
    g2 = cinfo[C_SID + i2]
    if cinfo[C_ON] != 0 and g1 >= 0 and g2 > g1:
        a = g1 % cinfo[C_PERIOD]
        d = g2 - g1
        kr = cache.shape[1] - 1
        mask = cache.shape[0] - 1
        row = (a * 31 + d * 7919) & mask
        while cache[row, kr, 2] != 0.0 and not (cache[row, kr, 0] == a and cache[row, kr, 1] == d):
            row = (row + 1) & mask
        if cache[row, kr, 2] != 0.0:
            use = True
            st[H_REUSED] += 1.0
        elif 2 * (cinfo[C_FILL] + 1) <= cache.shape[0]:  # at most half full: probes end soon
            rec = True
            cache[row, kr, 0] = a
            cache[row, kr, 1] = d
            cache[row, kr, 2] = 1.0
            cinfo[C_FILL] += 1
    _cycle_states(count, thr, stress, st, mult, state_i, state_f, expr_i, expr_f, prod_i, prod_f,
                  term_i, term_f, cache[row], cmask, use, rec, tcache[row], tvar, carry)
    if count == 1.0:
        st[H_NFULL] += 1.0
    else:
        st[H_NHALF] += 1.0


#: ``_cycle`` as a called function, for the rare call sites (stack overflow, residue at the end)
_cycle_call = helper(getattr(_cycle, "py_func", _cycle), borrows=True)


@hot
def _push(st, base_v, x, t, ct, cc, ca, gid, stress, mult, settings, ocv, ua, state_i, state_f,
          expr_i, expr_f, prod_i, prod_f, term_i, term_f, smin, smax, Tnow, cache, cinfo, cmask,
          tcache, tvar, carry):
    """Push a reversal point (sample id ``gid``, see ``C_SID``) and extract the cycles it closes
    (ASTM E1049-85 5.4.4)."""
    nstk = STACK
    n = int(st[H_NSTACK])
    if n == nstk:
        # overflow: count the oldest range as a half cycle and drop the starting point
        _cycle_call(st, base_v, 0, 1, 0.5, stress, mult, settings, ocv, ua, state_i, state_f,
                    expr_i, expr_f, prod_i, prod_f, term_i, term_f, smin, smax, Tnow, cache, cinfo,
                    cmask, tcache, tvar, carry)
        for a in range(5):
            off = base_v + a * nstk
            for j in range(n - 1):
                st[off + j] = st[off + j + 1]
        for j in range(n - 1):
            cinfo[C_SID + j] = cinfo[C_SID + j + 1]
        n -= 1
        st[H_OVERFLOW] += 1.0
    st[base_v + n] = x
    st[base_v + nstk + n] = t
    st[base_v + 2 * nstk + n] = ct
    st[base_v + 3 * nstk + n] = cc
    st[base_v + 4 * nstk + n] = ca
    cinfo[C_SID + n] = gid
    n += 1
    while n >= 3:
        X = abs(st[base_v + n - 1] - st[base_v + n - 2])
        Y = abs(st[base_v + n - 2] - st[base_v + n - 3])
        if X < Y:
            break
        # one call site, so that the inlined cycle code exists once: the half cycle from the
        # starting point (n == 3) or the full cycle of the two points before the newest
        half = n == 3
        i1 = 0 if half else n - 3
        weight = 0.5 if half else 1.0
        _cycle(st, base_v, i1, i1 + 1, weight, stress, mult, settings, ocv, ua, state_i, state_f,
               expr_i, expr_f, prod_i, prod_f, term_i, term_f, smin, smax, Tnow, cache, cinfo,
               cmask, tcache, tvar, carry)
        if half:
            for a in range(5):
                off = base_v + a * nstk
                st[off] = st[off + 1]
                st[off + 1] = st[off + 2]
            cinfo[C_SID] = cinfo[C_SID + 1]
            cinfo[C_SID + 1] = cinfo[C_SID + 2]
            n = 2
        else:
            for a in range(5):
                off = base_v + a * nstk
                st[off + n - 3] = st[off + n - 1]
            cinfo[C_SID + n - 3] = cinfo[C_SID + n - 1]
            n -= 2
    st[H_NSTACK] = n


#: ``_push`` as a called function, for the step-by-step path and the end of a series (the
#: compressed repetitions inline it)
_push_call = helper(getattr(_push, "py_func", _push), borrows=True)


@hot
def _detect(st, x, t, ct, cc, ca):
    """Feed one SOC sample to the streaming reversal detector (as ``rainflow.reversals``).

    Returns (push, x, t, ct, cc, ca): whether a reversal point is confirmed and must be pushed
    onto the rainflow stack, and that point. Only ``st`` is passed, so this per-step helper binds
    one array (the pushes, with the model arrays, are rare).
    """
    nseen = st[H_NSEEN]
    if nseen == 0.0:
        st[H_RF_XLAST] = x
        st[H_NSEEN] = 1.0
        return True, x, t, ct, cc, ca
    if nseen == 1.0:
        st[H_RF_X] = x
        st[H_RF_DLAST] = x - st[H_RF_XLAST]
        st[H_CAND_T] = t
        st[H_CAND_CT] = ct
        st[H_CAND_CC] = cc
        st[H_CAND_CA] = ca
        st[H_NSEEN] = 2.0
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    if nseen == 2.0:
        st[H_NSEEN] = 3.0
    xc = st[H_RF_X]
    if x == xc:
        # plateau: like rainflow.reversals, a reversal sits at the plateau's last sample
        st[H_CAND_T] = t
        st[H_CAND_CT] = ct
        st[H_CAND_CC] = cc
        st[H_CAND_CA] = ca
        return False, 0.0, 0.0, 0.0, 0.0, 0.0
    d_next = x - xc
    push = st[H_RF_DLAST] * d_next < 0.0
    pt = st[H_CAND_T]
    pct = st[H_CAND_CT]
    pcc = st[H_CAND_CC]
    pca = st[H_CAND_CA]
    st[H_RF_XLAST] = xc
    st[H_RF_X] = x
    st[H_RF_DLAST] = d_next
    st[H_CAND_T] = t
    st[H_CAND_CT] = ct
    st[H_CAND_CC] = cc
    st[H_CAND_CA] = ca
    return push, xc, pt, pct, pcc, pca


@helper(borrows=True)
def _flush(st, base_v, stress, mult, settings, ocv, ua, state_i, state_f, expr_i, expr_f, prod_i,
           prod_f, term_i, term_f, smin, smax, Tnow, cache, cinfo, cmask, tcache, tvar, carry):
    """End of series: push the last sample as a reversal, then count the residue as half cycles.

    Modifies ``st`` in place: call it on a copy to keep a resumable state.
    """
    if st[H_NSEEN] >= 3.0:
        _push_call(st, base_v, st[H_SOC], st[H_T], st[H_CUMT], st[H_CUMC], st[H_CUMA], -1, stress,
                   mult,
              settings, ocv, ua, state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f,
              smin, smax, Tnow, cache, cinfo, cmask, tcache, tvar, carry)
    n = int(st[H_NSTACK])
    for j in range(n - 1):
        _cycle_call(st, base_v, j, j + 1, 0.5, stress, mult, settings, ocv, ua, state_i, state_f,
                    expr_i, expr_f, prod_i, prod_f, term_i, term_f, smin, smax, Tnow, cache, cinfo,
                    cmask, tcache, tvar, carry)
    st[H_NSTACK] = 0.0 if n == 0 else 1.0


@helper(borrows=True)
def _combine(st, state_i, state_f, group_i, group_f, settings, gval, q_only):
    """Capacity fraction q and resistance factor r from the states; fills group values.

    ``q_only``: skip the states that only resistance depends on (r and their groups' values are
    then not meaningful); q is the same number.
    """
    ns = state_i.shape[0]
    ng = group_i.shape[0]
    for g in range(ng):
        gval[g] = group_f[g, 0]
    for s in range(ns):
        gs = state_i[s, 2]
        if q_only and group_i[gs, 0] != 0:
            feeds_q = False  # through a capacity group defined as the inverse of this one
            for h in range(ng):
                if group_i[h, 0] == 0 and group_i[h, 1] == 1 and group_i[h, 2] == gs:
                    feeds_q = True
            if not feeds_q:
                continue
        y = _value(state_i[s, 0], st[HEAD + s], state_f[s, 0])
        gval[state_i[s, 2]] += state_f[s, 2] * y
    for g in range(ng):
        if group_i[g, 1] == 1:
            ref = gval[group_i[g, 2]]
            if ref < 1e-6:
                ref = 1e-6
            gval[g] = group_f[g, 1] + group_f[g, 2] / ref
    q = 1.0
    r = 1.0
    first_q = True
    first_r = True
    for g in range(ng):
        v = gval[g]
        if group_i[g, 0] == 0:
            if settings[2] == 1.0:
                if first_q or v < q:
                    q = v
            else:
                q += v - group_f[g, 0]
            first_q = False
        else:
            if settings[3] == 1.0:
                if first_r or v > r:
                    r = v
            else:
                r += v - group_f[g, 0]
            first_r = False
    if not (q >= 0.0):
        q = 0.0
    if q > QR_MAX:
        q = QR_MAX
    if not (r >= 0.0):
        r = 0.0
    if r > QR_MAX:
        r = QR_MAX
    return q, r


@helper(borrows=True)
def _record(st, k, c, out_row_t, rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, state_i, state_f,
            group_i, group_f, settings, gval):
    q, r = _combine(st, state_i, state_f, group_i, group_f, settings, gval, False)
    rec_t[c, k] = out_row_t
    rec_q[c, k] = q
    rec_r[c, k] = r
    rec_efc[c, k] = st[H_EFC]
    for s in range(state_i.shape[0]):
        rec_y[c, k, s] = _value(state_i[s, 0], st[HEAD + s], state_f[s, 0])
    for g in range(group_i.shape[0]):
        rec_g[c, k, g] = gval[g]


# ---- compressed repetitions ---------------------------------------------------------------
#: columns of the per-step increments of a compressed repetition: running integrals of
#: temperature, C-rate and active time, throughput (x q), then one per precomputed POWER state
V_CUMT, V_CUMC, V_CUMA, V_EFC, V_STATE = range(5)


#: rows of a repeated profile precomputed together (``_precompute``)
PRE_BLOCK = 256


@hot
def _power_block(kp, nb, sx, g, row, m, logs, plist, state_i, state_f, expr_i, expr_f, prod_i,
                 prod_f, term_i, term_f):
    """Increment coefficients g = k^(1/p) of precomputed POWER state ``plist[kp]`` for ``nb``
    rows of step stress (``sx[i, b]``: stressor i of row b) into ``g[kp, :nb]``.

    ``_power_coef`` row by row, term by term over the rows: the same numbers (log k is summed in
    the same order), with each term's coefficients loaded once per block and no dispatch on its
    code per row. A row whose product is <= 0 or above the upper clip takes ``_power_coef``.
    """
    s = plist[kp]
    lc = logs[kp, 0]
    lh = logs[kp, 1]
    p = state_f[s, 0]
    if lc == lc:
        for b in range(nb):
            g[kp, b] = lc
        j = expr_i[state_i[s, 3], 0]
        for i in range(prod_i[j, 0], prod_i[j, 1]):
            code = term_i[i, 0]
            si = term_i[i, 1]
            c0 = term_f[i, 0]
            c1 = term_f[i, 1]
            if code == 0:
                continue
            if code == 2:
                for b in range(nb):
                    g[kp, b] += c0 * (sx[si, b] - c1)
            elif code == 3:
                for b in range(nb):
                    x = sx[si, b]
                    g[kp, b] += c0 / x + c1 if x > 0.0 else np.nan
            elif code == 5:
                for b in range(nb):
                    T = sx[0, b]
                    g[kp, b] += c0 * (sx[si, b] / T - c1) if T > 0.0 else np.nan
            else:
                for b in range(nb):
                    if code == 9:
                        v = _exp_powprod(sx[si, b], sx[int(term_f[i, 3]), b], term_f, i)
                    else:
                        v = _term(code, sx[si, b], sx[0, b], term_f, i)
                    g[kp, b] += math.log(v) if v > 0.0 else np.nan
    for b in range(nb):
        a = g[kp, b]
        if lc == lc and a <= lh:  # False for NaN
            a = a / p
            if a > 700.0:
                a = 700.0
            g[kp, b] = math.exp(a)
        else:
            for i in range(N_STRESS):
                row[i] = sx[i, b]
            g[kp, b] = _power_coef(s, row, m, lc, lh, state_i, state_f, expr_i, expr_f, prod_i,
                                   prod_f, term_i, term_f, row, row, 0)


@helper(borrows=True)
def _precompute(time_s, pre_x, pre_T, pre_I, has_cur, need_v, need_ua, qnom, ocv, ua, m, npl,
                plist, pdrv, logs, row, sx, gb, compress, ps, pds, gp, open_val, psum, smin_c,
                smax_c, state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f):
    """The steps of a repeated profile, computed once per cell, ``PRE_BLOCK`` rows at a time.

    Row r is the step r-1 -> r; row 0 is the step n-1 -> 1 that opens every later repetition.
    Each row's step stress (tracked into ``smin_c, smax_c``) and the increment coefficient
    g = k^(1/p) of each precomputed POWER state (``plist``) are stored for the step-by-step path
    (``ps``, ``pds``, ``gp``), or, with ``compress``, turned into the per-step increments of a
    compressed repetition (columns V_*): rows 0 and 1 in ``open_val``, and the running sums
    ``psum[j]`` of rows 2 .. j (``psum`` rows 0 and 1 stay zero). Scratch: ``logs`` (n_states, 2),
    ``row`` (N_STRESS), ``sx`` (N_STRESS, PRE_BLOCK), ``gb`` (n_states, PRE_BLOCK).
    """
    n = time_s.shape[0]
    for kp in range(npl):
        lc, lh = _power_logs(plist[kp], m, state_i, expr_i, expr_f, prod_f)
        logs[kp, 0] = lc
        logs[kp, 1] = lh
    for b0 in range(0, n, PRE_BLOCK):
        nb = min(PRE_BLOCK, n - b0)
        for b in range(nb):  # the step stress of the block's rows
            r = b0 + b
            j = 1 if r == 0 else r
            jp = n - 1 if r == 0 else r - 1
            sm = 0.5 * (pre_x[jp] + pre_x[j])
            row[0] = 0.5 * (pre_T[jp] + pre_T[j])
            row[1] = sm
            if need_v:
                row[2] = _table(ocv, sm)
            if need_ua:
                row[3] = _table(ua, sm)
            if has_cur:
                row[4] = 0.5 * (abs(pre_I[jp]) + abs(pre_I[j])) / qnom
            _track(row, smin_c, smax_c, 0, 4)
            for i in range(N_STRESS):
                sx[i, b] = row[i]
        for kp in range(npl):
            _power_block(kp, nb, sx, gb, row, m, logs, plist, state_i, state_f, expr_i, expr_f,
                         prod_i, prod_f, term_i, term_f)
        for b in range(nb):
            r = b0 + b
            j = 1 if r == 0 else r
            jp = n - 1 if r == 0 else r - 1
            dsoc = abs(pre_x[j] - pre_x[jp])
            if not compress:
                for i in range(N_STRESS):
                    ps[r, i] = sx[i, b]
                pds[r] = dsoc
                for kp in range(npl):
                    gp[r, plist[kp]] = gb[kp, b]
                continue
            dt = time_s[1] - time_s[0] if r == 0 else time_s[r] - time_s[r - 1]
            val = open_val if r < 2 else psum
            val[r, V_EFC] = 0.5 * dsoc
            if dt > 0.0:
                val[r, V_CUMT] = sx[0, b] * dt
                if has_cur:
                    val[r, V_CUMC] = sx[4, b] * dt
                    if sx[4, b] > 0.0:
                        val[r, V_CUMA] = dt
                else:
                    val[r, V_CUMC] = dsoc * 3600.0
                    if dsoc > 0.0:
                        val[r, V_CUMA] = dt
                for kp in range(npl):
                    g = gb[kp, b]
                    val[r, V_STATE + kp] = g * dt if pdrv[kp] == 0 else g * (0.5 * dsoc)
            elif not has_cur:
                val[r, V_CUMC] = dsoc * 3600.0
            if r >= 3:
                for q in range(psum.shape[1]):
                    psum[r, q] += psum[r - 1, q]


@hot
def _seg(st, a, b, open_row, open_val, psum, qf, has_cur, npl, plist, pdrv, pscale):
    """Apply the steps to samples a+1 .. b of a repetition at once (a = 0: from its start, whose
    opening step is row ``open_row`` of ``open_val``). ``qf`` is constant between reversals,
    which bound a segment, so the throughput-driven increments are the summed ones times ``qf``."""
    if b <= a:
        return
    start = a != 0
    ra = a if start else 0
    if start:
        dct, dcc, dca, defc = (psum[b, V_CUMT] - psum[ra, V_CUMT], psum[b, V_CUMC] - psum[ra, V_CUMC],
                               psum[b, V_CUMA] - psum[ra, V_CUMA], psum[b, V_EFC] - psum[ra, V_EFC])
    else:
        dct = open_val[open_row, V_CUMT] + psum[b, V_CUMT]
        dcc = open_val[open_row, V_CUMC] + psum[b, V_CUMC]
        dca = open_val[open_row, V_CUMA] + psum[b, V_CUMA]
        defc = open_val[open_row, V_EFC] + psum[b, V_EFC]
    st[H_CUMT] += dct
    st[H_CUMC] += dcc if has_cur else qf * dcc
    st[H_CUMA] += dca
    st[H_EFC] += qf * defc
    for kp in range(npl):
        q = V_STATE + kp
        d = psum[b, q] - psum[ra, q] if start else open_val[open_row, q] + psum[b, q]
        inc = d * pscale[kp]
        if pdrv[kp] == 1:
            inc *= qf
        if inc > 0.0:
            sp = HEAD + plist[kp]
            u = st[sp] + inc
            if u > BIG:
                u = BIG
            st[sp] = u


@hot
def _at(st, j, offset, time_s, pre_x, pre_T, pre_I):
    """The sample values of sample j of the repetition starting at ``offset``."""
    st[H_T] = time_s[j] + offset
    st[H_SOC] = pre_x[j]
    st[H_TK] = pre_T[j]
    st[H_I] = pre_I[j]


@hot
def _first_at(time_s, offset, lo, hi, t_out):
    """The smallest j in [lo, hi] with time_s[j] + offset >= t_out (hi + 1 if none): the same
    comparison as the step-by-step output test."""
    if time_s[hi] + offset < t_out:
        return hi + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if time_s[mid] + offset >= t_out:
            hi = mid
        else:
            lo = mid + 1
    return lo


@helper(borrows=True)
def _schedule(st, pre_x, det, sched):
    """The reversal confirmations of one pass over samples 1 .. n-1 from the detector state in
    ``st`` (``_detect`` on a copy ``det``): ``sched`` gets the sample indices j at which a
    reversal is confirmed (the reversal point is sample j-1); ``det`` ends in the detector state
    after the pass. Returns the number of confirmations."""
    for i in range(HEAD):
        det[i] = st[i]
    m = 0
    for j in range(1, pre_x.shape[0]):
        push, _x, _t, _ct, _cc, _ca = _detect(det, pre_x[j], 0.0, 0.0, 0.0, 0.0)
        if push:
            sched[m] = j
            m += 1
    return m


@helper(borrows=True)
def _replay(st, c, offset, gbase, time_s, open_row, open_val, psum, pre_x, pre_T, pre_I, npl, plist,
            pdrv, pscale, sched, n_push, det, out_t, k_out, stress, m, settings, ocv, ua, state_i,
            state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f, group_i, group_f, rec_t,
            rec_q, rec_r, rec_efc, rec_y, rec_g, smin_c, smax_c, gval, cache, cinfo, cmask,
            tcache, tvar, carry):
    """One repetition (samples 1 .. n-1) from event to event, the same updates as step by step.

    Between events every step state moves by a precomputed sum (``_seg``); at each scheduled
    reversal confirmation the reversal point (the sample before) is pushed onto the rainflow
    stack with its running integrals, after q is refreshed, exactly as ``_detect`` and ``_push``
    do step by step; output rows are recorded at the samples the step-by-step test picks.
    ``gbase + j`` is the sample id of sample j (see ``C_SID``). Returns the next output row.
    """
    n = time_s.shape[0]
    has_cur = settings[SET_HAS_CURRENT] != 0.0
    nominal = settings[SET_EFC_NOMINAL] != 0.0
    base_v = HEAD + state_i.shape[0]
    n_out = out_t.shape[0]
    cur = 0
    for ip in range(n_push + 1):
        target = sched[ip] - 1 if ip < n_push else n - 1
        while cur < target:
            stop = target
            if k_out < n_out:
                jo = _first_at(time_s, offset, cur + 1, target, out_t[k_out])
                if jo < stop:
                    stop = jo
            qf = st[H_QF] if nominal else 1.0
            _seg(st, cur, stop, open_row, open_val, psum, qf, has_cur, npl, plist, pdrv, pscale)
            _at(st, stop, offset, time_s, pre_x, pre_T, pre_I)
            cur = stop
            while k_out < n_out and st[H_T] >= out_t[k_out]:
                _record(st, k_out, c, st[H_T], rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g,
                        state_i, state_f, group_i, group_f, settings, gval)
                k_out += 1
        if ip == n_push:
            break
        # the reversal point: sample cur, as the detector holds it
        px = st[H_SOC]
        pt = st[H_T]
        pct = st[H_CUMT]
        pcc = st[H_CUMC]
        pca = st[H_CUMA]
        jp = sched[ip]
        qf = st[H_QF] if nominal else 1.0
        _seg(st, cur, jp, open_row, open_val, psum, qf, has_cur, npl, plist, pdrv, pscale)
        _at(st, jp, offset, time_s, pre_x, pre_T, pre_I)
        cur = jp
        if nominal:
            st[H_QF] = _combine(st, state_i, state_f, group_i, group_f, settings, gval, True)[0]
        _push(st, base_v, px, pt, pct, pcc, pca, gbase + cur, stress, m, settings, ocv, ua,
              state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f, smin_c, smax_c,
              st[H_TK], cache, cinfo, cmask, tcache, tvar, carry)
        while k_out < n_out and st[H_T] >= out_t[k_out]:
            _record(st, k_out, c, st[H_T], rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, state_i,
                    state_f, group_i, group_f, settings, gval)
            k_out += 1
    # the detector as after the pass: its reversal candidate is the last sample
    st[H_NSEEN] = det[H_NSEEN]
    st[H_RF_XLAST] = det[H_RF_XLAST]
    st[H_RF_X] = det[H_RF_X]
    st[H_RF_DLAST] = det[H_RF_DLAST]
    st[H_CAND_T] = st[H_T]
    st[H_CAND_CT] = st[H_CUMT]
    st[H_CAND_CC] = st[H_CUMC]
    st[H_CAND_CA] = st[H_CUMA]
    return k_out


@helper
def _run_cell(c, time_s, soc, temp, cur, repeat, out_t, t_off, usage, soc_top, mult, states,
              settings, ocv, ua, state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f,
              group_i, group_f, rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, smin, smax, cache,
              tcache):
    """Age cell ``c`` (see ``integrate_fleet``). ``cache, tcache``: the cycle-coefficient cache
    (see ``C_ON``) of the cells before on this thread, any contents; returned, grown if this cell
    needed more slots (its keys are cleared here, so no cell sees another's coefficients)."""
    c = np.int64(c)  # prange may hand out an unsigned index; keep index arithmetic in int64
    n = time_s.shape[0]
    ns = state_i.shape[0]
    st = states[c]
    base_v = HEAD + ns
    stress = np.zeros(N_STRESS)
    gval = np.zeros(group_i.shape[0])
    smin_c = smin[c]
    smax_c = smax[c]
    for i in range(N_STRESS):
        smin_c[i] = np.inf
        smax_c[i] = -np.inf
    row_soc = c if soc.shape[0] > 1 else 0
    row_T = c if temp.shape[0] > 1 else 0
    row_I = c if cur.shape[0] > 1 else 0
    row_top = c if soc_top.shape[0] > 1 else 0
    top = soc_top[row_top]
    us = usage[c]
    dT = t_off[c]
    m = mult[c]
    qnom = settings[0]
    has_cur = settings[1] != 0.0
    need_v = settings[4] != 0.0
    need_ua = settings[5] != 0.0
    nominal = settings[7] != 0.0
    if nominal and st[H_NSEEN] == 0.0:
        st[H_QF] = 1.0
    period = time_s[n - 1] - time_s[0]
    n_out = out_t.shape[0]
    k_out = 0
    # A repeated profile (see the module docstring): the step stress of every step is the same
    # in every repetition, so it is computed once per cell (row j: step j-1 -> j; row 0: the
    # step n-1 -> 1 that opens each later repetition), with the increment coefficient
    # g = k^(1/p) of every POWER step state whose k reads no state-dependent stressor.
    use_pre = repeat > 1 and n >= 3
    npre = n if use_pre else 1
    nopre = np.zeros(ns)
    pre = np.zeros(ns)
    pre_x = np.zeros(npre)
    pre_T = np.zeros(npre)
    pre_I = np.zeros(npre)
    # the precomputed states as a list (index, driver, driver scale); any_gen: some step state
    # still evaluates its expressions in every step
    plist = np.zeros(ns, dtype=np.int64)
    pdrv = np.zeros(ns, dtype=np.int64)
    pscale = np.zeros(ns)
    npl = 0
    any_gen = False
    if use_pre:
        for s in range(ns):
            drv = state_i[s, 1]
            if drv == 0 or drv == 1:
                if state_i[s, 0] == 0 and (
                        has_cur or not _uses_stressor(state_i[s, 3], 4, expr_i, prod_i, term_i, term_f)):
                    pre[s] = 1.0
                    plist[npl] = s
                    pdrv[npl] = drv
                    pscale[npl] = state_f[s, 1]
                    npl += 1
                else:
                    any_gen = True
        for j in range(n):
            xj = soc[row_soc, j]
            if us != 1.0:
                xj = top - us * (top - xj)
                if xj < 0.0:
                    xj = 0.0
                elif xj > 1.0:
                    xj = 1.0
            pre_x[j] = xj
            pre_T[j] = temp[row_T, j] + dT
            if has_cur:
                pre_I[j] = cur[row_I, j] * us
    # Compressed repetitions: with every step state precomputed, a repetition is replayed from
    # event to event (reversal confirmations, output samples) with the step increments summed
    # between events; see _replay. The first repetition's sample 0 still goes step by step.
    # Otherwise the step-by-step path reuses each step's precomputed stress and coefficients.
    compress = use_pre and not any_gen
    nrow = n if use_pre and not compress else 1
    pds = np.zeros(nrow)
    ps = np.zeros((nrow, N_STRESS))
    gp = np.zeros((nrow, ns))
    nval = V_STATE + npl if compress else 1
    open_val = np.zeros((2, nval))
    psum = np.zeros((n if compress else 1, nval))
    if use_pre:
        _precompute(time_s, pre_x, pre_T, pre_I, has_cur, need_v, need_ua, qnom, ocv, ua, m, npl,
                    plist, pdrv, np.zeros((ns, 2)), np.zeros(N_STRESS),
                    np.zeros((N_STRESS, PRE_BLOCK)), np.zeros((ns, PRE_BLOCK)), compress, ps, pds,
                    gp, open_val, psum, smin_c, smax_c, state_i, state_f, expr_i, expr_f, prod_i,
                    prod_f, term_i, term_f)
    sched = np.zeros(n if compress else 1, dtype=np.int64)
    det = np.zeros(HEAD)
    key = np.full(4, np.nan)
    n_push = 0
    # cycle-coefficient cache (see _cycle_states): which cycle states may use it (their stress
    # repeats with the profile: not a C-rate that scales with the present capacity), the cache,
    # its control and the reference stack (SOC, time; row 2: size)
    cmask = np.zeros(ns)
    for s in range(ns):
        if state_i[s, 1] >= 2:
            cmask[s] = 1.0
            if nominal and not has_cur:
                for slot in range(3):
                    e = state_i[s, 3 + slot]
                    if e >= 0 and _uses_stressor(e, 4, expr_i, prod_i, term_i, term_f):
                        cmask[s] = 0.0
    for h in range(cache.shape[0]):
        cache[h, ns, 2] = 0.0  # no slot filled
    # the carried scaled virtual time of SIGMOID cycle states (w, the y it gave, y_inf, p)
    carry = np.zeros((ns, 4))
    for s in range(ns):
        carry[s, 1] = np.nan
    # terms whose stressor does not repeat with the profile (the C-rate when it scales with q),
    # then the products that have such a term
    nt = term_i.shape[0]
    tvar = np.zeros(nt + prod_i.shape[0])
    if nominal and not has_cur:
        for i in range(nt):
            if term_i[i, 0] != 0 and (term_i[i, 1] == S_CRATE
                                      or (term_i[i, 0] == 9 and int(term_f[i, 3]) == S_CRATE)):
                tvar[i] = 1.0
        for j in range(prod_i.shape[0]):
            for i in range(prod_i[j, 0], prod_i[j, 1]):
                if tvar[i] != 0.0:
                    tvar[nt + j] = 1.0
    cinfo = np.full(C_SID + STACK, -1, dtype=np.int64)
    cinfo[C_ON] = 0
    cinfo[C_PERIOD] = n - 1
    cinfo[C_FILL] = 0
    for rep in range(repeat):
        j0 = 1 if rep > 0 else 0
        offset = rep * period
        j_end = 1 if compress else n
        for j in range(j0, j_end):
            t1 = time_s[j] + offset
            fast = use_pre and (j >= 2 or rep > 0)
            r = j if j >= 2 else 0
            if fast:
                x1 = pre_x[j]
                T1 = pre_T[j]
                I1 = pre_I[j]
            else:
                x1 = soc[row_soc, j]
                if us != 1.0:
                    x1 = top - us * (top - x1)
                    if x1 < 0.0:
                        x1 = 0.0
                    elif x1 > 1.0:
                        x1 = 1.0
                T1 = temp[row_T, j] + dT
                I1 = 0.0
                if has_cur:
                    I1 = cur[row_I, j] * us
            if fast and st[H_NSEEN] > 0.0:
                dt = t1 - st[H_T]
                dsoc = pds[r]
                qf = st[H_QF] if nominal else 1.0
                if dt > 0.0:
                    Tm = ps[r, 0]
                    if has_cur:
                        cr = ps[r, 4]
                    else:
                        cr = dsoc * qf * 3600.0 / dt
                    dxe = 0.5 * dsoc * qf
                    for kp in range(npl):
                        sp = plist[kp]
                        if pdrv[kp] == 0:
                            dxp = dt * pscale[kp]
                        else:
                            dxp = dxe * pscale[kp]
                        if dxp > 0.0:
                            u = st[HEAD + sp] + gp[r, sp] * dxp
                            if u > BIG:
                                u = BIG
                            st[HEAD + sp] = u
                    if any_gen:
                        for i in range(4):
                            stress[i] = ps[r, i]
                        stress[4] = cr
                        stress[5] = 0.0
                        _update_states(dt, dxe, stress, st, m, state_i, state_f, expr_i, expr_f,
                                       prod_i, prod_f, term_i, term_f, pre)
                    st[H_CUMT] += Tm * dt
                    st[H_CUMC] += cr * dt
                    if (cr > 0.0) if has_cur else (dsoc > 0.0):  # current flows
                        st[H_CUMA] += dt
                else:
                    if not has_cur:
                        st[H_CUMC] += dsoc * qf * 3600.0
                st[H_EFC] += 0.5 * dsoc * qf
            elif st[H_NSEEN] > 0.0:
                t0 = st[H_T]
                x0 = st[H_SOC]
                T0 = st[H_TK]
                I0 = st[H_I]
                dt = t1 - t0
                dsoc = abs(x1 - x0)
                qf = st[H_QF] if nominal else 1.0
                if dt > 0.0:
                    Tm = 0.5 * (T0 + T1)
                    sm = 0.5 * (x0 + x1)
                    if has_cur:
                        cr = 0.5 * (abs(I0) + abs(I1)) / qnom
                    else:
                        cr = dsoc * qf * 3600.0 / dt
                    stress[0] = Tm
                    stress[1] = sm
                    if need_v:
                        stress[2] = _table(ocv, sm)
                    if need_ua:
                        stress[3] = _table(ua, sm)
                    stress[4] = cr
                    stress[5] = 0.0
                    for i in range(4):  # stress range seen (inline: no array binding per step)
                        if stress[i] < smin_c[i]:
                            smin_c[i] = stress[i]
                        if stress[i] > smax_c[i]:
                            smax_c[i] = stress[i]
                    _update_states(dt, 0.5 * dsoc * qf, stress, st, m, state_i, state_f, expr_i,
                                   expr_f, prod_i, prod_f, term_i, term_f, nopre)
                    st[H_CUMT] += Tm * dt
                    st[H_CUMC] += cr * dt
                    if (cr > 0.0) if has_cur else (dsoc > 0.0):  # current flows
                        st[H_CUMA] += dt
                else:
                    if not has_cur:
                        st[H_CUMC] += dsoc * qf * 3600.0
                st[H_EFC] += 0.5 * dsoc * qf
            st[H_T] = t1
            st[H_SOC] = x1
            st[H_TK] = T1
            st[H_I] = I1
            push, px, pt, pct, pcc, pca = _detect(st, x1, t1, st[H_CUMT], st[H_CUMC], st[H_CUMA])
            if push:
                if nominal:  # q refreshed at each confirmed SOC reversal (once per half cycle)
                    st[H_QF] = _combine(st, state_i, state_f, group_i, group_f, settings, gval, True)[0]
                _push_call(st, base_v, px, pt, pct, pcc, pca, -1, stress, m, settings, ocv, ua, state_i,
                      state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f, smin_c, smax_c, T1,
                      cache, cinfo, cmask, tcache, tvar, carry)
            while k_out < n_out and t1 >= out_t[k_out]:
                _record(st, k_out, c, t1, rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, state_i,
                        state_f, group_i, group_f, settings, gval)
                k_out += 1
        if compress:
            # the reversals confirmed in this repetition depend only on the SOC samples and the
            # detector state it starts from: recount them when that state differs from the last
            if not (st[H_NSEEN] == key[0] and st[H_RF_XLAST] == key[1] and st[H_RF_X] == key[2]
                    and st[H_RF_DLAST] == key[3]):
                key[0] = st[H_NSEEN]
                key[1] = st[H_RF_XLAST]
                key[2] = st[H_RF_X]
                key[3] = st[H_RF_DLAST]
                n_push = _schedule(st, pre_x, det, sched)
                # the cycles of a repetition (at most one per reversal and per stack point), at
                # most half of the cache's slots (a power of two)
                slots = 1
                while slots < 2 * (n_push + STACK + 1):
                    slots *= 2
                if slots > cache.shape[0]:  # a new, larger cache (what was cached is dropped)
                    cache = np.zeros((slots, ns + 1, 3))
                    tcache = np.zeros((slots, prod_i.shape[0]))
                    cinfo[C_FILL] = 0
            # a rainflow cycle between two samples of the profile seen before, the same number of
            # samples apart, has the same stress: its rate coefficients are reused
            cinfo[C_ON] = 1
            open_row = 1 if rep == 0 else 0
            k_out = _replay(st, c, offset, rep * (n - 1) - 1, time_s, open_row, open_val, psum, pre_x, pre_T,
                            pre_I, npl, plist, pdrv, pscale, sched, n_push, det, out_t, k_out,
                            stress, m, settings, ocv, ua, state_i, state_f, expr_i, expr_f, prod_i,
                            prod_f, term_i, term_f, group_i, group_f, rec_t, rec_q, rec_r, rec_efc,
                            rec_y, rec_g, smin_c, smax_c, gval, cache, cinfo, cmask, tcache,
                            tvar, carry)
            cinfo[C_ON] = 0
            st[H_REPLAYED] += 1.0
    # rows never reached (out_t beyond the end) repeat the last state
    while k_out < n_out:
        _record(st, k_out, c, st[H_T], rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, state_i,
                state_f, group_i, group_f, settings, gval)
        k_out += 1
    if settings[6] != 0.0 and n_out > 0:
        tmp = st.copy()
        if nominal and tmp[H_NSEEN] >= 3.0:  # the flush pushes the last sample as a reversal
            tmp[H_QF] = _combine(tmp, state_i, state_f, group_i, group_f, settings, gval, True)[0]
        _flush(tmp, base_v, stress, m, settings, ocv, ua, state_i, state_f, expr_i, expr_f,
               prod_i, prod_f, term_i, term_f, smin_c, smax_c, st[H_TK], cache, cinfo, cmask,
               tcache, tvar, carry)
        _record(tmp, n_out - 1, c, st[H_T], rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, state_i,
                state_f, group_i, group_f, settings, gval)
    return cache, tcache


# ============================================================================================
# kernels
# ============================================================================================


@kernel(parallel=True)
def integrate_fleet(time_s, soc, temp, cur, repeat, out_t, t_off, usage, soc_top, mult, states,
                    settings, ocv, ua, state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i,
                    term_f, group_i, group_f, rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, smin,
                    smax, n_blocks):
    """Age ``states.shape[0]`` cells over a (repeated) profile.

    The cells are split into ``n_blocks`` contiguous blocks run in parallel (one per thread is
    best); a block's cells run one after the other and reuse its scratch memory. A cell's
    results never depend on the cells before it, so they do not depend on ``n_blocks``.

    Parameters (float64 unless said)
    ----------
    time_s : (n,) strictly increasing sample times [s]; repeated ``repeat`` times with period
        ``time_s[-1] - time_s[0]`` (sample 0 of a repetition is the last sample of the one before)
    soc, temp, cur : (1 or n_cells, n) SOC [-], temperature [K], current [A] (discharge positive)
    repeat : int, number of repetitions
    out_t : (n_out,) output times [s]; row k holds the state at the first sample with t >= out_t[k]
    t_off, usage : (n_cells,) temperature offset [K], usage scale [-] (SOC swing below ``soc_top``
        and current are scaled by it)
    soc_top : (1 or n_cells,) top SOC that usage scaling keeps fixed [-]
    mult : (n_cells, n_states) multipliers of each state's rate coefficient k
    states : (n_cells, L) per-cell state vectors, advanced in place (see ``state_length``)
    settings, ocv, ua, state_i ... group_f : the compiled model (see batterylab.aging.models)
    rec_* : outputs (n_cells, n_out[, n_states | n_groups]); smin, smax: (n_cells, 6) stress range
    n_blocks : int, number of blocks of cells
    """
    nc = states.shape[0]
    nb = max(1, min(nc, n_blocks))
    for b in prange(nb):
        cache = np.zeros((1, state_i.shape[0] + 1, 3))
        tcache = np.zeros((1, prod_i.shape[0]))
        for c in range(b * nc // nb, (b + 1) * nc // nb):
            cache, tcache = _run_cell(c, time_s, soc, temp, cur, repeat, out_t, t_off, usage,
                                      soc_top, mult, states, settings, ocv, ua, state_i, state_f,
                                      expr_i, expr_f, prod_i, prod_f, term_i, term_f, group_i,
                                      group_f, rec_t, rec_q, rec_r, rec_efc, rec_y, rec_g, smin,
                                      smax, cache, tcache)


# ---- standalone rainflow counting (same helpers, no ageing states) --------------------------


@kernel
def rainflow_count(time_s, soc, temp, crate, use_crate, states, finalize, cyc):
    """Streaming rainflow counting of one SOC series; the cycles are written to ``cyc``.

    ``states`` is a (1, L) state vector for a model with zero ageing states; ``cyc`` has
    shape (max_cycles, 5): range, mean SOC, count (0.5 or 1), mean temperature [K], mean
    |C-rate| [1/h]. With ``use_crate`` the C-rate of step i -> i+1 is ``crate[i]``; otherwise it is
    ``|dSOC/dt|`` x 3600 of the step. Returns the number of cycles written. Temperature and C-rate means are time means over each
    cycle's own segment (trapezoid in temperature, step-wise constant C-rate).
    """
    st = states[0]
    base_v = HEAD
    n = time_s.shape[0]
    count = 0
    # Cycle capture without ageing states: run the same stack logic and log each cycle.
    for j in range(n):
        x1 = soc[j]
        t1 = time_s[j]
        T1 = temp[j]
        if st[H_NSEEN] > 0.0:
            dt = t1 - st[H_T]
            dsoc = abs(x1 - st[H_SOC])
            if dt > 0.0:
                st[H_CUMT] += 0.5 * (st[H_TK] + T1) * dt
                if use_crate:
                    st[H_CUMC] += st[H_I] * dt
                    if st[H_I] > 0.0:
                        st[H_CUMA] += dt
                else:
                    st[H_CUMC] += dsoc * 3600.0
                    if dsoc > 0.0:
                        st[H_CUMA] += dt
            elif not use_crate:
                st[H_CUMC] += dsoc * 3600.0
            st[H_EFC] += 0.5 * dsoc
        st[H_T] = t1
        st[H_SOC] = x1
        st[H_TK] = T1
        st[H_I] = crate[j]
        count = _rf_feed_log(st, base_v, x1, t1, st[H_CUMT], st[H_CUMC], st[H_CUMA], cyc, count, T1)
    if finalize:
        tmp = st.copy()
        count = _rf_flush_log(tmp, base_v, cyc, count, st[H_TK])
    return count


@helper
def _rf_log(st, base_v, i1, i2, cnt, cyc, count, Tnow):
    nstk = STACK
    x1 = st[base_v + i1]
    x2 = st[base_v + i2]
    dur = abs(st[base_v + nstk + i2] - st[base_v + nstk + i1])
    act = abs(st[base_v + 4 * nstk + i2] - st[base_v + 4 * nstk + i1])
    if dur > 0.0:
        Tm = abs(st[base_v + 2 * nstk + i2] - st[base_v + 2 * nstk + i1]) / dur
    else:
        Tm = Tnow
    cr = 0.0
    if act > 0.0:
        cr = abs(st[base_v + 3 * nstk + i2] - st[base_v + 3 * nstk + i1]) / act
    if count < cyc.shape[0]:
        cyc[count, 0] = abs(x1 - x2)
        cyc[count, 1] = 0.5 * (x1 + x2)
        cyc[count, 2] = cnt
        cyc[count, 3] = Tm
        cyc[count, 4] = cr
    return count + 1


@helper
def _rf_push_log(st, base_v, x, t, ct, cc, ca, cyc, count, Tnow):
    nstk = STACK
    n = int(st[H_NSTACK])
    if n == nstk:
        count = _rf_log(st, base_v, 0, 1, 0.5, cyc, count, Tnow)
        for a in range(5):
            off = base_v + a * nstk
            for j in range(n - 1):
                st[off + j] = st[off + j + 1]
        n -= 1
        st[H_OVERFLOW] += 1.0
    st[base_v + n] = x
    st[base_v + nstk + n] = t
    st[base_v + 2 * nstk + n] = ct
    st[base_v + 3 * nstk + n] = cc
    st[base_v + 4 * nstk + n] = ca
    n += 1
    while n >= 3:
        X = abs(st[base_v + n - 1] - st[base_v + n - 2])
        Y = abs(st[base_v + n - 2] - st[base_v + n - 3])
        if X < Y:
            break
        if n == 3:
            count = _rf_log(st, base_v, 0, 1, 0.5, cyc, count, Tnow)
            for a in range(5):
                off = base_v + a * nstk
                st[off] = st[off + 1]
                st[off + 1] = st[off + 2]
            n = 2
        else:
            count = _rf_log(st, base_v, n - 3, n - 2, 1.0, cyc, count, Tnow)
            for a in range(5):
                off = base_v + a * nstk
                st[off + n - 3] = st[off + n - 1]
            n -= 2
    st[H_NSTACK] = n
    return count


@helper
def _rf_feed_log(st, base_v, x, t, ct, cc, ca, cyc, count, Tnow):
    nseen = st[H_NSEEN]
    if nseen == 0.0:
        st[H_RF_XLAST] = x
        count = _rf_push_log(st, base_v, x, t, ct, cc, ca, cyc, count, Tnow)
        st[H_NSEEN] = 1.0
        return count
    if nseen == 1.0:
        st[H_RF_X] = x
        st[H_RF_DLAST] = x - st[H_RF_XLAST]
        st[H_CAND_T] = t
        st[H_CAND_CT] = ct
        st[H_CAND_CC] = cc
        st[H_CAND_CA] = ca
        st[H_NSEEN] = 2.0
        return count
    if nseen == 2.0:
        st[H_NSEEN] = 3.0
    xc = st[H_RF_X]
    if x == xc:
        st[H_CAND_T] = t
        st[H_CAND_CT] = ct
        st[H_CAND_CC] = cc
        st[H_CAND_CA] = ca
        return count
    d_next = x - xc
    if st[H_RF_DLAST] * d_next < 0.0:
        count = _rf_push_log(st, base_v, xc, st[H_CAND_T], st[H_CAND_CT], st[H_CAND_CC], st[H_CAND_CA], cyc,
                             count, Tnow)
    st[H_RF_XLAST] = xc
    st[H_RF_X] = x
    st[H_RF_DLAST] = d_next
    st[H_CAND_T] = t
    st[H_CAND_CT] = ct
    st[H_CAND_CC] = cc
    st[H_CAND_CA] = ca
    return count


@helper
def _rf_flush_log(st, base_v, cyc, count, Tnow):
    if st[H_NSEEN] >= 3.0:
        count = _rf_push_log(st, base_v, st[H_SOC], st[H_T], st[H_CUMT], st[H_CUMC], st[H_CUMA], cyc, count,
                             Tnow)
    n = int(st[H_NSTACK])
    for j in range(n - 1):
        count = _rf_log(st, base_v, j, j + 1, 0.5, cyc, count, Tnow)
    st[H_NSTACK] = 0.0 if n == 0 else 1.0
    return count
