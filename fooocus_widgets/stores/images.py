"""Content-addressed image files: the state refers to images by sha256, never by their bytes.

Images live under ``<notebook dir>/.fooocus_widgets/images/<first two hex digits>/<hash>.<ext>``.
Writing the same picture twice stores it once; a file whose content no longer matches its name
is reported and treated as missing.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .base import StateRecoveryWarning
from .location import state_root

__all__ = ["ImageStore", "image_format"]

_HASH_RE = re.compile(r"[0-9a-f]{64}")
MAX_IMAGE_BYTES = 256 * 1024 * 1024


def image_format(data: bytes) -> str:
    """The format ("png", "jpeg" or "webp") from the file's magic bytes; ValueError otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ValueError("not an image this store keeps; allowed: PNG, JPEG or WebP files")


class ImageStore:
    """PNG/JPEG/WebP files named by the sha256 of their bytes."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        """The images folder."""

    @classmethod
    def for_notebook(cls, user_ns: Mapping[str, Any] | None = None) -> ImageStore:
        """The image folder beside the running notebook (see `stores.location.state_root`)."""
        root, _ = state_root(user_ns)
        return cls(root / "images")

    def _candidates(self, digest: str) -> list[Path]:
        if not _HASH_RE.fullmatch(digest):
            raise ValueError(f"{digest!r} is not an image hash; allowed: 64 lowercase hex digits")
        return sorted((self.directory / digest[:2]).glob(f"{digest}.*"))

    def put(self, data: bytes) -> str:
        """Store the image and return its hash (no write when it is stored already)."""
        if len(data) > MAX_IMAGE_BYTES:
            raise ValueError(
                f"image of {len(data)} bytes is too large; allowed: up to {MAX_IMAGE_BYTES} bytes"
            )
        ext = image_format(data)
        digest = hashlib.sha256(data).hexdigest()
        path = self.directory / digest[:2] / f"{digest}.{ext}"
        if not path.exists():
            atomic_write(path, data)
        return digest

    def path(self, digest: str) -> Path | None:
        """The file of an image, or None when it is not stored."""
        found = self._candidates(digest)
        return found[0] if found else None

    def get(self, digest: str) -> bytes | None:
        """The image's bytes, verified against its hash; None (with a warning) when damaged."""
        path = self.path(digest)
        if path is None:
            return None
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            warnings.warn(
                f"{path} is damaged (its content no longer matches its name).",
                StateRecoveryWarning,
                stacklevel=2,
            )
            return None
        return data

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.path(digest) is not None
