"""Gallery entries: what the page shows for one result (thumbnails, seed, size, file).

One builder for both a freshly generated image and one read back from the image store (the last
results after a restart), so the two can never look different.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from .outputs import read_parameters
from .stores import ImageStore

__all__ = ["MINI_SIDE", "THUMB_SIDE", "gallery_entry", "stored_gallery_entry", "thumbnail_data_url"]

THUMB_SIDE = 256
#: Thumbnails kept in the notebook's metadata: 32 of them stay well under 256 KB.
MINI_SIDE = 64


def thumbnail_data_url(image: Image.Image, side: int = THUMB_SIDE) -> str:
    """A small JPEG of `image` as a data URL (what the gallery shows)."""
    thumb = image.convert("RGB")
    thumb.thumbnail((side, side))
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def gallery_entry(image: Image.Image, digest: str, seed: object, path: str = "") -> dict[str, Any]:
    """The gallery's entry for one image: ``{"hash", "seed", "width", "height", "path", "thumb",
    "mini"}`` (seed as text: it can exceed a JS number).
    """
    return {
        "hash": digest,
        "seed": str(seed),
        "width": image.width,
        "height": image.height,
        "path": path,
        "thumb": thumbnail_data_url(image),
        "mini": thumbnail_data_url(image, MINI_SIDE),
    }


def stored_gallery_entry(images: ImageStore, digest: str) -> dict[str, Any] | None:
    """The entry for an image in the store (its seed read from its embedded parameters), or None
    when the store no longer has it.
    """
    data = images.get(digest)
    if data is None:
        return None
    parameters = read_parameters(data) or {}
    return gallery_entry(Image.open(io.BytesIO(data)), digest, parameters.get("seed", ""))
