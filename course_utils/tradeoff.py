"""Weigh performance against disparity: measure a sweep's predictions, draw them, report the chosen one with Aequitas.

evaluate_predictions  every setting's AUC, accuracy, FNR per group and FNR gap on the same patients, with
                      bootstrap intervals from the same resamples for every setting
plot_pareto           every setting as a point with its intervals, coloured by method; a front you give, as a line
aequitas_fairness     Aequitas's parity verdicts for an ``aequitas.Audit``, without its logging side effect

In notebook 02 you write the pieces yourself -- the Pareto front, the selection rule, the clinical terms, the
paired comparison -- and these functions measure and draw around them.

The FNR (false-negative rate) is the share of patients *with* the condition whom the model calls healthy: a
missed diagnosis.  The FNR gap is ``|FNR_group1 - FNR_group2|`` for the two groups of ``group_col``.

Examples
--------
>>> import pandas as pd
>>> predictions = pd.DataFrame({
...     "setting": ["a"] * 6 + ["b"] * 6, "patient": list(range(6)) * 2,
...     "y": [1, 1, 0, 1, 1, 0] * 2, "group": ["F", "F", "F", "M", "M", "M"] * 2,
...     "score": [0.9, 0.3, 0.2, 0.8, 0.7, 0.4, 0.9, 0.6, 0.2, 0.8, 0.7, 0.4],
...     "decision": [1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0]})
>>> table = evaluate_predictions(predictions, setting_cols=["setting"], outcome_col="y", score_col="score",
...                              decision_col="decision", group_col="group", patient_col="patient")
>>> table[["setting", "auc", "fnr_F", "fnr_M", "fnr_gap"]]
  setting    auc  fnr_F  fnr_M  fnr_gap
0       a  0.875    0.5    0.0      0.5
1       b  1.000    0.0    0.0      0.0
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score

from course_utils import _validation as check
from course_utils._bootstrap import DEFAULT_N_BOOT, percentile_intervals, rates_on_resamples
from course_utils.plots import plot_tradeoff

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["aequitas_fairness", "evaluate_predictions", "plot_pareto"]

_AXIS_LABELS = {
    "auc": "overall AUC on validation patients (0.5 = chance, 1 = perfect)",
    "accuracy": "overall accuracy on validation patients (proportion)",
    "fnr_gap": "FNR gap between groups, |FNR difference| (proportion of patients with disease)",
}


# --------------------------------------------------------------------------- measuring a sweep


def _rates(y, score, decision, groups, names):
    fnr = {}
    for name in names:
        sick = (groups == name) & (y == 1)
        fnr[name] = float((decision[sick] == 0).mean()) if sick.any() else np.nan  # undefined, not 0
    return {
        "auc": roc_auc_score(y, score) if np.unique(y).size == 2 else np.nan,
        "accuracy": accuracy_score(y, decision),
        "fnr": float((decision[y == 1] == 0).mean()) if (y == 1).any() else np.nan,
        **{f"fnr_{name}": value for name, value in fnr.items()},
        "fnr_gap": abs(fnr[names[0]] - fnr[names[1]]),
    }


def evaluate_predictions(predictions: pd.DataFrame, *, setting_cols: Sequence[str], outcome_col: str,
                         score_col: str, decision_col: str, group_col: str, patient_col: str,
                         n_boot: int = DEFAULT_N_BOOT, confidence_level: float = 0.95,
                         random_state: int | None = 0) -> pd.DataFrame:
    """Measure every setting of a sweep on the same patients: AUC, accuracy, FNR per group and FNR gap, with intervals.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per setting and patient (long format), e.g. :func:`course_utils.data.load_debiasing_predictions`
        joined with the patients' outcome and group.  Every setting must hold the same patients.
    setting_cols : list of str
        The columns that name a setting, e.g. ``["method", "value", "seed"]``: one result row per combination.
    outcome_col, score_col, decision_col : str
        The true outcome (0/1), the score (for AUC) and the decision (0/1; for accuracy and FNR).
    group_col : str
        Each patient's group: exactly two groups, for the FNR gap.
    patient_col : str
        Identifies a patient across settings, so that every setting is resampled with the same patients.
    n_boot : int, default 1000
        Bootstrap resamples of the patients: 0 (no interval columns) or at least 500.
    confidence_level : float, default 0.95
    random_state : int or None, default 0
        Seed of the bootstrap.  Every setting uses the same resamples (the same patients drawn), so the
        intervals of two settings come from the same draws.

    Returns
    -------
    pandas.DataFrame
        One row per setting, in order of first appearance: the ``setting_cols``, ``auc`` with
        ``auc_ci_low`` / ``auc_ci_high``, ``accuracy``, ``fnr`` (all patients), ``fnr_<group>`` for each group
        (sorted), ``fnr_gap`` with ``fnr_gap_ci_low`` / ``fnr_gap_ci_high``.  A group with no patients with the
        condition has an undefined (NaN) FNR, and then the gap is undefined too.

    Notes
    -----
    Intervals are the course's percentile bootstrap intervals (``course_utils._bootstrap``): patients are
    resampled with replacement, resamples in which a metric is undefined are left out, and an interval that
    would exclude its estimate (possible for a gap near 0) is widened to include it.
    """
    setting_cols = check.check_column_list(setting_cols, "setting_cols")
    if not setting_cols:
        raise ValueError("setting_cols is empty: name the column(s) that identify a setting, e.g. ['method'].")
    columns = [*setting_cols, outcome_col, score_col, decision_col, group_col, patient_col]
    for name, value in zip(("outcome_col", "score_col", "decision_col", "group_col", "patient_col"), columns[-5:]):
        check.check_column(predictions, value, name, "predictions")
    check.check_dataframe(predictions, "predictions", columns=setting_cols)
    n_boot = check.check_n_boot(n_boot)
    confidence_level = check.check_confidence_level(confidence_level)
    random_state = check.check_random_state(random_state)
    groups = sorted(pd.unique(check.check_groups(predictions[group_col], group_col)).tolist(), key=str)
    if len(groups) != 2:
        raise ValueError(f"{group_col} should have exactly two groups, for an FNR gap; found {len(groups)}: "
                         f"{[str(g) for g in groups]}.")

    rows, patients = [], None
    for key, rows_of_setting in predictions.groupby(setting_cols, sort=False, dropna=False):
        part = rows_of_setting.sort_values(patient_col, kind="stable")
        if patients is None:
            patients = part[patient_col].to_numpy()
        elif not np.array_equal(part[patient_col].to_numpy(), patients):
            raise ValueError(f"every setting must hold the same patients ({patient_col}); setting {key!r} does not.")
        y = check.check_binary_labels(part[outcome_col], outcome_col)
        score = check.check_scores(part[score_col], score_col)
        decision = check.check_binary_labels(part[decision_col], decision_col)
        sensitive = part[group_col].astype(object).to_numpy()
        row = dict(zip(setting_cols, key if isinstance(key, tuple) else (key,)))
        row.update(_rates(y, score, decision, sensitive, groups))
        if n_boot:
            codes = (sensitive == groups[1]).astype(int)
            samples = rates_on_resamples(y, decision, codes, 2, y_score=score, n_boot=n_boot,
                                         random_state=random_state, include_overall=True)
            gaps = np.abs(samples["fnr"][:, 0] - samples["fnr"][:, 1])
            row["auc_ci_low"], row["auc_ci_high"] = map(float, percentile_intervals(samples["auc"][:, 2], row["auc"],
                                                                                    confidence_level))
            row["fnr_gap_ci_low"], row["fnr_gap_ci_high"] = map(float, percentile_intervals(gaps, row["fnr_gap"],
                                                                                            confidence_level))
        rows.append(row)
    intervals = n_boot > 0
    order = [*setting_cols, "auc", *(["auc_ci_low", "auc_ci_high"] if intervals else []), "accuracy", "fnr",
             *[f"fnr_{g}" for g in groups], "fnr_gap", *(["fnr_gap_ci_low", "fnr_gap_ci_high"] if intervals else [])]
    return pd.DataFrame(rows, columns=order)


# --------------------------------------------------------------------------- drawing


def plot_pareto(df: pd.DataFrame, front: pd.DataFrame | None = None, *, maximise: str = "auc",
                minimise: str = "fnr_gap", ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw every row as a point with its interval, coloured by method, and ``front`` (if given) as a dashed line.

    The colours and markers are the course's (:data:`course_utils.plots.METHOD_COLOURS`); the drawing is
    :func:`course_utils.plots.plot_tradeoff`.  The front is whatever rows you pass -- e.g. those your own
    Pareto-front function returns; it is drawn from the smallest ``minimise`` to the largest.

    Parameters
    ----------
    df : pandas.DataFrame
        E.g. the table from :func:`evaluate_predictions`: ``method``, the two objective columns and, for error
        bars, their ``_ci_low`` / ``_ci_high`` columns.
    front : pandas.DataFrame, optional
        The rows on the Pareto front; None draws the points only.
    maximise, minimise : str
        The objective columns: ``minimise`` on the x axis, ``maximise`` on the y axis.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> points = pd.DataFrame({"method": ["baseline", "threshold"], "auc": [0.88, 0.88],
    ...                        "fnr_gap": [0.15, 0.02]})
    >>> ax = plot_pareto(points, points.iloc[[1]])
    >>> ax.get_xlabel()
    'FNR gap between groups, |FNR difference| (proportion of patients with disease)'
    """
    check.check_dataframe(df, "df", columns=["method", maximise, minimise], allow_empty=True,
                          what="the DataFrame of settings")
    if front is None:
        front = df.iloc[:0]
    check.check_dataframe(front, "front", columns=[maximise, minimise], allow_empty=True,
                          what="a DataFrame of the rows on the front")
    front = front.sort_values([minimise, maximise], kind="stable")
    return plot_tradeoff(df, front, maximise=maximise, minimise=minimise, ax=ax, title=title,
                         xlabel=_AXIS_LABELS.get(minimise, minimise), ylabel=_AXIS_LABELS.get(maximise, maximise))


# --------------------------------------------------------------------------- reporting with Aequitas


@contextlib.contextmanager
def _root_handlers_kept():
    # Aequitas logs through the root logger's module functions (logging.info), which install a
    # stderr handler on the root logger when it has none: every later warning of any library would
    # then print in the notebook.  Put the root logger's handlers back as they were.
    handlers = list(logging.root.handlers)
    try:
        yield
    finally:
        logging.root.handlers[:] = handlers


def aequitas_fairness(audit: Any, tau: float = 0.8) -> pd.DataFrame:
    """Aequitas's parity verdicts for a finished ``aequitas.Audit``: ``Fairness().get_group_value_fairness``.

    Aequitas marks a group's disparity (its metric divided by the reference group's) as fair when it lies
    between ``tau`` and ``1 / tau``, i.e. 0.8 to 1.25 by default, the "80 % rule".  This runs Aequitas's own
    ``Fairness`` on a copy of ``audit.disparity_df`` (it adds columns in place) and keeps Aequitas from
    installing a logging handler that would print later libraries' warnings in your notebook.

    Parameters
    ----------
    audit : aequitas.Audit
        After ``audit.audit()``.
    tau : float, default 0.8
        Aequitas's fairness threshold, in (0, 1].

    Returns
    -------
    pandas.DataFrame
        ``audit.disparity_df`` with Aequitas's verdict columns added: ``"FNR Parity"``, ``"FPR Parity"``,
        ``"Equalized Odds"``, ``"Statistical Parity"`` and the others (True / False, NaN where undefined).

    Examples
    --------
    >>> import pandas as pd
    >>> from aequitas import Audit
    >>> frame = pd.DataFrame({"label": [1, 1, 1, 0, 0, 1, 1, 0, 0, 0], "score": [1, 0, 0, 1, 0, 1, 0, 1, 0, 0],
    ...                       "sex": ["F", "F", "F", "F", "F", "M", "M", "M", "M", "M"]})
    >>> audit = Audit(frame, sensitive_attribute_column=["sex"], reference_groups={"sex": "M"})
    >>> audit.audit()
    >>> aequitas_fairness(audit)[["attribute_value", "fnr", "fnr_disparity", "FNR Parity"]]
      attribute_value       fnr  fnr_disparity  FNR Parity
    0               F  0.666667       1.333333       False
    1               M  0.500000       1.000000        True
    """
    disparities = getattr(audit, "disparity_df", None)
    if not isinstance(disparities, pd.DataFrame):
        raise TypeError("audit should be an aequitas Audit after audit.audit() (it then has a disparity_df); "
                        f"got {type(audit).__name__}.")
    tau = check.check_real(tau, "tau", low=0, high=1, low_open=True)
    from aequitas.fairness import Fairness

    with _root_handlers_kept():
        return Fairness(tau=tau).get_group_value_fairness(disparities.copy())
