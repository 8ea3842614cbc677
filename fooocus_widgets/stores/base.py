"""The kernel-side state store interface and the on-disk record format it shares.

A `StateStore` keeps one `StoredState` per panel key: the `PanelState` plus a `revision` that
grows at every save and the time of the save. Stores never raise into a user's cell for damaged
data: they warn with `StateRecoveryWarning` and fall back (previous copy, then nothing).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..state import SCHEMA_VERSION, PanelState, StateFormatError

__all__ = ["RECORD_FORMAT", "StateRecoveryWarning", "StateStore", "StoredState", "check_key"]

#: Value of the "format" member of every stored record.
RECORD_FORMAT = "fooocus-widgets/panel-state"
MAX_KEY = 200
_KEY_RE = re.compile(r"[^\x00-\x1f\x7f]+")


class StateRecoveryWarning(UserWarning):
    """Stored state was damaged or unreadable; an older copy (or the defaults) is used instead."""


def check_key(key: Any) -> str:
    """Validate a panel key: non-empty, one line, at most 200 characters."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key) or len(key) > MAX_KEY:
        raise ValueError(
            f"panel key {key!r} is not allowed; allowed: 1 to {MAX_KEY} characters without control characters"
        )
    return key


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class StoredState:
    """A panel's state as a store keeps it."""

    key: str
    """The panel key it belongs to."""
    state: PanelState
    """The state itself."""
    revision: int
    """Grows by one at every save; the newest revision wins when copies disagree."""
    updated_at: str
    """When it was saved, ISO 8601 in UTC."""
    pending: dict[str, Any] | None = None
    """A batch that was running when this was saved (``{"seeds", "done", ...}``), or None."""

    @classmethod
    def new(
        cls, key: str, state: PanelState, revision: int, pending: dict[str, Any] | None = None
    ) -> StoredState:
        """A record of `state` saved now."""
        return cls(key=check_key(key), state=state, revision=revision, updated_at=_now(), pending=pending)

    def encode(self) -> bytes:
        """The record as UTF-8 JSON, with a checksum of the state that `decode` verifies."""
        state = self.state.to_dict()
        record = {
            "format": RECORD_FORMAT,
            "key": self.key,
            "schema_version": SCHEMA_VERSION,
            "revision": self.revision,
            "updated_at": self.updated_at,
            "sha256": _checksum(state),
            "state": state,
            "pending": self.pending,
        }
        return json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> StoredState:
        """Parse and verify a record; raises `StateError` when it is damaged or not a record."""
        try:
            record = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise StateFormatError(f"not valid JSON ({exc})") from None
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise StateFormatError("not a fooocus-widgets state record")
        state, revision = record.get("state"), record.get("revision")
        if not isinstance(state, dict) or isinstance(revision, bool) or not isinstance(revision, int):
            raise StateFormatError("the record lacks its state or revision")
        if record.get("sha256") != _checksum(state):
            raise StateFormatError("the checksum does not match: the file was changed or damaged")
        return cls(
            key=check_key(record.get("key")),
            state=PanelState.from_dict(state),
            revision=revision,
            updated_at=str(record.get("updated_at", "")),
            pending=record.get("pending") if isinstance(record.get("pending"), dict) else None,
        )


def _checksum(state: dict[str, Any]) -> str:
    text = json.dumps(state, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class StateStore(ABC):
    """Where panel states are kept on the kernel side."""

    @abstractmethod
    def load(self, key: str) -> StoredState | None:
        """The newest readable state saved under `key`, or None. Never raises for damaged data."""

    @abstractmethod
    def save(
        self,
        key: str,
        state: PanelState,
        *,
        revision: int | None = None,
        pending: dict[str, Any] | None = None,
    ) -> StoredState:
        """Save `state` (and a running batch, `pending`) under `key`. `revision` defaults to the
        stored revision plus one.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Forget `key` (no error when it is not there)."""

    @abstractmethod
    def keys(self) -> list[str]:
        """Keys that have a saved state, sorted."""

    def _next_revision(self, key: str, revision: int | None) -> int:
        """`revision` checked, or the stored revision plus one (called with the store's lock held,
        so stores use a reentrant lock).
        """
        if revision is not None:
            if isinstance(revision, bool) or not isinstance(revision, int) or revision < 0:
                raise ValueError(f"revision {revision!r} is not allowed; allowed: a whole number >= 0")
            return revision
        with warnings.catch_warnings():  # a damaged copy was reported when it was loaded
            warnings.simplefilter("ignore", StateRecoveryWarning)
            current = self.load(key)
        return current.revision + 1 if current else 1
