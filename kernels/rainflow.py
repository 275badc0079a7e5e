"""Streaming rainflow cycle counting of SOC (ASTM E1049-85, section 5.4.4).

Arrays in, arrays out. The compiled code lives in :mod:`batterylab.kernels.aging` (the ageing
integrator counts cycles with the same helpers while it integrates; keeping one copy of the
compiled code in one file keeps Numba's on-disk cache consistent, since the cache only notices
edits to a kernel's own file).

The cycles are exactly those of the ``rainflow`` package (``rainflow.extract_cycles``): the
three-point rule with the starting-point half cycle, plateaus skipped, reversals placed at a
plateau's last sample, and the residue counted as half cycles at the end of the series. On top of
range and mean, each cycle carries the time-mean temperature over its own segment (between its
two reversal points) and the mean |C-rate| over the part of that segment in which current flowed
(rests at a reversal do not dilute it). Counting streams: the state array carries the reversal stack
across calls, and a call's residue is counted only when ``finalize=True`` (on a copy, so the
returned state continues the count exactly).

Output columns of ``cycles`` (float64, shape (m, 5)): range [-], mean SOC [-], count (0.5 half
cycle, 1.0 full cycle), mean temperature [K], mean |C-rate| [1/h].
"""

from __future__ import annotations

import numpy as np

from . import aging as _k

#: Column names of the cycle array.
COLUMNS = ("range", "mean", "count", "mean_temperature_K", "mean_crate_per_h")


def new_state() -> np.ndarray:
    """A fresh counting state (shape (1, L)); pass it to :func:`count` to stream."""
    return np.zeros((1, _k.state_length(0)))


def count(time_s, soc, temperature_K=None, crate_per_h=None, *, state=None, finalize=True):
    """Rainflow-count one SOC series (or the next chunk of one).

    Parameters
    ----------
    time_s : (n,) array, strictly increasing [s]
    soc : (n,) array [-]
    temperature_K : (n,) array, optional [K] (default 298.15)
    crate_per_h : (n,) array, optional
        |C-rate| held from sample i to i+1 [1/h]; default ``|dSOC/dt|`` x 3600 of each step.
    state : array from :func:`new_state` or a previous call, optional (advanced in place)
    finalize : bool
        Count the residue as half cycles (end of series).

    Returns
    -------
    cycles : (m, 5) array (see module docstring), efc : float (equivalent full cycles so far,
    sum |dSOC| / 2), state : (1, L) array
    """
    t = np.ascontiguousarray(time_s, dtype=np.float64)
    x = np.ascontiguousarray(soc, dtype=np.float64)
    n = t.size
    if x.shape != t.shape:
        raise ValueError(f"soc has shape {x.shape}, time_s has {t.shape}")
    T = np.full(n, 298.15) if temperature_K is None else np.ascontiguousarray(temperature_K, dtype=np.float64)
    use = crate_per_h is not None
    c = np.zeros(n) if not use else np.ascontiguousarray(crate_per_h, dtype=np.float64)
    st = new_state() if state is None else state
    if st.shape != (1, _k.state_length(0)):
        raise ValueError(f"state must have shape {(1, _k.state_length(0))}, got {st.shape}")
    cyc = np.zeros((n + _k.STACK + 2, _k.N_CYC))
    m = _k.rainflow_count(t, x, T, c, use, st, bool(finalize), cyc)
    return cyc[:m, :5].copy(), float(st[0, _k.H_EFC]), st
