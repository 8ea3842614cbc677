"""The panel's state: one versioned, validated, JSON-serialisable value.

`PanelState` is everything a user can set on a panel: the prompt, the style picks, the LoRA
stack, every advanced setting and the images the panel refers to (by content hash). It is what
the stores save, what the notebook metadata carries and what a fresh kernel rehydrates from, so:

- it is frozen and validated on construction: a bad value raises `StateValidationError`
  naming the field, the value and what is allowed;
- `to_json()` / `from_json()` round-trip exactly, and documents written by older versions of
  the schema are migrated forward (`MIGRATIONS`);
- keys this version does not know (written by a newer package) are kept in `extras` and written
  back, so an older package never drops what a newer one stored.

This module imports neither Jupyter nor torch: it must load in milliseconds in a fresh kernel.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "INPUT_IMAGE_MODES",
    "LORA_SLOTS",
    "MEMORY_MODES",
    "MIGRATIONS",
    "OUTPUT_FORMATS",
    "PERFORMANCES",
    "SAMPLERS",
    "SCHEDULERS",
    "SCHEMA_VERSION",
    "SDXL_ASPECT_RATIOS",
    "InputImageSettings",
    "LoraSlot",
    "PanelState",
    "StateError",
    "StateFormatError",
    "StateValidationError",
]

#: Version of the JSON layout written by `PanelState.to_json()`.
SCHEMA_VERSION = 1

PERFORMANCES = ("Quality", "Speed", "Extreme Speed", "Lightning", "Hyper-SD")
SAMPLERS = ("Euler", "Euler a", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "UniPC", "DDIM", "LCM")
#: How the sampler spaces its noise levels: the scheduler's default, Karras sigmas, or SGM uniform
#: (evenly spaced, "trailing"), which the few-step LoRAs expect.
SCHEDULERS = ("normal", "karras", "sgm_uniform")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
INPUT_IMAGE_MODES = ("Vary (Subtle)", "Vary (Strong)", "Upscale (1.5x)", "Upscale (2x)")
#: How models use the GPU: auto (normal, falling back to low VRAM after an out-of-memory error),
#: normal (all on the GPU), low VRAM (model CPU offload, tiled VAE), no VRAM (sequential offload).
MEMORY_MODES = ("auto", "normal", "low VRAM", "no VRAM")

#: The SDXL training resolutions (about one megapixel each), as "width*height".
SDXL_ASPECT_RATIOS = (
    "704*1408", "704*1344", "768*1344", "768*1280", "832*1216", "832*1152", "896*1152",
    "896*1088", "960*1088", "960*1024", "1024*1024", "1024*960", "1088*960", "1088*896",
    "1152*896", "1152*832", "1216*832", "1280*768", "1344*768", "1344*704", "1408*704",
    "1472*704", "1536*640", "1600*640", "1664*576", "1728*576",
)  # fmt: skip

LORA_SLOTS = 5
MAX_SEED = 2**63 - 1
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_IMAGE_NUMBER = 32
MAX_TEXT = 32_768
MAX_NAME = 1_024
MAX_STYLES = 512

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_SIZE_RE = re.compile(r"(\d{1,5})\*(\d{1,5})")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class StateError(ValueError):
    """A panel state could not be read or built."""


class StateFormatError(StateError):
    """The text is not a panel state document at all (not JSON, not an object)."""


class StateValidationError(StateError):
    """One field holds a value that is not allowed.

    `field` is the dotted path of the field (``loras[2].weight``), `value` the rejected value and
    `allowed` a short description of what would have been accepted.
    """

    def __init__(self, field: str, value: Any, allowed: str, problem: str = "is not allowed") -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.problem = problem
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: {shown} {problem}; allowed: {allowed}")


# --------------------------------------------------------------------------------------------
# Field checks. Each returns the value normalised (list -> tuple, int -> float) or raises.


def _check_text(name: str, value: Any, *, max_len: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise StateValidationError(name, value, f"text of at most {max_len} characters", "is not text")
    if len(value) > max_len:
        raise StateValidationError(name, value, f"text of at most {max_len} characters", "is too long")
    return value


def _check_name(name: str, value: Any) -> str:
    """A short single-line name: a file name, a style name, a model id."""
    text = _check_text(name, value, max_len=MAX_NAME)
    if _CONTROL_RE.search(text) or "\n" in text or "\r" in text:
        raise StateValidationError(name, text, "one line of text without control characters")
    return text


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise StateValidationError(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise StateValidationError(name, value, "true or false", "is not a boolean")
    return value


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    allowed = f"whole numbers from {lo} to {hi}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateValidationError(name, value, allowed, "is not a whole number")
    if not lo <= value <= hi:
        raise StateValidationError(name, value, allowed, "is out of range")
    return value


def _check_float(name: str, value: Any, lo: float, hi: float) -> float:
    allowed = f"numbers from {lo:g} to {hi:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StateValidationError(name, value, allowed, "is not a number")
    number = float(value)
    if not math.isfinite(number) or not lo <= number <= hi:
        raise StateValidationError(name, number, allowed, "is out of range")
    return number


def _check_hash(name: str, value: Any) -> str:
    if not isinstance(value, str) or not _HASH_RE.fullmatch(value):
        raise StateValidationError(name, value, "a sha256 content hash (64 lowercase hex digits)")
    return value


def _check_sequence(name: str, value: Any, max_len: int) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise StateValidationError(name, value, f"a list of at most {max_len} items", "is not a list")
    if len(value) > max_len:
        raise StateValidationError(name, value, f"a list of at most {max_len} items", "is too long")
    return tuple(value)


def _check_extras(name: str, value: Any, known: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StateValidationError(name, value, "a mapping of extra JSON values", "is not a mapping")
    clash = sorted(k for k in value if k in known or not isinstance(k, str))
    if clash:
        raise StateValidationError(name, clash, "keys that are not fields of the schema", "repeats fields")
    try:
        # a deep copy through JSON: extras must stay JSON and must not alias the caller's objects
        copied = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise StateValidationError(name, value, "JSON values", "is not JSON") from exc
    return MappingProxyType(copied)


def parse_size(text: str) -> tuple[int, int]:
    """Split an aspect ratio "width*height" into two ints (``"1152*896"`` -> ``(1152, 896)``)."""
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise ValueError(f"not a size of the form 'width*height': {text!r}")
    return int(m[1]), int(m[2])


def _check_aspect_ratio(name: str, value: Any) -> str:
    allowed = (
        f"'width*height' with both sides multiples of 8 from {MIN_SIDE} to {MAX_SIDE}, "
        f"such as the SDXL sizes {SDXL_ASPECT_RATIOS[0]} ... {SDXL_ASPECT_RATIOS[-1]}"
    )
    if not isinstance(value, str):
        raise StateValidationError(name, value, allowed)
    try:
        w, h = parse_size(value)
    except ValueError:
        raise StateValidationError(name, value, allowed) from None
    if any(side % 8 or not MIN_SIDE <= side <= MAX_SIDE for side in (w, h)):
        raise StateValidationError(name, value, allowed)
    return f"{w}*{h}"


# --------------------------------------------------------------------------------------------
# The schema.


class _Record:
    """Shared JSON plumbing of the state's dataclasses: known fields plus kept `extras`."""

    extras: Mapping[str, Any]

    @classmethod
    def _field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls) if f.name != "extras")  # type: ignore[arg-type]

    @classmethod
    def _split_known(cls, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        names = cls._field_names()
        known = {k: v for k, v in data.items() if k in names}
        extras = {k: v for k, v in data.items() if k not in names}
        return known, extras

    def __hash__(self) -> int:
        return hash(json.dumps(self._to_plain(), sort_keys=True))

    def _to_plain(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, eq=True)
class LoraSlot(_Record):
    """One of the panel's LoRA slots."""

    enabled: bool = True
    """Whether the LoRA in this slot is applied."""
    file: str = ""
    """The LoRA's file name, relative to the loras folder; "" leaves the slot empty."""
    weight: float = 1.0
    """How strongly the LoRA applies, from -2 to 2."""
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Keys of the slot that this version of the schema does not know; kept and written back."""

    def __post_init__(self) -> None:
        self._validate("lora")

    def _validate(self, where: str) -> None:
        object.__setattr__(self, "enabled", _check_bool(f"{where}.enabled", self.enabled))
        object.__setattr__(self, "file", _check_name(f"{where}.file", self.file))
        object.__setattr__(self, "weight", _check_float(f"{where}.weight", self.weight, -2.0, 2.0))
        object.__setattr__(self, "extras", _check_extras(f"{where}.extras", self.extras, self._field_names()))

    @classmethod
    def from_dict(cls, data: Any, where: str = "lora") -> LoraSlot:
        """Build a slot from a decoded JSON object; errors name the slot as `where`."""
        if not isinstance(data, Mapping):
            raise StateValidationError(where, data, "an object with enabled, file and weight")
        known, extras = cls._split_known(data)
        try:
            return cls(**known, extras=extras)
        except StateValidationError as exc:
            raise StateValidationError(
                exc.field.replace("lora", where, 1), exc.value, exc.allowed, exc.problem
            ) from None

    def _to_plain(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "file": self.file, "weight": self.weight, **self.extras}

    def __hash__(self) -> int:
        return _Record.__hash__(self)


@dataclass(frozen=True, eq=True)
class InputImageSettings(_Record):
    """The input-image tab: vary or upscale a picture the user supplies."""

    enabled: bool = False
    """Whether Generate starts from the input image instead of pure noise."""
    mode: str = "Vary (Subtle)"
    """What is done with it: one of `INPUT_IMAGE_MODES`."""
    image: str = ""
    """Content hash of the input image in the image store; "" when none is set."""
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Keys of the input-image settings that this version does not know; kept and written back."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "enabled", _check_bool("input_image.enabled", self.enabled))
        object.__setattr__(self, "mode", _check_choice("input_image.mode", self.mode, INPUT_IMAGE_MODES))
        if self.image:
            _check_hash("input_image.image", self.image)
        object.__setattr__(
            self, "extras", _check_extras("input_image.extras", self.extras, self._field_names())
        )

    @classmethod
    def from_dict(cls, data: Any) -> InputImageSettings:
        """Build the settings from a decoded JSON object."""
        if not isinstance(data, Mapping):
            raise StateValidationError("input_image", data, "an object with enabled, mode and image")
        known, extras = cls._split_known(data)
        return cls(**known, extras=extras)

    def _to_plain(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "mode": self.mode, "image": self.image, **self.extras}

    def __hash__(self) -> int:
        return _Record.__hash__(self)


def _default_loras() -> tuple[LoraSlot, ...]:
    return tuple(LoraSlot() for _ in range(LORA_SLOTS))


@dataclass(frozen=True, eq=True)
class PanelState(_Record):
    """Everything a user set on a panel, validated. Build changed copies with `replace()`."""

    prompt: str = ""
    """What to generate. Empty is allowed (the styles alone then make the prompt)."""
    negative_prompt: str = ""
    """What to keep out of the image; the styles' negatives are appended to it."""
    styles: tuple[str, ...] = ("Enhance", "Sharp")
    """Names of the selected styles, in the order they apply."""
    performance: str = "Speed"
    """Speed/quality preset: one of `PERFORMANCES` (Quality 60 steps, Speed 30, Extreme Speed 8,
    Lightning 4, Hyper-SD 4)."""
    aspect_ratio: str = "1152*896"
    """Output size as "width*height"; the panel offers `SDXL_ASPECT_RATIOS`."""
    image_number: int = 2
    """How many images one Generate makes, 1 to 32."""
    seed: int = 0
    """Seed of the first image of a batch (image i uses seed + i) when `random_seed` is off."""
    random_seed: bool = True
    """Draw a fresh seed at every Generate."""
    output_format: str = "png"
    """File format of saved results: one of `OUTPUT_FORMATS`."""
    base_model: str = ""
    """The SDXL checkpoint: a file or folder name under the checkpoints folder, or a Hub id."""
    loras: tuple[LoraSlot, ...] = field(default_factory=_default_loras)
    """The five LoRA slots."""
    guidance_scale: float = 4.0
    """Classifier-free guidance scale, 1 to 30."""
    sharpness: float = 2.0
    """Fooocus's sharpness, 0 to 30 (kept for presets and metadata)."""
    sampler: str = "DPM++ 2M SDE"
    """Sampler: one of `SAMPLERS`."""
    scheduler: str = "karras"
    """Noise schedule: one of `SCHEDULERS`."""
    clip_skip: int = 2
    """CLIP skip as Fooocus counts it: 1 uses the last layer, 2 (default) the one before, ..."""
    memory_mode: str = "auto"
    """How the models use the GPU: one of `MEMORY_MODES`."""
    input_image: InputImageSettings = field(default_factory=InputImageSettings)
    """The input-image settings."""
    last_results: tuple[str, ...] = ()
    """Content hashes of the last batch's images, newest last, at most 32."""
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Top-level keys this version of the schema does not know; kept and written back."""

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "prompt", _check_text("prompt", self.prompt))
        s(self, "negative_prompt", _check_text("negative_prompt", self.negative_prompt))
        styles = _check_sequence("styles", self.styles, MAX_STYLES)
        for i, name in enumerate(styles):
            if not _check_name(f"styles[{i}]", name):
                raise StateValidationError(f"styles[{i}]", name, "a non-empty style name")
        if len(set(styles)) != len(styles):
            dup = next(n for n in styles if styles.count(n) > 1)
            raise StateValidationError("styles", dup, "each style at most once", "is selected twice")
        s(self, "styles", styles)
        s(self, "performance", _check_choice("performance", self.performance, PERFORMANCES))
        s(self, "aspect_ratio", _check_aspect_ratio("aspect_ratio", self.aspect_ratio))
        s(self, "image_number", _check_int("image_number", self.image_number, 1, MAX_IMAGE_NUMBER))
        s(self, "seed", _check_int("seed", self.seed, 0, MAX_SEED))
        s(self, "random_seed", _check_bool("random_seed", self.random_seed))
        s(self, "output_format", _check_choice("output_format", self.output_format, OUTPUT_FORMATS))
        s(self, "base_model", _check_name("base_model", self.base_model))
        loras = _check_sequence("loras", self.loras, LORA_SLOTS)
        for i, slot in enumerate(loras):
            if not isinstance(slot, LoraSlot):
                raise StateValidationError(f"loras[{i}]", slot, "a LoraSlot")
        s(self, "loras", loras + tuple(LoraSlot() for _ in range(LORA_SLOTS - len(loras))))
        s(self, "guidance_scale", _check_float("guidance_scale", self.guidance_scale, 1.0, 30.0))
        s(self, "sharpness", _check_float("sharpness", self.sharpness, 0.0, 30.0))
        s(self, "sampler", _check_choice("sampler", self.sampler, SAMPLERS))
        s(self, "scheduler", _check_choice("scheduler", self.scheduler, SCHEDULERS))
        s(self, "clip_skip", _check_int("clip_skip", self.clip_skip, 1, 12))
        s(self, "memory_mode", _check_choice("memory_mode", self.memory_mode, MEMORY_MODES))
        if not isinstance(self.input_image, InputImageSettings):
            raise StateValidationError("input_image", self.input_image, "an InputImageSettings")
        results = _check_sequence("last_results", self.last_results, MAX_IMAGE_NUMBER)
        for i, h in enumerate(results):
            _check_hash(f"last_results[{i}]", h)
        s(self, "last_results", results)
        s(self, "extras", _check_extras("extras", self.extras, self._field_names()))

    # ---- sizes --------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """Output width in pixels, from `aspect_ratio`."""
        return parse_size(self.aspect_ratio)[0]

    @property
    def height(self) -> int:
        """Output height in pixels, from `aspect_ratio`."""
        return parse_size(self.aspect_ratio)[1]

    # ---- copies -------------------------------------------------------------------------

    def replace(self, **changes: Any) -> PanelState:
        """A copy with some fields changed, validated like a new state.

        Unknown field names raise `TypeError` naming them (no silent typos).
        """
        unknown = sorted(set(changes) - self._field_names() - {"extras"})
        if unknown:
            raise TypeError(f"PanelState has no field(s) {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)

    # ---- JSON ---------------------------------------------------------------------------

    def _to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            if f.name == "extras":
                continue
            value = getattr(self, f.name)
            if f.name == "loras":
                value = [slot._to_plain() for slot in value]
            elif f.name == "input_image":
                value = value._to_plain()
            elif isinstance(value, tuple):
                value = list(value)
            plain[f.name] = value
        plain.update(self.extras)
        return plain

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON-ready Python values, with `schema_version` first."""
        return self._to_plain()

    def to_json(self, *, indent: int | None = None) -> str:
        """The state as a JSON text (UTF-8 safe, non-ASCII kept as is)."""
        return json.dumps(self._to_plain(), ensure_ascii=False, indent=indent, allow_nan=False)

    def canonical_json(self) -> str:
        """JSON with sorted keys and no spaces: equal states give equal texts."""
        return json.dumps(
            self._to_plain(), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        )

    def digest(self) -> str:
        """sha256 of `canonical_json()`: a cheap way to tell whether two copies agree."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: Any) -> PanelState:
        """Build a state from a decoded JSON object of any schema version.

        Older versions are migrated forward; missing keys take their defaults; keys this
        version does not know are kept in `extras`.
        """
        if not isinstance(data, Mapping):
            raise StateFormatError(f"a panel state must be a JSON object, not {type(data).__name__}")
        doc = migrate(dict(data))
        doc.pop("schema_version", None)
        seed = doc.get("seed")
        if isinstance(seed, str) and seed.isdigit():
            doc["seed"] = int(seed)  # front ends write seeds as text: they exceed a JS number
        known, extras = cls._split_known(doc)
        if "loras" in known:
            slots = _check_sequence("loras", known["loras"], LORA_SLOTS)
            known["loras"] = tuple(LoraSlot.from_dict(d, f"loras[{i}]") for i, d in enumerate(slots))
        if "input_image" in known:
            known["input_image"] = InputImageSettings.from_dict(known["input_image"])
        return cls(**known, extras=extras)

    @classmethod
    def from_json(cls, text: str | bytes) -> PanelState:
        """Parse a JSON text written by `to_json()` (this or any other schema version)."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateFormatError(f"not a panel state: the text is not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def __hash__(self) -> int:
        return _Record.__hash__(self)


# --------------------------------------------------------------------------------------------
# Migrations: MIGRATIONS[v] turns a version-v document into a version-(v+1) one. Each step
# must use setdefault-style edits: keys a newer package already wrote stay as they are.


def _migrate_0_to_1(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0: documents without `schema_version` (hand-written files, early prototypes,
    Fooocus-like values). LoRAs may be ``[enabled, file, weight]`` or ``[file, weight]`` lists,
    sizes may use ``x`` or ``×``, and ``cfg_scale`` / ``styles`` as a single string occur.
    """
    out = dict(doc)
    loras = out.get("loras")
    if isinstance(loras, list):
        slots: list[Any] = []
        for entry in loras:
            if isinstance(entry, list) and len(entry) == 3:
                slots.append({"enabled": entry[0], "file": entry[1], "weight": entry[2]})
            elif isinstance(entry, list) and len(entry) == 2:
                slots.append({"enabled": True, "file": entry[0], "weight": entry[1]})
            else:
                slots.append(entry)
        out["loras"] = [
            {**s, "file": "" if s.get("file") == "None" else s.get("file", "")} if isinstance(s, dict) else s
            for s in slots
        ]
    ratio = out.get("aspect_ratio")
    if isinstance(ratio, str):
        out["aspect_ratio"] = re.sub(r"\s*[x×]\s*", "*", ratio.split(" ")[0] if "|" in ratio else ratio)
    if "cfg_scale" in out:
        out.setdefault("guidance_scale", out.pop("cfg_scale"))
    if isinstance(out.get("styles"), str):
        out["styles"] = [out["styles"]]
    return out


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0_to_1}


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """Bring a state document up to `SCHEMA_VERSION`. Newer documents are returned unchanged
    (their unknown keys end up in `extras`).
    """
    version = doc.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise StateValidationError("schema_version", version, f"a whole number, {SCHEMA_VERSION} or lower")
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["schema_version"] = version
    return doc
