"""The per-patient explanation is exact for a logistic regression and says it in plain words."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course_utils.cohort import make_readmission_cohort
from course_utils.explain import explain_patient, patient_contributions

NUMERIC, CATEGORICAL = ["chronic_conditions", "prior_utilisation"], ["age_band", "payer"]


@pytest.fixture(scope="module")
def fitted():
    data = make_readmission_cohort(n=3000, random_state=3)
    X = data[NUMERIC + CATEGORICAL]
    model = make_pipeline(
        ColumnTransformer([("numeric", StandardScaler(), NUMERIC), ("categorical", OneHotEncoder(), CATEGORICAL)]),
        LogisticRegression(max_iter=1000),
    ).fit(X, data["readmitted_30d"])
    return model, X


def test_contributions_add_up_to_the_patients_log_odds(fitted):
    model, X = fitted
    for row in (0, 17, 1234):
        table = patient_contributions(model, X, X.iloc[[row]])
        risk = model.predict_proba(X.iloc[[row]])[0, 1]
        assert table.attrs["risk"] == pytest.approx(risk, abs=1e-9)
        logit = np.log(risk / (1 - risk))
        assert table.attrs["average_logit"] + table["contribution"].sum() == pytest.approx(logit, abs=1e-9)


def test_one_hot_columns_are_summed_back_to_their_feature(fitted):
    model, X = fitted
    table = patient_contributions(model, X, X.iloc[[5]])
    assert sorted(table.index) == sorted(NUMERIC + CATEGORICAL)
    assert list(table["contribution"].abs()) == sorted(table["contribution"].abs(), reverse=True)
    assert table["odds_factor"].to_numpy() == pytest.approx(np.exp(table["contribution"].to_numpy()))


def test_a_numeric_contribution_is_coefficient_times_distance_from_the_mean(fitted):
    model, X = fitted
    scaler = model[0].named_transformers_["numeric"]
    coefficient = model[-1].coef_[0][0]  # chronic_conditions is the first output column
    patient = X.iloc[[42]]
    expected = coefficient * (patient["chronic_conditions"].iloc[0] - X["chronic_conditions"].mean()) / scaler.scale_[0]
    assert patient_contributions(model, X, patient).loc["chronic_conditions", "contribution"] == pytest.approx(expected)


def test_the_sentences_name_the_largest_contributions_with_their_direction(fitted):
    model, X = fitted
    sick = X.index[X["chronic_conditions"] == X["chronic_conditions"].max()][0]
    text = explain_patient(model, X, X.loc[[sick]], outcome_label="readmission within 30 days", top=2,
                           labels={"chronic_conditions": "chronic illnesses"})
    lines = text.splitlines()
    assert lines[0].startswith("Estimated risk of readmission within 30 days: ") and "the average patient" in lines[0]
    assert len(lines) == 3 and lines[1].startswith("- chronic illnesses: ") and "raises the risk" in lines[1]


def test_a_row_given_as_a_series_gives_the_same_answer(fitted):
    model, X = fitted
    as_frame = patient_contributions(model, X, X.iloc[[9]])
    as_series = patient_contributions(model, X, X.iloc[9])
    pd.testing.assert_series_equal(as_frame["contribution"], as_series["contribution"])


def test_bad_input_gets_a_clear_message(fitted):
    model, X = fitted
    with pytest.raises(TypeError, match="Pipeline ending in LogisticRegression"):
        patient_contributions(model[-1], X, X.iloc[[0]])
    with pytest.raises(ValueError, match="one row of X"):
        patient_contributions(model, X, X.iloc[:2])
    with pytest.raises(ValueError, match="no value for 'payer'"):
        patient_contributions(model, X, X.iloc[[0]].drop(columns="payer"))
    with pytest.raises(ValueError, match="top should be at least 1; got 0"):
        explain_patient(model, X, X.iloc[[0]], outcome_label="readmission", top=0)
    with pytest.raises(TypeError, match="outcome_label"):
        explain_patient(model, X, X.iloc[[0]])
    unfitted = make_pipeline(StandardScaler(), LogisticRegression())
    with pytest.raises(ValueError, match="not fitted"):
        patient_contributions(unfitted, X[NUMERIC], X[NUMERIC].iloc[[0]])
