"""Cell parameter sets shipped in ``parameter_sets/cells/`` (or given as a file path).

A *cell parameter set* is a small JSON file (the batterylab "sidecar", ``"batterylab_cell": 1``)
that names where the electrochemical parameters come from and carries what the source lacks:

``source``
    either ``{"bpx_file": "bpx/nmc_pouch_cell_BPX.json"}`` (a BPX JSON file, path relative to the
    sidecar; Battery Parameter eXchange, https://github.com/FaradayInstitution/BPX) or
    ``{"pybamm_parameter_set": "OKane2022"}`` (a parameter set that ships inside PyBaMM, used
    where a faithful BPX conversion is not available: BPX cannot express the degradation
    sub-models, and the PyBaMM functions are the reference implementation of the papers).
``overrides``
    PyBaMM-named parameters (units in the name, e.g. ``"Nominal cell capacity [A.h]"``) that
    replace values of the source; each must already exist in the source (typos are caught).
``thermal``, ``degradation``
    PyBaMM-named parameters that the source lacks (BPX has no heat-transfer coefficient and no
    degradation parameters); they are added to the source.
``citations``, ``licence``, ``validity``
    provenance and the range over which the set is valid: ``c_rate_max`` [1/h],
    ``temperature_min_K``, ``temperature_max_K`` [K].

A bare BPX file path is accepted too; it gets the generic validity :data:`BPX_DEFAULT_VALIDITY`
(stated in the result's configuration) because BPX files do not state one.

Nothing here imports PyBaMM at module import time.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .. import checks
from ..errors import InputError, ParameterError, unknown_option

SIDECAR_KEY = "batterylab_cell"
SCHEMA_VERSION = 1
REQUIRED_FIELDS = ("name", "description", "source", "citations", "licence", "validity")
VALIDITY_FIELDS = ("c_rate_max", "temperature_min_K", "temperature_max_K")
#: Validity assumed for a bare BPX file that states none (C-rate [1/h], temperatures [K]).
BPX_DEFAULT_VALIDITY = {"c_rate_max": 5.0, "temperature_min_K": 253.15, "temperature_max_K": 333.15}


def _cells_dir() -> Path:
    from ..parameter_sets import ROOT

    return ROOT / "cells"


@dataclass(frozen=True)
class CellInfo:
    """Cell-level numbers of a parameter set, for sizing and lumped-thermal estimates.

    Attributes
    ----------
    nominal_capacity_Ah : nominal capacity [A.h]
    lower_voltage_V, upper_voltage_V : voltage cut-offs [V]
    nominal_voltage_V : nominal voltage [V] (from the set's data sheet entry, else the mean of the
        cut-offs)
    volume_m3 : cell volume [m3]
    cooling_area_m2 : cooling surface area [m2]
    heat_transfer_coefficient_W_m2K : total heat-transfer coefficient to ambient [W.m-2.K-1]
    heat_capacity_J_K : total heat capacity, the lumped model's effective volumetric heat
        capacity (layer-thickness-weighted rho*c_p of the electrode stack) times the cell volume
        [J.K-1]
    mass_kg : layer-thickness-weighted density times cell volume [kg] (an estimate: casing and
        void are not in the model)
    specific_heat_J_kgK : heat_capacity_J_K / mass_kg [J.kg-1.K-1]
    thermal_time_constant_s : heat_capacity_J_K / (h A) [s] of the lumped model (inf if h = 0)
    """

    name: str
    nominal_capacity_Ah: float
    lower_voltage_V: float
    upper_voltage_V: float
    nominal_voltage_V: float
    volume_m3: float
    cooling_area_m2: float
    heat_transfer_coefficient_W_m2K: float
    heat_capacity_J_K: float
    mass_kg: float
    specific_heat_J_kgK: float
    thermal_time_constant_s: float
    c_rate_max: float
    temperature_min_K: float
    temperature_max_K: float

    @property
    def cooling_conductance_W_K(self) -> float:
        """h A [W.K-1]."""
        return self.heat_transfer_coefficient_W_m2K * self.cooling_area_m2

    @property
    def nominal_energy_Wh(self) -> float:
        """nominal_capacity_Ah * nominal_voltage_V [W.h]."""
        return self.nominal_capacity_Ah * self.nominal_voltage_V


@dataclass(frozen=True)
class ParameterSet:
    """A loaded cell parameter set (see the module docstring for the file format)."""

    name: str
    description: str
    source_kind: str  # "bpx" or "pybamm"
    source: str  # BPX file path or PyBaMM parameter-set name
    citations: tuple
    licence: str
    validity: dict
    overrides: dict = field(default_factory=dict)
    thermal: dict = field(default_factory=dict)
    degradation: dict = field(default_factory=dict)
    nominal_voltage_V: float | None = None
    files: tuple = ()  # files whose sha256 identifies the set (sidecar and BPX)

    def parameter_values(self):
        """A fresh ``pybamm.ParameterValues`` for this set (imports PyBaMM)."""
        import pybamm

        if self.source_kind == "bpx":
            pv = _bpx_parameter_values(self.source)
        else:
            try:
                pv = pybamm.ParameterValues(self.source)
            except Exception:  # unknown name: PyBaMM raises various types
                valid = sorted(pybamm.parameter_sets.keys())
                raise ParameterError(
                    f"parameter set {self.name!r}: source pybamm_parameter_set {self.source!r} is not "
                    f"a PyBaMM parameter set; valid names are: {', '.join(valid)}"
                ) from None
        if self.overrides:
            check_known(pv, self.overrides, f"parameter set {self.name!r}: 'overrides'",
                        "put parameters the source lacks under 'thermal' or 'degradation'")
            pv.update(dict(self.overrides))
        extra = {**self.thermal, **self.degradation}
        if extra:
            pv.update(extra)
        return pv

    def config(self) -> dict:
        """JSON-able description for result provenance."""
        return {
            "name": self.name,
            "source_kind": self.source_kind,
            "source": str(Path(self.source).name) if self.source_kind == "bpx" else self.source,
            "citations": [c.get("doi", c.get("text", "")) for c in self.citations],
            "licence": self.licence,
            "validity": self.validity,
            "files": [str(Path(f).name) for f in self.files],
        }

    def register_citations(self) -> None:
        from .. import citations

        for c in self.citations:
            citations.register(c.get("key", c.get("doi", self.name)), f"{c.get('text', '')} doi:{c.get('doi', '-')}")


def check_known(pv, values: dict, where: str, hint: str) -> None:
    """Raise ParameterError if a key of ``values`` is not a parameter of ``pv`` (a typo would
    otherwise be added silently and never used)."""
    import difflib

    keys = list(pv.keys())
    for name in values:
        if name not in keys:
            close = difflib.get_close_matches(name, keys, n=3, cutoff=0.6)
            raise ParameterError(
                f"{where}: {name!r} is not a parameter of this set"
                + (f"; close matches: {', '.join(repr(c) for c in close)}" if close else "")
                + f" ({hint})"
            )


def list_cells() -> list[str]:
    """Names of the shipped cell parameter sets."""
    names = []
    for p in sorted(_cells_dir().glob("*.json")):
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and SIDECAR_KEY in data:
            names.append(data.get("name", p.stem))
    return names


def _shipped() -> dict[str, Path]:
    out = {}
    for p in sorted(_cells_dir().glob("*.json")):
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and SIDECAR_KEY in data:
            out[str(data.get("name", p.stem))] = p
    return out


def load_parameter_set(cell) -> ParameterSet:
    """Load a cell parameter set by shipped name (case-insensitive) or file path.

    ``cell`` may be a :class:`ParameterSet` (returned as is), the name of a shipped set (see
    :func:`list_cells`), the path of a batterylab sidecar JSON, or the path of a BPX JSON file.
    Raises :class:`~batterylab.errors.OptionError` for an unknown name and
    :class:`~batterylab.errors.ParameterError` for a malformed or incomplete file.
    """
    if isinstance(cell, ParameterSet):
        return cell
    if not isinstance(cell, (str, Path)):
        raise InputError(f"cell must be a parameter-set name or a file path, got {type(cell).__name__}: {cell!r}")
    shipped = _shipped()
    by_lower = {k.lower(): v for k, v in shipped.items()}
    text = str(cell)
    if text.lower() in by_lower:
        return _load_file(by_lower[text.lower()])
    p = Path(text).expanduser()
    if p.suffix.lower() == ".json" or p.exists() or "/" in text or "\\" in text:
        if not p.is_file():
            raise InputError(f"cell file {text!r} does not exist (expected a BPX or batterylab cell JSON file)")
        return _load_file(p)
    raise unknown_option("cell parameter set", text, list(shipped))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{path}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not a text JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: top level must be a JSON object, got {type(data).__name__}")
    return data


def _load_file(path: Path) -> ParameterSet:
    path = Path(path)
    data = _read_json(path)
    if SIDECAR_KEY in data:
        return _from_sidecar(path, data)
    if "Parameterisation" in data or "Header" in data:
        _check_bpx_structure(path, data)
        header = data.get("Header", {})
        return ParameterSet(
            name=path.stem,
            description=str(header.get("Title", path.stem)),
            source_kind="bpx",
            source=str(path.resolve()),
            citations=({"text": str(header.get("Description", "user BPX file")), "doi": "-"},),
            licence="as stated by the file's owner (user-supplied BPX file)",
            validity=dict(BPX_DEFAULT_VALIDITY, note="batterylab default: the BPX file states no validity range"),
            files=(str(path.resolve()),),
        )
    raise ParameterError(
        f"{path}: neither a batterylab cell file (needs key {SIDECAR_KEY!r}) nor a BPX file (needs keys "
        "'Header' and 'Parameterisation')"
    )


def _check_bpx_structure(path: Path, data: dict) -> None:
    for key in ("Header", "Parameterisation"):
        if key not in data:
            raise ParameterError(f"{path}: BPX file is missing the required section {key!r}")
    for key in ("Cell", "Electrolyte", "Negative electrode", "Positive electrode", "Separator"):
        if key not in data["Parameterisation"]:
            raise ParameterError(f"{path}: BPX file is missing the required section 'Parameterisation/{key}'")


def _from_sidecar(path: Path, data: dict) -> ParameterSet:
    if data[SIDECAR_KEY] != SCHEMA_VERSION:
        raise ParameterError(f"{path}: field {SIDECAR_KEY!r} = {data[SIDECAR_KEY]!r}; expected {SCHEMA_VERSION}")
    for key in REQUIRED_FIELDS:
        if key not in data:
            raise ParameterError(f"{path}: missing required field {key!r} (required fields: {', '.join(REQUIRED_FIELDS)})")
    name = data["name"]
    if not isinstance(name, str) or not name:
        raise ParameterError(f"{path}: field 'name' must be a non-empty string, got {name!r}")
    source = data["source"]
    if not isinstance(source, dict) or len(source) != 1 or not ({"bpx_file", "pybamm_parameter_set"} & set(source)):
        raise ParameterError(
            f"{path}: field 'source' must be {{'bpx_file': <path>}} or {{'pybamm_parameter_set': <name>}}, got {source!r}"
        )
    files = [str(path.resolve())]
    if "bpx_file" in source:
        bpx = (path.parent / str(source["bpx_file"])).resolve()
        if not bpx.is_file():
            raise ParameterError(f"{path}: field 'source/bpx_file' = {source['bpx_file']!r}: no such file {bpx}")
        _check_bpx_structure(bpx, _read_json(bpx))
        kind, src = "bpx", str(bpx)
        files.append(str(bpx))
    else:
        kind, src = "pybamm", str(source["pybamm_parameter_set"])
    citations = data["citations"]
    if not isinstance(citations, list) or not citations or not all(isinstance(c, dict) and "doi" in c for c in citations):
        raise ParameterError(f"{path}: field 'citations' must be a non-empty list of objects with a 'doi', got {citations!r}")
    licence = data["licence"]
    if not isinstance(licence, str) or not licence:
        raise ParameterError(f"{path}: field 'licence' must be a non-empty string, got {licence!r}")
    validity = data["validity"]
    if not isinstance(validity, dict):
        raise ParameterError(f"{path}: field 'validity' must be an object, got {validity!r}")
    for key in VALIDITY_FIELDS:
        if key not in validity:
            raise ParameterError(f"{path}: missing required field 'validity/{key}' (required: {', '.join(VALIDITY_FIELDS)})")
        try:
            checks.positive(f"validity/{key}", validity[key])
        except InputError as exc:
            raise ParameterError(f"{path}: {exc}") from None
    try:
        checks.temperature_K("validity/temperature_min_K", validity["temperature_min_K"])
        checks.temperature_K("validity/temperature_max_K", validity["temperature_max_K"])
    except InputError as exc:
        raise ParameterError(f"{path}: {exc}") from None
    if validity["temperature_min_K"] >= validity["temperature_max_K"]:
        raise ParameterError(f"{path}: validity/temperature_min_K must be below validity/temperature_max_K, got {validity}")
    sections = {}
    for key in ("overrides", "thermal", "degradation"):
        section = data.get(key, {})
        if not isinstance(section, dict):
            raise ParameterError(f"{path}: field {key!r} must be an object of PyBaMM-named parameters, got {section!r}")
        for pname, value in section.items():
            if pname.startswith("_"):
                continue  # comment fields such as "_source"
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ParameterError(f"{path}: parameter {key}/{pname!r} must be a finite number, got {value!r}")
        sections[key] = {k: float(v) for k, v in section.items() if not k.startswith("_")}
    vnom = data.get("nominal_voltage_V")
    if vnom is not None:
        try:
            vnom = checks.positive("nominal_voltage_V", vnom, unit="V")
        except InputError as exc:
            raise ParameterError(f"{path}: {exc}") from None
    return ParameterSet(
        name=name,
        description=str(data["description"]),
        source_kind=kind,
        source=src,
        citations=tuple(citations),
        licence=licence,
        validity={k: validity[k] for k in validity},
        nominal_voltage_V=vnom,
        files=tuple(files),
        **sections,
    )


def _bpx_parameter_values(path: str):
    """``pybamm.ParameterValues.create_from_bpx`` with its validation errors made readable."""
    import pybamm

    with warnings.catch_warnings():
        # Legacy BPX 0.x files are converted by the bpx package with deprecation notices, and
        # PyBaMM warns when it substitutes the voltage cut-offs for the 0 % / 100 % OCVs; neither
        # changes the parameter values.
        warnings.filterwarnings("ignore", message=".*not found in BPX file.*")
        warnings.filterwarnings("ignore", message=".*model_fields.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*BPX.*version.*")
        # The About:Energy examples' stoichiometry limits give an OCV 1.8 mV above the 4.2 V
        # cut-off; the bpx validator warns about this 1 mV tolerance, harmlessly.
        warnings.filterwarnings("ignore", message=".*computed from the STO limits.*")
        try:
            return pybamm.ParameterValues.create_from_bpx(path)
        except Exception as exc:  # pydantic ValidationError, KeyError, ...
            msg = " ".join(str(exc).split())
            raise ParameterError(f"BPX file {path}: invalid or incomplete: {msg[:1500]}") from None


def cell_info(cell) -> CellInfo:
    """Nominal capacity, voltage limits, mass, heat capacity and cooling of a cell parameter set.

    ``cell`` is a shipped name, a file path or a :class:`ParameterSet`. Imports PyBaMM (to
    evaluate the parameter functions at the reference temperature).
    """
    import pybamm

    ps = load_parameter_set(cell)
    pv = ps.parameter_values()
    T = float(pv["Reference temperature [K]"]) if "Reference temperature [K]" in pv.keys() else 298.15
    param = pybamm.LithiumIonParameters()
    th, geo = param.therm, param.geo

    def ev(expr):
        try:
            return float(pv.evaluate(expr))
        except Exception as exc:
            raise ParameterError(f"parameter set {ps.name!r}: cannot evaluate a thermal parameter ({exc})") from None

    Tsym = pybamm.Scalar(T)
    rho_cp = ev(th.rho_c_p_eff(Tsym))
    rho = ev(
        (th.n.rho_cc(Tsym) * geo.n.L_cc + th.n.rho(Tsym) * geo.n.L + th.s.rho(Tsym) * geo.s.L
         + th.p.rho(Tsym) * geo.p.L + th.p.rho_cc(Tsym) * geo.p.L_cc) / geo.L
    )

    def get(name, default=float("nan")):
        return float(pv[name]) if name in pv.keys() and isinstance(pv[name], (int, float)) else default

    vol = get("Cell volume [m3]")
    area = get("Cell cooling surface area [m2]")
    h = get("Total heat transfer coefficient [W.m-2.K-1]")
    heat_cap = rho_cp * vol
    mass = rho * vol
    lo, hi = get("Lower voltage cut-off [V]"), get("Upper voltage cut-off [V]")
    return CellInfo(
        name=ps.name,
        nominal_capacity_Ah=get("Nominal cell capacity [A.h]"),
        lower_voltage_V=lo,
        upper_voltage_V=hi,
        nominal_voltage_V=ps.nominal_voltage_V or 0.5 * (lo + hi),
        volume_m3=vol,
        cooling_area_m2=area,
        heat_transfer_coefficient_W_m2K=h,
        heat_capacity_J_K=heat_cap,
        mass_kg=mass,
        specific_heat_J_kgK=heat_cap / mass if mass > 0 else float("nan"),
        thermal_time_constant_s=heat_cap / (h * area) if h * area > 0 else float("inf"),
        c_rate_max=float(ps.validity["c_rate_max"]),
        temperature_min_K=float(ps.validity["temperature_min_K"]),
        temperature_max_K=float(ps.validity["temperature_max_K"]),
    )
