"""The quickstart in a real JupyterLab: its prompt, Generate, progress, the gallery, and a picture
that shows what the prompt asks for (the screenshot in the README)."""

from __future__ import annotations

import shutil

from PIL import Image
from playwright.sync_api import Page, expect

from fooocus_widgets.demo.measure import dominant_colour, shape_and_position

from ..conftest import ROOT
from .conftest import ARTIFACTS, LabServer, open_notebook, run_cell

QUICKSTART_PROMPT = "a red circle on the left on a white background"


def test_quickstart_generate_fills_the_gallery(page: Page, lab: LabServer) -> None:
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", lab.root / "quickstart.ipynb")
    before = set((lab.root / "outputs").rglob("*.png"))  # other tests share this server's outputs
    open_notebook(page, lab, "quickstart.ipynb")
    run_cell(page, 1)
    root = page.locator('[data-fw-panel="quickstart"]')
    expect(root).to_be_visible()
    expect(root.locator('[data-fw="base-model"]')).to_have_value("demo-sdxl-a.safetensors")
    # the first run fills in a prompt the demo models know; everything else is the panel's defaults
    expect(root.locator('[data-fw="prompt"]')).to_have_value(QUICKSTART_PROMPT)
    expect(root.locator('[data-fw="image-number"]')).to_have_value("2")
    root.locator('[data-fw="generate"]').click()

    # while it runs: Stop and Skip replace Generate, the progress bar moves
    expect(root.locator('[data-fw="stop"]')).to_be_visible(timeout=10_000)
    expect(root.locator('[data-fw="generate"]')).to_be_hidden()
    progress = root.locator('[data-fw="progress"]')
    expect(progress).to_be_visible()

    expect(root.locator('[data-fw="gallery"] .fw-thumb')).to_have_count(2, timeout=180_000)
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(progress).to_have_attribute("data-phase", "done")
    expect(progress).to_contain_text("Done: 2 of 2")
    expect(root.locator('[data-fw="generate"]')).to_be_visible()
    expect(root.locator('[data-fw="error"]')).to_be_hidden()
    made = set((lab.root / "outputs").rglob("*.png")) - before
    assert len(made) == 2, sorted(made)
    # what the prompt asks for: the shape is red (both pictures), and on the left
    pictures = [Image.open(path) for path in sorted(made)]
    judged = [(dominant_colour(picture), shape_and_position(picture)) for picture in pictures]
    assert all(colour == "red" for colour, _ in judged), judged
    assert any(position == "left" for _, (_, position) in judged), judged

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1600})  # the whole panel below Lab's toolbar
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(ARTIFACTS / "panel.png"))  # docs/panel.png, the README's first picture

    # click to enlarge: the full-size image comes from the kernel; its seed is reusable in one click
    second = root.locator('[data-fw="result-1"]')
    seed = second.get_attribute("title").removeprefix("Seed ")  # type: ignore[union-attr]
    second.click()
    lightbox = root.locator('[data-fw="lightbox"]')
    expect(lightbox).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-fw=\"lightbox\"] img').src.startsWith('blob:')", timeout=30_000
    )
    natural = page.evaluate("() => document.querySelector('[data-fw=\"lightbox\"] img').naturalWidth")
    assert natural == 1152
    lightbox.locator('[data-fw="use-seed"]').click()
    expect(lightbox).to_have_count(0)
    expect(root.locator('[data-fw="seed"]')).to_have_value(seed)
    expect(root.locator('[data-fw="random-seed"]')).not_to_be_checked()
