"""PyBaMM SPM / SPMe / DFN electro-thermal cell models behind a small, checked API.

>>> from batterylab.cell import CellModel                       # doctest: +SKIP
>>> cell = CellModel("LGM50", model="SPMe", thermal="lumped")
>>> r = cell.run_experiment(["Discharge at 1C until 2.5 V"], ambient_temperature_K=298.15)
>>> r.voltage_V[-1], r.temperature_K.max()

The electrochemistry is PyBaMM's (Sulzer et al. 2021, doi:10.5334/jors.309): the
Doyle-Fuller-Newman model (DFN; Doyle, Fuller, Newman 1993, doi:10.1149/1.2221597), the single
particle model with electrolyte (SPMe; Marquis et al. 2019, doi:10.1149/2.0341915jes) and the
single particle model (SPM). The DFN solves, through the cell thickness x and the particle
radius r: solid diffusion ``dc_s/dt = (1/r^2) d/dr (r^2 D_s dc_s/dr)``; electrolyte
``eps dc_e/dt = d/dx (D_e,eff dc_e/dx) + (1 - t+) a j / F``; charge conservation in solid and
electrolyte; Butler-Volmer kinetics ``j = 2 j0 sinh(F eta / 2RT)`` with
``eta = phi_s - phi_e - U(c_s,surf)``. The SPMe and SPM are its asymptotic reductions for small
electrolyte and solid-potential variations (valid to about 2-3C for typical cells; Marquis et
al. 2019). The lumped thermal model solves ``C dT/dt = Q - h A (T - T_amb)`` with C the
layer-averaged volumetric heat capacity times the cell volume [J.K-1] and Q the ohmic,
irreversible, reversible and mixing heat [W]; ``x-full`` resolves temperature through the cell
thickness. Validity: each parameter set's C-rate and temperature range (checked).

Current and power are **discharge positive**.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import checks
from ..errors import InputError, ParameterError
from . import engine
from . import options as _opts
from .engine import CellSimulationError  # noqa: F401  (public here: batterylab.cell.CellSimulationError)
from .parameters import ParameterSet, check_known, load_parameter_set
from .result import CellResult, EarlyStopWarning, user_stacklevel


#: Why a shipped set may divide by zero, and what to do.
_ZERO_HINT = (" (BPX sets, for example, have no current-collector thickness, which thermal='x-lumped'/'x-full' "
              "need); use thermal='lumped' or add the parameters with parameters=...")


def _scalar_or_none(value):
    return float(value) if isinstance(value, (int, float)) else None


def _citations(model: str) -> None:
    from .. import citations

    citations.register("Sulzer2021", "V. Sulzer et al., Python Battery Mathematical Modelling (PyBaMM), J. Open Res. Softw. 9 (2021) 14, doi:10.5334/jors.309")
    if model == "DFN":
        citations.register("Doyle1993", "M. Doyle, T. F. Fuller, J. Newman, Modeling of galvanostatic charge and discharge of the lithium/polymer/insertion cell, J. Electrochem. Soc. 140 (1993) 1526, doi:10.1149/1.2221597")
    else:
        citations.register("Marquis2019", "S. G. Marquis et al., An asymptotic derivation of a single particle model with electrolyte, J. Electrochem. Soc. 166 (2019) A3693, doi:10.1149/2.0341915jes")


class CellModel:
    """A configured cell model: parameter set + PyBaMM model + thermal and degradation options.

    Parameters
    ----------
    cell : str or path
        Shipped parameter-set name (see :func:`batterylab.cell.list_cells`, e.g. ``"LGM50"``), or
        the path of a BPX JSON file or a batterylab cell JSON file.
    model : {"SPM", "SPMe", "DFN"}
    thermal : {"isothermal", "lumped", "x-lumped", "x-full"}
        ``x-lumped``/``x-full`` need per-layer thermal data (``LGM50``, ``LFP26650`` and the
        validation sets have it; the BPX sets do not).
    sei, lithium_plating, loss_of_active_material : str, optional
        PyBaMM's ``"SEI"``, ``"lithium plating"`` and ``"loss of active material"`` option values
        (e.g. ``"solvent-diffusion limited"``, ``"irreversible"``, ``"stress-driven"``); typos raise
        :class:`~batterylab.errors.OptionError` listing the valid values.
    options : dict, optional
        Any further PyBaMM model options (keys and values validated the same way).
    parameters : dict, optional
        PyBaMM-named parameter values that replace the set's (e.g.
        ``{"Total heat transfer coefficient [W.m-2.K-1]": 25.0}``); a name the set does not have
        raises :class:`~batterylab.errors.ParameterError` with close matches, unless
        ``allow_new_parameters=True`` (to add, e.g., degradation parameters to a BPX set).
    mesh : {"coarse", "default", "fine"} or dict
        Points per domain (``x_n, x_s, x_p, r_n, r_p``).
    check_validity : bool
        If True (default), a C-rate or ambient temperature outside the set's validity range
        raises :class:`~batterylab.errors.InputError`.
    """

    def __init__(
        self,
        cell="LGM50",
        model: str = "SPMe",
        thermal: str = "isothermal",
        *,
        sei: str | None = None,
        lithium_plating: str | None = None,
        loss_of_active_material: str | None = None,
        options: dict | None = None,
        parameters: dict | None = None,
        mesh="default",
        check_validity: bool = True,
        allow_new_parameters: bool = False,
    ):
        self.allow_new_parameters = bool(allow_new_parameters)
        self.parameter_set: ParameterSet = load_parameter_set(cell)
        self.model_name = _opts.model_name(model)
        self.thermal = thermal
        self.degradation = {
            "sei": sei,
            "lithium_plating": lithium_plating,
            "loss_of_active_material": loss_of_active_material,
        }
        if options is not None and not isinstance(options, dict):
            raise InputError(f"options must be a dict of PyBaMM options, got {type(options).__name__} {options!r:.60}")
        self.extra_options = dict(options or {})
        # Validate everything now (cheap) so a typo fails at construction, not at run time.
        self.options = _opts.build_options(thermal, self.degradation, self.extra_options)
        self.var_pts_spec = _opts.mesh_points(mesh)
        self.mesh = mesh
        if parameters is not None and not isinstance(parameters, dict):
            raise InputError(f"parameters must be a dict of PyBaMM-named values, got {type(parameters).__name__}")
        self.parameters = dict(parameters or {})
        for key in self.parameters:
            if not isinstance(key, str):
                raise InputError(f"parameters must be keyed by PyBaMM parameter names, got {type(key).__name__} {key!r}")
        self.check_validity = checks.boolean("check_validity", check_validity)
        checks.boolean("allow_new_parameters", allow_new_parameters)
        self._pv = None
        self._capacity = None
        if self.parameters:
            self.parameter_values()  # an unknown parameter name fails here (with close matches), not at run time
        self._pybamm_model()  # incompatible option combinations fail here, not at run time

    # -- parameter values ---------------------------------------------------------------------
    def parameter_values(self):
        """A fresh copy of the ``pybamm.ParameterValues`` (set + ``parameters`` overrides)."""
        if self._pv is None:
            pv = self.parameter_set.parameter_values()
            if self.parameters:
                if not self.allow_new_parameters:
                    check_known(pv, self.parameters, f"parameters for set {self.parameter_set.name!r}",
                                "pass allow_new_parameters=True to add a parameter the set lacks")
                pv.update(self.parameters)
            self._pv = pv
        return self._pv.copy()

    @property
    def capacity_Ah(self) -> float:
        """Nominal capacity of the parameter set [A.h]."""
        if self._capacity is None:
            self._capacity = float(self.parameter_values()["Nominal cell capacity [A.h]"])
            if not self._capacity > 0:
                raise ParameterError(
                    f"parameter set {self.parameter_set.name!r}: 'Nominal cell capacity [A.h]' must be > 0, got {self._capacity}"
                )
        return self._capacity

    @property
    def nominal_voltage_V(self) -> float:
        ps = self.parameter_set
        if ps.nominal_voltage_V:
            return float(ps.nominal_voltage_V)
        pv = self.parameter_values()
        return 0.5 * (float(pv["Lower voltage cut-off [V]"]) + float(pv["Upper voltage cut-off [V]"]))

    def info(self):
        """:class:`batterylab.cell.CellInfo` of the parameter set."""
        from .parameters import cell_info

        return cell_info(self.parameter_set)

    # -- checks -------------------------------------------------------------------------------
    def _check_c_rate(self, name: str, c_rate: float, value_text: str) -> None:
        limit = float(self.parameter_set.validity["c_rate_max"])
        if self.check_validity and c_rate > limit * (1 + 1e-9):
            raise InputError(
                f"{name}: {value_text} means {c_rate:.3g}C for {self.parameter_set.name} "
                f"({self.capacity_Ah:g} Ah), beyond the parameter set's validity of at most {limit:g}C "
                "(pass check_validity=False to extrapolate)"
            )

    def _ambient(self, ambient_temperature_K, n_samples: int | None = None):
        """A checked ambient temperature [K]: a number, or (profiles only) an array per sample."""
        if ambient_temperature_K is None:
            return None
        if np.ndim(ambient_temperature_K) == 0:
            T = checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
            Ts = np.array([T])
        else:
            if n_samples is None:
                raise InputError(
                    "ambient_temperature_K must be one number [K] for an experiment; a time series "
                    "is accepted with run_current / run_power (one value per time_s sample)"
                )
            Ts = checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
            if Ts.size != n_samples:
                raise InputError(
                    f"ambient_temperature_K has {Ts.size} values but time_s has {n_samples}; give one "
                    "number or one value per sample [K]"
                )
            T = Ts
        v = self.parameter_set.validity
        lo, hi = float(v["temperature_min_K"]), float(v["temperature_max_K"])
        bad = (Ts < lo) | (Ts > hi)
        if self.check_validity and bad.any():
            i = int(np.flatnonzero(bad)[0])
            where = "" if Ts.size == 1 else f"[{i}]"
            raise InputError(
                f"ambient_temperature_K{where} = {Ts[i]} K is outside the validity of parameter set "
                f"{self.parameter_set.name} ({lo} to {hi} K); pass check_validity=False to extrapolate"
            )
        return T

    @staticmethod
    def _initial_soc(initial_soc) -> float | None:
        if initial_soc is None:
            return None
        return checks.finite_scalar("initial_soc", initial_soc, low=0.0, high=1.0, unit="(fraction)")

    def _soc_of_set(self, pv) -> float:
        """Initial SOC implied by the set's initial concentrations (for ``initial_soc=None``).

        SOC = (x_init - x_0) / (x_100 - x_0) with the negative-electrode stoichiometries at 0 % and
        100 % SOC from PyBaMM's electrode state-of-health solver; NaN if not computable.
        """
        import pybamm

        try:
            x0, x100, _, _ = pybamm.lithium_ion.get_min_max_stoichiometries(pv)
            c = pv["Initial concentration in negative electrode [mol.m-3]"]
            cmax = pv["Maximum concentration in negative electrode [mol.m-3]"]
            return (float(c) / float(cmax) - x0) / (x100 - x0)
        except Exception:  # sets with position-dependent initial concentrations
            return float("nan")

    def _prepared(self, ambient_temperature_K, initial_temperature_K, t_rel=None):
        pv = self.parameter_values()
        T = self._ambient(ambient_temperature_K, None if t_rel is None else t_rel.size)
        if isinstance(T, np.ndarray):
            import pybamm

            t_knots, T_knots = t_rel.copy(), T.copy()

            def ambient(y, z, t):  # PyBaMM's signature: position across/along the electrode, time
                return pybamm.Interpolant(t_knots, T_knots, t, interpolator="linear")

            pv["Ambient temperature [K]"] = ambient
            pv["Initial temperature [K]"] = float(T[0])
        elif T is not None:
            pv["Ambient temperature [K]"] = T
            pv["Initial temperature [K]"] = T
        if initial_temperature_K is not None:
            pv["Initial temperature [K]"] = checks.temperature_K("initial_temperature_K", initial_temperature_K)
        return pv

    # -- model building -----------------------------------------------------------------------
    def _pybamm_model(self, operating_mode: str | None = None):
        opts = _opts.build_options(self.thermal, self.degradation, self.extra_options, operating_mode)
        return engine.pybamm_model(self.model_name, opts)

    def simulation(self, parameter_values=None, *, operating_mode: str | None = None, experiment=None, solver=None,
                   what: str = "simulation"):
        """A ``pybamm.Simulation`` of this configured model: its options, mesh and (by default) its
        parameter values, for a caller that drives PyBaMM with its own input parameters or loop
        (:mod:`batterylab.lifetime` re-solves one period with the aged cell's inputs).

        ``parameter_values`` replaces the set's (start from :meth:`parameter_values`);
        ``operating_mode`` is PyBaMM's (``"current"``, ``"power"``, ...); ``experiment`` a
        ``pybamm.Experiment``; ``solver`` a PyBaMM solver (default: PyBaMM's for the model);
        ``what`` names the run in the message of a set-up failure.
        """
        pv = self.parameter_values() if parameter_values is None else parameter_values
        return engine.simulation(self._pybamm_model(operating_mode), pv, experiment=experiment, solver=solver,
                                 mesh=self.var_pts_spec, what=what)

    def config(self, **run) -> dict:
        """JSON-able configuration of a run (stored in result files)."""
        return {
            "model": self.model_name,
            "thermal": self.thermal,
            "options": {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()},
            "mesh": self.var_pts_spec,
            "parameter_set": self.parameter_set.config(),
            "parameter_overrides": {
                k: (v if isinstance(v, (int, float, str)) else repr(v)) for k, v in self.parameters.items()
            },
            "check_validity": self.check_validity,
            "current_sign_convention": "discharge positive",
            **run,
        }

    def _solve(self, sim, what: str, **kwargs):
        return engine.solve(sim, what, model=f"the {self.model_name} model with options {self.options}",
                            parameters=f"parameter set {self.parameter_set.name!r}", zero_hint=_ZERO_HINT, **kwargs)

    def _result(self, sol, *, initial_soc, run_config, time_offset_s=0.0) -> CellResult:
        _citations(self.model_name)
        self.parameter_set.register_citations()
        result = CellResult.from_solution(
            sol,
            capacity_Ah=self.capacity_Ah,
            initial_soc=initial_soc,
            config=self.config(**run_config),
            parameter_files=self.parameter_set.files,
            time_offset_s=time_offset_s,
        )
        if not result.completed:
            # never a silent truncation: the caller asked for the whole duty
            warnings.warn(result.early_stop_message(), EarlyStopWarning, stacklevel=user_stacklevel())
        return result

    # -- runs ---------------------------------------------------------------------------------
    def run_experiment(
        self,
        experiment,
        *,
        ambient_temperature_K=None,
        initial_soc=1.0,
        initial_temperature_K=None,
        period_s=None,
    ) -> CellResult:
        """Run a PyBaMM experiment given as a list of step strings (or one string).

        Example steps: ``"Discharge at 1C until 2.5 V"``, ``"Rest for 1 hour"``, ``"Charge at 0.5C
        until 4.2 V"``, ``"Hold at 4.2 V until C/50"``, ``"Discharge at 10 W for 30 minutes"``.
        Cycles as PyBaMM writes them: ``[("Discharge at 1C until 2.5 V", "Charge at 0.5C until
        4.2 V")] * 3``. A step that hits a voltage limit ends the run (``result.termination``).

        Parameters
        ----------
        ambient_temperature_K : float, optional
            Ambient (and initial) temperature [K]; default: the set's.
        initial_soc : float or None
            Initial state of charge [-] in [0, 1]; ``None`` keeps the parameter set's initial
            concentrations.
        period_s : float, optional
            Output sampling period [s] (PyBaMM default 60 s).
        """
        steps = [experiment] if isinstance(experiment, str) else experiment

        def ok(item):
            return isinstance(item, str) or (
                isinstance(item, tuple) and item and all(isinstance(x, str) for x in item)
            )

        if not isinstance(steps, (list, tuple)) or not steps or not all(ok(s) for s in steps):
            raise InputError(
                "experiment must be a non-empty list of step strings (or of tuples of step strings, "
                f"one tuple per cycle), got {experiment!r}"
            )
        soc0 = self._initial_soc(initial_soc)
        if period_s is not None:
            period_s = checks.positive("period_s", period_s, unit="s")
        exp = engine.experiment(steps, period_s=period_s)
        self._check_experiment(exp)
        pv = self._prepared(ambient_temperature_K, initial_temperature_K)
        sim = self.simulation(pv, experiment=exp, what=f"experiment {list(steps)!r}")
        sol = self._solve(sim, f"experiment {list(steps)!r}", initial_soc=soc0)
        return self._result(
            sol,
            initial_soc=self._soc_of_set(pv) if soc0 is None else soc0,
            run_config={"duty": "experiment", "experiment": list(steps), "initial_soc": soc0,
                        "ambient_temperature_K": _scalar_or_none(pv["Ambient temperature [K]"]),
                        "period_s": period_s},
        )

    def _check_experiment(self, exp) -> None:
        Q, V = self.capacity_Ah, self.nominal_voltage_V
        for step in exp.steps:
            kind = type(step).__name__
            try:
                value = float(np.max(np.abs(np.atleast_1d(np.asarray(step.value, dtype=float)))))
            except (TypeError, ValueError):
                continue  # a drive-cycle step: its values are not plain numbers
            text = getattr(step, "description", None) or str(step)
            if kind == "CRate":
                self._check_c_rate(f"experiment step {text!r}", value, "the requested rate")
            elif kind == "Current":
                self._check_c_rate(f"experiment step {text!r}", value / Q, f"{value:g} A")
            elif kind == "Power":
                self._check_c_rate(f"experiment step {text!r}", value / (V * Q), f"{value:g} W (at nominal {V:g} V)")

    def _profile(self, time_s, values, name: str, unit: str):
        t = checks.time_array("time_s", time_s)
        y = checks.as_float_array(name, values)
        checks.same_length(time_s=t, **{name: y})
        if t[0] < 0:
            raise InputError(f"time_s must start at or after 0 s, got time_s[0] = {t[0]} s")
        return t, y

    def run_current(
        self,
        time_s,
        current_A,
        *,
        ambient_temperature_K=None,
        initial_soc=1.0,
        initial_temperature_K=None,
    ) -> CellResult:
        """Run a current profile (linear interpolation between samples).

        Parameters
        ----------
        time_s : array
            Strictly increasing sample times [s], starting at or after 0.
        current_A : array
            Current [A], **discharge positive**, same length as ``time_s``.
            The result is sampled at exactly these ``time_s`` (the PyBaMM solution's own time
            starts at 0).
        ambient_temperature_K : float or array, optional
            Ambient temperature [K], one number or one value per sample (linear in between);
            the initial cell temperature is its first value unless ``initial_temperature_K``.

        The run stops early if a voltage cut-off is reached (see ``result.termination``).
        """
        t, current = self._profile(time_s, current_A, "current_A", "A")
        peak = float(np.max(np.abs(current)))
        self._check_c_rate("current_A", peak / self.capacity_Ah, f"peak |current| {peak:g} A")
        return self._run_profile(t, current, "Current function [A]", None, "current", ambient_temperature_K,
                                 initial_soc, initial_temperature_K)

    def run_power(
        self,
        time_s,
        power_W,
        *,
        ambient_temperature_K=None,
        initial_soc=1.0,
        initial_temperature_K=None,
    ) -> CellResult:
        """Run a power profile [W] (e.g. a drive cycle), **discharge positive**.

        The C-rate validity check uses ``peak |power| / (nominal voltage x nominal capacity)``.
        ``ambient_temperature_K`` may be one number or one value per sample [K], as in
        :meth:`run_current`.
        """
        t, power = self._profile(time_s, power_W, "power_W", "W")
        peak = float(np.max(np.abs(power)))
        self._check_c_rate(
            "power_W", peak / (self.nominal_voltage_V * self.capacity_Ah),
            f"peak |power| {peak:g} W (at nominal {self.nominal_voltage_V:g} V)",
        )
        return self._run_profile(t, power, "Power function [W]", "power", "power", ambient_temperature_K,
                                 initial_soc, initial_temperature_K)

    def _run_profile(self, t, y, pname, mode, duty, ambient_temperature_K, initial_soc, initial_temperature_K):
        import pybamm

        soc0 = self._initial_soc(initial_soc)
        t_rel = t - t[0]
        pv = self._prepared(ambient_temperature_K, initial_temperature_K, t_rel)
        pv[pname] = pybamm.Interpolant(t_rel, y, pybamm.t, interpolator="linear")
        sim = self.simulation(pv, operating_mode=mode)
        what = f"{duty} profile ({t.size} samples over {t_rel[-1]:g} s)"
        # Stopping the integrator at every sample keeps the kinks of the piecewise-linear duty
        # exact (with t_eval=[0, end] the solver steps over them: 0.4 % charge error seen).
        sol = self._solve(sim, what, t_eval=t_rel, t_interp=t_rel, initial_soc=soc0)
        return self._result(
            sol,
            initial_soc=self._soc_of_set(pv) if soc0 is None else soc0,
            time_offset_s=float(t[0]),
            run_config={
                "duty": duty,
                "n_samples": int(t.size),
                "duration_s": float(t_rel[-1]),
                "initial_soc": soc0,
                "ambient_temperature_K": (
                    _scalar_or_none(pv["Ambient temperature [K]"]) if np.ndim(ambient_temperature_K) == 0
                    else {"time_series_min": float(np.min(ambient_temperature_K)),
                          "time_series_max": float(np.max(ambient_temperature_K))}
                ),
            },
        )


def simulate(
    cell="LGM50",
    model: str = "SPMe",
    thermal: str = "isothermal",
    *,
    experiment=None,
    time_s=None,
    current_A=None,
    power_W=None,
    ambient_temperature_K=None,
    initial_soc: float = 1.0,
    initial_temperature_K=None,
    period_s=None,
    sei=None,
    lithium_plating=None,
    loss_of_active_material=None,
    options=None,
    parameters=None,
    mesh="default",
    check_validity: bool = True,
    allow_new_parameters: bool = False,
) -> CellResult:
    """Run one cell model under one duty and return a :class:`~batterylab.cell.CellResult`.

    Give exactly one duty: ``experiment`` (list of PyBaMM step strings), or ``time_s`` with
    ``current_A`` [A], or ``time_s`` with ``power_W`` [W]. Current and power are **discharge
    positive**. The model is PyBaMM's [1]_ single-particle model (SPM) or SPM with electrolyte
    (SPMe) [3]_, or the Doyle-Fuller-Newman model (DFN) [2]_, built and solved by PyBaMM
    (:class:`CellModel` keeps a built model for several runs); the default cell is the LG M50
    21700 of Chen et al. [4]_.

    Parameters
    ----------
    cell : str or path
        Shipped parameter-set name (:func:`batterylab.cell.list_cells`, e.g. ``"LGM50"``), or the
        path of a BPX or batterylab cell JSON file.
    model : {"SPM", "SPMe", "DFN"}
        The electrochemical model.
    thermal : {"isothermal", "lumped", "x-lumped", "x-full"}
        The thermal model (see :class:`CellModel`).
    experiment : list of str, optional
        PyBaMM experiment steps, e.g. ``["Discharge at 1C until 2.5 V", "Rest for 1 hour"]``.
    time_s : (n,) array, optional
        Sample times of a current or power profile [s], strictly increasing.
    current_A : (n,) array, optional
        Current profile [A], discharge positive, at ``time_s``.
    power_W : (n,) array, optional
        Power profile [W], discharge positive, at ``time_s``.
    ambient_temperature_K : float, optional
        Ambient temperature [K] (default: the parameter set's); a value below 173.15 K is taken
        as Celsius passed by mistake and refused.
    initial_soc : float or None
        Initial state of charge [-] in [0, 1]; ``None`` keeps the set's initial concentrations.
    initial_temperature_K : float, optional
        Initial cell temperature [K] (default: the ambient).
    period_s : float, optional
        Output sampling period of an experiment [s] (PyBaMM's default 60 s).
    sei, lithium_plating, loss_of_active_material : str, optional
        PyBaMM degradation option values (see :class:`CellModel`).
    options, parameters : dict, optional
        Further PyBaMM options, and PyBaMM-named parameter values replacing the set's.
    mesh : {"coarse", "default", "fine"} or dict
        Points per domain.
    check_validity : bool
        Refuse a C-rate or ambient temperature outside the set's validity range
        (:class:`~batterylab.errors.InputError`); ``False`` extrapolates.
    allow_new_parameters : bool
        Accept parameter names the set does not have.

    Returns
    -------
    CellResult
        ``time_s`` [s], ``current_A`` [A], ``voltage_V`` [V], ``soc`` [-], ``temperature_K`` [K],
        ``heat_W`` [W], ``throughput_Ah`` [Ah], the termination reason and the PyBaMM
        ``solution``; ``.save(path)`` writes HDF5 with units.

    References
    ----------
    .. [1] V. Sulzer, S. G. Marquis, R. Timms, M. Robinson, S. J. Chapman, Python Battery
       Mathematical Modelling (PyBaMM), J. Open Res. Softw. 9 (2021) 14, doi:10.5334/jors.309
    .. [2] M. Doyle, T. F. Fuller, J. Newman, Modeling of galvanostatic charge and discharge of
       the lithium/polymer/insertion cell, J. Electrochem. Soc. 140 (1993) 1526,
       doi:10.1149/1.2221597 (DFN)
    .. [3] S. G. Marquis, V. Sulzer, R. Timms, C. P. Please, S. J. Chapman, An asymptotic
       derivation of a single particle model with electrolyte, J. Electrochem. Soc. 166 (2019)
       A3693, doi:10.1149/2.0341915jes (SPM, SPMe)
    .. [4] C.-H. Chen et al., Development of experimental techniques for parameterization of
       multi-scale lithium-ion battery models, J. Electrochem. Soc. 167 (2020) 080534,
       doi:10.1149/1945-7111/ab9050 (the ``LGM50`` parameter set)

    Examples
    --------
    >>> r = simulate("LGM50", "SPM", "lumped", experiment=["Discharge at 1C for 10 minutes"])  # doctest: +SKIP
    """
    duties = [experiment is not None, current_A is not None, power_W is not None]
    if sum(duties) != 1:
        raise InputError(
            "give exactly one duty: experiment=[...], or time_s with current_A [A], or time_s with power_W [W]; "
            f"got experiment={'set' if duties[0] else None}, current_A={'set' if duties[1] else None}, "
            f"power_W={'set' if duties[2] else None}"
        )
    if (current_A is not None or power_W is not None) and time_s is None:
        raise InputError("time_s [s] is required with current_A or power_W")
    if experiment is not None and time_s is not None:
        raise InputError("time_s is used with current_A or power_W only; an experiment sets its own times")
    if period_s is not None:
        checks.positive("period_s", period_s, unit="s")
        if experiment is None:
            raise InputError(f"period_s (got {period_s}) is the output period of an experiment; with time_s the "
                             "result is sampled at time_s")
    cm = CellModel(
        cell, model, thermal, sei=sei, lithium_plating=lithium_plating,
        loss_of_active_material=loss_of_active_material, options=options, parameters=parameters,
        mesh=mesh, check_validity=check_validity, allow_new_parameters=allow_new_parameters,
    )
    common = {"ambient_temperature_K": ambient_temperature_K, "initial_soc": initial_soc,
              "initial_temperature_K": initial_temperature_K}
    if experiment is not None:
        return cm.run_experiment(experiment, period_s=period_s, **common)
    if current_A is not None:
        return cm.run_current(time_s, current_A, **common)
    return cm.run_power(time_s, power_W, **common)


def pulse_resistance(cell="LGM50", *, model: str = "SPM", thermal: str = "lumped", mesh="coarse",
                     initial_soc: float = 0.5, ambient_temperature_K: float = 298.15, c_rate: float = 1.0,
                     duration_s: float = 10.0) -> float:
    """A fresh cell's discharge pulse resistance [Ohm]: (V before the pulse - V at its end) / I.

    The cell rests 10 s, then discharges at ``c_rate`` for ``duration_s`` from ``initial_soc``
    at ``ambient_temperature_K`` (the usual DCIR test: 1C for 10 s at 50 % SOC and 25 degC by
    default), in the ``model`` / ``thermal`` / ``mesh`` configuration of :class:`CellModel`.
    """
    soc = checks.finite_scalar("initial_soc", initial_soc, low=0.0, high=1.0)
    amb = checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
    c = checks.positive("c_rate", c_rate, "1/h")
    dur = checks.positive("duration_s", duration_s, "s")
    cm = CellModel(cell, model=model, thermal=thermal, mesh=mesh, check_validity=False)
    r = cm.run_experiment(["Rest for 10 seconds", f"Discharge at {c:g}C for {dur:g} seconds"],
                          ambient_temperature_K=amb, initial_soc=soc)
    V = np.asarray(r.voltage_V)
    current = np.asarray(r.current_A)
    if r.time_s[-1] < (10.0 + dur) * (1 - 1e-6):
        raise InputError(f"the {c:g}C pulse of {dur:g} s from SOC {soc:g} stopped early ({r.termination}): "
                         "lower c_rate or duration_s, or raise initial_soc")
    j = int(np.argmax(np.abs(current) > 0))
    return float((V[max(j - 1, 0)] - V[-1]) / abs(current[-1]))


def aged_cell_inputs(cell="LGM50", *, capacity_fraction: float = 1.0, added_resistance_ohm: float = 0.0) -> dict:
    """PyBaMM ``options`` and ``parameters`` of an aged cell, for :class:`CellModel` or :func:`simulate`.

    Capacity fade as loss of active material in both electrodes (each active-material volume
    fraction times ``capacity_fraction`` q, so the capacity between the voltage limits scales by
    q), resistance growth as a series contact resistance ``added_resistance_ohm`` [Ohm] (PyBaMM's
    ``"contact resistance"`` option). Returns ``{"options": {...}, "parameters": {...},
    "allow_new_parameters": bool}``, empty for a fresh cell (q = 1, no added resistance).
    """
    q = checks.positive("capacity_fraction", capacity_fraction)
    r_add = checks.finite_scalar("added_resistance_ohm", added_resistance_ohm, low=0.0, unit="Ohm")
    ps = load_parameter_set(cell)
    options, params = {}, {}
    if q != 1.0:
        pv = ps.parameter_values()
        for electrode in ("Negative", "Positive"):
            key = f"{electrode} electrode active material volume fraction"
            params[key] = float(pv[key]) * q
    if r_add > 0.0:
        options["contact resistance"] = "true"
        params["Contact resistance [Ohm]"] = r_add
    return {"options": options, "parameters": params, "allow_new_parameters": r_add > 0.0}
