"""JupyterLab in a real browser, for the tests: `make lab` started on loopback, Chromium under Playwright.

Shared by ``test_browser.py`` (the course repository) and ``test_learner_edition.py`` (a fresh clone
of the learner edition).  Playwright drives Debian's Chromium (``/usr/bin/chromium``; ``make
system-deps`` installs it, and Playwright never downloads a browser of its own).  Screenshots go to
``test-artifacts/browser/`` (gitignored).
"""

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# The kernel `make install` registers (`ipykernel install --display-name`) and every notebook asks for.
KERNEL_DISPLAY_NAME = "Python 3 (course)"

# Waits are on conditions, never fixed sleeps; these are only the limits.  Generous, because under
# `make test` the other xdist worker re-executes every solution notebook on the same (2-core) CPU.
SERVER_START_S = 120
PAGE_READY_S = 120      # JupyterLab loaded, kernel started and idle
RUN_ALL_S = 240         # notebook 02 (TensorFlow) takes ~25 s alone, several times that under load
FEEDBACK_S = 60         # one answer cell and its check cell

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Resolve no host name at all (the local server is reached by its IP address): nothing the
    # browser does, for the page or in the background, can reach another machine by name.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

# Settings defaults for the throwaway JupyterLab config: never fetch the Jupyter news feed or check
# for updates.  fetchNews "false" (not the default "none") also stops the "Would you like to get
# notified about official Jupyter news?" toast, which JupyterLab shows whenever the setting is unset.
SETTING_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


# --------------------------------------------------------------------------------------------------
# JupyterLab, started as `make lab` starts it


@dataclass
class Lab:
    url: str
    served: Path          # the server's contents root: a copy, never the repository
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log_tail(self, chars=4000):
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as error:
            return f"(no log: {error})"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def tree_digest(folder):
    """Every file under ``folder`` (checkpoints included) with the SHA-256 of its bytes."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@contextlib.contextmanager
def running_lab(repo: Path, base: Path, served: Path):
    """`make lab` in ``repo`` on a free local port, without token, serving the folder ``served``.

    Its config, data, runtime, settings, workspace and IPython directories are all new and
    temporary (under ``base``), so neither a learner's saved JupyterLab state nor their kernels or
    IPython startup files can interfere; and nothing it does reaches the internet.  The server and
    everything it started are stopped at the end, whatever happened.
    """
    config = base / "config"
    (config / "labconfig").mkdir(parents=True)
    # Read by jupyterlab_server from every <config dir>/labconfig: defaults for the settings above.
    (config / "labconfig" / "default_setting_overrides.json").write_text(json.dumps(SETTING_OVERRIDES))
    # Nothing of the caller's Jupyter setup, the data location or an enclosing make (`make test`).
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "JPY_"))
           and key not in ("COURSE_DATA_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_DATA_DIR=str(base / "data"),        # no kernels of the learner's own (~/.local/share)
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(base / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        IPYTHONDIR=str(base / "ipython"),
    )
    port = free_port()
    lab_opts = [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0",                # fail rather than serve on a port we do not watch
        "--IdentityProvider.token=",                 # local only, so the browser needs no login
        # `make lab` passes --notebook-dir=. (the repository), and it can be given only once; so the
        # contents and the kernels get the copy as their root instead.  Kernels start in the copy.
        f"--FileContentsManager.root_dir={served}",
        f"--MappingKernelManager.root_dir={served}",
        # Nothing that reaches the internet: no news feed, no update check, and an extension
        # manager that does not query the package index.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={base / 'user-settings'}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    log_path = base / "lab.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_OPTS=" + " ".join(lab_opts)],
            cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    lab = Lab(url=f"http://127.0.0.1:{port}", served=served, log_path=log_path, process=process)
    try:
        settings, deadline = None, time.monotonic() + SERVER_START_S
        while settings is None and time.monotonic() < deadline and process.poll() is None:
            try:
                settings = get_json(f"{lab.url}/lab/api/settings/@jupyterlab/apputils-extension:notification")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        if settings is None:
            raise AssertionError(f"JupyterLab (`make lab`) did not answer within {SERVER_START_S} s "
                        f"(exit code {process.poll()}). Log:\n{lab.log_tail()}")
        # The overrides become the schema's defaults, which the page then uses.
        defaults = {key: value.get("default") for key, value in settings["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, (
            f"the settings overrides did not apply: {defaults}\n{lab.log_tail()}")
        assert f"Serving notebooks from local directory: {served}" in lab.log_tail(100_000), (
            "JupyterLab does not serve the temporary copy; it might write to the tracked notebooks.\n"
            + lab.log_tail())
        yield lab
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --------------------------------------------------------------------------------------------------
# Chromium and one page per test


@contextlib.contextmanager
def chromium():
    """Debian's Chromium under Playwright, with a fresh temporary profile (Playwright's default)."""
    if not os.access(CHROMIUM, os.X_OK):
        # Fail, do not skip: a skipped browser test would let `make test` pass without ever
        # showing the course in a browser.
        raise AssertionError(f"{CHROMIUM} not found: the browser tests drive Debian's Chromium. Run "
                    "`make system-deps` as root, or install the Debian package `chromium` "
                    "(sudo apt-get install chromium). Playwright's own browser download is not used.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class NotebookPage:
    page: object
    path: Path            # the copy on disk that this page edits and saves
    lab: Lab
    external_requests: list


# The notebook in view, the kernel status in the status bar ("Python 3 (course) | Idle").
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
KERNEL_STATUS_JS = ("(document.querySelector('#jp-main-statusbar [title^=\"Change kernel\"]') "
                    "|| {textContent: ''}).textContent.trim()")
# DELETE needs the _xsrf cookie echoed in a header, as JupyterLab itself sends it.
SHUTDOWN_KERNELS_JS = """async () => {
    const xsrf = (document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]+)/) || [])[1] || '';
    const kernels = await (await fetch('/api/kernels')).json();
    for (const kernel of kernels) {
        await fetch('/api/kernels/' + kernel.id, {method: 'DELETE', headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
    }
}"""


# --------------------------------------------------------------------------------------------------
# Helpers: waiting, running, reading cells, evidence


def wait_for(page, condition_js, timeout_s, what):
    """Wait until ``condition_js`` is true; fail at once, with its text, if a dialog opens instead."""
    try:
        result = page.wait_for_function(f"""() => {{
            const dialog = document.querySelector('.jp-Dialog');
            if (dialog) return {{dialog: dialog.textContent}};
            return ({condition_js})() ? {{done: true}} : false;
        }}""", timeout=timeout_s * 1000, polling=250).json_value()
    except PlaywrightError as error:
        raise AssertionError(f"waited {timeout_s} s for {what}: {error.message.splitlines()[0]}") from None
    assert "dialog" not in result, f"a JupyterLab dialog opened while waiting for {what}: {result['dialog']!r}"


def run_all(page):
    """Run → Run All Cells from the menu bar; return when every cell has run or the run stopped.

    Run All marks every code cell ``[*]`` at once.  It is over when each has an execution count, or
    when a cell failed: then the cells after it go back to ``[ ]`` and the kernel is idle.
    """
    page.locator("#jp-MainMenu").get_by_role("menuitem", name="Run", exact=True).click()
    page.locator("#jp-mainmenu-run").get_by_role("menuitem", name="Run All Cells", exact=True).click()
    wait_for(page, f"""() => {{
        const prompts = Array.from(document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputPrompt'),
                                   prompt => prompt.textContent.trim());
        const done = prompt => /^\\[\\d+\\]:$/.test(prompt);
        return prompts.length > 0 && (prompts.every(done) || (prompts.some(done) && !prompts.includes('[*]:')
                                                              && ({KERNEL_STATUS_JS}).endsWith('| Idle')));
    }}""", RUN_ALL_S, "Run All Cells to finish")


def page_cells(page):
    """Every cell of the notebook in view as the page shows it: type, prompt, source, outputs.

    Text is read with textContent: JupyterLab skips rendering cells out of view
    (content-visibility), and innerText of those is empty.
    """
    return page.evaluate(f"""() => Array.from(document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell'), cell => ({{
        code: cell.classList.contains('jp-CodeCell'),
        prompt: (cell.querySelector('.jp-InputPrompt') || {{textContent: ''}}).textContent.trim(),
        source: Array.from(cell.querySelectorAll('.jp-InputArea .cm-line'), line => line.textContent).join('\\n'),
        outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output'), output => ({{
            mime: output.getAttribute('data-mime-type'), text: output.textContent}})),
    }}))""")


def page_cell(page, index):
    return page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)


def scroll_to(page, index):
    page_cell(page, index).evaluate("cell => cell.scrollIntoView({block: 'center'})")


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path.relative_to(ROOT)


@contextlib.contextmanager
def evidence(notebook, name):
    """On any failure inside: a screenshot named in the message, and the end of the JupyterLab log."""
    try:
        yield
    except (AssertionError, PlaywrightError) as error:
        try:
            shot = screenshot(notebook.page, name)
        except PlaywrightError as screenshot_error:
            shot = f"(none: {screenshot_error.message.splitlines()[0]})"
        print(f"--- JupyterLab log ({notebook.lab.log_path}), the end ---\n{notebook.lab.log_tail()}")
        raise AssertionError(f"{error}\nscreenshot: {shot}\nJupyterLab log: {notebook.lab.log_path}") from None


def type_answer(page, index, text):
    """Replace the cell's source through its CodeMirror editor, as a learner pasting an answer does, and run it.

    The text is inserted as one input (a paste), so the editor's bracket closing and auto-indent do not
    change it.
    """
    editor = page_cell(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)
    typed = "\n".join(editor.locator(".cm-line").all_text_contents())
    assert typed == text, f"the cell editor holds {typed!r} after typing {text!r}"
    page.keyboard.press("Shift+Enter")


def run_cell(page, index):
    page_cell(page, index).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")


def feedback_appears(page, index, text):
    """True once the cell's output contains ``text``; False if it does not within FEEDBACK_S."""
    output = page_cell(page, index).locator(".jp-OutputArea")
    try:
        output.filter(has_text=text).wait_for(timeout=FEEDBACK_S * 1000)
        return True
    except PlaywrightError:
        return False




def open_page(browser, lab, path: Path, workspace: str):
    """Open the notebook at ``path`` (inside ``lab.served``) in a new browser context and JupyterLab
    workspace; return ``(context, NotebookPage)`` once the page is up and the course kernel is idle."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    external = []

    def record(request):
        if re.match(r"(https?|wss?)://", request.url) and not request.url.startswith(lab.url):
            external.append(request.url)

    context.on("request", record)
    page = context.new_page()
    page.set_default_timeout(60_000)
    notebook = NotebookPage(page, path, lab, external)
    with evidence(notebook, f"{path.stem}_open"):
        # A workspace of its own: JupyterLab restores nothing from another test.
        page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{path.relative_to(lab.served).as_posix()}")
        page.locator(".jp-LabShell").wait_for(timeout=PAGE_READY_S * 1000)
        wait_for(page, f"""() => {{
            const cells = document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell').length;
            return cells > 0 && ({KERNEL_STATUS_JS}) === {json.dumps(KERNEL_DISPLAY_NAME + " | Idle")};
        }}""", PAGE_READY_S, f"the notebook and an idle {KERNEL_DISPLAY_NAME!r} kernel")
    return context, notebook


def close_page(context, notebook) -> None:
    """Shut the page's kernels down and close its browser context."""
    with contextlib.suppress(PlaywrightError):
        notebook.page.evaluate(SHUTDOWN_KERNELS_JS)
    context.close()
