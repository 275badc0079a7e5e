"""Solid-state cell parameter sets: loading, checking and conversion to PyBaMM parameters.

Each set is a JSON file ``parameter_sets/cells/solid_state_<name>.json`` in which every
coefficient carries its value, units, a source (a key of the file's ``citations``, ``"design
choice"`` or ``"none"``) and ``traced_to_primary_source`` (``false`` marks values that could not
be checked against the primary publication). :func:`load_cell` reads and checks it;
:func:`pybamm_parameters` turns it into a :class:`pybamm.ParameterValues` for the
lithium-metal half-cell DFN of :mod:`batterylab.solid_state.model`.

Temperature dependences (Arrhenius, reference temperature :math:`T_{ref}`):

.. math::

    \\kappa(T) = \\kappa_{ref} \\exp\\left[\\frac{E_\\kappa}{R}\\left(\\frac{1}{T_{ref}}
    - \\frac{1}{T}\\right)\\right], \\qquad
    R_{int}(T) = R_{int,ref} \\exp\\left[\\frac{E_{int}}{R}\\left(\\frac{1}{T}
    - \\frac{1}{T_{ref}}\\right)\\right] \\left(\\frac{p}{p_{ref}}\\right)^{-1/2}
    \\frac{1}{a_c}

and the lithium-metal exchange-current density is the one whose linearised Butler-Volmer
resistance equals the interface resistance, :math:`j_0 = R T / (F R_{int})` (symmetric charge
transfer, :math:`\\alpha = 0.5`). :math:`a_c` is the fraction of the Li | electrolyte interface
in contact (1 for a fresh, well-pressed interface).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import citations
from .._deprecation import renamed_kwargs
from ..errors import ParameterError, unknown_option
from ..parameter_sets import ROOT as _PS_ROOT

#: Faraday constant [C.mol-1] (CODATA 2018, exact).
FARADAY_C_MOL = 96485.33212
#: Molar gas constant [J.mol-1.K-1] (CODATA 2018, exact).
GAS_CONSTANT_J_MOL_K = 8.314462618

#: Keys every solid-state parameter file must define.
REQUIRED = (
    "electrode_height_m", "electrode_width_m", "electrode_pairs", "lithium_thickness_m",
    "negative_current_collector_thickness_m", "positive_current_collector_thickness_m",
    "cathode_thickness_m", "cathode_active_volume_fraction", "cathode_electrolyte_volume_fraction",
    "bruggeman_exponent", "cathode_max_concentration_mol_m3", "cathode_particle_radius_m",
    "cathode_particle_diffusivity_m2_s", "cathode_electronic_conductivity_S_m",
    "cathode_exchange_current_coefficient", "cathode_exchange_current_activation_energy_J_mol",
    "cathode_ocp_function", "cathode_stoichiometry_at_100_soc", "cathode_stoichiometry_at_0_soc",
    "cathode_density_kg_m3", "cathode_specific_heat_J_kg_K", "lithium_molar_volume_m3_mol",
    "lithium_density_kg_m3", "lithium_specific_heat_J_kg_K", "lithium_conductivity_S_m",
    "lithium_charge_transfer_coefficient", "copper_density_kg_m3", "copper_specific_heat_J_kg_K",
    "copper_conductivity_S_m", "aluminium_density_kg_m3", "aluminium_specific_heat_J_kg_K",
    "aluminium_conductivity_S_m", "lower_voltage_V", "upper_voltage_V", "reference_temperature_K",
    "stack_pressure_reference_Pa", "stack_pressure_Pa", "separator_thickness_m",
    "electrolyte_conductivity_S_m", "electrolyte_activation_energy_J_mol",
    "electrolyte_density_kg_m3", "electrolyte_specific_heat_J_kg_K", "interface_resistance_ohm_m2",
    "interface_activation_energy_J_mol", "critical_stripping_current_A_m2",
)

#: Short names of the shipped sets -> file stem.
SHIPPED = {
    "sulfide": "solid_state_sulfide_lsipscl",
    "lsipscl": "solid_state_sulfide_lsipscl",
    "llzo": "solid_state_oxide_llzo",
    "oxide": "solid_state_oxide_llzo",
}


@dataclass
class SolidStateCell:
    """A solid-state cell parameter set (values in SI units, see the JSON for each unit)."""

    name: str
    values: dict
    meta: dict
    path: Path | None = None
    untraced: list = field(default_factory=list)

    def __getitem__(self, key):
        try:
            return self.values[key]
        except KeyError:
            raise unknown_option("solid-state parameter", key, self.values) from None

    def replace(self, **changes) -> "SolidStateCell":
        """A copy with some values changed (names checked)."""
        vals = dict(self.values)
        for k, v in changes.items():
            if k not in vals:
                raise unknown_option("solid-state parameter", k, vals)
            vals[k] = v
        return SolidStateCell(self.name, vals, self.meta, self.path, list(self.untraced))

    # ---- derived quantities -------------------------------------------------------------
    @property
    def electrode_area_m2(self) -> float:
        """Total electrode area of all layers in parallel [m2]."""
        v = self.values
        return v["electrode_height_m"] * v["electrode_width_m"] * v["electrode_pairs"]

    @property
    def layer_thickness_m(self) -> float:
        """Thickness of one repeat layer (CCs halves, Li, separator, cathode) [m]."""
        v = self.values
        return (v["negative_current_collector_thickness_m"] + v["lithium_thickness_m"]
                + v["separator_thickness_m"] + v["cathode_thickness_m"]
                + v["positive_current_collector_thickness_m"])

    @property
    def cell_volume_m3(self) -> float:
        """Stack volume (pouch foil neglected) [m3]."""
        return self.electrode_area_m2 * self.layer_thickness_m

    @property
    def cooling_area_m2(self) -> float:
        """Outer surface of the stack (two faces plus four edges) [m2]."""
        v = self.values
        h, w = v["electrode_height_m"], v["electrode_width_m"]
        t = v["electrode_pairs"] * self.layer_thickness_m
        return 2 * h * w + 2 * (h + w) * t

    @property
    def capacity_Ah(self) -> float:
        """Cathode capacity between the 0 % and 100 % SOC stoichiometries [A.h]."""
        v = self.values
        dx = v["cathode_stoichiometry_at_0_soc"] - v["cathode_stoichiometry_at_100_soc"]
        per_m2 = (v["cathode_active_volume_fraction"] * v["cathode_thickness_m"]
                  * v["cathode_max_concentration_mol_m3"] * dx * FARADAY_C_MOL / 3600.0)
        return per_m2 * self.electrode_area_m2

    def component_heat_capacities(self) -> dict:
        """Volumetric heat capacity rho*c_p of each layer [J.m-3.K-1]."""
        v = self.values
        eps_am = v["cathode_active_volume_fraction"]
        eps_se = v["cathode_electrolyte_volume_fraction"]
        rc_se = v["electrolyte_density_kg_m3"] * v["electrolyte_specific_heat_J_kg_K"]
        rc_am = v["cathode_density_kg_m3"] * v["cathode_specific_heat_J_kg_K"]
        return {
            "negative current collector": v["copper_density_kg_m3"] * v["copper_specific_heat_J_kg_K"],
            "lithium": v["lithium_density_kg_m3"] * v["lithium_specific_heat_J_kg_K"],
            "separator": rc_se,
            # carbon/binder remainder neglected (a few % of the volume)
            "cathode": eps_am * rc_am + eps_se * rc_se,
            "positive current collector": v["aluminium_density_kg_m3"] * v["aluminium_specific_heat_J_kg_K"],
        }

    def heat_capacity_J_K(self) -> float:
        """Lumped heat capacity m c_p of the stack [J.K-1]."""
        v = self.values
        rc = self.component_heat_capacities()
        per_m2 = (rc["negative current collector"] * v["negative_current_collector_thickness_m"]
                  + rc["lithium"] * v["lithium_thickness_m"]
                  + rc["separator"] * v["separator_thickness_m"]
                  + rc["cathode"] * v["cathode_thickness_m"]
                  + rc["positive current collector"] * v["positive_current_collector_thickness_m"])
        return per_m2 * self.electrode_area_m2


def _resolve(name_or_path) -> Path:
    if isinstance(name_or_path, Path) or str(name_or_path).endswith(".json"):
        p = Path(name_or_path)
        if not p.is_file():
            raise ParameterError(f"solid-state parameter file {str(p)!r} does not exist")
        return p
    key = str(name_or_path).lower()
    stem = SHIPPED.get(key, key)
    p = _PS_ROOT / "cells" / f"{stem}.json"
    if not p.is_file():
        valid = sorted(set(SHIPPED) | {s for s in SHIPPED.values()})
        raise unknown_option("solid-state cell", name_or_path, valid)
    return p


def load_cell(name_or_path="sulfide") -> SolidStateCell:
    """Load and check a solid-state parameter set.

    Parameters
    ----------
    name_or_path : str or Path
        ``"sulfide"`` (Li9.54Si1.74P1.44S11.7Cl0.3, Kato et al. 2016, doi:10.1038/nenergy.2016.30),
        ``"llzo"`` (cubic garnet, Murugan et al. 2007, doi:10.1002/anie.200701144), a shipped file
        stem or the path of a JSON file of the same layout.
    """
    from ..checks import named

    with named("name_or_path"):
        path = _resolve(name_or_path)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ParameterError(f"solid-state parameter file {str(path)!r} is not valid JSON: {exc}") from None
    pars = doc.get("parameters")
    if not isinstance(pars, dict):
        raise ParameterError(f"{path.name}: missing 'parameters' object")
    missing = [k for k in REQUIRED if k not in pars]
    if missing:
        raise ParameterError(f"{path.name}: missing parameters {missing}")
    cites = doc.get("citations", {})
    values, untraced = {}, []
    for key, entry in pars.items():
        if not isinstance(entry, dict) or "value" not in entry or "units" not in entry or "source" not in entry:
            raise ParameterError(f"{path.name}: parameter {key!r} needs value, units and source")
        src = entry["source"]
        if src not in cites and src not in ("design choice (not a published coefficient)", "none"):
            raise ParameterError(f"{path.name}: parameter {key!r} cites {src!r}, which is not in citations")
        val = entry["value"]
        if not isinstance(val, str):
            val = float(val)
            if not val == val or val < 0:
                raise ParameterError(f"{path.name}: parameter {key!r} = {val!r}; expected a finite value >= 0")
        values[key] = val
        if not entry.get("traced_to_primary_source", False) and src != "design choice (not a published coefficient)":
            untraced.append(key)
    for frac in ("cathode_active_volume_fraction", "cathode_electrolyte_volume_fraction"):
        if not 0 < values[frac] < 1:
            raise ParameterError(f"{path.name}: {frac} = {values[frac]}; expected in (0, 1)")
    if values["cathode_active_volume_fraction"] + values["cathode_electrolyte_volume_fraction"] > 1:
        raise ParameterError(f"{path.name}: active + electrolyte volume fractions exceed 1")
    if values["lower_voltage_V"] >= values["upper_voltage_V"]:
        raise ParameterError(f"{path.name}: lower_voltage_V must be below upper_voltage_V")
    for key, text in cites.items():
        citations.register(key, text)
    return SolidStateCell(doc.get("name", path.stem), values, {k: v for k, v in doc.items() if k != "parameters"}, path, untraced)


def arrhenius(value_ref, activation_J_mol, temperature_K, reference_K):
    """``value_ref * exp(Ea/R (1/T_ref - 1/T))`` (rises with T for Ea > 0) [unit of value_ref]."""
    import numpy as np

    return value_ref * np.exp(activation_J_mol / GAS_CONSTANT_J_MOL_K * (1.0 / reference_K - 1.0 / temperature_K))


def interface_resistance_ohm_m2(cell: SolidStateCell, temperature_K, contact_fraction=1.0):
    """Area-specific Li | electrolyte interface resistance [Ohm.m2].

    ``R_ref exp(E/R (1/T - 1/T_ref)) (p/p_ref)^-0.5 / a_c``; the pressure exponent -0.5 and the
    inverse contact-area scaling are the model assumptions of this package (constriction
    resistance of a partly voided interface), not fitted coefficients.
    """
    v = cell.values
    r = 1.0 / arrhenius(1.0 / v["interface_resistance_ohm_m2"], v["interface_activation_energy_J_mol"],
                        temperature_K, v["reference_temperature_K"])
    return r * (v["stack_pressure_Pa"] / v["stack_pressure_reference_Pa"]) ** -0.5 / contact_fraction


@renamed_kwargs(ambient_K="ambient_temperature_K")
def pybamm_parameters(cell: SolidStateCell, *, ambient_temperature_K: float = 298.15, h_W_m2K: float = 10.0,
                      initial_soc: float = 0.5, contact_fraction=None):
    """Build :class:`pybamm.ParameterValues` of the Li-metal / solid-electrolyte half-cell DFN.

    The solid electrolyte is a single-ion conductor: cation transference number 1 (no salt
    gradient can form), dense separator (porosity 1, so the separator conductivity is the bulk
    one), composite cathode with the electrolyte volume fraction as "porosity" and Bruggeman
    effective conductivity ``kappa eps^b``. ``contact_fraction`` may be a PyBaMM symbol (the
    contact-loss state of the model); by default the interface is in full contact.
    """
    import pybamm
    from pybamm.input.parameters.lithium_ion import Chen2020 as _chen

    v = cell.values
    F, R = FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K
    Tref = v["reference_temperature_K"]
    ocp_name = v["cathode_ocp_function"]
    ocp = getattr(_chen, ocp_name, None)
    if ocp is None:
        raise ParameterError(f"{cell.name}: cathode_ocp_function {ocp_name!r} is not a Chen2020 function")
    citations.register("Chen2020", "C.-H. Chen et al., J. Electrochem. Soc. 167 (2020) 080534, doi:10.1149/1945-7111/ab9050")

    kappa_ref, E_kappa = v["electrolyte_conductivity_S_m"], v["electrolyte_activation_energy_J_mol"]
    c_e0 = 1000.0  # reference Li+ "concentration" of the kinetics; inert when t+ = 1

    def kappa(c_e, T):
        return kappa_ref * pybamm.exp(E_kappa / R * (1 / Tref - 1 / T)) + 0 * c_e

    def diffusivity(c_e, T):
        # Irrelevant with t+ = 1 (no source term, zero-flux boundaries); kept finite for the solver.
        return 1e-12 + 0 * c_e * T

    R_int, E_int = v["interface_resistance_ohm_m2"], v["interface_activation_energy_J_mol"]
    p_ratio = v["stack_pressure_Pa"] / v["stack_pressure_reference_Pa"]
    a_c = 1.0 if contact_fraction is None else contact_fraction

    def j0_li(c_e, c_Li, T):
        r_int = R_int * pybamm.exp(E_int / R * (1 / T - 1 / Tref)) * p_ratio**-0.5 / a_c
        return R * T / (F * r_int) + 0 * c_e * c_Li

    m_ref, E_p = v["cathode_exchange_current_coefficient"], v["cathode_exchange_current_activation_energy_J_mol"]

    def j0_cathode(c_e, c_s_surf, c_s_max, T):
        arr = pybamm.exp(E_p / R * (1 / Tref - 1 / T))
        return m_ref * arr * c_e0**0.5 * (c_e / c_e0) ** 0.5 * c_s_surf**0.5 * (c_s_max - c_s_surf) ** 0.5

    rc = cell.component_heat_capacities()
    x100, x0 = v["cathode_stoichiometry_at_100_soc"], v["cathode_stoichiometry_at_0_soc"]
    cmax = v["cathode_max_concentration_mol_m3"]
    x_init = x100 + (x0 - x100) * (1.0 - initial_soc)
    eps_se = v["cathode_electrolyte_volume_fraction"]
    # PyBaMM multiplies density by specific heat; give densities and unit specific heats so the
    # product is the volumetric heat capacity computed above.
    params = {
        "chemistry": "lithium_ion",
        "Negative electrode thickness [m]": v["lithium_thickness_m"],
        "Separator thickness [m]": v["separator_thickness_m"],
        "Positive electrode thickness [m]": v["cathode_thickness_m"],
        "Negative current collector thickness [m]": v["negative_current_collector_thickness_m"],
        "Positive current collector thickness [m]": v["positive_current_collector_thickness_m"],
        "Electrode height [m]": v["electrode_height_m"],
        "Electrode width [m]": v["electrode_width_m"],
        "Number of electrodes connected in parallel to make a cell": v["electrode_pairs"],
        "Number of cells connected in series to make a battery": 1.0,
        "Nominal cell capacity [A.h]": cell.capacity_Ah,
        "Current function [A]": cell.capacity_Ah,
        "Contact resistance [Ohm]": 0.0,
        "Cell volume [m3]": cell.cell_volume_m3,
        "Cell cooling surface area [m2]": cell.cooling_area_m2,
        "Total heat transfer coefficient [W.m-2.K-1]": h_W_m2K,
        "Negative current collector conductivity [S.m-1]": v["copper_conductivity_S_m"],
        "Positive current collector conductivity [S.m-1]": v["aluminium_conductivity_S_m"],
        "Negative current collector density [kg.m-3]": rc["negative current collector"],
        "Positive current collector density [kg.m-3]": rc["positive current collector"],
        "Negative electrode density [kg.m-3]": rc["lithium"],
        "Separator density [kg.m-3]": rc["separator"],
        "Positive electrode density [kg.m-3]": rc["cathode"],
        "Negative current collector specific heat capacity [J.kg-1.K-1]": 1.0,
        "Positive current collector specific heat capacity [J.kg-1.K-1]": 1.0,
        "Negative electrode specific heat capacity [J.kg-1.K-1]": 1.0,
        "Separator specific heat capacity [J.kg-1.K-1]": 1.0,
        "Positive electrode specific heat capacity [J.kg-1.K-1]": 1.0,
        # lithium metal electrode
        "Negative electrode OCP [V]": 0.0,
        "Negative electrode OCP entropic change [V.K-1]": 0.0,
        "Negative electrode conductivity [S.m-1]": v["lithium_conductivity_S_m"],
        "Lithium metal partial molar volume [m3.mol-1]": v["lithium_molar_volume_m3_mol"],
        "Exchange-current density for lithium metal electrode [A.m-2]": j0_li,
        "Negative electrode charge transfer coefficient": v["lithium_charge_transfer_coefficient"],
        "Negative electrode double-layer capacity [F.m-2]": 0.2,
        # composite cathode
        "Positive electrode conductivity [S.m-1]": v["cathode_electronic_conductivity_S_m"],
        "Maximum concentration in positive electrode [mol.m-3]": cmax,
        "Positive particle diffusivity [m2.s-1]": v["cathode_particle_diffusivity_m2_s"],
        "Positive electrode OCP [V]": ocp,
        "Positive electrode porosity": eps_se,
        "Positive electrode active material volume fraction": v["cathode_active_volume_fraction"],
        "Positive particle radius [m]": v["cathode_particle_radius_m"],
        "Positive electrode Bruggeman coefficient (electrolyte)": v["bruggeman_exponent"],
        "Positive electrode Bruggeman coefficient (electrode)": 0.0,
        "Positive electrode OCP entropic change [V.K-1]": 0.0,
        "Positive electrode charge transfer coefficient": 0.5,
        "Positive electrode exchange-current density [A.m-2]": j0_cathode,
        "Positive electrode double-layer capacity [F.m-2]": 0.2,
        "Initial concentration in positive electrode [mol.m-3]": x_init * cmax,
        # dense single-ion solid electrolyte
        "Separator porosity": 1.0,
        "Separator Bruggeman coefficient (electrolyte)": v["bruggeman_exponent"],
        "Initial concentration in electrolyte [mol.m-3]": c_e0,
        "Cation transference number": 1.0,
        "Thermodynamic factor": 1.0,
        "Electrolyte diffusivity [m2.s-1]": diffusivity,
        "Electrolyte conductivity [S.m-1]": kappa,
        # operation
        "Reference temperature [K]": Tref,
        "Ambient temperature [K]": ambient_temperature_K,
        "Initial temperature [K]": ambient_temperature_K,
        "Lower voltage cut-off [V]": v["lower_voltage_V"],
        "Upper voltage cut-off [V]": v["upper_voltage_V"],
        "Open-circuit voltage at 0% SOC [V]": v["lower_voltage_V"],
        "Open-circuit voltage at 100% SOC [V]": v["upper_voltage_V"],
    }
    return pybamm.ParameterValues(params)


# --- the liquid reference cell of the comparisons (data from batterylab.cell) -----------------

#: The comparison settings file.
COMPARISON_FILE = _PS_ROOT / "cells" / "solid_state_comparison.json"


def _comparison_settings() -> dict:
    doc = json.loads(COMPARISON_FILE.read_text())
    for k, v in doc.get("citations", {}).items():
        citations.register(k, v)
    return {k: v["value"] for k, v in doc["parameters"].items()}


def liquid_reference(name="LGM50") -> dict:
    """Limits and thermal data of the liquid reference cell (from :mod:`batterylab.cell`)."""
    return dict(_liquid_reference(str(name)))


@functools.lru_cache(maxsize=8)
def _liquid_reference(name) -> dict:
    from ..cell import cell_info

    s = _comparison_settings()
    info = cell_info(name)
    return {
        "name": info.name,
        "current_limit_A": float(s["liquid_current_limit_A"]),
        "lower_voltage_V": info.lower_voltage_V,
        "upper_voltage_V": info.upper_voltage_V,
        "nominal_voltage_V": info.nominal_voltage_V,
        "capacity_Ah": info.nominal_capacity_Ah,
        "volume_m3": info.volume_m3,
        "cooling_area_m2": info.cooling_area_m2,
        "heat_capacity_J_K": info.heat_capacity_J_K,
        "half_thickness_m": float(s["liquid_thermal_half_thickness_m"]),
    }
