"""One click for all: after a kernel restart, one Reconnect click brings back every panel of the
notebook, each in its own cell with what the user had set."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import (
    LabServer,
    dismiss_dialogs,
    open_notebook,
    printed_json,
    restart_from_kernel_menu,
    run_cell,
    wait_kernel_idle,
)

PROMPTS = {"first": "a red fox in deep snow", "second": 'a "quiet" harbour at dawn'}


def test_one_click_reconnects_every_panel_of_the_notebook(page: Page, lab: LabServer) -> None:
    lab.write_notebook(
        "reconnect_all.ipynb",
        [
            "import fooocus_widgets as fw\nfirst = fw.FooocusPanel(key='first')\nfirst",
            "import fooocus_widgets as fw\nsecond = fw.FooocusPanel(key='second')\nsecond",
            "import json\n"
            "print('STATE=' + json.dumps({k: fw.get_panel(k).state.prompt for k in ('first', 'second')}))",
        ],
    )
    open_notebook(page, lab, "reconnect_all.ipynb")
    run_cell(page, 0)
    run_cell(page, 1)
    roots = {key: page.locator(f'[data-fw-panel="{key}"]') for key in PROMPTS}
    for key, prompt in PROMPTS.items():
        expect(roots[key].locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
        roots[key].locator('[data-fw="prompt"]').fill(prompt)
    page.wait_for_timeout(600)  # past the debounces

    restart_from_kernel_menu(page)
    for root in roots.values():
        expect(root.locator('[data-fw="reconnect"]')).to_be_visible(timeout=20_000)
        expect(root.locator('[data-fw="generate"]')).to_be_hidden()
        expect(root.locator('[data-fw="connection"]')).to_have_attribute("data-state", "lost")
    wait_kernel_idle(page)

    roots["first"].locator('[data-fw="reconnect"]').click()  # one click, on the first panel only

    for key, prompt in PROMPTS.items():
        root = page.locator(f'[data-fw-panel="{key}"]')
        expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=30_000)
        expect(root.locator('[data-fw="reconnect"]')).to_be_hidden()
        expect(root.locator('[data-fw="prompt"]')).to_have_value(prompt)
    expect(page.locator(".jupyter-widgets-disconnected [data-fw-panel]")).to_have_count(0)
    expect(page.locator("[data-fw-panel]")).to_have_count(2)
    wait_kernel_idle(page)
    assert printed_json(page, 2) == PROMPTS


def test_reconnect_automatically_after_a_crash_brings_back_every_panel(page: Page, lab: LabServer) -> None:
    lab.write_notebook(
        "reconnect_all_auto.ipynb",
        [
            "import fooocus_widgets as fw\nfirst = fw.FooocusPanel(key='auto-first')\nfirst",
            "import fooocus_widgets as fw\nsecond = fw.FooocusPanel(key='auto-second')\nsecond",
            "import os; os._exit(1)",
        ],
    )
    open_notebook(page, lab, "reconnect_all_auto.ipynb")
    # "Reconnect automatically" on for the first panel only (a panel reads it when it starts)
    page.evaluate("() => localStorage.setItem('fooocus-widgets:auto-reconnect', 'true')")
    run_cell(page, 0)
    expect(page.locator('[data-fw-panel="auto-first"] [data-fw="generate"]')).to_be_visible(timeout=20_000)
    page.evaluate("() => localStorage.setItem('fooocus-widgets:auto-reconnect', 'false')")
    run_cell(page, 1)
    keys = {"auto-first": "first, by itself", "auto-second": "second, by itself"}
    for key, prompt in keys.items():
        root = page.locator(f'[data-fw-panel="{key}"]')
        expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
        root.locator('[data-fw="prompt"]').fill(prompt)
    page.wait_for_timeout(600)
    sessions = {
        key: page.locator(f'[data-fw-panel="{key}"]').get_attribute("data-fw-session") for key in keys
    }
    run_cell(page, 2)  # the kernel dies and comes back: the first panel reconnects, and the second with it

    for key, prompt in keys.items():
        root = page.locator(f'[data-fw-panel="{key}"]')
        expect(root).not_to_have_attribute("data-fw-session", sessions[key] or "", timeout=30_000)
        expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=30_000)
        expect(root.locator('[data-fw="prompt"]')).to_have_value(prompt)
    dismiss_dialogs(page)
    expect(page.locator(".jupyter-widgets-disconnected [data-fw-panel]")).to_have_count(0)
    # the first panel asked; one run took both, each rebuilt once
    page.wait_for_timeout(1000)
    rebuilt = page.evaluate(
        "() => performance.getEntriesByName('fooocus-widgets:reconnect', 'measure').map(m => m.detail.key)"
    )
    assert sorted(rebuilt) == sorted(keys)
