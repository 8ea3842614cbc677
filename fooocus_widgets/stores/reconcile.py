"""Which copy of a panel's state wins: one pure rule for every place copies meet.

A panel's state lives in several copies (the kernel's file store, the notebook's metadata, the
browser's storage, the live panel). When two meet — a panel is built over a saved file, a
Reconnect hands a new kernel the page's copy, the page sends edits made while the kernel was away
— `reconcile` decides, without touching a widget or a file:

- the highest revision wins;
- a copy handed in (`given`) wins a tie with a saved copy of the same revision;
- a copy that loses a tie, or a handed-in copy that loses to a newer saved one, is returned as a
  conflict when it differs, for the caller to keep under ``<key>.conflict`` (older saved copies
  are simply superseded);
- with nothing handed in, the newest saved copy is used, else the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..state import PanelState
from .base import StoredState

__all__ = ["Reconciled", "reconcile"]


@dataclass(frozen=True)
class Reconciled:
    """The outcome of `reconcile`."""

    state: PanelState
    """The state that wins."""
    revision: int
    """The revision the panel goes on from: the highest among the copies."""
    conflicts: tuple[PanelState, ...] = ()
    """Copies that lost and differ from the winner: keep them (``<key>.conflict``)."""
    newer_saved: StoredState | None = None
    """The saved copy that won over the one handed in because it was newer, if that happened."""

    def notice(self, key: str) -> str:
        """What the user of panel `key` should be told ("" when nothing needs saying)."""
        if self.newer_saved is not None:
            when = self.newer_saved.updated_at[:19].replace("T", " ")
            return (
                f"Restored the newer copy saved at {when} UTC; the older one is kept under the key "
                f"{key}.conflict."
            )
        if self.conflicts:
            return f"Two saved copies differed; the other one is kept under the key {key}.conflict."
        return ""


def reconcile(
    saved_copies: Iterable[StoredState | None], given: PanelState | None, revision: int
) -> Reconciled:
    """Pick the state a panel goes on with, from saved copies and the copy handed in (`given`, at
    `revision`; None when nothing was handed in).
    """
    saved = sorted((c for c in saved_copies if c is not None), key=lambda c: (c.revision, c.updated_at))
    newest = saved[-1] if saved else None
    top = max([revision, *(c.revision for c in saved)])
    if given is None:
        if newest is None:
            return Reconciled(PanelState(), revision)
        return Reconciled(newest.state, top, conflicts=_ties(saved[:-1], newest.revision, newest.state))
    if newest is not None and newest.revision > revision and newest.state != given:
        ties = _ties(saved[:-1], newest.revision, newest.state)
        return Reconciled(newest.state, top, conflicts=(given, *ties), newer_saved=newest)
    return Reconciled(given, top, conflicts=_ties(saved, revision, given))


def _ties(copies: Iterable[StoredState], revision: int, winner: PanelState) -> tuple[PanelState, ...]:
    """The distinct states among `copies` of the winner's `revision` that differ from it (older
    copies are simply superseded).
    """
    found: list[PanelState] = []
    for copy in copies:
        if copy.revision == revision and copy.state != winner and copy.state not in found:
            found.append(copy.state)
    return tuple(found)
