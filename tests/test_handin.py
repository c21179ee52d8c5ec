"""`course submit`, `course verify` and `course check` are learners' commands: they work without nbgrader.

The CLI runs here with nbgrader made unimportable (a stub module that raises ImportError comes first on
PYTHONPATH), as in the learner edition, where nbgrader is not installed at all.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import handin
from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS
from faulty_submissions import answered_release

ROOT = Path(__file__).resolve().parents[1]
RELEASED = ROOT / "notebooks" / "00_orientation.ipynb"


@pytest.fixture
def no_nbgrader(tmp_path):
    """Environment variables under which `import nbgrader` fails, as on a learner's machine."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "nbgrader.py").write_text('raise ImportError("nbgrader is not installed (learner edition)")\n')
    return {"PYTHONPATH": str(stubs), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}


def course(arguments, environment, cwd=ROOT):
    command = [sys.executable, "-c", "import sys; from course_utils.cli import main; sys.exit(main())", *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=cwd)


def test_the_stub_really_hides_nbgrader(no_nbgrader):
    done = subprocess.run([sys.executable, "-c", "import nbgrader"], capture_output=True, text=True, env=no_nbgrader)
    assert done.returncode == 1 and "learner edition" in done.stderr


def test_submit_copies_byte_for_byte_without_nbgrader(tmp_path, no_nbgrader):
    source = tmp_path / "my work.ipynb"
    nbformat.write(answered_release(), source)
    done = course(["submit", "00", "--path", str(source), "--learner", "Siân O'Connor", "--out",
                   str(tmp_path / "hand-in")], no_nbgrader)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "hand-in" / "Siân O'Connor" / "00_orientation.ipynb"
    assert copy.read_bytes() == source.read_bytes()
    assert "Every exercise has an answer" in done.stdout


def test_submit_takes_the_course_notebook_from_the_course_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    copy = handin.package("00", learner="Bo", out=tmp_path / "h")
    assert copy == tmp_path / "h" / "Bo" / "00_orientation.ipynb" and copy.read_bytes() == RELEASED.read_bytes()
    assert "Still unanswered (4)" in handin.describe(copy)


@pytest.mark.parametrize("content, message", [
    ("print('hello')", "not a notebook file"),
    ("", "empty"),
    ('{"cells": [', "invalid JSON"),
    (nbformat.writes(nbformat.v4.new_notebook()), "not a course notebook"),
    ((ROOT / "notebooks" / "01_representation_audit.ipynb").read_text(encoding="utf-8"), "course notebook 01, not 00"),
])
def test_submit_refuses_what_is_not_this_course_notebook(tmp_path, content, message):
    path = tmp_path / "attempt.ipynb"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        handin.package("00", source=path, learner="Bo", out=tmp_path / "h")
    assert not (tmp_path / "h").exists()


def test_a_refusal_is_one_line_on_stderr_and_exit_code_2(tmp_path, no_nbgrader):
    path = tmp_path / "attempt.ipynb"
    path.write_text("print('hello')", encoding="utf-8")
    done = course(["submit", "00", "--path", str(path), "--learner", "Bo", "--out", str(tmp_path / "h")], no_nbgrader)
    assert done.returncode == 2 and done.stderr.startswith("course submit: attempt.ipynb: This is not a notebook")
    assert "Traceback" not in done.stderr


def test_verify_works_without_nbgrader(no_nbgrader):
    done = course(["verify"], no_nbgrader)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "heart data: checksum OK" in done.stdout


def test_instructor_commands_say_they_need_the_instructor_tools(no_nbgrader):
    done = course(["release", "--check"], no_nbgrader)
    assert done.returncode == 2 and "needs nbgrader" in done.stderr and "[instructor]" in done.stderr


def test_unanswered_lists_every_answer_cell_still_as_released(tmp_path):
    own = [qid for qid, question in QUESTIONS.items() if question.notebook == "00"]
    assert handin.unanswered(RELEASED) == [f"{q}-answer" for q in own] + ["orient-reflect-bias-stages"]
    answered = tmp_path / "answered.ipynb"
    nbformat.write(answered_release(), answered)
    assert handin.unanswered(answered) == []


@pytest.mark.parametrize("number", sorted(NOTEBOOKS))
def test_released_checksum_is_nbgraders_own(number):
    from nbgrader.utils import compute_checksum

    notebook = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOKS[number]}.ipynb", as_version=4)
    graded = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id")]
    assert graded
    for cell in graded:
        assert handin.released_checksum(cell) == compute_checksum(cell) == cell.metadata["nbgrader"]["checksum"]
        cell.source += " "
        assert handin.released_checksum(cell) == compute_checksum(cell) != cell.metadata["nbgrader"]["checksum"]


@pytest.mark.parametrize("number", sorted(NOTEBOOKS))
def test_each_released_notebook_is_recognised_by_number(number):
    notebook, problem = handin.read_notebook(ROOT / "notebooks" / f"{NOTEBOOKS[number]}.ipynb")
    assert problem == "" and handin.notebook_number(notebook) == number


def test_names_become_safe_file_names_on_every_system():
    assert handin.safe_file_stem('Ana/María: "draft"?') == "Ana_María_ _draft__"
    assert handin.safe_file_stem(" . ") == "learner"
    assert handin.learner_name("Jose\u0301 ") == "José"
