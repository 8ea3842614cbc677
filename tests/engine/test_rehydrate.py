"""Coming back after a restart, kernel side: rehydrate(), the cell's names bound again in a real
IPython shell, newest copy wins, resume, handshake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fooocus_widgets as fw
from fooocus_widgets import FileStore, FooocusPanel, ImageStore, rehydrate
from fooocus_widgets.engine.run import Engine
from fooocus_widgets.state import PanelState

HOSTILE = [
    "quote \" and ' both",
    "back\\slash \\n not a newline",
    "real\nnew\r\nlines\ttab",
    '"); import os; os._exit(1); print("',
    "'''; __import__('os').system('touch /tmp/pwned'); '''",
    "ünïcödé ✓ 🦊 \u2028 line separator",
    "</script><img src=x onerror=alert(1)>",
]


def py_str(text: str) -> str:
    """What the lab extension's `pyStr` makes: a JSON string literal with every non-ASCII code
    point as a Python escape (JSON's own escapes for quotes, backslashes and control characters
    are Python escapes too)."""
    return json.dumps(text, ensure_ascii=False).encode("ascii", "backslashreplace").decode("ascii")


def python_call(key: str, state: PanelState, revision: int) -> str:
    """The code the lab extension runs."""
    return f"rehydrate({py_str(key)}, {py_str(state.to_json())}, {revision})"


@pytest.mark.parametrize("prompt", HOSTILE)
def test_state_reaches_the_kernel_as_data_whatever_the_prompt(prompt: str, tmp_path: Path) -> None:
    state = PanelState(prompt=prompt, negative_prompt=prompt)
    code = python_call("k", state, 7)
    namespace: dict[str, object] = {"rehydrate": lambda k, s, r: (k, PanelState.from_json(s), r)}
    key, restored, revision = eval(code, namespace)
    assert (key, restored, revision) == ("k", state, 7)
    assert not Path("/tmp/pwned").exists()


def panel_options(tmp_path: Path, demo_dir: Path, engine: Engine) -> dict[str, object]:
    return {
        "store": FileStore(tmp_path / "state"),
        "models_dir": demo_dir,
        "output_dir": tmp_path / "out",
        "images": ImageStore(tmp_path / "images"),
        "engine": lambda: engine,
    }


def test_rehydrate_builds_the_panel_with_exactly_the_saved_state(
    tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    state = PanelState(
        prompt=HOSTILE[3], base_model="demo-sdxl-b.safetensors", guidance_scale=6.5, styles=("Sharp",)
    )
    panel = rehydrate("main", state.to_json(), 12, **panel_options(tmp_path, demo_dir, engine))
    assert panel.state == state
    assert panel.revision == 12  # it saved at once, at the revision the front end sent
    assert FileStore(tmp_path / "state").load("main").state == state  # type: ignore[union-attr]


# ---- the cell's names, bound again in a real IPython shell ----------------------------------------


@pytest.fixture
def shell() -> Iterator[Any]:
    """IPython's shell, its user namespace emptied before and after (as a new kernel's is)."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("%reset -f")
    yield shell
    shell.run_cell("%reset -f")


def extension_code(key: str, state: PanelState, revision: int, cell_source: str) -> str:
    """What the lab extension's `rehydrateCode` runs (see js/src/common/record.ts)."""
    return (
        f'__import__("fooocus_widgets").rehydrate({py_str(key)}, {py_str(state.to_json())}, '
        f"{revision}, None, cell_source={py_str(cell_source)})"
    )


ONE_LINE_CELL = 'import fooocus_widgets as fw; panel = fw.FooocusPanel(key="k1"); panel'


def test_rehydrate_binds_the_one_line_cells_names_to_the_live_panel(
    shell: Any, tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    assert "panel" not in shell.user_ns
    assert "fw" not in shell.user_ns
    state = PanelState(prompt="kept")
    panel = rehydrate(
        "k1", state.to_json(), 4, cell_source=ONE_LINE_CELL, **panel_options(tmp_path, demo_dir, engine)
    )
    ns = shell.user_ns
    assert ns["panel"] is panel
    assert ns["fw"] is fw
    assert ns["fw"].get_panel("k1") is ns["panel"]
    assert ns["panel"].prompt == "kept"
    assert panel.notice == ""  # everything was bound: nothing to tell


@pytest.mark.parametrize(
    ("cell_source", "panel_names", "other_names"),
    [
        ("panel: fw.FooocusPanel = fw.FooocusPanel(key='k1')", ["panel"], {}),
        (
            "from fooocus_widgets import FooocusPanel as P, generate as gen\np = P()\np",
            ["p"],
            {"P": "FooocusPanel", "gen": "generate"},
        ),
        (
            "import fooocus_widgets\na = b = fooocus_widgets.FooocusPanel()",
            ["a", "b"],
            {"fooocus_widgets": ""},
        ),
        ("import fooocus_widgets.panel as fp\n(p := fp.FooocusPanel())", ["p"], {"fp": "panel"}),
        (
            "x = fw.FooocusPanel(key='other')\nmine = fw.FooocusPanel(key='k1')",
            ["mine"],
            {},
        ),
    ],
)
def test_rehydrate_binds_every_form_of_the_cells_names(
    shell: Any,
    tmp_path: Path,
    demo_dir: Path,
    engine: Engine,
    cell_source: str,
    panel_names: list[str],
    other_names: dict[str, str],
) -> None:
    panel = rehydrate("k1", "{}", 0, cell_source=cell_source, **panel_options(tmp_path, demo_dir, engine))
    for name in panel_names:
        assert shell.user_ns[name] is panel, name
    assert "x" not in shell.user_ns  # the other panel's name: its own Reconnect binds it
    for name, member in other_names.items():
        assert shell.user_ns[name] is (getattr(fw, member) if member else fw), name
    assert panel.notice == ""


def test_what_cannot_be_bound_is_named_in_the_panel(
    shell: Any, tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    cell = "import fooocus_widgets as fw\npanels = {}\npanels[0] = fw.FooocusPanel(key='k1')"
    panel = rehydrate("k1", "{}", 0, cell_source=cell, **panel_options(tmp_path, demo_dir, engine))
    assert shell.user_ns["fw"] is fw
    assert "panels" not in shell.user_ns
    assert panel.notice == (
        "Reconnected. Not bound again: `panels` (set by other code), `panels[0]` (an item assignment); "
        "run the cell to bind them."
    )


def test_a_cell_that_does_not_parse_still_gives_the_panel_and_says_why(
    shell: Any, tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    panel = rehydrate(
        "k1", "{}", 0, cell_source="panel = fw.FooocusPanel(\n", **panel_options(tmp_path, demo_dir, engine)
    )
    assert fw.get_panel("k1") is panel
    assert "panel" not in shell.user_ns
    assert panel.notice.startswith(
        "Reconnected. The names in this cell were not bound again: it does not parse"
    )


def test_without_an_ipython_shell_the_names_are_named(
    tmp_path: Path, demo_dir: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fooocus_widgets.reconnect

    monkeypatch.setattr(fooocus_widgets.reconnect, "_user_namespace", lambda: None)
    panel = rehydrate("k1", "{}", 0, cell_source=ONE_LINE_CELL, **panel_options(tmp_path, demo_dir, engine))
    assert panel.notice == (
        "Reconnected. Not bound again: `fw`, `panel` (no IPython shell here); run the cell to bind them."
    )


def test_the_extensions_code_run_in_the_shell_shows_the_panel_and_binds_its_names(
    shell: Any, tmp_path: Path, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOOCUS_WIDGETS_MODELS", str(demo_dir))
    monkeypatch.setenv("FOOOCUS_WIDGETS_OUTPUTS", str(tmp_path / "out"))
    marker = tmp_path / "ran"
    hostile_cell = (
        'import fooocus_widgets as fw; panel = fw.FooocusPanel(key="k1"); panel\n'
        f'"""); __import__("pathlib").Path({str(marker)!r}).touch(); ("""\n'
        "note = '\u2028 ünïcödé ✓ 🦊 \\n \" \\''\n"
    )
    result = shell.run_cell(extension_code("k1", PanelState(prompt=HOSTILE[3]), 2, hostile_cell))
    assert result.success, result.error_in_exec
    panel = result.result  # the cell's value: what its output shows
    assert isinstance(panel, FooocusPanel)
    assert panel.prompt == HOSTILE[3]
    assert shell.user_ns["panel"] is panel
    assert shell.user_ns["fw"].get_panel("k1") is panel
    assert "fooocus_widgets" not in shell.user_ns  # the call binds no name of its own
    assert not marker.exists()  # the source was read, never run
    assert (
        panel.notice == "Reconnected. Not bound again: `note` (set by other code); run the cell to bind it."
    )


def test_unreadable_state_falls_back_to_the_kernels_copy(
    tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    options = panel_options(tmp_path, demo_dir, engine)
    FooocusPanel(key="main", prompt="kept on disk", **options)  # type: ignore[arg-type]
    panel = rehydrate("main", '{"prompt": 5', 0, **options)
    assert panel.prompt == "kept on disk"
    assert "could not be read" in panel.error


def test_newest_revision_wins_and_a_tie_keeps_both(tmp_path: Path, demo_dir: Path, engine: Engine) -> None:
    options = panel_options(tmp_path, demo_dir, engine)
    kernel_side = FooocusPanel(key="main", prompt="kernel", **options)  # type: ignore[arg-type]
    kernel_side.prompt = "kernel, edited later"  # revision 1 (created at 0)
    older = PanelState(prompt="front end, older")
    panel = rehydrate("main", older.to_json(), 0, **options)
    assert panel.prompt == "kernel, edited later"
    assert "newer copy" in panel.notice

    store = FileStore(tmp_path / "state")
    revision = store.load("main").revision  # type: ignore[union-attr]
    tie = PanelState(prompt="front end, same age")
    panel = rehydrate("main", tie.to_json(), revision, **options)
    assert panel.prompt == "front end, same age"
    assert store.load("main.conflict").state.prompt == "kernel, edited later"  # type: ignore[union-attr]
    assert "main.conflict" in panel.notice


def test_handshake_applies_only_differing_newer_values(
    tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    panel = FooocusPanel(key="h", prompt="old", image_number=3, **panel_options(tmp_path, demo_dir, engine))  # type: ignore[arg-type]
    before = panel.revision
    panel.controller.on_message(
        panel, {"type": "restore", "revision": before + 5, "changes": {"prompt": "typed offline"}}, []
    )
    assert panel.prompt == "typed offline"
    assert panel.image_number == 3
    assert panel.revision == before + 5
    panel.controller.on_message(
        panel, {"type": "restore", "revision": before + 9, "changes": {"image_number": 99}}, []
    )
    assert panel.image_number == 3
    assert "image_number" in panel.error


def test_heartbeat_is_answered(
    tmp_path: Path, demo_dir: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = FooocusPanel(key="p", **panel_options(tmp_path, demo_dir, engine))  # type: ignore[arg-type]
    sent: list[object] = []
    monkeypatch.setattr(panel, "send", lambda content, buffers=None: sent.append(content))
    panel.controller.on_message(panel, {"type": "ping", "id": "41"}, [])
    assert sent == [{"type": "pong", "id": "41"}]


def test_an_interrupted_batch_can_be_resumed_with_its_seeds(
    tmp_path: Path, demo_dir: Path, engine: Engine, small_state: PanelState
) -> None:
    options = panel_options(tmp_path, demo_dir, engine)
    panel = FooocusPanel(key="b", state=small_state.replace(image_number=4, seed=100), **options)  # type: ignore[arg-type]
    # a batch of 4 whose kernel died after 2 images: what the store holds at that moment
    panel.set_pending({"seeds": ["100", "101", "102", "103"], "done": 2, "images": 4})
    del panel

    again = FooocusPanel(key="b", **options)  # re-running the cell in a new kernel
    assert again.pending == {"seeds": ["100", "101", "102", "103"], "done": 2, "images": 4}
    job = again.controller.resume()
    assert job is not None
    job.result()
    assert [r["seed"] for r in again.results] == ["102", "103"]
    assert again.pending == {}
    assert FileStore(tmp_path / "state").load("b").pending is None  # type: ignore[union-attr]


def test_a_finished_batch_leaves_nothing_pending(
    tmp_path: Path, demo_dir: Path, engine: Engine, small_state: PanelState
) -> None:
    options = panel_options(tmp_path, demo_dir, engine)
    panel = FooocusPanel(key="f", state=small_state, **options)  # type: ignore[arg-type]
    seen: list[dict[str, object]] = []
    panel.observe(lambda change: seen.append(dict(change["new"])), names="pending")
    panel.generate(wait=True)
    assert seen[0] == {"seeds": ["1234"], "done": 0, "images": 1}
    assert {"seeds": ["1234"], "done": 1, "images": 1} in seen
    assert panel.pending == {}


def test_rerunning_the_cell_closes_the_previous_panel_of_that_key(
    tmp_path: Path, demo_dir: Path, engine: Engine
) -> None:
    options = panel_options(tmp_path, demo_dir, engine)
    first = FooocusPanel(key="same", **options)  # type: ignore[arg-type]
    second = FooocusPanel(key="same", **options)  # type: ignore[arg-type]
    assert first.comm is None  # closed
    second.prompt = "only the live panel saves"
    assert FileStore(tmp_path / "state").load("same").state.prompt == "only the live panel saves"  # type: ignore[union-attr]
