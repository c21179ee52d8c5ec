"""Worked-example tables: category shares with intervals, missingness by group, binomial intervals."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta

from course_utils.data import heart_data_path, load_heart
from course_utils.representation import category_share_table, missingness_table, proportion_interval


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


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=20))
def test_proportion_interval_always_contains_the_estimate(pairs):
    successes = [min(k, n) for k, n in pairs]
    totals = [n for _, n in pairs]
    low, high = proportion_interval(successes, totals)
    for k, n, lo, hi in zip(successes, totals, low, high):
        if n == 0:
            assert np.isnan(lo) and np.isnan(hi)
        else:
            assert lo - 1e-12 <= k / n <= hi + 1e-12


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
    (lambda h: missingness_table([1, 2], group_cols="sex"), TypeError, "should be a pandas DataFrame"),
    (lambda h: missingness_table(h.iloc[:0], group_cols="sex"), ValueError, "no rows"),
    (lambda h: missingness_table(h, group_cols="gender"), ValueError, "no column 'gender'"),
    (lambda h: missingness_table(h, group_cols=3), TypeError, "column name or a list of column names"),
    (lambda h: missingness_table(h[["sex", "site", "age"]], group_cols="sex"), ValueError, "no missing values"),
    (lambda h: category_share_table(h, group_col="sex", category_col="cholesterol"), TypeError, "measurements"),
    (lambda h: category_share_table(h, group_col="sex", category_col="sex"), ValueError, "another column"),
    (lambda h: proportion_interval([3], [2]), ValueError, "0 <= successes <= totals"),
    (lambda h: proportion_interval([1], [2], method="agresti"), ValueError, "method should be one of"),
    (lambda h: proportion_interval([1], [2], confidence_level=95), ValueError,
     "confidence_level should be strictly between 0 and 1, such as 0.95; got 95"),
])
def test_bad_arguments_get_clear_errors(heart, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(heart)
