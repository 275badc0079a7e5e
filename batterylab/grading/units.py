"""Units sanity checks at the grading boundary: millivolts passed as volts, mAh as Ah, ms as s.

A cycler export or a user's array in the wrong unit does not fail on its own: a C/20 curve in
millivolts is "fitted" with an RMSE of kilovolts, a capacity in mAh becomes an SOH of 1000. Every
check here raises :class:`batterylab.errors.InputError` naming the argument, the value found and
what was expected, before any number is computed from it.

The limits are physical, not statistical:

- a single lithium-ion cell's terminal voltage lies between 0 and :data:`MAX_CELL_VOLTAGE_V`
  (6 V); values above :data:`MILLIVOLT_FLOOR` (100) are taken as millivolts;
- a measured capacity lies between :data:`MIN_SOH_RATIO` and :data:`MAX_SOH_RATIO` of the
  nominal capacity (a used cell never delivers 3 times its rating, nor 1 %); a ratio near 1000 (or
  1/1000) is a mAh / Ah mix-up;
- the charge integrated from a current over a time column agrees with the cycler's own
  capacity counter to better than a factor :data:`MAX_COUNTER_RATIO` (the two differ by the
  sampling, a few per cent); a factor near 1000 is milliseconds (or milliamperes) passed as
  seconds (amperes) or the reverse.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

#: Highest terminal voltage of a single lithium-ion cell [V].
MAX_CELL_VOLTAGE_V = 6.0
#: Voltages whose median exceeds this are taken as millivolts.
MILLIVOLT_FLOOR = 100.0
#: Bounds of measured capacity / nominal capacity [1].
MIN_SOH_RATIO = 0.02
MAX_SOH_RATIO = 3.0
#: Largest plausible ratio between an integrated charge and the cycler's counter [1].
MAX_COUNTER_RATIO = 10.0


def check_cell_voltage(name: str, voltage_V, *, where: str = "") -> np.ndarray:
    """Return ``voltage_V`` [V] as a float array; raise if it looks like millivolts or is out of range.

    NaN entries are ignored by the check (readers report them themselves).
    """
    v = np.asarray(voltage_V, dtype=np.float64)
    ok = np.isfinite(v)
    if not ok.any():
        return v
    at = f" in {where}" if where else ""
    med = float(np.median(v[ok]))
    vmax = float(np.max(v[ok]))
    vmin = float(np.min(v[ok]))
    if med > MILLIVOLT_FLOOR:
        raise InputError(f"{name}{at} has a median of {med:g} (max {vmax:g}): that looks like millivolts; expected volts "
                         f"(a cell's voltage is 0 to {MAX_CELL_VOLTAGE_V:g} V): divide by 1000")
    if vmax > MAX_CELL_VOLTAGE_V or vmin < -0.5:
        bad = vmax if vmax > MAX_CELL_VOLTAGE_V else vmin
        raise InputError(f"{name}{at} has a value {bad:g} V outside a single cell's range 0 to {MAX_CELL_VOLTAGE_V:g} V "
                         "(a module or pack voltage, or a wrong column?)")
    return v


def check_capacity_vs_nominal(name: str, capacity_Ah: float, nominal_capacity_Ah: float, *, where: str = "") -> None:
    """Raise if ``capacity_Ah`` / ``nominal_capacity_Ah`` is outside [MIN_SOH_RATIO, MAX_SOH_RATIO]."""
    if capacity_Ah is None or nominal_capacity_Ah is None:
        return
    c, n = float(capacity_Ah), float(nominal_capacity_Ah)
    if not (np.isfinite(c) and np.isfinite(n) and n > 0):
        return
    r = c / n
    if MIN_SOH_RATIO <= r <= MAX_SOH_RATIO:
        return
    at = f" in {where}" if where else ""
    if r > MAX_SOH_RATIO:
        hint = ("looks like mAh given as Ah, or a nominal capacity given in Ah for a value in mAh"
                if 300 <= r <= 3000 else "a wrong nominal capacity or a capacity column of another quantity")
    else:
        hint = ("looks like a nominal capacity in mAh (or the capacity in kAh)" if 1 / 3000 <= r <= 1 / 300
                else "a wrong nominal capacity or a nearly empty discharge")
    raise InputError(f"{name}{at} = {c:g} Ah against nominal_capacity_Ah = {n:g} Ah is {r:g} x nominal; expected "
                     f"{MIN_SOH_RATIO:g} to {MAX_SOH_RATIO:g} x nominal: {hint}")


def check_counter_consistency(integrated_Ah: float, counter_Ah: float, *, time_column: str, current_column: str,
                              counter_column: str, where: str = "") -> None:
    """Raise if the charge integrated from current over time disagrees with the cycler's counter by > MAX_COUNTER_RATIO."""
    a, b = float(integrated_Ah), float(counter_Ah)
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0 or b <= 0:
        return
    r = a / b
    if 1 / MAX_COUNTER_RATIO <= r <= MAX_COUNTER_RATIO:
        return
    at = f" in {where}" if where else ""
    if r > MAX_COUNTER_RATIO:
        hint = f"{time_column} looks like milliseconds (or {current_column} like milliamperes)"
    else:
        hint = f"{time_column} looks like it is in units larger than seconds (or {counter_column} in mAh)"
    raise InputError(f"the discharge charge integrated from {current_column} over {time_column}{at} is {a:.6g} Ah but "
                     f"the cycler's {counter_column} counter says {b:.6g} Ah ({r:.3g} x); expected agreement within a "
                     f"factor {MAX_COUNTER_RATIO:g}: {hint}")


def check_duration_s(name: str, value_s: float, *, low_s: float, high_s: float) -> float:
    """A duration [s] inside [low_s, high_s]; a value 1000 x too large is named as milliseconds."""
    x = float(value_s)
    if not np.isfinite(x) or x <= 0:
        raise InputError(f"{name} must be a positive duration in seconds, got {value_s!r}")
    if x > high_s:
        hint = ": that looks like milliseconds; expected seconds" if x / 1000.0 <= high_s else ""
        raise InputError(f"{name} = {x:g} s is above {high_s:g} s{hint}")
    if x < low_s:
        raise InputError(f"{name} = {x:g} s is below {low_s:g} s")
    return x
