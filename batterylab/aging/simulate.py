"""simulate / simulate_fleet: the ageing API on top of :func:`batterylab.kernels.aging.integrate_fleet`."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
import json
import math
import sys
import threading
import warnings

import numpy as np

from .. import checks
from ..errors import InputError
from ..kernels import aging as K
from ..kernels.jit import get_num_threads
from .models import SECONDS_PER_YEAR, AgingModel, check_hull, check_validity, hull_steps, load
from .results import AgingResult, AgingState, _eol
from .shared_profile import age_shared


#: Cells per chunk when a fleet is streamed to a file (``simulate_fleet(..., save_to=...)``).
STREAM_CHUNK_CELLS = 16384


def _profile(time_s, soc, temperature_K, current_A, n_rows_allowed: bool, min_length: int = 2):
    t = checks.time_array("time_s", time_s, min_length=min_length)
    n = t.size
    soc_a = checks.as_float_array("soc", soc, ndim=None)
    if soc_a.ndim == 2 and n_rows_allowed:
        soc_a = checks.fraction_array("soc", soc_a, ndim=2)
    else:
        soc_a = checks.fraction_array("soc", soc_a)[None, :]
    if soc_a.shape[1] != n:
        raise InputError(f"soc has {soc_a.shape[1]} samples per cell but time_s has {n}")
    T = checks.as_float_array("temperature_K", temperature_K, ndim=None)
    if T.ndim == 0:
        T = np.full((1, n), checks.temperature_K("temperature_K", float(T)))
    elif T.ndim == 2 and n_rows_allowed:
        T = checks.temperature_K("temperature_K", T, ndim=2)
    else:
        T = checks.temperature_K("temperature_K", T)[None, :]
    if T.shape[1] != n:
        raise InputError(f"temperature_K has {T.shape[1]} samples per cell but time_s has {n}")
    if current_A is None:
        I = np.zeros((1, n))
    else:
        I = checks.as_float_array("current_A", current_A, ndim=None)
        I = checks.as_float_array("current_A", I, ndim=2 if (I.ndim == 2 and n_rows_allowed) else 1)
        if I.ndim == 1:
            I = I[None, :]
        if I.shape[1] != n:
            raise InputError(f"current_A has {I.shape[1]} samples per cell but time_s has {n}")
    return t, np.ascontiguousarray(soc_a), np.ascontiguousarray(T), np.ascontiguousarray(I)


class NonPeriodicProfileWarning(UserWarning):
    """A repeated profile whose SOC does not return to its starting value: each repetition jumps
    from the last SOC back to the first (a step no cell makes, and an extra rainflow reversal)."""


#: |SOC at the end - SOC at the start| [-] above which a repeated profile is not periodic.
PERIODIC_SOC_TOL = 1e-6


def check_periodic(soc: np.ndarray, reps: int, stacklevel: int = 2) -> None:
    """Warn (:class:`NonPeriodicProfileWarning`) when a profile repeated ``reps`` > 1 times does not
    end at its starting SOC (``soc``: (n,) or (n_cells, n)).

    :func:`simulate` itself repeats any profile as given (the kernel tests use arbitrary ones);
    ``batterylab age`` calls this on the profile file before it runs.
    """
    if reps <= 1:
        return
    soc = np.atleast_2d(soc)
    gap = np.abs(soc[:, -1] - soc[:, 0])
    if gap.max() > PERIODIC_SOC_TOL:
        k = int(np.argmax(gap))
        row = f" (cell {k})" if soc.shape[0] > 1 else ""
        warnings.warn(
            f"the profile is repeated {reps} times but its SOC does not return to its start{row}: "
            f"{soc[k, 0]:.6g} at the start, {soc[k, -1]:.6g} at the end; every repetition jumps back by "
            f"{soc[k, 0] - soc[k, -1]:+.4g}. Make the last sample equal the first (a periodic day) or run it once.",
            NonPeriodicProfileWarning, stacklevel=stacklevel)


def repetitions(time_s, repeat=None, years=None) -> int:
    """How many times :func:`simulate` repeats a profile sampled at ``time_s`` [s] for ``repeat``
    or ``years`` (as there: whole repetitions covering ``years`` 365-day years)."""
    return _repeats(checks.time_array("time_s", time_s), repeat, years)


def _repeats(t: np.ndarray, repeat, years) -> int:
    if t.size < 2 and (years is not None or (repeat or 1) > 1):
        raise InputError("a repeated profile needs at least 2 samples in time_s")
    if years is not None:
        years = checks.positive("years", years, unit="years")
        if repeat is not None and checks.integer("repeat", repeat, low=1) != 1:
            raise InputError(f"give either repeat or years, not both (got repeat={repeat}, years={years})")
        years = checks.positive("years", years, unit="years")
        period = t[-1] - t[0]
        return max(1, int(math.ceil(years * SECONDS_PER_YEAR / period - 1e-9)))
    if repeat is None:
        return 1
    return checks.integer("repeat", repeat, low=1)


def _output_times(t: np.ndarray, repeat: int, output_interval_s, max_rows: int | None) -> np.ndarray:
    period = t[-1] - t[0]
    if output_interval_s is not None:
        dt = checks.positive("output_interval_s", output_interval_s, unit="s")
        end = t[-1] + (repeat - 1) * period
        out = t[0] + dt * np.arange(int(math.floor((end - t[0]) / dt)) + 1)
        if out[-1] < end:
            out = np.append(out, end)
        return out
    if repeat == 1:
        if max_rows is None or t.size <= max_rows:
            return t.copy()
        idx = np.unique(np.linspace(0, t.size - 1, max_rows).round().astype(int))
        return t[idx]
    step = 1 if max_rows is None else max(1, int(math.ceil(repeat / max_rows)))
    reps = list(range(step, repeat + 1, step))
    if reps[-1] != repeat:
        reps.append(repeat)
    # the end of repetition r is sample n-1 of repetition r-1: the same float the kernel computes
    return np.array([t[0]] + [t[-1] + (r - 1) * period for r in reps])


@contextlib.contextmanager
def _compile_notice(kernel, what: str, after_s: float = 1.5):
    """Around a kernel's first call in this process: say on stderr that it is being compiled when
    the call takes longer than ``after_s`` (a cached kernel loads in well under that)."""
    timer = threading.Timer(after_s, lambda: print(
        f"batterylab: compiling {what} for this machine (once; cached on disk afterwards) ...",
        file=sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _run(model: AgingModel, t, soc, T, I, has_current, repeat, out_t, t_off, usage, mult, states, finalize):
    # contiguous arrays only: a strided view would make Numba compile the whole kernel again
    t = np.ascontiguousarray(t, dtype=np.float64)
    out_t = np.ascontiguousarray(out_t, dtype=np.float64)
    nc = states.shape[0]
    no = out_t.size
    ns = model.n_states
    ng = len(model.group_names)
    settings = model.settings.copy()
    settings[K.SET_HAS_CURRENT] = 1.0 if has_current else 0.0
    settings[K.SET_FINALIZE] = 1.0 if finalize else 0.0
    rec = K.Records(
        t=np.zeros((nc, no)), q=np.zeros((nc, no)), r=np.zeros((nc, no)), efc=np.zeros((nc, no)),
        y=np.zeros((nc, no, ns)), g=np.zeros((nc, no, ng)),
        smin=np.full((nc, K.N_STRESS), np.inf), smax=np.full((nc, K.N_STRESS), -np.inf),
        replayed=np.zeros(nc), overshoot=np.zeros(nc),
    )
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    soc, T, I = f64(soc), f64(T), f64(I)
    cells = K.Cells(f64(t_off), f64(usage), f64(soc.max(axis=1)), f64(mult))
    km = model.kernel_model(settings)
    if model.aggregation == "window":
        kernel, plan = K.integrate_fleet_windows, (K.window_plan(km),)
    else:
        kernel, plan = K.integrate_fleet, ()

    def block(a: int, b: int) -> None:
        rows = lambda x: x if x.shape[0] == 1 else x[a:b]  # noqa: E731  (shared or per-cell rows)
        kernel(K.Profile(t, rows(soc), rows(T), rows(I)),
               K.Cells(cells.t_off[a:b], cells.usage[a:b], rows(cells.soc_top), cells.mult[a:b]),
               int(repeat), out_t, states[a:b], km, K.Records(*(x[a:b] for x in rec)), *plan)

    # one contiguous block of cells per thread (the kernel releases the GIL); cells are
    # independent, so the results do not depend on the number of threads
    nb = max(1, min(nc, get_num_threads()))
    edges = [i * nc // nb for i in range(nb + 1)]
    first = 0
    if not getattr(kernel, "signatures", True):  # compile (or load) on the first block alone
        with _compile_notice(kernel, f"the ageing kernel ({model.aggregation} aggregation)"):
            block(edges[0], edges[1])
        first = 1
    if nb - first == 1:
        block(edges[first], edges[first + 1])
    elif nb > first:
        with ThreadPoolExecutor(nb - first - 1) as pool:
            done = [pool.submit(block, a, b) for a, b in zip(edges[first + 1:-1], edges[first + 2:])]
            block(edges[first], edges[first + 1])  # this thread takes one block too
            for f in done:
                f.result()
    return rec._asdict()


# --- a fleet as Dask tasks (simulate_fleet(..., client=...)): the same kernel call per chunk ---


def _fleet_task(shared, start, stop, soc, T, I, t_off, usage, mult, state):
    """One chunk of a fleet on a worker: the same kernel call as the in-process loop (``state``
    None: a fresh fleet, whose start states are made here rather than sent)."""
    m, t, soc_all, T_all, I_all, has_current, reps, out_t, finalize = shared
    if state is None:
        state = m.initial_state(stop - start)
    rec = _run(m, t, soc_all if soc is None else soc, T_all if T is None else T, I_all if I is None else I,
               has_current, reps, out_t, t_off, usage, mult, state, finalize)
    rec["state"] = state  # advanced in place by the kernel
    return rec


def run_fleet_chunks(client, model, profile, has_current, reps, out_t, t_off, usage, mult, start_rows, finalize,
                     chunk_size, progress, put):
    """Run :func:`simulate_fleet`'s chunk loop on ``client`` (Dask tasks of :func:`_fleet_task`).

    ``profile`` is ``(t, soc, T, I)`` with one row (shared) or one row per cell;
    ``start_rows(a, b)`` gives the start states of cells ``a:b`` (None: a fresh fleet, whose
    workers make them); ``put(a, b, records, states)`` takes each chunk's records and final
    states, in cell order.
    """
    from ..distributed import _total_threads, chunk_size_for, map_chunks

    t, soc, T, I = profile
    n_cells = t_off.size
    shared = (model, t, *(a if a.shape[0] == 1 else None for a in (soc, T, I)), has_current, reps, out_t, finalize)
    if chunk_size:
        chunk = int(chunk_size)
    else:
        chunk = chunk_size_for(n_cells, float(t.size) * reps, _total_threads(client))

    def per_chunk(a, b):
        rows = tuple(None if x.shape[0] == 1 else x[a:b].copy() for x in (soc, T, I))
        return (*rows, t_off[a:b].copy(), usage[a:b].copy(), mult[a:b].copy(),
                None if start_rows is None else start_rows(a, b))

    for a, b, rec in map_chunks(client, _fleet_task, n_cells, chunk, shared=shared, per_chunk=per_chunk,
                                label="cells", progress=bool(progress), desc=f"ageing ({model.name}, dask)"):
        put(a, b, rec, rec["state"])


def _start_states(model: AgingModel, state, n_cells: int, t0: float):
    """``(rows, common)``: ``rows(a, b)`` the start state vectors of cells ``a:b`` (a new array),
    ``common`` the one every cell starts from (None when they differ). A fresh fleet's start is
    one cell's state, repeated per chunk: the whole fleet's state vectors are never made at once."""
    if state is None:
        one = model.initial_state(1)
        return (lambda a, b: np.repeat(one, b - a, axis=0)), one[0]
    data = _state_in(model, state, n_cells, t0)
    common = data[0].copy() if np.all(data == data[0]) else None
    return (lambda a, b: data[a:b].copy()), common


def _state_in(model: AgingModel, state, n_cells: int, t0: float) -> np.ndarray:
    if state is None:
        return model.initial_state(n_cells)
    if not isinstance(state, AgingState):
        raise InputError(f"state must be an AgingState from a previous result, got {type(state).__name__}")
    if state.model != model.name:
        raise InputError(f"state was made by model {state.model!r}, not {model.name!r}")
    if state.data.shape != (n_cells, model.state_length):
        raise InputError(f"state holds {state.data.shape[0]} cell(s); expected {n_cells}")
    if np.any(state.data[:, K.H_NSEEN] > 0) and t0 < state.data[:, K.H_T].max():
        raise InputError(
            f"time_s[0] = {t0} s is before the end of the state ({state.time_s} s); a resumed profile "
            "must start at or after the time the state was taken"
        )
    return np.array(state.data, dtype=float, copy=True)


def simulate(
    model,
    time_s,
    soc,
    temperature_K,
    current_A=None,
    *,
    repeat: int | None = None,
    years: float | None = None,
    eol_threshold: float = 0.8,
    state: AgingState | None = None,
    output_interval_s: float | None = None,
    finalize: bool = True,
) -> AgingResult:
    """Age one cell over a profile (optionally repeated) with a semi-empirical model.

    Parameters
    ----------
    model : str, path or AgingModel
        A shipped model name (see :func:`batterylab.aging.models`), a JSON file or a compiled model.
    time_s : (n,) array
        Strictly increasing sample times [s]. A repeated profile has period
        ``time_s[-1] - time_s[0]``: its last sample is the instant the next repetition starts.
    soc : (n,) array
        State of charge [-] in [0, 1]. Charge throughput (equivalent full cycles) is
        ``sum |dSOC| / 2``.
    temperature_K : (n,) array or float
        Cell temperature [K].
    current_A : (n,) array, optional
        Current [A] (discharge positive); sets the C-rate ``|I| / Q_nom``. Without it the C-rate
        is ``|dSOC/dt|`` [1/h].
    repeat, years : int, float, optional
        Repeat the profile ``repeat`` times, or enough whole times to cover ``years`` (365-day
        years). The repetitions are never materialised.
    eol_threshold : float
        Relative capacity defining end of life [-].
    state : AgingState, optional
        Resume from a previous result's ``state``. ``time_s[0]`` may equal the state's time (the
        shared sample is not aged twice) or be later (the gap is one step).
    output_interval_s : float, optional
        Store the trajectory every this many seconds (default: every sample of a single pass;
        every repetition of a repeated profile).
    finalize : bool
        Count the rainflow residue as half cycles in the last output row (as the ``rainflow``
        package does at the end of a series). The returned ``state`` never includes it, so a
        resumed run continues the count exactly. Pass ``False`` for stepwise use to make the
        trajectories of consecutive calls concatenate exactly. A window-aggregated (BLAST-Lite)
        model's last call runs its clock into the next repetition by the time the steps between
        update windows did not age, as ``simulate_battery_life`` does; with ``False`` the call
        stops at the end of its repetitions and the next call makes that time up, so a run
        resumed at whole repetitions equals one pass.

    Returns
    -------
    AgingResult
        ``time_s`` [s] of the output rows, relative capacity ``capacity_fraction`` [-],
        ``resistance_factor`` [-], equivalent full cycles ``efc`` [-], each degradation state
        [-], the end-of-life time ``eol_time_s`` [s] and the ``state`` to resume from.

    Warns
    -----
    OutOfRangeWarning
        Once per call when a stressor leaves the model's fitted range.

    Notes
    -----
    Each degradation state follows its closed-form trajectory (power law, sigmoid, exponential
    relaxation) under time-varying stress by the exact virtual-time update; cycles are counted by
    streaming rainflow counting [1]_. The model's equations, coefficients and paper are in its
    JSON file; :func:`batterylab.aging.model_info` gives its citation with DOI, e.g. [2]_, [3]_.

    References
    ----------
    .. [1] ASTM E1049-85 (reapproved 2017), Standard practices for cycle counting in fatigue
       analysis, doi:10.1520/E1049-85R17
    .. [2] J. Schmalstieg, S. Kaebitz, M. Ecker, D. U. Sauer, A holistic aging model for
       Li(NiMnCo)O2 based 18650 lithium-ion batteries, J. Power Sources 257 (2014) 325,
       doi:10.1016/j.jpowsour.2014.02.012 (``schmalstieg2014``)
    .. [3] M. Naumann, F. B. Spingler, A. Jossen, Analysis and modeling of cycle aging of a
       commercial LiFePO4/graphite cell, J. Power Sources 451 (2020) 227666,
       doi:10.1016/j.jpowsour.2019.227666 (``naumann2020``)
    """
    m = load(model)
    m.cite()
    t, soc2, T2, I2 = _profile(time_s, soc, temperature_K, current_A, n_rows_allowed=False,
                               min_length=1 if state is not None else 2)
    reps = _repeats(t, repeat, years)
    checks.finite_scalar("eol_threshold", eol_threshold, low=0.0, high=1.0, inclusive=False)
    finalize = checks.boolean("finalize", finalize)
    st = _state_in(m, state, 1, float(t[0]))
    out_t = _output_times(t, reps, output_interval_s, None)
    rec = _run(m, t, soc2, T2, I2, current_A is not None, reps, out_t, np.zeros(1), np.ones(1),
               np.ones((1, m.n_states)), st, finalize)
    check_validity(m, rec["smin"], rec["smax"], saturated=st[:, K.H_SATURATED], overshoot=rec["overshoot"])
    _check_hull(m, t, soc2, T2, I2 if current_A is not None else None, np.zeros(1), np.ones(1))
    q = rec["q"][0]
    tt = rec["t"][0]
    return AgingResult(
        model=m.name,
        time_s=tt,
        capacity_fraction=q,
        resistance_factor=rec["r"][0] if m.has_resistance else None,
        efc=rec["efc"][0],
        states={n: rec["y"][0, :, i] for i, n in enumerate(m.state_names)},
        groups={n: rec["g"][0, :, i] for i, n in enumerate(m.group_names)},
        eol_threshold=float(eol_threshold),
        eol_time_s=float(_eol(tt, q, eol_threshold)[0]),
        state=AgingState(m.name, st),
        full_cycles=st[:, K.H_NFULL].copy(),
        half_cycles=st[:, K.H_NHALF].copy(),
        config={"repeat": reps, "finalize": finalize, "current_given": current_A is not None,
                "replayed_repetitions": int(rec["replayed"][0]), **_euler_note(m, rec["overshoot"])},
    )


#: Profile samples beyond which a fleet of per-cell profiles is not checked against a validity hull.
HULL_CHECK_MAX_SAMPLES = 5_000_000


def _check_hull(m: AgingModel, t, soc, T, I, t_off, usage) -> None:
    """Check the duty's steps against the model's validity hull (:func:`check_hull`): a shared
    profile at the fleet's extreme temperature offsets and usage scales, per-cell profiles row by
    row (up to :data:`HULL_CHECK_MAX_SAMPLES` samples)."""
    if not m.validity_hull:
        return
    n_rows = max(a.shape[0] for a in (soc, T) + (() if I is None else (I,)))
    if n_rows == 1:
        rows = [(0, o, u) for o in sorted({t_off.min(), t_off.max()}) for u in sorted({usage.min(), usage.max()})]
    elif n_rows * t.size <= HULL_CHECK_MAX_SAMPLES:
        rows = [(i, t_off[i], usage[i]) for i in range(n_rows)]
    else:
        return
    steps = {}
    for i, o, u in rows:
        x_soc = soc[min(i, soc.shape[0] - 1)]
        top = x_soc.max()
        cur = None if I is None else u * I[min(i, I.shape[0] - 1)]
        for d in m.validity_hull:
            x = hull_steps(t, top - u * (top - x_soc), T[min(i, T.shape[0] - 1)] + o, cur, m.nominal_capacity_Ah, d)
            steps[d] = np.concatenate([steps[d], x]) if d in steps else x
    check_hull(m, steps, stacklevel=4)


def _euler_note(m: AgingModel, overshoot) -> dict:
    """``euler_overshoot``: under BLAST-Lite's forward-Euler window step, the largest ratio of a
    power state's increment in one window to the exact update's (``Records.overshoot``)."""
    if m.aggregation != "window" or m.settings[K.SET_WIN_EULER] == 0.0:
        return {}
    return {"euler_overshoot": float(np.max(overshoot, initial=0.0))}


def _per_cell(name: str, value, n: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default)
    if np.ndim(value) == 0:
        a = np.full(n, checks.finite_scalar(name, value))
    a = checks.as_float_array(name, value if np.ndim(value) else a)
    if a.size != n:
        raise InputError(f"{name} must have one value per cell ({n}), got {a.size}")
    return np.ascontiguousarray(a)


#: Upper bound of ``temperature_spread_K`` [K]: one standard deviation of cell temperatures in a fleet.
MAX_TEMPERATURE_SPREAD_K = 30.0
#: Upper bound of ``coefficient_spread`` (log-normal sigma): sigma = 3 already spreads rate coefficients by a
#: factor of 20 per standard deviation; measured cell-to-cell spreads are 0.05 to 0.3. Far larger values
#: overflow exp() and give multipliers of 0 or inf, not a fleet.
MAX_COEFFICIENT_SPREAD = 3.0


def _effective_temperature(T: np.ndarray, t_off: np.ndarray, cause: str) -> None:
    """``temperature_K + temperature_offset_K`` must stay a battery temperature (the message names both)."""
    lo = float(T.min() + t_off.min())
    hi = float(T.max() + t_off.max())
    for value, bad, side in ((lo, lo < checks.KELVIN_FLOOR_K, "down"), (hi, hi > checks.KELVIN_CEILING_K, "up")):
        if bad:
            raise InputError(
                f"temperature_K + {cause} goes {side} to {value:.6g} K; expected cell temperatures between "
                f"{checks.KELVIN_FLOOR_K} and {checks.KELVIN_CEILING_K} K (is {cause} in kelvin differences?)")


def _extra_config(config, reserved) -> dict:
    """The user's ``config`` entries, checked: a dict of JSON values under names the run does not set."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise InputError(f"config must be a dict of JSON values, got {type(config).__name__} {config!r:.60}")
    for k, v in config.items():
        if not isinstance(k, str):
            raise InputError(f"config keys must be strings, got {k!r}")
        if k in reserved:
            raise InputError(f"config[{k!r}] is set by the run itself: config keys must be other names than {sorted(reserved)}")
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InputError(f"config[{k!r}] must be a JSON value (str, number, bool, None, list, dict), "
                             f"got {type(v).__name__} {v!r:.60}") from exc
    return dict(config)


def simulate_fleet(
    model,
    time_s,
    soc,
    temperature_K,
    current_A=None,
    *,
    n_cells: int | None = None,
    temperature_offset_K=None,
    usage_scale=None,
    coefficient_multipliers=None,
    temperature_spread_K: float = 0.0,
    coefficient_spread: float = 0.0,
    seed=None,
    repeat: int | None = None,
    years: float | None = None,
    eol_threshold: float = 0.8,
    state: AgingState | None = None,
    output_interval_s: float | None = None,
    max_output_rows: int = 121,
    finalize: bool = True,
    chunk_size: int | None = None,
    progress: bool = True,
    client=None,
    share_profile: bool | None = None,
    save_to=None,
    config: dict | None = None,
):
    """Age a fleet of cells: one shared profile (or one per cell) plus per-cell overrides.

    Cells run in parallel (contiguous blocks of cells, one thread each, every cell writing its own
    output row), so results are bit-identical for any number of threads. Arrays in the result have a leading
    cell axis.

    Parameters
    ----------
    model, time_s, repeat, years, eol_threshold, output_interval_s, finalize
        As in :func:`simulate`. Without ``output_interval_s`` at most ``max_output_rows`` rows are
        stored (whole repetitions).
    soc, temperature_K, current_A : (n,) or (n_cells, n) arrays
        A shared profile, or one row per cell.
    n_cells : int, optional
        Number of cells (default: from the per-cell arrays).
    temperature_offset_K : (n_cells,) array, optional
        Added to each cell's temperature [K].
    usage_scale : (n_cells,) array, optional
        Scales each cell's SOC swing below the profile's top SOC, and its current [-]
        (a cell driven 20 % harder discharges 20 % deeper from the same full charge).
    coefficient_multipliers : (n_cells, n_states) array, optional
        Multiplies each state's rate coefficient k (cell-to-cell variability).
    temperature_spread_K, coefficient_spread, seed
        Draw extra per-cell variability from ``numpy.random.default_rng(seed)`` (or a Generator):
        temperature offsets ~ N(0, spread) [K], multipliers ~ lognormal(0, spread) [-].
    chunk_size, progress
        Cells per kernel call, and whether to show a tqdm bar over the chunks. Without a bar the
        default is one call for all cells (the threads share them evenly); with a bar, about 50
        calls.
    client : dask.distributed.Client, optional
        Run the chunks as tasks on this Dask cluster (see :mod:`batterylab.distributed`); the
        result is bit-identical to the in-process run. ``chunk_size`` defaults to a size that gives
        each worker thread several tasks of useful length.
    share_profile : bool or None
        Cells that share one profile and start state differ only in their temperature offset (and
        multipliers): age a few of them at Chebyshev points of the offset range and interpolate
        the others (:mod:`batterylab.aging.shared_profile`; checked at run time against the
        per-cell path between the points, to 1e-12 relative, and the per-cell path runs where the
        check fails). None: for fleets of 1,000 cells or more; False: always the per-cell path.
        ``config["shared_profile"]`` says what was done, or why not.
    save_to : path, optional
        Stream the result to this HDF5 file as the cells finish (chunked and compressed; the
        variables of :meth:`AgingResult.save` plus the resumable state; written to a temporary
        file renamed at the end) and return an :class:`~batterylab.aging.fleet_output.AgingFleetFile`
        (the path, the summary, what the plot shows) instead of an :class:`AgingResult`: the run
        never holds the whole fleet. Chunks default to :data:`STREAM_CHUNK_CELLS` cells.
    config : dict, optional
        More entries for the result's ``config`` (and the file's configuration with ``save_to``),
        e.g. where the profile came from: JSON values under names the run does not set itself.

    Returns
    -------
    AgingResult, or AgingFleetFile with ``save_to``.
    """
    m = load(model)
    m.cite()
    t, soc2, T2, I2 = _profile(time_s, soc, temperature_K, current_A, n_rows_allowed=True,
                               min_length=1 if state is not None else 2)
    rows = {a.shape[0] for a in (soc2, T2, I2) if a.shape[0] > 1}
    if len(rows) > 1:
        raise InputError(f"per-cell profiles disagree on the number of cells: {sorted(rows)}")
    n_cells = checks.optional_integer("n_cells", n_cells, low=1)
    if n_cells is None:
        for v in (temperature_offset_K, usage_scale, coefficient_multipliers):
            if v is not None and np.ndim(v) >= 1:
                rows.add(int(np.shape(v)[0]))
        if len(rows) > 1:
            raise InputError(f"per-cell inputs disagree on the number of cells: {sorted(rows)}")
        n_cells = rows.pop() if rows else 1
    for a, nm in ((soc2, "soc"), (T2, "temperature_K"), (I2, "current_A")):
        if a.shape[0] not in (1, n_cells):
            raise InputError(f"{nm} has {a.shape[0]} rows, expected 1 or n_cells = {n_cells}")
    reps = _repeats(t, repeat, years)
    checks.finite_scalar("eol_threshold", eol_threshold, low=0.0, high=1.0, inclusive=False)
    finalize = checks.boolean("finalize", finalize)
    progress = checks.optional_boolean("progress", progress)
    max_output_rows = checks.integer("max_output_rows", max_output_rows, low=2)
    chunk_size = checks.optional_integer("chunk_size", chunk_size, low=1)
    share_profile = checks.optional_boolean("share_profile", share_profile)
    if save_to is not None:
        save_to = checks.output_path("save_to", save_to)
    t_off = _per_cell("temperature_offset_K", temperature_offset_K, n_cells, 0.0)
    _effective_temperature(T2, t_off, "temperature_offset_K")
    usage = _per_cell("usage_scale", usage_scale, n_cells, 1.0)
    if np.any(usage < 0):
        raise InputError(f"usage_scale must be >= 0, got {usage.min()}")
    # The kernel scales each cell's SOC swing below the profile's top SOC: top - usage * (top - soc).
    # Beyond top / (top - min soc) that would go below 0 and be clipped, so larger scales change nothing.
    top = np.broadcast_to(soc2.max(axis=1), usage.shape)
    low = np.broadcast_to(soc2.min(axis=1), usage.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        us_max = np.where(top > low, top / (top - low), np.inf)
    over = usage > us_max * (1 + 1e-12)
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise InputError(
            f"usage_scale[{i}] = {usage[i]} drives soc below 0 (to {top[i] - usage[i] * (top[i] - low[i]):.3g}); "
            f"with this soc profile usage_scale must be <= {float(us_max[i]):.6g}")
    if coefficient_multipliers is None:
        mult = np.ones((n_cells, m.n_states))
    else:
        mult = checks.as_float_array("coefficient_multipliers", coefficient_multipliers, ndim=None)
        if mult.ndim == 1 and mult.size == n_cells:
            mult = np.repeat(mult[:, None], m.n_states, axis=1)
        mult = checks.as_float_array("coefficient_multipliers", mult, ndim=2)
        if mult.shape != (n_cells, m.n_states):
            raise InputError(
                f"coefficient_multipliers must have shape (n_cells, n_states) = ({n_cells}, {m.n_states}) "
                f"(states: {', '.join(m.state_names)}), got {mult.shape}"
            )
        if np.any(mult < 0):
            raise InputError("coefficient_multipliers must be >= 0")
        mult = mult.copy()
    ts = checks.finite_scalar("temperature_spread_K", temperature_spread_K, low=0.0, high=MAX_TEMPERATURE_SPREAD_K,
                              unit="K")
    cs = checks.finite_scalar("coefficient_spread", coefficient_spread, low=0.0, high=MAX_COEFFICIENT_SPREAD)
    rng = checks.rng("seed", seed)
    if ts > 0 or cs > 0:
        if ts > 0:
            t_off = t_off + rng.normal(0.0, ts, n_cells)
            _effective_temperature(T2, t_off, "temperature_spread_K")
        if cs > 0:
            mult = mult * np.exp(rng.normal(0.0, cs, (n_cells, m.n_states)))
    start_rows, common = _start_states(m, state, n_cells, float(t[0]))
    out_t = _output_times(t, reps, output_interval_s, max_output_rows)
    if chunk_size:
        chunk = int(chunk_size)
    elif save_to is not None:  # blocks of a bounded size, each written as it finishes
        chunk = min(max(1, n_cells), STREAM_CHUNK_CELLS)
    else:
        chunk = max(16, int(math.ceil(n_cells / 50))) if progress else max(1, n_cells)
    run_config = {"repeat": reps, "finalize": finalize, "n_cells": n_cells,
                  "temperature_spread_K": ts, "coefficient_spread": cs,
                  "seed": seed if isinstance(seed, (int, type(None))) else "generator",
                  "usage_scale_json": json.dumps(usage.tolist()[:10])}
    config = {**_extra_config(config, (*run_config, "shared_profile", "euler_overshoot", "model")), **run_config}
    from .fleet_output import FleetArrays, FleetFile

    if save_to is None:
        sink = FleetArrays(m, n_cells, out_t.size, m.state_length)
    else:
        sink = FleetFile(save_to, m, n_cells, out_t.size, eol_threshold, config)
    has_current = current_A is not None
    with sink:
        if max(a.shape[0] for a in (soc2, T2, I2)) > 1:
            done, note = False, "per-cell path (per-cell profiles)"
        else:
            def per_cell(t_off_, usage_, mult_, states_):
                return _run(m, t, soc2, T2, I2, has_current, reps, out_t, t_off_, usage_,
                            np.ascontiguousarray(mult_), states_, finalize)

            done, note = age_shared(per_cell, m, t_off, usage, mult, common, sink.put, share_profile)
        config["shared_profile"] = note
        if not done and client is not None:  # the same chunks as Dask tasks (batterylab.distributed)
            from ..distributed import check_client

            run_fleet_chunks(check_client(client), m, (t, soc2, T2, I2), has_current, reps, out_t, t_off, usage,
                             mult, None if state is None else start_rows, finalize, chunk_size, progress, sink.put)
        elif not done:
            _fleet_loop(m, (t, soc2, T2, I2), has_current, reps, out_t, t_off, usage, mult, start_rows, finalize,
                        chunk, progress, sink.put)
        config.update(_euler_note(m, sink.overshoot))
    check_validity(m, sink.smin, sink.smax, saturated=sink.saturated, overshoot=sink.overshoot)
    _check_hull(m, t, soc2, T2, I2 if has_current else None, t_off, usage)
    if save_to is not None:
        return sink.result()
    st = sink.state
    tt, q = sink.time_s, sink.q
    return AgingResult(
        model=m.name,
        time_s=tt,
        capacity_fraction=q,
        resistance_factor=sink.r if m.has_resistance else None,
        efc=sink.efc,
        states={n: sink.y[:, :, i] for i, n in enumerate(m.state_names)},
        groups={n: sink.g[:, :, i] for i, n in enumerate(m.group_names)},
        eol_threshold=float(eol_threshold),
        eol_time_s=_eol(tt, q, eol_threshold),
        state=AgingState(m.name, st),
        full_cycles=st[:, K.H_NFULL].copy(),
        half_cycles=st[:, K.H_NHALF].copy(),
        config=config,
    )


def _fleet_loop(m, profile, has_current, reps, out_t, t_off, usage, mult, start_rows, finalize, chunk, progress, put):
    """The in-process chunk loop of :func:`simulate_fleet`: ``put(a, b, records, states)`` per chunk."""
    t, soc, T, I = profile
    n_cells = t_off.size
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_cells, unit="cell", desc=f"ageing ({m.name})")
    try:
        for a in range(0, n_cells, chunk):
            b = min(n_cells, a + chunk)

            def rows_of(arr):
                return arr if arr.shape[0] == 1 else np.ascontiguousarray(arr[a:b])

            sub = start_rows(a, b)
            rec = _run(m, t, rows_of(soc), rows_of(T), rows_of(I), has_current, reps, out_t, t_off[a:b].copy(),
                       usage[a:b].copy(), np.ascontiguousarray(mult[a:b]), sub, finalize)
            put(a, b, rec, sub)
            if bar is not None:
                bar.update(b - a)
    finally:
        if bar is not None:
            bar.close()
