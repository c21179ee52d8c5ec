"""Questions of notebook 03 (ethics review of a readmission-risk model for care management).

Every expected answer is computed from the seeded synthetic cohort (``make_readmission_cohort``
with the settings below), from the course's worked impact assessment, or from the course's
example escalation rules, when first needed; nothing is typed in.  Misconception rules recognise
the usual slips: percentages for proportions, the cost model's share taken for the need model's,
the cohort's share taken for the enrolled share, "limited-risk" for a system that allocates care,
thresholds written as percentages, and monitoring rules that fire on noise or on a single month.

The check cells turn a learner's work into a value with learner-API helpers:
:func:`course_utils.governance.assessment_summary` (an impact assessment -> four numbers) and
:func:`course_utils.monitoring.first_alert_months` / :func:`~course_utils.monitoring.false_alarms`
(escalation rules -> when they fire).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from course_utils.exercises._question import Misconception, Question
from course_utils.exercises.rules import chose, close, equals, mapping_equals, percentage_not_proportion

NOTEBOOK = "03"
NOTEBOOK_FILE = "03_ethics_review"

# --- the notebook's settings (the notebook uses the same numbers) ------------------------------
COHORT_SIZE, COHORT_SEED = 20000, 0
DEPLOYMENT_SIZE, DEPLOYMENT_SEED = 12000, 1
#: Auto-enrolment in care management: the top 3 % of scores (the 97th percentile, Obermeyer et al.).
ENROL_SHARE = 0.03
#: Patients with at least this many chronic conditions are the "equal, high need" comparison group.
HIGH_NEED = 8
#: The readmission model flags the top 10 % of validation scores for a care-management call.
FLAG_SHARE = 0.10
LABEL_FEATURES = ["age_band", "sex", "payer", "chronic_conditions", "prior_utilisation"]
NUMERIC = ["chronic_conditions", "prior_utilisation"]
CATEGORICAL = ["age_band", "sex", "payer"]
RISK_FEATURES = NUMERIC + CATEGORICAL
#: The two rules the learner writes, by name, and the change each must detect.
RULE_NAMES = ("population shift", "coding change")
RISK_CLASSES = ("prohibited", "high-risk", "limited-risk", "minimal-risk")
FEATURE_CHOICES = ("chronic_conditions", "prior_utilisation", "age_band", "sex", "payer", "race")



# --- values computed from the seeded cohort ----------------------------------------------------


@cache
def cohort():
    from course_utils.cohort import make_readmission_cohort

    return make_readmission_cohort(n=COHORT_SIZE, random_state=COHORT_SEED)


def top_share(scores, share=ENROL_SHARE):
    """True for the ``share`` highest scores (ties broken by row order)."""
    ranks = pd.Series(np.asarray(scores)).rank(method="first", ascending=False).to_numpy()
    return ranks <= share * len(ranks)


@cache
def enrolled():
    """Auto-enrolment (top 3 %) by a model trained on cost and one trained on need."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    data = cohort()
    X = pd.get_dummies(data[LABEL_FEATURES], columns=CATEGORICAL).astype(float)
    selected = {}
    with threadpool_limits(1):
        for name, label in (("cost", "cost"), ("need", "chronic_conditions")):
            model = HistGradientBoostingRegressor(random_state=0).fit(X, data[label])
            selected[name] = top_share(model.predict(X))
    return pd.DataFrame(selected, index=data.index)


def _black_share(which):
    black = cohort()["race"].astype(str) == "Black"
    return float(black[enrolled()[which]].mean())


def _black_count(which):
    black = cohort()["race"].astype(str) == "Black"
    return int(black[enrolled()[which]].sum())


def _cohort_black_share():
    return float((cohort()["race"].astype(str) == "Black").mean())


def _high_need_rates(which):
    data = cohort()
    high = (data["chronic_conditions"] >= HIGH_NEED).to_numpy()
    race = data["race"].astype(str).to_numpy()
    chosen = enrolled()[which].to_numpy()
    return {group: float(chosen[high & (race == group)].mean()) for group in ("Black", "White")}


def _high_need_composition(which):
    data = cohort()
    high = (data["chronic_conditions"] >= HIGH_NEED).to_numpy()
    race = data["race"].astype(str).to_numpy()
    chosen = enrolled()[which].to_numpy() & high
    return {group: float((race[chosen] == group).mean()) for group in ("Black", "White")}


@cache
def risk_model_split():
    """The readmission model as the notebook builds it: (model, train, test, threshold)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = cohort()
    train, test = train_test_split(data, test_size=0.5, random_state=0, stratify=data["readmitted_30d"])
    model = make_pipeline(
        ColumnTransformer([("numeric", StandardScaler(), NUMERIC), ("categorical", OneHotEncoder(), CATEGORICAL)]),
        LogisticRegression(max_iter=1000),
    ).fit(train[RISK_FEATURES], train["readmitted_30d"])
    scores = model.predict_proba(test[RISK_FEATURES])[:, 1]
    threshold = float(np.quantile(scores, 1 - FLAG_SHARE))
    return model, train, test, threshold


def _fnr(group):
    model, _, test, threshold = risk_model_split()
    flagged = model.predict_proba(test[RISK_FEATURES])[:, 1] >= threshold
    readmitted = (test["race"].astype(str) == group).to_numpy() & (test["readmitted_30d"] == 1).to_numpy()
    return float(1 - flagged[readmitted].mean())


def _fnr_gap():
    return _fnr("Black") - _fnr("White")


@cache
def _top_feature():
    from sklearn.inspection import permutation_importance

    model, _, test, _ = risk_model_split()
    result = permutation_importance(model, test[RISK_FEATURES], test["readmitted_30d"], scoring="roc_auc",
                                    n_repeats=5, random_state=0)
    return RISK_FEATURES[int(np.argmax(result.importances_mean))]


def _solution_risk_class():
    # A care-allocating health system; the instructor's worked assessment (solutions/) says the same.
    return "high-risk"


def _solution_summary():
    # What a finished assessment summarises to (tests/test_notebook03.py checks the instructor's worked one).
    return {"problems": 0, "high-risk class": 1, "fairness metric with a threshold": 1, "thresholds above 1": 0}


@cache
def period_metrics():
    """Metrics per month of the simulated deployment year, as the notebook computes them."""
    from course_utils.cohort import DEFAULT_DRIFT, make_readmission_cohort
    from course_utils.monitoring import metrics_by_period, simulate_deployment

    model, _, _, threshold = risk_model_split()
    year = make_readmission_cohort(n=DEPLOYMENT_SIZE, random_state=DEPLOYMENT_SEED, drift=DEFAULT_DRIFT)
    deployed = simulate_deployment(model, year, feature_cols=RISK_FEATURES, period_col="month", threshold=threshold)
    return metrics_by_period(deployed, period_col="month", group_col="race", outcome_col="readmitted_30d",
                             prediction_col="flagged", n_boot=0, progress=False)


def _reference_rules():
    """The course's example rules, renamed after the change each is meant to detect."""
    from course_utils.monitoring import load_rules, rule_as_dict

    share, selection, _ = load_rules()
    return [dict(rule_as_dict(share), name=RULE_NAMES[0]), dict(rule_as_dict(selection), name=RULE_NAMES[1])]


def _expected_first_alerts():
    from course_utils.monitoring import first_alert_months

    return first_alert_months(_reference_rules(), period_metrics(), names=RULE_NAMES)


def _shift_month():
    from course_utils.cohort import DEFAULT_DRIFT

    return DEFAULT_DRIFT["population_shift"]["month"]


def _coding_month():
    from course_utils.cohort import DEFAULT_DRIFT

    return DEFAULT_DRIFT["coding_change"]["month"]


def _expected_false_alarms():
    from course_utils.monitoring import false_alarms

    return false_alarms(_reference_rules(), period_metrics(), _shift_month())


# --- misconception rules -----------------------------------------------------------------------





_COHORT_SHARE = ("That is the share of Black patients in the whole cohort. The question asks about the patients "
                 "the model auto-enrols: the top 3 % of its scores.")

QUESTIONS = [
    Question(
        id="ethics-cost-black-share",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.005,
        expected=lambda: _black_share("cost"),
        misconceptions=[
            percentage_not_proportion(0.5),
            equals(lambda: _black_share("need"), "That is the share under the model trained on need. This "
                    "question asks about the model trained on cost.", 0.002),
            equals(_cohort_black_share, _COHORT_SHARE, 0.002),
            Misconception(lambda answer, expected: float(answer).is_integer() and int(answer) == _black_count("cost"),
                          "You gave a count of patients. Give the share: Black patients among the auto-enrolled."),
        ],
        hints=["Take the patients with enrolled_by_cost True, and compute the share whose race is Black.",
               "enrolled[enrolled['by_cost']]['race'].eq('Black').mean()-style: a proportion between 0 and 1."],
    ),
    Question(
        id="ethics-need-black-share",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.005,
        expected=lambda: _black_share("need"),
        misconceptions=[
            percentage_not_proportion(0.5),
            equals(lambda: _black_share("cost"), "That is the cost model's share again. The cost share is not the "
                    "need share: use the selection of the model trained on chronic_conditions.", 0.002),
            equals(_cohort_black_share, _COHORT_SHARE, 0.002),
            Misconception(lambda answer, expected: float(answer).is_integer() and int(answer) == _black_count("need"),
                          "You gave a count of patients. Give the share: Black patients among the auto-enrolled."),
        ],
        hints=["Same as the previous exercise, with the selection of the model trained on need."],
    ),
    Question(
        id="ethics-equal-need-enrolment",
        notebook=NOTEBOOK,
        points=3,
        kind="mapping",
        tolerance=0.005,
        expected=lambda: _high_need_rates("cost"),
        misconceptions=[
            mapping_equals(lambda: _high_need_rates("need"), "Those are the need model's enrolment rates. The question "
                           "asks how the model trained on cost treats patients of equal need.", 0.002),
            Misconception(lambda answer, expected: all(close(v, 100 * expected[k], 0.5) for k, v in answer.items()),
                          "Those look like percentages. Give proportions between 0 and 1 (e.g. 0.25, not 25)."),
            mapping_equals(lambda: _high_need_composition("cost"), "Those are the shares of each group among the "
                           "enrolled high-need patients. The question asks, within each group, what share is "
                           "enrolled: divide by the group's high-need patients.", 0.002),
        ],
        hints=["Keep the patients with chronic_conditions >= 8; then, per race, the mean of enrolled_by_cost."],
    ),
    Question(
        id="ethics-fnr-gap",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.005,
        expected=_fnr_gap,
        misconceptions=[
            Misconception(lambda answer, expected: close(answer, -expected, 0.005) and abs(expected) > 0.01,
                          "The sign is the wrong way round: the question asks for Black minus White. (A TPR "
                          "difference also has the opposite sign of the FNR difference.)"),
            percentage_not_proportion(0.5),
            equals(lambda: _fnr("Black"), "That is the FNR of Black patients alone. The gap is their FNR minus "
                    "White patients' FNR.", 0.002),
        ],
        hints=["FNR of a group: among its readmitted patients (readmitted_30d == 1), the share not flagged.",
               "Compute it for Black and for White patients in the validation half, then subtract."],
    ),
    Question(
        id="ethics-risk-class",
        notebook=NOTEBOOK,
        points=1,
        kind="choice",
        choices=RISK_CLASSES,
        expected=_solution_risk_class,
        misconceptions=[
            chose("limited-risk", "'Limited risk' is for systems with transparency duties only, such as chatbots. "
                  "This score decides who is offered a health-care service: read Annex III, point 5."),
            chose("minimal-risk", "Minimal risk is for systems such as spam filters. A score that allocates "
                  "health care to patients is not minimal risk: read Annex III, point 5."),
            chose("prohibited", "Prohibited practices (Article 5) are e.g. social scoring and manipulation. "
                  "Allocating care management is allowed, under strict obligations: which class carries them?"),
        ],
        hints=["The EU AI Act lists access to essential services, healthcare included, in Annex III."],
    ),
    Question(
        id="ethics-assessment-valid",
        notebook=NOTEBOOK,
        points=3,
        kind="mapping",
        tolerance=0,
        expected=_solution_summary,
        misconceptions=[
            Misconception(lambda answer, expected: answer["high-risk class"] == 0,
                          "Your assessment does not put the system in the right EU AI Act class. A system that "
                          "decides who receives care is not 'limited-risk': see the previous exercise."),
            Misconception(lambda answer, expected: answer["thresholds above 1"] > 0,
                          "A fairness threshold is above 1: it looks like a percentage. Write thresholds as "
                          "proportions (0.05 for five percentage points, 0.8 for a ratio of four fifths)."),
            Misconception(lambda answer, expected: answer["fairness metric with a threshold"] == 0,
                          "No fairness metric has a numeric threshold. Name at least one metric and the largest "
                          "difference (or smallest ratio) you will accept."),
            Misconception(lambda answer, expected: answer["problems"] > 0,
                          "validate_assessment still finds problems. Print them (for p in "
                          "validate_assessment(assessment): print(p)) and fix each one."),
        ],
        hints=["Run validate_assessment(assessment) and read each problem: it names the field and what belongs there."],
    ),
    Question(
        id="ethics-rules-false-alarms",
        notebook=NOTEBOOK,
        points=2,
        kind="integer",
        expected=_expected_false_alarms,
        misconceptions=[
            Misconception(lambda answer, expected: int(answer) > expected,
                          "Your rules raise alerts in months 0-5, before anything changed: they fire on noise. "
                          "Compare your thresholds with the month-to-month variation in months 0-5, and ask "
                          "for consecutive months where one noisy month should not page anyone."),
        ],
        hints=["Look at the months 0-5 of period_metrics: how much does each watched value vary by chance?"],
    ),
    Question(
        id="ethics-rules-first-alerts",
        notebook=NOTEBOOK,
        points=3,
        kind="mapping",
        tolerance=0,
        expected=_expected_first_alerts,
        misconceptions=[
            Misconception(lambda answer, expected: -1 in answer.values(),
                          "One of your rules never fires. Is a threshold written as a percentage (5 for five "
                          "points, where the metrics are proportions such as 0.05)? Is the direction right?"),
            Misconception(lambda answer, expected: answer[RULE_NAMES[0]] < _shift_month()
                          or answer[RULE_NAMES[1]] < _coding_month(),
                          "A rule fires before the change it should detect: it fires on noise."),
            Misconception(lambda answer, expected: answer[RULE_NAMES[1]] == _coding_month(),
                          "Your coding-change rule fires after a single month. The exercise asks for two "
                          "consecutive months, so that one noisy month cannot page the safety officer."),
            Misconception(lambda answer, expected: answer[RULE_NAMES[0]] > _shift_month(),
                          "Your population-shift rule fires late: the shift is visible in its very first month."),
        ],
        hints=["Use evaluate_rules(period_metrics, my_rules) and look at the first month each rule alerts."],
    ),
    Question(
        id="ethics-top-feature",
        notebook=NOTEBOOK,
        points=1,
        kind="choice",
        choices=FEATURE_CHOICES,
        expected=_top_feature,
        misconceptions=[
            chose("race", "race is not one of the model's inputs. (Other features can still carry information "
                  "about it: that is why the audit is by race.)"),
        ],
        hints=["The largest mean drop in AUC in the permutation-importance table."],
    ),
]
