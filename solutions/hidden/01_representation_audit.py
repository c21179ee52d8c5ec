"""Hidden material of notebook 01 (representation audit): instructor-only, never in the learner edition or a sandbox.

Value answers are computed from the shipped CSV read with plain pandas, not with the course's loader.
"""

import pandas as pd

from course_utils.data import heart_data_path
from course_utils.instructor.cases import HiddenCase, Value


def raw_heart() -> pd.DataFrame:
    """The shipped file as plain pandas reads it (no course loader in between)."""
    return pd.read_csv(heart_data_path())


def women_at(*sites) -> int:
    raw = raw_heart()
    return int(((raw["sex"] == "Female") & raw["site"].isin(sites)).sum())


def mean_cholesterol(sex=None, zeros_counted=False) -> float:
    """Mean cholesterol (mg/dl) of one sex or everyone; the recorded zeros left out, or counted as 0."""
    raw = raw_heart()
    values = raw["cholesterol"].where(~raw["cholesterol_recorded_as_zero"].astype(bool), 0.0) if zeros_counted \
        else raw["cholesterol"]
    return float(values[raw["sex"] == sex].mean() if sex else values.mean())


VALUES = {
    "audit-women-small-sites": Value(
        expected=lambda: women_at("Switzerland", "VA Long Beach"),
        wrong={"Switzerland only": lambda: women_at("Switzerland"), "VA only": lambda: women_at("VA Long Beach"),
               "everyone at the two sites": lambda: int(raw_heart()["site"].isin(["Switzerland", "VA Long Beach"]).sum()),
               "the other two sites": lambda: women_at("Cleveland", "Hungary")},
    ),
    "audit-mean-cholesterol-female": Value(
        expected=lambda: mean_cholesterol("Female"),
        wrong={"zeros counted": lambda: mean_cholesterol("Female", zeros_counted=True),
               "men": lambda: mean_cholesterol("Male"),
               "men, zeros counted": lambda: mean_cholesterol("Male", zeros_counted=True),
               "everyone": lambda: mean_cholesterol()},
    ),
    # The paired interval of the change in women's FNR includes 0 (see the guide's notes on Exercise 11).
    "audit-reweighting-verdict": Value(expected=lambda: "no real change"),
}

CASES: dict[str, list[HiddenCase]] = {}
