"""The page never holds a value the kernel refused: a paste past the prompt's limit, a seed past
its maximum typed key by key, and a value that only the kernel's (newer) limits refuse all end
with the kernel, the page, the notebook's metadata, browser storage and the file store agreeing
on the accepted value, and with the panel saying what was refused and why."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import ARTIFACTS, LabServer, open_notebook, printed_json, run_cell, wait_output

NOTEBOOK = "refusals.ipynb"
KEPT_PROMPT = "a lighthouse at dusk"


def _notebook(lab: LabServer, key: str, *extra: str, **fields: Any) -> None:
    args = "".join(f", {name}={value!r}" for name, value in fields.items())
    lab.write_notebook(
        NOTEBOOK,
        [
            f"import json\nimport fooocus_widgets as fw\npanel = fw.FooocusPanel(key={key!r}{args})\npanel",
            "print('STATE=' + json.dumps({'prompt_length': len(panel.state.prompt), "
            "'prompt': panel.state.prompt[:100], 'seed': str(panel.state.seed)}))",
            *extra,
        ],
    )


def _copies(page: Page, lab: LabServer, key: str) -> dict[str, dict[str, Any]]:
    """The panel's state in the notebook's metadata, browser storage and the kernel's file store."""
    metadata = page.evaluate(
        "(key) => window.jupyterapp.shell.currentWidget.model.getMetadata('fooocus_widgets').panels[key]",
        key,
    )
    stored = page.evaluate("(k) => JSON.parse(localStorage.getItem(k))", f"fooocus-widgets:{NOTEBOOK}:{key}")
    file = json.loads((lab.root / ".fooocus_widgets" / "state" / NOTEBOOK / f"{key}.json").read_text())
    return {"metadata": metadata["state"], "browser storage": stored["state"], "file store": file["state"]}


def _type_prompt(page: Page, root: Locator, text: str) -> None:
    root.locator('[data-fw="prompt"]').fill(text)
    page.wait_for_timeout(600)  # past the text and mirror debounces


def test_big_paste_is_refused_and_every_copy_keeps_the_prompt(page: Page, lab: LabServer) -> None:
    _notebook(lab, "paste")
    open_notebook(page, lab, NOTEBOOK)
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="paste"]')
    prompt = root.locator('[data-fw="prompt"]')
    _type_prompt(page, root, KEPT_PROMPT)
    assert printed_json(page, 1)["prompt"] == KEPT_PROMPT

    prompt.fill("x" * 200_000)  # what a paste does: one input event with all of it
    page.wait_for_timeout(3_000)

    error = root.locator('[data-fw="error"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text(
        "The prompt is 200,000 characters; allowed: at most 32,768. It was not applied."
    )
    expect(prompt).to_have_value(KEPT_PROMPT)
    kernel = printed_json(page, 1)
    assert kernel["prompt_length"] == len(KEPT_PROMPT)
    assert kernel["prompt"] == KEPT_PROMPT
    for where, state in _copies(page, lab, "paste").items():
        assert state["prompt"] == KEPT_PROMPT, where

    ARTIFACTS.mkdir(exist_ok=True)
    root.locator(".fw-main").screenshot(path=str(ARTIFACTS / "refusal.png"))


def test_a_seed_typed_past_its_maximum_is_refused_and_a_valid_one_taken_exactly(
    page: Page, lab: LabServer
) -> None:
    _notebook(lab, "seed", seed=1234)
    seed_updates: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        if '"comm_msg"' in text and '"method":"update"' in text.replace(" ", ""):
            seed_updates.extend(re.findall(r'"seed"\s*:\s*"(\d*)"', text))

    page.on("websocket", lambda ws: ws.on("framesent", on_frame))
    open_notebook(page, lab, NOTEBOOK)
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="seed"]')
    seed = root.locator('[data-fw="seed"]')
    root.locator('[data-fw="random-seed"]').uncheck()
    expect(seed).to_have_value("1234")

    seed.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("99999999999999999999999")
    expect(seed).to_have_attribute("aria-invalid", "true")  # marked while it is typed
    page.keyboard.press("Tab")
    expect(seed).to_have_value("1234")
    error = root.locator('[data-fw="error"]')
    expect(error).to_contain_text(
        "The seed 99999999999999999999999 is out of range; allowed: whole numbers from 0 to "
        "9223372036854775807. It was not applied; the seed stays 1234."
    )
    ARTIFACTS.mkdir(exist_ok=True)
    root.screenshot(path=str(ARTIFACTS / "refusal-seed.png"))
    page.wait_for_timeout(500)
    assert printed_json(page, 1)["seed"] == "1234"
    assert seed_updates == []  # not one of its prefixes was sent

    valid = "98765432109876543"  # beyond a JS number's exact range
    seed.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(valid)
    page.keyboard.press("Enter")
    expect(seed).to_have_value(valid)
    expect(error).to_be_hidden()  # the refusal is taken back
    page.wait_for_timeout(500)
    assert printed_json(page, 1)["seed"] == valid
    assert seed_updates == [valid]
    for where, state in _copies(page, lab, "seed").items():
        assert str(state["seed"]) == valid, where


def test_a_value_only_the_kernel_refuses_comes_back_with_the_reason(page: Page, lab: LabServer) -> None:
    # the page's limits are stale: the kernel's prompt limit shrinks after the panel was made
    _notebook(
        lab,
        "stale",
        "import dataclasses, types\n"
        "from fooocus_widgets.state import PanelState\n"
        "f = PanelState.__dataclass_fields__['prompt']\n"
        "shorter = dataclasses.replace(f.metadata['check'], max_length=12)\n"
        "f.metadata = types.MappingProxyType({'check': shorter})\n"
        "print('PATCHED')",
        prompt="a lighthouse",
    )
    open_notebook(page, lab, NOTEBOOK)
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="stale"]')
    prompt = root.locator('[data-fw="prompt"]')
    expect(prompt).to_have_value("a lighthouse")
    run_cell(page, 2)
    wait_output(page, 2, "PATCHED")

    _type_prompt(page, root, "a lighthouse at dusk")  # the page allows it; the kernel does not
    expect(prompt).to_have_value("a lighthouse")
    expect(root.locator('[data-fw="error"]')).to_contain_text(
        "The prompt 'a lighthouse at dusk' is too long; allowed: text of at most 12 characters. "
        "It was not applied; the panel shows the last accepted prompt again."
    )
    page.wait_for_timeout(600)  # past the mirror's debounce
    assert printed_json(page, 1)["prompt"] == "a lighthouse"
    for where, state in _copies(page, lab, "stale").items():
        assert state["prompt"] == "a lighthouse", where
