"""The embedded demo models: small SDXL-architecture files made offline, deterministically.

``python -m fooocus_widgets demo-models DIR`` writes, in the layout a user keeps real models in::

    DIR/checkpoints/demo-sdxl-a.safetensors   two base models (original single-file layout),
    DIR/checkpoints/demo-sdxl-b.safetensors   so that model switching can be shown
    DIR/loras/demo-detail.safetensors         two LoRAs for the LoRA slots
    DIR/loras/demo-style.safetensors
    DIR/loras/sdxl_lcm_lora.safetensors, sdxl_lightning_4step_lora.safetensors,
        sdxl_hyper_sd_4step_lora.safetensors   stand-ins for the fast performance modes
    DIR/styles/demo-styles.json               a user style file
    DIR/README.txt

They use SDXL's block layout with tiny widths, SDXL's real CLIP tokenizers, and carry their
diffusers configs in the file's metadata, so they load through the same `from_single_file` path
as a real checkpoint. Their weights are assembled from the trained ones shipped in
``fooocus_widgets/demo/weights`` (see `fooocus_widgets.demo`: a synthetic world of coloured
shapes, `fooocus_widgets.demo.world.VOCABULARY`); where that folder is incomplete the weights
are random and every image is noise. The fast-mode LoRA stand-ins are always random.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..demo.weights import WEIGHTS_DIR, load_component
from .checkpoints import CONFIG_METADATA_KEY
from .convert import pipeline_to_original_state_dict
from .tokenizers import VOCAB_SIZE, sdxl_tokenizers

__all__ = [
    "DEMO_CHECKPOINTS",
    "DEMO_LORAS",
    "build_demo_pipeline",
    "demo_configs",
    "write_demo_models",
    "write_sdxl_size_checkpoint",
]

DEMO_CHECKPOINTS = {"demo-sdxl-a.safetensors": 1, "demo-sdxl-b.safetensors": 2}
DEMO_LORAS = {
    "demo-detail.safetensors": 11,
    "demo-style.safetensors": 12,
    "sdxl_lcm_lora.safetensors": 13,
    "sdxl_lightning_4step_lora.safetensors": 14,
    "sdxl_hyper_sd_4step_lora.safetensors": 15,
}
DEMO_STYLES = [
    {"name": "Demo Noise Poster", "prompt": "poster of {prompt}, bold shapes", "negative_prompt": "text"},
    {"name": "Demo Blueprint", "prompt": "blueprint drawing of {prompt}", "negative_prompt": "colour photo"},
]
_README_HEAD = """\
fooocus-widgets demo models
===========================

These files are made by `python -m fooocus_widgets demo-models`. They have the SDXL architecture
(tiny widths). They exist so that the panel, model switching, LoRAs and the fast performance
modes can be tried and tested without downloading anything.
"""
_README_TAIL = """
To use a real model, put an SDXL .safetensors checkpoint in a `checkpoints` folder (LoRAs in
`loras`) and point the panel at the folder above it:

    fw.FooocusPanel(models_dir="/path/to/models")     # or: export FOOOCUS_WIDGETS_MODELS=/path/to/models
"""
README_RANDOM = (
    _README_HEAD
    + """
These have RANDOM weights (no trained demo weights were found): every image they generate is noise.
"""
    + _README_TAIL
)
README_TRAINED_BODY = """
They were trained (on a CPU, in minutes) on a tiny synthetic world, and they draw only that:
"""


def _trained_readme() -> str:
    from ..demo.world import VOCABULARY

    return _README_HEAD + README_TRAINED_BODY + "\n" + VOCABULARY + _README_TAIL


def demo_configs() -> dict[str, dict[str, Any]]:
    """The diffusers configs of the demo architecture (SDXL's blocks, tiny widths)."""
    text = {
        "vocab_size": VOCAB_SIZE,
        "max_position_embeddings": 77,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "bos_token_id": 49406,
        "eos_token_id": 49407,
        "pad_token_id": 49407,
        "layer_norm_eps": 1e-5,
    }
    return {
        # the two encoders MUST differ in width: the single-file loader tells them apart by it
        "text_encoder": {**text, "hidden_size": 32, "projection_dim": 32, "hidden_act": "quick_gelu"},
        "text_encoder_2": {**text, "hidden_size": 48, "projection_dim": 32, "hidden_act": "gelu"},
        "unet": {
            "sample_size": 128,
            "in_channels": 4,
            "out_channels": 4,
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
            "mid_block_type": "UNetMidBlock2DCrossAttn",
            "block_out_channels": [16, 32, 64],
            "layers_per_block": 2,
            "attention_head_dim": [1, 1, 2],  # heads per level (16-32 channels each): cheap on a CPU
            "transformer_layers_per_block": [1, 1, 2],
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "addition_embed_type_num_heads": 64,
            "projection_class_embeddings_input_dim": 6 * 8 + 32,
            "cross_attention_dim": 32 + 48,
            "norm_num_groups": 4,  # 4-16 channels a group: a flat latent keeps its colour
        },
        "vae": {
            "in_channels": 3,
            "out_channels": 3,
            "latent_channels": 4,
            "down_block_types": ["DownEncoderBlock2D"] * 4,
            "up_block_types": ["UpDecoderBlock2D"] * 4,
            # one group per GroupNorm; the weights are written by hand (fooocus_widgets.demo.vae_weights)
            "block_out_channels": [16, 32, 32, 32],
            "layers_per_block": 1,
            "norm_num_groups": 1,
            "sample_size": 1024,
            "scaling_factor": 0.13025,
            "force_upcast": False,
        },
        "scheduler": {
            "beta_start": 0.00085,
            "beta_end": 0.012,
            "beta_schedule": "scaled_linear",
            "num_train_timesteps": 1000,
            "steps_offset": 1,
            "timestep_spacing": "leading",
            "prediction_type": "epsilon",
            "interpolation_type": "linear",
            "use_karras_sigmas": False,
        },
    }


def build_demo_pipeline(seed: int) -> Any:
    """A demo-architecture SDXL pipeline with weights drawn from `seed` (in memory)."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    configs = demo_configs()
    tokenizer, tokenizer_2 = sdxl_tokenizers()
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        text_encoder = CLIPTextModel(CLIPTextConfig(**configs["text_encoder"]))
        text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**configs["text_encoder_2"]))
        unet = UNet2DConditionModel(**configs["unet"])
        vae = AutoencoderKL(**configs["vae"])
    finally:
        torch.random.set_rng_state(generator_state)
    pipe: Any = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=EulerDiscreteScheduler(**configs["scheduler"]),
        add_watermarker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _embedded_configs(pipe: Any) -> str:
    """The configs a loader needs, as saved in the checkpoint's metadata.

    diffusers' private bookkeeping keys (``_use_default_values`` comes out in set order) are left
    out, so that the same models always give the same bytes.
    """

    def public(config: Any) -> dict[str, Any]:
        return {k: v for k, v in dict(config).items() if not k.startswith("_") or k == "_class_name"}

    return json.dumps(
        {
            "unet": public(pipe.unet.config),
            "vae": public(pipe.vae.config),
            "text_encoder": public(pipe.text_encoder.config.to_dict()),
            "text_encoder_2": public(pipe.text_encoder_2.config.to_dict()),
            "scheduler": public(pipe.scheduler.config),
        },
        sort_keys=True,
        default=list,
    )


#: The trained weight file each demo file is assembled from (in ``demo.weights.WEIGHTS_DIR``).
TRAINED_FILES = {
    "demo-sdxl-a.safetensors": "unet_a.safetensors",
    "demo-sdxl-b.safetensors": "unet_b.safetensors",
    "demo-detail.safetensors": "demo-detail.safetensors",
    "demo-style.safetensors": "demo-style.safetensors",
}
_SHARED_FILES = ("text_encoder.safetensors", "text_encoder_2.safetensors", "vae.safetensors")


def trained_weights_present(weights_dir: Path = WEIGHTS_DIR) -> bool:
    """Whether `weights_dir` holds every trained component the demo models are assembled from."""
    names = (*_SHARED_FILES, *TRAINED_FILES.values())
    return all((weights_dir / name).is_file() for name in names)


def build_trained_pipeline(unet_file: str, weights_dir: Path = WEIGHTS_DIR) -> Any:
    """A demo pipeline with the trained weights of `weights_dir` (UNet from `unet_file`)."""
    from ..demo.conditioning import token_embeddings

    pipe = build_demo_pipeline(1)
    for offset, name in enumerate(("text_encoder", "text_encoder_2")):
        encoder = getattr(pipe, name)
        state, metadata = load_component(weights_dir / f"{name}.safetensors")
        # the key's prefix depends on the transformers version
        key = next(k for k in encoder.state_dict() if k.endswith("token_embedding.weight"))
        state[key] = token_embeddings(int(metadata["token_seed"]) + offset, encoder.config.hidden_size)
        encoder.load_state_dict(state, strict=True)
    vae_state, vae_metadata = load_component(weights_dir / "vae.safetensors")
    pipe.vae.load_state_dict(vae_state, strict=True)
    pipe.vae.register_to_config(scaling_factor=float(vae_metadata["scaling_factor"]))
    pipe.unet.load_state_dict(load_component(weights_dir / unet_file)[0], strict=True)
    return pipe


def _save_trained_lora(path: Path, weights_file: Path) -> None:
    from diffusers import StableDiffusionXLPipeline

    layers, _ = load_component(weights_file)
    StableDiffusionXLPipeline.save_lora_weights(
        str(path.parent), unet_lora_layers=layers, weight_name=path.name, safe_serialization=True
    )


def _save_lora(pipe: Any, path: Path, seed: int) -> None:
    from diffusers import StableDiffusionXLPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        config = LoraConfig(
            r=4,
            lora_alpha=4,
            init_lora_weights=False,
            target_modules=["to_q", "to_k", "to_v", "to_out.0"],
        )
        pipe.unet.add_adapter(config, adapter_name="demo")
        # random A and B at init: scale B so the effect is visible but does not blow up the image
        with torch.no_grad():
            for name, param in pipe.unet.named_parameters():
                if "lora_B" in name:
                    param.mul_(0.5)
        layers = get_peft_model_state_dict(pipe.unet, adapter_name="demo")
    finally:
        torch.random.set_rng_state(generator_state)
    StableDiffusionXLPipeline.save_lora_weights(
        str(path.parent), unet_lora_layers=layers, weight_name=path.name, safe_serialization=True
    )
    pipe.unet.delete_adapters("demo")


def write_demo_models(
    directory: Path, *, overwrite: bool = False, weights_dir: Path = WEIGHTS_DIR
) -> list[Path]:
    """Create the demo models under `directory`; existing files are kept unless `overwrite`.

    They are assembled from the trained weights in `weights_dir` when it has them all, else
    (a checkout without trained weights) given random weights.
    """
    from safetensors.torch import save_file

    trained = trained_weights_present(weights_dir)

    checkpoints, loras, styles = directory / "checkpoints", directory / "loras", directory / "styles"
    for folder in (checkpoints, loras, styles):
        folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pipe = None
    for name, seed in DEMO_CHECKPOINTS.items():
        path = checkpoints / name
        if path.exists() and not overwrite:
            continue
        pipe = (
            build_trained_pipeline(TRAINED_FILES[name], weights_dir) if trained else build_demo_pipeline(seed)
        )
        tmp = path.with_name(f".{name}.tmp")
        save_file(
            pipeline_to_original_state_dict(pipe),
            str(tmp),
            # one key only: safetensors keeps metadata in a hash map, so several keys come out in
            # a different order in every process and the file would not be reproducible
            metadata={CONFIG_METADATA_KEY: _embedded_configs(pipe)},
        )
        tmp.replace(path)
        written.append(path)
    for name, seed in DEMO_LORAS.items():
        path = loras / name
        if path.exists() and not overwrite:
            continue
        if trained and name in TRAINED_FILES:
            _save_trained_lora(path, weights_dir / TRAINED_FILES[name])
        else:
            pipe = pipe or build_demo_pipeline(next(iter(DEMO_CHECKPOINTS.values())))
            _save_lora(pipe, path, seed)
        written.append(path)
    style_file = styles / "demo-styles.json"
    if overwrite or not style_file.exists():
        style_file.write_text(json.dumps(DEMO_STYLES, indent=2) + "\n")
        written.append(style_file)
    readme = directory / "README.txt"
    if overwrite or not readme.exists():
        readme.write_text(_trained_readme() if trained else README_RANDOM)
        written.append(readme)
    return written


def write_sdxl_size_checkpoint(
    path: Path, *, dtype: torch.dtype = torch.float16, seed: int | None = None
) -> None:
    """A single-file checkpoint with the full SDXL base architecture (2.6B-parameter UNet, both
    text encoders, VAE), in the original layout and without embedded configs: exactly what a real
    SDXL file looks like to the loader. Weights are zeros, or random with `seed`. About 7 GB in fp16.

    The models are built on the meta device and each tensor is materialised only while the file
    is written, so the peak memory is one copy of the weights.
    """
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    from .checkpoints import SDXL_BASE_CONFIG_DIR
    from .convert import (
        text_encoder_2_to_original,
        text_encoder_to_original,
        unet_to_original,
        vae_to_original,
    )

    def config(name: str) -> dict[str, Any]:
        return dict(json.loads((SDXL_BASE_CONFIG_DIR / name).read_text()))

    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(config("unet/config.json"))
        vae = AutoencoderKL.from_config(config("vae/config.json"))
        te1 = CLIPTextModel(CLIPTextConfig(**config("text_encoder/config.json")))
        te2 = CLIPTextModelWithProjection(CLIPTextConfig(**config("text_encoder_2/config.json")))
    layout: dict[str, torch.Tensor] = {}
    layout.update(unet_to_original(unet.state_dict(), unet.config))
    layout.update(vae_to_original(vae.state_dict(), vae.config))
    layout.update(text_encoder_to_original(te1.state_dict()))
    layout.update(text_encoder_2_to_original(te2.state_dict()))
    generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def materialise(meta: torch.Tensor) -> torch.Tensor:
        if generator is None:
            return torch.zeros(meta.shape, dtype=dtype)
        return (torch.randn(meta.shape, generator=generator) * 0.02).to(dtype)

    tensors = {name: materialise(meta) for name, meta in layout.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"modelspec.architecture": "stable-diffusion-xl-v1-base"})
