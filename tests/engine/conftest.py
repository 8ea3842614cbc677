"""Engine fixtures: the demo models written once per session, and one engine that loads them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fooocus_widgets.engine.demo import write_demo_models
from fooocus_widgets.engine.models import ModelManager
from fooocus_widgets.engine.run import Engine
from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.state import PanelState
from fooocus_widgets.styles import load_styles

torch.set_num_threads(2)  # same seed -> same pixels needs a fixed thread count


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    write_demo_models(directory)
    return directory


@pytest.fixture(scope="session")
def folders(demo_dir: Path) -> ModelFolders:
    return ModelFolders(demo_dir)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(ModelManager(torch.device("cpu"), torch.float32))


@pytest.fixture
def small_state() -> PanelState:
    """A quick state: demo model A, 64x64, fixed seed, no styles."""
    return PanelState(
        prompt="a lighthouse at dusk",
        base_model="demo-sdxl-a.safetensors",
        aspect_ratio="64*64",
        image_number=1,
        random_seed=False,
        seed=1234,
        styles=(),
        sampler="Euler",
        scheduler="normal",
    )


@pytest.fixture(scope="session")
def styles(folders: ModelFolders):  # type: ignore[no-untyped-def]
    return load_styles([folders.styles])
