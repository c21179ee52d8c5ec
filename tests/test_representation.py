"""Representation audit helpers: counts, ratios, prevalence intervals and missingness by group."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta

from course_utils.data import heart_data_path, load_heart
from course_utils.representation import (
    imbalance_ratio,
    missingness_table,
    prevalence_table,
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
    table = representation_table(heart)
    counts = raw["sex"].value_counts()
    assert table["n"].to_dict() == {"Female": counts["Female"], "Male": counts["Male"]}
    assert table["share"].sum() == pytest.approx(1)


def test_representation_within_site_shares_sum_to_one_per_site(heart, raw):
    table = representation_table(heart, within="site")
    assert table["n"].sum() == len(raw)
    assert table["share"].groupby(level="site").sum().to_numpy() == pytest.approx(np.ones(4))
    assert table.loc[("VA Long Beach", "Female"), "n"] == ((raw["site"] == "VA Long Beach") & (raw["sex"] == "Female")).sum()


def test_empty_categories_are_visible_rows():
    table = representation_table(small_frame())
    assert table.loc["X", "n"] == 0 and table.loc["X", "share"] == 0
    within = representation_table(small_frame(), within="site")
    assert within.loc[("a", "X"), "n"] == 0


def test_imbalance_ratio_overall_and_per_site(heart, raw):
    counts = pd.crosstab(raw["site"], raw["sex"])
    assert imbalance_ratio(heart) == pytest.approx(counts["Male"].sum() / counts["Female"].sum())
    per_site = imbalance_ratio(heart, within="site")
    assert per_site.to_dict() == pytest.approx((counts["Male"] / counts["Female"]).to_dict())
    assert imbalance_ratio(heart, majority="Female", minority="Male") == pytest.approx(1 / imbalance_ratio(heart))


def test_imbalance_ratio_without_minority_is_infinite_and_with_neither_is_undefined():
    frame = small_frame()
    assert imbalance_ratio(frame, majority="M", minority="X") == np.inf
    per_site = imbalance_ratio(frame, majority="X", minority="F", within="site")
    assert per_site.to_dict() == {"a": 0.0, "b": 0.0}
    frame["sex"] = frame["sex"].cat.add_categories(["Y"])
    assert np.isnan(imbalance_ratio(frame, majority="X", minority="Y"))


def test_prevalence_table_matches_plain_pandas_and_exact_interval(heart, raw):
    table = prevalence_table(heart, "sex", method="exact")
    plain = raw.groupby("sex")["disease"].agg(["size", "sum", "mean"])
    assert table["n"].tolist() == plain["size"].tolist() and table["cases"].tolist() == plain["sum"].tolist()
    assert table["prevalence"].to_numpy() == pytest.approx(plain["mean"].to_numpy())
    for sex, row in table.iterrows():
        k, n = plain.loc[sex, "sum"], plain.loc[sex, "size"]
        assert row["prevalence_ci_low"] == pytest.approx(beta.ppf(0.025, k, n - k + 1))
        assert row["prevalence_ci_high"] == pytest.approx(beta.ppf(0.975, k + 1, n - k))


def test_prevalence_intersections_flag_small_and_empty_groups(heart):
    table = prevalence_table(heart, ["sex", "age_band"])
    assert len(table) == 10 and table["small_group"].sum() == 3
    assert table.loc[("Female", "70+"), "n"] == 6
    empty = prevalence_table(small_frame(), ["sex", "site"])
    assert empty.loc[("X", "a"), "n"] == 0 and np.isnan(empty.loc[("X", "a"), "prevalence"])
    assert np.isnan(empty.loc[("X", "a"), "prevalence_ci_low"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["F", "M"]), st.integers(0, 1)), min_size=1, max_size=40))
def test_prevalence_interval_always_contains_the_estimate(rows):
    frame = pd.DataFrame(rows, columns=["sex", "disease"])
    table = prevalence_table(frame, "sex")
    defined = table[table["n"] > 0]
    assert (defined["prevalence_ci_low"] <= defined["prevalence"] + 1e-12).all()
    assert (defined["prevalence"] <= defined["prevalence_ci_high"] + 1e-12).all()


def test_missingness_table_matches_plain_pandas(heart, raw):
    table = missingness_table(heart, ["cholesterol", "major_vessels"])
    plain = raw[["cholesterol", "major_vessels"]].isna().groupby([raw["site"], raw["sex"]]).mean()
    assert table[["cholesterol", "major_vessels"]].to_numpy() == pytest.approx(plain.to_numpy())
    assert table["n"].sum() == len(raw)


def test_missingness_default_columns_and_empty_groups():
    table = missingness_table(small_frame(), by="sex")
    assert list(table.columns) == ["n", "chol"]
    assert table.loc["F", "chol"] == 0.5 and np.isnan(table.loc["X", "chol"])


@pytest.mark.parametrize("call, error, phrase", [
    (lambda h: representation_table([1, 2]), TypeError, "should be a pandas DataFrame"),
    (lambda h: representation_table(h.iloc[:0]), ValueError, "no rows"),
    (lambda h: representation_table(h, group="gender"), ValueError, "no column 'gender'"),
    (lambda h: representation_table(h, within="sex"), ValueError, "one column other than 'sex'"),
    (lambda h: imbalance_ratio(h, majority="male"), ValueError, "'male' is not a group of column 'sex'"),
    (lambda h: imbalance_ratio(h, majority="Male", minority="Male"), ValueError, "two different groups"),
    (lambda h: prevalence_table(h, "sex", outcome="age"), ValueError, "only 0 and 1"),
    (lambda h: prevalence_table(h, "sex", outcome="cholesterol"), ValueError, "missing values"),
    (lambda h: prevalence_table(h, "sex", method="agresti"), ValueError, "method should be one of"),
    (lambda h: prevalence_table(h, "sex", confidence_level=95), ValueError, "strictly between 0 and 1"),
    (lambda h: prevalence_table(h, "sex", min_group_size=0), ValueError, "min_group_size"),
    (lambda h: prevalence_table(h, 3), TypeError, "column name or a list of column names"),
    (lambda h: missingness_table(h[["sex", "site", "age"]]), ValueError, "no missing values"),
])
def test_bad_arguments_get_clear_errors(heart, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(heart)
