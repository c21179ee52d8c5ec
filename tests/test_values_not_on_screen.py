"""No value answer of notebooks 00 and 01 is on screen before the learner has answered it.

"On screen" is everything a learner can read without answering: every Markdown cell of the learner's notebook
(a notebook shows all its Markdown before anything runs), every Markdown cell and printed output of the notebooks
before it (a learner has run 00 when they start 01), and the printed outputs of the cells above the answer cell.
A number answer counts as shown when any number on screen lies within the answer's tolerance; a whole-number
answer when it is written as a number.  The values come from the instructor's hidden material, computed from the
data file -- not from the solution notebook.
"""

import re

import nbformat
import pytest

from course_utils.exercises.questions import notebook_id_of
from course_utils.exercises.questions import QUESTIONS
from course_utils.instructor import release
from course_utils.instructor.cases import load_hidden

NOTEBOOKS = ("00_orientation", "01_representation_audit")
# A number as text states it: not a percentage (and, in a printed table, not a row label that starts a line).
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])(?!\s?%)")


def _text_outputs(cells):
    parts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text") or output.get("data", {}).get("text/plain", "") or
                         output.get("data", {}).get("text/html", ""))
    return "\n".join(parts)


def _markdown(cells):
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


def screen_before(notebook_stem, question_id):
    """What a learner can read before answering ``question_id`` in ``notebook_stem``: (Markdown, printed outputs)."""
    shown, printed = [], []
    for earlier in NOTEBOOKS[: NOTEBOOKS.index(notebook_stem)]:
        solution = nbformat.read(release.SOLUTIONS_DIR / f"{earlier}.ipynb", as_version=4)
        edition = nbformat.read(release.NOTEBOOKS_DIR / f"{earlier}.ipynb", as_version=4)
        shown.append(_markdown(edition.cells))
        printed.append(_text_outputs(solution.cells))
    edition = nbformat.read(release.NOTEBOOKS_DIR / f"{notebook_stem}.ipynb", as_version=4)
    solution = nbformat.read(release.SOLUTIONS_DIR / f"{notebook_stem}.ipynb", as_version=4)
    answer_at = next(i for i, cell in enumerate(solution.cells)
                     if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{question_id}-answer")
    shown.append(_markdown(edition.cells))
    printed.append(_text_outputs(solution.cells[:answer_at]))
    return "\n".join(shown), "\n".join(printed)


def numbers_in(text, printed=False):
    if printed:  # a printed table's row labels start their lines: not numbers the output states
        text = re.sub(r"^\s*\d+(?=\s)", "", text, flags=re.M)
    return [float(token.replace(",", "")) for token in NUMBER.findall(text)]


VALUE_QUESTIONS = [(stem, qid) for stem in NOTEBOOKS for qid, question in QUESTIONS.items()
                   if question.notebook == notebook_id_of(stem) and question.answer_type == "value"
                   and question.kind in ("integer", "number")]


def test_the_value_questions_of_00_and_01_are_all_here():
    assert {qid for _, qid in VALUE_QUESTIONS} >= {"orient-n-patients", "audit-women-small-sites",
                                                   "audit-mean-cholesterol-female"}


@pytest.mark.parametrize("stem, question_id", VALUE_QUESTIONS, ids=[qid for _, qid in VALUE_QUESTIONS])
def test_no_value_answer_is_on_screen_before_its_answer_cell(stem, question_id):
    question = QUESTIONS[question_id]
    value = float(load_hidden(notebook_id_of(stem)).values[question_id].expected())
    markdown, printed = screen_before(stem, question_id)
    shown = numbers_in(markdown) + numbers_in(printed, printed=True)
    assert shown, "the screen text was read"
    if question.kind == "integer":
        found = [number for number in shown if number == value]
    else:
        found = [number for number in shown if abs(number - value) <= max(question.tolerance, 1e-9)]
    assert not found, f"{question_id}: {found[:3]} on screen before the answer cell"


def test_the_scan_finds_a_planted_answer(monkeypatch):
    """The scan is not blind: an answer written into the Markdown is found."""
    value = load_hidden("01").values["audit-mean-cholesterol-female"].expected()
    planted = f"the women's mean is {value:.1f} mg/dl"
    assert any(abs(number - value) <= 0.5 for number in numbers_in(planted))
    assert 16.0 in numbers_in("only 16 of them women") and 16.0 not in numbers_in("2016 and 16.5")
    assert 16.0 not in numbers_in("16 % of men") + numbers_in("   16   scipy  1.17.1", printed=True)
    assert 16.0 in numbers_in("16 women come from the two sites") + numbers_in("Female  16  307", printed=True)
