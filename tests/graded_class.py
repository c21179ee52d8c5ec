"""A class of notebook 02a with the mistakes learners make, for the class report's tests and benchmark.

Each hand-in is the worked release with some answers left as handed out and some changed into a known
misconception of the checks (a PPV of 0 where it is undefined, a percentage for a proportion, a gap
subtracted in a fixed order), so that the class has spread in every question and the judge's misconception
ids fire.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from course_utils.instructor import grading, release

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "02a"
HOSTILE_NAME = "<img src=x onerror=alert(1)> Eve"

PPV_ZERO = ('float(tpr * prevalence / flagged) if flagged > 0 else float("nan")',
            "float(tpr * prevalence / flagged) if flagged > 0 else 0.0")
PPV_NO_PREVALENCE = ('float(tpr * prevalence / flagged) if flagged > 0 else float("nan")',
                     'float(tpr / (tpr + fpr)) if tpr + fpr > 0 else float("nan")')
VA_PERCENT = ('va_share_high_sugar = (patients.loc[high_sugar, "site"] == "VA Long Beach").mean()',
              'va_share_high_sugar = 100 * (patients.loc[high_sugar, "site"] == "VA Long Beach").mean()')
GAPS_FIXED_ORDER = ("return float(by_group[column].max() - by_group[column].min())",
                    "return float(by_group[column].iloc[0] - by_group[column].iloc[-1])")


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def auto_questions() -> list[str]:
    return [q.grade_id for q in grading.graded_cells(NOTEBOOK) if q.auto]


REFLECT_ANSWER = ("Fasting blood sugar is missing far more often at one site, so a model that leans on it learns "
                  "where a patient was seen as much as how ill they are.")


def learner(edits=(), keep=None, reflect=True) -> nbformat.NotebookNode:
    """The release with the worked answers, ``edits`` (old, new) applied; ``keep``: only these questions answered;
    ``reflect``: the Reflect items answered (with one sentence)."""
    worked = release.worked_release(grading.solution_notebook(NOTEBOOK))
    released = nbformat.read(ROOT / "notebooks" / release.solution_path(NOTEBOOK).name, as_version=4)
    answers = {_grade_id(cell): cell.source for cell in worked.cells if _grade_id(cell).endswith("-answer")}
    for cell in released.cells:
        grade_id = _grade_id(cell)
        if grade_id in answers and (keep is None or grade_id.removesuffix("-answer") in keep):
            source = answers[grade_id]
            for old, new in edits:
                source = source.replace(old, new)
            cell.source = source
        elif reflect and cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = REFLECT_ANSWER
    return released


def write_class(folder: Path) -> dict[str, nbformat.NotebookNode]:
    """Write the class's hand-ins into ``folder`` (and one broken file); return them by learner."""
    order = auto_questions()
    hand_ins = {
        "Solution": learner(),
        "Nothing": learner(keep=(), reflect=False),
        "First half": learner(keep=order[: len(order) // 2]),
        "Second half": learner(keep=order[len(order) // 2:], reflect=False),
        "PPV zero": learner([PPV_ZERO]),
        "No prevalence, percent": learner([PPV_NO_PREVALENCE, VA_PERCENT]),
        "Fixed order": learner([GAPS_FIXED_ORDER, VA_PERCENT], keep=order[: 2 * len(order) // 3]),
        HOSTILE_NAME: learner([PPV_ZERO, GAPS_FIXED_ORDER]),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, notebook in hand_ins.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "Broken.ipynb").write_text("{ not a notebook", encoding="utf-8")
    return hand_ins
