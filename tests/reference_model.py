"""Baseline models for the tests, written with plain pandas and scikit-learn (not shipped to learners).

``baseline_features_and_model`` rebuilds the heart baseline from the raw CSV, so a notebook finding
that matches it was not checked against the notebook's own code.  ``make_baseline_model`` and
``out_of_fold_predictions`` give the tests of the mitigations, the trade-off sweep and the figures a
model to work with: the course itself ships none (learners build it in notebook 01).
"""

import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, model_inputs

NUMERIC = ["age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression"]
CATEGORICAL = ["sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high"]


def baseline_features_and_model(raw):
    """The baseline model's inputs rebuilt from the CSV, and an unfitted equivalent pipeline."""
    features = raw[NUMERIC + CATEGORICAL].copy()
    for name in ("exercise_angina", "fasting_blood_sugar_high"):
        features[name] = features[name].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    for name in ("sex", "chest_pain", "resting_ecg"):
        features[name] = features[name].astype(object)
    model = make_pipeline(
        ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
        ]),
        LogisticRegression(max_iter=1000, random_state=0),
    )
    return features, model


def make_baseline_model(numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES,
                        random_state=0):
    """Impute, encode, logistic regression; fits the frame load_heart() returns as it is."""
    numeric, categorical = list(numeric_cols), list(categorical_cols)
    encode = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")), categorical),
    ])
    plain = FunctionTransformer(model_inputs, kw_args={"numeric_cols": numeric, "categorical_cols": categorical})
    return Pipeline([("plain_types", plain), ("encode", encode),
                     ("classifier", LogisticRegression(max_iter=1000, random_state=random_state))])


def out_of_fold_predictions(data, model=None, *, outcome_col="disease", n_splits=5, random_state=0, threshold=0.5):
    """Every patient predicted by a model fitted on the other folds (seeded stratified k-fold)."""
    model = make_baseline_model() if model is None else clone(model)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    scores = cross_val_predict(model, data, data[outcome_col], cv=folds, method="predict_proba")[:, 1]
    return pd.DataFrame({"y_true": data[outcome_col].astype(int).to_numpy(), "y_score": scores,
                         "y_pred": (scores >= threshold).astype(int)}, index=data.index)
