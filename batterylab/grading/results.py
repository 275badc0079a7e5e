"""The result of grading a batch: the summary dict of :func:`batterylab.grading.batch.grade_directory`
with the result contract (``save``, ``summary``, ``plot``, ``to_xarray``)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from ..io import Variable
from ..io.results import Result, new_axes

__all__ = ["GradeBatch", "measurement_variables"]


def measurement_variables(records, config) -> dict:
    """Every numeric measurement of ``records`` over the cell dimension (``measurements.h5``)."""
    n = len(records)
    cols = {"soh": ("1", "State of health by capacity"), "soh_sigma": ("1", "Standard uncertainty of SOH"),
            "capacity_Ah": ("Ah", "Measured capacity [Ah]"), "nominal_capacity_Ah": ("Ah", "Nominal capacity [Ah]"),
            "resistance_ohm": ("ohm", "DC internal resistance [ohm]"), "resistance_ratio": ("1", "Resistance / beginning of life"),
            "intake_voltage_V": ("V", "As-received voltage [V]"), "rest_slope_V_per_h": ("V/h", "Rest-voltage slope [V/h]"),
            "rest_slope_z": ("1", "Robust z-score of the rest slope"), "LLI": ("1", "Loss of lithium inventory (fraction lost)"),
            "LAM_PE": ("1", "Loss of positive active material (fraction lost)"),
            "LAM_NE": ("1", "Loss of negative active material (fraction lost)"),
            "lithium_margin": ("1", "Negative-electrode margin at full charge, 1 - x100"),
            "ocv_rmse_mV": ("mV", "OCV fit RMSE [mV]"), "remaining_efc": ("1", "Remaining equivalent full cycles"),
            "remaining_years": ("a", "Remaining years under the home-storage duty"),
            "remaining_energy_kWh": ("kWh", "Remaining usable energy throughput [kWh]"),
            "residual_value": (config.currency, f"Residual value [{config.currency}]")}
    v = {"cell": Variable(np.arange(n), "1", "Cell index", ("cell",)),
         "cell_id": Variable(np.array([r.cell_id for r in records], dtype=str), "", "Cell identifier", ("cell",)),
         "grade": Variable(np.array([r.grade for r in records], dtype=str), "", "Grade", ("cell",)),
         "status": Variable(np.array([r.status for r in records], dtype=str), "", "Grading status", ("cell",)),
         "source": Variable(np.array([r.source for r in records], dtype=str), "", "Source file", ("cell",))}
    for k, (u, long) in cols.items():
        v[k] = Variable(np.array([getattr(r, k) for r in records], dtype=np.float64), u, long, ("cell",))
    return v


class GradeBatch(dict, Result):
    """What :func:`~batterylab.grading.batch.grade_directory` returns: a dict (``counts``, ``n_files``,
    ``n_measured_files``, ``n_reused_files``, ``outputs``, ``records``, ``modules``), as before, with
    ``save`` (the measurements, as ``measurements.h5`` in the output folder), ``summary``, ``plot``
    and ``to_xarray``."""

    def __init__(self, data=(), *, config=None, bands_path=None):
        super().__init__(data)
        self._config = config
        self._bands_path = bands_path

    def _h5_contents(self) -> dict:
        return {"variables": measurement_variables(self["records"], self._config),
                "config": asdict(self._config) if self._config is not None else {},
                "parameter_files": [self._bands_path] if self._bands_path else []}

    def summary(self) -> dict:
        """Cells, files, graded and error counts, the count of each grade, mean relative capacity."""
        recs = self["records"]
        soh = np.array([r.soh for r in recs], dtype=float)
        out = {"cells": len(recs), "files": int(self["n_files"]), "files_measured": int(self["n_measured_files"]),
               "errors": sum(r.status == "error" for r in recs),
               "mean_soh": float(np.nanmean(soh)) if np.isfinite(soh).any() else float("nan")}
        for grade, n in sorted(self["counts"].items()):
            out[f"grade_{grade}"] = int(n)
        return out

    def plot(self, ax=None):
        """Each cell's state of health against its resistance ratio, coloured by grade; returns ``ax``."""
        ax = new_axes(ax)
        recs = self["records"]
        for k, grade in enumerate(sorted({r.grade for r in recs})):
            sel = [r for r in recs if r.grade == grade]
            ax.scatter([r.resistance_ratio for r in sel], [r.soh for r in sel], s=12, color=f"C{k % 10}", label=grade)
        ax.set_xlabel("resistance / beginning of life [-]")
        ax.set_ylabel("state of health [-]")
        if recs:
            ax.legend(fontsize=7)
        return ax
