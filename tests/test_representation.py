"""Representation audit helpers: counts, ratios, prevalence intervals and missingness by group."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta

from course_utils.data import heart_data_path, load_heart
from course_utils.representation import (
    category_share_table,
    imbalance_ratio,
    missingness_table,
    prevalence_table,
    proportion_interval,
    representation_table,
)


@pytest.fixture(scope="module")
def heart():
    return load_heart()


@pytest.fixture(scope="module")
def raw():
    frame = pd.read_csv(heart_data_path())
    frame["disease"] = (frame["diagnosis"] > 0).astype(int)
    return frame


def small_frame():
    return pd.DataFrame({
        "sex": pd.Categorical(["F", "M", "M", "M", "F", "M"], categories=["F", "M", "X"]),
        "site": ["a", "a", "a", "b", "b", "b"],
        "disease": [1, 0, 1, 1, 0, 1],
        "chol": [200.0, np.nan, 180.0, np.nan, np.nan, 220.0],
    })


def test_representation_table_matches_plain_counts(heart, raw):
    table = representation_table(heart, group_col="sex")
    counts = raw["sex"].value_counts()
    assert table["n"].to_dict() == {"Female": counts["Female"], "Male": counts["Male"]}
    assert table["share"].sum() == pytest.approx(1)


def test_representation_within_site_shares_sum_to_one_per_site(heart, raw):
    table = representation_table(heart, group_col="sex", within_col="site")
    assert table["n"].sum() == len(raw)
    assert table["share"].groupby(level="site").sum().to_numpy() == pytest.approx(np.ones(4))
    assert table.loc[("VA Long Beach", "Female"), "n"] == ((raw["site"] == "VA Long Beach") & (raw["sex"] == "Female")).sum()


def test_empty_categories_are_visible_rows():
    table = representation_table(small_frame(), group_col="sex")
    assert table.loc["X", "n"] == 0 and table.loc["X", "share"] == 0
    within = representation_table(small_frame(), group_col="sex", within_col="site")
    assert within.loc[("a", "X"), "n"] == 0


def test_imbalance_ratio_overall_and_per_site(heart, raw):
    counts = pd.crosstab(raw["site"], raw["sex"])
    men_per_woman = imbalance_ratio(heart, group_col="sex", majority="Male", minority="Female")
    assert men_per_woman == pytest.approx(counts["Male"].sum() / counts["Female"].sum())
    per_site = imbalance_ratio(heart, group_col="sex", majority="Male", minority="Female", within_col="site")
    assert per_site.to_dict() == pytest.approx((counts["Male"] / counts["Female"]).to_dict())
    assert imbalance_ratio(heart, group_col="sex", majority="Female", minority="Male") == pytest.approx(1 / men_per_woman)


def test_imbalance_ratio_without_minority_is_infinite_and_with_neither_is_undefined():
    frame = small_frame()
    assert imbalance_ratio(frame, group_col="sex", majority="M", minority="X") == np.inf
    per_site = imbalance_ratio(frame, group_col="sex", majority="X", minority="F", within_col="site")
    assert per_site.to_dict() == {"a": 0.0, "b": 0.0}
    frame["sex"] = frame["sex"].cat.add_categories(["Y"])
    assert np.isnan(imbalance_ratio(frame, group_col="sex", majority="X", minority="Y"))


def test_prevalence_table_matches_plain_pandas_and_exact_interval(heart, raw):
    table = prevalence_table(heart, group_cols="sex", outcome_col="disease", method="exact")
    plain = raw.groupby("sex")["disease"].agg(["size", "sum", "mean"])
    assert table["n"].tolist() == plain["size"].tolist() and table["cases"].tolist() == plain["sum"].tolist()
    assert table["prevalence"].to_numpy() == pytest.approx(plain["mean"].to_numpy())
    for sex, row in table.iterrows():
        k, n = plain.loc[sex, "sum"], plain.loc[sex, "size"]
        assert row["prevalence_ci_low"] == pytest.approx(beta.ppf(0.025, k, n - k + 1))
        assert row["prevalence_ci_high"] == pytest.approx(beta.ppf(0.975, k + 1, n - k))


def test_prevalence_intersections_flag_small_and_empty_groups(heart):
    table = prevalence_table(heart, group_cols=["sex", "age_band"], outcome_col="disease")
    assert len(table) == 10 and table["small_group"].sum() == 3
    assert table.loc[("Female", "70+"), "n"] == 6
    empty = prevalence_table(small_frame(), group_cols=["sex", "site"], outcome_col="disease")
    assert empty.loc[("X", "a"), "n"] == 0 and np.isnan(empty.loc[("X", "a"), "prevalence"])
    assert np.isnan(empty.loc[("X", "a"), "prevalence_ci_low"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["F", "M"]), st.integers(0, 1)), min_size=1, max_size=40))
def test_prevalence_interval_always_contains_the_estimate(rows):
    frame = pd.DataFrame(rows, columns=["sex", "disease"])
    table = prevalence_table(frame, group_cols="sex", outcome_col="disease")
    defined = table[table["n"] > 0]
    assert (defined["prevalence_ci_low"] <= defined["prevalence"] + 1e-12).all()
    assert (defined["prevalence"] <= defined["prevalence_ci_high"] + 1e-12).all()


def test_category_shares_match_plain_pandas_with_wilson_intervals(heart, raw):
    table = category_share_table(heart, group_col="sex", category_col="chest_pain")
    plain = pd.crosstab(raw["sex"], raw["chest_pain"])
    for (sex, pain), row in table.iterrows():
        assert row["count"] == plain.loc[sex, pain] and row["n"] == plain.loc[sex].sum()
        assert row["share"] == pytest.approx(plain.loc[sex, pain] / plain.loc[sex].sum())
        assert row["share_ci_low"] < row["share"] < row["share_ci_high"]
    assert len(table) == 2 * 4


def test_proportion_interval_is_scipys_wilson_interval_and_nan_without_patients():
    from scipy.stats import binomtest

    low, high = proportion_interval([3, 50, 0], [6, 194, 0])
    expected = binomtest(50, 194).proportion_ci(method="wilson")
    assert (low[1], high[1]) == pytest.approx((expected.low, expected.high))
    assert np.isnan(low[2]) and np.isnan(high[2])
    exact_low, _ = proportion_interval(3, 3, method="exact")
    assert exact_low[0] == pytest.approx(beta.ppf(0.025, 3, 1))


def test_missingness_table_matches_plain_pandas(heart, raw):
    table = missingness_table(heart, group_cols=["site", "sex"], feature_cols=["cholesterol", "major_vessels"])
    plain = raw[["cholesterol", "major_vessels"]].isna().groupby([raw["site"], raw["sex"]]).mean()
    assert table[["cholesterol", "major_vessels"]].to_numpy() == pytest.approx(plain.to_numpy())
    assert table["n"].sum() == len(raw)


def test_missingness_default_columns_and_empty_groups():
    table = missingness_table(small_frame(), group_cols="sex")
    assert list(table.columns) == ["n", "chol"]
    assert table.loc["F", "chol"] == 0.5 and np.isnan(table.loc["X", "chol"])


@pytest.mark.parametrize("call, error, phrase", [
    (lambda h: representation_table([1, 2], group_col="sex"), TypeError, "should be a pandas DataFrame"),
    (lambda h: representation_table(h.iloc[:0], group_col="sex"), ValueError, "no rows"),
    (lambda h: representation_table(h, group_col="gender"), ValueError, "no column 'gender'"),
    (lambda h: representation_table(h, group_col="sex", within_col="sex"), ValueError, "another column than group_col"),
    (lambda h: representation_table(h), TypeError, "group_col"),
    (lambda h: imbalance_ratio(h, group_col="sex", majority="male", minority="Female"), ValueError,
     "'male' is not a group of column 'sex'"),
    (lambda h: imbalance_ratio(h, group_col="sex", majority="Male", minority="Male"), ValueError, "two different groups"),
    (lambda h: prevalence_table(h, group_cols="sex", outcome_col="age"), ValueError, "only 0 and 1"),
    (lambda h: prevalence_table(h, group_cols="sex", outcome_col="cholesterol"), ValueError,
     "outcome column 'cholesterol' has 202 missing value"),
    (lambda h: prevalence_table(h, group_cols="sex", outcome_col="disease", method="agresti"), ValueError,
     "method should be one of"),
    (lambda h: prevalence_table(h, group_cols="sex", outcome_col="disease", confidence_level=95), ValueError,
     "confidence_level should be strictly between 0 and 1, such as 0.95; got 95"),
    (lambda h: prevalence_table(h, group_cols="sex", outcome_col="disease", min_group_size=0), ValueError,
     "min_group_size should be at least 1; got 0"),
    (lambda h: prevalence_table(h, group_cols=3, outcome_col="disease"), TypeError, "column name or a list of column names"),
    (lambda h: missingness_table(h[["sex", "site", "age"]], group_cols="sex"), ValueError, "no missing values"),
    (lambda h: category_share_table(h, group_col="sex", category_col="cholesterol"), TypeError, "measurements"),
    (lambda h: proportion_interval([3], [2]), ValueError, "0 <= successes <= totals"),
])
def test_bad_arguments_get_clear_errors(heart, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(heart)
