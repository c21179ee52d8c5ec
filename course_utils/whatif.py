"""A What-If explorer for a fitted classifier: group thresholds, their rates, and counterfactual patients.

Google's What-If Tool no longer renders in JupyterLab; this explorer does the two things the course uses
it for, on ipywidgets 8 (JupyterLab 4 renders them through ``jupyterlab_widgets``):

**Performance & fairness.**  A decision threshold per group (a slider each), and strategies that set them:
one shared threshold, equal opportunity (equal true-positive rates), demographic parity (equal selection
rates), a cost-based threshold (a stated cost of a missed diagnosis relative to a false alarm), and
equalized odds -- fairlearn's ``ThresholdOptimizer``, whose policy is *randomised* between two thresholds
per group (Hardt et al. 2016: deterministic thresholds can equalise one rate, not both).  Per group it
shows the confusion matrix, TPR / FNR / FPR / PPV / selection rate with 95 % Wilson intervals, missed
diagnoses and unnecessary work-ups per 1,000 patients, and the group's ROC curve with its operating point:
rounded, for reading, computed from the counts as the table is drawn.

**Datapoint editor.**  Pick a patient (by position, the one nearest the decision boundary, or a misclassified
one), change feature values and see the score and the decision change; flip the protected attribute (a
counterfactual); find the nearest counterfactual with the opposite decision among the features you allow
to change (standardised L1 distance, a small deterministic search).

Everything is also driven from Python -- ``explorer.set_threshold("Female", 0.3)``, ``explorer.counts()``
(each group's confusion matrix), ``explorer.summary()`` (the rates in words, rounded) -- so tests need no
browser, and in a kernel without a front end (nbval, the grader) displaying the explorer prints the summary.
The explorer is for exploring: it returns counts, never a rate or a score to report, and every number an
exercise grades is computed in the learner's own code.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2)); y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
>>> groups = np.where(rng.random(200) < 0.3, "a", "b")
>>> explorer = WhatIfExplorer(LogisticRegression().fit(X, y), X, y, sensitive_features=groups)
>>> explorer.set_threshold("a", 0.3)
>>> round(explorer.thresholds["a"], 2), sorted(explorer.counts().index)
(0.3, ['a', 'b'])
>>> list(explorer.counts().columns)
['n', 'tp', 'fp', 'tn', 'fn', 'threshold']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from course_utils import _validation as check

__all__ = ["STRATEGIES", "WhatIfExplorer"]

#: The threshold strategies, as the explorer's buttons name them.
STRATEGIES = ("single threshold", "equal opportunity", "equalized odds", "demographic parity", "cost-based")

_GRID = np.round(np.linspace(0.0, 1.0, 201), 3)  # thresholds the strategies search, in steps of 0.005


class WhatIfExplorer:
    """Explore thresholds per group and counterfactual patients for a fitted binary classifier.

    Parameters
    ----------
    model : fitted scikit-learn classifier
        With ``predict_proba``; column 1 is the probability of the outcome.
    X : pandas.DataFrame or array
        The patients to explore (e.g. the validation set), as the model takes them.
    y : array-like of 0/1
        Their outcomes.
    sensitive_features : array-like
        Each patient's group.
    feature_cols : sequence of str, optional
        The columns the datapoint editor shows (default: every column of ``X``).
    protected_col : str, optional
        The column of ``X`` that holds the group, if the model uses it as a feature: "flip" changes it.
    threshold : float, default 0.5
        The starting threshold of every group.
    random_state : int, default 0
        Seed of the equalized-odds policy's randomisation and of "a random misclassified patient".

    Attributes
    ----------
    thresholds : dict
        Group -> threshold (NaN for every group while the randomised equalized-odds policy is in use).
    strategy : str
        The last strategy applied, or ``"manual"``.
    """

    def __init__(self, model, X, y, *, sensitive_features, feature_cols: Sequence[str] | None = None,
                 protected_col: str | None = None, threshold: float = 0.5, random_state: int = 0):
        if not hasattr(model, "predict_proba"):
            raise TypeError(f"model should be a fitted classifier with predict_proba; got {type(model).__name__}.")
        self.model = model
        self.X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        self.X = self.X.reset_index(drop=True)
        self.y = check.check_binary_labels(y, "y")
        self.groups = check.check_groups(sensitive_features).astype(str)
        check.check_same_length(X=self.X, y=self.y, sensitive_features=self.groups)
        self.group_names = sorted(pd.unique(self.groups).tolist())
        self.feature_cols = list(self.X.columns if feature_cols is None else feature_cols)
        missing = [c for c in self.feature_cols if c not in self.X.columns]
        if missing:
            raise ValueError(f"feature_cols names columns X does not have: {missing}.")
        if protected_col is not None and protected_col not in self.X.columns:
            raise ValueError(f"protected_col {protected_col!r} is not a column of X.")
        self.protected_col = protected_col
        self.random_state = check.check_random_state(random_state)
        self.scores = np.asarray(model.predict_proba(self.X))[:, 1]
        self.thresholds = {g: float(check.check_real(threshold, "threshold", low=0, high=1)) for g in self.group_names}
        self.strategy = "single threshold"
        self._policy_decisions = None  # decisions of a randomised policy (equalized odds), when in use
        self.patient = 0
        self.patient_row = self.X.iloc[[0]].copy()
        self._widget = None

    # --- thresholds and decisions --------------------------------------------------------------------

    def set_threshold(self, group, value: float) -> None:
        """Set one group's threshold (a patient is flagged when their score is at least it)."""
        group = str(group)
        if group not in self.thresholds:
            raise ValueError(f"{group!r} is not a group; the groups are {self.group_names}.")
        self._leave_policy()
        self.thresholds[group] = float(check.check_real(value, "value", low=0, high=1))
        self.strategy = "manual"
        self._refresh()

    def set_thresholds(self, value: float | Mapping) -> None:
        """Set every group's threshold: one value for all, or a dict group -> value."""
        self._leave_policy()
        values = value if isinstance(value, Mapping) else {g: value for g in self.group_names}
        for group, threshold in values.items():
            if str(group) not in self.thresholds:
                raise ValueError(f"{group!r} is not a group; the groups are {self.group_names}.")
            self.thresholds[str(group)] = float(check.check_real(threshold, "threshold", low=0, high=1))
        self.strategy = "manual"
        self._refresh()

    def _leave_policy(self) -> None:
        if self._policy_decisions is not None:
            self._policy_decisions = None
            self.thresholds = {g: 0.5 if np.isnan(t) else t for g, t in self.thresholds.items()}

    def decisions(self) -> np.ndarray:
        """0/1 decision per patient under the current thresholds (or randomised policy)."""
        if self._policy_decisions is not None:
            return self._policy_decisions
        cut = np.array([self.thresholds[g] for g in self.groups])
        return (self.scores >= cut).astype(int)

    def apply_strategy(self, strategy: str, *, cost_ratio: float = 5.0) -> None:
        """Set the thresholds by a strategy (see :data:`STRATEGIES`).

        ``"single threshold"``: the threshold with the highest accuracy, the same for every group.
        ``"equal opportunity"``: per group, the threshold whose TPR is closest to the overall TPR at the
        single threshold.  ``"demographic parity"``: per group, the threshold whose selection rate is closest
        to the overall one.  ``"cost-based"``: per group, the threshold that minimises
        ``cost_ratio x missed + false alarms`` (a missed diagnosis costs ``cost_ratio`` false alarms).
        ``"equalized odds"``: fairlearn's ``ThresholdOptimizer`` (``prefit=True``,
        ``predict_method="predict_proba"``), fitted on these patients; its decisions are randomised
        (``random_state``), so the sliders show no single threshold.
        """
        check.check_choice(strategy, "strategy", STRATEGIES)
        self._leave_policy()
        single = self._best_single_threshold()
        if strategy == "single threshold":
            self.thresholds = {g: single for g in self.group_names}
        elif strategy == "equal opportunity":
            sick = self.y == 1
            target = float((self.scores[sick] >= single).mean()) if sick.any() else float("nan")
            self.thresholds = {g: self._closest(g, "tpr", target) for g in self.group_names}
        elif strategy == "demographic parity":
            target = float((self.scores >= single).mean())
            self.thresholds = {g: self._closest(g, "selection_rate", target) for g in self.group_names}
        elif strategy == "cost-based":
            ratio = check.check_real(cost_ratio, "cost_ratio", low=0, low_open=True)
            self.thresholds = {g: self._cheapest(g, ratio) for g in self.group_names}
        else:
            self._policy_decisions = self._equalized_odds_decisions()
            self.thresholds = {g: float("nan") for g in self.group_names}
        self.strategy = strategy
        self._refresh()

    def _best_single_threshold(self) -> float:
        accuracy = [float(((self.scores >= t).astype(int) == self.y).mean()) for t in _GRID]
        return float(_GRID[int(np.argmax(accuracy))])

    def _closest(self, group, rate, target) -> float:
        """The grid threshold at which the group's TPR (``rate="tpr"``) or selection rate comes closest to ``target``."""
        mask = self.groups == group
        if rate == "tpr":  # the share flagged among the group's patients with the condition
            mask = mask & (self.y == 1)
        scores = self.scores[mask]
        gaps = [abs(float((scores >= t).mean()) - target) if len(scores) else float("nan") for t in _GRID]
        return float(_GRID[int(np.nanargmin(gaps))])

    def _cheapest(self, group, ratio) -> float:
        mask = self.groups == group
        y, scores = self.y[mask], self.scores[mask]
        costs = [ratio * int(((scores < t) & (y == 1)).sum()) + int(((scores >= t) & (y == 0)).sum()) for t in _GRID]
        return float(_GRID[int(np.argmin(costs))])

    def _equalized_odds_decisions(self) -> np.ndarray:
        from fairlearn.postprocessing import ThresholdOptimizer

        # fairlearn checks X as one numeric array, which a frame of mixed columns is not; the optimiser only
        # needs the model's scores, so it gets each patient's position and a lookup of the scores.
        positions = np.arange(len(self.y)).reshape(-1, 1)
        optimizer = ThresholdOptimizer(estimator=_score_lookup(self.scores), constraints="equalized_odds",
                                       prefit=True, predict_method="predict_proba")
        optimizer.fit(positions, self.y, sensitive_features=self.groups)
        return np.asarray(optimizer.predict(positions, sensitive_features=self.groups, random_state=self.random_state),
                          dtype=int)

    # --- what the thresholds do ------------------------------------------------------------------------

    def counts(self) -> pd.DataFrame:
        """Per group: its patients and their confusion matrix under the current thresholds.

        Columns ``n``, ``tp`` (flagged, with the condition), ``fp`` (flagged, without), ``tn`` and ``fn`` (not
        flagged, without and with the condition), and ``threshold`` (NaN while the randomised equalized-odds
        policy is in use); indexed by group.  The rates the widget and :meth:`summary` show are computed from
        these counts as they are drawn, rounded for reading: a rate you report is computed in your own code.
        """
        decisions = self.decisions()
        rows = {}
        for group in self.group_names:
            mask = self.groups == group
            y, d = self.y[mask], decisions[mask]
            rows[group] = {"n": int(mask.sum()), "tp": int(((d == 1) & (y == 1)).sum()),
                           "fp": int(((d == 1) & (y == 0)).sum()), "tn": int(((d == 0) & (y == 0)).sum()),
                           "fn": int(((d == 0) & (y == 1)).sum()), "threshold": self.thresholds[group]}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "group"
        return table

    def summary(self) -> str:
        """The current state in plain text: strategy, thresholds and each group's rates, rounded."""
        lines = [f"What-If explorer: {len(self.y)} patients, groups {', '.join(self.group_names)}; "
                 f"strategy: {self.strategy}"]
        for group, row in self.counts().iterrows():
            tp, fp, tn, fn = (int(row[k]) for k in ("tp", "fp", "tn", "fn"))
            # Shares of counts, for reading only (three decimals; per 1,000 as whole numbers).
            fnr = fn / (tp + fn) if tp + fn else float("nan")
            fpr = fp / (fp + tn) if fp + tn else float("nan")
            ppv = tp / (tp + fp) if tp + fp else float("nan")
            selected = (tp + fp) / row["n"] if row["n"] else float("nan")
            threshold = "randomised" if np.isnan(row["threshold"]) else f"{row['threshold']:.3f}"
            lines.append(f"  {group}: threshold {threshold}, FNR {fnr:.3f}, FPR {fpr:.3f}, PPV {ppv:.3f}, "
                         f"selection rate {selected:.3f}; missed {1000 * fnr:.0f} and work-ups {1000 * fpr:.0f} "
                         "per 1,000")
        return "\n".join(lines)

    # --- one patient -------------------------------------------------------------------------------------

    def select_patient(self, index: int | None = None, *, how: str = "index") -> None:
        """Choose the patient to edit: by position, ``how="nearest"`` to the boundary, or ``how="misclassified"``.

        The chosen patient's position is then ``explorer.patient``.
        """
        check.check_choice(how, "how", ("index", "nearest", "misclassified"))
        cut = np.array([self.thresholds[g] if not np.isnan(self.thresholds[g]) else 0.5 for g in self.groups])
        if how == "nearest":
            index = int(np.argmin(np.abs(self.scores - cut)))
        elif how == "misclassified":
            wrong = np.flatnonzero(self.decisions() != self.y)
            if not len(wrong):
                raise ValueError("every patient is classified correctly at these thresholds.")
            index = int(np.random.default_rng(self.random_state).choice(wrong))
        else:
            index = int(check.check_whole_number(index, "index", low=0, high=len(self.y) - 1))
        self.patient = index
        self.patient_row = self.X.iloc[[index]].copy()
        self._refresh()

    def patient_group(self) -> str:
        if self.protected_col is not None:
            return str(self.patient_row[self.protected_col].iloc[0])
        return str(self.groups[self.patient])

    def edit(self, feature: str, value) -> None:
        """Change one feature of the selected patient (the editor then shows the new score and decision)."""
        if feature not in self.X.columns:
            raise ValueError(f"{feature!r} is not a column of X; the columns are {list(self.X.columns)}.")
        column = self.patient_row[feature]
        if pd.api.types.is_integer_dtype(column) and not float(value).is_integer():
            self.patient_row[feature] = column.astype(float)  # 5.5 visits: the column takes fractions from now on
        self.patient_row.loc[self.patient_row.index[0], feature] = value
        self._refresh()

    def reset_patient(self) -> None:
        """Undo every edit of the selected patient."""
        self.patient_row = self.X.iloc[[self.patient]].copy()
        self._refresh()

    def flip(self) -> None:
        """The counterfactual: set the selected patient's protected attribute to the other group."""
        if self.protected_col is None or len(self.group_names) != 2:
            raise ValueError("flip needs protected_col (the model's own group column) and exactly two groups.")
        current = self.patient_group()
        other = next(g for g in self.group_names if g != current)
        self.edit(self.protected_col, other)

    def nearest_counterfactual(self, allowed_cols: Sequence[str], *, max_changes: int = 2, steps: int = 21) -> dict:
        """The smallest change of the allowed numeric features that flips the patient's decision.

        Candidates: each allowed feature moved to one of ``steps`` evenly spaced quantiles of its values among
        the patients (alone, then in pairs up to ``max_changes``); distance: the sum of absolute changes, each
        divided by the feature's standard deviation.  Deterministic: ties go to the earlier feature and value.

        Returns
        -------
        dict
            ``changes`` ({feature: new value}), ``distance`` and ``decision`` (0/1) after the change; an empty
            ``changes`` and NaN distance when no candidate flips the decision.
        """
        cols = [c for c in allowed_cols if c in self.X.columns]
        numeric = [c for c in cols if pd.api.types.is_numeric_dtype(self.X[c])]
        if not numeric:
            raise ValueError("allowed_cols should name numeric columns of X, e.g. a measurement.")
        base = self.patient_row.copy()
        threshold = self.thresholds.get(self.patient_group(), 0.5)
        threshold = 0.5 if np.isnan(threshold) else threshold
        start = int(float(np.asarray(self.model.predict_proba(base))[0, 1]) >= threshold)
        candidates = {c: np.unique(np.nanquantile(self.X[c].astype(float), np.linspace(0, 1, steps))) for c in numeric}
        spread = {c: float(np.nanstd(self.X[c].astype(float))) or 1.0 for c in numeric}
        trials = []
        for c in numeric:
            trials += [({c: v}, abs(v - _as_float(base[c].iloc[0])) / spread[c]) for v in candidates[c]]
        if max_changes >= 2:
            for i, a in enumerate(numeric):
                for b in numeric[i + 1:]:
                    trials += [({a: va, b: vb}, abs(va - _as_float(base[a].iloc[0])) / spread[a]
                                + abs(vb - _as_float(base[b].iloc[0])) / spread[b])
                               for va in candidates[a] for vb in candidates[b]]
        trials.sort(key=lambda trial: trial[1])
        # Trials are scored in order of distance, a batch at a time: the first that flips is the nearest.
        for start_at in range(0, len(trials), 256):
            batch = trials[start_at:start_at + 256]
            rows = pd.concat([base] * len(batch), ignore_index=True).astype({c: float for c in numeric})
            for position, (changes, _) in enumerate(batch):
                for column, value in changes.items():
                    rows.loc[position, column] = value
            scores = np.asarray(self.model.predict_proba(rows))[:, 1]
            for (changes, distance), score in zip(batch, scores):
                if int(score >= threshold) != start:
                    return {"changes": {c: float(v) for c, v in changes.items()}, "distance": float(distance),
                            "decision": int(score >= threshold)}
        return {"changes": {}, "distance": float("nan"), "decision": start}

    # --- the widget ----------------------------------------------------------------------------------------

    @property
    def widget(self):
        """The explorer's ipywidgets box (built on first use)."""
        if self._widget is None:
            from course_utils import _whatif_view

            self._widget = _whatif_view.ExplorerView(self)
        return self._widget.box

    def _refresh(self) -> None:
        if self._widget is not None:
            self._widget.refresh()

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle["text/plain"] = self.summary()
        return bundle


def _score_lookup(scores):
    """A fitted scikit-learn "classifier" whose probability for row position ``i`` is ``scores[i]``."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class ScoreLookup(ClassifierMixin, BaseEstimator):
        def __init__(self, scores=None):
            self.scores = scores

        def fit(self, X, y=None):
            return self

        def predict_proba(self, X):
            p = np.asarray(self.scores, dtype=float)[np.asarray(X, dtype=int).ravel()]
            return np.column_stack([1 - p, p])

    lookup = ScoreLookup(scores)
    lookup.classes_ = np.array([0, 1])  # marks it fitted for scikit-learn's check_is_fitted
    return lookup


def _as_float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
