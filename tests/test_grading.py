"""`course grade` on a class full of faulty hand-ins: every one gets a row, nothing leaks, nothing escapes.

One batch grades the class of ``tests/faulty_submissions.py`` (notebook 00, 24 hand-ins) in the
bubblewrap sandbox; the tests below read its gradebook, feedback files and executed copies.
"""

import csv
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils.instructor import gradebook, sandbox
from faulty_submissions import FULL, QUESTIONS, answered_release, build_class, escape_targets

ROOT = Path(__file__).resolve().parents[1]
MARKER = f"course-escape-{os.getpid()}"
COURSE = [str(Path(sys.executable).parent / "course")]
STATUSES = {"graded", "timeout", "kernel-died", "unreadable", "wrong-notebook", "missing", "grader-error"}

pytestmark = pytest.mark.slow


def _sha256(folder: Path) -> dict:
    return {path.relative_to(folder): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


class LoopbackListener:
    """A TCP server on the host's loopback that counts who connects (a sandboxed kernel must not)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.server.getsockname()[1], 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the whole faulty class once; keep everything the tests look at."""
    if not sandbox.sandbox_status().available:
        pytest.fail(f"The grading sandbox is not available: {sandbox.sandbox_status().reason}. "
                    "Run `make system-deps` as root (Debian package bubblewrap).")
    root = tmp_path_factory.mktemp("class")
    folder, out = root / "hand-ins", root / "grades"
    listener = LoopbackListener()
    secret = next(line for line in _hidden_test_lines() if "pandas category" in line)
    expected = build_class(folder, repo=ROOT, out=out, port=listener.port, marker=MARKER, secret=secret)
    # a stray file and a checkpoint folder, which are not hand-ins
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "Ng, Mai" / ".ipynb_checkpoints").mkdir()
    shutil.copy(folder / "李明.ipynb", folder / "Ng, Mai" / ".ipynb_checkpoints" / "00_orientation-checkpoint.ipynb")
    before = _sha256(folder)
    started = time.monotonic()
    results = gradebook.grade_class(folder, "00", out, jobs=2, seconds=40, keep_executed=True, progress=False)
    return {"folder": folder, "out": out, "expected": expected, "results": {r.learner_id: r for r in results},
            "before": before, "after": _sha256(folder), "listener": listener,
            "seconds": time.monotonic() - started}


def test_every_hand_in_gets_exactly_one_row(graded):
    assert set(graded["results"]) == set(graded["expected"])
    for result in graded["results"].values():
        assert result.status in STATUSES
        assert result.sandbox == "bubblewrap"
        if result.status != "graded":
            assert result.message, f"{result.learner_id}: a {result.status} row must say why"


@pytest.mark.parametrize("learner", sorted([
    "Siân O'Connor", "José Núñez-García", "李明", "Ng, Mai", "Malformed Json", "Not A Notebook", "Binary File",
    "Empty File", "Empty Notebook", "Wrong Notebook", "Cells Deleted", "Cells Reordered", "Test Cell Edited",
    "Grade Id Removed", "Infinite Loop", "Sys Exit", "Os Exit", "Kernel Crash", "Fifty Megabytes",
    "Raises Everywhere", "Reads Solutions", "Writes Outside", "Opens Network", "Imports Instructor Tools", "Remounts Read Only", "Leaks Hidden Test", "Answer Key"]))
def test_each_hand_in_gets_the_grade_it_deserves(graded, learner):
    expected, result = graded["expected"][learner], graded["results"][learner]
    assert (result.status, result.total) == (expected.status, expected.total), result.message
    assert expected.message in result.message
    for question in expected.zero:
        assert result.scores[question] == 0, question
    # the score is the sum of the question scores (a hand calculation, not the grader's own total)
    assert result.total == sum(v for v in result.scores.values() if v is not None)


def test_hand_ins_are_byte_identical_after_grading(graded):
    assert graded["before"] == graded["after"]
    assert len(graded["before"]) >= len(graded["expected"])


def test_gradebook_csv_has_one_column_per_question_and_real_names(graded):
    with (graded["out"] / "gradebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    solution = nbformat.read(ROOT / "solutions" / "00_orientation.ipynb", as_version=4)
    question_ids = [c.metadata["nbgrader"]["grade_id"] for c in solution.cells
                    if c.metadata.get("nbgrader", {}).get("grade")]
    assert list(rows[0]) == ["learner_id", *question_ids, "total", "max", "status", "message", "sandbox"]
    by_name = {row["learner_id"]: row for row in rows}
    assert set(by_name) == set(graded["expected"])
    # names survive as written: comma, apostrophe, accents (NFC even when the file name was NFD), CJK
    assert "José Núñez-García" in by_name and unicodedata.is_normalized("NFC", "José Núñez-García")
    assert by_name["Ng, Mai"]["total"] == str(FULL) and by_name["Siân O'Connor"]["total"] == str(FULL)
    for row in rows:
        auto = [float(row[q]) for q in QUESTIONS]
        assert float(row["total"]) == sum(auto)
        assert row["max"] == str(FULL)
    # the written answer is blank (to grade by hand) when answered, 0 when left as released
    assert by_name["Siân O'Connor"]["orient-reflect-bias-stages"] == ""
    assert by_name["李明"]["orient-reflect-bias-stages"] == "0"


def _hidden_test_lines():
    """Every line of notebook 00's hidden material (solutions/hidden), long enough to say something."""
    text = (ROOT / "solutions" / "hidden" / "00_orientation.py").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 12 and not line.strip().startswith(
        ("import ", "from ", "def ", "return ", '"""', "#"))]


def _reference_numbers():
    """The hidden cases' reference results of notebook 00, as the feedback could print them."""
    from course_utils.instructor.judge import Judge

    judge = Judge("00", Path(tempfile.mkdtemp()))
    numbers = [case.expected for case in judge.plans["orient-share-function"] if not case.public]
    return [f"{number:.4f}" for number in numbers if isinstance(number, float) and 0 < number < 1]


def test_feedback_files_never_show_hidden_tests(graded):
    hidden, references = _hidden_test_lines(), _reference_numbers()
    assert len(hidden) >= 5 and len(references) >= 3
    files = sorted((graded["out"] / "feedback").glob("*.md"))
    assert len(files) == len(graded["expected"])
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "Traceback" not in text
        for line in hidden:
            assert line not in text, f"{path.name} shows hidden test line {line!r}"
        for number in references:
            assert number not in text, f"{path.name} shows a hidden reference result {number}"
    leak = (graded["out"] / "feedback" / "Leaks Hidden Test.md").read_text(encoding="utf-8")
    quoted = leak.split("AssertionError: LEAKED", 1)[1].split(";")[0]
    assert len("LEAKED" + quoted) <= 200 + 20  # the learner's own message: at most its first 200 characters


def test_feedback_shows_each_questions_result_and_message(graded):
    text = (graded["out"] / "feedback" / "José Núñez-García.md").read_text(encoding="utf-8")
    assert "2 of 4 auto-graded points" in text
    assert "✅ **orient-n-patients** (1 / 1): Correct." in text
    # the judge's own words: which cases failed and how, a public case's stored result, no hidden one's
    assert "❌ **orient-share-function** (0 / 2): 11 of 11 cases failed" in text
    assert "one woman among three patients: 0.3333 expected, 0.5 returned" in text


def _printed(graded, learner):
    notebook = nbformat.read(graded["out"] / gradebook.EXECUTED_FOLDER / f"{learner}.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "orient-n-patients-answer")
    return "".join(output.get("text", "") for output in cell.outputs)


def test_sandbox_hides_solutions_hidden_tests_and_classmates(graded):
    printed = _printed(graded, "Reads Solutions")
    assert "cannot open the solution" in printed and "found: []" in printed
    assert graded["results"]["Reads Solutions"].scores["orient-n-patients"] == 1


def test_sandbox_keeps_files_from_being_written_outside(graded):
    printed = _printed(graded, "Writes Outside")
    assert "written: []" in printed and printed.count("cannot write") == 4
    left = [path for path in escape_targets(ROOT, graded["folder"], graded["out"], MARKER) if path.exists()]
    assert left == []


def test_sandbox_has_no_network(graded):
    printed = _printed(graded, "Opens Network")
    assert "reached: []" in printed and printed.count("no connection to") == 3
    assert graded["listener"].connections == 0


def test_other_learners_grades_are_unaffected_by_the_class(graded, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("Siân O'Connor.ipynb", "李明.ipynb"):
        shutil.copy(graded["folder"] / name, alone / name)
    results = gradebook.grade_class(alone, "00", tmp_path / "out", jobs=1, progress=False)
    for result in results:
        in_class = graded["results"][result.learner_id]
        assert (result.status, result.scores, result.feedback) == (in_class.status, in_class.scores, in_class.feedback)


def test_without_a_sandbox_every_row_says_unsandboxed(tmp_path):
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(answered_release(), folder / "Ada.ipynb")
    shutil.copy(ROOT / "notebooks" / "00_orientation.ipynb", folder / "Bo.ipynb")
    results = gradebook.grade_class(folder, "00", tmp_path / "out", jobs=2, use_sandbox=False, progress=False)
    assert [(r.learner_id, r.total, r.sandbox) for r in results] == [("Ada", FULL, "unsandboxed"),
                                                                      ("Bo", 0, "unsandboxed")]
    rows = list(csv.DictReader((tmp_path / "out" / "gradebook.csv").open(encoding="utf-8-sig")))
    assert {row["sandbox"] for row in rows} == {"unsandboxed"}


def test_a_failure_of_the_grader_is_tried_again_logged_and_never_a_learners_loss(tmp_path, monkeypatch):
    """The grader failing once on a hand-in (a kernel slow to start) costs nothing; failing every time makes that
    hand-in a grader-error row with a clear message, its traceback in grader-errors.log, and no one else is touched."""
    from course_utils.instructor import grading

    folder = tmp_path / "hand-ins"
    folder.mkdir()
    for name in ("Ada", "Bo", "Cy"):
        nbformat.write(answered_release(), folder / f"{name}.ipynb")
    real, calls = grading.grade_submission, []

    def failing(path, learner_id, *args, **kwargs):
        calls.append(learner_id)
        if learner_id == "Bo" or (learner_id == "Ada" and calls.count("Ada") == 1):
            raise RuntimeError(f"kernel of {learner_id} did not start")
        return real(path, learner_id, *args, **kwargs)

    monkeypatch.setattr(grading, "grade_submission", failing)
    results = {r.learner_id: r for r in gradebook.grade_class(folder, "00", tmp_path / "out", jobs=2, progress=False)}
    assert sorted(calls) == ["Ada", "Ada", "Bo", "Bo", "Cy"]
    assert (results["Ada"].status, results["Ada"].total) == ("graded", FULL)
    assert (results["Cy"].status, results["Cy"].total) == ("graded", FULL)
    assert results["Bo"].status == "grader-error" and results["Bo"].total == 0
    assert "RuntimeError: kernel of Bo did not start" in results["Bo"].message and "by hand" in results["Bo"].message
    log = (tmp_path / "out" / gradebook.GRADER_ERRORS_LOG).read_text(encoding="utf-8")
    assert log.count("== Ada, attempt 1 of 2") == 1 and "== Ada, attempt 2" not in log
    assert log.count("== Bo, attempt") == 2 and log.count("Traceback (most recent call last)") == 3
    assert "Cy" not in log
    with (tmp_path / "out" / "gradebook.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert {row["learner_id"]: row["status"] for row in csv.DictReader(handle)}["Bo"] == "grader-error"
    monkeypatch.setattr(grading, "grade_submission", real)
    gradebook.grade_class(folder, "00", tmp_path / "out", jobs=2, progress=False)
    assert not (tmp_path / "out" / gradebook.GRADER_ERRORS_LOG).exists()  # a clean regrade leaves no stale log


def _descendants(pid):
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    found = [int(child) for child in children]
    for child in list(found):
        found += _descendants(child)
    return found


def _kernel_pids(grader_pid):
    """The grader's kernels: started cold (ipykernel_launcher) or forked from the warm template into a
    sandbox (the template's command line, but another PID namespace than the grader's)."""
    pids, own = [], os.readlink(f"/proc/{grader_pid}/ns/pid")
    for pid in _descendants(grader_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            sandboxed = os.readlink(f"/proc/{pid}/ns/pid") != own
        except OSError:
            continue
        if b"ipykernel_launcher" in command or (b"kernel_template.py" in command and sandboxed):
            pids.append(pid)
    return pids


def test_the_sandboxed_kernel_dies_with_the_grader(tmp_path):
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    notebook = answered_release()
    notebook.cells.insert(3, nbformat.v4.new_code_cell("while True:\n    pass"))
    nbformat.write(notebook, folder / "Spinner.ipynb")
    grader = subprocess.Popen([*COURSE, "grade", str(folder), "--notebook", "00", "--out", str(tmp_path / "out"),
                               "--timeout", "600", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, kernels, others = time.monotonic() + 90, [], []
        while time.monotonic() < deadline and not kernels:
            kernels = _kernel_pids(grader.pid)
            time.sleep(0.5)
        assert kernels, "the grader never started a kernel"
        time.sleep(2)  # the kernel is now spinning in the loop
        others = _descendants(grader.pid)  # the sandbox, the warm template
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in kernels + others):
        time.sleep(0.2)
    alive = [pid for pid in kernels + others if Path(f"/proc/{pid}").exists()
             and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"]
    assert alive == [], "the learner's kernel (or another process the grader started) outlived the grader"


def test_course_grade_command_writes_gradebook_and_feedback(tmp_path):
    folder = tmp_path / "hand-ins"
    (folder / "Ada Lovelace").mkdir(parents=True)
    nbformat.write(answered_release(), folder / "Ada Lovelace" / "00_orientation.ipynb")
    (folder / "Empty Folder").mkdir()
    done = subprocess.run([*COURSE, "grade", str(folder), "--notebook", "0", "--out", str(tmp_path / "out"),
                           "--quiet"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 hand-ins: 1 graded, 1 missing; mean score 4.0 of 4." in done.stdout
    assert (tmp_path / "out" / "feedback" / "Ada Lovelace.md").exists()
    row = next(r for r in csv.DictReader((tmp_path / "out" / "gradebook.csv").open(encoding="utf-8-sig"))
               if r["learner_id"] == "Empty Folder")
    assert row["status"] == "missing" and "No notebook" in row["message"]


def test_course_grade_every_cell_runs_the_cells_a_default_run_skips(tmp_path):
    from course_utils.instructor.cell_plan import SKIP_TAG

    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(answered_release(), folder / "Ada.ipynb")
    executed = {}
    for name, extra in (("default", []), ("every", ["--every-cell"])):
        done = subprocess.run([*COURSE, "grade", str(folder), "--notebook", "00", "--out", str(tmp_path / name),
                               "--quiet", "--keep-executed", *extra], capture_output=True, text=True)
        assert done.returncode == 0 and "mean score 4.0 of 4." in done.stdout, done.stderr
        notebook = nbformat.read(tmp_path / name / gradebook.EXECUTED_FOLDER / "Ada.ipynb", as_version=4)
        executed[name] = [cell for cell in notebook.cells if cell.cell_type == "code"]
    skipped = [i for i, cell in enumerate(executed["default"]) if SKIP_TAG in cell.metadata.get("tags", [])]
    assert skipped and all(not executed["default"][i].outputs for i in skipped)
    assert not any(SKIP_TAG in cell.metadata.get("tags", []) for cell in executed["every"])
    assert all(executed["every"][i].get("execution_count") for i in skipped)


@pytest.mark.parametrize("arguments, message", [
    (["grade", "{tmp}/nowhere", "--notebook", "00"], "does not exist"),
    (["grade", "{tmp}", "--notebook", "07"], "There is no notebook '07'"),
    (["grade", "{tmp}", "--notebook", "00", "--out", "{tmp}/grades"], "outside the hand-in folder"),
])
def test_course_grade_refuses_bad_arguments_clearly(tmp_path, arguments, message):
    done = subprocess.run([*COURSE, *(a.format(tmp=tmp_path) for a in arguments)], capture_output=True, text=True)
    assert done.returncode == 2 and message in done.stderr


def test_learner_submit_packages_the_notebook_byte_for_byte(tmp_path):
    source = tmp_path / "my work.ipynb"
    nbformat.write(answered_release(), source)
    done = subprocess.run([*COURSE, "submit", "00", "--path", str(source), "--learner", "Siân O'Connor",
                           "--out", str(tmp_path / "hand-in")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "hand-in" / "Siân O'Connor" / "00_orientation.ipynb"
    assert copy.read_bytes() == source.read_bytes()
    assert "Every exercise has an answer" in done.stdout
    # ... and the grader reads the hand-in folder as it is
    results = gradebook.grade_class(tmp_path / "hand-in", "00", tmp_path / "grades", jobs=1, progress=False)
    assert [(r.learner_id, r.total) for r in results] == [("Siân O'Connor", FULL)]


def test_find_hand_ins_accepts_both_layouts_and_reports_duplicates(tmp_path):
    nb = nbformat.writes(answered_release())
    (tmp_path / "Ann").mkdir()
    (tmp_path / "Ann" / "00_orientation.ipynb").write_text(nb)
    time.sleep(0.01)
    (tmp_path / "Ann.ipynb").write_text(nb)  # newer
    (tmp_path / "._Ann.ipynb").write_bytes(b"\x00")  # a macOS resource fork
    (tmp_path / "notes.txt").write_text("not a hand-in")
    hand_ins = gradebook.find_hand_ins(tmp_path, "00")
    assert [(h.learner_id, h.path.name) for h in hand_ins] == [("Ann", "Ann.ipynb")]
    assert "Two hand-ins found" in hand_ins[0].note


# --- answers read from the learner package earn nothing on a code question ------------------------------------


@pytest.mark.parametrize("number", ["00", "01", "02a", "02b", "03", "04"])
def test_an_answer_key_hand_in_earns_no_point(number, tmp_path):
    """Each value answer from the question objects, each code answer made of the public cases' stored results:
    the question objects hold no value, and the judge's hidden cases refuse every code answer."""
    from course_utils.exercises.questions import QUESTIONS
    from faulty_submissions import answer_key_notebook

    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(answer_key_notebook(number), folder / "Answer Key.ipynb")
    (result,) = gradebook.grade_class(folder, number, tmp_path / "grades", jobs=1, progress=False)
    assert result.status == "graded", result.message
    own = {qid: q for qid, q in QUESTIONS.items() if q.notebook == number}
    code = [qid for qid, q in own.items() if q.answer_type == "code"]
    assert code, f"notebook {number} has no code question"
    assert all(result.scores[qid] == 0 for qid in code), {qid: result.scores[qid] for qid in code}
    assert result.total == 0, result.scores
    # One comparison, one tolerance: on the public cases, the judge accepts exactly what the visible check accepts.
    from faulty_submissions import ANSWER_KEY_TOOLS

    tools = {"np": np}
    exec(ANSWER_KEY_TOOLS, tools)  # the hand-in's own helper, run here as the check would see it
    for qid in code:
        public = [passed for case, passed in result.cases[qid] if case.startswith("p")]
        if not QUESTIONS[qid].public_at_grading:  # its public cases are the learner's check only (each trains a CNN)
            assert public == [], qid
            continue
        assert public, qid
        assert all(public) == QUESTIONS[qid].evaluate(tools["answer_from_public_cases"](qid)).passed, qid
    assert any(all(passed for case, passed in result.cases[qid] if case.startswith("p")) for qid in code), \
        "no public-case copy passes its check: the comparison above tested nothing"
