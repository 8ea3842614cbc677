"""Dropping the references IPython keeps to objects that hold memory, so that they can be freed.

A pipeline shown as a cell's last expression lives on in the output history (``Out``, ``_``,
``__``, ``___``, the numbered ``_5``...), and after an error inside it, in the last exception and
its traceback (whose frames hold the pipeline). `clear_ipython_references` clears those entries
that hold the objects a predicate picks; `fooocus_widgets.release_vram` (and ``%fw_release``,
beside it in `fooocus_widgets.magics`) runs it before collecting garbage. The engine knows
nothing of IPython: this module sits beside it, imports neither torch nor IPython at module level,
and does nothing outside an IPython session except clear ``sys.last_*``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

__all__ = ["clear_ipython_references"]

Predicate = Callable[[Any], bool]

_NUMBERED = re.compile(r"_\d+")
"""The numbered output-history names: ``_5``, ``_12``..."""
_LAST_OUTPUTS = ("_", "__", "___")
_SYS_LAST = ("last_type", "last_value", "last_traceback", "last_exc")


def _holds(value: Any, is_target: Predicate) -> bool:
    """Whether `value` is a target or a tuple, list or dict directly holding one."""
    if is_target(value):
        return True
    if isinstance(value, (tuple, list)):
        return any(is_target(v) for v in value)
    if isinstance(value, dict):
        return any(is_target(v) for v in value.values())
    return False


def _clear_output_history(shell: Any, is_target: Predicate) -> list[str]:
    """Delete the ``Out[n]`` entries that hold a target."""
    out = shell.user_ns.get("Out", {})
    numbers = [n for n, v in out.items() if _holds(v, is_target)]
    for number in numbers:
        del out[number]
    return [f"Out[{number}]" for number in numbers]


def _clear_output_names(namespace: MutableMapping[str, Any], is_target: Predicate) -> list[str]:
    """Reset ``_`` / ``__`` / ``___`` and delete the numbered ``_n`` names that hold a target."""
    cleared = []
    for name in [n for n in list(namespace) if n in _LAST_OUTPUTS or _NUMBERED.fullmatch(n)]:
        if not _holds(namespace[name], is_target):
            continue
        if name in _LAST_OUTPUTS:
            namespace[name] = None
        else:
            del namespace[name]
        cleared.append(f"`{name}`")
    return cleared


def _clear_display_hook(shell: Any, is_target: Predicate) -> None:
    """The display hook keeps its own ``_`` / ``__`` / ``___``."""
    displayhook = getattr(shell, "displayhook", None)
    if displayhook is None:
        return
    for name in _LAST_OUTPUTS:
        if _holds(getattr(displayhook, name, None), is_target):
            setattr(displayhook, name, None)


def _clear_last_exception(shell: Any) -> list[str]:
    """The shell's record of the last error and the traceback its formatter keeps."""
    cleared = []
    result = getattr(shell, "last_execution_result", None)
    if result is not None and getattr(result, "error_in_exec", None) is not None:
        result.error_in_exec = None
        cleared.append("the last exception")
    if getattr(getattr(shell, "InteractiveTB", None), "tb", None) is not None:
        shell.InteractiveTB.tb = None
    return cleared


def _clear_sys_last() -> list[str]:
    """``sys.last_type`` / ``last_value`` / ``last_traceback`` / ``last_exc`` (set by IPython too)."""
    names = [n for n in _SYS_LAST if getattr(sys, n, None) is not None]
    for name in names:
        setattr(sys, name, None)
    return ["the last traceback"] if names else []


def _shell() -> Any:
    """The running IPython shell, or None (also when IPython is not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def clear_ipython_references(is_target: Predicate) -> list[str]:
    """Drop what IPython keeps that holds objects `is_target` picks: output history entries and
    ``_`` / ``__`` / ``___`` that point at them, and the last exception with its traceback.

    Returns what was cleared, in words (``Out[3]``, ```_```, ``the last exception``...).
    """
    cleared: list[str] = []
    shell = _shell()
    if shell is not None:
        cleared += _clear_output_history(shell, is_target)
        for namespace in (shell.user_ns, shell.user_ns_hidden):
            cleared += [name for name in _clear_output_names(namespace, is_target) if name not in cleared]
        _clear_display_hook(shell, is_target)
        cleared += _clear_last_exception(shell)
    cleared += _clear_sys_last()
    return cleared
