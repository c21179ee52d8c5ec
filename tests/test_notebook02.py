"""Notebook 02 states true findings, and its graded questions recognise the usual mistakes.

Every number the notebook states (in its stored outputs and in its prose) is recomputed here from
the raw CSV with plain pandas / numpy / scikit-learn, fairlearn's metric functions or aif360's
ClassificationMetric -- never with the notebook's helpers (group_audit_table, evaluate_grid,
select_point, missed_diagnoses_per_1000).  The mitigated models themselves are refitted with the
course's estimators, built as the notebook builds them (they are the objects under study); their
rates and the selection rule are recomputed independently.
"""

import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from course_utils import exercises as checks
from course_utils.instructor import release
from course_utils.data import heart_data_path, load_heart
from course_utils.exercises.questions import QUESTIONS, debiasing
from reference_model import baseline_features_and_model

SOLUTION = release.SOLUTIONS_DIR / "02_debiasing_pipeline.ipynb"
LEARNER = release.NOTEBOOKS_DIR / "02_debiasing_pipeline.ipynb"
SEXES = ("Female", "Male")


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw():
    frame = pd.read_csv(heart_data_path())
    frame["disease"] = (frame["diagnosis"] > 0).astype(int)
    frame["status"] = frame["fasting_blood_sugar_high"].map(
        {True: "diabetic", False: "non-diabetic", "True": "diabetic", "False": "non-diabetic"}).fillna("not recorded")
    return frame


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOLUTION, as_version=4)





@pytest.fixture(scope="module")
def split(raw):
    strata = raw["disease"].astype(str) + raw["sex"].astype(str)
    train, test = train_test_split(raw, test_size=0.25, stratify=strata, random_state=0)
    return train, test


@pytest.fixture(scope="module")
def baseline(raw, split):
    """Independent baseline: held-out y, sex, score, decision."""
    train, test = split
    features, model = baseline_features_and_model(raw)
    model.fit(features.loc[train.index], train["disease"])
    score = model.predict_proba(features.loc[test.index])[:, 1]
    return pd.DataFrame({"y": test["disease"].to_numpy(), "sex": test["sex"].to_numpy(),
                         "age": test["age"].to_numpy(), "score": score, "pred": (score >= 0.5).astype(int)})


def rates(y, pred, score=None):
    y, pred = np.asarray(y), np.asarray(pred)
    out = {"n": len(y), "base_rate": y.mean(), "selection_rate": pred.mean(), "accuracy": (y == pred).mean(),
           "tpr": pred[y == 1].mean() if (y == 1).any() else np.nan,
           "fnr": 1 - pred[y == 1].mean() if (y == 1).any() else np.nan,
           "fpr": pred[y == 0].mean() if (y == 0).any() else np.nan,
           "ppv": y[pred == 1].mean() if (pred == 1).any() else np.nan,
           "missed": int(((y == 1) & (pred == 0)).sum()), "sick": int((y == 1).sum())}
    if score is not None and len(set(y)) == 2:
        out["auc"] = roc_auc_score(y, score)
    return out


@pytest.fixture(scope="module")
def by_sex(baseline):
    return {sex: rates(g["y"], g["pred"], g["score"]) for sex, g in baseline.groupby("sex")}


@pytest.fixture(scope="module")
def sweep(raw, split):
    """Every setting of the notebook's grid refitted; rates per setting and seed computed with numpy."""
    train_raw, test_raw = split
    heart = load_heart()
    train, test = heart.loc[train_raw.index], heart.loc[test_raw.index]
    rows = []
    for method, knob, estimator in debiasing.sweep_settings():
        for seed in (0, 1):
            if method != "adversarial" and seed == 1:
                rows.append({**rows[-1], "seed": 1})
                continue
            model = clone(estimator)
            if method == "adversarial":
                model.set_params(random_state=seed)
            if method == "baseline":
                model.fit(train, train["disease"])
                pred, score = model.predict(test), model.predict_proba(test)[:, 1]
            else:
                model.fit(train, train["disease"], sensitive_features=train["sex"])
                pred = model.predict(test, sensitive_features=test["sex"])
                score = model.predict_proba(test, sensitive_features=test["sex"])[:, 1]
            y = test["disease"].to_numpy()
            fnr = {s: rates(y[(test["sex"] == s).to_numpy()], pred[(test["sex"] == s).to_numpy()])["fnr"]
                   for s in SEXES}
            rows.append({"setting": method if knob is None else f"{method} {knob:g}", "seed": seed,
                         "auc": roc_auc_score(y, score), "accuracy": (pred == y).mean(),
                         "fnr": 1 - pred[y == 1].mean(), "fnr_Female": fnr["Female"], "fnr_Male": fnr["Male"],
                         "fnr_gap": abs(fnr["Female"] - fnr["Male"]), "pred": pred})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def chosen(sweep):
    worst = sweep.loc[sweep.groupby("setting", sort=False)["fnr_gap"].idxmax()]
    eligible = worst[worst["fnr_gap"] <= 0.05]
    best = eligible[eligible["auc"] == eligible["auc"].max()]
    return best.loc[best["fnr_gap"].idxmin()]


# --- baseline, per group -------------------------------------------------------------------------


def test_held_out_set_has_12_women_with_disease(split, outputs, prose):
    _, test = split
    counts = pd.crosstab(test["sex"], test["disease"])
    assert counts.loc["Female", 1] == 12 and counts.loc["Male", 1] == 115
    assert "**12 women with disease** (and 115 men)" in prose


def test_baseline_auc_and_accuracy(baseline, outputs, prose):
    auc = roc_auc_score(baseline["y"], baseline["score"])
    accuracy = (baseline["y"] == baseline["pred"]).mean()
    assert f"baseline: AUC {auc:.3f}, accuracy {accuracy:.3f}" in outputs
    assert f"An AUC of {auc:.3f} and {100 * accuracy:.1f} % accuracy" in prose


def test_fnr_by_sex_counts_and_gap_agree_with_aif360(raw, split, baseline, outputs, prose):
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    frame = pd.DataFrame({"male": (baseline["sex"] == "Male").astype(float), "label": baseline["y"].astype(float)})
    truth = BinaryLabelDataset(df=frame, label_names=["label"], protected_attribute_names=["male"])
    predicted = truth.copy(deepcopy=True)
    predicted.labels = baseline["pred"].to_numpy().reshape(-1, 1).astype(float)
    metric = ClassificationMetric(truth, predicted, unprivileged_groups=[{"male": 0.0}],
                                  privileged_groups=[{"male": 1.0}])
    fnr = {"Female": metric.false_negative_rate(privileged=False), "Male": metric.false_negative_rate(privileged=True)}
    for sex in SEXES:
        missed = int(metric.num_false_negatives(privileged=sex == "Male"))
        sick = int(metric.num_positives(privileged=sex == "Male"))
        assert f"{sex}: missed {missed} of {sick} with disease, FNR {fnr[sex]:.3f}" in outputs
    gap = abs(fnr["Female"] - fnr["Male"])
    assert abs(metric.equal_opportunity_difference()) == pytest.approx(gap)
    assert f"FNR gap: {gap:.3f}" in outputs
    assert f"misses 3 of the 12 women with disease (FNR {fnr['Female']:.3f}) and 11 of the 115 men " \
           f"({fnr['Male']:.3f}): a gap of {gap:.3f}" in prose


def test_age_band_and_intersection_statements(baseline, prose):
    bands = pd.cut(baseline["age"], [0, 40, 50, 60, 70, 200], right=False, labels=["<40", "40-49", "50-59", "60-69", "70+"])
    per_band = {b: rates(g["y"], g["pred"], g["score"]) for b, g in baseline.groupby(bands, observed=True)}
    assert per_band["<40"]["fnr"] == pytest.approx(0.4) and (per_band["<40"]["missed"], per_band["<40"]["sick"]) == (2, 5)
    assert f"lowest at 60–69 ({per_band['60-69']['fnr']:.2f})" in prose
    assert f"AUC is lowest at 60–69 ({per_band['60-69']['auc']:.2f})" in prose
    large = {b: r for b, r in per_band.items() if r["n"] >= 30}
    assert min(large, key=lambda b: large[b]["fnr"]) == "60-69" and min(large, key=lambda b: large[b]["auc"]) == "60-69"
    women = baseline[baseline["sex"] == "Female"]
    sizes = women.groupby(bands[women.index], observed=False).size()
    sick = women.groupby(bands[women.index], observed=False)["y"].sum()
    assert sizes.max() == 16 and (sizes < 30).all() and sick["<40"] == 0 and sick["70+"] == 0


def test_other_criteria_and_calibration(baseline, by_sex, outputs, prose):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    f, m = by_sex["Female"], by_sex["Male"]
    assert f"PPV {f['ppv']:.3f} for women, {m['ppv']:.3f} for men" in prose
    dp = demographic_parity_difference(baseline["y"], baseline["pred"], sensitive_features=baseline["sex"])
    eo = equalized_odds_difference(baseline["y"], baseline["pred"], sensitive_features=baseline["sex"])
    assert f"demographic parity difference {dp:.3f}" in prose
    assert f"FPR by {abs(f['fpr'] - m['fpr']):.3f} (equalized-odds difference {eo:.3f})" in prose
    assert f"TPR differs by {abs(f['tpr'] - m['tpr']):.3f}" in prose
    assert f"flags {100 * f['selection_rate']:.0f} % of women against {100 * m['selection_rate']:.1f} % of men" in prose
    for sex in SEXES:
        group = baseline[baseline["sex"] == sex]
        line = f"{sex}: mean predicted risk {group['score'].mean():.3f}, observed prevalence {group['y'].mean():.3f}"
        assert line in outputs
    women, men = (baseline[baseline["sex"] == s] for s in SEXES)
    assert (f"mean predicted risk {women['score'].mean():.3f} for women against an observed {women['y'].mean():.3f}, "
            f"{men['score'].mean():.3f} for men against {men['y'].mean():.3f}") in prose


def test_impossibility_numbers(by_sex, outputs, prose):
    f, m = by_sex["Female"], by_sex["Male"]
    ppv_women = m["tpr"] * f["base_rate"] / (m["tpr"] * f["base_rate"] + m["fpr"] * (1 - f["base_rate"]))
    # equal PPV and TPR: from PPV = TP / (TP + FP), FP rate = TPR p (1 - PPV) / (PPV (1 - p))
    fpr_women = m["tpr"] * f["base_rate"] * (1 - m["ppv"]) / (m["ppv"] * (1 - f["base_rate"]))
    assert f"PPV women {ppv_women:.3f}, men {m['ppv']:.3f}" in outputs
    assert f"FPR women {fpr_women:.3f}, men {m['fpr']:.3f}" in outputs
    assert f"({ppv_women:.3f}) against 79 % in a man ({m['ppv']:.3f})" in prose
    assert f"women's FPR must fall to {fpr_women:.3f} while the men's stays at {m['fpr']:.3f}" in prose
    assert f"({f['base_rate']:.3f} against {m['base_rate']:.3f})" in prose
    # the point of the demonstration: equal error rates leave PPV far apart
    assert m["ppv"] - ppv_women > 0.3


def test_reweighing_weights_by_hand(split, outputs, prose):
    train, _ = split
    for sex, disease, text in (("Female", 1, "2.13"), ("Female", 0, "0.60"), ("Male", 1, "0.88"), ("Male", 0, "1.21")):
        in_sex, outcome = train["sex"] == sex, train["disease"] == disease
        weight = in_sex.mean() * outcome.mean() / (in_sex & outcome).mean()
        assert f"{weight:.2f}" == text
        assert re.search(rf"{(in_sex & outcome).sum()}\s+{weight:.3f}", outputs)
    assert "the 38 training women with disease each count 2.13 times, the 108 women without disease 0.60" in prose


# --- the sweep and the choice ---------------------------------------------------------------------


def test_sweep_rows_match_independent_refits(sweep, outputs):
    for _, row in sweep.iterrows():
        pattern = (rf"{re.escape(row['setting'])}\s+{row['seed']}\s+{row['auc']:.3f}\s+\S+\s+\S+\s+"
                   rf"{row['accuracy']:.3f}\s+{row['fnr_Female']:.3f}\s+{row['fnr_Male']:.3f}\s+{row['fnr_gap']:.3f}")
        assert re.search(pattern, outputs), row["setting"]


def test_sweep_statements(sweep, prose):
    mitigated = sweep[sweep["setting"] != "baseline"]
    assert np.allclose(mitigated["fnr_Female"], 2 / 12)
    adv = sweep[sweep["setting"] == "adversarial 0.2"].set_index("seed")
    assert (f"AUC {adv.loc[1, 'auc']:.3f} and gap {adv.loc[1, 'fnr_gap']:.3f} with seed 1, but with seed 0 its "
            f"training collapses (AUC {adv.loc[0, 'auc']:.3f}, men's FNR {adv.loc[0, 'fnr_Male']:.3f})") in prose
    fairest = sweep.loc[sweep["fnr_gap"].idxmin()]
    assert (fairest["setting"], fairest["seed"]) == ("adversarial 0.05", 0)
    assert f"`adversarial 0.05` with seed 0 (gap {fairest['fnr_gap']:.3f})" in prose


def test_chosen_point_and_missed_diagnoses(sweep, chosen, baseline, split, raw, outputs, prose):
    base = sweep[sweep["setting"] == "baseline"].iloc[0]
    assert chosen["setting"] == "threshold 0.02"
    assert f"chosen: {chosen['setting']} (AUC {chosen['auc']:.3f}, accuracy {chosen['accuracy']:.3f}, " \
           f"FNR gap {chosen['fnr_gap']:.3f})" in outputs
    per_1000 = {s: 1000 * chosen[f"fnr_{s}"] for s in SEXES}
    before = {s: 1000 * base[f"fnr_{s}"] for s in SEXES}
    for sex in SEXES:
        assert re.search(rf"{sex}\s+{per_1000[sex]:.1f}\s+{before[sex]:.1f}\s+{per_1000[sex] - before[sex]:.1f}", outputs)
    assert (f"**{per_1000['Female']:.0f} women instead of {before['Female']:.0f} "
            f"({per_1000['Female'] - before['Female']:+.0f})**").replace("+", "+") in prose.replace("−", "-")
    assert f"**{per_1000['Male']:.0f} men instead of {before['Male']:.0f} (+{per_1000['Male'] - before['Male']:.0f})**" in prose
    assert f"overall {1000 * chosen['fnr']:.0f} instead of {1000 * base['fnr']:.0f}" in prose
    _, test = split
    y, sex = test["disease"].to_numpy(), test["sex"].to_numpy()
    men_sick = (sex == "Male") & (y == 1)
    assert ((chosen["pred"][men_sick] == 0).sum(), (baseline["pred"].to_numpy()[men_sick] == 0).sum()) == (21, 11)
    assert "10 more men missed (21 of 115 instead of 11)" in prose
    looser = sweep[sweep["setting"] == "threshold 0.2"].iloc[0]
    assert looser["fnr_gap"] > 0.05 and looser["fnr_Male"] < base["fnr_Male"] and looser["fnr_Female"] < base["fnr_Female"]
    assert f"misses {1000 * looser['fnr_Female']:.0f} women (-83) **and** {1000 * looser['fnr_Male']:.0f} men (-17)" in \
        prose.replace("−", "-")
    healthy = y == 0
    for name, pred in (("chosen", chosen["pred"]), ("looser", looser["pred"]), ("baseline", baseline["pred"].to_numpy())):
        for s in SEXES:
            alarms = 1000 * pred[healthy & (sex == s)].mean()
            assert re.search(rf"{s}\s+.*{alarms:.1f}", outputs), (name, s)
    fpr = lambda pred, s: 1000 * pred[healthy & (sex == s)].mean()
    assert (f"{fpr(chosen['pred'], 'Female'):.0f} instead of {fpr(baseline['pred'].to_numpy(), 'Female'):.0f} per 1,000 "
            f"healthy women, {fpr(chosen['pred'], 'Male'):.0f} instead of {fpr(baseline['pred'].to_numpy(), 'Male'):.0f}") in prose
    assert f"({fpr(looser['pred'], 'Male'):.0f} instead of {fpr(baseline['pred'].to_numpy(), 'Male'):.0f} per 1,000" in prose


# --- the diabetes diagnosis -----------------------------------------------------------------------


def test_diabetes_root_cause_figures(raw, prose, outputs):
    status = raw["status"]
    counts = status.value_counts()
    assert f"{counts['diabetic']} diabetic patients against {counts['non-diabetic']} non-diabetic" in prose
    va = raw["site"] == "VA Long Beach"
    share = va[status == "diabetic"].mean()
    assert f"**{100 * share:.0f} % of the diabetic patients come from VA Long Beach** " \
           f"({(va & (status == 'diabetic')).sum()} of {counts['diabetic']}) against " \
           f"{100 * va[status == 'non-diabetic'].mean():.0f} % of the non-diabetic ones" in prose
    assert f"{((raw['site'] == 'Switzerland') & (status == 'not recorded')).sum()} of the {counts['not recorded']}" in prose
    prevalence = raw.groupby("status")["disease"].mean()
    assert f"{100 * prevalence['diabetic']:.0f} % of diabetic patients have disease against " \
           f"{100 * prevalence['non-diabetic']:.0f} % of non-diabetic ones" in prose
    within = raw.groupby(["site", "status"])["disease"].mean()
    assert f"at Cleveland the prevalence is {100 * within['Cleveland', 'diabetic']:.0f} % against " \
           f"{100 * within['Cleveland', 'non-diabetic']:.0f} %" in prose
    assert f"at VA Long Beach {100 * within['VA Long Beach', 'diabetic']:.0f} % against " \
           f"{100 * within['VA Long Beach', 'non-diabetic']:.0f} %" in prose
    missing = raw[["max_heart_rate", "resting_bp"]].isna().groupby(status).mean()
    assert f"maximum heart rate is missing for {100 * missing.loc['diabetic', 'max_heart_rate']:.0f} % of them against " \
           f"{100 * missing.loc['non-diabetic', 'max_heart_rate']:.0f} %" in prose
    assert f"resting blood pressure for {100 * missing.loc['diabetic', 'resting_bp']:.0f} % against " \
           f"{100 * missing.loc['non-diabetic', 'resting_bp']:.0f} %" in prose
    means = raw.groupby("status")[["age", "resting_bp"]].mean()
    assert f"older ({means.loc['diabetic', 'age']:.1f} against {means.loc['non-diabetic', 'age']:.1f} years)" in prose
    assert f"({means.loc['diabetic', 'resting_bp']:.1f} against {means.loc['non-diabetic', 'resting_bp']:.1f} mmHg)" in prose


def test_diabetes_model_differences_out_of_fold(raw, prose):
    features, model = baseline_features_and_model(raw)
    y = raw["disease"].to_numpy()
    score = np.empty(len(raw))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(features, y):
        score[test] = model.fit(features.iloc[train], y[train]).predict_proba(features.iloc[test])[:, 1]
    pred = (score >= 0.5).astype(int)
    per = {s: rates(y[(raw["status"] == s).to_numpy()], pred[(raw["status"] == s).to_numpy()],
                    score[(raw["status"] == s).to_numpy()]) for s in ("diabetic", "non-diabetic")}
    d, n = per["diabetic"], per["non-diabetic"]
    assert f"the AUC is lower ({d['auc']:.3f} against {n['auc']:.3f})" in prose
    assert f"(FPR {d['fpr']:.3f} against {n['fpr']:.3f})" in prose
    assert f"(FNR {d['fnr']:.3f} against {n['fnr']:.3f})" in prose


# --- graded items ----------------------------------------------------------------------------------


def message(question_id, answer):
    result = checks.evaluate(question_id, answer)
    assert result.status == "wrong", (question_id, answer, result.message)
    return result.message


def test_every_solution_answer_passes(by_sex, baseline, split, raw, chosen):
    f, m = by_sex["Female"], by_sex["Male"]
    train, _ = split
    answers = {
        "debias-baseline-auc": roc_auc_score(baseline["y"], baseline["score"]),
        "debias-fnr-by-sex": {s: by_sex[s]["fnr"] for s in SEXES},
        "debias-fnr-gap": abs(f["fnr"] - m["fnr"]),
        "debias-equalized-odds": max(abs(f["tpr"] - m["tpr"]), abs(f["fpr"] - m["fpr"])),
        "debias-impossibility-ppv": m["tpr"] * f["base_rate"] / (m["tpr"] * f["base_rate"] + m["fpr"] * (1 - f["base_rate"])),
        "debias-reweighing-weight": (train["sex"] == "Female").mean() * train["disease"].mean()
        / ((train["sex"] == "Female") & (train["disease"] == 1)).mean(),
        "debias-selected-setting": chosen["setting"],
        "debias-missed-per-1000": {s: 1000 * chosen[f"fnr_{s}"] for s in SEXES},
        "debias-diabetes-prevalence": raw[raw["status"] != "not recorded"].groupby("status")["disease"].mean(),
        "debias-diabetes-va-share": (raw.loc[raw["status"] == "diabetic", "site"] == "VA Long Beach").mean(),
    }
    assert set(answers) == {qid for qid, q in QUESTIONS.items() if q.notebook == "02"}
    for question_id, answer in answers.items():
        checks.assert_correct(question_id, answer)


def test_fnr_confused_with_fpr_or_error_rate(by_sex, baseline):
    assert "false-positive rates" in message("debias-fnr-by-sex", {s: by_sex[s]["fpr"] for s in SEXES})
    assert "1 - accuracy" in message("debias-fnr-by-sex", {s: 1 - by_sex[s]["accuracy"] for s in SEXES})
    assert "true-positive rates" in message("debias-fnr-by-sex", {s: by_sex[s]["tpr"] for s in SEXES})
    assert "counts of missed" in message("debias-fnr-by-sex", {s: by_sex[s]["missed"] for s in SEXES})
    accuracy = (baseline["y"] == baseline["pred"]).mean()
    assert "That is the accuracy" in message("debias-baseline-auc", accuracy)


def test_gap_as_ratio_wrong_sign_or_auc(by_sex):
    f, m = by_sex["Female"], by_sex["Male"]
    assert "signed the wrong way" in message("debias-fnr-gap", m["fnr"] - f["fnr"])
    assert "ratio" in message("debias-fnr-gap", f["fnr"] / m["fnr"])
    assert "difference in AUC" in message("debias-fnr-gap", abs(f["auc"] - m["auc"]))
    assert "false-positive rates" in message("debias-fnr-gap", abs(f["fpr"] - m["fpr"]))
    assert "TPR gap alone" in message("debias-equalized-odds", abs(f["tpr"] - m["tpr"]))
    assert "demographic parity" in message("debias-equalized-odds", abs(f["selection_rate"] - m["selection_rate"]))


def test_impossibility_and_weight_misconceptions(by_sex, split):
    assert "That is the men's PPV" in message("debias-impossibility-ppv", by_sex["Male"]["ppv"])
    train, _ = split
    women, sick = train["sex"] == "Female", train["disease"] == 1
    weight = women.mean() * sick.mean() / (women & sick).mean()
    assert "inverted" in message("debias-reweighing-weight", 1 / weight)


def test_selection_misconceptions(sweep):
    assert "luckiest seed" in message("debias-selected-setting", "adversarial 0.2")
    assert "'fairest' point" in message("debias-selected-setting", "adversarial 0.05")
    assert "baseline's FNR gap is above the limit" in message("debias-selected-setting", "baseline")


def test_missed_per_1000_overall_instead_of_with_disease(chosen, by_sex):
    per_group_all = {s: 1000 * chosen[f"fnr_{s}"] * by_sex[s]["base_rate"] for s in SEXES}
    assert "per 1,000 patients of each group" in message("debias-missed-per-1000", per_group_all)
    assert "proportions" in message("debias-missed-per-1000", {s: chosen[f"fnr_{s}"] for s in SEXES})


def test_diabetes_misconceptions(raw):
    diabetic = raw["status"] == "diabetic"
    va = raw["site"] == "VA Long Beach"
    assert "share of VA Long Beach patients who are diabetic" in message("debias-diabetes-va-share", diabetic[va].mean())
    cases = raw[raw["status"] != "not recorded"].groupby("status")["disease"].sum()
    assert "counts of patients with disease" in message("debias-diabetes-prevalence", cases.to_dict())
