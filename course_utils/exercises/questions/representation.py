"""Questions of notebook 01 (representation audit of the UCI Heart Disease data).

Every expected answer is computed from the shipped data (or from the course's seeded baseline
model) when first needed; nothing is typed in.  Misconception rules recognise the usual slips:
an inverted ratio, counts for proportions, pooled sites for per-site values, accuracy for error
rates, and cholesterol zeros treated as measurements.
"""

import math
from functools import cache

from course_utils.exercises._question import Misconception, Question
from course_utils.exercises.rules import (
    chose,
    complement,
    count_not_proportion,
    equals,
    every_value_is,
    heart,
    inverted_ratio,
    mapping_equals,
    percentage_not_proportion,
)

NOTEBOOK = "01"
NOTEBOOK_FILE = "01_representation_audit"

#: Groups with fewer patients than this are "small" throughout notebook 01.
MIN_GROUP_SIZE = 30

#: The verdicts learners choose from after the corrective action.
VERDICTS = ("helped", "no real change", "made it worse")


# --- values computed from the data ------------------------------------------------------------


@cache
def heart_as_recorded():
    """The heart data with cholesterol zeros kept as recorded (the trap notebook 01 shows)."""
    from course_utils.data import load_heart

    return load_heart(cholesterol_zero_as_missing=False)


def _n(sex, site=None):
    data = heart() if site is None else heart()[heart()["site"] == site]
    return int((data["sex"] == sex).sum())


def _sites():
    from course_utils.data import SITES

    return SITES


def _site_ratios():
    return {site: _n("Male", site) / _n("Female", site) for site in _sites()}


def _prevalence(sex):
    return float(heart().loc[heart()["sex"] == sex, "disease"].mean())


def _cases(sex):
    return int(heart().loc[heart()["sex"] == sex, "disease"].sum())


def _mean_cholesterol(data, sex):
    return float(data.loc[data["sex"] == sex, "cholesterol"].mean())


def _atypical_count(sex):
    return int(((heart()["sex"] == sex) & (heart()["chest_pain"] == "atypical angina")).sum())


def _baseline_model():
    from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, make_baseline_model

    return make_baseline_model(numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)


@cache
def baseline_predictions():
    """Out-of-fold predictions of the course's baseline model, as notebook 01 makes them."""
    from course_utils.models import out_of_fold_predictions

    return out_of_fold_predictions(heart(), _baseline_model(), outcome_col="disease", n_splits=5, random_state=0)


@cache
def reweighted_predictions():
    """The same folds, each training fold re-weighted so women and men weigh the same."""
    from course_utils.models import out_of_fold_predictions

    return out_of_fold_predictions(heart(), _baseline_model(), outcome_col="disease", n_splits=5, random_state=0,
                                   reweight_col="sex")


def _by_sex(predictions, rate):
    """A rate per sex computed with plain pandas from a predictions frame."""
    frame = predictions.assign(sex=heart()["sex"].astype(str))
    result = {}
    for sex, group in frame.groupby("sex"):
        with_disease, without = group[group["y_true"] == 1], group[group["y_true"] == 0]
        result[sex] = {
            "fnr": float((with_disease["y_pred"] == 0).mean()),
            "tpr": float((with_disease["y_pred"] == 1).mean()),
            "fpr": float((without["y_pred"] == 1).mean()),
            "accuracy": float((group["y_pred"] == group["y_true"]).mean()),
            "false_negatives": int((with_disease["y_pred"] == 0).sum()),
        }[rate]
    return result


def _reweighting_verdict():
    """'no real change' unless women's FNR moved by more than half its 95 % interval's width."""
    from scipy.stats import binomtest

    before = _by_sex(baseline_predictions(), "fnr")["Female"]
    after = _by_sex(reweighted_predictions(), "fnr")["Female"]
    misses = _by_sex(baseline_predictions(), "false_negatives")["Female"]
    interval = binomtest(misses, _cases("Female")).proportion_ci(method="wilson")
    if abs(after - before) < (interval.high - interval.low) / 2:
        return "no real change"
    return "helped" if after < before else "made it worse"


def _small_intersections():
    sizes = heart().groupby(["sex", "age_band"], observed=False).size()
    return int((sizes < MIN_GROUP_SIZE).sum())


def _small_female_intersections():
    sizes = heart()[heart()["sex"] == "Female"].groupby("age_band", observed=False).size()
    return int((sizes < MIN_GROUP_SIZE).sum())


# --- misconception rules for one-number-per-group answers --------------------------------------





def _mapping_inverted(feedback, tolerance):
    return Misconception(
        lambda answer, expected: all(
            v != 0 and math.isclose(v, 1 / expected[k], rel_tol=0, abs_tol=tolerance) for k, v in answer.items()
        ),
        feedback,
    )


def _mapping_percentages(tolerance):
    return Misconception(
        lambda answer, expected: all(math.isclose(v, 100 * expected[k], abs_tol=tolerance) for k, v in answer.items()),
        "Those look like percentages. Give proportions between 0 and 1 (e.g. 0.25, not 25).",
    )


_POOLED = ("That is the ratio of all four hospitals pooled. The question asks for each site separately: "
           "count women and men within one site at a time.")

QUESTIONS = [
    Question(
        id="audit-imbalance-ratio",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.01,
        expected=lambda: _n("Male") / _n("Female"),
        misconceptions=[
            inverted_ratio(0.01, "male patients", "female patient"),
            equals(lambda: _n("Male"), "You gave the number of men. A ratio divides the men by the women."),
            equals(lambda: _n("Female"), "You gave the number of women. A ratio divides the men by the women."),
            Misconception(
                lambda answer, expected: math.isclose(float(answer), _n("Male") / len(heart()), abs_tol=0.005),
                "That is the share of men among all patients. The ratio compares men with women, not with everyone.",
            ),
            Misconception(
                lambda answer, expected: math.isclose(float(answer), _site_ratios()["Cleveland"], abs_tol=0.01),
                "That is the Cleveland Clinic alone. This question is about all four hospitals together.",
            ),
        ],
        hints=[
            "A ratio 'male : female = r : 1' means r men for every woman.",
            "Count the men, count the women, divide the first by the second.",
        ],
    ),
    Question(
        id="audit-site-imbalance-ratios",
        notebook=NOTEBOOK,
        points=3,
        kind="mapping",
        tolerance=0.01,
        expected=_site_ratios,
        misconceptions=[
            every_value_is(lambda: _n("Male") / _n("Female"), _POOLED, 0.01),
            _mapping_inverted(
                "Your ratios look inverted: that is women per man. The question asks for men per woman at each "
                "site: men on top, women underneath.", 0.01,
            ),
            mapping_equals(lambda: {s: _n("Female", s) for s in _sites()},
                          "Those are the numbers of women per site. Divide each site's men by its women.", 0.5),
            mapping_equals(lambda: {s: _n("Male", s) for s in _sites()},
                          "Those are the numbers of men per site. Divide each site's men by its women.", 0.5),
            mapping_equals(lambda: {s: _n("Male", s) / (_n("Male", s) + _n("Female", s)) for s in _sites()},
                          "Those are the shares of men at each site. The ratio compares men with women, "
                          "not with all patients.", 0.005),
        ],
        hints=[
            "Make a table of counts with one row per site and one column per sex, then divide the columns.",
            "`heart.groupby(['site', 'sex'], observed=True).size().unstack()` gives that table; "
            "or use `imbalance_ratio(heart, group_col='sex', majority='Male', minority='Female', within_col='site')`.",
        ],
    ),
    Question(
        id="audit-prevalence-by-sex",
        notebook=NOTEBOOK,
        points=2,
        kind="mapping",
        tolerance=0.005,
        expected=lambda: {"Female": _prevalence("Female"), "Male": _prevalence("Male")},
        misconceptions=[
            mapping_equals(lambda: {"Female": _cases("Female"), "Male": _cases("Male")},
                          "Those are counts of patients with disease. Prevalence is a proportion: divide each "
                          "group's cases by the group's patients.", 0.5),
            _mapping_percentages(0.5),
            mapping_equals(lambda: {s: _cases(s) / (_cases("Female") + _cases("Male")) for s in ("Female", "Male")},
                          "You divided by all patients with disease: that is the share of cases who are women or "
                          "men. Prevalence divides a group's cases by that group's patients.", 0.005),
            mapping_equals(lambda: {s: _n(s) / len(heart()) for s in ("Female", "Male")},
                          "Those are the shares of women and men among all patients, not how often each has "
                          "disease.", 0.005),
            every_value_is(lambda: heart()["disease"].mean(),
                            "You gave the prevalence of all patients pooled. Compute it within each sex.", 0.005),
        ],
        hints=[
            "Prevalence of a group = patients with disease in the group / patients in the group.",
            "The mean of a 0/1 column is the share of 1s: try `groupby('sex')['disease'].mean()`.",
        ],
    ),
    Question(
        id="audit-cholesterol-zeros",
        notebook=NOTEBOOK,
        points=1,
        kind="integer",
        expected=lambda: int((heart_as_recorded()["cholesterol"] == 0).sum()),
        misconceptions=[
            equals(lambda: int(heart()["cholesterol"].isna().sum()),
                   "That counts every missing cholesterol value, including the ones never recorded at all. "
                   "The question asks how many were recorded as exactly 0."),
            equals(lambda: int((heart_as_recorded().query("site == 'Switzerland'")["cholesterol"] == 0).sum()),
                   "That is Switzerland alone. Another site also recorded zeros: count all four."),
            Misconception(lambda answer, expected: int(answer) == 0,
                          "Zero zeros? Load the data with `load_heart(cholesterol_zero_as_missing=False)`: the "
                          "default load has already turned the zeros into missing values."),
        ],
        hints=["Compare the cholesterol column with 0 and count the True values: `(column == 0).sum()`."],
    ),
    Question(
        id="audit-mean-cholesterol-female",
        notebook=NOTEBOOK,
        points=2,
        kind="number",
        tolerance=0.5,
        expected=lambda: _mean_cholesterol(heart(), "Female"),
        misconceptions=[
            equals(lambda: _mean_cholesterol(heart_as_recorded(), "Female"),
                   "Your mean counts the recorded zeros as real cholesterol values. A cholesterol of 0 mg/dl is "
                   "impossible: it means 'not measured'. Treat those zeros as missing before averaging."),
            Misconception(
                lambda answer, expected: math.isclose(float(answer), _mean_cholesterol(heart(), "Male"), abs_tol=0.5)
                or math.isclose(float(answer), _mean_cholesterol(heart_as_recorded(), "Male"), abs_tol=0.5),
                "That is the men's mean. The question asks about women.",
            ),
            Misconception(
                lambda answer, expected: math.isclose(float(answer), heart()["cholesterol"].mean(), abs_tol=0.5)
                or math.isclose(float(answer), heart_as_recorded()["cholesterol"].mean(), abs_tol=0.5),
                "That is the mean of all patients. Keep only the women.",
            ),
        ],
        hints=[
            "Use the data where zeros are missing (`load_heart()`, the default); pandas' mean skips missing values.",
        ],
    ),
    Question(
        id="audit-atypical-angina-women",
        notebook=NOTEBOOK,
        points=1,
        kind="number",
        tolerance=0.005,
        expected=lambda: _atypical_count("Female") / _n("Female"),
        misconceptions=[
            count_not_proportion(lambda: _atypical_count("Female")),
            percentage_not_proportion(),
            equals(lambda: _atypical_count("Male") / _n("Male"), "That is the share among men. Keep only the women."),
            Misconception(
                lambda answer, expected: math.isclose(
                    float(answer), _atypical_count("Female") / (_atypical_count("Female") + _atypical_count("Male")),
                    abs_tol=0.005),
                "You divided by all patients with atypical angina: that is the share of them who are women. "
                "Divide by the number of women instead.",
            ),
            complement(0.005, "women with any other chest-pain type"),
        ],
        hints=["Among the women only, what proportion have `chest_pain == 'atypical angina'`?"],
    ),
    Question(
        id="audit-fnr-by-sex",
        notebook=NOTEBOOK,
        points=3,
        kind="mapping",
        tolerance=0.005,
        expected=lambda: _by_sex(baseline_predictions(), "fnr"),
        misconceptions=[
            mapping_equals(lambda: _by_sex(baseline_predictions(), "accuracy"),
                          "Those are accuracies. Accuracy mixes both kinds of error and hides who is harmed; the "
                          "question asks for an error rate by group: of the patients WITH disease, the share the "
                          "model missed.", 0.005),
            every_value_is(lambda: (baseline_predictions()["y_true"] == baseline_predictions()["y_pred"]).mean(),
                            "That is the overall accuracy, for everyone at once. The question asks for an error "
                            "rate, the false-negative rate, separately for women and men.", 0.005),
            mapping_equals(lambda: _by_sex(baseline_predictions(), "fpr"),
                          "Those are false-positive rates (healthy patients flagged). The question asks about "
                          "patients with disease whom the model missed.", 0.005),
            mapping_equals(lambda: _by_sex(baseline_predictions(), "tpr"),
                          "Those are true-positive rates (sensitivity): the share of patients with disease the "
                          "model caught. The false-negative rate is the share it missed.", 0.005),
            mapping_equals(lambda: _by_sex(baseline_predictions(), "false_negatives"),
                          "Those are counts of missed patients. A rate divides them by the group's patients with "
                          "disease.", 0.5),
        ],
        hints=[
            "FNR = false negatives / patients who have the disease (y_true = 1), within each sex.",
            "`group_audit_table(...)['fnr']` has it, or keep the rows with y_true == 1 and take the mean of "
            "(y_pred == 0) by sex.",
        ],
    ),
    Question(
        id="audit-small-intersections",
        notebook=NOTEBOOK,
        points=2,
        kind="integer",
        expected=_small_intersections,
        misconceptions=[
            equals(_small_female_intersections,
                   "You counted only women's groups. Some men's age bands are small too."),
            Misconception(lambda answer, expected: int(answer) == 0,
                          "With sex alone no group is small, but the question asks about the sex x age band "
                          "groups: look at each combination's n."),
            Misconception(lambda answer, expected: int(answer) == 10,
                          "That is the number of groups. Count only those with fewer than 30 patients."),
        ],
        hints=[f"Count the rows of the sex x age band table with n < {MIN_GROUP_SIZE}."],
    ),
    Question(
        id="audit-reweighting-verdict",
        notebook=NOTEBOOK,
        points=2,
        kind="choice",
        choices=VERDICTS,
        expected=_reweighting_verdict,
        misconceptions=[
            chose(
                "helped",
                "Compare the women's false-negative rate before and after re-weighting, and the size of the "
                "change with the width of its interval. Does the evidence show an improvement?",
            ),
            chose(
                "made it worse",
                "Look again at how much the women's false-negative rate moved, compared with its interval.",
            ),
            chose(
                "no real change",
                "Look again at how much the women's false-negative rate moved, compared with its interval.",
            ),
        ],
        hints=["A change smaller than half the interval's width is not evidence of an effect."],
    ),
]
