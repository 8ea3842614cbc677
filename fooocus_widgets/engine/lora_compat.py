"""Whether a LoRA fits the loaded SDXL model, judged from its weights before anything is loaded.

diffusers' own `lora_state_dict` reads the file and renames kohya / A1111 / older diffusers keys
to diffusers names under ``unet.``, ``text_encoder.`` and ``text_encoder_2.``; the per-model
renaming that `load_lora_weights` then does gives PEFT names (``<module>.lora_A.weight``,
``<module>.lora_B.weight``). Each down/up pair must name a layer of that model which a LoRA can
adapt (a Linear or a Conv2d) and whose sizes match: a Linear with weight ``[out, in]`` takes
down ``[r, in]`` and up ``[out, r]``; a Conv2d with weight ``[out, in, kh, kw]`` takes down
``[r, in, kh, kw]`` and up ``[out, r, 1, 1]``. A LoRA for another model (SD 1.5, a wider or
narrower SDXL variant, a different architecture) names layers that do not exist here or has
other sizes; `check_lora_fits` refuses it with a `ModelFileError` before the pipeline is touched.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch

from ..errors import ModelFileError

__all__ = ["LoraPair", "Misfit", "check_lora_fits", "find_misfits", "read_lora_pairs"]

#: The pipeline's models a LoRA can target, as diffusers prefixes its keys.
COMPONENTS = ("unet", "text_encoder", "text_encoder_2")

_PAIR_KEY = re.compile(r"(?P<module>.+)\.(?P<part>lora_A|lora_B|lora\.down|lora\.up)\.weight")
_DOWN_PARTS = ("lora_A", "lora.down")


@dataclass(frozen=True)
class LoraPair:
    """The down and up matrices a LoRA has for one layer (None where the file lacks one)."""

    component: str
    """"unet", "text_encoder" or "text_encoder_2"; "" when the key names none of them."""
    module: str
    """The layer's name inside that model, e.g. ``down_blocks.1.attentions.0.proj_in``."""
    down: tuple[int, ...] | None
    up: tuple[int, ...] | None

    @property
    def name(self) -> str:
        """The layer's name with its model, as in the file: ``unet.down_blocks...``."""
        return f"{self.component}.{self.module}" if self.component else self.module


@dataclass(frozen=True)
class Misfit:
    """A LoRA layer that does not fit the model, and why."""

    pair: LoraPair
    problem: str

    def __str__(self) -> str:
        return f"{self.pair.name} ({self.problem})"


# ---- reading ----------------------------------------------------------------------------------


def _by_component(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The state dict split by the model its keys start with ("" for keys that name none)."""
    parts: dict[str, dict[str, Any]] = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        component = head if head in COMPONENTS and rest else ""
        parts.setdefault(component, {})[rest if component else key] = value
    return parts


def _to_peft_names(pipe: Any, component: str, state: dict[str, Any]) -> dict[str, Any]:
    """Rename one model's LoRA keys as `load_lora_weights` does before it hands them to PEFT."""
    from diffusers.utils.state_dict_utils import (
        convert_state_dict_to_diffusers,
        convert_state_dict_to_peft,
        convert_unet_state_dict_to_peft,
    )

    if component == "unet":
        # as diffusers' `load_lora_adapter`: the first key tells whether it is in PEFT format already
        return state if "lora_A" in next(iter(state)) else dict(convert_unet_state_dict_to_peft(state))
    if component not in COMPONENTS:
        return state
    # as diffusers' `_load_lora_into_text_encoder`
    with contextlib.suppress(ValueError):  # a layout diffusers cannot name: check the pairs as they are
        state = dict(convert_state_dict_to_peft(convert_state_dict_to_diffusers(state)))
    if not hasattr(getattr(pipe, component, None), "text_model"):
        # transformers 5 flattened CLIPTextModel; older LoRAs still say `text_model.`
        state = {k.removeprefix("text_model."): v for k, v in state.items()}
    return state


def _pairs(component: str, state: Mapping[str, Any]) -> list[LoraPair]:
    """The down/up pairs among one model's keys (other keys, like alphas, are not layers)."""
    shapes: dict[str, dict[str, tuple[int, ...]]] = {}
    for key, value in state.items():
        if match := _PAIR_KEY.fullmatch(key):
            side = "down" if match["part"] in _DOWN_PARTS else "up"
            shapes.setdefault(match["module"], {})[side] = tuple(value.shape)
    return [LoraPair(component, module, s.get("down"), s.get("up")) for module, s in shapes.items()]


def read_lora_pairs(pipe: Any, path: Path, name: str | None = None) -> list[LoraPair]:
    """The LoRA layers of the file at `path`, named as they would be loaded into `pipe`.

    Raises `ModelFileError` (naming the LoRA `name`, else the file name) when diffusers cannot
    read the file as a LoRA.
    """
    try:
        state, _alphas = pipe.lora_state_dict(
            str(path.parent), weight_name=path.name, unet_config=pipe.unet.config, local_files_only=True
        )
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ModelFileError(
            f"LoRA {name or path.name} could not be read as a LoRA ({first}). Use an SDXL LoRA saved by "
            "kohya-ss, diffusers or PEFT."
        ) from None
    pairs: list[LoraPair] = []
    for component, part in _by_component(state).items():
        pairs += _pairs(component, _to_peft_names(pipe, component, part))
    return pairs


# ---- comparing --------------------------------------------------------------------------------


def _layer(pipe: Any, pair: LoraPair) -> torch.nn.Module | None:
    """The layer `pair` targets (unwrapped from a PEFT adapter already on it), or None."""
    model = getattr(pipe, pair.component, None) if pair.component else None
    if not isinstance(model, torch.nn.Module):
        return None
    try:
        layer = model.get_submodule(pair.module)
    except AttributeError:
        return None
    unwrap = getattr(layer, "get_base_layer", None)
    base = unwrap() if callable(unwrap) else layer
    return base if isinstance(base, torch.nn.Module) else None


class _Expected(NamedTuple):
    """A layer's weight shape and the down and up shapes a LoRA of some rank needs for it."""

    weight: tuple[int, ...]
    down: tuple[int, ...]
    up: tuple[int, ...]


def _expected(layer: torch.nn.Module, rank: int) -> _Expected | None:
    """What a rank-`rank` LoRA needs for `layer` (as PEFT builds it); None where LoRA cannot apply."""
    if isinstance(layer, torch.nn.Linear):
        out_features, in_features = layer.weight.shape
        return _Expected(tuple(layer.weight.shape), (rank, in_features), (out_features, rank))
    if isinstance(layer, torch.nn.Conv2d):
        out_channels, _, kh, kw = layer.weight.shape
        return _Expected(
            tuple(layer.weight.shape), (rank, layer.in_channels, kh, kw), (out_channels, rank, 1, 1)
        )
    return None


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _problem(pipe: Any, pair: LoraPair) -> str | None:
    """Why `pair` does not fit `pipe`, or None when it does."""
    if pair.down is None or pair.up is None:
        present = "down" if pair.down is not None else "up"
        return f"it has a {present} matrix without its other half"
    layer = _layer(pipe, pair)
    if layer is None:
        return "no such layer in this model"
    expected = _expected(layer, pair.down[0] if pair.down else 0)
    if expected is None:
        return f"the model's layer is a {type(layer).__name__}, which a LoRA cannot adapt"
    if (pair.down, pair.up) == (expected.down, expected.up):
        return None
    return (
        f"LoRA down {_shape(pair.down)} / up {_shape(pair.up)}; the model's "
        f"{type(layer).__name__} weight is {_shape(expected.weight)}"
    )


def find_misfits(pipe: Any, pairs: Iterable[LoraPair]) -> list[Misfit]:
    """The pairs that do not fit `pipe`'s models, each with its reason."""
    return [Misfit(pair, problem) for pair in pairs if (problem := _problem(pipe, pair)) is not None]


def check_lora_fits(pipe: Any, path: Path, name: str | None = None) -> int:
    """Refuse (`ModelFileError`) a LoRA whose modules do not all exist in `pipe` with its sizes.

    Reads the file, changes nothing on `pipe`; returns how many modules were checked. The message
    names the LoRA (`name`, else the file name), how many of its modules do not fit and one example.
    """
    label = name or path.name
    pairs = read_lora_pairs(pipe, path, label)
    misfits = find_misfits(pipe, pairs)
    if misfits:
        raise ModelFileError(
            f"LoRA {label} does not fit this SDXL model: {len(misfits)} of its {len(pairs)} modules do "
            f"not fit, e.g. {misfits[0]}. Use a LoRA made for SDXL."
        )
    return len(pairs)
