"""Small tables the figure tests draw: counts and rates with intervals, built with pandas in the tests.

The course ships no such audit functions (learners write them in notebook 01); the figures draw
whatever table they are given.
"""

from course_utils.representation import proportion_interval


def count_table(data, group_cols):
    """Patients per combination of ``group_cols`` (every category, empty ones as 0), column ``n``."""
    return data.groupby(list(group_cols), observed=False).size().to_frame("n")


def rate_table(data, group_cols, outcome_col, name="prevalence"):
    """``n``, cases, the rate of ``outcome_col`` and its 95 % Wilson interval per group."""
    grouped = data.groupby(group_cols if isinstance(group_cols, str) else list(group_cols), observed=True)
    table = grouped[outcome_col].agg(n="size", cases="sum")
    table[name] = table["cases"] / table["n"]
    table[f"{name}_ci_low"], table[f"{name}_ci_high"] = proportion_interval(table["cases"], table["n"])
    return table
