"""Where models, LoRAs, styles and outputs are found, Fooocus-style.

The models folder holds ``checkpoints/`` (SDXL single-file ``.safetensors`` or diffusers
folders), ``loras/`` and ``styles/``. It is chosen by the ``models_dir`` argument, else the
``FOOOCUS_WIDGETS_MODELS`` environment variable, else ``~/fooocus-widgets/models``. Results go to
``output_dir`` / ``FOOOCUS_WIDGETS_OUTPUTS`` / ``./outputs``. No torch here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MODELS_ENV",
    "OUTPUTS_ENV",
    "PICKLE_SUFFIXES",
    "ModelFolders",
    "default_models_dir",
    "default_output_dir",
]

MODELS_ENV = "FOOOCUS_WIDGETS_MODELS"
OUTPUTS_ENV = "FOOOCUS_WIDGETS_OUTPUTS"
#: Formats that can run code when loaded (Python pickles): listed to explain, never loaded.
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl")


def default_models_dir() -> Path:
    """``$FOOOCUS_WIDGETS_MODELS``, else ``~/fooocus-widgets/models``."""
    env = os.environ.get(MODELS_ENV, "").strip()
    return Path(env).expanduser() if env else Path.home() / "fooocus-widgets" / "models"


def default_output_dir() -> Path:
    """``$FOOOCUS_WIDGETS_OUTPUTS``, else ``outputs`` in the current folder (the notebook's)."""
    env = os.environ.get(OUTPUTS_ENV, "").strip()
    return Path(env).expanduser() if env else Path.cwd() / "outputs"


def _names(folder: Path, pattern: str) -> list[str]:
    if not folder.is_dir():
        return []
    found = (p.relative_to(folder).as_posix() for p in folder.rglob(pattern) if p.is_file())
    return sorted(
        (n for n in found if not any(part.startswith(".") for part in n.split("/"))), key=str.casefold
    )


@dataclass(frozen=True)
class ModelFolders:
    """The models folder and its Fooocus-like subfolders."""

    root: Path

    @classmethod
    def resolve(cls, models_dir: str | Path | None = None) -> ModelFolders:
        """From an argument, the environment or the default."""
        return cls(Path(models_dir).expanduser() if models_dir is not None else default_models_dir())

    @property
    def checkpoints(self) -> Path:
        """``<root>/checkpoints``: base models."""
        return self.root / "checkpoints"

    @property
    def loras(self) -> Path:
        """``<root>/loras``."""
        return self.root / "loras"

    @property
    def styles(self) -> Path:
        """``<root>/styles``: the user's style files."""
        return self.root / "styles"

    def checkpoint_names(self) -> list[str]:
        """``.safetensors`` files and diffusers folders under ``checkpoints/``, relative names."""
        names = _names(self.checkpoints, "*.safetensors")
        if self.checkpoints.is_dir():
            names += sorted(
                p.parent.relative_to(self.checkpoints).as_posix() + "/"
                for p in self.checkpoints.rglob("model_index.json")
            )
        return names

    def lora_names(self) -> list[str]:
        """``.safetensors`` files under ``loras/``, relative names."""
        return _names(self.loras, "*.safetensors")

    def refused_checkpoints(self) -> list[str]:
        """Pickle files under ``checkpoints/`` (listed to explain why they are not offered)."""
        return [n for suffix in PICKLE_SUFFIXES for n in _names(self.checkpoints, f"*{suffix}")]

    def help_text(self) -> str:
        """What to tell a user whose checkpoints folder offers nothing."""
        text = (
            f"No models found. Put SDXL .safetensors checkpoints in {self.checkpoints} "
            f"(LoRAs in {self.loras}), or set {MODELS_ENV} to your models folder, then press Refresh."
        )
        refused = self.refused_checkpoints()
        if refused:
            text += (
                f" Found {', '.join(refused[:3])}: pickle files ({', '.join(PICKLE_SUFFIXES)}) can run code "
                "when loaded and are never opened; use a .safetensors version."
            )
        return text

    def inside(self, folder: Path, name: str) -> Path:
        """`name` resolved under `folder`, refusing paths that leave it (``../``, absolute)."""
        base = folder.resolve()
        path = (folder / name).resolve()
        if path != base and base not in path.parents:
            raise ValueError(f"{name!r} is outside {folder}; allowed: names of files inside that folder")
        return path
