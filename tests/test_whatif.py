"""The What-If explorer: its numbers equal fairlearn's and scikit-learn's, its strategies do what they say,
its datapoint editor scores edited patients as the model does, and it displays without a front end."""

import json
import math

import nbformat
import numpy as np
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


@settings(max_examples=25, deadline=None)
@given(female=st.floats(0.0, 1.0), male=st.floats(0.0, 1.0))
def test_rates_equal_fairlearns_for_any_thresholds(heart, model, female, male):
    explorer = WhatIfExplorer(model, heart, heart["disease"], sensitive_features=heart["sex"])
    explorer.set_thresholds({"Female": female, "Male": male})
    table = explorer.metrics()
    decided = decisions_at(explorer, {"Female": female, "Male": male})
    assert np.array_equal(explorer.decisions(), decided)
    frame = MetricFrame(metrics={"fnr": false_negative_rate, "fpr": false_positive_rate, "selection_rate": selection_rate},
                        y_true=heart["disease"], y_pred=decided, sensitive_features=heart["sex"].astype(str))
    for group in ("Female", "Male"):
        mask = (heart["sex"] == group).to_numpy()
        tn, fp, fn, tp = confusion_matrix(heart["disease"][mask], decided[mask], labels=[0, 1]).ravel()
        assert (table.loc[group, ["tp", "fp", "tn", "fn"]].tolist()) == [tp, fp, tn, fn]
        for rate in ("fnr", "fpr", "selection_rate"):
            assert table.loc[group, rate] == pytest.approx(frame.by_group.loc[group, rate])
        assert table.loc[group, "tpr"] == pytest.approx(recall_score(heart["disease"][mask], decided[mask]))
        if decided[mask].any():
            assert table.loc[group, "ppv"] == pytest.approx(precision_score(heart["disease"][mask], decided[mask]))
        else:
            assert math.isnan(table.loc[group, "ppv"]), "PPV without anyone flagged is undefined, not 0"
        assert table.loc[group, "missed_per_1000"] == pytest.approx(1000 * table.loc[group, "fnr"])
        assert table.loc[group, "fnr_ci_low"] <= table.loc[group, "fnr"] <= table.loc[group, "fnr_ci_high"]


def test_strategies_do_what_they_say(explorer, heart):
    y = heart["disease"].to_numpy()
    explorer.apply_strategy("single threshold")
    assert len(set(explorer.thresholds.values())) == 1
    single = explorer.thresholds["Female"]
    accuracy = lambda t: ((explorer.scores >= t).astype(int) == y).mean()  # noqa: E731
    assert all(accuracy(single) >= accuracy(t) - 1e-12 for t in np.linspace(0, 1, 201))

    explorer.apply_strategy("equal opportunity")
    tpr = explorer.metrics()["tpr"]
    assert abs(tpr["Female"] - tpr["Male"]) < 0.03

    explorer.apply_strategy("demographic parity")
    selected = explorer.metrics()["selection_rate"]
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
    rates = explorer.metrics()
    assert abs(rates.loc["Female", "tpr"] - rates.loc["Male", "tpr"]) < 0.06
    assert abs(rates.loc["Female", "fpr"] - rates.loc["Male", "fpr"]) < 0.06
    explorer.set_threshold("Female", 0.4)  # a slider leaves the randomised policy
    assert explorer.strategy == "manual" and not math.isnan(explorer.thresholds["Male"])


def test_the_datapoint_editor_scores_edited_patients_as_the_model_does(explorer, heart, model):
    index = explorer.select_patient(how="nearest")
    row = heart.iloc[[index]].copy()
    assert explorer.patient_score() == pytest.approx(model.predict_proba(row)[0, 1])
    new = explorer.edit("max_heart_rate", 95.0)
    row.loc[row.index[0], "max_heart_rate"] = 95.0
    assert new == pytest.approx(model.predict_proba(row)[0, 1])
    explorer.reset_patient()
    flipped = explorer.flip()
    row = heart.iloc[[index]].copy()
    row.loc[row.index[0], "sex"] = "Male" if row["sex"].iloc[0] == "Female" else "Female"
    assert flipped == pytest.approx(model.predict_proba(row)[0, 1])
    wrong = explorer.select_patient(how="misclassified")
    assert explorer.decisions()[wrong] != heart["disease"].iloc[wrong]


def test_the_nearest_counterfactual_flips_the_decision_and_no_single_change_is_nearer(explorer, heart, model):
    explorer.select_patient(0)
    allowed = ["age", "cholesterol", "max_heart_rate"]
    found = explorer.nearest_counterfactual(allowed, max_changes=1)
    assert found["changes"] and found["decision"] != explorer.patient_decision()
    row = heart.iloc[[0]].copy()
    for column, value in found["changes"].items():
        row.loc[row.index[0], column] = value
    assert model.predict_proba(row)[0, 1] == pytest.approx(found["score"])
    # brute force over the same candidate values: nothing nearer flips the decision
    threshold = explorer.thresholds["Male" if heart["sex"].iloc[0] == "Male" else "Female"]
    start = explorer.patient_decision()
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
        score = explorer.edit("conditions", 5.5)
        explorer.flip()
        found = explorer.nearest_counterfactual(["conditions"])
    row = X.iloc[[0]].astype({"conditions": float}).assign(conditions=5.5)
    assert score == pytest.approx(model.predict_proba(row)[0, 1])
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
    shown = {(cell.split("data-group='")[1].split("'")[0]): float(cell.split("data-value='")[1].split("'")[0])
             for cell in view.table.value.split("<td ")[1:] if "data-rate='fnr'" in cell}
    assert shown == pytest.approx(explorer.metrics()["fnr"].to_dict())
    view.strategy.value = "demographic parity"
    assert explorer.strategy == "demographic parity"
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"].startswith("What-If explorer: 920 patients") and "model_id" in json.dumps(bundle)
    assert box is explorer.widget


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

