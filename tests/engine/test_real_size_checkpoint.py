"""A checkpoint of the full SDXL base architecture (as Fooocus users have them) loads offline.

No real weights can be downloaded here, so the file is written by the package itself with the
full architecture and zero weights; the loader sees exactly what a real SDXL single file looks
like: the original key layout, no configs inside, no tokenizer. It must load with
HF_HUB_OFFLINE=1 through the shipped SDXL configs and CLIP tokenizers.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
import torch

from fooocus_widgets.engine.checkpoints import inspect_checkpoint
from fooocus_widgets.engine.demo import write_sdxl_size_checkpoint
from fooocus_widgets.engine.models import ModelManager
from fooocus_widgets.params import ModelRef


@pytest.mark.slow
def test_full_size_sdxl_single_file_loads_offline(tmp_path: Path) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    path = tmp_path / "checkpoints" / "sdxl-base-size.safetensors"
    try:
        _check_loads(path)
    finally:
        path.unlink(missing_ok=True)  # 7 GB: do not leave it in pytest's kept temp folders


def _check_loads(path: Path) -> None:
    write_sdxl_size_checkpoint(path)
    gc.collect()
    assert path.stat().st_size > 6_500_000_000

    info = inspect_checkpoint(path)
    assert info.configs is None  # no embedded configs: the shipped SDXL base ones are used

    manager = ModelManager(torch.device("cpu"), torch.float16)
    pipe = manager.pipeline(ModelRef(path.name, path, "single_file"))
    unet_params = sum(p.numel() for p in pipe.unet.parameters())
    assert unet_params == 2_567_463_684  # the SDXL base UNet
    assert list(pipe.unet.config.block_out_channels) == [320, 640, 1280]
    assert pipe.text_encoder.config.hidden_size == 768
    assert pipe.text_encoder_2.config.hidden_size == 1280
    assert pipe.vae.config.scaling_factor == 0.13025
    assert pipe.unet.dtype == torch.float16
    assert pipe.tokenizer("a photo of an astronaut").input_ids == [49406, 320, 1125, 539, 550, 18376, 49407]
    # the weights really came from the file (zeros), not from a fresh random init
    assert not any(p.abs().sum() for p in pipe.vae.decoder.conv_out.parameters())
    manager.release()
