import numpy as np
import pytest

from batterylab import checks
from batterylab.errors import BatterylabError, InputError


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
