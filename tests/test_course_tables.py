"""The shipped tables: what the course computed, exactly, and nothing a learner could call.

``data/<name>.parquet`` (read with ``course_utils.data.load_course_table``) hold the audit tables, the sweep and the
monitoring year the notebooks show.  They are computed by ``course_utils.instructor.course_tables`` -- instructor-only
code, because it answers code exercises -- and ``data/raw/build_course_tables.py`` writes them.  Here: every shipped
table equals a fresh computation (values, dtypes, index), the Parquet bytes are reproducible, the names agree with
the notebooks, and the binomial interval behind the monthly shares is scipy's.
"""

import io
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta, binomtest

from course_utils.exercises.questions import notebook_id_of
from course_utils.data import COURSE_TABLES, load_course_table
from course_utils.instructor import course_tables
from course_utils.instructor.course_tables import proportion_interval

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"


def test_the_registry_and_the_learners_list_name_the_same_tables_and_every_one_is_shipped():
    assert list(course_tables.TABLES) == list(COURSE_TABLES)
    for name in COURSE_TABLES:
        assert (DATA_DIR / f"{name}.parquet").is_file(), name


def test_every_table_is_loaded_by_the_notebook_that_shows_it():
    sources = {notebook_id_of(path): "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
               for path in sorted((ROOT / "solutions").glob("0*.ipynb"))}
    for name, description in COURSE_TABLES.items():
        notebook = description.split(" ", 1)[0]  # "01 §5: ..." or "02b §4: ..."
        assert f'load_course_table("{name}")' in sources[notebook], (name, notebook)


@pytest.mark.slow  # builds every table afresh: about 5 s
def test_every_shipped_table_equals_a_fresh_computation_byte_for_byte():
    fresh = course_tables.build_tables()
    for name, table in fresh.items():
        shipped = load_course_table(name)
        pd.testing.assert_frame_equal(shipped, table, check_exact=True)  # values, dtypes, index, column order
        assert (DATA_DIR / f"{name}.parquet").read_bytes() == course_tables.table_bytes(table), name


def test_notebook_02s_validation_tables_do_not_depend_on_the_test_labels(monkeypatch):
    # The shipped sweep and validation audits are what notebook 02 chooses with: the test patients' labels shuffled,
    # they come out the same (tests/test_notebook02.py shows the same for the notebook's own choices).
    inputs = course_tables.load_heart_model_inputs()
    test = (inputs["split"] == "test").to_numpy()
    shuffled = inputs.copy()
    shuffled.loc[test, "disease"] = np.random.default_rng(1).permutation(inputs.loc[test, "disease"].to_numpy())
    assert not shuffled["disease"].equals(inputs["disease"])
    monkeypatch.setattr(course_tables, "load_heart_model_inputs", lambda: shuffled.copy())
    course_tables._notebook_02.cache_clear()
    try:
        for name in ("heart_crossfit_sweep", "heart_crossfit_calibration_by_sex", "heart_validation_audit_by_sex",
                     "heart_validation_audit_by_age"):
            pd.testing.assert_frame_equal(course_tables.TABLES[name](), load_course_table(name), check_exact=True)
        assert course_tables.chosen_setting() == ("reweighing", 0.75)  # the choice, made without the test labels
    finally:
        course_tables._notebook_02.cache_clear()


def test_parquet_keeps_an_audit_table_exactly():
    table = course_tables.group_audit_table([1, 0, 1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0, 1, 0],
                                            sensitive_features=pd.Categorical(list("FFFFMMMM"), categories=list("FMX")),
                                            y_score=[0.9, 0.2, 0.4, 0.8, 0.7, 0.3, 0.6, 0.1], random_state=0)
    back = pd.read_parquet(io.BytesIO(course_tables.table_bytes(table)), engine="fastparquet")
    pd.testing.assert_frame_equal(back, table, check_exact=True)
    assert back.loc["X", "undefined"] == "no patients in this group"


def test_the_build_script_checks_the_shipped_tables():
    help_text = subprocess.run([sys.executable, str(DATA_DIR / "raw" / "build_course_tables.py"), "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "--check" in help_text


def test_the_notebooks_numbers_come_from_the_shipped_tables():
    # A few of the numbers the notebooks' prose states, read from the tables they come from.
    audit = load_course_table("heart_baseline_audit_by_sex")
    assert round(audit.loc["Female", "fnr"], 2) == 0.38 and round(audit.loc["Male", "fnr"], 2) == 0.14
    assert f"{audit.loc['Female', 'fnr_ci_low']:.2f}–{audit.loc['Female', 'fnr_ci_high']:.2f}" == "0.24–0.52"
    indicators = load_course_table("heart_missing_indicators_by_site")
    assert indicators.index.tolist() == ["Cleveland", "Hungary", "Switzerland", "VA Long Beach", "all four sites"]
    within, pooled = indicators.iloc[:4], indicators.loc["all four sites"]
    assert (within["auc_change"] > 0).all() and (within["change_ci_low"] < 0).all() and (within["change_ci_high"] > 0).all()
    assert pooled["change_ci_high"] < 0 and pooled["n"] == 920
    sweep = load_course_table("heart_crossfit_sweep")
    assert len(sweep) == 21 and sweep["method"].drop_duplicates().tolist() == [
        "baseline", "reweighing", "adversarial", "threshold"]
    monthly = load_course_table("readmission_deployment_by_month")
    assert monthly.index.names == ["month", "race"] and monthly.index.get_level_values(0).nunique() == 12
    black = monthly.xs("Black", level="race")
    assert black.loc[9:, "selection_rate"].max() < 0.05 < black.loc[:8, "selection_rate"].min()


# --------------------------------------------------------------------------- the binomial interval (monthly shares)


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
            assert 0 <= lo <= k / n <= hi <= 1


def test_proportion_interval_is_scipys_wilson_interval_and_exact_is_clopper_pearson():
    low, high = proportion_interval([3, 50, 0], [6, 194, 0])
    wilson = binomtest(50, 194).proportion_ci(method="wilson")
    assert (low[1], high[1]) == pytest.approx((wilson.low, wilson.high)) and np.isnan(low[2])
    exact_low, _ = proportion_interval(3, 3, method="exact")
    assert exact_low[0] == pytest.approx(beta.ppf(0.025, 3, 1))


@pytest.mark.parametrize("call, phrase", [
    (lambda: proportion_interval([3], [2]), "0 <= successes <= totals"),
    (lambda: proportion_interval([1], [2], method="agresti"), "method should be one of"),
])
def test_proportion_interval_refuses_impossible_counts(call, phrase):
    with pytest.raises(ValueError, match=phrase):
        call()
