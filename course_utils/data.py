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
load_heart_from_uci      the same data downloaded from the UCI repository (online learners only)
load_heart_predictions   the course's baseline, out of fold (notebook 01)
load_heart_model_inputs  notebook 02's train / validation / test split with the baseline's encoded inputs
load_debiasing_predictions  every setting of notebook 02's sweep, predicted for the validation and test patients

Building blocks (used by ``data/raw/build_heart_data.py`` and the tests, so the decoding exists once):
``read_uci_processed`` and ``decode_uci_codes``, with the file's name ``HEART_CSV``, its columns
``TIDY_COLUMNS`` and the UCI files' columns, names and address (``UCI_COLUMNS``,
``UCI_PROCESSED_FILES``, ``UCI_BASE_URL``).  The category orders are ``SITES``, ``SEXES``,
``CHEST_PAIN``, ``RESTING_ECG``, ``ST_SLOPE``, ``THALASSEMIA`` and ``AGE_BANDS``.

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
    "HEART_COLUMNS",
    "HEART_CSV",
    "HEART_DEBIASING_PREDICTIONS_CSV",
    "HEART_MODEL_INPUTS_CSV",
    "HEART_PREDICTIONS_CSV",
    "RESTING_ECG",
    "SEXES",
    "SITES",
    "ST_SLOPE",
    "THALASSEMIA",
    "TIDY_COLUMNS",
    "UCI_BASE_URL",
    "UCI_COLUMNS",
    "UCI_PROCESSED_FILES",
    "DataDownloadError",
    "DataIntegrityError",
    "decode_uci_codes",
    "describe_heart_columns",
    "heart_data_path",
    "load_heart",
    "load_debiasing_predictions",
    "load_heart_from_uci",
    "load_heart_model_inputs",
    "load_heart_predictions",
    "read_uci_processed",
    "verify_heart_data",
]

HEART_CSV = "heart_disease_uci.csv"
#: The course's baseline, out of fold, on the heart data (built by data/raw/build_heart_predictions.py).
HEART_PREDICTIONS_CSV = "heart_baseline_predictions.csv"
#: Notebook 02's split and encoded model inputs, and its sweep's predictions (data/raw/build_debiasing_data.py).
HEART_MODEL_INPUTS_CSV = "heart_model_inputs.csv"
HEART_DEBIASING_PREDICTIONS_CSV = "heart_debiasing_predictions.csv"
_CHECKSUM_FILE = "SHA256SUMS"

# Category orders: the order learners see in tables and plots.  Only age bands have a meaningful order.
SITES = ("Cleveland", "Hungary", "Switzerland", "VA Long Beach")
SEXES = ("Female", "Male")
CHEST_PAIN = ("typical angina", "atypical angina", "non-anginal pain", "asymptomatic")
RESTING_ECG = ("normal", "ST-T wave abnormality", "left ventricular hypertrophy")
ST_SLOPE = ("upsloping", "flat", "downsloping")
THALASSEMIA = ("normal", "fixed defect", "reversible defect")
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
    "thalassemia": "thallium stress test result: normal, fixed defect or reversible defect",
    "diagnosis": "angiographic diagnosis 0-4: 0 = under 50 % narrowing of every major vessel, 1-4 = disease",
    "disease": "heart disease, 1 if diagnosis > 0 else 0: the usual prediction target (added by load_heart)",
}

# Column order of the shipped CSV; other modules and notebooks rely on these names.
TIDY_COLUMNS = (
    "patient_id", "site", "age", "sex", "chest_pain", "resting_bp", "resting_bp_recorded_as_zero",
    "cholesterol", "cholesterol_recorded_as_zero", "fasting_blood_sugar_high", "resting_ecg",
    "max_heart_rate", "exercise_angina", "st_depression", "st_slope", "major_vessels", "thalassemia",
    "diagnosis",
)
_CATEGORIES = {
    "site": SITES,
    "sex": SEXES,
    "chest_pain": CHEST_PAIN,
    "resting_ecg": RESTING_ECG,
    "st_slope": ST_SLOPE,
    "thalassemia": THALASSEMIA,
}
_FLOATS = ("resting_bp", "cholesterol", "max_heart_rate", "st_depression", "major_vessels")
_NULLABLE_BOOLEANS = ("fasting_blood_sugar_high", "exercise_angina")
_FLAGS = ("resting_bp_recorded_as_zero", "cholesterol_recorded_as_zero")

# The 14 attributes of the UCI "processed" files, in file order, with their numeric codes.
UCI_COLUMNS = (
    "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak", "slope",
    "ca", "thal", "num",
)
UCI_PROCESSED_FILES = {
    "Cleveland": "processed.cleveland.data",
    "Hungary": "processed.hungarian.data",
    "Switzerland": "processed.switzerland.data",
    "VA Long Beach": "processed.va.data",
}
UCI_BASE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease/"
_UCI_CODES = {
    "sex": {0: "Female", 1: "Male"},
    "cp": dict(zip((1, 2, 3, 4), CHEST_PAIN)),
    "restecg": dict(zip((0, 1, 2), RESTING_ECG)),
    "slope": dict(zip((1, 2, 3), ST_SLOPE)),
    "thal": dict(zip((3, 6, 7), THALASSEMIA)),
    "fbs": {0: False, 1: True},
    "exang": {0: False, 1: True},
}

_RESTORE_HINT = (
    "Restore it from the course repository with `git checkout -- data/{name}` (run in the course folder), "
    "or rebuild it with `python data/raw/build_heart_data.py`."
)


class DataIntegrityError(RuntimeError):
    """The shipped data file is missing or differs from the checksum the course was tested with."""


class DataDownloadError(ConnectionError):
    """The UCI repository could not be reached (offline, or the repository is down)."""


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
    expected = _expected_digest(path.parent / _CHECKSUM_FILE, path.name)
    if not path.is_file():
        raise DataIntegrityError(
            f"The course data file is missing: {path}. " + _RESTORE_HINT.format(name=name)
            + _data_dir_hint()
        )
    content = path.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        raise DataIntegrityError(
            f"The course data file {path} has been changed or damaged: its SHA-256 checksum is "
            f"{actual[:12]}..., but {_CHECKSUM_FILE} expects {expected[:12]}..., so your results would not "
            "match the course. " + _RESTORE_HINT.format(name=name)
        )
    return content, actual


def _expected_digest(manifest, filename):
    if not manifest.is_file():
        raise DataIntegrityError(
            f"The checksum list {manifest} is missing, so the course data cannot be checked. "
            + _RESTORE_HINT.format(name=_CHECKSUM_FILE) + _data_dir_hint()
        )
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.strip().partition(" ")
        # sha256sum writes "<digest>  <name>" (text mode) or "<digest> *<name>" (binary mode)
        if name.strip().lstrip("*") == filename:
            return digest.lower()
    raise DataIntegrityError(
        f"The checksum list {manifest} has no entry for {filename}, so the data cannot be checked. "
        + _RESTORE_HINT.format(name=_CHECKSUM_FILE)
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
    The model: numeric features median-imputed with missing-value indicators and standardised,
    categories most-frequent-imputed and one-hot encoded, logistic regression; every patient scored by a
    model fitted on the other four of five stratified folds (shuffled, ``random_state=0``).

    Returns
    -------
    pandas.DataFrame
        In the order of :func:`load_heart`: ``patient_id``, ``baseline_score`` (probability of disease)
        and ``balanced_score`` (the same folds, with each sex carrying equal total weight in training).

    Examples
    --------
    >>> from course_utils.data import load_heart_predictions
    >>> predictions = load_heart_predictions()
    >>> predictions.shape, list(predictions.columns)
    ((920, 3), ['patient_id', 'baseline_score', 'balanced_score'])
    """
    content, _ = _verified_content(HEART_PREDICTIONS_CSV)
    return pd.read_csv(io.BytesIO(content))


def load_heart_model_inputs() -> pd.DataFrame:
    """Notebook 02's patients: their split (train / validation / test) and the baseline's encoded inputs.

    A quarter of the 920 patients are held out as *test* patients, 230 of the others are *validation*
    patients and the remaining 460 *train* patients (each split stratified by disease x sex, ``random_state=0``).
    The inputs are notebook 01's baseline inputs: measurements median-imputed, with a 0/1 column saying where a
    value was missing, and standardised; categories most-frequent-imputed and one-hot encoded -- every median,
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
                                 + _RESTORE_HINT.format(name=HEART_MODEL_INPUTS_CSV))
    encoded["split"] = pd.Categorical(encoded["split"], categories=["train", "validation", "test"])
    return pd.concat([encoded[["patient_id", "split"]], heart.drop(columns="patient_id"),
                      encoded.drop(columns=["patient_id", "split"])], axis=1)


def load_debiasing_predictions() -> pd.DataFrame:
    """The course's run of notebook 02's sweep: every setting's predictions for the validation and test patients.

    Built by ``data/raw/build_debiasing_data.py`` with aif360 and fairlearn on :func:`load_heart_model_inputs`:
    the baseline (logistic regression on the train patients), re-weighing at several strengths, adversarial
    de-biasing at several adversary weights and seeds, and group thresholds at several tolerances (fitted on
    validation patients; their validation decisions are cross-fitted).  No step used a test patient's label.
    Checksums verified first.

    Returns
    -------
    pandas.DataFrame
        One row per setting, seed and patient: ``patient_id``, ``split`` (validation or test), ``method``,
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
            + _RESTORE_HINT.format(name=HEART_CSV)
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


# --------------------------------------------------------------------------- the original UCI files


def read_uci_processed(sources: Mapping) -> pd.DataFrame:
    """Read the four UCI ``processed.*.data`` files into one frame of UCI codes.

    Parameters
    ----------
    sources : mapping of site name to path, bytes or file object
        One entry per site in :data:`SITES`, each in the UCI format: 14 comma-separated numeric codes
        per line (``age, sex, cp, trestbps, chol, fbs, restecg, thalach, exang, oldpeak, slope, ca,
        thal, num``), ``?`` for missing.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id``, ``site`` and the 14 UCI attributes (floats, NaN missing).
        ``patient_id`` numbers the rows 1, 2, ... in the order Cleveland, Hungary, Switzerland,
        VA Long Beach: the numbering of the shipped data.

    Examples
    --------
    >>> from course_utils.data import read_uci_processed
    >>> line = b"63.0,1.0,1.0,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,0\\n"
    >>> empty = {"Hungary": b"", "Switzerland": b"", "VA Long Beach": b""}
    >>> read_uci_processed({"Cleveland": line, **empty})[["patient_id", "site", "age", "thal"]]
       patient_id       site   age  thal
    0           1  Cleveland  63.0   6.0
    """
    missing = [site for site in SITES if site not in sources]
    if missing:
        raise ValueError(f"sources has no file for {missing}; give one per site of {list(SITES)}.")
    frames = []
    for site in SITES:  # this order reproduces the patient numbering of the shipped data
        frame = _read_one_uci_file(sources[site], site)
        frame.insert(0, "site", site)
        frames.append(frame)
    coded = pd.concat(frames, ignore_index=True)
    coded.insert(0, "patient_id", np.arange(1, len(coded) + 1, dtype="int64"))
    return coded


def _read_one_uci_file(source, site):
    # Parsed by hand rather than with read_csv, which silently pads short lines with NaN.
    text = _read_text(source)
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    for number, fields in enumerate(rows, start=1):
        if len(fields) != len(UCI_COLUMNS):
            raise ValueError(f"the UCI file for {site}, line {number}: {len(fields)} fields, expected {len(UCI_COLUMNS)}.")
    try:
        values = [[np.nan if cell.strip() == "?" else float(cell) for cell in fields] for fields in rows]
    except ValueError as error:
        raise ValueError(f"the UCI file for {site} has a non-numeric value: {error}") from None
    return pd.DataFrame(np.array(values, dtype="float64").reshape(-1, len(UCI_COLUMNS)), columns=list(UCI_COLUMNS))


def _read_text(source):
    if isinstance(source, bytes):
        return source.decode("ascii")
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_text(encoding="ascii")
    content = source.read()
    return content.decode("ascii") if isinstance(content, bytes) else content


def decode_uci_codes(coded: pd.DataFrame) -> pd.DataFrame:
    """Turn a frame of UCI codes into the course's tidy schema (the columns of the shipped CSV).

    Zeros in ``trestbps`` and ``chol`` mean "not measured": they become NaN, and the flag columns
    ``resting_bp_recorded_as_zero`` and ``cholesterol_recorded_as_zero`` keep the fact visible.

    Parameters
    ----------
    coded : pandas.DataFrame
        Columns ``patient_id``, ``site`` and the 14 UCI attributes, as from :func:`read_uci_processed`.

    Returns
    -------
    pandas.DataFrame
        The tidy columns in their documented order and dtypes, sorted by ``patient_id``.

    Raises
    ------
    ValueError
        If a column holds a code the UCI documentation does not define.

    Examples
    --------
    >>> import pandas as pd
    >>> from course_utils.data import decode_uci_codes
    >>> coded = pd.DataFrame({"patient_id": [754], "site": ["VA Long Beach"], "age": [55], "sex": [1],
    ...     "cp": [3], "trestbps": [0], "chol": [0], "fbs": [0], "restecg": [0], "thalach": [155],
    ...     "exang": [0], "oldpeak": [1.5], "slope": [2], "ca": [None], "thal": [None], "num": [3]})
    >>> tidy = decode_uci_codes(coded)
    >>> tidy[["chest_pain", "resting_bp", "resting_bp_recorded_as_zero", "st_slope"]]
             chest_pain  resting_bp  resting_bp_recorded_as_zero st_slope
    0  non-anginal pain         NaN                         True     flat
    >>> tidy[["cholesterol", "cholesterol_recorded_as_zero", "major_vessels", "diagnosis"]]
       cholesterol  cholesterol_recorded_as_zero  major_vessels  diagnosis
    0          NaN                          True            NaN          3
    """
    absent = [name for name in ("patient_id", "site", *UCI_COLUMNS) if name not in coded.columns]
    if absent:
        raise ValueError(f"coded is missing the columns {absent}.")
    coded = coded.reset_index(drop=True)
    resting_bp, resting_bp_zero = _zero_as_missing(coded["trestbps"])
    cholesterol, cholesterol_zero = _zero_as_missing(coded["chol"])
    tidy = pd.DataFrame({
        "patient_id": coded["patient_id"],
        "site": coded["site"],
        "age": coded["age"],
        "sex": _decode(coded, "sex"),
        "chest_pain": _decode(coded, "cp"),
        "resting_bp": resting_bp,
        "resting_bp_recorded_as_zero": resting_bp_zero,
        "cholesterol": cholesterol,
        "cholesterol_recorded_as_zero": cholesterol_zero,
        "fasting_blood_sugar_high": _decode(coded, "fbs"),
        "resting_ecg": _decode(coded, "restecg"),
        "max_heart_rate": coded["thalach"],
        "exercise_angina": _decode(coded, "exang"),
        "st_depression": coded["oldpeak"],
        "st_slope": _decode(coded, "slope"),
        "major_vessels": _checked_range(coded["ca"], "ca", 0, 3),
        "thalassemia": _decode(coded, "thal"),
        "diagnosis": _checked_range(coded["num"], "num", 0, 4),
    })
    return _apply_schema(tidy)


def _decode(coded, column):
    codes = pd.to_numeric(coded[column])
    mapping = _UCI_CODES[column]
    unknown = set(codes.dropna()) - set(mapping)
    if unknown:
        raise ValueError(f"UCI column {column!r} has undefined codes {sorted(unknown)}; defined: {sorted(mapping)}.")
    values = [None if pd.isna(code) else mapping[int(code)] for code in codes]
    return pd.Series(values, dtype="boolean" if column in ("fbs", "exang") else object)


def _zero_as_missing(values):
    # 0 mm Hg or 0 mg/dl is not a measurement but the source's mark for "not measured".
    values = pd.to_numeric(values).astype("float64")
    recorded_zero = values.eq(0).fillna(False).astype(bool)
    return values.mask(recorded_zero), recorded_zero


def _checked_range(values, column, low, high):
    values = pd.to_numeric(values).astype("float64")
    present = values.dropna()
    outside = present[(present < low) | (present > high) | (present % 1 != 0)]
    if len(outside):
        raise ValueError(f"UCI column {column!r} has values outside the integers {low}-{high}: {sorted(set(outside))}.")
    return values


def load_heart_from_uci(sites: str | Iterable[str] | None = None, binary_label: bool = True,
                        cholesterol_zero_as_missing: bool = True, *, timeout: float = 30) -> pd.DataFrame:
    """Download the original UCI files and return them as :func:`load_heart` would (online only).

    For learners who are online and want to see the data come from its source.  The result should
    equal :func:`load_heart` (the shipped file was built the same way); the download is not checksummed
    by the course, so prefer :func:`load_heart` for graded work.

    Parameters
    ----------
    sites, binary_label, cholesterol_zero_as_missing
        As in :func:`load_heart`.
    timeout : float, default 30
        Seconds to wait for each of the four downloads.

    Returns
    -------
    pandas.DataFrame
        Same columns and dtypes as :func:`load_heart`.

    Raises
    ------
    DataDownloadError
        If the UCI repository cannot be reached; the message names ``load_heart()`` as the way on.

    Examples
    --------
    >>> from course_utils.data import load_heart_from_uci
    >>> heart = load_heart_from_uci()  # doctest: +SKIP
    >>> heart.shape  # doctest: +SKIP
    (920, 19)
    """
    wanted = _check_sites(sites)
    check.check_bool(binary_label, "binary_label")
    check.check_bool(cholesterol_zero_as_missing, "cholesterol_zero_as_missing")
    check.check_real(timeout, "timeout", low=0, low_open=True)
    # All four files are needed even for one site: patient_id numbers the rows across all of them.
    sources = {site: _download(UCI_BASE_URL + name, timeout) for site, name in UCI_PROCESSED_FILES.items()}
    tidy = decode_uci_codes(read_uci_processed(sources))
    return _learner_view(tidy, wanted, binary_label, cholesterol_zero_as_missing)


def _download(url, timeout):
    # Imported here: urllib.request pulls in the http and email packages, which most sessions never need.
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataDownloadError(
            f"Could not download {url} ({reason}): you seem to be offline, or the UCI repository is down. "
            "Use load_heart() instead: it reads the same data shipped with the course, checksummed."
        ) from error
