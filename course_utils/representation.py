"""Who is in the data: group sizes, imbalance ratios, outcome prevalence and missingness by group.

A representation audit asks, before any model is trained, how many patients of each group the
data hold, at which collection site, how often each group has the outcome, and where values are
missing.  Each function here answers one of those questions as a DataFrame a learner can print:

representation_table   patients per group (optionally within each site): count and share
imbalance_ratio        majority : minority ratio, overall or within each site
prevalence_table       outcome prevalence per group with a binomial confidence interval
missingness_table      share of missing values per column, per group

Counting is pandas; confidence intervals come from :func:`scipy.stats.binomtest`.  Every category
of a categorical column gets a row, even when no patient falls in it, so an empty group is
visible instead of silently absent.

Examples
--------
>>> from course_utils.data import load_heart
>>> from course_utils.representation import imbalance_ratio, prevalence_table
>>> heart = load_heart()
>>> round(imbalance_ratio(heart), 2)
3.74
>>> prevalence_table(heart, "sex")[["n", "cases", "prevalence"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
          n  cases  prevalence
sex
Female  194     50       0.258
Male    726    459       0.632
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.stats import binomtest

__all__ = ["representation_table", "imbalance_ratio", "prevalence_table", "missingness_table", "CI_METHODS"]

#: Interval methods of :meth:`scipy.stats._result_classes.BinomTestResult.proportion_ci`:
#: Wilson score (default; good coverage for small groups), Wilson with continuity correction,
#: and Clopper-Pearson ("exact", conservative).
CI_METHODS = ("wilson", "wilsoncc", "exact")


# --- argument checking ---------------------------------------------------------------------


def _check_frame(data) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"data should be a pandas DataFrame with one row per patient (e.g. load_heart()); "
            f"got {type(data).__name__}."
        )
    if len(data) == 0:
        raise ValueError("data has no rows: there are no patients to count.")


def _columns(data: pd.DataFrame, columns, argument: str) -> list[str]:
    """One column name or a list of them, each present in ``data``."""
    names = [columns] if isinstance(columns, str) else columns
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(c, str) for c in names):
        raise TypeError(f"{argument} should be a column name or a list of column names; got {columns!r}.")
    absent = [c for c in names if c not in data.columns]
    if absent:
        raise ValueError(
            f"{argument}: data has no column {', '.join(map(repr, absent))}. "
            f"Available columns: {', '.join(map(str, data.columns))}."
        )
    return list(names)


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


# --- the audit tables ----------------------------------------------------------------------


def representation_table(data, group="sex", within=None):
    """Patients per group: the count and the share of all patients (or of each site's patients).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient, e.g. from :func:`course_utils.data.load_heart`.
    group : str, default "sex"
        The column whose groups are counted.
    within : str, optional
        A column such as ``"site"``: shares are then computed within each of its levels
        (they sum to 1 per site) and the table has a (``within``, ``group``) MultiIndex.

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (patients) and ``share`` (n divided by the patients of the whole data,
        or of the ``within`` level; NaN for a level with no patients).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> representation_table(heart).round(3)  # doctest: +NORMALIZE_WHITESPACE
              n  share
    sex
    Female  194  0.211
    Male    726  0.789
    >>> representation_table(heart, within="site").loc["VA Long Beach"].round(3)
    ... # doctest: +NORMALIZE_WHITESPACE
              n  share
    sex
    Female    6   0.03
    Male    194   0.97
    """
    _check_frame(data)
    names = _columns(data, group, "group")
    if len(names) != 1:
        raise TypeError(f"group should be one column name; got {group!r}. Use within= for a second column.")
    if within is None:
        sizes = _group_sizes(data, names)
        totals = pd.Series(len(data), index=sizes.index)
    else:
        outer = _columns(data, within, "within")
        if len(outer) != 1 or outer[0] == names[0]:
            raise ValueError(f"within should be one column other than {names[0]!r}; got {within!r}.")
        sizes = _group_sizes(data, [outer[0], names[0]])
        totals = sizes.groupby(level=0, observed=False).transform("sum")
    table = sizes.to_frame("n")
    table["share"] = (sizes / totals).where(totals > 0)  # a site with no patients has no shares
    return table


def imbalance_ratio(data, group="sex", majority="Male", minority="Female", within=None):
    """How many ``majority`` patients there are per ``minority`` patient (e.g. men per woman).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    group : str, default "sex"
        The column holding the two groups.
    majority, minority : str, default "Male", "Female"
        The groups on top and underneath: the ratio is ``n(majority) / n(minority)``, read as
        "majority : minority = ratio : 1".
    within : str, optional
        A column such as ``"site"``: one ratio per level of it.

    Returns
    -------
    float or pandas.Series
        The ratio (a Series indexed by the levels of ``within`` if given).  It is ``inf`` where
        there are majority but no minority patients, and NaN (undefined) where there are neither.

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> imbalance_ratio(heart, within="site").round(2)
    site
    Cleveland         2.12
    Hungary           2.63
    Switzerland      11.30
    VA Long Beach    32.33
    Name: Male : Female, dtype: float64
    """
    _check_frame(data)
    name = _columns(data, group, "group")
    if len(name) != 1:
        raise TypeError(f"group should be one column name; got {group!r}.")
    levels = _levels(data[name[0]])
    for role, value in (("majority", majority), ("minority", minority)):
        if value not in levels:
            raise ValueError(f"{role} {value!r} is not a group of column {name[0]!r}; its groups are {levels}.")
    if majority == minority:
        raise ValueError(f"majority and minority are both {majority!r}; give two different groups.")
    table = representation_table(data, name[0], within=within)["n"]
    if within is None:
        top, bottom = table.loc[majority], table.loc[minority]
    else:
        wide = table.unstack(name[0])
        top, bottom = wide[majority], wide[minority]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.divide(np.asarray(top, dtype=float), np.asarray(bottom, dtype=float))
    if within is None:
        return float(ratio)
    return pd.Series(ratio, index=top.index, name=f"{majority} : {minority}")


def prevalence_table(data, by="sex", outcome="disease", *, confidence_level=0.95, method="wilson",
                     min_group_size=30):
    """Outcome prevalence per group with a binomial confidence interval and a small-group flag.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    by : str or list of str, default "sex"
        The grouping column(s).  Several columns give their intersections (sex x age band),
        every combination as a row, including empty ones.
    outcome : str, default "disease"
        A 0/1 (or True/False) column without missing values.
    confidence_level : float, default 0.95
        Coverage of the interval.
    method : {"wilson", "wilsoncc", "exact"}, default "wilson"
        Interval method of :func:`scipy.stats.binomtest`'s ``proportion_ci``; ``"exact"`` is
        Clopper-Pearson.
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
    >>> table = prevalence_table(load_heart(), "sex")
    >>> table[["prevalence_ci_low", "prevalence_ci_high"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
            prevalence_ci_low  prevalence_ci_high
    sex
    Female              0.201               0.324
    Male                0.597               0.667
    """
    _check_frame(data)
    names = _columns(data, by, "by")
    (outcome_name,) = _columns(data, outcome, "outcome")
    labels = data[outcome_name]
    if labels.isna().any():
        raise ValueError(f"outcome column {outcome_name!r} has {int(labels.isna().sum())} missing values; "
                         "prevalence needs every patient's outcome.")
    if not labels.isin([0, 1]).all():
        found = sorted(labels.unique().tolist(), key=str)[:6]
        raise ValueError(f"outcome column {outcome_name!r} should hold only 0 and 1 (or False and True); "
                         f"found {found}.")
    if not isinstance(confidence_level, numbers.Real) or not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level should be a number strictly between 0 and 1, such as 0.95; "
                         f"got {confidence_level!r}.")
    if method not in CI_METHODS:
        raise ValueError(f"method should be one of {', '.join(map(repr, CI_METHODS))}; got {method!r}.")
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, numbers.Integral) or min_group_size < 1:
        raise ValueError(f"min_group_size should be a whole number, 1 or more; got {min_group_size!r}.")

    n = _group_sizes(data, names)
    cases = labels.astype(int).groupby([data[c] for c in names], observed=True).sum()
    cases = cases.reindex(n.index, fill_value=0).astype(int)
    low, high = [], []
    for k, total in zip(cases, n):
        if total == 0:
            low.append(np.nan), high.append(np.nan)
            continue
        interval = binomtest(int(k), int(total)).proportion_ci(confidence_level=confidence_level, method=method)
        low.append(interval.low), high.append(interval.high)
    table = pd.DataFrame({"n": n, "cases": cases}, index=n.index)
    table["prevalence"] = (cases / n).where(n > 0)
    table["prevalence_ci_low"] = np.asarray(low, dtype=float)
    table["prevalence_ci_high"] = np.asarray(high, dtype=float)
    table["small_group"] = table["n"] < min_group_size
    return table


def missingness_table(data, columns=None, by=("site", "sex")):
    """Share of missing values in each column, per group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.  Load the heart data with the default
        ``cholesterol_zero_as_missing=True`` so that "recorded as 0" counts as missing.
    columns : list of str, optional
        The columns to inspect; by default every column with at least one missing value.
    by : str or sequence of str, default ("site", "sex")
        The grouping column(s).

    Returns
    -------
    pandas.DataFrame
        ``n`` (patients in the group) and, per inspected column, the share of its values that are
        missing (NaN where the group has no patients).

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> missing = missingness_table(load_heart(), ["cholesterol"], by="site")
    >>> missing.round(2)  # doctest: +NORMALIZE_WHITESPACE
                     n  cholesterol
    site
    Cleveland      303         0.00
    Hungary        294         0.08
    Switzerland    123         1.00
    VA Long Beach  200         0.28
    """
    _check_frame(data)
    names = _columns(data, list(by) if isinstance(by, tuple) else by, "by")
    if columns is None:
        columns = [c for c in data.columns if c not in names and data[c].isna().any()]
        if not columns:
            raise ValueError("data has no missing values in any column; there is nothing to tabulate.")
    else:
        columns = _columns(data, columns, "columns")
    n = _group_sizes(data, names)
    shares = data[columns].isna().groupby([data[c] for c in names], observed=True).mean()
    table = shares.reindex(n.index)
    table.insert(0, "n", n)
    return table
