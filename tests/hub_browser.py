"""A class's JupyterHub, started by `make hub`, and learners in Chromium: for the tests and the hub benchmark.

Shared by ``test_hub.py`` and ``benchmarks/hub_memory.py``.  :func:`running_hub` starts ``make hub``
on a free loopback port with a temporary class folder, and stops it at the end, whatever happened:
JupyterHub stops every learner's server; anything of the class still running after that (found by
the ``COURSE_HUB_STATE`` variable every process of the class carries) is killed and reported.
:func:`follow_link` is a learner opening the nbgitpuller link in JupyterLab.  The notebook helpers
(Run All, typing an answer, reading feedback, screenshots) are those of ``lab_browser``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from lab_browser import (KERNEL_DISPLAY_NAME, KERNEL_STATUS_JS, PAGE_READY_S, PANEL, Lab, NotebookPage, evidence,
                         free_port, wait_for)

ROOT = Path(__file__).resolve().parents[1]
LEARNER_ENV = ROOT / ".venv-learner"
EDITION = "health-ai-fairness-learner"

# Limits, not sleeps.  Starting includes exporting and publishing the learner edition (~15 s);
# a first visit includes spawning JupyterLab and cloning.  Both are slower while `make test`'s other
# worker re-executes notebooks on the same two cores.
HUB_START_S = 300
SPAWN_AND_OPEN_S = 300
STOP_S = 60


@dataclass
class RunningHub:
    url: str
    state: Path
    password: str
    link: str
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def log_tail(self, chars=6000):
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as error:
            return f"(no log: {error})"

    def home(self, learner: str) -> Path:
        return self.state / "homes" / learner

    def clone(self, learner: str) -> Path:
        return self.home(learner) / EDITION


def class_processes(state: Path) -> dict[int, str]:
    """Every process whose environment says it belongs to the class at ``state``: pid -> command line."""
    marker = f"COURSE_HUB_STATE={state}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def learner_server_pid(state: Path, learner: str) -> int:
    """The process id of ``learner``'s single-user server (its kernels are its children)."""
    for pid, command in class_processes(state).items():
        if "jupyterhub-singleuser" in command and process_environment(pid).get("JUPYTERHUB_USER") == learner:
            return pid
    raise AssertionError(f"no running server for {learner!r}; processes of the class: {class_processes(state)}")


def learner_environment(state: Path, learner: str) -> dict[str, str]:
    """The environment of ``learner``'s server: what a terminal in their JupyterLab would have."""
    return process_environment(learner_server_pid(state, learner))


def process_environment(pid: int) -> dict[str, str]:
    try:
        pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return {}
    return dict(pair.decode(errors="replace").split("=", 1) for pair in pairs if b"=" in pair)


@contextlib.contextmanager
def running_hub(base: Path, password: str = "workshop-trial-password"):
    """`make hub` with a class folder under ``base`` on a free loopback port; stopped at the end, whatever happened."""
    if not (LEARNER_ENV / "bin" / "jupyterhub-singleuser").is_file():
        raise AssertionError(f"{LEARNER_ENV} is missing: run `make hub-deps` (`make test` does) to build the "
                             "learners' environment and install the hub's proxy.")
    state = base / "class"
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "JPY_", "PYTEST", "COURSE_"))
           and key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV")}
    log_path = base / "hub.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "hub", f"HUB_DIR={state}", f"HUB_PORT={port}",
             f"HUB_OPTS=--password {password}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hub = RunningHub(url=f"http://127.0.0.1:{port}", state=state, password=password, link="", log_path=log_path,
                     process=process)
    failed = False
    try:
        _wait_until_up(hub)
        links = re.findall(r"^\s+(http://\S+/hub/user-redirect/git-pull\?\S+)$", hub.log_tail(100_000), re.M)
        assert len(links) == 1, f"`make hub` printed {len(links)} nbgitpuller links:\n{hub.log_tail()}"
        hub.link = links[0]
        yield hub
    except BaseException:
        failed = True
        print(f"--- `make hub` log ({log_path}), the end ---\n{hub.log_tail()}")
        raise
    finally:
        left = stop_hub(hub)
        # Reported as a failure of its own only when nothing else failed (not to hide the first error).
        if left and not failed:
            raise AssertionError(f"processes of the class were still running after JupyterHub stopped (now killed): "
                                 f"{left}\n{hub.log_tail()}")


def _wait_until_up(hub: RunningHub) -> None:
    deadline = time.monotonic() + HUB_START_S
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise AssertionError(f"`make hub` stopped (exit code {hub.process.returncode}):\n{hub.log_tail()}")
        try:
            with urllib.request.urlopen(f"{hub.url}/hub/api/", timeout=5) as response:
                if "version" in json.load(response):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.5)
    raise AssertionError(f"JupyterHub (`make hub`) did not answer within {HUB_START_S} s:\n{hub.log_tail()}")


def stop_hub(hub: RunningHub) -> dict[int, str]:
    """Stop JupyterHub as Ctrl+C would (it stops the learners' servers), then kill anything of the class left.

    Returns the processes that were still running after JupyterHub had stopped (now killed).
    """
    pid_file = hub.state / "jupyterhub.pid"
    with contextlib.suppress(OSError, ValueError, ProcessLookupError):
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
    try:
        hub.process.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(hub.process.pid, signal.SIGKILL)  # `make` and whatever of its own is left
    hub.process.wait(timeout=10)
    deadline = time.monotonic() + 10  # servers stopped by the hub may take a moment to exit
    while class_processes(hub.state) and time.monotonic() < deadline:
        time.sleep(0.25)
    left = class_processes(hub.state)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


# --------------------------------------------------------------------------------------------------
# A learner in the browser


def log_in(context, hub: RunningHub, learner: str):
    """A new page in ``context``, logged in to the hub as ``learner`` with the workshop password."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/login")
    page.locator("#username_input").fill(learner)
    page.locator("#password_input").fill(hub.password)
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(r".*/hub/(home|spawn.*|user/.*)|.*/user/.*"), timeout=60_000)
    return page


def follow_link(page, hub: RunningHub, learner: str, notebook: str = "00_orientation.ipynb") -> tuple[NotebookPage, float]:
    """Open the nbgitpuller link in ``page``; return the notebook page once its kernel is idle, and the seconds it took.

    The time runs from opening the link to the notebook shown with an idle course kernel: on a first
    visit it includes starting the learner's server and cloning the edition.
    """
    lab = Lab(url=hub.url, served=hub.home(learner), log_path=hub.log_path, process=hub.process)
    notebook_page = NotebookPage(page, hub.clone(learner) / "notebooks" / notebook, lab, [])
    started = time.monotonic()
    with evidence(notebook_page, f"hub_{learner}_link"):
        page.goto(hub.link)
        page.wait_for_url(f"**/user/{learner}/lab/tree/{EDITION}/notebooks/{notebook}**",
                          timeout=SPAWN_AND_OPEN_S * 1000)
        page.locator(".jp-LabShell").wait_for(timeout=PAGE_READY_S * 1000)
        # JupyterLab adds a long notebook's cells to the page a few at a time: wait for all of them.
        expected = len(nbformat.read(notebook_page.path, as_version=4).cells)
        wait_for(page, f"""() => {{
            const cells = document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell').length;
            return cells === {expected} && ({KERNEL_STATUS_JS}) === {json.dumps(KERNEL_DISPLAY_NAME + " | Idle")};
        }}""", PAGE_READY_S, f"notebook {notebook}, its {expected} cells, with an idle {KERNEL_DISPLAY_NAME!r} kernel")
    return notebook_page, time.monotonic() - started


def record_external_requests(context, hub: RunningHub) -> list:
    """Every request the pages of ``context`` make to anything but the hub (the list fills as they happen)."""
    external = []

    def record(request):
        if re.match(r"(https?|wss?)://", request.url) and not request.url.startswith(hub.url.replace("http", "ws", 1)) \
                and not request.url.startswith(hub.url):
            external.append(request.url)

    context.on("request", record)
    return external
