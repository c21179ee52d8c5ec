"""Hidden cases: what the judge runs a learner's answers on, and what it compares them with.

A notebook's hidden cases live with the instructor material, in ``solutions/hidden/NN_topic.py``
(never in the learner edition, never in a grading sandbox).  Such a module defines:

``VALUES``
    ``{question id: Value(expected=..., wrong={...})}`` for each value question: a function that
    computes the answer from the shipped data, and named wrong values (the test patients' count where
    the validation patients' was asked) whose digests let the check name the mistake.
``CASES``
    ``{question id: [HiddenCase(...), ...]}`` for each code question.  A case has the same parts as a
    public case in ``course_utils/exercises/questions/cases/<id>.yaml`` -- a name, inputs, the expected
    result -- and, being Python, may build its inputs with a seeded generator and compute its
    reference from them, or state a property instead of one result.
``SCORING`` (optional)
    ``{question id: function(results) -> share of the points}`` for questions graded by how many
    cases pass (a decision judged on many scenarios); by default a question earns its points when
    every case passes, public and hidden.

Examples
--------
>>> case = HiddenCase("an empty table", inputs=lambda: {"x": []}, expected=float("nan"), reveal=True,
...                   explain="a table with no rows has no share: NaN, not 0")
>>> case.inputs()
{'x': []}
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.exercises.questions import notebook_id
from course_utils.instructor import release

HIDDEN_DIR = release.SOLUTIONS_DIR / "hidden"
NOTHING = object()  # "no expected result given": the case has a reference or a property instead


@dataclass(frozen=True)
class HiddenCase:
    """One hidden case of a code question.

    Parameters
    ----------
    name : str
        What the case is, in a learner's words ("a group without positives"); the feedback shows it.
    inputs : callable or mapping
        The arguments the learner's function is called with (a function that builds them, seeded).
        Tables, Series, arrays, numbers, text, and scikit-learn estimators -- unfitted, or fitted with
        :func:`course_utils.exercises._transfer.fitted` -- travel to the sandbox as data.
    expected : optional
        The reference result, as a public case states it.
    reference : callable, optional
        ``reference(**inputs) -> expected``: computed in the grader's process from the inputs exactly
        as the learner's code receives them (written, then read back).  Prefer an independent
        computation (plain pandas, the library itself) to a copy of the solution.
    check : callable, optional
        ``check(output, inputs) -> None or str``: a property of the learner's raw output (decoded
        data), ``None`` when it holds, otherwise what is wrong in a learner's words.  For answers with
        more than one right result (a Pareto front's order, an escalation policy).
    explain : str
        What failing this case means, in a learner's words; shown after a failure.
    reveal : bool
        Show the expected result when the case fails.  Only where the exercise's contract fixes it
        already (NaN for a group without positives, an empty list): a number the learner could copy
        into a later hand-in is never shown.
    """

    name: str
    inputs: Callable[[], Mapping[str, Any]] | Mapping[str, Any]
    expected: Any = NOTHING
    reference: Callable[..., Any] | None = None
    check: Callable[[Any, dict], str | None] | None = None
    explain: str = ""
    reveal: bool = False

    def __post_init__(self):
        given = [self.expected is not NOTHING, self.reference is not None, self.check is not None]
        if sum(given) != 1:
            raise ValueError(f"hidden case {self.name!r}: give exactly one of expected, reference or check")

    def build_inputs(self) -> dict:
        return dict(self.inputs() if callable(self.inputs) else self.inputs)


# --- decisions judged on many simulated scenarios ---------------------------------------------------------------

#: A decision exercise is judged on many scenarios with a planted truth: each one decided wrongly costs this
#: fraction of its points (1/8), so a function that always gives the same answer scores 0.
DECISION_ERRORS_FOR_ZERO = 8


def decision_score(results) -> float:
    """The share of the points: each scenario decided wrongly (a miss or a false alarm) costs 1/8 of them."""
    wrong = sum(not result.passed for result in results)
    return max(0.0, 1.0 - wrong / DECISION_ERRORS_FOR_ZERO)


def decision_check(truth, *, nothing: str, false_alarm: str, missed: str, wrong: str):
    """The property of one scenario: ``None`` when the output is its truth, else a miss or a false alarm in words.

    ``nothing`` is the answer that names no finding ("cannot tell", "chance"); the truth stays here, in the grader.
    """
    def check(output, given):
        if output == truth:
            return None
        if truth == nothing:
            return f"a false alarm: {output!r}, {false_alarm}"
        return missed if output == nothing else f"{wrong} ({output!r})"
    return check


def first_clear(make, truth, clear, seed: int, attempts: int = 500):
    """The scenario of the first seed from ``seed`` on that is clear-cut: ``clear(truth, inputs)`` says every valid
    test agrees with ``truth``.  Grading only on clear-cut scenarios means a valid method never loses a point."""
    for attempt in range(seed, seed + attempts):
        inputs = make(attempt)
        if clear(truth, inputs):
            return inputs
    raise RuntimeError(f"no clear-cut scenario near seed {seed}: change the settings")


def in_no_telling_order(cases: list, seed: int) -> list:
    """The cases in a fixed shuffled order: a case's position (its id in a sandbox) says nothing of its truth."""
    import numpy as np

    return [cases[i] for i in np.random.default_rng(seed).permutation(len(cases))]


@dataclass(frozen=True)
class Value:
    """How the instructor's material computes a value answer, and its named wrong values."""

    expected: Callable[[], Any]
    wrong: Mapping[str, Callable[[], Any]] = field(default_factory=dict)


def answer_key(question, value: Value, rounds: int | None = None):
    """The answer key of a value question: digests of its expected value and of its named wrong values.

    ``rounds=0``: the grader's own copy, grid keys unhashed (the same acceptance, without the slow hash).
    """
    from course_utils.exercises._answer_key import ROUNDS, AnswerKey

    return AnswerKey.of(question.id, question.kind, value.expected(), question.tolerance,
                        {name: compute() for name, compute in value.wrong.items()},
                        ROUNDS if rounds is None else rounds)


def answer_keys() -> dict:
    """The answer key of every value question of the course, computed from the hidden modules."""
    from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS

    keys = {}
    for notebook in sorted(NOTEBOOKS):
        for question_id, value in load_hidden(notebook).values.items():
            keys[question_id] = answer_key(QUESTIONS[question_id], value)
    return keys


@dataclass(frozen=True)
class HiddenModule:
    """One notebook's hidden material, as its ``solutions/hidden`` module defines it."""

    notebook: str
    path: Path
    values: Mapping[str, Value]
    cases: Mapping[str, list[HiddenCase]]
    scoring: Mapping[str, Callable[[list], float]]


def hidden_path(notebook: str, hidden_dir: Path = HIDDEN_DIR) -> Path:
    """``solutions/hidden/NN_topic.py`` for notebook ``NN``.

    The parts of a notebook in parts (02a, 02b) share one module, named by the number alone (``02_topic.py``):
    their exercises share references and generators.
    """
    stem = release.solution_path(notebook).stem
    own = Path(hidden_dir) / f"{stem}.py"
    shared = sorted(Path(hidden_dir).glob(f"{stem[:2]}_*.py"))
    return own if own.is_file() or len(shared) != 1 else shared[0]


@functools.cache
def _import_hidden(path: Path):
    """Import one hidden module file (once per process, also when two notebook parts share it)."""
    name = f"course_hidden_{path.stem.split('_')[0]}"  # course_hidden_01; 02a and 02b share course_hidden_02
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def load_hidden(notebook: str, hidden_dir: Path = HIDDEN_DIR) -> HiddenModule:
    """Import notebook ``notebook``'s hidden module (once per process) and check it names real questions.

    Every value question needs its value; a code question without hidden cases is judged on its public
    cases alone (``tests/test_judge.py`` requires hidden cases for every one).  A module shared by the parts of
    a notebook gives each part its own questions' material.
    """
    from course_utils.exercises.questions import QUESTIONS

    notebook = notebook_id(notebook)
    path = hidden_path(notebook, hidden_dir)
    module = _import_hidden(path)
    own = {qid for qid, question in QUESTIONS.items() if question.notebook == notebook}
    # A module shared by 02a and 02b holds both parts' material: leave out the other part's questions.
    siblings = {qid for qid, question in QUESTIONS.items()
                if question.notebook != notebook and question.notebook[:2] == notebook[:2]}
    material = [{qid: item for qid, item in dict(getattr(module, kind, {})).items() if qid not in siblings}
                for kind in ("VALUES", "CASES", "SCORING")]
    hidden = HiddenModule(notebook, path, *material)
    for kind, questions, answer_type in (("VALUES", hidden.values, "value"), ("CASES", hidden.cases, "code")):
        for question_id in questions:
            if question_id not in own or QUESTIONS[question_id].answer_type != answer_type:
                raise ValueError(f"{path.name}: {kind} names {question_id!r}, which is not a {answer_type} question "
                                 f"of notebook {notebook}")
    missing = sorted(qid for qid in own if QUESTIONS[qid].answer_type == "value" and qid not in hidden.values)
    if missing:
        raise ValueError(f"{path.name}: no expected value for {', '.join(missing)}")
    return hidden
