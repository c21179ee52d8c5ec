"""Hidden material of notebook 01 (representation audit): instructor-only, never in the learner edition or a sandbox.

Value answers are computed from the shipped CSV read with plain pandas, not with the course's loader.

The code questions run on the shipped files read with plain pandas (the heart data, the course's baseline
scores, notebook 02's encoded model inputs), on seeded simulated tables with other column names and
categories, and on the edge cases the exercises' contracts fix (a group without a minority, without
positives, a combination nobody is in).  Each reference is computed here, in the grader, from the inputs as
the learner's function receives them -- with plain pandas, NumPy and SciPy, or with scikit-learn and fairlearn
themselves -- and never by the solution's own function.  Where the old hidden tests fixed numbers,
``tests/test_hidden_01.py`` checks that these references reproduce them.
"""

import functools
import itertools
import math

import numpy as np
import pandas as pd

from course_utils.data import heart_data_path
from course_utils.instructor.cases import (HiddenCase, Value, decision_check, decision_score, first_clear,
                                          in_no_telling_order)
from course_utils.exercises.questions.representation import CANNOT_TELL
from course_utils.scenarios import fnr_gap_scenario, paired_change_scenario


@functools.cache
def _read_heart() -> pd.DataFrame:
    return pd.read_csv(heart_data_path())


def raw_heart() -> pd.DataFrame:
    """The shipped file as plain pandas reads it (no course loader in between)."""
    return _read_heart().copy()


def shipped(name: str) -> pd.DataFrame:
    """Another shipped CSV beside the heart data, read with plain pandas."""
    return pd.read_csv(heart_data_path().with_name(name))


def women_at(*sites) -> int:
    raw = raw_heart()
    return int(((raw["sex"] == "Female") & raw["site"].isin(sites)).sum())


def mean_cholesterol(sex=None, zeros_counted=False) -> float:
    """Mean cholesterol (mg/dl) of one sex or everyone; the recorded zeros left out, or counted as 0."""
    raw = raw_heart()
    values = raw["cholesterol"].where(~raw["cholesterol_recorded_as_zero"].astype(bool), 0.0) if zeros_counted \
        else raw["cholesterol"]
    return float(values[raw["sex"] == sex].mean() if sex else values.mean())


VALUES = {
    "audit-women-small-sites": Value(
        expected=lambda: women_at("Switzerland", "VA Long Beach"),
        wrong={"Switzerland only": lambda: women_at("Switzerland"), "VA only": lambda: women_at("VA Long Beach"),
               "everyone at the two sites": lambda: int(raw_heart()["site"].isin(["Switzerland", "VA Long Beach"]).sum()),
               "the other two sites": lambda: women_at("Cleveland", "Hungary")},
    ),
    "audit-mean-cholesterol-female": Value(
        expected=lambda: mean_cholesterol("Female"),
        wrong={"zeros counted": lambda: mean_cholesterol("Female", zeros_counted=True),
               "men": lambda: mean_cholesterol("Male"),
               "men, zeros counted": lambda: mean_cholesterol("Male", zeros_counted=True),
               "everyone": lambda: mean_cholesterol()},
    ),
}


# --- the shipped data, as the cases use it ------------------------------------------------------------------------

NUMERIC = ["age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression"]
CATEGORICAL = ["sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high"]
FINDINGS = {True: 1.0, False: 0.0, "True": 1.0, "False": 0.0}  # yes/no findings as model_inputs gives them


def with_disease() -> pd.DataFrame:
    """The heart data with the 0/1 outcome the notebook uses: disease = diagnosis > 0."""
    return raw_heart().assign(disease=lambda data: (data["diagnosis"] > 0).astype(int))


def disease() -> np.ndarray:
    return (raw_heart()["diagnosis"] > 0).astype(int).to_numpy()


def course_features(numeric=NUMERIC, categorical=CATEGORICAL) -> pd.DataFrame:
    """The named columns as the notebook's ``model_inputs`` gives them: floats, text, NaN for a missing value."""
    raw = raw_heart()
    features = raw[list(numeric)].astype(float)
    for column in categorical:
        values = raw[column]
        features[column] = values.map(FINDINGS) if column in ("exercise_angina", "fasting_blood_sugar_high") \
            else values.astype(object)
    return features


def as_recorded(columns=("cholesterol",)) -> pd.DataFrame:
    """The heart data as the hospitals recorded it: the zeros put back, the course's flag columns dropped."""
    raw = raw_heart()
    for column in columns:
        raw[column] = raw[column].where(~raw[f"{column}_recorded_as_zero"].astype(bool), 0.0)
    return raw.drop(columns=[column for column in raw.columns if column.endswith("_recorded_as_zero")])


def shipped_decisions(column: str) -> np.ndarray:
    """The course's shipped out-of-fold scores (same patient order as the heart data), as 0/1 decisions at 0.5."""
    return (shipped("heart_baseline_predictions.csv")[column] >= 0.5).astype(int).to_numpy()


def is_female() -> np.ndarray:
    return (raw_heart()["sex"] == "Female").to_numpy()


# --- Exercise 2: imbalance_ratio ------------------------------------------------------------------------------------

def count_ratio(data, group_col, majority, minority, within_col=None):
    """Rows of ``majority`` per row of ``minority``, counted with value_counts; per value of within_col found."""
    if within_col is not None:
        found = data[within_col].dropna().unique()
        return {str(level): count_ratio(data[data[within_col] == level], group_col, majority, minority)
                for level in found}
    counts = data[group_col].value_counts()
    minorities = int(counts.get(minority, 0))
    return float(counts.get(majority, 0)) / minorities if minorities else math.nan


def _without_va_women():
    raw = raw_heart()
    return raw[~((raw["site"] == "VA Long Beach") & (raw["sex"] == "Female"))]


def _sites_as_categories():
    raw = raw_heart()
    sites = ["Cleveland", "Hungary", "Long Island", "Switzerland", "VA Long Beach"]  # Long Island: nobody
    return raw.assign(site=pd.Categorical(raw["site"], categories=sites), sex=raw["sex"].astype("category"))


# --- Exercise 3: prevalence_table -----------------------------------------------------------------------------------

def wilson_table(data, group_col, outcome_col, confidence_level=0.95):
    """n, cases, prevalence and the Wilson score interval, from its formula (no continuity correction)."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence_level / 2)
    table = {"n": {}, "cases": {}, "prevalence": {}, "ci_low": {}, "ci_high": {}}
    for group in data[group_col].dropna().unique():
        outcome = data.loc[data[group_col] == group, outcome_col].to_numpy()
        n, cases = len(outcome), int((outcome == 1).sum())
        p = cases / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        for column, value in zip(table, (n, cases, p, max(0.0, centre - half), min(1.0, centre + half))):
            table[column][group] = float(value)
    return table


def _wards():
    """Simulated wards: other names, a ward with no readmission, a ward where everyone was readmitted, one of one."""
    rng = np.random.default_rng(101)
    ward = np.repeat(["A", "B", "C", "D", "E"], [40, 7, 3, 1, 25])
    readmitted = (rng.random(len(ward)) < np.select([ward == "A", ward == "E"], [0.3, 0.6], 0.5)).astype(int)
    readmitted[ward == "B"] = 0
    readmitted[ward == "C"] = 1
    order = rng.permutation(len(ward))
    return pd.DataFrame({"ward": ward[order], "readmitted": readmitted[order], "age": rng.integers(20, 90, len(ward))})


# --- Exercise 4: flag_impossible_zeros ------------------------------------------------------------------------------

def zeros_flagged(data, columns):
    """Every cell of ``data`` as it should come back, plus one indicator per column, built row by row."""
    table = {column: dict(zip(data.index, data[column].tolist())) for column in data.columns}
    for column in columns:
        values = table[column]
        table[f"{column}_recorded_as_zero"] = {row: bool(value == 0) for row, value in values.items()}
        table[column] = {row: (math.nan if value == 0 else value) for row, value in values.items()}
    return table


def _lab_values():
    """Simulated lab values with other names: zeros and gaps, one column stored as whole numbers."""
    rng = np.random.default_rng(404)
    n = 40
    glucose = rng.integers(70, 180, n)
    glucose[rng.choice(n, 6, replace=False)] = 0
    bmi = rng.normal(27, 4, n).round(1)
    bmi[rng.choice(n, 5, replace=False)] = 0.0
    bmi[rng.choice(n, 4, replace=False)] = np.nan
    frame = pd.DataFrame({"ward": rng.choice(["north", "south"], n), "glucose": glucose, "bmi": bmi,
                          "visits": rng.integers(0, 4, n)}, index=pd.Index(rng.permutation(np.arange(100, 100 + n))))
    return frame


# --- Exercise 6: make_baseline_pipeline -----------------------------------------------------------------------------

def nan_for_missing(frame):
    """Missing text as NaN (Parquet brings it back as None, which scikit-learn's imputers take for a category)."""
    frame = frame.copy()
    for column in frame.columns[frame.dtypes == object]:
        frame[column] = frame[column].where(frame[column].notna(), np.nan)
    return frame


def baseline_pipeline(numeric_cols, categorical_cols, random_state=0, add_indicator=False):
    """The exercise's pipeline, built from scikit-learn as the exercise states it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=add_indicator)),
                        ("scale", StandardScaler())])
    categories = Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                           ("encode", OneHotEncoder(handle_unknown="ignore"))])
    return Pipeline([("encode", ColumnTransformer([("numbers", numbers, list(numeric_cols)),
                                                   ("categories", categories, list(categorical_cols))])),
                     ("model", LogisticRegression(max_iter=1000, random_state=random_state))])


def pipeline_scores(numeric_cols, categorical_cols, train, y, new, add_indicator=False):
    """The record the pipeline harness gives back for a right pipeline: no error, and each new patient's score."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        model = baseline_pipeline(numeric_cols, categorical_cols, add_indicator=bool(add_indicator)).fit(
            nan_for_missing(train), y)
        scores = model.predict_proba(nan_for_missing(new))[:, 1]
    return {"fit_error": None, "predict_error": None,
            **{f"score {label}": float(score) for label, score in zip(new.index, scores)}}


def _without_switzerland(numeric, categorical):
    features, sites = course_features(numeric, categorical), raw_heart()["site"]
    features["site"] = sites
    swiss = (sites == "Switzerland").to_numpy()
    return {"numeric_cols": list(numeric), "categorical_cols": [*categorical, "site"], "train": features[~swiss],
            "y": disease()[~swiss], "new": features[swiss]}


def _course_fold():
    """The course's features, split as the course's first fold (StratifiedKFold(5, shuffle=True, random_state=0))."""
    from sklearn.model_selection import StratifiedKFold

    features, y = course_features(), disease()
    train, held_out = next(StratifiedKFold(5, shuffle=True, random_state=0).split(features, y))
    return {"numeric_cols": NUMERIC, "categorical_cols": CATEGORICAL, "train": features.iloc[train], "y": y[train],
            "new": features.iloc[held_out]}


def course_scores(numeric_cols, categorical_cols, train, y, new):
    """The course's own shipped out-of-fold scores for the held-out patients (new's row labels are positions)."""
    scores = shipped("heart_baseline_predictions.csv")["baseline_score"].to_numpy()
    return {"fit_error": None, "predict_error": None,
            **{f"score {label}": float(scores[label]) for label in new.index}}


def _clinic(add_indicator=True):
    """Simulated patients with other column names: gaps everywhere, new patients with categories never seen."""
    rng = np.random.default_rng(606)
    n = 150

    def frame(size, smokers=("never", "former", "current"), wards=("north", "south", "east")):
        data = pd.DataFrame({"bmi": rng.normal(27, 4, size), "glucose": rng.normal(110, 25, size),
                             "smoker": rng.choice(list(smokers), size).astype(object),
                             "ward": rng.choice(list(wards), size).astype(object)})
        for column, share in (("bmi", 0.15), ("glucose", 0.1), ("smoker", 0.1), ("ward", 0.05)):
            data.loc[rng.random(size) < share, column] = np.nan
        return data

    train = frame(n)
    y = (0.08 * (train["bmi"].fillna(27) - 27) + 0.03 * (train["glucose"].fillna(110) - 110)
         + (train["smoker"] == "current") + rng.normal(0, 1, n) > 0.3).astype(int).to_numpy()
    new = frame(30, smokers=("never", "current", "vapes"), wards=("north", "west"))
    new.index = np.arange(500, 530)
    return {"numeric_cols": ["glucose", "bmi"], "categorical_cols": ["ward", "smoker"], "train": train, "y": y,
            "new": new, "add_indicator": add_indicator}


# --- Exercise 7: out_of_fold_scores ---------------------------------------------------------------------------------

def fold_by_fold(X, y, n_splits, random_state, C=None):
    """Each row's probability of class 1 from a logistic regression fitted on the other folds, one fold at a time."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    y = np.asarray(y)
    scores = np.full(len(y), np.nan)
    with threadpool_limits(limits=1):
        for train, held_out in StratifiedKFold(n_splits, shuffle=True, random_state=random_state).split(X, y):
            model = LogisticRegression(max_iter=1000, **({} if C is None else {"C": C}))
            scores[held_out] = model.fit(X.iloc[train], y[train]).predict_proba(X.iloc[held_out])[:, 1]
    return scores.tolist()


def _three_features():
    raw = raw_heart()
    return raw[["age"]].assign(max_heart_rate=raw["max_heart_rate"].fillna(raw["max_heart_rate"].median()),
                               male=(raw["sex"] == "Male").astype(float))


def _encoded_inputs():
    """Notebook 02's shipped model inputs: the baseline's encoded features for all 920 patients."""
    inputs = shipped("heart_model_inputs.csv")
    return inputs.drop(columns=["patient_id", "split"])


def _rare_outcome():
    rng = np.random.default_rng(707)
    n = 60
    X = pd.DataFrame({"marker": rng.normal(0, 1, n), "dose": rng.uniform(0, 5, n)},
                     index=pd.Index(rng.permutation(np.arange(1000, 1000 + n)), name="patient"))
    y = np.zeros(n, dtype=int)
    y[np.argsort(X["marker"].to_numpy() + rng.normal(0, 0.8, n))[-9:]] = 1
    return {"X": X, "y": pd.Series(y, index=X.index, name="event"), "n_splits": 3, "random_state": 11}


# --- Exercise 8: error_rate_audit -----------------------------------------------------------------------------------

METRICS = ("count", "accuracy", "fnr", "fpr", "selection_rate")


def fairlearn_table(y_true, y_pred, sensitive_features):
    """fairlearn's own MetricFrame, its FNR and FPR made NaN where a group has nobody to divide by."""
    from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate
    from sklearn.metrics import accuracy_score

    frame = MetricFrame(metrics={"count": count, "accuracy": accuracy_score, "fnr": false_negative_rate,
                                 "fpr": false_positive_rate, "selection_rate": selection_rate},
                        y_true=np.asarray(y_true), y_pred=np.asarray(y_pred),
                        sensitive_features=np.asarray(sensitive_features))
    table = frame.by_group
    truth, groups = np.asarray(y_true), np.asarray(sensitive_features)
    result = {metric: {str(group): float(table.loc[group, metric]) for group in table.index} for metric in METRICS}
    for group in table.index:
        labels = truth[groups == group]
        if not (labels == 1).any():
            result["fnr"][str(group)] = math.nan
        if not (labels == 0).any():
            result["fpr"][str(group)] = math.nan
    return result


def _three_simulated_groups():
    rng = np.random.default_rng(20261129)
    truth = rng.integers(0, 2, 300)
    flagged = np.where(rng.random(300) < 0.8, truth, 1 - truth)
    groups = rng.choice(["a", "b", "c"], 300)
    truth[groups == "c"] = 0
    return {"y_true": truth, "y_pred": flagged, "sensitive_features": groups}


def _sex_within_site():
    raw = raw_heart()
    return {"y_true": disease().tolist(), "y_pred": shipped_decisions("baseline_score").tolist(),
            "sensitive_features": (raw["site"] + " " + raw["sex"]).tolist()}


# --- Exercise 9: small_groups ---------------------------------------------------------------------------------------

def combinations_under(data, group_cols, min_size=30):
    """Every combination of the columns' values (every category of a categorical column), counted with masks."""
    levels = []
    for column in group_cols:
        values = data[column]
        levels.append(list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype)
                      else sorted(values.dropna().unique().tolist()))
    rows = []
    for combination in itertools.product(*levels):
        inside = np.ones(len(data), dtype=bool)
        for column, value in zip(group_cols, combination):
            inside &= (data[column] == value).to_numpy()
        if inside.sum() < min_size:
            rows.append([*combination, int(inside.sum())])
    return rows


def _age_bands_as_text():
    raw = raw_heart()
    return raw.assign(band=pd.cut(raw["age"], [0, 40, 50, 60, 70, 200], right=False).astype(str))


def _hungary_with_band_categories():
    raw = raw_heart()
    bands = pd.cut(raw["age"], [0, 40, 50, 60, 70, 200], right=False, labels=["<40", "40-49", "50-59", "60-69", "70+"])
    return raw.assign(band=bands)[raw["site"] == "Hungary"]


def small_table_named(output, inputs):
    """The property of a right table: its columns are the group columns then n, and its rows the small groups."""
    from course_utils.exercises._question import normalise_output, outputs_match

    wanted = [*inputs["group_cols"], "n"]
    if not hasattr(output, "columns"):
        return "a pandas DataFrame was expected"
    if [str(column) for column in output.columns] != wanted:
        return (f"the table's columns should be {wanted}, one per group column and then n; they are "
                f"{list(output.columns)}")
    expected = combinations_under(inputs["data"], inputs["group_cols"], inputs.get("min_size", 30))
    rows, problem = normalise_output(output, "rows", expected)
    if problem or not outputs_match(rows, expected, "rows", 1e-6):
        return "its rows differ from the reference result"
    return None


# --- Exercise 10: group_balancing_weights ---------------------------------------------------------------------------

def balancing(sensitive_features):
    """n / (groups x size of the patient's group), from np.unique's counts."""
    groups = np.asarray(sensitive_features)
    _, position, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    return (len(groups) / (len(sizes) * sizes[position.ravel()])).tolist()


def _uneven_groups():
    rng = np.random.default_rng(1010)
    return rng.choice(np.array(["north", "south", "east", "west", "island"]), 500, p=[0.55, 0.25, 0.12, 0.06, 0.02])


# --- Exercise 11: paired_fnr_change ---------------------------------------------------------------------------------

def paired_change(y_true, y_pred_before, y_pred_after, n_boot=1000, random_state=0, confidence_level=0.95):
    """The exercise's resamples, one at a time: FNR after minus before on each, NaN-free quantiles of the changes."""
    y, before, after = (np.asarray(values) for values in (y_true, y_pred_before, y_pred_after))

    def fnr(rows, decisions):
        sick = y[rows] == 1
        return float(np.mean(decisions[rows][sick] == 0)) if sick.any() else math.nan

    everyone = np.arange(len(y))
    change = fnr(everyone, after) - fnr(everyone, before)
    draws = np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y)))
    changes = [fnr(rows, after) - fnr(rows, before) for rows in draws]
    defined = np.array([value for value in changes if not math.isnan(value)])
    tail = (1 - confidence_level) / 2
    low, high = np.quantile(defined, [tail, 1 - tail])
    return {"change": change, "ci_low": float(low), "ci_high": float(high)}


def _shipped_pair(rows, **settings):
    truth, before, after = disease(), shipped_decisions("baseline_score"), shipped_decisions("balanced_score")
    return {"y_true": truth[rows], "y_pred_before": before[rows], "y_pred_after": after[rows], **settings}


def _simulated_pair(n, positives, seed, **settings):
    rng = np.random.default_rng(seed)
    truth = np.zeros(n, dtype=int)
    truth[rng.choice(n, positives, replace=False)] = 1
    before = np.where(rng.random(n) < 0.75, truth, 1 - truth)
    after = np.where(rng.random(n) < 0.15, 1 - before, before)
    return {"y_true": truth, "y_pred_before": before, "y_pred_after": after, **settings}



# --- the two decisions: scenarios with a planted truth ----------------------------------------------------------------
#
# Each scenario is drawn with the learner's own generators (course_utils.scenarios), with other seeds and
# settings than the notebook's.  The truth is what was planted -- a gap or a change, or none -- and a scenario
# is used only where it is clear-cut: every valid test the course accepts agrees with the planted truth by a
# margin (p < 0.01 where something was planted and must be found, p > 0.2 where nothing was, or where too few
# patients leave a planted difference invisible).  A decision rule at any usual level (1 %, 5 %, 10 %), exact
# or approximate, then decides every scenario the same way; the points follow its misses and false alarms.



def _fnr_counts(y, pred, rows):
    """(missed, caught) among the patients with the condition in ``rows``."""
    sick = rows & (y == 1)
    missed = int(((pred == 0) & sick).sum())
    return missed, int(sick.sum()) - missed


def gap_p_values(y_true, y_pred, sensitive_features):
    """Fisher's exact test and the two-proportion z-test (no continuity correction) on missed/caught by group,
    or None when a group has no patient with the condition (no FNR, no gap)."""
    from scipy.stats import chi2_contingency, fisher_exact

    y, pred = np.asarray(y_true), np.asarray(y_pred)
    groups = pd.Series(sensitive_features).astype(str).to_numpy()
    table = [_fnr_counts(y, pred, groups == g) for g in sorted(set(groups))]
    if len(table) != 2 or any(sum(row) == 0 for row in table):
        return None
    if all(row[0] == 0 for row in table) or all(row[1] == 0 for row in table):
        return 1.0, 1.0  # every patient missed, or none, in both groups: no gap at all
    return float(fisher_exact(table).pvalue), float(chi2_contingency(table, correction=False).pvalue)


def higher_fnr_group(y_true, y_pred, sensitive_features) -> str:
    y, pred = np.asarray(y_true), np.asarray(y_pred)
    groups = pd.Series(sensitive_features).astype(str).to_numpy()
    counts = {g: _fnr_counts(y, pred, groups == g) for g in sorted(set(groups))}
    return max(counts, key=lambda g: counts[g][0] / max(1, sum(counts[g])))


def change_p_values(y_true, y_pred_before, y_pred_after, n_boot=2000):
    """The exact McNemar test on the discordant patients with the condition, and whether a paired percentile
    bootstrap interval (95 %) of the FNR change excludes 0 below (-1), above (+1) or not at all (0)."""
    from scipy.stats import binomtest

    y, before, after = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
    sick = y == 1
    newly_caught = int((sick & (before == 0) & (after == 1)).sum())
    newly_missed = int((sick & (before == 1) & (after == 0)).sum())
    if newly_caught + newly_missed == 0:
        return 1.0, 0
    exact = float(binomtest(newly_missed, newly_caught + newly_missed, 0.5).pvalue)
    idx = np.random.default_rng(0).integers(0, len(y), size=(n_boot, len(y)))
    with np.errstate(invalid="ignore", divide="ignore"):
        positives = sick[idx].sum(axis=1)
        changes = (((after[idx] == 0) & sick[idx]).sum(axis=1) - ((before[idx] == 0) & sick[idx]).sum(axis=1)) / positives
    low, high = np.nanquantile(changes, [0.025, 0.975])
    return exact, (-1 if high < 0 else 1 if low > 0 else 0)


def _clear_gap(truth, inputs) -> bool:
    p_values = gap_p_values(**inputs)
    if truth == CANNOT_TELL:
        return p_values is None or min(p_values) > 0.2
    return p_values is not None and max(p_values) < 0.01 and higher_fnr_group(**inputs) == truth


def _clear_change(truth, inputs) -> bool:
    exact, side = change_p_values(**inputs)
    if truth == CANNOT_TELL:
        return exact > 0.2 and side == 0
    return exact < 0.01 and side == {"helped": -1, "made it worse": 1}[truth]






def _as_given(inputs, form):
    """The scenario's groups as the learner may receive them: an array, a list, or a categorical Series."""
    if form == "list":
        return {key: value.tolist() for key, value in inputs.items()}
    if form == "category":
        return {**inputs, "sensitive_features": pd.Series(inputs["sensitive_features"], dtype="category",
                                                          name="group")}
    return inputs


#: Where the scenarios' seeds start: a number nobody outside the instructor material knows.  Seeds a learner could
#: search (0, 1, 2, ...) would let a hand-in regenerate a scenario with the public generator and read its truth.
SEED_BASE = 1924268240659850165

#: (planted FNR by group, patients with the condition, the truth, how the inputs are given[, patients without it]).
GAP_SCENARIOS = [
    ({"women": 0.35, "men": 0.15}, {"women": 120, "men": 300}, "women", "array"),
    ({"F": 0.40, "M": 0.20}, 150, "F", "list"),
    ({"over 65": 0.30, "under 65": 0.10}, 200, "over 65", "category"),
    ({"Black": 0.25, "White": 0.10}, {"Black": 150, "White": 600}, "Black", "array"),
    ({"site A": 0.10, "site B": 0.30}, 120, "site B", "array"),
    ({"Medicaid": 0.50, "private": 0.25}, 100, "Medicaid", "list"),
    ({"women": 0.20, "men": 0.45}, 90, "men", "category"),
    ({"rural": 0.30, "urban": 0.18}, 400, "rural", "array"),
    ({"g1": 0.60, "g2": 0.30}, 60, "g1", "array"),
    ({"diabetic": 0.12, "not diabetic": 0.30}, {"diabetic": 200, "not diabetic": 400}, "not diabetic", "list"),
    ({"women": 0.50, "men": 0.10}, {"women": 25, "men": 200}, "women", "array"),
    ({"A": 0.05, "B": 0.20}, 300, "B", "category"),
    ({"women": 0.20, "men": 0.20}, 300, CANNOT_TELL, "array"),
    ({"F": 0.35, "M": 0.35}, 100, CANNOT_TELL, "list"),
    ({"minority": 0.10, "majority": 0.10}, {"minority": 50, "majority": 500}, CANNOT_TELL, "array"),
    ({"x": 0.50, "y": 0.50}, 40, CANNOT_TELL, "category"),
    ({"Black": 0.25, "White": 0.25}, {"Black": 80, "White": 200}, CANNOT_TELL, "array"),
    ({"site A": 0.30, "site B": 0.30}, 150, CANNOT_TELL, "list"),
    ({"young": 0.15, "old": 0.15}, {"young": 30, "old": 300}, CANNOT_TELL, "array"),
    ({"women": 0.40, "men": 0.20}, {"women": 5, "men": 200}, CANNOT_TELL, "array"),
    ({"A": 0.30, "B": 0.10}, {"A": 8, "B": 100}, CANNOT_TELL, "category"),
    ({"x": 0.50, "y": 0.30}, 12, CANNOT_TELL, "list"),
    ({"rural": 0.20, "urban": 0.23}, 100, CANNOT_TELL, "array"),
    ({"A": 0.30, "B": 0.30}, {"A": 50, "B": 0}, CANNOT_TELL, "array", {"A": 50, "B": 40}),
]


def _gap_name(number, fnr, positives, truth):
    groups = " and ".join(map(repr, fnr))
    if isinstance(positives, dict) and 0 in positives.values():
        return (f"gap scenario {number} of {len(GAP_SCENARIOS)}: groups {groups}, one of them without any patient "
                f"with the condition")
    n = (", ".join(f"{positives[g]} with the condition in {g!r}" for g in fnr) if isinstance(positives, dict)
         else f"{positives} with the condition in each")
    if truth == CANNOT_TELL:
        planted = "no gap planted" if len(set(fnr.values())) == 1 else "a gap planted that these few patients cannot show"
    else:
        planted = f"{truth!r} planted with the higher FNR"
    return f"gap scenario {number} of {len(GAP_SCENARIOS)}: groups {groups}, {n}; {planted}"


def _gap_case(number, fnr, positives, truth, form, without=None):
    def inputs():
        return _as_given(first_clear(lambda seed: fnr_gap_scenario(fnr, positives, without, random_state=seed),
                                      truth, _clear_gap, SEED_BASE + 7100 + 1000 * number), form)

    check = decision_check(truth, nothing=CANNOT_TELL, false_alarm="named, where nothing the data can show was planted",
                           missed="a gap missed", wrong="the wrong group named")
    return HiddenCase(_gap_name(number, fnr, positives, truth), inputs=inputs, check=check,
                      explain="name the group whose FNR is higher only when the gap is beyond chance (5 % level); "
                              "otherwise, or when a group has no patient with the condition, 'cannot tell'")


#: (planted FNR before, after, patients with the condition, the truth).
CHANGE_SCENARIOS = [
    (0.35, 0.15, 200, "helped"), (0.30, 0.12, 150, "helped"), (0.50, 0.30, 300, "helped"),
    (0.20, 0.08, 400, "helped"), (0.45, 0.20, 120, "helped"), (0.25, 0.10, 250, "helped"),
    (0.15, 0.35, 200, "made it worse"), (0.10, 0.25, 300, "made it worse"), (0.30, 0.50, 150, "made it worse"),
    (0.20, 0.40, 120, "made it worse"), (0.05, 0.15, 500, "made it worse"), (0.25, 0.45, 200, "made it worse"),
    (0.30, 0.30, 200, CANNOT_TELL), (0.20, 0.20, 400, CANNOT_TELL), (0.45, 0.45, 80, CANNOT_TELL),
    (0.10, 0.10, 300, CANNOT_TELL), (0.40, 0.20, 6, CANNOT_TELL), (0.30, 0.35, 60, CANNOT_TELL),
]


def _edge_changes():
    """Scenarios built by hand: one patient changed, nothing changed, no patient with the condition, a change
    only among the patients without it, and a fix that catches disease at the price of many false alarms."""
    rng = np.random.default_rng(SEED_BASE + 7300)
    y = np.r_[np.ones(50, int), np.zeros(40, int)]
    before = np.r_[np.ones(33, int), np.zeros(17, int), (rng.random(40) < 0.1).astype(int)]
    one_more_missed = before.copy()
    one_more_missed[0] = 0
    one_more_caught = before.copy()
    one_more_caught[40] = 1
    only_negatives = before.copy()
    only_negatives[50:70] = 1 - only_negatives[50:70]
    big = paired_change_scenario(0.4, 0.15, n_with_condition=200, random_state=SEED_BASE + 7301)
    costly = big["y_pred_after"].copy()
    healthy = np.flatnonzero(big["y_true"] == 0)
    costly[healthy[: len(healthy) // 2]] = 1  # half of the patients without the condition now flagged
    return [
        ("one more patient with the condition missed, nobody else changed (17 to 18 of 50)",
         {"y_true": y, "y_pred_before": before, "y_pred_after": one_more_missed}, CANNOT_TELL),
        ("one more patient with the condition caught, nobody else changed",
         {"y_true": y, "y_pred_before": before, "y_pred_after": one_more_caught}, CANNOT_TELL),
        ("the same decisions before and after",
         {"y_true": y, "y_pred_before": before, "y_pred_after": before.copy()}, CANNOT_TELL),
        ("only patients without the condition changed decision (20 of them)",
         {"y_true": y, "y_pred_before": before, "y_pred_after": only_negatives}, CANNOT_TELL),
        ("no patient with the condition at all",
         {"y_true": np.zeros(30, int), "y_pred_before": rng.integers(0, 2, 30), "y_pred_after": rng.integers(0, 2, 30)},
         CANNOT_TELL),
        ("many fewer missed, and half of the patients without the condition now flagged too",
         {"y_true": big["y_true"], "y_pred_before": big["y_pred_before"], "y_pred_after": costly}, "helped"),
    ]


def _change_case(number, name, make, truth):
    check = decision_check(truth, nothing=CANNOT_TELL, false_alarm="where the data cannot tell the change from none",
                           missed="a change missed", wrong="the wrong direction")
    return HiddenCase(f"change scenario {number} of {len(CHANGE_SCENARIOS) + 6}: {name}", inputs=make, check=check,
                      explain="'helped' or 'made it worse' only when the change in FNR on the same patients is beyond "
                              "chance (5 % level); otherwise 'cannot tell'")


def _change_cases():
    cases = []
    for number, (before, after, positives, truth) in enumerate(CHANGE_SCENARIOS, start=1):
        planted = "no change planted" if before == after else f"FNR planted from {before:.2f} to {after:.2f}"
        make = functools.partial(first_clear, functools.partial(
            lambda b, a, n, seed: paired_change_scenario(b, a, n_with_condition=n, random_state=seed),
            before, after, positives), truth, _clear_change, SEED_BASE + 7400 + 1000 * number)
        cases.append(_change_case(number, f"{positives} patients with the condition, {planted}", make, truth))
    for number, (name, inputs, truth) in enumerate(_edge_changes(), start=len(CHANGE_SCENARIOS) + 1):
        cases.append(_change_case(number, name, functools.partial(dict, inputs), truth))
    return cases





CASES = {
    "audit-imbalance-ratio-function": [
        HiddenCase("the course's 920 patients read with plain pandas: men per woman",
                   inputs=lambda: {"data": raw_heart(), "group_col": "sex", "majority": "Male", "minority": "Female"},
                   reference=count_ratio),
        HiddenCase("men per woman within each of the four hospitals",
                   inputs=lambda: {"data": raw_heart(), "group_col": "sex", "majority": "Male", "minority": "Female",
                                   "within_col": "site"},
                   reference=count_ratio, explain="count men and women within one hospital at a time"),
        HiddenCase("one hospital's patients alone (Hungary; rows not numbered from 0)",
                   inputs=lambda: {"data": raw_heart().query("site == 'Hungary'"), "group_col": "sex",
                                   "majority": "Male", "minority": "Female"},
                   reference=count_ratio),
        HiddenCase("other codes for the groups (M and F), rows shuffled",
                   inputs=lambda: {"data": raw_heart().assign(code=lambda d: d["sex"].map({"Female": "F", "Male": "M"}))
                                   .sample(frac=1, random_state=3), "group_col": "code", "majority": "M",
                                   "minority": "F"},
                   reference=count_ratio, explain="use the column and the group names you are given"),
        HiddenCase("the groups the other way round: women per man",
                   inputs=lambda: {"data": raw_heart(), "group_col": "sex", "majority": "Female", "minority": "Male"},
                   reference=count_ratio, explain="majority's count on top, whichever group is named majority"),
        HiddenCase("a hospital left without women, within each hospital",
                   inputs=lambda: {"data": _without_va_women(), "group_col": "sex", "majority": "Male",
                                   "minority": "Female", "within_col": "site"},
                   reference=count_ratio,
                   explain="a hospital without women has no ratio, NaN (not infinity), and the others keep theirs"),
        HiddenCase("only men: no woman at all",
                   inputs=lambda: {"data": raw_heart().query("sex == 'Male'"), "group_col": "sex", "majority": "Male",
                                   "minority": "Female"},
                   expected=math.nan, reveal=True, explain="men per woman is undefined without women: NaN"),
        HiddenCase("within another column: each kind of chest pain",
                   inputs=lambda: {"data": raw_heart(), "group_col": "sex", "majority": "Male", "minority": "Female",
                                   "within_col": "chest_pain"},
                   reference=count_ratio),
        HiddenCase("hospitals stored as a category that also lists a hospital with no patients",
                   inputs=lambda: {"data": _sites_as_categories(), "group_col": "sex", "majority": "Male",
                                   "minority": "Female", "within_col": "site"},
                   reference=count_ratio,
                   explain="one ratio for each value of within_col found in the data: a category nobody has is not "
                           "one (groupby(..., observed=True))"),
    ],
    "audit-prevalence-function": [
        HiddenCase("the course's 920 patients by hospital",
                   inputs=lambda: {"data": with_disease(), "group_col": "site", "outcome_col": "disease"},
                   reference=wilson_table),
        HiddenCase("the 920 patients by sex, with a 99 % interval",
                   inputs=lambda: {"data": with_disease(), "group_col": "sex", "outcome_col": "disease",
                                   "confidence_level": 0.99},
                   reference=wilson_table, explain="the interval is at the confidence_level you are given"),
        HiddenCase("one hospital alone, by sex (its few women all have disease)",
                   inputs=lambda: {"data": with_disease().query("site == 'Switzerland'"), "group_col": "sex",
                                   "outcome_col": "disease"},
                   reference=wilson_table),
        HiddenCase("simulated wards with other column names: no readmission in one, everyone in another, a 90 % "
                   "interval", inputs=lambda: {"data": _wards(), "group_col": "ward", "outcome_col": "readmitted",
                                               "confidence_level": 0.9},
                   reference=wilson_table,
                   explain="the Wilson interval of 0 cases starts at 0 and of n cases ends at 1; a ward of one "
                           "patient is a group too"),
        HiddenCase("groups coded as numbers: vessels seen on fluoroscopy (most patients were not examined)",
                   inputs=lambda: {"data": with_disease(), "group_col": "major_vessels", "outcome_col": "disease"},
                   reference=wilson_table),
    ],
    "audit-flag-zeros-function": [
        HiddenCase("the course's 920 patients as recorded, zeros back in cholesterol",
                   inputs=lambda: {"data": as_recorded(), "columns": ["cholesterol"]},
                   reference=zeros_flagged,
                   explain="each 0 becomes NaN and is flagged; a value never recorded stays NaN and is not flagged; "
                           "every other column stays as it was"),
        HiddenCase("cholesterol and resting blood pressure, both as recorded",
                   inputs=lambda: {"data": as_recorded(("cholesterol", "resting_bp")),
                                   "columns": ["cholesterol", "resting_bp"]},
                   reference=zeros_flagged, explain="one indicator for each column named"),
        HiddenCase("a column with no zero at all (age)",
                   inputs=lambda: {"data": as_recorded(), "columns": ["age"]},
                   reference=zeros_flagged, explain="no zero: the indicator is False for every patient"),
        HiddenCase("one hospital where every cholesterol was recorded as 0 (rows not numbered from 0)",
                   inputs=lambda: {"data": as_recorded().query("site == 'Switzerland'"), "columns": ["cholesterol"]},
                   reference=zeros_flagged, explain="the result keeps the rows and their labels"),
        HiddenCase("simulated lab values with other names: zeros, gaps, a column of whole numbers",
                   inputs=lambda: {"data": _lab_values(), "columns": ["glucose", "bmi"]},
                   reference=zeros_flagged),
    ],
    "audit-pipeline-function": [
        HiddenCase("other columns, trained without the Swiss hospital, then scoring its patients (a hospital it "
                   "never saw, cholesterol never measured)",
                   inputs=lambda: _without_switzerland(["age", "resting_bp", "cholesterol"], ["chest_pain"]),
                   reference=pipeline_scores,
                   explain="the pipeline's probabilities for new patients differ from those of the pipeline the "
                           "exercise describes"),
        HiddenCase("the course's ten features, trained on four of the course's five folds: the course's own scores "
                   "for the fifth", inputs=_course_fold, reference=course_scores,
                   explain="the exercise's pipeline reproduces the course's baseline scores"),
        HiddenCase("simulated patients with other column names, gaps in every column, categories never seen, "
                   "add_indicator=True",
                   inputs=_clinic, reference=pipeline_scores,
                   explain="median and most-frequent imputation learned on the training patients, missing-value "
                           "indicators, scaling, one-hot encoding that ignores new categories"),
        HiddenCase("the same simulated patients, add_indicator=False passed by name",
                   inputs=lambda: _clinic(add_indicator=False), reference=pipeline_scores,
                   explain="add_indicator=False: no indicator columns, the measurements imputed and scaled"),
    ],
    "audit-out-of-fold-function": [
        HiddenCase("the course's patients read with plain pandas: three features, 3 folds, seed 7",
                   inputs=lambda: {"X": _three_features(), "y": disease(), "n_splits": 3, "random_state": 7},
                   reference=fold_by_fold,
                   explain="folds from StratifiedKFold(n_splits, shuffle=True, random_state); probabilities of "
                           "class 1"),
        HiddenCase("the course's encoded model inputs (notebook 02's file), 10 folds",
                   inputs=lambda: {"X": _encoded_inputs(), "y": disease(), "n_splits": 10, "random_state": 0},
                   reference=fold_by_fold),
        HiddenCase("another model: a logistic regression with strong regularisation (C = 0.05)",
                   inputs=lambda: {"X": _three_features(), "y": disease(), "n_splits": 5, "random_state": 1,
                                   "C": 0.05},
                   reference=fold_by_fold, explain="fit clones of the model you are given, not a model of your own"),
        HiddenCase("a rare outcome: 60 simulated patients, 9 with it, rows labelled by patient number",
                   inputs=_rare_outcome, reference=fold_by_fold,
                   explain="stratified folds keep the few patients with the outcome spread over the folds"),
    ],
    "audit-error-rates-function": [
        HiddenCase("three simulated groups of 300 patients, one without any patient with the condition",
                   inputs=_three_simulated_groups, reference=fairlearn_table,
                   explain="a group without patients with the condition has no FNR: NaN, not 0"),
        HiddenCase("the course's baseline decisions for the 920 patients, by sex",
                   inputs=lambda: {"y_true": disease(), "y_pred": shipped_decisions("baseline_score"),
                                   "sensitive_features": raw_heart()["sex"].to_numpy().astype(str)},
                   reference=fairlearn_table),
        HiddenCase("the re-weighted model's decisions, by hospital",
                   inputs=lambda: {"y_true": disease(), "y_pred": shipped_decisions("balanced_score"),
                                   "sensitive_features": raw_heart()["site"].to_numpy().astype(str)},
                   reference=fairlearn_table),
        HiddenCase("sex within hospital, as plain lists: the Swiss women all have the condition",
                   inputs=_sex_within_site, reference=fairlearn_table,
                   explain="a group without patients free of the condition has no FPR: NaN, not 0"),
    ],
    "audit-small-groups-function": [
        HiddenCase("sex by age band (bands as text), at the default min_size",
                   inputs=lambda: {"data": _age_bands_as_text(), "group_cols": ["sex", "band"]},
                   reference=combinations_under, explain="without min_size, small means fewer than 30 patients"),
        HiddenCase("hospital by sex, at 15",
                   inputs=lambda: {"data": raw_heart(), "group_cols": ["site", "sex"], "min_size": 15},
                   reference=combinations_under),
        HiddenCase("a hospital left without women, hospital by sex at 15",
                   inputs=lambda: {"data": _without_va_women(), "group_cols": ["site", "sex"], "min_size": 15},
                   reference=combinations_under,
                   explain="a combination with nobody in it is the smallest group of all: listed, with n = 0"),
        HiddenCase("a group of exactly min_size patients (the Swiss women, at their own number)",
                   inputs=lambda: {"data": raw_heart(), "group_cols": ["site", "sex"], "min_size": 10},
                   reference=combinations_under, explain="small means fewer than min_size"),
        HiddenCase("one hospital by sex and age band, the bands a category (nobody there is over 70)",
                   inputs=lambda: {"data": _hungary_with_band_categories(), "group_cols": ["sex", "band"]},
                   reference=combinations_under,
                   explain="for a categorical column every category counts, also one nobody is in"),
        HiddenCase("three columns: hospital, sex and chest pain, at 5",
                   inputs=lambda: {"data": raw_heart(), "group_cols": ["site", "sex", "chest_pain"], "min_size": 5},
                   reference=combinations_under),
        HiddenCase("nothing small: sex alone",
                   inputs=lambda: {"data": raw_heart(), "group_cols": ["sex"], "min_size": 30},
                   expected=[], reveal=True, explain="no group under min_size: a table without rows"),
        HiddenCase("the table's columns: the group columns, then n",
                   inputs=lambda: {"data": raw_heart(), "group_cols": ["sex", "site"], "min_size": 20},
                   check=small_table_named),
    ],
    "audit-weights-function": [
        HiddenCase("the course's 920 patients' sex, as a pandas Series",
                   inputs=lambda: {"sensitive_features": raw_heart()["sex"]}, reference=balancing),
        HiddenCase("the four hospitals, as a plain list",
                   inputs=lambda: {"sensitive_features": raw_heart()["site"].tolist()}, reference=balancing),
        HiddenCase("five simulated groups of very different sizes",
                   inputs=lambda: {"sensitive_features": _uneven_groups()}, reference=balancing,
                   explain="n_patients / (n_groups x patients in the patient's group)"),
        HiddenCase("groups coded as numbers",
                   inputs=lambda: {"sensitive_features": np.array([2, 0, 0, 1, 2, 0, 0, 0, 1, 0])},
                   reference=balancing),
        HiddenCase("one hospital's patients by sex (rows not numbered from 0)",
                   inputs=lambda: {"sensitive_features": raw_heart().query("site == 'VA Long Beach'")["sex"]},
                   reference=balancing, explain="one weight per patient, in the order given"),
    ],
    "audit-paired-change-function": [
        HiddenCase("the course's baseline and re-weighted decisions for the women, 2000 resamples",
                   inputs=lambda: _shipped_pair(is_female(), n_boot=2000, random_state=0),
                   reference=paired_change,
                   explain="the same resampled patients for both models, drawn exactly as the exercise says"),
        HiddenCase("the same for the men, 1000 resamples, seed 5",
                   inputs=lambda: _shipped_pair(~is_female(), n_boot=1000, random_state=5),
                   reference=paired_change),
        HiddenCase("the same decisions before and after",
                   inputs=lambda: {**_shipped_pair(is_female(), n_boot=500, random_state=2),
                                   "y_pred_after": shipped_decisions("baseline_score")[is_female()]},
                   expected={"change": 0.0, "ci_low": 0.0, "ci_high": 0.0}, reveal=True,
                   explain="no patient changed: the change and both ends of its paired interval are 0"),
        HiddenCase("simulated patients, an 80 % interval",
                   inputs=lambda: _simulated_pair(150, 60, 1111, n_boot=800, random_state=4, confidence_level=0.8),
                   reference=paired_change, explain="the interval is at the confidence_level you are given"),
        HiddenCase("few patients with the condition: some resamples have none",
                   inputs=lambda: _simulated_pair(15, 2, 1212, n_boot=400, random_state=9),
                   reference=paired_change,
                   explain="a resample without patients with the condition has no FNR: leave it out (np.nanquantile)"),
    ],
    "audit-gap-decision-function": in_no_telling_order(
        [_gap_case(number, *scenario) for number, scenario in enumerate(GAP_SCENARIOS, start=1)], 7500),
    "audit-change-decision-function": in_no_telling_order(_change_cases(), 7500),
}

SCORING = {"audit-gap-decision-function": decision_score, "audit-change-decision-function": decision_score}
