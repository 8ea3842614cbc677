"""Panel messages -> actions: the kernel's side of the page's buttons and requests.

Every custom message from the page is checked against the contract (`messages.py`) and handed to
one method per kind. A message that breaks the contract is logged with its kind and answered with
`Refused` (so a waiting request fails at once, with the reason); nothing is silently dropped.
Batches run in `jobs.BatchRunner`; this module only plans them (microseconds, every input
checked) and answers the rest: restore, refresh, images, memory. It knows the panel only through
`port.PanelPort`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import messages as msg
from .errors import GenerationError, GenerationInputError
from .folders import ModelFolders
from .jobs import BatchRunner, seeds_left
from .outputs import read_parameters, state_from_parameters
from .params import GenerationPlan, plan_generation
from .port import PanelPort
from .stores import ImageStore
from .stores.images import image_format
from .styles import StyleLibrary, load_styles

if TYPE_CHECKING:
    from .engine.run import Engine

__all__ = ["MAX_UPLOAD", "PanelController"]

log = logging.getLogger(__name__)
MAX_UPLOAD = 64 * 1024 * 1024


class PanelController:
    """Answers one panel's messages. One batch at a time per panel; the engine is shared."""

    def __init__(
        self,
        panel: PanelPort,
        *,
        folders: ModelFolders,
        output_dir: Path | None,
        images: ImageStore,
        engine: Callable[[], Engine],
    ) -> None:
        self.panel = panel
        self.folders = folders
        self.images = images
        self.styles: StyleLibrary = load_styles([folders.styles])
        self.runner = BatchRunner(
            panel, engine=engine, images=images, output_dir=output_dir, on_finished=self.update_memory
        )
        """Runs the batches."""
        self._handlers: dict[type[msg.Message], Callable[[Any, Sequence[bytes]], object]] = {
            msg.Ping: lambda m, _b: self.panel.send(msg.Pong(id=m.id).to_wire()),
            msg.Restore: lambda m, _b: self.restore(m.changes, m.revision),
            msg.Resume: lambda _m, _b: self.resume(),
            msg.DiscardPending: lambda _m, _b: self.panel.set_pending(None),
            msg.FreeMemory: lambda _m, _b: self.free_memory(),
            msg.MeasureMemory: lambda _m, _b: self.update_memory(),
            msg.Generate: lambda _m, _b: self.generate(),
            msg.Stop: lambda _m, _b: self.stop(),
            msg.Skip: lambda _m, _b: self.skip(),
            msg.Refresh: lambda m, _b: self.refresh(request_id=m.id),
            msg.ImageRequest: lambda m, _b: self.send_image(m.hash, m.id),
            msg.LoadImage: lambda m, b: self.load_image(b[0] if b else b"", m.name),
        }
        missing = set(msg.TO_KERNEL.values()) - set(self._handlers)
        assert not missing, f"no handler for {missing}"

    @property
    def output_dir(self) -> Path | None:
        """Where results are saved (None: only in the image store)."""
        return self.runner.output_dir

    # ---- messages from the front end ---------------------------------------------------------

    def on_message(self, _widget: Any, content: Any, buffers: Sequence[bytes]) -> None:
        """Check one custom message of the page against the contract and act on it."""
        try:
            message = msg.parse_to_kernel(content, buffers)
        except msg.MessageError as exc:
            log.warning("fooocus-widgets: refused a panel message: %s", exc)
            self.panel.send(msg.Refused(id=exc.request_id or "", reason=str(exc)).to_wire())
            return
        self._handlers[type(message)](message, buffers)

    # ---- generation --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a batch is running."""
        return self.runner.busy

    def plan(self, seeds: Sequence[int] | None = None) -> GenerationPlan:
        """The plan for the panel's current state (raises `GenerationInputError`)."""
        return plan_generation(
            self.panel.state, folders=self.folders, styles=self.styles, seeds=seeds, images=self.images
        )

    def generate(
        self, seeds: Sequence[int] | None = None, *, keep_results: bool = False
    ) -> Future[None] | None:
        """Start a batch for the current state; returns it, or None when it cannot start (the
        reason is then in the panel's error area).
        """
        if self.busy:
            self.panel.error = "A generation is already running; press Stop to end it first."
            return None
        try:
            plan = self.plan(seeds)
        except (GenerationInputError, ValueError) as exc:
            self.panel.error = str(exc)
            return None
        return self.runner.start(plan, keep_results=keep_results)

    def resume(self) -> Future[None] | None:
        """Make the images of an interrupted batch that were not finished, with their seeds."""
        seeds = seeds_left(self.panel.pending)
        if not seeds:
            self.panel.set_pending(None)
            return None
        return self.generate(seeds=seeds, keep_results=True)

    def preload(self) -> Future[Any] | None:
        """Load the current base model (and LoRAs) in the background, before the first Generate."""
        try:
            plan = self.plan()
        except (GenerationInputError, ValueError):
            return None
        return self.runner.preload(plan)

    def stop(self) -> None:
        """End the batch after the current step."""
        self.runner.stop()

    def skip(self) -> None:
        """Drop the current image and go on with the next."""
        self.runner.skip()

    # ---- other requests ----------------------------------------------------------------------

    def restore(self, changes: dict[str, Any], revision: int) -> None:
        """The page had a newer copy (edits made while the kernel was away): apply it."""
        self.panel.restore(changes, revision)

    def update_memory(self) -> None:
        """Refresh the memory meter."""
        from .engine.memory import snapshot

        now = snapshot()
        self.panel.memory = {"rss": now.rss, "vram_used": now.cuda_reserved, "vram_total": now.cuda_total}

    def free_memory(self) -> None:
        """The "Free memory" button: `release_vram()`, reported in the panel."""
        from .api import release_vram

        if self.busy:
            self.panel.error = "A generation is running: press Stop, then free memory."
            return
        try:
            report = release_vram()
        except GenerationError as exc:
            self.panel.error = str(exc)
            return
        self.panel.notice = "Memory freed. " + "; ".join(f"{w}: {b} → {a}" for w, b, a in report.rows())
        self.update_memory()

    def refresh(self, request_id: str = "") -> None:
        """Look for models, LoRAs and styles again; answers a request with what was found."""
        self.styles = load_styles([self.folders.styles])
        found = self.choices()
        self.panel.choices = {**self.panel.choices, **found}
        if request_id:
            reply = msg.Refreshed(
                id=request_id,
                models=len(found["models"]),
                loras=len(found["loras"]),
                styles=len(found["styles"]),
            )
            self.panel.send(reply.to_wire())

    def choices(self) -> dict[str, Any]:
        """The dropdown contents that depend on the folders (the fixed ones are in the schema)."""
        models = self.folders.checkpoint_names()
        return {
            "models": models,
            "loras": self.folders.lora_names(),
            "styles": self.styles.names,
            "models_hint": "" if models else self.folders.help_text(),
        }

    def send_image(self, digest: str, request_id: str) -> None:
        """Send a full-size result to the page (click-to-enlarge)."""
        data = self.images.get(digest) if len(digest) == 64 else None
        if data is None:
            reply = msg.ImageBytes(id=request_id, hash=digest, found=False, mime="")
            self.panel.send(reply.to_wire())
            return
        reply = msg.ImageBytes(id=request_id, hash=digest, found=True, mime=f"image/{image_format(data)}")
        self.panel.send(reply.to_wire(), [data])

    def load_image(self, data: bytes, name: str) -> None:
        """Restore the parameters embedded in a result file the user dropped or picked."""
        label = name or "the image"
        if not data or len(data) > MAX_UPLOAD:
            self.panel.error = f"{label} could not be read (empty or larger than 64 MB)."
            return
        parameters = read_parameters(bytes(data))
        if parameters is None:
            self.panel.error = (
                f"{label} carries no fooocus-widgets parameters; only images saved by fooocus-widgets "
                "(PNG, JPEG or WebP with embedded parameters) can be loaded back."
            )
            return
        try:
            state = state_from_parameters(parameters, self.panel.state)
        except ValueError as exc:
            self.panel.error = f"The parameters in {label} are not valid here: {exc}"
            return
        self.panel.state = state
        self.panel.error = ""
        self.panel.notice = f"Parameters restored from {label} (seed {state.seed})."
