"""No Reflect answer is readable on a learner's screen before they have written theirs.

A notebook shows all its Markdown at once, above and below the answer cell, so "on screen" is every Markdown cell
of the learner's edition except a folded "Compare with your answer" block (``<details>``: closed until the learner
opens it; ``tests/test_browser.py`` checks that it renders folded in JupyterLab).  A Reflect answer counts as shown
when the visible Markdown repeats more than a few of its six-word phrases -- measured against the course's own model
answer (the solution's answer cell) and against each folded comparison.
"""

import re

import nbformat
import pytest

from course_utils.instructor import release

NOTEBOOKS = ("00_orientation", "01_representation_audit", "02a_group_audit", "02b_debiasing_pipeline", "03_ethics_review",
             "04_imaging_audit")
FOLDED = "<details>"
MOST_SHARED = 0.05  # a share of an answer's six-word phrases that may recur by chance (a number, a group's name)


def phrases(text, length=6):
    words = re.findall(r"[a-z0-9]+(?:[.'][a-z0-9]+)*", text.lower())
    return {tuple(words[i:i + length]) for i in range(len(words) - length + 1)}


def visible_markdown(edition):
    return "\n".join(cell.source for cell in edition.cells if cell.cell_type == "markdown"
                     and not cell.source.lstrip().startswith(FOLDED)
                     and not cell.metadata.get("nbgrader", {}).get("solution"))


def answers(stem):
    """(name, text) of each Reflect model answer in the solution and each folded comparison in the edition."""
    solution = nbformat.read(release.SOLUTIONS_DIR / f"{stem}.ipynb", as_version=4)
    edition = nbformat.read(release.NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
    found = [(cell.metadata["nbgrader"]["grade_id"], cell.source) for cell in solution.cells
             if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")]
    found += [(f"folded comparison {i}", cell.source) for i, cell in enumerate(edition.cells)
              if cell.cell_type == "markdown" and cell.source.lstrip().startswith(FOLDED)]
    return edition, found


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_no_reflect_answer_is_readable_before_it_is_opened(stem):
    edition, found = answers(stem)
    shown = phrases(visible_markdown(edition))
    assert found, f"{stem} has Reflect items"
    for name, text in found:
        own = phrases(text)
        shared = own & shown
        assert len(shared) <= MOST_SHARED * len(own), (
            f"{stem}, {name}: {len(shared)} of its {len(own)} phrases are on screen, e.g. "
            f"{[' '.join(p) for p in list(shared)[:3]]}")


@pytest.mark.parametrize("stem", ["01_representation_audit", "02a_group_audit", "02b_debiasing_pipeline"])
def test_each_folded_comparison_follows_its_reflect_answer_cell(stem):
    edition = nbformat.read(release.NOTEBOOKS_DIR / f"{stem}.ipynb", as_version=4)
    reflects = [i for i, cell in enumerate(edition.cells) if "-reflect-" in cell.metadata.get("nbgrader", {}).get(
        "grade_id", "")]
    folded = [i for i, cell in enumerate(edition.cells) if cell.cell_type == "markdown"
              and cell.source.lstrip().startswith(FOLDED)]
    assert folded and all(index - 1 in reflects for index in folded), (folded, reflects)


def test_the_scan_finds_an_answer_left_on_screen():
    """Not blind: the 02a comparison of its Reflect unfolded into ordinary Markdown is found at once."""
    edition, found = answers("02a_group_audit")
    comparison = next(text for name, text in found if name.startswith("folded") and "composition" in text)
    unfolded = comparison.replace(FOLDED, "").replace("</details>", "")
    own = phrases(comparison)
    assert len(own & phrases(visible_markdown(edition) + "\n" + unfolded)) > MOST_SHARED * len(own)
