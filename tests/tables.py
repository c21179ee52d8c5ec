"""Small tables the figure tests draw: counts, shares and rates with intervals, built with pandas and scipy in the tests.

The course ships no such audit functions (learners write them in notebook 01); the figures draw
whatever table they are given.
"""

from scipy.stats import binomtest


def wilson(successes, totals):
    """95 % Wilson intervals (scipy's), element by element: (lows, highs); NaN where a total is 0."""
    intervals = [binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson") if n else None
                 for k, n in zip(successes, totals)]
    return ([i.low if i else float("nan") for i in intervals], [i.high if i else float("nan") for i in intervals])


def count_table(data, group_cols):
    """Patients per combination of ``group_cols`` (every category, empty ones as 0), column ``n``."""
    return data.groupby(list(group_cols), observed=False).size().to_frame("n")


def rate_table(data, group_cols, outcome_col, name="prevalence"):
    """``n``, cases, the rate of ``outcome_col`` and its 95 % Wilson interval per group."""
    grouped = data.groupby(group_cols if isinstance(group_cols, str) else list(group_cols), observed=True)
    table = grouped[outcome_col].agg(n="size", cases="sum")
    table[name] = table["cases"] / table["n"]
    table[f"{name}_ci_low"], table[f"{name}_ci_high"] = wilson(table["cases"], table["n"])
    return table


def share_table(data, group_col, category_col):
    """Each category's share within each group (patients with a recorded category), with its Wilson interval:
    indexed by (group, category), columns ``n``, ``count``, ``share``, ``share_ci_low``, ``share_ci_high``."""
    table = data.groupby([group_col, category_col], observed=False).size().rename("count").to_frame()
    table.insert(0, "n", table.groupby(level=group_col, observed=False)["count"].transform("sum"))
    table["share"] = table["count"] / table["n"]
    table["share_ci_low"], table["share_ci_high"] = wilson(table["count"], table["n"])
    return table
