"""The panel in a real JupyterLab: it renders with its hooks, edits reach the kernel and disk."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS, LabServer, open_notebook, run_cell, wait_output

HOOKS = [
    "prompt", "negative-prompt", "styles", "performance", "aspect-ratio", "image-number", "seed",
    "random-seed", "base-model", "guidance-scale", "sampler", "generate", "stop", "skip", "progress",
    "gallery", "error",
    *(f"lora-{i}-{part}" for i in range(5) for part in ("enabled", "file", "weight")),
]  # fmt: skip


def test_panel_renders_and_edits_reach_the_kernel_and_the_file_store(page: Page, lab: LabServer) -> None:
    lab.write_notebook(
        "render.ipynb",
        [
            "import fooocus_widgets as fw\npanel = fw.FooocusPanel(key='main')\npanel",
            "print('STATE=' + panel.state.to_json())",
        ],
    )
    open_notebook(page, lab, "render.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="main"]')
    expect(root).to_be_visible()
    for hook in HOOKS:
        expect(root.locator(f'[data-fw="{hook}"]')).to_have_count(1)
    # the lab extension is installed, activated and answered the panel
    expect(root).to_have_attribute("data-fw-host", "jupyterlab")
    assert any("lab extension activated" in m for m in page.console_messages)  # type: ignore[attr-defined]

    # Enter inside the prompt makes a new line (JupyterLab would swallow it otherwise)
    root.locator('[data-fw="prompt"]').click()
    page.keyboard.type("a lighthouse")
    page.keyboard.press("Enter")
    page.keyboard.type('at dusk, "quoted" \\ text')
    root.locator('[data-fw="lora-1-weight"]').fill("-0.35")
    root.locator('[data-fw="lora-1-weight"]').press("Tab")
    root.locator('[data-fw="performance"]').select_option("Quality")
    root.locator('[data-fw="random-seed"]').uncheck()
    root.locator('[data-fw="seed"]').fill("9223372036854775807")
    root.locator("summary", has_text="Advanced").click()
    root.locator('[data-fw="guidance-scale"]').fill("7.5")
    root.locator('[data-fw="guidance-scale"]').press("Tab")
    page.wait_for_timeout(400)  # past the text debounce

    run_cell(page, 1)
    wait_output(page, 1, "STATE=")
    output = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets[1].outputArea.node.innerText"
    )
    state = json.loads(output.split("STATE=", 1)[1])
    assert state["prompt"] == 'a lighthouse\nat dusk, "quoted" \\ text'
    assert state["loras"][1]["weight"] == -0.35
    assert state["performance"] == "Quality"
    assert state["random_seed"] is False
    assert state["seed"] == 2**63 - 1
    assert state["guidance_scale"] == 7.5

    saved = json.loads((lab.root / ".fooocus_widgets" / "state" / "render.ipynb" / "main.json").read_text())
    assert saved["state"] == state

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1600})  # the whole panel below Lab's toolbar
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(ARTIFACTS / "panel-settings.png"))


def test_untrusted_text_is_shown_as_text(page: Page, lab: LabServer) -> None:
    hostile = '<img src=x onerror="window.__fw_pwned=1"><b>bold</b>'
    lab.write_notebook(
        "hostile.ipynb",
        [
            "import fooocus_widgets as fw\n"
            f"panel = fw.FooocusPanel(key='h', prompt={hostile!r}, styles=[{hostile!r}],\n"
            "                         base_model='x<b>y</b>')\n"
            f"panel.error = {hostile!r}\npanel",
        ],
    )
    open_notebook(page, lab, "hostile.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="h"]')
    expect(root.locator('[data-fw="error"]')).to_contain_text(hostile)
    expect(root.locator('[data-fw="prompt"]')).to_have_value(hostile)
    expect(root.locator('[data-fw="styles"]')).to_contain_text(hostile)
    assert root.locator('img[src="x"], b').count() == 0  # our own preview <img> is the only image
    assert page.evaluate("() => window.__fw_pwned") is None
