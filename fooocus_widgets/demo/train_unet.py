"""Training the demo UNet (or a LoRA on it) to denoise scene latents, conditioned on captions.

The scenes are encoded once (`encode_scenes`, several sizes from 64 to 256 pixels so that the
model works at the panel's sizes too) and kept as latents with their `Scene`s. Each training
step picks one size, draws a caption for each scene (with or without its position and
background words, sometimes wrapped in a style, 10% replaced by an unconditional side for
classifier-free guidance), noises the latents on the demo scheduler's schedule and regresses
the noise (epsilon prediction), with SDXL's size/crop time ids. Each sample's loss is weighted by
min(SNR, 5)/SNR ("min-SNR", Hang et al. 2023): the nearly clean timesteps, where the loss is
mostly fine detail, count less, so the steps that decide colour and layout get more of the
training.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..engine.demo import demo_configs
from .conditioning import CaptionEncoder
from .vae_check import to_tensor
from .world import Scene, caption, random_scene, render

__all__ = ["LORA_SIZES", "SIZES", "LatentSet", "encode_scenes", "train_denoiser"]

#: (width, height) of the training pictures, and how many scenes of each are encoded.
SIZES = {(64, 64): 1024, (128, 128): 1024, (128, 96): 256, (96, 128): 256, (256, 256): 128}
#: Fewer for a LoRA's scenes (a LoRA learns one change, not the world).
#: A LoRA's change (grey, a latent-pixel grain) is the same at every size: no costly 256s.
LORA_SIZES = {(64, 64): 512, (128, 128): 512}
CAPTION_DROPOUT = 0.1
MIN_SNR_GAMMA = 5.0
#: The panel's sizes, used as random size conditioning (the model should not depend on it).
PANEL_SIZES = ((1152, 896), (1024, 1024), (896, 1152), (1344, 768), (256, 256), (512, 512))


@dataclass
class LatentSet:
    """Scaled latents of scenes of one size, with the scenes they show."""

    width: int
    height: int
    latents: torch.Tensor
    scenes: list[Scene]


@torch.no_grad()
def encode_scenes(
    vae: Any,
    scale: float,
    seed: int,
    *,
    palette_name: str = "a",
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    sizes: dict[tuple[int, int], int] | None = None,
) -> list[LatentSet]:
    """Random scenes (drawn from `seed`) at each size, encoded and scaled as the pipeline does."""
    rng = random.Random(seed)
    sets = []
    for (width, height), count in (sizes or SIZES).items():
        scenes = [random_scene(rng) for _ in range(count)]
        chunks = []
        for start in range(0, count, 32):
            images = [
                render(s, width, height, rng=rng, palette_name=palette_name)
                for s in scenes[start : start + 32]
            ]
            if transform is not None:
                images = [transform(image) for image in images]
            chunks.append(vae.encode(to_tensor(images)).latent_dist.mode() * scale)
        sets.append(LatentSet(width, height, torch.cat(chunks), scenes))
    return sets


def _time_ids(width: int, height: int, count: int, rng: random.Random) -> torch.Tensor:
    rows = []
    for _ in range(count):
        w, h = (width, height) if rng.random() < 0.5 else rng.choice(PANEL_SIZES)
        rows.append([h, w, 0, 0, h, w])
    return torch.tensor(rows, dtype=torch.float32)


def train_denoiser(
    unet: Any,
    sets: list[LatentSet],
    encoder: CaptionEncoder,
    *,
    steps: int,
    seed: int,
    log: Callable[[str], None],
    name: str,
    parameters: Iterable[torch.nn.Parameter] | None = None,
    lr: float = 2e-3,
    batch_size: int = 32,
    targets: list[LatentSet] | None = None,
    adapter: str | None = None,
) -> None:
    """Train `unet` (or just `parameters` of it, e.g. a LoRA's) for `steps` steps, in place.

    With `targets` (the same scenes as `sets`, changed) and the LoRA `adapter`, each step draws a
    strength s in [0, 1], runs the LoRA at weight s and aims at the scenes changed by a fraction s
    (latents blended), so that the LoRA's weight in the panel is how much of its change you get.
    """
    from diffusers import DDPMScheduler

    scheduler_config = {
        k: v
        for k, v in demo_configs()["scheduler"].items()
        if k not in {"interpolation_type", "use_karras_sigmas"}
    }
    noise_schedule: Any = DDPMScheduler(**scheduler_config)
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    alphas = noise_schedule.alphas_cumprod
    snr = alphas / (1 - alphas)
    loss_weight = torch.clamp(snr, max=MIN_SNR_GAMMA) / snr
    trained = [p for p in (parameters if parameters is not None else unet.parameters()) if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps, pct_start=0.05)
    weights = [len(s.scenes) for s in sets]
    unet.train()
    running, seen = 0.0, 0
    for step in range(1, steps + 1):
        which = rng.choices(range(len(sets)), weights=weights)[0]
        chosen = sets[which]
        count = (
            max(4, batch_size * 64 * 64 // (chosen.width * chosen.height))
            if chosen.width > 128
            else batch_size
        )
        index = torch.randint(len(chosen.scenes), (count,), generator=generator)
        latents = chosen.latents[index]
        if targets is not None and adapter is not None:
            strength = rng.random()
            unet.set_adapters([adapter], weights=[strength])
            changed = targets[which].latents[index]
            latents = (1 - strength) * latents + strength * changed
        prompts: list[tuple[str, ...] | None] = []
        for i in index.tolist():
            if rng.random() < CAPTION_DROPOUT:
                prompts.append(encoder.negative(rng))
                continue
            text = caption(
                chosen.scenes[i], with_position=rng.random() < 0.75, with_background=rng.random() < 0.85
            )
            prompts.append(encoder.positive(text, rng))
        embeds, pooled = encoder.batch(prompts)
        noise = torch.randn(latents.shape, generator=generator)
        timesteps = torch.randint(0, noise_schedule.config.num_train_timesteps, (count,), generator=generator)
        noisy = noise_schedule.add_noise(latents, noise, timesteps)
        added = {"text_embeds": pooled, "time_ids": _time_ids(chosen.width, chosen.height, count, rng)}
        prediction = unet(noisy, timesteps, embeds, added_cond_kwargs=added).sample
        per_sample = ((prediction - noise) ** 2).mean(dim=(1, 2, 3))
        loss = (per_sample * loss_weight[timesteps]).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimiser.step()
        schedule.step()
        running += float(loss.detach())
        seen += 1
        if step % 100 == 0 or step == steps:
            log(f"{name} step {step}/{steps}: loss {running / seen:.4f}")
            running, seen = 0.0, 0
    unet.eval()


def fresh_scenes(seed: int, count: int) -> list[Scene]:
    """Scenes for checks, from their own seed."""
    rng = random.Random(seed)
    return [random_scene(rng) for _ in range(count)]
