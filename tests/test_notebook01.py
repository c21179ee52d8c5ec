"""Notebook 01 states true findings, and its code exercises recognise the usual mistakes.

Every number the notebook states (in its printed outputs and in its prose) is recomputed here from the raw CSV
with plain pandas / numpy / scikit-learn / scipy, or with aif360's ClassificationMetric for per-group rates --
never with the notebook's own answers.  The course's shipped baseline predictions are rebuilt here with an
explicit fold loop.  The stored outputs are the ones nbval re-checks on every run, so reading them is reading
the notebook.
"""

import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta, binomtest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course_utils import exercises as checks
from course_utils.data import heart_data_path, load_heart_predictions
from course_utils.instructor import release
from reference_model import CATEGORICAL, NUMERIC

SOLUTION = release.SOLUTIONS_DIR / "01_representation_audit.ipynb"
SITES = ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]


# --- fixtures: the raw data, the notebook's text, an independent rebuild of the baseline --------------------


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


def _independent_scores(raw, balanced=False, indicators=False):
    """Out-of-fold scores with an explicit fold loop: 5 stratified shuffled folds (seed 0), the exercise's recipe
    (missing-value indicators only with ``indicators``)."""
    features = raw[NUMERIC + CATEGORICAL].copy()
    for name in ("exercise_angina", "fasting_blood_sugar_high"):
        features[name] = features[name].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    for name in ("sex", "chest_pain", "resting_ecg"):
        features[name] = features[name].astype(object)
    y = raw["disease"].to_numpy()
    sex = raw["sex"].to_numpy()
    weights = len(sex) / (2 * pd.Series(sex).map(pd.Series(sex).value_counts()).to_numpy())
    scores = np.empty(len(raw))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(features, y):
        model = make_pipeline(
            ColumnTransformer([
                ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=indicators), StandardScaler()),
                 NUMERIC),
                ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                              OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
            ]),
            LogisticRegression(max_iter=1000, random_state=0),
        )
        fit_params = {"logisticregression__sample_weight": weights[train]} if balanced else {}
        scores[test] = model.fit(features.iloc[train], y[train], **fit_params).predict_proba(features.iloc[test])[:, 1]
    return scores


@pytest.fixture(scope="module")
def scores(raw):
    return {"baseline": _independent_scores(raw), "balanced": _independent_scores(raw, balanced=True),
            "indicators": _independent_scores(raw, indicators=True)}


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
    return {sex: {"accuracy": metric.accuracy(privileged=privileged),
                  "fnr": metric.false_negative_rate(privileged=privileged),
                  "fpr": metric.false_positive_rate(privileged=privileged),
                  "fn": int(metric.num_false_negatives(privileged=privileged)),
                  "positives": int(metric.num_positives(privileged=privileged))}
            for sex, privileged in (("Female", False), ("Male", True))}


@pytest.fixture(scope="module")
def rates(raw, scores):
    return {name: _aif360_rates(raw, (values >= 0.5).astype(int)) for name, values in scores.items()}


# --- the shipped predictions ----------------------------------------------------------------------------------


def test_the_shipped_predictions_are_the_exercises_recipe_rebuilt_independently(raw, scores):
    shipped = load_heart_predictions()
    assert shipped["patient_id"].tolist() == raw["patient_id"].tolist()
    assert np.allclose(shipped["baseline_score"], scores["baseline"], atol=1e-9)
    assert np.allclose(shipped["balanced_score"], scores["balanced"], atol=1e-9)
    assert np.allclose(shipped["indicator_score"], scores["indicators"], atol=1e-9)


def test_the_solutions_own_pipeline_reproduces_the_shipped_scores(notebook):
    printed = "\n".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "Your pipeline's scores differ from the course's by at most 0.000000" in printed
    assert "Your re-weighted scores differ from the course's by at most 0.000000" in printed


# --- section 1: counts and imbalance ratios --------------------------------------------------------------------


def test_imbalance_ratios_overall_and_per_site(raw, outputs, prose):
    counts = pd.crosstab(raw["site"], raw["sex"])
    overall = (raw["sex"] == "Male").sum() / (raw["sex"] == "Female").sum()
    assert f"The pooled ratio, {overall:.1f} : 1" in prose
    for site in SITES:
        ratio = counts.loc[site, "Male"] / counts.loc[site, "Female"]
        assert re.search(rf"{site}\s+{counts.loc[site, 'Female']}\s+{counts.loc[site, 'Male']}\s+{ratio:.2f}", outputs)
        assert f"({ratio:.1f} : 1)" in prose, site
    far = counts.loc[["Switzerland", "VA Long Beach"]]
    assert f"{far.values.sum()} patients, hardly any of them women" in prose
    # their number of women answers Exercise 1: no Markdown cell of the learner's notebook states it
    edition = " ".join(cell.source for cell in nbformat.read(release.NOTEBOOKS_DIR / SOLUTION.name, as_version=4).cells
                       if cell.cell_type == "markdown").split()
    edition = " ".join(edition)
    assert not re.search(rf"\b{far['Female'].sum()}\b women|only {far['Female'].sum()}\b", edition)
    assert "ten Swiss women" not in edition and "six VA women" not in edition


def test_counts_and_shares_by_sex(raw, outputs, prose):
    n_female, n_male = (raw["sex"] == "Female").sum(), (raw["sex"] == "Male").sum()
    assert re.search(rf"Female\s+{n_female}\s+{n_female / len(raw):.3f}", outputs)
    assert re.search(rf"Male\s+{n_male}\s+{n_male / len(raw):.3f}", outputs)
    for site, women, men in (("Cleveland", 97, 206), ("Hungary", 81, 213)):
        part = raw[raw["site"] == site]
        assert ((part["sex"] == "Female").sum(), (part["sex"] == "Male").sum()) == (women, men)
        assert f"{site} contributed {women} women and {men}" in prose or f"{site} {women} and {men}" in prose


# --- section 2: prevalence with intervals ----------------------------------------------------------------------


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
        assert re.search(rf"{sex}\s+{len(group)}\s+{group.sum()}\s+{group.mean():.3f}\s+{low:.3f}\s+{high:.3f}", outputs)
    female, male = (raw.loc[raw["sex"] == s, "disease"] for s in ("Female", "Male"))
    assert f"{pct(male.mean())} of the men had disease and {pct(female.mean())} of the women" in prose
    (male_low, male_high), (female_low, female_high) = wilson(male.sum(), len(male)), wilson(female.sum(), len(female))
    assert f"(about {pct(male_low)[:-2]}–{pct(male_high)} and {pct(female_low)[:-2]}–{pct(female_high)})" in prose
    assert f"{female.mean():.1%} of the {len(female)} women have disease against {male.mean():.1%} of the {len(male)} men".replace(
        "%", " %") in prose


def test_prevalence_by_site_and_within_cleveland(raw, prose):
    by_site = raw.groupby("site")["disease"].mean()
    assert f"Switzerland {100 * by_site['Switzerland']:.1f} %, VA Long Beach {100 * by_site['VA Long Beach']:.1f} %" in prose
    cleveland = raw[raw["site"] == "Cleveland"].groupby("sex")["disease"].mean()
    assert f"Cleveland: {pct(cleveland['Male'])} of men, {pct(cleveland['Female'])} of women" in prose


# --- section 3: cholesterol zeros and other features -----------------------------------------------------------


def test_cholesterol_zero_facts(raw, prose):
    zeros = raw["cholesterol_recorded_as_zero"].astype(bool)
    recorded = raw["cholesterol"].notna() | zeros
    counts = {}
    for sex in ("Male", "Female"):
        mine = raw["sex"] == sex
        n_zero, n_recorded = int((zeros & mine).sum()), int((recorded & mine).sum())
        counts[sex] = f"{pct(n_zero / n_recorded)} of the {'men' if sex == 'Male' else 'women'}'s"
        counts[sex] += f" recorded values ({n_zero} of {n_recorded})" if sex == "Male" else f" ({n_zero} of {n_recorded})"
    assert f"{counts['Male']} and {counts['Female']} are exactly 0" in prose


def test_cholesterol_means_with_and_without_zeros(raw, outputs, prose):
    as_recorded = raw["cholesterol"].where(~raw["cholesterol_recorded_as_zero"].astype(bool), 0.0)
    with_zeros = as_recorded.groupby(raw["sex"]).mean()
    without = raw["cholesterol"].groupby(raw["sex"]).mean()
    for sex in ("Female", "Male"):
        assert re.search(rf"{sex}\s+{with_zeros[sex]:.1f}\s+{without[sex]:.1f}", outputs)
    assert f"({with_zeros['Male']:.1f} against {with_zeros['Female']:.1f})" in prose
    # the women's mean without zeros answers Exercise 5: the prose never states it, nor the gap it follows from
    assert f"{without['Female']:.1f}" not in prose and f"{without['Female']:.0f} " not in prose
    assert f"{without['Female'] - without['Male']:.0f} mg/dl" not in prose
    assert f"{with_zeros['Female'] - with_zeros['Male']:.0f} mg/dl *less*" in prose
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


# --- section 5: the baseline, recomputed independently ---------------------------------------------------------


def test_baseline_error_rates_by_sex(rates, prose):
    female, male = rates["baseline"]["Female"], rates["baseline"]["Male"]
    assert f"*more* accurate for women ({female['accuracy']:.1%}) than for men ({male['accuracy']:.1%})".replace(
        "%", " %") in prose
    assert female["accuracy"] > male["accuracy"]
    assert f"misses {pct(female['fnr'])} of the women who have disease** ({female['fn']} of {female['positives']})" in prose
    assert f"against {pct(male['fnr'])} of the men ({male['fn']} of {male['positives']})" in prose
    assert f"only {pct(female['fpr'])} of healthy women against {pct(male['fpr'])} of healthy men" in prose
    caption = (f"Accuracy is higher for women ({female['accuracy']:.3f}) than for men ({male['accuracy']:.3f}), but the "
               f"model misses {pct(female['fnr'])} of women's disease against {pct(male['fnr'])} of men's")
    assert caption in prose
    assert f"(FPR {male['fpr']:.3f} against {female['fpr']:.3f})" in prose


def test_fnr_intervals_by_an_independent_bootstrap(raw, scores, prose):
    """The stated FNR intervals come from 1,000 resamples; a plain numpy loop gets the same ends to 0.03."""
    predictions = (scores["baseline"] >= 0.5).astype(int)
    y, sex = raw["disease"].to_numpy(), raw["sex"].to_numpy()
    rng = np.random.default_rng(11)
    samples = {"Female": [], "Male": []}
    for _ in range(1000):
        idx = rng.integers(0, len(y), len(y))
        for group in samples:
            sick = (sex[idx] == group) & (y[idx] == 1)
            samples[group].append((predictions[idx][sick] == 0).mean())
    bounds = {group: np.percentile(values, [2.5, 97.5]) for group, values in samples.items()}
    assert bounds["Female"][0] > bounds["Male"][1], "the notebook says the FNR intervals do not overlap"
    stated = re.search(r"95 % interval (\d+)–(\d+) %", prose)
    assert stated, "the prose states women's FNR interval"
    assert abs(int(stated.group(1)) / 100 - bounds["Female"][0]) <= 0.03
    assert abs(int(stated.group(2)) / 100 - bounds["Female"][1]) <= 0.03


def test_the_indicator_comparison_by_site(raw, scores, prose, outputs):
    """The with/without-indicator figures, from independently refitted scores and a plain paired bootstrap loop."""
    from sklearn.metrics import roc_auc_score

    y, site = raw["disease"].to_numpy(), raw["site"].astype(str).to_numpy()
    without, with_ = scores["baseline"], scores["indicators"]
    changes = {}
    for name in SITES:
        rows = site == name
        changes[name] = roc_auc_score(y[rows], without[rows]) - roc_auc_score(y[rows], with_[rows])
        idx = np.flatnonzero(rows)
        rng, paired = np.random.default_rng(5), []
        for _ in range(1000):
            sample = rng.choice(idx, len(idx))
            if 0 < y[sample].sum() < len(sample):
                paired.append(roc_auc_score(y[sample], without[sample]) - roc_auc_score(y[sample], with_[sample]))
        low, high = np.percentile(paired, [2.5, 97.5])
        assert changes[name] >= 0 and low < 0 < high, f"{name}: at least as good within the site, interval around 0"
    assert f"+{changes['Cleveland']:.3f} at Cleveland to +{changes['VA Long Beach']:.3f} at VA Long Beach" in prose
    assert min(changes.values()) == changes["Cleveland"] and max(changes.values()) == changes["VA Long Beach"]
    pooled_with, pooled_without = roc_auc_score(y, with_), roc_auc_score(y, without)
    assert f"the indicators add {pooled_with - pooled_without:.3f} ({pooled_with:.3f} against {pooled_without:.3f}" in prose
    datasheet = " ".join((heart_data_path().parent / "DATASHEET_heart_disease.md").read_text(encoding="utf-8").split())
    assert f"gains pooled AUC ({pooled_with:.3f} against {pooled_without:.3f}, out of fold)" in datasheet
    rng, paired = np.random.default_rng(5), []
    for _ in range(1000):
        sample = rng.integers(0, len(y), len(y))
        paired.append(roc_auc_score(y[sample], without[sample]) - roc_auc_score(y[sample], with_[sample]))
    low, high = np.percentile(paired, [2.5, 97.5])
    stated = re.search(r"dropping them, −(0\.\d+) to −(0\.\d+), excludes 0", prose)
    assert stated and high < 0
    assert abs(float(stated.group(1)) + low) <= 0.003 and abs(float(stated.group(2)) + high) <= 0.003
    prevalence = raw.groupby("site", observed=True)["disease"].mean()
    assert (f"where {prevalence['Switzerland']:.1%} and {prevalence['VA Long Beach']:.1%} had disease").replace(
        "%", " %") in prose
    missing = raw["cholesterol"].isna()
    assert missing[raw["site"].isin(["Switzerland", "VA Long Beach"])].sum() / missing.sum() > 0.85
    sick = y == 1
    missed = {name: {label: int((sick & (site == name) & (s < 0.5)).sum())
                     for label, s in (("with", with_), ("without", without))} for name in SITES}
    assert (f"misses {missed['Switzerland']['with']} Swiss patients with disease and {missed['Cleveland']['with']} at "
            f"Cleveland; without them, {missed['Switzerland']['without']} and {missed['Cleveland']['without']}") in prose
    women = (raw["sex"] == "Female").to_numpy()
    only_with = sick & women & (with_ >= 0.5) & (without < 0.5)
    assert only_with.sum() == 3 and (site[only_with] == "Switzerland").all()
    assert "Three of the Swiss patients caught only with the indicators are women" in prose
    fnr = {label: (s[sick & women] < 0.5).mean() for label, s in (("with", with_), ("without", without))}
    assert f"women's FNR is {fnr['with']:.2f} with them and {fnr['without']:.2f} without" in prose
    assert "two more women missed" in prose and round(50 * (fnr["without"] - fnr["with"])) == 2
    # the coefficient for being female, in fits on all patients, with and without the indicators
    features = raw[NUMERIC + CATEGORICAL].copy()
    for name in ("exercise_angina", "fasting_blood_sugar_high"):
        features[name] = features[name].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    for name in ("sex", "chest_pain", "resting_ecg"):
        features[name] = features[name].astype(object)
    female = {}
    for indicators in (True, False):
        model = make_pipeline(
            ColumnTransformer([
                ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=indicators), StandardScaler()),
                 NUMERIC),
                ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                              OneHotEncoder(handle_unknown="ignore")), CATEGORICAL)]),
            LogisticRegression(max_iter=1000, random_state=0)).fit(features, y)
        names = list(model[0].get_feature_names_out())
        female[indicators] = model[-1].coef_[0][names.index("categorical__sex_Female")]
    assert female[False] < female[True] < 0, "the coefficient for being female moves further below zero"
    assert "moves further below zero without the indicators" in prose
    for name in SITES:
        assert re.search(rf"{re.escape(name)}\s+\d+\s+\d+", outputs), f"the comparison table lists {name}"


# --- section 6: intersections ----------------------------------------------------------------------------------


def test_small_intersections(raw, scores, outputs, prose):
    bands = pd.cut(raw["age"], [0, 40, 50, 60, 70, 200], right=False, labels=["<40", "40-49", "50-59", "60-69", "70+"])
    sizes = raw.groupby([raw["sex"], bands], observed=False).size()
    small = sizes[sizes < 30]
    assert len(small) == 3
    assert "women under 40 (19), women aged 70+ (6) and men aged 70+ (25)" in prose
    cases = raw.groupby([raw["sex"], bands], observed=False)["disease"].sum()
    for (sex, band), n in small.items():
        assert f"{sex}, {band}: {n} patients, {cases[(sex, band)]} with disease" in outputs
    predictions = (scores["baseline"] >= 0.5).astype(int)
    young = ((raw["sex"] == "Female") & (raw["age"] < 40) & (raw["disease"] == 1)).to_numpy()
    old = ((raw["sex"] == "Female") & (raw["age"] >= 70) & (raw["disease"] == 1)).to_numpy()
    assert (young.sum(), int((predictions[young] == 0).sum())) == (3, 3)
    assert (old.sum(), int((predictions[old] == 0).sum())) == (1, 1)
    assert "missed all three women under 40 who had disease and the one woman aged 70+ who had disease" in prose
    # Clopper-Pearson from the beta distribution (independent of scipy's binomtest)
    low_3 = beta.ppf(0.025, 3, 1)
    low_1 = beta.ppf(0.025, 1, 1)
    assert f"3 of 3 missed: FNR 1.00, exact 95 % CI {low_3:.2f} to 1.00" in outputs
    assert f"1 of 1 missed: FNR 1.00, exact 95 % CI {low_1:.2f} to 1.00" in outputs
    assert f"From {pct(low_3)} to 100 %, and from {100 * low_1:.1f} % to 100 %" in prose


# --- section 7: the corrective action ---------------------------------------------------------------------------


def test_reweighting_result_is_stated_honestly(raw, rates, scores, prose, outputs):
    before, after = rates["baseline"], rates["balanced"]
    assert after["Female"]["fn"] == before["Female"]["fn"] and after["Female"]["fnr"] == before["Female"]["fnr"]
    assert (f"the same {after['Female']['fn']} of {after['Female']['positives']} are missed (FNR "
            f"{after['Female']['fnr']:.3f} both times)") in prose
    assert (f"women's FNR {after['Female']['fnr']:.3f} and FPR {after['Female']['fpr']:.3f}, both unchanged; men's FNR "
            f"{after['Male']['fnr']:.3f} ({before['Male']['fnr']:.3f} before)") in prose
    assert after["Female"]["fpr"] == before["Female"]["fpr"]
    # the paired interval, recomputed with a plain loop over the prescribed resamples
    women = (raw["sex"] == "Female").to_numpy()
    y = raw["disease"].to_numpy()[women]
    b = (scores["baseline"][women] >= 0.5).astype(int)
    a = (scores["balanced"][women] >= 0.5).astype(int)
    idx = np.random.default_rng(0).integers(0, len(y), size=(2000, len(y)))
    changes = []
    for row in idx:
        sick = y[row] == 1
        if sick.any():
            changes.append((a[row][sick] == 0).mean() - (b[row][sick] == 0).mean())
    low, high = np.quantile(changes, [0.025, 0.975])
    assert f"women: FNR change {after['Female']['fnr'] - before['Female']['fnr']:+.3f} (paired 95 % CI {low:+.3f} to {high:+.3f})" in outputs
    assert low == high == 0 and "the paired interval is 0 to 0" in prose
    # no woman with disease changed decision; the men's discordant patients and their exact McNemar test
    sick = y == 1
    assert not (sick & (b != a)).any() and "not one woman with disease got another decision" in prose
    men = ~women
    ym, bm, am = raw["disease"].to_numpy()[men], scores["baseline"][men] >= 0.5, scores["balanced"][men] >= 0.5
    newly_missed, newly_caught = int(((ym == 1) & bm & ~am).sum()), int(((ym == 1) & ~bm & am).sum())
    p_men = binomtest(newly_missed, newly_missed + newly_caught).pvalue
    assert (f"For men, {newly_missed} more are missed and {newly_caught} more caught (FNR {before['Male']['fnr']:.3f} → "
            f"{after['Male']['fnr']:.3f}): {newly_missed + newly_caught} changed patients, an exact McNemar p of "
            f"{p_men:.2f}") in prose
    assert p_men > 0.05
    for sex, rows in (("women", women), ("men", ~women)):
        yy, bb, aa = raw["disease"].to_numpy()[rows], (scores["baseline"][rows] >= 0.5), (scores["balanced"][rows] >= 0.5)
        c, m = int(((yy == 1) & ~bb & aa).sum()), int(((yy == 1) & bb & ~aa).sum())
        verdict = "cannot tell" if c + m == 0 or binomtest(m, c + m).pvalue >= 0.05 else ("made it worse" if m > c else "helped")
        assert f"re-weighting, {sex}: {verdict}" in outputs


def test_missing_cholesterol_by_site_in_the_datasheet(raw, notebook):
    va = raw[raw["site"] == "VA Long Beach"]
    zeros = int(va["cholesterol_recorded_as_zero"].astype(bool).sum())
    blank = int((va["cholesterol"].isna() & ~va["cholesterol_recorded_as_zero"].astype(bool)).sum())
    answer = next(cell.source for cell in notebook.cells
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == "audit-reflect-datasheet")
    assert f"VA lacked it for {zeros + blank} patients ({zeros} written as 0, {blank} left blank)" in " ".join(answer.split())
    assert raw.loc[raw["site"] == "Switzerland", "cholesterol"].isna().all()


def test_the_gap_decision_on_the_course_data(raw, scores, outputs):
    from scipy.stats import fisher_exact

    y = raw["disease"].to_numpy()
    pred = (scores["baseline"] >= 0.5).astype(int)

    def fisher_verdict(rows, groups):
        table = {g: (int(((pred == 0) & (y == 1) & rows & (groups == g)).sum()),
                     int(((pred == 1) & (y == 1) & rows & (groups == g)).sum())) for g in np.unique(groups[rows])}
        if any(sum(t) == 0 for t in table.values()) or fisher_exact(list(table.values())).pvalue >= 0.05:
            return "cannot tell"
        return max(table, key=lambda g: table[g][0] / sum(table[g]))

    sex = raw["sex"].to_numpy()
    everyone = np.ones(len(y), bool)
    assert f"the course's baseline, by sex: {fisher_verdict(everyone, sex)}" in outputs
    bands = np.where(raw["age"] < 40, "under 40", "40 and over")
    assert f"under 40 against 40 and over: {fisher_verdict(sex == 'Female', bands)}" in outputs


# --- the graded questions ---------------------------------------------------------------------------------------


def message(question_id, answer):
    result = checks.evaluate(question_id, answer)
    assert result.status == "wrong", (question_id, result.message)
    return result.message


def test_women_at_the_small_sites_and_its_misconceptions(raw):
    women = raw["sex"] == "Female"
    assert checks.evaluate("audit-women-small-sites", int((women & raw["site"].isin(["Switzerland", "VA Long Beach"])).sum())).passed
    assert "Switzerland alone" in message("audit-women-small-sites", int((women & (raw["site"] == "Switzerland")).sum()))
    assert "every patient of the two sites" in message("audit-women-small-sites", int(raw["site"].isin(["Switzerland", "VA Long Beach"]).sum()))


def ratio(data, group_col, majority, minority, within_col=None):
    if within_col is None:
        n = (data[group_col] == minority).sum()
        return (data[group_col] == majority).sum() / n if n else float("nan")
    return pd.Series({k: ratio(v, group_col, majority, minority) for k, v in data.groupby(within_col, observed=True)})


@pytest.mark.parametrize("mistake, phrase", [
    (lambda d, g, a, b, within_col=None: 1 / ratio(d, g, a, b, within_col) if within_col is None else 1 / ratio(d, g, a, b, within_col),
     "inverted"),
    (lambda d, g, a, b, within_col=None: (d[g] == a).sum() / (d[g] == b).sum() if within_col is None
     else pd.Series({k: (d[g] == a).sum() / (d[g] == b).sum() for k in d[within_col].unique()}), "infinity"),
    (lambda d, g, a, b, within_col=None: (lambda r: r / (r + 1))(ratio(d, g, a, b, within_col)), "majority's share"),
])
def test_imbalance_ratio_mistakes_are_named(mistake, phrase):
    def answer(data, group_col, majority, minority, within_col=None):
        return mistake(data, group_col, majority, minority, within_col=within_col)

    assert checks.evaluate("audit-imbalance-ratio-function", lambda data, group_col, majority, minority, within_col=None:
                           ratio(data, group_col, majority, minority, within_col)).passed
    assert phrase in message("audit-imbalance-ratio-function", answer)


def test_pooled_ratio_for_every_site_is_named():
    def pooled(data, group_col, majority, minority, within_col=None):
        overall = ratio(data, group_col, majority, minority)
        if within_col is None:
            return overall
        return pd.Series({site: overall for site in data[within_col].unique()})

    assert "all sites pooled" in message("audit-imbalance-ratio-function", pooled)


def prevalence(data, group_col, outcome_col, confidence_level=0.95, method="wilson", scale=1.0):
    from scipy.stats import binomtest

    rows = {}
    for group, part in data.groupby(group_col, observed=True):
        n, k = len(part), int(part[outcome_col].sum())
        ci = binomtest(k, n).proportion_ci(confidence_level=confidence_level, method=method)
        rows[group] = {"n": n, "cases": k, "prevalence": scale * k / n, "ci_low": ci.low, "ci_high": ci.high}
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.mark.parametrize("mistake, phrase", [
    (lambda data, group_col, outcome_col, confidence_level=0.95:
     prevalence(data, group_col, outcome_col, confidence_level, scale=100), "percentage"),
    (lambda data, group_col, outcome_col, confidence_level=0.95:
     prevalence(data, group_col, outcome_col, confidence_level, method="exact"), "Clopper-Pearson"),
    (lambda data, group_col, outcome_col, confidence_level=0.95:
     prevalence(data, group_col, outcome_col, 0.95), "whatever confidence_level says"),
])
def test_prevalence_mistakes_are_named(mistake, phrase):
    assert checks.evaluate("audit-prevalence-function", prevalence).passed
    assert phrase in message("audit-prevalence-function", mistake)


def test_a_wald_interval_is_named():
    from scipy.stats import norm

    def wald(data, group_col, outcome_col, confidence_level=0.95):
        table = prevalence(data, group_col, outcome_col, confidence_level)
        z = norm.ppf(0.5 + confidence_level / 2)
        half = z * np.sqrt(table["prevalence"] * (1 - table["prevalence"]) / table["n"])
        return table.assign(ci_low=table["prevalence"] - half, ci_high=table["prevalence"] + half)

    assert "normal-approximation (Wald)" in message("audit-prevalence-function", wald)


def test_zero_cleaning_mistakes_are_named():
    def fills_with_median(data, columns):
        out = data.copy()
        for c in columns:
            out[f"{c}_recorded_as_zero"] = out[c] == 0
            out[c] = out[c].mask(out[c] == 0, out.loc[out[c] != 0, c].median())
        return out

    def flags_missing_too(data, columns):
        out = data.copy()
        for c in columns:
            out[f"{c}_recorded_as_zero"] = (out[c] == 0) | out[c].isna()
            out[c] = out[c].mask(out[c] == 0)
        return out

    def in_place(data, columns):
        for c in columns:
            data[f"{c}_recorded_as_zero"] = data[c] == 0
            data[c] = data[c].mask(data[c] == 0)
        return data

    assert "fills the zeros in" in message("audit-flag-zeros-function", fills_with_median)
    assert "never recorded as well" in message("audit-flag-zeros-function", flags_missing_too)
    assert "changed its argument 'data' in place" in message("audit-flag-zeros-function", in_place)


def pipeline(numeric_cols, categorical_cols, random_state=0, add_indicator=False, indicators=None, unseen="ignore"):
    indicators = add_indicator if indicators is None else indicators  # a wrong answer fixes it either way
    return make_pipeline(
        ColumnTransformer([
            ("n", make_pipeline(SimpleImputer(strategy="median", add_indicator=indicators), StandardScaler()),
             list(numeric_cols)),
            ("c", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown=unseen)),
             list(categorical_cols)),
        ]),
        LogisticRegression(max_iter=1000, random_state=random_state))


def test_pipeline_mistakes_are_named():
    assert checks.evaluate("audit-pipeline-function", pipeline).passed
    assert "add_indicator=True" in message("audit-pipeline-function",
                                           lambda n, c, random_state=0, add_indicator=False:
                                           pipeline(n, c, random_state, indicators=False))
    assert "add_indicator is False" in message("audit-pipeline-function",
                                               lambda n, c, random_state=0, add_indicator=False:
                                               pipeline(n, c, random_state, indicators=True))
    assert "handle_unknown" in message("audit-pipeline-function",
                                       lambda n, c, random_state=0: pipeline(n, c, random_state, unseen="error"))
    no_imputer = lambda n, c, random_state=0: make_pipeline(  # noqa: E731
        ColumnTransformer([("n", StandardScaler(), list(n)), ("c", OneHotEncoder(handle_unknown="ignore"), list(c))]),
        LogisticRegression(max_iter=1000, random_state=random_state))
    assert "impute" in message("audit-pipeline-function", no_imputer)
    not_a_pipeline = checks.evaluate("audit-pipeline-function", lambda n, c, random_state=0: LogisticRegression())
    assert not_a_pipeline.status == "invalid" and "should return a scikit-learn Pipeline" in not_a_pipeline.message


def test_out_of_fold_mistakes_are_named():
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_predict

    def with_cv(make_cv, method="predict_proba", column=1):
        def answer(model, X, y, n_splits=5, random_state=0):
            result = cross_val_predict(model, X, y, cv=make_cv(n_splits, random_state), method=method)
            return result[:, column] if method == "predict_proba" else result
        return answer

    correct = with_cv(lambda k, s: StratifiedKFold(k, shuffle=True, random_state=s))
    assert checks.evaluate("audit-out-of-fold-function", correct).passed
    assert "not stratified" in message("audit-out-of-fold-function", with_cv(lambda k, s: KFold(k, shuffle=True, random_state=s)))
    assert "not shuffled" in message("audit-out-of-fold-function", with_cv(lambda k, s: StratifiedKFold(k)))
    assert "decisions" in message("audit-out-of-fold-function",
                                  with_cv(lambda k, s: StratifiedKFold(k, shuffle=True, random_state=s), method="predict"))
    assert "class 0" in message("audit-out-of-fold-function",
                                with_cv(lambda k, s: StratifiedKFold(k, shuffle=True, random_state=s), column=0))
    in_sample = lambda model, X, y, n_splits=5, random_state=0: clone(model).fit(X, y).predict_proba(X)[:, 1]  # noqa: E731
    assert "in-sample" in message("audit-out-of-fold-function", in_sample)


def audit(y_true, y_pred, sensitive_features, fnr=None, fpr=None):
    from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate
    from sklearn.metrics import accuracy_score

    return MetricFrame(metrics={"count": count, "accuracy": accuracy_score,
                                "fnr": fnr or false_negative_rate, "fpr": fpr or false_positive_rate,
                                "selection_rate": selection_rate},
                       y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)


def test_error_rate_audit_mistakes_are_named():
    def nan_aware(rate_of, label):
        def rate(y_true, y_pred):
            picked = np.asarray(y_true) == label
            return float((np.asarray(y_pred)[picked] == 1 - label).mean()) if picked.any() else float("nan")
        return rate

    correct = lambda t, p, s: audit(t, p, s, fnr=nan_aware(None, 1), fpr=nan_aware(None, 0))  # noqa: E731
    assert checks.evaluate("audit-error-rates-function", correct).passed
    assert "fairlearn's false_negative_rate returns 0" in message("audit-error-rates-function", audit)
    everyone = lambda t, p, s: audit(t, p, s, fnr=lambda a, b: float((np.asarray(a) != np.asarray(b)).mean()),  # noqa: E731
                                     fpr=nan_aware(None, 0))
    assert "over everyone" in message("audit-error-rates-function", everyone)
    table = checks.evaluate("audit-error-rates-function", lambda t, p, s: audit(t, p, s).by_group)
    assert table.status == "invalid" and "should return a fairlearn MetricFrame" in table.message


def test_small_group_mistakes_are_named():
    def observed_only(data, group_cols, min_size=30):
        sizes = data.groupby(list(group_cols)).size().rename("n").reset_index()
        return sizes[sizes["n"] < min_size].reset_index(drop=True)

    assert "nobody" in message("audit-small-groups-function", observed_only).lower()


def test_weight_and_paired_change_mistakes_are_named():
    def per_group_sum_one(sensitive_features):
        groups = pd.Series(np.asarray(sensitive_features))
        return 1 / groups.map(groups.value_counts()).to_numpy()

    assert "average 1" in message("audit-weights-function", per_group_sum_one)

    def reversed_change(y_true, y_pred_before, y_pred_after, n_boot=1000, random_state=0, confidence_level=0.95):
        y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
        fnr = lambda labels, d: ((d == 0) & (labels == 1)).sum(axis=-1) / (labels == 1).sum(axis=-1)  # noqa: E731
        idx = np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y)))
        changes = fnr(y[idx], b[idx]) - fnr(y[idx], a[idx])
        low, high = np.nanquantile(changes, [0.025, 0.975])
        return {"change": float(fnr(y, b) - fnr(y, a)), "ci_low": low, "ci_high": high}

    assert "wrong sign" in message("audit-paired-change-function", reversed_change)


def test_the_decisions_name_their_mistakes():
    from scipy.stats import binomtest as exact

    def change_on_point_estimate(y_true, y_pred_before, y_pred_after):
        y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
        d = int(((a == 0) & (y == 1)).sum()) - int(((b == 0) & (y == 1)).sum())
        return "helped" if d < 0 else "made it worse" if d > 0 else "cannot tell"

    def change_on_all_errors(y_true, y_pred_before, y_pred_after):
        y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
        worse, better = int(((b == y) & (a != y)).sum()), int(((b != y) & (a == y)).sum())
        if worse + better == 0 or exact(worse, worse + better).pvalue >= 0.05:
            return "cannot tell"
        return "made it worse" if worse > better else "helped"

    assert "one patient changed" in message("audit-change-decision-function", change_on_point_estimate).lower()

    def one_patient_is_a_change(y_true, y_pred_before, y_pred_after):
        y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
        caught, missed = int(((y == 1) & (b == 0) & (a == 1)).sum()), int(((y == 1) & (b == 1) & (a == 0)).sum())
        if caught + missed == 1:  # the paired interval's end sits at 0: read as "not below 0"
            return "helped" if caught else "made it worse"
        return change_on_all_errors(y_true, y_pred_before, y_pred_after)

    assert "one patient changed" in message("audit-change-decision-function", one_patient_is_a_change).lower()
    assert "only patients without the condition" in message("audit-change-decision-function", change_on_all_errors).lower()
    def swapped(y_true, y_pred_before, y_pred_after):
        verdict = change_on_all_errors(y_true, y_pred_before, y_pred_after)
        return {"helped": "made it worse", "made it worse": "helped"}.get(verdict, verdict)

    assert "wrong direction" in message("audit-change-decision-function", swapped).lower()

    def gap_on_point_estimate(y_true, y_pred, sensitive_features):
        y, p, g = np.asarray(y_true), np.asarray(y_pred), np.asarray(sensitive_features).astype(str)
        rates = {k: ((p == 0) & (y == 1) & (g == k)).sum() / max(1, ((y == 1) & (g == k)).sum()) for k in np.unique(g)}
        if any(((y == 1) & (g == k)).sum() == 0 for k in rates):
            return "cannot tell"
        return max(rates, key=rates.get)

    assert "by chance" in message("audit-gap-decision-function", gap_on_point_estimate)
    def undefined_as_zero(y_true, y_pred, sensitive_features):
        y, g = np.asarray(y_true), np.asarray(sensitive_features).astype(str)
        empty = [k for k in np.unique(g) if not ((y == 1) & (g == k)).any()]
        if empty:  # fairlearn's false_negative_rate gives 0 there: the other group "misses more"
            return next(k for k in np.unique(g) if k not in empty)
        return gap_by_fisher(y_true, y_pred, sensitive_features)

    def gap_by_fisher(y_true, y_pred, sensitive_features):
        from scipy.stats import fisher_exact

        y, p, g = np.asarray(y_true), np.asarray(y_pred), np.asarray(sensitive_features).astype(str)
        table = {k: (int(((p == 0) & (y == 1) & (g == k)).sum()), int(((p == 1) & (y == 1) & (g == k)).sum()))
                 for k in np.unique(g)}
        if any(sum(t) == 0 for t in table.values()) or fisher_exact(list(table.values())).pvalue >= 0.05:
            return "cannot tell"
        return max(table, key=lambda k: table[k][0] / sum(table[k]))

    assert checks.evaluate("audit-gap-decision-function", gap_by_fisher).passed
    assert "undefined" in message("audit-gap-decision-function", undefined_as_zero)


def test_value_answers_are_a_minority_of_the_points():
    from course_utils.exercises.questions import QUESTIONS

    own = [q for q in QUESTIONS.values() if q.notebook == "01"]
    code = sum(q.points for q in own if q.answer_type == "code")
    value = sum(q.points for q in own if q.answer_type == "value")
    assert code / (code + value) >= 0.5 and value / (code + value) <= 0.4, (code, value)


def test_the_grading_table_adds_up_to_the_questions_points(prose):
    from course_utils.exercises.questions import QUESTIONS

    own = [q for q in QUESTIONS.values() if q.notebook == "01"]
    auto = sum(q.points for q in own)
    code = sum(q.points for q in own if q.answer_type == "code")
    assert f"{auto:g} points are auto-graded, {code:g} of them for code" in prose
    decisions = [q for q in own if q.id.endswith("-decision-function")]
    assert len(decisions) == 2 and prose.count("| code, decision | 3 |") == len(decisions)
