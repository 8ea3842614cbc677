"""An in-memory `StateStore`: for tests and for hosts where nothing may touch the disk.

Records go through the same encoding as the file store, so a state that survives the memory
store survives the file store too.
"""

from __future__ import annotations

import threading
from typing import Any

from ..state import PanelState
from .base import StateStore, StoredState, check_key

__all__ = ["MemoryStore"]


class MemoryStore(StateStore):
    """Keeps encoded records in a dict, safe to use from several threads."""

    def __init__(self) -> None:
        self._records: dict[str, bytes] = {}
        self._lock = threading.RLock()

    def load(self, key: str) -> StoredState | None:
        with self._lock:
            data = self._records.get(check_key(key))
        return StoredState.decode(data) if data is not None else None

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
            self._records[key] = stored.encode()
        return stored

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(check_key(key), None)

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._records)
