"""Grid fast-response duty: step response, power ramp, and frequency-regulation tracking.

The regulation signal, PJM's performance score and the regulation revenue live one floor lower,
in :mod:`batterylab.grid`, shared with every application that offers regulation; they are
re-exported here.

Every duty runs the PyBaMM cell model of :mod:`batterylab.solid_state.model`: what a cell
delivers is limited by its current limit, voltage window and temperature.
"""

from __future__ import annotations

import numpy as np

from ..checks import as_float_array, finite_scalar, positive, time_array
from ..errors import InputError
from . import model as _model
from ..grid.scoring import performance_score
from ..grid.signal import REGD_DT_S, load_signal_csv, regd_signal, signal_from_spec  # noqa: F401 (re-exported)

def _settling_time(t, y, t0, final, band):
    """Time after ``t0`` from which ``|y - final| <= band`` holds to the end [s] (inf if never)."""
    after = t >= t0
    tt, yy = t[after], y[after]
    outside = np.abs(yy - final) > band
    if not outside.any():
        return 0.0
    last = int(np.flatnonzero(outside)[-1])
    if last == tt.size - 1:
        return float("inf")
    return float(tt[last + 1] - t0)


def step_response(cell, power_W: float, *, hold_s: float = 120.0, pre_s: float = 10.0, dt_s: float = 0.1,
                  tolerance: float = 0.02, **kwargs):
    """Response to a power step from rest to ``power_W`` (discharge positive) at ``t = pre_s``.

    Returns ``power_settling_s`` (time until the delivered power stays within ``tolerance`` of the
    set-point; ``inf`` if the cell cannot deliver it), ``voltage_settling_s`` (time until the
    voltage transient stays within ``tolerance`` of the total voltage change; the transient is the
    voltage minus the straight line fitted to the last quarter of the hold, which removes the
    slow drift of the open-circuit voltage as charge is drawn), the delivered and requested power,
    and the run.
    """
    power_W = finite_scalar("power_W", power_W)
    if power_W == 0:
        raise InputError("power_W must be non-zero for a step response")
    hold_s = positive("hold_s", hold_s, "s")
    pre_s = positive("pre_s", pre_s, "s")
    dt_s = finite_scalar("dt_s", dt_s, low=0.0, high=min(pre_s, hold_s) / 4, inclusive=False, unit="s")
    tolerance = finite_scalar("tolerance", tolerance, low=0.0, high=1.0, inclusive=False)
    t_req = np.array([0.0, pre_s, pre_s + 1e-3, pre_s + hold_s])
    p_req = np.array([0.0, 0.0, power_W, power_W])
    t_eval = np.unique(np.concatenate([np.arange(0.0, pre_s + hold_s, dt_s), [pre_s + 1e-3, pre_s + hold_s]]))
    run = _model.simulate(cell, t_req, power_W=p_req, t_eval_s=t_eval, **kwargs)
    t, v = run["time_s"], run["voltage_V"]
    p = run["current_A"] * v
    v0 = float(np.interp(pre_s, t, v))
    vf = float(v[-1])
    tail = t >= pre_s + 0.75 * hold_s
    slope, icpt = np.polyfit(t[tail], v[tail], 1)
    transient = v - (icpt + slope * t)
    return {
        "power_settling_s": _settling_time(t, p, pre_s + 1e-3, power_W, tolerance * abs(power_W)),
        "voltage_settling_s": _settling_time(t, transient, pre_s + 1e-3, 0.0, tolerance * max(abs(vf - v0), 1e-12)),
        "delivered_W": float(p[-1]),
        "requested_W": power_W,
        "voltage_change_V": vf - v0,
        "run": run,
    }


def ramp_test(cell, ramp_W_per_s: float, duration_s: float = 60.0, *, dt_s: float = 0.5, tolerance: float = 0.02,
              **kwargs):
    """Follow a power ramp ``P = ramp * t`` for ``duration_s``; report how far it was followed.

    Returns ``tracked_until_W``: the largest requested power up to which the delivered power stays
    within ``tolerance`` of the request (relative, with an absolute floor of 1 % of the final
    request), ``ramp_capability_W_per_s`` = that power divided by the time it took, and the run.
    """
    ramp = finite_scalar("ramp_W_per_s", ramp_W_per_s)
    if ramp == 0:
        raise InputError("ramp_W_per_s must be non-zero for a ramp test, got 0.0")
    duration_s = positive("duration_s", duration_s, "s")
    dt_s = finite_scalar("dt_s", dt_s, low=0.0, high=duration_s / 4, inclusive=False, unit="s")
    tolerance = finite_scalar("tolerance", tolerance, low=0.0, high=1.0, inclusive=False)
    t = np.arange(0.0, duration_s + dt_s / 2, dt_s)
    req = ramp * t
    run = _model.simulate(cell, t, power_W=req, **kwargs)
    p = run["current_A"] * run["voltage_V"]
    err = np.abs(p - req)
    ok = err <= np.maximum(tolerance * np.abs(req), 0.01 * abs(req[-1]))
    bad = np.flatnonzero(~ok)
    i_last = (bad[0] - 1) if bad.size else t.size - 1
    i_last = max(i_last, 0)
    reached = float(abs(req[i_last]))
    return {"tracked_until_W": reached,
            "ramp_capability_W_per_s": reached / t[i_last] if t[i_last] > 0 else 0.0,
            "requested_final_W": float(abs(req[-1])), "run": run}


def regulation(cell, time_s, signal, regulation_W: float, *, base_W: float = 0.0, **kwargs):
    """Track ``base_W + regulation_W * signal`` and score the response (PJM Manual 12).

    The score is PJM's regulation performance score [1]_ of the delivered power.

    Parameters
    ----------
    cell : SolidStateCell or str
        The cell (see :func:`batterylab.solid_state.simulate`: ``"sulfide"``, ``"llzo"``, a JSON
        path or ``"LGM50"``).
    time_s : (n,) array
        Sample times of the signal [s], e.g. from :func:`regd_signal` (2-s resolution).
    signal : (n,) array
        Regulation signal [-] in [-1, 1].
    regulation_W : float
        Regulation capacity [W]: the request at ``signal = 1``.
    base_W : float
        Base power [W] the regulation is added to (discharge positive).
    **kwargs
        Passed to :func:`batterylab.solid_state.simulate` (``ambient_temperature_K`` [K],
        ``initial_soc`` [-], ``limits``, ``mesh_points``, ...).

    Returns
    -------
    dict
        ``run``: the model outputs (``time_s`` [s], ``requested_W`` and delivered ``power_W``
        [W], ``current_A`` [A], ``voltage_V`` [V], ``temperature_K`` [K], ...); ``score``: PJM's
        accuracy, delay and precision scores [-] and their mean (see
        :func:`batterylab.solid_state.performance_score`), computed on the regulation component
        (delivered minus base); ``regulation_W`` and ``base_W`` [W].

    References
    ----------
    .. [1] PJM Interconnection, PJM Manual 12: Balancing Operations (regulation performance
       score: accuracy, delay, precision; pass at 0.75); a grid operator's manual, no DOI.
    """
    t = time_array("time_s", time_s)
    s = as_float_array("signal", signal)
    if s.shape != t.shape:
        raise InputError(f"signal has {s.size} samples but time_s has {t.size}")
    out = np.abs(s) > 1.0
    if out.any():
        # the request is base_W + regulation_W * signal: a signal beyond +-1 asks for more than the capacity offered
        i = int(np.flatnonzero(out)[0])
        raise InputError(f"signal must lie in [-1, 1] (a normalised regulation signal; the request is base_W + "
                         f"regulation_W * signal), got {s[i]} at index {i}")
    regulation_W = positive("regulation_W", regulation_W, "W")
    base_W = finite_scalar("base_W", base_W, unit="W")
    req = base_W + regulation_W * s
    run = _model.simulate(cell, t, power_W=req, **kwargs)
    run["power_W"] = run["current_A"] * run["voltage_V"]
    score = performance_score(run["time_s"], run["requested_W"] - base_W, run["power_W"] - base_W)
    return {"run": run, "score": score, "regulation_W": regulation_W, "base_W": base_W}
