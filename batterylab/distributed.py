"""Scale out with Dask: run independent chunks of cells, packs or designs on a ``dask.distributed`` cluster.

The library never creates a cluster. Every function that can use one takes an existing
``dask.distributed.Client`` as the keyword ``client`` (a ``LocalCluster`` on a laptop, or a
SLURM/Kubernetes cluster built with dask-jobqueue / dask-kubernetes); without it the work runs in
this process (Numba ``prange`` over cells). Only the command line builds a ``LocalCluster`` for
convenience (``--dask-workers N``), see :func:`client_from_options`.

How work is distributed
-----------------------
- Items (cells) are split into consecutive chunks (:func:`chunk_size_for`); each chunk is one Dask
  task that runs the compiled kernel with ``prange`` over its cells inside one worker process.
- Inputs shared by every chunk (the profile, the model) are scattered once to every worker
  (``broadcast=True``), so a worker that dies does not take the only copy with it.
- Results are gathered **in chunk order** and assembled by the client, which is the only writer
  of the result file. Every cell is computed by the same kernel with its own output slot, so the
  result is bit-identical to the in-process run for any chunking, worker or thread count.
- A worker process that dies mid-run (killed, out of memory) is replaced by its nanny and the
  scheduler re-runs its tasks elsewhere (up to ``distributed.scheduler.allowed-failures`` times);
  the result is complete and identical. A task that raises is not retried (the kernels are
  deterministic): :class:`DistributedTaskError` names the chunk (item range) and the cause.

Numba threads in Dask workers
-----------------------------
Dask sets ``OMP_NUM_THREADS`` (and MKL/OpenBLAS) in its worker processes but not
``NUMBA_NUM_THREADS``; a Numba worker would otherwise start one thread per core of the node in
each worker process and oversubscribe the machine. Pass it in the worker environment:
:func:`worker_environment` builds the dict for ``LocalCluster(..., env=...)`` (``Nanny``'s
``env``), and for a deployed cluster set it in the ``distributed.nanny.pre-spawn-environ`` config
(or ``export NUMBA_NUM_THREADS=...`` in the job script before ``dask worker``).

Threading layer: use ``threads_per_worker=1`` and let the kernel's ``prange`` use the
``NUMBA_NUM_THREADS`` cores of the worker. Dask's nanny starts workers with ``spawn`` (not
``fork``), so the ``omp`` layer (Numba's default when TBB is absent) works in them; with one Dask
thread per worker, only one thread per process ever launches a parallel kernel, so ``workqueue``
(which aborts the process when two threads launch parallel kernels concurrently) is safe too. With
several Dask threads per worker, use ``omp`` or ``tbb`` (thread-safe), never ``workqueue``.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .errors import InputError, RunError
from .progress import show_progress

__all__ = [
    "DistributedTaskError",
    "chunk_size_for",
    "client_from_options",
    "map_chunks",
    "map_items",
    "worker_environment",
    "check_client",
]

#: kernel steps (cell x sample) a task should at least hold: 0.3-1 s of compiled work on one
#: core (the ageing kernel runs 2e6-7e6 steps/s per core on a busy to quiet machine,
#: benchmarks/bench_dask.py), so the ~1 ms per-task scheduling overhead stays below 0.3 %.
MIN_TASK_STEPS = 2e6
#: tasks per Dask worker thread: enough for load balance and cheap re-runs after a lost worker.
TASKS_PER_THREAD = 4


class DistributedTaskError(RunError):
    """A chunk of a distributed run failed; ``start``/``stop`` give its item range (stop exclusive)."""

    def __init__(self, message: str, *, start: int, stop: int, chunk: int, n_chunks: int):
        super().__init__(message)
        self.start = start
        self.stop = stop
        self.chunk = chunk
        self.n_chunks = n_chunks


def check_client(client):
    """Check that ``client`` is a ``dask.distributed.Client`` (or None) and return it."""
    if client is None:
        return None
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is in the test extra
        raise InputError(
            "client was given but dask.distributed is not installed; install batterylab[dist]"
        ) from None
    if not isinstance(client, Client):
        raise InputError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    if client.status not in ("running", "newly-created"):
        raise InputError(f"client is not connected (status {client.status!r})")
    return client


def worker_environment(numba_threads: int = 1) -> dict:
    """Environment for Dask worker processes running batterylab kernels.

    ``NUMBA_NUM_THREADS`` sets the threads of each worker's ``prange`` (Dask does not set it);
    ``OMP_NUM_THREADS`` (which Dask sets to 1) gets the same value, so other OpenMP code in the
    worker (BLAS) is sized to the same share of the cores.
    Pass to ``LocalCluster(..., threads_per_worker=1, env=worker_environment(n))``.
    """
    from .checks import integer

    n = integer("numba_threads", numba_threads, low=1)
    return {"NUMBA_NUM_THREADS": str(n), "OMP_NUM_THREADS": str(n)}


def _total_threads(client) -> int:
    try:
        info = client.scheduler_info()
        workers = info.get("workers", {})
        n = sum(int(w.get("nthreads", 1)) for w in workers.values())
        return max(1, n)
    except Exception:  # pragma: no cover - a scheduler that cannot answer still gets work
        return 1


def chunk_size_for(n_items: int, steps_per_item: float, n_threads: int) -> int:
    """Items per task: about ``TASKS_PER_THREAD`` tasks per Dask worker thread, each of at least
    ``MIN_TASK_STEPS`` kernel steps (item x sample), never more items than ``n_items``.

    ``steps_per_item`` is the work of one item (samples x repetitions for an ageing cell).
    """
    from .checks import integer, positive

    n_items = integer("n_items", n_items, low=0)
    if n_items == 0:
        return 1
    n_threads = integer("n_threads", n_threads, low=1)
    steps_per_item = positive("steps_per_item", steps_per_item)
    balanced = math.ceil(n_items / (TASKS_PER_THREAD * n_threads))
    long_enough = math.ceil(MIN_TASK_STEPS / max(1.0, steps_per_item))
    return int(max(1, min(n_items, max(balanced, long_enough))))


@dataclass(frozen=True)
class _Shared:
    """One object scattered to every worker (a tuple would be scattered element by element)."""

    value: Any


def _call(func, shared, start, stop, *args):
    return func(shared.value if isinstance(shared, _Shared) else shared, start, stop, *args)


def map_chunks(
    client,
    func: Callable,
    n_items: int,
    chunk_size: int,
    *,
    shared: Any = None,
    per_chunk: Callable[[int, int], tuple] | None = None,
    label: str = "cells",
    progress: bool | None = None,
    desc: str | None = None,
) -> Iterator[tuple[int, int, Any]]:
    """Run ``func(shared, start, stop, *per_chunk(start, stop))`` for consecutive chunks on ``client``.

    Yields ``(start, stop, result)`` in chunk order (the client assembles them). ``shared`` is
    scattered once to every worker; ``per_chunk`` builds the chunk's own arguments on the client
    (e.g. its slice of per-cell arrays; arrays over 1 MB travel as scattered data, not inside the
    task graph). ``func`` must be importable by the workers (a module-level
    function of an installed package).

    Raises
    ------
    DistributedTaskError
        When a task raises, or kills its workers more often than the scheduler allows; the message
        names the chunk's ``label`` range and the cause. The remaining tasks are cancelled.
    """
    from .checks import integer, optional_boolean

    n_items = integer("n_items", n_items, low=1)
    chunk_size = integer("chunk_size", chunk_size, low=1)
    optional_boolean("progress", progress)
    _required_client(client)
    return _map_chunks(client, func, n_items, chunk_size, shared, per_chunk, label, progress, desc)


def _required_client(client):
    if client is None:
        raise InputError("client must be a dask.distributed.Client, got None")
    return check_client(client)


#: Per-chunk arguments larger than this [bytes] are scattered rather than embedded in the graph.
_SCATTER_BYTES = 1_000_000


def _map_chunks(client, func, n_items, chunk_size, shared, per_chunk, label, progress, desc):
    bounds = [(a, min(n_items, a + chunk_size)) for a in range(0, n_items, chunk_size)]
    token = uuid.uuid4().hex[:12]
    shared_f = client.scatter(_Shared(shared), broadcast=True, hash=False)
    futures = []
    for i, (a, b) in enumerate(bounds):
        extra = per_chunk(a, b) if per_chunk is not None else ()
        # a chunk's large arrays go to the workers as data, not inside the task graph (whose size
        # the scheduler warns about: 60 MB for a 100,000-pack fleet's state vectors)
        extra = tuple(client.scatter(x, hash=False) if getattr(x, "nbytes", 0) > _SCATTER_BYTES else x for x in extra)
        futures.append(
            client.submit(_call, func, shared_f, a, b, *extra, key=f"batterylab-{label}-{token}-{i}",
                          pure=False, retries=0)
        )
    bar = None
    if show_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=n_items, unit=label[:-1] if label.endswith("s") else label, desc=desc)
    try:
        for i, ((a, b), fut) in enumerate(zip(bounds, futures)):
            try:
                res = fut.result()
            except Exception as exc:
                for f in futures[i + 1:]:
                    f.cancel()
                raise DistributedTaskError(
                    f"{label} {a}..{b - 1} (chunk {i + 1} of {len(bounds)}, key {fut.key!r}) failed: "
                    f"{type(exc).__name__}: {exc}",
                    start=a, stop=b, chunk=i, n_chunks=len(bounds),
                ) from exc
            futures[i] = None  # release the result on the workers
            fut.release()
            if bar is not None:
                bar.update(b - a)
            yield a, b, res
    finally:
        if bar is not None:
            bar.close()
        for f in futures:
            if f is not None:
                f.cancel()
        shared_f.release()


#: How long the command line waits for a Dask scheduler that accepted the connection [s].
SCHEDULER_TIMEOUT_S = 10.0


def _check_scheduler(address) -> None:
    """A scheduler address: ``tcp://HOST:PORT`` (or another Dask protocol); a closed TCP port fails at once."""
    import re
    import socket

    if not isinstance(address, str) or not address.strip():
        raise InputError(f"--scheduler must be an address such as tcp://10.0.0.1:8786, got {address!r}")
    m = re.fullmatch(r"(?:(?P<proto>[a-z]+)://)?(?P<host>\[[^\]]+\]|[^:/\s]+)(?::(?P<port>\d+))?/?", address.strip())
    if m is None:
        raise InputError(f"--scheduler must be an address such as tcp://10.0.0.1:8786, got {address!r}")
    proto, host, port = m["proto"] or "tcp", m["host"].strip("[]"), m["port"]
    if proto not in ("tcp", "tls", "ws", "wss", "inproc", "ucx"):
        raise InputError(f"--scheduler {address!r}: unknown protocol {proto!r}; expected tcp://HOST:PORT")
    if proto == "tcp":
        if port is None:
            raise InputError(f"--scheduler {address!r} has no port; expected tcp://HOST:PORT (Dask's default is 8786)")
        if not 0 < int(port) < 65536:
            raise InputError(f"--scheduler {address!r}: port {port} is not in 1..65535")
        try:
            socket.create_connection((host, int(port)), timeout=SCHEDULER_TIMEOUT_S).close()
        except OSError as exc:
            raise InputError(f"--scheduler: cannot connect to the Dask scheduler at {address!r}: "
                             f"{exc.strerror or type(exc).__name__}; is it running?") from None


def client_from_options(scheduler: str | None, workers: int | None, numba_threads: int | None = None):
    """The command line's cluster: connect to ``scheduler`` or start a ``LocalCluster`` of ``workers``.

    Returns ``(client, close)``; ``close()`` shuts down what was started. ``(None, no-op)`` when
    neither is given (in-process run). A LocalCluster gets one Dask thread per worker process and
    ``NUMBA_NUM_THREADS = numba_threads`` (default: the cores divided among the workers).
    """
    from .checks import optional_integer

    numba_threads = optional_integer("numba_threads", numba_threads, low=1)
    if scheduler is None and workers is None:
        return None, lambda: None
    if scheduler is not None and workers is not None:
        raise InputError(f"give --scheduler or --dask-workers, not both (got {scheduler!r} and {workers!r})")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--scheduler/--dask-workers need dask.distributed: pip install batterylab[dist]") from None
    if scheduler is not None:
        _check_scheduler(scheduler)
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler: cannot connect to the Dask scheduler at {scheduler!r} within "
                             f"{SCHEDULER_TIMEOUT_S:g} s ({type(exc).__name__}); is it running?") from None
        return client, client.close
    from .checks import integer

    workers = integer("--dask-workers", workers, low=1)
    if numba_threads is None:
        numba_threads = max(1, (os.cpu_count() or 1) // workers)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           env=worker_environment(numba_threads), dashboard_address=":0")
    client = Client(cluster)

    def close():
        client.close()
        cluster.close()

    return client, close


# --- lists of independent items (grading files, sweep points, design runs) ----------------------


def _items_task(shared, start, stop, items):
    func, args = shared
    return func(items, *args)


def map_items(client, func: Callable, items: list, args: tuple = (), *, chunk_size: int | None = None,
              label: str = "items", progress: bool | None = None, desc: str | None = None) -> list:
    """``[func(chunk, *args) for chunk in chunks(items)]`` as Dask tasks, results in chunk order.

    ``func`` must be a module-level function of an installed package; ``args`` are scattered once.
    Default chunks: about ``TASKS_PER_THREAD`` per worker thread (at most 250 items).
    """
    from .checks import optional_boolean, optional_integer

    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise InputError(f"items must be a list, got {type(items).__name__} {items!r:.60}")
    if isinstance(args, (str, bytes)) or not isinstance(args, (tuple, list)):
        raise InputError(f"args must be a tuple of arguments, got {type(args).__name__} {args!r:.60}")
    chunk_size = optional_integer("chunk_size", chunk_size, low=1)
    optional_boolean("progress", progress)
    _required_client(client)
    items = list(items)
    if not items:
        return []
    if not chunk_size:
        chunk_size = max(1, min(250, math.ceil(len(items) / (TASKS_PER_THREAD * _total_threads(client)))))
    return [res for _, _, res in map_chunks(client, _items_task, len(items), int(chunk_size), shared=(func, tuple(args)),
                                            per_chunk=lambda a, b: (items[a:b],), label=label, progress=progress,
                                            desc=desc)]
