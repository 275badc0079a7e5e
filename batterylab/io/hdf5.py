"""HDF5 results that other tools open with units attached.

Layout written by :func:`write_results`:

- every dataset has ``units`` and ``long_name`` attributes (PyBaMM-style names with units in
  brackets, e.g. ``"Terminal voltage [V]"``);
- dimension coordinates (``time_s``, ``cell``, ...) are HDF5 dimension scales attached to the
  datasets that use them, so ``xarray.open_dataset(path, engine="h5netcdf")`` gives named
  dimensions;
- root attributes hold provenance: batterylab, pybamm (if imported), numba, numpy, h5py versions,
  creation time (UTC, ISO 8601), the run's configuration as JSON and the SHA-256 of every
  parameter file used;
- the file is written atomically (temporary file, then ``os.replace``), also when it is written
  piece by piece (:class:`ResultsWriter`, e.g. a fleet streamed chunk by chunk).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .._version import __version__
from ..errors import InputError
from .atomic import atomic_path

#: Datasets larger than this many elements are chunked and compressed.
COMPRESS_ABOVE = 4096


@dataclass
class Variable:
    """One array with its unit, a descriptive name and its dimension names.

    ``dims`` names each axis; a dimension named like a variable of the same file whose data is
    1-D becomes its coordinate (an HDF5 dimension scale).
    """

    data: np.ndarray
    units: str
    long_name: str
    dims: tuple[str, ...] = ()
    attrs: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("units", "long_name"):
            if not isinstance(getattr(self, name), str):
                raise InputError(f"Variable {name} must be a string, got {type(getattr(self, name)).__name__} "
                                 f"{getattr(self, name)!r:.60}")
        if isinstance(self.dims, str) or not isinstance(self.dims, (tuple, list)) \
                or not all(isinstance(d, str) for d in self.dims):
            raise InputError(f"Variable dims must be a tuple of dimension names, got {type(self.dims).__name__} "
                             f"{self.dims!r:.60}")
        self.dims = tuple(self.dims)
        if not isinstance(self.attrs, dict):
            raise InputError(f"Variable attrs must be a dict, got {type(self.attrs).__name__} {self.attrs!r:.60}")
        self.data = np.asarray(self.data)
        if not self.dims:
            self.dims = tuple(f"dim_{i}" for i in range(self.data.ndim))
        if len(self.dims) != self.data.ndim:
            raise InputError(
                f"Variable {self.long_name!r}: dims {self.dims} do not match data shape {self.data.shape}"
            )


def check_variables(name: str, variables) -> dict:
    """A dict of :class:`Variable` keyed by (group/)name, as :func:`write_results` takes."""
    if not isinstance(variables, dict):
        raise InputError(f"{name} must be a dict of Variable keyed by name, got {type(variables).__name__} "
                         f"{variables!r:.60}")
    for key, var in variables.items():
        if not isinstance(key, str) or not isinstance(var, Variable):
            raise InputError(f"{name}[{key!r}] must be a Variable keyed by a string, got {type(var).__name__}")
    return variables


def h5_name(name: str) -> str:
    """A name usable as one HDF5 path component (no ``/``, not starting with ``.``)."""
    if not isinstance(name, str):
        raise InputError(f"name must be a string, got {type(name).__name__} {name!r:.60}")
    name = name.replace("/", "_").strip() or "_"
    return "_" + name if name.startswith(".") else name


def sha256_file(path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def provenance(config: dict | None = None, parameter_files=()) -> dict:
    """Root attributes describing how a result was made."""
    import numba

    attrs = {
        "batterylab_version": __version__,
        "numpy_version": np.__version__,
        "numba_version": numba.__version__,
        "h5py_version": h5py.__version__,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "configuration_json": json.dumps(config or {}, sort_keys=True, default=_json_default),
    }
    pybamm = sys.modules.get("pybamm")
    if pybamm is not None:
        attrs["pybamm_version"] = pybamm.__version__
    hashes = {str(Path(p).name): sha256_file(p) for p in parameter_files}
    attrs["parameter_set_sha256_json"] = json.dumps(hashes, sort_keys=True)
    return attrs


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in the configuration JSON")


def _check_file_args(config, attrs, parameter_files) -> list:
    from ..checks import existing_file

    for name, value in (("config", config), ("attrs", attrs)):
        if value is not None and not isinstance(value, dict):
            raise InputError(f"{name} must be a dict or None, got {type(value).__name__} {value!r:.60}")
    if isinstance(parameter_files, (str, bytes)) or not hasattr(parameter_files, "__iter__"):
        raise InputError(f"parameter_files must be a list of paths, got {type(parameter_files).__name__} "
                         f"{parameter_files!r:.60}")
    return [existing_file(f"parameter_files[{i}]", p) for i, p in enumerate(parameter_files)]


def _compressed(size: int, kind: str) -> dict:
    if size > COMPRESS_ABOVE and kind in "fiub":
        return {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    return {}


class ResultsWriter:
    """A results file written piece by piece, in the layout of :func:`write_results`.

    Use it as a context manager: :meth:`add` writes a whole :class:`Variable`, :meth:`create`
    makes an empty dataset (chunked along its first axis, compressed) that :meth:`write` fills
    slice by slice as results are computed. On leaving the ``with`` block the dimension scales
    are attached and the file is moved onto ``path`` (atomically: on an exception the temporary
    file is removed and ``path`` is left untouched).
    """

    def __init__(self, path, *, config: dict | None = None, parameter_files=(), attrs: dict | None = None):
        from ..checks import output_path

        self.path = output_path("path", path)
        self._files = _check_file_args(config, attrs, parameter_files)
        #: the run's configuration, written (with the rest of the provenance) when the file is closed
        self.config = config
        self._attrs = attrs
        self._written: dict = {}
        self._file = None

    def __enter__(self) -> "ResultsWriter":
        self._atomic = atomic_path(self.path, suffix=".h5.tmp")
        tmp = self._atomic.__enter__()
        try:
            self._file = h5py.File(tmp, "w")
        except BaseException:
            self._close(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                for key, value in provenance(self.config, self._files).items():
                    self._file.attrs[key] = value
                for key, value in (self._attrs or {}).items():
                    self._file.attrs[key] = value
                _attach_scales(self._file, self._written)
            except BaseException:
                self._close(*sys.exc_info())
                raise
        return self._close(exc_type, exc, tb)

    def _close(self, exc_type, exc, tb):
        if self._file is not None:
            self._file.close()
            self._file = None
        return self._atomic.__exit__(exc_type, exc, tb)

    def _describe(self, name: str, ds, units: str, long_name: str, dims: tuple, attrs: dict) -> None:
        ds.attrs["units"] = units
        ds.attrs["long_name"] = long_name
        for k, v in attrs.items():
            ds.attrs[k] = v
        self._written[name] = (ds, dims)

    def add(self, name: str, var: Variable):
        """Write one whole variable (its dataset is compressed when it is large)."""
        if not isinstance(var, Variable):
            raise InputError(f"variables[{name!r}] must be a batterylab.io.Variable, got {type(var).__name__}")
        data = var.data
        if data.dtype.kind == "U":
            data = data.astype(h5py.string_dtype())
        kw = _compressed(data.size, data.dtype.kind)
        ds = self._file.create_dataset(name, data=data, **({"chunks": True, **kw} if kw else {}))
        self._describe(name, ds, var.units, var.long_name, var.dims, var.attrs)
        return ds

    def create(self, name: str, shape: tuple, units: str, long_name: str, dims: tuple, *, dtype=np.float64,
               chunk_rows: int = 4096, attrs: dict | None = None, maxshape: tuple | None = None):
        """An empty dataset to :meth:`write` into, chunked in blocks of ``chunk_rows`` along its
        first axis; ``maxshape``: the sizes it may be grown to (:meth:`resize`)."""
        shape = tuple(int(n) for n in shape)
        if len(dims) != len(shape):
            raise InputError(f"dataset {name!r}: dims {dims} do not match shape {shape}")
        chunked = bool(shape) and shape[0] > 0
        chunks = (max(1, min(shape[0], int(chunk_rows))), *(max(1, n) for n in shape[1:])) if chunked else None
        kw = _compressed(int(np.prod(maxshape or shape)), np.dtype(dtype).kind)
        ds = self._file.create_dataset(name, shape=shape, dtype=dtype, chunks=chunks, maxshape=maxshape, **kw)
        self._describe(name, ds, units, long_name, tuple(dims), attrs or {})
        return ds

    def resize(self, name: str, size: int, axis: int) -> None:
        """Grow (or shrink) axis ``axis`` of a dataset made by :meth:`create` with a ``maxshape``."""
        self._written[name][0].resize(int(size), axis=axis)

    def write(self, name: str, index, data) -> None:
        """``dataset[index] = data`` for a dataset made by :meth:`create`."""
        self._written[name][0][index] = data


def write_results(
    path,
    variables: dict[str, Variable],
    *,
    config: dict | None = None,
    parameter_files=(),
    attrs: dict | None = None,
) -> Path:
    """Write ``variables`` to ``path`` (HDF5) atomically, with units and provenance.

    Keys may contain ``/`` to place a variable in a group (``"pack_3/soh"``). Dimension scales are
    resolved within each group: a 1-D variable named like a dimension is that dimension's
    coordinate. :class:`ResultsWriter` writes the same layout piece by piece.
    """
    writer = ResultsWriter(path, config=config, parameter_files=parameter_files, attrs=attrs)
    check_variables("variables", variables)
    with writer as w:
        for name, var in variables.items():
            w.add(name, var)
    return w.path


#: HDF5 dimension-scale NAME of a dimension without coordinate values (the netCDF-4 convention,
#: which xarray/h5netcdf read as a named dimension without a coordinate variable).
_DIMENSION_ONLY = "This is a netCDF dimension but not a netCDF variable."


def _attach_scales(f: h5py.File, written: dict) -> None:
    """Give every axis of every dataset a named dimension scale.

    A 1-D variable named like its dimension is that dimension's coordinate; any other dimension
    gets a dimension-only scale of its name, so ``xarray.open_datatree`` names every dimension.
    A default name (``dim_0``, ...: the variable was given no ``dims``) becomes the variable's own
    dimension (``<variable>_dim_0``), so it never clashes with another variable's or a parent
    group's. Within a group a chosen dimension name has one length; two lengths raise.
    """
    by_group: dict[str, dict[str, tuple]] = {}
    for name, item in written.items():
        group, _, leaf = name.rpartition("/")
        by_group.setdefault(group, {})[leaf] = item
    for group, items in by_group.items():
        scales = {}
        for leaf, (ds, dims) in items.items():
            if ds.ndim == 1 and dims == (leaf,):
                ds.make_scale(leaf)
                scales[leaf] = ds
        lengths: dict[str, set] = {}
        for leaf, (ds, dims) in items.items():
            for axis, dim in enumerate(dims):
                lengths.setdefault(dim, set()).add(ds.shape[axis])
        parent = f[group] if group else f
        for leaf, (ds, dims) in items.items():
            for axis, dim in enumerate(dims):
                n = ds.shape[axis]
                if dim in scales:
                    if scales[dim] is ds:
                        continue
                    if scales[dim].shape[0] != n:
                        raise InputError(
                            f"variable {leaf!r} axis {axis} ({dim}) has length {n} but "
                            f"coordinate {dim!r} has length {scales[dim].shape[0]}"
                        )
                    ds.dims[axis].attach_scale(scales[dim])
                else:
                    if _is_default_dim(dim):
                        dim = f"{leaf}_{dim}"  # an unnamed axis belongs to its variable alone
                    elif len(lengths[dim]) > 1:
                        raise InputError(
                            f"dimension {dim!r} of group {group or '/'!r} has lengths {sorted(lengths[dim])} "
                            f"(variable {leaf!r} axis {axis}); one dimension name, one length"
                        )
                    if dim in items and dim not in scales:
                        raise InputError(f"variable {dim!r} of group {group or '/'!r} is named like a dimension "
                                         f"but is not its 1-D coordinate")
                    if dim not in scales:
                        scale = parent.create_dataset(dim, shape=(n,), dtype="f4")
                        scale.make_scale(f"{_DIMENSION_ONLY}{n:10d}")
                        scale.attrs["units"] = "1"
                        scale.attrs["long_name"] = f"Dimension {dim} (no coordinate values)"
                        scales[dim] = scale
                    ds.dims[axis].attach_scale(scales[dim])
                ds.dims[axis].label = dim


def _is_default_dim(dim: str) -> bool:
    return dim.startswith("dim_") and dim[4:].isdigit()


def read_results(path) -> tuple[dict[str, Variable], dict]:
    """Read a file written by :func:`write_results`: ``(variables, root_attributes)``."""
    from ..checks import HDF5_SIGNATURE, binary_file

    path = binary_file("path", path, HDF5_SIGNATURE, "HDF5")
    variables: dict[str, Variable] = {}
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"path: cannot open {str(path)!r} as HDF5: {exc}") from None
    with f:
        attrs = {k: _plain(v) for k, v in f.attrs.items()}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not _plain(obj.attrs.get("NAME", "")).startswith(_DIMENSION_ONLY):
                data = obj[()]
                if obj.dtype.kind == "O" or h5py.check_string_dtype(obj.dtype):
                    data = obj.asstr()[()]
                dims = tuple(d.label or f"dim_{i}" for i, d in enumerate(obj.dims))
                extra = {k: _plain(v) for k, v in obj.attrs.items() if k not in ("units", "long_name", "CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST")}
                variables[name] = Variable(
                    data=np.asarray(data),
                    units=_plain(obj.attrs.get("units", "")),
                    long_name=_plain(obj.attrs.get("long_name", name)),
                    dims=dims,
                    attrs=extra,
                )

        f.visititems(visit)
    return variables, attrs


def _plain(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value
