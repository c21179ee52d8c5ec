"""The warm kernel template: a Python process with a notebook's imports done that forks one fresh
kernel per hand-in, straight into that hand-in's bubblewrap sandbox.

Starting a kernel and importing pandas, scikit-learn, matplotlib and the course package costs a
fresh Python about 1.6 s of processor time per hand-in -- half of what grading notebook 01 costs.
This process pays it once per class.  For each hand-in the grader first starts the hand-in's own
sandbox with bubblewrap, holding only a placeholder program; then it asks this template for a
kernel.  The template forks a copy of itself which, before anything of the hand-in runs:

1. joins the hand-in's pids cgroup and takes its resource limits (:mod:`limits`);
2. enters every namespace of the placeholder -- user, mount, network, IPC, UTS, cgroup, PID -- and
   its root folder, as ``nsenter`` does: it now sees exactly what the sandbox shows, and the
   template's world is gone;
3. drops every capability and sets ``no_new_privs``, as bubblewrap does for its own child;
4. forks the kernel, which closes every inherited file, takes the hand-in's environment and
   starts ipykernel on the hand-in's connection file.

The template itself never runs learner code: a kernel starts from its pristine state (modules
imported, nothing executed), and nothing one hand-in does can reach the next.  When the kernel
ends, its parent stops the placeholder, so the grader sees the kernel die as it would see a cold one.

This file runs as a script in the kernel's environment (the learner edition's ``course_utils`` on
``PYTHONPATH``), so it imports nothing of the instructor tools but :mod:`limits`, by path.

Protocol, one JSON object per line: the template first writes ``{"ready": true}`` (or ``false`` with a
``reason``); then, for each request ``{"holder": PID, "placeholder": "sleep", "connection_file": ...,
"kernel_options": [...], "cwd": ..., "env": {...}, "limits": {...}, "cgroup": ..., "nproc": ...}`` on its standard input, one reply ``{"ok": true}`` or
``{"ok": false, "error": ...}``.
"""

import ctypes
import gc
import importlib
import importlib.util
import json
import os
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The instructor tools' folder is the script's folder, first on sys.path: no kernel may import from it.
sys.path[:] = [entry for entry in sys.path if entry and Path(entry).resolve() != HERE]

_spec = importlib.util.spec_from_file_location("course_grading_limits", HERE / "limits.py")
limits = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = limits  # dataclasses look their module up there
_spec.loader.exec_module(limits)

_libc = ctypes.CDLL(None, use_errno=True)
# setns(2) flags, in the order a process must join: its user namespace first, its PID namespace last.
NAMESPACES = (("user", 0x10000000), ("mnt", 0x00020000), ("net", 0x40000000), ("ipc", 0x08000000),
              ("uts", 0x04000000), ("cgroup", 0x02000000), ("pid", 0x20000000))
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 24, 38, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _die_with_parent() -> None:
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def _drop_privileges(last_capability: int) -> None:
    """No capability in any set, none to regain by exec, and no new privileges ever (as bubblewrap does)."""
    for capability in range(last_capability + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "prctl(PR_CAPBSET_DROP)")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT)")
    _check(_libc.capset(ctypes.byref(_CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)), (_CapData * 2)()), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def _enter_sandbox(holder: int, cwd: str) -> None:
    """Join every namespace and the root folder of the sandbox process ``holder``; drop all privileges."""
    last_capability = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    joins = []
    for name, flag in NAMESPACES:
        theirs = f"/proc/{holder}/ns/{name}"
        if not os.path.exists(theirs):
            continue  # a namespace kind this kernel does not have
        descriptor = os.open(theirs, os.O_RDONLY)
        if os.fstat(descriptor).st_ino == os.stat(f"/proc/self/ns/{name}").st_ino:
            os.close(descriptor)  # already shared (bubblewrap did not make one of this kind)
            continue
        joins.append((name, flag, descriptor))
    root = os.open(f"/proc/{holder}/root", os.O_RDONLY | os.O_DIRECTORY)
    if not any(name == "mnt" for name, _, _ in joins):
        raise OSError(f"process {holder} is not in a sandbox of its own")
    for name, flag, descriptor in joins:
        _check(_libc.setns(descriptor, flag), f"setns({name})")
        os.close(descriptor)
    os.fchdir(root)
    _check(_libc.chroot(b"."), "chroot")
    os.close(root)
    os.chdir(cwd)
    _drop_privileges(last_capability)


def _run_kernel(request: dict) -> None:
    """In the sandbox: become a fresh kernel on the hand-in's connection file (never returns)."""
    os.setsid()
    _die_with_parent()
    devnull = os.open("/dev/null", os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(devnull, descriptor)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the template's pipes, the placeholder's pidfd, everything
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    import tempfile

    tempfile.tempdir = None  # found again from TMPDIR, the hand-in's own
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()  # the template's global state, drawn once, would repeat in every kernel
    from ipykernel import kernelapp

    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"], *request["kernel_options"]]
    kernelapp.launch_new_instance(argv=sys.argv[1:])
    os._exit(0)


def _become_kernel(request: dict, report: int) -> None:
    """In the forked copy: enter the sandbox, fork the kernel, report, then wait for it to end."""
    _die_with_parent()
    holder = request["holder"]
    placeholder = os.pidfd_open(holder)  # signalled when the kernel ends; a pidfd cannot hit a recycled pid
    if os.path.basename(os.readlink(f"/proc/{holder}/exe")) != request["placeholder"]:
        raise OSError(f"process {holder} is not the sandbox's placeholder")
    limits.apply(limits.Limits(**request["limits"]), request.get("cgroup"), request.get("nproc", False))
    _enter_sandbox(holder, request["cwd"])
    kernel = os.fork()
    if kernel == 0:
        os.close(report)
        _run_kernel(request)
    os.write(report, json.dumps({"ok": True}).encode())
    os.close(report)
    _, status = os.waitpid(kernel, 0)
    # The placeholder ends with the kernel, so the grader sees the sandbox end; SIGXCPU is passed on
    # so that it can tell the learner the processor-time limit stopped the notebook.
    stop = signal.SIGXCPU if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU else signal.SIGKILL
    signal.pidfd_send_signal(placeholder, stop)
    os._exit(0)


def fork_kernel(request: dict, replies) -> dict:
    """Start one hand-in's kernel from this template; the reply for the grader."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reader)
        try:
            os.close(0)  # the grader's requests and the replies are the template's, not the copy's
            os.close(replies.fileno())
            _become_kernel(request, writer)
        except BaseException as error:  # noqa: BLE001 -- reported to the grader, which starts a cold kernel
            os.write(writer, json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}).encode())
        finally:
            os._exit(1)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        text = pipe.read()
    return json.loads(text) if text else {"ok": False, "error": "the kernel's parent ended without a word"}


def _reap() -> None:
    """Collect the forked copies whose kernels have ended."""
    while True:
        try:
            child, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if child == 0:
            return


def _single_threaded() -> bool:
    return len(os.listdir("/proc/self/task")) == 1


def main(modules: list[str]) -> None:
    _die_with_parent()
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing an import prints may reach the replies
    for name in modules + ["ipykernel.kernelapp", "ipykernel.ipkernel"]:  # the kernel app imports the rest lazily
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 -- a module the notebook may not need; the kernel imports it itself
            pass
    gc.collect()
    gc.freeze()  # fewer pages copied in each forked kernel
    if not _single_threaded():
        # fork keeps only the calling thread, and setns refuses a threaded process: never fork from here
        print(json.dumps({"ready": False, "reason": "an imported module started a thread"}), file=replies)
        return
    print(json.dumps({"ready": True}), file=replies)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(fork_kernel(json.loads(line), replies)), file=replies)
        _reap()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
