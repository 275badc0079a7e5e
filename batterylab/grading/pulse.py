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


def cross_validate_with_domain(x, y, groups, *, seed: int = 0, lam=None, n_folds: int | None = None) -> dict:
    """Cross-validated predictions and domain flags, everything refitted without the held-out cells.

    For each held-out physical cell (or, with ``n_folds``, each of that many seeded folds of
    whole cells): the ridge penalty (unless ``lam`` is given) and the applicability domain are
    fitted on the other cells only, then the held-out tests are predicted and checked. Returns
    ``pred`` (clipped to :data:`SOH_RANGE`), ``in_domain`` (bool per test) and ``why``.
    """
    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    pred = np.empty_like(y)
    ok = np.zeros(y.size, dtype=bool)
    why = [""] * y.size
    cells = np.unique(groups)
    if n_folds is None:
        folds = [[c] for c in cells]
    else:
        folds = np.array_split(np.random.default_rng(seed).permutation(cells), min(int(n_folds), cells.size))
    for f in folds:
        test = np.isin(groups, f)
        la = lam if lam is not None else _choose_lambda(x[~test], y[~test], groups[~test])
        pred[test] = np.clip(_predict(_ridge(x[~test], y[~test], la), x[test]), *SOH_RANGE)
        dom = domain_check(fit_domain(x[~test], groups[~test], seed=seed), x[test])
        for k, d in zip(np.flatnonzero(test), dom):
            ok[k] = d["in_domain"]
            why[k] = d["why"]
    return {"pred": pred, "in_domain": ok, "why": why}


def features_relative_to_ocv(pulse_voltage_V) -> np.ndarray:
    """Format-independent features of a pulse table: each sample minus the rest voltage before it.

    ``pulse_voltage_V`` is (n_soc, n_samples) with the rest (open-circuit) voltage in column 0
    [V]. At a pulse current set in C-rates, the overpotential U_k - U_rest is I R = C Q_n R: the
    same for cells of one chemistry and design whatever their capacity, where the raw voltages
    also carry each format's open-circuit curve. Returned: the overpotentials of every SOC,
    flattened, then the rest voltages.
    """
    u = np.asarray(pulse_voltage_V, dtype=np.float64)
    if u.ndim != 2 or u.shape[1] < 2:
        raise InputError(f"pulse_voltage_V must be (n_soc, n_samples) with n_samples >= 2, got {u.shape}")
    return np.concatenate([(u[:, 1:] - u[:, :1]).ravel(), u[:, 0]])


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


# --------------------------------------------------------------------------------------------
# applicability domain

#: Share of the training variance the domain's principal components keep.
DOMAIN_VARIANCE = 0.99
#: Quantile of the held-out-fold statistics that sets each domain limit.
DOMAIN_QUANTILE = 0.95
#: Folds (of whole cells) the domain limits are calibrated on.
DOMAIN_FOLDS = 10
#: SOH outside this range is never reported [1].
SOH_RANGE = (0.0, 1.2)


def _domain_base(x):
    mu, sd = x.mean(0), x.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mu) / sd
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    var = sv**2 / max(z.shape[0] - 1, 1)
    k = int(np.searchsorted(np.cumsum(var) / var.sum(), DOMAIN_VARIANCE) + 1)
    k = max(1, min(k, z.shape[0] - 2, vt.shape[0]))
    return {"mean": mu, "sd": sd, "components": vt[:k], "variance": var[:k], "min": x.min(0), "max": x.max(0)}


def _domain_stats(base, x):
    """(Hotelling T^2 in the principal components, squared residual Q, share of features outside the range)."""
    x = np.atleast_2d(x)
    z = (x - base["mean"]) / base["sd"]
    scores = z @ base["components"].T
    t2 = np.sum(scores**2 / base["variance"], axis=1)
    q = np.sum((z - scores @ base["components"]) ** 2, axis=1)
    span = np.maximum(base["max"] - base["min"], 1e-12)
    outside = np.mean((x < base["min"] - 0.1 * span) | (x > base["max"] + 0.1 * span), axis=1)
    return t2, q, outside


def fit_domain(x, groups, *, seed: int = 0) -> dict:
    """The applicability domain of a screening model trained on ``x`` (tests x features).

    Three statistics of a test's features against the training set: Hotelling's T^2 in the
    principal components that keep :data:`DOMAIN_VARIANCE` of the standardised training variance
    (the leverage, a Mahalanobis distance), the squared residual Q off those components (a test
    unlike any training direction), and the share of features outside the per-feature training
    range widened by 10 % of it. Each limit is the :data:`DOMAIN_QUANTILE` of that statistic for
    whole cells held out of the domain in :data:`DOMAIN_FOLDS`-fold cross-validation, so a new cell
    of the training kind is inside about that often, and a cell of another kind, whose features
    sit far off, is flagged. Returns a JSON-ready dict.
    """
    x, groups = np.asarray(x, float), np.asarray(groups)
    rng = np.random.default_rng(seed)
    cells = np.unique(groups)
    folds = np.array_split(rng.permutation(cells), min(DOMAIN_FOLDS, cells.size))
    held = []
    for f in folds:
        test = np.isin(groups, f)
        held.append(np.column_stack(_domain_stats(_domain_base(x[~test]), x[test])))
    held = np.vstack(held)
    lim = np.quantile(held, DOMAIN_QUANTILE, axis=0)
    base = _domain_base(x)
    return {"mean": base["mean"].tolist(), "sd": base["sd"].tolist(), "components": base["components"].tolist(),
            "variance": base["variance"].tolist(), "min": base["min"].tolist(), "max": base["max"].tolist(),
            "t2_limit": float(lim[0]), "q_limit": float(lim[1]), "outside_limit": float(lim[2]),
            "quantile": DOMAIN_QUANTILE, "folds": len(folds), "variance_kept": DOMAIN_VARIANCE}


def domain_check(domain: dict, x) -> list[dict]:
    """Per test: the three domain statistics, their limits, ``in_domain`` and why not."""
    base = {k: np.asarray(domain[k], float) for k in ("mean", "sd", "components", "variance", "min", "max")}
    t2, q, out = _domain_stats(base, np.asarray(x, float))
    res = []
    for a, b, c in zip(t2, q, out):
        why = []
        if a > domain["t2_limit"]:
            why.append(f"leverage T^2 {a:.3g} > limit {domain['t2_limit']:.3g}")
        if b > domain["q_limit"]:
            why.append(f"residual Q {b:.3g} > limit {domain['q_limit']:.3g}")
        if c > domain["outside_limit"]:
            why.append(f"{c:.0%} of features outside the training range (limit {domain['outside_limit']:.0%})")
        res.append({"t2": float(a), "t2_limit": domain["t2_limit"], "q": float(b), "q_limit": domain["q_limit"],
                    "outside_fraction": float(c), "outside_limit": domain["outside_limit"], "in_domain": not why,
                    "why": "; ".join(why), "excess": float(max(a / domain["t2_limit"], b / domain["q_limit"], 1.0))})
    return res


def train_pulse_model(x, y, groups, *, n_ensemble: int = 25, seed: int = 0, nested: bool = True) -> dict:
    """Train the screening model; returns the JSON-ready model with its cross-validated error.

    ``nested=False`` reports the leave-one-cell-out error at the chosen penalty instead of the
    nested one (the penalty then saw the held-out cells: a slightly optimistic error, much faster
    on sets with many cells).
    """
    x, y, groups = np.asarray(x, float), np.asarray(y, float), np.asarray(groups)
    rng = np.random.default_rng(seed)
    lam = _choose_lambda(x, y, groups)
    cv_pred = nested_cross_validation(x, y, groups) if nested else _loco(x, y, groups, lam)
    resid = cv_pred - y
    cells = np.unique(groups)
    members = []
    for _ in range(n_ensemble):
        pick = rng.choice(cells, size=cells.size, replace=True)
        idx = np.concatenate([np.flatnonzero(groups == c) for c in pick])
        coef, b = _ridge(x[idx], y[idx], lam)
        members.append({"coef": np.round(coef, 10).tolist(), "intercept": round(b, 10)})
    full = _ridge(x, y, lam)
    domain = fit_domain(x, groups, seed=seed)
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
            "scheme": "nested leave-one-cell-out (physical cell groups)" if nested
                      else "leave-one-cell-out at the chosen penalty (physical cell groups)",
            "n_tests": int(y.size),
            "n_cells": int(cells.size),
            "mae_soh": float(np.mean(np.abs(resid))),
            "rmse_soh": float(np.sqrt(np.mean(resid**2))),
            "max_abs_error_soh": float(np.max(np.abs(resid))),
        },
        "domain": domain,
        "soh_sd_training": float(np.std(y)),
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
    """Screening estimate: SOH [1] and its standard uncertainty [1], and whether the model may judge the cell.

    ``in_domain`` is False when the test's features fall outside the model's applicability
    domain (:func:`domain_check`); ``sigma`` is then widened and ``note`` says why. ``soh`` is
    always inside :data:`SOH_RANGE`; ``raw_soh`` is the unclipped model output.
    """

    soh: float
    sigma: float
    model: str
    in_domain: bool = True
    note: str = ""
    raw_soh: float = float("nan")
    domain: dict | None = None


def screen(model: dict, f) -> PulseEstimate:
    """Estimate from a feature vector ``f`` with the model's domain check (see :func:`predict_soh`)."""
    f = np.atleast_2d(np.asarray(f, float))
    m = model["model"]
    raw = float(_predict((np.array(m["coef"]), m["intercept"]), f)[0])
    ens = [float(_predict((np.array(e["coef"]), e["intercept"]), f)[0]) for e in model["ensemble"]]
    sigma = float(np.hypot(model["cv"]["rmse_soh"], np.std(ens)))
    soh = float(np.clip(raw, *SOH_RANGE))
    notes, ok, dom = [], True, None
    if "domain" in model:
        dom = domain_check(model["domain"], f)[0]
        if not dom["in_domain"]:
            ok = False
            notes.append(f"outside the applicability domain of {model['name']} ({dom['why']})")
            # widened: at least the spread of the training SOH (what a constant would err by), scaled
            # by how far beyond the limits the cell sits
            sigma = float(np.hypot(sigma, model.get("soh_sd_training", 0.1) * np.sqrt(dom["excess"])))
    if raw != soh:
        ok = False
        notes.append(f"model output {raw:.3f} outside the SOH range {SOH_RANGE[0]:g} to {SOH_RANGE[1]:g}: clipped")
        sigma = max(sigma, abs(raw - soh))
    return PulseEstimate(soh, sigma, model["name"], ok, "; ".join(notes), raw, dom)


def predict_soh(pulse_voltage_V, pulse_soc, model: dict | None = None) -> PulseEstimate:
    """SOH estimate with uncertainty from a pulse test, flagged when outside the model's domain.

    The estimate is the ridge model's output clipped to :data:`SOH_RANGE`; sigma combines the
    cross-validated RMSE and the bootstrap ensemble spread. When the test lies outside the
    applicability domain (:func:`fit_domain`) or the raw output leaves the SOH range,
    ``in_domain`` is False, sigma is widened, and the grading pipeline does not use the estimate
    as the cell's SOH.
    """
    model = model or load_pulse_model()
    return screen(model, features(pulse_voltage_V, pulse_soc))


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
