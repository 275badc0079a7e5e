"""The compiled station loop against the plain-Python reference, on small random stations."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from batterylab.kernels import station as K

from naive_swap import Pack, run

DAY = 86400.0


@st.composite
def stations(draw):
    S = draw(st.integers(1, 5))
    C = draw(st.integers(1, S))
    bays = draw(st.integers(1, 2))
    dt = draw(st.sampled_from([60.0, 300.0, 900.0]))
    block = draw(st.sampled_from([1, 2, 4]))
    n_steps = block * draw(st.integers(1, int(2 * DAY / dt / block)))
    fl = st.floats
    p = {
        "P": draw(fl(5e3, 80e3)), "eff": draw(fl(0.8, 1.0)), "grid_limit": draw(fl(20e3, 400e3)),
        "swap_time": draw(st.sampled_from([0.0, 120.0, 400.0])),
        "wait_limit": draw(st.sampled_from([0.0, 300.0, 1800.0])),
        "soc_full": draw(fl(0.8, 1.0)), "soc_min": draw(fl(0.0, 0.2)),
        "export_P": draw(fl(5e3, 50e3)), "export_eff": draw(fl(0.8, 1.0)),
        "export_floor": draw(fl(0.3, 0.7)), "export_price_min": draw(fl(0.0, 1.2)),
        "cheap_price": draw(fl(0.0, 1.0)), "ready_horizon": draw(fl(0.0, 3 * 3600.0)),
        "valley_horizon": draw(st.sampled_from([3600.0, 6 * 3600.0, DAY])),
        "mean_trip": draw(fl(0.0, 60e3)), "valley_update": draw(st.sampled_from([60.0, 900.0, 3600.0])),
        "handout": draw(st.integers(0, 2)), "charging": draw(st.integers(0, 2)),
        "v2g": draw(st.booleans()), "chargers": C,
    }
    E = np.array(draw(st.lists(fl(20e3, 100e3), min_size=S, max_size=S)))
    soh = np.array(draw(st.lists(fl(0.6, 1.0), min_size=S, max_size=S)))
    cycles = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.5]), min_size=S, max_size=S)))
    soc0 = np.array(draw(st.lists(fl(0.0, 1.0), min_size=S, max_size=S))) * p["soc_full"]
    full = np.array(draw(st.lists(st.booleans(), min_size=S, max_size=S)))
    soc0[full] = p["soc_full"]
    avail = np.where(full, -1.0, np.inf)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    rate = rng.uniform(0, draw(fl(0.5, 20.0)), 24)
    tariff = rng.choice([0.3, 0.6, 1.1], 24)
    base = rng.uniform(0, 10e3, 24)
    n_arr = rng.poisson(rate.mean() * n_steps * dt / 3600.0)
    arr_t = np.sort(rng.uniform(0, n_steps * dt, n_arr))
    trip = rng.uniform(0, 1, n_arr) * E.mean()
    return p, dt, n_steps, block, tariff, base, rate, arr_t, trip, E, soh, cycles, soc0, avail, bays


@settings(max_examples=40)
@given(stations())
def test_kernel_matches_naive_reference(case):
    p, dt, n_steps, block, tariff, base, rate, arr_t, trip, E, soh, cycles, soc0, avail, n_bays = case
    S = E.size
    # compiled
    par = np.zeros(K.N_PAR)
    par[K.P_CHARGER_W], par[K.P_EFF], par[K.P_GRID_LIMIT_W] = p["P"], p["eff"], p["grid_limit"]
    par[K.P_SWAP_TIME_S], par[K.P_WAIT_LIMIT_S] = p["swap_time"], p["wait_limit"]
    par[K.P_SOC_FULL], par[K.P_SOC_MIN] = p["soc_full"], p["soc_min"]
    par[K.P_EXPORT_W], par[K.P_EXPORT_EFF] = p["export_P"], p["export_eff"]
    par[K.P_EXPORT_SOC_FLOOR], par[K.P_EXPORT_PRICE_MIN] = p["export_floor"], p["export_price_min"]
    par[K.P_TOU_CHEAP_PRICE], par[K.P_READY_HORIZON_S] = p["cheap_price"], p["ready_horizon"]
    par[K.P_VALLEY_HORIZON_S], par[K.P_MEAN_TRIP_WH] = p["valley_horizon"], p["mean_trip"]
    par[K.P_VALLEY_UPDATE_S] = p["valley_update"]
    codes = np.array([p["handout"], p["charging"], int(p["v2g"]), p["chargers"]], dtype=np.int64)
    energy = E * soh
    k_soc, k_avail, k_place = soc0.copy(), avail.copy(), np.full(S, -np.inf)
    k_cycles = cycles.copy()
    bays = np.full(n_bays, -np.inf)
    ist = np.zeros(K.N_IST, dtype=np.int64)
    fst = np.array([0.0, -np.inf])
    nb = n_steps // block
    o = {k: np.zeros(n_steps) for k in ("imp", "exp", "ready", "queue")}
    b = {k: np.zeros((nb, S)) for k in ("soc", "soc_min", "power", "abs", "swaps")}
    n = arr_t.size
    cw, cp, cso, csb = np.full(n, -2.0), np.full(n, -1, dtype=np.int64), np.zeros(n), np.zeros(n)
    tot = [np.zeros(S) for _ in range(4)]
    K.station_chunk(0.0, dt, n_steps, par, codes, tariff, base, rate, arr_t, trip, energy, soh.copy(),
                    k_cycles, k_soc, k_avail, k_place, bays, ist, fst, block,
                    o["imp"], o["exp"], o["ready"], o["queue"],
                    b["soc"], b["soc_min"], b["power"], b["abs"], b["swaps"],
                    cw, cp, cso, csb, *tot)
    # naive
    packs = [Pack(energy[j], soh[j], cycles[j], soc0[j], avail[j], -np.inf) for j in range(S)]
    out, cust, head, nxt = run(p, 0.0, dt, n_steps, block, tariff, base, rate, list(arr_t), list(trip),
                               packs, [-np.inf] * n_bays, 0, 0, 0.0, -np.inf)
    # integer decisions must agree exactly; energies to rounding (sums in another order)
    assert (ist[0], ist[1]) == (head, nxt)
    np.testing.assert_array_equal(o["ready"], out["ready"])
    np.testing.assert_array_equal(o["queue"], out["queue"])
    np.testing.assert_array_equal(b["swaps"], np.array(out["swaps"]).reshape(nb, S))
    for i in range(n):
        if i in cust:
            w, j, so, sb = cust[i]
            assert cp[i] == j
            np.testing.assert_allclose([cw[i], cso[i], csb[i]], [w, so, sb], rtol=1e-9, atol=1e-6)
        else:
            assert cw[i] == -2.0
    tol = dict(rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(o["imp"], out["import_W"], **tol)
    np.testing.assert_allclose(o["exp"], out["export_W"], **tol)
    np.testing.assert_allclose(b["soc"], np.array(out["soc"]).reshape(nb, S), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b["soc_min"], np.array(out["soc_min"]).reshape(nb, S), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b["power"], np.array(out["power"]).reshape(nb, S), **tol)
    np.testing.assert_allclose(b["abs"], np.array(out["abs_power"]).reshape(nb, S), **tol)
    np.testing.assert_allclose(k_soc, [pk.soc for pk in packs], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(k_cycles, [pk.cycles for pk in packs], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tot[0], [pk.charged for pk in packs], **tol)
    np.testing.assert_allclose(tot[1], [pk.driven for pk in packs], **tol)
    np.testing.assert_allclose(tot[2], [pk.exported for pk in packs], **tol)
    np.testing.assert_array_equal(tot[3], [pk.swaps for pk in packs])
