"""Surviving kernel restarts and crashes in a real JupyterLab: Reconnect, crash + resume, the
state in the .ipynb, and hosts without the lab extension."""

from __future__ import annotations

import json
import shutil

from playwright.sync_api import Locator, Page, expect

from .conftest import (
    ARTIFACTS,
    LabServer,
    cell_output_text,
    dismiss_dialogs,
    open_notebook,
    restart_from_kernel_menu,
    run_cell,
    wait_kernel_idle,
    wait_output,
)

PROMPT = 'a lighthouse at dusk, "stormy" sea \\ with\nnew lines'
NEGATIVE = "blurry, low detail"
SEED = "123456789012345678"


def panel_cells(key: str) -> list[str]:
    return [
        f"import fooocus_widgets as fw\npanel = fw.FooocusPanel(key={key!r})\npanel",
        "print('STATE=' + panel.state.to_json())",
    ]


def edit_everything(root: Locator) -> None:
    """Prompt, negative prompt, two styles, a LoRA slot and its weight, seed and guidance."""
    root.locator('[data-fw="prompt"]').fill(PROMPT)
    root.locator('[data-fw="negative-prompt"]').fill(NEGATIVE)
    for name in ("Enhance", "Sharp"):
        root.locator(f'[data-style="{name}"]').uncheck()
    for name in ("Cinematic", "Watercolor"):
        root.locator(f'[data-style="{name}"]').check()
    root.locator('[data-fw="lora-0-file"]').select_option("demo-detail.safetensors")
    root.locator('[data-fw="lora-0-weight"]').fill("0.35")
    root.locator('[data-fw="lora-0-weight"]').press("Tab")
    root.locator('[data-fw="random-seed"]').uncheck()
    root.locator('[data-fw="seed"]').fill(SEED)
    root.locator("summary", has_text="Advanced").click()
    root.locator('[data-fw="guidance-scale"]').fill("6.5")
    root.locator('[data-fw="guidance-scale"]').press("Tab")
    root.page.wait_for_timeout(600)  # past the debounces


def expect_everything_back(root: Locator) -> None:
    expect(root.locator('[data-fw="prompt"]')).to_have_value(PROMPT)
    expect(root.locator('[data-fw="negative-prompt"]')).to_have_value(NEGATIVE)
    for name in ("Cinematic", "Watercolor"):
        expect(root.locator(f'[data-style="{name}"]')).to_be_checked()
    for name in ("Enhance", "Sharp"):
        expect(root.locator(f'[data-style="{name}"]')).not_to_be_checked()
    expect(root.locator('[data-fw="lora-0-file"]')).to_have_value("demo-detail.safetensors")
    expect(root.locator('[data-fw="lora-0-weight"]')).to_have_value("0.35")
    expect(root.locator('[data-fw="random-seed"]')).not_to_be_checked()
    expect(root.locator('[data-fw="seed"]')).to_have_value(SEED)
    expect(root.locator('[data-fw="guidance-scale"]')).to_have_value("6.5")


def kernel_state(page: Page, cell: int) -> dict[str, object]:
    run_cell(page, cell)
    wait_output(page, cell, "STATE=")
    text = cell_output_text(page, cell)
    assert "STATE=" in text, text
    return dict(json.loads(text.split("STATE=", 1)[1].strip().splitlines()[0]))


def assert_kernel_has_everything(state: dict[str, object]) -> None:
    assert state["prompt"] == PROMPT
    assert state["negative_prompt"] == NEGATIVE
    assert state["styles"] == ["Cinematic", "Watercolor"]
    assert state["loras"][0] == {"enabled": True, "file": "demo-detail.safetensors", "weight": 0.35}  # type: ignore[index]
    assert state["seed"] == int(SEED)
    assert state["random_seed"] is False
    assert state["guidance_scale"] == 6.5


def test_menu_restart_then_reconnect_restores_everything_and_generate_works(
    page: Page, lab: LabServer
) -> None:
    lab.write_notebook("restart.ipynb", panel_cells("restart"))
    open_notebook(page, lab, "restart.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="restart"]')
    edit_everything(root)

    restart_from_kernel_menu(page)
    reconnect = root.locator('[data-fw="reconnect"]')
    expect(reconnect).to_be_visible(timeout=20_000)
    expect(root.locator('[data-fw="generate"]')).to_be_hidden()
    wait_kernel_idle(page)
    expect(root.locator('[data-fw="connection-text"]')).to_contain_text("The kernel is back")
    ARTIFACTS.mkdir(exist_ok=True)
    root.locator('[data-fw="connection"]').screenshot(path=str(ARTIFACTS / "panel-reconnect.png"))
    reconnect.click()

    root = page.locator('[data-fw-panel="restart"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    expect(root).to_have_attribute("data-fw-handshake", "in-step")  # rehydrated with everything
    expect(root.locator('[data-fw="reconnect"]')).to_be_hidden()
    expect_everything_back(root)
    assert_kernel_has_everything(kernel_state(page, 1))

    root.locator('[data-fw="performance"]').select_option("Lightning")
    root.locator('[data-fw="image-number"]').fill("1")
    root.locator('[data-fw="image-number"]').press("Tab")
    root.locator('[data-fw="generate"]').click()
    expect(root.locator('[data-fw="gallery"] .fw-thumb')).to_have_count(1, timeout=120_000)
    expect(root.locator('[data-fw="error"]')).to_be_hidden()


def test_crash_mid_batch_then_reconnect_offers_to_resume(page: Page, lab: LabServer) -> None:
    lab.write_notebook(
        "crash.ipynb",
        [
            "import fooocus_widgets as fw\n"
            "panel = fw.FooocusPanel(key='crash', performance='Lightning', image_number=6)\npanel",
            "import os; os._exit(1)",
        ],
    )
    open_notebook(page, lab, "crash.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="crash"]')
    root.locator('[data-fw="prompt"]').fill(PROMPT)
    page.wait_for_timeout(400)
    root.locator('[data-fw="generate"]').click()
    expect(root.locator('[data-fw="gallery"] .fw-thumb')).to_have_count(
        1, timeout=120_000
    )  # image 2 of 6 runs
    run_cell(page, 1)  # the kernel dies in the middle of the batch

    reconnect = root.locator('[data-fw="reconnect"]')
    expect(reconnect).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)
    dismiss_dialogs(page)
    wait_kernel_idle(page)
    reconnect.click()

    root = page.locator('[data-fw-panel="crash"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    expect(root.locator('[data-fw="prompt"]')).to_have_value(PROMPT)
    banner = root.locator('[data-fw="resume-banner"]')
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("of 6 images")
    done = int(banner.inner_text().split("after ", 1)[1].split(" of", 1)[0])
    assert 1 <= done < 6
    expect(root.locator('[data-fw="gallery"] .fw-thumb')).to_have_count(done)  # finished images came back
    root.locator('[data-fw="resume"]').click()
    expect(root.locator('[data-fw="stop"]')).to_be_visible(timeout=20_000)
    expect(root.locator('[data-fw="gallery"] .fw-thumb')).to_have_count(done + 1, timeout=120_000)
    root.locator('[data-fw="stop"]').click()
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=60_000)


def test_state_travels_in_the_ipynb_and_running_the_cell_restores_it(page: Page, lab: LabServer) -> None:
    lab.write_notebook("travel.ipynb", panel_cells("travel"))
    open_notebook(page, lab, "travel.ipynb")
    run_cell(page, 0)
    edit_everything(page.locator('[data-fw-panel="travel"]'))
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(800)

    on_disk = json.loads((lab.root / "travel.ipynb").read_text())
    record = on_disk["metadata"]["fooocus_widgets"]["panels"]["travel"]
    assert record["state"]["prompt"] == PROMPT
    assert record["state"]["styles"] == ["Cinematic", "Watercolor"]
    assert isinstance(record["revision"], int)
    assert len(json.dumps(record)) < 256 * 1024

    # close the page, end the kernel, and wipe every other copy: only the .ipynb is left
    page.context.clear_cookies()
    page.goto("about:blank")
    lab.delete_sessions()
    shutil.rmtree(lab.root / ".fooocus_widgets", ignore_errors=True)
    fresh = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[union-attr]
    try:
        again = fresh.new_page()
        open_notebook(again, lab, "travel.ipynb")
        run_cell(again, 0)
        root = again.locator('[data-fw-panel="travel"]')
        expect(root).to_be_visible()
        expect(root).not_to_have_attribute("data-fw-handshake", "in-step", timeout=10_000)
        expect_everything_back(root)
        again.wait_for_timeout(500)
        assert_kernel_has_everything(kernel_state(again, 1))
    finally:
        fresh.close()


def test_without_the_extension_rerunning_the_cell_restores_the_state(
    browser_page_factory, lab_without_extension: LabServer
) -> None:  # type: ignore[no-untyped-def]
    lab = lab_without_extension
    page = browser_page_factory(lab)
    lab.write_notebook("noext.ipynb", panel_cells("noext"))
    open_notebook(page, lab, "noext.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="noext"]')
    expect(root).to_have_attribute("data-fw-host", "other")
    edit_everything(root)

    restart_from_kernel_menu(page)
    # no Reconnect that cannot work here: the bar says at once to run the cell again
    expect(root.locator('[data-fw="connection-text"]')).to_contain_text("Run this cell again", timeout=20_000)
    expect(root.locator('[data-fw="reconnect"]')).to_be_hidden()
    # edits made while the kernel is away are kept too (browser storage)
    root.locator('[data-fw="image-number"]').fill("5")
    root.locator('[data-fw="image-number"]').press("Tab")
    page.wait_for_timeout(500)

    wait_kernel_idle(page)
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="noext"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    expect_everything_back(root)
    expect(root.locator('[data-fw="image-number"]')).to_have_value("5")
    page.wait_for_timeout(500)
    state = kernel_state(page, 1)
    assert_kernel_has_everything(state)
    assert state["image_number"] == 5
