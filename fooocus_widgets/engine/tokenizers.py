"""SDXL's two CLIP tokenizers, built from the CLIP BPE merges shipped in this package.

Real SDXL single-file checkpoints carry no tokenizer, and diffusers would fetch one from the Hub.
Both SDXL text encoders use OpenAI CLIP's byte-pair encoding; its merge list ships here
(``sdxl/clip_bpe_simple_vocab_16e6.txt.gz``, MIT) and the vocabulary is derived from it exactly as
CLIP does: the 256 byte characters, the same with ``</w>``, one token per merge, then
``<|startoftext|>`` and ``<|endoftext|>`` (49,408 tokens).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["BPE_FILE", "VOCAB_SIZE", "clip_merges", "clip_vocab", "sdxl_tokenizers"]

BPE_FILE = Path(__file__).parent / "sdxl" / "clip_bpe_simple_vocab_16e6.txt.gz"
VOCAB_SIZE = 49_408
_MERGES = VOCAB_SIZE - 256 * 2 - 2


@cache
def _bytes_to_unicode() -> tuple[str, ...]:
    """CLIP's stand-in character for each byte, in CLIP's vocabulary order: the printable bytes
    first (as themselves), then the others (mapped past U+00FF).
    """
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    others = [b for b in range(256) if b not in printable]
    return tuple(chr(b) for b in printable) + tuple(chr(256 + i) for i in range(len(others)))


@cache
def clip_merges() -> tuple[tuple[str, str], ...]:
    """The 48,894 BPE merges of CLIP, in priority order."""
    lines = gzip.decompress(BPE_FILE.read_bytes()).decode("utf-8").split("\n")
    merges = tuple(tuple(line.split()) for line in lines[1 : _MERGES + 1])
    if len(merges) != _MERGES or any(len(m) != 2 for m in merges):
        raise RuntimeError(f"{BPE_FILE} is damaged: expected {_MERGES} merges")
    return merges  # type: ignore[return-value]


@cache
def clip_vocab() -> dict[str, int]:
    """CLIP's token -> id table, derived from the merges."""
    chars = _bytes_to_unicode()
    tokens = [*chars, *(c + "</w>" for c in chars), *("".join(m) for m in clip_merges())]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != VOCAB_SIZE:
        raise RuntimeError(f"derived CLIP vocabulary has {len(vocab)} tokens, expected {VOCAB_SIZE}")
    return vocab


@cache
def sdxl_tokenizers() -> tuple[Any, Any]:
    """``(tokenizer, tokenizer_2)`` as SDXL base uses them (built once, shared: they hold no state).

    Both share CLIP's vocabulary; the first pads with ``<|endoftext|>``, the second (OpenCLIP
    bigG) with ``!``, as in the SDXL base release.
    """
    from transformers import CLIPTokenizer

    merges = list(clip_merges())
    common: dict[str, Any] = {
        "vocab": dict(clip_vocab()),
        "merges": merges,
        "model_max_length": 77,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
    }
    tokenizer = CLIPTokenizer(**common, pad_token="<|endoftext|>")  # noqa: S106 -- a token, not a password
    tokenizer_2 = CLIPTokenizer(**common, pad_token="!")  # noqa: S106
    return tokenizer, tokenizer_2
