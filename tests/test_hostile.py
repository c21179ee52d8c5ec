"""Hostile hand-ins earn nothing they did not earn honestly: the judge decides outside the learner's kernel.

Every class of ``tests/hostile_hand_ins.py`` is graded twice on notebook 00, sandboxed as a class is: with nothing
answered (it must score 0) and mixed with one honest answer (it must score exactly that answer's points).  The
three one-line forgeries that once earned full marks on every notebook are graded on 01-03 too.
"""

import re
from pathlib import Path

import nbformat
import pytest

from course_utils.instructor import gradebook, sandbox
from hostile_hand_ins import ATTACKS, graded_questions, hand_in

ROOT = Path(__file__).resolve().parents[1]
HONEST = ("orient-share-function",)  # the one question the mixed hand-ins answer as a capable learner would

pytestmark = pytest.mark.slow


def _name(attack: str, kind: str) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '-', attack.lower()).strip('-')} {kind}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not sandbox.sandbox_status().available:
        pytest.fail(f"The grading sandbox is not available: {sandbox.sandbox_status().reason}. "
                    "Run `make system-deps` as root (Debian package bubblewrap).")
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "hand-ins"
    folder.mkdir()
    for attack in ATTACKS:
        nbformat.write(hand_in("00", attack), folder / f"{_name(attack, 'nothing')}.ipynb")
        nbformat.write(hand_in("00", attack, HONEST), folder / f"{_name(attack, 'mixed')}.ipynb")
    results = gradebook.grade_class(folder, "00", root / "grades", jobs=2, progress=False)
    return {"results": {result.learner_id: result for result in results}, "out": root / "grades"}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_with_nothing_answered_an_attack_scores_zero(graded, attack):
    result = graded["results"][_name(attack, "nothing")]
    assert result.total == 0, (result.scores, result.feedback)
    assert result.status in ("graded", "kernel-died"), result.message


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_mixed_with_honest_answers_an_attack_scores_exactly_their_points(graded, attack):
    result = graded["results"][_name(attack, "mixed")]
    points = graded_questions("00")
    auto = {qid: result.scores[qid] for qid in points}
    assert auto == {qid: (points[qid] if qid in HONEST else 0.0) for qid in points}, result.feedback


def test_exfiltration_reaches_the_feedback_as_200_characters_of_the_learners_own_message(graded):
    text = (graded["out"] / "feedback" / f"{_name('exfiltration through exceptions', 'nothing')}.md").read_text()
    quoted = re.findall(r"AssertionError: (LEAKED[^;]*)", text)
    assert quoted and all(len(message.rstrip(".")) <= 200 for message in quoted)
    hidden = (ROOT / "solutions" / "hidden" / "00_orientation.py").read_text()
    for line in hidden.splitlines():
        if len(line.strip()) > 20:
            assert line.strip() not in text


@pytest.mark.parametrize("notebook", ["01", "02a", "02b", "03", "04"])
def test_the_one_line_forgeries_earn_nothing_on_any_notebook(notebook, tmp_path):
    """The three one-liners that once scored 28/28, 39/39 and 30/30, each alone on an unanswered notebook."""
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    attacks = ("showtraceback", "custom exception handler", "input transformer: check cells to pass")
    for attack in attacks:
        nbformat.write(hand_in(notebook, attack), folder / f"{_name(attack, 'nothing')}.ipynb")
    results = gradebook.grade_class(folder, notebook, tmp_path / "grades", jobs=2, progress=False)
    assert {result.learner_id: result.total for result in results} == {_name(a, "nothing"): 0 for a in attacks}
    assert {result.status for result in results} == {"graded"}, [(r.learner_id, r.status, r.message) for r in results]
