"""The one jit policy of every batterylab kernel.

- ``cache=True``: compiled code is cached on disk. Numba raises at import when the cache folder is
  not writable (e.g. a read-only site-packages), so unless the user set ``NUMBA_CACHE_DIR`` the
  cache goes to a per-user folder (``$XDG_CACHE_HOME/batterylab/numba-<policy>``, named after the
  flags below: Numba's cache does not notice a change of flags, a new folder does).
- ``fastmath`` with an explicit flag set that keeps NaN and inf semantics (no ``nnan``/``ninf``),
  so NaN guards inside kernels stay effective, and without ``reassoc``: with reassociation the
  optimiser's choices (which differ between a fresh compile and a cached one) changed results in
  the last digits, so the same call gave different numbers in different processes.
- ``error_model="numpy"``: division by zero gives inf/NaN (then caught by guards) instead of
  raising from inside a parallel loop.

Numba's cache only notices edits to the kernel's own file and freezes module globals: keep each
kernel with its helpers and pass settings as arguments.

An integer or boolean constant passed to a compiled helper (``0``, a named code such as
``PART_WINDOW``, a counter that starts at ``0``, ``True``) is typed as a literal, and the helper is
compiled once more for each such value: a full compile of its body. Pass ``np.int64(...)`` or
``np.bool_(...)`` instead (``tests/test_compile.py`` checks every kernel).
"""

from __future__ import annotations

import os
from pathlib import Path


#: fastmath flags: no nnan/ninf (NaN guards work), no reassoc (results reproducible across
#: processes). Numba accepts a plain set here, not a frozenset.
FASTMATH = {"nsz", "arcp", "contract", "afn"}


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    policy = "-".join(sorted(FASTMATH))
    return str(Path(base) / "batterylab" / f"numba-{policy}")


if not os.environ.get("NUMBA_CACHE_DIR"):
    os.environ["NUMBA_CACHE_DIR"] = _default_cache_dir()

import numba  # noqa: E402  (NUMBA_CACHE_DIR must be set first)

_POLICY = dict(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)


def kernel(*args, parallel: bool = False, **overrides):
    """``numba.njit`` with batterylab's policy. Use as ``@kernel`` or ``@kernel(parallel=True)``."""
    options = {**_POLICY, "fastmath": set(FASTMATH), **overrides, "parallel": parallel}
    if args and callable(args[0]) and len(args) == 1:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)


def helper(func=None, *, borrows: bool = False, **overrides):
    """A helper function of a kernel, compiled with the same policy (pass inline="always" to inline it).

    ``borrows=True``: the helper only reads and writes the arrays it is given (it allocates none
    and keeps none), so it is compiled without Numba's reference counting (``_nrt=False``). Every
    array argument of an ordinary call costs an atomic increment and decrement (about 12 ns per
    array here); helpers called per event with twenty model arrays spend most of their time there.
    """
    options = {**_POLICY, "fastmath": set(FASTMATH), **overrides}
    if borrows:
        options["_nrt"] = False
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


prange = numba.prange


def set_num_threads(n: int) -> None:
    """Set the number of threads parallel kernels use (results do not depend on it)."""
    numba.set_num_threads(int(n))


def get_num_threads() -> int:
    return numba.get_num_threads()
