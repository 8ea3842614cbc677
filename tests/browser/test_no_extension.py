"""Hosts without the lab extension (Colab, VS Code, the extension disabled), played by JupyterLab
with ours disabled: when the kernel goes away the panel says at once to run the cell again (no
Reconnect that cannot work there), and an edit made while it is away reaches the re-run cell's
kernel, from browser storage or, where storage is denied, from the page itself."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from .conftest import (
    ARTIFACTS,
    LabServer,
    open_notebook,
    restart_from_kernel_menu,
    run_cell,
    wait_kernel_idle,
)
from .test_reconnect import kernel_state, panel_cells

EDIT = "edited while the kernel was away, no frames"

#: Browser storage denied to the panel, as a privacy setting or a sandboxed frame does it: every
#: call on one of its keys throws. (JupyterLab itself does not load with no storage at all, so
#: the keys of others still work.)
DENY_STORAGE = """
(() => {
  const ours = key => String(key).startsWith('fooocus-widgets');
  const wrap = (name, isOurs) => {
    const real = Storage.prototype[name];
    Object.defineProperty(Storage.prototype, name, {
      configurable: true,
      value(...args) {
        if (isOurs(args)) throw new DOMException('The operation is insecure.', 'SecurityError');
        return real.apply(this, args);
      }
    });
  };
  wrap('getItem', args => ours(args[0]));
  wrap('setItem', args => ours(args[0]));
  wrap('removeItem', args => ours(args[0]));
})();
"""


def storage_works(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => {
                try {
                    localStorage.setItem('fooocus-widgets:test', '1');
                    return localStorage.getItem('fooocus-widgets:test') === '1';
                } catch { return false; }
            }"""
        )
    )


def restart_and_edit_while_away(page: Page, root: Locator) -> Locator:
    """Restart the kernel, check the bar says to run the cell again with no Reconnect button,
    and edit the negative prompt while the kernel is away. Returns the bar."""
    restart_from_kernel_menu(page)
    bar = root.locator('[data-fw="connection"]')
    expect(bar).to_be_visible(timeout=20_000)
    text = root.locator('[data-fw="connection-text"]')
    expect(text).to_contain_text("Run this cell again")
    expect(bar).to_have_attribute("data-recovery", "rerun")
    expect(root.locator('[data-fw="reconnect"]')).to_be_hidden()
    expect(root.locator('[data-fw="auto-reconnect"]')).to_be_hidden()
    expect(root.locator('[data-fw="generate"]')).to_be_hidden()
    root.locator('[data-fw="negative-prompt"]').fill(EDIT)
    page.wait_for_timeout(800)  # past the debounces
    return bar


def rerun_and_check_the_kernel_has_the_edit(page: Page, key: str) -> None:
    wait_kernel_idle(page)
    run_cell(page, 0)
    root = page.locator(f'[data-fw-panel="{key}"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    # the new kernel's panel came from its file store; the handshake gave it the edit
    expect(root).to_have_attribute("data-fw-handshake", "negative_prompt", timeout=10_000)
    expect(root.locator('[data-fw="negative-prompt"]')).to_have_value(EDIT)
    expect(root.locator('[data-fw="connection"]')).to_be_hidden()
    page.wait_for_timeout(500)
    assert kernel_state(page, 1)["negative_prompt"] == EDIT


def test_storage_denied_the_page_keeps_the_edit_for_the_rerun(
    browser_page_factory: Callable[[LabServer], Page], lab_without_extension: LabServer
) -> None:
    lab = lab_without_extension
    page = browser_page_factory(lab)
    page.add_init_script(DENY_STORAGE)
    lab.write_notebook("nostorage.ipynb", panel_cells("nostorage"))
    open_notebook(page, lab, "nostorage.ipynb")
    assert not storage_works(page)
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="nostorage"]')
    expect(root).to_have_attribute("data-fw-host", "other")

    bar = restart_and_edit_while_away(page, root)
    # no storage, but JupyterLab's page outlives the re-run: the bar says where the edit lives
    expect(bar).to_have_attribute("data-keeps", "page")
    text = root.locator('[data-fw="connection-text"]')
    expect(text).to_contain_text("live in this page only")
    expect(text).not_to_contain_text("Your settings are saved")
    ARTIFACTS.mkdir(exist_ok=True)
    bar.screenshot(path=str(ARTIFACTS / "panel-no-extension-no-storage.png"))

    rerun_and_check_the_kernel_has_the_edit(page, "nostorage")


def test_storage_allowed_the_edit_reaches_the_rerun_kernel(
    browser_page_factory: Callable[[LabServer], Page], lab_without_extension: LabServer
) -> None:
    lab = lab_without_extension
    page = browser_page_factory(lab)
    lab.write_notebook("withstorage.ipynb", panel_cells("withstorage"))
    open_notebook(page, lab, "withstorage.ipynb")
    assert storage_works(page)
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="withstorage"]')
    expect(root).to_have_attribute("data-fw-host", "other")

    bar = restart_and_edit_while_away(page, root)
    expect(bar).to_have_attribute("data-keeps", "storage")
    expect(root.locator('[data-fw="connection-text"]')).to_contain_text("kept in this browser")
    saved = page.evaluate(
        """() => Object.keys(localStorage)
            .filter(k => k.startsWith('fooocus-widgets:') && k.endsWith(':withstorage'))
            .map(k => JSON.parse(localStorage.getItem(k)).state.negative_prompt)"""
    )
    assert saved == [EDIT]  # in browser storage before the re-run

    rerun_and_check_the_kernel_has_the_edit(page, "withstorage")
