"""Image-to-image for Vary (Subtle) and Vary (Strong): denoise an input image part of the way.

The pipeline is diffusers' `StableDiffusionXLImg2ImgPipeline` made with ``from_pipe`` from the
loaded text-to-image pipeline, so it holds the very same UNet, VAE, text encoders, tokenizers
and LoRA adapters: never a second copy of any weight. It is built on first use and cached on
the `LoadedModel` (`LoadedModel.img2img`), so `ModelManager.release` drops it with the model.

`Engine._denoise` calls `vary_latents` for a plan with an input image, with the same prompt
embeddings, guidance, scheduler, seed and step callback (progress, Stop/Skip) as text-to-image,
and gets latents back (``output_type="latent"``): decoding and the out-of-memory retries stay
the engine's.

Steps follow Fooocus (ComfyUI's sampler): a denoise ``d`` with ``n`` steps runs ``n`` steps over
the low-noise end of an ``int(n / d)``-step schedule, where diffusers' own ``strength`` would run
only ``int(n * d)`` steps of an ``n``-step one. `schedule_for` turns one into the other.
"""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image

from .models import LoadedModel, _quiet_loading

__all__ = ["img2img_pipeline", "schedule_for", "vary_latents"]


def img2img_pipeline(current: LoadedModel) -> Any:
    """The loaded model's image-to-image pipeline, sharing its components (built once, cached)."""
    if current.img2img is None:
        from diffusers import StableDiffusionXLImg2ImgPipeline

        pipe = current.pipe
        with _quiet_loading():
            # from_pipe casts the new pipeline to `dtype` (float32 by default): keep the model's own
            img2img = StableDiffusionXLImg2ImgPipeline.from_pipe(pipe, dtype=pipe.unet.dtype)
        img2img.set_progress_bar_config(disable=True)
        if hasattr(img2img, "watermark"):
            img2img.watermark = None
        current.img2img = img2img
    return current.img2img


def schedule_for(steps: int, denoise: float) -> tuple[int, float]:
    """(num_inference_steps, strength) for diffusers so that exactly `steps` steps run, over the
    last part of a longer schedule, as Fooocus runs a denoise below 1.

    diffusers runs ``int(total * strength)`` steps; half a step of slack keeps float rounding from
    dropping one.
    """
    if not 0.0 < denoise <= 1.0:
        raise ValueError(f"denoise {denoise!r} is not allowed; allowed: more than 0, at most 1")
    total = max(steps, int(steps / denoise))
    return total, min(1.0, (steps + 0.5) / total)


def vary_latents(
    current: LoadedModel,
    image: Image.Image,
    *,
    denoise: float,
    steps: int,
    call_kwargs: dict[str, Any],
) -> torch.Tensor:
    """Run image-to-image from `image` (RGB, at the output size) and return the latents.

    `call_kwargs` are what text-to-image is called with, less the size and step count: prompt
    embeddings, guidance, generator, callbacks and ``output_type="latent"``. The scheduler is the
    text-to-image pipeline's current one. The VAE is put back to its dtype even when encoding
    fails (diffusers upcasts an fp16 VAE to encode and would leave it so after an error).
    """
    img2img = img2img_pipeline(current)
    img2img.scheduler = current.pipe.scheduler
    total, strength = schedule_for(steps, denoise)
    vae = img2img.vae
    dtype = vae.dtype
    try:
        latents = img2img(image=image, strength=strength, num_inference_steps=total, **call_kwargs).images
    finally:
        if vae.dtype != dtype:
            vae.to(dtype)
    return latents  # type: ignore[no-any-return]
