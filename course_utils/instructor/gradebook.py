"""Grade a whole class: find the hand-ins, grade them in parallel, write the gradebook and feedback.

``course grade SUBMISSIONS_DIR --notebook 01`` (or ``make grade``) calls :func:`grade_class`.  The
hand-in folder may use either layout, or both:

* ``<learner_id>.ipynb`` -- one file per learner, as a learning-management system exports them;
* ``<learner_id>/<notebook>.ipynb`` -- nbgrader's layout (an assignment folder in between is fine).

Learner ids are taken from the file or folder name as written (Unicode-normalised, so "José"
typed two ways is one person).  The output folder gets ``gradebook.csv`` (``learner_id``, one
column per question, ``total``, ``max``, ``status``, ``message``, ``sandbox``), one Markdown
feedback file per learner that shows each question's result and message, never hidden tests,
``marking/`` with a page per Reflect question (:mod:`~course_utils.instructor.marking`), and
``results.json``, everything grading found, from which :func:`merge_marks` rewrites the gradebook
and the feedback once Reflect answers are marked.  The hand-ins are only read: their checksums
before and after grading are compared.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "Siân O'Connor.ipynb").write_text("{}")
>>> (folder / "Jane Doe").mkdir(); _ = (folder / "Jane Doe" / "01_representation_audit.ipynb").write_text("{}")
>>> [(h.learner_id, h.path.name) for h in find_hand_ins(folder, "01")]
[('Jane Doe', '01_representation_audit.ipynb'), ("Siân O'Connor", "Siân O'Connor.ipynb")]
>>> feedback_file_name("Ana/María: draft?")
'Ana_María_ draft_.md'
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import secrets
import sys
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from course_utils.exercises.questions import notebook_id_of
from course_utils.handin import learner_name, safe_file_stem
from course_utils.instructor import grading, kernels, learner_edition, marking, release, sandbox
from course_utils.instructor import limits as resource_limits


EXECUTED_FOLDER = "executed-instructor-only"  # executed hand-ins with hidden tests, when asked for
RECORD = "results.json"  # every result, the marks merged so far and the anonymous codes: for `course marks merge`


@dataclass(frozen=True)
class HandIn:
    """One learner's hand-in: ``path`` is None when their folder holds no notebook."""

    learner_id: str
    path: Path | None
    note: str = ""


# --- finding hand-ins ------------------------------------------------------------------------------

def _ignored(path: Path) -> bool:
    """Files no learner handed in: hidden files, macOS resource forks, Jupyter checkpoints."""
    return any(part.startswith(".") for part in path.parts) or "__MACOSX" in path.parts


def find_hand_ins(folder: str | os.PathLike, notebook: str) -> list[HandIn]:
    """Every learner's hand-in in ``folder``, sorted by learner id; see the module docstring for layouts."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"The hand-in folder {str(folder)!r} does not exist or is not a folder.")
    expected = release.solution_path(notebook).name
    found: dict[str, HandIn] = {}
    for entry in sorted(folder.iterdir()):
        if _ignored(entry.relative_to(folder)):
            continue
        if entry.is_file() and entry.suffix.lower() == ".ipynb":
            _add(found, HandIn(learner_name(entry.stem), entry))
        elif entry.is_dir():
            _add(found, _hand_in_in_folder(entry, expected))
    return sorted(found.values(), key=lambda hand_in: hand_in.learner_id.casefold())


def _hand_in_in_folder(folder: Path, expected: str) -> HandIn:
    learner = learner_name(folder.name)
    notebooks = [path for path in sorted(folder.rglob("*.ipynb")) if not _ignored(path.relative_to(folder))]
    if not notebooks:
        return HandIn(learner, None, f"No notebook (.ipynb) in the folder {folder.name!r}.")
    # The course's file name first, then one with the right number, then the only notebook there is.
    for wanted in (lambda p: p.name == expected, lambda p: notebook_id_of(p.name) == notebook_id_of(expected)):
        matches = [path for path in notebooks if wanted(path)]
        if matches:
            return HandIn(learner, matches[0], _several(matches))
    if len(notebooks) == 1:
        return HandIn(learner, notebooks[0])
    names = ", ".join(path.name for path in notebooks)
    return HandIn(learner, None, f"Several notebooks and none is named {expected!r}: {names}.")


def _several(matches: list[Path]) -> str:
    return f"Several matching notebooks; graded {matches[0].name}." if len(matches) > 1 else ""


def _add(found: dict[str, HandIn], hand_in: HandIn) -> None:
    """Two hand-ins for one learner (a file and a folder): grade the newer one and say so."""
    earlier = found.get(hand_in.learner_id)
    if earlier is None or earlier.path is None:
        found[hand_in.learner_id] = hand_in
        return
    if hand_in.path is None:
        return
    newer, older = sorted([earlier, hand_in], key=lambda h: h.path.stat().st_mtime, reverse=True)
    found[hand_in.learner_id] = HandIn(newer.learner_id, newer.path,
                                       f"Two hand-ins found; graded the newer ({newer.path.name}), not {older.path.name}.")


# --- grading ---------------------------------------------------------------------------------------

def checksums(paths) -> dict[Path, str]:
    """SHA-256 of each file, to show grading left every hand-in untouched."""
    return {Path(path): hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in paths}


def grade_class(folder, notebook: str, out, jobs: int | None = None, seconds: float | None = None,
                use_sandbox: bool | None = None, progress: bool = True, keep_executed: bool = False,
                limits: resource_limits.Limits | None = None, cold_start: bool = False, log=None,
                anonymise: bool = False, every_cell: bool = False) -> list[grading.SubmissionResult]:
    """Grade every hand-in in ``folder``; write ``out/gradebook.csv`` and ``out/feedback/``; return the rows.

    Parameters
    ----------
    folder : path
        The hand-ins (see :func:`find_hand_ins`).
    notebook : str
        Course notebook number, e.g. ``"01"``.
    out : path
        Output folder (created).  It must not be inside ``folder``.
    jobs : int, optional
        Hand-ins graded at once (default: the number of CPU cores).
    seconds : float, optional
        Time limit for one whole notebook (default: :func:`course_utils.grading.time_limit`).
    use_sandbox : bool, optional
        Force the bubblewrap sandbox on or off (default: on where it works).
    progress : bool
        Show a tqdm progress bar on stderr.
    keep_executed : bool
        Also save each executed notebook in ``out/executed-instructor-only/``.  They contain the hidden
        tests: never hand them back to learners.
    limits : Limits, optional
        Memory, processes, folder size and processor time of each hand-in (default:
        :func:`course_utils.instructor.grading.default_limits`).
    cold_start : bool
        Start every kernel anew instead of forking it from the class's warm template
        (see :mod:`course_utils.instructor.kernels`).
    log : callable, optional
        Called with a sentence when kernels could not start warm (they then start cold).
    anonymise : bool
        Show learners on the marking pages under codes instead of names (``results.json`` keeps the key).
    every_cell : bool
        Run every cell of each hand-in.  By default the cells a learner left as released that no verdict
        can depend on are skipped (:mod:`course_utils.instructor.cell_plan`); the verdicts are the same.
    """
    notebook = notebook_id_of(release.solution_path(notebook))
    folder, out = Path(folder).resolve(), Path(out).resolve()
    if out == folder or folder in out.parents:
        raise ValueError("Write the grades outside the hand-in folder (--out), so grading never touches hand-ins.")
    hand_ins = find_hand_ins(folder, notebook)
    before = checksums(h.path for h in hand_ins if h.path)
    use_sandbox = sandbox.sandbox_status().available if use_sandbox is None else use_sandbox
    seconds = seconds or grading.time_limit(notebook)
    limits = limits or grading.default_limits(seconds)
    with tempfile.TemporaryDirectory(prefix="course-gradebook-") as scratch:
        # The warm template starts importing first, while nbgrader builds its database.
        package_dir = learner_edition.write_package(Path(scratch) / "learner-package")
        with kernels.KernelStarter(package_dir, grading.solution_notebook(notebook), use_sandbox=use_sandbox,
                                   cold=cold_start or not hand_ins, scratch=Path(scratch)) as starter:
            setup = grading.prepare(notebook, Path(scratch), package_dir, every_cell=every_cell)
            errors: dict[str, list[str]] = {}

            def grade(hand_in: HandIn) -> grading.SubmissionResult:
                executed = out / EXECUTED_FOLDER / f"{safe_file_stem(hand_in.learner_id)}.ipynb"
                return _grade_one(hand_in, setup, seconds, use_sandbox, executed if keep_executed else None,
                                  limits, starter, errors)

            with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
                results = list(_with_progress(pool.map(grade, hand_ins), len(hand_ins), progress))
            if log and starter.template is not None and not starter.warm:
                log(f"kernels started cold, not from the warm template ({starter.warm_problem}).")
    after = checksums(before)
    changed = [path.name for path, digest in before.items() if after.get(path) != digest]
    if changed:  # cannot happen through the grader; a sign someone edited files during grading
        raise RuntimeError(f"These hand-ins changed while they were being graded: {', '.join(changed)}")
    codes = anonymous_codes([result.learner_id for result in results], out) if anonymise else None
    case_names = {qid: {case.case_id: {"name": case.name, "public": case.public} for case in plans}
                  for qid, plans in setup.judge.plans.items()}
    write_outputs(results, notebook, out, marked=set(), codes=codes, case_names=case_names)
    _write_grader_errors(errors, out)
    return results


def write_outputs(results, notebook: str, out: Path, marked: set, codes: dict | None,
                  case_names: dict | None = None) -> None:
    """``gradebook.csv``, the feedback files, the marking pages and ``results.json`` in ``out``.

    ``marked``: the Reflect items whose marks are in ``results`` (their points count in ``max``).
    ``case_names``: question id -> case id -> ``{"name", "public"}``, the judge's cases as the feedback
    names them (kept in ``results.json`` for ``course report``).
    """
    write_gradebook(results, notebook, out / "gradebook.csv", marked)
    write_feedback(results, notebook, out / "feedback", marked)
    marking.write_pages(results, notebook, out / marking.FOLDER, codes)
    record = {"notebook": notebook, "marked": sorted(marked), "codes": codes, "case_names": case_names or {},
              "results": [dataclasses.asdict(result) for result in results]}
    (out / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")


def anonymous_codes(learners, out: Path, key_file: str | None = None) -> dict[str, str]:
    """learner id -> a random code, the same one in every file written into ``out``.

    A learner keeps the code ``out/results.json`` gave them (``course grade --anonymise``), else the one in
    ``out/<key_file>`` (a report's own key, for grades that were not anonymised); new codes are added to
    ``key_file`` when one is named.
    """
    out = Path(out)
    earlier: dict = {}
    for name in ([key_file] if key_file else []) + [RECORD]:  # the grader's codes win
        try:
            earlier.update(json.loads((out / name).read_text(encoding="utf-8")).get("codes") or {})
        except (OSError, ValueError, AttributeError):
            pass
    codes: dict[str, str] = {}
    taken = set(earlier.values())
    for learner in learners:
        code = earlier.get(learner)
        while code is None or code in codes.values():
            code = f"learner-{secrets.token_hex(3)}"
            code = None if code in taken else code
        codes[learner] = code
    if key_file:
        (out / key_file).write_text(json.dumps({"codes": {**earlier, **codes}}, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    return codes


def read_record(out) -> dict:
    """The ``results.json`` that ``course grade`` wrote into ``out``; a clear error when there is none."""
    out = Path(out)
    if not (out / RECORD).is_file():
        raise ValueError(f"{out} has no {RECORD}: give the folder `course grade` wrote (--out), e.g. grades/01.")
    try:
        return json.loads((out / RECORD).read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{out / RECORD} is not a results file `course grade` wrote ({error}); grade again.") from error


def merge_marks(out, csv_paths) -> str:
    """Fold the marks saved from the marking pages (CSV files) into ``out``'s gradebook and feedback.

    Every mark is checked first -- the learner is in the gradebook, the question is one of the notebook's
    Reflect items, the points lie between 0 and the item's points, no learner is marked twice on one
    item -- and if any is not right nothing is written: :class:`ValueError` lists every problem.
    Returns a sentence saying what was merged.
    """
    out = Path(out)
    record = read_record(out)
    notebook, codes = record["notebook"], record.get("codes")
    results = [grading.SubmissionResult(**fields) for fields in record["results"]]
    marks, problems = marking.read_marks(csv_paths)
    problems += marking.check_marks(marks, notebook, {result.learner_id for result in results}, codes)
    if problems:
        raise ValueError("No marks were merged:\n  " + "\n  ".join(problems))
    items = marking.apply_marks(results, marks, codes)
    write_outputs(results, notebook, out, marked=set(record["marked"]) | items, codes=codes,
                  case_names=record.get("case_names"))
    return (f"merged {len(marks)} mark(s) on {', '.join(sorted(items)) or 'no question'} into "
            f"{out / 'gradebook.csv'} and the feedback files")


#: Times one hand-in is tried when the grader itself fails on it.  A grader's failure (a kernel that did not
#: start in time on a loaded machine) is rarely the hand-in's; one more try costs a few seconds, a hand graded
#: by hand costs the instructor minutes.
GRADER_ATTEMPTS = 2
GRADER_ERRORS_LOG = "grader-errors.log"  # in the output folder: what went wrong, for the instructor's eyes


def _grade_one(hand_in: HandIn, setup: grading.GradingSetup, seconds, use_sandbox, executed_to, limits, starter,
               errors: dict | None = None) -> grading.SubmissionResult:
    """Grade one hand-in; whatever goes wrong becomes that learner's row, never the batch's end.

    A failure of the grader itself is tried again (:data:`GRADER_ATTEMPTS` in all); each failure's traceback
    goes into ``errors`` (learner id to texts), which :func:`grade_class` writes to :data:`GRADER_ERRORS_LOG`.
    """
    questions = grading.graded_cells(setup.notebook)
    blank = grading.SubmissionResult(hand_in.learner_id, setup.notebook, grading.MISSING, hand_in.note,
                                     scores={q.grade_id: 0.0 for q in questions},
                                     max_points=sum(q.points for q in questions if q.auto),
                                     sandbox="bubblewrap" if use_sandbox else "unsandboxed")
    if hand_in.path is None:
        return blank
    for attempt in range(1, GRADER_ATTEMPTS + 1):
        try:
            result = grading.grade_submission(hand_in.path, hand_in.learner_id, setup, seconds, use_sandbox,
                                              executed_to, limits, starter)
            break
        except Exception as error:  # noqa: BLE001 -- one broken hand-in must not stop a class of hundreds
            if errors is not None:
                errors.setdefault(hand_in.learner_id, []).append(
                    f"attempt {attempt} of {GRADER_ATTEMPTS}:\n{traceback.format_exc()}")
            if attempt == GRADER_ATTEMPTS:
                blank.status = grading.GRADER_ERROR
                blank.message = (f"The grader could not grade this hand-in ({type(error).__name__}: {error}). "
                                 "Other learners are unaffected; grade this one by hand.")[:grading.MESSAGE_LIMIT]
                return blank
    if hand_in.note:
        result.message = f"{hand_in.note} {result.message}".strip()
    return result


def _write_grader_errors(errors: dict, out: Path) -> None:
    """Each failure of the grader, with its traceback, in ``out/grader-errors.log`` (removed when there is none)."""
    log = out / GRADER_ERRORS_LOG
    if not errors:
        log.unlink(missing_ok=True)
        return
    out.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(f"== {learner_id}, {text}\n" for learner_id in sorted(errors)
                           for text in errors[learner_id]), encoding="utf-8")


def _with_progress(iterable, total: int, show: bool):
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc="grading", unit="hand-in", file=sys.stderr)


# --- writing ---------------------------------------------------------------------------------------

def _points(value) -> str:
    if value is None:
        return ""  # a written answer waiting for the instructor
    return f"{value:g}"


def write_gradebook(results, notebook: str, path: Path, marked=()) -> Path:
    """``gradebook.csv``: one row per learner, one column per question (blank = to mark by hand).

    ``max`` is the auto-graded points plus those of the Reflect items in ``marked`` (merged marks).
    Written as UTF-8 with a byte-order mark so spreadsheet programs show names with accents correctly.
    """
    questions = grading.graded_cells(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_id", *(q.grade_id for q in questions), "total", "max", "status", "message",
                         "sandbox"])
        for result in results:
            writer.writerow([spreadsheet_safe(result.learner_id),
                             *(_points(result.scores.get(q.grade_id)) for q in questions),
                             _points(result.total), _points(max_points_of(result, questions, marked)), result.status,
                             result.message, result.sandbox])
    return path


def spreadsheet_safe(text: str) -> str:
    """A learner id a spreadsheet shows as text, never runs as a formula (``=HYPERLINK(...)`` as a file name).

    >>> print(spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe("Ada"))
    '=HYPERLINK(1) Ada
    """
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def max_points_of(result, questions, marked) -> float:
    """A learner's maximum so far: the auto-graded points plus those of the Reflect items in ``marked``."""
    return result.max_points + sum(q.points for q in questions if not q.auto and q.grade_id in marked)


def feedback_file_name(learner_id: str) -> str:
    """A file name for a learner's feedback that works on every system and keeps the name readable."""
    return f"{safe_file_stem(learner_id)}.md"


def write_feedback(results, notebook: str, folder: Path, marked=()) -> list[Path]:
    """One Markdown file per learner: score, status and each question's result; no hidden tests.

    ``marked``: the Reflect items whose marks have been merged (their points and comments are shown).
    """
    folder.mkdir(parents=True, exist_ok=True)
    title = release.solution_path(notebook).stem
    written, used = [], set()
    for result in results:
        name = feedback_file_name(result.learner_id)
        if name.casefold() in used:  # two ids that differ only in unsafe characters or case
            digest = hashlib.sha256(result.learner_id.encode()).hexdigest()[:8]
            name = f"{name[:-3]}-{digest}.md"
        used.add(name.casefold())
        path = folder / name
        path.write_text(feedback_markdown(result, title, marked), encoding="utf-8")
        written.append(path)
    return written


_RESULT_WORDS = {True: "✅", False: "❌", None: "✍️"}


def feedback_markdown(result: grading.SubmissionResult, title: str, marked=()) -> str:
    """The text of one learner's feedback file."""
    questions = grading.graded_cells(result.notebook)
    written = [q.grade_id for q in questions if not q.auto]
    if marked:
        score = (f"**Score:** {_points(result.total)} of {_points(max_points_of(result, questions, marked))} points "
                 "(auto-graded, and the written answers your instructor marked)  ")
    else:
        score = f"**Score:** {_points(result.total)} of {_points(result.max_points)} auto-graded points  "
    lines = [f"# Feedback on {title}", "", f"**Learner:** {result.learner_id}  ", score, f"**Status:** {result.status}"]
    if result.message:
        lines.append(f"\n{result.message}")
    lines += ["", "## Questions", ""]
    for question in questions:
        points = result.scores.get(question.grade_id)
        passed = None if points is None or not question.auto else points >= question.points
        message = result.feedback.get(question.grade_id) or status_feedback(result.status)
        if question.grade_id in result.comments:
            comment = " ".join(result.comments[question.grade_id].split())
            message = f"Marked by your instructor{': ' + comment if comment else '.'}"
        lines.append(f"- {_RESULT_WORDS[passed]} **{question.grade_id}** "
                     f"({_points(points) if points is not None else '–'} / {question.points:g}): {message}")
    if written and set(written) <= set(marked):
        footer = "Written answers (✍️) were marked by your instructor with the course's rubric; their points are in the score."
    elif marked:
        footer = "Written answers (✍️) marked so far are in the score; the others are not marked yet."
    else:
        footer = "Written answers (✍️) are graded by your instructor; their points are not in the score above."
    lines += ["", footer, ""]
    return "\n".join(lines)


def status_feedback(status: str) -> str:
    """What a learner's feedback says about a hand-in that was not graded (missing, unreadable, ...)."""
    return {grading.MISSING: "No hand-in was found.", grading.UNREADABLE: "Not graded: the file could not be read.",
            grading.WRONG_NOTEBOOK: "Not graded: this was not the right notebook.",
            grading.GRADER_ERROR: "Not graded automatically; your instructor will grade it."}.get(status, "Not graded.")


def summary(results) -> str:
    """A few lines for the terminal: how many hand-ins had each outcome, and the mean score."""
    from collections import Counter

    counts = Counter(result.status for result in results)
    graded = [result.total for result in results if result.status == grading.GRADED]
    mean = f"; mean score {sum(graded) / len(graded):.1f} of {results[0].max_points:g}" if graded else ""
    outcomes = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return f"{len(results)} hand-ins: {outcomes}{mean}."
