"""Resource limits per hand-in, and warm kernels that stay fresh: `course grade` on a class whose worst
hand-ins allocate past the memory cap, start processes in a loop, fill their folder or burn processor
time.  Each stops alone with its status and a message a learner understands, questions before that point
keep their points, and the rest of the class grades normally.

Every misbehaving hand-in is bounded by its own code (at most 2 GB, 100 processes, 1 GB of files), so a
limit that failed to hold could not take the machine down: the test would fail instead.
"""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.instructor import gradebook, kernels, limits, sandbox
from faulty_submissions import FULL, RELEASE, _index, _probing, _with_cell_after, answered_release

pytestmark = pytest.mark.slow

LIMITS = limits.Limits(memory=1 * limits.GB, processes=48, disk=256 * limits.MB, cpu_seconds=8)
SECONDS = 90  # wall clock: far above what the processor-time hand-in may use before it is stopped

ALLOCATES = "big = bytearray(2 * 1024 ** 3)  # twice the cap"
SPAWNS = """import subprocess
children = []
for _ in range(100):  # bounded: 100 short sleeps at most, even with no cap at all
    children.append(subprocess.Popen(["sleep", "60"]))"""
FILLS = """for part in range(16):  # bounded: 16 files of 64 MB, 1 GB at most
    with open(f"part-{part}.bin", "wb") as handle:
        handle.write(bytes(64 * 1024 ** 2))"""
BURNS = "while True:\n    pass"

CLASS = {
    "Allocates Too Much": (ALLOCATES, "memory", "more than 1 GB of memory, the limit for one hand-in"),
    "Spawns Processes": (SPAWNS, "resources", "more than 48 processes or threads, the limit"),
    "Fills Its Folder": (FILLS, "resources", "more than 256 MB of files, the limit"),
    "Burns Processor Time": (BURNS, "resources", "more than 8 s of processor time, the limit"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of four hand-ins that each break one limit after exercise 1, and two ordinary learners."""
    if not sandbox.sandbox_status().available:
        pytest.fail(f"The grading sandbox is not available: {sandbox.sandbox_status().reason}.")
    root = tmp_path_factory.mktemp("limits")
    folder = root / "hand-ins"
    folder.mkdir()
    for learner, (code, _, _) in CLASS.items():
        nbformat.write(_with_cell_after("orient-n-patients", code), folder / f"{learner}.ipynb")
    nbformat.write(answered_release(), folder / "Ada.ipynb")
    shutil.copy(RELEASE, folder / "Bo.ipynb")
    results = gradebook.grade_class(folder, "00", root / "grades", jobs=2, seconds=SECONDS, limits=LIMITS,
                                    keep_executed=True, progress=False)
    return {"out": root / "grades", **{result.learner_id: result for result in results}}


@pytest.mark.parametrize("learner", sorted(CLASS))
def test_a_hand_in_past_a_limit_stops_there_with_its_status(graded, learner):
    code, status, words = CLASS[learner]
    result = graded[learner]
    assert result.status == status, result.message
    first_line = code.splitlines()[0][:60]
    assert words in result.message and " in cell " in result.message and f"(`{first_line}`)" in result.message, (
        result.message)
    assert "questions after that cell score 0" in result.message
    # exercise 1 came before the cell that broke the limit: its point stays; the rest never ran
    assert result.scores["orient-n-patients"] == 1 and result.total == 1, result.scores
    assert result.kernel == "warm"


def test_the_rest_of_the_class_grades_normally(graded):
    assert (graded["Ada"].status, graded["Ada"].total) == ("graded", FULL)
    assert (graded["Bo"].status, graded["Bo"].total) == ("graded", 0)


def test_the_statuses_and_messages_reach_the_gradebook_and_feedback(graded):
    with (graded["out"] / "gradebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["learner_id"]: row for row in csv.DictReader(handle)}
    for learner, (_, status, words) in CLASS.items():
        assert (rows[learner]["status"], rows[learner]["total"]) == (status, "1")
        assert words in rows[learner]["message"]
        feedback = (graded["out"] / "feedback" / f"{learner}.md").read_text(encoding="utf-8")
        assert f"**Status:** {status}" in feedback and words in feedback


def test_limits_hold_without_bubblewrap_too(tmp_path):
    """Unsandboxed (macOS, or no bubblewrap), the memory and processor-time limits are rlimits and still hold."""
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(_with_cell_after("orient-n-patients", ALLOCATES), folder / "Allocates Too Much.ipynb")
    (result,) = gradebook.grade_class(folder, "00", tmp_path / "grades", jobs=1, seconds=SECONDS, limits=LIMITS,
                                      use_sandbox=False, progress=False)
    assert (result.status, result.total, result.sandbox) == ("memory", 1, "unsandboxed"), result.message


# --- warm kernels: forked from one template, each fresh and in its own sandbox ---------------------------

LEAVES_TRACES = """import builtins, os, pathlib, subprocess, sys
import numpy
secret_answer = 42
builtins.left_behind = "by the previous hand-in"
numpy.left_behind = "by the previous hand-in"
sys.modules["course_utils"].left_behind = "by the previous hand-in"
for place in ("~/.ipython/profile_default/startup", "/tmp", "."):
    folder = pathlib.Path(place).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "00-left-behind.py").write_text("left_behind = True")
    except OSError:
        pass
subprocess.Popen(["sleep", "300"], start_new_session=True)  # a process that would outlive the notebook
held = True"""

FINDS_NO_TRACES = """import builtins, os, pathlib, sys
import numpy
seen = [name for name in ("secret_answer", "left_behind") if name in globals()]
seen += [f"{holder.__name__}.left_behind" for holder in (builtins, numpy, sys.modules["course_utils"])
         if hasattr(holder, "left_behind")]
seen += [str(path) for place in ("~/.ipython", "/tmp", ".") for path in pathlib.Path(place).expanduser().rglob("00-left-behind.py")]
processes = sorted(int(pid) for pid in os.listdir("/proc") if pid.isdigit())
commands = [pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\\0") for pid in processes]
seen += [" ".join(part.decode() for part in command) for command in commands if b"300" in command]
print("traces:", seen, "processes:", processes, "parent:", os.getppid())
held = not seen and os.getppid() == 0  # the kernel's parent is outside its sandbox, out of sight"""


def test_a_warm_kernel_sees_nothing_of_the_hand_in_before_it(tmp_path):
    """Two hand-ins one after the other on one job: the second finds no variable, module attribute, file or
    process of the first, though both kernels were forked from the same template."""
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(_probing(LEAVES_TRACES), folder / "A Leaves Traces.ipynb")
    nbformat.write(_probing(FINDS_NO_TRACES), folder / "B Finds None.ipynb")
    results = gradebook.grade_class(folder, "00", tmp_path / "grades", jobs=1, keep_executed=True, progress=False)
    assert [(r.learner_id, r.status, r.total, r.kernel) for r in results] == [
        ("A Leaves Traces", "graded", FULL, "warm"), ("B Finds None", "graded", FULL, "warm")], results[1].message
    executed = nbformat.read(tmp_path / "grades" / gradebook.EXECUTED_FOLDER / "B Finds None.ipynb", as_version=4)
    printed = "".join(output.get("text", "") for output in executed.cells[_index(executed, "orient-n-patients-answer")].outputs)
    assert "traces: []" in printed


def test_cold_and_warm_kernels_give_the_same_grades(tmp_path):
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(answered_release(), folder / "Ada.ipynb")
    shutil.copy(RELEASE, folder / "Bo.ipynb")
    warm = gradebook.grade_class(folder, "00", tmp_path / "warm", jobs=2, progress=False)
    cold = gradebook.grade_class(folder, "00", tmp_path / "cold", jobs=2, progress=False, cold_start=True)
    assert [r.kernel for r in warm] == ["warm", "warm"] and [r.kernel for r in cold] == ["cold", "cold"]
    assert [(r.status, r.scores, r.feedback) for r in warm] == [(r.status, r.scores, r.feedback) for r in cold]


def test_the_template_runs_no_learner_code_and_imports_what_the_notebook_imports():
    from course_utils.instructor import grading

    modules = kernels.notebook_imports(grading.solution_notebook("01"))
    assert {"pandas", "sklearn.pipeline", "course_utils.exercises"} <= set(modules)
    source = Path(kernels.TEMPLATE_SCRIPT).read_text()
    assert "exec(" not in source and "eval(" not in source


def test_the_limits_launcher_sets_the_limits_before_the_command_runs():
    argv = limits.launcher_argv([sys.executable, "-c", "import resource; print(*resource.getrlimit(resource.RLIMIT_DATA),"
                                 " *resource.getrlimit(resource.RLIMIT_CPU))"], LIMITS)
    printed = subprocess.run(argv, capture_output=True, text=True, check=True, env={**os.environ}).stdout.split()
    assert printed == [str(LIMITS.memory), str(LIMITS.memory), "8", str(8 + limits.CPU_GRACE_SECONDS)]


def test_course_grade_takes_the_limits_and_ends_quietly(tmp_path):
    """The options reach the hand-ins, and a run with a timeout and a dead kernel ends without asyncio's
    "Task was destroyed but it is pending!" (nbclient's cancelled output poll is finished, not left behind)."""
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(_with_cell_after("orient-n-patients", "while True:\n    pass"), folder / "Loops.ipynb")
    nbformat.write(_with_cell_after("orient-n-patients", "import os\nos._exit(3)"), folder / "Exits.ipynb")
    nbformat.write(_with_cell_after("orient-n-patients", ALLOCATES), folder / "Allocates Too Much.ipynb")
    course = Path(sys.executable).parent / "course"
    done = subprocess.run([str(course), "grade", str(folder), "--notebook", "00", "--out", str(tmp_path / "grades"),
                           "--timeout", "20", "--memory", "1G", "--processes", "64", "--disk", "128M", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert ("limits per hand-in: 20 s for the whole notebook, 1 GB of memory per process, 64 processes and threads, "
            "128 MB of files, 40 s of processor time per process") in done.stdout
    assert "3 hand-ins: 1 kernel-died, 1 memory, 1 timeout." in done.stdout, done.stdout
    assert "Task was destroyed" not in done.stderr and "never awaited" not in done.stderr, done.stderr
    assert [line for line in done.stderr.splitlines() if not line.startswith("note: ")] == [], done.stderr


@pytest.mark.parametrize("option, value, message", [
    ("--memory", "lots", "Give a size like 2G"),
    ("--processes", "3", "processes must be a whole number of at least 16"),
])
def test_course_grade_refuses_a_limit_it_cannot_use(tmp_path, option, value, message):
    course = Path(sys.executable).parent / "course"
    done = subprocess.run([str(course), "grade", str(tmp_path), "--notebook", "00", "--out", str(tmp_path / "g"),
                           option, value], capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr, done.stderr
