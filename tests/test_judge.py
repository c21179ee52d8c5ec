"""The judge decides from data alone: what crosses the sandbox, the answer keys, the verdicts and their feedback.

Fast tests of the parts: the data format both sides use, the harness that runs in a learner's kernel, the value
answer keys (the check and the judge accept the same answers), and the judge's verdicts on answers written as a
hand-in's kernel writes them -- hostile files included.  ``tests/test_hostile.py`` grades whole hostile
hand-ins in the sandbox; ``tests/test_judge_grading.py`` grades the solutions.
"""

import json
import math
import os
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from course_utils.exercises import _answer_key, evaluate
from course_utils.exercises._answer_key import AnswerKey, answer_keys
from course_utils.exercises._harness import answer
from course_utils.exercises._transfer import NotData, decode, encode, fitted, read_value, write_value
from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS
from course_utils.instructor import release
from course_utils.instructor.cases import load_hidden
from course_utils.instructor.judge import Judge

VALUE_QUESTIONS = sorted(qid for qid, q in QUESTIONS.items() if q.answer_type == "value")
CODE_QUESTIONS = sorted(qid for qid, q in QUESTIONS.items() if q.answer_type == "code")


def share_of(data, column, value):
    """A correct answer to orient-share-function, written for these tests."""
    return float((data[column] == value).sum() / len(data)) if len(data) else math.nan


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    return Judge("00", tmp_path_factory.mktemp("judge"))


@pytest.fixture
def answers(tmp_path):
    folder = tmp_path / "answers"
    folder.mkdir()
    return folder


# --- the data that crosses the sandbox ----------------------------------------------------------------------------

frames = hpd.data_frames([hpd.column("x", dtype=float), hpd.column("g", elements=st.sampled_from(["a", "b", None])),
                          hpd.column("k", dtype=int), hpd.column("b", dtype=bool)],
                         index=hpd.range_indexes(max_size=8))


@settings(max_examples=60, deadline=None)
@given(frame=frames)
def test_an_answer_table_comes_back_exactly(frame):
    back = decode(json.loads(json.dumps(encode(frame))))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False, check_index_type=False)
    assert back.dtypes.tolist() == frame.dtypes.tolist() or frame.empty


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=20))
def test_floats_come_back_bit_for_bit(values):
    back = decode(json.loads(json.dumps(encode({"v": np.array(values), "t": tuple(values)}))))
    assert np.array_equal(back["v"], np.array(values, dtype=float), equal_nan=True)
    assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(back["t"], values))


def test_series_dicts_and_tuples_keep_their_labels_and_keys():
    series = pd.Series([0.25, np.nan], index=pd.MultiIndex.from_tuples([(0, "Black"), (0, "White")]), name="fnr")
    back = decode(json.loads(json.dumps(encode({1: series, "x": (np.int64(3), "y")}))))
    pd.testing.assert_series_equal(back[1], series)
    assert back["x"] == (3, "y") and isinstance(back["x"][0], int)


def _nested(depth):
    value = [1]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("value, words", [
    (object(), "an object cannot be written as data"),
    (lambda x: x, "a function cannot be written as data"),
    (iter([1]), "cannot be written as data"),
    (np.array([1 + 2j]), "complex128"),
    (_nested(60), "nested more than"),
])
def test_anything_else_is_not_data_and_says_what_it_was(value, words):
    with pytest.raises(NotData, match=words):
        encode(value)


def test_an_object_equal_to_everything_is_not_data_and_a_float_subclass_is_just_its_number():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class SneakyFloat(float):
        def __eq__(self, other):
            return True

    with pytest.raises(NotData):
        encode(AlwaysEqual())
    data = json.loads(json.dumps(encode(SneakyFloat(0.5))))
    assert type(data) is float and data == 0.5 and decode(data) != 0.25


@pytest.mark.parametrize("data", [
    {"!estimator": {"class": "sklearn.linear_model.LogisticRegression", "params": []}},
    {"!fitted": {"estimator": None, "args": [], "kwargs": []}},
    {"!frame": {"columns": ["a"], "index": [0, 1], "data": [[1.0]], "dtypes": ["float64"]}},
    {"!array": {"dtype": "object", "shape": [2], "data": [1]}},
    {"!unknown": 1},
    {"a": 1, "b": 2},
])
def test_answer_data_that_is_not_a_known_data_tag_is_refused(data):
    with pytest.raises(ValueError):
        decode(data)


def test_inputs_keep_dtypes_categories_and_index_exactly(tmp_path):
    frame = pd.DataFrame({"site": pd.Categorical(["VA", "Cleveland", "VA"], categories=["VA", "Cleveland"]),
                          "sex": ["Female", None, "Male"], "age": [63.0, np.nan, 41.0], "n": [1, 2, 3],
                          "chest_pain": ["typical", np.nan, "atypical"], "sugar_high": [True, np.nan, False],
                          7: [0.5, 0.25, 0.125]},
                         index=pd.Index([10, 20, 30], name="patient"))
    monthly = pd.DataFrame({"fnr": [0.1, 0.2]}, index=pd.MultiIndex.from_tuples([(0, "Black"), (0, "White")],
                                                                                  names=["month", "race"]))
    inputs = {"data": frame, "monthly": monthly, "groups": np.array(["a", "b"]), "flags": frame["sex"],
              "level": 0.9, "names": ["a", "b"]}
    written = json.loads(json.dumps({name: write_value(value, tmp_path, name) for name, value in inputs.items()}))
    back = {name: read_value(data, tmp_path) for name, data in written.items()}
    pd.testing.assert_frame_equal(back["data"], frame)
    assert back["data"]["chest_pain"].tolist()[1] is not None and back["data"]["sugar_high"].tolist()[0] is True
    pd.testing.assert_frame_equal(back["monthly"], monthly)
    pd.testing.assert_series_equal(back["flags"], frame["sex"])
    assert back["groups"].tolist() == ["a", "b"] and back["level"] == 0.9 and back["names"] == ["a", "b"]


def test_a_fitted_model_travels_as_its_recipe_and_is_refitted_identically(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = (X["a"] + rng.normal(size=200) > 0).astype(int)
    for model in (LogisticRegression(C=0.3), HistGradientBoostingClassifier(max_iter=20, random_state=0)):
        data = json.loads(json.dumps(write_value(fitted(model, X, y), tmp_path, "model")))
        first, second = read_value(data, tmp_path), read_value(data, tmp_path)
        assert np.array_equal(first.predict_proba(X), second.predict_proba(X))
    with pytest.raises(NotData, match="already fitted"):
        write_value(LogisticRegression().fit(X, y), tmp_path, "model")


def test_an_input_estimator_is_only_ever_built_from_scikit_learn(tmp_path):
    with pytest.raises(ValueError, match="only scikit-learn"):
        read_value({"!estimator": {"class": "os.system", "params": []}}, tmp_path)


# --- the harness, in the learner's kernel --------------------------------------------------------------------------

def _record(answers, question_id):
    return json.loads((answers / f"{question_id}.json").read_text())


def test_the_harness_writes_data_and_never_raises(judge, answers):
    def exits(data, column, value):
        raise SystemExit(3)

    def mutates(data, column, value):
        data.drop(data.index, inplace=True)
        return 0.0

    answer("orient-share-function", lambda: exits, judge.cases_dir, answers)
    assert set(_record(answers, "orient-share-function")["cases"]["h1"]["error"]) == {"type", "message"}
    answer("orient-share-function", lambda: mutates, judge.cases_dir, answers)
    assert _record(answers, "orient-share-function")["cases"]["h1"]["mutated"] == ["data"]
    answer("orient-share-function", lambda: undefined_name, judge.cases_dir, answers)  # noqa: F821
    assert "unanswered" in _record(answers, "orient-share-function")
    answer("orient-share-function", lambda: 3, judge.cases_dir, answers)
    assert _record(answers, "orient-share-function")["not_callable"] == "int"
    answer("orient-n-patients", lambda: object(), judge.cases_dir, answers)
    assert "not_data" in _record(answers, "orient-n-patients")
    answer("orient-n-patients", lambda: 920, judge.cases_dir, answers / "gone")  # nowhere to write: no exception


# --- answer keys: value answers checked without the value ----------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(expected=st.floats(-5, 5), offset=st.floats(-3, 3), step=st.sampled_from([0.001, 0.005, 0.5]))
def test_an_answer_key_accepts_within_its_tolerance_and_never_beyond_twice_it(expected, offset, step):
    with mock.patch.object(_answer_key, "ROUNDS", 1):  # the grid is under test here, not the slow hash
        key = AnswerKey.of("q", "number", expected, step)
        answer_value = expected + offset * step
        if abs(offset) <= 0.999:
            assert key.accepts(answer_value)
        if abs(offset) >= 2.001:
            assert not key.accepts(answer_value)


def test_the_shipped_answer_keys_are_current_and_hold_no_value():
    path = Path(release.ANSWER_KEYS)
    assert path.read_text(encoding="utf-8") == release.answer_keys_text(), "run `course release`"
    text = path.read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        for qid, value in load_hidden(notebook).values.items():
            expected = value.expected()
            shown = [str(expected), repr(expected)] + ([f"{expected:.3f}", f"{expected:.2f}"]
                                                       if isinstance(expected, float) else [])
            assert not any(f'"{item}"' in text or f": {item}," in text for item in shown), qid
    assert set(answer_keys()) == set(VALUE_QUESTIONS)


def test_a_digest_is_salted_by_its_question():
    assert not AnswerKey.of("a", "integer", 920).digests & AnswerKey.of("b", "integer", 920).digests


@pytest.mark.parametrize("question_id", VALUE_QUESTIONS)
def test_the_check_and_the_judge_accept_exactly_the_same_values(question_id, tmp_path):
    """On the notebook's own data: whatever the visible check accepts earns the points, and nothing else."""
    question = QUESTIONS[question_id]
    notebook_judge = Judge(question.notebook, tmp_path, only=[question_id])
    expected = load_hidden(question.notebook).values[question_id].expected()
    if question.kind == "integer":
        tries = [expected - 1, expected, expected + 1, float(expected)]
    elif question.kind == "number":
        tries = [expected + k * question.tolerance for k in (-2.01, -0.99, 0.99, 2.01)] + [round(expected, 3)]
    else:
        tries = [f"  {expected.upper()} ", *question.choices]
    answers = tmp_path / "answers"
    answers.mkdir()
    for value in tries:
        answer(question_id, lambda value=value: value, notebook_judge.cases_dir, answers)
        verdict = notebook_judge.verdict(question_id, answers)
        assert (verdict.points == question.points) == evaluate(question_id, value).passed, (value, verdict.message)
    if question.kind == "number":  # the answer as the notebook prints it, to three decimals, is right
        assert evaluate(question_id, round(expected, 3)).passed or question.tolerance < 0.0005


# --- verdicts ----------------------------------------------------------------------------------------------------

def test_a_correct_function_passes_every_public_and_hidden_case(judge, answers):
    answer("orient-share-function", lambda: share_of, judge.cases_dir, answers)
    verdict = judge.verdict("orient-share-function", answers)
    assert verdict.points == 2 and verdict.status == "correct"
    assert {case.public for case in verdict.cases} == {True, False} and all(case.passed for case in verdict.cases)


def test_feedback_names_a_failed_case_and_reveals_only_what_the_contract_fixes(judge, answers):
    def zero_when_empty(data, column, value):
        return share_of(data, column, value) if len(data) else 0.0

    def counts_missing_out(data, column, value):
        return float((data[column] == value).sum() / data[column].notna().sum()) if len(data) else math.nan

    answer("orient-share-function", lambda: zero_when_empty, judge.cases_dir, answers)
    message = judge.verdict("orient-share-function", answers).message
    assert "with no rows" in message and "nan expected, 0.0 returned" in message  # a contract value, revealed
    answer("orient-share-function", lambda: counts_missing_out, judge.cases_dir, answers)
    verdict = judge.verdict("orient-share-function", answers)
    assert verdict.points == 0 and "differs from the reference result" in verdict.message
    hidden = [case.expected for case in judge.plans["orient-share-function"] if not case.public and not case.reveal]
    for number in hidden:
        if isinstance(number, float) and 0 < number < 1:
            assert f"{number:.4f}" not in verdict.message and f"{number:.3f}" not in verdict.message


def test_a_learners_exception_reaches_the_feedback_as_its_class_and_200_characters(judge, answers):
    class Secret(Exception):
        pass

    def raises(data, column, value):
        raise Secret("x" * 500)

    answer("orient-share-function", lambda: raises, judge.cases_dir, answers)
    message = judge.verdict("orient-share-function", answers).message
    assert "Secret: " + "x" * 200 in message and "x" * 201 not in message


@pytest.mark.parametrize("how", ["symlinked folder", "symlinked file", "fifo", "too big", "not json", "other question",
                                 "forged tags"])
def test_an_answer_file_the_sandbox_tampered_with_scores_zero_and_never_crashes_the_grader(judge, tmp_path, how):
    answers = tmp_path / "answers"
    answers.mkdir()
    target = answers / "orient-n-patients.json"
    secret = tmp_path / "instructor.json"
    secret.write_text(json.dumps({"question": "orient-n-patients", "value": 920}))
    if how == "symlinked folder":
        answers.rmdir()
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "orient-n-patients.json").write_text(secret.read_text())
        answers.symlink_to(tmp_path / "elsewhere")
    elif how == "symlinked file":
        target.symlink_to(secret)
    elif how == "fifo":
        os.mkfifo(target)
    elif how == "too big":
        target.write_text(json.dumps({"question": "orient-n-patients", "value": 920, "pad": "x" * 70_000_000}))
    elif how == "not json":
        target.write_text("{'question': ")
    elif how == "other question":
        target.write_text(json.dumps({"question": "orient-justice-principle", "value": 920}))
    else:
        target.write_text(json.dumps({"question": "orient-n-patients",
                                      "value": {"!estimator": {"class": "os.system", "params": []}}}))
    verdict = judge.verdict("orient-n-patients", answers)
    assert verdict.points == 0 and verdict.message


def test_a_question_whose_cell_never_ran_says_so(judge, answers):
    verdict = judge.verdict("orient-share-function", answers)
    assert verdict.points == 0 and "Not run" in verdict.message


# --- the hidden material -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("question_id", CODE_QUESTIONS)
def test_every_code_question_has_hidden_cases_that_say_what_they_are(question_id):
    question = QUESTIONS[question_id]
    cases = load_hidden(question.notebook).cases.get(question_id, [])
    # A question whose every case trains a network (and whose public case the judge does not run again) has two.
    assert len(cases) >= (3 if QUESTIONS[question_id].public_at_grading else 2), f"{question_id}: {len(cases)} cases"
    assert len({case.name for case in cases}) == len(cases)
    assert all(len(case.name) >= 10 for case in cases)
