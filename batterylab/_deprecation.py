"""Renamed keyword arguments keep working for one release, with a DeprecationWarning."""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed_kwargs"]


def renamed_kwargs(**old_to_new):
    """Decorator: ``f(old=x)`` calls ``f(new=x)`` and warns; giving both raises ``TypeError``."""

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{f.__name__}() got both {old!r} (deprecated) and {new!r}")
                    warnings.warn(f"{f.__name__}({old}=...) is deprecated; use {new}=...", DeprecationWarning,
                                  stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return f(*args, **kwargs)

        return wrapper

    return deco
