"""Duty profiles of the BLAST-Lite ``simulate_battery_life`` reference (``validation/data/blast_lite_sbl/``).

Numpy only: ``benchmarks/blast_lite_sbl_reference.py`` also loads this file by path inside
BLAST-Lite's own virtual environment (numpy < 2), so both tools see exactly the same arrays.

Every profile is a function without arguments returning ``(time_s, soc, temperature_C)``, three
float64 arrays of equal length, ``time_s`` starting at 0. Samples are every 10 minutes, except the
two ``decade_*`` profiles (10 years, hourly). A year is 365 days and day 0 is a Monday (days
``d % 7 in (5, 6)`` are the weekend). SOC is built as straight lines between knots given per day
(``np.interp``), so the C-rate of a segment is its SOC change divided by its duration [1/h].
Randomness comes only from ``np.random.default_rng(seed)`` with the fixed seeds below.

Climates (:func:`climate_C`): ``mean + seasonal`` with the coldest day on day 20 of each year,
``+ daily`` with the coldest hour at 04:00; both are cosines with the stated amplitudes:

=============  ======  ========  =====  =============
climate        mean C  seasonal  daily  range C
=============  ======  ========  =====  =============
mild           12      10        5      -3 .. 27
continental    12.5    17.5      5      -10 .. 35
hot            22      8         7      7 .. 37
desert         27      10        9      8 .. 46
warm           25      8         6      11 .. 39
=============  ======  ========  =====  =============

What each profile exercises in BLAST-Lite's ``simulate_battery_life`` is in :data:`DESCRIPTIONS`.
:data:`MATRIX` lists the (model, profile) pairs whose BLAST-Lite outputs are committed.
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.0
DT_10MIN = 600.0
DT_HOURLY = 3600.0

CLIMATES = {
    "mild": (12.0, 10.0, 5.0),
    "continental": (12.5, 17.5, 5.0),
    "hot": (22.0, 8.0, 7.0),
    "desert": (27.0, 10.0, 9.0),
    "warm": (25.0, 8.0, 6.0),
}

# Fixed seeds (one per randomised profile).
SEED_CONTINENTAL_COMMUTE = 11
SEED_FREQUENCY_REGULATION = 7
SEED_RANDOM_COMMUTE_HOT = 23
SEED_DECADE_COMMUTE = 31


# ------------------------------------------------------------------------------------- helpers


def time_grid(days: float, dt: float = DT_10MIN) -> np.ndarray:
    """Samples every ``dt`` seconds from 0 to ``days`` (inclusive; ``days * 86400 / dt`` rounded)."""
    n = int(round(days * SECONDS_PER_DAY / dt))
    return np.arange(n + 1, dtype=np.float64) * dt


def climate_C(time_s: np.ndarray, mean: float, seasonal: float, daily: float) -> np.ndarray:
    """Seasonal plus daily cosine [C]: coldest on day 20 of the year and at 04:00."""
    day = time_s / SECONDS_PER_DAY
    hour = np.mod(time_s, SECONDS_PER_DAY) / 3600.0
    return (mean - seasonal * np.cos(2.0 * np.pi * (day - 20.0) / DAYS_PER_YEAR)
            - daily * np.cos(2.0 * np.pi * (hour - 4.0) / 24.0))


def soc_from_daily_knots(time_s: np.ndarray, day_knots) -> np.ndarray:
    """SOC by linear interpolation of per-day knots.

    ``day_knots(d)`` returns the knots of day ``d`` as a list of ``(hour, soc)`` with strictly
    increasing hours in [0, 24); consecutive days are joined by a straight line from the last knot
    of day ``d`` to the first knot of day ``d + 1``.
    """
    n_days = int(np.ceil(time_s[-1] / SECONDS_PER_DAY)) + 1
    kt, ks = [], []
    for d in range(n_days):
        for h, s in day_knots(d):
            kt.append(d * SECONDS_PER_DAY + h * 3600.0)
            ks.append(s)
    kt, ks = np.asarray(kt, dtype=np.float64), np.asarray(ks, dtype=np.float64)
    if np.any(np.diff(kt) <= 0):
        raise ValueError("knot times must increase strictly")
    return np.interp(time_s, kt, ks)


def _weekend(d: int) -> bool:
    return d % 7 in (5, 6)


def _commute_knots(d, full=0.90, trip=0.12, charge_c=0.06, weekend_trip=0.30):
    """Weekday: two 40-minute drives (0.18 C), parked, slow home charge from 19:00 at ``charge_c``.

    Saturday: one 90-minute drive (0.2 C) and the same slow charge from 18:00; Sunday parked.
    """
    if not _weekend(d):
        low = full - 2 * trip
        return [(0.0, full), (7.5, full), (7.5 + 2 / 3, full - trip), (17.5, full - trip),
                (17.5 + 2 / 3, low), (19.0, low), (19.0 + (full - low) / charge_c, full)]
    if d % 7 == 5:
        low = full - weekend_trip
        return [(0.0, full), (10.0, full), (11.5, low), (18.0, low), (18.0 + (full - low) / charge_c, full)]
    return [(0.0, full), (12.0, full)]


# ------------------------------------------------------------------------------------ profiles


def commute_home_l2():
    """3 years, mild climate: weekday commute, Saturday trip, slow (0.06 C) home charge in the evening."""
    t = time_grid(3 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, _commute_knots), climate_C(t, *CLIMATES["mild"])


def commute_dc_fast():
    """2 years, hot climate: deep weekday commute, 1.5 C DC fast charge at 18:30, no home charge."""
    def knots(d):
        if _weekend(d):
            return [(0.0, 0.80), (12.0, 0.80)]
        return [(0.0, 0.80), (7.0, 0.80), (8.0, 0.55), (17.0, 0.55), (18.0, 0.30),
                (18.5, 0.30), (18.5 + 1 / 3, 0.80)]
    t = time_grid(2 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["hot"])


def commute_v2g_evening():
    """2 years, continental climate: commute, weekday V2G discharge 18:00-21:00 (0.1 C), 0.2 C charge."""
    def knots(d):
        if _weekend(d):
            return [(0.0, 0.90), (12.0, 0.90)]
        return [(0.0, 0.90), (7.5, 0.90), (8.0, 0.83), (17.0, 0.83), (17.5, 0.75), (18.0, 0.75),
                (21.0, 0.45), (21.0 + 0.45 / 0.2, 0.90)]
    t = time_grid(2 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["continental"])


def continental_commute():
    """5 years, continental climate (-10..35 C): commute with random trip lengths (seeded)."""
    n_days = int(5 * DAYS_PER_YEAR) + 1
    rng = np.random.default_rng(SEED_CONTINENTAL_COMMUTE)
    trips = rng.uniform(0.04, 0.20, size=(n_days, 2))
    start = rng.uniform(6.5, 8.5, size=n_days)
    charge_c = rng.choice([0.1, 0.2, 0.5], size=n_days)

    def knots(d):
        full = 0.85
        low = full - trips[d].sum()
        if _weekend(d):
            low = full - 0.5 * trips[d].sum()
            return [(0.0, full), (11.0, full), (12.0, low), (20.0, low), (20.0 + (full - low) / charge_c[d], full)]
        h0 = start[d]
        return [(0.0, full), (h0, full), (h0 + 0.5, full - trips[d, 0]), (17.0, full - trips[d, 0]),
                (17.5, low), (19.0, low), (19.0 + (full - low) / charge_c[d], full)]
    t = time_grid(5 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["continental"])


def partial_days_commute():
    """401 days 17 h 20 min (not a whole number of days), mild climate: the commute of ``commute_home_l2``."""
    t = time_grid(401.0 + 17.0 / 24.0 + 20.0 / 1440.0)
    return t, soc_from_daily_knots(t, _commute_knots), climate_C(t, *CLIMATES["mild"])


def weekend_roadtrips():
    """2 years, mild climate: parked at 0.7 on weekdays; weekend drives 0.95 -> 0.15 with a 1 C fast charge."""
    def knots(d):
        wd = d % 7
        if wd == 4:   # Friday evening: charge to 0.95 at 0.1 C
            return [(0.0, 0.70), (19.0, 0.70), (21.5, 0.95)]
        if wd == 5:   # Saturday: drive 0.95 -> 0.15 (1.6 h), fast charge 0.15 -> 0.8 at 1 C, drive to 0.2
            return [(0.0, 0.95), (9.0, 0.95), (11.0, 0.15), (11.5, 0.15), (11.5 + 0.65, 0.80),
                    (14.0, 0.20), (20.0, 0.20), (23.5, 0.55)]
        if wd == 6:   # Sunday: drive back, charge to 0.7 at 0.12 C
            return [(0.0, 0.55), (10.0, 0.55), (12.0, 0.10), (18.0, 0.10), (18.0 + 0.6 / 0.12, 0.70)]
        return [(0.0, 0.70), (12.0, 0.70)]
    t = time_grid(2 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["mild"])


def storage_high_soc():
    """3 years, warm climate: parked at 0.98; every 14th day a trip to 0.85 and a 0.1 C top-up."""
    def knots(d):
        if d % 14 == 3:
            return [(0.0, 0.98), (10.0, 0.98), (10.5, 0.85), (16.0, 0.85), (17.3, 0.98)]
        return [(0.0, 0.98), (12.0, 0.98)]
    t = time_grid(3 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["warm"])


def storage_seasonal_mid_soc():
    """4 years, continental climate: SOC 0.5 drifting to 0.45 over 30 days (far below |C| = 1e-2), 0.05 C top-up."""
    def knots(d):
        k = d % 30
        s0 = 0.5 - 0.05 * k / 30.0
        if k == 29:
            return [(0.0, s0), (12.0, 0.5 - 0.05 * (k + 0.5) / 30.0), (13.0, 0.45), (14.0, 0.50)]
        return [(0.0, s0)]
    t = time_grid(4 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["continental"])


def grid_4x_daily():
    """1 year, 25 C +- 3 C daily: four 0.05 <-> 0.95 triangles a day (0.3 C), 3.6 EFC/day (EFC > 1 breakpoints)."""
    t = time_grid(DAYS_PER_YEAR)
    period = SECONDS_PER_DAY / 4
    phase = np.mod(t, period) / period
    soc = np.where(phase <= 0.5, 0.95 - 0.9 * 2 * phase, 0.05 + 0.9 * (2 * phase - 1))
    return t, soc, climate_C(t, 25.0, 0.0, 3.0)


def fast_cycling_6x():
    """1.5 years, 35 C +- 2 C: six cycles a day, 0.8 C discharge, 0.53 C charge, rests; 4.8 EFC/day."""
    def knots(d):
        k = []
        for c in range(6):
            h = 4.0 * c
            k += [(h, 0.90), (h + 1.0, 0.10), (h + 2.0, 0.10), (h + 3.5, 0.90)]
        return k
    t = time_grid(1.5 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, 35.0, 0.0, 2.0)


def low_soc_window():
    """2 years, 40 C: daily 0.40 -> 0.03 (0.09 C) and back (0.12 C); SOC rescale by 1/q clips at 0."""
    def knots(d):
        return [(0.0, 0.40), (8.0, 0.40), (12.0, 0.03), (15.0, 0.03), (18.0, 0.39), (23.5, 0.40)]
    t = time_grid(2 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, 40.0, 0.0, 2.0)


def high_soc_window():
    """2 years, 35 C: daily 0.62 -> 0.995 (0.125 C), held, back to 0.62; SOC rescale clips at 1."""
    def knots(d):
        return [(0.0, 0.62), (2.0, 0.62), (5.0, 0.995), (16.0, 0.995), (19.0, 0.62)]
    t = time_grid(2 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, 35.0, 0.0, 2.0)


def peak_shaving_2x():
    """3 years, 30 C mean (seasonal 5, daily 5): two 0.9 -> 0.2 cycles a day with rests (0.23 C)."""
    def knots(d):
        return [(0.0, 0.55), (4.0, 0.90), (7.0, 0.90), (10.0, 0.20), (11.0, 0.20), (14.0, 0.90),
                (17.0, 0.90), (20.0, 0.20), (21.0, 0.20)]
    t = time_grid(3 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, 30.0, 5.0, 5.0)


def frequency_regulation():
    """2 years, warm climate: mean-reverting random SOC around 0.5 (seeded), many sub-1e-2-C steps."""
    t = time_grid(2 * DAYS_PER_YEAR)
    rng = np.random.default_rng(SEED_FREQUENCY_REGULATION)
    steps = rng.normal(0.0, 0.004, size=len(t))
    # a third of the steps are tiny (|C| < 1e-2 at 10 minutes: |dSOC| < 1/600), BLAST zeroes them
    tiny = rng.random(len(t)) < 1.0 / 3.0
    steps[tiny] *= 0.2
    soc = np.empty_like(t)
    soc[0] = 0.5
    for i in range(1, len(t)):
        soc[i] = soc[i - 1] + steps[i] - 0.01 * (soc[i - 1] - 0.5)
    return t, np.clip(soc, 0.3, 0.7), climate_C(t, *CLIMATES["warm"])


def random_commute_hot():
    """3 years, desert climate (8..46 C): random trips, random charge start and rate (seeded)."""
    n_days = int(3 * DAYS_PER_YEAR) + 1
    rng = np.random.default_rng(SEED_RANDOM_COMMUTE_HOT)
    depth = rng.uniform(0.05, 0.45, size=n_days)
    drive_h = rng.uniform(0.3, 1.5, size=n_days)
    t0 = rng.uniform(6.0, 15.0, size=n_days)
    charge_start = rng.uniform(17.0, 19.0, size=n_days)
    charge_c = rng.choice([0.1, 0.2, 1.0], size=n_days, p=[0.5, 0.35, 0.15])

    def knots(d):
        full = 0.90
        low = full - depth[d]
        return [(0.0, full), (t0[d], full), (t0[d] + drive_h[d], low), (charge_start[d], low),
                (charge_start[d] + depth[d] / charge_c[d], full)]
    t = time_grid(3 * DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["desert"])


def burn_in_then_commute():
    """1 year, mild climate: 60 days of four 0.1 <-> 0.9 cycles a day (3.2 EFC/day), then ``commute_home_l2``."""
    def knots(d):
        if d < 60:
            return [(6.0 * c + h, s) for c in range(4) for h, s in ((0.0, 0.9), (3.0, 0.1))]
        return _commute_knots(d)
    t = time_grid(DAYS_PER_YEAR)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["mild"])


def decade_commute_hourly():
    """10 years hourly, continental climate: commute with random weekday trip depth (seeded)."""
    n_days = int(10 * DAYS_PER_YEAR) + 1
    rng = np.random.default_rng(SEED_DECADE_COMMUTE)
    depth = rng.uniform(0.1, 0.4, size=n_days)

    def knots(d):
        if _weekend(d):
            return [(0.0, 0.90), (12.0, 0.90)]
        return [(0.0, 0.90), (8.0, 0.90), (9.0, 0.90 - depth[d] / 2), (17.0, 0.90 - depth[d] / 2),
                (18.0, 0.90 - depth[d]), (21.0, 0.90 - depth[d]), (21.0 + depth[d] / 0.15, 0.90)]
    t = time_grid(10 * DAYS_PER_YEAR, DT_HOURLY)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["continental"])


def decade_storage_v2g_hourly():
    """10 years hourly, mild climate: parked at 0.6; V2G 0.6 -> 0.3 (0.1 C) on Tuesdays and Thursdays."""
    def knots(d):
        if d % 7 in (1, 3):
            return [(0.0, 0.60), (18.0, 0.60), (21.0, 0.30), (22.0, 0.30), (23.0, 0.40)]
        if d % 7 in (2, 4):
            return [(0.0, 0.42), (2.0, 0.60)]
        return [(0.0, 0.60)]
    t = time_grid(10 * DAYS_PER_YEAR, DT_HOURLY)
    return t, soc_from_daily_knots(t, knots), climate_C(t, *CLIMATES["mild"])


PROFILES = {
    f.__name__: f
    for f in (
        commute_home_l2, commute_dc_fast, commute_v2g_evening, continental_commute,
        partial_days_commute, weekend_roadtrips, storage_high_soc, storage_seasonal_mid_soc,
        grid_4x_daily, fast_cycling_6x, low_soc_window, high_soc_window, peak_shaving_2x,
        frequency_regulation, random_commute_hot, burn_in_then_commute, decade_commute_hourly,
        decade_storage_v2g_hourly,
    )
}

#: One-line description of every profile (its docstring's first line).
DESCRIPTIONS = {name: f.__doc__.strip().splitlines()[0] for name, f in PROFILES.items()}

#: (model, profile) pairs whose BLAST-Lite ``simulate_battery_life`` outputs are committed.
#: The Sony/Murata break-in gate (> 3 EFC/day in a window) is open in ``grid_4x_daily`` and
#: ``burn_in_then_commute``; windows closed by the EFC > 1 rule occur in ``grid_4x_daily``,
#: ``fast_cycling_6x``, ``peak_shaving_2x`` and ``burn_in_then_commute``; the rescaled SOC is
#: clipped at 0 in ``low_soc_window`` and at 1 in ``high_soc_window`` once q has fallen enough.
MATRIX = tuple(
    (model, profile)
    for model, profiles in (
        ("blast_nmc111_kokam75ah", ("commute_home_l2", "partial_days_commute", "grid_4x_daily",
                                    "fast_cycling_6x", "high_soc_window", "peak_shaving_2x",
                                    "frequency_regulation", "decade_commute_hourly")),
        ("blast_lfp_250ah_prismatic", ("commute_dc_fast", "continental_commute", "weekend_roadtrips",
                                       "storage_seasonal_mid_soc", "grid_4x_daily", "low_soc_window",
                                       "random_commute_hot", "decade_storage_v2g_hourly")),
        ("blast_nca_panasonic18650b", ("commute_v2g_evening", "weekend_roadtrips", "storage_high_soc",
                                       "fast_cycling_6x", "low_soc_window", "high_soc_window",
                                       "peak_shaving_2x", "decade_commute_hourly")),
        ("blast_lfp_sonymurata3ah", ("commute_home_l2", "partial_days_commute", "grid_4x_daily",
                                     "burn_in_then_commute", "frequency_regulation", "low_soc_window",
                                     "high_soc_window", "peak_shaving_2x", "decade_storage_v2g_hourly")),
        ("blast_nmc811_lgm50", ("commute_dc_fast", "commute_v2g_evening", "weekend_roadtrips",
                                "storage_seasonal_mid_soc", "fast_cycling_6x", "low_soc_window",
                                "random_commute_hot", "burn_in_then_commute", "decade_commute_hourly")),
        ("blast_lmo_nissanleaf_2ndlife", ("continental_commute", "storage_high_soc",
                                          "storage_seasonal_mid_soc", "grid_4x_daily", "low_soc_window",
                                          "high_soc_window", "random_commute_hot",
                                          "decade_storage_v2g_hourly")),
    )
    for profile in profiles
)
