"""Audit a classifier group by group: per-group rates with bootstrap intervals, and disparities.

:func:`group_audit_table` answers "how does the model do for each group of patients?" in one
DataFrame a learner can print: group size, base rate, selection rate, accuracy, TPR, FPR, FNR,
PPV and (given scores) AUC, each with a bootstrap confidence interval, a small-group flag and a
plain-words note on any metric that is undefined for the group.  It is a thin layer over
fairlearn's :class:`~fairlearn.metrics.MetricFrame` and the fairlearn / scikit-learn metric
functions; what this module adds is argument checking, undefined-metric bookkeeping and a tidy
layout.

:func:`disparity_summary` compares every group with a reference group of your choice.

Examples
--------
>>> from course_utils.metrics import group_audit_table, disparity_summary
>>> y_true = [1, 1, 0, 0, 1, 0, 0, 0]
>>> y_pred = [1, 0, 0, 1, 0, 0, 0, 0]
>>> sex = ["F", "F", "F", "F", "M", "M", "M", "M"]
>>> table = group_audit_table(y_true, y_pred, sex, min_group_size=5, n_boot=20)
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

import numbers
import warnings
from functools import partial

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score

__all__ = ["group_audit_table", "disparity_summary", "DEFAULT_N_BOOT", "OVERALL"]

#: Bootstrap resamples used by default, chosen by measurement so a notebook cell stays short:
#: on 920 patients, 2 groups and every metric including AUC, one resample costs 55-80 ms on a
#: 2-core machine (fairlearn evaluates every metric on the whole resample and on each group,
#: and scikit-learn's input checks dominate), so 25 resamples took 1.4-2.1 s.  That shows how
#: wide an interval is, not its ends to two decimals: for a report pass ``n_boot=1000``.
DEFAULT_N_BOOT = 25

#: Label of the whole-population row added by ``group_audit_table(..., include_overall=True)``.
OVERALL = "overall"

#: The rate metrics in table order; every one gets a ``_ci_low`` / ``_ci_high`` interval.
RATE_METRICS = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "ppv", "auc")

_NO_PATIENTS = "no patients in this group"
_NO_POSITIVES = "tpr, fnr undefined: no patients with the condition (y_true = 1) in this group"
_NO_NEGATIVES = "fpr undefined: no patients without the condition (y_true = 0) in this group"
_NOBODY_FLAGGED = "ppv undefined: the model flagged nobody (y_pred = 1) in this group"
_ONE_CLASS = "auc undefined: only one outcome class in this group"


# --- metric functions handed to MetricFrame ------------------------------------------------
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


# --- argument checking ---------------------------------------------------------------------


def _one_dimensional(name: str, values) -> np.ndarray:
    if isinstance(values, pd.DataFrame) and values.shape[1] == 1:
        values = values.iloc[:, 0]
    array = np.asarray(values, dtype=object) if isinstance(values, list) else np.asarray(values)
    if array.ndim != 1:
        raise ValueError(
            f"{name} should be one value per patient (a 1-D list, array or Series); "
            f"got something of shape {array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty: there are no patients to audit.")
    return array


def _check_no_missing(name: str, array: np.ndarray) -> None:
    missing = pd.isna(array)
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} missing value(s) (NaN/None), first at position "
            f"{int(np.flatnonzero(missing)[0])}; remove or fill those patients first."
        )


def _is_zero_or_one(value) -> bool:
    return isinstance(value, (numbers.Real, np.bool_)) and value in (0, 1)


def _binary_labels(name: str, values) -> np.ndarray:
    array = _one_dimensional(name, values)
    _check_no_missing(name, array)
    found = pd.unique(array)
    if not all(_is_zero_or_one(v) for v in found):
        shown = ", ".join(repr(v) for v in sorted(found.tolist(), key=str)[:10])
        hint = ""
        if name == "y_pred" and all(isinstance(v, numbers.Real) for v in found):
            hint = " If these are probabilities, threshold them for y_pred and pass them as y_score."
        raise ValueError(
            f"{name} should contain only 0 and 1 (or False and True); found the values {shown}."
            + hint
        )
    return array.astype(int)


def _scores(values) -> np.ndarray:
    array = np.asarray(values, dtype=object) if isinstance(values, list) else np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 2:
        raise ValueError(
            "y_score should be one score per patient; got two columns, as predict_proba "
            "returns. Pass the probability of the condition: model.predict_proba(X)[:, 1]."
        )
    array = _one_dimensional("y_score", array)
    _check_no_missing("y_score", array)
    try:
        array = array.astype(float)
    except (TypeError, ValueError):
        raise ValueError(
            f"y_score should be numbers (a probability or any real-valued risk score); "
            f"found values such as {array[0]!r}."
        ) from None
    if not np.isfinite(array).all():
        raise ValueError("y_score contains infinite values; every score must be a finite number.")
    return array


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
            frame = pd.Series(_one_dimensional("sensitive_features", array), name="group")
            frame = frame.to_frame()
    if len(frame) == 0:
        raise ValueError("sensitive_features is empty: there are no patients to audit.")
    for column in frame.columns:
        _check_no_missing(f"sensitive_features column {column!r}", frame[column].to_numpy())
    return frame


def _check_lengths(**arrays) -> None:
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise ValueError(f"Every input needs one value per patient, but {described} values.")


def _check_settings(min_group_size, n_boot, confidence_level, random_state) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, numbers.Integral):
        raise TypeError(f"min_group_size should be a whole number; got {min_group_size!r}.")
    if min_group_size < 1:
        raise ValueError(f"min_group_size should be at least 1; got {min_group_size}.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 0:
        raise ValueError(f"n_boot should be a whole number of resamples, 0 (no intervals) or more; got {n_boot!r}.")
    if not isinstance(confidence_level, numbers.Real) or not 0 < confidence_level < 1:
        raise ValueError(
            f"confidence_level should be a number strictly between 0 and 1, such as 0.95; "
            f"got {confidence_level!r}."
        )
    valid_seed = random_state is None or isinstance(random_state, np.random.RandomState)
    valid_seed |= isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
    if not valid_seed:
        raise TypeError(f"random_state should be a whole number or None; got {random_state!r}.")


# --- building the table --------------------------------------------------------------------


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


def _assemble(point: pd.DataFrame, min_group_size: int, low=None, high=None):
    table = pd.DataFrame(index=point.index)
    table["n"] = point["n"].fillna(0).astype(int)
    for metric in [m for m in RATE_METRICS if m in point.columns]:
        estimate = point[metric].astype(float)
        table[metric] = estimate
        if low is None:  # n_boot=0: point estimates only
            continue
        # Percentile intervals of a small or skewed group can exclude the estimate itself;
        # widening to include it is conservative and keeps "low <= estimate <= high" true.
        table[f"{metric}_ci_low"] = np.minimum(low[metric].astype(float), estimate)
        table[f"{metric}_ci_high"] = np.maximum(high[metric].astype(float), estimate)
    table["small_group"] = table["n"] < min_group_size
    table["undefined"] = table.apply(_undefined_reasons, axis=1).astype(object)
    return table


def _overall_label(index: pd.Index):
    return OVERALL if index.nlevels == 1 else (OVERALL,) * index.nlevels


def _bootstrapped_metric_frame(y_true, y_pred, features, scores, n_boot, confidence_level, random_state):
    alpha = (1 - float(confidence_level)) / 2
    with warnings.catch_warnings():
        # Groups missing from a resample give all-NaN slices; that is expected, not news.
        warnings.simplefilter("ignore", RuntimeWarning)
        return MetricFrame(
            metrics=_metric_functions(with_auc=scores is not None),
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=features,
            # AUC needs the scores, which MetricFrame resamples alongside the labels.
            sample_params=None if scores is None else {"auc": {"y_score": scores}},
            # n_boot=0 asks for point estimates only (fast: no resampling at all).
            n_boot=int(n_boot) or None,
            ci_quantiles=[alpha, 1 - alpha] if n_boot else None,
            random_state=random_state,
        )


def _with_overall_row(frame: MetricFrame, groups: pd.Index, *parts: pd.DataFrame):
    label = _overall_label(groups)
    if label in groups:
        raise ValueError(f"A group is already called {OVERALL!r}; rename it to add the overall row.")
    wholes = (frame.overall, *(frame.overall_ci if len(parts) > 1 else ()))
    extended = [pd.concat([part, whole.to_frame(label).T]) for part, whole in zip(parts, wholes)]
    for part in extended:
        part.index.names = groups.names
    return extended


def group_audit_table(
    y_true,
    y_pred,
    sensitive_features,
    y_score=None,
    *,
    min_group_size=30,
    n_boot=DEFAULT_N_BOOT,
    confidence_level=0.95,
    random_state=0,
    include_overall=False,
):
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
    n_boot : int, default DEFAULT_N_BOOT (25)
        Number of bootstrap resamples of the whole data set.  The default keeps the call
        near 2 s for ~1000 patients; use 1000 or more for intervals you will report.
        ``n_boot=0`` gives point estimates only, without the ``_ci_low`` / ``_ci_high``
        columns (fast: for monitoring many periods).
    confidence_level : float, default 0.95
        Coverage of the intervals; 0.95 gives the 2.5 % and 97.5 % percentiles.
    random_state : int, numpy RandomState or None, default 0
        Seed for the resampling.  The same integer gives identical intervals; None gives
        different intervals on every call.
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
    *Intervals* come from fairlearn's ``MetricFrame`` bootstrap: the rows are resampled with
    replacement ``n_boot`` times and the percentiles of each metric are taken, leaving out
    resamples in which the metric is undefined for that group.  Where a percentile interval
    would exclude the point estimate (possible for tiny or skewed groups) it is widened to
    include it, so ``ci_low <= value <= ci_high`` whenever there is an interval.  The interval
    is NaN when the metric is undefined for the group, or (tiny groups, few resamples) when no
    resample had it defined.  ``n`` has no interval.

    Examples
    --------
    >>> import pandas as pd
    >>> y_true = [1, 0, 1, 0, 0, 0, 1, 1]
    >>> y_pred = [1, 0, 0, 0, 1, 0, 1, 1]
    >>> y_score = [0.9, 0.2, 0.4, 0.1, 0.7, 0.3, 0.8, 0.6]
    >>> sex = pd.Categorical(["F"] * 4 + ["M"] * 4, categories=["F", "M", "X"])
    >>> table = group_audit_table(y_true, y_pred, sex, y_score, n_boot=10, include_overall=True)
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
    """
    _check_settings(min_group_size, n_boot, confidence_level, random_state)
    y_true = _binary_labels("y_true", y_true)
    y_pred = _binary_labels("y_pred", y_pred)
    scores = None if y_score is None else _scores(y_score)
    features = _sensitive_frame(sensitive_features)
    _check_lengths(y_true=y_true, y_pred=y_pred, sensitive_features=features, y_score=scores)

    frame = _bootstrapped_metric_frame(
        y_true, y_pred, features, scores, n_boot, confidence_level, random_state
    )
    groups = _all_groups(features)
    parts = [frame.by_group.reindex(groups)]
    if n_boot:
        parts += [ci.reindex(groups) for ci in frame.by_group_ci]  # low, high
    if include_overall:
        parts = _with_overall_row(frame, groups, *parts)
    return _assemble(parts[0], min_group_size, *parts[1:])


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


def disparity_summary(audit_table, reference, metrics=None):
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
