"""Running a `GenerationPlan`: load what it needs, then make its images one by one.

All of an engine's torch work happens on its one long-lived worker thread: panels submit jobs to
it and `generate()` waits for it. (Each thread that calls torch on the CPU gets its own OpenMP
team; with two teams there are more threads than cores, libgomp throttles its spin-wait and
every small op pays a wake-up: a demo-size model ran 1.7x slower on 2 cores.) One job runs at a
time. A run reports through `RunEvents` (status, per-step progress, previews, each finished
image) and obeys `RunControl` (Stop ends the batch, Skip ends the current image). A plan with an
input image (Vary) denoises that image with the image-to-image pipeline (`img2img`), which shares
the loaded model's components; everything else is the same. It never keeps
a reference to the pipeline in a callback or a stored exception, so releasing the model really
frees it.
"""

from __future__ import annotations

import functools
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from PIL import Image

from ..errors import GenerationError
from ..params import GenerationPlan
from .img2img import vary_latents
from .memory import collect, empty_cuda_cache
from .models import ModelManager
from .preview import latents_to_preview
from .prompts import encode_prompt_pair
from .samplers import make_scheduler

__all__ = ["Engine", "GenerationError", "ImageResult", "RunControl", "RunEvents"]

PREVIEW_INTERVAL_S = 0.25
T = TypeVar("T")

# torchsde (DPM++ SDE) warns about float rounding at the last step; the samples are fine
warnings.filterwarnings("ignore", message="Should have tb<=t1", module="torchsde")


def is_out_of_memory(exc: BaseException) -> bool:
    """A CUDA (or other accelerator) out-of-memory error, or the CPU's MemoryError."""
    oom_types: tuple[type[BaseException], ...] = (MemoryError, torch.cuda.OutOfMemoryError)
    if hasattr(torch, "OutOfMemoryError"):
        oom_types += (torch.OutOfMemoryError,)
    return isinstance(exc, oom_types) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


OOM_ADVICE = "Try a smaller size or fewer images, choose the low VRAM memory mode, or free memory and retry."

#: Cached-but-unused CUDA memory above this is handed back after a batch.
CACHE_SLACK_BYTES = 1024**3


@dataclass
class RunControl:
    """Stop and Skip, settable from any thread."""

    stop: threading.Event = field(default_factory=threading.Event)
    skip: threading.Event = field(default_factory=threading.Event)


def _ignore(*_args: Any) -> None:
    return None


@dataclass
class RunEvents:
    """Callbacks a run reports through (all optional, called on the worker thread)."""

    status: Callable[[str], None] = _ignore
    """A phase in words: "Loading demo-sdxl-a.safetensors", "Decoding image 2 of 4"..."""
    step: Callable[[int, int, int], None] = _ignore
    """(image index, steps done, steps in all)"""
    preview: Callable[[int, Image.Image], None] = _ignore
    """(image index, small preview picture)"""
    image: Callable[[ImageResult], None] = _ignore
    """Each finished image, as soon as it is decoded."""


@dataclass(frozen=True)
class ImageResult:
    """One generated image and how it was made."""

    image: Image.Image
    seed: int
    index: int
    parameters: dict[str, Any]


def _retry_on_oom(
    step: Callable[[], T],
    relieve: Callable[[], str | None],
    *,
    what: str,
    events: RunEvents,
    still: str = "even in a lower-memory mode",
    give_up: Callable[[], object] = collect,
) -> T:
    """Run `step`; after an out-of-memory error, `relieve` memory and run it once more.

    `relieve` frees memory or lowers the memory mode and says what it did ("retrying with VAE
    tiling and slicing"), shown as "Out of memory while <what>: <that>"; it returns None when
    nothing is left to try, and the failure is explained at once. A second out-of-memory error
    runs `give_up` and is explained as "Out of memory while <what>, <still>", with advice. Other
    errors pass through untouched.

    The retry runs after the ``except`` block is left: the exception's traceback holds the frames
    of what failed (the pipeline, the tensors it had made), and they must be freed first.
    """
    try:
        return step()
    except BaseException as exc:
        if not is_out_of_memory(exc):
            raise
    relief = relieve()
    if relief is None:
        raise GenerationError(f"Out of memory while {what}. {OOM_ADVICE}")
    events.status(f"Out of memory while {what}: {relief}")
    try:
        return step()
    except BaseException as exc:
        if not is_out_of_memory(exc):
            raise
    give_up()
    raise GenerationError(f"Out of memory while {what}, {still}. {OOM_ADVICE}")


class Engine:
    """Generates images for plans, with one `ModelManager` and one worker thread."""

    def __init__(self, models: ModelManager | None = None) -> None:
        self.models = models or ModelManager()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fooocus-widgets-engine")
        self._busy = False
        self._busy_lock = threading.Lock()

    def submit(self, job: Callable[[], T]) -> Future[T]:
        """Run `job` on the engine's thread; refuses (`GenerationError`) while another job runs."""
        with self._busy_lock:
            if self._busy:
                raise GenerationError("A generation is already running; wait for it or press Stop.")
            self._busy = True

        def guarded() -> T:
            try:
                return job()
            finally:
                with self._busy_lock:
                    self._busy = False

        return self._executor.submit(guarded)

    @property
    def busy(self) -> bool:
        """Whether a job is running or about to."""
        return self._busy

    def prepare(self, plan: GenerationPlan, events: RunEvents | None = None) -> Any:
        """Load the plan's base model and LoRAs (no-op when they are loaded already)."""
        events = events or RunEvents()
        current = self.models.current
        if current is None or current.ref != plan.model:
            events.status(f"Loading {plan.model.name}")
        pipe = self.models.pipeline(plan.model)
        if plan.loras or (self.models.current and self.models.current.adapters):
            events.status("Applying LoRAs")
        self.models.apply_loras(plan.loras)
        return pipe

    def run(
        self, plan: GenerationPlan, events: RunEvents | None = None, control: RunControl | None = None
    ) -> list[ImageResult]:
        """Make the plan's images on the engine thread and wait for them.

        Stop ends the batch after the current step; Skip drops the current image and goes on
        with the next. An interrupt (Ctrl+C, the notebook's stop button) stops the batch.
        """
        control = control or RunControl()
        future = self.submit(lambda: self.run_now(plan, events, control))
        try:
            return future.result()
        except KeyboardInterrupt:
            control.stop.set()
            future.result()
            raise

    def run_now(
        self, plan: GenerationPlan, events: RunEvents | None = None, control: RunControl | None = None
    ) -> list[ImageResult]:
        """`run` for code that is already a job on the engine thread (see `submit`)."""
        return self._run(plan, events or RunEvents(), control or RunControl())

    def _run(self, plan: GenerationPlan, events: RunEvents, control: RunControl) -> list[ImageResult]:
        try:
            return self._run_batch(plan, events, control)
        finally:
            self._trim_cuda_cache()

    def _trim_cuda_cache(self) -> None:
        if (
            torch.cuda.is_available()
            and torch.cuda.memory_reserved() - torch.cuda.memory_allocated() > CACHE_SLACK_BYTES
        ):
            empty_cuda_cache()

    def _free_models(self) -> str:
        """Relief for an out-of-memory error while loading: drop the loaded model and collect."""
        self.models.release()
        collect()
        return "freeing memory and trying once more"

    def _lower_memory(self) -> str | None:
        """Relief for an out-of-memory error while generating: collect, then go one step down in
        memory use (see `ModelManager.lower_memory`); None when there is no lower step.
        """
        collect()
        lowered = self.models.lower_memory()
        return f"retrying with {lowered}" if lowered else None

    def _run_batch(self, plan: GenerationPlan, events: RunEvents, control: RunControl) -> list[ImageResult]:
        pipe = _retry_on_oom(
            functools.partial(self.prepare, plan, events),
            self._free_models,
            what=f"loading {plan.model.name}",
            still="even after freeing memory",
            events=events,
            give_up=self._free_models,
        )
        current = self.models.current
        assert current is not None
        remark = self.models.apply_memory_mode(plan.memory_mode)
        if remark:
            events.status(remark)
        scheduler, schedule = make_scheduler(current.base_scheduler_config, plan.sampler, plan.scheduler)
        pipe.scheduler = scheduler
        guidance = plan.guidance_scale > 1.0
        events.status("Encoding the prompt")
        embeds = encode_prompt_pair(
            pipe, plan.positive_pieces, plan.negative_pieces, plan.clip_skip, guidance=guidance
        )
        results: list[ImageResult] = []
        for index, seed in enumerate(plan.seeds):
            if control.stop.is_set():
                break
            control.skip.clear()
            events.status(f"Generating image {index + 1} of {plan.image_number}")
            latents = _retry_on_oom(
                functools.partial(self._denoise, pipe, plan, embeds, seed, index, events, control),
                self._lower_memory,
                what=f"generating image {index + 1}",
                events=events,
            )
            if latents is None:
                continue
            events.status(f"Decoding image {index + 1} of {plan.image_number}")
            image = _retry_on_oom(
                functools.partial(decode_latents, pipe, latents),
                self._lower_memory,
                what=f"decoding image {index + 1}",
                events=events,
            )
            parameters = plan.parameters(seed)
            parameters["scheduler"] = schedule
            result = ImageResult(image=image, seed=seed, index=index, parameters=parameters)
            results.append(result)
            events.image(result)
        return results

    def _denoise(
        self,
        pipe: Any,
        plan: GenerationPlan,
        embeds: dict[str, torch.Tensor],
        seed: int,
        index: int,
        events: RunEvents,
        control: RunControl,
    ) -> torch.Tensor | None:
        last_preview = [0.0]
        steps = plan.steps
        wants_preview = events.preview is not _ignore

        def on_step(pipeline: Any, step: int, _timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            events.step(index, step + 1, steps)
            now = time.monotonic()
            if wants_preview and now - last_preview[0] >= PREVIEW_INTERVAL_S and step + 1 < steps:
                last_preview[0] = now
                events.preview(index, latents_to_preview(tensors["latents"]))
            if control.stop.is_set() or control.skip.is_set():
                pipeline._interrupt = True  # diffusers' own flag: the remaining steps are skipped
            return tensors

        call: dict[str, Any] = {
            **embeds,
            "guidance_scale": plan.guidance_scale,
            "generator": torch.Generator("cpu").manual_seed(seed),
            "output_type": "latent",
            "callback_on_step_end": on_step,
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
        if plan.input_image is not None:  # Vary: image-to-image from the input image
            current = self.models.current
            assert current is not None
            latents = vary_latents(
                current,
                plan.input_image.image,
                denoise=plan.input_image.denoise,
                steps=steps,
                call_kwargs=call,
            )
        else:
            latents = pipe(num_inference_steps=steps, width=plan.width, height=plan.height, **call).images
        if control.stop.is_set() or control.skip.is_set():
            return None
        return latents


# Adapted from diffusers src/diffusers/pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py
# StableDiffusionXLPipeline.__call__ (the decode step after denoising, `if not output_type == "latent"`).
# Differs: it runs on its own (the pipeline is called with output_type="latent", so that an
# out-of-memory error while decoding can be retried alone); the VAE is upcast with `.to(float32)`
# (diffusers calls its deprecated `upcast_vae()`) and cast back even when decoding fails; latents are
# always cast to the VAE's dtype and moved to `vae.device` (diffusers:
# `get_module_execution_device(vae)`); the MPS workaround and the watermark are left out; an all-NaN
# decode is an error instead of a black image.
@torch.no_grad()
def decode_latents(pipe: Any, latents: torch.Tensor) -> Image.Image:
    """Latents to a PIL image the way the SDXL pipeline does it (fp16 VAEs upcast when their
    config asks, since SDXL's VAE overflows in fp16); an all-NaN result is an error.
    """
    vae = pipe.vae
    upcast = vae.dtype == torch.float16 and bool(getattr(vae.config, "force_upcast", False))
    if upcast:
        vae.to(torch.float32)
    try:
        dtype = next(vae.post_quant_conv.parameters()).dtype
        latents = latents.to(device=vae.device, dtype=dtype)
        mean = getattr(vae.config, "latents_mean", None)
        std = getattr(vae.config, "latents_std", None)
        if mean is not None and std is not None:
            mean_t = torch.tensor(mean).view(1, 4, 1, 1).to(latents.device, latents.dtype)
            std_t = torch.tensor(std).view(1, 4, 1, 1).to(latents.device, latents.dtype)
            latents = latents * std_t / vae.config.scaling_factor + mean_t
        else:
            latents = latents / vae.config.scaling_factor
        decoded = vae.decode(latents, return_dict=False)[0]
    finally:
        if upcast:
            vae.to(torch.float16)
    if torch.isnan(decoded).all():
        raise GenerationError(
            "The VAE produced an empty (NaN) image, a known SDXL fp16 overflow; the image was not saved. "
            "Try again with a VAE that is safe in fp16 or in full precision."
        )
    image: Image.Image = pipe.image_processor.postprocess(decoded, output_type="pil")[0]
    return image
