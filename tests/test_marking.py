"""Marking the Reflect answers: `course grade` writes one page per Reflect question; an instructor marks the
answers in a browser (Chromium, offline, from disk), saves the marks as CSV, and `course marks merge` folds
them into gradebook.csv and the feedback files -- or refuses, with every reason, and writes nothing.

The class is notebook 00's; question ids and points are read from the solution notebooks, never written here.
"""

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils.exercises.questions import notebook_id_of
from course_utils.instructor import gradebook, grading, marking, release
from faulty_submissions import FULL, RELEASE, answered_release

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
COURSE = str(Path(sys.executable).parent / "course")
(ITEM,) = marking.reflect_items("00")  # notebook 00 has one Reflect item
INJECTION = ("Deployment <script>document.title = 'ran'</script> <img src=x onerror=\"document.title = 'ran'\"> "
             "[click me](javascript:document.title='ran')")
ANSWERS = {
    "Siân O'Connor": "**Data collection:** women are referred for angiography less often, so the model learns "
                     "from fewer of them.\n\n**Deployment:** a threshold chosen on mostly male patients misses "
                     "women's disease.",
    "José Núñez-García": "Training: too few women at the Swiss and VA sites.",
    "Mallory": INJECTION,
}


def _answered(text):
    notebook = answered_release()
    next(cell for cell in notebook.cells
         if cell.metadata.get("nbgrader", {}).get("grade_id") == ITEM.grade_id).source = text
    return notebook


def _grade(tmp_path, anonymise=False):
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    for learner, text in ANSWERS.items():
        nbformat.write(_answered(text), folder / f"{learner}.ipynb")
    shutil.copy(RELEASE, folder / "Bo.ipynb")  # left every answer as handed out
    (folder / "Nobody").mkdir()              # a learner who handed nothing in
    out = tmp_path / "grades"
    subprocess.run([COURSE, "grade", str(folder), "--notebook", "00", "--out", str(out), "--quiet",
                    *(["--anonymise"] if anonymise else [])], check=True, capture_output=True)
    return out


def _rows(out):
    with (out / "gradebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["learner_id"]: row for row in csv.DictReader(handle)}


def _marks_file(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(marking.CSV_COLUMNS)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("marking"))


# --- the pages -----------------------------------------------------------------------------------------------

def test_every_reflect_question_has_its_question_and_rubric():
    for path in release.solution_paths():
        items = marking.reflect_items(notebook_id_of(path))
        reflect = [cell for cell in grading.graded_cells(notebook_id_of(path)) if not cell.auto]
        assert [(item.grade_id, item.points) for item in items] == [(cell.grade_id, cell.points) for cell in reflect]
        for item in items:
            assert "Reflect" in item.question.splitlines()[0], item.grade_id
            assert marking.rubric(item.grade_id).startswith("| points |"), item.grade_id


def test_grading_writes_one_page_per_reflect_question(graded):
    pages = sorted((graded / marking.FOLDER).glob("*.html"))
    assert [page.stem for page in pages] == sorted(["index", ITEM.grade_id])
    page = (graded / marking.FOLDER / f"{ITEM.grade_id}.html").read_text(encoding="utf-8")
    assert "<script>document.title" not in page and "<img" not in page and "javascript:" not in page
    assert "&lt;script&gt;" in page  # shown as text
    # learners in a stable order (as the gradebook sorts them); the one who handed nothing in is not listed
    order = [page.index(f"<h2>{name}</h2>") for name in ("Bo", "José Núñez-García", "Mallory", "Siân O&#x27;Connor")]
    assert order == sorted(order) and "Nobody" not in page
    assert "No answer" in page[page.index("<h2>Bo</h2>"):page.index("<h2>José")]


def test_anonymised_pages_show_codes_and_merge_through_them(tmp_path):
    out = _grade(tmp_path, anonymise=True)
    page = (out / marking.FOLDER / f"{ITEM.grade_id}.html").read_text(encoding="utf-8")
    assert not any(name.split()[0] in page for name in ANSWERS)
    codes = gradebook.json.loads((out / gradebook.RECORD).read_text(encoding="utf-8"))["codes"]
    assert f'data-learner="{codes["Mallory"]}"' in page
    marks = _marks_file(tmp_path / "marks.csv", [[codes["Mallory"], ITEM.grade_id, "0.5", "Name two stages."]])
    subprocess.run([COURSE, "marks", "merge", str(out), str(marks)], check=True, capture_output=True)
    assert _rows(out)["Mallory"][ITEM.grade_id] == "0.5"


# --- merging ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("row, reason", [
    (["Siân O'Connor", ITEM.grade_id, str(ITEM.points + 1), ""], f"which is worth {ITEM.points:g}"),
    (["Siân O'Connor", ITEM.grade_id, "-1", ""], f"give 0 to {ITEM.points:g}"),
    (["Nemo", ITEM.grade_id, "1", ""], "no learner 'Nemo' in this gradebook"),
    (["Siân O'Connor", "orient-n-patients", "1", ""], "is not a Reflect question of notebook 00"),
    (["Siân O'Connor", ITEM.grade_id, "two", ""], "points 'two' is not a number"),
])
def test_a_mark_that_cannot_be_right_is_refused_and_nothing_is_written(graded, tmp_path, row, reason):
    before = {path: path.read_bytes() for path in graded.rglob("*") if path.is_file()}
    marks = _marks_file(tmp_path / "marks.csv", [["José Núñez-García", ITEM.grade_id, "1", "fine"], row])
    done = subprocess.run([COURSE, "marks", "merge", str(graded), str(marks)], capture_output=True, text=True)
    assert done.returncode == 2 and reason in done.stderr and "No marks were merged" in done.stderr, done.stderr
    assert {path: path.read_bytes() for path in graded.rglob("*") if path.is_file()} == before


def test_two_marks_for_one_answer_are_refused(graded, tmp_path):
    first = _marks_file(tmp_path / "a.csv", [["Mallory", ITEM.grade_id, "1", ""]])
    second = _marks_file(tmp_path / "b.csv", [["Mallory", ITEM.grade_id, "2", ""]])
    with pytest.raises(ValueError, match="a second mark for Mallory"):
        gradebook.merge_marks(graded, [first, second])


# --- end to end, in a browser ------------------------------------------------------------------------------

def test_marks_entered_in_the_browser_reach_the_gradebook_and_feedback(tmp_path):
    from lab_browser import chromium

    out = _grade(tmp_path)
    page_path = out / marking.FOLDER / f"{ITEM.grade_id}.html"
    comment = 'Two stages, each with its harm; "angiography", well chosen.\nKeep it up'
    downloads = []
    with chromium() as browser:
        context = browser.new_context(accept_downloads=True)
        requests = []
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        page.on("download", lambda download: downloads.append(download))
        page.goto(page_path.as_uri())
        title = page.title()
        learner = lambda name: page.locator(f'section.learner[data-learner="{name}"]')  # noqa: E731
        # the injected answer is text: nothing of it ran
        assert page.title() == title and "ran" not in title
        assert learner("Mallory").locator(".answer img, .answer script").count() == 0
        assert learner("Siân O'Connor").locator(".answer strong").first.inner_text() == "Data collection:"
        # a mark above the item's points is not saved
        learner("Siân O'Connor").locator("[name=points]").fill(str(ITEM.points + 1))
        page.click("#save")
        assert "Not saved" in page.locator("#status").inner_text() and not downloads
        learner("Siân O'Connor").locator("[name=points]").fill(f"{ITEM.points:g}")
        learner("Siân O'Connor").locator("[name=comment]").fill(comment)
        learner("José Núñez-García").locator("[name=points]").fill("1.5")
        # marks survive a reload (kept in the browser until saved)
        page.reload()
        assert learner("José Núñez-García").locator("[name=points]").input_value() == "1.5"
        with page.expect_download() as download:
            page.click("#save")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert "Saved 2 mark(s)" in page.locator("#status").inner_text()
        context.close()
    assert saved.name == f"marks-{ITEM.grade_id}.csv"
    assert all(url.startswith(("file:", "blob:", "data:")) for url in requests), requests  # offline

    done = subprocess.run([COURSE, "marks", "merge", str(out), str(saved)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"merged 2 mark(s) on {ITEM.grade_id}" in done.stdout
    rows = _rows(out)
    everything = FULL + ITEM.points
    assert (rows["Siân O'Connor"][ITEM.grade_id], rows["Siân O'Connor"]["total"]) == (f"{ITEM.points:g}", f"{everything:g}")
    assert (rows["José Núñez-García"][ITEM.grade_id], rows["José Núñez-García"]["total"]) == ("1.5", f"{FULL + 1.5:g}")
    assert rows["Mallory"][ITEM.grade_id] == "" and rows["Mallory"]["total"] == f"{FULL:g}"  # not marked yet
    assert rows["Bo"][ITEM.grade_id] == "0" and rows["Bo"]["total"] == "0"
    assert {row["max"] for row in rows.values()} == {f"{everything:g}"}
    feedback = (out / "feedback" / "Siân O'Connor.md").read_text(encoding="utf-8")
    assert f"**Score:** {everything:g} of {everything:g} points" in feedback
    assert f"**{ITEM.grade_id}** ({ITEM.points:g} / {ITEM.points:g}): Marked by your instructor: " \
           f"{' '.join(comment.split())}" in feedback
    mallory = (out / "feedback" / "Mallory.md").read_text(encoding="utf-8")
    assert f"**{ITEM.grade_id}** (– / {ITEM.points:g}): Written answer" in mallory
    # the page, written again, shows the marks merged so far
    assert 'value="1.5"' in page_path.read_text(encoding="utf-8")
