"""Hidden material of notebook 03 (ethics review): instructor-only, never in the learner edition or a sandbox.

The value answer is recomputed here from the seeded cohort, the way the notebook builds its model under
review, with the FNR counted with plain pandas.
"""

from functools import cache

import numpy as np
import pandas as pd

from course_utils.instructor.cases import HiddenCase, Value

COHORT_SIZE, COHORT_SEED, FLAG_SHARE = 20000, 0, 0.10
NUMERIC = ["chronic_conditions", "prior_utilisation"]
CATEGORICAL = ["age_band", "sex", "payer"]


@cache
def validation_decisions() -> pd.DataFrame:
    """The validation half with the model under review's decisions (top 10 % of scores flagged)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from course_utils.cohort import make_readmission_cohort

    data = make_readmission_cohort(n=COHORT_SIZE, random_state=COHORT_SEED)
    train, test = train_test_split(data, test_size=0.5, random_state=0, stratify=data["readmitted_30d"])
    model = make_pipeline(
        ColumnTransformer([("numeric", StandardScaler(), NUMERIC), ("categorical", OneHotEncoder(), CATEGORICAL)]),
        LogisticRegression(max_iter=1000),
    ).fit(train[NUMERIC + CATEGORICAL], train["readmitted_30d"])
    scores = model.predict_proba(test[NUMERIC + CATEGORICAL])[:, 1]
    return pd.DataFrame({"race": test["race"].astype(str).to_numpy(), "readmitted": test["readmitted_30d"].to_numpy(),
                         "flagged": scores >= np.quantile(scores, 1 - FLAG_SHARE)})


def fnr(group: str) -> float:
    """Among the group's readmitted patients, the share the model did not flag."""
    data = validation_decisions()
    readmitted = data[(data["race"] == group) & (data["readmitted"] == 1)]
    return float((~readmitted["flagged"]).sum() / len(readmitted))


VALUES = {
    "ethics-fnr-gap": Value(expected=lambda: fnr("Black") - fnr("White"), wrong={"Black only": lambda: fnr("Black")}),
}

CASES: dict[str, list[HiddenCase]] = {}
