"""Frequency-regulation signals: a synthetic RegD-like signal, or one read from CSV.

The synthetic signal (:func:`regd_signal`: 2-s resolution, in [-1, 1], energy-neutral over its
period, reproducible from a seed) is not a recorded PJM signal: it is an Ornstein-Uhlenbeck
process (correlation time ``tau_s``) softly saturated, tapered to zero at both ends and corrected
to zero mean, which reproduces RegD's fast swings to the +-1 limits and its energy neutrality,
not its exact spectrum. A recorded signal is read with :func:`load_signal_csv` (columns
``time_s,signal``).
"""

from __future__ import annotations

import csv

import numpy as np

from ..checks import as_float_array, positive, text_file, time_array
from ..errors import InputError

#: RegD resolution [s].
REGD_DT_S = 2.0


def regd_signal(hours: float = 1.0, *, seed: int = 0, dt_s: float = REGD_DT_S, tau_s: float = 60.0,
                rng: np.random.Generator | None = None):
    """Synthetic RegD-like regulation signal.

    Parameters
    ----------
    hours : float [h]
        Length of the period.
    seed : int
        Seed of the ``numpy.random.Generator`` (ignored when ``rng`` is given).
    dt_s : float [s]
        Resolution (RegD: 2 s).
    tau_s : float [s]
        Correlation time of the underlying Ornstein-Uhlenbeck process.

    Returns
    -------
    time_s, signal : arrays [s], [1]
        ``signal`` in [-1, 1] with ``max |signal| = 1``, starting and ending at 0, and
        energy-neutral over the period: its trapezoidal integral is zero to round-off.
    """
    hours = positive("hours", hours, "h")
    dt_s = positive("dt_s", dt_s, "s")
    tau_s = positive("tau_s", tau_s, "s")
    n = int(round(hours * 3600.0 / dt_s)) + 1
    if n < 10:
        raise InputError(f"hours = {hours} gives only {n} samples at dt_s = {dt_s}; expected at least 10")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    if rng is None:
        from ..checks import rng as _rng

        rng = _rng("seed", seed)
    a = np.exp(-dt_s / tau_s)
    noise = rng.standard_normal(n) * np.sqrt(1 - a * a)
    x = np.empty(n)
    x[0] = 0.0
    for i in range(1, n):
        x[i] = a * x[i - 1] + noise[i]
    x = np.tanh(1.6 * x)  # soft saturation: RegD spends time near its limits
    t = dt_s * np.arange(n)
    ramp = min(60.0, 0.1 * t[-1])
    w = np.clip(np.minimum(t, t[-1] - t) / ramp, 0.0, 1.0)
    w = 0.5 - 0.5 * np.cos(np.pi * w)  # smooth taper, zero at both ends
    x = x * w
    x = x - w * (np.sum(x) / np.sum(w))  # zero mean, ends stay zero -> trapezoid integral 0
    x = x / np.max(np.abs(x))
    return t, x


def load_signal_csv(path):
    """Read a regulation signal from CSV with columns ``time_s`` [s] and ``signal`` [1, in -1..1]."""
    path = text_file("path", path, what="regulation signal CSV")
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(row for row in fh if not row.startswith("#"))
        cols = reader.fieldnames or []
        if "time_s" not in cols or "signal" not in cols:
            raise InputError(f"signal file {path.name!r} has columns {cols}; expected 'time_s' and 'signal'")
        rows = [(r["time_s"], r["signal"]) for r in reader]
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"signal file {path.name!r}: non-numeric value ({exc})") from None
    t = time_array("time_s (from CSV)", data[:, 0])
    s = as_float_array("signal (from CSV)", data[:, 1])
    if np.max(np.abs(s)) > 1.0 + 1e-9:
        raise InputError(f"signal file {path.name!r}: signal must lie in [-1, 1], got max |signal| = {np.max(np.abs(s))}")
    return t - t[0], s


def signal_from_spec(spec, hours: float, *, seed: int = 0, name: str = "spec"):
    """``"regd"`` -> :func:`regd_signal`; otherwise a CSV path, truncated to ``hours``.

    ``name`` is the argument the spec came in (for the error messages)."""
    if isinstance(spec, str) and spec.lower() == "regd":
        return regd_signal(hours, seed=seed)
    hours = positive("hours", hours, "h")
    t, s = load_signal_csv(text_file(name, spec, what="regulation signal CSV ('regd' or a path)"))
    keep = t <= hours * 3600.0 + 1e-9
    if keep.sum() < 10:
        raise InputError(f"{name}: signal file {spec!r} has fewer than 10 samples within {hours} h")
    return t[keep], s[keep]
