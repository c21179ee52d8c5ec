"""An independent rebuild of the course's baseline model, for tests that check the notebooks' numbers.

It is written with plain pandas and scikit-learn from the raw CSV, not with course_utils.models, so a
notebook finding that matches it was not checked against itself.
"""

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUMERIC = ["age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression"]
CATEGORICAL = ["sex", "chest_pain", "resting_ecg", "exercise_angina", "fasting_blood_sugar_high"]


def baseline_features_and_model(raw):
    """The baseline model's inputs rebuilt from the CSV, and an unfitted equivalent pipeline."""
    features = raw[NUMERIC + CATEGORICAL].copy()
    for name in ("exercise_angina", "fasting_blood_sugar_high"):
        features[name] = features[name].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})
    for name in ("sex", "chest_pain", "resting_ecg"):
        features[name] = features[name].astype(object)
    model = make_pipeline(
        ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore")), CATEGORICAL),
        ]),
        LogisticRegression(max_iter=1000, random_state=0),
    )
    return features, model
