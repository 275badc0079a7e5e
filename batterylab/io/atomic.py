"""Atomic file writes: write to a temporary file beside the target, then ``os.replace``.

A reader (or a crash) never sees a half-written file: the target is either the old file or the
complete new one.

The temporary file is named ``.NAME.<host>-<pid>.<random><suffix>`` (for example
``.run.h5.node1-4242.k3j2_x.h5.tmp``): it carries the writer's host and process id, so that a
temporary left behind by a killed writer can be told from one that a running writer is still
filling. Each write removes the stale temporaries of its own target (those of this host whose
writer is no longer running); :func:`clean_stale` (``batterylab clean PATH``) removes them under a
folder. A live writer's temporary is never removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "clean_stale", "stale_temporaries"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Permissions of a new file under this process's umask (mkstemp's own files are private).
_FILE_MODE = 0o666 & ~_umask()

#: ``.NAME.<host>-<pid>.<8 random characters><suffix ending in .tmp>`` (mkstemp's random part).
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<host>\w+)-(?P<pid>\d+)\.[a-z0-9_]{8}(?:\..*)?\.tmp$")


def _host() -> str:
    # Only word characters, so that the name parses back unambiguously (no dots or dashes).
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname() or "localhost")


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a process of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - an exotic platform: keep the file
        return True
    return True


def _stale(path: Path, target_name: str | None = None) -> bool:
    m = _TEMP_RE.match(path.name)
    if m is None or (target_name is not None and m["name"] != target_name):
        return False
    if m["host"] != _host():
        return False  # another machine's writer (a shared file system): its pid means nothing here
    return not _pid_alive(int(m["pid"]))


def stale_temporaries(folder, target_name: str | None = None) -> list[Path]:
    """Temporaries in ``folder`` (of ``target_name`` only, if given) whose writer is no longer running."""
    folder = Path(folder)
    prefix = f".{target_name}." if target_name is not None else "."
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(p for p in entries if p.is_file() and _stale(p, target_name))


def _remove(paths) -> list[Path]:
    removed = []
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed.append(p)
    return removed


def clean_stale(path) -> list[Path]:
    """Remove the stale temporaries of interrupted writes under ``path`` (a folder, searched
    recursively, or a target file); return the paths removed. Temporaries of running writers stay."""
    from ..checks import path_like
    from ..errors import InputError

    path = path_like("path", path)
    if path.is_dir():
        folders = [path, *(p for p in path.rglob("*") if p.is_dir())]
        return _remove(p for folder in folders for p in stale_temporaries(folder))
    if path.parent.is_dir() and (path.exists() or stale_temporaries(path.parent, path.name)):
        return _remove(stale_temporaries(path.parent, path.name))
    raise InputError(f"path {str(path)!r} does not exist; expected a folder or a file written by batterylab")


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temporary path in the target's folder; on success move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched. The file gets
    the usual permissions of a new file (umask applied), not mkstemp's private ones. Stale
    temporaries of earlier, interrupted writes to the same target are removed first.
    """
    from ..checks import output_path
    from ..errors import InputError

    path = output_path("path", path)
    if suffix is not None and (not isinstance(suffix, str) or "/" in suffix or os.sep in suffix):
        raise InputError(f"suffix must be a file-name suffix such as '.h5.tmp', got {suffix!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(stale_temporaries(path.parent, path.name))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_host()}-{os.getpid()}.", suffix=suffix or ".tmp",
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    import codecs

    from ..checks import path_like
    from ..errors import InputError

    path_like("path", path)
    if not isinstance(text, str):
        raise InputError(f"text must be a string, got {type(text).__name__} {text!r:.60}")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise InputError(f"encoding must be a text encoding such as 'utf-8', got {encoding!r}") from None
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)
