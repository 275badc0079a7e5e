"""Slow, obviously correct references for the ageing kernels (kernels/aging.py).

Written from the documented equations (kernels/AGING_MODELS.md) and directly from the model JSON,
not from the compiled arrays, so they also check the JSON compiler. Cycles come from the
``rainflow`` package; the profile is materialised; every state follows its literal virtual-time
formula in y (not the kernel's u = y^(1/p) form).
"""

from __future__ import annotations

import math

import numpy as np
import rainflow

R_DEFAULT = 8.314462618
STRESSORS = ["temperature_K", "soc", "voltage_V", "anode_potential_V", "crate_per_h", "dod"]


def segment_means(time_s, soc, temp, crate, i1, i2, from_current=False):
    """Between samples i1 and i2: time mean of temperature (trapezoid), and mean |C-rate| over the
    steps in which current flowed (rests excluded: steps with zero C-rate when it comes from a
    current, else steps in which SOC does not change)."""
    a, b = min(i1, i2), max(i1, i2)
    dur = time_s[b] - time_s[a]
    tsum = 0.0
    csum = 0.0
    active = 0.0
    for k in range(a, b):
        dt = time_s[k + 1] - time_s[k]
        tsum += 0.5 * (temp[k] + temp[k + 1]) * dt
        csum += crate[k] * dt
        if (crate[k] > 0) if from_current else (soc[k + 1] != soc[k]):
            active += dt
    cmean = csum / active if active > 0 else 0.0
    if dur <= 0:
        return None, cmean
    return tsum / dur, cmean


def step_crates(time_s, soc, current_A=None, qnom=1.0):
    """|C-rate| of each step k -> k+1 [1/h] (last entry 0)."""
    n = len(time_s)
    c = np.zeros(n)
    for k in range(n - 1):
        dt = time_s[k + 1] - time_s[k]
        if current_A is None:
            c[k] = abs(soc[k + 1] - soc[k]) * 3600.0 / dt
        else:
            c[k] = 0.5 * (abs(current_A[k]) + abs(current_A[k + 1])) / qnom
    return c


def cycles(time_s, soc, temp, crate, from_current=False):
    """Rainflow cycles with means: list of (range, mean, count, mean_T, mean_crate)."""
    out = []
    for rng, mean, cnt, i1, i2 in rainflow.extract_cycles(list(soc)):
        Tm, cm = segment_means(time_s, soc, temp, crate, i1, i2, from_current)
        if Tm is None:
            Tm = temp[-1]
        out.append((rng, mean, cnt, Tm, cm))
    return out


# ---- model arithmetic straight from the JSON ---------------------------------------------------


def _table(spec_table, key, x):
    grid = np.linspace(0.0, 1.0, 1001)
    vals = np.interp(grid, spec_table["soc"], spec_table[key])
    return float(np.interp(x, grid, vals))


def term_value(t, stress):
    typ = t["type"]
    T = stress["temperature_K"]
    x = stress.get(t.get("stressor", "temperature_K"), 0.0)
    if typ == "const":
        return 1.0
    if typ == "poly":
        z = x - t.get("center", 0.0)
        return sum(c * z**i for i, c in enumerate(t["coefficients"]))
    if typ == "exp":
        return min(math.exp(min(t["rate"] * (x - t.get("center", 0.0)), 700.0)), math.inf)
    if typ == "arrhenius":
        R = t.get("gas_constant_J_per_mol_K", R_DEFAULT)
        if T <= 0:
            return 0.0
        return math.exp(min(-t["activation_energy_J_per_mol"] / R * (1.0 / T - 1.0 / t["reference_temperature_K"]), 700.0))
    if typ == "arrhenius_raw":
        if x <= 0:
            return 0.0
        return math.exp(min(t["a_K"] / x + t.get("b", 0.0), 700.0))
    if typ == "power":
        b = max(x, t.get("floor", 0.0))
        if b <= 0:
            return 0.0 if t["exponent"] > 0 else (1.0 if t["exponent"] == 0 else 1e300)
        return b ** t["exponent"]
    if typ == "exp_over_T":
        return math.exp(min(t["rate_K"] * (x / T - t.get("offset", 0.0)), 700.0))
    if typ == "exp_exp":
        inner = math.exp(min(t["inner"] * max(x, 0.0) ** t.get("power", 1.0), 700.0))
        return math.exp(min(t["outer"] * inner, 700.0))
    if typ == "linear_T":
        return t["c0"] + t["c1"] * (T - t["reference_temperature_K"]) * x
    if typ == "table":
        return float(np.interp(x, t["x"], t["y"]))
    if typ == "skewnorm":
        z = (x - t.get("center", 0.0)) / t["width"]
        return 2.0 * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * 0.5 * math.erfc(-t["skew"] * z / math.sqrt(2))
    if typ == "sigmoid":
        return 2 * t.get("alpha", 1.0) * (0.5 - 1.0 / (1.0 + math.exp(min(max(t["beta"] * x, 0.0) ** t.get("gamma", 1.0), 700.0))))
    if typ == "exp_power_product":
        if t["rate"] == 0:
            return 1.0
        w = stress[t.get("other_stressor", "temperature_K")]
        a = _pow0(x, t["exponent"], t.get("floor", 0.0)) * _pow0(w, t.get("other_exponent", 0.0), t.get("other_floor", 0.0))
        return math.exp(min(t["rate"] * a, 700.0))
    raise ValueError(typ)


def _pow0(x, e, floor):
    """max(x, floor)^e, with 0 / 1 / 1e300 for a non-positive base (by the sign of e)."""
    b = max(x, floor)
    if b <= 0:
        return 0.0 if e > 0 else (1.0 if e == 0 else 1e300)
    return min(b**e, 1e300) if e != 0 else 1.0


def expr_sum(e, stress):
    """An expression's sum of products, before its clip and power."""
    if isinstance(e, (int, float)):
        return float(e)
    prods = e.get("sum") or [{"coef": e.get("coef", 1.0), "terms": e.get("terms", [])}]
    total = 0.0
    for p in prods:
        v = p.get("coef", 1.0)
        for t in p.get("terms", []):
            v *= term_value(t, stress)
        total += v
    return total


def expr_value(e, stress):
    return expr_finish(e, expr_sum(e, stress))


def expr_finish(e, total):
    """An expression's value from its sum of products: clipped to [lo, hi], then its power."""
    if isinstance(e, (int, float)):
        e = {}
    total = min(max(total, e.get("lo", 0.0)), e.get("hi", 1e300))
    pw = e.get("power", 1.0)
    if pw != 1.0:
        if total > 0:
            try:  # the kernel caps at 1e300 where the power overflows
                total = min(float(total) ** pw, 1e300)
            except OverflowError:
                total = 1e300
        else:
            total = 0.0 if pw > 0 else 1e300
    return total


def advance(state, y, k, dx, stress):
    """The literal virtual-time update of one state."""
    typ = state.get("type", "power")
    if dx <= 0 or k <= 0:
        return y
    if typ == "power":
        p = state["exponent"]
        try:
            x_eq = (float(y) / float(k)) ** (1.0 / p) if y > 0 else 0.0
            if not math.isfinite(x_eq):  # y / k itself overflowed (subnormal k): same case
                return y
            return min(k * (x_eq + dx) ** p, 1e300)
        except OverflowError:  # k so small that x_eq overflows: dx is nothing next to x_eq
            return y
    if typ == "power_var":
        p = expr_value(state["exponent"], stress)
        if p <= 0:
            return y
        x_eq = (y / k) ** (1.0 / p) if y > 0 else 0.0
        return max(y, k * (x_eq + dx) ** p)
    yinf = expr_value(state["y_inf"], stress)
    if yinf == 0 or y / yinf >= 1:
        return y
    if typ == "sigmoid":
        p = state["exponent"]
        if isinstance(p, dict):  # stress-dependent exponent (BLAST-Lite Sony/Murata calendar)
            p = expr_value(p, stress)
            if p <= 0:
                return y
        # y = 2 y_inf (1/2 - 1/(1 + exp(z))) = y_inf tanh(z/2), z = (k x)^p: the tanh form keeps
        # its digits for small z, where the published one rounds a loss of 1e-16 to zero
        r = y / yinf
        x_eq = (2 * math.atanh(r)) ** (1 / p) / k if r > 0 else 0.0
        new = yinf * math.tanh(0.5 * (k * (x_eq + dx)) ** p)
    else:  # exp_relax
        r = y / yinf
        x_eq = -math.log(1 - r) / k if r > 0 else 0.0
        new = yinf * (1 - math.exp(-k * (x_eq + dx)))
    if (yinf > 0 and new < y) or (yinf < 0 and new > y):
        new = y
    return new


def bounded(spec, state, y):
    """A loss of capacity is a fraction: at most 1 (kernels/AGING_MODELS.md, bounds)."""
    target = spec["groups"][state["group"]]["target"]
    sign = state.get("sign", -1.0 if target == "capacity" else 1.0)
    return min(y, 1.0) if target == "capacity" and sign <= 0 else y


def _stress(spec, T, soc, crate, dod):
    # soc_mean is the context's SOC (the step's, the cycle's); the signed C-rates and the EFC rate
    # are not modelled here: NaN makes any model that reads them fail these comparisons loudly
    s = {"temperature_K": T, "soc": soc, "crate_per_h": crate, "dod": dod, "voltage_V": 0.0, "anode_potential_V": 0.0,
         "soc_mean": soc, "charge_crate_per_h": math.nan, "discharge_crate_per_h": math.nan, "efc_per_day": math.nan}
    if "ocv_table" in spec:
        s["voltage_V"] = _table(spec["ocv_table"], "voltage_V", soc)
    if "anode_potential_table" in spec:
        s["anode_potential_V"] = _table(spec["anode_potential_table"], "potential_V", soc)
    return s


def materialise(time_s, values, repeat):
    """The repeated profile written out (sample 0 of each later repetition dropped)."""
    t = np.asarray(time_s, dtype=float)
    period = t[-1] - t[0]
    ts = [t] + [t[1:] + r * period for r in range(1, repeat)]
    vs = [np.asarray(values, dtype=float)] + [np.asarray(values, dtype=float)[1:] for _ in range(1, repeat)]
    return np.concatenate(ts), np.concatenate(vs)


def simulate(spec, time_s, soc, temperature_K, current_A=None, multipliers=None):
    """Final states, q, r and EFC of one cell over a (materialised) profile, residue counted."""
    if spec.get("throughput_basis", "present_capacity") == "nominal_capacity":
        return simulate_nominal(spec, time_s, soc, temperature_K, current_A, multipliers)
    t = np.asarray(time_s, dtype=float)
    x = np.asarray(soc, dtype=float)
    T = np.asarray(temperature_K, dtype=float) * np.ones_like(t)
    qnom = spec["nominal_capacity_Ah"]
    tfac = spec.get("throughput_factor", 1.0)
    states = spec["states"]
    mult = multipliers if multipliers is not None else [1.0] * len(states)
    y = [s.get("initial", 0.0) for s in states]
    scale = []
    for s in states:
        d = s["driver"]
        base = {"time_s": 1.0, "time_hours": 1 / 3600, "time_days": 1 / 86400, "step_efc": 1.0,
                "step_throughput_Ah": qnom * tfac, "cycle_efc": 1.0, "cycle_throughput_Ah": qnom * tfac,
                "cycle_count": 1.0}[d]
        scale.append(base * s.get("driver_scale", 1.0))
    crate = step_crates(t, x, current_A, qnom)
    efc = 0.0
    for k in range(len(t) - 1):
        dt = t[k + 1] - t[k]
        dsoc = abs(x[k + 1] - x[k])
        efc += 0.5 * dsoc
        st = _stress(spec, 0.5 * (T[k] + T[k + 1]), 0.5 * (x[k] + x[k + 1]), crate[k], 0.0)
        for i, s in enumerate(states):
            if s["driver"].startswith("time"):
                dx = dt * scale[i]
            elif s["driver"].startswith("step"):
                dx = 0.5 * dsoc * scale[i]
            else:
                continue
            y[i] = bounded(spec, s, advance(s, y[i], expr_value(s["k"], st) * mult[i], dx, st))
    for rng, mean, cnt, Tm, cm in cycles(t, x, T, crate, current_A is not None):
        st = _stress(spec, Tm, mean, cm, rng)
        for i, s in enumerate(states):
            if s["driver"] in ("cycle_efc", "cycle_throughput_Ah"):
                dx = cnt * rng * scale[i]
            elif s["driver"] == "cycle_count":
                dx = cnt * scale[i]
            else:
                continue
            y[i] = bounded(spec, s, advance(s, y[i], expr_value(s["k"], st) * mult[i], dx, st))
    q, r, groups = combine(spec, y)
    return {"states": {s["name"]: y[i] for i, s in enumerate(states)}, "q": q, "r": r, "efc": efc, "groups": groups}


def combine(spec, y):
    groups = spec["groups"]
    g = {name: gd.get("offset", 1.0) for name, gd in groups.items()}
    for i, s in enumerate(spec["states"]):
        tgt = groups[s["group"]]["target"]
        sign = s.get("sign", -1.0 if tgt == "capacity" else 1.0)
        g[s["group"]] += sign * y[i]
    for name, gd in groups.items():
        if gd.get("kind") == "inverse_of":
            g[name] = gd["c0"] + gd["c1"] / max(g[gd["of"]], 1e-6)
    caps = [n for n, gd in groups.items() if gd["target"] == "capacity"]
    ress = [n for n, gd in groups.items() if gd["target"] == "resistance"]
    if spec.get("capacity_combine", "sum") == "min":
        q = min(g[n] for n in caps)
    else:
        q = 1.0 + sum(g[n] - groups[n].get("offset", 1.0) for n in caps)
    if not ress:
        r = 1.0
    elif spec.get("resistance_combine", "sum") == "max":
        r = max(g[n] for n in ress)
    else:
        r = 1.0 + sum(g[n] - groups[n].get("offset", 1.0) for n in ress)
    return min(max(q, 0.0), 1e12), min(max(r, 0.0), 1e12), g


def simulate_nominal(spec, time_s, soc, temperature_K, current_A=None, multipliers=None):
    """``simulate`` for ``throughput_basis: nominal_capacity`` (BLAST-Lite's convention).

    Every SOC swing counts as throughput times the relative capacity q of the cell when the
    latest SOC reversal was confirmed (EFC, the SOC-derived C-rate, each rainflow cycle's depth).
    States now couple through q, so the cycles are applied in time order: a reversal is confirmed
    at the sample after the index ``rainflow.reversals`` reports (after that sample's step), q is
    taken then, and the cycles it closes are applied; the first point is pushed at sample 0, the
    last one and the residue at the end. The three-point rule is ASTM E1049-85 5.4.4 as in
    ``rainflow.extract_cycles``, and the cycles found are checked against that function.
    """
    t = np.asarray(time_s, dtype=float)
    x = np.asarray(soc, dtype=float)
    T = np.asarray(temperature_K, dtype=float) * np.ones_like(t)
    n = len(t)
    qnom = spec["nominal_capacity_Ah"]
    tfac = spec.get("throughput_factor", 1.0)
    states = spec["states"]
    mult = multipliers if multipliers is not None else [1.0] * len(states)
    y = [s.get("initial", 0.0) for s in states]
    scale = []
    for s in states:
        base = {"time_s": 1.0, "time_hours": 1 / 3600, "time_days": 1 / 86400, "step_efc": 1.0,
                "step_throughput_Ah": qnom * tfac, "cycle_efc": 1.0, "cycle_throughput_Ah": qnom * tfac,
                "cycle_count": 1.0}[s["driver"]]
        scale.append(base * s.get("driver_scale", 1.0))
    crate0 = step_crates(t, x, current_A, qnom)
    crate = np.zeros(n)
    state = {"qf": 1.0, "now": 0}
    found = []
    points = []

    def close(p1, p2, cnt):
        (i1, v1), (i2, v2) = p1, p2
        rng = abs(v1 - v2)
        found.append((rng, 0.5 * (v1 + v2), cnt, i1, i2))
        Tm, cm = segment_means(t, x, T, crate, i1, i2, current_A is not None)
        if Tm is None:
            Tm = T[state["now"]]
        st = _stress(spec, Tm, 0.5 * (v1 + v2), cm, rng)
        for i, s in enumerate(states):
            if s["driver"] in ("cycle_efc", "cycle_throughput_Ah"):
                dx = cnt * rng * state["qf"] * scale[i]
            elif s["driver"] == "cycle_count":
                dx = cnt * scale[i]
            else:
                continue
            y[i] = bounded(spec, s, advance(s, y[i], expr_value(s["k"], st) * mult[i], dx, st))

    def push(point):
        state["qf"] = combine(spec, y)[0]
        points.append(point)
        while len(points) >= 3:
            X = abs(points[-1][1] - points[-2][1])
            Y = abs(points[-2][1] - points[-3][1])
            if X < Y:
                break
            if len(points) == 3:
                close(points[0], points[1], 0.5)
                points.pop(0)
            else:
                close(points[-3], points[-2], 1.0)
                last = points.pop()
                points.pop()
                points.pop()
                points.append(last)

    revs = list(rainflow.reversals(list(x)))
    interior = {i + 1: (i, v) for i, v in revs[1:-1]} if n >= 3 else {}
    if revs:
        push(revs[0])
    efc = 0.0
    for k in range(n - 1):
        dt = t[k + 1] - t[k]
        dsoc = abs(x[k + 1] - x[k])
        qf = state["qf"]
        crate[k] = crate0[k] * qf if current_A is None else crate0[k]
        efc += 0.5 * dsoc * qf
        st = _stress(spec, 0.5 * (T[k] + T[k + 1]), 0.5 * (x[k] + x[k + 1]), crate[k], 0.0)
        for i, s in enumerate(states):
            if s["driver"].startswith("time"):
                dx = dt * scale[i]
            elif s["driver"].startswith("step"):
                dx = 0.5 * dsoc * qf * scale[i]
            else:
                continue
            y[i] = bounded(spec, s, advance(s, y[i], expr_value(s["k"], st) * mult[i], dx, st))
        state["now"] = k + 1
        if k + 1 in interior:
            push(interior[k + 1])
    if n >= 3:
        push(revs[-1])
    while len(points) > 1:
        close(points[0], points[1], 0.5)
        points.pop(0)
    assert found == list(rainflow.extract_cycles(list(x))), "cycle bookkeeping differs from rainflow"
    q, r, groups = combine(spec, y)
    return {"states": {s["name"]: y[i] for i, s in enumerate(states)}, "q": q, "r": r, "efc": efc, "groups": groups}
