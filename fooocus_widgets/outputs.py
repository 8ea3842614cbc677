"""Saving results: image files with their parameters embedded, and a per-day history log.

Files go to ``<output dir>/YYYY-MM-DD/<HH-MM-SS>_<seed>.<ext>``. The parameters are one JSON
object (scheme ``fooocus_widgets/1``, the keys of `GenerationPlan.parameters` plus ``scheme``,
``version`` and ``created_at``) stored

- in PNG files as the text chunk ``parameters``, with ``fooocus_scheme`` = ``fooocus_widgets``;
- in JPEG and WebP files as EXIF UserComment (0x9286), with Software (0x0131) naming the package.

Each day folder has ``history.jsonl`` (one line per image: file name and parameters) and
``log.html`` (the same for people: thumbnails and parameters, all text escaped).
`read_parameters` reads the JSON back from any of the three formats. No torch here.
"""

from __future__ import annotations

import html
import io
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from ._version import __version__
from .params import PERFORMANCE_PRESETS
from .state import LORA_SLOTS, PanelState

__all__ = ["SCHEME", "encode_image", "read_parameters", "save_image", "state_from_parameters"]

SCHEME = "fooocus_widgets/1"
_EXIF_USER_COMMENT = 0x9286
_EXIF_SOFTWARE = 0x0131
_EXIF_IFD = 0x8769
_UNICODE_PREFIX = b"UNICODE\x00"
_LOG_LOCK = threading.Lock()
_FORMATS = {"png": ("PNG", ".png"), "jpeg": ("JPEG", ".jpg"), "webp": ("WEBP", ".webp")}


def _exif_with(parameters_json: str) -> Image.Exif:
    exif = Image.Exif()
    exif[_EXIF_SOFTWARE] = f"fooocus-widgets {__version__}"
    ifd = exif.get_ifd(_EXIF_IFD)
    ifd[_EXIF_USER_COMMENT] = _UNICODE_PREFIX + parameters_json.encode("utf-16-be")
    return exif


def encode_image(image: Image.Image, fmt: str, parameters: dict[str, Any]) -> bytes:
    """The image as `fmt` bytes with `parameters` embedded."""
    pil_format, _ = _FORMATS[fmt]
    text = json.dumps(parameters, ensure_ascii=False)
    buf = io.BytesIO()
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("parameters", text)
        info.add_text("fooocus_scheme", "fooocus_widgets")
        image.save(buf, format=pil_format, pnginfo=info, compress_level=4)
    elif fmt == "jpeg":
        image.convert("RGB").save(buf, format=pil_format, quality=95, exif=_exif_with(text))
    else:
        image.save(buf, format=pil_format, quality=95, exif=_exif_with(text))
    return buf.getvalue()


def save_image(
    image: Image.Image, parameters: dict[str, Any], output_dir: Path, fmt: str, *, now: datetime | None = None
) -> Path:
    """Save one result with its parameters; append it to the day's history. Returns the path."""
    now = now or datetime.now()
    day = output_dir / now.strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    full = {
        "scheme": SCHEME,
        **parameters,
        "version": __version__,
        "created_at": now.isoformat(timespec="seconds"),
    }
    data = encode_image(image, fmt, full)
    stem = f"{now.strftime('%H-%M-%S')}_{parameters.get('seed', 0)}"
    ext = _FORMATS[fmt][1]
    path = day / f"{stem}{ext}"
    n = 1
    while path.exists():
        path = day / f"{stem}_{n}{ext}"
        n += 1
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    _append_history(day, path, full)
    return path


def _append_history(day: Path, path: Path, parameters: dict[str, Any]) -> None:
    with _LOG_LOCK:
        with (day / "history.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"file": path.name, "parameters": parameters}, ensure_ascii=False) + "\n")
        log = day / "log.html"
        if not log.exists():
            log.write_text(
                "<!doctype html><meta charset='utf-8'><title>fooocus-widgets history "
                f"{html.escape(day.name)}</title><style>body{{font-family:sans-serif}}"
                "div{display:flex;gap:12px;margin:8px 0}img{width:160px}pre{white-space:pre-wrap}</style>\n",
                encoding="utf-8",
            )
        shown = {
            k: v for k, v in parameters.items() if k not in {"scheme", "full_prompt", "full_negative_prompt"}
        }
        name = html.escape(path.name, quote=True)
        entry = (
            f"<div><a href='{name}'><img src='{name}'></a>"
            f"<pre>{html.escape(json.dumps(shown, indent=1, ensure_ascii=False))}</pre></div>\n"
        )
        with log.open("a", encoding="utf-8") as f:
            f.write(entry)


def read_parameters(data: bytes) -> dict[str, Any] | None:
    """The embedded parameters of a PNG/JPEG/WebP file written by `save_image`, or None."""
    try:
        image = Image.open(io.BytesIO(data))
    except (OSError, ValueError):
        return None
    text: str | None = None
    if image.format == "PNG":
        text = image.info.get("parameters") if isinstance(image.info.get("parameters"), str) else None
    else:
        raw = image.getexif().get_ifd(_EXIF_IFD).get(_EXIF_USER_COMMENT)
        if isinstance(raw, bytes):
            text = (
                raw[len(_UNICODE_PREFIX) :].decode("utf-16-be", errors="replace")
                if raw.startswith(_UNICODE_PREFIX)
                else raw.decode("utf-8", errors="replace")
            )
        elif isinstance(raw, str):
            text = raw
    if not text:
        return None
    try:
        parameters = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parameters, dict) or parameters.get("scheme") != SCHEME:
        return None
    return parameters


def state_from_parameters(parameters: dict[str, Any], base: PanelState | None = None) -> PanelState:
    """A panel state that regenerates the image the parameters describe (on top of `base`)."""
    base = base or PanelState()
    loras = [
        {"enabled": True, "file": lora.get("file", ""), "weight": lora.get("weight", 1.0)}
        for lora in parameters.get("loras", [])
        if isinstance(lora, dict)
    ]
    doc = base.to_dict()
    # the performance mode brings its own LoRA back: keep it out of the user's slots
    perf_loras = {p.lora_file for p in PERFORMANCE_PRESETS.values() if p.lora_file}
    loras = [slot for slot in loras if slot["file"] not in perf_loras][:LORA_SLOTS]
    doc.update(
        {
            "prompt": parameters.get("prompt", ""),
            "negative_prompt": parameters.get("negative_prompt", ""),
            "styles": parameters.get("styles", []),
            "performance": parameters.get("performance", base.performance),
            "aspect_ratio": f"{parameters.get('width', base.width)}*{parameters.get('height', base.height)}",
            "seed": parameters.get("seed", base.seed),
            "random_seed": False,
            "base_model": parameters.get("base_model", base.base_model),
            "loras": loras,
            "guidance_scale": parameters.get("guidance_scale", base.guidance_scale),
            "sampler": parameters.get("sampler", base.sampler),
            "scheduler": parameters.get("scheduler", base.scheduler),
            "clip_skip": parameters.get("clip_skip", base.clip_skip),
        }
    )
    return PanelState.from_dict(doc)
