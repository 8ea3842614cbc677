"""``python -m fooocus_widgets.demo.train``: rebuild the demo weights from a seed, on a CPU.

Stages, each logging its losses: the frozen text encoders (random, from the seed), the VAE
(written by hand, `vae_weights`; checked by its reconstruction error at 256x256), the scene
latents, the UNet of model A, then model B (A's UNet fine-tuned on the pastel palette), then the
demo-style LoRA (monochrome targets) and the demo-detail LoRA (fine-grain targets), each trained
at random strengths so that its weight is how much of its change it makes. Everything is written
as fp16 .safetensors to ``--out`` (default: a scratch folder; ``--out`` pointing at
``fooocus_widgets/demo/weights`` replaces the shipped weights). ``--only vae`` stops after the VAE.
The shipped weights are one run of the defaults (seed 10), about 25 minutes on 2 CPU cores;
their log is ``weights/training-log.txt`` and benchmarks/RESULTS.md compares them with a rerun.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["main"]

DEFAULT_SEED = 10
LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "conv1", "conv2"]
LORA_RANK = 8


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 -- the stages in order, each a few lines
    """Run the training; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fooocus_widgets.demo.train", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-weights"), help="folder for the weights")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--unet-steps", type=int, default=3000)
    parser.add_argument("--b-steps", type=int, default=300)
    parser.add_argument("--lora-steps", type=int, default=400)
    parser.add_argument("--unet-lr", type=float, default=2e-3)
    parser.add_argument(
        "--resume-unet", type=Path, help="start model A's training from this unet_a.safetensors"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=["vae", "all"], default="all")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    started = time.monotonic()
    log_path = args.out / "training-log.txt"
    args.out.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w")

    def log(message: str) -> None:
        line = f"[{time.monotonic() - started:7.1f} s] {message}"
        print(line, flush=True)  # noqa: T201 -- a command line reports
        log_file.write(line + "\n")
        log_file.flush()

    from ..engine.demo import demo_configs
    from .conditioning import CaptionEncoder, build_text_encoders
    from .train_unet import encode_scenes, train_denoiser
    from .vae_check import latent_scale, reconstruction_error
    from .vae_weights import build_vae
    from .weights import save_component
    from .world import fine_texture, monochrome

    seed = args.seed
    te1, te2 = build_text_encoders(seed)
    for name, encoder in (("text_encoder", te1), ("text_encoder_2", te2)):
        state = {k: v for k, v in encoder.state_dict().items() if "token_embedding" not in k}
        save_component(state, args.out / f"{name}.safetensors", metadata={"token_seed": str(seed)})
    log("text encoders: random, frozen")

    vae = build_vae(demo_configs()["vae"])
    scale = latent_scale(vae, seed + 2)
    error = reconstruction_error(vae, seed + 3)
    log(f"vae: mean absolute error at 256x256 on held-back scenes {error:.2f}/255; latent scale {scale:.4f}")
    save_component(
        vae.state_dict(), args.out / "vae.safetensors", metadata={"scaling_factor": f"{scale:.6f}"}
    )
    if args.only == "vae":
        log("done (vae only)")
        return 0

    from diffusers import UNet2DConditionModel

    encoder = CaptionEncoder(te1, te2)
    torch.manual_seed(seed + 4)
    unet: Any = UNet2DConditionModel(**demo_configs()["unet"])
    if args.resume_unet is not None:
        from .weights import load_component

        unet.load_state_dict(load_component(args.resume_unet)[0])
        log(f"unet a: resumed from {args.resume_unet}")
    scenes_a = encode_scenes(vae, scale, seed + 5)
    log("latents of palette a encoded")
    train_denoiser(
        unet, scenes_a, encoder, steps=args.unet_steps, seed=seed + 6, log=log, name="unet a", lr=args.unet_lr
    )
    save_component(unet.state_dict(), args.out / "unet_a.safetensors")
    state_a = {k: v.clone() for k, v in unet.state_dict().items()}

    scenes_b = encode_scenes(vae, scale, seed + 7, palette_name="b")
    train_denoiser(
        unet, scenes_b, encoder, steps=args.b_steps, seed=seed + 8, log=log, name="unet b", lr=5e-4
    )
    save_component(unet.state_dict(), args.out / "unet_b.safetensors")
    unet.load_state_dict(state_a)

    for lora, transform, offset in (("demo-style", monochrome, 9), ("demo-detail", fine_texture, 11)):
        _train_lora(unet, encoder, vae, scale, lora, transform, seed + offset, args.lora_steps, args.out, log)
    (args.out / "training.json").write_text(
        json.dumps(
            {"seed": seed, "vae_mae_256": round(error, 3), "seconds": round(time.monotonic() - started)}
        )
    )
    log("done")
    return 0


def _train_lora(
    unet: Any,
    encoder: Any,
    vae: Any,
    scale: float,
    name: str,
    transform: Callable[[Any], Any],
    seed: int,
    steps: int,
    out: Path,
    log: Callable[[str], None],
) -> None:
    """Train a LoRA (peft, on the UNet) towards `transform`ed scenes and save its layers; its
    weight sets how much of the change it makes (see `train_denoiser`'s `targets`).
    """
    import torch
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from .train_unet import LORA_SIZES, encode_scenes, train_denoiser
    from .weights import save_component

    torch.manual_seed(seed)
    config = LoraConfig(r=LORA_RANK, lora_alpha=LORA_RANK, target_modules=LORA_TARGETS)
    unet.requires_grad_(False)
    unet.add_adapter(config, adapter_name=name)
    unet.set_adapters([name])
    params = [p for n, p in unet.named_parameters() if "lora_" in n]
    # the same scenes (same seed) as they are and changed
    plain = encode_scenes(vae, scale, seed + 1, sizes=LORA_SIZES)
    changed = encode_scenes(vae, scale, seed + 1, transform=transform, sizes=LORA_SIZES)
    train_denoiser(
        unet,
        plain,
        encoder,
        steps=steps,
        seed=seed + 2,
        log=log,
        name=name,
        parameters=params,
        lr=4e-3,
        targets=changed,
        adapter=name,
    )
    unet.set_adapters([name])
    layers = get_peft_model_state_dict(unet, adapter_name=name)
    save_component(layers, out / f"{name}.safetensors", metadata={"rank": str(LORA_RANK)})
    unet.delete_adapters(name)
    unet.requires_grad_(True)


if __name__ == "__main__":
    sys.exit(main())
