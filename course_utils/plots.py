"""The course's figures: one message per figure, labelled axes with units, one colour-blind-safe palette.

This module is the one place where the course's colours are defined; every figure function in
``course_utils`` draws with them (a test renders every figure and checks every colour it uses).
The palette is Okabe-Ito (safe for the common forms of colour blindness), an ordered light-to-dark
ramp of one hue for age bands, and a few neutrals for text, axes and reference lines:
:data:`PALETTE` holds all of them.  Every group has one colour for the whole course: women
vermillion, men blue, each hospital its own colour, Black and White patients reddish purple and
sky blue.  Look a colour up with :func:`group_colour`.

plot_group_counts           patients per level of one column, bars split by group (counts by site and sex)
plot_group_rates            rates per group with their confidence intervals (prevalence, accuracy, FNR, FPR)
plot_distribution_by_group  a measurement's distribution per group, as shares so unequal groups compare
plot_category_shares        a category's share within each group, with its interval
plot_calibration_by_group   predicted risk against observed rate, per group
plot_rate_by_level          a rate at each level of a column (e.g. at equal need), per group, with intervals
plot_metric_by_period       a monitored metric per period and group, with intervals and marked events
plot_tradeoff               performance against disparity for a grid of settings, with the Pareto front
plot_contributions          one patient's SHAP values per feature, largest first (what raises and lowers the score)
plot_mean_abs_by_group      mean |SHAP value| per feature, one bar per group: what a score leans on, for whom

The figures draw the tables they are given and compute no statistics: counts and rates come from
the caller (pandas, or the learner's own audit functions), intervals from the caller's code (e.g.
scipy's ``binomtest(k, n).proportion_ci(method="wilson")``) or from the course's shipped tables
(:func:`course_utils.data.load_course_table`).  Where a figure shows intervals it draws the
table's ``<metric>_ci_low`` / ``<metric>_ci_high`` columns, so a figure and its table never
disagree.  Every function draws on ``ax`` (a new figure if None), gives the axes a title and
labelled x and y axes, and returns the axes; end the notebook cell with ``plt.show()`` and follow
it with a Markdown caption that says in words what the figure shows.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from course_utils.plots import group_colour
>>> group_colour("Female"), group_colour("Male")
('#D55E00', '#0072B2')
"""

from __future__ import annotations

import textwrap
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from course_utils import _validation as check

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "OKABE_ITO",
    "AGE_BAND_RAMP",
    "NEUTRALS",
    "PALETTE",
    "GROUP_COLOURS",
    "METHOD_COLOURS",
    "METHOD_MARKERS",
    "AXIS_LABELS",
    "group_colour",
    "plot_group_counts",
    "plot_group_rates",
    "plot_distribution_by_group",
    "plot_category_shares",
    "plot_calibration_by_group",
    "plot_rate_by_level",
    "plot_metric_by_period",
    "plot_tradeoff",
    "plot_roc_by_group",
    "plot_contributions",
    "plot_mean_abs_by_group",
    "plot_films",
    "plot_score_distribution",
    "plot_item_statistics",
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

#: An ordered ramp of one hue (blue, light to dark) for ordered groups such as age bands: it
#: stays readable in grey scale and for every colour-vision type, because only lightness varies.
AGE_BAND_RAMP = ("#C6DBEF", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C")

#: Neutrals for text, axes, reference lines and legend frames.  "light grey" is matplotlib's
#: default legend frame; black and white are its default text, axes and background.
NEUTRALS = {
    "black": "#000000",
    "dark grey": "#555555",
    "grey": "#999999",
    "light grey": "#CCCCCC",
    "white": "#FFFFFF",
}

#: Every colour a course figure may use (upper-case hex): the one palette.
PALETTE = frozenset(c.upper() for c in [*OKABE_ITO.values(), *AGE_BAND_RAMP, *NEUTRALS.values()])

#: Fixed colour of every group the course plots.  Age bands, being ordered, take the ramp.
GROUP_COLOURS = {
    "Female": OKABE_ITO["vermillion"],
    "Male": OKABE_ITO["blue"],
    "Cleveland": OKABE_ITO["orange"],
    "Hungary": OKABE_ITO["sky blue"],
    "Switzerland": OKABE_ITO["bluish green"],
    "VA Long Beach": OKABE_ITO["reddish purple"],
    **dict(zip(["<40", "40-49", "50-59", "60-69", "70+"], AGE_BAND_RAMP)),
    "White": OKABE_ITO["sky blue"],
    "Black": OKABE_ITO["reddish purple"],
    "Other": OKABE_ITO["orange"],
    "overall": OKABE_ITO["black"],
    "baseline": NEUTRALS["grey"],
    "re-weighted": OKABE_ITO["bluish green"],
}

#: One colour and one marker per mitigation method, so the methods stay apart in grey scale too.
#: Vermillion and blue are left to Female / Male.
METHOD_COLOURS = {
    "baseline": OKABE_ITO["black"],
    "reweighing": OKABE_ITO["bluish green"],  # the course's "re-weighted" colour
    "adversarial": OKABE_ITO["orange"],
    "threshold": OKABE_ITO["reddish purple"],
}
METHOD_MARKERS = {"baseline": "s", "reweighing": "o", "adversarial": "^", "threshold": "D"}
# Colours for methods the course does not know, in order, then grey.
_SPARE_METHOD_COLOURS = (OKABE_ITO["sky blue"], OKABE_ITO["yellow"], OKABE_ITO["blue"], OKABE_ITO["vermillion"])

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
    "prevalence": "prevalence (share with the condition)",
    "base_rate": "base rate (share with the condition)",
    "share": "share of the period's patients",
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


def group_colour(group: Hashable) -> str:
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
    ValueError: The course has no colour for group 'Martian'. Groups with a colour: Female, Male, Cleveland, Hungary, Switzerland, VA Long Beach, <40, 40-49, 50-59, 60-69, 70+, White, Black, Other, overall, baseline, re-weighted.
    """
    key = str(group)
    if key not in GROUP_COLOURS:
        raise ValueError(f"The course has no colour for group {group!r}. "
                         f"Groups with a colour: {', '.join(GROUP_COLOURS)}.")
    return GROUP_COLOURS[key]


def _label(column):
    return AXIS_LABELS.get(column, str(column).replace("_", " "))


def _axes(ax, figsize=(6.4, 3.8)):
    import matplotlib.pyplot as plt

    if ax is None:
        # constrained layout keeps long titles, legends and two-line tick labels inside the figure
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _check_frame(data, columns, argument="data"):
    check.check_dataframe(data, argument, columns=columns, what="a pandas DataFrame")


def _check_intervals(table, metric, argument="table"):
    """The estimate and its interval columns, with a hint when the interval columns are missing."""
    columns = [metric, f"{metric}_ci_low", f"{metric}_ci_high"]
    check.check_dataframe(table, argument, what="a pandas DataFrame")
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise ValueError(f"{argument} has no column {', '.join(map(repr, absent))}: the figure draws the intervals "
                         f"it is given. Compute them first (e.g. with n_boot > 0); its columns are "
                         f"{', '.join(map(str, table.columns))}.")


def _two_levels(table, group_col, argument):
    """(group level, other level) of a table indexed by two levels, one of them ``group_col``."""
    if not isinstance(table.index, pd.MultiIndex) or table.index.nlevels != 2:
        raise ValueError(f"{argument} should be indexed by two levels, one of them the group.")
    if group_col not in table.index.names:
        raise ValueError(f"{argument} has no index level {group_col!r}; its levels are "
                         f"{', '.join(map(str, table.index.names))}.")
    other = [name for name in table.index.names if name != group_col][0]
    return group_col, other


def _levels(column):
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [c for c in column.cat.categories if (column == c).any()]
    return sorted(column.dropna().unique().tolist(), key=str)


def plot_group_counts(counts: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Bar chart of patient counts: one cluster per level of the first index level, one bar per group.

    Parameters
    ----------
    counts : pandas.DataFrame
        Indexed by (level, group) with an ``n`` column, e.g.
        ``data.groupby(["site", "sex"], observed=True).size().to_frame("n")``: the first index
        level forms the clusters, the second the bars (coloured with :func:`group_colour`).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> counts = load_heart().groupby(["site", "sex"], observed=True).size().to_frame("n")
    >>> ax = plot_group_counts(counts)
    >>> [float(bar.get_height()) for bar in ax.patches][:4]
    [97.0, 81.0, 10.0, 6.0]
    """
    _check_frame(counts, ["n"], argument="counts")
    if not isinstance(counts.index, pd.MultiIndex) or counts.index.nlevels != 2:
        raise ValueError("counts should be indexed by (level, group), e.g. "
                         "data.groupby([\"site\", \"sex\"], observed=True).size().to_frame(\"n\").")
    x, group = counts.index.names
    wide = counts["n"].unstack(group, fill_value=0)
    ax = _axes(ax)
    width = 0.8 / len(wide.columns)
    positions = np.arange(len(wide.index))
    for i, name in enumerate(wide.columns):
        bars = ax.bar(positions + (i - (len(wide.columns) - 1) / 2) * width, wide[name].to_numpy(dtype=float),
                      width, label=str(name), color=group_colour(name))
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(positions, [str(level) for level in wide.index])
    ax.set_xlabel(_label(x))
    ax.set_ylabel("patients (count)")
    ax.legend(title=_label(group))
    ax.set_title(title or f"Patients by {_label(x)} and {_label(group)}")
    return ax


def plot_group_rates(table: pd.DataFrame, metrics: str | list[str], *, ax: Axes | None = None, title: str | None = None,
                     ylabel: str = "rate (proportion)", xlabel: str | None = None, label_suffix: str = "") -> Axes:
    """Rates per group as bars with confidence-interval error bars.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group (a single-level index of group labels), with a column per metric and
        ``<metric>_ci_low`` / ``<metric>_ci_high`` columns, as in the course's audit tables
        (:func:`course_utils.data.load_course_table`), or a prevalence table with
        ``prevalence_ci_low`` / ``prevalence_ci_high``.  An ``n`` column, if present, is
        shown in the legend.
    metrics : str or list of str
        The metric columns to draw, one cluster each.
    ax : matplotlib Axes, optional
    title : str, optional
    ylabel : str, default "rate (proportion)"
    xlabel : str, optional
        Default: the metric's name for one metric, "metric" for several (each cluster has a tick label).
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
    check.check_dataframe(table, "table", what="a DataFrame of rates per group")
    if isinstance(table.index, pd.MultiIndex):
        raise ValueError("table has one row per intersection (a MultiIndex); plot one level at a time, "
                         "e.g. table.xs('Female', level='sex').")
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for metric in metrics:
        _check_intervals(table, metric)
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
               error_kw={"elinewidth": 1.2, "ecolor": NEUTRALS["black"]})
    if len(metrics) == 1:  # one cluster: the axis label names it, a tick label would repeat it
        ax.set_xticks([])
        ax.set_xlabel(xlabel or _label(metrics[0]))
    else:
        ax.set_xticks(positions, [_METRIC_TICKS.get(m, _label(m)) for m in metrics])
        ax.set_xlabel(xlabel or "metric")
    ax.set_ylim(0, 1)
    ax.set_ylabel(ylabel)
    ax.legend(title=_label(table.index.name) if table.index.name else None)
    ax.set_title(title or "Rates by group, with 95 % intervals")
    return ax


def plot_distribution_by_group(data: pd.DataFrame, *, value_col: str, group_col: str, bins: int = 30, ax: Axes | None = None,
                               title: str | None = None) -> Axes:
    """Histogram of a measurement per group, as the share of each group's patients per bin.

    Shares (not counts) make a group of 194 comparable with one of 726.  Missing values are left
    out; a value recorded as 0 is *not* missing and shows as a spike at 0.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient.
    value_col : str
        A numeric column, e.g. ``"cholesterol"``.
    group_col : str
        The column whose groups get a line each, e.g. ``"sex"``.
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
    >>> ax = plot_distribution_by_group(load_heart(), value_col="age", group_col="sex", bins=10)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('age (years)', 'share of the group’s patients')
    """
    _check_frame(data, [value_col, group_col])
    column, group = value_col, group_col
    if not pd.api.types.is_numeric_dtype(data[column]) or pd.api.types.is_bool_dtype(data[column]):
        raise TypeError(f"column {column!r} is not a measurement (numbers); for categories use "
                        "plot_category_shares.")
    bins = check.check_whole_number(bins, "bins", low=1)
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


def plot_category_shares(table: pd.DataFrame, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Share of each category within each group, with the interval the table gives, as error bars.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by (group, category) with ``share``, ``share_ci_low``, ``share_ci_high`` and ``n``
        (the group's patients with a recorded category), e.g. from a ``groupby`` of the two columns.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> table = heart.groupby(["sex", "chest_pain"], observed=False).size().rename("count").to_frame()
    >>> table.insert(0, "n", table.groupby(level="sex", observed=False)["count"].transform("sum"))
    >>> table["share"] = table["count"] / table["n"]
    >>> table["share_ci_low"], table["share_ci_high"] = table["share"], table["share"]  # no interval drawn
    >>> ax = plot_category_shares(table)
    >>> round(float(ax.patches[1].get_height()), 3)  # women with atypical angina
    0.314
    """
    _check_intervals(table, "share")
    _check_frame(table, ["n"], argument="table")
    if not isinstance(table.index, pd.MultiIndex) or table.index.nlevels != 2:
        raise ValueError("table should be indexed by (group, category): one row per category within each group.")
    group, column = table.index.names
    groups = list(table.index.get_level_values(0).unique())
    categories = list(table.index.get_level_values(1).unique())
    ax = _axes(ax)
    width = 0.8 / len(groups)
    positions = np.arange(len(categories))
    for i, name in enumerate(groups):
        rows = table.xs(name, level=0).reindex(categories)
        shares = rows["share"].to_numpy(float)
        errors = np.vstack([shares - rows["share_ci_low"].to_numpy(float), rows["share_ci_high"].to_numpy(float) - shares])
        ax.bar(positions + (i - (len(groups) - 1) / 2) * width, shares, width, yerr=errors, capsize=3,
               color=group_colour(name), label=f"{name} (n={int(rows['n'].max())})",
               error_kw={"elinewidth": 1, "ecolor": NEUTRALS["black"]})
    ax.set_xticks(positions, [str(c) for c in categories])
    ax.set_xlabel(_label(column))
    ax.set_ylabel("share of the group’s patients")
    ax.set_ylim(0, 1)
    ax.legend(title=_label(group))
    ax.set_title(title or f"{_label(column).capitalize()} by {_label(group)}")
    return ax


def plot_calibration_by_group(table: pd.DataFrame, *, outcome_label: str, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Calibration curve per group: mean predicted risk in each bin against the observed rate.

    A calibrated model's points lie on the diagonal.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by (group, bin) with ``mean_predicted``, ``observed`` and ``group_size``, as made
        by :func:`course_utils.metrics.calibration_table`; groups are coloured with
        :func:`group_colour`.
    outcome_label : str
        The outcome in words, for the axis labels, e.g. ``"disease"``.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from course_utils.metrics import calibration_table
    >>> y = np.array([0, 1] * 20)
    >>> score = np.linspace(0.05, 0.95, 40)
    >>> table = calibration_table(y, score, sensitive_features=np.array(["Female", "Male"] * 20), n_bins=2)
    >>> ax = plot_calibration_by_group(table, outcome_label="disease")
    >>> [line.get_label() for line in ax.get_lines()]
    ['Female (n = 20)', 'Male (n = 20)', 'perfect calibration']
    """
    _check_frame(table, ["mean_predicted", "observed", "group_size"], argument="table")
    check.check_text(outcome_label, "outcome_label")
    if not isinstance(table.index, pd.MultiIndex) or table.index.nlevels != 2:
        raise ValueError("table should be indexed by (group, bin), as calibration_table makes it.")
    name = table.index.names[0]
    ax = _axes(ax, figsize=(5.5, 4.5))
    for group in table.index.get_level_values(0).unique():
        rows = table.xs(group, level=0)
        ax.plot(rows["mean_predicted"], rows["observed"], marker="o", color=group_colour(group),
                label=f"{group} (n = {int(rows['group_size'].iloc[0])})")
    ax.plot([0, 1], [0, 1], linestyle=":", color=NEUTRALS["dark grey"], label="perfect calibration")
    ax.set_xlabel(f"mean predicted risk in the bin (probability of {outcome_label})")
    ax.set_ylabel(f"observed share with {outcome_label} in the bin")
    label = _label(name) if name and name != "group" else None
    ax.legend(title=label, frameon=False)
    n_bins = int(table.groupby(level=0).size().max())
    ax.set_title(title or f"Calibration by {label or 'group'} ({n_bins} bins per group)")
    return ax


def plot_rate_by_level(table: pd.DataFrame, metric: str, *, group_col: str, groups: list | None = None, ax: Axes | None = None,
                       title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> Axes:
    """A rate at each level of a column, one line per group, with the intervals the table gives.

    Comparing groups *at equal levels* of a variable (e.g. the number of chronic conditions)
    separates how a model treats them from how the groups differ in that variable.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by (level, group) -- the level on the x axis, in either order -- with ``metric``,
        ``<metric>_ci_low`` and ``<metric>_ci_high`` (e.g. a share per level and group with its Wilson
        interval from scipy's ``binomtest(k, n).proportion_ci(method="wilson")``).
        Rows with an undefined rate (no patients) are not drawn.
    metric : str
        The rate column, e.g. ``"prevalence"``.
    group_col : str
        The index level holding the group.
    groups : list, optional
        The groups to draw, in order (default: every group in the table).
    ax : matplotlib Axes, optional
    title, xlabel, ylabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from scipy.stats import binomtest
    >>> table = pd.DataFrame({"enrolled": [1, 3, 3, 4], "n": [4, 4, 4, 4]},
    ...                      index=pd.MultiIndex.from_product([[1, 2], ["Black", "White"]], names=["need", "race"]))
    >>> table["share"] = table["enrolled"] / table["n"]
    >>> intervals = [binomtest(k, n).proportion_ci(method="wilson") for k, n in zip(table["enrolled"], table["n"])]
    >>> table["share_ci_low"], table["share_ci_high"] = [i.low for i in intervals], [i.high for i in intervals]
    >>> ax = plot_rate_by_level(table, "share", group_col="race")
    >>> {bars.get_label(): bars.lines[0].get_ydata().tolist() for bars in ax.containers}
    {'Black': [0.25, 0.75], 'White': [0.75, 1.0]}
    """
    _check_intervals(table, metric)
    group_col, x = _two_levels(table, group_col, "table")
    chosen = list(table.index.get_level_values(group_col).unique()) if groups is None else list(groups)
    ax = _axes(ax)
    for name in chosen:
        if name not in table.index.get_level_values(group_col):
            raise ValueError(f"group {name!r} is not in the table's {group_col!r} level.")
        rows = table.xs(name, level=group_col).sort_index()
        rows = rows[rows[metric].notna()]
        values = rows[metric].to_numpy(float)
        yerr = np.vstack([values - rows[f"{metric}_ci_low"].to_numpy(float),
                          rows[f"{metric}_ci_high"].to_numpy(float) - values])
        ax.errorbar(rows.index.to_numpy(), values, yerr=yerr, marker="o", capsize=3,
                    color=group_colour(name), label=str(name))
    xlabel = xlabel or _label(x)
    ylabel = ylabel or _label(metric)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(title=_label(group_col))
    ax.set_title(title or f"{ylabel[:1].upper()}{ylabel[1:]} by {xlabel}")
    return ax


def plot_metric_by_period(period_metrics: pd.DataFrame, metric: str, *, group_col: str, groups: list | None = None,
                          events: dict | None = None, ax: Axes | None = None, title: str | None = None, xlabel: str | None = None,
                          ylabel: str | None = None) -> Axes:
    """One monitored metric per period, a line per group with the table's intervals, events marked.

    Parameters
    ----------
    period_metrics : pandas.DataFrame
        Indexed by (period, group), with the metric's ``<metric>_ci_low`` / ``<metric>_ci_high`` columns,
        e.g. the course's monthly table ``load_course_table("readmission_deployment_by_month")``.
    metric : str
        A column of ``period_metrics``, e.g. ``"share"``, ``"selection_rate"`` or ``"fnr"``.
    group_col : str
        The index level holding the group.
    groups : list, optional
        The groups to draw, in order (default: every group).
    events : dict, optional
        ``{period: "what happened"}``: a dashed line is drawn just before each such period, labelled.
    ax : matplotlib Axes, optional
    title, xlabel, ylabel : str, optional
        ``xlabel`` defaults to the period level's name.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"selection_rate": [0.2, 0.1, 0.02, 0.1], "selection_rate_ci_low": [0.13, 0.07, 0.0, 0.07],
    ...                       "selection_rate_ci_high": [0.28, 0.14, 0.06, 0.14]},
    ...                      index=pd.MultiIndex.from_product([[0, 1], ["Black", "White"]], names=["month", "race"]))
    >>> ax = plot_metric_by_period(table, "selection_rate", group_col="race", events={1: "coding change"})
    >>> ax.get_xlabel(), ax.containers[0].lines[0].get_ydata().round(2).tolist()
    ('month', [0.2, 0.02])
    """
    if not isinstance(period_metrics, pd.DataFrame) or not isinstance(period_metrics.index, pd.MultiIndex):
        raise TypeError("period_metrics should be a table of metrics per period and group: a DataFrame indexed by "
                        "(period, group).")
    _check_intervals(period_metrics, metric, argument="period_metrics")
    group_col, period_col = _two_levels(period_metrics, group_col, "period_metrics")
    chosen = list(period_metrics.index.get_level_values(group_col).unique()) if groups is None else list(groups)
    ax = _axes(ax)
    for name in chosen:
        rows = period_metrics.xs(name, level=group_col)
        values = rows[metric].to_numpy(float)
        yerr = np.vstack([values - rows[f"{metric}_ci_low"].to_numpy(float),
                          rows[f"{metric}_ci_high"].to_numpy(float) - values])
        ax.errorbar(rows.index.to_numpy(), values, yerr=yerr, marker="o", capsize=3, color=group_colour(name),
                    label=str(name))
    for period, what in (events or {}).items():
        ax.axvline(period - 0.5, color=NEUTRALS["dark grey"], linestyle="--", linewidth=1)
        ax.annotate(what, xy=(period - 0.5, 1), xycoords=("data", "axes fraction"), xytext=(-3, -4),
                    textcoords="offset points", rotation=90, ha="right", va="top", fontsize=8,
                    color=NEUTRALS["dark grey"])
    ylabel = ylabel or _label(metric)
    ax.set_xlabel(xlabel or str(period_col))
    ax.set_ylabel(ylabel)
    ax.legend(title=_label(group_col))
    ax.set_title(title or f"{ylabel[:1].upper()}{ylabel[1:]}, by {period_col}")
    return ax


def _error_bars(rows, column, centre):
    low, high = f"{column}_ci_low", f"{column}_ci_high"
    if low not in rows.columns or high not in rows.columns:
        return None
    lower = np.clip(centre - rows[low].to_numpy(float), 0, None)
    upper = np.clip(rows[high].to_numpy(float) - centre, 0, None)
    return np.nan_to_num(np.vstack([lower, upper]))


def plot_tradeoff(df: pd.DataFrame, front: pd.DataFrame, *, maximise: str = "auc", minimise: str = "fnr_gap", ax: Axes | None = None,
                  title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> Axes:
    """Every setting as a point with its intervals, coloured and marked by method, and the front as a line.

    The drawing behind :func:`course_utils.tradeoff.plot_pareto`, which computes the front and the
    axis labels; call that one in a notebook.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per setting with ``method``, the two objective columns and, for error bars,
        their ``_ci_low`` / ``_ci_high`` columns.
    front : pandas.DataFrame
        The rows on the Pareto front (drawn as a dashed step line).
    maximise, minimise : str
        The objective columns: ``minimise`` on the x axis, ``maximise`` on the y axis.
    ax : matplotlib Axes, optional
    title, xlabel, ylabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> points = pd.DataFrame({"method": ["baseline", "threshold"], "auc": [0.88, 0.88], "fnr_gap": [0.15, 0.02]})
    >>> ax = plot_tradeoff(points, points.iloc[[1]])
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['baseline', 'threshold', 'Pareto front']
    """
    _check_frame(df, ["method", maximise, minimise], argument="df")
    ax = _axes(ax, figsize=(8.5, 4.8))
    unknown = sorted(set(df["method"]) - set(METHOD_COLOURS), key=str)
    spare = iter(_SPARE_METHOD_COLOURS)
    colours = {**METHOD_COLOURS, **{m: next(spare, NEUTRALS["grey"]) for m in unknown}}
    handles = []
    for method in [*METHOD_COLOURS, *unknown]:
        rows = df[df["method"] == method]
        if rows.empty:
            continue
        x, y = rows[minimise].to_numpy(float), rows[maximise].to_numpy(float)
        handles.append(ax.errorbar(x, y, xerr=_error_bars(rows, minimise, x), yerr=_error_bars(rows, maximise, y),
                                   fmt=METHOD_MARKERS.get(method, "o"), color=colours[method], ecolor=colours[method],
                                   elinewidth=0.8, alpha=0.85, capsize=2, markersize=6, label=method))
    if len(front):
        handles.extend(ax.plot(front[minimise], front[maximise], drawstyle="steps-post", color=NEUTRALS["dark grey"],
                               linestyle="--", linewidth=1.2, label="Pareto front", zorder=0))
        # a ring around each point on the front: the line alone vanishes when the front's points lie close together
        ax.scatter(front[minimise], front[maximise], s=170, facecolors="none", edgecolors=NEUTRALS["dark grey"],
                   linewidths=1.2, zorder=3)
    _keep_outliers_off_the_chart(ax, df, maximise, minimise)
    ax.set_xlabel(xlabel or _label(minimise))
    ax.set_ylabel(ylabel or _label(maximise))
    ax.set_title(textwrap.fill(title or f"{maximise.upper()} against {minimise.replace('_', ' ')}: up and left is "
                               "better", 70))  # wrapped, so a long title is never cut at the figure's edge
    # outside the axes, on the right: inside, the legend would hide points or the note on far-off points
    ax.legend(handles=handles, title="method", frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _outliers(values: np.ndarray) -> np.ndarray:
    """Points far below the others (a collapsed model): under Q1 - 3 x IQR, the IQR at least 0.01."""
    finite = values[np.isfinite(values)]
    if finite.size < 4:
        return np.zeros(values.shape, dtype=bool)
    q1, q3 = np.quantile(finite, [0.25, 0.75])
    return np.isfinite(values) & (values < q1 - 3 * max(q3 - q1, 0.01))


def _keep_outliers_off_the_chart(ax, df, maximise, minimise):
    """Zoom on the cloud of settings and name each far-off point at the bottom edge (a broken axis, in effect).

    A collapsed setting (AUC near 0.6 when the others are near 0.85) would otherwise squash every other point into
    one band; its values stay readable in the note.
    """
    values = df[maximise].to_numpy(float)
    far = _outliers(values)
    if not far.any() or far.all():
        return
    kept = df[~far]
    y_low = np.nanmin([kept[maximise].min(), kept.get(f"{maximise}_ci_low", kept[maximise]).min()])
    y_high = np.nanmax([kept[maximise].max(), kept.get(f"{maximise}_ci_high", kept[maximise]).max()])
    x_low = np.nanmin([kept[minimise].min(), kept.get(f"{minimise}_ci_low", kept[minimise]).min()])
    x_high = np.nanmax([kept[minimise].max(), kept.get(f"{minimise}_ci_high", kept[minimise]).max()])
    y_pad, x_pad = 0.08 * max(y_high - y_low, 0.01), 0.05 * max(x_high - x_low, 0.01)
    ax.set_ylim(y_low - 3 * y_pad, y_high + y_pad)  # room at the bottom for the notes
    ax.set_xlim(x_low - x_pad, x_high + x_pad)
    notes = []
    for _, row in df[far].iterrows():
        value = row.get("value", np.nan)
        name = str(row["method"]) if pd.isna(value) else f"{row['method']} {value:g}"
        notes.append(f"{name} ({maximise.upper()} {row[maximise]:.3f}, {minimise.replace('_', ' ')} "
                     f"{row[minimise]:.3f})")
    ax.text(0.01, 0.02, textwrap.fill("↓ off the chart, below: " + "; ".join(dict.fromkeys(notes)), 75),
            transform=ax.transAxes, fontsize=8, color=NEUTRALS["dark grey"], va="bottom", ha="left")


def plot_roc_by_group(y_true: ArrayLike, scores: ArrayLike, *, sensitive_features: ArrayLike, ax: Axes | None = None,
                      title: str | None = None) -> dict:
    """Each group's ROC curve in its colour, with an empty marker per group for its operating point.

    The What-If explorer moves the markers as thresholds change (``marker.set_data([fpr], [tpr])``).
    A group with only one outcome has no ROC curve and no marker.

    Parameters
    ----------
    y_true, scores : array-like
        Outcomes (0/1) and predicted probabilities, one per patient.
    sensitive_features : array-like
        Each patient's group.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    dict
        Group -> the matplotlib ``Line2D`` of its operating point.

    Examples
    --------
    >>> markers = plot_roc_by_group([0, 1, 0, 1, 1, 0], [0.2, 0.9, 0.4, 0.6, 0.3, 0.1],
    ...                             sensitive_features=["Female"] * 3 + ["Male"] * 3)
    >>> sorted(markers)
    ['Female', 'Male']
    """
    from sklearn.metrics import roc_curve

    y_true, scores, groups = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
    ax = _axes(ax, figsize=(4.4, 3.2))
    spare = iter(_SPARE_METHOD_COLOURS)
    markers = {}
    for group in pd.unique(groups).tolist():  # plain Python labels, as the caller wrote them
        mask = groups == group
        if len(np.unique(y_true[mask])) < 2:
            continue
        colour = GROUP_COLOURS.get(str(group)) or next(spare, NEUTRALS["dark grey"])
        fpr, tpr, _ = roc_curve(y_true[mask], scores[mask])
        ax.plot(fpr, tpr, color=colour, label=str(group))
        (markers[group],) = ax.plot([], [], "o", color=colour, markersize=8, markeredgecolor=NEUTRALS["black"])
    ax.plot([0, 1], [0, 1], ":", color=NEUTRALS["grey"])
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title or "ROC per group; dots: the operating points")
    ax.legend(loc="lower right", fontsize=8)
    return markers


#: Bar colours of :func:`plot_contributions`: what raises the risk, what lowers it.  Vermillion and
#: blue stay with Female / Male, so the two directions take orange and bluish green.
_RAISES, _LOWERS = OKABE_ITO["orange"], OKABE_ITO["bluish green"]


def _contribution_series(contributions):
    if isinstance(contributions, pd.DataFrame) and len(contributions) == 1:
        contributions = contributions.iloc[0]
    if not isinstance(contributions, pd.Series):
        raise TypeError("contributions should be a pandas Series: one value per feature, indexed by feature "
                        f"(e.g. one row of explain.sum_by_feature(...)); got {type(contributions).__name__}.")
    return contributions.astype(float)


def plot_contributions(contributions: pd.Series, *, patient: pd.Series | None = None, labels: Mapping | None = None,
                       ax: Axes | None = None, title: str | None = None,
                       xlabel: str = "contribution to the log-odds (SHAP value)") -> Axes:
    """One patient's contributions as horizontal bars, largest on top: what raises and what lowers the risk.

    Parameters
    ----------
    contributions : pandas.Series
        One value per feature (log-odds), e.g. one row of :func:`course_utils.explain.sum_by_feature`.
    patient : pandas.Series, optional
        The patient's feature values, shown next to each feature's name.
    labels : dict, optional
        Readable feature names.
    ax : matplotlib Axes, optional
    title, xlabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_contributions(pd.Series({"conditions": 1.2, "payer": -0.1, "sex": 0.02}))
    >>> [tick.get_text() for tick in ax.get_yticklabels()]
    ['conditions', 'payer', 'sex']
    """
    contributions = _contribution_series(contributions)
    labels = {} if labels is None else dict(labels)
    order = contributions.abs().sort_values(ascending=False, kind="stable").index
    names = []
    for feature in order:
        name = str(labels.get(feature, feature))
        if patient is not None and feature in patient.index:
            value = patient[feature]
            name += f" = {int(value) if isinstance(value, float) and float(value).is_integer() else value}"
        names.append(name)
    values = contributions[order].to_numpy()
    ax = _axes(ax, figsize=(6.4, 0.45 * len(values) + 1.4))
    positions = np.arange(len(values))[::-1]
    ax.barh(positions, values, color=[_RAISES if v > 0 else _LOWERS for v in values])
    ax.axvline(0, color=NEUTRALS["dark grey"], linewidth=1)
    ax.set_yticks(positions, names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("feature (the patient's value)" if patient is not None else "feature")
    ax.set_title(title or "What moves this patient's score (orange raises it, green lowers it)")
    return ax


def plot_mean_abs_by_group(table: pd.DataFrame, *, labels: Mapping | None = None, ax: Axes | None = None,
                           title: str | None = None, xlabel: str = "mean |SHAP value| (log-odds)") -> Axes:
    """Mean absolute SHAP value per feature, one bar per group: what the score leans on, and for whom.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by group, one column per feature (e.g.
        ``values.abs().groupby(race).mean()``); each group keeps its course colour.
    labels : dict, optional
        Readable feature names.
    ax : matplotlib Axes, optional
    title, xlabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"conditions": [0.7, 0.6], "payer": [0.04, 0.03]}, index=["Black", "White"])
    >>> ax = plot_mean_abs_by_group(table)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['Black', 'White']
    """
    check.check_dataframe(table, "table", what="a pandas DataFrame")
    if table.empty:
        raise ValueError("table is empty: give one row per group and one column per feature.")
    labels = {} if labels is None else dict(labels)
    features = table.max(axis=0).sort_values(ascending=True, kind="stable").index  # largest at the top
    ax = _axes(ax, figsize=(6.4, 0.5 * len(features) * max(1, len(table) / 2) + 1.4))
    height = 0.8 / len(table)
    base = np.arange(len(features))
    for i, (group, row) in enumerate(table.iterrows()):
        ax.barh(base + (i - (len(table) - 1) / 2) * -height, row[features].to_numpy(float), height=height,
                color=group_colour(group), label=str(group))
    ax.set_yticks(base, [str(labels.get(f, f)) for f in features])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("feature")
    ax.legend(title=str(table.index.name or "group"))
    ax.set_title(title or "What the score leans on, group by group")
    return ax


def plot_films(images: np.ndarray, captions: Sequence[str], *, ax: Axes | None = None,
               title: str | None = None) -> Axes:
    """Films side by side in one grey-scale strip, each with its caption above it (brighter is denser).

    Parameters
    ----------
    images : numpy.ndarray
        ``(n, size, size)`` films with values in [0, 1], as :func:`course_utils.radiographs.make_chest_films` makes
        them; at most 12.
    captions : sequence of str
        One short caption per film (its view, sex, age, label); a line break makes two lines.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_films(np.zeros((3, 24, 24)), ["AP", "PA", "AP"])
    >>> ax.images[0].get_array().shape, [text.get_text() for text in ax.texts]
    ((24, 74), ['AP', 'PA', 'AP'])
    """
    films = np.asarray(images, dtype=float)
    if films.ndim != 3 or films.shape[1] != films.shape[2] or not 1 <= len(films) <= 12:
        raise ValueError(f"images should be 1 to 12 square films, shape (n, size, size); got shape {films.shape}.")
    if len(captions) != len(films):
        raise ValueError(f"give one caption per film: {len(films)} films, {len(captions)} captions.")
    size = films.shape[1]
    gap = np.full((size, 1), np.nan)  # one blank column between films
    strip = np.hstack([part for film in films for part in (film, gap)][:-1])
    ax = _axes(ax, figsize=(1.4 * len(films) + 0.6, 2.4))
    ax.imshow(strip, cmap="Greys_r", vmin=0, vmax=1, interpolation="nearest")
    for number, caption in enumerate(captions):
        ax.text(number * (size + 1) + size / 2, -1.5, str(caption), ha="center", va="bottom", fontsize=8,
                color=NEUTRALS["black"])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(f"{len(films)} films, {size} x {size} pixels each")
    ax.set_ylabel("top of the chest")
    ax.set_title(title or "Chest films", pad=26)
    return ax


def plot_score_distribution(shares: Sequence[float], *, needs_help_below: float = 0.5, ax: Axes | None = None,
                            title: str | None = None) -> Axes:
    """A class's scores as a share of the points graded so far, in bands of 10 % (``course report``'s Figure 1).

    Parameters
    ----------
    shares : sequence of float
        One score per learner, between 0 and 1.
    needs_help_below : float
        Where a dashed line marks the share below which a learner is listed as needing help.
    ax : matplotlib Axes, optional
    title : str, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_score_distribution([0.2, 0.55, 0.9, 1.0])
    >>> [int(patch.get_height()) for patch in ax.patches]  # learners per band of 10 %
    [0, 0, 1, 0, 0, 1, 0, 0, 0, 2]
    """
    values = 100 * np.asarray(list(shares), dtype=float)
    if values.size and (np.isnan(values).any() or values.min() < 0 or values.max() > 100):
        raise ValueError("shares should be numbers between 0 and 1, one per learner.")
    ax = _axes(ax, figsize=(6.4, 3.0))
    ax.hist(values, bins=np.linspace(0, 100, 11), color=OKABE_ITO["blue"], edgecolor=NEUTRALS["white"])
    ax.axvline(100 * needs_help_below, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.2,
               label=f"needs help below {100 * needs_help_below:.0f} %")
    ax.set(xlabel="score (% of the points graded so far)", ylabel="learners", xlim=(0, 100))
    ax.set_title(title or "Scores of the class")
    ax.legend(loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_item_statistics(items: pd.DataFrame, *, weak_below: float = 0.2, ax: Axes | None = None,
                         title: str | None = None) -> Axes:
    """Each question's difficulty against its discrimination, numbered (``course report``'s Figure 2).

    Parameters
    ----------
    items : pandas.DataFrame
        One row per question, in the report's order: ``difficulty`` (0-1), ``discrimination`` (-1 to 1, NaN where
        undefined: drawn as a cross at 0) and ``flagged`` (bool: drawn in vermillion).
    weak_below : float
        Discriminations below this are shaded as weak.
    ax : matplotlib Axes, optional
    title : str, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> items = pd.DataFrame({"difficulty": [0.9, 0.4], "discrimination": [0.1, float("nan")], "flagged": [True, False]})
    >>> [text.get_text() for text in plot_item_statistics(items).texts]
    ['1', '2']
    """
    _check_frame(items, ["difficulty", "discrimination", "flagged"], "items")
    ax = _axes(ax, figsize=(6.4, 3.6))
    ax.axhspan(-1, weak_below, color=NEUTRALS["light grey"], alpha=0.5, linewidth=0,
               label=f"weak discrimination (below {weak_below:g})")
    for number, row in enumerate(items.itertuples(), start=1):
        if pd.isna(row.difficulty):
            continue
        undefined = pd.isna(row.discrimination)
        y = 0.0 if undefined else float(row.discrimination)
        ax.scatter([row.difficulty], [y], color=OKABE_ITO["vermillion"] if row.flagged else OKABE_ITO["blue"],
                   marker="x" if undefined else "o", s=30)
        ax.annotate(str(number), (row.difficulty, y), textcoords="offset points", xytext=(4, 3), fontsize=8,
                    color=NEUTRALS["black"])
    ax.set(xlabel="difficulty (mean share of the question's points earned)",
           ylabel="discrimination (item-rest r)", xlim=(-0.02, 1.02), ylim=(-1, 1))
    ax.set_title(title or "Questions: difficulty and discrimination")
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax
