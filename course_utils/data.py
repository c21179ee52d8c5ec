"""Load the course's UCI Heart Disease data: shipped, checksummed, documented, with errors a learner can act on.

The course ships the 920-patient UCI Heart Disease data (four sites: Cleveland, Hungary, Switzerland,
VA Long Beach) as ``data/heart_disease_uci.csv``, listed with its SHA-256 digest in ``data/SHA256SUMS``.
How the file was made and which defects of the source were corrected is told in
``data/DATASHEET_heart_disease.md`` and ``data/raw/build_heart_data.py``.

Entry points
------------
load_heart               the data as a typed DataFrame (checksum verified first)
describe_heart_columns   one row per column: name, dtype, meaning with unit
HEART_COLUMNS            the same descriptions as a dict
heart_data_path          where the shipped CSV is
verify_heart_data        recompute the checksum; returns the digest or raises DataIntegrityError
load_heart_predictions   the course's baseline, out of fold (notebook 01)
load_heart_model_inputs  notebook 02's train / validation / test split with the baseline's encoded inputs
load_debiasing_predictions  every setting of notebook 02's sweep, predicted for the validation and test patients
load_course_table        a table the notebooks show, computed by the course on its own data (see COURSE_TABLES)

The shipped file's name is ``HEART_CSV`` and its columns ``TIDY_COLUMNS``.  The category orders are
``SITES``, ``SEXES``, ``CHEST_PAIN``, ``RESTING_ECG``, ``ST_SLOPE``, ``THALLIUM_SCAN`` and ``AGE_BANDS``.
Reading and decoding the original UCI files (recorded zeros -> missing, with a flag column) is an
instructor tool, ``course_utils.instructor.uci``, in the instructor edition only: on any input it would
compute what a code exercise grades.  ``data/raw/build_heart_data.py`` builds the shipped file with it.

The data directory is ``$COURSE_DATA_DIR`` when that variable is set, else the course's ``data/``
folder, which is installed as the package data of ``course_utils.datasets`` (found with
``importlib.resources``, so it works from a wheel as well as from a clone).  Importing this module needs only pandas and numpy.
"""

from __future__ import annotations

import hashlib
import io
import os
from importlib import resources
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils import _validation as check

__all__ = [
    "AGE_BANDS",
    "CHEST_PAIN",
    "COURSE_TABLES",
    "HEART_COLUMNS",
    "HEART_CSV",
    "HEART_DEBIASING_PREDICTIONS_CSV",
    "CHEST_FILMS_SWEEP_CSV",
    "HEART_MODEL_INPUTS_CSV",
    "HEART_PREDICTIONS_CSV",
    "RESTING_ECG",
    "SEXES",
    "SITES",
    "ST_SLOPE",
    "THALLIUM_SCAN",
    "TIDY_COLUMNS",
    "DataDownloadError",
    "DataIntegrityError",
    "describe_heart_columns",
    "heart_data_path",
    "load_course_table",
    "load_heart",
    "load_debiasing_predictions",
    "load_chest_films_sweep",
    "load_heart_model_inputs",
    "load_heart_predictions",
    "verify_heart_data",
]

HEART_CSV = "heart_disease_uci.csv"
#: The course's baseline, out of fold, on the heart data (built by data/raw/build_heart_predictions.py).
HEART_PREDICTIONS_CSV = "heart_baseline_predictions.csv"
#: Notebook 02's split and encoded model inputs, and its sweep's predictions (data/raw/build_debiasing_data.py).
HEART_MODEL_INPUTS_CSV = "heart_model_inputs.csv"
HEART_DEBIASING_PREDICTIONS_CSV = "heart_debiasing_predictions.csv"
#: Notebook 04's sweep of CNNs on its generated chest films (data/raw/build_imaging_sweep.py).
CHEST_FILMS_SWEEP_CSV = "chest_films_sweep.csv"
_CHECKSUM_FILE = "SHA256SUMS"

#: The tables the notebooks show, computed once by the course on its own data and shipped as ``data/<name>.parquet``
#: (built by data/raw/build_course_tables.py); read one with :func:`load_course_table`.  Each is what the cell
#: shows, exact: the same numbers, dtypes and index.
COURSE_TABLES = {
    "heart_baseline_audit_by_sex":
        "01 §5: the course's baseline (out of fold, all 920 patients) by sex, with AUC",
    "heart_missing_indicators_by_site":
        "01 §5: the baseline with and without missing-value indicators, per site and pooled: AUC, paired change, "
        "missed patients",
    "heart_baseline_audit_by_sex_and_age":
        "01 §6: the same baseline by sex and age band (every combination, small groups flagged)",
    "heart_balanced_audit_by_sex":
        "01 §7: the re-weighted baseline (both sexes with equal total weight; out of fold) by sex",
    "heart_validation_audit_by_sex":
        "02a §2: notebook 02's baseline on the 230 validation patients by sex, with AUC",
    "heart_validation_audit_by_age":
        "02a §2: the same, by age band",
    "heart_validation_audit_by_age_and_sex":
        "02a §2: the same, by age band x sex (every combination, small groups flagged)",
    "heart_validation_age_thresholds":
        "02a §2: group thresholds by age group (under 50 / 50 and over), cross-fitted on the validation patients: "
        "missed and false alarms before and after, with exact McNemar p-values",
    "heart_crossfit_calibration_by_sex":
        "02b §4: calibration intercept and slope by sex on the 690 non-test patients, cross-fitted, baseline and "
        "re-weighing",
    "heart_crossfit_sweep":
        "02b §4: every setting of the sweep, cross-fitted over the 690 non-test patients: AUC, accuracy, FNR per "
        "sex, FNR gap, with paired intervals",
    "heart_chosen_test_audit_by_sex":
        "02b §6: the setting the stated rule chose, fitted on the train patients, on the 230 test patients by sex",
    "heart_audit_by_fasting_sugar":
        "02a §4: the course's baseline (out of fold) by fasting blood sugar (> 120 mg/dl, <= 120, not recorded), "
        "with AUC",
    "readmission_enrolment_by_label":
        "03 §2: each patient's auto-enrolment (top 3 %) by the trees trained on cost and on need, in the cohort's order",
    "readmission_validation_audit_by_race":
        "03 §3: the readmission model under review on its validation half by race, with AUC",
    "readmission_validation_audit_by_race_and_sex":
        "03 §3: the same by race x sex, every combination, small groups flagged",
    "readmission_validation_audit_by_race_and_payer":
        "03 §3: the same by race x payer, every combination, small groups flagged",
    "readmission_deployment_by_month":
        "03 §9: the simulated deployment year, month by month and race, with each group's share of the month",
}

# Category orders: the order learners see in tables and plots.  Only age bands have a meaningful order.
SITES = ("Cleveland", "Hungary", "Switzerland", "VA Long Beach")
SEXES = ("Female", "Male")
CHEST_PAIN = ("typical angina", "atypical angina", "non-anginal pain", "asymptomatic")
RESTING_ECG = ("normal", "ST-T wave abnormality", "left ventricular hypertrophy")
ST_SLOPE = ("upsloping", "flat", "downsloping")
THALLIUM_SCAN = ("normal", "fixed defect", "reversible defect")
AGE_BANDS = ("<40", "40-49", "50-59", "60-69", "70+")

HEART_COLUMNS = {
    "patient_id": "row number in the original four-site file (1-920); identifies a patient, carries no information",
    "site": "hospital that recorded the patient: Cleveland, Hungary (Budapest), Switzerland (Zurich, Basel), VA Long Beach",
    "age": "age in years",
    "age_band": "age group in years: <40, 40-49, 50-59, 60-69, 70+ (added by load_heart)",
    "sex": "sex as recorded by the hospital: Female or Male",
    "chest_pain": "chest pain type: typical angina, atypical angina, non-anginal pain or asymptomatic",
    "resting_bp": "resting systolic blood pressure on admission, mm Hg (missing if not measured)",
    "resting_bp_recorded_as_zero": "True where the source recorded a blood pressure of 0 (not measured); resting_bp is then missing",
    "cholesterol": "serum cholesterol, mg/dl (missing if not measured; see cholesterol_recorded_as_zero)",
    "cholesterol_recorded_as_zero": "True where the source recorded cholesterol 0 (not measured: all Swiss and 49 VA patients)",
    "fasting_blood_sugar_high": "fasting blood sugar above 120 mg/dl (True/False, missing if not measured)",
    "resting_ecg": "resting electrocardiogram: normal, ST-T wave abnormality or left ventricular hypertrophy",
    "max_heart_rate": "maximum heart rate reached in the exercise test, beats per minute",
    "exercise_angina": "chest pain (angina) brought on by the exercise test (True/False)",
    "st_depression": "ST depression induced by exercise relative to rest, mm (12 negative values kept as recorded)",
    "st_slope": "slope of the peak-exercise ST segment: upsloping, flat or downsloping",
    "major_vessels": "number of major vessels (0-3) coloured by fluoroscopy",
    "thallium_scan": "thallium stress test result: normal, fixed defect or reversible defect",
    "diagnosis": "angiographic diagnosis 0-4: 0 = under 50 % narrowing of every major vessel, 1-4 = disease",
    "disease": "heart disease, 1 if diagnosis > 0 else 0: the usual prediction target (added by load_heart)",
}

# Column order of the shipped CSV; other modules and notebooks rely on these names.
TIDY_COLUMNS = (
    "patient_id", "site", "age", "sex", "chest_pain", "resting_bp", "resting_bp_recorded_as_zero",
    "cholesterol", "cholesterol_recorded_as_zero", "fasting_blood_sugar_high", "resting_ecg",
    "max_heart_rate", "exercise_angina", "st_depression", "st_slope", "major_vessels", "thallium_scan",
    "diagnosis",
)
_CATEGORIES = {
    "site": SITES,
    "sex": SEXES,
    "chest_pain": CHEST_PAIN,
    "resting_ecg": RESTING_ECG,
    "st_slope": ST_SLOPE,
    "thallium_scan": THALLIUM_SCAN,
}
_FLOATS = ("resting_bp", "cholesterol", "max_heart_rate", "st_depression", "major_vessels")
_NULLABLE_BOOLEANS = ("fasting_blood_sugar_high", "exercise_angina")
_FLAGS = ("resting_bp_recorded_as_zero", "cholesterol_recorded_as_zero")

_RESTORE_HINT = (
    "Restore it from the course repository with `git checkout -- data/{name}` (run in the course folder), "
    "or rebuild it with `python data/raw/{builder}`."
)
#: The script that builds each shipped file other than the course tables (the rest: build_heart_data.py).
_BUILDERS = {"heart_baseline_predictions.csv": "build_heart_predictions.py",
             "heart_model_inputs.csv": "build_debiasing_data.py",
             "heart_debiasing_predictions.csv": "build_debiasing_data.py",
             "chest_films_sweep.csv": "build_imaging_sweep.py"}
_RESTORE_TABLE_HINT = (
    "Restore it from the course repository with `git checkout -- data/{name}` (run in the course folder), "
    "or rebuild it with `python data/raw/build_course_tables.py`."
)


class DataIntegrityError(RuntimeError):
    """The shipped data file is missing or differs from the checksum the course was tested with."""


class DataDownloadError(ConnectionError):
    """A data repository could not be reached (offline, or the repository is down)."""


# --------------------------------------------------------------------------- locating and verifying


def heart_data_path() -> Path:
    """Path of the shipped heart data CSV (``$COURSE_DATA_DIR`` if set, else the course's ``data/``).

    The file is not checked here; use :func:`verify_heart_data` or :func:`load_heart` for that.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from course_utils.data import heart_data_path
    >>> heart_data_path().name
    'heart_disease_uci.csv'
    """
    return _data_dir() / HEART_CSV


def _data_dir():
    # Read at call time, not import time, so tests and instructors can point at another copy.
    override = os.environ.get("COURSE_DATA_DIR")
    if override:
        return Path(override).expanduser()
    # The repository's data/ folder is installed as the package course_utils.datasets (see
    # pyproject.toml), so an editable install and a wheel find the same files.
    return Path(str(resources.files("course_utils.datasets")))


def verify_heart_data() -> str:
    """Check the shipped heart data against ``SHA256SUMS``; return its SHA-256 digest.

    Returns
    -------
    str
        The 64-character hexadecimal SHA-256 digest of the CSV.

    Raises
    ------
    DataIntegrityError
        If the CSV or the checksum list is missing, or the CSV has changed.  The message says how to
        restore the file.

    Examples
    --------
    >>> from course_utils.data import verify_heart_data
    >>> len(verify_heart_data())
    64
    """
    return _verified_content()[1]


def _verified_content(name: str = HEART_CSV):
    """A shipped file's bytes and digest; the bytes that were checked are the bytes that get parsed."""
    path = _data_dir() / name
    hint = (_RESTORE_TABLE_HINT if name.endswith(".parquet") else _RESTORE_HINT).format(
        name=name, builder=_BUILDERS.get(name, "build_heart_data.py"))
    expected = _expected_digest(path.parent / _CHECKSUM_FILE, path.name)
    if not path.is_file():
        raise DataIntegrityError(f"The course data file is missing: {path}. " + hint + _data_dir_hint())
    content = path.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise DataIntegrityError(
            f"The course data file {path} has been changed or damaged: its SHA-256 checksum is "
            f"{actual[:12]}..., but {_CHECKSUM_FILE} expects {expected[:12]}..., so your results would not "
            "match the course. " + hint
        )
    return content, actual


def _expected_digest(manifest, filename):
    if not manifest.is_file():
        raise DataIntegrityError(
            f"The checksum list {manifest} is missing, so the course data cannot be checked. "
            + _RESTORE_HINT.format(name=_CHECKSUM_FILE, builder="build_heart_data.py") + _data_dir_hint()
        )
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.strip().partition(" ")
        # sha256sum writes "<digest>  <name>" (text mode) or "<digest> *<name>" (binary mode)
        if name.strip().lstrip("*") == filename:
            return digest.lower()
    raise DataIntegrityError(
        f"The checksum list {manifest} has no entry for {filename}, so the data cannot be checked. "
        + _RESTORE_HINT.format(name=_CHECKSUM_FILE, builder="build_heart_data.py")
    )


def _data_dir_hint():
    if os.environ.get("COURSE_DATA_DIR"):
        return " (COURSE_DATA_DIR is set: check that it points at the course's data folder.)"
    return ""


# --------------------------------------------------------------------------- loading


def load_heart(sites: str | Iterable[str] | None = None, binary_label: bool = True,
               cholesterol_zero_as_missing: bool = True) -> pd.DataFrame:
    """Load the UCI Heart Disease data shipped with the course, after verifying its checksum.

    Parameters
    ----------
    sites : str or list of str, optional
        Keep only these hospitals: ``"Cleveland"``, ``"Hungary"``, ``"Switzerland"``, ``"VA Long Beach"``
        (case does not matter).  Default: all four (920 patients).
    binary_label : bool, default True
        If True the target is ``disease`` (1 if ``diagnosis`` > 0, else 0) and ``diagnosis`` is dropped.
        If False the target is ``diagnosis`` (0-4).
    cholesterol_zero_as_missing : bool, default True
        If True, cholesterol recorded as 0 (not measured) is missing (NaN).  If False, ``cholesterol``
        holds the values as recorded, zeros included: the trap to avoid, kept for teaching.

    Returns
    -------
    pandas.DataFrame
        One row per patient; columns and meanings in :data:`HEART_COLUMNS`.  Text columns are
        categoricals, True/False columns nullable booleans, measurements floats (NaN = missing);
        ``age_band`` is an ordered categorical.  The target is the last column.

    Raises
    ------
    DataIntegrityError
        If the shipped CSV is missing or has changed (the message says how to restore it).
    ValueError
        If a site name is unknown (the message lists the valid names).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    >>> from course_utils.data import load_heart
    >>> heart = load_heart()
    >>> heart.shape
    (920, 19)
    >>> heart["site"].value_counts(sort=False).to_dict()
    {'Cleveland': 303, 'Hungary': 294, 'Switzerland': 123, 'VA Long Beach': 200}
    >>> heart.groupby("sex", observed=True)["disease"].mean().round(3).to_dict()
    {'Female': 0.258, 'Male': 0.632}
    >>> load_heart(sites="cleveland", binary_label=False)["diagnosis"].value_counts().sort_index().to_dict()
    {0: 164, 1: 55, 2: 36, 3: 35, 4: 13}
    >>> int((load_heart(cholesterol_zero_as_missing=False)["cholesterol"] == 0).sum())
    172
    """
    wanted = _check_sites(sites)
    check.check_bool(binary_label, "binary_label")
    check.check_bool(cholesterol_zero_as_missing, "cholesterol_zero_as_missing")
    content, _ = _verified_content()
    tidy = _read_tidy_csv(io.BytesIO(content))
    return _learner_view(tidy, wanted, binary_label, cholesterol_zero_as_missing)


def load_heart_predictions() -> pd.DataFrame:
    """The course's baseline model's out-of-fold scores on the 920 heart patients (checksum verified first).

    Notebook 01 asks you to build this baseline yourself; its later sections continue from the course's
    own predictions, so they work whether or not your version is finished (and you can compare yours).
    The model: numeric features median-imputed (no missing-value indicators: notebook 01 shows that here they
    encode the hospital) and standardised,
    categories most-frequent-imputed and one-hot encoded, logistic regression; every patient scored by a
    model fitted on the other four of five stratified folds (shuffled, ``random_state=0``).

    Returns
    -------
    pandas.DataFrame
        In the order of :func:`load_heart`: ``patient_id``, ``baseline_score`` (probability of disease),
        ``balanced_score`` (the same folds, with each sex carrying equal total weight in training) and
        ``indicator_score`` (the same folds, with a missing-value indicator per measurement).

    Examples
    --------
    >>> from course_utils.data import load_heart_predictions
    >>> predictions = load_heart_predictions()
    >>> predictions.shape, list(predictions.columns)
    ((920, 4), ['patient_id', 'baseline_score', 'balanced_score', 'indicator_score'])
    """
    content, _ = _verified_content(HEART_PREDICTIONS_CSV)
    return pd.read_csv(io.BytesIO(content))


def load_heart_model_inputs() -> pd.DataFrame:
    """Notebook 02's patients: their split (train / validation / test) and the baseline's encoded inputs.

    A quarter of the 920 patients are held out as *test* patients, 230 of the others are *validation*
    patients and the remaining 460 *train* patients (each split stratified by disease x sex, ``random_state=0``).
    The inputs are notebook 01's baseline inputs: measurements median-imputed and standardised (no missing-value
    indicators); categories most-frequent-imputed and one-hot encoded -- every median,
    mean, scale and category learned on the train patients only, so the validation and test patients are
    encoded as new patients would be.  Notebook 02 uses them so that it does not depend on your notebook-01
    pipeline.  Checksums verified first.

    Returns
    -------
    pandas.DataFrame
        In the order of :func:`load_heart`: ``patient_id``, ``split``, ``sex``, ``age_band``, ``disease``, then
        the encoded features (every other column, all numbers).

    Examples
    --------
    >>> from course_utils.data import load_heart_model_inputs
    >>> inputs = load_heart_model_inputs()
    >>> inputs["split"].value_counts().to_dict()
    {'train': 460, 'validation': 230, 'test': 230}
    >>> list(inputs.columns[:6])
    ['patient_id', 'split', 'sex', 'age_band', 'disease', 'age']
    """
    content, _ = _verified_content(HEART_MODEL_INPUTS_CSV)
    encoded = pd.read_csv(io.BytesIO(content))
    heart = load_heart()[["patient_id", "sex", "age_band", "disease"]]
    if not encoded["patient_id"].equals(heart["patient_id"]):
        raise DataIntegrityError(f"{HEART_MODEL_INPUTS_CSV} does not list the patients of {HEART_CSV} in order. "
                                 + _RESTORE_HINT.format(name=HEART_MODEL_INPUTS_CSV, builder="build_debiasing_data.py"))
    encoded["split"] = pd.Categorical(encoded["split"], categories=["train", "validation", "test"])
    return pd.concat([encoded[["patient_id", "split"]], heart.drop(columns="patient_id"),
                      encoded.drop(columns=["patient_id", "split"])], axis=1)


def load_debiasing_predictions() -> pd.DataFrame:
    """The course's run of notebook 02's sweep: every setting's predictions for the validation and test patients,
    and cross-fitted for every non-test patient.

    Built by ``data/raw/build_debiasing_data.py`` with aif360 and fairlearn on :func:`load_heart_model_inputs`:
    the baseline (logistic regression on the train patients), re-weighing at several strengths, adversarial
    de-biasing at several adversary weights and seeds, and group thresholds at several tolerances (fitted on
    validation patients; their validation decisions are cross-fitted).  The rows with ``split == "crossfit"``
    are what notebook 02 chooses with: every setting fitted on four of five folds of the 690 non-test patients
    and predicting the fifth.  No step used a test patient's label.  Checksums verified first.

    Returns
    -------
    pandas.DataFrame
        One row per setting, seed and patient: ``patient_id``, ``split`` (validation, test or crossfit), ``method``,
        ``value`` (the setting's strength, weight or tolerance; NaN for the baseline), ``seed``, ``score``
        (probability of disease) and ``decision`` (0/1).

    Examples
    --------
    >>> from course_utils.data import load_debiasing_predictions
    >>> predictions = load_debiasing_predictions()
    >>> list(predictions.columns)
    ['patient_id', 'split', 'method', 'value', 'seed', 'score', 'decision']
    >>> predictions["method"].unique().tolist()
    ['baseline', 'reweighing', 'adversarial', 'threshold']
    """
    content, _ = _verified_content(HEART_DEBIASING_PREDICTIONS_CSV)
    return pd.read_csv(io.BytesIO(content))


def load_chest_films_sweep() -> pd.DataFrame:
    """The course's run of notebook 04's sweep: five settings of its CNN, three seeds each, on its generated films.

    Built by ``data/raw/build_imaging_sweep.py`` on ``make_chest_films(n_patients=1500, image_size=32,
    random_state=0)``: the baseline CNN, the CNN re-weighted by sex and label, and adversarial CNNs (a head that
    predicts sex through a gradient reversal of weight 0.3, 1 or 3), each trained with seeds 0, 1 and 2 on the
    training films.  The films of the validation and test patients are listed; every other film is a training film.
    Checksums verified first.

    Returns
    -------
    pandas.DataFrame
        One row per setting, seed and film: ``film_id``, ``part`` (validation or test), ``method`` (baseline,
        reweighing or adversarial), ``value`` (NaN for the baseline, 1.0 for re-weighting, the adversary's
        weight), ``seed`` and ``score`` (the probability of pneumonia).

    Examples
    --------
    >>> sweep = load_chest_films_sweep()
    >>> list(sweep.columns)
    ['film_id', 'part', 'method', 'value', 'seed', 'score']
    >>> sweep.groupby(["method", "value"], dropna=False)["seed"].nunique().tolist()
    [3, 3, 3, 3, 3]
    """
    content, _ = _verified_content(CHEST_FILMS_SWEEP_CSV)
    return pd.read_csv(io.BytesIO(content))


def load_course_table(name: str) -> pd.DataFrame:
    """A table a notebook shows, as the course computed it on its own data (checksum verified first).

    The group audit tables, the sweep of notebook 02 and the monitoring year of notebook 03 are the course's own
    results on the shipped data, computed once (``data/raw/build_course_tables.py``) and shipped as Parquet files, so
    a notebook shows them without the code that made them: that code would answer exercises you write yourself.
    :data:`COURSE_TABLES` names every table and the section that shows it.

    Parameters
    ----------
    name : str
        One of :data:`COURSE_TABLES`, e.g. ``"heart_baseline_audit_by_sex"``.

    Returns
    -------
    pandas.DataFrame
        The audit tables (``..._audit_by_...``): one row per group (every category, and every combination of an
        intersection, even without patients), indexed by group, with ``n``; for each of ``base_rate``,
        ``selection_rate``, ``accuracy``, ``tpr``, ``fpr``, ``fnr``, ``ppv`` and (where scores were given) ``auc``
        the value and a 95 % bootstrap interval ``<metric>_ci_low`` / ``<metric>_ci_high`` (the patients resampled
        1,000 times, 500 in notebook 03); ``small_group`` (fewer than 30 patients) and ``undefined`` (why a rate is
        NaN, e.g. no patient with the condition).  ``heart_missing_indicators_by_site``: one row per site and one for
        all four, with ``n``, ``with_disease``, ``prevalence``, the AUC with and without missing-value indicators,
        their paired change with its interval, and the patients with disease each model missed.
        ``heart_crossfit_sweep``: one row per setting (``method``,
        ``value``, ``seed``) with ``auc``, ``accuracy``, ``fnr``, ``fnr_Female``, ``fnr_Male``, ``fnr_gap`` and
        intervals of the AUC and the gap.  ``readmission_deployment_by_month``: an audit table per month, indexed
        by (month, race), with each group's ``share`` of the month's patients (and its Wilson interval).

    Raises
    ------
    ValueError
        If ``name`` is not a course table (the message lists them).
    DataIntegrityError
        If the file is missing or has changed.

    Examples
    --------
    >>> from course_utils.data import load_course_table
    >>> table = load_course_table("heart_baseline_audit_by_sex")
    >>> table[["n", "fnr", "fnr_ci_low", "fnr_ci_high"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
              n    fnr  fnr_ci_low  fnr_ci_high
    sex
    Female  194  0.380       0.244        0.519
    Male    726  0.142       0.110        0.172
    """
    check.check_choice(name, "name", tuple(COURSE_TABLES))
    content, _ = _verified_content(f"{name}.parquet")
    return pd.read_parquet(io.BytesIO(content), engine="fastparquet")


def describe_heart_columns(binary_label: bool = True) -> pd.DataFrame:
    """One row per column of :func:`load_heart`: its name, dtype and meaning with unit.

    Parameters
    ----------
    binary_label : bool, default True
        Describe the columns returned with this ``binary_label`` (``disease`` or ``diagnosis`` last).

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``dtype`` and ``description``.

    Examples
    --------
    >>> from course_utils.data import describe_heart_columns
    >>> table = describe_heart_columns()
    >>> table.loc[table["column"] == "cholesterol", ["dtype", "description"]].iloc[0].tolist()
    ['float64', 'serum cholesterol, mg/dl (missing if not measured; see cholesterol_recorded_as_zero)']
    >>> table["column"].iloc[-1]
    'disease'
    """
    check.check_bool(binary_label, "binary_label")
    # The dtypes are known from the schema; the file is not read, so this works even if it is damaged.
    dtypes = {**{name: "category" for name in (*_CATEGORIES, "age_band")},
              **{name: "float64" for name in _FLOATS},
              **{name: "boolean" for name in _NULLABLE_BOOLEANS},
              **{name: "bool" for name in _FLAGS},
              "patient_id": "int64", "age": "int64", "diagnosis": "int64", "disease": "int64"}
    columns = _learner_columns(binary_label)
    return pd.DataFrame({
        "column": columns,
        "dtype": [dtypes[name] for name in columns],
        "description": [HEART_COLUMNS[name] for name in columns],
    })


def _learner_columns(binary_label):
    features = [name for name in TIDY_COLUMNS if name != "diagnosis"]
    features.insert(features.index("age") + 1, "age_band")
    return [*features, "disease" if binary_label else "diagnosis"]


def _read_tidy_csv(source):
    text_columns = {name: str for name in _CATEGORIES}
    frame = pd.read_csv(
        source,
        dtype={**text_columns, **{name: "boolean" for name in (*_NULLABLE_BOOLEANS, *_FLAGS)},
               **{name: "float64" for name in _FLOATS}},
    )
    if tuple(frame.columns) != TIDY_COLUMNS:
        raise DataIntegrityError(
            f"{heart_data_path()} does not have the course's columns {list(TIDY_COLUMNS)}. "
            + _RESTORE_HINT.format(name=HEART_CSV, builder="build_heart_data.py")
        )
    return _apply_schema(frame)


def _apply_schema(frame):
    """Give a tidy frame the documented dtypes; unknown category labels are an error, not NaN."""
    frame = frame.loc[:, list(TIDY_COLUMNS)].copy()
    for name, categories in _CATEGORIES.items():
        unknown = set(frame[name].dropna()) - set(categories)
        if unknown:
            raise ValueError(f"column {name!r} has values outside {list(categories)}: {sorted(unknown)}")
        frame[name] = frame[name].astype(pd.CategoricalDtype(list(categories), ordered=False))
    for name in _FLOATS:
        frame[name] = frame[name].astype("float64")
    for name in _NULLABLE_BOOLEANS:
        frame[name] = frame[name].astype("boolean")
    for name in _FLAGS:
        frame[name] = frame[name].astype("boolean").fillna(False).astype(bool)
    for name in ("patient_id", "age", "diagnosis"):
        frame[name] = frame[name].astype("int64")
    return frame.sort_values("patient_id", ignore_index=True)


def _learner_view(tidy, sites, binary_label, cholesterol_zero_as_missing):
    frame = tidy[tidy["site"].isin(sites)].reset_index(drop=True)
    if not cholesterol_zero_as_missing:
        # Put the recorded zeros back: the lesson shows what they do to a model.
        frame.loc[frame["cholesterol_recorded_as_zero"], "cholesterol"] = 0.0
    frame.insert(frame.columns.get_loc("age") + 1, "age_band", _age_band(frame["age"]))
    if binary_label:
        frame["disease"] = (frame.pop("diagnosis") > 0).astype("int64")
    else:
        frame["diagnosis"] = frame.pop("diagnosis")
    return frame


def _age_band(age):
    edges = [-np.inf, 40, 50, 60, 70, np.inf]
    return pd.cut(age, bins=edges, right=False, labels=list(AGE_BANDS), ordered=True)


def _check_sites(sites):
    """Return the canonical names of the requested sites, in the order given."""
    if sites is None:
        return list(SITES)
    if isinstance(sites, str):
        sites = [sites]
    elif isinstance(sites, (bytes, Mapping)) or not isinstance(sites, Iterable):
        raise TypeError(
            f"sites must be a site name or a list of site names; got {type(sites).__name__}."
        )
    by_key = {name.casefold(): name for name in SITES}
    chosen = []
    for site in sites:
        if not isinstance(site, str):
            raise TypeError(f"sites must contain site names (str); got {site!r} ({type(site).__name__}).")
        canonical = by_key.get(" ".join(site.split()).casefold())
        if canonical is None:
            raise ValueError(
                f"Unknown site {site!r}. Valid sites are {', '.join(map(repr, SITES))} (case does not matter)."
            )
        if canonical not in chosen:
            chosen.append(canonical)
    if not chosen:
        raise ValueError(f"sites is empty; give at least one of {', '.join(map(repr, SITES))}, or None for all.")
    return chosen
