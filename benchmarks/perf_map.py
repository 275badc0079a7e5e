"""Name the compiled kernels' functions for ``perf``: Numba's machine code is anonymous to it.

    NUMBA_CACHE_DIR=$(mktemp -d) perf record -o perf.data python my_run.py
    perf report -i perf.data --no-children --sort symbol

where ``my_run.py`` ends with::

    from perf_map import write_perf_map
    from batterylab.kernels import aging
    write_perf_map(aging.integrate_fleet)

``perf report`` then shows each compiled helper that was not inlined (``_step``, ``_raw``, ...)
under its own name. It reads ``/tmp/perf-<pid>.map``, which this writes. Only functions compiled
in this process have a module to enumerate: run with an empty ``NUMBA_CACHE_DIR`` and run the
workload long enough that the compilation does not dominate the profile.
"""

from __future__ import annotations

import os


def write_perf_map(*dispatchers) -> int:
    """Write ``/tmp/perf-<pid>.map`` for every function linked into the dispatchers' compiled
    overloads; returns how many were named."""
    found = []
    for d in dispatchers:
        for cres in d.overloads.values():
            lib = cres.library
            for f in lib._final_module.functions:
                if not f.is_declaration:
                    addr = lib.get_pointer_to_function(f.name)
                    if addr:
                        found.append((addr, f.name))
    found.sort()
    ends = [a for a, _ in found[1:]] + [found[-1][0] + 65536] if found else []
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as fh:
        for (addr, name), end in zip(found, ends):
            fh.write(f"{addr:x} {end - addr:x} {name[:100]}\n")
    return len(found)
