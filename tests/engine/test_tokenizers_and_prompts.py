"""SDXL's CLIP tokenizers from the shipped BPE data, and long-prompt encoding."""

from __future__ import annotations

from pathlib import Path

import torch

from fooocus_widgets.engine.models import ModelManager
from fooocus_widgets.engine.prompts import encode_prompt_pair
from fooocus_widgets.engine.tokenizers import VOCAB_SIZE, clip_vocab, sdxl_tokenizers
from fooocus_widgets.params import ModelRef


def test_tokenizers_give_clips_ids() -> None:
    tokenizer, tokenizer_2 = sdxl_tokenizers()
    # ids of OpenAI CLIP's tokenizer for this text (as published with CLIP and SDXL)
    assert tokenizer("a photo of an astronaut riding a horse").input_ids == [
        49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 49407,
    ]  # fmt: skip
    assert len(clip_vocab()) == VOCAB_SIZE
    assert (tokenizer.pad_token_id, tokenizer_2.pad_token_id) == (49407, 0)  # "<|endoftext|>" and "!"
    assert tokenizer.model_max_length == 77


def test_any_text_tokenizes(demo_dir: Path) -> None:
    tokenizer, _ = sdxl_tokenizers()
    ids = tokenizer('Ünïcödé 🦊 "quotes" \\ <b>html</b>\nnew line', add_special_tokens=False).input_ids
    assert ids
    assert all(0 <= i < VOCAB_SIZE for i in ids)


def _pipe(demo_dir: Path):  # type: ignore[no-untyped-def]
    manager = ModelManager(torch.device("cpu"), torch.float32)
    return manager.pipeline(
        ModelRef("a", demo_dir / "checkpoints" / "demo-sdxl-a.safetensors", "single_file")
    )


def test_short_prompt_encodes_exactly_like_diffusers(demo_dir: Path) -> None:
    pipe = _pipe(demo_dir)
    ours = encode_prompt_pair(pipe, ["a red fox in snow"], ["blurry"], 2, guidance=True)
    theirs = pipe.encode_prompt(
        prompt="a red fox in snow", negative_prompt="blurry", device="cpu", do_classifier_free_guidance=True
    )
    names = [
        "prompt_embeds",
        "negative_prompt_embeds",
        "pooled_prompt_embeds",
        "negative_pooled_prompt_embeds",
    ]
    for name, tensor in zip(names, theirs, strict=True):
        assert torch.equal(ours[name], tensor), name


def test_long_prompts_are_not_cut_at_77_tokens(demo_dir: Path) -> None:
    pipe = _pipe(demo_dir)
    long = " ".join(["a very long prompt about a lighthouse"] * 20)  # ~140 tokens
    short = encode_prompt_pair(pipe, [long[:60]], [], 2, guidance=True)
    full = encode_prompt_pair(pipe, [long, "second piece"], [], 2, guidance=True)
    assert short["prompt_embeds"].shape[1] == 77
    assert full["prompt_embeds"].shape[1] == 77 * 3  # two chunks for the long piece, one for the second
    # positive and negative always match in length (empty negative: zeros, as diffusers does)
    assert full["negative_prompt_embeds"].shape == full["prompt_embeds"].shape
    assert not full["negative_prompt_embeds"].any()


def test_clip_skip_changes_the_layer(demo_dir: Path) -> None:
    pipe = _pipe(demo_dir)
    two = encode_prompt_pair(pipe, ["a cat"], ["dog"], 2, guidance=False)["prompt_embeds"]
    one = encode_prompt_pair(pipe, ["a cat"], ["dog"], 1, guidance=False)["prompt_embeds"]
    assert two.shape == one.shape
    assert not torch.equal(one, two)
