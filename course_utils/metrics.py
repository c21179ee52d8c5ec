"""Audit a classifier group by group: per-group rates with bootstrap intervals, disparities, calibration.

:func:`group_audit_table` answers "how does the model do for each group of patients?" in one
DataFrame a learner can print: group size, base rate, selection rate, accuracy, TPR, FPR, FNR,
PPV and (given scores) AUC, each with a bootstrap confidence interval, a small-group flag and a
plain-words note on any metric that is undefined for the group.  The point estimates come from
fairlearn's :class:`~fairlearn.metrics.MetricFrame` with the fairlearn / scikit-learn metric
functions; what this module adds is argument checking, undefined-metric bookkeeping, a tidy
layout and the course's vectorised bootstrap for the intervals (the same resampling as
``MetricFrame``'s own ``n_boot``, counted for all resamples at once: 1000 resamples of ~1000
patients take a fraction of a second).

:func:`disparity_summary` compares every group with a reference group of your choice.
:func:`calibration_table` bins predicted risk per group for a calibration plot.

Examples
--------
>>> from course_utils.metrics import group_audit_table, disparity_summary
>>> y_true = [1, 1, 0, 0, 1, 0, 0, 0]
>>> y_pred = [1, 0, 0, 1, 0, 0, 0, 0]
>>> sex = ["F", "F", "F", "F", "M", "M", "M", "M"]
>>> table = group_audit_table(y_true, y_pred, sensitive_features=sex, min_group_size=5)
>>> table[["n", "tpr", "fpr", "ppv", "small_group"]]  # doctest: +NORMALIZE_WHITESPACE
       n  tpr  fpr  ppv  small_group
group
F      4  0.5  0.5  0.5         True
M      4  0.0  0.0  NaN         True
>>> table.loc["M", "undefined"]
'ppv undefined: the model flagged nobody (y_pred = 1) in this group'
>>> disparity_summary(table, reference="F", metrics=["tpr"]).loc["tpr", "largest_difference"]
np.float64(-0.5)
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import partial

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score

from course_utils import _validation as check
from course_utils._bootstrap import (
    DEFAULT_N_BOOT,
    MIN_N_BOOT,
    RATE_METRICS,
    percentile_intervals,
    rates_on_resamples,
)

__all__ = [
    "DEFAULT_N_BOOT",
    "MIN_N_BOOT",
    "OVERALL",
    "RATE_METRICS",
    "calibration_table",
    "disparity_summary",
    "group_audit_table",
]

#: Label of the whole-population row added by ``group_audit_table(..., include_overall=True)``.
OVERALL = "overall"

_NO_PATIENTS = "no patients in this group"
_NO_POSITIVES = "tpr, fnr undefined: no patients with the condition (y_true = 1) in this group"
_NO_NEGATIVES = "fpr undefined: no patients without the condition (y_true = 0) in this group"
_NOBODY_FLAGGED = "ppv undefined: the model flagged nobody (y_pred = 1) in this group"
_ONE_CLASS = "auc undefined: only one outcome class in this group"


# --- metric functions handed to MetricFrame (point estimates) -----------------------------
# fairlearn's rate functions return a silent 0.0 when their denominator is empty (TPR and FNR
# are both 0.0 for a group with no positives, FPR is 0.0 for a group with no negatives), so
# each is guarded here and returns NaN instead.  The guards only test the denominator; the
# value itself always comes from the library.


def _base_rate(y_true, y_pred):
    # The base rate is the selection rate of the true labels: share of patients with y_true = 1.
    return selection_rate(y_true, y_true, pos_label=1)


def _tpr(y_true, y_pred):
    return true_positive_rate(y_true, y_pred, pos_label=1) if np.any(y_true == 1) else np.nan


def _fnr(y_true, y_pred):
    return false_negative_rate(y_true, y_pred, pos_label=1) if np.any(y_true == 1) else np.nan


def _fpr(y_true, y_pred):
    return false_positive_rate(y_true, y_pred, pos_label=1) if np.any(y_true == 0) else np.nan


def _auc(y_true, y_pred, *, y_score):
    # scikit-learn 1.9 returns NaN with a warning on one class (older releases raise), so we
    # decide before calling it.
    if np.unique(y_true).size < 2:
        return np.nan
    return roc_auc_score(y_true, y_score)


def _metric_functions(with_auc: bool) -> dict:
    metrics = {
        "n": count,
        "base_rate": _base_rate,
        "selection_rate": partial(selection_rate, pos_label=1),
        "accuracy": accuracy_score,
        "tpr": _tpr,
        "fpr": _fpr,
        "fnr": _fnr,
        # scikit-learn's default would be 0.0 plus a warning when nobody is flagged.
        "ppv": partial(precision_score, zero_division=np.nan),
    }
    if with_auc:
        metrics["auc"] = _auc
    return metrics


# --- building the table --------------------------------------------------------------------


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


def _group_codes(features: pd.DataFrame, groups: pd.Index) -> np.ndarray:
    """Each patient's position in ``groups`` (the table's rows)."""
    keys = features.iloc[:, 0] if groups.nlevels == 1 else pd.MultiIndex.from_frame(features)
    return groups.get_indexer(keys)


def _all_groups(features: pd.DataFrame) -> pd.Index:
    """Every group that should get a row: each level (all categories of a categorical) crossed."""
    levels = [
        col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else np.unique(col.to_numpy())
        for _, col in features.items()
    ]
    if len(levels) == 1:
        return pd.Index(levels[0], name=features.columns[0])
    return pd.MultiIndex.from_product(levels, names=list(features.columns))


def _undefined_reasons(row: pd.Series) -> str:
    if row["n"] == 0:
        return _NO_PATIENTS
    reasons = []
    if row["base_rate"] == 0:
        reasons.append(_NO_POSITIVES)
    if row["base_rate"] == 1:
        reasons.append(_NO_NEGATIVES)
    if row["selection_rate"] == 0:
        reasons.append(_NOBODY_FLAGGED)
    if "auc" in row.index and row["base_rate"] in (0, 1):
        reasons.append(_ONE_CLASS)
    return "; ".join(reasons)


def _assemble(point: pd.DataFrame, min_group_size: int, samples: dict | None = None, confidence_level=0.95):
    table = pd.DataFrame(index=point.index)
    table["n"] = point["n"].fillna(0).astype(int)
    for metric in [m for m in RATE_METRICS if m in point.columns]:
        estimate = point[metric].astype(float)
        table[metric] = estimate
        if samples is None:  # n_boot=0: point estimates only
            continue
        low, high = percentile_intervals(samples[metric], estimate.to_numpy(), confidence_level)
        table[f"{metric}_ci_low"], table[f"{metric}_ci_high"] = low, high
    table["small_group"] = table["n"] < min_group_size
    table["undefined"] = table.apply(_undefined_reasons, axis=1).astype(object)
    return table


def _overall_label(index: pd.Index):
    return OVERALL if index.nlevels == 1 else (OVERALL,) * index.nlevels


def _metric_frame(y_true, y_pred, features, scores) -> MetricFrame:
    """Point estimates per group and overall (no ``n_boot``: the intervals are computed below)."""
    return MetricFrame(
        metrics=_metric_functions(with_auc=scores is not None),
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=features,
        sample_params=None if scores is None else {"auc": {"y_score": scores}},
    )


def _with_overall_row(by_group: pd.DataFrame, overall: pd.Series) -> pd.DataFrame:
    label = _overall_label(by_group.index)
    if label in by_group.index:
        raise ValueError(f"A group is already called {OVERALL!r}; rename it to add the overall row.")
    extended = pd.concat([by_group, overall.to_frame(label).T])
    extended.index.names = by_group.index.names
    return extended


def group_audit_table(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    sensitive_features: ArrayLike | pd.DataFrame | dict,
    y_score: ArrayLike | None = None,
    min_group_size: int = 30,
    n_boot: int = DEFAULT_N_BOOT,
    confidence_level: float = 0.95,
    random_state: int | None = 0,
    include_overall: bool = False,
) -> pd.DataFrame:
    """Per-group performance of a binary classifier, with bootstrap confidence intervals.

    Parameters
    ----------
    y_true : array-like of 0/1 or bool, shape (n_patients,)
        The true outcome (1 = has the condition).
    y_pred : array-like of 0/1 or bool, shape (n_patients,)
        The model's decision (1 = flagged).
    sensitive_features : Series, 1-D array, list, or DataFrame
        Group membership per patient.  A DataFrame with several columns audits their
        intersections (the table then has a MultiIndex).  All inputs are matched by
        position, not by pandas index.
    y_score : array-like of float, shape (n_patients,), optional
        A risk score for the AUC column.  Any finite real number is accepted, not only
        probabilities in [0, 1]: AUC depends only on the ranking of scores, so log-odds or a
        ``decision_function`` output are fine.  Without it the ``auc`` columns are omitted.
    min_group_size : int, default 30
        Groups with fewer patients are flagged in ``small_group``; their rates are noisy.
    n_boot : int, default 1000
        Number of bootstrap resamples of the whole data set: 0 (point estimates only, without
        the ``_ci_low`` / ``_ci_high`` columns; fast, e.g. for monitoring many periods) or at
        least :data:`MIN_N_BOOT` (500).  1000 resamples of ~1000 patients take about 0.2 s.
    confidence_level : float, default 0.95
        Coverage of the intervals; 0.95 gives the 2.5 % and 97.5 % percentiles.
    random_state : int or None, default 0
        Seed for the resampling, passed to :func:`numpy.random.default_rng`.  The same integer
        gives identical intervals; None gives different intervals on every call.
    include_overall : bool, default False
        Add a last row labelled ``"overall"`` (``("overall", "overall")`` for intersections)
        with the metrics of the whole population.

    Returns
    -------
    pandas.DataFrame
        One row per group, indexed by group.  Columns, in order: ``n``; for each of
        ``base_rate``, ``selection_rate``, ``accuracy``, ``tpr``, ``fpr``, ``fnr``, ``ppv``
        and ``auc`` (only with ``y_score``) the value and ``<metric>_ci_low`` /
        ``<metric>_ci_high``; ``small_group`` (``n < min_group_size``); ``undefined``
        (plain-words reasons for any NaN metric, ``""`` if none).

    Notes
    -----
    *Undefined metrics* are NaN, never 0, and ``undefined`` says why: TPR and FNR need a
    patient with the condition, FPR one without, PPV someone flagged, AUC both outcomes.
    *Empty groups*: every category of a categorical feature, and every combination of
    intersected features, gets a row, even with no patients; it has ``n = 0``, NaN metrics and
    ``undefined = "no patients in this group"``, so a missing subgroup is visible, not hidden.
    *Intervals* are the course's percentile bootstrap intervals (``course_utils._bootstrap``).
    The patients are resampled with replacement from the whole sample (not within each group,
    so a group's size varies as it would in a new sample), ``n_boot`` times; the resamples' row
    numbers are ``numpy.random.default_rng(random_state).integers(0, n_patients, size=(n_boot,
    n_patients))``, one resample per row.  On each resample every metric is computed per group
    (and for the overall row on all its patients), and the ``(1 - confidence_level) / 2`` and
    ``(1 + confidence_level) / 2`` quantiles are taken (:func:`numpy.quantile`, linear
    interpolation), leaving out resamples in which the metric is undefined for that group.
    This is the resampling of fairlearn's ``MetricFrame(n_boot=...)``, done with counts for all
    resamples at once; fairlearn draws other resamples, so its ends differ by bootstrap noise.
    Where a percentile interval would exclude the point estimate (possible for tiny or skewed
    groups) it is widened to include it, so ``ci_low <= value <= ci_high`` whenever there is
    an interval.  The interval is NaN when the metric is undefined for the group, or (tiny
    groups) when no resample had it defined.  ``n`` has no interval.

    Examples
    --------
    >>> import pandas as pd
    >>> y_true = [1, 0, 1, 0, 0, 0, 1, 1]
    >>> y_pred = [1, 0, 0, 0, 1, 0, 1, 1]
    >>> y_score = [0.9, 0.2, 0.4, 0.1, 0.7, 0.3, 0.8, 0.6]
    >>> sex = pd.Categorical(["F"] * 4 + ["M"] * 4, categories=["F", "M", "X"])
    >>> table = group_audit_table(y_true, y_pred, sensitive_features=sex, y_score=y_score, include_overall=True)
    >>> table[["n", "base_rate", "tpr", "fpr", "auc"]]  # doctest: +NORMALIZE_WHITESPACE
             n  base_rate   tpr   fpr    auc
    group
    F        4        0.5  0.50  0.00  1.000
    M        4        0.5  1.00  0.50  0.750
    X        0        NaN   NaN   NaN    NaN
    overall  8        0.5  0.75  0.25  0.875
    >>> table.loc["X", "undefined"]
    'no patients in this group'
    >>> bool((table["tpr_ci_low"] <= table["tpr"]).loc[["F", "M"]].all())
    True
    >>> group_audit_table(y_true, y_pred, sensitive_features=sex, n_boot=30)
    Traceback (most recent call last):
    ...
    ValueError: n_boot should be 0 (point estimates, no intervals) or a whole number of resamples of at least 500 (fewer give interval ends that change from seed to seed); got 30.
    """
    min_group_size = check.check_whole_number(min_group_size, "min_group_size", low=1)
    n_boot = check.check_n_boot(n_boot)
    confidence_level = check.check_confidence_level(confidence_level)
    random_state = check.check_random_state(random_state)
    include_overall = check.check_bool(include_overall, "include_overall")
    y_true = check.check_binary_labels(y_true, "y_true")
    y_pred = check.check_binary_labels(y_pred, "y_pred")
    scores = None if y_score is None else check.check_scores(y_score, "y_score")
    features = _sensitive_frame(sensitive_features)
    check.check_same_length(y_true=y_true, y_pred=y_pred, sensitive_features=features, y_score=scores)

    frame = _metric_frame(y_true, y_pred, features, scores)
    groups = _all_groups(features)
    point = frame.by_group.reindex(groups)
    if include_overall:
        point = _with_overall_row(point, frame.overall)
    if not n_boot:  # point estimates only
        return _assemble(point, min_group_size)
    samples = rates_on_resamples(
        y_true, y_pred, _group_codes(features, groups), len(groups), y_score=scores, n_boot=n_boot,
        random_state=random_state, include_overall=include_overall,
    )
    return _assemble(point, min_group_size, samples, confidence_level)


# --- comparing groups ----------------------------------------------------------------------


def _one_metric_disparity(values: pd.Series, reference) -> dict:
    reference_value = values.loc[reference]
    others = values.drop(index=[reference])
    others = others.drop(index=[_overall_label(values.index)], errors="ignore")
    skipped = others.index[others.isna()]
    others = others.dropna()
    notes = [f"skipped (undefined): {', '.join(map(str, skipped))}"] if len(skipped) else []
    result = {
        "reference_value": reference_value,
        "largest_difference_group": None,
        "largest_difference": np.nan,
        "smallest_ratio_group": None,
        "smallest_ratio": np.nan,
    }
    if pd.isna(reference_value):
        notes.insert(0, "reference group's value is undefined")
    elif others.empty:
        notes.append("no other group has a defined value")
    else:
        differences = others - reference_value
        result["largest_difference_group"] = differences.abs().idxmax()
        result["largest_difference"] = differences.loc[result["largest_difference_group"]]
        if reference_value == 0:
            notes.append("ratios undefined: the reference value is 0")
        else:
            ratios = others / reference_value
            result["smallest_ratio_group"] = ratios.idxmin()
            result["smallest_ratio"] = ratios.min()
    result["notes"] = "; ".join(notes)
    return result


def _is_group(index: pd.Index, reference) -> bool:
    # On a MultiIndex, `"F" in index` is true for a partial key; only a full tuple names a group.
    if index.nlevels > 1 and not (isinstance(reference, tuple) and len(reference) == index.nlevels):
        return False
    try:
        return reference in index
    except TypeError:  # an unhashable reference such as a list
        return False


def disparity_summary(audit_table: pd.DataFrame, reference: Hashable, metrics: list[str] | None = None) -> pd.DataFrame:
    """Compare every group with a reference group, metric by metric.

    Parameters
    ----------
    audit_table : pandas.DataFrame
        A table from :func:`group_audit_table`.
    reference : group label, or tuple for an intersectional (MultiIndex) table
        The group the others are compared with, e.g. ``"Male"`` or ``("Male", "60+")``.
        ``"overall"`` is allowed if the table has an overall row.
    metrics : list of str, optional
        Metric columns to compare; by default every rate metric in the table.

    Returns
    -------
    pandas.DataFrame
        One row per metric (index ``metric``) with ``reference_value``,
        ``largest_difference_group`` and ``largest_difference`` (group minus reference, signed,
        largest in absolute value), ``smallest_ratio_group`` and ``smallest_ratio`` (group
        divided by reference, smallest), and ``notes``.

    Notes
    -----
    Groups whose value is undefined (NaN) are skipped and listed in ``notes``, never counted
    as 0.  An ``"overall"`` row is never a comparison group, only a possible reference.  Ratios
    are undefined when the reference value is 0.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"tpr": [0.8, 0.6, float("nan")], "fpr": [0.1, 0.2, 0.05]},
    ...                      index=pd.Index(["A", "B", "C"], name="group"))
    >>> summary = disparity_summary(table, reference="A")
    >>> summary[["reference_value", "largest_difference_group", "largest_difference"]]
    ... # doctest: +NORMALIZE_WHITESPACE
            reference_value largest_difference_group  largest_difference
    metric
    tpr                 0.8                        B                -0.2
    fpr                 0.1                        B                 0.1
    >>> summary.loc["tpr", "notes"]
    'skipped (undefined): C'
    """
    if not isinstance(audit_table, pd.DataFrame):
        raise TypeError(
            f"audit_table should be the DataFrame from group_audit_table; got {type(audit_table).__name__}."
        )
    available = [m for m in RATE_METRICS if m in audit_table.columns]
    metrics = available if metrics is None else list(metrics)
    unknown = [m for m in metrics if m not in available]
    if unknown or not metrics:
        raise ValueError(f"metrics should be chosen from {available}; got {metrics}.")
    if not _is_group(audit_table.index, reference):
        hint = ""
        if audit_table.index.nlevels > 1:
            hint = f" For intersections give one value per feature as a tuple, e.g. {audit_table.index[0]!r}."
        raise ValueError(
            f"reference group {reference!r} is not in the table;{hint} "
            f"valid groups: {audit_table.index.tolist()}."
        )
    # fairlearn's MetricFrame.difference()/ratio() compare groups only with each other
    # ("between_groups") or with the whole population ("to_overall"), never with a chosen
    # reference group, so this is plain pandas arithmetic on the audit table.
    rows = {m: _one_metric_disparity(audit_table[m].astype(float), reference) for m in metrics}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


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
