"""`FooocusPanel`: the one AnyWidget of the package. Its synced traits mirror `PanelState`.

Every persisted trait is validated by `PanelState`'s own rules (a bad value raises a
`traitlets.TraitError` that names the field and what is allowed) and every change is saved to the
kernel-side store, so re-running the cell after a restart brings the panel back as it was.
Generate, Stop, Skip and the other buttons reach a `PanelController`, which runs the engine on a
worker thread and reports back through the read-only traits (`busy`, `progress`, `preview`,
`results`).
"""

from __future__ import annotations

import dataclasses
import pathlib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .state import (
    OUTPUT_FORMATS,
    PERFORMANCES,
    SAMPLERS,
    SCHEDULERS,
    SDXL_ASPECT_RATIOS,
    InputImageSettings,
    LoraSlot,
    PanelState,
    StateError,
)
from .stores import FileStore, ImageStore, StateStore

if TYPE_CHECKING:
    from .engine.run import Engine

__all__ = ["FooocusPanel"]

_STATIC = pathlib.Path(__file__).parent / "static"

#: Traits that mirror a `PanelState` field one to one.
STATE_TRAITS = tuple(f.name for f in dataclasses.fields(PanelState) if f.name != "extras")


def _seed_to_json(value: int, _widget: Any) -> str:
    return str(value)  # seeds reach 2**63-1: beyond what a JS number holds exactly


def _seed_from_json(value: Any, _widget: Any) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _default_key() -> str:
    """A key derived from the running cell's id (JupyterLab sends it), else "main"."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        kernel = getattr(shell, "kernel", None)
        cell_id = kernel.get_parent().get("metadata", {}).get("cellId") if kernel else None
    except Exception:  # noqa: BLE001 -- no kernel, or a host without parent headers: fall back
        cell_id = None
    return f"cell-{cell_id}" if isinstance(cell_id, str) and cell_id else "main"


def _state_value(name: str, value: Any) -> Any:
    """Trait value -> the value `PanelState` expects for that field."""
    if name == "loras":
        return tuple(
            LoraSlot.from_dict(slot, f"loras[{i}]") if isinstance(slot, Mapping) else slot
            for i, slot in enumerate(value)
        )
    if name == "input_image" and isinstance(value, Mapping):
        return InputImageSettings.from_dict(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _trait_value(name: str, value: Any) -> Any:
    """`PanelState` field value -> the plain JSON-like value the trait holds."""
    if name == "loras":
        return [slot._to_plain() for slot in value]
    if name == "input_image":
        return value._to_plain()
    if isinstance(value, tuple):
        return list(value)
    return value


class FooocusPanel(anywidget.AnyWidget):
    """A Fooocus-style SDXL panel in the notebook.

    ``FooocusPanel(key="main", prompt="a lighthouse at dusk")``: keyword arguments set the
    state's fields (see `PanelState`); anything else is rejected. Without `state=`, the panel
    starts from what the store saved under its key, so re-running the cell restores it.
    """

    _esm = _STATIC / "panel.js"
    _css = _STATIC / "panel.css"

    # ---- identity ---------------------------------------------------------------------------

    key = traitlets.Unicode("main").tag(sync=True)
    """Which panel this is: the key its state is saved under (notebook metadata, files)."""

    # ---- persisted controls (mirror PanelState) ----------------------------------------------

    prompt = traitlets.Unicode("").tag(sync=True)
    """What to generate."""
    negative_prompt = traitlets.Unicode("").tag(sync=True)
    """What to keep out of the image."""
    styles = traitlets.List(traitlets.Unicode(), default_value=["Enhance", "Sharp"]).tag(sync=True)
    """Names of the selected styles, in order."""
    performance = traitlets.Unicode("Speed").tag(sync=True)
    """One of "Quality", "Speed", "Extreme Speed", "Lightning", "Hyper-SD"."""
    aspect_ratio = traitlets.Unicode("1152*896").tag(sync=True)
    """Output size as "width*height"."""
    image_number = traitlets.Int(2).tag(sync=True)
    """Images per Generate, 1 to 32."""
    seed = traitlets.Int(0).tag(sync=True, to_json=_seed_to_json, from_json=_seed_from_json)
    """Seed of the first image when `random_seed` is off (sent to the browser as a string)."""
    random_seed = traitlets.Bool(True).tag(sync=True)
    """Draw a new seed at every Generate."""
    output_format = traitlets.Unicode("png").tag(sync=True)
    """"png", "jpeg" or "webp"."""
    base_model = traitlets.Unicode("").tag(sync=True)
    """The SDXL checkpoint: a name under the checkpoints folder, or a Hub id."""
    loras = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Five LoRA slots, each ``{"enabled": bool, "file": str, "weight": float}``."""
    guidance_scale = traitlets.Float(4.0).tag(sync=True)
    """Guidance scale, 1 to 30."""
    sharpness = traitlets.Float(2.0).tag(sync=True)
    """Sharpness, 0 to 30."""
    sampler = traitlets.Unicode("DPM++ 2M SDE").tag(sync=True)
    """The sampler's name."""
    scheduler = traitlets.Unicode("karras").tag(sync=True)
    """"normal", "karras" or "sgm_uniform"."""
    clip_skip = traitlets.Int(2).tag(sync=True)
    """CLIP skip as Fooocus counts it (2 = the penultimate layer, SDXL's usual)."""
    input_image = traitlets.Dict().tag(sync=True)
    """Input-image settings ``{"enabled", "mode", "image"}``."""
    last_results = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Content hashes of the last batch's images."""

    # ---- choices the front end offers (not persisted) ----------------------------------------

    choices = traitlets.Dict().tag(sync=True)
    """What the dropdowns offer: performances, aspect ratios, samplers, schedulers, output
    formats, styles, models and LoRA files."""
    error = traitlets.Unicode("").tag(sync=True)
    """The last problem, in one or two sentences; "" when there is none."""
    notice = traitlets.Unicode("").tag(sync=True)
    """A passing remark (a style left out, parameters restored); "" when there is none."""

    # ---- what the kernel reports (not persisted) ---------------------------------------------

    busy = traitlets.Bool(False).tag(sync=True)
    """True while a generation runs (the front end shows Stop and Skip instead of Generate)."""
    progress = traitlets.Dict().tag(sync=True)
    """``{"phase", "text", "image", "images", "step", "steps"}`` of the running job."""
    preview = traitlets.Unicode("").tag(sync=True)
    """A small live preview of the image being denoised, as a data URL; "" when none."""
    results = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The gallery: ``{"hash", "seed", "width", "height", "path", "thumb"}`` per image."""

    def __init__(
        self,
        *,
        key: str | None = None,
        state: PanelState | None = None,
        store: StateStore | None = None,
        models_dir: str | pathlib.Path | None = None,
        output_dir: str | pathlib.Path | None = None,
        images: ImageStore | None = None,
        engine: Callable[[], Engine] | None = None,
        **fields: Any,
    ) -> None:
        unknown = sorted(set(fields) - set(STATE_TRAITS))
        if unknown:
            raise TypeError(
                f"FooocusPanel got unexpected argument(s) {', '.join(unknown)}; allowed: key, state, store, "
                f"models_dir, output_dir, images, engine, {', '.join(STATE_TRAITS)}"
            )
        from .api import default_engine
        from .controller import PanelController
        from .folders import ModelFolders, default_output_dir

        key = key if key is not None else _default_key()
        self._store: StateStore | None = store if store is not None else FileStore.for_notebook()
        if state is None:
            stored = self._store.load(key)
            state = stored.state if stored else PanelState()
        if fields:
            state = state.replace(**{name: _state_value(name, v) for name, v in fields.items()})
        self._state = state
        self._state_lock = threading.RLock()
        self.controller = PanelController(
            self,
            folders=ModelFolders.resolve(models_dir),
            output_dir=pathlib.Path(output_dir) if output_dir is not None else default_output_dir(),
            images=images if images is not None else ImageStore.for_notebook(),
            engine=engine or default_engine,
        )
        """Runs this panel's jobs (see `controller.PanelController`)."""
        found = self.controller.choices()
        if not state.base_model and found["models"]:  # like Fooocus's default model: the first one found
            state = self._state = state.replace(base_model=found["models"][0])
        super().__init__(key=key, choices={**_static_choices(), **found}, **self._traits_of(state))
        self.results = [e for e in map(self.controller.gallery_entry, state.last_results) if e is not None]
        self.observe(self._on_state_trait, names=list(STATE_TRAITS))
        self.on_msg(self.controller.on_message)
        self._save()  # the panel exists from now on: a restart finds it even before the first edit

    # ---- scripting ----------------------------------------------------------------------------

    def generate(self, *, wait: bool = False) -> None:
        """Press Generate. With ``wait=True`` return only when the batch is done."""
        job = self.controller.generate()
        if wait and job is not None:
            try:
                job.result()
            except KeyboardInterrupt:  # the notebook's stop button while waiting: stop the batch
                self.controller.stop()
                job.result()
                raise

    def stop(self) -> None:
        """Press Stop: end the batch after the current step."""
        self.controller.stop()

    def skip(self) -> None:
        """Press Skip: drop the current image, go on with the next."""
        self.controller.skip()

    def refresh(self) -> None:
        """Press Refresh: look for new models, LoRAs and styles."""
        self.controller.refresh()

    def load_preset(self, preset: str | pathlib.Path | dict[str, Any]) -> list[str]:
        """Apply a Fooocus preset (JSON file or dict); returns warnings about keys it skipped."""
        from .presets import load_preset

        state, warnings = load_preset(preset, self.state)
        self.state = state
        return warnings

    # ---- state <-> traits -------------------------------------------------------------------

    @staticmethod
    def _traits_of(state: PanelState) -> dict[str, Any]:
        return {name: _trait_value(name, getattr(state, name)) for name in STATE_TRAITS}

    @property
    def state(self) -> PanelState:
        """The panel's current state (a frozen `PanelState`)."""
        return self._state

    @state.setter
    def state(self, state: PanelState) -> None:
        if not isinstance(state, PanelState):
            raise TypeError(f"state must be a PanelState, not {type(state).__name__}")
        with self._state_lock:
            self._state = state
            with self.hold_sync():
                for name, value in self._traits_of(state).items():
                    setattr(self, name, value)
        self._save()

    @traitlets.validate(*STATE_TRAITS)
    def _validate_state_trait(self, proposal: Any) -> Any:
        name = proposal["trait"].name
        if not hasattr(self, "_state"):  # during __init__, values come from a validated state
            return proposal["value"]
        try:
            changed = self._state.replace(**{name: _state_value(name, proposal["value"])})
        except StateError as exc:
            raise traitlets.TraitError(str(exc)) from None
        return _trait_value(name, getattr(changed, name))

    def _on_state_trait(self, change: Mapping[str, Any]) -> None:
        name = change["name"]
        with self._state_lock:  # the worker thread sets last_results while the user edits
            new_state = self._state.replace(**{name: _state_value(name, change["new"])})
            if new_state == self._state:
                return
            self._state = new_state
        self._save()

    def _save(self) -> None:
        if self._store is None:
            return
        try:
            self._store.save(self.key, self._state)
        except OSError as exc:  # a read-only folder must not break the panel
            self.error = f"Settings could not be saved to disk ({exc}); they stay in this panel."


def _static_choices() -> dict[str, list[str]]:
    return {
        "performances": list(PERFORMANCES),
        "aspect_ratios": list(SDXL_ASPECT_RATIOS),
        "samplers": list(SAMPLERS),
        "schedulers": list(SCHEDULERS),
        "output_formats": list(OUTPUT_FORMATS),
        "styles": [],
        "models": [],
        "loras": [],
    }
