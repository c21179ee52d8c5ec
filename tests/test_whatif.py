"""The What-If explorer: its counts equal scikit-learn's confusion matrix and the rates it shows (rounded) fairlearn's,
its strategies do what they say, its datapoint editor edits patients as the model sees them, it displays without a
front end -- and it hands out counts only: no exact rate, no score of an edited patient."""

import json
import math

import nbformat
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_negative_rate, false_positive_rate, selection_rate
from fairlearn.postprocessing import ThresholdOptimizer
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from course_utils.data import load_heart
from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES
from course_utils.whatif import WhatIfExplorer
from reference_model import make_baseline_model

FEATURES = list(HEART_NUMERIC_FEATURES) + list(HEART_CATEGORICAL_FEATURES)


@pytest.fixture(scope="module")
def heart():
    return load_heart()


@pytest.fixture(scope="module")
def model(heart):
    return make_baseline_model().fit(heart, heart["disease"])


@pytest.fixture
def explorer(heart, model):
    return WhatIfExplorer(model, heart, heart["disease"], sensitive_features=heart["sex"], feature_cols=FEATURES,
                          protected_col="sex")


def decisions_at(explorer, thresholds):
    cut = np.array([thresholds[g] for g in explorer.groups])
    return (explorer.scores >= cut).astype(int)


def rate(counts, group, top, bottom):
    """A rate from the explorer's counts, e.g. rate(counts, "Female", "fn", ["fn", "tp"]) for the FNR."""
    whole = sum(int(counts.loc[group, k]) for k in bottom)
    return int(counts.loc[group, top]) / whole if whole else float("nan")


def shown_rates(view, name):
    """{group: value} of one rate in the widget's table (its data-value attributes)."""
    return {cell.split("data-group='")[1].split("'")[0]: float(cell.split("data-value='")[1].split("'")[0])
            for cell in view.table.value.split("<td ")[1:] if f"data-rate='{name}'" in cell}


@settings(max_examples=25, deadline=None)
@given(female=st.floats(0.0, 1.0), male=st.floats(0.0, 1.0))
def test_counts_and_shown_rates_equal_scikit_learns_and_fairlearns_for_any_thresholds(heart, model, female, male):
    explorer = WhatIfExplorer(model, heart, heart["disease"], sensitive_features=heart["sex"])
    explorer.set_thresholds({"Female": female, "Male": male})
    table = explorer.counts()
    assert list(table.columns) == ["n", "tp", "fp", "tn", "fn", "threshold"]
    decided = decisions_at(explorer, {"Female": female, "Male": male})
    assert np.array_equal(explorer.decisions(), decided)
    frame = MetricFrame(metrics={"fnr": false_negative_rate, "fpr": false_positive_rate, "selection_rate": selection_rate},
                        y_true=heart["disease"], y_pred=decided, sensitive_features=heart["sex"].astype(str))
    summary = explorer.summary()
    for group, threshold in (("Female", female), ("Male", male)):
        mask = (heart["sex"] == group).to_numpy()
        tn, fp, fn, tp = confusion_matrix(heart["disease"][mask], decided[mask], labels=[0, 1]).ravel()
        assert (table.loc[group, ["tp", "fp", "tn", "fn"]].tolist()) == [tp, fp, tn, fn]
        assert table.loc[group, "n"] == mask.sum() and table.loc[group, "threshold"] == threshold
        # The rates are shown rounded, in words: fairlearn's and scikit-learn's, to three decimals.
        tpr = recall_score(heart["disease"][mask], decided[mask])
        ppv = precision_score(heart["disease"][mask], decided[mask]) if decided[mask].any() else float("nan")
        fnr, fpr = frame.by_group.loc[group, "fnr"], frame.by_group.loc[group, "fpr"]
        assert (f"  {group}: threshold {threshold:.3f}, FNR {fnr:.3f}, FPR {fpr:.3f}, PPV {ppv:.3f}, "
                f"selection rate {frame.by_group.loc[group, 'selection_rate']:.3f}; missed {1000 * fnr:.0f} and "
                f"work-ups {1000 * fpr:.0f} per 1,000") in summary.splitlines()
        assert rate(table, group, "tp", ["tp", "fn"]) == pytest.approx(tpr)


def test_strategies_do_what_they_say(explorer, heart):
    y = heart["disease"].to_numpy()
    explorer.apply_strategy("single threshold")
    assert len(set(explorer.thresholds.values())) == 1
    single = explorer.thresholds["Female"]
    accuracy = lambda t: ((explorer.scores >= t).astype(int) == y).mean()  # noqa: E731
    assert all(accuracy(single) >= accuracy(t) - 1e-12 for t in np.linspace(0, 1, 201))

    explorer.apply_strategy("equal opportunity")
    counts = explorer.counts()
    assert abs(rate(counts, "Female", "tp", ["tp", "fn"]) - rate(counts, "Male", "tp", ["tp", "fn"])) < 0.03

    explorer.apply_strategy("demographic parity")
    counts = explorer.counts()
    selected = {g: (counts.loc[g, "tp"] + counts.loc[g, "fp"]) / counts.loc[g, "n"] for g in ("Female", "Male")}
    assert abs(selected["Female"] - selected["Male"]) < 0.03

    explorer.apply_strategy("cost-based", cost_ratio=5)
    for group, threshold in explorer.thresholds.items():
        mask = explorer.groups == group

        def cost(t):
            flagged = explorer.scores[mask] >= t
            return 5 * ((~flagged) & (y[mask] == 1)).sum() + (flagged & (y[mask] == 0)).sum()
        assert all(cost(threshold) <= cost(t) for t in np.round(np.linspace(0, 1, 201), 3))


def test_equalized_odds_is_fairlearns_threshold_optimizer(explorer, heart, model):
    explorer.apply_strategy("equalized odds")
    assert all(math.isnan(t) for t in explorer.thresholds.values())
    # fairlearn directly, on the model's scores as one numeric column (its input check needs numbers)
    scores = explorer.scores.reshape(-1, 1)

    from sklearn.base import BaseEstimator, ClassifierMixin

    class Identity(ClassifierMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def predict_proba(self, X):
            p = np.asarray(X, dtype=float).ravel()
            return np.column_stack([1 - p, p])

    identity = Identity().fit(scores)
    identity.classes_ = np.array([0, 1])
    optimizer = ThresholdOptimizer(estimator=identity, constraints="equalized_odds", prefit=True,
                                   predict_method="predict_proba").fit(scores, heart["disease"],
                                                                       sensitive_features=explorer.groups)
    direct = optimizer.predict(scores, sensitive_features=explorer.groups, random_state=0)
    assert np.array_equal(explorer.decisions(), np.asarray(direct, dtype=int))
    counts = explorer.counts()
    assert counts["threshold"].isna().all()
    assert abs(rate(counts, "Female", "tp", ["tp", "fn"]) - rate(counts, "Male", "tp", ["tp", "fn"])) < 0.06
    assert abs(rate(counts, "Female", "fp", ["fp", "tn"]) - rate(counts, "Male", "fp", ["fp", "tn"])) < 0.06
    explorer.set_threshold("Female", 0.4)  # a slider leaves the randomised policy
    assert explorer.strategy == "manual" and not math.isnan(explorer.thresholds["Male"])


def shown_score(explorer):
    """The edited patient's score as the datapoint editor shows it (three decimals)."""
    return explorer._widget.patient_view.value.split("data-score='")[1].split("'")[0]


def test_the_datapoint_editor_shows_edited_patients_as_the_model_scores_them(explorer, heart, model):
    explorer.widget  # the editor's view: the score is computed where it is shown, rounded
    assert explorer.select_patient(how="nearest") is None
    index = explorer.patient
    row = heart.iloc[[index]].copy()
    assert shown_score(explorer) == f"{model.predict_proba(row)[0, 1]:.3f}"
    assert explorer.edit("max_heart_rate", 95.0) is None
    row.loc[row.index[0], "max_heart_rate"] = 95.0
    pd.testing.assert_frame_equal(explorer.patient_row, row)
    assert shown_score(explorer) == f"{model.predict_proba(row)[0, 1]:.3f}"
    explorer.reset_patient()
    assert explorer.flip() is None
    row = heart.iloc[[index]].copy()
    row.loc[row.index[0], "sex"] = "Male" if row["sex"].iloc[0] == "Female" else "Female"
    pd.testing.assert_frame_equal(explorer.patient_row, row)
    assert shown_score(explorer) == f"{model.predict_proba(row)[0, 1]:.3f}"
    explorer.select_patient(how="misclassified")
    assert explorer.decisions()[explorer.patient] != heart["disease"].iloc[explorer.patient]


def test_the_nearest_counterfactual_flips_the_decision_and_no_single_change_is_nearer(explorer, heart, model):
    explorer.select_patient(0)
    allowed = ["age", "cholesterol", "max_heart_rate"]
    found = explorer.nearest_counterfactual(allowed, max_changes=1)
    assert set(found) == {"changes", "distance", "decision"}  # no score: the editor shows it, rounded
    threshold = explorer.thresholds["Male" if heart["sex"].iloc[0] == "Male" else "Female"]
    start = int(model.predict_proba(heart.iloc[[0]])[0, 1] >= threshold)
    assert found["changes"] and found["decision"] != start
    row = heart.iloc[[0]].copy()
    for column, value in found["changes"].items():
        row.loc[row.index[0], column] = value
    assert int(model.predict_proba(row)[0, 1] >= threshold) == found["decision"]
    # brute force over the same candidate values: nothing nearer flips the decision
    for column in allowed:
        values = heart[column].astype(float)
        for value in np.unique(np.nanquantile(values, np.linspace(0, 1, 21))):
            distance = abs(value - float(heart[column].iloc[0])) / float(np.nanstd(values))
            trial = heart.iloc[[0]].copy()
            trial.loc[trial.index[0], column] = value
            if distance < found["distance"] - 1e-12:
                assert int(model.predict_proba(trial)[0, 1] >= threshold) == start
    assert explorer.nearest_counterfactual(allowed) == explorer.nearest_counterfactual(allowed)  # deterministic


def test_whole_number_columns_take_fractions_and_categories_without_a_warning():
    # The readmission cohort counts conditions and visits in whole numbers and keeps text as pandas categories:
    # typing 5.5 in the editor, flipping a category and searching counterfactuals must not warn (or fail).
    import warnings

    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"conditions": rng.integers(0, 9, 300),
                      "race": pd.Categorical(rng.choice(["Black", "White"], 300))})
    y = (X["conditions"] + rng.normal(0, 2, 300) > 5).astype(int)
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["race"]), remainder="passthrough"),
                          LogisticRegression()).fit(X, y)
    explorer = WhatIfExplorer(model, X, y, sensitive_features=X["race"], protected_col="race")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.widget
        explorer.edit("conditions", 5.5)
        edited = explorer._widget.patient_view.value
        explorer.flip()
        found = explorer.nearest_counterfactual(["conditions"])
    row = X.iloc[[0]].astype({"conditions": float}).assign(conditions=5.5)
    assert f"data-score='{model.predict_proba(row)[0, 1]:.3f}'" in edited
    assert explorer.patient_row["race"].iloc[0] != X["race"].iloc[0] and found["changes"]


@pytest.mark.parametrize("call, error, phrase", [
    (lambda e: e.set_threshold("female", 0.3), ValueError, "'female' is not a group"),
    (lambda e: e.set_threshold("Female", 1.5), ValueError, "between 0 and 1|at most 1"),
    (lambda e: e.apply_strategy("max accuracy"), ValueError, "strategy should be one of"),
    (lambda e: e.apply_strategy("cost-based", cost_ratio=0), ValueError, "cost_ratio"),
    (lambda e: e.edit("height", 170), ValueError, "'height' is not a column"),
    (lambda e: e.select_patient(5000), ValueError, "index"),
    (lambda e: e.nearest_counterfactual(["sex"]), ValueError, "numeric columns"),
])
def test_bad_input_gets_a_clear_error(explorer, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(explorer)


def test_a_model_without_probabilities_or_mismatched_lengths_is_refused(heart, model):
    with pytest.raises(TypeError, match="predict_proba"):
        WhatIfExplorer(object(), heart, heart["disease"], sensitive_features=heart["sex"])
    with pytest.raises(ValueError, match="lengths differ|one entry per patient"):
        WhatIfExplorer(model, heart, heart["disease"].iloc[:10], sensitive_features=heart["sex"])


def test_the_widget_follows_the_explorer_and_moves_it(explorer):
    box = explorer.widget
    view = explorer._widget
    explorer.set_threshold("Female", 0.3)
    assert view.sliders["Female"].value == pytest.approx(0.3)
    assert "data-rate='fnr'" in view.table.value and view.roc.value[:4] == b"\x89PNG"
    view.sliders["Male"].value = 0.7  # as a learner moving the slider
    assert explorer.thresholds["Male"] == pytest.approx(0.7) and explorer.strategy == "manual"
    counts = explorer.counts()
    shown = shown_rates(view, "fnr")
    assert shown == pytest.approx({g: rate(counts, g, "fn", ["fn", "tp"]) for g in ("Female", "Male")}, abs=5e-4)
    assert all(f"data-value='{value:.3f}'" in view.table.value for value in shown.values())  # three decimals
    view.strategy.value = "demographic parity"
    assert explorer.strategy == "demographic parity"
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"].startswith("What-If explorer: 920 patients") and "model_id" in json.dumps(bundle)
    assert box is explorer.widget


def test_the_explorer_hands_out_counts_and_rounded_rates_only(explorer, heart, model):
    # Nothing it returns or keeps is an exact rate, per-1,000 figure or edited patient's score: those are what
    # exercises grade (debias-per-1000, ethics-whatif), so they exist only as rounded text and 3-decimal attributes.
    for gone in ("metrics", "patient_score", "patient_decision", "_rate"):
        assert not hasattr(explorer, gone), gone
    explorer.widget
    explorer.set_thresholds({"Female": 0.37, "Male": 0.61})
    counts = explorer.counts()
    for group, point in explorer._widget._points.items():
        (fpr,), (tpr,) = point.get_data()
        assert fpr == round(rate(counts, group, "fp", ["fp", "tn"]), 3)
        assert tpr == round(rate(counts, group, "tp", ["tp", "fn"]), 3)
    for name in ("tpr", "fnr", "fpr", "ppv", "selection_rate"):
        assert all(round(value, 3) == value for value in shown_rates(explorer._widget, name).values())
    assert "e" not in explorer._widget.patient_view.value.split("data-score='")[1].split("'")[0]


@pytest.mark.slow
def test_displaying_the_explorer_in_a_kernel_without_a_front_end_prints_its_summary(tmp_path):
    from course_utils.instructor.release import run_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (
        "from course_utils.data import load_heart\nfrom course_utils.whatif import WhatIfExplorer\n"
        "from sklearn.linear_model import LogisticRegression\nheart = load_heart()\n"
        "X = heart[['age']].assign(male=(heart['sex'] == 'Male').astype(float))\n"
        "explorer = WhatIfExplorer(LogisticRegression().fit(X, heart['disease']), X, heart['disease'], "
        "sensitive_features=heart['sex'])",
        "explorer",
        "explorer.set_threshold('Female', 0.3)\nprint(explorer.summary().splitlines()[1])",
    )]
    path = tmp_path / "explorer.ipynb"
    nbformat.write(notebook, path)
    executed = run_notebook(path, timeout=120)
    outputs = [output for cell in executed.cells for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = executed.cells[1].outputs[0]["data"]
    assert shown["text/plain"].startswith("What-If explorer: 920 patients")
    assert "application/vnd.jupyter.widget-view+json" in shown
    assert executed.cells[2].outputs[0]["text"].startswith("  Female: threshold 0.300")
    assert not any("Warning" in o.get("text", "") for o in outputs)

