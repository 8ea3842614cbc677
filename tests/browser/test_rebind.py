"""Names come back after a crash in a real JupyterLab: Reconnect binds the variables a one-line cell
bound (``fw``, ``panel``) in the new kernel, and names in the panel what it could not bind."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import (
    LabServer,
    cell_output_text,
    dismiss_dialogs,
    open_notebook,
    run_cell,
    wait_kernel_idle,
    wait_output,
)

ONE_LINE_CELL = 'import fooocus_widgets as fw; panel = fw.FooocusPanel(key="k1"); panel'
CHECK_CELL = "print('NAMES=', type(panel).__name__, panel.key, fw.__name__, fw.get_panel('k1') is panel)"
CRASH_CELL = "import os; os._exit(1)"


def crash_and_reconnect(page: Page, panel_key: str, crash_cell: int) -> None:
    """Kill the kernel from cell `crash_cell`, wait for the automatic restart, click Reconnect."""
    root = page.locator(f'[data-fw-panel="{panel_key}"]')
    run_cell(page, crash_cell)
    reconnect = root.locator('[data-fw="reconnect"]')
    expect(reconnect).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1500)  # the "kernel died" dialog comes a moment later
    dismiss_dialogs(page)
    wait_kernel_idle(page)
    reconnect.click()
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)


def test_a_one_line_cells_names_are_bound_again_after_a_crash(page: Page, lab: LabServer) -> None:
    lab.write_notebook("rebind.ipynb", [ONE_LINE_CELL, CRASH_CELL, CHECK_CELL])
    open_notebook(page, lab, "rebind.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="k1"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible()
    run_cell(page, 2)
    wait_output(page, 2, "NAMES=")  # the check cell passes before the crash too

    crash_and_reconnect(page, "k1", crash_cell=1)
    expect(root.locator('[data-fw="notice"]')).to_be_hidden()  # everything was bound again

    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[2].model.outputs.clear()")
    run_cell(page, 2)
    wait_output(page, 2, "NAMES=")
    text = cell_output_text(page, 2)
    assert "NAMES= FooocusPanel k1 fooocus_widgets True" in text, text
    assert "NameError" not in text


def test_what_reconnect_cannot_bind_is_named_in_the_panel(page: Page, lab: LabServer) -> None:
    cell = "import fooocus_widgets as fw\npanels = {}\npanels[0] = fw.FooocusPanel(key='k2')\npanels[0]"
    lab.write_notebook("unbound.ipynb", [cell, CRASH_CELL, "print('FW=', fw.get_panel('k2').key)"])
    open_notebook(page, lab, "unbound.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="k2"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible()

    crash_and_reconnect(page, "k2", crash_cell=1)
    expect(root.locator('[data-fw="notice"]')).to_have_text(
        "Reconnected. Not bound again: `panels` (set by other code), `panels[0]` (an item assignment); "
        "run the cell to bind them."
    )
    run_cell(page, 2)  # `fw` was bound again all the same
    wait_output(page, 2, "FW=")
    assert "FW= k2" in cell_output_text(page, 2)
