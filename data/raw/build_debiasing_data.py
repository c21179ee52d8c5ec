"""Build notebook 02's data: the three-way split with encoded model inputs, and every setting's predictions.

Notebook 02 asks learners to write each piece of the de-biasing pipeline themselves (re-weighing with aif360,
adversarial de-biasing with aif360, group thresholds with fairlearn) and to choose a model on validation data.
Its narrative continues from the course's own run of the same pieces -- also when a learner has not answered an
exercise yet -- so the course ships that run as data, computed here once.  Nothing here is shipped as code to
learners: ``data/raw/`` is not part of the learner edition.

``data/heart_model_inputs.csv``
    Every patient's ``split`` and the baseline's model inputs.  The split: a quarter of the 920 patients held out
    as **test** patients (stratified by disease x sex, ``random_state=0``), then 230 of the other 690 as
    **validation** patients (same stratification and seed); the remaining 460 are the **train** patients.  The
    inputs: the measurements of ``course_utils.models.HEART_NUMERIC_FEATURES`` median-imputed and standardised
    (no missing-value indicators: notebook 01 shows they encode the hospital), the categories of
    ``HEART_CATEGORICAL_FEATURES`` most-frequent-imputed and one-hot encoded -- every statistic (medians, means,
    scales, categories) learned on the train patients only.

``data/heart_debiasing_predictions.csv``
    One row per (setting, seed, patient) for the validation and test patients, and again for every non-test
    patient cross-fitted (``split == "crossfit"``, below): ``score`` (probability of disease) and ``decision``
    (0/1).  The settings (``course_utils.exercises.questions.debiasing.GRID``):

    * ``baseline``: logistic regression (``max_iter=1000``) fitted on the train patients;
    * ``reweighing`` (strength s): aif360's ``Reweighing`` weights w of the train patients (privileged group:
      men), the baseline refitted with ``sample_weight = 1 + s (w - 1)``;
    * ``adversarial`` (adversary loss weight a, seeds 0-2): aif360's ``AdversarialDebiasing`` (30 epochs,
      batch 32, 50 hidden units, ``debias=True``) on the train patients, in its own single-threaded session;
    * ``threshold`` (tolerance t): fairlearn's ``ThresholdOptimizer`` on the baseline's scores
      (``prefit=True``, ``predict_method="predict_proba"``, ``constraints="true_positive_rate_parity"``,
      ``objective="balanced_accuracy_score"``, ``tol`` = t or None for 0), decisions with ``random_state=0``.
      Its validation decisions are *cross-fitted*: thresholds fitted on four fifths of the validation patients
      (5 folds stratified by disease x sex, shuffled, ``random_state=0``) decide the fifth, so the method is not
      judged on the patients it was fitted on.  Its test decisions come from thresholds fitted on all
      validation patients.  Scores are the baseline's: post-processing does not change them.

    Decisions of the other settings are ``score >= 0.5``.

    The rows with ``split == "crossfit"`` are what notebook 02 *chooses* with: every setting, cross-fitted over
    the 690 non-test patients (train and validation together; 5 folds stratified by disease x sex, shuffled,
    ``random_state=0``).  For each fold, every setting is fitted as above on the other four folds (552 patients)
    and predicts the fold it left out, so each non-test patient is predicted once, by models that never saw them
    -- about three times as many women with disease as the validation patients alone.  Group thresholds are
    fitted on the four folds' own cross-fitted baseline scores (an inner 5-fold split) and applied to the left-out
    fold's baseline scores.  The model inputs keep the encoding learned on the train patients: imputation and
    scaling statistics, which use no label.

    No step uses a test patient's label: the test patients are only predicted (``tests/test_notebook02.py``
    rebuilds everything with the test labels shuffled and gets the same files).

Usage:
  python data/raw/build_debiasing_data.py           rebuild both files and update SHA256SUMS
  python data/raw/build_debiasing_data.py --check   only compare with the shipped files (exit 1 if different)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import warnings
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1]  # data/: this script lives in data/raw/
sys.path.insert(0, str(DATA_DIR.parent))  # so the script also runs from a clone where course_utils is not installed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling build scripts
from build_heart_predictions import write_or_check  # noqa: E402
from course_utils import data as heart_data  # noqa: E402
from course_utils.exercises.questions.debiasing import GRID, SEEDS  # noqa: E402
from course_utils.models import HEART_CATEGORICAL_FEATURES, HEART_NUMERIC_FEATURES, model_inputs  # noqa: E402

SPLIT_SEED = 0
TEST_SIZE, VALIDATION_SIZE = 230, 230
PRIVILEGED = "Male"
ADVERSARIAL = {"num_epochs": 30, "batch_size": 32, "classifier_num_hidden_units": 50}
THRESHOLDS = {"constraints": "true_positive_rate_parity", "objective": "balanced_accuracy_score"}
CROSS_FIT_FOLDS = 5
DECIMALS = 10


def split_patients(heart: pd.DataFrame) -> pd.Series:
    """Each patient's split, indexed like ``heart``: test, then validation out of the rest, then train."""
    strata = heart["disease"].astype(str) + heart["sex"].astype(str)
    development, test = train_test_split(heart, test_size=TEST_SIZE, stratify=strata, random_state=SPLIT_SEED)
    train, validation = train_test_split(development, test_size=VALIDATION_SIZE, stratify=strata[development.index],
                                         random_state=SPLIT_SEED)
    split = pd.Series("train", index=heart.index, name="split")
    split[validation.index], split[test.index] = "validation", "test"
    return split


def _readable(name: str) -> str:
    """sklearn's output names without the transformer prefix: 'cat__exercise_angina_1.0' -> 'exercise_angina_yes'."""
    name = name.split("__", 1)[1]
    for flag in ("exercise_angina", "fasting_blood_sugar_high"):  # yes/no findings as 0/1 floats
        name = name.replace(f"{flag}_0.0", f"{flag}_no").replace(f"{flag}_1.0", f"{flag}_yes")
    return name


def encoded_inputs(heart: pd.DataFrame, split: pd.Series) -> pd.DataFrame:
    """patient_id, split and the encoded features; the encoder is fitted on the train patients only."""
    numeric, categorical = list(HEART_NUMERIC_FEATURES), list(HEART_CATEGORICAL_FEATURES)
    encoder = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore", sparse_output=False)), categorical),
    ])
    plain = model_inputs(heart, numeric_cols=numeric, categorical_cols=categorical)
    encoder.fit(plain[split == "train"])
    features = pd.DataFrame(encoder.transform(plain), columns=[_readable(n) for n in encoder.get_feature_names_out()],
                            index=heart.index)
    return pd.concat([heart[["patient_id"]], split, features.round(DECIMALS)], axis=1)


# --------------------------------------------------------------------------- the mitigations, as the notebook asks


@contextlib.contextmanager
def _quiet():
    """aif360 and TensorFlow log optional backends and print training progress; none of it is the build's output."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def _aif360():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    with _quiet():
        import tensorflow as tf
        from aif360.algorithms.inprocessing import AdversarialDebiasing
        from aif360.algorithms.preprocessing import Reweighing
        from aif360.datasets import BinaryLabelDataset
    tf.get_logger().setLevel("ERROR")
    tf.compat.v1.disable_eager_execution()
    return tf, BinaryLabelDataset, Reweighing, AdversarialDebiasing


_GROUPS = {"unprivileged_groups": [{"privileged": 0.0}], "privileged_groups": [{"privileged": 1.0}]}


def _dataset(BinaryLabelDataset, X, y, sex):
    frame = pd.DataFrame(np.asarray(X, dtype=float), columns=[f"x{i}" for i in range(np.shape(X)[1])])
    frame["privileged"] = (np.asarray(sex) == PRIVILEGED).astype(float)
    frame["label"] = np.asarray(y, dtype=float)
    with _quiet():
        return BinaryLabelDataset(df=frame, label_names=["label"], protected_attribute_names=["privileged"])


def _adversarial_scores(libraries, X_train, y_train, sex_train, parts, weight, seed):
    """One adversarial model fitted on the train arrays, scoring each (X_new, sex_new) of ``parts`` apart (TensorFlow's
    last digits depend on how many rows are scored at once): the parts' scores, concatenated."""
    tf, BinaryLabelDataset, _, AdversarialDebiasing = libraries
    graph = tf.Graph()
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with graph.as_default(), tf.compat.v1.Session(graph=graph, config=config) as session, _quiet():
        model = AdversarialDebiasing(scope_name="adversarial_debiasing", sess=session, seed=seed,
                                     adversary_loss_weight=weight, debias=True, **ADVERSARIAL, **_GROUPS)
        model.fit(_dataset(BinaryLabelDataset, X_train, y_train, sex_train))
        return np.concatenate([model.predict(_dataset(BinaryLabelDataset, X_new, np.zeros(len(X_new)), sex_new)
                                             ).scores.ravel() for X_new, sex_new in parts])


def _thresholds(model, X, y, sex, tolerance):
    from fairlearn.postprocessing import ThresholdOptimizer

    return ThresholdOptimizer(estimator=model, prefit=True, predict_method="predict_proba",
                              tol=tolerance or None, **THRESHOLDS).fit(X, y, sensitive_features=sex)


def _cross_fitted_decisions(model, X, y, sex, tolerance):
    """Decisions for the validation patients from thresholds fitted on the other validation folds."""
    strata = pd.Series(y).astype(str).to_numpy() + np.asarray(sex, dtype=str)
    decisions = np.zeros(len(y), dtype=int)
    folds = StratifiedKFold(n_splits=CROSS_FIT_FOLDS, shuffle=True, random_state=SPLIT_SEED)
    for fit_rows, decide_rows in folds.split(X, strata):
        fitted = _thresholds(model, X[fit_rows], y[fit_rows], sex[fit_rows], tolerance)
        decisions[decide_rows] = fitted.predict(X[decide_rows], sensitive_features=sex[decide_rows], random_state=0)
    return decisions


class _GivenScores(ClassifierMixin, BaseEstimator):
    """A "model" whose probability of disease is the one number it is given: group thresholds fitted on scores
    computed elsewhere (cross-fitted), through fairlearn's ``ThresholdOptimizer(prefit=True)``."""

    def fit(self, X, y=None):  # noqa: N803 -- scikit-learn's name
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):  # noqa: N803
        scores = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - scores, scores])

    def predict(self, X):  # noqa: N803
        return (np.asarray(X, dtype=float)[:, 0] >= 0.5).astype(int)


def _folds(y, sex):
    """The course's cross-fitting folds: 5, stratified by disease x sex, shuffled with the split's seed."""
    strata = pd.Series(y).astype(str).to_numpy() + np.asarray(sex, dtype=str)
    return StratifiedKFold(n_splits=CROSS_FIT_FOLDS, shuffle=True, random_state=SPLIT_SEED).split(np.zeros(len(y)),
                                                                                                 strata)


def _model_settings(libraries, X_fit, y_fit, sex_fit, parts):
    """The settings that refit a model, each fitted once on (X_fit, y_fit) and applied to every (X_new, sex_new) of
    ``parts``: the fitted baseline, and {(method, value, seed): (scores, decisions)} for the baseline, re-weighing and
    adversarial de-biasing, the parts' patients one after the other."""
    _, BinaryLabelDataset, Reweighing, _ = libraries
    out = {}

    def scored(model):
        return np.concatenate([model.predict_proba(X_new)[:, 1] for X_new, _ in parts])

    baseline = LogisticRegression(max_iter=1000).fit(X_fit, y_fit)
    base = scored(baseline)
    out[("baseline", np.nan, 0)] = base, (base >= 0.5).astype(int)
    with _quiet():
        weights = Reweighing(**_GROUPS).fit_transform(
            _dataset(BinaryLabelDataset, X_fit, y_fit, sex_fit)).instance_weights
    for strength in GRID["reweighing"]:
        scores = scored(LogisticRegression(max_iter=1000).fit(X_fit, y_fit, sample_weight=1 + strength * (weights - 1)))
        out[("reweighing", strength, 0)] = scores, (scores >= 0.5).astype(int)
    for weight in GRID["adversarial"]:
        for seed in SEEDS:
            scores = _adversarial_scores(libraries, X_fit, y_fit, sex_fit, parts, weight, seed)
            out[("adversarial", weight, seed)] = scores, (scores >= 0.5).astype(int)
    return baseline, out


def _settings_on(libraries, X_fit, y_fit, sex_fit, X_new, sex_new):
    """Every setting fitted on (X_fit, y_fit) and applied to X_new: {(method, value, seed): (scores, decisions)}.

    Group thresholds are fitted on X_fit's own cross-fitted baseline scores, so they are not learned on scores of
    the patients the baseline was fitted on."""
    _, out = _model_settings(libraries, X_fit, y_fit, sex_fit, [(X_new, sex_new)])
    base = out[("baseline", np.nan, 0)][0]
    inner = np.zeros(len(y_fit))
    for fit_rows, score_rows in _folds(y_fit, sex_fit):
        inner[score_rows] = LogisticRegression(max_iter=1000).fit(X_fit[fit_rows], y_fit[fit_rows]).predict_proba(
            X_fit[score_rows])[:, 1]
    for tolerance in GRID["threshold"]:
        fitted = _thresholds(_GivenScores().fit(inner[:, None]), inner[:, None], y_fit, sex_fit, tolerance)
        out[("threshold", tolerance, 0)] = base, fitted.predict(base[:, None], sensitive_features=sex_new,
                                                                random_state=0).astype(int)
    return out


def cross_fitted(heart: pd.DataFrame, inputs: pd.DataFrame, libraries) -> pd.DataFrame:
    """Every setting's scores and decisions for the non-test patients, each from the fold fit that left it out."""
    features = inputs.columns.drop(["patient_id", "split"])
    development = (inputs["split"] != "test").to_numpy()
    X = inputs.loc[development, features].to_numpy(float)
    y = heart.loc[development, "disease"].to_numpy(int)
    sex = heart.loc[development, "sex"].astype(str).to_numpy()
    collected = {}
    for fit_rows, new_rows in _folds(y, sex):
        for key, (scores, decisions) in _settings_on(libraries, X[fit_rows], y[fit_rows], sex[fit_rows], X[new_rows],
                                                    sex[new_rows]).items():
            score_all, decision_all = collected.setdefault(key, (np.zeros(len(y)), np.zeros(len(y), dtype=int)))
            score_all[new_rows], decision_all[new_rows] = scores, decisions
    ids = heart.loc[development, "patient_id"].to_numpy()
    return pd.concat([pd.DataFrame({"patient_id": ids, "split": "crossfit", "method": method, "value": value,
                                    "seed": seed, "score": np.round(scores, DECIMALS), "decision": decisions})
                      for (method, value, seed), (scores, decisions) in collected.items()], ignore_index=True)


def predictions(heart: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """Every setting's scores and decisions for the validation and test patients, then cross-fitted for every
    non-test patient (long format)."""
    libraries = _aif360()
    features = inputs.columns.drop(["patient_id", "split"])
    part = {name: (inputs["split"] == name).to_numpy() for name in ("train", "validation", "test")}
    X = {name: inputs.loc[rows, features].to_numpy(float) for name, rows in part.items()}
    y = {name: heart.loc[rows, "disease"].to_numpy(int) for name, rows in part.items()}
    sex = {name: heart.loc[rows, "sex"].astype(str).to_numpy() for name, rows in part.items()}
    ids = {name: heart.loc[rows, "patient_id"].to_numpy() for name, rows in part.items()}
    # Each model is fitted once on the train patients and scores the validation, then the test patients.
    baseline, settings = _model_settings(libraries, X["train"], y["train"], sex["train"],
                                         [(X["validation"], sex["validation"]), (X["test"], sex["test"])])
    base_scores = settings[("baseline", np.nan, 0)][0]
    for tolerance in GRID["threshold"]:
        fitted = _thresholds(baseline, X["validation"], y["validation"], sex["validation"], tolerance)
        settings[("threshold", tolerance, 0)] = base_scores, np.concatenate([
            _cross_fitted_decisions(baseline, X["validation"], y["validation"], sex["validation"], tolerance),
            fitted.predict(X["test"], sensitive_features=sex["test"], random_state=0)])
    rows, n_validation = [], len(ids["validation"])
    for (method, value, seed), (scores, decisions) in settings.items():
        for name, kept in (("validation", slice(None, n_validation)), ("test", slice(n_validation, None))):
            rows.append(pd.DataFrame({"patient_id": ids[name], "split": name, "method": method, "value": value,
                                      "seed": seed, "score": np.round(scores[kept], DECIMALS),
                                      "decision": np.asarray(decisions[kept], dtype=int)}))
    return pd.concat([*rows, cross_fitted(heart, inputs, libraries)], ignore_index=True)


def build(heart: pd.DataFrame, split: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables for these patients; ``split`` defaults to :func:`split_patients` of ``heart``."""
    split = split_patients(heart) if split is None else split
    inputs = encoded_inputs(heart, split)
    return inputs, predictions(heart, inputs)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n", float_format=f"%.{DECIMALS}f").encode("utf-8")


#: TensorFlow's adversarial scores differ from one processor to another (its CPU kernels, oneDNN's among them, sum in
#: an order that depends on the vector instructions available): by up to 0.0019 between the processor that built the
#: shipped file and an AVX-512 one (measured December 2026), with every decision the same.  Every other score, and
#: every other column, is the same byte for byte.
ADVERSARIAL_SCORE_TOLERANCE = 5e-3
SCORE_TOLERANCE = 1e-9


def same_predictions(shipped: pd.DataFrame, fresh: pd.DataFrame) -> bool:
    """The shipped predictions equal a fresh build: every column exactly but the scores, which must agree within
    ``SCORE_TOLERANCE`` (``ADVERSARIAL_SCORE_TOLERANCE`` for the adversarial models')."""
    if list(shipped.columns) != list(fresh.columns) or len(shipped) != len(fresh):
        return False
    shipped, fresh = shipped.reset_index(drop=True), fresh.reset_index(drop=True)
    others = [column for column in shipped.columns if column != "score"]
    tolerance = np.where(shipped["method"] == "adversarial", ADVERSARIAL_SCORE_TOLERANCE, SCORE_TOLERANCE)
    return shipped[others].equals(fresh[others]) and bool((np.abs(shipped["score"] - fresh["score"]) <= tolerance).all())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build notebook 02's split, model inputs and predictions.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a shipped file differs")
    args = parser.parse_args(argv)
    inputs, predicted = build(heart_data.load_heart())
    status = 0
    for name, frame in ((heart_data.HEART_MODEL_INPUTS_CSV, inputs),
                        (heart_data.HEART_DEBIASING_PREDICTIONS_CSV, predicted)):
        tolerant = name == heart_data.HEART_DEBIASING_PREDICTIONS_CSV
        status |= write_or_check(DATA_DIR / name, csv_bytes(frame), args.check, (lambda shipped, fresh: same_predictions(
            pd.read_csv(io.BytesIO(shipped)), pd.read_csv(io.BytesIO(fresh)))) if tolerant else None)
    return status

if __name__ == "__main__":
    sys.exit(main())
