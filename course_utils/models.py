"""The course's baseline classifier and honest, out-of-fold predictions from it.

:func:`make_baseline_model` returns the scikit-learn pipeline every notebook starts from:
missing values imputed, categories one-hot encoded, numbers standardised, then a logistic
regression.  It is deliberately plain -- the course audits a model, it does not tune one.  You
say which columns are measurements and which are categories; for the heart data the course's
choice is :data:`HEART_NUMERIC_FEATURES` and :data:`HEART_CATEGORICAL_FEATURES`.

:func:`out_of_fold_predictions` gives every patient a prediction from a model that never saw
that patient (seeded stratified k-fold cross-validation), optionally stratifying the folds by
group as well as outcome, and optionally re-weighting each training fold so that every group
carries equal total weight.  Its output feeds straight into
:func:`course_utils.metrics.group_audit_table`.

Examples
--------
>>> from course_utils.data import load_heart
>>> from course_utils.models import (HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, make_baseline_model,
...                                  out_of_fold_predictions)
>>> heart = load_heart()
>>> model = make_baseline_model(numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)
>>> oof = out_of_fold_predictions(heart, model, outcome_col="disease", n_splits=5, random_state=0)
>>> list(oof.columns)
['y_true', 'y_score', 'y_pred', 'fold']
>>> round(float((oof["y_true"] == oof["y_pred"]).mean()), 3)
0.797
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from course_utils import _validation as check

__all__ = [
    "HEART_CATEGORICAL_FEATURES",
    "HEART_FEATURES",
    "HEART_NUMERIC_FEATURES",
    "make_baseline_model",
    "out_of_fold_predictions",
]

#: The heart data's measurements the course's baseline uses: imputed with the median of the
#: training patients and standardised.
HEART_NUMERIC_FEATURES = ("age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression")
#: The heart data's categories and yes/no findings the course's baseline uses: imputed with the
#: most frequent value and one-hot encoded.  ``sex`` is a feature, as in most published models on
#: these data; the collection ``site`` is not (a diagnostic model should not depend on which
#: hospital recorded the patient), nor are ``st_slope``, ``major_vessels`` and ``thalassemia``,
#: which are missing for most patients outside Cleveland.
HEART_CATEGORICAL_FEATURES = ("sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high")
#: Both lists together.
HEART_FEATURES = HEART_NUMERIC_FEATURES + HEART_CATEGORICAL_FEATURES


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas' nullable and categorical dtypes as plain floats / objects (NaN for missing).

    scikit-learn's imputers cannot read ``pd.NA`` in a nullable boolean column, nor cast a
    categorical of text to float, so the pipeline converts them first.
    """
    plain = frame.copy()
    for name, column in plain.items():
        if isinstance(column.dtype, pd.BooleanDtype):
            plain[name] = column.astype("float64")
        elif isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object or pd.api.types.is_string_dtype(column):
            plain[name] = column.astype(object).where(column.notna(), np.nan)
    return plain


def make_baseline_model(*, numeric_cols: Sequence[str], categorical_cols: Sequence[str],
                        random_state: int | None = 0) -> Pipeline:
    """The course's baseline classifier: impute, encode, logistic regression.

    Parameters
    ----------
    numeric_cols : sequence of str
        Measurement columns: median-imputed, then standardised (may be empty).
    categorical_cols : sequence of str
        Category and True/False columns: most-frequent-imputed, then one-hot encoded
        (categories unseen in training are ignored, not an error; may be empty).
    random_state : int or None, default 0
        Seed of the logistic regression's solver, so repeated fits are identical.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted, with steps ``plain_types``, ``encode`` and ``classifier``.  Fit it on a
        DataFrame that has the named columns.  ``model[:-1]`` is its preprocessing alone
        (e.g. for :class:`course_utils.mitigation.AdversarialDebiasingClassifier`).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> model = make_baseline_model(numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)
    >>> model.fit(heart, heart["disease"]).predict_proba(heart.head(2))[:, 1].round(2).tolist()
    [0.73, 0.96]
    """
    numeric = check.check_column_list(numeric_cols, "numeric_cols")
    categorical = check.check_column_list(categorical_cols, "categorical_cols")
    if not numeric and not categorical:
        raise ValueError("the model needs at least one feature: numeric_cols and categorical_cols are both empty.")
    overlap = sorted(set(numeric) & set(categorical))
    if overlap:
        raise ValueError(f"a column cannot be both numeric and categorical: {overlap}.")
    random_state = check.check_random_state(random_state)
    encode = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")), categorical),
    ])
    return Pipeline([
        ("plain_types", FunctionTransformer(_plain_columns)),
        ("encode", encode),
        ("classifier", LogisticRegression(max_iter=1000, random_state=random_state)),
    ])


def _fit_with_sample_weight(model, X, y, sample_weight):
    """Fit ``model`` with per-patient weights; a Pipeline gets them routed to its last step."""
    # Pipelines route fit parameters by step name: "<last step>__sample_weight".
    name = f"{model.steps[-1][0]}__sample_weight" if isinstance(model, Pipeline) else "sample_weight"
    return model.fit(X, y, **{name: sample_weight})


def out_of_fold_predictions(data: pd.DataFrame, model: BaseEstimator, *, outcome_col: str, n_splits: int = 5,
                            stratify_cols: str | list[str] | None = None, reweight_col: str | None = None,
                            threshold: float = 0.5, random_state: int | None = 0) -> pd.DataFrame:
    """Predict every patient with a model trained on the other folds (stratified k-fold).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient with the model's feature columns and ``outcome_col``.
    model : scikit-learn classifier
        Unfitted, with ``predict_proba``, e.g. :func:`make_baseline_model`; cloned and fitted
        once per fold on ``data``'s rows of the other folds.
    outcome_col : str
        The 0/1 outcome column, e.g. ``"disease"``.
    n_splits : int, default 5
        Number of folds (at least 2).
    stratify_cols : str or list of str, optional
        Besides the outcome, keep the shares of these groups (e.g. ``"sex"``) equal in every fold:
        folds are then stratified on outcome x group.
    reweight_col : str, optional
        Re-weight each *training* fold so every level of this column (e.g. ``"sex"``) carries the
        same total weight (scikit-learn's ``compute_sample_weight("balanced", ...)``).  Weights are
        computed from the training patients only, so the held-out fold stays untouched.
    threshold : float, default 0.5
        A patient is predicted positive when the score is at least this.
    random_state : int or None, default 0
        Seed of the fold shuffling.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``y_true``, ``y_score`` (predicted probability of the outcome),
        ``y_pred`` (0/1) and ``fold`` (the fold in which the patient was held out).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> model = make_baseline_model(numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)
    >>> oof = out_of_fold_predictions(heart, model, outcome_col="disease", n_splits=3, stratify_cols="sex")
    >>> oof["fold"].value_counts().sort_index().tolist()
    [307, 307, 306]
    """
    check.check_dataframe(data)
    outcome_col = check.check_column(data, outcome_col, "outcome_col")
    y = check.check_binary_labels(data[outcome_col], f"outcome column {outcome_col!r}", both_classes=True)
    n_splits = check.check_whole_number(n_splits, "n_splits", low=2)
    threshold = check.check_real(threshold, "threshold", low=0, high=1, low_open=True, high_open=True)
    random_state = check.check_random_state(random_state)
    groups = [] if stratify_cols is None else check.check_columns(data, stratify_cols, "stratify_cols")
    weighted = [] if reweight_col is None else [check.check_column(data, reweight_col, "reweight_col")]
    for argument, names in (("stratify_cols", groups), ("reweight_col", weighted)):
        missing = [name for name in names if data[name].isna().any()]
        if missing:
            raise ValueError(f"{argument}: column {missing[0]!r} has missing values; every patient needs a group.")
    if not hasattr(model, "predict_proba") or not hasattr(model, "fit"):
        raise TypeError(f"model should be an unfitted classifier with fit and predict_proba, e.g. "
                        f"make_baseline_model(...); got {type(model).__name__}.")

    strata = pd.Series(y.astype(str), index=data.index)
    for name in groups:
        strata = strata + " | " + data[name].astype(str)
    smallest = strata.value_counts().min()
    if smallest < n_splits:
        raise ValueError(
            f"n_splits={n_splits} is more than the {smallest} patients of the smallest stratum "
            f"({strata.value_counts().idxmin()!r}); use fewer folds or stratify by fewer columns."
        )

    scores = np.empty(len(data))
    folds = np.empty(len(data), dtype=int)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for fold, (train, test) in enumerate(splitter.split(data, strata)):
        fitted = clone(model)
        if reweight_col is None:
            fitted.fit(data.iloc[train], y[train])
        else:
            weights = compute_sample_weight("balanced", data[reweight_col].astype(str).to_numpy()[train])
            _fit_with_sample_weight(fitted, data.iloc[train], y[train], weights)
        scores[test] = fitted.predict_proba(data.iloc[test])[:, 1]
        folds[test] = fold
    return pd.DataFrame(
        {"y_true": y, "y_score": scores, "y_pred": (scores >= threshold).astype(int), "fold": folds},
        index=data.index,
    )
