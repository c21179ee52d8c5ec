"""The course's figures: fixed colour-blind-safe colours per group, labelled axes, error bars."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from course_utils.data import AGE_BANDS, SITES, load_heart  # noqa: E402
from course_utils.plots import (  # noqa: E402
    GROUP_COLOURS,
    OKABE_ITO,
    group_colour,
    plot_category_shares,
    plot_distribution_by_group,
    plot_group_counts,
    plot_group_rates,
)


@pytest.fixture(scope="module")
def heart():
    return load_heart()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rates_table():
    return pd.DataFrame(
        {"n": [194, 726], "fnr": [0.38, 0.14], "fnr_ci_low": [0.27, 0.11], "fnr_ci_high": [0.50, 0.17],
         "fpr": [0.08, 0.34], "fpr_ci_low": [0.05, 0.31], "fpr_ci_high": [0.12, 0.40]},
        index=pd.Index(["Female", "Male"], name="sex"),
    )


def bar_colours(ax):
    return [to_hex(patch.get_facecolor()).upper() for patch in ax.patches]


def test_every_course_group_has_a_distinct_fixed_colour():
    groups = ["Female", "Male", *SITES, *AGE_BANDS]
    colours = [group_colour(g) for g in groups]
    assert len(set(colours)) == len(colours)
    assert group_colour("Female") == OKABE_ITO["vermillion"] and group_colour("Male") == OKABE_ITO["blue"]
    assert all(group_colour(s) in OKABE_ITO.values() for s in ["Female", "Male", *SITES])
    assert set(GROUP_COLOURS) >= set(groups)


def test_unknown_group_colour_names_the_known_groups():
    with pytest.raises(ValueError, match="no colour for group 'Other'.*Female, Male"):
        group_colour("Other")


def test_counts_figure_uses_group_colours_and_labels_units(heart):
    ax = plot_group_counts(heart)
    heights = [float(p.get_height()) for p in ax.patches]
    expected = pd.crosstab(heart["sex"], heart["site"]).to_numpy().ravel().astype(float).tolist()
    assert heights == expected
    assert set(bar_colours(ax)) == {group_colour("Female"), group_colour("Male")}
    assert ax.get_ylabel() == "patients (count)" and ax.get_xlabel() == "hospital" and ax.get_title()


def test_rates_figure_draws_the_intervals(heart):
    ax = plot_group_rates(rates_table(), ["fnr", "fpr"], title="One message")
    assert ax.get_title() == "One message"
    assert bar_colours(ax) == [group_colour("Female")] * 2 + [group_colour("Male")] * 2
    segments = [seg for coll in ax.collections for seg in coll.get_segments()]
    lows_highs = sorted((round(s[0][1], 2), round(s[1][1], 2)) for s in segments)
    assert (0.27, 0.5) in lows_highs and (0.11, 0.17) in lows_highs
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Female (n=194)", "Male (n=726)"]


def test_distribution_figure_shows_shares_and_the_zero_spike():
    as_recorded = load_heart(cholesterol_zero_as_missing=False)
    ax = plot_distribution_by_group(as_recorded, "cholesterol", bins=40)
    assert ax.get_xlabel() == "serum cholesterol (mg/dl)"
    male_patch = ax.patches[1]
    first_bin_height = male_patch.get_path().vertices[:, 1].max()
    zeros = (as_recorded.loc[as_recorded["sex"] == "Male", "cholesterol"].dropna() == 0).mean()
    assert first_bin_height == pytest.approx(zeros)  # the tallest bar is the spike of zeros


def test_category_shares_have_binomial_error_bars(heart):
    ax = plot_category_shares(heart, "chest_pain")
    women = heart[heart["sex"] == "Female"]["chest_pain"]
    assert float(ax.patches[0].get_height()) == pytest.approx((women == "typical angina").mean())
    assert len(ax.collections) == 2  # one set of error bars per group
    assert ax.get_ylim() == (0, 1)


@pytest.mark.parametrize("call, error, phrase", [
    (lambda h: plot_group_counts(h, x="hospital"), ValueError, "no column 'hospital'"),
    (lambda h: plot_group_counts([1]), TypeError, "DataFrame"),
    (lambda h: plot_group_rates(rates_table(), "auc"), ValueError, "no column 'auc'"),
    (lambda h: plot_group_rates(rates_table().values, "fnr"), TypeError, "DataFrame of rates per group"),
    (lambda h: plot_group_rates(pd.concat({"a": rates_table()}), "fnr"), ValueError, "MultiIndex"),
    (lambda h: plot_distribution_by_group(h, "chest_pain"), TypeError, "plot_category_shares"),
    (lambda h: plot_distribution_by_group(h, "age", bins=0), ValueError, "bins"),
    (lambda h: plot_distribution_by_group(h.assign(age=np.nan), "age"), ValueError, "all missing"),
    (lambda h: plot_category_shares(h, "cholesterol"), TypeError, "plot_distribution_by_group"),
    (lambda h: plot_group_counts(h.assign(sex="Other")), ValueError, "no colour for group 'Other'"),
])
def test_bad_arguments_get_clear_errors(heart, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(heart)
