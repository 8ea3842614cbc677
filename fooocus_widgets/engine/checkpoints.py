"""What a model file is, read from its safetensors header alone (never unpickled, never loaded).

`inspect_checkpoint` tells an SDXL base checkpoint from an SD 1.x/2.x one, a refiner or a LoRA,
finds the diffusers config it needs (embedded in the file's metadata, as the demo models have
it, or the shipped SDXL base configs) and catches truncated or corrupt files before diffusers
sees them. `inspect_lora` does the same for LoRA files. Only the standard library is used here.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelFileError
from ..folders import PICKLE_SUFFIXES

__all__ = [
    "CONFIG_METADATA_KEY",
    "SDXL_BASE_CONFIG_DIR",
    "CheckpointInfo",
    "ModelFileError",
    "inspect_checkpoint",
    "inspect_lora",
    "read_safetensors_header",
]

SDXL_BASE_CONFIG_DIR = Path(__file__).parent / "sdxl" / "base"
#: safetensors metadata key holding the diffusers configs of a checkpoint's models (JSON text).
CONFIG_METADATA_KEY = "fooocus_widgets.diffusers_config"
MAX_HEADER = 100 * 1024 * 1024

_UNET = "model.diffusion_model."
_TE1 = "conditioner.embedders.0.transformer.text_model."
_TE2 = "conditioner.embedders.1.model."
_SD1_TE = "cond_stage_model.transformer."
_SD2_TE = "cond_stage_model.model."
_REFINER_TE = "conditioner.embedders.0.model."


@dataclass(frozen=True)
class CheckpointInfo:
    """What `inspect_checkpoint` found."""

    path: Path
    kind: str
    """"sdxl" for a usable SDXL base checkpoint."""
    configs: dict[str, Any] | None = field(default=None, repr=False)
    """The diffusers configs embedded in the file, or None for a standard SDXL base layout."""
    tensors: int = 0


def read_safetensors_header(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The tensor table and the metadata of a safetensors file, checked against the file size.

    Raises `ModelFileError` for pickles, truncated or corrupt files.
    """
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelFileError(
            f"{path.name} is a pickle file ({path.suffix}); pickle files can run arbitrary code when loaded, "
            "so they are never opened. Use a .safetensors version."
        )
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelFileError(f"{path.name} is empty or truncated ({size} bytes); download it again.")
            (length,) = struct.unpack("<Q", head)
            if length > MAX_HEADER or length + 8 > size:
                raise ModelFileError(
                    f"{path.name} is not a valid .safetensors file (its header is damaged or the file is "
                    "truncated); download it again."
                )
            raw = f.read(length)
    except OSError as exc:
        raise ModelFileError(f"{path.name} could not be read ({exc.strerror or exc}).") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"{path.name} is not a valid .safetensors file (corrupt header).") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path.name} is not a valid .safetensors file (corrupt header).")
    metadata = header.pop("__metadata__", None) or {}
    end = 0
    for name, entry in header.items():
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise ModelFileError(
                f"{path.name} is not a valid .safetensors file (tensor {name!r} is malformed)."
            )
        end = max(end, offsets[1])
    if 8 + length + end != size:
        missing = 8 + length + end - size
        what = f"{missing} bytes are missing" if missing > 0 else "it has trailing bytes"
        raise ModelFileError(f"{path.name} is truncated or corrupt ({what}); download it again.")
    return header, metadata if isinstance(metadata, dict) else {}


def _shape(header: dict[str, Any], key: str) -> list[int] | None:
    entry = header.get(key)
    return list(entry["shape"]) if isinstance(entry, dict) and "shape" in entry else None


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    """Check that `path` is a loadable SDXL base single-file checkpoint and find its configs."""
    header, metadata = read_safetensors_header(path)
    keys = header.keys()

    def has(prefix: str) -> bool:
        return any(k.startswith(prefix) for k in keys)

    if not has(_UNET):
        if any(".lora_" in k or k.startswith(("lora_unet_", "lora_te")) for k in keys):
            raise ModelFileError(f"{path.name} is a LoRA, not a base model; put it in the loras folder.")
        raise ModelFileError(f"{path.name} is not a Stable Diffusion checkpoint (it has no UNet weights).")
    if has(_SD1_TE):
        raise ModelFileError(f"{path.name} is an SD 1.x checkpoint; this panel runs SDXL base models.")
    if has(_SD2_TE):
        raise ModelFileError(f"{path.name} is an SD 2.x checkpoint; this panel runs SDXL base models.")
    if has(_REFINER_TE) and not has(_TE1):
        raise ModelFileError(f"{path.name} is an SDXL refiner; pick an SDXL base model.")
    if not (has(_TE1) and has(_TE2)):
        raise ModelFileError(
            f"{path.name} lacks SDXL's two text encoders; it is not an SDXL base checkpoint."
        )

    embedded = metadata.get(CONFIG_METADATA_KEY)
    if embedded:
        try:
            configs = json.loads(embedded)
        except ValueError:
            raise ModelFileError(f"{path.name} carries a damaged model config in its metadata.") from None
        return CheckpointInfo(path, "sdxl", configs, len(header))

    base_unet = json.loads((SDXL_BASE_CONFIG_DIR / "unet" / "config.json").read_text())
    conv_in = _shape(header, f"{_UNET}input_blocks.0.0.weight")
    if conv_in != [base_unet["block_out_channels"][0], base_unet["in_channels"], 3, 3]:
        raise ModelFileError(
            f"{path.name} has an SDXL-like layout but not SDXL base's sizes (conv_in {conv_in}); "
            "only SDXL base-architecture checkpoints are supported."
        )
    return CheckpointInfo(path, "sdxl", None, len(header))


def inspect_lora(path: Path) -> int:
    """Check a LoRA file before diffusers loads it; returns its number of tensors.

    Refuses pickles, damaged files, base models and LoRAs made for SD 1.x/2.x (one text encoder,
    kohya naming ``lora_te_``; SDXL LoRAs name ``lora_te1_``/``lora_te2_``).
    """
    header, _ = read_safetensors_header(path)
    keys = list(header)
    if any(k.startswith((_UNET, "first_stage_model.")) for k in keys):
        raise ModelFileError(
            f"{path.name} is a full checkpoint, not a LoRA; put it in the checkpoints folder."
        )
    lora_like = [k for k in keys if "lora" in k.lower() or ".alpha" in k]
    if not lora_like:
        raise ModelFileError(f"{path.name} is not a LoRA (no LoRA weights found).")
    if any(k.startswith("lora_te_") for k in keys):
        raise ModelFileError(
            f"{path.name} is a LoRA for SD 1.x/2.x (one text encoder); it does not fit SDXL. "
            "Use a LoRA made for SDXL."
        )
    return len(keys)
