"""One source for every default, limit and choice: `state.py`. The panel's traits, its `schema`
trait, `generate()` and the page all take them from there.
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from fooocus_widgets import FooocusPanel, MemoryStore, PanelState
from fooocus_widgets.checks import Whole
from fooocus_widgets.panel import STATE_TRAITS
from fooocus_widgets.state import (
    GUIDANCE_RANGE,
    LORA_SLOTS,
    LORA_WEIGHT_RANGE,
    MAX_IMAGE_NUMBER,
    MAX_SEED,
    PERFORMANCES,
    SAMPLERS,
    SDXL_ASPECT_RATIOS,
    StateValidationError,
    field_check,
    schema,
)

REPO = Path(__file__).resolve().parents[1]


def test_the_schema_carries_each_fields_limits_choices_and_default() -> None:
    fields = schema()["fields"]
    assert set(fields) == set(STATE_TRAITS)
    assert fields["image_number"] == {
        "kind": "int", "min": 1, "max": MAX_IMAGE_NUMBER, "step": 1, "as_text": False, "default": 2,
    }  # fmt: skip
    assert fields["seed"]["max"] == str(MAX_SEED)  # beyond a JS number: as text
    assert fields["seed"]["as_text"] is True
    lo, hi, step = GUIDANCE_RANGE
    assert fields["guidance_scale"] == {"kind": "float", "min": lo, "max": hi, "step": step, "default": 4.0}
    assert fields["performance"]["choices"] == list(PERFORMANCES)
    assert fields["sampler"]["choices"] == list(SAMPLERS)
    assert fields["aspect_ratio"]["choices"] == list(SDXL_ASPECT_RATIOS)
    slot = fields["loras"]["item"]["fields"]
    assert fields["loras"]["count"] == LORA_SLOTS
    assert slot["weight"]["min"], slot["weight"]["max"] == LORA_WEIGHT_RANGE[:2]
    assert slot["weight"]["default"] == 1.0


def test_schema_defaults_are_the_states_defaults() -> None:
    defaults = {name: spec["default"] for name, spec in schema()["fields"].items()}
    plain = PanelState().to_dict()
    plain.pop("schema_version")
    assert defaults == plain


def test_trait_defaults_are_the_states_defaults() -> None:
    plain = PanelState().to_dict()
    for name in STATE_TRAITS:
        assert FooocusPanel.class_traits()[name].default() == plain[name], name


def test_the_panel_sends_the_schema() -> None:
    panel = FooocusPanel(key="s", store=MemoryStore())
    assert panel.schema == schema()
    assert set(panel.choices) == {"models", "loras", "styles", "models_hint"}


@pytest.fixture
def image_number_up_to_7() -> Iterator[None]:
    """The image-number limit changed in Python, as a developer would change state.py."""
    field = PanelState.__dataclass_fields__["image_number"]
    original = field.metadata
    field.metadata = types.MappingProxyType({"check": dataclasses.replace(original["check"], max=7)})
    yield
    field.metadata = original


@pytest.mark.usefixtures("image_number_up_to_7")
def test_a_limit_changed_in_python_changes_validation_and_what_the_page_is_told() -> None:
    assert field_check("image_number") == Whole(1, 7)
    panel = FooocusPanel(key="s", store=MemoryStore())
    assert panel.schema["fields"]["image_number"]["max"] == 7
    with pytest.raises(
        StateValidationError, match="image_number: 8 is out of range; allowed: whole numbers from 1 to 7"
    ):
        PanelState(image_number=8)


def _front_end_sources() -> Iterator[Path]:
    for path in sorted((REPO / "js/src").rglob("*.ts")):
        if "testing" in path.parts or path.name.endswith(".test.ts") or path.name == "state-fields.ts":
            continue
        yield path


@pytest.mark.parametrize(
    "needle",
    [
        *PERFORMANCES,
        *[s for s in SAMPLERS if len(s) > 4],
        "'1152*896'",
        "'704*1408'",
        str(MAX_SEED),
        "(1n << 63n)",
        "'Vary (Subtle)'",
    ],
)
def test_no_choice_or_limit_of_the_schema_is_written_in_the_front_end(needle: str) -> None:
    for path in _front_end_sources():
        assert needle not in path.read_text(), f"{path.relative_to(REPO)} repeats {needle!r} from state.py"


def test_no_numeric_bound_of_the_schema_is_written_in_a_front_end_input() -> None:
    bound = re.compile(r"""\b(min|max|step)\s*:\s*['"]-?[0-9.]+['"]""")
    for path in _front_end_sources():
        found = bound.findall(path.read_text())
        assert not found, f"{path.relative_to(REPO)} writes input bounds itself: {found}"
