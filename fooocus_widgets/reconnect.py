"""`rehydrate()`: a live panel again after a kernel restart, from the state the front end kept.

The JupyterLab extension runs ``fooocus_widgets.rehydrate(key, state_json, revision, pending_json)``
in the panel's cell when the user clicks Reconnect. Everything arrives as data: the state is a
JSON text inside a Python string literal (no prompt text can break out of it), read with
`PanelState.from_json`. A copy that cannot be read falls back to the kernel-side file store and
says so in the panel; the call never raises into the cell. The model loads lazily at the next
Generate, or at once in the background with ``preload=True``.
"""

from __future__ import annotations

import json
from typing import Any

from .panel import FooocusPanel
from .state import PanelState, StateError

__all__ = ["rehydrate"]


def rehydrate(
    key: str,
    state_json: str,
    revision: int = 0,
    pending_json: str | None = None,
    *,
    preload: bool = False,
    **panel_options: Any,
) -> FooocusPanel:
    """Build the panel `key` again with the state a front end saved (JSON text)."""
    error = ""
    state: PanelState | None
    try:
        state = PanelState.from_json(state_json)
    except (StateError, TypeError) as exc:
        state, error = (
            None,
            f"The saved panel state could not be read ({exc}); the kernel's own copy is used.",
        )
    pending: dict[str, Any] | None = None
    if pending_json:
        try:
            loaded = json.loads(pending_json)
            pending = loaded if isinstance(loaded, dict) else None
        except ValueError:
            pending = None
    panel = FooocusPanel(
        key=key, state=state, revision=max(int(revision), 0), pending=pending, **panel_options
    )
    if error:
        panel.error = error
    if preload:
        panel.controller.preload()
    return panel
