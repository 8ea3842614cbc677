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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import checks
from .checks import (
    Choice,
    ContentHash,
    Flag,
    Instance,
    Items,
    Name,
    Number,
    Size,
    Slots,
    Text,
    Whole,
    check,
    parse_size,
)

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
    "field_check",
    "parse_size",
    "plain_value",
    "schema",
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

#: Sizes (sides in pixels) a state may hold: multiples of 8, as the VAE needs.
SIZE_MULTIPLE = 8
#: Numeric settings: (lowest, highest, the step the page's inputs offer).
GUIDANCE_RANGE = (1.0, 30.0, 0.1)
SHARPNESS_RANGE = (0.0, 30.0, 0.1)
LORA_WEIGHT_RANGE = (-2.0, 2.0, 0.01)
CLIP_SKIP_RANGE = (1, 12)


class StateError(ValueError):
    """A panel state could not be read or built."""


class StateFormatError(StateError):
    """The text is not a panel state document at all (not JSON, not an object)."""


class StateValidationError(checks.StateValidationError, StateError):
    """One field holds a value that is not allowed (see `checks.StateValidationError`)."""


def _validate(record: Any, where: str) -> None:
    """Run every field's declared check on a frozen record, storing the normalised values."""
    try:
        for f in dataclasses.fields(record):
            if f.name == "extras":
                value = checks.check_extras(f"{where}extras", record.extras, record._field_names())
            else:
                value = f.metadata["check"](f"{where}{f.name}", getattr(record, f.name))
            object.__setattr__(record, f.name, value)
    except checks.StateValidationError as exc:
        if isinstance(exc, StateValidationError):
            raise
        raise StateValidationError(exc.field, exc.value, exc.allowed, exc.problem) from None


class _Record:
    """Shared plumbing of the state's dataclasses: checked fields, known fields plus kept `extras`."""

    extras: Mapping[str, Any]
    #: Prefix of this record's fields in error messages ("lora." -> "lora.weight").
    _where: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _validate(self, self._where)

    @classmethod
    def _field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls) if f.name != "extras")  # type: ignore[arg-type]

    @classmethod
    def _split_known(cls, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        names = cls._field_names()
        known = {k: v for k, v in data.items() if k in names}
        extras = {k: v for k, v in data.items() if k not in names}
        return known, extras

    @classmethod
    def describe_fields(cls) -> dict[str, Any]:
        """Each field's limits and default, as JSON for the front end (see `schema()`)."""
        default = cls()
        return {
            f.name: {**f.metadata["check"].describe(), "default": plain_value(getattr(default, f.name))}
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.name != "extras"
        }

    def _to_plain(self) -> dict[str, Any]:
        plain = {
            f.name: plain_value(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if f.name != "extras"
        }
        return {**plain, **self.extras}

    def __hash__(self) -> int:
        return hash(json.dumps(self._to_plain(), sort_keys=True))


def plain_value(value: Any) -> Any:
    """A field's value as plain JSON-ready Python values (records -> dicts, tuples -> lists)."""
    if isinstance(value, _Record):
        return value._to_plain()
    if isinstance(value, tuple):
        return [plain_value(v) for v in value]
    return value


@dataclass(frozen=True, eq=True)
class LoraSlot(_Record):
    """One of the panel's LoRA slots."""

    enabled: bool = field(default=True, metadata=check(Flag()))
    """Whether the LoRA in this slot is applied."""
    file: str = field(default="", metadata=check(Name(MAX_NAME)))
    """The LoRA's file name, relative to the loras folder; "" leaves the slot empty."""
    weight: float = field(default=1.0, metadata=check(Number(*LORA_WEIGHT_RANGE)))
    """How strongly the LoRA applies."""
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Keys of the slot that this version of the schema does not know; kept and written back."""

    _where: ClassVar[str] = "lora."

    @classmethod
    def from_dict(cls, data: Any, where: str = "lora") -> LoraSlot:
        """Build a slot from a decoded JSON object; errors name the slot as `where`."""
        if not isinstance(data, Mapping):
            raise StateValidationError(where, data, "an object with enabled, file and weight")
        known, extras = cls._split_known(data)
        try:
            return cls(**known, extras=extras)
        except StateValidationError as exc:
            moved = exc.moved(where, "lora")
            raise StateValidationError(moved.field, moved.value, moved.allowed, moved.problem) from None

    __hash__ = _Record.__hash__


@dataclass(frozen=True, eq=True)
class InputImageSettings(_Record):
    """The input-image tab: vary or upscale a picture the user supplies."""

    enabled: bool = field(default=False, metadata=check(Flag()))
    """Whether Generate starts from the input image instead of pure noise."""
    mode: str = field(default=INPUT_IMAGE_MODES[0], metadata=check(Choice(INPUT_IMAGE_MODES)))
    """What is done with it: one of `INPUT_IMAGE_MODES`."""
    image: str = field(default="", metadata=check(ContentHash(optional=True)))
    """Content hash of the input image in the image store; "" when none is set."""
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Keys of the input-image settings that this version does not know; kept and written back."""

    _where: ClassVar[str] = "input_image."

    @classmethod
    def from_dict(cls, data: Any) -> InputImageSettings:
        """Build the settings from a decoded JSON object."""
        if not isinstance(data, Mapping):
            raise StateValidationError("input_image", data, "an object with enabled, mode and image")
        known, extras = cls._split_known(data)
        return cls(**known, extras=extras)

    __hash__ = _Record.__hash__


def _default_loras() -> tuple[LoraSlot, ...]:
    return tuple(LoraSlot() for _ in range(LORA_SLOTS))


@dataclass(frozen=True, eq=True)
class PanelState(_Record):
    """Everything a user set on a panel, validated. Build changed copies with `replace()`.

    Each field declares its check beside it; `schema()` sends the same limits to the page.
    """

    prompt: str = field(default="", metadata=check(Text(MAX_TEXT)))
    """What to generate. Empty is allowed (the styles alone then make the prompt)."""
    negative_prompt: str = field(default="", metadata=check(Text(MAX_TEXT)))
    """What to keep out of the image; the styles' negatives are appended to it."""
    styles: tuple[str, ...] = field(
        default=("Enhance", "Sharp"),
        metadata=check(Items(Name(MAX_NAME, required=True), MAX_STYLES, unique=True)),
    )
    """Names of the selected styles, in the order they apply."""
    performance: str = field(default="Speed", metadata=check(Choice(PERFORMANCES)))
    """Speed/quality preset: one of `PERFORMANCES` (Quality 60 steps, Speed 30, Extreme Speed 8,
    Lightning 4, Hyper-SD 4)."""
    aspect_ratio: str = field(
        default="1152*896", metadata=check(Size(MIN_SIDE, MAX_SIDE, SIZE_MULTIPLE, SDXL_ASPECT_RATIOS))
    )
    """Output size as "width*height"; the panel offers `SDXL_ASPECT_RATIOS`."""
    image_number: int = field(default=2, metadata=check(Whole(1, MAX_IMAGE_NUMBER)))
    """How many images one Generate makes."""
    seed: int = field(default=0, metadata=check(Whole(0, MAX_SEED)))
    """Seed of the first image of a batch (image i uses seed + i) when `random_seed` is off."""
    random_seed: bool = field(default=True, metadata=check(Flag()))
    """Draw a fresh seed at every Generate."""
    output_format: str = field(default="png", metadata=check(Choice(OUTPUT_FORMATS)))
    """File format of saved results: one of `OUTPUT_FORMATS`."""
    base_model: str = field(default="", metadata=check(Name(MAX_NAME)))
    """The SDXL checkpoint: a file or folder name under the checkpoints folder, or a Hub id."""
    loras: tuple[LoraSlot, ...] = field(
        default_factory=_default_loras, metadata=check(Slots(LoraSlot, LORA_SLOTS))
    )
    """The LoRA slots."""
    guidance_scale: float = field(default=4.0, metadata=check(Number(*GUIDANCE_RANGE)))
    """Classifier-free guidance scale."""
    sharpness: float = field(default=2.0, metadata=check(Number(*SHARPNESS_RANGE)))
    """Fooocus's sharpness (kept for presets and metadata)."""
    sampler: str = field(default="DPM++ 2M SDE", metadata=check(Choice(SAMPLERS)))
    """Sampler: one of `SAMPLERS`."""
    scheduler: str = field(default="karras", metadata=check(Choice(SCHEDULERS)))
    """Noise schedule: one of `SCHEDULERS`."""
    clip_skip: int = field(default=2, metadata=check(Whole(*CLIP_SKIP_RANGE)))
    """CLIP skip as Fooocus counts it: 1 uses the last layer, 2 (default) the one before, ..."""
    memory_mode: str = field(default="auto", metadata=check(Choice(MEMORY_MODES)))
    """How the models use the GPU: one of `MEMORY_MODES`."""
    input_image: InputImageSettings = field(
        default_factory=InputImageSettings, metadata=check(Instance(InputImageSettings))
    )
    """The input-image settings."""
    last_results: tuple[str, ...] = field(default=(), metadata=check(Items(ContentHash(), MAX_IMAGE_NUMBER)))
    """Content hashes of the last batch's images, newest last."""
    extras: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Top-level keys this version of the schema does not know; kept and written back."""

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
        return {"schema_version": SCHEMA_VERSION, **super()._to_plain()}

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
            slots = known["loras"]
            if isinstance(slots, Sequence) and not isinstance(slots, (str, bytes)):
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

    __hash__ = _Record.__hash__


def field_check(name: str, record: type[_Record] = PanelState) -> checks.Check:
    """The check declared beside a field (what validates it and what the page is told)."""
    for f in dataclasses.fields(record):  # type: ignore[arg-type]
        if f.name == name:
            return f.metadata["check"]  # type: ignore[no-any-return]
    raise KeyError(f"{record.__name__} has no field {name!r}")


def schema() -> dict[str, Any]:
    """What the page needs to build its inputs: each field's kind, limits, step, choices and
    default, from the checks declared beside the fields. Sent once in the panel's `schema` trait.
    """
    return {"schema_version": SCHEMA_VERSION, "fields": PanelState.describe_fields()}


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
