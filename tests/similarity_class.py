"""A calibration class for the similarity report: hand-ins of notebook 02a, written apart, and planted copies.

:func:`write_class` writes a folder of ``<learner>.ipynb`` hand-ins, each the released notebook
``notebooks/02a_group_audit.ipynb`` with its answer cells replaced:

* **independent** learners write every answer themselves.  Each code question has several genuinely different
  ways to be solved, and each way is built from sub-steps with alternatives of their own (``audit_by_group``:
  ten ways to compute a rate -- a share helper, counts, ``confusion_matrix``, ``pd.crosstab``, a counting loop,
  generator sums, boolean masks, scikit-learn, fairlearn's own rates, ``np.divide`` -- times where the metric
  functions live, lambdas or not, three ways to write a guarded division, how the metrics dict is built, ...;
  likewise ``fairness_gaps``, ``ppv_from_rates``, ``subgroup_profile`` and ``gap_root_cause``, and the three
  value questions).  Names, comments and the order of independent choices vary too.  No two learners make the
  same choices, so each hand-in is a distinct program; some leave a question as released, and two follow the
  solution's structure closely (the pair the solution's exclusion must keep quiet);
* **copiers** take another learner's answers and disguise them (:func:`disguise`): every local name renamed,
  independent statements swapped, keyword arguments reordered, docstrings edited, comments added and the
  layout changed (re-indented, re-spaced, blank lines).  One copies only two questions and writes the rest; two
  copy the same learner (so all three pairs are copies).

:func:`write_class` returns the learners, the planted pairs (the truth the test scores precision and recall
against) and which learners follow the solution.
"""

from __future__ import annotations

import ast
import copy
import io
import random
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
RELEASED = ROOT / "notebooks" / "02a_group_audit.ipynb"

AUDIT = "debias-audit-function-answer"
GAPS = "debias-gaps-function-answer"
PPV = "debias-ppv-function-answer"
PROFILE = "debias-subgroup-profile-function-answer"
ROOT_CAUSE = "debias-root-cause-decision-function-answer"
WOMEN = "debias-validation-women-with-disease-answer"
AUC = "debias-baseline-validation-auc-answer"
VA_SHARE = "debias-high-sugar-va-share-answer"
QUESTIONS = (WOMEN, AUC, AUDIT, GAPS, PPV, VA_SHARE, PROFILE, ROOT_CAUSE)

#: Names a copier keeps: what the notebook asks for by name (functions, their parameters, answer variables).
API_NAMES = {"audit_by_group", "y_true", "y_pred", "sensitive_features", "fairness_gaps", "by_group", "ppv_from_rates",
             "tpr", "fpr", "prevalence", "subgroup_profile", "data", "group_col", "outcome_col", "score_col",
             "feature_cols", "n_boot", "random_state", "gap_root_cause", "women_with_disease_validation",
             "baseline_validation_auc", "va_share_high_sugar"}


def released_answers() -> dict[str, str]:
    """grade id -> the released (skeleton) source of each answer cell."""
    notebook = nbformat.read(RELEASED, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id") in QUESTIONS}


def _header(grade_id: str) -> str:
    """The released cell without its ``# YOUR CODE HERE`` line: the signature and docstring learners keep."""
    return released_answers()[grade_id].replace("    # YOUR CODE HERE", "").replace("# YOUR CODE HERE", "").rstrip()


def _indent(lines, spaces=4) -> str:
    return "\n".join((" " * spaces + line) if line.strip() else "" for line in "\n".join(lines).split("\n"))


def _comment(rng: random.Random) -> str:
    return rng.choice(["# per group", "# guard against empty groups", "# NaN, not 0, when nobody is in the "
                       "denominator", "# the rates of the audit", "# TODO tidy", "# see the docstring", "# step 1",
                       "# counts first", "# as in the lecture", "# checked by hand on the public cases"])


# --- Exercise 3: audit_by_group --------------------------------------------------------------------

RATE_STYLES = ("share", "counts", "confusion", "crosstab", "loop", "generator", "mask", "sklearn", "fairlearn",
               "divide")
DIVISIONS = ("ternary", "early_return", "nan_first")
METRIC_NAMES = {"tpr": ["tpr", "true_pos_rate", "sensitivity", "tp_rate", "recall_rate", "hit_rate"],
                "fpr": ["fpr", "false_pos_rate", "fall_out", "fp_rate", "false_alarm_rate"],
                "fnr": ["fnr", "false_neg_rate", "miss_rate", "fn_rate", "missed_share"],
                "ppv": ["ppv", "precision_rate", "pos_pred_value", "ppv_rate", "precision_of_flags"],
                "base_rate": ["base_rate", "prevalence_rate", "share_sick", "base", "positive_share"],
                "count": ["n_rows", "group_size", "count_rows", "size_of"],
                "selection_rate": ["sel_rate", "flag_rate", "share_flagged", "selected"]}
PAIR_NAMES = [("y", "p"), ("yt", "yp"), ("truth", "pred"), ("actual", "predicted"), ("labels", "flags"),
              ("t", "f"), ("y_", "p_"), ("gold", "guess")]
HELPER_NAMES = ["share", "rate", "frac", "safe_rate", "ratio", "prop", "safe_div", "divide", "cells", "counts",
                "tally", "confusion", "quad"]
# Counts of the confusion matrix each rate divides: numerator, denominator parts.
RATES = {"tpr": ("tp", ("tp", "fn")), "fpr": ("fp", ("fp", "tn")), "fnr": ("fn", ("tp", "fn")),
         "ppv": ("tp", ("tp", "fp"))}
# The same rates as conditions on truth (y) and flag (p): hit among the condition.
CONDITIONS = {"tpr": ("{p} == 1", "{y} == 1"), "fpr": ("{p} == 1", "{y} == 0"), "fnr": ("{p} == 0", "{y} == 1"),
              "ppv": ("{y} == 1", "{p} == 1")}
METRIC_ORDER = ("count", "base_rate", "selection_rate", "tpr", "fpr", "fnr", "ppv")


def _division(style: str, numerator: str, denominator: str, nan: str) -> list[str]:
    if style == "ternary":
        return [f"return {numerator} / ({denominator}) if {denominator} > 0 else {nan}"]
    if style == "nan_first":
        return [f"return {nan} if {denominator} == 0 else {numerator} / ({denominator})"]
    return [f"if {denominator} == 0:", f"    return {nan}", f"return {numerator} / ({denominator})"]


def audit_answer(rng: random.Random) -> tuple[str, tuple]:
    """One learner's ``audit_by_group``: (source, the structural choices made)."""
    style = rng.choice(RATE_STYLES)
    division = rng.choice(DIVISIONS)
    nan = rng.choice(["np.nan", 'float("nan")', "math.nan"])
    y, p = rng.choice(PAIR_NAMES)
    helper = rng.choice(HELPER_NAMES)
    nested = rng.random() < 0.5
    lambdas = rng.random() < 0.4
    own_count, own_selection = rng.random() < 0.4, rng.random() < 0.4
    fnr_from_tpr = rng.random() < 0.35
    base = rng.randrange(5)
    build = rng.choice(["literal", "dict_call", "incremental", "pairs", "inline"])
    named_frame = rng.random() < 0.4
    convert = rng.random() < 0.3
    validate = rng.random() < 0.2
    order = list(METRIC_ORDER) if rng.random() < 0.6 else rng.sample(METRIC_ORDER, len(METRIC_ORDER))
    names = {metric: rng.choice(pool) for metric, pool in METRIC_NAMES.items()}
    imports, helpers, bodies = [], [], {}
    if nan == "math.nan":
        imports.append("import math")

    if style == "share":
        a, b = rng.choice([("hit", "among"), ("event", "base"), ("num_mask", "den_mask")])
        helpers.append([f"def {helper}({a}, {b}):", f"    {b} = np.asarray({b})",
                        f"    return float(np.asarray({a})[{b}].mean()) if {b}.any() else {nan}"])
        arrays = {"y": f"np.asarray({y})", "p": f"np.asarray({p})"}
        for metric, (hit, among) in CONDITIONS.items():
            bodies[metric] = [f"return {helper}({hit.format(**arrays)}, {among.format(**arrays)})"]
    elif style in ("counts", "divide"):
        if style == "counts":
            helpers.append([f"def {helper}(num, den):", *(["    " + line for line in _division(
                division, "num", "den", nan)])])
        else:
            helpers.append([f"def {helper}(num, den):", '    with np.errstate(divide="ignore", invalid="ignore"):',
                            "        return float(np.divide(num, den))"])
        for metric, (hit, among) in CONDITIONS.items():
            both = f"({hit.format(y=y, p=p)}) & ({among.format(y=y, p=p)})"
            bodies[metric] = [f"{y}, {p} = np.asarray({y}), np.asarray({p})",
                              f"return {helper}(np.sum({both}), np.sum({among.format(y=y, p=p)}))"]
    elif style in ("confusion", "crosstab", "loop"):
        if style == "confusion":
            imports.append("from sklearn.metrics import confusion_matrix")
            helpers.append([f"def {helper}({y}, {p}):",
                            f"    tn, fp, fn, tp = confusion_matrix({y}, {p}, labels=[0, 1]).ravel()",
                            "    return tp, fp, fn, tn"])
        elif style == "crosstab":
            helpers.append([f"def {helper}({y}, {p}):",
                            f"    table = pd.crosstab(pd.Series(np.asarray({y})), pd.Series(np.asarray({p})))",
                            "    table = table.reindex(index=[0, 1], columns=[0, 1], fill_value=0)",
                            "    return table.loc[1, 1], table.loc[0, 1], table.loc[1, 0], table.loc[0, 0]"])
        else:
            helpers.append([f"def {helper}({y}, {p}):", "    tp = fp = fn = tn = 0",
                            f"    for a, b in zip({y}, {p}):", "        if a == 1 and b == 1:", "            tp += 1",
                            "        elif a == 0 and b == 1:", "            fp += 1", "        elif a == 1:",
                            "            fn += 1", "        else:", "            tn += 1", "    return tp, fp, fn, tn"])
        for metric, (numerator, parts) in RATES.items():
            bodies[metric] = [f"tp, fp, fn, tn = {helper}({y}, {p})",
                              *_division(division, numerator, " + ".join(parts), nan)]
    elif style == "generator":
        for metric, (hit, among) in CONDITIONS.items():
            hit_test, among_test = (text.format(y="a", p="b") for text in (hit, among))
            bodies[metric] = [f"den = sum(1 for a, b in zip({y}, {p}) if {among_test})",
                              f"num = sum(1 for a, b in zip({y}, {p}) if {among_test} and {hit_test})",
                              *_division(division, "num", "den", nan)]
    elif style == "mask":
        for metric, (hit, among) in CONDITIONS.items():
            among_arr = among.format(y=y, p=p)
            target = hit.format(y="chosen", p="chosen").split(" == ")[1]
            source = p if "{p}" in hit else y
            bodies[metric] = [f"{y}, {p} = np.asarray({y}), np.asarray({p})", f"chosen = {source}[{among_arr}]",
                              f"return float(np.mean(chosen == {target})) if chosen.size else {nan}"]
    elif style == "sklearn":
        imports.append("from sklearn.metrics import precision_score, recall_score")
        bodies = {"tpr": [f"return recall_score({y}, {p}, zero_division=np.nan)"],
                  "fpr": [f"return 1 - recall_score({y}, {p}, pos_label=0, zero_division=np.nan)"],
                  "fnr": [f"return 1 - recall_score({y}, {p}, zero_division=np.nan)"],
                  "ppv": [f"return precision_score({y}, {p}, zero_division=np.nan)"]}
    elif style == "fairlearn":
        imports.append("from fairlearn.metrics import false_negative_rate, false_positive_rate, true_positive_rate")
        imports.append("from sklearn.metrics import precision_score")
        bodies = {"ppv": [f"return precision_score({y}, {p}, zero_division=np.nan)"]}
        names.update(tpr="true_positive_rate", fpr="false_positive_rate", fnr="false_negative_rate")
    if fnr_from_tpr and "tpr" in bodies and "fnr" in bodies:
        bodies["fnr"] = [f"return 1 - {names['tpr']}({y}, {p})"]
    bodies["base_rate"] = [[f"return float(np.mean({y}))"], [f"return np.asarray({y}).mean()"],
                           [f"return sum({y}) / len({y})"], [f"return pd.Series({y}).mean()"],
                           [f"return float((np.asarray({y}) == 1).mean())"]][base]
    if own_count:
        bodies["count"] = rng.choice([[f"return len({y})"], [f"return int(np.size({y}))"]])
    else:
        names["count"] = "count"
    if own_selection:
        bodies["selection_rate"] = rng.choice([[f"return float(np.mean({p}))"],
                                               [f"return (np.asarray({p}) == 1).mean()"]])
    else:
        names["selection_rate"] = "selection_rate"

    definitions, values = [], {}
    for metric in order:
        body = bodies.get(metric)
        if body is None:
            values[metric] = names[metric]
        elif lambdas and len(body) == 1 and body[0].startswith("return ") and not (metric == "tpr" and fnr_from_tpr):
            values[metric] = f"lambda {y}, {p}: {body[0][len('return '):]}"
        else:
            definitions.append([f"def {names[metric]}({y}, {p}):", *("    " + line for line in body)])
            values[metric] = names[metric]
    metrics_name = rng.choice(["metrics", "metric_fns", "funcs", "measures", "wanted"])
    entries = [(metric, values[metric]) for metric in order]
    if build == "literal":
        building = [f"{metrics_name} = {{" + ", ".join(f'"{m}": {v}' for m, v in entries) + "}"]
    elif build == "dict_call":
        building = [f"{metrics_name} = dict(" + ", ".join(f"{m}={v}" for m, v in entries) + ")"]
    elif build == "incremental":
        building = [f"{metrics_name} = {{}}"] + [f'{metrics_name}["{m}"] = {v}' for m, v in entries]
    elif build == "pairs":
        building = [f"{metrics_name} = dict([" + ", ".join(f'("{m}", {v})' for m, v in entries) + "])"]
    else:
        building = []
        metrics_name = "{" + ", ".join(f'"{m}": {v}' for m, v in entries) + "}"
    keywords = [f"metrics={metrics_name}", "y_true=y_true", "y_pred=y_pred", "sensitive_features=sensitive_features"]
    rng.shuffle(keywords)
    call = f"MetricFrame({', '.join(keywords)})"
    frame = rng.choice(["frame", "mf", "audit", "result", "table"])
    ending = [f"{frame} = {call}", f"return {frame}"] if named_frame else [f"return {call}"]
    prologue = []
    if validate:
        prologue.append('if len(y_true) != len(y_pred):\n    raise ValueError("y_true and y_pred differ in length")')
    if convert:
        prologue.append("y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)")
    inner = [line for block in helpers + definitions for line in (*block, "")] if nested else []
    outer = [line for block in helpers + definitions for line in (*block, "", "")] if not nested else []
    if rng.random() < 0.5:
        prologue.insert(0, _comment(rng))
    body = _indent([*prologue, *inner, *building, *ending])
    source = "\n".join([*imports, *([""] if imports else []), *outer, _header(AUDIT), body])
    key = (style, division if style in ("counts", "confusion", "crosstab", "loop", "generator") else "",
           nan, nested, lambdas, own_count, own_selection, fnr_from_tpr, base, build, named_frame, convert, validate,
           tuple(order))
    return source.strip() + "\n", key


# --- Exercise 5: fairness_gaps --------------------------------------------------------------------

GAP_COLUMNS = ("tpr", "fpr", "fnr", "selection_rate", "ppv")


def gaps_answer(rng: random.Random) -> tuple[str, tuple]:
    style = rng.choice(["spread", "comprehension", "vector", "agg", "numpy", "loop", "sorted", "describe"])
    larger = rng.choice(["max", "np.maximum", "ternary", "np.nanmax"])
    cast = rng.random() < 0.5
    ret = rng.choice(["literal", "dict_call", "incremental"])
    g = rng.choice(["gap", "spread", "rng_of", "width", "diff", "span"])
    c = rng.choice(["column", "col", "name", "metric", "c"])
    lines, value = [], {}
    wrap = (lambda text: f"float({text})") if cast else (lambda text: text)
    if style == "spread":
        lines = [f"def {g}({c}):", f"    return by_group[{c}].max() - by_group[{c}].min()"]
        value = {col: wrap(f'{g}("{col}")') for col in GAP_COLUMNS}
    elif style == "comprehension":
        holder = rng.choice(["gaps", "spreads", "ranges"])
        lines = [f"{holder} = {{{c}: by_group[{c}].max() - by_group[{c}].min() for {c} in {list(GAP_COLUMNS)}}}"]
        value = {col: wrap(f'{holder}["{col}"]') for col in GAP_COLUMNS}
    elif style == "vector":
        holder = rng.choice(["spread", "ranges", "diffs"])
        lines = [f"cols = {list(GAP_COLUMNS)}", f"{holder} = by_group[cols].max() - by_group[cols].min()"]
        value = {col: wrap(f'{holder}["{col}"]') for col in GAP_COLUMNS}
    elif style == "agg":
        holder = rng.choice(["stats", "extremes", "summary"])
        lines = [f'{holder} = by_group.agg(["min", "max"])',
                 f"def {g}({c}):", f'    return {holder}.loc["max", {c}] - {holder}.loc["min", {c}]']
        value = {col: wrap(f'{g}("{col}")') for col in GAP_COLUMNS}
    elif style == "numpy":
        lines = [f"def {g}({c}):", f"    values = by_group[{c}].dropna().to_numpy()",
                 "    return np.max(values) - np.min(values)"]
        value = {col: wrap(f'{g}("{col}")') for col in GAP_COLUMNS}
    elif style == "loop":
        holder = rng.choice(["out", "found", "g"])
        lines = [f"{holder} = {{}}", f"for {c} in {list(GAP_COLUMNS)}:", f"    present = by_group[{c}].dropna()",
                 f"    {holder}[{c}] = present.max() - present.min()"]
        value = {col: wrap(f'{holder}["{col}"]') for col in GAP_COLUMNS}
    elif style == "sorted":
        lines = [f"def {g}({c}):", f"    ordered = sorted(by_group[{c}].dropna())", "    return ordered[-1] - ordered[0]"]
        value = {col: wrap(f'{g}("{col}")') for col in GAP_COLUMNS}
    else:
        holder = rng.choice(["d", "described", "desc"])
        lines = [f"{holder} = by_group.describe()"]
        value = {col: wrap(f'{holder}.loc["max", "{col}"] - {holder}.loc["min", "{col}"]') for col in GAP_COLUMNS}
    tpr, fpr = value["tpr"], value["fpr"]
    odds = {"max": f"max({tpr}, {fpr})", "np.maximum": f"float(np.maximum({tpr}, {fpr}))",
            "np.nanmax": f"float(np.nanmax([{tpr}, {fpr}]))",
            "ternary": f"{tpr} if {tpr} > {fpr} else {fpr}"}[larger]
    results = {"fnr_gap": value["fnr"], "equalized_odds_difference": odds,
               "demographic_parity_difference": value["selection_rate"], "predictive_parity_difference": value["ppv"]}
    order = list(results) if rng.random() < 0.7 else rng.sample(list(results), len(results))
    if ret == "literal":
        ending = ["return {" + ", ".join(f'"{key}": {results[key]}' for key in order) + "}"]
    elif ret == "dict_call":
        ending = ["return dict(" + ", ".join(f"{key}={results[key]}" for key in order) + ")"]
    else:
        out = rng.choice(["answer", "res", "report"])
        ending = [f"{out} = {{}}", *(f'{out}["{key}"] = {results[key]}' for key in order), f"return {out}"]
    if rng.random() < 0.4:
        lines.insert(0, _comment(rng))
    source = _header(GAPS) + "\n" + _indent([*lines, *ending])
    return source + "\n", (style, larger, cast, ret, tuple(order))


# --- Exercise 6: ppv_from_rates -------------------------------------------------------------------

def ppv_answer(rng: random.Random) -> tuple[str, tuple]:
    style = rng.choice(["solution", "if", "try", "one_line", "numpy", "bayes"])
    tp, fp = rng.choice([("tp", "fp"), ("true_pos", "false_pos"), ("a", "b"), ("hits", "false_alarms")])
    if style == "solution":
        lines = [f"flagged = tpr * prevalence + fpr * (1 - prevalence)",
                 'return float(tpr * prevalence / flagged) if flagged > 0 else float("nan")']
    elif style == "if":
        lines = [f"{tp} = tpr * prevalence", f"{fp} = fpr * (1 - prevalence)", f"if {tp} + {fp} == 0:",
                 "    return np.nan", f"return {tp} / ({tp} + {fp})"]
    elif style == "try":
        lines = ["import math", "try:", f"    return tpr * prevalence / (tpr * prevalence + fpr * (1 - prevalence))",
                 "except ZeroDivisionError:", "    return math.nan"]
    elif style == "one_line":
        lines = ["return np.nan if tpr * prevalence + fpr * (1 - prevalence) == 0 else "
                 "tpr * prevalence / (tpr * prevalence + fpr * (1 - prevalence))"]
    elif style == "numpy":
        lines = [f"{tp}, {fp} = tpr * prevalence, fpr * (1 - prevalence)",
                 'with np.errstate(divide="ignore", invalid="ignore"):', f"    return float(np.divide({tp}, {tp} + {fp}))"]
    else:
        lines = [f"denominator = prevalence * tpr + (1 - prevalence) * fpr",
                 'return prevalence * tpr / denominator if denominator else float("nan")']
    return _header(PPV) + "\n" + _indent(lines) + "\n", (style,)


# --- Exercise 7: subgroup_profile -----------------------------------------------------------------

def profile_answer(rng: random.Random) -> tuple[str, tuple]:
    """One learner's ``subgroup_profile``: each step (loop, Wilson interval, missing shares, AUC, bootstrap, interval,
    table) has its alternatives, and most lines have a few ways of being written."""
    iteration = rng.choice(["groupby", "unique"])
    wilson = rng.choice(["binomtest", "manual", "helper"])
    missing = rng.choice(["loop", "comprehension", "vector", "concat"])
    row_style = rng.choice(["literal", "dict_call", "incremental"])
    auc = rng.choice(["ternary", "if", "try"])
    boot = rng.choice(["loop", "helper", "try"])
    one_class = rng.randrange(3)
    interval = rng.choice(["nanquantile", "two_calls", "percentile"])
    table = rng.choice(["rows_set_index", "from_dict", "index"])
    extract, size, prevalence = rng.randrange(3), rng.randrange(3), rng.randrange(3)
    g, part, y, s, n = rng.choice([("group", "part", "y", "score", "n"), ("g", "sub", "yy", "ss", "size"),
                                   ("level", "rows_of", "outcome", "scores", "count"),
                                   ("name", "frame", "truth", "pred", "m")])
    draws = rng.choice(["samples", "draws", "boot_rows", "idx_all"])
    aucs, row = rng.choice(["aucs", "boot", "stats"]), rng.choice(["row", "rec", "entry", "info"])
    single = [f"len(np.unique({{a}})) < 2", f"{{a}}.min() == {{a}}.max()", f"len(set({{a}})) < 2"][one_class]
    lines = ["from sklearn.metrics import roc_auc_score", ""]
    if wilson == "helper":
        lines += ["def wilson(k, total, z=1.959964):", "    centre = (k / total + z ** 2 / (2 * total)) / (1 + z ** 2 / total)",
                  "    half = z * np.sqrt(k / total * (1 - k / total) / total + z ** 2 / (4 * total ** 2)) / (1 + z ** 2 / total)",
                  "    return centre - half, centre + half", ""]
    if boot == "helper":
        lines += [f"def boot_auc({y}, {s}, idx):", f"    if {single.format(a=f'{y}[idx]')}:", "        return None",
                  f"    return roc_auc_score({y}[idx], {s}[idx])", ""]
    lines += ["rows = []" if table != "from_dict" else "table = {}"]
    if table == "index":
        lines += ["groups = []"]
    if iteration == "groupby":
        lines += [rng.choice([f"for {g}, {part} in data.groupby(group_col, sort=True):",
                              f"for {g}, {part} in data.groupby(group_col, observed=True):",
                              f"for {g}, {part} in sorted(data.groupby(group_col)):"])]
        loop = []
    else:
        lines += [rng.choice([f"for {g} in sorted(data[group_col].dropna().unique()):",
                              f"for {g} in np.sort(data[group_col].unique()):"])]
        loop = [rng.choice([f"{part} = data[data[group_col] == {g}]", f"{part} = data.loc[data[group_col].eq({g})]"])]
    loop += [[f"{y} = {part}[outcome_col].to_numpy(dtype=int)", f"{y} = {part}[outcome_col].astype(int).values",
              f"{y} = np.asarray({part}[outcome_col], dtype=int)"][extract],
             [f"{s} = {part}[score_col].to_numpy(dtype=float)", f"{s} = {part}[score_col].astype(float).values",
              f"{s} = np.asarray({part}[score_col], dtype=float)"][extract],
             [f"{n} = len({part})", f"{n} = {part}.shape[0]", f"{n} = {y}.size"][size]]
    rate = [f"{y}.mean()", f"{y}.sum() / {n}", f"np.mean({y})"][prevalence]
    if wilson == "binomtest":
        loop += [f"ci = binomtest(int({y}.sum()), {n}).proportion_ci(method=\"wilson\")",
                 rng.choice(["low, high = ci.low, ci.high", "low = ci.low", "(low, high) = (ci.low, ci.high)"])]
        if loop[-1] == "low = ci.low":
            loop += ["high = ci.high"]
    elif wilson == "manual":
        loop += [f"p_hat = {rate}", "z = 1.959964",
                 rng.choice([f"centre = (p_hat + z ** 2 / (2 * {n})) / (1 + z ** 2 / {n})",
                             f"centre = (p_hat + z * z / (2 * {n})) / (1 + z * z / {n})"]),
                 rng.choice([f"half = z * np.sqrt(p_hat * (1 - p_hat) / {n} + z ** 2 / (4 * {n} ** 2)) / (1 + z ** 2 / {n})",
                             f"half = z / (1 + z * z / {n}) * np.sqrt(p_hat * (1 - p_hat) / {n} + z * z / (4 * {n} * {n}))"]),
                 "low, high = centre - half, centre + half"]
    else:
        loop += [rng.choice([f"low, high = wilson({y}.sum(), {n})", f"low, high = wilson(int({y}.sum()), {n})"])]
    fields = [("n", n), ("prevalence", rate), ("prevalence_ci_low", "low"), ("prevalence_ci_high", "high")]
    if row_style == "literal":
        loop += [f"{row} = {{" + ", ".join(f'"{key}": {value}' for key, value in fields) + "}"]
    elif row_style == "dict_call":
        loop += [f"{row} = dict(" + ", ".join(f"{key}={value}" for key, value in fields) + ")"]
    else:
        loop += [f"{row} = {{}}", *(f'{row}["{key}"] = {value}' for key, value in fields)]
    column = rng.choice(["column", "col", "feature", "c"])
    if missing == "loop":
        loop += [f"for {column} in feature_cols:", f'    {row}[f"missing_{{{column}}}"] = {part}[{column}].isna().mean()']
    elif missing == "concat":
        loop += [f"for {column} in feature_cols:", f'    {row}["missing_" + {column}] = float({part}[{column}].isnull().mean())']
    elif missing == "comprehension":
        loop += [f'{row}.update({{f"missing_{{{column}}}": {part}[{column}].isna().mean() for {column} in feature_cols}})']
    else:
        loop += [f'{row}.update({part}[feature_cols].isna().mean().add_prefix("missing_").to_dict())']
    if auc == "ternary":
        loop += [f'{row}["auc"] = np.nan if {single.format(a=y)} else roc_auc_score({y}, {s})']
    elif auc == "if":
        loop += [f"if {single.format(a=y)}:", f'    {row}["auc"] = np.nan', "else:", f'    {row}["auc"] = roc_auc_score({y}, {s})']
    else:
        loop += ["try:", f'    {row}["auc"] = roc_auc_score({y}, {s})', "except ValueError:", f'    {row}["auc"] = np.nan']
    loop += rng.choice([[f"{draws} = np.random.default_rng(random_state).integers(0, {n}, size=(n_boot, {n}))"],
                        ["generator = np.random.default_rng(random_state)",
                         f"{draws} = generator.integers(0, {n}, size=(n_boot, {n}))"]])
    if boot == "loop":
        loop += [f"{aucs} = []", f"for idx in {draws}:", f"    if {single.format(a=f'{y}[idx]')}:", "        continue",
                 f"    {aucs}.append(roc_auc_score({y}[idx], {s}[idx]))"]
    elif boot == "helper":
        loop += [rng.choice([f"{aucs} = [v for v in (boot_auc({y}, {s}, idx) for idx in {draws}) if v is not None]",
                             f"{aucs} = [boot_auc({y}, {s}, idx) for idx in {draws}]",
                             ])]
        if "for idx in" in loop[-1] and "if v is not None" not in loop[-1]:
            loop += [f"{aucs} = [v for v in {aucs} if v is not None]"]
    else:
        loop += [f"{aucs} = []", f"for idx in {draws}:", "    try:", f"        {aucs}.append(roc_auc_score({y}[idx], {s}[idx]))",
                 "    except ValueError:", "        pass"]
    if interval == "nanquantile":
        loop += [f'{row}["auc_ci_low"], {row}["auc_ci_high"] = np.nanquantile({aucs}, [0.025, 0.975]) if {aucs} else (np.nan, np.nan)']
    elif interval == "two_calls":
        loop += [f"if {aucs}:", f'    {row}["auc_ci_low"] = np.nanquantile({aucs}, 0.025)',
                 f'    {row}["auc_ci_high"] = np.nanquantile({aucs}, 0.975)', "else:",
                 f'    {row}["auc_ci_low"] = {row}["auc_ci_high"] = np.nan']
    else:
        loop += [f"if len({aucs}) == 0:", f'    {row}["auc_ci_low"], {row}["auc_ci_high"] = np.nan, np.nan', "else:",
                 f'    {row}["auc_ci_low"], {row}["auc_ci_high"] = np.percentile({aucs}, [2.5, 97.5])']
    if table == "rows_set_index":
        loop += [f'{row}["group"] = {g}', f"rows.append({row})"]
        ending = ['return pd.DataFrame(rows).set_index("group")']
    elif table == "from_dict":
        loop += [f"table[{g}] = {row}"]
        ending = ['return pd.DataFrame.from_dict(table, orient="index")']
    else:
        loop += [f"rows.append({row})", f"groups.append({g})"]
        ending = ["return pd.DataFrame(rows, index=groups)"]
    lines += ["    " + line for line in loop] + ending
    source = _header(PROFILE) + "\n" + _indent(lines)
    return source + "\n", (iteration, wilson, missing, row_style, auc, boot, one_class, interval, table, extract, size,
                           prevalence)


# --- Exercise 8: gap_root_cause -------------------------------------------------------------------

def root_cause_answer(rng: random.Random) -> tuple[str, tuple]:
    """One learner's ``gap_root_cause``: the test of a 2 x 2 table, the test of a shift, a helper or not, the order of
    the two causes, and a few ways of writing each selection."""
    test = rng.choice(["fisher", "chi2", "counts"])
    shift = rng.choice(["welch", "mannwhitney", "student"])
    helper = rng.random() < 0.5
    label_first = rng.random() < 0.7
    absolute = rng.random() < 0.3
    alpha = rng.choice(["0.05", "alpha"])
    pick = {"sick": rng.randrange(4), "missed": rng.randrange(3), "reviewed": rng.randrange(3),
            "relabelled": rng.randrange(3), "groups": rng.randrange(3), "p": rng.randrange(2)}
    first = {"fisher": "fisher_exact", "chi2": "chi2_contingency", "counts": "fisher_exact"}[test]
    second = {"welch": "ttest_ind", "student": "ttest_ind", "mannwhitney": "mannwhitneyu"}[shift]
    lines = [f"from scipy.stats import {first}, {second}", ""]
    if alpha == "alpha":
        lines += ["alpha = 0.05"]
    function = {"fisher": "fisher_exact", "chi2": "chi2_contingency", "counts": "fisher_exact"}[test]
    argument = "[[a, b], [c, d]]" if test == "counts" else "table"
    pvalue = [f"{function}({argument})[1]", f"{function}({argument}).pvalue"][pick["p"]]
    if test == "counts":
        make_table = ['first, second = sorted(rows_of["group"].unique())',
                      'a = int(flag[rows_of["group"] == first].sum())', 'b = int((~flag[rows_of["group"] == first]).sum())',
                      'c = int(flag[rows_of["group"] == second].sum())', 'd = int((~flag[rows_of["group"] == second]).sum())']
    else:
        make_table = [rng.choice(['table = pd.crosstab(rows_of["group"], flag)',
                                  'table = pd.crosstab(index=rows_of["group"], columns=flag)'])]
    name = rng.choice(["differs", "significant", "group_difference", "unequal"])
    if helper:
        guard = ["if table.shape != (2, 2):", "    return False"] if test != "counts" else []
        lines += [f"def {name}(rows_of, flag):", *("    " + line for line in make_table + guard),
                  f"    return {pvalue} < {alpha}", ""]

        def check(rows, flag):
            return [f"if {'not ' if rows == 'sick' else ''}{name}({rows}, {flag}):"]
    else:
        def check(rows, flag):
            chance = rows == "sick"
            if test == "counts":
                body = [line.replace("rows_of", rows).replace("flag", flag) for line in make_table]
                return [*body, f"if {pvalue} {'>=' if chance else '<'} {alpha}:"]
            condition = (f"table.shape != (2, 2) or {pvalue} >= {alpha}" if chance
                         else f"table.shape == (2, 2) and {pvalue} < {alpha}")
            return [make_table[0].replace("rows_of", rows).replace("flag", flag), f"if {condition}:"]
    lines += [['sick = data[data["disease"] == 1]', 'sick = data.query("disease == 1")',
               'sick = data.loc[data["disease"].eq(1)]', "sick = data[data.disease == 1]"][pick["sick"]],
              ['missed = sick["prediction"] == 0', 'missed = sick["prediction"].eq(0)',
               'missed = ~sick["prediction"].astype(bool)'][pick["missed"]]]
    lines += check("sick", "missed") + ['    return "chance"']
    lines += [['reviewed = data[data["disease_confirmed"].notna()]', 'reviewed = data.dropna(subset=["disease_confirmed"])',
               'reviewed = data.loc[~data["disease_confirmed"].isna()]'][pick["reviewed"]]]
    label = [['relabelled = reviewed["disease"] != reviewed["disease_confirmed"]',
              'relabelled = reviewed["disease"].ne(reviewed["disease_confirmed"])',
              'relabelled = (reviewed["disease"] - reviewed["disease_confirmed"]).abs() > 0'][pick["relabelled"]],
             *check("reviewed", "relabelled"), '    return "label"']
    off = 'reviewed["marker"] - reviewed["marker_reference"]'
    offset = [f"offset = ({off}).abs()" if absolute else f"offset = {off}"]
    extra = {"welch": ", equal_var=False", "student": "", "mannwhitney": ""}[shift]
    if pick["groups"] == 0:
        groups = ['first_group, second_group = sorted(reviewed["group"].unique())']
        call = (f'{second}(offset[reviewed["group"] == first_group], offset[reviewed["group"] == second_group]'
                f"{extra})")
    elif pick["groups"] == 1:
        groups = ['parts = [offset[reviewed["group"] == g] for g in sorted(set(reviewed["group"]))]']
        call = f"{second}(*parts{extra})"
    else:
        groups = ['x, w = (offset[reviewed.group == level] for level in sorted(reviewed.group.unique()))']
        call = f"{second}(x, w{extra})"
    measure = [*offset, *groups, f"if {call}.pvalue < {alpha}:", '    return "measurement"']
    lines += (label + measure) if label_first else (measure + label)
    lines += ['return "representation"']
    source = _header(ROOT_CAUSE) + "\n" + _indent(lines)
    return source + "\n", (test, shift, helper, label_first, absolute, alpha, tuple(sorted(pick.items())))


# --- the value questions --------------------------------------------------------------------------

def women_answer(rng: random.Random) -> tuple[str, tuple]:
    style = rng.randrange(7)
    v = rng.choice(["women", "female", "f_rows", "w"])
    lines = [
        ['women_with_disease_validation = int(((validation["sex"] == "Female") & (validation["disease"] == 1)).sum())'],
        ['women_with_disease_validation = len(validation[(validation.sex == "Female") & (validation.disease == 1)])'],
        ["women_with_disease_validation = validation.query('sex == \"Female\" and disease == 1').shape[0]"],
        ['women_with_disease_validation = int(validation.loc[validation["sex"] == "Female", "disease"].sum())'],
        [f'{v} = validation[validation["sex"] == "Female"]', f'women_with_disease_validation = int(({v}["disease"] == 1).sum())'],
        ['women_with_disease_validation = int(pd.crosstab(validation["sex"], validation["disease"]).loc["Female", 1])'],
        ['women_with_disease_validation = int(validation.groupby("sex")["disease"].sum()["Female"])']][style]
    return "women_with_disease_validation = None\n" + "\n".join(lines) + "\n", (style,)


def auc_answer(rng: random.Random) -> tuple[str, tuple]:
    style = rng.randrange(5)
    lines = [
        ['baseline_validation_auc = roc_auc_score(validation["disease"], baseline.predict_proba(validation[features])[:, 1])'],
        ["scores = baseline.predict_proba(validation[features])[:, 1]",
         'baseline_validation_auc = roc_auc_score(validation["disease"], scores)'],
        ["from sklearn.metrics import auc, roc_curve", "",
         'false_pos, true_pos, _ = roc_curve(validation["disease"], baseline.predict_proba(validation[features])[:, 1])',
         "baseline_validation_auc = auc(false_pos, true_pos)"],
        ['baseline_validation_auc = float(roc_auc_score(y_true=validation["disease"], '
         "y_score=baseline.predict_proba(validation[features])[:, 1]))"],
        ["X_val = validation[features]", 'y_val = validation["disease"]', "probabilities = baseline.predict_proba(X_val)",
         "baseline_validation_auc = roc_auc_score(y_val, probabilities[:, 1])"]][style]
    return "baseline_validation_auc = None\n" + "\n".join(lines) + "\n", (style,)


def va_share_answer(rng: random.Random) -> tuple[str, tuple]:
    style = rng.randrange(5)
    h = rng.choice(["patients", "heart_df", "everyone", "cohort"])
    lines = [
        [f"{h} = load_heart()", f'high_sugar = {h}["fasting_blood_sugar_high"].fillna(False).astype(bool)',
         f'va_share_high_sugar = ({h}.loc[high_sugar, "site"] == "VA Long Beach").mean()'],
        [f"{h} = load_heart()", f'sub = {h}[{h}["fasting_blood_sugar_high"] == True]',
         'va_share_high_sugar = (sub["site"] == "VA Long Beach").sum() / len(sub)'],
        ['va_share_high_sugar = load_heart().query("fasting_blood_sugar_high == True")["site"].eq("VA Long Beach").mean()'],
        [f"{h} = load_heart()",
         f'va_share_high_sugar = pd.crosstab({h}["fasting_blood_sugar_high"], {h}["site"], normalize="index").loc[True, "VA Long Beach"]'],
        [f"{h} = load_heart()",
         f'va_share_high_sugar = {h}.loc[{h}["fasting_blood_sugar_high"] == True, "site"].value_counts(normalize=True)["VA Long Beach"]']][style]
    return "va_share_high_sugar = None\n" + "\n".join(lines) + "\n", (style,)


GENERATORS = {WOMEN: women_answer, AUC: auc_answer, AUDIT: audit_answer, GAPS: gaps_answer, PPV: ppv_answer,
              VA_SHARE: va_share_answer, PROFILE: profile_answer, ROOT_CAUSE: root_cause_answer}
#: The long answers (indices in GENERATORS): no two learners write one of them with the same choices.
LONG = (2, 3, 6, 7)
#: Share of learners who leave a question as released (the long ones, as in real classes).
UNANSWERED = {PROFILE: 0.2, ROOT_CAUSE: 0.25, VA_SHARE: 0.1}


def solution_follower(rng: random.Random) -> dict[str, str]:
    """Answers that follow the solution's own code (renamed and re-commented): what a learner who studied the worked
    example writes.  Two of these must not flag: everything they share is the solution's."""
    from course_utils.instructor.grading import solution_notebook

    answers = {}
    for cell in solution_notebook("02a").cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in QUESTIONS:
            lines = [line for line in cell.source.splitlines() if "### " not in line]
            answers[grade_id] = disguise("\n".join(lines), rng, reorder=False)
    return answers


# --- disguising a copy ----------------------------------------------------------------------------

WORDS = ["val", "tmp", "res", "item", "thing", "var", "obj", "stuff", "x", "q", "z", "el", "my", "the", "new", "aux",
         "k", "w", "foo", "bar", "data_", "info", "cur", "acc", "part_", "bit", "unit", "entry", "elem", "holder"]


def _bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    imported = {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return names - imported


def _all_names(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        for attribute in ("id", "arg", "name", "attr"):
            value = getattr(node, attribute, None)
            if isinstance(value, str):
                found.add(value)
    return found


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping, functions):
        self.mapping, self.functions = mapping, functions

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in self.functions:
            for argument in node.keywords:
                if argument.arg:
                    argument.arg = self.mapping.get(argument.arg, argument.arg)
        self.generic_visit(node)
        return node


def _rename(tree: ast.AST, rng: random.Random) -> None:
    taken = _all_names(tree)
    mapping = {}
    for name in sorted(_bound_names(tree) - API_NAMES):
        new = name
        while new in taken or new == name:
            new = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}{rng.randrange(10) if rng.random() < 0.3 else ''}".strip("_")
        taken.add(new)
        mapping[name] = new
    functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    _Renamer(mapping, functions).visit(tree)


def _reads_writes(statement: ast.stmt) -> tuple[set[str], set[str]]:
    """Names a statement reads and writes; a def's body runs later, so only its name counts.  A method call on a
    name (``rng.integers()``, ``row.update()``) may change it: a write."""
    if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
        return set(), {statement.name}
    reads, writes = set(), set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            (writes if isinstance(node.ctx, ast.Store) else reads).add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                writes.add(base.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name)):
            writes.add(node.func.value.id)
    return reads, writes


def _independent(first: ast.stmt, second: ast.stmt) -> bool:
    movable = (ast.FunctionDef, ast.Assign, ast.Import, ast.ImportFrom)
    if not (isinstance(first, movable) and isinstance(second, movable)):
        return False
    reads_1, writes_1 = _reads_writes(first)
    reads_2, writes_2 = _reads_writes(second)
    modules = {"np", "pd", "math"}
    writes_1, writes_2 = writes_1 - modules, writes_2 - modules
    return not (writes_1 & (reads_2 | writes_2)) and not (writes_2 & reads_1)


def _reorder(tree: ast.AST, rng: random.Random) -> int:
    """Swap neighbouring statements that do not depend on each other; returns how many swaps were made."""
    swaps = 0
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
            continue
        documented = isinstance(node, (ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node, clean=False)
        start = 1 if documented else 0
        index = start
        while index < len(body) - 1:
            if _independent(body[index], body[index + 1]) and rng.random() < 0.7:
                body[index], body[index + 1] = body[index + 1], body[index]
                swaps += 1
                index += 2
            else:
                index += 1
    return swaps


def _shuffle_keywords(tree: ast.AST, rng: random.Random) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len([k for k in node.keywords if k.arg]) >= 2:
            named = [k for k in node.keywords if k.arg]
            rest = [k for k in node.keywords if not k.arg]
            for _ in range(5):
                shuffled = rng.sample(named, len(named))
                if shuffled != named:
                    break
            node.keywords = shuffled + rest


def _edit_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node, clean=False):
            text = node.body[0].value.value.rstrip()
            node.body[0].value.value = text + "\n\n    My solution, written for the course.\n    "


def _add_comments(text: str, rng: random.Random) -> str:
    out = []
    for line in text.splitlines():
        indent = line[:len(line) - len(line.lstrip())]
        if line.strip() and rng.random() < 0.25:
            out.append(f"{indent}{_comment(rng)}")
        if line.rstrip().endswith((")", "]", "}")) and rng.random() < 0.3 and '"""' not in line and "'''" not in line:
            line = f"{line}  {_comment(rng)}"
        out.append(line)
    return "\n".join(out)


def _respace(text: str, rng: random.Random) -> str:
    style = rng.choice(["two_spaces", "spaced_tokens", "blank_lines"])
    if style == "spaced_tokens":
        tokens = [(token.type, token.string) for token in tokenize.generate_tokens(io.StringIO(text + "\n").readline)]
        return tokenize.untokenize(tokens)
    if style == "two_spaces":
        lines = []
        for line in text.splitlines():
            stripped = line.lstrip(" ")
            lines.append(" " * ((len(line) - len(stripped)) // 2) + stripped)
        return "\n".join(lines)
    lines = []
    for line in text.splitlines():
        lines.append(line)
        if line.strip() and rng.random() < 0.3:
            lines.append("")
    return "\n".join(lines)


def disguise(source: str, rng: random.Random, reorder: bool = True) -> str:
    """``source`` as a copier hands it in: names, statement order, keyword order, docstrings, comments, layout."""
    tree = ast.parse(source)
    if reorder:
        _reorder(tree, rng)
    _shuffle_keywords(tree, rng)
    _edit_docstrings(tree)
    _rename(tree, rng)
    text = _respace(_add_comments(ast.unparse(tree), rng), rng)
    ast.parse(text)  # a copier hands in code that runs
    return text.rstrip() + "\n"


# --- the class ------------------------------------------------------------------------------------

FIRST = ["Ana", "Bo", "Chen", "Dara", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jonas", "Kemal", "Lena", "Malik",
         "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomás", "Uma", "Viktor", "Wen", "Ximena", "Yusuf",
         "Zoë"]
LAST = ["Okafor", "Lindqvist", "Nguyễn", "O'Connor", "García", "Kowalski", "Haddad", "Mensah", "Sato", "Ferreira"]


@dataclass
class CalibrationClass:
    """The hand-ins written, and the truth: which pairs are copies."""

    folder: Path
    learners: list[str]
    answers: dict[str, dict[str, str]]
    planted: set[frozenset] = field(default_factory=set)
    copiers: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # copier -> (original, questions)
    solution_followers: tuple[str, ...] = ()


def learner_names(count: int, rng: random.Random) -> list[str]:
    names = [f"{first} {last}" for first in FIRST for last in LAST]
    return rng.sample(names, count)


def independent_answers(rng: random.Random, used: set) -> dict[str, str]:
    """One learner's answers to every question, distinct as a whole from every learner's in ``used``."""
    while True:
        answers, keys = {}, []
        for grade_id, generate in GENERATORS.items():
            if rng.random() < UNANSWERED.get(grade_id, 0.0):
                answers[grade_id] = released_answers()[grade_id]
                keys.append(("released",))
            else:
                answers[grade_id], key = generate(rng)
                keys.append(key)
        # Distinct programs: no two learners write any long answer the same way (two people do not write the
        # same twenty lines apart), though they often share some of its steps.
        long = [(index, keys[index]) for index in LONG if keys[index] != ("released",)]
        if tuple(keys) not in used and not any(item in used for item in long):
            used.update([tuple(keys), *long])
            return answers


def write_notebook(answers: dict[str, str], path: Path, template=None) -> Path:
    notebook = copy.deepcopy(template or nbformat.read(RELEASED, as_version=4))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def write_class(folder: Path, seed: int = 0, independent: int = 40) -> CalibrationClass:
    """Write ``independent`` learners' own hand-ins and 8 copiers' into ``folder``; return who copied whom.

    Copiers: five copy one learner each in full, one copies only ``audit_by_group`` and ``subgroup_profile`` and
    writes the rest, and two copy the same learner (three copy pairs).  Learners 0 and 1 follow the solution.
    """
    rng = random.Random(seed)
    folder = Path(folder)
    names = learner_names(independent + 8, rng)
    own, copiers = names[:independent], names[independent:]
    used: set = set()
    answers = {}
    for index, learner in enumerate(own):
        if index < 2:
            answers[learner] = {**independent_answers(rng, used), **solution_follower(rng)}
        else:
            answers[learner] = independent_answers(rng, used)
    released = released_answers()
    complete = [learner for learner in own[2:] if all(answers[learner][q] != released[q] for q in QUESTIONS)]
    originals = rng.sample(complete, 7)
    plan = [(copier, originals[i], QUESTIONS) for i, copier in enumerate(copiers[:5])]
    plan.append((copiers[5], originals[5], (AUDIT, PROFILE)))
    plan += [(copiers[6], originals[6], QUESTIONS), (copiers[7], originals[6], QUESTIONS)]
    result = CalibrationClass(folder, list(names), answers, solution_followers=tuple(own[:2]))
    for copier, original, questions in plan:
        mine = independent_answers(rng, used)
        for question in questions:
            source = answers[original][question]
            mine[question] = source if source == released[question] else disguise(source, rng)
        answers[copier] = mine
        result.copiers[copier] = (original, tuple(questions))
        result.planted.add(frozenset((copier, original)))
    result.planted.add(frozenset((copiers[6], copiers[7])))
    template = nbformat.read(RELEASED, as_version=4)
    for learner in names:
        write_notebook(answers[learner], folder / f"{learner}.ipynb", template)
    return result
