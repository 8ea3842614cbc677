"""Running a panel's batches: a checked plan becomes an engine job whose progress, previews and
finished images are reported back through the panel's traits.

`BatchRunner` runs one batch at a time per panel on the shared engine's worker thread, so the
kernel keeps answering the page while images are made. It saves each finished image (outputs
folder and image store) as it comes, keeps the interrupted-batch record (`pending`) current, and
turns any failure into one or two sentences in the panel's error area.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GenerationError, GenerationInputError, ModelFileError
from .gallery import gallery_entry, thumbnail_data_url
from .outputs import SCHEME, encode_image, save_image
from .params import GenerationPlan
from .port import PanelPort
from .state import MAX_IMAGE_NUMBER
from .stores import ImageStore

if TYPE_CHECKING:
    from .engine.run import Engine, ImageResult, RunControl

__all__ = ["BatchRunner", "seeds_left", "user_message"]

log = logging.getLogger(__name__)
PREVIEW_SIDE = 192


def user_message(exc: BaseException) -> str:
    """One or two sentences for the error area, whatever went wrong."""
    if isinstance(exc, (GenerationInputError, ModelFileError, GenerationError, ValueError)):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Try fewer images, a smaller size, or free memory and retry."
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"Generation failed: {type(exc).__name__}: {first}"


class BatchRunner:
    """Runs a panel's batches on the engine, one at a time."""

    def __init__(
        self,
        panel: PanelPort,
        *,
        engine: Callable[[], Engine],
        images: ImageStore,
        output_dir: Path | None,
        on_finished: Callable[[], None] = lambda: None,
    ) -> None:
        self.panel = panel
        self.images = images
        self.output_dir = output_dir
        self._engine = engine
        self._on_finished = on_finished
        """Called on the engine thread after every batch, however it ended (the memory meter)."""
        self._control: RunControl | None = None
        self._job: Future[None] | None = None

    @property
    def busy(self) -> bool:
        """Whether a batch is running."""
        return self._job is not None and not self._job.done()

    def start(self, plan: GenerationPlan, *, keep_results: bool = False) -> Future[None] | None:
        """Start `plan` on the engine thread; returns the job, or None when it cannot start (the
        reason is then in the panel's error area).
        """
        from .engine.run import RunControl

        panel = self.panel
        if self.busy:
            panel.error = "A generation is already running; press Stop to end it first."
            return None
        engine = self._engine()
        if engine.busy:
            panel.error = "Another panel is generating; wait for it or press Stop there."
            return None
        panel.error = ""
        panel.notice = " ".join(plan.warnings)
        control = self._control = RunControl()
        panel.busy = True
        panel.preview = ""
        if not keep_results:
            panel.results = []
        panel.set_pending({"seeds": [str(s) for s in plan.seeds], "done": 0, "images": plan.image_number})
        panel.progress = {"phase": "starting", "text": "Starting", "image": 0, "images": plan.image_number,
                          "step": 0, "steps": plan.steps}  # fmt: skip
        try:
            self._job = engine.submit(lambda: self._work(engine, plan, control))
        except GenerationError as exc:
            panel.error, panel.busy = str(exc), False
            panel.set_pending(None)
            return None
        return self._job

    def preload(self, plan: GenerationPlan) -> Future[Any] | None:
        """Load the plan's base model (and LoRAs) in the background, before the first Generate."""
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

    # ---- on the engine thread ----------------------------------------------------------------

    def _progress(self, **changes: Any) -> None:
        self.panel.progress = {**self.panel.progress, **changes}

    def _work(self, engine: Engine, plan: GenerationPlan, control: RunControl) -> None:
        from .engine.run import RunEvents

        panel = self.panel
        hashes: list[str] = [r["hash"] for r in panel.results]

        def on_image(result: ImageResult) -> None:
            self._progress(phase="saving", text=f"Saving image {result.index + 1} of {plan.image_number}")
            entry = self._keep(result, plan)
            hashes.append(entry["hash"])
            panel.results = [*panel.results, entry]
            panel.pending = {**panel.pending, "done": int(panel.pending.get("done", 0)) + 1}
            panel.last_results = list(hashes)[-MAX_IMAGE_NUMBER:]  # saves state and pending together

        events = RunEvents(
            status=lambda text: self._progress(
                text=text, phase="loading" if text.startswith(("Loading", "Apply")) else "running"
            ),
            step=lambda index, step, steps: self._progress(
                image=index + 1, step=step, steps=steps, phase="running"
            ),
            preview=lambda index, image: setattr(panel, "preview", thumbnail_data_url(image, PREVIEW_SIDE)),
            image=on_image,
        )
        try:
            results = engine.run_now(plan, events, control)
            self._report_end(plan, len(results), stopped=control.stop.is_set())
        except BaseException as exc:  # noqa: BLE001 -- whatever happens, the panel says so and stays usable
            panel.error = user_message(exc)
            log.debug("fooocus-widgets generation failed:\n%s", "".join(traceback.format_exception(exc)))
            self._progress(phase="error", text="Failed")
            del exc  # its traceback holds the pipeline's frames: drop it now
        finally:
            panel.preview = ""
            panel.set_pending(None)
            panel.busy = False
            self._on_finished()

    def _report_end(self, plan: GenerationPlan, done: int, *, stopped: bool) -> None:
        text = (
            f"Stopped after {done} of {plan.image_number}"
            if stopped
            else f"Done: {done} of {plan.image_number}"
        )
        self._progress(phase="stopped" if stopped else "done", text=text, image=done)

    def _keep(self, result: ImageResult, plan: GenerationPlan) -> dict[str, Any]:
        """Save a finished image (outputs folder and image store) and make its gallery entry."""
        path: Path | None = None
        if self.output_dir is not None:
            path = save_image(result.image, result.parameters, self.output_dir, plan.output_format)
            data = path.read_bytes()
        else:
            data = encode_image(result.image, "png", {"scheme": SCHEME, **result.parameters})
        digest = self.images.put(data)
        return gallery_entry(result.image, digest, result.seed, str(path) if path else "")


def seeds_left(pending: dict[str, Any]) -> Sequence[int]:
    """The seeds of an interrupted batch that were not finished ([] when there are none)."""
    try:
        return [int(s) for s in pending.get("seeds", [])][int(pending.get("done", 0)) :]
    except (TypeError, ValueError):
        return []
