"""From what the user set to what the engine runs: `plan_generation` turns a `PanelState` into a
`GenerationPlan` (steps, size, seeds, prompt pieces, files to load), checking everything up front.

Every problem a user can fix (a missing model, a pickle file, a missing performance LoRA, a size
that is not a multiple of 8) is a `GenerationInputError` whose message says what is wrong and
what to do. No torch here: a plan is made in microseconds, before anything heavy loads.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GenerationInputError
from .folders import PICKLE_SUFFIXES, ModelFolders
from .state import MAX_SEED, MAX_SIDE, MEMORY_MODES, MIN_SIDE, SIZE_MULTIPLE, PanelState
from .styles import StyleLibrary, styled_prompts

__all__ = [
    "PERFORMANCE_PRESETS",
    "GenerationInputError",
    "GenerationPlan",
    "LoraRef",
    "ModelRef",
    "PerformancePreset",
    "plan_generation",
]


@dataclass(frozen=True)
class PerformancePreset:
    """What a performance setting means."""

    steps: int
    lora_file: str = ""
    """A LoRA the mode needs in the loras folder ("" for none)."""
    lora_weight: float = 1.0
    sampler: str = ""
    """The sampler the mode forces ("" keeps the user's)."""
    scheduler: str = ""
    guidance_scale: float | None = None
    """The guidance the mode forces (few-step modes run without classifier-free guidance)."""


#: Fooocus's performance modes. The few-step modes use Fooocus's LoRA file names.
PERFORMANCE_PRESETS: dict[str, PerformancePreset] = {
    "Quality": PerformancePreset(steps=60),
    "Speed": PerformancePreset(steps=30),
    "Extreme Speed": PerformancePreset(
        steps=8, lora_file="sdxl_lcm_lora.safetensors", sampler="LCM", scheduler="normal", guidance_scale=1.0
    ),
    "Lightning": PerformancePreset(
        steps=4,
        lora_file="sdxl_lightning_4step_lora.safetensors",
        sampler="Euler",
        scheduler="sgm_uniform",
        guidance_scale=1.0,
    ),
    "Hyper-SD": PerformancePreset(
        steps=4,
        lora_file="sdxl_hyper_sd_4step_lora.safetensors",
        lora_weight=0.8,
        sampler="Euler",
        scheduler="sgm_uniform",
        guidance_scale=1.0,
    ),
}

#: The most steps `generate(steps=...)` may ask for.
MAX_STEPS = 200

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


@dataclass(frozen=True)
class ModelRef:
    """A base model to load: a single file, a diffusers folder, or a Hub id."""

    name: str
    """As the user wrote it (the panel's dropdown value)."""
    path: Path | None
    """The file or folder; None for a Hub id."""
    kind: str
    """"single_file", "diffusers_folder" or "hub"."""


@dataclass(frozen=True)
class LoraRef:
    """A LoRA file and the weight it applies with."""

    name: str
    path: Path
    weight: float


@dataclass(frozen=True)
class GenerationPlan:
    """Everything one Generate does, resolved and checked."""

    prompt: str
    negative_prompt: str
    styles: tuple[str, ...]
    positive_pieces: tuple[str, ...]
    """Prompt pieces encoded separately and joined (see `styles.styled_prompts`)."""
    negative_pieces: tuple[str, ...]
    performance: str
    steps: int
    width: int
    height: int
    seeds: tuple[int, ...]
    """One per image: the batch's first seed plus the image's index."""
    guidance_scale: float
    sampler: str
    scheduler: str
    clip_skip: int
    model: ModelRef
    loras: tuple[LoraRef, ...]
    output_format: str
    memory_mode: str = MEMORY_MODES[0]
    warnings: tuple[str, ...] = field(default=())

    @property
    def image_number(self) -> int:
        """How many images the plan makes."""
        return len(self.seeds)

    def parameters(self, seed: int) -> dict[str, object]:
        """The parameters of one image, as embedded in the saved file and shown to users."""
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "styles": list(self.styles),
            "full_prompt": list(self.positive_pieces),
            "full_negative_prompt": list(self.negative_pieces),
            "performance": self.performance,
            "steps": self.steps,
            "width": self.width,
            "height": self.height,
            "seed": seed,
            "guidance_scale": self.guidance_scale,
            "sampler": self.sampler,
            "scheduler": self.scheduler,
            "clip_skip": self.clip_skip,
            "base_model": self.model.name,
            "loras": [{"file": lora.name, "weight": lora.weight} for lora in self.loras],
        }


def check_size(width: int, height: int) -> None:
    """Width and height must be multiples of `SIZE_MULTIPLE` within the supported range."""
    for name, side in (("width", width), ("height", height)):
        if (
            isinstance(side, bool)
            or not isinstance(side, int)
            or side % SIZE_MULTIPLE
            or not MIN_SIDE <= side <= MAX_SIDE
        ):
            raise GenerationInputError(
                f"{name} {side!r} is not allowed; allowed: multiples of {SIZE_MULTIPLE} "
                f"from {MIN_SIDE} to {MAX_SIDE}."
            )


def resolve_model(name: str, folders: ModelFolders) -> ModelRef:
    """Find the base model the user picked, or say exactly why it cannot be used."""
    if not name.strip():
        raise GenerationInputError("No base model is selected. " + folders.help_text())
    suffix = Path(name).suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise GenerationInputError(
            f"{name} is a pickle file ({suffix}); pickle files can run arbitrary code when loaded, so they "
            "are never opened. Use a .safetensors version of this model."
        )
    candidates: list[Path] = []
    with contextlib.suppress(ValueError):  # a name that leaves the folder may still be a path of its own
        candidates.append(folders.inside(folders.checkpoints, name))
    direct = Path(name).expanduser()
    if direct.is_absolute() or direct.exists():
        candidates.append(direct)  # a path to a file or folder elsewhere (safetensors run no code)
    for path in candidates:
        if path.is_file():
            if path.suffix.lower() != ".safetensors":
                raise GenerationInputError(
                    f"{name} is not a .safetensors file; "
                    "allowed: SDXL .safetensors checkpoints or diffusers folders."
                )
            return ModelRef(name, path, "single_file")
        if path.is_dir() and (path / "model_index.json").is_file():
            return ModelRef(name, path, "diffusers_folder")
    if _HUB_ID.fullmatch(name) and not name.endswith(".safetensors"):
        return ModelRef(name, None, "hub")
    raise GenerationInputError(
        f"Base model {name!r} was not found in {folders.checkpoints}. {folders.help_text()}"
    )


def _resolve_lora(name: str, weight: float, folders: ModelFolders) -> LoraRef:
    if Path(name).suffix.lower() in PICKLE_SUFFIXES:
        raise GenerationInputError(
            f"LoRA {name} is a pickle file; pickle files can run code when loaded and are never opened. "
            "Use a .safetensors version."
        )
    try:
        path = folders.inside(folders.loras, name)
    except ValueError as exc:
        raise GenerationInputError(str(exc)) from None
    if not path.is_file():
        raise GenerationInputError(f"LoRA {name!r} was not found in {folders.loras}.")
    return LoraRef(name, path, weight)


def plan_generation(
    state: PanelState,
    *,
    folders: ModelFolders,
    styles: StyleLibrary,
    width: int | None = None,
    height: int | None = None,
    steps: int | None = None,
    seeds: Sequence[int] | None = None,
    rng: random.Random | None = None,
) -> GenerationPlan:
    """Resolve `state` into a checked `GenerationPlan`.

    `width`/`height` override the aspect ratio and `steps` the performance's step count (both as
    the Python API allows). A random seed is drawn when `state.random_seed` is on; `seeds` gives
    the exact seeds instead (resuming an interrupted batch).
    """
    w, h = (width or state.width), (height or state.height)
    check_size(w, h)
    preset = PERFORMANCE_PRESETS[state.performance]
    if steps is not None and (
        isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS
    ):
        raise GenerationInputError(
            f"steps {steps!r} is not allowed; allowed: whole numbers from 1 to {MAX_STEPS}."
        )
    model = resolve_model(state.base_model, folders)

    loras: list[LoraRef] = []
    if preset.lora_file:
        path = folders.loras / preset.lora_file
        if not path.is_file():
            raise GenerationInputError(
                f"{state.performance} needs the LoRA file {preset.lora_file}: put it in {folders.loras} "
                "(or choose Speed or Quality)."
            )
        loras.append(LoraRef(preset.lora_file, path, preset.lora_weight))
    for slot in state.loras:
        if slot.enabled and slot.file and slot.weight != 0:
            loras.append(_resolve_lora(slot.file, slot.weight, folders))
    seen: set[Path] = set()
    for lora in loras:
        if lora.path in seen:
            raise GenerationInputError(f"LoRA {lora.name} is used twice; allowed: each file in one slot.")
        seen.add(lora.path)

    found, missing = styles.resolve(state.styles)
    warnings = [f"Style {name!r} was not found and is left out." for name in missing]
    positive, negative = styled_prompts(state.prompt, state.negative_prompt, found)

    if seeds is not None:
        if not seeds or any(
            isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED for s in seeds
        ):
            raise GenerationInputError(
                f"seeds {list(seeds)!r} are not allowed; allowed: whole numbers 0 to {MAX_SEED}."
            )
        batch = tuple(seeds)
    else:
        first_seed = (rng or random.SystemRandom()).randint(0, MAX_SEED) if state.random_seed else state.seed
        batch = tuple((first_seed + i) % (MAX_SEED + 1) for i in range(state.image_number))
    sampler = preset.sampler or state.sampler
    scheduler = preset.scheduler or state.scheduler
    return GenerationPlan(
        prompt=state.prompt,
        negative_prompt=state.negative_prompt,
        styles=tuple(s.name for s in found),
        positive_pieces=tuple(positive),
        negative_pieces=tuple(negative),
        performance=state.performance,
        steps=steps or preset.steps,
        width=w,
        height=h,
        seeds=batch,
        guidance_scale=preset.guidance_scale if preset.guidance_scale is not None else state.guidance_scale,
        sampler=sampler,
        scheduler=scheduler,
        clip_skip=state.clip_skip,
        model=model,
        loras=tuple(loras),
        output_format=state.output_format,
        memory_mode=state.memory_mode,
        warnings=tuple(warnings),
    )
