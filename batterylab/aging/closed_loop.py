"""Closed-loop ageing: a duty re-simulated as the cell ages, update interval by update interval.

An application describes one period of its duty (a day, say) as a function of the cell's present
state, ``period(capacity_fraction, resistance_factor) -> (time_s, soc, temperature_K,
current_A)``: a pack that has lost capacity drives the same trips at a deeper depth of
discharge, an aged cell draws more current for the same power and heats more. Every
``update_interval_days`` the period is simulated again with the state reached, and the compiled
core (:func:`batterylab.aging.simulate`) ages the cell over that interval's repetitions, resuming
its state exactly (rainflow reversal stack included). The open-loop run (the fresh cell's period
repeated over the whole horizon) is computed beside it, on the same output times.

When the period does not depend on the state, the closed loop is the open loop to round-off
(the kernel resumed interval by interval equals one pass). When the aged cell can no longer
drive the duty (``period`` raises a :class:`batterylab.BatterylabError`), the run stops there and
``stop_reason`` says why.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import BatterylabError, InputError
from ..io.results import Result, new_axes
from .models import SECONDS_PER_YEAR, OutOfRangeWarning

SECONDS_PER_DAY = 86400.0


@dataclass
class ClosedLoopResult(Result):
    """Closed-loop and open-loop ageing on the same output times (start of each interval and the end).

    time_s [s]; capacity_fraction, open_loop_capacity_fraction [-] (None when run without the
    open loop); resistance_factor, open_loop_resistance_factor [-] (None without a resistance
    model or without the open loop); efc (closed loop) [-];
    states: each degradation state of the closed loop by name [-]; stop_reason ('' when the
    horizon was reached).
    """

    model: str
    time_s: np.ndarray
    capacity_fraction: np.ndarray
    open_loop_capacity_fraction: np.ndarray | None
    resistance_factor: np.ndarray | None
    open_loop_resistance_factor: np.ndarray | None
    efc: np.ndarray
    update_interval_s: float
    stop_reason: str = ""
    config: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)

    @property
    def fade(self) -> float:
        """Closed-loop capacity lost at the end, 1 - q [-]."""
        return 1.0 - float(self.capacity_fraction[-1])

    @property
    def open_loop_fade(self) -> float:
        """Open-loop capacity lost at the same time [-] (NaN when run without the open loop)."""
        if self.open_loop_capacity_fraction is None:
            return math.nan
        return 1.0 - float(self.open_loop_capacity_fraction[-1])

    def summary(self) -> dict:
        out = {"model": self.model, "years": float(self.time_s[-1] / SECONDS_PER_YEAR),
               "capacity_fraction_lost_closed_loop": self.fade, "capacity_fraction_lost_open_loop": self.open_loop_fade,
               "update_interval_days": self.update_interval_s / SECONDS_PER_DAY, "stop_reason": self.stop_reason}
        if self.resistance_factor is not None:
            out["resistance_growth_closed_loop"] = float(self.resistance_factor[-1]) - 1.0
            if self.open_loop_resistance_factor is not None:
                out["resistance_growth_open_loop"] = float(self.open_loop_resistance_factor[-1]) - 1.0
        return out

    def plot(self, ax=None):
        """Relative capacity over time, closed and open loop; returns ``ax``."""
        ax = new_axes(ax)
        yr = self.time_s / SECONDS_PER_YEAR
        ax.plot(yr, self.capacity_fraction, "C3-", label="closed loop (duty re-simulated as the cell ages)")
        if self.open_loop_capacity_fraction is not None:
            ax.plot(yr, self.open_loop_capacity_fraction, "k--", label="open loop (the fresh cell's duty repeated)")
        ax.set_xlabel("time [years]")
        ax.set_ylabel("relative capacity [-]")
        ax.legend(fontsize=8)
        ax.set_title(f"{self.model}: closed vs open loop", fontsize=9)
        return ax

    def _h5_contents(self) -> dict:
        from ..io import Variable

        v = {"time_s": Variable(self.time_s, "s", "Time [s]", ("time_s",)),
             "capacity_fraction": Variable(self.capacity_fraction, "1", "Relative capacity, closed loop [-]", ("time_s",)),
             "efc": Variable(self.efc, "1", "Equivalent full cycles, closed loop [-]", ("time_s",))}
        if self.open_loop_capacity_fraction is not None:
            v["open_loop_capacity_fraction"] = Variable(self.open_loop_capacity_fraction, "1",
                                                        "Relative capacity, open loop [-]", ("time_s",))
        for name, arr in self.states.items():
            v[f"states/{name}"] = Variable(arr, "1", f"Degradation state {name}, closed loop [-]", ("time_s",))
        if self.resistance_factor is not None:
            v["resistance_factor"] = Variable(self.resistance_factor, "1", "Relative resistance, closed loop [-]", ("time_s",))
            if self.open_loop_resistance_factor is not None:
                v["open_loop_resistance_factor"] = Variable(self.open_loop_resistance_factor, "1",
                                                            "Relative resistance, open loop [-]", ("time_s",))
        return {"variables": v, "config": {"model": self.model, "stop_reason": self.stop_reason, **self.config}}


@dataclass(frozen=True)
class ClosedLoopUpdate:
    """What a period sees at the start of an update of :func:`age_closed_loop` (``pass_update``).

    index: the update's number (0: the fresh cell); start_s: its start [s]; periods: the periods
    it ages; capacity_fraction, resistance_factor, efc [-] and states (each degradation state by
    name [-]) of the cell at its start.
    """

    index: int
    start_s: float
    periods: int
    capacity_fraction: float
    resistance_factor: float
    efc: float
    states: dict


def _period_arrays(period, u: ClosedLoopUpdate, pass_update: bool):
    q, r = u.capacity_fraction, u.resistance_factor
    out = period(q, r, u) if pass_update else period(q, r)
    if not isinstance(out, tuple) or len(out) != 4:
        raise InputError("period must return (time_s, soc, temperature_K, current_A or None), got "
                         f"{type(out).__name__} {out!r:.60}")
    return out


def age_closed_loop(model, period, *, years: float, update_interval_days: float = 30.0,
                    eol_threshold: float = 0.8, pass_update: bool = False,
                    period_s: float | None = None, open_loop: bool = True) -> ClosedLoopResult:
    """Age a cell whose duty is re-simulated as it ages (see module docstring).

    Parameters
    ----------
    model : str, path or AgingModel
        The ageing model (:func:`batterylab.aging.simulate`).
    period : callable
        ``period(capacity_fraction, resistance_factor)`` -> ``(time_s, soc, temperature_K,
        current_A)`` for one period of the duty of a cell in that state (``current_A`` may be
        None; ``resistance_factor`` is 1 for a model without resistance). Every call must return
        a period of the same length.
    years : float
        Horizon [365-day years].
    update_interval_days : float
        How often the period is re-simulated [days] (rounded to whole periods, at least one).
    eol_threshold : float
        Relative capacity at end of life [-] (passed to the kernel).
    pass_update : bool
        Call ``period(capacity_fraction, resistance_factor, update)`` with the :class:`ClosedLoopUpdate`
        (its start, its number of periods, the cell's EFC and degradation states), for a duty
        that depends on more than q and r (a seasonal ambient, a film resistance from one state).
    period_s : float, optional
        The period's length [s], needed with ``pass_update`` (the first update's number of
        periods depends on it); otherwise the first period tells it.
    open_loop : bool
        Also run the open loop (the fresh period repeated) on the same output times; False
        halves the kernel time for a caller that has its open loop already (its fields None).
    """
    from .models import load as load_model

    if not callable(period):
        raise InputError(f"period must be a callable period(capacity_fraction, resistance_factor), got "
                         f"{type(period).__name__} {period!r:.60}")
    years = checks.positive("years", years, "years")
    interval_s = checks.positive("update_interval_days", update_interval_days, "days") * SECONDS_PER_DAY
    m = load_model(model) if not hasattr(model, "state_names") else model
    pass_update = checks.boolean("pass_update", pass_update)
    open_loop = checks.boolean("open_loop", open_loop)
    y0 = {st.get("name"): float(st.get("initial", 0.0)) for st in m.spec["states"]}
    states0 = {n: y0.get(n, 0.0) for n in m.state_names}
    fresh = None
    if period_s is not None:
        period_s = checks.positive("period_s", period_s, "s")
    if pass_update:
        if period_s is None:
            raise InputError("period_s [s] is needed with pass_update=True (the first update's number of periods "
                             "depends on the period's length)")
        span = period_s
    else:
        fresh = _period_arrays(period, ClosedLoopUpdate(0, 0.0, 0, 1.0, 1.0, 0.0, states0), False)
        t = checks.time_array("time_s", fresh[0])
        span = float(t[-1] - t[0])
    total = max(1, math.ceil(years * SECONDS_PER_YEAR / span - 1e-9))
    per = max(1, round(interval_s / span))
    u0 = ClosedLoopUpdate(0, 0.0, min(per, total), 1.0, 1.0, 0.0, states0)
    if fresh is None:
        fresh = _period_arrays(period, u0, True)
    closed = _updates(m, lambda u: fresh if u.index == 0 else _period_arrays(period, u, pass_update), u0, span,
                      total, per, eol_threshold)
    times, qs, rs, efcs, states, reason = closed
    oq = orr = None
    if open_loop:
        open_ = _updates(m, lambda u: fresh, u0, span, total, per, eol_threshold)
        oq, orr = open_[1][:len(qs)], open_[2][:len(qs)]
    has_r = m.has_resistance
    return ClosedLoopResult(m.name, times, qs, oq, rs if has_r else None, orr if has_r and open_loop else None, efcs,
                            per * span, reason, {"years": years, "update_interval_days": update_interval_days},
                            states)


def _updates(m, period, u0: ClosedLoopUpdate, span: float, total: int, per: int, eol_threshold: float):
    """Age ``total`` periods, the period ``period(update)`` simulated again every ``per`` of them
    from the state reached (``u0``: the fresh cell's update); returns times, q, r, EFC and the
    states at the start of each update and the end, and the stop reason. The open loop is this
    with a period that ignores the update, so both are read at the same instants."""
    from . import simulate

    rows = [u0]
    state, reason = None, ""
    extrapolated = []
    while (u := rows[-1]).start_s < total * span * (1 - 1e-12) and not reason:
        try:
            t, soc, temp, cur = period(u)
        except BatterylabError as exc:
            if u.index == 0:
                raise
            reason = f"at {u.start_s / SECONDS_PER_YEAR:.2f} years the aged cell cannot drive the duty: {exc}"
            break
        t = checks.time_array("time_s", t)
        if abs(float(t[-1] - t[0]) - span) > 1e-6 * span:
            raise InputError(f"period returned a period of {t[-1] - t[0]} s after {span} s: every period must "
                             "have the same length")
        done = round(u.start_s / span) + u.periods
        # every call but the last leaves the run open (finalize=False), so the resumed calls are
        # one pass of the kernel (window models included: see batterylab.aging.simulate)
        start = state.time_s if state is not None else 0.0
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            res = simulate(m, t - t[0] + start, soc, temp, cur, repeat=u.periods, eol_threshold=eol_threshold,
                           state=state, finalize=done == total, output_interval_s=u.periods * span)
        for w in seen:  # the kernel's range warnings once for the run (below), others as they come
            if issubclass(w.category, OutOfRangeWarning):
                extrapolated.append(str(w.message))
            else:
                warnings.warn(w.message, stacklevel=3)
        state = res.state
        rows.append(ClosedLoopUpdate(u.index + 1, done * span, min(per, total - done), float(res.capacity_fraction[-1]),
                           float(res.resistance_factor[-1]) if res.resistance_factor is not None else 1.0,
                           float(res.efc[-1]), {n: float(res.states[n][-1]) for n in m.state_names}))
    if extrapolated:
        more = "" if len(extrapolated) == 1 else f"; the last: {extrapolated[-1]}"
        warnings.warn(f"{len(extrapolated)} of the {len(rows) - 1} updates of the closed loop extrapolate; the first: "
                      f"{extrapolated[0]}{more}", OutOfRangeWarning, stacklevel=3)
    col = lambda f: np.array([f(u) for u in rows])  # noqa: E731
    states = {n: col(lambda u, n=n: u.states[n]) for n in m.state_names}
    return (col(lambda u: u.start_s), col(lambda u: u.capacity_fraction), col(lambda u: u.resistance_factor),
            col(lambda u: u.efc), states, reason)
