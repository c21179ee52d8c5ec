"""The course's own computations behind the tables the notebooks show: instructor-only, never in the learner edition.

Every number a graded code exercise asks for must be computed by the learner.  The group audit
table, the course's bootstrap, the sweep evaluation of notebook 02 and the monthly monitoring table
of notebook 03 compute exactly such numbers on any input, so they live here, outside the learner
edition; the notebooks show what they computed on the course's data as *shipped tables*:
Parquet files in ``data/`` (dtypes, index and floats exact), checksummed in ``data/SHA256SUMS``,
read with :func:`course_utils.data.load_course_table`.  ``data/raw/build_course_tables.py`` writes
them from :data:`TABLES`, and ``tests/test_course_tables.py`` checks that each shipped table
equals a fresh computation.

group_audit_table     per-group rates (base rate, selection rate, accuracy, TPR, FPR, FNR, PPV, AUC)
                      with bootstrap intervals, a small-group flag and the reasons for undefined rates
evaluate_predictions  every setting of a sweep on the same patients: AUC, accuracy, FNR per group, FNR gap
metrics_by_period     the group audit table per period, plus each group's share of the period's patients
disparity_summary     every group of an audit table against a reference group, metric by metric
proportion_interval   a binomial confidence interval (scipy's Wilson, Wilson-cc or exact), element-wise
TABLES                name -> how the course computes that shipped table from the shipped data
build_tables          the shipped tables, computed afresh; table_bytes: one table as the Parquet bytes shipped

The bootstrap (one for the whole course): the patients are resampled with replacement from the
whole sample (not within each group, so a group's size varies as it would in a new sample);
resample ``b`` is row ``b`` of ``numpy.random.default_rng(random_state).integers(0, n, size=(n_boot,
n))``, the resampling of fairlearn's ``MetricFrame(n_boot=...)``.  Every rate is a ratio of
confusion counts and AUC a count of (positive, negative) pairs, so all resamples are counted at
once with :func:`numpy.bincount`.  Undefined is NaN throughout (a 0 / 0 division), which is how a
resample is left out of a group's interval.  Intervals are the ``(1 - confidence_level) / 2`` and
``(1 + confidence_level) / 2`` quantiles of the defined resamples (:func:`numpy.nanquantile`,
linear interpolation), widened to include the estimate where a percentile interval of a small or
skewed group, or of a gap near 0, would exclude it.

Examples
--------
>>> from course_utils.instructor.course_tables import group_audit_table
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
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Hashable, Iterator, Sequence
from functools import lru_cache, partial

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
from numpy.typing import ArrayLike
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score
from threadpoolctl import threadpool_limits

from course_utils import _validation as check
from course_utils._validation import MIN_N_BOOT
from course_utils.cohort import DEFAULT_DRIFT, make_readmission_cohort
from course_utils.data import (
    load_debiasing_predictions,
    load_heart,
    load_heart_model_inputs,
    load_heart_predictions,
)
from course_utils.metrics import OVERALL, RATE_METRICS, _sensitive_frame
from course_utils.monitoring import simulate_deployment

__all__ = [
    "CI_METHODS",
    "DEFAULT_N_BOOT",
    "MIN_N_BOOT",
    "TABLES",
    "build_tables",
    "disparity_summary",
    "evaluate_predictions",
    "group_audit_table",
    "metrics_by_period",
    "percentile_intervals",
    "proportion_interval",
    "rates_on_resamples",
    "resample_rows",
    "table_bytes",
]

#: Resamples used where a function has a default: enough for interval ends stable to two decimals.
DEFAULT_N_BOOT = 1000

#: Interval methods of :meth:`scipy.stats._result_classes.BinomTestResult.proportion_ci`:
#: Wilson score (default; good coverage for small groups), Wilson with continuity correction,
#: and Clopper-Pearson ("exact", conservative).
CI_METHODS = ("wilson", "wilsoncc", "exact")


# --------------------------------------------------------------------------- a binomial interval


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


# --------------------------------------------------------------------------- the course's bootstrap


#: Resamples are drawn and counted in chunks of about this many cells (resamples x patients, or
#: resamples x groups x score levels x 2 for AUC), so memory stays under ~50 MB however large
#: the data or ``n_boot``.
_CHUNK_CELLS = 1_000_000


def resample_rows(n_rows: int, n_boot: int, random_state, cells_per_resample: int | None = None) -> Iterator[np.ndarray]:
    """Yield the resamples' row numbers (drawn with replacement), a few resamples at a time.

    A generator's consecutive draws continue one stream, so the chunks stacked are exactly
    ``default_rng(random_state).integers(0, n_rows, size=(n_boot, n_rows))``.
    """
    rng = np.random.default_rng(random_state)
    per_chunk = max(1, _CHUNK_CELLS // (cells_per_resample or n_rows))
    for start in range(0, n_boot, per_chunk):
        yield rng.integers(0, n_rows, size=(min(per_chunk, n_boot - start), n_rows))


def percentile_intervals(samples: np.ndarray, estimates, confidence_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column of ``samples`` (resamples on axis 0), widened to include its estimate.

    NaN samples (resamples in which the metric is undefined) are left out.  The interval is NaN
    where the estimate is NaN or no resample is defined.
    """
    alpha = (1 - float(confidence_level)) / 2
    with warnings.catch_warnings():
        # A column with no defined resample gets a NaN interval; numpy's all-NaN warning is not news.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(samples, [alpha, 1 - alpha], axis=0)
    return np.minimum(low, estimates), np.maximum(high, estimates)


def rates_on_resamples(y_true: np.ndarray, y_pred: np.ndarray, group_codes: np.ndarray, n_groups: int, *,
                       y_score: np.ndarray | None = None, n_boot: int, random_state,
                       include_overall: bool = False) -> dict[str, np.ndarray]:
    """Every rate metric per group on every resample: ``{metric: array (n_boot, n_rows)}``.

    ``group_codes`` gives each patient's group as ``0 .. n_groups - 1``; the rows are the groups,
    then (with ``include_overall``) the whole population.  NaN where a metric is undefined.
    ``auc`` is included when ``y_score`` is given.
    """
    confusion_cells = group_codes * 4 + 2 * y_true + y_pred  # group, then tn / fp / fn / tp
    auc_cells, n_levels = (None, 0) if y_score is None else _auc_cells(y_true, y_score, group_codes)
    cells_per_resample = max(len(y_true), n_groups * n_levels * 2)
    parts = [
        rates_on_rows(rows, confusion_cells, auc_cells, n_groups, n_levels, include_overall)
        for rows in resample_rows(len(y_true), n_boot, random_state, cells_per_resample)
    ]
    return {metric: np.concatenate([part[metric] for part in parts]) for metric in parts[0]}


def _auc_cells(y_true, scores, codes) -> tuple[np.ndarray, int]:
    """Each patient's (group, score level, outcome) cell, and the number of distinct scores."""
    levels = np.unique(scores, return_inverse=True)[1].ravel()  # level 0 = lowest score
    n_levels = int(levels.max()) + 1
    return (codes * n_levels + levels) * 2 + y_true, n_levels


def _count_per_resample(cells: np.ndarray, n_cells: int, rows: np.ndarray) -> np.ndarray:
    """How many rows of each cell (0 .. n_cells - 1) every resample holds: (len(rows), n_cells)."""
    # One bincount for all resamples: resample b's cells are shifted to b * n_cells onwards.
    keys = cells[rows] + n_cells * np.arange(len(rows))[:, None]
    return np.bincount(keys.ravel(), minlength=len(rows) * n_cells).reshape(len(rows), n_cells)


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


def rates_on_rows(rows: np.ndarray, confusion_cells, auc_cells, n_groups, n_levels, include_overall) -> dict:
    """Every metric on the resamples ``rows`` (one resample per row of row numbers): {metric: (len(rows), n_rows)}."""
    counts = _count_per_resample(confusion_cells, n_groups * 4, rows).reshape(len(rows), n_groups, 4)
    metrics = _rates_from_counts(_add_overall(counts, include_overall))
    if auc_cells is not None:
        counts = _count_per_resample(auc_cells, n_groups * n_levels * 2, rows)
        counts = counts.reshape(len(rows), n_groups, n_levels, 2)
        metrics["auc"] = _auc_from_counts(_add_overall(counts, include_overall))
    return metrics


# --------------------------------------------------------------------------- the group audit table


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


def _metric_frame(y_true, y_pred, features, scores) -> MetricFrame:
    """Point estimates per group and overall (no ``n_boot``: the intervals are computed below)."""
    return MetricFrame(
        metrics=_metric_functions(with_auc=scores is not None),
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=features,
        sample_params=None if scores is None else {"auc": {"y_score": scores}},
    )


def _overall_label(index: pd.Index):
    return OVERALL if index.nlevels == 1 else (OVERALL,) * index.nlevels


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
    *Intervals* are the course's percentile bootstrap intervals (see the module's docstring).
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


# --------------------------------------------------------------------------- comparing groups


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


# --------------------------------------------------------------------------- measuring a sweep (notebook 02)


def _rates(y, score, decision, groups, names):
    fnr = {}
    for name in names:
        sick = (groups == name) & (y == 1)
        fnr[name] = float((decision[sick] == 0).mean()) if sick.any() else np.nan  # undefined, not 0
    return {
        "auc": roc_auc_score(y, score) if np.unique(y).size == 2 else np.nan,
        "accuracy": accuracy_score(y, decision),
        "fnr": float((decision[y == 1] == 0).mean()) if (y == 1).any() else np.nan,
        **{f"fnr_{name}": value for name, value in fnr.items()},
        "fnr_gap": abs(fnr[names[0]] - fnr[names[1]]),
    }


def evaluate_predictions(predictions: pd.DataFrame, *, setting_cols: Sequence[str], outcome_col: str,
                         score_col: str, decision_col: str, group_col: str, patient_col: str,
                         n_boot: int = DEFAULT_N_BOOT, confidence_level: float = 0.95,
                         random_state: int | None = 0) -> pd.DataFrame:
    """Measure every setting of a sweep on the same patients: AUC, accuracy, FNR per group and FNR gap, with intervals.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per setting and patient (long format), e.g. :func:`course_utils.data.load_debiasing_predictions`
        joined with the patients' outcome and group.  Every setting must hold the same patients.
    setting_cols : list of str
        The columns that name a setting, e.g. ``["method", "value", "seed"]``: one result row per combination.
    outcome_col, score_col, decision_col : str
        The true outcome (0/1), the score (for AUC) and the decision (0/1; for accuracy and FNR).
    group_col : str
        Each patient's group: exactly two groups, for the FNR gap.
    patient_col : str
        Identifies a patient across settings, so that every setting is resampled with the same patients.
    n_boot : int, default 1000
        Bootstrap resamples of the patients: 0 (no interval columns) or at least 500.
    confidence_level : float, default 0.95
    random_state : int or None, default 0
        Seed of the bootstrap.  Every setting uses the same resamples (the same patients drawn), so the
        intervals of two settings come from the same draws.

    Returns
    -------
    pandas.DataFrame
        One row per setting, in order of first appearance: the ``setting_cols``, ``auc`` with
        ``auc_ci_low`` / ``auc_ci_high``, ``accuracy``, ``fnr`` (all patients), ``fnr_<group>`` for each group
        (sorted), ``fnr_gap`` with ``fnr_gap_ci_low`` / ``fnr_gap_ci_high``.  A group with no patients with the
        condition has an undefined (NaN) FNR, and then the gap is undefined too.

    Notes
    -----
    Intervals are the course's percentile bootstrap intervals (see the module's docstring): patients are
    resampled with replacement, resamples in which a metric is undefined are left out, and an interval that
    would exclude its estimate (possible for a gap near 0) is widened to include it.

    Examples
    --------
    >>> import pandas as pd
    >>> predictions = pd.DataFrame({
    ...     "setting": ["a"] * 6 + ["b"] * 6, "patient": list(range(6)) * 2,
    ...     "y": [1, 1, 0, 1, 1, 0] * 2, "group": ["F", "F", "F", "M", "M", "M"] * 2,
    ...     "score": [0.9, 0.3, 0.2, 0.8, 0.7, 0.4, 0.9, 0.6, 0.2, 0.8, 0.7, 0.4],
    ...     "decision": [1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0]})
    >>> table = evaluate_predictions(predictions, setting_cols=["setting"], outcome_col="y", score_col="score",
    ...                              decision_col="decision", group_col="group", patient_col="patient")
    >>> table[["setting", "auc", "fnr_F", "fnr_M", "fnr_gap"]]
      setting    auc  fnr_F  fnr_M  fnr_gap
    0       a  0.875    0.5    0.0      0.5
    1       b  1.000    0.0    0.0      0.0
    """
    setting_cols = check.check_column_list(setting_cols, "setting_cols")
    if not setting_cols:
        raise ValueError("setting_cols is empty: name the column(s) that identify a setting, e.g. ['method'].")
    columns = [*setting_cols, outcome_col, score_col, decision_col, group_col, patient_col]
    for name, value in zip(("outcome_col", "score_col", "decision_col", "group_col", "patient_col"), columns[-5:]):
        check.check_column(predictions, value, name, "predictions")
    check.check_dataframe(predictions, "predictions", columns=setting_cols)
    n_boot = check.check_n_boot(n_boot)
    confidence_level = check.check_confidence_level(confidence_level)
    random_state = check.check_random_state(random_state)
    groups = sorted(pd.unique(check.check_groups(predictions[group_col], group_col)).tolist(), key=str)
    if len(groups) != 2:
        raise ValueError(f"{group_col} should have exactly two groups, for an FNR gap; found {len(groups)}: "
                         f"{[str(g) for g in groups]}.")

    rows, patients = [], None
    for key, rows_of_setting in predictions.groupby(setting_cols, sort=False, dropna=False):
        part = rows_of_setting.sort_values(patient_col, kind="stable")
        if patients is None:
            patients = part[patient_col].to_numpy()
        elif not np.array_equal(part[patient_col].to_numpy(), patients):
            raise ValueError(f"every setting must hold the same patients ({patient_col}); setting {key!r} does not.")
        y = check.check_binary_labels(part[outcome_col], outcome_col)
        score = check.check_scores(part[score_col], score_col)
        decision = check.check_binary_labels(part[decision_col], decision_col)
        sensitive = part[group_col].astype(object).to_numpy()
        row = dict(zip(setting_cols, key if isinstance(key, tuple) else (key,)))
        row.update(_rates(y, score, decision, sensitive, groups))
        if n_boot:
            codes = (sensitive == groups[1]).astype(int)
            samples = rates_on_resamples(y, decision, codes, 2, y_score=score, n_boot=n_boot,
                                         random_state=random_state, include_overall=True)
            gaps = np.abs(samples["fnr"][:, 0] - samples["fnr"][:, 1])
            row["auc_ci_low"], row["auc_ci_high"] = map(float, percentile_intervals(samples["auc"][:, 2], row["auc"],
                                                                                    confidence_level))
            row["fnr_gap_ci_low"], row["fnr_gap_ci_high"] = map(float, percentile_intervals(gaps, row["fnr_gap"],
                                                                                            confidence_level))
        rows.append(row)
    intervals = n_boot > 0
    order = [*setting_cols, "auc", *(["auc_ci_low", "auc_ci_high"] if intervals else []), "accuracy", "fnr",
             *[f"fnr_{g}" for g in groups], "fnr_gap", *(["fnr_gap_ci_low", "fnr_gap_ci_high"] if intervals else [])]
    return pd.DataFrame(rows, columns=order)


# --------------------------------------------------------------------------- metrics per period (notebook 03)


def _period_table(part, group_col, outcome_col, prediction_col, score_col, min_group_size, n_boot,
                  confidence_level, random_state):
    table = group_audit_table(
        part[outcome_col].to_numpy(), part[prediction_col].to_numpy(),
        sensitive_features=pd.Series(pd.Categorical(part[group_col].to_numpy(), categories=_levels(part[group_col]))),
        y_score=None if score_col is None else part[score_col].to_numpy(),
        min_group_size=min_group_size, n_boot=n_boot, confidence_level=confidence_level,
        random_state=random_state,
    )
    table.insert(1, "share", table["n"] / len(part))
    if n_boot:
        low, high = proportion_interval(table["n"], np.full(len(table), len(part)), confidence_level=confidence_level)
        table.insert(2, "share_ci_low", low)
        table.insert(3, "share_ci_high", high)
    return table


def _levels(column):
    # Every category of a categorical column, else its sorted observed values: an absent group still gets a row.
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique().tolist(), key=str)


def metrics_by_period(data: pd.DataFrame, *, period_col: str, group_col: str, outcome_col: str, prediction_col: str,
                      score_col: str | None = None, min_group_size: int = 30, n_boot: int = DEFAULT_N_BOOT,
                      confidence_level: float = 0.95, random_state: int | None = 0,
                      progress: bool = True) -> pd.DataFrame:
    """Group audit table for every period: the fairness metrics a monitoring dashboard shows.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient with a period, a group, the outcome and the model's decision, e.g. the
        output of :func:`course_utils.monitoring.simulate_deployment`.
    period_col, group_col : str
        Columns holding the period and the group of each row, e.g. ``"month"`` and ``"race"``.
    outcome_col, prediction_col : str
        Columns holding the true outcome and the decision (0/1), e.g. ``"readmitted_30d"`` and
        ``"flagged"``.
    score_col : str, optional
        Column of risk scores, for an ``auc`` column.
    min_group_size : int, default 30
        Groups smaller than this in a period get ``small_group = True``.
    n_boot : int, default 1000
        Bootstrap resamples per period for the ``_ci_low`` / ``_ci_high`` intervals
        (:func:`group_audit_table`'s): 0 (point estimates only, fast: enough
        for evaluating rules) or at least 500.
    confidence_level : float, default 0.95
        Coverage of the intervals.
    random_state : int or None, default 0
        Seed of the resampling.
    progress : bool, default True
        Show a progress bar over the periods (tqdm, on stderr).  Use False where output must be
        reproducible (nbval).

    Returns
    -------
    pandas.DataFrame
        Indexed by (period, group), every group in every period (``n = 0`` where absent).  Columns
        as :func:`group_audit_table`, plus ``share``: the group's share of
        the period's patients, with (when ``n_boot`` > 0) a Wilson interval ``share_ci_low`` /
        ``share_ci_high`` (:func:`proportion_interval`).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"month": [0] * 4 + [1] * 4, "race": ["White", "Black"] * 4,
    ...                    "readmitted_30d": [1, 1, 0, 0, 1, 1, 0, 0], "flagged": [1, 0, 0, 0, 1, 1, 0, 1]})
    >>> table = metrics_by_period(df, period_col="month", group_col="race", outcome_col="readmitted_30d",
    ...                           prediction_col="flagged", n_boot=0, progress=False)
    >>> table[["n", "share", "selection_rate", "fnr"]]  # doctest: +NORMALIZE_WHITESPACE
                 n  share  selection_rate  fnr
    month race
    0     Black  2    0.5             0.0  1.0
          White  2    0.5             0.5  0.0
    1     Black  2    0.5             1.0  0.0
          White  2    0.5             0.5  0.0
    """
    check.check_dataframe(data, "data")
    names = {"period_col": period_col, "group_col": group_col, "outcome_col": outcome_col,
             "prediction_col": prediction_col, **({} if score_col is None else {"score_col": score_col})}
    for argument, column in names.items():
        check.check_column(data, column, argument)
    n_boot = check.check_n_boot(n_boot)
    progress = check.check_bool(progress, "progress")
    from tqdm.auto import tqdm  # imported here: only this function needs it

    data = data.copy()
    data[group_col] = pd.Categorical(data[group_col], categories=_levels(data[group_col]))
    tables = {}
    for period, part in tqdm(data.groupby(period_col, sort=True), desc="periods", disable=not progress, leave=False):
        tables[period] = _period_table(part, group_col, outcome_col, prediction_col, score_col, min_group_size, n_boot,
                                       confidence_level, random_state)
    return pd.concat(tables, names=[period_col, group_col])


# --------------------------------------------------------------------------- the shipped tables
# Each builder repeats the notebook cells that lead to its table, on the shipped data, and calls the function above
# exactly as the notebook did before these functions left the learner API; the notebook now reads the result with
# course_utils.data.load_course_table(name).  The inputs shared by several tables are computed once per process.


@lru_cache(maxsize=1)
def _notebook_01():
    """Notebook 01 §5: the 920 heart patients, the course's out-of-fold scores, the baseline's and re-weighted decisions."""
    heart = load_heart()
    predictions = load_heart_predictions()
    baseline_scores = predictions["baseline_score"].to_numpy()
    return heart, baseline_scores, (baseline_scores >= 0.5).astype(int), (predictions["balanced_score"].to_numpy() >= 0.5).astype(int)


def heart_baseline_audit_by_sex() -> pd.DataFrame:
    """01 §5: the baseline's out-of-fold audit by sex, with AUC (1,000 resamples)."""
    heart, baseline_scores, baseline_pred, _ = _notebook_01()
    return group_audit_table(heart["disease"], baseline_pred, sensitive_features=heart["sex"], y_score=baseline_scores,
                             random_state=0)


def heart_baseline_audit_by_sex_and_age() -> pd.DataFrame:
    """01 §6: the baseline's out-of-fold audit by sex and age band (1,000 resamples)."""
    heart, _, baseline_pred, _ = _notebook_01()
    return group_audit_table(heart["disease"], baseline_pred, sensitive_features=heart[["sex", "age_band"]],
                             random_state=0)


def heart_balanced_audit_by_sex() -> pd.DataFrame:
    """01 §7: the re-weighted baseline's out-of-fold audit by sex (1,000 resamples)."""
    heart, _, _, balanced_pred = _notebook_01()
    return group_audit_table(heart["disease"], balanced_pred, sensitive_features=heart["sex"], random_state=0)


def _paired_auc_change(y_true: np.ndarray, before: np.ndarray, after: np.ndarray, *, n_boot: int,
                       random_state) -> tuple[float, float, float]:
    """AUC(after) - AUC(before) on the same patients, with a paired percentile interval.

    Both models are measured by :func:`rates_on_resamples` with the same ``random_state``, hence on the same
    resamples of the patients: the interval is that of the paired difference.
    """
    everyone = np.zeros(len(y_true), dtype=int)

    def resampled_auc(scores):
        return rates_on_resamples(y_true, (scores >= 0.5).astype(int), everyone, 1, y_score=scores, n_boot=n_boot,
                                  random_state=random_state)["auc"][:, 0]

    change = roc_auc_score(y_true, after) - roc_auc_score(y_true, before)
    low, high = percentile_intervals((resampled_auc(after) - resampled_auc(before))[:, None], np.array([change]), 0.95)
    return float(change), float(low[0]), float(high[0])


def heart_missing_indicators_by_site() -> pd.DataFrame:
    """01 §5: the baseline with and without missing-value indicators, per site and pooled (2,000 paired resamples).

    One row per site, then ``"all four sites"``: ``n``, ``with_disease``, ``prevalence``, the out-of-fold AUC
    ``auc_with`` (indicators) and ``auc_without`` (the course's baseline), ``auc_change`` = without - with and its
    paired 95 % interval (each row's patients resampled with replacement, both models scored on the same resample;
    ``random_state=0``), and the patients with disease missed at the 0.5 threshold by each model.
    """
    heart, baseline_scores, baseline_pred, _ = _notebook_01()
    indicator_scores = load_heart_predictions()["indicator_score"].to_numpy()
    y_true = heart["disease"].to_numpy(int)
    groups = [(site, (heart["site"] == site).to_numpy()) for site in heart["site"].cat.categories]
    rows = {}
    for name, members in [*groups, ("all four sites", np.ones(len(heart), dtype=bool))]:
        outcome, without, with_ = y_true[members], baseline_scores[members], indicator_scores[members]
        change, low, high = _paired_auc_change(outcome, with_, without, n_boot=2000, random_state=0)
        rows[name] = {"n": int(members.sum()), "with_disease": int(outcome.sum()), "prevalence": outcome.mean(),
                      "auc_with": roc_auc_score(outcome, with_), "auc_without": roc_auc_score(outcome, without),
                      "auc_change": change, "change_ci_low": low, "change_ci_high": high,
                      "missed_with": int(((with_ < 0.5) & (outcome == 1)).sum()),
                      "missed_without": int(((without < 0.5) & (outcome == 1)).sum())}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "site"
    return table


@lru_cache(maxsize=1)
def _notebook_02():
    """02a and 02b §0: the validation patients, the baseline's validation scores, the sweep with sex and outcome."""
    inputs = load_heart_model_inputs()
    features = inputs.columns.drop(["patient_id", "split", "sex", "age_band", "disease"])
    train, validation = (inputs[inputs["split"] == name] for name in ("train", "validation"))
    baseline = LogisticRegression(max_iter=1000).fit(train[features], train["disease"])
    validation_score = baseline.predict_proba(validation[features])[:, 1]
    predictions = load_debiasing_predictions().merge(inputs[["patient_id", "sex", "disease"]], on="patient_id")
    return validation, validation_score, predictions


def heart_validation_audit_by_sex() -> pd.DataFrame:
    """02a §2: the baseline on the validation patients by sex, with AUC (1,000 resamples)."""
    validation, validation_score, _ = _notebook_02()
    return group_audit_table(validation["disease"], (validation_score >= 0.5).astype(int),
                             sensitive_features=validation["sex"], y_score=validation_score, random_state=0)


def heart_validation_audit_by_age() -> pd.DataFrame:
    """02a §2: the baseline on the validation patients by age band, with AUC (1,000 resamples)."""
    validation, validation_score, _ = _notebook_02()
    return group_audit_table(validation["disease"], (validation_score >= 0.5).astype(int),
                             sensitive_features=validation["age_band"], y_score=validation_score, random_state=0)


def heart_validation_audit_by_age_and_sex() -> pd.DataFrame:
    """02a §2: the baseline on the validation patients by age band x sex, every combination, small groups flagged."""
    validation, validation_score, _ = _notebook_02()
    return group_audit_table(validation["disease"], (validation_score >= 0.5).astype(int),
                             sensitive_features=validation[["age_band", "sex"]], random_state=0)


def _age_group(age_band: pd.Series) -> np.ndarray:
    """Under 50 / 50 and over: the two age groups with enough patients with disease to compare."""
    return np.where(age_band.astype(str).isin(["<40", "40-49"]), "under 50", "50 and over")


def _exact_mcnemar(patients: np.ndarray, worse: np.ndarray, better: np.ndarray) -> float:
    """The exact McNemar p-value of a change among ``patients``: the changed ones, split by direction (NaN if none)."""
    changed_worse, changed_better = int((patients & worse).sum()), int((patients & better).sum())
    total = changed_worse + changed_better
    return float(binomtest(changed_worse, total).pvalue) if total else float("nan")


def heart_validation_age_thresholds() -> pd.DataFrame:
    """02a §2: group thresholds by age group (under 50 / 50 and over), cross-fitted on the validation patients.

    As the sweep judges group thresholds by sex: fairlearn's ``ThresholdOptimizer`` (TPR parity, balanced accuracy)
    on the baseline's scores, fitted on four fifths of the validation patients (5 folds stratified by disease x age
    group, shuffled, ``random_state=0``) to decide the fifth.  One row per age group: patients, with disease, missed
    and false alarms for the baseline at 0.5 and for the age thresholds, and the exact McNemar p-value of each change
    (the patients whose decision changed, split by direction).
    """
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.model_selection import StratifiedKFold

    inputs = load_heart_model_inputs()
    features = inputs.columns.drop(["patient_id", "split", "sex", "age_band", "disease"])
    train, validation = (inputs[inputs["split"] == name] for name in ("train", "validation"))
    with threadpool_limits(1):
        baseline = LogisticRegression(max_iter=1000).fit(train[features].to_numpy(), train["disease"].to_numpy(int))
        X, y = validation[features].to_numpy(), validation["disease"].to_numpy(int)
        age = _age_group(validation["age_band"])
        before = (baseline.predict_proba(X)[:, 1] >= 0.5).astype(int)
        after = np.zeros(len(y), dtype=int)
        strata = np.char.add(y.astype(str), age.astype(str))
        for fit_rows, decide_rows in StratifiedKFold(5, shuffle=True, random_state=0).split(X, strata):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # fairlearn's notes on feature names say nothing here
                thresholds = ThresholdOptimizer(estimator=baseline, prefit=True, predict_method="predict_proba",
                                                constraints="true_positive_rate_parity",
                                                objective="balanced_accuracy_score").fit(
                    X[fit_rows], y[fit_rows], sensitive_features=age[fit_rows])
                after[decide_rows] = thresholds.predict(X[decide_rows], sensitive_features=age[decide_rows],
                                                        random_state=0)
    rows = {}
    for group in ("under 50", "50 and over"):
        sick, healthy = (age == group) & (y == 1), (age == group) & (y == 0)
        rows[group] = {"n": int((age == group).sum()), "with_disease": int(sick.sum()),
                       "missed_before": int((sick & (before == 0)).sum()), "missed_after": int((sick & (after == 0)).sum()),
                       "missed_p": _exact_mcnemar(sick, (before == 1) & (after == 0), (before == 0) & (after == 1)),
                       "without_disease": int(healthy.sum()),
                       "alarms_before": int((healthy & (before == 1)).sum()),
                       "alarms_after": int((healthy & (after == 1)).sum()),
                       "alarms_p": _exact_mcnemar(healthy, (before == 0) & (after == 1), (before == 1) & (after == 0))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "age_group"
    return table


def calibration_intercept_slope(y_true: ArrayLike, y_prob: ArrayLike, *, confidence_level: float = 0.95) -> dict:
    """Calibration-in-the-large (intercept, log-odds offset fixed) and slope (logistic recalibration), Wald intervals.

    The intercept a solves sum(y - expit(a + logit p)) = 0 (Brent's root finder); the slope is b in
    logit P(y = 1) = c + b logit p, fitted by unpenalised logistic regression.  0 and 1 mean well calibrated: a < 0
    says the scores over-state the risk, b < 1 that they are too extreme.
    """
    from scipy.optimize import brentq
    from scipy.special import expit, logit
    from scipy.stats import norm

    y = np.asarray(y_true, dtype=float)
    offset = logit(np.clip(np.asarray(y_prob, dtype=float), 1e-12, 1 - 1e-12))
    z = norm.ppf((1 + confidence_level) / 2)
    # the intercept's score equation is monotone in a: one root, bracketed far beyond any real miscalibration
    a = brentq(lambda shift: float(np.sum(y - expit(shift + offset))), -30.0, 30.0, xtol=1e-14)
    a_se = 1 / np.sqrt(np.sum(expit(a + offset) * (1 - expit(a + offset))))
    with threadpool_limits(1):
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(offset[:, None], y.astype(int))
    c, b = float(fit.intercept_[0]), float(fit.coef_[0, 0])
    q = expit(c + b * offset)
    design = np.column_stack([np.ones_like(offset), offset])
    b_se = float(np.sqrt(np.linalg.inv(design.T @ (design * (q * (1 - q))[:, None]))[1, 1]))
    return {"intercept": float(a), "intercept_ci_low": float(a - z * a_se), "intercept_ci_high": float(a + z * a_se),
            "slope": b, "slope_ci_low": b - z * b_se, "slope_ci_high": b + z * b_se}


def _crossfit_patients(predictions: pd.DataFrame) -> pd.DataFrame:
    """The non-test patients as the cross-fitted rows hold them: patient_id, sex and disease, in patient order."""
    rows = predictions[(predictions["split"] == "crossfit") & (predictions["method"] == "baseline")]
    return rows[["patient_id", "sex", "disease"]].sort_values("patient_id").reset_index(drop=True)


def heart_crossfit_calibration_by_sex() -> pd.DataFrame:
    """02b §4: calibration intercept and slope by sex on the 690 non-test patients, cross-fitted, for the baseline and
    re-weighing.

    Rows (setting, sex) for the baseline (whose scores group thresholds also use: post-processing leaves them as
    they are) and re-weighing at strengths 0.75 and 1, from the course's sweep; 95 % Wald intervals.
    """
    _, _, predictions = _notebook_02()
    patients = _crossfit_patients(predictions)
    rows = {}
    for label, method, value in (("baseline", "baseline", None), ("reweighing 0.75", "reweighing", 0.75),
                                 ("reweighing 1", "reweighing", 1.0)):
        mine = predictions[(predictions["split"] == "crossfit") & (predictions["method"] == method)]
        if value is not None:
            mine = mine[mine["value"] == value]
        mine = mine.set_index("patient_id").loc[patients["patient_id"]]
        for sex in ("Female", "Male"):
            members = (patients["sex"] == sex).to_numpy()
            rows[(label, sex)] = {"n": int(members.sum()),
                                  "mean_score": float(mine["score"].to_numpy()[members].mean()),
                                  "observed": float(patients["disease"].to_numpy()[members].mean()),
                                  **calibration_intercept_slope(patients["disease"].to_numpy()[members],
                                                                mine["score"].to_numpy()[members])}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["setting", "sex"]
    return table


def heart_crossfit_sweep() -> pd.DataFrame:
    """02b §4: every setting of the sweep, cross-fitted over the 690 non-test patients, with paired intervals (1,000
    resamples)."""
    _, _, predictions = _notebook_02()
    return evaluate_predictions(predictions[predictions["split"] == "crossfit"],
                                setting_cols=["method", "value", "seed"], outcome_col="disease", score_col="score",
                                decision_col="decision", group_col="sex", patient_col="patient_id")


def chosen_setting() -> tuple[str, float]:
    """(method, value) the notebook's stated rule chooses on the cross-fitted sweep: each setting at its worst seed;
    FNR gap at most MAX_GAP, AUC at most MAX_AUC_LOSS below the baseline's; the highest AUC, ties to the smaller gap."""
    from course_utils.exercises.questions.debiasing import MAX_AUC_LOSS, MAX_GAP

    sweep = heart_crossfit_sweep().reset_index()
    worst = sweep.sort_values("fnr_gap", ascending=False, kind="stable").drop_duplicates(["method", "value"])
    floor = float(sweep.loc[sweep["method"] == "baseline", "auc"].iloc[0]) - MAX_AUC_LOSS
    eligible = worst[(worst["fnr_gap"] <= MAX_GAP) & (worst["auc"] >= floor)]
    best = eligible.sort_values(["auc", "fnr_gap"], ascending=[False, True], kind="stable").iloc[0]
    return str(best["method"]), float(best["value"])


def heart_chosen_test_audit_by_sex() -> pd.DataFrame:
    """02b §6: the setting the rule chose, fitted on the train patients, on the test patients by sex (1,000
    resamples)."""
    _, _, predictions = _notebook_02()
    method, value = chosen_setting()
    report = predictions[predictions["split"] == "test"].sort_values("patient_id")
    chosen_test = report[(report["method"] == method) & (report["value"] == value)]
    return group_audit_table(chosen_test["disease"], chosen_test["decision"], sensitive_features=chosen_test["sex"],
                             random_state=0)


def heart_audit_by_fasting_sugar() -> pd.DataFrame:
    """02a §4: the baseline's out-of-fold audit by fasting blood sugar (> 120 mg/dl or not), with AUC (1,000 resamples)."""
    heart = load_heart().assign(score=load_heart_predictions()["baseline_score"].to_numpy())
    status = heart["fasting_blood_sugar_high"].map({True: "FBS > 120", False: "FBS <= 120"})
    heart["status"] = status.astype(object).where(status.notna(), "not recorded")
    return group_audit_table(heart["disease"], (heart["score"] >= 0.5).astype(int), sensitive_features=heart["status"],
                             y_score=heart["score"], random_state=0)


@lru_cache(maxsize=1)
def _cohort_03() -> pd.DataFrame:
    """Notebook 03's cohort (20,000 patients, seed 0), made once for every table built from it."""
    with threadpool_limits(1):
        return make_readmission_cohort(n=20000, random_state=0)


@lru_cache(maxsize=1)
def _notebook_03():
    """Notebook 03 §3: the model under review, its validation half with scores and flags, and its threshold."""
    from sklearn.compose import ColumnTransformer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cohort = _cohort_03()
    with threadpool_limits(1):  # as the notebook runs: one thread, the same results on every machine
        numeric, categorical = ["chronic_conditions", "prior_utilisation"], ["age_band", "sex", "payer"]
        features = numeric + categorical
        train, test = train_test_split(cohort, test_size=0.5, random_state=0, stratify=cohort["readmitted_30d"])
        risk_model = make_pipeline(
            ColumnTransformer([("numeric", StandardScaler(), numeric), ("categorical", OneHotEncoder(), categorical)]),
            LogisticRegression(max_iter=1000),
        ).fit(train[features], train["readmitted_30d"])
        validation = test.assign(risk_score=risk_model.predict_proba(test[features])[:, 1])
        threshold = float(np.quantile(validation["risk_score"], 0.90))
        validation["flagged"] = (validation["risk_score"] >= threshold).astype(int)
    return risk_model, features, validation, threshold


def readmission_enrolment_by_label() -> pd.DataFrame:
    """03 §2: each patient's auto-enrolment (the top 3 % of scores) by gradient-boosted trees trained on cost and on need.

    One row per patient of the cohort, in its order; the same trees as the learner's label-choice audit is run
    with (``HistGradientBoostingRegressor(random_state=0)``, the five label features one-hot encoded), ties broken
    by the earlier row.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    cohort = _cohort_03()
    with threadpool_limits(1):
        X = pd.get_dummies(cohort[["age_band", "sex", "payer", "chronic_conditions", "prior_utilisation"]],
                           columns=["age_band", "sex", "payer"]).astype(float)  # X_label, as the notebook builds it
        enrolled = {}
        for name, column in {"cost": "cost", "need": "chronic_conditions_next_year"}.items():
            score = HistGradientBoostingRegressor(random_state=0).fit(X, cohort[column]).predict(X)
            enrolled[name] = pd.Series(score).rank(method="first", ascending=False).le(0.03 * len(cohort)).to_numpy()
    return pd.DataFrame(enrolled)


def readmission_validation_audit_by_race() -> pd.DataFrame:
    """03 §3: the readmission model on its validation half by race, with AUC (500 resamples)."""
    _, _, validation, _ = _notebook_03()
    with threadpool_limits(1):
        return group_audit_table(validation["readmitted_30d"], validation["flagged"],
                                 sensitive_features=validation["race"].astype(str), y_score=validation["risk_score"],
                                 n_boot=500, random_state=0)


def readmission_validation_audit_by_race_and_sex() -> pd.DataFrame:
    """03 §3: the readmission model on its validation half by race x sex, small groups flagged (500 resamples)."""
    return _readmission_intersections("sex")


def readmission_validation_audit_by_race_and_payer() -> pd.DataFrame:
    """03 §3: the readmission model on its validation half by race x payer, small groups flagged (500 resamples)."""
    return _readmission_intersections("payer")


def _readmission_intersections(column: str) -> pd.DataFrame:
    _, _, validation, _ = _notebook_03()
    groups = validation[["race", column]].astype(str)
    with threadpool_limits(1):
        return group_audit_table(validation["readmitted_30d"], validation["flagged"], sensitive_features=groups,
                                 n_boot=500, random_state=0)


def readmission_deployment_by_month() -> pd.DataFrame:
    """03 §9: the simulated deployment year (DEFAULT_DRIFT, seed 1) month by month and race (500 resamples)."""
    risk_model, features, _, threshold = _notebook_03()
    with threadpool_limits(1):
        year = make_readmission_cohort(n=12000, random_state=1, drift=DEFAULT_DRIFT)
        deployed = simulate_deployment(risk_model, year, feature_cols=features, period_col="month", threshold=threshold)
        return metrics_by_period(deployed, period_col="month", group_col="race", outcome_col="readmitted_30d",
                                 prediction_col="flagged", n_boot=500, progress=False)


#: Every shipped table: its name (``data/<name>.parquet``, :data:`course_utils.data.COURSE_TABLES`) and its builder.
TABLES: dict[str, Callable[[], pd.DataFrame]] = {
    builder.__name__: builder for builder in (
        heart_baseline_audit_by_sex, heart_missing_indicators_by_site, heart_baseline_audit_by_sex_and_age,
        heart_balanced_audit_by_sex, heart_validation_audit_by_sex, heart_validation_audit_by_age,
        heart_validation_audit_by_age_and_sex, heart_validation_age_thresholds, heart_crossfit_calibration_by_sex,
        heart_crossfit_sweep, heart_chosen_test_audit_by_sex, heart_audit_by_fasting_sugar,
        readmission_enrolment_by_label, readmission_validation_audit_by_race, readmission_validation_audit_by_race_and_sex,
        readmission_validation_audit_by_race_and_payer, readmission_deployment_by_month,
    )
}


def build_tables(names: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The shipped tables computed afresh from the shipped data: ``{name: DataFrame}`` (all of them by default)."""
    names = list(TABLES) if names is None else list(names)
    unknown = [name for name in names if name not in TABLES]
    if unknown:
        raise ValueError(f"no course table called {unknown}; the tables are {list(TABLES)}.")
    return {name: TABLES[name]() for name in names}


def table_bytes(table: pd.DataFrame) -> bytes:
    """A table as the Parquet bytes the course ships (fastparquet, no compression: the same bytes on every build)."""
    buffer = io.BytesIO()
    table.to_parquet(buffer, engine="fastparquet", compression=None)
    return buffer.getvalue()
