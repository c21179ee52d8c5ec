"""Weigh performance against disparity: draw a sweep's settings and your front, report the chosen one with Aequitas.

plot_pareto           every setting as a point with its intervals, coloured by method; a front you give, as a line
aequitas_fairness     Aequitas's parity verdicts for an ``aequitas.Audit``, without its logging side effect

In notebook 02b you write the pieces yourself -- the Pareto front, the selection rule, the clinical terms, the
paired comparison -- and these functions draw and report around them.  The sweep's measurements (every setting's
AUC, accuracy, FNR per group and FNR gap, cross-fitted over the non-test patients, with bootstrap intervals) are the
course's, computed once and shipped as data: ``course_utils.data.load_course_table("heart_crossfit_sweep")``.

The FNR (false-negative rate) is the share of patients *with* the condition whom the model calls healthy: a
missed diagnosis.  The FNR gap is ``|FNR_group1 - FNR_group2|`` for the two groups of ``group_col``.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from course_utils.data import load_course_table
>>> sweep = load_course_table("heart_crossfit_sweep")
>>> ax = plot_pareto(sweep.drop_duplicates("method"))
>>> ax.get_ylabel()
'overall AUC (0.5 = chance, 1 = perfect)'
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from course_utils import _validation as check
from course_utils.plots import plot_tradeoff

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["aequitas_fairness", "plot_pareto"]

_AXIS_LABELS = {
    "auc": "overall AUC (0.5 = chance, 1 = perfect)",
    "accuracy": "overall accuracy (proportion)",
    "fnr_gap": "FNR gap between groups, |FNR difference| (proportion of patients with disease)",
}


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
        E.g. the course's sweep table (``load_course_table("heart_crossfit_sweep")``): ``method``, the two
        objective columns and, for error bars, their ``_ci_low`` / ``_ci_high`` columns.
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
