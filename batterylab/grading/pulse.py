"""Rapid pulse screening: state of health from a pulse-test voltage response.

When a full capacity test is too slow (UL 1974's full procedure takes 40+ hours per battery),
the SOH is estimated from the voltage response of a short pulse test at several SOCs. The
estimator is a ridge regression on the standardised voltage samples (10 SOCs x 21 samples of
the Tao et al. protocol: SOC 5, 10, ..., 50 %), trained on real retired cylindrical cells
(``validation/data/grading/thu_pulse_voltage_Cylind21.csv``; 12 physical cells, 67 tests).

- the regularisation is chosen by leave-one-cell-out cross-validation inside the training set;
- the reported error is a *nested* leave-one-cell-out cross-validation (every test of a
  physical cell is held out together, so no cell is seen in training and testing);
- every estimate carries a standard uncertainty sigma = sqrt(s_cv^2 + s_ens^2): s_cv is the
  cross-validated residual RMSE, s_ens the spread of an ensemble of ridge models fitted on
  bootstrap resamples of the cells.

Coefficients are shipped in ``parameter_sets/grading/pulse_screening_thu_cylind21.json`` and
can be regenerated with :func:`train_pulse_model` (the tests check they are reproduced).
Reference for the data: Tao et al., immediate remaining-capacity estimation of heterogeneous
second-life batteries (2025), data MIT licence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import citations
from ..errors import InputError, ParameterError

MODEL_FILE = "pulse_screening_thu_cylind21.json"
#: SOCs [1] at which the protocol samples the pulse response.
PROTOCOL_SOC = tuple(np.round(np.arange(0.05, 0.501, 0.05), 2))
N_SAMPLES = 21
LAMBDAS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
CITATION = ("Tao et al., immediate remaining-capacity estimation of heterogeneous second-life batteries (2025); data: "
            "terencetaothucb/Immediate-remaining-capacity-estiamtion-of-second-life-batteries, MIT licence")


def features(pulse_voltage_V, pulse_soc) -> np.ndarray:
    """Feature vector of one pulse test: the voltage samples at the protocol SOCs, flattened.

    ``pulse_voltage_V`` is (n_soc, 21) [V] and ``pulse_soc`` (n_soc,) [1]; every protocol SOC
    (5 % ... 50 % in 5 % steps) must be present.
    """
    u = np.asarray(pulse_voltage_V, dtype=np.float64)
    soc = np.asarray(pulse_soc, dtype=np.float64)
    if u.ndim != 2 or u.shape[1] != N_SAMPLES or soc.shape != (u.shape[0],):
        raise InputError(f"pulse_voltage_V must be (n_soc, {N_SAMPLES}) with pulse_soc (n_soc,), got {u.shape} and {soc.shape}")
    rows = []
    for s in PROTOCOL_SOC:
        k = np.flatnonzero(np.isclose(soc, s, atol=1e-3))
        if k.size == 0:
            raise InputError(f"pulse test lacks the SOC {s:.2f} step; the protocol needs SOC {list(PROTOCOL_SOC)}, got {np.round(soc, 3).tolist()}")
        rows.append(u[k[0]])
    f = np.concatenate(rows)
    if not np.isfinite(f).all():
        raise InputError("pulse_voltage_V contains non-finite values")
    from .units import check_cell_voltage

    check_cell_voltage("pulse_voltage_V", f)
    return f


def _ridge(x, y, lam):
    mu, sd = x.mean(0), x.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mu) / sd
    ym = y.mean()
    if z.shape[0] < z.shape[1]:  # dual form: fewer tests than features
        w = z.T @ np.linalg.solve(z @ z.T + lam * np.eye(z.shape[0]), y - ym)
    else:
        w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (y - ym))
    # fold the standardisation into the coefficients: soh = x . coef + intercept
    coef = w / sd
    return coef, float(ym - mu @ coef)


def _predict(params, x):
    coef, intercept = params
    return x @ coef + intercept


def _loco(x, y, groups, lam):
    pred = np.empty_like(y)
    for g in np.unique(groups):
        test = groups == g
        pred[test] = _predict(_ridge(x[~test], y[~test], lam), x[test])
    return pred


def _choose_lambda(x, y, groups):
    errs = [np.mean(np.abs(_loco(x, y, groups, lam) - y)) for lam in LAMBDAS]
    return LAMBDAS[int(np.argmin(errs))]


def nested_cross_validation(x, y, groups):
    """Leave-one-cell-out predictions with the ridge penalty chosen inside each training fold."""
    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    pred = np.empty_like(y)
    for g in np.unique(groups):
        test = groups == g
        lam = _choose_lambda(x[~test], y[~test], groups[~test])
        pred[test] = _predict(_ridge(x[~test], y[~test], lam), x[test])
    return pred


def training_table(records):
    """(X, y, groups, ids) from pulse-table records (``readers.read_pulse_table_csv``).

    SOH = measured capacity / nominal capacity; the physical cell is the middle part of the
    test id (``SOC-D3-100.xls`` -> ``D3``), used to group the cross-validation.
    """
    x, y, groups, ids = [], [], [], []
    for r in records:
        x.append(features(r.pulse_voltage_V, r.pulse_soc))
        y.append(r.cycles["discharge_capacity_Ah"][-1] / r.metadata["nominal_capacity_Ah"])
        name = r.cell_id.split(":")[-1]
        parts = name.split("-")
        groups.append(parts[1] if len(parts) >= 3 else name)
        ids.append(r.cell_id)
    return np.array(x), np.array(y), np.array(groups), ids


def train_pulse_model(x, y, groups, *, n_ensemble: int = 25, seed: int = 0) -> dict:
    """Train the screening model; returns the JSON-ready model with its cross-validated error."""
    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    rng = np.random.default_rng(seed)
    lam = _choose_lambda(x, y, groups)
    cv_pred = nested_cross_validation(x, y, groups)
    resid = cv_pred - y
    cells = np.unique(groups)
    members = []
    for _ in range(n_ensemble):
        pick = rng.choice(cells, size=cells.size, replace=True)
        idx = np.concatenate([np.flatnonzero(groups == c) for c in pick])
        coef, b = _ridge(x[idx], y[idx], lam)
        members.append({"coef": np.round(coef, 10).tolist(), "intercept": round(b, 10)})
    full = _ridge(x, y, lam)
    return {
        "name": "pulse_screening_thu_cylind21",
        "description": "Ridge regression of SOH on the pulse-test voltage samples (10 SOCs x 21 samples), Tao et al. protocol",
        "citation": CITATION,
        "training_data": "validation/data/grading/thu_pulse_voltage_Cylind21.csv (67 tests of 12 retired cylindrical 2.1 Ah cells)",
        "licence": "training data MIT (Tao et al.); coefficients fitted by batterylab.grading.pulse.train_pulse_model",
        "feature_order": "SOC 0.05..0.50 step 0.05, each with samples U1..U21 [V]",
        "protocol_soc": list(PROTOCOL_SOC),
        "units": {"features": "V", "soh": "1"},
        "validity": f"cylindrical 2.1 Ah cells of the training set's kind, SOH {y.min():.2f} to {y.max():.2f}; other cells need retraining",
        "ridge_lambda": lam,
        "model": {"coef": np.round(full[0], 10).tolist(), "intercept": round(full[1], 10)},
        "ensemble": members,
        "cv": {
            "scheme": "nested leave-one-cell-out (physical cell groups)",
            "n_tests": int(y.size),
            "n_cells": int(cells.size),
            "mae_soh": float(np.mean(np.abs(resid))),
            "rmse_soh": float(np.sqrt(np.mean(resid**2))),
            "max_abs_error_soh": float(np.max(np.abs(resid))),
        },
        "seed": seed,
    }


@lru_cache(maxsize=None)
def _load_cached(path: str):
    spec = json.loads(Path(path).read_text())
    for key in ("model", "ensemble", "cv"):
        if key not in spec:
            raise ParameterError(f"pulse screening model {path} lacks {key!r}")
    return spec


def load_pulse_model(path=None) -> dict:
    """The shipped screening model (or one at ``path``)."""
    from ..parameter_sets import path as ppath

    p = str(path or ppath("grading", MODEL_FILE))
    citations.register("Tao2025pulse", CITATION)
    return _load_cached(p)


@dataclass
class PulseEstimate:
    """Screening estimate: SOH [1] and its standard uncertainty [1]."""

    soh: float
    sigma: float
    model: str


def predict_soh(pulse_voltage_V, pulse_soc, model: dict | None = None) -> PulseEstimate:
    """SOH estimate with uncertainty from a pulse test (see module docstring)."""
    model = model or load_pulse_model()
    f = features(pulse_voltage_V, pulse_soc)[None, :]
    m = model["model"]
    soh = float(_predict((np.array(m["coef"]), m["intercept"]), f)[0])
    ens = [float(_predict((np.array(e["coef"]), e["intercept"]), f)[0]) for e in model["ensemble"]]
    sigma = float(np.hypot(model["cv"]["rmse_soh"], np.std(ens)))
    return PulseEstimate(soh, sigma, model["name"])


def build_model_file(csv_path, out_path=None, *, seed: int = 0) -> dict:
    """Retrain from the pulse-table CSV and write the model JSON atomically (default: the shipped file)."""
    from ..io import atomic_write_text
    from ..parameter_sets import path as ppath
    from .readers import read_pulse_table_csv

    x, y, groups, _ = training_table(read_pulse_table_csv(csv_path))
    model = train_pulse_model(x, y, groups, seed=seed)
    atomic_write_text(out_path or ppath("grading", MODEL_FILE), json.dumps(model) + "\n")
    return model


if __name__ == "__main__":  # pragma: no cover - regenerate the shipped coefficients
    import sys

    m = build_model_file(sys.argv[1] if len(sys.argv) > 1 else "validation/data/grading/thu_pulse_voltage_Cylind21.csv")
    print(json.dumps(m["cv"], indent=1), m["ridge_lambda"])
