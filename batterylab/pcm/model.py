"""Public API of the PCM heat models: grids, boundary conditions, input checks, results.

Two models run on the compiled core (:mod:`batterylab.kernels.pcm`):

- :func:`simulate_1d`: the fixed-grid enthalpy method on a 1D slab or a cylindrical shell around a
  cell (finite volumes; harmonic-mean face conductivity; mushy range; four boundary conditions,
  one of which couples a lumped cell node through a thermal resistance);
- :func:`simulate_lumped`: a cell node and a PCM node, many cells in parallel, for years of
  minutes.

Both are explicit with an automatic substep under the computed stability limit and return an
energy ledger (energy in, stored, relative closure error), conserved to round-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import as_float_array, finite_scalar, integer, positive, temperature_K, time_array
from .. import citations
from .._deprecation import renamed_kwargs
from ..errors import InputError, unknown_option
from ..io.results import Result, new_axes
from .materials import Material

BOUNDARY_KINDS = {"flux": 0, "temperature": 1, "convective": 2, "cell": 3}
#: A 1D run needing more node-substeps than this under its explicit stability limit is refused
#: before it starts (at about 4e8 node-substeps per second measured on one core, 1e11 is minutes;
#: a grid of micrometre nodes asks for hours).
MAX_NODE_SUBSTEPS = 1e11


def _cite():
    citations.register("VollerCross1981", "V. R. Voller, M. Cross, Accurate solutions of moving boundary problems using "
                       "the enthalpy method, Int. J. Heat Mass Transfer 24 (1981) 545, doi:10.1016/0017-9310(81)90062-4")
    citations.register("Alexiades1993", "V. Alexiades, A. D. Solomon, Mathematical Modeling of Melting and Freezing "
                       "Processes, Hemisphere, 1993, doi:10.1201/9780203749449")


@dataclass
class Grid:
    """A 1D finite-volume grid: node volumes [m3], face areas [m2] (n+1), half-widths [m]."""

    geometry: str
    centre_m: np.ndarray
    faces_m: np.ndarray
    volume_m3: np.ndarray
    area_m2: np.ndarray
    half_left_m: np.ndarray
    half_right_m: np.ndarray

    @property
    def n(self) -> int:
        return self.centre_m.size


def slab_grid(thickness_m: float, n_nodes: int, area_m2: float = 1.0) -> Grid:
    """A uniform slab of ``thickness_m`` [m] and cross-section ``area_m2`` [m2], ``n_nodes`` nodes."""
    thickness_m = positive("thickness_m", thickness_m, "m")
    area_m2 = positive("area_m2", area_m2, "m2")
    n = _n_nodes(n_nodes)
    faces = np.linspace(0.0, thickness_m, n + 1)
    dx = np.diff(faces)
    centre = 0.5 * (faces[1:] + faces[:-1])
    return Grid("slab", centre, faces, dx * area_m2, np.full(n + 1, area_m2), centre - faces[:-1],
                faces[1:] - centre)


def shell_grid(inner_radius_m: float, outer_radius_m: float, n_nodes: int, height_m: float = 1.0) -> Grid:
    """A cylindrical shell ``inner_radius_m < r < outer_radius_m`` [m] of height ``height_m`` [m].

    Face areas ``2 pi r H``, node volumes ``pi (r_o^2 - r_i^2) H``, node centres at mid-radius.
    """
    r_in = positive("inner_radius_m", inner_radius_m, "m")
    r_out = finite_scalar("outer_radius_m", outer_radius_m, low=r_in, inclusive=False, unit="m (> inner_radius_m)")
    height_m = positive("height_m", height_m, "m")
    n = _n_nodes(n_nodes)
    faces = np.linspace(r_in, r_out, n + 1)
    centre = 0.5 * (faces[1:] + faces[:-1])
    vol = np.pi * (faces[1:] ** 2 - faces[:-1] ** 2) * height_m
    area = 2.0 * np.pi * faces * height_m
    return Grid("shell", centre, faces, vol, area, centre - faces[:-1], faces[1:] - centre)


def _n_nodes(n_nodes) -> int:
    return integer("n_nodes", n_nodes, low=1)


@dataclass
class Boundary:
    """A boundary condition of :func:`simulate_1d`.

    kind: ``"flux"`` (value: heat flux into the domain [W m-2]), ``"temperature"`` (value: wall
    temperature [K]), ``"convective"`` (value: ambient temperature [K], coefficient: heat-transfer
    coefficient [W m-2 K-1]) or ``"cell"`` (left side only; value: cell heat generation [W],
    coefficient: cell-to-PCM thermal resistance [K W-1]). ``value`` is a number or one value per
    time interval.
    """

    kind: str = "flux"
    value: float | np.ndarray = 0.0
    coefficient: float = 0.0

    def __post_init__(self):
        if not isinstance(self.kind, str) or self.kind not in BOUNDARY_KINDS:
            raise unknown_option("boundary kind", self.kind, BOUNDARY_KINDS)
        as_float_array("value", np.atleast_1d(self.value) if np.ndim(self.value) == 0 else self.value)
        finite_scalar("coefficient", self.coefficient, low=0.0)


def _interval_values(name: str, value, m: int) -> np.ndarray:
    arr = as_float_array(name, np.atleast_1d(value))
    if arr.size == 1:
        return np.full(m, arr[0])
    if arr.size != m:
        raise InputError(f"{name} must be a number or one value per time interval ({m}), got {arr.size} values")
    return arr


def _check_boundary(side: str, b: Boundary, m: int):
    if b.kind not in BOUNDARY_KINDS:
        raise unknown_option(f"{side} boundary kind", b.kind, BOUNDARY_KINDS)
    code = BOUNDARY_KINDS[b.kind]
    values = _interval_values(f"{side}.value", b.value, m)
    coef = 0.0
    if code in (1, 2):
        temperature_K(f"{side}.value", values)
    if code == 2:
        coef = positive(f"{side}.coefficient (heat-transfer coefficient)", b.coefficient, "W m-2 K-1")
    if code == 3:
        if side != "left":
            raise InputError("a 'cell' boundary is supported on the left side only (the inner radius of a shell)")
        coef = finite_scalar(f"{side}.coefficient (thermal resistance)", b.coefficient, low=0.0, unit="K W-1")
    return code, coef, values


@dataclass
class Result1D(Result):
    """Result of :func:`simulate_1d` (all arrays over ``time_s``)."""

    time_s: np.ndarray
    grid: Grid
    enthalpy_J_kg: np.ndarray  # (m+1, n)
    temperature_K: np.ndarray  # (m+1, n)
    liquid_fraction: np.ndarray  # (m+1, n)
    cell_temperature_K: np.ndarray  # (m+1,)
    energy_in_left_J: np.ndarray
    energy_in_right_J: np.ndarray
    energy_stored_J: np.ndarray  # change since t0
    substeps: int
    mass_kg: float

    @property
    def melted_thickness_m(self) -> np.ndarray:
        """Liquid volume over the face area at the left boundary [m]: the melt-front position of
        a slab melting from the left."""
        return (self.liquid_fraction * self.grid.volume_m3).sum(axis=1) / self.grid.area_m2[0]

    @property
    def energy_error_relative(self) -> float:
        """max |stored - (in_left + in_right)| / max(|in_left| + |in_right|, |stored|)."""
        inflow = self.energy_in_left_J + self.energy_in_right_J
        scale = max(float(np.max(np.abs(self.energy_in_left_J) + np.abs(self.energy_in_right_J))),
                    float(np.max(np.abs(self.energy_stored_J))), 1e-300)
        return float(np.max(np.abs(self.energy_stored_J - inflow)) / scale)


    def _h5_contents(self) -> dict:
        from ..io import Variable

        t, x = ("time_s",), ("time_s", "x_m")
        v = {
            "time_s": Variable(self.time_s, "s", "Time [s]", t),
            "x_m": Variable(self.grid.centre_m, "m", f"Node centre ({self.grid.geometry}) [m]", ("x_m",)),
            "volume_m3": Variable(self.grid.volume_m3, "m3", "Node volume [m3]", ("x_m",)),
            "temperature_K": Variable(self.temperature_K, "K", "PCM temperature [K]", x),
            "liquid_fraction": Variable(self.liquid_fraction, "1", "PCM liquid fraction [-]", x),
            "enthalpy_J_kg": Variable(self.enthalpy_J_kg, "J/kg", "Specific enthalpy [J.kg-1]", x),
            "cell_temperature_K": Variable(self.cell_temperature_K, "K", "Lumped cell node temperature [K]", t),
            "energy_in_left_J": Variable(self.energy_in_left_J, "J", "Energy in through the left boundary [J]", t),
            "energy_in_right_J": Variable(self.energy_in_right_J, "J", "Energy in through the right boundary [J]", t),
            "energy_stored_J": Variable(self.energy_stored_J, "J", "Change of stored energy since the start [J]", t),
            "melted_thickness_m": Variable(self.melted_thickness_m, "m", "Liquid volume over the left face area [m]", t),
        }
        return {"variables": v, "config": {"geometry": self.grid.geometry, "mass_kg": self.mass_kg},
                "attrs": {"batterylab_result": "pcm_1d", "substeps": int(self.substeps)}}

    def summary(self) -> dict:
        """Final liquid fraction and melt thickness, peak temperature, energy balance error."""
        return {
            "duration_s": float(self.time_s[-1] - self.time_s[0]),
            "mass_kg": float(self.mass_kg),
            "final_liquid_fraction_mean": float(np.average(self.liquid_fraction[-1], weights=self.grid.volume_m3)),
            "final_melted_thickness_m": float(self.melted_thickness_m[-1]),
            "max_temperature_K": float(np.max(self.temperature_K)),
            "energy_stored_J": float(self.energy_stored_J[-1]),
            "energy_error_relative": float(self.energy_error_relative),
            "substeps": int(self.substeps),
        }

    def plot(self, ax=None):
        """PCM temperature against position at a few times (liquid fraction dashed, twin axis); returns ``ax``."""
        ax = new_axes(ax)
        x = self.grid.centre_m * 1e3
        idx = np.unique(np.linspace(0, self.time_s.size - 1, 5).astype(int))
        tx = ax.twinx()
        for k, i in enumerate(idx):
            ax.plot(x, self.temperature_K[i], color=f"C{k}", label=f"t = {self.time_s[i]:.4g} s")
            tx.plot(x, self.liquid_fraction[i], "--", color=f"C{k}", lw=0.8)
        ax.set_xlabel("position [mm]")
        ax.set_ylabel("PCM temperature [K]")
        tx.set_ylabel("liquid fraction [-] (dashed)")
        ax.legend(fontsize=7)
        return ax


def simulate_1d(grid: Grid, material: Material, time_s, initial_temperature_K, *, left: Boundary | None = None,
                right: Boundary | None = None, cell_capacity_J_K: float = 0.0, cell_initial_K=None,
                cell_ambient_conductance_W_K: float = 0.0, cell_ambient_K=None,
                density: str = "solid", safety: float = 0.9) -> Result1D:
    """Run the fixed-grid enthalpy method (:func:`batterylab.kernels.pcm.enthalpy_1d`).

    Parameters
    ----------
    grid : from :func:`slab_grid` or :func:`shell_grid`
    material : the PCM
    time_s : output times [s], strictly increasing; boundary values are constant in each interval
    initial_temperature_K : initial PCM temperature [K], a number or one per node
    left, right : :class:`Boundary` (default: adiabatic)
    cell_capacity_J_K : heat capacity of the lumped cell node [J K-1] (``left.kind == "cell"``)
    cell_initial_K : initial cell temperature [K] (default: the PCM's at the left node)
    cell_ambient_conductance_W_K : cell node straight to ambient [W K-1] (the cell's surfaces the
        PCM does not cover), with ambient ``cell_ambient_K`` [K] (number or one per interval)
    density : node-mass density, ``"solid"`` or ``"liquid"``
    safety : fraction of the explicit stability limit used, (0, 1]

    Returns
    -------
    Result1D
        Over ``time_s``: node ``temperature_K`` [K], ``enthalpy_J_kg`` [J kg-1],
        ``liquid_fraction`` [-], the cell node's ``cell_temperature_K`` [K], the energy ledger
        (``energy_in_left_J``, ``energy_in_right_J``, ``energy_stored_J`` [J]) and
        ``melted_thickness_m`` [m].

    Notes
    -----
    The fixed-grid enthalpy method [1]_ with a linear mushy range between solidus and liquidus,
    stepped explicitly under the computed stability limit; verified against the Neumann
    solutions of :mod:`batterylab.pcm.stefan` [2]_.

    References
    ----------
    .. [1] V. R. Voller, M. Cross, Accurate solutions of moving boundary problems using the
       enthalpy method, Int. J. Heat Mass Transfer 24 (1981) 545,
       doi:10.1016/0017-9310(81)90062-4
    .. [2] V. Alexiades, A. D. Solomon, Mathematical Modeling of Melting and Freezing Processes,
       Hemisphere, 1993, doi:10.1201/9780203749449
    """
    _cite()
    t = time_array("time_s", time_s)
    m = t.size - 1
    if not isinstance(grid, Grid):
        raise InputError(f"grid must be a Grid (see slab_grid, shell_grid), got {type(grid).__name__} {grid!r:.60}")
    if not isinstance(material, Material):
        raise InputError(f"material must be a Material (see load_material), got {type(material).__name__} "
                         f"{material!r:.60}")
    for side, b in (("left", left), ("right", right)):
        if b is not None and not isinstance(b, Boundary):
            raise InputError(f"{side} must be a Boundary or None, got {type(b).__name__} {b!r:.60}")
    left = left or Boundary()
    right = right or Boundary()
    lcode, lcoef, lval = _check_boundary("left", left, m)
    rcode, rcoef, rval = _check_boundary("right", right, m)
    safety = finite_scalar("safety", safety, low=0.0, high=1.0, inclusive=True)
    if safety == 0.0:
        raise InputError("safety must be > 0 (fraction of the stability limit), got 0")
    t0 = temperature_K("initial_temperature_K", as_float_array("initial_temperature_K", initial_temperature_K, ndim=None)
                       .reshape(-1))
    if t0.size not in (1, grid.n):
        raise InputError(f"initial_temperature_K must be a number or one value per node ({grid.n}), got {t0.size}")
    t0 = np.broadcast_to(t0, (grid.n,)).copy()
    mat = material.vector(density)
    h0 = material.enthalpy_J_kg(t0)
    cap = 0.0
    tc0 = float(t0[0])
    g_ca = finite_scalar("cell_ambient_conductance_W_K", cell_ambient_conductance_W_K, low=0.0, unit="W K-1")
    amb_ca = np.zeros(m)
    if lcode == 3:
        cap = positive("cell_capacity_J_K", cell_capacity_J_K, "J K-1")
        if cell_initial_K is not None:
            tc0 = temperature_K("cell_initial_K", float(cell_initial_K))
        if g_ca > 0.0:
            if cell_ambient_K is None:
                raise InputError("cell_ambient_K [K] is required with cell_ambient_conductance_W_K > 0")
            amb_ca = temperature_K("cell_ambient_K", _interval_values("cell_ambient_K", cell_ambient_K, m))
    elif g_ca > 0.0:
        raise InputError("cell_ambient_conductance_W_K needs a 'cell' left boundary")
    else:
        finite_scalar("cell_capacity_J_K", cell_capacity_J_K, low=0.0, unit="J K-1")
        for name, value in (("cell_capacity_J_K", cell_capacity_J_K or None), ("cell_initial_K", cell_initial_K),
                            ("cell_ambient_K", cell_ambient_K)):
            if value is not None:
                raise InputError(f"{name} applies to a 'cell' left boundary only (left.kind = 'cell'), got "
                                 f"{name} = {value!r:.40} with left.kind = {left.kind!r}")
    from ..kernels.pcm import enthalpy_1d, stable_step_1d, temperature_of_enthalpy

    codes, coefs = np.array([lcode, rcode], dtype=np.int64), np.array([lcoef, rcoef])
    dt = safety * stable_step_1d(grid.volume_m3, grid.area_m2, grid.half_left_m, grid.half_right_m, mat, codes, coefs,
                                 float(cap), float(g_ca))
    spans = np.diff(t)
    work = grid.n * float(np.sum(np.maximum(np.ceil(spans / dt), 1.0))) if dt > 0.0 else np.inf
    if work > MAX_NODE_SUBSTEPS:
        raise InputError(
            f"the explicit stability limit of this grid is {dt:.3g} s (nodes {2 * grid.half_left_m.min():.3g} m "
            f"thin at the finest): {work:.3g} node-substeps over time_s, more than MAX_NODE_SUBSTEPS = "
            f"{MAX_NODE_SUBSTEPS:.0e} (minutes to hours of run time); use fewer nodes (the step grows with the "
            f"square of a node's width) or a thicker layer, or raise batterylab.pcm.model.MAX_NODE_SUBSTEPS")
    h, tc, ledger = enthalpy_1d(t, grid.volume_m3, grid.area_m2, grid.half_left_m, grid.half_right_m, mat, h0,
                                codes, coefs, lval, rval,
                                float(cap), float(tc0), float(g_ca), amb_ca, float(safety))
    temp, frac = temperature_of_enthalpy(h.ravel(), mat)
    return Result1D(t, grid, h, temp.reshape(h.shape), frac.reshape(h.shape), tc, ledger[:, 0], ledger[:, 1],
                    ledger[:, 2], int(ledger[-1, 3]), float(mat[0] * grid.volume_m3.sum()))


@dataclass
class LumpedResult(Result):
    """Result of :func:`simulate_lumped`: records at ``time_s`` (every ``record_every`` interval)."""

    time_s: np.ndarray
    cell_temperature_K: np.ndarray  # (n_cells, r)
    pcm_temperature_K: np.ndarray
    liquid_fraction: np.ndarray
    generated_heat_J: np.ndarray  # (n_cells,)
    heater_energy_J: np.ndarray
    ambient_exchange_J: np.ndarray
    stored_change_J: np.ndarray
    peak_cell_temperature_K: np.ndarray
    min_cell_temperature_K: np.ndarray
    mushy_time_s: np.ndarray
    substeps: np.ndarray
    config: dict = field(default_factory=dict)

    @property
    def energy_error_relative(self) -> np.ndarray:
        """|stored - (generated + heater + ambient)| / (|generated| + |heater| + |ambient| + |stored|)."""
        inflow = self.generated_heat_J + self.heater_energy_J + self.ambient_exchange_J
        scale = (np.abs(self.generated_heat_J) + np.abs(self.heater_energy_J) + np.abs(self.ambient_exchange_J)
                 + np.abs(self.stored_change_J))
        return np.abs(self.stored_change_J - inflow) / np.maximum(scale, 1e-300)


    def _h5_contents(self) -> dict:
        from ..io import Variable

        c, ct = ("cell",), ("cell", "time_s")
        n = self.cell_temperature_K.shape[0]
        v = {
            "time_s": Variable(self.time_s, "s", "Time [s]", ("time_s",)),
            "cell": Variable(np.arange(n), "1", "Cell index", c),
            "cell_temperature_K": Variable(self.cell_temperature_K, "K", "Cell temperature [K]", ct),
            "pcm_temperature_K": Variable(self.pcm_temperature_K, "K", "PCM temperature [K]", ct),
            "liquid_fraction": Variable(self.liquid_fraction, "1", "PCM liquid fraction [-]", ct),
        }
        for name, unit, long in (("generated_heat_J", "J", "Heat generated in the cell [J]"),
                                 ("heater_energy_J", "J", "Heater energy [J]"),
                                 ("ambient_exchange_J", "J", "Energy in from the ambient [J]"),
                                 ("stored_change_J", "J", "Change of stored energy [J]"),
                                 ("peak_cell_temperature_K", "K", "Peak cell temperature [K]"),
                                 ("min_cell_temperature_K", "K", "Minimum cell temperature [K]"),
                                 ("mushy_time_s", "s", "Time the PCM spent melting or freezing [s]"),
                                 ("substeps", "1", "Kernel substeps [-]")):
            v[name] = Variable(np.asarray(getattr(self, name)), unit, long, c)
        return {"variables": v, "config": self.config, "attrs": {"batterylab_result": "pcm_lumped"}}

    def summary(self) -> dict:
        """Peak and minimum cell temperature, heat and energy balance over all cells."""
        return {
            "cells": int(self.cell_temperature_K.shape[0]),
            "duration_s": float(self.time_s[-1] - self.time_s[0]),
            "peak_cell_temperature_K": float(np.max(self.peak_cell_temperature_K)),
            "min_cell_temperature_K": float(np.min(self.min_cell_temperature_K)),
            "generated_heat_J": float(np.sum(self.generated_heat_J)),
            "heater_energy_J": float(np.sum(self.heater_energy_J)),
            "final_liquid_fraction_mean": float(np.mean(self.liquid_fraction[:, -1])),
            "energy_error_relative_max": float(np.max(self.energy_error_relative)),
        }

    def plot(self, ax=None):
        """Cell and PCM temperature over time (the spread over cells shaded); returns ``ax``."""
        ax = new_axes(ax)
        h = self.time_s / 3600.0
        for k, (name, y) in enumerate((("cell", self.cell_temperature_K), ("PCM", self.pcm_temperature_K))):
            ax.plot(h, y.mean(axis=0), color=f"C{k}", label=name)
            if y.shape[0] > 1:
                ax.fill_between(h, y.min(axis=0), y.max(axis=0), color=f"C{k}", alpha=0.2)
        ax.set_xlabel("time [h]")
        ax.set_ylabel("temperature [K]")
        ax.legend()
        return ax


def _per_cell(name, value, n, *, low=None, allow_inf=False) -> np.ndarray:
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise InputError(f"{name} must be a number or one value per cell, got {type(value).__name__} {value!r:.60}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number or one value per cell, got {type(value).__name__} {value!r:.60}") from None
    arr = np.broadcast_to(arr, (n,)).copy() if arr.ndim <= 1 and arr.size in (1, n) else arr
    if arr.shape != (n,):
        raise InputError(f"{name} must be a number or one value per cell ({n}), got shape {np.shape(value)}")
    bad = np.isnan(arr) | (np.isinf(arr) & (not allow_inf))
    if bad.any():
        raise InputError(f"{name} must be finite, got {arr[bad][0]!r}")
    if low is not None and (arr < low).any():
        raise InputError(f"{name} must be >= {low}, got {arr[arr < low][0]!r}")
    return arr


def _series(name, value, m, *, kelvin=False) -> np.ndarray:
    arr = as_float_array(name, value, ndim=None)
    if arr.ndim == 0:
        arr = np.full((1, m), float(arr))
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != m:
        raise InputError(f"{name} must be a number, one value per interval of time_s ({m}) or (n_cells, {m}), got "
                         f"shape {np.shape(value)}")
    as_float_array(name, arr, ndim=2)
    if kelvin:
        temperature_K(name, arr.ravel())
    return np.ascontiguousarray(arr)


@renamed_kwargs(ambient_K="ambient_temperature_K")
def simulate_lumped(time_s, heat_W, ambient_temperature_K, material: Material | list, *, pcm_mass_kg,
                    cell_capacity_J_K, cell_pcm_conductance_W_K, pcm_ambient_conductance_W_K=0.0,
                    cell_ambient_conductance_W_K=0.0, heater_W=0.0, heater_setpoint_K=np.inf,
                    cell_initial_K, pcm_initial_K=None, record_every: int = 1, density: str = "solid",
                    safety: float = 0.9) -> LumpedResult:
    """Lumped cell + PCM model (:func:`batterylab.kernels.pcm.lumped_two_node`) for one or many cells.

    Parameters
    ----------
    time_s : (m+1,) times [s]; inputs are constant over each interval
    heat_W : cell heat generation [W]: number, (m,) or (n_cells, m)
    ambient_temperature_K : ambient temperature [K]: number, (m,) or (n_cells, m)
    material : a :class:`Material` or one per cell
    pcm_mass_kg : PCM mass per cell [kg] (> 0)
    cell_capacity_J_K : cell heat capacity [J K-1]
    cell_pcm_conductance_W_K : conductance between cell and PCM, 1/R [W K-1]
    pcm_ambient_conductance_W_K : PCM to ambient, h A [W K-1]
    cell_ambient_conductance_W_K : direct cell to ambient path [W K-1]
    heater_W : heater power into the PCM [W] (number, (m,) or (n_cells, m)), on while the PCM is
        below ``heater_setpoint_K`` [K]
    cell_initial_K, pcm_initial_K : initial temperatures [K] (PCM default: the cell's)
    record_every : store every this many intervals (and the last)

    Returns
    -------
    LumpedResult
        Per cell at the recorded times: ``cell_temperature_K`` and ``pcm_temperature_K`` [K],
        ``liquid_fraction`` [-]; per cell: ``peak_cell_temperature_K`` [K], ``mushy_time_s``
        [s] and the energy ledger [J] (``energy_error_relative`` [-] closes to round-off).

    Notes
    -----
    The PCM node's temperature follows from its enthalpy as in the enthalpy method [1]_ (linear
    mushy range, as in [2]_); both nodes step explicitly under the computed stability limit.

    References
    ----------
    .. [1] V. R. Voller, M. Cross, Accurate solutions of moving boundary problems using the
       enthalpy method, Int. J. Heat Mass Transfer 24 (1981) 545,
       doi:10.1016/0017-9310(81)90062-4
    .. [2] V. Alexiades, A. D. Solomon, Mathematical Modeling of Melting and Freezing Processes,
       Hemisphere, 1993, doi:10.1201/9780203749449
    """
    _cite()
    t = time_array("time_s", time_s)
    m = t.size - 1
    mats = material if isinstance(material, (list, tuple)) else [material]
    for mm in mats:
        if not isinstance(mm, Material):
            raise InputError(f"material must be a Material (see load_material) or one per cell, got "
                             f"{type(mm).__name__} {mm!r:.60}")
    n = max(len(mats), np.size(pcm_mass_kg), np.size(cell_initial_K), np.size(cell_capacity_J_K),
            np.shape(heat_W)[0] if np.ndim(heat_W) == 2 else 1)
    if len(mats) not in (1, n):
        raise InputError(f"material must be one Material or one per cell ({n}), got {len(mats)}")
    matv = np.array([mm.vector(density) for mm in mats])
    mass = _per_cell("pcm_mass_kg", pcm_mass_kg, n, low=0.0)
    if (mass <= 0).any():
        raise InputError("pcm_mass_kg must be > 0 (to model no PCM, set cell_pcm_conductance_W_K and "
                         "pcm_ambient_conductance_W_K to 0)")
    cap = _per_cell("cell_capacity_J_K", cell_capacity_J_K, n, low=0.0)
    if (cap <= 0).any():
        raise InputError(f"cell_capacity_J_K must be > 0 J K-1, got {cap.min()}")
    gcp = _per_cell("cell_pcm_conductance_W_K", cell_pcm_conductance_W_K, n, low=0.0)
    gpa = _per_cell("pcm_ambient_conductance_W_K", pcm_ambient_conductance_W_K, n, low=0.0)
    gca = _per_cell("cell_ambient_conductance_W_K", cell_ambient_conductance_W_K, n, low=0.0)
    tset = _per_cell("heater_setpoint_K", heater_setpoint_K, n, allow_inf=True)
    if np.isfinite(tset).any():
        temperature_K("heater_setpoint_K", tset[np.isfinite(tset)])
    tc0 = temperature_K("cell_initial_K", _per_cell("cell_initial_K", cell_initial_K, n))
    tp0 = tc0.copy() if pcm_initial_K is None else temperature_K("pcm_initial_K", _per_cell("pcm_initial_K", pcm_initial_K, n))
    q = _series("heat_W", heat_W, m)
    p = _series("heater_W", heater_W, m)
    if (p < 0).any():
        raise InputError("heater_W must be >= 0 W")
    ta = _series("ambient_temperature_K", ambient_temperature_K, m, kelvin=True)
    record_every = integer("record_every", record_every, low=1)
    safety = finite_scalar("safety", safety, low=0.0, high=1.0)
    if safety == 0:
        raise InputError("safety must be > 0 (fraction of the stability limit), got 0")
    h0 = np.array([mats[i if len(mats) > 1 else 0].enthalpy_J_kg(tp0[i])[0] for i in range(n)])
    from ..kernels.pcm import lumped_two_node

    dt, steps = lumped_substeps(t, matv, mass, cap, gcp, gpa, gca, safety)
    work = float(steps.sum())
    if work > MAX_NODE_SUBSTEPS:
        i = int(np.argmin(dt))
        raise InputError(
            f"the explicit stability limit of cell {i} is {dt[i]:.3g} s (cell_capacity_J_K {cap[i]:.3g} J K-1, "
            f"pcm_mass_kg {mass[i]:.3g} kg against conductances {gcp[i] + gca[i] + gpa[i]:.3g} W K-1): "
            f"{work:.3g} substeps over time_s and the cells, more than MAX_NODE_SUBSTEPS = {MAX_NODE_SUBSTEPS:.0e} "
            f"(minutes to hours of run time); check the heat capacities and conductances (their units), or "
            f"raise batterylab.pcm.model.MAX_NODE_SUBSTEPS")

    tc, tp, f, led = lumped_two_node(t, q, p, ta, np.ascontiguousarray(matv), mass, cap, gcp, gpa, gca, tset, tc0, h0,
                                     int(record_every), float(safety))
    idx = np.arange(0, m + 1, int(record_every))
    if idx[-1] != m:
        idx = np.append(idx, m)
    return LumpedResult(t[idx], tc, tp, f, led[:, 0], led[:, 1], led[:, 2], led[:, 3], led[:, 4], led[:, 5],
                        led[:, 6], led[:, 7])


def lumped_substeps(time_s, matv, mass, cap, gcp, gpa, gca, safety):
    """Each cell's explicit step limit [s] and its substeps over ``time_s`` in
    :func:`batterylab.kernels.pcm.lumped_two_node` (its own rule, without running it; the test
    pins it to the kernel's counts): ``dt = safety * min(C_cell / (G_cp + G_ca), m c_min /
    (G_cp + G_pa))``, each interval split into ``ceil(span / dt)`` equal substeps."""
    from ..kernels.pcm import C_L, C_S

    c_min = np.broadcast_to(np.minimum(matv[:, C_S], matv[:, C_L]), mass.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        dt = np.minimum(np.where(gcp + gca > 0.0, cap / (gcp + gca), np.inf),
                        np.where(gcp + gpa > 0.0, mass * c_min / (gcp + gpa), np.inf)) * safety
    spans = np.diff(time_s)
    values, inverse = np.unique(dt, return_inverse=True)  # cells of a fleet mostly share their limit
    per = np.array([np.sum(np.maximum(np.ceil(spans / d), 1.0)) if np.isfinite(d) else float(spans.size)
                    for d in values])
    return dt, per[inverse]


def shell_outer_radius_m(inner_radius_m: float, height_m: float, volume_m3: float) -> float:
    """Outer radius [m] of a cylindrical shell of ``volume_m3`` [m3] around a cylinder of radius
    ``inner_radius_m`` [m] and height ``height_m`` [m]: ``sqrt(r_i^2 + V / (pi H))``."""
    r_i = positive("inner_radius_m", inner_radius_m, "m")
    h = positive("height_m", height_m, "m")
    v = positive("volume_m3", volume_m3, "m3")
    return float(np.sqrt(r_i**2 + v / (np.pi * h)))


def shell_conductance_W_K(material: Material, inner_radius_m: float, height_m: float, pcm_mass_kg: float,
                          contact_resistance_K_W: float = 0.0, density: str = "solid") -> float:
    """Conductance [W K-1] from a cylindrical cell's surface to the lumped node of a PCM shell
    around it: contact resistance plus radial conduction through the solid PCM from ``r_i`` to
    the radius that halves the shell's volume, ``r_m = sqrt((r_i^2 + r_o^2) / 2)``::

        G = 1 / (R_c + ln(r_m / r_i) / (2 pi k_s H))

    (steady radial conduction in a cylinder, e.g. Incropera et al., Fundamentals of Heat and
    Mass Transfer, eq. 3.33). The solid conductivity is used: the slower phase sets the
    buffering rate when the PCM starts solid; natural convection in the melt is not modelled.
    """
    rho = {"solid": material.density_solid_kg_m3, "liquid": material.density_liquid_kg_m3}
    if density not in rho:
        raise unknown_option("density", density, rho)
    m = positive("pcm_mass_kg", pcm_mass_kg, "kg")
    r_c = finite_scalar("contact_resistance_K_W", contact_resistance_K_W, low=0.0, unit="K W-1")
    r_i = positive("inner_radius_m", inner_radius_m, "m")
    r_o = shell_outer_radius_m(r_i, height_m, m / rho[density])
    r_m = np.sqrt(0.5 * (r_i**2 + r_o**2))
    return float(1.0 / (r_c + np.log(r_m / r_i) / (2.0 * np.pi * material.conductivity_solid_W_m_K * height_m)))
