"""The course's baseline diagnostic model and honest, out-of-fold predictions from it.

:func:`make_baseline_model` returns the scikit-learn pipeline every notebook starts from:
missing values imputed, categories one-hot encoded, numbers standardised, then a logistic
regression.  It is deliberately plain -- the course audits a model, it does not tune one.

:func:`out_of_fold_predictions` gives every patient a prediction from a model that never saw
that patient (seeded stratified k-fold cross-validation), optionally stratifying the folds by
group as well as outcome, and optionally re-weighting each training fold so that every group
carries equal total weight.  Its output feeds straight into
:func:`course_utils.metrics.group_audit_table`.

Examples
--------
>>> from course_utils.data import load_heart
>>> from course_utils.models import out_of_fold_predictions
>>> heart = load_heart()
>>> oof = out_of_fold_predictions(heart, n_splits=5, random_state=0)
>>> list(oof.columns)
['y_true', 'y_score', 'y_pred', 'fold']
>>> round(float((oof["y_true"] == oof["y_pred"]).mean()), 3)
0.797
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

__all__ = ["NUMERIC_FEATURES", "CATEGORICAL_FEATURES", "FEATURES", "make_baseline_model", "out_of_fold_predictions"]

#: Measurements, imputed with the median of the training patients and standardised.
NUMERIC_FEATURES = ("age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression")
#: Categories and yes/no findings, imputed with the most frequent value and one-hot encoded.
#: ``sex`` is a feature, as in most published models on these data; the collection ``site`` is
#: not (a diagnostic model should not depend on which hospital recorded the patient), nor are
#: ``st_slope``, ``major_vessels`` and ``thalassemia``, which are missing for most patients
#: outside Cleveland.
CATEGORICAL_FEATURES = ("sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES


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


def make_baseline_model(random_state=0, numeric=NUMERIC_FEATURES, categorical=CATEGORICAL_FEATURES):
    """The course's baseline heart-disease classifier: impute, encode, logistic regression.

    Parameters
    ----------
    random_state : int, default 0
        Seed of the logistic regression's solver, so repeated fits are identical.
    numeric : sequence of str
        Measurement columns: median-imputed, then standardised.
    categorical : sequence of str
        Category and True/False columns: most-frequent-imputed, then one-hot encoded
        (categories unseen in training are ignored, not an error).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted.  Fit it on a DataFrame that has the named columns, e.g. ``load_heart()``.

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> model = make_baseline_model().fit(heart, heart["disease"])
    >>> model.predict_proba(heart.head(2))[:, 1].round(2).tolist()
    [0.73, 0.96]
    """
    numeric, categorical = _feature_list(numeric, "numeric"), _feature_list(categorical, "categorical")
    if not numeric and not categorical:
        raise ValueError("the model needs at least one feature: numeric and categorical are both empty.")
    overlap = sorted(set(numeric) & set(categorical))
    if overlap:
        raise ValueError(f"a column cannot be both numeric and categorical: {overlap}.")
    if isinstance(random_state, bool) or not (random_state is None or isinstance(random_state, numbers.Integral)):
        raise TypeError(f"random_state should be a whole number (a seed) or None; got {random_state!r}.")
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


def _feature_list(columns, argument):
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise TypeError(f"{argument} should be a list of column names; got {columns!r}.")
    return list(columns)


def out_of_fold_predictions(data, model=None, *, target="disease", n_splits=5, stratify_by=None,
                            reweight_by=None, threshold=0.5, random_state=0):
    """Predict every patient with a model trained on the other folds (stratified k-fold).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient with the model's feature columns and ``target``.
    model : scikit-learn estimator, optional
        Cloned and fitted once per fold.  Default: :func:`make_baseline_model` seeded with
        ``random_state``.  It must have ``predict_proba``.
    target : str, default "disease"
        The 0/1 outcome column.
    n_splits : int, default 5
        Number of folds (at least 2).
    stratify_by : str or list of str, optional
        Besides the outcome, keep the shares of these groups (e.g. ``"sex"``) equal in every fold:
        folds are then stratified on outcome x group.
    reweight_by : str, optional
        Re-weight each *training* fold so every level of this column (e.g. ``"sex"``) carries the
        same total weight (scikit-learn's ``compute_sample_weight("balanced", ...)``).  Weights are
        computed from the training patients only, so the held-out fold stays untouched.
    threshold : float, default 0.5
        A patient is predicted positive when the score is at least this.
    random_state : int, default 0
        Seed of the fold shuffling (and of the default model).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``y_true``, ``y_score`` (predicted probability of the outcome),
        ``y_pred`` (0/1) and ``fold`` (the fold in which the patient was held out).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> oof = out_of_fold_predictions(heart, n_splits=3, stratify_by="sex")
    >>> oof["fold"].value_counts().sort_index().tolist()
    [307, 307, 306]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data should be a pandas DataFrame with one row per patient; got {type(data).__name__}.")
    if target not in data.columns:
        raise ValueError(f"data has no target column {target!r}; columns are {list(data.columns)}.")
    labels = data[target]
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise ValueError(f"target column {target!r} should hold only 0 and 1 with nothing missing.")
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) or n_splits < 2:
        raise ValueError(f"n_splits should be a whole number of folds, 2 or more; got {n_splits!r}.")
    if not isinstance(threshold, numbers.Real) or isinstance(threshold, bool) or not 0 < threshold < 1:
        raise ValueError(f"threshold should be a number strictly between 0 and 1; got {threshold!r}.")
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(f"random_state should be a whole number (a seed); got {random_state!r}.")
    groups = [] if stratify_by is None else ([stratify_by] if isinstance(stratify_by, str) else list(stratify_by))
    for argument, names in (("stratify_by", groups), ("reweight_by", [] if reweight_by is None else [reweight_by])):
        absent = [name for name in names if not isinstance(name, str) or name not in data.columns]
        if absent:
            raise ValueError(f"{argument}: data has no column {absent[0]!r}; columns are {list(data.columns)}.")
        missing = [name for name in names if data[name].isna().any()]
        if missing:
            raise ValueError(f"{argument}: column {missing[0]!r} has missing values; every patient needs a group.")

    y = labels.astype(int).to_numpy()
    strata = pd.Series(y.astype(str), index=data.index)
    for name in groups:
        strata = strata + " | " + data[name].astype(str)
    smallest = strata.value_counts().min()
    if smallest < n_splits:
        raise ValueError(
            f"n_splits={n_splits} is more than the {smallest} patients of the smallest stratum "
            f"({strata.value_counts().idxmin()!r}); use fewer folds or stratify by fewer columns."
        )
    model = make_baseline_model(random_state=random_state) if model is None else model
    if not hasattr(model, "predict_proba"):
        raise TypeError(f"model should be a classifier with predict_proba; got {type(model).__name__}.")

    scores = np.empty(len(data))
    folds = np.empty(len(data), dtype=int)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for fold, (train, test) in enumerate(splitter.split(data, strata)):
        fitted = clone(model)
        fit_params = {}
        if reweight_by is not None:
            weights = compute_sample_weight("balanced", data[reweight_by].astype(str).to_numpy()[train])
            # Pipelines route fit parameters by step name: "<last step>__sample_weight".
            step = fitted.steps[-1][0] if isinstance(fitted, Pipeline) else None
            fit_params = {f"{step}__sample_weight" if step else "sample_weight": weights}
        fitted.fit(data.iloc[train], y[train], **fit_params)
        scores[test] = fitted.predict_proba(data.iloc[test])[:, 1]
        folds[test] = fold
    return pd.DataFrame(
        {"y_true": y, "y_score": scores, "y_pred": (scores >= threshold).astype(int), "fold": folds},
        index=data.index,
    )
