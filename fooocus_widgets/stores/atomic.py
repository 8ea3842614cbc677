"""Crash-safe file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["atomic_write"]


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported everywhere (Windows): the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, keep_previous: Path | None = None) -> None:
    """Write `data` to `path` through a temporary file, fsync and rename.

    With `keep_previous`, the file being replaced is first renamed there, so the last good copy
    survives even if `path` is later damaged. A process killed at any point leaves `path` either
    complete (old or new) or absent with the previous copy in `keep_previous`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if keep_previous is not None and path.exists():
            path.replace(keep_previous)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
