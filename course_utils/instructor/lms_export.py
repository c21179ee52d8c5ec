"""Grades in the import layouts of Canvas and Moodle: ``course export-grades``.

After ``course grade`` (and ``course marks merge``), ``course export-grades grades/01 --format canvas
--roster roster.csv`` calls :func:`export_grades`, which reads the folder's ``results.json`` and writes one
CSV file that the platform's own gradebook import reads.  Each learner's grade is the notebook's points so
far (:attr:`~course_utils.instructor.grading.SubmissionResult.total`), out of the gradebook's ``max``.

Layouts
-------
``canvas``
    Canvas's Gradebook CSV import: the columns its importer reads are those of its own gradebook export
    (``lib/gradebook_importer.rb`` and ``lib/gradebook_exporter.rb`` in instructure/canvas-lms, read December
    2026; the required columns as Ohio State's Canvas guide "Import CSV File for Carmen Grades" lists them)::

        Student,ID,SIS User ID,SIS Login ID,Section,<assignment>
            Points Possible,,,,,<max>
        <name>,<Canvas ID>,<SIS User ID>,<SIS Login ID>,<section>,<grade>

    ``<assignment>`` is ``--assignment`` or :func:`default_assignment` ("Notebook 01 — Representation
    audit"); Canvas creates that assignment (with the points of the "Points Possible" row) unless one has
    that exact name.  To fill an existing assignment, end the name with its Canvas id in parentheses, as
    Canvas's export writes it: ``--assignment "Notebook 01 (4567)"``.  Canvas imports no comments.
``moodle``
    Moodle's "Import grades from CSV file" (docs.moodle.org, Grade import): one column that identifies the
    user, which the import page maps to a user field, then the grade and its feedback::

        Username,<assignment>,<assignment> (Feedback)
        jnunez,18.5,"18.5 of 26 points (auto-graded; your written answers are not marked yet). ..."

    The identifier is the first of the roster's ``username``, ``idnumber``, ``email`` that every learner in
    the file has (headed "Username", "ID number", "Email address", as Moodle's own export heads them); no
    grade is written ``-``, as Moodle's export writes it and its import reads it.  The feedback is what the
    learner's feedback file says of the whole notebook: score, status, message -- never a hidden test.
``csv``
    A plain table, one row per learner: ``learner_id,grade,max,status,feedback``.

Canvas and Moodle files are UTF-8 without a byte-order mark (both platforms read UTF-8; Moodle's import page
defaults to it); the ``csv`` table has one, like ``gradebook.csv``, so spreadsheets show accents.  Names with
commas, quotes, accents or any script are quoted by the :mod:`csv` module as RFC 4180 says.

Grades
------
A learner whose notebook ran gets the points it earned -- all of them (``graded``) or those of the questions
before it stopped (``timeout``, ``memory``, ``resources``, ``kernel-died``).  A learner the grader could not
score (``missing``, ``unreadable``, ``wrong-notebook``, ``grader-error``) gets no grade, never a silent 0: the
instructor decides, and the notes list them.  Reflect answers not yet marked count nothing, as in the
gradebook's ``max``; a note says so.

Roster
------
Canvas and Moodle find learners by their own ids, which hand-in file names do not carry, so these two
formats need ``--roster``: a CSV file (UTF-8, comma or semicolon) with

* ``learner_id`` -- the learner id of the gradebook (the hand-in's file or folder name, as written); and
* for Canvas: ``Student``, ``ID``, ``SIS Login ID`` and ``Section``, and ``SIS User ID`` where your Canvas
  export has it -- the columns of Canvas's own gradebook export (Grades, Export), so start from that file;
  each row needs an ``ID``, ``SIS User ID`` or ``SIS Login ID``;
* for Moodle: ``username``, ``idnumber`` or ``email`` (or "Username", "ID number", "Email address").

A platform's export works as the roster as it is: other columns, Canvas's "Points Possible" row and its
"Muted" row are ignored.  Without a ``learner_id`` column, each learner is the row whose id -- Canvas:
``SIS Login ID``, ``SIS User ID``, ``ID`` or ``Student``; Moodle: ``username``, ``email`` or ``idnumber``,
case ignored -- equals their learner id.  A learner of the gradebook missing from the roster, a learner
matching two rows, a learner id or platform id given twice, a row without the id the platform needs: each is
an error, all are listed at once, and nothing is written.  A roster learner without a hand-in (or with a blank
``learner_id``) gets a row with no grade, and the notes name them: Canvas's import changes nothing for an empty
cell where it has no grade yet, and shows any grade an empty cell would remove on its confirmation page.

Examples
--------
>>> default_assignment("01")
'Notebook 01 — Representation audit'
>>> grade_of(grading.SubmissionResult("Ana", "00", grading.TIMED_OUT, "", scores={"a": 1.0, "b": None}))
1.0
>>> grade_of(grading.SubmissionResult("Bo", "00", grading.MISSING, "", scores={"a": 0.0})) is None
True
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from course_utils.handin import learner_name
from course_utils.instructor import gradebook, grading, release

FORMATS = ("canvas", "moodle", "csv")
DEFAULT_FILES = {"canvas": "canvas-import.csv", "moodle": "moodle-import.csv", "csv": "grades-by-learner.csv"}

# Canvas: the student columns of its gradebook export, in its order, and the row that gives points possible.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_ROSTER_COLUMNS = ["Student", "ID", "SIS Login ID", "Section"]  # SIS User ID only where SIS ids are visible
CANVAS_KEYS = ["SIS Login ID", "SIS User ID", "ID", "Student"]        # how a learner id is looked for, in order
CANVAS_POINTS_POSSIBLE = "    Points Possible"                         # as Canvas's exporter writes it
# Canvas's importer drops a column whose header contains one of these (its read-only totals).
CANVAS_NON_ASSIGNMENT = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                         "Final Grade", "Override Score", "Override Grade", "Override Status")

# Moodle: the user fields its import maps a column to, in the order one is chosen, with its export's headers.
MOODLE_IDENTIFIERS = {"username": "Username", "idnumber": "ID number", "email": "Email address"}
MOODLE_NO_GRADE = "-"  # Moodle's export writes it for no grade; its import reads "-" and "" as none

CSV_COLUMNS = ["learner_id", "grade", "max", "status", "feedback"]

# The notebook ran, to the end or to a limit: the questions it reached are scored, the rest score 0.
SCORED = grading.RAN
_STOPPED = {
    grading.TIMED_OUT: "Your notebook ran past its time limit; the questions before that point are scored.",
    grading.MEMORY: "Your notebook used more memory than allowed; the questions before that point are scored.",
    grading.RESOURCES: "Your notebook reached a limit on processes, folder size or processor time; the questions "
                       "before that point are scored.",
    grading.KERNEL_DIED: "Python stopped while your notebook ran; the questions before that point are scored.",
}


@dataclass(frozen=True)
class LearnerGrade:
    """One learner's line in an export: ``grade`` is None when there is none to give."""

    learner_id: str
    grade: float | None
    status: str
    feedback: str


@dataclass(frozen=True)
class Grades:
    """What a grades folder says, ready to export: the maximum points and every learner's grade."""

    notebook: str
    points: float               # the gradebook's ``max``: auto-graded points plus marked Reflect items
    unmarked: tuple             # the Reflect items (GradedCell) whose marks are not in yet
    learners: tuple             # LearnerGrade, in the gradebook's order


# --- reading the grades folder ---------------------------------------------------------------------

def default_assignment(notebook: str) -> str:
    """The assignment's name when none is given: the notebook's number and file name in words."""
    stem = release.solution_path(notebook).stem  # e.g. 01_representation_audit
    number, _, words = stem.partition("_")
    return f"Notebook {number} — {words.replace('_', ' ').capitalize()}"


def grade_of(result: grading.SubmissionResult) -> float | None:
    """The points a learner gets, or None when the grader could not score the hand-in (see module docstring)."""
    return result.total if result.status in SCORED else None


def read_grades(grades_folder) -> Grades:
    """The grades in ``grades_folder`` (a folder ``course grade`` wrote), from its ``results.json``."""
    folder = Path(grades_folder)
    record_path = folder / gradebook.RECORD
    record = gradebook.read_record(folder)
    try:
        notebook, marked = record["notebook"], set(record.get("marked") or ())
        results = [_result(fields) for fields in record["results"]]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{record_path} is not a results file `course grade` wrote ({error}); grade again.") from error
    questions = grading.graded_cells(notebook)
    # One definition of the maximum, the gradebook's: auto-graded points plus those of the marked Reflect items.
    blank = grading.SubmissionResult("", notebook, grading.MISSING, "",
                                     max_points=sum(q.points for q in questions if q.auto))
    maxima = {gradebook.max_points_of(result, questions, marked) for result in results or [blank]}
    if len(maxima) > 1:
        raise ValueError(f"{record_path} gives learners different maximum points ({sorted(maxima)}); grade again.")
    (points,) = maxima
    unmarked = tuple(q for q in questions if not q.auto and q.grade_id not in marked)
    seen, twice = set(), set()
    for result in results:
        (twice if result.learner_id in seen else seen).add(result.learner_id)
    if twice:
        raise ValueError(f"{record_path} lists these learners twice: {_names(twice)}; grade again.")
    learners = tuple(LearnerGrade(result.learner_id, grade_of(result), result.status,
                                  feedback_text(result, points, bool(unmarked))) for result in results)
    return Grades(notebook, points, unmarked, learners)


def _result(fields: dict) -> grading.SubmissionResult:
    # results.json may come from another version of the grader: keep the fields this one knows.
    known = {field.name for field in dataclasses.fields(grading.SubmissionResult)}
    return grading.SubmissionResult(**{name: value for name, value in fields.items() if name in known})


def feedback_text(result: grading.SubmissionResult, points: float, unmarked: bool) -> str:
    """What a learner is told with their grade: score, status and the grader's message (as in their feedback file)."""
    grade = grade_of(result)
    if grade is None:
        parts = ["No score.", gradebook.status_feedback(result.status)]  # the feedback file's own words
    else:
        pending = " (auto-graded; your written answers are not marked yet)" if unmarked else ""
        parts = [f"{_number(grade)} of {_number(points)} points{pending}.", _STOPPED.get(result.status, "")]
    parts.append(result.message)
    return " ".join(part.strip() for part in parts if part and part.strip())


def _number(value: float) -> str:
    return f"{value:g}"


# --- the roster ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RosterRow:
    """One roster line: the course's learner id (or "" when the roster has none) and the platform's columns."""

    learner_id: str
    fields: dict
    line: int


def read_roster(path, format: str) -> tuple[list[RosterRow], bool]:
    """The rows of the roster at ``path`` for ``format``, and whether it has a ``learner_id`` column.

    Raises :class:`ValueError` naming the columns that are missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"The roster {path} does not exist or is not a file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"The roster {path} is not UTF-8 text ({error}); save it as CSV UTF-8.") from error
    first = text.split("\n", 1)[0]
    # A platform's export may use semicolons (Canvas does in locales with a decimal comma).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",")
    header = [cell.strip() for cell in next(reader, [])]
    columns = {_column_name(name, format): index for index, name in reversed(list(enumerate(header)))}
    required = {"canvas": CANVAS_ROSTER_COLUMNS, "moodle": [], "csv": ["learner_id"]}[format]
    missing = [name for name in required if name not in columns]
    if format == "moodle" and not set(MOODLE_IDENTIFIERS) & set(columns):
        missing.append("username, idnumber or email")
    if missing:
        expected = {"canvas": "learner_id (optional), Student, ID, SIS User ID (optional), SIS Login ID and Section, "
                              "the columns of Canvas's gradebook export",
                    "moodle": "learner_id (optional) and username, idnumber or email",
                    "csv": "learner_id"}[format]
        raise ValueError(f"The roster {path} has no column {', '.join(missing)}; a {format} roster needs "
                         f"{expected}. Its columns are: {', '.join(header) or 'none'}.")
    rows = []
    for cells in reader:
        if _not_a_learner(cells):
            continue
        fields = {name: (cells[index].strip() if index < len(cells) else "") for name, index in columns.items()}
        rows.append(RosterRow(learner_name(fields.get("learner_id", "")), fields, reader.line_num))
    return rows, "learner_id" in columns


def _column_name(name: str, format: str) -> str:
    if format == "moodle":  # Moodle's export heads these columns in words; accept both spellings
        folded = name.casefold()
        aliases = {"username": "username", "idnumber": "idnumber", "id number": "idnumber", "email": "email",
                   "email address": "email", "learner_id": "learner_id"}
        return aliases.get(folded, name)
    return name


def _not_a_learner(cells: list) -> bool:
    """Blank lines and the rows of a Canvas export that describe the assignments, not a student."""
    if not any(cell.strip() for cell in cells):
        return True
    if "Points Possible" in cells[0]:
        return True
    return all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", cell, re.I) for cell in cells)


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def match_roster(learner_ids, rows: list[RosterRow], has_learner_id: bool, keys: list[str]) -> tuple[dict, list]:
    """learner id -> roster row for every learner in ``learner_ids``, and in words every reason one cannot be.

    With a ``learner_id`` column the roster says who is who; without one, a learner is the row whose value in
    one of ``keys`` equals their learner id, case ignored.
    """
    problems, matched = [], {}
    if has_learner_id:
        by_id = {}
        for row in rows:
            if not row.learner_id:
                continue  # a roster learner not tied to a hand-in: exported without a grade
            if row.learner_id in by_id:
                problems.append(f"line {row.line}: learner_id {row.learner_id!r} again (first on line "
                                f"{by_id[row.learner_id].line}).")
            else:
                by_id[row.learner_id] = row
        candidates = {learner: [by_id[learner]] if learner in by_id else [] for learner in learner_ids}
    else:
        index: dict[str, list[RosterRow]] = {}
        for row in rows:
            for key in {_key(row.fields[name]) for name in keys if row.fields.get(name)}:
                index.setdefault(key, []).append(row)
        candidates = {learner: index.get(_key(learner), []) for learner in learner_ids}
    absent = [learner for learner, found in candidates.items() if not found]
    if absent:
        problems.append(f"{len(absent)} learner(s) of the gradebook are not in the roster: {_names(absent)}.")
    for learner, found in candidates.items():
        if len(found) > 1:
            problems.append(f"learner {learner!r} matches several roster lines "
                            f"({', '.join(str(row.line) for row in found)}); add a learner_id column.")
        elif found:
            matched[learner] = found[0]
    taken: dict[int, str] = {}
    for learner, row in matched.items():
        if row.line in taken:
            problems.append(f"line {row.line} is matched by both {taken[row.line]!r} and {learner!r}; "
                            "add a learner_id column.")
        taken.setdefault(row.line, learner)
    return matched, problems


def _duplicates(rows: list[RosterRow], column: str) -> list[str]:
    first, problems = {}, []
    for row in rows:
        value = row.fields.get(column, "")
        if value and value in first:
            problems.append(f"line {row.line}: {column} {value!r} again (first on line {first[value]}).")
        first.setdefault(value, row.line)
    return problems


def _names(learners) -> str:
    return ", ".join(repr(learner) for learner in sorted(learners, key=str.casefold))


# --- the layouts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One learner of the file: their roster row (None without a roster), their grade, and whether they handed in."""

    row: RosterRow | None
    learner: LearnerGrade
    handed_in: bool


def _lines(grades: Grades, rows: list[RosterRow] | None, matched: dict) -> list[Line]:
    """The file's learners: without a roster, the gradebook's; with one, the roster's, in its order."""
    if rows is None:
        return [Line(None, learner, True) for learner in grades.learners]
    by_line = {row.line: learner_id for learner_id, row in matched.items()}
    by_id = {learner.learner_id: learner for learner in grades.learners}
    lines = []
    for row in rows:
        if row.line in by_line:
            lines.append(Line(row, by_id[by_line[row.line]], True))
        else:
            absent = LearnerGrade(_roster_name(row), None, grading.MISSING,
                                  "No score. " + gradebook.status_feedback(grading.MISSING))
            lines.append(Line(row, absent, False))
    return lines


def _roster_name(row: RosterRow) -> str:
    """How a roster learner without a hand-in is named in notes and in the ``csv`` table."""
    names = [row.learner_id, row.fields.get("Student", ""), *(row.fields.get(name, "") for name in MOODLE_IDENTIFIERS)]
    return next((name for name in names if name), f"roster line {row.line}")


def canvas_table(grades: Grades, lines: list[Line], assignment: str) -> list[list[str]]:
    """Canvas's gradebook import: the header, the "Points Possible" row, one row per student."""
    table = [[*CANVAS_COLUMNS, assignment],
             [CANVAS_POINTS_POSSIBLE, *[""] * (len(CANVAS_COLUMNS) - 1), _number(grades.points)]]
    for line in lines:
        fields = line.row.fields
        table.append([fields.get("Student") or line.learner.learner_id,
                      *(fields.get(name, "") for name in CANVAS_COLUMNS[1:]), _grade_cell(line.learner, "")])
    return table


def moodle_table(lines: list[Line], identifier: str, assignment: str) -> list[list[str]]:
    """Moodle's CSV grade import: the user's identifier, the grade, its feedback."""
    table = [[MOODLE_IDENTIFIERS[identifier], assignment, f"{assignment} (Feedback)"]]
    for line in lines:
        table.append([line.row.fields[identifier], _grade_cell(line.learner, MOODLE_NO_GRADE), line.learner.feedback])
    return table


def csv_table(grades: Grades, lines: list[Line]) -> list[list[str]]:
    """The platform-neutral table: ``learner_id,grade,max,status,feedback``."""
    table = [list(CSV_COLUMNS)]
    for line in lines:
        learner = line.learner
        table.append([learner.learner_id, _grade_cell(learner, ""), _number(grades.points), learner.status,
                      learner.feedback])
    return table


def _grade_cell(learner: LearnerGrade, none: str) -> str:
    return none if learner.grade is None else _number(learner.grade)


def _canvas_problems(rows: list[RosterRow], lines: list[Line], assignment: str) -> list[str]:
    problems = [problem for name in CANVAS_COLUMNS[1:4] for problem in _duplicates(rows, name)]  # the ids
    problems += [f"the assignment name {assignment!r} contains {name!r}, which Canvas's import takes for a "
                 "read-only total and ignores; choose another name (--assignment)."
                 for name in CANVAS_NON_ASSIGNMENT if name in assignment]
    problems += [f"line {line.row.line}: no ID, SIS User ID or SIS Login ID; Canvas finds a student by one of them."
                 for line in lines if not any(line.row.fields.get(name) for name in CANVAS_COLUMNS[1:4])]
    return problems


def _moodle_identifier(rows: list[RosterRow], lines: list[Line]) -> tuple[str | None, list[str]]:
    """The first of username, idnumber, email that every learner of the file has, or why there is none."""
    present = [name for name in MOODLE_IDENTIFIERS if rows and name in rows[0].fields]
    for name in present:
        if all(line.row.fields.get(name) for line in lines):
            return name, _duplicates(rows, name)
    gaps = "; ".join(f"{name} is empty on line(s) "
                     + ", ".join(str(line.row.line) for line in lines if not line.row.fields.get(name))
                     for name in present)
    return None, [f"no user identifier is filled in for every learner ({gaps}); Moodle finds a user by one of them."]


# --- exporting -------------------------------------------------------------------------------------

def export_grades(grades_folder, format: str, roster=None, out=None, assignment: str | None = None,
                  log=None) -> Path:
    """Write the grades in ``grades_folder`` as an import file for ``format``; return its path.

    Parameters
    ----------
    grades_folder : path
        The folder ``course grade`` wrote (its ``results.json`` is read), e.g. ``grades/01``.
    format : {"canvas", "moodle", "csv"}
        The layout (see the module docstring).
    roster : path, optional
        The roster CSV (see the module docstring); needed for ``canvas`` and ``moodle``.
    out : path, optional
        The file to write (default: ``canvas-import.csv``, ``moodle-import.csv`` or ``grades-by-learner.csv``
        in ``grades_folder``).
    assignment : str, optional
        The assignment's column name (default: :func:`default_assignment`); for Canvas, end it with the
        Canvas id in parentheses to fill an existing assignment.
    log : callable, optional
        Called with a sentence for each thing the instructor should know: Reflect items not yet marked,
        learners without a grade, roster learners who handed nothing in, what the import will do.

    Every problem of the folder or the roster raises one :class:`ValueError` that lists them all, and then
    nothing is written; the file is written whole or not at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> results = [grading.SubmissionResult("Siân O'Connor", "00", grading.GRADED, "", max_points=4.0,
    ...                                     scores={"orient-n-patients": 1.0, "orient-reflect-bias-stages": None}),
    ...            grading.SubmissionResult("Bo", "00", grading.MISSING, "", max_points=4.0)]
    >>> gradebook.write_outputs(results, "00", folder, marked=set(), codes=None)
    >>> notes = []
    >>> path = export_grades(folder, "csv", log=notes.append)
    >>> print(path.read_text(encoding="utf-8-sig"))
    learner_id,grade,max,status,feedback
    Siân O'Connor,1,4,graded,1 of 4 points (auto-graded; your written answers are not marked yet).
    Bo,,4,missing,No score. No hand-in was found.
    <BLANKLINE>
    >>> print(notes[0])  # doctest: +NORMALIZE_WHITESPACE
    The grades exclude the Reflect item(s) orient-reflect-bias-stages (2 points), not marked yet: they are out of 4,
    not 6. Mark them, run `course marks merge`, then export again.
    """
    log = log or (lambda note: None)
    if format not in FORMATS:
        raise ValueError(f"Unknown format {format!r}: choose {', '.join(FORMATS[:-1])} or {FORMATS[-1]}.")
    folder = Path(grades_folder)
    grades = read_grades(folder)
    out = Path(out) if out else folder / DEFAULT_FILES[format]
    if out.resolve() in {(folder / gradebook.RECORD).resolve(), (folder / "gradebook.csv").resolve()}:
        raise ValueError(f"{out} is one of the gradebook's own files; write the export elsewhere (--out).")
    assignment = (assignment if assignment is not None else default_assignment(grades.notebook)).strip()
    if not assignment:
        raise ValueError("The assignment name is empty: give one (--assignment) or leave the option out.")
    if roster is None and format != "csv":
        start = ("Start from Canvas's gradebook export (Grades, Export)." if format == "canvas"
                 else "Give a CSV file with learner_id and username, idnumber or email.")
        raise ValueError(f"A {format} import file needs a roster (--roster): {format.capitalize()} finds learners by "
                         f"its own ids, which hand-in names do not carry. {start}")

    rows, matched, problems, identifier = None, {}, [], None
    if roster is not None:
        rows, has_learner_id = read_roster(roster, format)
        keys = {"canvas": CANVAS_KEYS, "moodle": ["username", "email", "idnumber"], "csv": []}[format]
        matched, problems = match_roster([learner.learner_id for learner in grades.learners], rows, has_learner_id,
                                         keys)
    lines = _lines(grades, rows, matched)
    if format == "canvas":
        problems += _canvas_problems(rows, lines, assignment)
    elif format == "moodle":
        identifier, missing = _moodle_identifier(rows, lines)
        problems += missing
    if problems:
        where = f" (roster {roster})" if roster is not None else ""
        raise ValueError(f"Nothing was written to {out}{where}:\n  " + "\n  ".join(problems))

    if format == "canvas":
        table = canvas_table(grades, lines, assignment)
    elif format == "moodle":
        table = moodle_table(lines, identifier, assignment)
    else:
        table = csv_table(grades, lines)
    # Both platforms read UTF-8 as it is; the csv table is for spreadsheets, which need the BOM to see accents.
    _write(table, out, encoding="utf-8-sig" if format == "csv" else "utf-8")
    for note in _notes(grades, format, lines, assignment, identifier):
        log(note)
    return out


def _write(table: list[list[str]], out: Path, encoding: str) -> None:
    """Write ``table`` to ``out`` whole: a half-written import file must never be there to upload."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", encoding=encoding, newline="", dir=out.parent, prefix=f".{out.name}.",
                                         suffix=".tmp", delete=False)
    try:
        with handle:
            csv.writer(handle).writerows(table)  # quotes commas, quotes and line breaks (RFC 4180), lines end \r\n
        os.replace(handle.name, out)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _notes(grades: Grades, format: str, lines: list[Line], assignment: str, identifier: str | None) -> list[str]:
    notes = []
    if grades.unmarked:
        pending = sum(q.points for q in grades.unmarked)
        notes.append(f"The grades exclude the Reflect item(s) {', '.join(q.grade_id for q in grades.unmarked)} "
                     f"({_number(pending)} points), not marked yet: they are out of {_number(grades.points)}, not "
                     f"{_number(grades.points + pending)}. Mark them, run `course marks merge`, then export again.")
    ungraded = [line.learner for line in lines if line.handed_in and line.learner.grade is None]
    if ungraded:
        notes.append(f"{len(ungraded)} learner(s) get no grade, for you to decide: "
                     + ", ".join(f"{learner.learner_id!r} ({learner.status})" for learner in ungraded) + ".")
    absent = [line.learner.learner_id for line in lines if not line.handed_in]
    if absent:
        notes.append(f"{len(absent)} roster learner(s) handed nothing in and get no grade: {_names(absent)}.")
    if format == "canvas":
        title, canvas_id = _canvas_title_and_id(assignment)
        if canvas_id:
            notes.append(f"Canvas puts these grades in its assignment {canvas_id}, whose points possible stay as set "
                         f"in Canvas; these grades are out of {_number(grades.points)}.")
        else:
            notes.append(f"Canvas creates the assignment {title!r} worth {_number(grades.points)} points unless one "
                         "has that exact name; to fill another, give --assignment \"NAME (CANVAS ID)\".")
    elif format == "moodle":
        notes.append(f"On Moodle's import page, map from {MOODLE_IDENTIFIERS[identifier]!r} to {identifier!r}, "
                     f"{assignment!r} to the grade item (a new grade item is out of 100: set its maximum grade to "
                     f"{_number(grades.points)}) and {assignment + ' (Feedback)'!r} to its feedback.")
    return notes


def _canvas_title_and_id(name: str) -> tuple[str, str | None]:
    """Canvas's reading of an assignment header: "Title (1234)" is its existing assignment 1234."""
    match = re.fullmatch(r"(.*)\s\((\d+)\)", name, re.S)
    return (match[1], match[2]) if match else (name, None)
