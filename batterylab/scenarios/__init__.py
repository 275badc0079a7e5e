"""Grid-interaction scenarios: V2G (arbitrage and frequency regulation), smart delayed charging, fleet charge sharing, megawatt charging and backup, dynamic wireless charging.

Each ``simulate_*`` compares a baseline with the scenario on shipped example inputs by default;
the ``read_*`` functions read the CSV inputs.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "simulate_v2g": ".v2g",
    "simulate_v2g_regulation": ".regulation",
    "simulate_smart_charging": ".smart_charging",
    "simulate_fleet_sharing": ".fleet_sharing",
    "simulate_mw_backup": ".mw_backup",
    "simulate_wireless": ".wireless",
    "read_itinerary": ".common",
    "read_prices": ".common",
    "read_fleet": ".fleet_sharing",
    "read_household_load": ".mw_backup",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
