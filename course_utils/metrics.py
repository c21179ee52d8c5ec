"""Calibration by group, and the names the course's audit tables share.

How a model does for each group of patients -- group sizes, base rates, error rates, their intervals -- is what
you compute yourself in notebooks 01 and 02; this module does not compute it.  The notebooks show the course's own
audit tables as data, computed once by the course on its own patients: :func:`course_utils.data.load_course_table`.

calibration_table   mean predicted risk against the observed rate in risk bins, group by group (for
                    :func:`course_utils.plots.plot_calibration_by_group`)
RATE_METRICS        the rate columns of an audit table, in the course's order
OVERALL             the label of an audit table's whole-population row

Examples
--------
>>> from course_utils.data import load_course_table
>>> from course_utils.metrics import RATE_METRICS
>>> table = load_course_table("heart_baseline_audit_by_sex")
>>> [metric for metric in RATE_METRICS if metric in table.columns]
['base_rate', 'selection_rate', 'accuracy', 'tpr', 'fpr', 'fnr', 'ppv', 'auc']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from course_utils import _validation as check

__all__ = [
    "OVERALL",
    "RATE_METRICS",
    "calibration_table",
]

#: The rate metrics of an audit table, in table order: each with ``<metric>_ci_low`` / ``<metric>_ci_high``.
RATE_METRICS = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "ppv", "auc")

#: Label of an audit table's whole-population row (``("overall", "overall")`` for intersections).
OVERALL = "overall"


# --- groups ----------------------------------------------------------------------------------


def _sensitive_frame(sensitive_features) -> pd.DataFrame:
    if isinstance(sensitive_features, dict):
        sensitive_features = pd.DataFrame(sensitive_features)
    if isinstance(sensitive_features, (pd.Categorical, pd.Index)):
        # Keep a categorical's unused categories: they become visible empty groups.
        sensitive_features = pd.Series(sensitive_features, name=getattr(sensitive_features, "name", None))
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features.reset_index(drop=True)
        if frame.shape[1] == 0:
            raise ValueError("sensitive_features is a table with no columns; give at least one.")
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(sensitive_features, pd.Series):
        name = "group" if sensitive_features.name is None else str(sensitive_features.name)
        frame = sensitive_features.reset_index(drop=True).to_frame(name)
    else:
        array = np.asarray(sensitive_features, dtype=object)
        if array.ndim == 2:
            frame = pd.DataFrame(array, columns=[f"group_{i}" for i in range(array.shape[1])])
        else:
            frame = pd.Series(check.check_one_dimensional(array, "sensitive_features"), name="group").to_frame()
    if len(frame) == 0:
        raise ValueError("sensitive_features is empty: there are no patients to audit.")
    for column in frame.columns:
        check.check_no_missing(frame[column].to_numpy(), f"sensitive_features column {column!r}")
    return frame


# --- calibration ---------------------------------------------------------------------------

#: Binning strategies of :func:`sklearn.calibration.calibration_curve`.
_STRATEGIES = ("quantile", "uniform")


def calibration_table(y_true: ArrayLike, y_score: ArrayLike, *, sensitive_features: ArrayLike, n_bins: int = 4,
                      strategy: str = "quantile") -> pd.DataFrame:
    """Mean predicted risk against the observed rate in each risk bin, group by group.

    A calibrated model's observed rate equals its mean predicted risk in every bin.  The bins
    and both columns come from scikit-learn's :func:`~sklearn.calibration.calibration_curve`,
    applied to each group's patients; :func:`course_utils.plots.plot_calibration_by_group`
    draws the table.

    Parameters
    ----------
    y_true : array-like of 0/1, shape (n_patients,)
        The outcome of each patient.
    y_score : array-like of float in [0, 1], shape (n_patients,)
        The model's predicted probability of the outcome.
    sensitive_features : Series, 1-D array or list
        The group of each patient; a Series' name names the index level (else ``"group"``).
    n_bins : int, default 4
        Bins per group, at least 2.  With few patients per group use few bins.
    strategy : {"quantile", "uniform"}, default "quantile"
        ``"quantile"`` puts the same number of a group's patients in each bin; ``"uniform"``
        cuts [0, 1] into equal widths.  Empty bins are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by (group, bin number from 0), with ``mean_predicted`` (mean predicted risk in
        the bin), ``observed`` (share of the bin's patients with the outcome) and
        ``group_size`` (patients in the group, the same on each of its rows).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1] * 20)
    >>> score = np.linspace(0.05, 0.95, 40)
    >>> table = calibration_table(y, score, sensitive_features=np.array(["Female", "Male"] * 20), n_bins=2)
    >>> table.round(3)  # doctest: +NORMALIZE_WHITESPACE
                mean_predicted  observed  group_size
    group  bin
    Female 0             0.258       0.0          20
           1             0.719       0.0          20
    Male   0             0.281       1.0          20
           1             0.742       1.0          20
    """
    from sklearn.calibration import calibration_curve

    y_true = check.check_binary_labels(y_true, "y_true")
    scores = check.check_scores(y_score, "y_score")
    if (scores < 0).any() or (scores > 1).any():
        raise ValueError("y_score should hold probabilities between 0 and 1 (predict_proba(X)[:, 1]).")
    features = _sensitive_frame(sensitive_features)
    if features.shape[1] != 1:
        raise ValueError(f"sensitive_features should be one value per patient (one column); got {features.shape[1]} columns.")
    n_bins = check.check_whole_number(n_bins, "n_bins", low=2)
    check.check_choice(strategy, "strategy", _STRATEGIES)
    check.check_same_length(y_true=y_true, y_score=scores, sensitive_features=features)
    groups = features.iloc[:, 0].to_numpy()
    parts = {}
    for group in sorted(pd.unique(groups), key=str):
        mine = groups == group
        observed, predicted = calibration_curve(y_true[mine], scores[mine], n_bins=n_bins, strategy=strategy)
        parts[group] = pd.DataFrame({"mean_predicted": predicted, "observed": observed,
                                     "group_size": int(mine.sum())}).rename_axis("bin")
    return pd.concat(parts, names=[features.columns[0], "bin"])
