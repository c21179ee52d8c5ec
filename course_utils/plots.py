"""The course's figures: one message per figure, labelled axes with units, one colour-blind-safe palette.

This module is the one place where the course's colours are defined; every figure function in
``course_utils`` draws with them (a test renders every figure and checks every colour it uses).
The palette is Okabe-Ito (safe for the common forms of colour blindness), an ordered light-to-dark
ramp of one hue for age bands, and a few neutrals for text, axes and reference lines:
:data:`PALETTE` holds all of them.  Every group has one colour for the whole course: women
vermillion, men blue, each hospital its own colour, Black and White patients reddish purple and
sky blue.  Look a colour up with :func:`group_colour`.

plot_group_counts           patients per category of one column, bars split by group (counts by site and sex)
plot_group_rates            rates per group with their confidence intervals (prevalence, accuracy, FNR, FPR)
plot_distribution_by_group  a measurement's distribution per group, as shares so unequal groups compare
plot_category_shares        a category's share within each group, with binomial intervals
plot_calibration_by_group   predicted risk against observed rate, per group
plot_rate_by_level          a 0/1 outcome's rate at each level of a column (e.g. at equal need), per group
plot_metric_by_period       a monitored metric per period and group, with intervals and marked events
plot_tradeoff               performance against disparity for a grid of settings, with the Pareto front

Every function draws on ``ax`` (a new figure if None), gives the axes a title and labelled x and y
axes, and returns the axes; end the notebook cell with ``plt.show()`` and follow it with a
Markdown caption that says in words what the figure shows.

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


def plot_group_rates(table, metrics, *, ax=None, title=None, ylabel="rate (proportion)", xlabel=None, label_suffix=""):
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
               color=group_colour(name), label=f"{name} (n={total})", error_kw={"elinewidth": 1, "ecolor": NEUTRALS["black"]})
    ax.set_xticks(positions, [str(c) for c in categories])
    ax.set_xlabel(_label(column))
    ax.set_ylabel("share of the group’s patients")
    ax.set_ylim(0, 1)
    ax.legend(title=_label(group))
    ax.set_title(title or f"{_label(column).capitalize()} by {_label(group)}")
    return ax


def _check_same_length(**arrays):
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("these should have one entry per patient, but their lengths differ: "
                         + ", ".join(f"{name} has {n}" for name, n in lengths.items()) + ".")


def _wilson(successes, totals, confidence_level=0.95):
    """Wilson intervals for counts; NaN where a total is 0 (no patients: no interval)."""
    low, high = [], []
    for k, n in zip(successes, totals):
        if not np.isfinite(k) or not np.isfinite(n) or n < 1:
            low.append(np.nan)
            high.append(np.nan)
            continue
        ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence_level, method="wilson")
        low.append(ci.low)
        high.append(ci.high)
    return np.array(low, dtype=float), np.array(high, dtype=float)


def plot_calibration_by_group(y_true, y_score, groups, *, n_bins=4, strategy="quantile", outcome="disease",
                              ax=None, title=None):
    """Calibration curve per group: mean predicted risk in each bin against the observed rate.

    A calibrated model's points lie on the diagonal.  With few patients per group, use few bins
    (``strategy="quantile"`` puts the same number of patients in each bin).

    Parameters
    ----------
    y_true : array-like of 0/1
        The outcome of each patient.
    y_score : array-like of float
        The model's predicted probability of the outcome.
    groups : pandas.Series or array-like
        The group of each patient (coloured with :func:`group_colour`); a Series' name titles the legend.
    n_bins : int, default 4
        Bins per group (scikit-learn's ``calibration_curve``).
    strategy : {"quantile", "uniform"}, default "quantile"
    outcome : str, default "disease"
        The outcome in words, for the axis labels.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1] * 20)
    >>> score = np.linspace(0.05, 0.95, 40)
    >>> ax = plot_calibration_by_group(y, score, np.array(["Female", "Male"] * 20), n_bins=2)
    >>> [line.get_label() for line in ax.get_lines()]
    ['Female (n = 20)', 'Male (n = 20)', 'perfect calibration']
    """
    from sklearn.calibration import calibration_curve

    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=float)
    name = getattr(groups, "name", None)
    groups = np.asarray(groups)
    _check_same_length(y_true=y_true, y_score=y_score, groups=groups)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins should be a whole number, 2 or more; got {n_bins!r}.")
    if np.isnan(y_score).any() or (y_score < 0).any() or (y_score > 1).any():
        raise ValueError("y_score should hold probabilities between 0 and 1, with no missing values.")
    ax = _axes(ax, figsize=(5.5, 4.5))
    for group in sorted(pd.unique(groups), key=str):
        mine = groups == group
        observed, predicted = calibration_curve(y_true[mine], y_score[mine], n_bins=n_bins, strategy=strategy)
        ax.plot(predicted, observed, marker="o", color=group_colour(group), label=f"{group} (n = {mine.sum()})")
    ax.plot([0, 1], [0, 1], linestyle=":", color=NEUTRALS["dark grey"], label="perfect calibration")
    ax.set_xlabel(f"mean predicted risk in the bin (probability of {outcome})")
    ax.set_ylabel(f"observed share with {outcome} in the bin")
    ax.legend(title=_label(name) if name else None, frameon=False)
    ax.set_title(title or f"Calibration by {_label(name) if name else 'group'} ({n_bins} bins per group)")
    return ax


def plot_rate_by_level(data, x, rate, group="race", *, groups=None, intervals=True, confidence_level=0.95,
                       ax=None, title=None, xlabel=None, ylabel=None):
    """The rate of a 0/1 column at each level of ``x``, one line per group, with Wilson intervals.

    Comparing groups *at equal levels* of a variable (e.g. the number of chronic conditions)
    separates how a model treats them from how the groups differ in that variable.

    Parameters
    ----------
    data : pandas.DataFrame
    x : str
        The column on the x axis (ordered levels, e.g. a count).
    rate : str
        A 0/1 or True/False column; its mean at each level is plotted.
    group : str, default "race"
    groups : list, optional
        The groups to draw, in order (default: every group in the data).
    intervals : bool, default True
        Draw a Wilson interval around each rate.
    confidence_level : float, default 0.95
    ax : matplotlib Axes, optional
    title, xlabel, ylabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"need": [1, 1, 1, 1, 2, 2, 2, 2] * 2, "race": ["Black"] * 8 + ["White"] * 8,
    ...                    "enrolled": [0, 0, 0, 1, 1, 1, 0, 1] + [0, 1, 1, 1, 1, 1, 1, 1]})
    >>> ax = plot_rate_by_level(df, "need", "enrolled")
    >>> {bars.get_label(): bars.lines[0].get_ydata().tolist() for bars in ax.containers}
    {'Black': [0.25, 0.75], 'White': [0.75, 1.0]}
    """
    _check_frame(data, [x, rate, group])
    values = data[rate]
    if not (pd.api.types.is_bool_dtype(values) or set(pd.unique(values.dropna())) <= {0, 1}):
        raise ValueError(f"column {rate!r} should hold 0/1 or True/False values, one per patient.")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level should be strictly between 0 and 1; got {confidence_level!r}.")
    chosen = _levels(data[group]) if groups is None else list(groups)
    ax = _axes(ax)
    for name in chosen:
        member = data[data[group] == name]
        if member.empty:
            raise ValueError(f"group {name!r} has no rows in column {group!r}.")
        summary = member.groupby(x, observed=True)[rate].agg(["sum", "count", "mean"]).sort_index()
        yerr = None
        if intervals:
            low, high = _wilson(summary["sum"].to_numpy(float), summary["count"].to_numpy(float), confidence_level)
            yerr = np.vstack([summary["mean"] - low, high - summary["mean"]])
        ax.errorbar(summary.index.to_numpy(), summary["mean"].to_numpy(float), yerr=yerr, marker="o", capsize=3,
                    color=group_colour(name), label=str(name))
    xlabel = xlabel or _label(x)
    ylabel = ylabel or f"share with {_label(rate)}"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(title=_label(group))
    ax.set_title(title or f"{ylabel[:1].upper()}{ylabel[1:]} by {xlabel}")
    return ax


# How each monitored rate is counted, so its interval can be computed from the per-period table:
# (successes, patients) as functions of the table's columns.
def _positives(rows):
    return (rows["base_rate"] * rows["n"]).round()


def _flagged(rows):
    return (rows["selection_rate"] * rows["n"]).round()


_PERIOD_COUNTS = {
    "share": None,  # the group's patients out of the period's patients; handled separately
    "base_rate": lambda rows: (_positives(rows), rows["n"]),
    "selection_rate": lambda rows: (_flagged(rows), rows["n"]),
    "accuracy": lambda rows: ((rows["accuracy"] * rows["n"]).round(), rows["n"]),
    "tpr": lambda rows: ((rows["tpr"] * _positives(rows)).round(), _positives(rows)),
    "fnr": lambda rows: ((rows["fnr"] * _positives(rows)).round(), _positives(rows)),
    "fpr": lambda rows: ((rows["fpr"] * (rows["n"] - _positives(rows))).round(), rows["n"] - _positives(rows)),
    "ppv": lambda rows: ((rows["ppv"] * _flagged(rows)).round(), _flagged(rows)),
}

_PERIOD_LABELS = {"month": "month of the deployment year"}


def plot_metric_by_period(period_metrics, metric, *, group_col="race", groups=None, events=None,
                          confidence_level=0.95, ax=None, title=None, ylabel=None):
    """One monitored metric per period, a line per group with Wilson intervals, events marked.

    Parameters
    ----------
    period_metrics : pandas.DataFrame
        Indexed by (period, group), as made by :func:`course_utils.monitoring.metrics_by_period`,
        with ``n`` and the metric's columns (``base_rate`` for FNR/TPR/FPR, ``selection_rate`` for PPV).
    metric : str
        One of ``share``, ``base_rate``, ``selection_rate``, ``accuracy``, ``tpr``, ``fnr``, ``fpr``, ``ppv``.
    group_col : str, default "race"
        The index level holding the group.
    groups : list, optional
        The groups to draw, in order (default: every group).
    events : dict, optional
        ``{period: "what happened"}``: a dashed line is drawn just before each such period, labelled.
    confidence_level : float, default 0.95
    ax : matplotlib Axes, optional
    title, ylabel : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n": [100, 300, 100, 300], "selection_rate": [0.2, 0.1, 0.02, 0.1]},
    ...                      index=pd.MultiIndex.from_product([[0, 1], ["Black", "White"]], names=["month", "race"]))
    >>> ax = plot_metric_by_period(table, "selection_rate", events={1: "coding change"})
    >>> ax.get_xlabel(), ax.containers[0].lines[0].get_ydata().round(2).tolist()
    ('month of the deployment year', [0.2, 0.02])
    """
    if not isinstance(period_metrics, pd.DataFrame) or not isinstance(period_metrics.index, pd.MultiIndex):
        raise TypeError("period_metrics should be the table from metrics_by_period: a DataFrame indexed by "
                        "(period, group).")
    if metric not in _PERIOD_COUNTS:
        raise ValueError(f"metric should be one of {', '.join(_PERIOD_COUNTS)}; got {metric!r}.")
    if group_col not in period_metrics.index.names:
        raise ValueError(f"period_metrics has no index level {group_col!r}; its levels are "
                         f"{', '.join(map(str, period_metrics.index.names))}.")
    needed = {"share": ["n"], "ppv": ["n", "ppv", "selection_rate"]}.get(metric, ["n", metric])
    if metric in ("tpr", "fnr", "fpr"):
        needed.append("base_rate")
    _check_frame(period_metrics, needed, argument="period_metrics")
    period_col = [name for name in period_metrics.index.names if name != group_col][0]
    chosen = list(period_metrics.index.get_level_values(group_col).unique()) if groups is None else list(groups)
    ax = _axes(ax)
    for name in chosen:
        rows = period_metrics.xs(name, level=group_col)
        if metric == "share":
            totals = period_metrics.groupby(level=period_col)["n"].sum().reindex(rows.index)
            successes, values = rows["n"], rows["n"] / totals
        else:
            successes, totals = _PERIOD_COUNTS[metric](rows)
            values = rows[metric]
        values = values.to_numpy(float)
        low, high = _wilson(successes.to_numpy(float), totals.to_numpy(float), confidence_level)
        ax.errorbar(rows.index.to_numpy(), values, yerr=np.vstack([values - low, high - values]), marker="o",
                    capsize=3, color=group_colour(name), label=str(name))
    for period, what in (events or {}).items():
        ax.axvline(period - 0.5, color=NEUTRALS["dark grey"], linestyle="--", linewidth=1)
        ax.annotate(what, xy=(period - 0.5, 1), xycoords=("data", "axes fraction"), xytext=(-3, -4),
                    textcoords="offset points", rotation=90, ha="right", va="top", fontsize=8,
                    color=NEUTRALS["dark grey"])
    ylabel = ylabel or _label(metric)
    xlabel = _PERIOD_LABELS.get(period_col, str(period_col))
    ax.set_xlabel(xlabel)
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


def plot_tradeoff(df, front, *, maximise="auc", minimise="fnr_gap", ax=None, title=None, xlabel=None, ylabel=None):
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
    ax = _axes(ax, figsize=(7, 4.5))
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
    ax.set_xlabel(xlabel or _label(minimise))
    ax.set_ylabel(ylabel or _label(maximise))
    ax.set_title(title or f"{maximise.upper()} against {minimise.replace('_', ' ')}: up and left is better")
    ax.legend(handles=handles, title="method", frameon=False)
    return ax
