"""Hidden material of notebook 04 (a chest X-ray classifier across age and sex): instructor-only, never in the learner
edition or a sandbox.

The code questions' hidden cases run the learner's functions on films of other seeds and sizes
(:func:`course_utils.radiographs.make_chest_films`), other groups (age band x sex, renamed, as categories), tied
scores, a group without films with pneumonia, other weights and tensor shapes for the gradient reversal layer, and
24 models of :func:`course_utils.scenarios.marker_scenario` from a population no learner has.  Their references are
computed here from the inputs as the learner's code receives them, independently of the solution: the threshold by
trying every candidate, the Wilson interval from its formula, the weights from NumPy's counts, the split's
properties recounted from the rows it returned.
"""

import functools
import math

import numpy as np
import pandas as pd
from scipy.stats import norm

from course_utils.exercises.questions.imaging import AUDIT_COLUMNS, CNN_AUC, CNN_WEIGHTS
from course_utils.instructor.cases import HiddenCase, decision_check, decision_score, first_clear, in_no_telling_order


@functools.cache
def films(n_patients: int, seed: int, image_size: int = 32):
    from course_utils.radiographs import make_chest_films

    return make_chest_films(n_patients, image_size=image_size, random_state=seed)


def _noisy_decisions(facts: pd.DataFrame, seed: int) -> np.ndarray:
    """Decisions of a model that misses women's and the young's pneumonia more often, drawn with a seed."""
    draw = np.random.default_rng(seed)
    sick = facts["pneumonia"].to_numpy() == 1
    miss = np.where(facts["sex"].to_numpy() == "Female", 0.35, 0.2) + np.where(facts["age"].to_numpy() < 40, 0.15, 0)
    return np.where(sick, draw.random(len(facts)) >= miss, draw.random(len(facts)) < 0.12).astype(int)


# --- split_by_patient ----------------------------------------------------------------------------------------------

def _split_inputs(n_patients, seed, test_size, shuffle=None):
    facts = films(n_patients, seed).facts.drop(columns=["pneumonia", "zone"])
    if shuffle is not None:
        facts = facts.sample(frac=1.0, random_state=shuffle)
        facts.index = [f"film {i}" for i in facts["film_id"]]
    return {"facts": facts, "test_size": test_size, "random_state": seed}


def split_check(output, inputs):
    """The split's properties, recounted here from the rows returned: every row once, no patient in both parts,
    ``test_size`` of the patients (rounded either way) in the test part, and the same split for the same seed."""
    facts = inputs["facts"]
    n, patients = len(facts), facts["patient_id"].to_numpy()
    rows = {part: output.get(part) for part in ("train", "test", "again_train", "again_test")}
    if not all(isinstance(value, list) for value in rows.values()):
        return "the split could not be read as two lists of row positions"
    every = rows["train"] + rows["test"]
    if any(not isinstance(row, int) or not 0 <= row < n for row in every):
        return f"some row positions are outside 0 to {n - 1}"
    if sorted(every) != list(range(n)):
        return "every film should be in exactly one part: some are in neither part, or in both"
    shared = set(patients[rows["train"]]) & set(patients[rows["test"]])
    if shared:
        return f"{len(shared)} patients have films in both parts: their test films are not new to the model"
    wanted = inputs["test_size"] * len(set(patients))
    held = len(set(patients[rows["test"]]))
    if not math.floor(wanted - 1e-9) <= held <= math.ceil(wanted + 1e-9):
        return f"the test part holds {held} patients; test_size x patients is {wanted:g}"
    if sorted(rows["again_train"]) != sorted(rows["train"]) or sorted(rows["again_test"]) != sorted(rows["test"]):
        return "the same random_state gave another split: seed every random step"
    return None


# --- threshold_for_sensitivity ----------------------------------------------------------------------------------------

def threshold_reference(y_true, scores, sensitivity):
    """Try every score as the threshold, from the highest down: the first that flags enough films with pneumonia."""
    y, s = np.asarray(y_true), np.asarray(scores, dtype=float)
    positives = s[y == 1]
    if not len(positives):
        return math.nan
    for candidate in sorted(set(s.tolist()), reverse=True):
        if (positives >= candidate).mean() >= sensitivity - 1e-12:
            return float(candidate)
    return math.nan  # unreachable: the lowest score flags every film


def _threshold_inputs(seed, sensitivity, decimals=None, as_list=False):
    facts = films(600, seed).facts
    draw = np.random.default_rng(seed)
    scores = 1 / (1 + np.exp(-(1.6 * facts["pneumonia"].to_numpy() - 1 + draw.normal(0, 1, len(facts)))))
    scores = np.round(scores, decimals) if decimals is not None else scores
    y = (facts["label"] == 1).astype(int).to_numpy()
    return {"y_true": y.tolist() if as_list else y, "scores": scores.tolist() if as_list else scores,
            "sensitivity": sensitivity}


# --- error_rates_by_group -------------------------------------------------------------------------------------------

def wilson(k: int, n: int, confidence_level: float) -> tuple[float, float]:
    """Wilson's score interval from its formula (Wilson 1927)."""
    if n == 0:
        return math.nan, math.nan
    z, p = norm.ppf((1 + confidence_level) / 2), k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def audit_reference(y_true, y_pred, sensitive_features, min_count=30, confidence_level=0.95):
    y, p = np.asarray(y_true), np.asarray(y_pred)
    groups = np.asarray(pd.Series(sensitive_features).astype(str))
    table = {column: {} for column in AUDIT_COLUMNS}
    for group in np.unique(groups):
        mine = groups == group
        counts = {}
        for rate, truth, wrong, count in (("fnr", 1, 0, "n_positive"), ("fpr", 0, 1, "n_negative")):
            n = int((mine & (y == truth)).sum())
            k = int((mine & (y == truth) & (p == wrong)).sum())
            counts[count] = n
            table[count][group] = n
            table[rate][group] = k / n if n else math.nan
            table[f"{rate}_low"][group], table[f"{rate}_high"][group] = wilson(k, n, confidence_level)
        table["small"][group] = counts["n_positive"] < min_count or counts["n_negative"] < min_count
    return table


def _audit_inputs(seed, groups="age x sex", min_count=30, confidence_level=0.95, rename=None):
    facts = films(700, seed).facts
    if groups == "age x sex":
        labels = facts["age_band"].astype(str) + " & " + facts["sex"]
    else:
        labels = facts[groups].astype(str)
    if rename:
        labels = pd.Series(pd.Categorical(labels.map(rename), categories=sorted(set(rename.values())) + ["nobody"]))
    return {"y_true": facts["pneumonia"].to_numpy(), "y_pred": _noisy_decisions(facts, seed),
            "sensitive_features": labels, "min_count": min_count, "confidence_level": confidence_level}


def _audit_without_positives():
    """One group of 40 films, none with pneumonia: its FNR and interval are undefined."""
    inputs = _audit_inputs(31, groups="sex")
    y, groups = inputs["y_true"].copy(), inputs["sensitive_features"].to_numpy().astype(str)
    healthy = np.flatnonzero(y == 0)[:40]
    groups[healthy] = "no pneumonia here"
    inputs["sensitive_features"] = groups
    return inputs


# --- prevalence_weights -------------------------------------------------------------------------------------------------

def weights_reference(labels, sensitive_features):
    """n_group x n_label / (n x n_cell), counted with NumPy's unique."""
    y = np.asarray(labels).astype(str)
    g = np.asarray(pd.Series(sensitive_features).astype(str))
    cells = np.char.add(np.char.add(g.astype(str), "\x00"), y)

    def count(values):
        names, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        return counts[inverse]

    return (count(g) * count(y) / (len(y) * count(cells))).tolist()


def _weights_inputs(seed, categorical=False, as_float=False, by="age x sex", uncertain=False):
    facts = films(800, seed).facts
    groups = facts["age_band"].astype(str) + " & " + facts["sex"] if by == "age x sex" else facts[by]
    labels = facts["label"] if uncertain else facts["label"].clip(lower=0)
    if categorical:
        groups = pd.Series(pd.Categorical(groups), index=facts.index)
    return {"labels": labels.astype(float) if as_float else labels, "sensitive_features": groups}


# --- GradientReversal ---------------------------------------------------------------------------------------------------

def reversal_reference(weight, x, upstream):
    return (np.asarray(x, dtype=float).ravel().tolist()
            + (-float(weight) * np.asarray(upstream, dtype=float)).ravel().tolist())


def _reversal_inputs(weight, shape, seed):
    draw = np.random.default_rng(seed)
    return {"weight": weight, "x": np.round(draw.normal(0, 1, shape), 3).astype("float32"),
            "upstream": np.round(draw.normal(0, 1, shape), 3).astype("float32")}


# --- seed_summary ----------------------------------------------------------------------------------------------------

SEED_COLUMNS = ("method", "n_seeds", "auc", "auc_ci_low", "auc_ci_high", "fnr_gap", "fnr_gap_ci_low", "fnr_gap_ci_high")


def seeds_reference(results):
    """Plain loops: each setting's rows, its mean, lowest and highest seed per metric (NaN left out)."""
    table = {column: {} for column in SEED_COLUMNS}
    for setting in dict.fromkeys(results["setting"]):
        rows = results[results["setting"] == setting]
        table["method"][setting] = rows["method"].iloc[0]
        table["n_seeds"][setting] = len(rows)
        for metric in ("auc", "fnr_gap"):
            values = [float(v) for v in rows[metric] if not math.isnan(float(v))]
            table[metric][setting] = sum(values) / len(values) if values else math.nan
            table[f"{metric}_ci_low"][setting] = min(values) if values else math.nan
            table[f"{metric}_ci_high"][setting] = max(values) if values else math.nan
    return table


def _seed_inputs(seed, settings, n_seeds=3, missing=0.0, shuffle=False):
    draw = np.random.default_rng(seed)
    rows = [{"setting": setting, "method": setting.split()[0], "seed": k, "auc": float(draw.uniform(0.8, 0.97)),
             "fnr_gap": float(draw.uniform(0, 0.4)) if draw.random() >= missing else math.nan}
            for setting in settings for k in range(n_seeds)]
    results = pd.DataFrame(rows)
    return {"results": results.sample(frac=1.0, random_state=seed) if shuffle else results}


def seeds_in_order(output, inputs):
    """The settings in the order they first appear in results, each once."""
    order = list(dict.fromkeys(inputs["results"]["setting"]))
    got = list(output.index) if hasattr(output, "index") else None
    return None if got == order else f"the rows should be the settings in the order they first appear: {order}"


# --- labels_under_policy ------------------------------------------------------------------------------------------------

def policy_reference(labels, policy):
    kept = [(str(row), float({-1: {"zeros": 0, "ones": 1}.get(policy, -1)}.get(value, value)))
            for row, value in zip(labels.index, labels.to_numpy()) if not (policy == "drop" and value == -1)]
    return {"rows": [row for row, _ in kept], "labels": [value for _, value in kept]}


def _policy_inputs(policy, seed, shuffle=False):
    labels = films(300, seed).facts.set_index("film_id")["label"]
    labels.index = [f"film {i}" for i in labels.index]
    if shuffle:
        labels = labels.sample(frac=1.0, random_state=seed)
    return {"labels": labels, "policy": policy}


# --- relies_on_marker: 24 scenarios with a planted truth ----------------------------------------------------------------

#: The grader's populations: seeds no learner has, so that no hand-in can recognise a scenario it was shown.
HIDDEN_POPULATION_SEED = 4_118_562_907
#: A model relies on the marker when removing it from AP films, and adding it to PA films, each move the mean
#: score by at least this much; it does not when both move it by at most NEGLIGIBLE.  Scenarios in between are not
#: used: every sound test agrees on the ones that are.
RELIANT, NEGLIGIBLE = 0.08, 0.025
#: (planted, image size, marker brightness, training patients, new patients): 12 planted, 12 not.
MARKER_SETTINGS = [(planted, size, marker, n_train, n_new)
                   for planted in [True, False]  # planted first, then not
                   for size, marker, n_train, n_new in [(32, 1.0, 250, 200), (32, 0.7, 300, 150), (40, 0.9, 250, 250),
                                                        (32, 0.7, 350, 200), (40, 1.0, 300, 150), (32, 0.8, 200, 250),
                                                        (32, 1.0, 300, 120), (40, 0.8, 350, 200), (32, 0.9, 250, 180),
                                                        (40, 0.8, 200, 220), (32, 0.6, 300, 250), (32, 0.7, 250, 160)]]


def marker_effects(scenario, marker) -> tuple[float, float]:
    """Mean score change when the marker is removed from AP films, and when it is added to PA films."""
    from course_utils.radiographs import marker_box
    from course_utils.scenarios import scenario_predict

    predict = scenario_predict(scenario["coef"], scenario["intercept"])
    images, ap = scenario["images"], (scenario["facts"]["view"] == "AP").to_numpy()
    rows, columns = marker_box(images.shape[1])
    removed = images[ap].copy()
    removed[:, rows, columns] = images[~ap][:, rows, columns].mean(axis=0)
    added = images[~ap].copy()
    added[:, rows, columns] = np.clip(added[:, rows, columns] + marker, 0, 1)
    return (float((predict(images[ap]) - predict(removed)).mean()),
            float((predict(added) - predict(images[~ap])).mean()))


# --- train_cnn --------------------------------------------------------------------------------------------------------

#: The CNN's film sets: (pixels per side, seed, training patients, new patients, trained twice).  Films of the
#: hidden population at the notebook's size and at the public case's; the new films' labels stay here.  Two sets,
#: three trainings: each costs a few seconds of a grading kernel, and the judge does not run the public case again.
CNN_SETS = [(32, 111, 300, 250, True), (40, 113, 300, 250, False)]


@functools.cache
def cnn_films(size, seed, n_train, n_new):
    from course_utils.scenarios import cnn_scenario

    return cnn_scenario(random_state=seed, image_size=size, n_train_patients=n_train, n_test_patients=n_new,
                        population_seed=HIDDEN_POPULATION_SEED)


def cnn_inputs(size, seed, n_train, n_new, again):
    films_ = cnn_films(size, seed, n_train, n_new)
    return {"films": films_["films"], "labels": films_["labels"], "test_films": films_["test_films"],
            "random_state": seed % 7, "again": again}


def rank_auc(labels, scores) -> float:
    """The AUC as the share of (positive, negative) pairs ranked the right way round, ties counting half
    (Mann-Whitney), from the ranks of the scores."""
    from scipy.stats import rankdata

    labels, ranks = np.asarray(labels) == 1, rankdata(np.asarray(scores, dtype=float))
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _finite_scores(scores, n) -> bool:
    return isinstance(scores, list) and len(scores) == n and all(
        isinstance(score, (int, float)) and math.isfinite(score) for score in scores)


def cnn_check(size, seed, n_train, n_new, again):
    """A check of the learner's trained model on one film set: a convolution, at most CNN_WEIGHTS weights, one
    finite score per new film, an AUC of at least CNN_AUC against the new films' labels, and
    -- where the set says so -- the same scores, compared here, when trained again with the same random_state."""
    labels = cnn_films(size, seed, n_train, n_new)["test_labels"]

    def check(output, inputs):
        scores = output.get("scores") if isinstance(output, dict) else None
        if not _finite_scores(scores, len(labels)):
            return f"the model should give one finite score for each of the {len(labels)} new films"
        if output.get("convolutional") is not True:
            return "the model has no convolution layer"
        if not isinstance(output.get("weights"), int) or output["weights"] > CNN_WEIGHTS:
            return f"the model has more than {CNN_WEIGHTS:,} weights"
        if again:
            repeated = output.get("scores_again")
            if not _finite_scores(repeated, len(labels)) or not np.allclose(repeated, scores, atol=1e-5):
                return "training again with the same random_state gave other scores: seed every random step"
        if rank_auc(labels, scores) < CNN_AUC:
            return f"on {size}-pixel films of new patients the model ranks films with pneumonia too poorly"
        return None

    return check


def _marker_clear(planted, scenario, marker) -> bool:
    effects = marker_effects(scenario, marker)
    return min(effects) >= RELIANT if planted else max(map(abs, effects)) <= NEGLIGIBLE


def marker_inputs(planted, size, marker, n_train, n_new, seed, population_seed=HIDDEN_POPULATION_SEED):
    from course_utils.scenarios import marker_scenario

    def make(attempt):
        return marker_scenario(planted, random_state=attempt, image_size=size, n_train_patients=n_train,
                               n_test_patients=n_new, marker=marker, population_seed=population_seed)

    return first_clear(make, planted, lambda truth, scenario: _marker_clear(truth, scenario, marker), seed)


def _marker_name(number, planted, size, marker):
    site = ("portable films went with pneumonia" if planted else "the portable machine put no marker on films")
    return f"scenario {number} of 24: {size}-pixel films, marker brightness {marker}; at the training site {site}"


MARKER_EXPLAIN = ("compare each film's score with and without the marker (paired), not AP films with PA films: AP "
                  "films are more often of sick inpatients whatever the model learned")

UNDEFINED_FNR = "a group without films with pneumonia has no FNR: NaN for the rate and both ends of its interval"

CASES = {
    "imaging-split-function": [
        HiddenCase("another seed's films of 400 patients, 30 % of the patients to test", inputs=lambda: _split_inputs(
            400, 41, 0.3), check=split_check, explain="split the patients; all of a patient's films go to one part"),
        HiddenCase("films in no order, labelled by text, a quarter of 250 patients to test",
                   inputs=lambda: _split_inputs(250, 42, 0.25, shuffle=7), check=split_check,
                   explain="return row positions (0 to n - 1), not the index's labels"),
        HiddenCase("1,000 patients, a tenth to test", inputs=lambda: _split_inputs(1000, 43, 0.1), check=split_check),
    ],
    "imaging-cnn-function": [
        HiddenCase(f"{n_train} patients' {size}-pixel films of another population, scored on {n_new} new patients'"
                   + (", trained twice with the same random_state" if again else ""),
                   inputs=functools.partial(cnn_inputs, size, seed, n_train, n_new, again),
                   check=cnn_check(size, seed, n_train, n_new, again),
                   explain=f"a CNN (a convolution layer) of at most {CNN_WEIGHTS:,} weights, seeded, that reads the "
                           f"films' size from them and reaches an AUC of {CNN_AUC} on new patients' films")
        for size, seed, n_train, n_new, again in CNN_SETS
    ],
    "imaging-threshold-function": [
        HiddenCase("another seed's 2,000 films, 90 % sensitivity", inputs=lambda: _threshold_inputs(51, 0.9),
                   reference=threshold_reference,
                   explain="the highest threshold at which at least `sensitivity` of the films with pneumonia score at "
                           "or above it"),
        HiddenCase("scores rounded to two decimals (many ties), 80 %, as plain lists",
                   inputs=lambda: _threshold_inputs(52, 0.8, decimals=2, as_list=True), reference=threshold_reference,
                   explain="a tie at the threshold is flagged: a score equal to the threshold counts"),
        HiddenCase("a third of the films with pneumonia, one decimal", inputs=lambda: _threshold_inputs(
            53, 1 / 3, decimals=1), reference=threshold_reference),
        HiddenCase("no film with pneumonia", inputs={"y_true": np.zeros(5, dtype=int),
                                                    "scores": np.array([0.1, 0.5, 0.5, 0.9, 0.2]), "sensitivity": 0.9},
                   expected=math.nan, reveal=True, explain="no film with pneumonia: the threshold is undefined (NaN)"),
    ],
    "imaging-audit-function": [
        HiddenCase("another seed's 2,400 films by age band x sex (eight groups)", inputs=lambda: _audit_inputs(61),
                   reference=audit_reference,
                   explain="FNR over the films with pneumonia, FPR over those without, Wilson intervals; small when "
                           "either count is below min_count"),
        HiddenCase("by sex, renamed groups as a category with one nobody is in, min_count 100, a 99 % interval",
                   inputs=lambda: _audit_inputs(62, groups="sex", min_count=100, confidence_level=0.99,
                                                rename={"Female": "women", "Male": "men"}),
                   reference=audit_reference, explain="one row per group that has films; use the arguments as given"),
        HiddenCase("a group of 40 films, none with pneumonia", inputs=_audit_without_positives,
                   reference=audit_reference, explain=UNDEFINED_FNR),
        HiddenCase("by age band, a 90 % interval", inputs=lambda: _audit_inputs(63, groups="age_band",
                                                                              confidence_level=0.9),
                   reference=audit_reference),
    ],
    "imaging-weights-function": [
        HiddenCase("another seed's 2,700 films by age band x sex", inputs=lambda: _weights_inputs(71),
                   reference=weights_reference,
                   explain="each film weighs P(group) x P(label) / P(group, label), counted over all films given"),
        HiddenCase("the groups as a pandas category, the labels as floats", inputs=lambda: _weights_inputs(
            72, categorical=True, as_float=True), reference=weights_reference,
                   explain="a category nobody is in has no films, and no weight"),
        HiddenCase("by sex, the labels 1, 0 and -1 (uncertain kept as a label of its own)",
                   inputs=lambda: _weights_inputs(73, by="sex", uncertain=True), reference=weights_reference,
                   explain="every label value is a label: each (group, label) cell counts"),
    ],
    "imaging-reversal-function": [
        HiddenCase("weight 2.5, a batch of 2 films of 3 x 3 pixels", inputs=lambda: _reversal_inputs(2.5, (2, 3, 3, 1), 81),
                   reference=reversal_reference, explain="forward: the input unchanged; backward: -weight x upstream"),
        HiddenCase("weight 0: the adversary switched off", inputs=lambda: _reversal_inputs(0.0, (4, 5), 82),
                   reference=reversal_reference, explain="weight 0 lets no gradient through: zeros"),
        HiddenCase("weight 3 given as a whole number, a vector", inputs=lambda: _reversal_inputs(3, (7,), 83),
                   reference=reversal_reference),
    ],
    "imaging-seeds-function": [
        HiddenCase("the notebook's five settings, three seeds each, in another order",
                   inputs=lambda: _seed_inputs(101, ["adversarial 3", "baseline", "reweighing 1", "adversarial 0.3",
                                                     "adversarial 1"]), reference=seeds_reference,
                   explain="the mean over the seeds, and the lowest and the highest seed, per setting"),
        HiddenCase("rows in no order, some gaps missing (NaN)", inputs=lambda: _seed_inputs(
            102, ["baseline", "adversarial 1", "adversarial 3"], n_seeds=5, missing=0.3, shuffle=True),
                   reference=seeds_reference, explain="a NaN is left out of its column's mean, lowest and highest"),
        HiddenCase("the settings in the order they first appear", inputs=lambda: _seed_inputs(
            103, ["reweighing 1", "baseline", "adversarial 0.3"], n_seeds=2, shuffle=True), check=seeds_in_order),
        HiddenCase("one seed per setting", inputs=lambda: _seed_inputs(104, ["baseline", "adversarial 1"], n_seeds=1),
                   reference=seeds_reference, explain="one seed: its value is the mean, the lowest and the highest"),
    ],
    "imaging-policy-function": [
        HiddenCase("another seed's 1,000 labels, 'ones'", inputs=lambda: _policy_inputs("ones", 91),
                   reference=policy_reference, explain="uncertain (-1) counts as positive; the index as given"),
        HiddenCase("labels in no order, 'drop'", inputs=lambda: _policy_inputs("drop", 92, shuffle=True),
                   reference=policy_reference, explain="the films with -1 are left out, the others kept in their order"),
        HiddenCase("the same labels, 'zeros'", inputs=lambda: _policy_inputs("zeros", 92, shuffle=True),
                   reference=policy_reference),
    ],
    # In no telling order: a function that counts its calls learns nothing of which scenario it is judged on.
    "imaging-marker-function": in_no_telling_order([
        HiddenCase(_marker_name(k + 1, planted, size, marker),
                   inputs=functools.partial(marker_inputs, planted, size, marker, n_train, n_new, 9000 + 37 * k),
                   check=decision_check(planted, nothing=False, false_alarm="but the model does not rely on the marker",
                                        missed="missed: the model relies on the marker", wrong="wrong"),
                   explain=MARKER_EXPLAIN)
        for k, (planted, size, marker, n_train, n_new) in enumerate(MARKER_SETTINGS)], 4044),
}

SCORING = {"imaging-marker-function": decision_score}
