"""Questions of notebook 01 (representation audit of the UCI Heart Disease data).

Most answers are functions the learner writes: the imbalance ratio, prevalence with a Wilson
interval, a cleaning step for impossible zeros, the baseline pipeline, out-of-fold scores, the
error-rate audit as a fairlearn ``MetricFrame``, small-group detection, group-balancing weights and
a paired bootstrap interval -- and two decisions: is a gap in FNR beyond chance, and did a corrective
action help.  Their public cases are data in ``cases/``; the hidden cases of the instructor's material
run them on other data, and the decisions on scenarios with a planted truth, where the points follow
their misses and false alarms.  Two value questions are first steps: a count and a mean after cleaning.

The ``run`` harnesses below say how the check exercises an answer (fit a pipeline on the case's
patients, read a MetricFrame's table).  At grading they run in the learner's kernel, so they hold no
solution and decide nothing: they return raw data (scores, names, tables, what an error said), and
the grader judges it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course_utils.exercises._cases import cases_for
from course_utils.exercises._question import AnswerProblem, CodeQuestion, Misconception, Question, numbers_match
from course_utils.exercises.rules import known

NOTEBOOK = "01"
NOTEBOOK_FILES = {NOTEBOOK: "01_representation_audit"}

#: The verdicts of the change decision; the gap decision answers a group's name or CANNOT_TELL.
CANNOT_TELL = "cannot tell"
VERDICTS = ("helped", "made it worse", CANNOT_TELL)


# --- harnesses: how the check runs an answer --------------------------------------------------------


def pipeline_record(make_pipeline, numeric_cols, categorical_cols, train, y, new, add_indicator=None):
    """What the learner's pipeline does on the case's patients, as data: built, fitted on ``train``, scoring ``new``.

    ``add_indicator`` is passed on only when the case sets it, so a case without it tests the default.

    Raw data only, for the grader to judge: the name of the last step, what fitting or predicting raised
    (``None`` when it worked), the fitted pipeline's feature names (as ``get_feature_names_out`` gives them,
    without the step prefixes, sorted) and each new patient's probability of class 1, as ``"score <row label>"``.
    """
    from sklearn.pipeline import Pipeline

    settings = {} if add_indicator is None else {"add_indicator": bool(add_indicator)}
    model = make_pipeline(numeric_cols, categorical_cols, random_state=0, **settings)
    if model is None:
        return None
    if not isinstance(model, Pipeline):
        raise AnswerProblem(f"make_baseline_pipeline should return a scikit-learn Pipeline; it returned a "
                            f"{type(model).__name__}.")
    record = {"model": type(model[-1]).__name__, "fit_error": None, "predict_error": None, "features": None}
    scores = [math.nan] * len(new)
    train, new = _nan_for_missing(train), _nan_for_missing(new)
    try:
        model.fit(train, y)
    except Exception as error:  # the learner's pipeline may fail in any way; the record says how
        record["fit_error"] = _error_text(error)
    else:
        try:
            names = model[:-1].get_feature_names_out()
            record["features"] = ", ".join(sorted(str(name).rsplit("__", 1)[-1] for name in names))
        except Exception:  # noqa: BLE001 -- a step without feature names: the record has none
            pass
        try:
            scores = [float(score) for score in np.asarray(model.predict_proba(new))[:, 1]]
        except Exception as error:  # noqa: BLE001
            record["predict_error"] = _error_text(error)
    return {**record, **{f"score {label}": score for label, score in zip(new.index, scores)}}


def _nan_for_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every missing value NaN, as ``model_inputs`` gives it: scikit-learn's imputers take None
    (how YAML and Parquet bring a missing text back) for a category, not for a missing value."""
    frame = frame.copy()
    for column in frame.columns[frame.dtypes == object]:
        frame[column] = frame[column].where(frame[column].notna(), np.nan)
    return frame


def _error_text(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())[:200]


def _logistic_regression():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def run_out_of_fold(out_of_fold_scores, X, y, n_splits, random_state, C=None):
    """The learner's out-of-fold scores for a logistic regression (of strength ``C``, if the case gives one).

    The model is built here from a number, not passed in as an estimator: the harness compares every input
    before and after the call, and an estimator equals only itself.
    """
    from sklearn.linear_model import LogisticRegression

    model = _logistic_regression() if C is None else LogisticRegression(C=C, max_iter=1000)
    return out_of_fold_scores(model, X, y, n_splits=n_splits, random_state=random_state)


def metric_frame_table(error_rate_audit, y_true, y_pred, sensitive_features):
    """The learner's MetricFrame, read as {metric: {group: value}}."""
    from fairlearn.metrics import MetricFrame

    frame = error_rate_audit(y_true, y_pred, sensitive_features)
    if frame is None:
        return None
    if not isinstance(frame, MetricFrame):
        raise AnswerProblem(f"error_rate_audit should return a fairlearn MetricFrame (build one with "
                            f"MetricFrame(metrics=..., y_true=..., y_pred=..., sensitive_features=...)); it returned "
                            f"a {type(frame).__name__}.")
    rates = frame.by_group
    if isinstance(rates, pd.Series):  # a single metric gives a Series
        rates = rates.to_frame(rates.name or "metric")
    return {str(column): {str(group): float(value) for group, value in rates[column].items()}
            for column in rates.columns}


def _metric_frame_output(answer, **inputs):
    table = metric_frame_table(answer, **inputs)
    return None if table is None else pd.DataFrame(table)


# --- rules that look at the case's inputs -------------------------------------------------------------


def _counts(inputs, value):
    return int((inputs["data"][inputs["group_col"]] == value).sum())


def _pairs(output, expected):
    if isinstance(expected, dict):
        return [(output[k], v) for k, v in expected.items()]
    return [(output, expected)]


def _ratio_rules():
    inverted = Misconception(
        lambda output, expected, inputs: all(
            (math.isnan(e) or e == 0) or numbers_match(o, 1 / e, 1e-6) for o, e in _pairs(output, expected))
        and not all(numbers_match(o, e, 1e-6) for o, e in _pairs(output, expected)),
        "Your ratio is inverted: that is minority patients per majority patient. The exercise asks for majority "
        "per minority: majority count on top.",
    )
    infinite = Misconception(
        lambda output, expected, inputs: any(math.isnan(e) and math.isinf(o) for o, e in _pairs(output, expected)),
        "Where there is no minority patient your function returns infinity. Men per woman is undefined without "
        "women: return NaN (`float('nan')`) there, not infinity.",
    )
    majority_share = Misconception(
        lambda output, expected, inputs: all(math.isnan(e) or numbers_match(o, e / (e + 1), 1e-6)
                                             for o, e in _pairs(output, expected)),
        "That is the majority's share of all patients. The ratio compares the majority with the minority, not "
        "with everyone.",
    )
    pooled = Misconception(
        lambda output, expected, inputs: isinstance(expected, dict) and len(set(expected.values())) > 1 and all(
            numbers_match(o, _counts(inputs, inputs["majority"]) / _counts(inputs, inputs["minority"]), 1e-6)
            for o in output.values()),
        "Every site gets the same ratio: that is all sites pooled. Count majority and minority within one value "
        "of within_col at a time (group by it).",
    )
    return [infinite, inverted, majority_share, pooled]


def _prevalence_rules():
    def wald(output, expected, inputs):
        p = np.array([output["prevalence"][g] for g in expected["n"]])
        n = np.array([output["n"][g] for g in expected["n"]], dtype=float)
        from scipy.stats import norm

        z = norm.ppf(0.5 + inputs.get("confidence_level", 0.95) / 2)
        half = z * np.sqrt(p * (1 - p) / n)
        return np.allclose([output["ci_low"][g] for g in expected["n"]], p - half, atol=1e-6)

    def exact(output, expected, inputs):
        from scipy.stats import binomtest

        level = inputs.get("confidence_level", 0.95)
        return all(numbers_match(output["ci_low"][g], binomtest(int(expected["cases"][g]), int(expected["n"][g]))
                                 .proportion_ci(confidence_level=level, method="exact").low, 1e-6)
                   for g in expected["n"])

    def ignores_level(output, expected, inputs):
        from scipy.stats import binomtest

        return inputs.get("confidence_level", 0.95) != 0.95 and all(
            numbers_match(output["ci_low"][g], binomtest(int(expected["cases"][g]), int(expected["n"][g]))
                          .proportion_ci(confidence_level=0.95, method="wilson").low, 1e-6) for g in expected["n"])

    def share_of_cases(output, expected, inputs):
        total = sum(expected["cases"].values())
        return all(numbers_match(output["prevalence"][g], expected["cases"][g] / total, 1e-6) for g in expected["n"])

    def percentages(output, expected, inputs):
        return all(numbers_match(output["prevalence"][g], 100 * expected["prevalence"][g], 1e-6)
                   for g in expected["n"]) and any(expected["prevalence"].values())

    return [
        Misconception(percentages, "Your prevalence looks like a percentage. Give proportions between 0 and 1."),
        Misconception(share_of_cases, "Your prevalence divides each group's cases by all cases. Prevalence divides "
                                      "a group's cases by the group's patients."),
        Misconception(ignores_level, "Your interval is a 95 % interval whatever confidence_level says: pass "
                                     "confidence_level on to proportion_ci."),
        Misconception(wald, "That is the normal-approximation (Wald) interval, which fails for small groups and rates "
                            "near 0 or 1. Use the Wilson interval: binomtest(cases, n).proportion_ci(method=\"wilson\")."),
        Misconception(exact, "That is the exact (Clopper-Pearson) interval. The exercise asks for the Wilson interval: "
                             "proportion_ci(method=\"wilson\")."),
    ]


def _zero_rules():
    def indicator_includes_missing(output, expected, inputs):
        return any(output[c][row] is True and expected[c][row] is False and pd.isna(inputs["data"].iloc[int(row)][col])
                   for c in expected if c.endswith("_recorded_as_zero")
                   for col in [c.removesuffix("_recorded_as_zero")] for row in expected[c])

    def filled_in(output, expected, inputs):
        return any(isinstance(expected[c][row], float) and math.isnan(expected[c][row])
                   and not pd.isna(output[c][row]) for c in inputs["columns"] for row in expected[c])

    return [
        Misconception(indicator_includes_missing, "Your indicator is True where the value was never recorded as well. "
                                                  "It should say only where a 0 was recorded; missing stays missing."),
        Misconception(filled_in, "Your function fills the zeros in. A zero means 'not measured': make it a missing "
                                 "value (NaN) and let the model's imputer fill it in later, from training data only."),
    ]


def _pipeline_rules():
    def features(output):
        return [name.strip() for name in str(output.get("features") or "").split(",") if name.strip()]

    def fits_and_predicts(output):
        return output.get("fit_error") is None and output.get("predict_error") is None

    def has_indicator(output):
        return any(name.startswith("missingindicator") for name in features(output))

    def no_indicator(output, expected, inputs):
        return (fits_and_predicts(output) and bool(features(output)) and bool(inputs.get("add_indicator"))
                and not has_indicator(output))

    def unasked_indicator(output, expected, inputs):
        return fits_and_predicts(output) and not inputs.get("add_indicator") and has_indicator(output)

    def no_one_hot(output, expected, inputs):
        return fits_and_predicts(output) and bool(features(output)) and not any(
            name.startswith(f"{column}_") for name in features(output) for column in inputs["categorical_cols"])

    return [
        Misconception(lambda output, expected, inputs: output.get("fit_error") is not None,
                      "Your pipeline cannot be fitted on these patients, some of whom have a missing value (see "
                      "fit_error): impute (SimpleImputer) before scaling and encoding."),
        Misconception(lambda output, expected, inputs: output.get("predict_error") is not None,
                      "Your fitted pipeline fails on a new patient with a category it never saw in training (see "
                      "predict_error): OneHotEncoder(handle_unknown=\"ignore\")."),
        Misconception(lambda output, expected, inputs: str(output.get("model")).lower() != "logisticregression",
                      "The last step of your pipeline should be the LogisticRegression; imputation and encoding "
                      "come before it."),
        Misconception(lambda output, expected, inputs: fits_and_predicts(output) and output.get("features") is None,
                      "Your pipeline's steps do not name their output columns (get_feature_names_out): build it from "
                      "scikit-learn's SimpleImputer, StandardScaler and OneHotEncoder."),
        Misconception(no_indicator, "With add_indicator=True your pipeline should keep the fact that a value was "
                                    "missing: pass add_indicator on to the SimpleImputer of the measurements."),
        Misconception(unasked_indicator, "Your pipeline adds missing-value indicators although add_indicator is "
                                         "False (the default): the baseline leaves them out, because here they say "
                                         "which hospital recorded the patient."),
        Misconception(no_one_hot, "Your pipeline does not one-hot encode the categorical columns (OneHotEncoder)."),
        Misconception(lambda output, expected, inputs: fits_and_predicts(output)
                      and features(output) == features(expected),
                      "Your pipeline has the right columns but gives other scores: check the steps' settings and "
                      "order -- the measurements are imputed with the training median (strategy=\"median\"), then "
                      "scaled."),
    ]


def _out_of_fold_rules():
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    def scores_with(cv):
        return lambda inputs: cross_val_predict(_logistic_regression(), inputs["X"], inputs["y"], cv=cv(inputs),
                                                method="predict_proba")[:, 1]

    def same(scores):
        return lambda output, expected, inputs: np.allclose(output, scores(inputs), atol=1e-9)

    in_sample = lambda inputs: _logistic_regression().fit(inputs["X"], inputs["y"]).predict_proba(inputs["X"])[:, 1]  # noqa: E731
    unstratified = scores_with(lambda i: KFold(i["n_splits"], shuffle=True, random_state=i["random_state"]))
    unshuffled = scores_with(lambda i: StratifiedKFold(i["n_splits"]))
    return [
        Misconception(same(in_sample), "Those are in-sample scores: the model was fitted on every patient, then "
                                       "scored them. Each patient's score must come from a model fitted without them "
                                       "(cross_val_predict)."),
        Misconception(lambda output, expected, inputs: set(np.round(output, 9)) <= {0.0, 1.0},
                      "Your scores are 0 or 1: those are decisions. Ask for probabilities: method=\"predict_proba\", "
                      "then the column of class 1."),
        Misconception(lambda output, expected, inputs: np.allclose(output, 1 - np.asarray(expected), atol=1e-9),
                      "Those are the probabilities of class 0. Take column 1 of predict_proba: the probability of "
                      "the condition."),
        Misconception(same(unstratified), "Your folds are not stratified: use StratifiedKFold, so every fold has the "
                                          "same share of patients with the condition."),
        Misconception(same(unshuffled), "Your folds are not shuffled: StratifiedKFold(n_splits, shuffle=True, "
                                        "random_state=random_state)."),
    ]


def _audit_rules():
    def over_everyone(output, expected, inputs):
        y, p, g = (np.asarray(inputs[k]) for k in ("y_true", "y_pred", "sensitive_features"))
        return all(numbers_match(output["fnr"][grp], float((p[g == grp] != y[g == grp]).mean()), 1e-9)
                   for grp in expected["fnr"])

    def tpr(output, expected, inputs):
        return all(numbers_match(output["fnr"][grp], 1 - e, 1e-9) for grp, e in expected["fnr"].items()
                   if not math.isnan(e)) and any(not math.isnan(e) for e in expected["fnr"].values())

    def zero_for_undefined(output, expected, inputs):
        return any(math.isnan(e) and output[m][grp] == 0 for m in ("fnr", "fpr") for grp, e in expected[m].items())

    return [
        Misconception(zero_for_undefined, "Your FNR (or FPR) is 0 for a group with no patients to divide by. fairlearn's "
                                          "false_negative_rate returns 0 there; the rate is undefined: return NaN."),
        Misconception(over_everyone, "Your FNR is the error rate over everyone. The FNR counts only the patients "
                                     "with the condition: of those, the share the model called healthy."),
        Misconception(tpr, "That is the true-positive rate (the share caught). The FNR is the share missed: 1 - TPR."),
    ]


def _small_group_rules():
    def observed_only(output, expected, inputs):
        return [row for row in expected if row[-1] > 0] == sorted(output, key=str) or (
            len(output) == len([r for r in expected if r[-1] > 0]) and len(output) < len(expected))

    def at_most(output, expected, inputs):
        return len(output) > len(expected) and any(row[-1] == inputs.get("min_size", 30) for row in output)

    return [
        Misconception(observed_only, "A combination with no patients at all is missing from your table. Nobody is the "
                                     "smallest group of all: list every combination of the columns' values, with n = 0 "
                                     "where nobody is in it."),
        Misconception(at_most, "Your table includes groups of exactly min_size patients. Small means fewer than "
                               "min_size."),
    ]


def _weight_rules():
    def per_group(expression):
        return lambda output, expected, inputs: np.allclose(output, expression(pd.Series(np.asarray(
            inputs["sensitive_features"]))), atol=1e-9)

    return [
        Misconception(per_group(lambda g: 1 / g.map(g.value_counts()).to_numpy()),
                      "Your weights are 1 / (patients in the group): each group sums to 1. Scale them so they average "
                      "1 over all patients: n_patients / (n_groups x patients in the group)."),
        Misconception(per_group(lambda g: g.map(g.value_counts()).to_numpy() / len(g)),
                      "Your weights grow with the group: that gives the big group even more weight. The small group's "
                      "patients should weigh more."),
    ]


def _paired_rules():
    def reversed_sign(output, expected, inputs):
        return numbers_match(output["change"], -expected["change"], 1e-9) and expected["change"] != 0

    def error_rate(output, expected, inputs):
        y, b, a = (np.asarray(inputs[k]) for k in ("y_true", "y_pred_before", "y_pred_after"))
        return numbers_match(output["change"], float((a != y).mean() - (b != y).mean()), 1e-9)

    return [
        Misconception(reversed_sign, "Your change has the wrong sign: it is after minus before (a negative change "
                                     "means fewer patients missed)."),
        Misconception(error_rate, "Your change is in the error rate over everyone. The FNR counts only the patients "
                                  "with the condition."),
    ]


def _decision_counts(inputs):
    """Per group (missed, with the condition) -- for rules that name what a decision overlooked."""
    y, pred = np.asarray(inputs["y_true"]), np.asarray(inputs["y_pred"])
    groups = pd.Series(np.asarray(inputs["sensitive_features"])).astype(str).to_numpy()
    return {g: (int(((pred == 0) & (y == 1) & (groups == g)).sum()), int(((y == 1) & (groups == g)).sum()))
            for g in pd.unique(groups)}


def _gap_decision_rules():
    def not_a_verdict(output, expected, inputs):
        return output != CANNOT_TELL and output not in _decision_counts(inputs)

    def undefined(output, expected, inputs):
        return output != CANNOT_TELL and any(n == 0 for _, n in _decision_counts(inputs).values())

    def point_estimate(output, expected, inputs):
        counts = _decision_counts(inputs)
        return expected == CANNOT_TELL and output in counts and counts[output][0] / counts[output][1] == max(
            m / n for m, n in counts.values())

    return [
        Misconception(not_a_verdict, f"Return the name of a group, exactly as sensitive_features gives it, or "
                                     f"{CANNOT_TELL!r}."),
        Misconception(undefined, "One group has no patient with the condition: its FNR is undefined, so no gap can be "
                                 f"claimed. Return {CANNOT_TELL!r}."),
        Misconception(point_estimate, "That group's FNR is higher in these data, but with so few patients a gap this "
                                      "size often arises by chance. Name a group only when a test says the gap is "
                                      "beyond chance."),
        Misconception(lambda output, expected, inputs: expected != CANNOT_TELL and output == CANNOT_TELL,
                      "This gap is beyond chance at these group sizes: a test of the missed/caught table by group "
                      "says so."),
        Misconception(lambda output, expected, inputs: expected != CANNOT_TELL and output != expected,
                      "That is the group with the lower FNR: name the group that misses more of its patients."),
    ]


def _change_decision_rules():
    def changed(inputs):
        y, before, after = (np.asarray(inputs[k]) for k in ("y_true", "y_pred_before", "y_pred_after"))
        sick = y == 1
        return int((sick & (before == 0) & (after == 1)).sum()), int((sick & (before == 1) & (after == 0)).sum())

    def only_negatives(output, expected, inputs):
        y, before, after = (np.asarray(inputs[k]) for k in ("y_true", "y_pred_before", "y_pred_after"))
        return output != CANNOT_TELL and sum(changed(inputs)) == 0 and bool((before != after).any())

    return [
        Misconception(lambda output, expected, inputs: output not in VERDICTS,
                      f"Return one of {', '.join(map(repr, VERDICTS))}."),
        Misconception(only_negatives, "Only patients without the condition changed decision: the FNR is the same "
                                      "before and after. The FNR counts only the patients with the condition."),
        Misconception(lambda output, expected, inputs: output != CANNOT_TELL and sum(changed(inputs)) == 1,
                      "One patient changed decision. A change of one patient cannot be told from chance (an exact "
                      "test on the changed patients gives p = 1), and a paired interval that ends exactly at 0 "
                      "does not exclude 0."),
        Misconception(lambda output, expected, inputs: expected == CANNOT_TELL and output != CANNOT_TELL,
                      "This change could be chance: before calling it, test it on the patients whose decision "
                      "changed, or with a paired interval."),
        Misconception(lambda output, expected, inputs: output == CANNOT_TELL,
                      "This change is beyond chance: many more patients changed one way than the other."),
        Misconception(lambda output, expected, inputs: True,
                      "Wrong direction: a higher FNR after means more patients missed -- that made it worse."),
    ]


QUESTIONS = [
    Question(
        id="audit-women-small-sites",
        notebook=NOTEBOOK,
        points=1,
        kind="integer",
        misconceptions=[
            known("Switzerland only", "That is Switzerland alone. Add the women of VA Long Beach."),
            known("VA only", "That is VA Long Beach alone. Add the women of Switzerland."),
            known("everyone at the two sites",
                  "That counts every patient of the two sites. The question asks for the women among them."),
            known("the other two sites", "Those are the women of the other two sites."),
        ],
        hints=["Combine two conditions: the patient is a woman, and the site is one of the two.",
               "`heart['site'].isin([...])` is True for rows whose site is in the list; `&` combines two conditions."],
    ),
    CodeQuestion(
        id="audit-imbalance-ratio-function",
        notebook=NOTEBOOK,
        points=3,
        signature="imbalance_ratio(data, group_col, majority, minority, within_col=None)",
        cases=cases_for("audit-imbalance-ratio-function"),
        returns="auto",
        misconceptions=_ratio_rules(),
        hints=["Without within_col: the number of rows whose group_col equals majority, divided by the number equal "
               "to minority; NaN when there is no minority row.",
               "With within_col: the same number for each value of within_col -- loop over "
               "`data.groupby(within_col, observed=True)` and collect the results in a pandas Series."],
    ),
    CodeQuestion(
        id="audit-prevalence-function",
        notebook=NOTEBOOK,
        points=3,
        signature="prevalence_table(data, group_col, outcome_col, confidence_level=0.95)",
        cases=cases_for("audit-prevalence-function"),
        returns="table",
        misconceptions=_prevalence_rules(),
        hints=["One row per group: n (patients), cases (sum of outcome_col), prevalence = cases / n, and the interval.",
               "`scipy.stats.binomtest(cases, n).proportion_ci(confidence_level=confidence_level, method=\"wilson\")` "
               "has .low and .high."],
    ),
    CodeQuestion(
        id="audit-flag-zeros-function",
        notebook=NOTEBOOK,
        points=2,
        signature="flag_impossible_zeros(data, columns)",
        cases=cases_for("audit-flag-zeros-function"),
        returns="table",
        misconceptions=_zero_rules(),
        hints=["Work on `data.copy()`. For each column: remember where it is 0, add that as a True/False column "
               "named '<column>_recorded_as_zero', then turn those zeros into NaN.",
               "`series.mask(condition)` replaces the values where the condition holds with NaN."],
    ),
    Question(
        id="audit-mean-cholesterol-female",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.5,
        misconceptions=[
            known("zeros counted", "That average counts the zeros as real measurements of 0 mg/dl. Treat them as "
                                   "missing first."),
            known("men", "That is the men's mean. The question asks about women."),
            known("men, zeros counted", "That is the men's mean, with the zeros counted as values."),
            known("everyone", "That is the mean of all patients. The question asks about women only."),
        ],
        hints=["Clean the data as recorded with your flag_impossible_zeros, then average the women's cholesterol; "
               "pandas leaves NaN out of a mean."],
    ),
    CodeQuestion(
        id="audit-pipeline-function",
        notebook=NOTEBOOK,
        points=2,
        signature="make_baseline_pipeline(numeric_cols, categorical_cols, random_state=0, add_indicator=False)",
        cases=cases_for("audit-pipeline-function"),
        returns="record",
        run=pipeline_record,
        misconceptions=_pipeline_rules(),
        hints=["A ColumnTransformer with two parts -- numeric: SimpleImputer(strategy=\"median\", "
               "add_indicator=add_indicator) then StandardScaler; "
               "categorical: SimpleImputer(strategy=\"most_frequent\") then OneHotEncoder(handle_unknown=\"ignore\") -- "
               "followed by LogisticRegression(max_iter=1000, random_state=random_state).",
               "`sklearn.pipeline.make_pipeline(step, step, ...)` chains steps; a Pipeline can be a step of a "
               "ColumnTransformer."],
    ),
    CodeQuestion(
        id="audit-out-of-fold-function",
        notebook=NOTEBOOK,
        points=3,
        signature="out_of_fold_scores(model, X, y, n_splits=5, random_state=0)",
        cases=cases_for("audit-out-of-fold-function"),
        returns="array",
        tolerance=1e-9,
        run=run_out_of_fold,
        misconceptions=_out_of_fold_rules(),
        hints=["`cross_val_predict(model, X, y, cv=..., method=\"predict_proba\")` fits one model per fold and predicts "
               "the fold it left out.",
               "cv=StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state); keep column 1."],
    ),
    CodeQuestion(
        id="audit-error-rates-function",
        notebook=NOTEBOOK,
        points=3,
        signature="error_rate_audit(y_true, y_pred, sensitive_features)",
        cases=cases_for("audit-error-rates-function"),
        returns="table",
        tolerance=1e-9,
        run=_metric_frame_output,
        misconceptions=_audit_rules(),
        hints=["`MetricFrame(metrics={\"count\": count, \"accuracy\": accuracy_score, \"fnr\": ..., \"fpr\": ..., "
               "\"selection_rate\": selection_rate}, y_true=..., y_pred=..., sensitive_features=...)`.",
               "fairlearn's false_negative_rate returns 0 for a group without positives; write your own fnr(y_true, "
               "y_pred) that returns NaN there (and an fpr likewise)."],
    ),
    CodeQuestion(
        id="audit-small-groups-function",
        notebook=NOTEBOOK,
        points=2,
        signature="small_groups(data, group_cols, min_size=30)",
        cases=cases_for("audit-small-groups-function"),
        returns="rows",
        misconceptions=_small_group_rules(),
        hints=["Count patients for every combination of the columns' values -- also combinations nobody is in -- and "
               "keep those with fewer than min_size.",
               "`pd.MultiIndex.from_product([levels of each column])` lists every combination; reindex the "
               "groupby sizes on it with fill_value=0; `.rename(\"n\").reset_index()` makes the table."],
    ),
    CodeQuestion(
        id="audit-gap-decision-function",
        notebook=NOTEBOOK,
        points=3,
        signature="fnr_gap_verdict(y_true, y_pred, sensitive_features)",
        cases=cases_for("audit-gap-decision-function"),
        returns="text",
        misconceptions=_gap_decision_rules(),
        hints=["For each group count the patients with the condition who were missed and who were caught: a 2 x 2 "
               "table. Is the difference in the share missed larger than chance makes at these sizes?",
               "`scipy.stats.fisher_exact(table).pvalue` is exact at any size; below 0.05, name the group with the "
               "higher FNR. A group without a patient with the condition has no FNR: \"cannot tell\"."],
    ),
    CodeQuestion(
        id="audit-weights-function",
        notebook=NOTEBOOK,
        points=2,
        signature="group_balancing_weights(sensitive_features)",
        cases=cases_for("audit-weights-function"),
        returns="array",
        misconceptions=_weight_rules(),
        hints=["Each patient's weight is n_patients / (n_groups x patients in that patient's group): every group then "
               "carries the same total weight, and the weights average 1."],
    ),
    CodeQuestion(
        id="audit-paired-change-function",
        notebook=NOTEBOOK,
        points=3,
        signature=("paired_fnr_change(y_true, y_pred_before, y_pred_after, n_boot=1000, random_state=0, "
                   "confidence_level=0.95)"),
        cases=cases_for("audit-paired-change-function"),
        returns="record",
        tolerance=1e-9,
        misconceptions=_paired_rules(),
        hints=["Draw all resamples at once, exactly as the exercise says: `idx = np.random.default_rng(random_state)"
               ".integers(0, n, size=(n_boot, n))`; the same idx for before and after -- that is what makes it paired.",
               "FNR of every resample at once: missed = (y[idx] == 1) & (pred[idx] == 0); missed.sum(axis=1) / "
               "(y[idx] == 1).sum(axis=1). The interval: np.nanquantile of the differences."],
    ),
    CodeQuestion(
        id="audit-change-decision-function",
        notebook=NOTEBOOK,
        points=3,
        signature="change_verdict(y_true, y_pred_before, y_pred_after)",
        cases=cases_for("audit-change-decision-function"),
        returns="text",
        misconceptions=_change_decision_rules(),
        hints=["Only the patients with the condition whose decision changed carry information about a change in FNR: "
               "count those newly caught and those newly missed. Without a change beyond chance, say \"cannot tell\".",
               "An exact McNemar test is a binomial test on the changed patients: "
               "`scipy.stats.binomtest(newly_missed, newly_caught + newly_missed, 0.5).pvalue`. Your paired_fnr_change "
               "interval works too, when 'beyond chance' means an interval that stays clear of 0 -- an end at exactly 0 "
               "does not."],
    ),
]
