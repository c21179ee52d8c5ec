"""The exercise engine gives immediate, misconception-aware feedback on values and code, and never crashes a notebook."""

import csv
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import exercises as checks
from course_utils import scenarios
from course_utils.data import heart_data_path
from course_utils.exercises._answer_key import AnswerKey
from course_utils.exercises._cases import SCENARIO_CALL
from course_utils.exercises._question import Misconception, Question
from course_utils.exercises.questions import QUESTIONS


@pytest.fixture(scope="module")
def raw_rows():
    """The shipped CSV read with the csv module: independent of load_heart()."""
    with open(heart_data_path(), newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(autouse=True)
def fresh_progress():
    checks.reset_progress()
    yield
    checks.reset_progress()


def test_unanswered_question_says_not_answered_yet():
    for question_id in QUESTIONS:
        result = checks.evaluate(question_id, None)
        assert result.status == "unanswered" and "not answered yet" in result.message


def test_patient_count_is_checked_against_the_shipped_file(raw_rows):
    assert checks.evaluate("orient-n-patients", len(raw_rows)).passed
    assert not checks.evaluate("orient-n-patients", len(raw_rows) - 1).passed


def test_cleveland_only_count_gets_pooled_sites_feedback(raw_rows):
    cleveland = sum(row["site"] == "Cleveland" for row in raw_rows)
    result = checks.evaluate("orient-n-patients", cleveland)
    assert result.status == "wrong" and "Cleveland" in result.message and "four hospitals" in result.message


def share_of(data, column, value):
    """A correct answer to orient-share-function, for the tests only."""
    if len(data) == 0:
        return float("nan")
    return float((data[column] == value).mean())


@pytest.mark.parametrize("mistake, phrase", [
    (lambda data, column, value: 100 * share_of(data, column, value), "percentages"),
    (lambda data, column, value: int((data[column] == value).sum()), "count of rows"),
    (lambda data, column, value: (data[column] == value).sum() / max(data[column].notna().sum(), 1),
     "out of the denominator"),
    (lambda data, column, value: float((data[column] == value).mean()) if len(data) else 0.0, "undefined"),
    (lambda data, column, value: 1 - share_of(data, column, value), "do not match"),
])
def test_code_question_names_the_mistake_from_the_learners_outputs(mistake, phrase):
    result = checks.evaluate("orient-share-function", mistake)
    assert result.status == "wrong" and phrase in result.message, result.message


def test_a_correct_function_passes_every_public_case():
    result = checks.evaluate("orient-share-function", share_of)
    assert result.passed and "public cases" in result.message and "data you have not seen" in result.message


def test_a_function_body_not_yet_written_is_not_answered_yet():
    def stub(data, column, value):
        """Only the docstring: what the released notebook holds."""

    def raises(data, column, value):
        raise NotImplementedError()

    for unanswered in (None, stub, raises):
        assert checks.evaluate("orient-share-function", unanswered).status == "unanswered"


def test_a_function_that_returns_nothing_on_one_case_is_wrong_not_unanswered():
    def forgets_one_branch(data, column, value):
        if len(data):
            return share_of(data, column, value)

    result = checks.evaluate("orient-share-function", forgets_one_branch)
    assert result.status == "wrong" and "without `return`" in result.message


def test_changing_the_input_in_place_is_caught():
    def mutates(data, column, value):
        data[column] = data[column] == value
        return share_of(data, column, True)

    result = checks.evaluate("orient-share-function", mutates)
    assert result.status == "wrong" and "changed its argument 'data' in place" in result.message


def test_errors_and_wrong_argument_names_get_one_line_each():
    def divides_by_zero(data, column, value):
        return int((data[column] == value).sum()) / len(data)

    def other_names(frame, col, val):
        return 0.5

    crashed = checks.evaluate("orient-share-function", divides_by_zero)
    assert crashed.status == "wrong" and "raised ZeroDivisionError" in crashed.message
    assert "a table with no rows" in crashed.message and "Traceback" not in crashed.message
    renamed = checks.evaluate("orient-share-function", other_names)
    assert renamed.status == "invalid" and "Keep the argument names" in renamed.message
    value = checks.evaluate("orient-share-function", 0.21)
    assert value.status == "invalid" and "expects a function" in value.message and "a float" in value.message


def test_show_cases_prints_each_public_case(capsys):
    checks.show_cases("orient-share-function")
    out = capsys.readouterr().out
    cases = QUESTIONS["orient-share-function"].cases()
    assert out.count("share_of(data=DataFrame(") == len(cases)
    assert all(case.name in out for case in cases)
    checks.show_cases("orient-n-patients")
    assert "asks for a value" in capsys.readouterr().out


@pytest.mark.parametrize("question_id", [q for q in QUESTIONS if QUESTIONS[q].answer_type == "code"])
def test_public_cases_are_small_toy_inputs_not_the_course_data(question_id):
    # A public case's expected result is on screen: it must never be a graded value on the course data.
    for case in QUESTIONS[question_id].cases():
        if getattr(case.inputs, "call", ""):  # the whole case from one call of the learners' own generator
            assert case.inputs.call.split("(")[0] in scenarios.__all__, case.name
            continue
        if any(SCENARIO_CALL in getattr(value, "attrs", {}) for value in case.inputs.values()):
            # every input of the case from one generator call (a scenario's model, films and facts)
            assert all(value.attrs[SCENARIO_CALL].split("(")[0] in scenarios.__all__ for value in case.inputs.values()
                       if SCENARIO_CALL in getattr(value, "attrs", {})), case.name
            continue
        for value in case.inputs.values():
            if SCENARIO_CALL in getattr(value, "attrs", {}):
                # a simulated audit, drawn by the learners' own generator: larger, but never the course data
                assert value.attrs[SCENARIO_CALL].split("(")[0] in scenarios.__all__, case.name
                continue
            assert len(value) <= 30 if hasattr(value, "__len__") and not isinstance(value, str) else True, case.name


def test_malformed_case_files_get_a_clear_error():
    from course_utils.exercises._cases import parse_cases

    with pytest.raises(ValueError, match="non-empty YAML list"):
        parse_cases("{}")
    with pytest.raises(ValueError, match="exactly the keys name, inputs and expected"):
        parse_cases("- {name: a, inputs: {}}")
    with pytest.raises(Exception, match="could not determine a constructor|python/object"):
        parse_cases("- {name: a, inputs: {x: !!python/object/apply:os.system [echo]}, expected: 1}")


def test_choice_question_recognises_each_wrong_principle():
    assert checks.evaluate("orient-justice-principle", " Justice ").passed
    for wrong in ("beneficence", "non-maleficence", "autonomy"):
        result = checks.evaluate("orient-justice-principle", wrong)
        assert result.status == "wrong" and wrong.capitalize().split("-")[0] in result.message
    invalid = checks.evaluate("orient-justice-principle", "fairness")
    assert invalid.status == "invalid" and "'justice'" in invalid.message


@pytest.mark.parametrize("answer, phrase", [
    ("920", "whole number; you gave text"),
    ([920], "you gave a list"),
    (float("nan"), "NaN"),
    (float("inf"), "infinity"),
    (True, "whole number"),
    (920.5, "fractional part"),
])
def test_wrong_type_gets_one_friendly_line(answer, phrase):
    result = checks.evaluate("orient-n-patients", answer)
    assert result.status == "invalid" and phrase in result.message and "Traceback" not in result.message


def test_numpy_and_pandas_scalars_are_accepted(raw_rows):
    import numpy as np
    import pandas as pd

    assert checks.evaluate("orient-n-patients", np.int64(len(raw_rows))).passed
    assert checks.evaluate("orient-n-patients", pd.Series([len(raw_rows)])).passed


def test_unknown_question_id_suggests_the_closest(capsys):
    checks.check("orient-n-patient", 920)
    out = capsys.readouterr().out
    assert "no question called 'orient-n-patient'" in out and "'orient-n-patients'" in out
    checks.check(42, 920)
    assert "question id is text" in capsys.readouterr().out


@settings(max_examples=80, deadline=None)
@given(
    question_id=st.sampled_from(sorted(QUESTIONS)),
    answer=st.one_of(st.none(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                     st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                     st.booleans()),
)
def test_check_never_raises_whatever_the_answer(question_id, answer):
    result = checks.evaluate(question_id, answer)
    assert result.status in {"correct", "wrong", "unanswered", "invalid"}
    assert result.message.startswith(question_id)


def test_check_raises_only_under_nbgrader_autograde(monkeypatch, capsys):
    checks.check("orient-n-patients", 303)  # never raises in a learner's notebook
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # nbgrader scores a cell by its error
    with pytest.raises(AssertionError, match="Cleveland"):
        checks.check("orient-n-patients", 303)
    with pytest.raises(AssertionError, match="not answered yet"):
        checks.check("orient-n-patients", None)
    checks.check("orient-n-patients", 920)
    assert capsys.readouterr().out.count("✅") == 1


def test_progress_reports_each_question_status(capsys, raw_rows):
    checks.check("orient-n-patients", len(raw_rows))
    checks.check("orient-share-function", lambda data, column, value: 50)
    capsys.readouterr()
    checks.progress("00")
    out = capsys.readouterr().out
    assert "1 of 3 auto-checked questions correct (1/4 points on the visible checks)" in out
    assert re.search(r"✅ orient-n-patients\s+value\s+correct", out)
    assert re.search(r"❌ orient-share-function\s+code\s+not yet", out)
    assert re.search(r"orient-justice-principle\s+value\s+not checked yet", out)


def test_hints_come_one_at_a_time_then_repeat_the_last(capsys):
    question = QUESTIONS["orient-share-function"]
    for expected in [*question.hints, question.hints[-1]]:
        checks.hint("orient-share-function")
        assert expected in capsys.readouterr().out


# --- the "mapping" kind: one number per group (dict or pandas Series) ----------------------------


def mapping_question(**overrides):
    settings_ = dict(
        id="demo-mapping", notebook="99", points=1, kind="mapping", tolerance=0.01,
        key=AnswerKey.of("demo-mapping", "mapping", {"Cleveland": 2.12, "VA Long Beach": 32.33}, 0.01),
        misconceptions=[Misconception(lambda answer, key: answer["Cleveland"] == 1,
                                             "Cleveland is 1? Recognised.")],
    )
    settings_.update(overrides)
    return Question(**settings_)


def test_mapping_accepts_a_dict_or_a_series_with_loose_key_spelling():
    import numpy as np
    import pandas as pd

    question = mapping_question()
    assert question.evaluate({"Cleveland": 2.121, "VA Long Beach": 32.334}).passed
    assert question.evaluate({" cleveland ": np.float64(2.12), "va long  beach": 32.33}).passed
    series = pd.Series([2.12, 32.33], index=pd.CategoricalIndex(["Cleveland", "VA Long Beach"], name="site"))
    assert question.evaluate(series).passed
    assert question.evaluate(series.to_frame("ratio")).passed


def test_mapping_wrong_values_get_misconception_feedback_or_the_default():
    question = mapping_question()
    assert "Recognised" in question.evaluate({"Cleveland": 1, "VA Long Beach": 32.33}).message
    wrong = question.evaluate({"Cleveland": 2.5, "VA Long Beach": 32.33})
    assert wrong.status == "wrong" and "not the value we expected" in wrong.message


@pytest.mark.parametrize("answer, phrase", [
    (3.7, "single number: that pools every group"),
    ("Cleveland", "You gave text"),
    ([2.12, 32.33], "You gave a list"),
    ({"Cleveland": 2.12}, "no value for 'VA Long Beach'"),
    ({"Cleveland": 2.12, "VA Long Beach": 32.33, "Mars": 1.0}, "'Mars' is not one of the groups"),
    ({"Cleveland": "2.12", "VA Long Beach": 32.33}, "value for 'Cleveland' is text"),
    ({"Cleveland": True, "VA Long Beach": 32.33}, "value for 'Cleveland' is a bool"),
    ({"Cleveland": float("nan"), "VA Long Beach": 32.33}, "divide by zero or use missing data"),
    ({"Cleveland": float("inf"), "VA Long Beach": 32.33}, "divide by zero"),
])
def test_mapping_invalid_answers_get_one_friendly_line(answer, phrase):
    result = mapping_question().evaluate(answer)
    assert result.status == "invalid" and phrase in result.message, result.message
    assert "one number per group ('Cleveland', 'VA Long Beach')" in result.message


def test_mapping_rule_that_crashes_on_odd_input_simply_does_not_apply():
    question = mapping_question(misconceptions=[
        Misconception(lambda answer, key: answer["Nowhere"] > 0, "never shown")])
    result = question.evaluate({"Cleveland": 9, "VA Long Beach": 9})
    assert result.status == "wrong" and "never shown" not in result.message


# --- how code answers are compared -------------------------------------------------------------


@pytest.mark.parametrize("returns, output, expected, same", [
    ("auto", 0.5, 0.5, True),
    ("auto", {"a": 1.0, "b": float("nan")}, {"a": 1.0, "b": float("nan")}, True),
    ("auto", {"a": 1.0, "b": 0.0}, {"a": 1.0, "b": float("nan")}, False),  # 0 is not "undefined"
    ("record", {"change": 0.02, "ci_low": -0.01, "ci_high": 0.06}, {"change": 0.02, "ci_low": -0.01, "ci_high": 0.06}, True),
    ("record", {"final_step": "LogisticRegression", "is_pipeline": True}, {"final_step": "logisticregression", "is_pipeline": True}, True),
    ("record", {"is_pipeline": False}, {"is_pipeline": True}, False),
    ("array", [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], True),
    ("array", [0.1, 0.3, 0.2], [0.1, 0.2, 0.3], False),  # order matters: one score per patient
    ("rows", [["Male", "70+", 25], ["Female", "<40", 19]], [["Female", "<40", 19], ["Male", "70+", 25]], True),
    ("rows", [["Female", "<40", 19]], [["Female", "<40", 19], ["Male", "70+", 25]], False),
])
def test_outputs_are_compared_as_the_question_says(returns, output, expected, same):
    from course_utils.exercises._question import normalise_output, outputs_match

    import pandas as pd

    raw = pd.DataFrame(output) if returns == "rows" else output
    normalised, problem = normalise_output(raw, returns, expected)
    if problem:  # a wrong shape is never a match
        assert not same
        return
    assert outputs_match(normalised, expected, returns, 1e-9) is same


@pytest.mark.parametrize("returns, raw, expected, phrase", [
    ("record", [1, 2], {"change": 0.0}, "a dict with the keys 'change'"),
    ("record", {"ci_low": 0.0}, {"change": 0.0, "ci_low": 0.0}, "has no 'change'"),
    ("array", [0.1], [0.1, 0.2], "2 numbers were expected"),
    ("array", ["a", "b"], [0.1, 0.2], "array of numbers"),
    ("rows", [["a", 1]], [["a", 1]], "DataFrame"),
])
def test_a_wrongly_shaped_output_is_described(returns, raw, expected, phrase):
    from course_utils.exercises._question import normalise_output

    normalised, problem = normalise_output(raw, returns, expected)
    assert normalised is None and phrase in problem


# --- feedback: where a result differs, and the three ways of writing "undefined" --------------------------------


def test_a_wrong_table_names_the_first_cell_that_differs_with_both_values():
    from course_utils.exercises._question import first_difference

    expected = {"fnr_parity": {"F": True, "M": True}, "fpr_parity": {"F": False, "M": True}}
    output = {"fnr_parity": {"F": True, "M": True}, "fpr_parity": {"F": False, "M": False}}
    assert first_difference(output, expected, "table", 1e-9) == "column 'fpr_parity', row 'M': yours False, expected True"
    assert first_difference({"a": 1.0, "b": 2.5}, {"a": 1.0, "b": 2.0}, "record", 1e-9) == "'b': yours 2.5, expected 2.0"
    assert first_difference([0.1, 0.3], [0.1, 0.2], "array", 1e-9) == "position 1: yours 0.3, expected 0.2"
    assert first_difference(output, output, "table", 1e-9) is None


@pytest.mark.parametrize("undefined", [float("nan"), None, "pd.NA"])
def test_undefined_may_be_written_as_nan_none_or_pandas_na(undefined):
    import math

    import pandas as pd

    from course_utils.exercises._question import as_mapping, normalise_output, numbers_match, values_match

    value = pd.NA if undefined == "pd.NA" else undefined
    assert values_match(value, math.nan, 1e-9) and values_match(math.nan, value, 1e-9)
    assert not values_match(value, 0.0, 1e-9) and not values_match(0.0, value, 1e-9)
    assert not values_match(value, False, 1e-9)  # undefined is not False
    assert numbers_match(value, math.nan, 1e-9) and not numbers_match(value, 1.0, 1e-9)
    mapping, problem = as_mapping({"a": value, "b": 1.0}, ["a", "b"], allow_nan=True)
    assert problem is None and math.isnan(mapping["a"])
    array, problem = normalise_output([value, 1.0], "array", [math.nan, 1.0])
    assert problem is None and math.isnan(array[0]) and array[1] == 1.0


def test_a_table_with_pandas_na_for_undefined_passes_a_check_that_expects_nan():
    import numpy as np
    import pandas as pd

    def parity_verdicts(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
        table = pd.DataFrame(index=by_group.index)
        for rate in metrics:
            ratio = (by_group[rate] / by_group.loc[reference_group, rate]).replace(np.inf, 10.0)
            table[f"{rate}_disparity"] = pd.array([pd.NA if np.isnan(r) else r for r in ratio], dtype="Float64")
            table[f"{rate}_parity"] = pd.array([pd.NA if np.isnan(r) else low <= r <= high for r in ratio],
                                               dtype="boolean")
        return table

    assert checks.evaluate("debias-parity-verdicts-function", parity_verdicts).passed
