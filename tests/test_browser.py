"""The course in a real browser: what a learner sees in JupyterLab, started by `make lab`.

Playwright drives Debian's Chromium (``/usr/bin/chromium``; ``make system-deps`` installs it, and
Playwright never downloads a browser of its own).  One JupyterLab server serves a temporary copy of
``notebooks/`` for the whole module; each test opens its own fresh copy of a notebook in its own
JupyterLab workspace, so no test sees another's edits and the tracked notebooks are never written.

* ``test_code_exercise_gives_immediate_feedback``: Run All on notebook 01, then write one code exercise's
  function in the cell editor, wrong and then right, and read the check cell's feedback (❌ then ✅) on the page.
* ``test_run_all_reaches_the_end``: Run All on every notebook: every code cell executes, no cell shows
  an error, and the notebook the learner saves (and hands in) records all of it.
* ``test_whatif_explorer_moves_with_the_keyboard``: Run All on notebook 02, then move the women's threshold slider
  of the What-If explorer with the arrow keys and read the women's FNR from the page, equal to the FNR computed
  here with NumPy at the slider's new threshold; then edit a patient's measurement in the datapoint editor and see
  the score change.

Screenshots go to ``test-artifacts/browser/`` (gitignored), on failure too: the assertion message
names the file, and the end of the JupyterLab log is printed.
"""

import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from course_utils.exercises.questions import notebook_id_of
from lab_browser import (
    ARTIFACTS,
    PANEL,
    FEEDBACK_S,
    page_cell,
    page_cells,
    evidence,
    feedback_appears,
    run_all,
    run_cell,
    screenshot,
    scroll_to,
    tree_digest,
    type_answer,
    wait_for,
    chromium,
    close_page,
    open_page,
    running_lab,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# The exercise the feedback test answers: notebook 01, Exercise 10, a code exercise (group-balancing weights).
FEEDBACK_NOTEBOOK = "01_representation_audit.ipynb"
QUESTION_ID = "audit-weights-function"
FUNCTION = "group_balancing_weights"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` serving a temporary copy of ``notebooks/``; the tracked notebooks must stay as they are."""
    base = tmp_path_factory.mktemp("lab")
    served = base / "served"
    served.mkdir()
    tracked_before = tree_digest(ROOT / "notebooks")
    with running_lab(ROOT, base, served) as running:
        yield running
    tracked_after = tree_digest(ROOT / "notebooks")
    changed = {name for name in set(tracked_before) | set(tracked_after)
               if tracked_before.get(name) != tracked_after.get(name)}
    assert not changed, f"the browser tests changed tracked files in notebooks/: {sorted(changed)}"


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture
def open_notebook(browser, lab):
    """``open_notebook(name, workspace)`` opens a fresh copy of ``notebooks/<name>`` in JupyterLab and
    returns once the page is up and the course kernel is idle.  At the end the kernels are shut
    down, and the test fails if the page asked anything of a host other than the local server."""
    opened = []

    def _open(name, workspace):
        copy = lab.served / workspace / "notebooks" / name
        copy.parent.mkdir(parents=True)
        shutil.copy2(ROOT / "notebooks" / name, copy)
        context, notebook = open_page(browser, lab, copy, workspace)
        opened.append((context, notebook))
        return notebook

    yield _open

    for context, notebook in opened:
        close_page(context, notebook)
    for _, notebook in opened:
        assert not notebook.external_requests, (
            f"the page requested hosts other than the local server: {notebook.external_requests}")


# --------------------------------------------------------------------------------------------------
# The tests


# A wrong function, then a right one, each typed on one line as a learner may write it.
WRONG_ANSWER = (f"def {FUNCTION}(sensitive_features): groups = pd.Series(np.asarray(sensitive_features)); "
                "return 1 / groups.map(groups.value_counts()).to_numpy()")
RIGHT_ANSWER = (f"def {FUNCTION}(sensitive_features): groups = pd.Series(np.asarray(sensitive_features)); "
                "return (len(groups) / (groups.nunique() * groups.map(groups.value_counts()))).to_numpy()")


@pytest.mark.slow
def test_code_exercise_gives_immediate_feedback(open_notebook):
    # The released notebook holds the exercise as the test expects: the function's head and docstring with an
    # empty body, then its check.
    released = nbformat.read(ROOT / "notebooks" / FEEDBACK_NOTEBOOK, as_version=4)
    grade_ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in released.cells]
    answer = grade_ids.index(f"{QUESTION_ID}-answer")
    assert released.cells[answer].source.startswith(f"def {FUNCTION}(sensitive_features):")
    assert released.cells[answer].source.rstrip().endswith("# YOUR CODE HERE")
    assert grade_ids[answer + 1] == QUESTION_ID
    check = answer + 1

    shot = ARTIFACTS / "01_feedback.png"
    shot.unlink(missing_ok=True)
    notebook = open_notebook(FEEDBACK_NOTEBOOK, "feedback")
    page = notebook.page
    with evidence(notebook, "01_feedback"):
        run_all(page)
        cells = page_cells(page)
        assert len(cells) == len(released.cells), "the page does not show every cell of the notebook"
        assert cells[answer]["source"].startswith(f"def {FUNCTION}(")
        assert cells[check]["source"] == released.cells[check].source
        assert any(f"⏳ {QUESTION_ID}: not answered yet" in output["text"] for output in cells[check]["outputs"]), (
            f"after Run All the unanswered exercise says: {cells[check]['outputs']}")

        # A wrong function first: the learner is told at once what looks wrong.
        type_answer(page, answer, WRONG_ANSWER)
        run_cell(page, check)
        assert feedback_appears(page, check, f"❌ {QUESTION_ID}: not yet"), (
            f"no ❌ feedback for a wrong function; the check cell shows "
            f"{page_cell(page, check).locator('.jp-OutputArea').text_content()!r}")
        assert "average 1" in page_cell(page, check).locator(".jp-OutputArea").text_content()

        # Then a right one: ✅.
        type_answer(page, answer, RIGHT_ANSWER)
        run_cell(page, check)
        correct = feedback_appears(page, check, f"✅ {QUESTION_ID}: correct")
        scroll_to(page, check)
        screenshot(page, "01_feedback")
        feedback = page_cell(page, check).locator(".jp-OutputArea").text_content()
        # (evidence adds the screenshot's path to the message of any failure.)
        assert correct, f"no ✅ feedback for a right function; the check cell shows {feedback!r}"
        assert "❌" not in feedback, f"the old ❌ feedback is still shown: {feedback!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name", [path.name for path in NOTEBOOKS])
def test_run_all_reaches_the_end(open_notebook, name):
    stem = Path(name).stem
    shot = ARTIFACTS / f"run_all_{stem}.png"
    shot.unlink(missing_ok=True)
    notebook = open_notebook(name, f"run-all-{stem}")
    page = notebook.page
    with evidence(notebook, f"run_all_{stem}"):
        run_all(page)
        cells = page_cells(page)
        code = [index for index, cell in enumerate(cells) if cell["code"]]
        not_run = [index for index in code if not re.fullmatch(r"\[\d+\]:", cells[index]["prompt"])]
        # A traceback shows as stderr text (JupyterLab 4 renders errors with the stderr MIME type);
        # other stderr (a progress bar, say) is allowed, "Traceback" is allowed nowhere.
        errors = [index for index, cell in enumerate(cells) for output in cell["outputs"]
                  if "Traceback" in output["text"]
                  or (output["mime"] in ("application/vnd.jupyter.stderr", "application/vnd.jupyter.error")
                      and re.search(r"Error|Exception", output["text"]))]
        first_problem = (errors + not_run + [code[-1]])[0]
        scroll_to(page, first_problem)
        screenshot(page, f"run_all_{stem}")  # on failure evidence names it in the message

        def describe(indexes):
            return "\n".join(f"  cell {index} {cells[index]['prompt']} {cells[index]['source'][:70]!r}: "
                             f"{' | '.join(output['text'][:300] for output in cells[index]['outputs'])!r}"
                             for index in indexes)

        assert not errors, f"{name}: cells show an error after Run All:\n{describe(errors)}"
        assert not not_run, f"{name}: code cells without an execution count:\n{describe(not_run)}"

        # What the learner saves and hands in records the same: save (Ctrl+S), then read the file.
        page.keyboard.press("ControlOrMeta+s")
        wait_for(page, "() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')", FEEDBACK_S,
                  "the notebook to be saved")
        saved = nbformat.read(notebook.path, as_version=4)
        saved_code = [cell for cell in saved.cells if cell.cell_type == "code"]
        assert len(saved_code) == len(code), f"{name}: saved {len(saved_code)} code cells, the page shows {len(code)}"
        assert all(cell.execution_count for cell in saved_code), f"{name}: the saved notebook has unexecuted cells"
        saved_errors = [output.get("ename") for cell in saved_code for output in cell.outputs
                        if output.output_type == "error"]
        assert not saved_errors, f"{name}: the saved notebook holds errors {saved_errors}"


# --------------------------------------------------------------------------------------------------
# The What-If explorer of notebook 02, driven as a learner drives it

WHATIF_NOTEBOOK = "02b_debiasing_pipeline.ipynb"
FEMALE_SLIDER = ".course-whatif-slider-female"
FEMALE_FNR = "td[data-group='Female'][data-rate='fnr']"


def _validation_scores():
    """The baseline's validation scores with each patient's outcome and sex, read from the shipped CSV files."""
    from course_utils.data import heart_data_path

    raw = pd.read_csv(heart_data_path()).set_index("patient_id")
    shipped = pd.read_csv(heart_data_path().with_name("heart_debiasing_predictions.csv"))
    rows = shipped[(shipped["method"] == "baseline") & (shipped["split"] == "validation")]
    patients = raw.loc[rows["patient_id"]]
    return rows["score"].to_numpy(), (patients["diagnosis"] > 0).to_numpy(), patients["sex"].to_numpy()


def _women_fnr(threshold, scores, sick, sex):
    women_sick = sick & (sex == "Female")
    return float((scores[women_sick] < threshold).mean())


@pytest.mark.slow
def test_whatif_explorer_moves_with_the_keyboard(open_notebook):
    released = nbformat.read(ROOT / "notebooks" / WHATIF_NOTEBOOK, as_version=4)
    explorer_cell = next(i for i, cell in enumerate(released.cells) if cell.source.startswith("explorer = WhatIfExplorer("))
    scores, sick, sex = _validation_scores()
    # Enough presses of ArrowLeft (0.005 each, from 0.5) that the women's FNR changes: at least one woman with
    # disease scores just below 0.5 and is caught once the threshold passes her.
    start = _women_fnr(0.5, scores, sick, sex)
    presses = next(n for n in range(1, 101) if _women_fnr(round(0.5 - 0.005 * n, 3), scores, sick, sex) != start)

    shot = ARTIFACTS / "02b_whatif.png"
    shot.unlink(missing_ok=True)
    notebook = open_notebook(WHATIF_NOTEBOOK, "whatif")
    page = notebook.page
    with evidence(notebook, "02b_whatif"):
        run_all(page)
        scroll_to(page, explorer_cell)
        explorer = page_cell(page, explorer_cell).locator(".course-whatif")
        explorer.wait_for(timeout=FEEDBACK_S * 1000)
        slider = explorer.locator(FEMALE_SLIDER)
        readout = slider.locator(".widget-readout")
        fnr_cell = explorer.locator(FEMALE_FNR)
        assert readout.text_content().strip() == "0.500", f"the women's slider starts at {readout.text_content()!r}"
        assert float(fnr_cell.get_attribute("data-value")) == pytest.approx(start, abs=5e-4)  # shown to 3 decimals

        # Focus the handle and move it with the keyboard, as a learner without a mouse would.
        handle = slider.locator(".noUi-handle")
        handle.focus()
        for _ in range(presses):
            page.keyboard.press("ArrowLeft")
        shown = readout.text_content().strip()
        threshold = float(shown)
        assert threshold == pytest.approx(0.5 - 0.005 * presses, abs=1e-9), f"the slider reads {shown!r}"
        # The kernel answers with a new table: wait until its women's row shows the slider's threshold.
        wait_for(page, f"""() => {{
            const cell = document.querySelector("{PANEL} .course-whatif {FEMALE_FNR}");
            return cell && cell.parentElement.children[1].textContent.trim() === {shown!r};
        }}""", FEEDBACK_S, "the explorer's table to show the new threshold")
        on_page = float(fnr_cell.get_attribute("data-value"))
        expected = _women_fnr(threshold, scores, sick, sex)
        assert expected != start
        assert on_page == pytest.approx(expected, abs=5e-4), (
            f"at threshold {threshold} the page shows the women's FNR {on_page}; NumPy on the same scores gives {expected}")

        # The datapoint editor: change one patient's measurement, and the score on the page changes.
        explorer.locator(".lm-TabBar-tab", has_text="Datapoint editor").click()
        score_element = explorer.locator(".course-whatif-patient [data-score]")
        score_element.wait_for(timeout=FEEDBACK_S * 1000)
        before = score_element.get_attribute("data-score")
        field = explorer.locator(".course-whatif-field-age input")
        age_before = float(field.input_value())
        field.fill(f"{age_before + 2:.3f}")
        field.press("Enter")
        wait_for(page, f"""() => {{
            const score = document.querySelector("{PANEL} .course-whatif-patient [data-score]");
            return score && score.getAttribute("data-score") !== {before!r};
        }}""", FEEDBACK_S, "the patient's score to change after the edit")
        after = score_element.get_attribute("data-score")
        scroll_to(page, explorer_cell)
        screenshot(page, "02b_whatif")
        assert float(after) != pytest.approx(float(before), abs=5e-4), (before, after)  # scores shown to 3 decimals


@pytest.mark.slow
@pytest.mark.parametrize("name", ["01_representation_audit.ipynb", "02a_group_audit.ipynb", "02b_debiasing_pipeline.ipynb"])
def test_the_comparison_with_a_reflect_answer_stays_folded_until_opened(open_notebook, name):
    """A Reflect item's "Compare with your answer" is on the page folded: its text shows only once it is opened."""
    released = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    folded = [i for i, cell in enumerate(released.cells)
              if cell.cell_type == "markdown" and cell.source.startswith("<details><summary><b>Compare with your answer")]
    reflects = [i for i, cell in enumerate(released.cells) if "-reflect-" in cell.metadata.get("nbgrader", {}).get(
        "grade_id", "")]
    assert folded and all(any(r < i for r in reflects) for i in folded), "each comparison comes after a Reflect answer"
    notebook = open_notebook(name, f"folded-{notebook_id_of(name)}")
    page = notebook.page
    with evidence(notebook, f"{notebook_id_of(name)}_folded"):
        for index in folded:
            scroll_to(page, index)
            details = page_cell(page, index).locator("details")
            details.wait_for(state="attached", timeout=30_000)
            body = details.locator("p, li").first
            assert not body.is_visible(), f"cell {index}: the comparison is readable before it is opened"
            details.locator("summary").click()
            body.wait_for(state="visible", timeout=10_000)
        screenshot(page, f"{notebook_id_of(name)}_folded_opened")
