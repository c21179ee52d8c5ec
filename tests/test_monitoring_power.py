"""Over 100 simulated deployment years, the example escalation rules catch the injected drift in time
and stay quiet in years without drift.

The period metrics are computed here with plain pandas (not ``metrics_by_period``), so the test also
checks that the rules act on the quantities they name.  Measured 2026-11-23: drift caught within
±1 month in 100 of 100 runs, false alarms in 0 of 100 drift-free runs (run with ``-s`` to see the figures).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from course_utils.cohort import DEFAULT_DRIFT, make_readmission_cohort
from course_utils.monitoring import evaluate_rules, load_rules

RULES = Path(__file__).parent / "fixtures" / "escalation_rules.yaml"  # example rules for the engine
FEATURES = ["age_band", "sex", "payer", "prior_utilisation", "chronic_conditions"]
N_RUNS = 100
SHIFT_MONTH = DEFAULT_DRIFT["population_shift"]["month"]
CODING_MONTH = DEFAULT_DRIFT["coding_change"]["month"]


@pytest.fixture(scope="module")
def model_and_threshold():
    """The model validated before go-live on a drift-free year; it flags the top 10 %."""
    train = make_readmission_cohort(random_state=101)
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["age_band", "sex", "payer"]),
                                     remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(train[FEATURES], train["readmitted_30d"])
    return model, float(np.quantile(model.predict_proba(train[FEATURES])[:, 1], 0.9))


def period_metrics_by_hand(year):
    """n, share, selection rate and FNR per month and race with plain pandas groupby."""
    by = year.groupby(["month", "race"], observed=False)
    n = by.size()
    table = pd.DataFrame({
        "n": n,
        "share": n / n.groupby(level="month").transform("sum"),
        "selection_rate": by["flagged"].mean(),
        "fnr": 1 - year[year["readmitted_30d"] == 1].groupby(["month", "race"], observed=False)["flagged"].mean(),
    })
    return table


def first_alerts(model, threshold, seed, drift):
    year = make_readmission_cohort(random_state=seed, drift=DEFAULT_DRIFT if drift else None)
    year["flagged"] = (model.predict_proba(year[FEATURES])[:, 1] >= threshold).astype(int)
    alerts = evaluate_rules(period_metrics_by_hand(year), load_rules(RULES))
    alerts = alerts[alerts["status"] == "alert"]
    return alerts.groupby("rule")["month"].min().to_dict()


@pytest.mark.slow
def test_detection_and_false_alarm_rates(model_and_threshold):
    model, threshold = model_and_threshold
    share_rule, ratio_rule, fnr_rule = (rule.name for rule in load_rules(RULES))
    detected_in_time, false_alarms = 0, 0
    for seed in range(1000, 1000 + N_RUNS):
        first = first_alerts(model, threshold, seed, drift=True)
        # the population shift is caught within one month of it, the coding change within one month of
        # it by the selection-rate or the FNR rule, and nothing fires more than a month early
        shift_ok = abs(first.get(share_rule, 99) - SHIFT_MONTH) <= 1
        coding_first = min(first.get(ratio_rule, 99), first.get(fnr_rule, 99))
        coding_ok = abs(coding_first - CODING_MONTH) <= 1
        no_early = min(first.values(), default=99) >= SHIFT_MONTH - 1
        detected_in_time += shift_ok and coding_ok and no_early
        false_alarms += bool(first_alerts(model, threshold, seed, drift=False))
    detection, false_alarm = detected_in_time / N_RUNS, false_alarms / N_RUNS
    print(f"drift caught within ±1 month in {detection:.0%} of {N_RUNS} runs; "
          f"false alarms in {false_alarm:.0%} of {N_RUNS} drift-free runs")
    assert detection >= 0.95 and false_alarm <= 0.05, (detection, false_alarm)


def test_rules_do_not_fire_on_a_group_below_the_minimum_size(model_and_threshold):
    """A tiny group's noisy rates give "insufficient data", never an alert."""
    model, threshold = model_and_threshold
    year = make_readmission_cohort(n=2000, random_state=7)  # about 10 "Other" patients a month
    year["flagged"] = (model.predict_proba(year[FEATURES])[:, 1] >= threshold).astype(int)
    metrics = period_metrics_by_hand(year)
    assert (metrics.xs("Other", level="race")["n"] < 30).all()
    rules = [{"name": "noisy small group", "metric": "fnr", "group": "Other", "comparison": "difference",
              "reference": "White", "direction": "above", "threshold": 0.01, "min_group_size": 30,
              "consecutive": 1, "severity": "warning", "notify": "model owner", "action": "review"}]
    alerts = evaluate_rules(metrics, rules)
    assert len(alerts) == 12 and (alerts["status"] == "insufficient data").all()
