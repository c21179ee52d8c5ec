"""The judge: verdicts made in the grader's own process, from data a hand-in's kernel returned.

Programming-contest judges separate running from judging, and so does ``course grade``:

1. :class:`Judge` writes every case's *inputs* -- the public cases of ``questions/cases/`` and the hidden
   cases of ``solutions/hidden/`` -- into a folder that each sandbox shows read-only, and computes the
   reference results here, from the inputs exactly as they were written.  References and pass criteria
   never leave this process.
2. In the hand-in's kernel, each graded check cell runs :mod:`course_utils.exercises._harness` instead of
   ``check(...)`` (:meth:`Judge.harness_source`): it calls the learner's answer on the inputs and writes
   what came back as JSON.
3. :meth:`Judge.verdict` reads that JSON (a plain file, size-capped, no links followed), rebuilds the
   data, and compares it with the reference using the exercise engine's own comparison -- the one the
   visible check makes -- or evaluates the case's property.  Nothing printed, raised, hooked or patched in
   the kernel reaches this step: only the returned data does, and data that is not right earns nothing.

The feedback is written here too: for each failed case its name and what the comparison found, and of
the learner's own exception only its class and the first 200 characters of its message.  A hidden
case's expected result is shown only where the exercise's contract already fixes it (``reveal``): a
number a learner could copy into their next hand-in never is.

Examples
--------
>>> import tempfile, pathlib
>>> judge = Judge("00", pathlib.Path(tempfile.mkdtemp()))
>>> sorted(judge.questions)
['orient-justice-principle', 'orient-n-patients', 'orient-share-function']
>>> print(judge.harness_source("orient-n-patients", "/tmp/answers"))  # doctest: +ELLIPSIS
__import__("course_utils.exercises._harness", fromlist=["answer"]).answer('orient-n-patients', lambda: (n_patients), ...
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils.exercises._answer_key import AnswerKey, parse_keys
from course_utils.exercises._harness import CASES_FILE
from course_utils.exercises._question import (
    CORRECT,
    INVALID,
    UNANSWERED,
    WRONG,
    CodeQuestion,
    Question,
    describe,
    first_misconception,
    misconception_id,
    normalise_output,
    outputs_match,
    short_repr,
)
from course_utils.exercises._transfer import decode, encode, read_json_file, read_value, write_value
from course_utils.exercises.questions import notebook_id
from course_utils.instructor import cases as hidden_cases
from course_utils.instructor.cases import NOTHING

ANSWER_BYTES = 64_000_000    # the most a hand-in's answer file may hold
SHOWN_FAILURES = 3           # failed cases named in one question's feedback
RETURNS_FORM = {"number": "a single number", "mapping": "one number per group (a dict or a pandas Series)",
                "auto": "a number, or one number per group", "record": "a dict of named values",
                "array": "an array of numbers", "rows": "a pandas DataFrame", "boolean": "True or False",
                "text": "text (a str)", "table": "a pandas DataFrame", "output": "data (numbers, text, tables)"}


@dataclass(frozen=True)
class PlannedCase:
    """One case as the judge runs it: its inputs written to the cases folder, its reference kept here."""

    case_id: str
    name: str
    public: bool
    inputs: dict                  # the inputs' data, as written to the cases folder
    expected: Any = NOTHING
    check: Any = None
    explain: str = ""
    reveal: bool = False


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    name: str
    public: bool
    passed: bool
    finding: str = ""
    answered: bool = True  # False: the function raised NotImplementedError or returned None
    misconception: str = ""  # the id of the question's misconception the output shows, if one does (for reports)


@dataclass
class Verdict:
    """The judge's verdict on one question: points, a status, the learner's message, and each case."""

    question_id: str
    points: float
    max_points: float
    status: str
    message: str
    cases: list[CaseResult] = field(default_factory=list)
    misconceptions: list[str] = field(default_factory=list)  # ids of the misconceptions seen, for the class report


def _public_at_grading(question: CodeQuestion) -> tuple:
    """The public cases the judge runs too: all of them, unless the question's cases are too costly to run twice."""
    return tuple(question.cases()) if question.public_at_grading else ()


class Judge:
    """Everything the grader needs to judge one notebook's questions, prepared once per class.

    Parameters
    ----------
    notebook : str
        The notebook's number, e.g. ``"01"``.
    folder : path
        A folder of the class's scratch space; ``folder / "cases"`` receives the inputs every sandbox
        reads (read-only) -- inputs only, never a reference result.  A judge prepared before for the same
        material is read from :func:`cache_entry` instead (its ``cases`` folder is then shown to the sandboxes).
    hidden_dir : path, optional
        Where the hidden modules are (default ``solutions/hidden``).
    only : sequence of str, optional
        Prepare only these questions (default: every question of the notebook).
    cache : bool
        Read and keep a prepared judge in the cache (never with ``only`` or ``hidden_dir``).
    """

    def __init__(self, notebook: str, folder: Path, hidden_dir: Path | None = None, only: Sequence[str] | None = None,
                 cache: bool = True):
        from course_utils.exercises.questions import QUESTIONS

        self.notebook = notebook_id(notebook)
        hidden = hidden_cases.load_hidden(self.notebook, *([hidden_dir] if hidden_dir else []))
        self.scoring = hidden.scoring
        self.questions = {qid: q for qid, q in QUESTIONS.items()
                          if q.notebook == self.notebook and (only is None or qid in only)}
        self.keys: dict[str, AnswerKey] = {}
        self.plans: dict[str, list[PlannedCase]] = {}
        entry = cache_entry(self.notebook) if cache and only is None and hidden_dir is None else None
        if entry is not None and self._load(entry, hidden):
            self.cases_dir = entry / "cases"
            return
        self.cases_dir = Path(folder) / "cases"
        self.cases_dir.mkdir(parents=True, exist_ok=True)
        manifest = {}
        for qid, question in self.questions.items():
            if question.answer_type == "value":
                # the grader's own key: the learners' grid, unhashed (it never leaves this process and its cache)
                self.keys[qid] = hidden_cases.answer_key(question, hidden.values[qid], rounds=0)
            else:
                self.plans[qid] = self._plan(question, hidden.cases.get(qid, []))
                manifest[qid] = [{"id": case.case_id, "inputs": case.inputs} for case in self.plans[qid]]
        (self.cases_dir / CASES_FILE).write_text(json.dumps(manifest), encoding="utf-8")
        shutil.rmtree(self.cases_dir / ".staging", ignore_errors=True)
        if entry is not None:
            self._save(entry)

    # --- the cache: a class graded again needs no new inputs or references ----------------------------------

    def _save(self, entry: Path) -> None:
        """Keep the cases' inputs and the references for the next class (written aside, then renamed: atomic)."""
        staging = entry.with_name(f"{entry.name}.{os.getpid()}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(self.cases_dir, staging / "cases")
        record = {"keys": {qid: key.to_json() for qid, key in self.keys.items()},
                  "plans": {qid: [{"id": case.case_id, "inputs": case.inputs,
                                   "expected": None if case.expected is NOTHING else encode(case.expected)}
                                  for case in cases] for qid, cases in self.plans.items()}}
        # Beside the cases folder, never in it: only cases/ is shown to a sandbox.
        (staging / "references.json").write_text(json.dumps(record), encoding="utf-8")
        try:
            os.rename(staging, entry)
        except OSError:  # another grader saved the same entry first
            shutil.rmtree(staging, ignore_errors=True)

    def _load(self, entry: Path, hidden) -> bool:
        """Plans and keys from a saved entry; False (nothing set) unless it fits this notebook's cases exactly."""
        try:
            record = json.loads((entry / "references.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        keys = parse_keys(json.dumps(record["keys"]))
        plans = {}
        for qid, question in self.questions.items():
            if question.answer_type == "value":
                if qid not in keys:
                    return False
                continue
            public, secret = _public_at_grading(question), hidden.cases.get(qid, [])
            saved = record["plans"].get(qid, [])
            if len(saved) != len(public) + len(secret):
                return False
            plans[qid] = [PlannedCase(item["id"], case.name, True, item["inputs"], expected=case.expected, reveal=True)
                          for item, case in zip(saved, public)]
            plans[qid] += [PlannedCase(item["id"], case.name, False, item["inputs"],
                                       expected=NOTHING if item["expected"] is None and case.check else
                                       decode(item["expected"]), check=case.check, explain=case.explain,
                                       reveal=case.reveal)
                           for item, case in zip(saved[len(public):], secret)]
        self.keys = {qid: keys[qid] for qid in self.questions if qid in keys}
        self.plans = plans
        return True

    # --- preparing -----------------------------------------------------------------------------------------

    def _plan(self, question: CodeQuestion, hidden: Sequence) -> list[PlannedCase]:
        planned = []
        for number, case in enumerate(_public_at_grading(question), start=1):
            data = self._write_inputs(case.fresh_inputs())
            planned.append(PlannedCase(f"p{number}", case.name, True, data, expected=case.expected, reveal=True))
        for number, case in enumerate(hidden, start=1):
            data = self._write_inputs(case.build_inputs())
            expected = case.expected
            if case.reference is not None:
                expected = case.reference(**self.read_inputs(data))  # from the inputs exactly as the learner gets them
            planned.append(PlannedCase(f"h{number}", case.name, False, data, expected=expected, check=case.check,
                                       explain=case.explain, reveal=case.reveal))
        return planned

    def _write_inputs(self, inputs: dict) -> dict:
        staging = self.cases_dir / ".staging"
        staging.mkdir(exist_ok=True)
        data = {name: write_value(value, staging, name) for name, value in inputs.items()}
        return {name: _by_content(value, staging, self.cases_dir) for name, value in data.items()}

    def read_inputs(self, data: dict) -> dict:
        """A case's inputs rebuilt from its files, as the harness rebuilds them in the sandbox."""
        return {name: read_value(value, self.cases_dir) for name, value in data.items()}

    # --- the harness cell ----------------------------------------------------------------------------------

    def harness_source(self, question_id: str, answers_dir: str | os.PathLike, check_source: str | None = None) -> str:
        """The code a graded check cell runs in the hand-in's kernel: the harness, on this question's answer.

        ``check_source`` is the check cell as released (``check("id", expression)``); the harness takes the
        same expression.  By default it is read from the solution notebook.
        """
        expression = answer_expression(check_source or _check_cell_source(self.notebook, question_id), question_id)
        return (f'__import__("course_utils.exercises._harness", fromlist=["answer"]).answer({question_id!r}, '
                f"lambda: ({expression}), {str(self.cases_dir)!r}, {str(answers_dir)!r})")

    # --- verdicts ------------------------------------------------------------------------------------------

    def verdict(self, question_id: str, answers_dir: str | os.PathLike) -> Verdict:
        """Judge one question from the answer file its harness cell wrote (none: it never ran)."""
        question = self.questions[question_id]
        try:
            record = _read_answer(Path(answers_dir), question_id)
        except FileNotFoundError:
            return self._verdict(question, 0, UNANSWERED, "Not run: the notebook stopped before this question's cell.")
        except (OSError, ValueError, RecursionError) as error:
            return self._verdict(question, 0, INVALID, f"Your answer could not be read back as data ({error}).")
        if not isinstance(record, dict) or record.get("question") != question_id:
            return self._verdict(question, 0, INVALID, "Your answer could not be read back as data.")
        if "harness_error" in record:
            return self._verdict(question, 0, INVALID, "The grader could not collect your answer: something in your "
                                                       "notebook stopped the grading step of this cell.")
        if "unanswered" in record:
            return self._verdict(question, 0, UNANSWERED, "Not answered yet.")
        if "error" in record:
            return self._verdict(question, 0, WRONG, f"Evaluating your answer raised {_raised(record['error'])}.")
        if question.answer_type == "value":
            return self._value_verdict(question, record)
        return self._code_verdict(question, record)

    def _value_verdict(self, question: Question, record: dict) -> Verdict:
        if "not_data" in record:
            return self._verdict(question, 0, INVALID, f"Your answer is not a value: {record['not_data']}.")
        try:
            answer = decode(record.get("value"))
        except (ValueError, TypeError, KeyError, RecursionError):
            return self._verdict(question, 0, INVALID, "Your answer could not be read back as data.")
        result = question.judge(answer, self.keys[question.id])  # the check's own comparison and tolerance
        return self._verdict(question, question.points if result.passed else 0, result.status,
                             "Correct." if result.passed else result.message,
                             misconceptions=[result.misconception] if result.misconception else [])

    def _code_verdict(self, question: CodeQuestion, record: dict) -> Verdict:
        if "not_callable" in record:
            return self._verdict(question, 0, INVALID, f"This exercise expects a function, `{question.signature}`; "
                                                       f"you gave a {record['not_callable']}.")
        returned = record.get("cases") if isinstance(record.get("cases"), dict) else {}
        results = [self._judge_case(question, case, returned.get(case.case_id)) for case in self.plans[question.id]]
        if not any(result.answered for result in results):
            return self._verdict(question, 0, UNANSWERED, f"Not answered yet: `{question.name}` raises "
                                                          "NotImplementedError or returns None.", results)
        seen = list(dict.fromkeys(result.misconception for result in results if result.misconception))
        share = self.scoring[question.id](results) if question.id in self.scoring else float(
            all(result.passed for result in results))
        points = round(question.points * min(1.0, max(0.0, float(share))) * 2) / 2
        failed = [result for result in results if not result.passed]
        hidden = sum(not result.public for result in results)
        if not failed:
            message = f"Correct on all {len(results)} cases ({hidden} of them hidden)."
        elif len({result.finding for result in failed}) == 1 and len(failed) > 1:  # one mistake everywhere: say it once
            message = (f"{len(failed)} of {len(results)} cases failed, each the same way (the first: "
                       f"{failed[0].name}): {failed[0].finding}.")
        else:
            shown = "; ".join(f"{result.name}: {result.finding}" for result in failed[:SHOWN_FAILURES])
            more = f"; and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
            message = f"{len(failed)} of {len(results)} cases failed -- {shown}{more}."
        return self._verdict(question, points, CORRECT if points == question.points else WRONG, message, results,
                             misconceptions=seen)

    def _judge_case(self, question: CodeQuestion, case: PlannedCase, entry: Any) -> CaseResult:
        def result(passed: bool, finding: str = "", answered: bool = True, misconception: str = "") -> CaseResult:
            if not passed and case.explain and answered:
                finding = f"{finding} ({case.explain})"
            return CaseResult(case.case_id, case.name, case.public, passed, finding, answered, misconception)

        if not isinstance(entry, dict):
            return result(False, "no result came back for this case")
        if "unanswered" in entry:
            return result(False, "not answered", answered=False)
        if "invalid" in entry:
            return result(False, " ".join(str(entry["invalid"]).split())[:300])
        if "error" in entry:
            return result(False, f"your function raised {_raised(entry['error'])}")
        if entry.get("mutated"):
            names = ", ".join(repr(str(name))[:40] for name in entry["mutated"][:5])
            return result(False, f"your function changed its argument {names} in place; work on a copy")
        if "not_data" in entry:
            return result(False, f"what `{question.name}` returned is not data ({str(entry['not_data'])[:120]}); this "
                                 f"exercise expects {RETURNS_FORM.get(question.returns, 'data')}")
        try:
            raw = decode(entry.get("output"))
        except (ValueError, TypeError, KeyError, RecursionError):
            return result(False, "what your function returned could not be read back as data")
        if raw is None:
            return result(False, f"`{question.name}` returned None: is there a path through it without `return`?",
                          answered=False)
        if case.check is not None:
            try:
                problem = case.check(raw, self.read_inputs(case.inputs))
            except Exception as error:  # noqa: BLE001 -- an output the property cannot even read is wrong
                problem = f"the result could not be read ({type(error).__name__}: {str(error)[:120]})"
            return result(problem is None, problem or "")
        try:
            output, problem = normalise_output(raw, question.returns, case.expected)
        except Exception as error:  # noqa: BLE001 -- the learner's data may be shaped in any way
            output, problem = None, f"{type(error).__name__}: {str(error)[:120]}"
        if problem:
            return result(False, f"`{question.name}` returned {describe(raw)}: {problem}")
        try:
            passed = outputs_match(output, case.expected, question.returns, question.tolerance)
        except Exception:  # noqa: BLE001
            passed = False
        if passed:
            return result(True)
        misconception = self._misconception(question, output, case)
        returned = f"`{question.name}` returned {short_repr(output, limit=120)}"
        if case.reveal:
            return result(False, f"{short_repr(case.expected, limit=120)} expected, {short_repr(output, limit=80)} "
                                 "returned", misconception=misconception)
        return result(False, f"{returned}, which differs from the reference result (tolerance {question.tolerance:g})",
                      misconception=misconception)

    def _misconception(self, question: CodeQuestion, output: Any, case: PlannedCase) -> str:
        """The id of the first of the question's misconceptions this wrong output shows ("" if none does).

        The learner's message is not changed (a hidden case says no more than it did); the id is for the
        instructor's class report.  A rule that fails on this case's inputs does not apply.
        """
        if not question.misconceptions:
            return ""
        try:
            with warnings.catch_warnings():  # a rule dividing by an empty group's count is a rule that does not apply
                warnings.simplefilter("ignore")
                index = first_misconception(question.misconceptions, output, case.expected,
                                            self.read_inputs(case.inputs))
        except Exception:  # noqa: BLE001 -- a rule written for public cases may not read every hidden input
            return ""
        return "" if index is None else misconception_id(question.id, index)

    @staticmethod
    def _verdict(question, points, status, message, cases=(), misconceptions=()) -> Verdict:
        return Verdict(question.id, float(points), float(question.points), status, message, list(cases),
                       list(misconceptions))


def cache_entry(notebook: str) -> Path:
    """Where a prepared judge of ``notebook`` is kept: named by everything its inputs and references depend on.

    The course package's code and case files, the hidden module, the shipped data's checksums and the versions of
    the libraries that compute references: change any and the name changes, so a stale entry is never read.
    ``COURSE_JUDGE_CACHE`` sets the folder (default ``~/.cache/course-utils/judge``).
    """
    from importlib import metadata

    from course_utils.instructor.release import COURSE_ROOT

    digest = hashlib.sha256()
    sources = sorted((COURSE_ROOT / "course_utils").rglob("*.py")) + sorted(
        (COURSE_ROOT / "course_utils").rglob("*.yaml")) + [hidden_cases.hidden_path(notebook),
                                                            COURSE_ROOT / "data" / "SHA256SUMS"]
    for path in sources:
        digest.update(str(path.relative_to(COURSE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for library in ("numpy", "pandas", "scipy", "scikit-learn", "fairlearn", "aif360", "aequitas", "shap",
                    "tensorflow-cpu", "tensorflow", "fastparquet"):
        try:
            digest.update(f"{library}=={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            pass
    folder = Path(os.environ.get("COURSE_JUDGE_CACHE")
                  or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "course-utils" / "judge")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{notebook}-{digest.hexdigest()[:20]}"


def _raised(error: Any) -> str:
    """A learner's exception as feedback quotes it: its class and at most 200 characters of its message."""
    if not isinstance(error, dict):
        return "an error"
    kind = "".join(ch for ch in str(error.get("type", "Exception")) if ch.isalnum() or ch in "_.")[:80] or "Exception"
    message = " ".join(str(error.get("message", "")).split())[:200]
    return f"{kind}: {message}" if message else kind


def _read_answer(answers_dir: Path, question_id: str) -> Any:
    """The answer file, opened without following a link the sandbox may have put in its place."""
    directory = os.open(answers_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        return read_json_file(Path(f"{question_id}.json"), ANSWER_BYTES, dir_fd=directory)
    finally:
        os.close(directory)


def _by_content(data: Any, staging: Path, target: Path) -> Any:
    """Move the files an input's data names from ``staging`` to ``target`` under names made of their content.

    The same table used by several cases is stored once, and a file's name says nothing about its case.
    """
    if isinstance(data, list):
        return [_by_content(item, staging, target) for item in data]
    if not isinstance(data, dict):
        return data
    moved = {}
    for key, value in data.items():
        if key == "file" and isinstance(value, str):
            source = staging / value
            name = hashlib.sha256(source.read_bytes()).hexdigest()[:24] + source.suffix
            os.replace(source, target / name)
            moved[key] = name
        else:
            moved[key] = _by_content(value, staging, target)
    return moved


def answer_expression(check_source: str, question_id: str) -> str:
    """The answer expression of a check cell: ``check("id", share_of)`` gives ``"share_of"``.

    >>> answer_expression('check("q-1", result["fnr"])  # the FNR', "q-1")
    'result["fnr"]'
    """
    tree = ast.parse(check_source)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                and len(node.args) == 2 and isinstance(node.args[0], ast.Constant) and node.args[0].value == question_id):
            return ast.get_source_segment(check_source, node.args[1])
    raise ValueError(f"the check cell of {question_id!r} has no check({question_id!r}, answer) call")


def _check_cell_source(notebook: str, question_id: str) -> str:
    from course_utils.instructor.grading import solution_notebook

    for cell in solution_notebook(notebook).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == question_id:
            return cell.source
    raise ValueError(f"notebook {notebook} has no check cell for {question_id!r}")
