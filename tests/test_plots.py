"""The course's figures: fixed colour-blind-safe colours per group, labelled axes, error bars."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from course_utils.data import AGE_BANDS, SITES, load_heart  # noqa: E402
from course_utils.metrics import calibration_table  # noqa: E402
from course_utils.plots import (  # noqa: E402
    GROUP_COLOURS,
    OKABE_ITO,
    group_colour,
    plot_calibration_by_group,
    plot_category_shares,
    plot_distribution_by_group,
    plot_group_counts,
    plot_group_rates,
    plot_metric_by_period,
    plot_rate_by_level,
)
from tables import count_table, rate_table, share_table  # noqa: E402


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
    with pytest.raises(ValueError, match="no colour for group 'Unrecorded'.*Female, Male"):
        group_colour("Unrecorded")


def test_counts_figure_uses_group_colours_and_labels_units(heart):
    ax = plot_group_counts(count_table(heart, ["site", "sex"]))
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
    ax = plot_distribution_by_group(as_recorded, value_col="cholesterol", group_col="sex", bins=40)
    assert ax.get_xlabel() == "serum cholesterol (mg/dl)"
    male_patch = ax.patches[1]
    first_bin_height = male_patch.get_path().vertices[:, 1].max()
    zeros = (as_recorded.loc[as_recorded["sex"] == "Male", "cholesterol"].dropna() == 0).mean()
    assert first_bin_height == pytest.approx(zeros)  # the tallest bar is the spike of zeros


def test_category_shares_draw_the_tables_intervals(heart):
    table = share_table(heart, "sex", "chest_pain")
    ax = plot_category_shares(table)
    women = heart[heart["sex"] == "Female"]["chest_pain"]
    assert float(ax.patches[0].get_height()) == pytest.approx((women == "typical angina").mean())
    assert len(ax.collections) == 2  # one set of error bars per group
    segment = ax.collections[0].get_segments()[0]
    row = table.loc[("Female", "typical angina")]
    assert segment[:, 1].tolist() == pytest.approx([row["share_ci_low"], row["share_ci_high"]])
    assert ax.get_ylim() == (0, 1)


@pytest.mark.parametrize("call, error, phrase", [
    (lambda h: plot_group_counts(count_table(h, ["sex"])), ValueError,
     "indexed by \\(level, group\\)"),
    (lambda h: plot_group_counts([1]), TypeError, "DataFrame"),
    (lambda h: plot_group_rates(rates_table(), "auc"), ValueError, "no column 'auc'"),
    (lambda h: plot_group_rates(rates_table().values, "fnr"), TypeError, "DataFrame of rates per group"),
    (lambda h: plot_group_rates(pd.concat({"a": rates_table()}), "fnr"), ValueError, "MultiIndex"),
    (lambda h: plot_group_rates(rates_table().drop(columns="fnr_ci_high"), "fnr"), ValueError,
     "no column 'fnr_ci_high': the figure draws the intervals it is given"),
    (lambda h: plot_distribution_by_group(h, value_col="chest_pain", group_col="sex"), TypeError,
     "plot_category_shares"),
    (lambda h: plot_distribution_by_group(h, value_col="age", group_col="sex", bins=0), ValueError, "bins"),
    (lambda h: plot_distribution_by_group(h.assign(age=np.nan), value_col="age", group_col="sex"), ValueError,
     "all missing"),
    (lambda h: plot_distribution_by_group(h, value_col="age"), TypeError, "group_col"),
    (lambda h: plot_category_shares(h), ValueError, "no column 'share'"),
    (lambda h: plot_group_counts(count_table(h.assign(sex="Unrecorded"), ["site", "sex"])),
     ValueError, "no colour for group 'Unrecorded'"),
])
def test_bad_arguments_get_clear_errors(heart, call, error, phrase):
    with pytest.raises(error, match=phrase):
        call(heart)


# --------------------------------------------------------------------------- calibration, equal need, monitoring


def test_calibration_points_are_scikit_learns_per_group(heart):
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, len(heart))
    y = (rng.uniform(0, 1, len(heart)) < scores).astype(int)
    ax = plot_calibration_by_group(calibration_table(y, scores, sensitive_features=heart["sex"], n_bins=5),
                                   outcome_label="disease")
    women = (heart["sex"] == "Female").to_numpy()
    observed, predicted = calibration_curve(y[women], scores[women], n_bins=5, strategy="quantile")
    line = ax.get_lines()[0]
    assert line.get_label() == f"Female (n = {women.sum()})" and to_hex(line.get_color()).upper() == group_colour("Female")
    assert np.allclose(line.get_xdata(), predicted) and np.allclose(line.get_ydata(), observed)
    assert ax.get_legend().get_title().get_text() == "sex"


def test_rate_by_level_draws_each_groups_rate_with_the_tables_intervals():
    from scipy.stats import binomtest

    from course_utils.cohort import make_readmission_cohort

    cohort = make_readmission_cohort(n=3000, random_state=0).assign(race=lambda d: d["race"].astype(str))
    table = rate_table(cohort, ["payer", "race"], "readmitted_30d")
    ax = plot_rate_by_level(table, "prevalence", group_col="race", groups=["Black", "White"])
    black = ax.containers[0]
    assert black.get_label() == "Black" and to_hex(black.lines[0].get_color()).upper() == group_colour("Black")
    rows = cohort[cohort["race"] == "Black"]
    expected = rows.groupby("payer", observed=True)["readmitted_30d"].agg(["sum", "count", "mean"]).sort_index()
    assert np.allclose(black.lines[0].get_ydata(), expected["mean"])
    ci = binomtest(int(expected["sum"].iloc[0]), int(expected["count"].iloc[0])).proportion_ci(method="wilson")
    segment = black.lines[2][0].get_segments()[0]
    assert segment[:, 1].tolist() == pytest.approx([ci.low, ci.high])


def test_metric_by_period_draws_the_intervals_of_the_course_monthly_table():
    from course_utils.data import load_course_table

    table = load_course_table("readmission_deployment_by_month")
    ax = plot_metric_by_period(table, "fnr", group_col="race", groups=["Black", "White"], events={1: "coding change"},
                               xlabel="month of the deployment year")
    black = ax.containers[0]
    segment = black.lines[2][0].get_segments()[1][:, 1]
    assert segment.tolist() == pytest.approx([table.loc[(1, "Black"), "fnr_ci_low"], table.loc[(1, "Black"), "fnr_ci_high"]])
    assert [t.get_text() for t in ax.texts] == ["coding change"]
    assert ax.get_xlabel() == "month of the deployment year"
    share = plot_metric_by_period(table, "share", group_col="race", groups=["Black"]).containers[0].lines[0].get_ydata()
    assert share.tolist() == pytest.approx(table.xs("Black", level="race")["share"].tolist())


@pytest.mark.parametrize("call, error, phrase", [
    (lambda: calibration_table([0, 1], [0.2], sensitive_features=["Female", "Male"]), ValueError, "lengths differ"),
    (lambda: calibration_table([0, 1], [0.2, 1.5], sensitive_features=["Female", "Male"]), ValueError, "between 0 and 1"),
    (lambda: calibration_table([0, 1], [0.2, 0.5], sensitive_features=["Female", "Male"], n_bins=1), ValueError,
     "n_bins should be at least 2"),
    (lambda: plot_calibration_by_group(pd.DataFrame({"observed": [0.5]})), TypeError, "outcome_label"),
    (lambda: plot_rate_by_level(pd.DataFrame({"rate": [0.5]}), "rate", group_col="race"), ValueError,
     "no column 'rate_ci_low', 'rate_ci_high'"),
    (lambda: plot_rate_by_level(rate_table(pd.DataFrame({"x": [1], "y": [1], "race": ["Black"]}), ["x", "race"], "y"),
                                "prevalence", group_col="race", groups=["White"]), ValueError, "'White' is not in"),
    (lambda: plot_metric_by_period(pd.DataFrame({"n": [1]}), "fnr", group_col="race"), TypeError,
     "indexed by \\(period, group\\)"),
    (lambda: plot_metric_by_period(pd.DataFrame({"fnr": [0.5]}, index=pd.MultiIndex.from_tuples(
        [(0, "Black")], names=["month", "race"])), "fnr", group_col="race"), ValueError,
     "no column 'fnr_ci_low', 'fnr_ci_high': the figure draws the intervals it is given"),
    (lambda: plot_metric_by_period(pd.DataFrame({"fnr": [0.5], "fnr_ci_low": [0.4], "fnr_ci_high": [0.6]},
                                                index=pd.MultiIndex.from_tuples([(0, "Black")], names=["month", "race"])),
                                   "fnr", group_col="sex"), ValueError, "no index level 'sex'"),
])
def test_new_figures_reject_bad_arguments_clearly(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()
