"""batterylab's compiled core: Numba kernels on float64 arrays.

Nothing here imports PyBaMM, reads files or builds Python objects: arrays in, arrays out. All
kernels are compiled with the single policy in :mod:`batterylab.kernels.jit`.
"""
