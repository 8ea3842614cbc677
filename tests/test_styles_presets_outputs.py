"""Pure-Python pieces: style files, Fooocus presets, parameters embedded in result files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from fooocus_widgets.folders import ModelFolders
from fooocus_widgets.outputs import read_parameters, save_image, state_from_parameters
from fooocus_widgets.params import GenerationInputError, plan_generation, resolve_model
from fooocus_widgets.presets import PresetError, load_preset
from fooocus_widgets.state import LoraSlot, PanelState
from fooocus_widgets.styles import Style, load_styles, styled_prompts

# ---- styles ----------------------------------------------------------------------------------------


def test_starter_styles_ship_and_user_files_add_and_override(tmp_path: Path) -> None:
    shipped = load_styles()
    assert {"Enhance", "Sharp", "Cinematic"} <= set(shipped.names)
    assert all("{prompt}" in s.prompt for s in shipped.styles.values())
    (tmp_path / "mine.json").write_text(
        json.dumps(
            [
                {"name": "Sharp", "prompt": "mine {prompt}", "negative_prompt": ""},
                {"name": "New", "prompt": "x"},
            ]
        )
    )
    (tmp_path / "broken.json").write_text("{ not json")
    (tmp_path / "wrong.json").write_text(json.dumps({"name": "x"}))
    library = load_styles([tmp_path])
    assert library.styles["Sharp"].prompt == "mine {prompt}"
    assert "New" in library.names
    assert any("broken.json" in p for p in library.problems)
    assert any("wrong.json" in p for p in library.problems)


def test_styles_wrap_the_prompt_and_add_negatives() -> None:
    a = Style("A", "photo of {prompt}, sharp", "blurry")
    b = Style("B", "{prompt} in watercolor", "photo")
    positive, negative = styled_prompts("a fox", "ugly", [a, b])
    assert positive == ["photo of a fox, sharp", "a fox in watercolor"]
    assert negative == ["ugly", "blurry", "photo"]
    plain = Style("P", "trending, detailed", "")
    assert styled_prompts("a fox", "", [plain]) == (["a fox", "trending, detailed"], [])
    assert styled_prompts("", "", []) == ([""], [])


# ---- presets ---------------------------------------------------------------------------------------


def test_fooocus_preset_becomes_a_state(tmp_path: Path) -> None:
    preset = {
        "default_model": "juggernautXL_v8Rundiffusion.safetensors",
        "default_loras": [[True, "detail.safetensors", 0.5], ["None", 1.0], [False, "x.safetensors", -1]],
        "default_cfg_scale": 7.0,
        "default_sample_sharpness": 2.0,
        "default_sampler": "dpmpp_2m_sde_gpu",
        "default_scheduler": "karras",
        "default_performance": "Quality",
        "default_prompt": "a castle",
        "default_prompt_negative": "fog",
        "default_styles": ["Cinematic"],
        "default_aspect_ratio": "1024*1024",
        "default_image_number": 4,
        "default_refiner": "None",
        "default_sampler_gpu": 1,
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(preset))
    state, warnings = load_preset(path)
    assert state.base_model == "juggernautXL_v8Rundiffusion.safetensors"
    assert state.loras[:3] == (
        LoraSlot(True, "detail.safetensors", 0.5),
        LoraSlot(True, "", 1.0),
        LoraSlot(False, "x.safetensors", -1.0),
    )
    assert (state.guidance_scale, state.sampler, state.scheduler) == (7.0, "DPM++ 2M SDE", "karras")
    assert (state.performance, state.prompt, state.negative_prompt) == ("Quality", "a castle", "fog")
    assert (state.styles, state.aspect_ratio, state.image_number) == (("Cinematic",), "1024*1024", 4)
    assert any("default_refiner" in w for w in warnings)


def test_bad_presets_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match="JSON"):
        load_preset(tmp_path / "missing.json")
    with pytest.raises(PresetError, match="image_number"):
        load_preset({"default_image_number": 99})
    state, warnings = load_preset({"default_sampler": "heunpp2"})
    assert state.sampler == PanelState().sampler
    assert "heunpp2" in warnings[0]


# ---- outputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_parameters_round_trip_through_each_format(tmp_path: Path, fmt: str) -> None:
    params = {
        "prompt": 'ünïcode "quoted"\n<b>',
        "seed": 2**63 - 1,
        "loras": [{"file": "a.safetensors", "weight": 0.5}],
    }
    path = save_image(
        Image.new("RGB", (16, 16), "red"), params, tmp_path, fmt, now=datetime(2026, 1, 2, 3, 4, 5)
    )
    assert path.parent == tmp_path / "2026-01-02"
    read = read_parameters(path.read_bytes())
    assert read is not None
    assert read["prompt"] == params["prompt"]
    assert read["seed"] == 2**63 - 1
    assert read["scheme"] == "fooocus_widgets/1"


def test_history_log_escapes_text(tmp_path: Path) -> None:
    params = {"prompt": "<script>alert(1)</script>", "seed": 1}
    path = save_image(Image.new("RGB", (8, 8)), params, tmp_path, "png")
    log = (path.parent / "log.html").read_text()
    assert "<script>alert(1)</script>" not in log
    assert "&lt;script&gt;" in log
    line = json.loads((path.parent / "history.jsonl").read_text().splitlines()[0])
    assert line["file"] == path.name


def test_same_second_same_seed_does_not_overwrite(tmp_path: Path) -> None:
    now = datetime(2026, 1, 1, 12, 0, 0)
    a = save_image(Image.new("RGB", (8, 8)), {"seed": 1}, tmp_path, "png", now=now)
    b = save_image(Image.new("RGB", (8, 8), "blue"), {"seed": 1}, tmp_path, "png", now=now)
    assert a != b
    assert a.exists()
    assert b.exists()


def test_foreign_images_have_no_parameters(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(path)
    assert read_parameters(path.read_bytes()) is None
    assert read_parameters(b"not an image") is None


def test_state_from_parameters_keeps_the_performance_lora_out_of_the_slots() -> None:
    params = {
        "prompt": "p", "seed": 9, "width": 1024, "height": 1024, "performance": "Lightning",
        "loras": [
            {"file": "sdxl_lightning_4step_lora.safetensors", "weight": 1.0},
            {"file": "mine.safetensors", "weight": 0.3},
        ],
        "sampler": "Euler", "scheduler": "sgm_uniform", "guidance_scale": 1.0, "base_model": "m.safetensors",
    }  # fmt: skip
    state = state_from_parameters(params)
    assert state.loras[0] == LoraSlot(file="mine.safetensors", weight=0.3)
    assert state.loras[1].file == ""
    assert (state.seed, state.random_seed, state.aspect_ratio) == (9, False, "1024*1024")


# ---- plans -----------------------------------------------------------------------------------------


def test_model_names_cannot_leave_the_folder_unless_they_are_real_paths(tmp_path: Path) -> None:
    folders = ModelFolders(tmp_path / "models")
    (tmp_path / "models" / "checkpoints").mkdir(parents=True)
    with pytest.raises(GenerationInputError, match="was not found"):
        resolve_model("../../no-such-dir/model.safetensors", folders)
    with pytest.raises(GenerationInputError, match=r"not a \.safetensors file"):
        resolve_model("/etc/passwd", folders)
    with pytest.raises(GenerationInputError, match="pickle"):
        resolve_model("model.ckpt", folders)
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(b"x")
    assert resolve_model(str(outside), folders).path == outside


def test_hub_ids_are_recognised_and_refused_offline_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fooocus_widgets.engine.checkpoints import ModelFileError
    from fooocus_widgets.engine.models import ModelManager

    ref = resolve_model("stabilityai/stable-diffusion-xl-base-1.0", ModelFolders(tmp_path))
    assert (ref.kind, ref.path) == ("hub", None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelFileError, match="offline"):
        ModelManager().pipeline(ref)


def test_random_seeds_differ_and_fixed_seeds_count_up(tmp_path: Path) -> None:
    folders = ModelFolders(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "m.safetensors").write_bytes(b"x")
    state = PanelState(base_model="m.safetensors", image_number=3)
    a = plan_generation(state, folders=folders, styles=load_styles())
    b = plan_generation(state, folders=folders, styles=load_styles())
    assert a.seeds != b.seeds
    assert b.seeds == (b.seeds[0], b.seeds[0] + 1, b.seeds[0] + 2) or b.seeds[0] > 2**63 - 4
    fixed = plan_generation(
        state.replace(random_seed=False, seed=2**63 - 1), folders=folders, styles=load_styles()
    )
    assert fixed.seeds == (2**63 - 1, 0, 1)  # wraps within the allowed range
    assert plan_generation(state.replace(styles=("Nope",)), folders=folders, styles=load_styles()).warnings
