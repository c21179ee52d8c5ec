"""Learner-facing checks: immediate feedback on graded exercises, hints and progress.

Every graded exercise in the course has a stable id (``"orient-n-patients"``) and a
:class:`Question` in :mod:`course_utils.questions`.  In a notebook a learner calls::

    check("orient-n-patients", n_patients)

and reads one short line: correct, "not answered yet", or what looks wrong and a hint
toward the misconception -- never the answer.  :func:`progress` lists where the learner
stands in a notebook, :func:`hint` gives the next hint for a question.

``check`` never raises, so "Run All" on an unanswered notebook reaches the end.  The
instructor's hidden tests call :func:`assert_correct`, which raises on a wrong answer.

Examples
--------
>>> from course_utils.checks import evaluate
>>> evaluate("orient-n-patients", None).status
'unanswered'
>>> evaluate("orient-n-patients", "lots").message.splitlines()[0]
'orient-n-patients: this question expects a whole number; you gave text (a str).'
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

CORRECT, WRONG, UNANSWERED, INVALID = "correct", "wrong", "unanswered", "invalid"
_SYMBOL = {CORRECT: "✅", WRONG: "❌", UNANSWERED: "⏳", INVALID: "⚠️"}


@dataclass(frozen=True)
class Misconception:
    """A recognisable wrong answer and the feedback that addresses it.

    Parameters
    ----------
    applies : callable
        ``applies(answer, expected) -> bool``; true when the answer looks like this mistake.
    feedback : str
        What the learner probably did, in a sentence, without giving the answer away.
    """

    applies: Callable[[Any, Any], bool]
    feedback: str


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one answer: ``status`` is one of
    ``"correct"``, ``"wrong"``, ``"unanswered"`` or ``"invalid"``."""

    question_id: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{_SYMBOL[self.status]} {self.message}"


@dataclass(frozen=True)
class Question:
    """A graded exercise: how to recognise a correct answer and the usual wrong ones.

    Parameters
    ----------
    id : str
        Stable id, also the nbgrader ``grade_id`` of the exercise's test cell.
    notebook : str
        Two-digit notebook number, e.g. ``"00"``.
    points : int
        Points the autograder awards.
    kind : {"integer", "number", "choice", "text", "mapping"}
        What sort of answer is expected; decides the type check and the comparison.
        ``"mapping"`` is one number per group (e.g. per site), given as a dict or a pandas
        Series; ``expected`` then returns a dict from group name to number, group names are
        compared case-insensitively and every value within ``tolerance``.
    expected : callable
        Returns the correct answer.  A callable so expected values are computed from the
        shipped data when first needed, not typed in by hand.
    tolerance : float
        For ``"number"`` and ``"mapping"``: absolute tolerance of the comparison.
    choices : sequence of str
        For ``"choice"``: the valid options (compared case-insensitively).
    misconceptions : sequence of Misconception
        Checked in order; the first that applies gives the feedback.  For ``"mapping"`` the
        rule receives the answer as a dict with the expected group names as keys.
    hints : sequence of str
        Shown one at a time by :func:`hint`; the first also follows wrong answers.
    """

    id: str
    notebook: str
    points: int
    kind: str
    expected: Callable[[], Any]
    tolerance: float = 1e-6
    choices: Sequence[str] = ()
    misconceptions: Sequence[Misconception] = ()
    hints: Sequence[str] = field(default_factory=tuple)

    def evaluate(self, answer: Any) -> CheckResult:
        """Check ``answer`` against this question; never raises for a learner's answer."""
        if answer is None or answer is Ellipsis:
            return self._result(
                UNANSWERED,
                "not answered yet. Replace `None` with your answer, then run the cell again.",
            )
        if self.kind == "mapping":  # the group names to expect come from the expected answer
            expected = self.expected()
            answer, problem = _as_mapping(answer, expected)
        else:
            answer = _as_python_scalar(answer)
            problem = _type_problem(self, answer)
        if problem:
            return self._result(INVALID, problem)
        expected = self.expected()
        if self._matches(answer, expected):
            return self._result(CORRECT, "correct. Well done.")
        return self._result(WRONG, "not yet. " + self._feedback(answer, expected))

    def _matches(self, answer: Any, expected: Any) -> bool:
        if self.kind == "integer":
            return int(answer) == int(expected)
        if self.kind == "number":
            return math.isclose(float(answer), float(expected), rel_tol=0, abs_tol=self.tolerance)
        if self.kind == "mapping":
            return all(math.isclose(answer[key], float(value), rel_tol=0, abs_tol=self.tolerance)
                       for key, value in dict(expected).items())
        return _normalise(answer) == _normalise(expected)

    def _feedback(self, answer: Any, expected: Any) -> str:
        for misconception in self.misconceptions:
            try:
                if misconception.applies(answer, expected):
                    return misconception.feedback + self._hint_suffix()
            except (TypeError, ValueError, LookupError, AttributeError, ZeroDivisionError, OverflowError):
                continue  # a rule that cannot judge this answer simply does not apply
        return "That is not the value we expected." + self._hint_suffix()

    def _hint_suffix(self) -> str:
        return f"\n   Hint: {self.hints[0]}" if self.hints else ""

    def _result(self, status: str, text: str) -> CheckResult:
        return CheckResult(self.id, status, f"{self.id}: {text}")


_KIND_WORDS = {"integer": "a whole number", "number": "a number", "choice": "one of the options", "text": "text",
               "mapping": "one number per group"}


def _type_problem(question: Question, answer: Any) -> str | None:
    """Say what is wrong with the answer's type, or None when it can be compared."""
    kind = question.kind
    expects = f"this question expects {_KIND_WORDS[kind]}"
    if kind in ("integer", "number"):
        if isinstance(answer, bool) or not isinstance(answer, Real):
            return f"{expects}; you gave {_describe(answer)}.\n   Give a single number, e.g. 42 or 0.5."
        if math.isnan(float(answer)):
            return f"{expects}; you gave NaN (not a number). Did a calculation divide by zero or use missing data?"
        if math.isinf(float(answer)):
            return f"{expects}; you gave infinity. Did a calculation divide by zero?"
        if kind == "integer" and not float(answer).is_integer():
            return f"{expects}; you gave {answer!r}, which has a fractional part."
        return None
    if not isinstance(answer, str):
        return f"{expects}; you gave {_describe(answer)}. Give your answer as a string in quotes."
    if kind == "choice" and _normalise(answer) not in {_normalise(c) for c in question.choices}:
        options = ", ".join(repr(c) for c in question.choices)
        return f"{expects}; {answer!r} is not one of them. The options are: {options}."
    return None


def _as_mapping(answer: Any, expected: Any) -> tuple[dict | None, str | None]:
    """The answer as ``{expected group name: float}``, or None and what is wrong with it.

    Accepts a dict, a pandas Series (index = groups) or a one-column DataFrame.  Group names
    are matched to the expected ones ignoring case and extra spaces.
    """
    expected_keys = [str(key) for key in dict(expected)]
    example = "{" + ", ".join(f"{key!r}: ..." for key in expected_keys[:2]) + ", ...}"
    expects = (f"this question expects one number per group ({', '.join(map(repr, expected_keys))}), "
               f"as a dict such as {example} or a pandas Series")
    if hasattr(answer, "columns") and hasattr(answer, "iloc") and len(getattr(answer, "columns", ())) == 1:
        answer = answer.iloc[:, 0]  # a one-column DataFrame, e.g. table[["fnr"]]
    if hasattr(answer, "to_dict") and hasattr(answer, "index") and not hasattr(answer, "columns"):
        answer = answer.to_dict()  # a pandas Series
    if not isinstance(answer, dict):
        single = isinstance(_as_python_scalar(answer), Real) and not isinstance(answer, bool)
        why = (" You gave a single number: that pools every group into one value." if single
               else f" You gave {_describe(answer)}.")
        return None, f"{expects}.{why}"
    by_name = {_normalise(key): key for key in expected_keys}
    given = {}
    for key, value in answer.items():
        name = by_name.get(_normalise(key))
        if name is None:
            return None, (f"{expects}; {key!r} is not one of the groups. "
                          f"The groups are: {', '.join(map(repr, expected_keys))}.")
        value = _as_python_scalar(value)
        if isinstance(value, bool) or not isinstance(value, Real):
            return None, f"{expects}; the value for {name!r} is {_describe(value)}, not a number."
        if not math.isfinite(float(value)):
            return None, (f"{expects}; the value for {name!r} is {value!r}. "
                          "Did a calculation divide by zero or use missing data?")
        given[name] = float(value)
    absent = [key for key in expected_keys if key not in given]
    if absent:
        return None, f"{expects}; your answer has no value for {', '.join(map(repr, absent))}."
    return given, None


def _as_python_scalar(value: Any) -> Any:
    """Unwrap numpy scalars and one-element arrays/Series, which learners often produce."""
    if hasattr(value, "item") and getattr(value, "size", None) == 1:
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _describe(value: Any) -> str:
    kind = type(value).__name__
    if isinstance(value, str):
        return f"text (a {kind})"
    size = getattr(value, "shape", None) or (len(value) if hasattr(value, "__len__") else None)
    return f"a {kind} of size {size}" if size is not None else f"a {kind}"


def _normalise(text: Any) -> str:
    return " ".join(str(text).strip().lower().split())


# ---------------------------------------------------------------------------
# The learner's API: check, hint, progress (state lives in this kernel only)
# ---------------------------------------------------------------------------

_results: dict[str, str] = {}
_hints_shown: dict[str, int] = {}


def _questions() -> dict[str, Question]:
    from course_utils.questions import QUESTIONS  # imported late: questions import data helpers

    return QUESTIONS


def _lookup(question_id: Any) -> Question | str:
    """The question, or a friendly message saying why there is none."""
    questions = _questions()
    if not isinstance(question_id, str):
        return f"A question id is text such as 'orient-n-patients'; you gave {_describe(question_id)}."
    if question_id in questions:
        return questions[question_id]
    close = difflib.get_close_matches(question_id, questions, n=3, cutoff=0.6)
    suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"There is no question called {question_id!r}.{suggestion} Copy the id from the exercise's check cell."


def evaluate(question_id: str, answer: Any) -> CheckResult:
    """Check an answer and return the result without printing it.

    Parameters
    ----------
    question_id : str
        The exercise's id, as written in its check cell.
    answer : object
        The learner's answer; ``None`` means "not answered yet".

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> evaluate("no-such-question", 1).status
    'invalid'
    """
    question = _lookup(question_id)
    if isinstance(question, str):
        return CheckResult(str(question_id), INVALID, question)
    return question.evaluate(answer)


def check(question_id: str, answer: Any) -> None:
    """Print immediate feedback on an answer and remember the result for :func:`progress`.

    Never raises for a learner's mistake, so a notebook runs to its end.

    Examples
    --------
    >>> check("orient-n-patients", None)
    ⏳ orient-n-patients: not answered yet. Replace `None` with your answer, then run the cell again.
    """
    result = evaluate(question_id, answer)
    if result.status != INVALID or question_id in _questions():
        _results[result.question_id] = result.status
    print(result)


def assert_correct(question_id: str, answer: Any) -> None:
    """Raise ``AssertionError`` with the feedback unless the answer is correct (hidden tests).

    Examples
    --------
    >>> assert_correct("orient-n-patients", None)
    Traceback (most recent call last):
    ...
    AssertionError: orient-n-patients: not answered yet. Replace `None` with your answer, then run the cell again.
    """
    result = evaluate(question_id, answer)
    if not result.passed:
        raise AssertionError(result.message)


def hint(question_id: str) -> None:
    """Print the next hint for a question (each call shows one more, then repeats the last).

    Examples
    --------
    >>> hint("orient-n-patients")  # doctest: +ELLIPSIS
    💡 orient-n-patients (hint 1 of ...): ...
    """
    question = _lookup(question_id)
    if isinstance(question, str):
        print(f"{_SYMBOL[INVALID]} {question}")
        return
    if not question.hints:
        print(f"💡 {question.id}: no hints for this one -- reread the exercise text.")
        return
    shown = min(_hints_shown.get(question.id, 0), len(question.hints) - 1)
    _hints_shown[question.id] = shown + 1
    print(f"💡 {question.id} (hint {shown + 1} of {len(question.hints)}): {question.hints[shown]}")


def progress(notebook: str | None = None) -> None:
    """Print which graded questions of a notebook pass, as checked in this session.

    Parameters
    ----------
    notebook : str, optional
        Two-digit notebook number such as ``"00"``.  By default every notebook with at
        least one question checked in this session.

    Examples
    --------
    >>> progress("99")  # doctest: +ELLIPSIS
    ⚠️ There is no notebook '99'. Notebooks with graded questions: 00, 01, ...
    """
    questions = _questions()
    notebooks = sorted({q.notebook for q in questions.values()})
    if notebook is not None and str(notebook) not in notebooks:
        print(f"{_SYMBOL[INVALID]} There is no notebook {notebook!r}. Notebooks with graded questions: {', '.join(notebooks)}.")
        return
    wanted = [str(notebook)] if notebook is not None else sorted(
        {questions[qid].notebook for qid in _results if qid in questions}
    )
    if not wanted:
        print("No answers checked yet in this session. Run a check cell, then ask again.")
        return
    for number in wanted:
        _print_notebook_progress(number, [q for q in questions.values() if q.notebook == number])


def _print_notebook_progress(number: str, questions: list[Question]) -> None:
    done = [q for q in questions if _results.get(q.id) == CORRECT]
    earned, total = sum(q.points for q in done), sum(q.points for q in questions)
    print(f"Notebook {number}: {len(done)} of {len(questions)} auto-checked questions correct ({earned}/{total} points)")
    for q in questions:
        status = _results.get(q.id)
        label = {CORRECT: "correct", WRONG: "not yet", UNANSWERED: "not answered", INVALID: "needs a valid answer"}.get(
            status, "not checked yet"
        )
        print(f"  {_SYMBOL.get(status, '·')} {q.id:<32} {label}")


def reset_progress() -> None:
    """Forget every result and hint shown in this session (for a fresh start)."""
    _results.clear()
    _hints_shown.clear()
