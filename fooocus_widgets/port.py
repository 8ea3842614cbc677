"""What the controller and its jobs need from a panel, as a protocol.

`FooocusPanel` satisfies it; the controller and the job runner are written against this alone,
so neither imports the widget (and the panel can import them without a cycle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .state import PanelState

__all__ = ["PanelPort"]


class PanelPort(Protocol):
    """The panel's side of a job: its state, and the traits a job reports through."""

    state: PanelState
    """The panel's current state (setting it updates every control and saves)."""
    error: str
    """The error area ("" when there is no problem)."""
    notice: str
    """A passing remark."""
    busy: bool
    progress: dict[str, Any]
    preview: str
    results: list[dict[str, Any]]
    last_results: list[str]
    pending: dict[str, Any]
    memory: dict[str, Any]
    choices: dict[str, Any]

    def set_pending(self, pending: Mapping[str, Any] | None) -> None:
        """Record the running batch (or none) and save it at once."""

    def restore(self, changes: Mapping[str, Any], revision: int) -> list[str]:
        """Apply the page's newer copy of some fields; returns those that could not be applied."""

    def send(self, content: dict[str, Any], buffers: Sequence[bytes] | None = None) -> None:
        """Send a custom message to the page."""
