"""The course's figures: one message per figure, labelled axes with units, fixed colour-blind-safe colours.

Every group has one colour for the whole course, taken from the Okabe-Ito palette (safe for the
common forms of colour blindness): women vermillion, men blue, each hospital its own colour, and
age bands an ordered light-to-dark ramp.  Look a colour up with :func:`group_colour`.

plot_group_counts           patients per category of one column, bars split by group (counts by site and sex)
plot_group_rates            rates per group with their confidence intervals (prevalence, accuracy, FNR, FPR)
plot_distribution_by_group  a measurement's distribution per group, as shares so unequal groups compare
plot_category_shares        a category's share within each group, with binomial intervals

Every function draws on ``ax`` (a new figure if None) and returns the axes; end the notebook
cell with ``plt.show()``.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from course_utils.plots import group_colour
>>> group_colour("Female"), group_colour("Male")
('#D55E00', '#0072B2')
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

__all__ = [
    "OKABE_ITO",
    "GROUP_COLOURS",
    "AXIS_LABELS",
    "group_colour",
    "plot_group_counts",
    "plot_group_rates",
    "plot_distribution_by_group",
    "plot_category_shares",
]

#: The Okabe-Ito palette (Okabe & Ito 2008), distinguishable with any common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: Fixed colour of every group the course plots.  Age bands, being ordered, get a light-to-dark
#: ramp of one hue (blue), which stays readable in grey scale.
GROUP_COLOURS = {
    "Female": OKABE_ITO["vermillion"],
    "Male": OKABE_ITO["blue"],
    "Cleveland": OKABE_ITO["orange"],
    "Hungary": OKABE_ITO["sky blue"],
    "Switzerland": OKABE_ITO["bluish green"],
    "VA Long Beach": OKABE_ITO["reddish purple"],
    "<40": "#C6DBEF",
    "40-49": "#9ECAE1",
    "50-59": "#6BAED6",
    "60-69": "#3182BD",
    "70+": "#08519C",
    "overall": OKABE_ITO["black"],
    "baseline": "#999999",
    "re-weighted": OKABE_ITO["bluish green"],
}

#: Axis labels with units for the heart data's columns and the audit metrics.
AXIS_LABELS = {
    "age": "age (years)",
    "cholesterol": "serum cholesterol (mg/dl)",
    "max_heart_rate": "maximum heart rate (beats per minute)",
    "resting_bp": "resting systolic blood pressure (mm Hg)",
    "st_depression": "ST depression (mm)",
    "site": "hospital",
    "sex": "sex",
    "age_band": "age band (years)",
    "chest_pain": "chest-pain type",
    "prevalence": "prevalence of heart disease",
    "base_rate": "prevalence of heart disease",
    "accuracy": "accuracy",
    "fnr": "false-negative rate (missed disease)",
    "fpr": "false-positive rate (false alarms)",
    "tpr": "true-positive rate (sensitivity)",
    "selection_rate": "share flagged by the model",
    "ppv": "positive predictive value",
    "auc": "AUC",
}


#: Short, two-line tick labels for metrics drawn side by side (the axis label carries the unit).
_METRIC_TICKS = {
    "fnr": "FNR\n(missed disease)",
    "fpr": "FPR\n(false alarms)",
    "tpr": "TPR\n(sensitivity)",
    "ppv": "PPV",
    "auc": "AUC",
    "selection_rate": "selection rate\n(share flagged)",
    "base_rate": "prevalence",
}


def group_colour(group):
    """The course's fixed colour for a group label.

    Parameters
    ----------
    group : str
        A group such as ``"Female"``, ``"Cleveland"`` or ``"50-59"``.

    Returns
    -------
    str
        A hex colour.

    Examples
    --------
    >>> group_colour("Switzerland")
    '#009E73'
    >>> group_colour("Martian")
    Traceback (most recent call last):
    ...
    ValueError: The course has no colour for group 'Martian'. Groups with a colour: Female, Male, Cleveland, Hungary, Switzerland, VA Long Beach, <40, 40-49, 50-59, 60-69, 70+, overall, baseline, re-weighted.
    """
    key = str(group)
    if key not in GROUP_COLOURS:
        raise ValueError(f"The course has no colour for group {group!r}. "
                         f"Groups with a colour: {', '.join(GROUP_COLOURS)}.")
    return GROUP_COLOURS[key]


def _label(column):
    return AXIS_LABELS.get(column, str(column).replace("_", " "))


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8))
    return ax


def _check_frame(data, columns, argument="data"):
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{argument} should be a pandas DataFrame; got {type(data).__name__}.")
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise ValueError(f"{argument} has no column {', '.join(map(repr, absent))}; "
                         f"its columns are {', '.join(map(str, data.columns))}.")


def _levels(column):
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [c for c in column.cat.categories if (column == c).any()]
    return sorted(column.dropna().unique().tolist(), key=str)


def plot_group_counts(data, x="site", group="sex", *, ax=None, title=None):
    """Bar chart of patient counts: one cluster per level of ``x``, one bar per group.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    x : str, default "site"
        Column whose levels form the clusters.
    group : str, default "sex"
        Column whose levels form the bars (coloured with :func:`group_colour`).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> ax = plot_group_counts(load_heart())
    >>> [float(bar.get_height()) for bar in ax.patches][:4]
    [97.0, 81.0, 10.0, 6.0]
    """
    _check_frame(data, [x, group])
    counts = data.groupby([x, group], observed=True).size().unstack(group, fill_value=0)
    counts = counts.reindex(index=_levels(data[x]), columns=_levels(data[group]), fill_value=0)
    ax = _axes(ax)
    width = 0.8 / len(counts.columns)
    positions = np.arange(len(counts.index))
    for i, name in enumerate(counts.columns):
        bars = ax.bar(positions + (i - (len(counts.columns) - 1) / 2) * width, counts[name].to_numpy(dtype=float),
                      width, label=str(name), color=group_colour(name))
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(positions, [str(level) for level in counts.index])
    ax.set_xlabel(_label(x))
    ax.set_ylabel("patients (count)")
    ax.legend(title=_label(group))
    ax.set_title(title or f"Patients by {_label(x)} and {_label(group)}")
    return ax


def plot_group_rates(table, metrics, *, ax=None, title=None, ylabel="rate (proportion)", label_suffix=""):
    """Rates per group as bars with confidence-interval error bars.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group (a single-level index of group labels), with a column per metric and
        ``<metric>_ci_low`` / ``<metric>_ci_high`` columns, as made by
        :func:`course_utils.metrics.group_audit_table` or
        :func:`course_utils.representation.prevalence_table`.  An ``n`` column, if present, is
        shown in the legend.
    metrics : str or list of str
        The metric columns to draw, one cluster each.
    ax : matplotlib Axes, optional
    title : str, optional
    ylabel : str, default "rate (proportion)"
    label_suffix : str, optional
        Added to each legend entry, e.g. ``" (re-weighted)"``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n": [194, 726], "fnr": [0.38, 0.14], "fnr_ci_low": [0.25, 0.11],
    ...                       "fnr_ci_high": [0.52, 0.17]}, index=pd.Index(["Female", "Male"], name="sex"))
    >>> ax = plot_group_rates(table, "fnr")
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['Female (n=194)', 'Male (n=726)']
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table should be a DataFrame of rates per group; got {type(table).__name__}.")
    if isinstance(table.index, pd.MultiIndex):
        raise ValueError("table has one row per intersection (a MultiIndex); plot one level at a time, "
                         "e.g. table.xs('Female', level='sex').")
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    needed = [col for m in metrics for col in (m, f"{m}_ci_low", f"{m}_ci_high")]
    _check_frame(table, needed, argument="table")
    ax = _axes(ax)
    width = 0.8 / len(table.index)
    positions = np.arange(len(metrics))
    for i, group in enumerate(table.index):
        row = table.loc[group]
        values = row[metrics].to_numpy(dtype=float)
        low = values - row[[f"{m}_ci_low" for m in metrics]].to_numpy(dtype=float)
        high = row[[f"{m}_ci_high" for m in metrics]].to_numpy(dtype=float) - values
        size = f" (n={int(row['n'])})" if "n" in table.columns else ""
        ax.bar(positions + (i - (len(table.index) - 1) / 2) * width, values, width,
               yerr=np.vstack([low, high]), capsize=4, color=group_colour(group), label=f"{group}{size}{label_suffix}",
               error_kw={"elinewidth": 1.2, "ecolor": "black"})
    ax.set_xticks(positions, [_METRIC_TICKS.get(m, _label(m)) for m in metrics])
    ax.set_ylim(0, 1)
    ax.set_ylabel(ylabel)
    ax.legend(title=_label(table.index.name) if table.index.name else None)
    ax.set_title(title or "Rates by group, with 95 % intervals")
    return ax


def plot_distribution_by_group(data, column, group="sex", *, bins=30, ax=None, title=None):
    """Histogram of a measurement per group, as the share of each group's patients per bin.

    Shares (not counts) make a group of 194 comparable with one of 726.  Missing values are left
    out; a value recorded as 0 is *not* missing and shows as a spike at 0.

    Parameters
    ----------
    data : pandas.DataFrame
    column : str
        A numeric column, e.g. ``"cholesterol"``.
    group : str, default "sex"
    bins : int, default 30
        Number of equal-width bins over the range of all groups.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> ax = plot_distribution_by_group(load_heart(), "age", bins=10)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('age (years)', 'share of the group’s patients')
    """
    _check_frame(data, [column, group])
    if not pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(data[column]):
        raise TypeError(f"column {column!r} is not a measurement (numbers); for categories use "
                        "plot_category_shares.")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins should be a whole number, 1 or more; got {bins!r}.")
    values = data[column].dropna()
    if values.empty:
        raise ValueError(f"column {column!r} has no values to plot (all missing).")
    edges = np.histogram_bin_edges(values.to_numpy(dtype=float), bins=bins)
    ax = _axes(ax)
    for name in _levels(data[group]):
        member = data.loc[data[group] == name, column].dropna().to_numpy(dtype=float)
        if member.size == 0:
            continue
        weights = np.full(member.size, 1 / member.size)
        ax.hist(member, bins=edges, weights=weights, histtype="step", linewidth=2, color=group_colour(name),
                label=f"{name} (n={member.size})")
    ax.set_xlabel(_label(column))
    ax.set_ylabel("share of the group’s patients")
    ax.legend(title=_label(group))
    ax.set_title(title or f"{_label(column).split(' (')[0].capitalize()} by {_label(group)}")
    return ax


def plot_category_shares(data, column, group="sex", *, ax=None, title=None, confidence_level=0.95):
    """Share of each category within each group, with Wilson intervals as error bars.

    Parameters
    ----------
    data : pandas.DataFrame
    column : str
        A categorical column, e.g. ``"chest_pain"``.
    group : str, default "sex"
    ax : matplotlib Axes, optional
    title : str, optional
    confidence_level : float, default 0.95

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> ax = plot_category_shares(load_heart(), "chest_pain")
    >>> round(float(ax.patches[1].get_height()), 3)  # women with atypical angina
    0.314
    """
    _check_frame(data, [column, group])
    if pd.api.types.is_float_dtype(data[column]):
        raise TypeError(f"column {column!r} holds measurements; use plot_distribution_by_group for it.")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level should be strictly between 0 and 1; got {confidence_level!r}.")
    categories = _levels(data[column])
    ax = _axes(ax)
    groups = _levels(data[group])
    width = 0.8 / len(groups)
    positions = np.arange(len(categories))
    for i, name in enumerate(groups):
        member = data.loc[data[group] == name, column].dropna()
        total = len(member)
        counts = [int((member == c).sum()) for c in categories]
        shares = np.array([k / total for k in counts])
        intervals = [binomtest(k, total).proportion_ci(confidence_level=confidence_level, method="wilson")
                     for k in counts]
        errors = np.array([[s - ci.low for s, ci in zip(shares, intervals)],
                           [ci.high - s for s, ci in zip(shares, intervals)]])
        ax.bar(positions + (i - (len(groups) - 1) / 2) * width, shares, width, yerr=errors, capsize=3,
               color=group_colour(name), label=f"{name} (n={total})", error_kw={"elinewidth": 1, "ecolor": "black"})
    ax.set_xticks(positions, [str(c) for c in categories])
    ax.set_xlabel(_label(column))
    ax.set_ylabel("share of the group’s patients")
    ax.set_ylim(0, 1)
    ax.legend(title=_label(group))
    ax.set_title(title or f"{_label(column).capitalize()} by {_label(group)}")
    return ax
