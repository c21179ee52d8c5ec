"""Simulated audit scenarios with a planted truth, for testing a decision before you hand it in.

Notebook 01 asks for two decisions written as functions: is a gap in false-negative rate (FNR)
between two groups beyond chance, and did a corrective action help, make things worse, or change
nothing the data can tell apart from noise.  A decision rule has error rates of its own: how often it
raises a false alarm where nothing is wrong, how often it misses a real difference.  The generators
below make data sets where you choose what is true -- each group's FNR, the FNR before and after --
so you can measure both on as many scenarios as you like.

They return data only: labels and decisions, as a model would give them.  They do not say what the
right decision is for the data they return -- with few patients, a planted difference may be too small
for the data to show, and saying so is the right call.  The scenarios the grader uses are drawn with
other seeds and other settings.

Examples
--------
>>> scenario = fnr_gap_scenario({"women": 0.35, "men": 0.15}, n_with_condition=80, random_state=1)
>>> sorted(scenario)
['sensitive_features', 'y_pred', 'y_true']
>>> scenario["y_true"].shape == scenario["y_pred"].shape == scenario["sensitive_features"].shape
True
>>> change = paired_change_scenario(fnr_before=0.3, fnr_after=0.3, n_with_condition=50, random_state=2)
>>> sorted(change)
['y_pred_after', 'y_pred_before', 'y_true']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["fnr_gap_scenario", "paired_change_scenario"]


def _rate(name: str, value: float) -> float:
    value = float(value)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} should be a proportion between 0 and 1; it is {value}.")
    return value


def _count(name: str, value) -> int:
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"{name} should be a whole number of patients, 0 or more; it is {value!r}.")
    return int(value)


def fnr_gap_scenario(fnr: Mapping[str, float], n_with_condition: int | Mapping[str, int] = 100,
                     n_without_condition: int | Mapping[str, int] | None = None, fpr: float = 0.1,
                     random_state: int = 0) -> dict:
    """Patients in groups, each group's disease missed at the rate you plant.

    Parameters
    ----------
    fnr : mapping
        ``{group: planted false-negative rate}``: each patient with the condition in that group is
        missed (predicted 0) with this probability, independently.  Two equal rates plant no gap.
    n_with_condition : int or mapping, default 100
        Patients with the condition per group (one number for every group, or one per group).
    n_without_condition : int or mapping, optional
        Patients without the condition per group; by default as many as with it.
    fpr : float, default 0.1
        The false-positive rate in every group (it plays no part in the FNR).
    random_state : int, default 0
        Seed of the draw: the same seed gives the same patients.

    Returns
    -------
    dict
        ``{"y_true", "y_pred", "sensitive_features"}``: NumPy arrays of the same length, patients in
        random order -- the arguments of ``fnr_gap_verdict``.

    Examples
    --------
    >>> s = fnr_gap_scenario({"A": 0.5, "B": 0.5}, n_with_condition={"A": 4, "B": 0}, random_state=0)
    >>> int(s["y_true"][s["sensitive_features"] == "B"].sum())  # group B has nobody with the condition
    0
    """
    if not isinstance(fnr, Mapping) or not fnr:
        raise ValueError("fnr should be a dict of {group: planted false-negative rate}, e.g. {'women': 0.3, "
                         "'men': 0.15}.")
    fpr = _rate("fpr", fpr)
    rng = np.random.default_rng(random_state)
    groups, truth, decisions = [], [], []
    for group, rate in fnr.items():
        rate = _rate(f"fnr[{group!r}]", rate)
        positives = _count(f"n_with_condition for {group!r}", n_with_condition[group] if isinstance(
            n_with_condition, Mapping) else n_with_condition)
        spec = positives if n_without_condition is None else (
            n_without_condition[group] if isinstance(n_without_condition, Mapping) else n_without_condition)
        negatives = _count(f"n_without_condition for {group!r}", spec)
        truth += [1] * positives + [0] * negatives
        decisions += list((rng.random(positives) >= rate).astype(int)) + list((rng.random(negatives) < fpr).astype(int))
        groups += [str(group)] * (positives + negatives)
    order = rng.permutation(len(truth))
    return {"y_true": np.array(truth, dtype=int)[order], "y_pred": np.array(decisions, dtype=int)[order],
            "sensitive_features": np.array(groups, dtype=str)[order]}


def paired_change_scenario(fnr_before: float, fnr_after: float, n_with_condition: int = 50,
                           n_without_condition: int | None = None, agreement: float = 0.8, fpr: float = 0.1,
                           random_state: int = 0) -> dict:
    """The same patients decided by two models: the model before a change, and the model after it.

    Parameters
    ----------
    fnr_before, fnr_after : float
        Planted false-negative rates of the two models.  Equal rates plant no change: the models
        still disagree on some patients, in both directions, as two fits of one model do.
    n_with_condition : int, default 50
        Patients with the condition.
    n_without_condition : int, optional
        Patients without it; by default as many as with it.
    agreement : float, default 0.8
        How closely the second model follows the first: the chance that a patient's draw is reused
        rather than drawn afresh (1: the models disagree only as much as the rates force them to).
    fpr : float, default 0.1
        Both models' false-positive rate.
    random_state : int, default 0
        Seed of the draw.

    Returns
    -------
    dict
        ``{"y_true", "y_pred_before", "y_pred_after"}``: NumPy arrays, one entry per patient -- the
        arguments of ``change_verdict``.

    Examples
    --------
    >>> s = paired_change_scenario(0.4, 0.4, n_with_condition=30, agreement=1.0, random_state=0)
    >>> bool((s["y_pred_before"] == s["y_pred_after"]).all())  # the same draw, the same rate: no change at all
    True
    """
    before_rate, after_rate = _rate("fnr_before", fnr_before), _rate("fnr_after", fnr_after)
    agreement, fpr = _rate("agreement", agreement), _rate("fpr", fpr)
    positives = _count("n_with_condition", n_with_condition)
    negatives = positives if n_without_condition is None else _count("n_without_condition", n_without_condition)
    rng = np.random.default_rng(random_state)

    def two_models(n, rate_before, rate_after):
        # One uniform draw per patient decides the first model; the second reuses it with probability
        # `agreement` (so the two agree as refits do) or draws afresh.  Each keeps its own rate.
        first = rng.random(n)
        second = np.where(rng.random(n) < agreement, first, rng.random(n))
        return first < rate_before, second < rate_after

    missed_before, missed_after = two_models(positives, before_rate, after_rate)
    flagged_before, flagged_after = two_models(negatives, fpr, fpr)
    order = rng.permutation(positives + negatives)
    truth = np.r_[np.ones(positives, dtype=int), np.zeros(negatives, dtype=int)]
    before = np.r_[(~missed_before).astype(int), flagged_before.astype(int)]
    after = np.r_[(~missed_after).astype(int), flagged_after.astype(int)]
    return {"y_true": truth[order], "y_pred_before": before[order], "y_pred_after": after[order]}
