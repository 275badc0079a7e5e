import json
import os
import signal
import subprocess
import sys

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


# --- temporaries of interrupted writes -------------------------------------------------------------

def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped), so no process runs under it now."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp_for(target, pid, rand="abcd1234", suffix=".h5.tmp"):
    from batterylab.io.atomic import _host

    p = target.parent / f".{target.name}.{_host()}-{pid}.{rand}{suffix}"
    p.write_bytes(b"half written")
    return p


def test_temporary_name_carries_the_writer_pid(tmp_path):
    from batterylab.io import atomic_path

    with atomic_path(tmp_path / "r.h5", suffix=".h5.tmp") as tmp:
        assert f"-{os.getpid()}." in tmp.name and tmp.name.startswith(".r.h5.") and tmp.name.endswith(".h5.tmp")
        tmp.write_bytes(b"x")


def test_next_write_removes_a_dead_writers_temporary_and_keeps_a_live_one(tmp_path):
    target = tmp_path / "r.h5"
    stale = _temp_for(target, _dead_pid())
    live = _temp_for(target, os.getpid(), rand="live5678")  # a concurrent writer: this very process
    other_target = _temp_for(tmp_path / "other.h5", _dead_pid())  # not this target's: left to its own next write
    write_results(target, _example())
    assert not stale.exists()
    assert live.exists()
    assert other_target.exists()


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "r.h5"
    with subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and f"-{proc.pid}." in left[0].name
    write_results(target, _example())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]


def test_clean_command_removes_only_stale_temporaries(tmp_path):
    from click.testing import CliRunner

    from batterylab.cli import cli

    sub = tmp_path / "runs" / "a"
    sub.mkdir(parents=True)
    stale = [_temp_for(sub / "x.h5", _dead_pid()), _temp_for(tmp_path / "y.npz", _dead_pid(), suffix=".npz.tmp")]
    live = _temp_for(sub / "z.h5", os.getpid())
    foreign = tmp_path / ".w.h5.otherhost-1.abcd1234.h5.tmp"  # another machine's writer: unknown, kept
    foreign.write_bytes(b"x")
    unrelated = tmp_path / ".hidden.tmp"  # not a batterylab temporary
    unrelated.write_bytes(b"x")
    res = CliRunner().invoke(cli, ["clean", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "2 stale temporary files removed" in res.output
    assert not any(p.exists() for p in stale)
    assert live.exists() and foreign.exists() and unrelated.exists()


def test_clean_missing_path_exits_2(tmp_path, capsys):
    from batterylab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["clean", str(tmp_path / "nope")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "path" in err and "nope" in err and "Traceback" not in err


def test_writing_onto_a_folder_is_a_clear_error(tmp_path):
    from batterylab.errors import InputError

    with pytest.raises(InputError, match="is a folder; expected the path of a file"):
        write_results(tmp_path, _example())
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no temporary left behind
