"""Monitor a deployed model's fairness month by month, and escalate when a rule is broken.

A model that was fair at validation can drift in production: the population changes, or the way
data are recorded changes.  This module runs the monitoring loop of notebook 03:

simulate_deployment   score a cohort period by period with a model and a fixed threshold, as production would
EscalationRule        one written-down trigger: metric, comparison, threshold, minimum group size,
                      consecutive periods, severity, who is notified and what happens
load_rules            rules from a YAML file, YAML text, a dict or a list, validated with clear errors
evaluate_rules        the alerts (and the periods with too little data to judge) as a DataFrame
as_known_at           the monthly table as it stands on a given month: the outcomes of recent discharges
                      are not known yet

The rules read a table of metrics per period and group: indexed by (period, group), with ``n`` and
the metric columns (``share``, ``selection_rate``, ``fnr`` ...).  Notebook 03 shows the course's own
table for its simulated deployment year, computed once and shipped as data:
``course_utils.data.load_course_table("readmission_deployment_by_month")``.  A period in which a
group is below the rule's minimum size, or the metric is undefined, is reported as
``"insufficient data"``: never an alert, and never a silent pass.

Examples
--------
>>> import pandas as pd
>>> from course_utils.monitoring import EscalationRule, evaluate_rules
>>> metrics = pd.DataFrame(
...     {"n": [400, 300, 400, 300, 400, 20],
...      "selection_rate": [0.10, 0.11, 0.10, 0.05, 0.10, 0.04]},
...     index=pd.MultiIndex.from_product([[0, 1, 2], ["White", "Black"]], names=["month", "race"]))
>>> rule = EscalationRule(name="selection ratio", metric="selection_rate", group="Black",
...                       comparison="ratio", reference="White", direction="below", threshold=0.8,
...                       min_group_size=50, notify="model owner", action="review flagged patients")
>>> evaluate_rules(metrics, [rule])[["month", "rule", "value", "status"]]
   month             rule  value             status
0      1  selection ratio    0.5              alert
1      2  selection ratio    NaN  insufficient data
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from course_utils import _validation as check

__all__ = [
    "COMPARISONS",
    "DIRECTIONS",
    "MONITORED_METRICS",
    "OUTCOME_COLUMNS",
    "SEVERITIES",
    "EscalationRule",
    "as_known_at",
    "evaluate_rules",
    "load_rules",
    "rule_as_dict",
    "simulate_deployment",
]

#: Metrics a rule can watch: the rates of an audit table, plus ``share`` (the group's share of the
#: period's patients, which shows a population shift).
MONITORED_METRICS = ("share", "base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "ppv", "auc")
#: ``value``: the group's own value; ``difference``: group minus reference; ``ratio``: group / reference.
COMPARISONS = ("value", "difference", "ratio")
DIRECTIONS = ("above", "below")
SEVERITIES = ("info", "warning", "critical")

_ALERT, _INSUFFICIENT = "alert", "insufficient data"
_RESULT_COLUMNS = ("rule", "group", "value", "threshold", "status", "consecutive", "severity", "notify",
                   "action", "reason")


# --- deployment ----------------------------------------------------------------------------


def _score(model, X):
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(X))[:, 1]
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X))
    raise TypeError(f"model should be a fitted classifier with predict_proba or decision_function; "
                    f"got {type(model).__name__}.")


def simulate_deployment(model: BaseEstimator, data: pd.DataFrame, *, feature_cols: list[str], period_col: str,
                        threshold: float | None = None, flag_share: float = 0.10) -> pd.DataFrame:
    """Score patients period by period with a fixed threshold, as a deployed model would.

    Parameters
    ----------
    model : fitted classifier
        Anything with ``predict_proba`` (the score is the probability of class 1) or
        ``decision_function``, e.g. a scikit-learn pipeline trained before deployment.
    data : pandas.DataFrame
        The deployment population, e.g. ``make_readmission_cohort(drift=DEFAULT_DRIFT)``.
    feature_cols : list of str
        The columns the model was trained on.
    period_col : str
        Column holding the period of each row, e.g. ``"month"``.
    threshold : float, optional
        Score at or above which a patient is flagged for care management.  It is fixed at go-live
        and never re-tuned during the simulation.  Default: the ``1 - flag_share`` quantile of the
        scores of the first period (the go-live month).
    flag_share : float, default 0.10
        Share of patients to flag in the first period when ``threshold`` is not given.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` with ``risk_score`` (float) and ``flagged`` (0/1) added.
        ``.attrs["threshold"]`` holds the threshold used.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from course_utils.cohort import make_readmission_cohort, DEFAULT_DRIFT
    >>> features = ["chronic_conditions", "prior_utilisation"]
    >>> train = make_readmission_cohort(n=5000, random_state=1)
    >>> model = LogisticRegression().fit(train[features], train["readmitted_30d"])
    >>> year = simulate_deployment(model, make_readmission_cohort(n=5000, drift=DEFAULT_DRIFT),
    ...                            feature_cols=features, period_col="month")
    >>> year.groupby("month")["flagged"].mean().round(2).iloc[[0, 6, 9]].tolist()
    [0.1, 0.13, 0.06]
    """
    feature_cols = check.check_column_list(feature_cols, "feature_cols")
    if not feature_cols:
        raise ValueError("feature_cols is empty: give the columns the model was trained on.")
    check.check_dataframe(data, "data", columns=feature_cols)
    period_col = check.check_column(data, period_col, "period_col")
    if threshold is not None:
        threshold = check.check_real(threshold, "threshold")
    flag_share = check.check_real(flag_share, "flag_share", low=0, high=1, low_open=True, high_open=True,
                                  example="0.1")
    result = data.copy()
    periods = np.sort(result[period_col].unique())
    scores = pd.Series(np.nan, index=result.index)
    # Period by period, as production sees the data: nothing from a later month is used earlier.
    for period in periods:
        rows = result[period_col] == period
        scores[rows] = _score(model, result.loc[rows, feature_cols])
        if threshold is None:
            threshold = float(np.quantile(scores[rows], 1 - flag_share))
    result["risk_score"] = scores.astype(float)
    result["flagged"] = (result["risk_score"] >= threshold).astype(int)
    result.attrs["threshold"] = float(threshold)
    return result


# --- escalation rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRule:
    """One written-down monitoring trigger, and what happens when it fires.

    Parameters
    ----------
    name : str
        Short name shown in the alert table, e.g. ``"selection-rate ratio, Black vs White"``.
    metric : str
        One of :data:`MONITORED_METRICS`, e.g. ``"selection_rate"``, ``"fnr"`` or ``"share"``.
    group : str
        The group watched, e.g. ``"Black"``.
    comparison : {"value", "difference", "ratio"}, default "value"
        The group's own value, group minus ``reference``, or group divided by ``reference``.
    reference : str, optional
        The comparison group; required for ``difference`` and ``ratio``.
    direction : {"above", "below"}, default "above"
        A period breaches the rule when the compared value is strictly above (below) ``threshold``.
    threshold : float
        The limit, e.g. 0.8 for the four-fifths rule on a ratio.
    min_group_size : int, default 30
        Fewest patients the group (and the reference) must have in a period to be judged; a smaller
        period is reported as ``"insufficient data"``.
    consecutive : int, default 1
        Periods in a row that must breach before the rule fires.  A period with insufficient data
        ends a run: a trend is only believed when every period in it could be measured.
    severity : {"info", "warning", "critical"}, default "warning"
    notify : str
        Who is told (a role, not a person's name).
    action : str
        What happens next, in words.

    Examples
    --------
    >>> rule = EscalationRule(name="FNR gap", metric="fnr", group="Black", comparison="difference",
    ...                       reference="White", threshold=0.1, consecutive=2,
    ...                       notify="clinical safety officer", action="manual review of unflagged patients")
    >>> print(rule.describe())
    FNR gap (warning): fires when fnr of Black minus White is above 0.1 for 2 consecutive periods, with at least 30 patients per group; notify clinical safety officer; action: manual review of unflagged patients.
    >>> EscalationRule(name="x", metric="recall", group="Black", threshold=0.1, notify="a", action="b")
    Traceback (most recent call last):
    ...
    ValueError: metric should be one of 'share', 'base_rate', 'selection_rate', 'accuracy', 'tpr', 'fpr', 'fnr', 'ppv', 'auc'; got 'recall'.
    """

    name: str
    metric: str
    group: str
    threshold: float
    notify: str
    action: str
    comparison: str = "value"
    reference: str | None = None
    direction: str = "above"
    min_group_size: int = 30
    consecutive: int = 1
    severity: str = "warning"

    def __post_init__(self):
        check.check_text(self.name, "name")
        check.check_choice(self.metric, "metric", MONITORED_METRICS)
        check.check_text(self.group, "group")
        check.check_choice(self.comparison, "comparison", COMPARISONS)
        check.check_choice(self.direction, "direction", DIRECTIONS)
        check.check_choice(self.severity, "severity", SEVERITIES)
        check.check_text(self.notify, "notify")
        check.check_text(self.action, "action")
        if self.comparison == "value":
            if self.reference is not None:
                raise ValueError(f"reference is only used with comparison 'difference' or 'ratio'; "
                                 f"got reference={self.reference!r} with comparison 'value'.")
        else:
            check.check_text(self.reference, f"reference (needed for comparison {self.comparison!r})")
            if self.reference == self.group:
                raise ValueError(f"reference should be another group than group; both are {self.group!r}.")
        check.check_real(self.threshold, "threshold")
        check.check_whole_number(self.min_group_size, "min_group_size", low=1)
        check.check_whole_number(self.consecutive, "consecutive", low=1)

    def describe(self) -> str:
        """The rule in one sentence."""
        compared = {"value": f"{self.metric} of {self.group}",
                    "difference": f"{self.metric} of {self.group} minus {self.reference}",
                    "ratio": f"{self.metric} ratio {self.group} / {self.reference}"}[self.comparison]
        run = "in any period" if self.consecutive == 1 else f"for {self.consecutive} consecutive periods"
        return (f"{self.name} ({self.severity}): fires when {compared} is {self.direction} {self.threshold:g} "
                f"{run}, with at least {self.min_group_size} patients per group; notify {self.notify}; "
                f"action: {self.action}.")


_RULE_FIELDS = tuple(f.name for f in fields(EscalationRule))


def _rule_from_mapping(spec, where):
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where} should be a mapping of settings (name, metric, ...); got {type(spec).__name__}.")
    unknown = [k for k in spec if k not in _RULE_FIELDS]
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {', '.join(map(repr, unknown))}; "
                         f"the settings are {', '.join(_RULE_FIELDS)}.")
    missing = [f.name for f in fields(EscalationRule) if f.name not in spec and f.default is MISSING]
    if missing:
        raise ValueError(f"{where}: missing setting(s) {', '.join(missing)}.")
    try:
        return EscalationRule(**spec)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None


def load_rules(source: str | Path | Mapping | Sequence) -> list[EscalationRule]:
    """Read escalation rules from YAML (a file or text), a dict or a list, checking every rule.

    Parameters
    ----------
    source : path, str, dict or list
        A path to a YAML file; YAML text (anything containing a newline); a dict with a ``rules``
        list; a list of rule mappings or :class:`EscalationRule`.  The course ships no rules of its
        own: writing them is notebook 03's monitoring exercise.

    Returns
    -------
    list of EscalationRule

    Raises
    ------
    ValueError
        Listing every problem found, each with its place, e.g. ``rules[1]: threshold should be a
        number; got 'high'.``

    Examples
    --------
    >>> rules = load_rules('''
    ... rules:
    ...   - {name: shift, metric: share, group: Black, threshold: 0.25, notify: data steward, action: re-audit}
    ... ''')
    >>> [(rule.name, rule.metric, rule.consecutive) for rule in rules]
    [('shift', 'share', 1)]
    >>> load_rules({"rules": [{"name": "r", "metric": "fnr", "group": "Black", "threshold": "high",
    ...                        "notify": "owner", "action": "review"}]})
    Traceback (most recent call last):
    ...
    ValueError: The escalation rules have 1 problem:
      rules[0]: threshold should be a number; got 'high'.
    """
    import yaml  # imported here: only reading rules needs it

    if source is None:
        raise ValueError("Give the rules: a YAML file path, YAML text, a dict with a 'rules' list, or a list of rules.")
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No rules file at {path}. Give a YAML file path, YAML text, a dict or a list.")
        source = path.read_text(encoding="utf-8")
    if isinstance(source, str):
        try:
            source = yaml.safe_load(source)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ValueError(f"The rules are not valid YAML{where}: {getattr(error, 'problem', error)}.") from None
    if isinstance(source, Mapping):
        if "rules" not in source:
            raise ValueError("The rules should be under a 'rules:' key holding a list of rules.")
        source = source["rules"]
    if not isinstance(source, list) or not source:
        raise ValueError(f"The rules should be a non-empty list of rules; got {type(source).__name__}.")
    rules, problems = [], []
    for i, spec in enumerate(source):
        try:
            rules.append(spec if isinstance(spec, EscalationRule) else _rule_from_mapping(spec, f"rules[{i}]"))
        except (TypeError, ValueError) as error:
            problems.append(str(error))
    # Names are compared over every rule given, valid or not: a duplicate is a problem either way.
    names = [spec.name if isinstance(spec, EscalationRule) else spec.get("name")
             for spec in source if isinstance(spec, (EscalationRule, Mapping))]
    names = [name for name in names if isinstance(name, str)]
    problems += [f"two rules are called {name!r}; give each rule its own name."
                 for name in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        raise ValueError(f"The escalation rules have {count}:\n  " + "\n  ".join(problems))
    return rules


# --- evaluating rules ----------------------------------------------------------------------


def _check_period_metrics(period_metrics):
    if not isinstance(period_metrics, pd.DataFrame) or period_metrics.index.nlevels != 2:
        raise TypeError("period_metrics should be a DataFrame indexed by (period, group), like the course's monthly "
                        "table load_course_table('readmission_deployment_by_month'); "
                        f"got {type(period_metrics).__name__}"
                        + (f" with {period_metrics.index.nlevels} index level(s)" if isinstance(period_metrics, pd.DataFrame) else "")
                        + ".")
    if "n" not in period_metrics.columns:
        raise ValueError("period_metrics has no 'n' column (patients per group and period): "
                         "the minimum group size cannot be checked.")


def _check_rule_fits(rule, period_metrics, groups):
    if rule.metric not in period_metrics.columns:
        raise ValueError(f"rule {rule.name!r} watches {rule.metric!r}, which period_metrics does not have; "
                         f"it has {', '.join(c for c in period_metrics.columns if c in MONITORED_METRICS)}.")
    for role in ("group", "reference"):
        value = getattr(rule, role)
        if value is not None and value not in groups:
            raise ValueError(f"rule {rule.name!r}: {role} {value!r} is not a group in period_metrics; "
                             f"the groups are {', '.join(map(str, groups))}.")


def _judge(rule, rows):
    """(value, reason) for one period; value None means insufficient data, reason says why."""
    involved = [rule.group] + ([rule.reference] if rule.reference is not None else [])
    for group in involved:
        n = rows.at[group, "n"] if group in rows.index else 0
        if pd.isna(n) or n < rule.min_group_size:
            return None, f"{group}: {0 if pd.isna(n) else int(n)} patients, fewer than the minimum {rule.min_group_size}"
    values = {g: rows.at[g, rule.metric] for g in involved}
    for group, value in values.items():
        if pd.isna(value):
            return None, f"{rule.metric} undefined for {group} in this period"
    own = float(values[rule.group])
    if rule.comparison == "value":
        return own, ""
    other = float(values[rule.reference])
    if rule.comparison == "difference":
        return own - other, ""
    if other == 0:
        return None, f"ratio undefined: {rule.metric} of {rule.reference} is 0"
    return own / other, ""


def _evaluate_one(rule, period_metrics, period_name):
    rows_out, streak = [], 0
    for period, rows in period_metrics.groupby(level=0, sort=True):
        rows = rows.droplevel(0)
        value, reason = _judge(rule, rows)
        base = {period_name: period, "rule": rule.name, "group": rule.group, "threshold": rule.threshold,
                "severity": rule.severity, "notify": rule.notify, "action": rule.action}
        if value is None:
            streak = 0  # an unmeasured period breaks a run
            rows_out.append({**base, "value": np.nan, "status": _INSUFFICIENT, "consecutive": 0, "reason": reason})
            continue
        breached = value > rule.threshold if rule.direction == "above" else value < rule.threshold
        streak = streak + 1 if breached else 0
        status = _ALERT if streak >= rule.consecutive else ("breach" if breached else "ok")
        reason = (f"{rule.direction} {rule.threshold:g} for {streak} period(s) in a row" if breached
                  else f"within the limit ({rule.direction} {rule.threshold:g} would breach)")
        rows_out.append({**base, "value": value, "status": status, "consecutive": streak, "reason": reason})
    return rows_out


def evaluate_rules(period_metrics: pd.DataFrame, rules: str | Path | Mapping | Sequence, *, include_all: bool = False) -> pd.DataFrame:
    """Apply escalation rules to per-period metrics: which rule fires in which period.

    Parameters
    ----------
    period_metrics : pandas.DataFrame
        Indexed by (period, group), with ``n`` and the metric columns, e.g. the course's monthly table
        ``load_course_table("readmission_deployment_by_month")``.
    rules : list of EscalationRule, or anything :func:`load_rules` reads
    include_all : bool, default False
        Also return the periods that are within the limit (``"ok"``) or breach without yet
        completing the run of consecutive periods (``"breach"``).

    Returns
    -------
    pandas.DataFrame
        One row per rule and period that needs attention, sorted by period then rule order:
        the period column (named as in ``period_metrics``), ``rule``, ``group``, ``value`` (the
        compared value; NaN when it could not be measured), ``threshold``, ``status``
        (``"alert"`` or ``"insufficient data"``), ``consecutive`` (breaching periods in a row so
        far), ``severity``, ``notify``, ``action`` and ``reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> metrics = pd.DataFrame({"n": [100] * 4, "share": [0.18, 0.21, 0.33, 0.35]},
    ...                        index=pd.MultiIndex.from_product([[0, 1, 2, 3], ["Black"]], names=["month", "race"]))
    >>> rule = EscalationRule(name="shift", metric="share", group="Black", threshold=0.25,
    ...                       notify="data steward", action="re-validate the model")
    >>> evaluate_rules(metrics, [rule])[["month", "value", "status", "notify"]]
       month  value status        notify
    0      2   0.33  alert  data steward
    1      3   0.35  alert  data steward
    """
    _check_period_metrics(period_metrics)
    if not (isinstance(rules, list) and rules and all(isinstance(r, EscalationRule) for r in rules)):
        rules = load_rules(rules)
    period_name = period_metrics.index.names[0] or "period"
    groups = period_metrics.index.get_level_values(1).unique()
    rows = []
    for rule in rules:
        _check_rule_fits(rule, period_metrics, groups)
        rows += _evaluate_one(rule, period_metrics, period_name)
    result = pd.DataFrame(rows, columns=[period_name, *_RESULT_COLUMNS])
    if not include_all:
        result = result[result["status"].isin([_ALERT, _INSUFFICIENT])]
    order = {rule.name: i for i, rule in enumerate(rules)}
    result = result.sort_values([period_name, "rule"], key=lambda s: s.map(order) if s.name == "rule" else s,
                                kind="stable")
    return result.reset_index(drop=True)


def rule_as_dict(rule: EscalationRule) -> dict:
    """A rule as a plain dict (for YAML or JSON), the inverse of :func:`load_rules` on one rule.

    Examples
    --------
    >>> rule = EscalationRule(name="r", metric="fnr", group="Black", threshold=0.1, notify="owner", action="review")
    >>> load_rules([rule_as_dict(rule)]) == [rule]
    True
    """
    return asdict(rule)


#: Columns of a monthly table that need each patient's outcome.  A 30-day readmission is known 30 days
#: after discharge, so a month's outcome columns are complete only one month after the month ends.
OUTCOME_COLUMNS = ("base_rate", "tpr", "fnr", "fpr", "ppv", "accuracy", "auc")


def as_known_at(period_metrics: pd.DataFrame, month: int, *, outcome_delay: int = 1) -> pd.DataFrame:
    """The monthly table as a monitoring team sees it at the end of ``month``.

    Months after ``month`` have not happened.  The outcome columns (:data:`OUTCOME_COLUMNS`) of the last
    ``outcome_delay`` months are NaN: their patients' 30-day readmissions are not all known yet.  The
    columns that need no outcome -- ``n``, ``share``, ``selection_rate`` -- are known at once.  A policy
    judged month by month sees only this; the grader runs yours on each month's view in turn.

    Parameters
    ----------
    period_metrics : pandas.DataFrame
        Indexed by (month, group), as ``metrics_by_period`` returns it.
    month : int
        The month whose end it is.
    outcome_delay : int, default 1
        Months until a month's outcomes are complete (1 for a 30-day outcome).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n": [100, 110, 120], "selection_rate": [0.1, 0.2, 0.3], "fnr": [0.5, 0.6, 0.7]},
    ...                      index=pd.MultiIndex.from_product([[0, 1, 2], ["Black"]], names=["month", "race"]))
    >>> as_known_at(table, 1).reset_index()
       month   race    n  selection_rate  fnr
    0      0  Black  100             0.1  0.5
    1      1  Black  110             0.2  NaN
    """
    if not (isinstance(period_metrics, pd.DataFrame) and isinstance(period_metrics.index, pd.MultiIndex)):
        raise TypeError("as_known_at needs the monthly table indexed by (month, group), as metrics_by_period "
                        f"returns it; got a {type(period_metrics).__name__}.")
    months = np.asarray(period_metrics.index.get_level_values(0))
    keep = months <= month
    recent = months[keep] > month - outcome_delay
    # Built column by column from NumPy (a policy is judged on twelve views a year): a new frame, the caller's
    # table never changed.
    columns = {}
    for column in period_metrics.columns:
        values = period_metrics[column].to_numpy()[keep]
        if column in OUTCOME_COLUMNS and recent.any():
            values = values.astype(float)
            values[recent] = np.nan
        columns[column] = values
    return pd.DataFrame(columns, index=period_metrics.index[keep])

