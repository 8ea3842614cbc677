"""Overhead of fooocus-widgets over a bare diffusers call, measured side by side in one run.

For the same pipeline components, steps, size, sampler and seed, it times (alternating, several
repetitions, median per image), each on the engine's worker thread where fooocus-widgets runs
all torch work:

- bare:   ``pipe(prompt=..., output_type="pil")``, diffusers alone;
- api:    ``fooocus_widgets.generate(...)`` with saving (PNG with embedded parameters, history);
- panel:  ``FooocusPanel.generate(wait=True)`` with live previews, thumbnails, the image store
          and trait updates, as the panel runs it (no browser attached);
- vary bare / vary api: Vary (Subtle) of a picture of the same size, as diffusers' SDXL img2img
          pipeline made with ``from_pipe`` from the same components (the steps and strength
          Fooocus runs: `schedule_for`) against ``fooocus_widgets.generate(input_image=...)``.

It prints the ratios api/bare, panel/bare and vary api / vary bare. Target on CPU with a
demo-size model at 512x512: api/bare and vary api / vary bare <= 1.10. With ``--full`` (needs a
GPU) the model is the full SDXL architecture with random fp16 weights at 1024x1024, 30 steps
(target <= 1.03).

    python benchmarks/overhead.py [--reps 5] [--steps 30] [--size 512] [--full]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import fooocus_widgets as fw
from fooocus_widgets.api import default_engine
from fooocus_widgets.engine.demo import write_demo_models, write_sdxl_size_checkpoint
from fooocus_widgets.engine.img2img import schedule_for
from fooocus_widgets.engine.samplers import make_scheduler
from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.params import plan_generation
from fooocus_widgets.state import PanelState
from fooocus_widgets.styles import load_styles

PROMPT = "a lighthouse at dusk, stormy sea, dramatic clouds"
NEGATIVE = "blurry, low detail"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--sampler", default="Euler")
    parser.add_argument("--full", action="store_true", help="full SDXL architecture, fp16, on the GPU")
    args = parser.parse_args()
    if args.full and not torch.cuda.is_available():
        raise SystemExit("--full needs a CUDA GPU")

    # Every piece of torch work runs on the engine's thread, as in a kernel: once two threads
    # have used torch, libgomp has more threads than cores, throttles its spin-wait and each
    # small op pays a wake-up (a demo-size model ran 1.7x slower on 2 cores).
    engine = default_engine()
    work = Path(tempfile.mkdtemp(prefix="fw-bench-"))
    models = work / "models"
    engine.submit(lambda: write_demo_models(models)).result()
    model = "demo-sdxl-a.safetensors"
    if args.full:  # the full SDXL architecture as a single file, random weights (about 7 GB)
        model = "sdxl-random.safetensors"
        engine.submit(lambda: write_sdxl_size_checkpoint(models / "checkpoints" / model, seed=1)).result()
    out = work / "outputs"

    state = PanelState(
        prompt=PROMPT,
        negative_prompt=NEGATIVE,
        styles=(),
        base_model=model,
        sampler=args.sampler,
        scheduler="normal",
        aspect_ratio=f"{args.size}*{args.size}",
        image_number=1,
        random_seed=False,
        seed=7,
    )
    folders = ModelFolders(models)
    plan = plan_generation(state, folders=folders, styles=load_styles([folders.styles]), steps=args.steps)
    pipe = engine.submit(lambda: engine.prepare(plan)).result()  # the very components all paths use
    base_config = dict(engine.models.current.base_scheduler_config)  # type: ignore[union-attr]
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)

    def bare_call() -> None:
        pipe(
            prompt=PROMPT,
            negative_prompt=NEGATIVE,
            num_inference_steps=args.steps,
            guidance_scale=state.guidance_scale,
            width=args.size,
            height=args.size,
            generator=torch.Generator("cpu").manual_seed(7),
            output_type="pil",
        )

    def timed(call: Callable[[], object]) -> float:
        sync()
        start = time.perf_counter()
        call()
        sync()
        return time.perf_counter() - start

    def bare() -> float:
        # on the engine's thread, like the other two (see above)
        pipe.scheduler = make_scheduler(base_config, args.sampler, "normal")[0]
        return timed(lambda: engine.submit(bare_call).result())

    def generate(**extra: Any) -> None:
        fw.generate(
            PROMPT,
            model=model,
            negative_prompt=NEGATIVE,
            models_dir=models,
            width=args.size,
            height=args.size,
            steps=args.steps,
            seed=7,
            image_number=1,
            styles=(),
            sampler=args.sampler,
            scheduler="normal",
            output_dir=out,
            progress=False,
            **extra,
        )

    def api() -> float:
        return timed(generate)

    panel = fw.FooocusPanel(
        key="bench",
        state=state,
        store=fw.MemoryStore(),
        models_dir=models,
        output_dir=out,
        images=fw.ImageStore(work / "images"),
    )

    def through_panel() -> float:
        panel.controller.plan = lambda seeds=None: plan  # type: ignore[method-assign]  # same steps as the others
        elapsed = timed(lambda: panel.generate(wait=True))
        assert not panel.error, panel.error
        return elapsed

    from diffusers import StableDiffusionXLImg2ImgPipeline
    from PIL import Image

    picture = Image.new("RGB", (args.size, args.size), (220, 30, 30))
    vary_steps, vary_strength = schedule_for(args.steps, 0.5)
    img2img = engine.submit(
        lambda: StableDiffusionXLImg2ImgPipeline.from_pipe(pipe, dtype=pipe.unet.dtype)
    ).result()
    img2img.set_progress_bar_config(disable=True)  # as the engine's pipelines

    def vary_bare_call() -> None:
        img2img(
            prompt=PROMPT,
            negative_prompt=NEGATIVE,
            image=picture,
            strength=vary_strength,
            num_inference_steps=vary_steps,
            guidance_scale=state.guidance_scale,
            generator=torch.Generator("cpu").manual_seed(7),
            output_type="pil",
        )

    def vary_bare() -> float:
        img2img.scheduler = make_scheduler(base_config, args.sampler, "normal")[0]
        return timed(lambda: engine.submit(vary_bare_call).result())

    def vary_api() -> float:
        return timed(lambda: generate(input_image=picture, uov_mode="Vary (Subtle)"))

    contenders = {
        "bare": bare,
        "api": api,
        "panel": through_panel,
        "vary bare": vary_bare,
        "vary api": vary_api,
    }
    runs: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm-up: caches, allocator, first-call costs
        fn()
    for _ in range(args.reps):
        for name, fn in contenders.items():
            runs[name].append(fn())

    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available()
        else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    )
    medians = {name: statistics.median(times) for name, times in runs.items()}
    print(f"device: {device}")
    kind = "full SDXL architecture, random fp16" if args.full else "demo (SDXL layout, tiny widths)"
    print(
        f"model: {kind}; {args.size}x{args.size}, {args.steps} steps, {args.sampler}, "
        f"{args.reps} alternating repetitions"
    )
    for name, times in runs.items():
        print(
            f"  {name:9s} median {medians[name]:.3f} s/image   runs: {', '.join(f'{t:.3f}' for t in times)}"
        )
    print(f"ratio api/bare:   {medians['api'] / medians['bare']:.3f}")
    print(f"ratio panel/bare: {medians['panel'] / medians['bare']:.3f}")
    print(f"ratio vary api / vary bare: {medians['vary api'] / medians['vary bare']:.3f}")


if __name__ == "__main__":
    main()
