"""Styles in Fooocus's JSON format: named prompt templates that wrap the user's prompt.

A style file is a JSON list of ``{"name", "prompt", "negative_prompt"}``; ``{prompt}`` in a
style's prompt marks where the user's prompt goes, and the style's negative is added to the
user's negative. The package ships a starter set; every ``*.json`` in the user's styles folder is
loaded after it (a style with the same name replaces the shipped one). No torch here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BUILTIN_STYLES_DIR", "Style", "StyleLibrary", "load_styles", "styled_prompts"]

BUILTIN_STYLES_DIR = Path(__file__).parent / "data" / "styles"
PLACEHOLDER = "{prompt}"


@dataclass(frozen=True)
class Style:
    """One named style."""

    name: str
    """The name shown in the style picker."""
    prompt: str
    """The positive template; ``{prompt}`` is replaced by the user's prompt."""
    negative_prompt: str
    """Added to the user's negative prompt."""
    source: str = ""
    """The file it came from."""


@dataclass(frozen=True)
class StyleLibrary:
    """All styles found, by name, plus what could not be read (shown to the user, never raised)."""

    styles: dict[str, Style] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Style names, sorted case-insensitively."""
        return sorted(self.styles, key=str.casefold)

    def resolve(self, names: Iterable[str]) -> tuple[list[Style], list[str]]:
        """The styles for `names`, in order, and the names that are not known."""
        found = [self.styles[n] for n in names if n in self.styles]
        missing = [n for n in names if n not in self.styles]
        return found, missing


def _read_style_file(path: Path) -> tuple[list[Style], list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [], [f"{path.name}: not readable as JSON ({exc})"]
    if not isinstance(data, list):
        return [], [f"{path.name}: expected a list of styles, found {type(data).__name__}"]
    styles: list[Style] = []
    problems: list[str] = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            problems.append(f"{path.name}: entry {i} has no name")
            continue
        prompt, negative = entry.get("prompt", ""), entry.get("negative_prompt", "")
        if not isinstance(prompt, str) or not isinstance(negative, str):
            problems.append(f"{path.name}: style {entry['name']!r} has a prompt that is not text")
            continue
        styles.append(Style(entry["name"].strip(), prompt, negative, str(path)))
    return styles, problems


def load_styles(folders: Sequence[Path | None] = ()) -> StyleLibrary:
    """The shipped styles, then every ``*.json`` in `folders` (later ones win on equal names)."""
    styles: dict[str, Style] = {}
    problems: list[str] = []
    for folder in (BUILTIN_STYLES_DIR, *folders):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            found, bad = _read_style_file(path)
            problems.extend(bad)
            styles.update((s.name, s) for s in found)
    return StyleLibrary(styles, tuple(problems))


def _join(*parts: str) -> str:
    return ", ".join(p.strip().strip(",").strip() for p in parts if p and p.strip())


def styled_prompts(prompt: str, negative_prompt: str, styles: Sequence[Style]) -> tuple[list[str], list[str]]:
    """The positive and negative prompt pieces that Generate encodes, Fooocus's way.

    Each style gives one positive piece (its template around the user's prompt). When no style
    has a ``{prompt}`` placeholder, the user's prompt comes first as a piece of its own. Each
    piece is encoded separately and the results are joined, so long styled prompts are not cut
    at CLIP's 77 tokens.
    """
    positive: list[str] = []
    negative: list[str] = [negative_prompt] if negative_prompt.strip() else []
    placed = False
    for style in styles:
        if PLACEHOLDER in style.prompt:
            placed = True
            positive.append(style.prompt.replace(PLACEHOLDER, prompt.strip()).strip())
        elif style.prompt.strip():
            positive.append(style.prompt.strip())
        if style.negative_prompt.strip():
            negative.append(style.negative_prompt.strip())
    if not placed:
        positive.insert(0, prompt.strip())
    positive = [_join(p) if p.strip() else "" for p in positive]
    return [p for p in positive if p] or [""], [n.strip() for n in negative if n.strip()]
