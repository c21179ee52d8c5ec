"""Notebook 01's hidden cases judge answers on data only a correct answer produces.

In process, through the harness a graded check cell runs and the judge that grades it: a correct answer to every
code question -- written here, not taken from the solution -- earns its points; typical wrong answers (the
mistakes the questions' misconception rules name) and a constant answer earn none, and the feedback names a
failed case.  The pipeline's harness returns raw data only (scores, names, what an error said), and a record
forged to look right earns nothing.  The references reproduce the numbers fixed when the solutions were written
(the old hidden tests).  ``tests/test_judge_grading.py`` grades the solution through the real grader.
"""

import json
import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate
from scipy.stats import binomtest, norm
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from course_utils import exercises as checks
from course_utils.data import heart_data_path
from course_utils.exercises._transfer import encode
from course_utils.exercises.questions import QUESTIONS
from course_utils.instructor.cases import load_hidden
from course_utils.instructor.judge import Judge
from judging import judged

# Judges built in process and every case run: seconds per question; `make test` runs them, `make check` not.
pytestmark = pytest.mark.slow

CODE_QUESTIONS = ("audit-imbalance-ratio-function", "audit-prevalence-function", "audit-flag-zeros-function",
                  "audit-pipeline-function", "audit-out-of-fold-function", "audit-error-rates-function",
                  "audit-small-groups-function", "audit-weights-function", "audit-paired-change-function")


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    return Judge("01", tmp_path_factory.mktemp("judge01"))


# --- correct answers, written for these tests -----------------------------------------------------------------------


def imbalance(data, group_col, majority, minority, within_col=None):
    if within_col is not None:
        return pd.Series({level: imbalance(part, group_col, majority, minority)
                          for level, part in data.groupby(within_col, observed=True)}, dtype=float)
    minorities = int(data[group_col].eq(minority).sum())
    return float(data[group_col].eq(majority).sum() / minorities) if minorities else math.nan


def prevalence(data, group_col, outcome_col, confidence_level=0.95, method="wilson", scale=1.0, level=None):
    rows = {}
    for group, part in data.groupby(group_col, observed=True):
        n, cases = len(part), int(part[outcome_col].eq(1).sum())
        interval = binomtest(cases, n).proportion_ci(confidence_level=level or confidence_level, method=method)
        rows[group] = {"n": n, "cases": cases, "prevalence": scale * cases / n, "ci_low": interval.low,
                       "ci_high": interval.high}
    return pd.DataFrame.from_dict(rows, orient="index")


def flag_zeros(data, columns):
    cleaned = data.copy()
    for column in columns:
        zero = cleaned[column].eq(0)
        cleaned[column] = cleaned[column].where(~zero)
        cleaned[f"{column}_recorded_as_zero"] = zero
    return cleaned


def baseline(numeric_cols, categorical_cols, random_state=0, add_indicator=False, strategy="median", indicator=None,
             unknown="ignore", encoder=None, model=None):
    """The exercise's pipeline; ``indicator`` (True or False) overrides ``add_indicator``, as a wrong answer would."""
    numbers = make_pipeline(SimpleImputer(strategy=strategy, add_indicator=add_indicator if indicator is None
                                          else indicator), StandardScaler())
    categories = make_pipeline(SimpleImputer(strategy="most_frequent"),
                               encoder or OneHotEncoder(handle_unknown=unknown))
    return make_pipeline(make_column_transformer((numbers, list(numeric_cols)), (categories, list(categorical_cols))),
                         model or LogisticRegression(max_iter=1000, random_state=random_state))


def out_of_fold(model, X, y, n_splits=5, random_state=0, folds=None, method="predict_proba", column=1):  # noqa: N803
    cv = folds(n_splits, random_state) if folds else StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    result = cross_val_predict(model, X, y, cv=cv, method=method)
    return result[:, column] if method == "predict_proba" else result


def nan_rate(label):
    """The share of patients whose true label is ``label`` who were decided the other way; NaN without any."""
    def rate(y_true, y_pred):
        chosen = np.asarray(y_true) == label
        return float(np.mean(np.asarray(y_pred)[chosen] != label)) if chosen.any() else math.nan
    return rate


def error_audit(y_true, y_pred, sensitive_features, fnr=None, fpr=None):
    return MetricFrame(metrics={"count": count, "accuracy": accuracy_score, "fnr": fnr or nan_rate(1),
                                "fpr": fpr or nan_rate(0), "selection_rate": selection_rate},
                       y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)


def small(data, group_cols, min_size=30, categories=True, at_most=False):
    columns = list(group_cols)
    levels = [data[c].cat.categories if categories and isinstance(data[c].dtype, pd.CategoricalDtype)
              else pd.Index(sorted(data[c].dropna().unique())) for c in columns]
    sizes = data.groupby(columns, observed=True).size()
    if len(columns) == 1:
        sizes.index = pd.MultiIndex.from_arrays([sizes.index], names=columns)
    sizes = sizes.reindex(pd.MultiIndex.from_product(levels, names=columns), fill_value=0)
    chosen = sizes <= min_size if at_most else sizes < min_size
    return sizes[chosen].rename("n").reset_index()


def weights(sensitive_features):
    groups = pd.Series(np.asarray(sensitive_features))
    sizes = groups.value_counts()
    return (len(groups) / (len(sizes) * groups.map(sizes))).to_numpy()


def paired(y_true, y_pred_before, y_pred_after, n_boot=1000, random_state=0, confidence_level=0.95,
           unpaired=False, level=None, quantile=np.nanquantile, sign=1):
    y, before, after = (np.asarray(values) for values in (y_true, y_pred_before, y_pred_after))

    def fnr(labels, decisions):
        sick = labels == 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sick & (decisions == 0)).sum(axis=-1) / sick.sum(axis=-1)

    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    other = rng.integers(0, len(y), size=(n_boot, len(y))) if unpaired else idx
    changes = sign * (fnr(y[other], after[other]) - fnr(y[idx], before[idx]))
    tail = (1 - (level or confidence_level)) / 2
    low, high = quantile(changes, [tail, 1 - tail])
    return {"change": float(sign * (fnr(y, after) - fnr(y, before))), "ci_low": float(low), "ci_high": float(high)}


CORRECT = {
    "audit-imbalance-ratio-function": imbalance,
    "audit-prevalence-function": prevalence,
    "audit-flag-zeros-function": flag_zeros,
    "audit-pipeline-function": baseline,
    "audit-out-of-fold-function": out_of_fold,
    "audit-error-rates-function": error_audit,
    "audit-small-groups-function": small,
    "audit-weights-function": weights,
    "audit-paired-change-function": paired,
}


# --- wrong answers: the mistakes the questions' rules name, and a constant answer -----------------------------------


def ratio_max_over_min(data, group_col, majority, minority, within_col=None):
    """The larger group over the smaller, whichever is named majority: right on every public case."""
    if within_col is not None:
        return pd.Series({level: ratio_max_over_min(part, group_col, majority, minority)
                          for level, part in data.groupby(within_col, observed=True)}, dtype=float)
    a, b = int(data[group_col].eq(majority).sum()), int(data[group_col].eq(minority).sum())
    return max(a, b) / min(a, b) if min(a, b) else math.nan


def ratio_every_category(data, group_col, majority, minority, within_col=None):
    """groupby without observed=True: a category nobody has becomes a group (right on every public case)."""
    if within_col is None:
        return imbalance(data, group_col, majority, minority)
    return pd.Series({level: imbalance(part, group_col, majority, minority)
                      for level, part in data.groupby(within_col, observed=False)}, dtype=float)


def pooled_ratio(data, group_col, majority, minority, within_col=None):
    overall = imbalance(data, group_col, majority, minority)
    return overall if within_col is None else pd.Series({s: overall for s in data[within_col].unique()})


def zeros_renumbered(data, columns):
    """Right values in a table numbered 0, 1, 2, ... whatever the rows' labels were (right on every public case)."""
    return flag_zeros(data, columns).reset_index(drop=True)


def zeros_flag_missing_too(data, columns):
    cleaned = flag_zeros(data, columns)
    for column in columns:
        cleaned[f"{column}_recorded_as_zero"] |= data[column].isna()
    return cleaned


def zeros_filled_with_median(data, columns):
    cleaned = flag_zeros(data, columns)
    for column in columns:
        cleaned[column] = cleaned[column].fillna(cleaned[column].median())
    return cleaned


def audit_with_library_fpr(y_true, y_pred, sensitive_features):
    """fairlearn's false_positive_rate, 0 for a group without patients free of the condition (right on the public
    cases, whose groups all have some)."""
    return error_audit(y_true, y_pred, sensitive_features, fpr=false_positive_rate)


def small_observed_categories(data, group_cols, min_size=30):
    """Every value found, but not a category nobody has (right on every public case)."""
    return small(data, group_cols, min_size, categories=False)


def weights_sum_to_one(sensitive_features):
    groups = pd.Series(np.asarray(sensitive_features))
    return (1 / groups.map(groups.value_counts())).to_numpy()


def weights_grow_with_group(sensitive_features):
    groups = pd.Series(np.asarray(sensitive_features))
    return (groups.map(groups.value_counts()) / len(groups)).to_numpy()


def weights_per_category_count(sensitive_features):
    """Patients per group over all patients, inverted but not divided by the number of groups."""
    groups = pd.Series(np.asarray(sensitive_features))
    return (len(groups) / groups.map(groups.value_counts())).to_numpy()


WRONG = {
    "audit-imbalance-ratio-function": [
        lambda data, group_col, majority, minority, within_col=None:
            1 / imbalance(data, group_col, majority, minority) if within_col is None
            else 1 / imbalance(data, group_col, majority, minority, within_col),  # inverted
        lambda data, group_col, majority, minority, within_col=None:
            (lambda r: r / (r + 1))(imbalance(data, group_col, majority, minority, within_col)),  # majority's share
        pooled_ratio,
        ratio_max_over_min,
        ratio_every_category,
        lambda data, group_col, majority, minority, within_col=None: 3.0,  # constant
    ],
    "audit-prevalence-function": [
        lambda data, group_col, outcome_col, confidence_level=0.95:
            prevalence(data, group_col, outcome_col, confidence_level, scale=100),  # a percentage
        lambda data, group_col, outcome_col, confidence_level=0.95:
            prevalence(data, group_col, outcome_col, confidence_level, method="exact"),  # Clopper-Pearson
        lambda data, group_col, outcome_col, confidence_level=0.95:
            prevalence(data, group_col, outcome_col, level=0.95),  # the level ignored
        lambda data, group_col, outcome_col, confidence_level=0.95:
            prevalence(data, group_col, outcome_col).assign(  # the Wald interval
                ci_low=lambda t: t["prevalence"] - norm.ppf(0.5 + confidence_level / 2)
                * np.sqrt(t["prevalence"] * (1 - t["prevalence"]) / t["n"])),
        lambda data, group_col, outcome_col, confidence_level=0.95: pd.DataFrame(  # constant
            {"n": [10], "cases": [5], "prevalence": [0.5], "ci_low": [0.2], "ci_high": [0.8]}, index=["F"]),
    ],
    "audit-flag-zeros-function": [
        zeros_filled_with_median,
        zeros_flag_missing_too,
        lambda data, columns: flag_zeros(data, columns[:1]),  # the first column only
        zeros_renumbered,
        lambda data, columns: data.copy(),  # constant: the table as it came
    ],
    "audit-pipeline-function": [
        lambda numeric_cols, categorical_cols, random_state=0, add_indicator=False:  # never an indicator
            baseline(numeric_cols, categorical_cols, random_state, indicator=False),
        lambda numeric_cols, categorical_cols, random_state=0, add_indicator=False:  # always one (the old default)
            baseline(numeric_cols, categorical_cols, random_state, indicator=True),
        lambda numeric_cols, categorical_cols, random_state=0:  # the old signature: no add_indicator at all
            baseline(numeric_cols, categorical_cols, random_state),
        lambda numeric_cols, categorical_cols, random_state=0:
            baseline(numeric_cols, categorical_cols, random_state, strategy="mean"),  # the imputer's default
        lambda numeric_cols, categorical_cols, random_state=0:
            baseline(numeric_cols, categorical_cols, random_state, unknown="error"),
        lambda numeric_cols, categorical_cols, random_state=0: baseline(
            numeric_cols, categorical_cols, random_state,
            encoder=OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)),
        lambda numeric_cols, categorical_cols, random_state=0:  # constant scores
            baseline(numeric_cols, categorical_cols, model=DummyClassifier(strategy="prior")),
    ],
    "audit-out-of-fold-function": [
        lambda model, X, y, n_splits=5, random_state=0: out_of_fold(  # noqa: N803 -- not stratified
            model, X, y, n_splits, random_state, folds=lambda k, s: KFold(k, shuffle=True, random_state=s)),
        lambda model, X, y, n_splits=5, random_state=0: out_of_fold(  # noqa: N803 -- not shuffled
            model, X, y, n_splits, random_state, folds=lambda k, s: StratifiedKFold(k)),
        lambda model, X, y, n_splits=5, random_state=0:  # noqa: N803 -- in-sample
            clone(model).fit(X, y).predict_proba(X)[:, 1],
        lambda model, X, y, n_splits=5, random_state=0:  # noqa: N803 -- its own model, not the one given
            out_of_fold(LogisticRegression(max_iter=1000), X, y, n_splits, random_state),
        lambda model, X, y, n_splits=5, random_state=0: np.full(len(X), 0.5),  # noqa: N803 -- constant
    ],
    "audit-error-rates-function": [
        lambda y_true, y_pred, sensitive_features: error_audit(y_true, y_pred, sensitive_features,
                                                               fnr=false_negative_rate, fpr=false_positive_rate),
        lambda y_true, y_pred, sensitive_features: error_audit(  # the FNR over everyone
            y_true, y_pred, sensitive_features, fnr=lambda t, p: float(np.mean(np.asarray(t) != np.asarray(p)))),
        audit_with_library_fpr,
        lambda y_true, y_pred, sensitive_features: MetricFrame(  # constant
            metrics={name: (lambda t, p: 0.5) for name in ("count", "accuracy", "fnr", "fpr", "selection_rate")},
            y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features),
    ],
    "audit-small-groups-function": [
        lambda data, group_cols, min_size=30:  # only the combinations found
            data.groupby(list(group_cols), observed=True).size().rename("n").reset_index().query("n < @min_size"),
        lambda data, group_cols, min_size=30: small(data, group_cols, min_size, at_most=True),
        small_observed_categories,
        lambda data, group_cols, min_size=30: pd.DataFrame(columns=[*group_cols, "n"]),  # constant: nothing small
    ],
    "audit-weights-function": [
        weights_sum_to_one,
        weights_grow_with_group,
        weights_per_category_count,
        lambda sensitive_features: np.ones(len(sensitive_features)),  # constant
    ],
    "audit-paired-change-function": [
        lambda *args, **kwargs: paired(*args, **kwargs, sign=-1),  # before minus after
        lambda *args, **kwargs: paired(*args, **kwargs, unpaired=True),  # separate resamples for each model
        lambda *args, **kwargs: paired(*args, **kwargs, level=0.95),  # the level ignored
        lambda *args, **kwargs: paired(*args, **kwargs, quantile=np.quantile),  # undefined resamples kept
        lambda y_true, y_pred_before, y_pred_after, n_boot=1000, random_state=0, confidence_level=0.95:
            {"change": 0.0, "ci_low": 0.0, "ci_high": 0.0},  # constant
    ],
}

#: Wrong answers right on every public case: only a hidden case catches them (and its name is in the message).
#: Every other kind of mistake has a public case of its own (notebook 01 shows each kind of edge case the hidden
#: cases use); another model given to out_of_fold_scores is the one a public case cannot show: the harness
#: builds the model from a number.
HIDDEN_ONLY = {
    ("audit-out-of-fold-function", 3): "another model",
}


def test_each_kind_of_mistake_but_one_is_caught_by_a_public_case():
    caught_publicly = [(qid, n) for qid, wrongs in WRONG.items() for n, wrong in enumerate(wrongs)
                       if (qid, n) not in HIDDEN_ONLY and not checks.evaluate(qid, wrong).passed]
    assert len(caught_publicly) == sum(len(wrongs) for wrongs in WRONG.values()) - len(HIDDEN_ONLY)


# --- the tests ------------------------------------------------------------------------------------------------------


def test_every_code_question_has_a_correct_answer_and_wrong_ones_here():
    # the two decisions, graded by misses and false alarms, have their own tests (test_hidden_01_decisions.py)
    decisions = set(load_hidden("01").scoring)
    assert decisions == {"audit-gap-decision-function", "audit-change-decision-function"}
    own = {qid for qid, question in QUESTIONS.items() if question.notebook == "01" and question.answer_type == "code"
           and qid not in decisions}
    assert set(CORRECT) == set(WRONG) == set(CODE_QUESTIONS) == own
    assert all(len(WRONG[qid]) >= 3 for qid in CODE_QUESTIONS)


@pytest.mark.parametrize("question_id", CODE_QUESTIONS)
def test_a_correct_answer_earns_every_point(judge, tmp_path, question_id):
    verdict = judged(judge, tmp_path, question_id, CORRECT[question_id])
    assert verdict.points == verdict.max_points, verdict.message
    assert sum(not case.public for case in verdict.cases) >= 3


@pytest.mark.parametrize("question_id, number", [pytest.param(qid, n, id=f"{qid}-{n}")
                                                 for qid, wrongs in WRONG.items() for n in range(len(wrongs))])
def test_a_typical_mistake_or_a_constant_answer_earns_nothing_and_is_named(judge, tmp_path, question_id, number):
    verdict = judged(judge, tmp_path, question_id, WRONG[question_id][number])
    assert verdict.points == 0, verdict.message
    failed = [case for case in verdict.cases if not case.passed]
    assert any(not case.public for case in failed), "only public cases catch this mistake"
    # The feedback names the failed cases (the first three, public ones first) or says the one way they all failed.
    assert any(case.name in verdict.message for case in failed) or "each the same way" in verdict.message, \
        verdict.message
    if (question_id, number) in HIDDEN_ONLY:
        assert all(case.passed for case in verdict.cases if case.public), verdict.message
        assert HIDDEN_ONLY[question_id, number] in verdict.message, verdict.message


@pytest.mark.parametrize("question_id", CODE_QUESTIONS)
def test_the_same_answer_for_every_case_earns_nothing(judge, tmp_path, question_id):
    """An answer file forged in the kernel: the first public case's expected result given back for every case."""
    answers = tmp_path / "answers"
    answers.mkdir()
    shown = QUESTIONS[question_id].cases()[0].expected
    record = {"question": question_id, "cases": {case.case_id: {"output": encode(shown)}
                                                 for case in judge.plans[question_id]}}
    (answers / f"{question_id}.json").write_text(json.dumps(record))
    verdict = judge.verdict(question_id, answers)
    assert verdict.points == 0 and any(not case.passed and not case.public for case in verdict.cases), verdict.message


def test_the_pipeline_harness_returns_data_and_decides_nothing():
    from course_utils.exercises.questions.representation import pipeline_record

    case = QUESTIONS["audit-pipeline-function"].cases()[1]  # the public case with add_indicator=True
    record = pipeline_record(baseline, **case.fresh_inputs())
    assert set(record) == {"model", "fit_error", "predict_error", "features", "score 0", "score 1"}
    assert not any(isinstance(value, bool) for value in record.values()), record  # no True/False judgements
    assert record["fit_error"] is None and record["predict_error"] is None and "missingindicator_cholesterol" in \
        record["features"].split(", ")
    failing = pipeline_record(lambda n, c, random_state=0, add_indicator=False: baseline(n, c, unknown="error"),
                              **case.fresh_inputs())
    assert "unknown categories" in failing["predict_error"] and math.isnan(failing["score 1"])


def test_the_old_record_of_true_and_false_earns_nothing(judge, tmp_path):
    """The record the old harness wrote -- judgements a learner's kernel could forge -- is not what earns points."""
    answers = tmp_path / "answers"
    answers.mkdir()
    forged = {"is_pipeline": True, "final_step": "LogisticRegression", "fits_rows_with_missing_values": True,
              "adds_missing_indicators": True, "one_hot_encodes": True, "predicts_unseen_category": True,
              "same_scores_when_refitted": True}
    record = {"question": "audit-pipeline-function",
              "cases": {case.case_id: {"output": encode(forged)} for case in judge.plans["audit-pipeline-function"]}}
    (answers / "audit-pipeline-function.json").write_text(json.dumps(record))
    verdict = judge.verdict("audit-pipeline-function", answers)
    assert verdict.points == 0 and not any(case.passed for case in verdict.cases), verdict.message


@pytest.mark.parametrize("mistake, words", [
    (dict(strategy="mean"), 'strategy="median"'),
    (dict(indicator=False), "add_indicator=True"),
    (dict(indicator=True), "add_indicator is False"),
    (dict(unknown="error"), 'handle_unknown="ignore"'),
    (dict(encoder=OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)), "one-hot encode"),
    (dict(model=DummyClassifier()), "last step of your pipeline"),
])
def test_the_visible_check_names_the_pipeline_mistake_from_the_raw_record(mistake, words):
    result = checks.evaluate("audit-pipeline-function",
                             lambda n, c, random_state=0, add_indicator=False: baseline(n, c, random_state,
                                                                                        add_indicator, **mistake))
    assert result.status == "wrong" and words in result.message.split("Hint:")[0], result.message
    assert checks.evaluate("audit-pipeline-function", baseline).passed


def test_hidden_feedback_reveals_only_what_the_contracts_fix(judge):
    for question_id, cases in load_hidden("01").cases.items():
        for case in cases:
            if case.reveal:
                assert case.reference is None and case.check is None, (question_id, case.name)
                values = case.expected.values() if isinstance(case.expected, dict) else \
                    case.expected if isinstance(case.expected, list) else [case.expected]
                assert all(value == 0 or math.isnan(value) for value in values), (question_id, case.name)


def test_a_revealed_contract_value_is_shown_when_missed(judge, tmp_path):
    def infinite(data, group_col, majority, minority, within_col=None):
        minorities = int(data[group_col].eq(minority).sum())
        return imbalance(data, group_col, majority, minority, within_col) if minorities or within_col else math.inf

    verdict = judged(judge, tmp_path, "audit-imbalance-ratio-function", infinite)
    assert verdict.points == 0 and "nan expected, inf returned" in verdict.message, verdict.message


# --- the references reproduce the values fixed when the solutions were written ----------------------------------


def reference(question_id, name_start):
    """The reference of the hidden case whose name starts with ``name_start``, computed from its inputs."""
    found = [case for case in load_hidden("01").cases[question_id] if case.name.startswith(name_start)]
    assert len(found) == 1, (question_id, name_start)
    case = found[0]
    inputs = case.build_inputs()
    return case.reference(**inputs) if case.reference is not None else case.expected


def near(a, b, tolerance=1e-6):
    return abs(float(a) - float(b)) < tolerance


def test_the_imbalance_references_reproduce_the_old_values():
    assert near(reference("audit-imbalance-ratio-function", "the course's 920"), 3.7422680412)
    by_site = reference("audit-imbalance-ratio-function", "men per woman within each")
    old = {"Cleveland": 2.1237113402, "Hungary": 2.6296296296, "Switzerland": 11.3, "VA Long Beach": 32.3333333333}
    assert set(by_site) == set(old) and all(near(by_site[site], value) for site, value in old.items())
    assert near(reference("audit-imbalance-ratio-function", "one hospital's"), 2.6296296296)
    assert near(reference("audit-imbalance-ratio-function", "other codes"), 3.7422680412)
    without = reference("audit-imbalance-ratio-function", "a hospital left without women")
    assert math.isnan(without["VA Long Beach"]) and near(without["Switzerland"], 11.3)
    assert math.isnan(reference("audit-imbalance-ratio-function", "only men"))
    assert set(reference("audit-imbalance-ratio-function", "hospitals stored as a category")) == set(old)


def test_the_prevalence_references_reproduce_the_old_values():
    table = reference("audit-prevalence-function", "the course's 920 patients by hospital")
    old = {"Cleveland": (303, 139, 0.4587458746, 0.4035057348, 0.5150189649),
           "Hungary": (294, 106, 0.3605442177, 0.3077826451, 0.4169030977),
           "Switzerland": (123, 115, 0.9349593496, 0.8768954003, 0.9666773636),
           "VA Long Beach": (200, 149, 0.745, 0.6803707418, 0.8003950483)}
    for site, values in old.items():
        assert all(near(table[column][site], value)
                   for column, value in zip(("n", "cases", "prevalence", "ci_low", "ci_high"), values)), site
    strict = reference("audit-prevalence-function", "the 920 patients by sex, with a 99")
    assert near(strict["ci_low"]["Female"], 0.1858024883) and near(strict["ci_high"]["Female"], 0.3456847973)
    assert near(strict["ci_low"]["Male"], 0.5851303192) and near(strict["ci_high"]["Male"], 0.6769374596)
    assert reference("audit-prevalence-function", "one hospital alone")["n"] == {"Female": 10, "Male": 113}


def test_the_wilson_reference_is_scipys_interval():
    wards = load_hidden("01").cases["audit-prevalence-function"][3]
    inputs = wards.build_inputs()
    table = wards.reference(**inputs)
    for ward in table["n"]:
        interval = binomtest(int(table["cases"][ward]), int(table["n"][ward])).proportion_ci(0.9, method="wilson")
        assert near(table["ci_low"][ward], interval.low, 1e-12) and near(table["ci_high"][ward], interval.high, 1e-12)
    assert {0.0, 1.0} <= set(table["prevalence"].values())


def test_the_zero_references_reproduce_the_old_values():
    cleaned = pd.DataFrame(reference("audit-flag-zeros-function", "the course's 920 patients as recorded"))
    assert int(cleaned["cholesterol_recorded_as_zero"].sum()) == 172 and int(cleaned["cholesterol"].isna().sum()) == 202
    assert near(cleaned["cholesterol"].astype(float).mean(), 246.832869, 1e-4)
    raw = pd.read_csv(heart_data_path())
    assert cleaned["sex"].tolist() == raw["sex"].tolist() and cleaned["age"].tolist() == raw["age"].tolist()


def test_the_pipeline_reference_reproduces_the_courses_shipped_scores():
    """The old test: the exercise's pipeline, cross-validated like the course, gives the course's baseline scores."""
    hidden = load_hidden("01")
    module = __import__(f"course_hidden_{hidden.notebook}")
    fold = hidden.cases["audit-pipeline-function"][1]
    inputs = fold.build_inputs()
    shipped, fitted_here = fold.reference(**inputs), module.pipeline_scores(**inputs)
    scores = [key for key in shipped if key.startswith("score ")]
    assert len(scores) == 184 and all(near(fitted_here[key], shipped[key], 1e-9) for key in scores)
    other = hidden.cases["audit-pipeline-function"][0].build_inputs()
    fitted = module.baseline_pipeline(other["numeric_cols"], other["categorical_cols"], add_indicator=True).fit(
        module.nan_for_missing(other["train"]), other["y"])
    names = fitted[:-1].get_feature_names_out()
    assert sum("missingindicator" in name for name in names) == 2  # resting_bp and cholesterol have missing values
    plain = module.baseline_pipeline(other["numeric_cols"], other["categorical_cols"]).fit(
        module.nan_for_missing(other["train"]), other["y"])
    assert not any("missingindicator" in name for name in plain[:-1].get_feature_names_out())  # the default: none


def test_the_out_of_fold_reference_reproduces_the_old_values():
    scores = np.array(reference("audit-out-of-fold-function", "the course's patients read with plain pandas"))
    assert scores.shape == (920,)
    assert np.allclose(scores[:4], [0.6630721115, 0.8878260979, 0.8074954813, 0.1595251788], atol=1e-6)
    assert near(scores.mean(), 0.5533654353) and near(scores.std(), 0.2391342272)


def test_the_error_rate_reference_reproduces_the_old_values():
    table = reference("audit-error-rates-function", "three simulated groups")
    assert [table["count"][g] for g in "abc"] == [92, 104, 104]
    for metric, values in {"accuracy": [0.8043478261, 0.8461538462, 0.5673076923], "fnr": [0.2, 0.1923076923, math.nan],
                           "fpr": [0.1904761905, 0.1153846154, 0.4326923077],
                           "selection_rate": [0.5217391304, 0.4615384615, 0.4326923077]}.items():
        for group, value in zip("abc", values):
            assert (math.isnan(value) and math.isnan(table[metric][group])) or near(table[metric][group], value)
    swiss = reference("audit-error-rates-function", "sex within hospital")
    assert math.isnan(swiss["fpr"]["Switzerland Female"]) and not math.isnan(swiss["fnr"]["Switzerland Female"])


def test_the_small_group_references_reproduce_the_old_values():
    assert sorted(map(tuple, reference("audit-small-groups-function", "sex by age band"))) == [
        ("Female", "[0, 40)", 19), ("Female", "[70, 200)", 6), ("Male", "[70, 200)", 25)]
    assert sorted(map(tuple, reference("audit-small-groups-function", "hospital by sex, at 15"))) == [
        ("Switzerland", "Female", 10), ("VA Long Beach", "Female", 6)]
    assert ["VA Long Beach", "Female", 0] in reference("audit-small-groups-function", "a hospital left without women")
    assert ["Female", "70+", 0] in reference("audit-small-groups-function", "one hospital by sex and age band")


def test_the_weight_references_reproduce_the_old_values():
    raw = pd.read_csv(heart_data_path())
    by_sex = np.array(reference("audit-weights-function", "the course's 920 patients' sex"))
    assert np.allclose(by_sex[raw["sex"].to_numpy() == "Female"], 2.3711340206, atol=1e-6)
    assert np.allclose(by_sex[raw["sex"].to_numpy() == "Male"], 0.6336088154, atol=1e-6)
    by_site = np.array(reference("audit-weights-function", "the four hospitals"))
    for site, weight in {"Cleveland": 0.7590759076, "Hungary": 0.7823129252, "Switzerland": 1.8699186992,
                         "VA Long Beach": 1.15}.items():
        assert np.allclose(by_site[raw["site"].to_numpy() == site], weight, atol=1e-6)


def test_the_paired_references_reproduce_the_old_values():
    women = reference("audit-paired-change-function", "the course's baseline and re-weighted decisions for the women")
    assert np.allclose([women["change"], women["ci_low"], women["ci_high"]], [0.0, 0.0, 0.0], atol=1e-6)  # no woman changed
    men = reference("audit-paired-change-function", "the same for the men")
    assert np.allclose([men["change"], men["ci_low"], men["ci_high"]], [0.0065359477, -0.0064526602, 0.0190677966],
                       atol=1e-6)
    few = load_hidden("01").cases["audit-paired-change-function"][4].build_inputs()
    y = np.asarray(few["y_true"])
    idx = np.random.default_rng(few["random_state"]).integers(0, len(y), size=(few["n_boot"], len(y)))
    assert ((y[idx] == 1).sum(axis=1) == 0).any(), "some resamples of this case should have no patient with it"
