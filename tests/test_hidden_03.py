"""Notebook 03's hidden cases: right answers pass, the usual wrong ones and constants score 0, the criteria stay out.

The judge is built once (its references computed once) and each answer is run through the grading harness in
this process, as a hand-in's kernel runs it: ``answer(...)`` writes what the function returned as data, and
``Judge.verdict`` judges that data.  The correct answers below are written here, not taken from the solution;
each wrong answer is a mistake the question's misconception rules name.  The references are also held to the
numbers the old hidden tests fixed when the solutions were written; ``tests/test_judge_grading.py`` grades the
whole solution notebook through the real grader.
"""

import math
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, logit
from scipy.stats import norm
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from course_utils.exercises import evaluate
from course_utils.exercises.questions import QUESTIONS, ethics
from course_utils.instructor.cases import load_hidden
from course_utils.instructor.judge import CaseResult, Judge
from judging import assert_each_wrong_scenario_costs_an_eighth, judged

# Judges built in process and every case run: seconds per question; `make test` runs them, `make check` not.
pytestmark = pytest.mark.slow

HIDDEN = load_hidden("03")
MODULE = sys.modules["course_hidden_03"]  # the hidden module itself: its criteria and reference helpers
CODE = sorted(qid for qid, q in QUESTIONS.items() if q.notebook == "03" and q.answer_type == "code")


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Judge("03", tmp_path_factory.mktemp("judge03"))


def case(question_id, name):
    return next(c for c in HIDDEN.cases[question_id] if c.name.startswith(name))


def reference(question_id, name, **changes):
    found = case(question_id, name)
    return found.reference(**{**found.build_inputs(), **changes})


# --- correct answers, written for these tests ---------------------------------------------------------------------

def label_choice_audit(model, X, label, sensitive_features, need, high_need=8, top_share=0.03):
    scores = np.asarray(clone(model).fit(X, label).predict(X), dtype=float)
    taken = round(top_share * len(scores))
    chosen = np.zeros(len(scores), dtype=bool)
    chosen[np.lexsort((np.arange(len(scores)), -scores))[:taken]] = True
    groups = pd.Series(np.asarray(sensitive_features)).astype(str).to_numpy()
    high = np.asarray(need) >= high_need
    rows = {}
    for group in sorted(set(groups)):
        mine = groups == group
        at_need = chosen[mine & high]
        rows[group] = {"share_of_enrolled": (chosen & mine).sum() / taken,
                       "enrolled_at_high_need": at_need.mean() if len(at_need) else np.nan}
    return pd.DataFrame(rows).T.astype(float)


def calibration_intercept_slope(y_true, y_prob, confidence_level=0.95):
    y = np.asarray(y_true, dtype=float)
    x = logit(np.asarray(y_prob, dtype=float))
    z = norm.ppf((1 + confidence_level) / 2)

    def loss(eta):  # minus the Bernoulli log-likelihood of log-odds eta
        return np.sum(np.logaddexp(0, eta) - y * eta)

    a = minimize_scalar(lambda a: loss(a + x), bounds=(-20, 20), method="bounded", options={"xatol": 1e-12}).x
    q = expit(a + x)
    a_se = 1 / np.sqrt(np.sum(q * (1 - q)))
    fit = minimize(lambda b: loss(b[0] + b[1] * x), [0.0, 1.0], method="BFGS", options={"gtol": 1e-10})
    b = fit.x
    q = expit(b[0] + b[1] * x)
    design = np.column_stack([np.ones_like(x), x])
    b_se = np.sqrt(np.linalg.inv(design.T @ (design * (q * (1 - q))[:, None]))[1, 1])
    return {"intercept": a, "intercept_low": a - z * a_se, "intercept_high": a + z * a_se,
            "slope": b[1], "slope_low": b[1] - z * b_se, "slope_high": b[1] + z * b_se}


def proxy_auc(model, X, sensitive_features, group, n_splits=5, random_state=0, n_boot=1000, confidence_level=0.95):
    y = (pd.Series(np.asarray(sensitive_features)).astype(str) == str(group)).to_numpy().astype(int)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    scores = cross_val_predict(clone(model), X, y, cv=folds, method="predict_proba")[:, 1]
    aucs = []
    for rows in np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y))):
        aucs.append(roc_auc_score(y[rows], scores[rows]) if 0 < y[rows].sum() < len(rows) else np.nan)
    low, high = np.nanquantile(aucs, [(1 - confidence_level) / 2, (1 + confidence_level) / 2])
    return {"auc": roc_auc_score(y, scores), "ci_low": low, "ci_high": high}


def counterfactual_change(model, X, X_counterfactual, threshold):
    before, after = model.predict_proba(X)[:, 1], model.predict_proba(X_counterfactual)[:, 1]
    was, now = before >= threshold, after >= threshold
    return {"mean_change": np.mean(after - before), "mean_abs_change": np.mean(np.abs(after - before)),
            "share_changed": np.mean(was != now), "newly_flagged": np.mean(now & ~was),
            "no_longer_flagged": np.mean(was & ~now)}


def shap_values(model, background, patients):
    import shap

    encode, logistic = model[:-1], model[-1]
    masker = shap.maskers.Independent(encode.transform(background), max_samples=len(background))
    return shap.LinearExplainer(logistic, masker)(encode.transform(patients))


def counterfactual_scores(model, patient, column, values):
    scores = []
    for value in values:
        variant = patient.copy()
        variant[column] = value
        scores.append(model.predict_proba(variant)[0, 1])
    return pd.Series(scores, index=list(values))


ANNEX_III = {"health-insurance pricing": "5(c)", "emergency triage": "5(d)"}
PUBLIC_ALLOCATION = {"care management", "health-benefit eligibility"}
PATIENT_CARE = {"care management", "diagnosis", "treatment recommendation", "emergency triage"}


def regulatory_routes(system):
    """Written here from the provisions, as a table of questions asked in the law's order."""
    public = system["deployer"] != "private company"
    point = "5(a)" if system["purpose"] in PUBLIC_ALLOCATION and public else ANNEX_III.get(system["purpose"], "")
    listed_and_not_exempt = bool(point) and (system["profiling"] or system["article_6_3_condition"] == "none")
    notified_body = system["medical_device_class"] not in ("not a medical device", "I")
    route = ("Article 6(1)" if notified_body else "Article 6(2)" if listed_and_not_exempt
             else "Article 6(3)" if point else "none")
    criteria = [not system["analyses_image_or_signal"], system["users"] == "health-care professionals",
                system["basis_reviewable"] and not system["time_critical"]]
    medical_claim = system["medical_device_class"] != "not a medical device"
    return {"eu_route": route, "high_risk": notified_body or listed_and_not_exempt,
            "fria": listed_and_not_exempt and (public or point in ("5(b)", "5(c)")),
            "fda_route": "not a device" if not medical_claim else "non-device CDS" if all(criteria) else "device",
            "section_1557": system["us_federal_funding"] and system["purpose"] in PATIENT_CARE}


def build_assessment(results):
    rates = results["validation"]
    gap = rates["fnr"]["Black"] - rates["fnr"]["White"]
    ratio = rates["selection_rate"]["Black"] / rates["selection_rate"]["White"]
    route = results["ai_act"]["route"]
    return {
        "system_name": results["system_name"],
        "intended_use": "Orders the care-management call list of discharged adults by readmission risk.",
        "intended_users": ["care-management nurses"],
        "out_of_scope_uses": ["denying treatment"],
        "use_context": dict(results["system"]),
        "eu_ai_act_risk_class": "high-risk" if results["ai_act"]["high_risk"] else "minimal-risk",
        "risk_class_rationale": f"The route is {route}, from the facts in use_context.",
        "affected_groups": [{"attribute": "race", "groups": ["Black", "White"], "concern": "missed readmissions"}],
        "fairness_metrics": [
            {"metric": "fnr", "comparison": {"group": "Black", "reference": "White", "measure": "difference"},
             "threshold": 0.05, "rationale": "a missed patient gets no call", "value_at_validation": gap,
             "met_at_validation": bool(gap <= 0.05)},
            {"metric": "fnr", "comparison": {"group": "White", "reference": "Black", "measure": "difference"},
             "threshold": 0.15, "rationale": "the healthier group is missed more, within limits",
             "value_at_validation": -gap, "met_at_validation": bool(-gap <= 0.15)},
            {"metric": "selection_rate", "comparison": {"group": "Black", "reference": "White", "measure": "ratio"},
             "threshold": 1.1, "rationale": "the sicker group should be flagged more often",
             "value_at_validation": ratio, "met_at_validation": bool(ratio >= 1.1)}],
        "acceptable_trade_offs": "Up to 0.02 AUC for an FNR gap within 0.05, agreed by the board.",
        "data_provenance": {"sources": [results["data_source"]], "collection_period": "one year",
                            "known_limitations": ["synthetic data"]},
        "human_oversight": "Nurses review every flag and may enrol anyone.",
        "contestability": "Patients may ask another nurse to review the decision.",
        "monitoring_owner": "clinical AI safety officer",
        "review_date": "2027-06-30",
    }


def escalation_policy(monthly):
    black, white = monthly.xs("Black", level="race"), monthly.xs("White", level="race")
    low = black["selection_rate"] / white["selection_rate"] < 1.0
    rows = [(month, "population shift") for month in black.index[black["share"] > 0.26]]
    rows += [(month, "coding change") for month in black.index[low & low.shift(1, fill_value=False)]]
    return pd.DataFrame(rows, columns=["month", "alert"])


CORRECT = {"ethics-label-choice-function": label_choice_audit, "ethics-calibration-function": calibration_intercept_slope,
           "ethics-proxy-function": proxy_auc, "ethics-counterfactual-function": counterfactual_change,
           "ethics-shap-function": shap_values, "ethics-whatif-function": counterfactual_scores,
           "ethics-law-function": regulatory_routes, "ethics-assessment-function": build_assessment,
           "ethics-policy-function": escalation_policy}


# --- wrong answers: the mistakes the misconception rules name, and constants ------------------------------------------

def whole_cohort_share(model, X, label, sensitive_features, need, high_need=8, top_share=0.03):
    table = label_choice_audit(model, X, label, sensitive_features, need, high_need, top_share)
    groups = pd.Series(np.asarray(sensitive_features)).astype(str)
    return table.assign(share_of_enrolled=groups.value_counts(normalize=True).reindex(table.index).to_numpy())


def composition_at_high_need(model, X, label, sensitive_features, need, high_need=8, top_share=0.03):
    table = label_choice_audit(model, X, label, sensitive_features, need, high_need, top_share)
    return table.assign(enrolled_at_high_need=table["share_of_enrolled"])


def label_percentages(*args, **kwargs):
    return label_choice_audit(*args, **kwargs) * 100


def difference_of_means(y_true, y_prob, confidence_level=0.95):
    result = calibration_intercept_slope(y_true, y_prob, confidence_level)
    return dict(result, intercept=float(np.mean(y_true) - np.mean(y_prob)))


def always_95_percent(y_true, y_prob, confidence_level=0.95):
    return calibration_intercept_slope(y_true, y_prob)


def logit_of_means(y_true, y_prob, confidence_level=0.95):
    result = calibration_intercept_slope(y_true, y_prob, confidence_level)
    y, p = np.mean(y_true), np.mean(y_prob)
    return dict(result, intercept=float(logit(y) - logit(p)))


def in_sample(model, X, sensitive_features, group, n_splits=5, random_state=0, n_boot=1000, confidence_level=0.95):
    y = (pd.Series(np.asarray(sensitive_features)).astype(str) == str(group)).to_numpy().astype(int)
    auc = roc_auc_score(y, clone(model).fit(X, y).predict_proba(X)[:, 1])
    return {"auc": auc, "ci_low": auc - 0.03, "ci_high": auc + 0.03}


def other_groups(model, X, sensitive_features, group, **settings):
    result = proxy_auc(model, X, sensitive_features, group, **settings)
    return {"auc": 1 - result["auc"], "ci_low": 1 - result["ci_high"], "ci_high": 1 - result["ci_low"]}


def unstratified(model, X, sensitive_features, group, n_splits=5, random_state=0, n_boot=1000, confidence_level=0.95):
    y = (pd.Series(np.asarray(sensitive_features)).astype(str) == str(group)).to_numpy().astype(int)
    folds = KFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    auc = roc_auc_score(y, cross_val_predict(clone(model), X, y, cv=folds, method="predict_proba")[:, 1])
    return {"auc": auc, "ci_low": auc - 0.03, "ci_high": auc + 0.03}


def reversed_sign(model, X, X_counterfactual, threshold):
    result = counterfactual_change(model, X, X_counterfactual, threshold)
    return dict(result, mean_change=-result["mean_change"])


def count_not_share(model, X, X_counterfactual, threshold):
    result = counterfactual_change(model, X, X_counterfactual, threshold)
    return dict(result, share_changed=result["share_changed"] * len(X))


def strictly_above(model, X, X_counterfactual, threshold):
    return counterfactual_change(model, X, X_counterfactual, np.nextafter(threshold, 1))


def default_masker(model, background, patients):
    import shap

    return shap.LinearExplainer(model[-1], model[:-1].transform(background))(model[:-1].transform(patients))


def patients_as_background(model, background, patients):
    return shap_values(model, patients, patients)


def decisions(model, patient, column, values):
    return pd.Series([model.predict(patient.assign(**{column: v}))[0] for v in values], index=list(values))


def other_class(model, patient, column, values):
    return pd.Series([model.predict_proba(patient.assign(**{column: v}))[0, 0] for v in values], index=list(values))


def column_not_set(model, patient, column, values):
    return pd.Series([model.predict_proba(patient)[0, 1]] * len(values), index=list(values))


def always_high_risk(system):
    return {"eu_route": "Article 6(2)", "high_risk": True, "fria": True, "fda_route": "device", "section_1557": True}


def never_a_device(system):
    return {"eu_route": "none", "high_risk": False, "fria": False, "fda_route": "not a device", "section_1557": False}


def high_risk_and_device_whenever_it_is_medical(system):
    """Decides from one fact: a medical claim makes everything apply."""
    medical = system["medical_device_class"] != "not a medical device"
    return {"eu_route": "Article 6(1)" if medical else "none", "high_risk": medical, "fria": medical,
            "fda_route": "device" if medical else "not a device", "section_1557": medical}


def ignores_profiling(system):
    routes = regulatory_routes(system)
    if routes["eu_route"] == "Article 6(2)" and system["article_6_3_condition"] != "none":
        return dict(routes, eu_route="Article 6(3)", high_risk=False, fria=False)
    return routes


def class_one_needs_a_notified_body(system):
    routes = regulatory_routes(system)
    if system["medical_device_class"] == "I":
        return dict(routes, eu_route="Article 6(1)", high_risk=True)
    return routes


def fria_for_every_high_risk_system(system):
    routes = regulatory_routes(system)
    return dict(routes, fria=routes["high_risk"])


def no_cds_criteria(system):
    routes = regulatory_routes(system)
    return dict(routes, fda_route="device" if routes["fda_route"] == "non-device CDS" else routes["fda_route"])


def section_1557_for_every_funded_tool(system):
    return dict(regulatory_routes(system), section_1557=system["us_federal_funding"])


def typed_in_numbers(results):
    document = build_assessment(results)
    for metric in document["fairness_metrics"]:
        metric["value_at_validation"] = -0.123
        metric["met_at_validation"] = True
    return document


def route_not_named(results):
    return dict(build_assessment(results), risk_class_rationale="It follows from the facts in use_context.")


def typed_in_facts(results):
    return dict(build_assessment(results), use_context={
        "domain": "health", "deployer": "public hospital network", "medical_device_class": "not a medical device",
        "annex_iii_point": "5(a)", "profiling": True, "article_6_3_condition": "none"})


def one_sided(results):
    """Commits to the FNR gap one way only: nothing protects the group missed more often."""
    document = build_assessment(results)
    document["fairness_metrics"] = [m for m in document["fairness_metrics"] if m["comparison"]["group"] == "Black"]
    return document


def no_contestability(results):
    document = build_assessment(results)
    del document["contestability"]
    return document


def never_alerts(monthly):
    return pd.DataFrame({"month": pd.Series([], dtype=int), "alert": pd.Series([], dtype=object)})


def always_alerts(monthly):
    months = sorted(set(monthly.index.get_level_values("month")))
    return pd.DataFrame([(m, alert) for m in months for alert in ethics.ALERT_NAMES], columns=["month", "alert"])


def one_noisy_month(monthly):
    black = monthly.xs("Black", level="race")
    return pd.DataFrame({"month": black.index[black["share"] > 0.21], "alert": "population shift"})


def hindsight(monthly):
    """Fires where the year's extremes are: right with the whole year in hand, noise when called month by month."""
    black, white = monthly.xs("Black", level="race"), monthly.xs("White", level="race")
    ratio = black["selection_rate"] / white["selection_rate"]
    return pd.DataFrame({"month": [int(ratio.idxmin()), int(black["share"].idxmax())],
                         "alert": ["coding change", "population shift"]})


def percentage_threshold(monthly):
    black, white = monthly.xs("Black", level="race"), monthly.xs("White", level="race")
    low = black["selection_rate"] / white["selection_rate"] < 1.0
    rows = [(month, "population shift") for month in black.index[black["share"] > 25]]
    rows += [(month, "coding change") for month in black.index[low & low.shift(1, fill_value=False)]]
    return pd.DataFrame(rows, columns=["month", "alert"])


def constant(value):
    def function(*args, **kwargs):
        return value.copy() if hasattr(value, "copy") else value
    function.__name__ = "constant"
    return function


WRONG = {
    "ethics-label-choice-function": [whole_cohort_share, composition_at_high_need, label_percentages, constant(
        pd.DataFrame({"share_of_enrolled": [0.235, 0.058, 0.707], "enrolled_at_high_need": [0.572, 0.795, 0.908]},
                     index=["Black", "Other", "White"]))],
    "ethics-calibration-function": [difference_of_means, always_95_percent, logit_of_means, constant(
        {"intercept": -0.025, "intercept_low": -0.169, "intercept_high": 0.118, "slope": 0.933, "slope_low": 0.775,
         "slope_high": 1.09})],
    "ethics-proxy-function": [in_sample, other_groups, unstratified, constant({"auc": 0.686, "ci_low": 0.672,
                                                                               "ci_high": 0.7})],
    "ethics-counterfactual-function": [reversed_sign, count_not_share, strictly_above, constant(
        {"mean_change": 0.0004, "mean_abs_change": 0.0048, "share_changed": 0.0047, "newly_flagged": 0.0025,
         "no_longer_flagged": 0.0022})],
    "ethics-shap-function": [default_masker, patients_as_background],
    "ethics-whatif-function": [decisions, other_class, column_not_set],
    "ethics-law-function": [always_high_risk, never_a_device, high_risk_and_device_whenever_it_is_medical],
    "ethics-assessment-function": [typed_in_numbers, route_not_named, typed_in_facts, no_contestability, one_sided],
    "ethics-policy-function": [never_alerts, always_alerts, one_noisy_month, percentage_threshold, hindsight, constant(
        pd.DataFrame({"month": [6, 10], "alert": ["population shift", "coding change"]}))],
}


def shap_constant(model, background, patients):
    """The same Explanation whatever the patients: the first public case's values."""
    import shap

    n, columns = len(patients), len(model[:-1].get_feature_names_out())
    return shap.Explanation(values=np.full((n, columns), 0.1), base_values=np.full(n, -0.2))


def whatif_constant(model, patient, column, values):
    return pd.Series(0.292, index=list(values))


def assessment_constant(results):
    """The document built for the first public case, whatever the results."""
    return build_assessment(QUESTIONS["ethics-assessment-function"].cases()[0].fresh_inputs()["results"])


WRONG["ethics-shap-function"].append(shap_constant)
WRONG["ethics-whatif-function"].append(whatif_constant)
WRONG["ethics-assessment-function"].append(assessment_constant)


# --- the hidden material --------------------------------------------------------------------------------------------

def test_every_code_question_of_the_notebook_has_hidden_cases_that_name_themselves():
    assert sorted(HIDDEN.cases) == CODE
    for question_id, cases in HIDDEN.cases.items():
        assert len(cases) >= 3 and len({c.name for c in cases}) == len(cases), question_id
    assert len(HIDDEN.cases["ethics-policy-function"]) == 30


def test_only_contract_values_are_revealed():
    revealed = {(qid, c.name) for qid, cases in HIDDEN.cases.items() for c in cases if c.reveal}
    assert revealed == {("ethics-label-choice-function", "a group without high-need patients (six patients)"),
                        ("ethics-counterfactual-function", "a counterfactual that changes nothing")}


def test_the_pass_criteria_are_not_in_the_learner_package():
    source = open(ethics.__file__, encoding="utf-8").read()
    for criterion in ("assessment_record", "policy_record", "numbers_from_results", "caught_in_time",
                      "validate_assessment", "WINDOWS"):
        assert criterion not in source, criterion
    results = QUESTIONS["ethics-assessment-function"].cases()[0].fresh_inputs()["results"]
    assert ethics.run_assessment(build_assessment, results) == build_assessment(results)  # the document itself
    table = QUESTIONS["ethics-policy-function"].cases()[0].fresh_inputs()["monthly"]
    raised = ethics.run_policy(escalation_policy, table)
    assert set(raised) == {f"{alert} by month {m}" for alert in ethics.ALERT_NAMES for m in range(12)}
    assert all(isinstance(value, bool) for value in raised.values())


def test_no_hidden_year_tells_the_sandbox_when_it_changes(judge):
    for plan in judge.plans["ethics-policy-function"]:
        if not plan.public:
            assert set(plan.inputs) == {"monthly"}


# --- the references reproduce the values fixed when the solutions were written ------------------------------------------

OLD_VALUES = [
    # Need became next year's conditions (December 2026): these two were fixed again then, from the solution's own
    # label_choice_audit on the same inputs; the cost model's shares of the enrolled did not move.
    ("ethics-label-choice-function", "another seed's cohort (4,000 patients)",
     {"Black": [0.291666666667, 0.434782608696], "Other": [0.041666666667, 0.4],
      "White": [0.666666666667, 0.511450381679]}),
    ("ethics-label-choice-function", "the same patients, trees trained on need",
     {"Black": [0.365, 0.464052287582], "Other": [0.045, 0.264705882353], "White": [0.59, 0.332361516035]}),
    ("ethics-label-choice-function", "six patients", {"p": [0.0, 0.0], "q": [1 / 3, 0.5], "r": [2 / 3, math.nan]}),
    ("ethics-label-choice-function", "six patients", {"p": [0.0, 0.0], "q": [0.5, 0.5], "r": [0.5, math.nan]}),
    ("ethics-calibration-function", "the model under review on its Black",
     [-0.025257, -0.168918, 0.118404, 0.932632, 0.775232, 1.090032]),
    ("ethics-calibration-function", "the model under review on its White",
     [0.030015, -0.045245, 0.105275, 0.923171, 0.829681, 1.016662]),
    ("ethics-calibration-function", "another seed's patients, scores made too extreme",
     [-0.147888, -0.240407, -0.055369, 0.572288, 0.511066, 0.63351]),
    ("ethics-proxy-function", "another seed's patients (2,000)", [0.677680030392, 0.648521654218, 0.705075479109]),
    ("ethics-proxy-function", "the same patients: is the patient in the small 'Other'",
     [0.535541199234, 0.481217428314, 0.58437029251]),
    ("ethics-counterfactual-function", "a model trained on another seed's patients; sex flipped",
     [0.000189728027, 0.003073142218, 0.012, 0.006, 0.006]),
    ("ethics-counterfactual-function", "the same patients, everyone made older",
     [0.008651872876, 0.009098264593, 0.027, 0.024, 0.003]),
    ("ethics-whatif-function", "another seed's patient scored by the model under review",
     {"private": 0.064314083091, "Medicaid": 0.072163745875, "Medicare": 0.061727976508}),
    ("ethics-whatif-function", "the same patient, the number of chronic conditions",
     {"0": 0.044980627134, "4": 0.152037217039, "9": 0.488070765646}),
    ("ethics-whatif-function", "another patient scored by gradient-boosted trees",
     {"over 60": 0.083423508185, "under 30": 0.10291842226, "30-60": 0.108203635997}),
    ("ethics-whatif-function", "the trees, visits in the past year", {"0": 0.169155449501, "10": 0.115029274641,
                                                                       "30": 0.139911155984}),
]


@pytest.mark.parametrize("question_id, name, old", OLD_VALUES, ids=[f"{q}:{n[:30]}" for q, n, _ in OLD_VALUES])
def test_the_references_reproduce_the_values_fixed_when_the_solutions_were_written(question_id, name, old):
    # the old six-patient test enrolled half of them; the hidden case enrolls two of the three tied ones
    changes = {"top_share": 0.5} if name == "six patients" and old["q"][0] != 0.5 else {}
    got = reference(question_id, name, **changes)
    if question_id == "ethics-label-choice-function":
        got = {group: [got["share_of_enrolled"][group], got["enrolled_at_high_need"][group]] for group in old}
        for group, values in old.items():
            assert np.allclose(got[group], values, atol=1e-9, equal_nan=True), (group, got[group])
    elif question_id == "ethics-calibration-function":
        keys = ["intercept", "intercept_low", "intercept_high", "slope", "slope_low", "slope_high"]
        assert np.allclose([got[k] for k in keys], old, atol=1e-3), got
    elif question_id == "ethics-proxy-function":
        assert np.allclose([got["auc"], got["ci_low"], got["ci_high"]], old, atol=1e-6), got
    elif question_id == "ethics-counterfactual-function":
        keys = ["mean_change", "mean_abs_change", "share_changed", "newly_flagged", "no_longer_flagged"]
        assert np.allclose([got[k] for k in keys], old, atol=1e-9), got
    else:
        assert list(got) == list(old) and np.allclose(list(got.values()), list(old.values()), atol=1e-9), got


def test_the_shap_reference_is_what_shap_itself_gives():
    import shap

    found = case("ethics-shap-function", "a model with other features")
    inputs = found.build_inputs()
    model = ethics.fitted_model(ethics.shap_spec(inputs["numeric_cols"], inputs["categorical_cols"]),
                                inputs["X_train"], inputs["y_train"])
    masker = shap.maskers.Independent(model[:-1].transform(inputs["background"]), max_samples=len(inputs["background"]))
    explanation = shap.LinearExplainer(model[-1], masker)(model[:-1].transform(inputs["patients"]))
    expected = np.concatenate([explanation.values.ravel(), explanation.base_values])
    assert np.allclose(found.reference(**inputs), expected, atol=1e-9)


def test_the_bootstrap_aucs_from_ranks_are_scikit_learns():
    rng = np.random.default_rng(0)
    members = rng.random((20, 60)) < 0.3
    scores = np.round(rng.random((20, 60)), 1)  # ties
    aucs = MODULE.rank_aucs(members.astype(int), scores)
    assert np.allclose(aucs, [roc_auc_score(m, s) for m, s in zip(members, scores)], atol=1e-12)


# --- the judge: right answers pass, wrong ones and constants score 0 -------------------------------------------------

@pytest.mark.parametrize("question_id", CODE)
def test_a_correct_answer_written_here_earns_full_marks(judge, tmp_path, question_id):
    verdict = judged(judge, tmp_path, question_id, CORRECT[question_id])
    assert verdict.points == verdict.max_points, verdict.message
    assert evaluate(question_id, CORRECT[question_id]).passed


WRONG_CASES = [(qid, function) for qid, functions in WRONG.items() for function in functions]


@pytest.mark.parametrize("question_id, function", WRONG_CASES,
                         ids=[f"{q}:{getattr(f, '__name__', 'f')}" for q, f in WRONG_CASES])
def test_a_usual_mistake_or_a_constant_scores_nothing_and_the_feedback_names_a_case(judge, tmp_path, question_id,
                                                                                    function):
    verdict = judged(judge, tmp_path, question_id, function)
    assert verdict.points == 0, verdict.message
    failed = [result for result in verdict.cases if not result.passed]
    assert any(not result.public for result in failed), verdict.message  # the hidden cases catch it too
    public_passed = all(result.passed for result in verdict.cases if result.public)
    named = [result.name for result in failed if result.name in verdict.message]
    assert named or "each the same way" in verdict.message, verdict.message
    if public_passed:  # only the hidden cases catch it: the feedback names one
        assert any(not result.public and result.name in verdict.message for result in failed), verdict.message
    # the visible check accepts on the public cases exactly what the judge accepts on them
    assert evaluate(question_id, function).passed == public_passed


def test_mistakes_the_public_cases_miss_are_caught_by_hidden_ones(judge, tmp_path):
    for question_id, function in [("ethics-counterfactual-function", strictly_above),
                                  ("ethics-shap-function", default_masker),
                                  ("ethics-assessment-function", typed_in_numbers),
                                  ("ethics-assessment-function", route_not_named),
                                  ("ethics-assessment-function", no_contestability),
                                  ("ethics-assessment-function", one_sided)]:
        assert evaluate(question_id, function).passed, (question_id, function.__name__)
        verdict = judged(judge, tmp_path, question_id, function)
        assert verdict.points == 0, verdict.message


def test_the_assessment_feedback_says_which_criterion_fails(judge, tmp_path):
    for function, words in [(typed_in_numbers, "do not type it in"), (route_not_named, "does not name the route"),
                            (no_contestability, "validate_assessment finds"), (one_sided, "runs one way only")]:
        verdict = judged(judge, tmp_path, "ethics-assessment-function", function)
        assert words in verdict.message and "the notebook's own validation results" in verdict.message, verdict.message


# --- the law: graded on 24 unseen system descriptions ------------------------------------------------------------------

def test_the_law_is_judged_on_24_coherent_descriptions_where_every_answer_occurs():
    cases = HIDDEN.cases["ethics-law-function"]
    systems = [case.inputs["system"] for case in cases]
    assert len(systems) == 24 and len({tuple(sorted(s.items())) for s in systems}) == 24
    answers = [regulatory_routes(system) for system in systems]
    for field, values in [("eu_route", {"Article 6(1)", "Article 6(2)", "Article 6(3)", "none"}),
                          ("fda_route", {"not a device", "non-device CDS", "device"}), ("fria", {True, False}),
                          ("section_1557", {True, False})]:
        counts = pd.Series([a[field] for a in answers]).value_counts()
        assert set(counts.index) == values and counts.max() <= 16, (field, counts)
    for system in systems:  # a medical purpose has a device class; no purpose is medical without one
        medical = system["purpose"] in ("diagnosis", "treatment recommendation", "emergency triage")
        assert medical == (system["medical_device_class"] in ("I", "IIa", "IIb", "III")) or (
            system["purpose"] == "care management" and system["medical_device_class"] == "IIa")


@pytest.mark.parametrize("function", [ignores_profiling, class_one_needs_a_notified_body,
                                      fria_for_every_high_risk_system, no_cds_criteria,
                                      section_1557_for_every_funded_tool])
def test_a_mistake_about_one_provision_costs_an_eighth_per_description_it_gets_wrong(judge, tmp_path, function):
    verdict = judged(judge, tmp_path, "ethics-law-function", function)
    assert_each_wrong_scenario_costs_an_eighth(verdict, "")
    assert verdict.points <= 0.75 * verdict.max_points, verdict.message


def test_always_high_risk_and_never_a_device_score_at_most_30_percent(judge, tmp_path):
    for function in (always_high_risk, never_a_device, high_risk_and_device_whenever_it_is_medical):
        verdict = judged(judge, tmp_path, "ethics-law-function", function)
        assert verdict.points <= 0.3 * verdict.max_points, (function.__name__, verdict.message)


# --- the escalation policy: graded on 30 years -------------------------------------------------------------------------

def _results(noisy=0, missed=0, public_failed=0):
    results = [CaseResult(f"p{i}", "public", True, i >= public_failed) for i in range(3)]
    results += [CaseResult(f"h{i}", "year", False, False, f"'coding change' {MODULE.NOISY}, in month 2")
                for i in range(noisy)]
    results += [CaseResult(f"m{i}", "year", False, False, f"'coding change' {MODULE.MISSED}: ...")
                for i in range(missed)]
    results += [CaseResult(f"k{i}", "year", False, True) for i in range(30 - noisy - missed)]
    return results


def test_the_policy_score_allows_one_noisy_year_and_no_missed_change():
    score = HIDDEN.scoring["ethics-policy-function"]
    assert score(_results()) == 1.0
    assert score(_results(noisy=1)) == 1.0
    assert score(_results(noisy=2)) == 0.0
    assert score(_results(missed=1)) == 0.0
    assert score(_results(public_failed=1)) == 0.0


def test_the_policy_criteria_judge_first_alerts_against_the_changes():
    findings = MODULE.policy_findings
    changes = {"population shift": 6, "coding change": 9}
    assert findings({"population shift": 6, "coding change": 11}, changes) == []
    assert findings({"population shift": 7, "coding change": 9}, changes) == []
    late = findings({"population shift": 8, "coding change": 9}, changes)
    assert len(late) == 1 and "missed or late" in late[0]
    early = findings({"population shift": 6, "coding change": 3}, changes)
    assert len(early) == 1 and "raised too early" in early[0]
    assert findings({}, {"population shift": None, "coding change": None}) == []
    assert "raised too early" in findings({"coding change": 4}, {"population shift": None, "coding change": None})[0]


def test_an_honest_policy_earns_full_marks_and_never_or_always_alerting_nothing(judge, tmp_path):
    good = judged(judge, tmp_path, "ethics-policy-function", escalation_policy)
    assert good.points == 5 and all(result.passed for result in good.cases), good.message
    for policy in (never_alerts, always_alerts):
        verdict = judged(judge, tmp_path, "ethics-policy-function", policy)
        assert verdict.points == 0, verdict.message
        hidden = [result for result in verdict.cases if not result.public]
        assert sum(not result.passed for result in hidden) >= 10, verdict.message
