"""The similarity report (course_utils.instructor.similarity): planted copies found, independent work left alone.

The calibration class (tests/similarity_class.py) is 40 learners of notebook 02a who wrote their own answers and
8 who copied another's and disguised the copy; the report must find every copy pair (recall 1) and flag almost
nothing else (precision at least 0.9).  The unit tests show what the normalisation ignores (names, comments,
docstrings, layout, keyword order) and what it does not (the library calls, the operations), and the hostile
hand-ins show that nothing a learner writes can break the report or run in the instructor's browser.
"""

from __future__ import annotations

import csv
import html
import io
import json
import random
import re
import shutil
import subprocess
import tokenize
from pathlib import Path

import nbformat
import pytest

import similarity_class
from course_utils.instructor import similarity
from course_utils.instructor.similarity import fingerprints, normalise

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / ".venv" / "bin" / "course"


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    klass = similarity_class.write_class(tmp_path_factory.mktemp("calibration") / "hand-ins", seed=0)
    return klass, similarity.compare_class(klass.folder, "02a")


def pair_key(pair) -> frozenset:
    return frozenset((pair.learner_a, pair.learner_b))


# --- the calibration class -------------------------------------------------------------------------

def test_the_calibration_class_is_forty_distinct_programs_and_eight_disguised_copies(calibration):
    klass, _ = calibration
    assert len(klass.learners) == 48 and len(klass.copiers) == 8 and len(klass.planted) == 9
    own = [learner for learner in klass.learners if learner not in klass.copiers]
    programs = {tuple(klass.answers[learner][q] for q in similarity_class.QUESTIONS) for learner in own}
    assert len(programs) == 40
    # Every copy differs from its original as text (renamed, re-laid-out) but is the same program underneath.
    for copier, (original, questions) in klass.copiers.items():
        for question in questions:
            if klass.answers[original][question] == similarity_class.released_answers()[question]:
                continue
            assert klass.answers[copier][question] != klass.answers[original][question]


def test_planted_copies_are_found_with_full_recall_and_high_precision(calibration):
    klass, result = calibration
    flagged = {pair_key(pair) for pair in result.flagged}
    found = flagged & klass.planted
    precision, recall = len(found) / max(len(flagged), 1), len(found) / len(klass.planted)
    n = len(result.learners)
    print(f"\ncalibration class (seed 0, {n} hand-ins, {n * (n - 1) // 2} pairs): {len(flagged)} flagged, "
          f"precision {precision:.2f}, recall {recall:.2f}, threshold {result.threshold}")
    assert recall == 1, f"missed copies: {klass.planted - flagged}"
    assert precision >= 0.9, f"flagged without a copy: {flagged - klass.planted}"


def test_the_partial_copy_is_found_by_its_copied_answers(calibration):
    klass, result = calibration
    partial = next(copier for copier, (_, questions) in klass.copiers.items() if len(questions) == 2)
    original, questions = klass.copiers[partial]
    pair = result.pair(partial, original)
    assert pair is not None and pair.reason
    assert {score.question for score in pair.flagged} >= {q for q in questions if pair.questions[q].score >= 0.85}
    assert all(pair.questions[q].score >= similarity.DEFAULT_THRESHOLD for q in questions)


def test_the_default_threshold_separates_copies_from_independent_work(calibration):
    """The calibration behind DEFAULT_THRESHOLD, re-measured: full copies above it, independent pairs below."""
    klass, result = calibration
    scores = {pair_key(pair): pair for pair in result.pairs}
    full_copies = [frozenset((copier, original)) for copier, (original, questions) in klass.copiers.items()
                   if len(questions) == len(similarity_class.QUESTIONS)]
    lowest_copy = min(scores[pair].overall for pair in full_copies)
    independent = [pair for key, pair in scores.items() if key not in klass.planted]
    highest_independent = max(pair.overall for pair in independent)
    print(f"\nfull copies: lowest overall {lowest_copy:.2f}; "
          f"independent pairs: highest overall {highest_independent:.2f}")
    assert highest_independent < similarity.DEFAULT_THRESHOLD <= lowest_copy
    long_and_close = [score.shared for pair in independent for score in pair.questions.values()
                      if score.score >= similarity.ANSWER_THRESHOLD]
    assert max(long_and_close, default=0) < similarity.LONG_ANSWER


def test_independent_pairs_sharing_the_solutions_idioms_do_not_flag(calibration, monkeypatch):
    klass, result = calibration
    first, second = klass.solution_followers
    followers = result.pair(first, second)
    assert followers is None or not followers.reason
    # The solution's code is what they share: counted, it would flag them.
    monkeypatch.setattr(similarity, "_reference_kgrams",
                        lambda notebook, questions, k: ({question: set() for question in questions}, []))
    unguarded = similarity.compare_class(klass.folder, "02a").pair(first, second)
    assert unguarded is not None and unguarded.reason, "the followers share no solution code: the test shows nothing"


def test_answers_left_as_released_are_never_scored(tmp_path):
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    for learner in ("Ana", "Bo", "Chen"):
        shutil.copy(similarity_class.RELEASED, folder / f"{learner}.ipynb")
    result = similarity.compare_class(folder, "02a")
    assert result.pairs == [] and result.flagged == []
    assert any("3 of 3 answers have fewer than" in note.text for note in result.notes if not note.learner_id)


def test_common_code_is_set_aside_but_a_copy_between_two_is_not(tmp_path):
    """A fingerprint most of the class shares is common code; one only two share is never common."""
    folder = tmp_path / "hand-ins"
    body = similarity_class.audit_answer(random.Random(5))[0]
    for index in range(4):  # four learners hand in one audit (a class-wide idiom) ...
        similarity_class.write_notebook({similarity_class.AUDIT: body}, folder / f"learner {index}.ipynb")
    result = similarity.compare_class(folder, "02a")
    assert result.flagged == []
    folder2 = tmp_path / "two"
    for index in range(2):  # ... two learners of two hand in one audit: a copy, however small the class
        similarity_class.write_notebook({similarity_class.AUDIT: body}, folder2 / f"learner {index}.ipynb")
    assert len(similarity.compare_class(folder2, "02a").flagged) == 1


# --- what the normalisation ignores, and what it keeps ----------------------------------------------

ORIGINAL = '''
import numpy as np

def audit(y_true, y_pred, groups):
    """Rates per group."""
    rates = {}
    for group in np.unique(groups):
        chosen = groups == group
        positives = y_true[chosen] == 1
        rates[group] = float(np.mean(y_pred[chosen][positives] == 1)) if positives.any() else np.nan
    return pd.Series(rates).sort_index(ascending=True, kind="stable")
'''


def tokens(source):
    return normalise(source).tokens


def test_renaming_every_local_name_changes_nothing():
    renamed = (ORIGINAL.replace("rates", "out").replace("group", "g").replace("chosen", "mask")
               .replace("positives", "sick").replace("y_true", "truth").replace("y_pred", "flags")
               .replace("def audit", "def my_audit"))
    assert renamed != ORIGINAL and tokens(renamed) == tokens(ORIGINAL)


def test_comments_docstrings_and_whitespace_change_nothing():
    noisy = ORIGINAL.replace('"""Rates per group."""', '"""Another docstring,\n\n    over lines."""  # why')
    noisy = noisy.replace("    rates = {}", "    # start empty\n\n    rates  =  { }   # per group\n    'a bare string'")
    noisy = noisy.replace("np.mean(", "np.mean( ").replace("    ", "  ")  # two-space indentation
    assert noisy != ORIGINAL and tokens(noisy) == tokens(ORIGINAL)


def test_keyword_order_changes_nothing():
    swapped = ORIGINAL.replace('ascending=True, kind="stable"', "kind='stable', ascending=True")
    assert swapped != ORIGINAL and tokens(swapped) == tokens(ORIGINAL)
    assert fingerprints(tokens(swapped)) == fingerprints(tokens(ORIGINAL))


def test_keywords_of_the_cells_own_functions_are_renamed_with_their_parameters():
    first = "def rate(hit, among):\n    return hit[among].mean()\nx = rate(among=a, hit=b)\n"
    second = "def share(num, den):\n    return num[den].mean()\nx = share(den=a, num=b)\n"
    assert tokens(first) == tokens(second)
    assert tokens(first) != tokens(first.replace("rate(among=a, hit=b)", "rate(among=b, hit=a)"))


SUMMARY = """
def summary(frame, column):
    counts = frame.groupby(column, observed=True).size()
    means = frame.groupby(column, observed=True)["score"].mean()
    missing = frame[column].isna().mean()
    return pd.DataFrame({"n": counts, "mean": means}).assign(missing=missing)
"""


def test_swapping_independent_lines_keeps_most_fingerprints():
    head, counts, means, missing, ending = SUMMARY.strip().splitlines()
    reordered = "\n".join([head, missing, means, counts, ending])
    a, b = fingerprints(tokens(SUMMARY)), fingerprints(tokens(reordered))
    print(f"\nshared fingerprints after reordering: {len(a & b)} of {len(a)} and {len(b)}")
    assert tokens(reordered) != tokens(SUMMARY) and len(a & b) >= 0.7 * min(len(a), len(b))
    # Numbered across the whole cell (canonical_source), the placeholders follow the new order: fewer survive.
    def numbered_across_the_cell(text):
        canonical = similarity.canonical_source(text)
        return [token.string for token in tokenize.generate_tokens(io.StringIO(canonical).readline)
                if token.string.strip()]

    across = [fingerprints(numbered_across_the_cell(text)) for text in (SUMMARY, reordered)]
    assert len(across[0] & across[1]) < len(a & b)


def test_library_names_attributes_and_operations_are_kept():
    for changed in (ORIGINAL.replace("np.unique", "np.sort"), ORIGINAL.replace("pd.Series", "pd.DataFrame"),
                    ORIGINAL.replace(".sort_index(", ".sort_values("), ORIGINAL.replace("== 1)) if", "!= 1)) if"),
                    ORIGINAL.replace("ascending=True", "ascending=False")):
        assert tokens(changed) != tokens(ORIGINAL)


def test_an_unrelated_answer_shares_few_fingerprints():
    other = '''
def audit(y_true, y_pred, groups):
    frame = pd.DataFrame({"y": y_true, "p": y_pred, "g": groups})
    return frame[frame["y"] == 1].groupby("g")["p"].mean()
'''
    a, b = fingerprints(tokens(ORIGINAL)), fingerprints(tokens(other))
    assert len(a & b) <= 0.1 * min(len(a), len(b))


def test_the_placeholders_follow_first_appearance():
    assert similarity.canonical_source("b = 1\na = b + c\n") == "_v0 = 1\n_v1 = _v0 + c"


def test_a_cell_that_does_not_parse_is_compared_token_by_token():
    broken = ORIGINAL.replace("for group in np.unique(groups):", "for group in np.unique(groups)")  # no colon
    result = normalise(broken)
    assert result.method == "tokens" and "does not parse" in result.note and "line" in result.note
    renamed = normalise(broken.replace("rates", "out").replace("chosen", "mask"))
    assert renamed.tokens == result.tokens  # names it binds are still numbered
    assert "np" in result.tokens and "unique" in result.tokens


@pytest.mark.parametrize("source", ["x = " + "(" * 5000 + "1" + ")" * 5000, "x = 1\x00\ny = 2\n",
                                    "def f(:\n" * 3000, "\ufeff\u202e = 1\n", "", "   \n\n"],
                         ids=["deep nesting", "NUL byte", "thousands of broken lines", "odd characters", "empty",
                              "blank"])
def test_no_source_makes_the_normalisation_raise(source):
    result = normalise(source)
    assert result.method in ("ast", "tokens", "")
    assert len(result.tokens) == len(result.lines)


def test_an_enormous_cell_is_cut_and_said_to_be(tmp_path):
    folder = tmp_path / "hand-ins"
    huge = "x = 1\n" * (similarity.MAX_CELL_CHARACTERS // 6 + 1000)
    similarity_class.write_notebook({similarity_class.AUDIT: huge}, folder / "Bo.ipynb")
    notes = similarity.compare_class(folder, "02a").notes
    assert any(note.learner_id == "Bo" and "only the first" in note.text for note in notes)


def test_ipython_magics_do_not_stop_the_parser():
    assert normalise("%time x = compute(data)\ny = x + 1\n").method == "ast"


def test_winnowing_reproduces_the_papers_example():
    # Schleimer, Wilkerson and Aiken (2003), figure 2: robust winnowing with w = 4.
    hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98]
    assert sorted(similarity.winnow(hashes, 4).values()) == [8, 17, 17, 17, 39]


# --- hostile and broken hand-ins ------------------------------------------------------------------

ATTACK = "</script><script>alert(1)</script>"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Two learners who share an audit answer with a script in it, a hostile name, and broken hand-ins."""
    folder = tmp_path_factory.mktemp("hostile") / "hand-ins"
    body, _ = similarity_class.audit_answer(random.Random(11))
    body = body.replace('    """\n', f'    """\n    note = "{ATTACK}"  # {ATTACK}\n', 1)
    similarity_class.write_notebook({similarity_class.AUDIT: body}, folder / f"{HOSTILE_NAME}.ipynb")
    similarity_class.write_notebook({similarity_class.AUDIT: body}, folder / "Bo.ipynb")
    for index, seed in enumerate((21, 22)):  # two honest learners, so the copy is not the whole class
        similarity_class.write_notebook({similarity_class.AUDIT: similarity_class.audit_answer(
            random.Random(seed))[0]}, folder / f"honest {index}.ipynb")
    (folder / "broken json.ipynb").write_text('{"cells": [', encoding="utf-8")
    similarity_class.write_notebook({similarity_class.AUDIT: "library(fairness)\naudit <- function(y) { y }\n",
                                     similarity_class.GAPS: '"""never closed\nstill open\n'},
                                    folder / "other language.ipynb")
    notebook = nbformat.read(similarity_class.RELEASED, as_version=4)
    notebook.cells = [cell for cell in notebook.cells
                      if cell.metadata.get("nbgrader", {}).get("grade_id") != similarity_class.AUDIT]
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == similarity_class.GAPS:
            cell.cell_type = "markdown"
            cell.pop("outputs", None), cell.pop("execution_count", None)
    nbformat.write(notebook, folder / "missing cell.ipynb")
    (folder / "Jane Doe").mkdir()  # a folder with no notebook
    out = folder.parent / "grades"
    return folder, out, similarity.similarity_report(folder, "02a", out)


def test_hostile_hand_ins_are_reported_not_crashed_on(hostile):
    folder, out, result = hostile
    notes = {(note.learner_id, note.question): note.text for note in result.notes}
    assert "Unreadable hand-in" in notes[("broken json", "")]
    assert "damaged" in notes[("broken json", "")]
    assert "compared token by token" in notes[("other language", similarity_class.AUDIT)]
    assert "could not be read as Python code" in notes[("other language", similarity_class.GAPS)]
    assert "missing" in notes[("missing cell", similarity_class.AUDIT)]
    assert "markdown cell" in notes[("missing cell", similarity_class.GAPS)]
    assert "No hand-in found" in notes[("Jane Doe", "")]
    assert [pair_key(pair) for pair in result.flagged] == [frozenset((HOSTILE_NAME, "Bo"))]


def test_the_page_escapes_everything_and_can_run_no_script(hostile):
    folder, out, result = hostile
    page = (out / similarity.HTML_NAME).read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert html.escape(ATTACK) in page and html.escape(HOSTILE_NAME) in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)[1]
    assert "default-src 'none'" in policy and "script-src" not in policy
    tags = re.findall(r"<[^>]*>", page)
    assert not [tag for tag in tags if re.search(r"\s(src|href|on\w+)\s*=", tag, re.I)]  # nothing loaded or run
    assert '<span class="m">' in page  # the shared lines are highlighted
    for note in result.notes:  # every note is on the page
        assert html.escape(note.text) in page


def test_a_hostile_name_cannot_become_a_spreadsheet_formula(tmp_path):
    folder = tmp_path / "hand-ins"
    body, _ = similarity_class.audit_answer(random.Random(3))
    for name in ("=HYPERLINK(evil)", "Bo", "honest"):
        answer = body if name != "honest" else similarity_class.audit_answer(random.Random(4))[0]
        similarity_class.write_notebook({similarity_class.AUDIT: answer}, folder / f"{name}.ipynb")
    result = similarity.similarity_report(folder, "02a", tmp_path / "out")
    rows = list(csv.DictReader(result.csv_path.open(encoding="utf-8-sig")))
    assert rows and all(not row["learner_a"].startswith("=") and not row["learner_b"].startswith("=") for row in rows)
    assert "'=HYPERLINK(evil)" in {row["learner_a"] for row in rows} | {row["learner_b"] for row in rows}


def test_the_report_refuses_to_write_into_the_hand_in_folder_and_a_bad_threshold(tmp_path):
    (tmp_path / "hand-ins").mkdir()
    with pytest.raises(ValueError, match="outside the hand-in folder"):
        similarity.similarity_report(tmp_path / "hand-ins", "02a", tmp_path / "hand-ins" / "grades")
    with pytest.raises(ValueError, match="between 0 and 1"):
        similarity.compare_class(tmp_path / "hand-ins", "02a", threshold=7)


# --- the files and the command ---------------------------------------------------------------------

def test_the_csv_lists_each_flagged_pair_overall_and_per_question(calibration, tmp_path):
    klass, result = calibration
    path = similarity.write_csv(result, tmp_path / "similarity.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    overall = {frozenset((row["learner_a"], row["learner_b"])): float(row["score"])
               for row in rows if row["question"] == similarity.OVERALL}
    assert set(overall) == {pair_key(pair) for pair in result.flagged}
    questions = [row for row in rows if row["question"] != similarity.OVERALL]
    assert questions and all(row["question"] in result.questions for row in questions)
    for row in questions:
        pair = result.pair(row["learner_a"], row["learner_b"])
        assert float(row["score"]) == pytest.approx(pair.questions[row["question"]].score, abs=5e-4)


def run_course(*arguments):
    return subprocess.run([str(COURSE), *map(str, arguments)], capture_output=True, text=True, timeout=300)


def test_the_command_writes_both_files(calibration, tmp_path):
    klass, result = calibration
    out = tmp_path / "grades" / "02a"
    done = run_course("similarity", klass.folder, "--notebook", "02a", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"{len(result.flagged)} pair(s) flagged" in done.stdout
    rows = list(csv.DictReader((out / similarity.CSV_NAME).open(encoding="utf-8-sig")))
    flagged = {frozenset((row["learner_a"], row["learner_b"])) for row in rows}
    assert flagged == klass.planted
    page = (out / similarity.HTML_NAME).read_text(encoding="utf-8")
    for copier in klass.copiers:
        assert html.escape(copier) in page


def test_the_command_anonymises_with_the_graders_codes(calibration, tmp_path):
    klass, _ = calibration
    out = tmp_path / "grades"
    out.mkdir()
    graders = {learner: f"learner-{index:06x}" for index, learner in enumerate(klass.learners[:10])}
    (out / "results.json").write_text(json.dumps({"notebook": "02a", "codes": graders}), encoding="utf-8")
    done = run_course("similarity", klass.folder, "--notebook", "02a", "--out", out, "--anonymise",
                      "--threshold", "0.8")
    assert done.returncode == 0, done.stderr
    page = (out / similarity.HTML_NAME).read_text(encoding="utf-8")
    table = (out / similarity.CSV_NAME).read_text(encoding="utf-8-sig")
    for learner in klass.learners:
        assert html.escape(learner) not in page and learner not in table
    codes = json.loads((out / similarity.CODES_NAME).read_text(encoding="utf-8"))["codes"]
    assert {learner: codes[learner] for learner in graders} == graders  # the grader's codes are reused
    shown = {row["learner_a"] for row in csv.DictReader(table.splitlines())}
    assert shown and shown <= set(codes.values())
    again = run_course("similarity", klass.folder, "--notebook", "02a", "--out", out, "--anonymise")
    assert again.returncode == 0
    assert json.loads((out / similarity.CODES_NAME).read_text(encoding="utf-8"))["codes"] == codes


def test_the_command_says_what_is_wrong(tmp_path):
    done = run_course("similarity", tmp_path / "nowhere", "--notebook", "02a", "--out", tmp_path / "out")
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_class_of_two_hundred_is_compared_pair_by_pair(calibration, tmp_path):
    """Every one of the 19,900 pairs is scored and the planted copies, repeated, still flag (the time it takes is
    measured by ``benchmarks/after_grading.py``, not asserted here)."""
    klass, _ = calibration
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    sources = sorted(klass.folder.glob("*.ipynb"))
    for index in range(200):
        shutil.copy(sources[index % len(sources)], folder / f"{sources[index % len(sources)].stem} {index}.ipynb")
    result = similarity.similarity_report(folder, "02a", tmp_path / "out")
    print(f"\n200 hand-ins of 02a: {len(result.pairs)} pairs share code, {len(result.flagged)} flagged")
    assert len(result.learners) == 200
    # a hand-in and its own copy (the same file under another name) always flags
    flagged = {frozenset((pair.learner_a, pair.learner_b)) for pair in result.flagged}
    assert frozenset((f"{sources[5].stem} 5", f"{sources[5].stem} {5 + len(sources)}")) in flagged
