"""Monitoring: per-period group metrics (the course's, instructor-only), escalation rules, and the simulated deployment
year with drift."""

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from course_utils.cohort import DEFAULT_DRIFT, make_readmission_cohort
from course_utils.instructor.course_tables import metrics_by_period  # the course's monthly table (instructor-only)
from course_utils.monitoring import (
    EscalationRule,
    evaluate_rules,
    load_rules,
    rule_as_dict,
    simulate_deployment,
)

FEATURES = ["age_band", "sex", "payer", "prior_utilisation", "chronic_conditions"]
SHIFT_MONTH = DEFAULT_DRIFT["population_shift"]["month"]    # 6
CODING_MONTH = DEFAULT_DRIFT["coding_change"]["month"]      # 9
SEEDS = [0, 1, 2, 3]                                        # the default seed and several others
#: Example rules for the engine (the course ships none: writing them is notebook 03's exercise).
RULES_PATH = Path(__file__).parent / "fixtures" / "escalation_rules.yaml"
SHARE_RULE, RATIO_RULE, FNR_RULE = (rule.name for rule in load_rules(RULES_PATH))


@lru_cache(maxsize=1)
def readmission_model():
    """The model validated before go-live: trained on a drift-free year of other patients."""
    train = make_readmission_cohort(random_state=101)
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["age_band", "sex", "payer"]),
                                     remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(train[FEATURES], train["readmitted_30d"])
    scores = model.predict_proba(train[FEATURES])[:, 1]
    return model, float(np.quantile(scores, 0.9))  # flag the top 10 % of the validation year


@lru_cache(maxsize=None)
def deployment_year(seed, drift=True):
    model, threshold = readmission_model()
    cohort = make_readmission_cohort(random_state=seed, drift=DEFAULT_DRIFT if drift else None)
    year = simulate_deployment(model, cohort, feature_cols=FEATURES, period_col="month", threshold=threshold)
    return year, by_month(year, n_boot=0)


def by_month(year, **settings):
    return metrics_by_period(year, period_col="month", group_col="race", outcome_col="readmitted_30d",
                             prediction_col="flagged", progress=False, **settings)


def alert_months(alerts, rule):
    return alerts.loc[(alerts["rule"] == rule) & (alerts["status"] == "alert"), "month"].tolist()


# --- the simulated year: rules fire at the right months and not on noise --------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_rules_fire_after_the_drift_and_not_before(seed):
    _, period_metrics = deployment_year(seed)
    alerts = evaluate_rules(period_metrics, load_rules(RULES_PATH))
    share = alert_months(alerts, SHARE_RULE)
    assert share and min(share) == SHIFT_MONTH                       # the month the population shifts
    assert set(share) == set(range(SHIFT_MONTH, 12))
    ratio = alert_months(alerts, RATIO_RULE)
    assert ratio and CODING_MONTH <= min(ratio) <= CODING_MONTH + 2  # 2 consecutive months: fires at 10
    fnr = alert_months(alerts, FNR_RULE)
    assert all(month >= CODING_MONTH for month in fnr)
    # No group is too small in this scenario, so nothing is "insufficient data".
    assert (alerts["status"] == "alert").all()


def test_default_seed_fires_exactly_as_documented():
    _, period_metrics = deployment_year(0)
    alerts = evaluate_rules(period_metrics, load_rules(RULES_PATH))
    assert alert_months(alerts, SHARE_RULE) == [6, 7, 8, 9, 10, 11]
    assert alert_months(alerts, RATIO_RULE) == [10, 11]
    assert alert_months(alerts, FNR_RULE) == [10, 11]
    first = alerts[alerts["rule"] == RATIO_RULE].iloc[0]
    assert first["severity"] == "critical" and "clinical safety officer" in first["notify"]
    assert first["value"] < 0.8 and first["consecutive"] == 2


def test_no_alert_in_a_year_without_drift():
    _, period_metrics = deployment_year(0, drift=False)
    assert evaluate_rules(period_metrics, load_rules(RULES_PATH)).empty


def test_threshold_stays_fixed_through_the_year():
    year, _ = deployment_year(0)
    _, threshold = readmission_model()
    assert year.attrs["threshold"] == threshold
    assert ((year["risk_score"] >= threshold) == (year["flagged"] == 1)).all()


# --- metrics per period ------------------------------------------------------------------------


def test_metrics_by_period_equal_plain_pandas():
    year, period_metrics = deployment_year(1)
    race = year["race"].astype(str)
    plain = year.groupby(["month", race])
    assert period_metrics["n"].to_dict() == plain.size().to_dict()
    assert np.allclose(period_metrics["selection_rate"], plain["flagged"].mean().reindex(period_metrics.index))
    positives = year[year["readmitted_30d"] == 1]
    fnr = 1 - positives.groupby(["month", positives["race"].astype(str)])["flagged"].mean()
    assert np.allclose(period_metrics["fnr"], fnr.reindex(period_metrics.index))
    share = plain.size() / year.groupby("month").size().reindex(plain.size().index.get_level_values(0)).to_numpy()
    assert np.allclose(period_metrics["share"], share.reindex(period_metrics.index))
    assert period_metrics.index.names == ["month", "race"]
    assert not any(c.endswith("_ci_low") for c in period_metrics.columns)


def test_metrics_by_period_intervals_and_absent_groups():
    df = pd.DataFrame({
        "month": [0] * 40 + [1] * 40,
        "race": ["White", "Black"] * 20 + ["White"] * 40,
        "readmitted_30d": [1, 0, 0, 1] * 20,
        "flagged": [1, 1, 0, 0] * 20,
    })
    table = by_month(df)
    assert {"selection_rate_ci_low", "fnr_ci_high", "share_ci_low", "share_ci_high"} <= set(table.columns)
    assert list(table.columns[:4]) == ["n", "share", "share_ci_low", "share_ci_high"]
    from scipy.stats import binomtest
    wilson = binomtest(20, 40).proportion_ci(method="wilson")
    assert (table.loc[(0, "Black"), "share_ci_low"], table.loc[(0, "Black"), "share_ci_high"]) == pytest.approx(
        (wilson.low, wilson.high))
    defined = table["selection_rate"].notna()
    assert (table.loc[defined, "selection_rate_ci_low"] <= table.loc[defined, "selection_rate"]).all()
    # Black patients are absent in month 1: a visible row with n = 0, not a missing row.
    assert table.loc[(1, "Black"), "n"] == 0 and table.loc[(1, "Black"), "undefined"] == "no patients in this group"


# --- rule logic --------------------------------------------------------------------------------


def frame(values, ns=None, reference=None, metric="selection_rate"):
    """Hand-made period metrics: one value (and size) per period for group B (and reference A)."""
    periods = range(len(values))
    ns = ns or [100] * len(values)
    rows = {(p, "B"): {"n": n, metric: v} for p, v, n in zip(periods, values, ns)}
    if reference is not None:
        rows.update({(p, "A"): {"n": 100, metric: r} for p, r in zip(periods, reference)})
    table = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    table.index.names = ["month", "race"]
    return table


def rule(**changes):
    settings_ = dict(name="r", metric="selection_rate", group="B", threshold=0.5, notify="owner", action="review",
                     min_group_size=30)
    return EscalationRule(**(settings_ | changes))


def test_small_group_is_insufficient_data_never_an_alert_never_a_silent_pass():
    table = frame([0.9, 0.9, 0.9, 0.1], ns=[100, 10, 100, 5])
    result = evaluate_rules(table, [rule()])
    assert result[["month", "status"]].values.tolist() == [
        [0, "alert"], [1, "insufficient data"], [2, "alert"], [3, "insufficient data"]]
    assert result.loc[1, "reason"] == "B: 10 patients, fewer than the minimum 30"
    assert np.isnan(result.loc[1, "value"])


def test_the_reference_group_must_be_large_enough_too():
    table = frame([0.2, 0.2], reference=[0.5, 0.5])
    table.loc[(1, "A"), "n"] = 3
    result = evaluate_rules(table, [rule(comparison="ratio", reference="A", direction="below", threshold=0.8)])
    assert result["status"].tolist() == ["alert", "insufficient data"]
    assert result.loc[0, "value"] == pytest.approx(0.4)


def test_undefined_metric_and_zero_reference_are_insufficient_data():
    table = frame([np.nan, 0.3], reference=[0.5, 0.0])
    result = evaluate_rules(table, [rule(comparison="ratio", reference="A")])
    assert result["status"].tolist() == ["insufficient data", "insufficient data"]
    assert result["reason"].tolist() == ["selection_rate undefined for B in this period",
                                         "ratio undefined: selection_rate of A is 0"]


def test_difference_and_consecutive_periods():
    table = frame([0.30, 0.20, 0.30, 0.30, 0.30], reference=[0.1] * 5, metric="fnr")
    fnr_gap = rule(metric="fnr", comparison="difference", reference="A", threshold=0.15, consecutive=2)
    result = evaluate_rules(table, [fnr_gap], include_all=True)
    assert result["status"].tolist() == ["breach", "ok", "breach", "alert", "alert"]
    assert result["consecutive"].tolist() == [1, 0, 1, 2, 3]
    assert result["value"].round(2).tolist() == [0.2, 0.1, 0.2, 0.2, 0.2]


def test_an_insufficient_period_breaks_a_run():
    table = frame([0.9, 0.9, 0.9, 0.9], ns=[100, 100, 10, 100])
    result = evaluate_rules(table, [rule(consecutive=2)], include_all=True)
    assert result["status"].tolist() == ["breach", "alert", "insufficient data", "breach"]


def reference_alerts(breaches, measured, k):
    """Independent count: a period alerts when it and the k - 1 before it were all measured breaches."""
    ok = [b and m for b, m in zip(breaches, measured)]
    return [i for i in range(len(ok)) if i >= k - 1 and all(ok[i - k + 1:i + 1])]


def longest_run(flags):
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=15), st.integers(1, 5))
def test_consecutive_rule_fires_exactly_on_runs_of_k(series, k):
    breaches = [b for b, _ in series]
    measured = [m for _, m in series]
    values = [0.9 if b else 0.1 for b in breaches]
    ns = [100 if m else 10 for m in measured]
    result = evaluate_rules(frame(values, ns=ns), [rule(consecutive=k)])
    fired = result.loc[result["status"] == "alert", "month"].tolist()
    assert fired == reference_alerts(breaches, measured, k)
    if longest_run([b and m for b, m in series]) < k:
        assert fired == []
    # Every unmeasured period is reported, none is dropped.
    assert result.loc[result["status"] == "insufficient data", "month"].tolist() == [
        i for i, m in enumerate(measured) if not m]


# --- rules: construction, loading, errors ------------------------------------------------------


def test_example_rules_load_and_describe_themselves():
    rules = load_rules(RULES_PATH)
    assert [r.metric for r in rules] == ["share", "selection_rate", "fnr"]
    assert rules[1].describe().startswith(
        "selection-rate ratio, Black vs White (critical): fires when selection_rate ratio Black / White is below 0.8 "
        "for 2 consecutive periods, with at least 50 patients per group")
    assert load_rules([rule_as_dict(r) for r in rules]) == rules
    assert load_rules(RULES_PATH.read_text(encoding="utf-8")) == rules
    assert load_rules(str(RULES_PATH)) == rules


@pytest.mark.parametrize("changes, message", [
    ({"metric": "recall"}, "metric should be one of 'share', "),
    ({"comparison": "gap"}, "comparison should be one of 'value', 'difference', 'ratio'; got 'gap'"),
    ({"comparison": "ratio"}, "reference (needed for comparison 'ratio') should be text"),
    ({"reference": "A"}, "reference is only used with comparison 'difference' or 'ratio'"),
    ({"comparison": "difference", "reference": "B"}, "reference should be another group than group"),
    ({"direction": "over"}, "direction should be one of 'above', 'below'; got 'over'"),
    ({"threshold": "high"}, "threshold should be a number; got 'high'"),
    ({"threshold": float("nan")}, "threshold should be a number; got nan"),
    ({"min_group_size": 0}, "min_group_size should be at least 1; got 0"),
    ({"consecutive": 1.5}, "consecutive should be a whole number; got 1.5"),
    ({"severity": "urgent"}, "severity should be one of 'info', 'warning', 'critical'; got 'urgent'"),
    ({"notify": ""}, "notify should be text (say it in words); got ''"),
])
def test_bad_rule_settings_get_clear_errors(changes, message):
    with pytest.raises((TypeError, ValueError)) as caught:
        rule(**changes)
    assert message in str(caught.value)


def test_load_rules_reports_every_problem_with_its_place():
    good = rule_as_dict(rule())
    specs = {"rules": [good, good | {"threshold": "high"}, {"name": "x"}, good | {"colour": "red"}]}
    with pytest.raises(ValueError) as caught:
        load_rules(specs)
    lines = str(caught.value).splitlines()
    assert lines[0] == "The escalation rules have 4 problems:"
    assert lines[1] == "  rules[1]: threshold should be a number; got 'high'."
    assert lines[2] == "  rules[2]: missing setting(s) metric, group, threshold, notify, action."
    assert lines[3].startswith("  rules[3]: unknown setting(s) 'colour'")
    assert lines[4] == "  two rules are called 'r'; give each rule its own name."


@pytest.mark.parametrize("source, error, message", [
    ("rules:\n  - name: r\n   metric: fnr\n", ValueError, "not valid YAML (line 3)"),
    ({"rule": []}, ValueError, "under a 'rules:' key"),
    ([], ValueError, "non-empty list of rules"),
    ("no_such_rules.yaml", FileNotFoundError, "No rules file at no_such_rules.yaml"),
    (None, ValueError, "Give the rules"),  # the course ships no default rules
])
def test_load_rules_bad_sources(source, error, message):
    with pytest.raises(error) as caught:
        load_rules(source)
    assert message in str(caught.value)


def test_evaluate_rules_checks_its_inputs():
    table = frame([0.5])
    with pytest.raises(ValueError, match="group 'Black' is not a group in period_metrics; the groups are B"):
        evaluate_rules(table, [rule(group="Black")])
    with pytest.raises(ValueError, match="watches 'fnr', which period_metrics does not have"):
        evaluate_rules(table, [rule(metric="fnr")])
    with pytest.raises(TypeError, match="indexed by \\(period, group\\)"):
        evaluate_rules(table.reset_index(level=1), [rule()])


def test_simulate_deployment_checks_its_inputs():
    model, _ = readmission_model()
    cohort = make_readmission_cohort(n=500, random_state=3)
    first_month = simulate_deployment(model, cohort, feature_cols=FEATURES, period_col="month", flag_share=0.2)
    assert first_month.loc[first_month["month"] == 0, "flagged"].mean() == pytest.approx(0.2, abs=0.03)
    with pytest.raises(ValueError, match="data has no column 'weight'"):
        simulate_deployment(model, cohort, feature_cols=["weight"], period_col="month")
    with pytest.raises(TypeError, match="feature_cols should be a list of column names"):
        simulate_deployment(model, cohort, feature_cols="age_band", period_col="month")
    with pytest.raises(ValueError, match="data has no column 'week'"):
        simulate_deployment(model, cohort, feature_cols=FEATURES, period_col="week")
    with pytest.raises(ValueError, match="flag_share should be strictly between 0 and 1, such as 0.1; got 10"):
        simulate_deployment(model, cohort, feature_cols=FEATURES, period_col="month", flag_share=10)
    with pytest.raises(TypeError, match="predict_proba or decision_function"):
        simulate_deployment(object(), cohort, feature_cols=FEATURES, period_col="month")


def test_metrics_by_period_names_every_column_it_needs():
    year, _ = deployment_year(0)
    with pytest.raises(TypeError, match="period_col"):
        metrics_by_period(year, group_col="race", outcome_col="readmitted_30d", prediction_col="flagged")
    with pytest.raises(ValueError, match="data has no column 'readmitted'"):
        metrics_by_period(year, period_col="month", group_col="race", outcome_col="readmitted",
                          prediction_col="flagged", progress=False)


# --- the table as known on a month, and years to test a policy on -----------------------------------------------------

def test_as_known_at_holds_the_months_so_far_with_the_newest_outcomes_unknown():
    from course_utils.monitoring import OUTCOME_COLUMNS, as_known_at

    index = pd.MultiIndex.from_product([range(4), ["Black", "White"]], names=["month", "race"])
    table = pd.DataFrame({"n": range(8), "share": 0.5, "selection_rate": 0.1, "fnr": 0.6, "ppv": 0.3}, index=index)
    view = as_known_at(table, 2)
    assert sorted(set(view.index.get_level_values("month"))) == [0, 1, 2]
    assert view.loc[2, ["fnr", "ppv"]].isna().all().all() and view.loc[[0, 1], ["fnr", "ppv"]].notna().all().all()
    assert (view.loc[2, "selection_rate"] == 0.1).all() and view.loc[2, "n"].tolist() == [4, 5]
    assert table.loc[2, "fnr"].notna().all()  # the table itself is untouched
    two_months = as_known_at(table, 3, outcome_delay=2)
    assert two_months.loc[[2, 3], "fnr"].isna().all() and two_months.loc[1, "fnr"].notna().all()
    assert {"base_rate", "tpr", "fnr", "fpr", "ppv"} <= set(OUTCOME_COLUMNS)
    with pytest.raises(TypeError, match="indexed by \\(month, group\\)"):
        as_known_at(table.reset_index(), 2)


@pytest.fixture(scope="module")
def model_for_years():
    from sklearn.linear_model import LogisticRegression

    from course_utils.cohort import make_readmission_cohort

    people = make_readmission_cohort(n=4000, random_state=3)
    model = LogisticRegression(max_iter=1000).fit(people[["chronic_conditions", "prior_utilisation"]],
                                                  people["readmitted_30d"])
    return model, float(np.quantile(model.predict_proba(people[["chronic_conditions", "prior_utilisation"]])[:, 1], 0.9))


def test_monitoring_years_plant_the_changes_where_asked_and_repeat_with_their_seeds(model_for_years):
    from course_utils.scenarios import monitoring_year, monitoring_years

    model, threshold = model_for_years
    features = ["chronic_conditions", "prior_utilisation"]
    quiet, changed = monitoring_years(model, threshold, feature_cols=features, years=[(1, None, None), (1, 4, 8)])
    black_quiet, black_changed = quiet.xs("Black", level="race"), changed.xs("Black", level="race")
    # Same draws before any change; the shift raises the Black share from month 4, the coding change lowers their
    # selection rate from month 8 (their recorded conditions are halved).
    pd.testing.assert_frame_equal(quiet.loc[:3], changed.loc[:3])
    assert black_changed.loc[4:, "share"].mean() > black_quiet["share"].max() + 0.05
    assert black_changed.loc[8:, "selection_rate"].max() < 0.5 * black_changed.loc[4:7, "selection_rate"].min()
    # Counts agree with their rates, and one year made alone is the same year.
    assert np.allclose(quiet.groupby(level="month")["share"].sum(), 1)
    assert np.allclose(quiet["fnr"], 1 - quiet["tpr"], equal_nan=True)
    pd.testing.assert_frame_equal(monitoring_year(model, threshold, feature_cols=features, random_state=1,
                                                  shift_month=4, coding_month=8), changed)
    with pytest.raises(ValueError, match="a month from 0 to 11"):
        monitoring_year(model, threshold, feature_cols=features, coding_month=12)
