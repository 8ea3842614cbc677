"""FooocusPanel on the kernel side: traits mirror PanelState, validation, persistence."""

from __future__ import annotations

import ast
import dataclasses
import itertools
from pathlib import Path

import pytest
import traitlets

from fooocus_widgets import FileStore, FooocusPanel, LoraSlot, MemoryStore, PanelState
from fooocus_widgets.panel import STATE_TRAITS


def test_every_state_field_has_a_synced_trait() -> None:
    fields = {f.name for f in dataclasses.fields(PanelState)} - {"extras"}
    assert set(STATE_TRAITS) == fields
    synced = set(FooocusPanel.class_traits(sync=True))
    assert fields <= synced


def test_every_trait_is_documented() -> None:
    source = Path(__import__("fooocus_widgets.panel").panel.__file__).read_text()
    body = next(
        node.body
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef) and node.name == "FooocusPanel"
    )
    documented = {
        statement.targets[0].id
        for statement, after in itertools.pairwise(body)
        if isinstance(statement, ast.Assign)
        and isinstance(statement.targets[0], ast.Name)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
        and isinstance(after.value.value, str)
    }
    for name in FooocusPanel.class_traits(sync=True):
        if name.startswith("_") or name in {"layout", "tabbable", "tooltip", "comm", "keys", "log"}:
            continue
        assert name in documented, f"trait {name} is not declared in panel.py with a docstring under it"


def test_keyword_arguments_set_the_state() -> None:
    panel = FooocusPanel(key="k", store=MemoryStore(), prompt="a fox", image_number=4, seed=2**63 - 1)
    assert panel.state.prompt == "a fox"
    assert panel.image_number == 4
    assert panel.state.seed == 2**63 - 1


def test_unknown_keyword_arguments_are_rejected_with_the_allowed_ones() -> None:
    with pytest.raises(TypeError, match=r"promt.*allowed: .*prompt"):
        FooocusPanel(store=MemoryStore(), promt="x")


def test_bad_values_raise_trait_errors_naming_the_field_and_change_nothing() -> None:
    panel = FooocusPanel(key="k", store=MemoryStore(), image_number=3)
    with pytest.raises(traitlets.TraitError, match=r"image_number: 99 is out of range; allowed"):
        panel.image_number = 99
    with pytest.raises(traitlets.TraitError, match=r"loras\[0\]\.weight"):
        panel.loras = [{"enabled": True, "file": "x.safetensors", "weight": 7}]
    assert panel.image_number == 3
    assert panel.state.image_number == 3


def test_trait_edits_update_the_state_and_lora_slots_stay_five() -> None:
    panel = FooocusPanel(key="k", store=MemoryStore())
    panel.loras = [{"enabled": True, "file": "a.safetensors", "weight": 0.25}]
    assert len(panel.loras) == 5
    assert panel.state.loras[0] == LoraSlot(file="a.safetensors", weight=0.25)
    panel.styles = ["Sharp"]
    assert panel.state.styles == ("Sharp",)


def test_setting_state_updates_every_trait() -> None:
    panel = FooocusPanel(key="k", store=MemoryStore())
    state = PanelState(prompt="x", sampler="Euler a", guidance_scale=7.5, styles=())
    panel.state = state
    assert (panel.prompt, panel.sampler, panel.guidance_scale, panel.styles) == ("x", "Euler a", 7.5, [])
    assert panel.state == state


def test_seed_travels_to_the_browser_as_text() -> None:
    panel = FooocusPanel(key="k", store=MemoryStore(), seed=2**63 - 1)
    state = panel.get_state()
    assert state["seed"] == str(2**63 - 1)
    panel.set_state({"seed": "12345678901234567890"[:19]})
    assert panel.state.seed == 1234567890123456789


def test_edits_are_saved_and_a_new_panel_with_the_key_restores_them(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    panel = FooocusPanel(key="main", store=store)
    panel.prompt = "kept across restarts"
    panel.loras = [{"enabled": False, "file": "l.safetensors", "weight": -0.5}]
    again = FooocusPanel(key="main", store=FileStore(tmp_path))
    assert again.state == panel.state
    assert again.prompt == "kept across restarts"
    other = FooocusPanel(key="other", store=store)
    assert other.prompt == ""


def test_a_read_only_store_reports_in_the_panel_instead_of_raising(tmp_path: Path) -> None:
    class BrokenStore(MemoryStore):
        def save(self, key, state, *, revision=None, pending=None):  # type: ignore[no-untyped-def]
            raise PermissionError("read-only file system")

    panel = FooocusPanel(key="k", store=BrokenStore())
    panel.prompt = "still works"
    assert panel.state.prompt == "still works"
    assert "could not be saved" in panel.error
