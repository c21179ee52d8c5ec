"""Build the tables the notebooks show: the course's own audits, sweep and monitoring year, as Parquet files.

The notebooks show the course's group audit tables (per-group rates with bootstrap intervals), the measured sweep of
notebook 02 and the monthly monitoring table of notebook 03.  The code that computes them answers exercises learners
write themselves, so it is not in the learner edition (``course_utils.instructor.course_tables``); what it computed
on the course's data is shipped instead, one file per table, and read with ``course_utils.data.load_course_table``:

``data/<name>.parquet`` for every name of ``course_utils.data.COURSE_TABLES``
    Each is the DataFrame its builder in ``course_tables.TABLES`` returns -- the notebook's cells, on the shipped
    data, with the function the notebook called before the function left the learner API -- written by fastparquet
    without compression, so floats, dtypes and the index read back exactly and a rebuild gives the same bytes.

Nothing here uses a learner's answer: the heart tables come from the shipped heart data and the course's shipped
predictions; the readmission tables from the synthetic cohort (seeds 0 and 1) and the model notebook 03 fits on it,
on one thread as the notebook runs.

Usage:
  python data/raw/build_course_tables.py           rebuild every table and update SHA256SUMS
  python data/raw/build_course_tables.py --check   only compare with the shipped files (exit 1 if one differs)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1]  # data/: this script lives in data/raw/
sys.path.insert(0, str(DATA_DIR.parent))  # so the script also runs from a clone where course_utils is not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling build scripts

from build_heart_predictions import write_or_check  # noqa: E402
from course_utils.data import COURSE_TABLES  # noqa: E402
from course_utils.instructor.course_tables import TABLES, build_tables, table_bytes  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the course's shipped tables (data/<name>.parquet).")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a shipped file differs")
    args = parser.parse_args(argv)
    if set(TABLES) != set(COURSE_TABLES):
        print(f"course_tables.TABLES and data.COURSE_TABLES name different tables: "
              f"{sorted(set(TABLES) ^ set(COURSE_TABLES))}", file=sys.stderr)
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # fairlearn's notes on pandas' future defaults say nothing here
        tables = build_tables()
    status = 0
    for name, table in tables.items():
        status |= write_or_check(DATA_DIR / f"{name}.parquet", table_bytes(table), args.check)
    return status

if __name__ == "__main__":
    sys.exit(main())
