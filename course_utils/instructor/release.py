"""Build the learner notebooks in ``notebooks/`` from the instructor sources in ``solutions/``.

``solutions/NN_topic.ipynb`` is the single source, written in nbgrader's source format
(``### BEGIN SOLUTION`` regions, nbgrader cell metadata).  Its check cells hold only the visible
``check(...)``: hidden cases are data and code in ``solutions/hidden/``, which the judge runs outside
the learner's kernel (:mod:`course_utils.instructor.judge`).  The learner release is what nbgrader's
own ``generate_assignment`` preprocessors make of it: solutions replaced by a stub, mark schemes
removed, outputs cleared, grade cells locked and checksummed.  Only the stub differs from nbgrader's
default: it leaves the answer unset instead of raising, so "Run All" on an unanswered notebook reaches
the end and each check says "not answered yet".

The release also writes the value questions' answer keys
(``course_utils/exercises/questions/answer_keys.json``): digests, never values, computed from the
hidden material (:mod:`course_utils.exercises._answer_key`).

Examples
--------
>>> from course_utils.instructor.release import release_notebook
>>> import nbformat
>>> nb = nbformat.v4.new_notebook()
>>> cell = nbformat.v4.new_code_cell("x = None\\n### BEGIN SOLUTION\\nx = 42\\n### END SOLUTION")
>>> cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
...                              "grade_id": "demo-answer", "schema_version": 3}
>>> nb.cells.append(cell)
>>> print(release_notebook(nb).cells[0].source)
x = None
# YOUR CODE HERE
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import nbformat

from course_utils.exercises._answer_key import answer_keys
from course_utils.exercises.questions import notebook_id, notebook_id_of
from course_utils.instructor import require_nbgrader

COURSE_ROOT = Path(__file__).resolve().parents[2]  # the repository: instructor tools run from a clone
SOLUTIONS_DIR = COURSE_ROOT / "solutions"
NOTEBOOKS_DIR = COURSE_ROOT / "notebooks"
ANSWER_KEYS = COURSE_ROOT / "course_utils" / "exercises" / "questions" / "answer_keys.json"

CODE_STUB = "# YOUR CODE HERE"
TEXT_STUB = "YOUR ANSWER HERE"

# Markers that must never reach a learner (checked by tests and by `course release --check`).
SECRET_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS",
                  "=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ===")


def _preprocessors():
    """nbgrader's generate_assignment pipeline, in its order, minus the database steps."""
    require_nbgrader("Building the learner release")
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    quiet = logging.getLogger("course_utils.instructor.release")
    quiet.setLevel(logging.ERROR)
    return [
        LockCells(log=quiet),
        ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB, log=quiet),
        ClearOutput(log=quiet),
        CheckCellMetadata(log=quiet),
        ClearHiddenTests(log=quiet),
        ClearMarkScheme(log=quiet),
        ComputeChecksums(log=quiet),
        CheckCellMetadata(log=quiet),
    ]


def run_notebook(path: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in a fresh kernel, from its own folder; return it with outputs.

    The kernel's own log is kept at ERROR level so its start-up warnings do not clutter the terminal.
    """
    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)  # a previous run's widget state
    # coalesce_streams: one print can arrive as several stream messages under load; merge them so
    # two runs of the same notebook store identical outputs.
    # store_widget_state=False: a widget's saved state (the What-If explorer's) holds model ids that change on
    # every run and the values the solution set, neither of which belongs in the stored notebook.
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", extra_arguments=["--log-level=ERROR"],
                   coalesce_streams=True, store_widget_state=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def execute_in_place(path: Path, timeout: int = 300) -> None:
    """Run a solution notebook in a fresh kernel and save it with its outputs.

    Solutions are stored executed so nbval can compare their outputs on every test run.
    """
    notebook = run_notebook(path, timeout)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timings differ on every run; keep diffs clean
    nbformat.write(notebook, path)


def release_notebook(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the learner version of one solution notebook (the input is not modified)."""
    notebook = copy.deepcopy(source)
    resources: dict = {}
    for preprocessor in _preprocessors():
        notebook, resources = preprocessor.preprocess(notebook, resources)
    for cell in notebook.cells:
        # nbclient records execution timings; they are instructor-side noise in a learner copy.
        cell.metadata.pop("execution", None)
    # Saved widget state would show the solution's widgets (their values, the explorer's table) to a learner.
    notebook.metadata.pop("widgets", None)
    return notebook


def worked_release(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The learner release with the solution's answers typed in: a hand-in that earns full marks.

    For instructors checking a grading set-up, and for the grading tests and benchmark.
    """
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in source.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    notebook = release_notebook(source)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = "\n".join(line for line in answers[grade_id].splitlines()
                                    if line.strip() not in SECRET_MARKERS)
    return notebook


def release_text(solution_path: Path) -> str:
    """The exact file content the learner copy of ``solution_path`` should have."""
    source = nbformat.read(solution_path, as_version=4)
    return nbformat.writes(release_notebook(source)) + "\n"


def solution_paths(solutions_dir: Path = SOLUTIONS_DIR) -> list[Path]:
    """Every solution notebook, in course order."""
    return sorted(Path(solutions_dir).glob("[0-9][0-9]*_*.ipynb"))  # 01_..., and 02a_... for a notebook in parts


def solution_path(number: str, solutions_dir: Path = SOLUTIONS_DIR) -> Path:
    """The solution notebook numbered ``number`` (``"01"``, ``1`` or ``"2b"``); a clear error for an unknown number.

    Examples
    --------
    >>> solution_path("1").name
    '01_representation_audit.ipynb'
    """
    number = notebook_id(number)
    paths = {notebook_id_of(path): path for path in solution_paths(solutions_dir)}
    if number not in paths:
        raise ValueError(f"There is no notebook {number!r}; the course has notebooks {', '.join(sorted(paths))}.")
    return paths[number]


def answer_keys_text() -> str:
    """The content ``answer_keys.json`` should have: every value question's digests, from ``solutions/hidden``."""
    from course_utils.exercises._answer_key import keys_text
    from course_utils.instructor.cases import answer_keys

    return keys_text(answer_keys())


def build_release(solutions_dir: Path = SOLUTIONS_DIR, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Write every learner notebook and the answer keys; return the paths written."""
    notebooks_dir = Path(notebooks_dir)
    notebooks_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for solution in solution_paths(solutions_dir):
        target = notebooks_dir / solution.name
        target.write_text(release_text(solution), encoding="utf-8")
        written.append(target)
    ANSWER_KEYS.write_text(answer_keys_text(), encoding="utf-8")
    answer_keys.cache_clear()
    return written + [ANSWER_KEYS]


def stale_notebooks(solutions_dir: Path = SOLUTIONS_DIR, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[str]:
    """Describe every learner notebook (and the answer keys) that is missing or differs from what a release writes."""
    problems = []
    if not ANSWER_KEYS.exists() or ANSWER_KEYS.read_text(encoding="utf-8") != answer_keys_text():
        problems.append(f"{ANSWER_KEYS.name}: differs from the answers in {solutions_dir.name}/hidden/")
    for solution in solution_paths(solutions_dir):
        target = Path(notebooks_dir) / solution.name
        if not target.exists():
            problems.append(f"{target.name}: missing from {Path(notebooks_dir).name}/")
        elif target.read_text(encoding="utf-8") != release_text(solution):
            problems.append(f"{target.name}: differs from what {solution.parent.name}/{solution.name} generates")
    return problems
