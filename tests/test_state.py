"""PanelState: validation, JSON round trips, migrations and forward compatibility."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fooocus_widgets.state import (
    INPUT_IMAGE_MODES,
    LORA_SLOTS,
    MAX_SEED,
    OUTPUT_FORMATS,
    PERFORMANCES,
    SAMPLERS,
    SCHEDULERS,
    SCHEMA_VERSION,
    SDXL_ASPECT_RATIOS,
    InputImageSettings,
    LoraSlot,
    PanelState,
    StateFormatError,
    StateValidationError,
)

# ---- strategies ------------------------------------------------------------------------------

text = st.text(max_size=200)  # any unicode, quotes, backslashes, newlines, code included
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
)  # one-line names
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
sides = st.integers(min_value=8, max_value=512).map(lambda n: n * 8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
lora_slots = st.builds(
    LoraSlot,
    enabled=st.booleans(),
    file=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
    weight=st.integers(-200, 200).map(lambda n: n / 100),
)
valid_states = st.builds(
    PanelState,
    prompt=text,
    negative_prompt=text,
    styles=st.lists(names, max_size=6, unique=True).map(tuple),
    performance=st.sampled_from(PERFORMANCES),
    aspect_ratio=st.one_of(
        st.sampled_from(SDXL_ASPECT_RATIOS), st.tuples(sides, sides).map(lambda wh: f"{wh[0]}*{wh[1]}")
    ),
    image_number=st.integers(1, 32),
    seed=st.integers(0, MAX_SEED),
    random_seed=st.booleans(),
    output_format=st.sampled_from(OUTPUT_FORMATS),
    base_model=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=60),
    loras=st.lists(lora_slots, min_size=0, max_size=LORA_SLOTS).map(tuple),
    guidance_scale=st.floats(1.0, 30.0, allow_nan=False),
    sharpness=st.floats(0.0, 30.0, allow_nan=False),
    sampler=st.sampled_from(SAMPLERS),
    scheduler=st.sampled_from(SCHEDULERS),
    clip_skip=st.integers(1, 12),
    input_image=st.builds(
        InputImageSettings,
        enabled=st.booleans(),
        mode=st.sampled_from(INPUT_IMAGE_MODES),
        image=st.one_of(st.just(""), hashes),
    ),
    last_results=st.lists(hashes, max_size=4).map(tuple),
    extras=st.dictionaries(st.text(min_size=1, max_size=10).map(lambda k: "x_" + k), json_values, max_size=3),
)


# ---- round trips -----------------------------------------------------------------------------


def test_default_state_round_trips() -> None:
    state = PanelState()
    assert PanelState.from_json(state.to_json()) == state
    assert json.loads(state.to_json())["schema_version"] == SCHEMA_VERSION


def test_defaults_follow_fooocus() -> None:
    state = PanelState()
    assert (state.performance, state.aspect_ratio, state.image_number) == ("Speed", "1152*896", 2)
    assert (state.width, state.height) == (1152, 896)
    assert state.random_seed is True
    assert state.output_format == "png"
    assert len(state.loras) == LORA_SLOTS
    assert state.guidance_scale == 4.0
    assert len(SDXL_ASPECT_RATIOS) == 26


@settings(max_examples=150, deadline=None)
@given(valid_states)
def test_random_valid_states_round_trip(state: PanelState) -> None:
    again = PanelState.from_json(state.to_json())
    assert again == state
    assert again.digest() == state.digest()
    assert hash(again) == hash(state)
    assert PanelState.from_dict(json.loads(state.canonical_json())) == state


@settings(max_examples=60, deadline=None)
@given(valid_states, valid_states)
def test_digest_tells_states_apart(a: PanelState, b: PanelState) -> None:
    assert (a.digest() == b.digest()) == (a == b)


def test_hostile_text_survives_exactly() -> None:
    prompt = 'a "quoted" \\ backslash\nnew line \'); import os; os._exit(1) #\u2028 ✓ </script><b>x</b>'
    state = PanelState(prompt=prompt, negative_prompt=prompt)
    assert PanelState.from_json(state.to_json()).prompt == prompt


# ---- rejection -------------------------------------------------------------------------------

INVALID = [
    ("prompt", 5, "prompt"),
    ("prompt", "x" * 40_000, "prompt"),
    ("styles", "Sharp", "styles"),
    ("styles", ("a", "a"), "styles"),
    ("styles", ("",), "styles[0]"),
    ("performance", "Turbo", "performance"),
    ("aspect_ratio", "1000*1001", "aspect_ratio"),
    ("aspect_ratio", "1152x896", "aspect_ratio"),
    ("aspect_ratio", "8*8", "aspect_ratio"),
    ("image_number", 0, "image_number"),
    ("image_number", 33, "image_number"),
    ("image_number", True, "image_number"),
    ("image_number", 2.5, "image_number"),
    ("seed", -1, "seed"),
    ("seed", 2**63, "seed"),
    ("random_seed", "yes", "random_seed"),
    ("output_format", "gif", "output_format"),
    ("base_model", "a\nb", "base_model"),
    ("guidance_scale", 0.5, "guidance_scale"),
    ("guidance_scale", float("nan"), "guidance_scale"),
    ("sharpness", 31, "sharpness"),
    ("sampler", "Heun", "sampler"),
    ("scheduler", "exponential", "scheduler"),
    ("clip_skip", 0, "clip_skip"),
    ("loras", tuple(LoraSlot() for _ in range(6)), "loras"),
    ("last_results", ("not-a-hash",), "last_results[0]"),
]


@pytest.mark.parametrize(("name", "value", "field"), INVALID)
def test_invalid_values_name_the_field_and_what_is_allowed(name: str, value: object, field: str) -> None:
    with pytest.raises(StateValidationError) as info:
        PanelState().replace(**{name: value})
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert "allowed: " in str(info.value)


@settings(max_examples=100, deadline=None)
@given(
    valid_states,
    st.sampled_from(["image_number", "seed", "guidance_scale", "performance", "sampler", "clip_skip"]),
    # values that no field in the list accepts: negative numbers, text no choice starts with
    # "?", NaN and infinities, None
    st.one_of(
        st.integers(-(10**20), -1),
        st.floats(max_value=-1e-9),
        st.sampled_from([float("nan"), float("inf")]),
        st.text(max_size=5).map(lambda t: "?" + t),
        st.none(),
    ),
)
def test_random_invalid_values_are_rejected_with_the_field(state: PanelState, name: str, bad: object) -> None:
    doc = state.to_dict()
    doc[name] = bad
    with pytest.raises(StateValidationError) as info:
        PanelState.from_dict(doc)
    assert info.value.field == name
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("slot", "field"),
    [
        ({"weight": 2.5}, "loras[1].weight"),
        ({"enabled": 1}, "loras[1].enabled"),
        ({"file": 3}, "loras[1].file"),
    ],
)
def test_lora_errors_name_the_slot(slot: dict[str, object], field: str) -> None:
    with pytest.raises(StateValidationError) as info:
        PanelState.from_dict({"schema_version": 1, "loras": [{}, slot]})
    assert info.value.field == field


def test_replace_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError, match="promt"):
        PanelState().replace(promt="x")


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", '"x"', "null", '{"prompt": "x"'])
def test_non_state_text_gives_a_format_error(text: str) -> None:
    with pytest.raises(StateFormatError):
        PanelState.from_json(text)


# ---- migration and forward compatibility -----------------------------------------------------


def test_unversioned_documents_are_migrated() -> None:
    old = {
        "prompt": "a cat",
        "loras": [[True, "detail.safetensors", 0.5], ["style.safetensors", -1], [False, "None", 1.0]],
        "aspect_ratio": "1024×1024",
        "cfg_scale": 7,
        "styles": "Sharp",
    }
    state = PanelState.from_dict(old)
    assert state.prompt == "a cat"
    assert state.loras[0] == LoraSlot(enabled=True, file="detail.safetensors", weight=0.5)
    assert state.loras[1] == LoraSlot(enabled=True, file="style.safetensors", weight=-1.0)
    assert state.loras[2] == LoraSlot(enabled=False, file="", weight=1.0)
    assert state.aspect_ratio == "1024*1024"
    assert state.guidance_scale == 7.0
    assert state.styles == ("Sharp",)
    assert not state.extras  # every old key found its field


def test_missing_keys_take_defaults() -> None:
    state = PanelState.from_dict({"schema_version": 1, "prompt": "only this"})
    assert state == PanelState(prompt="only this")


def test_unknown_keys_from_a_newer_version_are_kept() -> None:
    newer = PanelState(prompt="p").to_dict()
    newer["schema_version"] = SCHEMA_VERSION + 3
    newer["upscale_model"] = "4x.safetensors"
    newer["refiner"] = {"model": "r.safetensors", "switch": 0.8}
    newer["loras"][0]["clip_weight"] = 0.7
    newer["input_image"]["outpaint"] = ["left"]

    state = PanelState.from_dict(newer)
    assert state.prompt == "p"
    assert state.extras == {
        "upscale_model": "4x.safetensors",
        "refiner": {"model": "r.safetensors", "switch": 0.8},
    }
    # edit with the older package and write back: nothing the newer one stored is lost
    written = json.loads(state.replace(prompt="edited").to_json())
    assert written["upscale_model"] == "4x.safetensors"
    assert written["refiner"] == {"model": "r.safetensors", "switch": 0.8}
    assert written["loras"][0]["clip_weight"] == 0.7
    assert written["input_image"]["outpaint"] == ["left"]
    assert written["prompt"] == "edited"


def test_extras_may_not_shadow_fields() -> None:
    with pytest.raises(StateValidationError, match="extras"):
        PanelState(extras={"prompt": "x"})


def test_bad_schema_version_is_rejected() -> None:
    with pytest.raises(StateValidationError, match="schema_version"):
        PanelState.from_dict({"schema_version": "one"})


def test_state_is_frozen() -> None:
    state = PanelState()
    with pytest.raises(AttributeError):
        state.prompt = "x"  # type: ignore[misc]
