"""Questions of notebook 02 (a de-biased diagnostic pipeline with a Pareto analysis).

Every expected answer is computed from the shipped data with the notebook's seeded pipeline: the
same 25 % held-out split (stratified by disease x sex, seed 0), the same mitigation settings
(:data:`GRID`, :data:`SEEDS`) and the same selection rule.  Nothing is typed in.  Misconception
rules recognise the usual slips: FNR confused with FPR, TPR or 1 - accuracy; a gap given as a ratio
or signed the wrong way; an AUC difference where an FNR gap was asked; the "fairest" row picked
regardless of the rule, or a setting judged by its luckiest seed; missed diagnoses per 1,000
patients overall instead of per 1,000 patients with disease.
"""

import math
from functools import cache

import pandas as pd

from course_utils.exercises._question import Misconception, Question
from course_utils.exercises.rules import (
    chose,
    close,
    count_not_proportion,
    equals,
    every_value_is,
    heart,
    mapping_equals,
    percentage_not_proportion,
)

NOTEBOOK = "02"
NOTEBOOK_FILE = "02_debiasing_pipeline"

#: The notebook's held-out split: share held out and seed (stratified by disease x sex).
TEST_SIZE, SPLIT_SEED = 0.25, 0

#: The mitigation settings the notebook sweeps, and the model seeds.
GRID = {"baseline": None, "reweighing": [0.5, 1.0], "adversarial": [0.05, 0.2], "threshold": [0.02, 0.05, 0.2]}
SEEDS = [0, 1]

#: The stated selection rule: the highest AUC among settings whose FNR gap is at most this, each
#: setting judged by its worst seed (the seed with the largest FNR gap).
GAP_LIMIT = 0.05

GROUPS = ("Female", "Male")


def setting_label(method, knob):
    """How the notebook names a setting: ``"baseline"`` or e.g. ``"threshold 0.02"``."""
    return method if knob is None or (isinstance(knob, float) and math.isnan(knob)) else f"{method} {knob:g}"


SETTINGS = tuple(setting_label(m, k) for m, knobs in GRID.items() for k in (knobs or [None]))


# --- the shared, seeded pipeline --------------------------------------------------------------


@cache
def split():
    """(train, test) exactly as the notebook makes them."""
    from sklearn.model_selection import train_test_split

    data = heart()
    strata = data["disease"].astype(str) + data["sex"].astype(str)
    return train_test_split(data, test_size=TEST_SIZE, stratify=strata, random_state=SPLIT_SEED)


def baseline_model():
    """The notebook's baseline on the heart data's features, unfitted, as its worked example builds it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, model_inputs

    numeric, categorical = list(HEART_NUMERIC_FEATURES), list(HEART_CATEGORICAL_FEATURES)
    return make_pipeline(
        FunctionTransformer(model_inputs, kw_args={"numeric_cols": numeric, "categorical_cols": categorical}),
        ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
             categorical),
        ]),
        LogisticRegression(max_iter=1000, random_state=0),
    )


def sweep_settings():
    """The notebook's sweep as (method, value, estimator) triples, built as the notebook builds them."""
    from course_utils.mitigation import AdversarialDebiasingClassifier, RejectOptionClassifier, ReweighingClassifier

    baseline = baseline_model()
    make = {
        "baseline": lambda value: baseline,
        "reweighing": lambda value: ReweighingClassifier(baseline, strength=value, privileged_group="Male"),
        "adversarial": lambda value: AdversarialDebiasingClassifier(
            preprocessor=baseline[:-1], adversary_loss_weight=value, privileged_group="Male"),
        "threshold": lambda value: RejectOptionClassifier(baseline, max_fnr_gap=value, privileged_group="Male"),
    }
    return [(method, value, make[method](value)) for method, values in GRID.items() for value in (values or [None])]


@cache
def baseline_predictions():
    """The baseline's held-out scores and decisions (seed 0), as a DataFrame with y_true and sex."""
    train, test = split()
    model = baseline_model().fit(train, train["disease"])
    return pd.DataFrame({"y_true": test["disease"].to_numpy(), "sex": test["sex"].astype(str).to_numpy(),
                         "y_score": model.predict_proba(test)[:, 1], "y_pred": model.predict(test)})


def rates_by_sex(frame):
    """Per-sex rates of a predictions frame (y_true, y_pred, sex), with plain pandas."""
    rates = {}
    for sex, group in frame.groupby("sex"):
        sick, healthy, flagged = group[group["y_true"] == 1], group[group["y_true"] == 0], group[group["y_pred"] == 1]
        rates[sex] = {
            "base_rate": float(group["y_true"].mean()),
            "selection_rate": float(group["y_pred"].mean()),
            "accuracy": float((group["y_pred"] == group["y_true"]).mean()),
            "tpr": float((sick["y_pred"] == 1).mean()),
            "fnr": float((sick["y_pred"] == 0).mean()),
            "fpr": float((healthy["y_pred"] == 1).mean()),
            "ppv": float((flagged["y_true"] == 1).mean()),
            "false_negatives": int((sick["y_pred"] == 0).sum()),
            "n": len(group),
        }
        if "y_score" in group:
            from sklearn.metrics import roc_auc_score

            rates[sex]["auc"] = float(roc_auc_score(group["y_true"], group["y_score"]))
    return rates


def _baseline(rate):
    return {sex: values[rate] for sex, values in rates_by_sex(baseline_predictions()).items()}


def _baseline_auc():
    from sklearn.metrics import roc_auc_score

    frame = baseline_predictions()
    return float(roc_auc_score(frame["y_true"], frame["y_score"]))


def _baseline_accuracy():
    frame = baseline_predictions()
    return float((frame["y_true"] == frame["y_pred"]).mean())


def _gap(rate):
    values = _baseline(rate)
    return abs(values["Female"] - values["Male"])


def _equalized_odds():
    return max(_gap("tpr"), _gap("fpr"))


def ppv_with_other_groups_error_rates(tpr, fpr, base_rate):
    """PPV of a group with this base rate if the model had these TPR and FPR in it."""
    return tpr * base_rate / (tpr * base_rate + fpr * (1 - base_rate))


def _women_ppv_at_mens_error_rates(base_rate_of="Female"):
    men = rates_by_sex(baseline_predictions())["Male"]
    return ppv_with_other_groups_error_rates(men["tpr"], men["fpr"], _baseline("base_rate")[base_rate_of])


def _training_cell(sex, disease):
    train, _ = split()
    return int(((train["sex"] == sex) & (train["disease"] == disease)).sum())


def _reweighing_weight(sex="Female", disease=1, data=None):
    """P(sex) P(disease) / P(sex, disease) on the training patients (or on ``data``)."""
    data = split()[0] if data is None else data
    in_sex, with_outcome = data["sex"] == sex, data["disease"] == disease
    return float(in_sex.mean() * with_outcome.mean() / (in_sex & with_outcome).mean())


@cache
def sweep():
    """The notebook's sweep, with exactly the notebook's arguments so evaluate_grid reuses its result."""
    from course_utils.tradeoff import evaluate_grid

    train, test = split()
    results = evaluate_grid(sweep_settings(), train, train["disease"], test, test["disease"],
                            sensitive_features_train=train["sex"], sensitive_features_test=test["sex"], seeds=SEEDS,
                            progress=False)
    return results.assign(setting=[setting_label(m, k) for m, k in zip(results["method"], results["value"])])


def worst_seed(results):
    """One row per setting: the seed with the largest FNR gap (ties: the first seed)."""
    return results.sort_values("fnr_gap", ascending=False, kind="stable").drop_duplicates("setting").sort_index()


def _rule(results):
    from course_utils.tradeoff import select_point

    return select_point(results, "highest_auc_within_gap", GAP_LIMIT)


def _chosen():
    return _rule(worst_seed(sweep()))["setting"]


def _luckiest_seed_choice():
    return _rule(sweep())["setting"]


def _fairest_row():
    results = sweep()
    return results.loc[results["fnr_gap"].idxmin(), "setting"]


def _missed_per_1000(row):
    return {sex: 1000 * float(row[f"fnr_{sex}"]) for sex in GROUPS}


def _chosen_row():
    return _rule(worst_seed(sweep()))


def _baseline_row():
    results = sweep()
    return results[results["method"] == "baseline"].iloc[0]


def _missed_per_1000_all_patients(row):
    """The slip: missed patients per 1,000 patients of the group (with or without disease)."""
    base = _baseline("base_rate")
    return {sex: 1000 * float(row[f"fnr_{sex}"]) * base[sex] for sex in GROUPS}


def diabetes_status(data):
    """fasting_blood_sugar_high as readable groups: diabetic / non-diabetic / not recorded."""
    labels = data["fasting_blood_sugar_high"].map({True: "diabetic", False: "non-diabetic"})
    return labels.astype(object).where(labels.notna(), "not recorded")


def _diabetes_prevalence(value="mean"):
    data = heart().assign(status=diabetes_status(heart()))
    grouped = data[data["status"] != "not recorded"].groupby("status")["disease"]
    return {k: float(v) for k, v in getattr(grouped, value)().items()}


def _va_share(status="diabetic"):
    data = heart().assign(status=diabetes_status(heart()))
    group = data[data["status"] == status]
    return float((group["site"] == "VA Long Beach").mean())


def _diabetic_share_at_va():
    data = heart().assign(status=diabetes_status(heart()))
    return float((data.loc[data["site"] == "VA Long Beach", "status"] == "diabetic").mean())


# --- generic rules -----------------------------------------------------------------------------






_TOL = 0.005

QUESTIONS = [
    Question(
        id="debias-baseline-auc",
        notebook=NOTEBOOK,
        points=1,
        kind="number",
        tolerance=_TOL,
        expected=_baseline_auc,
        misconceptions=[
            equals(_baseline_accuracy, "That is the accuracy (share of correct decisions at the 0.5 threshold). "
                        "AUC is computed from the scores, not the decisions.", _TOL),
            equals(lambda: 1 - _baseline_auc(), "That is 1 - AUC: check the order of the arguments "
                        "(true labels first, then the probability of disease).", _TOL),
        ],
        hints=["`roc_auc_score(y_true, scores)` with `scores = model.predict_proba(X)[:, 1]`."],
    ),
    Question(
        id="debias-fnr-by-sex",
        notebook=NOTEBOOK,
        points=2,
        kind="mapping",
        tolerance=_TOL,
        expected=lambda: _baseline("fnr"),
        misconceptions=[
            mapping_equals(lambda: _baseline("fpr"),
                          "Those are false-positive rates (healthy patients flagged). The FNR is about patients WITH "
                          "disease whom the model missed.", _TOL),
            mapping_equals(lambda: {s: 1 - a for s, a in _baseline("accuracy").items()},
                          "Those are error rates (1 - accuracy) over all patients of each group. The FNR divides the "
                          "missed patients by the patients with disease only.", _TOL),
            mapping_equals(lambda: _baseline("tpr"),
                          "Those are true-positive rates (the share caught). The FNR is the share missed.", _TOL),
            mapping_equals(lambda: _baseline("false_negatives"),
                          "Those are counts of missed patients. Divide by each group's patients with disease.", 0.5),
        ],
        hints=["FNR = missed patients with disease / patients with disease, within each sex, on the held-out set."],
    ),
    Question(
        id="debias-fnr-gap",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=_TOL,
        expected=lambda: _gap("fnr"),
        misconceptions=[
            equals(lambda: -_gap("fnr"), "Your gap is negative: it is signed the wrong way round. The course "
                        "reports the gap as an absolute difference, |FNR women - FNR men|.", _TOL),
            Misconception(lambda answer, expected: any(close(answer, r, 0.01) for r in (
                _baseline("fnr")["Female"] / _baseline("fnr")["Male"], _baseline("fnr")["Male"] / _baseline("fnr")["Female"])),
                "That is a ratio of the two FNRs. The gap is a difference: subtract one FNR from the other."),
            equals(lambda: _gap("fpr"), "That is the gap in false-positive rates. The question asks about "
                        "missed diagnoses: the false-negative rates.", _TOL),
            equals(lambda: _gap("auc"), "That is the difference in AUC between the groups. AUC ranks scores; "
                        "the FNR gap compares how many patients with disease each group has missed.", _TOL),
            equals(lambda: abs(_baseline("accuracy")["Female"] - _baseline("accuracy")["Male"]),
                        "That is the gap in error rates (1 - accuracy). Use the FNR: patients with disease only.", _TOL),
        ],
        hints=["gap = |FNR(Female) - FNR(Male)|, a difference of two proportions, between 0 and 1."],
    ),
    Question(
        id="debias-equalized-odds",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=_TOL,
        expected=_equalized_odds,
        misconceptions=[
            equals(lambda: _gap("tpr"), "That is the TPR gap alone (the same as the FNR gap). Equalized odds "
                        "also asks for equal false-positive rates: take the larger of the two gaps.", _TOL),
            equals(lambda: (_gap("tpr") + _gap("fpr")) / 2, "That is the mean of the two gaps. The equalized-odds "
                        "difference is the larger of them (the worse violation).", _TOL),
            equals(lambda: _gap("tpr") + _gap("fpr"), "That is the sum of the two gaps. Take the larger one.", _TOL),
            equals(lambda: _gap("selection_rate"), "That is the selection-rate gap: demographic parity, not "
                        "equalized odds.", _TOL),
        ],
        hints=["Equalized-odds difference = max(|TPR gap|, |FPR gap|); fairlearn's `equalized_odds_difference` "
               "computes it."],
    ),
    Question(
        id="debias-impossibility-ppv",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=_TOL,
        expected=_women_ppv_at_mens_error_rates,
        misconceptions=[
            equals(lambda: _baseline("ppv")["Male"], "That is the men's PPV. If women had the men's TPR and FPR, "
                        "would their PPV be the same? Put the women's base rate into the formula.", _TOL),
            equals(lambda: _baseline("ppv")["Female"], "That is the women's PPV under the baseline model. The "
                        "question asks what it would be with the men's TPR and FPR.", _TOL),
            equals(lambda: _baseline("base_rate")["Female"], "That is the women's base rate. Use it inside the "
                        "PPV formula with the men's TPR and FPR.", _TOL),
        ],
        hints=["PPV = TPR p / (TPR p + FPR (1 - p)), with p the group's base rate (share with disease)."],
    ),
    Question(
        id="debias-reweighing-weight",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.01,
        expected=_reweighing_weight,
        misconceptions=[
            equals(lambda: 1 / _reweighing_weight(), "Your weight is inverted: it is observed / expected. "
                        "Re-weighing multiplies each cell by expected / observed: P(group) P(outcome) / "
                        "P(group, outcome).", 0.01),
            equals(lambda: _reweighing_weight(data=heart()), "That uses all 920 patients. Weights are "
                        "computed on the training patients only; the held-out patients must stay unseen.", 0.01),
            equals(lambda: _reweighing_weight("Female", 0), "That is the weight of women WITHOUT disease.", 0.01),
            count_not_proportion(lambda: _training_cell("Female", 1)),
        ],
        hints=["weight(women, disease) = P(woman) x P(disease) / P(woman and disease), all on the training set."],
    ),
    Question(
        id="debias-selected-setting",
        notebook=NOTEBOOK,
        points=3,
        kind="choice",
        choices=SETTINGS,
        expected=_chosen,
        misconceptions=[
            Misconception(lambda answer, expected: " ".join(str(answer).lower().split()) == _luckiest_seed_choice(),
                          "That setting meets the rule with its luckiest seed only. The rule judges every setting "
                          "by its worst seed (the seed with the largest FNR gap)."),
            Misconception(lambda answer, expected: " ".join(str(answer).lower().split()) == _fairest_row(),
                          "That is the row with the smallest FNR gap, the 'fairest' point. The stated rule asks for "
                          "the highest AUC among the settings within the gap limit, not the smallest gap."),
            chose("baseline", "The baseline's FNR gap is above the limit, so the rule excludes it."),
        ],
        hints=[f"Apply `select_point(worst, 'highest_auc_within_gap', {GAP_LIMIT})` to the worst-seed table."],
    ),
    Question(
        id="debias-missed-per-1000",
        notebook=NOTEBOOK,
        points=2,
        kind="mapping",
        tolerance=0.5,
        expected=lambda: _missed_per_1000(_chosen_row()),
        misconceptions=[
            mapping_equals(lambda: _missed_per_1000_all_patients(_chosen_row()),
                          "Those are missed diagnoses per 1,000 patients of each group, with or without disease. "
                          "The question asks per 1,000 patients WITH disease: 1000 x FNR.", 0.5),
            mapping_equals(lambda: {s: v / 1000 for s, v in _missed_per_1000(_chosen_row()).items()},
                          "Those are proportions (FNRs). Express them per 1,000 patients with disease.", 0.005),
            mapping_equals(lambda: _missed_per_1000(_baseline_row()),
                          "Those are the baseline's numbers. The question asks about the chosen setting.", 0.5),
            mapping_equals(lambda: {s: _missed_per_1000(_chosen_row())[s] - _missed_per_1000(_baseline_row())[s]
                                   for s in GROUPS},
                          "Those are the changes from the baseline. Give the chosen setting's own numbers.", 0.5),
        ],
        hints=["`missed_diagnoses_per_1000(chosen, baseline_row)['chosen']`, or 1000 x the chosen row's fnr_<group>."],
    ),
    Question(
        id="debias-diabetes-prevalence",
        notebook=NOTEBOOK,
        points=2,
        kind="mapping",
        tolerance=_TOL,
        expected=_diabetes_prevalence,
        misconceptions=[
            mapping_equals(lambda: _diabetes_prevalence("sum"),
                          "Those are counts of patients with disease. Prevalence divides by the group's patients.", 0.5),
            mapping_equals(lambda: {k: v / heart()["disease"].sum() for k, v in _diabetes_prevalence("sum").items()},
                          "You divided by all patients with disease: that is the share of cases in each group. "
                          "Prevalence divides a group's cases by that group's patients.", _TOL),
            every_value_is(lambda: heart()["disease"].mean(),
                            "That is the prevalence of all patients pooled. Compute it within each group.", _TOL),
            mapping_equals(lambda: {k: 100 * v for k, v in _diabetes_prevalence().items()},
                          "Those look like percentages. Give proportions between 0 and 1.", 0.5),
        ],
        hints=["Among patients with `fasting_blood_sugar_high` True (diabetic) and False (non-diabetic): the mean "
               "of `disease`. Leave out the patients where it was not recorded."],
    ),
    Question(
        id="debias-diabetes-va-share",
        notebook=NOTEBOOK,
        points=1,
        kind="number",
        tolerance=_TOL,
        expected=_va_share,
        misconceptions=[
            equals(_diabetic_share_at_va, "That is the share of VA Long Beach patients who are diabetic. The "
                        "question asks the other way round: of the diabetic patients, what share come from VA.", _TOL),
            equals(lambda: _va_share("non-diabetic"), "That is the share among NON-diabetic patients.", _TOL),
            percentage_not_proportion(),
            equals(lambda: int(((diabetes_status(heart()) == "diabetic") & (heart()["site"] == "VA Long Beach")).sum()),
                   "You gave a count of patients. Divide by the number of diabetic patients."),
        ],
        hints=["Keep the diabetic patients (`fasting_blood_sugar_high == True`); what share have `site == "
               "'VA Long Beach'`?"],
    ),
]

