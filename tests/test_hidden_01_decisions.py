"""Notebook 01's two decisions are judged on hidden scenarios with a planted truth, by misses and false alarms.

Through the harness a graded check cell runs and the judge that grades it: decisions written here with different
valid tests (Fisher's exact test, the z-test at 1, 5 and 10 %, the exact McNemar test, the paired bootstrap of
Exercise 12) earn every point; a decision that always gives the same answer, names a group on its point estimate,
or reads one changed patient as a change earns at most 30 % -- most earn nothing.  Every scenario is clear-cut, the
truth is never in what the sandbox sees, and the scenarios are not the learner generator's own draws.
"""

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, chi2_contingency, fisher_exact

from course_utils.exercises._harness import CASES_FILE
from course_utils.instructor.cases import DECISION_ERRORS_FOR_ZERO, load_hidden
from course_utils.instructor.judge import Judge
from course_utils.scenarios import fnr_gap_scenario, paired_change_scenario
from judging import assert_each_wrong_scenario_costs_an_eighth, judged, sandbox_text

pytestmark = pytest.mark.slow

GAP, CHANGE = "audit-gap-decision-function", "audit-change-decision-function"
CANNOT = "cannot tell"


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    return Judge("01", tmp_path_factory.mktemp("judge01d"), only=[GAP, CHANGE])


# --- decisions written for these tests ------------------------------------------------------------------------------


def _missed_caught(y_true, y_pred, sensitive_features):
    y, p = np.asarray(y_true), np.asarray(y_pred)
    g = pd.Series(sensitive_features).astype(str).to_numpy()
    return {k: (int(((p == 0) & (y == 1) & (g == k)).sum()), int(((p == 1) & (y == 1) & (g == k)).sum()))
            for k in pd.unique(g)}


def gap_by(test, level=0.05):
    def decide(y_true, y_pred, sensitive_features):
        table = _missed_caught(y_true, y_pred, sensitive_features)
        rows = list(table.values())
        if any(sum(row) == 0 for row in rows) or all(r[0] == 0 for r in rows) or all(r[1] == 0 for r in rows):
            return CANNOT
        p = fisher_exact(rows).pvalue if test == "fisher" else chi2_contingency(rows, correction=False).pvalue
        return CANNOT if p >= level else max(table, key=lambda k: table[k][0] / sum(table[k]))
    return decide


def gap_on_point_estimate(y_true, y_pred, sensitive_features):
    table = _missed_caught(y_true, y_pred, sensitive_features)
    if any(sum(row) == 0 for row in table.values()):
        return CANNOT
    return max(table, key=lambda k: table[k][0] / sum(table[k]))


def gap_over_ten_points(y_true, y_pred, sensitive_features):
    table = _missed_caught(y_true, y_pred, sensitive_features)
    if any(sum(row) == 0 for row in table.values()):
        return CANNOT
    rates = {k: m / (m + c) for k, (m, c) in table.items()}
    return max(rates, key=rates.get) if max(rates.values()) - min(rates.values()) > 0.1 else CANNOT


def first_group(y_true, y_pred, sensitive_features):
    return str(pd.Series(sensitive_features).astype(str).iloc[0])


def _discordant(y_true, y_pred_before, y_pred_after):
    y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
    return int(((y == 1) & (b == 0) & (a == 1)).sum()), int(((y == 1) & (b == 1) & (a == 0)).sum())


def change_by_mcnemar(y_true, y_pred_before, y_pred_after):
    caught, missed = _discordant(y_true, y_pred_before, y_pred_after)
    if caught + missed == 0 or binomtest(missed, caught + missed).pvalue >= 0.05:
        return CANNOT
    return "made it worse" if missed > caught else "helped"


def change_by_paired_bootstrap(n_boot=1000, random_state=0, strict=True):
    """Exercise 12's interval: helped when it lies below 0, worse when above; ``strict=False`` reads an end at 0
    as clear of it (the one-changed-patient trap)."""
    def decide(y_true, y_pred_before, y_pred_after):
        y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
        idx = np.random.default_rng(random_state).integers(0, len(y), size=(n_boot, len(y)))
        with np.errstate(invalid="ignore", divide="ignore"):
            sick = (y[idx] == 1).sum(axis=1)
            changes = (((a[idx] == 0) & (y[idx] == 1)).sum(axis=1) - ((b[idx] == 0) & (y[idx] == 1)).sum(axis=1)) / sick
        if np.isnan(changes).all():
            return CANNOT
        low, high = np.nanquantile(changes, [0.025, 0.975])
        centre = np.nanmean(changes)
        if strict:
            return "helped" if high < 0 else "made it worse" if low > 0 else CANNOT
        return "helped" if high <= 0 and centre < 0 else "made it worse" if low >= 0 and centre > 0 else CANNOT
    return decide


def change_on_point_estimate(y_true, y_pred_before, y_pred_after):
    caught, missed = _discordant(y_true, y_pred_before, y_pred_after)
    return "helped" if caught > missed else "made it worse" if missed > caught else CANNOT


def change_on_every_error(y_true, y_pred_before, y_pred_after):
    y, b, a = (np.asarray(v) for v in (y_true, y_pred_before, y_pred_after))
    worse, better = int(((b == y) & (a != y)).sum()), int(((b != y) & (a == y)).sum())
    if worse + better == 0 or binomtest(worse, worse + better).pvalue >= 0.05:
        return CANNOT
    return "made it worse" if worse > better else "helped"


def constant(value):
    return lambda *args, **kwargs: value


# --- the tests --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question_id, decide", [
    pytest.param(GAP, gap_by("fisher"), id="gap-fisher-5%"),
    pytest.param(GAP, gap_by("fisher", 0.01), id="gap-fisher-1%"),
    pytest.param(GAP, gap_by("z", 0.05), id="gap-z-5%"),
    pytest.param(GAP, gap_by("z", 0.10), id="gap-z-10%"),
    pytest.param(CHANGE, change_by_mcnemar, id="change-mcnemar"),
    pytest.param(CHANGE, change_by_paired_bootstrap(), id="change-paired-bootstrap"),
    pytest.param(CHANGE, change_by_paired_bootstrap(2000, 7), id="change-paired-bootstrap-other-seed"),
])
def test_a_valid_decision_earns_every_point(judge, tmp_path, question_id, decide):
    verdict = judged(judge, tmp_path, question_id, decide)
    assert verdict.points == verdict.max_points == 3, verdict.message


@pytest.mark.parametrize("question_id, decide", [
    pytest.param(GAP, constant(CANNOT), id="gap-always-cannot-tell"),
    pytest.param(GAP, first_group, id="gap-always-the-first-group"),
    pytest.param(GAP, gap_on_point_estimate, id="gap-point-estimate"),
    pytest.param(GAP, constant("women"), id="gap-always-women"),
    pytest.param(CHANGE, constant(CANNOT), id="change-always-cannot-tell"),
    pytest.param(CHANGE, constant("helped"), id="change-always-helped"),
    pytest.param(CHANGE, constant("made it worse"), id="change-always-worse"),
    pytest.param(CHANGE, change_on_point_estimate, id="change-point-estimate"),
])
def test_a_decision_without_the_skill_earns_at_most_30_percent(judge, tmp_path, question_id, decide):
    verdict = judged(judge, tmp_path, question_id, decide)
    assert verdict.points <= 0.3 * verdict.max_points, (verdict.points, verdict.message)


@pytest.mark.parametrize("question_id, decide, lost", [
    pytest.param(GAP, gap_over_ten_points, "false alarm", id="gap-a-fixed-10-point-rule"),
    pytest.param(CHANGE, change_by_paired_bootstrap(strict=False), "false alarm", id="change-an-end-at-0-read-as-clear"),
    pytest.param(CHANGE, change_on_every_error, "false alarm", id="change-every-error-counted"),
])
def test_partial_skill_loses_points_for_each_scenario_it_gets_wrong(judge, tmp_path, question_id, decide, lost):
    assert_each_wrong_scenario_costs_an_eighth(judged(judge, tmp_path, question_id, decide), lost)


def test_the_hidden_scenarios_are_many_clear_cut_and_mixed():
    hidden = load_hidden("01")
    module = sys.modules["course_hidden_01"]
    assert len(hidden.cases[GAP]) >= 20 and len(hidden.cases[CHANGE]) >= 20
    gap_truths = [truth for _, _, truth, *_ in module.GAP_SCENARIOS]
    change_truths = [truth for *_, truth in module.CHANGE_SCENARIOS] + [truth for *_, truth in module._edge_changes()]
    for truths in (gap_truths, change_truths):
        share = pd.Series(truths).value_counts(normalize=True)
        assert share.max() <= 0.5 and share.get(CANNOT, 0) >= 0.3, share  # nothing-wrong scenarios included
    # every scenario is clear-cut: Fisher and z, or McNemar and the paired interval, agree with the truth by a margin
    for case in hidden.cases[GAP]:
        inputs = case.build_inputs()
        decided = {gap_by("fisher", level)(**inputs) for level in (0.01, 0.05, 0.10)} | {
            gap_by("z", level)(**inputs) for level in (0.01, 0.05, 0.10)}
        assert len(decided) == 1 and case.check(decided.pop(), inputs) is None, case.name
    for case in hidden.cases[CHANGE]:
        inputs = case.build_inputs()
        decided = {change_by_mcnemar(**inputs), change_by_paired_bootstrap()(**inputs)}
        assert len(decided) == 1 and case.check(decided.pop(), inputs) is None, case.name


def test_the_truth_is_not_in_what_the_sandbox_sees(judge):
    seen = sandbox_text(judge)
    for words in ("planted", CANNOT, "made it worse", "helped", "false alarm", "scenario"):
        assert words not in seen
    manifest = json.loads((judge.cases_dir / CASES_FILE).read_text())
    assert set(manifest) == {GAP, CHANGE}


def test_the_hidden_scenarios_are_not_the_learner_generators_default_draws():
    """A learner who runs the generator with the notebook's settings and seeds 0-999 meets none of them."""
    hidden = load_hidden("01")
    module = sys.modules["course_hidden_01"]
    mine = set()
    for fnr, positives, truth, form, *without in module.GAP_SCENARIOS:
        for seed in range(1000):
            s = fnr_gap_scenario(fnr, positives, *without, random_state=seed)
            mine.add((s["y_true"].tobytes(), s["y_pred"].tobytes()))
    for case in hidden.cases[GAP]:
        inputs = case.build_inputs()
        key = (np.asarray(inputs["y_true"]).astype(int).tobytes(), np.asarray(inputs["y_pred"]).astype(int).tobytes())
        assert key not in mine, case.name
    for before, after, positives, truth in module.CHANGE_SCENARIOS:
        draws = {paired_change_scenario(before, after, n_with_condition=positives, random_state=seed)[
            "y_pred_after"].tobytes() for seed in range(1000)}
        for case in hidden.cases[CHANGE]:
            after_given = np.asarray(case.build_inputs()["y_pred_after"]).astype(int).tobytes()
            assert after_given not in draws, case.name


def test_what_the_notebook_says_about_the_scenarios_is_what_the_judge_uses():
    import nbformat

    from course_utils.instructor import release

    hidden = load_hidden("01")
    module = sys.modules["course_hidden_01"]
    text = " ".join(" ".join(cell.source for cell in nbformat.read(
        release.NOTEBOOKS_DIR / "01_representation_audit.ipynb", as_version=4).cells
        if cell.cell_type == "markdown").split())
    sizes = [n for _, positives, *_ in module.GAP_SCENARIOS
             for n in (positives.values() if isinstance(positives, dict) else [positives]) if n > 0]
    assert (f"decides **{len(hidden.cases[GAP])} simulated audits it has never seen** — gaps planted in some, none "
            f"in others, groups of {min(sizes)} to {max(sizes)} patients with the condition") in text
    positives = [n for _, _, n, _ in module.CHANGE_SCENARIOS]
    assert (f"decides **{len(hidden.cases[CHANGE])} scenarios it has never seen**: changes planted in both directions "
            f"and none, from {min(positives)} to {max(positives)} patients with the condition") in text
    assert DECISION_ERRORS_FOR_ZERO == 8 and text.count("costs an eighth of the points") == 2
