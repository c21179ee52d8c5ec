"""Notebook 02's hidden cases judge answers on data only a correct answer produces.

In process, through the harness a graded check cell runs and the judge that grades it: a correct answer to every
code question -- written here, not taken from the solution -- earns its points; typical wrong answers (the
mistakes the questions' misconception rules name) and a constant answer earn none, and the feedback names a
failed case.  The references reproduce the numbers fixed when the solutions were written (the old hidden tests).
``tests/test_judge_grading.py`` grades the solution through the real grader.
"""

import math

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame

from course_utils import exercises as checks
from course_utils.data import heart_data_path
from course_utils.exercises.questions import QUESTIONS
from course_utils.exercises.questions.debiasing import NO_ROW
from course_utils.instructor.judge import Judge
from judging import judged

# Judges built in process and every case run: seconds per question; `make test` runs them, `make check` not.
pytestmark = pytest.mark.slow

CODE_QUESTIONS = ("debias-audit-function", "debias-gaps-function", "debias-ppv-function",
                  "debias-reweighing-weights-function", "debias-reweighed-fit-function", "debias-adversarial-function",
                  "debias-thresholds-function", "debias-fnr-target-function", "debias-pareto-function",
                  "debias-select-function", "debias-per-1000-function", "debias-paired-bootstrap-function",
                  "debias-parity-verdicts-function", "debias-subgroup-profile-function")


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    """Notebook 02's two judges, by part; ``judged`` takes the question's own."""
    return {part: Judge(part, tmp_path_factory.mktemp(f"judge{part}")) for part in ("02a", "02b")}


# --- correct answers, written for these tests -----------------------------------------------------------------------


def _fraction(y, p, hit, among):
    y, p = np.asarray(y), np.asarray(p)
    chosen = among(y, p)
    return float(np.count_nonzero(hit(y, p) & chosen) / np.count_nonzero(chosen)) if chosen.any() else math.nan


def audit_by_group(y_true, y_pred, sensitive_features):
    def metric(hit, among):
        return lambda y, p: _fraction(y, p, hit, among)

    sick, healthy, flagged = (lambda y, p: y == 1), (lambda y, p: y == 0), (lambda y, p: p == 1)
    everyone = lambda y, p: np.ones(len(y), dtype=bool)  # noqa: E731
    return MetricFrame(metrics={"count": lambda y, p: len(y), "base_rate": metric(sick, everyone),
                                "selection_rate": metric(flagged, everyone), "tpr": metric(flagged, sick),
                                "fpr": metric(flagged, healthy), "fnr": metric(lambda y, p: p == 0, sick),
                                "ppv": metric(sick, flagged)},
                       y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)


def fairness_gaps(by_group):
    gap = by_group.max(numeric_only=True) - by_group.min(numeric_only=True)
    return {"fnr_gap": gap["fnr"], "equalized_odds_difference": max(gap["tpr"], gap["fpr"]),
            "demographic_parity_difference": gap["selection_rate"], "predictive_parity_difference": gap["ppv"]}


def ppv_from_rates(tpr, fpr, prevalence):
    caught, false_alarms = tpr * prevalence, fpr * (1 - prevalence)
    return caught / (caught + false_alarms) if caught + false_alarms > 0 else float("nan")


def reweighing_weights(data, group_col, outcome_col, privileged_group):
    cells = pd.DataFrame({"privileged": (data[group_col] == privileged_group).to_numpy(),
                          "outcome": data[outcome_col].to_numpy()})
    n = len(cells)
    size = cells.groupby(["privileged", "outcome"])["outcome"].transform("size")
    of_group = cells.groupby("privileged")["outcome"].transform("size")
    of_outcome = cells.groupby("outcome")["privileged"].transform("size")
    return (of_group * of_outcome / (n * size)).to_numpy()


def fit_reweighed(model, X, y, sample_weight, strength=1.0):  # noqa: N803
    from sklearn.base import clone

    weights = 1.0 + strength * (np.asarray(sample_weight, dtype=float) - 1.0)
    copy = clone(model)
    if hasattr(copy, "steps"):
        return copy.fit(X, y, **{copy.steps[-1][0] + "__sample_weight": weights})
    return copy.fit(X, y, sample_weight=weights)


def adversarial_scores(X_train, y_train, groups_train, X_new, groups_new, privileged_group,  # noqa: N803
                       adversary_loss_weight=0.1, seed=0, num_epochs=30):
    from course_utils.mitigation import load_aif360, tensorflow_session

    load_aif360()
    from aif360.algorithms.inprocessing import AdversarialDebiasing
    from aif360.datasets import BinaryLabelDataset

    def dataset(X, y, groups):  # noqa: N803
        values = np.asarray(X, dtype=float)
        frame = pd.DataFrame(values, columns=[f"c{i}" for i in range(values.shape[1])])
        frame["is_privileged"] = np.where(np.asarray(groups) == privileged_group, 1.0, 0.0)
        frame["outcome"] = np.asarray(y, dtype=float)
        return BinaryLabelDataset(df=frame, label_names=["outcome"], protected_attribute_names=["is_privileged"])

    with tensorflow_session() as session:
        model = AdversarialDebiasing(unprivileged_groups=[{"is_privileged": 0.0}],
                                     privileged_groups=[{"is_privileged": 1.0}], scope_name="mine", sess=session,
                                     seed=seed, debias=True, adversary_loss_weight=adversary_loss_weight,
                                     num_epochs=num_epochs, batch_size=32, classifier_num_hidden_units=50)
        model.fit(dataset(X_train, y_train, groups_train))
        return model.predict(dataset(X_new, np.zeros(len(X_new)), groups_new)).scores[:, 0]


def fit_group_thresholds(model, X, y, sensitive_features, tol=None, constraints="true_positive_rate_parity",  # noqa: N803
                         objective="balanced_accuracy_score"):
    from fairlearn.postprocessing import ThresholdOptimizer

    return ThresholdOptimizer(estimator=model, prefit=True, predict_method="predict_proba", constraints=constraints,
                              objective=objective, tol=tol).fit(X, y, sensitive_features=sensitive_features)


def thresholds_for_fnr(y_true, scores, *, sensitive_features, max_fnr):
    frame = pd.DataFrame({"y": np.asarray(y_true), "s": np.asarray(scores, dtype=float),
                          "g": np.asarray(sensitive_features)})
    result = {}
    for group in sorted(frame["g"].unique(), key=str):
        sick = frame.loc[(frame["g"] == group) & (frame["y"] == 1), "s"].sort_values().to_numpy()
        misses = math.floor(max_fnr * len(sick) + 1e-9)
        result[group] = sick[min(misses, len(sick) - 1)] if len(sick) else math.nan
    return pd.Series(result, dtype=float)


def pareto_front(points, maximise="auc", minimise="fnr_gap"):
    rows = points[[maximise, minimise]].dropna()
    kept = []
    for label, (up, down) in rows.iterrows():
        dominated = any((other_up >= up and other_down <= down) and (other_up > up or other_down < down)
                        for other_up, other_down in rows.itertuples(index=False))
        if not dominated:
            kept.append(label)
    return points.loc[kept]


def select_point(points, max_gap, min_auc):
    best = None
    for label, auc, gap in zip(points.index, points["auc"], points["fnr_gap"]):
        if gap <= max_gap and auc >= min_auc and (best is None or (auc, -gap) > (best[1], -best[2])):
            best = (label, auc, gap)
    return None if best is None else best[0]


def rates_per_1000(y_true, y_pred, sensitive_features):
    frame = pd.DataFrame({"y": np.asarray(y_true), "p": np.asarray(y_pred), "g": np.asarray(sensitive_features)})
    rows = {}
    for group, part in frame.groupby("g", sort=True):
        sick, healthy = part[part["y"] == 1], part[part["y"] == 0]
        rows[group] = {"missed_per_1000": 1000 * (sick["p"] == 0).mean() if len(sick) else np.nan,
                       "false_alarms_per_1000": 1000 * (healthy["p"] == 1).mean() if len(healthy) else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def _auc(y, score):
    """The Mann-Whitney U statistic of the scores with the condition against those without, over its maximum."""
    from scipy.stats import mannwhitneyu

    sick, healthy = score[y == 1], score[y == 0]
    if not len(sick) or not len(healthy):
        return np.nan
    return mannwhitneyu(sick, healthy, method="asymptotic", use_continuity=False).statistic / (len(sick) * len(healthy))


def _fnr(y, pred, chosen):
    sick = chosen & (y == 1)
    return np.mean(pred[sick] == 0) if sick.any() else np.nan


def paired_bootstrap_change(y_true, sensitive_features, score_before, pred_before, score_after, pred_after,
                            n_boot=1000, random_state=0, confidence_level=0.95, paired=True, quantile=np.nanquantile):
    y, g = np.asarray(y_true), np.asarray(sensitive_features)
    one, other = sorted(set(g.tolist()), key=str)
    models = {"before": (np.asarray(score_before, dtype=float), np.asarray(pred_before)),
              "after": (np.asarray(score_after, dtype=float), np.asarray(pred_after))}

    def measures(rows, model):
        score, pred = models[model]
        return (abs(_fnr(y[rows], pred[rows], g[rows] == one) - _fnr(y[rows], pred[rows], g[rows] == other)),
                _auc(y[rows], score[rows]))

    generator = np.random.default_rng(random_state)
    draws = generator.integers(0, len(y), size=(n_boot, len(y)))
    again = draws if paired else generator.integers(0, len(y), size=(n_boot, len(y)))
    changes = np.array([np.subtract(measures(after, "after"), measures(before, "before"))
                        for before, after in zip(draws, again)])
    everyone = np.arange(len(y))
    whole = np.subtract(measures(everyone, "after"), measures(everyone, "before"))
    tail = (1 - confidence_level) / 2
    result = {}
    for position, name in enumerate(("gap", "auc")):
        low, high = quantile(changes[:, position], [tail, 1 - tail])
        result.update({f"{name}_change": whole[position], f"{name}_ci_low": low, f"{name}_ci_high": high})
    return result


def parity_verdicts(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
    out = pd.DataFrame(index=by_group.index)
    for metric in metrics:
        base = by_group.loc[reference_group, metric]
        ratios = []
        for rate in by_group[metric]:
            if pd.isna(rate) or pd.isna(base) or (rate == 0 and base == 0):
                ratios.append(np.nan)
            else:
                ratios.append(10.0 if base == 0 else rate / base)
        out[f"{metric}_disparity"] = ratios
        out[f"{metric}_parity"] = pd.Series([np.nan if np.isnan(r) else low <= r <= high for r in ratios],
                                            index=by_group.index, dtype=object)
    return out


def subgroup_profile(data, group_col, outcome_col, score_col, feature_cols, n_boot=1000, random_state=0):
    from scipy.stats import binomtest

    rows = {}
    for group in sorted(data[group_col].dropna().unique(), key=str):
        part = data[data[group_col] == group]
        y, score, n = part[outcome_col].to_numpy(dtype=int), part[score_col].to_numpy(dtype=float), len(part)
        wilson = binomtest(int(y.sum()), n).proportion_ci(method="wilson")
        row = {"n": n, "prevalence": y.mean(), "prevalence_ci_low": wilson.low, "prevalence_ci_high": wilson.high}
        for column in feature_cols:
            row[f"missing_{column}"] = part[column].isna().mean()
        row["auc"] = _auc(y, score)
        # A resample is a count of each patient; its AUC sums the (with, without the condition) pairs it holds.
        draws = np.random.default_rng(random_state).integers(0, n, size=(n_boot, n))
        counts = np.zeros((n_boot, n))
        np.add.at(counts, (np.repeat(np.arange(n_boot), n), draws.ravel()), 1)
        above = (score[:, None] > score[None, :]) + 0.5 * (score[:, None] == score[None, :])
        sick, healthy = counts * (y == 1), counts * (y == 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            aucs = ((sick @ above) * healthy).sum(axis=1) / (sick.sum(axis=1) * healthy.sum(axis=1))
        row["auc_ci_low"], row["auc_ci_high"] = np.nanquantile(aucs, [0.025, 0.975]) if np.isfinite(aucs).any() \
            else (np.nan, np.nan)
        rows[group] = row
    return pd.DataFrame.from_dict(rows, orient="index")


CORRECT = {"debias-audit-function": audit_by_group, "debias-gaps-function": fairness_gaps,
           "debias-ppv-function": ppv_from_rates, "debias-reweighing-weights-function": reweighing_weights,
           "debias-reweighed-fit-function": fit_reweighed, "debias-adversarial-function": adversarial_scores,
           "debias-thresholds-function": fit_group_thresholds, "debias-fnr-target-function": thresholds_for_fnr,
           "debias-pareto-function": pareto_front, "debias-select-function": select_point,
           "debias-per-1000-function": rates_per_1000, "debias-paired-bootstrap-function": paired_bootstrap_change,
           "debias-parity-verdicts-function": parity_verdicts,
           "debias-subgroup-profile-function": subgroup_profile}


# --- typical wrong answers: the mistakes the misconception rules name, and constant answers ---------------------------


def audit_library_zeros(y_true, y_pred, sensitive_features):
    """fairlearn's own rate functions, which give 0 where a rate is undefined."""
    from fairlearn.metrics import false_negative_rate, false_positive_rate, selection_rate, true_positive_rate

    return MetricFrame(metrics={"count": lambda y, p: len(y), "base_rate": lambda y, p: np.mean(y),
                                "selection_rate": selection_rate, "tpr": true_positive_rate,
                                "fpr": false_positive_rate, "fnr": false_negative_rate,
                                "ppv": lambda y, p: np.asarray(y)[np.asarray(p) == 1].mean() if np.any(p) else 0.0},
                       y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)


def audit_fnr_over_everyone(y_true, y_pred, sensitive_features):
    """The FNR as the error rate over everyone in the group."""
    wrong = {"count": lambda y, p: len(y), "base_rate": lambda y, p: np.mean(np.asarray(y) == 1),
             "selection_rate": lambda y, p: np.mean(np.asarray(p) == 1),
             "tpr": lambda y, p: _fraction(y, p, lambda y, p: p == 1, lambda y, p: y == 1),
             "fpr": lambda y, p: _fraction(y, p, lambda y, p: p == 1, lambda y, p: y == 0),
             "fnr": lambda y, p: float(np.mean(np.asarray(y) != np.asarray(p))),
             "ppv": lambda y, p: _fraction(y, p, lambda y, p: y == 1, lambda y, p: p == 1)}
    return MetricFrame(metrics=wrong, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)


_TOY = {"y_true": np.array([1, 0, 1, 0]), "y_pred": np.array([1, 1, 0, 0]), "sensitive_features": np.array(list("abab"))}


def gaps_signed(by_group):
    first, last = by_group.iloc[0], by_group.iloc[-1]
    return {name: last[column] - first[column] for name, column in (
        ("fnr_gap", "fnr"), ("equalized_odds_difference", "tpr"), ("demographic_parity_difference", "selection_rate"),
        ("predictive_parity_difference", "ppv"))}


def gaps_mean_of_two(by_group):
    gaps = fairness_gaps(by_group)
    spread = by_group.max(numeric_only=True) - by_group.min(numeric_only=True)
    return {**gaps, "equalized_odds_difference": (spread["tpr"] + spread["fpr"]) / 2}


def gaps_tpr_alone(by_group):
    gaps = fairness_gaps(by_group)
    return {**gaps, "equalized_odds_difference": by_group["tpr"].max() - by_group["tpr"].min()}


def reweighing_group_only(data, group_col, outcome_col, privileged_group):
    counts = data[group_col].map(data[group_col].value_counts())
    return (len(data) / (data[group_col].nunique() * counts)).to_numpy()


def fit_ignoring_weights(model, X, y, sample_weight, strength=1.0):  # noqa: N803
    from sklearn.base import clone

    return clone(model).fit(X, y)


def fit_ignoring_strength(model, X, y, sample_weight, strength=1.0):  # noqa: N803
    return fit_reweighed(model, X, y, sample_weight, strength=1.0)


def fit_with_the_default_step_name(model, X, y, sample_weight, strength=1.0):  # noqa: N803
    from sklearn.base import clone

    weights = 1 + strength * (np.asarray(sample_weight) - 1)
    copy = clone(model)
    if hasattr(copy, "steps"):
        return copy.fit(X, y, logisticregression__sample_weight=weights)
    return copy.fit(X, y, sample_weight=weights)


def fit_the_given_model(model, X, y, sample_weight, strength=1.0):  # noqa: N803
    weights = 1 + strength * (np.asarray(sample_weight) - 1)
    if hasattr(model, "steps"):
        return model.fit(X, y, **{model.steps[-1][0] + "__sample_weight": weights})
    return model.fit(X, y, sample_weight=weights)


class _Constant:
    """A fitted-looking model that answers the same for everyone."""

    def predict_proba(self, X):  # noqa: N803
        return np.tile([0.5, 0.5], (len(X), 1))

    def predict(self, X, sensitive_features=None, random_state=None):  # noqa: N803
        return np.ones(len(X), dtype=int)


def fnr_off_by_one(y_true, scores, *, sensitive_features, max_fnr):
    y, s, g = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
    out = {}
    for group in sorted(set(g.tolist()), key=str):
        sick = np.sort(s[(g == group) & (y == 1)])
        k = int(np.floor(max_fnr * len(sick) + 1e-9))
        out[group] = sick[max(k - 1, 0)] if len(sick) else np.nan
    return pd.Series(out)


def fnr_over_everyone(y_true, scores, *, sensitive_features, max_fnr):
    y, s, g = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
    out = {}
    for group in sorted(set(g.tolist()), key=str):
        sick = np.sort(s[(g == group) & (y == 1)])
        k = int(np.floor(max_fnr * int((g == group).sum()) + 1e-9))
        out[group] = sick[min(k, len(sick) - 1)] if len(sick) else np.nan
    return pd.Series(out)


def fnr_strictly_above(y_true, scores, *, sensitive_features, max_fnr):
    y, s, g = np.asarray(y_true), np.asarray(scores, dtype=float), np.asarray(sensitive_features)
    out = {}
    for group in sorted(set(g.tolist()), key=str):
        sick = s[(g == group) & (y == 1)]
        fine = [t for t in np.sort(s[g == group])[::-1] if len(sick) and (sick <= t).mean() <= max_fnr]
        out[group] = fine[0] if fine else np.nan
    return pd.Series(out)


def fnr_zero_for_undefined(y_true, scores, *, sensitive_features, max_fnr):
    return thresholds_for_fnr(y_true, scores, sensitive_features=sensitive_features, max_fnr=max_fnr).fillna(0.0)


def front_keeping_ties(points, maximise="auc", minimise="fnr_gap"):
    rows = points[[maximise, minimise]].dropna()
    return rows[[not ((rows[maximise] > up) & (rows[minimise] < down)).any()
                 for up, down in zip(rows[maximise], rows[minimise])]]


def front_dropping_twins(points, maximise="auc", minimise="fnr_gap"):
    return pareto_front(points, maximise, minimise).drop_duplicates()


def front_keeping_undefined(points, maximise="auc", minimise="fnr_gap"):
    front = pareto_front(points, maximise, minimise)
    return points.loc[list(front.index) + list(points.index[points[[maximise, minimise]].isna().any(axis=1)])]


def select_smallest_gap(points, max_gap, min_auc):
    eligible = points[(points["fnr_gap"] <= max_gap) & (points["auc"] >= min_auc)]
    return eligible["fnr_gap"].idxmin() if len(eligible) else None


def select_ignoring_the_auc_floor(points, max_gap, min_auc):
    eligible = points.loc[points["fnr_gap"] <= max_gap, "auc"].dropna()
    return eligible.idxmax() if len(eligible) else None


def select_never_none(points, max_gap, min_auc):
    chosen = select_point(points, max_gap, min_auc)
    return points["auc"].idxmax() if chosen is None else chosen


def per_1000_per_patient(y_true, y_pred, sensitive_features):
    table = rates_per_1000(y_true, y_pred, sensitive_features)
    shares = pd.Series(np.asarray(y_true)).groupby(np.asarray(sensitive_features)).mean()
    return table.assign(missed_per_1000=table["missed_per_1000"] * shares.reindex(table.index))


def per_1000_proportions(y_true, y_pred, sensitive_features):
    return rates_per_1000(y_true, y_pred, sensitive_features) / 1000


def per_1000_zero_for_undefined(y_true, y_pred, sensitive_features):
    return rates_per_1000(y_true, y_pred, sensitive_features).fillna(0.0)


def paired_reversed(*args, **kwargs):
    result = paired_bootstrap_change(*args, **kwargs)
    return {**result, "gap_change": -result["gap_change"], "gap_ci_low": -result["gap_ci_high"],
            "gap_ci_high": -result["gap_ci_low"]}


def paired_unpaired(*args, **kwargs):
    return paired_bootstrap_change(*args, **kwargs, paired=False)


def paired_quantile_with_nan(*args, **kwargs):
    return paired_bootstrap_change(*args, **kwargs, quantile=np.quantile)


def parity_inverted(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
    table = parity_verdicts(by_group, reference_group, metrics, low, high)
    for metric in metrics:
        table[f"{metric}_disparity"] = by_group.loc[reference_group, metric] / by_group[metric]
    return table


def parity_differences(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
    table = parity_verdicts(by_group, reference_group, metrics, low, high)
    for metric in metrics:
        table[f"{metric}_disparity"] = by_group[metric] - by_group.loc[reference_group, metric]
    return table


def parity_uncapped(by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25):
    table = pd.DataFrame(index=by_group.index)
    for metric in metrics:
        ratio = by_group[metric] / by_group.loc[reference_group, metric]
        table[f"{metric}_disparity"] = ratio
        table[f"{metric}_parity"] = [np.nan if np.isnan(r) else bool(low <= r <= high) for r in ratio]
    return table


def profile_wald(*args, **kwargs):
    table = subgroup_profile(*args, **kwargs)
    half = 1.959963984540054 * np.sqrt(table["prevalence"] * (1 - table["prevalence"]) / table["n"])
    return table.assign(prevalence_ci_low=table["prevalence"] - half, prevalence_ci_high=table["prevalence"] + half)


def profile_missing_counts(data, group_col, outcome_col, score_col, feature_cols, n_boot=1000, random_state=0):
    table = subgroup_profile(data, group_col, outcome_col, score_col, feature_cols, n_boot, random_state)
    for column in feature_cols:
        table[f"missing_{column}"] = table[f"missing_{column}"] * table["n"]
    return table


def profile_seed_ignored(data, group_col, outcome_col, score_col, feature_cols, n_boot=1000, random_state=0):
    """The resamples always drawn with seed 0, whatever random_state says."""
    return subgroup_profile(data, group_col, outcome_col, score_col, feature_cols, n_boot, 0)


_CONSTANT_FRAME = MetricFrame(metrics={"fnr": lambda y, p: 0.25}, **_TOY)

WRONG = {
    "debias-audit-function": [audit_library_zeros, audit_fnr_over_everyone,
                              lambda y_true, y_pred, sensitive_features: _CONSTANT_FRAME],
    "debias-gaps-function": [gaps_signed, gaps_mean_of_two, gaps_tpr_alone,
                             lambda by_group: {"fnr_gap": 0.1, "equalized_odds_difference": 0.1,
                                               "demographic_parity_difference": 0.1,
                                               "predictive_parity_difference": 0.1}],
    "debias-ppv-function": [
        lambda tpr, fpr, prevalence: ppv_from_rates(tpr, fpr, 1 - prevalence),
        lambda tpr, fpr, prevalence: tpr / (tpr + fpr) if tpr + fpr else 0.0,
        lambda tpr, fpr, prevalence: ppv_from_rates(tpr, fpr, prevalence) if tpr + fpr else 0.0,
        lambda tpr, fpr, prevalence: 0.5],
    "debias-reweighing-weights-function": [
        lambda data, group_col, outcome_col, privileged_group: 1 / reweighing_weights(data, group_col, outcome_col,
                                                                                      privileged_group),
        reweighing_group_only, lambda data, group_col, outcome_col, privileged_group: np.ones(len(data))],
    "debias-reweighed-fit-function": [fit_ignoring_weights, fit_ignoring_strength, fit_with_the_default_step_name,
                                      fit_the_given_model,
                                      lambda model, X, y, sample_weight, strength=1.0: _Constant()],
    "debias-adversarial-function": [
        lambda *args, **kwargs: (adversarial_scores(*args, **kwargs) >= 0.5).astype(float),
        lambda X_train, y_train, groups_train, X_new, *args, **kwargs: np.full(len(X_new), 0.5)],  # noqa: N803
    "debias-thresholds-function": [
        lambda model, X, y, sensitive_features, tol=None: fit_group_thresholds(
            model, X, y, sensitive_features, tol, constraints="demographic_parity"),
        lambda model, X, y, sensitive_features, tol=None: fit_group_thresholds(
            model, X, y, sensitive_features, tol, objective="accuracy_score"),
        lambda model, X, y, sensitive_features, tol=None: fit_group_thresholds(model, X, y, sensitive_features),
        lambda model, X, y, sensitive_features, tol=None: _Constant()],
    "debias-fnr-target-function": [fnr_off_by_one, fnr_over_everyone, fnr_strictly_above, fnr_zero_for_undefined,
                                   lambda y_true, scores, *, sensitive_features, max_fnr: pd.Series(
                                       0.5, index=sorted(set(np.asarray(sensitive_features).tolist()), key=str))],
    "debias-pareto-function": [front_keeping_ties, front_dropping_twins, front_keeping_undefined,
                               lambda points, maximise="auc", minimise="fnr_gap": points],
    "debias-select-function": [select_smallest_gap, select_ignoring_the_auc_floor, select_never_none,
                               lambda points, max_gap, min_auc: points.index[0]],
    "debias-per-1000-function": [per_1000_per_patient, per_1000_proportions, per_1000_zero_for_undefined,
                                 lambda y_true, y_pred, sensitive_features: pd.DataFrame(
                                     {"missed_per_1000": 100.0, "false_alarms_per_1000": 100.0},
                                     index=sorted(set(np.asarray(sensitive_features).tolist()), key=str))],
    "debias-paired-bootstrap-function": [paired_reversed, paired_unpaired, paired_quantile_with_nan,
                                         lambda *args, **kwargs: {"gap_change": 0.0, "gap_ci_low": -0.1,
                                                                  "gap_ci_high": 0.1, "auc_change": 0.0,
                                                                  "auc_ci_low": -0.01, "auc_ci_high": 0.01}],
    "debias-parity-verdicts-function": [parity_inverted, parity_differences, parity_uncapped,
                                        lambda by_group, reference_group, metrics=("fnr", "fpr"), low=0.8, high=1.25:
                                        pd.DataFrame({f"{m}_{k}": (1.0 if k == "disparity" else True)
                                                      for m in metrics for k in ("disparity", "parity")},
                                                     index=by_group.index)],
    "debias-subgroup-profile-function": [profile_wald, profile_missing_counts, profile_seed_ignored,
                                         lambda data, group_col, *args, **kwargs: pd.DataFrame(
                                             {"n": 10, "prevalence": 0.5, "prevalence_ci_low": 0.2,
                                              "prevalence_ci_high": 0.8, "auc": 0.8, "auc_ci_low": 0.7,
                                              "auc_ci_high": 0.9},
                                             index=sorted(data[group_col].dropna().unique(), key=str))],
}


# --- the tests ------------------------------------------------------------------------------------------------------


def test_every_code_question_has_a_correct_answer_and_wrong_ones_here():
    assert set(CORRECT) == set(WRONG) == set(CODE_QUESTIONS)
    assert all(len(WRONG[qid]) >= (2 if qid == "debias-adversarial-function" else 3) for qid in CODE_QUESTIONS)


@pytest.mark.parametrize("question_id", CODE_QUESTIONS)
def test_a_correct_answer_earns_every_point(judge, tmp_path, question_id):
    verdict = judged(judge, tmp_path, question_id, CORRECT[question_id])
    assert verdict.points == verdict.max_points, verdict.message
    assert sum(not case.public for case in verdict.cases) >= 3


@pytest.mark.parametrize("question_id, number", [pytest.param(qid, n, id=f"{qid}-{n}")
                                                 for qid, wrongs in WRONG.items() for n in range(len(wrongs))])
def test_a_typical_mistake_or_a_constant_answer_earns_nothing_and_is_named(judge, tmp_path, question_id, number):
    verdict = judged(judge, tmp_path, question_id, WRONG[question_id][number])
    assert verdict.points == 0, verdict.message
    failed = [case for case in verdict.cases if not case.passed]
    assert any(not case.public for case in failed), "only public cases catch this mistake"
    # The feedback names a failed hidden case -- unless three public cases failed: the judge names the first three
    # failures, public ones first.
    assert any(case.name in verdict.message for case in failed if not case.public) or \
        (sum(case.public for case in failed) >= 3 and all(case.name in verdict.message for case in failed[:3])), \
        verdict.message


def test_a_hard_coded_step_name_is_caught_by_a_public_case_and_by_the_judge(judge, tmp_path):
    """The last step of the public pipeline is called "model": a hard-coded scikit-learn name fails in the notebook."""
    result = checks.evaluate("debias-reweighed-fit-function", fit_with_the_default_step_name)
    assert result.status == "wrong" and "KeyError: 'logisticregression'" in result.message, result.message
    verdict = judged(judge, tmp_path, "debias-reweighed-fit-function", fit_with_the_default_step_name)
    assert verdict.points == 0 and any(not case.passed for case in verdict.cases if case.public)


def test_mistakes_only_the_hidden_cases_catch_are_named_with_what_they_mean(judge, tmp_path):
    # Correct on every public case, wrong on hidden ones: the message names the hidden case and explains it.
    for question_id, function, words in (
            ("debias-select-function", select_never_none, "no row within both limits"),
            ("debias-ppv-function", lambda tpr, fpr, prevalence: ppv_from_rates(tpr, fpr, prevalence)
             if prevalence > 0 else math.nan, "nobody has the condition"),
            ("debias-per-1000-function", lambda **inputs: rates_per_1000(**inputs).sort_index(ascending=False),
             "sorted"),
            ("debias-pareto-function", lambda points, maximise="auc", minimise="fnr_gap": pareto_front(points),
             "other column names")):
        verdict = judged(judge, tmp_path, question_id, function)
        assert verdict.points == 0 and all(case.passed for case in verdict.cases if case.public), verdict.message
        assert words in verdict.message, verdict.message


def test_the_no_row_answer_travels_and_is_revealed_as_the_contract_states(judge, tmp_path):
    verdict = judged(judge, tmp_path, "debias-select-function", select_never_none)
    assert f"no row within both limits: {NO_ROW!r} expected, 'f' returned" in verdict.message, verdict.message
    unwritten = judged(judge, tmp_path, "debias-select-function", lambda points, max_gap, min_auc: None)
    assert unwritten.status == "unanswered" and unwritten.points == 0, unwritten.message


def test_no_hidden_number_a_learner_could_copy_is_revealed(judge):
    from course_utils.instructor.cases import load_hidden

    for question_id, cases in [item for part in ("02a", "02b") for item in load_hidden(part).cases.items()]:
        for case in cases:
            if case.reveal:
                assert case.expected is not None and case.reference is None, (question_id, case.name)
                values = list(case.expected.values()) if isinstance(case.expected, dict) else [case.expected]
                flat = [v for value in values
                        for v in (value.values() if isinstance(value, dict) else value if isinstance(value, list)
                                  else [value])]
                assert all(v in (0.0, 1.0, NO_ROW, "only") or (isinstance(v, float) and math.isnan(v)) for v in flat), \
                    (question_id, case.name, flat)


# --- the references reproduce the values fixed when the solutions were written -----------------------------------------
# (values that rest on notebook 01's baseline were fixed again when the baseline dropped its missing-value indicators)


def expected(judge, question_id, name_start):
    """The reference the judge holds for the hidden case whose name starts with ``name_start``."""
    judge = judge[QUESTIONS[question_id].notebook]
    found = [case for case in judge.plans[question_id]
             if not case.public and case.name.startswith(name_start) and case.check is None]
    assert len(found) == 1, (question_id, name_start, [case.name for case in judge.plans[question_id]])
    return found[0].expected


def test_the_references_reproduce_the_values_fixed_when_the_solutions_were_written(judge):
    near = lambda a, b, tolerance=1e-9: abs(float(a) - float(b)) < tolerance  # noqa: E731
    audit = expected(judge, "debias-audit-function", "the course's 920 patients")
    assert near(audit["fnr"]["Switzerland"], 0.252173913) and near(audit["fpr"]["VA Long Beach"], 0.4117647059)
    assert near(audit["ppv"]["Hungary"], 0.4927536232) and near(audit["selection_rate"]["Cleveland"], 0.2805280528)
    assert near(audit["base_rate"]["Cleveland"], 0.4587458746) and audit["count"]["Hungary"] == 294
    tiny = expected(judge, "debias-audit-function", "a group without patients")
    assert math.isnan(tiny["fnr"]["w"]) and math.isnan(tiny["tpr"]["w"]) and math.isnan(tiny["ppv"]["v"])
    assert near(tiny["fnr"]["v"], 1.0) and near(tiny["fpr"]["w"], 0.5)

    gaps = expected(judge, "debias-gaps-function", "fairlearn's own")
    assert near(gaps["fnr_gap"], 0.2855802315) and near(gaps["equalized_odds_difference"], 0.2855802315)
    assert near(gaps["demographic_parity_difference"], 0.1984576009)
    assert near(gaps["predictive_parity_difference"], 0.2792792793)
    odd = expected(judge, "debias-gaps-function", "a group whose TPR")
    assert near(odd["fnr_gap"], 0.4) and near(odd["equalized_odds_difference"], 0.5)
    assert near(odd["demographic_parity_difference"], 0.5)

    ppv = [expected(judge, "debias-ppv-function", name) for name in ("a rare", "a common", "an almost", "10,000")]
    assert near(ppv[0], 0.1623931624) and near(ppv[1], 0.8888888889) and near(ppv[2], 0.99)
    assert near(ppv[3], 2400 / (2400 + 1750), 1e-12)

    weights = np.array(expected(judge, "debias-reweighing-weights-function", "the course's Cleveland"))
    raw = pd.read_csv(heart_data_path())
    cleveland = raw[raw["site"] == "Cleveland"]
    assert near(weights[0], 1.2119385852)
    assert near(weights[((cleveland["sex"] == "Female") & (cleveland["diagnosis"] > 0)).to_numpy()][0], 1.7799339934)
    everyone = np.array(expected(judge, "debias-reweighing-weights-function", "all 920 patients"))
    assert near(everyone.max(), 1.5345159967) and near(everyone.min(), 0.6986239593)

    assert near(expected(judge, "debias-reweighed-fit-function", "300 simulated")[0], 0.2513856454, 1e-6)
    assert near(expected(judge, "debias-reweighed-fit-function", "a scaler")[0], 0.1915184644, 1e-6)

    assert sum(expected(judge, "debias-thresholds-function", "600 simulated")) == 108
    assert sum(expected(judge, "debias-thresholds-function", "the same patients with a tolerance")) == 102

    by_sex = expected(judge, "debias-fnr-target-function", "the course baseline's")
    assert near(by_sex["Female"], 0.3187086026) and near(by_sex["Male"], 0.7153143724)
    by_site = expected(judge, "debias-fnr-target-function", "notebook 01's")
    for site, value in {"Cleveland": 0.323344198925, "Hungary": 0.343111883874, "Switzerland": 0.366916549707,
                        "VA Long Beach": 0.451448141888}.items():
        assert near(by_site[site], value)
    nobody = expected(judge, "debias-fnr-target-function", "a group without patients with the condition")
    assert near(nobody["u"], 0.8) and math.isnan(nobody["v"])
    assert expected(judge, "debias-fnr-target-function", "scores rounded") == {"p": 0.5, "q": 0.5, "r": 0.4}

    assert expected(judge, "debias-pareto-function", "other column names") == [0, 1, 2, 3, 4]
    assert [expected(judge, "debias-select-function", name) for name in (
        "ties on AUC", "the same table, a stricter", "the same table, a higher", "no row")] == ["c", "a", "f", NO_ROW]

    per_1000 = expected(judge, "debias-per-1000-function", "notebook 01's")
    assert near(per_1000["missed_per_1000"]["Switzerland"], 156.5217391304, 1e-6)
    assert near(per_1000["false_alarms_per_1000"]["Switzerland"], 500.0, 1e-6)
    assert near(per_1000["missed_per_1000"]["Cleveland"], 187.0503597122, 1e-6)
    assert near(per_1000["false_alarms_per_1000"]["VA Long Beach"], 607.8431372549, 1e-6)

    change = expected(judge, "debias-paired-bootstrap-function", "notebook 01's two")
    for name, value in {"gap_change": -0.0065359477, "gap_ci_low": -0.0176619977, "gap_ci_high": 0.0042150538,
                        "auc_change": -0.0000143404, "auc_ci_low": -0.0026428851, "auc_ci_high": 0.0025698687}.items():
        assert near(change[name], value), name

    parity = expected(judge, "debias-parity-verdicts-function", "Aequitas's own")
    assert near(parity["fnr_disparity"]["x"], 0.9851851852) and parity["fpr_parity"]["z"] is True
    strict = expected(judge, "debias-parity-verdicts-function", "another band")
    assert near(strict["fnr_disparity"]["a"], 10.0) and math.isnan(strict["fnr_disparity"]["c"])
    assert strict["fpr_parity"]["b"] is False

    profile = expected(judge, "debias-subgroup-profile-function", "the course's 920 patients")
    assert near(profile["prevalence_ci_low"]["Switzerland"], 0.8768954003)
    assert near(profile["missing_st_slope"]["VA Long Beach"], 0.51) and profile["n"]["Cleveland"] == 303
    assert near(profile["auc"]["Hungary"], 0.8953733440) and near(profile["auc_ci_low"]["Hungary"], 0.8564667470)
    assert near(profile["auc_ci_high"]["Switzerland"], 0.9542743104)
    small = expected(judge, "debias-subgroup-profile-function", "a group whose patients all have")
    assert math.isnan(small["auc"]["a"]) and math.isnan(small["auc_ci_low"]["a"])
    assert near(small["missing_f"]["a"], 0.25) and near(small["prevalence_ci_high"]["b"], 0.8499610108)


def test_the_gap_reference_agrees_with_fairlearns_own_differences(judge):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    raw = pd.read_csv(heart_data_path())
    sick, flag = (raw["diagnosis"] > 0).astype(int), (raw["st_depression"].fillna(0) > 1).astype(int)
    gaps = expected(judge, "debias-gaps-function", "fairlearn's own")
    assert abs(gaps["equalized_odds_difference"] - equalized_odds_difference(sick, flag, sensitive_features=raw["site"])) < 1e-9
    assert abs(gaps["demographic_parity_difference"]
               - demographic_parity_difference(sick, flag, sensitive_features=raw["site"])) < 1e-9


def test_the_adversarial_reference_is_aif360s_model_with_the_auc_fixed_before(judge):
    from sklearn.metrics import roc_auc_score

    # The old hidden test's patients, drawn again: the AUC on the 60 new patients was 0.669 when it was written.
    rng = np.random.default_rng(20261202)
    X = rng.normal(size=(200, 3))  # noqa: N806
    groups = np.where(rng.random(200) < 0.4, "minority", "majority")
    y = (X[:, 0] + 0.9 * (groups == "majority") + rng.normal(scale=0.6, size=200) > 0.5).astype(int)
    scores = np.array(expected(judge, "debias-adversarial-function", "200 simulated"))
    assert scores.shape == (60,) and ((scores > 0) & (scores < 1)).all()
    assert abs(roc_auc_score(y[140:], scores) - 0.6688888889) < 0.03


@pytest.mark.parametrize("undefined", [None, "pd.NA"])
def test_the_judge_accepts_none_and_pandas_na_for_undefined(judge, tmp_path, undefined):
    """The text says "undefined": NaN, None and pd.NA are all that, in the notebook's check and in the judge."""
    missing = pd.NA if undefined == "pd.NA" else None

    def verdicts(*args, **kwargs):
        table = parity_verdicts(*args, **kwargs).astype(object)
        return table.map(lambda value: missing if isinstance(value, float) and math.isnan(value) else value)

    assert checks.evaluate("debias-parity-verdicts-function", verdicts).passed
    verdict = judged(judge, tmp_path, "debias-parity-verdicts-function", verdicts)
    assert verdict.points == verdict.max_points, verdict.message
