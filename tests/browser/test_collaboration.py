"""Real-time collaboration: two pages on one notebook (jupyter-collaboration), crashes, and
Reconnect from one page or from both at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import ARTIFACTS, LabServer, dismiss_dialogs, wait_kernel_idle

KEY = "together"


def _open(browser: Browser, lab: LabServer, name: str, pages: list[Page]) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.console_messages = console  # type: ignore[attr-defined]
    pages.append(page)
    page.goto(lab.lab_url(name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    wait_kernel_idle(page)
    return page


@pytest.fixture
def two_pages(
    browser: Browser, collaborative_lab: LabServer, request: pytest.FixtureRequest
) -> Iterator[tuple[LabServer, list[Page]]]:
    collaborative_lab.delete_sessions()
    pages: list[Page] = []
    yield collaborative_lab, pages
    rep = getattr(request.node, "rep_call", None)
    for n, page in enumerate(pages):
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{n}.png"))
            console = getattr(page, "console_messages", [])
            (ARTIFACTS / f"{request.node.name}-{n}.console.txt").write_text("\n".join(console))
        page.context.close()
    collaborative_lab.delete_sessions()


def run_cell_in(page: Page, index: int, *, wait: bool = True) -> None:
    """Run cell `index` as a user would; `wait`: until it has finished (else return at once, so a
    run that never finishes fails on the output check with a timeout, not here for ever)."""
    page.evaluate(
        """async ([i, wait]) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = i;
            const run = window.jupyterapp.commands.execute('notebook:run-cell');
            if (wait) await run;
        }""",
        [index, wait],
    )


def expect_output(page: Page, index: int, text: str, timeout: float) -> None:
    """Wait until cell `index` shows `text`; on timeout, fail with what the cell and the page's
    kernel connection hold (to tell a lost reply from a lost output)."""
    try:
        page.wait_for_function(
            """([i, text]) => {
                const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
                return cell.outputArea && cell.outputArea.node.innerText.includes(text);
            }""",
            arg=[index, text],
            timeout=timeout,
        )
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


CELLS = [
    f"import fooocus_widgets as fw\npanel = fw.FooocusPanel(key={KEY!r})\npanel",
    "import os; os._exit(1)",
    "print('plain', 0)",  # run in page A after each round
    "print('plain', 1)",  # run in page B
]


def test_crash_rounds_with_reconnect_in_one_page_never_hang_either(
    two_pages: tuple[LabServer, list[Page]], browser: Browser
) -> None:
    lab, pages = two_pages
    lab.write_notebook("together.ipynb", CELLS)
    a = _open(browser, lab, "together.ipynb", pages)
    run_cell_in(a, 0)
    expect(a.locator(f'[data-fw-panel="{KEY}"] [data-fw="generate"]')).to_be_visible()
    b = _open(browser, lab, "together.ipynb", pages)
    expect(b.locator(f'[data-fw-panel="{KEY}"] [data-fw="generate"]')).to_be_visible()

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
            run_cell_in(page, 2 + n, wait=False)
            expect_output(page, 2 + n, f"plain {n}", timeout=10_000)
            clear_output(page, 2 + n)


def test_reconnect_clicked_in_both_pages_at_once_rebuilds_the_panel_once(
    two_pages: tuple[LabServer, list[Page]], browser: Browser
) -> None:
    lab, pages = two_pages
    lab.write_notebook("both.ipynb", CELLS)
    a = _open(browser, lab, "both.ipynb", pages)
    run_cell_in(a, 0)
    expect(a.locator(f'[data-fw-panel="{KEY}"] [data-fw="generate"]')).to_be_visible()
    b = _open(browser, lab, "both.ipynb", pages)
    expect(b.locator(f'[data-fw-panel="{KEY}"] [data-fw="generate"]')).to_be_visible()
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
        run_cell_in(page, 2 + n, wait=False)
        expect_output(page, 2 + n, f"plain {n}", timeout=10_000)


def crash_and_wait(a: Page, b: Page) -> None:
    """Crash the kernel from page `a`; return when both pages offer Reconnect on an idle kernel."""
    run_cell_in(a, 1, wait=False)
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
