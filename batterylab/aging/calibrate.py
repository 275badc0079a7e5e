"""Calibrate a kernel ageing model from PyBaMM degradation simulations ("PyBaMM feeds the kernel").

A design of experiments of PyBaMM runs with degradation submodels (O'Kane et al. 2022,
doi:10.1039/D2CP00417H: solvent-diffusion-limited SEI, partially reversible lithium plating and,
in the ``spm_lam`` configuration, stress-driven loss of active material with particle swelling)
is run in parallel processes (``spawn`` context), each run cached on disk. The design
(:func:`design`) is a Latin hypercube over :data:`DESIGN_BOX` (ambient temperature, charge and
discharge C-rate, SOC window centre and depth, rest fraction) plus storage points; the held-out
conditions (:func:`held_out_design`) are drawn from the same box with fixed seeds. The loss of
each mechanism is read from PyBaMM's variables at the end of every cycle (or storage interval) and
a kernel ageing model is fitted to it (:func:`fit`), then written as a JSON model in the
framework's format with its provenance (PyBaMM version, model options, design points, fit
residuals). Named configurations: :data:`CONFIGURATIONS`; any model and options through
:func:`configuration_spec`.

Model form (every piece runs in :mod:`batterylab.kernels.aging` under its per-sample
aggregation; one capacity group, q = offset - sum of weighted losses; each state is fitted to its
own PyBaMM variable, with the stressors that PyBaMM's submodel responds to):

``LLI_SEI``  (solvent-diffusion-limited SEI: L^2 - L0^2 ~ D(T) t)
    ``power`` state, exponent 1/2, driver time [days], ``k = k_ref exp(-Ea/R (1/T - 1/T_ref)) exp(b (soc - 1/2))``,
    ``initial`` y0 (the initial SEI in loss units). Exact update: ``y^2 += k^2 dt``, the closed
    form of parabolic growth under varying T; y - y0 is the loss.
``LLI_plating``  (lithium lost to plating, net of stripping, at the end of each cycle)
    ``power`` state, fitted exponent e with an initial offset, driver time [h]; the rate of
    :func:`_plating_rate`: two Butler-Volmer-like terms in the anode's open-circuit potential at
    the SOC over T (:func:`anode_potential_table`, from the parameter set), one at any current
    (plating at rest at high SOC), one times the **charge** C-rate^n.
``LAM_ne``, ``LAM_pe``  (stress-driven LAM; PyBaMM counts the tensile surface stress, which
    arises on each electrode's delithiation, ~ current / D(T))
    ``power`` state, exponent 1, driver time [h], ``k = A exp(-Ea/R (1/T - 1/T_ref)) c^n exp(b (soc - 1/2))``
    with c the **discharge** C-rate for the negative electrode and the **charge** C-rate for the
    positive (:data:`MECHANISM_STRESSOR`); zero in a configuration without LAM.
``LLI_LAM_ne``, ``LLI_LAM_pe``  (lithium taken with the lost active material)
    each LAM law times a fitted ratio (non-negative least squares).

The LLI states are PyBaMM's lost lithium [A.h] / nominal capacity, weighted (state ``sign``) by
the fitted sensitivity ``dq/dLLI`` of PyBaMM's electrode-SOH capacity; LAM states are PyBaMM's
LAM fractions weighted by theirs (non-negative least squares; 0 for this cell over the design:
the negative electrode keeps an excess, so LAM does not limit capacity). The group offset
``1 + s_LLI (sum of initial offsets)`` makes q(0) = 1, so q is the calibrated prediction of
PyBaMM's ``Capacity [A.h]`` over its fresh value. Fit: bounded least squares (scipy), residuals
relative to each point's final loss. Validity: the range of every stressor over the design
(stated in the JSON; a duty outside it warns, naming the stressor).
"""

from __future__ import annotations

import hashlib
import json
import math
import time as _time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import checks
from ..errors import InputError, unknown_option

FARADAY_C_PER_MOL = 96485.33212
GAS_CONSTANT_J_PER_MOL_K = 8.314462618
T_REF_K = 298.15

#: PyBaMM options of the calibration runs (SPMe + lumped thermal; O'Kane 2022 degradation).
DEFAULT_OPTIONS = {
    "SEI": "solvent-diffusion limited",
    "lithium plating": "partially reversible",
    "loss of active material": "stress-driven",
    "particle mechanics": "swelling only",
    "thermal": "lumped",
}
#: Same model with every degradation submodel off (used to check zero fade).
NO_DEGRADATION_OPTIONS = {"thermal": "lumped"}
#: The named PyBaMM configurations a shipped calibrated model is made for: model and options.
CONFIGURATIONS = {
    "spm_lam": {"model": "SPM", "options": dict(DEFAULT_OPTIONS),
                "description": "SPM + lumped thermal; solvent-diffusion-limited SEI, partially reversible plating, "
                               "stress-driven LAM with particle swelling (O'Kane 2022)"},
    "spme": {"model": "SPMe", "options": {"SEI": "solvent-diffusion limited", "lithium plating": "partially reversible",
                                          "thermal": "lumped"},
             "description": "SPMe + lumped thermal; solvent-diffusion-limited SEI, partially reversible plating; no LAM submodel"},
}


_VARS = {
    "sei_mol": "Loss of lithium to negative SEI [mol]",
    "sei_cracks_mol": "Loss of lithium to negative SEI on cracks [mol]",
    "plating_mol": "Loss of lithium to negative lithium plating [mol]",
    "lam_li_ne_mol": "Loss of lithium due to loss of active material in negative electrode [mol]",
    "lam_li_pe_mol": "Loss of lithium due to loss of active material in positive electrode [mol]",
    "lam_ne_pct": "Loss of active material in negative electrode [%]",
    "lam_pe_pct": "Loss of active material in positive electrode [%]",
}


@dataclass(frozen=True)
class DesignPoint:
    """One PyBaMM degradation run.

    kind "cycle": ``cycles`` cycles between ``soc_low`` and ``soc_high`` (full window: CC-CV charge
    to the upper cut-off, CC discharge to the lower cut-off; partial window: CC charge/discharge
    for ``(soc_high - soc_low) / C`` hours) at ``charge_c``/``discharge_c`` [1/h] in
    ``ambient_K``, with a rest of ``rest_h`` hours after the charge and after the discharge.
    kind "storage": rest at ``soc_high`` for ``storage_days`` in ``ambient_K``, recorded every
    ``storage_step_days``.
    """

    name: str
    kind: str
    ambient_K: float
    charge_c: float = 0.0
    discharge_c: float = 0.0
    soc_low: float = 0.0
    soc_high: float = 1.0
    cycles: int = 0
    storage_days: float = 0.0
    storage_step_days: float = 10.0
    rest_h: float = 0.0

    def experiment_steps(self) -> tuple[list, float]:
        """PyBaMM experiment (list of cycles of step strings) and initial SOC."""
        if self.kind == "storage":
            n = max(1, int(round(self.storage_days / self.storage_step_days)))
            return [(f"Rest for {self.storage_step_days * 24:g} hours",)] * n, self.soc_high
        rest = (f"Rest for {60 * self.rest_h:.6g} minutes",) if self.rest_h > 0 else ()
        full = self.soc_low <= 0.0 and self.soc_high >= 1.0
        if full:
            cyc = (f"Charge at {self.charge_c:g}C until 4.2 V", "Hold at 4.2 V until C/20", *rest,
                   f"Discharge at {self.discharge_c:g}C until 2.5 V", *rest)
            return [cyc] * self.cycles, 0.0
        dod = self.soc_high - self.soc_low
        cyc = (
            f"Charge at {self.charge_c:g}C for {60 * dod / self.charge_c:.6g} minutes or until 4.2 V", *rest,
            f"Discharge at {self.discharge_c:g}C for {60 * dod / self.discharge_c:.6g} minutes or until 2.5 V", *rest,
        )
        return [cyc] * self.cycles, self.soc_low


#: The box the calibration design fills and the held-out conditions are drawn from: ambient [K],
#: charge and discharge C-rate [1/h], SOC window centre and depth [-], rest fraction [-] (the
#: share of a cycle's nominal time at rest, split between after the charge and after the
#: discharge); storage: ambient [K] and SOC [-].
DESIGN_BOX = {
    "ambient_K": (273.15, 318.15),
    "charge_c": (0.2, 2.0),
    "discharge_c": (0.3, 3.0),
    "soc_centre": (0.3, 0.7),
    "soc_depth": (0.2, 1.0),
    "rest_fraction": (0.0, 0.6),
}
STORAGE_BOX = {"ambient_K": (273.15, 318.15), "soc": (0.1, 1.0)}
#: A window at least this deep is cycled over the full voltage range (CC-CV), as a user's 0-100 % cycle.
FULL_WINDOW_DEPTH = 0.95
#: Seeds of the design (Latin hypercube) and of the held-out draw; fixed before any fit.
DESIGN_SEED = 17
HELD_OUT_SEED = 1717


def cycling_point(name: str, x: dict, cycles: int) -> DesignPoint:
    """A cycling :class:`DesignPoint` from a point of :data:`DESIGN_BOX` (a dict of its keys).

    The window is [centre - depth/2, centre + depth/2] moved inside [0, 1]; a depth of at least
    :data:`FULL_WINDOW_DEPTH` is the full window. The rest after each half cycle is
    ``rest_fraction / (1 - rest_fraction)`` of the cycle's nominal active time, halved.
    """
    depth = float(x["soc_depth"])
    if depth >= FULL_WINDOW_DEPTH:
        lo, hi, dod = 0.0, 1.0, 1.0
    else:
        lo = min(max(float(x["soc_centre"]) - depth / 2, 0.0), 1.0 - depth)
        hi, dod = lo + depth, depth
    active_h = dod / float(x["charge_c"]) + dod / float(x["discharge_c"])
    r = float(x["rest_fraction"])
    return DesignPoint(name, "cycle", round(float(x["ambient_K"]), 3), round(float(x["charge_c"]), 4),
                       round(float(x["discharge_c"]), 4), round(lo, 4), round(hi, 4), int(cycles),
                       rest_h=round(0.5 * r / (1.0 - r) * active_h, 4))


def _scaled(u: np.ndarray, box: dict) -> list[dict]:
    keys = list(box)
    return [{k: box[k][0] + ui * (box[k][1] - box[k][0]) for k, ui in zip(keys, row)} for row in np.atleast_2d(u)]


def design(quick: bool = False, *, cycling_points: int = 40, storage_points: int = 6, cycles: int = 300,
           storage_days: float = 240.0) -> list[DesignPoint]:
    """The calibration design: a Latin hypercube over :data:`DESIGN_BOX` and one over :data:`STORAGE_BOX`.

    Full: ``cycling_points`` cycling points of ``cycles`` cycles (optimised for centred
    discrepancy, seed :data:`DESIGN_SEED`) and ``storage_points`` storage points of
    ``storage_days``. Quick: 3 cycling points of 3 cycles and 1 storage point of 20 days (for tests).
    """
    if quick:
        return [
            DesignPoint("c25_0.5_1_full", "cycle", 298.15, 0.5, 1.0, 0.0, 1.0, 3),
            DesignPoint("c10_1_1_w20_80_rest", "cycle", 283.15, 1.0, 1.0, 0.2, 0.8, 3, rest_h=0.25),
            DesignPoint("c40_0.5_2_full", "cycle", 313.15, 0.5, 2.0, 0.0, 1.0, 3),
            DesignPoint("s40_soc1", "storage", 313.15, soc_high=1.0, storage_days=20, storage_step_days=10),
        ]
    from scipy.stats import qmc

    n_c = checks.integer("cycling_points", cycling_points, low=1)
    n_s = checks.integer("storage_points", storage_points, low=0)
    u = qmc.LatinHypercube(d=len(DESIGN_BOX), optimization="random-cd", seed=DESIGN_SEED).random(n_c)
    pts = [cycling_point(f"d{i:02d}", x, cycles) for i, x in enumerate(_scaled(u, DESIGN_BOX))]
    if n_s:
        us = qmc.LatinHypercube(d=len(STORAGE_BOX), optimization="random-cd", seed=DESIGN_SEED + 1).random(n_s)
        pts += [DesignPoint(f"s{i:02d}", "storage", round(float(x["ambient_K"]), 3), soc_high=round(float(x["soc"]), 4),
                            storage_days=float(storage_days)) for i, x in enumerate(_scaled(us, STORAGE_BOX))]
    return pts


#: Corners of :data:`DESIGN_BOX` (0: low edge, 1: high edge, in its key order) of each held-out set.
HELD_OUT_CORNERS = (
    {"corner_low": (0, 0, 0, 0, 0, 0), "corner_high": (1, 1, 1, 1, 1, 1)},
    # cold, fast charge and discharge, a deep high window, no rest; hot, slow, shallow, low, long rests
    {"corner_cold_fast": (0, 1, 1, 1, 1, 0), "corner_hot_slow": (1, 0, 0, 0, 0, 1)},
    # cold fast charge, slow discharge, deep high window, long rests; hot slow charge, fast discharge
    {"corner_cold_fast_charge": (0, 1, 0, 1, 1, 1), "corner_hot_fast_discharge": (1, 0, 1, 0, 1, 0)},
)


def held_out_design(cycles: int = 300, *, random_points: int = 8, draw: int = 1) -> list[DesignPoint]:
    """Held-out conditions, by construction not in the design: ``random_points`` uniform draws from
    :data:`DESIGN_BOX` and two corners 5 % inside its edges, ``cycles`` cycles each.

    ``draw`` k has seed ``HELD_OUT_SEED + k - 1`` and the corners ``HELD_OUT_CORNERS[k - 1]``.
    Draw 1 (corners all low and all high) was committed before the first fit; each later draw
    before a revision of the model form made after the earlier draws had been seen, and kept
    unseen until that revision was final.
    """
    if draw not in range(1, len(HELD_OUT_CORNERS) + 1):
        raise InputError(f"draw must be 1 to {len(HELD_OUT_CORNERS)}, got {draw!r}")
    rng = np.random.default_rng(HELD_OUT_SEED + draw - 1)
    u = rng.random((checks.integer("random_points", random_points, low=0), len(DESIGN_BOX)))
    prefix = "heldout_" if draw == 1 else f"heldout{draw}_"
    pts = [cycling_point(f"{prefix}{i}", x, cycles) for i, x in enumerate(_scaled(u, DESIGN_BOX))]
    for name, corner in HELD_OUT_CORNERS[draw - 1].items():
        x = _scaled(0.05 + 0.9 * np.asarray(corner, float), DESIGN_BOX)[0]
        pts.append(cycling_point(prefix + name, x, cycles))
    return pts


@dataclass
class RunSpec:
    """Everything that determines a PyBaMM run (hashed into the cache key).

    The default model is the SPM with lumped thermal: measured here (2 shared cores) 0.30 s per
    CC-CV cycle against 0.87 s for the SPMe with the same degradation options; at the design's
    C-rates (<= 2C) the electrolyte correction matters little and the held-out reference uses the
    same model, so the calibration targets are self-consistent.
    """

    parameter_set: str = "OKane2022"
    model: str = "SPM"
    options: dict = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    parameters: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.parameters, dict):
            raise InputError(f"parameters must be a dict of PyBaMM-named values, got {type(self.parameters).__name__}")
        if self.parameters:  # a misspelt name fails here, with close matches, not in the first PyBaMM run
            from ..cell.parameters import check_known

            check_known(_pv_of(self.parameter_set), self.parameters, f"RunSpec parameters for {self.parameter_set!r}",
                        "PyBaMM parameter names, as in pybamm.ParameterValues")

    def key(self, point: DesignPoint) -> str:
        import pybamm

        blob = json.dumps({"point": asdict(point), "run": asdict(self), "pybamm": pybamm.__version__,
                           "format": 1}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _pv_of(parameter_set: str):
    """PyBaMM parameter values of a PyBaMM set (``"OKane2022"``) or of a batterylab cell (a
    shipped name, a sidecar or a BPX file, :func:`batterylab.cell.load_parameter_set`), with the
    O'Kane 2022 degradation parameters added where the cell's set lacks them (BPX has none)."""
    import pybamm

    if parameter_set in pybamm.parameter_sets.keys():
        return pybamm.ParameterValues(parameter_set)
    from ..cell import load_parameter_set

    pv = load_parameter_set(parameter_set).parameter_values()
    pv.update({k: v for k, v in pybamm.ParameterValues("OKane2022").items() if k not in pv}, check_already_exists=False)
    return pv


def run_point(point: DesignPoint, spec: RunSpec) -> dict:
    """Run one design point with PyBaMM; return plain arrays (trajectory and per-record losses).

    Returns a dict of numpy arrays: ``time_s``, ``current_A`` (discharge positive), ``soc`` [-]
    (initial SOC minus discharged charge / nominal capacity), ``temperature_K`` (volume-averaged
    cell temperature), ``record_index`` (sample index at the end of each cycle / storage interval)
    and per record: ``capacity_Ah`` (PyBaMM's electrode-SOH capacity), ``lli_sei_Ah``,
    ``lli_plating_Ah``, ``lli_lam_Ah`` (lithium lost via LAM) [A.h], ``lam_ne``, ``lam_pe`` [-],
    plus ``capacity0_Ah`` (before the first record) and ``wall_s``.
    """
    import pybamm

    from ..cell import engine

    pv = _pv_of(spec.parameter_set)
    pv.update(spec.parameters)
    pv["Ambient temperature [K]"] = point.ambient_K
    pv["Initial temperature [K]"] = point.ambient_K
    qnom = float(pv["Nominal cell capacity [A.h]"])
    model = engine.pybamm_model(spec.model, spec.options)
    steps, soc0 = point.experiment_steps()
    exp = engine.experiment(steps, period_s=60.0 if point.kind == "cycle" else 12 * 3600.0)
    sim = engine.simulation(model, pv, experiment=exp, solver=engine.solver(), what=f"design point {point.name}")
    t0 = _time.perf_counter()
    sol = engine.solve(sim, f"design point {point.name}", model=f"the {spec.model} model with options {spec.options}",
                       parameters=f"parameter set {spec.parameter_set!r}", quiet=True, initial_soc=soc0)
    wall = _time.perf_counter() - t0
    t = np.asarray(sol.t, dtype=float)
    # Experiment steps share boundary instants: keep strictly increasing samples.
    keep = np.concatenate([[True], np.diff(t) > 1e-9])
    t = t[keep]
    ends = np.array([float(c.t[-1]) for c in sol.cycles])
    rec = np.searchsorted(t, ends - 1e-9)
    rec = np.minimum(rec, t.size - 1)
    I = np.asarray(sol["Current [A]"].entries, dtype=float)[keep]
    T = np.asarray(sol["Volume-averaged cell temperature [K]"].entries, dtype=float)[keep]
    qd = np.asarray(sol["Discharge capacity [A.h]"].entries, dtype=float)[keep]
    out = {
        "time_s": t - t[0],
        "current_A": I,
        "temperature_K": T,
        "soc": np.clip(soc0 - qd / qnom, 0.0, 1.0),
        "record_index": rec.astype(np.int64),
        "nominal_capacity_Ah": np.array(qnom),
        "wall_s": np.array(wall),
    }
    to_Ah = FARADAY_C_PER_MOL / 3600.0
    vals = {}
    for k, name in _VARS.items():
        try:
            vals[k] = np.asarray(sol[name].entries, dtype=float)[keep]
        except Exception:  # variable absent when the submodel is off
            vals[k] = np.zeros(t.size)
    out["lli_sei_Ah"] = (vals["sei_mol"] + vals["sei_cracks_mol"])[rec] * to_Ah
    out["lli_plating_Ah"] = vals["plating_mol"][rec] * to_Ah
    out["lli_lam_Ah"] = (vals["lam_li_ne_mol"] + vals["lam_li_pe_mol"])[rec] * to_Ah
    out["lam_ne"] = vals["lam_ne_pct"][rec] / 100.0
    out["lam_pe"] = vals["lam_pe_pct"][rec] / 100.0
    # Initial values (t = 0): the SEI variable starts at 0 (losses relative to the initial state).
    try:
        cap = np.asarray(sol.summary_variables["Capacity [A.h]"], dtype=float)
    except Exception:
        cap = np.full(len(sol.cycles), np.nan)
    out["capacity_Ah"] = cap
    try:
        esoh = pybamm.lithium_ion.ElectrodeSOHSolver(pv, param=model.param, options=model.options)
        inputs = {"Q_Li": float(pv.evaluate(model.param.Q_Li_particles_init)),
                  "Q_n": float(pv.evaluate(model.param.n.Q_init)),
                  "Q_p": float(pv.evaluate(model.param.p.Q_init))}
        cap0 = float(esoh.solve(inputs)["Capacity [A.h]"])
    except Exception as exc:
        raise RuntimeError(f"electrode SOH of the fresh cell failed: {exc}") from None
    out["capacity0_Ah"] = np.array(cap0)
    return out


def _cache_path(cache_dir: Path, point: DesignPoint, spec: RunSpec) -> Path:
    return Path(cache_dir) / f"{point.name}-{spec.key(point)}.npz"


def _worker(args):
    point, spec, cache_dir = args
    path = _cache_path(cache_dir, point, spec)
    if path.exists():
        return point.name, str(path), True
    res = run_point(point, spec)
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **res)
    return point.name, str(path), False


def default_cache_dir() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "batterylab" / "pybamm_aging"


def run_design(points, spec: RunSpec | None = None, *, cache_dir=None, jobs: int = 1, progress: bool = True,
               client=None) -> dict:
    """Run (or read from the cache) every design point; return ``{name: dict of arrays}``.

    Runs in ``jobs`` processes of the ``spawn`` context (PyBaMM's own multi-input path forks; a
    forked process must not inherit a parallel numba kernel), with a tqdm progress bar. Each result
    is cached as ``<cache_dir>/<name>-<hash>.npz``, the hash covering the design point, the run
    specification (parameter set, model, options, overrides) and the PyBaMM version.

    ``client`` (a ``dask.distributed.Client``) runs the missing points as Dask tasks instead
    (:mod:`batterylab.distributed`); this process writes the cache files.
    """
    spec = spec or RunSpec()
    jobs = int(checks.finite_scalar("jobs", jobs, low=1, high=256))
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    names = [p.name for p in points]
    if len(set(names)) != len(names):
        raise InputError(f"design point names must be unique, got {names}")
    from tqdm import tqdm

    tasks = [(p, spec, cache) for p in points]
    paths = {}
    bar = tqdm(total=len(tasks), desc="PyBaMM design", unit="run", disable=not progress)
    todo = [t for t in tasks if not _cache_path(cache, t[0], spec).exists()]
    for t in tasks:
        if t not in todo:
            paths[t[0].name] = str(_cache_path(cache, t[0], spec))
            bar.update(1)
    if todo and client is not None:  # one point per Dask task (batterylab.distributed)
        from ..distributed import check_client

        pts = [t[0] for t in todo]
        run_design_points(check_client(client), pts, spec, [_cache_path(cache, p, spec) for p in pts])
        paths.update({p.name: str(_cache_path(cache, p, spec)) for p in pts})
        bar.update(len(pts))
        todo = []
    if todo:
        if jobs == 1 or len(todo) == 1:
            for t in todo:
                name, p, _ = _worker(t)
                paths[name] = p
                bar.update(1)
        else:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(min(jobs, len(todo))) as pool:
                for name, p, _ in pool.imap_unordered(_worker, todo):
                    paths[name] = p
                    bar.update(1)
    bar.close()
    out = {}
    for p in points:
        with np.load(paths[p.name]) as z:
            out[p.name] = _with_soc({k: z[k] for k in z.files}, p)
    return out


def _with_soc(r: dict, point: DesignPoint) -> dict:
    """SOC from the current integral over the fresh cell's electrode-SOH capacity.

    ``soc = soc0 - int I dt / (3600 Q0)`` (trapezoid over PyBaMM's output samples), clipped to
    [0, 1]; Q0 = ``capacity0_Ah`` so that a full-window cycle runs from 0 to 1 and back.
    """
    t, I = r["time_s"], r["current_A"]
    q = np.concatenate([[0.0], np.cumsum(0.5 * (I[1:] + I[:-1]) * np.diff(t))]) / 3600.0
    soc0 = point.experiment_steps()[1]
    r["soc"] = np.clip(soc0 - q / float(r["capacity0_Ah"]), 0.0, 1.0)
    return r


# ============================================================================================
# fit
# ============================================================================================

#: C-rate floor [1/h] of the current-driven rate laws: 0, so that they stop when no current of
#: their direction flows (exponents n >= 0.1); at rest only SEI and plating's term at any current act.
CRATE_FLOOR = 0.0
#: The kernel C-rate stressor each current-driven mechanism sees (batterylab.aging stressor names), as
#: PyBaMM's O'Kane 2022 submodels respond: plating on the negative electrode's lithiation
#: (charge); stress-driven LAM on each electrode's delithiation, when the surface hoop stress is
#: tensile (PyBaMM counts only tensile stress): the negative electrode on discharge, the positive
#: on charge. The temperature and SOC terms of each law act only while its current flows (one
#: product with the C-rate term).
MECHANISM_STRESSOR = {"plating": "charge_crate_per_h", "lam_ne": "discharge_crate_per_h",
                      "lam_pe": "charge_crate_per_h"}
_STEP_CRATE = {"crate_per_h": "c", "charge_crate_per_h": "cc", "discharge_crate_per_h": "cd"}


def _steps(r: dict, qnom: float, anode: dict | None = None) -> dict:
    """Kernel step quantities of a PyBaMM trajectory, as the kernel's per-sample path forms them
    from samples (step means): C-rate |I|, charge C-rate max(-I, 0) and discharge C-rate max(I, 0)
    over the nominal capacity (current discharge positive); with ``anode`` (an anode-potential
    table, :func:`anode_potential_table`) the negative electrode's open-circuit potential at the
    step's mean SOC [V]."""
    t = r["time_s"]
    I = np.asarray(r["current_A"], dtype=float)
    soc = r["soc"]
    T = r["temperature_K"]

    def mean(x):
        return 0.5 * (x[1:] + x[:-1])

    out = {
        "dt_s": np.diff(t),
        "T": mean(T),
        "soc": mean(soc),
        "c": mean(np.abs(I)) / qnom,
        "cc": mean(np.maximum(-I, 0.0)) / qnom,
        "cd": mean(np.maximum(I, 0.0)) / qnom,
        "defc": 0.5 * np.abs(np.diff(soc)),
        # record k (end of cycle k) = cumulative sum up to sample record_index[k]
        "rec": np.asarray(r["record_index"], dtype=np.int64),
    }
    if anode is not None:
        out["ua"] = np.interp(out["soc"], anode["soc"], anode["potential_V"])
    return out


#: Centre [V] of the plating law's anode-potential term (graphite's lowest plateau, about 0.09 V).
UA_CENTER_V = 0.1


def anode_potential_table(spec: "RunSpec", points: int = 101) -> dict:
    """The negative electrode's open-circuit potential [V] over SOC [-] on the fresh cell's
    electrode-SOH stoichiometry window (SOC 0 at the lower, 1 at the upper voltage limit: the
    design's SOC), from the PyBaMM parameter set of ``spec``."""
    import pybamm

    pv = _pv_of(spec.parameter_set)
    pv.update(spec.parameters)
    x0, x100, _, _ = pybamm.lithium_ion.get_min_max_stoichiometries(pv)
    soc = np.linspace(0.0, 1.0, points)
    u = np.asarray(pv["Negative electrode OCP [V]"](pybamm.Vector(x0 + soc * (x100 - x0))).evaluate(), dtype=float).ravel()
    return {"soc": [round(float(v), 6) for v in soc], "potential_V": [round(float(v), 6) for v in u],
            "source": f"PyBaMM {pybamm.__version__} parameter set {spec.parameter_set}: 'Negative electrode OCP [V]' "
                      f"at stoichiometry {float(x0):.6g} + SOC ({float(x100):.6g} - {float(x0):.6g})"}


def _arr(T, Ea):
    return np.exp(-Ea / GAS_CONSTANT_J_PER_MOL_K * (1.0 / T - 1.0 / T_REF_K))


def _rate_law(p, s, mechanism: str):
    """k = A exp(-Ea/R (1/T - 1/T_ref)) max(c, floor)^n exp(b (soc - 1/2)), c the mechanism's
    C-rate (:data:`MECHANISM_STRESSOR`); p = (lnA, Ea [kJ/mol], n, b)."""
    lnA, Ea_kJ, n, b = p
    c = s[_STEP_CRATE[MECHANISM_STRESSOR[mechanism]]]
    return (np.exp(lnA + b * (s["soc"] - 0.5)) * _arr(s["T"], Ea_kJ * 1e3)
            * np.maximum(c, CRATE_FLOOR) ** n)


def _at_records(cum_steps: np.ndarray, rec: np.ndarray) -> np.ndarray:
    cum = np.concatenate([[0.0], np.cumsum(cum_steps)])
    return cum[rec]


def _pred_time(p, s):
    """LLI_time growth y - y0 with y = sqrt(y0^2 + sum k^2 dt_days); p = (lnA, Ea_kJ, b, ln y0)."""
    lnA, Ea_kJ, b, lny0 = p
    k = np.exp(lnA + b * (s["soc"] - 0.5)) * _arr(s["T"], Ea_kJ * 1e3)
    y0 = math.exp(lny0)
    u = _at_records(k * k * s["dt_s"] / 86400.0, s["rec"])
    return np.sqrt(y0 * y0 + u) - y0


def _plating_rate(p, s):
    """Plating rate k = A_0 exp(-E_0/R (1/T - 1/T_ref)) exp(b_0 (U_a/T - U_c/T_ref))
    + A_c exp(-E_c/R (1/T - 1/T_ref)) exp(b_c (U_a/T - U_c/T_ref)) c_charge^n.

    Both terms follow the anode's potential U_a at the step's SOC over the temperature, as in a
    Butler-Volmer rate (plating grows exponentially as the negative electrode's potential falls
    towards lithium's, with the exponent's F/(R T); U_c = :data:`UA_CENTER_V`): the first at any
    current (PyBaMM's partially reversible plating also proceeds at rest and in storage at high
    SOC), the second with the charge C-rate (the charge overpotential). p = (lnA_0, E_0 [kJ/mol],
    b_0 [kK/V], lnA_c, E_c [kJ/mol], b_c [kK/V], n)."""
    l0, e0, b0, lc, ec, bc, n = p
    x = 1e3 * (s["ua"] / s["T"] - UA_CENTER_V / T_REF_K)
    return (np.exp(l0 + b0 * x) * _arr(s["T"], e0 * 1e3)
            + np.exp(lc + bc * x) * _arr(s["T"], ec * 1e3) * np.maximum(s["cc"], CRATE_FLOOR) ** n)


def _pred_plating(p, s):
    """Plating LLI growth y - y0, y = (y0^(1/e) + sum k^(1/e) dt_h)^e; p = (the 7 rate
    coefficients of :func:`_plating_rate`, e, ln y0)."""
    *rate, e, lny0 = p
    y0 = math.exp(lny0)
    k = _plating_rate(rate, s)
    u = _at_records(k ** (1.0 / e) * s["dt_s"] / 3600.0, s["rec"])
    return (y0 ** (1.0 / e) + u) ** e - y0


def _pred_lam(p, s, electrode: str):
    return _at_records(_rate_law(p, s, electrode) * s["dt_s"] / 3600.0, s["rec"])


def _targets(r: dict, qnom: float) -> dict:
    """PyBaMM's losses per record: lithium [fraction of nominal] per mechanism and in total, LAM
    per electrode [fraction], and capacity loss [fraction of the fresh electrode-SOH capacity]."""
    lli = (r["lli_sei_Ah"] + r["lli_plating_Ah"] + r["lli_lam_Ah"]) / qnom
    return {
        "lli": lli,
        "sei": r["lli_sei_Ah"] / qnom,
        "plating": r["lli_plating_Ah"] / qnom,
        "lam_li": r["lli_lam_Ah"] / qnom,
        "lam_ne": r["lam_ne"],
        "lam_pe": r["lam_pe"],
        "q_loss": 1.0 - r["capacity_Ah"] / float(r["capacity0_Ah"]),
    }


def _lsq(fun, x0, lo, hi):
    from scipy.optimize import least_squares

    sol = least_squares(fun, x0, bounds=(lo, hi), x_scale="jac", max_nfev=4000)
    return sol.x


#: Losses (fractions of capacity) below this are rounding in PyBaMM's variables, not ageing.
_ROUNDING = 1e-9


def fit(results: dict, points, *, anode: dict, nominal_capacity_Ah: float | None = None) -> dict:
    """Fit the kernel model's coefficients to PyBaMM design results, each state to its own mechanism
    (``anode``: the cell's anode-potential table, :func:`anode_potential_table`).

    Least squares with every point weighted by its own final loss (relative errors: each
    condition counts equally whatever its fade). Returns the coefficients, the capacity
    sensitivities and per-point residuals (all plain floats).
    """
    from scipy.optimize import nnls

    pts = {p.name: p for p in points}
    names = [n for n in results if n in pts]
    qnom = float(nominal_capacity_Ah or float(results[names[0]]["nominal_capacity_Ah"]))
    S = {n: _steps(results[n], qnom, anode) for n in names}
    Y = {n: _targets(results[n], qnom) for n in names}
    cyc = [n for n in names if pts[n].kind == "cycle"]

    def weights(key, use):
        # relative to each point's final loss, floored at 5 % of the largest (a point with next
        # to no loss of a mechanism must not dominate its fit)
        top = max(abs(Y[n][key][-1]) for n in use)
        return {n: 1.0 / (max(abs(Y[n][key][-1]), 0.05 * top, 1e-12) * math.sqrt(Y[n][key].size)) for n in use}

    def fit_multi(pred, key, starts, lo, hi, use, offset=None):
        if not use or max(abs(Y[n][key][-1]) for n in use) < _ROUNDING:
            # no such loss in the design (e.g. the submodel is off): the state's rate is exactly 0
            x = np.array([(a + b) / 2 for a, b in zip(lo, hi)], dtype=float)
            x[0] = -math.inf
            return x
        w = weights(key, use)

        def res(x):
            return np.concatenate([(pred(x, S[n]) + (offset[n] if offset else 0.0) - Y[n][key]) * w[n] for n in use])

        best = None
        for x0 in starts:
            x = _lsq(res, np.asarray(x0, dtype=float), np.asarray(lo, float), np.asarray(hi, float))
            c = float(np.sum(res(x) ** 2))
            if best is None or c < best[0]:
                best = (c, x)
        return best[1]

    # LAM per electrode: rate per hour in its delithiation C-rate (zero otherwise), cycling points
    lam_lo, lam_hi = [-40, -150, 0.1, -20], [10, 150, 6.0, 20]
    lam_starts = [[math.log(1e-5), -20.0, 2.0, 0.0], [math.log(1e-4), 20.0, 1.0, 0.0]]
    x_lam = {key: fit_multi(lambda x, s, key=key: _pred_lam(x, s, key), key, lam_starts, lam_lo, lam_hi, cyc)
             for key in ("lam_ne", "lam_pe")}
    lam_pred = {key: {n: _pred_lam(x_lam[key], S[n], key) for n in names} for key in x_lam}

    # SEI and plating: every point (storage and cycling). The plating term at any current is not
    # faster when cold (E_0 >= 0): PyBaMM's storage at SOC 1 plates 0.14, 0.19 and 0.23 % of
    # nominal in a day at 1, 25 and 45 degC (O'Kane 2022 set); the cold enhancement is the charge's.
    x_sei = fit_multi(_pred_time, "sei", [[math.log(2e-4), 30.0, 0.0, math.log(1e-3)]],
                      [-40, -100, -5, math.log(1e-7)], [5, 200, 5, math.log(0.2)], names)
    x_pl = fit_multi(_pred_plating, "plating",
                     [[-8, 5, -3, -8, -50, -3, 1, 0.5, math.log(1e-3)],
                      [-6, 20, -6, -6, -20, -9, 2, 0.6, math.log(1e-3)],
                      [-10, 1, 0, -10, -70, 0, 1.5, 0.4, math.log(1e-4)]],
                     [-60, 0, -100, -60, -200, -100, 0.1, 0.05, math.log(1e-7)],
                     [10, 200, 100, 10, 200, 100, 6.0, 1.0, math.log(0.2)], names)
    # lithium taken with the lost active material: f_ne LAM_ne + f_pe LAM_pe (non-negative LS)
    A = np.concatenate([np.column_stack([lam_pred["lam_ne"][n], lam_pred["lam_pe"][n]]) for n in cyc]) if cyc else np.zeros((0, 2))
    b = np.concatenate([Y[n]["lam_li"] for n in cyc]) if cyc else np.zeros(0)
    f_lam = nnls(A, b)[0] if A.size and np.any(A) else np.zeros(2)

    # Capacity sensitivities: q_loss = s_L LLI + s_n LAM_ne + s_p LAM_pe (non-negative LS).
    A = np.concatenate([np.column_stack([Y[n]["lli"], Y[n]["lam_ne"], Y[n]["lam_pe"]]) for n in names])
    b = np.concatenate([Y[n]["q_loss"] for n in names])
    ok = np.isfinite(b)
    # A mechanism whose largest value over the design is at rounding level (PyBaMM reports
    # LAM of 3e-16 with LAM switched off) is absent: its column would fit noise.
    A[:, np.nanmax(np.abs(A[ok]), axis=0) < _ROUNDING] = 0.0
    sens, _ = nnls(A[ok], b[ok])

    residuals = {}
    for n in names:
        s = S[n]
        sei = _pred_time(x_sei, s)
        pl = _pred_plating(x_pl, s)
        ln, lp = lam_pred["lam_ne"][n], lam_pred["lam_pe"][n]
        lli = sei + pl + f_lam[0] * ln + f_lam[1] * lp
        ql = sens[0] * lli + sens[1] * ln + sens[2] * lp
        residuals[n] = {
            "records": int(s["rec"].size),
            "pybamm_capacity_loss_pct": float(100 * Y[n]["q_loss"][-1]),
            "fit_capacity_loss_pct": float(100 * ql[-1]),
            "pybamm_SEI_pct_of_nominal": float(100 * Y[n]["sei"][-1]),
            "fit_SEI_pct_of_nominal": float(100 * sei[-1]),
            "pybamm_plating_pct_of_nominal": float(100 * Y[n]["plating"][-1]),
            "fit_plating_pct_of_nominal": float(100 * pl[-1]),
            "pybamm_LLI_pct_of_nominal": float(100 * Y[n]["lli"][-1]),
            "fit_LLI_pct_of_nominal": float(100 * lli[-1]),
            "pybamm_LAM_ne_pct": float(100 * Y[n]["lam_ne"][-1]),
            "fit_LAM_ne_pct": float(100 * ln[-1]),
            "pybamm_LAM_pe_pct": float(100 * Y[n]["lam_pe"][-1]),
            "fit_LAM_pe_pct": float(100 * lp[-1]),
            "rms_capacity_residual_pct": float(100 * np.sqrt(np.nanmean((ql - Y[n]["q_loss"]) ** 2))),
        }
    return {
        "nominal_capacity_Ah": qnom,
        "lli_sei": [float(v) for v in x_sei],
        "lli_plating": [float(v) for v in x_pl],
        "lli_per_lam": {"ne": float(f_lam[0]), "pe": float(f_lam[1])},
        "lam_ne": [float(v) for v in x_lam["lam_ne"]],
        "lam_pe": [float(v) for v in x_lam["lam_pe"]],
        "sensitivity": {"LLI": float(sens[0]), "LAM_ne": float(sens[1]), "LAM_pe": float(sens[2])},
        "residuals": residuals,
    }


# ============================================================================================
# model JSON
# ============================================================================================


def _rate_expr(p, mechanism: str, scale: float = 1.0, floor: float = CRATE_FLOOR):
    """The kernel expression of :func:`_rate_law` (one product: T and SOC act only while the
    mechanism's current flows)."""
    lnA, Ea_kJ, n, b = p
    return {
        "coef": scale * math.exp(lnA),
        "terms": [
            {"type": "arrhenius", "activation_energy_J_per_mol": Ea_kJ * 1e3, "reference_temperature_K": T_REF_K},
            {"type": "power", "stressor": MECHANISM_STRESSOR[mechanism], "exponent": n, "floor": floor},
            {"type": "exp", "stressor": "soc", "rate": b, "center": 0.5},
        ],
    }


def _plating_expr(p):
    """The kernel expression of :func:`_plating_rate` (a sum of two products)."""
    l0, e0, b0, lc, ec, bc, n = p

    def arr(e):
        return {"type": "arrhenius", "activation_energy_J_per_mol": e * 1e3, "reference_temperature_K": T_REF_K}

    def ua(b):  # exp(b (U_a / T - U_c / T_ref)), b [kK/V]
        return {"type": "exp_over_T", "stressor": "anode_potential_V", "rate_K": 1e3 * b, "offset": UA_CENTER_V / T_REF_K}

    return {"sum": [{"coef": math.exp(l0), "terms": [arr(e0), ua(b0)]},
                    {"coef": math.exp(lc), "terms": [arr(ec), ua(bc),
                                                      {"type": "power", "stressor": MECHANISM_STRESSOR["plating"], "exponent": n, "floor": CRATE_FLOOR}]}]}


def _stress_range(results: dict, qnom: float) -> dict:
    """The design's range of every stressor the model reads (its validity: a duty outside warns)."""
    def span(key):
        x = np.concatenate([_steps(r, qnom)[key] for r in results.values()])
        return [round(float(x.min()), 3), round(float(x.max()), 3)]

    T = np.concatenate([r["temperature_K"] for r in results.values()])
    return {"temperature_K": [round(float(T.min()), 2), round(float(T.max()), 2)],
            "crate_per_h": [0.0, span("c")[1]], "charge_crate_per_h": [0.0, span("cc")[1]],
            "discharge_crate_per_h": [0.0, span("cd")[1]], "soc": span("soc")}


def _validity_hull(results: dict, qnom: float) -> dict:
    """The convex hulls of the design's steps in (temperature, C-rate, SOC) while charging and
    while discharging (:func:`batterylab.aging.models.check_hull` reads them): each stressor can be
    inside its range while their combination (a cold fast charge to full) was never run. A
    direction whose steps span no volume (a design at one temperature, say) gets no hull."""
    from scipy.spatial import ConvexHull, QhullError

    from .models import HULL_MIN_CRATE

    out = {}
    for direction, key in (("charge", "cc"), ("discharge", "cd")):
        pts = []
        for r in results.values():
            st = _steps(r, qnom)
            on = st[key] > HULL_MIN_CRATE
            pts.append(np.column_stack([st["T"][on], st[key][on], st["soc"][on]]))
        x = np.concatenate(pts)
        if len(x) < 4:
            continue
        lo, hi = x.min(axis=0), x.max(axis=0)
        if not np.all(hi > lo):
            continue
        try:
            hull = ConvexHull((x - lo) / (hi - lo))
        except QhullError:
            continue
        out[direction] = {"stressors": ["temperature_K", f"{direction}_crate_per_h", "soc"],
                          "lo": [float(v) for v in lo], "hi": [float(v) for v in hi],
                          "equations": [[round(float(v), 8) for v in e] for e in hull.equations]}
    return out


def build_spec(coef: dict, *, name: str, results: dict, points, spec: RunSpec, provenance: dict, anode: dict) -> dict:
    """The kernel ageing model (framework JSON format) from fitted coefficients."""
    qnom = coef["nominal_capacity_Ah"]
    sL, sn, sp = (coef["sensitivity"][k] for k in ("LLI", "LAM_ne", "LAM_pe"))
    lnA, Ea_kJ, b, lny0 = coef["lli_sei"]
    y0 = math.exp(lny0)
    y0p = math.exp(coef["lli_plating"][8])
    units = "1 (lost lithium [A.h] / nominal capacity)"
    states = [
        {"name": "LLI_SEI", "type": "power", "driver": "time_days", "exponent": 0.5, "group": "capacity",
         "k": {"coef": math.exp(lnA), "terms": [
             {"type": "arrhenius", "activation_energy_J_per_mol": Ea_kJ * 1e3, "reference_temperature_K": T_REF_K},
             {"type": "exp", "stressor": "soc", "rate": b, "center": 0.5}]},
         "initial": y0, "sign": -sL, "units": units,
         "description": "Lithium lost to SEI (PyBaMM's solvent-diffusion-limited SEI, parabolic): y = sqrt(y0^2 + int k(T, soc)^2 dt_days); y - y0 is the loss"},
        {"name": "LLI_plating", "type": "power", "driver": "time_hours", "exponent": coef["lli_plating"][7], "group": "capacity",
         "k": _plating_expr(coef["lli_plating"][:7]), "initial": y0p, "sign": -sL, "units": units,
         "description": "Lithium lost to plating (net of stripping, at the end of each cycle): y = (y0^(1/e) + int k^(1/e) dt_h)^e with "
                        "k = A_0 f_0(T) exp(b_0 (U_a/T - 0.1 V/T_ref)) + A_c f_c(T) exp(b_c (U_a/T - 0.1 V/T_ref)) c_charge^n (U_a the anode potential at the SOC, f Arrhenius); y - y0 is the loss"},
        {"name": "LLI_LAM_ne", "type": "power", "driver": "time_hours", "exponent": 1.0, "group": "capacity",
         "k": _rate_expr(coef["lam_ne"], "lam_ne", coef["lli_per_lam"]["ne"]), "sign": -sL, "units": units,
         "description": "Lithium taken with the lost negative active material: LAM_ne's rate law times the fitted ratio lli_per_lam.ne"},
        {"name": "LLI_LAM_pe", "type": "power", "driver": "time_hours", "exponent": 1.0, "group": "capacity",
         "k": _rate_expr(coef["lam_pe"], "lam_pe", coef["lli_per_lam"]["pe"]), "sign": -sL, "units": units,
         "description": "Lithium taken with the lost positive active material: LAM_pe's rate law times the fitted ratio lli_per_lam.pe"},
        {"name": "LAM_ne", "type": "power", "driver": "time_hours", "exponent": 1.0, "group": "capacity",
         "k": _rate_expr(coef["lam_ne"], "lam_ne"), "sign": -sn, "units": "1 (fraction of negative-electrode active material lost)",
         "description": "Stress-driven loss of negative active material, on discharge (delithiation): dy = k(T, discharge C-rate, soc) dt_hours"},
        {"name": "LAM_pe", "type": "power", "driver": "time_hours", "exponent": 1.0, "group": "capacity",
         "k": _rate_expr(coef["lam_pe"], "lam_pe"), "sign": -sp, "units": "1 (fraction of positive-electrode active material lost)",
         "description": "Stress-driven loss of positive active material, on charge (delithiation): dy = k(T, charge C-rate, soc) dt_hours"},
    ]
    import pybamm

    return {
        "format_version": 1,
        "name": name,
        "title": f"Kernel ageing model calibrated on PyBaMM {spec.model} with options {dict(spec.options)} ({spec.parameter_set})",
        "chemistry": "NMC811/graphite-SiOx" if spec.parameter_set == "OKane2022" else f"that of {spec.parameter_set}",
        "cell": "LG M50 (INR21700-M50), 21700, 5.0 Ah" if spec.parameter_set == "OKane2022" else str(spec.parameter_set),
        "nominal_capacity_Ah": qnom,
        "citations": [
            {"key": "OKane2022", "text": "S. E. J. O'Kane et al., Lithium-ion battery degradation: how to model it, Phys. Chem. Chem. Phys. 24 (2022) 7909-7922", "doi": "10.1039/D2CP00417H"},
            {"key": "Chen2020", "text": "C.-H. Chen et al., Development of experimental techniques for parameterization of multi-scale lithium-ion battery models, J. Electrochem. Soc. 167 (2020) 080534", "doi": "10.1149/1945-7111/ab9050"},
            {"key": "Sulzer2021", "text": "V. Sulzer et al., Python Battery Mathematical Modelling (PyBaMM), J. Open Res. Softw. 9 (2021) 14", "doi": "10.5334/jors.309"},
        ],
        "licence": "Coefficients fitted by batterylab to PyBaMM simulations (PyBaMM: BSD-3-Clause; OKane2022 parameters as shipped in PyBaMM); this file: BSD-3-Clause, batterylab.",
        "description": ("q = 1 - s_LLI (LLI_SEI - y0 + LLI_plating - y0p + LLI_LAM_ne + LLI_LAM_pe) - s_ne LAM_ne - s_pe LAM_pe (one capacity group with offset 1 + s_LLI (y0 + y0p), so q(0) = 1); "
                        "s_* are the fitted sensitivities of PyBaMM's electrode-SOH capacity to each mechanism; each state is fitted to its own PyBaMM variable. "
                        "Generated by `batterylab calibrate` (batterylab.aging.calibrate); regenerate rather than edit."),
        "conventions": ("Stress per sample step (batterylab's per-sample aggregation, step means of the samples): cell temperature T [K] (volume-averaged), SOC [-], "
                        "C-rate |I|/Q_nom, charge C-rate max(-I, 0)/Q_nom and discharge C-rate max(I, 0)/Q_nom [1/h] from the current (give current_A, discharge positive); "
                        "time in days (LLI_SEI) and hours (the others). Plating sees the charge C-rate, LAM_ne the discharge C-rate, LAM_pe the charge C-rate: "
                        "the temperature and SOC of each law act only while its current flows."),
        "stress_definitions": {"aggregation": "sample", "source": "batterylab.aging.calibrate (fitted with the kernel's per-sample step quantities, calibrate._steps)"},
        "bounds_notes": ("Current-driven rates are c^n with n >= 0.1 (zero when no current of their direction flows); every rate is non-negative (expression lo = 0); "
                         "the kernel keeps every loss state in [0, 1] and q >= 0 (a duty far outside the design saturates there, with a warning)."),
        "untraced": "Not a published model: a fit to PyBaMM simulations; its accuracy off the design is what the held-out comparison (validation case calibration_heldout) shows.",
        "validity": _stress_range(results, qnom),
        "validity_notes": ("Range of every stressor over the PyBaMM design's steps (the design's box, per stressor); a duty outside it warns, naming the stressor. "
                           "validity_hull: the convex hulls of the design's charging and discharging steps in (temperature, C-rate, SOC), scaled to [0, 1] between lo and hi "
                           "(facets n.z + d <= 0 inside); a duty whose steps are inside every range but outside a hull warns, naming the combination."),
        "validity_hull": _validity_hull(results, qnom),
        "anode_potential_table": anode,
        "groups": {"capacity": {"target": "capacity", "offset": 1.0 + sL * (y0 + y0p)}},
        "capacity_combine": "min",
        "states": states,
        "calibration": {
            "pybamm_version": pybamm.__version__,
            "pybamm_parameter_set": spec.parameter_set,
            "pybamm_model": spec.model,
            "pybamm_options": dict(spec.options),
            "parameter_overrides": dict(spec.parameters),
            "capacity_definition": "PyBaMM summary variable 'Capacity [A.h]' (electrode SOH) over its fresh-cell value",
            "sensitivity": coef["sensitivity"],
            "coefficients": {k: coef[k] for k in ("lli_sei", "lli_plating", "lli_per_lam", "lam_ne", "lam_pe")},
            "coefficient_meaning": {
                "lli_sei": "ln k_ref [1/day^0.5], Ea [kJ/mol], soc rate b, ln y0",
                "lli_plating": "ln A_0 [1/h], E_0 [kJ/mol], b_0 [kK/V], ln A_c [1/h], E_c [kJ/mol], b_c [kK/V], n (charge C-rate), exponent e, ln y0",
                "lli_per_lam": "LLI (fraction of nominal) per fraction of LAM, per electrode",
                "lam_ne": "ln A [1/h], Ea [kJ/mol], n (discharge C-rate), b", "lam_pe": "ln A [1/h], Ea [kJ/mol], n (charge C-rate), b",
            },
            "mechanism_stressor": dict(MECHANISM_STRESSOR),
            "design": [asdict(p) for p in points],
            "fit_residuals": coef["residuals"],
            **provenance,
        },
    }


def _json_safe(o):
    """Non-finite floats (a rate of exactly 0 has ln A = -inf) as None: strict JSON."""
    if isinstance(o, dict):
        return {k: _json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_json_safe(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def write_spec(spec_dict: dict, out) -> Path:
    from ..io import atomic_write_text

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, json.dumps(_json_safe(spec_dict), indent=1, allow_nan=False) + "\n")


def configuration_spec(parameter_set: str = "LGM50", configuration: str | None = "spm_lam", *, model: str | None = None,
             options: dict | None = None, parameters: dict | None = None) -> RunSpec:
    """The PyBaMM run specification of a named configuration (:data:`CONFIGURATIONS`) for a cell,
    with ``model`` and ``options`` (PyBaMM model options, e.g. ``{"SEI": "reaction limited"}``)
    replacing the configuration's where given (``configuration=None``: both must be given)."""
    if configuration is not None and configuration not in CONFIGURATIONS:
        raise unknown_option("configuration", configuration, CONFIGURATIONS)
    base = CONFIGURATIONS.get(configuration, {})
    if configuration is None and (model is None or options is None):
        raise InputError("without a configuration, give both model and options")
    if options is not None and not isinstance(options, dict):
        raise InputError(f"options must be a dict of PyBaMM model options, got {type(options).__name__} {options!r:.60}")
    from ..cell import options as _opts

    return RunSpec(parameter_set=_parameter_set_name(parameter_set), model=_opts.model_name(model or base["model"]),
                   options=dict(options if options is not None else base["options"]), parameters=dict(parameters or {}))


def calibrate(parameter_set: str = "LGM50", out=None, *, configuration: str | None = "spm_lam", quick: bool = False,
              jobs: int = 1, cache_dir=None, progress: bool = True, points=None, run_spec: RunSpec | None = None,
              name: str | None = None, client=None) -> dict:
    """Run the design (cached), fit, and return (and write to ``out``) the kernel model JSON dict.

    Parameters
    ----------
    parameter_set : "LGM50" (PyBaMM's ``OKane2022``: the LG M50 with O'Kane 2022 degradation), a
        PyBaMM parameter-set name, or any batterylab cell (shipped name, sidecar or BPX file; the
        O'Kane 2022 degradation parameters fill what its set lacks)
    out : path, optional
        Where to write the model JSON (e.g. ``parameter_sets/aging/calibrated_lgm50_okane2022_spm_lam.json``).
    configuration : a named PyBaMM configuration (:data:`CONFIGURATIONS`), recorded in the provenance; ``run_spec`` (if given) is what runs
        (:func:`configuration_spec` makes one with a user's own model and options)
    quick : a 4-point design of 3 cycles / 20 days (seconds per point; for tests)
    jobs : processes for the design [-]
    cache_dir : PyBaMM result cache (default ``~/.cache/batterylab/pybamm_aging``)
    points : override the design (a list of :class:`DesignPoint`)
    client : a ``dask.distributed.Client`` to run the design on (see :func:`run_design`)
    """
    checks.boolean("quick", quick)
    checks.integer("jobs", jobs, low=1)
    checks.optional_boolean("progress", progress)
    if out is not None and not isinstance(out, (str, Path)):
        raise InputError(f"out must be a file path, got {type(out).__name__} {out!r:.60}")
    spec = run_spec or configuration_spec(parameter_set, configuration)
    pts = list(points) if points is not None else design(quick)
    t0 = _time.perf_counter()
    results = run_design(pts, spec, cache_dir=cache_dir, jobs=jobs, progress=progress, client=client)
    anode = anode_potential_table(spec)
    coef = fit(results, pts, anode=anode)
    prov = {
        "generated_by": "batterylab calibrate" + (" --quick" if quick else ""),
        "configuration": configuration,
        "pybamm_wall_s_per_point": {n: round(float(r["wall_s"]), 2) for n, r in results.items()},
        "calibration_wall_s": round(_time.perf_counter() - t0, 1),
    }
    nm = name or (Path(out).stem if out is not None else f"calibrated_{Path(str(spec.parameter_set)).stem.lower()}")
    d = _json_safe(build_spec(coef, name=nm, results=results, points=pts, spec=spec, provenance=prov, anode=anode))
    if out is not None:
        write_spec(d, out)
    return d


def _parameter_set_name(parameter_set) -> str:
    """``"LGM50"`` is PyBaMM's ``OKane2022`` (the same cell with its degradation parameters);
    a PyBaMM set name or a batterylab cell is checked here, not in the first PyBaMM run."""
    import pybamm

    text = str(parameter_set)
    if text.upper() in ("LGM50", "OKANE2022"):
        return "OKane2022"
    if text in pybamm.parameter_sets.keys():
        return text
    from ..cell import load_parameter_set

    load_parameter_set(text)  # unknown names and missing files raise, naming the valid cells
    return text


# ============================================================================================
# kernel predictions and held-out comparison
# ============================================================================================


def cycle_profile(result: dict) -> dict:
    """One cycle of a fresh cell from a PyBaMM cycling run: ``time_s``, ``soc``, ``temperature_K``, ``current_A``.

    The second cycle (the first starts from the rested initial SOC, not from where the cycle
    ends under load, so it is not periodic), time shifted to start at 0. Its last sample is the
    first instant of the next cycle (the kernel's periodic convention).
    """
    rec = np.asarray(result["record_index"])
    i0, i1 = (int(rec[0]), int(rec[1])) if rec.size > 1 else (0, int(rec[0]))
    out = {k: np.asarray(result[k][i0: i1 + 1], dtype=float) for k in ("time_s", "soc", "temperature_K", "current_A")}
    out["time_s"] = out["time_s"] - out["time_s"][0]
    return out


def predict_cycles(model, profile: dict, n_cycles: int) -> dict:
    """Age a cell with the kernel over ``n_cycles`` repetitions of one cycle's profile.

    Returns ``capacity_fraction`` [-] and every state [-] after each cycle (arrays of n_cycles).
    """
    import warnings

    from . import simulate
    from .models import OutOfRangeWarning

    t = profile["time_s"]
    period = float(t[-1] - t[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfRangeWarning)  # held-out conditions extrapolate on purpose
        r = simulate(model, t, profile["soc"], profile["temperature_K"], profile["current_A"],
                     repeat=int(n_cycles), output_interval_s=period)
    # output rows: t0 + k * period, k = 0..n (row 0 is the start)
    k = np.searchsorted(r.time_s, t[0] + period * np.arange(1, n_cycles + 1) - 1e-6)
    k = np.minimum(k, r.time_s.size - 1)
    out = {"capacity_fraction": r.capacity_fraction[k]}
    for n, y in r.states.items():
        out[n] = y[k]
    return out


#: Mechanisms compared with PyBaMM: name -> (PyBaMM target of :func:`_targets`, kernel states).
#: Lithium losses in % of nominal capacity, LAM in % of the electrode's active material.
MECHANISM_STATES = {
    "SEI": ("sei", ("LLI_SEI",)),
    "plating": ("plating", ("LLI_plating",)),
    "LLI_LAM": ("lam_li", ("LLI_LAM_ne", "LLI_LAM_pe")),
    "LAM_ne": ("lam_ne", ("LAM_ne",)),
    "LAM_pe": ("lam_pe", ("LAM_pe",)),
}
#: Mechanisms checked on the held-out conditions (LLI_LAM, lithium taken with lost material, is shown).
CHECKED_MECHANISMS = ("SEI", "plating", "LAM_ne", "LAM_pe")


def mechanism_split(model, states: dict) -> dict:
    """Kernel states as PyBaMM-comparable mechanism losses [%] (:data:`MECHANISM_STATES`) and
    ``LLI`` (every lithium loss) [% of nominal]."""
    from .models import load

    m = load(model)
    y0 = {st["name"]: float(st.get("initial", 0.0)) for st in m.spec["states"]}
    out = {}
    for mech, (_, names) in MECHANISM_STATES.items():
        out[mech] = 100 * sum((np.asarray(states[n]) - y0[n] for n in names if n in states),
                              np.zeros_like(np.asarray(states[next(iter(states))], dtype=float)))
    out["LLI"] = 100 * sum(np.asarray(states[n]) - y0[n] for n in states if n.startswith("LLI_"))
    return out


def held_out(out, *, configuration: str | None = "spm_lam", draw: int = 1, cycles: int = 300, jobs: int = 1,
             cache_dir=None, progress: bool = True, run_spec: RunSpec | None = None, client=None) -> dict:
    """Run the held-out PyBaMM conditions (:func:`held_out_design`) and write their reference
    trajectories to ``out`` (JSON).

    Stored per condition: the design point, the fresh first-cycle profile (kernel input) and, per
    cycle, PyBaMM's capacity fraction (electrode-SOH capacity over the fresh cell's), every
    mechanism of :data:`MECHANISM_STATES` and the total LLI [%], with the PyBaMM version, model,
    options and the seed of the draw (``draw``, :func:`held_out_design`; a reference produced by PyBaMM).
    """
    import pybamm

    cycles = checks.integer("cycles", cycles, low=1)
    checks.integer("jobs", jobs, low=1)
    checks.optional_boolean("progress", progress)
    if not isinstance(out, (str, Path)):
        raise InputError(f"out must be a file path, got {type(out).__name__} {out!r:.60}")
    spec = run_spec or configuration_spec("LGM50", configuration)
    pts = held_out_design(cycles, draw=draw)
    res = run_design(pts, spec, cache_dir=cache_dir, jobs=jobs, progress=progress, client=client)
    data = {
        "description": ("Held-out PyBaMM degradation runs for a calibrated kernel model: conditions drawn with a fixed seed "
                        "from the design's box, plus two corners 5 % inside it (none is a design point)"),
        "generated_by": f"batterylab.aging.calibrate.held_out (batterylab calibrate --held-out) with PyBaMM {pybamm.__version__}",
        "pybamm_version": pybamm.__version__,
        "pybamm_model": spec.model,
        "pybamm_parameter_set": spec.parameter_set,
        "pybamm_options": dict(spec.options),
        "configuration": configuration,
        "held_out_draw": draw,
        "held_out_seed": HELD_OUT_SEED + draw - 1,
        "design_box": {k: list(v) for k, v in DESIGN_BOX.items()},
        "licence": "BSD-3-Clause (batterylab); produced with PyBaMM (BSD-3-Clause) and its parameter set",
        "conditions": [],
    }
    for p in pts:
        r = res[p.name]
        qnom = float(r["nominal_capacity_Ah"])
        prof = cycle_profile(r)
        y = _targets(r, qnom)
        c = {"point": asdict(p), "pybamm_wall_s": round(float(r["wall_s"]), 2),
             "profile": {k: [round(float(v), 6) for v in prof[k]] for k in prof},
             "capacity0_Ah": float(r["capacity0_Ah"]),
             "capacity_fraction": [round(float(v), 8) for v in 1.0 - y["q_loss"]],
             "LLI_pct": [round(float(v), 6) for v in 100 * y["lli"]]}
        for mech, (key, _) in MECHANISM_STATES.items():
            c[f"{mech}_pct"] = [round(float(v), 6) for v in 100 * y[key]]
        data["conditions"].append(c)
    from ..io import atomic_write_text

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, json.dumps(data, separators=(",", ":")) + "\n")
    return data


def compare_held_out(model, data: dict) -> list[dict]:
    """Kernel vs PyBaMM at the end of each held-out run (and per cycle), from :func:`held_out` data.

    Tolerances per condition: total fade within the larger of 0.1 percentage points and 10 % of
    PyBaMM's own fade; each checked mechanism (:data:`CHECKED_MECHANISMS`) within the larger of
    0.05 points and 20 % of PyBaMM's value.
    """
    rows = []
    for c in data["conditions"]:
        n = len(c["capacity_fraction"])
        prof = {k: np.asarray(v) for k, v in c["profile"].items()}
        pred = predict_cycles(model, prof, n)
        split = mechanism_split(model, pred)
        fade_ref = 100 * (1 - c["capacity_fraction"][-1])
        fade_k = 100 * (1 - float(pred["capacity_fraction"][-1]))
        tol = max(0.1, 0.1 * fade_ref)
        row = {"name": c["point"]["name"], "point": c["point"], "cycles": n, "ambient_K": c["point"]["ambient_K"],
               "charge_c": c["point"]["charge_c"], "discharge_c": c["point"]["discharge_c"],
               "pybamm_fade_pct": fade_ref, "kernel_fade_pct": fade_k, "error_pct_points": fade_k - fade_ref,
               "tolerance_pct_points": tol, "passed": abs(fade_k - fade_ref) <= tol,
               "pybamm_LLI_pct": c["LLI_pct"][-1], "kernel_LLI_pct": float(split["LLI"][-1]),
               "pybamm_capacity_fraction": np.asarray(c["capacity_fraction"]),
               "kernel_capacity_fraction": np.asarray(pred["capacity_fraction"]), "mechanisms": {}}
        for mech in MECHANISM_STATES:
            ref, k = float(c[f"{mech}_pct"][-1]), float(split[mech][-1])
            mtol = max(0.05, 0.2 * abs(ref))
            row["mechanisms"][mech] = {"pybamm_pct": ref, "kernel_pct": k, "tolerance_pct_points": mtol,
                                       "checked": mech in CHECKED_MECHANISMS, "passed": abs(k - ref) <= mtol}
        rows.append(row)
    return rows


# --- the design of experiments as Dask tasks (run_design(..., client=...)) ---------------------


def _design_task(shared, start, stop, points):
    return [run_point(p, shared) for p in points]


def run_design_points(client, points: list, spec, paths: list, *, progress: bool = False) -> None:
    """PyBaMM design points of :func:`run_design` as Dask tasks (one
    point per task); this process writes each result to its cache file ``paths[i]`` (``.npz``,
    atomically) as it arrives, so workers need no shared file system.
    """
    from ..distributed import map_chunks
    from ..io import atomic_path

    points = list(points)
    for a, b, results in map_chunks(client, _design_task, len(points), 1, shared=spec,
                                    per_chunk=lambda a, b: (points[a:b],), label="design points",
                                    progress=bool(progress), desc="PyBaMM design (dask)"):
        for path, res in zip(paths[a:b], results):
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, **res)
