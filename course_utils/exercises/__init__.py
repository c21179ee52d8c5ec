"""The exercise engine: immediate feedback on graded exercises, hints and progress.

Every graded exercise has a stable id (``"orient-n-patients"``) and a question in
:mod:`course_utils.exercises.questions`.  In a notebook a learner calls::

    check("orient-n-patients", n_patients)        # a value answer
    check("orient-share-function", share_of)      # a code answer: the function itself

and reads one short line: correct, "not answered yet", or what looks wrong and a hint toward the
misconception -- never the answer.  A code answer is run on the question's *public cases*
(:func:`show_cases` prints them); when the notebook is graded, the instructor's judge runs it on
inputs the learner never sees, outside the learner's kernel.  A value answer is checked against
digests of the right value (:mod:`~course_utils.exercises._answer_key`), never the value itself.
:func:`hint` gives the next hint, :func:`progress` lists where the learner stands in a notebook.

``check`` never raises, so "Run All" on an unanswered notebook reaches the end -- except under
``nbgrader autograde`` (``NBGRADER_EXECUTION`` set), where a wrong answer raises ``AssertionError``
so that nbgrader, which scores a cell by its error, can grade the public cases.

This package imports nothing from the instructor tools, and holds no reference implementation of
any code answer, no value answer and no hidden case.

Examples
--------
>>> from course_utils.exercises import evaluate
>>> evaluate("orient-n-patients", None).status
'unanswered'
>>> evaluate("orient-n-patients", "lots").message.splitlines()[0]
'orient-n-patients: this question expects a whole number; you gave text (a str).'
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from course_utils.exercises._question import (
    CORRECT,
    INVALID,
    SYMBOLS,
    UNANSWERED,
    WRONG,
    CheckResult,
    CodeQuestion,
    Question,
    describe,
    short_repr,
)
from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS, notebook_id

__all__ = [
    "CheckResult",
    "check",
    "evaluate",
    "hint",
    "progress",
    "reset_progress",
    "show_cases",
]

# What this kernel has checked so far: question id -> status, and hints shown per question.
_results: dict[str, str] = {}
_hints_shown: dict[str, int] = {}


def _lookup(question_id: Any) -> Question | CodeQuestion | str:
    """The question, or a friendly message saying why there is none."""
    if not isinstance(question_id, str):
        return f"A question id is text such as 'orient-n-patients'; you gave {describe(question_id)}."
    if question_id in QUESTIONS:
        return QUESTIONS[question_id]
    close = difflib.get_close_matches(question_id, QUESTIONS, n=3, cutoff=0.6)
    suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"There is no question called {question_id!r}.{suggestion} Copy the id from the exercise's check cell."


def evaluate(question_id: str, answer: Any) -> CheckResult:
    """Check an answer and return the result without printing it.

    Parameters
    ----------
    question_id : str
        The exercise's id, as written in its check cell.
    answer : object
        The learner's answer -- a value, or for a code exercise the function itself;
        ``None`` means "not answered yet".

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
    if question_id in QUESTIONS:
        _results[result.question_id] = result.status
    print(result)
    if os.environ.get("NBGRADER_EXECUTION") == "autograde" and not result.passed:
        # nbgrader scores a test cell by whether it shows an error; course grade never runs check().
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
        print(f"{SYMBOLS[INVALID]} {question}")
        return
    if not question.hints:
        print(f"💡 {question.id}: no hints for this one -- reread the exercise text.")
        return
    shown = min(_hints_shown.get(question.id, 0), len(question.hints) - 1)
    _hints_shown[question.id] = shown + 1
    print(f"💡 {question.id} (hint {shown + 1} of {len(question.hints)}): {question.hints[shown]}")


def show_cases(question_id: str, full: bool = False) -> None:
    """Print the public cases of a code exercise: the inputs your function gets and what it should return.

    Parameters
    ----------
    question_id : str
        The exercise's id, as in its check cell.
    full : bool, default False
        False: one line per input, long values cut short (``...``).  True: every case whole, as pandas and
        NumPy show it -- a table with its index and columns, every value of an array -- so you can rebuild a
        case in your notebook and step through it.

    Examples
    --------
    >>> show_cases("orient-share-function")  # doctest: +ELLIPSIS
    Public cases of orient-share-function -- share_of(data, column, value):
      1. ...
    >>> show_cases("orient-share-function", full=True)  # doctest: +ELLIPSIS
    Public cases of orient-share-function -- share_of(data, column, value), each case whole:
    <BLANKLINE>
      1. ...
         data =
    ...
    """
    question = _lookup(question_id)
    if isinstance(question, str) or not isinstance(question, CodeQuestion):
        why = question if isinstance(question, str) else f"{question_id!r} asks for a value, not code: it has no public cases."
        print(f"{SYMBOLS[INVALID]} {why}")
        return
    if full:
        print(f"Public cases of {question.id} -- {question.signature}, each case whole:")
        for number, case in enumerate(question.cases(), start=1):
            print(f"\n  {number}. {case.name}")
            for name, value in case.inputs.items():
                print(f"     {name} =\n{_indented(_whole(value))}")
            print(f"     returns\n{_indented(_whole_expected(_keys_as_given(case), question.returns))}")
        return
    print(f"Public cases of {question.id} -- {question.signature}:")
    cut = False
    for number, case in enumerate(question.cases(), start=1):
        shown = [f"{name}={_show_input(value)}" for name, value in case.inputs.items()]
        one_call = _one_scenario_call(case.inputs)
        if one_call:  # every argument comes from one generator call: show the call, once
            shown = [f"**{one_call}"]
        expected = short_repr(_keys_as_given(case))
        cut = cut or any(text.endswith("...") or "...," in text or "...)" in text for text in [*shown, expected])
        call = f"{question.name}({', '.join(shown)})"
        if getattr(case.inputs, "call", "") and getattr(question, "run", None) is not None:
            # the check's harness hands the function what it takes from the scenario (a model as predict, ...)
            call = f"{question.name} on {one_call}"
        print(f"  {number}. {case.name}\n     {call}\n     -> {expected}")
    if cut:
        print(f"  (values cut short with ...: show_cases({question.id!r}, full=True) shows every case whole)")


def _keys_as_given(case) -> Any:
    """The case's expected result, a mapping's keys shown as the inputs give them.

    A mapping travels with text keys (``{'6': 0.89}``); when an input lists the same values (``values=[6, 0]``),
    show them as given, so that a learner reads ``{6: 0.89}`` and returns a Series indexed by the numbers.
    """
    expected = case.expected
    if not isinstance(expected, dict) or not all(isinstance(key, str) for key in expected):
        return expected
    for value in case.inputs.values():
        given = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(given, list) and len(given) == len(expected) and \
                sorted(map(str, given)) == sorted(expected) and any(not isinstance(v, str) for v in given):
            return {original: expected[str(original)] for original in given}
    return expected


def _one_scenario_call(inputs: dict) -> str | None:
    """The generator call every table of ``inputs`` came from (``sweep_scenario(...)``), if there is one and it
    returned exactly these arguments."""
    from course_utils.exercises._cases import SCENARIO_CALL

    if getattr(inputs, "call", ""):  # the case's inputs are one generator call's result
        return inputs.call
    tables = [value for value in inputs.values() if hasattr(value, "attrs")]
    calls = {table.attrs.get(SCENARIO_CALL, "").rsplit("[", 1)[0] for table in tables}
    if len(calls) != 1 or "" in calls or len(tables) < 2:
        return None
    return calls.pop()


def _show_input(value: Any) -> str:
    from course_utils.exercises._cases import SCENARIO_CALL

    if SCENARIO_CALL in getattr(value, "attrs", {}):  # a simulated audit: the call that rebuilds it
        return f"{value.attrs[SCENARIO_CALL]} (a DataFrame of {len(value):,} rows)"
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame: its columns as lists
        return "DataFrame(" + short_repr({c: value[c].tolist() for c in value.columns}, limit=400) + ")"
    if hasattr(value, "tolist"):
        return short_repr(value.tolist(), limit=200)
    return short_repr(value)


def _indented(text: str) -> str:
    return "\n".join("        " + line for line in text.splitlines())


def _whole(value: Any) -> str:
    """An input as pandas or NumPy shows it, nothing left out: a table with its index, an array in full."""
    import pprint

    import numpy as np
    import pandas as pd

    from course_utils.exercises._cases import SCENARIO_CALL

    if SCENARIO_CALL in getattr(value, "attrs", {}):  # a simulated audit: its first rows, and the call that rebuilds it
        with pd.option_context("display.max_columns", None, "display.width", 120):
            text = value.head(8).to_string()
        return (f"{text}\n(the first 8 of {len(value):,} rows: rebuild the whole DataFrame with\n "
                f"from course_utils.scenarios import *; {value.attrs[SCENARIO_CALL]})")
    if isinstance(value, (pd.DataFrame, pd.Series)):
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 120):
            text = value.to_string()
        kind = f"dtype {value.dtype}" if isinstance(value, pd.Series) else "a DataFrame"
        return f"{text}\n({kind}, {len(value)} rows)"
    if isinstance(value, np.ndarray):
        with np.printoptions(threshold=np.inf, linewidth=110):
            return f"np.{value!r}"
    return pprint.pformat(value, width=110, sort_dicts=False)


def _whole_expected(expected: Any, returns: str) -> str:
    """What the function should return, in the form it takes: a table as a DataFrame (groups as its index), one
    number per group as a Series, a record or a list as itself; number keys stay numbers."""
    import pprint

    import pandas as pd

    if isinstance(expected, dict) and expected and all(isinstance(v, dict) for v in expected.values()) \
            and returns == "table":
        return _whole(pd.DataFrame(expected))
    if isinstance(expected, dict) and returns in ("mapping", "auto"):
        return _whole(pd.Series(expected, dtype=float))
    return pprint.pformat(expected, width=110, sort_dicts=False)


def progress(notebook: str | None = None) -> None:
    """Print which graded questions of a notebook pass, as checked in this session.

    Parameters
    ----------
    notebook : str, optional
        A notebook's id such as ``"01"`` or ``"02b"`` (``1`` and ``"2b"`` work too).  By default every notebook
        with at least one question checked in this session.

    Examples
    --------
    >>> progress("99")  # doctest: +ELLIPSIS
    ⚠️ There is no notebook '99'. Notebooks with graded questions: 00, 01, ...
    """
    numbers = sorted(NOTEBOOKS)
    notebook = None if notebook is None else notebook_id(notebook)
    if notebook is not None and notebook not in numbers:
        print(f"{SYMBOLS[INVALID]} There is no notebook {notebook!r}. "
              f"Notebooks with graded questions: {', '.join(numbers)}.")
        return
    wanted = [str(notebook)] if notebook is not None else sorted(
        {QUESTIONS[qid].notebook for qid in _results if qid in QUESTIONS})
    if not wanted:
        print("No answers checked yet in this session. Run a check cell, then ask again.")
        return
    for number in wanted:
        _print_notebook_progress(number, [q for q in QUESTIONS.values() if q.notebook == number])


_STATUS_WORDS = {CORRECT: "correct", WRONG: "not yet", UNANSWERED: "not answered", INVALID: "needs a valid answer"}


def _print_notebook_progress(number: str, questions: list) -> None:
    done = [q for q in questions if _results.get(q.id) == CORRECT]
    earned, total = sum(q.points for q in done), sum(q.points for q in questions)
    print(f"Notebook {number}: {len(done)} of {len(questions)} auto-checked questions correct "
          f"({earned}/{total} points on the visible checks)")
    for q in questions:
        status = _results.get(q.id)
        kind = "code" if q.answer_type == "code" else "value"
        print(f"  {SYMBOLS.get(status, '·')} {q.id:<34} {kind:<5} {_STATUS_WORDS.get(status, 'not checked yet')}")


def reset_progress() -> None:
    """Forget every result and hint shown in this session (for a fresh start)."""
    _results.clear()
    _hints_shown.clear()
