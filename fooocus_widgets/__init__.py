"""fooocus-widgets: a Fooocus-style SDXL panel for Jupyter that keeps its state in the notebook.

``import fooocus_widgets`` stays light: the widget and its Jupyter dependencies load on first
use, torch and diffusers only at the first generation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .state import LoraSlot, PanelState, StateError, StateValidationError
from .stores import FileStore, ImageStore, MemoryStore, StateRecoveryWarning, StateStore, StoredState

if TYPE_CHECKING:
    from .api import GenerationResult, generate, release_vram
    from .panel import FooocusPanel, get_panel
    from .presets import load_preset
    from .reconnect import rehydrate

__all__ = [
    "FileStore",
    "FooocusPanel",
    "GenerationResult",
    "ImageStore",
    "LoraSlot",
    "MemoryStore",
    "PanelState",
    "StateError",
    "StateRecoveryWarning",
    "StateStore",
    "StateValidationError",
    "StoredState",
    "__version__",
    "generate",
    "get_panel",
    "load_preset",
    "rehydrate",
    "release_vram",
]

#: Public names imported on first use (they pull in ipywidgets, PIL or, later, torch).
_LAZY = {
    "FooocusPanel": "panel",
    "get_panel": "panel",
    "generate": "api",
    "GenerationResult": "api",
    "load_preset": "presets",
    "rehydrate": "reconnect",
    "release_vram": "api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'fooocus_widgets' has no attribute {name!r}")


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext fooocus_widgets``: registers ``%fw_release`` (done on import in IPython too)."""
    from .magics import register

    register(shell)


def _register_magics_if_in_ipython() -> None:
    import sys

    if "IPython" not in sys.modules:  # not in IPython: nothing to register, nothing to import
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        load_ipython_extension(shell)


_register_magics_if_in_ipython()


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where Jupyter finds the prebuilt lab extension shipped in this package."""
    return [{"src": "labextension", "dest": "fooocus-widgets"}]
