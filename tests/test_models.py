"""model_inputs: the heart data's columns as scikit-learn reads them, nothing else changed."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from course_utils.data import heart_data_path, load_heart
from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_FEATURES, HEART_NUMERIC_FEATURES, model_inputs


@pytest.fixture(scope="module")
def heart():
    return load_heart()


def inputs(data):
    return model_inputs(data, numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)


def test_columns_in_order_with_plain_dtypes_and_nan_for_missing(heart):
    X = inputs(heart)
    assert list(X.columns) == list(HEART_FEATURES) and X.index.equals(heart.index)
    assert all(X[c].dtype == "float64" for c in HEART_NUMERIC_FEATURES)
    assert X["sex"].dtype == object and X["exercise_angina"].dtype == "float64"
    # every missing value is NaN, none is pd.NA, and no value changed
    assert not any(value is pd.NA for value in X.to_numpy().ravel())
    assert X.isna().sum().to_dict() == heart[list(HEART_FEATURES)].isna().sum().to_dict()
    raw = pd.read_csv(heart_data_path())
    assert X["cholesterol"].equals(raw["cholesterol"].astype(float))
    assert (X["exercise_angina"].dropna() == raw["exercise_angina"].dropna().astype(float)).all()


def test_scikit_learns_imputers_and_encoders_read_the_result(heart):
    numeric, categorical = list(HEART_NUMERIC_FEATURES), list(HEART_CATEGORICAL_FEATURES)
    model = make_pipeline(ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()), categorical),
    ]), LogisticRegression(max_iter=1000))
    scores = model.fit(inputs(heart), heart["disease"]).predict_proba(inputs(heart))[:, 1]
    assert np.isfinite(scores).all()


def test_the_input_is_not_changed(heart):
    before = heart.copy()
    inputs(heart)
    pd.testing.assert_frame_equal(heart, before)


@pytest.mark.parametrize("kwargs, error, phrase", [
    ({"numeric_cols": ["age"], "categorical_cols": ["age"]}, ValueError, "both numeric and categorical"),
    ({"numeric_cols": ["height"], "categorical_cols": []}, ValueError, "no column 'height'"),
    ({"numeric_cols": ["sex"], "categorical_cols": []}, ValueError, "Unable to parse|could not convert"),
])
def test_bad_arguments_get_clear_errors(heart, kwargs, error, phrase):
    with pytest.raises(error, match=phrase):
        model_inputs(heart, **kwargs)
