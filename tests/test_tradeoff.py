"""Measuring a sweep's predictions with paired intervals (course_utils.instructor.course_tables, behind the shipped sweep
table), drawing them (course_utils.tradeoff), Aequitas's verdicts."""

import logging

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import false_negative_rate
from matplotlib.colors import to_hex
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from course_utils.data import load_debiasing_predictions, load_heart_model_inputs
from course_utils.plots import METHOD_COLOURS
from course_utils.instructor.course_tables import evaluate_predictions
from course_utils.tradeoff import aequitas_fairness, plot_pareto

SETTING = ["method", "value", "seed"]
COLUMNS = dict(outcome_col="disease", score_col="score", decision_col="decision", group_col="sex",
               patient_col="patient_id")


@pytest.fixture(scope="module")
def validation():
    """Notebook 02's shipped sweep on its validation patients, with each patient's outcome and sex."""
    predictions = load_debiasing_predictions()
    return predictions[predictions["split"] == "validation"].merge(
        load_heart_model_inputs()[["patient_id", "sex", "disease"]], on="patient_id")


@pytest.fixture(scope="module")
def table(validation):
    return evaluate_predictions(validation, setting_cols=SETTING, **COLUMNS)


# --------------------------------------------------------------------------- evaluate_predictions


def test_one_row_per_setting_in_order_with_the_documented_columns(validation, table):
    assert len(table) == validation.groupby(SETTING, dropna=False).ngroups == 21
    assert list(table.columns) == [
        *SETTING, "auc", "auc_ci_low", "auc_ci_high", "accuracy", "fnr", "fnr_Female", "fnr_Male", "fnr_gap",
        "fnr_gap_ci_low", "fnr_gap_ci_high",
    ]
    assert table["method"].drop_duplicates().tolist() == ["baseline", "reweighing", "adversarial", "threshold"]


def test_metrics_equal_the_libraries_on_each_settings_patients(validation, table):
    for _, row in table.iterrows():
        part = validation[(validation["method"] == row["method"]) & (validation["seed"] == row["seed"])
                          & ((validation["value"] == row["value"]) | (validation["value"].isna() & pd.isna(row["value"])))]
        y, score, pred, sex = (part[c].to_numpy() for c in ("disease", "score", "decision", "sex"))
        assert row["auc"] == roc_auc_score(y, score)
        assert row["accuracy"] == (y == pred).mean()
        female, male = (false_negative_rate(y[sex == s], pred[sex == s]) for s in ("Female", "Male"))
        assert (row["fnr_Female"], row["fnr_Male"]) == (female, male)
        assert row["fnr_gap"] == pytest.approx(abs(female - male), abs=1e-15)


def test_intervals_are_the_course_bootstrap_from_the_same_resamples_for_every_setting(validation, table):
    # Two rows recomputed from the documented resamples (rows of default_rng(0).integers) over the patients in
    # patient_id order, with AUC as Mann-Whitney (ties counted half) and FNR as missed / with disease.
    for index in (0, 10):
        row = table.loc[index]
        part = validation[(validation["method"] == row["method"]) & (validation["seed"] == row["seed"])
                          & ((validation["value"] == row["value"]) | (validation["value"].isna() & pd.isna(row["value"])))]
        part = part.sort_values("patient_id")
        y, score, pred, sex = (part[c].to_numpy() for c in ("disease", "score", "decision", "sex"))
        rows = np.random.default_rng(0).integers(0, len(y), size=(1000, len(y)))
        yb, sb, pb, gb = y[rows], score[rows], pred[rows], sex[rows]
        positives = yb == 1
        n_pos, n_neg = positives.sum(axis=1), (~positives).sum(axis=1)
        aucs = ((rankdata(sb, axis=1) * positives).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        with np.errstate(invalid="ignore"):
            fnr = [((positives & (pb == 0) & (gb == g)).sum(axis=1) / (positives & (gb == g)).sum(axis=1))
                   for g in ("Female", "Male")]
        gaps = np.abs(fnr[0] - fnr[1])
        low, high = np.quantile(aucs, [0.025, 0.975])
        assert (row["auc_ci_low"], row["auc_ci_high"]) == pytest.approx(
            (min(low, row["auc"]), max(high, row["auc"])), abs=1e-12)
        low, high = np.nanquantile(gaps, [0.025, 0.975])
        assert (row["fnr_gap_ci_low"], row["fnr_gap_ci_high"]) == pytest.approx(
            (min(low, row["fnr_gap"]), max(high, row["fnr_gap"])), abs=1e-12)


def test_intervals_contain_their_estimates_and_the_rows_do_not_depend_on_the_input_order(validation, table):
    for metric in ("auc", "fnr_gap"):
        assert (table[f"{metric}_ci_low"] <= table[metric]).all() and (table[metric] <= table[f"{metric}_ci_high"]).all()
    shuffled = validation.sample(frac=1, random_state=1)
    again = evaluate_predictions(shuffled, setting_cols=SETTING, **COLUMNS)
    pd.testing.assert_frame_equal(again.set_index(SETTING).sort_index(), table.set_index(SETTING).sort_index())


def test_a_group_without_patients_with_the_condition_has_an_undefined_gap():
    frame = pd.DataFrame({"setting": "a", "patient": range(6), "y": [0, 0, 0, 1, 1, 0], "group": list("FFFMMM"),
                          "score": [0.1, 0.2, 0.3, 0.8, 0.4, 0.2], "decision": [0, 0, 0, 1, 0, 0]})
    row = evaluate_predictions(frame, setting_cols=["setting"], outcome_col="y", score_col="score",
                               decision_col="decision", group_col="group", patient_col="patient", n_boot=0).iloc[0]
    assert np.isnan(row["fnr_F"]) and row["fnr_M"] == 0.5 and np.isnan(row["fnr_gap"])
    assert not any(column.endswith("_ci_low") for column in row.index)


@pytest.mark.parametrize("change, message", [
    (lambda f: f.assign(group=["F", "M", "X"] * 4), "should have exactly two groups"),
    (lambda f: f.drop(index=11), "every setting must hold the same patients"),
    (lambda f: f.drop(columns="score"), "has no column 'score'"),
])
def test_bad_input_gets_a_clear_error(change, message):
    frame = pd.DataFrame({"setting": ["a"] * 6 + ["b"] * 6, "patient": list(range(6)) * 2, "y": [1, 0] * 6,
                          "group": ["F", "M"] * 6, "score": [0.5] * 12, "decision": [1, 0] * 6})
    with pytest.raises(ValueError, match=message):
        evaluate_predictions(change(frame), setting_cols=["setting"], outcome_col="y", score_col="score",
                             decision_col="decision", group_col="group", patient_col="patient", n_boot=0)
    with pytest.raises(ValueError, match="n_boot should be 0 .* at least 500"):
        evaluate_predictions(frame, setting_cols=["setting"], outcome_col="y", score_col="score",
                             decision_col="decision", group_col="group", patient_col="patient", n_boot=100)


# --------------------------------------------------------------------------- plot


def test_plot_pareto_draws_each_method_in_its_colour_and_the_front_it_is_given(table):
    import matplotlib.pyplot as plt

    front = table.iloc[[5, 0]]  # any rows: the plot draws what it is given, sorted along the x axis
    ax = plot_pareto(table, front)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["baseline", "reweighing", "adversarial", "threshold", "Pareto front"]
    for container in ax.containers:
        assert to_hex(container.lines[0].get_color()) == METHOD_COLOURS[container.get_label()].lower()
        assert container.has_xerr and container.has_yerr
    line = [line for line in ax.get_lines() if line.get_label() == "Pareto front"][0]
    assert list(line.get_xdata()) == sorted(front["fnr_gap"])
    assert "FNR gap" in ax.get_xlabel() and "AUC" in ax.get_ylabel()
    plt.close(ax.figure)
    ax = plot_pareto(table)
    assert "Pareto front" not in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(ax.figure)


# --------------------------------------------------------------------------- Aequitas


def test_aequitas_fairness_gives_aequitas_verdicts_and_leaves_the_root_logger_alone():
    from aequitas import Audit
    from aequitas.fairness import Fairness

    frame = pd.DataFrame({"label": [1, 1, 1, 0, 0, 1, 1, 0, 0, 0], "score": [1, 0, 0, 1, 0, 1, 0, 1, 0, 0],
                          "sex": ["F"] * 5 + ["M"] * 5})
    audit = Audit(frame, sensitive_attribute_column=["sex"], reference_groups={"sex": "M"})
    audit.audit()
    before = list(logging.root.handlers)
    verdicts = aequitas_fairness(audit)
    assert logging.root.handlers == before
    assert "FNR Parity" not in audit.disparity_df.columns  # the audit's own table is left as it was
    pd.testing.assert_frame_equal(verdicts, Fairness().get_group_value_fairness(audit.disparity_df.copy()))
    logging.root.handlers[:] = before
    with pytest.raises(TypeError, match="an aequitas Audit after audit.audit"):
        aequitas_fairness(frame)


def test_a_collapsed_setting_is_named_below_the_chart_not_drawn_over_the_cloud():
    points = pd.DataFrame({"method": ["baseline", "reweighing", "reweighing", "adversarial", "threshold", "adversarial"],
                           "value": [np.nan, 0.5, 1.0, 0.1, 0.0, 0.5],
                           "auc": [0.858, 0.851, 0.837, 0.852, 0.858, 0.606],
                           "fnr_gap": [0.339, 0.227, 0.038, 0.339, 0.047, 0.846]})
    ax = plot_pareto(points, points.iloc[[2, 4]], title="a title long enough to need two lines " * 3)
    low, high = ax.get_ylim()
    assert 0.606 < low < 0.837 and high > 0.858, "the chart zooms on the cloud"
    notes = [text.get_text() for text in ax.texts]
    assert len(notes) == 1 and "adversarial 0.5 (AUC 0.606, fnr gap 0.846)" in notes[0].replace("\n", " ")
    assert "\n" in ax.get_title(), "a long title is wrapped, not cut"
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1, "the legend is beside the axes"
    plain = plot_pareto(points.iloc[:5], points.iloc[[2, 4]])
    assert not plain.texts and plain.get_ylim()[0] < 0.837
    matplotlib.pyplot.close("all")
