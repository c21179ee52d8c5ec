"""Who is in the data: group sizes, imbalance ratios, outcome prevalence, category shares and missingness by group.

A representation audit asks, before any model is trained, how many patients of each group the
data hold, at which collection site, how often each group has the outcome, and where values are
missing.  Each function here answers one of those questions as a DataFrame a learner can print:

representation_table   patients per group (optionally within each site): count and share
imbalance_ratio        majority : minority ratio, overall or within each site
prevalence_table       outcome prevalence per group with a binomial confidence interval
category_share_table   each category's share within each group, with a binomial confidence interval
missingness_table      share of missing values per column, per group
proportion_interval    the binomial confidence interval behind the two tables above

Counting is pandas; confidence intervals come from :func:`scipy.stats.binomtest`.  Every category
of a categorical column gets a row, even when no patient falls in it, so an empty group is
visible instead of silently absent.  Column arguments end in ``_col`` (one column) or ``_cols``
(one column or a list); there are no default columns: say which ones you mean.

Examples
--------
>>> from course_utils.data import load_heart
>>> from course_utils.representation import imbalance_ratio, prevalence_table
>>> heart = load_heart()
>>> round(imbalance_ratio(heart, group_col="sex", majority="Male", minority="Female"), 2)
3.74
>>> prevalence_table(heart, group_cols="sex", outcome_col="disease")[["n", "cases", "prevalence"]].round(3)
... # doctest: +NORMALIZE_WHITESPACE
          n  cases  prevalence
sex
Female  194     50       0.258
Male    726    459       0.632
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binomtest

from course_utils import _validation as check

__all__ = [
    "CI_METHODS",
    "category_share_table",
    "imbalance_ratio",
    "missingness_table",
    "prevalence_table",
    "proportion_interval",
    "representation_table",
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


# --- the audit tables ----------------------------------------------------------------------


def representation_table(data: pd.DataFrame, *, group_col: str, within_col: str | None = None) -> pd.DataFrame:
    """Patients per group: the count and the share of all patients (or of each site's patients).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient, e.g. from :func:`course_utils.data.load_heart`.
    group_col : str
        The column whose groups are counted, e.g. ``"sex"``.
    within_col : str, optional
        A column such as ``"site"``: shares are then computed within each of its levels
        (they sum to 1 per site) and the table has a (``within_col``, ``group_col``) MultiIndex.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (patients) and ``share`` (n divided by the patients of the whole data,
        or of the ``within_col`` level; NaN for a level with no patients).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> representation_table(heart, group_col="sex").round(3)  # doctest: +NORMALIZE_WHITESPACE
              n  share
    sex
    Female  194  0.211
    Male    726  0.789
    >>> representation_table(heart, group_col="sex", within_col="site").loc["VA Long Beach"].round(3)
    ... # doctest: +NORMALIZE_WHITESPACE
              n  share
    sex
    Female    6   0.03
    Male    194   0.97
    """
    check.check_dataframe(data)
    group_col = check.check_column(data, group_col, "group_col")
    if within_col is None:
        sizes = _group_sizes(data, [group_col])
        totals = pd.Series(len(data), index=sizes.index)
    else:
        within_col = check.check_column(data, within_col, "within_col")
        if within_col == group_col:
            raise ValueError(f"within_col should be another column than group_col; both are {group_col!r}.")
        sizes = _group_sizes(data, [within_col, group_col])
        totals = sizes.groupby(level=0, observed=False).transform("sum")
    table = sizes.to_frame("n")
    table["share"] = (sizes / totals).where(totals > 0)  # a site with no patients has no shares
    return table


def imbalance_ratio(data: pd.DataFrame, *, group_col: str, majority: Hashable, minority: Hashable,
                    within_col: str | None = None) -> float | pd.Series:
    """How many ``majority`` patients there are per ``minority`` patient (e.g. men per woman).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    group_col : str
        The column holding the two groups, e.g. ``"sex"``.
    majority, minority : group labels
        The groups on top and underneath, e.g. ``"Male"`` and ``"Female"``: the ratio is
        ``n(majority) / n(minority)``, read as "majority : minority = ratio : 1".
    within_col : str, optional
        A column such as ``"site"``: one ratio per level of it.

    Returns
    -------
    float or pandas.Series
        The ratio (a Series indexed by the levels of ``within_col`` if given).  It is ``inf``
        where there are majority but no minority patients, and NaN (undefined) where there are
        neither.

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> imbalance_ratio(heart, group_col="sex", majority="Male", minority="Female", within_col="site").round(2)
    site
    Cleveland         2.12
    Hungary           2.63
    Switzerland      11.30
    VA Long Beach    32.33
    Name: Male : Female, dtype: float64
    """
    check.check_dataframe(data)
    group_col = check.check_column(data, group_col, "group_col")
    levels = _levels(data[group_col])
    for role, value in (("majority", majority), ("minority", minority)):
        if value not in levels:
            raise ValueError(f"{role} {value!r} is not a group of column {group_col!r}; its groups are {levels}.")
    if majority == minority:
        raise ValueError(f"majority and minority are both {majority!r}; give two different groups.")
    table = representation_table(data, group_col=group_col, within_col=within_col)["n"]
    if within_col is None:
        top, bottom = table.loc[majority], table.loc[minority]
    else:
        wide = table.unstack(group_col)
        top, bottom = wide[majority], wide[minority]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.divide(np.asarray(top, dtype=float), np.asarray(bottom, dtype=float))
    if within_col is None:
        return float(ratio)
    return pd.Series(ratio, index=top.index, name=f"{majority} : {minority}")


def prevalence_table(data: pd.DataFrame, *, group_cols: str | list[str], outcome_col: str,
                     confidence_level: float = 0.95, method: str = "wilson",
                     min_group_size: int = 30) -> pd.DataFrame:
    """Outcome prevalence per group with a binomial confidence interval and a small-group flag.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    group_cols : str or list of str
        The grouping column(s), e.g. ``"sex"``.  Several columns give their intersections
        (sex x age band), every combination as a row, including empty ones.
    outcome_col : str
        A 0/1 (or True/False) column without missing values, e.g. ``"disease"``.
    confidence_level : float, default 0.95
        Coverage of the interval.
    method : {"wilson", "wilsoncc", "exact"}, default "wilson"
        Interval method (see :func:`proportion_interval`); ``"exact"`` is Clopper-Pearson.
    min_group_size : int, default 30
        Groups with fewer patients get ``small_group = True``: their prevalence is imprecise.

    Returns
    -------
    pandas.DataFrame
        Columns ``n``, ``cases``, ``prevalence``, ``prevalence_ci_low``, ``prevalence_ci_high``
        and ``small_group``.  A group with no patients has ``n = 0`` and NaN prevalence.

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> table = prevalence_table(load_heart(), group_cols="sex", outcome_col="disease")
    >>> table[["prevalence_ci_low", "prevalence_ci_high"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
            prevalence_ci_low  prevalence_ci_high
    sex
    Female              0.201               0.324
    Male                0.597               0.667
    """
    check.check_dataframe(data)
    names = check.check_columns(data, group_cols, "group_cols")
    outcome_col = check.check_column(data, outcome_col, "outcome_col")
    labels = pd.Series(check.check_binary_labels(data[outcome_col], f"outcome column {outcome_col!r}"), index=data.index)
    min_group_size = check.check_whole_number(min_group_size, "min_group_size", low=1)

    n = _group_sizes(data, names)
    cases = labels.groupby([data[c] for c in names], observed=True).sum()
    cases = cases.reindex(n.index, fill_value=0).astype(int)
    low, high = proportion_interval(cases, n, confidence_level=confidence_level, method=method)
    table = pd.DataFrame({"n": n, "cases": cases}, index=n.index)
    table["prevalence"] = (cases / n).where(n > 0)
    table["prevalence_ci_low"] = low
    table["prevalence_ci_high"] = high
    table["small_group"] = table["n"] < min_group_size
    return table


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
