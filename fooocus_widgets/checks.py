"""Field checks as values: each knows how to validate a field and how to describe its limits.

A `PanelState` field declares its check beside itself (``field(metadata=check(Whole(1, 32)))``).
The same object then does two jobs, so the two can never disagree:

- ``check(where, value)`` validates a value and returns it normalised (list -> tuple,
  int -> float), or raises `StateValidationError` naming the field, the value and what is allowed;
- ``check.describe()`` is the JSON the front end receives in the panel's ``schema`` trait, from
  which it takes every input's bounds, step and choices.

The checks carry no project numbers: the limits are written once, in `state.py`. No Jupyter, no
torch here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

__all__ = [
    "JS_SAFE_INTEGER",
    "Check",
    "Choice",
    "ContentHash",
    "Flag",
    "Instance",
    "Items",
    "Name",
    "Number",
    "Size",
    "Slots",
    "StateValidationError",
    "Text",
    "Whole",
    "check",
    "check_extras",
    "parse_size",
]

#: The largest integer a JavaScript number holds exactly; larger bounds travel as text.
JS_SAFE_INTEGER = 2**53 - 1

_HASH_RE = re.compile(r"[0-9a-f]{64}")
_SIZE_RE = re.compile(r"(\d{1,5})\*(\d{1,5})")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class StateValidationError(ValueError):
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

    def moved(self, prefix: str, inner: str) -> StateValidationError:
        """The same error with the field path's leading `inner` replaced by `prefix`."""
        name = prefix + self.field[len(inner) :] if self.field.startswith(inner) else self.field
        return StateValidationError(name, self.value, self.allowed, self.problem)


class Check(Protocol):
    """What every check does."""

    def __call__(self, where: str, value: Any) -> Any:
        """`value` normalised, or `StateValidationError` naming `where`."""

    def describe(self) -> dict[str, Any]:
        """The limits as JSON for the front end."""


def check(validator: Check) -> Mapping[str, Any]:
    """Field metadata holding `validator`: ``field(default=..., metadata=check(Whole(1, 32)))``."""
    return MappingProxyType({"check": validator})


def _json_int(n: int) -> int | str:
    """Integers beyond a JS number's exact range travel as decimal text."""
    return n if abs(n) <= JS_SAFE_INTEGER else str(n)


@dataclass(frozen=True)
class Text:
    """Any text up to `max_length` characters (prompts)."""

    max_length: int
    kind: ClassVar[str] = "text"

    def allowed(self) -> str:
        return f"text of at most {self.max_length} characters"

    def __call__(self, where: str, value: Any) -> str:
        if not isinstance(value, str):
            raise StateValidationError(where, value, self.allowed(), "is not text")
        if len(value) > self.max_length:
            raise StateValidationError(where, value, self.allowed(), "is too long")
        return value

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "max_length": self.max_length}


@dataclass(frozen=True)
class Name(Text):
    """A one-line name without control characters (files, styles, models); `required` forbids ""."""

    required: bool = False
    kind: ClassVar[str] = "name"

    def __call__(self, where: str, value: Any) -> str:
        text = super().__call__(where, value)
        if _CONTROL_RE.search(text) or "\n" in text or "\r" in text:
            raise StateValidationError(where, text, "one line of text without control characters")
        if self.required and not text:
            raise StateValidationError(where, text, "a non-empty name")
        return text

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "required": self.required}


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of strings."""

    choices: tuple[str, ...]

    def __call__(self, where: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise StateValidationError(where, value, "one of " + ", ".join(repr(c) for c in self.choices))
        return value

    def describe(self) -> dict[str, Any]:
        return {"kind": "choice", "choices": list(self.choices)}


@dataclass(frozen=True)
class Flag:
    """True or false."""

    def __call__(self, where: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise StateValidationError(where, value, "true or false", "is not a boolean")
        return value

    def describe(self) -> dict[str, Any]:
        return {"kind": "bool"}


@dataclass(frozen=True)
class Whole:
    """A whole number from `min` to `max`; bounds beyond 2**53 travel to the page as text."""

    min: int
    max: int

    def __call__(self, where: str, value: Any) -> int:
        allowed = f"whole numbers from {self.min} to {self.max}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise StateValidationError(where, value, allowed, "is not a whole number")
        if not self.min <= value <= self.max:
            raise StateValidationError(where, value, allowed, "is out of range")
        return value

    def describe(self) -> dict[str, Any]:
        big = max(abs(self.min), abs(self.max)) > JS_SAFE_INTEGER
        return {
            "kind": "int",
            "min": _json_int(self.min),
            "max": _json_int(self.max),
            "step": 1,
            "as_text": big,
        }


@dataclass(frozen=True)
class Number:
    """A finite number from `min` to `max`; `step` is the granularity the page's inputs offer."""

    min: float
    max: float
    step: float

    def __call__(self, where: str, value: Any) -> float:
        allowed = f"numbers from {self.min:g} to {self.max:g}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise StateValidationError(where, value, allowed, "is not a number")
        number = float(value)
        if not math.isfinite(number) or not self.min <= number <= self.max:
            raise StateValidationError(where, number, allowed, "is out of range")
        return number

    def describe(self) -> dict[str, Any]:
        return {"kind": "float", "min": self.min, "max": self.max, "step": self.step}


def parse_size(text: str) -> tuple[int, int]:
    """Split "width*height" into two ints (``"1152*896"`` -> ``(1152, 896)``)."""
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise ValueError(f"not a size of the form 'width*height': {text!r}")
    return int(m[1]), int(m[2])


@dataclass(frozen=True)
class Size:
    """A size "width*height" whose sides are multiples of `multiple` within bounds; `choices` are
    the sizes the page offers (others stay allowed, as from presets or code).
    """

    min_side: int
    max_side: int
    multiple: int
    choices: tuple[str, ...]

    def __call__(self, where: str, value: Any) -> str:
        allowed = (
            f"'width*height' with both sides multiples of {self.multiple} from {self.min_side} to "
            f"{self.max_side}, such as the SDXL sizes {self.choices[0]} ... {self.choices[-1]}"
        )
        if not isinstance(value, str):
            raise StateValidationError(where, value, allowed)
        try:
            w, h = parse_size(value)
        except ValueError:
            raise StateValidationError(where, value, allowed) from None
        if any(side % self.multiple or not self.min_side <= side <= self.max_side for side in (w, h)):
            raise StateValidationError(where, value, allowed)
        return f"{w}*{h}"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "size",
            "min_side": self.min_side,
            "max_side": self.max_side,
            "multiple": self.multiple,
            "choices": list(self.choices),
        }


@dataclass(frozen=True)
class ContentHash:
    """A sha256 content hash (64 lowercase hex digits); `optional` also accepts "" (none)."""

    optional: bool = False

    def __call__(self, where: str, value: Any) -> str:
        if self.optional and value == "":
            return ""
        if not isinstance(value, str) or not _HASH_RE.fullmatch(value):
            raise StateValidationError(where, value, "a sha256 content hash (64 lowercase hex digits)")
        return value

    def describe(self) -> dict[str, Any]:
        return {"kind": "hash", "optional": self.optional}


def _as_tuple(where: str, value: Any, max_items: int) -> tuple[Any, ...]:
    allowed = f"a list of at most {max_items} items"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise StateValidationError(where, value, allowed, "is not a list")
    if len(value) > max_items:
        raise StateValidationError(where, value, allowed, "is too long")
    return tuple(value)


@dataclass(frozen=True)
class Items:
    """A list (kept as a tuple) of at most `max_items` values, each passing `item`."""

    item: Check
    max_items: int
    unique: bool = False

    def __call__(self, where: str, value: Any) -> tuple[Any, ...]:
        values = tuple(
            self.item(f"{where}[{i}]", v) for i, v in enumerate(_as_tuple(where, value, self.max_items))
        )
        if self.unique and len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            raise StateValidationError(where, dup, "each item at most once", "is listed twice")
        return values

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "list",
            "max_items": self.max_items,
            "unique": self.unique,
            "item": self.item.describe(),
        }


class _Described(Protocol):
    """A record class whose fields carry checks (`state._Record`)."""

    @classmethod
    def describe_fields(cls) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Instance:
    """A nested record: an instance of `cls` (already validated by its own checks)."""

    cls: type[Any]

    def __call__(self, where: str, value: Any) -> Any:
        if not isinstance(value, self.cls):
            raise StateValidationError(where, value, f"a {self.cls.__name__}")
        return value

    def describe(self) -> dict[str, Any]:
        described: type[_Described] = self.cls
        return {"kind": "record", "fields": described.describe_fields()}


@dataclass(frozen=True)
class Slots:
    """Exactly `count` slots of record `cls`; fewer given are padded with default slots."""

    cls: type[Any]
    count: int

    def __call__(self, where: str, value: Any) -> tuple[Any, ...]:
        slots = _as_tuple(where, value, self.count)
        for i, slot in enumerate(slots):
            Instance(self.cls)(f"{where}[{i}]", slot)
        return slots + tuple(self.cls() for _ in range(self.count - len(slots)))

    def describe(self) -> dict[str, Any]:
        return {"kind": "slots", "count": self.count, "item": Instance(self.cls).describe()}


def check_extras(where: str, value: Any, known: frozenset[str]) -> Mapping[str, Any]:
    """Keys a newer schema wrote: JSON values, deep-copied, never shadowing a field."""
    if not isinstance(value, Mapping):
        raise StateValidationError(where, value, "a mapping of extra JSON values", "is not a mapping")
    clash = sorted(k for k in value if k in known or not isinstance(k, str))
    if clash:
        raise StateValidationError(where, clash, "keys that are not fields of the schema", "repeats fields")
    try:
        # a deep copy through JSON: extras must stay JSON and must not alias the caller's objects
        copied = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise StateValidationError(where, value, "JSON values", "is not JSON") from exc
    return MappingProxyType(copied)
