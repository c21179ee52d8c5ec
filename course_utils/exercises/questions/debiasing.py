"""Questions of notebook 02's two parts: 02a (the audit by group and a gap's root cause) and 02b (a de-biased
diagnostic pipeline, chosen on cross-fitted patients, reported once on test).

Most answers are functions the learner writes with fairlearn and aif360: the audit as a ``MetricFrame``, the
gaps between groups, PPV from error rates (the impossibility result), aif360 re-weighing weights and a model
refitted with them, aif360 adversarial de-biasing, fairlearn group thresholds, each group's threshold for a target
false-negative rate, the Pareto front, the selection rule, missed diagnoses per 1,000, a paired bootstrap of the
change against the baseline, the Aequitas parity verdicts from a rate table, and the FBS > 120 / FBS <= 120
root-cause profile.  Their public cases are toy inputs in ``cases/``; the hidden cases
(``solutions/hidden/02_debiasing.py``, shared by both parts) run them on other data.  Three value questions are first steps,
their answer keys computed by the instructor's material from the shipped data.

The ``run`` harnesses below say how a case exercises an answer (fit a plain logistic regression on the case's
patients, read a MetricFrame's table).  When a notebook is graded they run in the learner's kernel, so they only
call the learner's code and return what it gave as data -- probabilities, decisions, a table, labels -- and hold
neither a solution nor a pass criterion: the judge compares that data with results computed outside the kernel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course_utils.exercises._cases import cases_for
from course_utils.exercises._question import AnswerProblem, CodeQuestion, Misconception, Question, numbers_match
from course_utils.exercises.rules import complement, known, output_zero_for_undefined, percentage_not_proportion
from course_utils.scenarios import ROOT_CAUSES

#: The answer of a decision the data cannot settle (the same words as notebook 01's decisions).
CANNOT_TELL = "cannot tell"

#: Notebook 02 comes in two parts: 02a audits the baseline and looks for a gap's root cause; 02b mitigates,
#: chooses on cross-fitted patients and reports once on test.
AUDIT_NOTEBOOK, PIPELINE_NOTEBOOK = "02a", "02b"
NOTEBOOK_FILES = {AUDIT_NOTEBOOK: "02a_group_audit", PIPELINE_NOTEBOOK: "02b_debiasing_pipeline"}

#: The settings of the notebook's sweep (method -> values) and the seeds of the adversarial models; the shipped
#: predictions (``data/raw/build_debiasing_data.py``) hold exactly these.
GRID = {"baseline": None, "reweighing": [0.25, 0.5, 0.75, 1.0], "adversarial": [0.05, 0.1, 0.2, 0.5],
        "threshold": [0.0, 0.05, 0.1, 0.2]}
SEEDS = [0, 1, 2]

#: The notebook's stated selection rule: FNR gap at most this on validation (worst seed) ...
MAX_GAP = 0.05
#: ... and AUC at most this far below the baseline's validation AUC; then the highest AUC.
MAX_AUC_LOSS = 0.02

_TOL = 0.005
#: The AUC is printed to three decimals: an answer read off the screen and rounded is right.
_AUC_TOL = 0.001


# --- harnesses: how the check runs an answer ---------------------------------------------------------


def _logistic_regression(C=1.0, max_iter=1000):  # noqa: N803 -- scikit-learn's name
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=max_iter)


def metric_frame_output(audit_by_group, y_true, y_pred, sensitive_features):
    """The learner's MetricFrame read as a table (one column per metric, one row per group)."""
    from fairlearn.metrics import MetricFrame

    frame = audit_by_group(y_true, y_pred, sensitive_features)
    if frame is None:
        return None
    if not isinstance(frame, MetricFrame):
        raise AnswerProblem(f"audit_by_group should return a fairlearn MetricFrame (MetricFrame(metrics=..., "
                            f"y_true=..., y_pred=..., sensitive_features=...)); it returned a {type(frame).__name__}.")
    rates = frame.by_group
    return rates.to_frame(rates.name or "metric") if isinstance(rates, pd.Series) else rates


def with_group_index(answer, by_group, **arguments):
    """Call the answer with the case's rate table indexed by its ``group`` column, as MetricFrame.by_group is."""
    return answer(by_group.set_index("group"), **arguments)


def reweighing_model(pipeline=False, C=1.0, max_iter=1000, last_step=None):  # noqa: N803
    """The unfitted model a case hands to fit_reweighed: a logistic regression, or a scaler + logistic pipeline
    whose last step is called ``last_step`` (scikit-learn's own name by default)."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    model = _logistic_regression(C, max_iter)
    if not pipeline:
        return model
    return Pipeline([("standardscaler", StandardScaler()), (last_step or "logisticregression", model)])


def reweighed_probabilities(fit_reweighed, X, y, sample_weight, strength, X_new, pipeline, C=1.0, max_iter=1000,  # noqa: N803
                            last_step=None):
    """Hand the learner's fit_reweighed an unfitted model (see :func:`reweighing_model`); return what the model it
    returns predicts for X_new (the probability of class 1).

    The model is described by the case's plain settings (a public case is YAML, which holds no estimator); the
    grader fits its own reference from the same settings.  A model fitted in place is a wrong form of answer."""
    model = reweighing_model(pipeline, C, max_iter, last_step)
    fitted = fit_reweighed(model, X, y, sample_weight, strength=strength)
    if fitted is None:
        return None
    if not hasattr(fitted, "predict_proba"):
        raise AnswerProblem(f"fit_reweighed should return the fitted model; it returned a {type(fitted).__name__}.")
    final = model[-1] if pipeline else model
    if hasattr(final, "coef_"):
        raise AnswerProblem("fit_reweighed fitted the model it was given. Fit a copy, `clone(model)`, and return "
                            "that: the caller's model stays as it was (it may be used again, unweighted).")
    return fitted.predict_proba(X_new)[:, 1]


def threshold_decisions(fit_group_thresholds, X_train, y_train, X, y, sensitive_features, X_new,
                        sensitive_features_new, tol=None, random_state=0):
    """Fit a logistic regression on the case's training patients, the learner's thresholds on its validation
    patients, and return the thresholds' decisions for new patients (drawn with ``random_state``)."""
    model = _logistic_regression().fit(X_train, y_train)
    fitted = fit_group_thresholds(model, X, y, sensitive_features, tol=tol)
    if fitted is None:
        return None
    if not hasattr(fitted, "predict"):
        raise AnswerProblem("fit_group_thresholds should return the fitted ThresholdOptimizer; it returned a "
                            f"{type(fitted).__name__}.")
    return fitted.predict(X_new, sensitive_features=sensitive_features_new, random_state=random_state)


#: How the answer "no row qualifies" (None) travels: the grader reads a None result as "no answer on this path".
NO_ROW = "None (no row qualifies)"


def chosen_label(select_point, points, max_gap, min_auc):
    """The index label the learner's select_point returns.

    None is the answer where no row is within both limits; it is passed on as :data:`NO_ROW`, since a None result
    otherwise means "not answered".  None stays None where some row is within the limits (a path without
    ``return``), and where the function also returns None when every row is within them (an unwritten function
    returns None everywhere).  Which label is right is decided by the grader, not here."""
    chosen = select_point(points, max_gap, min_auc)
    if chosen is not None:
        return chosen
    within = (points["fnr_gap"] <= max_gap) & (points["auc"] >= min_auc)
    if bool(within.any()) or select_point(points.copy(), math.inf, -math.inf) is None:
        return None
    return NO_ROW


def front_labels(pareto_front, points, **arguments):
    """The index labels of the rows the learner's front keeps, in sorted order."""
    front = pareto_front(points, **arguments)
    if front is None:
        return None
    if not isinstance(front, pd.DataFrame):
        raise AnswerProblem(f"pareto_front should return the rows of points that are on the front (a DataFrame, "
                            f"e.g. points.loc[labels]); it returned a {type(front).__name__}.")
    return sorted(front.index.tolist())


# --- misconception rules on the learners' outputs ----------------------------------------------------


def _all_pairs(output, expected, columns=None):
    for column in columns or expected:
        for row, value in expected[column].items():
            yield output[column][row], value


def _audit_rules():
    def over_everyone(output, expected, inputs):
        y, p, g = (np.asarray(inputs[k]) for k in ("y_true", "y_pred", "sensitive_features"))
        return all(numbers_match(output["fnr"][grp], float((p[g == grp] != y[g == grp]).mean()), 1e-9)
                   for grp in expected["fnr"])

    def swapped(output, expected, inputs):
        return all(numbers_match(output["fnr"][grp], value, 1e-9) for grp, value in expected["tpr"].items()
                   if not math.isnan(value)) and any(not math.isnan(v) for v in expected["tpr"].values()) \
            and not all(numbers_match(output["fnr"][grp], v, 1e-9) for grp, v in expected["fnr"].items())

    def ppv_as_precision_of_negatives(output, expected, inputs):
        y, p, g = (np.asarray(inputs[k]) for k in ("y_true", "y_pred", "sensitive_features"))
        return all(numbers_match(output["ppv"][grp], float((p[(g == grp) & (y == 1)] == 1).mean()), 1e-9)
                   for grp in expected["ppv"] if ((g == grp) & (y == 1)).any()) and any(
            not numbers_match(output["ppv"][grp], v, 1e-9) for grp, v in expected["ppv"].items())

    def zero_for_undefined(output, expected, inputs):
        return any(math.isnan(e) and o == 0 for o, e in _all_pairs(output, expected))

    return [
        Misconception(zero_for_undefined, "A rate is 0 where nobody is in its denominator (fairlearn's own rate "
                                          "functions do that). Undefined is not 0: return NaN there."),
        Misconception(over_everyone, "Your FNR is the error rate over everyone in the group. The FNR counts only "
                                     "patients with the condition: of those, the share the model called healthy."),
        Misconception(swapped, "Your FNR is the TPR (the share caught). The FNR is the share missed."),
        Misconception(ppv_as_precision_of_negatives, "Your PPV divides by the patients with the condition: that is "
                                                     "the TPR. PPV divides by the patients the model flagged."),
    ]


def _gaps_rules():
    def signed(output, expected, inputs):
        return any(output[key] < 0 for key in expected)

    def ratio(output, expected, inputs):
        table = inputs["by_group"]
        return numbers_match(output["fnr_gap"], table["fnr"].max() / table["fnr"].min(), 1e-9)

    def mean_of_two(output, expected, inputs):
        table = inputs["by_group"]
        spread = {c: table[c].max() - table[c].min() for c in ("tpr", "fpr")}
        return numbers_match(output["equalized_odds_difference"], (spread["tpr"] + spread["fpr"]) / 2, 1e-9) \
            or numbers_match(output["equalized_odds_difference"], spread["tpr"] + spread["fpr"], 1e-9)

    def tpr_alone(output, expected, inputs):
        table = inputs["by_group"]
        return numbers_match(output["equalized_odds_difference"], table["tpr"].max() - table["tpr"].min(), 1e-9) \
            and not numbers_match(expected["equalized_odds_difference"], output["equalized_odds_difference"], 1e-9)

    return [
        Misconception(signed, "A gap is negative: you subtracted in a fixed order. The gap is the largest "
                              "difference between groups, never negative (largest value minus smallest)."),
        Misconception(ratio, "Your FNR gap is a ratio of FNRs. The gap is a difference: largest minus smallest."),
        Misconception(mean_of_two, "Your equalized-odds difference averages or adds the TPR and FPR gaps. It is the "
                                   "larger of the two: the worse of the two violations."),
        Misconception(tpr_alone, "Your equalized-odds difference is the TPR gap alone. Equalized odds also asks for "
                                 "equal false-positive rates: take the larger of the TPR gap and the FPR gap."),
    ]


def _ppv_rules():
    def swapped(output, expected, inputs):
        tpr, fpr, p = inputs["tpr"], inputs["fpr"], inputs["prevalence"]
        flagged = tpr * (1 - p) + fpr * p
        return flagged > 0 and numbers_match(output, tpr * (1 - p) / flagged, 1e-9) and p != 0.5

    def no_prevalence(output, expected, inputs):
        tpr, fpr = inputs["tpr"], inputs["fpr"]
        return tpr + fpr > 0 and numbers_match(output, tpr / (tpr + fpr), 1e-9) and inputs["prevalence"] != 0.5

    return [
        output_zero_for_undefined(),
        Misconception(swapped, "Your prevalence sits on the wrong term: TPR multiplies the share WITH the condition "
                               "(p), FPR the share without it (1 - p)."),
        Misconception(no_prevalence, "Your PPV leaves the prevalence out: TPR / (TPR + FPR) is the PPV only when half "
                                     "the patients have the condition. Weigh TPR by p and FPR by 1 - p."),
    ]


def _reweighing_rules():
    # Rules compare with the public case's stored result; none computes weights itself (a rule's closure is
    # importable, and weights it computed could be turned back into the answer).
    def inverted(output, expected, inputs):
        return np.allclose(np.asarray(output, dtype=float), 1 / np.asarray(expected, dtype=float), atol=1e-9)

    def group_only(output, expected, inputs):
        # Weights that depend on the group alone and give every group the same total weight.
        weights = pd.Series(np.asarray(output, dtype=float), index=inputs["data"].index)
        by_group = weights.groupby(inputs["data"][inputs["group_col"]])
        return bool((by_group.nunique() == 1).all()) and np.allclose(by_group.sum(), by_group.sum().iloc[0])

    return [
        Misconception(inverted,
                      "Your weights are inverted: observed / expected. Re-weighing gives each (group, outcome) cell "
                      "expected / observed: P(group) P(outcome) / P(group, outcome)."),
        Misconception(group_only, "Those are group-balancing weights (notebook 01): they ignore the outcome. "
                                  "Re-weighing balances each combination of group AND outcome."),
    ]


def _reweighed_fit_rules():
    def unweighted(output, expected, inputs):
        settings = {key: inputs[key] for key in ("pipeline", "C", "max_iter", "last_step") if key in inputs}
        plain = reweighing_model(**settings).fit(inputs["X"], inputs["y"]).predict_proba(inputs["X_new"])[:, 1]
        return np.allclose(output, plain, atol=1e-6) and not np.allclose(expected, plain, atol=1e-6)

    return [Misconception(unweighted, "Those are the predictions of the model fitted without weights: the weights "
                                      "never reached the classifier. For a Pipeline, pass them to its last step: "
                                      "fit(X, y, <last step's name>__sample_weight=weights).")]


def _adversarial_rules():
    return [Misconception(lambda output, expected, inputs: set(np.round(output, 9)) <= {0.0, 1.0},
                          "Your function returns 0/1 labels. Return the scores: model.predict(dataset).scores, "
                          "the probability of the favourable label (the condition).")]


def _fnr_target_rules():
    def per_group(inputs):
        y, s, g = (np.asarray(inputs[k]) for k in ("y_true", "scores", "sensitive_features"))
        return [(grp, np.sort(s[(g == grp) & (y == 1)]), np.sort(s[g == grp]), int((g == grp).sum()))
                for grp in pd.unique(g)], float(inputs["max_fnr"])

    def predicted(output, inputs, rule):
        """True when the output equals, group by group, what ``rule(positives, scores, n, max_fnr)`` gives
        (``None`` from the rule: that group says nothing)."""
        groups, max_fnr = per_group(inputs)
        seen = False
        for grp, positives, scores, n in groups:
            if not len(positives):
                continue
            value = rule(positives, scores, n, max_fnr)
            if value is None:
                continue
            if not numbers_match(output[str(grp)], value, 1e-9):
                return False
            seen = True
        return seen

    def one_too_low(positives, scores, n, max_fnr):
        k = math.floor(max_fnr * len(positives) + 1e-9)
        return positives[min(k, len(positives)) - 1] if k >= 1 else None

    def strictly_above(candidates_of):
        def rule(positives, scores, n, max_fnr):
            k = math.floor(max_fnr * len(positives) + 1e-9)
            fine = [t for t in candidates_of(positives, scores) if (positives <= t).sum() <= k]
            return max(fine) if fine else None
        return rule

    def over_everyone(positives, scores, n, max_fnr):
        k = math.floor(max_fnr * n + 1e-9)
        return positives[min(k, len(positives) - 1)]

    def over_everyone_searched(positives, scores, n, max_fnr):
        k = math.floor(max_fnr * n + 1e-9)
        return positives[k] if k < len(positives) else scores[-1]

    def undefined(output, expected, inputs):
        return any(math.isnan(e) and o in (0.0, 1.0) for o, e in ((output[g], v) for g, v in expected.items()))

    def rule_of(rule):
        return lambda output, expected, inputs: predicted(output, inputs, rule)

    return [
        Misconception(undefined, "A group with no patient with the condition gets a threshold of 0 or 1. With nobody "
                                 "to miss, its FNR is undefined at every threshold: return NaN for it, not a number."),
        Misconception(rule_of(strictly_above(lambda positives, scores: positives)),
                      "Your thresholds are right for \"flagged when score > t\". Here a patient is flagged when score "
                      ">= t: a patient whose score equals the threshold is caught, not missed."),
        Misconception(rule_of(strictly_above(lambda positives, scores: scores)),
                      "Your thresholds are right for \"flagged when score > t\". Here a patient is flagged when score "
                      ">= t: a patient whose score equals the threshold is caught, not missed."),
        Misconception(rule_of(one_too_low), "Your threshold is one patient too low (an off-by-one): with k misses "
                                            "allowed, the k lowest-scoring patients with the condition fall below "
                                            "the threshold, so the threshold is the next one up, sorted[k], not "
                                            "sorted[k - 1]."),
        Misconception(rule_of(over_everyone), "Your FNR divides by every patient of the group. The FNR counts only the "
                                              "patients WITH the condition: of those, the share below the threshold."),
        Misconception(rule_of(over_everyone_searched), "Your FNR divides by every patient of the group. The FNR counts "
                                                       "only the patients WITH the condition: of those, the share "
                                                       "below the threshold."),
    ]


def _front_rules():
    def keeps_dominated(output, expected, inputs):
        return set(expected) < set(output)

    def drops_duplicate(output, expected, inputs):
        points = inputs["points"]
        return set(output) < set(expected) and points.duplicated(keep=False).any()

    return [
        Misconception(keeps_dominated, "Your front keeps a dominated row: another row is at least as good on both "
                                       "columns and strictly better on one (e.g. the same AUC with a smaller gap)."),
        Misconception(drops_duplicate, "Your front drops a row that has an identical twin. Two identical rows do not "
                                       "dominate each other: both are on the front."),
    ]


def _select_rules():
    def position_not_label(output, expected, inputs):
        points = inputs["points"]
        return (isinstance(output, int) and not isinstance(output, bool) and 0 <= output < len(points)
                and output != expected and points.index[output] == expected)

    def smallest_gap(output, expected, inputs):
        points = inputs["points"]
        eligible = points[(points["fnr_gap"] <= inputs["max_gap"]) & (points["auc"] >= inputs["min_auc"])]
        return output == eligible["fnr_gap"].idxmin() and output != expected

    def ignores_auc_floor(output, expected, inputs):
        points = inputs["points"]
        eligible = points[points["fnr_gap"] <= inputs["max_gap"]]
        return output == eligible["auc"].idxmax() and output != expected

    return [
        Misconception(position_not_label, "You returned the chosen row's position; return its index label "
                                          "(`points.index[...]`, or `.index[0]` of the sorted rows): positions and "
                                          "labels differ as soon as the table was filtered or sorted."),
        Misconception(smallest_gap, "You chose the smallest gap. The rule keeps the settings within both limits and "
                                    "then chooses the highest AUC (the gap only breaks ties)."),
        Misconception(ignores_auc_floor, "Your choice is below min_auc: the rule also drops settings that lose more "
                                         "AUC than allowed."),
    ]


def _per_1000_rules():
    def per_group_everyone(output, expected, inputs):
        y, g = np.asarray(inputs["y_true"]), np.asarray(inputs["sensitive_features"])
        return all(numbers_match(output["missed_per_1000"][grp], value * (y[g == grp] == 1).mean(), 1e-6)
                   for grp, value in expected["missed_per_1000"].items() if not math.isnan(value)) and any(
            not numbers_match(output["missed_per_1000"][grp], v, 1e-6) for grp, v in expected["missed_per_1000"].items())

    def proportions(output, expected, inputs):
        return all(numbers_match(o, e / 1000, 1e-9) for o, e in _all_pairs(output, expected) if not math.isnan(e))

    return [
        Misconception(lambda output, expected, inputs: any(math.isnan(e) and o == 0 for o, e in _all_pairs(output, expected)),
                      "Your function gives 0 for a group with nobody in the denominator. Undefined is not 0: NaN."),
        Misconception(proportions, "Those are proportions. Express them per 1,000 patients: multiply by 1000."),
        Misconception(per_group_everyone, "Your missed diagnoses are per 1,000 patients of the group, with or without "
                                          "the condition. Count them per 1,000 patients WITH the condition."),
    ]


def _paired_rules():
    def reversed_sign(output, expected, inputs):
        return numbers_match(output["gap_change"], -expected["gap_change"], 1e-9) and expected["gap_change"] != 0

    return [Misconception(reversed_sign, "Your change has the wrong sign: it is after minus before (a negative gap "
                                         "change means a smaller gap after).")]


def _profile_rules():
    def wald(output, expected, inputs):
        from scipy.stats import norm

        z = norm.ppf(0.975)
        return all(numbers_match(output["prevalence_ci_low"][g], p - z * math.sqrt(p * (1 - p) / n), 1e-6)
                   for g, p, n in ((g, expected["prevalence"][g], expected["n"][g]) for g in expected["n"]))

    def missing_counts(output, expected, inputs):
        columns = [c for c in expected if c.startswith("missing_")]
        return any(numbers_match(output[c][g], expected[c][g] * expected["n"][g], 1e-9) and expected[c][g] > 0
                   for c in columns for g in expected[c])

    return [
        Misconception(wald, "That is the normal-approximation (Wald) interval, which fails for small groups. Use the "
                            "Wilson interval: binomtest(cases, n).proportion_ci(method=\"wilson\")."),
        Misconception(missing_counts, "Your missing_<column> values are counts. Give the share of the group's patients."),
    ]


def _parity_rules():
    def inverted(output, expected, inputs):
        return any(numbers_match(output[c][g], 1 / e, 1e-9) and not numbers_match(e, 1.0, 1e-9)
                   for c in expected if c.endswith("_disparity") for g, e in expected[c].items()
                   if e and not math.isnan(e))

    def difference(output, expected, inputs):
        table, reference = inputs["by_group"].set_index("group"), inputs["reference_group"]
        return any(numbers_match(output[c][g], table.loc[g, c[:-len("_disparity")]]
                                 - table.loc[reference, c[:-len("_disparity")]], 1e-9)
                   for c in expected if c.endswith("_disparity") for g in expected[c] if g != reference)

    def infinite(output, expected, inputs):
        return any(isinstance(o, float) and math.isinf(o) for o, _ in _all_pairs(output, expected))

    return [
        Misconception(infinite, "A disparity is infinite where the reference group's rate is 0. Aequitas caps a "
                                "division by zero at 10.0: do the same (0 / 0 stays undefined, NaN)."),
        Misconception(inverted, "Your disparities are inverted: the reference group's rate over the group's. Aequitas "
                                "divides the group's rate by the reference group's."),
        Misconception(difference, "Your disparities are differences. Aequitas reports ratios: the group's rate divided "
                                  "by the reference group's."),
    ]


# --- the questions ---------------------------------------------------------------------------------------


def _choose_rules():
    def qualifying(inputs):
        points = inputs["points"]
        return points[points["auc"] >= inputs["min_auc"]]

    def not_a_verdict(output, expected, inputs):
        return output != CANNOT_TELL and output not in list(inputs["points"].index)

    def below_floor(output, expected, inputs):
        return output in list(inputs["points"].index) and output not in list(qualifying(inputs).index)

    def point_estimate(output, expected, inputs):
        eligible = qualifying(inputs)
        return expected == CANNOT_TELL and not eligible.empty and output == eligible["fnr_gap"].idxmin()

    return [
        Misconception(not_a_verdict, f"Return a setting's name, exactly as the index of points spells it, or "
                                     f"{CANNOT_TELL!r}."),
        Misconception(below_floor, "That setting's AUC is below min_auc: the stated rule does not allow it, however "
                                   "small its gap."),
        Misconception(point_estimate, "That setting has the smallest gap on all patients, but its resamples do not "
                                      "separate it from another qualifying setting: the order could be chance. "
                                      "Compare the two settings' gaps resample by resample."),
        Misconception(lambda output, expected, inputs: expected != CANNOT_TELL and output == CANNOT_TELL,
                      "The resamples do separate this setting from every other qualifying one. Two settings "
                      "measured on the same resamples are compared by the resamples of their difference: two "
                      "separate intervals that overlap do not mean the data cannot tell."),
        Misconception(lambda output, expected, inputs: True,
                      "That is not the qualifying setting with the smallest FNR gap."),
    ]


def _root_cause_rules():
    return [
        Misconception(lambda output, expected, inputs: output not in ROOT_CAUSES,
                      f"Return one of {', '.join(map(repr, ROOT_CAUSES))}."),
        Misconception(lambda output, expected, inputs: expected == "chance",
                      "The FNR gap between these two groups could be chance at these group sizes: test the gap "
                      "before looking for its cause."),
        Misconception(lambda output, expected, inputs: output == "chance",
                      "This gap is beyond chance at these group sizes: something causes it."),
        Misconception(lambda output, expected, inputs: expected == "label",
                      "Look at the audit sample: does the recorded outcome agree with the confirmed one as often "
                      "in one group as in the other?"),
        Misconception(lambda output, expected, inputs: expected == "measurement",
                      "Look at the audit sample: does the recorded marker agree with the reference measurement as "
                      "closely in one group as in the other?"),
        Misconception(lambda output, expected, inputs: True,
                      "Labels and measurements check out in both groups here: look at where each group's patients "
                      "come from, and at the gap within each site."),
    ]


QUESTIONS = [
    Question(
        id="debias-validation-women-with-disease",
        notebook=AUDIT_NOTEBOOK,
        points=1,
        kind="integer",
        misconceptions=[
            known("test", "That is the test patients' count. Every choice is made on the validation patients; the "
                          "test patients wait for the final report."),
            known("train", "That is the training patients' count. The question asks about the validation patients."),
            known("every woman", "That counts every woman in the validation set. The question asks for those with "
                                 "disease."),
            known("all patients", "That counts the women with disease among all 920 patients. Keep only the "
                                  "validation patients."),
            known("men", "That is the men's count."),
        ],
        hints=["Combine three conditions on `inputs`: split is \"validation\", sex is \"Female\", disease is 1; "
               "then count (sum) the rows where all three hold."],
    ),
    Question(
        id="debias-baseline-validation-auc",
        notebook=AUDIT_NOTEBOOK,
        points=1,
        kind="number",
        tolerance=_AUC_TOL,
        misconceptions=[
            known("accuracy", "That is the accuracy (share of correct decisions at 0.5). AUC is computed from the "
                              "scores, not the decisions."),
            complement("pairs ranked the wrong way round (1 - AUC): true labels first, then the scores"),
            known("test", "That is the AUC on the test patients. They stay untouched until the final report: compute "
                          "it on the validation patients."),
            known("decisions", "That AUC is computed from the 0/1 decisions. Use the scores: "
                               "predict_proba(X)[:, 1]."),
        ],
        hints=["`roc_auc_score(validation[\"disease\"], baseline.predict_proba(validation[features])[:, 1])`."],
    ),
    CodeQuestion(
        id="debias-audit-function",
        notebook=AUDIT_NOTEBOOK,
        points=3,
        signature="audit_by_group(y_true, y_pred, sensitive_features)",
        cases=cases_for("debias-audit-function"),
        returns="table",
        tolerance=1e-9,
        run=metric_frame_output,
        misconceptions=_audit_rules(),
        hints=["`MetricFrame(metrics={\"count\": count, \"base_rate\": ..., \"selection_rate\": selection_rate, "
               "\"tpr\": ..., \"fpr\": ..., \"fnr\": ..., \"ppv\": ...}, y_true=..., y_pred=..., "
               "sensitive_features=...)`; each metric is a function (y_true, y_pred) -> number.",
               "Write each rate as a share of a subset: FNR = share of `y_pred == 0` among `y_true == 1`; return "
               "NaN when the subset is empty (fairlearn's own rate functions return 0 there)."],
    ),
    CodeQuestion(
        id="debias-gaps-function",
        notebook=AUDIT_NOTEBOOK,
        points=2,
        signature="fairness_gaps(by_group)",
        cases=cases_for("debias-gaps-function"),
        returns="record",
        tolerance=1e-9,
        run=with_group_index,
        misconceptions=_gaps_rules(),
        hints=["For each rate, the gap is its largest value across groups minus its smallest (pandas' max and min "
               "skip NaN).",
               "equalized_odds_difference = max(TPR gap, FPR gap); demographic parity compares selection rates; "
               "predictive parity compares PPVs."],
    ),
    CodeQuestion(
        id="debias-ppv-function",
        notebook=AUDIT_NOTEBOOK,
        points=2,
        signature="ppv_from_rates(tpr, fpr, prevalence)",
        cases=cases_for("debias-ppv-function"),
        returns="number",
        tolerance=1e-9,
        misconceptions=_ppv_rules(),
        hints=["Out of 1 patient: TPR x p are flagged with the condition, FPR x (1 - p) are flagged without it; PPV "
               "is the first over their sum.",
               "Return NaN (`float(\"nan\")`) when nobody is flagged (the sum is 0)."],
    ),
    CodeQuestion(
        id="debias-reweighing-weights-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature="reweighing_weights(data, group_col, outcome_col, privileged_group)",
        cases=cases_for("debias-reweighing-weights-function"),
        returns="array",
        tolerance=1e-9,
        misconceptions=_reweighing_rules(),
        hints=["Build a numeric frame with two columns -- 1.0 where data[group_col] == privileged_group, else 0.0; "
               "and the outcome as 0.0/1.0 -- and a BinaryLabelDataset(df=..., label_names=[...], "
               "protected_attribute_names=[...]) from it.",
               "Reweighing(unprivileged_groups=[{col: 0.0}], privileged_groups=[{col: 1.0}]).fit_transform(dataset)"
               ".instance_weights"],
    ),
    CodeQuestion(
        id="debias-reweighed-fit-function",
        notebook=PIPELINE_NOTEBOOK,
        points=2,
        signature="fit_reweighed(model, X, y, sample_weight, strength=1.0)",
        cases=cases_for("debias-reweighed-fit-function"),
        returns="array",
        tolerance=1e-6,
        run=reweighed_probabilities,
        misconceptions=_reweighed_fit_rules(),
        hints=["weights = 1 + strength x (sample_weight - 1); fit `clone(model)` with them and return it.",
               "A Pipeline routes fit parameters by step name: fit(X, y, **{f\"{pipe.steps[-1][0]}__sample_weight\": "
               "weights}); a plain classifier takes sample_weight=weights."],
    ),
    CodeQuestion(
        id="debias-adversarial-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature=("adversarial_scores(X_train, y_train, groups_train, X_new, groups_new, privileged_group, "
                   "adversary_loss_weight=0.1, seed=0, num_epochs=30)"),
        cases=cases_for("debias-adversarial-function"),
        returns="array",
        tolerance=0.01,
        misconceptions=_adversarial_rules(),
        hints=["One BinaryLabelDataset for the training patients and one for the new ones (their labels unknown: "
               "zeros), each with the columns of X in order, then a 0/1 privileged column, then the label.",
               "`with tensorflow_session() as session:` then AdversarialDebiasing(unprivileged_groups=..., "
               "privileged_groups=..., scope_name=\"adversary\", sess=session, seed=seed, debias=True, "
               "adversary_loss_weight=..., num_epochs=..., batch_size=32, classifier_num_hidden_units=50); fit, then "
               "predict(...).scores inside the block."],
    ),
    CodeQuestion(
        id="debias-thresholds-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature="fit_group_thresholds(model, X, y, sensitive_features, tol=None)",
        cases=cases_for("debias-thresholds-function"),
        returns="array",
        run=threshold_decisions,
        hints=["ThresholdOptimizer(estimator=model, prefit=True, predict_method=\"predict_proba\", "
               "constraints=\"true_positive_rate_parity\", objective=\"balanced_accuracy_score\", tol=tol)",
               "Fit it with fit(X, y, sensitive_features=sensitive_features) and return it; the check predicts "
               "with random_state=0."],
    ),
    CodeQuestion(
        id="debias-fnr-target-function",
        notebook=PIPELINE_NOTEBOOK,
        points=2,
        signature="thresholds_for_fnr(y_true, scores, *, sensitive_features, max_fnr)",
        cases=cases_for("debias-fnr-target-function"),
        returns="mapping",
        tolerance=1e-9,
        misconceptions=_fnr_target_rules(),
        hints=["Per group, sort the scores of its patients WITH the condition. A threshold t misses those scoring "
               "below t; k = math.floor(max_fnr * n_with_condition + 1e-9) misses are allowed. Which sorted score "
               "leaves exactly the k lowest below it?",
               "A group with nobody with the condition gets NaN (float(\"nan\")); return a pandas Series indexed "
               "by group."],
    ),
    CodeQuestion(
        id="debias-pareto-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature="pareto_front(points, maximise=\"auc\", minimise=\"fnr_gap\")",
        cases=cases_for("debias-pareto-function"),
        returns="output",
        run=front_labels,
        misconceptions=_front_rules(),
        hints=["Row b dominates row a when b[maximise] >= a[maximise] and b[minimise] <= a[minimise], with at least "
               "one of the two strict. Keep the rows no other row dominates.",
               "Leave out rows with NaN in either column first; return points.loc[kept labels]."],
    ),
    CodeQuestion(
        id="debias-select-function",
        notebook=PIPELINE_NOTEBOOK,
        points=2,
        signature="select_point(points, max_gap, min_auc)",
        cases=cases_for("debias-select-function"),
        returns="output",
        run=chosen_label,
        misconceptions=_select_rules(),
        hints=["Keep the rows with fnr_gap <= max_gap and auc >= min_auc; sort them by auc (highest first), then "
               "fnr_gap (smallest first) with kind=\"stable\"; return the first row's index label (None if none)."],
    ),
    CodeQuestion(
        id="debias-choose-decision-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature="choose_setting(points, resamples, min_auc)",
        cases=cases_for("debias-choose-decision-function"),
        returns="text",
        misconceptions=_choose_rules(),
        hints=["The candidate is the qualifying setting (auc >= min_auc) with the smallest fnr_gap in points. Is "
               "its gap smaller than each other qualifying setting's beyond chance? The resamples of both were "
               "drawn from the same patients: look at the difference, resample by resample.",
               "`wide = resamples.pivot(index=\"resample\", columns=\"setting\", values=\"fnr_gap\")`; for each other "
               "qualifying setting, `(wide[candidate] - wide[other]).dropna()`, and its 2.5th and 97.5th percentiles: "
               "the interval must lie below 0 for every one of them."],
    ),
    CodeQuestion(
        id="debias-per-1000-function",
        notebook=PIPELINE_NOTEBOOK,
        points=2,
        signature="rates_per_1000(y_true, y_pred, sensitive_features)",
        cases=cases_for("debias-per-1000-function"),
        returns="table",
        tolerance=1e-6,
        misconceptions=_per_1000_rules(),
        hints=["missed_per_1000 = 1000 x (share of patients WITH the condition the model called healthy); "
               "false_alarms_per_1000 = 1000 x (share of patients WITHOUT it the model flagged); per group, NaN when "
               "the group has nobody in the denominator."],
    ),
    CodeQuestion(
        id="debias-paired-bootstrap-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature=("paired_bootstrap_change(y_true, sensitive_features, score_before, pred_before, score_after, "
                   "pred_after, n_boot=1000, random_state=0, confidence_level=0.95)"),
        cases=cases_for("debias-paired-bootstrap-function"),
        returns="record",
        tolerance=1e-9,
        misconceptions=_paired_rules(),
        hints=["Draw all resamples at once: rows = np.random.default_rng(random_state).integers(0, n, size=(n_boot, "
               "n)); resample b is row b, the same rows for before and after: that is what makes it paired.",
               "Per resample: FNR of each group, their absolute difference, after minus before; AUC after minus "
               "before. The interval: np.nanquantile of the changes at (1 - confidence_level) / 2 and "
               "(1 + confidence_level) / 2."],
    ),
    CodeQuestion(
        id="debias-parity-verdicts-function",
        notebook=PIPELINE_NOTEBOOK,
        points=3,
        signature="parity_verdicts(by_group, reference_group, metrics=(\"fnr\", \"fpr\"), low=0.8, high=1.25)",
        cases=cases_for("debias-parity-verdicts-function"),
        returns="table",
        tolerance=1e-9,
        run=with_group_index,
        misconceptions=_parity_rules(),
        hints=["<metric>_disparity = by_group[metric] / by_group.loc[reference_group, metric]; <metric>_parity is "
               "True when low <= disparity <= high, False otherwise, and undefined (NaN, None or pd.NA) where the "
               "disparity is.",
               "A positive rate divided by a reference rate of 0 gives inf in pandas: replace it with 10.0, as "
               "Aequitas does; 0 / 0 gives NaN and stays undefined."],
    ),
    Question(
        id="debias-high-sugar-va-share",
        notebook=AUDIT_NOTEBOOK,
        points=1,
        kind="number",
        tolerance=_TOL,
        misconceptions=[
            known("high-sugar share at VA", "That is the share of VA Long Beach patients with FBS > 120. The "
                                            "question asks the other way round: of the FBS > 120 patients, what "
                                            "share come from VA."),
            known("FBS <= 120", "That is the share among the FBS <= 120 patients."),
            percentage_not_proportion(),
            known("count", "You gave a count of patients. Divide by the number of FBS > 120 patients."),
        ],
        hints=["Keep the FBS > 120 patients (`fasting_blood_sugar_high == True`); what share have `site == "
               "'VA Long Beach'`?"],
    ),
    CodeQuestion(
        id="debias-subgroup-profile-function",
        notebook=AUDIT_NOTEBOOK,
        points=3,
        signature="subgroup_profile(data, group_col, outcome_col, score_col, feature_cols, n_boot=1000, random_state=0)",
        cases=cases_for("debias-subgroup-profile-function"),
        returns="table",
        tolerance=1e-9,
        misconceptions=_profile_rules(),
        hints=["One row per group (sorted): n, prevalence with its Wilson 95 % interval "
               "(binomtest(cases, n).proportion_ci(method=\"wilson\")), the share missing of each feature column, "
               "and the AUC of score_col.",
               "The AUC interval: for each group, rows = np.random.default_rng(random_state).integers(0, n, "
               "size=(n_boot, n)) over that group's patients; the 2.5th and 97.5th percentiles (np.nanquantile) of "
               "the resamples' AUCs, a resample with one class only left out."],
    ),
    CodeQuestion(
        id="debias-root-cause-decision-function",
        notebook=AUDIT_NOTEBOOK,
        points=3,
        signature="gap_root_cause(data)",
        cases=cases_for("debias-root-cause-decision-function"),
        returns="text",
        misconceptions=_root_cause_rules(),
        hints=["Three questions, each a test between the two groups: is the FNR gap beyond chance (missed and caught "
               "patients with the recorded condition)? In the audit sample, do records and confirmed outcomes "
               "disagree more often in one group? Do recorded markers sit further from the reference in one group?",
               "`scipy.stats.fisher_exact` for two counts per group; `scipy.stats.ttest_ind(a, b, equal_var=False)` "
               "for marker - marker_reference. Where no test finds a difference in the records, the gap comes from "
               "the group's data: compare the gap within each site."],
    ),
]
