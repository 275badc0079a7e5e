"""A fleet streamed to HDF5 (``simulate_fleet(..., save_to=path)``) is the in-memory result, chunk by chunk."""

import warnings

import h5py
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import batterylab.aging as A
from batterylab.aging.fleet_output import decode_state, encode_state
from batterylab.errors import InputError
from batterylab.io import ResultsWriter, Variable, read_results
from batterylab.kernels import aging as K

DAY = np.arange(0.0, 86400.0 * 7 + 1.0, 3600.0)
SOC = 0.5 + 0.4 * np.cos(2 * np.pi * DAY / 86400.0)
TK = 295.15 + 8.0 * np.sin(2 * np.pi * DAY / 86400.0)


def _fleet(model, n, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return A.simulate_fleet(model, DAY, SOC, TK, n_cells=n, temperature_spread_K=2.0, seed=3, progress=False,
                                years=1.0, **kw)


def _same_file(a_path, b_path):
    a, a_attrs = read_results(a_path)
    b, b_attrs = read_results(b_path)
    assert set(b) - set(a) == {"state"} and not set(a) - set(b)
    for k, v in a.items():
        assert np.array_equal(v.data, b[k].data), k
        assert (v.dims, v.units, v.long_name) == (b[k].dims, b[k].units, b[k].long_name), k
    assert a_attrs["configuration_json"] == b_attrs["configuration_json"]


@pytest.mark.parametrize("model, n, kw", [
    ("naumann2020", 150, {"share_profile": False}),        # per-sample kernel, per-cell path
    ("naumann2020", 1200, {}),                             # shared-profile interpolation
    ("blast_nmc111_kokam75ah", 60, {}),                    # window kernel
])
def test_streamed_file_is_the_saved_result(tmp_path, model, n, kw):
    mem = _fleet(model, n, **kw)
    mem.save(tmp_path / "mem.h5")
    out = _fleet(model, n, save_to=tmp_path / "stream.h5", chunk_size=37, **kw)
    assert isinstance(out, A.AgingFleetFile) and out.path == tmp_path / "stream.h5"
    _same_file(tmp_path / "mem.h5", tmp_path / "stream.h5")
    # the summary accumulated chunk by chunk is the in-memory one (sums in another order: 1e-12)
    want, got = mem.summary(), out.summary()
    assert set(want) == set(got)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12, abs=0.0) if isinstance(v, float) else got[k] == v, k
    assert np.array_equal(out.capacity_fraction_min, mem.capacity_fraction.min(axis=0))
    assert np.array_equal(out.eol_time_s, mem.eol_time_s)
    back = out.load()
    for key in ("capacity_fraction", "efc", "time_s", "full_cycles", "half_cycles"):
        assert np.array_equal(getattr(back, key), getattr(mem, key)), key
    # the compact state differs from the full one only in stack slots no kernel reads
    live = np.ones(mem.state.data.shape, bool)
    ns = len(mem.states)
    stack = live[:, K.HEAD + ns:].reshape(n, K.N_PT, K.STACK + 1)
    for c in range(n):
        stack[c, :, int(mem.state.data[c, K.H_NSTACK]):] = False
    assert np.array_equal(out.state().data[live], mem.state.data[live])


def test_resuming_from_the_file_is_resuming_from_memory(tmp_path):
    mem = _fleet("naumann2020", 40)
    out = _fleet("naumann2020", 40, save_to=tmp_path / "f.h5", chunk_size=16)
    later = DAY + mem.time_s[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = A.simulate_fleet("naumann2020", later, SOC, TK, state=mem.state, temperature_offset_K=np.zeros(40),
                             repeat=4, progress=False)
        b = A.simulate_fleet("naumann2020", later, SOC, TK, state=out.state(), temperature_offset_K=np.zeros(40),
                             repeat=4, progress=False)
    assert np.array_equal(a.capacity_fraction, b.capacity_fraction)
    assert np.array_equal(a.state.data[:, :K.HEAD + 4], b.state.data[:, :K.HEAD + 4])


def test_streaming_never_makes_the_whole_fleet(tmp_path, monkeypatch):
    """No in-memory sink, and no block larger than a chunk, on either path."""
    from batterylab.aging import fleet_output

    def refuse(*a, **k):
        raise AssertionError("the whole fleet's arrays were allocated")

    sizes = []
    real = fleet_output.FleetFile.put
    monkeypatch.setattr(fleet_output.FleetArrays, "__init__", refuse)

    def put(self, a, b, rec, state):
        sizes.append(b - a)
        real(self, a, b, rec, state)

    monkeypatch.setattr(fleet_output.FleetFile, "put", put)
    _fleet("naumann2020", 90, save_to=tmp_path / "a.h5", chunk_size=40, share_profile=False)
    assert sizes == [40, 40, 10]
    sizes.clear()
    monkeypatch.setattr("batterylab.aging.shared_profile.BLOCK", 500)
    _fleet("naumann2020", 1200, save_to=tmp_path / "b.h5")
    assert sizes == [500, 500, 200]


def test_a_failed_run_leaves_no_file(tmp_path, monkeypatch):
    """A failure in the middle of the run leaves no file (and no temporary) behind."""
    from batterylab.aging import fleet_output

    calls = []
    real = fleet_output.FleetFile.put

    def put(self, a, b, rec, state):
        calls.append(b - a)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real(self, a, b, rec, state)

    monkeypatch.setattr(fleet_output.FleetFile, "put", put)
    with pytest.raises(RuntimeError, match="disk full"):
        _fleet("naumann2020", 100, save_to=tmp_path / "f.h5", chunk_size=25, share_profile=False)
    assert calls == [25, 25, 25]
    assert list(tmp_path.iterdir()) == []


def test_save_to_is_checked_before_the_run(tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["batterylab.aging.simulate"], "_run", lambda *a, **k: pytest.fail("the fleet ran before its file path was checked"))
    with pytest.raises(InputError, match="save_to"):
        _fleet("naumann2020", 5, save_to=12)
    with pytest.raises(InputError, match="save_to = .* is a folder"):
        _fleet("naumann2020", 5, save_to=tmp_path)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        _fleet("naumann2020", 5, save_to=tmp_path / "a_file" / "fleet.h5")


def test_streamed_result_contract(tmp_path):
    out = _fleet("naumann2020", 100, save_to=tmp_path / "f.h5", share_profile=False)
    out.save(tmp_path / "copy.h5")  # a copy, byte for byte
    assert (tmp_path / "copy.h5").read_bytes() == (tmp_path / "f.h5").read_bytes()
    assert out.plot() is not None
    tree = out.to_xarray()
    assert tree["capacity_fraction"].dims == ("cell", "time_s")
    with h5py.File(out.path, "r") as f:
        ds = f["capacity_fraction"]
        assert ds.compression == "gzip" and ds.chunks[0] <= 4096


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, K.STACK + 1), st.integers(0, 2**31))
def test_state_encoding_round_trip(n_cells, depth, seed):
    rng = np.random.default_rng(seed)
    ns = 3
    full = rng.normal(size=(n_cells, K.state_length(ns)))
    full[:, K.H_NSTACK] = rng.integers(0, depth + 1, n_cells)
    stack = full[:, K.HEAD + ns:].reshape(n_cells, K.N_PT, K.STACK + 1)
    for c in range(n_cells):
        stack[c, :, int(full[c, K.H_NSTACK]):] = 0.0  # slots beyond the stack: dead, restored as zero
    back = decode_state(encode_state(full, ns, depth), ns)
    assert np.array_equal(back, full)


def test_results_writer_writes_the_layout_of_write_results(tmp_path):
    from batterylab.io import write_results

    v = {"time_s": Variable(np.arange(5.0), "s", "Time [s]", ("time_s",)),
         "cell": Variable(np.arange(3), "1", "Cell index", ("cell",)),
         "q": Variable(np.linspace(1, 0.9, 15).reshape(3, 5), "1", "Relative capacity [-]", ("cell", "time_s"))}
    write_results(tmp_path / "a.h5", v, config={"x": 1})
    with ResultsWriter(tmp_path / "b.h5", config={"x": 1}) as w:
        w.create("q", (3, 5), "1", "Relative capacity [-]", ("cell", "time_s"), chunk_rows=2)
        w.write("q", slice(0, 2), v["q"].data[:2])
        w.write("q", slice(2, 3), v["q"].data[2:])
        w.add("time_s", v["time_s"])
        w.add("cell", v["cell"])
    a, _ = read_results(tmp_path / "a.h5")
    b, _ = read_results(tmp_path / "b.h5")
    assert set(a) == set(b)
    for k in a:
        assert np.array_equal(a[k].data, b[k].data) and a[k].dims == b[k].dims
