"""The course's one bootstrap (course_utils.instructor.course_tables, behind the shipped tables): the documented draw,
the counting formulas, the widening."""

import numpy as np
import pytest
from fairlearn.metrics import false_negative_rate
from sklearn.metrics import accuracy_score, precision_score, roc_auc_score

from course_utils.instructor import course_tables as bootstrap


def test_resamples_are_the_documented_draw_whatever_the_chunk_size(monkeypatch):
    expected = np.random.default_rng(4).integers(0, 50, size=(30, 50))
    assert np.array_equal(np.concatenate(list(bootstrap.resample_rows(50, 30, 4))), expected)
    monkeypatch.setattr(bootstrap, "_CHUNK_CELLS", 120)  # two resamples per chunk
    chunks = list(bootstrap.resample_rows(50, 30, 4))
    assert len(chunks) == 15 and np.array_equal(np.concatenate(chunks), expected)


def test_counted_rates_equal_scikit_learn_and_fairlearn_on_the_unresampled_data(monkeypatch):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    score = np.round(rng.random(300), 2)  # rounded: many ties, which AUC must count as half
    pred = (score >= 0.5).astype(int)
    group = rng.integers(0, 2, 300)
    # One "resample" that draws every patient once, in order.
    monkeypatch.setattr(bootstrap, "resample_rows", lambda n, *args: iter([np.arange(n)[None, :]]))
    samples = bootstrap.rates_on_resamples(y, pred, group, 2, y_score=score, n_boot=1, random_state=0,
                                            include_overall=True)
    assert samples["auc"][0, 2] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert samples["accuracy"][0, 2] == pytest.approx(accuracy_score(y, pred), abs=1e-12)
    for g in (0, 1):
        mine = group == g
        assert samples["fnr"][0, g] == pytest.approx(false_negative_rate(y[mine], pred[mine]), abs=1e-12)
        assert samples["ppv"][0, g] == pytest.approx(precision_score(y[mine], pred[mine]), abs=1e-12)
        assert samples["auc"][0, g] == pytest.approx(roc_auc_score(y[mine], score[mine]), abs=1e-12)


def test_an_interval_that_would_miss_its_estimate_is_widened_to_include_it():
    # A gap of 0.001 whose resampled gaps all lie above it (|difference| cannot go below 0).
    samples = np.linspace(0.003, 0.25, 200)
    low, high = bootstrap.percentile_intervals(samples, 0.001, 0.95)
    assert low == 0.001 and high == pytest.approx(np.quantile(samples, 0.975))


def test_undefined_resamples_are_left_out_and_nothing_defined_gives_nan():
    samples = np.column_stack([np.r_[np.full(50, np.nan), np.linspace(0, 1, 101)], np.full(151, np.nan)])
    low, high = bootstrap.percentile_intervals(samples, np.array([0.5, 0.1]), 0.9)
    assert (low[0], high[0]) == pytest.approx((0.05, 0.95))
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert all(np.isnan(bootstrap.percentile_intervals(np.linspace(0, 1, 10), np.nan, 0.95)))
