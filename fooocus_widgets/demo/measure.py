"""Judging generated demo pictures: the shape's colour, shape and position, saturation, fine detail.

The background is each row's median colour; the shape is every pixel far from it. Its colour
is the palette-"a" colour word most of its pixels are nearest to; its position is where its
centre of mass falls; its shape comes from how it fills its bounding box.
"""

from __future__ import annotations

import numpy as np

from .world import COLOURS

__all__ = [
    "background_colour",
    "dominant_colour",
    "high_frequency_energy",
    "saturation",
    "shape_and_position",
    "shape_mask",
]

_NAMES = list(COLOURS)
_RGB = np.array([COLOURS[n] for n in _NAMES], dtype=np.float32)


def _pixels(image: object) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)[..., :3]


def shape_mask(image: object, threshold: float = 60.0) -> np.ndarray:
    """Pixels (bool, HxW) whose colour is far (RGB distance) from their row's median colour.

    A shape covers less than half of any row, so the row median is the background, vertical
    gradients included.
    """
    pixels = _pixels(image)
    background = np.median(pixels, axis=1, keepdims=True)
    return np.asarray(np.linalg.norm(pixels - background, axis=-1) > threshold)


def dominant_colour(image: object) -> str | None:
    """The colour word most of the shape's pixels are nearest to (None when there is no shape)."""
    pixels = _pixels(image)[shape_mask(image)]
    if len(pixels) < 0.002 * np.prod(_pixels(image).shape[:2]):
        return None
    nearest = np.linalg.norm(pixels[:, None, :] - _RGB[None], axis=-1).argmin(axis=1)
    return _NAMES[int(np.bincount(nearest, minlength=len(_NAMES)).argmax())]


def background_colour(image: object) -> str:
    """The colour word nearest to the median of the picture's outermost pixels (a shape keeps off
    the border; a gradient background is judged by its median).
    """
    pixels = _pixels(image)
    border = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])
    median = np.median(border, axis=0)
    return _NAMES[int(np.linalg.norm(_RGB - median[None], axis=-1).argmin())]


def shape_and_position(image: object) -> tuple[str | None, str | None]:
    """(shape word, position word) of the shape, judged from its mask; None where unclear."""
    mask = shape_mask(image)
    height, width = mask.shape
    if mask.sum() < 0.002 * mask.size:
        return None, None
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean() / width, ys.mean() / height
    dx, dy = cx - 0.5, cy - 0.5
    if max(abs(dx), abs(dy)) < 0.12:
        position = "center"
    elif abs(dx) >= abs(dy):
        position = "left" if dx < 0 else "right"
    else:
        position = "top" if dy < 0 else "bottom"
    box = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    fill = box.mean()
    rows_covered = box.any(axis=1).mean()
    if rows_covered < 0.85:
        shape = "stripes"
    elif fill > 0.9:
        shape = "square"
    elif fill > 0.66:
        shape = "circle"
    else:
        shape = "triangle"
    return shape, position


def saturation(image: object) -> float:
    """Mean HSV saturation (0-1) of the picture."""
    pixels = _pixels(image) / 255.0
    high, low = pixels.max(axis=-1), pixels.min(axis=-1)
    return float(np.where(high > 1e-6, (high - low) / np.maximum(high, 1e-6), 0.0).mean())


def high_frequency_energy(image: object) -> float:
    """Mean squared response of a 3x3 Laplacian on the grey picture (fine texture raises it)."""
    grey = _pixels(image).mean(axis=-1)
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float((lap**2).mean())
