"""Station description: the fields of a station JSON file, validated with clear errors.

A station file is one JSON object; every key carries its unit. Required keys: ``packs``,
``pack_energy_Wh``, ``chargers``, ``charger_power_W``, ``charger_efficiency``, ``grid_limit_W``,
``arrival_rate_per_h`` (24 hourly values) and ``arrival_soc``. The optional keys and their
defaults are in :data:`DEFAULTS`; docs/guide/swap.md documents them all.
Unknown keys are refused (a misspelt key would otherwise silently fall back to its default).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, OptionError, ParameterError, unknown_option

HANDOUT_POLICIES = {"highest_soc": 0, "wear_levelling": 1, "soh_aware": 2}
CHARGING_POLICIES = {"immediate": 0, "tou": 1, "valley": 2}
SOC_DISTRIBUTIONS = ("beta", "uniform", "fixed")

REQUIRED = ("packs", "pack_energy_Wh", "chargers", "charger_power_W", "charger_efficiency",
            "grid_limit_W", "arrival_rate_per_h", "arrival_soc")

DEFAULTS = {
    "name": "station",
    "description": "",
    "pack_voltage_V": 350.0,
    "aging_model": None,
    "soc_full": 0.95,
    "soc_min": 0.05,
    "vehicle_c_rate": 0.3,
    "retire_soh": 0.7,
    "bays": 1,
    "swap_time_s": 180.0,
    "wait_limit_s": 900.0,
    "time_step_s": 60.0,
    "tariff_per_kWh": [0.1] * 24,
    "currency": "EUR",
    "base_load_W": [0.0] * 24,
    "ambient_temperature_K": 298.15,
    "charge_temperature_rise_K": 5.0,
    "handout_policy": "highest_soc",
    "charging_policy": "immediate",
    "tou_cheap_price_per_kWh": None,
    "readiness_horizon_s": None,
    "valley_horizon_s": 86400.0,
    "valley_update_s": 900.0,
    "v2g": None,
    "sources": None,
}

V2G_DEFAULTS = {"enabled": False, "power_W": None, "efficiency": None, "soc_floor": 0.5,
                "min_price_per_kWh": None}


@dataclass
class Station:
    """A battery-swap station (see the module docstring for the file format).

    Units are in the names: energies [Wh], powers [W], times [s], temperatures [K], prices
    [currency/kWh], arrival rates [1/h] (24 values, hour 0 = 00:00-01:00).
    """

    packs: int
    pack_energy_Wh: float
    chargers: int
    charger_power_W: float
    charger_efficiency: float
    grid_limit_W: float
    arrival_rate_per_h: list
    arrival_soc: dict
    name: str = "station"
    description: str = ""
    pack_voltage_V: float = 350.0
    aging_model: str | None = None
    soc_full: float = 0.95
    soc_min: float = 0.05
    vehicle_c_rate: float = 0.3
    retire_soh: float = 0.7
    bays: int = 1
    swap_time_s: float = 180.0
    wait_limit_s: float = 900.0
    time_step_s: float = 60.0
    tariff_per_kWh: list = field(default_factory=lambda: [0.1] * 24)
    currency: str = "EUR"
    base_load_W: list = field(default_factory=lambda: [0.0] * 24)
    ambient_temperature_K: object = 298.15
    charge_temperature_rise_K: float = 5.0
    handout_policy: str = "highest_soc"
    charging_policy: str = "immediate"
    tou_cheap_price_per_kWh: float | None = None
    readiness_horizon_s: float | None = None
    valley_horizon_s: float = 86400.0
    valley_update_s: float = 900.0
    v2g: dict | None = None
    sources: object = None

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, data: dict, *, where: str = "station") -> "Station":
        """Build and validate a station from a dict (the parsed JSON file)."""
        if not isinstance(data, dict):
            raise ParameterError(f"{where}: expected a JSON object, got {type(data).__name__}")
        unknown = set(data) - set(REQUIRED) - set(DEFAULTS)
        if unknown:
            key = sorted(unknown)[0]
            raise ParameterError(
                f"{where}: unknown field {key!r}; valid fields are: "
                f"{', '.join(sorted(set(REQUIRED) | set(DEFAULTS)))}")
        missing = [k for k in REQUIRED if k not in data]
        if missing:
            raise ParameterError(f"{where}: missing required field {missing[0]!r} "
                                 f"(required: {', '.join(REQUIRED)})")
        kwargs = {**DEFAULTS, **data}
        station = cls(**kwargs)
        station.validate(where)
        return station

    @classmethod
    def from_json(cls, path) -> "Station":
        """Read and validate a station JSON file."""
        from ..checks import text_file

        path = text_file("station", path, what="station JSON")
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{path}: not valid JSON: {exc}") from None
        return cls.from_dict(data, where=str(path))

    def to_dict(self) -> dict:
        return asdict(self)

    def replace(self, **changes) -> "Station":
        """A validated copy with some fields changed."""
        return Station.from_dict({**self.to_dict(), **changes}, where=self.name)

    # ---------------------------------------------------------------- validation
    def validate(self, where: str = "station") -> None:
        """Check every field; raise ParameterError/OptionError naming the field."""

        def num(key, low=None, high=None, *, strict_low=False, integer=False):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParameterError(f"{where}: field {key!r} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ParameterError(f"{where}: field {key!r} must be finite, got {value!r}")
            if integer and int(value) != value:
                raise ParameterError(f"{where}: field {key!r} must be a whole number, got {value!r}")
            if low is not None and (value <= low if strict_low else value < low):
                rel = ">" if strict_low else ">="
                raise ParameterError(f"{where}: field {key!r} must be {rel} {low}, got {value!r}")
            if high is not None and value > high:
                raise ParameterError(f"{where}: field {key!r} must be <= {high}, got {value!r}")
            setattr(self, key, int(value) if integer else float(value))

        def hourly(key, low=0.0):
            value = getattr(self, key)
            try:
                arr = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise ParameterError(f"{where}: field {key!r} must be 24 numbers, got {value!r}") from None
            if arr.ndim == 0:
                arr = np.full(24, float(arr))
            if arr.shape != (24,):
                raise ParameterError(f"{where}: field {key!r} must have 24 hourly values "
                                     f"(hour 0 = 00:00-01:00), got {arr.size}")
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"{where}: field {key!r} must be finite, got {value!r}")
            if low is not None and np.any(arr < low):
                i = int(np.flatnonzero(arr < low)[0])
                raise ParameterError(f"{where}: field {key!r} must be >= {low}, got {arr[i]} "
                                     f"at hour {i}")
            setattr(self, key, [float(x) for x in arr])

        num("packs", 1, integer=True)
        num("pack_energy_Wh", 0.0, strict_low=True)
        num("pack_voltage_V", 0.0, strict_low=True)
        num("chargers", 1, integer=True)
        if self.chargers > self.packs:
            raise ParameterError(f"{where}: field 'chargers' ({self.chargers}) must not exceed "
                                 f"'packs' ({self.packs}): a charger needs a slot with a pack")
        num("charger_power_W", 0.0, strict_low=True)
        num("charger_efficiency", 0.0, 1.0, strict_low=True)
        num("grid_limit_W", 0.0, strict_low=True)
        num("soc_full", 0.0, 1.0, strict_low=True)
        num("soc_min", 0.0, 1.0)
        if self.soc_min >= self.soc_full:
            raise ParameterError(f"{where}: field 'soc_min' ({self.soc_min}) must be below "
                                 f"'soc_full' ({self.soc_full})")
        num("vehicle_c_rate", 0.0, 10.0, strict_low=True)
        num("retire_soh", 0.0, 1.0)
        num("bays", 1, integer=True)
        num("swap_time_s", 0.0)
        num("wait_limit_s", 0.0)
        num("time_step_s", 0.0, 3600.0, strict_low=True)
        if abs(86400.0 / self.time_step_s - round(86400.0 / self.time_step_s)) > 1e-9:
            raise ParameterError(f"{where}: field 'time_step_s' must divide one day (86400 s), "
                                 f"got {self.time_step_s}")
        hourly("arrival_rate_per_h")
        hourly("tariff_per_kWh", low=None)
        hourly("base_load_W")
        if max(self.base_load_W) >= self.grid_limit_W:
            raise ParameterError(f"{where}: field 'base_load_W' reaches the grid limit "
                                 f"({max(self.base_load_W)} >= grid_limit_W {self.grid_limit_W}): "
                                 f"no power would be left for charging")
        amb = np.atleast_1d(np.asarray(self.ambient_temperature_K, dtype=float))
        if amb.size not in (1, 24) or not np.all(np.isfinite(amb)):
            raise ParameterError(f"{where}: field 'ambient_temperature_K' must be one number or 24 "
                                 f"hourly values [K], got {self.ambient_temperature_K!r}")
        if np.any(amb < 173.15) or np.any(amb > 373.15):
            raise ParameterError(f"{where}: field 'ambient_temperature_K' must be in kelvin "
                                 f"(173.15 to 373.15 K), got {self.ambient_temperature_K!r}; "
                                 f"Celsius? add 273.15")
        num("charge_temperature_rise_K", 0.0, 60.0)
        if self.readiness_horizon_s is not None:
            num("readiness_horizon_s", 0.0)
        num("valley_horizon_s", 3600.0)
        num("valley_update_s", 0.0, strict_low=True)
        if self.handout_policy not in HANDOUT_POLICIES:
            raise _field_option(where, "handout_policy", "hand-out policy", self.handout_policy,
                                HANDOUT_POLICIES)
        if self.charging_policy not in CHARGING_POLICIES:
            raise _field_option(where, "charging_policy", "charging policy", self.charging_policy,
                                CHARGING_POLICIES)
        if self.tou_cheap_price_per_kWh is not None:
            num("tou_cheap_price_per_kWh")
        self._validate_soc(where)
        self._validate_v2g(where)

    def _validate_soc(self, where):
        d = self.arrival_soc
        if not isinstance(d, dict) or "distribution" not in d:
            raise ParameterError(f"{where}: field 'arrival_soc' must be an object with a "
                                 f"'distribution' ({', '.join(SOC_DISTRIBUTIONS)}), got {d!r}")
        kind = d["distribution"]
        if kind not in SOC_DISTRIBUTIONS:
            raise _field_option(where, "arrival_soc.distribution", "SOC distribution", kind,
                                SOC_DISTRIBUTIONS)
        keys = {"beta": ("mean", "std"), "uniform": ("low", "high"), "fixed": ("value",)}[kind]
        extra = set(d) - set(keys) - {"distribution"}
        if extra:
            raise ParameterError(f"{where}: field 'arrival_soc.{sorted(extra)[0]}' is not used by "
                                 f"the {kind!r} distribution (fields: {', '.join(keys)})")
        for key in keys:
            if key not in d:
                raise ParameterError(f"{where}: missing field 'arrival_soc.{key}' for the "
                                     f"{kind!r} distribution")
            v = d[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or not 0.0 <= v <= 1.0:
                raise ParameterError(f"{where}: field 'arrival_soc.{key}' must be a number in "
                                     f"[0, 1], got {v!r}")
        if kind == "beta":
            m, s = d["mean"], d["std"]
            if not 0.0 < m < 1.0 or not 0.0 < s * s < m * (1.0 - m):
                raise ParameterError(f"{where}: field 'arrival_soc.std' ({s}) must satisfy "
                                     f"0 < std^2 < mean (1 - mean) for a beta distribution "
                                     f"with mean {m}")
        if kind == "uniform" and d["low"] > d["high"]:
            raise ParameterError(f"{where}: field 'arrival_soc.low' ({d['low']}) must not exceed "
                                 f"'arrival_soc.high' ({d['high']})")
        top = {"beta": 1.0, "uniform": d.get("high"), "fixed": d.get("value")}[kind]
        if kind != "beta" and top > self.soc_full:
            raise ParameterError(f"{where}: field 'arrival_soc' reaches SOC {top}, above "
                                 f"'soc_full' ({self.soc_full})")

    def _validate_v2g(self, where):
        if self.v2g is None:
            self.v2g = dict(V2G_DEFAULTS)
            return
        if not isinstance(self.v2g, dict):
            raise ParameterError(f"{where}: field 'v2g' must be an object, got {self.v2g!r}")
        extra = set(self.v2g) - set(V2G_DEFAULTS)
        if extra:
            raise ParameterError(f"{where}: unknown field 'v2g.{sorted(extra)[0]}'; valid: "
                                 f"{', '.join(sorted(V2G_DEFAULTS))}")
        v = {**V2G_DEFAULTS, **self.v2g}
        if not isinstance(v["enabled"], bool):
            raise ParameterError(f"{where}: field 'v2g.enabled' must be true or false, got "
                                 f"{v['enabled']!r}")
        if v["power_W"] is None:
            v["power_W"] = self.charger_power_W
        if v["efficiency"] is None:
            v["efficiency"] = self.charger_efficiency
        if v["min_price_per_kWh"] is None:
            v["min_price_per_kWh"] = max(self.tariff_per_kWh)
        for key, low, high in (("power_W", 0.0, None), ("efficiency", 0.0, 1.0),
                               ("soc_floor", 0.0, 1.0), ("min_price_per_kWh", None, None)):
            x = v[key]
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise ParameterError(f"{where}: field 'v2g.{key}' must be a number, got {x!r}")
            if (low is not None and x <= low and key != "soc_floor") or (low is not None and x < low) \
                    or (high is not None and x > high):
                raise ParameterError(f"{where}: field 'v2g.{key}' out of range, got {x!r}")
        if v["soc_floor"] >= self.soc_full:
            raise ParameterError(f"{where}: field 'v2g.soc_floor' ({v['soc_floor']}) must be below "
                                 f"'soc_full' ({self.soc_full})")
        self.v2g = v

    # ---------------------------------------------------------------- derived
    @property
    def ambient_hourly_K(self) -> np.ndarray:
        amb = np.atleast_1d(np.asarray(self.ambient_temperature_K, dtype=float))
        return np.full(24, amb[0]) if amb.size == 1 else amb

    @property
    def cheap_price(self) -> float:
        if self.tou_cheap_price_per_kWh is not None:
            return float(self.tou_cheap_price_per_kWh)
        return float(np.mean(self.tariff_per_kWh))

    def mean_arrival_soc(self) -> float:
        d = self.arrival_soc
        return {"beta": lambda: d["mean"], "uniform": lambda: 0.5 * (d["low"] + d["high"]),
                "fixed": lambda: d["value"]}[d["distribution"]]()

    @property
    def readiness_horizon(self) -> float:
        """Look-ahead [s] for the packs to keep ready: the file's value, else one hour plus the
        time to recharge an average returned pack at full charger power."""
        if self.readiness_horizon_s is not None:
            return float(self.readiness_horizon_s)
        deficit = max(self.soc_full - self.mean_arrival_soc(), 0.0) * self.pack_energy_Wh
        return 3600.0 + deficit / (self.charger_power_W * self.charger_efficiency) * 3600.0

    def swaps_per_day(self) -> float:
        """Expected arrivals per day from the hourly profile [1/day]."""
        return float(np.sum(self.arrival_rate_per_h))


def _field_option(where, key, kind, value, valid) -> OptionError:
    err = unknown_option(kind, value, valid)
    return OptionError(f"{where}: field {key!r}: {err}")


def load_station(station) -> Station:
    """A :class:`Station` from a Station, a dict, a JSON path, or a shipped station's name."""
    if isinstance(station, Station):
        station.validate(station.name)
        return station
    if isinstance(station, dict):
        return Station.from_dict(station)
    if not isinstance(station, (str, Path)):
        raise InputError(f"station must be a Station, a dict, a JSON path or a shipped station's name, got "
                         f"{type(station).__name__} {station!r:.60}")
    path = Path(station)
    if not path.exists() and path.suffix == "":
        shipped = shipped_stations()
        if str(station) in shipped:
            return Station.from_json(shipped[str(station)])
        raise unknown_option("station", station, shipped)
    return Station.from_json(path)


def shipped_stations() -> dict[str, Path]:
    """The example stations shipped in ``parameter_sets/stations``, by file stem."""
    from .. import parameter_sets

    return {p.stem: p for p in parameter_sets.listing("stations")}
