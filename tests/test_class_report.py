"""`course report`: a graded class of notebook 02a, its report checked against pandas on the gradebook and results.

The class is graded for real (the judge, hidden cases, the checks' misconception rules); every number of the
report is then recomputed here from ``gradebook.csv`` and ``results.json`` with pandas, independently of
:mod:`course_utils.instructor.class_report`.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course_utils.instructor import class_report, gradebook, grading, sandbox

sys.path.insert(0, str(Path(__file__).parent))
from graded_class import HOSTILE_NAME, NOTEBOOK, auto_questions, write_class  # noqa: E402

# A class is graded (sandboxed kernels) and a page opened in Chromium: the full tier (`make test`), not `make check`.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
COURSE = [str(Path(sys.executable).parent / "course")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not sandbox.sandbox_status().available:
        pytest.fail(f"grading needs its sandbox: {sandbox.sandbox_status().reason}")
    root = tmp_path_factory.mktemp("class-report")
    folder = root / "hand-ins"
    write_class(folder)
    order = auto_questions()
    out = root / "grades"
    results = gradebook.grade_class(folder, NOTEBOOK, out, jobs=2, progress=False)
    page = class_report.write_report(out)
    return {"out": out, "results": {r.learner_id: r for r in results}, "page": page, "order": order}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig")


def _counted_gradebook(out: Path) -> pd.DataFrame:
    book = _read(out / "gradebook.csv")
    return book[book["status"].isin(class_report.COUNTED)].set_index("learner_id")


def test_the_class_was_graded_as_built(graded):
    results = graded["results"]
    assert results["Solution"].total == results["Solution"].max_points
    assert results["Nothing"].total == 0 and results["Broken"].status == "unreadable"
    assert 0 < results["PPV zero"].total < results["Solution"].total


def test_difficulty_and_discrimination_match_pandas_on_the_gradebook(graded):
    book = _counted_gradebook(graded["out"])
    points = {q.grade_id: q.points for q in grading.graded_cells(NOTEBOOK) if q.auto}
    scores = book[list(points)].astype(float)
    total = scores.sum(axis=1)
    report = _read(graded["out"] / "report-questions.csv").set_index("grade_id")
    assert list(report.index[report["kind"] == "auto"]) == list(points)
    for question, most in points.items():
        difficulty = scores[question].mean() / most
        assert report.loc[question, "difficulty"] == pytest.approx(difficulty, abs=1e-4)
        assert report.loc[question, "full_marks"] == pytest.approx((scores[question] == most).mean(), abs=1e-4)
        expected = scores[question].corr(total - scores[question])  # pandas' Pearson: NaN where undefined
        if math.isnan(expected):
            assert math.isnan(report.loc[question, "discrimination"]), question  # empty cell, not 0
        else:
            assert report.loc[question, "discrimination"] == pytest.approx(expected, abs=1e-4), question
    assert report["discrimination"].notna().sum() >= 3  # the class was built with spread


def test_discrimination_is_the_point_biserial_for_right_or_wrong_items():
    from scipy.stats import pointbiserialr

    generator = np.random.default_rng(7)
    item = generator.integers(0, 2, 40)
    rest = item * 3 + generator.normal(0, 2, 40)
    assert class_report.item_rest_correlation(item.tolist(), rest.tolist()) == pytest.approx(
        pointbiserialr(item, rest).statistic, abs=1e-12)
    assert class_report.item_rest_correlation([1, 1, 1, 1], [1, 2, 3, 4]) is None
    assert class_report.item_rest_correlation([0, 1], [1, 2]) is None


def test_the_cases_failed_most_often_match_the_per_case_results(graded):
    record = json.loads((graded["out"] / "results.json").read_text(encoding="utf-8"))
    rows = []
    for result in record["results"]:
        if result["status"] not in class_report.COUNTED:
            continue
        for question, cases in result["cases"].items():
            if result["statuses"].get(question) == "unanswered":
                continue
            rows += [{"grade_id": question, "case_id": case, "failed": not passed} for case, passed in cases]
    expected = pd.DataFrame(rows).groupby(["grade_id", "case_id"])["failed"].agg(["sum", "count"])
    report = _read(graded["out"] / "report-cases.csv").set_index(["grade_id", "case_id"])
    assert sorted(report.index) == sorted(expected.index)
    assert (report["failed"] == expected.loc[report.index, "sum"]).all()
    assert (report["answered"] == expected.loc[report.index, "count"]).all()
    names = record["case_names"]
    assert all(report.loc[(q, c), "name"] == names[q][c]["name"] for q, c in report.index)
    # the hidden cases that catch "0 where undefined" are among the PPV question's most failed
    ppv = report.loc["debias-ppv-function"].sort_values("failed", ascending=False)
    assert ppv["failed"].iloc[0] >= 2 and not ppv["public"].all()


def test_the_misconceptions_seen_are_the_checks_rules_and_counted_right(graded):
    results = graded["results"]
    assert "debias-ppv-function#m1" in results["PPV zero"].misconceptions["debias-ppv-function"]
    assert "debias-ppv-function#m3" in results["No prevalence, percent"].misconceptions["debias-ppv-function"]
    assert results["No prevalence, percent"].misconceptions["debias-high-sugar-va-share"] == [
        "debias-high-sugar-va-share#m3"]
    assert not any(results["Solution"].misconceptions.values())
    record = json.loads((graded["out"] / "results.json").read_text(encoding="utf-8"))
    seen = pd.DataFrame([{"grade_id": q, "misconception": m} for r in record["results"]
                         if r["status"] in class_report.COUNTED for q, ms in r["misconceptions"].items() for m in ms])
    expected = seen.groupby(["grade_id", "misconception"]).size()
    report = _read(graded["out"] / "report-misconceptions.csv").set_index(["grade_id", "misconception"])
    assert report["learners"].sort_index().to_dict() == expected.sort_index().to_dict()
    assert "0" in report.loc[("debias-ppv-function", "debias-ppv-function#m1"), "feedback"]  # the rule's own words


def test_the_learner_rows_show_who_needs_help(graded):
    rows = _read(graded["out"] / "report-learners.csv").set_index("learner_id")
    book = _counted_gradebook(graded["out"])
    assert set(rows.index) == set(book.index) and "Broken" not in rows.index
    assert rows.loc["Nothing", "needs_help"] and not rows.loc["Solution", "needs_help"]
    for learner, row in rows.iterrows():
        assert row["total"] == pytest.approx(float(book.loc[learner, "total"]))
        assert row["needs_help"] == (row["total"] < 0.5 * row["max"] or book.loc[learner, "status"] != "graded")
    assert list(rows["total"]) == sorted(rows["total"])  # lowest first
    assert set(rows.loc["Nothing", graded["order"]]) == {"–"} and set(rows.loc["Solution", graded["order"]]) == {"✓"}


def test_the_page_is_self_contained_and_escapes_learner_names(graded):
    text = graded["page"].read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "http://" not in text and "https://" not in text
    assert text.count('src="data:image/png;base64,') == 2
    assert HOSTILE_NAME not in text and "&lt;img src=x onerror=alert(1)&gt; Eve" in text
    assert "Broken" in text and "unreadable" in text  # listed apart, not lost


def test_reflect_marks_appear_once_merged(graded, tmp_path):
    import shutil

    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    item = next(q for q in grading.graded_cells(NOTEBOOK) if not q.auto)
    marks = tmp_path / "marks.csv"
    with marks.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_id", "grade_id", "points", "comment"])
        answered = [r.learner_id for r in graded["results"].values() if item.grade_id in r.answers]
        assert len(answered) >= 4
        for number, learner in enumerate(answered):
            writer.writerow([learner, item.grade_id, number % 3 * item.points / 2, ""])
    gradebook.merge_marks(out, [marks])
    class_report.write_report(out)
    before = _read(graded["out"] / "report-questions.csv").set_index("grade_id")
    assert item.grade_id not in before.index  # not a statistic until its marks are merged
    questions = _read(out / "report-questions.csv").set_index("grade_id")
    assert questions.loc[item.grade_id, "kind"] == "reflect"
    page = (out / "report.html").read_text(encoding="utf-8")
    marks_given = [number % 3 * item.points / 2 for number in range(len(answered))]
    assert f"<td class=num>{len(answered)}</td><td class=num>{sum(marks_given) / len(marks_given):.2f}</td>" in page
    book = _counted_gradebook(out)
    assert questions.loc[item.grade_id, "difficulty"] == pytest.approx(
        book[item.grade_id].fillna(0).astype(float).mean() / item.points, abs=1e-4)


def test_anonymised_report_shows_codes_and_keeps_them(graded, tmp_path):
    import shutil

    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    done = subprocess.run([*COURSE, "report", str(out), "--anonymise"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = (out / "report.html").read_text(encoding="utf-8") + (out / "report-learners.csv").read_text("utf-8-sig")
    assert "Solution" not in text and "PPV zero" not in text and "learner-" in text
    codes = json.loads((out / class_report.CODES_FILE).read_text(encoding="utf-8"))
    subprocess.run([*COURSE, "report", str(out), "--anonymise"], check=True, capture_output=True)
    assert json.loads((out / class_report.CODES_FILE).read_text(encoding="utf-8")) == codes


def test_course_report_on_a_folder_without_grades_says_what_to_give(tmp_path):
    done = subprocess.run([*COURSE, "report", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode != 0 and "results.json" in done.stderr and "course grade" in done.stderr


def test_the_report_page_in_chromium(graded):
    """The page as an instructor sees it, opened from disk: both figures drawn, no request leaves the page."""
    sys.path.insert(0, str(Path(__file__).parent))
    from lab_browser import chromium, screenshot

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(graded["page"].as_uri())
        widths = page.evaluate("Array.from(document.images).map(image => image.naturalWidth)")
        assert len(widths) == 2 and min(widths) > 200
        assert page.locator("h2", has_text="What to re-teach").count() == 1
        assert page.locator("tr.help").count() >= 3
        shot = screenshot(page, "class_report")
        print(f"screenshot: {shot}")
    assert all(url.startswith(("file:", "data:")) for url in requests)
    assert (ROOT / shot).stat().st_size > 20_000
