"""Vary (Subtle) and Vary (Strong) with the trained demo models: image-to-image from an input
image through the engine and `generate()`.

The input is the demo world's red circle on white; the prompt asks for something else (a blue
square on yellow), so how far each mode moves away from the input is measurable. Most runs use
an exact small size (`width`/`height`) to stay fast; one runs at Fooocus's own size.
"""

from __future__ import annotations

import hashlib
import io
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import fooocus_widgets as fw
from fooocus_widgets.api import GenerationResult, default_engine
from fooocus_widgets.demo.world import Scene, render
from fooocus_widgets.engine.img2img import schedule_for
from fooocus_widgets.engine.run import Engine, RunControl, RunEvents
from fooocus_widgets.errors import GenerationInputError
from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.input_images import open_input_image, vary_size
from fooocus_widgets.params import plan_generation
from fooocus_widgets.state import InputImageSettings, PanelState
from fooocus_widgets.styles import load_styles

PROMPT = "a blue square on a yellow background"
SIDE = 128
FAST = {"steps": 8, "save": False, "progress": False, "styles": [], "image_number": 1, "sampler": "Euler",
        "scheduler": "normal"}  # fmt: skip
MODES = ("Vary (Subtle)", "Vary (Strong)")


def red_circle(width: int = SIDE, height: int = SIDE) -> Image.Image:
    pixels = render(Scene("red", "circle", "center", "white", False), width, height)
    return Image.fromarray(np.round(pixels * 255).astype(np.uint8))


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def distance(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, in 0..255."""
    return float(np.abs(pixels(a) - pixels(b)).mean())


def run(demo_dir: Path, seed: int, **kw: Any) -> GenerationResult:
    options = {**FAST, **kw}
    return fw.generate(PROMPT, model="demo-sdxl-a.safetensors", models_dir=demo_dir, seed=seed, **options)


def vary(demo_dir: Path, mode: str, seed: int, image: Any = None, **kw: Any) -> Image.Image:
    kw.setdefault("width", SIDE)
    kw.setdefault("height", SIDE)
    return run(
        demo_dir, seed, input_image=red_circle() if image is None else image, uov_mode=mode, **kw
    ).images[0]


@pytest.mark.parametrize("mode", MODES)
def test_vary_changes_the_image_and_is_deterministic(demo_dir: Path, mode: str) -> None:
    plain = run(demo_dir, 5, width=SIDE, height=SIDE).images[0]
    first = vary(demo_dir, mode, 5)
    again = vary(demo_dir, mode, 5)
    assert first.size == (SIDE, SIDE)
    assert np.array_equal(pixels(first), pixels(again))  # same seed, same pixels
    assert distance(first, plain) > 10  # not what text-to-image makes
    assert distance(first, red_circle()) > 1  # and not the input unchanged
    assert not np.array_equal(pixels(vary(demo_dir, mode, 6)), pixels(first))  # another seed, another image


def test_subtle_stays_closer_to_the_input_than_strong(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = red_circle()
    seeds = range(4)
    subtle = [distance(vary(demo_dir, "Vary (Subtle)", s), source) for s in seeds]
    strong = [distance(vary(demo_dir, "Vary (Strong)", s), source) for s in seeds]
    with capsys.disabled():
        print(f"\nmean |output - input| per seed: subtle {subtle}, strong {strong}")
        print(f"averages: subtle {np.mean(subtle):.2f}, strong {np.mean(strong):.2f}")
    assert np.mean(subtle) < np.mean(strong)
    assert np.mean(subtle) < 0.8 * np.mean(strong)  # clearly, not by rounding


def test_the_size_follows_the_upright_input_as_in_fooocus(demo_dir: Path, tmp_path: Path) -> None:
    landscape = red_circle(256, 128)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: the picture stands as 128 x 256
    path = tmp_path / "photo.jpg"
    landscape.save(path, format="JPEG", quality=95, exif=exif)
    result = run(demo_dir, 3, input_image=path, uov_mode="Vary (Subtle)", steps=1, aspect_ratio="1152*896")
    expected = vary_size(128, 256)
    assert expected == (704, 1344)
    assert result.images[0].size == expected  # not the aspect ratio's 1152 x 896
    parameters = result.parameters[0]
    assert (parameters["width"], parameters["height"]) == expected
    assert parameters["input_image"] == {
        "mode": "Vary (Subtle)",
        "denoise": 0.5,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "source_size": [128, 256],
    }
    assert any("aspect_ratio is not used" in w for w in result.warnings)


def test_progress_and_skip_go_through_image_to_image(demo_dir: Path) -> None:
    folders = ModelFolders(demo_dir)
    state = PanelState(prompt=PROMPT, base_model="demo-sdxl-a.safetensors", image_number=2, random_seed=False,
                       seed=7, styles=(), sampler="Euler", scheduler="normal",
                       input_image=InputImageSettings(enabled=True, mode="Vary (Strong)"))  # fmt: skip
    plan = plan_generation(state, folders=folders, styles=load_styles([folders.styles]), steps=4,
                           width=64, height=64, input_image=red_circle(64, 64))  # fmt: skip
    control = RunControl()
    steps: list[tuple[int, int, int]] = []

    def on_step(index: int, step: int, total: int) -> None:
        steps.append((index, step, total))
        if index == 0 and step == 2:
            control.skip.set()

    results = default_engine().run(plan, RunEvents(step=on_step), control)
    assert [r.index for r in results] == [1]  # image 0 was skipped
    assert [s for s in steps if s[0] == 1] == [(1, 1, 4), (1, 2, 4), (1, 3, 4), (1, 4, 4)]  # exactly 4 steps


def test_one_unet_and_release_frees_the_image_to_image_pipeline(demo_dir: Path) -> None:
    vary(demo_dir, "Vary (Subtle)", 1, width=64, height=64, steps=2)
    current = default_engine().models.current
    assert current is not None
    assert current.img2img is not None
    img2img, pipe = current.img2img, current.pipe
    for name in ("unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2"):
        assert getattr(img2img, name) is getattr(pipe, name), name  # the very same objects: no copy
    assert img2img.unet.dtype == pipe.unet.dtype
    vary(demo_dir, "Vary (Strong)", 2, width=64, height=64, steps=2)
    assert default_engine().models.current is current
    assert current.img2img is img2img
    refs = [weakref.ref(img2img), weakref.ref(img2img.unet), weakref.ref(pipe), weakref.ref(img2img.vae)]
    del img2img, pipe, current
    fw.release_vram()
    assert all(ref() is None for ref in refs)


def test_converted_inputs_run_end_to_end(demo_dir: Path) -> None:
    rgba = red_circle(64, 64).convert("RGBA")
    rgba.putalpha(0)  # fully transparent: composited on white
    cmyk = red_circle(64, 64).convert("CMYK")
    for image in (rgba, cmyk):
        out = vary(demo_dir, "Vary (Subtle)", 4, image=image, width=64, height=64, steps=2)
        assert out.mode == "RGB"
        assert out.size == (64, 64)
    assert open_input_image(rgba).image.getpixel((32, 32)) == (255, 255, 255)
    assert open_input_image(cmyk).image.getpixel((32, 32))[0] > 180


def test_bad_inputs_are_refused_with_a_message(demo_dir: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    with pytest.raises(GenerationInputError, match=r"notes\.txt is not an image file"):
        vary(demo_dir, "Vary (Subtle)", 1, image=text)
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 60).convert("RGB").save(buffer, format="PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buffer.getvalue()[:-400])
    with pytest.raises(GenerationInputError, match="truncated or damaged"):
        vary(demo_dir, "Vary (Subtle)", 1, image=cut)
    for mode in ("Upscale (1.5x)", "Upscale (2x)"):
        with pytest.raises(GenerationInputError, match=f"{mode[:7]}.* is not available yet"):
            vary(demo_dir, mode, 1)
    with pytest.raises(ValueError, match=r"input_image\.mode"):
        vary(demo_dir, "Paint", 1)
    with pytest.raises(GenerationInputError, match="needs an input image"):
        run(demo_dir, 1, uov_mode="Vary (Strong)")


def test_out_of_memory_while_encoding_the_input_is_retried_in_a_lower_memory_mode(
    engine: Engine, folders: ModelFolders, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.models.release()
    state = PanelState(prompt=PROMPT, base_model="demo-sdxl-a.safetensors", image_number=1, random_seed=False,
                       seed=3, styles=(), sampler="Euler", scheduler="normal",
                       input_image=InputImageSettings(enabled=True, mode="Vary (Subtle)"))  # fmt: skip
    plan = plan_generation(state, folders=folders, styles=load_styles([folders.styles]), steps=2,
                           width=64, height=64, input_image=red_circle(64, 64))  # fmt: skip
    pipe = engine.submit(lambda: engine.prepare(plan)).result()
    real_encode = type(pipe.vae).encode
    calls = {"n": 0}

    def encode(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise MemoryError
        return real_encode(self, *args, **kwargs)

    monkeypatch.setattr(type(pipe.vae), "encode", encode)
    said: list[str] = []
    results = engine.run(plan, RunEvents(status=said.append))
    assert len(results) == 1
    assert calls["n"] == 2
    assert any("Out of memory while generating image 1: retrying with VAE tiling" in s for s in said), said
    assert engine.models.current is not None
    assert engine.models.current.vae_tiling
    engine.models.release()


def test_the_schedule_runs_exactly_the_plans_steps_as_fooocus_does() -> None:
    assert schedule_for(30, 0.5)[0] == 60  # 30 steps over the low-noise half of a 60-step schedule
    assert schedule_for(30, 0.85)[0] == 35
    for steps in range(1, 201):
        for denoise in (0.5, 0.85, 0.382, 0.3, 0.99, 1.0):
            total, strength = schedule_for(steps, denoise)
            assert 0 < strength <= 1
            assert min(int(total * strength), total) == steps  # what diffusers' img2img then runs
    with pytest.raises(ValueError, match="denoise"):
        schedule_for(4, 0.0)
