"""Prompt encoding for SDXL without the 77-token cut, the way Fooocus does it.

Each prompt piece (the user's prompt, each style's text) is tokenized whole, split into chunks of
75 tokens, each chunk framed with start/end tokens and padded to 77, encoded by both text
encoders, and the chunks are joined along the sequence. The pooled embedding comes from the
first chunk. For a single short prompt at CLIP skip 2 the result equals diffusers' own
`encode_prompt`. CLIP skip counts as Fooocus does: 1 is the last layer (normalised), 2 the one
before (SDXL's usual), and so on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["encode_prompt_pair"]

CHUNK = 75


def _chunks(tokenizer: Any, pieces: Sequence[str]) -> list[list[int]]:
    bos, eos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    rows: list[list[int]] = []
    for piece in pieces:
        ids = tokenizer(piece, add_special_tokens=False, truncation=False).input_ids
        for start in range(0, max(len(ids), 1), CHUNK):
            part = ids[start : start + CHUNK]
            rows.append([bos, *part, eos] + [pad] * (CHUNK - len(part)))
    return rows


# Adapted from diffusers src/diffusers/pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py
# StableDiffusionXLPipeline.encode_prompt (the loop over the two text encoders).
# Differs: takes token rows already chunked (several 77-token rows per prompt, joined along the
# sequence afterwards) instead of one truncated row; CLIP skip counts Fooocus's way
# (`hidden_states[-clip_skip]`, 1 = the normalised last layer; diffusers takes
# `hidden_states[-(clip_skip + 2)]`, `[-2]` by default); the pooled embedding is the first chunk's
# `text_embeds` of text encoder 2 (diffusers: output `[0]`, the same tensor).
def _encode(
    pipe: Any, rows_1: list[list[int]], rows_2: list[list[int]], clip_skip: int
) -> tuple[torch.Tensor, torch.Tensor]:
    features = []
    pooled: torch.Tensor | None = None
    for encoder, rows in ((pipe.text_encoder, rows_1), (pipe.text_encoder_2, rows_2)):
        ids = torch.tensor(rows, dtype=torch.long, device=encoder.device)
        out = encoder(ids, output_hidden_states=True)
        hidden = out.last_hidden_state if clip_skip == 1 else out.hidden_states[-clip_skip]
        features.append(hidden.reshape(1, -1, hidden.shape[-1]))
        if encoder is pipe.text_encoder_2:
            pooled = out.text_embeds[:1]
    assert pooled is not None
    return torch.cat(features, dim=-1), pooled


# Adapted from diffusers src/diffusers/pipelines/stable_diffusion_xl/pipeline_stable_diffusion_xl.py
# StableDiffusionXLPipeline.encode_prompt (the negative branch: `zero_out_negative_prompt`).
# Differs: "no negative" is an empty list of pieces (diffusers: `negative_prompt is None`); the
# positive and negative are padded to the same number of chunks, not to the positive's length in tokens.
@torch.no_grad()
def encode_prompt_pair(
    pipe: Any, positive: Sequence[str], negative: Sequence[str], clip_skip: int, *, guidance: bool
) -> dict[str, torch.Tensor]:
    """The ``prompt_embeds`` / ``pooled_prompt_embeds`` (and negatives) keyword arguments.

    Positive and negative get the same number of chunks (the shorter is padded with encoded empty
    chunks). An empty negative gives zeros where the model asks for it
    (``force_zeros_for_empty_prompt``), as diffusers does.
    """
    pos_1, pos_2 = _chunks(pipe.tokenizer, positive), _chunks(pipe.tokenizer_2, positive)
    zeros_for_empty = not negative and bool(getattr(pipe.config, "force_zeros_for_empty_prompt", False))
    neg_1 = _chunks(pipe.tokenizer, negative or [""])
    neg_2 = _chunks(pipe.tokenizer_2, negative or [""])
    if guidance and not zeros_for_empty:
        length = max(len(pos_1), len(neg_1))
        empty_1, empty_2 = _chunks(pipe.tokenizer, [""])[0], _chunks(pipe.tokenizer_2, [""])[0]
        pos_1 += [empty_1] * (length - len(pos_1))
        pos_2 += [empty_2] * (length - len(pos_2))
        neg_1 += [empty_1] * (length - len(neg_1))
        neg_2 += [empty_2] * (length - len(neg_2))
    embeds, pooled = _encode(pipe, pos_1, pos_2, clip_skip)
    kwargs = {"prompt_embeds": embeds, "pooled_prompt_embeds": pooled}
    if guidance:
        if zeros_for_empty:
            kwargs["negative_prompt_embeds"] = torch.zeros_like(embeds)
            kwargs["negative_pooled_prompt_embeds"] = torch.zeros_like(pooled)
        else:
            neg, neg_pooled = _encode(pipe, neg_1, neg_2, clip_skip)
            kwargs["negative_prompt_embeds"] = neg
            kwargs["negative_pooled_prompt_embeds"] = neg_pooled
    return kwargs
