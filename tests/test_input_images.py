"""Input images for Vary, without torch: reading, converting, refusing, Fooocus's sizing, and the
plan that carries them (mode, denoise, content hash; the Upscale modes refused)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fooocus_widgets.errors import GenerationInputError
from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.input_images import (
    MAX_INPUT_PIXELS,
    open_input_image,
    prepare_for_vary,
    shape_ceil,
    vary_size,
)
from fooocus_widgets.params import VARY_DENOISE, plan_generation
from fooocus_widgets.state import InputImageSettings, PanelState
from fooocus_widgets.stores import ImageStore
from fooocus_widgets.styles import load_styles


def png_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def red_dot(width: int = 64, height: int = 48) -> Image.Image:
    image = Image.new("RGB", (width, height), (255, 255, 255))
    image.paste((220, 30, 30), (0, 0, width // 4, height // 4))  # a red block at the top left
    return image


# ---- Fooocus's sizing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((128, 128), (1024, 1024)),  # too small: brought up to a 1024 shape ceil
        ((256, 128), (1344, 704)),  # the aspect ratio kept in multiples of 64
        ((1024, 1024), (1024, 1024)),  # already at its ceil: kept
        ((1000, 1000), (1000, 1000)),  # ceil 1024 already: kept as is (a multiple of 8)
        ((1001, 999), (1000, 992)),  # kept, then cropped to multiples of 8
        ((3000, 3000), (2048, 2048)),  # too big: brought down to a 2048 shape ceil
        ((4000, 3000), (2304, 1728)),
        ((1536, 640), (1536, 640)),  # an SDXL size stays
    ],
)
def test_vary_size_follows_fooocus(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert vary_size(*size) == expected
    assert 1024 <= shape_ceil(*expected) <= 2048


def test_prepare_for_vary_resizes_and_centre_crops() -> None:
    image = red_dot(256, 128)
    assert prepare_for_vary(image).size == (1344, 704)
    odd = Image.new("RGB", (1001, 999), (0, 0, 0))
    odd.putpixel((0, 0), (255, 255, 255))  # the crop takes (1001 % 8) // 2 = 0 columns from the left
    odd.putpixel((0, 3), (255, 255, 255))  # and (999 % 8) // 2 = 3 rows from the top
    prepared = prepare_for_vary(odd)
    assert prepared.size == (1000, 992)
    assert prepared.getpixel((0, 0)) == (255, 255, 255)
    assert prepared.getpixel((0, 1)) == (0, 0, 0)
    assert prepare_for_vary(image, (96, 64)).size == (96, 64)  # an exact size when asked


# ---- reading and converting -------------------------------------------------------------------------


def test_a_path_gives_rgb_and_the_image_stores_hash(tmp_path: Path) -> None:
    data = png_bytes(red_dot())
    path = tmp_path / "in.png"
    path.write_bytes(data)
    opened = open_input_image(path)
    assert opened.image.mode == "RGB"
    assert opened.size == (64, 48)
    assert opened.sha256 == hashlib.sha256(data).hexdigest() == ImageStore(tmp_path / "s").put(data)
    assert open_input_image(str(path)).sha256 == opened.sha256
    assert open_input_image(data).sha256 == opened.sha256


def test_a_pil_image_hashes_the_same_every_time() -> None:
    a, b = open_input_image(red_dot()), open_input_image(red_dot())
    assert a.sha256 == b.sha256
    assert open_input_image(red_dot(64, 64)).sha256 != a.sha256


def test_alpha_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (32, 32), (0, 0, 255, 0))  # fully transparent blue
    rgba.putpixel((5, 5), (0, 0, 255, 255))  # one opaque blue pixel
    opened = open_input_image(png_bytes(rgba))
    assert opened.image.mode == "RGB"
    assert opened.image.getpixel((0, 0)) == (255, 255, 255)
    assert opened.image.getpixel((5, 5)) == (0, 0, 255)
    half = Image.new("LA", (32, 32), (0, 128))
    grey = open_input_image(half).image.getpixel((0, 0))
    assert grey[0] == grey[1] == grey[2]
    assert abs(grey[0] - 127) <= 1


def test_palette_with_transparency_grey_and_one_bit_become_rgb() -> None:
    palette = Image.new("P", (32, 32), 0)
    palette.putpalette([10, 20, 30] + [200, 0, 0] * 255)
    palette.putpixel((1, 1), 1)
    opened = open_input_image(png_bytes(palette, transparency=0))
    assert opened.image.getpixel((0, 0)) == (255, 255, 255)  # index 0 is transparent
    assert opened.image.getpixel((1, 1)) == (200, 0, 0)
    assert open_input_image(Image.new("1", (32, 32), 1)).image.getpixel((0, 0)) == (255, 255, 255)
    assert open_input_image(Image.new("L", (32, 32), 77)).image.getpixel((0, 0)) == (77, 77, 77)


def test_cmyk_jpeg_becomes_rgb() -> None:
    cmyk = Image.new("CMYK", (32, 32), (0, 255, 255, 0))  # pure red in CMYK
    buffer = io.BytesIO()
    cmyk.save(buffer, format="JPEG", quality=95)
    opened = open_input_image(buffer.getvalue())
    assert opened.image.mode == "RGB"
    r, g, b = opened.image.getpixel((16, 16))
    assert r > 200
    assert g < 60
    assert b < 60


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    values = np.full((32, 32), 32896, dtype=np.uint16)  # mid grey in 16 bits (128 * 257)
    image = Image.fromarray(values)  # "I;16"
    opened = open_input_image(png_bytes(image))
    assert opened.image.mode == "RGB"
    assert opened.image.getpixel((0, 0)) == (128, 128, 128)


def test_exif_orientation_is_honoured() -> None:
    image = red_dot(64, 32)  # landscape, red block at the top left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    opened = open_input_image(buffer.getvalue())
    assert opened.size == (32, 64)  # shown upright: portrait
    r, g, b = opened.image.getpixel((28, 2))  # the block is now at the top right
    assert r > 180
    assert g < 90
    assert b < 90
    assert opened.image.getpixel((2, 60))[1] > 200  # the bottom left is white


def test_the_first_frame_of_an_animation_is_used() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    opened = open_input_image(buffer.getvalue())
    r, _g, b = opened.image.getpixel((16, 16))
    assert r > 200
    assert b < 50


# ---- refusing -------------------------------------------------------------------------------------


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("this is not a picture")
    with pytest.raises(GenerationInputError, match=r"notes\.png is not an image file .*allowed: PNG, JPEG"):
        open_input_image(path)
    with pytest.raises(GenerationInputError, match="was not found"):
        open_input_image(tmp_path / "missing.png")


def test_a_truncated_png_is_refused() -> None:
    data = png_bytes(Image.effect_noise((64, 64), 60).convert("RGB"))
    with pytest.raises(GenerationInputError, match="truncated or damaged"):
        open_input_image(data[: len(data) // 2])


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` (its data is one tiny compressed block)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [9000, 20000])  # above our limit; above PIL's own bomb limit
def test_too_many_pixels_are_refused_before_decoding(side: int) -> None:
    with pytest.raises(GenerationInputError, match=r"allowed: up to 67108864 pixels \(8192 x 8192\)"):
        open_input_image(_png_header_only(side, side))
    assert MAX_INPUT_PIXELS == 8192 * 8192


def test_too_small_or_too_narrow_is_refused() -> None:
    with pytest.raises(GenerationInputError, match="at least 16 pixels"):
        open_input_image(Image.new("RGB", (8, 64)))
    with pytest.raises(GenerationInputError, match="at most 4 times the shorter"):
        open_input_image(Image.new("RGB", (400, 50)))
    with pytest.raises(GenerationInputError, match="allowed: a PIL image, a path"):
        open_input_image(123)  # type: ignore[arg-type]


# ---- the plan -------------------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path: Path) -> ModelFolders:
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "m.safetensors").write_bytes(b"x")
    return ModelFolders(tmp_path)


def vary_state(mode: str = "Vary (Subtle)", image: str = "") -> PanelState:
    return PanelState(
        base_model="m.safetensors",
        image_number=1,
        input_image=InputImageSettings(enabled=True, mode=mode, image=image),
    )


@pytest.mark.parametrize("mode", list(VARY_DENOISE))
def test_a_vary_plan_carries_the_image_its_size_and_records_them(folders: ModelFolders, mode: str) -> None:
    opened = open_input_image(red_dot(256, 128))
    plan = plan_generation(vary_state(mode), folders=folders, styles=load_styles(), input_image=opened)
    assert plan.input_image is not None
    assert (plan.width, plan.height) == (1344, 704)  # from the input, not the aspect ratio (1152*896)
    assert plan.input_image.image.size == (1344, 704)
    parameters = plan.parameters(plan.seeds[0])
    assert parameters["input_image"] == {
        "mode": mode,
        "denoise": {"Vary (Subtle)": 0.5, "Vary (Strong)": 0.85}[mode],
        "sha256": opened.sha256,
        "source_size": [256, 128],
    }
    assert (parameters["width"], parameters["height"]) == (1344, 704)
    exact = plan_generation(
        vary_state(mode), folders=folders, styles=load_styles(), input_image=opened, width=128, height=64
    )
    assert (exact.width, exact.height) == exact.input_image.image.size == (128, 64)  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["Upscale (1.5x)", "Upscale (2x)"])
def test_the_upscale_modes_are_refused_not_ignored(folders: ModelFolders, mode: str) -> None:
    with pytest.raises(
        GenerationInputError, match=r"not available yet; allowed for now: Vary \(Subtle\) or Vary"
    ):
        plan_generation(vary_state(mode), folders=folders, styles=load_styles(), input_image=red_dot())


def test_the_plan_reads_the_image_from_the_store_by_hash(folders: ModelFolders, tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    digest = store.put(png_bytes(red_dot(128, 128)))
    plan = plan_generation(vary_state(image=digest), folders=folders, styles=load_styles(), images=store)
    assert plan.input_image is not None
    assert plan.input_image.sha256 == digest
    assert (plan.width, plan.height) == (1024, 1024)
    with pytest.raises(GenerationInputError, match="was not found in the image store"):
        plan_generation(vary_state(image="0" * 64), folders=folders, styles=load_styles(), images=store)
    with pytest.raises(GenerationInputError, match="needs an input image and none is set"):
        plan_generation(vary_state(), folders=folders, styles=load_styles(), images=store)


def test_plan_refuses_inconsistent_input_image_settings(folders: ModelFolders) -> None:
    styles = load_styles()
    with pytest.raises(GenerationInputError, match="switched off"):
        plan_generation(
            PanelState(base_model="m.safetensors"), folders=folders, styles=styles, input_image=red_dot()
        )
    with pytest.raises(GenerationInputError, match="is not the one the settings name"):
        plan_generation(vary_state(image="a" * 64), folders=folders, styles=styles, input_image=red_dot())
    with pytest.raises(GenerationInputError, match="give both width and height"):
        plan_generation(vary_state(), folders=folders, styles=styles, input_image=red_dot(), width=128)
    plain = plan_generation(PanelState(base_model="m.safetensors"), folders=folders, styles=styles)
    assert plain.input_image is None
    assert "input_image" not in plain.parameters(0)
