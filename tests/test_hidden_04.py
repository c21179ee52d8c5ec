"""Notebook 04's hidden cases: right answers pass, the usual wrong ones and constants score 0, the truth stays out.

The judge is built once and each answer is run through the grading harness in this process, as a hand-in's kernel
runs it.  The correct answers below are written here, another way than the solution's (a split drawn with NumPy,
the Wilson interval from its formula, the reversal by the stop-gradient identity, the marker *added* to PA films);
each wrong answer is a mistake the question's misconception rules name, or a way to score without the skill.
"""

import json
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.model_selection import train_test_split

from course_utils.exercises import evaluate
from course_utils.exercises.questions import QUESTIONS
from course_utils.exercises.questions.imaging import CNN_AUC
from course_utils.instructor.cases import DECISION_ERRORS_FOR_ZERO, load_hidden
from course_utils.instructor.judge import Judge
from course_utils.radiographs import marker_box
from judging import assert_each_wrong_scenario_costs_an_eighth, judged, sandbox_text

# Judges built in process and every case run: seconds per question; `make test` runs them, `make check` not.
pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
HIDDEN = load_hidden("04")
MODULE = sys.modules["course_hidden_04"]
CODE = sorted(qid for qid, q in QUESTIONS.items() if q.notebook == "04" and q.answer_type == "code")


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Judge("04", tmp_path_factory.mktemp("judge04"))


# --- correct answers, written for these tests ---------------------------------------------------------------------

def split_by_patient(facts, *, test_size, random_state):
    patients = np.unique(facts["patient_id"].to_numpy())
    chosen = np.random.default_rng(random_state).permutation(patients)[: round(test_size * len(patients))]
    held = np.isin(facts["patient_id"].to_numpy(), chosen)
    return np.flatnonzero(~held), np.flatnonzero(held)


def threshold_for_sensitivity(y_true, scores, *, sensitivity):
    s, y = np.asarray(scores, dtype=float), np.asarray(y_true)
    positives = s[y == 1]
    candidates = [t for t in np.unique(positives) if (positives >= t).mean() >= sensitivity - 1e-12]
    return float(max(candidates)) if candidates else math.nan


def _wilson(k, n, level):
    z = norm.ppf(0.5 + level / 2)
    middle, spread = (k + z * z / 2) / (n + z * z), z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return max(0.0, middle - spread), min(1.0, middle + spread)


def error_rates_by_group(y_true, y_pred, *, sensitive_features, min_count=30, confidence_level=0.95):
    frame = pd.DataFrame({"y": np.asarray(y_true), "p": np.asarray(y_pred),
                          "g": pd.Series(sensitive_features).astype(str).to_numpy()})
    out = []
    for group, rows in frame.groupby("g", sort=True):
        record = {"group": group}
        for name, truth in (("fnr", 1), ("fpr", 0)):
            n = int((rows["y"] == truth).sum())
            k = int(((rows["y"] == truth) & (rows["p"] != truth)).sum())
            low, high = _wilson(k, n, confidence_level) if n else (np.nan, np.nan)
            record.update({f"n_{'positive' if truth else 'negative'}": n, name: k / n if n else np.nan,
                           f"{name}_low": low, f"{name}_high": high})
        record["small"] = min(record["n_positive"], record["n_negative"]) < min_count
        out.append(record)
    return pd.DataFrame(out).set_index("group")


def prevalence_weights(labels, sensitive_features):
    g = pd.Series(np.asarray(pd.Series(sensitive_features).astype(str)))
    y = pd.Series(np.asarray(labels))
    cells = pd.crosstab(g, y)
    expected = np.outer(cells.sum(axis=1), cells.sum(axis=0)) / len(y)
    ratio = pd.DataFrame(expected / cells.to_numpy(), index=cells.index, columns=cells.columns)
    return np.array([ratio.at[group, label] for group, label in zip(g, y)])


def _reversal_function():
    from course_utils.radiographs import load_keras

    _, tf = load_keras()

    def reverse_gradient(x, weight):
        # value x, gradient -weight: the stop-gradient part carries the value and no gradient
        return -weight * x + tf.stop_gradient((1 + weight) * x)

    return reverse_gradient


def _cnn_function(kind="correct"):
    """A train_cnn built in the Python that runs it (TensorFlow must be eager there).  "correct" is written another
    way than the solution's (the functional API, one mean and spread for every pixel, 3 x 3 convolutions, average
    pooling); the others are the usual mistakes, and ways to score without the skill."""
    from course_utils.radiographs import load_keras

    keras, _ = load_keras()

    def train_cnn(films, labels, *, random_state):
        size = 32 if kind == "fixed_size" else films.shape[1]
        if kind != "unseeded":
            keras.utils.set_random_seed(random_state)
        films_in = keras.Input((size, size, 1))
        x = keras.layers.Rescaling(1 / float(films.std()), offset=-float(films.mean() / films.std()))(films_in)
        if kind == "dense_only":  # no convolution: a network of the pixels
            x = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(x))
        elif kind == "too_big":
            x = keras.layers.Conv2D(32, 3, activation="relu", padding="same")(x)
            x = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(x))
        else:
            for filters in (12, 16):
                x = keras.layers.Conv2D(filters, 3, activation="relu", padding="same")(x)
                x = keras.layers.AveragePooling2D(2)(x)
            x = keras.layers.Flatten()(x)
        model = keras.Model(films_in, keras.layers.Dense(1, activation="sigmoid")(x))
        model.compile(optimizer=keras.optimizers.Adam(5e-3), loss="binary_crossentropy")
        if kind != "untrained":
            model.fit(films[..., None], labels, epochs=10, batch_size=32, verbose=0)
        return model

    train_cnn.__name__ = f"train_cnn_{kind}"
    return train_cnn


def labels_under_policy(labels, policy):
    if policy not in ("zeros", "ones", "drop"):
        raise ValueError("policy: 'zeros', 'ones' or 'drop'")
    if policy == "drop":
        return labels.loc[labels.to_numpy() != -1]
    return labels.where(labels != -1, 1 if policy == "ones" else 0)


def relies_on_marker(predict, images, facts):
    """Another sound test: put the marker on PA films (and nothing else) and see whether their scores rise."""
    rows, columns = marker_box(images.shape[1])
    ap = (facts["view"] == "AP").to_numpy()
    marked = images[~ap].copy()
    marked[:, rows, columns] = np.median(images[ap][:, rows, columns], axis=0)
    return bool((predict(marked) - predict(images[~ap])).mean() > 0.05)


def seed_summary(results):
    rows = {}
    for setting in pd.unique(results["setting"]):
        mine = results[results["setting"] == setting]
        row = {"method": mine["method"].iloc[0], "n_seeds": len(mine)}
        for metric in ("auc", "fnr_gap"):
            values = mine[metric].dropna().to_numpy(dtype=float)
            row[metric] = values.mean() if len(values) else np.nan
            row[f"{metric}_ci_low"] = values.min() if len(values) else np.nan
            row[f"{metric}_ci_high"] = values.max() if len(values) else np.nan
        rows[setting] = row
    return pd.DataFrame.from_dict(rows, orient="index")


CORRECT = {"imaging-split-function": split_by_patient, "imaging-seeds-function": seed_summary, "imaging-threshold-function": threshold_for_sensitivity,
           "imaging-audit-function": error_rates_by_group, "imaging-weights-function": prevalence_weights,
           "imaging-policy-function": labels_under_policy, "imaging-marker-function": relies_on_marker}


# --- the usual mistakes, and ways to score without the skill ---------------------------------------------------------

def split_by_film(facts, *, test_size, random_state):
    return train_test_split(np.arange(len(facts)), test_size=test_size, random_state=random_state)


def unseeded_split(facts, *, test_size, random_state):
    return split_by_patient(facts, test_size=test_size, random_state=np.random.default_rng().integers(1_000_000))


def index_labels_split(facts, *, test_size, random_state):
    train, test = split_by_patient(facts, test_size=test_size, random_state=random_state)
    return facts.index[train].to_numpy(), facts.index[test].to_numpy()


def quantile_of_everyone(y_true, scores, *, sensitivity):
    return float(np.quantile(np.asarray(scores, dtype=float), 1 - sensitivity))


def one_too_few(y_true, scores, *, sensitivity):
    positives = np.sort(np.asarray(scores, dtype=float)[np.asarray(y_true) == 1])[::-1]
    if not len(positives):
        return math.nan
    return float(positives[max(0, math.floor(sensitivity * len(positives)) - 1)])


def wald_intervals(y_true, y_pred, *, sensitive_features, min_count=30, confidence_level=0.95):
    table = error_rates_by_group(y_true, y_pred, sensitive_features=sensitive_features, min_count=min_count,
                                 confidence_level=confidence_level)
    z = norm.ppf(0.5 + confidence_level / 2)
    for rate, n in (("fnr", "n_positive"), ("fpr", "n_negative")):
        half = z * np.sqrt(table[rate] * (1 - table[rate]) / table[n])
        table[f"{rate}_low"], table[f"{rate}_high"] = table[rate] - half, table[rate] + half
    return table


def zero_for_undefined(y_true, y_pred, *, sensitive_features, min_count=30, confidence_level=0.95):
    return error_rates_by_group(y_true, y_pred, sensitive_features=sensitive_features, min_count=min_count,
                                confidence_level=confidence_level).fillna(0.0)


def inverse_group_share(labels, sensitive_features):
    g = pd.Series(np.asarray(pd.Series(sensitive_features).astype(str)))
    return (1 / g.map(g.value_counts(normalize=True))).to_numpy()


def _reversal_variant(kind):
    from course_utils.radiographs import load_keras

    _, tf = load_keras()

    def reverse_gradient(x, weight):
        if kind == "identity":  # no reversal at all
            return tf.identity(x)
        if kind == "unscaled":  # reversed, the weight ignored
            return -x + tf.stop_gradient(2 * x)
        return tf.stop_gradient(x)  # "blocked": no gradient reaches the CNN

    reverse_gradient.__name__ = f"reversal_{kind}"
    return reverse_gradient


def mean_minus_sd(results):
    table = seed_summary(results)
    for metric in ("auc", "fnr_gap"):
        spread = results.groupby("setting", sort=False)[metric].std()
        table[f"{metric}_ci_low"] = table[metric] - spread
        table[f"{metric}_ci_high"] = table[metric] + spread
    return table


def sorted_settings(results):
    return seed_summary(results).sort_index()


def drop_keeps_uncertain(labels, policy):
    return labels.clip(lower=0) if policy != "ones" else labels.replace(-1, 1)


def ap_scores_higher(predict, images, facts):
    """The tempting test: AP films score higher than PA films.  They do whatever the model learned: AP films are
    more often of sick inpatients."""
    ap = (facts["view"] == "AP").to_numpy()
    scores = predict(images)
    return bool(scores[ap].mean() - scores[~ap].mean() > 0.05)


def always_relies(predict, images, facts):
    return True


def never_relies(predict, images, facts):
    return False


def reads_the_sandbox(predict, images, facts):
    """Looks for the truth in what the grader handed over: the case files say nothing of it."""
    import inspect

    names = " ".join(str(frame.frame.f_locals) for frame in inspect.stack()[1:6])
    return "went with pneumonia" in names


WRONG = {
    "imaging-split-function": [split_by_film, unseeded_split, index_labels_split],
    "imaging-threshold-function": [quantile_of_everyone, one_too_few],
    "imaging-audit-function": [wald_intervals, zero_for_undefined],
    "imaging-weights-function": [inverse_group_share],
    "imaging-policy-function": [drop_keeps_uncertain],
    "imaging-seeds-function": [mean_minus_sd, sorted_settings],
    "imaging-marker-function": [ap_scores_higher, always_relies, never_relies, reads_the_sandbox],
}


# --- the hidden material ----------------------------------------------------------------------------------------------

def test_every_code_question_of_the_notebook_has_hidden_cases_that_name_themselves():
    assert sorted(HIDDEN.cases) == CODE
    for question_id, cases in HIDDEN.cases.items():
        assert len(cases) >= 2 and len({c.name for c in cases}) == len(cases), question_id


def test_the_marker_decision_is_judged_on_24_scenarios_half_of_them_planted():
    cases = HIDDEN.cases["imaging-marker-function"]
    assert len(cases) == 24
    planted = [setting[0] for setting in MODULE.MARKER_SETTINGS]
    assert planted.count(True) == planted.count(False) == 12
    # the order says nothing: planted and unplanted alternate irregularly
    truths = ["went with pneumonia" in case.name for case in cases]
    assert truths.count(True) == 12 and truths != sorted(truths) and truths != sorted(truths, reverse=True)


def test_every_scenario_is_clear_cut_both_ways_and_its_truth_is_what_was_planted():
    for case in HIDDEN.cases["imaging-marker-function"]:
        planted = "went with pneumonia" in case.name
        marker = float(case.name.split("marker brightness ")[1].split(";")[0])
        removed, added = MODULE.marker_effects(case.build_inputs(), marker)
        if planted:
            assert min(removed, added) >= MODULE.RELIANT, case.name
        else:
            assert max(abs(removed), abs(added)) <= MODULE.NEGLIGIBLE, case.name


def test_no_scenario_tells_the_sandbox_its_truth(judge):
    text = sandbox_text(judge)
    for words in ("went with pneumonia", "no marker on films", "planted", "scenario 1 of 24"):
        assert words not in text
    for plan in judge.plans["imaging-marker-function"]:
        assert set(plan.inputs) == {"coef", "intercept", "images", "facts"}


def test_the_cnns_new_films_keep_their_labels_out_of_the_sandbox_and_the_public_case_is_not_rerun(judge):
    plans = judge.plans["imaging-cnn-function"]
    assert [plan.public for plan in plans] == [False] * len(MODULE.CNN_SETS)  # each trains a network: hidden only
    for plan in plans:
        assert set(plan.inputs) == {"films", "labels", "test_films", "random_state", "again"}
    assert [plan.public for plan in judge.plans["imaging-split-function"]].count(True) >= 1  # others: both kinds


def test_only_contract_values_are_revealed():
    revealed = {(qid, c.name) for qid, cases in HIDDEN.cases.items() for c in cases if c.reveal}
    assert revealed == {("imaging-threshold-function", "no film with pneumonia")}


def test_the_wilson_reference_is_scipys():
    from scipy.stats import binomtest

    for k, n, level in [(0, 10, 0.95), (3, 7, 0.9), (40, 40, 0.99), (12, 200, 0.95)]:
        interval = binomtest(k, n).proportion_ci(level, method="wilson")
        assert np.allclose(MODULE.wilson(k, n, level), (interval.low, interval.high), atol=1e-12)


def test_the_weights_reference_is_aif360s_reweighing():
    from course_utils.mitigation import load_aif360

    load_aif360()
    from aif360.algorithms.preprocessing import Reweighing
    from aif360.datasets import BinaryLabelDataset

    inputs = MODULE._weights_inputs(71)
    female = np.asarray(inputs["sensitive_features"].str.endswith("Female"), dtype=float)
    frame = pd.DataFrame({"female": female, "label": np.asarray(inputs["labels"], dtype=float)})
    dataset = BinaryLabelDataset(df=frame, label_names=["label"], protected_attribute_names=["female"])
    weights = Reweighing(unprivileged_groups=[{"female": 1.0}], privileged_groups=[{"female": 0.0}]) \
        .fit_transform(dataset).instance_weights
    by_sex = MODULE.weights_reference(inputs["labels"], np.where(female == 1, "F", "M"))
    assert np.allclose(weights, by_sex, atol=1e-12)


# --- the judge: right answers pass, wrong ones and constants score 0 ---------------------------------------------------

#: The questions whose answers need TensorFlow, and how a fresh Python builds each kind of answer.
IN_FRESH_PYTHON = {
    "imaging-reversal-function": "tests._reversal_function() if kind == 'correct' else tests._reversal_variant(kind)",
    "imaging-cnn-function": "tests._cnn_function(kind)",
}


def judged_in_fresh_python(judge, folder, question_id, kind):
    """The judge's verdict on a TensorFlow answer (``kind`` of it), and whether the visible check passes it.

    aif360 switches TensorFlow to graph mode for the whole process, and other tests of this session load it; the
    gradient tape and Keras's training need eager mode.  So the harness and the visible check run the answer in a
    fresh Python, as a hand-in's kernel does, and the judge reads what it wrote here.
    """
    answers = folder / f"answers-{kind}"
    answers.mkdir()
    script = (f"import sys, json; sys.path.insert(0, {str(TESTS)!r})\n"
              "import test_hidden_04 as tests\n"
              "from course_utils.exercises import evaluate\n"
              "from course_utils.exercises._harness import answer\n"
              f"kind = {kind!r}\n"
              f"function = {IN_FRESH_PYTHON[question_id]}\n"
              f"answer({question_id!r}, lambda: function, {str(judge.cases_dir)!r}, {str(answers)!r})\n"
              f"print(json.dumps(evaluate({question_id!r}, function).passed))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS.parent, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    return judge.verdict(question_id, answers), json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("question_id", CODE)
def test_a_correct_answer_written_here_earns_full_marks(judge, tmp_path, question_id):
    if question_id in IN_FRESH_PYTHON:
        verdict, checked = judged_in_fresh_python(judge, tmp_path, question_id, "correct")
    else:
        verdict, checked = judged(judge, tmp_path, question_id, CORRECT[question_id]), evaluate(
            question_id, CORRECT[question_id]).passed
    assert verdict.points == verdict.max_points, verdict.message
    assert checked


WRONG_CASES = [(qid, function) for qid, functions in WRONG.items() for function in functions] + [
    ("imaging-reversal-function", kind) for kind in ("identity", "unscaled", "blocked")] + [
    ("imaging-cnn-function", kind) for kind in ("dense_only", "unseeded", "fixed_size", "untrained", "too_big")]


@pytest.mark.parametrize("question_id, function", WRONG_CASES,
                         ids=[f"{q}:{getattr(f, '__name__', f)}" for q, f in WRONG_CASES])
def test_a_usual_mistake_or_a_constant_scores_nothing_and_the_feedback_names_a_case(judge, tmp_path, question_id,
                                                                                    function):
    if isinstance(function, str):
        verdict, checked = judged_in_fresh_python(judge, tmp_path, question_id, function)
    else:
        verdict, checked = judged(judge, tmp_path, question_id, function), evaluate(question_id, function).passed
    assert verdict.points == 0, verdict.message
    failed = [result for result in verdict.cases if not result.passed]
    assert any(not result.public for result in failed), verdict.message  # the hidden cases catch it too
    public_passed = all(result.passed for result in verdict.cases if result.public)
    if public_passed:  # only the hidden cases catch it: the feedback names one
        assert any(not result.public and result.name in verdict.message for result in failed), verdict.message
    if QUESTIONS[question_id].public_at_grading:
        # the visible check accepts on the public cases exactly what the judge accepts on them
        assert checked == public_passed
    else:  # the judge does not run the public cases again: the visible check must catch it on its own
        assert not checked


def test_a_margin_too_small_costs_an_eighth_per_false_alarm(judge, tmp_path):
    def no_margin(predict, images, facts):
        rows, columns = marker_box(images.shape[1])
        ap = (facts["view"] == "AP").to_numpy()
        without = images[ap].copy()
        without[:, rows, columns] = images[~ap][:, rows, columns].mean(axis=0)
        return bool((predict(images[ap]) - predict(without)).mean() > 0.02)

    verdict = judged(judge, tmp_path, "imaging-marker-function", no_margin)
    assert_each_wrong_scenario_costs_an_eighth(verdict, "false alarm")
    assert sum(not r.passed for r in verdict.cases) < DECISION_ERRORS_FOR_ZERO


def test_the_split_feedback_says_what_is_wrong(judge, tmp_path):
    for function, words in [(split_by_film, "patients have films in both parts"),
                            (unseeded_split, "the same random_state gave another split"),
                            (index_labels_split, "row positions")]:
        verdict = judged(judge, tmp_path, "imaging-split-function", function)
        assert words in verdict.message, verdict.message


def test_the_guide_states_the_solutions_auc_on_the_hidden_films():
    """The solution's own train_cnn, trained in a fresh Python on each hidden film set: the AUCs the guide states,
    computed by the hidden module's rank AUC and, independently, by scikit-learn."""
    import nbformat

    solution = nbformat.read(TESTS.parent / "solutions" / "04_imaging_audit.ipynb", as_version=4)
    answer = next(cell.source for cell in solution.cells
                  if cell.metadata.get("nbgrader", {}).get("grade_id") == "imaging-cnn-function-answer")
    script = ("import json, sys\n"
              "import numpy as np\n"
              "from sklearn.metrics import roc_auc_score\n"
              "from course_utils.instructor.cases import load_hidden\n"
              "from course_utils.radiographs import load_keras\n"
              "keras, tf = load_keras()\n"
              f"exec({answer!r})\n"
              "load_hidden('04'); hidden = sys.modules['course_hidden_04']\n"
              "out = []\n"
              "for size, seed, n_train, n_new, again in hidden.CNN_SETS:\n"
              "    inputs = hidden.cnn_inputs(size, seed, n_train, n_new, again)\n"
              "    labels = hidden.cnn_films(size, seed, n_train, n_new)['test_labels']\n"
              "    model = train_cnn(inputs['films'], inputs['labels'], random_state=inputs['random_state'])\n"
              "    scores = np.asarray(model(inputs['test_films'][..., None], training=False))[:, 0]\n"
              "    out.append([size, hidden.rank_auc(labels, scores), roc_auc_score(labels, scores)])\n"
              "print(json.dumps(out))\n")
    # One thread, as in a grading kernel: TensorFlow's sums, and so the trained weights, depend on the threads.
    one_thread = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS.parent, timeout=900,
                         env=one_thread)
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    guide = " ".join((TESTS.parent / "solutions" / "INSTRUCTOR_GUIDE.md").read_text(encoding="utf-8").split())
    assert all(abs(ours - sklearn) < 1e-9 for _, ours, sklearn in results)
    (a, auc_a, _), (b, auc_b, _) = results
    # The guide rounds to two decimals and says by how much a processor moves them: oneDNN picks its kernels by
    # instruction set, so the trained weights, and the third decimal, differ between machines (0.888-0.903 at 32
    # pixels and 0.931-0.934 at 40 measured with ONEDNN_MAX_CPU_ISA from AVX to AVX-512).
    stated = re.search(r"the solution's CNN scores (0\.\d\d) at (\d+) pixels and (0\.\d\d) at (\d+), give or take "
                       r"(0\.\d\d)", guide)
    assert stated, "the guide no longer states the solution's AUC on the hidden films"
    assert (int(stated[2]), int(stated[4])) == (a, b)
    assert abs(auc_a - float(stated[1])) <= float(stated[5]) + 0.005, (auc_a, stated[0])
    assert abs(auc_b - float(stated[3])) <= float(stated[5]) + 0.005, (auc_b, stated[0])
    assert min(auc_a, auc_b) >= CNN_AUC + 0.05  # a margin: the floor is for broken models, not for this one
