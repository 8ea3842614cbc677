"""Memory through a session: before load, after load, after generate, after release_vram(), and
the growth over many alternating base-model switches, all measured in one process.

On the CPU it uses the demo models; with ``--full`` (needs a CUDA GPU) the full SDXL architecture
with random fp16 weights, where ``torch.cuda.memory_allocated()`` must return exactly to its
pre-load value after release and reserved memory to <= 1% of the card.

    python benchmarks/memory.py [--switches 30] [--full]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import torch

import fooocus_widgets as fw
import fooocus_widgets.api
from fooocus_widgets.engine.demo import write_demo_models, write_sdxl_size_checkpoint
from fooocus_widgets.engine.memory import MemorySnapshot, snapshot
from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.params import plan_generation
from fooocus_widgets.state import PanelState
from fooocus_widgets.styles import load_styles

MiB = 1024**2


def show(name: str, now: MemorySnapshot, base: MemorySnapshot) -> None:
    line = (
        f"  {name:15s} held {now.held / MiB:7.0f} MiB ({now.held / base.held:5.3f}x)"
        f"   RSS {now.rss / MiB:7.0f} MiB ({now.rss / base.rss:5.3f}x)"
    )
    if now.cuda_allocated is not None:
        reserved = (now.cuda_reserved or 0) / MiB
        line += f"   CUDA allocated {now.cuda_allocated / MiB:8.0f} MiB, reserved {reserved:8.0f} MiB"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--switches", type=int, default=30)
    parser.add_argument("--full", action="store_true", help="full SDXL architecture, fp16, on a CUDA GPU")
    args = parser.parse_args()
    if args.full and not torch.cuda.is_available():
        raise SystemExit("--full needs a CUDA GPU")

    engine = fw.api.default_engine()  # all torch work on the engine thread, as in a kernel
    models = Path(tempfile.mkdtemp(prefix="fw-memory-")) / "models"
    engine.submit(lambda: write_demo_models(models)).result()
    if args.full:
        for name, seed in (("full-a.safetensors", 1), ("full-b.safetensors", 2)):
            engine.submit(
                lambda n=name, s=seed: write_sdxl_size_checkpoint(models / "checkpoints" / n, seed=s)
            ).result()
        names, size = ("full-a.safetensors", "full-b.safetensors"), 1024
    else:
        names, size = ("demo-sdxl-a.safetensors", "demo-sdxl-b.safetensors"), 512

    def libraries() -> None:
        from diffusers import StableDiffusionXLPipeline  # noqa: F401
        from transformers import CLIPTextModel  # noqa: F401

        from fooocus_widgets.engine.tokenizers import sdxl_tokenizers

        sdxl_tokenizers()

    engine.submit(libraries).result()

    def run(name: str) -> None:
        fw.generate("a lighthouse", model=name, models_dir=models, width=size, height=size, steps=4, seed=1,
                    image_number=1, save=False, progress=False)  # fmt: skip

    before = snapshot()
    plan = plan_generation(
        PanelState(base_model=names[0]), folders=ModelFolders(models), styles=load_styles()
    )
    engine.submit(lambda: engine.prepare(plan)).result()
    loaded = snapshot()
    run(names[0])
    generated = snapshot()
    report = fw.release_vram()
    released = snapshot()

    switches = []
    for i in range(args.switches):
        run(names[i % 2])
        switches.append(snapshot())
    fw.release_vram()

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU ({platform.machine()})"
    print(f"device: {device}; model: {'full SDXL, fp16' if args.full else 'demo'}; {size}x{size}, 4 steps")
    show("before load", before, before)
    show("after load", loaded, before)
    show("after generate", generated, before)
    show("after release", released, before)
    print(f"released: {', '.join(report.released)}")
    print("held = anonymous memory + mapped model files (what models can hold); RSS also counts library code")
    print(f"ratio after-release / before-load (held): {released.held / before.held:.3f}")
    print(f"ratio after-release / before-load (RSS):  {released.rss / before.rss:.3f}")
    if released.cuda_allocated is not None:
        left = released.cuda_allocated - (before.cuda_allocated or 0)
        print(f"CUDA allocated after release - before load: {left} B")
        share = (released.cuda_reserved or 0) / (released.cuda_total or 1)
        print(f"CUDA reserved after release / card: {share:.4f}")
    if len(switches) >= 5:
        growth = switches[-1].held / switches[4].held
        print(f"switch loop: growth (held), switch 5 to {len(switches)}: {growth:.4f}x")


if __name__ == "__main__":
    main()
