"""Bad input fuzz: every public function and every CLI subcommand, one bad argument at a time.

The public functions are enumerated from the package (the ``__all__`` / lazy export lists of
``batterylab``'s submodules and subpackages; not ``batterylab.kernels``, whose callers check), the
subcommands from the command line's group. A public name (or a new argument, or a new option)
without an entry in :data:`SPECS` / :data:`CLI` makes :func:`test_every_public_function_has_a_strategy`
or :func:`test_every_cli_option_has_a_strategy` fail, asking for one.

Each entry gives a valid call and, per argument, the *kind* of value it takes; hypothesis draws bad
values of that kind (NaN, inf, negative, zero, wrong type, wrong length, Celsius for kelvin,
strings, binary / empty files, missing paths, folders) and the call, with that one argument
replaced, must raise a :class:`batterylab.BatterylabError` whose message names the argument and
says what was expected; a subcommand must exit with status 2 and one line naming the option.

No model runs here: bad input is rejected before PyBaMM, a Numba kernel or a worker pool is
reached. The heavy entry points are replaced by a tripwire, so an accepted bad value fails at once
("the model ran") instead of running. Arguments that take any value (free text, callables, an
output path) are listed with the reason they are not fuzzed.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import shutil
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batterylab
from batterylab.errors import BatterylabError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # model-validity notes on valid inputs

FUZZ = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                database=None)
NAN, INF = float("nan"), float("inf")

# --- files ---------------------------------------------------------------------------------------

_DIR = Path(tempfile.mkdtemp(prefix="batterylab-fuzz-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
MISSING = str(_DIR / "no_such_file.csv")
EMPTY = _DIR / "empty.csv"
EMPTY.write_bytes(b"")
BINARY = _DIR / "binary.csv"
BINARY.write_bytes(bytes(range(256)) * 8)
TEXT = _DIR / "text.h5"
TEXT.write_text("time_s,soc\n0,0.5\n")
FOLDER = _DIR / "folder"
FOLDER.mkdir()
OUT = str(_DIR / "out.h5")


# --- kinds of argument: each gives the bad values of that kind --------------------------------


class Kind:
    def __init__(self, name, fixed=(), gen=None):
        self.name, self.fixed, self.gen = name, (fixed if callable(fixed) else list(fixed)), gen

    def strategy(self, valid):
        fixed = self.fixed(valid) if callable(self.fixed) else self.fixed
        s = st.sampled_from(fixed) if fixed else st.nothing()
        if self.gen is not None:
            s = s | self.gen(valid)
        return s


class Free:
    """An argument that is not fuzzed, and why."""

    def __init__(self, reason):
        self.reason = reason


NOT_A_NUMBER = [NAN, INF, -INF, "abc", "1.5", b"1", [1.0, 2.0], {"a": 1}]


def num(lo=None, hi=None, *, open_lo=False, open_hi=False, extra=(), per_cell=False):
    """A number in [lo, hi] (open ends with open_lo / open_hi). ``per_cell``: a list of numbers is valid
    too (one value per cell), so no list is among the bad values."""
    bad = [b for b in NOT_A_NUMBER if not (per_cell and isinstance(b, list))] + list(extra)
    gens = []
    if lo is not None:
        bad.append(lo if open_lo else lo - 1.0)
        gens.append(st.floats(max_value=lo, exclude_max=not open_lo, allow_nan=False, allow_infinity=False))
    if hi is not None:
        bad.append(hi if open_hi else hi + 1.0)
        gens.append(st.floats(min_value=hi, exclude_min=not open_hi, allow_nan=False, allow_infinity=False))
    gen = (lambda v: st.one_of(*gens)) if gens else None
    return Kind(f"number in {lo}..{hi}", bad, gen)


NUM = num()
POS = num(0.0, open_lo=True)
NONNEG = num(0.0)
FRAC = num(0.0, 1.0)
FRAC_POS = num(0.0, 1.0, open_lo=True)  # an efficiency: 0 < x <= 1
TEMP = num(extra=[25.0, -10.0, 1.0e4])  # Celsius passed as kelvin, and nonsense
TEMP_DIFF = num(extra=[500.0, -400.0])  # a temperature difference that leaves any battery range
HOUR = num(0.0, 24.0)


def integer(lo):
    return Kind(f"integer >= {lo}", [lo - 1, 2.5, "3", NAN, INF, True, [1], "abc"],
                lambda v: st.integers(max_value=lo - 1))


INT0, INT1, INT2 = integer(0), integer(1), integer(2)
SEED = Kind("seed", [-1, 2.5, "x", NAN, [1, "a"], True])
BOOL = Kind("bool", ["yes", 2, 1.5, "True", [True]])
OPTION = Kind("option name", ["no_such_name", 5, ["x"], 2.5])


def _array_bad(valid, *, paired=True, extra=()):
    a = np.asarray(valid, dtype=float)
    out = [np.where(np.arange(a.size) == a.size // 2, NAN, a), np.where(np.arange(a.size) == 0, INF, a),
           ["a"] * a.size, "abc", [], 5.5 if a.size > 1 and paired else "x"]
    if paired and a.size > 2:
        out.append(a[:-1])
    for value in extra:
        out.append(np.where(np.arange(a.size) == a.size // 2, value, a))
    return out


def array(paired=True, extra=()):
    return Kind("array", lambda v: _array_bad(v, paired=paired, extra=extra))


ARRAY = array()
#: an array where one number is valid too (it holds for every sample or interval): no scalar among the bad values
ARRAY_OR_NUMBER = Kind("array or number", lambda v: [b for b in _array_bad(v) if np.ndim(b) > 0 or isinstance(b, str)])
ARRAY_NONNEG = array(extra=[-1.0])
TIME = Kind("time array", lambda v: _array_bad(v) + [np.asarray(v, dtype=float)[::-1]])
SOC = array(extra=[1.5, -0.2])
TEMPS = array(extra=[25.0, 1.0e4])
SIGNAL = array(extra=[1.5, -3.0])
TEXT_FILE = Kind("text file", [MISSING, str(EMPTY), BINARY, str(FOLDER), 12345, b"x.csv"])
H5_FILE = Kind("HDF5 file", [MISSING, str(EMPTY), BINARY, TEXT, str(FOLDER), 12345])
NPZ_FILE = H5_FILE
DIRECTORY = Kind("folder", [MISSING, str(BINARY), 12345])
OBJ = Kind("object of a given type", ["x", 5, [1, 2], {"a": 1}, 2.5])
MODELS = Kind("ageing model names", ["no_such_model", ["no_such_model"], [], 5, [5]])


def _day_period(q, r):
    """A valid closed-loop period: one day, hourly (for batterylab.aging.age_closed_loop)."""
    t = np.arange(25) * 3600.0
    return t, np.interp(t, [0, 3600, 72000, 86400], [0.85, 0.35, 0.35, 0.85]), np.full(t.size, 300.0), None


class S:
    """A function's valid call and the kind of each argument."""

    def __init__(self, valid=None, **kinds):
        self.valid = valid or {}
        self.kinds = kinds


def free(reason):
    return Free(reason)


OUTPUT = free("an output path: any writable path is valid (a bad folder is the OS's error)")
CLIENT = Kind("dask client", ["tcp://x", 5, object()])
PROGRESS = Kind("progress switch", ["yes", 2, 1.5])


def _fit():
    from batterylab.grading import ocv_fit, synthetic

    cp, cn, y0, x0 = synthetic.electrode_state(2.5, 0.1, 0.05, 0.05)
    q, v = ocv_fit.synthetic_c20_curve(cp, cn, y0, x0, n_points=60)
    return q, v


_T = np.arange(0.0, 86400.0 + 1.0, 3600.0)
_SOC = 0.5 + 0.3 * np.sin(2 * np.pi * _T / 86400.0)
_TK = np.full(_T.size, 298.15)
_Q, _V = _fit()

AGING = dict(model="naumann2020", time_s=_T, soc=_SOC, temperature_K=_TK)
AGING_KINDS = dict(model=OPTION, time_s=TIME, soc=SOC, temperature_K=TEMPS, current_A=ARRAY,
                   repeat=INT1, years=POS, eol_threshold=num(0.0, 1.0, open_lo=True, open_hi=True),
                   state=OBJ, output_interval_s=POS, finalize=BOOL)

#: "module.name" -> S(valid call, argument kinds); or a string: why the name is not fuzzed.
SPECS = {
    # --- ageing ---------------------------------------------------------------------------------
    "batterylab.aging.AgingModel": "a compiled model made by aging.load (fuzzed there), not from user values",
    "batterylab.aging.AgingResult": "a result made by aging.simulate, not from user values",
    "batterylab.aging.AgingFleetFile": "a result made by aging.simulate_fleet(save_to=...), not from user values",
    "batterylab.aging.ClosedLoopResult": "a result made by aging.age_closed_loop, not from user values",
    "batterylab.aging.AgingState": S({"model": "naumann2020", "data": np.zeros((1, 3))},
                                     model=free("a state names its model; aging.simulate checks it against the model run"),
                                     data=free("the kernel's state array, made by a run; aging.simulate checks its shape")),
    "batterylab.aging.AgingState.load": S({"path": None}, path=NPZ_FILE),
    "batterylab.aging.OutOfRangeWarning": "a warning class",
    "batterylab.aging.NonPeriodicProfileWarning": "a warning class",
    "batterylab.aging.load": S({"model": "naumann2020"}, model=OPTION),
    "batterylab.aging.model_info": S({"name": "naumann2020"}, name=OPTION),
    "batterylab.aging.models": S(),
    "batterylab.aging.simulate": S(AGING, **AGING_KINDS),
    "batterylab.aging.age_closed_loop": S({"model": "naumann2020", "period": _day_period, "years": 0.1},
                                          model=OPTION, period=Kind("period callable", [5, "x", [1, 2]]), years=POS,
                                          update_interval_days=POS,
                                          eol_threshold=num(0.0, 1.0, open_lo=True, open_hi=True), pass_update=BOOL,
                                          period_s=POS, open_loop=BOOL),
    "batterylab.aging.ClosedLoopUpdate": "a record age_closed_loop passes to a period, not from user values",
    "batterylab.aging.simulate_fleet": S(dict(AGING, n_cells=3, progress=False), **AGING_KINDS, n_cells=INT1,
                                         temperature_offset_K=TEMP_DIFF, usage_scale=num(0.0, extra=[5.0]),
                                         coefficient_multipliers=ARRAY_NONNEG,
                                         temperature_spread_K=num(0.0, 30.0), coefficient_spread=num(0.0, 3.0),
                                         seed=SEED, max_output_rows=INT2, chunk_size=INT1, progress=PROGRESS,
                                         client=CLIENT, share_profile=PROGRESS,
                                         save_to=Kind("path", [5, b"x", "", str(_DIR)]),
                                         config=Kind("JSON entries", [["a"], 5, {"n_cells": 2}, {"x": object()},
                                                                      {1: "a"}, {"x": float("nan")}])),
    # --- cell -----------------------------------------------------------------------------------
    "batterylab.cell.CellInfo": "a record made by cell_info, not from user values",
    "batterylab.cell.CellResult": "a result made by cell.simulate, not from user values",
    "batterylab.cell.CellSimulationError": "an exception class",
    "batterylab.cell.EarlyStopWarning": "a warning class",
    "batterylab.cell.expect_early_stop": "a context manager without arguments (it silences EarlyStopWarning)",
    "batterylab.cell.ParameterSet": "a record made by load_parameter_set, not from user values",
    "batterylab.cell.CellModel": S({"cell": "LGM50", "model": "SPM"}, cell=OPTION, model=OPTION, thermal=OPTION,
                                   sei=OPTION, lithium_plating=OPTION, loss_of_active_material=OPTION,
                                   options=Kind("options", [{"no such option": "x"}, "x", 5]),
                                   parameters=Kind("parameters", [{"Negative electrode thicknes [m]": 1e-4}, "x", 5,
                                                                  {5: 1.0}]),
                                   mesh=OPTION, check_validity=BOOL, allow_new_parameters=BOOL),
    "batterylab.cell.cell_info": S({"cell": "LGM50"}, cell=OPTION),
    "batterylab.cell.pulse_resistance": S({"cell": "LGM50"}, cell=OPTION, model=OPTION, thermal=OPTION, mesh=OPTION,
                                          initial_soc=FRAC, ambient_temperature_K=TEMP, c_rate=POS, duration_s=POS),
    "batterylab.cell.aged_cell_inputs": S({"cell": "LGM50"}, cell=OPTION, capacity_fraction=POS,
                                          added_resistance_ohm=NONNEG),
    "batterylab.cell.list_cells": S(),
    "batterylab.cell.list_profiles": S(),
    "batterylab.cell.load": S({"path": None}, path=H5_FILE),
    "batterylab.cell.load_parameter_set": S({"cell": "LGM50"}, cell=OPTION),
    "batterylab.cell.load_profile": S({"name": "WLTC"}, name=OPTION,
                                      peak_power_W=POS, peak_current_A=POS, cell=OPTION, peak_c_rate=POS),
    "batterylab.cell.possible_options": S(),
    "batterylab.cell.simulate": S({"cell": "LGM50", "model": "SPM", "time_s": [0.0, 60.0, 120.0],
                                   "current_A": [1.0, 1.0, 1.0]},
                                  cell=OPTION, model=OPTION, thermal=OPTION,
                                  experiment=Kind("experiment", [["Charge at 1C forever"], 5, [5]]),
                                  time_s=TIME, current_A=ARRAY, power_W=Kind("power with current", [[1.0, 1.0, 1.0]]),
                                  ambient_temperature_K=TEMP, initial_soc=FRAC, initial_temperature_K=TEMP,
                                  period_s=POS, sei=OPTION, lithium_plating=OPTION, loss_of_active_material=OPTION,
                                  options=Kind("options", [{"no such option": "x"}, "x"]),
                                  parameters=Kind("parameters", [{"Negative electrode thicknes [m]": 1e-4}, "x"]),
                                  mesh=OPTION, check_validity=BOOL, allow_new_parameters=BOOL),
    "batterylab.cell.validate_options": S({"options": {}}, options=Kind("options", [{"no such option": "x"}, "x", 5])),
    # --- helpers below the applications ----------------------------------------------------------
    **{f"batterylab.checks.{n}": "the checks themselves: what they reject is tested in tests/test_checks.py"
       for n in ("as_float_array", "finite_scalar", "positive", "time_array", "temperature_K", "fraction_array",
                 "same_length", "integer", "optional_integer", "boolean", "optional_boolean", "rng", "choice",
                 "ordered", "length", "text_file", "binary_file", "path_like", "output_path", "existing_file", "named")},
    "batterylab.citations.register": S({"key": "k", "text": "t"}, key=Kind("key", [5, None, ""]),
                                       text=Kind("text", [5, None])),
    "batterylab.citations.used": S(),
    "batterylab.citations.format": S(),
    "batterylab.distributed.DistributedTaskError": "an exception class",
    # n_items = 0 is valid: nothing to split, chunks of 1
    "batterylab.distributed.chunk_size_for": S({"n_items": 10, "steps_per_item": 100.0, "n_threads": 2},
                                               n_items=INT0, steps_per_item=POS, n_threads=INT1),
    "batterylab.distributed.client_from_options": S({"scheduler": None, "workers": None},
                                                    scheduler=Kind("address", ["tcp://127.0.0.1:1", "no address", 5]),
                                                    workers=INT1, numba_threads=INT1),
    # client=None is the placeholder of a Dask client: every other argument is checked before the client
    "batterylab.distributed.map_chunks": S({"client": None, "func": len, "n_items": 4, "chunk_size": 2},
                                           client=CLIENT, func=free("any importable function"),
                                           n_items=INT1, chunk_size=INT1,
                                           shared=free("anything picklable"), per_chunk=free("any function"),
                                           label=free("a word for the progress bar"), progress=PROGRESS,
                                           desc=free("a word for the progress bar")),
    "batterylab.distributed.map_items": S({"client": None, "func": len, "items": [1, 2]}, client=CLIENT,
                                          func=free("any importable function"), items=Kind("items", [5, "abc"]),
                                          args=Kind("args", [5, "abc"]), chunk_size=INT1,
                                          label=free("a word for the progress bar"), progress=PROGRESS,
                                          desc=free("a word for the progress bar")),
    "batterylab.distributed.worker_environment": S({}, numba_threads=INT1),
    "batterylab.distributed.check_client": S({"client": None}, client=CLIENT),
    **{f"batterylab.errors.{n}": "an exception class" for n in
       ("BatterylabError", "InputError", "ParameterError", "OptionError", "RunError")},
    "batterylab.errors.unknown_option": "builds the error for an unknown option (its arguments are the bad value)",
    "batterylab.parameter_sets.path": S({"parts": ()}, parts=free("path parts under parameter_sets/ (a missing file "
                                                                  "is reported by the reader that opens it)")),
    "batterylab.parameter_sets.listing": S({"folder": "aging"}, folder=Kind("folder", ["no_such_folder", 5]),
                                           suffix=Kind("suffix", [5, ["x"]])),
    "batterylab.progress.progress_bar": S({}, progress=PROGRESS, kwargs=free("passed to tqdm")),
    "batterylab.progress.show_progress": S({"progress": None}, progress=PROGRESS,
                                           file=free("any stream (is it a terminal?)")),
    "batterylab.validation.Metric": "a record a validation case returns (the report checks it)",
    "batterylab.validation.CaseResult": "a record a validation case returns (the report checks it)",
    "batterylab.validation.Case": "a record of a validation case (the report checks it at discovery)",
    # --- grading --------------------------------------------------------------------------------
    "batterylab.grading.GradeConfig": S({}, chemistry=OPTION, nominal_capacity_Ah=POS, bol_resistance_ohm=POS,
                                        history=Kind("history", [5, ["a"]]),
                                        new_pack_price_per_kWh=POS, currency=Kind("currency", [5, None]),
                                        repurposing_cost_fraction=FRAC, bands_path=TEXT_FILE, pulse_s=POS,
                                        series=INT1, parallel=INT1, forecast_model=OPTION, second_life=BOOL,
                                        seed=SEED, capacity_test=OPTION, bol_capacity_Ah=POS),
    "batterylab.grading.available_chemistries": S(),
    "batterylab.grading.degradation_modes": S({"fit": "FIT", "nominal_capacity_Ah": 2.5}, fit=OBJ,
                                              reference=Kind("reference", [{"Cp_Ah": 1.0}, {"Cp_Ah": -1.0, "Cn_Ah": 1.0,
                                                                                            "n_li_Ah": 1.0}, 5]),
                                              nominal_capacity_Ah=num(0.0, open_lo=True, extra=[2500.0]),
                                              chemistry=OPTION),
    "batterylab.grading.mechanism_forecast": S({"cycle": [3.0, 56.0, 159.0, 262.0], "LLI": [0.0, 0.05, 0.09, 0.12],
                                                "LAM_PE": [0.0, 0.03, 0.045, 0.064], "LAM_NE": [0.0, 0.002, 0.006, 0.03],
                                                "nominal_capacity_Ah": 2.5},
                                               cycle=TIME, LLI=array(extra=[1.5, -0.2]), LAM_PE=array(extra=[1.5, -0.2]),
                                               LAM_NE=array(extra=[1.5, -0.2]),
                                               bol_reference=Kind("reference", [{"Cp_Ah": 1.0}, {"Cp_Ah": -1.0, "Cn_Ah": 1.0,
                                                                                                 "n_li_Ah": 1.0}, 5]),
                                               nominal_capacity_Ah=POS, chemistry=OPTION, horizon_cycles=POS),
    "batterylab.grading.electrode_state": S({"nominal_capacity_Ah": 2.5, "LLI": 0.1, "LAM_PE": 0.05, "LAM_NE": 0.05},
                                            nominal_capacity_Ah=POS, LLI=num(0.0, 1.0, open_hi=True),
                                            LAM_PE=num(0.0, 1.0, open_hi=True), LAM_NE=num(0.0, 1.0, open_hi=True),
                                            chemistry=OPTION),
    "batterylab.grading.fit_ocv": S({"capacity_Ah": _Q, "voltage_V": _V}, capacity_Ah=ARRAY,
                                    voltage_V=array(extra=[4000.0]), chemistry=OPTION, polish=BOOL,
                                    confident_rmse_V=POS, fit_offset=BOOL),
    "batterylab.grading.grade_directory": S({"input_dir": str(FOLDER), "out_dir": str(_DIR / "graded")},
                                            input_dir=DIRECTORY, out_dir=OUTPUT, config=OBJ, workers=INT1, force=BOOL,
                                            progress=PROGRESS, chunk_size=INT1, client=CLIENT),
    "batterylab.grading.grade_records": S({"records": "RECORDS"}, records=Kind("records", [5, "abc", [5]]),
                                          config=OBJ, workers=INT1, progress=PROGRESS, chunk_size=INT1, client=CLIENT),
    "batterylab.grading.load_bands": S({}, path=TEXT_FILE),
    "batterylab.grading.make_batch": S({"n": 2}, n=INT1, seed=SEED, nominal_capacity_Ah=POS,
                                       soft_short_fraction=FRAC, noise_V=num(0.0, 0.1), chemistry=OPTION),
    "batterylab.grading.make_cell": S({"cell_id": "c1"}, cell_id=Kind("cell id", [5, "", None]),
                                      nominal_capacity_Ah=POS, LLI=num(0.0, 1.0, open_hi=True),
                                      LAM_PE=num(0.0, 1.0, open_hi=True), LAM_NE=num(0.0, 1.0, open_hi=True),
                                      R0_ohm=NONNEG, R1_ohm=NONNEG, tau_s=POS, rest_slope_V_per_h=num(-1.0, 1.0),
                                      intake_voltage_V=num(0.0, 6.0), noise_V=NONNEG, rng=OBJ, chemistry=OPTION,
                                      with_timeseries=BOOL),
    "batterylab.grading.read_cell_file": S({"path": "BDF_CSV"}, path=TEXT_FILE, format=OPTION),
    # --- io -------------------------------------------------------------------------------------
    "batterylab.io.Result": "a mixin of the result classes",
    "batterylab.io.Variable": S({"data": [1.0, 2.0], "units": "1", "long_name": "x", "dims": ("n",)},
                                data=free("any array (write_results checks it against dims)"),
                                units=Kind("units", [5, None]), long_name=Kind("long name", [5, None]),
                                dims=Kind("dims", [5, "n", ("a", "b")]), attrs=Kind("attrs", [5, "x"])),
    "batterylab.io.atomic_path": S({"path": OUT}, path=Kind("path", [5, b"x", ""]),
                                   suffix=Kind("suffix", [5, "a/b"])),
    "batterylab.io.atomic_write_text": S({"path": OUT, "text": "x"}, path=Kind("path", [5, b"x"]),
                                         text=Kind("text", [5, b"x"]), encoding=Kind("encoding", ["no-such-codec", 5])),
    "batterylab.io.clean_stale": S({"path": str(_DIR)}, path=Kind("path", [MISSING, 5, b"x"])),
    # any string is valid: h5_name maps it to a usable HDF5 name ("" -> "_", "a/b" -> "a_b")
    "batterylab.io.h5_name": S({"name": "x"}, name=Kind("name", [5, None, b"x"])),
    "batterylab.io.read_results": S({"path": None}, path=H5_FILE),
    "batterylab.io.to_datatree": S({"variables": {}}, variables=Kind("variables", [5, {"x": 5}]),
                                   attrs=Kind("attrs", [5, "x"])),
    "batterylab.io.ResultsWriter": S({"path": OUT}, path=Kind("path", [5, b"x", "", str(_DIR)]),
                                     config=Kind("config", [5, "x"]), parameter_files=Kind("files", [5, [MISSING]]),
                                     attrs=Kind("attrs", [5, "x"])),
    "batterylab.io.write_results": S({"path": OUT, "variables": {}}, path=Kind("path", [5, b"x"]),
                                     variables=Kind("variables", [5, {"x": 5}, "x"]),
                                     config=Kind("config", [5, "x"]), parameter_files=Kind("files", [5, [MISSING]]),
                                     attrs=Kind("attrs", [5, "x"])),
    # --- lifetime -------------------------------------------------------------------------------
    "batterylab.lifetime.LifetimeResult": "a result made by simulate_lifetime, not from user values",
    "batterylab.lifetime.simulate_lifetime": S({"cell": "LGM50", "duty_power_W": [0.0, 5.0, 5.0, 0.0],
                                                "time_s": [0.0, 600.0, 1200.0, 1800.0], "years": 0.1},
                                               cell=OPTION, duty_power_W=ARRAY,
                                               duty_current_A=Kind("current with power", [[1.0, 1.0, 1.0, 1.0]]),
                                               time_s=TIME, ambient_temperature_K=TEMP, years=POS, aging_model=OPTION,
                                               update_interval_s=POS, ambient_time_s=ARRAY, initial_soc=FRAC,
                                               model=OPTION, thermal=OPTION, mesh=OPTION, progress=PROGRESS),
    "batterylab.lifetime.read_duty_csv": S({"path": None}, path=TEXT_FILE),
    "batterylab.lifetime.read_ambient_csv": S({"path": None}, path=TEXT_FILE),
    # --- pcm ------------------------------------------------------------------------------------
    "batterylab.pcm.Boundary": S({}, kind=OPTION, value=Kind("value", [NAN, "x", [NAN]]), coefficient=NONNEG),
    "batterylab.pcm.Material": "a record made by load_material / composite (fuzzed there)",
    "batterylab.pcm.PyBaMMCell": S({}, cell=OPTION, model=OPTION, profile=OPTION, peak_c_rate=POS, average_s=INT1,
                                   repeats=INT0, check_validity=BOOL),
    "batterylab.pcm.composite": S({"pcm": "MATERIAL", "pcm_mass_fraction": 0.8, "matrix_density_kg_m3": 2000.0,
                                   "matrix_specific_heat_J_kg_K": 700.0, "matrix_conductivity_W_m_K": 100.0},
                                  pcm=OBJ, pcm_mass_fraction=FRAC_POS, matrix_density_kg_m3=POS,
                                  matrix_specific_heat_J_kg_K=POS, matrix_conductivity_W_m_K=POS,
                                  conductivity_bound=OPTION, name=Kind("name", [5, ["x"]])),
    "batterylab.pcm.fast_charge": S({}, cell=OBJ, material=OPTION, pcm_mass_per_cell_kg=NONNEG, charger_power_kW=POS,
                                    pack_energy_kWh=POS, initial_soc=FRAC, ambient_temperature_K=TEMP,
                                    cell_pcm_conductance_W_K=POS, pcm_ambient_conductance_W_K=NONNEG,
                                    cooling_conductance_W_K=NONNEG, cell_radius_m=POS, cell_height_m=POS,
                                    contact_resistance_K_W=NONNEG, shell_nodes=INT0, aging_model=OPTION, days=INT1,
                                    feedback_interval_days=POS),
    "batterylab.pcm.load_material": S({"name": "rt28hc"}, name=OPTION, conductivity_bound=OPTION),
    "batterylab.pcm.materials_table": S(),
    # enclosure_conductance_W_K = 0 is valid: an ideally insulated enclosure (the bound of the study)
    "batterylab.pcm.preheat": S({}, cell=OBJ, material=OPTION, pcm_mass_kg=NONNEG, pack_energy_kWh=POS,
                                enclosure_conductance_W_K=NONNEG, cell_pcm_conductance_W_K=POS, heater_power_W=NONNEG,
                                heater_start_h=num(0.0), heater_end_h=num(0.0), night_ambient_K=TEMP,
                                day_ambient_K=TEMP,
                                departure_h=num(0.0), target_departure_K=TEMP, consumption_Wh_km=POS, step_s=POS),
    # n_nodes = 1 is valid: a single node (no conduction inside the PCM), as the kernel tests use it
    "batterylab.pcm.shell_grid": S({"inner_radius_m": 0.01, "outer_radius_m": 0.02, "n_nodes": 10},
                                   inner_radius_m=POS, outer_radius_m=POS, n_nodes=INT1, height_m=POS),
    "batterylab.pcm.simulate_1d": S({"grid": "GRID", "material": "MATERIAL", "time_s": [0.0, 10.0],
                                     "initial_temperature_K": 293.15},
                                    grid=OBJ, material=OBJ, time_s=TIME, initial_temperature_K=TEMP,
                                    left=OBJ, right=OBJ, cell_capacity_J_K=NONNEG, cell_initial_K=TEMP,
                                    cell_ambient_conductance_W_K=NONNEG, cell_ambient_K=TEMP, density=OPTION,
                                    safety=num(0.0, 1.0, open_lo=True)),
    "batterylab.pcm.simulate_lumped": S({"time_s": [0.0, 10.0, 20.0], "heat_W": [1.0, 1.0],
                                         "ambient_temperature_K": 293.15, "material": "MATERIAL", "pcm_mass_kg": 0.1,
                                         "cell_capacity_J_K": 50.0, "cell_pcm_conductance_W_K": 0.5,
                                         "cell_initial_K": 293.15},
                                        time_s=TIME, heat_W=ARRAY_OR_NUMBER, ambient_temperature_K=TEMP, material=OBJ,
                                        # per-cell values: a number, or one per cell (a list is valid)
                                        pcm_mass_kg=num(0.0, per_cell=True), cell_capacity_J_K=num(0.0, open_lo=True, per_cell=True),
                                        cell_pcm_conductance_W_K=num(0.0, per_cell=True),
                                        pcm_ambient_conductance_W_K=num(0.0, per_cell=True),
                                        cell_ambient_conductance_W_K=num(0.0, per_cell=True),
                                        heater_W=num(0.0, per_cell=True), heater_setpoint_K=Kind("setpoint", [NAN, "x", 25.0]),
                                        cell_initial_K=num(per_cell=True, extra=[25.0, 1.0e4]),
                                        pcm_initial_K=num(per_cell=True, extra=[25.0, 1.0e4]), record_every=INT1, density=OPTION,
                                        safety=num(0.0, 1.0, open_lo=True)),
    "batterylab.pcm.slab_grid": S({"thickness_m": 0.01, "n_nodes": 10}, thickness_m=POS, n_nodes=INT1, area_m2=POS),
    "batterylab.pcm.stefan.NeumannProblem": "a record of properties; neumann_lambda checks each (fuzzed below)",
    "batterylab.pcm.stefan.neumann_lambda": S({"p": "PROBLEM"}, p=OBJ),
    "batterylab.pcm.stefan.front_position_m": S({"p": "PROBLEM", "time_s": [0.0, 10.0]}, p=OBJ,
                                                time_s=array(paired=False, extra=[-1.0])),
    "batterylab.pcm.stefan.temperature_profile_K": S({"p": "PROBLEM", "x_m": [0.0, 0.01], "time_s": 10.0}, p=OBJ,
                                                     x_m=array(paired=False, extra=[-1.0]), time_s=POS),
    "batterylab.pcm.stefan.two_phase_problem": S(),
    "batterylab.pcm.stefan.one_phase_problem": S(),
    # --- report ---------------------------------------------------------------------------------
    "batterylab.report.Report": "a result made by run_report, not from user values",
    # an unknown case module is valid input: it becomes an error outcome (a batch never dies on one bad part)
    "batterylab.report.discover": S({}, modules=Kind("modules", [5, "x", [5]])),
    "batterylab.report.format_summary": S({"report": None}, report=OBJ),
    "batterylab.report.run_report": S({"out": str(_DIR / "report")}, out=OUTPUT,
                                      cases=Kind("cases", [["no_such_case"], 5]), quick=BOOL, jobs=INT1,
                                      modules=Kind("modules", [5, "x", [5]]), progress=PROGRESS,
                                      timeout_s=POS, isolate=BOOL, precompile=BOOL),
    # --- scenarios ------------------------------------------------------------------------------
    **{f"batterylab.scenarios.{n}": S({"path": None}, path=TEXT_FILE, name=free("the argument name for messages"))
       for n in ("read_fleet", "read_household_load", "read_itinerary", "read_prices")},
    "batterylab.scenarios.simulate_fleet_sharing": S({}, fleet=TEXT_FILE, tariff_per_kWh=TEXT_FILE, aging_model=OPTION,
                                                     years=POS, block_days=INT1, pack_energy_kWh=POS,
                                                     charger_power_kW=POS, grid_limit_kW=POS, departure_h=HOUR,
                                                     arrival_h=HOUR, full_soc=FRAC, reserve_soc=FRAC,
                                                     efficiency=FRAC_POS, ambient_temperature_K=TEMP,
                                                     temperature_weight_per_K=num(0.0, 1.0),
                                                     coefficient_spread=num(0.0, 3.0), seed=SEED, step_s=POS,
                                                     transfer_power_kW=NONNEG, transfer_efficiency=FRAC_POS),
    "batterylab.scenarios.simulate_mw_backup": S({}, household_load_kW=TEXT_FILE, n_homes=INT1, cell=OPTION,
                                                 aging_models=MODELS, pack_energy_kWh=POS, charger_power_kW=POS,
                                                 charge_from_soc=FRAC, backup_start_soc=FRAC, backup_min_soc=FRAC,
                                                 inverter_efficiency=FRAC_POS, events_per_year=num(0.0, 365.0, open_lo=True),
                                                 years=POS, pack_price_per_kWh=NONNEG,
                                                 eol_threshold=num(0.0, 1.0, open_lo=True, open_hi=True),
                                                 ambient_temperature_K=TEMP, feedback_interval_days=POS),
    "batterylab.scenarios.simulate_smart_charging": S({}, itinerary=TEXT_FILE, tariff_per_kWh=TEXT_FILE,
                                                      aging_models=MODELS, years=POS, pack_energy_kWh=POS,
                                                      charger_power_kW=POS, target_soc=FRAC, cap_soc=FRAC,
                                                      efficiency=FRAC_POS, ambient_temperature_K=TEMP, cell=OPTION,
                                                      step_s=POS, feedback_interval_days=POS),
    "batterylab.scenarios.simulate_v2g_regulation": S(
        {"capability_price_per_MWh": 20.0, "performance_price_per_MW": 5.0, "mileage_ratio": 3.0,
         "aging_models": ["blast_nca_panasonic18650b"], "years": 0.1},
        itinerary=TEXT_FILE, price_per_kWh=TEXT_FILE, capability_price_per_MWh=NONNEG, performance_price_per_MW=NONNEG,
        mileage_ratio=NONNEG, regulation_kW=num(0.0, 7.4, open_lo=True), signal=TEXT_FILE, seed=SEED, aging_models=MODELS,
        years=POS, pack_energy_kWh=POS, charger_power_kW=POS, target_soc=FRAC, soc_min_v2g=FRAC, soc_max=FRAC,
        efficiency=FRAC_POS, pack_price_per_kWh=NONNEG, ambient_temperature_K=TEMP, cell=OPTION, step_s=POS,
        eol_threshold=num(0.0, 1.0, open_lo=True, open_hi=True), feedback_interval_days=POS),
    "batterylab.scenarios.simulate_v2g": S({}, itinerary=TEXT_FILE, price_per_kWh=TEXT_FILE, aging_models=MODELS,
                                           years=POS, pack_energy_kWh=POS, charger_power_kW=POS, target_soc=FRAC,
                                           soc_min_v2g=FRAC, soc_max=FRAC, efficiency=FRAC_POS,
                                           max_export_kWh_per_day=NONNEG, pack_price_per_kWh=NONNEG,
                                           ambient_temperature_K=TEMP, cell=OPTION, step_s=POS,
                                           eol_threshold=num(0.0, 1.0, open_lo=True, open_hi=True),
                                           site_load_kW=TEXT_FILE, peak_limit_kW=Kind("limit without load", [10.0]),
                                           feedback_interval_days=POS),
    "batterylab.scenarios.simulate_wireless": S({}, itinerary=TEXT_FILE, wireless_power_kW=NONNEG, segment_s=POS,
                                                spacing_s=POS, drive_power_kW=POS, aging_models=MODELS, years=POS,
                                                pack_energy_kWh=POS, charger_power_kW=POS, target_soc=FRAC,
                                                ambient_temperature_K=TEMP, cell=OPTION, step_s=POS,
                                                feedback_interval_days=POS),
    # --- solid state ----------------------------------------------------------------------------
    "batterylab.solid_state.Limits": S({"current_limit_A": 5.0, "lower_voltage_V": 2.5, "upper_voltage_V": 4.2},
                                       current_limit_A=POS, lower_voltage_V=num(0.0, 6.0), upper_voltage_V=num(0.0, 6.0),
                                       max_temperature_K=TEMP, derate_V=NONNEG, derate_K=NONNEG),
    "batterylab.solid_state.SolidStateCell": "a record made by load_cell (fuzzed there)",
    "batterylab.solid_state.compare_cells": S({}, cells=Kind("cells", [["no_such_cell"], 5, []]), hours=POS,
                                              signal=TEXT_FILE, seed=SEED, regulation_W=POS, h_W_m2K=POS,
                                              ambient_temperature_K=TEMP, initial_soc=FRAC, mesh_points=INT0,
                                              step_hold_s=POS, ramp_s=POS, aging_model=OPTION,
                                              aging_resolution_s=POS,
                                              regulation_prices=Kind("prices", [5, {"mileage_ratio": 1.0},
                                                                                {"capability_price_per_MWh": -1.0,
                                                                                 "performance_price_per_MW": 1.0,
                                                                                 "mileage_ratio": 1.0}])),
    "batterylab.grid.regd_signal": S({}, hours=POS, seed=SEED, dt_s=POS, tau_s=POS, rng=OBJ),
    "batterylab.grid.load_signal_csv": S({"path": None}, path=TEXT_FILE),
    "batterylab.grid.signal_from_spec": S({"spec": "regd", "hours": 0.1}, spec=TEXT_FILE, hours=POS, seed=SEED,
                                          name=free("the argument name for messages")),
    "batterylab.grid.performance_score": S({"time_s": np.arange(0.0, 7200.0, 2.0),
                                           "signal": np.sin(np.arange(0.0, 7200.0, 2.0) / 300.0),
                                           "response": np.sin(np.arange(0.0, 7200.0, 2.0) / 300.0)},
                                          time_s=TIME, signal=ARRAY, response=ARRAY,
                                          period_s=num(600.0), interval_s=POS, latency_allowance_s=NONNEG),
    "batterylab.grid.mileage": S({"signal": [0.0, 0.5, -0.5]}, signal=array(paired=False, extra=[1.5])),
    "batterylab.grid.regulation_revenue": S({"regulation_W": 1e6, "hours": 1.0, "score": 0.9,
                                            "capability_price_per_MWh": 10.0, "performance_price_per_MW": 1.0,
                                            "mileage_ratio": 3.0},
                                           regulation_W=POS, hours=NONNEG, score=FRAC, capability_price_per_MWh=NONNEG,
                                           performance_price_per_MW=NONNEG, mileage_ratio=NONNEG),
    "batterylab.solid_state.load_cell": S({}, name_or_path=OPTION),
    "batterylab.solid_state.load_signal_csv": S({"path": None}, path=TEXT_FILE),
    "batterylab.solid_state.performance_score": S({"time_s": np.arange(0.0, 7200.0, 2.0),
                                                   "signal": np.sin(np.arange(0.0, 7200.0, 2.0) / 300.0),
                                                   "response": np.sin(np.arange(0.0, 7200.0, 2.0) / 300.0)},
                                                  time_s=TIME, signal=ARRAY, response=ARRAY,
                                                  period_s=num(600.0), interval_s=POS, latency_allowance_s=NONNEG),
    "batterylab.solid_state.ramp_test": S({"cell": "sulfide", "ramp_W_per_s": 0.1}, cell=OPTION,
                                          ramp_W_per_s=num(extra=[0.0]), duration_s=POS, dt_s=POS,
                                          tolerance=num(0.0, 1.0, open_lo=True, open_hi=True),
                                          kwargs=free("passed to solid_state.simulate (fuzzed there)")),
    "batterylab.solid_state.regd_signal": S({}, hours=POS, seed=SEED, dt_s=POS, tau_s=POS, rng=OBJ),
    "batterylab.solid_state.regulation": S({"cell": "sulfide", "time_s": np.arange(0.0, 100.0, 2.0),
                                            "signal": np.zeros(50), "regulation_W": 1.0},
                                           cell=OPTION, time_s=TIME, signal=SIGNAL, regulation_W=POS, base_W=NUM,
                                           kwargs=free("passed to solid_state.simulate (fuzzed there)")),
    "batterylab.solid_state.simulate": S({"cell": "sulfide", "time_s": [0.0, 5.0, 10.0], "power_W": [0.1, 0.1, 0.1]},
                                         cell=OPTION, time_s=TIME, power_W=ARRAY,
                                         current_A=Kind("current with power", [[0.1, 0.1, 0.1]]),
                                         ambient_temperature_K=TEMP, h_W_m2K=POS, initial_soc=FRAC, limits=OBJ,
                                         kind=OPTION, t_eval_s=ARRAY, extra_variables=Kind("names", [5, [5]]),
                                         rtol=POS, atol=POS, mesh_points=INT0, contact_loss=BOOL),
    "batterylab.solid_state.step_response": S({"cell": "sulfide", "power_W": 0.1}, cell=OPTION,
                                              power_W=num(extra=[0.0]), hold_s=POS, pre_s=POS, dt_s=POS,
                                              tolerance=num(0.0, 1.0, open_lo=True, open_hi=True),
                                              kwargs=free("passed to solid_state.simulate (fuzzed there)")),
    "batterylab.solid_state.thermal_summary": S({"cell": "LGM50"}, cell=OPTION, h_W_m2K=POS,
                                                reference=Kind("reference", [5, "x"])),
    # --- swap -----------------------------------------------------------------------------------
    "batterylab.swap.Station": "a station record, validated by load_station (fuzzed) from a dict or file",
    "batterylab.swap.StationResult": "a result made by simulate_station, not from user values",
    "batterylab.swap.SweepResult": "a result made by simulate_sweep, not from user values",
    "batterylab.swap.erlang_b": S({"servers": 5, "offered_load": 2.0}, servers=INT0, offered_load=NONNEG),
    "batterylab.swap.load_station": S({"station": "nio_gen2_like"},
                                      station=Kind("station", ["no_such_station", 5, MISSING, str(BINARY), {"x": 1}])),
    "batterylab.swap.policy_difference": S({"a": None, "b": None}, a=OBJ, b=OBJ),
    "batterylab.swap.shipped_stations": S(),
    "batterylab.swap.simulate_station": S({"station": "nio_gen2_like", "days": 2, "aging": False},
                                          station=Kind("station", ["no_such_station", 5, MISSING]),
                                          years=POS, days=INT1, seed=SEED, rng=OBJ, handout=OPTION, charging=OPTION,
                                          v2g=PROGRESS, arrivals=Kind("arrivals", [5, "x", ([1.0], [2.0]),
                                                                                   ([2.0, 1.0], [0.5, 0.5])]),
                                          aging=Kind("aging", [5, "no_such_model", 2.5]), aging_period_days=INT1,
                                          aging_step_s=POS, keep_steps=PROGRESS, progress=PROGRESS, feedback=BOOL),
    "batterylab.swap.simulate_sweep": S({"stations": ["nio_gen2_like"], "days": 2},
                                        stations=Kind("stations", ["nio_gen2_like", [], 5, ["no_such_station"]]),
                                        days=INT1, seeds=Kind("seeds", [["a"], [-1], [1, 2], "x"]),
                                        threads=INT1, client=CLIENT),
}


# --- enumeration --------------------------------------------------------------------------------


def _public(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:  # a plain module: what it defines
        names = [n for n, o in vars(module).items() if not n.startswith("_")
                 and (inspect.isfunction(o) or inspect.isclass(o)) and getattr(o, "__module__", "") == module.__name__]
    return list(names)


def public_callables() -> dict[str, object]:
    out = {}
    for sub in sorted(batterylab._SUBMODULES - {"kernels"}):
        stack = [importlib.import_module(f"batterylab.{sub}")]
        while stack:
            mod = stack.pop()
            for name in _public(mod):
                obj = getattr(mod, name)
                if isinstance(obj, types.ModuleType):
                    stack.append(obj)
                elif callable(obj):
                    out[f"{mod.__name__}.{name}"] = obj
    from batterylab.aging import AgingState

    out["batterylab.aging.AgingState.load"] = AgingState.load  # the one public reader on a class
    return out


PUBLIC = public_callables()


def _parameters(fn):
    try:
        return list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a builtin
        return []


def test_every_public_function_has_a_strategy():
    missing = sorted(set(PUBLIC) - set(SPECS))
    assert not missing, f"public names without a fuzz entry in tests/test_fuzz.py SPECS (add one): {missing}"
    stale = sorted(set(SPECS) - set(PUBLIC))
    assert not stale, f"SPECS entries for names that are no longer public: {stale}"
    problems = []
    for name, spec in SPECS.items():
        if isinstance(spec, str):
            continue
        params = {p.name: p for p in _parameters(PUBLIC[name]) if p.name != "self"}
        for p in params.values():
            if p.name not in spec.kinds:
                problems.append(f"{name}: argument {p.name!r} has no kind (add one, or free('why'))")
        for a in spec.kinds:
            if a not in params:
                problems.append(f"{name}: {a!r} is not an argument")
    assert not problems, "\n".join(problems)


CASES = [(name, arg) for name, spec in SPECS.items() if not isinstance(spec, str)
         for arg, kind in spec.kinds.items() if isinstance(kind, Kind)]
UNUSUAL = [(name, arg, kind.reason) for name, spec in SPECS.items() if not isinstance(spec, str)
           for arg, kind in spec.kinds.items() if isinstance(kind, Free)]


# --- the tripwire: no model may run in this file ----------------------------------------------


class ModelRan(BaseException):
    """A bad argument got through to a model run (raised instead of running it)."""


def _tripwire(*args, **kwargs):
    raise ModelRan("a model or worker pool was reached with the bad argument: it was accepted")


HEAVY = [
    ("batterylab.aging.simulate", "_run"),
    ("batterylab.cell.engine", "simulation"),
    ("batterylab.cell.engine", "solve"),
    ("batterylab.swap.simulate", "run_chunk"),
    ("batterylab.kernels.station", "station_sweep"),
    ("batterylab.kernels.pcm", "enthalpy_1d"),
    ("batterylab.kernels.pcm", "lumped_two_node"),
    ("batterylab.grading.batch", "run_parallel"),
    ("batterylab.report.runner", "run_cases"),
]


@pytest.fixture(autouse=True)
def tripwire(monkeypatch):
    for module, attr in HEAVY:
        mod = importlib.import_module(module)
        if hasattr(mod, attr):
            monkeypatch.setattr(mod, attr, _tripwire)
    yield


# --- the placeholders of valid objects --------------------------------------------------------


def _materialise(value):
    """Valid objects that cannot be written in the table (made once, cheaply)."""
    if isinstance(value, str):
        if value == "FIT":
            from batterylab.grading import fit_ocv

            return _cached("fit", lambda: fit_ocv(_Q, _V, polish=False))
        if value == "MATERIAL":
            from batterylab.pcm import load_material

            return load_material("rt28hc")
        if value == "GRID":
            from batterylab.pcm import slab_grid

            return slab_grid(0.01, 10)
        if value == "PROBLEM":
            from batterylab.pcm import stefan

            return stefan.two_phase_problem()
        if value == "BDF_CSV":
            p = _DIR / "cell.csv"
            p.write_text("Test Time / s,Voltage / V,Current / A\n0,3.7,0\n10,3.6,1\n20,3.5,1\n")
            return str(p)
        if value == "RECORDS":
            from batterylab.grading import make_cell

            return [make_cell("c1", with_timeseries=False)[0]]
    return value


_CACHE: dict = {}


def _cached(key, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def _describes(message: str) -> bool:
    """The message says what was expected (or why the value is wrong), not only that it is."""
    words = ("must", "expected", "valid", "does not exist", "empty", "binary", "not a", "not an", "needs", "give",
             "lacks", "is a folder", "not both", "cannot", "unknown", "outside", "looks like", "below", "above",
             "go together", "not one of", " but ", "do not match", "applies to", "is used with")
    low = message.lower()
    return any(w in low for w in words)


def _names(message: str, arg: str) -> bool:
    return arg in message or arg.lower() in message.lower()


@pytest.mark.parametrize("name,arg", CASES, ids=[f"{n.removeprefix('batterylab.')}:{a}" for n, a in CASES])
def test_bad_argument_is_a_clear_error(name, arg):
    spec = SPECS[name]
    fn = PUBLIC[name]
    kind = spec.kinds[arg]
    valid = {k: _materialise(v) for k, v in spec.valid.items()}

    @FUZZ
    @given(bad=kind.strategy(valid.get(arg)))
    def check(bad):
        kwargs = dict(valid)
        if isinstance(bad, Path):
            bad = str(bad)
        kwargs[arg] = bad
        if arg != "path" and spec.valid.get("path", 0) is None:  # pragma: no cover - readers have one argument
            kwargs.pop("path")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = fn(**kwargs)
                if hasattr(result, "__enter__") and hasattr(result, "__exit__"):  # a context manager checks on entry
                    with result:
                        pass
            except BatterylabError as exc:
                msg = str(exc)
                assert _names(msg, arg), f"{name}({arg}={bad!r}): the message does not name {arg!r}: {msg}"
                assert _describes(msg), f"{name}({arg}={bad!r}): the message does not say what was expected: {msg}"
                return
            except ModelRan:
                pytest.fail(f"{name}({arg}={bad!r}) was accepted: a model ran with it")
            except Exception as exc:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{name}({arg}={bad!r}) raised {type(exc).__name__}, not a BatterylabError: {exc}")
        pytest.fail(f"{name}({arg}={bad!r}) was accepted")

    check()


def test_unusual_but_valid_arguments_are_documented():
    """Every argument not fuzzed says why (listed here so the reasons are reviewed)."""
    assert all(len(reason) > 10 for _, _, reason in UNUSUAL)


# --- the cases the issue listed (each: the call, and what the message must say) -----------------


def test_issue_cases():
    from batterylab import aging
    from batterylab.grading import GradeConfig, degradation_modes, electrode_state, fit_ocv, make_batch
    from batterylab.pcm import load_material, stefan
    from batterylab.swap import simulate_station

    t, soc, T = _T, _SOC, _TK
    cases = [
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, temperature_offset_K=500.0), "temperature_offset_K"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, usage_scale=5.0), "usage_scale"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, n_cells=4, coefficient_spread=1000.0),
         "coefficient_spread"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, n_cells=2.5), "n_cells"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, max_output_rows=-5), "max_output_rows"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, max_output_rows=0), "max_output_rows"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, chunk_size=-1), "chunk_size"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, n_cells="abc"), "n_cells"),
        (lambda: aging.simulate_fleet("naumann2020", t, soc, T, n_cells=2, temperature_spread_K=1.0, seed="x"), "seed"),
        (lambda: aging.simulate("naumann2020", t, ["a"] * t.size, T), "soc"),
        (lambda: aging.simulate("naumann2020", t, soc, T, repeat=NAN), "repeat"),
        (lambda: stefan.front_position_m(stefan.two_phase_problem(), -1.0), "time_s"),
        (lambda: stefan.temperature_profile_K(stefan.two_phase_problem(), [0.0], -1.0), "time_s"),
        (lambda: fit_ocv(_Q, _V * 1000.0), "voltage_V"),
        (lambda: degradation_modes(_cached("fit", lambda: fit_ocv(_Q, _V, polish=False)), nominal_capacity_Ah=-1),
         "nominal_capacity_Ah"),
        (lambda: degradation_modes(_cached("fit", lambda: fit_ocv(_Q, _V, polish=False)), nominal_capacity_Ah=0),
         "nominal_capacity_Ah"),
        (lambda: electrode_state(2.5, 1.5, 0.05, 0.05), "LLI"),
        (lambda: electrode_state(-2.5, 0.1, 0.05, 0.05), "nominal_capacity_Ah"),
        (lambda: simulate_station("nio_gen2_like", days=2.5, aging=False), "days"),
        (lambda: simulate_station("nio_gen2_like", days="x", aging=False), "days"),
        (lambda: load_material("rt28hc", conductivity_bound="x"), "conductivity_bound"),
        (lambda: make_batch(-1), "n"),
        (lambda: GradeConfig(chemistry="nope"), "chemistry"),
        (lambda: GradeConfig(series=0, parallel=2), "series"),
        (lambda: GradeConfig(series=2), "parallel"),
    ]
    for call, arg in cases:
        with pytest.raises(BatterylabError) as exc:
            call()
        assert arg in str(exc.value), (arg, str(exc.value))


def test_recorded_arrivals_beyond_the_horizon_warn():
    """Valid but unusual: a recorded arrival list longer than the run is cut with a warning
    (a year of records may drive a week-long test run), never dropped silently."""
    from batterylab.swap import simulate_station

    with pytest.warns(UserWarning, match=r"arrivals: 1 of 2 recorded arrival\(s\) fall at or after the end"):
        try:
            simulate_station("nio_gen2_like", days=1, aging=False, arrivals=([10.0, 1.0e7], [0.3, 0.3]))
        except ModelRan:
            pass


def test_performance_score_takes_any_unit():
    """Valid but unusual: performance_score scores a response in any unit (watts, MW or the
    normalised signal), as PJM's accuracy, delay and precision are ratios; the [-1, 1] rule
    belongs to the normalised signal that regulation() scales by regulation_W (fuzzed above)."""
    from batterylab.solid_state import performance_score

    t = np.arange(0.0, 3600.0, 2.0)
    s = 25.0 * np.sin(t / 300.0)
    assert performance_score(t, s, s)["score"] == pytest.approx(1.0)


# --- the command line ---------------------------------------------------------------------------

from cli_commands import walk  # noqa: E402  (a test helper beside this file)


COMMANDS = dict(walk())

CNUM = ["nan", "inf", "abc", ""]
CPOS = CNUM + ["0", "-1"]
CNONNEG = CNUM + ["-1"]
CFRAC = CNUM + ["-0.1", "1.5"]
CTEMP = CNUM + ["25", "-10", "10000"]
CINT1 = ["0", "-1", "2.5", "abc"]
CINT0 = ["-1", "2.5", "abc"]
CFILE = [MISSING, str(EMPTY), str(BINARY), str(FOLDER)]
COPT = ["no_such_name"]


def _itinerary():
    p = _DIR / "itinerary.csv"
    p.write_text("departure_h,arrival_h,trip_energy_kWh\n7,8,5\n17,18,5\n")
    return str(p)


def _profile():
    p = _DIR / "profile.csv"
    p.write_text("time_s,soc,temperature_K\n" + "\n".join(f"{t},{s},{T}" for t, s, T in zip(_T, _SOC, _TK)))
    return str(p)


def _duty():
    p = _DIR / "duty.csv"
    p.write_text("time_s,power_W\n0,0\n600,5\n1200,5\n1800,0\n")
    return str(p)


#: command -> (valid arguments, {option or argument: bad tokens, or a reason it is not fuzzed})
CLI = {
    "age": (["naumann2020", _profile(), "--cells", "3"],
            {"model": COPT, "profile": CFILE, "--years": CPOS, "--repeat": CINT1, "--out": "an output path",
             "--cells": CINT1, "--temperature-spread-K": CNONNEG + ["100"], "--coefficient-spread": CNONNEG + ["1000"],
             "--seed": CINT0, "--eol": CFRAC, "--scheduler": ["tcp://127.0.0.1:1", "no address"],
             "--dask-workers": CINT1}),
    "calibrate": (["LGM50", "--out", str(_DIR / "c.json")],
                  {"cell": COPT, "--out": "an output path", "--jobs": CINT1, "--cache": "a cache folder (made)",
                   "--configuration": COPT, "--model": COPT, "--option": ["no_equals_sign", "=value"],
                   "--held-out": "an output path", "--held-out-draw": ["0", "4", "x"], "--held-out-cycles": CINT1,
                   "--scheduler": ["tcp://127.0.0.1:1", "no address"], "--dask-workers": CINT1}),
    "clean": ([str(_DIR / "nothing_here")], {"path": [MISSING]}),
    "fast-response": (["--out", OUT],
                      {"--cell": COPT, "--signal": CFILE, "--hours": CPOS, "--seed": CINT0, "--regulation-W": CPOS,
                       "--ambient-K": CTEMP, "--mesh-points": CINT0, "--out": "an output path",
                       "--figure": "an output path", "--capability-price": CNONNEG, "--performance-price": CNONNEG,
                       "--mileage-ratio": CNONNEG}),
    "grade": ([str(FOLDER), "--out", str(_DIR / "g")],
              {"input_dir": [MISSING, str(BINARY)], "--out": "an output folder", "--chemistry": COPT,
               "--nominal-capacity": CPOS, "--bol-capacity": CPOS, "--capacity-test": COPT, "--forecast": COPT,
               "--bol-resistance": CPOS, "--history": "free text (a traceability note)", "--price": CPOS,
               "--currency": "free text (a currency name)", "--repurposing-cost": CFRAC, "--bands": CFILE,
               "--modules": ["0x2", "2x0", "4", "axb", "-1x2"], "--jobs": CINT1,
               "--scheduler": ["tcp://127.0.0.1:1", "no address"], "--dask-workers": CINT1}),
    "lifetime": (["--duty", _duty(), "--out", OUT, "--years", "0.1"],
                 {"--cell": COPT, "--duty": CFILE, "--ambient": CFILE, "--ambient-K": CTEMP, "--years": CPOS,
                  "--aging-model": COPT, "--update-days": CPOS, "--initial-soc": CFRAC, "--model": COPT,
                  "--out": "an output path", "--figure": "an output path"}),
    "materials": ([], {}),
    "pcm fast-charge": (["--out", OUT],
                        {"--cell": COPT, "--model": COPT, "--material": COPT, "--pcm-mass-per-cell-kg": CNONNEG,
                         "--charger-power-kW": CPOS, "--pack-energy-kWh": CPOS, "--initial-soc": CFRAC,
                         "--ambient-K": CTEMP, "--aging-model": COPT, "--feedback-interval-days": CPOS,
                         "--out": "an output path",
                         "--figure": "an output path"}),
    "pcm preheat": (["--out", OUT],
                    {"--cell": COPT, "--model": COPT, "--material": COPT, "--pcm-mass-kg": CNONNEG,
                     # 0 W/K is valid: an ideally insulated enclosure
                     "--pack-energy-kWh": CPOS, "--enclosure-conductance-W-K": CNONNEG, "--heater-power-W": CNONNEG,
                     "--heater-hours": CNUM + ["-1", "25"], "--night-ambient-K": CTEMP, "--day-ambient-K": CTEMP,
                     "--departure-h": CNONNEG, "--target-departure-K": CTEMP, "--consumption-Wh-km": CPOS,
                     "--out": "an output path", "--figure": "an output path"}),
    "report": (["--out", str(_DIR / "r")],
               {"--out": "an output folder", "--case": COPT, "--jobs": CINT1, "--timeout": CPOS,
                "--module": "an unknown module is valid: it becomes an error row of the report"}),
    "scenario fleet-sharing": (["--out", OUT],
                               {"--fleet": CFILE, "--tariff": CFILE, "--aging-model": COPT, "--years": CPOS,
                                "--grid-limit-kW": CPOS, "--transfer-power-kW": CNONNEG,
                                "--transfer-efficiency": CFRAC + ["0"], "--seed": CINT0, "--out": "an output path",
                                "--figure": "an output path"}),
    "scenario mw-backup": (["--out", OUT],
                           {"--household-load": CFILE, "--homes": CINT1, "--cell": COPT, "--aging-model": COPT,
                            "--pack-energy-kWh": CPOS, "--charger-power-kW": CPOS, "--events-per-year": CPOS,
                            "--years": CPOS, "--out": "an output path", "--figure": "an output path"}),
    "scenario smart-charging": (["--out", OUT],
                                {"--itinerary": CFILE, "--tariff": CFILE, "--aging-model": COPT, "--years": CPOS,
                                 "--cap-soc": CFRAC, "--cell": COPT, "--out": "an output path",
                                 "--figure": "an output path"}),
    "scenario v2g": (["--out", OUT, "--itinerary", _itinerary()],
                     {"--itinerary": CFILE, "--prices": CFILE, "--aging-model": COPT, "--years": CPOS,
                      "--pack-energy-kWh": CPOS, "--charger-power-kW": CPOS, "--max-export-kWh": CNONNEG,
                      "--pack-price-per-kWh": CNONNEG, "--site-load": CFILE, "--peak-limit-kW": ["10"],
                      "--cell": COPT, "--out": "an output path", "--figure": "an output path"}),
    "scenario v2g-regulation": (["--out", OUT, "--itinerary", _itinerary(), "--capability-price", "20",
                                 "--performance-price", "5", "--mileage-ratio", "3", "--years", "0.1",
                                 "--aging-model", "blast_nca_panasonic18650b"],
                                {"--itinerary": CFILE, "--prices": CFILE, "--capability-price": CNONNEG,
                                 "--performance-price": CNONNEG, "--mileage-ratio": CNONNEG,
                                 "--regulation-kW": CPOS + ["100"], "--signal": CFILE, "--seed": CINT0,
                                 "--aging-model": COPT, "--years": CPOS, "--pack-energy-kWh": CPOS,
                                 "--charger-power-kW": CPOS, "--pack-price-per-kWh": CNONNEG, "--cell": COPT,
                                 "--feedback-interval-days": CPOS,
                                 "--out": "an output path", "--figure": "an output path"}),
    "scenario wireless": (["--out", OUT],
                          {"--itinerary": CFILE, "--wireless-power-kW": CNONNEG, "--segment-s": CPOS,
                           "--spacing-s": CPOS, "--aging-model": COPT, "--years": CPOS, "--cell": COPT,
                           "--out": "an output path", "--figure": "an output path"}),
    "simulate": (["--out", OUT, "--model", "SPM", "--experiment", "Rest for 1 minute"],
                 {"--cell": COPT, "--model": COPT, "--thermal": COPT, "--experiment": ["Charge at 1C forever"],
                  "--current-csv": CFILE, "--power-csv": CFILE, "--profile": COPT, "--peak-c-rate": CPOS,
                  "--ambient-K": CTEMP, "--initial-soc": CFRAC, "--sei": COPT, "--lithium-plating": COPT,
                  "--lam": COPT, "--mesh": COPT, "--out": "an output path", "--figure": "an output path"}),
    "swap": (["nio_gen2_like", "--days", "2", "--no-aging"],
             {"station": ["no_such_station", MISSING, str(BINARY)], "--years": CPOS, "--days": CINT1,
              "--policy": COPT, "--compare": COPT, "--arrivals": CFILE, "--aging-model": COPT, "--seed": CINT0,
              "--out": "an output path", "--figure": "an output path"}),
}

#: an option that replaces the base's own choice of input (the base gives --experiment, say)
REPLACES = {("simulate", "--current-csv"): "--experiment", ("simulate", "--power-csv"): "--experiment",
            ("simulate", "--profile"): "--experiment", ("swap", "--years"): "--days",
            ("age", "--repeat"): None, ("swap", "--aging-model"): "--no-aging"}

#: the Python argument an option sets, which a message may name instead of the option
CLI_ALIASES = {("simulate", "--lam"): "loss_of_active_material"}


def _cli_params(cmd):
    import click

    out = {}
    for p in cmd.params:
        if getattr(p, "hidden", False):
            continue
        if isinstance(p, click.Argument):
            out[p.name] = p
        elif not p.is_flag:
            out[p.opts[0]] = p
    return out


def test_every_cli_option_has_a_strategy():
    missing = sorted(set(COMMANDS) - set(CLI))
    assert not missing, f"subcommands without a fuzz entry in tests/test_fuzz.py CLI (add one): {missing}"
    problems = []
    for name, cmd in COMMANDS.items():
        kinds = CLI[name][1]
        for opt in _cli_params(cmd):
            if opt not in kinds:
                problems.append(f"{name}: {opt} has no bad values (add some, or a reason it takes any value)")
        for opt in kinds:
            if opt not in _cli_params(cmd):
                problems.append(f"{name}: {opt} is not one of its options")
    assert not problems, "\n".join(problems)


CLI_CASES = [(name, opt) for name, (_, kinds) in CLI.items() for opt, bad in kinds.items() if not isinstance(bad, str)]


def _replace(base: list[str], name: str, opt: str, value: str, cmd) -> list[str]:
    import click

    args = list(base)
    params = _cli_params(cmd)
    p = params[opt]
    drop = REPLACES.get((name, opt))
    if drop and drop in args:
        i = args.index(drop)
        is_flag = i + 1 >= len(args) or args[i + 1].startswith("--")
        del args[i:i + (1 if is_flag else 2)]
    if isinstance(p, click.Argument):
        order = [q for q in cmd.params if isinstance(q, click.Argument)]
        k = order.index(p)
        positional = [i for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))]
        if k < len(positional):
            args[positional[k]] = value
        else:
            args.insert(k, value)
        return args
    if opt in args:
        args[args.index(opt) + 1] = value
        return args
    return [*args, opt, value]


def _run_cli(argv):
    from click.testing import CliRunner

    from batterylab.cli import main

    runner = CliRunner()
    with runner.isolation() as streams:
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code
        err = streams[1].getvalue().decode() if len(streams) > 1 and hasattr(streams[1], "getvalue") else ""
    return code, err


@pytest.mark.parametrize("name,opt", CLI_CASES, ids=[f"{n}:{o}" for n, o in CLI_CASES])
def test_bad_cli_option_exits_2_with_one_line(name, opt):
    base, kinds = CLI[name]
    cmd = COMMANDS[name]
    p = _cli_params(cmd)[opt]

    @FUZZ
    @given(bad=st.sampled_from(kinds[opt]))
    def check(bad):
        argv = [*name.split(), *_replace(base, name, opt, bad, cmd)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                code, err = _run_cli(argv)
            except ModelRan:
                pytest.fail(f"batterylab {' '.join(argv)} was accepted: a model ran with it")
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("batterylab: warning")
                 and not ln.startswith("warning:")]
        assert code == 2, f"batterylab {' '.join(argv)}: exit {code}, expected 2; stderr: {err}"
        assert len(lines) == 1 and "Traceback" not in err, f"batterylab {' '.join(argv)}: not one line: {err}"
        named = {opt, opt.lstrip("-"), p.name, p.name.replace("_", "-"), p.name.upper(), CLI_ALIASES.get((name, opt))}
        assert any(n and n.lower() in err.lower() for n in named), (
            f"batterylab {' '.join(argv)}: the message does not name {opt}: {err}")

    check()
