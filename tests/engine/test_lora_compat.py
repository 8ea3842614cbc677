"""LoRA compatibility judged from the weights: modules and shapes against the loaded demo model.

Everything here goes through diffusers for real: `lora_state_dict` reads and renames the files,
the demo model is loaded from its single-file checkpoint, and refused LoRAs are refused on the
engine's own loading path, leaving the pipeline exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from fooocus_widgets.engine.demo import DEMO_LORAS, TRAINED_FILES
from fooocus_widgets.engine.lora_compat import check_lora_fits, read_lora_pairs
from fooocus_widgets.engine.run import Engine
from fooocus_widgets.errors import ModelFileError
from fooocus_widgets.params import plan_generation
from fooocus_widgets.state import LoraSlot, PanelState

TO_Q = "down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q"
"""A layer the demo LoRAs adapt: a Linear with weight [32, 32] in the demo model."""


@pytest.fixture
def pipe(engine: Engine, small_state: PanelState, folders, styles) -> Any:  # type: ignore[no-untyped-def]
    """The demo model A, loaded by the engine through the single-file path, with no LoRAs."""
    plan = plan_generation(small_state, folders=folders, styles=styles, steps=2)
    return engine.submit(lambda: engine.prepare(plan)).result()


@pytest.fixture
def lora_folder(demo_dir: Path) -> Iterator[Path]:
    """The demo loras folder; LoRA files a test writes there are removed afterwards."""
    folder = demo_dir / "loras"
    before = set(folder.iterdir())
    yield folder
    for path in set(folder.iterdir()) - before:
        path.unlink()


def _demo_lora(folder: Path, name: str = "sdxl_lcm_lora.safetensors") -> dict[str, torch.Tensor]:
    """A LoRA in diffusers format (default: a random stand-in, rank 4 on the 136 attention layers)."""
    return load_file(str(folder / name))


def _check(engine: Engine, pipe: Any, path: Path) -> int:
    return engine.submit(lambda: check_lora_fits(pipe, path)).result()


# ---- LoRAs that fit ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(DEMO_LORAS))
def test_the_demo_loras_fit_the_demo_model(engine: Engine, pipe: Any, lora_folder: Path, name: str) -> None:
    # the trained ones also adapt proj_in/proj_out and the resnets' convs; the random stand-ins
    # only to_q/k/v/out of each attention
    expected = 192 if name in TRAINED_FILES else 136
    assert _check(engine, pipe, lora_folder / name) == expected


def test_a_kohya_format_lora_is_read_with_diffusers_names(
    engine: Engine, pipe: Any, lora_folder: Path
) -> None:
    from diffusers.utils import convert_state_dict_to_kohya

    kohya = convert_state_dict_to_kohya(_demo_lora(lora_folder))
    assert all(key.startswith("lora_unet_") for key in kohya)
    save_file(kohya, str(lora_folder / "kohya.safetensors"))
    pairs = engine.submit(lambda: read_lora_pairs(pipe, lora_folder / "kohya.safetensors")).result()
    assert {pair.component for pair in pairs} == {"unet"}
    assert any(pair.module == TO_Q and pair.down == (4, 32) and pair.up == (32, 4) for pair in pairs)
    assert _check(engine, pipe, lora_folder / "kohya.safetensors") == 136


def _text_encoder_layers(encoder: torch.nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """PEFT-format LoRA weights for the attention projections of a text encoder."""
    tensors = {}
    for name, module in encoder.named_modules():
        if name.endswith(("q_proj", "k_proj", "v_proj", "out_proj")):
            assert isinstance(module, torch.nn.Linear)
            tensors[f"{prefix}.{name}.lora_A.weight"] = torch.randn(4, module.in_features) * 0.01
            tensors[f"{prefix}.{name}.lora_B.weight"] = torch.randn(module.out_features, 4) * 0.01
    return tensors


def test_a_lora_for_both_text_encoders_fits(engine: Engine, pipe: Any, lora_folder: Path) -> None:
    tensors = _text_encoder_layers(pipe.text_encoder, "text_encoder")
    tensors |= _text_encoder_layers(pipe.text_encoder_2, "text_encoder_2")
    save_file(tensors, str(lora_folder / "te.safetensors"))
    assert _check(engine, pipe, lora_folder / "te.safetensors") == 16  # 2 encoders x 2 layers x 4


# ---- LoRAs that do not fit ---------------------------------------------------------------------------


def _wrong_shape(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The demo LoRA with one down matrix made for a 48-wide layer instead of a 32-wide one."""
    changed = dict(tensors)
    changed[f"unet.{TO_Q}.lora_A.weight"] = torch.zeros(4, 48)
    return changed


def _missing_modules(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The demo LoRA moved to the first down block, which has no attention in SDXL."""
    return {key.replace("unet.down_blocks.1.", "unet.down_blocks.0."): v for key, v in tensors.items()}


def _sd15(_tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An SD 1.5 UNet LoRA in kohya naming (no text encoder part, so its header looks fine):
    SD 1.5 has attention in its first down block, and a 1280-wide middle block with 1x1-conv
    projections.
    """
    attn = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    mid = "lora_unet_mid_block_attentions_0_proj_in"
    return {
        f"{attn}.lora_down.weight": torch.zeros(4, 320),
        f"{attn}.lora_up.weight": torch.zeros(320, 4),
        f"{attn}.alpha": torch.tensor(4.0),
        f"{mid}.lora_down.weight": torch.zeros(4, 1280, 1, 1),
        f"{mid}.lora_up.weight": torch.zeros(1280, 4, 1, 1),
        f"{mid}.alpha": torch.tensor(4.0),
    }


MISFITS = {
    "wrong-shape": (
        _wrong_shape,
        rf"1 of its 136 modules do not fit, e\.g\. unet\.{TO_Q} \(LoRA down \[4, 48\] / up \[32, 4\]; "
        r"the model's Linear weight is \[32, 32\]\)",
    ),
    "missing-modules": (
        _missing_modules,
        r"16 of its 136 modules do not fit, e\.g\. unet\.down_blocks\.0\.attentions\.0\..* "
        r"\(no such layer in this model\)",
    ),
    "sd15": (
        _sd15,
        r"2 of its 2 modules do not fit, e\.g\. unet\.down_blocks\.0\.attentions\.0\.transformer_blocks\.0"
        r"\.attn1\.to_q \(no such layer in this model\)",
    ),
}


@pytest.mark.parametrize("case", list(MISFITS))
def test_a_lora_that_does_not_fit_is_refused_naming_a_module(
    engine: Engine, pipe: Any, lora_folder: Path, case: str
) -> None:
    make, detail = MISFITS[case]
    path = lora_folder / f"{case}.safetensors"
    save_file(make(_demo_lora(lora_folder)), str(path))
    with pytest.raises(ModelFileError) as refused:
        _check(engine, pipe, path)
    message = str(refused.value)
    assert message.startswith(f"LoRA {case}.safetensors does not fit this SDXL model: ")
    assert message.endswith("Use a LoRA made for SDXL.")
    assert refused.match(detail)


def test_the_sd15_lora_shapes_are_compared_too(engine: Engine, pipe: Any, lora_folder: Path) -> None:
    from fooocus_widgets.engine.lora_compat import find_misfits

    save_file(_sd15({}), str(lora_folder / "sd15.safetensors"))
    pairs = engine.submit(lambda: read_lora_pairs(pipe, lora_folder / "sd15.safetensors")).result()
    problems = {misfit.pair.module: misfit.problem for misfit in find_misfits(pipe, pairs)}
    assert problems["mid_block.attentions.0.proj_in"] == (
        "LoRA down [4, 1280, 1, 1] / up [1280, 4, 1, 1]; the model's Linear weight is [64, 64]"
    )


def test_keys_for_no_model_of_the_pipeline_do_not_fit(engine: Engine, pipe: Any, lora_folder: Path) -> None:
    tensors = _demo_lora(lora_folder)
    tensors["transformer.blocks.0.attn.to_q.lora_A.weight"] = torch.zeros(4, 32)
    tensors["transformer.blocks.0.attn.to_q.lora_B.weight"] = torch.zeros(32, 4)
    save_file(tensors, str(lora_folder / "other.safetensors"))
    with pytest.raises(ModelFileError, match=r"1 of its 137 modules .* transformer\.blocks\.0\.attn\.to_q"):
        _check(engine, pipe, lora_folder / "other.safetensors")


def test_a_file_diffusers_cannot_read_as_a_lora_is_refused(
    engine: Engine, pipe: Any, lora_folder: Path
) -> None:
    half = {"lora_unet_mid_block_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 64)}  # no up matrix
    save_file(half, str(lora_folder / "half.safetensors"))
    with pytest.raises(
        ModelFileError, match=r"LoRA half\.safetensors could not be read as a LoRA .*kohya-ss"
    ):
        _check(engine, pipe, lora_folder / "half.safetensors")


# ---- on the engine's loading path ---------------------------------------------------------------------


def _adapter_state(pipe: Any) -> tuple[Any, ...]:
    """Everything a LoRA load would change: adapters per model, active ones, UNet weights."""
    weights = {name: tensor.clone() for name, tensor in pipe.unet.state_dict().items()}
    return pipe.get_list_adapters(), pipe.get_active_adapters(), weights


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if a[:2] != b[:2] or a[2].keys() != b[2].keys():
        return False
    return all(torch.equal(a[2][name], b[2][name]) for name in a[2])


@pytest.mark.parametrize("case", ["wrong-shape", "missing-modules", "sd15"])
def test_a_refused_lora_leaves_the_pipeline_exactly_as_it_was(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, lora_folder: Path, case: str
) -> None:
    make, detail = MISFITS[case]
    save_file(make(_demo_lora(lora_folder)), str(lora_folder / f"{case}.safetensors"))
    engine.models.release()
    with_detail = small_state.replace(loras=(LoraSlot(file="demo-detail.safetensors", weight=0.7),))
    baseline = engine.run(plan_generation(with_detail, folders=folders, styles=styles, steps=2))
    pipe = engine.models.current.pipe  # type: ignore[union-attr]
    before = engine.submit(lambda: _adapter_state(pipe)).result()
    adapters = dict(engine.models.current.adapters)  # type: ignore[union-attr]

    # demo-detail would be taken out and demo-style added: nothing of that may happen either
    refused = with_detail.replace(
        loras=(LoraSlot(file="demo-style.safetensors"), LoraSlot(file=f"{case}.safetensors"))
    )
    with pytest.raises(ModelFileError, match=detail):
        engine.run(plan_generation(refused, folders=folders, styles=styles, steps=2))

    assert engine.models.current is not None
    assert engine.models.current.pipe is pipe
    assert engine.models.current.adapters == adapters
    assert _same(engine.submit(lambda: _adapter_state(pipe)).result(), before)
    again = engine.run(plan_generation(with_detail, folders=folders, styles=styles, steps=2))
    assert again[0].image.tobytes() == baseline[0].image.tobytes()


def test_a_sd15_lora_with_a_text_encoder_part_is_refused_by_its_header_first(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, lora_folder: Path
) -> None:
    tensors = _sd15({})
    tensors["lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"] = torch.zeros(4, 768)
    tensors["lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight"] = torch.zeros(768, 4)
    save_file(tensors, str(lora_folder / "sd15-te.safetensors"))
    state = small_state.replace(loras=(LoraSlot(file="sd15-te.safetensors"),))
    with pytest.raises(ModelFileError, match=r"LoRA sd15-te\.safetensors is a LoRA for SD 1\.x/2\.x"):
        engine.run(plan_generation(state, folders=folders, styles=styles, steps=2))


def test_a_kohya_and_a_text_encoder_lora_load_and_change_the_image(  # type: ignore[no-untyped-def]
    engine: Engine, small_state: PanelState, folders, styles, lora_folder: Path
) -> None:
    from diffusers.utils import convert_state_dict_to_kohya

    engine.models.release()
    plain = engine.run(plan_generation(small_state, folders=folders, styles=styles, steps=2))[0]
    pipe = engine.models.current.pipe  # type: ignore[union-attr]
    tensors = _text_encoder_layers(pipe.text_encoder, "text_encoder")
    tensors |= _text_encoder_layers(pipe.text_encoder_2, "text_encoder_2")
    save_file(convert_state_dict_to_kohya(_demo_lora(lora_folder)), str(lora_folder / "kohya.safetensors"))
    save_file(tensors, str(lora_folder / "te.safetensors"))
    slots = (LoraSlot(file="kohya.safetensors"), LoraSlot(file="te.safetensors"))
    with_loras = engine.run(
        plan_generation(small_state.replace(loras=slots), folders=folders, styles=styles, steps=2)
    )[0]
    assert with_loras.image.tobytes() != plain.image.tobytes()
    assert set(pipe.get_list_adapters()) == {"unet", "text_encoder", "text_encoder_2"}
