"""Explain a risk score to clinicians and patients: SHAP values summed per feature, in words and in figures.

Notebook 03 explains the readmission-risk score with SHAP (Lundberg & Lee 2017), which the learner
computes.  This module does the bookkeeping around the learner's SHAP values and never computes the values an
exercise grades (interventional ones):

load_shap              import ``shap`` (1-2 s) only where it is used, without the warnings its import prints
sum_by_feature         add the SHAP values of one-hot columns back up to the feature they came from
explain_patient        one patient's contributions as a few plain-language sentences
observational_values   the other value function, for comparison: shap's observational (conditional) values

Their figures are :func:`course_utils.plots.plot_contributions` (one patient) and
:func:`course_utils.plots.plot_mean_abs_by_group` (what the score leans on, group by group).

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> from sklearn.compose import ColumnTransformer
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
>>> X = pd.DataFrame({"conditions": [0, 1, 2, 3, 4, 5, 6, 7],
...                   "payer": ["private", "Medicaid"] * 4})
>>> model = make_pipeline(ColumnTransformer([("numeric", StandardScaler(), ["conditions"]),
...                                          ("categorical", OneHotEncoder(), ["payer"])]),
...                       LogisticRegression()).fit(X, [0, 0, 0, 1, 0, 1, 1, 1])
>>> values = np.array([[0.5, 0.25, -0.25]])  # one patient, one value per encoded column
>>> sum_by_feature(values, model, ["conditions", "payer"])
   conditions  payer
0         0.5    0.0
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from course_utils import _validation as check

__all__ = ["explain_patient", "load_shap", "observational_values", "sum_by_feature"]


def load_shap() -> ModuleType:
    """The ``shap`` package, imported on first use with its import-time warnings silenced.

    ``import shap`` takes 1-2 s (it loads numba), so the course imports it only where it is used.
    shap 0.51's colour module calls matplotlib functions that matplotlib has scheduled for
    deprecation; the three ``PendingDeprecationWarning`` lines this prints under ``-W default`` or
    pytest say nothing to a learner.  Only those warnings, raised from shap's own modules during
    the import, are silenced.

    Examples
    --------
    >>> shap = load_shap()
    >>> shap.__version__
    '0.51.0'
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module=r"shap(\.|$)")
        import shap
    return shap


# --- one-hot columns back to their feature ------------------------------------------------------


def _check_pipeline(model):
    if not isinstance(model, Pipeline) or len(model.steps) < 2:
        raise TypeError("model should be a fitted scikit-learn Pipeline: preprocessing steps, then the estimator "
                        f"(e.g. make_pipeline(ColumnTransformer(...), LogisticRegression())); got {type(model).__name__}.")


def _sources(model, feature_cols):
    """For each column the preprocessing outputs, the input feature it came from."""
    try:
        names = [str(n) for n in model[:-1].get_feature_names_out(list(feature_cols))]
    except (AttributeError, ValueError) as error:
        raise ValueError(f"model's preprocessing cannot name its output columns ({error}); is it fitted on "
                         "feature_cols?") from None
    # get_feature_names_out gives 'step__column' or 'step__column_category': match the longest feature.
    by_length = sorted(map(str, feature_cols), key=len, reverse=True)
    sources = []
    for name in names:
        bare = name.split("__", 1)[1] if "__" in name else name
        match = next((c for c in by_length if bare == c or bare.startswith(f"{c}_")), None)
        if match is None:
            raise ValueError(f"cannot tell which of feature_cols the model column {name!r} comes from.")
        sources.append(match)
    return sources


def sum_by_feature(values: np.ndarray | pd.DataFrame, model: Pipeline, feature_cols: Sequence[str]) -> pd.DataFrame:
    """Add up per-column values (e.g. SHAP values) over the columns each input feature became.

    A one-hot encoder turns ``payer`` into one column per payer; a patient's SHAP values for those
    columns add up to what ``payer`` contributes to the patient's score (SHAP values are additive).

    Parameters
    ----------
    values : array-like or shap.Explanation, shape (n_patients, n_encoded_columns)
        One value per patient and column of the model's preprocessed input, in the columns' order
        (``explanation.values`` of a SHAP explainer that saw the preprocessed data).
    model : sklearn.pipeline.Pipeline
        The fitted pipeline whose preprocessing made those columns.
    feature_cols : sequence of str
        The input features the pipeline was fitted on, in order.

    Returns
    -------
    pandas.DataFrame
        One row per patient (index 0..n-1, or the Explanation's order), one column per feature, in
        the order of ``feature_cols``.
    """
    _check_pipeline(model)
    feature_cols = check.check_column_list(list(feature_cols), "feature_cols")
    values = np.asarray(getattr(values, "values", values), dtype=float)
    if values.ndim == 1:
        values = values[None, :]
    sources = _sources(model, feature_cols)
    if values.ndim != 2 or values.shape[1] != len(sources):
        raise ValueError(f"values should have one column per column of the model's preprocessed input "
                         f"({len(sources)}); got shape {values.shape}.")
    table = pd.DataFrame(values).T.groupby(np.asarray(sources), sort=False).sum().T
    return table[[c for c in feature_cols if c in table.columns]].rename_axis(columns=None)


# --- in words ----------------------------------------------------------------------------------


def _value_words(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.1f}" if not float(value).is_integer() else f"{int(value)}"
    return str(value)


def _typical(values):
    """The average of a numeric feature, the most common value of any other."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return float(values.mean())
    return values.mode(dropna=True).iloc[0]


def _as_series(contributions):
    if isinstance(contributions, pd.DataFrame):
        if len(contributions) != 1:
            raise ValueError(f"contributions should be one patient's values (one row); got {len(contributions)} rows.")
        contributions = contributions.iloc[0]
    if not isinstance(contributions, pd.Series):
        raise TypeError("contributions should be a pandas Series: one value per feature, indexed by feature "
                        f"(e.g. one row of sum_by_feature(...)); got {type(contributions).__name__}.")
    return contributions.astype(float)


def explain_patient(contributions: pd.Series, patient: pd.Series | pd.DataFrame, *, base_value: float,
                    outcome_label: str, background: pd.DataFrame | None = None, top: int = 3,
                    labels: Mapping | None = None) -> str:
    """One patient's contributions (log-odds, e.g. SHAP values per feature) as plain-language sentences.

    Parameters
    ----------
    contributions : pandas.Series
        Indexed by feature: how much each feature moves this patient's log-odds away from
        ``base_value`` (one row of :func:`sum_by_feature` of the patient's SHAP values).
    patient : pandas.Series or one-row DataFrame
        The patient's feature values, for the sentences.
    base_value : float
        The log-odds the contributions start from (the explainer's ``base_values``: the average
        patient of the background data).  The patient's risk is
        ``1 / (1 + exp(-(base_value + contributions.sum())))``.
    outcome_label : str
        What the score predicts, in words, e.g. ``"readmission within 30 days"``.
    background : pandas.DataFrame, optional
        The population to compare with; each sentence then names the typical value (the mean of a
        numeric feature, the most common value of another).
    top : int, default 3
        How many features to name (those with the largest contributions).
    labels : dict, optional
        Readable names for features, e.g. ``{"chronic_conditions": "active chronic illnesses"}``.

    Returns
    -------
    str
        The patient's estimated risk against that of a patient with every value at the background's
        average (the base value; not the average of everyone's risk), then one line per named feature:
        its value and whether it raises or lowers the risk, with the factor on the odds.

    Examples
    --------
    >>> import pandas as pd
    >>> contributions = pd.Series({"conditions": 1.2, "payer": -0.1})
    >>> patient = pd.Series({"conditions": 7, "payer": "private"})
    >>> print(explain_patient(contributions, patient, base_value=-1.0, outcome_label="readmission within 30 days",
    ...                       labels={"conditions": "chronic illnesses"}))
    Estimated risk of readmission within 30 days: 52 % (a patient with average values: 27 %).
    - chronic illnesses: 7 raises the risk (odds x 3.3).
    - payer: private lowers the risk (odds x 0.90).
    """
    contributions = _as_series(contributions)
    if isinstance(patient, pd.DataFrame):
        if len(patient) != 1:
            raise ValueError(f"patient should be one row; got {len(patient)} rows.")
        patient = patient.iloc[0]
    if not isinstance(patient, pd.Series):
        raise TypeError(f"patient should be a pandas Series or a one-row DataFrame; got {type(patient).__name__}.")
    missing = [f for f in contributions.index if f not in patient.index]
    if missing:
        raise ValueError(f"patient has no value for {', '.join(map(repr, missing))}.")
    base_value = check.check_real(base_value, "base_value")
    top = check.check_whole_number(top, "top", low=1)
    outcome = check.check_text(outcome_label, "outcome_label")
    labels = {} if labels is None else dict(labels)
    if background is not None:
        check.check_dataframe(background, "background", columns=list(contributions.index))
    logit = base_value + float(contributions.sum())
    lines = [f"Estimated risk of {outcome}: {100 / (1 + math.exp(-logit)):.0f} % "
             f"(a patient with average values: {100 / (1 + math.exp(-base_value)):.0f} %)."]
    order = contributions.abs().sort_values(ascending=False, kind="stable").index
    for feature in order[:top]:
        contribution = contributions[feature]
        if abs(contribution) < 0.005:
            direction = "makes almost no difference"
        elif contribution > 0:
            direction = f"raises the risk (odds x {math.exp(contribution):.1f})"
        else:
            direction = f"lowers the risk (odds x {math.exp(contribution):.2f})"
        value = _value_words(patient[feature])
        if background is not None:
            typical = _value_words(_typical(background[feature]))
            value += " (as most patients)" if typical == value else f" (typical {typical})"
        lines.append(f"- {labels.get(feature, feature)}: {value} {direction}.")
    return "\n".join(lines)


def observational_values(linear_model: Any, background: np.ndarray | pd.DataFrame, patients: np.ndarray | pd.DataFrame,
                         *, random_state: int = 0) -> Any:
    """Observational (conditional) SHAP values of a linear model, for comparison with interventional ones.

    ``shap.LinearExplainer(linear_model, shap.maskers.Impute(background))``: a feature's credit is what knowing its
    value adds once the features that travel with it are accounted for (a Gaussian model of the background's
    correlations), so correlated features share credit.  shap estimates that transform from 1,000 random feature
    orderings drawn with NumPy's global generator and draws a progress bar; this function seeds the draw (and puts
    the global generator back as it was) and keeps the progress bar off the page, so a notebook run
    twice shows the same values.

    Parameters
    ----------
    linear_model : fitted linear model
        A scikit-learn linear model with ``coef_`` and ``intercept_`` (e.g. a pipeline's last step).
    background : array-like of shape (n, p)
        The background rows, already encoded as the model sees them.
    patients : array-like of shape (m, p)
        The rows to explain, encoded the same way.
    random_state : int, default 0
        Seed of the orderings shap samples.

    Returns
    -------
    shap.Explanation
        One value per row of ``patients`` and column, additive: values plus base value give the model's log-odds.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 1))
    >>> X = np.hstack([x, x + 0.1 * rng.normal(size=(400, 1))])  # two strongly correlated inputs
    >>> model = LogisticRegression().fit(X, (x[:, 0] > 0).astype(int))
    >>> values = observational_values(model, X, X[:5])
    >>> bool(np.allclose(values.values.sum(axis=1) + values.base_values, model.decision_function(X[:5])))
    True
    >>> bool(np.allclose(observational_values(model, X, X[:5]).values, values.values))
    True
    """
    shap = load_shap()
    from shap.explainers import _linear  # shap 0.51 (pinned) draws its progress bar with the tqdm it imports here

    state, progress = np.random.get_state(), _linear.tqdm
    try:
        np.random.seed(check.check_random_state(random_state))
        _linear.tqdm = _no_progress_bar  # in Jupyter tqdm.auto would draw a widget on the learner's page
        explainer = shap.LinearExplainer(linear_model, shap.maskers.Impute(np.asarray(background)))
    finally:
        np.random.set_state(state)
        _linear.tqdm = progress
    return explainer(np.asarray(patients))


def _no_progress_bar(iterable: Any, *args: Any, **kwargs: Any) -> Any:
    return iterable
