"""A fresh kernel for each hand-in, sandboxed and limited: forked from a warm template, or started cold.

Every hand-in gets a kernel of its own, in a bubblewrap sandbox of its own (:mod:`sandbox`), under
its own resource limits (:mod:`limits`), in a temporary folder of its own.  The kernel starts one
of two ways:

* **warm** (the default where bubblewrap runs): a :class:`WarmTemplate` -- one Python process per class
  that imported the notebook's modules once and never runs learner code -- forks a copy straight
  into the hand-in's sandbox (:mod:`kernel_template` says how, and why nothing crosses between
  hand-ins).  The hand-in then skips the ~1.6 s of processor time a new Python spends starting
  ipykernel and importing pandas, scikit-learn and matplotlib.
* **cold**: a new Python inside the sandbox (``python -m ipykernel_launcher``).  Used without
  bubblewrap, with ``cold=True`` (``course grade --cold-start``), and whenever the template cannot
  start or cannot enter a sandbox (the first failure turns warm starts off for the class).

:class:`KernelStarter` gives nbclient a kernel manager for one hand-in's folder either way.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from course_utils.instructor import limits as resource_limits
from course_utils.instructor import sandbox

TEMPLATE_SCRIPT = Path(__file__).resolve().parent / "kernel_template.py"
# What the judge's harness imports in every graded cell (reading Parquet inputs, writing JSON): the template
# imports them once too.
HARNESS_IMPORTS = ["course_utils.exercises._harness", "course_utils.exercises.questions", "fastparquet"]
KERNEL_OPTIONS = ["--HistoryManager.enabled=False", "--log-level=ERROR"]  # for cold and warm kernels alike
TEMPLATE_READY_SECONDS = 120    # importing the notebook's modules; several times the ~2 s it takes alone
PLACEHOLDER_SECONDS = 60        # bubblewrap setting up a hand-in's sandbox; the template forking a kernel into it


# --- the hand-in's folder and environment ------------------------------------------------------------

def make_folder(folder: Path) -> None:
    """``run/`` (the kernel's connection sockets, shared with the grader) and ``work/``, ``home/``, ``tmp/``,
    ``matplotlib/`` (the hand-in's own; in a sized sandbox they are a tmpfs instead)."""
    for name in ("run", "work", "home", "tmp", "matplotlib"):
        (folder / name).mkdir(exist_ok=True)
    _copy_font_cache(folder / "matplotlib")


def kernel_environment(folder: Path, package_dir: Path) -> dict[str, str]:
    """A small, fixed environment for the kernel: nothing of the instructor's leaks in.

    ``PYTHONPATH`` puts the learner edition's package first, ahead of the instructor's own
    (installed in the environment the kernel runs from).
    """
    home = folder / "home"
    environment = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home), "TMPDIR": str(folder / "tmp"), "MPLCONFIGDIR": str(folder / "matplotlib"),
        "IPYTHONDIR": str(home / ".ipython"), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "agg",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # one core per hand-in
        "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",  # TensorFlow sizes its own pools
        "PYTHONPATH": str(package_dir),
    }
    if os.environ.get("COURSE_DATA_DIR"):
        environment["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
    return environment


def _copy_font_cache(target: Path) -> None:
    """Give matplotlib the instructor's font list so each fresh kernel does not rebuild it (~2 s)."""
    cache = Path(os.environ.get("MPLCONFIGDIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                 / "matplotlib")
    for font_list in cache.glob("fontlist-*.json"):
        shutil.copy2(font_list, target / font_list.name)


#: The course's lazy loaders and the module each imports: a notebook that calls one imports that module too, only
#: later (``load_shap()`` spares learners shap's 1-2 s until section 5; ``load_keras()`` imports TensorFlow with the
#: course's switches), so the template imports it as well.
LAZY_LOADERS = {"load_shap": "shap", "load_keras": "course_utils._tensorflow"}


def notebook_imports(notebook) -> list[str]:
    """The modules a notebook imports at the top level of its code cells, in order (for the template).

    A call of one of the course's lazy loaders (:data:`LAZY_LOADERS`) counts as the import it makes.

    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("import numpy as np\\nfrom sklearn.metrics import roc_auc_score\\n%matplotlib inline")
    >>> notebook_imports(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("shap = load_shap()")]))
    ['numpy', 'sklearn.metrics', 'shap']
    """
    modules = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                modules += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.append(node.module)
        modules += [LAZY_LOADERS[node.func.id] for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name) and node.func.id in LAZY_LOADERS]
    return list(dict.fromkeys(modules))


def unheld_limits(use_sandbox: bool) -> list[str]:
    """The limits of :mod:`~course_utils.instructor.limits` that cannot hold on this machine, in words."""
    notes = []
    groups = resource_limits.ProcessCgroups()
    counted = groups.available or (use_sandbox and resource_limits.nproc_counts_only_the_sandbox())
    groups.close()
    if not counted:
        notes.append("processes and threads are not capped here: no pids cgroup could be made, and RLIMIT_NPROC "
                     "counts only inside bubblewrap, for a user other than root, on Linux 5.14 or newer.")
    if not use_sandbox:
        notes.append("without bubblewrap only each file's size is capped, not the folder's.")
    elif not sandbox.sandbox_status().sized_folders:
        notes.append("this bubblewrap cannot size a folder (--size needs 0.8 or newer): only each file's size is "
                     "capped, not the folder's.")
    return notes


# --- the warm template ------------------------------------------------------------------------------

class WarmTemplate:
    """The class's template process (see :mod:`kernel_template`); it starts importing at once.

    ``folder`` holds its own HOME and matplotlib settings; each sandbox shows that folder read-only,
    so paths the template's modules remember stay valid in every kernel.
    """

    def __init__(self, modules: list[str], package_dir: Path, folder: Path):
        self.folder = Path(folder)
        make_folder(self.folder)
        self._lock = threading.Lock()
        self.problem: str | None = None
        self._ready: bool | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-s", str(TEMPLATE_SCRIPT), json.dumps(modules)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=self.folder / "work",
            env=kernel_environment(self.folder, package_dir))

    def _reply(self, seconds: float) -> dict:
        """The template's next line; a template silent for ``seconds`` is stopped (and warm starts end)."""
        timer = threading.Timer(seconds, self.process.kill)
        timer.start()
        try:
            line = self.process.stdout.readline()
        finally:
            timer.cancel()
        if not line:
            raise RuntimeError(f"the kernel template stopped (exit code {self.process.poll()})")
        return json.loads(line)

    def ready(self) -> bool:
        """Wait for the template's imports; False (and ``problem`` says why) if it cannot serve."""
        with self._lock:
            if self._ready is None:
                try:
                    answer = self._reply(TEMPLATE_READY_SECONDS)
                    self._ready = bool(answer.get("ready"))
                    self.problem = None if self._ready else answer.get("reason", "not ready")
                except (RuntimeError, ValueError) as error:
                    self._ready, self.problem = False, str(error)
            return self._ready

    def fork_kernel(self, holder: int, request: dict) -> None:
        """Fork a kernel into the sandbox whose placeholder process is ``holder``; raise if it could not."""
        if not self.ready():
            raise RuntimeError(self.problem)
        with self._lock:
            self.process.stdin.write(json.dumps({**request, "holder": holder}) + "\n")
            self.process.stdin.flush()
            answer = self._reply(PLACEHOLDER_SECONDS)
        if not answer.get("ok"):
            raise RuntimeError(answer.get("error", "the template gave no reason"))

    def close(self) -> None:
        """Stop the template (kernels it started live on in their own sandboxes until the grader stops them)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


# --- kernel managers -----------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def _placeholder_of(process: subprocess.Popen, program: str) -> int:
    """The pid of ``program`` once bubblewrap (``process``) has set the sandbox up and started it."""
    deadline = time.monotonic() + PLACEHOLDER_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        for init in _children(process.pid):
            for child in _children(init) + [init]:
                try:
                    if os.path.basename(os.readlink(f"/proc/{child}/exe")) == program:
                        return child
                except OSError:
                    pass
        await asyncio.sleep(0.002)
    raise RuntimeError(f"the sandbox did not start (exit code {process.poll()})")


def _manager_class():
    from jupyter_client import AsyncKernelManager

    class HandInKernelManager(AsyncKernelManager):
        """Keeps the launched process (its exit status tells a CPU-time stop) and, for a warm start,
        has the template fork the kernel into the sandbox just launched."""

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            await super()._async_launch_kernel(kernel_cmd, **kw)
            self.launched = self.provisioner.process
            self.started = "cold"
            if self.warm_request is None:
                return
            try:
                holder = await _placeholder_of(self.launched, self.placeholder)
                self.template.fork_kernel(holder, {**self.warm_request, "connection_file": self.connection_file})
                self.started = "warm"
            except (OSError, RuntimeError, ValueError) as error:
                self.on_warm_failure(error)
                self.launched.kill()
                self.launched.wait()
                cold = [part.replace("{connection_file}", self.connection_file) for part in self.cold_command]
                await super()._async_launch_kernel(cold, **kw)
                self.launched = self.provisioner.process

    return HandInKernelManager


class KernelStarter:
    """Kernel managers for a class's hand-ins, sandboxed and limited; warm where it works.

    Parameters
    ----------
    package_dir : path
        The folder holding the learner edition's ``course_utils``.
    notebook : NotebookNode, optional
        The notebook graded (its imports are what the template imports).
    use_sandbox : bool
        Run each kernel in bubblewrap.
    cold : bool
        Start every kernel cold (no template).
    scratch : path, optional
        Where the template keeps its own folder (default: a temporary folder).
    """

    def __init__(self, package_dir: Path, notebook=None, use_sandbox: bool = True, cold: bool = False,
                 scratch: Path | None = None):
        self.package_dir = Path(package_dir)
        self.use_sandbox = use_sandbox
        self.status = sandbox.sandbox_status()
        self.cgroups = resource_limits.ProcessCgroups()
        self.nproc = use_sandbox and resource_limits.nproc_counts_only_the_sandbox()
        self.placeholder = shutil.which("sleep")
        self.template: WarmTemplate | None = None
        self.warm_problem: str | None = "cold start asked for" if cold else None
        if use_sandbox and not cold and notebook is not None and self.placeholder:
            folder = Path(scratch or self.package_dir.parent) / "kernel-template"
            folder.mkdir(parents=True, exist_ok=True)
            self.template = WarmTemplate(notebook_imports(notebook) + HARNESS_IMPORTS, self.package_dir, folder)
        elif self.warm_problem is None:
            self.warm_problem = "no sandbox" if not use_sandbox else "no template"

    @property
    def warm(self) -> bool:
        """Whether kernels still start warm (False once the template failed)."""
        return self.template is not None and self.warm_problem is None

    def _warm_failed(self, error) -> None:
        self.warm_problem = f"{type(error).__name__}: {error}"

    def manager(self, folder: Path, limits: resource_limits.Limits, readable=()):
        """A kernel manager whose kernel starts in ``folder``, sandboxed and under ``limits``.

        ``readable``: more folders the sandbox shows read-only (the judge's cases).
        """
        from jupyter_client.kernelspec import KernelSpecManager

        make_folder(folder)
        run = folder / "run"
        environment = kernel_environment(folder, self.package_dir)
        warm = self.warm
        cgroup = self.cgroups.create(limits.processes)
        cold = self._limited([sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", *KERNEL_OPTIONS],
                             folder, environment, limits, cgroup, warm, readable)
        command = (self._limited([self.placeholder, "infinity"], folder, environment, limits, cgroup, warm, readable)
                   if warm else cold)
        spec_dir = run / "kernels" / "course-grader"
        spec_dir.mkdir(parents=True, exist_ok=True)
        (spec_dir / "kernel.json").write_text(json.dumps(
            {"argv": command, "display_name": "course grader", "language": "python",
             "env": {} if self.use_sandbox else environment}))  # bubblewrap sets the sandbox's environment itself
        manager = _manager_class()(
            kernel_name="course-grader", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(run / "kernels")]),
            connection_file=str(run / "connection.json"),
            # Unix sockets: a sandboxed kernel has no network to listen on.
            transport="ipc", ip=str(run / "kernel"))
        manager.cgroup, manager.cold_command, manager.template = cgroup, cold, self.template
        manager.placeholder, manager.on_warm_failure = os.path.basename(self.placeholder or "sleep"), self._warm_failed
        manager.warm_request = ({"cwd": str(folder / "work"), "env": environment, "limits": asdict(limits),
                                 "cgroup": cgroup, "nproc": self.nproc, "placeholder": manager.placeholder,
                                 "kernel_options": KERNEL_OPTIONS} if warm else None)
        return manager

    def _limited(self, command, folder, environment, limits, cgroup, warm, extra=()) -> list[str]:
        """``command`` in the hand-in's sandbox (when there is one), started under its limits."""
        if self.use_sandbox:
            readable = (sandbox.python_paths() + [self.package_dir] + ([self.template.folder] if warm else [])
                        + [Path(path) for path in extra])
            writable, scratch = folder, None
            if self.status.sized_folders:
                writable = folder / "run"
                scratch = sandbox.Scratch(folder, limits.disk,
                                          tuple(folder / name for name in ("work", "home", "tmp", "matplotlib")),
                                          tuple(sorted((folder / "matplotlib").glob("fontlist-*.json"))))
            command = sandbox.bubblewrap_argv(command, writable, readable=readable, environment=environment,
                                              bwrap=shutil.which("bwrap"), cwd=folder / "work", scratch=scratch)
        return resource_limits.launcher_argv(command, limits, cgroup, self.nproc)

    def release(self, manager) -> None:
        """After a hand-in: remove its cgroup (its processes are gone with its sandbox)."""
        self.cgroups.remove(getattr(manager, "cgroup", None))

    def close(self) -> None:
        if self.template is not None:
            self.template.close()
        self.cgroups.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
