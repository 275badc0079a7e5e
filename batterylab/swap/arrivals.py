"""Customer arrivals: a non-homogeneous Poisson process with an hourly rate profile, or a
recorded list; the SOC each vehicle arrives with, turned into the energy its trip used.

All random numbers are drawn here, from a seeded :class:`numpy.random.Generator`, before the
compiled station loop runs; the loop itself is deterministic.
"""

from __future__ import annotations

import csv

import numpy as np

from .. import checks
from ..errors import InputError


def poisson_arrivals(rate_per_h, duration_s: float, rng: np.random.Generator,
                     t0_s: float = 0.0) -> np.ndarray:
    """Arrival times [s] of a Poisson process whose rate is constant within each clock hour.

    ``rate_per_h`` holds 24 values [1/h], hour 0 being 00:00-01:00 (``t0_s`` must be a whole
    number of days). In each hour the count is Poisson with mean ``rate`` and the times are
    uniform within the hour, which is exactly the non-homogeneous Poisson process with a
    piecewise-constant intensity.
    """
    rate = checks.as_float_array("arrival_rate_per_h", rate_per_h)
    if rate.size != 24 or np.any(rate < 0):
        raise InputError(f"arrival_rate_per_h must be 24 values >= 0 [1/h], got {rate_per_h!r}")
    duration_s = checks.positive("duration_s", duration_s, "s")
    n_hours = int(np.ceil(duration_s / 3600.0))
    rates = np.resize(rate, n_hours)
    counts = rng.poisson(rates)
    starts = np.repeat(np.arange(n_hours, dtype=np.float64) * 3600.0, counts)
    times = starts + rng.random(starts.size) * 3600.0
    times.sort()
    return t0_s + times[times < duration_s]


def draw_arrival_soc(spec: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """SOC [-] with which ``n`` vehicles arrive (as measured on a new pack).

    ``spec``: ``{"distribution": "beta", "mean": m, "std": s}`` (method of moments:
    ``a = m k``, ``b = (1 - m) k``, ``k = m (1 - m) / s^2 - 1``), ``{"distribution": "uniform",
    "low": a, "high": b}`` or ``{"distribution": "fixed", "value": x}``.
    """
    kind = spec["distribution"]
    if kind == "beta":
        m, s = float(spec["mean"]), float(spec["std"])
        k = m * (1.0 - m) / (s * s) - 1.0
        return rng.beta(m * k, (1.0 - m) * k, size=n)
    if kind == "uniform":
        return rng.uniform(float(spec["low"]), float(spec["high"]), size=n)
    if kind == "fixed":
        return np.full(n, float(spec["value"]))
    raise InputError(f"arrival_soc.distribution {kind!r} is not one of beta, uniform, fixed")


def trip_energy_Wh(arrival_soc, soc_full: float, pack_energy_Wh: float) -> np.ndarray:
    """Energy [Wh] a trip took: a new pack handed out at ``soc_full`` came back at
    ``arrival_soc``. A worn pack handed out later loses the same energy, i.e. a larger SOC."""
    return np.clip(soc_full - np.asarray(arrival_soc, dtype=np.float64), 0.0, None) * pack_energy_Wh


def read_arrivals_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """A recorded arrival list: CSV with columns ``time_s`` and ``soc`` (one row a vehicle)."""
    path = checks.text_file("path", path, what="arrivals CSV")
    times, socs = [], []
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"time_s", "soc"} <= set(reader.fieldnames):
            raise InputError(f"{path}: expected CSV columns 'time_s' and 'soc', got "
                             f"{reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                times.append(float(row["time_s"]))
                socs.append(float(row["soc"]))
            except (TypeError, ValueError):
                raise InputError(f"{path}, line {line}: time_s and soc must be numbers, got "
                                 f"{row['time_s']!r} and {row['soc']!r}") from None
    return check_arrivals(times, socs)


def _short(a: np.ndarray) -> str:
    return np.array2string(a[:6], precision=6) + (" ..." if a.size > 6 else "")


def check_arrivals(time_s, soc) -> tuple[np.ndarray, np.ndarray]:
    """Validate a recorded arrival list: non-decreasing times >= 0 [s], SOC in [0, 1]."""
    t = checks.as_float_array("arrival_time_s", time_s, allow_empty=True)
    s = checks.fraction_array("arrival_soc", soc) if len(soc) else np.zeros(0)
    checks.same_length(arrival_time_s=t, arrival_soc=s)
    if t.size and (np.any(np.diff(t) < 0) or t[0] < 0):
        raise InputError(f"arrival_time_s must be non-decreasing and >= 0 [s], got {_short(t)}")
    return t, s
