"""The course's one bootstrap: resample the patients, count every resample at once, take percentile intervals.

:func:`course_utils.metrics.group_audit_table`, :func:`course_utils.monitoring.metrics_by_period`
and :func:`course_utils.tradeoff.evaluate_predictions` all take their intervals from here, so every
interval in the course is drawn, computed and widened the same way.

* **Resamples.** The patients are drawn with replacement from the whole sample (not within each
  group, so a group's size varies as it would in a new sample): resample ``b`` is row ``b`` of
  ``numpy.random.default_rng(random_state).integers(0, n, size=(n_boot, n))``.  This is the
  resampling of fairlearn's ``MetricFrame(n_boot=...)``.
* **Counting.** fairlearn's ``MetricFrame(n_boot=...)`` calls every metric function on every
  resample and group, 30-90 ms per resample on the heart data (scikit-learn's input checks
  dominate).  Every rate here is a ratio of confusion counts, and AUC is a count of (positive,
  negative) pairs, so all resamples are counted at once with :func:`numpy.bincount`: 1000
  resamples of ~1000 patients take a fraction of a second.  Undefined is NaN throughout (a 0 / 0
  division), which is how a resample is left out of a group's interval.
* **Intervals.** The ``(1 - confidence_level) / 2`` and ``(1 + confidence_level) / 2`` quantiles
  of the defined resamples (:func:`numpy.nanquantile`, linear interpolation).  A percentile
  interval of a small or skewed group, or of a gap near 0, can exclude the estimate itself;
  it is then widened to include it, which is conservative and keeps ``low <= estimate <= high``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np

#: Resamples used where a function has a default: enough for interval ends stable to two decimals.
DEFAULT_N_BOOT = 1000

#: The fewest resamples an interval may rest on (the course's rule for intervals you report).
MIN_N_BOOT = 500

#: The rate metrics, in table order, that :func:`rates_on_resamples` computes.
RATE_METRICS = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "ppv", "auc")

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
