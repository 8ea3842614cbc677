"""`rehydrate()`: a live panel again after a kernel restart, from the state the front end kept.

The JupyterLab extension runs ``fooocus_widgets.rehydrate(key, state_json, revision, pending_json)``
in the panel's cell when the user clicks Reconnect. Everything arrives as data: the state is a
JSON text inside a Python string literal (no prompt text can break out of it), read with
`PanelState.from_json`. A copy that cannot be read falls back to the kernel-side file store and
says so in the panel; the call never raises into the cell. The model loads lazily at the next
Generate, or at once in the background with ``preload=True``.

With ``cell_source=`` (the cell's text, also as data) the names the cell bound are bound again
in the IPython user namespace: the panel's variables to the new panel, ``fw`` and other
fooocus_widgets imports to what they import (see `cell_names`); whatever cannot be bound
(``panels[0] = ...``, ``p = make_panel()``) is named in the panel's notice.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from .cell_names import Unbound, bind_names, find_names, not_bound_notice
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
    cell_source: str | None = None,
    **panel_options: Any,
) -> FooocusPanel:
    """Build the panel `key` again with the state a front end saved (JSON text).

    `cell_source`: the text of the panel's cell; the names it binds are bound again in the
    IPython user namespace, and those that cannot be are named in the panel's notice.
    """
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
    if cell_source is not None:
        _bind_cell_names(panel, key, cell_source)
    if preload:
        panel.controller.preload()
    return panel


def _bind_cell_names(panel: FooocusPanel, key: str, cell_source: str) -> None:
    """Bind the names `cell_source` binds; add what could not be bound to the panel's notice."""
    names = find_names(cell_source, key)
    namespace = _user_namespace()
    if namespace is None:
        unbound = names.unbound + tuple(Unbound(b.name, "no IPython shell here") for b in names.bindings)
    else:
        unbound = names.unbound + bind_names(names, panel, namespace)
    message = not_bound_notice(unbound, names.problem)
    if message:
        panel.notice = f"{panel.notice} {message}".strip()


def _user_namespace() -> MutableMapping[str, Any] | None:
    """The running IPython shell's user namespace, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    namespace = getattr(shell, "user_ns", None)
    return namespace if isinstance(namespace, MutableMapping) else None
