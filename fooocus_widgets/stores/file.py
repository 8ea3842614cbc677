"""The on-disk `StateStore`: one JSON record per panel, written atomically, previous copy kept.

Layout under the store's folder (normally ``<notebook dir>/.fooocus_widgets/state/<notebook>/``)::

    <key>.json        the newest record
    <key>.prev.json   the record it replaced, used when the newest one is damaged

A truncated or corrupt file gives a `StateRecoveryWarning` and the previous copy; nothing raises
into the user's cell.
"""

from __future__ import annotations

import hashlib
import re
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..state import PanelState, StateError
from .atomic import atomic_write
from .base import StateRecoveryWarning, StateStore, StoredState, check_key
from .location import state_root

__all__ = ["FileStore"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _file_stem(key: str) -> str:
    """A file name for any key: readable when the key is, unique always."""
    safe = _SAFE.sub("_", key)[:80]
    if safe != key or safe.startswith("."):
        safe = f"{safe.lstrip('.')}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    return safe


class FileStore(StateStore):
    """Panel states as JSON files in `directory`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        """The folder holding the records."""
        self._lock = threading.RLock()

    @classmethod
    def for_notebook(cls, user_ns: Mapping[str, Any] | None = None) -> FileStore:
        """The store beside the running notebook (see `stores.location.state_root`)."""
        root, namespace = state_root(user_ns)
        return cls(root / "state" / _SAFE.sub("_", namespace))

    def path(self, key: str) -> Path:
        """The file holding the newest record of `key`."""
        return self.directory / f"{_file_stem(check_key(key))}.json"

    def previous_path(self, key: str) -> Path:
        """The file holding the record before it."""
        return self.directory / f"{_file_stem(check_key(key))}.prev.json"

    def _read(self, path: Path) -> StoredState:
        return StoredState.decode(path.read_bytes())

    def load(self, key: str) -> StoredState | None:
        newest, previous = self.path(key), self.previous_path(key)
        problems: list[str] = []
        for path in (newest, previous):
            try:
                stored = self._read(path)
            except FileNotFoundError:
                continue
            except (OSError, StateError) as exc:
                problems.append(f"{path} could not be read ({exc})")
                continue
            if stored.key != key:
                problems.append(f"{path} belongs to panel {stored.key!r}")
                continue
            if problems:
                warnings.warn(
                    f"{problems[0]}; using the previous copy saved at {stored.updated_at}.",
                    StateRecoveryWarning,
                    stacklevel=2,
                )
            return stored
        if problems:
            warnings.warn(
                f"{'; '.join(problems)}. No readable copy is left: the panel starts from its defaults.",
                StateRecoveryWarning,
                stacklevel=2,
            )
        return None

    def save(
        self,
        key: str,
        state: PanelState,
        *,
        revision: int | None = None,
        pending: dict[str, Any] | None = None,
    ) -> StoredState:
        with self._lock:
            stored = StoredState.new(key, state, self._next_revision(key, revision), pending)
            atomic_write(self.path(key), stored.encode(), keep_previous=self.previous_path(key))
        return stored

    def delete(self, key: str) -> None:
        with self._lock:
            for path in (self.path(key), self.previous_path(key)):
                path.unlink(missing_ok=True)

    def keys(self) -> list[str]:
        found: set[str] = set()
        if not self.directory.is_dir():
            return []
        for path in self.directory.glob("*.json"):
            try:
                found.add(self._read(path).key)
            except (OSError, StateError):
                continue
        return sorted(found)
