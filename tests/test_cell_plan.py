"""The grader skips the released cells no verdict can depend on, and the verdicts stay the same.

Fast tests read cells (``cell_names``) and plan notebooks (``cells_to_skip``); the slow ones grade: every
course notebook's worked solution gives byte-identical answers with and without skipping, and hand-ins
that lean on a skipped cell, tag cells themselves, or read names dynamically still get what they earn.
"""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils.exercises.questions import NOTEBOOKS
from course_utils.instructor import gradebook, grading, release, sandbox
from course_utils.instructor.cell_plan import SKIP_TAG, cell_names, cells_to_skip, mark_skipped

ROOT = Path(__file__).resolve().parents[1]
ANSWER = {"nbgrader": {"solution": True, "grade": False, "grade_id": "q-answer"}}
CHECK = {"nbgrader": {"solution": False, "grade": True, "grade_id": "q", "points": 1, "locked": True}}


# --- reading one cell ------------------------------------------------------------------------------

def test_a_functions_own_names_are_not_the_notebooks():
    names = cell_names("def audit(table, group):\n    rates = table.groupby(group).mean()\n"
                       "    return [r for r in rates if r > cutoff]\nsummary = audit(frame, 'sex')")
    assert names.loads == {"audit", "frame", "cutoff"}
    assert names.binds == {"audit", "summary"}
    assert cell_names("def setter():\n    global level\n    level = 3").binds == {"setter", "level"}


@pytest.mark.parametrize("source, changed", [
    ('df["risk"] = scores', {"df"}),                                  # an item assigned
    ("model.coef_ = weights", {"model"}),                            # an attribute assigned
    ("del table.loc[0]", {"table"}),
    ("result = learner_function(table, options)", {"table", "options"}),  # a function the notebook defined
    ("model.fit(X, y)", {"model"}),                                  # fitting changes the model only
    ("scores = model.predict_proba(X)[:, 1]", set()),                # reading changes nothing
    ("table.drop(columns=['a'], inplace=True)", {"table"}),           # ... unless in place
    ("rows.append(row)", {"rows", "row"}),                           # other methods: receiver and arguments
    ("mean = np.mean(values)", set()),                               # an imported function's value
    ("np.random.seed(0)", {"np"}),                                   # ... or its effect, called for that
    ("shuffle(order)", {"order"}),
    ("print(table)\ndisplay(table)\nplt.show()", set()),             # showing changes nothing
    ("n = len(rows) + sum(counts)", set()),                          # builtins neither
])
def test_what_a_cell_may_change(source, changed):
    assert cell_names(source, imported={"np", "shuffle", "plt", "display"}).changes == changed


def test_a_rebound_builtin_is_an_ordinary_function_again():
    assert cell_names("n = len(rows)", rebound={"len"}).changes == {"rows"}


@pytest.mark.parametrize("source", [
    "value = globals()['hidden']", "value = eval('hidden')", "exec('x = 1')", "value = vars()['x']",
    "%time total = run(x)", "!ls", "value = sys.modules['__main__'].hidden", "from course_utils import *",
    "def broken(:\n    pass", "value = Out[3]",
])
def test_names_reached_at_run_time_or_unreadable_code_are_dynamic(source):
    assert cell_names(source).dynamic


@pytest.mark.parametrize("source, writes", [
    ("table.to_csv('out.csv')", True), ("Path('a.txt').write_text('x')", True),
    ("with open('notes.txt', 'w') as f:\n    f.write('x')", True), ("fig.savefig('f.png')", True),
    ("os.chdir('/tmp')", True), ("table = table.rename(columns=str.lower)", False), ("print(1)", False),
])
def test_cells_that_write_outside_the_kernel(source, writes):
    assert cell_names(source).writes is writes


def test_importing_records_what_was_imported():
    names = cell_names("import numpy as np\nfrom sklearn.metrics import roc_auc_score as auc\nimport os.path")
    assert names.imports == {("np", "numpy"), ("auc", "sklearn.metrics.roc_auc_score"), ("os", "os.path")}


# --- planning a notebook ---------------------------------------------------------------------------

def _notebook(*sources, answer: str = "def q(): return 1", at: int | None = None) -> nbformat.NotebookNode:
    """Code cells from ``sources``, with the answer cell and its check cell inserted at ``at`` (default: the end)."""
    cells = [new_code_cell(source) for source in sources]
    at = len(cells) if at is None else at
    cells[at:at] = [new_markdown_cell("Exercise"), new_code_cell(answer, metadata=ANSWER),
                    new_code_cell("check('q', q)", metadata=CHECK)]
    return new_notebook(cells=cells)


DEMO = ("import numpy as np\nfrom helpers import check, make_table",
        "table = make_table(100)",
        "shares = table.mean()\nshares",
        "figure = np.outer(shares, shares)")


def _skipped_sources(notebook, released):
    return [notebook.cells[index].source for index in cells_to_skip(notebook, released)]


def test_a_released_notebook_skips_what_no_answer_reads():
    released = _notebook(*DEMO)
    assert _skipped_sources(released, released) == [DEMO[1], DEMO[2], DEMO[3]]


def test_an_answer_that_reads_a_name_pulls_the_cells_that_made_it():
    released = _notebook(*DEMO)
    handed_in = _notebook(*DEMO, answer="def q(): return shares.sum()")
    assert _skipped_sources(handed_in, released) == [DEMO[3]]  # shares needs table: both run


def test_a_cell_that_may_change_a_name_an_answer_reads_runs():
    demo = (*DEMO, "learner_table = make_table(5)", "summary = q(learner_table)")
    released = _notebook(*demo, at=4)
    handed_in = _notebook(*demo, answer="def q(t): return t.sum()", at=4)
    handed_in.cells.append(new_code_cell("final = learner_table.max()"))  # the learner's own cell reads it
    skipped = _skipped_sources(handed_in, released)
    assert "summary = q(learner_table)" not in skipped and "learner_table = make_table(5)" not in skipped


def test_a_cell_the_learner_changed_or_added_always_runs():
    released = _notebook(*DEMO)
    changed = _notebook(DEMO[0], DEMO[1], DEMO[2] + "\nprint('mine')", DEMO[3])
    changed.cells.insert(2, new_code_cell("print('my own cell')"))
    skipped = _skipped_sources(changed, released)
    assert DEMO[2] + "\nprint('mine')" not in skipped and "print('my own cell')" not in skipped
    assert DEMO[3] in skipped


def test_an_answer_that_reads_names_dynamically_runs_everything():
    released = _notebook(*DEMO)
    for answer in ("def q(): return globals()['figure']", "def q(): return eval('figure')",
                   "%load_ext autoreload\ndef q(): return 1"):
        assert cells_to_skip(_notebook(*DEMO, answer=answer), released) == []


def test_cells_that_write_files_always_run_and_importing_again_pulls_nothing():
    demo = (*DEMO, "import numpy as np\ntable.to_csv('table.csv')")
    released = _notebook(*demo)
    assert _skipped_sources(released, released) == [DEMO[2], DEMO[3]]  # table: read by the writing cell
    again = (*DEMO, "import numpy as np\nextra = np.zeros(2)")
    released = _notebook(*again, answer="def q(): return np.ones(1)")
    assert again[4] in _skipped_sources(released, _notebook(*again))


def test_a_learners_own_skip_tag_counts_for_nothing():
    released = _notebook(*DEMO)
    handed_in = _notebook(*DEMO)
    for cell in handed_in.cells:
        cell.metadata["tags"] = [SKIP_TAG, "mine"]
    skipped = mark_skipped(handed_in, released)
    tagged = [index for index, cell in enumerate(handed_in.cells) if SKIP_TAG in cell.metadata.get("tags", [])]
    assert tagged == skipped == cells_to_skip(handed_in, released)
    assert all("mine" in cell.metadata["tags"] for cell in handed_in.cells)
    assert mark_skipped(handed_in, None) == [] and not any(
        SKIP_TAG in cell.metadata.get("tags", []) for cell in handed_in.cells)


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_every_course_notebook_skips_cells_but_never_an_answer_or_a_check(notebook):
    solution = grading.solution_notebook(notebook)
    worked, released = release.worked_release(solution), release.release_notebook(solution)
    skipped = cells_to_skip(worked, released)
    assert skipped, "a notebook whose every cell a verdict needs: the plan found nothing to skip"
    for index in skipped:
        metadata = worked.cells[index].metadata.get("nbgrader", {})
        assert not metadata.get("solution") and not metadata.get("grade"), index
    assert skipped[0] > next(i for i, cell in enumerate(worked.cells) if cell.cell_type == "code")


# --- grading ---------------------------------------------------------------------------------------

def _answers(folder: Path, notebook: str, every_cell: bool, out: Path):
    """Grade ``folder``'s hand-ins; return the results and the bytes of every answer file the harness wrote."""
    written = {}
    real = grading.score_questions

    def keep_answers(graded, questions, judge, answers_dir):
        written.update({path.name: path.read_bytes() for path in Path(answers_dir).iterdir()})
        return real(graded, questions, judge, answers_dir)

    with mock.patch.object(grading, "score_questions", keep_answers):
        results = gradebook.grade_class(folder, notebook, out, jobs=1, progress=False, every_cell=every_cell)
    return results, written


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_skipping_changes_no_answer_of_a_course_notebook(notebook, tmp_path):
    if not sandbox.sandbox_status().available:
        pytest.fail(f"grading needs its sandbox: {sandbox.sandbox_status().reason}")
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(release.worked_release(grading.solution_notebook(notebook)), folder / "Solution.ipynb")
    (every,), every_answers = _answers(folder, notebook, True, tmp_path / "every")
    (planned,), planned_answers = _answers(folder, notebook, False, tmp_path / "planned")
    assert every.total == every.max_points and planned.total == planned.max_points, planned.feedback
    assert planned.cases == every.cases
    assert sorted(planned_answers) == sorted(every_answers) and len(planned_answers) >= 3
    assert [name for name in every_answers if planned_answers[name] != every_answers[name]] == []


def _orientation_hand_in(folder: Path, name: str, change) -> None:
    notebook = release.worked_release(grading.solution_notebook("00"))
    change({cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{i}"): cell
            for i, cell in enumerate(notebook.cells)}, notebook)
    nbformat.write(notebook, folder / f"{name}.ipynb")


@pytest.mark.slow
def test_hand_ins_that_lean_on_skipped_cells_or_tag_cells_get_what_they_earn(tmp_path):
    """Each would lose points if the plan skipped what it needs, or let a learner's tag skip a check."""
    if not sandbox.sandbox_status().available:
        pytest.fail(f"grading needs its sandbox: {sandbox.sandbox_status().reason}")
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    digest = next(cell.source for cell in grading.solution_notebook("00").cells
                  if cell.cell_type == "code" and "verify_heart_data()" in cell.source)

    def reads_the_checksum(cells, notebook):  # `digest` is made by a cell the plan skips for the solution
        cells["orient-n-patients-answer"].source = "n_patients = len(heart) if len(digest) == 64 else -1"

    def tags_its_checks(cells, notebook):
        for cell in notebook.cells:
            cell.metadata["tags"] = [SKIP_TAG]

    def reads_names_dynamically(cells, notebook):
        cells["orient-n-patients-answer"].source = "n_patients = len(globals()['heart'])"

    def changes_a_demonstration(cells, notebook):  # a cell the plan skips, changed: it is the learner's now
        cell = next(cell for cell in notebook.cells if cell.source == "describe_heart_columns()")
        cell.source = "describe_heart_columns()\nheart = heart.iloc[:10]"

    for name, change in [("Reads Checksum", reads_the_checksum), ("Tags Checks", tags_its_checks),
                         ("Reads Globals", reads_names_dynamically), ("Changes Demo", changes_a_demonstration)]:
        _orientation_hand_in(folder, name, change)
    results = {r.learner_id: r for r in gradebook.grade_class(folder, "00", tmp_path / "grades", jobs=2,
                                                              progress=False, keep_executed=True)}
    for name in ("Reads Checksum", "Tags Checks", "Reads Globals"):
        assert results[name].total == results[name].max_points, (name, results[name].feedback)

    def executed(name):
        return nbformat.read(tmp_path / "grades" / gradebook.EXECUTED_FOLDER / f"{name}.ipynb", as_version=4)

    checksum_cell = next(cell for cell in executed("Reads Checksum").cells
                         if cell.cell_type == "code" and cell.source == digest)
    assert checksum_cell.outputs and SKIP_TAG not in checksum_cell.metadata.get("tags", [])
    assert not any(SKIP_TAG in cell.metadata.get("tags", []) for cell in executed("Reads Globals").cells)
    assert any(SKIP_TAG in cell.metadata.get("tags", []) and not cell.outputs for cell in executed("Tags Checks").cells)
    # The changed cell ran: the count of patients is the changed data's, and scores 0.
    assert results["Changes Demo"].scores["orient-n-patients"] == 0
    assert results["Changes Demo"].total == results["Changes Demo"].max_points - 1



@pytest.mark.parametrize("notebook", ["03", "04"])
def test_the_readmes_count_of_cells_run_is_the_plans(notebook):
    solution = grading.solution_notebook(notebook)
    worked = release.worked_release(solution)
    code = sum(cell.cell_type == "code" for cell in worked.cells)
    run = code - len(cells_to_skip(worked, release.release_notebook(solution)))
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    stated = re.search(r"On notebook 03 a full-marks hand-in runs (\d+) of its (\d+) code cells; on notebook 04, "
                       r"(\d+) of (\d+)\.", text)
    assert stated, "the README's sentence on how many cells grading runs is gone"
    numbers = [int(n) for n in stated.groups()]
    assert (numbers[:2] if notebook == "03" else numbers[2:]) == [run, code]
