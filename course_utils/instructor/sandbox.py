"""A bubblewrap sandbox for the Jupyter kernel that runs a learner's submission.

Learner code is untrusted when an instructor grades it: it could read the instructor's solutions,
look at classmates' hand-ins, write outside its folder or talk to the network.  On Linux the grader
starts each submission's kernel inside `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, the Debian package ``bubblewrap``), which sees only:

* read-only: the operating system (``/usr``, ``/lib*``, ``/bin``, a few files of ``/etc``), the
  Python installation and virtual environment, and the learner edition's ``course_utils`` package
  with its data (see :func:`course_utils.instructor.learner_edition.write_package`);
* read-write: the submission's own temporary folder.  Where bubblewrap can size a tmpfs (``--size``,
  bubblewrap 0.8 and newer) its working directory, ``HOME`` and ``TMPDIR`` are a new tmpfs of limited
  size that vanishes with the sandbox (see :mod:`course_utils.instructor.limits`), and only the
  folder with the kernel's connection sockets is shared with the grader;
* no network (its own empty network namespace), no other processes (its own PID namespace), no
  capabilities (``--cap-drop ALL``: a grader run as root would otherwise leave the kernel root inside
  its namespace, able to remount its read-only folders writable), and the sandbox dies with the
  grader (``--die-with-parent``).

The course's ``solutions/``, the other submissions and the instructor's output folder are simply
not there.  The kernel talks to the grader through Unix sockets in the submission's folder, since
it has no network to listen on.  Where ``bwrap`` is missing or cannot run (macOS, Windows, some
containers) :func:`sandbox_status` says why and the grader runs the kernel unsandboxed.

Examples
--------
>>> argv = bubblewrap_argv(["python", "-c", "pass"], writable="/tmp/submission-1")
>>> argv[0], "--unshare-all" in argv, argv[-3:]  # --unshare-all: no network, own PIDs, IPC, hostname
('bwrap', True, ['python', '-c', 'pass'])
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Operating-system folders a Python kernel needs; ``--ro-bind-try`` skips those a system lacks.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Only the files of /etc that Python, NumPy and matplotlib read; nothing with secrets.
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/fonts", "/etc/mime.types", "/etc/ssl/certs")


@dataclass(frozen=True)
class SandboxStatus:
    """Whether learner kernels can be sandboxed here, and why not when they cannot.

    ``sized_folders``: whether this bubblewrap can cap the size of a hand-in's folder (``--size``).
    """

    available: bool
    reason: str
    sized_folders: bool = False

    @property
    def label(self) -> str:
        """The word the gradebook shows: ``"bubblewrap"`` or ``"unsandboxed"``."""
        return "bubblewrap" if self.available else "unsandboxed"


def python_paths() -> list[Path]:
    """The Python installation and the virtual environment the kernel runs from."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.executable).resolve().parent}
    return sorted(paths)


def bubblewrap_argv(command: list[str], writable: str | os.PathLike, readable: list[Path] | None = None,
                    environment: dict[str, str] | None = None, bwrap: str = "bwrap",
                    cwd: str | os.PathLike | None = None, scratch: Scratch | None = None) -> list[str]:
    """The ``bwrap`` command line that runs ``command`` in the sandbox.

    Parameters
    ----------
    command : list of str
        The program and its arguments, as seen inside the sandbox (paths are the same as outside).
    writable : path
        The one host folder the sandboxed program may write (the same path inside).
    readable : list of paths, optional
        Folders to show read-only besides the operating system (default: :func:`python_paths`).
        The grader adds the folder with the learner edition's ``course_utils``.
    environment : dict, optional
        The whole environment inside (the caller's variables do not leak in).
    bwrap : str
        The ``bwrap`` executable.
    cwd : path, optional
        Working directory inside the sandbox (default: ``writable``).
    scratch : Scratch, optional
        A folder that inside the sandbox is a new tmpfs of limited size (``writable`` may lie inside it).
    """
    readable = python_paths() if readable is None else readable
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev"]
    for folder in SYSTEM_DIRS + ETC_FILES:
        argv += ["--ro-bind-try", folder, folder]
    for folder in readable:
        argv += ["--ro-bind", str(folder), str(folder)]
    if scratch is not None:
        argv += ["--size", str(scratch.size), "--tmpfs", str(scratch.path)]
        for folder in scratch.folders:
            argv += ["--dir", str(folder)]
        for file in scratch.files:
            argv += ["--ro-bind", str(file), str(file)]
    argv += ["--bind", str(writable), str(writable), "--chdir", str(cwd or writable)]
    for name, value in (environment or {}).items():
        argv += ["--setenv", name, value]
    # The sandbox's own root is a scratch tmpfs: make it read-only so the only writable places are ours.
    argv += ["--remount-ro", "/", "--"]
    return argv + list(command)


@dataclass(frozen=True)
class Scratch:
    """A tmpfs of at most ``size`` bytes at ``path`` inside the sandbox, with these empty ``folders``
    and these host ``files`` shown read-only (each at the same path, inside ``path``)."""

    path: Path
    size: int
    folders: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()


@functools.cache
def sandbox_status() -> SandboxStatus:
    """Check once per process that bubblewrap exists and really runs a program here."""
    if not sys.platform.startswith("linux"):
        return SandboxStatus(False, f"bubblewrap is Linux-only; this is {sys.platform}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus(False, "bwrap is not installed (Debian package `bubblewrap`; `make system-deps`)")
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"course-sandbox-probe-{os.getpid()}"
    probe.mkdir(parents=True, exist_ok=True)
    try:
        argv = bubblewrap_argv([sys.executable, "-c", "import json"], probe, bwrap=bwrap,
                               environment={"PATH": "/usr/bin:/bin"})
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return SandboxStatus(False, f"bwrap could not start: {error}")
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return SandboxStatus(False, f"bwrap is installed but cannot run here ({why})")
    usage = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=60).stdout
    return SandboxStatus(True, f"bubblewrap ({bwrap})", sized_folders="--size" in usage)
