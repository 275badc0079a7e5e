"""Hypothesis strategies shared by the ageing and rainflow tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@st.composite
def soc_profiles(draw, min_size=2, max_size=25, min_dt=60.0, max_dt=20000.0,
                 levels=(0.1, 0.3, 0.5, 0.9)):
    """(time_s, soc, temperature_K): random step lengths in [min_dt, max_dt] [s], SOC either
    anywhere in [0, 1] or from a few ``levels`` (plateaus, equal extremes), temperatures from
    -30 to 60 C."""
    n = draw(st.integers(min_size, max_size))
    soc = draw(st.one_of(
        arrays(np.float64, n, elements=st.floats(0, 1, width=64)),
        arrays(np.float64, n, elements=st.sampled_from(levels)),
    ))
    dt = draw(arrays(np.float64, n, elements=st.floats(min_dt, max_dt, width=64)))
    T = draw(arrays(np.float64, n, elements=st.floats(243.15, 333.15, width=64)))
    return np.cumsum(dt), soc, T
