"""Notebook metadata is untrusted: it travels with the .ipynb. Records under
`metadata.fooocus_widgets.panels.<key>` holding HTML and script, wrong types, 50 MB, or a newer
schema must never put an element on the page, run a script or run code in the kernel; what cannot
be used is refused with a message in the panel, and what a newer version wrote is kept."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import (
    LabServer,
    cell_output_text,
    open_notebook,
    restart_from_kernel_menu,
    run_cell,
    wait_kernel_idle,
    wait_output,
)

# every payload counts its runs in one page global and, in the kernel, leaves a file behind
PWN = "window.__fwPwned = (window.__fwPwned || 0) + 1"
HTML = (
    f'<img src=x onerror="{PWN}" data-fw-evil="img">'
    f'<script data-fw-evil="script">{PWN}</script>'
    f'<svg onload="{PWN}" data-fw-evil="svg"></svg><b data-fw-evil="b">bold</b>'
)
PY = (
    "\"'); import pathlib; pathlib.Path('PWNED').touch(); ('\"\"\" {__import__('os').system('touch PWNED')}\\"
)
TEXT = HTML + PY  # one line: names (styles, models, LoRA files) must not hold line breaks
SCRIPT_URL = f"data:text/html,<script>{PWN}</script>"
HOSTILE_KEY = f'<img src=x onerror="{PWN}" data-fw-evil="key">'


def record(state: dict[str, Any], revision: int = 5, **extra: Any) -> dict[str, Any]:
    """A record as the extension writes it (see `SavedRecord` in js/src/common/record.ts)."""
    return {
        "schema_version": 1,
        "revision": revision,
        "updated_at": "2026-01-01T00:00:00.000Z",
        "state": {"schema_version": 1, **state},
        "results": [],
        **extra,
    }


def panel_cell(key: str) -> str:
    return f"import fooocus_widgets as fw\npanel = fw.FooocusPanel(key={key!r})\npanel"


def state_cell(*keys: str) -> str:
    """A cell that prints `OUT=` and, on one line, the kernel's state of each panel `key` (with
    its `extras`), as JSON."""
    return (
        "import json\n"
        "print('OUT=' + json.dumps({k: {**fw.get_panel(k).state.to_dict(), 'extras': "
        f"dict(fw.get_panel(k).state.extras)}} for k in {list(keys)!r}}}))"
    )


def wait_saved(page: Page, key: str, field: str, value: Any) -> None:
    """Wait until the record of `key` in the notebook's metadata holds `value` in `state.field`."""
    page.wait_for_function(
        """([key, field, value]) => {
            const meta = window.jupyterapp.shell.currentWidget.model.getMetadata('fooocus_widgets');
            return meta?.panels?.[key]?.state?.[field] === value;
        }""",
        arg=[key, field, value],
    )


def kernel_json(page: Page, cell: int) -> Any:
    """Run cell `cell`, which prints `OUT=` and JSON on one line, and return the JSON."""
    run_cell(page, cell)
    wait_output(page, cell, "OUT=")
    text = cell_output_text(page, cell)
    assert "Error" not in text, text  # a traceback quotes the source, "OUT=" included
    return json.loads(text.split("OUT=", 1)[1].strip().splitlines()[0])


def saved_metadata(page: Page) -> Any:
    """The notebook's `fooocus_widgets` metadata as the page holds it now."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.model.getMetadata('fooocus_widgets')")


def assert_nothing_ran(page: Page, lab: LabServer) -> None:
    """No element from the metadata's HTML is on the page, no payload ran there, none in the kernel.

    A control image with a failing source, added now, proves that the page has handled its
    images' error events since the panel rendered before `__fwPwned` is read."""
    page.evaluate(
        """() => {
            const img = document.createElement('img');
            img.onerror = () => { window.__fwControl = true; img.remove(); };
            img.src = 'x-control-' + Math.random();
            document.body.append(img);
        }"""
    )
    page.wait_for_function("() => window.__fwControl === true")
    assert page.evaluate("() => window.__fwPwned") is None
    assert page.locator("[data-fw-evil]").count() == 0
    assert not (lab.root / "PWNED").exists()


def restart_and_reconnect(page: Page, root: Locator) -> None:
    """Restart the kernel from the menu, then click the panel's Reconnect once the kernel is idle."""
    restart_from_kernel_menu(page)
    expect(root.locator('[data-fw="reconnect"]')).to_be_visible(timeout=20_000)
    wait_kernel_idle(page)
    root.locator('[data-fw="reconnect"]').click()


def test_html_and_script_in_every_text_field_stay_data(page: Page, lab: LabServer) -> None:
    state = {
        "prompt": TEXT,
        "negative_prompt": TEXT,
        "styles": [TEXT, "Cinematic"],
        "base_model": TEXT,
        "loras": [{"enabled": True, "file": TEXT, "weight": 0.5}],
    }
    hostile = record(
        state,
        results=[{"hash": TEXT, "seed": TEXT, "mini": SCRIPT_URL}],
        pending={"seeds": [TEXT], "done": 0, "images": 1},
    )
    metadata = {"fooocus_widgets": {"panels": {HOSTILE_KEY: hostile, f"<script>{PWN}</script>": hostile}}}
    lab.write_notebook(
        "hostile-text.ipynb",
        [panel_cell(HOSTILE_KEY), state_cell(HOSTILE_KEY)],
        metadata,
    )
    open_notebook(page, lab, "hostile-text.ipynb")
    run_cell(page, 0)
    root = page.locator("[data-fw-panel]")
    expect(root).to_have_attribute("data-fw-host", "jupyterlab")
    assert root.get_attribute("data-fw-panel") == HOSTILE_KEY
    # the saved copy was newer than the kernel's: the handshake gave it the text, as text
    expect(root.locator('[data-fw="prompt"]')).to_have_value(TEXT)
    expect(root.locator('[data-fw="negative-prompt"]')).to_have_value(TEXT)
    kernel = kernel_json(page, 1)[HOSTILE_KEY]
    assert kernel["prompt"] == TEXT
    assert kernel["negative_prompt"] == TEXT
    assert kernel["base_model"] == TEXT
    assert kernel["loras"][0]["file"] == TEXT
    assert_nothing_ran(page, lab)

    # a restart, then Reconnect: the same text reaches the new kernel as data
    root.locator('[data-fw="negative-prompt"]').fill("edited")
    wait_saved(page, HOSTILE_KEY, "negative_prompt", "edited")
    restart_and_reconnect(page, root)
    root = page.locator("[data-fw-panel]")
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    expect(root.locator('[data-fw="prompt"]')).to_have_value(TEXT)
    kernel = kernel_json(page, 1)[HOSTILE_KEY]
    assert kernel["prompt"] == TEXT
    assert kernel["negative_prompt"] == "edited"
    assert_nothing_ran(page, lab)
    # the other panel's record (an HTML key) is kept as it was
    assert saved_metadata(page)["panels"][f"<script>{PWN}</script>"] == hostile


BROKEN = {
    # the record itself
    "b-not-object": ["a", "list"],
    "b-revision": record({"prompt": "no"}, revision="7"),  # type: ignore[arg-type]
    "b-revision-huge": record({"prompt": "no"}, revision=2**60),  # beyond what a JS number holds exactly
    "b-state-list": {**record({}), "state": ["prompt", "no"]},
    "b-state-missing": {k: v for k, v in record({}).items() if k != "state"},
    "b-results": record({"prompt": "no"}, results={"0": {"hash": "a", "seed": "1"}}),
    "b-result-entry": record({"prompt": "no"}, results=[{"hash": 5, "seed": {}}]),
    "b-pending": record({"prompt": "no"}, pending=["seeds"]),
    "b-version": {**record({"prompt": "no"}), "schema_version": {"major": 1}},
    "b-updated": {**record({"prompt": "no"}), "updated_at": {"$date": 1}},
}
BAD_FIELDS = {
    "prompt": {"$gt": ""},
    "image_number": {"$numberInt": "3"},
    "guidance_scale": [6.5],
    "seed": [42],  # a list, not the seed as text: never taken for "42"
    "random_seed": "no",
    "styles": {"Cinematic": True},
    "loras": "demo-detail.safetensors",
    "aspect_ratio": 1152,
    "performance": None,
    "input_image": [],
    "last_results": "abc",
    "negative_prompt": "kept",  # the one good field
}


def test_wrong_types_are_refused_with_a_message(page: Page, lab: LabServer) -> None:
    keys = [*BROKEN, "b-fields"]
    panels: dict[str, Any] = {**BROKEN, "b-fields": record(BAD_FIELDS)}
    lab.write_notebook(
        "hostile-types.ipynb",
        [
            *(panel_cell(k) for k in keys),
            state_cell(*keys),
        ],
        {"fooocus_widgets": {"panels": panels}},
    )
    open_notebook(page, lab, "hostile-types.ipynb")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    for key in BROKEN:
        root = page.locator(f'[data-fw-panel="{key}"]')
        expect(root).to_have_attribute("data-fw-host", "jupyterlab")
        expect(root.locator('[data-fw="error"]')).to_contain_text("not used")
    fields = page.locator('[data-fw-panel="b-fields"]')
    expect(fields.locator('[data-fw="error"]')).to_contain_text("not restored")
    kernel = kernel_json(page, len(keys))
    for key in BROKEN:
        assert kernel[key]["prompt"] == "", key  # nothing of a refused record was used
    good = kernel["b-fields"]
    assert good["negative_prompt"] == "kept"
    assert good["prompt"] == ""
    assert good["image_number"] == 2
    assert good["guidance_scale"] == 4.0
    assert good["random_seed"] is True
    assert good["styles"] == ["Enhance", "Sharp"]
    assert good["aspect_ratio"] == "1152*896"
    assert good["performance"] == "Speed"
    assert good["seed"] != 42


def test_a_50_mb_record_is_refused_and_the_page_stays_responsive(page: Page, lab: LabServer) -> None:
    mini = "data:image/png;base64," + "A" * 100_000
    results = [{"hash": f"{i:064x}", "seed": str(i), "mini": mini} for i in range(500)]
    huge = record({"prompt": "from the huge record"}, results=results)
    path = lab.write_notebook(
        "hostile-huge.ipynb", [panel_cell("huge")], {"fooocus_widgets": {"panels": {"huge": huge}}}
    )
    assert path.stat().st_size > 50_000_000
    start = time.monotonic()
    open_notebook(page, lab, "hostile-huge.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="huge"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible()
    expect(root.locator('[data-fw="error"]')).to_contain_text("too large")
    opened = time.monotonic() - start
    # responsive: a frame is painted and typing reaches the page's copy promptly
    start = time.monotonic()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(true)))")
    root.locator('[data-fw="prompt"]').fill("small again")
    wait_saved(page, "huge", "prompt", "small again")
    edited = time.monotonic() - start
    saved = saved_metadata(page)
    assert len(json.dumps(saved["panels"]["huge"])) < 256 * 1024
    assert edited < 5, f"an edit took {edited:.1f} s to reach the notebook (opened in {opened:.1f} s)"
    print(f"50 MB record: opened and rendered in {opened:.1f} s, an edit saved in {edited:.2f} s")
    # the refused entry was replaced: saved, the notebook is small again
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")  # resolves once written
    assert path.stat().st_size < 1_000_000
    on_disk = json.loads(path.read_text())["metadata"]["fooocus_widgets"]["panels"]["huge"]
    assert on_disk["state"]["prompt"] == "small again"


def test_a_newer_schema_record_keeps_what_it_does_not_know(page: Page, lab: LabServer) -> None:
    future = record(
        {"schema_version": 99, "prompt": "from a newer version", "future_knob": {"nested": [1, "two"]}},
        revision=4,
        future_section={"kept": True},
    )
    future["schema_version"] = 99
    lab.write_notebook(
        "hostile-future.ipynb",
        [panel_cell("future"), state_cell("future")],
        {"fooocus_widgets": {"panels": {"future": future}, "future_index": ["a", "b"]}},
    )
    open_notebook(page, lab, "hostile-future.ipynb")
    run_cell(page, 0)
    root = page.locator('[data-fw-panel="future"]')
    expect(root.locator('[data-fw="prompt"]')).to_have_value("from a newer version")
    expect(root.locator('[data-fw="error"]')).to_be_hidden()

    root.locator('[data-fw="negative-prompt"]').fill("edited here")
    wait_saved(page, "future", "negative_prompt", "edited here")
    saved = saved_metadata(page)
    kept = saved["panels"]["future"]
    assert kept["state"]["future_knob"] == {"nested": [1, "two"]}
    assert kept["future_section"] == {"kept": True}
    assert saved["future_index"] == ["a", "b"]

    # Reconnect hands the new kernel what it does not know too: PanelState keeps it in `extras`
    restart_and_reconnect(page, root)
    root = page.locator('[data-fw-panel="future"]')
    expect(root.locator('[data-fw="generate"]')).to_be_visible(timeout=20_000)
    kernel = kernel_json(page, 1)["future"]
    assert kernel["prompt"] == "from a newer version"
    assert kernel["negative_prompt"] == "edited here"
    assert kernel["extras"] == {"future_knob": {"nested": [1, "two"]}}
    assert saved_metadata(page)["panels"]["future"]["state"]["future_knob"] == {"nested": [1, "two"]}
