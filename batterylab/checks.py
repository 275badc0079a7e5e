"""Input checks at the public boundary.

Each check raises :class:`batterylab.errors.InputError` naming the argument, the offending value
and what was expected, so that a typo costs seconds rather than a NaN deep inside a solver.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

#: Temperatures below this are taken as Celsius passed by mistake [K].
KELVIN_FLOOR_K = 173.15
#: Temperatures above this are outside any battery's range [K].
KELVIN_CEILING_K = 473.15


def _describe(values: np.ndarray, mask: np.ndarray) -> str:
    idx = int(np.flatnonzero(mask.ravel())[0])
    return f"{float(values.ravel()[idx])!r} at index {idx}"


def as_float_array(name: str, values, *, ndim: int | None = 1, allow_empty: bool = False) -> np.ndarray:
    """Return ``values`` as a finite float64 array, or raise naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric, got {type(values).__name__}: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name} is empty; expected at least one value")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name} must be finite, got {_describe(arr, bad)}")
    return arr


def finite_scalar(name: str, value, *, low=None, high=None, unit: str = "", inclusive=True) -> float:
    """Return ``value`` as a finite float in [low, high], or raise naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(x):
        raise InputError(f"{name} must be finite, got {x!r}")
    u = f" {unit}" if unit else ""
    if low is not None and (x < low if inclusive else x <= low):
        rel = ">=" if inclusive else ">"
        raise InputError(f"{name} must be {rel} {low}{u}, got {x}{u}")
    if high is not None and (x > high if inclusive else x >= high):
        rel = "<=" if inclusive else "<"
        raise InputError(f"{name} must be {rel} {high}{u}, got {x}{u}")
    return x


def positive(name: str, value, unit: str = "") -> float:
    """A finite number strictly above zero."""
    return finite_scalar(name, value, low=0.0, inclusive=False, unit=unit)


def time_array(name: str, values, *, min_length: int = 2) -> np.ndarray:
    """A finite, strictly increasing time array [s]."""
    t = as_float_array(name, values)
    if t.size < min_length:
        raise InputError(f"{name} needs at least {min_length} samples, got {t.size}")
    steps = np.diff(t)
    bad = steps <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name} must be strictly increasing [s]; {name}[{i + 1}] = {t[i + 1]} follows "
            f"{name}[{i}] = {t[i]}"
        )
    return t


def temperature_K(name: str, values, *, ndim: int | None = 1) -> np.ndarray | float:
    """A temperature in kelvin; values that look like Celsius give a clear error."""
    scalar = np.ndim(values) == 0
    arr = as_float_array(name, np.atleast_1d(values) if scalar else values, ndim=1 if scalar else ndim)
    low = arr < KELVIN_FLOOR_K
    if low.any():
        raise InputError(
            f"{name} must be in kelvin; got {_describe(arr, low)}, which looks like Celsius "
            f"(add 273.15), expected {KELVIN_FLOOR_K} to {KELVIN_CEILING_K} K"
        )
    high = arr > KELVIN_CEILING_K
    if high.any():
        raise InputError(
            f"{name} must be in kelvin between {KELVIN_FLOOR_K} and {KELVIN_CEILING_K} K, "
            f"got {_describe(arr, high)}"
        )
    return float(arr[0]) if scalar else arr


def fraction_array(name: str, values, *, ndim: int | None = 1) -> np.ndarray:
    """An array of fractions in [0, 1] (SOC, depth of discharge)."""
    arr = as_float_array(name, values, ndim=ndim)
    bad = (arr < 0.0) | (arr > 1.0)
    if bad.any():
        raise InputError(f"{name} must lie in [0, 1], got {_describe(arr, bad)}")
    return arr


def same_length(**arrays: np.ndarray) -> int:
    """Check that all arrays have the same length; return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise InputError(f"arrays must have the same length: {desc}")
    return next(iter(lengths.values()))
