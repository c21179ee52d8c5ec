"""Notebook 02's two parts (02a the audit, 02b the pipeline) state true findings, choose without the test patients,
and grade mostly code.

Every number the notebook states (in its stored outputs and in its prose) is recomputed here from the raw CSV
files with plain pandas / NumPy / scikit-learn, fairlearn's metric functions or aif360's ClassificationMetric --
never with the notebook's helpers (group_audit_table, evaluate_predictions) nor with the learner's functions.
The shipped split, model inputs and predictions are rebuilt independently too (the encoder, the baseline, the
re-weighing weights from the Kamiran-Calders formula, the group thresholds), so a finding cannot pass because
the notebook and its data agree with each other by construction.

"No choice touches the test patients" is shown twice, with the test patients' labels shuffled: the build of the
shipped data gives the same files, and the solution notebook makes the same choices.
"""

import ast
import io
import importlib.util
import json
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from course_utils import exercises as checks
from course_utils.data import heart_data_path
from course_utils.exercises.questions import QUESTIONS
from course_utils.instructor import release
from course_utils.instructor.cases import load_hidden

AUDIT = release.SOLUTIONS_DIR / "02a_group_audit.ipynb"
SOLUTION = release.SOLUTIONS_DIR / "02b_debiasing_pipeline.ipynb"  # the pipeline: every choice and the report
LEARNERS = [release.NOTEBOOKS_DIR / path.name for path in (AUDIT, SOLUTION)]
DATA = heart_data_path().parent
SEXES = ("Female", "Male")
NUMERIC = ["age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression"]
CATEGORICAL = ["sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high"]


# --- fixtures: everything from the raw files ---------------------------------------------------------


@pytest.fixture(scope="module")
def notebook():
    """Both parts as one notebook, 02a's cells first: the findings are checked wherever they are stated."""
    audit, pipeline = (nbformat.read(path, as_version=4) for path in (AUDIT, SOLUTION))
    audit.cells += pipeline.cells
    return audit


HIGH, LOW = "FBS > 120", "FBS <= 120"  # fasting blood sugar above 120 mg/dl or not: not a diagnosis of diabetes


@pytest.fixture(scope="module")
def raw():
    frame = pd.read_csv(heart_data_path())
    frame["disease"] = (frame["diagnosis"] > 0).astype(int)
    frame["status"] = frame["fasting_blood_sugar_high"].map(
        {True: HIGH, False: LOW, "True": HIGH, "False": LOW}).fillna("not recorded")
    return frame


@pytest.fixture(scope="module")
def shipped_inputs():
    return pd.read_csv(DATA / "heart_model_inputs.csv")


@pytest.fixture(scope="module")
def split(raw, shipped_inputs):
    """The split recomputed from the raw CSV: test first, then validation out of the rest (disease x sex, seed 0)."""
    strata = raw["disease"].astype(str) + raw["sex"].astype(str)
    development, test = train_test_split(raw, test_size=230, stratify=strata, random_state=0)
    train, validation = train_test_split(development, test_size=230, stratify=strata[development.index], random_state=0)
    return {"train": train.sort_index(), "validation": validation.sort_index(), "test": test.sort_index()}


@pytest.fixture(scope="module")
def encoded(raw, split):
    """The baseline's inputs rebuilt: imputers, scaler and one-hot encoder fitted on the train patients only."""
    features = raw[NUMERIC + CATEGORICAL].copy()
    for name in ("exercise_angina", "fasting_blood_sugar_high"):
        features[name] = features[name].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    encoder = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore", sparse_output=False)), CATEGORICAL),
    ]).fit(features.loc[split["train"].index])
    return pd.DataFrame(encoder.transform(features), index=raw.index)


@pytest.fixture(scope="module")
def models(raw, split, encoded):
    """Independent baseline and re-weighed models (Kamiran-Calders weights counted with pandas)."""
    train = split["train"]
    baseline = LogisticRegression(max_iter=1000).fit(encoded.loc[train.index], train["disease"])
    sex, sick = train["sex"], train["disease"]
    cell = sex + sick.astype(str)
    weights = (sex.map(sex.value_counts(normalize=True)) * sick.map(sick.value_counts(normalize=True))
               / cell.map(cell.value_counts(normalize=True))).to_numpy()
    reweighed = {s: LogisticRegression(max_iter=1000).fit(encoded.loc[train.index], sick, sample_weight=1 + s * (weights - 1))
                 for s in (0.25, 0.5, 0.75, 1.0)}
    return {"baseline": baseline, "reweighed": reweighed, "weights": pd.Series(weights, index=train.index)}


def predict(model, encoded, patients):
    score = model.predict_proba(encoded.loc[patients.index])[:, 1]
    return score, (score >= 0.5).astype(int)


def rates(y, pred, score=None):
    y, pred = np.asarray(y), np.asarray(pred)
    out = {"n": len(y), "base_rate": y.mean(), "selection_rate": pred.mean(), "accuracy": (y == pred).mean(),
           "tpr": pred[y == 1].mean(), "fnr": 1 - pred[y == 1].mean(), "fpr": pred[y == 0].mean(),
           "ppv": y[pred == 1].mean() if (pred == 1).any() else np.nan,
           "missed": int(((y == 1) & (pred == 0)).sum()), "sick": int((y == 1).sum()),
           "alarms": int(((y == 0) & (pred == 1)).sum()), "healthy": int((y == 0).sum())}
    if score is not None:
        out["auc"] = roc_auc_score(y, score)
    return out


def by_sex(patients, score, pred):
    return {s: rates(patients["disease"].to_numpy()[m], pred[m], score[m])
            for s in SEXES for m in [(patients["sex"] == s).to_numpy()]}


@pytest.fixture(scope="module")
def validation_baseline(split, encoded, models):
    score, pred = predict(models["baseline"], encoded, split["validation"])
    return score, pred, by_sex(split["validation"], score, pred)


@pytest.fixture(scope="module")
def test_report(split, encoded, models):
    """The baseline and the chosen setting (re-weighing at strength 0.75, fitted on the train patients) on the test
    patients, refitted independently."""
    test = split["test"]
    return {"patients": test, "baseline": predict(models["baseline"], encoded, test),
            "chosen": predict(models["reweighed"][0.75], encoded, test)}


@pytest.fixture(scope="module")
def development(split):
    """The 690 non-test patients in patient order: what the sweep is cross-fitted over."""
    return pd.concat([split["train"], split["validation"]]).sort_values("patient_id")


@pytest.fixture(scope="module")
def shipped():
    return pd.read_csv(DATA / "heart_debiasing_predictions.csv")


def shipped_rows(shipped, split_name, method, value=None, seed=0):
    rows = shipped[(shipped["split"] == split_name) & (shipped["method"] == method) & (shipped["seed"] == seed)]
    if value is not None:
        rows = rows[np.isclose(rows["value"], value)]
    return rows


# --- the shipped data are what they say ---------------------------------------------------------------


def test_the_shipped_split_and_inputs_are_the_documented_ones(raw, split, shipped_inputs, encoded, prose):
    for name, patients in split.items():
        assert set(shipped_inputs.loc[shipped_inputs["split"] == name, "patient_id"]) == set(patients["patient_id"])
    features = shipped_inputs.drop(columns=["patient_id", "split"])
    assert features.shape == (920, 18)  # 5 measurements, 13 one-hot categories; no missing-value indicators
    assert np.allclose(features.to_numpy(), encoded.to_numpy(), atol=1e-9)
    counts = {name: pd.crosstab(p["sex"], p["disease"]) for name, p in split.items()}
    assert (counts["validation"].loc["Female", 1], counts["test"].loc["Female", 1]) == (13, 12)
    assert (counts["validation"].loc["Male", 1], counts["test"].loc["Male", 1]) == (114, 115)
    assert "**13 women with disease** in the validation set, 12 in the test set (and 114 and 115 men)" in prose
    assert "| **train** | 460 |" in prose and "| **validation** | 230 |" in prose and "| **test** | 230 |" in prose


def test_the_shipped_predictions_are_the_independent_models(shipped, split, encoded, models):
    for name in ("validation", "test"):
        score, _ = predict(models["baseline"], encoded, split[name])
        rows = shipped_rows(shipped, name, "baseline").set_index("patient_id").loc[split[name]["patient_id"]]
        assert np.allclose(rows["score"], score, atol=1e-9)
        for strength, model in models["reweighed"].items():
            rows = shipped_rows(shipped, name, "reweighing", strength).set_index("patient_id").loc[split[name]["patient_id"]]
            assert np.allclose(rows["score"], model.predict_proba(encoded.loc[split[name].index])[:, 1], atol=1e-8)


def test_the_shipped_group_thresholds_are_fairleans_cross_fitted_on_validation(shipped, split, encoded, models):
    from fairlearn.postprocessing import ThresholdOptimizer

    validation = split["validation"]
    X, y, sex = encoded.loc[validation.index].to_numpy(), validation["disease"].to_numpy(), validation["sex"].to_numpy()
    strata = y.astype(str).astype(object) + sex
    decisions = np.zeros(len(y), dtype=int)
    for fit_rows, decide_rows in StratifiedKFold(5, shuffle=True, random_state=0).split(X, strata):
        thresholds = ThresholdOptimizer(estimator=models["baseline"], prefit=True, predict_method="predict_proba",
                                        constraints="true_positive_rate_parity", objective="balanced_accuracy_score")
        thresholds.fit(X[fit_rows], y[fit_rows], sensitive_features=sex[fit_rows])
        decisions[decide_rows] = thresholds.predict(X[decide_rows], sensitive_features=sex[decide_rows], random_state=0)
    rows = shipped_rows(shipped, "validation", "threshold", 0.0).set_index("patient_id").loc[validation["patient_id"]]
    assert np.array_equal(rows["decision"].to_numpy(), decisions)


class _GivenScore:
    """A fitted "model" whose probability is its one input column: thresholds fitted on scores from elsewhere."""

    def fit(self, X, y=None):  # noqa: N803
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):  # noqa: N803
        return np.column_stack([1 - np.asarray(X)[:, 0], np.asarray(X)[:, 0]])

    def get_params(self, deep=True):
        return {}

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags
        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True))


def test_the_shipped_cross_fitted_rows_are_the_independent_fold_fits(shipped, development, encoded):
    """Every non-test patient predicted once by the fits of the other four folds: the baseline and re-weighing refitted
    here fold by fold (weights counted with pandas), group thresholds from fairlearn on the folds' inner scores."""
    from fairlearn.postprocessing import ThresholdOptimizer

    X, y, sex = encoded.loc[development.index].to_numpy(), development["disease"].to_numpy(), development["sex"].to_numpy()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    base, reweighed, decided = np.zeros(len(y)), np.zeros(len(y)), np.zeros(len(y), dtype=int)
    for fit, new in folds.split(X, y.astype(str).astype(object) + sex):
        model = LogisticRegression(max_iter=1000).fit(X[fit], y[fit])
        base[new] = model.predict_proba(X[new])[:, 1]
        cell = pd.Series(sex[fit]) + pd.Series(y[fit]).astype(str)
        weights = (pd.Series(sex[fit]).map(pd.Series(sex[fit]).value_counts(normalize=True)).to_numpy()
                   * pd.Series(y[fit]).map(pd.Series(y[fit]).value_counts(normalize=True)).to_numpy()
                   / cell.map(cell.value_counts(normalize=True)).to_numpy())
        reweighed[new] = LogisticRegression(max_iter=1000).fit(X[fit], y[fit], sample_weight=1 + 0.75 * (weights - 1)
                                                                ).predict_proba(X[new])[:, 1]
        inner = np.zeros(len(fit))
        for a, b in folds.split(X[fit], y[fit].astype(str).astype(object) + sex[fit]):
            inner[b] = LogisticRegression(max_iter=1000).fit(X[fit][a], y[fit][a]).predict_proba(X[fit][b])[:, 1]
        thresholds = ThresholdOptimizer(estimator=_GivenScore().fit(None), prefit=True, predict_method="predict_proba",
                                        constraints="true_positive_rate_parity", objective="balanced_accuracy_score")
        thresholds.fit(inner[:, None], y[fit], sensitive_features=sex[fit])
        decided[new] = thresholds.predict(base[new][:, None], sensitive_features=sex[new], random_state=0)
    for method, value, expected in (("baseline", None, base), ("reweighing", 0.75, reweighed)):
        rows = shipped_rows(shipped, "crossfit", method, value).set_index("patient_id").loc[development["patient_id"]]
        assert np.allclose(rows["score"], expected, atol=1e-8), method
    rows = shipped_rows(shipped, "crossfit", "threshold", 0.0).set_index("patient_id").loc[development["patient_id"]]
    assert np.array_equal(rows["decision"].to_numpy(), decided)
    assert (shipped[shipped["split"] == "crossfit"].groupby(["method", "value", "seed"], dropna=False).size() == 690).all()


# --- 02a sections 0-3: the baseline on validation patients --------------------------------------------------


def test_baseline_auc_accuracy_and_fnr_by_sex_on_validation(split, validation_baseline, outputs, prose):
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    score, pred, per_sex = validation_baseline
    y = split["validation"]["disease"].to_numpy()
    auc, accuracy = roc_auc_score(y, score), (y == pred).mean()
    assert f"baseline on validation patients: AUC {auc:.3f}, accuracy {accuracy:.3f}" in outputs
    assert f"An AUC of {auc:.3f} and {100 * accuracy:.1f} % accuracy" in prose
    frame = pd.DataFrame({"male": (split["validation"]["sex"] == "Male").astype(float).to_numpy(), "label": y.astype(float)})
    truth = BinaryLabelDataset(df=frame, label_names=["label"], protected_attribute_names=["male"])
    predicted = truth.copy(deepcopy=True)
    predicted.labels = pred.reshape(-1, 1).astype(float)
    metric = ClassificationMetric(truth, predicted, unprivileged_groups=[{"male": 0.0}], privileged_groups=[{"male": 1.0}])
    f, m = per_sex["Female"], per_sex["Male"]
    assert metric.false_negative_rate(privileged=False) == pytest.approx(f["fnr"])
    assert (f["sick"], m["sick"]) == (13, 114)
    assert (f"misses **{f['missed']} of the 13** validation women with disease (FNR {f['fnr']:.3f}) and {m['missed']} "
            f"of the 114 men ({m['fnr']:.3f})") in prose
    assert (f"misses {100 * f['fnr']:.0f} % of the women's disease ({f['missed']} of 13) against {100 * m['fnr']:.0f} % "
            f"of the men's ({m['missed']} of 114), flags {100 * f['selection_rate']:.0f} % of women against {100 * m['selection_rate']:.0f} "
            f"% of men, and sends {100 * f['fpr']:.0f} % of healthy women against {100 * m['fpr']:.0f} %") in prose
    assert "the 49 validation women and 181 men" in prose and (f["n"], m["n"]) == (49, 181)


def bootstrap_fnr(y, pred, groups, group, n_boot=1000, seed=0):
    """The course's documented resampling, recomputed: rows of default_rng(seed).integers over all patients."""
    rows = np.random.default_rng(seed).integers(0, len(y), size=(n_boot, len(y)))
    sick, missed, mine = y[rows] == 1, pred[rows] == 0, groups[rows] == group
    with np.errstate(invalid="ignore"):
        values = (sick & missed & mine).sum(1) / (sick & mine).sum(1)
    low, high = np.nanquantile(values, [0.025, 0.975])
    estimate = ((y == 1) & (pred == 0) & (groups == group)).sum() / ((y == 1) & (groups == group)).sum()
    return min(low, estimate), max(high, estimate)


def test_interval_and_age_band_statements(split, validation_baseline, prose):
    score, pred, _ = validation_baseline
    validation = split["validation"]
    y, sex = validation["disease"].to_numpy(), validation["sex"].to_numpy()
    low, high = bootstrap_fnr(y, pred, sex, "Female")
    assert f"the women's interval runs from {low:.2f} to {high:.2f}" in prose
    bands = pd.cut(validation["age"], [0, 40, 50, 60, 70, 200], right=False,
                   labels=["<40", "40-49", "50-59", "60-69", "70+"]).astype(str).to_numpy()
    per_band = {b: rates(y[bands == b], pred[bands == b]) for b in ("<40", "40-49", "50-59", "60-69", "70+")}
    fnrs = [per_band[b]["fnr"] for b in ("<40", "40-49", "50-59", "60-69", "70+")]
    assert fnrs == sorted(fnrs, reverse=True), "the FNR falls with age"
    assert (f"The FNR falls with age — {per_band['<40']['fnr']:.2f} under 40, {per_band['40-49']['fnr']:.2f} at 40–49, "
            f"{per_band['50-59']['fnr']:.2f} at 50–59, {per_band['60-69']['fnr']:.2f} at 60–69, none of the "
            f"{per_band['70+']['sick']} with disease missed at 70+") in prose and per_band["70+"]["missed"] == 0
    assert f"fewer than 30 validation patients ({per_band['<40']['n']} and {per_band['70+']['n']})" in prose
    assert [b for b, r in per_band.items() if r["n"] < 30] == ["<40", "70+"]
    low, high = bootstrap_fnr(y, pred, bands, "40-49")
    assert f"the 40–49 band's runs from {low:.2f} to {high:.2f}" in prose
    oof = pd.read_csv(DATA / "heart_baseline_predictions.csv")
    raw = pd.read_csv(heart_data_path())
    flagged, sick = oof["baseline_score"] >= 0.5, raw["diagnosis"] > 0
    fnr = {s: (sick & ~flagged & (raw["sex"] == s)).sum() / (sick & (raw["sex"] == s)).sum() for s in SEXES}
    assert f"out of fold: {100 * fnr['Female']:.0f} % against {100 * fnr['Male']:.0f} %" in prose


def test_age_by_sex_and_the_age_thresholds(split, encoded, models, validation_baseline, prose):
    """The age x sex counts, the age gap's exact test and the cross-fitted age thresholds, recomputed here."""
    from fairlearn.postprocessing import ThresholdOptimizer
    from scipy.stats import binomtest

    validation = split["validation"]
    y, sex, pred = validation["disease"].to_numpy(), validation["sex"].to_numpy(), validation_baseline[1]
    bands = pd.cut(validation["age"], [0, 40, 50, 60, 70, 200], right=False,
                   labels=["<40", "40-49", "50-59", "60-69", "70+"]).astype(str).to_numpy()
    sizes = pd.crosstab(bands, sex)
    assert int((sizes < 30).to_numpy().sum()) == 7 and (sizes["Female"] < 30).all()
    sick_women = {b: int(((bands == b) & (sex == "Female") & (y == 1)).sum()) for b in ("<40", "40-49", "50-59", "60-69", "70+")}
    assert (f"the women with disease number {sick_women['<40']} under 40, {sick_women['40-49']} at 40–49, "
            f"{sick_women['50-59']} at 50–59, {sick_women['60-69']} at 60–69 and none at 70+") in prose
    assert sick_women["70+"] == 0 and "Seven of the ten combinations hold fewer than 30 validation patients" in prose
    age = np.where(np.isin(bands, ["<40", "40-49"]), "under 50", "50 and over")
    missed = {g: int(((age == g) & (y == 1) & (pred == 0)).sum()) for g in ("under 50", "50 and over")}
    sick = {g: int(((age == g) & (y == 1)).sum()) for g in ("under 50", "50 and over")}
    p_gap = fisher_exact([[missed["under 50"], sick["under 50"] - missed["under 50"]],
                          [missed["50 and over"], sick["50 and over"] - missed["50 and over"]]]).pvalue
    assert (f"The baseline misses {missed['under 50']} of the {sick['under 50']} under-50 patients with disease against\n"
            f"{missed['50 and over']} of the {sick['50 and over']} aged 50 and over").replace("\n", " ") in prose
    assert f"(Fisher's exact test p = {p_gap:.3f})" in prose and p_gap < 0.05
    # the age thresholds, cross-fitted on the validation patients as the sweep's thresholds by sex are
    X = encoded.loc[validation.index].to_numpy()
    after = np.zeros(len(y), dtype=int)
    strata = np.char.add(y.astype(str), age.astype(str))
    for fit_rows, decide_rows in StratifiedKFold(5, shuffle=True, random_state=0).split(X, strata):
        thresholds = ThresholdOptimizer(estimator=models["baseline"], prefit=True, predict_method="predict_proba",
                                        constraints="true_positive_rate_parity", objective="balanced_accuracy_score")
        thresholds.fit(X[fit_rows], y[fit_rows], sensitive_features=age[fit_rows])
        after[decide_rows] = thresholds.predict(X[decide_rows], sensitive_features=age[decide_rows], random_state=0)
    young_sick, young_healthy = (age == "under 50") & (y == 1), (age == "under 50") & (y == 0)
    found, lost = int((young_sick & (pred == 0) & (after == 1)).sum()), int((young_sick & (pred == 1) & (after == 0)).sum())
    alarms_before, alarms_after = int((young_healthy & (pred == 1)).sum()), int((young_healthy & (after == 1)).sum())
    missed_after = int((young_sick & (after == 0)).sum())
    assert (found, lost) == (missed["under 50"] - missed_after, 0)
    assert (f"find {found} more patients with disease ({missed_after} missed instead of {missed['under 50']}) and raise "
            f"{alarms_after - alarms_before} more false\nalarms among the {int(young_healthy.sum())} healthy ones "
            f"({alarms_after} instead of {alarms_before})").replace("\n", " ") in prose
    p_gain = binomtest(lost, found + lost).pvalue
    new_alarms = int((young_healthy & (pred == 0) & (after == 1)).sum())
    gone_alarms = int((young_healthy & (pred == 1) & (after == 0)).sum())
    p_cost = binomtest(gone_alarms, new_alarms + gone_alarms).pvalue
    assert f"cannot yet tell from chance (p = {p_gain:.3f})" in prose and p_gain > 0.05
    assert f"the cost, {new_alarms + gone_alarms}\nchanged patients, it can (p < 0.001)".replace("\n", " ") in prose
    assert p_cost < 0.001


def _calibration(y, p):
    """Intercept with the log-odds as offset, and slope, by Newton-Raphson written out here; Wald intervals."""
    from scipy.special import expit, logit

    x, y = logit(np.asarray(p, float)), np.asarray(y, float)
    a = 0.0
    for _ in range(200):
        q = expit(a + x)
        a += np.sum(y - q) / np.sum(q * (1 - q))
    q = expit(a + x)
    a_se = 1 / np.sqrt(np.sum(q * (1 - q)))
    beta = np.zeros(2)
    design = np.column_stack([np.ones_like(x), x])
    for _ in range(200):
        q = expit(design @ beta)
        information = design.T @ (design * (q * (1 - q))[:, None])
        beta = beta + np.linalg.solve(information, design.T @ (y - q))
    q = expit(design @ beta)
    b_se = np.sqrt(np.linalg.inv(design.T @ (design * (q * (1 - q))[:, None]))[1, 1])
    z = 1.959963984540054
    return {"a": a, "a_low": a - z * a_se, "a_high": a + z * a_se, "b": beta[1], "b_low": beta[1] - z * b_se,
            "b_high": beta[1] + z * b_se}


@pytest.fixture(scope="module")
def crossfit_scores(shipped, development):
    """The shipped cross-fitted scores and decisions of the baseline, re-weighing 0.75 and threshold 0, in patient order
    (checked against independent fold fits above)."""
    out = {}
    for name, method, value in (("baseline", "baseline", None), ("chosen", "reweighing", 0.75),
                                ("threshold 0", "threshold", 0.0)):
        rows = shipped_rows(shipped, "crossfit", method, value).set_index("patient_id").loc[development["patient_id"]]
        out[name] = (rows["score"].to_numpy(), rows["decision"].to_numpy())
    return out


def test_calibration_after_mitigation(development, crossfit_scores, prose):
    y, women = development["disease"].to_numpy(), (development["sex"] == "Female").to_numpy()
    base, reweighed = crossfit_scores["baseline"][0], crossfit_scores["chosen"][0]
    before, after = _calibration(y[women], base[women]), _calibration(y[women], reweighed[women])
    minus = lambda x: f"{x:.2f}".replace("-", "−")  # noqa: E731
    text = " ".join(prose.split())
    assert (f"the baseline's intercept is {minus(before['a'])} ({minus(before['a_low'])} to {minus(before['a_high'])})"
            ) in text and before["a_low"] < 0 < before["a_high"]
    assert f"moves it to {minus(after['a'])} ({minus(after['a_low'])} to {minus(after['a_high'])})" in text
    assert after["a_high"] < 0
    assert f"averages {reweighed[women].mean():.2f} against an observed {y[women].mean():.2f}" in text
    men = _calibration(y[~women], reweighed[~women])
    assert f"to {men['a']:.2f} ({men['a_low']:.2f} to {men['a_high']:.2f}): their risks are now under-stated" in text
    assert men["a_low"] > 0
    slopes = [_calibration(y[women], base[women]), after, _calibration(y[~women], base[~women]), men]
    assert f"({after['b']:.2f} for women, {men['b']:.2f} for men, every interval including 1)" in text
    assert all(s["b_low"] < 1 < s["b_high"] for s in slopes)


def test_gaps_criteria_and_calibration(split, validation_baseline, outputs, prose):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    score, pred, per_sex = validation_baseline
    validation = split["validation"]
    f, m = per_sex["Female"], per_sex["Male"]
    gap, fpr_gap = abs(f["fnr"] - m["fnr"]), abs(f["fpr"] - m["fpr"])
    eo = equalized_odds_difference(validation["disease"], pred, sensitive_features=validation["sex"])
    dp = demographic_parity_difference(validation["disease"], pred, sensitive_features=validation["sex"])
    assert f"FNR gap: {gap:.3f}" in outputs and f"equalized-odds difference: {eo:.3f}" in outputs
    assert f"demographic parity difference: {dp:.3f}" in outputs
    assert eo == pytest.approx(gap) and fpr_gap < gap
    assert (f"The FNR gap is {gap:.3f}, and it is also the equalized-odds difference: the TPR gap ({gap:.3f}) is larger "
            f"than the FPR gap ({fpr_gap:.3f}). Demographic parity is far away ({dp:.3f})") in prose
    assert (f"flags {100 * f['selection_rate']:.0f} % of women and {100 * m['selection_rate']:.0f} % of men — but "
            f"{100 * f['base_rate']:.0f} % of these women and {100 * m['base_rate']:.0f} % of these men") in prose
    assert f"PPV is {f['ppv']:.3f} for women and {m['ppv']:.3f} for men" in prose
    for sex in SEXES:
        mine = (validation["sex"] == sex).to_numpy()
        line = (f"{sex}: mean predicted risk {score[mine].mean():.3f}, "
                f"observed prevalence {validation['disease'].to_numpy()[mine].mean():.3f}")
        assert line in outputs
    women, men = ((validation["sex"] == s).to_numpy() for s in SEXES)
    assert (f"mean predicted risk {score[women].mean():.3f} against an observed "
            f"{validation['disease'].to_numpy()[women].mean():.3f} for women, {score[men].mean():.3f} against "
            f"{validation['disease'].to_numpy()[men].mean():.3f} for men") in prose


def test_impossibility_numbers(validation_baseline, outputs, prose):
    f, m = validation_baseline[2]["Female"], validation_baseline[2]["Male"]
    # counted, not from the formula: 10,000 women with the women's prevalence and the men's TPR and FPR
    sick = 10_000 * f["base_rate"]
    ppv_women = m["tpr"] * sick / (m["tpr"] * sick + m["fpr"] * (10_000 - sick))
    assert f"women's PPV with the men's TPR and FPR, from your function: {ppv_women:.3f}" in outputs
    assert (f"disease only {100 * ppv_women:.0f} % of the time ({ppv_women:.3f}) against {100 * m['ppv']:.0f} % in a man "
            f"({m['ppv']:.3f})") in prose
    assert f"{100 * f['base_rate']:.0f} % of these women have disease against {100 * m['base_rate']:.0f} % of the men" in prose
    assert f"the women's PPV would be {ppv_women:.2f} against {m['ppv']:.2f}" in prose
    assert m["ppv"] - ppv_women > 0.3


def test_the_impossibility_statement_names_its_source_and_its_exception(answers, prose):
    """Equal TPR and FPR give unequal PPV when prevalences differ -- except at FPR = 0, where PPV is 1 everywhere."""
    ppv = answers["ppv_from_rates"]
    assert ppv(0.8, 0.1, 0.27) != pytest.approx(ppv(0.8, 0.1, 0.63))
    assert ppv(0.6, 0.0, 0.27) == pytest.approx(1.0) and ppv(0.6, 0.0, 0.63) == pytest.approx(1.0)
    assert "(Chouldechova 2017) — with one degenerate exception" in prose
    assert "(FPR = 0 in both groups) has PPV = 1 in both" in prose
    assert "Kleinberg, Mullainathan & Raghavan 2016" in prose and "unless prediction is perfect or the base rates" in prose


def test_the_explorers_equalized_odds_is_not_exercise_9s_constraint(prose):
    import inspect

    from course_utils import whatif

    assert 'constraints="equalized_odds"' in inspect.getsource(whatif)
    assert "Exercise 4 asked for equal TPR only" in prose and "as in Exercise 4" not in prose


# --- 02b sections 1-3: the mitigations on the course data --------------------------------------------------


def test_reweighing_weights_and_the_learners_pieces_on_the_course_data(split, models, outputs, prose):
    train, weights = split["train"], models["weights"]
    cells = {(s, d): weights[(train["sex"] == s) & (train["disease"] == d)] for s in SEXES for d in (0, 1)}
    assert all(values.nunique() == 1 for values in cells.values())
    for (sex, disease), values in cells.items():
        assert re.search(rf"{len(values)}\s+{values.iloc[0]:.3f}", outputs)
    assert (f"The {len(cells['Female', 1])} training women with disease each count {cells['Female', 1].iloc[0]:.2f} "
            f"times, the {len(cells['Female', 0])} women without disease {cells['Female', 0].iloc[0]:.2f} times, men with "
            f"disease {cells['Male', 1].iloc[0]:.2f} and men without {cells['Male', 0].iloc[0]:.2f}") in prose
    differences = re.findall(r"largest difference from the course's (?:re-weighed )?scores[^:]*: ([\d.e+-]+)", outputs)
    assert len(differences) == 1 and all(float(d) < 1e-8 for d in differences)
    # the adversarial scores: TensorFlow's last digits depend on the processor, so the notebook states the tolerance
    assert "the course's scores reproduced: True" in outputs


def test_the_thresholds_statement(split, encoded, models, outputs, prose):
    from fairlearn.postprocessing import ThresholdOptimizer

    validation = split["validation"]
    fitted = ThresholdOptimizer(estimator=models["baseline"], prefit=True, predict_method="predict_proba",
                                constraints="true_positive_rate_parity", objective="balanced_accuracy_score").fit(
        encoded.loc[validation.index], validation["disease"], sensitive_features=validation["sex"])
    rules = fitted.interpolated_thresholder_.interpolation_dict
    women, men = rules["Female"], rules["Male"]
    assert 0.05 < women["p0"] < 0.95 and women["operation1"].threshold < women["operation0"].threshold < 0.5
    assert (f"For women the threshold falls from 0.5 to {women['operation0'].threshold:.2f} (probability "
            f"{women['p0']:.3f}), and otherwise to {women['operation1'].threshold:.2f}") in prose
    assert men["p1"] > 0.99 and men["operation1"].threshold > 0.5
    assert (f"for men it rises to {men['operation1'].threshold:.2f} (almost always: probability {men['p1']:.3f})") in prose
    assert (f"same score between {women['operation1'].threshold:.2f} and {women['operation0'].threshold:.2f}") in prose
    for sex, rule in rules.items():
        assert (f"{sex}: threshold {rule['operation0'].threshold:.3f} with probability {rule['p0']:.3f}, "
                f"threshold {rule['operation1'].threshold:.3f} with probability {rule['p1']:.3f}") in outputs


def test_the_explorer_and_the_fnr_ceiling(split, validation_baseline, notebook, outputs, prose):
    """The explorer opens on the baseline at 0.5 before the exercise; the ceiling's thresholds and counts after it."""
    score, _, per_sex = validation_baseline
    validation = split["validation"]
    y, sex = validation["disease"].to_numpy(), validation["sex"].to_numpy()
    sources = [cell.source for cell in notebook.cells]
    explorer_cell = next(i for i, text in enumerate(sources) if text.startswith("explorer = WhatIfExplorer("))
    answer_cell = next(i for i, cell in enumerate(notebook.cells)
                       if cell.metadata.get("nbgrader", {}).get("grade_id") == "debias-fnr-target-function-answer")
    assert explorer_cell < answer_cell
    # Built from the setup's names only, at the default 0.5: nothing a learner writes, no threshold preset.
    explorer_names = {node.id for node in ast.walk(ast.parse(sources[explorer_cell])) if isinstance(node, ast.Name)}
    assert explorer_names <= {"explorer", "WhatIfExplorer", "baseline", "validation", "features"}
    assert "threshold" not in sources[explorer_cell].replace("explorer", "")
    for sex_name, shown in (("Female", per_sex["Female"]), ("Male", per_sex["Male"])):
        assert (f"{sex_name}: threshold 0.500, FNR {shown['fnr']:.3f}, FPR {shown['fpr']:.3f}, PPV {shown['ppv']:.3f}"
                in outputs)
    # The ceiling of 20 %: every score of a patient with disease tried as a threshold (flagged when >=).
    found = {}
    for sex_name in SEXES:
        mine = sex == sex_name
        sick_scores = score[mine & (y == 1)]
        threshold = max(t for t in sick_scores if (sick_scores < t).mean() <= 0.2)
        flagged = score[mine] >= threshold
        truth = y[mine]
        found[sex_name] = {"t": threshold, "tp": int((flagged & (truth == 1)).sum()),
                           "fn": int((~flagged & (truth == 1)).sum()), "fp": int((flagged & (truth == 0)).sum()),
                           "tn": int((~flagged & (truth == 0)).sum())}
        row = found[sex_name]
        fnr, fpr = row["fn"] / (row["fn"] + row["tp"]), row["fp"] / (row["fp"] + row["tn"])
        shown = re.search(rf"{sex_name}\s+([\d.]+)\s+{row['tp']}\s+{row['fn']}\s+{row['fp']}\s+{row['tn']}\n", outputs)
        assert shown and float(shown.group(1)) == round(threshold, 3), sex_name  # the explorer's counts (pandas
        # prints 0.130 as 0.13 when every value of the column ends in 0)
        assert f"{sex_name}: threshold {threshold:.3f}, FNR {fnr:.3f}, FPR {fpr:.3f}, " in outputs, sex_name  # its summary
    women, men = found["Female"], found["Male"]
    base_women, base_men = per_sex["Female"], per_sex["Male"]
    assert (f"sets the women's threshold to **{women['t']:.3f}** and the men's to **{men['t']:.3f}**") in prose
    assert (f"{women['fn']} of the {women['fn'] + women['tp']} with disease missed "
            f"(FNR {women['fn'] / (women['fn'] + women['tp']):.3f}) instead of {base_women['missed']}") in prose
    assert (f"{women['fp']} false alarms among the {women['fp'] + women['tn']} healthy women "
            f"(FPR {women['fp'] / (women['fp'] + women['tn']):.3f}) instead of {base_women['alarms']}") in prose
    assert (f"{men['fn']} of {men['fn'] + men['tp']} missed ({men['fn'] / (men['fn'] + men['tp']):.3f}) instead of "
            f"{base_men['missed']}, with {men['fp']} false alarms among {men['fp'] + men['tn']} healthy men instead of "
            f"{base_men['alarms']}") in prose
    assert men["t"] > 0.5 > women["t"] and men["fn"] > base_men["missed"]


# --- 02b section 4: the sweep, cross-fitted, and the choice ------------------------------------------


@pytest.fixture(scope="module")
def sweep(shipped, development):
    """Every setting's cross-fitted rates, counted with NumPy from the shipped decisions and the raw labels."""
    patients = development.set_index("patient_id")
    table = []
    for (method, value, seed), rows in shipped[shipped["split"] == "crossfit"].groupby(
            ["method", "value", "seed"], dropna=False, sort=False):
        rows = rows.set_index("patient_id").loc[patients.index]
        y, sex = patients["disease"].to_numpy(), patients["sex"].to_numpy()
        pred, score = rows["decision"].to_numpy(), rows["score"].to_numpy()
        fnr = {s: 1 - pred[(y == 1) & (sex == s)].mean() for s in SEXES}
        table.append({"setting": method if np.isnan(value) else f"{method} {value:g}", "method": method, "seed": seed,
                      "auc": roc_auc_score(y, score), "accuracy": (pred == y).mean(), "fnr_Female": fnr["Female"],
                      "fnr_Male": fnr["Male"], "fnr_gap": abs(fnr["Female"] - fnr["Male"]),
                      "missed_Male": int(((pred == 0) & (y == 1) & (sex == "Male")).sum()),
                      "missed_Female": int(((pred == 0) & (y == 1) & (sex == "Female")).sum())})
    return pd.DataFrame(table)


@pytest.fixture(scope="module")
def worst(sweep):
    return sweep.loc[sweep.groupby("setting", sort=False)["fnr_gap"].idxmax()].set_index("setting")


def test_sweep_rows_match_the_independent_counts(sweep, outputs):
    assert len(sweep) == 21
    for _, row in sweep.iterrows():
        pattern = (rf"{re.escape(row['setting'])}\s+{row['seed']}\s+{row['auc']:.3f}\s+\S+\s+\S+\s+"
                   rf"{row['fnr_Female']:.3f}\s+{row['fnr_Male']:.3f}\s+{row['fnr_gap']:.3f}")
        assert re.search(pattern, outputs), row["setting"]


def _resampled_fnr(y, sex, pred, rows, group):
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((pred[rows] == 0) & (y[rows] == 1) & (sex[rows] == group)).sum(1) / (
            (y[rows] == 1) & (sex[rows] == group)).sum(1)


def test_front_choice_and_the_statements_about_them(sweep, worst, development, crossfit_scores, prose):
    text = " ".join(prose.split())
    baseline = worst.loc["baseline"]
    y, sex = development["disease"].to_numpy(), development["sex"].to_numpy()
    assert int(((y == 1) & (sex == "Female")).sum()) == 38 and int(((y == 1) & (sex == "Male")).sum()) == 344
    assert "over the 690 non-test patients (train and validation together, 38 women with disease)" in text
    dominated = {a for a in worst.index for b in worst.index
                 if worst.loc[b, "auc"] >= worst.loc[a, "auc"] and worst.loc[b, "fnr_gap"] <= worst.loc[a, "fnr_gap"]
                 and (worst.loc[b, "auc"] > worst.loc[a, "auc"] or worst.loc[b, "fnr_gap"] < worst.loc[a, "fnr_gap"])}
    front = sorted(set(worst.index) - dominated)
    assert front == ["reweighing 0.75", "threshold 0"]
    for name in front:
        assert f"`{name}` (gap {worst.loc[name, 'fnr_gap']:.3f}, AUC {worst.loc[name, 'auc']:.3f})" in text
    # the baseline's gap interval: the course's documented resamples of the non-test patients, counted here
    rows = np.random.default_rng(0).integers(0, len(y), size=(1000, len(y)))
    pred = crossfit_scores["baseline"][1]
    gaps = np.abs(_resampled_fnr(y, sex, pred, rows, "Female") - _resampled_fnr(y, sex, pred, rows, "Male"))
    low, high = np.nanquantile(gaps, [0.025, 0.975])
    assert f"the baseline's runs from {low:.3f} to {high:.3f}" in text
    assert f"each gap interval is still wide (the baseline's {low:.3f} to {high:.3f})" in text
    eligible = worst[(worst["fnr_gap"] <= 0.05) & (worst["auc"] >= baseline["auc"] - 0.02)]
    chosen = eligible.sort_values(["auc", "fnr_gap"], ascending=[False, True]).index[0]
    assert chosen == "reweighing 0.75" and worst.loc["threshold 0", "fnr_gap"] > 0.05
    row = worst.loc[chosen]
    assert (f"its cross-fitted FNR gap is {row['fnr_gap']:.3f} against the baseline's {baseline['fnr_gap']:.3f}, at an "
            f"AUC of {row['auc']:.3f} against {baseline['auc']:.3f}") in text
    assert f"misses the gap limit by a hair ({worst.loc['threshold 0', 'fnr_gap']:.3f})" in text
    assert sweep["fnr_gap"].idxmin() == sweep.index[sweep["setting"] == chosen][0]
    assert f"has the smallest FNR gap of the whole sweep ({row['fnr_gap']:.3f})" in text
    found, lost = baseline["missed_Female"] - row["missed_Female"], row["missed_Male"] - baseline["missed_Male"]
    assert (found, lost) == (9, 11)
    assert (f"the women's FNR falls from {baseline['fnr_Female']:.3f} to {row['fnr_Female']:.3f} — {found} of 38 women "
            f"more found ({row['missed_Female']} missed instead of {baseline['missed_Female']})") in text
    assert (f"the men's rises from {baseline['fnr_Male']:.3f} to {row['fnr_Male']:.3f}: {lost} more men missed "
            f"({row['missed_Male']} of 344 instead of {baseline['missed_Male']})") in text
    assert (f"re-weighing finds {found} more of the 38 women with disease ({row['missed_Female']} missed instead of "
            f"{baseline['missed_Female']}) but misses {lost} more of the 344 men ({row['missed_Male']} instead of "
            f"{baseline['missed_Male']}), its AUC is lower ({row['auc']:.3f} against {baseline['auc']:.3f})") in text
    by_seed = sweep[sweep["setting"] == "adversarial 0.2"].set_index("seed")
    assert (f"`adversarial 0.2` has a gap of {by_seed.loc[2, 'fnr_gap']:.3f} with seed 2 but "
            f"{by_seed.loc[0, 'fnr_gap']:.3f} with seed 0") in text
    assert (f"weight 0.2 has a gap of {by_seed.loc[2, 'fnr_gap']:.3f} with seed 2 but {by_seed.loc[0, 'fnr_gap']:.3f} "
            f"with seed 0") in text
    collapsed = worst.loc["adversarial 0.5"]
    assert f"`adversarial 0.5` collapses at its worst seed (AUC {collapsed['auc']:.3f}, gap {collapsed['fnr_gap']:.3f})" \
        in text
    assert worst.loc["adversarial 0.2", "auc"] < 0.7, "adversarial 0.2's worst seed collapsed too"
    assert f"they still leave a gap of {worst.loc['threshold 0', 'fnr_gap']:.3f}" in text


def test_what_the_cross_fitted_patients_can_decide(development, crossfit_scores, outputs, prose):
    """The paired comparisons, recomputed with a plain loop over the documented resamples and scikit-learn's AUC."""
    text = " ".join(prose.split())
    y, sex = development["disease"].to_numpy(), development["sex"].to_numpy()
    rows = np.random.default_rng(0).integers(0, len(y), size=(1000, len(y)))
    (bs, bp), (cs, cp), (_, tp) = crossfit_scores["baseline"], crossfit_scores["chosen"], crossfit_scores["threshold 0"]

    def gap(pred):
        return np.abs(_resampled_fnr(y, sex, pred, rows, "Female") - _resampled_fnr(y, sex, pred, rows, "Male"))

    changes = {
        "women's FNR": _resampled_fnr(y, sex, cp, rows, "Female") - _resampled_fnr(y, sex, bp, rows, "Female"),
        "men's FNR": _resampled_fnr(y, sex, cp, rows, "Male") - _resampled_fnr(y, sex, bp, rows, "Male"),
        "AUC": np.array([roc_auc_score(y[r], cs[r]) - roc_auc_score(y[r], bs[r]) for r in rows]),
        "FNR gap": gap(cp) - gap(bp), "FNR gap against threshold 0": gap(cp) - gap(tp)}
    bounds = {label: np.quantile(change, [0.025, 0.975]) for label, change in changes.items()}
    for label, (low, high) in bounds.items():
        lead = "reweighing 0.75, " if "against" in label else "reweighing 0.75 minus baseline, "
        assert f"{lead}{label}: 95 % paired interval {low:+.3f} to {high:+.3f}" in outputs, label
    minus = lambda x: f"{x:+.3f}".replace("-", "−")  # noqa: E731
    assert bounds["women's FNR"][1] < 0 < bounds["men's FNR"][0] and bounds["AUC"][1] < 0, "three decisive findings"
    assert bounds["FNR gap"][0] < 0 < bounds["FNR gap"][1] and bounds["FNR gap against threshold 0"][0] < 0 < bounds[
        "FNR gap against threshold 0"][1], "two honest 'cannot tell's"
    sick_women = (y == 1) & (sex == "Female")
    newly_found, newly_missed = int((sick_women & (bp == 0) & (cp == 1)).sum()), int((sick_women & (bp == 1) & (cp == 0)).sum())
    assert (newly_found, newly_missed) == (9, 0)
    women, men = bounds["women's FNR"], bounds["men's FNR"]
    assert f"a paired interval of the women's FNR change from {minus(women[0])} to {minus(women[1])}" in text
    assert f"missed ({minus(men[0])} to {minus(men[1])})" in text
    assert f"a lower AUC ({minus(bounds['AUC'][0])} to {minus(bounds['AUC'][1])})" in text
    assert f"({minus(bounds['FNR gap'][0])} to {minus(bounds['FNR gap'][1])}: the interval just reaches 0)" in text
    assert (f"({minus(bounds['FNR gap against threshold 0'][0])} to {minus(bounds['FNR gap against threshold 0'][1])})"
            f" — on this sweep a careful `choose_setting` says \"cannot tell\"") in text
    assert "AUC floor 0.853: cannot tell" in outputs


# --- 02b section 5: the report on test patients -------------------------------------------------------------


def test_the_test_report(test_report, outputs, prose):
    text = " ".join(prose.split())
    test = test_report["patients"]
    y, sex = test["disease"].to_numpy(), test["sex"].to_numpy()
    summary = {}
    for name in ("baseline", "chosen"):
        score, pred = test_report[name]
        summary[name] = {"auc": roc_auc_score(y, score), "accuracy": (pred == y).mean(), **{
            s: rates(y[sex == s], pred[sex == s]) for s in SEXES}}
        label = "baseline" if name == "baseline" else "reweighing 0.75"
        assert f"{label}: test AUC {summary[name]['auc']:.3f}, accuracy {summary[name]['accuracy']:.3f}" in outputs
        for s in SEXES:
            r = summary[name][s]
            assert (f"{label}, {s}: missed {r['missed']} of {r['sick']} with disease, {r['alarms']} false alarms of "
                    f"{r['healthy']} without") in outputs
            assert re.search(rf"{s}\s+{1000 * r['fnr']:.1f}\s+{1000 * r['fpr']:.1f}", outputs)
    base, chosen = summary["baseline"], summary["chosen"]
    assert (f"Test AUC {chosen['auc']:.3f} against {base['auc']:.3f}; accuracy {chosen['accuracy']:.3f} against "
            f"{base['accuracy']:.3f}") in text
    assert chosen["Female"]["missed"] == base["Female"]["missed"] == 2
    assert (f"misses **{1000 * chosen['Female']['fnr']:.0f} women, as the baseline does** "
            f"({chosen['Female']['missed']} of 12 both)") in text
    assert (f"**{1000 * chosen['Male']['fnr']:.0f} men instead of {1000 * base['Male']['fnr']:.0f}** "
            f"({chosen['Male']['missed']} of 115 instead of {base['Male']['missed']})") in text
    assert (f"**{1000 * chosen['Female']['fpr']:.0f} false alarms in women instead of {1000 * base['Female']['fpr']:.0f}** "
            f"and {1000 * chosen['Male']['fpr']:.0f} in men instead of {1000 * base['Male']['fpr']:.0f}") in text
    assert "(8 of 36 instead of 3)" in text and chosen["Female"]["alarms"] == 8 and base["Female"]["alarms"] == 3


def test_the_paired_bootstrap_of_the_change(test_report, outputs, prose):
    # A plain loop over the documented resamples with scikit-learn's AUC (the notebook's function is vectorised).
    test = test_report["patients"]
    y, sex = test["disease"].to_numpy(), test["sex"].to_numpy()
    (bs, bp), (cs, cp) = test_report["baseline"], test_report["chosen"]
    rows = np.random.default_rng(0).integers(0, len(y), size=(1000, len(y)))

    def gap(pred, r):
        fnr = [((pred[r] == 0) & (y[r] == 1) & (sex[r] == s)).sum() / max(((y[r] == 1) & (sex[r] == s)).sum(), 1)
               if ((y[r] == 1) & (sex[r] == s)).any() else np.nan for s in SEXES]
        return abs(fnr[0] - fnr[1])

    gaps = [gap(cp, r) - gap(bp, r) for r in rows]
    aucs = [roc_auc_score(y[r], cs[r]) - roc_auc_score(y[r], bs[r]) for r in rows]
    everyone = np.arange(len(y))
    gap_change, auc_change = gap(cp, everyone) - gap(bp, everyone), roc_auc_score(y, cs) - roc_auc_score(y, bs)
    gap_low, gap_high = np.nanquantile(gaps, [0.025, 0.975])
    auc_low, auc_high = np.quantile(aucs, [0.025, 0.975])
    assert f"FNR gap change {gap_change:+.3f} (95 % CI {gap_low:+.3f} to {gap_high:+.3f})" in outputs
    assert f"AUC change {auc_change:+.4f} (95 % CI {auc_low:+.4f} to {auc_high:+.4f})" in outputs
    minus = lambda x, digits: f"{x:+.{digits}f}".replace("-", "−")  # noqa: E731
    text = " ".join(prose.split())
    assert (f"changes the FNR gap by {minus(gap_change, 3)} (paired 95 % interval {minus(gap_low, 3)} to "
            f"{minus(gap_high, 3)}, from 1,000 paired resamples) and the AUC by {minus(auc_change, 4)} "
            f"({minus(auc_low, 4)} to {minus(auc_high, 4)})") in text
    assert gap_low < 0 < gap_high and auc_low < 0 < auc_high, "the 12 test women with disease cannot tell"
    assert f"the paired test interval of the gap change ({minus(gap_low, 3)} to {minus(gap_high, 3)})" in text


# --- 02b section 6: Aequitas --------------------------------------------------------------------------------


def test_the_aequitas_report_and_its_reconciliation(test_report, outputs, prose):
    test = test_report["patients"]
    y, sex = test["disease"].to_numpy(), test["sex"].to_numpy()
    pred = test_report["chosen"][1]
    f, m = rates(y[sex == "Female"], pred[sex == "Female"]), rates(y[sex == "Male"], pred[sex == "Male"])
    fnr_ratio, fpr_ratio = f["fnr"] / m["fnr"], f["fpr"] / m["fpr"]
    assert re.search(rf"Female\s+{f['fnr']:.3f}\s+{fnr_ratio:.3f}\s+{f['fpr']:.3f}\s+{fpr_ratio:.3f}\s+True\s+False\s+False",
                     outputs)
    assert 0.8 <= fnr_ratio <= 1.25 and not 0.8 <= fpr_ratio <= 1.25
    text = " ".join(prose.split())
    assert (f"the women's FNR is {fnr_ratio:.2f} times the men's ({f['fnr']:.3f} against {m['fnr']:.3f})") in text
    gap = abs(f["fnr"] - m["fnr"])
    assert f"Your audit says the FNR gap is {gap:.3f}, inside the course's 0.05" in text and gap <= 0.05
    one_more = (f["missed"] + 1) / f["sick"]
    assert one_more / m["fnr"] > 1.25
    assert (f"one more woman missed ({f['missed'] + 1} of {f['sick']}) would make the ratio {one_more / m['fnr']:.2f} "
            f"and fail; the difference would be {one_more - m['fnr']:.3f}") in text
    assert f"(ratio {fpr_ratio:.2f}: women get *fewer* false alarms than men, {f['fpr']:.3f} against {m['fpr']:.3f})" \
        in text


# --- 02a section 4: fasting blood sugar above 120 mg/dl -----------------------------------------------------


def test_fasting_sugar_root_cause_figures(raw, prose):
    status = raw["status"]
    counts = status.value_counts()
    assert "the American Diabetes Association's threshold is 126 mg/dl, confirmed by a repeat test" in prose
    assert "diabetic patients" not in prose.replace('"performs worse for diabetic patients"', "")
    assert f"{counts[HIGH]} FBS > 120 patients against {counts[LOW]} FBS ≤ 120" in prose
    va = raw["site"] == "VA Long Beach"
    assert (f"**{100 * va[status == HIGH].mean():.0f} % of the FBS > 120 patients come from VA Long Beach** "
            f"({(va & (status == HIGH)).sum()} of {counts[HIGH]}) against "
            f"{100 * va[status == LOW].mean():.0f} % of the FBS ≤ 120 ones") in prose
    assert f"{((raw['site'] == 'Switzerland') & (status == 'not recorded')).sum()} of the {counts['not recorded']}" in prose
    prevalence = raw.groupby("status")["disease"].mean()
    assert (f"{100 * prevalence[HIGH]:.0f} % of the FBS > 120 patients have disease against "
            f"{100 * prevalence[LOW]:.0f} % of the FBS ≤ 120 ones") in prose
    within = raw.groupby(["site", "status"])["disease"].mean()
    assert (f"at Cleveland the prevalence is {100 * within['Cleveland', HIGH]:.0f} % against "
            f"{100 * within['Cleveland', LOW]:.0f} %") in prose
    assert (f"at VA Long Beach {100 * within['VA Long Beach', HIGH]:.0f} % against "
            f"{100 * within['VA Long Beach', LOW]:.0f} %") in prose
    # Hungary: the one site where the gap is large, and an exact test says it is unlikely to be chance
    hungary = raw[raw["site"] == "Hungary"]
    cases = {g: (int(hungary.loc[hungary["status"] == g, "disease"].sum()), int((hungary["status"] == g).sum()))
             for g in (HIGH, LOW)}
    table = [[cases[g][0], cases[g][1] - cases[g][0]] for g in (HIGH, LOW)]
    p_value = fisher_exact(table).pvalue
    assert (f"at Hungary it is {100 * cases[HIGH][0] / cases[HIGH][1]:.0f} % against "
            f"{100 * cases[LOW][0] / cases[LOW][1]:.0f} % ({cases[HIGH][0]} of {cases[HIGH][1]} against {cases[LOW][0]} of "
            f"{cases[LOW][1]}; Fisher's exact test p = {p_value:.3f})") in prose and p_value < 0.05
    missing = raw[["max_heart_rate", "resting_bp"]].isna().groupby(status).mean()
    assert (f"maximum heart rate is missing for {100 * missing.loc[HIGH, 'max_heart_rate']:.0f} % of them against "
            f"{100 * missing.loc[LOW, 'max_heart_rate']:.0f} %") in prose
    assert (f"resting blood pressure for {100 * missing.loc[HIGH, 'resting_bp']:.0f} % against "
            f"{100 * missing.loc[LOW, 'resting_bp']:.0f} %") in prose
    means = raw.groupby("status")[["age", "resting_bp"]].mean()
    assert f"older ({means.loc[HIGH, 'age']:.1f} against {means.loc[LOW, 'age']:.1f} years)" in prose
    assert f"({means.loc[HIGH, 'resting_bp']:.1f} against {means.loc[LOW, 'resting_bp']:.1f} mmHg)" in prose


def test_fasting_sugar_model_differences_out_of_fold(raw, prose):
    oof = pd.read_csv(DATA / "heart_baseline_predictions.csv")["baseline_score"].to_numpy()
    y, pred = raw["disease"].to_numpy(), (oof >= 0.5).astype(int)
    per = {s: rates(y[m], pred[m], oof[m]) for s in (HIGH, LOW) for m in [(raw["status"] == s).to_numpy()]}
    d, n = per[HIGH], per[LOW]
    assert f"the AUC is lower ({d['auc']:.3f} against {n['auc']:.3f})" in prose
    assert f"(FPR {d['fpr']:.3f} against {n['fpr']:.3f})" in prose
    assert f"(FNR {d['fnr']:.3f} against {n['fnr']:.3f})" in prose
    # the profile's interval: each group's own patients resampled, as 02a's Exercise 7 asks
    mine = (raw["status"] == HIGH).to_numpy()
    yy, ss = y[mine], oof[mine]
    rows = np.random.default_rng(0).integers(0, len(yy), size=(1000, len(yy)))
    aucs = [roc_auc_score(yy[r], ss[r]) for r in rows]
    low, high = np.quantile(aucs, [0.025, 0.975])
    assert f"and {low:.3f}–{high:.3f} in the profile" in prose


# --- graded items ---------------------------------------------------------------------------------------


def questions():
    return {qid: q for qid, q in QUESTIONS.items() if q.notebook in ("02a", "02b")}


def test_code_answers_carry_at_least_70_percent_of_the_points_and_values_are_first_steps(notebook, prose):
    points = {qid: q.points for qid, q in questions().items()}
    code = sum(q.points for q in questions().values() if q.answer_type == "code")
    assert code / sum(points.values()) >= 0.7
    part = {name: [q for q in questions().values() if q.notebook == name] for name in ("02a", "02b")}
    audit_code, audit_total = (sum(q.points for q in part["02a"] if q.answer_type == "code"),
                               sum(q.points for q in part["02a"]))
    assert (f"Code answers carry {audit_code} of the {audit_total} auto-graded points "
            f"({audit_code / audit_total:.0%})").replace("%", " %") in prose
    assert all(q.answer_type == "code" for q in part["02b"])
    assert f"Every auto-graded point ({sum(q.points for q in part['02b'])}) is for code." in prose
    assert (audit_code, audit_total, code, sum(points.values())) == (13, 16, 42, 45)
    graded = [c.metadata.nbgrader["grade_id"] for c in notebook.cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    values = [i for i, qid in enumerate(graded) if questions()[qid].answer_type == "value"]
    assert values == [0, 1, 5], "value questions open notebook 02a and its fasting-sugar section"


def visible_before(notebook, grade_id):
    """Every text a learner sees before answering: Markdown and course outputs up to the answer cell."""
    texts = []
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == f"{grade_id}-answer":
            return "\n".join(texts)
        if cell.cell_type == "markdown" and not cell.metadata.get("nbgrader", {}).get("solution"):
            texts.append(cell.source)
        for output in cell.get("outputs", []) if cell.cell_type == "code" and not cell.metadata.get("nbgrader") else []:
            texts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    raise AssertionError(f"no answer cell for {grade_id}")


@pytest.mark.parametrize("grade_id", ["debias-validation-women-with-disease", "debias-baseline-validation-auc",
                                      "debias-high-sugar-va-share"])
def test_no_value_answer_is_on_screen_before_it_is_answered(notebook, grade_id):
    expected = load_hidden("02a").values[grade_id].expected()  # the instructor's material computes value answers
    shown = visible_before(notebook, grade_id)
    if isinstance(expected, int):
        forms = [rf"(?<![\d.]){expected}(?![\d.])"]
    else:
        forms = [rf"(?<![\d.]){expected:.3f}(?!\d)", rf"(?<![\d.]){expected:.2f}(?!\d)",
                 rf"(?<![\d.]){100 * expected:.0f} ?%", rf"(?<![\d.]){100 * expected:.1f} ?%"]
    for form in forms:
        assert not re.search(form, shown), (grade_id, form)


@pytest.fixture(scope="module")
def answers(notebook):
    """The solution's answers: its setup cell, then every answer cell, run in one namespace."""
    namespace = {}
    for path in (AUDIT, SOLUTION):  # each part's setup cell
        setup = nbformat.read(path, as_version=4).cells[2].source
        exec(compile(setup, f"setup {path.stem}", "exec"), namespace)  # noqa: S102 -- the course's own notebook
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            exec(compile(cell.source, cell.metadata.nbgrader["grade_id"], "exec"), namespace)  # noqa: S102
    return namespace


def test_every_solution_answer_passes(answers):
    for qid, question in questions().items():
        answer = answers[question.name] if question.answer_type == "code" else answers[_value_name(qid)]
        result = checks.evaluate(qid, answer)
        assert result.passed, result.message


def _value_name(grade_id):
    return {"debias-validation-women-with-disease": "women_with_disease_validation",
            "debias-baseline-validation-auc": "baseline_validation_auc",
            "debias-high-sugar-va-share": "va_share_high_sugar"}[grade_id]


def feedback(question_id, answer):
    result = checks.evaluate(question_id, answer)
    assert result.status == "wrong", (question_id, result.message)
    return result.message


def test_audit_and_gap_mistakes_are_recognised(answers):
    from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate, true_positive_rate

    def library_zeros(y_true, y_pred, sensitive_features):
        return MetricFrame(metrics={"count": lambda y, p: len(y), "base_rate": lambda y, p: np.mean(y),
                                    "selection_rate": selection_rate, "tpr": true_positive_rate,
                                    "fpr": false_positive_rate, "fnr": false_negative_rate,
                                    "ppv": lambda y, p: np.asarray(y)[np.asarray(p) == 1].mean() if np.any(p) else 0.0},
                           y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)

    assert "Undefined is not 0" in feedback("debias-audit-function", library_zeros)

    def signed(by_group):
        first, last = by_group.iloc[0], by_group.iloc[-1]
        return {"fnr_gap": last["fnr"] - first["fnr"], "equalized_odds_difference": 0.0,
                "demographic_parity_difference": 0.0, "predictive_parity_difference": 0.0}

    def mean_of_two(by_group):
        gaps = answers["fairness_gaps"](by_group)
        spread = lambda c: by_group[c].max() - by_group[c].min()  # noqa: E731
        return {**gaps, "equalized_odds_difference": (spread("tpr") + spread("fpr")) / 2}

    assert "never negative" in feedback("debias-gaps-function", signed)
    assert "averages or adds" in feedback("debias-gaps-function", mean_of_two)


def test_formula_and_mitigation_mistakes_are_recognised(answers):
    assert "wrong term" in feedback("debias-ppv-function",
                                    lambda tpr, fpr, prevalence: tpr * (1 - prevalence) / (tpr * (1 - prevalence) + fpr * prevalence))
    assert "leaves the prevalence out" in feedback("debias-ppv-function",
                                                   lambda tpr, fpr, prevalence: tpr / (tpr + fpr) if tpr + fpr else 0.0)
    assert "inverted" in feedback("debias-reweighing-weights-function",
                                  lambda data, group_col, outcome_col, privileged_group: 1 / answers["reweighing_weights"](
                                      data, group_col, outcome_col, privileged_group))
    assert "group-balancing" in feedback(
        "debias-reweighing-weights-function", lambda data, group_col, outcome_col, privileged_group: (
            len(data) / (data[group_col].nunique() * data[group_col].map(data[group_col].value_counts()))).to_numpy())

    def ignores_weights(model, X, y, sample_weight, strength=1.0):
        from sklearn.base import clone

        return clone(model).fit(X, y)

    def in_place(model, X, y, sample_weight, strength=1.0):
        return answers["fit_reweighed"](model, X, y, sample_weight, strength).__class__  # a class, not a model

    assert "never reached the classifier" in feedback("debias-reweighed-fit-function", ignores_weights)
    fits_given = checks.evaluate("debias-reweighed-fit-function",
                                 lambda model, X, y, sample_weight, strength=1.0: model.fit(X, y))
    assert fits_given.status == "invalid" and "clone(model)" in fits_given.message
    assert "0/1 labels" in feedback("debias-adversarial-function", lambda *args, **kwargs: (
        answers["adversarial_scores"](*args, **kwargs) >= 0.5).astype(float))


def test_fnr_ceiling_mistakes_are_recognised(answers):
    right = answers["thresholds_for_fnr"]

    def per_group(y_true, scores, sensitive_features):
        y, s, g = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
        return {name: (np.sort(s[(g == name) & (y == 1)]), int((g == name).sum())) for name in sorted(set(g))}

    def off_by_one(y_true, scores, *, sensitive_features, max_fnr):
        out = {}
        for name, (sick_scores, _) in per_group(y_true, scores, sensitive_features).items():
            k = int(np.floor(max_fnr * len(sick_scores) + 1e-9))
            out[name] = sick_scores[max(k - 1, 0)] if len(sick_scores) else np.nan
        return pd.Series(out)

    def over_everyone(y_true, scores, *, sensitive_features, max_fnr):
        out = {}
        for name, (sick_scores, n) in per_group(y_true, scores, sensitive_features).items():
            k = int(np.floor(max_fnr * n + 1e-9))
            out[name] = sick_scores[min(k, len(sick_scores) - 1)] if len(sick_scores) else np.nan
        return pd.Series(out)

    def zero_for_undefined(y_true, scores, *, sensitive_features, max_fnr):
        return right(y_true, scores, sensitive_features=sensitive_features, max_fnr=max_fnr).fillna(0.0)

    def strictly_above(y_true, scores, *, sensitive_features, max_fnr):
        # a search over the group's scores, highest first, with "flagged when score > t"
        y, s, g = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
        out = {}
        for name in sorted(set(g)):
            sick_scores = s[(g == name) & (y == 1)]
            fine = [t for t in np.sort(s[g == name])[::-1] if len(sick_scores) and (sick_scores <= t).mean() <= max_fnr]
            out[name] = fine[0] if fine else np.nan
        return pd.Series(out)

    assert "off-by-one" in feedback("debias-fnr-target-function", off_by_one)
    assert "divides by every patient" in feedback("debias-fnr-target-function", over_everyone)
    assert "return NaN" in feedback("debias-fnr-target-function", zero_for_undefined)
    assert "score > t" in feedback("debias-fnr-target-function", strictly_above)


def test_choice_and_report_mistakes_are_recognised(answers):
    def keeps_ties(points, maximise="auc", minimise="fnr_gap"):
        # "dominated" read as "strictly worse on both": a row tied on one objective is kept
        rows = points[[maximise, minimise]].dropna()
        return rows[[not ((rows[maximise] > up) & (rows[minimise] < down)).any()
                     for up, down in zip(rows[maximise], rows[minimise])]]

    def drops_twins(points, maximise="auc", minimise="fnr_gap"):
        return answers["pareto_front"](points, maximise, minimise).drop_duplicates()

    def smallest_gap(points, max_gap, min_auc):
        eligible = points[(points["fnr_gap"] <= max_gap) & (points["auc"] >= min_auc)]
        return eligible["fnr_gap"].idxmin()

    def per_patient(y_true, y_pred, sensitive_features):
        table = answers["rates_per_1000"](y_true, y_pred, sensitive_features)
        shares = pd.Series(np.asarray(y_true)).groupby(np.asarray(sensitive_features)).mean()
        return table.assign(missed_per_1000=table["missed_per_1000"] * shares.reindex(table.index))

    def reversed_sign(*args, **kwargs):
        result = answers["paired_bootstrap_change"](*args, **kwargs)
        return {**result, "gap_change": -result["gap_change"]}

    assert "dominated row" in feedback("debias-pareto-function", keeps_ties)
    assert "identical twin" in feedback("debias-pareto-function", drops_twins)
    assert "smallest gap" in feedback("debias-select-function", smallest_gap)
    assert "per 1,000 patients of the group" in feedback("debias-per-1000-function", per_patient)
    assert "wrong sign" in feedback("debias-paired-bootstrap-function", reversed_sign)


def test_aequitas_and_profile_mistakes_are_recognised(answers):
    def inverted(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
        table = answers["parity_verdicts"](by_group, reference_group, metrics, low, high)
        for metric in metrics:
            table[f"{metric}_disparity"] = by_group.loc[reference_group, metric] / by_group[metric]
        return table

    def differences(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
        table = answers["parity_verdicts"](by_group, reference_group, metrics, low, high)
        for metric in metrics:
            table[f"{metric}_disparity"] = by_group[metric] - by_group.loc[reference_group, metric]
        return table

    def wald(*args, **kwargs):
        table = answers["subgroup_profile"](*args, **kwargs)
        half = 1.959963984540054 * np.sqrt(table["prevalence"] * (1 - table["prevalence"]) / table["n"])
        return table.assign(prevalence_ci_low=table["prevalence"] - half, prevalence_ci_high=table["prevalence"] + half)

    assert "inverted" in feedback("debias-parity-verdicts-function", inverted)
    assert "differences" in feedback("debias-parity-verdicts-function", differences)
    assert "Wald" in feedback("debias-subgroup-profile-function", wald)


def test_value_mistakes_are_recognised(split, validation_baseline, test_report):
    assert "test patients' count" in feedback("debias-validation-women-with-disease", 12)
    assert "every woman in the validation set" in feedback("debias-validation-women-with-disease", 49)
    test_auc = roc_auc_score(test_report["patients"]["disease"], test_report["baseline"][0])
    accuracy = (split["validation"]["disease"].to_numpy() == validation_baseline[1]).mean()
    assert "AUC on the test patients" in feedback("debias-baseline-validation-auc", round(test_auc, 4))
    assert "accuracy" in feedback("debias-baseline-validation-auc", round(accuracy, 3))


# --- no choice touches the test patients ----------------------------------------------------------------


def _build_module():
    spec = importlib.util.spec_from_file_location("build_debiasing_data", DATA / "raw" / "build_debiasing_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_shuffling_the_test_labels_leaves_the_shipped_data_unchanged():
    from course_utils.data import load_heart

    build = _build_module()
    heart = load_heart()
    split = build.split_patients(heart)
    inputs, predictions = build.build(heart, split)
    assert build.csv_bytes(inputs) == (DATA / "heart_model_inputs.csv").read_bytes()
    # TensorFlow's adversarial scores may differ a little on another processor (build.ADVERSARIAL_SCORE_TOLERANCE);
    # nothing else may
    assert build.same_predictions(pd.read_csv(DATA / "heart_debiasing_predictions.csv"),
                                  pd.read_csv(io.BytesIO(build.csv_bytes(predictions))))
    shuffled = heart.copy()
    test = (split == "test").to_numpy()
    shuffled.loc[test, "disease"] = np.random.default_rng(1).permutation(heart.loc[test, "disease"].to_numpy())
    assert not shuffled["disease"].equals(heart["disease"])
    again_inputs, again_predictions = build.build(shuffled, split)
    pd.testing.assert_frame_equal(again_inputs, inputs)
    pd.testing.assert_frame_equal(again_predictions, predictions)


def test_the_predictions_comparison_allows_only_the_processors_share_of_adversarial_noise():
    build = _build_module()
    shipped = pd.read_csv(DATA / "heart_debiasing_predictions.csv")
    assert build.same_predictions(shipped, shipped.copy())
    adversarial = shipped.index[shipped["method"] == "adversarial"][0]
    other = shipped.index[shipped["method"] == "baseline"][0]
    for row, change, same in ((adversarial, 0.9 * build.ADVERSARIAL_SCORE_TOLERANCE, True),
                              (adversarial, 1.1 * build.ADVERSARIAL_SCORE_TOLERANCE, False), (other, 1e-6, False)):
        fresh = shipped.copy()
        fresh.loc[row, "score"] += change
        assert build.same_predictions(shipped, fresh) is same, (row, change)
    flipped = shipped.copy()
    flipped.loc[adversarial, "decision"] = 1 - flipped.loc[adversarial, "decision"]
    assert not build.same_predictions(shipped, flipped)


CHOICES = """
import json as _json
_front = pareto_front(worst)
_thresholds = fit_group_thresholds(baseline, validation[features], validation["disease"], validation["sex"])
print("CHOICES " + _json.dumps({
    "women_with_disease_validation": women_with_disease_validation,
    "baseline_validation_auc": round(float(baseline_validation_auc), 12),
    "weights": [round(float(w), 12) for w in reweighing_weights(train, "sex", "disease", "Male")],
    "thresholds": {str(k): [round(float(v["operation0"].threshold), 12), round(float(v["p0"]), 12)]
                   for k, v in _thresholds.interpolated_thresholder_.interpolation_dict.items()},
    "sweep": sweep.round(12).to_json(),
    "front": sorted(_front["setting"]),
    "choice": worst.loc[select_point(worst, max_gap=0.05, min_auc=worst.loc[0, "auc"] - 0.02), "setting"],
}))
"""

SHUFFLE = """
_rng = np.random.default_rng(1)
_test = (inputs["split"] == "test").to_numpy()
inputs.loc[_test, "disease"] = _rng.permutation(inputs.loc[_test, "disease"].to_numpy())
train, validation, test = (inputs[inputs["split"] == name] for name in ("train", "validation", "test"))
"""


def _choices(shuffle):
    """Run 02a's audit (sections 0-3) and 02b up to the end of its section 4 (every choice) in one kernel, optionally
    shuffling the test labels after each part's setup cell."""
    from nbclient import NotebookClient

    cells = []
    for path, report in ((AUDIT, "## 4 ·"), (SOLUTION, "## 5 ·")):
        part = nbformat.read(path, as_version=4)
        end = next(i for i, cell in enumerate(part.cells) if cell.source.startswith(report))
        code = [nbformat.v4.new_code_cell(cell.source) for cell in part.cells[:end] if cell.cell_type == "code"]
        if shuffle:
            code.insert(1, nbformat.v4.new_code_cell(SHUFFLE))  # after the setup cell
        cells += code
    run = nbformat.v4.new_notebook(cells=[*cells, nbformat.v4.new_code_cell(CHOICES)])
    NotebookClient(run, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(SOLUTION.parent)}}).execute()
    printed = "".join(o.get("text", "") for o in run.cells[-1].outputs)
    return json.loads(printed.split("CHOICES ", 1)[1])


@pytest.mark.slow
def test_shuffling_the_test_labels_leaves_every_choice_unchanged():
    plain, shuffled = _choices(False), _choices(True)
    assert plain["choice"] == "reweighing 0.75" and plain["front"] == ["reweighing 0.75", "threshold 0"]
    assert plain == shuffled


def test_the_sections_after_the_choice_only_report():
    # Every cell of 02a's audit (sections 0-3) and of 02b before its report (section 5) that reads patients reads
    # train, validation or cross-fitted patients only, and 02b's section 5 onwards fits nothing: no `.fit(` on test
    # rows, no choice variable reassigned.  (02a's section 4 diagnoses the data on all 920 patients; it chooses
    # nothing.)
    audit = nbformat.read(AUDIT, as_version=4)
    source = nbformat.read(SOLUTION, as_version=4)
    audit_end = next(i for i, cell in enumerate(audit.cells) if cell.source.startswith("## 4 ·"))
    end = next(i for i, cell in enumerate(source.cells) if cell.source.startswith("## 5 ·"))
    for cell in audit.cells[3:audit_end] + source.cells[3:end]:
        if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" not in cell.source:
            assert "test[" not in cell.source and "'test'" not in cell.source.replace('"', "'").replace(
                "split'] == 'test'", ""), cell.source[:80]
    for cell in source.cells[end:]:
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader"):
            tree = ast.parse(cell.source)
            assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                        if isinstance(t, ast.Name)}
            assert not assigned & {"chosen_setting", "worst", "sweep", "front", "thresholds"}, cell.source[:80]
            assert ".fit(" not in cell.source, cell.source[:80]


def test_the_learner_notebook_continues_from_the_course_and_says_what_is_unwritten():
    text = "\n".join(cell.source for path in LEARNERS for cell in nbformat.read(path, as_version=4).cells)
    assert text.count("is not written yet") >= 10
    assert 'chosen_setting = "reweighing 0.75"' in text


def test_decision_mistakes_are_named_on_the_public_cases(answers):
    """The two decisions' public cases tell each usual mistake apart, in the learner's words."""
    def on_point_estimate(points, resamples, min_auc):
        return points[points["auc"] >= min_auc]["fnr_gap"].idxmin()

    def by_separate_intervals(points, resamples, min_auc):
        qualifying = points[points["auc"] >= min_auc]
        best = qualifying["fnr_gap"].idxmin()
        wide = resamples.pivot(index="resample", columns="setting", values="fnr_gap")
        for other in qualifying.index.drop(best):
            if np.nanquantile(wide[best], 0.975) >= np.nanquantile(wide[other], 0.025):
                return "cannot tell"
        return best

    def without_the_floor(points, resamples, min_auc):
        return answers["choose_setting"](points, resamples, -np.inf)

    def never_chance(data):
        said = answers["gap_root_cause"](data)
        return "representation" if said == "chance" else said

    def always_representation(data):
        return "representation"

    assert "could be chance" in feedback("debias-choose-decision-function", on_point_estimate)
    assert "separate intervals that overlap" in feedback("debias-choose-decision-function", by_separate_intervals)
    assert "below min_auc" in feedback("debias-choose-decision-function", without_the_floor)
    assert "test the gap before looking for its cause" in feedback("debias-root-cause-decision-function", never_chance)
    assert "confirmed one" in feedback("debias-root-cause-decision-function", always_representation)
    for question_id, name in (("debias-choose-decision-function", "choose_setting"),
                              ("debias-root-cause-decision-function", "gap_root_cause")):
        assert checks.evaluate(question_id, answers[name]).passed
