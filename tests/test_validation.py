"""The learner API's one argument validator: one rule per kind of argument, messages in a learner's words."""

import numpy as np
import pandas as pd
import pytest

from course_utils import _validation as check
from course_utils._validation import MIN_N_BOOT
from course_utils.instructor.course_tables import DEFAULT_N_BOOT


@pytest.mark.parametrize("value", [0, MIN_N_BOOT, DEFAULT_N_BOOT, 5000])
def test_n_boot_is_zero_or_at_least_the_course_minimum(value):
    assert check.check_n_boot(value) == value


@pytest.mark.parametrize("value, error, message", [
    (30, ValueError, "n_boot should be 0 (point estimates, no intervals) or a whole number of resamples of at least "
                     "500 (fewer give interval ends that change from seed to seed); got 30."),
    (-1, ValueError, "got -1."),
    (1000.0, TypeError, "got 1000.0 (float)."),
    (True, TypeError, "got True (bool)."),
])
def test_n_boot_outside_the_rule_is_refused_with_the_rule_in_words(value, error, message):
    with pytest.raises(error) as raised:
        check.check_n_boot(value)
    assert message in str(raised.value)


def test_the_same_n_boot_rule_holds_in_every_function_that_resamples():
    from course_utils.instructor.course_tables import evaluate_predictions, group_audit_table, metrics_by_period

    frame = pd.DataFrame({"month": [0, 0, 1, 1], "group": ["a", "b"] * 2, "y": [1, 0, 1, 0], "flag": [1, 0, 0, 0]})
    calls = [
        lambda: group_audit_table(frame["y"], frame["flag"], sensitive_features=frame["group"], n_boot=100),
        lambda: metrics_by_period(frame, period_col="month", group_col="group", outcome_col="y",
                                  prediction_col="flag", n_boot=100, progress=False),
        lambda: evaluate_predictions(frame.assign(setting="baseline", score=0.5), setting_cols=["setting"], outcome_col="y",
                                     score_col="score", decision_col="flag", group_col="group", patient_col="month",
                                     n_boot=100),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="n_boot should be 0 .* at least 500"):
            call()


@pytest.mark.parametrize("value, expected", [(None, None), (0, 0), (np.int64(7), 7)])
def test_random_state_is_a_seed_or_none(value, expected):
    assert check.check_random_state(value) == expected


@pytest.mark.parametrize("value, error, message", [
    (-1, ValueError, "random_state should be a whole number of at least 0 (a seed) or None; got -1."),
    (1.5, TypeError, "random_state should be a whole number of at least 0 (a seed) or None; got 1.5 (float)."),
    ("0", TypeError, "got '0' (str)."),
])
def test_random_state_outside_the_rule_is_refused(value, error, message):
    with pytest.raises(error) as raised:
        check.check_random_state(value)
    assert message in str(raised.value)


@pytest.mark.parametrize("call, error, message", [
    (lambda: check.check_whole_number(1, "n_splits", low=2), ValueError, "n_splits should be at least 2; got 1."),
    (lambda: check.check_whole_number(12, "month", low=0, high=11), ValueError, "month should be between 0 and 11; got 12."),
    (lambda: check.check_whole_number(2.5, "n_bins"), TypeError, "n_bins should be a whole number; got 2.5 (float)."),
    (lambda: check.check_real(1.5, "strength", low=0, high=1), ValueError, "strength should be between 0 and 1; got 1.5."),
    (lambda: check.check_real(0, "max_fnr_gap", low=0, high=1, low_open=True), ValueError,
     "max_fnr_gap should be in the range (0, 1]; got 0."),
    (lambda: check.check_real(float("nan"), "limit", low=0), TypeError, "limit should be a number at least 0; got nan."),
    (lambda: check.check_confidence_level(95), ValueError,
     "confidence_level should be strictly between 0 and 1, such as 0.95; got 95."),
    (lambda: check.check_bool("yes", "include_overall"), TypeError, "include_overall should be True or False; got 'yes' (str)."),
    (lambda: check.check_choice("agresti", "method", ("wilson", "exact")), ValueError,
     "method should be one of 'wilson', 'exact'; got 'agresti'."),
    (lambda: check.check_binary_labels([0, 1, 2], "y_true"), ValueError,
     "y_true should contain only 0 and 1 (or False and True); found the values 0, 1, 2."),
    (lambda: check.check_binary_labels([1, 1], "y", both_classes=True), ValueError, "y has only one class (1)"),
    (lambda: check.check_one_dimensional([[1, 2], [3, 4]], "sensitive_features"), ValueError,
     "sensitive_features should be one value per patient (a 1-D list, array or Series); got something of shape (2, 2)."),
    (lambda: check.check_same_length(y_true=[1, 0], sensitive_features=[1]), ValueError,
     "Every argument needs one value per patient, but the lengths differ: y_true has 2, sensitive_features has 1."),
    (lambda: check.check_dataframe([1], "data"), TypeError,
     "data should be a pandas DataFrame with one row per patient; got list."),
    (lambda: check.check_column(pd.DataFrame({"sex": [1]}), "gender", "group_col"), ValueError,
     "data has no column 'gender'; its columns are sex."),
    (lambda: check.check_columns(pd.DataFrame({"sex": [1]}), 3, "group_cols"), TypeError,
     "group_cols should be a column name or a list of column names of data; got 3."),
])
def test_each_check_names_the_argument_what_was_expected_and_what_was_given(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)
