"""Fooocus preset files (JSON of ``default_*`` values) as panel states.

Fooocus keys understood: ``default_prompt``, ``default_prompt_negative``, ``default_styles``,
``default_performance``, ``default_aspect_ratio`` ("W*H" or "W×H"), ``default_image_number``,
``default_model``, ``default_loras`` (``[enabled, file, weight]`` or ``[file, weight]``),
``default_cfg_scale``, ``default_sample_sharpness``, ``default_sampler`` and
``default_scheduler`` (Fooocus/ComfyUI names such as ``dpmpp_2m_sde_gpu``, ``karras``),
``default_clip_skip``, ``default_output_format``. Keys it does not use are listed in the warnings,
never silently applied. No torch here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .state import LORA_SLOTS, PanelState

__all__ = ["PresetError", "load_preset"]

SAMPLER_NAMES = {
    "euler": "Euler",
    "euler_ancestral": "Euler a",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_2m_sde_gpu": "DPM++ 2M SDE",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_sde_gpu": "DPM++ SDE",
    "uni_pc": "UniPC",
    "uni_pc_bh2": "UniPC",
    "ddim": "DDIM",
    "lcm": "LCM",
}
SCHEDULER_NAMES = {"karras": "karras", "normal": "normal", "simple": "normal", "sgm_uniform": "sgm_uniform"}
_FIELDS = {
    "default_prompt": "prompt",
    "default_prompt_negative": "negative_prompt",
    "default_styles": "styles",
    "default_performance": "performance",
    "default_image_number": "image_number",
    "default_model": "base_model",
    "default_cfg_scale": "guidance_scale",
    "default_sample_sharpness": "sharpness",
    "default_clip_skip": "clip_skip",
    "default_output_format": "output_format",
}


class PresetError(ValueError):
    """A preset file cannot be read or holds values the panel does not allow."""


def load_preset(
    preset: str | Path | dict[str, Any], base: PanelState | None = None
) -> tuple[PanelState, list[str]]:
    """The state a Fooocus preset describes (on top of `base`) and warnings about what was skipped."""
    if isinstance(preset, dict):
        data, name = preset, "preset"
    else:
        path = Path(preset)
        name = path.name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise PresetError(f"{name} could not be read as a JSON preset ({exc}).") from None
    if not isinstance(data, dict):
        raise PresetError(f"{name} is not a Fooocus preset (expected a JSON object).")
    doc = (base or PanelState()).to_dict()
    warnings: list[str] = []
    for key, value in data.items():
        if key in _FIELDS:
            doc[_FIELDS[key]] = value
        elif key == "default_aspect_ratio" and isinstance(value, str):
            doc["aspect_ratio"] = re.sub(r"\s*[x×*]\s*", "*", value.split(" ")[0])
        elif key == "default_loras" and isinstance(value, list):
            slots = []
            for entry in value:
                if isinstance(entry, list) and len(entry) == 3:
                    enabled, file, weight = entry
                elif isinstance(entry, list) and len(entry) == 2:
                    (file, weight), enabled = entry, True
                else:
                    warnings.append(f"default_loras entry {entry!r} is not [enabled, file, weight]; skipped")
                    continue
                slots.append(
                    {"enabled": bool(enabled), "file": "" if file == "None" else file, "weight": weight}
                )
            if len(slots) > LORA_SLOTS:
                dropped = ", ".join(str(slot["file"]) for slot in slots[LORA_SLOTS:])
                warnings.append(
                    f"default_loras has {len(slots)} LoRAs, the panel {LORA_SLOTS} slots; left out {dropped}"
                )
            doc["loras"] = slots[:LORA_SLOTS]
        elif key == "default_sampler":
            if value in SAMPLER_NAMES:
                doc["sampler"] = SAMPLER_NAMES[value]
            else:
                warnings.append(
                    f"sampler {value!r} has no diffusers equivalent here; kept {doc['sampler']!r}"
                )
        elif key == "default_scheduler":
            if value in SCHEDULER_NAMES:
                doc["scheduler"] = SCHEDULER_NAMES[value]
            else:
                warnings.append(f"scheduler {value!r} is not available; kept {doc['scheduler']!r}")
        else:
            warnings.append(f"{key} is not used by fooocus-widgets")
    if doc.get("base_model") == "None":
        doc["base_model"] = ""
    try:
        return PanelState.from_dict(doc), warnings
    except ValueError as exc:
        raise PresetError(f"{name}: {exc}") from None
