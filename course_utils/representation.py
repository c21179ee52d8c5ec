"""Who is in the data, for the worked examples: category shares and missing values by group.

The representation audit itself -- counts, imbalance ratios, prevalence with intervals, small
groups -- is what learners write in notebook 01; the course does not ship it.  This module holds
the tables the notebooks' worked examples and figures use:

category_share_table   each category's share within each group, with a binomial confidence interval
missingness_table      share of missing values per column, per group
proportion_interval    a binomial confidence interval (scipy's Wilson, Wilson-cc or exact), element-wise

Every category of a categorical column gets a row, even when no patient falls in it, so an empty
group is visible instead of silently absent.  Column arguments end in ``_col`` (one column) or
``_cols`` (one column or a list); there are no default columns.

Examples
--------
>>> from course_utils.data import load_heart
>>> from course_utils.representation import missingness_table
>>> missingness_table(load_heart(), group_cols="site", feature_cols=["cholesterol"]).round(2)
... # doctest: +NORMALIZE_WHITESPACE
                 n  cholesterol
site
Cleveland      303         0.00
Hungary        294         0.08
Switzerland    123         1.00
VA Long Beach  200         0.28
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binomtest

from course_utils import _validation as check

__all__ = [
    "CI_METHODS",
    "category_share_table",
    "missingness_table",
    "proportion_interval",
]

#: Interval methods of :meth:`scipy.stats._result_classes.BinomTestResult.proportion_ci`:
#: Wilson score (default; good coverage for small groups), Wilson with continuity correction,
#: and Clopper-Pearson ("exact", conservative).
CI_METHODS = ("wilson", "wilsoncc", "exact")


# --- counting ------------------------------------------------------------------------------


def _levels(column: pd.Series) -> list:
    """Every category of a categorical (used or not), else the sorted observed values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique().tolist(), key=str)


def _all_groups(data: pd.DataFrame, names: list[str]) -> pd.Index:
    levels = [_levels(data[name]) for name in names]
    if len(names) == 1:
        return pd.Index(levels[0], name=names[0])
    return pd.MultiIndex.from_product(levels, names=names)


def _group_sizes(data: pd.DataFrame, names: list[str]) -> pd.Series:
    sizes = data.groupby(names, observed=True).size()
    return sizes.reindex(_all_groups(data, names), fill_value=0).astype(int)


def proportion_interval(successes: ArrayLike, totals: ArrayLike, *, confidence_level: float = 0.95,
                        method: str = "wilson") -> tuple[np.ndarray, np.ndarray]:
    """Binomial confidence interval of ``successes / totals``, element by element.

    Parameters
    ----------
    successes, totals : array-like of whole numbers
        E.g. patients with disease and patients in each group.  Where a total is 0 (no
        patients) the interval is NaN.
    confidence_level : float, default 0.95
    method : {"wilson", "wilsoncc", "exact"}, default "wilson"
        Interval method of :func:`scipy.stats.binomtest`'s ``proportion_ci``; ``"exact"`` is
        Clopper-Pearson.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The lower and upper ends.

    Examples
    --------
    >>> low, high = proportion_interval([3, 0], [6, 0])
    >>> low.round(3).tolist(), high.round(3).tolist()
    ([0.188, nan], [0.812, nan])
    """
    confidence_level = check.check_confidence_level(confidence_level)
    check.check_choice(method, "method", CI_METHODS)
    successes, totals = np.atleast_1d(np.asarray(successes, dtype=float)), np.atleast_1d(np.asarray(totals, dtype=float))
    check.check_same_length(successes=successes, totals=totals)
    if ((successes < 0) | (successes > totals) | (successes % 1 != 0) | (totals % 1 != 0)).any():
        raise ValueError("successes and totals should be whole numbers with 0 <= successes <= totals.")
    low, high = np.full(len(totals), np.nan), np.full(len(totals), np.nan)
    for i, (k, n) in enumerate(zip(successes, totals)):
        if n > 0:
            interval = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence_level, method=method)
            low[i], high[i] = interval.low, interval.high
    return low, high


# --- tables for the worked examples ----------------------------------------------------------


def category_share_table(data: pd.DataFrame, *, group_col: str, category_col: str,
                         confidence_level: float = 0.95, method: str = "wilson") -> pd.DataFrame:
    """Each category's share within each group, with a binomial confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    group_col : str
        The column whose groups are compared, e.g. ``"sex"``.
    category_col : str
        A column of categories, e.g. ``"chest_pain"``; patients with no recorded category are
        left out of their group's total.
    confidence_level : float, default 0.95
    method : {"wilson", "wilsoncc", "exact"}, default "wilson"
        Interval method (see :func:`proportion_interval`).

    Returns
    -------
    pandas.DataFrame
        Indexed by (group, category), every combination: ``n`` (the group's patients with a
        recorded category), ``count`` (of them, in this category), ``share`` (count / n) and
        ``share_ci_low`` / ``share_ci_high``.

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> table = category_share_table(load_heart(), group_col="sex", category_col="chest_pain")
    >>> table.loc["Female"].round(3)  # doctest: +NORMALIZE_WHITESPACE
                        n  count  share  share_ci_low  share_ci_high
    chest_pain
    typical angina    194     10  0.052         0.028          0.092
    atypical angina   194     61  0.314         0.253          0.383
    non-anginal pain  194     53  0.273         0.215          0.340
    asymptomatic      194     70  0.361         0.297          0.431
    """
    check.check_dataframe(data)
    group_col = check.check_column(data, group_col, "group_col")
    category_col = check.check_column(data, category_col, "category_col")
    if group_col == category_col:
        raise ValueError(f"category_col should be another column than group_col; both are {group_col!r}.")
    if pd.api.types.is_float_dtype(data[category_col]):
        raise TypeError(f"column {category_col!r} holds measurements, not categories.")
    recorded = data[data[category_col].notna()]
    counts = _group_sizes(recorded, [group_col, category_col])
    totals = counts.groupby(level=0, observed=False).transform("sum")
    low, high = proportion_interval(counts, totals, confidence_level=confidence_level, method=method)
    table = pd.DataFrame({"n": totals, "count": counts}, index=counts.index)
    table["share"] = (counts / totals).where(totals > 0)
    table["share_ci_low"], table["share_ci_high"] = low, high
    return table


def missingness_table(data: pd.DataFrame, *, group_cols: str | list[str],
                      feature_cols: list[str] | None = None) -> pd.DataFrame:
    """Share of missing values in each column, per group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.  Load the heart data with the default
        ``cholesterol_zero_as_missing=True`` so that "recorded as 0" counts as missing.
    group_cols : str or list of str
        The grouping column(s), e.g. ``["site", "sex"]``.
    feature_cols : list of str, optional
        The columns to inspect; by default every other column with at least one missing value.

    Returns
    -------
    pandas.DataFrame
        ``n`` (patients in the group) and, per inspected column, the share of its values that are
        missing (NaN where the group has no patients).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> missing = missingness_table(load_heart(), group_cols="site", feature_cols=["cholesterol"])
    >>> missing.round(2)  # doctest: +NORMALIZE_WHITESPACE
                     n  cholesterol
    site
    Cleveland      303         0.00
    Hungary        294         0.08
    Switzerland    123         1.00
    VA Long Beach  200         0.28
    """
    check.check_dataframe(data)
    names = check.check_columns(data, group_cols, "group_cols")
    if feature_cols is None:
        columns = [c for c in data.columns if c not in names and data[c].isna().any()]
        if not columns:
            raise ValueError("data has no missing values in any column; there is nothing to tabulate.")
    else:
        columns = check.check_columns(data, feature_cols, "feature_cols")
    n = _group_sizes(data, names)
    shares = data[columns].isna().groupby([data[c] for c in names], observed=True).mean()
    table = shares.reindex(n.index)
    table.insert(0, "n", n)
    return table
