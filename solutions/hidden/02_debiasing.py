"""Hidden material of notebook 02's two parts (02a the audit, 02b the de-biasing pipeline): instructor-only, never
in the learner edition or a sandbox.

Value answers are computed from the shipped CSVs read with plain pandas, not with the course's loaders;
the AUC is counted over (sick, healthy) pairs, not taken from scikit-learn.

The code questions' hidden cases run the learner's functions on the shipped CSVs read with plain pandas and on
seeded simulated data: other columns, groups and categories, empty groups, groups without positives, ties and
NaN.  Their references are computed here, independently of the solution: counted with plain pandas / NumPy, by
brute force (the Pareto front, the FNR ceiling), in exact fractions (PPV), or by the libraries themselves --
fairlearn's ThresholdOptimizer, aif360's AdversarialDebiasing in a TensorFlow session of its own (once per
process), Aequitas's audit.

The two decisions (choose a setting or "cannot tell"; the root cause of a gap) are judged on simulated audits with
a planted truth, drawn by the learner's generators at seeds and settings of their own; only scenarios on which
every valid test agrees with the planted truth are kept, and each one decided wrongly costs an eighth of the points.
"""

import functools
import hashlib
import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pandas as pd

from course_utils.data import heart_data_path
from course_utils.exercises.questions.debiasing import CANNOT_TELL, NO_ROW
from course_utils.instructor.cases import (HiddenCase, Value, decision_check, decision_score, first_clear,
                                          in_no_telling_order)
from course_utils.scenarios import root_cause_scenario, sweep_scenario


def raw_heart() -> pd.DataFrame:
    return pd.read_csv(heart_data_path())


def shipped(name: str) -> pd.DataFrame:
    """Another shipped CSV beside the heart data, read with plain pandas."""
    return pd.read_csv(heart_data_path().with_name(name))


def patients() -> pd.DataFrame:
    """Every patient with their split, sex and disease (diagnosis > 0)."""
    raw = raw_heart()
    split = shipped("heart_model_inputs.csv")["split"].to_numpy()
    return pd.DataFrame({"patient_id": raw["patient_id"], "split": split, "sex": raw["sex"],
                         "disease": (raw["diagnosis"] > 0).astype(int)})


def women_with_disease(split=None, sex="Female", disease=1) -> int:
    people = patients()
    chosen = (people["split"] == split) if split else True
    return int(((people["sex"] == sex) & (people["disease"] == disease) & chosen).sum())


def pair_auc(split: str, column: str = "score") -> float:
    """The baseline's AUC on one split: the share of (sick, healthy) pairs ranked right, ties counting half."""
    predictions = shipped("heart_debiasing_predictions.csv")
    rows = predictions[(predictions["method"] == "baseline") & (predictions["split"] == split)]
    sick = rows["patient_id"].map(patients().set_index("patient_id")["disease"]).to_numpy() == 1
    values = rows[column].to_numpy(dtype=float)
    pairs = values[sick][:, None] - values[~sick][None, :]
    return float((pairs > 0).mean() + 0.5 * (pairs == 0).mean())


def baseline_accuracy(split: str) -> float:
    predictions = shipped("heart_debiasing_predictions.csv")
    rows = predictions[(predictions["method"] == "baseline") & (predictions["split"] == split)]
    disease = rows["patient_id"].map(patients().set_index("patient_id")["disease"])
    return float((rows["decision"].to_numpy() == disease.to_numpy()).mean())


def with_sugar_status() -> pd.DataFrame:
    """Each patient's fasting blood sugar group (> 120 mg/dl or not, as the notebook names them), read as text."""
    raw = raw_heart()
    return raw.assign(status=raw["fasting_blood_sugar_high"].astype(str).map(
        {"True": "FBS > 120", "False": "FBS <= 120"}).fillna("not recorded"))


def va_share(status="FBS > 120") -> float:
    data = with_sugar_status()
    return float((data.loc[data["status"] == status, "site"] == "VA Long Beach").mean())


def high_sugar_share_at_va() -> float:
    data = with_sugar_status()
    return float((data.loc[data["site"] == "VA Long Beach", "status"] == "FBS > 120").mean())


VALUES = {
    "debias-validation-women-with-disease": Value(
        expected=lambda: women_with_disease("validation"),
        wrong={"test": lambda: women_with_disease("test"), "train": lambda: women_with_disease("train"),
               "every woman": lambda: int(((patients()["split"] == "validation") & (patients()["sex"] == "Female")).sum()),
               "all patients": lambda: women_with_disease(None), "men": lambda: women_with_disease("validation", "Male")},
    ),
    "debias-baseline-validation-auc": Value(
        expected=lambda: pair_auc("validation"),
        wrong={"accuracy": lambda: baseline_accuracy("validation"), "test": lambda: pair_auc("test"),
               "decisions": lambda: pair_auc("validation", "decision")},
    ),
    "debias-high-sugar-va-share": Value(
        expected=lambda: va_share("FBS > 120"),
        wrong={"high-sugar share at VA": high_sugar_share_at_va, "FBS <= 120": lambda: va_share("FBS <= 120"),
               "count": lambda: int(((with_sugar_status()["status"] == "FBS > 120")
                                     & (with_sugar_status()["site"] == "VA Long Beach")).sum())},
    ),
}

# --- code questions: hidden cases -------------------------------------------------------------------------------
#
# Every input is built here, from the shipped CSVs read with plain pandas or from seeded generators; every
# reference is computed here, from the inputs as the learner's code receives them, with plain pandas / NumPy
# or with the library itself (fairlearn, aif360, Aequitas) -- never with the solution's function.


def _heart() -> pd.DataFrame:
    """The shipped heart data with the outcome as 0/1 (``sick``) and notebook 01's out-of-fold scores."""
    raw = raw_heart()
    oof = shipped("heart_baseline_predictions.csv")
    return raw.assign(sick=(raw["diagnosis"] > 0).astype(int), baseline_score=oof["baseline_score"].to_numpy(),
                      balanced_score=oof["balanced_score"].to_numpy())


def _baseline_validation() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The course baseline's validation scores, each patient's disease (0/1) and sex, from the shipped files."""
    predictions = shipped("heart_debiasing_predictions.csv")
    rows = predictions[(predictions["method"] == "baseline") & (predictions["split"] == "validation")]
    people = raw_heart().set_index("patient_id").loc[rows["patient_id"]]
    return ((people["diagnosis"] > 0).astype(int).to_numpy(), rows["score"].to_numpy(dtype=float),
            people["sex"].to_numpy(dtype=str))


def _share(hit: np.ndarray, among: np.ndarray) -> float:
    """The share of ``among`` where ``hit`` holds, counted; NaN when ``among`` is empty (undefined, not 0)."""
    count = int(among.sum())
    return int((hit & among).sum()) / count if count else math.nan


def _groups(values) -> list:
    return sorted(pd.unique(np.asarray(values)).tolist(), key=str)


def _nan_for(*groups):
    """A property: these groups' values are NaN (the answer's table, Series or dict, read by group name)."""
    def check(output, inputs):
        if hasattr(output, "columns") and len(output.columns) == 1:
            output = output.iloc[:, 0]
        values = {str(key).strip().lower(): value for key, value in
                  (output.to_dict() if hasattr(output, "to_dict") else dict(output)).items()}
        for group in groups:
            if str(group).lower() not in values:
                return f"the result has no value for the group {group!r}"
            value = values[str(group).lower()]
            if not (value is None or (isinstance(value, float) and math.isnan(value))):
                return f"the group {group!r} has nobody with the condition, so its value is undefined: NaN expected, " \
                       f"{value!r} returned"
        return None
    return check


def _rows_sorted(group_input: str, column: str | None = None):
    """A property: one row per group, in sorted order (as the exercise's docstring says)."""
    def check(output, inputs):
        values = inputs[group_input][column] if column else inputs[group_input]
        wanted = [str(group) for group in _groups(values)]
        if not hasattr(output, "index") or not hasattr(output, "columns"):
            return "a pandas DataFrame with one row per group was expected"
        given = [str(label) for label in output.index]
        if given != wanted:
            return f"the rows should be the groups in sorted order, {wanted}; they are {given[:8]}"
        return None
    return check


# --- audit_by_group ---------------------------------------------------------------------------------------------

AUDIT_COLUMNS = ("count", "base_rate", "selection_rate", "tpr", "fpr", "fnr", "ppv")


def audit_reference(y_true, y_pred, sensitive_features) -> dict:
    """Every rate of every group, counted with NumPy: {column: {group: value}}."""
    y, p, g = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int), np.asarray(sensitive_features)
    table = {column: {} for column in AUDIT_COLUMNS}
    for group in _groups(g):
        mine = g == group
        sick, flagged = mine & (y == 1), mine & (p == 1)
        row = {"count": float(mine.sum()), "base_rate": _share(y == 1, mine), "selection_rate": _share(p == 1, mine),
               "tpr": _share(p == 1, sick), "fpr": _share(p == 1, mine & (y == 0)), "fnr": _share(p == 0, sick),
               "ppv": _share(y == 1, flagged)}
        for column, value in row.items():
            table[column][str(group)] = value
    return table


def _audit_sites():
    heart = _heart()
    return {"y_true": heart["sick"], "y_pred": (heart["max_heart_rate"].fillna(150) < 140).astype(int),
            "sensitive_features": heart["site"]}


def _audit_tiny():
    index = [10, 11, 12, 13, 14]
    return {"y_true": pd.Series([0, 0, 1, 1, 0], index=index), "y_pred": np.array([1, 0, 0, 0, 0]),
            "sensitive_features": pd.Series(["w", "w", "v", "v", "v"], index=index)}


def _audit_random():
    rng = np.random.default_rng(20261208)
    groups = rng.choice(["18-39", "40-54", "55-64", "65+"], 500, p=[0.15, 0.35, 0.3, 0.2])
    y = (rng.random(500) < np.where(groups == "65+", 0.6, 0.35)).astype(int)
    p = np.where(rng.random(500) < 0.7, y, 1 - y)
    return {"y_true": y, "y_pred": p, "sensitive_features": groups}


# --- fairness_gaps ----------------------------------------------------------------------------------------------

def gaps_reference(by_group) -> dict:
    """Largest minus smallest defined value of each rate (groups where it is NaN left out)."""
    def spread(column):
        values = [float(v) for v in by_group[column] if not pd.isna(v)]
        return max(values) - min(values)

    return {"fnr_gap": spread("fnr"), "equalized_odds_difference": max(spread("tpr"), spread("fpr")),
            "demographic_parity_difference": spread("selection_rate"), "predictive_parity_difference": spread("ppv")}


def gaps_by_site() -> pd.DataFrame:
    """fairlearn's own MetricFrame over the four sites, a flag from ST depression (one row per site)."""
    from fairlearn.metrics import (MetricFrame, false_negative_rate, false_positive_rate, selection_rate,
                                   true_positive_rate)

    heart = _heart()
    frame = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate, "fnr": false_negative_rate,
                                 "selection_rate": selection_rate, "ppv": lambda y, p: y[p == 1].mean()},
                        y_true=heart["sick"], y_pred=(heart["st_depression"].fillna(0) > 1).astype(int),
                        sensitive_features=heart["site"])
    return frame.by_group.astype(float).rename_axis("group").reset_index()


def _gaps_undefined():
    return {"by_group": pd.DataFrame({"group": ["p", "q", "r"], "tpr": [0.9, 0.5, np.nan], "fpr": [0.2, 0.6, 0.1],
                                      "fnr": [0.1, 0.5, np.nan], "selection_rate": [0.5, 0.5, 0.0],
                                      "ppv": [0.8, 0.4, np.nan]})}


def _gaps_random(seed, groups):
    rng = np.random.default_rng(seed)
    tpr = rng.uniform(0.5, 0.95, len(groups))
    return {"by_group": pd.DataFrame({"group": groups, "tpr": tpr, "fpr": rng.uniform(0.02, 0.4, len(groups)),
                                      "fnr": 1 - tpr, "selection_rate": rng.uniform(0.2, 0.7, len(groups)),
                                      "ppv": rng.uniform(0.5, 0.9, len(groups))})}


# --- ppv_from_rates ---------------------------------------------------------------------------------------------

def ppv_reference(tpr, fpr, prevalence) -> float:
    """Bayes' rule in exact fractions: flagged with the condition over everyone flagged (NaN if nobody is)."""
    tpr, fpr, prevalence = Fraction(tpr), Fraction(fpr), Fraction(prevalence)
    flagged = tpr * prevalence + fpr * (1 - prevalence)
    return float(tpr * prevalence / flagged) if flagged else math.nan


def _ppv_counted():
    """10,000 simulated patients: 3,000 with the condition, 80 % of them flagged; 25 % of the 7,000 others."""
    return {"tpr": 2400 / 3000, "fpr": 1750 / 7000, "prevalence": 3000 / 10000}


def _ppv_random(seed):
    rng = np.random.default_rng(seed)
    return {"tpr": float(rng.uniform(0.3, 1)), "fpr": float(rng.uniform(0, 0.5)), "prevalence": float(rng.uniform(0.01, 0.9))}


# --- reweighing_weights -----------------------------------------------------------------------------------------

def reweighing_reference(data, group_col, outcome_col, privileged_group) -> list:
    """Kamiran & Calders: P(group) P(outcome) / P(group, outcome), every probability a count of rows."""
    group = pd.Series((data[group_col] == privileged_group).to_numpy())
    outcome = pd.Series(data[outcome_col].to_numpy())
    cell = pd.Series(list(zip(group, outcome)))
    weights = (group.map(group.value_counts(normalize=True)).to_numpy()
               * outcome.map(outcome.value_counts(normalize=True)).to_numpy()
               / cell.map(cell.value_counts(normalize=True)).to_numpy())
    return weights.tolist()


def _cleveland_by_sex():
    heart = _heart()
    return {"data": heart[heart["site"] == "Cleveland"], "group_col": "sex", "outcome_col": "sick",
            "privileged_group": "Male"}


def _hungary_against_the_rest():
    return {"data": _heart().astype({"site": "category"}), "group_col": "site", "outcome_col": "sick",
            "privileged_group": "Hungary"}


def _reweighing_random():
    rng = np.random.default_rng(20261209)
    payer = rng.choice(["private", "public", "none"], 300, p=[0.6, 0.3, 0.1])
    return {"data": pd.DataFrame({"payer": payer, "readmitted": (rng.random(300) < np.where(payer == "none", 0.5, 0.2))
                                  .astype(int), "age": rng.integers(20, 90, 300)}),
            "group_col": "payer", "outcome_col": "readmitted", "privileged_group": "none"}


# --- fit_reweighed ----------------------------------------------------------------------------------------------

def reweighed_reference(X, y, sample_weight, strength, X_new, pipeline, C=1.0, max_iter=1000, last_step=None):  # noqa: N803
    """scikit-learn fitted directly with the weights 1 + strength (w - 1); for a pipeline the scaler is fitted
    unweighted and the weights go to the logistic regression alone."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    weights = 1 + strength * (np.asarray(sample_weight, dtype=float) - 1)
    X, X_new = np.asarray(X, dtype=float), np.asarray(X_new, dtype=float)  # noqa: N806
    with threadpool_limits(limits=1):
        if pipeline:
            scaler = StandardScaler().fit(X)
            X, X_new = scaler.transform(X), scaler.transform(X_new)  # noqa: N806
        model = LogisticRegression(C=C, max_iter=max_iter).fit(X, np.asarray(y), sample_weight=weights)
        return model.predict_proba(X_new)[:, 1].tolist()


def _reweighed_patients():
    rng = np.random.default_rng(20261201)
    X = pd.DataFrame(rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"])  # noqa: N806
    y = (X["a"] - X["c"] + rng.normal(size=300) > 0).astype(int)
    return X, y, rng.uniform(0.3, 3.0, 300)


def _reweighed_case(strength, pipeline, C=1.0, max_iter=1000, last_step=None):  # noqa: N803
    def build():
        X, y, weights = _reweighed_patients()  # noqa: N806
        return {"X": X, "y": y, "sample_weight": weights, "strength": strength, "X_new": X, "pipeline": pipeline,
                "C": C, "max_iter": max_iter, "last_step": last_step}
    return build


def _reweighed_course():
    """The course's training patients (notebook 02's encoded inputs), weights by sex and disease; validation to predict."""
    inputs = shipped("heart_model_inputs.csv")
    disease = (raw_heart()["diagnosis"] > 0).astype(int).to_numpy()
    features = [column for column in inputs.columns if column not in ("patient_id", "split")]
    train, validation = (inputs["split"] == "train").to_numpy(), (inputs["split"] == "validation").to_numpy()
    weights = reweighing_reference(pd.DataFrame({"sex": raw_heart()["sex"][train].to_numpy(), "sick": disease[train]}),
                                   "sex", "sick", "Male")
    return {"X": inputs.loc[train, features], "y": disease[train], "sample_weight": np.asarray(weights),
            "strength": 0.75, "X_new": inputs.loc[validation, features], "pipeline": False, "C": 1.0,
            "max_iter": 1000, "last_step": None}


# --- adversarial_scores -----------------------------------------------------------------------------------------

_ADVERSARIAL: dict = {}


def adversarial_reference(X_train, y_train, groups_train, X_new, groups_new, privileged_group,  # noqa: N803
                          adversary_loss_weight=0.1, seed=0, num_epochs=30) -> list:
    """aif360's AdversarialDebiasing built directly, in a TensorFlow session of its own (computed once per process)."""
    key = hashlib.sha256(repr((np.asarray(X_train).tolist(), np.asarray(y_train).tolist(),
                               np.asarray(groups_train).tolist(), np.asarray(X_new).tolist(),
                               np.asarray(groups_new).tolist(), privileged_group, adversary_loss_weight, seed,
                               num_epochs)).encode()).hexdigest()
    if key in _ADVERSARIAL:
        return list(_ADVERSARIAL[key])
    from course_utils.mitigation import load_aif360, tensorflow_session

    load_aif360()
    from aif360.algorithms.inprocessing import AdversarialDebiasing
    from aif360.datasets import BinaryLabelDataset

    def dataset(X, y, groups):  # noqa: N803
        frame = pd.DataFrame(np.asarray(X, dtype=float))
        frame.columns = [f"feature {i}" for i in range(frame.shape[1])]
        frame = frame.assign(p=(np.asarray(groups) == privileged_group).astype(float), y=np.asarray(y, dtype=float))
        return BinaryLabelDataset(df=frame, label_names=["y"], protected_attribute_names=["p"])

    with tensorflow_session() as session:
        model = AdversarialDebiasing(unprivileged_groups=[{"p": 0.0}], privileged_groups=[{"p": 1.0}],
                                     scope_name="reference", sess=session, seed=seed, debias=True,
                                     adversary_loss_weight=adversary_loss_weight, num_epochs=num_epochs,
                                     batch_size=32, classifier_num_hidden_units=50)
        model.fit(dataset(X_train, y_train, groups_train))
        scores = model.predict(dataset(X_new, np.zeros(len(X_new)), groups_new)).scores.ravel().tolist()
    _ADVERSARIAL[key] = scores
    return list(scores)


def _adversarial_course():
    """The course's training patients (notebook 02's encoded inputs) by sex; the validation patients are new."""
    inputs = shipped("heart_model_inputs.csv")
    raw = raw_heart()
    features = [column for column in inputs.columns if column not in ("patient_id", "split")]
    train, validation = (inputs["split"] == "train").to_numpy(), (inputs["split"] == "validation").to_numpy()
    return {"X_train": inputs.loc[train, features], "y_train": (raw.loc[train, "diagnosis"] > 0).astype(int),
            "groups_train": raw.loc[train, "sex"], "X_new": inputs.loc[validation, features],
            "groups_new": raw.loc[validation, "sex"], "privileged_group": "Male", "adversary_loss_weight": 0.2,
            "seed": 2, "num_epochs": 4}


def adversarial_patients():
    """200 simulated patients with a group-dependent outcome; the first 140 train, the last 60 are new."""
    rng = np.random.default_rng(20261202)
    X = rng.normal(size=(200, 3))  # noqa: N806
    groups = np.where(rng.random(200) < 0.4, "minority", "majority")
    y = (X[:, 0] + 0.9 * (groups == "majority") + rng.normal(scale=0.6, size=200) > 0.5).astype(int)
    return X, y, groups


def _adversarial_simulated():
    X, y, groups = adversarial_patients()  # noqa: N806
    return {"X_train": X[:140], "y_train": y[:140], "groups_train": groups[:140], "X_new": X[140:],
            "groups_new": groups[140:], "privileged_group": "majority", "adversary_loss_weight": 0.3, "seed": 4,
            "num_epochs": 8}


def _adversarial_tables():
    rng = np.random.default_rng(20261210)
    X = pd.DataFrame({"age": rng.normal(size=120), "bp": rng.normal(size=120)})  # noqa: N806
    groups = pd.Series(rng.choice(["F", "M"], 120, p=[0.35, 0.65]), name="sex")
    y = pd.Series((X["age"] - 0.8 * (groups == "F") + rng.normal(scale=0.7, size=120) > 0).astype(int), name="disease")
    return {"X_train": X.iloc[:90], "y_train": y.iloc[:90], "groups_train": groups.iloc[:90], "X_new": X.iloc[90:],
            "groups_new": groups.iloc[90:], "privileged_group": "M", "adversary_loss_weight": 0.05, "seed": 1,
            "num_epochs": 5}


# --- fit_group_thresholds ---------------------------------------------------------------------------------------

def thresholds_reference(X_train, y_train, X, y, sensitive_features, X_new, sensitive_features_new, tol=None,  # noqa: N803
                         random_state=0) -> list:
    """fairlearn's ThresholdOptimizer itself, on the same logistic regression the case's harness fits."""
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
        optimizer = ThresholdOptimizer(estimator=model, prefit=True, predict_method="predict_proba",
                                       constraints="true_positive_rate_parity", objective="balanced_accuracy_score",
                                       tol=tol).fit(X, y, sensitive_features=sensitive_features)
        return np.asarray(optimizer.predict(X_new, sensitive_features=sensitive_features_new,
                                            random_state=random_state), dtype=float).tolist()


def _thresholds_simulated(tol):
    def build():
        rng = np.random.default_rng(20261203)
        X = rng.normal(size=(600, 2))  # noqa: N806
        groups = rng.choice(["r", "s", "t"], 600, p=[0.5, 0.3, 0.2])
        y = (X[:, 0] + 0.7 * (groups == "r") + rng.normal(scale=0.8, size=600) > 0.3).astype(int)
        return {"X_train": X[:200], "y_train": y[:200], "X": X[200:400], "y": y[200:400],
                "sensitive_features": groups[200:400], "X_new": X[400:], "sensitive_features_new": groups[400:],
                "tol": tol, "random_state": 3}
    return build


def _thresholds_rare():
    """900 simulated patients, two groups, about one in six with the condition: accuracy and balanced accuracy part."""
    rng = np.random.default_rng(20261217)
    X = rng.normal(size=(900, 2))  # noqa: N806
    groups = rng.choice(["a", "b"], 900, p=[0.6, 0.4])
    y = (X[:, 0] + 0.5 * (groups == "a") + rng.normal(scale=0.8, size=900) > 1.6).astype(int)
    return {"X_train": X[:300], "y_train": y[:300], "X": X[300:600], "y": y[300:600],
            "sensitive_features": groups[300:600], "X_new": X[600:], "sensitive_features_new": groups[600:],
            "tol": None, "random_state": 0}


def _thresholds_course():
    """The course's patients: the model on the training patients, thresholds on validation, decisions for test."""
    inputs = shipped("heart_model_inputs.csv")
    raw = raw_heart()
    features = [column for column in inputs.columns if column not in ("patient_id", "split")]
    part = {name: (inputs["split"] == name).to_numpy() for name in ("train", "validation", "test")}
    disease = (raw["diagnosis"] > 0).astype(int)
    return {"X_train": inputs.loc[part["train"], features], "y_train": disease[part["train"]],
            "X": inputs.loc[part["validation"], features], "y": disease[part["validation"]],
            "sensitive_features": raw.loc[part["validation"], "sex"], "X_new": inputs.loc[part["test"], features],
            "sensitive_features_new": raw.loc[part["test"], "sex"], "tol": None, "random_state": 0}


# --- thresholds_for_fnr -----------------------------------------------------------------------------------------

def fnr_ceiling_reference(y_true, scores, sensitive_features, max_fnr) -> dict:
    """Brute force: every score of a group's patient with the condition tried as the threshold (flagged when
    score >= t), the FNR counted; the largest that misses at most max_fnr of them.  NaN for nobody to miss."""
    y, s, g = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
    found = {}
    for group in _groups(g):
        sick = s[(g == group) & (y == 1)]
        fine = [t for t in np.unique(sick) if (sick < t).sum() <= max_fnr * len(sick) + 1e-9]
        found[str(group)] = float(max(fine)) if len(sick) else math.nan
    return found


def _fnr_validation_by_sex():
    sick, score, sex = _baseline_validation()
    return {"y_true": sick, "scores": score, "sensitive_features": sex, "max_fnr": 0.3}


def _fnr_by_site():
    heart = _heart()
    return {"y_true": heart["sick"], "scores": heart["baseline_score"], "sensitive_features": heart["site"],
            "max_fnr": 0.1}


def _fnr_nobody():
    return {"y_true": pd.Series([1, 0, 0, 1]), "scores": pd.Series([0.8, 0.3, 0.6, 0.4]),
            "sensitive_features": pd.Series(["u", "v", "v", "u"]), "max_fnr": 0.5}


def _fnr_ties():
    rng = np.random.default_rng(20261207)
    groups = rng.choice(["p", "q", "r"], 300, p=[0.5, 0.3, 0.2])
    y = (rng.random(300) < np.where(groups == "p", 0.5, 0.3)).astype(int)
    scores = np.round(np.clip(0.35 * y + rng.normal(0.35, 0.2, 300), 0, 1), 1)
    return {"y_true": y, "scores": scores, "sensitive_features": groups, "max_fnr": 0.25}


def _fnr_everyone_may_be_missed():
    heart = _heart()
    return {"y_true": heart["sick"], "scores": heart["balanced_score"], "sensitive_features": heart["sex"],
            "max_fnr": 1.0}


# --- pareto_front -----------------------------------------------------------------------------------------------

def front_reference(points, maximise="auc", minimise="fnr_gap") -> list:
    """Brute force: every pair of defined rows compared; the labels of the rows nothing dominates, sorted."""
    rows = points[[maximise, minimise]].astype(float).dropna()
    high, low = rows[maximise].to_numpy(), rows[minimise].to_numpy()
    beaten = ((high[None, :] >= high[:, None]) & (low[None, :] <= low[:, None])
              & ((high[None, :] > high[:, None]) | (low[None, :] < low[:, None]))).any(axis=1)
    return sorted(_plain(label) for label in rows.index[~beaten])


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


@functools.cache
def _pareto_clouds() -> tuple:
    """Point clouds on a coarse grid (many ties and identical rows), two NaN each, drawn in sequence."""
    rng = np.random.default_rng(20261204)
    clouds = []
    for size in (5, 12, 40, 40, 80):
        cloud = pd.DataFrame({"auc": rng.integers(80, 90, size) / 100, "fnr_gap": rng.integers(0, 6, size) / 20},
                             index=[f"p{i}" for i in range(size)])
        cloud.iloc[rng.integers(0, size, 2), 1] = np.nan
        clouds.append(cloud)
    return tuple(clouds)


# --- select_point -----------------------------------------------------------------------------------------------

def select_reference(points, max_gap, min_auc):
    """Every row within both limits as (-auc, gap, position); the smallest wins.  No row: the answer None."""
    eligible = [(-auc, gap, position) for position, (auc, gap) in enumerate(zip(points["auc"], points["fnr_gap"]))
                if gap <= max_gap and auc >= min_auc]
    return _plain(points.index[min(eligible)[2]]) if eligible else NO_ROW


def _select_table():
    return pd.DataFrame({"auc": [0.86, 0.88, 0.88, 0.88, np.nan, 0.90], "fnr_gap": [0.01, 0.04, 0.03, 0.03, 0.0, 0.2]},
                        index=["a", "b", "c", "d", "e", "f"])


@functools.cache
def _select_clouds() -> tuple:
    rng = np.random.default_rng(20261205)
    return tuple(pd.DataFrame({"auc": rng.integers(80, 90, 15) / 100, "fnr_gap": rng.integers(0, 10, 15) / 50},
                              index=rng.permutation(100)[:15]) for _ in range(20))


# --- rates_per_1000 ---------------------------------------------------------------------------------------------

def per_1000_reference(y_true, y_pred, sensitive_features) -> dict:
    y, p, g = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int), np.asarray(sensitive_features)
    table = {"missed_per_1000": {}, "false_alarms_per_1000": {}}
    for group in _groups(g):
        mine = g == group
        table["missed_per_1000"][str(group)] = 1000 * _share(p == 0, mine & (y == 1))
        table["false_alarms_per_1000"][str(group)] = 1000 * _share(p == 1, mine & (y == 0))
    return table


def _per_1000_sites():
    heart = _heart()
    return {"y_true": heart["sick"], "y_pred": (heart["baseline_score"] >= 0.5).astype(int),
            "sensitive_features": heart["site"]}


def _per_1000_nobody():
    return {"y_true": [1, 1, 0], "y_pred": [1, 0, 0], "sensitive_features": ["only sick", "only sick", "only healthy"]}


def _per_1000_random():
    rng = np.random.default_rng(20261211)
    groups = pd.Series(rng.choice(["Hispanic", "Black", "White", "Asian"], 400, p=[0.2, 0.25, 0.45, 0.1]),
                       dtype="category")
    y = (rng.random(400) < 0.4).astype(int)
    return {"y_true": y, "y_pred": np.where(rng.random(400) < 0.8, y, 1 - y), "sensitive_features": groups}


# --- paired_bootstrap_change ------------------------------------------------------------------------------------

def paired_reference(y_true, sensitive_features, score_before, pred_before, score_after, pred_after, n_boot=1000,
                     random_state=0, confidence_level=0.95) -> dict:
    """A plain loop over the exercise's resamples: per resample, each group's FNR and the AUC counted, for both
    models on the same rows; the percentile interval of the changes with undefined ones left out."""
    y, g = np.asarray(y_true).astype(int), np.asarray(sensitive_features)
    before = {"gap": np.asarray(pred_before).astype(int), "auc": np.asarray(score_before, dtype=float)}
    after = {"gap": np.asarray(pred_after).astype(int), "auc": np.asarray(score_after, dtype=float)}
    first, second = _groups(g)

    def gap(pred, rows):
        yy, pp, gg = y[rows], pred[rows], g[rows]
        rates = [_share(pp == 0, (gg == group) & (yy == 1)) for group in (first, second)]
        return abs(rates[0] - rates[1])

    def auc(score, rows):
        return _counted_auc(y[rows], score[rows])

    everyone = np.arange(len(y))
    resamples = np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y)))
    alpha = (1 - confidence_level) / 2
    result = {}
    for name, metric in (("gap", gap), ("auc", auc)):
        changes = np.array([metric(after[name], rows) - metric(before[name], rows) for rows in resamples])
        low, high = np.nanquantile(changes, [alpha, 1 - alpha])
        result.update({f"{name}_change": metric(after[name], everyone) - metric(before[name], everyone),
                       f"{name}_ci_low": float(low), f"{name}_ci_high": float(high)})
    return result


def _counted_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The AUC as a count: for each patient with the condition, the patients without it scored lower (ties half),
    found by binary search in their sorted scores.  NaN for one class."""
    healthy, sick = np.sort(score[y == 0]), score[y == 1]
    if not len(healthy) or not len(sick):
        return math.nan
    below, not_above = np.searchsorted(healthy, sick, "left"), np.searchsorted(healthy, sick, "right")
    return float((below + 0.5 * (not_above - below)).sum() / (len(sick) * len(healthy)))


def _paired_all(n_boot, random_state, confidence_level, every=1):
    def build():
        heart = _heart().iloc[::every]
        before, after = heart["baseline_score"].to_numpy(), heart["balanced_score"].to_numpy()
        return {"y_true": heart["sick"].to_numpy(), "sensitive_features": heart["sex"].to_numpy(dtype=str),
                "score_before": before, "pred_before": (before >= 0.5).astype(int), "score_after": after,
                "pred_after": (after >= 0.5).astype(int), "n_boot": n_boot, "random_state": random_state,
                "confidence_level": confidence_level}
    return build


def _paired_rare_group():
    """40 patients, 6 in a small group with 2 with the condition: many resamples leave its FNR undefined."""
    rng = np.random.default_rng(20261212)
    groups = np.array(["large"] * 34 + ["small"] * 6)
    y = np.concatenate([(rng.random(34) < 0.5).astype(int), [1, 1, 0, 0, 0, 0]])
    before = np.clip(0.3 * y + rng.uniform(0, 0.7, 40), 0, 1)
    after = np.clip(before + rng.normal(0, 0.1, 40), 0, 1)
    return {"y_true": y, "sensitive_features": groups, "score_before": before, "pred_before": (before >= 0.5).astype(int),
            "score_after": after, "pred_after": (after >= 0.45).astype(int), "n_boot": 300, "random_state": 5,
            "confidence_level": 0.8}


# --- parity_verdicts --------------------------------------------------------------------------------------------

@functools.cache
def aequitas_report() -> pd.DataFrame:
    """Aequitas itself on 400 simulated predictions, three groups, reference group "y" (not the largest)."""
    from aequitas import Audit

    from course_utils.tradeoff import aequitas_fairness

    rng = np.random.default_rng(20261206)
    groups = rng.choice(["x", "y", "z"], 400, p=[0.5, 0.3, 0.2])
    y = (rng.random(400) < np.where(groups == "x", 0.6, 0.3)).astype(int)
    p = np.where(rng.random(400) < 0.75, y, 1 - y)
    audit = Audit(pd.DataFrame({"label": y, "score": p, "group": groups.astype(object)}),
                  sensitive_attribute_column=["group"], reference_groups={"group": "y"})
    audit.audit()
    return aequitas_fairness(audit).set_index("attribute_value")


AEQUITAS_NAMES = {"fnr": ("fnr", "FNR Parity"), "fpr": ("fpr", "FPR Parity"), "ppv": ("precision", "Precision Parity")}


def _aequitas_rates():
    report = aequitas_report()
    return {"by_group": pd.DataFrame({"group": report.index.astype(str), "fnr": report["fnr"].to_numpy(dtype=float),
                                      "fpr": report["fpr"].to_numpy(dtype=float),
                                      "ppv": report["precision"].to_numpy(dtype=float)}),
            "reference_group": "y", "metrics": ("fnr", "fpr", "ppv")}


def aequitas_reference(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25) -> dict:
    """Aequitas's own disparities and verdicts for these rates (its band is 0.8 to 1.25)."""
    report = aequitas_report()
    table = {}
    for metric in metrics:
        name, verdict = AEQUITAS_NAMES[metric]
        table[f"{metric}_disparity"] = {str(g): float(v) for g, v in report[f"{name}_disparity"].items()}
        table[f"{metric}_parity"] = {str(g): (math.nan if pd.isna(v) else bool(v)) for g, v in report[verdict].items()}
    return table


def parity_reference(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25) -> dict:
    """Each group's rate over the reference group's, one at a time: 10.0 for a positive rate over 0, NaN for 0 / 0."""
    table = by_group.set_index("group")
    result = {}
    for metric in metrics:
        base = float(table.loc[reference_group, metric])
        disparity, parity = {}, {}
        for group, rate in table[metric].items():
            rate = float(rate)
            if math.isnan(rate) or math.isnan(base) or (rate == 0 and base == 0):
                ratio = math.nan
            elif base == 0:
                ratio = 10.0
            else:
                ratio = rate / base
            disparity[str(group)] = ratio
            parity[str(group)] = math.nan if math.isnan(ratio) else (low <= ratio <= high)
        result[f"{metric}_disparity"], result[f"{metric}_parity"] = disparity, parity
    return result


def _parity_strict():
    return {"by_group": pd.DataFrame({"group": ["a", "b", "c"], "fnr": [0.2, 0.25, 0.0], "fpr": [0.0, 0.1, 0.0]}),
            "reference_group": "c", "low": 0.9, "high": 1 / 0.9}


def _parity_random():
    rng = np.random.default_rng(20261213)
    return {"by_group": pd.DataFrame({"group": ["18-39", "40-54", "55-64", "65+"],
                                      "fnr": rng.uniform(0.1, 0.3, 4).round(3), "fpr": rng.uniform(0.05, 0.4, 4).round(3)}),
            "reference_group": "40-54"}


# --- subgroup_profile -------------------------------------------------------------------------------------------

def _pair_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The share of (with, without the condition) pairs ranked right, ties counting half; NaN for one class."""
    sick, healthy = score[y == 1], score[y == 0]
    if not len(sick) or not len(healthy):
        return math.nan
    difference = sick[:, None] - healthy[None, :]
    return float((difference > 0).mean() + 0.5 * (difference == 0).mean())


def profile_reference(data, group_col, outcome_col, score_col, feature_cols, n_boot=1000, random_state=0) -> dict:
    """Per group: counts, the Wilson interval written out, missing shares, and the AUC and its bootstrap interval
    counted over pairs of patients, resample by resample."""
    z = NormalDist().inv_cdf(0.975)
    table = {}
    for group in _groups(data[group_col].dropna()):
        part = data[data[group_col] == group]
        y, score, n = part[outcome_col].to_numpy(dtype=int), part[score_col].to_numpy(dtype=float), len(part)
        p = y.sum() / n
        centre, half = (p + z * z / (2 * n)), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        row = {"n": float(n), "prevalence": float(p), "prevalence_ci_low": (centre - half) / (1 + z * z / n),
               "prevalence_ci_high": (centre + half) / (1 + z * z / n)}
        row.update({f"missing_{column}": float(part[column].isna().mean()) for column in feature_cols})
        row["auc"] = _pair_auc(y, score)
        resamples = np.random.default_rng(random_state).integers(0, n, size=(n_boot, n))
        aucs = [a for a in (_pair_auc(y[rows], score[rows]) for rows in resamples) if not math.isnan(a)]
        row["auc_ci_low"], row["auc_ci_high"] = (np.quantile(aucs, [0.025, 0.975]).tolist() if aucs
                                                 else (math.nan, math.nan))
        for column, value in row.items():
            table.setdefault(column, {})[str(group)] = value
    return table


def _profile_sites():
    return {"data": _heart(), "group_col": "site", "outcome_col": "sick", "score_col": "baseline_score",
            "feature_cols": ["cholesterol", "st_slope"], "n_boot": 600, "random_state": 3}


def _profile_one_class():
    return {"data": pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "y": [1, 1, 1, 1, 0, 1, 0, 1],
                                  "s": [0.9, 0.8, 0.7, 0.6, 0.2, 0.9, 0.4, 0.6],
                                  "f": [1.0, np.nan, 2.0, 3.0, 1.0, 1.0, 1.0, 1.0]}),
            "group_col": "g", "outcome_col": "y", "score_col": "s", "feature_cols": ["f"], "n_boot": 500,
            "random_state": 0}


def _profile_sugar():
    heart = _heart()
    status = heart["fasting_blood_sugar_high"].astype(str).map({"True": "FBS > 120", "False": "FBS <= 120"})
    return {"data": heart.assign(status=status.fillna("not recorded")), "group_col": "status", "outcome_col": "sick",
            "score_col": "balanced_score", "feature_cols": ["resting_bp", "cholesterol", "max_heart_rate"],
            "n_boot": 300, "random_state": 11}


UNDEFINED = "a rate whose denominator is empty in a group is undefined: NaN, not 0"



# --- the two decisions: simulated audits with a planted truth -------------------------------------------------------


#: Where the scenarios' seeds start: a number nobody outside the instructor material knows.  Seeds a learner could
#: search (0, 1, 2, ...) would let a hand-in regenerate a scenario with the public generator and read its truth.
SEED_BASE = 4131183651174960733


def paired_choice(points, resamples, min_auc, level=0.95):
    """The stated rule under uncertainty, with paired percentile intervals at ``level``: the qualifying setting with
    the smallest gap when every paired difference to another qualifying setting lies below 0, else "cannot tell"."""
    eligible = points[points["auc"] >= min_auc]
    if eligible.empty:
        return CANNOT_TELL
    best = eligible["fnr_gap"].idxmin()
    wide = resamples.pivot(index="resample", columns="setting", values="fnr_gap")
    for other in eligible.index.drop(best):
        difference = (wide[best] - wide[other]).dropna().to_numpy()
        if not np.quantile(difference, (1 + level) / 2) < 0:
            return CANNOT_TELL
    return best


def _clear_choice(truth, inputs) -> bool:
    return all(paired_choice(**inputs, level=level) == truth for level in (0.8, 0.9, 0.95, 0.99))


#: (planted FNR per setting and group, AUC per setting, AUC floor, patients with the condition, agreement, truth).
_COURSE = ("baseline", "reweighing 0.5", "threshold 0", "adversarial 0.1")
SWEEP_SCENARIOS = [
    ({"baseline": {"F": .45, "M": .12}, "reweighing 0.5": {"F": .24, "M": .14}, "threshold 0": {"F": .15, "M": .14}},
     {"baseline": .86, "reweighing 0.5": .85, "threshold 0": .86}, .84, {"F": 150, "M": 300}, 1.0, "threshold 0"),
    ({"threshold 0.2": {"F": .40, "M": .12}, "threshold 0.1": {"F": .30, "M": .13}, "threshold 0": {"F": .16, "M": .14}},
     {"threshold 0.2": .86, "threshold 0.1": .86, "threshold 0": .86}, .85, {"F": 80, "M": 250}, 1.0, "threshold 0"),
    ({"baseline": {"women": .40, "men": .10}, "reweighing 1": {"women": .12, "men": .11},
      "adversarial 0.1": {"women": .22, "men": .12}},
     {"baseline": .87, "reweighing 1": .86, "adversarial 0.1": .86}, .85, {"women": 150, "men": 300}, 1.0,
     "reweighing 1"),
    ({"baseline": {"F": .42, "M": .12}, "threshold 0": {"F": .16, "M": .13}, "adversarial 0.5": {"F": .20, "M": .20}},
     {"baseline": .86, "threshold 0": .86, "adversarial 0.5": .70}, .84, {"F": 150, "M": 300}, .9, "threshold 0"),
    ({"baseline": {"over 65": .10, "under 65": .35}, "group thresholds": {"over 65": .14, "under 65": .16},
      "re-weighting": {"over 65": .12, "under 65": .24}},
     {"baseline": .82, "group thresholds": .82, "re-weighting": .81}, .80, {"over 65": 250, "under 65": 200}, 1.0,
     "group thresholds"),
    ({"a": {"g1": .50, "g2": .20}, "b": {"g1": .38, "g2": .21}, "c": {"g1": .22, "g2": .21}, "d": {"g1": .30, "g2": .22}},
     {"a": .80, "b": .80, "c": .79, "d": .80}, .78, 250, .9, "c"),
    ({"baseline": {"F": .40, "M": .10}, "adversarial 0.2": {"F": .25, "M": .25}, "adversarial 0.5": {"F": .5, "M": .5}},
     {"baseline": .86, "adversarial 0.2": .79, "adversarial 0.5": .60}, .84, {"F": 60, "M": 200}, .9, "baseline"),
    ({"baseline": {"Black": .15, "White": .38}, "thresholds by race": {"Black": .20, "White": .21},
      "reweighing 0.75": {"Black": .16, "White": .31}},
     {"baseline": .78, "thresholds by race": .78, "reweighing 0.75": .77}, .76, {"Black": 200, "White": 300}, .95,
     "thresholds by race"),
    ({"tolerance 0.1": {"F": .36, "M": .10}, "tolerance 0.05": {"F": .24, "M": .11}, "tolerance 0": {"F": .12, "M": .11}},
     {"tolerance 0.1": .85, "tolerance 0.05": .85, "tolerance 0": .85}, .84, {"F": 90, "M": 300}, 1.0, "tolerance 0"),
    ({"baseline": {"F": .45, "M": .12}, "adversarial 0.05": {"F": .13, "M": .12}, "threshold 0": {"F": .30, "M": .14}},
     {"baseline": .86, "adversarial 0.05": .839, "threshold 0": .86}, .84, {"F": 150, "M": 300}, .9, "threshold 0"),
    ({"baseline": {"F": .40, "M": .12}, "reweighing 0.5": {"F": .25, "M": .13}, "reweighing 1": {"F": .14, "M": .13}},
     {"baseline": .86, "reweighing 0.5": .86, "reweighing 1": .85}, .84, {"F": 120, "M": 400}, .97, "reweighing 1"),
    ({"site model": {"Hungary": .12, "VA": .40}, "pooled model": {"Hungary": .18, "VA": .20}},
     {"site model": .80, "pooled model": .79}, .75, {"Hungary": 150, "VA": 250}, .85, "pooled model"),
    ({"baseline": {"F": .40, "M": .15}, "b": {"F": .22, "M": .15}, "c": {"F": .22, "M": .15}},
     {"baseline": .86, "b": .85, "c": .85}, .84, {"F": 80, "M": 250}, .9, CANNOT_TELL),
    ({"threshold 0.1": {"F": .20, "M": .14}, "threshold 0": {"F": .20, "M": .14}},
     {"threshold 0.1": .86, "threshold 0": .86}, .84, {"F": 40, "M": 150}, .97, CANNOT_TELL),
    ({"baseline": {"F": .40, "M": .12}, "threshold 0": {"F": .15, "M": .14}, "reweighing 1": {"F": .30, "M": .13}},
     {"baseline": .86, "threshold 0": .86, "reweighing 1": .85}, .84, {"F": 12, "M": 150}, .9, CANNOT_TELL),
    ({_COURSE[0]: {"F": .3, "M": .3}, _COURSE[1]: {"F": .3, "M": .3}, _COURSE[2]: {"F": .3, "M": .3},
      _COURSE[3]: {"F": .3, "M": .3}}, dict.fromkeys(_COURSE, .85), .84, 100, .8, CANNOT_TELL),
    ({"a": {"x": .45, "y": .20}, "b": {"x": .30, "y": .21}, "c": {"x": .24, "y": .22}, "d": {"x": .24, "y": .22}},
     {"a": .80, "b": .80, "c": .80, "d": .79}, .78, 120, .9, CANNOT_TELL),
    ({"baseline": {"over 65": .30, "under 65": .12}, "group thresholds": {"over 65": .18, "under 65": .14}},
     {"baseline": .82, "group thresholds": .82}, .80, {"over 65": 15, "under 65": 100}, .9, CANNOT_TELL),
    ({"baseline": {"Black": .35, "White": .15}, "reweighing 1": {"Black": .19, "White": .16},
      "thresholds by race": {"Black": .19, "White": .16}},
     {"baseline": .78, "reweighing 1": .78, "thresholds by race": .78}, .76, {"Black": 100, "White": 300}, .95,
     CANNOT_TELL),
    ({"baseline": {"F": .42, "M": .12}, "adversarial 0.05": {"F": .14, "M": .13}, "adversarial 0.1": {"F": .14, "M": .13}},
     {"baseline": .86, "adversarial 0.05": .85, "adversarial 0.1": .85}, .84, {"F": 60, "M": 250}, .6, CANNOT_TELL),
    ({"baseline": {"F": .40, "M": .14}, "tolerance 0": {"F": .20, "M": .15}, "tolerance 0.05": {"F": .23, "M": .15}},
     {"baseline": .86, "tolerance 0": .86, "tolerance 0.05": .86}, .84, {"F": 25, "M": 200}, .95, CANNOT_TELL),
    ({"site model": {"Hungary": .20, "VA": .20}, "pooled model": {"Hungary": .20, "VA": .20}},
     {"site model": .80, "pooled model": .80}, .75, 80, .7, CANNOT_TELL),
    ({"baseline": {"F": .35, "M": .12}, "adversarial 0.5": {"F": .12, "M": .12}, "reweighing 0.5": {"F": .16, "M": .12},
      "reweighing 0.25": {"F": .16, "M": .12}},
     {"baseline": .86, "adversarial 0.5": .70, "reweighing 0.5": .85, "reweighing 0.25": .86}, .84,
     {"F": 70, "M": 250}, .9, CANNOT_TELL),
    ({"rule A": {"g": .25, "h": .10}, "rule B": {"g": .11, "h": .10}},
     {"rule A": .81, "rule B": .81}, .80, {"g": 10, "h": 60}, .9, CANNOT_TELL),
]


def _choice_name(number, fnr, n, truth):
    settings = ", ".join(map(repr, fnr))
    groups = " and ".join(map(repr, next(iter(fnr.values()))))
    sizes = (", ".join(f"{v} with the condition in {k!r}" for k, v in n.items()) if isinstance(n, dict)
             else f"{n} with the condition in each group")
    return f"sweep scenario {number} of {len(SWEEP_SCENARIOS)}: settings {settings}; groups {groups}, {sizes}"


def _choice_case(number, fnr, auc, min_auc, n, agreement, truth):
    def inputs():
        return first_clear(lambda seed: sweep_scenario(fnr, auc, min_auc=min_auc, n_with_condition=n,
                                                        agreement=agreement, random_state=seed),
                            truth, _clear_choice, SEED_BASE + 8100 + 1000 * number)

    check = decision_check(truth, nothing=CANNOT_TELL,
                           false_alarm="chosen where the resamples cannot separate the best settings",
                           missed="a choice missed: the resamples separate one setting", wrong="the wrong setting")
    return HiddenCase(_choice_name(number, fnr, n, truth), inputs=inputs, check=check,
                      explain="the qualifying setting (auc >= min_auc) with the smallest gap, when the paired resamples "
                              "separate it from every other qualifying setting; otherwise 'cannot tell'")


def root_cause_p_values(data) -> dict:
    """Two-sided p-values between the two groups: the FNR gap (Fisher), label disagreement in the audit (Fisher),
    marker minus reference in the audit (Welch), and the FNR gap within each site (Fisher)."""
    from scipy.stats import fisher_exact, ttest_ind

    groups = data["group"].astype(str).to_numpy()
    names = sorted(set(groups))
    sick, caught = data["disease"].to_numpy() == 1, data["prediction"].to_numpy() == 1

    def gap(rows):
        return fisher_exact([[int((rows & sick & (groups == g) & ~caught).sum()),
                              int((rows & sick & (groups == g) & caught).sum())] for g in names]).pvalue

    audited = data["disease_confirmed"].notna().to_numpy()
    wrong = audited & (data["disease"].to_numpy() != data["disease_confirmed"].to_numpy())
    label = fisher_exact([[int((wrong & (groups == g)).sum()), int((audited & ~wrong & (groups == g)).sum())]
                          for g in names]).pvalue
    off = (data["marker"] - data["marker_reference"]).to_numpy()
    measurement = ttest_ind(off[audited & (groups == names[0])], off[audited & (groups == names[1])],
                            equal_var=False).pvalue
    sites = data["site"].to_numpy()
    return {"gap": gap(np.ones(len(data), bool)), "label": label, "measurement": measurement,
            "within_site": min(gap(sites == site) for site in sorted(set(sites)))}


def _clear_cause(truth, data) -> bool:
    p = root_cause_p_values(data)
    if truth == "chance":
        return min(p.values()) > 0.2
    found = {"label": p["label"] < 0.01, "measurement": p["measurement"] < 0.01}
    quiet = {"label": p["label"] > 0.2, "measurement": p["measurement"] > 0.2}
    if p["gap"] >= 0.01:
        return False
    if truth == "representation":
        return quiet["label"] and quiet["measurement"] and p["within_site"] > 0.2
    other = "measurement" if truth == "label" else "label"
    return found[truth] and quiet[other]


#: (planted cause, the two groups -- the one it acts on first --, patients, the first group's share, strength,
#: audit share).
ROOT_SCENARIOS = [
    ("representation", ("FBS > 120", "FBS <= 120"), 1500, .30, 1.0, .25),
    ("representation", ("women", "men"), 1200, .35, 1.2, .2),
    ("representation", ("over 65", "65 and under"), 2000, .25, 1.0, .3),
    ("representation", ("diabetic", "not diabetic"), 1000, .40, 1.3, .25),
    ("representation", ("Black", "White"), 2500, .20, 1.0, .15),
    ("representation", ("rural", "urban"), 900, .45, 1.3, .3),
    ("label", ("FBS > 120", "FBS <= 120"), 1200, .30, 1.0, .25),
    ("label", ("women", "men"), 1500, .25, .8, .3),
    ("label", ("Medicaid", "private"), 1000, .40, 1.2, .2),
    ("label", ("over 65", "65 and under"), 2000, .20, .7, .25),
    ("label", ("Black", "White"), 900, .45, 1.0, .3),
    ("label", ("site-referred", "self-referred"), 1600, .35, 1.5, .15),
    ("measurement", ("Black", "White"), 1500, .30, 1.0, .25),
    ("measurement", ("women", "men"), 1200, .35, .8, .3),
    ("measurement", ("FBS > 120", "FBS <= 120"), 1000, .40, 1.2, .2),
    ("measurement", ("over 65", "65 and under"), 2000, .20, 1.0, .25),
    ("measurement", ("dark skin", "light skin"), 900, .45, 1.3, .3),
    ("measurement", ("rural", "urban"), 1800, .25, .9, .2),
    ("chance", ("FBS > 120", "FBS <= 120"), 1200, .30, 1.0, .25),
    ("chance", ("women", "men"), 800, .15, 1.0, .25),
    ("chance", ("diabetic", "not diabetic"), 1500, .40, 1.0, .3),
    ("chance", ("Black", "White"), 600, .20, 1.0, .2),
    ("chance", ("over 65", "65 and under"), 2000, .10, 1.0, .25),
    ("chance", ("rural", "urban"), 1000, .50, 1.0, .3),
]


def _cause_case(number, cause, groups, n, share, strength, audit):
    def inputs():
        data = first_clear(lambda seed: root_cause_scenario(cause, groups=groups, n_patients=n, group_share=share,
                                                             strength=strength, audit_share=audit,
                                                             random_state=seed),
                            cause, _clear_cause, SEED_BASE + 50000 + 1000 * number)
        return {"data": data}

    check = decision_check(cause, nothing="chance", false_alarm="named where the gap is within chance",
                           missed="a cause missed: the gap is beyond chance", wrong="the wrong cause")
    return HiddenCase(f"root-cause scenario {number} of {len(ROOT_SCENARIOS)}: groups {groups[0]!r} and "
                      f"{groups[1]!r}, {n} patients, {share:.0%} in the first, {audit:.0%} audited",
                      inputs=inputs, check=check,
                      explain="'chance' when the FNR gap is within chance; otherwise 'label' when the records disagree "
                              "with the audit's confirmed outcome more in one group, 'measurement' when the marker "
                              "departs from the reference more in one group, and 'representation' when neither")


def _choice_cases():
    return in_no_telling_order([_choice_case(number, *scenario)
                                 for number, scenario in enumerate(SWEEP_SCENARIOS, start=1)], 8500)


def _cause_cases():
    return in_no_telling_order([_cause_case(number, *scenario)
                                 for number, scenario in enumerate(ROOT_SCENARIOS, start=1)], 8600)


CASES = {
    "debias-audit-function": [
        HiddenCase("the course's 920 patients read with plain pandas, the four sites as groups, a flag from the maximum "
                   "heart rate", inputs=_audit_sites, reference=audit_reference,
                   explain="every metric of every site is compared; count, base_rate and selection_rate are over all "
                           "the group's patients, TPR and FNR over those with the condition, FPR over those without, "
                           "PPV over those flagged"),
        HiddenCase("a group without patients with the condition and a group the model never flags, given as pandas "
                   "Series with their own index", inputs=_audit_tiny, reference=audit_reference, explain=UNDEFINED),
        HiddenCase("the rates that are undefined: TPR and FNR of a group without patients with the condition, PPV of a "
                   "group nobody is flagged in", inputs=_audit_tiny,
                   expected={"tpr": {"w": math.nan}, "fnr": {"w": math.nan}, "ppv": {"v": math.nan}}, reveal=True,
                   explain=UNDEFINED),
        HiddenCase("500 simulated patients in four age bands", inputs=_audit_random, reference=audit_reference),
    ],
    "debias-gaps-function": [
        HiddenCase("fairlearn's own MetricFrame over the course's four sites", inputs=lambda: {"by_group": gaps_by_site()},
                   reference=gaps_reference,
                   explain="each gap is the largest value across all the groups minus the smallest"),
        HiddenCase("a group whose TPR, FNR and PPV are undefined (NaN)", inputs=_gaps_undefined, reference=gaps_reference,
                   explain="a group with NaN is left out of that rate's gap; it still counts for the others"),
        HiddenCase("five groups, random rates", inputs=lambda: _gaps_random(20261214, ["a", "b", "c", "d", "e"]),
                   reference=gaps_reference),
        HiddenCase("three groups, other random rates", inputs=lambda: _gaps_random(20261215, ["x", "y", "z"]),
                   reference=gaps_reference),
        HiddenCase("one group only: nothing to compare", inputs=lambda: _gaps_random(20261216, ["all"]),
                   expected={"fnr_gap": 0.0, "equalized_odds_difference": 0.0, "demographic_parity_difference": 0.0,
                             "predictive_parity_difference": 0.0}, reveal=True,
                   explain="with a single group the largest value is the smallest: every gap is 0"),
    ],
    "debias-ppv-function": [
        HiddenCase("a rare condition (2 %) and a sensitive test", inputs={"tpr": 0.95, "fpr": 0.1, "prevalence": 0.02},
                   reference=ppv_reference, explain="weigh the TPR by the prevalence and the FPR by 1 - prevalence"),
        HiddenCase("a common condition (80 %)", inputs={"tpr": 0.6, "fpr": 0.3, "prevalence": 0.8},
                   reference=ppv_reference),
        HiddenCase("an almost perfect test, half the patients with the condition",
                   inputs={"tpr": 0.99, "fpr": 0.01, "prevalence": 0.5}, reference=ppv_reference),
        HiddenCase("a test that flags nobody", inputs={"tpr": 0.0, "fpr": 0.0, "prevalence": 0.9}, expected=math.nan,
                   reveal=True, explain="nobody flagged: the PPV is undefined, NaN"),
        HiddenCase("10,000 simulated patients counted (3,000 with the condition)", inputs=_ppv_counted,
                   reference=ppv_reference),
        HiddenCase("nobody has the condition, some are flagged", inputs={"tpr": 0.9, "fpr": 0.2, "prevalence": 0.0},
                   expected=0.0, reveal=True,
                   explain="everyone flagged is a false alarm: the PPV is 0, and it is defined"),
        HiddenCase("everyone has the condition", inputs={"tpr": 0.7, "fpr": 0.4, "prevalence": 1.0}, expected=1.0,
                   reveal=True, explain="everyone flagged has the condition: the PPV is 1"),
        *[HiddenCase(f"random rates and prevalence ({number})", inputs=functools.partial(_ppv_random, seed),
                     reference=ppv_reference) for number, seed in enumerate((31, 32, 33), start=1)],
    ],
    "debias-reweighing-weights-function": [
        HiddenCase("the course's Cleveland patients by sex (their original row labels kept)", inputs=_cleveland_by_sex,
                   reference=reweighing_reference,
                   explain="each (group, outcome) cell gets P(group) P(outcome) / P(group, outcome), in row order"),
        HiddenCase("all 920 patients, Hungary against the other sites, the site stored as a pandas category",
                   inputs=_hungary_against_the_rest, reference=reweighing_reference,
                   explain="every site other than the privileged one is the unprivileged group"),
        HiddenCase("300 simulated patients, a small privileged group and an outcome with another name",
                   inputs=_reweighing_random, reference=reweighing_reference),
    ],
    "debias-reweighed-fit-function": [
        HiddenCase("300 simulated patients, a logistic regression with other settings (C=0.3, max_iter=500), strength "
                   "0.4", inputs=_reweighed_case(0.4, False, C=0.3, max_iter=500), reference=reweighed_reference,
                   explain="the weights are 1 + strength x (sample_weight - 1), given to the classifier's fit"),
        HiddenCase("a scaler + logistic pipeline whose last step is named \"classify\", full strength",
                   inputs=_reweighed_case(1.0, True, max_iter=500, last_step="classify"), reference=reweighed_reference,
                   explain="in a Pipeline the weights go to the last step, by its own name"),
        HiddenCase("strength 0: no re-weighing at all", inputs=_reweighed_case(0.0, False), reference=reweighed_reference,
                   explain="at strength 0 every weight is 1: the unweighted model"),
        HiddenCase("the course's training patients weighted by sex and disease, strength 0.75, validation patients "
                   "predicted", inputs=_reweighed_course, reference=reweighed_reference),
    ],
    "debias-adversarial-function": [
        HiddenCase("200 simulated patients with a group-dependent outcome; weight 0.3, seed 4, 8 epochs",
                   inputs=_adversarial_simulated, reference=adversarial_reference,
                   explain="compared, score by score, with aif360's AdversarialDebiasing built directly with these "
                           "settings"),
        HiddenCase("patients given as pandas tables and Series, another privileged group; weight 0.05, seed 1, 5 epochs",
                   inputs=_adversarial_tables, reference=adversarial_reference,
                   explain="each dataset holds the columns of X in order, then the 0/1 privileged column, then the "
                           "label"),
        HiddenCase("the course's training patients by sex, validation patients scored; weight 0.2, seed 2, 4 epochs",
                   inputs=_adversarial_course, reference=adversarial_reference),
    ],
    "debias-thresholds-function": [
        HiddenCase("600 simulated patients in three groups, a model fitted elsewhere", inputs=_thresholds_simulated(None),
                   reference=thresholds_reference,
                   explain="compared with fairlearn's ThresholdOptimizer for the exercise's settings"),
        HiddenCase("the same patients with a tolerance of 0.1", inputs=_thresholds_simulated(0.1),
                   reference=thresholds_reference, explain="pass tol on to the ThresholdOptimizer"),
        HiddenCase("the course's patients: thresholds fitted on the validation patients, decisions for the test "
                   "patients", inputs=_thresholds_course, reference=thresholds_reference),
        HiddenCase("a rarer condition (about one patient in six), two groups", inputs=_thresholds_rare,
                   reference=thresholds_reference,
                   explain="the thresholds maximise balanced accuracy, not accuracy, under equal true-positive rates"),
    ],
    "debias-fnr-target-function": [
        HiddenCase("the course baseline's validation scores by sex, at most 30 % missed", inputs=_fnr_validation_by_sex,
                   reference=fnr_ceiling_reference,
                   explain="the largest threshold t (flagged when score >= t) that misses at most max_fnr of the "
                           "group's patients with the condition"),
        HiddenCase("notebook 01's out-of-fold scores on all 920 patients, the four sites, at most 10 % missed",
                   inputs=_fnr_by_site, reference=fnr_ceiling_reference),
        HiddenCase("a group without patients with the condition", inputs=_fnr_nobody, reference=fnr_ceiling_reference),
        HiddenCase("a group without patients with the condition gets NaN", inputs=_fnr_nobody, check=_nan_for("v"),
                   explain="with nobody to miss, its FNR is undefined at every threshold"),
        HiddenCase("scores rounded to one decimal (many ties), three groups", inputs=_fnr_ties,
                   reference=fnr_ceiling_reference,
                   explain="a patient whose score equals the threshold is flagged, not missed"),
        HiddenCase("every patient with the condition may be missed (max_fnr = 1)", inputs=_fnr_everyone_may_be_missed,
                   reference=fnr_ceiling_reference),
    ],
    "debias-pareto-function": [
        *[HiddenCase(f"{len(cloud)} settings on a coarse grid ({number + 1} of 5): ties, identical rows and undefined "
                     "gaps",
                     inputs=functools.partial(lambda number: {"points": _pareto_clouds()[number].copy()}, number),
                     reference=front_reference,
                     explain="a row is dominated when another is at least as good on both columns and strictly "
                             "better on one; identical rows stay together; rows with NaN are left out")
          for number, cloud in enumerate(_pareto_clouds())],
        HiddenCase("other column names (maximise \"score\", minimise \"cost\") with identical twins",
                   inputs=lambda: {"points": pd.DataFrame({"score": [3, 3, 2, 5, 5, 1], "cost": [1, 1, 0, 4, 4, 0]}),
                                   "maximise": "score", "minimise": "cost"},
                   reference=front_reference, explain="use the columns named by maximise and minimise"),
        HiddenCase("a single setting is its own front", inputs=lambda: {"points": pd.DataFrame(
            {"auc": [0.84], "fnr_gap": [0.07]}, index=["only"])}, expected=["only"], reveal=True),
    ],
    "debias-select-function": [
        HiddenCase("ties on AUC and on both columns, an undefined AUC, labels that are not positions",
                   inputs=lambda: {"points": _select_table(), "max_gap": 0.05, "min_auc": 0.85},
                   reference=select_reference,
                   explain="the highest AUC within both limits; a tie goes to the smaller gap, then to the row "
                           "that comes first"),
        HiddenCase("the same table, a stricter gap limit", inputs=lambda: {"points": _select_table(), "max_gap": 0.02,
                                                                           "min_auc": 0.85},
                   reference=select_reference),
        HiddenCase("the same table, a higher AUC floor", inputs=lambda: {"points": _select_table(), "max_gap": 0.3,
                                                                         "min_auc": 0.89},
                   reference=select_reference),
        HiddenCase("no row within both limits", inputs=lambda: {"points": _select_table(), "max_gap": 0.001,
                                                                 "min_auc": 0.5},
                   expected=NO_ROW, reveal=True, explain="when no row qualifies, select_point returns None"),
        *[HiddenCase(f"15 random settings ({number + 1} of 20)",
                     inputs=functools.partial(lambda number: {"points": _select_clouds()[number].copy(),
                                                              "max_gap": 0.06, "min_auc": 0.84}, number),
                     reference=select_reference) for number in range(20)],
    ],
    "debias-per-1000-function": [
        HiddenCase("notebook 01's out-of-fold decisions on all 920 patients, by site", inputs=_per_1000_sites,
                   reference=per_1000_reference,
                   explain="missed per 1,000 patients WITH the condition; false alarms per 1,000 WITHOUT it"),
        HiddenCase("one row per site, in sorted order", inputs=_per_1000_sites, check=_rows_sorted("sensitive_features")),
        HiddenCase("a group with nobody with the condition and one with nobody without it, given as lists",
                   inputs=_per_1000_nobody, reference=per_1000_reference),
        HiddenCase("the undefined rates: missed diagnoses where nobody has the condition, false alarms where everyone "
                   "has it", inputs=_per_1000_nobody,
                   expected={"missed_per_1000": {"only healthy": math.nan},
                             "false_alarms_per_1000": {"only sick": math.nan}}, reveal=True, explain=UNDEFINED),
        HiddenCase("400 simulated patients, four groups stored as a pandas category", inputs=_per_1000_random,
                   reference=per_1000_reference),
    ],
    "debias-paired-bootstrap-function": [
        HiddenCase("notebook 01's two out-of-fold models on all 920 patients; 500 resamples, seed 7, a 90 % interval",
                   inputs=_paired_all(500, 7, 0.9), reference=paired_reference,
                   explain="the same resampled rows for both models, row b of default_rng(random_state).integers(0, n, "
                           "size=(n_boot, n)); changes are after minus before; the interval at (1 - confidence_level) "
                           "/ 2 and (1 + confidence_level) / 2"),
        HiddenCase("every fourth patient; 100 resamples, seed 1", inputs=_paired_all(100, 1, 0.95, every=4),
                   reference=paired_reference),
        HiddenCase("a small group whose FNR is undefined in many resamples", inputs=_paired_rare_group,
                   reference=paired_reference,
                   explain="a resample where a change is undefined is left out of the interval (np.nanquantile)"),
    ],
    "debias-parity-verdicts-function": [
        HiddenCase("Aequitas's own audit of 400 simulated predictions: three groups, FNR, FPR and PPV, a reference "
                   "group that is not the largest", inputs=_aequitas_rates, reference=aequitas_reference,
                   explain="compared with Aequitas's disparities and its FNR, FPR and Precision Parity verdicts"),
        HiddenCase("another band (0.9 to 1/0.9) and a reference rate of 0", inputs=_parity_strict,
                   reference=parity_reference,
                   explain="a positive rate over 0 is capped at 10.0; 0 / 0 is NaN, and so is its verdict"),
        HiddenCase("four age bands, the default band", inputs=_parity_random, reference=parity_reference),
    ],
    "debias-subgroup-profile-function": [
        HiddenCase("the course's 920 patients by site, other feature columns, 600 resamples, seed 3",
                   inputs=_profile_sites, reference=profile_reference,
                   explain="the prevalence interval is Wilson's; the AUC interval resamples each group's own patients"),
        HiddenCase("one row per site, in sorted order", inputs=_profile_sites, check=_rows_sorted("data", "site")),
        HiddenCase("a group whose patients all have the condition", inputs=_profile_one_class, reference=profile_reference),
        HiddenCase("the AUC of a group with one class only is undefined", inputs=_profile_one_class,
                   expected={"auc": {"a": math.nan}, "auc_ci_low": {"a": math.nan}, "auc_ci_high": {"a": math.nan}},
                   reveal=True, explain="with nobody without the condition there is no pair to rank: NaN"),
        HiddenCase("fasting sugar above and below 120 mg/dl and not recorded, another model's scores, 300 resamples, "
                   "seed 11",
                   inputs=_profile_sugar, reference=profile_reference),
    ],
    "debias-choose-decision-function": _choice_cases(),
    "debias-root-cause-decision-function": _cause_cases(),
}

SCORING = {"debias-choose-decision-function": decision_score, "debias-root-cause-decision-function": decision_score}
