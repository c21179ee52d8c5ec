"""Weigh performance against disparity: evaluate a grid of models, find and draw the Pareto front.

evaluate_grid            fit every setting (an unfitted estimator) for every seed; held-out AUC,
                         accuracy, FNR per group and FNR gap, with bootstrap intervals for AUC and FNR gap
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
import inspect
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, false_negative_rate
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, roc_auc_score

from course_utils import _validation as check
from course_utils._bootstrap import DEFAULT_N_BOOT, percentile_intervals, rates_on_resamples
from course_utils.plots import plot_tradeoff

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "RULES",
    "evaluate_grid",
    "missed_diagnoses_per_1000",
    "pareto_front",
    "plot_pareto",
    "select_point",
]

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


def _check_settings(settings):
    """The (method, value, estimator) triples, checked before anything is fitted."""
    try:
        triples = [tuple(item) for item in settings]
    except TypeError:
        raise TypeError("settings should be a list of (method, value, estimator) triples, e.g. "
                        f"[('baseline', None, model)]; got {type(settings).__name__}.") from None
    if not triples:
        raise ValueError("settings is empty: give at least one (method, value, estimator) triple.")
    for i, triple in enumerate(triples):
        if len(triple) != 3:
            raise ValueError(f"settings[{i}] should be a (method, value, estimator) triple; got {len(triple)} items.")
        method, value, estimator = triple
        check.check_text(method, f"settings[{i}] method")
        if value is not None:
            check.check_real(value, f"settings[{i}] value")
        if not all(hasattr(estimator, name) for name in ("fit", "predict", "predict_proba", "get_params")):
            raise TypeError(f"settings[{i}] estimator should be an unfitted scikit-learn classifier with "
                            f"predict_proba; got {type(estimator).__name__}.")
    return triples


def _seed_list(seeds):
    seeds = list(seeds) if isinstance(seeds, Iterable) and not isinstance(seeds, (str, bytes)) else [seeds]
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed, e.g. [0].")
    return [check.check_random_state(seed, "seeds") for seed in seeds]


def _takes_sensitive_features(method) -> bool:
    return "sensitive_features" in inspect.signature(method).parameters


def _fit_and_predict(estimator, X_train, y_train, s_train, X_test, s_test):
    """Scores and decisions on the held-out patients; the group goes only to estimators that take it."""
    train_groups = {"sensitive_features": s_train} if _takes_sensitive_features(estimator.fit) else {}
    test_groups = {"sensitive_features": s_test} if _takes_sensitive_features(estimator.predict) else {}
    estimator.fit(X_train, y_train, **train_groups)
    return estimator.predict_proba(X_test, **test_groups)[:, 1], estimator.predict(X_test, **test_groups)


def _fnr_or_nan(y_true, y_pred):
    # fairlearn returns a silent 0.0 for a group with no patients with disease; undefined is NaN.
    return false_negative_rate(y_true, y_pred, pos_label=1) if np.any(np.asarray(y_true) == 1) else np.nan


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
    if n_boot:
        # The course's bootstrap: rows 0 and 1 are the groups, row 2 everyone (for the overall AUC).
        codes = (np.asarray(sensitive) == groups[1]).astype(int)
        samples = rates_on_resamples(y, pred, codes, 2, y_score=score, n_boot=n_boot, random_state=random_state,
                                     include_overall=True)
        gap_samples = np.abs(samples["fnr"][:, 0] - samples["fnr"][:, 1])
        row["auc_ci_low"], row["auc_ci_high"] = map(float, percentile_intervals(samples["auc"][:, 2], row["auc"],
                                                                                confidence_level))
        row["fnr_gap_ci_low"], row["fnr_gap_ci_high"] = map(float, percentile_intervals(gap_samples, row["fnr_gap"],
                                                                                        confidence_level))
    return row


def evaluate_grid(settings: Sequence[tuple[str, float | None, BaseEstimator]], X_train: pd.DataFrame, y_train: ArrayLike,
                  X_test: pd.DataFrame, y_test: ArrayLike, *, sensitive_features_train: ArrayLike,
                  sensitive_features_test: ArrayLike, seeds: int | Sequence[int] = 0, n_boot: int = DEFAULT_N_BOOT,
                  confidence_level: float = 0.95, random_state: int | None = 0, progress: bool = True) -> pd.DataFrame:
    """Fit every setting for every seed and measure it on held-out patients.

    Parameters
    ----------
    settings : list of (method, value, estimator)
        One triple per setting: a label for the method (``"reweighing"``; the figures colour
        by it), the value of the parameter being swept (a number, or None for a setting without
        one, such as the baseline) and an *unfitted* scikit-learn classifier with
        ``predict_proba``.  Estimators whose ``fit`` and ``predict`` take ``sensitive_features``
        (the :mod:`course_utils.mitigation` estimators) get the groups; plain ones (e.g.
        a plain logistic-regression pipeline) do not.  Each is cloned, never fitted
        in place.  E.g. ``[("baseline", None, baseline), ("reweighing", 0.5,
        ReweighingClassifier(baseline, strength=0.5, privileged_group="Male"))]``.
    X_train, y_train : DataFrame, 0/1 labels
        Training patients: features and outcome.
    X_test, y_test : DataFrame, 0/1 labels
        Held-out patients the metrics are computed on.
    sensitive_features_train, sensitive_features_test : array-like
        Each training / held-out patient's group; exactly two groups.
    seeds : int or list of int, default 0
        Model seeds.  A setting whose estimator has a ``random_state`` parameter is fitted once
        per seed with ``random_state=seed``; any other setting (its model does not depend on a
        seed) is fitted once and its row repeated for every seed.
    n_boot : int, default 1000
        Bootstrap resamples of the held-out patients for the intervals: 0 (no interval columns)
        or at least 500.
    confidence_level : float, default 0.95
    random_state : int or None, default 0
        Seed of the bootstrap.  Every row uses the same resamples, so rows are compared on
        the same patients.
    progress : bool, default True
        Show a progress bar (tqdm).  Use False where output must be reproducible (nbval).

    Returns
    -------
    pandas.DataFrame
        One row per (setting, seed): ``method``, ``value`` (NaN where None), ``seed``, ``auc``
        with ``auc_ci_low`` / ``auc_ci_high``, ``accuracy``, ``fnr`` (all patients),
        ``fnr_<group>`` for each group (in sorted order), ``fnr_gap`` with ``fnr_gap_ci_low`` /
        ``fnr_gap_ci_high``.  Scores for AUC come from ``predict_proba``, decisions for accuracy
        and FNR from ``predict``.

    Notes
    -----
    Intervals are the course's percentile bootstrap intervals (``course_utils._bootstrap``):
    held-out patients are resampled with replacement, resamples in which a metric is undefined
    are left out, and an interval that would exclude its estimate (possible for a gap near 0)
    is widened to include it.  With ~12 women with disease in a 25 % held-out split of the heart
    data, one woman moves her group's FNR by 8 points, so expect wide FNR-gap intervals.
    The same sweep asked again in a session (same settings, seeds and data) is not refitted.

    Examples
    --------
    >>> from sklearn.compose import make_column_transformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from course_utils.data import load_heart
    >>> from course_utils.mitigation import ReweighingClassifier
    >>> heart = load_heart()
    >>> train, test = train_test_split(heart, test_size=0.25, random_state=0, stratify=heart["disease"])
    >>> baseline = make_pipeline(make_column_transformer((StandardScaler(), ["age"]),
    ...                                                  (OneHotEncoder(), ["sex", "chest_pain"])), LogisticRegression())
    >>> settings = [("baseline", None, baseline),
    ...             ("reweighing", 1.0, ReweighingClassifier(baseline, strength=1.0, privileged_group="Male"))]
    >>> table = evaluate_grid(settings, train, train["disease"], test, test["disease"],
    ...                       sensitive_features_train=train["sex"], sensitive_features_test=test["sex"],
    ...                       progress=False)
    >>> table[["method", "value", "auc", "fnr_Female", "fnr_Male", "fnr_gap"]].round(3)
           method  value    auc  fnr_Female  fnr_Male  fnr_gap
    0    baseline    NaN  0.859       0.231     0.175    0.055
    1  reweighing    1.0  0.820       0.077     0.193    0.116
    """
    triples = _check_settings(settings)
    seeds = _seed_list(seeds)
    n_boot = check.check_n_boot(n_boot)
    confidence_level = check.check_confidence_level(confidence_level)
    random_state = check.check_random_state(random_state)
    check.check_dataframe(X_train, "X_train")
    check.check_dataframe(X_test, "X_test")
    y_train_array = check.check_binary_labels(y_train, "y_train", both_classes=True)
    y_test_array = check.check_binary_labels(y_test, "y_test")
    s_train = check.check_groups(sensitive_features_train, "sensitive_features_train")
    s_test = check.check_groups(sensitive_features_test, "sensitive_features_test")
    check.check_same_length(X_train=X_train, y_train=y_train_array, sensitive_features_train=s_train)
    check.check_same_length(X_test=X_test, y_test=y_test_array, sensitive_features_test=s_test)
    groups = sorted(pd.unique(s_test).tolist(), key=str)
    if len(groups) != 2:
        raise ValueError(f"sensitive_features_test should have exactly two groups, for an FNR gap; found {len(groups)}: "
                         f"{[str(g) for g in groups]}.")

    memo_key = (tuple((method, value, _params_key(estimator)) for method, value, estimator in triples), tuple(seeds),
                n_boot, confidence_level, random_state,
                _fingerprint(X_train, y_train_array, s_train, X_test, y_test_array, s_test))
    if memo_key in _SWEEPS:
        return _SWEEPS[memo_key].copy()
    jobs = [(i, seed) for i in range(len(triples)) for seed in seeds]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="fitting models", unit="model")
    rows, done = [], {}
    for i, seed in jobs:
        method, value, estimator = triples[i]
        seeded = "random_state" in estimator.get_params(deep=False)
        key = (i, seed if seeded else None)
        if key not in done:
            model = clone(estimator)
            if seeded:
                model.set_params(random_state=seed)
            score, pred = _fit_and_predict(model, X_train, y_train_array, s_train, X_test, s_test)
            done[key] = _evaluate_one(y_test_array, np.asarray(score, dtype=float), np.asarray(pred).astype(int),
                                      s_test, groups, n_boot, confidence_level, random_state)
        rows.append({"method": method, "value": np.nan if value is None else float(value), "seed": seed, **done[key]})
    intervals = n_boot > 0
    columns = ["method", "value", "seed", "auc", *(["auc_ci_low", "auc_ci_high"] if intervals else []), "accuracy",
               "fnr", *[f"fnr_{g}" for g in groups], "fnr_gap",
               *(["fnr_gap_ci_low", "fnr_gap_ci_high"] if intervals else [])]
    _SWEEPS[memo_key] = pd.DataFrame(rows, columns=columns)
    return _SWEEPS[memo_key].copy()


def _params_key(value):
    """A hashable description of an estimator's parameters, nested estimators included."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        return (type(value).__module__, type(value).__qualname__,
                tuple((name, _params_key(params[name])) for name in sorted(params)))
    if isinstance(value, (list, tuple)):
        return tuple(_params_key(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _params_key(value[key])) for key in sorted(value))
    return repr(value)


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
    check.check_dataframe(df, "df", columns=columns, allow_empty=True, what="the DataFrame from evaluate_grid")


def pareto_front(df: pd.DataFrame, maximise: str = "auc", minimise: str = "fnr_gap") -> pd.DataFrame:
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


def plot_pareto(df: pd.DataFrame, front: pd.DataFrame | None = None, *, maximise: str = "auc",
                minimise: str = "fnr_gap", ax: Axes | None = None, title: str | None = None) -> Axes:
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


def select_point(df: pd.DataFrame, rule: str, limit: float, *, performance: str = "auc",
                 disparity: str = "fnr_gap") -> pd.Series:
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
    check.check_choice(rule, "rule", RULES)
    limit = check.check_real(limit, "limit", low=0)
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


def missed_diagnoses_per_1000(point: pd.Series, baseline: pd.Series, groups: list | None = None) -> pd.DataFrame:
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
