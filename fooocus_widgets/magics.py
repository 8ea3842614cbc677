"""IPython magics: ``%fw_release [--keep-models]`` frees GPU and RAM (see `release_vram`)."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def fw_release(line: str) -> Any:
    """``%fw_release``: unload models, clear IPython's references to them, empty caches.

    ``%fw_release --keep-models`` keeps the loaded model and only clears caches and references.
    Shows the memory report as a table.
    """
    from .api import release_vram

    options = line.split()
    unknown = [o for o in options if o != "--keep-models"]
    if unknown:
        raise ValueError(f"%fw_release: unknown option(s) {' '.join(unknown)}; allowed: --keep-models")
    return release_vram(keep_models="--keep-models" in options)


def register(shell: Any) -> None:
    """Register the magics on an IPython shell."""
    shell.register_magic_function(fw_release, magic_kind="line", magic_name="fw_release")
