"""The result of a cell simulation: numpy arrays in SI units with the unit in the name.

Sign convention: ``current_A`` and ``power_W`` are **discharge positive** (PyBaMM's convention).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.results import Result, new_axes, twin_plot

#: result attribute -> (PyBaMM variable, units, long_name). Every one is a time series.
SERIES = {
    "voltage_V": ("Voltage [V]", "V", "Terminal voltage [V]"),
    "current_A": ("Current [A]", "A", "Current, discharge positive [A]"),
    "power_W": ("Power [W]", "W", "Terminal power, discharge positive [W]"),
    "temperature_K": ("Volume-averaged cell temperature [K]", "K", "Volume-averaged cell temperature [K]"),
    "ambient_temperature_K": ("Ambient temperature [K]", "K", "Ambient temperature [K]"),
    "heat_W": ("Total heating [W]", "W", "Total heat generated in the cell, contact resistance included [W]"),
    "discharge_capacity_Ah": ("Discharge capacity [A.h]", "A.h", "Net charge discharged since the start [A.h]"),
    "throughput_Ah": ("Throughput capacity [A.h]", "A.h", "Cumulative absolute charge throughput [A.h]"),
    "throughput_energy_Wh": ("Throughput energy [W.h]", "W.h", "Cumulative absolute energy throughput [W.h]"),
    "ocv_V": ("Battery open-circuit voltage [V]", "V", "Battery open-circuit voltage [V]"),
    "lli_percent": ("Loss of lithium inventory [%]", "%", "Loss of lithium inventory [%]"),
    "lam_negative_percent": ("Loss of active material in negative electrode [%]", "%", "Loss of active material in negative electrode [%]"),
    "lam_positive_percent": ("Loss of active material in positive electrode [%]", "%", "Loss of active material in positive electrode [%]"),
    "capacity_lost_to_side_reactions_Ah": ("Total capacity lost to side reactions [A.h]", "A.h", "Total capacity lost to side reactions [A.h]"),
}
#: Derived series (not PyBaMM variables).
DERIVED = {
    "time_s": ("s", "Time [s]"),
    "soc": ("1", "State of charge, initial_soc minus discharged charge over nominal capacity [-]"),
}


def total_heat_W(solution, total=None) -> np.ndarray:
    """The cell's heat generation [W]: PyBaMM's ``Total heating [W]`` plus, with the
    ``"contact resistance"`` option, the lumped model's contact-resistance Joule heat (a separate
    source term of its energy balance, not part of ``Total heating``)."""
    if total is None:
        total = np.asarray(solution["Total heating [W]"].entries, dtype=np.float64).reshape(-1)
    try:
        contact = np.asarray(solution["Lumped contact resistance heating [W]"].entries, dtype=np.float64).reshape(-1)
    except KeyError:
        return total
    return total + contact


class EarlyStopWarning(UserWarning):
    """A cell run ended before the end of its duty, at a voltage or other limit (the result holds
    the run up to there; ``result.completed`` is False). The message says where and what to change."""


@contextlib.contextmanager
def expect_early_stop():
    """A context in which :class:`EarlyStopWarning` is not issued: for callers that run a duty to a
    voltage limit on purpose (a discharge to the cut-off) or handle ``result.completed`` themselves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EarlyStopWarning)
        yield


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in the caller that names the first frame outside
    batterylab (the user's line, however deep the call went inside the package)."""
    import os
    import sys

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _stop_advice(termination: str, initial_soc) -> str:
    """What to change so that the whole duty runs, for the limit that stopped it."""
    soc = "initial_soc / --initial-soc" + ("" if initial_soc is None else f", it was {initial_soc:g}")
    t = termination.lower()
    if "maximum voltage" in t:
        first = (f"start at a lower initial SOC ({soc}): charge or regenerative braking reached the upper voltage "
                 "limit near full charge")
    elif "minimum voltage" in t:
        first = f"start at a higher initial SOC ({soc}): the discharge reached the lower voltage limit"
    else:
        first = f"check the initial SOC ({soc}) and the limit that stopped the run"
    return (f"To run the whole duty: {first}; or lower the duty's peak C-rate or power (--peak-c-rate for a shipped "
            "profile); or try another model (model / --model SPM, SPMe or DFN: their overpotentials differ at high "
            "rates); or widen the voltage limits (parameters={'Upper voltage cut-off [V]': ..., 'Lower voltage "
            "cut-off [V]': ...}), within the cell's validity.")


@dataclass
class CellResult(Result):
    """Arrays of one cell run, all sampled at ``time_s`` [s].

    Attributes
    ----------
    time_s : time [s]
    voltage_V : terminal voltage [V]
    current_A : current [A], discharge positive
    power_W : terminal power [W], discharge positive
    temperature_K : volume-averaged cell temperature [K]
    ambient_temperature_K : ambient temperature [K]
    heat_W : total heat generated (ohmic + irreversible + reversible + mixing) [W]
    soc : ``initial_soc - discharge_capacity_Ah / capacity_Ah`` [-] (nominal-capacity based; may
        leave [0, 1] slightly when the cell's usable capacity differs from the nominal one)
    discharge_capacity_Ah, throughput_Ah : net discharged and cumulative absolute charge [A.h]
    throughput_energy_Wh : cumulative absolute energy [W.h]
    ocv_V : battery open-circuit voltage [V]
    lli_percent, lam_negative_percent, lam_positive_percent : degradation modes [%] (zero unless a
        degradation option is on)
    capacity_lost_to_side_reactions_Ah : [A.h]
    capacity_Ah : nominal capacity of the parameter set [A.h] (scalar)
    termination : why the run ended (``"final time"``, ``"event: Minimum voltage [V]"``, ...)
    config : the run's configuration (model, options, parameter set, inputs)
    solution : the ``pybamm.Solution`` (``None`` for a result loaded from a file)
    """

    time_s: np.ndarray
    voltage_V: np.ndarray
    current_A: np.ndarray
    power_W: np.ndarray
    temperature_K: np.ndarray
    ambient_temperature_K: np.ndarray
    heat_W: np.ndarray
    soc: np.ndarray
    discharge_capacity_Ah: np.ndarray
    throughput_Ah: np.ndarray
    throughput_energy_Wh: np.ndarray
    ocv_V: np.ndarray
    lli_percent: np.ndarray
    lam_negative_percent: np.ndarray
    lam_positive_percent: np.ndarray
    capacity_lost_to_side_reactions_Ah: np.ndarray
    capacity_Ah: float
    termination: str = ""
    config: dict = field(default_factory=dict)
    parameter_files: tuple = ()
    solution: object = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_solution(cls, solution, *, capacity_Ah, initial_soc, config, parameter_files=(), time_offset_s=0.0):
        """Extract the arrays from a ``pybamm.Solution``."""
        t = np.asarray(solution["Time [s]"].entries, dtype=np.float64) + time_offset_s
        arrays = {}
        for name, (var, _, _) in SERIES.items():
            try:
                arrays[name] = np.asarray(solution[var].entries, dtype=np.float64).reshape(-1)
            except KeyError:
                arrays[name] = np.full(t.shape, np.nan)
        arrays["heat_W"] = total_heat_W(solution, arrays["heat_W"])
        # A run with a repeated time point at a step boundary (experiments) keeps it: arrays stay
        # aligned with PyBaMM's solution; time_s is non-decreasing.
        soc = initial_soc - arrays["discharge_capacity_Ah"] / capacity_Ah
        return cls(
            time_s=t,
            soc=soc,
            capacity_Ah=float(capacity_Ah),
            termination=str(getattr(solution, "termination", "")),
            config=config,
            parameter_files=tuple(parameter_files),
            solution=solution,
            **arrays,
        )

    # -- convenience --------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0])

    @property
    def completed(self) -> bool:
        """True when the run reached its requested end: the final time, or the end condition of the
        last experiment step (not a safety voltage cut-off in the middle of a profile)."""
        t = self.termination
        return t in ("final time", "") or t.startswith("final time") or t.endswith("[experiment]")

    def early_stop_message(self) -> str:
        """Where and why the run stopped before the end of its duty and what to change ("" if it completed)."""
        if self.completed:
            return ""
        requested = self.config.get("duration_s")
        of = f" of the requested {requested:g} s" if isinstance(requested, (int, float)) else ""
        cell = (self.config.get("parameter_set") or {}).get("name", "the cell")
        where = (f"the {self.config.get('model', 'cell')} run of {cell} stopped early at "
                 f"t = {self.duration_s:.0f} s{of}: {self.termination} (terminal voltage {self.voltage_V[-1]:.3f} V, "
                 f"SOC {self.soc[-1]:.3f}). ")
        return where + _stop_advice(self.termination, self.config.get("initial_soc"))

    def names(self) -> list[str]:
        """Names of the array attributes."""
        return ["time_s", *SERIES, "soc"]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {n: getattr(self, n) for n in self.names()}

    def summary(self) -> dict:
        """A few scalars: duration, final voltage, peak temperature, energy, heat."""
        return {
            "duration_s": self.duration_s,
            "final_voltage_V": float(self.voltage_V[-1]),
            "min_voltage_V": float(np.min(self.voltage_V)),
            "max_temperature_K": float(np.nanmax(self.temperature_K)),
            "throughput_Ah": float(self.throughput_Ah[-1]),
            "heat_J": float(np.trapezoid(self.heat_W, self.time_s)) if np.all(np.isfinite(self.heat_W)) else float("nan"),
            "final_soc": float(self.soc[-1]),
            "termination": self.termination,
        }

    # -- files --------------------------------------------------------------------------------
    def variables(self) -> dict:
        """The arrays as :class:`batterylab.io.Variable` (dimension ``time_s``)."""
        from ..io import Variable

        out = {"time_s": Variable(self.time_s, "s", "Time [s]", dims=("time_s",))}
        for name, (_, units, long_name) in SERIES.items():
            out[name] = Variable(getattr(self, name), units, long_name, dims=("time_s",))
        out["soc"] = Variable(self.soc, DERIVED["soc"][0], DERIVED["soc"][1], dims=("time_s",))
        return out

    def _h5_contents(self) -> dict:
        """Root attributes: ``capacity_Ah``, ``termination``, ``current_sign_convention`` and the
        :func:`batterylab.io.write_results` provenance (configuration JSON, versions, parameter
        file SHA-256)."""
        return {
            "variables": self.variables(),
            "config": self.config,
            "parameter_files": self.parameter_files,
            "attrs": {
                "batterylab_result": "cell",
                "capacity_Ah": self.capacity_Ah,
                "termination": self.termination,
                "current_sign_convention": "discharge positive",
            },
        }

    def to_hdf5(self, path) -> Path:
        """Deprecated spelling of :meth:`save` (every result saves with ``.save(path)``)."""
        warnings.warn("CellResult.to_hdf5(path) is deprecated; use CellResult.save(path)", DeprecationWarning,
                      stacklevel=2)
        return self.save(path)

    def plot(self, ax=None):
        """Terminal voltage and cell temperature over time (temperature on a twin axis); returns ``ax``."""
        ax = twin_plot(new_axes(ax), (self.time_s - self.time_s[0]) / 3600.0, self.voltage_V,
                       self.temperature_K, "time [h]", "terminal voltage [V]", "cell temperature [K]",
                       ("voltage", "temperature"))
        ax.set_title(f"{self.config.get('cell', 'cell')}: {self.termination or 'run'}")
        return ax


def load(path) -> CellResult:
    """Read a result written by :meth:`CellResult.save` (``solution`` is ``None``)."""
    from ..io import read_results

    variables, attrs = read_results(path)  # checks that path is an HDF5 file
    if attrs.get("batterylab_result") != "cell":
        raise InputError(f"path {str(path)!r} is not a batterylab cell result (root attribute batterylab_result != 'cell')")
    arrays = {n: np.asarray(v.data, dtype=np.float64) for n, v in variables.items() if n in SERIES or n in DERIVED}
    missing = [n for n in ("time_s", *SERIES, "soc") if n not in arrays]
    if missing:
        raise InputError(f"path {str(path)!r}: missing datasets {missing}")
    return CellResult(
        capacity_Ah=float(attrs["capacity_Ah"]),
        termination=str(attrs.get("termination", "")),
        config=json.loads(attrs.get("configuration_json", "{}")),
        solution=None,
        **arrays,
    )
