"""Panel messages -> engine jobs on a worker thread -> progress, previews and results as traits.

The kernel's shell thread only plans (microseconds, with every input checked) and starts the
worker, so the kernel keeps answering the front end while images are made. Failures end up in
the panel's error area in one or two sentences; the panel, its state and earlier results stay.
"""

from __future__ import annotations

import base64
import io
import logging
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from .folders import ModelFolders
from .outputs import SCHEME, encode_image, read_parameters, save_image, state_from_parameters
from .params import GenerationInputError, GenerationPlan, plan_generation
from .stores import ImageStore
from .styles import StyleLibrary, load_styles

if TYPE_CHECKING:
    from .engine.run import Engine, ImageResult, RunControl
    from .panel import FooocusPanel

__all__ = ["PanelController", "thumbnail_data_url"]

log = logging.getLogger(__name__)
THUMB_SIDE = 256
MINI_SIDE = 64  # thumbnails kept in the notebook's metadata: 32 of them stay well under 256 KB
MAX_UPLOAD = 64 * 1024 * 1024


def thumbnail_data_url(image: Image.Image, side: int = THUMB_SIDE) -> str:
    """A small JPEG of `image` as a data URL (what the gallery shows)."""
    thumb = image.convert("RGB")
    thumb.thumbnail((side, side))
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _user_message(exc: BaseException) -> str:
    """One or two sentences for the error area, whatever went wrong."""
    from .engine.checkpoints import ModelFileError
    from .engine.run import GenerationError

    if isinstance(exc, (GenerationInputError, ModelFileError, GenerationError, ValueError)):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Try fewer images, a smaller size, or free memory and retry."
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"Generation failed: {type(exc).__name__}: {first}"


class PanelController:
    """Runs a panel's jobs. One job at a time per panel; the engine is shared between panels."""

    def __init__(
        self,
        panel: FooocusPanel,
        *,
        folders: ModelFolders,
        output_dir: Path | None,
        images: ImageStore,
        engine: Callable[[], Engine],
    ) -> None:
        self.panel = panel
        self.folders = folders
        self.output_dir = output_dir
        self.images = images
        self._engine = engine
        self._control: RunControl | None = None
        self._job: Future[None] | None = None
        self.styles: StyleLibrary = load_styles([folders.styles])

    # ---- messages from the front end ---------------------------------------------------------

    def on_message(self, _widget: Any, content: Any, buffers: Sequence[bytes]) -> None:
        """Dispatch one custom message of the panel's front end."""
        kind = content.get("type") if isinstance(content, dict) else None
        handlers: dict[str, Callable[[], Any]] = {
            "ping": lambda: self.panel.send({"type": "pong", "id": content.get("id")}),
            "restore": lambda: self.restore(content.get("changes"), content.get("revision")),
            "resume": self.resume,
            "discard-pending": lambda: self.panel.set_pending(None),
            "free-memory": self.free_memory,
            "memory": self.update_memory,
            "generate": self.generate,
            "stop": self.stop,
            "skip": self.skip,
            "refresh": self.refresh,
            "image": lambda: self.send_image(content.get("hash"), content.get("request")),
            "load-image": lambda: self.load_image(
                buffers[0] if buffers else b"", str(content.get("name", ""))
            ),
        }
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            log.warning("fooocus-widgets: ignored a panel message of unknown type %r", kind)
            return
        handler()

    # ---- generation --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        return self._job is not None and not self._job.done()

    def plan(self, seeds: Sequence[int] | None = None) -> GenerationPlan:
        """The plan for the panel's current state (raises `GenerationInputError`)."""
        return plan_generation(self.panel.state, folders=self.folders, styles=self.styles, seeds=seeds)

    def restore(self, changes: Any, revision: Any) -> None:
        """The front end had a newer copy (edits made while the kernel was away): apply it."""
        if isinstance(changes, dict) and isinstance(revision, int) and not isinstance(revision, bool):
            self.panel.restore(changes, revision)

    def resume(self) -> Future[None] | None:
        """Make the images of an interrupted batch that were not finished, with their seeds."""
        pending = self.panel.pending
        try:
            seeds = [int(s) for s in pending.get("seeds", [])][int(pending.get("done", 0)) :]
        except (TypeError, ValueError):
            seeds = []
        if not seeds:
            self.panel.set_pending(None)
            return None
        return self.generate(seeds=seeds, keep_results=True)

    def generate(
        self, seeds: Sequence[int] | None = None, *, keep_results: bool = False
    ) -> Future[None] | None:
        """Start a job for the current state on the engine thread; returns it, or None when it
        cannot start (the reason is then in the panel's error area).
        """
        panel = self.panel
        if self.busy:
            panel.error = "A generation is already running; press Stop to end it first."
            return None
        try:
            plan = self.plan(seeds)
        except (GenerationInputError, ValueError) as exc:
            panel.error = str(exc)
            return None
        from .engine.run import GenerationError, RunControl

        engine = self._engine()
        if engine.busy:
            panel.error = "Another panel is generating; wait for it or press Stop there."
            return None
        panel.error = ""
        panel.notice = " ".join(plan.warnings)
        self._control = RunControl()
        panel.busy = True
        panel.preview = ""
        if not keep_results:
            panel.results = []
        panel.set_pending({"seeds": [str(s) for s in plan.seeds], "done": 0, "images": plan.image_number})
        panel.progress = {"phase": "starting", "text": "Starting", "image": 0, "images": plan.image_number,
                          "step": 0, "steps": plan.steps}  # fmt: skip
        control = self._control
        try:
            self._job = engine.submit(lambda: self._work(engine, plan, control))
        except GenerationError as exc:
            panel.error, panel.busy = str(exc), False
            panel.set_pending(None)
            return None
        return self._job

    def preload(self) -> Future[Any] | None:
        """Load the current base model (and LoRAs) in the background, before the first Generate."""
        try:
            plan = self.plan()
        except (GenerationInputError, ValueError):
            return None
        from .engine.run import GenerationError

        engine = self._engine()
        try:
            return engine.submit(lambda: engine.prepare(plan))
        except GenerationError:
            return None

    def stop(self) -> None:
        """End the batch after the current step."""
        if self._control is not None:
            self._control.stop.set()

    def skip(self) -> None:
        """Drop the current image and go on with the next."""
        if self._control is not None:
            self._control.skip.set()

    def _work(self, engine: Engine, plan: GenerationPlan, control: RunControl) -> None:
        from .engine.run import RunEvents

        panel = self.panel
        hashes: list[str] = [r["hash"] for r in panel.results]

        def progress(**changes: Any) -> None:
            panel.progress = {**panel.progress, **changes}

        def on_image(result: ImageResult) -> None:
            progress(phase="saving", text=f"Saving image {result.index + 1} of {plan.image_number}")
            entry = self._keep(result, plan)
            hashes.append(entry["hash"])
            panel.results = [*panel.results, entry]
            panel.pending = {**panel.pending, "done": int(panel.pending.get("done", 0)) + 1}
            panel.last_results = list(hashes)[-32:]  # saves state and pending together

        events = RunEvents(
            status=lambda text: progress(
                text=text, phase="loading" if text.startswith(("Loading", "Apply")) else "running"
            ),
            step=lambda index, step, steps: progress(
                image=index + 1, step=step, steps=steps, phase="running"
            ),
            preview=lambda index, image: setattr(panel, "preview", thumbnail_data_url(image, 192)),
            image=on_image,
        )
        try:
            results = engine.run_now(plan, events, control)
            stopped = control.stop.is_set()
            done = len(results)
            text = (
                f"Stopped after {done} of {plan.image_number}"
                if stopped
                else f"Done: {done} of {plan.image_number}"
            )
            progress(phase="stopped" if stopped else "done", text=text, image=done)
        except BaseException as exc:  # noqa: BLE001 -- whatever happens, the panel says so and stays usable
            panel.error = _user_message(exc)
            log.debug("fooocus-widgets generation failed:\n%s", "".join(traceback.format_exception(exc)))
            progress(phase="error", text="Failed")
            del exc  # its traceback holds the pipeline's frames: drop it now
        finally:
            panel.preview = ""
            panel.set_pending(None)
            panel.busy = False
            self.update_memory()

    def _keep(self, result: ImageResult, plan: GenerationPlan) -> dict[str, Any]:
        """Save a finished image (outputs folder and image store) and make its gallery entry."""
        path: Path | None = None
        if self.output_dir is not None:
            path = save_image(result.image, result.parameters, self.output_dir, plan.output_format)
            data = path.read_bytes()
        else:
            data = encode_image(result.image, "png", {"scheme": SCHEME, **result.parameters})
        digest = self.images.put(data)
        return {
            "hash": digest,
            "seed": str(result.seed),
            "width": result.image.width,
            "height": result.image.height,
            "path": str(path) if path else "",
            "thumb": thumbnail_data_url(result.image),
            "mini": thumbnail_data_url(result.image, MINI_SIDE),
        }

    # ---- other requests ----------------------------------------------------------------------

    def update_memory(self) -> None:
        """Refresh the memory meter."""
        from .engine.memory import snapshot

        now = snapshot()
        self.panel.memory = {
            "rss": now.rss,
            "vram_used": now.cuda_reserved,
            "vram_total": now.cuda_total,
        }

    def free_memory(self) -> None:
        """The "Free memory" button: `release_vram()`, reported in the panel."""
        from .api import release_vram
        from .engine.run import GenerationError

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

    def refresh(self) -> None:
        """Look for models, LoRAs and styles again."""
        self.styles = load_styles([self.folders.styles])
        self.panel.choices = {**self.panel.choices, **self.choices()}

    def choices(self) -> dict[str, Any]:
        """The dropdown contents that depend on the folders."""
        models = self.folders.checkpoint_names()
        return {
            "models": models,
            "loras": self.folders.lora_names(),
            "styles": self.styles.names,
            "models_hint": "" if models else self.folders.help_text(),
        }

    def gallery_entry(self, digest: str) -> dict[str, Any] | None:
        """A gallery entry for a stored image (used to show the last results after a restart)."""
        data = self.images.get(digest)
        if data is None:
            return None
        image = Image.open(io.BytesIO(data))
        parameters = read_parameters(data) or {}
        return {
            "hash": digest,
            "seed": str(parameters.get("seed", "")),
            "width": image.width,
            "height": image.height,
            "path": "",
            "thumb": thumbnail_data_url(image),
            "mini": thumbnail_data_url(image, MINI_SIDE),
        }

    def send_image(self, digest: Any, request: Any) -> None:
        """Send a full-size result to the front end (click-to-enlarge)."""
        data = self.images.get(digest) if isinstance(digest, str) and len(digest) == 64 else None
        if data is None:
            self.panel.send({"type": "image", "request": request, "hash": digest, "missing": True})
            return
        from .stores.images import image_format

        mime = f"image/{image_format(data)}"
        self.panel.send({"type": "image", "request": request, "hash": digest, "mime": mime}, [data])

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
