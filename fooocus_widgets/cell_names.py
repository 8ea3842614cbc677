"""The names a panel's cell binds, read from its source with `ast`, so Reconnect can bind them again.

After a kernel restart the lab extension does not run the user's cell again: it calls
``rehydrate(..., cell_source=...)`` with the cell's text passed as data. `find_names` reads that
text (it never runs it) and finds the names that hold the panel (``panel = fw.FooocusPanel(...)``,
annotated, chained, through an alias, a walrus), the names that hold ``fooocus_widgets`` or its
members (``import fooocus_widgets as fw``, ``from fooocus_widgets import generate as gen``), and
what the cell binds in ways a Reconnect cannot repeat (``panels[0] = ...``, ``p = make_panel()``,
``import numpy as np``). `bind_names` binds the first two kinds in a namespace (the IPython user
namespace), and `not_bound_notice` words the rest for the panel, so the user knows which names
only running the cell brings back. Standard library only at import time; when IPython is
installed its transformer turns magics (``%time``, ``!ls``) into Python before parsing.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Binding", "CellNames", "Unbound", "bind_names", "find_names", "not_bound_notice"]

PACKAGE = "fooocus_widgets"
PANEL_CLASS = "FooocusPanel"
#: At most this many unbound names are listed in the panel's notice.
MAX_LISTED = 6
#: Code shown in a notice is cut to this many characters.
MAX_SNIPPET = 40


@dataclass(frozen=True)
class Binding:
    """A name the cell binds that a Reconnect binds again.

    ``module`` empty: the name holds the panel. Otherwise the name holds the module ``module``
    (imported first), its member ``attribute`` (``"*"``: every public member, under their own
    names), or with ``top_package`` the package at the top of ``module``
    (``import fooocus_widgets.panel`` binds ``fooocus_widgets``).
    """

    name: str
    module: str = ""
    attribute: str = ""
    top_package: bool = False

    @property
    def is_panel(self) -> bool:
        """Does this name hold the panel?"""
        return not self.module


@dataclass(frozen=True)
class Unbound:
    """Something the cell binds that a Reconnect does not bind again, and why."""

    target: str
    """The target as written in the cell (``panels[0]``, ``p``)."""
    reason: str
    """Why, in a few words (``an item assignment``)."""

    def __str__(self) -> str:
        return f"`{self.target}` ({self.reason})"


@dataclass(frozen=True)
class CellNames:
    """What `find_names` found in one cell's source."""

    bindings: tuple[Binding, ...] = ()
    """Names to bind again, in the order the cell binds them."""
    unbound: tuple[Unbound, ...] = ()
    """What the cell binds that cannot be bound again without running it."""
    problem: str = ""
    """Why the source could not be read at all (a syntax error); empty when it could."""

    @property
    def panel_names(self) -> tuple[str, ...]:
        """The names that hold the panel."""
        return tuple(b.name for b in self.bindings if b.is_panel)


# ---- reading the source ---------------------------------------------------------------------------


def find_names(source: str, key: str) -> CellNames:
    """The names `source` (a cell's text, never run) binds to the panel `key` and to fooocus_widgets.

    When the cell makes several panels, the one whose literal ``key=`` equals `key` is this one
    (else the only call without a literal key). Never raises: a source that does not parse gives
    a `CellNames` with only `problem` set.
    """
    try:
        tree = ast.parse(_as_python(source))
    except SyntaxError as exc:
        where = f", line {exc.lineno}" if exc.lineno else ""
        return CellNames(problem=f"it does not parse ({exc.msg}{where})")
    except RecursionError:
        return CellNames(problem="it is nested too deeply to read")
    except MemoryError:
        return CellNames(problem="it is too big to read")
    except ValueError as exc:  # a lone surrogate, null bytes on some Python versions
        return CellNames(problem=f"it could not be read ({exc})")
    return _Reader(tree, key).result()


def _as_python(source: str) -> str:
    """`source` with IPython's magics and shell escapes turned into Python, when IPython is here."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return str(TransformerManager().transform_cell(source))  # type: ignore[no-untyped-call]
    except Exception:  # noqa: BLE001 -- any transformer failure: parse the text as it is
        return source


def _snippet(node: ast.AST) -> str:
    """Short source text of `node` for a notice."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):
        return "…"
    text = " ".join(text.split())
    return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"


def _unpacking_kind(target: ast.expr) -> str:
    """Why a non-name target of the panel cannot be bound again."""
    if isinstance(target, ast.Subscript):
        return "an item assignment"
    if isinstance(target, ast.Attribute):
        return "an attribute assignment"
    return "an unpacking"


def _literal_key(call: ast.Call) -> str | None:
    """The ``key=`` of a panel call when it is written as a string literal."""
    for keyword in call.keywords:
        if keyword.arg == "key" and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None


def _is_package(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


@dataclass
class _PanelCall:
    """A ``FooocusPanel(...)`` call run at the cell's top level and the targets it is bound to."""

    call: ast.Call
    targets: list[ast.expr] = field(default_factory=list)


class _Reader:
    """One pass over a parsed cell, skipping function and class bodies (they bind no cell names)."""

    def __init__(self, tree: ast.Module, key: str) -> None:
        self.key = key
        self.nodes = list(_top_level_nodes(tree))
        self.parents = {child: node for node in self.nodes for child in ast.iter_child_nodes(node)}
        self.panel_aliases = {PANEL_CLASS}
        self.bindings: list[tuple[ast.AST, Binding]] = []
        self.others: list[tuple[ast.AST, Unbound]] = []
        self._read_imports()

    def _read_imports(self) -> None:
        """Imports of fooocus_widgets (and its members) to bind again; other imports to name."""
        for node in self.nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self._read_import(node, alias)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    self._read_import_from(node, alias)

    def _read_import(self, node: ast.Import, alias: ast.alias) -> None:
        if not _is_package(alias.name):
            name = alias.asname or alias.name.split(".")[0]
            self.others.append((node, Unbound(name, f"an import of `{alias.name}`")))
        elif alias.asname:
            self.bindings.append((node, Binding(alias.asname, module=alias.name)))
        else:
            self.bindings.append((node, Binding(PACKAGE, module=alias.name, top_package=True)))

    def _read_import_from(self, node: ast.ImportFrom, alias: ast.alias) -> None:
        module, name = node.module or "", alias.asname or alias.name
        if node.level or not _is_package(module):
            self.others.append((node, Unbound(name, f"an import from `{'.' * node.level}{module}`")))
            return
        self.bindings.append((node, Binding(name, module=module, attribute=alias.name)))
        if alias.name == PANEL_CLASS:
            self.panel_aliases.add(name)

    def _is_panel_call(self, call: ast.Call) -> bool:
        """Does `call` make a panel (``FooocusPanel(...)``, ``fw.FooocusPanel(...)``, an alias)?"""
        func = call.func
        return (isinstance(func, ast.Name) and func.id in self.panel_aliases) or (
            isinstance(func, ast.Attribute) and func.attr == PANEL_CLASS
        )

    def _panel_call(self, call: ast.Call) -> _PanelCall:
        """`call` and what it is bound to: assignment targets, walrus names, up the value chain."""
        found = _PanelCall(call)
        node: ast.AST = call
        while True:
            parent = self.parents.get(node)
            if isinstance(parent, ast.NamedExpr) and parent.value is node:
                found.targets.append(parent.target)
                node = parent
            elif isinstance(parent, ast.Assign) and parent.value is node:
                found.targets.extend(parent.targets)
                return found
            elif isinstance(parent, ast.AnnAssign) and parent.value is node:
                found.targets.append(parent.target)
                return found
            else:
                return found

    def _ours(self, calls: list[_PanelCall]) -> tuple[list[_PanelCall], list[_PanelCall]]:
        """The calls that make the panel `key`, and those that might (several, none keyed)."""
        keyed = [c for c in calls if _literal_key(c.call) == self.key]
        if keyed or len(calls) <= 1:
            return keyed or calls, []
        unkeyed = [c for c in calls if _literal_key(c.call) is None]
        return (unkeyed, []) if len(unkeyed) == 1 else ([], unkeyed)

    def _read_panels(self) -> set[ast.AST]:
        """Panel bindings and unbindable panel targets; returns every panel call's targets."""
        calls = [
            self._panel_call(n) for n in self.nodes if isinstance(n, ast.Call) and self._is_panel_call(n)
        ]
        ours, ambiguous = self._ours(calls)
        for panel_call in ours:
            for target in panel_call.targets:
                if isinstance(target, ast.Name):
                    self.bindings.append((target, Binding(target.id)))
                else:
                    self.others.append((target, Unbound(_snippet(target), _unpacking_kind(target))))
        reason = f"one of {len(ambiguous)} panels made here; no literal `key=` says which is this one"
        for panel_call in ambiguous:
            self.others.extend((t, Unbound(_snippet(t), reason)) for t in panel_call.targets)
        return {t for c in calls for t in c.targets}

    def _read_other_names(self, panel_targets: set[ast.AST]) -> None:
        """Names bound some other way: assignments from other values, functions, classes."""
        for node in self.nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kind = "a class" if isinstance(node, ast.ClassDef) else "a function"
                self.others.append((node, Unbound(node.name, f"{kind} defined in this cell")))
                continue
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            reason = (
                f"from `{_snippet(value.func)}()`" if isinstance(value, ast.Call) else "set by other code"
            )
            for target in targets:
                if target not in panel_targets and isinstance(target, ast.Name):
                    self.others.append((target, Unbound(target.id, reason)))

    def result(self) -> CellNames:
        self._read_other_names(self._read_panels())
        position = _source_order
        bindings = tuple(b for _, b in sorted(self.bindings, key=lambda nb: position(nb[0])))
        bound = {b.name for b in bindings}
        unbound: dict[str, Unbound] = {}
        for _, item in sorted(self.others, key=lambda nu: position(nu[0])):
            if item.target not in bound:
                unbound.setdefault(item.target, item)
        return CellNames(bindings=bindings, unbound=tuple(unbound.values()))


def _source_order(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _top_level_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node that runs in the cell's own scope: function, lambda and class bodies left out
    (their definitions are yielded; decorators, defaults and bases are not looked into).
    """
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))


# ---- binding ---------------------------------------------------------------------------------------


def bind_names(names: CellNames, panel: object, namespace: MutableMapping[str, Any]) -> tuple[Unbound, ...]:
    """Bind `names` in `namespace`: panel names to `panel`, the others to what they import.

    Returns what could not be bound (an import that fails, a member that does not exist).
    """
    failed: list[Unbound] = []
    for binding in names.bindings:
        if binding.is_panel:
            namespace[binding.name] = panel
            continue
        try:
            value = _imported(binding)
        except Exception as exc:  # noqa: BLE001 -- any import error is named in the panel, never raised
            failed.append(Unbound(binding.name, f"importing `{binding.module}` failed: {exc}"))
            continue
        if binding.attribute == "*":
            namespace.update(value)
        else:
            namespace[binding.name] = value
    return tuple(failed)


def _imported(binding: Binding) -> Any:
    """The value `binding` holds, imported as the ``import`` statement would."""
    module = importlib.import_module(binding.module)
    if binding.top_package:
        return importlib.import_module(binding.module.split(".")[0])
    if not binding.attribute:
        return module
    if binding.attribute == "*":
        public = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        return {name: getattr(module, name) for name in public}
    try:
        return getattr(module, binding.attribute)
    except AttributeError:  # `from package import submodule`
        try:
            return importlib.import_module(f"{binding.module}.{binding.attribute}")
        except ImportError:
            raise AttributeError(f"`{binding.module}` has no `{binding.attribute}`") from None


# ---- the notice ------------------------------------------------------------------------------------


def not_bound_notice(unbound: tuple[Unbound, ...], problem: str = "") -> str:
    """The panel's notice after a Reconnect: what was not bound again; empty when all was."""
    if problem:
        return (
            f"Reconnected. The names in this cell were not bound again: {problem}; run the cell to bind them."
        )
    if not unbound:
        return ""
    targets_by_reason: dict[str, list[str]] = {}
    for item in unbound[:MAX_LISTED]:
        targets_by_reason.setdefault(item.reason, []).append(f"`{item.target}`")
    listed = ", ".join(f"{', '.join(targets)} ({reason})" for reason, targets in targets_by_reason.items())
    if len(unbound) > MAX_LISTED:
        listed += f" and {len(unbound) - MAX_LISTED} more"
    pronoun = "it" if len(unbound) == 1 else "them"
    return f"Reconnected. Not bound again: {listed}; run the cell to bind {pronoun}."
