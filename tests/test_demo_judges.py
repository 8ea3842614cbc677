"""The judges that the meaning tests and benchmarks/demo_quality.py rely on read the synthetic
world's own scenes right: colour, background, shape and position, saturation and grain."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fooocus_widgets.demo.measure import (
    background_colour,
    dominant_colour,
    high_frequency_energy,
    saturation,
    shape_and_position,
)
from fooocus_widgets.demo.world import COLOURS, SHAPES, Scene, fine_texture, monochrome, render


def picture(scene: Scene, width: int = 256, height: int = 256) -> np.ndarray:
    return np.asarray(np.clip(render(scene, width, height) * 255, 0, 255).round(), dtype=np.uint8)


@pytest.mark.parametrize("colour", list(COLOURS))
def test_colour_and_background_are_read_back_for_every_word(colour: str) -> None:
    for background in (c for c in COLOURS if c != colour):
        scene = Scene(colour, "circle", "left", background, gradient=False)
        assert dominant_colour(picture(scene)) == colour, background
        assert background_colour(picture(scene)) == background, colour


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_and_position_are_read_back(shape: str) -> None:
    for position in ("left", "right", "top", "bottom", "center"):
        scene = Scene("blue", shape, position, "white", gradient=False)
        assert shape_and_position(picture(scene, 256, 192)) == (shape, position)


def test_random_scenes_at_panel_like_sizes() -> None:
    rng = random.Random(3)
    for _ in range(40):
        scene = Scene(
            rng.choice(list(COLOURS)), rng.choice(SHAPES), "center", "white", gradient=rng.random() < 0.5
        )
        if scene.colour == "white":
            continue
        assert dominant_colour(picture(scene, 1152 // 4, 896 // 4)) == scene.colour, scene


def test_saturation_and_grain_follow_the_loras_targets() -> None:
    scene = Scene("red", "square", "center", "blue", gradient=False)
    image = render(scene, 128, 128)
    assert saturation(monochrome(image)) < 0.01 < 0.5 < saturation(image)
    assert high_frequency_energy(fine_texture(image) * 255) > 10 * high_frequency_energy(image * 255)


def test_an_empty_picture_has_no_shape() -> None:
    plain = np.full((64, 64, 3), 245, dtype=np.uint8)
    assert dominant_colour(plain) is None
    assert shape_and_position(plain) == (None, None)
    assert background_colour(plain) == "white"
