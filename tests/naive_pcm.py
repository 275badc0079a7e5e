"""Slow, obviously-correct pure-Python references of the PCM kernels (kernels/pcm.py).

Written from the equations in the kernels' docstring, with plain loops and no shared code.
"""

from __future__ import annotations

import math

import numpy as np


def h_liquidus(mat):
    rho, cs, cl, L, ts, tl, ks, kl = mat
    return 0.5 * (cs + cl) * (tl - ts) + L


def temperature(h, mat):
    rho, cs, cl, L, ts, tl, ks, kl = mat
    hl = h_liquidus(mat)
    if h <= 0:
        return ts + h / cs
    if hl <= 0:
        return ts + h / cl
    if h >= hl:
        return tl + (h - hl) / cl
    return ts + (tl - ts) * h / hl


def fraction(h, mat):
    hl = h_liquidus(mat)
    if h <= 0:
        return 0.0
    if h >= hl:
        return 1.0
    return h / hl


def enthalpy(t, mat):
    rho, cs, cl, L, ts, tl, ks, kl = mat
    hl = h_liquidus(mat)
    if t <= ts:
        return cs * (t - ts)
    if t >= tl:
        return hl + cl * (t - tl)
    return hl * (t - ts) / (tl - ts)


def _bc_conductance(code, coef, area, half, k):
    if code == 1:
        return area * k / half
    if code == 2:
        return 1.0 / (1.0 / (coef * area) + half / (k * area))
    if code == 3:
        return 1.0 / (coef + half / (k * area))
    return 0.0


def enthalpy_1d(time_s, vol, area, hl_, hr_, mat, h0, codes, coefs, lval, rval, cap, tc0, g_ca, amb_ca, safety):
    """Same scheme as kernels.pcm.enthalpy_1d, written node by node."""
    rho, cs, cl, L, ts, tl, ks, kl = mat
    n = len(vol)
    kmax, cmin = max(ks, kl), min(cs, cl)
    # stability limit
    dt_lim = math.inf
    for i in range(n):
        g = 0.0
        g += (area[i] / (hr_[i - 1] / kmax + hl_[i] / kmax)) if i > 0 else _bc_conductance(codes[0], coefs[0], area[0], hl_[0], kmax)
        g += (area[i + 1] / (hr_[i] / kmax + hl_[i + 1] / kmax)) if i < n - 1 else _bc_conductance(codes[1], coefs[1], area[n], hr_[n - 1], kmax)
        if g > 0:
            dt_lim = min(dt_lim, rho * vol[i] * cmin / g)
    if codes[0] == 3:
        dt_lim = min(dt_lim, cap / (_bc_conductance(3, coefs[0], area[0], hl_[0], kmax) + g_ca))
    dt_lim *= safety
    h = [float(x) for x in h0]
    tc = tc0
    out_h = [list(h)]
    out_c = [tc]
    e_left = e_right = 0.0
    for k in range(len(time_s) - 1):
        span = time_s[k + 1] - time_s[k]
        nsub = max(1, math.ceil(span / dt_lim)) if span > dt_lim else 1
        dt = span / nsub
        for _ in range(nsub):
            T = [temperature(x, mat) for x in h]
            kk = [ks + fraction(x, mat) * (kl - ks) for x in h]
            q = [0.0] * (n + 1)
            for i in range(1, n):
                q[i] = area[i] / (hr_[i - 1] / kk[i - 1] + hl_[i] / kk[i]) * (T[i - 1] - T[i])
            if codes[0] == 0:
                q[0] = lval[k] * area[0]
            elif codes[0] in (1, 2):
                q[0] = _bc_conductance(codes[0], coefs[0], area[0], hl_[0], kk[0]) * (lval[k] - T[0])
            else:
                q[0] = _bc_conductance(3, coefs[0], area[0], hl_[0], kk[0]) * (tc - T[0])
            if codes[1] == 0:
                q[n] = -rval[k] * area[n]
            else:
                q[n] = _bc_conductance(codes[1], coefs[1], area[n], hr_[n - 1], kk[n - 1]) * (T[n - 1] - rval[k])
            for i in range(n):
                h[i] += dt * (q[i] - q[i + 1]) / (rho * vol[i])
            if codes[0] == 3:
                q_ca = g_ca * (amb_ca[k] - tc)
                tc += dt * (lval[k] + q_ca - q[0]) / cap
                e_left += dt * (lval[k] + q_ca)
            else:
                e_left += dt * q[0]
            e_right -= dt * q[n]
        out_h.append(list(h))
        out_c.append(tc)
    return np.array(out_h), np.array(out_c), e_left, e_right


def lumped_one(time_s, heat, heater, amb, mat, mp, cap, gcp, gpa, gca, tset, tc0, hp0, safety):
    """One cell of kernels.pcm.lumped_two_node; returns full histories and the ledger dict."""
    rho, cs, cl, L, ts, tl, ks, kl = mat
    lim = math.inf
    if gcp + gca > 0:
        lim = min(lim, cap / (gcp + gca))
    if gcp + gpa > 0:
        lim = min(lim, mp * min(cs, cl) / (gcp + gpa))
    lim *= safety
    tc, hp = tc0, hp0
    tp = temperature(hp, mat)
    TC, TP, F = [tc], [tp], [fraction(hp, mat)]
    led = dict(gen=0.0, heat=0.0, amb=0.0, peak=tc, low=tc, mushy=0.0)
    hl = h_liquidus(mat)
    for k in range(len(time_s) - 1):
        span = time_s[k + 1] - time_s[k]
        nsub = math.ceil(span / lim) if span > lim else 1
        dt = span / nsub
        for _ in range(nsub):
            q_cp = gcp * (tc - tp)
            q_pa = gpa * (amb[k] - tp)
            q_ca = gca * (amb[k] - tc)
            p = heater[k] if tp < tset else 0.0
            if 0 < hp < hl:
                led["mushy"] += dt
            tc = tc + dt * (heat[k] + q_ca - q_cp) / cap
            hp = hp + dt * (q_cp + q_pa + p) / mp
            tp = temperature(hp, mat)
            led["gen"] += dt * heat[k]
            led["heat"] += dt * p
            led["amb"] += dt * (q_pa + q_ca)
            led["peak"] = max(led["peak"], tc)
            led["low"] = min(led["low"], tc)
        TC.append(tc)
        TP.append(tp)
        F.append(fraction(hp, mat))
    led["stored"] = (cap * tc + mp * hp) - (cap * tc0 + mp * hp0)
    return np.array(TC), np.array(TP), np.array(F), led


def sensible_two_node(time_s, heat, amb, c_pcm_J_K, cap, gcp, gpa, gca, tc0, tp0, dt_lim):
    """Linear (sensible-only) cell + mass model in temperature form, explicit with the same
    substep count rule (``dt_lim`` already includes the safety factor)."""
    tc, tp = tc0, tp0
    TC, TP = [tc], [tp]
    for k in range(len(time_s) - 1):
        span = time_s[k + 1] - time_s[k]
        nsub = math.ceil(span / dt_lim) if span > dt_lim else 1
        dt = span / nsub
        for _ in range(nsub):
            q_cp = gcp * (tc - tp)
            dtc = dt * (heat[k] + gca * (amb[k] - tc) - q_cp) / cap
            dtp = dt * (q_cp + gpa * (amb[k] - tp)) / c_pcm_J_K
            tc += dtc
            tp += dtp
        TC.append(tc)
        TP.append(tp)
    return np.array(TC), np.array(TP)
