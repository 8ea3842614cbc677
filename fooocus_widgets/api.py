"""`generate()`: the panel's engine from plain Python, with no widget at all.

It builds the same `PanelState` a panel would hold (so it validates the same way), plans it,
runs it on the shared engine with a tqdm progress bar and saves the results with their
parameters, exactly as the panel does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GenerationInputError
from .folders import ModelFolders, default_output_dir
from .outputs import save_image
from .params import GenerationPlan, plan_generation
from .presets import load_preset
from .state import INPUT_IMAGE_MODES, InputImageSettings, LoraSlot, PanelState
from .styles import load_styles

if TYPE_CHECKING:
    from PIL import Image

    from .engine.memory import MemoryReport
    from .engine.run import Engine

__all__ = ["NOT_GIVEN", "GenerationResult", "default_engine", "generate", "release_vram"]

_ENGINE_LOCK = threading.Lock()
_ENGINE: Engine | None = None


def default_engine() -> Engine:
    """The engine shared by `generate()` and every panel (one model in memory for all)."""
    global _ENGINE  # noqa: PLW0603 -- one process-wide engine is the point
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from .engine.run import Engine

            _ENGINE = Engine()
        return _ENGINE


def _is_engine_object(value: Any) -> bool:
    """Objects whose references IPython may keep alive: pipelines and torch modules."""
    import torch

    try:
        from diffusers import DiffusionPipeline
    except ImportError:  # pragma: no cover - diffusers is a dependency
        return isinstance(value, torch.nn.Module)
    return isinstance(value, (DiffusionPipeline, torch.nn.Module))


def release_vram(*, keep_models: bool = False) -> MemoryReport:
    """Really give GPU and RAM back, and say how much.

    Unloads the loaded pipeline and its LoRA adapters (unless `keep_models`), clears what IPython
    keeps that holds pipelines or torch modules (output history, ``_``, ``__``, ``___``, the last
    exception and its traceback), collects garbage, empties the CUDA cache and its IPC handles and
    returns freed heap to the OS. Panel states are untouched: the next Generate loads what it
    needs. Refused (`GenerationError`) while a generation runs: press Stop first.
    """
    from .engine.memory import MemoryReport, collect, snapshot
    from .errors import GenerationError
    from .ipython_cleanup import clear_ipython_references

    before = snapshot()
    released: list[str] = []
    engine = _ENGINE
    if engine is not None and not keep_models:
        try:
            released += engine.submit(engine.models.release).result()
        except GenerationError:
            raise GenerationError("A generation is running: press Stop, then free memory.") from None
    released += clear_ipython_references(_is_engine_object)
    collect()
    if engine is not None:
        engine.submit(collect).result()  # the engine thread's heap arena too
    return MemoryReport(before=before, after=snapshot(), released=released)


@dataclass
class GenerationResult:
    """What `generate()` made."""

    images: list[Image.Image]
    """The images, as PIL images."""
    paths: list[Path]
    """Where each image was saved (empty when ``save=False``)."""
    seeds: list[int]
    """The seed of each image."""
    parameters: list[dict[str, Any]]
    """The exact parameters of each image (also embedded in its file)."""
    plan: GenerationPlan = field(repr=False)
    """The resolved plan the run followed."""
    warnings: list[str] = field(default_factory=list)
    """Things that were left out (an unknown style, unused preset keys)."""


def _lora_slots(loras: Iterable[Any]) -> tuple[LoraSlot, ...]:
    slots = []
    for i, lora in enumerate(loras):
        if isinstance(lora, LoraSlot):
            slots.append(lora)
        elif isinstance(lora, str):
            slots.append(LoraSlot(file=lora))
        elif isinstance(lora, Mapping):
            slots.append(LoraSlot.from_dict(lora, f"loras[{i}]"))
        elif isinstance(lora, Sequence) and len(lora) == 2:
            slots.append(LoraSlot(file=lora[0], weight=lora[1]))
        else:
            raise TypeError(
                f"loras[{i}] is {lora!r}; allowed: a file name, (file, weight), a dict or a LoraSlot"
            )
    return tuple(slots)


class _NotGiven:
    """The default of `generate()`'s keywords: "not given", so a preset's value (then the panel's
    default, from `PanelState`) applies instead.
    """

    _instance: _NotGiven | None = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Any = _NotGiven()
"""Marks a keyword of `generate()` that the caller did not give."""


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not NOT_GIVEN}


def generate(
    prompt: str = NOT_GIVEN,
    *,
    model: str | Path = NOT_GIVEN,
    negative_prompt: str = NOT_GIVEN,
    styles: Sequence[str] = NOT_GIVEN,
    performance: str = NOT_GIVEN,
    aspect_ratio: str = NOT_GIVEN,
    width: int | None = None,
    height: int | None = None,
    image_number: int = NOT_GIVEN,
    seed: int | None = NOT_GIVEN,
    loras: Iterable[Any] = NOT_GIVEN,
    guidance_scale: float = NOT_GIVEN,
    sampler: str = NOT_GIVEN,
    scheduler: str = NOT_GIVEN,
    clip_skip: int = NOT_GIVEN,
    steps: int | None = None,
    output_format: str = NOT_GIVEN,
    output_dir: str | Path | None = None,
    models_dir: str | Path | None = None,
    preset: str | Path | dict[str, Any] | None = None,
    save: bool = True,
    progress: bool = True,
    input_image: Image.Image | str | Path | None = None,
    uov_mode: str = NOT_GIVEN,
) -> GenerationResult:
    """Generate images with SDXL, Fooocus-style, without a panel.

    Every setting left out comes from the `preset` (a Fooocus preset JSON) when it has one, else
    from the panel's defaults (`PanelState`): what you give beats the preset, which beats the
    default. `model` is a checkpoint name under ``<models_dir>/checkpoints``, a path to an SDXL
    ``.safetensors`` file or diffusers folder, or a Hub id (online only). `loras` takes file names
    under ``<models_dir>/loras`` as ``"file"`` or ``(file, weight)``. `seed` None draws a random
    seed; image i uses seed + i. `width`/`height` override `aspect_ratio` ("1152*896").
    Bad values raise `ValueError` naming the argument and what is allowed.

    `input_image` (a PIL image or a path to an image file) varies that image instead of starting
    from noise, as Fooocus's "Upscale or Variation" tab does: `uov_mode` "Vary (Subtle)" (the
    default, denoise 0.5) or "Vary (Strong)" (0.85); the Upscale modes are not available yet and
    are refused. The output size then follows the input image (its area brought into Fooocus's
    1024..2048 "shape ceil" range), not `aspect_ratio`; `width` and `height` together run it at
    exactly that size instead. Each image's parameters record the mode, the denoise and the
    input's sha256 content hash.
    """
    warnings: list[str] = []
    base = PanelState()
    if preset is not None:
        base, warnings = load_preset(preset)
    changes = _given(
        prompt=prompt,
        negative_prompt=negative_prompt,
        performance=performance,
        aspect_ratio=aspect_ratio,
        image_number=image_number,
        output_format=output_format,
        guidance_scale=guidance_scale,
        sampler=sampler,
        scheduler=scheduler,
        clip_skip=clip_skip,
    )
    if styles is not NOT_GIVEN:
        changes["styles"] = tuple(styles)
    if model is not NOT_GIVEN:
        changes["base_model"] = str(model)
    if loras is not NOT_GIVEN:
        changes["loras"] = _lora_slots(loras)
    if seed is not NOT_GIVEN:
        changes.update(seed=seed if seed is not None else base.seed, random_seed=seed is None)
    opened = None
    if input_image is not None:
        from .input_images import open_input_image

        opened = open_input_image(input_image)
        mode = INPUT_IMAGE_MODES[0] if uov_mode is NOT_GIVEN else uov_mode
        changes["input_image"] = InputImageSettings(enabled=True, mode=mode, image=opened.sha256)
        if aspect_ratio is not NOT_GIVEN:
            warnings.append(
                "aspect_ratio is not used with an input image: the size follows the input image "
                "(give width and height to choose it)."
            )
    elif uov_mode is not NOT_GIVEN:
        raise GenerationInputError(
            f"uov_mode {uov_mode!r} needs an input image; give input_image (a PIL image or a path)."
        )
    state = base.replace(**changes)
    folders = ModelFolders.resolve(models_dir)
    plan = plan_generation(
        state,
        folders=folders,
        styles=load_styles([folders.styles]),
        width=width,
        height=height,
        steps=steps,
        input_image=opened,
    )
    warnings += list(plan.warnings)
    return run_plan(
        plan,
        output_dir=Path(output_dir) if output_dir else None,
        save=save,
        progress=progress,
        warnings=warnings,
    )


def run_plan(
    plan: GenerationPlan,
    *,
    output_dir: Path | None = None,
    save: bool = True,
    progress: bool = True,
    warnings: list[str] | None = None,
) -> GenerationResult:
    """Run a plan on the shared engine, saving each image as it is done."""
    from tqdm.auto import tqdm

    from .engine.run import RunEvents

    out = output_dir or default_output_dir()
    paths: list[Path] = []
    bar = tqdm(
        total=plan.steps * plan.image_number, disable=not progress, unit="step", desc="fooocus-widgets"
    )
    done = [0]

    def on_step(index: int, step: int, steps: int) -> None:
        total = index * steps + step
        bar.update(total - done[0])
        done[0] = total

    def on_image(result: Any) -> None:
        if save:
            paths.append(save_image(result.image, result.parameters, out, plan.output_format))

    try:
        results = default_engine().run(plan, RunEvents(step=on_step, image=on_image))
    finally:
        bar.close()
    return GenerationResult(
        images=[r.image for r in results],
        paths=paths,
        seeds=[r.seed for r in results],
        parameters=[r.parameters for r in results],
        plan=plan,
        warnings=warnings or [],
    )
