"""Real-time collaboration: two pages on one notebook (jupyter-collaboration), crashes, and
Reconnect from one page or from both at once."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import (
    LabServer,
    PageFactory,
    dismiss_dialogs,
    open_notebook,
    run_cell,
    wait_kernel_idle,
    wait_output,
)

KEY = "together"
CELLS = [
    f"import fooocus_widgets as fw\npanel = fw.FooocusPanel(key={KEY!r})\npanel",
    "import os; os._exit(1)",
    "print('plain', 0)",  # run in page A after each round
    "print('plain', 1)",  # run in page B
]


def panel_in_two_windows(open_page: PageFactory, lab: LabServer, name: str) -> tuple[Page, Page]:
    """Window A runs the panel's cell of a new notebook `name`; window B opens the same notebook
    (the same kernel) and shows the same live panel."""
    lab.write_notebook(name, CELLS)
    a = open_page(lab)
    open_notebook(a, lab, name)
    run_cell(a, 0)
    b = open_page(lab, keep_sessions=True)
    open_notebook(b, lab, name)
    for page in (a, b):
        expect(page.locator(f'[data-fw-panel="{KEY}"] [data-fw="generate"]')).to_be_visible()
    return a, b


def expect_output(page: Page, index: int, text: str, timeout: float) -> None:
    """Wait until cell `index` shows `text`; on timeout, fail with what the cell and the page's
    kernel connection hold (to tell a lost reply from a lost output)."""
    try:
        wait_output(page, index, text, timeout)
    except PlaywrightTimeoutError:
        state = page.evaluate(
            """(i) => {
                const panel = window.jupyterapp.shell.currentWidget;
                const cell = panel.content.widgets[i];
                const kernel = panel.sessionContext.session.kernel;
                return {
                    executionCount: cell.model.executionCount,
                    executionState: cell.model.executionState,
                    outputs: cell.model.outputs.toJSON(),
                    waiting: [...kernel._futures.values()].map(f => f.msg.header.msg_type),
                };
            }""",
            index,
        )
        raise AssertionError(f"cell {index} does not show {text!r} after {timeout} ms: {state}") from None


def test_crash_rounds_with_reconnect_in_one_page_never_hang_either(
    browser_page_factory: PageFactory, collaborative_lab: LabServer
) -> None:
    a, b = panel_in_two_windows(browser_page_factory, collaborative_lab, "together.ipynb")

    for round_ in range(5):
        # edits come from either page: the other sees them through the shared widget model
        editor = (a, b)[round_ % 2]
        prompt = f"a red circle, round {round_}"
        editor.locator(f'[data-fw-panel="{KEY}"] [data-fw="prompt"]').fill(prompt)
        editor.wait_for_timeout(600)
        crash_and_wait(a, b)
        a.locator(f'[data-fw-panel="{KEY}"] [data-fw="reconnect"]').click()
        for page in (a, b):
            root = page.locator(f'[data-fw-panel="{KEY}"]')
            expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
            expect(root.locator('[data-fw="prompt"]')).to_have_value(prompt)
        for n, page in enumerate((a, b)):
            run_cell(page, 2 + n, wait=False)
            expect_output(page, 2 + n, f"plain {n}", timeout=10_000)
            clear_output(page, 2 + n)


def test_reconnect_clicked_in_both_pages_at_once_rebuilds_the_panel_once(
    browser_page_factory: PageFactory, collaborative_lab: LabServer
) -> None:
    a, b = panel_in_two_windows(browser_page_factory, collaborative_lab, "both.ipynb")
    a.locator(f'[data-fw-panel="{KEY}"] [data-fw="prompt"]').fill("a blue square on the left")
    a.wait_for_timeout(600)
    crash_and_wait(a, b)
    for page in (a, b):
        record_connection_texts(page)
    # Reconnect clicked in both windows, well within 100 ms of each other
    click = f"""() => {{
        document.querySelector('[data-fw-panel="{KEY}"] [data-fw="reconnect"]').click();
        return Date.now();
    }}"""
    clicked = [a.evaluate(click), b.evaluate(click)]
    assert abs(clicked[1] - clicked[0]) < 100, clicked
    for page in (a, b):
        root = page.locator(f'[data-fw-panel="{KEY}"]')
        expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
        expect(root.locator('[data-fw="prompt"]')).to_have_value("a blue square on the left")
        expect(root).to_have_count(1)
    a.wait_for_timeout(2500)  # past the winner's hold on its claim
    logs = [page.console_messages for page in (a, b)]  # type: ignore[attr-defined]
    rebuilt = [n for n, log in enumerate(logs) if any("reconnected together: ok" in m for m in log)]
    assert len(rebuilt) == 1, logs  # exactly one window ran the rehydration
    other = (a, b)[1 - rebuilt[0]]
    # the other one waited for it, and said so (its click was taken as "already reconnecting")
    shown = other.evaluate("() => window.__fwConnectionTexts")
    assert "Reconnecting from another window…" in shown, shown
    for n, page in enumerate((a, b)):
        run_cell(page, 2 + n, wait=False)
        expect_output(page, 2 + n, f"plain {n}", timeout=10_000)


def crash_and_wait(a: Page, b: Page) -> None:
    """Crash the kernel from page `a`; return when both pages offer Reconnect on an idle kernel."""
    run_cell(a, 1, wait=False)
    for page in (a, b):
        expect(page.locator(f'[data-fw-panel="{KEY}"] [data-fw="reconnect"]')).to_be_visible(timeout=30_000)
    a.wait_for_timeout(1500)
    for page in (a, b):
        dismiss_dialogs(page)
        wait_kernel_idle(page)


def record_connection_texts(page: Page) -> None:
    """From now on, keep every text the panel's connection bar shows in `window.__fwConnectionTexts`."""
    page.evaluate(
        """() => {
            window.__fwConnectionTexts = [];
            const seen = () => {
                for (const el of document.querySelectorAll('[data-fw="connection-text"]')) {
                    const text = el.textContent || '';
                    const texts = window.__fwConnectionTexts;
                    if (text && texts.at(-1) !== text) texts.push(text);
                }
            };
            const what = {subtree: true, childList: true, characterData: true};
            new MutationObserver(seen).observe(document.body, what);
            seen();
        }"""
    )


def clear_output(page: Page, index: int) -> None:
    page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.clear()", index
    )
