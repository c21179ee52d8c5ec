"""Model inputs for scikit-learn: the heart data's feature lists, and columns in plain dtypes.

The course does not ship a model: learners build the baseline pipeline themselves in notebook 01
(imputation with missing indicators, one-hot encoding, logistic regression) and validate it with
out-of-fold predictions.  This module hides the one piece of boilerplate that is not the lesson:
scikit-learn's imputers cannot read pandas' nullable booleans (``pd.NA``) nor categorical text as
numbers, so :func:`model_inputs` turns the chosen columns into plain floats and objects, with NaN
for every missing value.

Examples
--------
>>> from course_utils.data import load_heart
>>> X = model_inputs(load_heart(), numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)
>>> X.shape, str(X["exercise_angina"].dtype), str(X["sex"].dtype)
((920, 10), 'float64', 'object')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_utils import _validation as check

__all__ = [
    "HEART_CATEGORICAL_FEATURES",
    "HEART_FEATURES",
    "HEART_NUMERIC_FEATURES",
    "model_inputs",
]

#: The heart data's measurements the course's models use.
HEART_NUMERIC_FEATURES = ("age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression")
#: The heart data's categories and yes/no findings the course's models use.  ``sex`` is a feature,
#: as in most published models on these data; the collection ``site`` is not (a diagnostic model
#: should not depend on which hospital recorded the patient), nor are ``st_slope``,
#: ``major_vessels`` and ``thallium_scan``, which are missing for most patients outside Cleveland.
HEART_CATEGORICAL_FEATURES = ("sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high")
#: Both lists together.
HEART_FEATURES = HEART_NUMERIC_FEATURES + HEART_CATEGORICAL_FEATURES


def model_inputs(data: pd.DataFrame, *, numeric_cols: Sequence[str], categorical_cols: Sequence[str]) -> pd.DataFrame:
    """The named columns of ``data`` as scikit-learn reads them: floats and objects, NaN for missing.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    numeric_cols : sequence of str
        Measurement columns, returned as floats (nullable True/False columns become 1.0/0.0).
    categorical_cols : sequence of str
        Category columns, returned as Python objects (True/False findings as 1.0/0.0 floats).

    Returns
    -------
    pandas.DataFrame
        A new frame with the numeric columns, then the categorical ones, indexed like ``data``.
    """
    check.check_dataframe(data)
    numeric = check.check_column_list(numeric_cols, "numeric_cols")
    categorical = check.check_column_list(categorical_cols, "categorical_cols")
    overlap = sorted(set(numeric) & set(categorical))
    if overlap:
        raise ValueError(f"a column cannot be both numeric and categorical: {overlap}.")
    for name in numeric + categorical:
        check.check_column(data, name, "numeric_cols" if name in numeric else "categorical_cols")
    plain = data[numeric + categorical].copy()
    for name, column in plain.items():
        if isinstance(column.dtype, pd.BooleanDtype) or pd.api.types.is_bool_dtype(column):
            plain[name] = column.astype("float64")
        elif name in numeric:
            plain[name] = pd.to_numeric(column, errors="raise").astype("float64")
        else:
            plain[name] = column.astype(object).where(column.notna(), np.nan)
    return plain
