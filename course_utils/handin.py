"""Hand in a notebook: check it is the right course notebook, then copy it where the instructor collects it.

``course submit 01`` (in a terminal, from the course folder) takes ``notebooks/01_*.ipynb`` and writes
``hand-in/<your name>/01_representation_audit.ipynb``, byte for byte: nbgrader's folder layout, which
``course grade`` reads as well.  It refuses, with a message saying why, a file that is not a notebook,
a notebook that is not a course notebook, or the wrong notebook; and it lists the exercises that
still look unanswered, so nothing is handed in half-done by accident.

This is a learner's command: it needs neither nbgrader nor the instructor tools.  The instructor's
grader reads hand-ins with the same :func:`read_notebook`, so a learner and an instructor get the
same message for a damaged file.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> path = package("00", source=released_notebook_path("00"), learner="Siân O'Connor", out=out)
>>> path.relative_to(out).as_posix()
"Siân O'Connor/00_orientation.ipynb"
>>> print(describe(path).splitlines()[0])  # doctest: +ELLIPSIS
Ready to hand in: .../Siân O'Connor/00_orientation.ipynb (notebook 00)
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import nbformat

from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS, notebook_id, notebook_id_of

__all__ = ["describe", "learner_name", "notebook_number", "package", "read_notebook", "safe_file_stem",
           "unanswered"]


def learner_name(text: str) -> str:
    """A learner id as written, in one Unicode form (NFC), without stray outer spaces."""
    return unicodedata.normalize("NFC", text).strip()


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def safe_file_stem(learner_id: str) -> str:
    """A file or folder name for a learner that works on every system and keeps the name readable.

    Examples
    --------
    >>> safe_file_stem("Ana/María: draft?")
    'Ana_María_ draft_'
    """
    name = _UNSAFE.sub("_", learner_id).strip(" .") or "learner"
    return name[:120]


def notebook_file_name(notebook: str) -> str:
    """The file name of course notebook ``notebook`` (``"01"``, ``1`` or ``"2b"``); a clear error for an unknown one."""
    number = notebook_id(notebook)
    if number not in NOTEBOOKS:
        raise ValueError(f"There is no notebook {number!r}; the course has notebooks {', '.join(sorted(NOTEBOOKS))}.")
    return f"{NOTEBOOKS[number]}.ipynb"


def released_notebook_path(notebook: str, folder: str | Path | None = None) -> Path:
    """Where notebook ``notebook`` is in a course folder: ``notebooks/NN_*.ipynb``, else ``NN_*.ipynb``."""
    folder = Path.cwd() if folder is None else Path(folder)
    name = notebook_file_name(notebook)
    for candidate in (folder / "notebooks" / name, folder / name):
        if candidate.is_file():
            return candidate
    return folder / "notebooks" / name


# --- reading a notebook file -----------------------------------------------------------------------

def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The file as a notebook, or None and a message saying in plain words what is wrong with it."""
    raw = Path(path).read_bytes()
    if not raw.strip():
        return None, "The file is empty: save the notebook in Jupyter (Ctrl+S) and hand it in again."
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as some editors on Windows save
    if not raw.lstrip().startswith(b"{"):  # every notebook file is a JSON object
        return None, ("This is not a notebook file (a notebook is JSON text starting with '{'); hand in the "
                      ".ipynb file from Jupyter, not a script, PDF or screenshot.")
    try:
        content = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "This is not a notebook file (it is not text); hand in the .ipynb file from Jupyter."
    except json.JSONDecodeError as error:
        return None, (f"The notebook file is damaged (invalid JSON at line {error.lineno}, column {error.colno}): "
                      "it was probably cut off or edited outside Jupyter. Hand in a freshly saved copy.")
    if not isinstance(content, dict) or "nbformat" not in content:
        return None, "This file is JSON but not a Jupyter notebook; hand in the .ipynb file from Jupyter."
    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for a broken structure
        return None, f"The notebook's structure is damaged ({type(error).__name__}); hand in a freshly saved copy."
    return notebook, ""


def grade_id(cell) -> str | None:
    """The nbgrader ``grade_id`` of a cell, or None."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def notebook_number(notebook: nbformat.NotebookNode) -> str | None:
    """The course notebook this notebook is a copy of, judged by its graded cells' ids, or None."""
    ids = {grade_id(cell) for cell in notebook.cells} - {None}
    votes = Counter(QUESTIONS[qid].notebook for qid in ids if qid in QUESTIONS)
    return votes.most_common(1)[0][0] if votes else None


# --- which answers are still as released -----------------------------------------------------------

def released_checksum(cell) -> str:
    """nbgrader's checksum of a cell (``nbgrader.utils.compute_checksum``), without needing nbgrader.

    The learner release stores this checksum in each graded cell's metadata, so an answer cell whose
    checksum still matches is unchanged since release.  tests/test_handin.py compares this function
    with nbgrader's own on every graded cell of the course.
    """
    info = cell.metadata["nbgrader"]
    digest = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(bool(info.get("grade"))), str(bool(info.get("solution"))),
                 str(bool(info.get("locked"))), info["grade_id"]):
        digest.update(part.encode("utf-8"))
    if info.get("grade"):
        digest.update(str(float(info["points"])).encode("utf-8"))
    return digest.hexdigest()


def unanswered(path: str | Path) -> list[str]:
    """Ids of the answer cells in a notebook whose content is still exactly as released."""
    notebook, _ = read_notebook(Path(path))
    if notebook is None:
        return []
    return [grade_id(cell) for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution") and "checksum" in cell.metadata["nbgrader"]
            and released_checksum(cell) == cell.metadata["nbgrader"]["checksum"]]


# --- handing in ------------------------------------------------------------------------------------

def package(notebook: str, source: str | Path | None = None, learner: str | None = None,
            out: str | Path = "hand-in") -> Path:
    """Check ``source`` is course notebook ``notebook`` and copy it to ``out/<learner>/``; return the copy.

    Raises
    ------
    ValueError
        When the file is missing, not a notebook, not a course notebook or another notebook than asked.
    """
    name = notebook_file_name(notebook)
    source = Path(source) if source else released_notebook_path(notebook)
    if not source.is_file():
        raise ValueError(f"There is no notebook at {source}. Give the file you worked in with --path.")
    _check_is_course_notebook(source, notebook_id_of(name))
    learner = learner_name(learner or getpass.getuser())
    if not learner:
        raise ValueError("Give your name or learner id with --learner, as your instructor asked.")
    target = Path(out) / safe_file_stem(learner) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # byte for byte: exactly what was saved in Jupyter
    return target


def _check_is_course_notebook(path: Path, number: str) -> None:
    notebook, problem = read_notebook(path)
    if notebook is None:
        raise ValueError(f"{path.name}: {problem}")
    found = notebook_number(notebook)
    if found == number:
        return
    if found:
        raise ValueError(f"{path.name} is course notebook {found}, not {number}. Run `course submit {found}`, "
                         f"or give notebook {number} with --path.")
    raise ValueError(f"{path.name} is not a course notebook: it has none of notebook {number}'s exercises. "
                     "Hand in the copy from the course's notebooks/ folder that you worked in, not a new notebook.")


def describe(path: str | Path) -> str:
    """What was packaged, and which exercises still look unanswered."""
    notebook, _ = read_notebook(Path(path))
    lines = [f"Ready to hand in: {path} (notebook {notebook_number(notebook)})"]
    left = unanswered(path)
    if left:
        lines.append(f"Still unanswered ({len(left)}): {', '.join(left)}. Hand in anyway, or answer them and run "
                     "`course submit` again (it overwrites the copy).")
    else:
        lines.append("Every exercise has an answer. Remember to save in Jupyter before submitting.")
    return "\n".join(lines)
