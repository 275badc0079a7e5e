import numpy as np
import pytest

from batterylab import checks
from batterylab.errors import BatterylabError, InputError, OptionError


def test_errors_are_value_errors():
    assert issubclass(BatterylabError, ValueError)


@pytest.mark.parametrize("bad,match", [
    ([0.0, np.nan, 2.0], r"time_s must be finite, got nan at index 1"),
    ([0.0, 2.0, 1.0], r"strictly increasing"),
    ([], r"time_s is empty"),
    ([0.0, np.inf], r"must be finite, got inf at index 1"),
])
def test_time_array(bad, match):
    with pytest.raises(InputError, match=match):
        checks.time_array("time_s", bad)


def test_celsius_passed_as_kelvin():
    with pytest.raises(InputError, match=r"temperature_K must be in kelvin; got 25.0 at index 0, which looks like Celsius"):
        checks.temperature_K("temperature_K", [25.0, 298.15])
    assert checks.temperature_K("T", 298.15) == 298.15


def test_negative_step():
    with pytest.raises(InputError, match=r"dt_s must be > 0.0 s, got -1.0 s"):
        checks.positive("dt_s", -1.0, unit="s")


def test_fraction():
    with pytest.raises(InputError, match=r"soc must lie in \[0, 1\], got 1.5 at index 2"):
        checks.fraction_array("soc", [0.1, 0.2, 1.5])


@pytest.mark.parametrize("bad,match", [
    (2.5, r"n_cells must be an integer, got 2.5"),
    ("3", r"n_cells must be an integer, got str '3'"),
    (True, r"n_cells must be an integer, got bool True"),
    (float("nan"), r"n_cells must be an integer, got nan"),
    (0, r"n_cells must be >= 1, got 0"),
])
def test_integer(bad, match):
    with pytest.raises(InputError, match=match):
        checks.integer("n_cells", bad, low=1)
    assert checks.integer("n_cells", 3.0, low=1) == 3  # an integral float is an integer
    assert checks.optional_integer("n_cells", None) is None


def test_strings_and_booleans_are_not_numbers():
    for bad in ("1.5", b"1", True, None, ["a"], {"a": 1}):
        with pytest.raises(InputError, match="x must be"):
            checks.finite_scalar("x", bad)
        with pytest.raises(InputError, match="x must be an array of numbers"):
            checks.as_float_array("x", bad if isinstance(bad, list) else [bad])


def test_boolean_seed_choice():
    with pytest.raises(InputError, match="progress must be True or False, got str 'yes'"):
        checks.optional_boolean("progress", "yes")
    assert checks.optional_boolean("progress", None) is None
    with pytest.raises(InputError, match="seed must be >= 0, got -1"):
        checks.rng("seed", -1)
    g = np.random.default_rng(1)
    assert checks.rng("seed", g) is g
    with pytest.raises(OptionError, match=r"unknown policy 'x'; valid policies are: a, b"):
        checks.choice("policy", "x", ("a", "b"))
    with pytest.raises(OptionError):
        checks.choice("policy", ["a"], ("a", "b"))  # unhashable: still an option error


def test_ordered_names_both():
    with pytest.raises(InputError, match=r"soc_min must be < soc_max, got soc_min = 0.9 and soc_max = 0.5"):
        checks.ordered("soc_min", 0.9, "soc_max", 0.5)
    checks.ordered("a", 1.0, "b", 1.0, strict=False)


def test_files_are_checked_before_parsing(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)))
    (tmp_path / "ok.csv").write_text("time_s,soc\n0,0.5\n")
    (tmp_path / "latin1.csv").write_bytes("temp / \xb0C\n1\n".encode("latin-1"))  # 8-bit text is text
    cases = [(tmp_path / "missing.csv", "does not exist"), (tmp_path / "empty.csv", "is empty"),
             (tmp_path / "bin.csv", "holds binary data"), (tmp_path, "is a folder"), (5, "must be a file path")]
    for path, match in cases:
        with pytest.raises(InputError, match=f"duty: .*{match}|duty must be a file path"):
            checks.text_file("duty", path)
    assert checks.text_file("duty", tmp_path / "ok.csv").name == "ok.csv"
    assert checks.text_file("duty", tmp_path / "latin1.csv").name == "latin1.csv"
    with pytest.raises(InputError, match="path: file .* is not an HDF5 file"):
        checks.binary_file("path", tmp_path / "ok.csv", checks.HDF5_SIGNATURE, "HDF5")


def test_named_prefixes_the_argument():
    with pytest.raises(OptionError, match=r"^aging_model: unknown ageing model 'x'"):
        with checks.named("aging_model"):
            raise OptionError("unknown ageing model 'x'")
    with pytest.raises(InputError, match=r"^years must be"):  # already named: unchanged
        with checks.named("years"):
            raise InputError("years must be > 0")


def test_output_path_refuses_folders_and_files_in_the_way(tmp_path):
    from batterylab.checks import output_path

    assert output_path("out", tmp_path / "new" / "r.h5") == tmp_path / "new" / "r.h5"  # folders made later
    with pytest.raises(InputError, match=r"out = .* is a folder; expected the path of a file"):
        output_path("out", tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        output_path("out", tmp_path / "f" / "deeper" / "r.h5")
    with pytest.raises(InputError, match="out must be a file path"):
        output_path("out", 5)
