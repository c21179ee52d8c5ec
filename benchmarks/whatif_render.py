"""What-If explorer responsiveness: milliseconds from one threshold-slider change to the re-rendered explorer.

Moves a group's slider (``ipywidgets.FloatSlider.value``, as the browser does) through 20 values and times
each full re-render: decisions, the per-group table with Wilson intervals, the ROC figure's PNG and the
patient view.  Two data sets: the 920 heart patients, and the validation half (10,000 patients) of the
synthetic readmission cohort.  Targets from the issue: 150 ms and 300 ms.  Run alone with
``.venv/bin/python benchmarks/whatif_render.py``; ``run_benchmarks.py`` calls :func:`measure`.
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np

TARGETS_MS = {"heart": 150.0, "readmission cohort": 300.0}


def _heart():
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    from course_utils.data import load_heart
    from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, model_inputs

    heart = load_heart()
    numeric, categorical = list(HEART_NUMERIC_FEATURES), list(HEART_CATEGORICAL_FEATURES)
    model = make_pipeline(
        FunctionTransformer(model_inputs, kw_args={"numeric_cols": numeric, "categorical_cols": categorical}),
        ColumnTransformer([("n", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                           ("c", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                               OneHotEncoder(handle_unknown="ignore")), categorical)]),
        LogisticRegression(max_iter=1000)).fit(heart, heart["disease"])
    return model, heart, heart["disease"], heart["sex"], numeric + categorical


def _cohort():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from course_utils.cohort import make_readmission_cohort

    cohort = make_readmission_cohort(n=20000, random_state=0)
    features = ["chronic_conditions", "prior_utilisation", "age_band", "sex", "payer"]
    train, validation = cohort.iloc[:10000], cohort.iloc[10000:].reset_index(drop=True)
    model = make_pipeline(ColumnTransformer([("n", StandardScaler(), features[:2]),
                                             ("c", OneHotEncoder(handle_unknown="ignore"), features[2:])]),
                          LogisticRegression(max_iter=1000)).fit(train[features], train["readmitted_30d"])
    return model, validation[features + ["race"]], validation["readmitted_30d"], validation["race"].astype(str), features


def time_slider(model, X, y, groups, features, repeat: int = 20) -> float:
    """Median milliseconds for one slider change to re-render the whole explorer."""
    from course_utils.whatif import WhatIfExplorer

    explorer = WhatIfExplorer(model, X, y, sensitive_features=groups, feature_cols=features)
    explorer.widget  # build the widgets once, as displaying the explorer does
    slider = explorer._widget.sliders[explorer.group_names[0]]
    times = []
    for value in np.linspace(0.2, 0.6, repeat):
        started = time.perf_counter()
        slider.value = float(round(value, 3))
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def measure() -> dict:
    return {"heart_ms": round(time_slider(*_heart()), 1), "readmission_cohort_ms": round(time_slider(*_cohort()), 1),
            "patients": {"heart": 920, "readmission cohort": 10000}}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
