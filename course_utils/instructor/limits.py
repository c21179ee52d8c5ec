"""Resource limits for one hand-in: memory, processes and threads, folder size, processor time.

Every hand-in's kernel runs under limits the operating system enforces, so a notebook that
allocates 10 GB, starts processes in a loop or fills the disk stops there, alone:

* **memory** -- ``RLIMIT_DATA`` on each process of the hand-in (default 2 GB): an allocation past
  it fails and Python raises ``MemoryError`` in the cell that asked for it.
* **processes and threads** -- a ``pids`` cgroup where the grader may create one (Linux; as root,
  or in a delegated cgroup), and ``RLIMIT_NPROC`` inside the sandbox's user namespace (Linux 5.14
  and newer count only the sandbox's own tasks there; root is exempt from it, hence the cgroup).
  Past the cap, starting a process or a thread fails.
* **folder size** -- in the bubblewrap sandbox the hand-in's working folder, ``HOME`` and ``TMPDIR``
  are one tmpfs of limited size (bubblewrap ``--size``, default 512 MB); ``RLIMIT_FSIZE`` caps any
  one file as well, sandbox or not.
* **processor time** -- ``RLIMIT_CPU`` per process (the grader's default: twice the notebook's
  wall-clock limit): past it the kernel receives ``SIGXCPU`` and stops.

The grader starts each sandbox through this file run as a script
(``python -I -S limits.py SPEC -- COMMAND...``): it joins the cgroup, sets the limits and replaces
itself with ``COMMAND``, so every process of the hand-in inherits them.  This module therefore
imports only the standard library.

Examples
--------
>>> parse_size("2G"), parse_size("512 MB"), parse_size("1.5g")
(2147483648, 536870912, 1610612736)
>>> format_size(2 * 1024 ** 3), format_size(512 * 1024 ** 2)
('2 GB', '512 MB')
>>> breach_of_error("MemoryError", "Unable to allocate 74.5 GiB for an array")
'memory'
>>> breach_of_error("OSError", "[Errno 28] No space left on device"), breach_of_error("ValueError", "bad")
('disk', None)
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

MB = 1024 ** 2
GB = 1024 ** 3
DEFAULT_MEMORY = 2 * GB       # the measure: a notebook of the course peaks below 1 GB
DEFAULT_PROCESSES = 256       # processes and threads together; a kernel alone runs about a dozen threads
DEFAULT_DISK = 512 * MB       # the working folder, HOME and TMPDIR together; the course writes a few MB
CPU_GRACE_SECONDS = 5         # after SIGXCPU, SIGKILL follows this much later if the process ignored it

# What a breached limit looks like from inside the kernel: the exception a cell raises.
_ERRNO = re.compile(r"\[Errno (\d+)\]")
_DISK_ERRNOS = {28, 27, 122}  # ENOSPC (folder full), EFBIG (file too large), EDQUOT
_PROCESS_ERRNOS = {11}        # EAGAIN from fork/clone past the process cap
BREACHES = ("memory", "processes", "disk", "cpu")


@dataclass(frozen=True)
class Limits:
    """The limits of one hand-in: bytes of memory per process, tasks, bytes of folder, seconds of CPU."""

    memory: int = DEFAULT_MEMORY
    processes: int = DEFAULT_PROCESSES
    disk: int = DEFAULT_DISK
    cpu_seconds: int = 180

    def __post_init__(self):
        for name, smallest in (("memory", 64 * MB), ("processes", 16), ("disk", MB), ("cpu_seconds", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < smallest:
                raise ValueError(f"{name} must be a whole number of at least {smallest}; got {value!r}.")

    def describe(self) -> str:
        """One line for the terminal and the README's words."""
        return (f"{format_size(self.memory)} of memory per process, {self.processes} processes and threads, "
                f"{format_size(self.disk)} of files, {self.cpu_seconds} s of processor time per process")


def parse_size(text: str | int) -> int:
    """Bytes in ``"2G"``, ``"512M"``, ``"2 GB"`` or a plain number of bytes (binary multiples)."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", str(text), re.IGNORECASE)
    if not match:
        raise ValueError(f"Give a size like 2G, 512M or 1.5GB; got {text!r}.")
    number, unit = match.groups()
    return int(float(number) * 1024 ** "bkmgt".index((unit or "b").lower()))


def format_size(size: int) -> str:
    """``2 GB``, ``512 MB``: the largest unit the size is a whole multiple of (or one decimal)."""
    for unit, name in ((GB, "GB"), (MB, "MB"), (1024, "KB")):
        if size >= unit:
            value = size / unit
            return f"{value:g} {name}" if value == int(value) else f"{value:.1f} {name}"
    return f"{size} bytes"


# --- setting the limits: in the process that becomes the sandbox ---------------------------------

def nproc_counts_only_the_sandbox() -> bool:
    """Whether ``RLIMIT_NPROC`` set here would count only a user namespace's own tasks.

    Linux 5.14 moved the count to per-user-namespace counters.  Root is exempt from the limit, and
    on older kernels it counts every process the user runs, so it is not set there.
    """
    if not sys.platform.startswith("linux") or os.geteuid() == 0:
        return False
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return bool(found) and tuple(map(int, found.groups())) >= (5, 14)


def apply(limits: Limits, cgroup: str | None = None, nproc: bool = False) -> None:
    """Put this process in ``cgroup`` (a pids cgroup folder) and set its resource limits.

    Children inherit both.  ``nproc`` also sets ``RLIMIT_NPROC`` (see :func:`nproc_counts_only_the_sandbox`).
    """
    if cgroup:
        Path(cgroup, "cgroup.procs").write_text(str(os.getpid()))
    for name, soft, hard in (("RLIMIT_DATA", limits.memory, limits.memory),
                             ("RLIMIT_FSIZE", limits.disk, limits.disk),
                             ("RLIMIT_CPU", limits.cpu_seconds, limits.cpu_seconds + CPU_GRACE_SECONDS),
                             ("RLIMIT_CORE", 0, 0)):
        if hasattr(resource, name):
            resource.setrlimit(getattr(resource, name), (soft, hard))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def launcher_argv(command: list[str], limits: Limits, cgroup: str | None = None, nproc: bool = False) -> list[str]:
    """``command`` started under ``limits``: this file run by the grader's Python, without site-packages."""
    spec = json.dumps({"limits": asdict(limits), "cgroup": cgroup, "nproc": nproc})
    return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), spec, "--", *command]


def _launch(argv: list[str]) -> None:
    spec, separator, *command = argv
    if separator != "--" or not command:
        raise SystemExit("usage: limits.py SPEC -- COMMAND [ARG...]")
    spec = json.loads(spec)
    apply(Limits(**spec["limits"]), spec.get("cgroup"), spec.get("nproc", False))
    os.execvp(command[0], command)


# --- pids cgroups ---------------------------------------------------------------------------------

class ProcessCgroups:
    """One pids cgroup per hand-in, in a folder of this grader's, where the system lets it make them.

    It tries, in order, the grader's own cgroup and the root of the pids hierarchy (cgroup v1 or v2),
    and is ``available`` when one of them accepts a new group.  Groups are removed after use; groups
    left by a grader that was killed are removed the next time.
    """

    PREFIX = "course-grading-"

    def __init__(self):
        self.base: Path | None = None
        self._count = 0
        for candidate in _pids_cgroup_candidates():
            _remove_stale(candidate, self.PREFIX)
            folder = candidate / f"{self.PREFIX}{os.getpid()}"
            try:
                folder.mkdir()
            except OSError:
                continue
            if _enable_pids(folder):
                self.base = folder
                break
            _rmdir(folder)

    @property
    def available(self) -> bool:
        return self.base is not None

    def create(self, max_tasks: int) -> str | None:
        """A new, empty group allowing ``max_tasks`` processes and threads; None where there are no cgroups."""
        if self.base is None:
            return None
        self._count += 1
        group = self.base / f"hand-in-{self._count}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(max_tasks))
        except OSError:
            _rmdir(group)
            return None
        return str(group)

    def remove(self, group: str | None, wait_seconds: float = 5.0) -> None:
        """Remove ``group`` once its processes are gone (they die with the sandbox; stragglers are killed)."""
        if group:
            _remove_group(Path(group), wait_seconds)

    def close(self) -> None:
        if self.base is not None:
            for group in self.base.iterdir() if self.base.exists() else ():
                if group.is_dir():
                    _remove_group(group, 1.0)
            _rmdir(self.base)
            self.base = None


def _pids_cgroup_candidates() -> list[Path]:
    """Folders under which a pids group may be made: the grader's own cgroup, then the hierarchy's root."""
    if not sys.platform.startswith("linux"):
        return []
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    roots = {}
    for line in mounts:
        fields = line.split()
        dash = fields.index("-")
        kind, options = fields[dash + 1], fields[-1].split(",")
        if kind == "cgroup" and "pids" in options:
            roots["pids"] = Path(fields[4])
        elif kind == "cgroup2":
            roots.setdefault("unified", Path(fields[4]))
    candidates = []
    for line in memberships:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(",") and "pids" in roots:
            root = roots["pids"]
        elif controllers == "" and "unified" in roots and "pids" in _read(roots["unified"] / "cgroup.controllers"):
            root = roots["unified"]
        else:
            continue
        candidates += [root / path.lstrip("/"), root]
    return [path for index, path in enumerate(candidates) if path not in candidates[:index]]


def _enable_pids(folder: Path) -> bool:
    """Make ``folder``'s children pids-limited groups (cgroup v2 needs it said; v1 has it already)."""
    controllers = folder / "cgroup.subtree_control"
    if controllers.exists():
        try:
            controllers.write_text("+pids")
        except OSError:
            return False
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _rmdir(folder: Path) -> bool:
    try:
        folder.rmdir()
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _remove_group(group: Path, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not _rmdir(group):
        if time.monotonic() > deadline:
            for pid in _read(group / "cgroup.procs").split():  # only this hand-in's processes are in it
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            if time.monotonic() > deadline + 2:
                return  # left for the next run to remove
        time.sleep(0.02)


def _remove_stale(parent: Path, prefix: str) -> None:
    """Remove groups of graders that no longer run (killed before they could clean up)."""
    try:
        stale = [folder for folder in parent.glob(f"{prefix}*")
                 if folder.name[len(prefix):].isdigit() and not Path(f"/proc/{folder.name[len(prefix):]}").exists()]
    except OSError:
        return
    for folder in stale:
        for group in [path for path in folder.iterdir() if path.is_dir()]:
            _remove_group(group, 0.5)
        _rmdir(folder)


# --- what a breached limit looks like, in a learner's words ------------------------------------------

def breach_of_error(ename: str, evalue: str) -> str | None:
    """Which limit a cell's exception shows was reached (``"memory"``, ``"processes"``, ``"disk"``), if any."""
    if ename == "MemoryError":
        return "memory"
    if ename == "RuntimeError" and "can't start new thread" in evalue:
        return "processes"
    errno = _ERRNO.search(evalue or "")
    if errno and ename in ("OSError", "BlockingIOError", "IOError", "PermissionError"):
        if int(errno.group(1)) in _DISK_ERRNOS:
            return "disk"
        if int(errno.group(1)) in _PROCESS_ERRNOS:
            return "processes"
    return None


def breach_of_exit(returncode: int | None) -> str | None:
    """``"cpu"`` when the kernel (or the sandbox that reports its status) was stopped by ``SIGXCPU``."""
    xcpu = getattr(signal, "SIGXCPU", None)
    if xcpu is not None and returncode in (-xcpu, 128 + xcpu):
        return "cpu"
    return None


def breach_message(breach: str, limits: Limits, where: str) -> str:
    """What a learner reads when their notebook reached a limit ``where`` (e.g. "in cell 3 (`x = ...`)")."""
    text = {
        "memory": f"Your notebook tried to use more than {format_size(limits.memory)} of memory",
        "processes": f"Your notebook started more than {limits.processes} processes or threads",
        "disk": f"Your notebook wrote more than {format_size(limits.disk)} of files",
        "cpu": f"Your notebook used more than {limits.cpu_seconds} s of processor time",
    }[breach]
    advice = {
        "memory": "Work on a sample or free what you no longer need (del, smaller data types).",
        "processes": "Start processes or threads in a bounded number (n_jobs=1 is enough here).",
        "disk": "Save only small results; nothing needs large files.",
        "cpu": "Look for a loop that never ends or a very slow step.",
    }[breach]
    return (f"{text}, the limit for one hand-in, {where}, so it was stopped there: questions after that cell "
            f"score 0. {advice}")


if __name__ == "__main__":
    _launch(sys.argv[1:])
