"""Reading model files without loading them: kinds, damage, pickles (never unpickled)."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from fooocus_widgets.engine.checkpoints import (
    ModelFileError,
    inspect_checkpoint,
    inspect_lora,
    read_safetensors_header,
)


class _Boom:
    """Unpickling this creates a marker file: proof that a pickle was (or was not) opened."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(self.marker),))


def test_demo_checkpoint_is_sdxl_with_embedded_configs(demo_dir: Path) -> None:
    info = inspect_checkpoint(demo_dir / "checkpoints" / "demo-sdxl-a.safetensors")
    assert info.kind == "sdxl"
    assert info.configs is not None
    assert info.configs["unet"]["block_out_channels"] == [16, 32, 64]


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".bin", ".pth"])
def test_pickles_are_refused_without_being_unpickled(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(_Boom(str(marker))))
    with pytest.raises(ModelFileError, match=r"pickle.*never opened"):
        inspect_checkpoint(path)
    assert not marker.exists()


def _sdxl_like(path: Path, extra: dict[str, torch.Tensor] | None = None) -> None:
    tensors = {
        "model.diffusion_model.input_blocks.0.0.weight": torch.zeros(320, 4, 3, 3),
        "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight": torch.zeros(4, 4),
        "conditioner.embedders.1.model.token_embedding.weight": torch.zeros(4, 4),
        **(extra or {}),
    }
    save_file(tensors, str(path))


def test_truncated_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.safetensors"
    _sdxl_like(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(ModelFileError, match="truncated"):
        inspect_checkpoint(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00" * 4, struct.pack("<Q", 10**12) + b"{}", struct.pack("<Q", 5) + b"{nope", b"PK\x03\x04zip"],
    ids=["empty", "short", "huge-header", "bad-json", "zip"],
)
def test_corrupt_files_are_reported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=r"bad\.safetensors"):
        read_safetensors_header(path)


def test_sdxl_base_layout_is_recognised_by_shape(tmp_path: Path) -> None:
    path = tmp_path / "base.safetensors"
    _sdxl_like(path)
    info = inspect_checkpoint(path)
    assert (info.kind, info.configs) == ("sdxl", None)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"model.diffusion_model.x": 1, "cond_stage_model.transformer.text_model.x": 1}, "SD 1.x"),
        ({"model.diffusion_model.x": 1, "cond_stage_model.model.transformer.x": 1}, "SD 2.x"),
        ({"model.diffusion_model.x": 1, "conditioner.embedders.0.model.x": 1}, "refiner"),
        ({"lora_unet_down_blocks_0.lora_down.weight": 1}, "LoRA, not a base model"),
        ({"something.else": 1}, "not a Stable Diffusion checkpoint"),
    ],
)
def test_other_model_kinds_are_named(tmp_path: Path, keys: dict[str, int], message: str) -> None:
    path = tmp_path / "other.safetensors"
    save_file({k: torch.zeros(1) for k in keys}, str(path))
    with pytest.raises(ModelFileError, match=message):
        inspect_checkpoint(path)


def test_sdxl_like_file_with_other_sizes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.safetensors"
    save_file(
        {
            "model.diffusion_model.input_blocks.0.0.weight": torch.zeros(64, 4, 3, 3),
            "conditioner.embedders.0.transformer.text_model.x": torch.zeros(1),
            "conditioner.embedders.1.model.x": torch.zeros(1),
        },
        str(path),
    )
    with pytest.raises(ModelFileError, match="not SDXL base's sizes"):
        inspect_checkpoint(path)


def test_sd15_lora_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "sd15.safetensors"
    save_file(
        {
            "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": torch.zeros(4, 768),
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 320),
        },
        str(path),
    )
    with pytest.raises(ModelFileError, match=r"SD 1\.x/2\.x"):
        inspect_lora(path)


def test_demo_lora_passes_and_a_checkpoint_is_not_a_lora(demo_dir: Path) -> None:
    assert inspect_lora(demo_dir / "loras" / "demo-detail.safetensors") > 0
    with pytest.raises(ModelFileError, match="full checkpoint"):
        inspect_lora(demo_dir / "checkpoints" / "demo-sdxl-a.safetensors")


def test_damaged_embedded_config_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "meta.safetensors"
    tensors = {
        "model.diffusion_model.input_blocks.0.0.weight": torch.zeros(1),
        "conditioner.embedders.0.transformer.text_model.x": torch.zeros(1),
        "conditioner.embedders.1.model.x": torch.zeros(1),
    }
    save_file(tensors, str(path), metadata={"fooocus_widgets.diffusers_config": "{not json"})
    with pytest.raises(ModelFileError, match="damaged model config"):
        inspect_checkpoint(path)


@pytest.mark.slow
def test_demo_models_are_deterministic_and_laid_out_like_real_ones(demo_dir: Path, tmp_path: Path) -> None:
    import hashlib
    import subprocess
    import sys

    again = tmp_path / "again"
    out = subprocess.run(
        [sys.executable, "-m", "fooocus_widgets", "demo-models", str(again)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "trained on coloured shapes" in out.stdout  # assembled from the shipped weights
    names = sorted(p.relative_to(demo_dir).as_posix() for p in demo_dir.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    assert {
        "checkpoints/demo-sdxl-a.safetensors",
        "checkpoints/demo-sdxl-b.safetensors",
        "README.txt",
    } <= set(names)
    for name in names:
        digest = [hashlib.sha256((root / name).read_bytes()).hexdigest() for root in (demo_dir, again)]
        assert digest[0] == digest[1], name
