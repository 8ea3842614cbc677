"""What the demo models draw: colour accuracy, shape/position rates, LoRA effects, large sizes.

    python benchmarks/demo_quality.py                  # the shipped weights
    python benchmarks/demo_quality.py --weights DIR    # from `python -m fooocus_widgets.demo.train --out DIR`
    python benchmarks/demo_quality.py --colour-only    # just the colour accuracy (no styles, default styles)
    python benchmarks/demo_quality.py --compare DIR    # also the colour accuracy of a rerun's weights

Everything goes through `fooocus_widgets.generate` at the panel's defaults (sampler, scheduler,
guidance), 256x256 and 8 steps unless told otherwise. A white shape is asked for on a black
background, every other colour on a white one.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import fooocus_widgets as fw
from fooocus_widgets.demo.measure import (
    background_colour,
    dominant_colour,
    high_frequency_energy,
    saturation,
    shape_and_position,
)
from fooocus_widgets.demo.weights import WEIGHTS_DIR
from fooocus_widgets.demo.world import COLOURS, POSITIONS, SHAPES
from fooocus_widgets.engine.demo import write_demo_models


def generate(models: Path, prompt: str, seed: int, args: argparse.Namespace, **kw):
    options = {"width": args.size, "height": args.size, "steps": args.steps, "seed": seed}
    options.update(kw)
    model = options.pop("model", "demo-sdxl-a.safetensors")
    return fw.generate(
        prompt,
        model=model,
        models_dir=models,
        image_number=1,
        save=False,
        progress=False,
        **options,
    ).images[0]


def colour_accuracy(models: Path, args: argparse.Namespace, styles: list[str] | None) -> dict[str, float]:
    extra = {} if styles is None else {"styles": styles}
    rates = {}
    for colour in COLOURS:
        background = "black" if colour == "white" else "white"
        prompt = f"a {colour} circle on a {background} background"
        hits = sum(
            dominant_colour(generate(models, prompt, seed, args, **extra)) == colour
            for seed in range(args.seeds)
        )
        rates[colour] = hits / args.seeds
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--colour-only", action="store_true")
    parser.add_argument("--compare", type=Path, help="a retrained weights folder: its colour accuracy too")
    args = parser.parse_args()
    torch.set_num_threads(2)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "shipped"
        write_demo_models(models, weights_dir=args.weights)
        print(f"weights: {args.weights}; {args.size}x{args.size}, {args.steps} steps, panel defaults")
        compared = Path(tmp) / "compared"
        if args.compare is not None:
            write_demo_models(compared, weights_dir=args.compare)
        for label, styles in (("default styles", None), ("no styles", [])):
            for name, folder in (("", models), (f" [rerun {args.compare}]", compared)):
                if folder is compared and args.compare is None:
                    continue
                rates = colour_accuracy(folder, args, styles)
                shown = ", ".join(f"{c} {r:.0%}" for c, r in rates.items())
                mean = statistics.mean(rates.values())
                print(f"colour accuracy ({label}){name}: mean {mean:.0%}; {shown}", flush=True)
        if args.colour_only:
            return

        a_sat, b_sat, diffs = [], [], []
        for seed in range(5):
            prompt = "a purple triangle on a yellow background"
            a = generate(models, prompt, seed, args, styles=[])
            b = generate(models, prompt, seed, args, styles=[], model="demo-sdxl-b.safetensors")
            a_sat.append(saturation(a))
            b_sat.append(saturation(b))
            diffs.append(
                float(np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)).mean())
            )
        print(
            f"A -> B: saturation {statistics.mean(a_sat):.3f} -> {statistics.mean(b_sat):.3f}, "
            f"mean pixel difference {statistics.mean(diffs):.1f}/255 (5 seeds)",
            flush=True,
        )

        shape_hits = position_hits = total = 0
        for i, shape in enumerate(SHAPES):
            for j, position in enumerate(POSITIONS):
                thing = "red stripes" if shape == "stripes" else f"a red {shape}"
                prompt = f"{thing} {POSITIONS[position][0]} on a white background"
                for seed in range(3):
                    found_shape, found_position = shape_and_position(
                        generate(models, prompt, 100 * i + 10 * j + seed, args, styles=[])
                    )
                    shape_hits += found_shape == shape
                    position_hits += found_position == position
                    total += 1
        print(
            f"shape recognised {shape_hits / total:.0%}, "
            f"position recognised {position_hits / total:.0%} ({total} images)",
            flush=True,
        )

        hits = total = 0
        for colour in COLOURS:
            for background in (c for c in COLOURS if c != colour):
                picture = generate(models, f"a {colour} circle on a {background} background", total, args)
                hits += background_colour(picture) == background
                total += 1
        print(f"background colour recognised {hits / total:.0%} ({total} images, default styles)", flush=True)

        prompt = "a red circle on a blue background"
        base = [generate(models, prompt, s, args, styles=[]) for s in range(args.seeds // 2)]
        for lora, judge in (
            ("demo-style.safetensors", saturation),
            ("demo-detail.safetensors", high_frequency_energy),
        ):
            before = statistics.mean(judge(im) for im in base)
            for weight in (1.0, 0.5):
                after = statistics.mean(
                    judge(generate(models, prompt, s, args, styles=[], loras=[(lora, weight)]))
                    for s in range(args.seeds // 2)
                )
                print(
                    f"{lora} at {weight}: {judge.__name__} {before:.3f} -> {after:.3f} "
                    f"(ratio {after / before:.2f})"
                )

        large = [
            dominant_colour(
                generate(models, f"a {c} square on a white background", 7, args, width=1152, height=896)
            )
            == c
            for c in ("red", "green", "blue")
        ]
        print(f"1152x896: colour right in {sum(large)} of {len(large)}")
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
