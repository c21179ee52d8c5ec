"""Honest work is graded right, and nothing secret is where a learner's code runs.

Through the real grader (bubblewrap sandbox, warm kernels), for every notebook: the solution earns full marks with
every public and hidden case passed, the unanswered release 0, and a hand-in that answers the first half of the
questions exactly their points.  Then the learner edition and a grading sandbox are searched for any line of the
hidden material and any reference result: there must be none.
"""

import json
import math
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS
from course_utils.instructor import gradebook, learner_edition, sandbox
from course_utils.instructor.judge import Judge
from course_utils.instructor.release import worked_release

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _auto(notebook: str) -> dict:
    return {qid: q.points for qid, q in QUESTIONS.items() if q.notebook == notebook}


def _half_answered(notebook: str) -> tuple[nbformat.NotebookNode, dict]:
    """The release with the first half of the graded questions (in notebook order) answered as the solution does."""
    solution = nbformat.read(ROOT / "solutions" / f"{NOTEBOOKS[notebook]}.ipynb", as_version=4)
    worked = {_grade_id(cell): cell.source for cell in worked_release(solution).cells if _grade_id(cell)}
    release = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOKS[notebook]}.ipynb", as_version=4)
    order = [_grade_id(cell) for cell in release.cells if _grade_id(cell) in _auto(notebook)]
    answered = order[: len(order) // 2]
    for cell in release.cells:
        if _grade_id(cell).removesuffix("-answer") in answered and _grade_id(cell).endswith("-answer"):
            cell.source = worked[_grade_id(cell)]
    return release, {qid: (_auto(notebook)[qid] if qid in answered else 0.0) for qid in order}


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_the_solution_earns_full_marks_half_its_half_and_nothing_zero(notebook, tmp_path):
    if not sandbox.sandbox_status().available:
        pytest.fail(f"The grading sandbox is not available: {sandbox.sandbox_status().reason}.")
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    solution = nbformat.read(ROOT / "solutions" / f"{NOTEBOOKS[notebook]}.ipynb", as_version=4)
    nbformat.write(worked_release(solution), folder / "Solution.ipynb")
    shutil.copy(ROOT / "notebooks" / f"{NOTEBOOKS[notebook]}.ipynb", folder / "Nothing.ipynb")
    half, expected_half = _half_answered(notebook)
    nbformat.write(half, folder / "Half.ipynb")
    results = {r.learner_id: r for r in gradebook.grade_class(folder, notebook, tmp_path / "grades", jobs=2,
                                                              progress=False)}
    auto = _auto(notebook)
    full = results["Solution"]
    assert full.status == "graded" and full.total == full.max_points == sum(auto.values()), full.feedback
    for qid in auto:
        assert full.cases[qid] == [] or all(passed for _, passed in full.cases[qid]), (qid, full.feedback[qid])
        assert full.cases[qid] == [] or any(case.startswith("h") for case, _ in full.cases[qid]), qid
    nothing = results["Nothing"]
    assert nothing.total == 0 and nothing.status == "graded", (nothing.status, nothing.message)
    half = results["Half"]
    assert {qid: half.scores[qid] for qid in auto} == expected_half, (half.status, half.message, half.feedback)


# --- nothing secret where learners or their code can look ----------------------------------------------------------

def _numbers(value) -> list[float]:
    """Every float in a reference result (scalars, containers, Series, tables, arrays)."""
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return _numbers(value.to_numpy().ravel().tolist())
    if isinstance(value, np.ndarray):
        return _numbers(value.ravel().tolist())
    if isinstance(value, dict):
        return _numbers(list(value.values()))
    if isinstance(value, (list, tuple)):
        return [number for item in value for number in _numbers(item)]
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return [float(value)]
    return []


def _distinctive(number: float) -> bool:
    """A number whose 8-decimal form could not turn up by chance: not a short decimal (0.5), not a simple fraction
    (1/3, 5/7) that any small table gives too."""
    if len(f"{abs(number):.8f}".rstrip("0").split(".")[1]) < 6:
        return False
    return not any(abs(number * q - round(number * q)) < 1e-9 for q in range(1, 61))


@pytest.fixture(scope="module")
def secrets(tmp_path_factory):
    """Lines of the hidden material, and every distinctive reference number not already among the case's inputs."""
    public = "\n".join(path.read_text() for path in (ROOT / "course_utils").rglob("*.py") if "instructor" not in path.parts)
    lines = set()
    for path in sorted((ROOT / "solutions" / "hidden").glob("*.py")):
        lines |= {" ".join(line.split()) for line in path.read_text().splitlines()
                  if len(line.strip()) >= 25 and not line.strip().startswith(("import ", "from ", "#", '"""'))
                  and not re.fullmatch(r'"[a-z0-9-]+": [\[{(]?', line.strip())  # a question's id as a key
                  and line.strip() not in public}  # a setting the notebook states too (the cohort's features)
    # Numbers the shipped data hold are public (a hidden case may take the course's own predictions as its reference).
    public_data = " ".join(path.read_text() for path in (ROOT / "data").glob("*.csv"))
    numbers = set()
    for notebook in sorted(NOTEBOOKS):
        judge = Judge(notebook, tmp_path_factory.mktemp(f"judge{notebook}"))
        for cases in judge.plans.values():
            for case in cases:
                if case.public:
                    continue
                given = {round(x, 10) for x in _numbers(list(judge.read_inputs(case.inputs).values()))}
                numbers |= {f"{x:.8f}" for x in _numbers(case.expected) if _distinctive(x) and round(x, 10) not in given}
    return sorted(lines), sorted(number for number in numbers if number not in public_data)


def test_the_learner_edition_holds_no_hidden_line_and_no_reference_result(secrets, tmp_path):
    lines, numbers = secrets
    assert len(lines) > 50 and len(numbers) > 50
    edition = learner_edition.export(tmp_path / "edition", git=False)
    for path in sorted(edition.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        leaked = [line for line in lines if line in text] + [n for n in numbers if n in text]
        assert not leaked, f"{path.relative_to(edition)} holds {leaked[:3]}"


PROBE = """import glob, json, os, re, sys
from pathlib import Path
LINES, NUMBERS = (set(part) for part in json.loads({secrets!r}))
OPERATING_SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev")
# The operating system and the installed Python and libraries are public software: skip them, but for anything of
# the course installed in the environment (an editable install's finder, its metadata).
SOFTWARE = OPERATING_SYSTEM + (sys.prefix, sys.base_prefix)
walked = [Path(p) for p in glob.glob(f"{{sys.prefix}}/lib/python*/site-packages/*course*")]
for top, folders, files in os.walk("/"):
    if top.startswith(SOFTWARE):
        folders[:] = []
        continue
    walked += [Path(top) / name for name in files]
found, searched = [], 0
for path in walked:
    try:
        for file in ([path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]):
            if file.stat().st_size < 20_000_000:
                text = file.read_bytes().decode("utf-8", errors="ignore")
                searched += 1
                lines = {{" ".join(line.split()) for line in text.splitlines()}}
                numbers = set(re.findall(r"\\d+\\.\\d{{8}}", text))
                found += [(str(file), secret[:60]) for secret in sorted((lines & LINES) | (numbers & NUMBERS))][:3]
    except OSError:
        pass
saw_cases = any(path.name == "cases.json" for path in walked)  # the judge's inputs, shown to the sandbox
print("searched", searched, "saw the cases", saw_cases, "found", found[:5])
held = searched > 100 and saw_cases and not found"""


def test_nothing_secret_is_inside_a_grading_sandbox(secrets, tmp_path):
    """A hand-in searches every file its sandbox shows (but the operating system's and the installed libraries')."""
    lines, numbers = secrets
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    notebook = worked_release(nbformat.read(ROOT / "solutions" / "00_orientation.ipynb", as_version=4))
    cell = next(cell for cell in notebook.cells if _grade_id(cell) == "orient-n-patients-answer")
    cell.source = PROBE.format(secrets=json.dumps([lines, numbers])) + "\nn_patients = len(heart) if held else -1"
    nbformat.write(notebook, folder / "Searcher.ipynb")
    (result,) = gradebook.grade_class(folder, "00", tmp_path / "grades", jobs=1, progress=False, keep_executed=True)
    executed = nbformat.read(tmp_path / "grades" / gradebook.EXECUTED_FOLDER / "Searcher.ipynb", as_version=4)
    printed = "".join(output.get("text", "") for cell in executed.cells if _grade_id(cell) == "orient-n-patients-answer"
                      for output in cell.outputs)
    assert result.scores["orient-n-patients"] == 1, printed
    assert "found []" in printed


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_a_judge_read_from_the_cache_is_the_judge_prepared_afresh(notebook, tmp_path, monkeypatch):
    from course_utils.exercises._transfer import encode

    monkeypatch.setenv("COURSE_JUDGE_CACHE", str(tmp_path / "cache"))
    fresh = Judge(notebook, tmp_path / "fresh", cache=False)
    saved = Judge(notebook, tmp_path / "first")    # prepared, then kept
    cached = Judge(notebook, tmp_path / "second")  # read back
    assert cached.cases_dir.parent.parent == tmp_path / "cache" and not (tmp_path / "second").exists()
    assert not (cached.cases_dir / "references.json").exists()  # references beside the sandbox's folder, not in it
    for judge in (saved, cached):
        assert {qid: key.digests for qid, key in judge.keys.items()} == {qid: key.digests for qid, key in fresh.keys.items()}
        for qid, cases in fresh.plans.items():
            assert [(c.case_id, c.name, json.dumps(c.inputs), c.check, c.reveal) for c in judge.plans[qid]] == [
                (c.case_id, c.name, json.dumps(c.inputs), c.check, c.reveal) for c in cases], qid  # NaN != NaN
            assert [json.dumps(encode(c.expected)) if c.check is None else None for c in judge.plans[qid]] == [
                json.dumps(encode(c.expected)) if c.check is None else None for c in cases], qid
