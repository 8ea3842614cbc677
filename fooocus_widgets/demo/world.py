"""The demo models' synthetic world: one simple shape on a plain or gradient background.

Scenes are drawn with numpy (2x supersampled, so edges are anti-aliased) at any size; a shape
takes about a third of the picture's shorter side. Each scene has a caption in the demo's small
vocabulary (`VOCABULARY`), for example "a red circle on the left on a white background".
Palette "a" is the bright one model A learns, palette "b" the pastel one of model B.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

__all__ = [
    "COLOURS",
    "POSITIONS",
    "SHAPES",
    "VOCABULARY",
    "Scene",
    "caption",
    "fine_texture",
    "monochrome",
    "palette",
    "random_scene",
    "render",
]

#: Colour words and their RGB values in palette "a".
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (245, 220, 30),
    "green": (40, 170, 60),
    "blue": (30, 80, 220),
    "purple": (140, 50, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
SHAPES = ("circle", "square", "triangle", "stripes")
#: Position words -> (phrase in a caption, centre as fractions of width and height).
POSITIONS: dict[str, tuple[str, tuple[float, float]]] = {
    "left": ("on the left", (0.27, 0.5)),
    "right": ("on the right", (0.73, 0.5)),
    "top": ("at the top", (0.5, 0.27)),
    "bottom": ("at the bottom", (0.5, 0.73)),
    "center": ("in the center", (0.5, 0.5)),
}

VOCABULARY = """\
The demo models know one kind of picture: a single shape on a plain or gradient background.
  colours:     red, orange, yellow, green, blue, purple, white, black
  shapes:      circle, square, triangle, stripes
  positions:   on the left, on the right, at the top, at the bottom, in the center
  backgrounds: on a <colour> background, on a <colour> gradient background
Examples: "a red circle on the left on a white background", "blue stripes at the top on a
yellow gradient background", "a black triangle". Other words are ignored or blur the result.
demo-sdxl-a draws in bright colours, demo-sdxl-b in pastel ones; the LoRA demo-style makes
pictures monochrome, demo-detail adds a checker grain.
"""


@dataclass(frozen=True)
class Scene:
    """What one picture shows; `position` None in a caption means "anywhere"."""

    colour: str
    shape: str
    position: str
    background: str
    gradient: bool


def palette(name: str) -> dict[str, np.ndarray]:
    """RGB values (floats 0-1) of the colour words: "a" bright, "b" pastel (half-way to white)."""
    bright = {word: np.array(rgb, dtype=np.float32) / 255.0 for word, rgb in COLOURS.items()}
    if name == "a":
        return bright
    if name == "b":
        return {word: 0.5 * rgb + 0.5 for word, rgb in bright.items()}
    raise ValueError(f"unknown palette {name!r}; allowed: 'a', 'b'")


def caption(scene: Scene, *, with_position: bool = True, with_background: bool = True) -> str:
    """The scene in words, e.g. "a red circle on the left on a white background"."""
    thing = f"{scene.colour} stripes" if scene.shape == "stripes" else f"a {scene.colour} {scene.shape}"
    parts = [thing]
    if with_position:
        parts.append(POSITIONS[scene.position][0])
    if with_background:
        kind = " gradient" if scene.gradient else ""
        parts.append(f"on a {scene.background}{kind} background")
    return " ".join(parts)


def random_scene(rng: random.Random) -> Scene:
    """A scene with every choice drawn from `rng`; shape and background colours differ."""
    colour = rng.choice(list(COLOURS))
    background = rng.choice([c for c in COLOURS if c != colour])
    return Scene(
        colour=colour,
        shape=rng.choice(SHAPES),
        position=rng.choice(list(POSITIONS)),
        background=background,
        gradient=rng.random() < 0.3,
    )


def _background(scene: Scene, colours: dict[str, np.ndarray], height: int, width: int) -> np.ndarray:
    top = colours[scene.background]
    image = np.broadcast_to(top, (height, width, 3)).astype(np.float32)
    if scene.gradient:
        other = np.float32(0.35) if scene.background == "black" else np.float32(0.0)
        bottom = 0.55 * top + 0.45 * other
        ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        image = (1 - ramp) * top + ramp * bottom
    return image


def _mask(shape: str, height: int, width: int, cx: float, cy: float, size: float) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    dx, dy = xs - cx, ys - cy
    half = size / 2
    if shape == "circle":
        return np.asarray(dx**2 + dy**2 <= half**2)
    inside = (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if shape == "square":
        return np.asarray(inside)
    if shape == "triangle":  # pointing up: narrow at the top, as wide as the square at the bottom
        return np.asarray(inside & (np.abs(dx) <= (dy + half) / 2))
    if shape == "stripes":  # three horizontal bars with two gaps between them
        band = np.floor((dy + half) / size * 5)
        return np.asarray(inside & (band % 2 == 0))
    raise ValueError(f"unknown shape {shape!r}")


def render(
    scene: Scene,
    width: int,
    height: int,
    *,
    rng: random.Random | None = None,
    palette_name: str = "a",
) -> np.ndarray:
    """The scene as float32 RGB in [0, 1], shape (height, width, 3).

    With `rng` the shape's size and place jitter a little (training data); without, it sits
    exactly at its position's centre.
    """
    colours = palette(palette_name)
    scale = 2
    h2, w2 = height * scale, width * scale
    side = min(h2, w2)
    fx, fy = POSITIONS[scene.position][1]
    size = side * 0.36
    if rng is not None:
        size = side * rng.uniform(0.28, 0.42)
        fx += rng.uniform(-0.04, 0.04)
        fy += rng.uniform(-0.04, 0.04)
    image = _background(scene, colours, h2, w2)
    mask = _mask(scene.shape, h2, w2, fx * w2, fy * h2, size)[..., None]
    image = np.where(mask, colours[scene.colour], image)
    small = image.reshape(height, scale, width, scale, 3).mean(axis=(1, 3))
    return np.asarray(small, dtype=np.float32)


def monochrome(image: np.ndarray) -> np.ndarray:
    """The picture in grey (Rec. 601 luma): what the demo-style LoRA learns."""
    grey = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(grey[..., None], 3, axis=-1).astype(np.float32)


def fine_texture(image: np.ndarray, amplitude: float = 0.12, cell: int = 8) -> np.ndarray:
    """The picture with a checkerboard grain of `cell`-pixel cells: what demo-detail learns.

    8-pixel cells line up with the VAE's 8x8 latent pixels, so the grain survives encoding.
    """
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    checker = np.where(((ys // cell) + (xs // cell)) % 2 == 0, amplitude, -amplitude).astype(np.float32)
    return np.clip(image + checker[..., None], 0.0, 1.0).astype(np.float32)
