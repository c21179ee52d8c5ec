"""Notebooks run as learners and instructors run them.

nbval (`make test`, see NBVAL in the Makefile) re-executes every solution and compares its stored outputs;
these tests add what nbval does not check.
"""

import functools
import re

import nbformat
import pytest

from course_utils.instructor import release

SOLUTIONS = release.solution_paths()

# Warning text and library log noise that must never reach a learner: Python warnings, and TensorFlow /
# absl / oneDNN / CUDA start-up logs (which write to the kernel's stderr, captured as stream outputs).
# Case matters: "warning" in lower case is a word the course uses (an escalation rule's severity).
# "tensorflow" is allowed only as a row of the environment report (package, installed, tested, ok).
WARNING_TEXT = re.compile(
    r"Warning|WARNING|warn\(|DeprecationWarning|FutureWarning|UserWarning|oneDNN|cuda|I0000|W0000|E0000|absl"
    r"|tensorflow(?!(-cpu)?\s+[\d.]+\s+[\d.]+\s+(True|False))")


def execute(path):
    return release.run_notebook(path, timeout=120)


@functools.cache
def executed(path):
    """A notebook run once in a fresh kernel, shared by the tests of this file (do not modify it)."""
    return execute(path)


def warning_lines(notebook):
    """Every output line (streams, including the kernel's stderr, results, errors) with warning text."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join([output.get("text", ""), data.get("text/plain", ""), output.get("ename", ""),
                            output.get("evalue", ""), *output.get("traceback", [])])
            found += [f"cell {index}: {line}" for line in text.splitlines() if WARNING_TEXT.search(line)]
    return found


def test_the_warning_check_recognises_library_noise():
    noise = ["/tmp/ipykernel_1/1.py:4: FutureWarning: Downcasting is deprecated",
             "WARNING:root:No module named 'inFairness'",
             "I0000 00:00:1795444613.506809   31980 port.cc:153] oneDNN custom operations are on.",
             "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
             "W tensorflow/core/framework/op_kernel.cc] Could not load dynamic library"]
    assert all(WARNING_TEXT.search(line) for line in noise)
    clean = ["13  tensorflow-cpu         2.21.0            2.21.0  True", "- FNR gap (warning): fires when ..."]
    assert not any(WARNING_TEXT.search(line) for line in clean)


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
    learner = executed(release.NOTEBOOKS_DIR / solution.name)
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
    first, second = text_outputs(executed(solution)), text_outputs(execute(solution))
    assert first == second and first


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_unanswered_learner_notebook_prints_no_warnings(solution):
    assert warning_lines(executed(release.NOTEBOOKS_DIR / solution.name)) == []


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_prints_no_warnings_when_run(solution):
    assert warning_lines(executed(solution)) == []


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_stored_solution_outputs_hold_no_warnings(solution):
    assert warning_lines(nbformat.read(solution, as_version=4)) == []


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_is_stored_executed_and_every_check_passes(solution):
    notebook = nbformat.read(solution, as_version=4)
    graded = [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    assert graded
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "✅" in text and "correct" in text, cell.metadata.nbgrader["grade_id"]
