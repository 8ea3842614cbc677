"""Giving memory back, on the CPU with the demo models: release_vram(), IPython's references,
RSS after release and across many model switches, and out-of-memory recovery."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path
from typing import Any

import pytest
import torch

import fooocus_widgets as fw
from fooocus_widgets.api import default_engine
from fooocus_widgets.engine.models import ModelManager
from fooocus_widgets.engine.run import Engine, GenerationError, RunEvents
from fooocus_widgets.params import plan_generation
from fooocus_widgets.state import PanelState

# ---- release_vram() and IPython -------------------------------------------------------------------


@pytest.fixture
def shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    fw.load_ipython_extension(shell)
    yield shell
    shell.run_cell("%reset -f")


def _load_in_shell(shell: Any, demo_dir: Path, code: str) -> list[weakref.ref[Any]]:
    setup = (
        "import fooocus_widgets as fw\n"
        f"r = fw.generate('x', model='demo-sdxl-a.safetensors', models_dir={str(demo_dir)!r}, "
        "width=64, height=64, steps=2, seed=1, image_number=1, save=False, progress=False)\n"
        "pipe = fw.api.default_engine().models.current.pipe\n"
    )
    assert shell.run_cell(setup).success
    pipe = shell.user_ns["pipe"]
    refs = [weakref.ref(pipe)] + [
        weakref.ref(c) for c in pipe.components.values() if isinstance(c, torch.nn.Module)
    ]
    del pipe
    shell.run_cell(code)
    return refs


def test_release_frees_a_pipeline_shown_as_a_cells_last_expression(shell: Any, demo_dir: Path) -> None:
    refs = _load_in_shell(shell, demo_dir, "pipe")  # Out[n], _ and the display hook hold it now
    assert any(out is refs[0]() for out in shell.user_ns["Out"].values())
    shell.run_cell("del pipe, r")
    assert refs[0]() is not None  # IPython still holds it
    report = shell.run_line_magic("fw_release", "")
    assert all(ref() is None for ref in refs)
    assert "demo-sdxl-a.safetensors" in report.released
    assert any(item.startswith("Out[") for item in report.released)
    assert "Process RAM" in str(report)
    assert "<table>" in report._repr_html_()


def test_release_frees_a_pipeline_held_by_the_last_exception(shell: Any, demo_dir: Path) -> None:
    refs = _load_in_shell(shell, demo_dir, "pipe(prompt='x', num_inference_steps=2, width=63, height=64)")
    assert shell.last_execution_result.error_in_exec is not None  # raised inside the pipeline
    shell.run_cell("del pipe, r")
    fw.release_vram()
    assert all(ref() is None for ref in refs)


def test_keep_models_keeps_the_pipeline(demo_dir: Path) -> None:
    fw.generate(
        "x",
        model="demo-sdxl-a.safetensors",
        models_dir=demo_dir,
        width=64,
        height=64,
        steps=2,
        image_number=1,
        save=False,
        progress=False,
    )
    report = fw.release_vram(keep_models=True)
    assert default_engine().models.current is not None
    assert "demo-sdxl-a.safetensors" not in report.released
    fw.release_vram()
    assert default_engine().models.current is None


def test_the_magic_refuses_unknown_options(shell: Any) -> None:
    with pytest.raises(ValueError, match="allowed: --keep-models"):
        shell.run_line_magic("fw_release", "--everything")


def test_the_free_memory_button(demo_dir: Path, tmp_path: Path, small_state: PanelState) -> None:
    panel = fw.FooocusPanel(key="mem", state=small_state, store=fw.MemoryStore(), models_dir=demo_dir,
                            output_dir=tmp_path, images=fw.ImageStore(tmp_path / "i"))  # fmt: skip
    panel.generate(wait=True)
    assert panel.memory["rss"] > 0
    assert default_engine().models.current is not None
    state = panel.state
    panel.controller.on_message(panel, {"type": "free-memory"}, [])
    assert default_engine().models.current is None
    assert panel.notice.startswith("Memory freed.")
    assert panel.state == state  # the panel's state is untouched
    panel.generate(wait=True)  # and the next Generate loads what it needs
    assert panel.error == ""


def test_the_ipython_clean_up_lives_beside_the_engine_not_in_it() -> None:
    import fooocus_widgets.engine

    engine_dir = Path(fooocus_widgets.engine.__file__).parent
    assert [p.name for p in engine_dir.glob("*.py") if "ipython" in p.read_text().lower()] == []
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, fooocus_widgets.ipython_cleanup; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'torch'" not in imported
    assert "'IPython'" not in imported


def test_clear_ipython_references_clears_the_last_traceback() -> None:
    from fooocus_widgets.ipython_cleanup import clear_ipython_references

    sys.last_value = ValueError("held")  # type: ignore[attr-defined]
    try:
        assert "the last traceback" in clear_ipython_references(lambda _value: False)
        assert sys.last_value is None  # type: ignore[attr-defined]
    finally:
        sys.last_value = None  # type: ignore[attr-defined]


# ---- RSS in a clean process --------------------------------------------------------------------------

RSS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import torch
    torch.set_num_threads(2)
    import fooocus_widgets as fw
    import fooocus_widgets.api
    from fooocus_widgets.engine.memory import snapshot
    from fooocus_widgets.engine.tokenizers import sdxl_tokenizers
    models, switches = sys.argv[1], int(sys.argv[2])
    engine = fw.api.default_engine()

    def libraries():
        # the baseline is "before the first load": the libraries that load models are imported
        # (their code pages count in RSS) and the CLIP tokenizer tables that every model shares
        # are built; no model has been loaded yet
        from diffusers import StableDiffusionXLPipeline
        from transformers import CLIPTextModel, CLIPTextModelWithProjection
        import peft
        import fooocus_widgets.engine.run
        sdxl_tokenizers()

    engine.submit(libraries).result()
    # "RSS" below is what models can hold: anonymous memory plus mapped model files (clean code
    # pages of libraries touched by the first generation are no model's and not counted)
    before = snapshot().held
    def run(name):
        fw.generate("x", model=name, models_dir=models, width=64, height=64, steps=2, seed=1,
                    image_number=1, save=False, progress=False)
    run("demo-sdxl-a.safetensors")
    loaded = snapshot().held
    fw.release_vram()
    released = snapshot().held
    total = [snapshot().rss]
    rss = []
    for i in range(switches):
        run("demo-sdxl-a.safetensors" if i % 2 == 0 else "demo-sdxl-b.safetensors")
        rss.append(snapshot().held)
    out = {"before": before, "loaded": loaded, "released": released, "switches": rss, "total": total}
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def rss(demo_dir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(demo_dir), "30"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_rss_after_release_is_within_10_percent_of_before_the_first_load(rss: dict[str, Any]) -> None:
    assert rss["loaded"] > rss["before"]  # loading and generating did take memory
    assert rss["released"] <= rss["before"] * 1.10, rss


def test_rss_does_not_grow_over_30_alternating_model_switches(rss: dict[str, Any]) -> None:
    switches = rss["switches"]
    assert len(switches) == 30
    growth = switches[29] / switches[4]
    assert growth < 1.05, f"RSS grew {growth:.3f}x from switch 5 to switch 30: {switches}"


# ---- out-of-memory recovery ---------------------------------------------------------------------------


def _fail_once(exc: BaseException) -> Any:
    calls = {"n": 0}

    def maybe_fail() -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise exc

    return maybe_fail, calls


OOMS = [torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"), MemoryError()]


@pytest.mark.parametrize("oom", OOMS, ids=["cuda", "cpu"])
def test_oom_at_load_is_recovered_by_freeing_and_retrying(
    engine: Engine,
    small_state: PanelState,
    folders,
    styles,
    monkeypatch: pytest.MonkeyPatch,
    oom: BaseException,  # type: ignore[no-untyped-def]
) -> None:
    engine.models.release()
    maybe_fail, calls = _fail_once(oom)
    real_load = ModelManager._load

    def load(self: ModelManager, ref: Any) -> Any:
        maybe_fail()
        return real_load(self, ref)

    monkeypatch.setattr(ModelManager, "_load", load)
    said: list[str] = []
    results = engine.run(
        plan_generation(small_state, folders=folders, styles=styles, steps=2), RunEvents(status=said.append)
    )
    assert len(results) == 1
    assert calls["n"] == 2
    assert any("Out of memory while loading" in s for s in said)


@pytest.mark.parametrize("oom", OOMS, ids=["cuda", "cpu"])
@pytest.mark.parametrize("where", ["denoising", "decoding"])
def test_oom_while_generating_is_retried_in_a_lower_memory_mode(  # type: ignore[no-untyped-def]
    engine: Engine,
    small_state: PanelState,
    folders,
    styles,
    monkeypatch: pytest.MonkeyPatch,
    oom: BaseException,
    where: str,
) -> None:
    engine.models.release()
    plan = plan_generation(small_state, folders=folders, styles=styles, steps=2)
    pipe = engine.submit(lambda: engine.prepare(plan)).result()
    maybe_fail, calls = _fail_once(oom)
    if where == "denoising":
        real_forward = type(pipe.unet).forward

        def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
            maybe_fail()
            return real_forward(self, *args, **kwargs)

        monkeypatch.setattr(type(pipe.unet), "forward", forward)
    else:
        real_decode = type(pipe.vae).decode

        def decode(self: Any, *args: Any, **kwargs: Any) -> Any:
            maybe_fail()
            return real_decode(self, *args, **kwargs)

        monkeypatch.setattr(type(pipe.vae), "decode", decode)
    said: list[str] = []
    results = engine.run(plan, RunEvents(status=said.append))
    assert len(results) == 1
    assert calls["n"] >= 2
    assert any(
        f"Out of memory while {'generating' if where == 'denoising' else 'decoding'} image 1: retrying with"
        in s
        for s in said
    )
    assert engine.models.current is not None
    assert engine.models.current.vae_tiling  # the lower-memory mode stays for the next images


def test_oom_that_persists_is_reported_and_the_next_generation_succeeds(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.models.release()
    plan = plan_generation(small_state, folders=folders, styles=styles, steps=2)
    pipe = engine.submit(lambda: engine.prepare(plan)).result()

    def always(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(type(pipe.unet), "forward", always)
    with pytest.raises(GenerationError, match=r"Out of memory while generating image 1.*smaller size"):
        engine.run(plan)
    monkeypatch.undo()
    assert len(engine.run(plan)) == 1


def test_offload_modes_are_skipped_cleanly_without_an_accelerator(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles
) -> None:
    engine.models.release()
    said: list[str] = []
    for mode in ("low VRAM", "no VRAM"):
        plan = plan_generation(small_state.replace(memory_mode=mode), folders=folders, styles=styles, steps=2)
        assert len(engine.run(plan, RunEvents(status=said.append))) == 1
    assert any("needs a GPU" in s for s in said)


def test_an_all_nan_decode_is_an_error_not_a_black_picture(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine.models.release()
    plan = plan_generation(small_state, folders=folders, styles=styles, steps=2)
    pipe = engine.submit(lambda: engine.prepare(plan)).result()

    def overflowing(self: Any, latents: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return (torch.full((latents.shape[0], 3, 64, 64), float("nan")),)

    monkeypatch.setattr(type(pipe.vae), "decode", overflowing)
    with pytest.raises(GenerationError, match="NaN"):
        engine.run(plan)
    monkeypatch.undo()
    assert len(engine.run(plan)) == 1
