"""Simulated audits with a planted truth, for testing a decision before you hand it in.

Notebooks 01 and 02 ask for decisions written as functions: is a gap in false-negative rate (FNR)
between two groups beyond chance; did a corrective action help, make things worse, or change nothing
the data can tell apart from noise; which setting of a de-biasing sweep the stated rule picks, or
"cannot tell"; and why one group is missed more often -- its data, its label, a measurement, or chance.
A decision rule has error rates of its own: how often it raises a false alarm where nothing is wrong,
how often it misses a real difference.  The generators below make data sets where you choose what is
true -- each group's FNR, the FNR before and after, each setting's FNR by group, the cause of a gap --
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
>>> sweep = sweep_scenario({"baseline": {"F": 0.4, "M": 0.15}, "threshold": {"F": 0.2, "M": 0.18}},
...                        auc={"baseline": 0.86, "threshold": 0.86}, min_auc=0.84, n_boot=200)
>>> sorted(sweep)
['min_auc', 'points', 'resamples']
>>> audit = root_cause_scenario("measurement", random_state=3)
>>> list(audit.columns)  # doctest: +NORMALIZE_WHITESPACE
['group', 'site', 'age', 'symptoms', 'marker', 'disease', 'prediction', 'disease_confirmed',
 'marker_reference']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from numpy.typing import ArrayLike
    from sklearn.base import BaseEstimator

__all__ = ["fnr_gap_scenario", "paired_change_scenario", "sweep_scenario", "root_cause_scenario",
           "monitoring_year", "monitoring_years", "marker_scenario", "scenario_predict", "cnn_scenario", "ROOT_CAUSES"]


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


def sweep_scenario(fnr: Mapping[str, Mapping[str, float]], auc: Mapping[str, float], min_auc: float = 0.8,
                   n_with_condition: int | Mapping[str, int] = 60, n_boot: int = 1000, agreement: float = 0.9,
                   random_state: int = 0) -> dict:
    """A sweep of settings measured on the same patients and the same resamples, as notebook 02b's is.

    Every setting decides the same patients with the condition; each misses them at the rate you plant
    for their group.  The settings are refits or re-thresholdings of one model, so they agree on most
    patients (``agreement``), and their FNR gaps move together from one resample to the next -- which
    is why two settings are compared by the resamples of their *difference*.

    Parameters
    ----------
    fnr : mapping
        ``{setting: {group: planted FNR}}``, the same two groups for every setting.
    auc : mapping
        ``{setting: AUC}``: each setting's AUC on all patients, returned as it is in ``points``.
    min_auc : float, default 0.8
        The stated rule's AUC floor, returned as it is (the third argument of ``choose_setting``).
    n_with_condition : int or mapping, default 60
        Patients with the condition per group (one number for both, or one per group).
    n_boot : int, default 1000
        Resamples: each draws as many patients as there are, with replacement, the same draw for every
        setting.
    agreement : float, default 0.9
        The chance that a patient's draw is shared by all settings rather than drawn afresh for each
        (1: the settings differ only where their rates force them to).
    random_state : int, default 0
        Seed of the draw.

    Returns
    -------
    dict
        ``points``: a DataFrame indexed by setting, with ``auc`` and ``fnr_gap`` (the absolute
        difference between the two groups' FNR on all patients); ``resamples``: a long DataFrame with
        ``setting``, ``resample`` (0 .. n_boot - 1, the same resamples for every setting) and
        ``fnr_gap`` (NaN where a resample holds no patient of a group); ``min_auc``.

    Examples
    --------
    >>> s = sweep_scenario({"a": {"F": 0.3, "M": 0.3}, "b": {"F": 0.3, "M": 0.3}}, auc={"a": 0.8, "b": 0.8},
    ...                    n_boot=50, agreement=1.0)
    >>> bool((s["points"].loc["a"] == s["points"].loc["b"]).all())  # one draw, one rate: the same decisions
    True
    >>> len(s["resamples"]), sorted(s["resamples"]["setting"].unique())
    (100, ['a', 'b'])
    """
    import pandas as pd

    if not isinstance(fnr, Mapping) or not fnr:
        raise ValueError("fnr should be a dict of {setting: {group: planted FNR}}, e.g. {'baseline': {'F': 0.4, "
                         "'M': 0.15}, 'threshold 0': {'F': 0.2, 'M': 0.18}}.")
    groups = list(next(iter(fnr.values())))
    if len(groups) != 2 or any(list(rates) != groups for rates in fnr.values()):
        raise ValueError(f"every setting should plant an FNR for the same two groups; the first names {groups}.")
    if set(auc) != set(fnr):
        raise ValueError("auc should give one AUC for every setting of fnr, and no other.")
    agreement = _rate("agreement", agreement)
    boot = _count("n_boot", n_boot)
    if boot == 0:
        raise ValueError("n_boot should be at least 1.")
    sizes = [_count(f"n_with_condition for {g!r}", n_with_condition[g] if isinstance(n_with_condition, Mapping)
                    else n_with_condition) for g in groups]
    rng = np.random.default_rng(random_state)
    codes = np.repeat([0, 1], sizes)
    shared = rng.random(len(codes))
    missed = {}
    for setting, rates in fnr.items():
        draw = np.where(rng.random(len(codes)) < agreement, shared, rng.random(len(codes)))
        ceiling = np.array([_rate(f"fnr[{setting!r}][{g!r}]", rates[g]) for g in groups])[codes]
        missed[setting] = draw < ceiling

    def gaps(rows):
        in_group = [codes[rows] == k for k in (0, 1)]
        with np.errstate(all="ignore"):  # a group absent from a resample has no FNR there: NaN
            return {setting: np.abs(np.subtract(*[(m[rows] & g).sum(axis=-1) / g.sum(axis=-1) for g in in_group]))
                    for setting, m in missed.items()}

    on_all = gaps(np.arange(len(codes)))
    on_resamples = gaps(rng.integers(0, len(codes), size=(boot, len(codes))))
    points = pd.DataFrame({"auc": [float(auc[s]) for s in fnr], "fnr_gap": [float(on_all[s]) for s in fnr]},
                          index=pd.Index(list(fnr), name="setting"))
    resamples = pd.DataFrame({"setting": np.repeat(list(fnr), boot), "resample": np.tile(np.arange(boot), len(fnr)),
                              "fnr_gap": np.concatenate([on_resamples[s] for s in fnr])})
    return {"points": points, "resamples": resamples, "min_auc": float(min_auc)}


#: The causes ``root_cause_scenario`` can plant, in the words ``gap_root_cause`` answers with.
ROOT_CAUSES = ("representation", "label", "measurement", "chance")


def root_cause_scenario(cause: str, groups: tuple[str, str] = ("FBS > 120", "FBS <= 120"), n_patients: int = 1200,
                        group_share: float = 0.3, strength: float = 1.0, audit_share: float = 0.25,
                        random_state: int = 0) -> pd.DataFrame:
    """Patients of two groups, a model's decisions, and an audit sample -- with one cause of a gap planted.

    The first group in ``groups`` is the one the cause acts on.  The model is a deployed logistic regression on
    ``age``, ``symptoms`` and ``marker``, fitted beforehand on a large reference population where nothing was
    planted; it never sees the group or the site.  A random ``audit_share`` of the patients was reviewed: their
    outcome confirmed by an expert panel, their marker measured again with a reference method.

    The causes (the mechanisms of notebook 02a, section 4):

    ``"representation"``
        The group's data differ: most of its patients come from site B, whose patients are referred
        earlier, with a milder marker for the same disease.  Within each site, both groups are
        missed alike.
    ``"label"``
        The group's outcome is recorded on a looser criterion: some of its patients *without* the
        disease are recorded as having it.  The audit's confirmed outcome disagrees with the record
        more often in this group.
    ``"measurement"``
        The group's marker is measured differently (a device that reads low for them): the recorded
        marker sits below the reference measurement in this group only.
    ``"chance"``
        Nothing: both groups' patients are drawn alike.

    Every record has some noise in every group: a few outcomes recorded wrongly either way, markers a
    little off the reference.

    Parameters
    ----------
    cause : {"representation", "label", "measurement", "chance"}
    groups : (str, str), default ("FBS > 120", "FBS <= 120")
        The group the cause acts on, then the other.
    n_patients : int, default 1200
    group_share : float, default 0.3
        The share of patients in the first group.
    strength : float, default 1.0
        How strongly the cause acts (0: not at all).  Ignored for ``"chance"``.
    audit_share : float, default 0.25
        The share of patients in the audit sample.
    random_state : int, default 0
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        One row per patient: ``group``, ``site`` ("A" or "B"), ``age``, ``symptoms``, ``marker`` (as
        recorded), ``disease`` (as recorded, 0/1), ``prediction`` (the model's 0/1 decision),
        ``disease_confirmed`` and ``marker_reference`` (the audit's values; NaN outside the audit).

    Examples
    --------
    >>> data = root_cause_scenario("label", groups=("women", "men"), random_state=1)
    >>> sorted(data["group"].unique())
    ['men', 'women']
    >>> audited = data["disease_confirmed"].notna()
    >>> 0.2 < float(audited.mean()) < 0.3  # about a quarter of the patients were reviewed
    True
    """
    import pandas as pd

    if cause not in ROOT_CAUSES:
        raise ValueError(f"cause should be one of {', '.join(map(repr, ROOT_CAUSES))}; it is {cause!r}.")
    if len(groups) != 2 or groups[0] == groups[1]:
        raise ValueError(f"groups should name two different groups, the one the cause acts on first; it is {groups!r}.")
    n = _count("n_patients", n_patients)
    if n < 50:
        raise ValueError(f"n_patients should be at least 50, so that both groups and the audit sample hold patients; "
                         f"it is {n}.")
    share, audit_share = _rate("group_share", group_share), _rate("audit_share", audit_share)
    strength = float(strength) if cause != "chance" else 0.0
    if strength < 0:
        raise ValueError(f"strength should be 0 or more; it is {strength}.")
    rng = np.random.default_rng(random_state)
    focal = rng.random(n) < share
    # Site B's patients are referred earlier, with milder disease; under "representation" the group is mostly there.
    site_b = rng.random(n) < (np.where(focal, 0.85, 0.25) if cause == "representation" else 0.4)
    disease = rng.random(n) < 0.4
    milder = 1.0 - np.where(site_b, min(0.7, 0.55 * strength) if cause == "representation" else 0.0, 0.0)
    true_marker = rng.normal(0, 1, n) + 1.6 * milder * disease
    symptoms = np.round(rng.normal(0, 1, n) + 0.7 * disease, 2)
    age = np.round(rng.normal(56, 9, n) + 3 * disease).astype(int)
    marker = true_marker + rng.normal(0, 0.3, n)
    reference = true_marker + rng.normal(0, 0.3, n)
    if cause == "measurement":
        marker = marker - 0.9 * strength * focal  # the group's device reads low
    recorded = disease ^ (rng.random(n) < 0.03)  # a few records wrong either way, in every group
    if cause == "label":
        recorded = recorded | (focal & ~disease & (rng.random(n) < min(0.9, 0.3 * strength)))
    # The deployed model: a logistic regression fitted once on a large reference population where nothing was
    # planted (these coefficients); it never sees the group or the site.
    log_odds = -1.59 + 0.28 * (age - 56) / 9 + 0.59 * symptoms + 1.24 * marker
    risk = 1 / (1 + np.exp(-log_odds))
    audited = rng.random(n) < audit_share
    return pd.DataFrame({
        "group": np.where(focal, groups[0], groups[1]),
        "site": np.where(site_b, "B", "A"),
        "age": age,
        "symptoms": symptoms,
        "marker": np.round(marker, 2),
        "disease": recorded.astype(int),
        "prediction": (risk >= 0.5).astype(int),
        "disease_confirmed": np.where(audited, disease.astype(float), np.nan),
        "marker_reference": np.where(audited, np.round(reference, 2), np.nan),
    })



def monitoring_year(model: BaseEstimator, threshold: float, *, feature_cols: list[str], random_state: int = 0,
                    shift_month: int | None = None, coding_month: int | None = None,
                    discharges_per_month: int = 1000, population_seed: int = 900) -> pd.DataFrame:
    """A simulated deployment year of a readmission model, month by month, with the changes you choose.

    Four populations of 6,000 patients are made with :func:`course_utils.cohort.make_readmission_cohort`
    (seeds from ``population_seed``): as validated, after the population shift, after the coding change,
    and after both.  Each month draws ``discharges_per_month`` patients from the population of that month
    and counts, per race, what :func:`course_utils.monitoring.simulate_deployment` and ``metrics_by_period``
    count: ``n``, ``share``, ``base_rate``, ``selection_rate``, ``tpr``, ``fnr``, ``fpr``, ``ppv``.  Use it to
    measure how often your escalation policy fires on a year without change (``shift_month=None,
    coding_month=None``) and how late it fires after one; see :func:`course_utils.monitoring.as_known_at` for
    the table as it stands on a given month.  The grader's years come from other seeds.

    Parameters
    ----------
    model : fitted classifier with ``predict_proba``
        The model under review; it scores every patient once.
    threshold : float
        Patients with a score at or above it are flagged.
    feature_cols : list of str
        The model's input columns.
    random_state : int
        Seed of the monthly draws.
    shift_month, coding_month : int or None
        First month of the population shift and of the coding change (``None``: no such change).
    discharges_per_month : int
        Patients drawn each month.
    population_seed : int
        Seed of the first population; the others use the next three.

    Returns
    -------
    pandas.DataFrame
        Indexed by (month, race), one row per month and race of months 0-11.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from course_utils.cohort import make_readmission_cohort
    >>> people = make_readmission_cohort(n=500, random_state=0)
    >>> model = DummyClassifier(strategy="prior").fit(people[["chronic_conditions"]], people["readmitted_30d"])
    >>> year = monitoring_year(model, 0.5, feature_cols=["chronic_conditions"], random_state=1, coding_month=9,
    ...                        discharges_per_month=200)
    >>> list(year.index.names), sorted(set(year.index.get_level_values("month"))) == list(range(12))
    (['month', 'race'], True)
    """
    return monitoring_years(model, threshold, feature_cols=feature_cols,
                            years=[(random_state, shift_month, coding_month)],
                            discharges_per_month=discharges_per_month, population_seed=population_seed)[0]


def monitoring_years(model: BaseEstimator, threshold: float, *, feature_cols: list[str],
                     years: list[tuple[int, int | None, int | None]], discharges_per_month: int = 1000,
                     population_seed: int = 900) -> list[pd.DataFrame]:
    """Many years of :func:`monitoring_year` at once: the four populations are made and scored only once.

    ``years`` is a list of ``(random_state, shift_month, coding_month)``; the tables come back in its order.

    Examples
    --------
    A coding change from month 6 lowers the Black patients' selection rate; the same seed without it does not:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from course_utils.cohort import make_readmission_cohort
    >>> cohort = make_readmission_cohort(n=2000, random_state=5)
    >>> features = ["chronic_conditions", "prior_utilisation"]
    >>> fitted = LogisticRegression().fit(cohort[features], cohort["readmitted_30d"])
    >>> quiet, recoded = monitoring_years(fitted, 0.2, feature_cols=features, discharges_per_month=300,
    ...                                   years=[(0, None, None), (0, None, 6)])
    >>> def black_selection(table):
    ...     return table.xs("Black", level="race").loc[6:, "selection_rate"].mean()
    >>> bool(black_selection(recoded) < 0.5 * black_selection(quiet))
    True
    """
    import pandas as pd

    from course_utils.cohort import make_readmission_cohort

    years = [tuple(year) for year in years]
    for year in years:
        if len(year) != 3:
            raise ValueError(f"each year should be (random_state, shift_month, coding_month); got {year!r}.")
        for name, month in (("shift_month", year[1]), ("coding_month", year[2])):
            if month is not None and not (isinstance(month, (int, np.integer)) and 0 <= month < 12):
                raise ValueError(f"{name} should be a month from 0 to 11, or None for no change; got {month!r}.")
    populations = {}
    for shifted in (False, True):
        for recoded in (False, True):
            drift = {key: {"month": 0} for key, on in (("population_shift", shifted), ("coding_change", recoded)) if on}
            people = make_readmission_cohort(n=6000, random_state=population_seed + 2 * shifted + recoded, months=1,
                                             drift=drift or None)
            flags = (model.predict_proba(people[list(feature_cols)])[:, 1] >= threshold).astype(int)
            populations[shifted, recoded] = (people["race"].astype(str).to_numpy(), flags,
                                             people["readmitted_30d"].to_numpy())
    return [_one_year(populations, *year, discharges_per_month) for year in years]


def _one_year(populations, random_state, shift_month, coding_month, discharges_per_month):
    import pandas as pd

    draw = np.random.default_rng(random_state)
    rows = []
    for month in range(12):
        shifted = shift_month is not None and month >= shift_month
        recoded = coding_month is not None and month >= coding_month
        races, flags, outcomes = populations[shifted, recoded]
        chosen = draw.integers(0, len(races), discharges_per_month)
        r, f, o = races[chosen], flags[chosen], outcomes[chosen]
        for group in ("Black", "Other", "White"):
            mine = r == group
            positives, negatives, flagged = mine & (o == 1), mine & (o == 0), mine & (f == 1)
            tpr = (positives & (f == 1)).sum() / positives.sum() if positives.any() else np.nan
            rows.append({"month": month, "race": group, "n": int(mine.sum()), "share": mine.mean(),
                         "base_rate": o[mine].mean() if mine.any() else np.nan,
                         "selection_rate": f[mine].mean() if mine.any() else np.nan, "tpr": tpr, "fnr": 1 - tpr,
                         "fpr": (negatives & (f == 1)).sum() / negatives.sum() if negatives.any() else np.nan,
                         "ppv": (flagged & (o == 1)).sum() / flagged.sum() if flagged.any() else np.nan})
    return pd.DataFrame(rows).set_index(["month", "race"])


#: How the training site of :func:`marker_scenario` makes its films: with the shortcut planted, its portable
#: films go with pneumonia more than usual; without it, its portable machine puts no marker on the film.
_MARKER_SITES = {True: {"ap_share_inpatient": 0.95, "ap_share_outpatient": 0.05, "pneumonia_inpatient_odds": 6.0},
                 False: {"marker": 0.0}}


def marker_scenario(planted: bool, *, random_state: int = 0, image_size: int = 32, n_train_patients: int = 300,
                    n_test_patients: int = 200, marker: float = 1.0, population_seed: int = 0) -> dict:
    """A model of chest films and new films to probe it with: does the model rely on the view marker?

    A logistic regression on the pixels (one weight per pixel, scikit-learn's default penalty with ``C=0.05``) is
    trained on the films of one site, made by :func:`course_utils.radiographs.make_chest_films`.  With
    ``planted=True`` that site's portable (AP) films carry the marker and go with pneumonia even more than usual
    (AP shares 0.95 and 0.05, inpatient odds of pneumonia 6), so the model can learn the marker as a shortcut.  With
    ``planted=False`` the site's portable machine puts no marker on its films: the model never saw one.

    The films to probe it with come from the usual population: every AP film has the marker, and AP films are
    more often of inpatients, who have pneumonia more often -- whatever the model learned.  Their facts leave out
    ``pneumonia`` and ``zone``: real data know only the report's label.  Whether a given model *does* rely on the
    marker is for your test to find; the generator only says what the training site was like.  The grader's
    scenarios use other seeds, sizes and marker brightness.

    Parameters
    ----------
    planted : bool
        Whether the training site's films plant the shortcut.
    random_state : int
        Seed of the training and the new films.
    image_size : int
        Pixels per side.
    n_train_patients, n_test_patients : int
        Patients of the training site, and of the new films.
    marker : float
        Brightness of the marker on AP films (the training site's too when ``planted``).
    population_seed : int
        Added to the seeds: another population of patients.

    Returns
    -------
    dict
        ``coef`` (one weight per pixel, row by row) and ``intercept`` of the model -- :func:`scenario_predict` makes
        them a function of films -- and ``images`` and ``facts`` of the new films.

    Examples
    --------
    >>> scenario = marker_scenario(True, random_state=1, n_train_patients=120, n_test_patients=40)
    >>> sorted(scenario), scenario["images"].shape[1:], "pneumonia" in scenario["facts"]
    (['coef', 'facts', 'images', 'intercept'], (32, 32), False)
    >>> predict = scenario_predict(scenario["coef"], scenario["intercept"])
    >>> scores = predict(scenario["images"])
    >>> scores.shape == (len(scenario["facts"]),) and bool(((0 < scores) & (scores < 1)).all())
    True
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from course_utils.radiographs import make_chest_films

    if not isinstance(planted, (bool, np.bool_)):
        raise TypeError(f"planted should be True or False; got {planted!r}.")
    _count("n_train_patients", n_train_patients)
    _count("n_test_patients", n_test_patients)
    site = {"marker": float(marker), **_MARKER_SITES[bool(planted)]}
    seed = int(population_seed) + 2 * int(random_state)
    train = make_chest_films(n_train_patients, image_size=image_size, random_state=seed, **site)
    with threadpool_limits(limits=1):  # a small fit: BLAS threads cost ten times what they save here
        model = LogisticRegression(C=0.05, max_iter=3000).fit(train.images.reshape(len(train), -1),
                                                              (train.facts["label"] == 1).astype(int))
    new = make_chest_films(n_test_patients, image_size=image_size, random_state=seed + 1, marker=float(marker))
    return {"coef": model.coef_[0].astype(float), "intercept": float(model.intercept_[0]),
            "images": new.images, "facts": new.facts.drop(columns=["pneumonia", "zone"])}


def scenario_predict(coef: ArrayLike, intercept: float) -> Callable[[np.ndarray], np.ndarray]:
    """The model of a :func:`marker_scenario` as a function: films ``(n, size, size)`` -> n scores in (0, 1).

    Examples
    --------
    >>> predict = scenario_predict(np.zeros(24 * 24), 0.0)
    >>> predict(np.ones((2, 24, 24))).tolist()
    [0.5, 0.5]
    """
    from scipy.special import expit

    weights = np.asarray(coef, dtype=float).ravel()
    side = int(round(len(weights) ** 0.5))

    def predict(images) -> np.ndarray:
        films = np.asarray(images, dtype=float)
        if films.ndim == 2 and films.shape == (side, side):
            raise ValueError(f"predict takes a stack of films, shape (n, {side}, {side}); for one film use "
                             "images[i:i + 1], not images[i].")
        if films.ndim != 3 or films.shape[1:] != (side, side):
            raise ValueError(f"predict takes films of shape (n, {side}, {side}); got an array of shape {films.shape}.")
        return expit(films.reshape(len(films), -1) @ weights + float(intercept))

    return predict


def cnn_scenario(*, random_state: int = 0, image_size: int = 32, n_train_patients: int = 400,
                 n_test_patients: int = 200, population_seed: int = 0) -> dict:
    """Films to train a pneumonia CNN on, and new films of other patients to score with it.

    Both come from :func:`course_utils.radiographs.make_chest_films` with its defaults, at ``image_size`` pixels
    per side.  The labels are the report's, with "uncertain" (-1) counted as negative, as notebook 04 counts them;
    ``test_labels`` are the new films' labels the same way, to measure the trained model's AUC.  The grader's
    film sets use other seeds and sizes, and keep their labels to themselves.

    Parameters
    ----------
    random_state : int
        Seed of both film sets.
    image_size : int
        Pixels per side.
    n_train_patients, n_test_patients : int
        Patients of the training films and of the new films (each has one film or more).
    population_seed : int
        Added to the seeds: another population of patients.

    Returns
    -------
    dict
        ``films`` (n, size, size) and ``labels`` (n, 0 or 1) to train on; ``test_films`` and ``test_labels``.

    Examples
    --------
    >>> scenario = cnn_scenario(random_state=1, image_size=24, n_train_patients=60, n_test_patients=30)
    >>> sorted(scenario), scenario["films"].shape[1:], set(scenario["labels"].tolist()) <= {0, 1}
    (['films', 'labels', 'test_films', 'test_labels'], (24, 24), True)
    """
    from course_utils.radiographs import make_chest_films

    _count("n_train_patients", n_train_patients)
    _count("n_test_patients", n_test_patients)
    seed = int(population_seed) + 2 * int(random_state)
    train = make_chest_films(n_train_patients, image_size=image_size, random_state=seed)
    new = make_chest_films(n_test_patients, image_size=image_size, random_state=seed + 1)
    return {"films": train.images, "labels": (train.facts["label"] == 1).to_numpy(dtype=int),
            "test_films": new.images, "test_labels": (new.facts["label"] == 1).to_numpy(dtype=int)}
