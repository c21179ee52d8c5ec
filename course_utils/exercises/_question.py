"""What a graded exercise is: a value question or a code question, and the feedback on one answer.

A :class:`Question` asks for a value (a number, a choice, one number per group) and knows the
usual wrong values.  A :class:`CodeQuestion` asks for code -- a function, or a function that
builds an estimator -- and runs it on *public cases*: inputs the learner can read, with their
expected results stored as data in ``questions/cases/<question-id>.yaml``.  Neither holds a
reference implementation of a code answer: points for code come from the instructor's hidden
tests, which call the learner's code on inputs the learner never sees.

Examples
--------
>>> from course_utils.exercises._answer_key import AnswerKey
>>> from course_utils.exercises._question import Question
>>> q = Question(id="demo", notebook="99", points=1, kind="integer", key=AnswerKey.of("demo", "integer", 3))
>>> q.evaluate(None).status, q.evaluate(3).status, q.evaluate(4).status
('unanswered', 'correct', 'wrong')
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from course_utils.exercises._answer_key import AnswerKey, answer_keys

CORRECT, WRONG, UNANSWERED, INVALID = "correct", "wrong", "unanswered", "invalid"
SYMBOLS = {CORRECT: "✅", WRONG: "❌", UNANSWERED: "⏳", INVALID: "⚠️"}

# Errors a misconception rule may raise on an answer it cannot judge; the rule then does not apply.
_RULE_ERRORS = (TypeError, ValueError, LookupError, AttributeError, ZeroDivisionError, OverflowError)


@dataclass(frozen=True)
class Misconception:
    """A recognisable wrong answer and the feedback that addresses it.

    Parameters
    ----------
    applies : callable
        For a :class:`Question`: ``applies(answer, key) -> bool``, where ``key`` is the question's
        :class:`~course_utils.exercises._answer_key.AnswerKey` (digests, not the answer).
        For a :class:`CodeQuestion`: ``applies(output, expected, inputs) -> bool``, where
        ``output`` is what the learner's code returned on one public case (normalised as the
        question's ``returns`` says), ``expected`` the case's stored result and ``inputs`` the
        case's inputs.  True when the answer looks like this mistake.
    feedback : str
        What the learner probably did, in a sentence, without giving the answer away.
    """

    applies: Callable[..., bool]
    feedback: str


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one answer: ``status`` is ``"correct"``, ``"wrong"``,
    ``"unanswered"`` or ``"invalid"``."""

    question_id: str
    status: str
    message: str
    misconception: str | None = None  # the id of the misconception this wrong answer shows (misconception_id)

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return f"{SYMBOLS[self.status]} {self.message}"


def first_misconception(misconceptions: Sequence[Misconception], *args: Any) -> int | None:
    """The position of the first rule in ``misconceptions`` that applies to this answer, or None."""
    for index, misconception in enumerate(misconceptions):
        try:
            if misconception.applies(*args):
                return index
        except _RULE_ERRORS:
            continue  # a rule that cannot judge this answer simply does not apply
    return None


def misconception_id(question_id: str, index: int) -> str:
    """The stable id of a question's misconception: the question's id and the rule's place in its list.

    >>> misconception_id("audit-counts-function", 0)
    'audit-counts-function#m1'
    """
    return f"{question_id}#m{index + 1}"


def _first_feedback(misconceptions: Sequence[Misconception], *args: Any) -> str | None:
    index = first_misconception(misconceptions, *args)
    return None if index is None else misconceptions[index].feedback


# ---------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Question:
    """A graded exercise whose answer is a value.

    It holds no answer: :mod:`~course_utils.exercises._answer_key` digests of the value, written by
    ``course release`` from the instructor's material, decide whether an answer is right.

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
        ``"mapping"`` is one number per group, given as a dict or a pandas Series; group names
        are compared case-insensitively and every value within ``tolerance``.
    tolerance : float
        For ``"number"`` and ``"mapping"``: an answer within this of the expected value is right
        (one further than twice it never is).  The check and the grader use this one tolerance.
    choices : sequence of str
        For ``"choice"``: the valid options (compared case-insensitively).
    misconceptions : sequence of Misconception
        ``applies(answer, key)``, where ``key`` is the :class:`AnswerKey`: ``key.accepts(value)`` says
        whether a value would be right (``key.accepts(answer / 100)``: the answer is a percentage),
        ``key.is_known(name, answer)`` whether it is the known wrong value ``name``.  The first that
        applies gives the feedback.
    hints : sequence of str
        Shown one at a time by ``hint()``; the first also follows wrong answers.
    key : AnswerKey, optional
        The digests to check against; by default the course's, read from the package.
    """

    id: str
    notebook: str
    points: int
    kind: str
    tolerance: float = 1e-6
    choices: Sequence[str] = ()
    misconceptions: Sequence[Misconception] = ()
    hints: Sequence[str] = field(default_factory=tuple)
    key: AnswerKey | None = None

    answer_type = "value"

    def answer_key(self) -> AnswerKey | None:
        """The digests this question checks against (None if the package has none for it)."""
        return self.key if self.key is not None else answer_keys().get(self.id)

    def evaluate(self, answer: Any) -> CheckResult:
        """Check ``answer`` against this question; never raises for a learner's answer."""
        return self.judge(answer, self.answer_key())

    def judge(self, answer: Any, key: AnswerKey | None) -> CheckResult:
        """Check ``answer`` against ``key``: the one comparison the check and the grader both make."""
        if answer is None or answer is Ellipsis:
            return self._result(UNANSWERED, "not answered yet. Replace `None` with your answer, then run the cell again.")
        if key is None:
            return self._result(INVALID, "this question's answer key is missing from the course package. Reinstall "
                                         "the course (instructors: run `course release`).")
        if self.kind == "mapping":
            answer, problem = as_mapping(answer, list(key.groups))
        else:
            answer = as_python_scalar(answer)
            problem = _type_problem(self, answer)
        if problem:
            return self._result(INVALID, problem)
        if key.accepts(answer):
            return self._result(CORRECT, "correct. Well done.")
        index = first_misconception(self.misconceptions, answer, key)
        feedback = "That is not the value we expected." if index is None else self.misconceptions[index].feedback
        return self._result(WRONG, f"not yet. {feedback}{hint_suffix(self.hints)}",
                            None if index is None else misconception_id(self.id, index))

    def _result(self, status: str, text: str, misconception: str | None = None) -> CheckResult:
        return CheckResult(self.id, status, f"{self.id}: {text}", misconception)


_KIND_WORDS = {"integer": "a whole number", "number": "a number", "choice": "one of the options", "text": "text",
               "mapping": "one number per group"}


def _type_problem(question: Question, answer: Any) -> str | None:
    """Say what is wrong with the answer's type, or None when it can be compared."""
    kind = question.kind
    expects = f"this question expects {_KIND_WORDS[kind]}"
    if kind in ("integer", "number"):
        if isinstance(answer, bool) or not isinstance(answer, Real):
            return f"{expects}; you gave {describe(answer)}.\n   Give a single number, e.g. 42 or 0.5."
        if math.isnan(float(answer)):
            return f"{expects}; you gave NaN (not a number). Did a calculation divide by zero or use missing data?"
        if math.isinf(float(answer)):
            return f"{expects}; you gave infinity. Did a calculation divide by zero?"
        if kind == "integer" and not float(answer).is_integer():
            return f"{expects}; you gave {answer!r}, which has a fractional part."
        return None
    if not isinstance(answer, str):
        return f"{expects}; you gave {describe(answer)}. Give your answer as a string in quotes."
    if kind == "choice" and normalise(answer) not in {normalise(c) for c in question.choices}:
        options = ", ".join(repr(c) for c in question.choices)
        return f"{expects}; {answer!r} is not one of them. The options are: {options}."
    return None


# ------------------------------------------------------------------------------------------ code


class AnswerProblem(Exception):
    """Raised by a question's ``run`` harness when the answer has the wrong form (e.g. not a Pipeline).

    The check reports its message as "needs a valid answer", not as an error the learner's code raised.
    """


@dataclass(frozen=True)
class PublicCase:
    """One public case of a code question: named inputs and the result stored for them.

    ``inputs`` is rebuilt (deep-copied) for every call, so a learner's function that changes
    its arguments cannot spoil the next case -- and the check can tell that it did.
    """

    name: str
    inputs: Mapping[str, Any]
    expected: Any

    def fresh_inputs(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.inputs))


@dataclass(frozen=True)
class CodeQuestion:
    """A graded exercise whose answer is code the learner writes.

    Parameters
    ----------
    id, notebook, points, hints
        As for :class:`Question`.
    signature : str
        How the exercise calls the learner's code, e.g.
        ``"false_negative_rate_by_group(y_true, y_pred, sensitive_features)"``; shown in feedback.
    cases : callable
        Returns the public cases (``PublicCase``), read from the question's YAML file.
    returns : {"number", "mapping", "auto", "record", "array", "rows", "boolean", "text", "table", "output"}
        How a result is normalised and compared: a number (NaN equals NaN: "undefined"); one
        number per group (a dict or Series; group names compared as text); ``"auto"``: a number or
        one number per group, whichever the case's expected result is; a record (a dict of named
        values: numbers, text, True/False); an array of numbers, in order; the rows of a table, in
        any order (a list of lists, compared with the DataFrame's rows); True/False; text; a table
        (``{column: {row: value}}``: every listed cell compared); or ``"output"``: the case's
        expected value compared as it is.
    tolerance : float
        Absolute tolerance for numbers.
    run : callable, optional
        ``run(answer, **inputs) -> output``: how one case exercises the answer.  By default the
        answer is called with the inputs as keyword arguments.  A question about an estimator
        uses it to fit the learner's estimator on the case's patients and predict for others;
        it is a harness, never a reference solution.
    misconceptions : sequence of Misconception
        ``applies(output, expected, inputs)``, checked in order on the first failing case.
    must_not_mutate : bool
        Fail an answer that changes its inputs in place (default True).
    public_at_grading : bool
        The judge runs the public cases as well as the hidden ones (default True).  False for a question whose
        every case is costly -- training a network -- and whose hidden cases check all that its public ones do:
        the public cases are then the learner's check alone.
    """

    id: str
    notebook: str
    points: int
    signature: str
    cases: Callable[[], Sequence[PublicCase]]
    returns: str = "output"
    tolerance: float = 1e-6
    run: Callable[..., Any] | None = None
    misconceptions: Sequence[Misconception] = ()
    hints: Sequence[str] = field(default_factory=tuple)
    must_not_mutate: bool = True
    public_at_grading: bool = True

    answer_type = "code"

    @property
    def name(self) -> str:
        """The name of the function the learner writes."""
        return self.signature.split("(")[0].strip()

    def evaluate(self, answer: Any) -> CheckResult:
        """Run ``answer`` on every public case; never raises for a learner's answer."""
        if answer is None or answer is Ellipsis:
            return self._result(UNANSWERED, f"not answered yet. Write `{self.name}` in the answer cell and run it, "
                                            "then run this cell again.")
        if not callable(answer):
            return self._result(INVALID, f"this exercise expects a function, `{self.signature}`; you gave "
                                         f"{describe(answer)}. Pass the function itself (its name, no brackets).")
        outputs = []
        for number, case in enumerate(self.cases(), start=1):
            verdict = self._run_case(answer, number, case)
            if isinstance(verdict, CheckResult):
                return verdict
            outputs.append(verdict)
        if all(output is None for output in outputs):
            return self._result(UNANSWERED, f"not answered yet: `{self.name}` returns None. Write its body "
                                            "(and `return` the result), run the cell, then run this cell again.")
        if None in outputs:
            number = outputs.index(None) + 1
            return self._result(WRONG, f"not yet. On public case {number} ({self.cases()[number - 1].name}), "
                                       f"`{self.name}` returned None: is there a path through it without `return`?"
                                + hint_suffix(self.hints))
        cases = "its public case" if len(outputs) == 1 else f"all {len(outputs)} public cases"
        return self._result(CORRECT, f"correct on {cases}. Well done. When your notebook is graded, it also runs on "
                                     "data you have not seen.")

    def _run_case(self, answer: Any, number: int, case: PublicCase) -> Any:
        """The normalised output on one case, or a CheckResult saying what went wrong."""
        inputs = case.fresh_inputs()
        untouched = case.fresh_inputs()
        where = f"On public case {number} ({case.name})"
        try:
            raw = self.run(answer, **inputs) if self.run else answer(**inputs)
        except AnswerProblem as problem:
            return self._result(INVALID, f"{where}: {problem}")
        except NotImplementedError:
            return self._result(UNANSWERED, f"not answered yet: `{self.name}` raises NotImplementedError. "
                                            "Replace that line with your code.")
        except TypeError as error:
            if "argument" in str(error) and self.run is None:
                return self._result(INVALID, f"{where}, calling `{self.signature}` failed: {error}. Keep the "
                                             "argument names of the exercise.")
            return self._raised(where, error)
        except Exception as error:  # the learner's code may raise anything; say what, never crash
            return self._raised(where, error)
        if raw is None:
            return None
        if self.must_not_mutate:
            changed = changed_inputs(untouched, inputs)
            if changed:
                return self._result(WRONG, f"not yet. {where}, your function changed its argument "
                                           f"{', '.join(map(repr, changed))} in place. Work on a copy "
                                           "(e.g. `data = data.copy()`) so the caller's data stay as they were."
                                    + hint_suffix(self.hints))
        output, problem = normalise_output(raw, self.returns, case.expected)
        if problem:
            return self._result(INVALID, f"{where}, your function returned {describe(raw)}: {problem}")
        if outputs_match(output, case.expected, self.returns, self.tolerance):
            return output
        feedback = _first_feedback(self.misconceptions, output, case.expected, inputs)
        shown = f"{where}, `{self.name}` returned {short_repr(output)}."
        if feedback is None:
            feedback = f"The stored result for this case is {short_repr(case.expected)}."
        difference = first_difference(output, case.expected, self.returns, self.tolerance)
        if difference:  # long results are cut in the lines above; this names where they part
            feedback = f"{feedback} The first difference: {difference}."
        return self._result(WRONG, f"not yet. {shown} {feedback}" + hint_suffix(self.hints))

    def _raised(self, where: str, error: Exception) -> CheckResult:
        return self._result(WRONG, f"not yet. {where}, your function raised {type(error).__name__}: {error}"
                            + hint_suffix(self.hints))

    def _result(self, status: str, text: str) -> CheckResult:
        return CheckResult(self.id, status, f"{self.id}: {text}")


# ------------------------------------------------------------------- normalising and comparing


def normalise_output(raw: Any, returns: str, expected: Any) -> tuple[Any, str | None]:
    """A learner's output in the form the comparison uses, or None and what is wrong with it."""
    if returns == "auto":
        returns = "mapping" if isinstance(expected, Mapping) else "number"
    if returns == "record":
        return _as_record(raw, expected)
    if returns == "array":
        return _as_array(raw, expected)
    if returns == "rows":
        return _as_rows(raw, expected)
    if returns == "number":
        value = as_python_scalar(raw)
        if is_undefined(value):  # pandas' NA (None never gets here: it means "not answered yet")
            return math.nan, None
        if isinstance(value, bool) or not isinstance(value, Real):
            return None, "a single number was expected (use NaN, `float('nan')`, for an undefined result)."
        return float(value), None
    if returns == "mapping":
        return as_mapping(raw, [str(key) for key in dict(expected)], allow_nan=True)
    if returns == "boolean":
        value = as_python_scalar(raw)
        if not isinstance(value, bool):
            return None, "True or False was expected."
        return value, None
    if returns == "text":
        return (raw, None) if isinstance(raw, str) else (None, "text (a str) was expected.")
    if returns == "table":
        return _as_table(raw, expected)
    return raw, None


def _as_record(raw: Any, expected: Mapping) -> tuple[dict | None, str | None]:
    if hasattr(raw, "to_dict") and not hasattr(raw, "columns"):
        raw = raw.to_dict()  # a pandas Series of named values
    if not isinstance(raw, Mapping):
        return None, f"a dict with the keys {', '.join(map(repr, expected))} was expected."
    absent = [key for key in expected if key not in raw]
    if absent:
        return None, f"the result has no {', '.join(map(repr, absent))} (a dict with those keys was expected)."
    return {key: as_python_scalar(raw[key]) for key in expected}, None


def _as_array(raw: Any, expected: Sequence) -> tuple[list | None, str | None]:
    import numpy as np

    try:
        values = np.asarray([math.nan if is_undefined(v) else v for v in np.asarray(raw, dtype=object).ravel()],
                            dtype=float)
    except (TypeError, ValueError):
        return None, "an array of numbers was expected."
    if len(values) != len(expected):
        return None, f"{len(expected)} numbers were expected (one per row), not {len(values)}."
    return values.tolist(), None


def _as_rows(raw: Any, expected: Sequence) -> tuple[list | None, str | None]:
    if not (hasattr(raw, "columns") and hasattr(raw, "itertuples")):
        return None, "a pandas DataFrame (one row per item) was expected."
    width = len(expected[0]) if expected else len(raw.columns)
    if len(raw.columns) != width:
        return None, f"a table with {width} columns was expected; it has {len(raw.columns)}: {list(raw.columns)}."
    return [[as_python_scalar(value) for value in row] for row in raw.itertuples(index=False)], None


def _as_table(raw: Any, expected: Mapping) -> tuple[dict | None, str | None]:
    if not (hasattr(raw, "columns") and hasattr(raw, "loc")):
        return None, "a pandas DataFrame was expected."
    by_row = {normalise(key): key for key in raw.index}
    unique = raw.index.is_unique and raw.columns.is_unique  # then a column reads as one dict: fast on big tables
    table = {}
    for column, rows in dict(expected).items():
        if column not in raw.columns:
            return None, f"the table has no column {column!r} (its columns are {list(raw.columns)})."
        values = raw[column].to_dict() if unique else None
        table[column] = {}
        for row in dict(rows):
            key = by_row.get(normalise(row))
            if key is None:
                return None, f"the table has no row {row!r} (its rows are {[str(k) for k in raw.index][:10]})."
            table[column][row] = as_python_scalar(values[key] if unique else raw.loc[key, column])
    return table, None


def outputs_match(output: Any, expected: Any, returns: str, tolerance: float) -> bool:
    """True when a normalised output equals the stored result (NaN equals NaN: both undefined)."""
    if returns == "auto":
        returns = "mapping" if isinstance(expected, Mapping) else "number"
    if returns == "record":
        return all(values_match(output[key], value, tolerance) for key, value in dict(expected).items())
    if returns == "array":
        return len(output) == len(expected) and all(numbers_match(a, b, tolerance) for a, b in zip(output, expected))
    if returns == "rows":
        return _same_rows(output, expected, tolerance)
    if returns == "mapping":
        return all(numbers_match(output[key], value, tolerance) for key, value in dict(expected).items())
    if returns == "table":
        return all(values_match(output[column][row], value, tolerance)
                   for column, rows in dict(expected).items() for row, value in dict(rows).items())
    return values_match(output, expected, tolerance)


def first_difference(output: Any, expected: Any, returns: str, tolerance: float) -> str | None:
    """Where a normalised output first differs from the stored result, with both values, in a learner's words.

    Examples
    --------
    >>> first_difference({"a": {"x": 1.0, "y": 2.0}}, {"a": {"x": 1.0, "y": 3.0}}, "table", 1e-6)
    "column 'a', row 'y': yours 2.0, expected 3.0"
    >>> first_difference([0.1, 0.2], [0.1, 0.2], "array", 1e-6) is None
    True
    """
    if returns == "auto":
        returns = "mapping" if isinstance(expected, Mapping) else "number"
    try:
        if returns == "table":
            for column, rows in dict(expected).items():
                for row, value in dict(rows).items():
                    if not values_match(output[column][row], value, tolerance):
                        return (f"column {column!r}, row {row!r}: yours {short_repr(output[column][row], 60)}, "
                                f"expected {short_repr(value, 60)}")
        elif returns in ("record", "mapping"):
            for key, value in dict(expected).items():
                if not values_match(output[key], value, tolerance):
                    return f"{key!r}: yours {short_repr(output[key], 60)}, expected {short_repr(value, 60)}"
        elif returns == "array":
            for position, (mine, value) in enumerate(zip(output, expected)):
                if not numbers_match(mine, value, tolerance):
                    return f"position {position}: yours {short_repr(mine, 60)}, expected {short_repr(value, 60)}"
    except (KeyError, TypeError, IndexError):
        return None
    return None


def _same_rows(rows: list, expected: Sequence, tolerance: float) -> bool:
    """The same rows in any order: each expected row matches one output row, none left over."""
    left = list(rows)
    for wanted in expected:
        match = next((i for i, row in enumerate(left) if len(row) == len(wanted)
                      and all(values_match(a, b, tolerance) for a, b in zip(row, wanted))), None)
        if match is None:
            return False
        left.pop(match)
    return not left


def is_undefined(value: Any) -> bool:
    """True for the three ways learners write "undefined": NaN, None and pandas' NA."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ == "NAType"  # pandas.NA, without importing pandas here


def values_match(a: Any, b: Any, tolerance: float) -> bool:
    a, b = as_python_scalar(a), as_python_scalar(b)
    if is_undefined(b) or is_undefined(a):  # undefined matches undefined, whichever way it is written
        return is_undefined(a) and is_undefined(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, Real) and isinstance(b, Real):
        return numbers_match(a, b, tolerance)
    if isinstance(b, str):
        return isinstance(a, str) and normalise(a) == normalise(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def numbers_match(a: Any, b: Any, tolerance: float) -> bool:
    if is_undefined(a) or is_undefined(b):
        return is_undefined(a) and is_undefined(b)
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=0, abs_tol=tolerance)


def changed_inputs(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Names of the arguments whose value differs after the call (changed in place)."""
    changed = []
    for name, original in before.items():
        now = after[name]
        try:
            if hasattr(original, "equals"):  # pandas: equals() treats NaN in the same place as equal
                same = type(now) is type(original) and original.equals(now)
            elif hasattr(original, "shape"):  # numpy
                import numpy as np

                same = np.array_equal(original, now, equal_nan=original.dtype.kind == "f")
            elif hasattr(original, "get_params"):  # a scikit-learn estimator: same settings, and not fitted in place
                same = _estimator_state(original) == _estimator_state(now)
            else:
                same = original == now
        except (TypeError, ValueError):
            same = False
        if not same:
            changed.append(name)
    return changed


def _estimator_state(estimator: Any) -> tuple:
    """What an estimator is: its class, its parameters, and which fitted attributes (``coef_``...) it has."""
    fitted = sorted(name for name in vars(estimator) if name.endswith("_") and not name.startswith("_"))
    return type(estimator), repr(estimator.get_params(deep=False)), fitted


# --------------------------------------------------------------------------------- small helpers


def as_mapping(answer: Any, expected_keys: list[str], allow_nan: bool = False) -> tuple[dict | None, str | None]:
    """The answer as ``{expected group name: float}``, or None and what is wrong with it.

    Accepts a dict, a pandas Series (index = groups) or a one-column DataFrame.  Group names
    are matched to the expected ones ignoring case and extra spaces.
    """
    example = "{" + ", ".join(f"{key!r}: ..." for key in expected_keys[:2]) + ", ...}"
    expects = (f"this question expects one number per group ({', '.join(map(repr, expected_keys))}), "
               f"as a dict such as {example} or a pandas Series")
    if hasattr(answer, "columns") and hasattr(answer, "iloc") and len(getattr(answer, "columns", ())) == 1:
        answer = answer.iloc[:, 0]  # a one-column DataFrame, e.g. table[["fnr"]]
    if hasattr(answer, "to_dict") and hasattr(answer, "index") and not hasattr(answer, "columns"):
        answer = answer.to_dict()  # a pandas Series
    if not isinstance(answer, dict):
        single = isinstance(as_python_scalar(answer), Real) and not isinstance(answer, bool)
        why = (" You gave a single number: that pools every group into one value." if single
               else f" You gave {describe(answer)}.")
        return None, f"{expects}.{why}"
    by_name = {normalise(key): key for key in expected_keys}
    given = {}
    for key, value in answer.items():
        name = by_name.get(normalise(key))
        if name is None:
            return None, (f"{expects}; {key!r} is not one of the groups. "
                          f"The groups are: {', '.join(map(repr, expected_keys))}.")
        value = as_python_scalar(value)
        if is_undefined(value) and allow_nan:
            value = math.nan
        if isinstance(value, bool) or not isinstance(value, Real):
            return None, f"{expects}; the value for {name!r} is {describe(value)}, not a number."
        if not allow_nan and not math.isfinite(float(value)):
            return None, (f"{expects}; the value for {name!r} is {value!r}. "
                          "Did a calculation divide by zero or use missing data?")
        given[name] = float(value)
    absent = [key for key in expected_keys if key not in given]
    if absent:
        return None, f"{expects}; your answer has no value for {', '.join(map(repr, absent))}."
    return given, None


def as_python_scalar(value: Any) -> Any:
    """Unwrap numpy scalars and one-element arrays/Series, which learners often produce."""
    if hasattr(value, "item") and getattr(value, "size", None) == 1:
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def describe(value: Any) -> str:
    """A few words for a learner on what a value is, e.g. "text (a str)" or "a DataFrame of size (3, 2)"."""
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    if isinstance(value, str):
        return f"text (a {kind})"
    size = getattr(value, "shape", None) or (len(value) if hasattr(value, "__len__") else None)
    return f"{article} {kind} of size {size}" if size is not None else f"{article} {kind}"


def short_repr(value: Any, limit: int = 160) -> str:
    """A one-line rendering of an output for feedback: numbers rounded to 4 places."""
    def show(item):
        if isinstance(item, float):
            return "nan" if math.isnan(item) else repr(round(item, 4))
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in item.items()) + "}"
        return repr(item)

    text = " ".join(show(as_python_scalar(value)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def normalise(text: Any) -> str:
    return " ".join(str(text).strip().lower().split())


def hint_suffix(hints: Sequence[str]) -> str:
    return f"\n   Hint: {hints[0]}" if hints else ""
