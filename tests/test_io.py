import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from batterylab.io import Variable, read_results, write_results
from batterylab.errors import InputError


def _example(n=100):
    t = np.linspace(0, 3600, n)
    return {
        "time_s": Variable(t, "s", "Time [s]", ("time_s",)),
        "voltage_V": Variable(4.2 - t / 3600, "V", "Terminal voltage [V]", ("time_s",)),
        "fleet/cell": Variable(np.arange(3), "1", "Cell index", ("cell",)),
        "fleet/soh": Variable(np.ones((3, n)), "1", "State of health", ("cell", "time_s")),
    }


def test_roundtrip_units_and_provenance(tmp_path):
    p = write_results(tmp_path / "r.h5", _example(), config={"model": "DFN", "c_rate": 1.0})
    variables, attrs = read_results(p)
    assert variables["voltage_V"].units == "V"
    assert variables["voltage_V"].long_name == "Terminal voltage [V]"
    assert variables["voltage_V"].dims == ("time_s",)
    np.testing.assert_array_equal(variables["time_s"].data, np.linspace(0, 3600, 100))
    assert json.loads(attrs["configuration_json"]) == {"c_rate": 1.0, "model": "DFN"}
    for key in ("batterylab_version", "numpy_version", "numba_version", "created_utc"):
        assert key in attrs


def test_xarray_opens_with_named_dimensions(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    p = write_results(tmp_path / "r.h5", {k: v for k, v in _example().items() if "/" not in k})
    with xr.open_dataset(p, engine="h5netcdf", phony_dims="access") as ds:
        assert ds["voltage_V"].dims == ("time_s",)
        assert ds["voltage_V"].attrs["units"] == "V"
        assert "time_s" in ds.coords


def test_dimension_length_mismatch_is_an_error(tmp_path):
    bad = {"time_s": Variable(np.arange(3.0), "s", "Time [s]", ("time_s",)),
           "v": Variable(np.arange(4.0), "V", "Voltage [V]", ("time_s",))}
    with pytest.raises(InputError, match="coordinate 'time_s' has length 3"):
        write_results(tmp_path / "r.h5", bad)
    assert not (tmp_path / "r.h5").exists()
    assert not list(tmp_path.iterdir()), "temporary file left behind"


WRITER = """
import sys, numpy as np
from batterylab.io import Variable, write_results
import batterylab.io.hdf5 as h
orig = h._attach_scales
def slow(f, written):
    print('writing', flush=True)
    import time; time.sleep(60)
h._attach_scales = slow
write_results(sys.argv[1], {"x": Variable(np.zeros(10**6), "1", "x", ("n",))})
"""


def test_killed_writer_leaves_previous_file_intact(tmp_path):
    target = tmp_path / "r.h5"
    write_results(target, _example())
    before = target.read_bytes()
    with subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout.readline().strip() == "writing"  # the new file is half written now
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert target.read_bytes() == before
    with h5py.File(target) as f:
        assert f["voltage_V"].attrs["units"] == "V"


def test_written_files_get_the_usual_permissions(tmp_path):
    """Not mkstemp's private 0600: what any new file gets under the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    p = write_results(tmp_path / "r.h5", _example())
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask
