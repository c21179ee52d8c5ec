"""Judge one answer as `course grade` does, in process: the grading harness runs it, then the judge decides.

Shared by the hidden-case tests of every notebook (``tests/test_hidden_*.py``).
"""

import itertools
import warnings

from course_utils.exercises._harness import answer

_folders = itertools.count()


def judged(judge, folder, question_id, function):
    """The judge's verdict on ``function`` as the answer to ``question_id``.

    ``judge`` is a judge, or a dict of judges by notebook (the two parts of notebook 02): the question's own is used.

    The harness calls ``function`` on every public and hidden case and writes what came back into a fresh
    answers folder under ``folder``; the judge reads it there.  Library warnings raised by the answer are
    silenced: they are not part of any verdict.
    """
    if isinstance(judge, dict):
        from course_utils.exercises.questions import QUESTIONS

        judge = judge[QUESTIONS[question_id].notebook]
    answers = folder / f"answers-{next(_folders)}"
    answers.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer(question_id, lambda: function, judge.cases_dir, answers)
    return judge.verdict(question_id, answers)


def assert_each_wrong_scenario_costs_an_eighth(verdict, lost):
    """A decision judged on scenarios: some decided wrongly, each costing 1/8 of the points (rounded to halves), and
    at least one of them named as ``lost`` ("false alarm", "the wrong setting") in the feedback."""
    from course_utils.instructor.cases import DECISION_ERRORS_FOR_ZERO

    wrong = [result for result in verdict.cases if not result.passed]
    share = max(0, 1 - len(wrong) / DECISION_ERRORS_FOR_ZERO)
    assert wrong and verdict.points == round(verdict.max_points * share * 2) / 2 < verdict.max_points
    assert any(lost in result.finding for result in wrong), verdict.message


def sandbox_text(judge) -> str:
    """Everything a grading sandbox can read of the hidden cases: the truth of a scenario must not be in it."""
    return "\n".join(path.read_text(errors="ignore") for path in judge.cases_dir.rglob("*") if path.is_file()
                     and path.suffix in {".json", ".txt", ""})
