"""Explain one patient's risk score in plain language, for clinicians and patients.

Notebook 03 explains the readmission-risk score at two levels: globally, with scikit-learn's
:func:`~sklearn.inspection.permutation_importance` (which features the score leans on), and for
one patient with this module.  For a logistic regression the explanation is exact, not an
approximation: the patient's log-odds minus the average patient's log-odds is the sum, over the
features, of ``coefficient x (patient's value - average value)`` in the model's own encoding.
One-hot columns are summed back to the feature they came from, so "payer" gets one contribution.

patient_contributions   one row per feature: the patient's value, the typical value and the
                        contribution to the log-odds relative to the average patient
explain_patient         the same as a few plain-language sentences

Examples
--------
>>> import pandas as pd
>>> from sklearn.compose import ColumnTransformer
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
>>> X = pd.DataFrame({"conditions": [0, 1, 2, 3, 4, 5, 6, 7],
...                   "payer": ["private", "Medicaid"] * 4})
>>> y = [0, 0, 0, 1, 0, 1, 1, 1]
>>> model = make_pipeline(ColumnTransformer([("numeric", StandardScaler(), ["conditions"]),
...                                          ("categorical", OneHotEncoder(), ["payer"])]),
...                       LogisticRegression()).fit(X, y)
>>> table = patient_contributions(model, X, X.iloc[[7]])
>>> table.index.tolist()
['conditions', 'payer']
>>> bool(table.loc["conditions", "contribution"] > 0)
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from course_utils import _validation as check

__all__ = ["explain_patient", "patient_contributions"]


def _check_model(model):
    if not isinstance(model, Pipeline) or not isinstance(model[-1], LogisticRegression):
        raise TypeError("model should be a fitted scikit-learn Pipeline ending in LogisticRegression "
                        f"(e.g. make_pipeline(ColumnTransformer(...), LogisticRegression())); got {type(model).__name__}.")
    if not is_classifier(model) or not hasattr(model[-1], "coef_"):
        raise ValueError("model is not fitted yet: call model.fit(X, y) first.")
    if model[-1].coef_.shape[0] != 1:
        raise ValueError("model should be a binary classifier (two classes); "
                         f"it has {len(model[-1].classes_)} classes.")


def _check_frames(X, patient):
    if not isinstance(X, pd.DataFrame) or len(X) == 0:
        raise TypeError(f"X should be a non-empty pandas DataFrame of the model's features; got {type(X).__name__}.")
    if isinstance(patient, pd.Series):
        patient = patient.to_frame().T.astype({c: X[c].dtype for c in X.columns if c in patient.index})
    if not isinstance(patient, pd.DataFrame) or len(patient) != 1:
        got = f"a DataFrame with {len(patient)} rows" if isinstance(patient, pd.DataFrame) else type(patient).__name__
        raise ValueError(f"patient should be one row of X, e.g. X.iloc[[0]] or X.loc[[patient_id]]; got {got}.")
    missing = [c for c in X.columns if c not in patient.columns]
    if missing:
        raise ValueError(f"patient has no value for {', '.join(map(repr, missing))}; give a row with the same columns as X.")
    return patient[X.columns]


def _source_columns(model, columns):
    """For each column the preprocessing outputs, the input column it came from."""
    names = [str(n) for n in model[:-1].get_feature_names_out(list(columns))]
    # get_feature_names_out gives 'step__column' or 'step__column_category': match the longest column.
    by_length = sorted(map(str, columns), key=len, reverse=True)
    sources = []
    for name in names:
        bare = name.split("__", 1)[1] if "__" in name else name
        match = next((c for c in by_length if bare == c or bare.startswith(f"{c}_")), None)
        if match is None:
            raise ValueError(f"cannot tell which feature the model column {name!r} comes from.")
        sources.append(match)
    return sources


def _typical(values):
    """The average of a numeric feature, the most common value of any other."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return float(values.mean())
    return values.mode(dropna=True).iloc[0]


def patient_contributions(model: Pipeline, X: pd.DataFrame, patient: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Each feature's contribution to one patient's risk, relative to the average patient.

    Parameters
    ----------
    model : sklearn.pipeline.Pipeline
        Fitted; preprocessing steps (e.g. a ``ColumnTransformer`` that scales and one-hot encodes)
        followed by a binary :class:`~sklearn.linear_model.LogisticRegression`.
    X : pandas.DataFrame
        The reference population (e.g. the training data), with the model's feature columns.
        "The average patient" is the average of X in the model's encoding.
    patient : pandas.DataFrame or pandas.Series
        One patient: a one-row DataFrame (``X.iloc[[i]]``) or a row (``X.iloc[i]``).

    Returns
    -------
    pandas.DataFrame
        Indexed by feature, sorted by the size of the contribution (largest first): ``value``
        (the patient's), ``typical`` (the mean of a numeric feature, the most common value of
        a categorical one), ``contribution`` (to the log-odds; positive raises the risk) and
        ``odds_factor`` (``exp(contribution)``: how much this feature multiplies the odds).
        ``.attrs`` holds ``risk`` (the patient's predicted probability), ``average_risk``
        (the probability of the average patient in the model's encoding) and their log-odds
        ``logit`` and ``average_logit``; ``average_logit + contribution.sum() == logit``.
    """
    _check_model(model)
    patient = _check_frames(X, patient)
    encode, logistic = model[:-1], model[-1]
    encoded_X = np.asarray(encode.transform(X), dtype=float)
    encoded_patient = np.asarray(encode.transform(patient), dtype=float)[0]
    terms = logistic.coef_[0] * (encoded_patient - encoded_X.mean(axis=0))
    sources = _source_columns(model, X.columns)
    contribution = pd.Series(terms, index=sources).groupby(level=0, sort=False).sum()
    table = pd.DataFrame({
        "value": [patient.iloc[0][c] for c in contribution.index],
        "typical": [_typical(X[c]) for c in contribution.index],
        "contribution": contribution.to_numpy(),
    }, index=pd.Index(contribution.index, name="feature"))
    table["odds_factor"] = np.exp(table["contribution"])
    table = table.iloc[np.argsort(-table["contribution"].abs().to_numpy(), kind="stable")]
    average_logit = float(logistic.intercept_[0] + logistic.coef_[0] @ encoded_X.mean(axis=0))
    logit = float(logistic.intercept_[0] + logistic.coef_[0] @ encoded_patient)
    table.attrs.update(logit=logit, average_logit=average_logit,
                       risk=1 / (1 + math.exp(-logit)), average_risk=1 / (1 + math.exp(-average_logit)))
    return table


def _value_words(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.1f}" if not float(value).is_integer() else f"{int(value)}"
    return str(value)


def explain_patient(model: Pipeline, X: pd.DataFrame, patient: pd.DataFrame | pd.Series, *, outcome_label: str,
                    top: int = 3, labels: dict | None = None) -> str:
    """One patient's risk score explained in a few plain-language sentences.

    Parameters
    ----------
    model, X, patient
        As in :func:`patient_contributions`.
    outcome_label : str
        What the score predicts, in words, e.g. ``"readmission within 30 days"``.
    top : int, default 3
        How many features to name (those with the largest contributions).
    labels : dict, optional
        Readable names for features, e.g. ``{"chronic_conditions": "active chronic illnesses"}``.

    Returns
    -------
    str
        First the patient's estimated risk against the average patient's, then one sentence per
        named feature: its value, the typical value and whether it raises or lowers the risk.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = pd.DataFrame({"conditions": [0, 1, 2, 3, 4, 5, 6, 7]})
    >>> model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, [0, 0, 0, 1, 0, 1, 1, 1])
    >>> print(explain_patient(model, X, X.iloc[[7]], outcome_label="readmission within 30 days",
    ...                       labels={"conditions": "chronic illnesses"}))
    Estimated risk of readmission within 30 days: 85 % (the average patient: 50 %).
    - chronic illnesses: 7 (typical 3.5) raises the risk (odds x 5.6).
    """
    top = check.check_whole_number(top, "top", low=1)
    outcome = check.check_text(outcome_label, "outcome_label")
    labels = {} if labels is None else dict(labels)
    table = patient_contributions(model, X, patient)
    lines = [f"Estimated risk of {outcome}: {100 * table.attrs['risk']:.0f} % "
             f"(the average patient: {100 * table.attrs['average_risk']:.0f} %)."]
    for feature, row in table.head(top).iterrows():
        if abs(row["contribution"]) < 0.005:
            direction = "makes almost no difference"
        elif row["contribution"] > 0:
            direction = f"raises the risk (odds x {row['odds_factor']:.1f})"
        else:
            direction = f"lowers the risk (odds x {row['odds_factor']:.2f})"
        same = _value_words(row["value"]) == _value_words(row["typical"])
        typical = "as most patients" if same else f"typical {_value_words(row['typical'])}"
        lines.append(f"- {labels.get(feature, feature)}: {_value_words(row['value'])} ({typical}) {direction}.")
    return "\n".join(lines)
