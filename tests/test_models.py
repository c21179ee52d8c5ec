"""The course's baseline model and its out-of-fold predictions: seeded, held out, validated."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import StratifiedKFold

from course_utils.data import load_heart
from course_utils.models import (
    HEART_CATEGORICAL_FEATURES,
    HEART_FEATURES,
    HEART_NUMERIC_FEATURES,
    make_baseline_model,
    out_of_fold_predictions,
)


def baseline(random_state=0):
    return make_baseline_model(numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES,
                               random_state=random_state)


@pytest.fixture(scope="module")
def heart():
    return load_heart()


def test_baseline_model_fits_the_learner_dataframe_with_missing_values(heart):
    assert heart[list(HEART_FEATURES)].isna().any().any()  # the pipeline must cope with NaN and pd.NA
    model = baseline().fit(heart, heart["disease"])
    scores = model.predict_proba(heart)[:, 1]
    assert scores.shape == (len(heart),) and np.isfinite(scores).all()
    assert model.score(heart, heart["disease"]) > 0.75


def test_baseline_model_ignores_unseen_categories(heart):
    model = baseline().fit(heart, heart["disease"])
    odd = heart.head(3).copy()
    odd["chest_pain"] = odd["chest_pain"].astype(object)
    odd.loc[odd.index[0], "chest_pain"] = "something new"
    assert model.predict(odd).shape == (3,)


def test_out_of_fold_predictions_are_held_out_and_seeded(heart):
    first = out_of_fold_predictions(heart, baseline(), outcome_col="disease", n_splits=5, random_state=0)
    second = out_of_fold_predictions(heart, baseline(), outcome_col="disease", n_splits=5, random_state=0)
    pd.testing.assert_frame_equal(first, second)
    assert first.index.equals(heart.index)
    assert first["y_true"].tolist() == heart["disease"].tolist()
    assert first["y_pred"].tolist() == (first["y_score"] >= 0.5).astype(int).tolist()
    # the folds are scikit-learn's StratifiedKFold on the outcome, seed 0
    expected = np.empty(len(heart), dtype=int)
    for fold, (_, test) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(heart, heart["disease"])):
        expected[test] = fold
    assert first["fold"].tolist() == expected.tolist()


def test_a_held_out_patient_is_predicted_by_a_model_that_never_saw_them(heart):
    oof = out_of_fold_predictions(heart, baseline(), outcome_col="disease", n_splits=5, random_state=0)
    fold0 = oof["fold"] == 0
    model = baseline().fit(heart[~fold0], heart.loc[~fold0, "disease"])
    assert oof.loc[fold0, "y_score"].to_numpy() == pytest.approx(model.predict_proba(heart[fold0])[:, 1])


def test_stratify_by_sex_balances_women_with_disease_across_folds(heart):
    oof = out_of_fold_predictions(heart, baseline(), outcome_col="disease", n_splits=5, stratify_cols="sex")
    women_with_disease = oof[(heart["sex"] == "Female") & (heart["disease"] == 1)]["fold"].value_counts()
    assert women_with_disease.max() - women_with_disease.min() <= 1


def test_reweighting_gives_each_sex_equal_total_weight_in_training(heart, monkeypatch):
    seen = []
    original = baseline().steps[-1][1].__class__.fit

    def spy(self, X, y, sample_weight=None):
        seen.append(sample_weight)
        return original(self, X, y, sample_weight=sample_weight)

    monkeypatch.setattr("sklearn.linear_model.LogisticRegression.fit", spy)
    out_of_fold_predictions(heart, baseline(), outcome_col="disease", n_splits=3, reweight_col="sex")
    assert len(seen) == 3
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(heart, heart["disease"])
    for weights, (train, _) in zip(seen, folds):
        sex = heart["sex"].to_numpy()[train]
        assert weights[sex == "Female"].sum() == pytest.approx(weights[sex == "Male"].sum())


def test_a_custom_model_is_cloned_not_fitted_in_place(heart):
    dummy = DummyClassifier(strategy="prior")
    oof = out_of_fold_predictions(heart, dummy, outcome_col="disease", n_splits=3)
    assert not hasattr(dummy, "classes_")
    assert oof["y_pred"].nunique() == 1


@pytest.mark.parametrize("kwargs, error, phrase", [
    ({"data": [[1, 2]]}, TypeError, "should be a pandas DataFrame"),
    ({"outcome_col": "outcome"}, ValueError, "data has no column 'outcome'"),
    ({"outcome_col": "age"}, ValueError, "only 0 and 1"),
    ({"n_splits": 1}, ValueError, "n_splits should be at least 2; got 1"),
    ({"n_splits": 2.5}, TypeError, "n_splits should be a whole number"),
    ({"threshold": 1.5}, ValueError, "strictly between 0 and 1"),
    ({"random_state": "zero"}, TypeError, "random_state"),
    ({"stratify_cols": "gender"}, ValueError, "data has no column 'gender'"),
    ({"reweight_col": "cholesterol"}, ValueError, "has missing values"),
    ({"stratify_cols": ["sex", "site"], "n_splits": 5}, ValueError, "smallest stratum"),
    ({"model": object()}, TypeError, "predict_proba"),
])
def test_bad_arguments_get_clear_errors(heart, kwargs, error, phrase):
    kwargs = {"data": heart, "model": baseline(), "outcome_col": "disease", **kwargs}
    with pytest.raises(error, match=phrase):
        out_of_fold_predictions(**kwargs)


@pytest.mark.parametrize("kwargs, error, phrase", [
    ({"numeric_cols": "age"}, TypeError, "numeric_cols should be a list of column names"),
    ({"numeric_cols": [], "categorical_cols": []}, ValueError, "at least one feature"),
    ({"numeric_cols": ["age"], "categorical_cols": ["age"]}, ValueError, "both numeric and categorical"),
    ({"random_state": 1.5}, TypeError, "seed"),
])
def test_bad_model_settings_get_clear_errors(kwargs, error, phrase):
    settings = {"numeric_cols": ["age"], "categorical_cols": ["sex"], **kwargs}
    with pytest.raises(error, match=phrase):
        make_baseline_model(**settings)


def test_the_model_has_no_default_features():
    with pytest.raises(TypeError, match="numeric_cols"):
        make_baseline_model()
