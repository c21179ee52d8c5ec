"""Hidden material of notebook 00 (orientation): instructor-only, never in the learner edition or a sandbox.

Value answers are computed from the shipped CSV read with plain pandas, not with the course's loader;
the code question runs on that file and on tables the public cases do not show.
"""

import math

import pandas as pd

from course_utils.data import heart_data_path
from course_utils.instructor.cases import HiddenCase, Value


def raw_heart() -> pd.DataFrame:
    """The shipped file as plain pandas reads it (no course loader in between)."""
    return pd.read_csv(heart_data_path())


VALUES = {
    "orient-n-patients": Value(
        expected=lambda: len(raw_heart()),
        wrong={"Cleveland only": lambda: int((raw_heart()["site"] == "Cleveland").sum()),
               "columns": lambda: raw_heart().shape[1]},
    ),
    "orient-justice-principle": Value(expected=lambda: "justice"),
}


def share(data, column, value):
    """Matching rows over all rows, counted row by row: a missing value is a row that does not match."""
    rows = data[column].tolist()
    return sum(1 for item in rows if not pd.isna(item) and item == value) / len(rows) if rows else math.nan


CASES = {
    "orient-share-function": [
        HiddenCase("the course's 920 patients read with plain pandas: the share of women",
                   inputs=lambda: {"data": raw_heart(), "column": "sex", "value": "Female"}, reference=share),
        HiddenCase("another column: Switzerland's share of the patients",
                   inputs=lambda: {"data": raw_heart(), "column": "site", "value": "Switzerland"}, reference=share),
        HiddenCase("a column stored as a pandas category",
                   inputs=lambda: {"data": raw_heart().astype({"site": "category"}), "column": "site",
                                   "value": "VA Long Beach"}, reference=share),
        HiddenCase("a column with many missing values (the thallium scan result)",
                   inputs=lambda: {"data": raw_heart(), "column": "thallium_scan", "value": "normal"}, reference=share,
                   explain="a missing value is a row that does not match: it stays in the denominator"),
        HiddenCase("a value no patient has", inputs=lambda: {"data": raw_heart(), "column": "sex", "value": "unknown"},
                   expected=0.0, reveal=True, explain="a value that never occurs has a share of 0, not NaN"),
        HiddenCase("the course's table with no rows left", inputs=lambda: {"data": raw_heart().iloc[:0], "column": "sex",
                                                                            "value": "Female"},
                   expected=math.nan, reveal=True, explain="a table with no rows has no share: NaN, not 0"),
    ],
}
