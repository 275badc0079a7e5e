"""All-solid-state cell model built on PyBaMM, and the liquid-electrolyte reference run the same way.

Solid-state cell (:func:`build_model`): PyBaMM's Doyle-Fuller-Newman model in its lithium-metal
half-cell configuration (``{"working electrode": "positive"}``: a planar Li-metal electrode with
Butler-Volmer kinetics at its interface), with

- a dense single-ion-conducting solid-electrolyte separator: cation transference number
  :math:`t_+ = 1` and separator porosity 1. The salt conservation equation
  :math:`\\partial_t(\\varepsilon c) = \\nabla\\cdot(D\\nabla c) + (1-t_+) a j/F` then has no
  source and zero-flux boundaries, so :math:`c` stays at its initial, uniform value, the
  diffusion potential :math:`2(1-t_+)RT/F\\,\\nabla\\ln c` vanishes and the separator is a purely
  ohmic layer: :math:`\\Delta\\phi_{sep} = I L_{sep} / \\kappa`;
- a composite cathode: NMC811 particles (Chen et al. 2020, doi:10.1149/1945-7111/ab9050) with
  the solid electrolyte filling the pores, effective ionic conductivity
  :math:`\\kappa_{eff} = \\kappa\\,\\varepsilon^{b}` (Bruggeman 1935, doi:10.1002/andp.19354160705);
- Arrhenius electrolyte conductivity and Li-interface resistance (see
  :mod:`batterylab.solid_state.parameters`), and PyBaMM's lumped thermal model
  :math:`m c_p\\,dT/dt = Q - hA(T - T_{amb})`;
- the lithium-metal thickness, :math:`h(t) = h_0 - \\bar V_{Li}\\,q(t) / (F A)` with
  :math:`q` the discharged charge [C] and :math:`\\bar V_{Li} = 1.3\\times10^{-5}` m3/mol:
  4.85 um per mAh/cm2 (1 mAh/cm2 = 36 000 C/m2; 36 000 / 96 485 x 1.3e-5 = 4.85e-6 m).

Optional contact loss (``contact_loss=True``): a state :math:`a \\in (0, 1]`, the fraction of
the Li | electrolyte interface in contact, scales the interface resistance as :math:`1/a` (and
as :math:`(p/p_{ref})^{-1/2}` with stack pressure). Voids open when the local stripping current
density :math:`i/a` exceeds the pressure-dependent critical current
:math:`i_c = i_{c,ref}\\,p/p_{ref}` (Kasemchainan et al. 2019, doi:10.1038/s41563-019-0438-9:
stripping faster than creep can supply Li leaves voids), and creep or plating closes them:

.. math::

    \\frac{da}{dt} = -a\\,\\frac{\\bar V_{Li}}{F h_v}\\max(i/a - i_c, 0)
    + (1 - a)\\left[\\frac{p/p_{ref}}{\\tau_{creep}} + \\frac{\\bar V_{Li}}{F h_v}\\max(-i, 0)\\right]

with void depth scale :math:`h_v` and creep time :math:`\\tau_{creep}`, model constants without a
primary source (marked so in the parameter files). This is a phenomenological closure, not a
validated void-evolution model.

Both cells are driven by the same controller (:func:`power_control`): the requested power is
followed as closely as the cell allows; the current is limited to ``current_limit_A`` and
derated linearly to zero within ``derate_V`` of either voltage limit and within ``derate_K``
below ``max_temperature_K``, with smooth corners so the DAE solver sees a differentiable
algebraic equation.

Validity: 263-333 K; the lumped thermal model assumes a Biot number below about 0.1 (reported
by :func:`batterylab.solid_state.compare.thermal_summary`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import citations
from ..checks import as_float_array, finite_scalar, positive, temperature_K, time_array
from ..checks import temperature_K as _check_kelvin
from .._deprecation import renamed_kwargs
from ..cell import engine
from ..errors import InputError, RunError, unknown_option
from ..io.results import Result, new_axes
from .parameters import FARADAY_C_MOL, SolidStateCell, liquid_reference, load_cell, pybamm_parameters

_MODEL_CITATIONS = {
    "Sulzer2021": "V. Sulzer, S. G. Marquis, R. Timms, M. Robinson, S. J. Chapman, Python Battery Mathematical "
                  "Modelling (PyBaMM), J. Open Res. Softw. 9 (2021) 14, doi:10.5334/jors.309",
    "Bruggeman1935": "D. A. G. Bruggeman, Ann. Phys. 416 (1935) 636, doi:10.1002/andp.19354160705",
}

#: Variables returned by :func:`simulate` (PyBaMM name -> (python name, units)).
OUTPUT_VARIABLES = {
    "Time [s]": ("time_s", "s"),
    "Current [A]": ("current_A", "A"),
    "Voltage [V]": ("voltage_V", "V"),
    "Volume-averaged cell temperature [K]": ("temperature_K", "K"),
    "Total heating [W]": ("heat_W", "W"),
    "Surface total cooling [W]": ("cooling_W", "W"),
    "Discharge capacity [A.h]": ("discharge_capacity_Ah", "A.h"),
}

#: Units of the other arrays of a run.
_EXTRA_UNITS = {"requested_W": ("W", "Requested power, discharge positive [W]"),
                "requested_A": ("A", "Requested current, discharge positive [A]"),
                "lithium_thickness_m": ("m", "Lithium metal thickness [m]"),
                "contact_fraction": ("1", "Lithium contact area fraction [-]")}


class SolidStateRun(dict, Result):
    """The arrays of one :func:`simulate` run by name (a dict, as before: ``run["voltage_V"]``),
    with the result contract: ``save``, ``summary``, ``plot``, ``to_xarray``.

    Keys: ``time_s``, ``current_A``, ``voltage_V``, ``temperature_K``, ``heat_W``, ``cooling_W``,
    ``discharge_capacity_Ah``, ``requested_W`` or ``requested_A``, (``lithium_thickness_m``,
    ``contact_fraction``), extra variables by their PyBaMM names, ``meta`` (the run's settings) and
    the PyBaMM objects ``_solution``, ``_parameter_values``.
    """

    def _h5_contents(self) -> dict:
        from ..io import Variable

        units = {py: (u, name) for name, (py, u) in OUTPUT_VARIABLES.items()} | _EXTRA_UNITS
        v = {}
        for key, value in self.items():
            if key.startswith("_") or key == "meta":
                continue
            arr = np.asarray(value)
            unit, long = units.get(key, ("", key))
            if arr.ndim == 1 and arr.size == np.asarray(self["time_s"]).size:
                v[key.replace("/", "_")] = Variable(arr, unit, long, ("time_s",))
        meta = self.get("meta", {})
        files = [meta["parameter_file"]] if meta.get("parameter_file") else []
        return {"variables": v, "config": meta, "parameter_files": files,
                "attrs": {"batterylab_result": "solid_state_run", "current_sign_convention": "discharge positive"}}

    def summary(self) -> dict:
        """Duration, voltage range, peak temperature rise, heat, charge throughput."""
        t, v, T = (np.asarray(self[k]) for k in ("time_s", "voltage_V", "temperature_K"))
        out = {
            "duration_s": float(t[-1] - t[0]),
            "min_voltage_V": float(v.min()),
            "max_voltage_V": float(v.max()),
            "max_temperature_K": float(T.max()),
            "temperature_rise_K": float(T.max() - T[0]),
            "heat_J": float(np.trapezoid(self["heat_W"], t)),
            "throughput_Ah": float(np.trapezoid(np.abs(self["current_A"]), t) / 3600.0),
        }
        if "requested_W" in self:
            p = np.asarray(self["current_A"]) * v
            out["power_tracking_rms_error_W"] = float(np.sqrt(np.mean((p - self["requested_W"]) ** 2)))
        return out

    def plot(self, ax=None):
        """Delivered and requested power (or current) over time, temperature on a twin axis; returns ``ax``."""
        ax = new_axes(ax)
        t = np.asarray(self["time_s"])
        if "requested_W" in self:
            ax.plot(t, self["requested_W"], "k-", lw=1.0, label="requested")
            ax.plot(t, np.asarray(self["current_A"]) * np.asarray(self["voltage_V"]), lw=0.8, label="delivered")
            ax.set_ylabel("power [W] (discharge +)")
        else:
            ax.plot(t, self["requested_A"], "k-", lw=1.0, label="requested")
            ax.plot(t, self["current_A"], lw=0.8, label="delivered")
            ax.set_ylabel("current [A] (discharge +)")
        ax.set_xlabel("time [s]")
        ax.legend(fontsize=7, loc="upper left")
        tx = ax.twinx()
        tx.plot(t, self["temperature_K"], color="C3", lw=0.8)
        tx.set_ylabel("cell temperature [K]", color="C3")
        ax.set_title(str(self.get("meta", {}).get("cell", "")))
        return ax


#: Liquid-electrolyte reference cells run through the same controller (batterylab.cell set names).
LIQUID_CELLS = {"LGM50": "LG M50 21700 NMC811/graphite-SiOx (Chen et al. 2020)"}
_LIQUID_ALIASES = {"lgm50": "LGM50", "lg_m50": "LGM50", "m50": "LGM50", "chen2020": "LGM50"}


class SolidStateSimulationError(RunError):
    """The PyBaMM solver stopped before the end of the duty (the message says when and why)."""


@dataclass
class Limits:
    """Operating limits the controller enforces [A, V, K]."""

    current_limit_A: float
    lower_voltage_V: float
    upper_voltage_V: float
    max_temperature_K: float = 333.15
    derate_V: float = 0.05
    derate_K: float = 5.0

    def __post_init__(self):
        positive("current_limit_A", self.current_limit_A, "A")
        finite_scalar("lower_voltage_V", self.lower_voltage_V, low=0.0, high=6.0, unit="V")
        finite_scalar("upper_voltage_V", self.upper_voltage_V, low=0.0, high=6.0, unit="V")
        from ..checks import ordered

        ordered("lower_voltage_V", self.lower_voltage_V, "upper_voltage_V", self.upper_voltage_V, unit="V")
        temperature_K("max_temperature_K", self.max_temperature_K)
        finite_scalar("derate_V", self.derate_V, low=0.0, unit="V")
        finite_scalar("derate_K", self.derate_K, low=0.0, unit="K")


def _smooth_min(a, b, eps):
    import pybamm

    return 0.5 * (a + b - pybamm.sqrt((a - b) ** 2 + eps**2))


def _smooth_max(a, b, eps):
    import pybamm

    return 0.5 * (a + b + pybamm.sqrt((a - b) ** 2 + eps**2))


def _ramp(x, eps=0.02):
    """Smooth clip of x to [0, 1]."""
    return _smooth_min(_smooth_max(x, 0.0, eps), 1.0, eps)


def power_control(time_s, power_W, limits: Limits, *, mode="power"):
    """PyBaMM ``operating mode`` function following a power (or current) request within limits.

    Residual ``I - clip(I_req, -I_chg(V, T), I_dis(V, T))`` with ``I_req = P(t)/V`` (power mode)
    or ``I(t)`` (current mode); ``I_dis = I_max ramp((V - V_min)/dV) ramp((T_max - T)/dT)`` and
    ``I_chg = I_max ramp((V_max - V)/dV) ramp((T_max - T)/dT)``. Discharge positive.
    """
    import pybamm

    interp = pybamm.Interpolant(np.asarray(time_s, float), np.asarray(power_W, float), pybamm.t,
                                name="requested", interpolator="linear")
    Imax, eps_i = limits.current_limit_A, 1e-3 * limits.current_limit_A

    def control(variables):
        I = variables["Current [A]"]
        V = variables["Voltage [V]"]
        T = variables["Volume-averaged cell temperature [K]"]
        req = interp / V if mode == "power" else interp
        t_fac = _ramp((limits.max_temperature_K - T) / limits.derate_K)
        i_dis = Imax * _ramp((V - limits.lower_voltage_V) / limits.derate_V) * t_fac
        i_chg = Imax * _ramp((limits.upper_voltage_V - V) / limits.derate_V) * t_fac
        target = _smooth_min(_smooth_max(req, -i_chg, eps_i), i_dis, eps_i)
        return I - target

    return control


def instantaneous_resistance_ohm(cell: SolidStateCell, temperature_K: float = 298.15, soc: float = 0.5) -> dict:
    """Small-signal resistance of the cell the instant a current starts (no concentration change yet) [Ohm].

    Sum, per unit area, of the Li interface (``R_int``), the Li metal (``L/sigma``), the dense
    separator (``L_s / kappa``) and the composite cathode as a porous electrode with linear
    kinetics (Newman and Tobias, J. Electrochem. Soc. 109 (1962) 1183):

    .. math::

        R_p = \\frac{L}{\\kappa_e + \\sigma_e}\\left[1 + \\frac{2 + (\\kappa_e/\\sigma_e
        + \\sigma_e/\\kappa_e)\\cosh\\nu}{\\nu\\sinh\\nu}\\right], \\qquad
        \\nu^2 = L^2\\,\\frac{a F j_0}{R T}\\left(\\frac{1}{\\kappa_e} + \\frac{1}{\\sigma_e}\\right)

    with :math:`\\kappa_e = \\kappa\\varepsilon^b`, :math:`a = 3\\varepsilon_{am}/r_p` and
    :math:`j_0` the cathode exchange-current density at the SOC's stoichiometry. Returns the
    parts and ``total_ohm`` (area-specific values divided by the electrode area).
    """
    import math

    from .parameters import GAS_CONSTANT_J_MOL_K, arrhenius, interface_resistance_ohm_m2

    citations.register("NewmanTobias1962", "J. S. Newman, C. W. Tobias, Theoretical analysis of current distribution "
                       "in porous electrodes, J. Electrochem. Soc. 109 (1962) 1183 (DOI not checked here)")

    T = _check_kelvin("temperature_K", temperature_K)
    soc = finite_scalar("soc", soc, low=0.0, high=1.0)
    v = cell.values
    F, R = FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K
    Tref = v["reference_temperature_K"]
    kappa = arrhenius(v["electrolyte_conductivity_S_m"], v["electrolyte_activation_energy_J_mol"], T, Tref)
    eps_se, eps_am = v["cathode_electrolyte_volume_fraction"], v["cathode_active_volume_fraction"]
    k_e = kappa * eps_se ** v["bruggeman_exponent"]
    s_e = v["cathode_electronic_conductivity_S_m"]
    x = v["cathode_stoichiometry_at_100_soc"] + (v["cathode_stoichiometry_at_0_soc"] - v["cathode_stoichiometry_at_100_soc"]) * (1 - soc)
    cmax = v["cathode_max_concentration_mol_m3"]
    j0 = (arrhenius(v["cathode_exchange_current_coefficient"], v["cathode_exchange_current_activation_energy_J_mol"], T, Tref)
          * 1000.0**0.5 * (x * cmax) ** 0.5 * (cmax - x * cmax) ** 0.5)
    a = 3 * eps_am / v["cathode_particle_radius_m"]
    L = v["cathode_thickness_m"]
    nu = L * math.sqrt(a * F * j0 / (R * T) * (1 / k_e + 1 / s_e))
    r_cath = L / (k_e + s_e) * (1 + (2 + (k_e / s_e + s_e / k_e) * math.cosh(nu)) / (nu * math.sinh(nu)))
    area = cell.electrode_area_m2
    parts = {
        "lithium_interface_ohm": float(interface_resistance_ohm_m2(cell, T)) / area,
        "lithium_metal_ohm": v["lithium_thickness_m"] / v["lithium_conductivity_S_m"] / area,
        "separator_ohm": v["separator_thickness_m"] / kappa / area,
        "cathode_ohm": r_cath / area,
    }
    parts["total_ohm"] = sum(parts.values())
    return parts


def critical_current_A_m2(cell: SolidStateCell) -> float:
    """Critical stripping current density at the cell's stack pressure, ``i_ref p / p_ref`` [A.m-2]."""
    return cell["critical_stripping_current_A_m2"] * cell["stack_pressure_Pa"] / cell["stack_pressure_reference_Pa"]


def _add_contact_loss(model, cell: SolidStateCell, a):
    """Add the contact-fraction state ``a`` (see the module docstring) to ``model``."""
    import pybamm

    i = model.variables["Current [A]"] / cell.electrode_area_m2  # stripping positive [A.m-2]
    ic = critical_current_A_m2(cell)
    rate = cell["lithium_molar_volume_m3_mol"] / (FARADAY_C_MOL * cell["void_depth_m"])
    eps = 1e-2 * ic
    p_ratio = cell["stack_pressure_Pa"] / cell["stack_pressure_reference_Pa"]
    excess = _smooth_max(i / a - ic, 0.0, eps)
    plating = _smooth_max(-i, 0.0, eps)
    model.rhs[a] = -a * rate * excess + (1 - a) * (p_ratio / cell["creep_recovery_time_s"] + rate * plating)
    model.initial_conditions[a] = pybamm.Scalar(1.0)
    model.variables["Lithium contact area fraction"] = a
    model.variables["Lithium interface local current density [A.m-2]"] = i / a


#: The PyBaMM models the solid-state cell is built on.
KINDS = ("DFN", "SPMe")


def build_model(cell, time_s, request, limits: Limits, *, mode="power", kind="DFN", contact_variable=None):
    """The PyBaMM model of ``cell`` (a :class:`SolidStateCell` or a liquid-cell name) driven by ``request``.

    ``contact_variable`` (a ``pybamm.Variable``, solid-state cells only) adds the contact-loss
    state; the same variable must be given to :func:`pybamm_parameters` as ``contact_fraction``.
    """

    ctrl = power_control(time_s, request, limits, mode=mode)
    if isinstance(cell, SolidStateCell):
        opts = {"working electrode": "positive", "thermal": "lumped", "operating mode": ctrl}
    else:
        opts = {"thermal": "lumped", "operating mode": ctrl}
    if kind not in KINDS:
        raise unknown_option("model kind", kind, KINDS)
    model = engine.pybamm_model(kind, opts, name=f"batterylab {'solid-state' if isinstance(cell, SolidStateCell) else 'liquid'} {kind}")
    if isinstance(cell, SolidStateCell):
        area = cell.electrode_area_m2
        q_C = model.variables["Discharge capacity [A.h]"] * 3600.0
        vm = cell["lithium_molar_volume_m3_mol"]
        model.variables["Lithium metal thickness [m]"] = cell["lithium_thickness_m"] - vm * q_C / (FARADAY_C_MOL * area)
        if contact_variable is not None:
            _add_contact_loss(model, cell, contact_variable)
    elif contact_variable is not None:
        raise InputError("contact_loss applies to solid-state cells only")
    return model


def _liquid_parameters(name, *, ambient_K, h_W_m2K, initial_soc):
    from ..cell import load_parameter_set

    if name not in LIQUID_CELLS:
        raise unknown_option("liquid reference cell", name, LIQUID_CELLS)
    ps = load_parameter_set(name)
    ps.register_citations()
    pv = ps.parameter_values()
    pv.update({
        "Ambient temperature [K]": ambient_K,
        "Initial temperature [K]": ambient_K,
        "Total heat transfer coefficient [W.m-2.K-1]": h_W_m2K,
    })
    pv.set_initial_state(initial_soc)
    return pv


def default_limits(cell, parameter_values=None) -> Limits:
    """Limits of a cell: solid-state from its critical stripping current, LG M50 from its datasheet set."""
    if isinstance(cell, SolidStateCell):
        imax = critical_current_A_m2(cell) * cell.electrode_area_m2
        return Limits(imax, cell["lower_voltage_V"], cell["upper_voltage_V"])
    ref = liquid_reference(cell)
    return Limits(ref["current_limit_A"], ref["lower_voltage_V"], ref["upper_voltage_V"])


def resolve_cell(cell):
    """A :class:`SolidStateCell`, or the name of a liquid reference cell (``"LGM50"``)."""
    if isinstance(cell, SolidStateCell):
        return cell
    key = str(cell).lower().replace("-", "_").replace(" ", "_")
    if key in _LIQUID_ALIASES:
        return _LIQUID_ALIASES[key]
    if str(cell) in LIQUID_CELLS:
        return str(cell)
    return load_cell(cell)


@renamed_kwargs(ambient_K="ambient_temperature_K")
def simulate(cell, time_s, *, power_W=None, current_A=None, ambient_temperature_K=298.15, h_W_m2K=10.0,
             initial_soc=0.5, limits: Limits | None = None, kind="DFN", t_eval_s=None,
             extra_variables=(), rtol=1e-4, atol=1e-6, mesh_points: int | None = None,
             contact_loss: bool = False):
    """Run the duty on ``cell`` and return arrays (discharge positive).

    Parameters
    ----------
    cell : SolidStateCell, str
        A solid-state set (``"sulfide"``, ``"llzo"``, a JSON path, a loaded cell) or ``"LGM50"``
        (the liquid-electrolyte reference, :mod:`batterylab.cell` set).
    time_s : array [s]
        Times of the request samples (linear interpolation between them).
    power_W, current_A : array [W] or [A]
        Requested power or current, discharge positive (give exactly one).
    ambient_temperature_K : float [K]
    h_W_m2K : float [W.m-2.K-1]
        Heat transfer coefficient to ambient.
    initial_soc : float [1]
    limits : Limits, optional
        Defaults to :func:`default_limits`.
    t_eval_s : array [s], optional
        Output times (defaults to ``time_s``).
    rtol, atol : float
        IDAKLU solver tolerances (tighten for invariant checks).
    mesh_points : int, optional
        Finite-volume points per electrode/separator domain and per particle (PyBaMM's defaults
        when ``None``).
    contact_loss : bool
        Solid-state cells: add the void-formation / contact-area state (output
        ``contact_fraction``). The default limits hold the current at the critical stripping
        current, where no voids form; pass wider ``limits`` to see contact loss.

    Returns
    -------
    dict of numpy arrays (``time_s``, ``current_A``, ``voltage_V``, ``temperature_K``, ``heat_W``,
    ``cooling_W``, ``discharge_capacity_Ah``, ``requested_W`` or ``requested_A``, and for
    solid-state cells ``lithium_thickness_m``), plus ``"meta"``.
    """
    import pybamm

    for key, text in _MODEL_CITATIONS.items():
        citations.register(key, text)
    t = time_array("time_s", time_s)
    if (power_W is None) == (current_A is None):
        raise InputError("give exactly one of power_W and current_A")
    mode = "power" if power_W is not None else "current"
    req = as_float_array("power_W" if mode == "power" else "current_A", power_W if mode == "power" else current_A)
    if req.shape != t.shape:
        raise InputError(f"{'power_W' if mode == 'power' else 'current_A'} has {req.size} samples but time_s has "
                         f"{t.size}; expected one value per sample")
    ambient_K = temperature_K("ambient_temperature_K", ambient_temperature_K)
    h_W_m2K = positive("h_W_m2K", h_W_m2K, "W.m-2.K-1")
    initial_soc = finite_scalar("initial_soc", initial_soc, low=0.0, high=1.0)
    if limits is not None and not isinstance(limits, Limits):
        raise InputError(f"limits must be a Limits or None, got {type(limits).__name__} {limits!r:.60}")
    from .. import checks

    checks.choice("kind", kind, KINDS)
    positive("rtol", rtol)
    positive("atol", atol)
    checks.boolean("contact_loss", contact_loss)
    if isinstance(extra_variables, (str, bytes)) or not isinstance(extra_variables, (list, tuple)) \
            or not all(isinstance(v, str) for v in extra_variables):
        raise InputError(f"extra_variables must be a list of PyBaMM variable names, got "
                         f"{type(extra_variables).__name__} {extra_variables!r:.60}")
    if mesh_points is not None:
        checks.integer("mesh_points", mesh_points, low=3)
    if t_eval_s is not None:
        time_array("t_eval_s", t_eval_s)
    cell = resolve_cell(cell)
    contact_var = None
    if contact_loss:
        if not isinstance(cell, SolidStateCell):
            raise InputError(f"contact_loss applies to solid-state cells only, got cell {cell!r}")
        contact_var = pybamm.Variable("Lithium contact area fraction", bounds=(0.0, 1.0))
    if isinstance(cell, SolidStateCell):
        pv = pybamm_parameters(cell, ambient_temperature_K=ambient_K, h_W_m2K=h_W_m2K, initial_soc=initial_soc,
                               contact_fraction=contact_var)
    else:
        pv = _liquid_parameters(cell, ambient_K=ambient_K, h_W_m2K=h_W_m2K, initial_soc=initial_soc)
    if limits is None:
        limits = default_limits(cell, pv)
    pv.update({"Lower voltage cut-off [V]": limits.lower_voltage_V - 0.3,
               "Upper voltage cut-off [V]": limits.upper_voltage_V + 0.3}, check_already_exists=False)
    model = build_model(cell, t, req, limits, mode=mode, kind=kind, contact_variable=contact_var)
    t_eval = t if t_eval_s is None else time_array("t_eval_s", t_eval_s)
    if t_eval[0] < t[0] or t_eval[-1] > t[-1]:
        raise InputError(f"t_eval_s spans {t_eval[0]}..{t_eval[-1]} s but the request covers only {t[0]}..{t[-1]} s")
    mesh = None
    if mesh_points is not None:
        n = int(mesh_points)
        if n < 3:
            raise InputError(f"mesh_points must be >= 3, got {mesh_points}")
        mesh = {"x_n": n, "x_s": n, "x_p": n, "r_n": n, "r_p": n}
    what = f"the duty on {getattr(cell, 'name', cell)}"
    sim = engine.simulation(model, pv, solver=engine.solver(rtol, atol), mesh=mesh, what=what,
                            error=SolidStateSimulationError)
    sol = engine.solve(sim, what, model=f"the {kind} model", parameters=f"the {getattr(cell, 'name', cell)} parameters",
                       error=SolidStateSimulationError, t_eval=[float(t_eval[0]), float(t_eval[-1])], t_interp=t_eval)
    if sol.t[-1] < t_eval[-1] - 1e-6 * max(1.0, abs(t_eval[-1])):
        reason = getattr(sol, "termination", "unknown")
        raise SolidStateSimulationError(
            f"the run on {getattr(cell, 'name', cell)} stopped at t = {sol.t[-1]:.1f} s of {t_eval[-1]:.1f} s "
            f"({reason}); the controller keeps the voltage inside "
            f"{limits.lower_voltage_V}-{limits.upper_voltage_V} V, so check the request and initial_soc")
    out = SolidStateRun()
    for name, (py, _) in OUTPUT_VARIABLES.items():
        out[py] = np.asarray(sol[name].entries, dtype=np.float64).reshape(-1)
    out["requested_W" if mode == "power" else "requested_A"] = np.interp(out["time_s"], t, req)
    if isinstance(cell, SolidStateCell):
        out["lithium_thickness_m"] = np.asarray(sol["Lithium metal thickness [m]"].entries, float).reshape(-1)
    if contact_loss:
        out["contact_fraction"] = np.asarray(sol["Lithium contact area fraction"].entries, float).reshape(-1)
    for name in extra_variables:
        out[name] = np.asarray(sol[name].entries, dtype=np.float64)
    out["meta"] = {
        "cell": cell.name if isinstance(cell, SolidStateCell) else cell,
        "kind": kind,
        "mode": mode,
        "rtol": rtol,
        "atol": atol,
        "mesh_points": mesh_points,
        "contact_loss": contact_loss,
        "limits": limits.__dict__.copy(),
        "ambient_temperature_K": ambient_K,
        "h_W_m2K": h_W_m2K,
        "initial_soc": initial_soc,
        "parameter_file": str(cell.path) if isinstance(cell, SolidStateCell) and cell.path else None,
        "nominal_capacity_Ah": float(pv["Nominal cell capacity [A.h]"]),
    }
    out["_solution"] = sol
    out["_parameter_values"] = pv
    return out
