"""Reading a panel's cell for Reconnect: which names hold the panel, which hold fooocus_widgets,
what cannot be bound again (and how the panel says so), bad and hostile sources."""

from __future__ import annotations

from pathlib import Path

import pytest

import fooocus_widgets
from fooocus_widgets import panel as panel_module
from fooocus_widgets.cell_names import (
    Binding,
    CellNames,
    Unbound,
    bind_names,
    find_names,
    not_bound_notice,
)

FW = Binding("fw", module="fooocus_widgets")


def panel_names(source: str, key: str = "k1") -> tuple[str, ...]:
    return find_names(source, key).panel_names


# ---- names bound to the panel ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('import fooocus_widgets as fw\npanel = fw.FooocusPanel(key="k1")\npanel', ("panel",)),
        ('import fooocus_widgets as fw; panel = fw.FooocusPanel(key="k1"); panel', ("panel",)),
        ("from fooocus_widgets import FooocusPanel\np2 = FooocusPanel()", ("p2",)),
        ("panel: fw.FooocusPanel = FooocusPanel(prompt='x')", ("panel",)),
        ("from fooocus_widgets import FooocusPanel as P\np = P(key='k1')\np", ("p",)),
        ("from fooocus_widgets.panel import FooocusPanel as P\np = P()", ("p",)),
        ("a = b = fooocus_widgets.FooocusPanel()", ("a", "b")),
        ("import fooocus_widgets as fw\n(panel := fw.FooocusPanel(key='k1'))", ("panel",)),
        ("outer = (inner := FooocusPanel())", ("outer", "inner")),
        ("if True:\n    panel = FooocusPanel()\nelse:\n    pass", ("panel",)),
        ("%load_ext autoreload\n!echo hi\npanel = FooocusPanel()\npanel", ("panel",)),  # magics
        ("панель = FooocusPanel()", ("панель",)),  # a non-ASCII identifier is a name like any other
        ("fw.FooocusPanel(key='k1')", ()),  # shown, bound to nothing: nothing to bind
    ],
)
def test_names_the_cell_binds_to_the_panel(source: str, expected: tuple[str, ...]) -> None:
    names = find_names(source, "k1")
    assert names.panel_names == expected
    assert names.problem == ""


def test_a_name_that_only_looks_like_the_panel_class_is_not_one() -> None:
    names = find_names("from other_lib import Panel as P\np = P()\nq = make_panel()", "k1")
    assert names.panel_names == ()
    assert Unbound("p", "from `P()`") in names.unbound
    assert Unbound("q", "from `make_panel()`") in names.unbound


def test_calls_inside_a_function_are_not_the_cells_panel() -> None:
    names = find_names(
        "def make_panel():\n    p = FooocusPanel(key='k1')\n    return p\nmine = make_panel()", "k1"
    )
    assert names.panel_names == ()
    assert names.unbound == (
        Unbound("make_panel", "a function defined in this cell"),
        Unbound("mine", "from `make_panel()`"),
    )


# ---- several panels in one cell -------------------------------------------------------------------


def test_two_panels_with_different_keys_each_bind_their_own_name() -> None:
    source = 'a = FooocusPanel(key="k1"); b = FooocusPanel(key="k2")\na, b'
    assert find_names(source, "k1") == CellNames(bindings=(Binding("a"),))
    assert find_names(source, "k2") == CellNames(bindings=(Binding("b"),))


def test_the_only_panel_call_is_this_panel_whatever_its_key() -> None:
    # a key derived from the cell id (no key=), a key in a variable, a cell edited since it ran
    assert panel_names("panel = FooocusPanel()", "cell-1234") == ("panel",)
    assert panel_names("panel = FooocusPanel(key=name)", "k1") == ("panel",)
    assert panel_names("panel = FooocusPanel(key='renamed')", "k1") == ("panel",)


def test_with_several_panels_the_one_without_a_literal_key_is_this_one() -> None:
    assert panel_names("a = FooocusPanel(key='other')\nb = FooocusPanel()", "cell-9") == ("b",)


def test_several_panels_none_keyed_are_named_not_guessed() -> None:
    names = find_names("a = FooocusPanel(key=k)\nb = FooocusPanel(key=j)", "k1")
    assert names.panel_names == ()
    reason = "one of 2 panels made here; no literal `key=` says which is this one"
    assert names.unbound == (Unbound("a", reason), Unbound("b", reason))


# ---- names bound to fooocus_widgets and its members ------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import fooocus_widgets", Binding("fooocus_widgets", module="fooocus_widgets", top_package=True)),
        ("import fooocus_widgets as fw", FW),
        (
            "import fooocus_widgets.panel",
            Binding("fooocus_widgets", module="fooocus_widgets.panel", top_package=True),
        ),
        ("import fooocus_widgets.panel as fp", Binding("fp", module="fooocus_widgets.panel")),
        (
            "from fooocus_widgets import generate as gen",
            Binding("gen", module="fooocus_widgets", attribute="generate"),
        ),
        ("from fooocus_widgets import *", Binding("*", module="fooocus_widgets", attribute="*")),
    ],
)
def test_names_the_cell_binds_to_the_package(source: str, expected: Binding) -> None:
    assert find_names(source, "k1").bindings == (expected,)


def test_bindings_come_in_the_order_the_cell_makes_them() -> None:
    source = (
        "from fooocus_widgets import FooocusPanel, generate as gen\n"
        "import fooocus_widgets as fw\n"
        "p = FooocusPanel()"
    )
    assert find_names(source, "k1").bindings == (
        Binding("FooocusPanel", module="fooocus_widgets", attribute="FooocusPanel"),
        Binding("gen", module="fooocus_widgets", attribute="generate"),
        FW,
        Binding("p"),
    )


def test_bind_names_binds_the_panel_and_what_the_imports_import() -> None:
    source = (
        "import fooocus_widgets as fw\n"
        "import fooocus_widgets.panel\n"
        "from fooocus_widgets import FooocusPanel as P, generate as gen, panel as submodule\n"
        "a = b = P(key='k1')"
    )
    live = object()
    namespace: dict[str, object] = {}
    assert bind_names(find_names(source, "k1"), live, namespace) == ()
    assert namespace == {
        "fw": fooocus_widgets,
        "fooocus_widgets": fooocus_widgets,
        "P": fooocus_widgets.FooocusPanel,
        "gen": fooocus_widgets.generate,
        "submodule": panel_module,
        "a": live,
        "b": live,
    }


def test_a_star_import_binds_every_public_name() -> None:
    namespace: dict[str, object] = {}
    assert bind_names(find_names("from fooocus_widgets import *", "k1"), None, namespace) == ()
    assert set(namespace) == set(fooocus_widgets.__all__)
    assert namespace["get_panel"] is fooocus_widgets.get_panel


def test_a_member_that_does_not_exist_is_named_not_raised() -> None:
    namespace: dict[str, object] = {}
    source = "from fooocus_widgets import no_such_thing\nimport fooocus_widgets.nope as n\np = FooocusPanel()"
    failed = bind_names(find_names(source, "k1"), "live", namespace)
    assert namespace == {"p": "live"}
    assert [u.target for u in failed] == ["no_such_thing", "n"]
    assert "`fooocus_widgets` has no `no_such_thing`" in failed[0].reason
    assert "importing `fooocus_widgets.nope` failed" in failed[1].reason


# ---- what cannot be bound again ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "unbound"),
    [
        ("panels[0] = FooocusPanel()", Unbound("panels[0]", "an item assignment")),
        ("obj.p = FooocusPanel()", Unbound("obj.p", "an attribute assignment")),
        ("a, b = FooocusPanel()", Unbound("(a, b)", "an unpacking")),
        ("p = make_panel()", Unbound("p", "from `make_panel()`")),
        ("p = helpers.make_panel(key='k1')", Unbound("p", "from `helpers.make_panel()`")),
        ("ps = [FooocusPanel(key=k) for k in keys]", Unbound("ps", "set by other code")),
        ("import numpy as np", Unbound("np", "an import of `numpy`")),
        ("from .local import thing", Unbound("thing", "an import from `.local`")),
        ("class Holder:\n    p = FooocusPanel()", Unbound("Holder", "a class defined in this cell")),
    ],
)
def test_what_cannot_be_bound_is_named(source: str, unbound: Unbound) -> None:
    names = find_names(source, "k1")
    assert names.panel_names == ()
    assert names.unbound == (unbound,)


def test_names_bound_again_are_not_also_listed_as_unbound() -> None:
    names = find_names("panel = None\npanel = FooocusPanel()\nseed = 5", "k1")
    assert names.panel_names == ("panel",)
    assert names.unbound == (Unbound("seed", "set by other code"),)


def test_the_notice_names_each_target_and_why() -> None:
    assert (
        not_bound_notice(find_names("panels[0] = FooocusPanel()", "k1").unbound)
        == "Reconnected. Not bound again: `panels[0]` (an item assignment); run the cell to bind it."
    )
    unbound = find_names("import numpy as np\npanels[0] = panels[1] = FooocusPanel()", "k1").unbound
    assert not_bound_notice(unbound) == (
        "Reconnected. Not bound again: `np` (an import of `numpy`), "
        "`panels[0]`, `panels[1]` (an item assignment); run the cell to bind them."
    )
    assert not_bound_notice(()) == ""


def test_a_long_list_is_cut_and_counted() -> None:
    unbound = tuple(Unbound(f"v{i}", "set by other code") for i in range(9))
    notice = not_bound_notice(unbound)
    assert "`v5` (set by other code) and 3 more;" in notice
    assert "`v6`" not in notice


# ---- bad and hostile sources ----------------------------------------------------------------------


def test_a_cell_with_a_syntax_error_is_named_with_its_line() -> None:
    names = find_names("import fooocus_widgets as fw\npanel = fw.FooocusPanel(\n", "k1")
    assert names.bindings == ()
    assert names.problem.startswith("it does not parse (")
    assert "line 2" in names.problem
    assert not_bound_notice(names.unbound, names.problem) == (
        "Reconnected. The names in this cell were not bound again: "
        f"{names.problem}; run the cell to bind them."
    )


@pytest.mark.parametrize(
    "source",
    [
        "x = '\0'",  # a null byte
        "(" * 500 + ")" * 500,  # nesting past the parser's limit
        "lone \ud800 surrogate = FooocusPanel()",
        '"""never closed',
    ],
)
def test_sources_that_cannot_be_parsed_give_a_problem_not_an_exception(source: str) -> None:
    names = find_names(source, "k1")
    assert names.bindings == ()
    assert names.problem.startswith("it ")


def test_a_cell_nested_past_the_parsers_depth_is_too_deep_to_read() -> None:
    names = find_names("x = " + "+".join(["1"] * 100_000) + "\npanel = FooocusPanel()", "k1")
    assert names == CellNames(problem="it is nested too deeply to read")


def test_hostile_text_is_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = (
        f"__import__('pathlib').Path({str(marker)!r}).touch()\n"
        '"""); import os; os._exit(1); ("""\n'
        "s = '\u2028 ünïcödé ✓ 🦊 \\n \" \\''\n"
        'panel = FooocusPanel(key="k1\\"); x = (")\n'
        "panel"
    )
    names = find_names(source, 'k1"); x = ("')
    assert not marker.exists()
    assert names.panel_names == ("panel",)
    assert names.unbound == (Unbound("s", "set by other code"),)


def test_long_targets_are_shortened_in_the_notice() -> None:
    target = "registry[" + "'x' + " * 30 + "'y']"
    (unbound,) = find_names(f"{target} = FooocusPanel()", "k1").unbound
    assert len(unbound.target) == 40
    assert unbound.target.endswith("…")
    assert unbound.reason == "an item assignment"
