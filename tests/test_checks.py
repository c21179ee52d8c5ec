"""Learner checks give immediate, misconception-aware feedback and never crash a notebook."""

import csv
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import checks
from course_utils.data import heart_data_path
from course_utils.questions import QUESTIONS


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


def test_female_share_and_its_misconceptions(raw_rows):
    n_female = sum(row["sex"] == "Female" for row in raw_rows)
    n_male = sum(row["sex"] == "Male" for row in raw_rows)
    share = n_female / len(raw_rows)
    assert checks.evaluate("orient-female-share", share).passed
    assert checks.evaluate("orient-female-share", round(share, 3)).passed
    feedback = {
        n_female: "count",
        100 * share: "percentage",
        1 - share: "male patients",
        n_female / n_male: "divides women by men",
        n_male / n_female: "men per woman",
        len(raw_rows) / n_female: "inverted",
    }
    for wrong, phrase in feedback.items():
        result = checks.evaluate("orient-female-share", wrong)
        assert result.status == "wrong" and phrase in result.message, (wrong, result.message)


def test_feedback_never_gives_the_answer_away(raw_rows):
    share = sum(row["sex"] == "Female" for row in raw_rows) / len(raw_rows)
    for wrong in (0.5, 194, 21.1, 0.79, 3.7, 0.1):
        message = checks.evaluate("orient-female-share", wrong).message
        assert not re.search(rf"{share:.2f}|{share:.3f}|{100 * share:.1f}", message)


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


@settings(max_examples=150, deadline=None)
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


def test_assert_correct_raises_with_the_feedback_for_hidden_tests():
    with pytest.raises(AssertionError, match="not answered yet"):
        checks.assert_correct("orient-n-patients", None)
    with pytest.raises(AssertionError, match="Cleveland"):
        checks.assert_correct("orient-n-patients", 303)


def test_progress_reports_each_question_status(capsys, raw_rows):
    checks.check("orient-n-patients", len(raw_rows))
    checks.check("orient-female-share", 50)
    capsys.readouterr()
    checks.progress("00")
    out = capsys.readouterr().out
    assert "1 of 3 auto-checked questions correct (1/4 points)" in out
    assert re.search(r"✅ orient-n-patients\s+correct", out)
    assert re.search(r"❌ orient-female-share\s+not yet", out)
    assert re.search(r"orient-justice-principle\s+not checked yet", out)


def test_hints_come_one_at_a_time_then_repeat_the_last(capsys):
    question = QUESTIONS["orient-female-share"]
    for expected in [*question.hints, question.hints[-1]]:
        checks.hint("orient-female-share")
        assert expected in capsys.readouterr().out


# --- the "mapping" kind: one number per group (dict or pandas Series) ----------------------------


def mapping_question(**overrides):
    settings_ = dict(
        id="demo-mapping", notebook="99", points=1, kind="mapping", tolerance=0.01,
        expected=lambda: {"Cleveland": 2.12, "VA Long Beach": 32.33},
        misconceptions=[checks.Misconception(lambda answer, expected: answer["Cleveland"] == 1,
                                             "Cleveland is 1? Recognised.")],
    )
    settings_.update(overrides)
    return checks.Question(**settings_)


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
        checks.Misconception(lambda answer, expected: answer["Nowhere"] > 0, "never shown")])
    result = question.evaluate({"Cleveland": 9, "VA Long Beach": 9})
    assert result.status == "wrong" and "never shown" not in result.message
