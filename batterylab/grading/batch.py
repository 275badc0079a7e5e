"""The grading pipeline: cycler files (or records) in, grades, values and modules out.

Per cell (in worker processes, ``spawn`` context, files in chunks): read, merge metadata,
measure capacity / SOH, DC resistance, intake voltage, rest-voltage slope, pulse-screening SOH,
capacity-history forecast; fit the C/20 curves of a chunk at once (vectorised OCV fit) for the
degradation modes. Then for the whole batch: robust z-score of the rest slope (soft-short
screen), grades with evidence, residual value, remaining second life, module matching.

Outputs of :func:`grade_directory` (all written atomically):

- ``grades.csv``: one row per cell (``GradeRecord.CSV_COLUMNS``), error rows included;
- ``evidence.jsonl``: the audit record of each cell (tests, values, thresholds, models, version);
- ``measurements.h5``: every measurement over a ``cell`` dimension, with units;
- ``modules.csv``: matched modules (when ``series`` and ``parallel`` are given);
- ``summary.html``: counts by grade, modules, errors, methods and standards;
- ``.grading-cache.jsonl``: per-file measurements keyed by the file's size and modification
  time, so a re-run measures only new or changed files (``force=True`` measures all).

Metadata (sidecars) for a cell, from least to most specific: what the file states, the
``GradeConfig`` (CLI options), ``metadata.json`` in the input folder (``{"defaults": {...},
"cells": {"<cell_id>": {...}}}``), and ``<file stem>.meta.json`` beside the file. Keys:
``nominal_capacity_Ah``, ``chemistry``, ``bol_resistance_ohm``, ``history`` (traceability),
``intake_voltage_V``, ``bol_c20`` (``{"Cp_Ah", "Cn_Ah", "n_li_Ah"}`` of the fresh cell),
``bol_capacity_Ah`` (the reference of the end of second life; default the nominal capacity),
``new_pack_price_per_kWh``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import BatterylabError, InputError
from . import measurements as M
from .grade import GradeRecord, decide_grade, load_bands, residual_value
from .readers import CellRecord, is_cell_file_suffix, read_cell_file
from .results import GradeBatch, measurement_variables

META_KEYS = ("nominal_capacity_Ah", "chemistry", "bol_resistance_ohm", "history", "intake_voltage_V", "bol_c20",
             "new_pack_price_per_kWh", "nominal_voltage_V", "bol_capacity_Ah")
#: Which capacity test sets the SOH: the latest full test (the present state) or the largest.
CAPACITY_TESTS = ("latest", "largest")
#: History forecasts: "auto" = the population prior of the batch's cells with longer histories
#: where there are any, else the form chosen by back-test in the cell's own history
#: (:func:`batterylab.grading.trajectory.select_forecast`); or one form for every cell.
FORECAST_MODELS = ("auto", "power", "double_exp", "bacon_watts", "linear")
#: At most this many of a batch's histories serve as the population prior (the longest ones).
MAX_REFERENCES = 100
CACHE_NAME = ".grading-cache.jsonl"


@dataclass
class GradeConfig:
    """Batch-wide settings (CLI options). Per-cell sidecars override the metadata fields."""

    chemistry: str | None = None
    nominal_capacity_Ah: float | None = None
    bol_resistance_ohm: float | None = None
    history: str | None = None
    new_pack_price_per_kWh: float | None = None
    currency: str = "EUR"
    repurposing_cost_fraction: float = 0.0
    bands_path: str | None = None
    pulse_s: float = 10.0
    series: int | None = None
    parallel: int | None = None
    forecast_model: str = "auto"
    second_life: bool = True
    seed: int = 0
    capacity_test: str = "latest"
    bol_capacity_Ah: float | None = None

    def __post_init__(self):
        from .. import checks
        from ..errors import unknown_option
        from .grade import load_bands
        from .ocv_fit import available_chemistries

        if self.capacity_test not in CAPACITY_TESTS:
            raise unknown_option("capacity_test choice", self.capacity_test, CAPACITY_TESTS)
        if self.forecast_model not in FORECAST_MODELS:
            raise unknown_option("forecast_model", self.forecast_model, FORECAST_MODELS)
        if self.bands_path is not None:
            checks.text_file("bands_path", self.bands_path, what="grading bands JSON")
        bands = load_bands(self.bands_path)
        if self.chemistry is not None:
            # a chemistry without bands or without an OCP set would grade every cell "reuse" on NaN modes
            known = set(bands.chemistries) | set(available_chemistries())
            if not isinstance(self.chemistry, str) or self.chemistry not in known:
                raise unknown_option("chemistry", self.chemistry, known)
        for name in ("nominal_capacity_Ah", "bol_capacity_Ah", "bol_resistance_ohm", "new_pack_price_per_kWh"):
            val = getattr(self, name)
            if val is not None:
                checks.positive(name, val, {"o": "ohm", "h": "Ah"}.get(name[-1], "per kWh"))
        checks.finite_scalar("repurposing_cost_fraction", self.repurposing_cost_fraction, low=0.0, high=1.0)
        checks.positive("pulse_s", self.pulse_s, "s")
        self.series = checks.optional_integer("series", self.series, low=1)
        self.parallel = checks.optional_integer("parallel", self.parallel, low=1)
        if (self.series is None) != (self.parallel is None):
            raise InputError(f"series and parallel go together (a module of series x parallel cells), got "
                             f"series = {self.series} and parallel = {self.parallel}")
        checks.boolean("second_life", self.second_life)
        checks.integer("seed", self.seed, low=0)
        for name in ("currency", "history"):
            val = getattr(self, name)
            if (val is not None or name == "currency") and not isinstance(val, str):
                raise InputError(f"{name} must be a string, got {type(val).__name__} {val!r:.60}")

    def metadata(self) -> dict:
        return {k: getattr(self, k) for k in META_KEYS if getattr(self, k, None) is not None}


# --------------------------------------------------------------------------------------------
# metadata


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"sidecar {path.name!r} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"sidecar {path.name!r} must hold a JSON object, got {type(data).__name__}")
    return data


def _sidecar_for(path: Path) -> dict:
    side = path.with_name(path.stem + ".meta.json")
    return _load_json(side) if side.is_file() else {}


def merge_metadata(record: CellRecord, config: GradeConfig, batch_meta: dict, file_meta: dict) -> tuple[dict, dict]:
    """(metadata, source of each key) for one record, most specific source last."""
    meta, src = {}, {}
    layers = [("file", record.metadata), ("options", config.metadata()),
              ("metadata.json defaults", batch_meta.get("defaults", {})),
              ("metadata.json cells", batch_meta.get("cells", {}).get(record.cell_id, {})),
              ("sidecar", {k: v for k, v in file_meta.items() if k != "cells"}),
              ("sidecar cells", file_meta.get("cells", {}).get(record.cell_id, {}))]
    for name, layer in layers:
        for k, v in layer.items():
            if v is not None:
                meta[k] = v
                src[k] = name
    return meta, src


# --------------------------------------------------------------------------------------------
# per-record measurement


def _finite(x):
    return x is not None and np.isfinite(x)


def measure_record(rec: CellRecord, meta: dict, config: GradeConfig) -> dict:
    """Measurements of one record (no batch-level steps); a plain dict, JSON-serialisable."""
    m = {"cell_id": rec.cell_id, "source": rec.source, "format": rec.format, "metadata": meta, "tests": {},
         "notes": list(rec.notes)}
    nominal = meta.get("nominal_capacity_Ah")
    if nominal is not None:
        nominal = M.positive("nominal_capacity_Ah (sidecar)", nominal, "Ah")
    m["nominal_capacity_Ah"] = nominal
    m["chemistry"] = meta.get("chemistry")
    cyc = rec.cycles
    cap, cap_cycle = _capacity_test(rec, m, config)
    m["capacity_Ah"] = cap
    m["capacity_cycle"] = cap_cycle
    if cap is not None and nominal:
        from .units import check_capacity_vs_nominal

        check_capacity_vs_nominal("measured capacity", cap, nominal, where=m["tests"].get("capacity", ""))
    m["soh"] = cap / nominal if (cap is not None and nominal) else None
    m["soh_sigma"] = None
    m["soh_method"] = "capacity test" if m["soh"] is not None else ""
    # rapid pulse screening: used as the SOH only without a capacity test and inside its domain
    if rec.pulse_voltage_V is not None:
        from .pulse import load_pulse_model, predict_soh

        est = predict_soh(rec.pulse_voltage_V, rec.pulse_soc)
        m["pulse_soh"], m["pulse_soh_sigma"], m["pulse_model"] = est.soh, est.sigma, est.model
        m["pulse_in_domain"] = est.in_domain
        m["tests"]["pulse_screening"] = f"pulse-test response at {len(rec.pulse_soc)} SOCs, model {est.model}"
        m["notes"].append(f"pulse screening validity: {load_pulse_model()['validity']}")
        if not est.in_domain:
            m["pulse_note"] = est.note
            m["notes"].append(f"pulse screening not used: {est.note}")
        if m["soh"] is None and est.in_domain:
            m["soh"], m["soh_sigma"], m["soh_method"] = est.soh, est.sigma, "pulse screening"
    # resistance: the cycler's own internal-resistance reading of the capacity-test cycle (Arbin
    # Internal_Resistance(Ohm)), else DCIR from pulses of the time series, else a history column
    r = None
    bol_r = meta.get("bol_resistance_ohm")
    per_cycle_ts = rec.has_timeseries and rec.cycle_index is not None
    if per_cycle_ts and "resistance_ohm" in cyc:
        rr = np.asarray(cyc["resistance_ohm"], float)
        cycles = np.asarray(cyc["cycle"], float)
        pick = np.flatnonzero((cycles == cap_cycle) & np.isfinite(rr) & (rr > 0)) if cap_cycle is not None else []
        if len(pick) == 0:
            ok = np.flatnonzero(np.isfinite(rr) & (rr > 0))
            pick = ok[-1:] if ok.size else []
        if len(pick):
            k = int(pick[0])
            r = float(rr[k])
            m["tests"]["resistance"] = (f"cycler Internal_Resistance(Ohm) column, cycle {cycles[k]:g}: mean of the "
                                        "cycler's readings in that cycle")
    if r is None and rec.has_timeseries:
        pr = M.dcir_from_pulses(rec.time_s, rec.current_A, rec.voltage_V, pulse_s=config.pulse_s)
        if pr is not None:
            r = pr.resistance_ohm
            m["tests"]["resistance"] = (f"DCIR at {pr.duration_s:g} s of {pr.n_pulses} discharge pulse(s) from rest, "
                                        f"{pr.pulse_current_A:.3g} A")
    if r is None and "resistance_ohm" in cyc and not per_cycle_ts:
        rr = np.asarray(cyc["resistance_ohm"], float)
        ok = np.isfinite(rr) & (rr > 0)
        if ok.any():
            r = float(np.median(rr[ok][-5:]))
            m["tests"]["resistance"] = "cycler internal-resistance column (median of the last 5 cycles)"
            if bol_r is None:
                bol_r = float(np.median(rr[ok][:5]))
                m["notes"].append("beginning-of-life resistance taken as the median of the first 5 cycles of the cell's own history")
    m["resistance_ohm"] = r
    m["bol_resistance_ohm"] = float(bol_r) if bol_r is not None else None
    # intake voltage and rest slope
    if meta.get("intake_voltage_V") is not None:
        m["intake_voltage_V"] = float(meta["intake_voltage_V"])
        m["tests"]["intake_voltage"] = "as-received voltage from the sidecar"
    elif rec.has_timeseries:
        m["intake_voltage_V"] = M.intake_voltage(rec.voltage_V)
        m["tests"]["intake_voltage"] = "first voltage sample of the record (as received)"
    else:
        m["intake_voltage_V"] = None
    if "min_voltage_V" in cyc:
        mv = np.asarray(cyc["min_voltage_V"], float)
        m["min_test_voltage_V"] = float(np.nanmin(mv)) if np.isfinite(mv).any() else None
    m["rest_slope_V_per_h"] = M.rest_voltage_slope(rec.time_s, rec.current_A, rec.voltage_V) if rec.has_timeseries else None
    if m["rest_slope_V_per_h"] is not None:
        m["tests"]["self_discharge"] = "voltage slope over the second half of the longest rest (>= 600 s)"
    # capacity-history forecast
    hist = m.get("capacity_history")
    if hist and "resistance_ohm" in cyc and "cycle" in cyc:
        rr, rc = np.asarray(cyc["resistance_ohm"], float), np.asarray(cyc["cycle"], float)
        ok = np.isfinite(rr) & (rr > 0) & np.isfinite(rc)
        if ok.sum() >= 10:
            m["resistance_history"] = {"cycle": rc[ok].tolist(), "resistance_ohm": rr[ok].tolist()}
    if hist and len(hist["cycle"]) >= 6:
        m["forecast"] = _history_forecast(np.array(hist["cycle"]), np.array(hist["capacity_Ah"]), nominal, config,
                                          bol_capacity_Ah=meta.get("bol_capacity_Ah"),
                                          resistance=m.get("resistance_history"))
    # C/20 curve for the batch fit
    if rec.c20_capacity_Ah is not None:
        m["c20"] = (np.asarray(rec.c20_capacity_Ah, float), np.asarray(rec.c20_voltage_V, float))
        m["tests"]["degradation_modes"] = "half-cell OCP fit of the C/20 charge curve"
    return m


def _capacity_test(rec: CellRecord, m: dict, config: GradeConfig):
    """(capacity [Ah], cycle) of the capacity test the grade uses, or (None, None); fills ``m``.

    Sources, in order: capacity checks labelled in a cycler summary; full capacity tests of a
    time series (:func:`measurements.discharge_segments`), whose capacity is the cycler's own
    per-cycle counter difference where the record has one and it belongs to that test alone,
    else the integrated current; the last point of a capacity history. ``config.capacity_test``
    picks the ``"latest"`` full test (default: the cell's present state) or the ``"largest"``.
    """
    cyc = rec.cycles
    latest = config.capacity_test == "latest"
    if "label" in cyc and "discharge_capacity_Ah" in cyc:
        lab = np.asarray(cyc["label"]).astype(str)
        q = np.asarray(cyc["discharge_capacity_Ah"], float)
        c = np.asarray(cyc["cycle"], float)
        k = np.flatnonzero((np.char.lower(lab) == "capacity check") & np.isfinite(q))
        if k.size:
            j = int(k[-1]) if latest else int(k[np.argmax(q[k])])
            m["tests"]["capacity"] = f"capacity check in the cycler summary (cycle {c[j]:g}, the {config.capacity_test} of {k.size})"
            m["capacity_history"] = {"cycle": c[k].tolist(), "capacity_Ah": q[k].tolist()}
            return float(q[j]), float(c[j])
    if rec.has_timeseries:
        segs = M.discharge_segments(rec.time_s, rec.current_A, rec.voltage_V, rec.cycle_index)
        full = [g for g in segs if g.full]
        counter = None
        if rec.cycle_index is not None and "discharge_capacity_Ah" in cyc and "cycle" in cyc:
            counter = dict(zip(np.asarray(cyc["cycle"], float).tolist(), np.asarray(cyc["discharge_capacity_Ah"], float).tolist()))
        if full:
            values = []
            for g in full:
                q, how = g.capacity_Ah, "integrated current"
                qc = counter.get(g.cycle) if counter else None
                n_in_cycle = sum(1 for h in segs if h.cycle == g.cycle and h.capacity_Ah > 0.01 * g.capacity_Ah)
                if qc is not None and np.isfinite(qc) and n_in_cycle == 1:
                    q, how = float(qc), f"cycler counter {rec.metadata.get('capacity_from_counters', 'discharge capacity')} difference"
                values.append((q, how, g))
            j = len(values) - 1 if latest else int(np.argmax([x[0] for x in values]))
            q, how, g = values[j]
            m["tests"]["capacity"] = (f"full capacity test, the {config.capacity_test} of {len(full)}: cycle {g.cycle:g}, "
                                      f"{g.mean_current_A:.3g} A for {g.duration_s:.0f} s, {g.start_voltage_V:.3f} V to "
                                      f"{g.end_voltage_V:.3f} V after a charge to {g.charge_top_V:.3f} V; capacity from the {how}")
            if len(full) >= 2:
                m["capacity_history"] = {"cycle": [x[2].cycle for x in values], "capacity_Ah": [x[0] for x in values]}
            return q, g.cycle
        if segs:
            g = max(segs, key=lambda h: h.capacity_Ah)
            m["tests"]["capacity"] = (f"largest discharge segment of the time series (no full capacity test: {g.why}): "
                                      f"{g.mean_current_A:.3g} A for {g.duration_s:.0f} s, {g.start_voltage_V:.3f} V to "
                                      f"{g.end_voltage_V:.3f} V")
            return g.capacity_Ah, g.cycle if rec.cycle_index is not None else None
    if "discharge_capacity_Ah" in cyc and "cycle" in cyc:
        q = np.asarray(cyc["discharge_capacity_Ah"], float)
        c = np.asarray(cyc["cycle"], float)
        ok = np.isfinite(q) & (q > 0)
        if ok.sum() >= 1:
            m["capacity_history"] = {"cycle": c[ok].tolist(), "capacity_Ah": q[ok].tolist()}
            if latest:
                j = int(np.flatnonzero(ok)[-1])
                m["tests"]["capacity"] = f"last point of the capacity history (cycle {c[j]:g})"
            else:
                j = int(np.flatnonzero(ok)[np.argmax(q[ok])])
                m["tests"]["capacity"] = f"largest point of the capacity history (cycle {c[j]:g})"
            return float(q[j]), float(c[j])
    return None, None


def eol_reference(nominal_capacity_Ah=None, bol_capacity_Ah=None) -> tuple[float | None, str]:
    """(reference capacity [Ah], its description) that the end of second life is measured against.

    An explicit beginning-of-life capacity ``bol_capacity_Ah`` first, else the nominal capacity;
    ``(None, reason)`` without either: the end of life is then not evaluated (a file's first
    cycle is no reference: a retired cell's file starts long after its beginning of life).
    """
    if bol_capacity_Ah is not None:
        return M.positive("bol_capacity_Ah", bol_capacity_Ah, "Ah"), f"beginning-of-life capacity {float(bol_capacity_Ah):g} Ah"
    if nominal_capacity_Ah:
        return M.positive("nominal_capacity_Ah", nominal_capacity_Ah, "Ah"), f"nominal capacity {float(nominal_capacity_Ah):g} Ah"
    return None, "no nominal_capacity_Ah or bol_capacity_Ah: the end of second life has no reference"


def _history_forecast(cycle, cap, nominal, config: GradeConfig, *, bol_capacity_Ah=None, references=None,
                      resistance=None) -> dict:
    """Remaining cycles to the end of second life from a capacity history, with its 95 % band
    (and the resistance elbow of :func:`trajectory.knee_precursor` where a resistance history is given)."""
    from . import trajectory as T

    out = _forecast_to_end(cycle, cap, nominal, config, bol_capacity_Ah=bol_capacity_Ah, references=references)
    if resistance is not None and "model" in out:
        pre = T.knee_precursor(cycle, cap, resistance["cycle"], resistance["resistance_ohm"])
        if pre is not None:
            out["knee_precursor"] = pre
    return out


def _forecast_to_end(cycle, cap, nominal, config: GradeConfig, *, bol_capacity_Ah=None, references=None) -> dict:
    from . import trajectory as T

    ref, ref_text = eol_reference(nominal, bol_capacity_Ah)
    if ref is not None:
        from .units import check_capacity_vs_nominal

        check_capacity_vs_nominal("capacity history", float(np.median(cap)), ref, where=ref_text)
    try:
        if config.forecast_model == "auto" and references:
            fc = T.population_forecast(cycle, cap, references)
        elif config.forecast_model == "auto":
            fc = T.select_forecast(cycle, cap, candidates=("power", "double_exp", "bacon_watts", "linear"))
        else:
            fc = T.make_forecast(config.forecast_model, cycle, cap)
    except BatterylabError as exc:
        return {"error": str(exc), "reference": ref_text}
    bands = load_bands(config.bands_path)
    last = float(np.max(cycle))
    out = {"model": fc.method, "last_cycle": last, "cycles_to_end": None, "reference": ref_text,
           "details": {k: v for k, v in fc.details.items() if k != "params"}}
    if ref is None:
        out["error"] = ref_text
        return out
    end = bands.end_of_second_life_soh * ref
    n_mid = fc.cycles_to(end)
    n_lo = fc.cycles_to(end, which="lower")  # the pessimistic edge crosses first
    n_hi = fc.cycles_to(end, which="upper")
    out.update({"end_capacity_Ah": end, "reference_capacity_Ah": ref,
                "cycles_to_end": (n_mid - last) if np.isfinite(n_mid) else None,
                "cycles_to_end_low": (n_lo - last) if np.isfinite(n_lo) else None,
                "cycles_to_end_high": (n_hi - last) if np.isfinite(n_hi) else None})
    if np.isfinite(n_mid) and n_mid <= last:
        out["note"] = "the forecast is already at or below the end of second life at the last measured cycle"
    elif not np.isfinite(n_hi) or not np.isfinite(n_mid) or (n_hi - n_lo) > (n_mid - last):
        out["uncertain"] = ("the history cannot tell: the 95 % band of the remaining cycles is wider than the "
                            "remaining cycles themselves" if np.isfinite(n_hi) else
                            "the history cannot tell: the optimistic edge of the 95 % band never reaches the end")
    return out


def _population_pass(ms: list[dict], config: GradeConfig) -> None:
    """Forecast again, with the batch's cells of longer histories as the prior (``forecast_model="auto"``).

    A reference is a cell of the batch whose history reaches 80 % of its initial capacity (at
    most :data:`MAX_REFERENCES`, the longest); a cell's own history is never its own reference. Cells of a batch without references keep the
    back-tested form of :func:`measure_record` (in place).
    """
    from . import trajectory as T

    if config.forecast_model != "auto":
        return
    refs = {}
    for k, m in enumerate(ms):
        h = m.get("capacity_history")
        if "error" in m or not h or len(h["cycle"]) < 6:
            continue
        q = np.asarray(h["capacity_Ah"], float)
        if q.min() <= 0.8 * T.initial_capacity(q):
            refs[k] = T.make_reference(m["cell_id"], h["cycle"], q)
    if not refs:
        return
    if len(refs) > MAX_REFERENCES:  # the longest histories carry the most shape
        longest = sorted(refs, key=lambda j: (-refs[j].cycle[-1], ms[j]["cell_id"]))[:MAX_REFERENCES]
        refs = {j: refs[j] for j in sorted(longest)}
    for k, m in enumerate(ms):
        if "forecast" not in m:
            continue
        pool = [r for j, r in refs.items() if j != k]
        if not pool:
            continue
        h = m["capacity_history"]
        meta = m.get("metadata", {})
        m["forecast"] = _history_forecast(np.asarray(h["cycle"], float), np.asarray(h["capacity_Ah"], float),
                                          m.get("nominal_capacity_Ah"), config, bol_capacity_Ah=meta.get("bol_capacity_Ah"),
                                          references=pool, resistance=m.get("resistance_history"))


# --------------------------------------------------------------------------------------------
# chunk worker


def _read_and_measure(path: str, config: GradeConfig, batch_meta: dict) -> list[dict]:
    p = Path(path)
    sig = _signature(p)
    try:
        file_meta = _sidecar_for(p)
        records = read_cell_file(p)
        out = []
        for rec in records:
            meta, src = merge_metadata(rec, config, batch_meta, file_meta)
            try:
                m = measure_record(rec, meta, config)
                m["metadata_sources"] = src
            except BatterylabError as exc:
                m = _error_row(rec.cell_id, str(p), f"{p.name}: {exc}")
            m["file_signature"] = sig
            out.append(m)
        return out
    except BatterylabError as exc:
        return [dict(_error_row(p.stem, str(p), str(exc)), file_signature=sig)]
    except Exception as exc:  # an unexpected failure on one file never stops the batch
        return [dict(_error_row(p.stem, str(p), f"{p.name}: unexpected {type(exc).__name__}: {exc}"), file_signature=sig)]


def _error_row(cell_id, source, message):
    return {"cell_id": cell_id, "source": source, "error": message}


def _fit_chunk(ms: list[dict]) -> None:
    """Vectorised OCV fit of every C/20 curve in ``ms``, grouped by chemistry (in place)."""
    from .ocv_fit import available_chemistries, degradation_modes, fit_ocv_batch

    known = available_chemistries()
    groups: dict[str, list] = {}
    for m in ms:
        arrays = m.pop("c20", None)
        if arrays is None:
            continue
        chem = m.get("chemistry")
        q, v = arrays
        if chem not in known:
            m["ocv_fit_error"] = f"no half-cell OCP set for chemistry {chem!r} (have: {', '.join(known)})"
        elif q.size < 10 or q.size != v.size or not (np.isfinite(q).all() and np.isfinite(v).all()) or np.ptp(q) <= 0:
            m["ocv_fit_error"] = "C/20 curve needs at least 10 finite samples over a capacity range"
        else:
            groups.setdefault(chem, []).append((m, q, v))
    for chem, group in groups.items():
        fits = fit_ocv_batch([g[1] for g in group], [g[2] for g in group], chem)
        for (m, _, _), fit in zip(group, fits):
            m["ocv_fit"] = fit.to_dict()
            ref = m["metadata"].get("bol_c20")
            nominal = m.get("nominal_capacity_Ah")
            if ref is None and not nominal:
                m["ocv_fit_error"] = "degradation modes need bol_c20 or nominal_capacity_Ah"
                continue
            m["modes"] = degradation_modes(fit, ref, nominal_capacity_Ah=nominal, chemistry=chem).to_dict()


def _measure_chunk(paths: list[str], config: GradeConfig, batch_meta: dict) -> list[dict]:
    ms = []
    for p in paths:
        ms.extend(_read_and_measure(p, config, batch_meta))
    _prepare_and_fit(ms)
    return ms


def _prepare_and_fit(ms: list[dict]) -> None:
    _fit_chunk(ms)


def _measure_records_chunk(records: list, metas: list, config: GradeConfig) -> list[dict]:
    ms = []
    for rec, (meta, src) in zip(records, metas):
        try:
            m = measure_record(rec, meta, config)
            m["metadata_sources"] = src
        except BatterylabError as exc:
            m = _error_row(rec.cell_id, rec.source, f"{rec.cell_id}: {exc}")
        ms.append(m)
    _prepare_and_fit(ms)
    return ms


# --------------------------------------------------------------------------------------------
# batch-level steps


def finish_batch(ms: list[dict], config: GradeConfig) -> tuple[list[GradeRecord], object]:
    """Grades, values, second life and modules from the per-cell measurements."""
    from .. import citations

    bands = load_bands(config.bands_path)
    citations.register("UL1974", "UL 1974, Standard for Evaluation for Repurposing Batteries, 2nd ed. (2023)")
    citations.register("IEC63338", "IEC 63338:2024, General guidance for reuse of secondary cells and batteries")
    _population_pass(ms, config)
    ok = [m for m in ms if "error" not in m]
    slopes = np.array([m.get("rest_slope_V_per_h") if m.get("rest_slope_V_per_h") is not None else np.nan for m in ok])
    z = M.robust_z(slopes)
    life = _second_life_table(ok, config, bands)
    records = []
    for m in ms:
        if "error" in m:
            records.append(GradeRecord(cell_id=m["cell_id"], source=m["source"], status="error", grade="error",
                                       error=m["error"]))
            continue
        records.append(_grade_one(m, config, bands, life))
    # z-scores were computed over ``ok`` in the same order as the non-error records
    k = 0
    for rec in records:
        if rec.status == "error":
            continue
        zz = z[k]
        k += 1
        rec.rest_slope_z = float(zz) if np.isfinite(zz) else float("nan")
    for rec, m in zip([r for r in records if r.status != "error"], ok):
        traceable = bool(m["metadata"].get("history"))
        decide_grade(rec, bands, traceable=traceable)
        rec.details["tests"]["self_discharge_batch"] = (f"robust z-score of the rest slope against {np.isfinite(z).sum()} cells"
                                                        if np.isfinite(rec.rest_slope_z) else "not evaluated")
    modules = None
    if config.series and config.parallel:
        modules = _match(records, config)
    return records, modules


def _grade_one(m: dict, config: GradeConfig, bands, life) -> GradeRecord:
    rec = GradeRecord(cell_id=m["cell_id"], source=m["source"])
    rec.chemistry = m.get("chemistry") or ""
    rec.nominal_capacity_Ah = _f(m.get("nominal_capacity_Ah"))
    rec.capacity_Ah = _f(m.get("capacity_Ah"))
    rec.soh = _f(m.get("soh"))
    rec.soh_sigma = _f(m.get("soh_sigma"))
    rec.soh_method = m.get("soh_method", "")
    if m.get("pulse_in_domain") is False and not np.isfinite(rec.soh):
        rec.missing.append(f"soh (no capacity test; the pulse screening cannot judge this cell: {m.get('pulse_note', '')})")
    rec.resistance_ohm = _f(m.get("resistance_ohm"))
    if _finite(m.get("resistance_ohm")) and m.get("bol_resistance_ohm"):
        rec.resistance_ratio = m["resistance_ohm"] / m["bol_resistance_ohm"]
    rec.intake_voltage_V = _f(m.get("intake_voltage_V"))
    rec.rest_slope_V_per_h = _f(m.get("rest_slope_V_per_h"))
    models = {}
    if "ocv_fit" in m:
        f = m["ocv_fit"]
        rec.ocv_rmse_mV = f["rmse_V"] * 1e3
        rec.ocv_confident = "yes" if f["confident"] else "no"
        models["ocv_fit"] = f"half-cell OCP set {f['ocp_set']}, bounded Levenberg-Marquardt"
    if "modes" in m:
        d = m["modes"]
        rec.LLI, rec.LAM_PE, rec.LAM_NE, rec.lithium_margin = d["LLI"], d["LAM_PE"], d["LAM_NE"], d["lithium_margin"]
        rec.knee_risk = knee_risk(d, bands)
        models["degradation_mode_reference"] = d["reference"]
    elif "ocv_fit_error" in m:
        rec.knee_risk = "unknown"
        m["notes"].append(m["ocv_fit_error"])
    else:
        rec.knee_risk = "unknown (no C/20 curve)"
    if m.get("pulse_model"):
        models["pulse_screening"] = m["pulse_model"]
    # value and remaining life
    chem = bands.chemistries.get(rec.chemistry)
    price = m["metadata"].get("new_pack_price_per_kWh")
    notes = []
    fade = None
    fc = m.get("forecast")
    if fc and fc.get("error") and fc.get("reference"):
        notes.append(f"own history: {fc['error']}")
    if fc and fc.get("cycles_to_end") is not None:
        rec.remaining_efc = fc["cycles_to_end"]
        lo, hi = fc.get("cycles_to_end_low"), fc.get("cycles_to_end_high")
        band = f" (95 % band {lo:.0f} to {hi:.0f})" if lo is not None and hi is not None else (
            f" (95 % band {lo:.0f} to unbounded)" if lo is not None else "")
        notes.append(f"own history ({fc['model']} forecast): {fc['cycles_to_end']:.0f}{band}"
                     f" cycles to end of second life ({bands.end_of_second_life_soh:g} x {fc.get('reference', '')})"
                     + (f"; {fc['uncertain']}" if fc.get("uncertain") else "")
                     + (f"; {fc['note']}" if fc.get("note") else "")
                     + (f"; {fc['knee_precursor']['note']}" if fc.get("knee_precursor") else ""))
        models["history_forecast"] = (f"{fc['model']} forecast of the cell's capacity history"
                                      + (" (population prior of the batch's cells with longer histories)"
                                         if fc["model"] == "population" else " (form chosen by back-test in its own history)"
                                         if config.forecast_model == "auto" else ""))
    life = life.get(rec.chemistry)
    if life is not None and np.isfinite(rec.soh):
        yrs, efc = life(rec.soh)
        rec.remaining_years = yrs
        if np.isfinite(yrs):
            notes.append(f"home-storage duty ({life.model}): {yrs:.1f} years, {efc:.0f} EFC to SOH {bands.end_of_second_life_soh:g}")
            models["second_life"] = (f"batterylab.aging.simulate, model {life.model}, profile home_storage_pv_day, "
                                     f"equivalent-state start at the measured SOH"
                                     + (f"; model extrapolates: {'; '.join(life.out_of_range)}" if life.out_of_range else ""))
            if not np.isfinite(rec.remaining_efc):
                rec.remaining_efc = efc
            if efc > 0 and rec.soh > bands.end_of_second_life_soh:
                fade = (rec.soh - bands.end_of_second_life_soh) / efc
    if fade is None and chem is not None:
        fade = chem["fade_per_efc"]
        notes.append(f"remaining throughput with the fallback linear fade {fade:g} per EFC of {rec.chemistry}")
    if np.isfinite(rec.soh) and chem is not None and np.isfinite(rec.nominal_capacity_Ah):
        v_nom = float(m["metadata"].get("nominal_voltage_V") or chem["nominal_voltage_V"])
        val = residual_value(min(rec.soh, 1.0), rec.nominal_capacity_Ah, v_nom, float(price) if price is not None else 0.0,
                             end_soh=bands.end_of_second_life_soh, repurposing_cost_fraction=config.repurposing_cost_fraction,
                             usable_dod=bands.usable_dod, fade_per_efc=fade)
        rec.remaining_energy_kWh = val.get("remaining_energy_kWh", float("nan"))
        if not np.isfinite(rec.remaining_efc):
            rec.remaining_efc = val.get("remaining_efc", float("nan"))
        if price is not None:
            rec.residual_value = val["residual_value"]
            rec.currency = config.currency
        else:
            rec.missing.append("new_pack_price_per_kWh (no residual value without a new-pack price)")
    rec.forecast_note = "; ".join(notes)
    rec.details = {"tests": dict(m.get("tests", {})), "models": models, "notes": m.get("notes", []),
                   "metadata_sources": m.get("metadata_sources", {}), "forecast": fc, "ocv_fit": m.get("ocv_fit"),
                   "pulse_soh": m.get("pulse_soh"), "pulse_soh_sigma": m.get("pulse_soh_sigma"),
                   "pulse_in_domain": m.get("pulse_in_domain"), "pulse_note": m.get("pulse_note"),
                   "min_test_voltage_V": m.get("min_test_voltage_V"), "bol_resistance_ohm": m.get("bol_resistance_ohm")}
    return rec


def knee_risk(modes: dict, bands) -> str:
    """'high' when LAM_NE exceeds LLI and the lithium margin (1 - x100) is below the limit,
    'elevated' when LAM_NE exceeds LLI, else 'low' (Attia et al. 2022, doi:10.1149/1945-7111/ac6d13)."""
    limit = bands.knee_lithium_margin
    if modes["LAM_NE"] > modes["LLI"]:
        return "high" if modes["lithium_margin"] < limit else "elevated"
    return "low"


def _f(x):
    return float(x) if x is not None and np.isfinite(x) else float("nan")


class _Life:
    """Remaining second life from one home-storage trajectory of the compiled ageing core."""

    def __init__(self, model, years, q, efc, end_soh):
        self.model, self.years, self.q, self.efc, self.end = model, years, q, efc, end_soh

    def __call__(self, soh):
        q = self.q
        if soh <= self.end:
            return 0.0, 0.0
        if q[-1] > self.end:
            return float("inf"), float("inf")
        # time-shift: the point of the fresh trajectory at the measured SOH is the cell's state
        if soh >= q[0]:
            t0, e0 = 0.0, 0.0
        else:
            t0 = float(np.interp(-soh, -q, self.years))
            e0 = float(np.interp(-soh, -q, self.efc))
        t1 = float(np.interp(-self.end, -q, self.years))
        e1 = float(np.interp(-self.end, -q, self.efc))
        return t1 - t0, e1 - e0


def _second_life_table(ms, config: GradeConfig, bands) -> dict:
    """chemistry -> remaining-life function from the compiled ageing core (absent if no model)."""
    if not config.second_life:
        return {}
    from .forecast import home_storage_trajectory

    out = {}
    for chem in sorted({m.get("chemistry") for m in ms if m.get("chemistry")}):
        try:
            traj = home_storage_trajectory(chem, end_soh=bands.end_of_second_life_soh)
        except (ImportError, AttributeError, BatterylabError):  # ageing core absent or model refused
            continue
        if traj is not None:
            life = _Life(traj["model"], traj["years"], traj["capacity_fraction"], traj["efc"], bands.end_of_second_life_soh)
            life.out_of_range = traj["out_of_range"]
            out[chem] = life
    return out


def _match(records: list[GradeRecord], config: GradeConfig):
    from .matching import match_modules

    out = {}
    for grade in ("reuse", "repurpose"):
        cand = [r for r in records if r.grade == grade and np.isfinite(r.capacity_Ah) and np.isfinite(r.resistance_ohm)
                and r.resistance_ohm > 0 and r.capacity_Ah > 0]
        by_chem: dict = {}
        for r in cand:
            by_chem.setdefault(r.chemistry, []).append(r)
        for chem, group in by_chem.items():
            if len(group) < config.series * config.parallel:
                continue
            res = match_modules([r.capacity_Ah for r in group], [r.resistance_ohm for r in group], config.series,
                                config.parallel, seed=config.seed)
            prefix = f"{grade}-{chem}-"
            for mod in res.modules:
                mod.name = prefix + mod.name
                for g in mod.cells:
                    for i in g:
                        group[i].module = mod.name
                mod.cells = [[group[i].cell_id for i in g] for g in mod.cells]
            res.unassigned = [group[i].cell_id for i in res.unassigned]
            out[(grade, chem)] = res
    return out


# --------------------------------------------------------------------------------------------
# files in, files out


def _signature(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return ""
    side = path.with_name(path.stem + ".meta.json")
    extra = f":{side.stat().st_mtime_ns}" if side.is_file() else ""
    return f"{st.st_size}:{st.st_mtime_ns}{extra}"


def list_cell_files(input_dir) -> list[Path]:
    """Cell files in ``input_dir`` (not recursive): supported suffixes, sidecars excluded."""
    from ..checks import path_like

    d = path_like("input_dir", input_dir)
    if not d.is_dir():
        raise InputError(f"input_dir {str(d)!r} does not exist or is not a folder; expected a folder of cell files")
    out = []
    for p in sorted(d.iterdir()):
        if p.is_file() and is_cell_file_suffix(p.suffix) and not p.name.endswith(".meta.json") \
                and not p.name.startswith("."):
            out.append(p)
    return out


def _jsonable(m: dict) -> dict:
    def conv(v):
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v

    return conv({k: v for k, v in m.items() if not k.startswith("_")})


def _read_cache(out_dir: Path) -> dict:
    path = out_dir / CACHE_NAME
    cache: dict[str, list] = {}
    if not path.is_file():
        return cache
    for line in path.read_text().splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        cache.setdefault(m.get("source", ""), []).append(m)
    return cache


def grade_directory(input_dir, out_dir, config: GradeConfig | None = None, *, workers: int | None = None,
                    force: bool = False, progress: bool | None = None, chunk_size: int | None = None, client=None) -> dict:
    """Grade every cell file in ``input_dir``; write the outputs to ``out_dir`` (see module docstring).

    Parameters
    ----------
    input_dir : path
        Folder of cycler files (format guessed per file, see
        :func:`batterylab.grading.readers.read_cell_file`), with optional ``metadata.json`` and
        ``FILE.meta.json`` sidecars.
    out_dir : path
        Output folder: ``grades.csv``, ``evidence.jsonl``, ``measurements.h5``, ``modules.csv``
        and ``summary.html``, each written atomically.
    config : GradeConfig, optional
        Chemistry, nominal capacity [Ah], beginning-of-life resistance [Ohm], new-pack price
        [currency/kWh], module layout and bands; batch-wide defaults under the sidecars.
    workers : int, optional
        Local worker processes (``None``: one per core).
    force : bool
        Measure every file again (otherwise unchanged files reuse their cached measurements).
    progress : bool, optional
        Show a progress bar (``None``: when standard error is a terminal).
    chunk_size : int, optional
        Files per task.
    client : dask.distributed.Client, optional
        Measure the chunks of files as Dask tasks (:mod:`batterylab.distributed`) instead of
        local processes; the outputs are the same.

    Returns
    -------
    GradeBatch
        The summary dict (counts by grade, output paths, files measured / reused, records,
        modules) with ``save``, ``summary``, ``plot`` and ``to_xarray``.

    Notes
    -----
    SOH is capacity over nominal [-]; resistance is DCIR at 10 s of a discharge pulse [Ohm]; the
    degradation modes (LLI, LAM_PE, LAM_NE) come from a fit of the half-cell open-circuit
    potentials to a C/20 curve [1]_. Bands and safety checks follow UL 1974 and IEC 63338
    (``parameter_sets/grading/bands_default.json``).

    References
    ----------
    .. [1] M. Dubarry, C. Truchot, B. Y. Liaw, Synthesize battery degradation modes via a
       diagnostic and prognostic model, J. Power Sources 219 (2012) 204,
       doi:10.1016/j.jpowsour.2012.07.016
    """
    from ..io import atomic_write_text

    config = _config(config)
    _check_run(workers, progress, chunk_size, client, force=force)
    files = list_cell_files(input_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch_path = Path(input_dir) / "metadata.json"
    batch_meta = _load_json(batch_path) if batch_path.is_file() else {}
    cache = {} if force else _read_cache(out)
    # a change of the options or of metadata.json invalidates every cached measurement
    run_key = json.dumps([asdict(config), batch_meta], sort_keys=True, default=str)
    todo, reused = [], []
    for p in files:
        sig = _signature(p)
        prev = cache.get(str(p))
        if prev and all(m.get("file_signature") == sig and m.get("run_key") == run_key for m in prev) and not force:
            reused.extend(prev)
        else:
            todo.append(str(p))
    measured = run_parallel(_measure_chunk, todo, (config, batch_meta), workers=workers, progress=progress,
                            chunk_size=chunk_size, desc="grading", client=client, label="files")
    for m in measured:
        m["run_key"] = run_key
    ms = reused + measured
    order = {str(p): i for i, p in enumerate(files)}
    ms.sort(key=lambda m: (order.get(m.get("source", ""), 1 << 30), m.get("cell_id", "")))
    records, modules = finish_batch(ms, config)
    bands = load_bands(config.bands_path)
    paths = write_outputs(out, records, modules, bands, config, ms)
    atomic_write_text(out / CACHE_NAME, "".join(json.dumps(_jsonable(m)) + "\n" for m in ms))
    counts: dict[str, int] = {}
    for r in records:
        counts[r.grade] = counts.get(r.grade, 0) + 1
    return GradeBatch({"counts": counts, "n_files": len(files), "n_measured_files": len(todo),
                       "n_reused_files": len(files) - len(todo), "outputs": paths, "records": records, "modules": modules},
                      config=config, bands_path=bands.path)


def grade_records(records: list[CellRecord], config: GradeConfig | None = None, *, workers: int | None = 1,
                  progress: bool = False, chunk_size: int | None = None, client=None):
    """Grade in-memory records (no files).

    Parameters
    ----------
    records : list of CellRecord
        One record per cell (capacity test, pulses, rests, C/20 curve as available), e.g. from
        :func:`batterylab.grading.readers.read_cell_file` or
        :func:`batterylab.grading.synthetic.make_batch`.
    config : GradeConfig, optional
        Grading options (see :func:`grade_directory`).
    workers : int, optional
        Local worker processes (1: in this process).
    progress : bool
        Show a progress bar.
    chunk_size : int, optional
        Records per task.
    client : dask.distributed.Client, optional
        Run the chunks as Dask tasks (see :func:`grade_directory`).

    Returns
    -------
    graded : list of GradeRecord
        One per record: ``grade``, ``soh`` [-], ``resistance_ratio`` [-] to beginning of life,
        ``residual_value`` [currency], the evidence and what is missing.
    modules : dict or None
        ``{(grade, chemistry): MatchResult}``: the matched series x parallel modules of the
        ``reuse`` and ``repurpose`` cells (``None`` unless ``config.series`` and
        ``config.parallel`` are given).
    """
    config = _config(config)
    _check_run(workers, progress, chunk_size, client)
    if isinstance(records, (str, bytes, CellRecord)) or not hasattr(records, "__iter__"):
        raise InputError(f"records must be a list of CellRecord, got {type(records).__name__}")
    records = list(records)
    for i, r in enumerate(records):
        if not isinstance(r, CellRecord):
            raise InputError(f"records[{i}] must be a CellRecord, got {type(r).__name__}")
    metas = [merge_metadata(r, config, {}, {}) for r in records]
    items = list(zip(records, metas))
    ms = run_parallel(_records_worker, items, (config,), workers=workers, progress=progress, chunk_size=chunk_size,
                      desc="grading", client=client)
    return finish_batch(ms, config)


def _config(config) -> "GradeConfig":
    if config is None:
        return GradeConfig()
    if not isinstance(config, GradeConfig):
        raise InputError(f"config must be a GradeConfig, got {type(config).__name__}")
    return config


def _check_run(workers, progress, chunk_size, client, *, force=False) -> None:
    from .. import checks

    checks.optional_integer("workers", workers, low=1)
    checks.optional_integer("chunk_size", chunk_size, low=1)
    checks.optional_boolean("progress", progress)
    checks.boolean("force", force)
    from ..distributed import check_client

    check_client(client)


def _records_worker(items, config):
    return _measure_records_chunk([i[0] for i in items], [i[1] for i in items], config)


def run_parallel(func, items: list, args: tuple, *, workers: int | None, progress: bool, chunk_size: int | None, desc: str,
                 client=None, label: str = "cells"):
    """Run ``func(chunk, *args)`` over chunks of ``items`` in spawned processes (or as tasks on a Dask
    ``client``); results concatenated in order."""
    from tqdm.auto import tqdm

    from ..progress import show_progress

    if not items:
        return []
    if client is not None:  # Dask tasks, gathered in order (batterylab.distributed)
        from ..distributed import map_items

        return [m for r in map_items(client, func, items, args, chunk_size=chunk_size, label=label,
                                     progress=progress, desc=desc) for m in r]
    workers = max(1, int(workers or os.cpu_count() or 1))
    if chunk_size is None:
        chunk_size = max(1, min(250, math.ceil(len(items) / (4 * workers))))
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    results: list = [None] * len(chunks)
    bar = tqdm(total=len(items), desc=desc, unit="cell", disable=not show_progress(progress), leave=False)
    try:
        if workers == 1 or len(chunks) == 1:
            for k, ch in enumerate(chunks):
                results[k] = func(ch, *args)
                bar.update(len(ch))
        else:
            import concurrent.futures as cf
            import multiprocessing as mp

            with cf.ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=mp.get_context("spawn")) as ex:
                futs = {ex.submit(func, ch, *args): k for k, ch in enumerate(chunks)}
                for fut in cf.as_completed(futs):
                    k = futs[fut]
                    results[k] = fut.result()
                    bar.update(len(chunks[k]))
    finally:
        bar.close()
    return [m for r in results for m in r]


def write_outputs(out: Path, records: list[GradeRecord], modules, bands, config: GradeConfig, ms: list[dict]) -> dict:
    """Write grades.csv, evidence.jsonl, measurements.h5, modules.csv and summary.html atomically."""
    import csv
    import io

    from ..io import atomic_write_text, write_results

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=GradeRecord.CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow(r.row())
    paths = {"grades": str(atomic_write_text(out / "grades.csv", buf.getvalue()))}
    ev = "".join(json.dumps(_jsonable(r.evidence(bands) | {"details": r.details})) + "\n" for r in records)
    paths["evidence"] = str(atomic_write_text(out / "evidence.jsonl", ev))
    v = measurement_variables(records, config)  # HDF5: every numeric measurement over the cell dimension
    paths["measurements"] = str(write_results(out / "measurements.h5", v, config=asdict(config),
                                              parameter_files=[bands.path]))
    mod_rows = []
    if modules:
        for (grade, chem), res in modules.items():
            for mod in res.modules:
                mod_rows.append({"module": mod.name, "grade": grade, "chemistry": chem,
                                 "capacity_Ah": f"{mod.capacity_Ah:.6g}", "resistance_ohm": f"{mod.resistance_ohm:.6g}",
                                 "capacity_spread": f"{mod.capacity_spread:.4g}", "resistance_spread": f"{mod.resistance_spread:.4g}",
                                 "cells": " | ".join(" + ".join(g) for g in mod.cells)})
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["module", "grade", "chemistry", "capacity_Ah", "resistance_ohm",
                                            "capacity_spread", "resistance_spread", "cells"], lineterminator="\n")
        w.writeheader()
        w.writerows(mod_rows)
        paths["modules"] = str(atomic_write_text(out / "modules.csv", buf.getvalue()))
    paths["summary"] = str(atomic_write_text(out / "summary.html", render_summary(records, modules, mod_rows, bands, config)))
    return paths


def render_summary(records, modules, mod_rows, bands, config) -> str:
    """The summary HTML page (jinja2 template ``templates/grading_summary.html.j2``)."""
    import datetime as dt

    import jinja2

    from .._version import __version__

    env = jinja2.Environment(loader=jinja2.PackageLoader("batterylab.grading", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    counts: dict[str, int] = {}
    for r in records:
        counts[r.grade] = counts.get(r.grade, 0) + 1
    unassigned = sum(len(res.unassigned) for res in modules.values()) if modules else 0
    return env.get_template("grading_summary.html.j2").render(
        records=records, counts=counts, modules=mod_rows, unassigned=unassigned, bands=bands, config=config,
        errors=[r for r in records if r.status == "error"], version=__version__,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        max_rows=500,
    )
