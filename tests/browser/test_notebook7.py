"""The panel in Jupyter Notebook 7: the lab extension answers there too (state in the notebook's
metadata, kernel status, Reconnect), after a restart from the Kernel menu and after a crash."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import LabServer, dismiss_dialogs, open_notebook, restart_from_kernel_menu, run_cell
from .test_reconnect import (
    PROMPT,
    assert_kernel_has_everything,
    edit_everything,
    expect_everything_back,
    kernel_state,
    panel_cells,
)


@pytest.fixture
def nb7_page(browser_page_factory: Callable[[LabServer], Page], notebook7: LabServer) -> Page:
    return browser_page_factory(notebook7)


def open_panel(page: Page, server: LabServer, key: str, cells: list[str] | None = None) -> Locator:
    """Open a notebook whose first cell makes panel `key` in Notebook 7, run it, and return the
    panel's root once the extension has answered its ready event."""
    server.write_notebook(f"{key}.ipynb", cells or panel_cells(key))
    open_notebook(page, server, f"{key}.ipynb")
    assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
    assert page.url.split("?", 1)[0].endswith(f"/notebooks/{key}.ipynb")
    run_cell(page, 0)
    root = page.locator(f'[data-fw-panel="{key}"]')
    expect(root).to_have_attribute("data-fw-host", "jupyterlab")  # the extension answered
    return root


def wait_saved_prompt(page: Page, key: str, prompt: str) -> None:
    """Wait until the notebook's metadata (written by the extension) holds `prompt` for `key`."""
    page.wait_for_function(
        """([key, prompt]) => {
            const model = window.jupyterapp.shell.currentWidget.model;
            const meta = model.getMetadata('fooocus_widgets');
            return meta?.panels?.[key]?.state?.prompt === prompt;
        }""",
        arg=[key, prompt],
    )


def reconnect_and_expect_live(page: Page, key: str) -> Locator:
    """Click Reconnect and wait for the rebuilt panel (a new live widget in the same cell)."""
    root = page.locator(f'[data-fw-panel="{key}"]')
    root.locator('[data-fw="reconnect"]').click()
    root = page.locator(f'[data-fw-panel="{key}"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    expect(root.locator('[data-fw="reconnect"]')).to_be_hidden()
    expect(root).to_have_attribute("data-fw-host", "jupyterlab")
    return root


def test_menu_restart_then_reconnect_in_notebook7(nb7_page: Page, notebook7: LabServer) -> None:
    page = nb7_page
    root = open_panel(page, notebook7, "nb7restart")
    edit_everything(root)
    wait_saved_prompt(page, "nb7restart", PROMPT)

    restart_from_kernel_menu(page)
    expect(root.locator('[data-fw="reconnect"]')).to_be_visible(timeout=20_000)
    expect(root.locator('[data-fw="generate"]')).to_be_hidden()
    # the extension feeds the kernel status: the panel notices the new kernel by itself
    expect(root.locator('[data-fw="connection-text"]')).to_contain_text("The kernel is back", timeout=30_000)

    root = reconnect_and_expect_live(page, "nb7restart")
    expect(root).to_have_attribute("data-fw-handshake", "in-step")  # rehydrated with everything
    expect_everything_back(root)
    assert_kernel_has_everything(kernel_state(page, 1))  # the new kernel's `panel`


def test_crash_then_reconnect_in_notebook7(nb7_page: Page, notebook7: LabServer) -> None:
    page = nb7_page
    key = "nb7crash"
    root = open_panel(page, notebook7, key, [*panel_cells(key), "import os; os._exit(1)"])
    root.locator('[data-fw="prompt"]').fill(PROMPT)
    wait_saved_prompt(page, key, PROMPT)

    run_cell(page, 2)  # the kernel dies; the server starts a new one by itself
    expect(root.locator('[data-fw="reconnect"]')).to_be_visible(timeout=30_000)
    # Notebook 7 says the kernel died (a modal dialog over the page): close it like a user
    page.locator(".jp-Dialog .jp-mod-accept").first.wait_for(timeout=30_000)
    dismiss_dialogs(page)
    expect(page.locator(".jp-Dialog")).to_have_count(0)

    root = reconnect_and_expect_live(page, key)
    expect(root.locator('[data-fw="prompt"]')).to_have_value(PROMPT)
    state = kernel_state(page, 1)
    assert state["prompt"] == PROMPT
