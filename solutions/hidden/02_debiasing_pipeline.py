"""Hidden material of notebook 02 (de-biasing pipeline): instructor-only, never in the learner edition or a sandbox.

Value answers are computed from the shipped CSVs read with plain pandas, not with the course's loaders;
the AUC is counted over (sick, healthy) pairs, not taken from scikit-learn.
"""

import pandas as pd

from course_utils.data import heart_data_path
from course_utils.instructor.cases import HiddenCase, Value


def raw_heart() -> pd.DataFrame:
    return pd.read_csv(heart_data_path())


def shipped(name: str) -> pd.DataFrame:
    """Another shipped CSV beside the heart data, read with plain pandas."""
    return pd.read_csv(heart_data_path().with_name(name))


def patients() -> pd.DataFrame:
    """Every patient with their split, sex and disease (diagnosis > 0)."""
    raw = raw_heart()
    split = shipped("heart_model_inputs.csv")["split"].to_numpy()
    return pd.DataFrame({"patient_id": raw["patient_id"], "split": split, "sex": raw["sex"],
                         "disease": (raw["diagnosis"] > 0).astype(int)})


def women_with_disease(split=None, sex="Female", disease=1) -> int:
    people = patients()
    chosen = (people["split"] == split) if split else True
    return int(((people["sex"] == sex) & (people["disease"] == disease) & chosen).sum())


def pair_auc(split: str, column: str = "score") -> float:
    """The baseline's AUC on one split: the share of (sick, healthy) pairs ranked right, ties counting half."""
    predictions = shipped("heart_debiasing_predictions.csv")
    rows = predictions[(predictions["method"] == "baseline") & (predictions["split"] == split)]
    sick = rows["patient_id"].map(patients().set_index("patient_id")["disease"]).to_numpy() == 1
    values = rows[column].to_numpy(dtype=float)
    pairs = values[sick][:, None] - values[~sick][None, :]
    return float((pairs > 0).mean() + 0.5 * (pairs == 0).mean())


def baseline_accuracy(split: str) -> float:
    predictions = shipped("heart_debiasing_predictions.csv")
    rows = predictions[(predictions["method"] == "baseline") & (predictions["split"] == split)]
    disease = rows["patient_id"].map(patients().set_index("patient_id")["disease"])
    return float((rows["decision"].to_numpy() == disease.to_numpy()).mean())


def with_sugar_status() -> pd.DataFrame:
    """Patients with fasting blood sugar > 120 mg/dl (the notebook's 'diabetic' group), read as text."""
    raw = raw_heart()
    return raw.assign(status=raw["fasting_blood_sugar_high"].astype(str).map(
        {"True": "diabetic", "False": "non-diabetic"}).fillna("not recorded"))


def va_share(status="diabetic") -> float:
    data = with_sugar_status()
    return float((data.loc[data["status"] == status, "site"] == "VA Long Beach").mean())


def diabetic_share_at_va() -> float:
    data = with_sugar_status()
    return float((data.loc[data["site"] == "VA Long Beach", "status"] == "diabetic").mean())


VALUES = {
    "debias-validation-women-with-disease": Value(
        expected=lambda: women_with_disease("validation"),
        wrong={"test": lambda: women_with_disease("test"), "train": lambda: women_with_disease("train"),
               "every woman": lambda: int(((patients()["split"] == "validation") & (patients()["sex"] == "Female")).sum()),
               "all patients": lambda: women_with_disease(None), "men": lambda: women_with_disease("validation", "Male")},
    ),
    "debias-baseline-validation-auc": Value(
        expected=lambda: pair_auc("validation"),
        wrong={"accuracy": lambda: baseline_accuracy("validation"), "test": lambda: pair_auc("test"),
               "decisions": lambda: pair_auc("validation", "decision")},
    ),
    "debias-diabetic-va-share": Value(
        expected=lambda: va_share("diabetic"),
        wrong={"diabetic share at VA": diabetic_share_at_va, "non-diabetic": lambda: va_share("non-diabetic"),
               "count": lambda: int(((with_sugar_status()["status"] == "diabetic")
                                     & (with_sugar_status()["site"] == "VA Long Beach")).sum())},
    ),
}

CASES: dict[str, list[HiddenCase]] = {}

