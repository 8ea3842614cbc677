"""Loading, switching and releasing base models and their LoRAs.

`ModelManager` holds at most one SDXL pipeline. Loading another base model releases the current
one first (never two full models in memory). LoRAs go through diffusers' own
`load_lora_weights` / `set_adapters` / `delete_adapters`: a weight change only calls
`set_adapters`, a LoRA taken out of the slots is deleted. A LoRA is checked before it is loaded:
its header (`checkpoints.inspect_lora`), then its modules and sizes against the loaded model
(`lora_compat.check_lora_fits`); one that does not fit is refused with a clear message and
leaves the pipeline as it was.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import torch

from ..params import LoraRef, ModelRef
from .checkpoints import SDXL_BASE_CONFIG_DIR, ModelFileError, inspect_checkpoint, inspect_lora
from .lora_compat import check_lora_fits
from .tokenizers import sdxl_tokenizers

__all__ = ["LoadedModel", "ModelManager", "check_lora", "default_device"]

log = logging.getLogger(__name__)


def default_device() -> tuple[torch.device, torch.dtype]:
    """CUDA in fp16 when there is a GPU, else the CPU in fp32."""
    if torch.cuda.is_available():
        return torch.device("cuda"), torch.float16
    return torch.device("cpu"), torch.float32


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Loading without diffusers' and transformers' progress bars (in a notebook they show up as
    widgets; the panel has its own) or their advice about dtypes meant for library authors.
    """
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    level = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(level)


def config_dir_for(configs: dict[str, Any] | None) -> Path:
    """A diffusers-layout config folder for a checkpoint: the shipped SDXL base one, or one
    written (once, in the user cache) from the configs embedded in the file.
    """
    if configs is None:
        return SDXL_BASE_CONFIG_DIR
    text = json.dumps(configs, sort_keys=True)
    folder = Path(platformdirs.user_cache_dir("fooocus-widgets", appauthor=False)) / "configs"
    folder = folder / hashlib.sha256(text.encode()).hexdigest()[:16]
    if (folder / "model_index.json").is_file():
        return folder
    tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    index = json.loads((SDXL_BASE_CONFIG_DIR / "model_index.json").read_text())
    files = {"model_index.json": index}
    names = {"unet": "config.json", "vae": "config.json", "text_encoder": "config.json"}
    names |= {"text_encoder_2": "config.json", "scheduler": "scheduler_config.json"}
    for component, filename in names.items():
        files[f"{component}/{filename}"] = configs[component]
    for rel, content in files.items():
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content, indent=1))
    try:
        tmp.rename(folder)
    except OSError:  # another process wrote it first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return folder


@contextlib.contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """Collect what diffusers/peft/transformers warn while loading (logging and warnings), instead
    of printing it into whatever cell happens to be running. Nothing is judged from that text.
    """
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    saved = []
    for name in ("diffusers", "peft", "transformers"):
        lg = logging.getLogger(name)
        saved.append((lg, lg.handlers[:], lg.propagate))
        lg.handlers = [handler]
        lg.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield messages
        messages.extend(str(w.message) for w in caught)
    finally:
        for lg, handlers, propagate in saved:
            lg.handlers = handlers
            lg.propagate = propagate


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


@dataclass
class LoadedModel:
    """The pipeline in memory and what it was loaded from."""

    ref: ModelRef
    identity: tuple[object, ...]
    pipe: Any
    base_scheduler_config: dict[str, Any]
    adapters: dict[str, tuple[object, ...]]
    """Adapter name -> identity of the LoRA file it was loaded from."""
    offload: str = "none"
    """"none", "model" (model CPU offload) or "sequential"."""
    vae_tiling: bool = False
    img2img: Any = None
    """The image-to-image pipeline made from `pipe`'s own components (see `img2img`), built on
    first use; dropped with the model."""


def _identity(path: Path | None, name: str) -> tuple[object, ...]:
    if path is None:
        return (name,)
    stat = path.stat() if path.is_file() else (path / "model_index.json").stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def adapter_name(path: Path) -> str:
    """A stable adapter name for a LoRA file (PEFT adapter names must be plain identifiers)."""
    return "lora_" + hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()[:12]


class ModelManager:
    """Holds at most one loaded SDXL pipeline and keeps its LoRA adapters in step with the slots."""

    def __init__(self, device: torch.device | None = None, dtype: torch.dtype | None = None) -> None:
        auto_device, auto_dtype = default_device()
        self.device = device or auto_device
        self.dtype = dtype or auto_dtype
        self.current: LoadedModel | None = None

    # ---- base models -----------------------------------------------------------------------

    def pipeline(self, ref: ModelRef) -> Any:
        """The pipeline for `ref`, loading it (and releasing the previous one) when needed."""
        identity = _identity(ref.path, ref.name)
        if self.current is not None and self.current.identity == identity:
            return self.current.pipe
        self.release()
        pipe = self._load(ref)
        self.current = LoadedModel(ref, identity, pipe, dict(pipe.scheduler.config), {})
        return pipe

    def _load(self, ref: ModelRef) -> Any:
        from diffusers import StableDiffusionXLPipeline

        if ref.kind == "hub" and os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
            raise ModelFileError(
                f"{ref.name} is a Hub id, and this machine is offline (HF_HUB_OFFLINE is set); "
                "download the model and put it in the checkpoints folder."
            )
        tokenizer, tokenizer_2 = sdxl_tokenizers()
        try:
            if ref.kind == "single_file":
                assert ref.path is not None
                info = inspect_checkpoint(ref.path)
                with _quiet_loading():
                    pipe = StableDiffusionXLPipeline.from_single_file(
                        str(ref.path),
                        config=str(config_dir_for(info.configs)),
                        local_files_only=True,
                        tokenizer=tokenizer,
                        tokenizer_2=tokenizer_2,
                        dtype=self.dtype,
                    )
            elif ref.kind == "diffusers_folder":
                with _quiet_loading():
                    pipe = StableDiffusionXLPipeline.from_pretrained(
                        str(ref.path), local_files_only=True, dtype=self.dtype
                    )
            else:
                with _quiet_loading():
                    pipe = StableDiffusionXLPipeline.from_pretrained(ref.name, dtype=self.dtype)
        except ModelFileError:
            raise
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
            raise ModelFileError(
                f"{ref.name} could not be loaded as an SDXL model: {_first_line(exc)}"
            ) from None
        pipe.set_progress_bar_config(disable=True)
        if hasattr(pipe, "watermark"):
            pipe.watermark = None
        return pipe.to(self.device) if self.device.type != "cpu" else pipe

    def release(self) -> list[str]:
        """Drop the loaded pipeline and its adapters; returns what was released."""
        released: list[str] = []
        if self.current is not None:
            released.append(self.current.ref.name)
            released += [f"LoRA {name}" for name in self.current.adapters]
            self.current.img2img = None
            self.current.pipe = None
            self.current = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
            torch.cuda.ipc_collect()
        return released

    # ---- memory modes ------------------------------------------------------------------------

    @property
    def has_accelerator(self) -> bool:
        """Offloading needs an accelerator to offload from (diffusers raises without one)."""
        return self.device.type != "cpu"

    def apply_memory_mode(self, mode: str) -> str:
        """Set the loaded pipeline to `mode` ("auto"/"normal" keep what an OOM fallback chose).

        Returns a remark when the mode cannot apply here (no accelerator), else "".
        """
        current = self.current
        if current is None or (mode in {"auto", "normal"} and current.offload == "none"):
            return ""
        pipe = current.pipe
        if mode in {"low VRAM", "no VRAM"}:
            self._vae_tiling(True)
            if not self.has_accelerator:
                return (
                    f"The {mode} memory mode offloads to the CPU and needs a GPU; running on the CPU as is."
                )
            wanted = "model" if mode == "low VRAM" else "sequential"
            if current.offload != wanted:
                if current.offload != "none":
                    pipe.remove_all_hooks()
                if wanted == "model":
                    pipe.enable_model_cpu_offload(device=self.device)
                else:
                    pipe.enable_sequential_cpu_offload(device=self.device)
                current.offload = wanted
        elif mode == "normal" and current.offload != "none":
            pipe.remove_all_hooks()
            pipe.to(self.device)
            current.offload = "none"
        return ""

    def _vae_tiling(self, on: bool) -> None:
        current = self.current
        if current is None or current.vae_tiling == on:
            return
        vae = current.pipe.vae
        if on:
            vae.enable_tiling()
            vae.enable_slicing()
        else:
            vae.disable_tiling()
            vae.disable_slicing()
        current.vae_tiling = on

    def lower_memory(self) -> str | None:
        """One step down in memory use after an out-of-memory error: VAE tiling and slicing, then
        model CPU offload (with an accelerator). Returns what was done, or None when nothing is left.
        """
        current = self.current
        if current is None:
            return None
        if not current.vae_tiling:
            self._vae_tiling(True)
            return "VAE tiling and slicing"
        if self.has_accelerator and current.offload == "none":
            current.pipe.enable_model_cpu_offload(device=self.device)
            current.offload = "model"
            return "model CPU offload"
        return None

    # ---- LoRAs -----------------------------------------------------------------------------

    def apply_loras(self, loras: Sequence[LoraRef]) -> None:
        """Make the loaded pipeline's adapters exactly `loras`, with their weights.

        Every LoRA to load is checked first (`check_lora`): one that does not fit leaves the
        pipeline exactly as it was, adapters and weights included.
        """
        current = self.current
        if current is None:
            raise RuntimeError("load a base model before applying LoRAs")
        pipe = current.pipe
        wanted = {adapter_name(lora.path): lora for lora in loras}
        stale = [
            name
            for name, identity in current.adapters.items()
            if name not in wanted or identity != _identity(wanted[name].path, name)
        ]
        to_load = {
            name: lora for name, lora in wanted.items() if name not in current.adapters or name in stale
        }
        for lora in to_load.values():
            check_lora(pipe, lora)
        for name in stale:
            pipe.delete_adapters(name)
            del current.adapters[name]
        for name, lora in to_load.items():
            _load_lora(pipe, lora, name)
            current.adapters[name] = _identity(lora.path, name)
        if wanted:
            pipe.enable_lora()
            pipe.set_adapters(list(wanted), adapter_weights=[lora.weight for lora in wanted.values()])


def check_lora(pipe: Any, lora: LoraRef) -> None:
    """Refuse (`ModelFileError`) a LoRA file that is damaged, not a LoRA, or made for another
    model: its header first (`inspect_lora`), then its modules and sizes against `pipe`'s
    (`check_lora_fits`). Nothing on `pipe` changes.
    """
    try:
        inspect_lora(lora.path)
    except ModelFileError as exc:
        raise ModelFileError(f"LoRA {exc}") from None
    with _captured_warnings() as messages:
        check_lora_fits(pipe, lora.path, lora.name)
    _log_captured(lora.name, messages)


def _load_lora(pipe: Any, lora: LoraRef, name: str) -> None:
    """Load a checked LoRA as adapter `name`; a load that fails or makes no adapter is undone
    and refused (`ModelFileError`).
    """
    problem = ""
    with _captured_warnings() as messages:
        try:
            pipe.load_lora_weights(str(lora.path.parent), weight_name=lora.path.name, adapter_name=name)
        except (ValueError, RuntimeError, KeyError, TypeError, AttributeError) as exc:
            problem = _first_line(exc)
    _log_captured(lora.name, messages)
    loaded = any(name in names for names in pipe.get_list_adapters().values())
    if problem or not loaded:
        if loaded:
            pipe.delete_adapters(name)
        reason = problem or "none of its weights match this model"
        raise ModelFileError(
            f"LoRA {lora.name} does not fit this SDXL model ({reason[:200]}). Use a LoRA made for SDXL."
        )


def _log_captured(lora: str, messages: list[str]) -> None:
    for message in messages:
        log.debug("while reading LoRA %s: %s", lora, message)
