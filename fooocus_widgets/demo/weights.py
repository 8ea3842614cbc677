"""The trained demo weights on disk: one fp16 .safetensors per component in a folder.

``WEIGHTS_DIR`` is the shipped folder. Text encoders are stored without their token embeddings
(drawn again from the seed in the file's metadata, see `conditioning.token_embeddings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

__all__ = ["WEIGHTS_DIR", "load_component", "save_component"]

WEIGHTS_DIR = Path(__file__).parent / "weights"


def save_component(
    state: dict[str, torch.Tensor], path: Path, *, metadata: dict[str, str] | None = None
) -> None:
    """Write `state` as fp16 safetensors (floating tensors only are cast), sorted by name."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {
        name: (t.detach().to(torch.float16) if t.is_floating_point() else t.detach()).contiguous()
        for name, t in sorted(state.items())
    }
    save_file(tensors, str(path), metadata=metadata)


def load_component(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The fp32 tensors and the metadata of a component file."""
    from safetensors import safe_open

    tensors: dict[str, torch.Tensor] = {}
    with safe_open(str(path), framework="pt") as f:
        metadata: Any = f.metadata() or {}
        for name in f.keys():  # noqa: SIM118 -- safe_open has no __iter__
            tensor = f.get_tensor(name)
            tensors[name] = tensor.float() if tensor.is_floating_point() else tensor
    return tensors, dict(metadata)
