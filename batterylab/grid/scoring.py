"""Regulation performance score as PJM computes it (PJM Manual 12, Balancing Operations,
"Regulation performance score"; section 4.4.6 in the revision quoted by public
re-implementations, the numbering moves between revisions; the score is the mean of accuracy,
delay and precision; a resource passes at 0.75).

Definitions (for each scoring hour, on signals sampled every 10 s):

- **Accuracy / correlation**: the Pearson correlation between the regulation signal and the
  response shifted by a delay :math:`\\delta`, searched over :math:`0 \\le \\delta \\le 5` min in
  10-s steps.
- **Delay**: :math:`S_d = |(\\delta - 5\\,\\mathrm{min}) / 5\\,\\mathrm{min}|`; :math:`\\delta` is the
  shift that maximises correlation plus delay score together ("max over delta of Delay Score +
  Correlation Score"). PJM allows a 10-s signal-propagation latency: delays up to
  ``latency_allowance_s`` count as zero.
- **Precision**: :math:`S_p = 1 - \\frac{1}{n}\\sum |R - S| / \\overline{|S|}`, the mean absolute
  error relative to the hourly average regulation signal. For an energy-neutral signal centred on
  zero the signed average is near zero, so the hourly average of the *absolute* signal is used
  (this reading of "hourly average regulation signal" is ours and is stated wherever it matters).
- **Score**: :math:`(S_a + S_d + S_p) / 3`, each component clipped to [0, 1]; a resource passes
  at 0.75. The overall score is the mean of the hourly scores.

A response whose standard deviation is zero has no defined correlation; its accuracy is 0 here.
"""

from __future__ import annotations

import numpy as np

from .. import citations
from ..checks import as_float_array, finite_scalar, positive, same_length, time_array
from ..errors import InputError

PJM_M12 = ("PJM Interconnection, PJM Manual 12: Balancing Operations, regulation performance score "
           "(accuracy, delay, precision; 10-s samples, delay search 0-5 min, pass at 0.75)")

#: Passing threshold of the composite score (PJM Manual 12).
PASS_SCORE = 0.75
#: Sampling interval of the scoring [s].
SCORING_INTERVAL_S = 10.0
#: Maximum delay searched [s].
MAX_DELAY_S = 300.0


def downsample(time_s, values, interval_s: float = SCORING_INTERVAL_S):
    """Sample ``values`` at every ``interval_s`` from ``time_s[0]`` (linear interpolation) [s, unit of values]."""
    t = as_float_array("time_s", time_s)
    v = as_float_array("values", values)
    same_length(time_s=t, values=v)
    interval_s = positive("interval_s", interval_s, "s")
    n = int(np.floor((t[-1] - t[0]) / interval_s + 1e-9)) + 1
    ts = t[0] + interval_s * np.arange(n)
    return ts, np.interp(ts, t, v)


def _corr(a, b):
    sa, sb = a.std(), b.std()
    if sa == 0 or sb == 0:
        return 0.0
    return float(np.mean((a - a.mean()) * (b - b.mean())) / (sa * sb))


def hourly_score(signal, response, *, interval_s=SCORING_INTERVAL_S, max_delay_s=MAX_DELAY_S,
                 latency_allowance_s=10.0):
    """Accuracy, delay, precision and score of one scoring period sampled every ``interval_s``.

    ``signal`` and ``response`` are the regulation signal and the resource response in the same
    unit (e.g. W), already sampled at ``interval_s``.
    """
    s = as_float_array("signal", signal)
    r = as_float_array("response", response)
    same_length(signal=s, response=r)
    kmax = int(round(max_delay_s / interval_s))
    if s.size < kmax + 3:
        raise InputError(f"a scoring period needs at least {kmax + 3} samples of {interval_s} s "
                         f"(the delay search spans {max_delay_s} s), got {s.size}")
    best = (-np.inf, 0.0, 0.0, 0)
    for k in range(kmax + 1):
        c = _corr(s[: s.size - k], r[k:])
        delay_s = k * interval_s
        d = abs((max(delay_s - latency_allowance_s, 0.0) - max_delay_s) / max_delay_s)
        if c + d > best[0] + 1e-12:
            best = (c + d, c, d, k)
    _, acc, dly, k = best
    mean_abs = float(np.mean(np.abs(s)))
    if mean_abs == 0:
        raise InputError("the regulation signal is identically zero; precision is undefined")
    prec = 1.0 - float(np.mean(np.abs(r - s))) / mean_abs
    acc, dly, prec = (float(np.clip(x, 0.0, 1.0)) for x in (acc, dly, prec))
    return {"accuracy": acc, "delay": dly, "precision": prec, "score": (acc + dly + prec) / 3.0,
            "delay_s": k * interval_s}


def performance_score(time_s, signal, response, *, period_s: float = 3600.0, interval_s=SCORING_INTERVAL_S,
                      latency_allowance_s: float = 10.0):
    """PJM regulation performance score of a response to a signal.

    Parameters
    ----------
    time_s : array [s]
        Sample times (any resolution, e.g. the 2-s RegD resolution).
    signal, response : array [any, same unit]
        Regulation request and the delivered response.
    period_s : float [s]
        Scoring period (PJM: one hour). Shorter records are scored as one period.

    Returns
    -------
    dict with ``accuracy``, ``delay``, ``precision``, ``score`` (means over periods), ``passed``
    (score >= 0.75), ``delay_s`` and per-period lists.
    """
    citations.register("PJM_M12", PJM_M12)
    t = time_array("time_s", time_s)
    same_length(time_s=t, signal=as_float_array("signal", signal), response=as_float_array("response", response))
    period_s = finite_scalar("period_s", period_s, low=2 * MAX_DELAY_S, unit="s")
    finite_scalar("latency_allowance_s", latency_allowance_s, low=0.0, high=MAX_DELAY_S, unit="s")
    positive("interval_s", interval_s, "s")
    ts, s10 = downsample(t, signal, interval_s)
    _, r10 = downsample(t, response, interval_s)
    per = max(1, int(round(period_s / interval_s)))
    periods = []
    start = 0
    while start < s10.size:
        stop = min(start + per, s10.size)
        if stop - start < per and periods:
            break  # an incomplete trailing period is not scored, as PJM scores whole hours
        periods.append(hourly_score(s10[start:stop], r10[start:stop], interval_s=interval_s,
                                    latency_allowance_s=latency_allowance_s))
        start = stop
    out = {key: float(np.mean([p[key] for p in periods])) for key in ("accuracy", "delay", "precision", "score")}
    out["delay_s"] = float(np.mean([p["delay_s"] for p in periods]))
    out["passed"] = bool(out["score"] >= PASS_SCORE)
    out["periods"] = periods
    return out
