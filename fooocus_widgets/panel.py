"""`FooocusPanel`: the one AnyWidget of the package. Its synced traits mirror `PanelState`.

Every persisted trait takes its default from `PanelState` and is validated by its rules (a bad
value raises a `traitlets.TraitError` that names the field and what is allowed; a value the page
sends that they refuse is not applied: `error` says why and the kept value goes back to the page).
The `schema` trait tells the page every limit and choice, so the page holds none of its own. Every
change is saved to the kernel-side store, so re-running the cell after a restart brings the panel
back as it was. The page's messages reach a `PanelController`, which plans batches and runs them
on the engine's worker thread; they report back through the read-only traits (`busy`,
`progress`, `preview`, `results`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import re
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .controller import PanelController
from .folders import ModelFolders, default_output_dir
from .gallery import stored_gallery_entry
from .state import (
    InputImageSettings,
    LoraSlot,
    PanelState,
    StateError,
    StateValidationError,
    plain_value,
    schema,
)
from .stores import FileStore, ImageStore, StateStore, StoredState
from .stores.reconcile import reconcile

if TYPE_CHECKING:
    from .engine.run import Engine

__all__ = ["FooocusPanel", "RefusedValue", "get_panel", "refusal_message"]

_STATIC = pathlib.Path(__file__).parent / "static"
#: The defaults of every persisted trait: those of `PanelState`, written there once.
_DEFAULT = PanelState()

#: Traits that mirror a `PanelState` field one to one.
STATE_TRAITS = tuple(f.name for f in dataclasses.fields(PanelState) if f.name != "extras")

#: The live panel of each key in this kernel (a re-run cell replaces the one before).
_LIVE: weakref.WeakValueDictionary[str, FooocusPanel] = weakref.WeakValueDictionary()


def _seed_to_json(value: int, _widget: Any) -> str:
    return str(value)  # seeds reach 2**63-1: beyond what a JS number holds exactly


def _seed_from_json(value: Any, _widget: Any) -> int:
    # ASCII digits only: "²".isdigit() is true, but int("²") raises
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else value


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


def _trait_value(_name: str, value: Any) -> Any:
    """`PanelState` field value -> the plain JSON-like value the trait holds."""
    return plain_value(value)


class RefusedValue(traitlets.TraitError):
    """A state trait's value that `PanelState` refuses.

    `reason` is the check's error, which names the field, the value and what is allowed; its
    text is this error's text.
    """

    def __init__(self, reason: StateError) -> None:
        super().__init__(str(reason))
        self.reason = reason


def _field_label(path: str) -> str:
    """A field's path as the panel's messages name it: "loras[1].weight" -> "LoRA 2 weight"."""
    slot = re.fullmatch(r"loras\[(\d+)\]\.(\w+)", path)
    if slot:
        return f"LoRA {int(slot[1]) + 1} {slot[2]}"
    return "CLIP skip" if path == "clip_skip" else path.replace("_", " ").replace(".", " ")


def _shown(value: Any) -> str:
    """A refused value as a message shows it: short ones whole, long text by its length."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 32 else f"{value[:24]!r}… ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def refusal_message(name: str, error: traitlets.TraitError) -> str:
    """What the panel says when the page's value for trait `name` is refused.

    It names the field, what was wrong and what is allowed, and says that the accepted value stays.
    """
    reason = error.reason if isinstance(error, RefusedValue) else None
    if isinstance(reason, StateValidationError):
        what, value = _field_label(reason.field), _shown(reason.value)
        problem = f"The {what} {value} {reason.problem}; allowed: {reason.allowed}."
    else:  # the trait's own type check (traitlets) or a document-level problem
        problem = f"The {_field_label(name)} sent by the page is not allowed: {str(error).rstrip('.')}."
    return f"{problem} It was not applied; the panel shows the last accepted {_field_label(name)} again."


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

    # ---- persisted controls (mirror PanelState; defaults and limits come from it) ------------

    prompt = traitlets.Unicode(_DEFAULT.prompt).tag(sync=True)
    """What to generate."""
    negative_prompt = traitlets.Unicode(_DEFAULT.negative_prompt).tag(sync=True)
    """What to keep out of the image."""
    styles = traitlets.List(traitlets.Unicode(), default_value=list(_DEFAULT.styles)).tag(sync=True)
    """Names of the selected styles, in order."""
    performance = traitlets.Unicode(_DEFAULT.performance).tag(sync=True)
    """One of the performances in `schema`."""
    aspect_ratio = traitlets.Unicode(_DEFAULT.aspect_ratio).tag(sync=True)
    """Output size as "width*height"."""
    image_number = traitlets.Int(_DEFAULT.image_number).tag(sync=True)
    """Images per Generate."""
    seed = traitlets.Int(_DEFAULT.seed).tag(sync=True, to_json=_seed_to_json, from_json=_seed_from_json)
    """Seed of the first image when `random_seed` is off (sent to the browser as a string)."""
    random_seed = traitlets.Bool(_DEFAULT.random_seed).tag(sync=True)
    """Draw a new seed at every Generate."""
    output_format = traitlets.Unicode(_DEFAULT.output_format).tag(sync=True)
    """The file format of saved results."""
    base_model = traitlets.Unicode(_DEFAULT.base_model).tag(sync=True)
    """The SDXL checkpoint: a name under the checkpoints folder, or a Hub id."""
    loras = traitlets.List(traitlets.Dict(), default_value=_trait_value("loras", _DEFAULT.loras)).tag(
        sync=True
    )
    """The LoRA slots, each ``{"enabled": bool, "file": str, "weight": float}``."""
    guidance_scale = traitlets.Float(_DEFAULT.guidance_scale).tag(sync=True)
    """Guidance scale."""
    sharpness = traitlets.Float(_DEFAULT.sharpness).tag(sync=True)
    """Sharpness."""
    sampler = traitlets.Unicode(_DEFAULT.sampler).tag(sync=True)
    """The sampler's name."""
    scheduler = traitlets.Unicode(_DEFAULT.scheduler).tag(sync=True)
    """The noise schedule."""
    clip_skip = traitlets.Int(_DEFAULT.clip_skip).tag(sync=True)
    """CLIP skip as Fooocus counts it (2 = the penultimate layer, SDXL's usual)."""
    memory_mode = traitlets.Unicode(_DEFAULT.memory_mode).tag(sync=True)
    """How models use the GPU (the offload modes need a GPU)."""
    input_image = traitlets.Dict(_trait_value("input_image", _DEFAULT.input_image)).tag(sync=True)
    """Input-image settings ``{"enabled", "mode", "image"}``."""
    last_results = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """Content hashes of the last batch's images."""

    # ---- what the page offers (not persisted) -------------------------------------------------

    schema = traitlets.Dict().tag(sync=True)
    """Every persisted field's kind, limits, step, choices and default (`state.schema()`), sent
    once: the page builds its inputs from it."""
    choices = traitlets.Dict().tag(sync=True)
    """What the dropdowns offer that depends on the folders: ``models``, ``loras``, ``styles``
    and ``models_hint`` (what to do when no model is found)."""
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
    memory = traitlets.Dict().tag(sync=True)
    """The memory meter: ``{"rss", "vram_used", "vram_total"}`` in bytes (VRAM only with a GPU)."""
    results = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The gallery: ``{"hash", "seed", "width", "height", "path", "thumb", "mini"}`` per image
    (``mini``: a tiny thumbnail for the notebook's metadata)."""
    revision = traitlets.Int(0).tag(sync=True)
    """Grows at every saved change; the front end's copies carry it, and the newest wins."""
    pending = traitlets.Dict().tag(sync=True)
    """The batch in progress, ``{"seeds", "done", "images"}``; on a new panel, a batch that the
    kernel's death interrupted (the front end then offers to resume it); {} when none."""

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
        revision: int | None = None,
        pending: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        _reject_unknown(fields)
        from .api import default_engine

        key = key if key is not None else _default_key()
        self._store: StateStore | None = store if store is not None else FileStore.for_notebook()
        stored = self._store.load(key)
        chosen = reconcile([stored], state, revision or 0)
        self._keep_conflicts(key, chosen.conflicts)
        self._revision = chosen.revision
        state = chosen.state
        if fields:
            state = state.replace(**{name: _state_value(name, v) for name, v in fields.items()})
        self._state = state
        self._state_lock = threading.RLock()
        self._refusals: dict[str, str] = {}
        """The refusal `set_state` put in the error area, by trait (see `_settle_refusal`)."""
        images = images if images is not None else ImageStore.for_notebook()
        self.controller = PanelController(
            self,
            folders=ModelFolders.resolve(models_dir),
            output_dir=pathlib.Path(output_dir) if output_dir is not None else default_output_dir(),
            images=images,
            engine=engine or default_engine,
        )
        """Answers this panel's messages and runs its batches (see `controller.PanelController`)."""
        found = self.controller.choices()
        if not state.base_model and found["models"]:  # like Fooocus's default model: the first one found
            state = self._state = state.replace(base_model=found["models"][0])
        interrupted = pending if pending else (stored.pending if stored and stored.pending else {})
        super().__init__(
            key=key,
            schema=schema(),
            choices=found,
            notice=chosen.notice(key),
            pending=dict(interrupted),
            **self._traits_of(state),
        )
        self.results = [e for e in (stored_gallery_entry(images, h) for h in state.last_results) if e]
        self.observe(self._on_state_trait, names=list(STATE_TRAITS))
        self.on_msg(self.controller.on_message)
        self._replace_previous(key)
        self._save(revision=self._revision)  # exists from now on, at the revision it came with

    def _keep_conflicts(self, key: str, conflicts: tuple[PanelState, ...]) -> None:
        """Keep copies that lost a reconciliation under ``<key>.conflict`` (never dropped)."""
        if self._store is None:
            return
        for conflict in conflicts:
            with contextlib.suppress(OSError):  # read-only: the notice still tells of the conflict
                self._store.save(f"{key}.conflict"[:200], conflict)

    def _replace_previous(self, key: str) -> None:
        """The cell ran again: the old panel of this key must not keep saving under it."""
        previous = _LIVE.get(key)
        if previous is not None and previous is not self and not previous.busy:
            previous.close()
        _LIVE[key] = self

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
        self._apply(state)
        self._save()

    def _apply(self, state: PanelState) -> None:
        """Make `state` the panel's state and push every field to its trait in one sync."""
        with self._state_lock:
            self._state = state
            with self.hold_sync():
                for name, value in self._traits_of(state).items():
                    setattr(self, name, value)

    @traitlets.validate(*STATE_TRAITS)
    def _validate_state_trait(self, proposal: Any) -> Any:
        name = proposal["trait"].name
        if not hasattr(self, "_state"):  # during __init__, values come from a validated state
            return proposal["value"]
        try:
            changed = self._state.replace(**{name: _state_value(name, proposal["value"])})
        except StateError as exc:
            raise RefusedValue(exc) from None
        return _trait_value(name, getattr(changed, name))

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply an update from the page (ipywidgets calls this for each 'update' message).

        Each trait is applied on its own, so a refused value does not take the others of the same
        message with it (traitlets would roll them all back). A refused trait keeps its value; the
        panel's `error` says what was refused and why, and the kept value is sent back, so the
        page's inputs, browser storage and notebook metadata show it again. The refusal leaves
        the error area when the page next sends an accepted value of that trait.
        """
        refused: dict[str, str] = {}
        for name, value in sync_data.items():
            try:
                super().set_state({name: value})
            except traitlets.TraitError as exc:
                refused[name] = refusal_message(name, exc)
            else:
                self._settle_refusal(name)
        if refused:
            self.error = " ".join(refused.values())
            self._refusals.update(dict.fromkeys(refused, self.error))
            self.send_state(key=list(refused))

    def _settle_refusal(self, name: str) -> None:
        """`name` was accepted: take its refusal out of the error area if that still shows it."""
        message = self._refusals.pop(name, None)
        if message is not None and self.error == message:
            self.error = ""

    def _on_state_trait(self, change: Mapping[str, Any]) -> None:
        name = change["name"]
        with self._state_lock:  # the worker thread sets last_results while the user edits
            new_state = self._state.replace(**{name: _state_value(name, change["new"])})
            if new_state == self._state:
                return
            self._state = new_state
        self._save()

    def _save(self, *, at_least: int = 0, revision: int | None = None) -> None:
        """Save the state (and the running batch) with the next revision (or exactly `revision`)."""
        with self._state_lock:
            self._revision = revision if revision is not None else max(self._revision + 1, at_least)
            revision, state, pending = self._revision, self._state, dict(self.pending) or None
        if self._store is not None:
            try:
                self._store.save(self.key, state, revision=revision, pending=pending)
            except OSError as exc:  # a read-only folder must not break the panel
                self.error = f"Settings could not be saved to disk ({exc}); they stay in this panel."
        self.revision = revision

    def restore(self, changes: Mapping[str, Any], revision: int) -> list[str]:
        """Apply a front end's newer copy (only the fields that differ) and adopt its revision.

        Returns the fields that could not be applied (their error goes to the error area).
        """
        bad: list[str] = []
        state = self._state
        for name, sent in changes.items():
            # seeds travel as text (they exceed a JS number)
            value = _seed_from_json(sent, self) if name == "seed" else sent
            try:
                state = state.replace(**{name: _state_value(name, value)})
            except (StateError, TypeError) as exc:
                bad.append(name)
                self.error = f"A saved value was not restored: {exc}"
        with self._state_lock:
            kernel_copy = StoredState.new(self.key, self._state, self._revision)
            chosen = reconcile([kernel_copy], state, revision)
            self._keep_conflicts(self.key, chosen.conflicts)
            if chosen.conflicts:
                self.notice = chosen.notice(self.key)
            self._apply(chosen.state)
        self._save(at_least=revision)
        return bad

    def set_pending(self, pending: Mapping[str, Any] | None) -> None:
        """Record the running batch (or none); saved at once, so a crash leaves it behind."""
        self.pending = dict(pending or {})
        self._save()


def get_panel(key: str) -> FooocusPanel | None:
    """The live panel of `key` in this kernel (after a Reconnect, the rehydrated one)."""
    return _LIVE.get(key)


def _reject_unknown(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(STATE_TRAITS))
    if unknown:
        raise TypeError(
            f"FooocusPanel got unexpected argument(s) {', '.join(unknown)}; allowed: key, state, store, "
            f"models_dir, output_dir, images, engine, revision, pending, {', '.join(STATE_TRAITS)}"
        )
