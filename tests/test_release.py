"""The learner notebooks are generated from solutions/ and hold no solution, hidden test or output."""

import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from course_utils.exercises.questions import notebook_id_of
from course_utils.instructor import release
from course_utils.exercises.questions import QUESTIONS

SOLUTIONS = release.solution_paths()
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def nbgrader_cells(path):
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if "nbgrader" in cell.metadata]


def test_there_are_solution_notebooks_to_release():
    assert SOLUTIONS and SOLUTIONS[0].name == "00_orientation.ipynb"


def test_committed_learner_notebooks_are_in_sync_with_solutions():
    assert release.stale_notebooks() == [], "run `make release` and commit notebooks/"


def test_no_learner_notebook_without_a_solution_source():
    learner = {path.name for path in release.NOTEBOOKS_DIR.glob("*.ipynb")}
    assert learner == {path.name for path in SOLUTIONS}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_learner_notebook_holds_no_solution_hidden_test_or_output(solution):
    learner_path = release.NOTEBOOKS_DIR / solution.name
    text = learner_path.read_text()
    for marker in release.SECRET_MARKERS:
        assert marker not in text
    learner = nbformat.read(learner_path, as_version=4)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in learner.cells if cell.cell_type == "code")
    assert "widgets" not in learner.metadata, "saved widget state would show the solution's widget values"
    learner_source = "\n".join(cell.source for cell in learner.cells)
    for cell in nbformat.read(solution, as_version=4).cells:
        for _, body in REGION.findall(cell.source):
            for line in body.splitlines():
                if len(line.strip()) > 12:  # short lines like `)` legitimately recur elsewhere
                    assert line.strip() not in learner_source, f"{solution.name} leaks: {line.strip()!r}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_reflect_answers_are_replaced_by_the_text_stub(solution):
    learner = nbformat.read(release.NOTEBOOKS_DIR / solution.name, as_version=4)
    reflect = [c for c in learner.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert reflect and all(cell.source == release.TEXT_STUB for cell in reflect)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_graded_cells_have_unique_ids_points_and_a_registered_question(solution):
    cells = nbgrader_cells(solution)
    ids = [cell.metadata.nbgrader["grade_id"] for cell in cells]
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    number = notebook_id_of(solution)
    autograded = [c for c in cells if c.metadata.nbgrader.get("grade") and c.cell_type == "code"]
    for cell in autograded:
        grade_id = cell.metadata.nbgrader["grade_id"]
        assert grade_id in QUESTIONS, f"{grade_id} has no question in course_utils.exercises.questions"
        assert QUESTIONS[grade_id].notebook == number
        assert cell.metadata.nbgrader["points"] == QUESTIONS[grade_id].points
        # the check cell holds the visible check and nothing else: hidden cases live in solutions/hidden/
        assert cell.source.strip().startswith(f'check("{grade_id}", ') and cell.source.strip().count("\n") == 0, \
            cell.source
        assert "BEGIN HIDDEN TESTS" not in solution.read_text(), "hidden cases belong in solutions/hidden/"
    registered = {qid for qid, q in QUESTIONS.items() if q.notebook == number}
    assert registered == {c.metadata.nbgrader["grade_id"] for c in autograded}


#: Every question id of a notebook starts with its prefix.
ID_PREFIX = {"00": "orient-", "01": "audit-", "02a": "debias-", "02b": "debias-", "03": "ethics-", "04": "imaging-"}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_each_notebook_has_auto_graded_and_reflect_items(solution):
    cells = [c for c in nbgrader_cells(solution) if c.metadata.nbgrader.get("grade")]
    auto = [c for c in cells if c.cell_type == "code"]
    reflect = [c for c in cells if c.cell_type == "markdown"]
    assert auto and reflect
    assert all(c.metadata.nbgrader["grade_id"].startswith(ID_PREFIX[notebook_id_of(solution)]) for c in cells)
    assert all(c.metadata.nbgrader["points"] > 0 for c in cells)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_released_answer_cells_leave_the_answer_unset(solution):
    """A value answer starts `name = None`; a code answer is the function's head and docstring with an empty
    body.  Either way the check says "not answered yet" until the learner writes something."""
    learner = nbformat.read(release.NOTEBOOKS_DIR / solution.name, as_version=4)
    for index, cell in enumerate(learner.cells):
        info = cell.metadata.get("nbgrader", {})
        if not (info.get("solution") and cell.cell_type == "code"):
            continue
        question_id = info["grade_id"].removesuffix("-answer")
        question = QUESTIONS.get(question_id)
        assert any(line.strip() == release.CODE_STUB for line in cell.source.splitlines()), question_id
        if question is not None and question.answer_type == "code":
            namespace = {}
            exec(compile(cell.source, f"<{question_id}>", "exec"), namespace)  # the released stub runs
            assert question.evaluate(namespace[question.name]).status == "unanswered", question_id
            assert f'check("{question_id}", {question.name})' in learner.cells[index + 1].source
        else:
            first = cell.source.splitlines()[0]
            assert re.fullmatch(r"\w+ = None", first), (question_id, first)


def test_release_is_deterministic():
    for solution in SOLUTIONS:
        assert release.release_text(solution) == release.release_text(solution)


@pytest.mark.slow  # runs `course release` on every notebook
def test_release_check_fails_on_a_stale_notebook_and_release_fixes_it(tmp_path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    shutil.copytree(release.SOLUTIONS_DIR, solutions)
    shutil.copytree(release.NOTEBOOKS_DIR, notebooks)
    command = [sys.executable, "-m", "course_utils.cli", "release", "--solutions", str(solutions),
               "--notebooks", str(notebooks)]
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 0

    edited = nbformat.read(SOLUTIONS[0], as_version=4)
    edited.cells[0].source += "\n\nA sentence an instructor added."
    nbformat.write(edited, solutions / SOLUTIONS[0].name)
    stale = subprocess.run([*command, "--check"], capture_output=True, text=True)
    assert stale.returncode == 1 and SOLUTIONS[0].name in stale.stdout and "make release" in stale.stdout

    assert subprocess.run(command, capture_output=True).returncode == 0
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 0
    assert "A sentence an instructor added." in (notebooks / SOLUTIONS[0].name).read_text()
