"""The original UCI Heart Disease files, read and decoded: instructor-only, never in the learner edition.

The shipped ``data/heart_disease_uci.csv`` is built from UCI codes by ``data/raw/build_heart_data.py``
with :func:`decode_uci_codes`, and :func:`load_heart_from_uci` rebuilds the same data from the four
original UCI files, so an instructor can check the shipped file against its source.  The decoder turns a
recorded 0 of blood pressure or cholesterol into NaN with a ``*_recorded_as_zero`` flag column: on any
input, that is what the code exercise ``audit-flag-zeros-function`` grades, so it lives here, outside the
learner edition.  Learners read the data with :func:`course_utils.data.load_heart`.

read_uci_processed   the four UCI ``processed.*.data`` files as one frame of UCI codes
decode_uci_codes     a frame of UCI codes -> the course's tidy schema (the columns of the shipped CSV)
load_heart_from_uci  the four files downloaded from the UCI repository, as ``load_heart`` returns the data
UCI_COLUMNS          the 14 attributes of the UCI files, in file order
UCI_PROCESSED_FILES  site -> the name of its UCI file; ``UCI_BASE_URL``: where the files are

Importing this module needs only pandas and numpy (urllib is imported when a file is downloaded).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from course_utils import _validation as check
from course_utils.data import (
    CHEST_PAIN,
    RESTING_ECG,
    SITES,
    ST_SLOPE,
    THALLIUM_SCAN,
    DataDownloadError,
    _apply_schema,
    _check_sites,
    _learner_view,
)

__all__ = [
    "UCI_BASE_URL",
    "UCI_COLUMNS",
    "UCI_PROCESSED_FILES",
    "decode_uci_codes",
    "load_heart_from_uci",
    "read_uci_processed",
]

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
    "thal": dict(zip((3, 6, 7), THALLIUM_SCAN)),
    "fbs": {0: False, 1: True},
    "exang": {0: False, 1: True},
}


def read_uci_processed(sources: Mapping) -> pd.DataFrame:
    """Read the four UCI ``processed.*.data`` files into one frame of UCI codes.

    Parameters
    ----------
    sources : mapping of site name to path, bytes or file object
        One entry per site in :data:`course_utils.data.SITES`, each in the UCI format: 14 comma-separated
        numeric codes per line (``age, sex, cp, trestbps, chol, fbs, restecg, thalach, exang, oldpeak,
        slope, ca, thal, num``), ``?`` for missing.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id``, ``site`` and the 14 UCI attributes (floats, NaN missing).
        ``patient_id`` numbers the rows 1, 2, ... in the order Cleveland, Hungary, Switzerland,
        VA Long Beach: the numbering of the shipped data.

    Raises
    ------
    ValueError
        If a site has no file, or a line does not hold 14 numeric codes.

    Examples
    --------
    >>> from course_utils.instructor.uci import read_uci_processed
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
        The tidy columns (:data:`course_utils.data.TIDY_COLUMNS`) in their documented order and dtypes,
        sorted by ``patient_id``.

    Raises
    ------
    ValueError
        If a column is missing or holds a code the UCI documentation does not define.

    Examples
    --------
    >>> import pandas as pd
    >>> from course_utils.instructor.uci import decode_uci_codes
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
    # 0 mm Hg or 0 mg/dl is not a measurement but the source's mark for "not measured": NaN, and a flag column.
    resting_bp, cholesterol = (pd.to_numeric(coded[name]).astype("float64") for name in ("trestbps", "chol"))
    resting_bp_zero, cholesterol_zero = (values.eq(0).fillna(False).astype(bool) for values in (resting_bp, cholesterol))
    resting_bp, cholesterol = resting_bp.mask(resting_bp_zero), cholesterol.mask(cholesterol_zero)
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
        "thallium_scan": _decode(coded, "thal"),
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


def _checked_range(values, column, low, high):
    values = pd.to_numeric(values).astype("float64")
    present = values.dropna()
    outside = present[(present < low) | (present > high) | (present % 1 != 0)]
    if len(outside):
        raise ValueError(f"UCI column {column!r} has values outside the integers {low}-{high}: {sorted(set(outside))}.")
    return values


def load_heart_from_uci(sites: str | Iterable[str] | None = None, binary_label: bool = True,
                        cholesterol_zero_as_missing: bool = True, *, timeout: float = 30) -> pd.DataFrame:
    """Download the original UCI files and return them as :func:`course_utils.data.load_heart` would (online only).

    An instructor's check of the shipped data against its source (``python data/raw/build_heart_data.py
    --source uci`` rebuilds the shipped file from the same download).  The result should equal
    :func:`course_utils.data.load_heart` (the shipped file was built the same way); the download is not
    checksummed by the course.

    Parameters
    ----------
    sites, binary_label, cholesterol_zero_as_missing
        As in :func:`course_utils.data.load_heart`.
    timeout : float, default 30
        Seconds to wait for each of the four downloads.

    Returns
    -------
    pandas.DataFrame
        Same columns and dtypes as :func:`course_utils.data.load_heart`.

    Raises
    ------
    course_utils.data.DataDownloadError
        If the UCI repository cannot be reached; the message names ``load_heart()`` as the way on.

    Examples
    --------
    >>> from course_utils.instructor.uci import load_heart_from_uci
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
