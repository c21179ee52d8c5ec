"""SHAP values summed back to features, said in plain words and drawn; shap imported quietly and only on demand."""

import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from course_utils.cohort import make_readmission_cohort  # noqa: E402
from course_utils.explain import explain_patient, load_shap, sum_by_feature  # noqa: E402
from course_utils.plots import plot_contributions, plot_mean_abs_by_group  # noqa: E402

NUMERIC, CATEGORICAL = ["chronic_conditions", "prior_utilisation"], ["age_band", "payer"]
FEATURES = NUMERIC + CATEGORICAL


@pytest.fixture(scope="module")
def fitted():
    data = make_readmission_cohort(n=3000, random_state=3)
    X = data[FEATURES]
    model = make_pipeline(
        ColumnTransformer([("numeric", StandardScaler(), NUMERIC), ("categorical", OneHotEncoder(), CATEGORICAL)]),
        LogisticRegression(max_iter=1000),
    ).fit(X, data["readmitted_30d"])
    return model, X


def exact_contributions(model, X, rows):
    """coefficient x (value - background mean) per encoded column: SHAP's value for a linear model."""
    encoded = model[:-1].transform(X)
    return model[-1].coef_[0] * (model[:-1].transform(rows) - encoded.mean(axis=0))


def test_shap_is_imported_without_warnings_and_only_on_demand():
    code = ("import sys, warnings; warnings.simplefilter('error'); import course_utils.explain; "
            "assert 'shap' not in sys.modules; from course_utils.explain import load_shap; print(load_shap().__name__)")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "shap"


def test_summed_shap_values_are_the_exact_contributions_per_feature(fitted):
    model, X = fitted
    shap = load_shap()
    encoded = model[:-1].transform(X)
    masker = shap.maskers.Independent(encoded, max_samples=len(encoded))  # the whole background
    explanation = shap.LinearExplainer(model[-1], masker)(model[:-1].transform(X.iloc[:5]))
    table = sum_by_feature(explanation, model, FEATURES)
    assert list(table.columns) == FEATURES and len(table) == 5
    exact = sum_by_feature(exact_contributions(model, X, X.iloc[:5]), model, FEATURES)
    np.testing.assert_allclose(table.to_numpy(), exact.to_numpy(), atol=1e-9)
    # additive: base value + the patient's contributions = the patient's log-odds
    risk = model.predict_proba(X.iloc[:5])[:, 1]
    np.testing.assert_allclose(explanation.base_values + table.sum(axis=1), np.log(risk / (1 - risk)), atol=1e-9)


def test_one_hot_columns_are_added_up_to_their_feature(fitted):
    model, X = fitted
    names = model[:-1].get_feature_names_out()
    values = np.zeros((1, len(names)))
    payer_columns = [i for i, name in enumerate(names) if name.startswith("categorical__payer_")]
    values[0, payer_columns] = [0.1, 0.2, 0.3, 0.4][: len(payer_columns)]
    table = sum_by_feature(values, model, FEATURES)
    assert table.loc[0, "payer"] == pytest.approx(sum([0.1, 0.2, 0.3, 0.4][: len(payer_columns)]))
    assert table.loc[0, ["chronic_conditions", "prior_utilisation", "age_band"]].eq(0).all()
    with pytest.raises(ValueError, match="one column per column of the model's preprocessed input"):
        sum_by_feature(values[:, :-1], model, FEATURES)
    with pytest.raises(TypeError, match="Pipeline"):
        sum_by_feature(values, model[-1], FEATURES)


def test_the_sentences_give_the_risk_and_name_the_largest_contributions(fitted):
    model, X = fitted
    sick = X.index[X["chronic_conditions"] == X["chronic_conditions"].max()][0]
    row = X.loc[[sick]]
    contributions = sum_by_feature(exact_contributions(model, X, row), model, FEATURES).iloc[0]
    base = float(model[-1].intercept_[0] + model[-1].coef_[0] @ model[:-1].transform(X).mean(axis=0))
    text = explain_patient(contributions, row, base_value=base, outcome_label="readmission within 30 days", top=2,
                           background=X, labels={"chronic_conditions": "chronic illnesses"})
    lines = text.splitlines()
    risk = model.predict_proba(row)[0, 1]
    assert lines[0] == (f"Estimated risk of readmission within 30 days: {100 * risk:.0f} % "
                        f"(a patient with average values: {100 / (1 + math.exp(-base)):.0f} %).")
    assert len(lines) == 3 and lines[1].startswith("- chronic illnesses: ") and "raises the risk" in lines[1]
    assert f"(typical {X['chronic_conditions'].mean():.1f})" in lines[1]


def test_bad_input_gets_a_clear_message(fitted):
    model, X = fitted
    contributions = pd.Series({"chronic_conditions": 0.5, "payer": -0.1})
    patient = X.iloc[0]
    with pytest.raises(ValueError, match="top should be at least 1; got 0"):
        explain_patient(contributions, patient, base_value=-2.0, outcome_label="readmission", top=0)
    with pytest.raises(ValueError, match="outcome_label should be text"):
        explain_patient(contributions, patient, base_value=-2.0, outcome_label="")
    with pytest.raises(ValueError, match="no value for 'payer'"):
        explain_patient(contributions, patient.drop("payer"), base_value=-2.0, outcome_label="readmission")
    with pytest.raises(TypeError, match="contributions should be a pandas Series"):
        explain_patient([0.5, -0.1], patient, base_value=-2.0, outcome_label="readmission")


def test_the_shap_figures_draw_the_values_they_are_given():
    contributions = pd.Series({"conditions": 1.2, "payer": -0.1, "sex": 0.02})
    ax = plot_contributions(contributions, patient=pd.Series({"conditions": 7, "payer": "private", "sex": "Female"}))
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [1.2, -0.1, 0.02]
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["conditions = 7", "payer = private", "sex = Female"]
    table = pd.DataFrame({"conditions": [0.7, 0.6], "payer": [0.04, 0.03]},
                         index=pd.Index(["Black", "White"], name="race"))
    ax = plot_mean_abs_by_group(table)
    assert sorted(round(bar.get_width(), 2) for bar in ax.patches) == [0.03, 0.04, 0.6, 0.7]
    assert ax.get_legend().get_title().get_text() == "race"
    with pytest.raises(ValueError, match="The course has no colour for group 'Martian'"):
        plot_mean_abs_by_group(table.rename(index={"Black": "Martian"}))
