"""batterylab.distributed: fleets on a 2-process Dask LocalCluster, identical to the in-process run."""

from __future__ import annotations

import logging
import os
import sys

import h5py
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import batterylab.aging as aging  # noqa: E402
from batterylab import distributed as bd  # noqa: E402
from batterylab.errors import BatterylabError, InputError  # noqa: E402

# the worker plugin and patches below are defined here: ship them by value (workers may not
# import this test module)
distributed.protocol.pickle.cloudpickle.register_pickle_by_value(sys.modules[__name__])

DAY_S = np.arange(25) * 3600.0
SOC = np.interp(DAY_S, [0, 3600, 72000, 75600, 86400], [0.85, 0.35, 0.35, 0.85, 0.85])
T_K = 310.0 + 3.0 * np.sin(2 * np.pi * DAY_S / 86400)
# 30 cells with their own temperature and coefficient draws, 2 years of a daily profile
FLEET = dict(n_cells=30, temperature_spread_K=2.0, coefficient_spread=0.05, seed=3, years=2, progress=False)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, env=bd.worker_environment(1),
        dashboard_address=":0", silence_logs=logging.CRITICAL,
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def reference():
    return aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, **FLEET)


def _assert_same_result(a, b):
    assert np.array_equal(a.time_s, b.time_s)
    for name in ("capacity_fraction", "resistance_factor", "efc", "full_cycles", "half_cycles", "eol_time_s"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for k in a.states:
        assert np.array_equal(a.states[k], b.states[k]), k
    for k in a.groups:
        assert np.array_equal(a.groups[k], b.groups[k]), k
    assert np.array_equal(a.state.data, b.state.data)


def _h5_contents(path):
    """Every dataset's bytes and every attribute, except the creation time."""
    out = {}
    with h5py.File(path, "r") as f:
        out["/attrs"] = {k: v for k, v in f.attrs.items() if k != "created_utc"}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                raw = data.tolist() if data.dtype.kind == "O" else data.tobytes()  # strings by value
                out[name] = (obj.dtype.str, obj.shape, raw,
                             {k: str(v) for k, v in obj.attrs.items() if k not in ("DIMENSION_LIST", "REFERENCE_LIST")})

        f.visititems(visit)
    return out


def test_fleet_on_cluster_is_bit_identical(client, reference, tmp_path):
    # uneven chunks (7 does not divide 30) and the default chunking
    for chunk in (7, None):
        r = aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, client=client, chunk_size=chunk, **FLEET)
        _assert_same_result(r, reference)
    assert reference.capacity_fraction[:, -1].std() > 0  # the cells really differ

    def numba_in_worker():
        import numba

        return numba.config.NUMBA_NUM_THREADS, numba.get_num_threads(), numba.threading_layer()

    # the worker environment reached the workers; their prange kernels ran (a layer was chosen)
    for threads, active, layer in client.run(numba_in_worker).values():
        assert (threads, active) == (1, 1) and layer in ("omp", "tbb", "workqueue")
    # the HDF5 files are identical dataset by dataset (bytes, dtype, shape, units)
    reference.save(tmp_path / "local.h5")
    r.save(tmp_path / "dask.h5")
    a, b = _h5_contents(tmp_path / "local.h5"), _h5_contents(tmp_path / "dask.h5")
    assert set(a) == set(b) and len(a) > 5
    for k in a:
        assert a[k] == b[k], k
    # streamed to a file from the cluster's chunks (workers make a fresh fleet's start states):
    # the same datasets, and the same state as the in-process streamed file
    aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, client=client, chunk_size=7, save_to=tmp_path / "s.h5",
                         **FLEET)
    aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, chunk_size=11, save_to=tmp_path / "s_local.h5", **FLEET)
    c, d = _h5_contents(tmp_path / "s.h5"), _h5_contents(tmp_path / "s_local.h5")
    assert set(c) == set(a) | {"state", "state_column"} and set(d) == set(c)
    for k in c:
        assert c[k] == d[k] and (k.startswith("state") or c[k] == a[k]), k


def test_per_cell_profiles_and_resume_on_cluster(client):
    # one SOC row per cell, and resuming from a state: the per-chunk slices are the right rows
    n = 9
    soc_rows = 0.5 + (SOC - 0.5) * np.linspace(0.6, 1.0, n)[:, None]
    kw = dict(repeat=20, progress=False, finalize=False)
    first = aging.simulate_fleet("naumann2020", DAY_S, soc_rows, T_K, **kw)
    ref = aging.simulate_fleet("naumann2020", DAY_S + 20 * 86400, soc_rows, T_K, state=first.state, **kw)
    got = aging.simulate_fleet("naumann2020", DAY_S + 20 * 86400, soc_rows, T_K, state=first.state,
                               client=client, chunk_size=4, **kw)
    _assert_same_result(got, ref)


def test_failing_chunk_names_its_cells(client):
    # make the kernel call fail on the workers for the chunk holding cell 10 only
    def patch():
        import batterylab.aging  # noqa: F401

        S = sys.modules["batterylab.aging.simulate"]  # (the package attribute is the function)
        S._orig_run = getattr(S, "_orig_run", S._run)

        def failing(model, t, soc, T, I, has_current, repeat, out_t, t_off, usage, mult, states, finalize):
            if t_off.size == 7 and np.isclose(t_off[0], marker):
                raise RuntimeError("injected failure")
            return S._orig_run(model, t, soc, T, I, has_current, repeat, out_t, t_off, usage, mult, states, finalize)

        S._run = failing

    def unpatch():
        S = sys.modules["batterylab.aging.simulate"]
        S._run = getattr(S, "_orig_run", S._run)

    offsets = np.linspace(0.0, 2.9, 30)
    marker = offsets[7]  # chunk 2 (cells 7..13) starts at this offset
    client.run(patch)
    try:
        with pytest.raises(bd.DistributedTaskError) as err:
            aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, temperature_offset_K=offsets, repeat=3,
                                 client=client, chunk_size=7, progress=False)
    finally:
        client.run(unpatch)
    e = err.value
    assert isinstance(e, BatterylabError)
    assert (e.start, e.stop, e.chunk, e.n_chunks) == (7, 14, 1, 5)
    msg = str(e)
    assert "cells 7..13" in msg and "chunk 2 of 5" in msg and "RuntimeError: injected failure" in msg
    # the cluster is still usable afterwards
    r = aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, temperature_offset_K=offsets, repeat=3,
                             client=client, chunk_size=7, progress=False)
    assert r.capacity_fraction.shape[0] == 30


class _KillOnce(distributed.WorkerPlugin):
    """Kills its worker process (os._exit) when the third fleet chunk starts, once per cluster."""

    name = "batterylab-test-kill-once"

    def __init__(self, marker):
        self.marker = str(marker)

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("batterylab-cells-") and str(key).endswith("-2"):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os._exit(1)


def test_killed_worker_still_gives_the_identical_result(client, reference, tmp_path):
    pids_before = set(client.run(os.getpid).values())
    marker = tmp_path / "killed"
    client.register_plugin(_KillOnce(marker))
    try:
        r = aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, client=client, chunk_size=5, **FLEET)
    finally:
        client.unregister_worker_plugin(_KillOnce.name)
    killed = int(marker.read_text())
    assert killed in pids_before  # a worker process really died mid-run ...
    client.wait_for_workers(2, timeout=60)
    assert killed not in set(client.run(os.getpid).values())  # ... and was replaced
    _assert_same_result(r, reference)  # the result is complete and identical


def test_chunk_size_for():
    # balanced: about 4 tasks per thread once tasks are long enough
    assert bd.chunk_size_for(1000, 1e6, 2) == 125
    # short cells: chunks grow until a task holds MIN_TASK_STEPS steps, capped at n_items
    assert bd.chunk_size_for(1000, 1e3, 2) == 1000
    assert bd.chunk_size_for(10**6, 100.0, 100) == int(bd.MIN_TASK_STEPS / 100.0)
    assert bd.chunk_size_for(0, 1.0, 1) == 1


def test_bad_client_and_options():
    with pytest.raises(InputError, match="client must be a dask.distributed.Client"):
        aging.simulate_fleet("naumann2020", DAY_S, SOC, T_K, n_cells=2, client="tcp://x:8786", progress=False)
    with pytest.raises(InputError, match="numba_threads"):
        bd.worker_environment(0)
    with pytest.raises(InputError, match="not both"):
        bd.client_from_options("tcp://127.0.0.1:8786", 2)
    with pytest.raises(InputError, match="--dask-workers must be >= 1"):
        bd.client_from_options(None, 0)
    c, close = bd.client_from_options(None, None)
    assert c is None
    close()
    assert bd.worker_environment(3) == {"NUMBA_NUM_THREADS": "3", "OMP_NUM_THREADS": "3"}


def test_age_cli_on_a_scheduler(client, tmp_path):
    from click.testing import CliRunner

    from batterylab.aging.cli import age

    prof = tmp_path / "day.csv"
    prof.write_text("time_s,soc,temperature_K\n" + "\n".join(f"{t},{s},{T}" for t, s, T in zip(DAY_S, SOC, T_K)))
    args = ["naumann2020", str(prof), "--years", "1", "--cells", "12", "--temperature-spread-K", "2",
            "--seed", "4", "--quiet"]
    runner = CliRunner()
    res_d = runner.invoke(age, args + ["--out", str(tmp_path / "d.h5"), "--scheduler", client.scheduler.address])
    res_l = runner.invoke(age, args + ["--out", str(tmp_path / "l.h5")])
    assert res_d.exit_code == 0, res_d.output
    assert res_l.exit_code == 0, res_l.output
    a, b = _h5_contents(tmp_path / "d.h5"), _h5_contents(tmp_path / "l.h5")
    assert a == b
    res = runner.invoke(age, args + ["--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2"])
    assert res.exit_code != 0 and "not both" in str(res.exception)


def test_grade_on_a_scheduler_matches_local(client, tmp_path):
    from click.testing import CliRunner

    from batterylab.grading.cli import grade
    from batterylab.grading.readers import write_cell_record
    from batterylab.grading.synthetic import make_batch

    d = tmp_path / "in"
    d.mkdir()
    recs, _ = make_batch(5, seed=2, soft_short_fraction=0.0)
    for r in recs:
        write_cell_record(d / f"{r.cell_id}.h5", r)
    (d / "corrupt.csv").write_bytes(b"\x00\x01garbage\n")  # an error row, not a failed task
    args = ["--chemistry", "nmc-graphite", "--price", "100", "--quiet", "--no-second-life"]
    runner = CliRunner()
    res_l = runner.invoke(grade, [str(d), "--out", str(tmp_path / "l"), "--jobs", "1", *args])
    res_d = runner.invoke(grade, [str(d), "--out", str(tmp_path / "d"), "--scheduler", client.scheduler.address, *args])
    assert res_l.exit_code == 0, res_l.output
    assert res_d.exit_code == 0, res_d.output
    assert (tmp_path / "d" / "grades.csv").read_text() == (tmp_path / "l" / "grades.csv").read_text()
    assert "corrupt.csv" in (tmp_path / "d" / "grades.csv").read_text()
    assert _h5_contents(tmp_path / "d" / "measurements.h5") == _h5_contents(tmp_path / "l" / "measurements.h5")


def test_map_items_in_order_and_failures_named(client):
    from batterylab.grading.batch import run_parallel

    out = bd.map_items(client, sorted, list(range(23, 0, -1)), (), chunk_size=5, label="files")
    assert out == [sorted(range(23, 0, -1)[i:i + 5]) for i in range(0, 23, 5)]
    with pytest.raises(bd.DistributedTaskError, match=r"files 5\.\.9 \(chunk 2 of 2.*ZeroDivisionError"):
        run_parallel(_reciprocals, [1.0] * 5 + [0.0] + [1.0] * 4, (), workers=None, progress=False, chunk_size=5,
                     desc="", client=client, label="files")


def _reciprocals(chunk):
    return [1 / x for x in chunk]


def test_station_sweep_on_cluster_is_identical(client):
    from batterylab.swap.simulate import simulate_sweep

    stations = ["nio_gen3_like"] * 5
    seeds = [3, 1, 4, 1, 5]
    local = simulate_sweep(stations, days=5, seeds=seeds)
    dist = simulate_sweep(stations, days=5, seeds=seeds, client=client)
    assert len(dist) == 5
    for a, b in zip(local, dist):
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(a[k], b[k]), k
    assert not np.array_equal(dist[0]["day_import_Wh"], dist[2]["day_import_Wh"])  # seeds matter


def _fake_run_point(point, spec):
    """A deterministic stand-in for a PyBaMM run (the plumbing is tested here, not PyBaMM)."""
    t = np.linspace(0.0, 3600.0 * (1 + len(point.name)), 11)
    return {"time_s": t, "current_A": np.cos(t / 1000.0) * point.ambient_K / 300.0, "capacity0_Ah": np.float64(5.0),
            "wall_s": np.float64(0.0), "lam_ne": np.full(3, point.ambient_K * 1e-5)}


def test_calibration_design_on_cluster(client, tmp_path, monkeypatch):
    from batterylab.aging import calibrate as cal

    def patch():
        import batterylab.aging.calibrate as C

        C._orig_run_point = getattr(C, "_orig_run_point", C.run_point)
        C.run_point = fake

    def unpatch():
        import batterylab.aging.calibrate as C

        C.run_point = getattr(C, "_orig_run_point", C.run_point)

    fake = _fake_run_point
    points = [cal.DesignPoint(f"p{i}", "cycle", 283.15 + 10 * i, 1.0, 1.0, 0.0, 1.0, 3) for i in range(3)]
    monkeypatch.setattr(cal, "run_point", _fake_run_point)
    local = cal.run_design(points, cache_dir=tmp_path / "local", progress=False)
    client.run(patch)
    try:
        dist = cal.run_design(points, cache_dir=tmp_path / "dask", progress=False, client=client)
    finally:
        client.run(unpatch)
    assert list(dist) == [p.name for p in points]
    for name in local:
        assert local[name].keys() == dist[name].keys()
        for k in local[name]:
            assert np.array_equal(local[name][k], dist[name][k]), (name, k)
    # the client wrote one cache file per point; a second call reads them without any task
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == sorted(p.name for p in (tmp_path / "local").iterdir())
    again = cal.run_design(points, cache_dir=tmp_path / "dask", progress=False, client=client)
    assert np.array_equal(again["p2"]["lam_ne"], local["p2"]["lam_ne"])


def test_calibrate_cli_scheduler_options():
    from click.testing import CliRunner

    from batterylab.aging.calibrate_cli import calibrate

    res = CliRunner().invoke(calibrate, ["LGM50", "--out", "x.json", "--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2"])
    assert res.exit_code != 0 and "not both" in str(res.exception)
