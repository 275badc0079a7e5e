"""Shared check: a batterylab HDF5 file opens with ``xarray.open_datatree`` and every group's
dimensions are named (no ``phony_dim_N``), every variable carries ``units``."""

from __future__ import annotations

import warnings


def assert_named_datatree(path) -> None:
    import xarray as xr

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # h5netcdf warns when it has to invent (phony) dimensions
        tree = xr.open_datatree(path, engine="h5netcdf")
    try:
        for node in tree.subtree:
            for dim in node.dims:
                assert not str(dim).startswith(("phony_dim", "dim_")), f"{path}: group {node.path} has unnamed dimension {dim}"
            for name, var in node.variables.items():
                assert "units" in var.attrs, f"{path}: {node.path}/{name} has no units attribute"
    finally:
        tree.close()
