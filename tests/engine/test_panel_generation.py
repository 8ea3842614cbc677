"""The panel driving the engine: results as traits, and bad input that loses nothing."""

from __future__ import annotations

import io
import pickle
import threading
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from fooocus_widgets import FooocusPanel, ImageStore, MemoryStore
from fooocus_widgets.engine.run import Engine
from fooocus_widgets.input_images import vary_size
from fooocus_widgets.state import InputImageSettings, LoraSlot, PanelState


@pytest.fixture
def panel(demo_dir: Path, tmp_path: Path, engine: Engine, small_state: PanelState) -> FooocusPanel:
    return FooocusPanel(
        key="t",
        state=small_state.replace(image_number=2),
        store=MemoryStore(),
        models_dir=demo_dir,
        output_dir=tmp_path / "outputs",
        images=ImageStore(tmp_path / "images"),
        engine=lambda: engine,
    )


def generate(panel: FooocusPanel) -> None:
    panel.generate(wait=True)


def test_generate_fills_results_and_keeps_hashes_in_the_state(panel: FooocusPanel, tmp_path: Path) -> None:
    generate(panel)
    assert panel.error == ""
    assert panel.busy is False
    assert panel.progress["phase"] == "done"
    assert [r["seed"] for r in panel.results] == ["1234", "1235"]
    assert all(r["thumb"].startswith("data:image/jpeg;base64,") for r in panel.results)
    assert panel.state.last_results == tuple(r["hash"] for r in panel.results)
    for entry in panel.results:
        assert Path(entry["path"]).is_file()
        assert panel.controller.images.get(entry["hash"]) == Path(entry["path"]).read_bytes()


def test_a_new_panel_shows_the_last_results_again(
    panel: FooocusPanel, demo_dir: Path, tmp_path: Path
) -> None:
    generate(panel)
    again = FooocusPanel(
        key="t",
        state=panel.state,
        store=MemoryStore(),
        models_dir=demo_dir,
        images=ImageStore(tmp_path / "images"),
    )
    assert [(r["hash"], r["seed"]) for r in again.results] == [(r["hash"], r["seed"]) for r in panel.results]


def test_generate_runs_on_the_engine_thread(panel: FooocusPanel, engine: Engine) -> None:
    threads: list[str] = []
    panel.observe(lambda _change: threads.append(threading.current_thread().name), names="progress")
    job = panel.controller.generate()
    assert job is not None
    assert panel.busy is True  # the call returned while the batch runs
    job.result()
    assert panel.busy is False
    assert threads[0] == threading.current_thread().name  # "starting" is set before the job is queued
    assert threads[1:]
    assert all(name.startswith("fooocus-widgets-engine") for name in threads[1:])


def test_a_second_panel_waits_its_turn(panel: FooocusPanel, demo_dir: Path, engine: Engine) -> None:
    other = FooocusPanel(
        key="o", state=panel.state, store=MemoryStore(), models_dir=demo_dir, engine=lambda: engine
    )
    job = panel.controller.generate()
    assert job is not None
    other.generate()
    assert "Another panel is generating" in other.error
    job.result()
    assert panel.error == ""


def test_full_image_is_sent_on_request(panel: FooocusPanel, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(panel)
    sent: list[tuple[dict, list]] = []
    monkeypatch.setattr(panel, "send", lambda content, buffers=None: sent.append((content, buffers or [])))
    digest = panel.results[0]["hash"]
    panel.controller.on_message(panel, {"type": "image", "id": "r1", "hash": digest}, [])
    panel.controller.on_message(panel, {"type": "image", "id": "r2", "hash": "f" * 64}, [])
    (first, buffers), (second, second_buffers) = sent
    assert first == {"type": "image-bytes", "id": "r1", "hash": digest, "found": True, "mime": "image/png"}
    assert Image.open(io.BytesIO(buffers[0])).size == (64, 64)
    assert second == {"type": "image-bytes", "id": "r2", "hash": "f" * 64, "found": False, "mime": ""}
    assert second_buffers == []


def test_loading_a_result_back_restores_its_parameters(panel: FooocusPanel) -> None:
    panel.prompt = "the original prompt"
    panel.loras = [{"enabled": True, "file": "demo-detail.safetensors", "weight": 0.4}]
    generate(panel)
    data = Path(panel.results[1]["path"]).read_bytes()
    panel.prompt = "something else"
    panel.loras = []
    panel.random_seed = True
    panel.controller.on_message(panel, {"type": "load-image", "name": "x.png"}, [data])
    assert panel.error == ""
    assert panel.prompt == "the original prompt"
    assert panel.state.seed == 1235
    assert panel.state.random_seed is False
    assert panel.state.loras[0] == LoraSlot(file="demo-detail.safetensors", weight=0.4)
    assert "restored" in panel.notice


def test_loading_an_image_without_parameters_says_so(panel: FooocusPanel) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    before = panel.state
    panel.controller.on_message(panel, {"type": "load-image", "name": "holiday.png"}, [buf.getvalue()])
    assert "holiday.png carries no fooocus-widgets parameters" in panel.error
    assert panel.state == before


def test_refresh_finds_new_models_and_answers_with_the_counts(
    panel: FooocusPanel, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = demo_dir / "checkpoints" / "sub" / "copy.safetensors"
    extra.parent.mkdir(exist_ok=True)
    extra.write_bytes((demo_dir / "checkpoints" / "demo-sdxl-a.safetensors").read_bytes())
    sent: list[dict] = []
    monkeypatch.setattr(panel, "send", lambda content, buffers=None: sent.append(content))
    try:
        assert "sub/copy.safetensors" not in panel.choices["models"]
        panel.controller.on_message(panel, {"type": "refresh", "id": "q7"}, [])
        assert "sub/copy.safetensors" in panel.choices["models"]
        assert sent == [
            {
                "type": "refreshed",
                "id": "q7",
                "models": len(panel.choices["models"]),
                "loras": len(panel.choices["loras"]),
                "styles": len(panel.choices["styles"]),
            }
        ]
    finally:
        extra.unlink()
        extra.parent.rmdir()


def test_no_models_found_still_renders_and_says_where_to_put_them(tmp_path: Path) -> None:
    empty = FooocusPanel(key="e", store=MemoryStore(), models_dir=tmp_path / "nothing", prompt="kept")
    assert empty.choices["models"] == []
    assert str(tmp_path / "nothing" / "checkpoints") in empty.choices["models_hint"]
    empty.generate()
    assert "No base model is selected" in empty.error
    assert empty.prompt == "kept"


# ---- bad input: a clear message, and the next generation still works -----------------------------


def _pickle_checkpoint(folder: Path, marker: Path) -> str:
    class Boom:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (Path.touch, (marker,))

    (folder / "evil.ckpt").write_bytes(pickle.dumps(Boom()))
    return "evil.ckpt"


def _truncated(folder: Path, _marker: Path) -> str:
    data = (folder / "demo-sdxl-a.safetensors").read_bytes()
    (folder / "cut.safetensors").write_bytes(data[: len(data) // 2])
    return "cut.safetensors"


def _corrupt(folder: Path, _marker: Path) -> str:
    data = bytearray((folder / "demo-sdxl-a.safetensors").read_bytes())
    data[8:40] = b"\xff" * 32  # the header's JSON
    (folder / "corrupt.safetensors").write_bytes(bytes(data))
    return "corrupt.safetensors"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder, marker: "missing.safetensors", "was not found"),
        (lambda folder, marker: "unknown-model", "was not found"),
        (_pickle_checkpoint, "pickle file"),
        (_truncated, "truncated or corrupt"),
        (_corrupt, "not a valid .safetensors"),
    ],
    ids=["missing", "unknown", "pickle", "truncated", "corrupt"],
)
def test_bad_base_models(panel: FooocusPanel, demo_dir: Path, tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    generate(panel)
    earlier = list(panel.results)
    marker = tmp_path / "unpickled"
    name = make(demo_dir / "checkpoints", marker)
    try:
        panel.base_model = name
        panel.prompt = "my prompt survives"
        generate(panel)
        assert message in panel.error
        assert not marker.exists()
        assert panel.prompt == "my prompt survives"
        assert panel.base_model == name  # the user's choice is kept, to fix or change
        assert panel.results == earlier or panel.results == []
        panel.base_model = "demo-sdxl-a.safetensors"
        generate(panel)
        assert panel.error == ""
        assert len(panel.results) == 2
    finally:
        for leftover in ("evil.ckpt", "cut.safetensors", "corrupt.safetensors"):
            (demo_dir / "checkpoints" / leftover).unlink(missing_ok=True)


def _sd15_lora(folder: Path) -> str:
    save_file(
        {
            "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": torch.zeros(4, 768),
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 320),
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": torch.zeros(320, 4),
        },
        str(folder / "sd15.safetensors"),
    )
    return "sd15.safetensors"


def _wrong_width_lora(folder: Path) -> str:
    # diffusers/PEFT naming for SDXL modules, but sizes of another model: peft refuses the shapes
    tensors = {}
    for proj in ("to_q", "to_k", "to_v"):
        key = f"unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.{proj}"
        tensors[f"{key}.lora_A.weight"] = torch.zeros(4, 640)
        tensors[f"{key}.lora_B.weight"] = torch.zeros(640, 4)
    save_file(tensors, str(folder / "wide.safetensors"))
    return "wide.safetensors"


@pytest.mark.parametrize(
    ("make", "message"), [(_sd15_lora, "SD 1.x/2.x"), (_wrong_width_lora, "does not fit")]
)
def test_loras_that_do_not_fit_sdxl(panel: FooocusPanel, demo_dir: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    name = make(demo_dir / "loras")
    try:
        panel.loras = [{"enabled": True, "file": name, "weight": 1.0}]
        generate(panel)
        assert message in panel.error
        assert panel.loras[0]["file"] == name
        panel.loras = []
        generate(panel)
        assert panel.error == ""
        assert len(panel.results) == 2
    finally:
        (demo_dir / "loras" / name).unlink(missing_ok=True)


def test_missing_performance_lora_names_the_file_and_the_folder(panel: FooocusPanel, demo_dir: Path) -> None:
    lcm = demo_dir / "loras" / "sdxl_lcm_lora.safetensors"
    kept = lcm.read_bytes()
    lcm.unlink()
    try:
        panel.performance = "Extreme Speed"
        generate(panel)
        assert "sdxl_lcm_lora.safetensors" in panel.error
        assert str(demo_dir / "loras") in panel.error
    finally:
        lcm.write_bytes(kept)
    generate(panel)
    assert panel.error == ""


@pytest.mark.parametrize("size", [(100, 64), (64, 4104), (32, 64)])
def test_sizes_not_multiple_of_8_or_out_of_range(demo_dir: Path, size: tuple[int, int]) -> None:
    from fooocus_widgets import generate as api_generate
    from fooocus_widgets.params import GenerationInputError

    with pytest.raises(GenerationInputError, match="multiples of 8"):
        api_generate("x", model="demo-sdxl-a.safetensors", models_dir=demo_dir, width=size[0], height=size[1])


def test_a_failure_inside_the_engine_is_explained_and_the_panel_recovers(
    panel: FooocusPanel, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("simulated failure in the UNet\nwith a long traceback")

    pipe = engine.models.pipeline(panel.controller.plan().model)
    monkeypatch.setattr(type(pipe), "__call__", broken)
    generate(panel)
    assert panel.error == "Generation failed: RuntimeError: simulated failure in the UNet"
    assert panel.progress["phase"] == "error"
    monkeypatch.undo()
    generate(panel)
    assert panel.error == ""


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def test_the_panel_varies_its_input_image_from_the_image_store(
    panel: FooocusPanel, demo_dir: Path, tmp_path: Path
) -> None:
    digest = panel.controller.images.put(_png((220, 30, 30)))
    panel.state = panel.state.replace(
        image_number=1,
        performance="Lightning",  # 4 steps: Vary runs at Fooocus's 1024-pixel size
        input_image=InputImageSettings(enabled=True, mode="Vary (Subtle)", image=digest),
    )
    assert panel.controller.plan().input_image is not None
    generate(panel)
    assert panel.error == ""
    [entry] = panel.results
    with Image.open(entry["path"]) as saved:
        assert saved.size == vary_size(96, 64)  # Fooocus's size for Vary, not the aspect ratio


def test_an_input_image_missing_from_the_store_is_refused_with_the_reason(panel: FooocusPanel) -> None:
    panel.state = panel.state.replace(
        input_image=InputImageSettings(enabled=True, mode="Vary (Strong)", image="ab" * 32)
    )
    generate(panel)
    assert "not found" in panel.error
    assert panel.results == []
    assert panel.state.input_image.image == "ab" * 32  # nothing the user gave is dropped
