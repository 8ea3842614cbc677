"""The message contract: the page's TypeScript is generated from the kernel's Python and kept in
step; messages from the page are checked against it, and nothing breaks it silently.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from fooocus_widgets import contract, messages
from fooocus_widgets.messages import MessageError, parse_to_kernel

REPO = Path(__file__).resolve().parents[1]


def test_the_checked_in_typescript_is_what_the_python_side_generates() -> None:
    assert contract.check() == [], "run `python -m fooocus_widgets.contract` and commit the result"


def test_both_sides_list_the_same_kinds_and_fields() -> None:
    ts = (REPO / "js/src/common/messages.ts").read_text()
    for kind in messages.ALL:
        assert f"type: '{kind.type}';" in ts
        block = ts.split(f"export interface {kind.__name__}Message {{", 1)[1].split("}", 1)[0]
        fields = [line.strip().split(":")[0] for line in block.strip().splitlines()]
        assert fields == ["type", *messages.field_types(kind)]


def test_a_field_added_on_the_python_side_only_fails_the_check(tmp_path: Path) -> None:
    # a copy of the contract whose Ping gained a field that the checked-in TypeScript lacks
    @messages.to_kernel("ping", reply="pong")
    @dataclasses.dataclass(frozen=True)
    class Ping(messages.Message):
        """Heartbeat: is the kernel there? Answered by `Pong`."""

        id: str
        sent_at: int

    kinds = tuple(Ping if kind is messages.Ping else kind for kind in messages.ALL)
    generated = contract.messages_ts(kinds)
    checked_in = (REPO / "js/src/common/messages.ts").read_text()
    found = contract.diff(generated, checked_in, "messages.ts")
    assert "-  sent_at: number;" in found


def test_a_field_added_on_the_typescript_side_only_fails_the_check(tmp_path: Path) -> None:
    for rel in contract.GENERATED:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, tmp_path / rel)
    assert contract.check(tmp_path) == []
    copy = tmp_path / "js/src/common/messages.ts"
    copy.write_text(copy.read_text().replace("  hash: string;\n", "  hash: string;\n  width: number;\n", 1))
    problems = contract.check(tmp_path)
    assert len(problems) == 1
    assert "+  width: number;" in problems[0]


def test_the_command_line_check_fails_on_a_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract, "REPO", tmp_path)
    assert contract.main(["--check"]) == 1
    contract.main([])
    assert contract.main(["--check"]) == 0


def test_every_kind_to_the_kernel_parses_from_its_wire_form() -> None:
    samples = {
        "ping": {"id": "p1"},
        "restore": {"revision": 3, "changes": {"prompt": "x"}},
        "refresh": {"id": "r"},
        "image": {"id": "i", "hash": "a" * 64},
        "load-image": {"name": "x.png"},
    }
    for type_, kind in messages.TO_KERNEL.items():
        message = parse_to_kernel({"type": type_, **samples.get(type_, {})})
        assert isinstance(message, kind)
        assert message.to_wire() == {"type": type_, **samples.get(type_, {})}


@pytest.mark.parametrize(
    ("content", "reason", "request_id"),
    [
        ({"type": "explode"}, "unknown message kind 'explode'; allowed: discard-pending", None),
        ({"type": "explode", "id": "q1"}, "unknown message kind", "q1"),
        ({"id": 4}, "unknown message kind None", None),
        ([1, 2], "must be a JSON object", None),
        ({"type": "ping"}, "message 'ping': missing id", None),
        ({"type": "ping", "id": "p", "extra": 1}, "message 'ping': unknown extra", "p"),
        ({"type": "image", "id": "i", "hash": 5}, "field 'hash' is int; allowed: str", "i"),
        (
            {"type": "restore", "revision": True, "changes": {}},
            "field 'revision' is bool; allowed: int",
            None,
        ),
        ({"type": "restore", "revision": 1, "changes": []}, "field 'changes' is list; allowed: dict", None),
    ],
)
def test_messages_that_break_the_contract_are_refused_with_the_reason(
    content: object, reason: str, request_id: str | None
) -> None:
    with pytest.raises(MessageError, match=reason.replace("(", r"\(")) as info:
        parse_to_kernel(content)
    assert info.value.request_id == request_id


def test_too_many_buffers_are_refused() -> None:
    with pytest.raises(MessageError, match="carries 2 buffers; allowed: 1"):
        parse_to_kernel({"type": "load-image", "name": "x.png"}, [b"a", b"b"])
    with pytest.raises(MessageError, match="allowed: 0"):
        parse_to_kernel({"type": "generate"}, [b"a"])


def test_every_request_names_a_reply_that_travels_the_other_way_with_its_id() -> None:
    for kind in messages.TO_KERNEL.values():
        if kind.reply:
            reply = messages.TO_PAGE[kind.reply]
            assert "id" in messages.field_types(kind)
            assert "id" in messages.field_types(reply)
