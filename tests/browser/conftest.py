"""A real JupyterLab (or Jupyter Notebook 7) server and Debian's Chromium (through Playwright) for
the browser tests.

The server runs from this venv with its own config, data and runtime folders, a fixed token and
the news pop-up turned off; every test gets a fresh browser context and starts with no sessions.
Both front ends expose their application object as `window.jupyterapp`, so the page helpers below
work in either.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import nbformat
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from fooocus_widgets.engine.demo import write_demo_models

CHROMIUM = os.environ.get("FW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "fooocus-widgets-tests"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    """A running Jupyter server: JupyterLab (`app == "lab"`) or Notebook 7 (`app == "notebook"`)."""

    url: str
    root: Path
    models: Path
    process: subprocess.Popen[bytes]
    log: Path
    app: str = "lab"
    collaborative: bool = False

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def delete_sessions(self) -> None:
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def write_notebook(self, name: str, cells: list[str], metadata: dict[str, Any] | None = None) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.metadata.update(metadata or {})
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        return path

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={TOKEN}&reset"

    def notebook_url(self, notebook: str) -> str:
        """The page that opens `notebook` in this server's front end."""
        if self.app == "notebook":
            return f"{self.url}/notebooks/{notebook}?token={TOKEN}"
        return self.lab_url(notebook)


# how each front end is started: the `jupyter` subcommand and the class its options belong to
_APPS = {"lab": ("lab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}


def start_lab(base: Path, *, disabled_extensions: tuple[str, ...] = ()) -> LabServer:
    """Start JupyterLab from this venv in `base` (own config, data, runtime and settings folders,
    demo models, no news pop-up), optionally with lab extensions disabled."""
    return start_server(base, app="lab", disabled_extensions=disabled_extensions)


def start_notebook(base: Path, *, disabled_extensions: tuple[str, ...] = ()) -> LabServer:
    """Start Jupyter Notebook 7 from this venv in `base`, set up exactly as `start_lab` does."""
    return start_server(base, app="notebook", disabled_extensions=disabled_extensions)


def start_server(
    base: Path,
    *,
    app: str = "lab",
    disabled_extensions: tuple[str, ...] = (),
    reuse: bool = False,
    collaborative: bool = False,
) -> LabServer:
    """Start `jupyter lab` or `jupyter notebook` (`app`) in `base`: see `start_lab`. Both expose
    their application object as `window.jupyterapp` and read `overrides.json` from `base`.
    `reuse`: `base` was set up by an earlier server (see `restart_server`); keep what it holds.
    `collaborative`: real-time collaboration (jupyter-collaboration, installed for the tests) is on;
    every other server turns it off, so that one test's server does not change the others'."""
    command, app_class = _APPS[app]
    root = base / "root"
    root.mkdir(parents=True, exist_ok=reuse)
    dirs = {
        name: base / name
        for name in ("config", "data", "runtime", "settings", "workspaces", "ipython", "app-settings")
    }
    for d in dirs.values():
        d.mkdir(exist_ok=reuse)
    (dirs["app-settings"] / "overrides.json").write_text(
        json.dumps(
            {
                "@jupyterlab/apputils-extension:notification": {
                    "fetchNews": "false",
                    "checkForUpdates": False,
                },
                "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
            }
        )
    )
    if disabled_extensions:
        (dirs["config"] / "labconfig").mkdir(exist_ok=reuse)
        (dirs["config"] / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": dict.fromkeys(disabled_extensions, True)})
        )
    models = base / "models"
    write_demo_models(models)
    env = {
        **os.environ,
        "FOOOCUS_WIDGETS_MODELS": str(models),
        "FOOOCUS_WIDGETS_OUTPUTS": str(root / "outputs"),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    log = base / ("jupyterlab.log" if app == "lab" else f"jupyter-{app}.log")
    jupyter = str(Path(sys.executable).with_name("jupyter"))
    cmd = [
        jupyter,
        command,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={TOKEN}",
        "--LabApp.news_url=None",  # Notebook 7 loads JupyterLab's server extension (and its news) too
        f"--{app_class}.expose_app_in_browser=True",
        f"--{app_class}.app_settings_dir={dirs['app-settings']}",
        "--ServerApp.disable_check_xsrf=True",
        f"--YDocExtension.disable_rtc={not collaborative}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    server = LabServer(
        url=f"http://127.0.0.1:{port}",
        root=root,
        models=models,
        process=process,
        log=log,
        app=app,
        collaborative=collaborative,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            server.api("GET", "/api/status")
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jupyter {command} did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)
        else:
            return server


def stop_lab(server: LabServer, name: str = "jupyterlab") -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(server.log, ARTIFACTS / f"{name}.log")


def restart_server(server: LabServer, name: str = "jupyterlab-before-restart") -> None:
    """Stop `server` and start a new one on the same folders (the same notebooks, settings and
    models; no kernels, no widget models), updating `server` in place to point at it."""
    stop_lab(server, name)
    fresh = start_server(server.root.parent, app=server.app, reuse=True, collaborative=server.collaborative)
    server.url, server.process, server.log = fresh.url, fresh.process, fresh.log


def require_chromium() -> None:
    """Fail (not skip) when Debian's Chromium is missing: a browser test that did not run is no pass."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    require_chromium()
    server = start_lab(tmp_path_factory.mktemp("lab"))
    yield server
    stop_lab(server)


@pytest.fixture(scope="session")
def lab_without_extension(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab with the fooocus-widgets extension disabled (as Colab or VS Code would have it)."""
    server = start_lab(tmp_path_factory.mktemp("lab-noext"), disabled_extensions=("fooocus-widgets",))
    yield server
    stop_lab(server, "jupyterlab-noext")


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """Jupyter Notebook 7 (the same lab extensions, Notebook 7's own shell and pages)."""
    require_chromium()
    server = start_notebook(tmp_path_factory.mktemp("notebook7"))
    yield server
    stop_lab(server, "jupyter-notebook7")


@pytest.fixture(scope="session")
def collaborative_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab with real-time collaboration on (jupyter-collaboration): pages on one notebook
    share its cells, outputs and metadata."""
    require_chromium()
    server = start_server(tmp_path_factory.mktemp("lab-rtc"), collaborative=True)
    yield server
    stop_lab(server, "jupyterlab-rtc")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class PageFactory(Protocol):
    """Opens a page on `server` in a fresh browser context (see `browser_page_factory`)."""

    def __call__(self, server: LabServer, *, keep_sessions: bool = False) -> Page: ...


@pytest.fixture
def browser_page_factory(browser: Browser, request: pytest.FixtureRequest) -> Iterator[PageFactory]:
    """Pages on a given server, each in a fresh browser context; sessions are ended before (unless
    `keep_sessions`: a second window on the same notebook and kernel) and after. Each page keeps
    its console in `page.console_messages`; on failure every page leaves a screenshot and its
    console in test-results."""
    opened: list[tuple[LabServer, BrowserContext, Page, list[str]]] = []

    def open_page(server: LabServer, *, keep_sessions: bool = False) -> Page:
        if not keep_sessions:
            server.delete_sessions()
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        console: list[str] = []

        def keep(msg: ConsoleMessage) -> None:
            console.append(f"[{msg.type}] {msg.text}")

        page.on("console", keep)
        page.console_messages = console  # type: ignore[attr-defined]
        opened.append((server, context, page, console))
        return page

    yield open_page
    rep = getattr(request.node, "rep_call", None)
    for n, (server, context, page, console) in enumerate(opened):
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = request.node.name if len(opened) == 1 else f"{request.node.name}-{n}"
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
            (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console))
        context.close()
        server.delete_sessions()


@pytest.fixture
def page(browser_page_factory: PageFactory, lab: LabServer) -> Page:
    return browser_page_factory(lab)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


# ---- page helpers --------------------------------------------------------------------------------


def open_notebook(page: Page, lab: LabServer, name: str) -> None:
    """Open a notebook (in JupyterLab or Notebook 7, as `lab` runs) and wait until its kernel is idle."""
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    wait_kernel_idle(page)


def wait_kernel_idle(page: Page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const panel = app && app.shell.currentWidget;
            const ctx = panel && panel.sessionContext;
            return !!(ctx && ctx.session && ctx.session.kernel && ctx.kernelDisplayStatus === 'idle');
        }""",
        timeout=timeout,
    )


def run_all(page: Page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def run_cell(page: Page, index: int, *, wait: bool = True) -> None:
    """Select cell `index` and run it (without adding a cell); `wait`: until it has finished (else
    return at once, so that a run that never finishes fails an output check, not hangs here)."""
    page.evaluate(
        """async ([i, wait]) => {
            const panel = window.jupyterapp.shell.currentWidget;
            panel.content.activeCellIndex = i;
            const run = window.jupyterapp.commands.execute('notebook:run-cell');
            if (wait) await run;
        }""",
        [index, wait],
    )


def cell_output_text(page: Page, index: int) -> str:
    return str(
        page.evaluate(
            """(i) => {
                const panel = window.jupyterapp.shell.currentWidget;
                const cell = panel.content.widgets[i];
                return cell.outputArea ? cell.outputArea.node.innerText : '';
            }""",
            index,
        )
    )


def wait_output(page: Page, index: int, text: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        """([i, text]) => {
            const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
            return cell.outputArea && cell.outputArea.node.innerText.includes(text);
        }""",
        arg=[index, text],
        timeout=timeout,
    )


def restart_from_kernel_menu(page: Page) -> None:
    """Kernel menu > Restart Kernel…, then accept the dialog."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator('[data-command="kernelmenu:restart"]').click()
    page.locator(".jp-Dialog .jp-mod-accept").click()


def dismiss_dialogs(page: Page) -> None:
    """Close JupyterLab's "kernel died / restarting" dialogs if any."""
    for button in page.locator(".jp-Dialog .jp-mod-accept").all():
        if button.is_visible():
            button.click()


def printed_json(page: Page, index: int, marker: str = "STATE=") -> Any:
    """Run cell `index`, which prints `marker` and then JSON on one line, and return the JSON."""
    run_cell(page, index)
    wait_output(page, index, marker)
    text = cell_output_text(page, index)
    return json.loads(text.split(marker, 1)[1].strip().splitlines()[0])


def count_sent_panel_messages(page: Page, kind: str) -> list[float]:
    """From now on, note the time of every panel message of `kind` (such as "ping") the page sends
    over a kernel websocket. Call before opening the notebook; the list grows as they are sent."""
    pattern = re.compile(rb'"type"\s*:\s*"' + re.escape(kind.encode()) + rb'"')
    seen: list[float] = []

    def on_frame(payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        if b'"comm_msg"' in data and pattern.search(data):
            seen.append(time.monotonic())

    page.on("websocket", lambda ws: ws.on("framesent", on_frame))
    return seen
