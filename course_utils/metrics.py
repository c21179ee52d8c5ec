"""Audit a classifier group by group: per-group rates with bootstrap intervals, and disparities.

:func:`group_audit_table` answers "how does the model do for each group of patients?" in one
DataFrame a learner can print: group size, base rate, selection rate, accuracy, TPR, FPR, FNR,
PPV and (given scores) AUC, each with a bootstrap confidence interval, a small-group flag and a
plain-words note on any metric that is undefined for the group.  The point estimates come from
fairlearn's :class:`~fairlearn.metrics.MetricFrame` with the fairlearn / scikit-learn metric
functions; what this module adds is argument checking, undefined-metric bookkeeping, a tidy
layout and a vectorised bootstrap for the intervals (the same resampling as ``MetricFrame``'s
own ``n_boot``, counted for all resamples at once: 1000 resamples take a fraction of a second).

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

#: Bootstrap resamples used by default.  25 shows how wide an interval is, not its ends to two
#: decimals; for a report pass ``n_boot=1000``, which is cheap: on 920 patients, 2 groups and
#: every metric including AUC, 1000 resamples take about 0.2 s (25 take a few milliseconds).
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


# --- bootstrap intervals -------------------------------------------------------------------
# fairlearn's MetricFrame(n_boot=...) calls every metric function on every resample and group,
# 30-90 ms per resample on the heart data (scikit-learn's input checks dominate).  Every rate in
# the table is a ratio of confusion counts, and AUC is a count of (positive, negative) pairs, so
# all resamples are counted at once with np.bincount instead.  Undefined is NaN throughout (a
# 0 / 0 division), which is how a resample is later left out of a group's interval.

#: Resamples are drawn and counted in chunks of about this many cells (resamples x patients,
#: or resamples x groups x score levels x 2 for AUC), so memory stays under ~50 MB however
#: large the data or ``n_boot``.
_CHUNK_CELLS = 1_000_000


def _resample_chunks(n_patients: int, n_boot: int, random_state, cells_per_resample: int):
    """Yield the resamples' row numbers (drawn with replacement), a few resamples at a time.

    A generator's consecutive draws continue one stream, so the chunks stacked are exactly
    ``default_rng(random_state).integers(0, n_patients, size=(n_boot, n_patients))``, the draw
    group_audit_table's docstring states.
    """
    rng = np.random.default_rng(random_state)
    per_chunk = max(1, _CHUNK_CELLS // cells_per_resample)
    for start in range(0, n_boot, per_chunk):
        yield rng.integers(0, n_patients, size=(min(per_chunk, n_boot - start), n_patients))


def _group_codes(features: pd.DataFrame, groups: pd.Index) -> np.ndarray:
    """Each patient's position in ``groups`` (the table's rows)."""
    keys = features.iloc[:, 0] if groups.nlevels == 1 else pd.MultiIndex.from_frame(features)
    return groups.get_indexer(keys)


def _auc_cells(y_true, scores, codes) -> tuple[np.ndarray, int]:
    """Each patient's (group, score level, outcome) cell, and the number of distinct scores."""
    levels = np.unique(scores, return_inverse=True)[1].ravel()  # level 0 = lowest score
    n_levels = int(levels.max()) + 1
    return (codes * n_levels + levels) * 2 + y_true, n_levels


def _count_per_resample(cells: np.ndarray, n_cells: int, idx: np.ndarray) -> np.ndarray:
    """How many rows of each cell (0 .. n_cells - 1) every resample holds: (len(idx), n_cells)."""
    # One bincount for all resamples: resample b's cells are shifted to b * n_cells onwards.
    keys = cells[idx] + n_cells * np.arange(len(idx))[:, None]
    return np.bincount(keys.ravel(), minlength=len(idx) * n_cells).reshape(len(idx), n_cells)


def _add_overall(counts: np.ndarray, include_overall: bool) -> np.ndarray:
    # counts has groups on axis 1; the whole population's counts are their sum.
    if not include_overall:
        return counts
    return np.concatenate([counts, counts.sum(axis=1, keepdims=True)], axis=1)


def _rates_from_counts(counts: np.ndarray) -> dict:
    """The rate metrics from confusion counts ordered (tn, fp, fn, tp) on the last axis."""
    tn, fp, fn, tp = np.moveaxis(counts.astype(float), -1, 0)
    n = tn + fp + fn + tp
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 = NaN: undefined
        return {
            "base_rate": (tp + fn) / n,
            "selection_rate": (tp + fp) / n,
            "accuracy": (tp + tn) / n,
            "tpr": tp / (tp + fn),
            "fpr": fp / (fp + tn),
            "fnr": fn / (tp + fn),
            "ppv": tp / (tp + fp),
        }


def _auc_from_counts(counts: np.ndarray) -> np.ndarray:
    """AUC from counts of (negatives, positives) at each score level, lowest score first.

    AUC is the share of (positive, negative) pairs in which the positive scores higher, ties
    counted half (Mann-Whitney); scikit-learn's ``roc_auc_score`` equals it.
    """
    negatives, positives = counts[..., 0], counts[..., 1]
    negatives_below = np.cumsum(negatives, axis=-1) - negatives
    wins = (positives * (negatives_below + negatives / 2)).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):  # one class only: 0 / 0 = NaN
        return wins / (positives.sum(axis=-1) * negatives.sum(axis=-1))


def _metrics_on(idx, confusion_cells, auc_cells, n_groups, n_levels, include_overall) -> dict:
    """Every metric on the resamples ``idx``: {metric: array (len(idx), n_rows)}."""
    counts = _count_per_resample(confusion_cells, n_groups * 4, idx).reshape(len(idx), n_groups, 4)
    metrics = _rates_from_counts(_add_overall(counts, include_overall))
    if auc_cells is not None:
        counts = _count_per_resample(auc_cells, n_groups * n_levels * 2, idx)
        counts = counts.reshape(len(idx), n_groups, n_levels, 2)
        metrics["auc"] = _auc_from_counts(_add_overall(counts, include_overall))
    return metrics


def _bootstrap_samples(y_true, y_pred, scores, codes, n_groups, n_boot, random_state, include_overall):
    """Every metric on every resample: {metric: array (n_boot, n_rows)}, NaN where undefined."""
    confusion_cells = codes * 4 + 2 * y_true + y_pred  # group, then tn / fp / fn / tp
    auc_cells, n_levels = (None, 0) if scores is None else _auc_cells(y_true, scores, codes)
    cells_per_resample = max(len(y_true), n_groups * n_levels * 2)
    parts = [
        _metrics_on(idx, confusion_cells, auc_cells, n_groups, n_levels, include_overall)
        for idx in _resample_chunks(len(y_true), n_boot, random_state, cells_per_resample)
    ]
    return {metric: np.concatenate([part[metric] for part in parts]) for metric in parts[0]}


def _percentile_intervals(samples: dict, rows: pd.Index, confidence_level):
    """Low and high percentile per row and metric, leaving out the resamples where it is NaN."""
    alpha = (1 - float(confidence_level)) / 2
    with warnings.catch_warnings():
        # A row with no defined resample gets a NaN interval; numpy's all-NaN warning is not news.
        warnings.simplefilter("ignore", RuntimeWarning)
        ends = {m: np.nanquantile(s, [alpha, 1 - alpha], axis=0) for m, s in samples.items()}
    low = pd.DataFrame({m: e[0] for m, e in ends.items()}, index=rows)
    high = pd.DataFrame({m: e[1] for m, e in ends.items()}, index=rows)
    return low, high


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
        Number of bootstrap resamples of the whole data set.  The default shows roughly how
        wide an interval is; use 1000 or more for intervals you will report (about 0.2 s for
        ~1000 patients).
        ``n_boot=0`` gives point estimates only, without the ``_ci_low`` / ``_ci_high``
        columns (fast: for monitoring many periods).
    confidence_level : float, default 0.95
        Coverage of the intervals; 0.95 gives the 2.5 % and 97.5 % percentiles.
    random_state : int, numpy RandomState or None, default 0
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
    *Intervals* are percentile bootstrap intervals.  The patients are resampled with
    replacement from the whole sample (not within each group, so a group's size varies as it
    would in a new sample), ``n_boot`` times; the resamples' row numbers are
    ``numpy.random.default_rng(random_state).integers(0, n_patients, size=(n_boot, n_patients))``,
    one resample per row.  On each resample every metric is computed per group (and for the
    overall row on all its patients), and the ``(1 - confidence_level) / 2`` and
    ``(1 + confidence_level) / 2`` quantiles are taken (:func:`numpy.quantile`, linear
    interpolation), leaving out resamples in which the metric is undefined for that group.
    This is the resampling of fairlearn's ``MetricFrame(n_boot=...)``, done with counts for all
    resamples at once; fairlearn draws other resamples, so its ends differ by bootstrap noise.
    Where a percentile interval would exclude the point estimate (possible for tiny or skewed
    groups) it is widened to include it, so ``ci_low <= value <= ci_high`` whenever there is
    an interval.  The interval is NaN when the metric is undefined for the group, or (tiny
    groups, few resamples) when no resample had it defined.  ``n`` has no interval.

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

    frame = _metric_frame(y_true, y_pred, features, scores)
    groups = _all_groups(features)
    point = frame.by_group.reindex(groups)
    if include_overall:
        point = _with_overall_row(point, frame.overall)
    if not n_boot:  # point estimates only
        return _assemble(point, min_group_size)
    samples = _bootstrap_samples(
        y_true, y_pred, scores, _group_codes(features, groups), len(groups), int(n_boot), random_state,
        include_overall,
    )
    return _assemble(point, min_group_size, *_percentile_intervals(samples, point.index, confidence_level))


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
