"""Frequency-regulation revenue as PJM credits it.

PJM pays a regulation resource two credits per hour, in the form re-implemented by Sandia's
QuESt valuation tool (the settlement rules are PJM Manual 28, Operating Agreement Accounting,
"Regulation credits"; the manual's text was not checked here):

- capability credit = regulation MW x performance score x RMCCP [$/MW-h];
- performance credit = regulation MW x mileage ratio x performance score x RMPCP [$/MW of mileage],

where the mileage ratio is the RegD signal's mileage over the RegA signal's in the hour and the
mileage is the sum of the absolute changes of the normalised signal. This module takes the
clearing prices and the mileage ratio as inputs: they are market data (hourly, zonal), not
properties of a cell, and no default is a market statistic.
"""

from __future__ import annotations

import numpy as np

from ..checks import as_float_array, finite_scalar, positive
from ..errors import InputError

__all__ = ["mileage", "regulation_revenue"]


def mileage(signal) -> float:
    """Mileage of a normalised regulation signal: the sum of its absolute changes [1]."""
    s = as_float_array("signal", signal)
    if s.ndim != 1 or s.size < 2:
        raise InputError(f"signal must be a 1-D array of at least 2 samples, got shape {s.shape}")
    if np.max(np.abs(s)) > 1.0 + 1e-9:
        raise InputError(f"signal must be a normalised regulation signal in [-1, 1], got max |signal| = {np.max(np.abs(s))}")
    return float(np.sum(np.abs(np.diff(s))))


def regulation_revenue(regulation_W: float, hours: float, score: float, *, capability_price_per_MWh: float,
                       performance_price_per_MW: float, mileage_ratio: float) -> dict:
    """PJM regulation credits of ``regulation_W`` offered for ``hours`` at a performance ``score``.

    Parameters
    ----------
    regulation_W : float [W]
        Regulation capacity offered (the request at signal = 1).
    hours : float [h]
        Hours of service.
    score : float [-]
        PJM performance score in [0, 1] (:func:`batterylab.grid.performance_score`); both
        credits scale with it, as in the settlement formula (eligibility thresholds are not applied).
    capability_price_per_MWh : float [$/(MW h)]
        Regulation market capability clearing price (RMCCP).
    performance_price_per_MW : float [$/MW of mileage]
        Regulation market performance clearing price (RMPCP).
    mileage_ratio : float [-]
        RegD over RegA mileage in the hours of service.

    Returns
    -------
    dict
        ``capability`` and ``performance`` credits and their ``total`` [$], and ``per_hour`` [$/h].
    """
    mw = positive("regulation_W", regulation_W, "W") / 1e6
    hours = finite_scalar("hours", hours, low=0.0, unit="h")
    score = finite_scalar("score", score, low=0.0, high=1.0)
    ccp = finite_scalar("capability_price_per_MWh", capability_price_per_MWh, low=0.0, unit="$/MWh")
    pcp = finite_scalar("performance_price_per_MW", performance_price_per_MW, low=0.0, unit="$/MW")
    ratio = finite_scalar("mileage_ratio", mileage_ratio, low=0.0)
    capability = mw * hours * score * ccp
    performance = mw * hours * ratio * score * pcp
    total = capability + performance
    return {"capability": capability, "performance": performance, "total": total,
            "per_hour": total / hours if hours > 0 else 0.0}
