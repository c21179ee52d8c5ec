"""The grader's harness: in a learner's kernel it calls one answer on the judge's inputs and writes back what came out.

When ``course grade`` runs a hand-in, each graded check cell runs this instead of ``check(...)``::

    answer("orient-share-function", lambda: share_of, "/.../cases", "/.../answers")

It reads the cases' inputs from the judge's folder (read-only in the sandbox: tables in Parquet,
arrays in ``.npy``, the rest JSON), calls the learner's function on each -- or, for a value question,
takes the value -- and writes what came back to ``answers/<question id>.json`` as data
(:mod:`~course_utils.exercises._transfer`).  It decides nothing: it holds no expected result and no
pass criterion, and the grader, in its own process, compares the data with results that never
entered the sandbox.  Whatever code in the kernel does to this harness can only change what is
written; and data that is not a correct answer earns nothing.

Examples
--------
>>> import json, pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> answer("orient-n-patients", lambda: 920, folder, folder)
>>> json.loads((folder / "orient-n-patients.json").read_text())["value"]
920
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from course_utils.exercises._transfer import NotData, encode, read_value

CASES_FILE = "cases.json"
MESSAGE_CHARACTERS = 200  # of a learner's own exception message: all the feedback may quote


def answer(question_id: str, get, cases: str | os.PathLike, answers: str | os.PathLike) -> None:
    """Collect one question's answer as data into ``answers/<question_id>.json``; never raises."""
    try:
        record = _collect(question_id, get, Path(cases))
    except BaseException as error:  # noqa: BLE001 -- the harness must not stop the notebook
        record = {"harness_error": _error(error)}
    try:
        _write(Path(answers) / f"{question_id}.json", {"question": question_id, **record})
    except OSError:
        pass  # nowhere to write (the folder is gone): the grader finds no answer, which scores 0


def _collect(question_id: str, get, cases: Path) -> dict:
    from course_utils.exercises.questions import QUESTIONS

    question = QUESTIONS[question_id]
    try:
        given = get()
    except NameError as error:
        return {"unanswered": f"{error}"[:MESSAGE_CHARACTERS]}
    except BaseException as error:  # noqa: BLE001
        return {"error": _error(error)}
    if given is None or given is Ellipsis:
        return {"unanswered": "not answered"}
    if question.answer_type == "value":
        try:
            return {"value": encode(given)}
        except NotData as problem:
            return {"not_data": f"{problem}"}
    if not callable(given):
        return {"not_callable": _type_name(given)}
    manifest = json.loads((cases / CASES_FILE).read_text(encoding="utf-8"))
    return {"cases": {entry["id"]: _run_case(question, given, entry["inputs"], cases)
                      for entry in manifest[question_id]}}


_read: dict[str, Any] = {}  # input data (as JSON text) -> the value read from the cases folder, once per kernel


def _fresh(value_data: Any, cases: Path) -> Any:
    """A fresh copy of one input: many cases share a table, and reading Parquet costs more than copying."""
    key = json.dumps(value_data, sort_keys=True)
    if key not in _read:
        _read[key] = read_value(value_data, cases)
    return copy.deepcopy(_read[key])


def _run_case(question, function, inputs_data: dict, cases: Path) -> dict:
    from course_utils.exercises._question import AnswerProblem, changed_inputs

    inputs = {name: _fresh(value, cases) for name, value in inputs_data.items()}
    untouched = {name: _fresh(value, cases) for name, value in inputs_data.items()}
    try:
        raw = question.run(function, **inputs) if question.run else function(**inputs)
    except AnswerProblem as problem:
        return {"invalid": f"{problem}"[:400]}
    except NotImplementedError:
        return {"unanswered": "raises NotImplementedError"}
    except BaseException as error:  # noqa: BLE001 -- the learner's code may raise anything, SystemExit included
        return {"error": _error(error)}
    result: dict[str, Any] = {}
    if question.must_not_mutate:
        changed = changed_inputs(untouched, inputs)
        if changed:
            result["mutated"] = changed
    try:
        result["output"] = encode(raw)
    except NotData as problem:
        result["not_data"] = f"{problem}"
    return result


def _type_name(value: Any) -> str:
    try:
        return type(value).__name__
    except BaseException:  # noqa: BLE001
        return "object"


def _error(error: BaseException) -> dict:
    """An exception as the feedback may show it: its class and the start of its message."""
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001 -- an exception whose message itself fails
        message = ""
    return {"type": _type_name(error)[:80], "message": message[:MESSAGE_CHARACTERS]}


def _write(path: Path, record: dict) -> None:
    try:
        text = json.dumps(record)
    except (TypeError, ValueError) as error:
        text = json.dumps({"question": record.get("question"), "harness_error": _error(error)})
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
