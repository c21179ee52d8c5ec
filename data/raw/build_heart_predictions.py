"""Build data/heart_baseline_predictions.csv: the course's baseline, out of fold, on the heart data.

Notebook 01 asks learners to build this baseline themselves (Exercises 6 and 7) and to apply one
corrective action (group-balancing weights by sex, Exercise 10).  The later sections of the notebook
need the course's own predictions -- also when a learner has not answered those exercises yet -- so
the course ships them as data, computed here once:

* the pipeline: numeric columns median-imputed and standardised, *without* missing-value indicators (notebook 01's
  comparison by site shows that here they say which hospital recorded the patient, not how ill the patient is);
  categorical columns most-frequent-imputed and one-hot encoded (unseen categories ignored);
  logistic regression (``max_iter=1000``, ``random_state=0``);
* the features: ``course_utils.models.HEART_NUMERIC_FEATURES`` and ``HEART_CATEGORICAL_FEATURES``,
  through ``course_utils.models.model_inputs``;
* the validation: ``cross_val_predict`` with ``StratifiedKFold(5, shuffle=True, random_state=0)``;
* ``balanced_score``: the same folds, each patient weighted n / (2 x patients of their sex);
* ``indicator_score``: the same folds, the pipeline *with* a missing-value indicator per measurement
  (``SimpleImputer(add_indicator=True)``), the variant notebook 01 compares the baseline with.

Columns: ``patient_id``, ``baseline_score``, ``balanced_score``, ``indicator_score`` (probabilities of disease).

Usage:
  python data/raw/build_heart_predictions.py           rebuild and update SHA256SUMS
  python data/raw/build_heart_predictions.py --check   only compare with the shipped file (exit 1 if different)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1]  # data/: this script lives in data/raw/
sys.path.insert(0, str(DATA_DIR.parent))  # so the script also runs from a clone where course_utils is not installed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from course_utils import data as heart_data  # noqa: E402
from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, model_inputs  # noqa: E402


def baseline_pipeline(add_indicator=False):
    numeric, categorical = list(HEART_NUMERIC_FEATURES), list(HEART_CATEGORICAL_FEATURES)
    return make_pipeline(
        ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=add_indicator), StandardScaler()),
             numeric),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore")), categorical),
        ]),
        LogisticRegression(max_iter=1000, random_state=0),
    )


def predictions() -> pd.DataFrame:
    heart = heart_data.load_heart()
    X = model_inputs(heart, numeric_cols=HEART_NUMERIC_FEATURES, categorical_cols=HEART_CATEGORICAL_FEATURES)
    y = heart["disease"]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    baseline = cross_val_predict(baseline_pipeline(), X, y, cv=folds, method="predict_proba")[:, 1]
    sex = heart["sex"].astype(str)
    weights = (len(sex) / (sex.nunique() * sex.map(sex.value_counts()))).to_numpy()
    balanced = cross_val_predict(baseline_pipeline(), X, y, cv=folds, method="predict_proba",
                                 params={"logisticregression__sample_weight": weights})[:, 1]
    with_indicators = cross_val_predict(baseline_pipeline(add_indicator=True), X, y, cv=folds,
                                        method="predict_proba")[:, 1]
    return pd.DataFrame({"patient_id": heart["patient_id"].to_numpy(), "baseline_score": np.round(baseline, 12),
                         "balanced_score": np.round(balanced, 12), "indicator_score": np.round(with_indicators, 12)})


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.12f").encode("utf-8")


def update_manifest(name: str, digest: str) -> Path:
    """Set ``name``'s line in SHA256SUMS, keeping every other file's line."""
    manifest = DATA_DIR / "SHA256SUMS"
    lines = [line for line in manifest.read_text(encoding="utf-8").splitlines()
             if line.strip() and line.split(maxsplit=1)[-1].lstrip("*").strip() != name]
    lines.append(f"{digest}  {name}")
    manifest.write_text("\n".join(sorted(lines, key=lambda line: line.split(maxsplit=1)[-1])) + "\n",
                        encoding="utf-8", newline="\n")
    return manifest


def write_or_check(target: Path, content: bytes, check: bool, same_enough=None) -> int:
    """Write ``content`` to ``target`` and its checksum to SHA256SUMS; with ``check``, only compare (1 if different).

    ``same_enough(shipped_bytes, fresh_bytes)``: a comparison for files whose last digits depend on the processor.
    """
    if check:
        same = target.is_file() and (target.read_bytes() == content
                                     or (same_enough is not None and same_enough(target.read_bytes(), content)))
        print(f"{target}: {'the same as' if same else 'DIFFERS from'} a fresh build")
        return int(not same)
    target.write_bytes(content)
    manifest = update_manifest(target.name, hashlib.sha256(content).hexdigest())
    print(f"wrote {target} ({len(content):,} bytes) and updated {manifest}")
    return 0


def _scores_within(shipped: bytes, fresh: bytes) -> bool:
    """The same patients and scores within 1e-9: another processor's BLAS may round a last digit the other way."""
    old, new = pd.read_csv(io.BytesIO(shipped)), pd.read_csv(io.BytesIO(fresh))
    return (list(old.columns) == list(new.columns) and old["patient_id"].equals(new["patient_id"])
            and bool(np.allclose(old.drop(columns="patient_id"), new.drop(columns="patient_id"), rtol=0, atol=1e-9)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the course's out-of-fold baseline predictions on the heart data.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the shipped file differs")
    args = parser.parse_args(argv)
    return write_or_check(DATA_DIR / heart_data.HEART_PREDICTIONS_CSV, csv_bytes(predictions()), args.check,
                          _scores_within)

if __name__ == "__main__":
    sys.exit(main())
