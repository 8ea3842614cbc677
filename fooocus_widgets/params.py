"""From what the user set to what the engine runs: `plan_generation` turns a `PanelState` into a
`GenerationPlan` (steps, size, seeds, prompt pieces, files to load, the input image to vary),
checking everything up front.

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
from typing import TYPE_CHECKING, Any, Protocol

from .errors import GenerationInputError
from .folders import PICKLE_SUFFIXES, ModelFolders
from .state import INPUT_IMAGE_MODES, MAX_SEED, MAX_SIDE, MEMORY_MODES, MIN_SIDE, SIZE_MULTIPLE, PanelState
from .styles import StyleLibrary, styled_prompts

if TYPE_CHECKING:
    from PIL import Image

    from .input_images import InputImage

__all__ = [
    "PERFORMANCE_PRESETS",
    "GenerationInputError",
    "VARY_DENOISE",
    "GenerationPlan",
    "InputImagePlan",
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

#: Fooocus's denoising strength of each Vary mode: how far from the input image the result may go.
VARY_DENOISE: dict[str, float] = {"Vary (Subtle)": 0.5, "Vary (Strong)": 0.85}

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
class InputImagePlan:
    """The input image a plan starts from (Vary): image-to-image instead of pure noise."""

    mode: str
    """One of `VARY_DENOISE`'s modes."""
    denoise: float
    """Denoising strength: 0 keeps the input, 1 ignores it."""
    sha256: str
    """The input's content hash (see `input_images.InputImage.sha256`)."""
    image: Image.Image = field(compare=False, repr=False)
    """The input as RGB, already at the plan's width x height."""
    source_size: tuple[int, int] = (0, 0)
    """(width, height) of the input before it was sized for the run."""


class _ImageSource(Protocol):
    def get(self, digest: str) -> bytes | None: ...


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
    input_image: InputImagePlan | None = None
    """The image a Vary starts from; None for plain text-to-image."""

    @property
    def image_number(self) -> int:
        """How many images the plan makes."""
        return len(self.seeds)

    def parameters(self, seed: int) -> dict[str, object]:
        """The parameters of one image, as embedded in the saved file and shown to users."""
        parameters: dict[str, object] = {
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
        if self.input_image is not None:
            parameters["input_image"] = {
                "mode": self.input_image.mode,
                "denoise": self.input_image.denoise,
                "sha256": self.input_image.sha256,
                "source_size": list(self.input_image.source_size),
            }
        return parameters


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
    input_image: InputImage | Image.Image | str | Path | bytes | None = None,
    images: _ImageSource | None = None,
) -> GenerationPlan:
    """Resolve `state` into a checked `GenerationPlan`.

    `width`/`height` override the aspect ratio and `steps` the performance's step count (both as
    the Python API allows). A random seed is drawn when `state.random_seed` is on; `seeds` gives
    the exact seeds instead (resuming an interrupted batch).

    When `state.input_image` is on, the plan varies an input image: `input_image` (an opened
    `InputImage`, a PIL image, a path or file bytes), else the image whose hash the state holds,
    read from `images` (an `ImageStore`). Its size then follows the input (Fooocus's sizing, see
    `input_images.vary_size`), not the aspect ratio; `width` and `height`, given together, run it
    at exactly that size instead. Only the Vary modes run for now; the Upscale modes are refused.
    """
    vary = _plan_input_image(state, input_image, images, width, height)
    if vary is not None:
        w, h = vary.image.size
    else:
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
        input_image=vary,
    )


def _plan_input_image(
    state: PanelState,
    given: Any,
    images: _ImageSource | None,
    width: int | None,
    height: int | None,
) -> InputImagePlan | None:
    """The checked input image of a plan (None when the input image is off)."""
    settings = state.input_image
    if not settings.enabled:
        if given is not None:
            raise GenerationInputError(
                "An input image was given, but the input image is switched off (input_image.enabled); "
                "switch it on to vary the image, or leave the image out."
            )
        return None
    mode = settings.mode
    if mode not in INPUT_IMAGE_MODES:
        raise GenerationInputError(
            f"Input image mode {mode!r} is not known; allowed: {', '.join(INPUT_IMAGE_MODES)}."
        )
    if mode not in VARY_DENOISE:
        raise GenerationInputError(
            f"{mode} is not available yet; allowed for now: {' or '.join(VARY_DENOISE)}. "
            "Nothing was generated."
        )
    from .input_images import InputImage, open_input_image, prepare_for_vary

    if given is None:
        digest = settings.image
        if not digest:
            raise GenerationInputError(
                f"{mode} needs an input image and none is set; add one, or switch the input image off."
            )
        data = images.get(digest) if images is not None else None
        if data is None:
            raise GenerationInputError(
                f"The input image {digest[:12]}... was not found in the image store; add the image again."
            )
        source = open_input_image(data, name=f"{digest[:12]}...")
    else:
        source = given if isinstance(given, InputImage) else open_input_image(given)
        if settings.image and settings.image != source.sha256:
            raise GenerationInputError(
                f"The input image given (sha256 {source.sha256[:12]}...) is not the one the settings name "
                f"({settings.image[:12]}...); give the same image or clear input_image.image."
            )
    if (width is None) != (height is None):
        raise GenerationInputError(
            "With an input image, give both width and height (to run at exactly that size) or neither "
            "(the size then follows the input image, as in Fooocus)."
        )
    size = None
    if width is not None and height is not None:
        check_size(width, height)
        size = (width, height)
    prepared = prepare_for_vary(source.image, size)
    return InputImagePlan(mode, VARY_DENOISE[mode], source.sha256, prepared, source.size)
