"""FooocusPanel on the kernel side: traits mirror PanelState, validation, persistence."""

from __future__ import annotations

import ast
import dataclasses
import itertools
from pathlib import Path
from typing import Any

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


# ---- values the page sends that the kernel refuses ---------------------------------------------


def _sent_messages(panel: FooocusPanel, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every message the panel sends to the page from now on (as its comm would carry them)."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(panel.comm, "kernel", object(), raising=False)  # a comm with a kernel sends
    monkeypatch.setattr(panel.comm, "send", lambda data=None, buffers=None, **_: sent.append(data))
    return sent


def _from_page(panel: FooocusPanel, state: dict[str, Any]) -> None:
    """An 'update' message from the page, through the path ipywidgets takes."""
    panel._handle_msg(
        {"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []}
    )


def _updates(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["state"] for m in sent if m["method"] == "update"]


def test_a_refused_value_from_the_page_is_reported_and_the_accepted_one_sent_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = MemoryStore()
    panel = FooocusPanel(key="k", store=store, prompt="a lighthouse")
    revision = panel.revision
    sent = _sent_messages(panel, monkeypatch)
    _from_page(panel, {"prompt": "x" * 200_000})
    assert panel.prompt == "a lighthouse"
    assert panel.state.prompt == "a lighthouse"
    assert panel.revision == revision  # nothing saved
    assert store.load("k").state.prompt == "a lighthouse"  # type: ignore[union-attr]
    assert panel.error == (
        "The prompt 'xxxxxxxxxxxxxxxxxxxxxxxx'… (200,000 characters) is too long; allowed: text of at "
        "most 32768 characters. It was not applied; the panel shows the last accepted prompt again."
    )
    updates = _updates(sent)
    assert {"prompt": "a lighthouse"} in updates  # the page's copy is put back
    assert any(u.get("error") == panel.error for u in updates)


def test_a_seed_past_the_maximum_is_refused_and_sent_back_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = FooocusPanel(key="k", store=MemoryStore(), seed=42, random_seed=False)
    sent = _sent_messages(panel, monkeypatch)
    _from_page(panel, {"seed": "99999999999999999999999"})
    assert panel.seed == 42
    assert "The seed 99999999999999999999999 is out of range; allowed: whole numbers from 0 to" in panel.error
    assert {"seed": "42"} in _updates(sent)
    for weird in ("-1", "", "²", "12a"):  # not digits: traitlets' own check refuses them
        _from_page(panel, {"seed": weird})
        assert panel.seed == 42
        assert panel.error.startswith("The seed sent by the page is not allowed"), panel.error


def test_one_refused_value_does_not_take_the_others_of_its_message_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = FooocusPanel(key="k", store=MemoryStore())
    sent = _sent_messages(panel, monkeypatch)
    slots = [dict(slot) for slot in panel.loras]
    slots[1]["weight"] = 7
    _from_page(panel, {"negative_prompt": "blurry", "image_number": 99, "loras": slots, "sampler": "Euler a"})
    assert panel.state.negative_prompt == "blurry"
    assert panel.state.sampler == "Euler a"
    assert panel.state.image_number == 2
    assert panel.state.loras[1].weight == 1.0
    assert "The image number 99 is out of range; allowed: whole numbers from 1 to 32." in panel.error
    assert "The LoRA 2 weight 7.0 is out of range; allowed: numbers from -2 to 2." in panel.error
    _from_page(panel, {"image_number": 3})  # either field accepted later takes the message back
    assert panel.error == ""
    sent_back = {k for u in _updates(sent) for k in u}
    assert {"image_number", "loras"} <= sent_back
    assert "negative_prompt" not in sent_back  # the page has the accepted ones
    assert "sampler" not in sent_back


def test_the_refusal_leaves_the_error_area_when_the_field_is_next_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panel = FooocusPanel(key="k", store=MemoryStore())
    _sent_messages(panel, monkeypatch)
    _from_page(panel, {"image_number": 0})
    assert "image number" in panel.error
    _from_page(panel, {"prompt": "other field"})
    assert "image number" in panel.error  # another field's edit leaves it
    _from_page(panel, {"image_number": 4})
    assert panel.image_number == 4
    assert panel.error == ""
    _from_page(panel, {"image_number": 0})
    panel.error = "The model file is damaged."  # a later problem is never cleared by an edit
    _from_page(panel, {"image_number": 5})
    assert panel.error == "The model file is damaged."


def test_setting_a_bad_value_from_python_still_raises() -> None:
    panel = FooocusPanel(key="k", store=MemoryStore())
    with pytest.raises(
        traitlets.TraitError, match=r"prompt: 'x+\.\.\. is too long; allowed: text of at most"
    ):
        panel.prompt = "x" * 40_000
    assert panel.error == ""
