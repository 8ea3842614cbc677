"""The quickstart in a real JupyterLab: type a prompt, Generate, watch progress and the gallery."""

from __future__ import annotations

import shutil

from playwright.sync_api import Page, expect

from ..conftest import ROOT
from .conftest import ARTIFACTS, LabServer, open_notebook, run_cell


def test_quickstart_generate_fills_the_gallery(page: Page, lab: LabServer) -> None:
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", lab.root / "quickstart.ipynb")
    before = set((lab.root / "outputs").rglob("*.png"))  # other tests share this server's outputs
    open_notebook(page, lab, "quickstart.ipynb")
    run_cell(page, 1)
    root = page.locator('[data-fw-panel="quickstart"]')
    expect(root).to_be_visible()
    expect(root.locator('[data-fw="base-model"]')).to_have_value("demo-sdxl-a.safetensors")

    root.locator('[data-fw="prompt"]').fill("a lighthouse at dusk, stormy sea")
    root.locator('[data-fw="performance"]').select_option("Lightning")  # 4 steps: quick on 2 CPU cores
    root.locator('[data-fw="image-number"]').fill("2")
    root.locator('[data-fw="image-number"]').press("Tab")
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

    ARTIFACTS.mkdir(exist_ok=True)
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(ARTIFACTS / "panel-results.png"))

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
