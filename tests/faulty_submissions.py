"""A class of hand-ins for notebook 00 that a real classroom produces: good ones and every kind of faulty one.

:func:`build_class` writes them into a folder, in both layouts the grader accepts, under learners'
real-looking names, and returns what grading each one must give.  The hand-ins are built from the
current learner release and solutions, so they follow the notebooks when those change.

Probing hand-ins (reading ``solutions/``, writing outside their folder, opening a network
connection) turn what they find into their answer to exercise 1: the right count if the sandbox
held, ``-1`` otherwise -- so the score itself shows whether the sandbox held, and they print what
they saw for the instructor's executed copy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.instructor.release import worked_release

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "00"
RELEASE = ROOT / "notebooks" / "00_orientation.ipynb"
SOLUTION = ROOT / "solutions" / "00_orientation.ipynb"
QUESTIONS = {"orient-n-patients": 1, "orient-share-function": 2, "orient-justice-principle": 1}
FULL = sum(QUESTIONS.values())


@dataclass(frozen=True)
class Expected:
    """What grading one hand-in must give: its status, its total, and text its message must contain."""

    status: str
    total: float
    message: str = ""
    zero: tuple[str, ...] = ()  # questions that must score 0


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def answered_release() -> nbformat.NotebookNode:
    """The learner release with every exercise answered as a good learner would (the solution's code)."""
    return worked_release(nbformat.read(SOLUTION, as_version=4))


def _answer_cell(notebook, grade_id):
    return next(cell for cell in notebook.cells if _grade_id(cell) == f"{grade_id}-answer")


def _index(notebook, grade_id):
    return next(i for i, cell in enumerate(notebook.cells) if _grade_id(cell) == grade_id)


def _with_cell_after(grade_id: str, source: str) -> nbformat.NotebookNode:
    """An answered notebook with one extra learner cell right after the check cell ``grade_id``."""
    notebook = answered_release()
    notebook.cells.insert(_index(notebook, grade_id) + 1, nbformat.v4.new_code_cell(source))
    return notebook


def _probing(code: str) -> nbformat.NotebookNode:
    """An answered notebook whose exercise-1 answer is the count only if ``code`` sets ``held = True``."""
    notebook = answered_release()
    _answer_cell(notebook, "orient-n-patients").source = code + "\nn_patients = len(heart) if held else -1"
    return notebook


def _probe_reads(repo: Path, places: list[str], secret: str) -> str:
    """Look for the course's secrets: its solutions, any notebook or grade database (a classmate's hand-in,
    the instructor's output) and any file holding a line of the hidden tests (``secret``)."""
    return f"""from pathlib import Path
seen = []
try:
    seen.append(Path({str(repo / "solutions" / "00_orientation.ipynb")!r}).read_text()[:20])
except OSError as error:
    print("cannot open the solution", type(error).__name__)
for place in {places!r}:
    try:
        for path in Path(place).rglob("*"):
            if ".venv" in path.parts or not path.is_file():
                continue  # the installed software is public
            public = "learner-package" in path.parts  # the learner edition's package: every learner has it
            if path.suffix in (".ipynb", ".db", ".csv", ".md") and "data" not in path.parts and not public:
                seen.append(str(path))
            elif {secret!r} in path.read_text(errors="ignore"):
                seen.append(str(path))
    except OSError as error:
        print("cannot read", place, type(error).__name__)
print("found:", seen)
held = not seen"""


def _probe_writes(paths: list[str]) -> str:
    return f"""written = []
for path in {paths!r}:
    try:
        with open(path, "w") as handle:
            handle.write("escaped")
        written.append(path)
    except OSError as error:
        print("cannot write", path, type(error).__name__)
print("written:", written)
held = not written"""


def _probe_network(port: int) -> str:
    return f"""import socket
reached = []
for address in [("127.0.0.1", {port}), ("10.255.255.1", 80), ("example.org", 80)]:
    try:
        socket.create_connection(address, timeout=3).close()
        reached.append(address)
    except OSError as error:
        print("no connection to", address, type(error).__name__)
print("reached:", reached)
held = not reached"""


PROBE_PACKAGE = """import importlib.util
import course_utils
print("course_utils from:", course_utils.__file__)
try:
    tools = importlib.util.find_spec("course_utils.instructor")
except ImportError:
    tools = None
print("instructor tools:", tools)
held = tools is None and "learner-package" in course_utils.__file__"""


PROBE_REMOUNT = """import subprocess
from pathlib import Path
import course_utils
package = Path(course_utils.__file__).parents[1]  # the read-only folder the grader shows the package in
done = subprocess.run(["mount", "-o", "remount,rw,bind", str(package)], capture_output=True, text=True)
print("remount:", done.returncode)
try:
    (package / "escaped.txt").write_text("escaped")
    wrote = True
except OSError as error:
    wrote = False
    print("cannot write", type(error).__name__)
held = not wrote"""


LEAK_BY_ERROR = '''import inspect
from pathlib import Path

n_patients = len(heart)


def share_of(data, column, value):
    # Try to carry the grader's secrets out in an error message: every frame on the stack (the harness's too)
    # and every file the kernel can see beside the cases it is called on.
    found = [repr(frame.frame.f_locals) for frame in inspect.stack()]
    for place in [Path.cwd(), Path.home(), Path("/tmp")]:
        try:
            found += [path.read_text(errors="ignore") for path in list(place.glob("*/*.json"))[:20] if path.is_file()]
        except OSError:
            pass
    raise AssertionError("LEAKED " + " ".join(found))'''


def _every_cell_raises() -> nbformat.NotebookNode:
    notebook = nbformat.read(RELEASE, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = 'raise RuntimeError("this cell always fails")\n' + cell.source
    return notebook


def _cells_deleted() -> nbformat.NotebookNode:
    notebook = answered_release()
    index = _index(notebook, "orient-share-function")
    del notebook.cells[index]  # the check cell of exercise 2 ...
    del notebook.cells[index - 2]  # ... and exercise 2's instructions, which changes nothing
    return notebook


def _cells_reordered() -> nbformat.NotebookNode:
    notebook = answered_release()
    answer, check = _index(notebook, "orient-share-function-answer"), _index(notebook, "orient-share-function")
    notebook.cells[answer], notebook.cells[check] = notebook.cells[check], notebook.cells[answer]
    return notebook


def _test_cell_edited() -> nbformat.NotebookNode:
    notebook = answered_release()
    _answer_cell(notebook, "orient-n-patients").source = "n_patients = 1000"  # wrong ...
    notebook.cells[_index(notebook, "orient-n-patients")].source = "pass  # no check here"  # ... and the check gone
    return notebook


def _grade_id_removed() -> nbformat.NotebookNode:
    notebook = answered_release()
    cell = notebook.cells[_index(notebook, "orient-justice-principle")]
    del cell.metadata["nbgrader"]
    return notebook


def _partly_wrong() -> nbformat.NotebookNode:
    notebook = answered_release()
    _answer_cell(notebook, "orient-share-function").source = "def share_of(data, column, value):\n    return 0.5"
    return notebook


ANSWER_KEY_TOOLS = '''import inspect

from course_utils.exercises.questions import QUESTIONS


def answer_from_public_cases(question_id):
    """A code answer made of the public cases' stored results: right on exactly what the visible check runs."""
    question = QUESTIONS[question_id]
    cases = question.cases()
    names = [name.strip().split("=")[0] for name in question.signature.split("(", 1)[1].rstrip(")").split(",")]

    def answer(*args, **kwargs):
        given = dict(zip(names, args), **kwargs)
        for case in cases:
            if all(_same(given.get(name), value) for name, value in case.inputs.items() if name in given):
                return case.expected
        return 0.0
    return answer


def _same(a, b):
    try:
        return bool(a.equals(b)) if hasattr(a, "equals") else bool(np.array_equal(a, b)) if hasattr(a, "shape") else a == b
    except Exception:
        return False'''


def answer_key_notebook(number: str) -> nbformat.NotebookNode:
    """A hand-in of notebook ``number`` that writes no code of its own: every answer read from the learner package.

    Value answers are whatever the question objects hold about their answer (digests, not values); code answers
    are made of their public cases' stored results.  The visible checks of the code questions may pass; the
    judge's hidden cases must not.
    """
    from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS

    notebook = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOKS[number]}.ipynb", as_version=4)
    first_code = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells.insert(first_code + 1, nbformat.v4.new_code_cell("import numpy as np\n" + ANSWER_KEY_TOOLS))
    for cell in notebook.cells:
        grade_id = _grade_id(cell) or ""
        question = QUESTIONS.get(grade_id.removesuffix("-answer"))
        if not grade_id.endswith("-answer") or question is None or cell.cell_type != "code":
            continue
        if question.answer_type == "code":
            cell.source = f"{question.name} = answer_from_public_cases({question.id!r})"
        else:
            variable = cell.source.split("=")[0].strip()
            cell.source = f"{variable} = QUESTIONS[{question.id!r}].answer_key()"
    return notebook


def _write(path: Path, content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        nbformat.write(content, path)


def build_class(folder: Path, *, repo: Path, out: Path, port: int, marker: str, secret: str) -> dict[str, Expected]:
    """Write the class's hand-ins into ``folder``; return learner id -> what grading must give.

    ``repo``, ``out`` and ``folder`` are the places the probes try to read and write; ``port`` is a
    loopback port the test listens on; ``marker`` names the files the write probe tries to create;
    ``secret`` is a line of the hidden tests the read probe searches every visible file for.
    """
    answered = nbformat.writes(answered_release())
    escapes = [f"/tmp/{marker}", str(repo / marker), str(folder / marker), str(out / marker)]
    cases = {
        # learners whose grades must not be affected by the rest of the class
        "Siân O'Connor.ipynb": (answered, Expected("graded", FULL)),
        # NFD on disk (as macOS writes it): the learner id comes out NFC
        unicodedata.normalize("NFD", "José Núñez-García") + "/00_orientation.ipynb":
            (_partly_wrong(), Expected("graded", FULL - 2, zero=("orient-share-function",))),
        "李明.ipynb": (RELEASE.read_text(encoding="utf-8"), Expected("graded", 0, zero=tuple(QUESTIONS))),
        "Ng, Mai/00/00_orientation.ipynb": (answered, Expected("graded", FULL)),
        # files that are not a usable notebook
        "Malformed Json.ipynb": (answered[: len(answered) // 2], Expected("unreadable", 0, "invalid JSON")),
        "Not A Notebook.ipynb": ("import pandas as pd\nprint('my homework')\n",
                                 Expected("unreadable", 0, "not a notebook")),
        "Binary File.ipynb": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", Expected("unreadable", 0, "not a notebook")),
        "Empty File.ipynb": (b"", Expected("unreadable", 0, "empty")),
        "Empty Notebook.ipynb": (nbformat.v4.new_notebook(), Expected("wrong-notebook", 0, "none of notebook 00")),
        "Wrong Notebook.ipynb": ((ROOT / "notebooks" / "01_representation_audit.ipynb").read_text(encoding="utf-8"),
                                 Expected("wrong-notebook", 0, "course notebook 01, not 00")),
        # damaged structure
        "Cells Deleted.ipynb": (_cells_deleted(), Expected("graded", FULL - 2, "orient-share-function",
                                                           zero=("orient-share-function",))),
        "Cells Reordered.ipynb": (_cells_reordered(), Expected("graded", FULL - 2, zero=("orient-share-function",))),
        "Test Cell Edited.ipynb": (_test_cell_edited(), Expected("graded", FULL - 1, "locked cell",
                                                                 zero=("orient-n-patients",))),
        "Grade Id Removed.ipynb": (_grade_id_removed(), Expected("graded", FULL - 1, "orient-justice-principle",
                                                                 zero=("orient-justice-principle",))),
        # code that misbehaves
        "Infinite Loop.ipynb": (_with_cell_after("orient-n-patients", "while True:\n    pass"),
                                Expected("timeout", 1, "time limit", zero=("orient-share-function",))),
        "Sys Exit.ipynb": (_with_cell_after("orient-n-patients", "import sys\nsys.exit()"), Expected("graded", FULL)),
        "Os Exit.ipynb": (_with_cell_after("orient-n-patients", "import os\nos._exit(3)"),
                          Expected("kernel-died", 1, "Python stopped", zero=("orient-share-function",))),
        "Kernel Crash.ipynb": (_with_cell_after("orient-n-patients", "import ctypes\nctypes.string_at(0)"),
                               Expected("kernel-died", 1, "Python stopped", zero=("orient-share-function",))),
        "Fifty Megabytes.ipynb": (_with_cell_after("orient-n-patients", 'for _ in range(50):\n    print("x" * 1_000_000)'),
                                  Expected("graded", FULL, "MB of output")),
        "Raises Everywhere.ipynb": (_every_cell_raises(), Expected("graded", 0, zero=tuple(QUESTIONS))),
        # code that tries to get out of its sandbox
        "Reads Solutions.ipynb": (_probing(_probe_reads(repo, [str(repo), str(folder), str(out), "/tmp"], secret)),
                                  Expected("graded", FULL)),
        "Writes Outside.ipynb": (_probing(_probe_writes(escapes)), Expected("graded", FULL)),
        "Opens Network.ipynb": (_probing(_probe_network(port)), Expected("graded", FULL)),
        "Imports Instructor Tools.ipynb": (_probing(PROBE_PACKAGE), Expected("graded", FULL)),
        # a kernel started by a root grader must not be able to make its read-only folders writable
        "Remounts Read Only.ipynb": (_probing(PROBE_REMOUNT), Expected("graded", FULL)),
        # carries what it can see out in its error messages: the feedback quotes 200 characters of them, no more
        "Leaks Hidden Test.ipynb": (_leaking(), Expected("graded", FULL - 2, zero=("orient-share-function",))),
        # answers read from the learner edition's package: the visible checks pass, nothing earns a point
        "Answer Key.ipynb": (answer_key_notebook("00"), Expected("graded", 0, zero=tuple(QUESTIONS))),
    }
    expected = {}
    for name, (content, outcome) in cases.items():
        _write(folder / name, content)
        learner = unicodedata.normalize("NFC", name.split("/")[0].removesuffix(".ipynb"))
        expected[learner] = outcome
    return expected


def _leaking() -> nbformat.NotebookNode:
    """An answered notebook whose share_of raises everything it can read as its error message."""
    notebook = answered_release()
    _answer_cell(notebook, "orient-share-function").source = LEAK_BY_ERROR
    return notebook


def escape_targets(repo: Path, folder: Path, out: Path, marker: str) -> list[Path]:
    """Every host path the write probe aims at (none may exist after grading)."""
    return [Path("/tmp") / marker, repo / marker, folder / marker, out / marker]

