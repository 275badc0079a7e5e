"""Ageing models as data: load ``parameter_sets/aging/*.json`` and compile them to kernel arrays.

The JSON schema, the term types and the combination rules are described in
``kernels/AGING_MODELS.md``; the compiled arithmetic is in :mod:`batterylab.kernels.aging`.
Every key is validated: a typo in a model file raises :class:`~batterylab.errors.ParameterError`
listing the valid keys instead of silently changing a result.
"""

from __future__ import annotations

import functools
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import citations
from ..errors import ParameterError, unknown_option
from ..kernels import aging as K

#: Molar gas constant [J mol-1 K-1] (CODATA 2018, exact).
GAS_CONSTANT = 8.314462618
#: Seconds in the year used by ``years=`` arguments and the published calendar anchors (365 d).
SECONDS_PER_YEAR = 365.0 * 86400.0
#: Points of the uniform SOC grid the OCV and anode-potential tables are resampled onto.
TABLE_POINTS = 1001

STRESSORS = {
    "temperature_K": K.S_T,
    "soc": K.S_SOC,
    "voltage_V": K.S_V,
    "anode_potential_V": K.S_UA,
    "crate_per_h": K.S_CRATE,
    "dod": K.S_DOD,
    "soc_mean": K.S_SOC_MEAN,
    "charge_crate_per_h": K.S_CHARGE,
    "discharge_crate_per_h": K.S_DISCHARGE,
    "efc_per_day": K.S_EFC_RATE,
}
STRESSOR_UNITS = {
    "temperature_K": "K",
    "soc": "-",
    "voltage_V": "V",
    "anode_potential_V": "V",
    "crate_per_h": "1/h",
    "dod": "-",
    "soc_mean": "-",
    "charge_crate_per_h": "1/h",
    "discharge_crate_per_h": "1/h",
    "efc_per_day": "1/d",
}
#: How each model aggregates stress (``stress_definitions`` in its JSON; kernels/AGING_MODELS.md).
STRESS_DEFINITION_KEYS = {
    "aggregation", "crate_direction", "crate_rests", "window_max_time_s", "window_max_efc",
    "window_soc_rescale", "window_crate_floor_per_h", "window_update", "source", "description",
}
WINDOW_UPDATES = {"euler": 1.0, "exact": 0.0}
AGGREGATIONS = {"sample": K.AGG_SAMPLE, "window": K.AGG_WINDOW}
CRATE_DIRECTIONS = {"both": K.DIR_BOTH, "charge": K.DIR_CHARGE, "discharge": K.DIR_DISCHARGE}
CRATE_RESTS = {"exclude": 0.0, "include": 1.0}
#: BLAST-Lite 1.1.1's ``simulate_battery_life`` defaults (breakpoints_max_time_diff_s,
#: breakpoints_max_EFC_diff, is_conserve_energy_throughput, the C-rate floor of _extract_stressors).
WINDOW_DEFAULTS = {"window_max_time_s": 86400.0, "window_max_efc": 1.0, "window_soc_rescale": True,
                   "window_crate_floor_per_h": 1e-2, "window_update": "euler"}
STATE_TYPES = {"power": K.ST_POWER, "sigmoid": K.ST_SIGMOID, "exp_relax": K.ST_EXP_RELAX, "power_var": K.ST_POWER_VAR}
DRIVERS = {
    "time_s": (K.D_TIME, "s"),
    "time_hours": (K.D_TIME, "h"),
    "time_days": (K.D_TIME, "d"),
    "step_efc": (K.D_STEP_EFC, "efc"),
    "step_throughput_Ah": (K.D_STEP_EFC, "Ah"),
    "cycle_efc": (K.D_CYCLE_EFC, "efc"),
    "cycle_throughput_Ah": (K.D_CYCLE_EFC, "Ah"),
    "cycle_count": (K.D_CYCLE_COUNT, "cycles"),
}
TERM_KEYS = {
    "const": set(),
    "poly": {"stressor", "coefficients", "center"},
    "exp": {"stressor", "rate", "center"},
    "arrhenius": {"activation_energy_J_per_mol", "reference_temperature_K", "gas_constant_J_per_mol_K"},
    "arrhenius_raw": {"a_K", "b", "stressor"},
    "power": {"stressor", "exponent", "floor"},
    "exp_over_T": {"stressor", "rate_K", "offset"},
    "exp_exp": {"stressor", "outer", "inner", "power"},
    "linear_T": {"stressor", "c0", "c1", "reference_temperature_K"},
    "table": {"stressor", "x", "y"},
    "exp_power_product": {"stressor", "exponent", "rate", "other_stressor", "other_exponent", "floor", "other_floor"},
    "skewnorm": {"stressor", "skew", "width", "center"},
    "sigmoid": {"stressor", "alpha", "beta", "gamma"},
}
_TERM_CODES = {
    "const": K.T_CONST, "poly": K.T_POLY, "exp": K.T_EXP, "arrhenius": K.T_ARRHENIUS,
    "arrhenius_raw": K.T_ARRHENIUS, "power": K.T_POWER, "exp_over_T": K.T_EXP_OVER_T,
    "exp_exp": K.T_EXP_EXP, "linear_T": K.T_LINEAR_T, "table": K.T_TABLE4,
    "exp_power_product": K.T_EXP_POWPROD, "skewnorm": K.T_SKEWNORM, "sigmoid": K.T_SIGMOID,
}
MODEL_KEYS = {
    "name", "title", "chemistry", "cell", "nominal_capacity_Ah", "citation", "citations", "licence",
    "description", "conventions", "throughput_factor", "ocv_table", "anode_potential_table",
    "validity", "validity_notes", "states", "groups", "capacity_combine", "resistance_combine",
    "anchors", "bounds_notes", "untraced", "format_version", "throughput_basis", "calibration",
    "stress_definitions", "variants", "validity_hull",
}
VARIANT_KEYS = {"title", "description", "stress_definitions", "conventions", "without_states"}
STATE_KEYS = {"name", "type", "driver", "exponent", "k", "y_inf", "group", "sign", "initial", "description", "units", "driver_scale"}
EXPR_KEYS = {"sum", "lo", "hi", "power", "coef", "terms", "description"}
GROUP_KEYS = {"target", "offset", "kind", "of", "c0", "c1", "description"}


class OutOfRangeWarning(UserWarning):
    """A stressor left the range over which an ageing model was fitted (results extrapolate)."""


def _loc(where: str) -> str:
    return f" in {where}" if where else ""


def _check_keys(d: dict, valid: set, where: str) -> None:
    if not isinstance(d, dict):
        raise ParameterError(f"expected an object{_loc(where)}, got {type(d).__name__}: {d!r}")
    bad = set(d) - set(valid)
    if bad:
        raise ParameterError(
            f"unknown key(s) {sorted(bad)}{_loc(where)}; valid keys are: {', '.join(sorted(valid))}"
        )


def _num(d: dict, key: str, where: str, default=None) -> float:
    if key not in d:
        if default is None:
            raise ParameterError(f"missing key {key!r}{_loc(where)}")
        return float(default)
    try:
        v = float(d[key])
    except (TypeError, ValueError):
        raise ParameterError(f"{key!r}{_loc(where)} must be a number, got {d[key]!r}") from None
    if not math.isfinite(v):
        raise ParameterError(f"{key!r}{_loc(where)} must be finite, got {v}")
    return v


def _stressor(d: dict, where: str, default: str | None = None) -> int:
    name = d.get("stressor", default)
    if name is None:
        raise ParameterError(f"missing key 'stressor'{_loc(where)}")
    if name not in STRESSORS:
        raise unknown_option("stressor", name, STRESSORS)
    return STRESSORS[name]


def _compile_term(t: dict, where: str):
    typ = t.get("type") if isinstance(t, dict) else None
    if typ not in TERM_KEYS:
        raise unknown_option("term type", typ, TERM_KEYS)
    _check_keys(t, TERM_KEYS[typ] | {"type", "description"}, where)
    c = np.zeros(K.N_TERM_COEF)
    s = 0
    if typ == "const":
        pass
    elif typ == "poly":
        s = _stressor(t, where)
        coefs = [float(v) for v in t.get("coefficients", [])]
        if not 1 <= len(coefs) <= 4:
            raise ParameterError(f"'coefficients'{_loc(where)} must have 1 to 4 numbers, got {coefs!r}")
        c[: len(coefs)] = coefs
        c[4] = _num(t, "center", where, 0.0)
    elif typ == "exp":
        s = _stressor(t, where)
        c[0] = _num(t, "rate", where)
        c[1] = _num(t, "center", where, 0.0)
    elif typ == "arrhenius":
        s = STRESSORS["temperature_K"]
        ea = _num(t, "activation_energy_J_per_mol", where)
        tref = _num(t, "reference_temperature_K", where)
        rgas = _num(t, "gas_constant_J_per_mol_K", where, GAS_CONSTANT)
        c[0] = -ea / rgas
        c[1] = ea / (rgas * tref)
    elif typ == "arrhenius_raw":
        s = _stressor(t, where, "temperature_K")
        c[0] = _num(t, "a_K", where)
        c[1] = _num(t, "b", where, 0.0)
    elif typ == "power":
        s = _stressor(t, where)
        c[0] = _num(t, "exponent", where)
        c[1] = _num(t, "floor", where, 0.0)
    elif typ == "exp_over_T":
        s = _stressor(t, where)
        c[0] = _num(t, "rate_K", where)
        c[1] = _num(t, "offset", where, 0.0)
    elif typ == "exp_exp":
        s = _stressor(t, where)
        c[0] = _num(t, "outer", where)
        c[1] = _num(t, "inner", where)
        c[2] = _num(t, "power", where, 1.0)
    elif typ == "linear_T":
        s = _stressor(t, where)
        c[0] = _num(t, "c0", where)
        c[1] = _num(t, "c1", where)
        c[2] = _num(t, "reference_temperature_K", where)
    elif typ == "exp_power_product":
        s = _stressor(t, where)
        c[0] = _num(t, "rate", where)
        c[1] = _num(t, "exponent", where)
        c[2] = _num(t, "other_exponent", where, 0.0)
        c[3] = float(_stressor({"stressor": t.get("other_stressor", "temperature_K")}, where))
        c[4] = _num(t, "floor", where, 0.0)
        c[5] = _num(t, "other_floor", where, 0.0)
    elif typ == "skewnorm":
        s = _stressor(t, where)
        c[0] = _num(t, "skew", where)
        c[1] = _num(t, "width", where)
        c[2] = _num(t, "center", where, 0.0)
        if c[1] <= 0:
            raise ParameterError(f"'width'{_loc(where)} must be > 0, got {c[1]}")
    elif typ == "sigmoid":
        s = _stressor(t, where)
        c[0] = _num(t, "alpha", where, 1.0)
        c[1] = _num(t, "beta", where)
        c[2] = _num(t, "gamma", where, 1.0)
    elif typ == "table":
        s = _stressor(t, where)
        x = [float(v) for v in t.get("x", [])]
        y = [float(v) for v in t.get("y", [])]
        if not (1 <= len(x) <= 4 and len(x) == len(y)) or any(b < a for a, b in zip(x, x[1:])):
            raise ParameterError(f"table term{_loc(where)} needs 1 to 4 increasing x with matching y, got x={x}, y={y}")
        x += [x[-1]] * (4 - len(x))
        y += [y[-1]] * (4 - len(y))
        c[:4] = x
        c[4:] = y
    return _TERM_CODES[typ], s, c


class _Builder:
    def __init__(self):
        self.expr_i, self.expr_f, self.prod_i, self.prod_f, self.term_i, self.term_f = [], [], [], [], [], []
        self.seen = {}
        self.bases = {}

    def expr(self, e, where: str) -> int:
        """Index of expression ``e``; an expression written twice is compiled once (under
        window aggregation each distinct expression is evaluated once per sample)."""
        if isinstance(e, (int, float)) and not isinstance(e, bool):
            e = {"coef": float(e), "terms": []}
        _check_keys(e, EXPR_KEYS, where)
        key = json.dumps({k: v for k, v in e.items() if k != "description"}, sort_keys=True)
        if key in self.seen:
            return self.seen[key]
        self.seen[key] = len(self.expr_i)
        products = e.get("sum")
        if products is None:
            products = [{"coef": e.get("coef", 1.0), "terms": e.get("terms", [])}]
        elif "coef" in e or "terms" in e:
            raise ParameterError(f"use either 'sum' or 'coef'/'terms'{_loc(where)}, not both")
        start = len(self.prod_f)
        for j, p in enumerate(products):
            w = f"{where} product {j}"
            _check_keys(p, {"coef", "terms", "description"}, w)
            tstart = len(self.term_f)
            for i, t in enumerate(p.get("terms", [])):
                code, s, c = _compile_term(t, f"{w} term {i}")
                self.term_i.append((code, s))
                self.term_f.append(c)
            self.prod_i.append((tstart, len(self.term_f)))
            self.prod_f.append(_num(p, "coef", w, 1.0))
        # one product: an earlier one-product expression with the same terms is its base (under
        # window aggregation the window mean of c P is c times the mean of P: evaluated once)
        base, ratio = len(self.expr_i), 1.0
        if len(products) == 1 and self.prod_f[start] != 0.0:
            tkey = json.dumps([[list(self.term_i[i]), list(self.term_f[i])]
                               for i in range(self.prod_i[start][0], self.prod_i[start][1])], default=float)
            if tkey in self.bases:
                base = self.bases[tkey]
                ratio = self.prod_f[start] / self.prod_f[self.expr_i[base][0]]
            else:
                self.bases[tkey] = base
        self.expr_i.append((start, len(self.prod_f), base))
        self.expr_f.append((_num(e, "lo", where, 0.0), _num(e, "hi", where, K.BIG), _num(e, "power", where, 1.0), ratio))
        return len(self.expr_i) - 1


def _stress_definitions(d: dict, settings: np.ndarray, where: str) -> None:
    """Fill the kernel settings of a model's ``stress_definitions`` (defaults: batterylab's
    per-sample form, C-rate in both directions over the time current flows)."""
    _check_keys(d, STRESS_DEFINITION_KEYS, where)

    def choice(key, options, default):
        v = d.get(key, default)
        if v not in options:
            raise unknown_option(f"{key} in {where}", v, options)
        return options[v]

    settings[K.SET_AGGREGATION] = choice("aggregation", AGGREGATIONS, "sample")
    settings[K.SET_CRATE_DIRECTION] = choice("crate_direction", CRATE_DIRECTIONS, "both")
    settings[K.SET_CRATE_RESTS] = choice("crate_rests", CRATE_RESTS, "exclude")
    settings[K.SET_WIN_TIME] = _num(d, "window_max_time_s", where, WINDOW_DEFAULTS["window_max_time_s"])
    settings[K.SET_WIN_EFC] = _num(d, "window_max_efc", where, WINDOW_DEFAULTS["window_max_efc"])
    settings[K.SET_WIN_CRATE_FLOOR] = _num(d, "window_crate_floor_per_h", where,
                                           WINDOW_DEFAULTS["window_crate_floor_per_h"])
    rescale = d.get("window_soc_rescale", WINDOW_DEFAULTS["window_soc_rescale"])
    if not isinstance(rescale, bool):
        raise ParameterError(f"'window_soc_rescale' in {where} must be true or false, got {rescale!r}")
    settings[K.SET_WIN_RESCALE] = 1.0 if rescale else 0.0
    settings[K.SET_WIN_EULER] = choice("window_update", WINDOW_UPDATES, WINDOW_DEFAULTS["window_update"])
    if settings[K.SET_WIN_TIME] <= 0 or settings[K.SET_WIN_EFC] <= 0:
        raise ParameterError(f"window_max_time_s and window_max_efc in {where} must be > 0")


def _table(spec: dict, ykey: str, where: str) -> np.ndarray:
    _check_keys(spec, {"soc", ykey, "source", "description"}, where)
    soc = np.asarray(spec.get("soc", []), dtype=float)
    y = np.asarray(spec.get(ykey, []), dtype=float)
    if soc.ndim != 1 or soc.size < 2 or soc.size != y.size or np.any(np.diff(soc) <= 0):
        raise ParameterError(f"{where} needs increasing 'soc' and '{ykey}' of the same length (>= 2)")
    grid = np.linspace(0.0, 1.0, TABLE_POINTS)
    return np.interp(grid, soc, y)


@dataclass(frozen=True, eq=False)
class AgingModel:
    """A compiled ageing model: its JSON ``spec`` and the arrays the kernel reads."""

    name: str
    spec: dict
    path: Path | None
    settings: np.ndarray
    ocv: np.ndarray
    ua: np.ndarray
    state_i: np.ndarray
    state_f: np.ndarray
    expr_i: np.ndarray
    expr_f: np.ndarray
    prod_i: np.ndarray
    prod_f: np.ndarray
    term_i: np.ndarray
    term_f: np.ndarray
    group_i: np.ndarray
    group_f: np.ndarray
    state_names: tuple
    group_names: tuple
    validity: dict = field(default_factory=dict)
    #: direction ("charge", "discharge") -> (lo, hi, facet equations) of the design's hull (:func:`check_hull`)
    validity_hull: dict = field(default_factory=dict)

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    @property
    def nominal_capacity_Ah(self) -> float:
        return float(self.settings[K.SET_QNOM])

    @property
    def rescales_soc(self) -> bool:
        """Whether the model rescales the SOC swing by 1 / q itself (BLAST-Lite's window definition)."""
        return self.aggregation == "window" and bool(self.settings[K.SET_WIN_RESCALE])

    @property
    def has_resistance(self) -> bool:
        return bool(np.any(self.group_i[:, K.GI_TARGET] == 1))

    @property
    def state_length(self) -> int:
        return K.state_length(self.n_states)

    @property
    def aggregation(self) -> str:
        """How the model aggregates stress: ``"sample"`` or ``"window"`` (see ``stress_definitions``)."""
        return "window" if self.settings[K.SET_AGGREGATION] == K.AGG_WINDOW else "sample"

    def kernel_model(self, settings: np.ndarray | None = None) -> K.Model:
        """The arrays the kernel reads, as one :class:`batterylab.kernels.aging.Model`."""
        return K.new_model(self.settings if settings is None else settings, self.ocv, self.ua,
                           self.state_i, self.state_f, self.expr_i, self.expr_f, self.prod_i,
                           self.prod_f, self.term_i, self.term_f, self.group_i, self.group_f)

    def initial_state(self, n_cells: int = 1) -> np.ndarray:
        """Fresh per-cell state vectors, shape (n_cells, L)."""
        st = np.zeros((n_cells, self.state_length))
        for s in range(self.n_states):
            y0 = self.state_f[s, K.SF_INIT]
            if self.state_i[s, K.SI_TYPE] == K.ST_POWER and y0 > 0.0:
                y0 = y0 ** (1.0 / self.state_f[s, K.SF_P])
            st[:, K.HEAD + s] = y0
        return st

    def cite(self) -> None:
        for c in self.spec.get("citations", [self.spec.get("citation")]):
            if c:
                citations.register(c["key"], f"{c['text']}, doi:{c['doi']}" if c.get("doi") else c["text"])


def compile_spec(spec: dict, path: Path | None = None) -> AgingModel:
    """Compile a model specification (the parsed JSON) into an :class:`AgingModel`."""
    name = spec.get("name", path.stem if path else "model")
    where = f"ageing model {name!r}"
    _check_keys(spec, MODEL_KEYS, where)
    qnom = _num(spec, "nominal_capacity_Ah", where)
    if qnom <= 0:
        raise ParameterError(f"'nominal_capacity_Ah' in {where} must be > 0, got {qnom}")
    tfac = _num(spec, "throughput_factor", where, 1.0)
    groups = spec.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise ParameterError(f"{where} needs a non-empty 'groups' object")
    gnames = list(groups)
    group_i, group_f = [], []
    for g in gnames:
        gd = groups[g]
        w = f"{where} group {g!r}"
        _check_keys(gd, GROUP_KEYS, w)
        target = gd.get("target")
        if target not in ("capacity", "resistance"):
            raise unknown_option("group target", target, ["capacity", "resistance"])
        kind = gd.get("kind", "sum")
        if kind not in ("sum", "inverse_of"):
            raise unknown_option("group kind", kind, ["sum", "inverse_of"])
        ref = -1
        if kind == "inverse_of":
            of = gd.get("of")
            if of not in groups or groups[of].get("kind", "sum") != "sum":
                raise ParameterError(f"{w}: 'of' must name a summing group, got {of!r}")
            ref = gnames.index(of)
        group_i.append((K.G_CAPACITY if target == "capacity" else K.G_RESISTANCE,
                        K.G_SUM if kind == "sum" else K.G_INVERSE, ref))
        group_f.append((_num(gd, "offset", w, 1.0), _num(gd, "c0", w, 0.0), _num(gd, "c1", w, 0.0)))
    b = _Builder()
    state_i, state_f, names = [], [], []
    uses = set()
    for idx, sd in enumerate(spec.get("states", [])):
        sname = sd.get("name", f"state_{idx}")
        w = f"{where} state {sname!r}"
        _check_keys(sd, STATE_KEYS, w)
        stype = sd.get("type", "power")
        if stype not in STATE_TYPES:
            raise unknown_option("state type", stype, STATE_TYPES)
        drv = sd.get("driver")
        if drv not in DRIVERS:
            raise unknown_option("driver", drv, DRIVERS)
        dcode, dunit = DRIVERS[drv]
        scale = {"s": 1.0, "h": 1.0 / 3600.0, "d": 1.0 / 86400.0, "efc": 1.0, "cycles": 1.0, "Ah": qnom * tfac}[dunit]
        scale *= _num(sd, "driver_scale", w, 1.0)
        g = sd.get("group")
        if g not in groups:
            raise unknown_option("group", g, groups)
        gi = gnames.index(g)
        if group_i[gi][1] != 0:
            raise ParameterError(f"{w}: group {g!r} is derived ('inverse_of'); states must go to a summing group")
        sign = _num(sd, "sign", w, -1.0 if group_i[gi][0] == 0 else 1.0)
        ek = b.expr(sd.get("k"), f"{w} k") if "k" in sd else None
        if ek is None:
            raise ParameterError(f"missing key 'k' in {w}")
        eaux = -1
        if stype in ("sigmoid", "exp_relax"):
            if "y_inf" not in sd:
                raise ParameterError(f"missing key 'y_inf' in {w} ({stype} states need it)")
            eaux = b.expr(sd["y_inf"], f"{w} y_inf")
        ep = -1
        p = 1.0
        if stype == "power_var" or (stype == "sigmoid" and isinstance(sd.get("exponent"), dict)):
            ep = b.expr(sd.get("exponent", 1.0), f"{w} exponent")
        elif stype != "exp_relax":
            p = _num(sd, "exponent", w)
            if not 0.0 < p <= 20.0:
                raise ParameterError(f"'exponent' in {w} must be in (0, 20], got {p}")
        init = _num(sd, "initial", w, 0.0)
        # a loss of capacity (sign <= 0 in a capacity group; 0: a diagnostic state) is a fraction:
        # its stored value (u = y^(1/p) for a power state)
        # is bounded by 1, which bounds y by 1 whatever p
        is_loss = group_i[gi][0] == 0 and sign <= 0
        state_i.append((STATE_TYPES[stype], dcode, gi, ek, eaux, ep))
        state_f.append((p, scale, sign, init, 1.0 if is_loss else K.BIG))
        names.append(sname)
    if not names:
        raise ParameterError(f"{where} has no 'states'")
    for (t, s), c in zip(b.term_i, b.term_f):
        uses.add(s)
        if t == K.T_EXP_POWPROD:
            uses.add(int(c[3]))
    ccomb = spec.get("capacity_combine", "sum")
    if ccomb not in ("sum", "min"):
        raise unknown_option("capacity_combine", ccomb, ["sum", "min"])
    rcomb = spec.get("resistance_combine", "sum")
    if rcomb not in ("sum", "max"):
        raise unknown_option("resistance_combine", rcomb, ["sum", "max"])
    ocv = np.zeros(2)
    ua = np.zeros(2)
    if K.S_V in uses:
        if "ocv_table" not in spec:
            raise ParameterError(f"{where} uses voltage_V but has no 'ocv_table'")
        ocv = _table(spec["ocv_table"], "voltage_V", f"{where} ocv_table")
    if K.S_UA in uses:
        if "anode_potential_table" not in spec:
            raise ParameterError(f"{where} uses anode_potential_V but has no 'anode_potential_table'")
        ua = _table(spec["anode_potential_table"], "potential_V", f"{where} anode_potential_table")
    settings = np.zeros(K.N_SETTINGS)
    settings[K.SET_QNOM] = qnom
    settings[K.SET_CAP_MIN] = 1.0 if ccomb == "min" else 0.0
    settings[K.SET_RES_MAX] = 1.0 if rcomb == "max" else 0.0
    settings[K.SET_NEED_V] = 1.0 if K.S_V in uses else 0.0
    settings[K.SET_NEED_UA] = 1.0 if K.S_UA in uses else 0.0
    settings[K.SET_NEED_SIGNED] = 1.0 if (K.S_CHARGE in uses or K.S_DISCHARGE in uses) else 0.0
    basis = spec.get("throughput_basis", "present_capacity")
    if basis not in ("present_capacity", "nominal_capacity"):
        raise unknown_option("throughput_basis", basis, ["present_capacity", "nominal_capacity"])
    settings[K.SET_EFC_NOMINAL] = 1.0 if basis == "nominal_capacity" else 0.0
    _stress_definitions(spec.get("stress_definitions", {}), settings, f"{where} stress_definitions")
    if settings[K.SET_AGGREGATION] == K.AGG_WINDOW and any(d == K.D_CYCLE_COUNT for _, d, *_ in state_i):
        raise ParameterError(f"{where}: the 'cycle_count' driver is not defined under window aggregation")
    if settings[K.SET_AGGREGATION] == K.AGG_WINDOW and settings[K.SET_WIN_EULER] != 0.0:
        # BLAST-Lite's forward-Euler window update is a step in y: its power states are kept as y
        # (the kernel's ST_POWER_VAR storage) rather than as y^(1/p), which the exact updates use
        state_i = [(K.ST_POWER_VAR if si[0] == K.ST_POWER else si[0], *si[1:]) for si in state_i]
    validity = spec.get("validity", {})
    _check_keys(validity, set(STRESSORS), f"{where} validity")

    def arr(x, shape1, dtype):
        a = np.asarray(x, dtype=dtype)
        return a.reshape(-1, shape1) if shape1 else a.reshape(-1)

    return AgingModel(
        name=name, spec=spec, path=path, settings=settings, ocv=ocv, ua=ua,
        state_i=arr(state_i, 6, np.int64), state_f=arr(state_f, 5, np.float64),
        expr_i=arr(b.expr_i, 3, np.int64), expr_f=arr(b.expr_f, 4, np.float64),
        prod_i=arr(b.prod_i, 2, np.int64), prod_f=arr(b.prod_f, 0, np.float64),
        term_i=arr(b.term_i or np.zeros((0, 2)), 2, np.int64),
        term_f=arr(b.term_f or np.zeros((0, K.N_TERM_COEF)), K.N_TERM_COEF, np.float64),
        group_i=arr(group_i, 3, np.int64), group_f=arr(group_f, 3, np.float64),
        state_names=tuple(names), group_names=tuple(gnames),
        validity={k: (float(v[0]), float(v[1])) for k, v in validity.items()},
        validity_hull=_hulls(spec.get("validity_hull", {}), f"{where} validity_hull"),
    )


def _hulls(spec: dict, where: str) -> dict:
    """The ``validity_hull`` entries of a model JSON as arrays (see :func:`check_hull`)."""
    out = {}
    for direction, h in spec.items():
        if direction not in HULL_STRESSORS:
            raise ParameterError(f"{where}: unknown direction {direction!r}; expected one of {sorted(HULL_STRESSORS)}")
        _check_keys(h, {"stressors", "lo", "hi", "equations"}, f"{where}.{direction}")
        if list(h.get("stressors", [])) != list(HULL_STRESSORS[direction]):
            raise ParameterError(f"{where}.{direction}: stressors must be {list(HULL_STRESSORS[direction])}, "
                                 f"got {h.get('stressors')}")
        lo, hi = np.asarray(h["lo"], float), np.asarray(h["hi"], float)
        eq = np.asarray(h["equations"], float)
        if lo.shape != (3,) or hi.shape != (3,) or not np.all(hi > lo) or eq.ndim != 2 or eq.shape[1] != 4 or eq.shape[0] < 4:
            raise ParameterError(f"{where}.{direction}: expected lo < hi (3 values each) and at least 4 facets "
                                 f"of 4 coefficients, got lo {lo.tolist()}, hi {hi.tolist()}, equations {eq.shape}")
        out[direction] = (lo, hi, eq)
    return out


def _folder() -> Path:
    from .. import parameter_sets

    return parameter_sets.path("aging")


def available(variants: bool = False) -> list[str]:
    """Names of the shipped ageing models (``parameter_sets/aging/*.json``); with ``variants``
    also each model's named variants as ``name:variant`` (e.g. ``blast_nmc111_kokam75ah:exact``)."""
    names = sorted(p.stem for p in _folder().glob("*.json") if not p.stem.startswith("_"))
    if not variants:
        return names
    out = []
    for n in names:
        out.append(n)
        spec = json.loads((_folder() / f"{n}.json").read_text())
        out += [f"{n}:{v}" for v in spec.get("variants", {})]
    return out


def apply_variant(spec: dict, variant: str) -> dict:
    """The spec of a model's named variant: its ``variants[variant]`` keys replace the model's
    (``stress_definitions`` key by key), and the name becomes ``name:variant``."""
    variants = spec.get("variants", {})
    if variant not in variants:
        raise unknown_option(f"variant of ageing model {spec.get('name')!r}", variant, variants)
    v = variants[variant]
    _check_keys(v, VARIANT_KEYS, f"variant {variant!r} of {spec.get('name')!r}")
    out = {k: val for k, val in spec.items() if k != "variants"}
    for k, val in v.items():
        if k == "without_states":
            out["states"] = [sd for sd in spec.get("states", []) if sd.get("name") not in val]
        else:
            out[k] = {**spec.get(k, {}), **val} if k == "stress_definitions" else val
    out["name"] = f"{spec['name']}:{variant}"
    return out


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float, variant: str = "") -> AgingModel:
    p = Path(path)
    try:
        spec = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ParameterError(f"ageing model file {p} is not valid JSON: {exc}") from None
    spec.setdefault("name", p.stem)
    if variant:
        spec = apply_variant(spec, variant)
    return compile_spec(spec, p)


#: Former names of shipped models: still loaded, with a DeprecationWarning naming the new one.
RENAMED = {"calibrated_lgm50_okane2022": "calibrated_lgm50_okane2022_spm_lam"}


def load(model) -> AgingModel:
    """An :class:`AgingModel` from a shipped name (``name`` or ``name:variant``), a JSON path, a
    spec dict or a model."""
    if isinstance(model, AgingModel):
        return model
    if isinstance(model, dict):
        return compile_spec(model)
    variant = ""
    if isinstance(model, str) and ":" in model and not model.endswith(".json"):
        model, variant = model.split(":", 1)
    if isinstance(model, Path) or (isinstance(model, str) and model.endswith(".json")):
        p = Path(model)
        if not p.is_file():
            raise ParameterError(f"ageing model file {str(p)!r} does not exist")
    else:
        if isinstance(model, str) and model in RENAMED:
            import warnings

            warnings.warn(f"ageing model {model!r} is now {RENAMED[model]!r} (named for its PyBaMM configuration)",
                          DeprecationWarning, stacklevel=3)
            model = RENAMED[model]
        names = available()
        if model not in names:
            raise unknown_option("ageing model", model, names)
        p = _folder() / f"{model}.json"
    return _load_cached(str(p.resolve()), p.stat().st_mtime, variant)


#: Euler window increments more than this many times the exact power-law update are warned about.
#: A steady rate gives at most 1 / ln 2 = 1.44 (exponents below 1, one window after y = 0); the
#: commuting and road-trip profiles of the BLAST-Lite cross-check reach 3.8 (LG M50 weekend road
#: trips), where q ends 2e-3 below the exact update's; at ten times the step is mostly the artefact.
EULER_OVERSHOOT_WARN = 10.0
#: The stressors of a validity hull, per current direction (per sample step: cell temperature,
#: the C-rate of that direction, SOC), and the C-rate [1/h] below which a step is a rest.
HULL_STRESSORS = {"charge": ("temperature_K", "charge_crate_per_h", "soc"),
                  "discharge": ("temperature_K", "discharge_crate_per_h", "soc")}
HULL_MIN_CRATE = 0.01
#: How far outside a hull's facet (in units of the scaled [0, 1] ranges) a step may lie.
HULL_TOLERANCE = 0.02


def hull_steps(time_s, soc, temperature_K, current_A, nominal_capacity_Ah: float, direction: str) -> np.ndarray:
    """(temperature, C-rate, SOC) of the steps of a profile whose current flows in ``direction``
    (step means of the samples, as the per-sample kernel forms them: the C-rate of a direction is
    the mean of max(-I, 0), or max(I, 0), over the nominal capacity; without a current, the SOC's
    rate of change); one row per such step."""
    mean = lambda x: 0.5 * (x[1:] + x[:-1])  # noqa: E731
    sign = -1.0 if direction == "charge" else 1.0
    if current_A is None:
        c = np.maximum(sign * -np.diff(soc) / np.diff(time_s) * 3600.0, 0.0)  # discharge positive, in 1/h
    else:
        c = mean(np.maximum(sign * np.asarray(current_A, float), 0.0)) / nominal_capacity_Ah
    on = c > HULL_MIN_CRATE
    return np.column_stack([mean(temperature_K)[on], c[on], mean(soc)[on]])


def check_hull(model: AgingModel, steps: dict, stacklevel: int = 3) -> list[str]:
    """Warn (one :class:`OutOfRangeWarning`) when steps inside every stressor's range lie outside
    the model's validity hull (``steps``: direction -> rows of :func:`hull_steps`): the
    combination of temperature, C-rate and SOC was not in the calibration design."""
    msgs = []
    for direction, (lo, hi, eq) in model.validity_hull.items():
        x = steps.get(direction)
        if x is None or not len(x):
            continue
        names = HULL_STRESSORS[direction]
        inside_ranges = np.ones(len(x), bool)
        for j, name in enumerate(names):
            if name in model.validity:
                a, b = model.validity[name]
                inside_ranges &= (x[:, j] >= a - 1e-9) & (x[:, j] <= b + 1e-9)
        z = (x - lo) / (hi - lo)
        excess = z @ eq[:, :3].T + eq[:, 3]
        out = inside_ranges & (excess.max(axis=1) > HULL_TOLERANCE)
        if out.any():
            k = int(np.argmax(np.where(out, excess.max(axis=1), -np.inf)))
            T, c, soc = x[k]
            msgs.append(f"{int(out.sum())} of {len(x)} {direction} steps combine {', '.join(names)} outside the "
                        f"calibration design's hull, each inside its own range (farthest: {c:.3g}C at {T:.1f} K and "
                        f"SOC {soc:.2f}): that combination is extrapolated")
    if msgs:
        warnings.warn(f"ageing model {model.name!r} extrapolates: " + "; ".join(msgs), OutOfRangeWarning,
                      stacklevel=stacklevel)
    return msgs


def check_validity(model: AgingModel, smin: np.ndarray, smax: np.ndarray, stacklevel: int = 3,
                   saturated: np.ndarray | None = None, overshoot: np.ndarray | None = None) -> list[str]:
    """Warn once (one :class:`OutOfRangeWarning`) about every stressor outside the fitted range,
    about loss fractions that reached 1 and saturated there (``saturated``: per cell, the
    number of state advances cut at that bound), and about forward-Euler window steps that
    overshoot the exact update of a power law by more than :data:`EULER_OVERSHOOT_WARN` times
    (``overshoot``: per cell, the largest ratio, :class:`batterylab.kernels.aging.Records`)."""
    msgs = []
    if saturated is not None and np.any(saturated > 0):
        msgs.append(f"a loss fraction reached 1 and saturates there in {int(np.count_nonzero(saturated))} "
                    f"cell(s) (the model is driven beyond its range; losses are bounded to [0, 1])")
    worst = float(np.max(overshoot, initial=0.0)) if overshoot is not None else 0.0
    if worst > EULER_OVERSHOOT_WARN:
        n = int(np.count_nonzero(np.asarray(overshoot) > EULER_OVERSHOOT_WARN))
        msgs.append(f"BLAST-Lite's forward-Euler window step overshoots in {n} cell(s): in some window a state's "
                    f"increment is up to {worst:.3g} times the exact update of its power law from the same state "
                    "(its rate rose sharply from a small state; BLAST-Lite computes the same, and so does this "
                    "model; the ':exact' variant, or stress_definitions window_update 'exact', integrates exactly)")
    lo_seen = np.min(smin, axis=0)
    hi_seen = np.max(smax, axis=0)
    for name, (lo, hi) in model.validity.items():
        i = STRESSORS[name]
        a, b_ = lo_seen[i], hi_seen[i]
        if not np.isfinite(a):
            continue  # stressor never evaluated (e.g. no cycle closed)
        unit = STRESSOR_UNITS[name]
        if a < lo - 1e-9:
            msgs.append(f"{name} = {a:.6g} {unit} is below the fitted range [{lo:g}, {hi:g}] {unit}")
        if b_ > hi + 1e-9:
            msgs.append(f"{name} = {b_:.6g} {unit} is above the fitted range [{lo:g}, {hi:g}] {unit}")
    if msgs:
        warnings.warn(
            f"ageing model {model.name!r} extrapolates: " + "; ".join(msgs), OutOfRangeWarning, stacklevel=stacklevel
        )
    return msgs
