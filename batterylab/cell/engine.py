"""The one place batterylab builds and solves PyBaMM models.

:class:`~batterylab.cell.CellModel` drives the shipped cell sets through these functions, and so
does every other module that needs PyBaMM (the solid-state half-cell, the physics-calibration
design runs, the synthetic OCV curves, the closed-loop lifetime), so that model classes, meshes,
the solver, experiments and the translation of PyBaMM's failures into batterylab errors are
defined once.

- :func:`pybamm_model` — a PyBaMM SPM / SPMe / DFN with options (bad combinations raise
  :class:`~batterylab.errors.OptionError`);
- :func:`experiment`, :func:`solver` — a PyBaMM experiment and the IDAKLU solver;
- :func:`simulation` — a ``pybamm.Simulation`` of a model, parameter values, mesh, experiment;
- :func:`solve` — solve it; failures become one clear batterylab error naming the run.

PyBaMM is imported only when one of them is called.
"""

from __future__ import annotations

import warnings

from ..errors import BatterylabError, InputError, OptionError, ParameterError, RunError
from .options import MODELS


class CellSimulationError(RunError):
    """PyBaMM could not build or solve the model (the message says which run and why)."""


def pybamm_model(kind: str, options: dict | None = None, *, name: str | None = None):
    """A PyBaMM lithium-ion model: ``kind`` one of :data:`~batterylab.cell.MODELS`."""
    import pybamm

    if kind not in MODELS:
        from ..errors import unknown_option

        raise unknown_option("model", kind, MODELS)
    cls = getattr(pybamm.lithium_ion, MODELS[kind])
    kw = {} if name is None else {"name": name}
    try:
        return cls(dict(options or {}), **kw)
    except pybamm.OptionError as exc:
        raise OptionError(f"{kind} with options {options}: {exc}") from None


def mesh_points(points: dict | None):
    """PyBaMM's ``var_pts`` from points per domain (``{"x_n": 20, "r_p": 30, ...}``; None: PyBaMM's)."""
    if points is None:
        return None
    import pybamm

    return {getattr(pybamm.standard_spatial_vars, k): int(v) for k, v in points.items()}


def experiment(steps, *, period_s: float | None = None):
    """A ``pybamm.Experiment`` of step strings (or tuples of them, one per cycle)."""
    import pybamm

    kw = {} if period_s is None else {"period": f"{float(period_s):.17g} seconds"}
    try:
        return pybamm.Experiment(list(steps), **kw)
    except Exception as exc:
        raise InputError(f"experiment {list(steps)!r} could not be parsed: {' '.join(str(exc).split())}") from None


def solver(rtol: float | None = None, atol: float | None = None):
    """PyBaMM's IDAKLU solver (PyBaMM's default tolerances where not given)."""
    import pybamm

    kw = {k: float(v) for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    return pybamm.IDAKLUSolver(**kw)


def simulation(model, parameter_values, *, experiment=None, solver=None, mesh: dict | None = None,
               what: str = "simulation", error: type[RunError] = CellSimulationError):
    """A ``pybamm.Simulation``; ``mesh`` is points per domain (see :func:`mesh_points`); a set-up
    failure raises ``error`` naming ``what``."""
    import pybamm

    kw = {k: v for k, v in (("experiment", experiment), ("solver", solver)) if v is not None}
    var_pts = mesh_points(mesh)
    if var_pts is not None:
        kw["var_pts"] = var_pts
    try:
        return pybamm.Simulation(model, parameter_values=parameter_values, **kw)
    except BatterylabError:
        raise
    except Exception as exc:
        raise error(f"{what}: could not set up the simulation: {exc}") from None


def solve(sim, what: str, *, model: str = "the model", parameters: str = "the parameter values",
          error: type[RunError] = CellSimulationError, quiet: bool = False, zero_hint: str = "", **kwargs):
    """``sim.solve(**kwargs)``; a failure raises one batterylab error.

    ``what`` names the run, ``model`` the model and its options, ``parameters`` the parameter
    set (all go into the message); ``error`` is the class raised for solver failures;
    ``zero_hint`` is added to the message of a division by a zero parameter; ``quiet`` silences
    PyBaMM's warnings (long design runs), otherwise only the cut-off warnings of experiments are
    silenced (the termination is in the solution).
    """
    import pybamm

    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            else:
                warnings.filterwarnings("ignore", message=".*[Ii]nfeasible.*")
            return sim.solve(**kwargs)
    except BatterylabError:
        raise
    except KeyError as exc:
        raise ParameterError(f"{what}: {parameters} lacks a parameter {model} needs: {exc}") from None
    except pybamm.OptionError as exc:
        raise OptionError(f"{what}: {exc}") from None
    except ZeroDivisionError:
        raise ParameterError(f"{what}: {parameters} has a zero parameter {model} divides by{zero_hint}") from None
    except Exception as exc:  # solver failures, model errors: one clear message
        msg = " ".join(str(exc).split())[:800]
        raise error(
            f"{what}: PyBaMM could not solve {model} ({type(exc).__name__}: {msg}). "
            "Check that the duty stays within the cell's voltage window and validity range."
        ) from None
