"""course_utils.tradeoff: grid evaluation, Pareto front, point selection, clinical terms, plot."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import false_negative_rate
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from course_utils import tradeoff
from course_utils.data import load_heart
from course_utils.mitigation import AdversarialDebiasingClassifier, RejectOptionClassifier, ReweighingClassifier
from reference_model import make_baseline_model
from course_utils.plots import METHOD_COLOURS
from course_utils.tradeoff import (
    evaluate_grid,
    missed_diagnoses_per_1000,
    pareto_front,
    plot_pareto,
    select_point,
)

BASELINE = make_baseline_model()
GRID = [
    ("baseline", None, BASELINE),
    ("reweighing", 0.5, ReweighingClassifier(BASELINE, strength=0.5, privileged_group="Male")),
    ("reweighing", 1.0, ReweighingClassifier(BASELINE, strength=1.0, privileged_group="Male")),
    ("threshold", 0.05, RejectOptionClassifier(BASELINE, max_fnr_gap=0.05, privileged_group="Male")),
    ("adversarial", 0.1, AdversarialDebiasingClassifier(preprocessor=BASELINE[:-1], adversary_loss_weight=0.1,
                                                        privileged_group="Male")),
]


@pytest.fixture(scope="module")
def split():
    heart = load_heart()
    strata = heart["disease"].astype(str) + heart["sex"].astype(str)
    train, test = train_test_split(heart, test_size=0.25, stratify=strata, random_state=0)
    return dict(X_train=train, y_train=train["disease"], sensitive_features_train=train["sex"],
                X_test=test, y_test=test["disease"], sensitive_features_test=test["sex"])


@pytest.fixture(scope="module")
def grid_table(split):
    return evaluate_grid(GRID, **split, seeds=[0, 1], progress=False)


# --------------------------------------------------------------------------- evaluate_grid


def test_grid_has_one_row_per_setting_and_seed_with_the_documented_columns(grid_table):
    assert len(grid_table) == 5 * 2
    assert list(grid_table.columns) == [
        "method", "value", "seed", "auc", "auc_ci_low", "auc_ci_high", "accuracy", "fnr",
        "fnr_Female", "fnr_Male", "fnr_gap", "fnr_gap_ci_low", "fnr_gap_ci_high",
    ]
    assert grid_table.loc[grid_table["method"] == "baseline", "value"].isna().all()
    assert grid_table.loc[grid_table["method"] == "reweighing", "value"].tolist() == [0.5, 0.5, 1.0, 1.0]


def test_grid_metrics_equal_the_libraries_on_the_held_out_patients(split, grid_table):
    row = grid_table[(grid_table["method"] == "threshold") & (grid_table["seed"] == 0)].iloc[0]
    model = RejectOptionClassifier(BASELINE, max_fnr_gap=0.05, privileged_group="Male")
    model.fit(split["X_train"], split["y_train"], sensitive_features=split["sensitive_features_train"])
    y, sex = split["y_test"].to_numpy(), split["sensitive_features_test"].to_numpy()
    pred = model.predict(split["X_test"], sensitive_features=sex)
    assert row["auc"] == roc_auc_score(y, model.predict_proba(split["X_test"], sensitive_features=sex)[:, 1])
    female = false_negative_rate(y[sex == "Female"], pred[sex == "Female"])
    male = false_negative_rate(y[sex == "Male"], pred[sex == "Male"])
    assert (row["fnr_Female"], row["fnr_Male"]) == (female, male)
    assert row["fnr_gap"] == pytest.approx(abs(female - male), abs=1e-15)


def test_grid_intervals_contain_their_point_estimates(grid_table):
    for metric in ("auc", "fnr_gap"):
        assert (grid_table[f"{metric}_ci_low"] <= grid_table[metric]).all()
        assert (grid_table[metric] <= grid_table[f"{metric}_ci_high"]).all()
        assert (grid_table[f"{metric}_ci_high"] > grid_table[f"{metric}_ci_low"]).all()


def test_the_grids_intervals_are_the_course_bootstrap_on_the_held_out_patients(split, grid_table):
    # The baseline's row, recomputed from the documented resamples with the rank formula of AUC
    # (Mann-Whitney, ties counted half) and FNR as missed / with disease, all resamples at once.
    model = make_baseline_model()
    model.fit(split["X_train"], split["y_train"])
    y, sex = split["y_test"].to_numpy(), split["sensitive_features_test"].to_numpy()
    score, pred = model.predict_proba(split["X_test"])[:, 1], model.predict(split["X_test"])
    rows = np.random.default_rng(0).integers(0, len(y), size=(1000, len(y)))
    yb, sb, pb, gb = y[rows], score[rows], pred[rows], sex[rows]
    positives = yb == 1
    n_pos, n_neg = positives.sum(axis=1), (~positives).sum(axis=1)
    aucs = ((rankdata(sb, axis=1) * positives).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    fnr = [((positives & (pb == 0) & (gb == g)).sum(axis=1) / (positives & (gb == g)).sum(axis=1)) for g in ("Female", "Male")]
    gaps = np.abs(fnr[0] - fnr[1])
    assert roc_auc_score(y, score) == pytest.approx(grid_table.loc[0, "auc"])
    row = grid_table[grid_table["method"] == "baseline"].iloc[0]
    low, high = np.quantile(aucs, [0.025, 0.975])
    assert (row["auc_ci_low"], row["auc_ci_high"]) == pytest.approx((min(low, row["auc"]), max(high, row["auc"])), abs=1e-12)
    low, high = np.nanquantile(gaps, [0.025, 0.975])
    assert (row["fnr_gap_ci_low"], row["fnr_gap_ci_high"]) == pytest.approx(
        (min(low, row["fnr_gap"]), max(high, row["fnr_gap"])), abs=1e-12)


def test_grid_is_reproducible_and_only_the_adversarial_rows_depend_on_the_seed(split, grid_table):
    again = evaluate_grid([GRID[4], GRID[2]], **split, seeds=[0, 1], progress=False)
    pd.testing.assert_frame_equal(
        again.reset_index(drop=True),
        grid_table[grid_table["method"].isin(["adversarial", "reweighing"]) & grid_table["value"].isin([0.1, 1.0])]
        .sort_values(["method", "seed"]).reset_index(drop=True),
    )
    by_seed = grid_table.set_index(["method", "value", "seed"])["auc"].unstack("seed")
    varies = (by_seed[0] != by_seed[1]).groupby(level="method").any()
    assert varies.to_dict() == {"adversarial": True, "baseline": False, "reweighing": False, "threshold": False}


def test_grid_refuses_a_setting_that_is_not_an_estimator_before_fitting_anything(split, monkeypatch):
    fits = []
    monkeypatch.setattr(tradeoff, "_fit_and_predict", lambda *a: fits.append(1))
    with pytest.raises(TypeError, match=r"settings\[1\] estimator should be an unfitted scikit-learn classifier"):
        evaluate_grid([GRID[0], ("fair", 1, "not a model")], **split, progress=False)
    with pytest.raises(ValueError, match=r"settings\[0\] should be a \(method, value, estimator\) triple; got 2"):
        evaluate_grid([("reweighing", BASELINE)], **split, progress=False)
    assert fits == []


def test_grid_refuses_too_few_resamples_and_mismatched_held_out_lengths(split):
    with pytest.raises(ValueError, match="n_boot should be 0 .* at least 500"):
        evaluate_grid(GRID[:1], **split, n_boot=200, progress=False)
    bad = {**split, "y_test": split["y_test"].iloc[:5]}
    with pytest.raises(ValueError, match="lengths differ: X_test has 230, y_test has 5"):
        evaluate_grid(GRID[:1], **bad, progress=False)


def test_grid_without_resamples_has_no_interval_columns(split):
    table = evaluate_grid(GRID[:1], **split, n_boot=0, progress=False)
    assert not any(column.endswith(("_ci_low", "_ci_high")) for column in table.columns)


# --------------------------------------------------------------------------- pareto_front


def _brute_force_front(points):
    """O(n^2): indices of non-dominated points, exact duplicates kept once (first occurrence)."""
    keep, seen = [], set()
    for i, (a_i, g_i) in enumerate(points):
        dominated = any(a_j >= a_i and g_j <= g_i and (a_j > a_i or g_j < g_i) for a_j, g_j in points)
        if not dominated and (a_i, g_i) not in seen:
            keep.append(i)
            seen.add((a_i, g_i))
    return keep


# Values from a small grid so that ties on one objective and exact duplicates are common.
_coordinate = st.integers(0, 6).map(lambda k: k / 6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_coordinate, _coordinate), min_size=0, max_size=25))
def test_pareto_front_equals_a_brute_force_dominance_check(points):
    df = pd.DataFrame(points, columns=["auc", "fnr_gap"])
    front = pareto_front(df)
    assert sorted(front.index) == _brute_force_front(points)
    # Sorted by gap, rising, and then necessarily by AUC, rising.
    assert front["fnr_gap"].is_monotonic_increasing
    assert front["auc"].is_monotonic_increasing


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=20))
def test_pareto_front_on_continuous_points_equals_brute_force(points):
    df = pd.DataFrame(points, columns=["auc", "fnr_gap"])
    assert sorted(pareto_front(df).index) == _brute_force_front(points)


def test_pareto_front_keeps_the_first_of_exact_duplicates_and_ignores_undefined_rows():
    df = pd.DataFrame({"auc": [0.8, 0.9, 0.9, np.nan, 0.95], "fnr_gap": [0.1, 0.05, 0.05, 0.0, np.nan]},
                      index=["a", "b", "c", "d", "e"])
    assert pareto_front(df).index.tolist() == ["b"]


def test_pareto_front_names_a_missing_column():
    with pytest.raises(ValueError, match="df has no column 'auroc'"):
        pareto_front(pd.DataFrame({"auc": [0.8], "fnr_gap": [0.1]}), maximise="auroc")


# --------------------------------------------------------------------------- select_point

POINTS = pd.DataFrame({
    "method": ["baseline", "reweighing", "adversarial", "threshold", "reweighing"],
    "auc": [0.88, 0.87, 0.86, 0.85, 0.87],
    "fnr_gap": [0.15, 0.04, 0.04, 0.01, 0.03],
})


def test_highest_auc_within_a_gap_bound_breaks_auc_ties_by_the_smaller_gap():
    assert select_point(POINTS, "highest_auc_within_gap", 0.05).name == 4
    assert select_point(POINTS, "highest_auc_within_gap", 0.2).name == 0
    assert select_point(POINTS, "highest_auc_within_gap", 0.01).name == 3  # bound met exactly


def test_smallest_gap_within_an_auc_tolerance_counts_the_bound_as_met():
    assert select_point(POINTS, "smallest_gap_within_auc", 0.02).name == 4
    assert select_point(POINTS, "smallest_gap_within_auc", 0.03).name == 3  # 0.88 - 0.03 admits 0.85
    assert select_point(POINTS, "smallest_gap_within_auc", 0.0).name == 0


def test_an_impossible_rule_says_what_the_table_offers():
    with pytest.raises(ValueError, match=r"no row has fnr_gap <= 0.001; the smallest fnr_gap in the table is 0.01"):
        select_point(POINTS, "highest_auc_within_gap", 0.001)


def test_an_unknown_rule_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"rule should be one of 'highest_auc_within_gap', 'smallest_gap_within_auc'"):
        select_point(POINTS, "fairest", 0.05)


def test_a_negative_limit_is_refused():
    with pytest.raises(ValueError, match="limit should be at least 0; got -0.1"):
        select_point(POINTS, "highest_auc_within_gap", -0.1)


# --------------------------------------------------------------------------- clinical terms


def test_missed_diagnoses_per_1000_matches_a_hand_calculation():
    # Baseline misses 3 of 12 women with disease (250 per 1,000) and 11 of 115 men (95.7);
    # the chosen model misses 2 of 12 (166.7) and 17 of 115 (147.8).
    baseline = pd.Series({"fnr": 14 / 127, "fnr_Female": 3 / 12, "fnr_Male": 11 / 115, "fnr_gap": 0.15})
    chosen = pd.Series({"fnr": 19 / 127, "fnr_Female": 2 / 12, "fnr_Male": 17 / 115, "fnr_gap": 0.02})
    table = missed_diagnoses_per_1000(chosen, baseline)
    assert table.index.tolist() == ["Female", "Male", "all patients"]
    assert table["chosen"].tolist() == [166.7, 147.8, 149.6]
    assert table["baseline"].tolist() == [250.0, 95.7, 110.2]
    assert table["change"].tolist() == [-83.3, 52.2, 39.4]


def test_missed_diagnoses_works_on_rows_of_the_grid(grid_table):
    base = grid_table[grid_table["method"] == "baseline"].iloc[0]
    chosen = select_point(grid_table, "highest_auc_within_gap", 0.05)
    table = missed_diagnoses_per_1000(chosen, base)
    assert table.loc["Female", "baseline"] == round(1000 * base["fnr_Female"], 1)
    assert table.loc["Male", "change"] == round(1000 * (chosen["fnr_Male"] - base["fnr_Male"]), 1)


def test_missed_diagnoses_needs_fnr_entries():
    with pytest.raises(ValueError, match="both rows need the FNR entries"):
        missed_diagnoses_per_1000(pd.Series({"auc": 0.8}), pd.Series({"auc": 0.9}), groups=["Female"])


# --------------------------------------------------------------------------- plot


def test_plot_pareto_draws_each_method_in_its_colour_with_labelled_axes(grid_table):
    import matplotlib.pyplot as plt

    ax = plot_pareto(grid_table)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["baseline", "reweighing", "adversarial", "threshold", "Pareto front"]
    for container in ax.containers:
        method = container.get_label()
        assert to_hex(container.lines[0].get_color()) == METHOD_COLOURS[method].lower()
        assert container.has_xerr and container.has_yerr
    assert "FNR gap" in ax.get_xlabel() and "proportion" in ax.get_xlabel()
    assert "AUC" in ax.get_ylabel()
    front_line = [line for line in ax.get_lines() if line.get_label() == "Pareto front"][0]
    assert len(front_line.get_xdata()) == len(pareto_front(grid_table))
    plt.close(ax.figure)


def test_a_repeated_sweep_is_fitted_once_and_returned_as_an_independent_copy(monkeypatch):
    X = load_heart(sites="Cleveland")
    y = X["disease"]
    args = dict(X_train=X, y_train=y, sensitive_features_train=X["sex"], X_test=X, y_test=y,
                sensitive_features_test=X["sex"], seeds=[0], progress=False)
    fits = []  # one entry per model fitted and measured
    real = tradeoff._evaluate_one
    monkeypatch.setattr(tradeoff, "_evaluate_one", lambda *a, **k: fits.append(1) or real(*a, **k))
    first = tradeoff.evaluate_grid(GRID[:1], **args)
    first["auc"] = -1.0  # a learner editing the result must not change the remembered sweep
    rebuilt = make_baseline_model()
    second = tradeoff.evaluate_grid([("baseline", None, rebuilt)], **args)  # an equal, newly made model
    assert len(fits) == 1 and (second["auc"] > 0).all()
    changed = X.assign(age=X["age"] + 1)  # one value differs: a new sweep
    tradeoff.evaluate_grid(GRID[:1], **{**args, "X_train": changed})
    assert len(fits) == 2
    tradeoff.evaluate_grid([("baseline", None, rebuilt.set_params(classifier__C=0.5))], **args)  # another model
    assert len(fits) == 3
