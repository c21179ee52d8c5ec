"""`course export-grades`: a grades folder as Canvas's and Moodle's import files, and as a plain table.

Each test builds a real grades folder without running the grader: SubmissionResults of notebook 01 (its
question ids and points read from the solution notebook) go through ``gradebook.write_outputs``, which writes
``gradebook.csv`` and ``results.json`` as ``course grade`` does.  The files written are parsed back with the
csv module and checked cell by cell against the points worked out here from ``results.json`` itself.
"""

import codecs
import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor import gradebook, grading, lms_export

NOTEBOOK = "01"
QUESTIONS = grading.graded_cells(NOTEBOOK)
REFLECT = [q.grade_id for q in QUESTIONS if not q.auto]
COURSE = str(Path(sys.executable).parent / "course")
ASSIGNMENT = "Notebook 01 — Representation audit"
SECRET = "HIDDEN-CASE-7f3a"  # what hidden tests would say: it must reach no export

# The learners of the class: names with a comma and quotes, accents, CJK; every kind of outcome.
CLASS = {
    "José Núñez-García": grading.GRADED,
    'O\'Brien, "Pat"': grading.GRADED,
    "李雷": grading.TIMED_OUT,
    "Zoë Ångström": grading.MEMORY,
    "Ravi": grading.KERNEL_DIED,
    "Nobody": grading.MISSING,
    "Broken": grading.UNREADABLE,
    "Crash": grading.GRADER_ERROR,
}
SCORED = {grading.GRADED, grading.TIMED_OUT, grading.MEMORY, grading.RESOURCES, grading.KERNEL_DIED}

# Canvas rows for the class: Student (Canvas's sortable name), ID, SIS User ID, SIS Login ID, Section.
CANVAS = {
    "José Núñez-García": ["Núñez-García, José", "1001", "S-1", "jnunez", "Lab A"],
    'O\'Brien, "Pat"': ['O\'Brien, "Pat"', "1002", "S-2", "pobrien", "Lab A"],
    "李雷": ["李, 雷", "1003", "", "lli", "实验 B"],
    "Zoë Ångström": ["Ångström, Zoë", "1004", "S-4", "zangstrom", "Lab B"],
    "Ravi": ["Kumar, Ravi", "1005", "S-5", "rkumar", "Lab B"],
    "Nobody": ["Body, No", "1006", "S-6", "nbody", "Lab A"],
    "Broken": ["Broke, N", "1007", "S-7", "nbroke", "Lab A"],
    "Crash": ["Crash, C", "1008", "S-8", "ccrash", "Lab B"],
}
LATE = ["Late, Ann", "1009", "S-9", "alate", "Lab B"]  # in the course, handed nothing in
TEST_STUDENT = ["Student, Test", "1010", "", "", "Lab A"]  # Canvas's student view, in every Canvas export


def _results(seed=0, marked=()):
    rng = random.Random(seed)
    results = []
    for learner, status in CLASS.items():
        scores = {}
        for q in QUESTIONS:
            if status not in SCORED:
                scores[q.grade_id] = 0.0
            elif q.auto:
                scores[q.grade_id] = rng.choice([0.0, q.points / 2, q.points])
            elif q.grade_id in marked:
                scores[q.grade_id] = rng.choice([0.0, 1.0, q.points])
            else:
                scores[q.grade_id] = rng.choice([None, 0.0])  # written (to mark) or left blank
        results.append(grading.SubmissionResult(
            learner, NOTEBOOK, status, f"Grader said: {status}, see \"why\".\nSecond line.", scores=scores,
            feedback={q.grade_id: SECRET for q in QUESTIONS}, cases={QUESTIONS[0].grade_id: [[SECRET, False]]},
            max_points=sum(q.points for q in QUESTIONS if q.auto)))
    return results


def _folder(tmp_path, seed=0, marked=(), name="grades"):
    folder = tmp_path / name
    gradebook.write_outputs(_results(seed, marked), NOTEBOOK, folder, marked=set(marked), codes=None)
    return folder


def _expected(folder):
    """learner id -> points (None: no grade), and the maximum, worked out from results.json alone."""
    record = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    points = {}
    for result in record["results"]:
        total = sum(value for value in result["scores"].values() if value is not None)
        points[result["learner_id"]] = total if result["status"] in SCORED else None
    maximum = sum(q.points for q in QUESTIONS if q.auto or q.grade_id in record["marked"])
    return points, maximum


def _rows(path, encoding="utf-8"):
    with Path(path).open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def _write_csv(path, rows, delimiter=","):
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def _canvas_roster(tmp_path, learners=CLASS, late=True):
    rows = [["learner_id", "Student", "ID", "SIS User ID", "SIS Login ID", "Section"]]
    rows += [[learner, *CANVAS[learner]] for learner in learners]
    if late:
        rows += [["", *LATE], ["", *TEST_STUDENT]]
    return _write_csv(tmp_path / "roster.csv", rows)


def _agrees(cell, expected, none=""):
    """Whether a grade cell says ``expected`` points, or no grade (``none``) when ``expected`` is None."""
    return cell == none if expected is None else float(cell) == pytest.approx(expected)


# --- the layouts -----------------------------------------------------------------------------------

def test_csv_table_has_one_row_per_learner_with_the_points_from_results(tmp_path):
    folder = _folder(tmp_path, seed=1)
    points, maximum = _expected(folder)
    path = lms_export.export_grades(folder, "csv")
    assert path == folder / "grades-by-learner.csv"
    assert path.read_bytes().startswith(codecs.BOM_UTF8)  # for spreadsheets, like gradebook.csv
    header, *rows = _rows(path, "utf-8-sig")
    assert header == ["learner_id", "grade", "max", "status", "feedback"]
    assert [row[0] for row in rows] == list(CLASS)
    for learner_id, grade, row_max, status, feedback in rows:
        assert _agrees(grade, points[learner_id])
        assert float(row_max) == pytest.approx(maximum)
        assert status == CLASS[learner_id]
        assert f"Grader said: {status}" in feedback
    assert any(points[learner] and points[learner] > 0 for learner in points)  # the class is not all zeros


def test_canvas_file_is_canvas_gradebook_layout_with_points_possible(tmp_path):
    folder = _folder(tmp_path, seed=2)
    points, maximum = _expected(folder)
    notes = []
    path = lms_export.export_grades(folder, "canvas", roster=_canvas_roster(tmp_path), log=notes.append)
    assert path == folder / "canvas-import.csv"
    assert path.read_bytes().startswith(b"Student,ID,")  # UTF-8 as Canvas reads it, no byte-order mark
    header, possible, *rows = _rows(path)
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert possible[0].strip() == "Points Possible" and possible[1:5] == ["", "", "", ""]
    assert float(possible[5]) == pytest.approx(maximum)
    assert [row[:5] for row in rows] == [CANVAS[learner] for learner in CLASS] + [LATE, TEST_STUDENT]  # roster order
    for learner, row in zip(CLASS, rows):
        assert len(row) == 6 and _agrees(row[5], points[learner])
    assert rows[-2][5] == rows[-1][5] == ""  # roster learners who handed nothing in: no grade
    assert any("2 roster learner(s) handed nothing in" in note and "Late, Ann" in note for note in notes)
    ungraded = next(note for note in notes if "get no grade, for you to decide" in note)
    assert all(learner in ungraded for learner, status in CLASS.items() if status not in SCORED)
    assert any("Reflect item(s)" in note and all(item in note for item in REFLECT) for note in notes)


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize("with_learner_id", [True, False])
def test_a_canvas_gradebook_export_is_a_roster(tmp_path, delimiter, with_learner_id):
    """Canvas's own export as downloaded, hand-ins named by SIS login -- or with a learner_id column added."""
    hand_in = {learner: CANVAS[learner][3] for learner in CLASS}
    hand_in["Ravi"] = hand_in["Ravi"].upper()  # a login matches whatever its case
    results = _results(seed=3)
    for result in results:
        result.learner_id = hand_in[result.learner_id]
    folder = tmp_path / "grades"
    gradebook.write_outputs(results, NOTEBOOK, folder, marked=set(), codes=None)
    points, maximum = _expected(folder)
    totals = ["Current Score", "Unposted Current Score", "Final Score", "Unposted Final Score"]
    export = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Quiz 1 (5501)", *totals],
              ["", "", "", "", "", "Muted", "", "", "", ""],
              ["    Points Possible", "", "", "", "", "10.00", *["(read only)"] * 4]]
    export += [[*CANVAS[learner], "7.50", *["75.00"] * 4] for learner in CLASS] + [[*LATE, "", "", "", "", ""]]
    if with_learner_id:  # the instructor added a column: each student's learner id, blank for Ann Late
        export = [[*row, learner_id] for row, learner_id in zip(export, ["learner_id", "", "", *hand_in.values(), ""])]
    roster = _write_csv(tmp_path / "canvas-export.csv", export, delimiter)
    path = lms_export.export_grades(folder, "canvas", roster=roster, assignment="Notebook 01 (4567)")
    header, possible, *rows = _rows(path)
    assert header[-1] == "Notebook 01 (4567)" and float(possible[-1]) == pytest.approx(maximum)
    assert [row[:5] for row in rows] == [CANVAS[learner] for learner in CLASS] + [LATE]
    by_login = {CANVAS[learner][3]: learner for learner in CLASS}
    assert all(_agrees(row[5], points[hand_in[by_login[row[3]]]]) for row in rows[:-1])
    assert rows[-1][5] == ""


def test_moodle_file_has_identifier_grade_and_feedback(tmp_path):
    folder = _folder(tmp_path, seed=4)
    points, maximum = _expected(folder)
    roster = _write_csv(tmp_path / "roster.csv", [["learner_id", "username", "email"]] + [
        [learner, CANVAS[learner][3], f"{CANVAS[learner][3]}@example.org"] for learner in CLASS]
        + [["", "alate", "alate@example.org"]])
    notes = []
    path = lms_export.export_grades(folder, "moodle", roster=roster, log=notes.append)
    assert path == folder / "moodle-import.csv"
    assert not path.read_bytes().startswith(codecs.BOM_UTF8)
    header, *rows = _rows(path)
    assert header == ["Username", ASSIGNMENT, f"{ASSIGNMENT} (Feedback)"]
    assert [row[0] for row in rows] == [CANVAS[learner][3] for learner in CLASS] + ["alate"]
    for learner, (_, grade, feedback) in zip(CLASS, rows):
        assert _agrees(grade, points[learner], none="-")
        score = "No score." if points[learner] is None else f"{float(grade):g} of {maximum:g} points"
        assert feedback.startswith(score)
        assert f"Grader said: {CLASS[learner]}" in feedback
    assert rows[-1][1] == "-"
    assert any("map from 'Username' to 'username'" in note for note in notes)


def test_a_moodle_export_is_a_roster_and_the_identifier_every_row_has_is_chosen(tmp_path):
    """Moodle's own export heads its columns in words; ID number is empty for some, so email identifies."""
    results = _results(seed=5)
    emails = {learner: f"{CANVAS[learner][3]}@Example.org" for learner in CLASS}
    for result in results:
        result.learner_id = emails[result.learner_id].lower()  # hand-ins named by email; Moodle keeps the case
    folder = tmp_path / "grades"
    gradebook.write_outputs(results, NOTEBOOK, folder, marked=set(), codes=None)
    points, _ = _expected(folder)
    export = [["First name", "Last name", "ID number", "Institution", "Department", "Email address", "Quiz (Real)"]]
    export += [[learner, "X", "" if i % 2 else f"ID{i}", "", "", emails[learner], "5.00"]
               for i, learner in enumerate(CLASS)]
    path = lms_export.export_grades(folder, "moodle", roster=_write_csv(tmp_path / "moodle.csv", export))
    header, *rows = _rows(path)
    assert header[0] == "Email address"
    assert [row[0] for row in rows] == list(emails.values())  # as Moodle has them: case matters to its import
    assert all(_agrees(row[1], points[row[0].lower()], none="-") for row in rows)


def test_marked_reflect_items_count_in_the_maximum_as_in_the_gradebook(tmp_path):
    folder = _folder(tmp_path, seed=6, marked=REFLECT[:1])
    points, maximum = _expected(folder)
    with (folder / "gradebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        gradebook_max = {row["learner_id"]: float(row["max"]) for row in csv.DictReader(handle)}
    notes = []
    header, possible, *rows = _rows(lms_export.export_grades(folder, "canvas", roster=_canvas_roster(tmp_path),
                                                             log=notes.append))
    assert float(possible[5]) == pytest.approx(maximum) == pytest.approx(set(gradebook_max.values()).pop())
    reflect_note = next(note for note in notes if "Reflect item(s)" in note)
    assert REFLECT[1] in reflect_note and REFLECT[0] not in reflect_note

    everything = _folder(tmp_path, seed=6, marked=REFLECT, name="all-marked")
    notes = []
    lms_export.export_grades(everything, "csv", log=notes.append)
    assert not any("Reflect item(s)" in note for note in notes)
    assert _expected(everything)[1] == pytest.approx(sum(q.points for q in QUESTIONS))


def test_special_characters_survive_every_format_and_no_hidden_test_leaks(tmp_path):
    folder = _folder(tmp_path, seed=7)
    roster = _canvas_roster(tmp_path)
    moodle_roster = _write_csv(tmp_path / "moodle.csv", [["learner_id", "email"]] + [
        [learner, f"{CANVAS[learner][3]}+ü@example.org"] for learner in CLASS])
    paths = [lms_export.export_grades(folder, "canvas", roster=roster, assignment='Audit, "v2" — 审计'),
             lms_export.export_grades(folder, "moodle", roster=moodle_roster, assignment='Audit, "v2" — 审计'),
             lms_export.export_grades(folder, "csv")]
    canvas, moodle, table = _rows(paths[0]), _rows(paths[1]), _rows(paths[2], "utf-8-sig")
    assert canvas[0][-1] == moodle[0][1] == 'Audit, "v2" — 审计'
    assert [row[0] for row in canvas[2:2 + len(CLASS)]] == [CANVAS[learner][0] for learner in CLASS]
    assert canvas[4][4] == "实验 B"
    assert [row[0] for row in moodle[1:]] == [f"{CANVAS[learner][3]}+ü@example.org" for learner in CLASS]
    assert [row[0] for row in table[1:]] == list(CLASS)
    assert all('see "why".\nSecond line.' in row[-1] for row in moodle[1:] + table[1:])
    for path in paths:
        assert SECRET not in path.read_text(encoding="utf-8-sig")


# --- bad input: a clear error, and nothing written ------------------------------------------------

def _refused(folder, *args, match, **kwargs):
    out = folder.parent / "out" / "import.csv"
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(ValueError, match=match) as caught:
        lms_export.export_grades(folder, *args, out=out, **kwargs)
    assert not out.exists() and not out.parent.exists()
    assert sorted(p.name for p in folder.iterdir()) == before
    return str(caught.value)


def test_missing_roster_columns_are_named(tmp_path):
    folder = _folder(tmp_path)
    roster = _write_csv(tmp_path / "r.csv", [["learner_id", "Student", "ID"], ["José Núñez-García", "N, J", "1"]])
    message = _refused(folder, "canvas", roster=roster, match="has no column SIS Login ID, Section")
    assert "Canvas's gradebook export" in message and "learner_id, Student, ID" in message
    moodle = _write_csv(tmp_path / "m.csv", [["learner_id", "name"], ["José Núñez-García", "J"]])
    _refused(folder, "moodle", roster=moodle, match="no column username, idnumber or email")


def test_every_learner_missing_from_the_roster_is_listed(tmp_path):
    folder = _folder(tmp_path)
    kept = list(CLASS)[:3]
    message = _refused(folder, "canvas", roster=_canvas_roster(tmp_path, learners=kept),
                       match=f"{len(CLASS) - 3} learner\\(s\\) of the gradebook are not in the roster")
    assert all(repr(learner) in message for learner in list(CLASS)[3:])
    assert not any(repr(learner) in message for learner in kept)


def test_duplicate_ids_in_the_roster_are_refused(tmp_path):
    folder = _folder(tmp_path)
    rows = _rows(_canvas_roster(tmp_path))
    rows.append(["José Núñez-García", "Again, José", "2001", "", "jagain", "Lab A"])  # learner_id twice
    rows[2][2] = rows[1][2]                                                      # Canvas ID twice
    message = _refused(folder, "canvas", roster=_write_csv(tmp_path / "dup.csv", rows), match="Nothing was written")
    assert "learner_id 'José Núñez-García' again (first on line 2)" in message
    assert f"ID {rows[1][2]!r} again (first on line 2)" in message
    moodle = _write_csv(tmp_path / "m.csv", [["learner_id", "username"]]
                        + [[learner, "same" if i < 2 else learner] for i, learner in enumerate(CLASS)])
    _refused(folder, "moodle", roster=moodle, match="username 'same' again")


def test_a_roster_line_without_any_canvas_id_is_refused(tmp_path):
    folder = _folder(tmp_path)
    rows = _rows(_canvas_roster(tmp_path))
    rows[3][2:5] = ["", "", ""]
    _refused(folder, "canvas", roster=_write_csv(tmp_path / "noid.csv", rows),
             match="line 4: no ID, SIS User ID or SIS Login ID")


def test_a_learner_matching_two_roster_lines_is_refused(tmp_path):
    results = _results()[:2]
    results[0].learner_id = "pat"
    folder = tmp_path / "grades"
    gradebook.write_outputs(results, NOTEBOOK, folder, marked=set(), codes=None)
    export = [["Student", "ID", "SIS Login ID", "Section"], ["Pat, One", "1", "pat", "A"],
              ["Pat, Two", "2", "PAT", "A"], ["O'Brien, \"Pat\"", "3", "pobrien", "A"]]
    _refused(folder, "canvas", roster=_write_csv(tmp_path / "amb.csv", export),
             match="'pat' matches several roster lines \\(2, 3\\)")


def test_moodle_refuses_when_no_identifier_is_filled_for_everyone(tmp_path):
    folder = _folder(tmp_path)
    roster = _write_csv(tmp_path / "m.csv", [["learner_id", "idnumber", "email"]] + [
        [learner, "" if i == 0 else f"N{i}", "" if i == 1 else f"{i}@x.org"] for i, learner in enumerate(CLASS)])
    _refused(folder, "moodle", roster=roster,
             match="no user identifier is filled in for every learner \\(idnumber is empty on line\\(s\\) 2; "
                   "email is empty on line\\(s\\) 3\\)")


def test_other_bad_requests_are_refused_in_words(tmp_path):
    folder = _folder(tmp_path)
    _refused(folder, "canvas", match="needs a roster \\(--roster\\)")
    _refused(folder, "moodle", match="needs a roster \\(--roster\\)")
    _refused(folder, "blackboard", match="Unknown format 'blackboard': choose canvas, moodle or csv")
    _refused(folder, "canvas", roster=_canvas_roster(tmp_path), assignment="Final Score",
             match="takes for a read-only total")
    _refused(folder, "canvas", roster=tmp_path / "nope.csv", match="does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="has no results.json: give the folder `course grade` wrote"):
        lms_export.export_grades(empty, "csv")
    with pytest.raises(ValueError, match="one of the gradebook's own files"):
        lms_export.export_grades(folder, "csv", out=folder / "gradebook.csv")


def test_an_existing_file_is_kept_when_the_export_is_refused(tmp_path):
    folder = _folder(tmp_path)
    out = folder / "canvas-import.csv"
    out.write_text("the previous import\n", encoding="utf-8")
    with pytest.raises(ValueError):
        lms_export.export_grades(folder, "canvas", roster=_canvas_roster(tmp_path, learners=list(CLASS)[:1]))
    assert out.read_text(encoding="utf-8") == "the previous import\n"
    assert not [path for path in folder.iterdir() if path.name.endswith(".tmp")]


# --- the command -----------------------------------------------------------------------------------

@pytest.mark.slow  # two `course` processes: seconds each to import the instructor tools
def test_course_export_grades_end_to_end(tmp_path):
    folder = _folder(tmp_path, seed=8)
    points, maximum = _expected(folder)
    out = tmp_path / "to-canvas" / "notebook-01.csv"
    done = subprocess.run([COURSE, "export-grades", str(folder), "--format", "canvas", "--roster",
                           str(_canvas_roster(tmp_path)), "--out", str(out), "--assignment", "Notebook 01 (4567)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    assert "note: Canvas puts these grades in its assignment 4567" in done.stderr
    header, possible, *rows = _rows(out)
    assert header[-1] == "Notebook 01 (4567)" and float(possible[-1]) == pytest.approx(maximum)
    by_id = {CANVAS[learner][1]: learner for learner in CLASS}
    assert [row[1] for row in rows] == [*by_id, LATE[1], TEST_STUDENT[1]]
    assert all(_agrees(row[5], points[by_id[row[1]]]) for row in rows[:len(CLASS)])

    refused = subprocess.run([COURSE, "export-grades", str(folder), "--format", "moodle", "--roster",
                              str(_canvas_roster(tmp_path)), "--out", str(tmp_path / "m.csv")],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "course export-grades: The roster" in refused.stderr and "username, idnumber or email" in refused.stderr
    assert not (tmp_path / "m.csv").exists()
