"""notebooks/quickstart.ipynb runs top to bottom under nbclient, on the demo models."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from fooocus_widgets.engine.demo import write_demo_models

from .conftest import ROOT


def _run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, Path]:  # type: ignore[type-arg]
    models = tmp_path / "models"
    write_demo_models(models)
    monkeypatch.setenv("FOOOCUS_WIDGETS_MODELS", str(models))
    monkeypatch.setenv("FOOOCUS_WIDGETS_OUTPUTS", str(tmp_path / "outputs"))
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    work = tmp_path / "nb"
    work.mkdir()
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "JPY_SESSION_NAME": str(work / name)}
    client.execute(env=env)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    return outputs, work


@pytest.mark.slow
def test_long_session_notebook_runs_and_releases_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs, _ = _run("long_session.ipynb", tmp_path, monkeypatch)
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert html.count("fooocus-widgets memory") == 2  # %fw_release and release_vram(keep_models=True)
    assert "Released: demo-sdxl-b.safetensors" in html  # the model loaded last was unloaded
    assert len(list((tmp_path / "outputs").rglob("*.png"))) == 8


@pytest.mark.slow
def test_quickstart_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs, work = _run("quickstart.ipynb", tmp_path, monkeypatch)
    widget = next(o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
    assert widget["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    texts = "".join(o.get("text", "") for o in outputs) + "".join(
        o.get("data", {}).get("text/plain", "") for o in outputs
    )
    assert "demo-sdxl-a.safetensors" in texts  # the panel picked the first demo model
    assert "[42, 43]" in texts
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the first image is shown
    assert len(list((tmp_path / "outputs").rglob("*.png"))) == 2
    assert "Released: demo-sdxl-a.safetensors" in "".join(
        o.get("data", {}).get("text/html", "") for o in outputs
    )
    # the panel's state was saved beside the notebook (the kernel was told its path, as Jupyter does)
    saved = work / ".fooocus_widgets" / "state" / "quickstart.ipynb" / "quickstart.json"
    assert '"base_model": "demo-sdxl-a.safetensors"' in saved.read_text()
    # the first run fills in a prompt the demo models know
    assert '"prompt": "a red circle on the left on a white background"' in saved.read_text()
