"""Weigh performance against disparity: evaluate a grid of mitigations, find and draw the Pareto front.

evaluate_grid            fit every (method, knob) for every seed; held-out AUC, accuracy, FNR per
                         group and FNR gap, with bootstrap intervals for AUC and FNR gap
pareto_front             the rows no other row beats on both AUC and FNR gap
plot_pareto              all points with their intervals, the front drawn as a line
select_point             the row a stated rule picks ("highest AUC with gap <= 0.05", ...)
missed_diagnoses_per_1000  a point in clinical terms, by group, against the baseline

The FNR (false-negative rate) is the share of patients *with* disease whom the model calls
healthy: a missed diagnosis.  The FNR gap is ``|FNR_group1 - FNR_group2|`` for the two groups
of the sensitive feature.

Examples
--------
>>> import pandas as pd
>>> from course_utils.tradeoff import pareto_front, select_point
>>> results = pd.DataFrame({"method": ["baseline", "reweighing", "threshold", "adversarial"],
...                         "auc": [0.88, 0.87, 0.88, 0.85], "fnr_gap": [0.15, 0.03, 0.02, 0.06]})
>>> pareto_front(results)["method"].tolist()
['threshold']
>>> select_point(results, "smallest_gap_within_auc", 0.02)["method"]
'threshold'
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, false_negative_rate
from scipy.stats import rankdata
from sklearn.metrics import accuracy_score, roc_auc_score

from course_utils.mitigation import make_mitigator
from course_utils.plots import METHOD_COLOURS, plot_tradeoff  # the course's colours live in plots

__all__ = [
    "METHOD_COLOURS",
    "RULES",
    "evaluate_grid",
    "pareto_front",
    "plot_pareto",
    "select_point",
    "missed_diagnoses_per_1000",
]

# Methods whose fitted model depends on the seed (the others are fitted once per knob).
_SEED_DEPENDENT = {"adversarial"}

# Bounds in select_point are compared with this slack, so that 0.88 - 0.02 admits an AUC of 0.86.
_ROUNDING = 1e-12

#: The rules :func:`select_point` knows.
RULES = ("highest_auc_within_gap", "smallest_gap_within_auc")

_AXIS_LABELS = {
    "auc": "overall AUC on held-out patients (0.5 = chance, 1 = perfect)",
    "accuracy": "overall accuracy on held-out patients (proportion)",
    "fnr_gap": "FNR gap between groups, |FNR difference| (proportion of patients with disease)",
}


# --------------------------------------------------------------------------- evaluating a grid


def _grid_pairs(grid):
    """(method, knob) pairs from a dict {method: [knobs]} or an iterable of pairs, checked early."""
    if isinstance(grid, dict):
        pairs = []
        for method, knobs in grid.items():
            if knobs is None or isinstance(knobs, numbers.Real):
                knobs = [knobs]
            pairs.extend((method, knob) for knob in knobs)
    else:
        try:
            pairs = [tuple(pair) for pair in grid]
        except TypeError:
            raise TypeError(
                "methods_and_knobs should be a dict {method: [knob, ...]} or a list of (method, knob) "
                f"pairs; got {type(grid).__name__}."
            ) from None
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("methods_and_knobs should be a list of (method, knob) pairs, two items each.")
    if not pairs:
        raise ValueError("methods_and_knobs is empty: give at least one (method, knob) pair.")
    # Build each model once now, so a typo fails before a long loop, not in the middle of it.
    return [(method, make_mitigator(method, knob).knob) for method, knob in pairs]


def _seed_list(seeds):
    seeds = [seeds] if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool) else list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in seeds):
        raise TypeError(f"seeds should be a whole number or a non-empty list of whole numbers; got {seeds!r}.")
    return [int(s) for s in seeds]


def _fnr_or_nan(y_true, y_pred):
    # fairlearn returns a silent 0.0 for a group with no patients with disease; undefined is NaN.
    return false_negative_rate(y_true, y_pred, pos_label=1) if np.any(np.asarray(y_true) == 1) else np.nan


def _bootstrap_auc_and_gap(y, score, pred, group_codes, n_boot, rng):
    """AUC and FNR gap on ``n_boot`` resamples of the patients (rows drawn with replacement).

    fairlearn's ``MetricFrame(n_boot=...)`` does the same resampling, but took ~29 ms per
    resample here for AUC, accuracy and FNR (scikit-learn's input checks dominate), i.e. ~6 s
    per grid point at 200 resamples; this vectorised version takes ~30 ms for all 200.  It uses
    the textbook formulas (AUC as the Mann-Whitney rank statistic with ties counted half, FNR as
    missed / with disease), and tests/test_tradeoff.py checks that on the unresampled data they
    equal scikit-learn's ``roc_auc_score`` and fairlearn's ``false_negative_rate``.
    """
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    yb, sb, pb, gb = y[idx], score[idx], pred[idx], group_codes[idx]
    positives = yb == 1
    n_pos, n_neg = positives.sum(axis=1), (~positives).sum(axis=1)
    ranks = rankdata(sb, axis=1)  # average ranks for ties
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = ((ranks * positives).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        missed = positives & (pb == 0)
        fnr = [(missed & (gb == g)).sum(axis=1) / (positives & (gb == g)).sum(axis=1) for g in (0, 1)]
    auc[(n_pos == 0) | (n_neg == 0)] = np.nan
    return auc, np.abs(fnr[0] - fnr[1])


def _interval(samples, point, confidence_level):
    alpha = (1 - confidence_level) / 2
    if np.isnan(point) or np.all(np.isnan(samples)):
        return np.nan, np.nan
    low, high = np.nanquantile(samples, [alpha, 1 - alpha])
    # A gap near 0 has a skewed bootstrap distribution (|difference| cannot go below 0), so the
    # percentile interval can miss the estimate; widen it to include the estimate, as
    # course_utils.metrics.group_audit_table does.
    return float(min(low, point)), float(max(high, point))


def _evaluate_one(y, score, pred, sensitive, groups, n_boot, confidence_level, random_state):
    frame = MetricFrame(metrics=_fnr_or_nan, y_true=y, y_pred=pred, sensitive_features=sensitive)
    fnr_by_group = frame.by_group.reindex(groups)
    row = {
        "auc": roc_auc_score(y, score),
        "accuracy": accuracy_score(y, pred),
        "fnr": _fnr_or_nan(y, pred),
        **{f"fnr_{g}": float(fnr_by_group[g]) for g in groups},
        # between two groups fairlearn's "between_groups" difference is |FNR_a - FNR_b|; NaN if
        # either group's FNR is undefined.
        "fnr_gap": float(abs(fnr_by_group.iloc[0] - fnr_by_group.iloc[1])),
    }
    codes = (np.asarray(sensitive) == groups[1]).astype(int)
    auc_samples, gap_samples = _bootstrap_auc_and_gap(
        y, score, pred, codes, n_boot, np.random.default_rng(random_state)
    )
    row["auc_ci_low"], row["auc_ci_high"] = _interval(auc_samples, row["auc"], confidence_level)
    row["fnr_gap_ci_low"], row["fnr_gap_ci_high"] = _interval(gap_samples, row["fnr_gap"], confidence_level)
    return row


def evaluate_grid(methods_and_knobs, seeds, X_train, y_train, s_train, X_test, y_test, s_test, *,
                  privileged="Male", n_boot=200, confidence_level=0.95, random_state=0, progress=True):
    """Fit every mitigation setting for every seed and measure it on held-out patients.

    Parameters
    ----------
    methods_and_knobs : dict or list of (method, knob)
        E.g. ``{"baseline": [None], "reweighing": [0.5, 1.0], "threshold": [0.02, 0.1]}``, or
        ``[("baseline", None), ("adversarial", 0.1)]``.  Methods and knob ranges as in
        :func:`course_utils.mitigation.make_mitigator`; all are checked before anything is fitted.
    seeds : int or list of int
        Model seeds; each setting is fitted once per seed (only the adversarial model is random;
        the others give the same row for every seed).
    X_train, y_train, s_train : DataFrame, 0/1 labels, groups
        Training patients: features, outcome, sensitive feature (two groups).
    X_test, y_test, s_test : DataFrame, 0/1 labels, groups
        Held-out patients the metrics are computed on.
    privileged : object, default "Male"
        The privileged group's value in ``s_train`` / ``s_test``.
    n_boot : int, default 200
        Bootstrap resamples of the held-out patients for the intervals.
    confidence_level : float, default 0.95
    random_state : int, default 0
        Seed of the bootstrap.  Every row uses the same resamples, so rows are compared on
        the same patients.
    progress : bool, default True
        Show a progress bar (tqdm).  Use False where output must be reproducible (nbval).

    Returns
    -------
    pandas.DataFrame
        One row per (method, knob, seed): ``method``, ``knob`` (NaN for the baseline),
        ``seed``, ``auc`` with ``auc_ci_low`` / ``auc_ci_high``, ``accuracy``, ``fnr`` (all
        patients), ``fnr_<group>`` for each group, ``fnr_gap`` with ``fnr_gap_ci_low`` /
        ``fnr_gap_ci_high``.  Scores for AUC come from ``predict_proba``, decisions for
        accuracy and FNR from ``predict``.

    Notes
    -----
    Intervals are percentile bootstrap intervals: held-out patients are resampled with
    replacement, resamples in which a metric is undefined are left out, and an interval that
    would exclude its estimate (possible for a gap near 0) is widened to include it.
    Only ``"adversarial"`` depends on the seed; the other methods are fitted once per knob
    and their row is repeated for every seed (saving ~1 s per seed for ``"threshold"``).  With ~12 women with
    disease in a 25 % held-out split of the heart data, one woman moves her group's FNR by
    8 points, so expect wide FNR-gap intervals.

    Examples
    --------
    >>> from sklearn.model_selection import train_test_split
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> train, test = train_test_split(heart, test_size=0.25, random_state=0, stratify=heart["disease"])
    >>> table = evaluate_grid({"baseline": None, "reweighing": [1.0]}, seeds=0,
    ...                       X_train=train, y_train=train["disease"], s_train=train["sex"],
    ...                       X_test=test, y_test=test["disease"], s_test=test["sex"],
    ...                       n_boot=50, progress=False)
    >>> table[["method", "auc", "fnr_Female", "fnr_Male", "fnr_gap"]].round(3)
           method    auc  fnr_Female  fnr_Male  fnr_gap
    0    baseline  0.904       0.077     0.167    0.090
    1  reweighing  0.874       0.077     0.219    0.142
    """
    pairs = _grid_pairs(methods_and_knobs)
    seeds = _seed_list(seeds)
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 10:
        raise ValueError(f"n_boot should be a whole number of resamples, at least 10; got {n_boot!r}.")
    if not isinstance(confidence_level, numbers.Real) or not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level should be between 0 and 1 (e.g. 0.95); got {confidence_level!r}.")
    y_test_array = np.asarray(y_test).astype(int)
    s_test_array = np.asarray(s_test)
    if len(y_test_array) != len(X_test) or len(s_test_array) != len(X_test):
        raise ValueError(
            "X_test, y_test and s_test need one entry per held-out patient, but the lengths differ: "
            f"{len(X_test)}, {len(y_test_array)}, {len(s_test_array)}."
        )
    groups = sorted(pd.unique(np.asarray(s_train)).tolist(), key=lambda g: (g == privileged, str(g)))

    # The same sweep asked twice in one session (a notebook cell, then its check) is fitted once.
    memo_key = (tuple(pairs), tuple(seeds), privileged, int(n_boot), float(confidence_level), random_state,
                _fingerprint(X_train, y_train, s_train, X_test, y_test, s_test))
    if memo_key in _SWEEPS:
        return _SWEEPS[memo_key].copy()
    jobs = [(method, knob, seed) for method, knob in pairs for seed in seeds]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="fitting models", unit="model")
    rows, done = [], {}
    for method, knob, seed in jobs:
        key = (method, knob, seed if method in _SEED_DEPENDENT else None)
        if key not in done:
            model = make_mitigator(method, knob, privileged=privileged, random_state=seed)
            model.fit(X_train, y_train, s_train)
            score = model.predict_proba(X_test, s_test)[:, 1]
            pred = model.predict(X_test, s_test)
            done[key] = _evaluate_one(y_test_array, score, pred, s_test_array, groups, n_boot,
                                      confidence_level, random_state)
        metrics = done[key]
        rows.append({"method": method, "knob": np.nan if knob is None else knob, "seed": seed, **metrics})
    columns = ["method", "knob", "seed", "auc", "auc_ci_low", "auc_ci_high", "accuracy", "fnr",
               *[f"fnr_{g}" for g in groups], "fnr_gap", "fnr_gap_ci_low", "fnr_gap_ci_high"]
    _SWEEPS[memo_key] = pd.DataFrame(rows, columns=columns)
    return _SWEEPS[memo_key].copy()


#: Results of earlier sweeps in this session, by their exact inputs (see evaluate_grid).
_SWEEPS = {}


def _fingerprint(*datasets):
    """A digest of the data's values and index: equal digests mean the same patients and values."""
    digest = hashlib.sha256()
    for data in datasets:
        frame = data if isinstance(data, (pd.DataFrame, pd.Series)) else pd.Series(np.asarray(data))
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- the Pareto front


def _check_columns(df, *columns):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df should be the DataFrame from evaluate_grid; got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"df has no column {missing[0]!r}; columns are {list(df.columns)}.")


def pareto_front(df, maximise="auc", minimise="fnr_gap"):
    """The rows that no other row beats on both objectives (the Pareto front).

    A row is *dominated* if another row is at least as good on both objectives and strictly
    better on one (higher ``maximise``, lower ``minimise``).

    Parameters
    ----------
    df : pandas.DataFrame
        E.g. the table from :func:`evaluate_grid`.
    maximise : str, default "auc"
        Column where higher is better.
    minimise : str, default "fnr_gap"
        Column where lower is better.

    Returns
    -------
    pandas.DataFrame
        The non-dominated rows with their original index, sorted from the smallest
        ``minimise`` (and lowest ``maximise``) to the largest.

    Notes
    -----
    Deterministic handling of ties: rows with exactly the same pair of values do not dominate
    each other; the front keeps the *first* of them in ``df``'s order and drops the others (so
    two seeds giving identical results appear once).  Two rows equal on one objective and
    different on the other are not ties: the worse one is dominated.  Rows with NaN in either
    column are left out (an undefined metric cannot be compared).

    Examples
    --------
    >>> import pandas as pd
    >>> points = pd.DataFrame({"auc": [0.88, 0.86, 0.86, 0.80, 0.88], "fnr_gap": [0.15, 0.05, 0.05, 0.10, 0.20]})
    >>> pareto_front(points)
        auc  fnr_gap
    1  0.86     0.05
    0  0.88     0.15
    """
    _check_columns(df, maximise, minimise)
    values = df[[maximise, minimise]].apply(pd.to_numeric, errors="coerce")
    valid = values.dropna()
    # Best maximise first; among equals, best minimise first; a stable sort keeps df's order
    # among exact duplicates.  Sweeping down, a row is on the front exactly when its minimise
    # value is strictly below every row before it (any earlier row with a value <= its own
    # either dominates it or duplicates it).
    order = valid.sort_values([maximise, minimise], ascending=[False, True], kind="stable")
    keep, best = [], np.inf
    for label, low in zip(order.index, order[minimise].to_numpy()):
        if low < best:
            keep.append(label)
            best = low
    front = df.loc[keep]
    return front.iloc[::-1]


# --------------------------------------------------------------------------- plotting


def plot_pareto(df, front=None, *, maximise="auc", minimise="fnr_gap", ax=None, title=None):
    """Draw every row as a point with its interval, coloured by method, and the Pareto front.

    The colours and markers are the course's (:data:`course_utils.plots.METHOD_COLOURS`); the
    drawing is :func:`course_utils.plots.plot_tradeoff`.

    Parameters
    ----------
    df : pandas.DataFrame
        The table from :func:`evaluate_grid` (needs ``method``, the two objective columns and,
        for error bars, their ``_ci_low`` / ``_ci_high`` columns).
    front : pandas.DataFrame, optional
        The front to draw; default ``pareto_front(df, maximise, minimise)``.
    maximise, minimise : str
        The objective columns: ``minimise`` on the x axis, ``maximise`` on the y axis.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> points = pd.DataFrame({"method": ["baseline", "threshold"], "auc": [0.88, 0.88],
    ...                        "fnr_gap": [0.15, 0.02]})
    >>> ax = plot_pareto(points)
    >>> ax.get_xlabel()
    'FNR gap between groups, |FNR difference| (proportion of patients with disease)'
    """
    _check_columns(df, "method", maximise, minimise)
    front = pareto_front(df, maximise, minimise) if front is None else front
    return plot_tradeoff(df, front, maximise=maximise, minimise=minimise, ax=ax, title=title,
                         xlabel=_AXIS_LABELS.get(minimise, minimise), ylabel=_AXIS_LABELS.get(maximise, maximise))


# --------------------------------------------------------------------------- choosing a point


def select_point(df, rule, limit, *, performance="auc", disparity="fnr_gap"):
    """The row a stated rule picks.

    Parameters
    ----------
    df : pandas.DataFrame
        The table from :func:`evaluate_grid` (or any table with the two columns).
    rule : {"highest_auc_within_gap", "smallest_gap_within_auc"}
        ``"highest_auc_within_gap"``: the highest ``performance`` among rows with
        ``disparity <= limit`` (e.g. "highest AUC with FNR gap <= 0.05"); ties go to the smaller
        disparity.  ``"smallest_gap_within_auc"``: the smallest ``disparity`` among rows whose
        ``performance`` is within ``limit`` of the best (e.g. "smallest gap with AUC within 0.02
        of the best"); ties go to the higher performance.  Remaining ties: the first row.
    limit : float
        The rule's bound, >= 0.
    performance, disparity : str
        Column names; default ``"auc"`` and ``"fnr_gap"``.

    Returns
    -------
    pandas.Series
        The chosen row; its ``name`` is its index in ``df``.

    Raises
    ------
    ValueError
        Unknown rule, or no row satisfies it (the message says what the table does offer).

    Examples
    --------
    >>> import pandas as pd
    >>> results = pd.DataFrame({"method": ["baseline", "reweighing", "threshold"],
    ...                         "auc": [0.88, 0.87, 0.85], "fnr_gap": [0.15, 0.04, 0.01]})
    >>> select_point(results, "highest_auc_within_gap", 0.05)["method"]
    'reweighing'
    >>> select_point(results, "smallest_gap_within_auc", 0.02)["method"]
    'reweighing'
    >>> select_point(results, "highest_auc_within_gap", 0.005)
    Traceback (most recent call last):
    ...
    ValueError: no row has fnr_gap <= 0.005; the smallest fnr_gap in the table is 0.01.
    """
    if rule not in RULES:
        raise ValueError(f"rule should be one of {list(RULES)}; got {rule!r}.")
    if isinstance(limit, bool) or not isinstance(limit, numbers.Real) or not limit >= 0:
        raise ValueError(f"limit should be a number >= 0; got {limit!r}.")
    _check_columns(df, performance, disparity)
    values = df[[performance, disparity]].apply(pd.to_numeric, errors="coerce").dropna()
    if values.empty:
        raise ValueError(f"no row has both {performance} and {disparity} defined.")
    if rule == "highest_auc_within_gap":
        candidates = values[values[disparity] <= limit + _ROUNDING]
        if candidates.empty:
            raise ValueError(
                f"no row has {disparity} <= {limit}; the smallest {disparity} in the table is "
                f"{values[disparity].min():.3g}."
            )
        order = candidates.sort_values([performance, disparity], ascending=[False, True], kind="stable")
    else:
        best = values[performance].max()
        candidates = values[values[performance] >= best - limit - _ROUNDING]
        order = candidates.sort_values([disparity, performance], ascending=[True, False], kind="stable")
    return df.loc[order.index[0]]


# --------------------------------------------------------------------------- clinical terms


def missed_diagnoses_per_1000(point, baseline, groups=None):
    """Missed diagnoses per 1,000 patients with disease, by group: a chosen point against the baseline.

    A false-negative rate (FNR) of 0.25 means 250 of every 1,000 patients with disease are
    told they do not have it.

    Parameters
    ----------
    point, baseline : pandas.Series
        Rows of :func:`evaluate_grid` (e.g. from :func:`select_point`), with ``fnr`` and
        ``fnr_<group>`` entries.
    groups : list, optional
        The groups to report; default every ``fnr_<group>`` entry of ``point``.

    Returns
    -------
    pandas.DataFrame
        Indexed by group (and ``"all patients"``): ``chosen``, ``baseline`` (missed per 1,000
        with disease) and ``change`` (chosen minus baseline: negative = fewer missed).

    Examples
    --------
    >>> import pandas as pd
    >>> base = pd.Series({"fnr": 0.14, "fnr_Female": 0.25, "fnr_Male": 0.10})
    >>> chosen = pd.Series({"fnr": 0.15, "fnr_Female": 0.17, "fnr_Male": 0.14})
    >>> missed_diagnoses_per_1000(chosen, base)  # doctest: +NORMALIZE_WHITESPACE
                  chosen  baseline  change
    group
    Female         170.0     250.0   -80.0
    Male           140.0     100.0    40.0
    all patients   150.0     140.0    10.0
    """
    for name, row in (("point", point), ("baseline", baseline)):
        if not isinstance(row, pd.Series):
            raise TypeError(f"{name} should be one row (a pandas Series) of evaluate_grid's table; got "
                            f"{type(row).__name__}.")
    if groups is None:
        groups = [key[len("fnr_"):] for key in point.index
                  if isinstance(key, str) and key.startswith("fnr_") and key != "fnr_gap"
                  and not key.startswith("fnr_gap_")]
    keys = {str(g): f"fnr_{g}" for g in groups}
    if "fnr" in point.index and "fnr" in baseline.index:
        keys["all patients"] = "fnr"
    missing = [k for k in keys.values() if k not in point.index or k not in baseline.index]
    if missing or not keys:
        raise ValueError(f"both rows need the FNR entries {missing or ['fnr_<group>']}; "
                         f"point has {list(point.index)}.")
    chosen = pd.Series({g: 1000 * float(point[k]) for g, k in keys.items()})
    base = pd.Series({g: 1000 * float(baseline[k]) for g, k in keys.items()})
    table = pd.DataFrame({"chosen": chosen, "baseline": base, "change": chosen - base})
    return table.rename_axis("group").round(1)
