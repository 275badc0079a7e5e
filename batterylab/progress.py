"""Progress bars with one convention: ``progress=None`` shows a bar when standard error is a terminal.

``True`` always shows one, ``False`` never (tqdm's ``disable=None`` convention). Every public entry
point with a ``progress`` argument follows it.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "show_progress"]


def show_progress(progress, file=None) -> bool:
    """Whether a bar is shown: ``progress`` itself, or (when None) whether ``file`` is a terminal."""
    from .checks import optional_boolean

    optional_boolean("progress", progress)
    if progress is None:
        stream = file if file is not None else sys.stderr
        try:
            return bool(stream.isatty())
        except (AttributeError, ValueError):
            return False
    return bool(progress)


def progress_bar(progress=None, **kwargs):
    """A ``tqdm.auto.tqdm`` bar shown according to ``progress`` (see the module docstring)."""
    from tqdm.auto import tqdm

    return tqdm(disable=not show_progress(progress, kwargs.get("file")), **kwargs)
