"""Two views of one panel share everything (edits, one heartbeat, one saved copy), and limits
changed in Python reach the page's inputs through the `schema` trait."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from .conftest import (
    LabServer,
    cell_output_text,
    count_sent_panel_messages,
    open_notebook,
    printed_json,
    run_cell,
    wait_output,
)


def test_two_views_of_one_panel_share_edits_and_one_session(page: Page, lab: LabServer) -> None:
    lab.write_notebook(
        "views.ipynb",
        [
            "import fooocus_widgets as fw\npanel = fw.FooocusPanel(key='two')\npanel",
            "panel",
            "print('STATE=' + panel.state.to_json())",
            "print('REVISION=' + str(panel.revision))",
        ],
    )
    pings = count_sent_panel_messages(page, "ping")
    open_notebook(page, lab, "views.ipynb")
    run_cell(page, 0)
    run_cell(page, 1)
    views = page.locator('[data-fw-panel="two"]')
    expect(views).to_have_count(2)
    first, second = views.nth(0), views.nth(1)
    for view in (first, second):
        expect(view).to_have_attribute("data-fw-host", "jupyterlab")
        expect(view).to_have_attribute("data-fw-handshake", "in-step")

    # one session per model: both views carry its id, and the page pings once per beat
    session = first.get_attribute("data-fw-session")
    assert session
    expect(second).to_have_attribute("data-fw-session", session)
    start = len(pings)
    page.wait_for_timeout(6_500)  # a heartbeat every 2 s: 3 beats (twice as many with two sessions)
    assert 2 <= len(pings) - start <= 4, f"{len(pings) - start} pings in 6.5 s"

    # view 1 -> view 2
    first.locator('[data-fw="prompt"]').fill("a lighthouse at dusk")
    first.locator('[data-fw="lora-2-weight"]').fill("-0.45")
    first.locator('[data-fw="lora-2-weight"]').press("Tab")
    expect(second.locator('[data-fw="prompt"]')).to_have_value("a lighthouse at dusk")
    expect(second.locator('[data-fw="lora-2-weight"]')).to_have_value("-0.45")

    # view 2 -> view 1 and the kernel
    second.locator('[data-fw="negative-prompt"]').fill("blurry")
    second.locator('[data-fw="performance"]').select_option("Quality")
    expect(first.locator('[data-fw="negative-prompt"]')).to_have_value("blurry")
    expect(first.locator('[data-fw="performance"]')).to_have_value("Quality")
    page.wait_for_timeout(600)  # past the text and mirror debounces

    state = printed_json(page, 2)
    assert state["prompt"] == "a lighthouse at dusk"
    assert state["loras"][2]["weight"] == -0.45
    assert state["negative_prompt"] == "blurry"
    assert state["performance"] == "Quality"

    # one copy in browser storage, at the kernel's revision (one mirror, one revision sequence)
    run_cell(page, 3)
    wait_output(page, 3, "REVISION=")
    kernel_revision = int(cell_output_text(page, 3).split("REVISION=", 1)[1].split()[0])
    stored = page.evaluate(
        """() => Object.keys(localStorage)
            .filter(k => k.startsWith('fooocus-widgets:') && k.endsWith(':two'))
            .map(k => [k, JSON.parse(localStorage.getItem(k))])"""
    )
    assert len(stored) == 1, [k for k, _ in stored]
    key, record = stored[0]
    assert key == "fooocus-widgets:views.ipynb:two"
    assert record["revision"] == kernel_revision
    assert record["state"]["negative_prompt"] == "blurry"


def test_a_limit_changed_in_python_reaches_the_page_and_the_checks(page: Page, lab: LabServer) -> None:
    lab.write_notebook(
        "limit.ipynb",
        [
            "import dataclasses, types\n"
            "import fooocus_widgets as fw\n"
            "from fooocus_widgets.state import PanelState\n"
            "f = PanelState.__dataclass_fields__['image_number']\n"
            "f.metadata = types.MappingProxyType(\n"
            "    {'check': dataclasses.replace(f.metadata['check'], max=7)})\n"
            "panel = fw.FooocusPanel(key='lim')\n"
            "panel",
            "import json\n"
            "try:\n"
            "    panel.image_number = 8\n"
            "except Exception as exc:\n"
            "    print('REFUSED ' + type(exc).__name__ + ': ' + str(exc))\n"
            "else:\n"
            "    print('ACCEPTED')\n"
            "print('NUMBER=' + json.dumps(panel.image_number))",
        ],
    )
    open_notebook(page, lab, "limit.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="lim"]')
    count = root.locator('[data-fw="image-number"]')
    expect(count).to_have_attribute("max", "7")
    expect(count).to_have_attribute("min", "1")
    expect(count).to_have_attribute("step", "1")

    # the page refuses a number past the new limit and says so; a number within it is taken
    count.fill("20")
    count.press("Tab")
    expect(count).to_have_value("2")
    expect(root.locator('[data-fw="error"]')).to_contain_text("allowed: whole numbers from 1 to 7")
    count.fill("7")
    count.press("Tab")
    expect(count).to_have_value("7")
    page.wait_for_timeout(300)

    output = json.dumps(printed_json(page, 1, "NUMBER="))
    text = cell_output_text(page, 1)
    assert "REFUSED" in text, text
    assert "image_number" in text, text
    assert "to 7" in text, text
    assert output == "7"
