"""Hidden material of notebook 03 (ethics review): instructor-only, never in the learner edition or a sandbox.

The value answer is recomputed here from the seeded cohort, the way the notebook builds its model under
review, with the FNR counted with plain pandas.

The code questions' hidden cases run the learner's functions on other seeds' cohorts, other models (named in
plain settings: :func:`course_utils.exercises.questions.ethics.case_model` builds the same model in the
learner's kernel and here), other features, renamed groups, a group without high-need patients, a
counterfactual that changes nothing, other systems' results and 30 simulated deployment years.  Their
references are computed here from the inputs as the learner's code receives them, independently of the
solution: enrolment counted with pandas, the calibration intercept by Newton's method and the slope by
scikit-learn's unpenalised logistic regression, the proxy's bootstrap AUCs from ranks (Mann-Whitney), SHAP
values as the exact linear contributions coefficient x (value - mean).

The pass criteria of the impact assessment and of the escalation policy live here too: the learner's kernel
returns the document and the months by which each alert was raised, and :func:`assessment_findings` and
:func:`policy_findings` judge them in the grader.
"""

import functools
import itertools
import math

import numpy as np
import pandas as pd

from course_utils.exercises.questions.ethics import ALERT_NAMES, case_model, fitted_model, shap_spec
from course_utils.instructor.cases import HiddenCase, Value, decision_score, in_no_telling_order

COHORT_SIZE, COHORT_SEED, FLAG_SHARE = 20000, 0, 0.10
NUMERIC = ["chronic_conditions", "prior_utilisation"]
CATEGORICAL = ["age_band", "sex", "payer"]
FEATURES = NUMERIC + CATEGORICAL
LABEL_FEATURES = ["age_band", "sex", "payer", "chronic_conditions", "prior_utilisation"]
#: The model under review, in the words a case uses: scaled numbers, one-hot categories, a logistic regression.
REVIEW_MODEL = {"estimator": "LogisticRegression", "scale": NUMERIC, "one_hot": CATEGORICAL}


def one_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


@functools.cache
def cohort(n: int, seed: int) -> pd.DataFrame:
    from course_utils.cohort import make_readmission_cohort

    return make_readmission_cohort(n=n, random_state=seed)


@functools.cache
def review():
    """The notebook's model under review, rebuilt: (train half, validation half with scores, model, threshold)."""
    from sklearn.model_selection import train_test_split

    data = cohort(COHORT_SIZE, COHORT_SEED)
    train, test = train_test_split(data, test_size=0.5, random_state=0, stratify=data["readmitted_30d"])
    model = fitted_model(REVIEW_MODEL, train[FEATURES], train["readmitted_30d"])
    with one_thread():
        scores = model.predict_proba(test[FEATURES])[:, 1]
    validation = test.assign(risk_score=scores)
    threshold = float(np.quantile(scores, 1 - FLAG_SHARE))
    validation["flagged"] = (scores >= threshold).astype(int)
    return train, validation, model, threshold


@functools.cache
def validation_decisions() -> pd.DataFrame:
    """The validation half with the model under review's decisions (top 10 % of scores flagged)."""
    _, validation, _, _ = review()
    return pd.DataFrame({"race": validation["race"].astype(str).to_numpy(),
                         "readmitted": validation["readmitted_30d"].to_numpy(),
                         "flagged": validation["flagged"].to_numpy() == 1})


def fnr(group: str) -> float:
    """Among the group's readmitted patients, the share the model did not flag."""
    data = validation_decisions()
    readmitted = data[(data["race"] == group) & (data["readmitted"] == 1)]
    return float((~readmitted["flagged"]).sum() / len(readmitted))


VALUES = {
    "ethics-fnr-gap": Value(expected=lambda: fnr("Black") - fnr("White"), wrong={"Black only": lambda: fnr("Black")}),
}


# --- label_choice_audit -------------------------------------------------------------------------------------------

def label_choice_reference(X, label, sensitive_features, need, high_need=8, top_share=0.03, model="LinearRegression"):
    """Fit the named model, enrol the top scores (ties: the earlier row first), and count with pandas."""
    with one_thread():
        scores = case_model(model).fit(X, label).predict(X)
    taken = round(top_share * len(X))
    rank = pd.Series(np.asarray(scores, dtype=float)).rank(method="first", ascending=False)
    people = pd.DataFrame({"group": pd.Series(np.asarray(sensitive_features)).astype(str),
                           "enrolled": (rank <= taken).to_numpy(), "high": np.asarray(need) >= high_need})
    table = {"share_of_enrolled": {}, "enrolled_at_high_need": {}}
    for group, rows in people.groupby("group"):
        table["share_of_enrolled"][group] = int(rows["enrolled"].sum()) / taken
        high = rows[rows["high"]]
        table["enrolled_at_high_need"][group] = float(high["enrolled"].mean()) if len(high) else math.nan
    return table


def _label_inputs(seed, n, label, high_need=8, top_share=0.03, model=None, groups="race", rename=None):
    data = cohort(n, seed)
    X = pd.get_dummies(data[LABEL_FEATURES], columns=["age_band", "sex", "payer"]).astype(float)
    sensitive = data[groups].astype(str).map(rename) if rename else data[groups]
    return {"model": model or {"estimator": "HistGradientBoostingRegressor",
                               "params": {"max_iter": 30, "random_state": 0}},
            "X": X, "label": data[label], "sensitive_features": sensitive, "need": data["chronic_conditions_next_year"],
            "high_need": high_need, "top_share": top_share}


def _label_tiny():
    """A classifier's scores are its 0/1 decisions: two places for three tied patients, the earlier rows first."""
    return {"model": "LogisticRegression", "X": pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5]}), "label": [0, 0, 0, 1, 1, 1],
            "sensitive_features": ["p", "p", "q", "q", "r", "r"], "need": [9, 9, 9, 9, 1, 1], "high_need": 8,
            "top_share": 0.34}


def _label_shuffled():
    """Renamed groups as a pandas category, rows in a shuffled order indexed by patient id, a linear model."""
    data = cohort(3000, 21).sample(frac=1, random_state=3).set_index("patient_id")
    X = pd.get_dummies(data[LABEL_FEATURES], columns=["age_band", "sex", "payer"]).astype(float)
    names = {"White": "group W", "Black": "group B", "Other": "group O"}
    return {"model": "LinearRegression", "X": X, "label": data["cost"],
            "sensitive_features": data["race"].astype(str).map(names).astype("category"),
            "need": data["chronic_conditions_next_year"], "high_need": 7, "top_share": 0.1}


def _label_no_high_need():
    """The 'Other' patients' recorded need capped below the threshold: a group without high-need patients."""
    inputs = _label_inputs(11, 4000, "cost", model="LinearRegression")
    need = inputs["need"].where(inputs["sensitive_features"].astype(str) != "Other", inputs["need"].clip(upper=5))
    return {**inputs, "need": need}


def _rows_sorted(output, inputs):
    """A property: one row per group, sorted by group (as the exercise says)."""
    wanted = sorted(pd.Series(np.asarray(inputs["sensitive_features"])).astype(str).unique())
    if not (hasattr(output, "index") and hasattr(output, "columns")):
        return "a pandas DataFrame with one row per group was expected"
    given = [str(label) for label in output.index]
    if given != wanted:
        return f"the rows should be the groups, sorted by group: {wanted}; they are {given[:8]}"
    return None


# --- calibration_intercept_slope ----------------------------------------------------------------------------------

def calibration_reference(y_true, y_prob, confidence_level=0.95):
    """The intercept by Newton's method on the offset model; the slope by scikit-learn's unpenalised logistic
    regression on the log-odds; Wald intervals from the Fisher information."""
    from statistics import NormalDist

    from scipy.special import expit, logit
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y_true, dtype=float)
    offset = logit(np.asarray(y_prob, dtype=float))
    z = NormalDist().inv_cdf((1 + confidence_level) / 2)
    a = 0.0
    for _ in range(100):
        q = expit(a + offset)
        step = np.sum(y - q) / np.sum(q * (1 - q))
        a += step
        if abs(step) < 1e-13:
            break
    q = expit(a + offset)
    a_se = 1 / math.sqrt(np.sum(q * (1 - q)))
    with one_thread():
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(offset[:, None], y.astype(int))
    intercept, slope = float(fit.intercept_[0]), float(fit.coef_[0, 0])
    q = expit(intercept + slope * offset)
    design = np.column_stack([np.ones_like(offset), offset])
    b_se = math.sqrt(np.linalg.inv(design.T @ (design * (q * (1 - q))[:, None]))[1, 1])
    return {"intercept": a, "intercept_low": a - z * a_se, "intercept_high": a + z * a_se,
            "slope": slope, "slope_low": slope - z * b_se, "slope_high": slope + z * b_se}


def _validation_group(race):
    _, validation, _, _ = review()
    rows = validation[validation["race"] == race]
    return {"y_true": rows["readmitted_30d"].to_numpy(), "y_prob": rows["risk_score"].to_numpy()}


def _recalibrated(slope, shift, confidence_level, as_list=False):
    """Another seed's patients scored by the model under review, the log-odds stretched and shifted on purpose."""
    from scipy.special import expit, logit

    _, _, model, _ = review()
    patients = cohort(4000, 12)
    with one_thread():
        risk = model.predict_proba(patients[FEATURES])[:, 1]
    y_prob = expit(slope * logit(risk) + shift)
    return {"y_true": patients["readmitted_30d"], "y_prob": y_prob.tolist() if as_list else y_prob,
            "confidence_level": confidence_level}


# --- proxy_auc ----------------------------------------------------------------------------------------------------

def proxy_reference(X, sensitive_features, group, n_splits=5, random_state=0, n_boot=1000, confidence_level=0.95,
                    model="LogisticRegression"):
    """Out-of-fold scores and the AUC from scikit-learn; each resample's AUC from ranks (Mann-Whitney)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = (pd.Series(np.asarray(sensitive_features)).astype(str) == str(group)).to_numpy().astype(int)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    with one_thread():
        scores = cross_val_predict(case_model(model), X, y, cv=folds, method="predict_proba")[:, 1]
    rows = np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y)))
    low, high = np.nanquantile(rank_aucs(y[rows], scores[rows]), [(1 - confidence_level) / 2, (1 + confidence_level) / 2])
    return {"auc": roc_auc_score(y, scores), "ci_low": float(low), "ci_high": float(high)}


def rank_aucs(members, scores):
    """The AUC of each row (Mann-Whitney: the members' mean rank among all, ties sharing their rank); NaN for a row
    with one class only."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1)
    n1 = members.sum(axis=1).astype(float)
    n0 = members.shape[1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * members).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _proxy_inputs(group):
    patients = cohort(2000, 13)
    return {"model": REVIEW_MODEL, "X": patients[FEATURES], "sensitive_features": patients["race"], "group": group,
            "n_boot": 500, "random_state": 1}


def _proxy_renamed():
    patients = cohort(1500, 17)
    X = pd.get_dummies(patients[FEATURES], columns=CATEGORICAL).astype(float)
    names = {"White": "A", "Black": "B", "Other": "C"}
    return {"X": X, "sensitive_features": patients["race"].astype(str).map(names).astype("category"), "group": "B",
            "n_splits": 3, "random_state": 5, "n_boot": 300, "confidence_level": 0.9}


# --- counterfactual_change ----------------------------------------------------------------------------------------

def counterfactual_reference(X_train, y_train, X, X_counterfactual, threshold, model="LogisticRegression"):
    """Both frames scored by the case's model; flagged means a score at least the threshold; means over patients."""
    fitted = fitted_model(model, X_train, y_train)
    with one_thread():
        before = fitted.predict_proba(X)[:, 1]
        after = fitted.predict_proba(X_counterfactual)[:, 1]
    was, now = before >= threshold, after >= threshold
    n = len(before)
    return {"mean_change": float(np.sum(after - before) / n), "mean_abs_change": float(np.sum(np.abs(after - before)) / n),
            "share_changed": int(np.sum(was != now)) / n, "newly_flagged": int(np.sum(now & ~was)) / n,
            "no_longer_flagged": int(np.sum(was & ~now)) / n}


def _counterfactual_inputs(change, threshold):
    patients = cohort(2000, 14)
    X = patients[FEATURES].iloc[:1000]
    return {"model": REVIEW_MODEL, "X_train": patients[FEATURES], "y_train": patients["readmitted_30d"], "X": X,
            "X_counterfactual": change(X), "threshold": threshold}


def _flip_sex(X):
    return X.assign(sex=X["sex"].map({"Female": "Male", "Male": "Female"}))


TREE = {"estimator": "DecisionTreeClassifier", "params": {"max_depth": 3, "random_state": 0},
        "scale": NUMERIC, "one_hot": CATEGORICAL}


def _counterfactual_tied():
    """A shallow tree's few distinct scores, the threshold equal to the commonest (at least the threshold: flagged)."""
    patients = cohort(1500, 18)
    X = patients[FEATURES].iloc[900:1400]
    with one_thread():
        scores = fitted_model(TREE, patients[FEATURES], patients["readmitted_30d"]).predict_proba(X)[:, 1]
    levels, counts = np.unique(scores, return_counts=True)
    return {"model": TREE, "X_train": patients[FEATURES], "y_train": patients["readmitted_30d"], "X": X,
            "X_counterfactual": X.assign(chronic_conditions=X["chronic_conditions"] + 2),
            "threshold": float(levels[counts.argmax()])}


# --- shap_values --------------------------------------------------------------------------------------------------

def shap_reference(background, patients, numeric_cols, categorical_cols, y=None, X_train=None, y_train=None):
    """The exact SHAP values of a linear model with independent features: coefficient x (value - background mean),
    then the base value intercept + background mean @ coefficients, on the log-odds."""
    outcome_X, outcome_y = (background, y) if X_train is None else (X_train, y_train)
    model = fitted_model(shap_spec(numeric_cols, categorical_cols), outcome_X, outcome_y)
    with one_thread():
        mean = np.asarray(model[:-1].transform(background), dtype=float).mean(axis=0)
        encoded = np.asarray(model[:-1].transform(patients), dtype=float)
    coef, intercept = model[-1].coef_[0], model[-1].intercept_[0]
    values = coef * (encoded - mean)
    base = np.full(len(encoded), intercept + mean @ coef)
    return np.concatenate([values.ravel(), base]).tolist()


def _shap_inputs(seed, n, columns, background, patients, other_background_seed=None):
    data = cohort(n, seed)
    numeric = [c for c in columns if c in NUMERIC]
    categorical = [c for c in columns if c in CATEGORICAL]
    back = (cohort(background, other_background_seed)[columns] if other_background_seed is not None
            else data[columns].iloc[:background])
    return {"background": back, "patients": data[columns].iloc[patients], "numeric_cols": numeric,
            "categorical_cols": categorical, "X_train": data[columns], "y_train": data["readmitted_30d"]}


# --- counterfactual_scores ----------------------------------------------------------------------------------------

def whatif_reference(X_train, y_train, patient, column, values, model=None):
    """The case's model scores one copy of the patient per value (pandas assign), column 1 of predict_proba."""
    fitted = fitted_model(model, X_train, y_train)
    with one_thread():
        scores = [float(fitted.predict_proba(patient.assign(**{column: value}))[0, 1]) for value in values]
    return {str(value): score for value, score in zip(values, scores)}


TREES_WHATIF = {"estimator": "HistGradientBoostingClassifier", "params": {"max_iter": 30, "random_state": 0},
                "one_hot": CATEGORICAL, "rest": "passthrough"}


def _whatif_review(column, values):
    """A patient of another seed scored by the model under review (fitted on the notebook's training half)."""
    train, _, _, _ = review()
    patients = cohort(2000, 16)
    return {"model": REVIEW_MODEL, "X_train": train[FEATURES], "y_train": train["readmitted_30d"],
            "patient": patients[FEATURES].iloc[[7]], "column": column, "values": values}


def _whatif_trees(column, values):
    """Another patient scored by gradient-boosted trees trained on that seed's patients."""
    patients = cohort(2000, 16)
    return {"model": TREES_WHATIF, "X_train": patients[FEATURES], "y_train": patients["readmitted_30d"],
            "patient": patients[FEATURES].iloc[[11]], "column": column, "values": values}


# --- regulatory_routes: 24 unseen system descriptions ------------------------------------------------------------

#: What each intended purpose is, in law: (administrative support of a health care facility, FD&C Act
#: § 520(o)(1)(A); a medical purpose; the Annex III point it falls under whoever deploys it; supports clinical
#: decisions about patients, 45 CFR 92.210).  5(a) is added below for public deployers only.
PURPOSES = {
    "care management": (True, False, "none", True),
    "health-benefit eligibility": (True, False, "none", False),
    "appointment scheduling": (True, False, "none", False),
    "health-insurance pricing": (False, False, "5(c)", False),
    "diagnosis": (False, True, "none", True),
    "treatment recommendation": (False, True, "none", True),
    "emergency triage": (False, True, "5(d)", True),
}
#: Purposes that evaluate eligibility for, or allocate, an essential public health service (Annex III 5(a)).
PUBLIC_SERVICE_PURPOSES = {"care management", "health-benefit eligibility"}
PUBLIC_DEPLOYERS = {"public authority", "on behalf of a public authority"}


def annex_iii_point(system) -> str:
    """The Annex III point of a description: 5(a) needs a public deployer, 5(c) and 5(d) do not."""
    if system["purpose"] in PUBLIC_SERVICE_PURPOSES and system["deployer"] in PUBLIC_DEPLOYERS:
        return "5(a)"
    return PURPOSES[system["purpose"]][2]


def law_reference(system) -> dict:
    """The routes of one description, decided here step by step (the course's reading of each provision)."""
    point = annex_iii_point(system)
    exempt = point != "none" and system["article_6_3_condition"] != "none" and not system["profiling"]
    if system["medical_device_class"] in ("IIa", "IIb", "III"):
        route = "Article 6(1)"
    elif point == "none":
        route = "none"
    else:
        route = "Article 6(3)" if exempt else "Article 6(2)"
    # Art. 27(1): Annex III systems (high-risk under 6(2)), public-law bodies and private providers of public
    # services, and every deployer of 5(b) and 5(c).
    fria = point != "none" and not exempt and (system["deployer"] in PUBLIC_DEPLOYERS or point == "5(c)")
    if system["medical_device_class"] == "not a medical device":
        fda = "not a device"  # no medical claim: administrative support (§ 520(o)(1)(A)) or no medical purpose
    elif (not system["analyses_image_or_signal"] and system["users"] == "health-care professionals"
          and not system["time_critical"] and system["basis_reviewable"]):
        fda = "non-device CDS"  # § 520(o)(1)(E): all four criteria
    else:
        fda = "device"
    section_1557 = bool(system["us_federal_funding"] and PURPOSES[system["purpose"]][3])
    return {"eu_route": route, "high_risk": route in ("Article 6(1)", "Article 6(2)"), "fria": bool(fria),
            "fda_route": fda, "section_1557": section_1557}


def descriptions(seed: int = 3031, n: int = 24) -> list[dict]:
    """``n`` coherent descriptions drawn with a seeded generator, so that every value of every output occurs.

    Medical purposes carry a medical-device class; administrative purposes none, except a vendor's
    care-management score sold with a prognostic claim.  A device with a notified body and an exempt Annex III
    use is left out: whether it is still "referred to in Article 6(2)" for Article 27 is unsettled.
    """
    draw = np.random.default_rng(seed)
    pool = {}
    for _ in range(4000):
        purpose = str(draw.choice(list(PURPOSES)))
        medical = PURPOSES[purpose][1]
        classes = ["I", "IIa", "IIb", "III"] if medical else (
            ["not a medical device", "IIa"] if purpose == "care management" else ["not a medical device"])
        system = {
            "purpose": purpose,
            "deployer": str(draw.choice(["public authority", "on behalf of a public authority", "private company"])),
            "medical_device_class": str(draw.choice(classes)),
            "profiling": bool(draw.random() < 0.5),
            "article_6_3_condition": str(draw.choice(["none", "none", "narrow procedural task", "preparatory task"])),
            "users": str(draw.choice(["health-care professionals", "health-care professionals", "patients",
                                      "administrative staff"])),
            "analyses_image_or_signal": bool(medical and draw.random() < 0.3),
            "time_critical": bool(purpose == "emergency triage" or (medical and draw.random() < 0.2)),
            "basis_reviewable": bool(draw.random() < 0.7),
            "us_federal_funding": bool(draw.random() < 0.7),
        }
        unsettled = system["medical_device_class"] in ("IIa", "IIb", "III") and annex_iii_point(system) != "none" \
            and system["article_6_3_condition"] != "none" and not system["profiling"]
        if not unsettled:
            pool.setdefault(tuple(system.items()), system)
    # Round robin over (EU route, FDA route, FRIA, purpose): every answer and purpose occurs, none dominates.
    strata = {}
    for system in pool.values():
        routes = law_reference(system)
        strata.setdefault((routes["eu_route"], routes["fda_route"], routes["fria"], system["purpose"]), []).append(system)
    # Alternate between descriptions that need a FRIA and those that do not: otherwise "never" would be right
    # for three in four.
    keys = sorted(strata)
    by_fria = {need: itertools.cycle([keys[i] for i in draw.permutation(len(keys)) if keys[i][2] is need])
               for need in (True, False)}
    chosen = []
    while len(chosen) < n:
        key = next(by_fria[len(chosen) % 2 == 0])
        if strata[key]:
            chosen.append(strata[key].pop(int(draw.integers(len(strata[key])))))
    return [chosen[i] for i in draw.permutation(n)]


def _describe(system) -> str:
    claim = "no medical claim" if system["medical_device_class"] == "not a medical device" else \
        f"MDR class {system['medical_device_class']}"
    return f"{system['purpose']}, {system['deployer']}, {claim}"


LAW_EXPLAIN = ("decide each output from the facts: Article 6(1) for MDR class IIa or higher, then the Annex III "
               "point (5(a) needs a public deployer), Article 6(3) only without profiling; a FRIA for Annex III "
               "high-risk systems of public deployers and of any 5(c) deployer; § 520(o)(1)(A) and the four CDS "
               "criteria; 92.210 for federally funded tools that support decisions about patients' care")


# --- build_assessment: the pass criteria ----------------------------------------------------------------------------

ERROR_RATES = ("fnr", "tpr", "fpr")


def _compared(results, metric, comparison):
    """A metric's value in ``results``: the group compared with the reference, as the comparison says."""
    values = results["validation"][metric]
    group, reference = values[comparison["group"]], values[comparison["reference"]]
    return group - reference if comparison["measure"] == "difference" else group / reference


def assessment_findings(document, results) -> list[str]:
    """What an impact assessment built from ``results`` gets wrong, in a learner's words (nothing: it is right).

    Valid against the schema; every value_at_validation computed from the results and every met_at_validation
    following from it; an error-rate commitment both ways (the same metric with group and reference swapped); use_context the results' facts; the class following
    the results' route (high-risk exactly when it says so, otherwise minimal-risk); the route named in the
    rationale; the results' data source among the provenance's sources.
    """
    from course_utils.governance import validate_assessment

    if not isinstance(document, dict):
        return [f"build_assessment should return a dict of fields, not {type(document).__name__}"]
    findings = []
    problems = validate_assessment(document)
    if problems:
        findings.append(f"validate_assessment finds {len(problems)} problem(s) in your document, the first: "
                        f"{str(problems[0])[:160]}")
    metrics = [m for m in document.get("fairness_metrics") or [] if isinstance(m, dict)]

    def each(test):
        try:
            return bool(metrics) and all(test(m) for m in metrics)
        except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
            return False

    if not each(lambda m: abs(float(m["value_at_validation"]) - _compared(results, m["metric"], m["comparison"]))
                <= 5e-4):
        findings.append("a value_at_validation is not the value in the results: compute each one from "
                        "results['validation'] (group minus reference, or group / reference), do not type it in")
    if not each(lambda m: bool(m["met_at_validation"]) == (
            m["value_at_validation"] <= m["threshold"] if m["comparison"]["measure"] == "difference"
            else m["value_at_validation"] >= m["threshold"])):
        findings.append("a met_at_validation does not follow from its value and threshold (a difference meets it when "
                        "at most the threshold, a ratio when at least)")
    directions = set()
    for m in metrics:
        comparison = m.get("comparison") if isinstance(m.get("comparison"), dict) else {}
        if m.get("metric") in ERROR_RATES:
            directions.add((m["metric"], comparison.get("group"), comparison.get("reference")))
    if not directions:
        findings.append("no error-rate commitment (fnr, tpr or fpr)")
    elif not any((metric, reference, group) in directions for metric, group, reference in directions):
        findings.append("the error-rate commitment runs one way only: commit to the same metric with group and "
                        "reference swapped too, so that every group is protected")
    context = document.get("use_context")
    if not (isinstance(context, dict) and all(context.get(key) == value for key, value in results["system"].items())):
        findings.append("use_context does not carry results['system'] as it is")
    wanted = "high-risk" if results["ai_act"]["high_risk"] else "minimal-risk"
    if document.get("eu_ai_act_risk_class") != wanted:
        findings.append("eu_ai_act_risk_class does not follow results['ai_act'] ('high-risk' exactly when high_risk "
                        "is True, otherwise 'minimal-risk')")
    if results["ai_act"]["route"] not in str(document.get("risk_class_rationale", "")):
        findings.append("risk_class_rationale does not name the route of results['ai_act']")
    provenance = document.get("data_provenance")
    sources = provenance.get("sources") if isinstance(provenance, dict) else None
    if not (isinstance(sources, list) and results["data_source"] in sources):
        findings.append("data_provenance.sources does not include results['data_source']")
    return findings


def assessment_check(output, inputs):
    findings = assessment_findings(output, inputs["results"])
    return "; ".join(findings[:3]) if findings else None


def _network_facts(**changes):
    facts = {"domain": "health", "deployer": "public hospital network", "medical_device_class": "not a medical device",
             "annex_iii_point": "5(a)", "profiling": True, "article_6_3_condition": "none"}
    return {**facts, **changes}


def _own_results():
    """The notebook's own validation results, counted here with plain pandas."""
    _, validation, _, _ = review()
    by_race = validation.assign(race=validation["race"].astype(str)).groupby("race")
    rates = {
        "fnr": {race: 1 - float(g.loc[g["readmitted_30d"] == 1, "flagged"].mean()) for race, g in by_race},
        "fpr": {race: float(g.loc[g["readmitted_30d"] == 0, "flagged"].mean()) for race, g in by_race},
        "selection_rate": {race: float(g["flagged"].mean()) for race, g in by_race},
        "base_rate": {race: float(g["readmitted_30d"].mean()) for race, g in by_race},
        "ppv": {race: float(g.loc[g["flagged"] == 1, "readmitted_30d"].mean()) for race, g in by_race},
    }
    rates["tpr"] = {race: 1 - value for race, value in rates["fnr"].items()}
    return {"results": {"system_name": "Readmission score 1.0 (graded)", "data_source": "validation half, seed 0",
                        "system": _network_facts(), "ai_act": {"high_risk": True, "route": "Article 6(2)"},
                        "validation": rates}}


def _vendor_results():
    """A vendor's medical-device score whose FNR gap misses the commitment."""
    return {"results": {
        "system_name": "Vendor readmission score 2.3", "data_source": "vendor's multicentre data, 2024-2025",
        "system": _network_facts(deployer="a university hospital", medical_device_class="IIa", annex_iii_point="none"),
        "ai_act": {"high_risk": True, "route": "Article 6(1)"},
        "validation": {"fnr": {"Black": 0.81, "White": 0.66, "Other": 0.7}, "tpr": {"Black": 0.19, "White": 0.34, "Other": 0.3},
                       "fpr": {"Black": 0.04, "White": 0.07, "Other": 0.06},
                       "selection_rate": {"Black": 0.06, "White": 0.1, "Other": 0.09},
                       "base_rate": {"Black": 0.15, "White": 0.11, "Other": 0.1},
                       "ppv": {"Black": 0.4, "White": 0.38, "Other": 0.33}}}}


def _exempt_results():
    """An Annex III system exempt under Article 6(3): not high-risk, every commitment met."""
    return {"results": {
        "system_name": "Discharge-letter completeness check", "data_source": "network audit sample, 2026",
        "system": _network_facts(deployer="regional health authority", profiling=False,
                                 article_6_3_condition="narrow procedural task"),
        "ai_act": {"high_risk": False, "route": "Article 6(3)"},
        "validation": {"fnr": {"Black": 0.52, "White": 0.55, "Other": 0.6}, "tpr": {"Black": 0.48, "White": 0.45, "Other": 0.4},
                       "fpr": {"Black": 0.12, "White": 0.08, "Other": 0.1},
                       "selection_rate": {"Black": 0.22, "White": 0.13, "Other": 0.15},
                       "base_rate": {"Black": 0.17, "White": 0.12, "Other": 0.13},
                       "ppv": {"Black": 0.37, "White": 0.41, "Other": 0.35}}}}


def _public_results(number):
    from course_utils.exercises.questions import QUESTIONS

    return {"results": QUESTIONS["ethics-assessment-function"].cases()[number].fresh_inputs()["results"]}


# --- escalation_policy: 30 unseen years and the pass criteria ---------------------------------------------------------

#: How many months after its change each alert may fire (0: in the month itself).
WINDOWS = {"population shift": 1, "coding change": 2}
NOISY = "raised too early"          # in a finding: the year was noisy
MISSED = "missed or late"           # in a finding: a change was not caught in time
MONTHS = 12
QUIET_YEARS = [(5000 + k, None, None) for k in range(20)]
CHANGE_YEARS = [(6000 + k, shift, coding) for k, (shift, coding) in enumerate(
    [(3, 7), (4, 9), (5, 8), (6, 9), (2, 5), (7, 10), (None, 6), (None, 4), (5, None), (8, None)])]


#: The grader's populations: a seed no learner can guess, so that no hand-in can recognise a year it was shown.
HIDDEN_POPULATION_SEED = 7_305_197_721


@functools.cache
def simulated_years() -> dict:
    """The 30 years, made at once by the generator learners have (other populations, other seeds)."""
    from course_utils.scenarios import monitoring_years

    _, _, model, threshold = review()
    years = QUIET_YEARS + CHANGE_YEARS
    with one_thread():
        tables = monitoring_years(model, threshold, feature_cols=FEATURES, years=years,
                                  population_seed=HIDDEN_POPULATION_SEED)
    return dict(zip(years, tables))


def simulated_year(seed, shift=None, coding=None) -> pd.DataFrame:
    """One year, 1,000 discharges a month, as metrics_by_period lays it out."""
    return simulated_years()[seed, shift, coding].copy()


def first_raised(output) -> dict:
    """``{alert: first month raised}`` from the harness's record of which alerts were raised by each month."""
    if not isinstance(output, dict):
        raise TypeError("the alerts could not be read")
    first = {}
    for alert in ALERT_NAMES:
        by_month = [output[f"{alert} by month {month}"] for month in range(MONTHS)]
        if not all(isinstance(raised, bool) for raised in by_month):
            raise TypeError("the alerts could not be read")
        raised = [month for month, value in enumerate(by_month) if value]
        if raised:
            first[alert] = raised[0]
    return first


def policy_findings(first: dict, changes: dict) -> list[str]:
    """What is wrong with a year's alerts: each alert quiet before its change (all year, without one) and raised
    within its window after it.  ``changes``: ``{alert: month of the change or None}``."""
    findings = []
    for alert, month in changes.items():
        fired = first.get(alert)
        if fired is not None and (month is None or fired < month):
            when = "in a year without any change" if all(m is None for m in changes.values()) else (
                "before the change it is for" if month is not None else "in a year without that change")
            findings.append(f"{alert!r} {NOISY}, in month {fired}: {when}")
        if month is not None and (fired is None or fired > month + WINDOWS[alert]):
            findings.append(f"{alert!r} {MISSED}: it should be raised within {WINDOWS[alert]} month(s) of the change")
    return findings


def policy_check(shift, coding):
    """The property of one simulated year: its change months stay here, in the grader."""
    def check(output, inputs):
        findings = policy_findings(first_raised(output), {"population shift": shift, "coding change": coding})
        return "; ".join(findings) if findings else None
    return check


def policy_score(results) -> float:
    """Every public case right; in the 30 years no change missed or caught late, noise in at most one year."""
    if not all(result.passed for result in results if result.public):
        return 0.0
    failed = [result for result in results if not result.public and not result.passed]
    noise_only = all(NOISY in result.finding and MISSED not in result.finding for result in failed)
    return 1.0 if noise_only and len(failed) <= 1 else 0.0


def _year_name(seed, shift, coding):
    if shift is None and coding is None:
        return f"a simulated year without any change ({seed - 4999} of 20)"
    changes = [what for what, month in (("a population shift", shift), ("a coding change", coding)) if month is not None]
    return f"a simulated year with {' and '.join(changes)} ({seed - 5999} of 10)"


# --- the cases ------------------------------------------------------------------------------------------------------

UNDEFINED_AT_HIGH_NEED = "a group with no patient at high need has no share enrolled at high need: NaN, not 0"

CASES = {
    "ethics-label-choice-function": [
        HiddenCase("another seed's cohort (4,000 patients), gradient-boosted trees trained on cost",
                   inputs=lambda: _label_inputs(11, 4000, "cost"), reference=label_choice_reference,
                   explain="fit a copy of the model you are given on X and label, enrol the round(top_share x n) "
                           "highest scores; shares are of the enrolled, and at high need within each group"),
        HiddenCase("the same patients, trees trained on need; need threshold 6, top 5 % enrolled",
                   inputs=lambda: _label_inputs(11, 4000, "chronic_conditions_next_year", high_need=6, top_share=0.05),
                   reference=label_choice_reference, explain="use high_need and top_share as given"),
        HiddenCase("renamed groups as a pandas category, rows shuffled and indexed by patient id, a linear model",
                   inputs=_label_shuffled, reference=label_choice_reference,
                   explain="the rows are matched by position, whatever their index"),
        HiddenCase("one row per group, sorted by group", inputs=_label_shuffled, check=_rows_sorted),
        HiddenCase("groups by insurance, a plain linear regression on cost, top 10 %",
                   inputs=lambda: _label_inputs(12, 3000, "cost", high_need=7, top_share=0.1, model="LinearRegression",
                                                groups="payer"),
                   reference=label_choice_reference),
        HiddenCase("six patients, a classifier with tied scores, a group with nobody enrolled", inputs=_label_tiny,
                   reference=label_choice_reference,
                   explain="equal scores: the earlier row is enrolled first (a stable sort); a group with nobody "
                           "enrolled has a share of 0"),
        HiddenCase("a group without high-need patients (six patients)", inputs=_label_tiny,
                   expected={"enrolled_at_high_need": {"r": math.nan}}, reveal=True, explain=UNDEFINED_AT_HIGH_NEED),
        HiddenCase("a cohort where one group has no patient at high need", inputs=_label_no_high_need,
                   reference=label_choice_reference, explain=UNDEFINED_AT_HIGH_NEED),
    ],
    "ethics-calibration-function": [
        HiddenCase("the model under review on its Black validation patients", inputs=lambda: _validation_group("Black"),
                   reference=calibration_reference,
                   explain="the intercept a solves logit P(y=1) = a + logit(p) with logit(p) as an offset; the slope "
                           "is a logistic regression of y on logit(p); Wald intervals"),
        HiddenCase("the model under review on its White validation patients", inputs=lambda: _validation_group("White"),
                   reference=calibration_reference),
        HiddenCase("another seed's patients, scores made too extreme on purpose, a 90 % interval",
                   inputs=lambda: _recalibrated(1.6, 1.2, 0.9), reference=calibration_reference,
                   explain="the interval is estimate -/+ norm.ppf((1 + confidence_level) / 2) x standard error"),
        HiddenCase("the same patients, scores too timid and too low, given as a list, a 99 % interval",
                   inputs=lambda: _recalibrated(0.6, -0.5, 0.99, as_list=True), reference=calibration_reference),
    ],
    "ethics-proxy-function": [
        HiddenCase("another seed's patients (2,000), the notebook's features and encoding: is the patient Black?",
                   inputs=lambda: _proxy_inputs("Black"), reference=proxy_reference,
                   explain="out-of-fold scores from StratifiedKFold(n_splits, shuffle=True, random_state); resample "
                           "rows default_rng(random_state).integers(0, n, size=(n_boot, n))"),
        HiddenCase("the same patients: is the patient in the small 'Other' group?",
                   inputs=lambda: _proxy_inputs("Other"), reference=proxy_reference),
        HiddenCase("renamed groups as a pandas category, 3 folds, 300 resamples, a 90 % interval",
                   inputs=_proxy_renamed, reference=proxy_reference,
                   explain="use n_splits, n_boot and confidence_level as given"),
    ],
    "ethics-counterfactual-function": [
        HiddenCase("a model trained on another seed's patients; sex flipped for 1,000 of them",
                   inputs=lambda: _counterfactual_inputs(_flip_sex, 0.2), reference=counterfactual_reference,
                   explain="changes are counterfactual minus original; every share is over all patients; flagged "
                           "means a score at least the threshold"),
        HiddenCase("the same patients, everyone made older (over 60), another threshold",
                   inputs=lambda: _counterfactual_inputs(lambda X: X.assign(age_band="over 60"), 0.15),
                   reference=counterfactual_reference),
        HiddenCase("a counterfactual that changes nothing",
                   inputs=lambda: _counterfactual_inputs(lambda X: X.copy(), 0.2),
                   expected={"mean_change": 0.0, "mean_abs_change": 0.0, "share_changed": 0.0, "newly_flagged": 0.0,
                             "no_longer_flagged": 0.0}, reveal=True,
                   explain="the same patients scored twice change by nothing"),
        HiddenCase("a shallow tree's few scores, the threshold equal to the commonest; two more conditions each",
                   inputs=_counterfactual_tied, reference=counterfactual_reference,
                   explain="a score equal to the threshold is flagged (at least the threshold)"),
    ],
    "ethics-shap-function": [
        HiddenCase("a model with other features on another seed's patients, 1,500 background patients, five explained",
                   inputs=lambda: _shap_inputs(15, 2000, ["chronic_conditions", "prior_utilisation", "payer"], 1500,
                                               slice(1500, 1505)),
                   reference=shap_reference,
                   explain="every background row is the background (the default masker keeps only 100); values on "
                           "the log-odds of the pipeline's logistic regression"),
        HiddenCase("the notebook's five features, a background of other patients than the training ones",
                   inputs=lambda: _shap_inputs(19, 1000, FEATURES, 400, slice(0, 3), other_background_seed=20),
                   reference=shap_reference, explain="the background is the one you are given, not the training data"),
        HiddenCase("a background of 120 patients, one patient explained",
                   inputs=lambda: _shap_inputs(22, 800, ["prior_utilisation", "age_band", "sex"], 120, slice(700, 701)),
                   reference=shap_reference),
    ],
    "ethics-whatif-function": [
        HiddenCase("another seed's patient scored by the model under review, insurance set to three values",
                   inputs=lambda: _whatif_review("payer", ["private", "Medicaid", "Medicare"]),
                   reference=whatif_reference,
                   explain="the predicted probability of the outcome (column 1 of predict_proba) for a copy of the "
                           "patient with the column set to each value"),
        HiddenCase("the same patient, the number of chronic conditions set to 0, 4 and 9",
                   inputs=lambda: _whatif_review("chronic_conditions", [0, 4, 9]), reference=whatif_reference),
        HiddenCase("another patient scored by gradient-boosted trees, the age group in no particular order",
                   inputs=lambda: _whatif_trees("age_band", ["over 60", "under 30", "30-60"]),
                   reference=whatif_reference),
        HiddenCase("the trees, visits in the past year set to 0, 10 and 30",
                   inputs=lambda: _whatif_trees("prior_utilisation", [0, 10, 30]), reference=whatif_reference),
    ],
    "ethics-law-function": in_no_telling_order([
        HiddenCase(f"system description {k + 1} of 24: {_describe(system)}", inputs={"system": system},
                   reference=law_reference, explain=LAW_EXPLAIN)
        for k, system in enumerate(descriptions())], 3032),
    "ethics-assessment-function": [
        HiddenCase("the notebook's own validation results, counted independently", inputs=_own_results,
                   check=assessment_check,
                   explain="the facts, numbers, verdicts and class come from `results`; the document passes "
                           "validate_assessment"),
        HiddenCase("a vendor's medical-device score (Article 6(1)) whose FNR gap misses the commitment",
                   inputs=_vendor_results, check=assessment_check),
        HiddenCase("an Annex III system exempt under Article 6(3), every commitment met", inputs=_exempt_results,
                   check=assessment_check),
        HiddenCase("the first public case's results, every criterion", inputs=lambda: _public_results(0),
                   check=assessment_check),
        HiddenCase("the second public case's results, every criterion", inputs=lambda: _public_results(1),
                   check=assessment_check),
    ],
    # In no telling order: a policy that counts its calls learns nothing of which year it is judged on.
    "ethics-policy-function": in_no_telling_order([
        HiddenCase(_year_name(seed, shift, coding), inputs=functools.partial(lambda *year: {
            "monthly": simulated_year(*year)}, seed, shift, coding), check=policy_check(shift, coding),
                   explain="quiet before any change; 'population shift' in the month of the shift or the next, "
                           "'coding change' within two months of it")
        for seed, shift, coding in QUIET_YEARS + CHANGE_YEARS
    ], 3033),
}

SCORING = {"ethics-policy-function": policy_score, "ethics-law-function": decision_score}
