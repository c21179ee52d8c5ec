"""A class on a JupyterHub on one machine: ``course hub`` (``make hub``).

For trying a class end to end before a real deployment, or a workshop on one server you control:

* **the learner edition, published.**  :func:`publish` writes it (:func:`learner_edition.export`) into a
  working copy under the hub's state folder and pushes each new version, as one commit on top of the
  last, to a bare git repository there.  nbgitpuller clones from that repository into each learner's
  home and, when a learner follows the link again, merges the instructor's new commits around the
  learner's own edits.
* **JupyterHub** with its shared-password authenticator (any learner name, one workshop password) and
  its ``SimpleLocalProcessSpawner``, which gives each learner a home folder of their own under the state
  folder.  For local trials only: anyone with the password can log in as any learner, and every
  learner's server runs as the hub's own system user, with no isolation between learners.
* **the learners' environment** (``.venv-learner``, built by ``make hub-deps`` from
  ``deploy/singleuser/requirements.txt``), with the published edition's ``course_utils`` installed into
  it by :func:`prepare_learner_environment`: what each learner's server and kernel run on, as a real
  hub's single-user image.  It has no instructor tools and no nbgrader.

:func:`nbgitpuller_link` is the link to hand out.  JupyterHub reads ``hub_templates/jupyterhub_config.py``,
copied into the state folder with this hub's settings in ``hub-settings.json`` beside it.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

from course_utils.instructor import learner_edition, release

#: The published repository's name, and so the folder nbgitpuller clones into in each learner's home.
EDITION_NAME = "health-ai-fairness-learner"
#: The notebook the link opens.
FIRST_NOTEBOOK = "notebooks/00_orientation.ipynb"
CONFIG_TEMPLATE = Path(str(resources.files("course_utils.instructor") / "hub_templates" / "jupyterhub_config.py"))
PROXY = release.COURSE_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
#: The shared password's minimum length (JupyterHub's SharedPasswordAuthenticator refuses shorter ones).
MIN_PASSWORD_LENGTH = 8
#: Settings learners' JupyterLab starts with: nothing fetched from the internet (news, update checks).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


@dataclass(frozen=True)
class ClassHub:
    """One class's hub: where its state lives and how learners reach it.

    Attributes
    ----------
    state : Path
        The class's folder: the published edition, the instructor's working copy of it, learners'
        homes, the hub's database and configuration.
    url : str
        The address learners open, e.g. ``http://127.0.0.1:8000``.
    repo_url : str
        The published learner edition, as nbgitpuller clones it.
    password : str
        The shared workshop password.
    """

    state: Path
    url: str
    repo_url: str
    password: str

    @property
    def config(self) -> Path:
        return self.state / "jupyterhub_config.py"

    @property
    def edition(self) -> Path:
        """The instructor's working copy of the published edition: commit fixes here, then ``git push``."""
        return self.state / "edition"

    @property
    def homes(self) -> Path:
        return self.state / "homes"

    @property
    def hand_ins(self) -> Path:
        return self.state / "hand-ins"

    @property
    def link(self) -> str:
        return nbgitpuller_link(self.url, self.repo_url)


def nbgitpuller_link(hub_url: str, repo_url: str, notebook: str = FIRST_NOTEBOOK, branch: str = "main") -> str:
    """The link that logs a learner in, clones (or updates) the edition into their home and opens ``notebook``.

    nbgitpuller clones into a folder named after the repository (its last path part), so the
    notebook's path in JupyterLab starts with that name.

    Examples
    --------
    >>> print(nbgitpuller_link("https://hub.example.org", "https://git.example.org/course/health-ai-fairness-learner"))
    https://hub.example.org/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgit.example.org%2Fcourse%2Fhealth-ai-fairness-learner&branch=main&urlpath=lab%2Ftree%2Fhealth-ai-fairness-learner%2Fnotebooks%2F00_orientation.ipynb
    """
    folder = repo_url.rstrip("/").split("/")[-1]
    query = urlencode({"repo": repo_url, "branch": branch, "urlpath": f"lab/tree/{folder}/{notebook}"})
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def publish(state: str | os.PathLike) -> str:
    """Export the learner edition and publish it as one more commit; return the URL nbgitpuller clones.

    The first time, the working copy ``state/edition`` and the bare repository
    ``state/published/health-ai-fairness-learner`` are created.  After that each call commits the
    current edition on top of the last one (nothing if it has not changed) and pushes it, so learners
    who follow the link again get the change merged into their copy.

    Parameters
    ----------
    state : path
        The class's folder.

    Returns
    -------
    str
        The published repository's ``file://`` URL, the ``repo`` of the nbgitpuller link.
    """
    state = Path(state).resolve()
    published = state / "published" / EDITION_NAME
    if not published.exists():
        published.parent.mkdir(parents=True, exist_ok=True)
        _git(state, "init", "--quiet", "--bare", "--initial-branch=main", str(published))
    edition = state / "edition"
    learner_edition.export(edition, force=edition.exists())
    if "origin" not in _git(edition, "remote").split():
        _git(edition, "remote", "add", "origin", str(published))
    _git(edition, "push", "--quiet", "origin", "main")
    return published.as_uri()


def prepare_learner_environment(learner_env: str | os.PathLike, edition: str | os.PathLike) -> None:
    """Install the published edition's ``course_utils`` into the learners' environment; set JupyterLab's defaults.

    The package is reinstalled only when the edition's package, data or pins changed.  It is built
    from the committed edition with the instructor's own setuptools (no download), and installed
    without dependencies: those come from ``deploy/singleuser/requirements.txt``.

    Raises
    ------
    RuntimeError
        If the environment has not been built (``make hub-deps``).
    """
    learner_env, edition = Path(learner_env).resolve(), Path(edition).resolve()
    if not (learner_env / "bin" / "jupyterhub-singleuser").is_file():
        raise RuntimeError(f"The learners' environment {learner_env} is missing or incomplete: run `make hub-deps` "
                           "(it installs deploy/singleuser/requirements.txt there).")
    stamp = learner_env / ".course-edition"
    version = _git(edition, "rev-parse", "HEAD:course_utils", "HEAD:data", "HEAD:pyproject.toml")
    if not stamp.is_file() or stamp.read_text() != version:
        with tempfile.TemporaryDirectory() as scratch:
            source, wheels = Path(scratch) / "edition", Path(scratch) / "wheels"
            source.mkdir()
            # The committed edition, not the working copy: what learners pull is what their kernels import.
            archive = subprocess.run(["git", "archive", "HEAD"], cwd=edition, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
            _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                 "--wheel-dir", str(wheels), str(source))
            _run(str(learner_env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                 "--force-reinstall", *map(str, wheels.glob("*.whl")))
        stamp.write_text(version)
    settings = learner_env / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2) + "\n")


def configure(state: str | os.PathLike, learner_env: str | os.PathLike, *, port: int = 8000, ip: str = "127.0.0.1",
              password: str | None = None) -> ClassHub:
    """Publish the edition, prepare the learners' environment and write JupyterHub's configuration.

    Parameters
    ----------
    state : path
        The class's folder (created if needed); keep it between sessions, it holds learners' homes.
    learner_env : path
        The learners' environment (``make hub-deps`` builds ``.venv-learner``).
    port : int
        The port learners connect to.
    ip : str
        The address to listen on: ``127.0.0.1`` (this machine only) unless learners connect from others.
    password : str, optional
        The shared workshop password, at least 8 characters; a new random one if not given.

    Raises
    ------
    ValueError
        For a short password or a port out of range.
    RuntimeError
        If the proxy or the learners' environment is not installed (``make hub-deps``).
    """
    if password is None:
        password = secrets.token_urlsafe(9)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The workshop password must have at least {MIN_PASSWORD_LENGTH} characters; "
                         f"it has {len(password)}.")
    if not 0 < int(port) < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}.")
    if not os.access(PROXY, os.X_OK):
        raise RuntimeError(f"JupyterHub's proxy is not installed ({PROXY}): run `make hub-deps` (npm ci).")
    state = Path(state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    learner_env = Path(learner_env).resolve()
    repo_url = publish(state)
    prepare_learner_environment(learner_env, state / "edition")
    settings = {
        "state": str(state), "ip": ip, "port": int(port), "password": password,
        "learner_env": str(learner_env), "proxy": str(PROXY), "path": os.environ.get("PATH", "/usr/bin:/bin"),
        # The hub's and the proxy's own API ports: free ones, so that two hubs (or a test) never collide.
        "hub_port": _free_port(), "proxy_api_port": _free_port(), "as_root": os.geteuid() == 0,
    }
    settings_file = state / "hub-settings.json"
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    settings_file.chmod(0o600)  # it holds the password
    shutil.copyfile(CONFIG_TEMPLATE, state / "jupyterhub_config.py")
    for folder in ("homes", "hand-ins"):
        (state / folder).mkdir(exist_ok=True)
    return ClassHub(state=state, url=f"http://{ip}:{port}", repo_url=repo_url, password=password)


def describe(hub: ClassHub) -> str:
    """What the instructor needs: the address, the link to hand out, the password, and where things are."""
    return "\n".join([
        f"The class's JupyterHub is starting at {hub.url} (Ctrl+C stops it and every learner's server).",
        "",
        "Hand out this link: it logs a learner in, clones the learner edition into their home folder "
        "(or merges your updates into it) and opens notebook 00:",
        f"  {hub.link}",
        f"Workshop password: {hub.password}   (any learner name; for local trials only: anyone with the "
        "password can log in as any learner)",
        "",
        f"Learners' homes:  {hub.homes}/<name>/{EDITION_NAME}",
        f"Hand-ins:         learners run `course submit 01 --out {hub.hand_ins}` in a JupyterLab terminal, in "
        f"their {EDITION_NAME} folder;",
        f"                  then grade with `make grade SUBMISSIONS={hub.hand_ins} NOTEBOOK=01`.",
        "A fix:            edit solutions/, `make release`, then `make hub-publish` (the hub keeps running);",
        "                  learners get it by following the link again, their own edits kept.",
    ])


def serve(hub: ClassHub) -> None:
    """Replace this process with JupyterHub on ``hub``'s configuration (returns only if that fails)."""
    jupyterhub = Path(sys.executable).with_name("jupyterhub")
    os.chdir(hub.state)
    # Every process of this class (hub, proxy, learners' servers and kernels) carries the state folder in
    # its environment, so that whoever stops the hub can find any process left behind.
    os.environ["COURSE_HUB_STATE"] = str(hub.state)
    os.execv(str(jupyterhub), [str(jupyterhub), "--config", str(hub.config)])


def memory_quantity(mb: float) -> str:
    """A measured memory figure in MB (10^6 bytes) rounded up to the next tenth of a GB, as Kubernetes writes it.

    Examples
    --------
    >>> memory_quantity(1234), memory_quantity(1200), memory_quantity(987)
    ('1.3G', '1.2G', '1G')
    """
    return f"{math.ceil(mb / 100) / 10:g}G"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _git(cwd: Path, *args: str) -> str:
    return _run("git", *args, cwd=cwd)


def _run(*command: str, cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command[:4])} ...` failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout.strip()
