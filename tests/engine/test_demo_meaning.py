"""What the trained demo models draw means something: the prompt's colour, the LoRAs' direction.

They need the trained weights shipped in fooocus_widgets/demo/weights: without them these tests
fail (they are never skipped); the release test holds for any weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fooocus_widgets as fw
from fooocus_widgets.api import default_engine
from fooocus_widgets.demo.measure import dominant_colour, high_frequency_energy, saturation
from fooocus_widgets.demo.world import COLOURS
from fooocus_widgets.engine.demo import trained_weights_present

SIZE = {"width": 128, "height": 128, "steps": 8, "save": False, "progress": False, "styles": []}


def test_the_trained_weights_are_shipped() -> None:
    assert trained_weights_present(), "fooocus_widgets/demo/weights is incomplete"


def draw(demo_dir: Path, prompt: str, seed: int, **kw):  # type: ignore[no-untyped-def]
    options = {**SIZE, **kw}
    return fw.generate(prompt, model=options.pop("model", "demo-sdxl-a.safetensors"), models_dir=demo_dir,
                       image_number=1, seed=seed, **options).images[0]  # fmt: skip


@pytest.mark.parametrize("colour", list(COLOURS))
def test_the_prompt_colour_wins(demo_dir: Path, colour: str) -> None:
    background = "black" if colour == "white" else "white"
    prompt = f"a {colour} circle on a {background} background"
    found = [dominant_colour(draw(demo_dir, prompt, s)) for s in range(4)]
    assert found.count(colour) >= 3, found


def test_demo_style_takes_colour_out_more_at_full_weight(demo_dir: Path) -> None:
    prompt = "a red circle on a blue background"
    seeds = range(3)
    plain = np.mean([saturation(draw(demo_dir, prompt, s)) for s in seeds])
    half = np.mean(
        [saturation(draw(demo_dir, prompt, s, loras=[("demo-style.safetensors", 0.5)])) for s in seeds]
    )
    full = np.mean(
        [saturation(draw(demo_dir, prompt, s, loras=[("demo-style.safetensors", 1.0)])) for s in seeds]
    )
    assert full < half < plain
    assert full < 0.5 * plain  # at least half the colour gone at weight 1
    assert half < 0.85 * plain  # and a visible part of that at 0.5


def test_demo_detail_adds_fine_texture_more_at_full_weight(demo_dir: Path) -> None:
    prompt = "a green square on a white background"
    plain = np.mean([high_frequency_energy(draw(demo_dir, prompt, s)) for s in range(3)])

    def grain(weight: float) -> float:
        return float(
            np.mean(
                [
                    high_frequency_energy(
                        draw(demo_dir, prompt, s, loras=[("demo-detail.safetensors", weight)])
                    )
                    for s in range(3)
                ]
            )
        )

    half, detailed = grain(0.5), grain(1.0)
    assert plain < half < detailed
    assert detailed > 1.5 * plain


def test_model_b_draws_in_another_palette_and_a_comes_back_exactly(demo_dir: Path) -> None:
    prompt = "a purple triangle on a yellow background"
    a = np.asarray(draw(demo_dir, prompt, 3), dtype=np.float32)
    b = np.asarray(draw(demo_dir, prompt, 3, model="demo-sdxl-b.safetensors"), dtype=np.float32)
    a_again = np.asarray(draw(demo_dir, prompt, 3), dtype=np.float32)
    assert np.abs(a - b).mean() > 10  # a visible change, not a few rounding steps
    assert saturation(b) < saturation(a)  # B's palette is the pastel one
    assert np.array_equal(a, a_again)


def test_release_vram_then_the_same_seed_gives_the_same_pixels(demo_dir: Path) -> None:
    small = {"width": 64, "height": 64, "steps": 3}
    before = np.asarray(draw(demo_dir, "a red circle", 11, **small))
    fw.release_vram()
    assert default_engine().models.current is None
    after = np.asarray(draw(demo_dir, "a red circle", 11, **small))
    assert np.array_equal(before, after)
