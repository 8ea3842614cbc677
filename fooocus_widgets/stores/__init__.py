"""Kernel-side stores for panel state: on disk beside the notebook, or in memory.

Usable without any front end: ``FileStore.for_notebook().save("main", PanelState(prompt=...))``.
"""

from .base import StateRecoveryWarning, StateStore, StoredState
from .file import FileStore
from .images import ImageStore
from .location import notebook_path, state_root
from .memory import MemoryStore

__all__ = [
    "FileStore",
    "ImageStore",
    "MemoryStore",
    "StateRecoveryWarning",
    "StateStore",
    "StoredState",
    "notebook_path",
    "state_root",
]
