"""Polynomial interpolation through Chebyshev points, in the barycentric form.

The interpolant of values ``f_i`` at the Chebyshev points of the second kind ``x_i`` (the
extrema of the Chebyshev polynomial, end points included) is

    p(x) = sum_i (w_i f_i / (x - x_i)) / sum_i (w_i / (x - x_i)),    w_i = (-1)^i (halved at the ends)

(Berrut and Trefethen 2004, "Barycentric Lagrange interpolation", SIAM Review 46, eq. 5.4): stable
for any number of points, and for a function analytic near the interval its error falls
geometrically with the number of points.
"""

from __future__ import annotations

import numpy as np

from .jit import kernel


def chebyshev_points(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` Chebyshev points of the second kind on [lo, hi], from ``hi`` down to ``lo``."""
    if n == 1:
        return np.array([0.5 * (lo + hi)])
    theta = np.pi * np.arange(n) / (n - 1)
    x = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(theta)
    x[0], x[-1] = hi, lo  # exact end points
    return x


def barycentric_weights(n: int) -> np.ndarray:
    """The barycentric weights of ``n`` Chebyshev points of the second kind."""
    w = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    if n > 1:
        w[0] *= 0.5
        w[-1] *= 0.5
    return w


@kernel
def barycentric(xn, w, values, const, x, out):
    """``out[c, j]``: the polynomial through ``(xn[i], values[i, j])`` at ``x[c]``.

    Columns with ``const[j]`` copy ``values[0, j]``; a point that is a node copies that node's row,
    so the result there is the node's to the bit. Each point's sums run in node order, whatever
    block of points a call gets.
    """
    n = xn.shape[0]
    lam = np.empty(n)
    for c in range(x.shape[0]):
        hit = -1
        for i in range(n):
            d = x[c] - xn[i]
            if d == 0.0:
                hit = i
                break
            lam[i] = w[i] / d
        if hit >= 0:
            for j in range(values.shape[1]):
                out[c, j] = values[hit, j]
            continue
        total = 0.0
        for i in range(n):
            total += lam[i]
        for i in range(n):
            lam[i] /= total
        for j in range(values.shape[1]):
            if const[j]:
                out[c, j] = values[0, j]
            else:
                acc = 0.0
                for i in range(n):
                    acc += lam[i] * values[i, j]
                out[c, j] = acc
