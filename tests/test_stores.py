"""Kernel-side stores on real files: atomic saves, recovery from damage, image files, locations."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PIL import Image

from fooocus_widgets.state import PanelState
from fooocus_widgets.stores import (
    FileStore,
    ImageStore,
    MemoryStore,
    StateRecoveryWarning,
    StateStore,
    notebook_path,
    state_root,
)


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    return FileStore(tmp_path / "state") if request.param == "file" else MemoryStore()


# ---- both stores -----------------------------------------------------------------------------


def test_save_then_load_returns_the_state_and_counts_revisions(store: StateStore) -> None:
    assert store.load("main") is None
    first = store.save("main", PanelState(prompt="one"))
    second = store.save("main", PanelState(prompt="two"))
    loaded = store.load("main")
    assert loaded is not None
    assert (first.revision, second.revision) == (1, 2)
    assert loaded.state == PanelState(prompt="two")
    assert loaded.revision == 2
    assert loaded.updated_at.endswith("+00:00")


def test_explicit_revision_is_kept(store: StateStore) -> None:
    store.save("k", PanelState(), revision=41)
    assert store.save("k", PanelState()).revision == 42


def test_keys_and_delete(store: StateStore) -> None:
    store.save("b", PanelState())
    store.save("a", PanelState())
    assert store.keys() == ["a", "b"]
    store.delete("a")
    store.delete("never-saved")
    assert store.keys() == ["b"]
    assert store.load("a") is None


@pytest.mark.parametrize("key", ["", "a\nb", "x" * 201, 5])
def test_bad_keys_are_refused(store: StateStore, key: object) -> None:
    with pytest.raises(ValueError, match="panel key"):
        store.save(key, PanelState())  # type: ignore[arg-type]


# ---- the file store --------------------------------------------------------------------------


def test_keys_with_odd_characters_get_distinct_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    keys = ["cell-1/2", "cell-1_2", "../escape", "ünïcode key", ".hidden"]
    for i, key in enumerate(keys):
        store.save(key, PanelState(image_number=i + 1))
    assert sorted(store.keys()) == sorted(keys)
    for i, key in enumerate(keys):
        loaded = store.load(key)
        assert loaded is not None
        assert loaded.state.image_number == i + 1
    # every file stays inside the store's folder
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())


def test_previous_copy_is_kept(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("main", PanelState(prompt="old"))
    store.save("main", PanelState(prompt="new"))
    previous = json.loads(store.previous_path("main").read_text())
    assert previous["state"]["prompt"] == "old"
    assert previous["revision"] == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"",  # emptied
        lambda data: data.replace(b'"prompt": "new"', b'"prompt": "NEW"'),  # edited: checksum fails
        lambda data: b"\xff\xfe" + data,  # not UTF-8
        lambda data: data.replace(b'"image_number": 2', b'"image_number": 99'),  # invalid value
    ],
    ids=["truncated", "empty", "checksum", "encoding", "invalid"],
)
def test_damaged_newest_file_falls_back_to_previous_copy(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    store = FileStore(tmp_path)
    store.save("main", PanelState(prompt="old"))
    store.save("main", PanelState(prompt="new"))
    path = store.path("main")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.warns(StateRecoveryWarning, match="previous copy"):
        loaded = store.load("main")
    assert loaded is not None
    assert loaded.state.prompt == "old"
    assert loaded.revision == 1


def test_both_copies_damaged_warns_and_returns_none(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("main", PanelState(prompt="old"))
    store.save("main", PanelState(prompt="new"))
    store.path("main").write_text("{")
    store.previous_path("main").write_text("garbage")
    with pytest.warns(StateRecoveryWarning, match="No readable copy"):
        assert store.load("main") is None
    # and saving again works and counts on from scratch
    assert store.save("main", PanelState(prompt="fresh")).revision == 1


def test_a_record_of_another_key_is_not_used(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("a", PanelState(prompt="a"))
    store.save("b", PanelState(prompt="b"))
    store.path("b").write_bytes(store.path("a").read_bytes())
    with pytest.warns(StateRecoveryWarning, match="belongs to panel 'a'"):
        assert store.load("b") is None


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for i in range(5):
        store.save("main", PanelState(image_number=i + 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.json", "main.prev.json"]


WRITER = textwrap.dedent(
    """
    import os, sys
    from fooocus_widgets.state import PanelState
    from fooocus_widgets.stores import FileStore

    store = FileStore(sys.argv[1])
    crash_at, crash_save = os.environ.get("CRASH_AT"), int(os.environ.get("CRASH_SAVE", "0"))
    real_replace, real_fsync = os.replace, os.fsync
    calls = {"replace": 0}

    def crash():
        os._exit(9)

    def fsync(fd):
        if crash_at == "before-fsync" and save_no == crash_save:
            crash()
        real_fsync(fd)

    def replace(src, dst):
        calls["replace"] += 1
        if crash_at == "before-rotate" and save_no == crash_save and str(dst).endswith(".prev.json"):
            crash()
        real_replace(src, dst)
        if crash_at == "between-renames" and save_no == crash_save and str(dst).endswith(".prev.json"):
            crash()

    os.fsync, os.replace = fsync, replace
    padding = "x" * 20000  # big enough that a write takes a while
    save_no = 0
    while True:
        save_no += 1
        store.save("main", PanelState(prompt=f"{save_no} {padding}", image_number=save_no % 32 + 1))
        print(save_no, flush=True)
    """
)


def _last_printed(out: str) -> int:
    lines = [line for line in out.split() if line.isdigit()]
    return int(lines[-1]) if lines else 0


def _check_consistent(store: FileStore) -> int:
    loaded = store.load("main")
    assert loaded is not None
    number = int(loaded.state.prompt.split()[0])
    assert loaded.revision == number  # revision and content come from the same save
    assert loaded.state.image_number == number % 32 + 1
    return number


@pytest.mark.parametrize("crash_at", ["before-fsync", "before-rotate", "between-renames"])
def test_writer_crashing_at_each_step_leaves_the_last_complete_state(tmp_path: Path, crash_at: str) -> None:
    env = {**os.environ, "CRASH_AT": crash_at, "CRASH_SAVE": "3"}
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 9, proc.stderr
    assert _last_printed(proc.stdout) == 2  # save 3 never completed
    store = FileStore(tmp_path)
    if crash_at == "between-renames":  # the newest file is gone: the previous copy serves
        assert not store.path("main").exists()
    assert _check_consistent(store) == 2


def test_writer_killed_mid_save_loop_loses_at_most_the_unfinished_save(tmp_path: Path) -> None:
    rng = random.Random(1234)
    for _round in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the loop is running
        assert first.strip().isdigit()
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
        printed = _last_printed(first + rest)
        number = _check_consistent(FileStore(tmp_path))
        # the kill may land after the rename but before the print: one save more is possible
        assert printed <= number <= printed + 1
        FileStore(tmp_path).delete("main")


# ---- images ----------------------------------------------------------------------------------


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def test_images_are_stored_by_content_hash(tmp_path: Path) -> None:
    images = ImageStore(tmp_path / "images")
    data = _png((255, 0, 0))
    digest = images.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert images.put(data) == digest  # stored once
    path = images.path(digest)
    assert path is not None
    assert path.name == f"{digest}.png"
    assert path.parent.name == digest[:2]
    assert images.get(digest) == data
    assert digest in images
    assert images.get("0" * 64) is None


def test_damaged_image_is_reported_not_returned(tmp_path: Path) -> None:
    images = ImageStore(tmp_path)
    digest = images.put(_png((0, 255, 0)))
    path = images.path(digest)
    assert path is not None
    path.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.warns(StateRecoveryWarning, match="damaged"):
        assert images.get(digest) is None


def test_non_images_and_bad_hashes_are_refused(tmp_path: Path) -> None:
    images = ImageStore(tmp_path)
    with pytest.raises(ValueError, match="PNG, JPEG or WebP"):
        images.put(b"#!/bin/sh\nrm -rf /")
    with pytest.raises(ValueError, match="64 lowercase hex"):
        images.path("../../etc/passwd")


# ---- where the files go ----------------------------------------------------------------------


def test_notebook_path_from_vscode_and_ipykernel_names(tmp_path: Path) -> None:
    nb = tmp_path / "work" / "a.ipynb"
    assert notebook_path({"__vsc_ipynb_file__": str(nb)}) == nb
    assert notebook_path({"__session__": str(nb)}) == nb


def test_relative_session_name_resolves_in_the_kernels_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "q.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path / "notebooks")  # the kernel runs in the notebook's folder
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/q.ipynb")  # relative to the server root
    assert notebook_path({}) == tmp_path / "notebooks" / "q.ipynb"
    root, namespace = state_root({})
    assert root == tmp_path / "notebooks" / ".fooocus_widgets"
    assert namespace == "q.ipynb"
    store = FileStore.for_notebook({})
    store.save("main", PanelState(prompt="beside the notebook"))
    assert (tmp_path / "notebooks" / ".fooocus_widgets" / "state" / "q.ipynb" / "main.json").is_file()


def test_without_a_notebook_the_user_data_dir_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    root, namespace = state_root({})
    assert namespace == "default"
    assert root == tmp_path / "xdg" / "fooocus-widgets"


@pytest.fixture
def colab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A pretend Colab VM: the release tag set, `/content` (and its Drive mount) under tmp_path."""
    from fooocus_widgets.stores import location

    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.setattr(location, "COLAB_CONTENT", content)
    monkeypatch.setattr(location, "COLAB_DRIVE", content / "drive" / "MyDrive")
    return content


def test_colab_with_drive_mounted_keeps_the_files_in_drive(colab: Path) -> None:
    (colab / "drive" / "MyDrive").mkdir(parents=True)
    root, namespace = state_root({})
    assert root == colab / "drive" / "MyDrive" / "fooocus-widgets"
    assert namespace == "default"
    FileStore.for_notebook({}).save("main", PanelState(prompt="on Drive"))
    assert (colab / "drive" / "MyDrive" / "fooocus-widgets" / "state" / "default" / "main.json").is_file()
    assert not (colab / ".fooocus_widgets").exists()


def test_colab_without_drive_keeps_the_files_on_the_vm(colab: Path) -> None:
    (colab / "drive").mkdir()  # mounted somewhere else, or a folder without MyDrive
    root, namespace = state_root({})
    assert root == colab / ".fooocus_widgets"
    assert namespace == "default"
    FileStore.for_notebook({}).save("main", PanelState(prompt="on the VM"))
    assert (colab / ".fooocus_widgets" / "state" / "default" / "main.json").is_file()


def test_colab_is_told_by_its_module_too_and_names_a_known_notebook(
    colab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from fooocus_widgets.stores.location import on_colab

    monkeypatch.delenv("COLAB_RELEASE_TAG")
    assert not on_colab()
    assert state_root({})[0] == colab.parent / "xdg" / "fooocus-widgets"  # not Colab: the data dir
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert on_colab()
    (colab / "drive" / "MyDrive").mkdir(parents=True)
    root, namespace = state_root({"__session__": str(colab / "nb.ipynb")})
    assert root == colab / "drive" / "MyDrive" / "fooocus-widgets"  # not beside the notebook on the VM
    assert namespace == "nb.ipynb"


def test_outside_colab_the_drive_path_is_not_looked_at(colab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLAB_RELEASE_TAG")
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    (colab / "drive" / "MyDrive").mkdir(parents=True)
    nb = colab / "work" / "a.ipynb"
    assert state_root({"__session__": str(nb)}) == (colab / "work" / ".fooocus_widgets", "a.ipynb")
