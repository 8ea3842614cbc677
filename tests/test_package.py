"""The installed package: a light import, the shipped bundles and the enabled lab extension."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from fooocus_widgets import FooocusPanel, MemoryStore

from .conftest import ROOT


def test_import_is_light_and_round_trips_a_state() -> None:
    code = (
        "import sys, fooocus_widgets as fw; s = fw.PanelState();"
        "assert fw.PanelState.from_json(s.to_json()) == s;"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'ipywidgets') if m in sys.modules];"
        "print(','.join(heavy) or 'light')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "light"


def test_lab_extension_is_enabled_in_the_environment() -> None:
    jupyter = Path(sys.executable).with_name("jupyter")
    out = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True, check=True)
    text = out.stdout + out.stderr
    line = next((ln for ln in text.splitlines() if "fooocus-widgets" in ln), "")
    assert "enabled" in line
    assert "OK" in line


def test_widget_loads_its_bundles() -> None:
    panel = FooocusPanel(store=MemoryStore())
    esm = panel._esm if isinstance(panel._esm, str) else str(panel._esm)
    assert "render" in esm
    assert len(esm) > 1000


@pytest.mark.slow
def test_wheel_ships_the_bundles_and_the_lab_extension(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=900,
    )
    (wheel,) = tmp_path.glob("fooocus_widgets-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(
        n.split("/")[0]
        for n in names
        if n.endswith(".data/data/share/jupyter/labextensions/fooocus-widgets/package.json")
    )
    ext = f"{data}/data/share/jupyter/labextensions/fooocus-widgets"
    assert "fooocus_widgets/static/panel.js" in names
    assert "fooocus_widgets/static/panel.css" in names
    assert "fooocus_widgets/py.typed" in names
    for weights in ("vae", "text_encoder", "text_encoder_2", "unet_a", "unet_b", "demo-style", "demo-detail"):
        assert f"fooocus_widgets/demo/weights/{weights}.safetensors" in names
    assert f"{ext}/install.json" in names
    assert any(n.startswith(f"{ext}/static/remoteEntry.") for n in names)
    package = json.loads(zipfile.ZipFile(wheel).read(f"{ext}/package.json"))
    assert package["name"] == "fooocus-widgets"
