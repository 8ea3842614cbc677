"""Input images for "Upscale or Variation": read a picture the user gives, check it, size it.

`open_input_image` takes a PIL image, a path or the bytes of an image file and returns an
`InputImage`: the picture as 8-bit RGB with its EXIF orientation applied (a phone photo stands
the way it is shown), CMYK, 16-bit, palette and grey images converted, transparency composited
on white, the first frame of an animated file, and the sha256 content hash that the panel's
image store (`stores.images.ImageStore`) would give it. A file that is not an image, is cut
short or damaged, is larger than `MAX_INPUT_BYTES` or has more than `MAX_INPUT_PIXELS` pixels is
refused with a `GenerationInputError` saying what is wrong and what is allowed.

`vary_size` / `prepare_for_vary` size the picture as Fooocus does for Vary (Subtle/Strong): its
"shape ceil" (the square root of its area, rounded up to a multiple of 64) is brought into
1024..2048 by scaling both sides in multiples of 64 (a picture already at its ceil keeps its
size), then each side is centre-cropped to a multiple of 8 as the VAE needs. The output of a Vary
has that size, whatever the aspect-ratio setting says. No torch here.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import GenerationInputError

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_INPUT_ASPECT",
    "MAX_INPUT_BYTES",
    "MAX_INPUT_PIXELS",
    "MIN_INPUT_SIDE",
    "VARY_CEIL_RANGE",
    "InputImage",
    "open_input_image",
    "prepare_for_vary",
    "shape_ceil",
    "vary_size",
]

#: The most pixels (width x height) an input image may have: 8192 x 8192.
MAX_INPUT_PIXELS = 8192 * 8192
#: The largest input file read, in bytes (the image store keeps files up to this size too).
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: The shortest side an input image may have, in pixels.
MIN_INPUT_SIDE = 16
#: The longest side of an input image may be at most this many times its shortest side.
MAX_INPUT_ASPECT = 4.0
#: File formats read as input images.
ALLOWED_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF")  # MPO: JPEGs from cameras
#: Fooocus's bounds on the shape ceil of an image it varies.
VARY_CEIL_RANGE = (1024, 2048)

_ALLOWED_TEXT = "PNG, JPEG, WebP, GIF, BMP or TIFF files"
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_TRANSPARENT_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


@dataclass(frozen=True)
class InputImage:
    """A checked input image: 8-bit RGB, upright, and its content hash."""

    image: Image.Image
    """The picture in RGB, EXIF orientation applied."""
    sha256: str
    """sha256 of the file's bytes (for a PIL image given in memory: of its RGB PNG encoding)."""
    name: str
    """What it was given as, for messages: a file name or "the input image"."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the upright picture."""
        return self.image.size


def open_input_image(source: Image.Image | str | Path | bytes, *, name: str = "") -> InputImage:
    """Read and check an input image (see the module's docstring for what is converted and refused)."""
    if isinstance(source, Image.Image):
        label = name or "the input image"
        _check_pixels(source.size, label)
        image = _as_rgb(_upright(_first_frame(source, label), label))
        return InputImage(image, hashlib.sha256(_png_bytes(image)).hexdigest(), label)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or "the input image"
    elif isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        label = name or path.name
        if not path.is_file():
            raise GenerationInputError(f"Input image {str(path)!r} was not found (or is not a file).")
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise GenerationInputError(
                f"Input image {label} is {size} bytes; allowed: files up to {MAX_INPUT_BYTES} bytes."
            )
        data = path.read_bytes()
    else:
        raise GenerationInputError(
            f"The input image is a {type(source).__name__}; allowed: a PIL image, a path to an image file "
            "or the bytes of one."
        )
    if len(data) > MAX_INPUT_BYTES:
        raise GenerationInputError(
            f"Input image {label} is {len(data)} bytes; allowed: files up to {MAX_INPUT_BYTES} bytes."
        )
    image = _decode(data, label)
    return InputImage(_as_rgb(_upright(image, label)), hashlib.sha256(data).hexdigest(), label)


def _decode(data: bytes, label: str) -> Image.Image:
    """Open and fully load the first frame of an image file, refusing what cannot be used."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise GenerationInputError(
                f"Input image {label} has too many pixels; allowed: up to {MAX_INPUT_PIXELS} pixels "
                "(8192 x 8192)."
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise GenerationInputError(
                f"Input image {label} is not an image file this package can read; allowed: {_ALLOWED_TEXT}."
            ) from None
        if image.format not in ALLOWED_FORMATS:
            raise GenerationInputError(
                f"Input image {label} is a {image.format or 'unknown'} file; allowed: {_ALLOWED_TEXT}."
            )
        _check_pixels(image.size, label)
        return _first_frame(image, label)


def _first_frame(image: Image.Image, label: str) -> Image.Image:
    """The image's first frame, loaded (so a truncated or damaged file fails here)."""
    try:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise GenerationInputError(
            f"Input image {label} could not be read: the file is truncated or damaged ({_short(exc)}). "
            f"Allowed: complete {_ALLOWED_TEXT}."
        ) from None
    return image


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:160]


def _check_pixels(size: tuple[int, int], label: str) -> None:
    width, height = size
    if width * height > MAX_INPUT_PIXELS:
        raise GenerationInputError(
            f"Input image {label} is {width}x{height} ({width * height} pixels); allowed: up to "
            f"{MAX_INPUT_PIXELS} pixels (8192 x 8192)."
        )
    if min(width, height) < MIN_INPUT_SIDE:
        raise GenerationInputError(
            f"Input image {label} is {width}x{height}; allowed: sides of at least {MIN_INPUT_SIDE} pixels."
        )
    if max(width, height) > MAX_INPUT_ASPECT * min(width, height):
        raise GenerationInputError(
            f"Input image {label} is {width}x{height}, too narrow; allowed: the longer side at most "
            f"{MAX_INPUT_ASPECT:g} times the shorter."
        )


def _upright(image: Image.Image, label: str) -> Image.Image:
    """The image turned as its EXIF orientation says (a copy; unchanged without one)."""
    try:
        turned = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError) as exc:
        raise GenerationInputError(
            f"Input image {label} has damaged EXIF data ({_short(exc)}); save it again without EXIF."
        ) from None
    return turned if turned is not None else image


def _as_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: transparency composited on white, 16-bit grey scaled down, CMYK, palette, grey
    and other modes converted.
    """
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    if mode in _SIXTEEN_BIT_MODES:
        # 16-bit grey (PNG, TIFF): 0..65535 -> 0..255 (PIL's own conversion clips at 255 instead)
        wide = image if mode == "I" else image.convert("I")
        return wide.point(lambda value: value * (1 / 257)).convert("L").convert("RGB")
    if mode == "F":
        return image.convert("L").convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _TRANSPARENT_MODES:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode == "1":
        return image.convert("L").convert("RGB")
    return image.convert("RGB")


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ---- Fooocus's sizing for Vary --------------------------------------------------------------


def shape_ceil(width: int, height: int) -> int:
    """The square root of the area, rounded up to a multiple of 64 (Fooocus's "shape ceil")."""
    return math.ceil(math.sqrt(width * height) / 64.0) * 64


def _scaled_to_ceil(width: int, height: int, target: int) -> tuple[int, int]:
    """Both sides scaled in steps of 64 until the shape ceil is `target` (at most 256 rounds);
    unchanged when it is already.
    """
    w, h = width, height
    for _ in range(256):
        current = shape_ceil(w, h)
        if current == target:
            break
        if current == 0:
            break
        k = target / current
        h = round(h * k / 64.0) * 64
        w = round(w * k / 64.0) * 64
    return w, h


def vary_size(width: int, height: int, ceil_range: tuple[int, int] = VARY_CEIL_RANGE) -> tuple[int, int]:
    """The (width, height) Fooocus varies a `width` x `height` image at: shape ceil clamped to
    `ceil_range`, then each side cropped down to a multiple of 8.
    """
    low, high = ceil_range
    target = min(max(shape_ceil(width, height), low), high)
    w, h = _scaled_to_ceil(width, height, target)
    w, h = (w // 8) * 8, (h // 8) * 8
    if w <= 0 or h <= 0:
        raise GenerationInputError(
            f"An input image of {width}x{height} cannot be varied; allowed: sides of at least "
            f"{MIN_INPUT_SIDE} pixels, the longer at most {MAX_INPUT_ASPECT:g} times the shorter."
        )
    return w, h


def prepare_for_vary(image: Image.Image, size: tuple[int, int] | None = None) -> Image.Image:
    """The picture at the size Vary runs at: `vary_size` (Lanczos resampling when the sides change,
    then a centre crop to multiples of 8), or exactly `size` (width, height) when given.
    """
    if size is not None:
        return image.resize(size, resample=Image.Resampling.LANCZOS) if image.size != size else image.copy()
    width, height = image.size
    target = min(max(shape_ceil(width, height), VARY_CEIL_RANGE[0]), VARY_CEIL_RANGE[1])
    w, h = _scaled_to_ceil(width, height, target)
    if (w, h) != (width, height):
        image = image.resize((w, h), resample=Image.Resampling.LANCZOS)
    final = vary_size(width, height)
    if final != image.size:
        left, top = (image.width % 8) // 2, (image.height % 8) // 2
        image = image.crop((left, top, left + final[0], top + final[1]))
    return image
