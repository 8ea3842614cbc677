"""Every message between the panel's page and the kernel, defined once.

Each kind is a frozen dataclass: its ``type`` (the ``"type"`` member on the wire), the direction
it travels, the binary buffers it carries and, for a request, the kind of its reply. The page's
TypeScript union (`js/src/common/messages.ts`) is generated from these classes by
``python -m fooocus_widgets.contract`` and a test keeps the two identical.

`parse_to_kernel` turns what the page sent into a message or raises `MessageError` saying what
was wrong (an unknown kind, a missing or extra field, a field of the wrong type): nothing the page
sends is silently ignored.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal, TypeVar

__all__ = [
    "TO_KERNEL",
    "TO_PAGE",
    "DiscardPending",
    "FreeMemory",
    "Generate",
    "ImageBytes",
    "ImageRequest",
    "LoadImage",
    "MeasureMemory",
    "Message",
    "MessageError",
    "Ping",
    "Pong",
    "Refresh",
    "Refreshed",
    "Refused",
    "Restore",
    "Resume",
    "Skip",
    "Stop",
    "parse_to_kernel",
]

Direction = Literal["to_kernel", "to_page"]
M = TypeVar("M", bound="Message")


class MessageError(ValueError):
    """A message from the page is not one the contract allows; the text says why."""

    def __init__(self, reason: str, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.request_id = request_id


@dataclass(frozen=True)
class Message:
    """Base of every message kind."""

    type: ClassVar[str]
    """The kind, as written in the message's ``type`` member."""
    direction: ClassVar[Direction]
    """"to_kernel" (sent by the page) or "to_page" (sent by the kernel)."""
    buffers: ClassVar[int] = 0
    """How many binary buffers travel with it (at most)."""
    reply: ClassVar[str] = ""
    """For a request: the `type` of the answer, which carries the same ``id``."""

    def to_wire(self) -> dict[str, Any]:
        """The JSON object sent over the widget's comm."""
        return {"type": self.type, **dataclasses.asdict(self)}


def _kind(
    direction: Direction, type_: str, *, reply: str = "", buffers: int = 0
) -> Callable[[type[M]], type[M]]:
    def declare(cls: type[M]) -> type[M]:
        cls.type, cls.direction, cls.reply, cls.buffers = type_, direction, reply, buffers
        return cls

    return declare


def to_kernel(type_: str, *, reply: str = "", buffers: int = 0) -> Callable[[type[M]], type[M]]:
    """Declare a message the page sends: its `type`, the `type` of its reply if it is a request,
    and how many binary buffers it may carry.
    """
    return _kind("to_kernel", type_, reply=reply, buffers=buffers)


def to_page(type_: str, *, buffers: int = 0) -> Callable[[type[M]], type[M]]:
    """Declare a message the kernel sends: its `type` and how many binary buffers it may carry."""
    return _kind("to_page", type_, buffers=buffers)


# ---- page -> kernel --------------------------------------------------------------------------


@to_kernel("ping", reply="pong")
@dataclass(frozen=True)
class Ping(Message):
    """Heartbeat: is the kernel there? Answered by `Pong`."""

    id: str


@to_kernel("restore")
@dataclass(frozen=True)
class Restore(Message):
    """The page kept edits the kernel has not seen (made while it was away): apply them."""

    revision: int
    changes: dict[str, Any]


@to_kernel("resume")
@dataclass(frozen=True)
class Resume(Message):
    """Make the images of an interrupted batch that were not finished, with their seeds."""


@to_kernel("discard-pending")
@dataclass(frozen=True)
class DiscardPending(Message):
    """Forget an interrupted batch."""


@to_kernel("free-memory")
@dataclass(frozen=True)
class FreeMemory(Message):
    """The "Free memory" button: unload models and give memory back."""


@to_kernel("memory")
@dataclass(frozen=True)
class MeasureMemory(Message):
    """Refresh the memory meter."""


@to_kernel("generate")
@dataclass(frozen=True)
class Generate(Message):
    """The Generate button."""


@to_kernel("stop")
@dataclass(frozen=True)
class Stop(Message):
    """The Stop button: end the batch after the current step."""


@to_kernel("skip")
@dataclass(frozen=True)
class Skip(Message):
    """The Skip button: drop the current image, go on with the next."""


@to_kernel("refresh", reply="refreshed")
@dataclass(frozen=True)
class Refresh(Message):
    """The Refresh button: look for models, LoRAs and styles again. Answered by `Refreshed`."""

    id: str


@to_kernel("image", reply="image-bytes")
@dataclass(frozen=True)
class ImageRequest(Message):
    """Ask for a stored image's full-size bytes by content hash. Answered by `ImageBytes`."""

    id: str
    hash: str


@to_kernel("load-image", buffers=1)
@dataclass(frozen=True)
class LoadImage(Message):
    """An image file the user dropped or picked (one buffer): restore the settings in it."""

    name: str


# ---- kernel -> page --------------------------------------------------------------------------


@to_page("pong")
@dataclass(frozen=True)
class Pong(Message):
    """The answer to `Ping`."""

    id: str


@to_page("refreshed")
@dataclass(frozen=True)
class Refreshed(Message):
    """The answer to `Refresh`: how many files of each kind were found."""

    id: str
    models: int
    loras: int
    styles: int


@to_page("image-bytes", buffers=1)
@dataclass(frozen=True)
class ImageBytes(Message):
    """The answer to `ImageRequest`: the image as one buffer, or ``found`` false."""

    id: str
    hash: str
    found: bool
    mime: str


@to_page("refused")
@dataclass(frozen=True)
class Refused(Message):
    """The kernel could not take a message (unknown kind, bad fields); ``id`` is the request's
    id when it had one, so the page's request fails at once instead of timing out.
    """

    id: str
    reason: str


ALL: tuple[type[Message], ...] = (
    Ping, Restore, Resume, DiscardPending, FreeMemory, MeasureMemory, Generate, Stop, Skip, Refresh,
    ImageRequest, LoadImage, Pong, Refreshed, ImageBytes, Refused,
)  # fmt: skip
TO_KERNEL: dict[str, type[Message]] = {m.type: m for m in ALL if m.direction == "to_kernel"}
TO_PAGE: dict[str, type[Message]] = {m.type: m for m in ALL if m.direction == "to_page"}

_JSON_TYPES: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    bool: (bool,),
    dict[str, Any]: (dict,),
}


_FIELD_TYPES: dict[type[Message], Mapping[str, Any]] = {}


def field_types(kind: type[Message]) -> Mapping[str, Any]:
    """A message kind's fields and their Python types, in declaration order (resolved once per
    kind: every heartbeat is parsed with it).
    """
    found = _FIELD_TYPES.get(kind)
    if found is None:
        hints = typing.get_type_hints(kind)
        found = _FIELD_TYPES[kind] = MappingProxyType(
            {f.name: hints[f.name] for f in dataclasses.fields(kind)}
        )
    return found


def _check_field(kind: type[Message], name: str, value: Any, expected: Any) -> None:
    allowed = _JSON_TYPES[expected]
    wrong_bool = bool not in allowed and isinstance(value, bool)
    if wrong_bool or not isinstance(value, allowed):
        raise MessageError(
            f"message {kind.type!r}: field {name!r} is {type(value).__name__}; allowed: {allowed[0].__name__}"
        )


def parse_to_kernel(content: Any, buffers: Sequence[bytes] = ()) -> Message:
    """The message the page sent, checked against the contract (raises `MessageError`)."""
    if not isinstance(content, Mapping):
        raise MessageError(f"a message must be a JSON object, not {type(content).__name__}")
    request_id = content.get("id") if isinstance(content.get("id"), str) else None
    kind_name = content.get("type")
    kind = TO_KERNEL.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        raise MessageError(
            f"unknown message kind {kind_name!r}; allowed: {', '.join(sorted(TO_KERNEL))}", request_id
        )
    types = field_types(kind)
    given = {k: v for k, v in content.items() if k != "type"}
    missing = [name for name in types if name not in given]
    extra = sorted(set(given) - set(types))
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(extra)}"] if extra else []
        )
        raise MessageError(f"message {kind.type!r}: {'; '.join(parts)}", request_id)
    try:
        for name, expected in types.items():
            _check_field(kind, name, given[name], expected)
    except MessageError as exc:
        raise MessageError(str(exc), request_id) from None
    if len(buffers) > kind.buffers:
        raise MessageError(f"message {kind.type!r} carries {len(buffers)} buffers; allowed: {kind.buffers}")
    return kind(**given)
