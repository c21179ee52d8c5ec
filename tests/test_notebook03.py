"""Notebook 03 states true findings, and its graded questions recognise the usual mistakes.

Every number the notebook states (in its printed outputs and in its prose) is recomputed here with
plain pandas / numpy / scikit-learn on the output of ``make_readmission_cohort`` -- never with the
notebook's helpers (no group_audit_table, simulate_deployment, metrics_by_period, evaluate_rules,
render_*, explain).  The stored outputs are the ones nbval re-checks on every run, so reading them
is reading the notebook.
"""

import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from course_utils import exercises as checks
from course_utils.instructor import release
from course_utils.cohort import DEFAULT_DRIFT, make_readmission_cohort
from course_utils.governance import assessment_summary, template_path
from course_utils.monitoring import false_alarms, first_alert_months
from course_utils.exercises.questions.ethics import RULE_NAMES

SOLUTION = release.SOLUTIONS_DIR / "03_ethics_review.ipynb"
LEARNER = release.NOTEBOOKS_DIR / "03_ethics_review.ipynb"
NUMERIC, CATEGORICAL = ["chronic_conditions", "prior_utilisation"], ["age_band", "sex", "payer"]
FEATURES = NUMERIC + CATEGORICAL


# --- fixtures: the notebook's text, independent computations ------------------------------------


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(SOLUTION, as_version=4)




@pytest.fixture(scope="module")
def cohort():
    frame = make_readmission_cohort(n=20000, random_state=0)
    frame["race"] = frame["race"].astype(str)
    return frame


@pytest.fixture(scope="module")
def selected(cohort):
    """Top 3 % of a cost model and of a need model (gradient boosting, as Obermeyer's setting)."""
    X = pd.get_dummies(cohort[FEATURES], columns=CATEGORICAL).astype(float)
    chosen = {}
    with threadpool_limits(1):
        for label in ("cost", "chronic_conditions"):
            scores = HistGradientBoostingRegressor(random_state=0).fit(X, cohort[label]).predict(X)
            order = np.argsort(-scores, kind="stable")
            mask = np.zeros(len(scores), dtype=bool)
            mask[order[: int(0.03 * len(scores))]] = True
            chosen[label] = mask
    return chosen


@pytest.fixture(scope="module")
def risk(cohort):
    """The readmission model rebuilt with plain scikit-learn; validation half with decisions."""
    train, test = train_test_split(cohort, test_size=0.5, random_state=0, stratify=cohort["readmitted_30d"])
    model = make_pipeline(
        ColumnTransformer([("n", StandardScaler(), NUMERIC), ("c", OneHotEncoder(), CATEGORICAL)]),
        LogisticRegression(max_iter=1000),
    ).fit(train[FEATURES], train["readmitted_30d"])
    test = test.assign(score=model.predict_proba(test[FEATURES])[:, 1])
    threshold = np.quantile(test["score"], 0.9)
    test["flag"] = (test["score"] >= threshold).astype(int)
    return model, test, threshold


@pytest.fixture(scope="module")
def by_race(risk):
    _, test, _ = risk
    rows = {}
    for race, g in test.groupby("race"):
        pos, neg = g[g["readmitted_30d"] == 1], g[g["readmitted_30d"] == 0]
        rows[race] = {
            "n": len(g), "base_rate": g["readmitted_30d"].mean(), "selection_rate": g["flag"].mean(),
            "accuracy": (g["flag"] == g["readmitted_30d"]).mean(), "tpr": pos["flag"].mean(),
            "fpr": neg["flag"].mean(), "fnr": 1 - pos["flag"].mean(),
            "ppv": g.loc[g["flag"] == 1, "readmitted_30d"].mean(), "auc": roc_auc_score(g["readmitted_30d"], g["score"]),
            "predicted": g["score"].mean(),
        }
    return pd.DataFrame(rows).T


@pytest.fixture(scope="module")
def monthly(risk):
    """The deployment year scored month by month with the fixed threshold, in plain pandas."""
    model, _, threshold = risk
    year = make_readmission_cohort(n=12000, random_state=1, drift=DEFAULT_DRIFT)
    year["race"] = year["race"].astype(str)
    year["flag"] = (model.predict_proba(year[FEATURES])[:, 1] >= threshold).astype(int)
    rows = []
    for (month, race), g in year.groupby(["month", "race"]):
        pos = g[g["readmitted_30d"] == 1]
        rows.append({"month": month, "race": race, "n": len(g), "selection_rate": g["flag"].mean(),
                     "fnr": 1 - pos["flag"].mean()})
    table = pd.DataFrame(rows).set_index(["month", "race"])
    table["share"] = table["n"] / table.groupby(level="month")["n"].transform("sum")
    return table


def pct(value):
    return f"{100 * value:.1f} %"


def first_run_end(breaches, consecutive):
    """First month at which ``consecutive`` breaching months in a row are complete."""
    run = 0
    for month, breach in breaches.items():
        run = run + 1 if breach else 0
        if run >= consecutive:
            return month
    return None


# --- the findings --------------------------------------------------------------------------------


def test_cost_is_lower_for_black_patients_at_equal_need(cohort, outputs, prose):
    two = cohort[cohort["race"].isin(["Black", "White"])]
    level = two["chronic_conditions"].clip(upper=8)
    means = two.groupby([level, "race"])["cost"].mean().unstack()
    weights = two[two["race"] == "Black"].groupby(level[two["race"] == "Black"]).size()
    gap = ((means["Black"] - means["White"]) * weights).sum() / weights.sum()
    assert f"{gap:,.0f} $ a year" in outputs
    assert f"about {-gap:,.0f} $ **less**" in prose


def test_label_choice_shares_of_the_auto_enrolled(cohort, selected, outputs, prose):
    black = (cohort["race"] == "Black").to_numpy()
    cost, need, overall = black[selected["cost"]].mean(), black[selected["chronic_conditions"]].mean(), black.mean()
    assert f"cost label: {cost:.1%}" in outputs and f"need label: {need:.1%}" in outputs
    assert f"is {pct(cost)} Black; trained on need, {pct(need)} — in a cohort that is {pct(overall)} Black" in prose
    assert need - cost > 0.07  # the finding: the cost label under-selects the group with worse access


def test_enrolment_at_equal_high_need(cohort, selected, outputs, prose):
    high = (cohort["chronic_conditions"] >= 8).to_numpy()
    rates = {(label, race): selected[label][high & (cohort["race"] == race).to_numpy()].mean()
             for label in selected for race in ("Black", "White")}
    words = [f"{100 * rates[key]:.0f} %" for key in
             [("cost", "Black"), ("cost", "White"), ("chronic_conditions", "Black"), ("chronic_conditions", "White")]]
    assert (f"the cost model enrols {words[0]} of Black patients against {words[1]} of White patients; "
            f"the need model {words[2]} and {words[3]}") in prose
    assert f"by_cost, Black: {rates[('cost', 'Black')]:.1%}" in outputs


def test_validation_auc_calibration_and_error_rates(risk, by_race, outputs, prose):
    _, test, _ = risk
    auc = roc_auc_score(test["readmitted_30d"], test["score"])
    assert f"Validation AUC: {auc:.3f}" in outputs and f"AUC of {auc:.3f}" in prose
    b, w = by_race.loc["Black"], by_race.loc["White"]
    assert (f"Black patients: {b['base_rate']:.3f} readmitted, {b['predicted']:.3f} predicted; "
            f"White: {w['base_rate']:.3f} and {w['predicted']:.3f}") in prose
    assert abs(b["base_rate"] - b["predicted"]) < 0.01 and abs(w["base_rate"] - w["predicted"]) < 0.01
    assert f"({b['selection_rate']:.3f} against {w['selection_rate']:.3f})" in prose
    gap = b["fnr"] - w["fnr"]
    assert f"({b['fnr']:.3f} against {w['fnr']:.3f}; gap {gap:.3f})" in prose
    assert f"FNR gap, Black minus White: {gap:+.3f}" in outputs
    assert f"the selection-rate ratio is {b['selection_rate'] / w['selection_rate']:.2f}" in prose


def test_permutation_importance_ranks_chronic_conditions_first(risk, prose):
    model, test, _ = risk
    result = permutation_importance(model, test[FEATURES], test["readmitted_30d"], scoring="roc_auc",
                                    n_repeats=5, random_state=0)
    drop = dict(zip(FEATURES, result.importances_mean))
    assert max(drop, key=drop.get) == "chronic_conditions"
    assert f"(mean AUC drop {drop['chronic_conditions']:.3f})" in prose and f"prior visits ({drop['prior_utilisation']:.3f})" in prose


def test_monitoring_numbers_before_and_after_the_changes(monthly, prose, outputs):
    black, white = monthly.xs("Black", level="race"), monthly.xs("White", level="race")
    before, after = black.loc[:5], black.loc[9:]
    assert f"between {pct(before['share'].min())} and {pct(before['share'].max())}" in prose
    assert f"between {pct(before['selection_rate'].min())} and {pct(before['selection_rate'].max())}" in prose
    assert f"collapses to {pct(after['selection_rate'].min())}–{pct(after['selection_rate'].max())}" in prose
    ratio = black["selection_rate"] / white["selection_rate"]
    assert f"from {ratio[8]:.2f} in month 8 to {ratio[9]:.2f} in month 9" in prose
    assert f"(Black FNR {black.loc[10, 'fnr']:.3f} against {white.loc[10, 'fnr']:.3f}" in prose
    naive = [m for m in black.index if black.loc[m, "share"] > 0.20 and m < 6]
    assert naive == [2, 5] and "It fires in months 2 and 5" in prose


def test_rules_fire_at_the_months_the_notebook_says(monthly, prose):
    black, white = monthly.xs("Black", level="race"), monthly.xs("White", level="race")
    # The solution's rules and the course's example rules, applied by hand.
    assert first_run_end(black["share"] > 0.27, 1) == 6 and first_run_end(black["share"] > 0.25, 1) == 6
    ratio = black["selection_rate"] / white["selection_rate"]
    assert first_run_end(ratio < 0.8, 2) == 10
    assert first_run_end(black["fnr"] - white["fnr"] > 0.05, 2) == 10
    assert (black.loc[:5, "share"] <= 0.25).all() and (ratio.loc[:8] >= 0.8).all()
    assert "pages the safety officer in **month 10**" in prose and "fires from month 6" in prose


def test_model_card_and_datasheet_numbers_match_independent_values(notebook, by_race, cohort):
    card = next(o.text for c in notebook.cells for o in c.get("outputs", []) if "## Quantitative analyses" in o.get("text", ""))
    header = next(line for line in card.splitlines() if line.startswith("| group |")).strip("|").split("|")
    header = [h.strip() for h in header]
    compared = 0
    for race in ("Black", "Other", "White"):
        row = next(line for line in card.splitlines() if line.startswith(f"| {race} |")).strip("|").split("|")
        for column, cell in zip(header[1:], row[1:]):
            stated = float(re.match(r"\s*(-?[0-9.]+)", cell).group(1))
            assert stated == pytest.approx(by_race.loc[race, column], abs=0.0005), (race, column)
            compared += 1
    assert compared == 27
    sheet = next(o.text for c in notebook.cells for o in c.get("outputs", []) if "**By race**" in o.get("text", ""))
    for race, g in cohort.groupby("race"):
        line = f"| {race} | {len(g)} | {len(g) / len(cohort):.3f} | {g['readmitted_30d'].sum()} | {g['readmitted_30d'].mean():.3f} |"
        assert line in sheet
    assert "33 numbers in the model card and datasheet match" in "\n".join(
        o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


def test_the_notebook_runs_within_its_time_budget_settings(notebook):
    # Modest sizes keep the notebook under ~20 s (benchmarked in benchmarks/run_benchmarks.py).
    source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "progress=False" in source and "n_boot=" not in source  # intervals from the default 1,000 resamples
    assert "make_readmission_cohort(n=20000, random_state=0)" in source and "n=12000, random_state=1" in source


# --- the graded items ----------------------------------------------------------------------------


def message(question_id, answer):
    result = checks.evaluate(question_id, answer)
    assert result.status == "wrong", (question_id, answer, result.message)
    return result.message


def test_label_choice_misconceptions(cohort, selected):
    black = (cohort["race"] == "Black").to_numpy()
    cost, need = black[selected["cost"]].mean(), black[selected["chronic_conditions"]].mean()
    assert checks.evaluate("ethics-cost-black-share", cost).passed
    assert checks.evaluate("ethics-need-black-share", need).passed
    assert "model trained on need" in message("ethics-cost-black-share", need)
    assert "cost share is not the need share" in message("ethics-need-black-share", cost)
    assert "percentage" in message("ethics-cost-black-share", 100 * cost)
    assert "whole cohort" in message("ethics-need-black-share", black.mean())
    assert "count of patients" in message("ethics-cost-black-share", int(black[selected["cost"]].sum()))


def test_equal_need_misconceptions(cohort, selected):
    high = (cohort["chronic_conditions"] >= 8).to_numpy()
    rate = lambda label, race: selected[label][high & (cohort["race"] == race).to_numpy()].mean()
    right = {race: rate("cost", race) for race in ("Black", "White")}
    assert checks.evaluate("ethics-equal-need-enrolment", right).passed
    assert "need model's enrolment rates" in message(
        "ethics-equal-need-enrolment", {race: rate("chronic_conditions", race) for race in ("Black", "White")})
    assert "percentages" in message("ethics-equal-need-enrolment", {k: 100 * v for k, v in right.items()})
    chosen = selected["cost"] & high
    composition = {race: (cohort["race"].to_numpy()[chosen] == race).mean() for race in ("Black", "White")}
    assert "divide by the group's high-need patients" in message("ethics-equal-need-enrolment", composition)


def test_fnr_gap_misconceptions(by_race):
    gap = by_race.loc["Black", "fnr"] - by_race.loc["White", "fnr"]
    assert checks.evaluate("ethics-fnr-gap", gap).passed
    assert "wrong way round" in message("ethics-fnr-gap", -gap)
    assert "Black patients alone" in message("ethics-fnr-gap", by_race.loc["Black", "fnr"])


def test_risk_class_and_top_feature_misconceptions():
    assert checks.evaluate("ethics-risk-class", "High-risk").passed
    assert "Annex III, point 5" in message("ethics-risk-class", "limited-risk")
    assert "spam filters" in message("ethics-risk-class", "minimal-risk")
    assert "Article 5" in message("ethics-risk-class", "prohibited")
    assert checks.evaluate("ethics-risk-class", "limited").status == "invalid"
    assert checks.evaluate("ethics-top-feature", "chronic_conditions").passed
    assert "not one of the model's inputs" in message("ethics-top-feature", "race")


def test_assessment_misconceptions():
    import yaml

    worked = yaml.safe_load((release.SOLUTIONS_DIR / "impact_assessment_solution.yaml").read_text())
    assert checks.evaluate("ethics-assessment-valid", assessment_summary(worked)).passed
    limited = dict(worked, eu_ai_act_risk_class="limited-risk")
    assert "not 'limited-risk'" in message("ethics-assessment-valid", assessment_summary(limited))
    percent = dict(worked, fairness_metrics=[dict(m, threshold=5) for m in worked["fairness_metrics"]])
    assert "looks like a percentage" in message("ethics-assessment-valid", assessment_summary(percent))
    no_threshold = dict(worked, fairness_metrics=[{k: v for k, v in m.items() if k != "threshold"}
                                                   for m in worked["fairness_metrics"]])
    assert "No fairness metric has a numeric threshold" in message("ethics-assessment-valid", assessment_summary(no_threshold))
    blank = dict(worked, contestability="")
    assert "still finds problems" in message("ethics-assessment-valid", assessment_summary(blank))
    template = assessment_summary(template_path("template"))
    assert template["problems"] > 10  # the blank template is not a valid assessment


@pytest.fixture(scope="module")
def period_metrics():
    from course_utils.exercises.questions.ethics import period_metrics

    return period_metrics()


def rules(share_threshold=0.27, share_consecutive=1, ratio_threshold=0.8, consecutive=2):
    common = {"notify": "safety officer", "action": "review", "min_group_size": 100}
    return [
        {"name": "population shift", "metric": "share", "group": "Black", "threshold": share_threshold,
         "consecutive": share_consecutive, **common},
        {"name": "coding change", "metric": "selection_rate", "group": "Black", "comparison": "ratio",
         "reference": "White", "direction": "below", "threshold": ratio_threshold, "consecutive": consecutive, **common},
    ]


def test_monitoring_rule_misconceptions(period_metrics):
    good = rules()
    assert checks.evaluate("ethics-rules-false-alarms", false_alarms(good, period_metrics, 6)).passed
    assert checks.evaluate("ethics-rules-first-alerts", first_alert_months(good, period_metrics)).passed
    noisy = rules(share_threshold=0.20)
    assert "fire on noise" in message("ethics-rules-false-alarms", false_alarms(noisy, period_metrics, 6))
    assert "fires before the change" in message("ethics-rules-first-alerts", first_alert_months(noisy, period_metrics, names=RULE_NAMES))
    percent = rules(share_threshold=27)
    assert "written as a percentage" in message("ethics-rules-first-alerts", first_alert_months(percent, period_metrics, names=RULE_NAMES))
    single = rules(consecutive=1)
    assert "after a single month" in message("ethics-rules-first-alerts", first_alert_months(single, period_metrics, names=RULE_NAMES))
    late = rules(share_consecutive=2)
    assert "fires late" in message("ethics-rules-first-alerts", first_alert_months(late, period_metrics, names=RULE_NAMES))
    misnamed = [dict(rule, name=f"rule {i}") for i, rule in enumerate(good)]
    invalid = checks.evaluate("ethics-rules-first-alerts", first_alert_months(misnamed, period_metrics))
    assert invalid.status == "invalid" and "'population shift'" in invalid.message
