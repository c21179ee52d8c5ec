"""Questions of notebook 03 (ethics review of a readmission-risk model for care management).

Most answers are functions the learner writes: the label-choice audit, calibration intercept and
slope with intervals, a proxy check, a counterfactual check, SHAP values, what-if scores for one
patient, the EU, FDA and civil-rights routes of a system, an impact assessment generated from results, and the escalation policy
of the monitoring plan.  Their public cases are data in ``cases/``; the hidden cases
(``solutions/hidden/03_ethics_review.py``) run them on other cohorts, other models and simulated years
the learner never sees.  One value question is a first step: the FNR gap of the model under review,
its answer key computed by the instructor's material from the seeded cohort.

The ``run`` harnesses below say how a case exercises an answer -- which model it is given, how a
document or a list of alerts is read.  When a notebook is graded they run in the learner's kernel, so
they only call the learner's code and return what it gave as data -- scores, a table, the document
itself, the months an alert was raised -- and hold neither a solution nor a pass criterion: the judge
checks that data outside the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course_utils.exercises._cases import cases_for
from course_utils.exercises._question import (AnswerProblem, CodeQuestion, Misconception, Question, describe,
                                               numbers_match)
from course_utils.exercises.rules import (known, opposite_sign, output_decisions, output_other_class,
                                          percentage_not_proportion)

NOTEBOOK = "03"
NOTEBOOK_FILES = {NOTEBOOK: "03_ethics_review"}

#: The two alerts an escalation policy may raise.
ALERT_NAMES = ("population shift", "coding change")


# --- harnesses: how the check runs an answer --------------------------------------------------------

#: The models a case may name, by their scikit-learn class (see :func:`case_model`).
_ESTIMATORS = {
    "LinearRegression": ("sklearn.linear_model", {}),
    "LogisticRegression": ("sklearn.linear_model", {"max_iter": 1000}),
    "HistGradientBoostingRegressor": ("sklearn.ensemble", {}),
    "HistGradientBoostingClassifier": ("sklearn.ensemble", {}),
    "DecisionTreeClassifier": ("sklearn.tree", {}),
}


def case_model(spec=None):
    """The unfitted model a case names, built from plain settings.

    ``spec`` is the name of a scikit-learn estimator (``"LogisticRegression"``: with ``max_iter=1000``), or a
    dict ``{"estimator": name, "params": {...}, "scale": [columns], "one_hot": [columns], "rest": "drop" or
    "passthrough"}``: a pipeline that standard-scales the ``scale`` columns and one-hot encodes the ``one_hot``
    columns (in that order, the other columns dropped or passed through) before the estimator.  A case names
    its model in words, not as an estimator object, so that the same words build the same model in the
    learner's kernel and in the grader.
    """
    import importlib

    spec = {"estimator": spec} if isinstance(spec, str) else dict(spec or {"estimator": "LogisticRegression"})
    module, defaults = _ESTIMATORS[spec["estimator"]]
    estimator = getattr(importlib.import_module(module), spec["estimator"])(**{**defaults, **spec.get("params", {})})
    if not spec.get("scale") and not spec.get("one_hot"):
        return estimator
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    steps = [("numeric", StandardScaler(), list(spec["scale"]))] if spec.get("scale") else []
    if spec.get("one_hot"):
        steps.append(("categorical", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), list(spec["one_hot"])))
    return make_pipeline(ColumnTransformer(steps, remainder=spec.get("rest", "drop")), estimator)


def _one_thread():
    """One thread for NumPy and scikit-learn while the learner's code runs: the arithmetic of the grader's
    references, bit for bit."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def run_label_choice(label_choice_audit, model="LinearRegression", **inputs):
    """The learner's audit with the case's model (unfitted): a plain linear regression unless the case names one."""
    with _one_thread():
        return label_choice_audit(model=case_model(model), **inputs)


def run_proxy(proxy_auc, model="LogisticRegression", **inputs):
    """The learner's proxy check with the case's model (unfitted) as the one that guesses the group: a logistic
    regression unless the case names one."""
    with _one_thread():
        return proxy_auc(model=case_model(model), **inputs)


def fitted_model(spec, X_train, y_train):
    """The case's model fitted on the case's training patients (one thread: the same model in the grader)."""
    with _one_thread():
        return case_model(spec).fit(X_train, y_train)


def run_counterfactual(counterfactual_change, X_train, y_train, model="LogisticRegression", **inputs):
    """Fit the case's model (a logistic regression unless it names one) on its training patients, then run the
    learner's check with it."""
    fitted = fitted_model(model, X_train, y_train)
    with _one_thread():
        return counterfactual_change(model=fitted, **inputs)


def shap_spec(numeric_cols, categorical_cols):
    """The model of a SHAP case: standard-scaled numbers and one-hot encoded categories, then a logistic regression."""
    return {"estimator": "LogisticRegression", "scale": list(numeric_cols), "one_hot": list(categorical_cols)}


def _shap_model(background, y, numeric_cols, categorical_cols, X_train=None, y_train=None):
    """Fitted on X_train, y_train when the case gives them, else on the background patients and their outcomes."""
    X, outcome = (background, y) if X_train is None else (X_train, y_train)
    return fitted_model(shap_spec(numeric_cols, categorical_cols), X, outcome)


def run_shap(shap_values, background, patients, numeric_cols, categorical_cols, y=None, X_train=None, y_train=None):
    """Fit the case's pipeline; read the learner's Explanation as numbers.

    The numbers are every SHAP value (patients x encoded columns, row by row), then each patient's
    base value.
    """
    model = _shap_model(background, y, numeric_cols, categorical_cols, X_train, y_train)
    with _one_thread():
        explanation = shap_values(model=model, background=background, patients=patients)
    if explanation is None:
        return None
    if not (hasattr(explanation, "values") and hasattr(explanation, "base_values")):
        raise AnswerProblem(f"shap_values should return the shap.Explanation the explainer gives (explainer(...)); "
                            f"it returned a {type(explanation).__name__}.")
    values = np.asarray(explanation.values, dtype=float)
    columns = len(model[:-1].get_feature_names_out())
    if values.shape != (len(patients), columns):
        raise AnswerProblem(f"the Explanation should hold one value per patient and column of the preprocessed input "
                            f"(model[:-1].transform(...)): shape ({len(patients)}, {columns}); it has {values.shape}.")
    base = np.broadcast_to(np.asarray(explanation.base_values, dtype=float).ravel(), (len(patients),))
    return np.concatenate([values.ravel(), base]).tolist()


def _whatif_model(X_train, y_train, model=None):
    """The case's model fitted on X_train, y_train.  By default (the public cases): text columns one-hot encoded,
    numbers passed through, a logistic regression."""
    if model is None:
        from sklearn.compose import make_column_selector, make_column_transformer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder

        encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"),
                                          make_column_selector(dtype_include=object)), remainder="passthrough")
        with _one_thread():
            return make_pipeline(encode, case_model("LogisticRegression")).fit(X_train, y_train)
    return fitted_model(model, X_train, y_train)


def run_whatif(counterfactual_scores, X_train, y_train, patient, column, values, model=None):
    """Fit the case's model on X_train, y_train, then run the learner's function with it on the case's patient.

    The scores must come back as a pandas Series indexed by the values, in their order: a list or an array
    loses which score belongs to which value.
    """
    fitted = _whatif_model(X_train, y_train, model)
    with _one_thread():
        scores = counterfactual_scores(model=fitted, patient=patient, column=column, values=values)
    if scores is None:
        return None
    example = f"pd.Series(scores, index=values): then result[{values[0]!r}] is the score with {column} = {values[0]!r}"
    if not isinstance(scores, pd.Series):
        raise AnswerProblem(f"counterfactual_scores should return a pandas Series indexed by `values`; it returned "
                            f"{describe(scores)}, which tells the scores apart only by position. Return "
                            f"{example}.")
    if [str(v) for v in scores.index] != [str(v) for v in values]:
        raise AnswerProblem(f"the Series should be indexed by `values` ({list(values)}), in their order; its index is "
                            f"{list(scores.index)[:6]}. Return {example}.")
    return scores


def _as_text(value):
    """A document's dates as the text YAML would hold (``2027-06-30``); everything else as it is."""
    import datetime

    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_text(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def run_assessment(build_assessment, results):
    """The learner's document itself, as data (a dict of fields).  Whether it is valid and says what the results
    say is judged outside the kernel; the public cases compare the fields the results fix."""
    document = build_assessment(results=results)
    if document is None:
        return None
    if not isinstance(document, dict):
        raise AnswerProblem(f"build_assessment should return the assessment as a dict of fields; it returned a "
                            f"{type(document).__name__}.")
    return _as_text(document)


def first_alerts(alerts):
    """``{alert name: first month it was raised}`` from a policy's alerts (or evaluate_rules' table)."""
    if not (hasattr(alerts, "columns") and hasattr(alerts, "loc")):
        raise AnswerProblem(f"escalation_policy should return a DataFrame with one row per alert (columns 'month' and "
                            f"'alert'); it returned a {type(alerts).__name__}.")
    alerts = alerts.reset_index() if "month" not in alerts.columns else alerts
    name = "alert" if "alert" in alerts.columns else "rule" if "rule" in alerts.columns else None
    if name is None or "month" not in alerts.columns:
        raise AnswerProblem(f"escalation_policy's table should have the columns 'month' and 'alert'; it has "
                            f"{list(alerts.columns)}.")
    if "status" in alerts.columns:  # evaluate_rules also lists months with too little data to judge
        alerts = alerts[alerts["status"] == "alert"]
    unknown = sorted({str(a) for a in alerts[name]} - set(ALERT_NAMES))
    if unknown:
        raise AnswerProblem(f"every alert should be named {' or '.join(map(repr, ALERT_NAMES))}; yours include "
                            f"{', '.join(map(repr, unknown))}.")
    return {alert: int(alerts.loc[alerts[name] == alert, "month"].min()) for alert in ALERT_NAMES
            if (alerts[name] == alert).any()}


def run_policy(escalation_policy, monthly, shift_month=None, coding_month=None):
    """Which alerts the learner's policy has raised by each month of the case's year, judged as it happens.

    The policy is called once per month, on the table as it stands at the end of that month
    (:func:`course_utils.monitoring.as_known_at`): later months are not there, and the outcome columns of the
    newest month are NaN because its 30-day readmissions are not known yet.  An alert counts from the first
    month whose call returns it.  ``{"population shift by month 0": False, ..., "coding change by month 11":
    True}``.  The months of the changes (public cases list them for the reader) are not given to the policy,
    and nothing here says whether the alerts are right.
    """
    from course_utils.monitoring import as_known_at

    table = monthly.set_index(["month", "race"]) if "month" in monthly.columns else monthly
    months = sorted({int(month) for month in table.index.get_level_values("month")})
    first = {}
    for month in months:
        alerts = escalation_policy(monthly=as_known_at(table, month))
        if alerts is None:
            return None
        for alert in first_alerts(alerts):
            first.setdefault(alert, month)
        if len(first) == len(ALERT_NAMES):  # both raised: later calls cannot change when
            break
    return {f"{alert} by month {month}": alert in first and first[alert] <= month
            for alert in ALERT_NAMES for month in months}


# --- rules that look at the case's inputs -------------------------------------------------------------


def _label_rules():
    def adds_up_to_one(output, expected, inputs):
        rates = [v for v in output["enrolled_at_high_need"].values() if not math.isnan(v)]
        wanted = [v for v in expected["enrolled_at_high_need"].values() if not math.isnan(v)]
        return len(rates) > 1 and numbers_match(sum(rates), 1, 1e-9) and not numbers_match(sum(wanted), 1, 1e-9)

    def whole_cohort(output, expected, inputs):
        groups = pd.Series(np.asarray(inputs["sensitive_features"])).astype(str).value_counts(normalize=True)
        return all(numbers_match(output["share_of_enrolled"][g], groups.get(g, 0), 1e-9)
                   for g in expected["share_of_enrolled"]) and not all(
            numbers_match(groups.get(g, 0), e, 1e-9) for g, e in expected["share_of_enrolled"].items())

    def percentages(output, expected, inputs):
        return all(numbers_match(o, 100 * expected[c][g], 1e-6) for c in expected for g, o in output[c].items()
                   if not math.isnan(expected[c][g])) and any(v > 0 for v in expected["share_of_enrolled"].values())

    return [
        Misconception(percentages, "Those are percentages. Return proportions between 0 and 1."),
        Misconception(whole_cohort, "Your share_of_enrolled is each group's share of all patients. It should be the "
                                    "group's share of the enrolled patients only (the top scores)."),
        Misconception(adds_up_to_one, "Your enrolled_at_high_need adds up to 1 over the groups: that is the make-up of "
                                      "the enrolled high-need patients. The question is, within each group, what share "
                                      "of its high-need patients is enrolled: divide by the group's high-need patients."),
    ]


def _calibration_rules():
    def difference_of_means(output, expected, inputs):
        y, p = np.asarray(inputs["y_true"], float), np.asarray(inputs["y_prob"], float)
        return numbers_match(output["intercept"], y.mean() - p.mean(), 1e-6) and not numbers_match(
            expected["intercept"], y.mean() - p.mean(), 1e-3)

    def logit_of_means(output, expected, inputs):
        y, p = np.asarray(inputs["y_true"], float), np.asarray(inputs["y_prob"], float)
        gap = math.log(y.mean() / (1 - y.mean())) - math.log(p.mean() / (1 - p.mean()))
        return numbers_match(output["intercept"], gap, 1e-6) and not numbers_match(expected["intercept"], gap, 1e-3)

    def ignores_level(output, expected, inputs):
        from scipy.stats import norm

        level = inputs.get("confidence_level", 0.95)
        ratio = norm.ppf(0.975) / norm.ppf((1 + level) / 2)
        width = output["slope_high"] - output["slope_low"]
        return level != 0.95 and numbers_match(width, ratio * (expected["slope_high"] - expected["slope_low"]), 1e-3)

    return [
        Misconception(difference_of_means, "Your intercept is the mean outcome minus the mean prediction "
                                           "(calibration-in-the-large as a difference). The calibration intercept is on "
                                           "the log-odds scale: the a in logit P(y=1) = a + logit(p), with the model's "
                                           "log-odds as a fixed offset."),
        Misconception(logit_of_means, "Your intercept compares the log-odds of the two means. The calibration "
                                      "intercept fits a to every patient: solve sum(expit(a + logit(p))) = sum(y)."),
        Misconception(ignores_level, "Your interval is a 95 % interval whatever confidence_level says: use "
                                     "norm.ppf((1 + confidence_level) / 2) as the multiplier."),
    ]


def _proxy_rules():
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import KFold, cross_val_predict

    def target(inputs):
        return (pd.Series(np.asarray(inputs["sensitive_features"])).astype(str) == str(inputs["group"])).to_numpy()

    def guesser(inputs):
        return case_model(inputs.get("model", "LogisticRegression"))

    def in_sample(output, expected, inputs):
        y = target(inputs).astype(int)
        scores = guesser(inputs).fit(inputs["X"], y).predict_proba(inputs["X"])[:, 1]
        return numbers_match(output["auc"], roc_auc_score(y, scores), 1e-9)

    def unstratified(output, expected, inputs):
        y = target(inputs).astype(int)
        folds = KFold(inputs.get("n_splits", 5), shuffle=True, random_state=inputs.get("random_state", 0))
        scores = cross_val_predict(guesser(inputs), inputs["X"], y, cv=folds, method="predict_proba")[:, 1]
        return numbers_match(output["auc"], roc_auc_score(y, scores), 1e-9) and not numbers_match(
            output["auc"], expected["auc"], 1e-9)

    return [
        Misconception(lambda output, expected, inputs: numbers_match(output["auc"], 1 - expected["auc"], 1e-9),
                      "Your AUC is 1 minus the expected one: the model predicts membership of the other groups. Code "
                      "the patients of `group` as 1 and everyone else as 0."),
        Misconception(in_sample, "That AUC is in-sample: the model was fitted on every patient and then scored them, "
                                 "which flatters it. Use out-of-fold scores (cross_val_predict)."),
        Misconception(unstratified, "Your folds are not stratified: StratifiedKFold(n_splits, shuffle=True, "
                                    "random_state=random_state)."),
    ]


def _counterfactual_rules():
    return [
        Misconception(lambda output, expected, inputs: numbers_match(output["mean_change"], -expected["mean_change"], 1e-9)
                      and expected["mean_change"] != 0,
                      "Your mean change has the wrong sign: it is the counterfactual score minus the original score."),
        Misconception(lambda output, expected, inputs: numbers_match(output["share_changed"],
                                                                     expected["share_changed"] * len(inputs["X"]), 1e-9)
                      and expected["share_changed"] > 0,
                      "Your share_changed is a count of patients. Divide by the number of patients."),
        Misconception(lambda output, expected, inputs: numbers_match(output["share_changed"],
                                                                     100 * expected["share_changed"], 1e-9)
                      and expected["share_changed"] > 0,
                      "Those are percentages. Return proportions between 0 and 1."),
    ]


def _shap_rules():
    def probabilities(output, expected, inputs):
        model = _shap_model(inputs["background"], inputs.get("y"), inputs["numeric_cols"], inputs["categorical_cols"],
                            inputs.get("X_train"), inputs.get("y_train"))
        n = len(inputs["patients"])
        values = np.asarray(output[: len(output) - n]).reshape(n, -1)
        risk = model.predict_proba(inputs["patients"])[:, 1]
        return np.allclose(values.sum(axis=1) + np.asarray(output[-n:]), risk, atol=1e-4)

    return [
        Misconception(probabilities, "Your values add up to predicted probabilities. LinearExplainer explains the "
                                     "logistic regression's log-odds: give it model[-1] and the encoded data."),
    ]


def _whatif_rules():
    def unchanged(output, expected, inputs):
        own = _whatif_model(inputs["X_train"], inputs["y_train"], inputs.get("model")).predict_proba(
            inputs["patient"])[:, 1][0]
        return all(numbers_match(o, own, 1e-9) for o in output.values()) and not all(
            numbers_match(e, own, 1e-9) for e in expected.values())

    return [
        output_decisions(),
        output_other_class(),
        Misconception(unchanged, "Every value gives the patient's own score: the frame you scored still holds the "
                                 "patient's value of `column`. Score a copy with the column set, e.g. "
                                 "patient.assign(**{column: value})."),
    ]


def _law_rules():
    def says(field, value, when=lambda system: True):
        return lambda output, expected, inputs: (output.get(field) == value and expected[field] != value
                                                 and when(inputs["system"]))

    return [
        Misconception(says("eu_route", "Article 6(3)", lambda s: s["profiling"]),
                      "The Article 6(3) exemption never covers a system that profiles people (its last subparagraph): "
                      "an Annex III system that profiles is always high-risk."),
        Misconception(says("eu_route", "Article 6(1)", lambda s: s["medical_device_class"] == "I"),
                      "Article 6(1) needs a product that must undergo a third-party (notified-body) conformity "
                      "assessment. MDR class I software is self-certified by its manufacturer."),
        Misconception(says("eu_route", "Article 6(2)", lambda s: s["purpose"] in ("care management",
                                                                                 "health-benefit eligibility")
                           and s["deployer"] == "private company"),
                      "Annex III 5(a) lists systems used by public authorities or on their behalf; a private "
                      "company's allocation of its own services is not in it."),
        Misconception(lambda output, expected, inputs: output.get("high_risk") is True and expected["high_risk"] is False
                      and expected["eu_route"] == "none",
                      "Health is not an Annex III area in itself: a system is high-risk through Article 6(1) (a "
                      "medical device that needs a notified body) or through a listed Annex III use."),
        Misconception(says("fria", True, lambda s: s["deployer"] == "private company"),
                      "Article 27 asks for a fundamental-rights impact assessment from deployers governed by public "
                      "law or providing public services, and from any deployer of an Annex III 5(b) or 5(c) system "
                      "-- not from every deployer of a high-risk system."),
        Misconception(says("fria", False, lambda s: s["purpose"] == "health-insurance pricing"),
                      "Pricing life or health insurance is Annex III 5(c), and Article 27 asks every deployer of a "
                      "5(c) system for a fundamental-rights impact assessment, private or public."),
        Misconception(says("fria", True, lambda s: s["medical_device_class"] in ("IIa", "IIb", "III")),
                      "Article 27 is about the systems of Article 6(2) (Annex III). A medical device that is "
                      "high-risk through Article 6(1) alone needs no fundamental-rights impact assessment."),
        Misconception(says("fda_route", "device", lambda s: s["medical_device_class"] == "not a medical device"),
                      "Software with no medical claim is not a device; section 520(o)(1)(A) names administrative "
                      "support such as population health management and benefit eligibility outright."),
        Misconception(says("fda_route", "non-device CDS", lambda s: s["time_critical"]),
                      "Under the 2026 CDS guidance a time-critical decision fails criterion 4: a professional who "
                      "must act at once cannot independently review the basis."),
        Misconception(says("fda_route", "non-device CDS", lambda s: s["users"] != "health-care professionals"),
                      "Criterion 3 of section 520(o)(1)(E): the software supports or provides recommendations to a "
                      "health-care professional. Software for patients or administrative staff is not non-device "
                      "CDS."),
        Misconception(says("section_1557", True, lambda s: not s["us_federal_funding"]),
                      "45 CFR 92.210 binds covered entities -- those receiving federal financial assistance for "
                      "their health programmes, among others; without it the rule does not reach the deployer."),
        Misconception(says("section_1557", True, lambda s: s["purpose"] in ("appointment scheduling",
                                                                           "health-benefit eligibility",
                                                                           "health-insurance pricing")),
                      "45 CFR 92.210 is about patient care decision support tools: tools that support clinical "
                      "decisions about patients. Scheduling, eligibility and pricing tools are not."),
    ]


def _assessment_rules():
    """Rules on what the public cases compare: the facts and the class, which the results fix."""
    def differs(field):
        return lambda output, expected, inputs: field in expected and output[field] != expected[field]

    return [
        Misconception(differs("use_context"), "use_context should carry results['system'] as it is: the facts the "
                                              "class follows from, not facts typed in."),
        Misconception(differs("eu_ai_act_risk_class"), "The risk class should follow results['ai_act']: 'high-risk' "
                                                       "exactly when it says high_risk is True, otherwise "
                                                       "'minimal-risk'."),
    ]


def _policy_rules():
    """Rules on the months by which each alert has been raised (the harness's record) against the case's."""
    def noisy(output, expected, inputs):
        return any(output[key] is True and value is False for key, value in expected.items())

    def late(alert):
        return lambda output, expected, inputs: any(output[key] is False and value is True
                                                    for key, value in expected.items() if key.startswith(alert))

    return [
        Misconception(noisy, "Your policy raises an alert before anything changed: it fires on noise. Look at how "
                             "much the watched values vary from month to month before a change, and ask for two "
                             "months in a row where one noisy month should not page anyone."),
        Misconception(late("population shift"), "Your 'population shift' alert is missing or late: it should fire in "
                                                "the month the group's share jumps, or the next."),
        Misconception(late("coding change"), "Your 'coding change' alert is missing or late: it should fire within two "
                                             "months of the month the model stops flagging the group. Is a threshold "
                                             "written as a percentage, or the comparison the wrong way round?"),
    ]


QUESTIONS = [
    CodeQuestion(
        id="ethics-label-choice-function",
        notebook=NOTEBOOK,
        points=4,
        signature="label_choice_audit(model, X, label, sensitive_features, need, high_need=8, top_share=0.03)",
        cases=cases_for("ethics-label-choice-function"),
        returns="table",
        tolerance=1e-9,
        run=run_label_choice,
        misconceptions=_label_rules(),
        hints=["Fit a copy of the model (`sklearn.base.clone(model)`) on X and label, score X, and enrol the "
               "`round(top_share * len(X))` highest scores; equal scores: the earlier row first "
               "(`np.argsort(-scores, kind=\"stable\")`).",
               "share_of_enrolled: each group's count among the enrolled / the number enrolled (0 for a group with "
               "nobody enrolled). enrolled_at_high_need: among the group's patients with need >= high_need, the mean "
               "of enrolled."],
    ),
    Question(
        id="ethics-fnr-gap",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.005,
        misconceptions=[
            opposite_sign("The sign is the wrong way round: the question asks for Black minus White. (A TPR "
                          "difference also has the opposite sign of the FNR difference.)"),
            percentage_not_proportion(),
            known("Black only", "That is the FNR of Black patients alone. The gap is their FNR minus White patients' "
                                "FNR."),
        ],
        hints=["FNR of a group: among its readmitted patients (readmitted_30d == 1), the share not flagged.",
               "Compute it for Black and for White patients in the validation half, then subtract."],
    ),
    CodeQuestion(
        id="ethics-calibration-function",
        notebook=NOTEBOOK,
        points=4,
        signature="calibration_intercept_slope(y_true, y_prob, confidence_level=0.95)",
        cases=cases_for("ethics-calibration-function"),
        returns="record",
        tolerance=1e-4,
        misconceptions=_calibration_rules(),
        hints=["Work on the log-odds, `offset = logit(y_prob)` (scipy.special). The intercept a solves "
               "sum(expit(a + offset)) = sum(y): `brentq(lambda a: np.sum(expit(a + offset) - y), -20, 20)`; its "
               "standard error is 1 / sqrt(sum(q (1 - q))) with q = expit(a + offset).",
               "The slope: a logistic regression of y on [1, offset] without penalty (a few Newton steps with numpy, or "
               "LogisticRegression(C=np.inf)); its standard error is the square root of entry [1, 1] of the inverse of "
               "X.T @ diag(q (1 - q)) @ X. Interval: estimate -/+ norm.ppf((1 + confidence_level) / 2) x SE."],
    ),
    CodeQuestion(
        id="ethics-proxy-function",
        notebook=NOTEBOOK,
        points=3,
        signature=("proxy_auc(model, X, sensitive_features, group, n_splits=5, random_state=0, n_boot=1000, "
                   "confidence_level=0.95)"),
        cases=cases_for("ethics-proxy-function"),
        returns="record",
        tolerance=1e-9,
        run=run_proxy,
        misconceptions=_proxy_rules(),
        hints=["The target is 1 for the patients of `group`, 0 for everyone else. Out-of-fold scores: "
               "cross_val_predict(clone(model), X, y, cv=StratifiedKFold(n_splits, shuffle=True, "
               "random_state=random_state), method=\"predict_proba\")[:, 1]; then roc_auc_score.",
               "Resample exactly as the exercise says: idx = np.random.default_rng(random_state).integers(0, n, "
               "size=(n_boot, n)); the AUC of (y[i], scores[i]) for each row i of idx (skip a resample with one class); "
               "np.nanquantile of those AUCs at (1 - confidence_level) / 2 and (1 + confidence_level) / 2."],
    ),
    CodeQuestion(
        id="ethics-counterfactual-function",
        notebook=NOTEBOOK,
        points=2,
        signature="counterfactual_change(model, X, X_counterfactual, threshold)",
        cases=cases_for("ethics-counterfactual-function"),
        returns="record",
        tolerance=1e-9,
        run=run_counterfactual,
        misconceptions=_counterfactual_rules(),
        hints=["Score both frames with model.predict_proba(...)[:, 1]; a patient is flagged when the score is at least "
               "the threshold. Every result is a mean over all patients."],
    ),
    CodeQuestion(
        id="ethics-shap-function",
        notebook=NOTEBOOK,
        points=3,
        signature="shap_values(model, background, patients)",
        cases=cases_for("ethics-shap-function"),
        returns="array",
        tolerance=1e-6,
        run=run_shap,
        misconceptions=_shap_rules(),
        hints=["The logistic regression is model[-1] and sees the data after model[:-1].transform(...): explain it on "
               "the transformed background and patients.",
               "shap.maskers.Independent(encoded_background, max_samples=len(background)) keeps every background row "
               "(the default keeps 100); shap.LinearExplainer(model[-1], masker); then call the explainer on the "
               "encoded patients."],
    ),
    CodeQuestion(
        id="ethics-whatif-function",
        notebook=NOTEBOOK,
        points=2,
        signature="counterfactual_scores(model, patient, column, values)",
        cases=cases_for("ethics-whatif-function"),
        returns="mapping",
        tolerance=1e-9,
        run=run_whatif,
        misconceptions=_whatif_rules(),
        hints=["For each value, a copy of the patient with the column set: patient.assign(**{column: value}) (assign "
               "returns a new frame and leaves `patient` as it was). Stack the copies with pd.concat and score them "
               "all at once with model.predict_proba(...)[:, 1].",
               "Return pd.Series(scores, index=list(values)): one score per value, the values as the index."],
    ),
    CodeQuestion(
        id="ethics-law-function",
        notebook=NOTEBOOK,
        points=4,
        signature="regulatory_routes(system)",
        cases=cases_for("ethics-law-function"),
        returns="record",
        misconceptions=_law_rules(),
        hints=["Decide the EU route in the order the Act does: Article 6(1) first (MDR class IIa or higher needs a "
               "notified body), then the Annex III point the purpose and the deployer give, then Article 6(3) -- "
               "never for a system that profiles. Article 27's FRIA follows the Annex III point and the deployer.",
               "In the US ask first whether the software has a medical claim at all (section 520(o)(1)(A)); only "
               "then the four CDS criteria. 92.210 needs federal funding and a tool for decisions about "
               "patients' care."],
    ),
    CodeQuestion(
        id="ethics-assessment-function",
        notebook=NOTEBOOK,
        points=3,
        signature="build_assessment(results)",
        cases=cases_for("ethics-assessment-function"),
        returns="record",
        run=run_assessment,
        misconceptions=_assessment_rules(),
        hints=["Start from the template's fields (print(template_path().read_text())) as a dict; write your own text "
               "for each; take every number, the facts and the class from `results`.",
               "value_at_validation for an FNR gap: results['validation']['fnr']['Black'] - "
               "results['validation']['fnr']['White']; met_at_validation: value <= threshold for a difference, "
               "value >= threshold for a ratio."],
    ),
    CodeQuestion(
        id="ethics-policy-function",
        notebook=NOTEBOOK,
        points=5,
        signature="escalation_policy(monthly)",
        cases=cases_for("ethics-policy-function"),
        returns="record",
        run=run_policy,
        misconceptions=_policy_rules(),
        hints=["monthly.xs(\"Black\", level=\"race\") is one row per month for Black patients. Compare each month with "
               "what months before any change look like (the noise), not with the previous month.",
               "Two months in a row: `breach & breach.shift(1, fill_value=False)`. Return "
               "pd.DataFrame(rows, columns=[\"month\", \"alert\"]) -- or evaluate_rules(monthly, your_rules) with rules "
               "named 'population shift' and 'coding change'."],
    ),
]
