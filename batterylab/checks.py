"""Input checks at the public boundary.

Each check raises :class:`batterylab.errors.InputError` naming the argument, the offending value
and what was expected, so that a typo costs seconds rather than a NaN deep inside a solver.

- numbers and arrays: :func:`finite_scalar`, :func:`positive`, :func:`as_float_array`,
  :func:`time_array`, :func:`fraction_array`, :func:`temperature_K` (Celsius passed as kelvin);
  strings and booleans are never numbers;
- counts, switches, seeds and names: :func:`integer`, :func:`boolean`, :func:`rng`, :func:`choice`;
- cross-argument: :func:`ordered`, :func:`same_length`, :func:`length` (the message names both);
- files, before any parser sees them: :func:`text_file` (missing, empty, binary, a folder),
  :func:`binary_file` (HDF5, npz signatures), :func:`existing_file`, :func:`path_like`;
- :class:`named`: an error raised by a helper names the caller's argument.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np

from .errors import InputError, unknown_option

#: Temperatures below this are taken as Celsius passed by mistake [K].
KELVIN_FLOOR_K = 173.15
#: Temperatures above this are outside any battery's range [K].
KELVIN_CEILING_K = 473.15


def _describe(values: np.ndarray, mask: np.ndarray) -> str:
    idx = int(np.flatnonzero(mask.ravel())[0])
    return f"{float(values.ravel()[idx])!r} at index {idx}"


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _not_a_number(value) -> bool:
    """Strings, bytes, booleans, None and containers of them are never numbers here."""
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        return True
    return False


def as_float_array(name: str, values, *, ndim: int | None = 1, allow_empty: bool = False) -> np.ndarray:
    """Return ``values`` as a finite float64 array, or raise naming ``name``."""
    if _not_a_number(values) or isinstance(values, (dict, set)):
        raise InputError(f"{name} must be an array of numbers, got {type(values).__name__} {_short(values)}")
    try:
        raw = np.asarray(values)
        if raw.dtype.kind in "USOb" and raw.size:
            if raw.dtype.kind != "O" or any(_not_a_number(v) for v in raw.ravel()):
                raise TypeError("not numbers")
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be an array of numbers, got {type(values).__name__} {_short(values)}") from None
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name} is empty; expected at least one value")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name} must be finite, got {_describe(arr, bad)}")
    return arr


def finite_scalar(name: str, value, *, low=None, high=None, unit: str = "", inclusive=True) -> float:
    """Return ``value`` as a finite float in [low, high], or raise naming ``name``."""
    if _not_a_number(value):
        raise InputError(f"{name} must be a number, got {type(value).__name__} {_short(value)}")
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a number, got {type(value).__name__} {_short(value)}") from None
    if not np.isfinite(x):
        raise InputError(f"{name} must be finite, got {x!r}")
    u = f" {unit}" if unit else ""
    if low is not None and (x < low if inclusive else x <= low):
        rel = ">=" if inclusive else ">"
        raise InputError(f"{name} must be {rel} {low}{u}, got {x}{u}")
    if high is not None and (x > high if inclusive else x >= high):
        rel = "<=" if inclusive else "<"
        raise InputError(f"{name} must be {rel} {high}{u}, got {x}{u}")
    return x


def positive(name: str, value, unit: str = "") -> float:
    """A finite number strictly above zero."""
    return finite_scalar(name, value, low=0.0, inclusive=False, unit=unit)


def time_array(name: str, values, *, min_length: int = 2) -> np.ndarray:
    """A finite, strictly increasing time array [s]."""
    t = as_float_array(name, values)
    if t.size < min_length:
        raise InputError(f"{name} needs at least {min_length} samples, got {t.size}")
    steps = np.diff(t)
    bad = steps <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name} must be strictly increasing [s]; {name}[{i + 1}] = {t[i + 1]} follows "
            f"{name}[{i}] = {t[i]}"
        )
    return t


def temperature_K(name: str, values, *, ndim: int | None = 1) -> np.ndarray | float:
    """A temperature in kelvin; values that look like Celsius give a clear error."""
    scalar = np.ndim(values) == 0
    arr = as_float_array(name, np.atleast_1d(values) if scalar else values, ndim=1 if scalar else ndim)
    low = arr < KELVIN_FLOOR_K
    if low.any():
        raise InputError(
            f"{name} must be in kelvin; got {_describe(arr, low)}, which looks like Celsius "
            f"(add 273.15), expected {KELVIN_FLOOR_K} to {KELVIN_CEILING_K} K"
        )
    high = arr > KELVIN_CEILING_K
    if high.any():
        raise InputError(
            f"{name} must be in kelvin between {KELVIN_FLOOR_K} and {KELVIN_CEILING_K} K, "
            f"got {_describe(arr, high)}"
        )
    return float(arr[0]) if scalar else arr


def fraction_array(name: str, values, *, ndim: int | None = 1) -> np.ndarray:
    """An array of fractions in [0, 1] (SOC, depth of discharge)."""
    arr = as_float_array(name, values, ndim=ndim)
    bad = (arr < 0.0) | (arr > 1.0)
    if bad.any():
        raise InputError(f"{name} must lie in [0, 1], got {_describe(arr, bad)}")
    return arr


def same_length(**arrays: np.ndarray) -> int:
    """Check that all arrays have the same length; return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise InputError(f"arrays must have the same length: {desc}")
    return next(iter(lengths.values()))


def integer(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (a float with an integral value is accepted) in [low, high]; 2.5, "3", True are not."""
    if _not_a_number(value) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be an integer, got {type(value).__name__} {_short(value)}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    else:
        x = float(value)
        if not np.isfinite(x) or x != int(x):
            raise InputError(f"{name} must be an integer, got {x!r}")
        n = int(x)
    if low is not None and n < low:
        raise InputError(f"{name} must be >= {low}, got {n}")
    if high is not None and n > high:
        raise InputError(f"{name} must be <= {high}, got {n}")
    return n


def optional_integer(name: str, value, *, low: int | None = None, high: int | None = None) -> int | None:
    """``None`` or :func:`integer`."""
    return None if value is None else integer(name, value, low=low, high=high)


def boolean(name: str, value) -> bool:
    """``True`` or ``False`` (numpy's too); not 0/1, strings or None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InputError(f"{name} must be True or False, got {type(value).__name__} {_short(value)}")


def optional_boolean(name: str, value) -> bool | None:
    """``None`` (the default, e.g. ``progress=None``: a bar on a terminal) or :func:`boolean`."""
    return None if value is None else boolean(name, value)


def rng(name: str, seed) -> np.random.Generator:
    """A random generator from ``seed``: None, a non-negative integer or a ``numpy.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(integer(name, seed, low=0))


def choice(name: str, value, valid, *, kind: str | None = None):
    """``value`` if it is one of ``valid``, else an :class:`OptionError` listing the valid ones."""
    try:
        ok = value in valid
    except TypeError:  # an unhashable value
        ok = False
    if not ok or not isinstance(value, str) and all(isinstance(v, str) for v in valid):
        raise unknown_option(kind or name, value, valid)
    return value


def ordered(low_name: str, low, high_name: str, high, *, strict: bool = True, unit: str = "") -> None:
    """Cross-argument check: ``low < high`` (``<=`` unless ``strict``); the message names both."""
    u = f" {unit}" if unit else ""
    if (low >= high) if strict else (low > high):
        rel = "<" if strict else "<="
        raise InputError(f"{low_name} must be {rel} {high_name}, got {low_name} = {low}{u} and {high_name} = {high}{u}")


def length(name: str, values, n: int, other: str) -> None:
    """Cross-argument check: ``len(values) == n`` where ``n`` is the length of argument ``other``."""
    if len(values) != n:
        raise InputError(f"{name} must have one value per entry of {other} ({n}), got {len(values)}")


#: First bytes of the binary formats read here.
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"


def _path(name: str, path) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise InputError(f"{name} must be a file path, got {type(path).__name__} {_short(path)}")
    p = Path(path)
    if str(path) == "":
        raise InputError(f"{name} must be a file path, got an empty string")
    if not p.exists():
        raise InputError(f"{name}: file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"{name}: {str(p)!r} is a folder; expected a file")
    return p


def text_file(name: str, path, *, what: str = "text (CSV)") -> Path:
    """An existing, non-empty text file (no NUL or control bytes), checked before any parser sees it."""
    p = _path(name, path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise InputError(f"{name}: cannot read {str(p)!r}: {exc.strerror}") from None
    if not head.strip():
        raise InputError(f"{name}: file {str(p)!r} is empty; expected a {what} file")
    control = sum(c < 32 and c not in (9, 10, 12, 13) for c in head)
    if b"\x00" in head or control > max(2, len(head) // 1000):
        # A text file in any 8-bit encoding (UTF-8, Latin-1, cp1252) has no control characters.
        raise InputError(f"{name}: file {str(p)!r} holds binary data; expected a {what} file")
    return p


def binary_file(name: str, path, signature: bytes, what: str) -> Path:
    """An existing file that starts with ``signature`` (HDF5, npz), checked before it is opened."""
    p = _path(name, path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(len(signature))
    except OSError as exc:
        raise InputError(f"{name}: cannot read {str(p)!r}: {exc.strerror}") from None
    if not head:
        raise InputError(f"{name}: file {str(p)!r} is empty; expected an {what} file")
    if head != signature:
        raise InputError(f"{name}: file {str(p)!r} is not an {what} file")
    return p


def path_like(name: str, path) -> Path:
    """A file-system path (str or os.PathLike, not empty); whether it exists is not checked."""
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise InputError(f"{name} must be a file path (str or pathlib.Path), got {type(path).__name__} {_short(path)}")
    return Path(path)


def output_path(name: str, path) -> Path:
    """A path a file can be written to: not an existing folder, and no existing file where a
    folder of it must be (checked before the work that fills the file, so none is lost)."""
    p = path_like(name, path)
    if p.is_dir():
        raise InputError(f"{name} = {str(p)!r} is a folder; expected the path of a file to write (e.g. "
                         f"{str(p / 'result.h5')!r})")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{name} = {str(p)!r}: {str(parent)!r} is a file, not a folder")
            break
    return p


def existing_file(name: str, path) -> Path:
    """An existing file (of any format: the reader checks its content)."""
    return _path(name, path)


class named:
    """``with named("aging_model"): load(aging_model)``: a batterylab error raised inside names the
    argument the value came in (unless its message already does), for helpers that name their own."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from .errors import BatterylabError

        if exc is not None and isinstance(exc, BatterylabError) and self.name not in str(exc):
            raise type(exc)(f"{self.name}: {exc}") from None
        return False
