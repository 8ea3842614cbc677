"""Where the kernel-side files go: beside the notebook when the kernel can tell which one.

The notebook's path comes from `__vsc_ipynb_file__` (VS Code), `__session__` (ipykernel) or the
`JPY_SESSION_NAME` environment variable (Jupyter Server; it may be relative to the server's root
while the kernel runs in the notebook's folder). Without a notebook (a script) the user's data
folder from platformdirs is used.

On Colab the VM's disk lasts only as long as the runtime, and a new runtime starts empty, so the
files go to the user's Google Drive when it is mounted (``/content/drive/MyDrive/fooocus-widgets``,
which survives new runtimes) and else to ``/content/.fooocus_widgets`` (which survives "Restart
session", not a new runtime).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

__all__ = ["DATA_DIR_NAME", "colab_root", "on_colab", "notebook_path", "state_root"]

#: Name of the folder created beside the notebook.
DATA_DIR_NAME = ".fooocus_widgets"
#: The mounted Google Drive on Colab (``drive.mount("/content/drive")``): survives new runtimes.
COLAB_DRIVE = Path("/content/drive/MyDrive")
#: Colab's working folder on the VM: survives "Restart session", not a new runtime.
COLAB_CONTENT = Path("/content")
#: Name of the folder created in the mounted Drive.
DRIVE_DIR_NAME = "fooocus-widgets"


def on_colab() -> bool:
    """Whether this kernel runs on Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def colab_root() -> Path:
    """Colab's most durable folder for the files: in the mounted Drive, else on the VM."""
    if COLAB_DRIVE.is_dir():
        return COLAB_DRIVE / DRIVE_DIR_NAME
    return COLAB_CONTENT / DATA_DIR_NAME


def _user_namespace() -> Mapping[str, Any]:
    try:
        from IPython import get_ipython  # IPython is there whenever a kernel is
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _resolve(candidate: str, cwd: Path) -> Path | None:
    path = Path(candidate).expanduser()
    if path.is_absolute():
        return path
    # relative to the server root: try the cwd, then walk the path's tail (kernel runs in the
    # notebook's folder, so "sub/dir/nb.ipynb" is usually "nb.ipynb" here)
    parts = path.parts
    for i in range(len(parts)):
        tail = cwd.joinpath(*parts[i:])
        if tail.exists():
            return tail.resolve()
    return (cwd / path.name).resolve()


def notebook_path(user_ns: Mapping[str, Any] | None = None) -> Path | None:
    """The running notebook's file, or None when the kernel cannot tell."""
    ns = _user_namespace() if user_ns is None else user_ns
    cwd = Path.cwd()
    for candidate in (
        ns.get("__vsc_ipynb_file__"),
        ns.get("__session__"),
        os.environ.get("JPY_SESSION_NAME"),
    ):
        if isinstance(candidate, str) and candidate.endswith(".ipynb"):
            return _resolve(candidate, cwd)
    return None


def state_root(user_ns: Mapping[str, Any] | None = None) -> tuple[Path, str]:
    """The `.fooocus_widgets` folder to use and the notebook's name (namespace for its panels).

    Beside the notebook when it is known, else ``<user data dir>/fooocus-widgets`` with the
    namespace ``"default"``. On Colab `colab_root` (the mounted Drive, else the VM), with the
    notebook's name as namespace when the kernel can tell it.
    """
    nb = notebook_path(user_ns)
    if on_colab():
        return colab_root(), nb.name if nb is not None else "default"
    if nb is not None:
        return nb.parent / DATA_DIR_NAME, nb.name
    return Path(platformdirs.user_data_dir("fooocus-widgets", appauthor=False)), "default"
