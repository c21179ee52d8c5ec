"""Hand in a notebook: check it is the right course notebook, then copy it where the instructor collects it.

``course submit 01`` (in a terminal, from the course folder) takes ``notebooks/01_*.ipynb`` and writes
``hand-in/<your name>/01_representation_audit.ipynb``, byte for byte: nbgrader's folder layout, which
``course grade`` reads as well.  It refuses, with a message saying why, a file that is not a notebook,
a notebook that is not a course notebook, or the wrong notebook; and it lists the exercises that
still look unanswered, so nothing is handed in half-done by accident.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> path = package("00", learner="Siân O'Connor", out=out)
>>> path.relative_to(out).as_posix()
"Siân O'Connor/00_orientation.ipynb"
>>> print(describe(path).splitlines()[0])  # doctest: +ELLIPSIS
Ready to hand in: .../Siân O'Connor/00_orientation.ipynb (notebook 00)
"""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path

from course_utils import grading, release
from course_utils.gradebook import feedback_file_name, learner_name


def package(notebook: str, source: str | Path | None = None, learner: str | None = None,
            out: str | Path = "hand-in") -> Path:
    """Check ``source`` is course notebook ``notebook`` and copy it to ``out/<learner>/``; return the copy.

    Raises
    ------
    ValueError
        When the file is missing, not a notebook, not a course notebook or another notebook than asked.
    """
    expected = release.solution_path(notebook)
    source = Path(source) if source else release.NOTEBOOKS_DIR / expected.name
    if not source.is_file():
        raise ValueError(f"There is no notebook at {source}. Give the file you worked in with --path.")
    _check_is_course_notebook(source, expected.name[:2])
    learner = learner_name(learner or getpass.getuser())
    if not learner:
        raise ValueError("Give your name or learner id with --learner, as your instructor asked.")
    target = Path(out) / feedback_file_name(learner)[:-3] / expected.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # byte for byte: exactly what was saved in Jupyter
    return target


def _check_is_course_notebook(path: Path, number: str) -> None:
    notebook, problem = grading.read_submission(path)
    if notebook is None:
        raise ValueError(f"{path.name}: {problem}")
    own = {cell.grade_id for cell in grading.graded_cells(number)}
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells}
    if own & ids:
        return
    other = grading.course_notebook_number(notebook)
    if other:
        raise ValueError(f"{path.name} is course notebook {other}, not {number}. Run `course submit {other}`, "
                         f"or give notebook {number} with --path.")
    raise ValueError(f"{path.name} is not a course notebook: it has none of notebook {number}'s exercises. "
                     "Hand in the copy from the course's notebooks/ folder that you worked in, not a new notebook.")


def unanswered(path: str | Path) -> list[str]:
    """Ids of the exercises in a hand-in whose answer cell is still exactly as released."""
    from nbgrader.utils import compute_checksum

    notebook, _ = grading.read_submission(Path(path))
    number = grading.course_notebook_number(notebook)
    released = release.release_notebook(grading.solution_notebook(number))
    stubs = {cell.metadata["nbgrader"]["grade_id"]: compute_checksum(cell) for cell in released.cells
             if cell.metadata.get("nbgrader", {}).get("solution")}
    return [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id") in stubs
            and compute_checksum(cell) == stubs[cell.metadata["nbgrader"]["grade_id"]]]


def describe(path: str | Path) -> str:
    """What was packaged, and which exercises still look unanswered."""
    notebook, _ = grading.read_submission(Path(path))
    number = grading.course_notebook_number(notebook)
    lines = [f"Ready to hand in: {path} (notebook {number})"]
    left = unanswered(path)
    if left:
        lines.append(f"Still unanswered ({len(left)}): {', '.join(left)}. Hand in anyway, or answer them and run "
                     "`course submit` again (it overwrites the copy).")
    else:
        lines.append("Every exercise has an answer. Remember to save in Jupyter before submitting.")
    return "\n".join(lines)
