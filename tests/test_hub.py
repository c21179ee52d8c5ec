"""A class on a real JupyterHub, end to end: `make hub`, three learners in Chromium, an update, hand-in, grading.

One hub (``make hub`` on a free loopback port, a temporary class folder) serves the whole module; the
tests run in order, each on what the one before left:

1. three learners log in with the workshop password, follow the nbgitpuller link, get the learner
   edition cloned into their own home, run notebook 00 in JupyterLab, answer exercises and see ✅;
2. the instructor commits a fix to notebook 01 of the published edition; one learner follows the link
   again, keeps the answer she saved in notebook 00 and receives the fix (nbgitpuller's merge);
3. each learner hands in with ``course submit``, run in their own server's environment in their clone,
   and ``course grade`` on the collection folder gives three gradebook rows with the expected totals.

At the end JupyterHub is stopped; the module fails if any process of the class is left.  What this
cannot cover: Kubernetes, containers and a real login (Zero to JupyterHub; see the README).
Screenshots go to ``test-artifacts/browser/`` (gitignored), on failure too.
"""

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from hub_browser import (LEARNER_ENV, class_processes, follow_link, learner_environment, log_in,
                         process_environment, record_external_requests, running_hub)
from lab_browser import chromium, evidence, feedback_appears, page_cell, page_cells, run_all, run_cell, screenshot, \
    scroll_to, type_answer, wait_for

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "00_orientation.ipynb"

# What each learner answers in notebook 00, and so their auto-graded total (of 4 points).
N_PATIENTS = "n_patients = len(heart)"
SHARE_OF = ('def share_of(data, column, value):\n    if len(data) == 0:\n        return float("nan")\n'
            '    return float((data[column] == value).mean())')
ANSWERS = {
    "ada": {"orient-n-patients": N_PATIENTS},
    "grace": {"orient-n-patients": N_PATIENTS, "orient-share-function": SHARE_OF},
    "alan": {"orient-n-patients": N_PATIENTS, "orient-justice-principle": 'principle = "justice"'},
}
EXPECTED_TOTALS = {"ada": 1, "grace": 3, "alan": 2}
MAX_POINTS = 4
FIX = "*Correction from your instructor: the baseline model is introduced in Section 4.*"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with running_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def learners(browser, hub):
    """Each learner's browser context (own cookies), page and the requests it made elsewhere; closed at the end."""
    opened = {}
    yield opened
    for learner in opened.values():
        learner["context"].close()
    for name, learner in opened.items():
        assert not learner["external"], f"{name}'s pages requested other hosts: {learner['external']}"


def answer_cells(path):
    """Index of each graded answer cell and its check cell in the notebook at ``path``, by question id."""
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nbformat.read(path, as_version=4).cells]
    return {qid: (ids.index(f"{qid}-answer"), ids.index(qid)) for qid in ids if qid and f"{qid}-answer" in ids}


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_three_learners_get_the_course_from_the_link_and_see_their_answers_checked(hub, browser, learners):
    for name, answers in ANSWERS.items():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        learners[name] = {"context": context, "external": record_external_requests(context, hub)}
        page = log_in(context, hub, name)
        notebook, seconds = follow_link(page, hub, name)
        learners[name].update(page=page, notebook=notebook, seconds=seconds)
        print(f"{name}: link to open notebook with an idle kernel in {seconds:.1f} s")

        # The edition was cloned into this learner's own home, from the published repository.
        clone = hub.clone(name)
        assert (clone / ".git").is_dir() and notebook.path.is_file(), f"no clone in {hub.home(name)}"
        origin = subprocess.run(["git", "remote", "get-url", "origin"], cwd=clone, capture_output=True, text=True)
        assert origin.stdout.strip() == (hub.state / "published" / "health-ai-fairness-learner").as_uri()
        assert not (clone / "solutions").exists() and not (clone / "course_utils" / "instructor").exists()
        # Their server and kernel run on the learners' environment, in their home, with no instructor tools.
        environment = learner_environment(hub.state, name)
        assert environment["HOME"] == str(hub.home(name)) and environment["USER"] == name
        assert environment["PATH"].startswith(f"{LEARNER_ENV}/bin:")
        kernels = [command for pid, command in class_processes(hub.state).items()
                   if "ipykernel_launcher" in command and process_environment(pid).get("JUPYTERHUB_USER") == name]
        assert kernels and all(command.startswith(str(LEARNER_ENV / "bin" / "python")) for command in kernels), kernels

        cells = answer_cells(notebook.path)
        with evidence(notebook, f"hub_{name}_answer"):
            assert "Nbgrader" not in page.locator("#jp-MainMenu").inner_text()
            run_all(page)
            shown = " ".join(output["text"] for cell in page_cells(page) for output in cell["outputs"])
            assert "⏳ orient-n-patients: not answered yet" in shown and "Traceback" not in shown
            for qid, answer in answers.items():
                answer_index, check_index = cells[qid]
                type_answer(page, answer_index, answer)
                run_cell(page, check_index)
                correct = feedback_appears(page, check_index, f"✅ {qid}: correct")
                scroll_to(page, check_index)
                assert correct, (f"{name}: no ✅ for {qid}; the check cell shows "
                                 f"{page_cell(page, check_index).locator('.jp-OutputArea').text_content()!r}")
            screenshot(page, f"hub_{name}_answered")
            page.keyboard.press("ControlOrMeta+s")
            wait_for(page, "() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')", 60, "the notebook to be saved")
        saved = nbformat.read(notebook.path, as_version=4)
        for qid, answer in answers.items():
            answer_index, check_index = cells[qid]
            assert saved.cells[answer_index].source == answer, f"{name}'s saved answer to {qid}"
            assert "✅" in str(saved.cells[check_index].outputs), f"{name}'s saved feedback for {qid}"
    assert len({hub.home(name) for name in ANSWERS}) == 3


def test_a_learner_keeps_her_answers_and_gets_the_instructors_fix_by_following_the_link_again(hub, learners):
    assert "ada" in learners, "needs the learners of the test above"
    ada = hub.clone("ada")
    answered = ada / "notebooks" / NOTEBOOK
    before = sha256(answered)
    assert subprocess.run(["git", "diff", "--quiet", "--", f"notebooks/{NOTEBOOK}"], cwd=ada).returncode == 1, (
        "ada's saved notebook should differ from the published one")

    # The instructor fixes notebook 01 in the published edition's working copy, commits and pushes.
    edition = hub.state / "edition"
    fixed = edition / "notebooks" / "01_representation_audit.ipynb"
    notebook = nbformat.read(fixed, as_version=4)
    notebook.cells[0].source += "\n\n" + FIX
    nbformat.write(notebook, fixed)
    identity = ["-c", "user.name=Course instructor", "-c", "user.email=instructor@course.invalid"]
    subprocess.run(["git", *identity, "commit", "--quiet", "-am", "Notebook 01: where the baseline model comes in"],
                   cwd=edition, check=True)
    subprocess.run(["git", "push", "--quiet", "origin", "main"], cwd=edition, check=True)

    page = learners["ada"]["page"]
    notebook_page, seconds = follow_link(page, hub, "ada")
    print(f"ada: link followed again (update and merge) in {seconds:.1f} s")
    with evidence(notebook_page, "hub_ada_after_update"):
        cells = page_cells(page)
        answer_index, _ = answer_cells(answered)["orient-n-patients"]
        assert cells[answer_index]["source"] == N_PATIENTS, f"after the update the page shows {cells[answer_index]}"
    assert sha256(answered) == before, "the update changed ada's answered notebook"
    assert FIX in nbformat.read(ada / "notebooks" / "01_representation_audit.ipynb", as_version=4).cells[0].source
    log = subprocess.run(["git", "log", "--format=%s"], cwd=ada, capture_output=True, text=True, check=True).stdout
    assert "Notebook 01: where the baseline model comes in" in log and "Automatic commit by nbgitpuller" in log, log
    # The others did not follow the link again: their copies are as they left them.
    assert FIX not in (hub.clone("grace") / "notebooks" / "01_representation_audit.ipynb").read_text()


def test_hand_ins_from_the_hub_are_graded_with_the_expected_totals(hub, learners, tmp_path):
    assert set(learners) == set(ANSWERS), "needs the learners of the tests above"
    hand_ins = hub.state / "hand-ins"
    for name in ANSWERS:
        # `course submit` as a terminal in the learner's JupyterLab runs it: their server's environment,
        # their clone as the working folder, the `course` command of the learners' environment.
        environment = learner_environment(hub.state, name)
        course = shutil.which("course", path=environment["PATH"])
        assert course == str(LEARNER_ENV / "bin" / "course"), course
        done = subprocess.run([course, "submit", "00", "--out", str(hand_ins)], cwd=hub.clone(name), env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"Ready to hand in: {hand_ins / name / NOTEBOOK}" in done.stdout, done.stdout
        # Exactly the notebook the learner saved in the browser.
        assert sha256(hand_ins / name / NOTEBOOK) == sha256(hub.clone(name) / "notebooks" / NOTEBOOK)

    grades = tmp_path / "grades"
    done = subprocess.run([str(Path(sys.executable).with_name("course")), "grade", str(hand_ins), "--notebook", "00",
                           "--out", str(grades), "--quiet"], capture_output=True, text=True, timeout=600,
                          env={key: value for key, value in os.environ.items() if not key.startswith("COURSE_")})
    assert done.returncode == 0, done.stdout + done.stderr
    with open(grades / "gradebook.csv", encoding="utf-8-sig") as file:  # spreadsheets want the BOM
        rows = {row["learner_id"]: row for row in csv.DictReader(file)}
    assert set(rows) == set(ANSWERS), rows
    for name, total in EXPECTED_TOTALS.items():
        assert rows[name]["status"] == "graded", rows[name]
        assert (float(rows[name]["total"]), float(rows[name]["max"])) == (total, MAX_POINTS), rows[name]
