"""Model names and PyBaMM model options, validated against PyBaMM's own list of valid values.

PyBaMM options are strings; a typo such as ``"reaction limted"`` must cost seconds, so every key
and value is checked against ``pybamm.BatteryModelOptions(...).possible_options`` and an
:class:`~batterylab.errors.OptionError` lists the valid ones.
"""

from __future__ import annotations

from ..errors import OptionError, unknown_option

#: batterylab model name -> PyBaMM class name in ``pybamm.lithium_ion``.
MODELS = {"SPM": "SPM", "SPMe": "SPMe", "DFN": "DFN"}
#: Thermal options offered by name (PyBaMM's ``"thermal"`` option values).
THERMAL = ("isothermal", "lumped", "x-lumped", "x-full")
#: Degradation keywords of the batterylab API -> PyBaMM option key.
DEGRADATION = {
    "sei": "SEI",
    "lithium_plating": "lithium plating",
    "loss_of_active_material": "loss of active material",
}
#: Mesh presets: points per domain (x_n, x_s, x_p: through-cell; r_n, r_p: particle radius).
MESHES = {
    "coarse": {"x_n": 8, "x_s": 5, "x_p": 8, "r_n": 8, "r_p": 8},
    "default": {"x_n": 20, "x_s": 20, "x_p": 20, "r_n": 20, "r_p": 20},
    "fine": {"x_n": 40, "x_s": 30, "x_p": 40, "r_n": 40, "r_p": 40},
}


def possible_options() -> dict:
    """PyBaMM's valid option values, by option key."""
    import pybamm

    return dict(pybamm.BatteryModelOptions({}).possible_options)


def model_name(model: str) -> str:
    """Canonical model name (``"SPM"``, ``"SPMe"``, ``"DFN"``); case-insensitive."""
    if isinstance(model, str):
        for k in MODELS:
            if model.lower() == k.lower():
                return k
    raise unknown_option("model", model, MODELS)


def mesh_points(mesh) -> dict:
    """Points per domain from a preset name or a dict of the keys of ``MESHES['default']``."""
    if isinstance(mesh, str):
        if mesh not in MESHES:
            raise unknown_option("mesh", mesh, MESHES)
        return dict(MESHES[mesh])
    if isinstance(mesh, dict):
        valid = MESHES["default"]
        out = dict(valid)
        for k, v in mesh.items():
            if k not in valid:
                raise unknown_option("mesh domain", k, valid)
            if isinstance(v, bool) or not isinstance(v, int) or v < 3:
                raise OptionError(f"mesh[{k!r}] must be an integer >= 3 [points], got {v!r}")
            out[k] = v
        return out
    raise OptionError(f"mesh must be one of {', '.join(MESHES)} or a dict of points per domain, got {mesh!r}")


def validate_options(options: dict) -> dict:
    """Check every key and value of a PyBaMM options dict; return a copy.

    A value may be a string or a 2-tuple/list of strings (one per electrode, PyBaMM style).
    """
    if not isinstance(options, dict):
        raise OptionError(f"options must be a dict of PyBaMM model options, got {type(options).__name__}")
    possible = possible_options()
    out = {}
    for key, value in options.items():
        if key not in possible:
            raise unknown_option("PyBaMM model option", key, possible)
        valid = [str(v) for v in possible[key]]
        values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        if isinstance(value, (tuple, list)) and len(values) != 2:
            raise OptionError(
                f"option {key!r}: a per-electrode value must have 2 entries (negative, positive), got {value!r}"
            )
        for v in values:
            if str(v) not in valid:
                raise OptionError(
                    f"option {key!r}: unknown value {v!r}; valid values are: {', '.join(valid)}"
                )
        out[key] = tuple(values) if isinstance(value, (tuple, list)) else value
    return out


def build_options(thermal: str, degradation: dict, extra: dict | None, operating_mode: str | None = None) -> dict:
    """The PyBaMM options dict for a batterylab model configuration (validated)."""
    if thermal not in THERMAL:
        raise unknown_option("thermal option", thermal, THERMAL)
    opts = {"thermal": thermal}
    for kw, value in degradation.items():
        if value is None:
            continue
        from ..checks import named

        with named(kw):
            validate_options({DEGRADATION[kw]: value})
        opts[DEGRADATION[kw]] = value
    if extra:
        for k in extra:
            if k in opts and extra[k] != opts[k]:
                raise OptionError(
                    f"option {k!r} given twice (as keyword and in options) with different values: "
                    f"{opts[k]!r} and {extra[k]!r}"
                )
        opts.update(extra)
    if thermal == "isothermal" and "calculate heat source for isothermal models" not in opts:
        # heat_W is reported for every model, so isothermal runs compute their heat source too.
        opts["calculate heat source for isothermal models"] = "true"
    if operating_mode is not None:
        opts["operating mode"] = operating_mode
    return validate_options(opts)
