"""Grades with their evidence, and residual value.

A grade is decided from measured values and configurable limits (``parameter_sets/grading/
bands_*.json``):

1. **safety checks** (any failure -> ``recycle``): as-received voltage below the chemistry's
   over-discharge limit; DC resistance above ``max_resistance_ratio`` x beginning of life; a
   rest-voltage slope that is an outlier of its batch (robust z-score below ``-robust_z_limit``,
   a soft internal short);
2. **SOH bands**: SOH >= 0.80 reuse, 0.60-0.80 repurpose to stationary storage, < 0.60 recycle
   (defaults);
3. **completeness**: every item of ``required_evidence`` (SOH, intake voltage, resistance,
   traceability of the history per IEC 63338:2024) must be present, otherwise the grade is
   ``incomplete``, with the band the available data point to as ``provisional_grade`` and the
   list of what is missing. Nothing is guessed.

The evidence record (:meth:`GradeRecord.evidence`) lists the tests used, the measured values,
the thresholds and their source, the model names and the batterylab version: what a UL 1974
(2nd ed. 2023) style audit reads.

**Residual value** (:func:`residual_value`): the remaining fraction of lifetime usable-energy
throughput, priced at the same cost per delivered kWh as a new pack. For a capacity that fades
linearly with equivalent full cycles at rate k, the energy delivered from SOH s to the end of
second life e is C_nom V_nom DoD (s^2 - e^2) / (2k) and a new pack's is C_nom V_nom DoD
(1 - e^2) / (2k), so

.. math:: f = \\frac{s^2 - e^2}{1 - e^2}, \\qquad
          \\text{value} = p_{new} E_{nom} f (1 - c_{repurpose})

with p_new the user-given new-pack price per kWh, E_nom the nominal energy [kWh] and
c_repurpose the fraction of value spent on testing and repackaging.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import InputError, ParameterError, unknown_option

GRADES = ("reuse", "repurpose", "recycle", "incomplete", "error")
EVIDENCE_ITEMS = ("soh", "intake_voltage", "resistance", "traceability", "self_discharge")


@dataclass(frozen=True)
class GradingBands:
    """The limits a grade is decided by (see ``parameter_sets/grading/bands_default.json``)."""

    name: str
    version: str
    bands: tuple  # ((grade, min_soh), ...) in decreasing min_soh
    max_resistance_ratio: float
    robust_z_limit: float
    required_evidence: tuple
    chemistries: dict
    end_of_second_life_soh: float
    usable_dod: float
    standards: dict
    path: str
    knee_lithium_margin: float = 0.05

    def chemistry(self, name: str) -> dict:
        if name not in self.chemistries:
            raise unknown_option("chemistry", name, self.chemistries)
        return self.chemistries[name]

    def band(self, soh: float) -> str:
        for grade, low in self.bands:
            if soh >= low:
                return grade
        return self.bands[-1][0]


@lru_cache(maxsize=None)
def _load(path: str) -> GradingBands:
    try:
        spec = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"grading bands file {path!r} not found") from None
    except json.JSONDecodeError as exc:
        raise ParameterError(f"grading bands file {path!r} is not valid JSON: {exc}") from None
    try:
        bands = tuple(sorted(((b["grade"], float(b["min_soh"])) for b in spec["bands"]), key=lambda b: -b[1]))
        for g, _ in bands:
            if g not in GRADES[:3]:
                raise unknown_option("grade name in bands", g, GRADES[:3])
        req = tuple(spec.get("required_evidence", ()))
        for r in req:
            if r not in EVIDENCE_ITEMS:
                raise unknown_option("required_evidence item", r, EVIDENCE_ITEMS)
        return GradingBands(
            name=spec["name"], version=str(spec.get("version", "")), bands=bands,
            max_resistance_ratio=float(spec["safety"]["max_resistance_ratio"]),
            robust_z_limit=float(spec["safety"]["robust_z_limit"]),
            required_evidence=req, chemistries=dict(spec["chemistries"]),
            end_of_second_life_soh=float(spec["value"]["end_of_second_life_soh"]),
            usable_dod=float(spec["value"]["usable_dod"]), standards=dict(spec.get("standards", {})), path=str(path),
            knee_lithium_margin=float(spec["knee_risk"]["lithium_margin_high"]),
        )
    except KeyError as exc:
        raise ParameterError(f"grading bands file {path!r} lacks key {exc}") from None


def load_bands(path=None) -> GradingBands:
    """The default grading bands, or those in the JSON file at ``path``."""
    from ..checks import text_file
    from ..parameter_sets import path as ppath

    if path is not None:
        text_file("path", path, what="grading bands JSON")
    return _load(str(path or ppath("grading", "bands_default.json")))


@dataclass
class GradeRecord:
    """One cell's grade, measured values and the evidence behind them.

    Units: capacities [Ah], resistance [ohm], voltages [V], slope [V/h], energy [kWh], value in
    the given currency; degradation modes are fractions lost [1].
    """

    cell_id: str
    source: str
    status: str = "graded"  # graded | incomplete | error
    grade: str = "incomplete"
    provisional_grade: str = ""
    soh: float = float("nan")
    soh_sigma: float = float("nan")
    soh_method: str = ""
    capacity_Ah: float = float("nan")
    nominal_capacity_Ah: float = float("nan")
    chemistry: str = ""
    resistance_ohm: float = float("nan")
    resistance_ratio: float = float("nan")
    intake_voltage_V: float = float("nan")
    rest_slope_V_per_h: float = float("nan")
    rest_slope_z: float = float("nan")
    LLI: float = float("nan")
    LAM_PE: float = float("nan")
    LAM_NE: float = float("nan")
    lithium_margin: float = float("nan")
    ocv_rmse_mV: float = float("nan")
    ocv_confident: str = ""
    knee_risk: str = ""
    remaining_efc: float = float("nan")
    remaining_years: float = float("nan")
    remaining_energy_kWh: float = float("nan")
    residual_value: float = float("nan")
    currency: str = ""
    forecast_note: str = ""
    failed_checks: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    error: str = ""
    module: str = ""
    details: dict = field(default_factory=dict)

    CSV_COLUMNS = ("cell_id", "status", "grade", "provisional_grade", "soh", "soh_sigma", "soh_method", "capacity_Ah",
                   "nominal_capacity_Ah", "chemistry", "resistance_ohm", "resistance_ratio", "intake_voltage_V",
                   "rest_slope_V_per_h", "rest_slope_z", "LLI", "LAM_PE", "LAM_NE", "lithium_margin", "ocv_rmse_mV",
                   "ocv_confident", "knee_risk", "remaining_efc", "remaining_years", "remaining_energy_kWh", "residual_value", "currency",
                   "module", "failed_checks", "missing", "error", "forecast_note", "source")

    def row(self) -> dict:
        out = {}
        for k in self.CSV_COLUMNS:
            v = getattr(self, k)
            if isinstance(v, list):
                v = "; ".join(v)
            elif isinstance(v, float):
                v = "" if not np.isfinite(v) else f"{v:.6g}"
            out[k] = v
        return out

    def evidence(self, bands: GradingBands | None = None) -> dict:
        """The audit record: tests, measured values, thresholds, models and versions."""
        d = {k: getattr(self, k) for k in self.CSV_COLUMNS}
        d = {k: (None if isinstance(v, float) and not np.isfinite(v) else (list(v) if isinstance(v, list) else v))
             for k, v in d.items()}
        rec = {"cell_id": self.cell_id, "source": self.source, "status": self.status, "grade": self.grade,
               "provisional_grade": self.provisional_grade, "failed_checks": self.failed_checks,
               "missing": self.missing, "measured": d, "tests": self.details.get("tests", {}),
               "models": self.details.get("models", {}), "batterylab_version": __version__}
        if bands is not None:
            rec["thresholds"] = {
                "bands": [{"grade": g, "min_soh": s} for g, s in bands.bands],
                "max_resistance_ratio": bands.max_resistance_ratio,
                "robust_z_limit": bands.robust_z_limit,
                "over_discharge_V": bands.chemistries.get(self.chemistry, {}).get("over_discharge_V"),
                "required_evidence": list(bands.required_evidence),
                "bands_file": Path(bands.path).name, "bands_name": bands.name, "bands_version": bands.version,
            }
            rec["standards"] = bands.standards
        return rec


def decide_grade(record: GradeRecord, bands: GradingBands, *, traceable: bool) -> GradeRecord:
    """Apply safety checks, SOH bands and the completeness rule to ``record`` (in place)."""
    missing, failed = list(record.missing), list(record.failed_checks)
    chem = bands.chemistries.get(record.chemistry)
    if not np.isfinite(record.soh) and not any(m.startswith("soh") for m in missing):
        missing.append("soh (no capacity test, pulse screening or nominal capacity)")
    if np.isfinite(record.intake_voltage_V):
        if chem is not None and record.intake_voltage_V < chem["over_discharge_V"]:
            failed.append(f"over-discharged: intake voltage {record.intake_voltage_V:.3f} V < {chem['over_discharge_V']} V")
    else:
        missing.append("intake_voltage (no voltage record and no intake_voltage_V in the sidecar)")
    if np.isfinite(record.resistance_ratio):
        if record.resistance_ratio > bands.max_resistance_ratio:
            failed.append(f"resistance {record.resistance_ratio:.2f} x BOL > {bands.max_resistance_ratio} x BOL")
    else:
        why = "no 10 s pulse or resistance column" if not np.isfinite(record.resistance_ohm) else "bol_resistance_ohm missing from the sidecar"
        missing.append(f"resistance ({why})")
    if np.isfinite(record.rest_slope_z):
        if record.rest_slope_z < -bands.robust_z_limit:
            failed.append(f"self-discharge outlier: rest slope {record.rest_slope_V_per_h:.4g} V/h, robust z {record.rest_slope_z:.1f} < -{bands.robust_z_limit}")
    else:
        missing.append("self_discharge (no rest period of 600 s or fewer than 5 cells to compare)")
    if not traceable:
        missing.append("traceability (no history in the sidecar; IEC 63338:2024 requires it for reuse)")
    if chem is None and record.chemistry:
        missing.append(f"chemistry {record.chemistry!r} has no limits in {Path(bands.path).name}")
    elif not record.chemistry:
        missing.append("chemistry")

    key = {"soh": "soh", "intake_voltage": "intake_voltage", "resistance": "resistance", "traceability": "traceability",
           "self_discharge": "self_discharge"}
    required_missing = [m for m in missing if any(m.startswith(key[r]) for r in bands.required_evidence)]
    record.failed_checks, record.missing = failed, missing
    if failed:
        provisional = "recycle"
    elif np.isfinite(record.soh):
        provisional = bands.band(record.soh)
    else:
        provisional = ""
    record.provisional_grade = provisional
    if failed:
        record.grade, record.status = "recycle", "graded"
    elif required_missing or not provisional:
        record.grade, record.status = "incomplete", "incomplete"
    else:
        record.grade, record.status = provisional, "graded"
    return record


def throughput_fraction(soh, end_soh) -> float:
    """Remaining fraction of lifetime usable-energy throughput, (s^2 - e^2)/(1 - e^2), clipped at 0."""
    s, e = float(soh), float(end_soh)
    if not 0 <= e < 1:
        raise InputError(f"end_of_second_life_soh must be in [0, 1), got {e}")
    return max(0.0, (min(s, 1.0) ** 2 - e**2) / (1.0 - e**2))


def residual_value(soh, nominal_capacity_Ah, nominal_voltage_V, new_pack_price_per_kWh, *, end_soh=0.6,
                   repurposing_cost_fraction=0.0, usable_dod=0.9, fade_per_efc=None) -> dict:
    """Residual value [currency] and remaining usable energy [kWh] (see module docstring).

    ``fade_per_efc`` [1/EFC], when given, also yields the remaining equivalent full cycles
    (s - e)/k and the remaining throughput C V DoD (s^2 - e^2)/(2k) [kWh].
    """
    for name, val in (("nominal_capacity_Ah", nominal_capacity_Ah), ("nominal_voltage_V", nominal_voltage_V)):
        if not (np.isfinite(val) and val > 0):
            raise InputError(f"{name} must be a positive number, got {val!r}")
    if not (np.isfinite(new_pack_price_per_kWh) and new_pack_price_per_kWh >= 0):
        raise InputError(f"new_pack_price_per_kWh must be >= 0, got {new_pack_price_per_kWh!r}")
    if not 0 <= repurposing_cost_fraction <= 1:
        raise InputError(f"repurposing_cost_fraction must be in [0, 1], got {repurposing_cost_fraction!r}")
    e_nom = nominal_capacity_Ah * nominal_voltage_V / 1000.0
    f = throughput_fraction(soh, end_soh)
    out = {"nominal_energy_kWh": e_nom, "throughput_fraction": f,
           "residual_value": new_pack_price_per_kWh * e_nom * f * (1.0 - repurposing_cost_fraction)}
    if fade_per_efc:
        out["remaining_efc"] = max(0.0, (soh - end_soh) / fade_per_efc)
        out["remaining_energy_kWh"] = e_nom * usable_dod * max(0.0, soh**2 - end_soh**2) / (2 * fade_per_efc)
    return out
