"""Run your notebooks and see where you stand: ``course check`` (and the learner edition's ``make test``).

Each notebook is run top to bottom in a fresh kernel -- your saved file is not changed -- and every
exercise's check line is collected: ✅ correct, ❌ not yet, ⏳ not answered, ⚠️ needs a valid answer.
Cells that raise an error are listed too, because an error stops a graded notebook's later cells
from counting.  The visible checks are formative: when your notebook is graded, your code answers
also run on data you have not seen.

Examples
--------
>>> report = NotebookReport("00", "00_orientation", ["✅ orient-n-patients: correct."], [])
>>> print(report)  # doctest: +NORMALIZE_WHITESPACE
Notebook 00 (00_orientation): 1 of 1 checks correct
  ✅ orient-n-patients: correct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS, notebook_id

_CHECK_SYMBOLS = ("✅", "❌", "⏳", "⚠️")


@dataclass
class NotebookReport:
    """What running one notebook showed: its check lines and the cells that raised errors."""

    number: str
    name: str
    checks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ran_cleanly(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        correct = sum(line.startswith("✅") for line in self.checks)
        lines = [f"Notebook {self.number} ({self.name}): {correct} of {len(self.checks)} checks correct"]
        lines += [f"  {line}" for line in self.checks]
        lines += [f"  ❗ {error}" for error in self.errors]
        return "\n".join(lines)


def course_notebooks() -> list[str]:
    """The numbers of the course's graded notebooks, in order."""
    return sorted(NOTEBOOKS)


def run_notebook_checks(number: str, folder: str | Path = "notebooks", timeout: int = 300) -> NotebookReport:
    """Run notebook ``number`` from ``folder`` in a fresh kernel and collect its check lines and errors."""
    from nbclient import NotebookClient

    number = notebook_id(number)
    if number not in NOTEBOOKS:
        raise ValueError(f"There is no notebook {number!r}; the course has notebooks {', '.join(course_notebooks())}.")
    path = Path(folder) / f"{NOTEBOOKS[number]}.ipynb"
    if not path.is_file():
        raise ValueError(f"There is no notebook at {path}. Run `course check` from the course folder, "
                         "or give the folder of your notebooks with --folder.")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                   extra_arguments=["--log-level=ERROR"], resources={"metadata": {"path": str(path.parent)}}).execute()
    report = NotebookReport(number, NOTEBOOKS[number])
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                report.checks += [line for line in output.get("text", "").splitlines()
                                  if line.startswith(_CHECK_SYMBOLS) and _names_a_question(line)]
            elif output.get("output_type") == "error":
                report.errors.append(f"cell {index} raised {output.get('ename')}: {output.get('evalue', '')}"[:300])
    return report


def _names_a_question(line: str) -> bool:
    words = line.split(maxsplit=2)
    return len(words) > 1 and words[1].rstrip(":") in QUESTIONS
