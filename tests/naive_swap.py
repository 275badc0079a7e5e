"""Slow, plain-Python reference of the swap-station loop (kernels/station.py::station_chunk).

Written from the model description, one rule per block, with Python lists and small helper
functions; no Numba. Used by tests/test_swap_naive.py on small random stations.
"""

from __future__ import annotations

import math

INF = math.inf
FULL_TOL = 1e-12


def hour_of(t):
    return int((t % 86400.0) // 3600.0) % 24


def hourly_segments(t, horizon):
    """[(hour, duration_h)] covering [t, t + horizon)."""
    out = []
    left = horizon
    while left > 0.0:
        seg = 3600.0 - (t % 3600.0)
        if seg > left or seg <= 0.0:
            seg = left
        out.append((hour_of(t), seg / 3600.0))
        t += seg
        left -= seg
    return out


def expected_arrivals(rate, t, horizon):
    return sum(rate[h] * d for h, d in hourly_segments(t, horizon))


def valley_level(base, t, horizon, energy_Wh, cap_W):
    if energy_Wh <= 0.0:
        return 0.0
    segs = hourly_segments(t, horizon)
    lo, hi = 0.0, max(base[h] for h, _ in segs) + cap_W
    for _ in range(200):  # bisection to the last bit
        mid = 0.5 * (lo + hi)
        e = sum(max(mid - base[h], 0.0) * d for h, d in segs)
        if e < energy_Wh:
            lo = mid
        else:
            hi = mid
    return hi


class Pack:
    def __init__(self, energy, soh, cycles, soc, avail, place):
        self.energy, self.soh, self.cycles = energy, soh, cycles
        self.soc, self.avail, self.place = soc, avail, place
        self.charged = self.driven = self.exported = self.swaps = 0.0


def run(p, t0, dt, n_steps, block, tariff, base, rate, arr_t, arr_trip, packs, bays, head, nxt,
        level, next_update):
    """Run the station; ``p`` is a dict of the settings (names as in the kernel's P_*/C_*)."""
    S = len(packs)
    nb = n_steps // block
    w = 3600.0 / (dt * block)
    out = dict(import_W=[0.0] * n_steps, export_W=[0.0] * n_steps, ready=[0] * n_steps,
               queue=[0] * n_steps, soc=[[0.0] * S for _ in range(nb)],
               soc_min=[[0.0] * S for _ in range(nb)], power=[[0.0] * S for _ in range(nb)],
               abs_power=[[0.0] * S for _ in range(nb)], swaps=[[0.0] * S for _ in range(nb)])
    cust = {}

    def charge(pk, j, power, start, te, b):
        dur = te - start
        if dur <= 0.0 or power <= 0.0:
            return 0.0
        need = (p["soc_full"] - pk.soc) * pk.energy
        if need <= 0.0:
            return 0.0
        e_max = power * p["eff"] * dur / 3600.0
        if e_max >= need:
            e = need
            pk.soc = p["soc_full"]
            pk.avail = start + need / (power * p["eff"]) * 3600.0
        else:
            e = e_max
            pk.soc += e / pk.energy
            if pk.soc >= p["soc_full"] - FULL_TOL:
                pk.soc = p["soc_full"]
                pk.avail = te
        out["power"][b][j] += e * w
        out["abs_power"][b][j] += e * w
        pk.charged += e
        return e / p["eff"]

    def handout_key(j):
        pk = packs[j]
        if p["handout"] == 0:
            return (pk.soc, -j)
        if p["handout"] == 1:
            return (-pk.cycles, pk.soc, -j)
        return (pk.soh, pk.soc, -j)

    for k in range(n_steps):
        t = t0 + k * dt
        te = t + dt
        h = hour_of(t)
        b = k // block
        if k % block == 0:
            for j, pk in enumerate(packs):
                out["power"][b][j] = out["abs_power"][b][j] = out["swaps"][b][j] = 0.0
                out["soc_min"][b][j] = pk.soc
        chosen = set()
        queue0 = nxt - head
        ready = [j for j, pk in enumerate(packs) if pk.avail <= t]
        cands = [j for j, pk in enumerate(packs) if not pk.avail <= t
                 and pk.soc < p["soc_full"] - FULL_TOL and pk.place < te]
        export_window = p["v2g"] and tariff[h] >= p["export_price_min"]
        need = 0
        if p["charging"] != 0 or export_window:
            need = int(math.ceil(expected_arrivals(rate, t, p["ready_horizon"]) - 1e-9)) + queue0
        deficit = max(need - len(ready), 0)
        budget = max(p["grid_limit"] - base[h], 0.0)
        allowed, cap = p["chargers"], budget
        if export_window or (p["charging"] == 1 and tariff[h] > p["cheap_price"]):
            allowed = deficit
        elif p["charging"] == 2:
            if t >= next_update:
                e_need = sum((p["soc_full"] - pk.soc) * pk.energy / p["eff"] for pk in packs
                             if pk.soc < p["soc_full"])
                e_need += expected_arrivals(rate, t, p["valley_horizon"]) * p["mean_trip"] / p["eff"]
                level = valley_level(base, t, p["valley_horizon"], e_need, budget)
                next_update = t + p["valley_update"]
            cap = min(cap, max(level - base[h], 0.0, deficit * p["P"]))
        allowed = min(allowed, p["chargers"])

        imp = exp = 0.0
        used = 0
        # charge the waiting packs, highest SOC first
        order = sorted(cands, key=lambda j: (-packs[j].soc, j))
        for j in order:
            if used >= allowed or cap <= 0.0:
                break
            power = min(p["P"], cap)
            cap -= power
            used += 1
            chosen.add(j)
            imp += charge(packs[j], j, power, max(t, packs[j].place), te, b)
        # export
        if export_window and p["export_P"] > 0.0:
            surplus = len(ready) - need
            exp_cap = p["grid_limit"]
            while surplus > 0 and used < p["chargers"] and exp_cap > 0.0:
                opts = [j for j in range(S) if j not in chosen and packs[j].avail <= t
                        and packs[j].soc > p["export_floor"]]
                if not opts:
                    break
                j = max(opts, key=lambda i: (packs[i].soc, -i))
                pk = packs[j]
                chosen.add(j)
                power = min(p["export_P"], exp_cap)
                exp_cap -= power
                used += 1
                surplus -= 1
                e_out = min(power / p["export_eff"] * dt / 3600.0, (pk.soc - p["export_floor"]) * pk.energy)
                pk.soc -= e_out / pk.energy
                pk.avail = INF
                out["power"][b][j] -= e_out * w
                out["abs_power"][b][j] += e_out * w
                out["soc_min"][b][j] = min(out["soc_min"][b][j], pk.soc)
                pk.exported += e_out
                pk.cycles += e_out / pk.energy
                exp += e_out * p["export_eff"]
        # customers
        while nxt < len(arr_t) and arr_t[nxt] < te:
            nxt += 1
        new_ok = used < allowed
        while head < nxt:
            ta = arr_t[head]
            bay = min(range(len(bays)), key=lambda i: (bays[i], i))
            t_pack = min(pk.avail for pk in packs)
            ts = max(ta, bays[bay], t_pack)
            if ts > ta + p["wait_limit"]:
                if ta + p["wait_limit"] < te:
                    cust[head] = (-1.0, -1, 0.0, 0.0)
                    head += 1
                    continue
                break
            if ts >= te:
                break
            j = max([i for i in range(S) if packs[i].avail <= ts], key=handout_key)
            pk = packs[j]
            back = min(max(pk.soc - arr_trip[head] / pk.energy, p["soc_min"]), pk.soc)
            cust[head] = (ts - ta, j, pk.soc, back)
            pk.driven += (pk.soc - back) * pk.energy
            pk.cycles += pk.soc - back
            pk.swaps += 1.0
            out["swaps"][b][j] += 1.0
            out["soc_min"][b][j] = min(out["soc_min"][b][j], back)
            pk.soc = back
            pk.avail = INF
            pk.place = ts + p["swap_time"]
            bays[bay] = ts + p["swap_time"]
            head += 1
            if new_ok and used < p["chargers"] and cap > 0.0 and pk.place < te \
                    and pk.soc < p["soc_full"] - FULL_TOL:
                chosen.add(j)
                power = min(p["P"], cap)
                cap -= power
                used += 1
                if used >= allowed:
                    new_ok = False
                imp += charge(pk, j, power, pk.place, te, b)
        out["import_W"][k] = imp * 3600.0 / dt
        out["export_W"][k] = exp * 3600.0 / dt
        out["ready"][k] = sum(1 for pk in packs if pk.avail <= te)
        out["queue"][k] = nxt - head
        if (k + 1) % block == 0:
            for j, pk in enumerate(packs):
                out["soc"][b][j] = pk.soc
    return out, cust, head, nxt
