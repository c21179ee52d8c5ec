"""The synthetic readmission cohort: calibration, label-choice bias, determinism, drift, the real-data loader.

Expected figures never come from the module: calibration targets are the published figures
(Strack et al. 2014; Obermeyer et al. 2019, see /work/shared/facts/data.md and the datasheet) and
every measured value is recomputed here with plain pandas or scikit-learn.
"""

import urllib.error

import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils import Bunch
from threadpoolctl import threadpool_limits

from course_utils import cohort as cohort_module
from course_utils.cohort import (
    COHORT_COLUMNS,
    DEFAULT_DRIFT,
    DIABETES_UNMAPPED,
    describe_cohort_columns,
    load_diabetes_hospital,
    make_readmission_cohort,
)
from course_utils.data import DataDownloadError

# Published targets and the tolerances the datasheet states.
READMISSION_RATE, READMISSION_TOL = 0.11, 0.015          # Diabetes 130-US: about 11 % within 30 days
RACE_TARGETS, RACE_TOL = {"White": 0.75, "Black": 0.19}, 0.02
COST_GAP_AT_EQUAL_NEED, COST_GAP_TOL = -1801, 800        # Obermeyer et al.: Black patients cost $1,801 less
FEATURES = ["age_band", "sex", "payer", "chronic_conditions", "prior_utilisation"]


@pytest.fixture(scope="module")
def cohort():
    return make_readmission_cohort()


def need_standardised_cost_gap(frame):
    """Mean cost, Black minus White, within each chronic-condition count, weighted by Black patients."""
    two = frame[frame["race"].astype(str).isin(["Black", "White"])]
    means = two.groupby([two["chronic_conditions"], two["race"].astype(str)])["cost"].mean().unstack()
    weights = two.loc[two["race"].astype(str) == "Black", "chronic_conditions"].value_counts()
    both = means.dropna().index.intersection(weights.index)
    return float(((means.loc[both, "Black"] - means.loc[both, "White"]) * weights[both]).sum() / weights[both].sum())


# --- shape and schema --------------------------------------------------------------------------


def test_columns_types_and_ranges(cohort):
    assert list(cohort.columns) == list(COHORT_COLUMNS)
    assert len(cohort) == 20000 and cohort["patient_id"].is_unique
    assert cohort["month"].between(0, 11).all() and cohort["month"].is_monotonic_increasing
    assert set(cohort["month"]) == set(range(12))
    assert list(cohort["race"].cat.categories) == ["White", "Black", "Other"]
    assert list(cohort["payer"].cat.categories) == ["Medicare", "Medicaid", "private", "self-pay"]
    assert cohort["age_band"].cat.ordered
    assert set(cohort["access_barrier"].unique()) == {0, 1}
    assert set(cohort["readmitted_30d"].unique()) == {0, 1}
    assert (cohort["cost"] > 0).all() and (cohort["chronic_conditions"] >= 0).all()
    assert not cohort.isna().any().any()
    # Without drift the recorded need is the true need.
    assert (cohort["chronic_conditions"] == cohort["chronic_conditions_true"]).all()


def test_describe_cohort_columns_lists_every_column():
    described = describe_cohort_columns()
    assert described["column"].tolist() == list(COHORT_COLUMNS)
    assert described.set_index("column").loc["chronic_conditions_true", "meaning"].startswith("LATENT")


# --- calibration to the published figures ------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_readmission_rate_is_about_eleven_percent(seed):
    frame = cohort_module.make_readmission_cohort(random_state=seed)
    assert abs(frame["readmitted_30d"].astype(float).mean() - READMISSION_RATE) <= READMISSION_TOL


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_race_shares_match_diabetes_130(seed):
    shares = make_readmission_cohort(random_state=seed)["race"].astype(str).value_counts(normalize=True)
    for race, target in RACE_TARGETS.items():
        assert abs(shares[race] - target) <= RACE_TOL, (race, shares[race])


def test_cost_is_lower_for_black_patients_at_equal_need(cohort):
    gap = need_standardised_cost_gap(cohort)
    assert abs(gap - COST_GAP_AT_EQUAL_NEED) <= COST_GAP_TOL, gap


def test_black_patients_have_more_need_and_more_access_barriers(cohort):
    by_race = cohort.groupby(cohort["race"].astype(str))[["chronic_conditions_true", "access_barrier"]].mean()
    assert by_race.loc["Black", "chronic_conditions_true"] > 1.15 * by_race.loc["White", "chronic_conditions_true"]
    assert by_race.loc["Black", "access_barrier"] > 3 * by_race.loc["White", "access_barrier"]


def test_access_barrier_lowers_cost_but_not_readmission_at_equal_need(cohort):
    # Within each need level, compare patients with and without a barrier.
    by = cohort.groupby(["chronic_conditions_true", "access_barrier"])[["cost", "readmitted_30d"]].mean().unstack()
    weights = cohort["chronic_conditions_true"].value_counts()
    levels = by.dropna().index
    weighted = lambda col: float(((by[col][1] - by[col][0]).loc[levels] * weights[levels]).sum() / weights[levels].sum())
    assert weighted("cost") < -1000
    assert weighted("readmitted_30d") >= 0


# --- label-choice bias (Obermeyer et al. 2019) -------------------------------------------------


def top_three_percent(scores):
    # The 97th-percentile cut-off: the 3 % highest scores; ties broken by row order (rows are random).
    ranks = pd.Series(scores).rank(method="first", ascending=False).to_numpy()
    return ranks <= 0.03 * len(scores)


def test_cost_label_under_selects_black_patients_at_equal_need(cohort):
    X = pd.get_dummies(cohort[FEATURES], columns=["age_band", "sex", "payer"]).astype(float)
    black = (cohort["race"].astype(str) == "Black").to_numpy()
    selected = {}
    # One thread: OpenMP on a busy 2-core machine can take 50x longer than the ~0.6 s this needs.
    with threadpool_limits(1):
        for label in ("cost", "chronic_conditions_next_year"):  # need: next year's conditions, not a feature
            model = HistGradientBoostingRegressor(random_state=0).fit(X, cohort[label])
            selected[label] = top_three_percent(model.predict(X))
    share_cost = black[selected["cost"]].mean()
    share_need = black[selected["chronic_conditions_next_year"]].mean()
    # Datasheet: 23.5 % of the auto-enrolled are Black with the cost label, 32.5 % with the need label.
    assert share_need - share_cost >= 0.07 and share_cost / share_need <= 0.8, (share_cost, share_need)

    # At equal need: among patients with as many conditions as those selected, the cost model
    # selects Black patients less often than White patients with the same count.
    frame = cohort.assign(sel_cost=selected["cost"], sel_need=selected["chronic_conditions_next_year"])
    need = frame["chronic_conditions_next_year"]
    high = frame[need >= 8]
    high = high[high["race"].astype(str).isin(["Black", "White"])]
    level = high["chronic_conditions_next_year"].clip(upper=12)
    rates = high.groupby([level, high["race"].astype(str)])[["sel_cost", "sel_need"]].mean()
    counts = high.groupby([level, high["race"].astype(str)]).size().unstack()
    levels = counts.index[(counts.min(axis=1) >= 20)]
    weights = counts.loc[levels, "Black"]

    def gap(column):
        wide = rates[column].unstack().loc[levels]
        return float(((wide["Black"] - wide["White"]) * weights).sum() / weights.sum())

    # seed 0: -0.18 for the cost label (18 points fewer Black patients at equal need), +0.02 for need
    assert gap("sel_cost") < -0.12
    assert abs(gap("sel_need")) < 0.06


# --- determinism and drift ---------------------------------------------------------------------


def test_same_seed_gives_identical_frame_and_other_seed_differs(cohort):
    pd.testing.assert_frame_equal(make_readmission_cohort(random_state=0), cohort)
    other = make_readmission_cohort(random_state=1)
    assert not other.equals(cohort)
    assert other["cost"].sum() != cohort["cost"].sum()


def test_population_shift_visible_only_from_its_month(cohort):
    shifted = make_readmission_cohort(drift={"population_shift": {"month": 6}})
    before = cohort["month"] < 6
    pd.testing.assert_frame_equal(shifted[before], cohort[before])
    black_share = shifted.groupby("month")["race"].apply(lambda r: (r.astype(str) == "Black").mean())
    assert black_share.loc[:5].between(0.15, 0.23).all()
    assert black_share.loc[6:].between(0.30, 0.38).all()
    medicaid = shifted.groupby(shifted["month"] >= 6)["payer"].apply(lambda p: (p.astype(str) == "Medicaid").mean())
    assert medicaid[True] > medicaid[False]


def test_coding_change_lowers_recorded_need_of_one_group_from_its_month(cohort):
    changed = make_readmission_cohort(drift={"coding_change": {"month": 9, "group": "Black", "undercount": 0.5}})
    # Only the record changes: need, cost and readmission are those of the cohort without drift.
    for column in ("race", "chronic_conditions_true", "cost", "readmitted_30d", "prior_utilisation"):
        pd.testing.assert_series_equal(changed[column], cohort[column])
    hit = (changed["month"] >= 9) & (changed["race"].astype(str) == "Black")
    assert (changed.loc[~hit, "chronic_conditions"] == changed.loc[~hit, "chronic_conditions_true"]).all()
    assert (changed.loc[hit, "chronic_conditions"] <= changed.loc[hit, "chronic_conditions_true"]).all()
    ratio = changed.loc[hit, "chronic_conditions"].sum() / changed.loc[hit, "chronic_conditions_true"].sum()
    assert ratio == pytest.approx(0.5, abs=0.05)


def test_default_drift_combines_both_at_their_months(cohort):
    drifted = make_readmission_cohort(drift=DEFAULT_DRIFT)
    before = cohort["month"] < DEFAULT_DRIFT["population_shift"]["month"]
    pd.testing.assert_frame_equal(drifted[before], cohort[before])
    recorded_less = drifted.groupby("month").apply(
        lambda m: (m["chronic_conditions"] < m["chronic_conditions_true"]).any(), include_groups=False)
    assert recorded_less[recorded_less].index.min() == DEFAULT_DRIFT["coding_change"]["month"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n": 0}, ValueError, "n should be at least 100; got 0"),
    ({"n": "many"}, TypeError, "n should be a whole number; got 'many'"),
    ({"random_state": -1}, ValueError, "random_state should be a whole number of at least 0 (a seed) or None; got -1"),
    ({"random_state": 1.5}, TypeError, "random_state should be a whole number of at least 0"),
    ({"seed": 0}, TypeError, "unexpected keyword argument 'seed'"),
    ({"months": 0}, ValueError, "months should be at least 1"),
    ({"drift": "yes"}, TypeError, "drift should be a dict; got str"),
    ({"drift": {"popultion_shift": {}}}, ValueError, "unknown setting(s) 'popultion_shift'"),
    ({"drift": {"population_shift": {"month": 20}}}, ValueError, "month should be between 0 and 11; got 20"),
    ({"drift": {"population_shift": {"race_shares": {"White": 0.5, "Black": 0.2, "Other": 0.1}}}},
     ValueError, "should add up to 1"),
    ({"drift": {"population_shift": {"race_shares": {"White": 1.0}}}}, ValueError, "missing 'Black', 'Other'"),
    ({"drift": {"coding_change": {"undercount": 1.5}}}, ValueError, "between 0 and 1; got 1.5"),
    ({"drift": {"coding_change": {"group": "Martian"}}}, ValueError, "group'] should be one of"),
    ({"drift": {"coding_change": {"when": 3}}}, ValueError, "unknown setting(s) 'when'"),
])
def test_bad_arguments_get_clear_errors(kwargs, error, message):
    with pytest.raises(error) as caught:
        make_readmission_cohort(**{"n": 200, **kwargs})
    assert message in str(caught.value)


# --- the real data, without the network --------------------------------------------------------


def fake_diabetes_frame():
    return pd.DataFrame({
        "race": ["Caucasian", "AfricanAmerican", "Hispanic", "Unknown", "Asian"],
        "gender": ["Female", "Male", "Unknown/Invalid", "Female", "Male"],
        "age": ["Over 60 years", "30-60 years", "30 years or younger", "Over 60 years", "30-60 years"],
        "medicare": [True, False, False, "True", "False"],
        "medicaid": [False, True, False, "False", "False"],
        "number_diagnoses": [9, 5, 1, 7, 3],
        "had_emergency": [True, False, False, "True", "False"],
        "had_inpatient_days": [True, True, False, "False", "False"],
        "had_outpatient_days": [False, True, False, "True", "False"],
        "time_in_hospital": [3, 4, 1, 2, 6],
        "readmit_30_days": [1, 0, 0, 1, 0],
    })


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    # Belt and braces: if a test forgot to replace the fetcher, fail instead of going online.
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to download data")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", refuse)
    monkeypatch.setattr("fairlearn.datasets._fetch_diabetes_hospital.fetch_openml", refuse)


def test_load_diabetes_hospital_maps_columns(monkeypatch):
    calls = []

    def fake_fetch(**kwargs):
        calls.append(kwargs)
        frame = fake_diabetes_frame()
        return Bunch(frame=frame, data=frame.drop(columns="readmit_30_days"), target=frame["readmit_30_days"])

    monkeypatch.setattr("fairlearn.datasets.fetch_diabetes_hospital", fake_fetch)
    mapped = load_diabetes_hospital()
    assert calls == [{"as_frame": True, "data_home": None}]
    assert list(mapped.columns) == [c for c in COHORT_COLUMNS if c not in DIABETES_UNMAPPED]
    assert mapped["race"].astype(str).tolist() == ["White", "Black", "Other", "Other", "Other"]
    assert mapped["sex"].tolist()[:2] == ["Female", "Male"] and pd.isna(mapped["sex"].iloc[2])
    assert mapped["age_band"].astype(str).tolist() == ["over 60", "30-60", "under 30", "over 60", "30-60"]
    # Neither flag: private, self-pay or unknown, which fairlearn's version does not tell apart.
    assert [p if isinstance(p, str) else None for p in mapped["payer"]] == ["Medicare", "Medicaid", None, "Medicare", None]
    assert mapped["chronic_conditions"].tolist() == [9, 5, 1, 7, 3]
    assert mapped["prior_utilisation"].tolist() == [2, 2, 0, 2, 0]
    assert mapped["readmitted_30d"].tolist() == [1, 0, 0, 1, 0]
    assert mapped["race"].cat.categories.tolist() == ["White", "Black", "Other"]


def test_load_diabetes_hospital_offline_names_the_way_on(monkeypatch):
    def offline(**kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr("fairlearn.datasets.fetch_diabetes_hospital", offline)
    with pytest.raises(DataDownloadError, match=r"offline.*make_readmission_cohort\(\)"):
        load_diabetes_hospital()


def test_load_diabetes_hospital_reports_a_changed_source(monkeypatch):
    monkeypatch.setattr("fairlearn.datasets.fetch_diabetes_hospital",
                        lambda **kwargs: Bunch(frame=fake_diabetes_frame().drop(columns="medicaid")))
    with pytest.raises(ValueError, match="lack the column.*medicaid"):
        load_diabetes_hospital()
