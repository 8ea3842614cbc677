"""The demo's frozen text encoders and the prompt conditioning the UNet is trained on.

The two CLIP text encoders keep random weights (the UNet learns to read them). Their token
embeddings are the bulk of their size, so they are not shipped: `token_embeddings` draws them
again from a seed, the same on every machine. Captions are encoded by the engine's own
`encode_prompt_pair` (chunks of 77 tokens, CLIP skip 2, pooled output of encoder 2), so what the
UNet sees in training is exactly what the panel feeds it. Some captions are wrapped in the
shipped styles (the panel's defaults add "Enhance" and "Sharp") and the unconditional side mixes
zeros (an empty negative prompt) with the styles' negative prompts, so guidance works on the
panel's default path too.
"""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import torch

from ..engine.demo import demo_configs
from ..engine.prompts import encode_prompt_pair
from ..engine.tokenizers import VOCAB_SIZE, sdxl_tokenizers
from ..styles import load_styles, styled_prompts

__all__ = ["CaptionEncoder", "build_text_encoders", "token_embeddings"]

TOKEN_EMBEDDING_STD = 0.5
CLIP_SKIP = 2
MAX_CHUNKS = 3


def token_embeddings(seed: int, width: int) -> torch.Tensor:
    """The token embedding table of a demo text encoder, drawn from `seed` (fp32)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(VOCAB_SIZE, width, generator=generator) * TOKEN_EMBEDDING_STD


def build_text_encoders(seed: int) -> tuple[Any, Any]:
    """Both demo text encoders with random weights from `seed` (token embeddings included)."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    configs = demo_configs()
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        first = CLIPTextModel(CLIPTextConfig(**configs["text_encoder"]))
        second = CLIPTextModelWithProjection(CLIPTextConfig(**configs["text_encoder_2"]))
    finally:
        torch.random.set_rng_state(state)
    encoder: Any
    for offset, encoder in enumerate((first, second)):
        table = token_embeddings(seed + offset, encoder.config.hidden_size)
        with torch.no_grad():
            encoder.get_input_embeddings().weight.copy_(table)
        encoder.requires_grad_(False).eval()
    return first, second


class CaptionEncoder:
    """Encodes captions as the engine does, caching each distinct prompt."""

    def __init__(self, text_encoder: Any, text_encoder_2: Any) -> None:
        tokenizer, tokenizer_2 = sdxl_tokenizers()
        self._pipe = SimpleNamespace(
            tokenizer=tokenizer,
            tokenizer_2=tokenizer_2,
            text_encoder=text_encoder,
            text_encoder_2=text_encoder_2,
            config=SimpleNamespace(force_zeros_for_empty_prompt=True),
        )
        self._cache: dict[tuple[str, ...], tuple[torch.Tensor, torch.Tensor]] = {}
        library = load_styles()
        self._styles = [library.resolve([name])[0][0] for name in library.names]

    def encode(self, pieces: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """(embeds [chunks*77, width], pooled [width_2]) for prompt pieces, as the engine makes them."""
        if pieces not in self._cache:
            out = encode_prompt_pair(self._pipe, list(pieces), [], CLIP_SKIP, guidance=False)
            self._cache[pieces] = (out["prompt_embeds"][0], out["pooled_prompt_embeds"][0])
        return self._cache[pieces]

    def positive(self, text: str, rng: random.Random, styled: float = 0.35) -> tuple[str, ...]:
        """The pieces for a caption: plain, or (with probability `styled`) wrapped in 1-2 styles."""
        if rng.random() >= styled:
            return (text,)
        chosen = rng.sample(self._styles, rng.choice((1, 2)))
        pieces, _ = styled_prompts(text, "", chosen)
        return tuple(pieces[:MAX_CHUNKS])

    def negative(self, rng: random.Random) -> tuple[str, ...] | None:
        """An unconditional side: None (zeros, an empty negative) or the styles' negative pieces."""
        if rng.random() < 0.5:
            return None
        chosen = rng.sample(self._styles, rng.choice((1, 2)))
        _, pieces = styled_prompts("", "", chosen)
        return tuple(pieces[:MAX_CHUNKS]) or ("",)

    def batch(self, prompts: list[tuple[str, ...] | None]) -> tuple[torch.Tensor, torch.Tensor]:
        """Stacked embeds (padded with encoded empty chunks, as the engine pads) and pooled.

        None stands for the zeros an empty negative prompt gives.
        """
        encoded = [self.encode(p) if p is not None else None for p in prompts]
        length = max((e[0].shape[0] for e in encoded if e is not None), default=77)
        empty, _ = self.encode(("",))
        width = empty.shape[-1]
        pooled_width = self.encode(("",))[1].shape[-1]
        embeds, pooled = [], []
        for item in encoded:
            if item is None:
                embeds.append(torch.zeros(length, width))
                pooled.append(torch.zeros(pooled_width))
                continue
            padding = [empty] * ((length - item[0].shape[0]) // empty.shape[0])
            embeds.append(torch.cat([item[0], *padding]))
            pooled.append(item[1])
        return torch.stack(embeds), torch.stack(pooled)
