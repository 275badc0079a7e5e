"""Analytical Neumann (Stefan) solutions for melting a semi-infinite slab from a hot wall.

Melting from ``x = 0`` held at ``T_w > T_m``; the solid starts at ``T_i <= T_m``. The front is at
``X(t) = 2 lambda sqrt(alpha_l t)`` where ``lambda`` solves (two-phase, Neumann; Alexiades &
Solomon 1993, *Mathematical Modeling of Melting and Freezing Processes*, eq. 2.3.14,
doi:10.1201/9780203749449; Carslaw & Jaeger 1959, section 11.2)::

    St_l / (exp(lambda^2) erf(lambda)) - St_s / (nu exp(nu^2 lambda^2) erfc(nu lambda)) = lambda sqrt(pi)

with ``St_l = c_l (T_w - T_m)/L``, ``St_s = c_s (T_m - T_i)/L``, ``nu = sqrt(alpha_l/alpha_s)``.
The one-phase case (``T_i = T_m``) drops the solid term. Temperature profiles::

    liquid (x < X): T = T_w - (T_w - T_m) erf(x / (2 sqrt(alpha_l t))) / erf(lambda)
    solid  (x > X): T = T_i + (T_m - T_i) erfc(x / (2 sqrt(alpha_s t))) / erfc(nu lambda)

Valid for constant properties in each phase, an isothermal phase change, equal densities and a
semi-infinite domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import as_float_array, finite_scalar, positive, temperature_K
from ..errors import InputError


@dataclass(frozen=True)
class NeumannProblem:
    """Properties [SI] of a Neumann melting problem (the solid and liquid share ``rho``)."""

    k_l: float  # liquid conductivity [W m-1 K-1]
    k_s: float  # solid conductivity [W m-1 K-1]
    rho: float  # density [kg m-3]
    c_l: float  # liquid specific heat [J kg-1 K-1]
    c_s: float  # solid specific heat [J kg-1 K-1]
    latent_J_kg: float  # latent heat [J kg-1]
    melt_K: float  # melting temperature [K]
    wall_K: float  # wall temperature [K] (> melt_K)
    initial_K: float  # initial solid temperature [K] (<= melt_K)

    @property
    def alpha_l(self) -> float:
        return self.k_l / (self.rho * self.c_l)

    @property
    def alpha_s(self) -> float:
        return self.k_s / (self.rho * self.c_s)

    @property
    def stefan_liquid(self) -> float:
        return self.c_l * (self.wall_K - self.melt_K) / self.latent_J_kg

    @property
    def stefan_solid(self) -> float:
        return self.c_s * (self.melt_K - self.initial_K) / self.latent_J_kg


def _residual(lam, p: NeumannProblem) -> float:
    from scipy.special import erf

    nu = np.sqrt(p.alpha_l / p.alpha_s)
    left = p.stefan_liquid / (np.exp(lam**2) * erf(lam))
    # the solid term written with erfcx to stay finite for large nu*lambda: exp(x^2) erfc(x) = erfcx(x)
    from scipy.special import erfcx

    solid = p.stefan_solid / (nu * erfcx(nu * lam)) if p.stefan_solid > 0 else 0.0
    return left - solid - lam * np.sqrt(np.pi)


def _check_problem(p) -> None:
    if not isinstance(p, NeumannProblem):
        raise InputError(f"p must be a NeumannProblem, got {type(p).__name__} {p!r:.60}")
    for name, unit in (("k_l", "W m-1 K-1"), ("k_s", "W m-1 K-1"), ("rho", "kg m-3"), ("c_l", "J kg-1 K-1"),
                       ("c_s", "J kg-1 K-1"), ("latent_J_kg", "J kg-1")):
        positive(name, getattr(p, name), unit)
    for name in ("melt_K", "wall_K", "initial_K"):
        temperature_K(name, getattr(p, name))


def _times(name: str, time_s, *, scalar: bool = False) -> np.ndarray:
    """Times since the wall was heated [s]: finite and >= 0 (> 0 where a profile is asked for)."""
    if scalar:
        return np.asarray(positive(name, time_s, "s"))
    t = as_float_array(name, time_s, ndim=None)
    if (t < 0).any():
        raise InputError(f"{name} must be >= 0 s (time since the wall was heated), got {float(t[t < 0].ravel()[0])} s")
    return t


def neumann_lambda(p: NeumannProblem) -> float:
    """The root ``lambda`` [-] of the Neumann transcendental equation (one- or two-phase)::

        St_l / (exp(lam^2) erf(lam)) - St_s / (nu exp(nu^2 lam^2) erfc(nu lam)) = lam sqrt(pi)
    """
    from scipy.optimize import brentq

    _check_problem(p)
    finite_scalar("wall_K", p.wall_K, low=p.melt_K, inclusive=False, unit="K (> melt_K)")
    finite_scalar("initial_K", p.initial_K, high=p.melt_K, unit="K (<= melt_K)")
    hi = 1.0
    while _residual(hi, p) > 0:
        hi *= 2.0
    return float(brentq(_residual, 1e-12, hi, args=(p,), xtol=1e-15, rtol=1e-14))


def front_position_m(p: NeumannProblem, time_s) -> np.ndarray:
    """Melt-front position ``2 lambda sqrt(alpha_l t)`` [m] at ``time_s`` [s]."""
    lam = neumann_lambda(p)
    return 2.0 * lam * np.sqrt(p.alpha_l * _times("time_s", time_s))


def temperature_profile_K(p: NeumannProblem, x_m, time_s: float) -> np.ndarray:
    """Analytical temperature [K] at positions ``x_m`` [m] and time ``time_s`` [s] > 0."""
    from scipy.special import erf, erfc

    lam = neumann_lambda(p)
    time_s = float(_times("time_s", time_s, scalar=True))
    x = as_float_array("x_m", x_m, ndim=None)
    if (x < 0).any():
        raise InputError(f"x_m must be >= 0 m (distance from the heated wall), got {float(x[x < 0].ravel()[0])} m")
    nu = np.sqrt(p.alpha_l / p.alpha_s)
    front = 2.0 * lam * np.sqrt(p.alpha_l * time_s)
    liquid = p.wall_K - (p.wall_K - p.melt_K) * erf(x / (2.0 * np.sqrt(p.alpha_l * time_s))) / erf(lam)
    solid = p.initial_K + (p.melt_K - p.initial_K) * erfc(x / (2.0 * np.sqrt(p.alpha_s * time_s))) / erfc(nu * lam)
    return np.where(x < front, liquid, solid)


# The two verification problems: an RT28HC-like paraffin (two-phase) and a higher-conductivity
# paraffin composite (one-phase).
def two_phase_problem() -> NeumannProblem:
    """k = 0.2 W m-1 K-1, rho = 800 kg m-3, c = 2000 J kg-1 K-1, L = 222.19 kJ kg-1, T_m = 28 degC,
    wall 38 degC, initial 18 degC."""
    return NeumannProblem(0.2, 0.2, 800.0, 2000.0, 2000.0, 222190.0, 301.15, 311.15, 291.15)


def one_phase_problem() -> NeumannProblem:
    """k = 1.5 W m-1 K-1, rho = 870 kg m-3, c = 2500 J kg-1 K-1, L = 179 kJ kg-1, T_m = 26 degC,
    wall 36 degC, solid initially at the melting temperature."""
    return NeumannProblem(1.5, 1.5, 870.0, 2500.0, 2500.0, 179000.0, 299.15, 309.15, 299.15)
