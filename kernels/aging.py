"""Compiled ageing core: one integrator for every semi-empirical ageing model, and rainflow counting.

An ageing model is data (``parameter_sets/aging/*.json``); :mod:`batterylab.aging.models`
compiles it into the arrays of a :class:`Model` and this file advances it. ``AGING_MODELS.md``
beside this file describes the JSON and how to add a model.

What is computed
----------------
Every degradation state ``y`` follows a closed-form trajectory in a driver ``x`` (time, charge
throughput or rainflow cycles) whose rate coefficient ``k`` (and, for some forms, saturation
``y_inf`` and exponent ``p``) is an *expression* of stress:

- ``ST_POWER``      y = k x^p, kept as u = y^(1/p)
- ``ST_SIGMOID``    y = 2 y_inf (1/2 - 1/(1 + exp((k x)^p)))     (BLAST-Lite's knee / LAM form)
- ``ST_EXP_RELAX``  y = y_inf (1 - exp(-k x))
- ``ST_POWER_VAR``  y = k x^p kept as y: a stress-dependent p, or a power state of a model
  updated by BLAST-Lite's forward-Euler window step (a step in y)

Under changing stress a state advances by the exact *virtual-time* update: its present value is
mapped back to the driver value ``x_eq`` that gives it under the new coefficients, and the
trajectory is followed from ``x_eq`` to ``x_eq + dx``. A POWER state stores ``u = y^(1/p)`` and
adds ``k^(1/p) dx`` (the same number). Constant stress therefore reproduces the closed form
whatever the step, and a profile split into chunks gives the one-shot answer to rounding.

How stress is aggregated is model data (``SET_AGGREGATION``):

``AGG_SAMPLE`` (batterylab's exact form)
    Time- and step-throughput-driven states advance every profile step with that step's stress
    (mean of its two samples). Cycle-driven states advance when a rainflow cycle closes (ASTM
    E1049-85 5.4.4, the cycles of the ``rainflow`` package, counted as the samples stream in),
    with the cycle's stress: depth = range, SOC = mean of its reversal points, temperature = time
    mean over its own segment, C-rate = charge moved over the time current flowed in the
    model's current direction (``SET_CRATE_RESTS`` 1: over the whole segment instead). States
    whose expressions have the same terms evaluate them once under a stress (``_advance_state``);
    an expression of one product of Arrhenius laws, exponentials and at most one polynomial is one
    exponential of a linear form (``Model.lin_f``, ``_linear_row``).

    A profile repeated many times is stepped until a repetition ends in a state that is its
    start one period later (the same rainflow stack and the same running integrals between its
    points, except towards old points the repetition leaves in place, ``_periodic``); when no
    rate reads the states (POWER states with fixed exponents, capacity basis not nominal,
    ``_replayable``), each later repetition adds that repetition's change to the state vector,
    many at once up to the next output row (``_run_sample``): the written-out profile's result
    to rounding.

``AGG_WINDOW`` (NREL BLAST-Lite 1.1.1, ``BatteryDegradationModel.simulate_battery_life``)
    The profile is cut into update windows at breakpoints (rainflow turning points at least
    ``SET_WIN_EFC`` equivalent full cycles apart, or, where cycling is slower, one breakpoint per
    ``SET_WIN_TIME`` seconds; window ``w`` runs from sample ``bp[w-1] + 1`` to ``bp[w]``). In each
    window the SOC swing is rescaled by 1/q (``SET_WIN_RESCALE``, BLAST-Lite's
    ``is_conserve_energy_throughput``) and clipped to [0, 1]; each expression is evaluated at
    every sample with per-sample temperature, SOC, OCV and anode potential and with the window's
    depth (max - min SOC), mean SOC and time-mean C-rate (rests count as zero, steps below
    0.01 1/h too; x q), and averaged by the trapezoid rule over the window's time (each product
    as its window-wide terms, once, times the window mean of its other terms; where those are
    Arrhenius laws and exponentials of stressors or of their ratios to temperature, one
    exponential of a linear form a sample, ``_linear_row``; a mean of terms that read
    temperature alone is kept per window and reused by later repetitions, ``window_plan``);
    every state
    then advances once over the window's span (time in days, EFC = sum |dSOC| / 2 x q), by
    BLAST-Lite's forward-Euler step of its trajectory (``SET_WIN_EULER``; or the exact update).
    The model clock is the sum of the window spans (the step between two windows is not aged, as in
    BLAST-Lite), and the run continues through the profile, repeated, until that clock passes
    the horizon (the profile's span times ``repeat``, less ``WIN_STOP_MARGIN``): it runs into
    the next repetition by the time the steps between windows did not age. A call that is not
    the run's last (``SET_FINALIZE`` 0) stops at the end of its ``repeat`` repetitions instead
    and carries that lag (``H_LAG``) to the next call, whose horizon makes it up, so a run
    resumed at whole repetitions is one pass.

Stressors (index: meaning [unit]): 0 temperature [K], 1 SOC [-], 2 open-circuit voltage [V]
(model table), 3 anode potential [V] (model table), 4 C-rate [1/h] in the model's current
direction (``SET_CRATE_DIRECTION``: both, charge or discharge), 5 depth of cycle [-], 6 mean SOC
[-] (the window mean under ``AGG_WINDOW``; otherwise the context's SOC), 7 charge C-rate [1/h],
8 discharge C-rate [1/h], 9 throughput rate [EFC/day] (the window's EFC over its span; a step's).
Current is discharge positive.

Expressions: ``clip(sum_j c_j prod_i term_ij, lo, hi) ** power``. In a product the exponential
terms add their arguments and take one ``exp`` (``_product``). Term codes: 0 CONST 1;
1 POLY c0 + c1 z + c2 z^2 + c3 z^3, z = x - c4; 2 EXP exp(c0 (x - c1)); 3 ARRHENIUS
exp(c0 / x + c1); 4 POWER max(x, c1)^c0; 5 EXP_OVER_T exp(c0 (x / T - c1)); 6 EXP_EXP
exp(c0 exp(c1 x^c2)); 7 LINEAR_T c0 + c1 (T - c2) x; 8 TABLE4 piecewise linear through
(c0..c3, c4..c7); 9 EXP_POWPROD exp(c0 max(x, c4)^c1 max(w, c5)^c2), w = stressor int(c3);
10 SKEWNORM 2 phi(z) Phi(c0 z), z = (x - c2) / c1 (skew-normal density, phi and Phi the standard
normal density and distribution); 11 SIGMOID 2 c0 (1/2 - 1/(1 + exp((c1 x)^c2))).

Bounds (no NaN ever leaves the kernel): an expression is clipped to [lo, hi]; a negative base is
never raised to a fractional power; exponentials saturate at exp(700); a state whose group is a
loss fraction is bounded to [0, 1] (``SF_MAX``; the number of states that hit a bound is counted
in ``H_SATURATED``); q and r are bounded to [0, 1e12].

Layout
------
Per cell one float64 state vector (``state_length``): a head (``H_*``), the stored value of each
degradation state, then the rainflow stack (``STACK`` points of ``N_PT`` fields). The one
rainflow stack (``_feed``, ``_rf_append``, ``_rf_next``) serves the ageing cycles, the
standalone ``rainflow_count`` and the window breakpoints.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .jit import helper, kernel

#: A compiled ageing model: the arrays :mod:`batterylab.aging.models` builds.
#: ``lin_i``, ``lin_f``: per expression, whether it is one product with a linear form, and the form
#: (``_expression_forms``).
Model = namedtuple("Model", "settings ocv ua state_i state_f expr_i expr_f prod_i prod_f term_i term_f group_i group_f "
                            "lin_i lin_f")
#: The per-call profile: times (n,), and SOC, temperature [K], current [A] of shape (1 or cells, n).
Profile = namedtuple("Profile", "time_s soc temp cur")
#: Per-cell settings: temperature offset [K], usage scale [-], top SOC kept by usage scaling, and
#: multipliers of each state's rate coefficient (cells, states).
Cells = namedtuple("Cells", "t_off usage soc_top mult")
#: The arrays the expression evaluator reads (a part of :class:`Model`: a call passes less).
Terms = namedtuple("Terms", "expr_i prod_i prod_f term_i term_f")
#: What the window path evaluates where (``AGG_WINDOW``; made from the model by ``window_plan``):
#: per expression ``used``, per term ``tread``, per product ``pread``, ``lrow`` and ``lin`` (its
#: per-sample part as one exponential of a linear form, ``L_*``).
WindowPlan = namedtuple("WindowPlan", "used tread pread lrow lin")
#: The window path's plan and its scratch (the kernel's): per expression ``fin`` (its finished
#: window mean); per product ``hold`` (window part), ``mean`` (mean of the per-sample part),
#: ``prev`` and ``now`` (its value at the last and the present sample), ``lwin`` (its linear form's
#: window-wide part); ``todo``: the products a window evaluates at each sample; per sample of the
#: cell ``inv_t`` (1/T, 0 where T <= 0); ``cache`` (windows, products + 1): the ``R_TEMP``
#: products' means of each window of the profile; ``over`` (states, 3): per power state the
#: smallest and largest z = Euler increment / (p y0) of the cell so far, and for a state whose
#: exponent is an expression the largest overshoot itself (see ``Records`` and ``_euler_ratio``).
WindowWork = namedtuple("WindowWork", WindowPlan._fields + ("hold", "mean", "prev", "now", "fin", "cache", "lwin",
                                                           "todo", "inv_t", "over"))
#: Outputs: per cell and output row time, q, r, EFC, states, groups; stress range seen (cells,
#: N_STRESS); repetitions of the profile replayed rather than stepped (cells,); and, under
#: BLAST-Lite's forward-Euler window step, the largest ratio of a power state's Euler increment
#: in one window to the exact increment of its power law from the same state (cells,; 0 where
#: there was none). Euler is exact from y = 0 and about 1.3 times the exact one window later at
#: a steady rate (exponent 0.36); a large ratio means the rate rose sharply from a small state.
Records = namedtuple("Records", "t q r efc y g smin smax replayed overshoot")

# ---- codes (named in batterylab.aging.models) ---------------------------------------------------
N_STRESS = 10
S_T, S_SOC, S_V, S_UA, S_CRATE, S_DOD, S_SOC_MEAN, S_CHARGE, S_DISCHARGE, S_EFC_RATE = range(N_STRESS)

(T_CONST, T_POLY, T_EXP, T_ARRHENIUS, T_POWER, T_EXP_OVER_T, T_EXP_EXP, T_LINEAR_T, T_TABLE4,
 T_EXP_POWPROD, T_SKEWNORM, T_SIGMOID) = range(12)
N_TERM_COEF = 8
TI_CODE, TI_STRESSOR = range(2)

ST_POWER, ST_SIGMOID, ST_EXP_RELAX, ST_POWER_VAR = range(4)
D_TIME, D_STEP_EFC, D_CYCLE_EFC, D_CYCLE_COUNT = range(4)

# state_i columns: type, driver, group, expressions of k, y_inf, exponent (-1: none)
SI_TYPE, SI_DRIVER, SI_GROUP, SI_EK, SI_EAUX, SI_EP = range(6)
# state_f columns: exponent, driver scale, sign in its group, initial value, upper bound of the
# stored value (1 for a loss fraction: u = y^(1/p) <= 1 exactly when y <= 1)
SF_P, SF_SCALE, SF_SIGN, SF_INIT, SF_MAX = range(5)
# expr_i: first and end product, and the expression whose one product has the same terms (its
# base; itself if none); expr_f: lo, hi, power, and the ratio of its coefficient to its base's
EI_FIRST, EI_END, EI_BASE = range(3)
EF_LO, EF_HI, EF_POW, EF_RATIO = range(4)
# prod_i: first and end term
PI_FIRST, PI_END = range(2)
# group_i: target (0 capacity, 1 resistance), kind (0 sum of states, 1 c0 + c1 / G[ref]), ref
GI_TARGET, GI_KIND, GI_REF = range(3)
G_CAPACITY, G_RESISTANCE = 0, 1
G_SUM, G_INVERSE = 0, 1
GF_OFFSET, GF_C0, GF_C1 = range(3)

AGG_SAMPLE, AGG_WINDOW = 0, 1
# what a term or product reads under AGG_WINDOW (``window_plan``), and the parts of a product
R_WINDOW, R_TEMP, R_SAMPLE = range(3)
PART_ALL, PART_WINDOW, PART_SAMPLE = range(3)
# a product's per-sample part as P(x_m) exp(A + sum_k D_k x_k + (B + sum_k C_k x_k) / T)
# (``_linear_row``): columns A, B, D_k, C_k (k: stressor), whether it reads 1/T (then 0 where
# T <= 0), and the cubic P(x) = p0 + p1 z + p2 z^2 + p3 z^3, z = x - c, of at most one stressor m
# (L_POLY: m + 1, or 0 for P = 1; then c, p0..p3)
L_A, L_B, L_D = 0, 1, 2
L_C = L_D + N_STRESS
L_INV_T = L_C + N_STRESS
L_POLY = L_INV_T + 1
N_LIN = L_POLY + 6
#: stressors below this index vary within a window; the others are window-wide
N_SAMPLE_STRESS = S_UA + 1
DIR_BOTH, DIR_CHARGE, DIR_DISCHARGE = 0, 1, 2

# settings (float64 array)
(SET_QNOM, SET_HAS_CURRENT, SET_CAP_MIN, SET_RES_MAX, SET_NEED_V, SET_NEED_UA, SET_FINALIZE,
 SET_EFC_NOMINAL, SET_AGGREGATION, SET_CRATE_DIRECTION, SET_CRATE_RESTS, SET_WIN_TIME, SET_WIN_EFC,
 SET_WIN_RESCALE, SET_WIN_CRATE_FLOOR, SET_WIN_EULER, SET_NEED_SIGNED) = range(17)
N_SETTINGS = 17
#: BLAST-Lite stops once its clock passes the input's span less this margin [s]
WIN_STOP_MARGIN = 1.0

# ---- per-cell state vector ----------------------------------------------------------------------
# last sample: time [s], SOC, temperature [K], current [A]; samples seen by the reversal detector
# (H_EFC: equivalent full cycles; H_QF: q at the last confirmed reversal, ``SET_EFC_NOMINAL``;
# H_LAG: under ``AGG_WINDOW``, the profile time run so far less the model clock [s], which the
# steps between windows do not advance; H_SATURATED: state advances cut at a bound;
# H_RF_*: reversal detector and the stack's pending pop, see ``_rf_next``)
(H_T, H_SOC, H_TK, H_I, H_NSEEN, H_EFC, H_NFULL, H_NHALF, H_OVERFLOW, H_QF, H_NSTACK,
 H_RF_XLAST, H_RF_X, H_RF_DLAST, H_RF_PENDING, H_LAG, H_SATURATED) = range(17)
#: running integrals carried by every stack point (the point's time first), and their values at
#: the present reversal candidate: time [s]; temperature x time [K s]; C-rate x time and time
#: with current in the model's direction; the same for charge and for discharge
N_PT = 9
P_X, P_T, P_CT, P_CC, P_CA, P_CCC, P_CCA, P_CDC, P_CDA = range(N_PT)
H_CUM = 17          # running integrals, fields P_T..P_CDA at H_CUM + field - 1
H_CAND = H_CUM + N_PT - 1   # the reversal candidate's integrals (same order)
HEAD = H_CAND + N_PT - 1
#: Reversal-stack capacity per cell. Rainflow ranges on the stack strictly decrease, so a SOC
#: profile needs more than this many nested, ever-smaller oscillations to overflow; on overflow
#: the oldest range is counted as a half cycle (``H_OVERFLOW``).
STACK = 64

#: columns of ``rainflow_count``'s cycles: range, mean SOC, count, mean temperature, mean C-rate,
#: end time
N_CYC = 6
CYC_COUNT, CYC_END = 2, 5

BIG = 1e300
QR_MAX = 1e12
EXP_MAX = 700.0


def state_length(n_states: int, stack: int = STACK) -> int:
    """Length of one cell's state vector for a model with ``n_states`` states."""
    return HEAD + n_states + N_PT * (stack + 1)


def new_model(settings, ocv, ua, state_i, state_f, expr_i, expr_f, prod_i, prod_f, term_i, term_f,
              group_i, group_f) -> Model:
    """A :class:`Model` with contiguous arrays of the types the kernels are compiled for."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    i = lambda a: np.ascontiguousarray(a, dtype=np.int64)  # noqa: E731
    m = Model(f(settings), f(ocv), f(ua), i(state_i), f(state_f), i(expr_i), f(expr_f), i(prod_i),
              f(prod_f), i(term_i), f(term_f), i(group_i), f(group_f), None, None)
    lin_i, lin_f = _expression_forms(m)
    return m._replace(lin_i=lin_i, lin_f=lin_f)


# ================================================================================================
# leaves (small, inlined)
# ================================================================================================


@helper(inline="always")
def _exp(x):
    """exp that saturates instead of overflowing to inf."""
    return math.exp(x if x < EXP_MAX else EXP_MAX)


@helper(inline="always")
def _table(table, x):
    """Linear interpolation on a uniform grid over [0, 1], clamped at the ends."""
    n = table.shape[0]
    if x <= 0.0:
        return table[0]
    if x >= 1.0:
        return table[n - 1]
    pos = x * (n - 1)
    j = min(int(pos), n - 2)
    w = pos - j
    return table[j] + w * (table[j + 1] - table[j])


@helper(inline="always")
def _pow_floor(x, e, floor):
    """max(x, floor)^e without NaN: a non-positive base gives 0, 1 or BIG by the sign of e."""
    b = x if x > floor else floor
    if e == 0.0:
        return 1.0
    if b <= 0.0:
        return 0.0 if e > 0.0 else BIG
    return min(b if e == 1.0 else b ** e, BIG)


# ================================================================================================
# expressions (the one evaluator)
# ================================================================================================


@helper(inline="always")
def _term(i, stress, m):
    """Term ``i`` under ``stress`` as (la, v): what it adds to its product's exponent and the
    factor it multiplies the product by (exponential terms add their argument to la)."""
    v = 1.0
    la = 0.0
    T = stress[S_T]
    cf = m.term_f
    code = m.term_i[i, TI_CODE]
    x = stress[m.term_i[i, TI_STRESSOR]]
    if code == T_CONST:
        pass
    elif code == T_POLY:
        z = x - cf[i, 4]
        v *= cf[i, 0] + z * (cf[i, 1] + z * (cf[i, 2] + z * cf[i, 3]))
    elif code == T_EXP:
        la += cf[i, 0] * (x - cf[i, 1])
    elif code == T_ARRHENIUS:
        if x <= 0.0:
            return 0.0, 0.0
        la += cf[i, 0] / x + cf[i, 1]
    elif code == T_POWER:
        v *= _pow_floor(x, cf[i, 0], cf[i, 1])
    elif code == T_EXP_OVER_T:
        if T <= 0.0:
            return 0.0, 0.0
        la += cf[i, 0] * (x / T - cf[i, 1])
    elif code == T_EXP_EXP:
        la += cf[i, 0] * _exp(cf[i, 1] * _pow_floor(x, cf[i, 2], 0.0))
    elif code == T_LINEAR_T:
        v *= cf[i, 0] + cf[i, 1] * (T - cf[i, 2]) * x
    elif code == T_TABLE4:
        if x <= cf[i, 0]:
            v *= cf[i, 4]
        elif x >= cf[i, 3]:
            v *= cf[i, 7]
        else:
            for s in range(3):
                if x <= cf[i, s + 1]:
                    w = cf[i, s + 1] - cf[i, s]
                    if w <= 0.0:
                        v *= cf[i, s + 5]
                    else:
                        v *= cf[i, s + 4] + (x - cf[i, s]) * (cf[i, s + 5] - cf[i, s + 4]) / w
                    break
    elif code == T_EXP_POWPROD:
        if cf[i, 0] != 0.0:
            w = stress[int(cf[i, 3])]
            la += cf[i, 0] * (_pow_floor(x, cf[i, 1], cf[i, 4]) * _pow_floor(w, cf[i, 2], cf[i, 5]))
    elif code == T_SKEWNORM:
        z = (x - cf[i, 2]) / cf[i, 1]
        la -= 0.5 * z * z
        v *= 0.7978845608028654 * 0.5 * math.erfc(-cf[i, 0] * z * 0.7071067811865476)  # 2/sqrt(2 pi) Phi
    elif code == T_SIGMOID:
        v *= 2.0 * cf[i, 0] * (0.5 - 1.0 / (1.0 + _exp(_pow_floor(cf[i, 1] * x, cf[i, 2], 0.0))))
    return la, v


@helper(inline="always")
def _product(j, stress, m, part, tread):
    """Product ``j`` under ``stress``: its coefficient times its terms; the exponential terms'
    arguments are summed and take one exponential. ``part`` (``AGG_WINDOW``, ``tread``: each
    term's ``R_*`` class): ``PART_ALL`` every term; ``PART_WINDOW`` the coefficient times the terms
    that read window-wide stressors only; ``PART_SAMPLE`` the other terms (without the
    coefficient): the product is the two parts' product."""
    v = 1.0 if part == PART_SAMPLE else m.prod_f[j]
    la = 0.0
    for i in range(m.prod_i[j, PI_FIRST], m.prod_i[j, PI_END]):
        if part == PART_ALL or (tread[i] == R_WINDOW) == (part == PART_WINDOW):
            dla, dv = _term(i, stress, m)
            la += dla
            v *= dv
    if v == 0.0:
        return 0.0
    return v if la == 0.0 else v * _exp(la)


@helper(borrows=True)
def _raw(e, stress, m):
    """Expression ``e``'s sum of products under ``stress``, before its clip and power (``m``:
    the :class:`Terms` of the model)."""
    total = 0.0
    for j in range(m.expr_i[e, EI_FIRST], m.expr_i[e, EI_END]):
        total += _product(j, stress, m, PART_ALL, m.prod_i[0])  # PART_ALL never reads tread
    return total


@helper(inline="always")
def _sampled(r, cached):
    """Whether a product of class ``r`` is evaluated at each sample of a window (``cached``: the
    window's temperature-only means are known)."""
    return r == R_SAMPLE or (r == R_TEMP and not cached)


@helper(borrows=True)
def _window_parts(stress, m, pl, part, cached):
    """For the window path (the one ``_product`` site: each inlined copy costs seconds to
    compile): with ``PART_WINDOW`` every base product's window part into ``pl.hold``; with
    ``PART_SAMPLE`` the per-sample parts of the products evaluated at a sample (``R_SAMPLE``, and
    ``R_TEMP`` unless ``cached``) that have no linear form into ``pl.now``."""
    window = part == PART_WINDOW
    for j in range(pl.pread.shape[0]):
        r = pl.pread[j]
        if (r >= 0) if window else (_sampled(r, cached) and pl.lrow[j] < 0):
            v = _product(j, stress, m, part, pl.tread)
            if window:
                pl.hold[j] = v
            else:
                pl.now[j] = v


@helper(inline="always")
def _finish(e, total, m):
    """An expression's sum of products clipped to [lo, hi] and raised to its power."""
    lo = m.expr_f[e, EF_LO]
    if not (total >= lo):  # also catches NaN
        total = lo
    total = min(total, m.expr_f[e, EF_HI])
    pw = m.expr_f[e, EF_POW]
    if pw != 1.0:
        if total > 0.0:
            total = min(1.0 / total if pw == -1.0 else total ** pw, BIG)
        else:
            total = 0.0 if pw > 0.0 else BIG
    return total


def _linear_row(j: int, m: Model, tread: np.ndarray, row: np.ndarray) -> bool:
    """Write product ``j``'s terms that ``tread`` does not class ``R_WINDOW`` into ``row`` as the
    coefficients of one exponential of a linear form in the stressors and their ratios to
    temperature, times at most one polynomial (``L_*``; plain Python, made once a model): the same
    number as ``_product`` over those terms without the coefficient, to rounding. False when a
    term has no such form (then ``_product`` evaluates the product)."""
    row[:] = 0.0
    row[L_POLY + 2] = 1.0  # P = 1
    for i in range(m.prod_i[j, PI_FIRST], m.prod_i[j, PI_END]):
        if tread[i] == R_WINDOW:
            continue
        code, k = int(m.term_i[i, TI_CODE]), int(m.term_i[i, TI_STRESSOR])
        c0, c1 = m.term_f[i, 0], m.term_f[i, 1]
        if code == T_CONST:
            pass
        elif code == T_ARRHENIUS and k == S_T:  # c0 / T + c1
            row[L_B] += c0
            row[L_A] += c1
            row[L_INV_T] = 1.0
        elif code == T_EXP:  # c0 (x - c1)
            row[L_D + k] += c0
            row[L_A] -= c0 * c1
        elif code == T_EXP_OVER_T:  # c0 (x / T - c1)
            if k == S_T:
                row[L_A] += c0 * (1.0 - c1)
            else:
                row[L_C + k] += c0
                row[L_A] -= c0 * c1
            row[L_INV_T] = 1.0
        elif code == T_POLY and row[L_POLY] == 0.0:
            row[L_POLY] = k + 1.0
            row[L_POLY + 1] = m.term_f[i, 4]
            row[L_POLY + 2:L_POLY + 6] = m.term_f[i, :4]
        else:
            return False
    return True


@helper(inline="always")
def _linear_window(row, stress, win):
    """The window-wide part of a linear form (``_linear_row``) into ``win``: its constant and its
    1/T coefficient with the window-wide stressors' terms added."""
    win[0] = row[L_A]
    win[1] = row[L_B]
    for k in range(N_SAMPLE_STRESS, N_STRESS):
        win[0] += row[L_D + k] * stress[k]
        win[1] += row[L_C + k] * stress[k]


@helper(inline="always")
def _linear_value(row, win, stress, inv_t, nk):
    """A product from its linear form (``_linear_row``), its terms in stressors 0..nk-1 evaluated
    here: ``win`` the constant and the 1/T coefficient with the others' terms (``_linear_window``;
    ``row[L_A:L_B + 1]`` when nk is N_STRESS), ``inv_t`` 1/T (0 where T <= 0)."""
    if row[L_INV_T] != 0.0 and inv_t == 0.0:
        return 0.0
    la = win[0]
    b = win[1]
    for k in range(nk):
        la += row[L_D + k] * stress[k]
        b += row[L_C + k] * stress[k]
    v = _exp(la + b * inv_t)
    if row[L_POLY] != 0.0:
        z = stress[int(row[L_POLY]) - 1] - row[L_POLY + 1]
        v *= row[L_POLY + 2] + z * (row[L_POLY + 3] + z * (row[L_POLY + 4] + z * row[L_POLY + 5]))
    return v


def _expression_forms(m: Model):
    """Per expression: 1 where it is one product with a linear form (``_linear_row`` over all its
    terms; the sample path's states then take one exponential, ``_advance_state``), and the
    forms."""
    ne = m.expr_i.shape[0]
    lin_i = np.zeros(ne, dtype=np.int64)
    lin_f = np.zeros((ne, N_LIN))
    every = np.full(m.term_i.shape[0], R_SAMPLE)
    for e in range(ne):
        j = m.expr_i[e, EI_FIRST]
        if m.expr_i[e, EI_END] == j + 1 and _linear_row(j, m, every, lin_f[e]):
            lin_i[e] = 1
    return lin_i, lin_f


# ================================================================================================
# degradation states
# ================================================================================================


@helper(inline="always")
def _sigmoid_w(y, aux, p):
    """SIGMOID scaled virtual time w = k x_eq = z^(1/p), where y = y_inf tanh(z/2) (the same as
    2 y_inf (1/2 - 1/(1 + exp(z)))); -1 when y is at or beyond y_inf. atanh keeps full precision
    for small y, where log((1 + r)/(1 - r)) loses digits."""
    ratio = y / aux
    if ratio >= 1.0:
        return -1.0
    if ratio <= 0.0:
        return 0.0
    return (2.0 * math.atanh(ratio)) ** (1.0 / p)


@helper(borrows=True)
def _advance(stype, store, k, dx, p, aux):
    """Advance one state's stored value (u = y^(1/p) for POWER, y otherwise) by the exact
    virtual-time update over driver increment ``dx``; returns the new stored value."""
    if dx <= 0.0 or k <= 0.0:
        return store
    if stype == ST_POWER:
        g = k if p == 1.0 else (k * k if p == 0.5 else k ** (1.0 / p))
        return min(store + g * dx, BIG)
    if stype == ST_SIGMOID:
        if aux == 0.0 or p <= 0.0:
            return store
        w = _sigmoid_w(store, aux, p)
        if w < 0.0:
            return store
        h = 0.5 * (w + k * dx) ** p
        if h < 0.02:  # tanh by its series: exact to rounding, where 1 - 2/(1 + e^2h) is not
            h2 = h * h
            t = h * (1.0 + h2 * (-1.0 / 3.0 + h2 * (2.0 / 15.0 + h2 * (-17.0 / 315.0 + h2 * (62.0 / 2835.0)))))
        else:
            t = 1.0 - 2.0 / (1.0 + math.exp(min(2.0 * h, EXP_MAX)))
        y = aux * t
        return max(y, store) if aux > 0.0 else min(y, store)
    if stype == ST_EXP_RELAX:
        if aux == 0.0:
            return store
        ratio = store / aux
        if ratio >= 1.0:
            return store
        x_eq = -math.log(1.0 - ratio) / k if ratio > 0.0 else 0.0
        y = aux * (1.0 - math.exp(-k * (x_eq + dx)))
        return max(y, store) if aux > 0.0 else min(y, store)
    # ST_POWER_VAR: y = k x^p with p from an expression
    if p <= 0.0:
        return store
    x_eq = (store / k) ** (1.0 / p) if store > 0.0 else 0.0
    return max(min(k * (x_eq + dx) ** p, BIG), store)


@helper(borrows=True)
def _euler(stype, y0, k, dx, p, aux):
    """BLAST-Lite's forward-Euler update of one state's value y over driver increment ``dx``
    (its ``_update_power_state``, ``_update_sigmoid_state``, ``_update_exponential_relax_state``:
    the slope of the trajectory at the equivalent driver value of y0, times dx; from y0 = 0 the
    closed form); returns the new y. Where BLAST-Lite's formulas give NaN (k <= 0, a sigmoid at or
    beyond its plateau) the state stays."""
    if dx <= 0.0 or k <= 0.0:
        return y0
    if stype == ST_POWER or stype == ST_POWER_VAR:
        if p <= 0.0:
            return y0
        if y0 <= 0.0:
            return min(k * dx ** p, BIG)
        return min(y0 + k * p * (y0 / k) ** ((p - 1.0) / p) * dx, BIG)
    if stype == ST_SIGMOID:
        if aux <= 0.0 or p <= 0.0:
            return y0
        if y0 <= 0.0:
            return 2.0 * aux * (0.5 - 1.0 / (1.0 + _exp((k * dx) ** p)))
        arg = -(2.0 * aux / (y0 - aux)) - 1.0
        if not (arg > 1.0):
            return y0
        z = math.log(arg)  # (k x_inv)^p, where x_inv = z^(1/p) / k
        x_inv = z ** (1.0 / p) / k
        w = math.exp(-z)  # exp(z) / (exp(z) + 1)^2 = w / (1 + w)^2
        return y0 + 2.0 * aux * p * z * (w / ((1.0 + w) * (1.0 + w))) / x_inv * dx
    # ST_EXP_RELAX: dy/dx = k y_inf^2 / (y_inf - y), never negative
    if aux == y0:
        return y0
    return y0 + max(k * aux * aux / (aux - y0), 0.0) * dx


@helper(inline="always")
def _value(stype, store, p):
    """State value y from its stored value."""
    if stype == ST_POWER:
        if store <= 0.0:
            return 0.0
        return store if p == 1.0 else min(store ** p, BIG)
    return store


@helper(inline="always")
def _bound(st, s, m):
    """Keep state ``s``'s stored value at or below its bound (``SF_MAX``: 1 for a loss fraction)."""
    if st[HEAD + s] > m.state_f[s, SF_MAX]:
        st[HEAD + s] = m.state_f[s, SF_MAX]
        st[H_SATURATED] += 1.0


@helper(inline="always")
def _new_stress(stress):
    """Mark the expressions' values kept after the stressors (``_advance_state``) as not yet
    evaluated: call it when the stressors change."""
    for i in range(N_STRESS, stress.shape[0]):
        stress[i] = np.nan


@helper(inline="always")
def _advance_state(st, s, dx, stress, mult, m):
    """Advance state ``s`` over driver increment ``dx`` under ``stress`` (the N_STRESS stressors,
    then each base expression's sum of products under them, NaN until a state needs it: states
    that share a base evaluate it once, ``_new_stress``)."""
    if dx <= 0.0:
        return
    k = 0.0
    aux = 0.0
    p = m.state_f[s, SF_P]
    for slot in range(SI_EK, SI_EP + 1):  # k, y_inf, exponent: one evaluator site
        e = m.state_i[s, slot]
        if e < 0:
            continue
        b = m.expr_i[e, EI_BASE]  # e is its base's sum of products times a ratio (1 for itself)
        raw = stress[N_STRESS + b]
        if raw != raw:  # not yet evaluated under this stress
            if m.lin_i[b] != 0:
                T = stress[S_T]
                row = m.lin_f[b]
                raw = m.prod_f[m.expr_i[b, EI_FIRST]] * _linear_value(row, row[L_A:L_B + 1], stress,
                                                                      1.0 / T if T > 0.0 else 0.0, N_STRESS)
            else:
                raw = _raw(b, stress, Terms(m.expr_i, m.prod_i, m.prod_f, m.term_i, m.term_f))
            stress[N_STRESS + b] = raw
        v = _finish(e, raw * m.expr_f[e, EF_RATIO], m)
        if slot == SI_EK:
            k = v * mult[s]
        elif slot == SI_EAUX:
            aux = v
        else:
            p = v
    st[HEAD + s] = _advance(m.state_i[s, SI_TYPE], st[HEAD + s], k, dx, p, aux)
    _bound(st, s, m)


@helper(borrows=True)
def _combine(st, m, gval):
    """Relative capacity q and resistance r from the states; fills the group values ``gval``."""
    ng = m.group_i.shape[0]
    for g in range(ng):
        gval[g] = m.group_f[g, GF_OFFSET]
    for s in range(m.state_i.shape[0]):
        y = _value(m.state_i[s, SI_TYPE], st[HEAD + s], m.state_f[s, SF_P])
        gval[m.state_i[s, SI_GROUP]] += m.state_f[s, SF_SIGN] * y
    for g in range(ng):
        if m.group_i[g, GI_KIND] == G_INVERSE:
            gval[g] = m.group_f[g, GF_C0] + m.group_f[g, GF_C1] / max(gval[m.group_i[g, GI_REF]], 1e-6)
    q = 1.0
    r = 1.0
    first_q = True
    first_r = True
    cap_min = m.settings[SET_CAP_MIN] != 0.0
    res_max = m.settings[SET_RES_MAX] != 0.0
    for g in range(ng):
        v = gval[g]
        if m.group_i[g, GI_TARGET] == G_CAPACITY:
            if cap_min:
                q = v if (first_q or v < q) else q
            else:
                q += v - m.group_f[g, GF_OFFSET]
            first_q = False
        else:
            if res_max:
                r = v if (first_r or v > r) else r
            else:
                r += v - m.group_f[g, GF_OFFSET]
            first_r = False
    q = min(q, QR_MAX) if q >= 0.0 else 0.0
    r = min(r, QR_MAX) if r >= 0.0 else 0.0
    return q, r


@helper(borrows=True)
def _record(st, c, k, t, m, rec, gval):
    """Output row ``k`` of cell ``c`` at time ``t``."""
    q, r = _combine(st, m, gval)
    rec.t[c, k] = t
    rec.q[c, k] = q
    rec.r[c, k] = r
    rec.efc[c, k] = st[H_EFC]
    for s in range(m.state_i.shape[0]):
        rec.y[c, k, s] = _value(m.state_i[s, SI_TYPE], st[HEAD + s], m.state_f[s, SF_P])
    for g in range(m.group_i.shape[0]):
        rec.g[c, k, g] = gval[g]


@helper(inline="always")
def _track(stress, smin, smax, first, last):
    for i in range(first, last):
        smin[i] = min(smin[i], stress[i])
        smax[i] = max(smax[i], stress[i])


# ================================================================================================
# the rainflow stack (ASTM E1049-85 5.4.4, as the rainflow package)
# ================================================================================================
# Use: ``_feed`` each sample; when it confirms a reversal, ``_rf_append`` its point and take the
# cycles it closes from ``_rf_next`` until it returns i1 < 0; at the end of a series
# ``_last_point`` is appended the same way and the residue is the points' consecutive pairs.


@helper(borrows=True)
def _feed(st, x, t, pt):
    """Feed one SOC sample to the streaming reversal detector (as ``rainflow.reversals``); the
    running integrals at ``H_CUM`` are the sample's. Returns True when a point must be pushed,
    with that point in ``pt``: the series' first sample, or a confirmed reversal (the last
    sample of a plateau)."""
    nseen = st[H_NSEEN]
    push = False
    if nseen == 0.0:
        st[H_RF_XLAST] = x
        st[H_NSEEN] = 1.0
        _last_point(st, pt)
        return True
    if nseen == 1.0:
        st[H_RF_X] = x
        st[H_RF_DLAST] = x - st[H_RF_XLAST]
        st[H_NSEEN] = 2.0
    else:
        st[H_NSEEN] = 3.0
        xc = st[H_RF_X]
        if x != xc:  # on a plateau the candidate moves to the plateau's last sample
            d_next = x - xc
            if st[H_RF_DLAST] * d_next < 0.0:
                push = True
                pt[P_X] = xc
                for f in range(1, N_PT):
                    pt[f] = st[H_CAND + f - 1]
            st[H_RF_XLAST] = xc
            st[H_RF_X] = x
            st[H_RF_DLAST] = d_next
    st[H_CAND] = t  # the present sample becomes the reversal candidate
    for f in range(2, N_PT):
        st[H_CAND + f - 1] = st[H_CUM + f - 1]
    return push


@helper(borrows=True)
def _last_point(st, pt):
    """The present sample as a stack point (SOC, time, running integrals)."""
    pt[P_X] = st[H_SOC]
    pt[P_T] = st[H_T]
    for f in range(2, N_PT):
        pt[f] = st[H_CUM + f - 1]


@helper(borrows=True)
def _rf_append(st, base, pt):
    """Put point ``pt`` on the stack at ``st[base:]`` (it has room for one point beyond
    ``STACK``: ``_rf_next`` then counts the oldest range as a half cycle)."""
    n = int(st[H_NSTACK])
    for f in range(N_PT):
        st[base + f * (STACK + 1) + n] = pt[f]
    st[H_NSTACK] = n + 1
    st[H_RF_PENDING] = 0.0


@helper(borrows=True)
def _rf_pop(st, base, code):
    """Remove the points of a counted cycle: 1 the oldest point (half cycle from the start),
    2 the two points before the newest (full cycle)."""
    n = int(st[H_NSTACK])
    for f in range(N_PT):
        off = base + f * (STACK + 1)
        if code == 1:
            for j in range(n - 1):
                st[off + j] = st[off + j + 1]
        else:
            st[off + n - 3] = st[off + n - 1]
    st[H_NSTACK] = n - 1 if code == 1 else n - 2


@helper(borrows=True)
def _rf_next(st, base):
    """The next cycle the newest point closes: (i1, weight), the cycle of stack points i1 and
    i1 + 1 with weight 0.5 (half) or 1; i1 = -1 when there is none. The points of the cycle
    returned stay on the stack until this is called again."""
    pend = st[H_RF_PENDING]
    if pend != 0.0:
        _rf_pop(st, base, int(pend))
        st[H_RF_PENDING] = 0.0
    n = int(st[H_NSTACK])
    if n > STACK:  # full: the oldest range counts as a half cycle
        st[H_OVERFLOW] += 1.0
        st[H_RF_PENDING] = 1.0
        return 0, 0.5
    if n < 3:
        return -1, 0.0
    X = abs(st[base + n - 1] - st[base + n - 2])
    Y = abs(st[base + n - 2] - st[base + n - 3])
    if X < Y:
        return -1, 0.0
    if n == 3:  # Y holds the starting point
        st[H_RF_PENDING] = 1.0
        return 0, 0.5
    st[H_RF_PENDING] = 2.0
    return n - 3, 1.0


@helper(inline="always")
def _pt(st, base, i, field):
    """Field ``field`` of stack point ``i``."""
    return st[base + field * (STACK + 1) + i]


@helper(inline="always")
def _point_stress(stress, m, T, soc):
    """Temperature, SOC (and mean SOC), OCV and anode potential of a step or a cycle."""
    stress[S_T] = T
    stress[S_SOC] = soc
    stress[S_SOC_MEAN] = soc
    if m.settings[SET_NEED_V] != 0.0:
        stress[S_V] = _table(m.ocv, soc)
    if m.settings[SET_NEED_UA] != 0.0:
        stress[S_UA] = _table(m.ua, soc)


@helper(borrows=True)
def _cycle_stress(st, base, i1, stress, m, Tnow):
    """Stress of the cycle of stack points i1, i1 + 1 (depth, SOC, temperature and C-rates
    over its own segment); returns its range."""
    i2 = i1 + 1
    x1 = _pt(st, base, i1, P_X)
    x2 = _pt(st, base, i2, P_X)
    dur = abs(_pt(st, base, i2, P_T) - _pt(st, base, i1, P_T))
    Tm = abs(_pt(st, base, i2, P_CT) - _pt(st, base, i1, P_CT)) / dur if dur > 0.0 else Tnow
    _point_stress(stress, m, Tm, 0.5 * (x1 + x2))
    rests = m.settings[SET_CRATE_RESTS] != 0.0
    for s_out, fc in ((S_CRATE, P_CC), (S_CHARGE, P_CCC), (S_DISCHARGE, P_CDC)):
        moved = abs(_pt(st, base, i2, fc) - _pt(st, base, i1, fc))
        span = dur if rests else abs(_pt(st, base, i2, fc + 1) - _pt(st, base, i1, fc + 1))
        stress[s_out] = moved / span if span > 0.0 else 0.0
    rng = abs(x1 - x2)
    stress[S_DOD] = rng
    stress[S_EFC_RATE] = 0.5 * rng * 86400.0 / dur if dur > 0.0 else 0.0
    return rng


@helper(borrows=True)
def _cycle_states(st, base, i1, weight, stress, mult, m, smin, smax, Tnow):
    """Advance the cycle-driven states over the rainflow cycle of stack points i1, i1 + 1."""
    rng = _cycle_stress(st, base, i1, stress, m, Tnow)
    _new_stress(stress)
    if rng > 0.0:  # a zero-range residue stresses nothing
        _track(stress, smin, smax, 0, N_STRESS)
    thr = rng * st[H_QF] if m.settings[SET_EFC_NOMINAL] != 0.0 else rng
    for s in range(m.state_i.shape[0]):
        drv = m.state_i[s, SI_DRIVER]
        if drv == D_CYCLE_EFC or drv == D_CYCLE_COUNT:
            x = weight * (thr if drv == D_CYCLE_EFC else 1.0)
            _advance_state(st, s, x * m.state_f[s, SF_SCALE], stress, mult, m)
    if weight == 1.0:
        st[H_NFULL] += 1.0
    else:
        st[H_NHALF] += 1.0


@helper(borrows=True)
def _push(st, pt, stress, mult, m, smin, smax, Tnow):
    """Push reversal point ``pt`` and advance the cycle states over the cycles it closes."""
    base = HEAD + m.state_i.shape[0]
    _rf_append(st, base, pt)
    while True:
        i1, weight = _rf_next(st, base)
        if i1 < 0:
            break
        _cycle_states(st, base, i1, weight, stress, mult, m, smin, smax, Tnow)


@helper(borrows=True)
def _flush(st, pt, stress, mult, m, smin, smax):
    """End of series: push the last sample as a reversal, then count the residue as half cycles.
    Changes ``st``: call it on a copy to keep a resumable state."""
    base = HEAD + m.state_i.shape[0]
    if st[H_NSEEN] >= 3.0:
        _last_point(st, pt)
        _push(st, pt, stress, mult, m, smin, smax, st[H_TK])
    n = int(st[H_NSTACK])
    for j in range(n - 1):
        _cycle_states(st, base, j, 0.5, stress, mult, m, smin, smax, st[H_TK])
    st[H_NSTACK] = 0.0 if n == 0 else 1.0


# ================================================================================================
# AGG_SAMPLE: step by step
# ================================================================================================


@helper(borrows=True)
def _step(st, t1, x1, T1, I1, stress, mult, m, smin, smax, pt, gval):
    """Advance one cell to the sample (t1 [s], x1 SOC, T1 [K], I1 [A]) under ``AGG_SAMPLE``."""
    has_cur = m.settings[SET_HAS_CURRENT] != 0.0
    nominal = m.settings[SET_EFC_NOMINAL] != 0.0
    if st[H_NSEEN] > 0.0:
        dt = t1 - st[H_T]
        x0 = st[H_SOC]
        dsoc = abs(x1 - x0)
        qf = st[H_QF] if nominal else 1.0
        if has_cur:  # C-rates from the current [1/h], charge moved = rate x time
            qnom = m.settings[SET_QNOM]
            I0 = st[H_I]
            rate = 0.5 * (abs(I0) + abs(I1)) / qnom
            rate_d = 0.5 * (max(I0, 0.0) + max(I1, 0.0)) / qnom
            rate_c = 0.5 * (max(-I0, 0.0) + max(-I1, 0.0)) / qnom
            dt_pos = dt if dt > 0.0 else 0.0
            moved, moved_c, moved_d = rate * dt_pos, rate_c * dt_pos, rate_d * dt_pos
        else:  # from the SOC swing against the capacity basis
            moved = dsoc * qf * 3600.0
            moved_c = moved if x1 > x0 else 0.0
            moved_d = moved if x1 < x0 else 0.0
            rate = moved / dt if dt > 0.0 else 0.0
            rate_c = moved_c / dt if dt > 0.0 else 0.0
            rate_d = moved_d / dt if dt > 0.0 else 0.0
        direction = m.settings[SET_CRATE_DIRECTION]
        if direction == DIR_CHARGE:
            rate, moved = rate_c, moved_c
        elif direction == DIR_DISCHARGE:
            rate, moved = rate_d, moved_d
        if dt > 0.0:
            Tm = 0.5 * (st[H_TK] + T1)
            _point_stress(stress, m, Tm, 0.5 * (x0 + x1))
            stress[S_CRATE] = rate
            stress[S_DOD] = 0.0
            stress[S_CHARGE] = rate_c
            stress[S_DISCHARGE] = rate_d
            dxe = 0.5 * dsoc * qf
            stress[S_EFC_RATE] = dxe * 86400.0 / dt
            _new_stress(stress)
            _track(stress, smin, smax, 0, 4)
            for s in range(m.state_i.shape[0]):
                drv = m.state_i[s, SI_DRIVER]
                if drv == D_TIME or drv == D_STEP_EFC:
                    dx = dt if drv == D_TIME else dxe
                    _advance_state(st, s, dx * m.state_f[s, SF_SCALE], stress, mult, m)
            st[H_CUM + P_CT - 1] += Tm * dt
            # current flows when charge moves (not when the rate is > 0: a tiny SOC step's
            # rate can underflow to 0 while its charge does not)
            if moved > 0.0:
                st[H_CUM + P_CA - 1] += dt
            if moved_c > 0.0:
                st[H_CUM + P_CCA - 1] += dt
            if moved_d > 0.0:
                st[H_CUM + P_CDA - 1] += dt
        st[H_CUM + P_CC - 1] += moved
        st[H_CUM + P_CCC - 1] += moved_c
        st[H_CUM + P_CDC - 1] += moved_d
        st[H_EFC] += 0.5 * dsoc * qf
    st[H_T] = t1
    st[H_SOC] = x1
    st[H_TK] = T1
    st[H_I] = I1
    if _feed(st, x1, t1, pt):
        if nominal:  # q refreshed at each confirmed SOC reversal (once per half cycle)
            st[H_QF] = _combine(st, m, gval)[0]
        _push(st, pt, stress, mult, m, smin, smax, T1)


@helper(inline="always")
def _cell_settings(cells, c):
    """Cell ``c``'s rate multipliers, usage scale, temperature offset [K] and top SOC."""
    return cells.mult[c], cells.usage[c], cells.t_off[c], cells.soc_top[c if cells.soc_top.shape[0] > 1 else 0]


@helper(borrows=True)
def _sample(prof, c, j, us, top, dT):
    """Sample ``j`` of cell ``c``: SOC (its swing below the top SOC scaled by the usage scale
    ``us``), temperature + ``dT`` [K], current x ``us`` [A]."""
    soc = prof.soc
    x = soc[c if soc.shape[0] > 1 else 0, j]
    if us != 1.0:
        x = min(max(top - us * (top - x), 0.0), 1.0)
    T = prof.temp[c if prof.temp.shape[0] > 1 else 0, j] + dT
    I = prof.cur[c if prof.cur.shape[0] > 1 else 0, j] * us
    return x, T, I


@helper(borrows=True)
def _replayable(m):
    """Whether a repeated profile can be replayed: every state is a POWER state with a fixed
    exponent (its stored value u = y^(1/p) only adds increments) and no rate reads the states
    (``SET_EFC_NOMINAL`` off), so a repetition that starts from a periodic state adds the same
    increments as the one before."""
    if m.settings[SET_EFC_NOMINAL] != 0.0:
        return False
    for s in range(m.state_i.shape[0]):
        if m.state_i[s, SI_TYPE] != ST_POWER or m.state_i[s, SI_EP] >= 0:
            return False
    return True


@helper(inline="always")
def _chain(st, base, n, i, f):
    """Field ``f`` of the i-th link of the chain the next repetition's cycles read: the stack
    points (i < n), then the reversal candidate (i = n), then the present sample (i = n + 1)."""
    if i < n:
        return _pt(st, base, i, f)
    if i == n:
        return st[H_CAND + f - 1]
    return st[H_T] if f == P_T else st[H_CUM + f - 1]


@helper(borrows=True)
def _periodic(st, start, ns):
    """Whether state ``st`` is ``start`` one period later as far as the next repetition can tell:
    the same last sample, reversal detector and rainflow stack (SOC values), every time and
    running integral between consecutive stack points, the reversal candidate and the present
    sample the same (to 1e-12 of their magnitude: the running integrals' rounding), and no state
    cut at a bound. The cycles the next repetition closes then have the same stress.

    Stack points the repetition left in place (the oldest ones, whose SOC lies outside the range
    the repetition swings over, for example the first start of a profile that ends above it) are
    exempt from the interval rule on their side towards the newer points: the same SOC values take
    the same rainflow decisions, so the next repetition leaves them in place too, closes no cycle
    with them, and the replay adds nothing to them (their change is zero) while it shifts the
    newer points by one period, as stepping would."""
    if st[H_SATURATED] != start[H_SATURATED] or st[H_NSTACK] != start[H_NSTACK]:
        return False
    for h in (H_NSEEN, H_RF_XLAST, H_RF_X, H_RF_DLAST, H_RF_PENDING, H_SOC, H_TK, H_I):
        if st[h] != start[h]:
            return False
    base = HEAD + ns
    n = int(st[H_NSTACK])
    for i in range(n):
        if _pt(st, base, i, P_X) != _pt(start, base, i, P_X):
            return False
    kept = 0  # leading stack points the repetition did not replace (same time: the same point)
    while kept < n and _pt(st, base, kept, P_T) == _pt(start, base, kept, P_T):
        kept += 1
    for f in range(P_T, N_PT):
        for i in range(kept, n + 1):
            a1 = _chain(st, base, n, i, f)
            b1 = _chain(st, base, n, i + 1, f)
            d0 = _chain(start, base, n, i + 1, f) - _chain(start, base, n, i, f)
            if abs((b1 - a1) - d0) > 1e-12 * max(abs(a1), abs(b1)):
                return False
    return True


@helper(borrows=True)
def _replay_add(st, delta, k, ns):
    """Add ``k`` repetitions' change ``delta`` to the fields of ``st`` that carry it: the head,
    the states and the stack's points (unused stack slots are left alone)."""
    for i in range(HEAD + ns):
        st[i] += k * delta[i]
    base = HEAD + ns
    for f in range(N_PT):
        off = base + f * (STACK + 1)
        for i in range(int(st[H_NSTACK])):
            st[off + i] += k * delta[off + i]


@helper
def _run_sample(c, prof, cells, repeat, out_t, st, m, rec, stress, pt, gval, pre, work):
    """Age cell ``c`` step by step over the (repeated) profile (``AGG_SAMPLE``).

    Replay: once a repetition ends in a state that is its start one period later
    (``_periodic``) and the model is ``_replayable``, every later repetition adds that
    repetition's change ``delta`` to the state vector (states, EFC, cycle counts, running
    integrals, stack points' times and integrals) instead of stepping, many repetitions at once
    up to the next one that holds an output row; a row is its repetition's start plus the
    increments ``pre`` recorded at each sample of the stepped repetition. Repetitions that would
    take a state past its bound are stepped. ``pre``: (n, states + 1) scratch (or (1, .) when
    ``repeat`` < 3); ``work``: (3, L) scratch."""
    time_s = prof.time_s
    n = time_s.shape[0]
    ns = m.state_i.shape[0]
    period = time_s[n - 1] - time_s[0]
    smin = rec.smin[c]
    smax = rec.smax[c]
    mult, us, dT, top = _cell_settings(cells, c)
    if m.settings[SET_EFC_NOMINAL] != 0.0 and st[H_NSEEN] == 0.0:
        st[H_QF] = 1.0
    n_out = out_t.shape[0]
    k_out = np.int64(0)  # not a literal: see jit.py
    can_replay = repeat >= 3 and n >= 2 and pre.shape[0] == n and _replayable(m)
    start = work[0]
    delta = work[1]
    row = work[2]
    replaying = False
    rep = 0
    while rep < repeat:
        if replaying:  # how many repetitions to replay: within every bound, up to the next row
            k = repeat - rep
            for s in range(ns):
                d = delta[HEAD + s]
                room = m.state_f[s, SF_MAX] - st[HEAD + s]
                if d > 0.0 and room < k * d:  # (not room / d against k: a tiny d overflows it)
                    k = int(max(room / d, 0.0))
            if k_out < n_out:
                # jump only over repetitions that end before the next row for certain (an estimate
                # one short): the repetition that holds the row is found by the comparison the
                # stepping path makes, below, never by a sum computed another way (a fused
                # multiply-add rounds it differently at a repetition's end)
                r_est = int((out_t[k_out] - time_s[n - 1]) / period) - 1
                k = min(k, max(r_est - rep, 0) + 1)
            replaying = k > 0
        if replaying:
            if k > 1:
                _replay_add(st, delta, float(k - 1), ns)
                rep += k - 1
                rec.replayed[c] += float(k - 1)
            offset = rep * period
            t_last = time_s[n - 1] + offset
            while k_out < n_out and t_last >= out_t[k_out]:
                j = min(max(np.searchsorted(time_s, out_t[k_out] - offset), 1), n - 1)
                while j > 1 and time_s[j - 1] + offset >= out_t[k_out]:
                    j -= 1
                while time_s[j] + offset < out_t[k_out]:
                    j += 1
                row[H_EFC] = st[H_EFC] + pre[j, ns]
                for s in range(ns):
                    row[HEAD + s] = st[HEAD + s] + pre[j, s]
                _record(row, c, k_out, time_s[j] + offset, m, rec, gval)
                k_out += 1
            _replay_add(st, delta, 1.0, ns)
            st[H_T] = t_last  # the step path's clock, to the bit
            rec.replayed[c] += 1.0
            rep += 1
            continue
        offset = rep * period
        record = can_replay and rep > 0
        if record:
            start[:] = st
        for j in range(1 if rep > 0 else 0, n):
            t1 = time_s[j] + offset
            x1, T1, I1 = _sample(prof, c, j, us, top, dT)
            _step(st, t1, x1, T1, I1, stress, mult, m, smin, smax, pt, gval)
            if record:
                pre[j, ns] = st[H_EFC] - start[H_EFC]
                for s in range(ns):
                    pre[j, s] = st[HEAD + s] - start[HEAD + s]
            while k_out < n_out and t1 >= out_t[k_out]:
                _record(st, c, k_out, t1, m, rec, gval)
                k_out += 1
        if record and _periodic(st, start, ns):
            for i in range(st.shape[0]):
                delta[i] = st[i] - start[i]
            replaying = True
        rep += 1
    while k_out < n_out:  # rows beyond the end repeat the last state
        _record(st, c, k_out, st[H_T], m, rec, gval)
        k_out += 1
    if m.settings[SET_FINALIZE] != 0.0 and n_out > 0:
        tmp = st.copy()
        if m.settings[SET_EFC_NOMINAL] != 0.0 and tmp[H_NSEEN] >= 3.0:
            tmp[H_QF] = _combine(tmp, m, gval)[0]
        _flush(tmp, pt, stress, mult, m, smin, smax)
        _record(tmp, c, n_out - 1, st[H_T], m, rec, gval)


# ================================================================================================
# AGG_WINDOW: BLAST-Lite's update windows
# ================================================================================================


@helper
def _turning_points(x, out, full, half):
    """End indices of the rainflow cycles of the series ``x`` (as ``rainflow.extract_cycles``
    yields them, residue included), sorted and unique, into ``out``; returns how many. ``full``
    and ``half`` (length n) count the full and half cycles ending at each sample."""
    n = x.shape[0]
    cyc = np.zeros((n + STACK + 2, N_CYC))
    index = np.arange(n).astype(np.float64)  # as the time: each cycle's end time is its end index
    m = rainflow_count(index, x, np.zeros(n), np.zeros(n), np.bool_(False), np.zeros((1, HEAD + N_PT * (STACK + 1))),
                       np.bool_(True), cyc)  # not literals: see jit.py
    for j in range(n):
        full[j] = 0.0
        half[j] = 0.0
    for k in range(m):
        end = int(cyc[k, CYC_END])
        if cyc[k, CYC_COUNT] == 1.0:
            full[end] += 1.0
        else:
            half[end] += 1.0
    k = 0
    for j in range(n):
        if full[j] + half[j] > 0.0:
            out[k] = j
            k += 1
    return k


@helper
def _breakpoints(time_s, x, max_time, max_efc, bps, full, half):
    """BLAST-Lite's ``_find_breakpoints`` on the series ``x``, plus the last sample: the end
    sample of each update window into ``bps``; returns how many. ``full``, ``half``: the rainflow
    cycles ending at each sample (``_turning_points``)."""
    n = x.shape[0]
    tp = np.zeros(n, dtype=np.int64)
    ntp = _turning_points(x, tp, full, half)
    efc = np.zeros(n)
    for j in range(1, n):
        efc[j] = efc[j - 1] + 0.5 * abs(x[j] - x[j - 1])
    nb = 0
    last = 0
    for k in range(ntp):
        i = tp[k]
        if time_s[i] - time_s[last] > max_time:  # slow cycling: a breakpoint a period
            for it in range(last, i):
                if time_s[it] - time_s[last] > max_time:
                    bps[nb] = it
                    nb += 1
                    last = it
        elif efc[i] - efc[last] > max_efc:
            bps[nb] = i
            nb += 1
            last = i
    if nb == 0 or bps[nb - 1] != n - 1:
        bps[nb] = n - 1
        nb += 1
    return nb


@helper(borrows=True)
def _window_crate(time_s, s, a, b, direction, include_rests, floor):
    """BLAST-Lite's window C-rate in ``direction`` [1/h on the SOC scale]: the per-step rates
    |dSOC/dt| (those below ``floor`` taken as 0), placed at each step's end sample, averaged by
    the trapezoid rule over the window's time with rests as 0 (``include_rests``), or over the
    steps in the direction alone joined end to end (BLAST-Lite's discharge C-rate ``Cdis``)."""
    area = 0.0
    span = 0.0
    prev = 0.0
    nsel = 0
    for j in range(a + 1, b + 1):
        dt = time_s[j] - time_s[j - 1]
        v = (s[j] - s[j - 1]) * 3600.0 / dt
        if abs(v) < floor:
            v = 0.0
        sel = v > 0.0 if direction == DIR_CHARGE else (v < 0.0 if direction == DIR_DISCHARGE else True)
        c = abs(v) if sel else 0.0
        if include_rests:
            if j > a + 1:
                area += 0.5 * (prev + c) * dt
            prev = c
        elif sel and v != 0.0:
            if nsel > 0:
                area += 0.5 * (prev + c) * dt
                span += dt
            prev = c
            nsel += 1
    if include_rests:
        return area / (time_s[b] - time_s[a]) if b > a else 0.0
    if nsel == 1:
        return prev
    return area / span if span > 0.0 else 0.0


def _reads_bits(k: int) -> int:
    """What stressor ``k`` varies with: 1 per sample with temperature alone, 2 once a window
    (``k >= N_SAMPLE_STRESS``), 4 per sample otherwise."""
    return 1 if k == S_T else (2 if k >= N_SAMPLE_STRESS else 4)


def window_plan(m: Model) -> WindowPlan:
    """What the window path (``AGG_WINDOW``) evaluates where, from the model alone (plain Python:
    a first call compiles none of it). ``used[e]``: 1 expression e is a base evaluated over the
    window, 2 a state reads it. ``tread[i]``: term i reads window-wide stressors only
    (``R_WINDOW``, evaluated once a window), temperature only (``R_TEMP``), or other per-sample
    stressors (``R_SAMPLE``). ``pread[j]``: product j of a base is ``R_WINDOW`` (every term is),
    ``R_TEMP`` (the others read temperature alone: its per-sample part's window mean repeats with
    the profile) or ``R_SAMPLE``; -1 when no base holds it. ``lrow[j]``: where the per-sample part
    has a linear form (``_linear_row``, into ``lin[j]``), the first product of the same class with
    the same form (j itself, or an earlier one whose mean j takes); -1 otherwise."""
    ne, nt, npr = m.expr_i.shape[0], m.term_i.shape[0], m.prod_i.shape[0]
    used = np.zeros(ne, dtype=np.int64)
    for k in range(m.state_i.shape[0]):
        for slot in (SI_EK, SI_EAUX, SI_EP):
            e = m.state_i[k, slot]
            if e >= 0:
                used[e] |= 2
                used[m.expr_i[e, EI_BASE]] |= 1
    tread = np.zeros(nt, dtype=np.int64)
    for i in range(nt):
        code = m.term_i[i, TI_CODE]
        bits = 0 if code == T_CONST else _reads_bits(m.term_i[i, TI_STRESSOR])
        if code == T_EXP_OVER_T or code == T_LINEAR_T:
            bits |= 1
        elif code == T_EXP_POWPROD:
            bits |= _reads_bits(int(m.term_f[i, 3]))
        tread[i] = R_WINDOW if (bits | 2) == 2 else (R_TEMP if bits == 1 else R_SAMPLE)
    pread = np.full(npr, -1, dtype=np.int64)
    for e in np.flatnonzero(used & 1):
        for j in range(m.expr_i[e, EI_FIRST], m.expr_i[e, EI_END]):
            pread[j] = max([R_WINDOW] + [tread[i] for i in range(m.prod_i[j, PI_FIRST], m.prod_i[j, PI_END])])
    lrow = np.full(npr, -1, dtype=np.int64)
    lin = np.zeros((npr, N_LIN))
    for j in range(npr):
        if pread[j] > R_WINDOW and _linear_row(j, m, tread, lin[j]):
            same = [j0 for j0 in range(j)
                    if lrow[j0] == j0 and pread[j0] == pread[j] and np.array_equal(lin[j0], lin[j])]
            lrow[j] = same[0] if same else j
    return WindowPlan(used, tread, pread, lrow, lin)


@helper(borrows=True)
def _window_means(w, a, b, time_s, T, s, stress, m, terms, pl, smin, smax):
    """Each base product's window part (``pl.hold``) and the trapezoid mean over samples a..b
    of its per-sample part (``pl.mean``; 1 for a product with none), with per-sample
    temperature, SOC, OCV and anode potential. A per-sample part with a linear form takes one
    exponential of it (``_linear_value``; a product with the same form as an earlier one takes
    that one's mean); the others are evaluated by ``_product``. The means of ``R_TEMP`` products
    are kept per window index (``pl.cache``, its last column says which are filled): a later
    repetition of the profile takes them from there."""
    npr = pl.pread.shape[0]
    cached = pl.cache[w, npr] != 0.0
    _window_parts(stress, terms, pl, np.int64(PART_WINDOW), cached)
    generic = False
    nt = 0
    for j in range(npr):
        pl.mean[j] = 0.0
        lr = pl.lrow[j]
        if _sampled(pl.pread[j], cached) and (lr == j or lr < 0):
            pl.todo[nt] = j
            nt += 1
            if lr < 0:
                generic = True
            else:
                _linear_window(pl.lin[j], stress, pl.lwin[j])
    need_v = m.settings[SET_NEED_V] != 0.0
    need_ua = m.settings[SET_NEED_UA] != 0.0
    lo_t, hi_t, lo_s, hi_s = smin[S_T], smax[S_T], smin[S_SOC], smax[S_SOC]  # the samples' stress range
    lo_v, hi_v, lo_u, hi_u = smin[S_V], smax[S_V], smin[S_UA], smax[S_UA]
    for i in range(a, b + 1):
        Ti = T[i]
        si = s[i]
        stress[S_T] = Ti
        stress[S_SOC] = si
        lo_t, hi_t, lo_s, hi_s = min(lo_t, Ti), max(hi_t, Ti), min(lo_s, si), max(hi_s, si)
        if need_v:
            v = _table(m.ocv, si)
            stress[S_V] = v
            lo_v, hi_v = min(lo_v, v), max(hi_v, v)
        if need_ua:
            u = _table(m.ua, si)
            stress[S_UA] = u
            lo_u, hi_u = min(lo_u, u), max(hi_u, u)
        half_dt = 0.5 * (time_s[i] - time_s[i - 1]) if i > a else 0.0
        if generic:
            _window_parts(stress, terms, pl, np.int64(PART_SAMPLE), cached)
        for t in range(nt):
            j = pl.todo[t]
            if pl.lrow[j] == j:
                pl.now[j] = _linear_value(pl.lin[j], pl.lwin[j], stress, pl.inv_t[i], N_SAMPLE_STRESS)
            if i > a:
                pl.mean[j] += (pl.prev[j] + pl.now[j]) * half_dt
            pl.prev[j] = pl.now[j]
    smin[S_T], smax[S_T], smin[S_SOC], smax[S_SOC] = lo_t, hi_t, lo_s, hi_s
    if need_v:
        smin[S_V], smax[S_V] = lo_v, hi_v
    if need_ua:
        smin[S_UA], smax[S_UA] = lo_u, hi_u
    span = time_s[b] - time_s[a]
    for j in range(npr):
        r = pl.pread[j]
        lr = pl.lrow[j]
        if r == R_WINDOW:
            pl.mean[j] = 1.0
        elif r == R_TEMP and cached:
            pl.mean[j] = pl.cache[w, j]
        elif r >= 0:
            pl.mean[j] = pl.mean[lr] if 0 <= lr < j else pl.mean[j] / span
            if r == R_TEMP:
                pl.cache[w, j] = pl.mean[j]
    pl.cache[w, npr] = 1.0


@helper(inline="always")
def _euler_ratio(z, p):
    """A power law's forward-Euler increment over its exact one from the same state, p z /
    ((1 + z)^p - 1), z = dx / (the state's equivalent driver value): 1 at z = 0, rising with z for
    p < 1 (the law is concave) and falling for p > 1."""
    d = math.expm1(p * math.log1p(z))
    return p * z / d if d > 0.0 else 1.0


@helper(borrows=True)
def _window(st, w, a, b, time_s, x, T, s, stress, mult, m, smin, smax, gval, pl):
    """Age over the update window ``w`` of samples a..b (``AGG_WINDOW``); returns its span [s]."""
    ns = m.state_i.shape[0]
    ne = m.expr_i.shape[0]
    q = _combine(st, m, gval)[0]
    fac = 1.0 / max(q, 1e-6) if m.settings[SET_WIN_RESCALE] != 0.0 else 1.0
    lo = 1.0
    hi = 0.0
    ssum = 0.0
    moved = 0.0
    for j in range(a, b + 1):  # the SOC swing rescaled about the window's first sample
        v = min(max(x[a] + fac * (x[j] - x[a]), 0.0), 1.0)
        s[j] = v
        lo = min(lo, v)
        hi = max(hi, v)
        ssum += v
        if j > a:
            moved += abs(v - s[j - 1])
    span = time_s[b] - time_s[a]
    if span <= 0.0:
        return 0.0
    direction = int(m.settings[SET_CRATE_DIRECTION])
    rests = m.settings[SET_CRATE_RESTS] != 0.0
    floor = m.settings[SET_WIN_CRATE_FLOOR]
    euler = m.settings[SET_WIN_EULER] != 0.0
    defc = 0.5 * moved * q
    stress[S_EFC_RATE] = defc / (span / 86400.0)
    stress[S_DOD] = hi - lo
    stress[S_SOC_MEAN] = ssum / (b - a + 1)
    stress[S_CRATE] = q * _window_crate(time_s, s, a, b, direction, rests, floor)
    if m.settings[SET_NEED_SIGNED] != 0.0:
        stress[S_CHARGE] = q * _window_crate(time_s, s, a, b, np.int64(DIR_CHARGE), rests, floor)
        stress[S_DISCHARGE] = q * _window_crate(time_s, s, a, b, np.int64(DIR_DISCHARGE), rests, floor)
    _track(stress, smin, smax, S_CRATE, N_STRESS)
    terms = Terms(m.expr_i, m.prod_i, m.prod_f, m.term_i, m.term_f)
    _window_means(w, a, b, time_s, T, s, stress, m, terms, pl, smin, smax)
    for e in range(ne):
        if pl.used[e] & 2:  # read by a state: its base's mean times its coefficient ratio
            base = m.expr_i[e, EI_BASE]
            total = 0.0
            for j in range(m.expr_i[base, EI_FIRST], m.expr_i[base, EI_END]):
                if pl.hold[j] != 0.0:
                    total += pl.hold[j] * pl.mean[j]
            pl.fin[e] = _finish(e, total * m.expr_f[e, EF_RATIO], m)
    for k in range(ns):
        drv = m.state_i[k, SI_DRIVER]
        dx = (span if drv == D_TIME else defc) * m.state_f[k, SF_SCALE]
        ea = m.state_i[k, SI_EAUX]
        ep = m.state_i[k, SI_EP]
        aux = pl.fin[ea] if ea >= 0 else 0.0
        p = pl.fin[ep] if ep >= 0 else m.state_f[k, SF_P]
        stype = m.state_i[k, SI_TYPE]
        kk = pl.fin[m.state_i[k, SI_EK]] * mult[k]
        if euler:
            y0 = _value(stype, st[HEAD + k], m.state_f[k, SF_P])
            y = _euler(stype, y0, kk, dx, p, aux)
            if y > y0 > 0.0 and p > 0.0 and (stype == ST_POWER or stype == ST_POWER_VAR):
                z = (y - y0) / (p * y0)  # dx over the state's equivalent driver value (y0/k)^(1/p)
                if ep >= 0:  # the exponent changes from window to window
                    pl.over[k, 2] = max(pl.over[k, 2], _euler_ratio(z, p))
                else:  # the ratio rises with z (p < 1) or falls (p > 1): its extremes are at z's
                    pl.over[k, 0] = min(pl.over[k, 0], z)
                    pl.over[k, 1] = max(pl.over[k, 1], z)
            st[HEAD + k] = y ** (1.0 / m.state_f[k, SF_P]) if stype == ST_POWER and y > 0.0 else y
        else:
            st[HEAD + k] = _advance(stype, st[HEAD + k], kk, dx, p, aux)
        _bound(st, k, m)
    st[H_EFC] += defc
    return span


@helper
def _run_window(c, prof, cells, repeat, out_t, st, m, rec, stress, gval, x, T, s, bps, nb, full, half, pl):
    """Age cell ``c`` window by window (``AGG_WINDOW``) until the model clock passes the
    horizon (a call that is not the last: over its repetitions exactly, see the module
    docstring); output rows are stamped with the clock. ``x``, ``T``: the cell's SOC and
    temperature samples; ``bps[:nb]``, ``full``, ``half``: their update windows and rainflow
    cycles (``_breakpoints``); ``s``: scratch. The rainflow cycles of the input (counted in
    ``H_NFULL``, ``H_NHALF`` as the windows that end them pass) do not drive the states here."""
    time_s = prof.time_s
    n = time_s.shape[0]
    smin = rec.smin[c]
    smax = rec.smax[c]
    mult = cells.mult[c]
    npr = pl.pread.shape[0]
    for w in range(nb):  # the cell's own temperatures: no window mean is known yet
        pl.cache[w, npr] = 0.0
    for k in range(m.state_i.shape[0]):
        pl.over[k, 0] = np.inf
        pl.over[k, 1] = 0.0
        pl.over[k, 2] = 0.0
    final = m.settings[SET_FINALIZE] != 0.0
    nominal = repeat * (time_s[n - 1] - time_s[0])  # the profile time this call covers
    lag0 = st[H_LAG]
    t0 = time_s[0] - lag0  # the time axis of the model clock
    n_out = out_t.shape[0]
    k_out = np.int64(0)  # not a literal: see jit.py
    clock = 0.0
    reps = 0
    done = False
    while not done:
        a = np.int64(0)
        advanced = 0.0
        for w in range(nb):
            b = bps[w]
            span = _window(st, w, a, b, time_s, x, T, s, stress, mult, m, smin, smax, gval, pl)
            advanced += span
            clock += span
            for j in range(a, b + 1):  # the input's rainflow cycles, as the windows pass them
                st[H_NFULL] += full[j]
                st[H_NHALF] += half[j]
            while k_out < n_out and t0 + clock >= out_t[k_out]:
                _record(st, c, k_out, t0 + clock, m, rec, gval)
                k_out += 1
            a = b + 1
            if final and clock > nominal + lag0 - WIN_STOP_MARGIN:
                done = True
                break
        reps += 1
        if advanced <= 0.0 or (not final and reps == repeat):
            break
    st[H_LAG] = lag0 + nominal - clock
    st[H_T] = t0 + clock if final else time_s[0] + nominal
    st[H_SOC] = x[n - 1]
    st[H_TK] = T[n - 1]
    while k_out < n_out:
        _record(st, c, k_out, st[H_T], m, rec, gval)
        k_out += 1
    worst = 0.0
    for k in range(m.state_i.shape[0]):
        worst = max(worst, pl.over[k, 2])
        if pl.over[k, 1] > 0.0:
            p = m.state_f[k, SF_P]
            worst = max(worst, _euler_ratio(pl.over[k, 0], p), _euler_ratio(pl.over[k, 1], p))
    rec.overshoot[c] = worst


# ================================================================================================
# kernels
# ================================================================================================


@kernel
def integrate_fleet(prof, cells, repeat, out_t, states, m, rec):
    """Age ``states.shape[0]`` cells, one after the other, over a (repeated) profile under
    ``AGG_SAMPLE``. A cell's results never depend on the cells before it, so the caller may split
    a fleet into blocks of cells and run them in threads (the kernel releases the GIL): results
    do not depend on the split.

    prof : :class:`Profile`; ``time_s`` (n,) strictly increasing [s], repeated ``repeat`` times
        with period ``time_s[-1] - time_s[0]`` (sample 0 of a repetition is the last sample of
        the one before); ``soc``, ``temp`` [K], ``cur`` [A, discharge positive]: (1 or cells, n)
    cells : :class:`Cells`
    out_t : (n_out,) output times [s]; row k holds the state at the first sample with t >= out_t[k]
    states : (cells, L) per-cell state vectors, advanced in place (see ``state_length``)
    m : :class:`Model`; rec : :class:`Records`, filled (``smin``, ``smax`` must come in as +inf, -inf)
    """
    stress = np.zeros(N_STRESS + m.expr_i.shape[0])  # the stressors, then the base expressions' values
    pt = np.zeros(N_PT)
    gval = np.zeros(m.group_i.shape[0])
    pre = np.zeros((prof.time_s.shape[0] if repeat >= 3 else 1, m.state_i.shape[0] + 1))
    work = np.zeros((3, states.shape[1]))
    for c in range(states.shape[0]):
        _run_sample(c, prof, cells, repeat, out_t, states[c], m, rec, stress, pt, gval, pre, work)


@kernel
def integrate_fleet_windows(prof, cells, repeat, out_t, states, m, rec, plan):
    """``integrate_fleet`` under ``AGG_WINDOW`` (a kernel of its own: a first call compiles only
    the path its model uses), with the model's :class:`WindowPlan` (``window_plan(m)``). Output
    rows are stamped with the model clock. Cells that share their SOC samples (one SOC row, one
    usage scale) share their update windows."""
    n = prof.time_s.shape[0]
    nc = states.shape[0]
    stress = np.zeros(N_STRESS)
    gval = np.zeros(m.group_i.shape[0])
    x = np.zeros(n)
    T = np.zeros(n)
    s = np.zeros(n)
    bps = np.zeros(n + 1, dtype=np.int64)
    full = np.zeros(n)
    half = np.zeros(n)
    npr = m.prod_i.shape[0]
    pl = WindowWork(plan.used, plan.tread, plan.pread, plan.lrow, plan.lin, np.zeros(npr), np.zeros(npr),
                    np.zeros(npr), np.zeros(npr), np.zeros(m.expr_i.shape[0]), np.zeros((n + 1, npr + 1)),
                    np.zeros((npr, 2)), np.zeros(npr, dtype=np.int64), np.zeros(n), np.zeros((m.state_i.shape[0], 3)))
    shared_x = prof.soc.shape[0] == 1
    for c in range(1, nc):
        shared_x = shared_x and cells.usage[c] == cells.usage[0]
    nb = 0
    for c in range(nc):
        _, us, dT, top = _cell_settings(cells, c)
        for j in range(n):
            x[j], T[j], _ = _sample(prof, c, j, us, top, dT)
            pl.inv_t[j] = 1.0 / T[j] if T[j] > 0.0 else 0.0
        if c == 0 or not shared_x:
            nb = _breakpoints(prof.time_s, x, m.settings[SET_WIN_TIME], m.settings[SET_WIN_EFC], bps, full, half)
        _run_window(c, prof, cells, repeat, out_t, states[c], m, rec, stress, gval, x, T, s, bps, nb, full, half, pl)


@kernel
def combine_rows(y, m, q, r, g):
    """Output rows' q, r and group values (cells, rows[, groups]) from their states y (cells, rows,
    states), as ``_record`` computes them: for rows whose states were found another way (a fleet
    interpolated in its temperature offset, :mod:`batterylab.aging.shared_profile`)."""
    ns = m.state_i.shape[0]
    st = np.zeros(HEAD + ns)
    gval = np.zeros(m.group_i.shape[0])
    for c in range(y.shape[0]):
        for k in range(y.shape[1]):
            for s in range(ns):
                p = m.state_f[s, SF_P]
                v = y[c, k, s]
                st[HEAD + s] = v ** (1.0 / p) if m.state_i[s, SI_TYPE] == ST_POWER and p != 1.0 and v > 0.0 else v
            q[c, k], r[c, k] = _combine(st, m, gval)
            for i in range(gval.shape[0]):
                g[c, k, i] = gval[i]


@kernel
def rainflow_count(time_s, soc, temp, crate, use_crate, states, finalize, cyc):
    """Streaming rainflow counting of one SOC series; the cycles are written to ``cyc``.

    ``states`` is a (1, L) state vector for a model with zero ageing states; ``cyc`` has shape
    (max_cycles, N_CYC): range, mean SOC, count (0.5 or 1), mean temperature [K], mean |C-rate|
    [1/h] over the time current flowed, time of the cycle's end point [s]. With ``use_crate`` the C-rate of step i -> i+1 is
    ``crate[i]``; otherwise ``|dSOC/dt|`` x 3600. Returns the number of cycles written. With
    ``finalize`` the residue is counted on a copy, so the state continues the count exactly.
    """
    st = states[0]
    base = np.int64(HEAD)
    n = time_s.shape[0]
    pt = np.zeros(N_PT)
    count = np.int64(0)
    for j in range(n + (1 if finalize else 0)):
        if j < n:
            x1 = soc[j]
            t1 = time_s[j]
            T1 = temp[j]
            if st[H_NSEEN] > 0.0:
                dt = t1 - st[H_T]
                dsoc = abs(x1 - st[H_SOC])
                if dt > 0.0:
                    st[H_CUM + P_CT - 1] += 0.5 * (st[H_TK] + T1) * dt
                    if use_crate:
                        st[H_CUM + P_CC - 1] += st[H_I] * dt
                        if st[H_I] > 0.0:
                            st[H_CUM + P_CA - 1] += dt
                    else:
                        st[H_CUM + P_CC - 1] += dsoc * 3600.0
                        if dsoc > 0.0:
                            st[H_CUM + P_CA - 1] += dt
                elif not use_crate:
                    st[H_CUM + P_CC - 1] += dsoc * 3600.0
                st[H_EFC] += 0.5 * dsoc
            st[H_T] = t1
            st[H_SOC] = x1
            st[H_TK] = T1
            st[H_I] = crate[j]
            push = _feed(st, x1, t1, pt)
        else:  # finalise on a copy: the last sample is a reversal, then the residue
            st = st.copy()
            push = st[H_NSEEN] >= 3.0
            _last_point(st, pt)
        if push:
            _rf_append(st, base, pt)
            while True:
                i1, weight = _rf_next(st, base)
                if i1 < 0:
                    break
                count = _log_cycle(st, base, i1, weight, cyc, count)
        if j == n:
            for k in range(int(st[H_NSTACK]) - 1):
                count = _log_cycle(st, base, k, 0.5, cyc, count)
    return count


@helper(borrows=True)
def _log_cycle(st, base, i1, weight, cyc, count):
    """Write the cycle of stack points i1, i1 + 1 to row ``count`` of ``cyc``."""
    i2 = i1 + 1
    dur = abs(_pt(st, base, i2, P_T) - _pt(st, base, i1, P_T))
    act = abs(_pt(st, base, i2, P_CA) - _pt(st, base, i1, P_CA))
    if count < cyc.shape[0]:
        x1 = _pt(st, base, i1, P_X)
        x2 = _pt(st, base, i2, P_X)
        cyc[count, 0] = abs(x1 - x2)
        cyc[count, 1] = 0.5 * (x1 + x2)
        cyc[count, 2] = weight
        cyc[count, 3] = abs(_pt(st, base, i2, P_CT) - _pt(st, base, i1, P_CT)) / dur if dur > 0.0 else st[H_TK]
        cyc[count, 4] = abs(_pt(st, base, i2, P_CC) - _pt(st, base, i1, P_CC)) / act if act > 0.0 else 0.0
        cyc[count, CYC_END] = _pt(st, base, i2, P_T)
    return count + 1
