"""Pictures in the VAE's format, and checks of the demo VAE (`vae_weights`).

`reconstruction_error` is the encode->decode error on held-back scenes at 256x256;
`latent_scale` the factor that gives the latents unit spread, written into the VAE config as
``scaling_factor``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from .world import random_scene, render

__all__ = ["latent_scale", "reconstruction_error", "to_tensor"]


def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """HWC float images in [0, 1] -> a NCHW batch in [-1, 1] (the VAE's range)."""
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2) * 2 - 1


@torch.no_grad()
def reconstruction_error(vae: Any, seed: int, count: int = 16, side: int = 256) -> float:
    """Mean absolute error (0-255 scale) of encode->decode on held-back scenes at `side` pixels."""
    rng = random.Random(seed)
    errors = []
    for _ in range(count):
        image = to_tensor([render(random_scene(rng), side, side, rng=rng, palette_name=rng.choice("ab"))])
        decoded = vae.decode(vae.encode(image).latent_dist.mode()).sample.clamp(-1, 1)
        errors.append(float((decoded - image).abs().mean()) * 127.5)
    return float(np.mean(errors))


@torch.no_grad()
def latent_scale(vae: Any, seed: int, count: int = 32) -> float:
    """1 / the spread of the (unscaled) latents of random scenes."""
    rng = random.Random(seed)
    images = [
        render(random_scene(rng), 128, 128, rng=rng, palette_name=rng.choice("ab")) for _ in range(count)
    ]
    latents = vae.encode(to_tensor(images)).latent_dist.mode()
    return float(1.0 / latents.std())
