"""Notebook 02's two decisions are judged on hidden scenarios with a planted truth, by misses and false alarms.

Through the harness and the judge that grades a check cell: decisions written here with different valid methods
(paired percentile intervals at 90-99 % with other resample seeds, a sign count over the resamples, comparing only
with the runner-up; Fisher, chi-square or Welch tests for the root cause, or a within-site comparison for
representation) earn every point; a decision that always gives the same answer, chooses on point estimates, ignores
the AUC floor, never says "chance", or compares two separate intervals loses points -- the first ones earn at most
30 %.  Every scenario is clear-cut, the truth is never in what the sandbox sees, and the scenarios are not the
learner generators' own draws.
"""

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, fisher_exact, mannwhitneyu, ttest_ind

from course_utils.exercises._harness import CASES_FILE
from course_utils.exercises.questions import QUESTIONS
from course_utils.instructor.cases import DECISION_ERRORS_FOR_ZERO, load_hidden
from course_utils.instructor.judge import Judge
from course_utils.scenarios import ROOT_CAUSES, root_cause_scenario, sweep_scenario
from judging import assert_each_wrong_scenario_costs_an_eighth, judged, sandbox_text

pytestmark = pytest.mark.slow

CHOOSE, CAUSE = "debias-choose-decision-function", "debias-root-cause-decision-function"
CANNOT = "cannot tell"


@pytest.fixture(scope="module")
def judges(tmp_path_factory):
    """A judge per part, by notebook (``judged`` takes the question's own): the root cause is 02a's, the choice 02b's."""
    return {part: Judge(part, tmp_path_factory.mktemp(f"judge{part}"), only=[qid])
            for qid in (CAUSE, CHOOSE) for part in [QUESTIONS[qid].notebook]}


def hidden_cases(question_id):
    return load_hidden(QUESTIONS[question_id].notebook).cases[question_id]


def hidden_module():
    """The hidden module the two parts of notebook 02 share (imported once)."""
    load_hidden("02a")
    return sys.modules["course_hidden_02"]


# --- choosing a setting: decisions written for these tests --------------------------------------------------------


def _wide(resamples):
    return resamples.pivot(index="resample", columns="setting", values="fnr_gap")


def choose_by_interval(level=0.95, runner_up_only=False):
    def decide(points, resamples, min_auc):
        qualifying = points[points["auc"] >= min_auc].sort_values("fnr_gap", kind="stable")
        best, wide = qualifying.index[0], _wide(resamples)
        others = qualifying.index[1:2] if runner_up_only else qualifying.index[1:]
        for other in others:
            difference = (wide[best] - wide[other]).dropna()
            if np.quantile(difference, (1 + level) / 2) >= 0:
                return CANNOT
        return best
    return decide


def choose_by_sign_count(points, resamples, min_auc):
    """Beyond chance when the candidate's gap is the smaller one in at least 97.5 % of the resamples."""
    qualifying = points[points["auc"] >= min_auc]
    best, wide = qualifying["fnr_gap"].idxmin(), _wide(resamples)
    for other in qualifying.index.drop(best):
        both = wide[[best, other]].dropna()
        if (both[best] < both[other]).mean() < 0.975:
            return CANNOT
    return best


def choose_on_point_estimate(points, resamples, min_auc):
    return points[points["auc"] >= min_auc]["fnr_gap"].idxmin()


def choose_without_the_floor(points, resamples, min_auc):
    return choose_by_interval()(points, resamples, -np.inf)


def choose_by_separate_intervals(points, resamples, min_auc):
    """The mistake the notebook warns about: two separate 95 % intervals that overlap read as 'cannot tell'."""
    qualifying = points[points["auc"] >= min_auc]
    best, wide = qualifying["fnr_gap"].idxmin(), _wide(resamples)
    for other in qualifying.index.drop(best):
        if np.nanquantile(wide[best], 0.975) >= np.nanquantile(wide[other], 0.025):
            return CANNOT
    return best


def first_row(points, resamples, min_auc):
    return points.index[0]


# --- the root cause: decisions written for these tests -------------------------------------------------------------


def _two_by_two(flag, group):
    return pd.crosstab(group, flag).reindex(columns=[False, True], fill_value=0).to_numpy()


def cause_by(test="fisher", level=0.05, representation_by_site=False, check_chance=True):
    def decide(data):
        group = data["group"].astype(str)
        sick = data["disease"] == 1
        table = _two_by_two((data["prediction"] == 0)[sick], group[sick])
        p_gap = fisher_exact(table).pvalue if test == "fisher" else chi2_contingency(table, correction=False).pvalue
        if check_chance and p_gap >= level:
            return "chance"
        reviewed = data["disease_confirmed"].notna()
        disagree = _two_by_two((data["disease"] != data["disease_confirmed"])[reviewed], group[reviewed])
        if fisher_exact(disagree).pvalue < level:
            return "label"
        off = (data["marker"] - data["marker_reference"])[reviewed]
        names = sorted(group.unique())
        a, b = (off[group[reviewed] == name] for name in names)
        p_off = ttest_ind(a, b, equal_var=False).pvalue if test == "fisher" else mannwhitneyu(a, b).pvalue
        if p_off < level:
            return "measurement"
        if representation_by_site:  # positive evidence: within each site the groups are missed alike
            for site in sorted(data["site"].unique()):
                here = sick & (data["site"] == site)
                if fisher_exact(_two_by_two((data["prediction"] == 0)[here], group[here])).pvalue < level:
                    return "chance"  # nothing the audit can name
        return "representation"
    return decide


def constant(value):
    return lambda *args, **kwargs: value


def regenerated_cause(data):
    """A hand-in that inverts the public generator: it searches seeds 0-12,000 (where an earlier version's hidden
    seeds lay) for the one whose first draw puts exactly these patients in the first group, regenerates the audit
    with nothing planted, and reads the cause off what differs (the sites, the markers, the records)."""
    from course_utils.scenarios import root_cause_scenario

    groups = data["group"].astype(str).to_numpy()
    names = sorted(set(groups))
    for first in names:
        focal = groups == first
        for seed in range(12_000):
            draws = np.random.default_rng(seed).random(len(groups))
            share = next((c for c in np.round(np.arange(0.05, 0.96, 0.05), 2) if np.array_equal(draws < c, focal)), None)
            if share is None:
                continue
            plain = root_cause_scenario("chance", (first, next(g for g in names if g != first)), len(groups), share,
                                        random_state=seed)
            if not plain["site"].equals(data["site"]):
                return "representation"
            if not np.allclose(plain["marker"], data["marker"]):
                return "measurement"
            return "label" if not plain["disease"].equals(data["disease"]) else "chance"
    return "chance"


# --- the tests --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question_id, decide", [
    pytest.param(CHOOSE, choose_by_interval(0.95), id="choose-paired-95%"),
    pytest.param(CHOOSE, choose_by_interval(0.90), id="choose-paired-90%"),
    pytest.param(CHOOSE, choose_by_interval(0.99), id="choose-paired-99%"),
    pytest.param(CHOOSE, choose_by_interval(0.95, runner_up_only=True), id="choose-runner-up-only"),
    pytest.param(CHOOSE, choose_by_sign_count, id="choose-sign-count"),
    pytest.param(CAUSE, cause_by("fisher"), id="cause-fisher-welch"),
    pytest.param(CAUSE, cause_by("chi2"), id="cause-chi2-mann-whitney"),
    pytest.param(CAUSE, cause_by("fisher", 0.01), id="cause-at-1%"),
    pytest.param(CAUSE, cause_by("fisher", representation_by_site=True), id="cause-representation-by-site"),
])
def test_a_valid_decision_earns_every_point(judges, tmp_path, question_id, decide):
    verdict = judged(judges, tmp_path, question_id, decide)
    assert verdict.points == verdict.max_points == 3, verdict.message


@pytest.mark.parametrize("question_id, decide", [
    pytest.param(CAUSE, regenerated_cause, id="cause-the-generator-inverted"),
    pytest.param(CHOOSE, constant(CANNOT), id="choose-always-cannot-tell"),
    pytest.param(CHOOSE, first_row, id="choose-always-the-first-row"),
    pytest.param(CHOOSE, choose_on_point_estimate, id="choose-point-estimate"),
    pytest.param(CHOOSE, choose_by_separate_intervals, id="choose-separate-intervals"),
    *[pytest.param(CAUSE, constant(cause), id=f"cause-always-{cause}") for cause in ROOT_CAUSES],
])
def test_a_decision_without_the_skill_earns_at_most_30_percent(judges, tmp_path, question_id, decide):
    verdict = judged(judges, tmp_path, question_id, decide)
    assert verdict.points <= 0.3 * verdict.max_points, (verdict.points, verdict.message)


@pytest.mark.parametrize("question_id, decide, lost", [
    pytest.param(CHOOSE, choose_without_the_floor, "the wrong setting", id="choose-without-the-auc-floor"),
    pytest.param(CAUSE, cause_by(check_chance=False), "false alarm", id="cause-never-chance"),
])
def test_partial_skill_loses_points_for_each_scenario_it_gets_wrong(judges, tmp_path, question_id, decide, lost):
    assert_each_wrong_scenario_costs_an_eighth(judged(judges, tmp_path, question_id, decide), lost)


def test_the_hidden_scenarios_are_many_clear_cut_and_mixed():
    module = hidden_module()
    assert len(hidden_cases(CHOOSE)) >= 20 and len(hidden_cases(CAUSE)) >= 20
    choose_truths = pd.Series([scenario[-1] for scenario in module.SWEEP_SCENARIOS])
    assert choose_truths.value_counts(normalize=True).get(CANNOT, 0) >= 0.3
    assert choose_truths[choose_truths != CANNOT].value_counts(normalize=True).max() <= 0.5
    causes = pd.Series([scenario[0] for scenario in module.ROOT_SCENARIOS]).value_counts(normalize=True)
    assert set(causes.index) == set(ROOT_CAUSES) and causes.max() <= 0.3
    # every scenario is clear-cut: paired intervals at 80 to 99 %, and both families of tests, agree with the truth
    for case in hidden_cases(CHOOSE):
        inputs = case.build_inputs()
        decided = {choose_by_interval(level)(**inputs) for level in (0.8, 0.9, 0.95, 0.99)} | {
            choose_by_sign_count(**inputs)}
        assert len(decided) == 1 and case.check(decided.pop(), inputs) is None, case.name
    for case in hidden_cases(CAUSE):
        inputs = case.build_inputs()
        decided = {cause_by(test, level)(**inputs) for test in ("fisher", "chi2") for level in (0.01, 0.05, 0.1)}
        assert len(decided) == 1 and case.check(decided.pop(), inputs) is None, case.name


def test_the_truth_is_not_in_what_the_sandbox_sees(judges):
    for part, judge in judges.items():
        seen = sandbox_text(judge)
        for words in ("planted", CANNOT, "false alarm", "scenario", *ROOT_CAUSES):
            assert words not in seen
        manifest = json.loads((judge.cases_dir / CASES_FILE).read_text())
        assert set(manifest) == {qid for qid in (CAUSE, CHOOSE) if QUESTIONS[qid].notebook == part}


def test_the_hidden_scenarios_are_not_the_learner_generators_default_draws():
    """A learner who runs the generators with the hidden settings and seeds 0-999 meets none of the hidden audits."""
    module = hidden_module()
    given = {tuple(np.round(case.build_inputs()["points"]["fnr_gap"], 12)) for case in hidden_cases(CHOOSE)}
    for fnr, auc, min_auc, n, agreement, truth in module.SWEEP_SCENARIOS[:6]:
        for seed in range(1000):
            points = sweep_scenario(fnr, auc, min_auc=min_auc, n_with_condition=n, agreement=agreement, n_boot=1,
                                    random_state=seed)["points"]
            assert tuple(np.round(points["fnr_gap"], 12)) not in given or len(set(points["fnr_gap"])) == 1
    hidden_audits = {case.build_inputs()["data"]["marker"].to_numpy().tobytes() for case in hidden_cases(CAUSE)}
    cause, groups, n, share, strength, audit = module.ROOT_SCENARIOS[0]
    for seed in range(0, 1000, 7):
        mine = root_cause_scenario(cause, groups, n, share, strength, audit, random_state=seed)
        assert mine["marker"].to_numpy().tobytes() not in hidden_audits
    assert module.SEED_BASE > 2 ** 60  # the hidden seeds start where no search of small seeds reaches


def test_what_the_notebook_says_about_the_scenarios_is_what_the_judge_uses():
    import nbformat

    from course_utils.instructor import release

    module = hidden_module()
    text = " ".join(" ".join(cell.source for name in ("02a_group_audit", "02b_debiasing_pipeline") for cell in nbformat.read(
        release.NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4).cells if cell.cell_type == "markdown").split())
    sizes = [v for *_, n, _, _ in module.SWEEP_SCENARIOS for v in (n.values() if isinstance(n, dict) else [n])]
    settings = [len(fnr) for fnr, *_ in module.SWEEP_SCENARIOS]
    assert (f"decides **{len(hidden_cases(CHOOSE))} simulated sweeps it has never seen** — {min(settings)} to "
            f"{max(settings)} settings, groups of {min(sizes)} to {max(sizes)} patients with the condition") in text
    patients = [n for _, _, n, *_ in module.ROOT_SCENARIOS]
    shares = [share for *_, share, _, _ in module.ROOT_SCENARIOS]
    audits = [audit for *_, audit in module.ROOT_SCENARIOS]
    per_cause = pd.Series([cause for cause, *_ in module.ROOT_SCENARIOS]).value_counts()
    assert per_cause.nunique() == 1
    words = {6: "six"}[per_cause.iloc[0]]
    assert (f"decides **{len(hidden_cases(CAUSE))} simulated audits it has never seen**, {words} for each answer, "
            f"with {min(patients)} to {max(patients):,} patients, {min(shares):.0%} to {max(shares):.0%} of them in "
            f"the first group and {min(audits):.0%} to {max(audits):.0%} reviewed").replace("%", " %") in text
    assert DECISION_ERRORS_FOR_ZERO == 8 and text.count("costs an eighth of the points") == 2
