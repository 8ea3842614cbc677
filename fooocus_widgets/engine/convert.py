"""diffusers -> original SDXL single-file key layout (the format Fooocus users have).

diffusers converts only the other way (original -> diffusers, when it loads a single file). The
demo checkpoints are written in the original layout so that they go through exactly the loading
path a real checkpoint takes. Block indices are derived from the model configs, so the same code
serves the tiny demo architecture and the full SDXL one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

__all__ = ["pipeline_to_original_state_dict"]

_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0",
    "add_embedding.linear_2": "label_emb.0.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
}
_VAE_ATTENTION = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}
_TE2_TOP = {
    "text_model.embeddings.position_embedding.weight": "positional_embedding",
    "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
    "text_model.final_layer_norm.weight": "ln_final.weight",
    "text_model.final_layer_norm.bias": "ln_final.bias",
}


def _resnet(rest: str) -> str:
    head, _, tail = rest.partition(".")
    return f"{_RESNET[head]}.{tail}"


def _unet_key(key: str, per_block: int, up_has_attention: list[bool]) -> str:
    module, _, param = key.rpartition(".")
    if module in _UNET_TOP:
        return f"{_UNET_TOP[module]}.{param}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
        index = (per_block + 1) * int(m[1]) + int(m[3]) + 1
        return (
            f"input_blocks.{index}.0.{_resnet(m[4])}"
            if m[2] == "resnets"
            else f"input_blocks.{index}.1.{m[4]}"
        )
    if m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.*)", key):
        return f"input_blocks.{(per_block + 1) * (int(m[1]) + 1)}.0.op.{m[2]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.(resnets|attentions)\.(\d+)\.(.*)", key):
        index = (per_block + 1) * int(m[1]) + int(m[3])
        return (
            f"output_blocks.{index}.0.{_resnet(m[4])}"
            if m[2] == "resnets"
            else f"output_blocks.{index}.1.{m[4]}"
        )
    if m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.*)", key):
        block = int(m[1])
        slot = 2 if up_has_attention[block] else 1
        return f"output_blocks.{(per_block + 1) * block + per_block}.{slot}.conv.{m[2]}"
    if m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.(.*)", key):
        return f"middle_block.{2 * int(m[1])}.{_resnet(m[2])}"
    if m := re.fullmatch(r"mid_block\.attentions\.0\.(.*)", key):
        return f"middle_block.1.{m[1]}"
    raise KeyError(f"UNet key {key!r} has no place in the original layout")


# Inverse of diffusers src/diffusers/loaders/single_file_utils.py convert_ldm_unet_checkpoint
# (with `update_unet_resnet_ldm_to_diffusers` and `update_unet_attention_ldm_to_diffusers`):
# the same block-index arithmetic, run the other way; EMA weights and the controlnet and
# class-embedding variants are left out.
def unet_to_original(state: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """UNet weights under ``model.diffusion_model.``."""
    per_block = int(config["layers_per_block"])
    up_has_attention = ["CrossAttn" in t for t in config["up_block_types"]]
    return {f"model.diffusion_model.{_unet_key(k, per_block, up_has_attention)}": v for k, v in state.items()}


# Inverse of diffusers src/diffusers/loaders/single_file_utils.py convert_ldm_vae_checkpoint
# (with `update_vae_resnet_ldm_to_diffusers` and `update_vae_attentions_ldm_to_diffusers`,
# which squeeze the 1x1 attention convs to linears; here they are reshaped back).
def vae_to_original(state: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """VAE weights under ``first_stage_model.``; mid-block attention linears become 1x1 convs."""
    blocks = len(config["block_out_channels"])
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        value, new = tensor, key
        if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
            new = f"encoder.down.{m[1]}.block.{m[2]}.{m[3]}"
        elif m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.(.*)", key):
            new = f"encoder.down.{m[1]}.downsample.{m[2]}"
        elif m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.*)", key):
            new = f"decoder.up.{blocks - 1 - int(m[1])}.block.{m[2]}.{m[3]}"
        elif m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.(.*)", key):
            new = f"decoder.up.{blocks - 1 - int(m[1])}.upsample.{m[2]}"
        elif m := re.fullmatch(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.*)", key):
            new = f"{m[1]}.mid.block_{int(m[2]) + 1}.{m[3]}"
        elif m := re.fullmatch(r"(encoder|decoder)\.mid_block\.attentions\.0\.(.*)\.(weight|bias)", key):
            new = f"{m[1]}.mid.attn_1.{_VAE_ATTENTION[m[2]]}.{m[3]}"
            if m[3] == "weight" and m[2] != "group_norm":
                value = value.reshape(*value.shape, 1, 1)
        new = new.replace("conv_shortcut", "nin_shortcut").replace("conv_norm_out", "norm_out")
        out[f"first_stage_model.{new}"] = value
    return out


# Inverse of diffusers src/diffusers/loaders/single_file_utils.py convert_ldm_clip_checkpoint
# (which strips the prefix this adds).
def text_encoder_to_original(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CLIP ViT-L weights under ``conditioner.embedders.0.transformer.text_model.``."""
    prefix = "conditioner.embedders.0.transformer."
    return {prefix + (k if k.startswith("text_model.") else f"text_model.{k}"): v for k, v in state.items()}


# Inverse of diffusers src/diffusers/loaders/single_file_utils.py convert_open_clip_checkpoint
# (which splits `in_proj_*` into q/k/v and transposes `text_projection`; here they are joined
# and transposed back).
def text_encoder_2_to_original(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """OpenCLIP bigG weights under ``conditioner.embedders.1.model.``.

    q/k/v are joined into ``in_proj_*`` and the text projection is transposed, as open_clip stores them.
    """
    prefix = "conditioner.embedders.1.model."
    out: dict[str, torch.Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, torch.Tensor]] = {}
    for name, value in state.items():
        key = name if name.startswith(("text_model.", "text_projection")) else f"text_model.{name}"
        if key in _TE2_TOP:
            out[prefix + _TE2_TOP[key]] = value
        elif key == "text_projection.weight":
            out[prefix + "text_projection"] = value.T.contiguous()
        elif m := re.fullmatch(r"text_model\.encoder\.layers\.(\d+)\.(.*)", key):
            layer, rest = m[1], m[2]
            if part := re.fullmatch(r"self_attn\.([qkv])_proj\.(weight|bias)", rest):
                qkv.setdefault((layer, part[2]), {})[part[1]] = value
                continue
            rest = (
                rest.replace("layer_norm1", "ln_1")
                .replace("layer_norm2", "ln_2")
                .replace("mlp.fc1", "mlp.c_fc")
                .replace("mlp.fc2", "mlp.c_proj")
                .replace("self_attn.out_proj", "attn.out_proj")
            )
            out[f"{prefix}transformer.resblocks.{layer}.{rest}"] = value
        else:
            raise KeyError(f"text encoder 2 key {key!r} has no place in the original layout")
    for (layer, param), parts in qkv.items():
        out[f"{prefix}transformer.resblocks.{layer}.attn.in_proj_{param}"] = torch.cat(
            [parts["q"], parts["k"], parts["v"]]
        )
    return out


def pipeline_to_original_state_dict(pipe: Any) -> dict[str, torch.Tensor]:
    """All four models of an SDXL pipeline as one original-layout state dict (contiguous copies)."""
    state: dict[str, torch.Tensor] = {}
    state.update(unet_to_original(pipe.unet.state_dict(), pipe.unet.config))
    state.update(vae_to_original(pipe.vae.state_dict(), pipe.vae.config))
    state.update(text_encoder_to_original(pipe.text_encoder.state_dict()))
    state.update(text_encoder_2_to_original(pipe.text_encoder_2.state_dict()))
    return {k: v.detach().contiguous().clone() for k, v in state.items()}
