"""Giving memory back and measuring it: snapshots, garbage collection, the CUDA cache, the heap.

`collect` garbage-collects, empties the CUDA cache and its IPC handles and gives freed heap back
to the OS (glibc's ``malloc_trim``); `snapshot` measures process and CUDA memory. `MemoryReport`
shows before and after as a table in a notebook and as text elsewhere.
`fooocus_widgets.release_vram()` (``%fw_release``, the panel's "Free memory" button) unloads the
models and clears what the notebook front end keeps, then runs `collect`.
"""

from __future__ import annotations

import ctypes
import gc
import html
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

__all__ = [
    "MemoryReport",
    "MemorySnapshot",
    "collect",
    "empty_cuda_cache",
    "snapshot",
    "trim_heap",
]

GiB = 1024**3
MiB = 1024**2


def _rss_bytes() -> int:
    """Resident memory of this process: anonymous plus file-backed (memory-mapped weights count)."""
    status = Path("/proc/self/status")
    if status.exists():
        fields = {}
        for line in status.read_text().splitlines():
            name, _, value = line.partition(":")
            if name in {"RssAnon", "RssFile", "VmRSS"}:
                fields[name] = int(value.split()[0]) * 1024
        if "RssAnon" in fields:
            return fields["RssAnon"] + fields.get("RssFile", 0)
        return fields.get("VmRSS", 0)
    import psutil

    return int(psutil.Process().memory_info().rss)


MODEL_FILE_SUFFIXES = (".safetensors", ".ckpt", ".bin", ".pt", ".pth")


def _held_bytes() -> int:
    """Resident memory that models can hold: anonymous memory plus pages of memory-mapped model
    files. Clean code pages of shared libraries (which the first generation touches, no model
    holds, and the OS drops when it needs to) are left out.
    """
    smaps = Path("/proc/self/smaps")
    if not smaps.exists():
        return _rss_bytes()
    anon = mapped_models = 0
    in_model_file = False
    for line in smaps.read_text().splitlines():
        head = line.split(maxsplit=5)
        if head and "-" in head[0] and len(head) >= 5 and not line.endswith(":"):  # a mapping's header
            in_model_file = len(head) == 6 and head[5].endswith(MODEL_FILE_SUFFIXES)
        elif line.startswith("Anonymous:"):
            anon += int(line.split()[1]) * 1024
        elif in_model_file and line.startswith("Rss:"):
            mapped_models += int(line.split()[1]) * 1024
    return anon + mapped_models


@dataclass(frozen=True)
class MemorySnapshot:
    """Memory use at one moment."""

    rss: int
    """Process resident memory, bytes."""
    held: int = 0
    """The part of `rss` that models can hold: anonymous memory and mapped model files."""
    cuda_allocated: int | None = None
    """Bytes held by live CUDA tensors (None without a GPU)."""
    cuda_reserved: int | None = None
    """Bytes PyTorch's CUDA allocator keeps (allocated plus cached)."""
    cuda_total: int | None = None
    """The card's memory."""


def snapshot() -> MemorySnapshot:
    """Memory use now."""
    if torch.cuda.is_available():
        _, total = torch.cuda.mem_get_info()
        return MemorySnapshot(
            rss=_rss_bytes(),
            cuda_allocated=torch.cuda.memory_allocated(),
            cuda_reserved=torch.cuda.memory_reserved(),
            cuda_total=total,
            held=_held_bytes(),
        )
    return MemorySnapshot(rss=_rss_bytes(), held=_held_bytes())


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / GiB:.2f} GiB" if value >= GiB else f"{value / MiB:.0f} MiB"


@dataclass(frozen=True)
class MemoryReport:
    """What a release did: memory before and after, and what was unloaded or cleared."""

    before: MemorySnapshot
    after: MemorySnapshot
    released: list[str] = field(default_factory=list)
    """Models and adapters unloaded, references cleared."""

    def rows(self) -> list[tuple[str, str, str]]:
        """(what, before, after) for each measure."""
        rows = [
            ("Process RAM (RSS)", _size(self.before.rss), _size(self.after.rss)),
            ("  of it anonymous or mapped model files", _size(self.before.held), _size(self.after.held)),
        ]
        if self.before.cuda_allocated is not None:
            rows += [
                ("CUDA allocated", _size(self.before.cuda_allocated), _size(self.after.cuda_allocated)),
                ("CUDA reserved", _size(self.before.cuda_reserved), _size(self.after.cuda_reserved)),
            ]
        return rows

    def __str__(self) -> str:
        lines = [f"{what}: {before} -> {after}" for what, before, after in self.rows()]
        lines.append("Released: " + (", ".join(self.released) if self.released else "nothing was loaded"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(w)}</td><td>{html.escape(b)}</td><td>{html.escape(a)}</td></tr>"
            for w, b, a in self.rows()
        )
        released = html.escape(", ".join(self.released) if self.released else "nothing was loaded")
        return (
            "<table><thead><tr><th>fooocus-widgets memory</th><th>before</th><th>after</th></tr></thead>"
            f"<tbody>{cells}</tbody></table><p>Released: {released}</p>"
        )

    def __repr__(self) -> str:
        return f"MemoryReport(\n{self}\n)"


def empty_cuda_cache() -> None:
    """Hand cached CUDA blocks back to the driver (no-op without a GPU)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.ipc_collect()


def trim_heap() -> bool:
    """Give freed heap back to the OS (glibc only); True when it ran."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    libc.malloc_trim(0)
    return True


def collect() -> None:
    """Garbage-collect, empty the CUDA cache, trim the heap."""
    gc.collect()
    empty_cuda_cache()
    trim_heap()
