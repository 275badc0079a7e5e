"""The population forecast's two inner loops: aligning reference capacity trajectories to a
cell's history, and the quantiles of the mixture of aligned references.

For each reference (cycles ``xp``, relative capacity ``fp``) and each stretch ``s`` of the cycle
axis that keeps the history inside the reference (``s * n_last <= xp_last``), the reference at
the stretched cycles, ``r_i = interp(s n_i, xp, fp)`` (``numpy.interp``'s rule, point for point),
is scaled by the weighted least-squares factor ``a = sum w r c / sum w r^2`` and scored by
``rmse = sqrt(sum w (c - a r)^2 / N)``; the stretch with the smallest rmse (the first of equal
ones) is the reference's alignment. The forecast's median and band edges are quantiles of a
Gaussian mixture, solved point by point (``mixture_quantiles``).
``batterylab.grading.trajectory`` describes the forecast; ``tests/test_forecast_kernel.py``
checks both kernels against numpy references.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import helper, kernel


@helper(inline="always")
def _interp(x, xp, fp, lo, hi, p):
    """``numpy.interp(x, xp[lo:hi], fp[lo:hi])`` for ``x <= xp[hi - 1]``, with the search
    started at ``p`` (x does not decrease from call to call); returns (value, new p). The search
    steps forward a few points, then bisects the rest: the last index with xp <= x (or ``lo``)."""
    steps = 0
    while p + 1 < hi and xp[p + 1] <= x:
        p += 1
        steps += 1
        if steps == 4 and p + 1 < hi and xp[p + 1] <= x:
            a = p + 1  # xp[a] <= x
            b = hi  # xp[b] > x, or the end
            while b - a > 1:
                mid = (a + b) // 2
                if xp[mid] <= x:
                    a = mid
                else:
                    b = mid
            p = a
            break
    if x < xp[lo]:
        return fp[lo], p
    if p == hi - 1 or xp[p] == x:
        return fp[p], p
    slope = (fp[p + 1] - fp[p]) / (xp[p + 1] - xp[p])
    v = slope * (x - xp[p]) + fp[p]
    if math.isnan(v):
        v = slope * (x - xp[p + 1]) + fp[p + 1]
        if math.isnan(v) and fp[p] == fp[p + 1]:
            v = fp[p]
    return v, p


@kernel
def align_references(n, c, wt, stretches, xp, fp, starts, out):
    """Best alignment of every reference ``j`` (points ``starts[j]:starts[j + 1]`` of ``xp``,
    ``fp``) to the history ``c(n)`` (``n`` ascending) with weights ``wt``: ``out[j]`` = (rmse,
    stretch, scale), or (inf, 1, 1) where no stretch keeps the history inside the reference or
    every stretched reference is zero."""
    npts = n.shape[0]
    r = np.empty(npts)
    for j in range(starts.shape[0] - 1):
        lo = starts[j]
        hi = starts[j + 1]
        best = np.inf
        best_s = 1.0
        best_a = 1.0
        found = False
        for k in range(stretches.shape[0]):
            s = stretches[k]
            if s * n[npts - 1] > xp[hi - 1]:
                break  # stretches ascend: the later ones reach beyond the reference too
            p = lo
            den = 0.0
            num = 0.0
            for i in range(npts):
                v, p = _interp(s * n[i], xp, fp, lo, hi, p)
                r[i] = v
                den += v * v * wt[i]
                num += v * (wt[i] * c[i])
            if not den > 0.0:
                continue
            a = num / den
            sse = 0.0
            for i in range(npts):
                d = c[i] - a * r[i]
                sse += d * d * wt[i]
            rmse = math.sqrt(sse / npts)
            if not found or rmse < best:
                best = rmse
                best_s = s
                best_a = a
                found = True
        out[j, 0] = best if found else np.inf
        out[j, 1] = best_s if found else 1.0
        out[j, 2] = best_a if found else 1.0


@helper(inline="always")
def _ndtr(z):
    """The standard normal distribution function (the branches of Cephes' ``ndtr``, which
    ``scipy.special.ndtr`` uses: erf near 0, erfc in the tails)."""
    x = z * 0.7071067811865476
    a = abs(x)
    if a < 0.7071067811865476:
        return 0.5 + 0.5 * math.erf(x)
    y = 0.5 * math.erfc(a)
    return 1.0 - y if x > 0.0 else y


@kernel
def mixture_quantiles(mu, sd, w, probs, x0, lo0, hi0, tol, max_iter, out):
    """``out[j, i]``: the ``probs[j]`` quantile of the Gaussian mixture of point ``i`` (means
    ``mu[i]``, deviations ``sd[i]``, weights ``w``): the root of F(x) = sum_k w_k Phi((x - mu_ik) /
    sd_ik) = p, to |F - p| <= ``tol``, from ``x0[j, i]`` inside the bracket [lo0[i], hi0[i]].

    Newton steps are kept inside a bracket that every evaluation shrinks; a step that would leave
    it is a bisection, and so is every third step where the bracket has not halved over the last
    three. A point stops as soon as it is within ``tol`` (or after ``max_iter`` steps)."""
    K = w.shape[0]
    for j in range(probs.shape[0]):
        p = probs[j]
        for i in range(mu.shape[0]):
            x = x0[j, i]
            lo = lo0[i]
            hi = hi0[i]
            width_before = hi - lo
            for it in range(max_iter):
                f = 0.0
                dens = 0.0
                for k in range(K):
                    z = (x - mu[i, k]) / sd[i, k]
                    f += _ndtr(z) * w[k]
                    dens += math.exp(-0.5 * z * z) / sd[i, k] * w[k]
                err = f - p
                if abs(err) <= tol:
                    break
                if err < 0.0:
                    lo = x
                elif err > 0.0:
                    hi = x
                newton = x - err / max(dens * 0.3989422804014327, 1e-300)
                inside = newton > lo and newton < hi
                if it % 3 == 2:
                    inside = inside and (hi - lo) <= 0.5 * width_before
                    width_before = hi - lo
                x = newton if inside else 0.5 * (lo + hi)
            out[j, i] = x
