"""Compiled inner loop of the battery-swap station simulator.

One call advances one station over ``n_steps`` time steps of ``dt_s`` seconds, mutating the
station state (per-pack SOC, availability time, counters, queue pointers) in place and writing
per-step and per-customer outputs. Everything is float64/int64 arrays; policies are integer codes
(the names are validated in :mod:`batterylab.swap`). The kernel draws no random numbers: arrival
times and trip energies are drawn beforehand in Python and passed in, so a run is deterministic.

Model (documented in full in :mod:`batterylab.swap.station`):

- The station holds ``S`` packs, ``C`` chargers of power ``P`` [W] (grid side) and efficiency
  ``eta`` (energy into the pack = grid energy x eta), constant-power charging up to ``soc_full``.
  A pack is *ready* once it is full; ``avail_s[j]`` is the exact time [s] it became ready
  (``inf`` while not ready). Charging start and end times are exact within a step.
- Customers arrive at exact times ``arr_time_s`` (sorted) and queue first-in first-out; a customer
  is served at ``max(arrival, earliest free bay, earliest ready pack)`` if that is within
  ``wait_limit_s`` of the arrival, else leaves (lost, ``cust_wait_s = -1``).
- Pack identities rotate by exchange: the pack handed out is driven (``trip_Wh`` energy, SOC falls
  by ``trip_Wh / E_j``, floored at ``soc_min``) and returns to the slot, ``swap_time_s`` later.
- Charging policy codes: 0 immediate, 1 time-of-use, 2 valley-filling (peak-capped with a
  readiness override). Hand-out codes: 0 highest SOC, 1 least cycled (wear levelling), 2 highest
  SOH. Optional export to the grid in the hours whose tariff is at least ``export_price_min``.
"""

from __future__ import annotations

import numpy as np

from .jit import helper, kernel, prange

# indices into the float parameter vector ``par``
P_CHARGER_W = 0
P_EFF = 1
P_GRID_LIMIT_W = 2
P_SWAP_TIME_S = 3
P_WAIT_LIMIT_S = 4
P_SOC_FULL = 5
P_SOC_MIN = 6
P_EXPORT_W = 7
P_EXPORT_EFF = 8
P_EXPORT_SOC_FLOOR = 9
P_EXPORT_PRICE_MIN = 10
P_TOU_CHEAP_PRICE = 11
P_READY_HORIZON_S = 12
P_VALLEY_HORIZON_S = 13
P_MEAN_TRIP_WH = 14
P_VALLEY_UPDATE_S = 15
N_PAR = 16

# indices into the integer code vector ``codes``
C_HANDOUT = 0
C_CHARGING = 1
C_V2G = 2
C_CHARGERS = 3
N_CODES = 4

# indices into the integer state ``ist``: queue head, next arrival not yet queued
I_HEAD = 0
I_NEXT = 1
N_IST = 2

# indices into the float state ``fst``: valley level [W], time of next level update [s]
F_LEVEL_W = 0
F_NEXT_UPDATE_S = 1
N_FST = 2

HANDOUT_HIGHEST_SOC = 0
HANDOUT_WEAR_LEVELLING = 1
HANDOUT_SOH_AWARE = 2
CHARGING_IMMEDIATE = 0
CHARGING_TOU = 1
CHARGING_VALLEY = 2

FULL_TOL = 1e-12


@helper
def _hour_of(t_s):
    return int((t_s % 86400.0) // 3600.0) % 24


@helper
def _cum_arrivals(rate_h, cum_h, t_s):
    """Expected arrivals in [0, t) from the hourly rate profile [1/h]; ``cum_h[h]`` is the
    expected count from 00:00 to hour h of a day (``cum_h[24]`` a whole day)."""
    days = np.floor(t_s / 86400.0)
    r = t_s - days * 86400.0
    h = int(r // 3600.0)
    if h > 23:
        h = 23
    return days * cum_h[24] + cum_h[h] + rate_h[h] * (r - h * 3600.0) / 3600.0


@helper
def _expected_arrivals(rate_h, cum_h, t_s, horizon_s):
    """Expected number of arrivals in [t, t + horizon) [-]."""
    if horizon_s <= 0.0:
        return 0.0
    e = _cum_arrivals(rate_h, cum_h, t_s + horizon_s) - _cum_arrivals(rate_h, cum_h, t_s)
    return e if e > 0.0 else 0.0


@helper
def _valley_level(base_h, t_s, horizon_s, energy_Wh, cap_W, seg_base, seg_h):
    """Water level L [W] with sum over the horizon of max(0, L - base) dt = energy [Wh].

    ``seg_base``/``seg_h`` are work arrays (>= horizon in hours + 2) for the hourly segments.
    The level is capped at the highest base load plus ``cap_W``.
    """
    if energy_Wh <= 0.0:
        return 0.0
    n = 0
    t = t_s
    left = horizon_s
    top = 0.0
    while left > 0.0 and n < seg_h.size:
        h = _hour_of(t)
        seg = 3600.0 - (t % 3600.0)
        if seg > left or seg <= 0.0:
            seg = left
        seg_base[n] = base_h[h]
        seg_h[n] = seg / 3600.0
        if base_h[h] > top:
            top = base_h[h]
        n += 1
        t += seg
        left -= seg
    # exact water filling: sort the segments by base load (insertion sort, n <= horizon h + 2)
    for i in range(1, n):
        bi = seg_base[i]
        di = seg_h[i]
        j = i - 1
        while j >= 0 and seg_base[j] > bi:
            seg_base[j + 1] = seg_base[j]
            seg_h[j + 1] = seg_h[j]
            j -= 1
        seg_base[j + 1] = bi
        seg_h[j + 1] = di
    D = 0.0
    BD = 0.0
    level = top + cap_W
    for k in range(n):
        D += seg_h[k]
        BD += seg_base[k] * seg_h[k]
        L = (energy_Wh + BD) / D
        if k == n - 1 or L <= seg_base[k + 1]:
            level = L
            break
    if level > top + cap_W:
        level = top + cap_W
    return level


@helper
def _pick_handout(code, t_s, soc, avail_s, cycles, soh):
    """Index of the ready pack (avail <= t) to hand out by the policy, or -1."""
    best = -1
    for j in range(soc.size):
        if not (avail_s[j] <= t_s):
            continue
        if best < 0:
            best = j
            continue
        if code == 0:
            if soc[j] > soc[best]:
                best = j
        elif code == 1:
            if cycles[j] < cycles[best] or (cycles[j] == cycles[best] and soc[j] > soc[best]):
                best = j
        else:
            if soh[j] > soh[best] or (soh[j] == soh[best] and soc[j] > soc[best]):
                best = j
    return best


@helper
def _charge(j, p_W, start_s, te_s, dt_s, eff, soc_full, soc, avail_s, energy_Wh, blk_power_W,
            blk_abs_power_W, b, w, pack_charged_Wh):
    """Charge pack j at grid power p from start to te; return grid energy drawn [Wh]."""
    dur = te_s - start_s
    if dur <= 0.0 or p_W <= 0.0:
        return 0.0
    need = (soc_full - soc[j]) * energy_Wh[j]
    if need <= 0.0:
        return 0.0
    e_max = p_W * eff * dur / 3600.0
    if e_max >= need:
        e = need
        soc[j] = soc_full
        avail_s[j] = start_s + need / (p_W * eff) * 3600.0
    else:
        e = e_max
        soc[j] = soc[j] + e / energy_Wh[j]
        if soc[j] >= soc_full - FULL_TOL:
            soc[j] = soc_full
            avail_s[j] = te_s
    blk_power_W[b, j] += e * w
    blk_abs_power_W[b, j] += e * w
    pack_charged_Wh[j] += e
    return e / eff


@kernel
def station_chunk(t0_s, dt_s, n_steps, par, codes, tariff_h, base_h, rate_h,
                  arr_time_s, arr_trip_Wh,
                  energy_Wh, soh, cycles, soc, avail_s, place_s, bay_free_s, ist, fst,
                  block, out_import_W, out_export_W, out_ready, out_queue,
                  blk_soc, blk_soc_min, blk_power_W, blk_abs_power_W, blk_swaps,
                  cust_wait_s, cust_pack, cust_soc_out, cust_soc_back,
                  pack_charged_Wh, pack_driven_Wh, pack_exported_Wh, pack_swaps):
    """Advance one station by ``n_steps`` steps from ``t0_s``; see the module docstring.

    Parameters (all mutated in place where they are state or outputs)
    ----------
    t0_s, dt_s : start time and step [s]; n_steps : number of steps.
    par : float64[N_PAR] (P_* indices); codes : int64[N_CODES] (C_* indices).
    tariff_h, base_h, rate_h : hourly price [currency/kWh], site base load [W], arrival rate [1/h].
    arr_time_s, arr_trip_Wh : every customer's arrival time [s] (sorted) and trip energy [Wh].
    energy_Wh, soh, cycles : per-pack usable energy [Wh], state of health, equivalent cycles.
    soc, avail_s, place_s : per-pack SOC, time it became ready [s] (inf if not), time it was
        (or will be) put back in its slot [s].
    bay_free_s : per-bay time the bay becomes free [s]. ist : int64[N_IST]; fst : float64[N_FST].
    out_* [n_steps] : charger import [W], export [W], ready packs and queue length at step end.
    block : steps per history block (``n_steps`` must be a multiple of it).
    blk_* [n_steps // block, S] : per-pack history by block: SOC at the block's end, lowest SOC
        in the block (at step ends and just after a swap), mean power into the pack [W] (charge
        positive, export negative), mean absolute power [W] and the number of swaps.
    cust_* [n_customers] : wait [s] (-1 lost), pack handed out, SOC out, SOC back.
    pack_* [S] : energy charged, driven, exported [Wh] and number of swaps (accumulated).
    """
    S = soc.size
    n_arr = arr_time_s.size
    P = par[P_CHARGER_W]
    eff = par[P_EFF]
    grid_limit = par[P_GRID_LIMIT_W]
    swap_time = par[P_SWAP_TIME_S]
    wait_limit = par[P_WAIT_LIMIT_S]
    soc_full = par[P_SOC_FULL]
    soc_min = par[P_SOC_MIN]
    exp_P = par[P_EXPORT_W]
    exp_eff = par[P_EXPORT_EFF]
    exp_floor = par[P_EXPORT_SOC_FLOOR]
    exp_price = par[P_EXPORT_PRICE_MIN]
    cheap_price = par[P_TOU_CHEAP_PRICE]
    h_ready = par[P_READY_HORIZON_S]
    h_valley = par[P_VALLEY_HORIZON_S]
    mean_trip = par[P_MEAN_TRIP_WH]
    valley_update = par[P_VALLEY_UPDATE_S]
    handout = codes[C_HANDOUT]
    charging = codes[C_CHARGING]
    v2g = codes[C_V2G]
    n_chargers = codes[C_CHARGERS]
    chosen = np.zeros(S, dtype=np.bool_)
    w = 3600.0 / (dt_s * block)  # Wh in one step -> mean W over the block
    n_seg = int(h_valley / 3600.0) + 2
    cum_h = np.zeros(25)
    for h in range(24):
        cum_h[h + 1] = cum_h[h] + rate_h[h]
    seg_base = np.zeros(n_seg)
    seg_h = np.zeros(n_seg)
    n_bays = bay_free_s.size

    for k in range(n_steps):
        t = t0_s + k * dt_s
        te = t + dt_s
        h = _hour_of(t)
        b = k // block
        if k % block == 0:
            for j in range(S):
                blk_power_W[b, j] = 0.0
                blk_abs_power_W[b, j] = 0.0
                blk_swaps[b, j] = 0.0
                blk_soc_min[b, j] = soc[j]
        for j in range(S):
            chosen[j] = False
        head = ist[I_HEAD]
        nxt = ist[I_NEXT]
        queue0 = nxt - head
        n_ready = 0
        n_cand = 0
        for j in range(S):
            if avail_s[j] <= t:
                n_ready += 1
            elif soc[j] < soc_full - FULL_TOL and place_s[j] < te:
                n_cand += 1

        export_window = v2g != 0 and tariff_h[h] >= exp_price
        need = 0
        if charging != CHARGING_IMMEDIATE or export_window:
            need = int(np.ceil(_expected_arrivals(rate_h, cum_h, t, h_ready) - 1e-9)) + queue0
        deficit = need - n_ready
        if deficit < 0:
            deficit = 0

        budget = grid_limit - base_h[h]
        if budget < 0.0:
            budget = 0.0
        allowed = n_chargers
        cap = budget
        if export_window or (charging == CHARGING_TOU and tariff_h[h] > cheap_price):
            allowed = deficit
        elif charging == CHARGING_VALLEY:
            if t >= fst[F_NEXT_UPDATE_S]:
                e_need = 0.0
                for j in range(S):
                    if soc[j] < soc_full:
                        e_need += (soc_full - soc[j]) * energy_Wh[j] / eff
                e_need += _expected_arrivals(rate_h, cum_h, t, h_valley) * mean_trip / eff
                fst[F_LEVEL_W] = _valley_level(base_h, t, h_valley, e_need, budget, seg_base, seg_h)
                fst[F_NEXT_UPDATE_S] = t + valley_update
            lvl = fst[F_LEVEL_W] - base_h[h]
            if lvl < 0.0:
                lvl = 0.0
            if deficit * P > lvl:
                lvl = deficit * P
            if lvl < cap:
                cap = lvl
        if allowed > n_chargers:
            allowed = n_chargers

        import_Wh = 0.0
        export_Wh = 0.0
        n_used = 0
        # -- charge the packs present, highest SOC first (ties: lowest index)
        if n_cand > 0 and n_cand <= allowed and n_cand * P <= cap:
            # every candidate gets a charger at full power: no ordering needed
            for j in range(S):
                if avail_s[j] <= te or soc[j] >= soc_full - FULL_TOL or not (place_s[j] < te):
                    continue
                chosen[j] = True
                cap -= P
                n_used += 1
                start = t if place_s[j] < t else place_s[j]
                import_Wh += _charge(j, P, start, te, dt_s, eff, soc_full, soc, avail_s,
                                     energy_Wh, blk_power_W, blk_abs_power_W, b, w, pack_charged_Wh)
        elif n_cand > 0:
            while n_used < allowed and cap > 0.0:
                best = np.int64(-1)  # not a literal: see jit.py
                for j in range(S):
                    if chosen[j] or avail_s[j] <= te or soc[j] >= soc_full - FULL_TOL:
                        continue
                    if not (place_s[j] < te):
                        continue
                    if best < 0 or soc[j] > soc[best]:
                        best = j
                if best < 0:
                    break
                chosen[best] = True
                p = P if P < cap else cap
                cap -= p
                n_used += 1
                start = t if place_s[best] < t else place_s[best]
                import_Wh += _charge(best, p, start, te, dt_s, eff, soc_full, soc, avail_s,
                                     energy_Wh, blk_power_W, blk_abs_power_W, b, w, pack_charged_Wh)

        # -- export from ready packs beyond the reserve
        if export_window and exp_P > 0.0:
            surplus = n_ready - need
            exp_cap = grid_limit
            while surplus > 0 and n_used < n_chargers and exp_cap > 0.0:
                best = np.int64(-1)  # not a literal: see jit.py
                for j in range(S):
                    if chosen[j] or not (avail_s[j] <= t) or soc[j] <= exp_floor:
                        continue
                    if best < 0 or soc[j] > soc[best]:
                        best = j
                if best < 0:
                    break
                chosen[best] = True
                p = exp_P if exp_P < exp_cap else exp_cap
                exp_cap -= p
                n_used += 1
                surplus -= 1
                e_out = p / exp_eff * dt_s / 3600.0
                room = (soc[best] - exp_floor) * energy_Wh[best]
                if e_out > room:
                    e_out = room
                soc[best] -= e_out / energy_Wh[best]
                avail_s[best] = np.inf
                blk_power_W[b, best] -= e_out * w
                blk_abs_power_W[b, best] += e_out * w
                if soc[best] < blk_soc_min[b, best]:
                    blk_soc_min[b, best] = soc[best]
                pack_exported_Wh[best] += e_out
                cycles[best] += e_out / energy_Wh[best]
                export_Wh += e_out * exp_eff

        # -- customers: queue the arrivals of this step, serve first-in first-out
        while nxt < n_arr and arr_time_s[nxt] < te:
            nxt += 1
        new_ok = n_used < allowed
        while head < nxt:
            ta = arr_time_s[head]
            deadline = ta + wait_limit
            bay = 0
            for bb in range(1, n_bays):
                if bay_free_s[bb] < bay_free_s[bay]:
                    bay = bb
            t_pack = np.inf
            for j in range(S):
                if avail_s[j] < t_pack:
                    t_pack = avail_s[j]
            ts = ta
            if bay_free_s[bay] > ts:
                ts = bay_free_s[bay]
            if t_pack > ts:
                ts = t_pack
            if ts > deadline:
                if deadline < te:
                    cust_wait_s[head] = -1.0
                    head += 1
                    continue
                break
            if ts >= te:
                break
            j = _pick_handout(handout, ts, soc, avail_s, cycles, soh)
            cust_wait_s[head] = ts - ta
            cust_pack[head] = j
            cust_soc_out[head] = soc[j]
            back = soc[j] - arr_trip_Wh[head] / energy_Wh[j]
            if back < soc_min:
                back = soc_min
            if back > soc[j]:
                back = soc[j]
            cust_soc_back[head] = back
            pack_driven_Wh[j] += (soc[j] - back) * energy_Wh[j]
            cycles[j] += soc[j] - back
            pack_swaps[j] += 1.0
            blk_swaps[b, j] += 1.0
            if back < blk_soc_min[b, j]:
                blk_soc_min[b, j] = back
            soc[j] = back
            avail_s[j] = np.inf
            place_s[j] = ts + swap_time
            bay_free_s[bay] = ts + swap_time
            head += 1
            # the returned pack takes a free charger at once if the step's plan allows
            if new_ok and n_used < n_chargers and cap > 0.0 and place_s[j] < te \
                    and soc[j] < soc_full - FULL_TOL:
                chosen[j] = True
                p = P if P < cap else cap
                cap -= p
                n_used += 1
                if n_used >= allowed:
                    new_ok = False
                import_Wh += _charge(j, p, place_s[j], te, dt_s, eff, soc_full, soc, avail_s,
                                     energy_Wh, blk_power_W, blk_abs_power_W, b, w, pack_charged_Wh)

        ist[I_HEAD] = head
        ist[I_NEXT] = nxt
        out_import_W[k] = import_Wh * 3600.0 / dt_s
        out_export_W[k] = export_Wh * 3600.0 / dt_s
        r = 0
        last = (k + 1) % block == 0
        for j in range(S):
            if avail_s[j] <= te:
                r += 1
            if last:
                blk_soc[b, j] = soc[j]
        out_ready[k] = r
        out_queue[k] = nxt - head


@kernel(parallel=True)
def station_sweep(t0_s, dt_s, n_days, par, codes, tariff_h, base_h, rate_h,
                  arr_time_s, arr_trip_Wh, arr_offset, energy_Wh, soh, cycles, soc, avail_s,
                  place_s, bay_free_s, ist, fst, day_import_Wh, day_export_Wh, day_peak_W,
                  cust_wait_s, cust_pack, cust_soc_out, cust_soc_back,
                  pack_charged_Wh, pack_driven_Wh, pack_exported_Wh, pack_swaps):
    """Many independent stations in parallel, one station per ``prange`` iteration.

    Row ``i`` of every 2-D array belongs to station ``i``; stations share the shape (packs,
    bays) but not the parameters or arrivals. Customers of station ``i`` are
    ``arr_*[arr_offset[i]:arr_offset[i + 1]]``. The station is run day by day (``dt_s`` must
    divide 86400 s); only daily charger import and export [Wh] and the daily peak of the
    charger import [W] are kept, with the per-customer and per-pack totals. Each station writes
    only its own rows, so results are bit-identical for any number of threads.
    """
    n_st = par.shape[0]
    S = soc.shape[1]
    steps_per_day = int(round(86400.0 / dt_s))
    for i in prange(n_st):
        a0 = arr_offset[i]
        a1 = arr_offset[i + 1]
        b1 = np.zeros((1, S))
        b2 = np.zeros((1, S))
        b3 = np.zeros((1, S))
        b4 = np.zeros((1, S))
        b5 = np.zeros((1, S))
        imp = np.zeros(steps_per_day)
        exp = np.zeros(steps_per_day)
        ready = np.zeros(steps_per_day)
        queue = np.zeros(steps_per_day)
        for d in range(n_days):
            station_chunk(t0_s + d * 86400.0, dt_s, steps_per_day, par[i], codes[i],
                          tariff_h[i], base_h[i], rate_h[i],
                          arr_time_s[a0:a1], arr_trip_Wh[a0:a1], energy_Wh[i], soh[i],
                          cycles[i], soc[i], avail_s[i], place_s[i], bay_free_s[i], ist[i],
                          fst[i], steps_per_day, imp, exp, ready, queue, b1, b2, b3, b4, b5,
                          cust_wait_s[a0:a1], cust_pack[a0:a1], cust_soc_out[a0:a1],
                          cust_soc_back[a0:a1], pack_charged_Wh[i], pack_driven_Wh[i],
                          pack_exported_Wh[i], pack_swaps[i])
            e_in = 0.0
            e_out = 0.0
            peak = 0.0
            for k in range(steps_per_day):
                e_in += imp[k] * dt_s / 3600.0
                e_out += exp[k] * dt_s / 3600.0
                if imp[k] > peak:
                    peak = imp[k]
            day_import_Wh[i, d] = e_in
            day_export_Wh[i, d] = e_out
            day_peak_W[i, d] = peak
