"""Notebook 01 states true findings, and its graded questions recognise the usual mistakes.

Every number the notebook states (in its printed outputs and in its prose) is recomputed here
from the raw CSV with plain pandas / numpy / scikit-learn / scipy, or with aif360's
ClassificationMetric for per-group rates -- never with the notebook's own helpers.  The stored
outputs are the ones nbval re-checks on every run, so reading them is reading the notebook.
"""

import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta
from sklearn.model_selection import StratifiedKFold

from course_utils import exercises as checks
from course_utils.instructor import release
from course_utils.data import heart_data_path
from reference_model import baseline_features_and_model

SOLUTION = release.SOLUTIONS_DIR / "01_representation_audit.ipynb"
LEARNER = release.NOTEBOOKS_DIR / "01_representation_audit.ipynb"
SITES = ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]


# --- fixtures: the raw data, the notebook's text, an independent model -----------------------


@pytest.fixture(scope="module")
def raw():
    frame = pd.read_csv(heart_data_path())
    frame["disease"] = (frame["diagnosis"] > 0).astype(int)
    return frame


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOLUTION, as_version=4)




def pct(value):
    return f"{100 * value:.0f} %"



def _independent_oof(raw, reweight=False):
    """Out-of-fold predictions: 5 stratified folds, seed 0, optional equal total weight per sex."""
    features, model = baseline_features_and_model(raw)
    y = raw["disease"].to_numpy()
    sex = raw["sex"].to_numpy()
    predictions = np.empty(len(raw), dtype=int)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(features, y):
        fit_params = {}
        if reweight:
            counts = pd.Series(sex[train]).value_counts()
            weights = len(train) / (len(counts) * pd.Series(sex[train]).map(counts).to_numpy())
            fit_params = {"logisticregression__sample_weight": weights}
        fitted = model.fit(features.iloc[train], y[train], **fit_params)
        predictions[test] = (fitted.predict_proba(features.iloc[test])[:, 1] >= 0.5).astype(int)
    return predictions


def _aif360_rates(raw, predictions):
    """Accuracy, FNR, FPR and counts per sex from aif360's ClassificationMetric."""
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    frame = pd.DataFrame({"female": (raw["sex"] == "Female").astype(float), "label": raw["disease"].astype(float)})
    truth = BinaryLabelDataset(df=frame, label_names=["label"], protected_attribute_names=["female"])
    predicted = truth.copy(deepcopy=True)
    predicted.labels = predictions.reshape(-1, 1).astype(float)
    metric = ClassificationMetric(truth, predicted, unprivileged_groups=[{"female": 1.0}],
                                  privileged_groups=[{"female": 0.0}])
    rates = {}
    for sex, privileged in (("Female", False), ("Male", True)):
        rates[sex] = {
            "accuracy": metric.accuracy(privileged=privileged),
            "fnr": metric.false_negative_rate(privileged=privileged),
            "fpr": metric.false_positive_rate(privileged=privileged),
            "fn": int(metric.num_false_negatives(privileged=privileged)),
            "positives": int(metric.num_positives(privileged=privileged)),
        }
    return rates


@pytest.fixture(scope="module")
def baseline_rates(raw):
    return _aif360_rates(raw, _independent_oof(raw))


@pytest.fixture(scope="module")
def reweighted_rates(raw):
    return _aif360_rates(raw, _independent_oof(raw, reweight=True))


# --- section 1: counts and imbalance ratios ----------------------------------------------------


def test_imbalance_ratios_overall_and_per_site(raw, outputs, prose):
    counts = pd.crosstab(raw["site"], raw["sex"])
    overall = (raw["sex"] == "Male").sum() / (raw["sex"] == "Female").sum()
    assert f"All four sites: {overall:.1f} : 1" in outputs and f"{overall:.1f} : 1" in prose
    for site in SITES:
        ratio = counts.loc[site, "Male"] / counts.loc[site, "Female"]
        assert f"{site}: {ratio:.1f} : 1" in outputs
        assert f"({ratio:.1f} : 1)" in prose, site
    far = counts.loc[["Switzerland", "VA Long Beach"]]
    assert f"{far.values.sum()} patients, only {far['Female'].sum()} of them women" in prose
    assert f"{far.values.sum()} patients, of whom {far['Female'].sum()} women" in outputs
    assert overall == pytest.approx(3.7, abs=0.05) and counts.loc["Cleveland", "Male"] / counts.loc[
        "Cleveland", "Female"] == pytest.approx(2.1, abs=0.05)


def test_counts_and_shares_by_sex(raw, outputs):
    n_female, n_male = (raw["sex"] == "Female").sum(), (raw["sex"] == "Male").sum()
    assert re.search(rf"Female\s+{n_female}\s+{n_female / len(raw):.3f}", outputs)
    assert re.search(rf"Male\s+{n_male}\s+{n_male / len(raw):.3f}", outputs)


# --- section 2: prevalence with intervals ------------------------------------------------------


def wilson(k, n, z=1.959963984540054):
    """The Wilson score interval, written out (independent of scipy's binomtest)."""
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def test_prevalence_by_sex_with_wilson_intervals(raw, outputs, prose):
    for sex in ("Female", "Male"):
        group = raw.loc[raw["sex"] == sex, "disease"]
        low, high = wilson(group.sum(), len(group))
        assert f"{sex}: {group.mean():.1%} with disease (95 % CI {low:.1%} to {high:.1%})" in outputs
    female, male = (raw.loc[raw["sex"] == s, "disease"].mean() for s in ("Female", "Male"))
    assert f"{pct(male)} of the men had disease and {pct(female)} of the women" in prose
    assert (round(100 * male), round(100 * female)) == (63, 26)


def test_prevalence_by_site_and_within_cleveland(raw, prose):
    by_site = raw.groupby("site")["disease"].mean()
    assert f"Switzerland {100 * by_site['Switzerland']:.1f} %, VA Long Beach {100 * by_site['VA Long Beach']:.1f} %" in prose
    cleveland = raw[raw["site"] == "Cleveland"].groupby("sex")["disease"].mean()
    assert f"Cleveland: {pct(cleveland['Male'])} of men, {pct(cleveland['Female'])} of women" in prose


# --- section 3: cholesterol zeros and other features ------------------------------------------


def test_cholesterol_zero_facts(raw, outputs, prose):
    zeros = raw["cholesterol_recorded_as_zero"]
    assert f"{zeros.sum()} in all, {(zeros & (raw['sex'] == 'Male')).sum()} of them men" in prose
    assert f"{(zeros & (raw['site'] == 'VA Long Beach')).sum()} VA patients" in prose
    assert (zeros & (raw["site"] == "Switzerland")).sum() == (raw["site"] == "Switzerland").sum()


def test_cholesterol_means_with_and_without_zeros(raw, outputs, prose):
    as_recorded = raw["cholesterol"].where(~raw["cholesterol_recorded_as_zero"], 0.0)
    with_zeros = as_recorded.groupby(raw["sex"]).mean()
    without = raw["cholesterol"].groupby(raw["sex"]).mean()
    for sex in ("Female", "Male"):
        assert re.search(rf"{sex}\s+{with_zeros[sex]:.1f}\s+{without[sex]:.1f}", outputs)
    assert f"({with_zeros['Male']:.1f} against {with_zeros['Female']:.1f})" in prose
    assert f"({without['Male']:.1f} against {without['Female']:.1f})" in prose
    assert f"{with_zeros['Female'] - with_zeros['Male']:.0f} mg/dl *less*" in prose
    assert f"shrinks to {without['Female'] - without['Male']:.0f} mg/dl" in prose
    swiss = raw.loc[raw["site"] == "Switzerland", "disease"].mean()
    assert f"({pct(swiss)} of Swiss patients have disease)" in prose


def test_chest_pain_shares(raw, prose):
    share = pd.crosstab(raw["sex"], raw["chest_pain"], normalize="index")
    assert (f"{pct(share.loc['Female', 'atypical angina'])} of women report atypical angina against "
            f"{pct(share.loc['Male', 'atypical angina'])} of men") in prose
    assert (f"only {pct(share.loc['Female', 'asymptomatic'])} of women "
            f"({pct(share.loc['Male', 'asymptomatic'])} of men)") in prose


def test_missingness_follows_site(raw, outputs):
    missing = raw.assign(m=raw["cholesterol"].isna()).groupby(["site", "sex"])["m"].mean()
    assert missing["Switzerland"].eq(1).all() and missing["Cleveland"].eq(0).all()
    assert re.search(r"Switzerland\s+Female\s+10\s+1\.00", outputs)


# --- section 5: the baseline model, recomputed independently ----------------------------------


def test_baseline_error_rates_by_sex(baseline_rates, outputs, prose):
    for sex, rates in baseline_rates.items():
        assert f"{sex}: accuracy {rates['accuracy']:.3f}, FNR {rates['fnr']:.3f}" in outputs
        assert f"FPR {rates['fpr']:.3f}" in outputs
    female, male = baseline_rates["Female"], baseline_rates["Male"]
    assert f"*more* accurate for women ({female['accuracy']:.1%}) than for men ({male['accuracy']:.1%})".replace(
        "%", " %") in prose
    assert female["accuracy"] > male["accuracy"]
    assert f"misses {pct(female['fnr'])} of the women who have disease** ({female['fn']} of {female['positives']})" in prose
    assert f"against {pct(male['fnr'])} of the men ({male['fn']} of {male['positives']})" in prose
    assert f"only {pct(female['fpr'])} of healthy women against {pct(male['fpr'])} of healthy men" in prose


def test_fnr_gap_is_not_chance_by_an_independent_bootstrap(raw):
    """The notebook says the FNR intervals do not overlap; a seeded numpy bootstrap agrees."""
    predictions = _independent_oof(raw)
    missed = (predictions == 0) & (raw["disease"].to_numpy() == 1)
    rng = np.random.default_rng(1)
    bounds = {}
    for sex in ("Female", "Male"):
        patients = np.flatnonzero((raw["sex"] == sex).to_numpy() & (raw["disease"] == 1).to_numpy())
        rates = [missed[rng.choice(patients, patients.size)].mean() for _ in range(1000)]
        bounds[sex] = np.percentile(rates, [2.5, 97.5])
    assert bounds["Female"][0] > bounds["Male"][1]


# --- section 6: intersections -------------------------------------------------------------------


def test_small_intersections(raw, outputs, prose):
    bands = pd.cut(raw["age"], [0, 40, 50, 60, 70, 200], right=False, labels=["<40", "40-49", "50-59", "60-69", "70+"])
    sizes = raw.groupby([raw["sex"], bands], observed=False).size()
    small = sizes[sizes < 30]
    assert len(small) == 3
    cases = raw.groupby([raw["sex"], bands], observed=False)["disease"].sum()
    for (sex, band), n in small.items():
        assert f"{sex}, {band}: {n} patients, {cases[(sex, band)]} with disease" in outputs
    by_site = pd.crosstab(raw["sex"], raw["site"])
    assert "Ten Swiss women and six VA women" in prose
    assert (by_site.loc["Female", "Switzerland"], by_site.loc["Female", "VA Long Beach"]) == (10, 6)
    low, high = wilson(3, 6)
    assert f"from {pct(low)} to {pct(high)}" in prose


def test_three_of_three_missed_and_its_exact_interval(raw, outputs, prose):
    predictions = _independent_oof(raw)
    young_women = ((raw["sex"] == "Female") & (raw["age"] < 40) & (raw["disease"] == 1)).to_numpy()
    assert young_women.sum() == 3 and (predictions[young_women] == 0).all()
    low = beta.ppf(0.025, 3, 1)  # Clopper-Pearson lower bound for 3 successes in 3
    assert f"exact 95 % CI {low:.2f} to 1.00" in outputs and f"Anything from {pct(low)} to 100 %" in prose


# --- section 7: the corrective action -------------------------------------------------------------


def test_reweighting_result_is_stated_honestly(baseline_rates, reweighted_rates, prose):
    before, after = baseline_rates, reweighted_rates
    assert after["Female"]["fnr"] == pytest.approx(before["Female"]["fnr"], abs=1e-9)
    assert (f"their FNR stays at {after['Female']['fnr']:.3f} ({after['Female']['fn']} of "
            f"{after['Female']['positives']} missed) and their FPR at {after['Female']['fpr']:.3f}") in prose
    assert f"men's FNR moves from {before['Male']['fnr']:.3f} to {after['Male']['fnr']:.3f}" in prose
    assert abs(after["Male"]["fnr"] - before["Male"]["fnr"]) < 0.03


# --- the graded questions -------------------------------------------------------------------------


def message(question_id, answer):
    result = checks.evaluate(question_id, answer)
    assert result.status == "wrong", (question_id, answer, result.message)
    return result.message


def test_inverted_ratio_is_recognised(raw):
    n_male, n_female = (raw["sex"] == "Male").sum(), (raw["sex"] == "Female").sum()
    assert checks.evaluate("audit-imbalance-ratio", n_male / n_female).passed
    assert "inverted" in message("audit-imbalance-ratio", n_female / n_male)
    counts = pd.crosstab(raw["site"], raw["sex"])
    assert "inverted" in message("audit-site-imbalance-ratios", (counts["Female"] / counts["Male"]).to_dict())
    assert "Cleveland Clinic alone" in message(
        "audit-imbalance-ratio", counts.loc["Cleveland", "Male"] / counts.loc["Cleveland", "Female"])


def test_pooled_sites_where_per_site_was_asked(raw):
    counts = pd.crosstab(raw["site"], raw["sex"])
    per_site = counts["Male"] / counts["Female"]
    assert checks.evaluate("audit-site-imbalance-ratios", per_site).passed
    pooled = (raw["sex"] == "Male").sum() / (raw["sex"] == "Female").sum()
    assert "all four hospitals pooled" in message("audit-site-imbalance-ratios", {s: pooled for s in SITES})
    single = checks.evaluate("audit-site-imbalance-ratios", pooled)
    assert single.status == "invalid" and "pools every group" in single.message
    assert "numbers of women per site" in message("audit-site-imbalance-ratios", counts["Female"].to_dict())


def test_counts_where_proportions_were_asked(raw):
    cases = raw.groupby("sex")["disease"].sum()
    assert checks.evaluate("audit-prevalence-by-sex", raw.groupby("sex")["disease"].mean()).passed
    assert "counts of patients with disease" in message("audit-prevalence-by-sex", cases.to_dict())
    assert "percentages" in message("audit-prevalence-by-sex", (100 * raw.groupby("sex")["disease"].mean()).to_dict())
    assert "share of cases" in message("audit-prevalence-by-sex", (cases / cases.sum()).to_dict())
    women = raw[raw["sex"] == "Female"]
    atypical = (women["chest_pain"] == "atypical angina")
    assert checks.evaluate("audit-atypical-angina-women", atypical.mean()).passed
    assert "count of patients" in message("audit-atypical-angina-women", int(atypical.sum()))


def test_accuracy_alone_where_error_rates_were_asked(baseline_rates):
    fnr = {sex: rates["fnr"] for sex, rates in baseline_rates.items()}
    assert checks.evaluate("audit-fnr-by-sex", fnr).passed
    accuracy = {sex: rates["accuracy"] for sex, rates in baseline_rates.items()}
    assert "Those are accuracies" in message("audit-fnr-by-sex", accuracy)
    fpr = {sex: rates["fpr"] for sex, rates in baseline_rates.items()}
    assert "false-positive rates" in message("audit-fnr-by-sex", fpr)
    assert "true-positive rates" in message("audit-fnr-by-sex", {s: 1 - v for s, v in fnr.items()})


def test_cholesterol_zeros_treated_as_values(raw):
    women = raw[raw["sex"] == "Female"]
    assert checks.evaluate("audit-mean-cholesterol-female", women["cholesterol"].mean()).passed
    as_recorded = women["cholesterol"].where(~women["cholesterol_recorded_as_zero"], 0.0).mean()
    assert "zeros as real cholesterol values" in message("audit-mean-cholesterol-female", as_recorded)
    assert checks.evaluate("audit-cholesterol-zeros", int(raw["cholesterol_recorded_as_zero"].sum())).passed
    assert "every missing cholesterol value" in message("audit-cholesterol-zeros", int(raw["cholesterol"].isna().sum()))
    assert "Switzerland alone" in message("audit-cholesterol-zeros", int((raw["site"] == "Switzerland").sum()))


def test_small_groups_and_verdict_feedback():
    assert checks.evaluate("audit-small-intersections", 3).passed
    assert "only women's groups" in message("audit-small-intersections", 2)
    assert checks.evaluate("audit-reweighting-verdict", "No real change").passed
    assert "Does the evidence show an improvement?" in message("audit-reweighting-verdict", "helped")
    invalid = checks.evaluate("audit-reweighting-verdict", "better")
    assert invalid.status == "invalid" and "'no real change'" in invalid.message
