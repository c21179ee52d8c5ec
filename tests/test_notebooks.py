"""Notebooks run as learners and instructors run them.

nbval (configured in pyproject.toml) re-executes every solution and compares its stored outputs;
these tests add what nbval does not check.
"""

import nbformat
import pytest

from course_utils import release

SOLUTIONS = release.solution_paths()


def execute(path):
    return release.run_notebook(path, timeout=120)


def text_outputs(notebook):
    """Every output as comparable text, without execution counts or timings."""
    collected = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            collected.append(output.get("text") or data.get("text/plain") or data.get("text/html") or output.get("ename"))
    return collected


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_unanswered_learner_notebook_runs_to_the_end(solution):
    learner = execute(release.NOTEBOOKS_DIR / solution.name)
    errors = [o for c in learner.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    check_outputs = [
        "".join(o.get("text", "") for o in c.outputs)
        for c in learner.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert check_outputs and all("not answered yet" in text for text in check_outputs)


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_gives_identical_outputs_when_run_twice(solution):
    first, second = text_outputs(execute(solution)), text_outputs(execute(solution))
    assert first == second and first


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_is_stored_executed_and_every_check_passes(solution):
    notebook = nbformat.read(solution, as_version=4)
    graded = [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "✅" in text and "correct" in text, cell.metadata.nbgrader["grade_id"]
