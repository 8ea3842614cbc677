"""Generation on the demo models (CPU): saved files, seeds, LoRAs, model switching, Stop and Skip."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fooocus_widgets as fw
from fooocus_widgets.engine.run import Engine, GenerationError, RunControl, RunEvents
from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.outputs import read_parameters
from fooocus_widgets.params import plan_generation
from fooocus_widgets.state import LoraSlot, PanelState
from fooocus_widgets.styles import StyleLibrary


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image).copy()


def run(engine: Engine, state: PanelState, folders: ModelFolders, styles: StyleLibrary, steps: int = 4, **kw):  # type: ignore[no-untyped-def]
    plan = plan_generation(state, folders=folders, styles=styles, steps=steps)
    return engine.run(plan, **kw)


def test_api_batch_of_two_saves_two_images_with_their_parameters(demo_dir: Path, tmp_path: Path) -> None:
    result = fw.generate(
        "a lighthouse at dusk",
        model="demo-sdxl-a.safetensors",
        models_dir=demo_dir,
        width=64,
        height=64,
        image_number=2,
        seed=41,
        steps=3,
        styles=["Cinematic"],
        loras=[("demo-detail.safetensors", 0.5)],
        output_dir=tmp_path,
        progress=False,
    )
    assert len(result.images) == 2
    assert result.seeds == [41, 42]
    assert len(result.paths) == 2
    for path, seed in zip(result.paths, result.seeds, strict=True):
        assert path.parent.parent == tmp_path
        assert path.suffix == ".png"
        params = read_parameters(path.read_bytes())
        assert params is not None
        assert params["seed"] == seed
        assert params["prompt"] == "a lighthouse at dusk"
        assert params["styles"] == ["Cinematic"]
        assert params["loras"] == [{"file": "demo-detail.safetensors", "weight": 0.5}]
        assert (params["width"], params["height"], params["steps"]) == (64, 64, 3)
        assert "cinematic still of a lighthouse at dusk" in params["full_prompt"][0]
    history = (result.paths[0].parent / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["parameters"]["seed"] for line in history] == [41, 42]
    assert (result.paths[0].parent / "log.html").is_file()


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_and_webp_carry_their_parameters_in_exif(demo_dir: Path, tmp_path: Path, fmt: str) -> None:
    result = fw.generate(
        'quotes " and \\ ünïcode',
        model="demo-sdxl-a.safetensors",
        models_dir=demo_dir,
        width=64,
        height=64,
        seed=5,
        image_number=1,
        steps=2,
        output_format=fmt,
        output_dir=tmp_path,
        progress=False,
    )
    params = read_parameters(result.paths[0].read_bytes())
    assert params is not None
    assert params["prompt"] == 'quotes " and \\ ünïcode'
    assert Image.open(result.paths[0]).format == fmt.upper()


def test_same_seed_gives_identical_pixels(engine: Engine, small_state: PanelState, folders, styles) -> None:  # type: ignore[no-untyped-def]
    first = run(engine, small_state, folders, styles)[0].image
    second = run(engine, small_state, folders, styles)[0].image
    other = run(engine, small_state.replace(seed=1235), folders, styles)[0].image
    assert np.array_equal(pixels(first), pixels(second))
    assert not np.array_equal(pixels(first), pixels(other))


def test_batch_image_i_uses_seed_plus_i(engine: Engine, small_state: PanelState, folders, styles) -> None:  # type: ignore[no-untyped-def]
    batch = run(engine, small_state.replace(image_number=3, seed=500), folders, styles)
    single = run(engine, small_state.replace(seed=502), folders, styles)[0]
    assert [r.seed for r in batch] == [500, 501, 502]
    assert np.array_equal(pixels(batch[2].image), pixels(single.image))


def test_lora_changes_the_output_and_removing_it_restores_the_baseline(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles
) -> None:
    baseline = pixels(run(engine, small_state, folders, styles)[0].image)
    with_lora = small_state.replace(loras=(LoraSlot(file="demo-detail.safetensors", weight=1.0),))
    changed = pixels(run(engine, with_lora, folders, styles)[0].image)
    assert not np.array_equal(changed, baseline)
    restored = pixels(run(engine, small_state, folders, styles)[0].image)
    assert np.array_equal(restored, baseline)
    assert engine.models.current is not None
    assert engine.models.current.adapters == {}  # the adapter was deleted, not just switched off


def test_changing_a_lora_weight_does_not_reload_the_file(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot = LoraSlot(file="demo-style.safetensors", weight=1.0)
    full = pixels(run(engine, small_state.replace(loras=(slot,)), folders, styles)[0].image)
    pipe = engine.models.current.pipe  # type: ignore[union-attr]
    loads = []
    original = pipe.load_lora_weights
    monkeypatch.setattr(pipe, "load_lora_weights", lambda *a, **k: loads.append(a) or original(*a, **k))
    half = pixels(
        run(engine, small_state.replace(loras=(LoraSlot(file=slot.file, weight=0.3),)), folders, styles)[
            0
        ].image
    )
    assert loads == []
    assert not np.array_equal(full, half)


def test_switching_a_to_b_to_a_gives_as_original_output(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles
) -> None:
    a = pixels(run(engine, small_state, folders, styles)[0].image)
    b = pixels(
        run(engine, small_state.replace(base_model="demo-sdxl-b.safetensors"), folders, styles)[0].image
    )
    assert engine.models.current.ref.name == "demo-sdxl-b.safetensors"  # type: ignore[union-attr]
    a_again = pixels(run(engine, small_state, folders, styles)[0].image)
    assert not np.array_equal(a, b)
    assert np.array_equal(a, a_again)


@pytest.mark.parametrize(
    "sampler", ["Euler", "Euler a", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE", "UniPC", "DDIM", "LCM"]
)
def test_every_sampler_runs(engine: Engine, small_state: PanelState, folders, styles, sampler: str) -> None:  # type: ignore[no-untyped-def]
    results = run(engine, small_state.replace(sampler=sampler, scheduler="karras"), folders, styles, steps=3)
    assert len(results) == 1
    assert results[0].parameters["sampler"] == sampler


@pytest.mark.parametrize(("performance", "steps", "lora"), [
    ("Extreme Speed", 8, "sdxl_lcm_lora.safetensors"),
    ("Lightning", 4, "sdxl_lightning_4step_lora.safetensors"),
    ("Hyper-SD", 4, "sdxl_hyper_sd_4step_lora.safetensors"),
])  # fmt: skip
def test_fast_modes_bring_their_lora_and_steps(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, performance: str, steps: int, lora: str
) -> None:
    plan = plan_generation(small_state.replace(performance=performance), folders=folders, styles=styles)
    assert plan.steps == steps
    assert plan.loras[0].name == lora
    assert plan.guidance_scale == 1.0
    result = engine.run(plan)[0]
    assert result.parameters["performance"] == performance


def test_skip_ends_the_current_image_and_stop_ends_the_batch(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles
) -> None:
    plan = plan_generation(
        small_state.replace(image_number=4, seed=10), folders=folders, styles=styles, steps=6
    )
    control = RunControl()
    steps_seen: list[tuple[int, int]] = []

    def on_step(index: int, step: int, _steps: int) -> None:
        steps_seen.append((index, step))
        if index == 1 and step == 2:
            control.skip.set()  # mid-image 2
        if index == 2 and step == 3:
            control.stop.set()  # mid-image 3: image 4 never starts

    results = engine.run(plan, RunEvents(step=on_step), control)
    assert [r.seed for r in results] == [10]
    assert max(i for i, _ in steps_seen) == 2
    assert (1, 6) not in steps_seen  # image 2 did not run to its end
    assert (2, 6) not in steps_seen


def test_engine_refuses_a_second_run_at_once(
    engine: Engine, small_state: PanelState, folders, styles
) -> None:  # type: ignore[no-untyped-def]
    plan = plan_generation(small_state, folders=folders, styles=styles, steps=20)
    started = threading.Event()
    release = threading.Event()

    def on_step(index: int, step: int, steps: int) -> None:
        started.set()
        release.wait(10)

    worker = threading.Thread(target=engine.run, args=(plan, RunEvents(step=on_step)))
    worker.start()
    started.wait(30)
    with pytest.raises(GenerationError, match="already running"):
        engine.run(plan)
    release.set()
    worker.join(60)


def test_empty_prompt_is_allowed(engine: Engine, small_state: PanelState, folders, styles) -> None:  # type: ignore[no-untyped-def]
    assert len(run(engine, small_state.replace(prompt="", styles=()), folders, styles)) == 1


def test_what_is_given_beats_the_preset_which_beats_the_defaults(demo_dir: Path, tmp_path: Path) -> None:
    preset = {
        "default_model": "demo-sdxl-b.safetensors",
        "default_cfg_scale": 6,
        "default_sampler": "euler",
        "default_scheduler": "normal",
        "default_image_number": 1,
        "default_styles": ["Cinematic"],
        "default_prompt_negative": "from the preset",
    }
    from_preset = fw.generate(
        "a fox",
        preset=preset,
        models_dir=demo_dir,
        width=64,
        height=64,
        steps=1,
        seed=3,
        save=False,
        progress=False,
    )
    used = from_preset.parameters[0]
    assert used["base_model"] == "demo-sdxl-b.safetensors"
    assert (used["guidance_scale"], used["sampler"], used["styles"]) == (6.0, "Euler", ["Cinematic"])
    assert used["negative_prompt"] == "from the preset"
    assert len(from_preset.images) == 1  # the preset's image number, not the default 2
    assert used["performance"] == PanelState().performance  # not in the preset: the default

    given = fw.generate(
        "a fox",
        preset=preset,
        models_dir=demo_dir,
        guidance_scale=2.5,
        styles=[],
        image_number=2,
        width=64,
        height=64,
        steps=1,
        seed=3,
        save=False,
        progress=False,
    )
    assert (given.parameters[0]["guidance_scale"], given.parameters[0]["styles"]) == (2.5, [])
    assert given.seeds == [3, 4]
    assert given.parameters[0]["base_model"] == "demo-sdxl-b.safetensors"


def test_without_a_preset_the_defaults_are_the_panels(demo_dir: Path) -> None:
    small = {"width": 64, "height": 64, "steps": 1, "save": False, "progress": False}
    result = fw.generate("a fox", model="demo-sdxl-a.safetensors", models_dir=demo_dir, **small)
    defaults = PanelState()
    used = result.parameters[0]
    assert len(result.images) == defaults.image_number
    assert used["styles"] == list(defaults.styles)
    assert (used["guidance_scale"], used["sampler"]) == (defaults.guidance_scale, defaults.sampler)
