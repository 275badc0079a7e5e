"""One result contract for every application.

Every public simulate / run / grade entry point returns an object with

- ``.save(path)`` — HDF5 through :func:`batterylab.io.write_results` (units, dimension scales,
  provenance; opens with ``xarray.open_datatree(path, engine="h5netcdf")`` with named dimensions);
- ``.summary()`` — a dict of plain numbers (and a few strings), units in the key names;
- ``.plot(ax=None)`` — the figure a user wants first, on ``ax`` or on a new figure; returns the axes;
- ``.to_xarray()`` — the same variables as ``save`` writes, as an ``xarray.DataTree`` (named
  dimensions, ``units`` and ``long_name`` attributes), without a file.

:class:`Result` implements ``save`` and ``to_xarray`` from one method, :meth:`Result._h5_contents`,
so the file and the in-memory view can never differ.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from ..errors import InputError
from .hdf5 import Variable, _is_default_dim, write_results

__all__ = ["RenamedKeys", "Result", "deprecated_attribute", "new_axes", "to_datatree"]


class Result:
    """Mixin: ``save`` and ``to_xarray`` from :meth:`_h5_contents`; subclasses add ``summary`` and ``plot``."""

    def _h5_contents(self) -> dict:
        """``{"variables": {name: Variable}, "config": dict, "parameter_files": [...], "attrs": dict}``."""
        raise NotImplementedError

    def save(self, path) -> Path:
        """Write the result to ``path`` (HDF5) atomically, with units and provenance; returns the path."""
        c = self._h5_contents()
        return write_results(path, c["variables"], config=c.get("config"), parameter_files=c.get("parameter_files", ()),
                             attrs=c.get("attrs"))

    def to_xarray(self):
        """The saved variables as an ``xarray.DataTree`` (one node per HDF5 group)."""
        c = self._h5_contents()
        attrs = dict(c.get("attrs") or {})
        attrs["configuration_json"] = json.dumps(c.get("config") or {}, sort_keys=True, default=str)
        return to_datatree(c["variables"], attrs)


def to_datatree(variables: dict[str, Variable], attrs: dict | None = None):
    """Build an ``xarray.DataTree`` from :class:`Variable` s keyed like :func:`write_results`'s."""
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray is in the test extra
        raise InputError("to_xarray() needs xarray: pip install xarray") from None
    from .hdf5 import check_variables

    check_variables("variables", variables)
    if attrs is not None and not isinstance(attrs, dict):
        raise InputError(f"attrs must be a dict or None, got {type(attrs).__name__} {attrs!r:.60}")
    groups: dict[str, dict[str, Variable]] = {}
    for name, var in variables.items():
        group, _, leaf = name.rpartition("/")
        groups.setdefault(group, {})[leaf] = var
    datasets = {}
    for group, items in groups.items():
        coords, data = {}, {}
        for leaf, var in items.items():
            dims = tuple(f"{leaf}_{d}" if _is_default_dim(d) else d for d in var.dims)  # as write_results names them
            da = xr.Variable(dims, var.data, attrs={"units": var.units, "long_name": var.long_name, **var.attrs})
            if var.data.ndim == 1 and var.dims == (leaf,):
                coords[leaf] = da
            else:
                data[leaf] = da
        datasets["/" + group] = xr.Dataset(data, coords=coords)
    datasets.setdefault("/", xr.Dataset())
    datasets["/"].attrs.update(attrs or {})
    return xr.DataTree.from_dict(datasets)


def new_axes(ax=None, **subplots):
    """``ax`` itself, or the axes of a new figure (``matplotlib.figure.Figure``, no pyplot state)."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=subplots.pop("figsize", (7.0, 4.0)), layout="constrained")
    return fig.subplots(**subplots)


def twin_plot(ax, x, left, right, xlabel: str, left_label: str, right_label: str, labels=("", "")):
    """``left`` on ``ax`` (colour C0) and ``right`` on a twin y axis (colour C3) over ``x``;
    returns ``ax`` (with one legend of both lines when ``labels`` are given)."""
    ax.plot(x, left, color="C0", label=labels[0])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(left_label, color="C0")
    tx = ax.twinx()
    tx.plot(x, right, color="C3", label=labels[1])
    tx.set_ylabel(right_label, color="C3")
    if any(labels):
        legend(ax, tx)
    return ax


def legend(ax, *twins, **kwargs):
    """One legend on ``ax`` for the labelled lines of ``ax`` and of its twin axes ``twins``
    (a line drawn on a twin axis is otherwise missing from ``ax.legend()``); returns it."""
    handles, labels = [], []
    for a in (ax, *twins):
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    kwargs.setdefault("fontsize", 8)
    return ax.legend(handles, labels, **kwargs)


class RenamedKeys(dict):
    """A dict (a summary) whose renamed keys still answer for one release, with a DeprecationWarning.

    Only the new keys are stored, so iteration, ``json.dumps`` and ``==`` see the new names.
    """

    def __init__(self, data=(), renamed: dict | None = None):
        super().__init__(data)
        self._renamed = dict(renamed or {})

    def _new(self, key):
        if key in self._renamed and not super().__contains__(key):
            new = self._renamed[key]
            warnings.warn(f"summary key {key!r} is deprecated; use {new!r}", DeprecationWarning, stacklevel=3)
            return new
        return key

    def __getitem__(self, key):
        return super().__getitem__(self._new(key))

    def get(self, key, default=None):
        return super().get(self._new(key), default)

    def __reduce__(self):
        return (RenamedKeys, (dict(self), self._renamed))


def deprecated_attribute(new: str, old: str):
    """A read-only property ``old`` that returns ``self.<new>`` with a DeprecationWarning."""

    def getter(self):
        warnings.warn(f"{type(self).__name__}.{old} is deprecated; use .{new}", DeprecationWarning, stacklevel=2)
        value = getattr(self, new)
        return value

    return property(getter, doc=f"Deprecated name of :attr:`{new}`.")
