"""Reopened notebooks: after the server restarted, a saved panel's widget model is gone; the
extension shows the panel's saved summary instead of JupyterLab's error, and "Restore panel"
brings the panel back live with what it held. Nothing runs before that click."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.sign import NotebookNotary
from playwright.sync_api import Page, expect

from .conftest import (
    ARTIFACTS,
    LabServer,
    open_notebook,
    printed_json,
    restart_server,
    run_cell,
    start_lab,
    stop_lab,
    wait_kernel_idle,
)

PROMPT = 'a glass teapot on a "wooden" table <b>not bold</b>'
PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HOSTILE_MINIS = [
    "javascript:alert(1)",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "https://example.com/x.png",
]


@pytest.fixture
def own_lab(tmp_path: Path) -> Iterator[LabServer]:
    """A JupyterLab of this test's own, which it may restart (set up before the pages, so it is
    stopped after them)."""
    server = start_lab(tmp_path / "lab")
    yield server
    stop_lab(server, "jupyterlab-reopened")


def test_reopened_notebook_shows_the_saved_summary_and_restores_the_panel(
    own_lab: LabServer, browser_page_factory: Callable[[LabServer], Page]
) -> None:
    lab = own_lab
    lab.write_notebook(
        "reopen.ipynb",
        [
            "import fooocus_widgets as fw\npanel = fw.FooocusPanel()\npanel",  # key: cell-<cell id>
            "import json\nprint('STATE=' + json.dumps(panel.state.prompt))",
        ],
    )
    page = browser_page_factory(lab)
    open_notebook(page, lab, "reopen.ipynb")
    run_cell(page, 0)
    root = page.locator("[data-fw-panel]")
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    root.locator('[data-fw="prompt"]').fill(PROMPT)
    page.wait_for_timeout(600)  # past the debounces
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
    saved = json.loads((lab.root / "reopen.ipynb").read_text())
    panels = saved["metadata"]["fooocus_widgets"]["panels"]
    assert [record["state"]["prompt"] for record in panels.values()] == [PROMPT]
    assert next(iter(panels)).startswith("cell-")
    page.goto("about:blank")

    restart_server(lab)
    # the file now also holds a thumbnail, and three a page must never load
    record = next(iter(panels.values()))
    minis = [PNG, *HOSTILE_MINIS]
    record["results"] = [{"hash": f"h{i}", "seed": str(i), "mini": mini} for i, mini in enumerate(minis)]
    (lab.root / "reopen.ipynb").write_text(json.dumps(saved))
    # as trusted as JupyterLab's own save left it (an untrusted output shows only its text)
    NotebookNotary(data_dir=str(lab.root.parent / "data")).sign(
        nbformat.read(lab.root / "reopen.ipynb", as_version=4)
    )
    page = browser_page_factory(lab)
    open_notebook(page, lab, "reopen.ipynb")
    summary = page.locator("[data-fw-summary]")
    expect(summary).to_be_visible(timeout=20_000)
    expect(summary.locator('[data-fw="summary-prompt"]')).to_have_text(PROMPT)  # as text, not HTML
    expect(summary.locator("b")).to_have_count(0)
    thumbnails = summary.locator('[data-fw="summary-thumbnails"] img')
    expect(thumbnails).to_have_count(1)
    assert thumbnails.first.get_attribute("src") == PNG
    expect(page.locator("text=Error displaying widget")).to_have_count(0)
    expect(page.locator("[data-fw-panel]")).to_have_count(0)  # nothing ran by itself
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".jp-Cell").first.screenshot(path=str(ARTIFACTS / "reopened-summary.png"))

    summary.locator('[data-fw="restore-panel"]').click()
    root = page.locator("[data-fw-panel]")
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=30_000)
    expect(root.locator('[data-fw="prompt"]')).to_have_value(PROMPT)
    expect(page.locator("[data-fw-summary]")).to_have_count(0)
    wait_kernel_idle(page)
    assert printed_json(page, 1) == PROMPT
