"""A synthetic readmission cohort with a documented causal story: the counterpart of :mod:`course_utils.data`.

Notebook 03 reviews a 30-day readmission-risk model that a hospital network will use to allocate
care management.  No package ships hospital data with race, payer and cost, and the real Diabetes
130-US hospitals data are online only, so the course *generates* its cohort: every patient is drawn
from a small causal model whose parameters are written down here and calibrated to published
figures (Obermeyer et al. 2019, *Science* 366; Strack et al. 2014, Diabetes 130-US hospitals).
:mod:`course_utils.data` holds the course's real data; this module is its synthetic counterpart.
The full story, the calibration targets and the measured values are in
``data/DATASHEET_readmission_cohort.md``.

Entry points
------------
make_readmission_cohort   the synthetic cohort, seeded, optionally with drift at known months
describe_cohort_columns   one row per column: name, dtype and meaning
COHORT_COLUMNS            the same descriptions as a dict
DEFAULT_DRIFT             the drift scenario of notebook 03 (population shift, then a coding change)
load_diabetes_hospital    the real Diabetes 130-US data in the same columns (online learners only)

The causal story
----------------
::

    race, age ──► payer ──► access_barrier ──► (less care received) ──► lower cost, fewer visits
      │    │                      │
      │    └──────────► chronic_conditions (true need) ──► cost, prior_utilisation, readmission
      └──(more need)──►           │
                         access_barrier ──► (no follow-up care) ──► slightly MORE readmission

Need (the count of active chronic illnesses) drives next-year cost, prior-year visits and 30-day
readmission.  Access barriers (transport, time off work, under-insurance) are more common among
Black patients and among Medicaid and self-pay patients.  At equal need a barrier *lowers* cost and
visits, because care that is not received is not billed, but it does not lower readmission: it
raises it a little.  Cost is therefore a biased proxy for need, and a model trained to predict
cost under-selects the group with worse access: label-choice bias (Obermeyer et al. 2019).

Examples
--------
>>> from course_utils.cohort import make_readmission_cohort
>>> cohort = make_readmission_cohort(n=5000, random_state=0)
>>> cohort.shape
(5000, 13)
>>> cohort["race"].value_counts(normalize=True).round(3).to_dict()
{'White': 0.754, 'Black': 0.182, 'Other': 0.064}
>>> round(float(cohort["readmitted_30d"].mean()), 3)
0.113
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from course_utils import _validation as check
from course_utils.data import DataDownloadError

__all__ = [
    "AGE_BANDS",
    "COHORT_COLUMNS",
    "DEFAULT_DRIFT",
    "DIABETES_UNMAPPED",
    "PAYERS",
    "RACES",
    "SEXES",
    "describe_cohort_columns",
    "load_diabetes_hospital",
    "make_readmission_cohort",
]

# Category orders: the order learners see in tables and plots.
#: Race as recorded.  "Other" pools every other recorded race and "unknown", as the Diabetes
#: 130-US data are usually analysed (Hispanic, Asian, Other and Unknown together are about 6 %).
RACES = ("White", "Black", "Other")
SEXES = ("Female", "Male")
#: The three bands of fairlearn's Diabetes 130-US data ("30 years or younger", "30-60 years",
#: "Over 60 years"), so the same exercises run on both.
AGE_BANDS = ("under 30", "30-60", "over 60")
PAYERS = ("Medicare", "Medicaid", "private", "self-pay")

COHORT_COLUMNS = {
    "patient_id": "patient number 1..n; one row per patient, each with one index discharge (episode) in the year",
    "month": "month of the index discharge, 0 = first month of the year (0..months-1)",
    "race": "recorded race: White, Black or Other (Other pools every other recorded race and unknown)",
    "sex": "recorded sex: Female or Male",
    "age_band": "age group in years: under 30, 30-60, over 60 (ordered)",
    "payer": "primary payer: Medicare, Medicaid, private or self-pay",
    "access_barrier": "1 if the patient faces a barrier to receiving care (transport, time off work, under-insurance), "
                      "else 0; rarely known to a real health system: treat it as an audit variable, not a feature",
    "chronic_conditions": "active chronic illnesses as recorded by the hospital's diagnosis coding (a feature); "
                          "equals chronic_conditions_true unless a coding_change drift is applied",
    "chronic_conditions_true": "LATENT: the true count of active chronic illnesses, kept so a coding change can be "
                               "seen; never use it as a model feature",
    "chronic_conditions_next_year": "active chronic illnesses in the 12 months after the index discharge (the "
                                    "health-need label, as Obermeyer et al. used); not known at discharge",
    "prior_utilisation": "outpatient and inpatient visits in the 12 months before the index discharge",
    "cost": "total health-care cost in the 12 months after the index discharge, US dollars (the cost label)",
    "readmitted_30d": "1 if readmitted to hospital within 30 days of the index discharge, else 0",
}

# --- the generating parameters (documented in the datasheet; the tests check the results) -----
_RACE_SHARES = {"White": 0.75, "Black": 0.19, "Other": 0.06}
_FEMALE_SHARE = 0.54
_AGE_SHARES = {"under 30": 0.03, "30-60": 0.29, "over 60": 0.68}
# Payer mix by (over 60?, Black?): Medicare, Medicaid, private, self-pay.  Black patients are
# more often on Medicaid or self-pay at every age, as in US insurance statistics.
_PAYER_MIX = {
    (True, False): (0.80, 0.05, 0.12, 0.03),
    (True, True): (0.76, 0.11, 0.09, 0.04),
    (False, False): (0.08, 0.22, 0.58, 0.12),
    (False, True): (0.08, 0.36, 0.41, 0.15),
}
# log-odds of an access barrier: baseline and the increase for each characteristic.
_BARRIER_LOGIT = {"baseline": -2.0, "Black": 2.2, "Other": 0.4, "Medicaid": 0.8, "self-pay": 1.2, "private": -0.3}
# Mean chronic illnesses by age band, times 1.25 for Black patients (more illness at every age,
# as in Obermeyer et al.), times a Gamma(3, 1/3) frailty so counts are over-dispersed.
_NEED_BY_AGE = {"under 30": 0.7, "30-60": 1.8, "over 60": 2.8}
_NEED_BLACK = 1.25
_FRAILTY_SHAPE = 3.0
# Visits before the index discharge: Poisson(1 + 3 * need), times exp(-1) with a barrier.
_VISITS = {"baseline": 1.0, "per_condition": 3.0, "barrier": -1.0}
# Next-year cost: 1,400 $ * exp(0.30 * need - 1.0 * barrier + 0.15 * over 60 + 0.5 * N(0, 1)).
_COST = {"scale": 1400.0, "per_condition": 0.30, "barrier": -1.0, "over 60": 0.15, "noise_sd": 0.5}
# 30-day readmission log-odds: need raises it; a barrier raises it a little (no follow-up care).
_READMIT_LOGIT = {"baseline": -3.15, "per_condition": 0.28, "barrier": 0.3, "over 60": 0.15}
# Next year's active chronic illnesses: each of this year's persists with probability 0.85, and new
# ones arrive as Poisson(0.25 x this year's mean x the same frailty).  Chronic illness is mostly
# persistent, so this year's count predicts next year's well -- but it is a predictor, not the label.
_NEXT_YEAR = {"persists": 0.85, "new_per_mean": 0.25}

#: The drift of notebook 03's simulated deployment year.  From month 6 a new clinic contract brings
#: more patients from the group with worse access (Black share 19 % -> 34 %); from month 9 the
#: hospitals that treat most Black patients switch to a diagnosis-coding template that records
#: each chronic condition of a Black patient with probability 0.5 only.
DEFAULT_DRIFT = {
    "population_shift": {"month": 6, "race_shares": {"White": 0.60, "Black": 0.34, "Other": 0.06}},
    "coding_change": {"month": 9, "group": "Black", "undercount": 0.5},
}

# Each random quantity has its own stream and is drawn as uniforms or standard normals of fixed
# size, then transformed (inverse CDF).  So a drift that starts in month m changes only rows from
# month m on: every earlier row is identical to the cohort without drift.
_STREAMS = ("month", "race", "sex", "age", "payer", "barrier", "frailty", "need", "visits", "cost",
            "readmission", "coding", "persists", "new_conditions")  # new streams go last: the others keep their draws


# --- argument checking ---------------------------------------------------------------------


def _check_keys(spec, name, allowed):
    if not isinstance(spec, Mapping):
        raise TypeError(f"{name} should be a dict; got {type(spec).__name__}.")
    unknown = [key for key in spec if key not in allowed]
    if unknown:
        raise ValueError(f"{name} has unknown setting(s) {', '.join(map(repr, unknown))}; "
                         f"the settings are {', '.join(map(repr, allowed))}.")


def _check_month(value, name, months):
    return check.check_whole_number(value, f"{name} month", low=0, high=months - 1)


def _check_shares(shares, name):
    _check_keys(shares, name, RACES)
    missing = [race for race in RACES if race not in shares]
    if missing:
        raise ValueError(f"{name} needs a share for every group {RACES}; missing {', '.join(map(repr, missing))}.")
    values = [check.check_real(shares[race], f"{name}[{race!r}]", low=0, high=1) for race in RACES]
    if abs(sum(values) - 1) > 1e-6:
        raise ValueError(f"{name} should add up to 1; they add up to {sum(values):.4g}.")
    return dict(zip(RACES, values))


def _check_drift(drift, months):
    """The drift settings with defaults filled in: {} for no drift."""
    if drift is None:
        return {}
    _check_keys(drift, "drift", tuple(DEFAULT_DRIFT))
    checked = {}
    if "population_shift" in drift:
        spec = drift["population_shift"]
        _check_keys(spec, "drift['population_shift']", ("month", "race_shares"))
        full = {**copy.deepcopy(DEFAULT_DRIFT["population_shift"]), **spec}
        checked["population_shift"] = {
            "month": _check_month(full["month"], "drift['population_shift']", months),
            "race_shares": _check_shares(full["race_shares"], "drift['population_shift']['race_shares']"),
        }
    if "coding_change" in drift:
        spec = drift["coding_change"]
        _check_keys(spec, "drift['coding_change']", ("month", "group", "undercount"))
        full = {**DEFAULT_DRIFT["coding_change"], **spec}
        if full["group"] not in RACES:
            raise ValueError(f"drift['coding_change']['group'] should be one of {RACES}; got {full['group']!r}.")
        checked["coding_change"] = {
            "month": _check_month(full["month"], "drift['coding_change']", months),
            "group": full["group"],
            # the share of conditions left unrecorded
            "undercount": check.check_real(full["undercount"], "drift['coding_change']['undercount']", low=0, high=1),
        }
    return checked


# --- the generator -------------------------------------------------------------------------


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pick(uniform, labels, shares):
    """Inverse-CDF choice: the label whose cumulative-share interval holds each uniform."""
    edges = np.cumsum(shares)
    return np.asarray(labels, dtype=object)[np.searchsorted(edges / edges[-1], uniform, side="right").clip(0, len(labels) - 1)]


def _races(u, month, shift):
    races = _pick(u, RACES, [_RACE_SHARES[r] for r in RACES])
    if shift:
        later = month >= shift["month"]
        races[later] = _pick(u[later], RACES, [shift["race_shares"][r] for r in RACES])
    return races


def _payers(u, old, black):
    payer = np.empty(len(u), dtype=object)
    for (is_old, is_black), shares in _PAYER_MIX.items():
        rows = (old == is_old) & (black == is_black)
        payer[rows] = _pick(u[rows], PAYERS, shares)
    return payer


def _access_barrier(u, race, payer):
    b = _BARRIER_LOGIT
    logit = (b["baseline"] + b["Black"] * (race == "Black") + b["Other"] * (race == "Other")
             + b["Medicaid"] * (payer == "Medicaid") + b["self-pay"] * (payer == "self-pay")
             + b["private"] * (payer == "private"))
    return (u < _expit(logit)).astype(int)


def _need_mean(u_frailty, age, race):
    """Each patient's expected count of chronic illnesses: age mean x 1.25 if Black x Gamma frailty."""
    mean = np.array([_NEED_BY_AGE[a] for a in age]) * np.where(race == "Black", _NEED_BLACK, 1.0)
    return mean * stats.gamma.ppf(u_frailty, _FRAILTY_SHAPE, scale=1 / _FRAILTY_SHAPE)


def _true_need(u_frailty, u_need, age, race):
    return stats.poisson.ppf(u_need, _need_mean(u_frailty, age, race)).astype(int)


def _next_year_need(draws, need, age, race):
    kept = stats.binom.ppf(draws["persists"], need, _NEXT_YEAR["persists"]).astype(int)
    new_mean = _NEXT_YEAR["new_per_mean"] * _need_mean(draws["frailty"], age, race)
    return kept + stats.poisson.ppf(draws["new_conditions"], new_mean).astype(int)


def _recorded_need(u, need, month, race, coding):
    if not coding:
        return need.copy()
    hit = (month >= coding["month"]) & (race == coding["group"])
    recorded = need.copy()
    # Each condition of an affected patient is coded with probability 1 - undercount.
    recorded[hit] = stats.binom.ppf(u[hit], need[hit], 1 - coding["undercount"]).astype(int)
    return recorded


def _outcomes(draws, need, barrier, old):
    visits_mean = (_VISITS["baseline"] + _VISITS["per_condition"] * need) * np.exp(_VISITS["barrier"] * barrier)
    visits = stats.poisson.ppf(draws["visits"], visits_mean).astype(int)
    c = _COST
    log_cost = c["per_condition"] * need + c["barrier"] * barrier + c["over 60"] * old + c["noise_sd"] * draws["cost"]
    cost = np.round(c["scale"] * np.exp(log_cost))
    r = _READMIT_LOGIT
    logit = r["baseline"] + r["per_condition"] * need + r["barrier"] * barrier + r["over 60"] * old
    readmitted = (draws["readmission"] < _expit(logit)).astype(int)
    return visits, cost, readmitted


def _draws(n, random_state):
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(random_state).spawn(len(_STREAMS))]
    draws = {name: rng.random(n) for name, rng in zip(_STREAMS, rngs)}
    draws["cost"] = stats.norm.ppf(draws["cost"])
    return draws


def _categorical(values, categories, ordered=False):
    return pd.Categorical(values, categories=list(categories), ordered=ordered)


def make_readmission_cohort(n: int = 20000, *, random_state: int | None = 0, months: int = 12,
                            drift: Mapping | None = None) -> pd.DataFrame:
    """Generate the synthetic readmission cohort of notebook 03, one row per patient-episode.

    Parameters
    ----------
    n : int, default 20000
        Number of patients (rows), at least 100.  Each has one index discharge in the year.
    random_state : int or None, default 0
        Seed of every random step (numpy ``SeedSequence``); the same seed gives an identical frame.
    months : int, default 12
        Length of the period covered; discharges are spread evenly over months ``0..months-1``.
    drift : dict, optional
        Changes that start at a known month, for the monitoring exercise.  Keys (each optional):

        ``"population_shift": {"month": m, "race_shares": {"White": .., "Black": .., "Other": ..}}``
            From month ``m`` patients are drawn with these race shares (default 0.60 / 0.34 / 0.06:
            more patients from the group with worse access, and with them more Medicaid and
            self-pay patients, since payer depends on race).
        ``"coding_change": {"month": m, "group": "Black", "undercount": 0.5}``
            From month ``m`` each true chronic condition of a patient of ``group`` is recorded in
            ``chronic_conditions`` with probability ``1 - undercount``.  Need, cost and readmission
            are unchanged: only the record is.

        Missing settings take the values of :data:`DEFAULT_DRIFT`; ``drift=DEFAULT_DRIFT`` is the
        deployment year of notebook 03.  Rows before a drift month are identical to the cohort
        generated without that drift.

    Returns
    -------
    pandas.DataFrame
        Columns (meanings in :data:`COHORT_COLUMNS`): ``patient_id``, ``month``, ``race``, ``sex``,
        ``age_band`` (ordered), ``payer`` (categoricals), ``access_barrier``,
        ``chronic_conditions``, ``chronic_conditions_true`` (latent: kept to show what a coding
        change hides; the latent frailty and probabilities are dropped), ``chronic_conditions_next_year``
        (the need label), ``prior_utilisation``,
        ``cost`` (dollars), ``readmitted_30d``.  Rows are sorted by month.

    Raises
    ------
    TypeError, ValueError
        On a wrong type or value of any argument; the message names the argument.

    Notes
    -----
    How each column is generated (parameters in the module source and the datasheet):

    1. ``race`` ~ 75 % White, 19 % Black, 6 % Other (Diabetes 130-US);  ``sex`` 54 % Female;
       ``age_band`` 3 % under 30, 29 % 30-60, 68 % over 60.
    2. ``payer`` depends on age (Medicare over 60) and race (Black patients more often Medicaid
       or self-pay).
    3. ``access_barrier`` ~ Bernoulli, log-odds -2.0 + 2.2 Black + 0.4 Other + 0.8 Medicaid
       + 1.2 self-pay - 0.3 private: about 14 % of White and 59 % of Black patients.
    4. need ``chronic_conditions_true`` ~ Poisson(age mean x 1.25 if Black x Gamma frailty).
    5. ``prior_utilisation`` ~ Poisson((1 + 3 need) x exp(-1.0 barrier)).
    6. ``cost`` = 1,400 $ x exp(0.30 need - 1.0 barrier + 0.15 over-60 + 0.5 N(0, 1)):
       at equal need a barrier removes about 63 % of the cost.
    7. ``readmitted_30d`` ~ Bernoulli, log-odds -3.15 + 0.28 need + 0.3 barrier + 0.15 over-60.
    8. ``chronic_conditions_next_year`` = Binomial(need, 0.85) + Poisson(0.25 x the patient's expected
       need): this year's illnesses mostly persist, and new ones come at the patient's own rate.

    Measured on the default cohort (n = 20000, random_state 0): 30-day readmission 11.3 %; race 75.6 %
    White, 18.4 % Black; at equal need Black patients cost about 1,900 $ (30 %) less a year.  A model
    predicting cost puts far fewer Black patients in the top 3 % than one predicting need: the
    datasheet gives the measured shares.

    Examples
    --------
    >>> from course_utils.cohort import make_readmission_cohort, DEFAULT_DRIFT
    >>> cohort = make_readmission_cohort(n=2000, random_state=1)
    >>> list(cohort.columns[:6])
    ['patient_id', 'month', 'race', 'sex', 'age_band', 'payer']
    >>> cohort.groupby("race", observed=True)["access_barrier"].mean().round(2).to_dict()
    {'White': 0.13, 'Black': 0.61, 'Other': 0.19}
    >>> drifted = make_readmission_cohort(n=2000, random_state=1, drift=DEFAULT_DRIFT)
    >>> early = cohort["month"] < 6
    >>> drifted[early].equals(cohort[early])
    True
    >>> make_readmission_cohort(drift={"coding_change": {"month": 12}})
    Traceback (most recent call last):
    ...
    ValueError: drift['coding_change'] month should be between 0 and 11; got 12.
    """
    n = check.check_whole_number(n, "n", low=100)
    random_state = check.check_random_state(random_state)
    months = check.check_whole_number(months, "months", low=1)
    drift = _check_drift(drift, months)

    draws = _draws(n, random_state)
    month = np.floor(draws["month"] * months).astype(int)
    race = _races(draws["race"], month, drift.get("population_shift"))
    sex = _pick(draws["sex"], SEXES, [_FEMALE_SHARE, 1 - _FEMALE_SHARE])
    age = _pick(draws["age"], AGE_BANDS, [_AGE_SHARES[a] for a in AGE_BANDS])
    old = (age == "over 60").astype(int)
    payer = _payers(draws["payer"], old == 1, race == "Black")
    barrier = _access_barrier(draws["barrier"], race, payer)
    need = _true_need(draws["frailty"], draws["need"], age, race)
    recorded = _recorded_need(draws["coding"], need, month, race, drift.get("coding_change"))
    visits, cost, readmitted = _outcomes(draws, need, barrier, old)
    next_year = _next_year_need(draws, need, age, race)

    frame = pd.DataFrame({
        "month": month,
        "race": _categorical(race, RACES),
        "sex": _categorical(sex, SEXES),
        "age_band": _categorical(age, AGE_BANDS, ordered=True),
        "payer": _categorical(payer, PAYERS),
        "access_barrier": barrier,
        "chronic_conditions": recorded,
        "chronic_conditions_true": need,
        "chronic_conditions_next_year": next_year,
        "prior_utilisation": visits,
        "cost": cost,
        "readmitted_30d": readmitted,
    })
    # A stable sort keeps rows in draw order within a month, so drift leaves earlier rows identical.
    frame = frame.sort_values("month", kind="stable").reset_index(drop=True)
    frame.insert(0, "patient_id", np.arange(1, n + 1))
    return frame


def describe_cohort_columns() -> pd.DataFrame:
    """One row per column of :func:`make_readmission_cohort`: name, dtype and meaning.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``dtype``, ``meaning``.

    Examples
    --------
    >>> from course_utils.cohort import describe_cohort_columns
    >>> describe_cohort_columns().set_index("column").loc["cost", "dtype"]
    'float64'
    """
    sample = make_readmission_cohort(n=100, random_state=0)
    return pd.DataFrame({
        "column": list(COHORT_COLUMNS),
        "dtype": [str(sample[c].dtype) for c in COHORT_COLUMNS],
        "meaning": list(COHORT_COLUMNS.values()),
    })


# --- the real data, for online learners ----------------------------------------------------

#: Cohort columns the Diabetes 130-US data cannot provide, and why.
DIABETES_UNMAPPED = {
    "month": "the public data carry no admission dates",
    "access_barrier": "not recorded",
    "chronic_conditions_true": "a latent column of the synthetic cohort only",
    "chronic_conditions_next_year": "the public data hold one encounter per row, not the next year",
    "cost": "not recorded: the label-choice exercise needs the synthetic cohort",
}

_DIABETES_RACE = {"Caucasian": "White", "AfricanAmerican": "Black"}  # every other value -> "Other"
_DIABETES_AGE = {"30 years or younger": "under 30", "30-60 years": "30-60", "Over 60 years": "over 60"}
_DIABETES_NEEDED = ("race", "gender", "age", "medicare", "medicaid", "number_diagnoses",
                    "had_emergency", "had_inpatient_days", "had_outpatient_days", "readmit_30_days")
_OFFLINE_HINT = ("Use make_readmission_cohort() instead: the course's synthetic cohort has the same "
                 "columns (and cost and access barriers, which the real data lack) and needs no network.")


def _truthy(column):
    return column.astype(str).str.strip().str.lower().isin(["true", "1", "1.0", "yes"])


def _map_diabetes_frame(raw):
    """Map fairlearn's Diabetes 130-US frame to the cohort's column names and categories."""
    missing = [c for c in _DIABETES_NEEDED if c not in raw.columns]
    if missing:
        raise ValueError(f"The Diabetes 130-US data lack the column(s) {', '.join(missing)}: "
                         "fairlearn's version may have changed. " + _OFFLINE_HINT)
    race = raw["race"].astype(str).map(_DIABETES_RACE).fillna("Other")
    sex = raw["gender"].astype(str).where(raw["gender"].astype(str).isin(SEXES))  # "Unknown/Invalid" -> missing
    medicare, medicaid = _truthy(raw["medicare"]), _truthy(raw["medicaid"])
    # The fairlearn version keeps only Medicare and Medicaid flags; private and self-pay are unknown.
    payer = pd.Series(np.where(medicare, "Medicare", np.where(medicaid, "Medicaid", None)), index=raw.index)
    kinds_of_prior_use = sum(_truthy(raw[c]).astype(int)
                             for c in ("had_emergency", "had_inpatient_days", "had_outpatient_days"))
    return pd.DataFrame({
        "patient_id": np.arange(1, len(raw) + 1),
        "race": _categorical(race, RACES),
        "sex": _categorical(sex, SEXES),
        "age_band": _categorical(raw["age"].astype(str).map(_DIABETES_AGE), AGE_BANDS, ordered=True),
        "payer": _categorical(payer, PAYERS),
        "chronic_conditions": pd.to_numeric(raw["number_diagnoses"]).astype(int).to_numpy(),
        "prior_utilisation": kinds_of_prior_use.to_numpy(),
        "readmitted_30d": pd.to_numeric(raw["readmit_30_days"]).astype(int).to_numpy(),
    })


def load_diabetes_hospital(*, data_home: str | os.PathLike | None = None) -> pd.DataFrame:
    """Download the real Diabetes 130-US hospitals data (via fairlearn) in the cohort's columns; online only.

    For learners who are online: the exercises of notebook 03 that need no cost label can be
    repeated on 101,766 real encounters (Strack et al. 2014) through
    :func:`fairlearn.datasets.fetch_diabetes_hospital`.

    Parameters
    ----------
    data_home : str, optional
        Download cache folder, passed to fairlearn (default ``~/.fairlearn-data``).

    Returns
    -------
    pandas.DataFrame
        One row per encounter with the cohort columns that exist in the real data:

        ========================  ==========================================================
        ``patient_id``            row number 1..n (encounters; a patient may appear twice)
        ``race``                  Caucasian -> White, AfricanAmerican -> Black, the rest -> Other
        ``sex``                   ``gender``; "Unknown/Invalid" -> missing
        ``age_band``              the same three bands
        ``payer``                 Medicare or Medicaid from fairlearn's flags, else missing
                                  (the private / self-pay split is not in fairlearn's version)
        ``chronic_conditions``    ``number_diagnoses``: diagnoses coded on the encounter, a
                                  proxy for chronic-illness burden, not a count of illnesses
        ``prior_utilisation``     kinds of prior-year use (emergency, inpatient, outpatient):
                                  0-3, not a visit count
        ``readmitted_30d``        ``readmit_30_days``
        ========================  ==========================================================

        Not available (see :data:`DIABETES_UNMAPPED`): ``month``, ``access_barrier``,
        ``chronic_conditions_true``, ``chronic_conditions_next_year``, ``cost``.

    Raises
    ------
    course_utils.data.DataDownloadError
        If the data cannot be downloaded (offline, or the repository is down); the message names
        :func:`make_readmission_cohort` as the way on.

    Examples
    --------
    >>> from course_utils.cohort import load_diabetes_hospital
    >>> diabetes = load_diabetes_hospital()  # doctest: +SKIP
    >>> len(diabetes), round(diabetes["readmitted_30d"].mean(), 2)  # doctest: +SKIP
    (101766, 0.11)
    """
    if data_home is not None and not isinstance(data_home, (str, bytes)) and not hasattr(data_home, "__fspath__"):
        raise TypeError(f"data_home should be a folder path or None; got {type(data_home).__name__}.")
    # Imported here: fairlearn's dataset module pulls in scikit-learn's OpenML client.
    from fairlearn import datasets

    try:
        bunch = datasets.fetch_diabetes_hospital(as_frame=True, data_home=data_home)
    except OSError as error:  # URLError, HTTPError, timeouts and DNS failures are all OSErrors
        raise DataDownloadError(
            f"Could not download the Diabetes 130-US hospitals data ({getattr(error, 'reason', error)}): "
            "you seem to be offline, or the data repository is down. " + _OFFLINE_HINT
        ) from error
    raw = bunch.frame if getattr(bunch, "frame", None) is not None else pd.concat([bunch.data, bunch.target], axis=1)
    return _map_diabetes_frame(raw)
