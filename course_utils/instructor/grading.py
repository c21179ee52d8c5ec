"""Grade one learner's notebook: run it in a fresh sandboxed kernel, then judge what its answers returned.

Running and judging are apart, as in a programming-contest judge:

1. **Read** the hand-in.  A file that is not a notebook gets a clear message, not a crash.
2. **Restore** the instructor's locked cells with nbgrader's ``OverwriteCells``, fed by ``SaveCells``
   from ``solutions/`` (see :func:`prepare`): every locked or check cell a learner changed is put back.
   Cells a learner deleted stay deleted (nbgrader's default); their questions score 0 and the feedback
   says so.  Then each graded check cell is given the judge's harness instead of ``check(...)``
   (:meth:`~course_utils.instructor.judge.Judge.harness_source`).
3. **Run** the notebook top to bottom with nbclient, skipping the cells the learner left as released that
   no verdict can depend on (figures, demonstrations: :mod:`~course_utils.instructor.cell_plan`), in a fresh kernel of its own (started by
   :mod:`~course_utils.instructor.kernels`, warm or cold), in a temporary folder that does not contain
   ``solutions/``, importing the learner edition's ``course_utils`` (never the instructor's), inside
   the bubblewrap sandbox of :mod:`~course_utils.instructor.sandbox` when there is one, under the
   resource limits of :mod:`~course_utils.instructor.limits`, a time limit for the whole notebook and
   a cap on its output.  A limit reached ends the run at that cell, with status ``memory`` or
   ``resources``.  At each graded cell the harness calls the learner's answer on the judge's inputs
   (public and hidden cases; read-only in the sandbox) and writes what came back as data.
4. **Judge** each question in this process (:mod:`~course_utils.instructor.judge`) from that data alone,
   against reference results that never entered the sandbox.  What the kernel printed, raised or showed
   is never looked at: no hook, patch or error display in the kernel can change a verdict.

:mod:`course_utils.instructor.gradebook` runs this for a whole class, several hand-ins at a time.

Examples
--------
>>> from course_utils.instructor.grading import graded_cells
>>> [(cell.grade_id, cell.points, cell.auto) for cell in graded_cells("00")][:2]
[('orient-n-patients', 1.0, True), ('orient-share-function', 2.0, True)]
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import nbformat

from course_utils import handin
from course_utils.exercises.questions import notebook_id
from course_utils.instructor import judge as judging
from course_utils.instructor import cell_plan, kernels, release, require_nbgrader, sandbox
from course_utils.instructor import limits as resource_limits

# Outcomes of one submission, as the gradebook's `status` column shows them.
GRADED = "graded"            # ran to the end (some cells may have raised: that is the learner's score)
TIMED_OUT = "timeout"        # stopped at the time limit; questions before that point are scored
KERNEL_DIED = "kernel-died"  # the Python process stopped (os._exit, a crash)
MEMORY = "memory"            # stopped at the memory limit; questions before that point are scored
RESOURCES = "resources"      # stopped at the process, folder-size or processor-time limit; likewise
UNREADABLE = "unreadable"    # not a notebook we can open: broken JSON, another file type, empty
WRONG_NOTEBOOK = "wrong-notebook"  # a notebook, but not this course notebook
MISSING = "missing"          # no hand-in found for this learner
GRADER_ERROR = "grader-error"  # the grader itself failed on this hand-in; other learners are unaffected
#: The statuses of a hand-in whose notebook ran: its points, up to where it stopped, are points earned.
RAN = frozenset({GRADED, TIMED_OUT, KERNEL_DIED, MEMORY, RESOURCES})

ASSIGNMENT = "course"        # nbgrader needs an assignment name for its database; one per notebook number
OUTPUT_LIMIT_BYTES = 2_000_000  # keep at most this much output per hand-in; the rest is dropped and noted
DEFAULT_TIME_LIMITS = {"00": 60, "01": 120, "02a": 120, "02b": 240, "03": 180, "04": 240}  # seconds per notebook, ~8x the solution
MESSAGE_LIMIT = 600          # characters of one question's message in the gradebook and feedback
ANSWERS = ("run", "answers")  # where, in a hand-in's folder, the harness writes its answers (shared with the grader)


@dataclass(frozen=True)
class GradedCell:
    """One graded item of a notebook: a test cell (``auto``) or a written answer graded by hand."""

    grade_id: str
    points: float
    auto: bool


@dataclass
class SubmissionResult:
    """What grading one hand-in gave; one row of ``gradebook.csv`` and one feedback file."""

    learner_id: str
    notebook: str
    status: str
    message: str
    scores: dict = field(default_factory=dict)     # grade_id -> points, or None: "to grade by hand"
    feedback: dict = field(default_factory=dict)   # grade_id -> one-line message for the learner
    max_points: float = 0.0                        # auto-graded points available
    sandbox: str = "unsandboxed"
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)    # seconds: start, imports, cells, tests (see run_submission)
    kernel: str = ""                               # how its kernel started: "warm", "cold", or "" (none ran)
    answers: dict = field(default_factory=dict)    # grade_id -> a Reflect answer as written (Markdown)
    comments: dict = field(default_factory=dict)   # grade_id -> the instructor's comment on a marked answer
    cases: dict = field(default_factory=dict)      # grade_id -> [[case id, passed], ...]: the judge's per-case results
    statuses: dict = field(default_factory=dict)   # grade_id -> the judge's status: correct, wrong, unanswered, invalid
    misconceptions: dict = field(default_factory=dict)  # grade_id -> ids of the misconceptions the answer showed

    @property
    def total(self) -> float:
        return float(sum(value for value in self.scores.values() if value is not None))


@functools.cache
def solution_notebook(notebook: str) -> nbformat.NotebookNode:
    """The instructor's source of course notebook ``notebook`` (read once per process; do not modify)."""
    return nbformat.read(release.solution_path(notebook), as_version=4)


@functools.cache
def graded_cells(notebook: str) -> tuple[GradedCell, ...]:
    """The graded items of course notebook ``notebook`` (``"01"``), in notebook order."""
    source = solution_notebook(notebook_id(notebook))
    cells = []
    for cell in source.cells:
        info = cell.metadata.get("nbgrader", {})
        if info.get("grade"):
            auto = cell.cell_type == "code" and not info.get("solution", False)
            cells.append(GradedCell(info["grade_id"], float(info.get("points", 0)), auto))
    return tuple(cells)


def time_limit(notebook: str) -> int:
    """Default seconds allowed for the whole of notebook ``notebook``."""
    return DEFAULT_TIME_LIMITS.get(notebook_id(notebook), 180)


# --- 1. read ---------------------------------------------------------------------------------------

def read_submission(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The hand-in as a notebook, or None and a message in plain words (the same as ``course submit`` gives)."""
    return handin.read_notebook(path)


# --- 2. restore ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GradingSetup:
    """What grading one notebook needs, made once per class (see :func:`prepare`).

    ``db_url``: nbgrader's database with the notebook's source cells, which :func:`restore_instructor_cells`
    reads.  ``package_dir``: a folder holding the learner edition's ``course_utils`` -- the package every
    hand-in's kernel imports, so answers run against what learners have and learner code can reach nothing
    more.  ``judge``: the cases' inputs (shown read-only to every sandbox) and their references (kept here).
    ``released``: the notebook as handed out, which tells the cells a learner left alone;  unless
    ``every_cell``, a hand-in's run skips those of them no verdict can depend on (:mod:`.cell_plan`).
    """

    notebook: str
    db_url: str
    package_dir: Path
    judge: judging.Judge
    released: nbformat.NotebookNode | None = None
    every_cell: bool = False


def prepare(notebook: str, folder: Path, package_dir: Path | None = None, every_cell: bool = False) -> GradingSetup:
    """Record notebook ``notebook``'s source cells in an nbgrader database, write the learner package, prepare the judge.

    The database is nbgrader's own ``Gradebook``, filled by its ``SaveCells`` preprocessor exactly
    as ``nbgrader generate_assignment`` fills it.  All live in ``folder`` (``package_dir``: one
    already written with :func:`~course_utils.instructor.learner_edition.write_package`).  ``every_cell``: run
    every cell of each hand-in, even those no verdict can depend on.
    """
    from course_utils.instructor import learner_edition

    require_nbgrader("Grading")
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveCells

    notebook = notebook_id(notebook)
    db_url = f"sqlite:///{Path(folder).resolve() / f'source-{notebook}.db'}"
    source = release.release_notebook(nbformat.read(release.solution_path(notebook), as_version=4))
    released = copy.deepcopy(source)
    with mock.patch("nbgrader.api.get_alembic_version", _alembic_head), Gradebook(db_url) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT)
    resources = {"nbgrader": {"db_url": db_url, "assignment": ASSIGNMENT, "notebook": notebook}}
    SaveCells(log=_quiet_log()).preprocess(source, resources)
    package_dir = package_dir or learner_edition.write_package(Path(folder) / "learner-package")
    return GradingSetup(notebook, db_url, Path(package_dir), judging.Judge(notebook, Path(folder) / "judge"),
                        released=released, every_cell=every_cell)


def _alembic_head() -> str:
    """The version a new nbgrader database is stamped with, read in this process.

    nbgrader asks a new ``alembic`` process for it, which costs about 2 s of processor time per class;
    alembic's own API reads the same migration scripts (nbgrader's ``ALEMBIC_DIR``) in milliseconds.
    """
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def restore_instructor_cells(submission: nbformat.NotebookNode, notebook: str, db_url: str
                             ) -> tuple[nbformat.NotebookNode, list[str]]:
    """Put the instructor's locked and check cells back; list the ones a learner changed."""
    from nbgrader.preprocessors import ClearOutput, OverwriteCells
    from nbgrader.utils import compute_checksum

    as_released = _locked_checksums(notebook)
    changed = [_grade_id(cell) for cell in submission.cells
               if _grade_id(cell) in as_released and compute_checksum(cell) not in as_released[_grade_id(cell)]]
    resources = {"nbgrader": {"db_url": db_url, "assignment": ASSIGNMENT, "notebook": notebook}}
    restored, _ = OverwriteCells(log=_quiet_log()).preprocess(submission, resources)
    # As nbgrader's autograde does: no output a learner handed in may count, only what runs now.
    restored, _ = ClearOutput(log=_quiet_log()).preprocess(restored, resources)
    return restored, changed


@functools.cache
def _locked_checksums(notebook: str) -> dict[str, set[str]]:
    """grade_id -> the checksum a locked cell has as released."""
    from nbgrader.utils import compute_checksum

    return {_grade_id(cell): {compute_checksum(cell)} for cell in release.release_notebook(solution_notebook(notebook)).cells
            if _grade_id(cell) and cell.metadata["nbgrader"].get("locked")}


def put_harness(notebook: nbformat.NotebookNode, judge: judging.Judge, answers_dir: Path) -> None:
    """Give every auto-graded check cell the judge's harness in place of ``check(...)`` (in this copy only).

    The harness takes the answer expression from the instructor's check cell, never from the hand-in.
    """
    for cell in notebook.cells:
        grade_id = _grade_id(cell)
        if cell.cell_type == "code" and grade_id in judge.questions and cell.metadata["nbgrader"].get("grade"):
            cell.source = judge.harness_source(grade_id, answers_dir)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _quiet_log():
    import logging

    log = logging.getLogger("course_utils.instructor.grading")
    log.setLevel(logging.ERROR)
    return log


# --- 3. run ----------------------------------------------------------------------------------------

def _client_class():
    """nbclient's NotebookClient with a cap on how much output one hand-in may produce."""
    from nbclient import NotebookClient

    class CappedNotebookClient(NotebookClient):
        output_bytes = 0
        output_capped = False

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), ensure_ascii=False))
            kind = msg["msg_type"]
            # Errors always get through: scoring needs them.  Everything else stops at the cap.
            if kind != "error" and self.output_bytes + size > OUTPUT_LIMIT_BYTES:
                self.output_capped = True
                return None
            self.output_bytes += size
            return super().output(outs, msg, display_id, cell_index)

    return CappedNotebookClient


@dataclass
class RunOutcome:
    """How running one hand-in went: its status, the learner's message, and where the time went."""

    status: str = GRADED
    message: str = ""
    output_capped: bool = False
    timings: dict = field(default_factory=dict)   # seconds: start, imports, cells, tests
    kernel: str = "cold"                          # how its kernel started: "warm" or "cold"


class _LimitReached(Exception):
    def __init__(self, breach: str, cell_index: int):
        super().__init__(breach)
        self.breach, self.cell_index = breach, cell_index


def run_submission(notebook: nbformat.NotebookNode, folder: Path, starter: kernels.KernelStarter, seconds: float,
                   limits: resource_limits.Limits, readable: Sequence[Path] = ()) -> RunOutcome:
    """Execute ``notebook`` in place in a fresh kernel from ``starter``, under ``limits`` and a time limit.

    The ``seconds`` of the time limit count from the first cell: the kernel has ``startup_timeout`` to
    start, which is the grader's business, not the learner's.  A cell that reaches a resource limit
    (``MemoryError``, a full folder, no more processes) ends the run there, as the time limit does; so
    does a kernel stopped for processor time.  ``readable``: more folders the sandbox shows read-only
    (the judge's cases).
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    work = folder / "work"
    work.mkdir(exist_ok=True)
    started = time.monotonic()
    running = {"index": None, "since": started, "deadline": started + seconds}
    manager = starter.manager(folder, limits, readable)
    client = _client_class()(
        notebook, km=manager, allow_errors=True, record_timing=False,
        timeout_func=lambda cell: max(1, int(running["deadline"] - time.monotonic())), startup_timeout=90,
        interrupt_on_timeout=False, shutdown_kernel="immediate", resources={"metadata": {"path": str(work)}},
        skip_cells_with_tag=cell_plan.SKIP_TAG,
    )
    # nbclient shuts down only kernels it created itself; this one it must stop too, at once, whatever happened.
    client.owns_km = True
    outcome, cell_seconds = RunOutcome(), {}

    def notebook_starts(notebook):
        now = time.monotonic()
        running["deadline"] = now + seconds
        outcome.timings["start"] = now - started

    def executing(cell, cell_index):
        running.update(index=cell_index, since=time.monotonic())

    def executed(cell, cell_index, execute_reply):
        cell_seconds[cell_index] = time.monotonic() - running["since"]
        content = (execute_reply or {}).get("content", {})
        breach = content.get("status") == "error" and resource_limits.breach_of_error(content.get("ename", ""),
                                                                                     content.get("evalue", ""))
        if breach:
            raise _LimitReached(breach, cell_index)

    client.on_notebook_start = notebook_starts
    client.on_cell_execute, client.on_cell_executed = executing, executed
    try:
        # The kernel's own stdout/stderr (start-up banners, C-level crashes) are not the learner's output.
        _run_in_own_loop(client.async_execute(cwd=str(work), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    except CellTimeoutError:
        outcome.status, outcome.message = TIMED_OUT, (
            f"Your notebook did not finish within the time limit ({int(seconds)} s): it was still running "
            f"{_describe_cell(notebook, running['index'])}. Look for a loop that never ends or a very slow step; "
            "questions after that cell score 0.")
    except _LimitReached as reached:
        outcome.status, outcome.message = _breach(reached.breach, limits, notebook, reached.cell_index)
    except DeadKernelError:
        breach = resource_limits.breach_of_exit(getattr(manager, "launched", None) and manager.launched.returncode)
        if breach:
            outcome.status, outcome.message = _breach(breach, limits, notebook, running["index"])
        else:
            outcome.status, outcome.message = KERNEL_DIED, (
                f"Python stopped while running {_describe_cell(notebook, running['index'])} "
                "(os._exit(), a crash). Questions after that cell score 0.")
    finally:
        starter.release(manager)
    outcome.output_capped, outcome.kernel = client.output_capped, getattr(manager, "started", "cold")
    outcome.timings.update(_split(notebook, cell_seconds))
    return outcome


def _run_in_own_loop(coroutine):
    """Run ``coroutine`` in an event loop of its own, and close that loop with nothing left pending.

    When a cell times out or the kernel dies, nbclient cancels its output poll but returns before the
    loop lets it finish; left in a thread's loop, the task is reported destroyed when Python exits.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # jupyter_client looks the thread's loop up
    try:
        return loop.run_until_complete(coroutine)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


def _breach(breach: str, limits, notebook, cell_index) -> tuple[str, str]:
    where = f"in {_describe_cell(notebook, cell_index)}"
    return (MEMORY if breach == "memory" else RESOURCES), resource_limits.breach_message(breach, limits, where)


def _split(notebook, cell_seconds: dict) -> dict:
    """Seconds in the notebook's first code cell (its imports), its other cells and its test cells."""
    first = next((i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"), None)
    tests = {i for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")}
    split = {"imports": 0.0, "cells": 0.0, "tests": 0.0}
    for index, seconds in cell_seconds.items():
        split["imports" if index == first else "tests" if index in tests else "cells"] += seconds
    return {key: round(value, 3) for key, value in split.items()}


def _describe_cell(notebook, index) -> str:
    if index is None:
        return "before the first cell (the kernel did not start)"
    first_line = next((line for line in notebook.cells[index].source.splitlines() if line.strip()), "")
    return f"cell {index + 1} (`{first_line[:60]}`)"


# --- 4. judge --------------------------------------------------------------------------------------

def score_questions(notebook: nbformat.NotebookNode, questions: Sequence[GradedCell], judge: judging.Judge,
                    answers_dir: Path) -> tuple[dict, dict, dict, dict, dict]:
    """Points, a learner-facing message, the per-case results, the judge's status and the misconceptions seen,
    for each question (the last three for auto-graded questions only).

    Auto-graded questions are the judge's verdicts on the answers the harness wrote; Reflect answers are
    "to grade by hand" (``None``) when written, 0 when left as released (nbgrader's ``determine_grade``).
    """
    from nbgrader.utils import determine_grade

    present = {_grade_id(cell): cell for cell in notebook.cells if _grade_id(cell)}
    scores, feedback, cases, statuses, misconceptions = {}, {}, {}, {}, {}
    for question in questions:
        cell = present.get(question.grade_id)
        if cell is None or not cell.metadata["nbgrader"].get("grade"):
            scores[question.grade_id] = 0.0
            feedback[question.grade_id] = ("This question's cell is missing from your notebook (deleted, or its "
                                           "metadata removed), so it scores 0. Copy it back from a fresh notebook.")
        elif question.auto:
            verdict = judge.verdict(question.grade_id, answers_dir)
            scores[question.grade_id] = verdict.points
            feedback[question.grade_id] = verdict.message[:MESSAGE_LIMIT]
            cases[question.grade_id] = [[case.case_id, case.passed] for case in verdict.cases]
            statuses[question.grade_id] = verdict.status
            misconceptions[question.grade_id] = verdict.misconceptions
        else:
            points, _ = determine_grade(cell)
            scores[question.grade_id] = None if points is None else float(points)
            feedback[question.grade_id] = "Written answer: graded by your instructor." if points is None \
                else "Not answered yet."
    return scores, feedback, cases, statuses, misconceptions


# --- all four steps --------------------------------------------------------------------------------

def grade_submission(path: Path, learner_id: str, setup: GradingSetup, seconds: float | None = None,
                     use_sandbox: bool | None = None, executed_to: Path | None = None,
                     limits: resource_limits.Limits | None = None,
                     starter: kernels.KernelStarter | None = None) -> SubmissionResult:
    """Grade one hand-in; never raises for anything in the hand-in itself.

    ``setup`` comes from :func:`prepare`.  ``executed_to``, if given, receives the executed
    notebook as graded (the harness in its check cells) -- for the instructor's eyes only.  ``limits`` default to
    :func:`default_limits`; ``starter`` (a class's :class:`~course_utils.instructor.kernels.KernelStarter`)
    to a cold one made for this hand-in.
    """
    notebook = setup.notebook
    started = time.monotonic()
    seconds = seconds or time_limit(notebook)
    use_sandbox = sandbox.sandbox_status().available if use_sandbox is None else use_sandbox
    questions = graded_cells(notebook)
    result = SubmissionResult(learner_id, notebook, GRADED, "", max_points=sum(q.points for q in questions if q.auto),
                              sandbox="bubblewrap" if use_sandbox else "unsandboxed")
    result.scores = {q.grade_id: 0.0 for q in questions}
    submission, problem = read_submission(path)
    if submission is None:
        result.status, result.message = UNREADABLE, problem
    else:
        own = starter is None
        starter = starter or kernels.KernelStarter(setup.package_dir, use_sandbox=use_sandbox, cold=True)
        try:
            _grade_readable(submission, result, questions, setup, seconds, starter,
                            limits or default_limits(seconds), executed_to)
        finally:
            if own:
                starter.close()
    result.seconds = round(time.monotonic() - started, 2)
    return result


def default_limits(seconds: float) -> resource_limits.Limits:
    """The default limits of a hand-in whose notebook may run ``seconds``.

    Each process may use twice that in processor time: a notebook looping in one thread meets the
    clock first (status ``timeout``), one burning several cores meets this limit.
    """
    return resource_limits.Limits(cpu_seconds=max(1, int(2 * seconds)))


def _grade_readable(submission, result: SubmissionResult, questions, setup: GradingSetup, seconds, starter,
                    limits, executed_to) -> None:
    own_ids = {q.grade_id for q in questions}
    if not own_ids & {_grade_id(cell) for cell in submission.cells}:
        other = handin.notebook_number(submission)
        result.status = WRONG_NOTEBOOK
        result.message = (f"This is course notebook {other}, not {result.notebook}: hand in the right file."
                          if other else f"This notebook has none of notebook {result.notebook}'s exercises: "
                          "hand in the course notebook you worked in, not a new one.")
        return
    notebook, changed = restore_instructor_cells(submission, result.notebook, setup.db_url)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as folder:
        answers_dir = Path(folder).joinpath(*ANSWERS)
        answers_dir.mkdir(parents=True)
        put_harness(notebook, setup.judge, answers_dir)
        # Cells the learner left as released and no verdict can depend on (figures, demonstrations) are skipped.
        cell_plan.mark_skipped(notebook, None if setup.every_cell else setup.released)
        outcome = run_submission(notebook, Path(folder), starter, seconds, limits, readable=[setup.judge.cases_dir])
        (result.scores, result.feedback, result.cases, result.statuses,
         result.misconceptions) = score_questions(notebook, questions, setup.judge, answers_dir)
    if executed_to is not None:
        Path(executed_to).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, executed_to)
    result.answers = written_answers(notebook, questions, result.scores)
    result.timings, result.kernel = outcome.timings, outcome.kernel
    notes = [outcome.message] if outcome.message else []
    if changed:
        notes.append(f"You changed {len(changed)} locked cell(s) ({', '.join(changed)}); they were put back as "
                     "released before grading.")
    if outcome.output_capped:
        notes.append(f"Your notebook printed more than {OUTPUT_LIMIT_BYTES // 1_000_000} MB of output; the rest was "
                     "dropped. Print summaries, not whole tables in a loop.")
    missing = [q.grade_id for q in questions if result.feedback[q.grade_id].startswith("This question's cell is missing")]
    if missing:
        notes.append(f"Missing question cell(s): {', '.join(missing)}.")
    result.status, result.message = outcome.status, " ".join(notes)


def written_answers(notebook: nbformat.NotebookNode, questions: Sequence[GradedCell], scores: dict) -> dict:
    """grade_id -> the learner's Reflect answer (Markdown), for each one waiting to be marked by hand."""
    cells = {_grade_id(cell): cell for cell in notebook.cells if _grade_id(cell)}
    return {question.grade_id: cells[question.grade_id].source for question in questions
            if not question.auto and scores.get(question.grade_id) is None and question.grade_id in cells}
