"""Thermal materials for phase-change storage: shipped PCMs and mixture-rule composites.

Each material is a JSON file in ``parameter_sets/materials/`` with its citation (DOI), units of
every property, licence and validity range. A composite names its PCM, the PCM mass fraction
``w`` and the matrix; its properties follow from mixture rules:

- density (volume additive): ``1/rho = w/rho_pcm + (1 - w)/rho_matrix`` (per phase);
- specific heat (mass weighted): ``c = w c_pcm + (1 - w) c_matrix``;
- latent heat scaled by the PCM mass fraction: ``L = w L_pcm``;
- conductivity between the parallel (upper) and series (lower) bounds of the volume fraction
  ``phi`` of the matrix: ``k_par = phi k_m + (1 - phi) k_p`` and
  ``k_ser = 1 / (phi/k_m + (1 - phi)/k_p)`` (Wiener bounds; the composite's ``conductivity_bound``
  picks which one the model uses).

The volumetric energy densities quoted use the liquid density (the container must hold the
melt) and, for comparison, the solid density.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import parameter_sets as _ps
from ..errors import InputError, ParameterError, unknown_option
from .. import citations
from ..checks import finite_scalar, positive

J_PER_KWH = 3.6e6

#: Bound names for composite conductivity.
BOUNDS = ("series", "parallel")


@dataclass(frozen=True)
class Material:
    """A phase-change (or sensible-only, ``latent_heat_J_kg = 0``) material.

    Attributes carry their units; temperatures in kelvin. ``conductivity_bounds_W_m_K`` is set
    for composites: ``(series, parallel)`` [W m-1 K-1].
    """

    name: str
    solidus_K: float
    liquidus_K: float
    latent_heat_J_kg: float
    density_solid_kg_m3: float
    density_liquid_kg_m3: float
    specific_heat_solid_J_kg_K: float
    specific_heat_liquid_J_kg_K: float
    conductivity_solid_W_m_K: float
    conductivity_liquid_W_m_K: float
    source: str = ""
    path: Path | None = None
    conductivity_bounds_W_m_K: tuple | None = None
    notes: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for name in ("density_solid_kg_m3", "density_liquid_kg_m3", "specific_heat_solid_J_kg_K",
                     "specific_heat_liquid_J_kg_K", "conductivity_solid_W_m_K",
                     "conductivity_liquid_W_m_K"):
            positive(f"{self.name}: {name}", getattr(self, name))
        finite_scalar(f"{self.name}: latent_heat_J_kg", self.latent_heat_J_kg, low=0.0, unit="J kg-1")
        finite_scalar(f"{self.name}: solidus_K", self.solidus_K, low=173.15, high=473.15, unit="K")
        finite_scalar(f"{self.name}: liquidus_K", self.liquidus_K, low=self.solidus_K, high=473.15,
                      unit="K (and >= solidus_K)")

    # --- kernel interface -------------------------------------------------------------------
    def vector(self, density: str = "solid") -> np.ndarray:
        """The kernels' material vector ``[rho, c_s, c_l, L, T_sol, T_liq, k_s, k_l]``.

        ``density`` picks the node-mass density: ``"solid"`` (default) or ``"liquid"``.
        """
        rho = {"solid": self.density_solid_kg_m3, "liquid": self.density_liquid_kg_m3}
        if not isinstance(density, str) or density not in rho:
            raise unknown_option("density", density, rho)
        return np.array([rho[density], self.specific_heat_solid_J_kg_K,
                         self.specific_heat_liquid_J_kg_K, self.latent_heat_J_kg, self.solidus_K,
                         self.liquidus_K, self.conductivity_solid_W_m_K,
                         self.conductivity_liquid_W_m_K], dtype=np.float64)

    def enthalpy_J_kg(self, temperature_K) -> np.ndarray:
        """Specific enthalpy [J kg-1] (zero: solid at the solidus) at ``temperature_K`` [K]."""
        from ..kernels.pcm import enthalpy_of_temperature

        t = np.atleast_1d(np.asarray(temperature_K, dtype=np.float64))
        return enthalpy_of_temperature(t, self.vector())

    def temperature_K(self, enthalpy_J_kg) -> tuple[np.ndarray, np.ndarray]:
        """Temperature [K] and liquid fraction [-] at specific enthalpy [J kg-1]."""
        from ..kernels.pcm import temperature_of_enthalpy

        h = np.atleast_1d(np.asarray(enthalpy_J_kg, dtype=np.float64))
        return temperature_of_enthalpy(h, self.vector())

    # --- derived quantities -----------------------------------------------------------------
    def stored_energy_J_kg(self, low_K: float, high_K: float) -> float:
        """Heat stored per kg between ``low_K`` and ``high_K`` [J kg-1] (latent + sensible)."""
        h = self.enthalpy_J_kg([low_K, high_K])
        return float(h[1] - h[0])

    def latent_energy_density_kWh_m3(self, density: str = "liquid") -> float:
        """Latent heat per unit volume [kWh m-3], per liquid (default) or solid volume."""
        rho = self.density_liquid_kg_m3 if density == "liquid" else self.density_solid_kg_m3
        return self.latent_heat_J_kg * rho / J_PER_KWH

    def energy_density_kWh_m3(self, window_K: float = 5.0) -> float:
        """Heat stored per liquid volume [kWh m-3] from ``window_K`` below the solidus to
        ``window_K`` above the liquidus (latent + sensible)."""
        q = self.stored_energy_J_kg(self.solidus_K - window_K, self.liquidus_K + window_K)
        return q * self.density_liquid_kg_m3 / J_PER_KWH

    def with_latent_heat(self, latent_heat_J_kg: float) -> "Material":
        """A copy with another latent heat (0 gives a sensible-only material)."""
        return replace(self, latent_heat_J_kg=float(latent_heat_J_kg), name=f"{self.name} (L={latent_heat_J_kg:g})")


def _value(entry, what: str, file: Path) -> float:
    try:
        return float(entry["value"])
    except (KeyError, TypeError, ValueError):
        raise ParameterError(f"{file.name}: {what} must be an object with a numeric 'value', got {entry!r}") from None


def available() -> dict[str, Path]:
    """Shipped materials: key (file stem) -> path."""
    return {p.stem: p for p in _ps.listing("materials")}


def load_material(name: str, *, conductivity_bound: str | None = None) -> Material:
    """Load a shipped material by key (``"rt28hc"``, ``"rt35"``, ``"rt28hc_expanded_graphite"``)
    or by a path to a JSON file of the same layout.

    ``conductivity_bound`` (composites only): ``"series"`` or ``"parallel"``; default: the one
    named in the file.
    """
    files = available()
    if conductivity_bound is not None and conductivity_bound not in BOUNDS:
        raise unknown_option("conductivity_bound", conductivity_bound, BOUNDS)
    if not isinstance(name, (str, Path)):
        raise unknown_option("material name", name, files)
    path = Path(name)
    if name in files:
        path = files[name]
    elif not (path.suffix == ".json" and path.exists()):
        raise unknown_option("material name", name, files)
    else:
        from ..checks import text_file

        text_file("name", path, what="material JSON")
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{path}: not valid JSON: {exc}") from None
    cite = data.get("citation", {})
    citations.register(f"material:{data.get('name', path.stem)}", f"{cite.get('text', '')} doi:{cite.get('doi', '')}")
    kind = data.get("kind")
    if kind == "pcm":
        props = data.get("properties", {})
        required = ["solidus_temperature_K", "liquidus_temperature_K", "latent_heat_J_kg",
                    "density_solid_kg_m3", "density_liquid_kg_m3", "specific_heat_solid_J_kg_K",
                    "specific_heat_liquid_J_kg_K", "conductivity_solid_W_m_K", "conductivity_liquid_W_m_K"]
        missing = [k for k in required if k not in props]
        if missing:
            raise ParameterError(f"{path.name}: missing properties {missing}; expected all of {required}")
        v = {k: _value(props[k], k, path) for k in required}
        return Material(
            name=data.get("name", path.stem), solidus_K=v["solidus_temperature_K"],
            liquidus_K=v["liquidus_temperature_K"], latent_heat_J_kg=v["latent_heat_J_kg"],
            density_solid_kg_m3=v["density_solid_kg_m3"], density_liquid_kg_m3=v["density_liquid_kg_m3"],
            specific_heat_solid_J_kg_K=v["specific_heat_solid_J_kg_K"],
            specific_heat_liquid_J_kg_K=v["specific_heat_liquid_J_kg_K"],
            conductivity_solid_W_m_K=v["conductivity_solid_W_m_K"],
            conductivity_liquid_W_m_K=v["conductivity_liquid_W_m_K"],
            source=cite.get("doi", ""), path=path, notes={"validity": data.get("validity", "")},
        )
    if kind == "composite":
        pcm = load_material(data["pcm"])
        mx = data.get("matrix", {})
        bound = conductivity_bound or data.get("conductivity_bound", "series")
        mat = composite(
            pcm, pcm_mass_fraction=_value(data.get("pcm_mass_fraction"), "pcm_mass_fraction", path),
            matrix_density_kg_m3=_value(mx.get("density_kg_m3"), "matrix.density_kg_m3", path),
            matrix_specific_heat_J_kg_K=_value(mx.get("specific_heat_J_kg_K"), "matrix.specific_heat_J_kg_K", path),
            matrix_conductivity_W_m_K=_value(mx.get("conductivity_W_m_K"), "matrix.conductivity_W_m_K", path),
            conductivity_bound=bound, name=data.get("name", path.stem),
        )
        return replace(mat, source=cite.get("doi", ""), path=path,
                       notes={"validity": data.get("validity", ""), "pcm_path": str(pcm.path)})
    raise ParameterError(f"{path.name}: 'kind' must be 'pcm' or 'composite', got {kind!r}")


def conductivity_bounds(phi_matrix: float, k_matrix: float, k_pcm: float) -> tuple[float, float]:
    """Series (lower) and parallel (upper) bounds [W m-1 K-1] for matrix volume fraction ``phi``."""
    k_par = phi_matrix * k_matrix + (1.0 - phi_matrix) * k_pcm
    k_ser = 1.0 / (phi_matrix / k_matrix + (1.0 - phi_matrix) / k_pcm)
    return k_ser, k_par


def composite(pcm: Material, *, pcm_mass_fraction: float, matrix_density_kg_m3: float,
              matrix_specific_heat_J_kg_K: float, matrix_conductivity_W_m_K: float,
              conductivity_bound: str = "series", name: str | None = None) -> Material:
    """A PCM / matrix composite by mixture rules (module docstring).

    Parameters
    ----------
    pcm : the PCM
    pcm_mass_fraction : PCM mass fraction ``w`` [-], 0 < w <= 1
    matrix_density_kg_m3, matrix_specific_heat_J_kg_K, matrix_conductivity_W_m_K : matrix
        (skeleton) properties [kg m-3], [J kg-1 K-1], [W m-1 K-1]
    conductivity_bound : ``"series"`` (lower bound) or ``"parallel"`` (upper bound)
    """
    if name is not None and not isinstance(name, str):
        raise InputError(f"name must be a string or None, got {type(name).__name__} {name!r:.60}")
    if not isinstance(pcm, Material):
        raise InputError(f"pcm must be a Material (see load_material), got {type(pcm).__name__} {pcm!r:.60}")
    w = finite_scalar("pcm_mass_fraction", pcm_mass_fraction, low=0.0, high=1.0, inclusive=True)
    if w == 0.0:
        raise ParameterError("pcm_mass_fraction must be > 0 (a composite without PCM stores no latent heat)")
    if conductivity_bound not in BOUNDS:
        raise unknown_option("conductivity_bound", conductivity_bound, BOUNDS)
    rho_m = positive("matrix_density_kg_m3", matrix_density_kg_m3, "kg m-3")
    c_m = positive("matrix_specific_heat_J_kg_K", matrix_specific_heat_J_kg_K, "J kg-1 K-1")
    k_m = positive("matrix_conductivity_W_m_K", matrix_conductivity_W_m_K, "W m-1 K-1")

    def rho(rho_p):
        return 1.0 / (w / rho_p + (1.0 - w) / rho_m)

    def phi(rho_p):  # matrix volume fraction
        return ((1.0 - w) / rho_m) / (w / rho_p + (1.0 - w) / rho_m)

    b_s = conductivity_bounds(phi(pcm.density_solid_kg_m3), k_m, pcm.conductivity_solid_W_m_K)
    b_l = conductivity_bounds(phi(pcm.density_liquid_kg_m3), k_m, pcm.conductivity_liquid_W_m_K)
    i = BOUNDS.index(conductivity_bound)
    return Material(
        name=name or f"{pcm.name}+matrix({w:g})", solidus_K=pcm.solidus_K, liquidus_K=pcm.liquidus_K,
        latent_heat_J_kg=w * pcm.latent_heat_J_kg,
        density_solid_kg_m3=rho(pcm.density_solid_kg_m3), density_liquid_kg_m3=rho(pcm.density_liquid_kg_m3),
        specific_heat_solid_J_kg_K=w * pcm.specific_heat_solid_J_kg_K + (1.0 - w) * c_m,
        specific_heat_liquid_J_kg_K=w * pcm.specific_heat_liquid_J_kg_K + (1.0 - w) * c_m,
        conductivity_solid_W_m_K=b_s[i], conductivity_liquid_W_m_K=b_l[i],
        conductivity_bounds_W_m_K=(b_s[0], b_s[1]),
    )


TABLE_HEADER = ("key", "name", "melting [degC]", "L [kJ/kg]", "rho s/l [kg/m3]", "k s/l [W/m/K]",
                "k bounds [W/m/K]", "latent [kWh/m3] (liquid vol.)", "latent [kWh/m3] (solid vol.)",
                "stored +-5 K [kWh/m3]", "source (DOI)")


def materials_table() -> list[tuple]:
    """One row per shipped material (columns :data:`TABLE_HEADER`)."""
    rows = []
    for key in available():
        m = load_material(key)
        bounds = "-"
        if m.conductivity_bounds_W_m_K is not None:
            bounds = f"{m.conductivity_bounds_W_m_K[0]:.3g} to {m.conductivity_bounds_W_m_K[1]:.3g}"
        rows.append((
            key, m.name, f"{m.solidus_K - 273.15:.0f} to {m.liquidus_K - 273.15:.0f}",
            f"{m.latent_heat_J_kg / 1e3:.1f}", f"{m.density_solid_kg_m3:.0f}/{m.density_liquid_kg_m3:.0f}",
            f"{m.conductivity_solid_W_m_K:.3g}/{m.conductivity_liquid_W_m_K:.3g}", bounds,
            f"{m.latent_energy_density_kWh_m3('liquid'):.1f}", f"{m.latent_energy_density_kWh_m3('solid'):.1f}",
            f"{m.energy_density_kWh_m3(5.0):.1f}", m.source,
        ))
    return rows
