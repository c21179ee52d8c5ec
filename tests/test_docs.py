"""The instructor guide, the README and the changelog say what the notebooks actually contain.

Every Reflect item needs a rubric whose points add up to the item's points; every notebook needs its
objectives and key points in the guide; the README's notebook map must list every notebook with its
objectives and time. These tests fail when a notebook changes and the documents do not.
"""

import re
from pathlib import Path

import nbformat
import pytest

from course_utils.exercises.questions import notebook_id_of
from course_utils.instructor import release

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "solutions" / "INSTRUCTOR_GUIDE.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
SOLUTIONS = release.solution_paths()


def notebook(path):
    return nbformat.read(path, as_version=4)


def reflect_items(path):
    """(grade_id, points) of every manually graded written answer: nbgrader solution + grade Markdown cells."""
    return [(cell.metadata.nbgrader["grade_id"], cell.metadata.nbgrader["points"])
            for cell in notebook(path).cells
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution")
            and cell.metadata.nbgrader.get("grade")]


def objectives(path):
    """The numbered learning objectives of a notebook's first cell, whitespace folded."""
    first = notebook(path).cells[0].source
    block = first[first.index("**Learning objectives.**"):]
    return [" ".join(item.split()) for item in re.split(r"\n\d+\. ", "\n" + block.split("\n", 1)[1])[1:]]


def key_points(path):
    """The bullets of a notebook's Key points cell, whitespace folded."""
    last = notebook(path).cells[-1].source
    assert last.startswith("## Key points"), f"{path.name}: the last cell should be the key points"
    block = last.split("\n", 1)[1].split("**Next:**")[0]
    return [" ".join(item.split()) for item in re.split(r"\n\* ", "\n" + block.strip())[1:]]


def section(text, heading_pattern, level=2):
    """The text under the first heading matching ``heading_pattern``, up to the next heading of that level or above."""
    match = re.search(rf"^{'#' * level} {heading_pattern}.*$", text, re.M)
    assert match, f"no heading {'#' * level} {heading_pattern}"
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def number(cell):
    cell = cell.strip().replace("½", "0.5")
    return float(cell)


# --------------------------------------------------------------------------- rubrics


def test_every_notebook_has_reflect_items():
    assert all(reflect_items(path) for path in SOLUTIONS)


@pytest.mark.parametrize("item", [(path.name, *item) for path in SOLUTIONS for item in reflect_items(path)],
                         ids=lambda item: item[1])
def test_every_reflect_item_has_a_rubric_adding_up_to_its_points(item):
    _, grade_id, points = item
    heading = re.search(rf"^### Rubric — `{re.escape(grade_id)}` \((\d+(?:\.\d+)?) points?\)$", GUIDE, re.M)
    assert heading, f"the instructor guide has no '### Rubric — `{grade_id}` ({points} points)'"
    assert float(heading.group(1)) == points, f"{grade_id}: the guide says {heading.group(1)} points, the notebook {points}"
    body = section(GUIDE, rf"Rubric — `{re.escape(grade_id)}`", level=3)
    rows = [line for line in body.splitlines() if line.startswith("|")]
    assert len(rows) >= 3 and rows[0].split("|")[1].strip() == "points", f"{grade_id}: a table with a points column"
    criteria = [number(row.split("|")[1]) for row in rows[2:]]
    assert len(criteria) >= 2, f"{grade_id}: a rubric needs at least two criteria"
    assert sum(criteria) == pytest.approx(points), f"{grade_id}: criteria add up to {sum(criteria)}, not {points}"


def test_every_rubric_in_the_guide_belongs_to_a_reflect_item():
    items = {grade_id for path in SOLUTIONS for grade_id, _ in reflect_items(path)}
    assert set(re.findall(r"^### Rubric — `([\w-]+)`", GUIDE, re.M)) == items


def test_the_guide_states_each_notebooks_points():
    line = next(line for line in GUIDE.splitlines() if line.startswith("* **Points per notebook:**"))
    for path in SOLUTIONS:
        graded = [c for c in notebook(path).cells if c.metadata.get("nbgrader", {}).get("grade")]
        total = sum(c.metadata.nbgrader["points"] for c in graded)
        auto = sum(c.metadata.nbgrader["points"] for c in graded if c.cell_type == "code")
        stated = f"{notebook_id_of(path)} — {total:g} points ({auto:g} auto-graded, {total - auto:g} by rubric)"
        assert stated in line, f"the guide should say: {stated}"


# --------------------------------------------------------------------------- objectives, key points, misconceptions


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_guide_has_each_notebooks_objectives_key_points_and_misconceptions(path):
    part = section(GUIDE, rf"{notebook_id_of(path)} · ")
    listed = section(part, "Learning objectives", level=3)
    assert [" ".join(item.split()) for item in re.split(r"\n\d+\. ", "\n" + listed.strip())[1:]] == objectives(path)
    bullets = section(part, "Key points", level=3)
    assert [" ".join(item.split()) for item in re.split(r"\n\* ", "\n" + bullets.strip())[1:]] == key_points(path)
    assert section(part, "Common misconceptions", level=3).count("\n* ") >= 3
    assert "### Discussion prompts" in part


def test_the_notebooks_have_objectives_and_key_points_to_copy():
    for path in SOLUTIONS:
        assert 3 <= len(objectives(path)) <= 6 and len(key_points(path)) >= 3, path.name


# --------------------------------------------------------------------------- README


def readme_map():
    """The rows of the README's notebook table: {notebook: (level, time, objectives)}."""
    rows = {}
    for line in section(README, "The notebooks").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = tuple(cells[1:])
    return rows


def test_the_readme_maps_every_notebook():
    assert set(readme_map()) == {path.stem for path in SOLUTIONS}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_readme_map_has_each_notebooks_level_time_and_objectives(path):
    level, time, listed = readme_map()[path.stem]
    assert level in {"all", "beginner", "intermediate", "advanced"}
    first = notebook(path).cells[0].source
    estimated = re.search(r"\*\*Estimated time:\*\* ([^,.\n]*)", first).group(1)
    assert sorted(re.findall(r"\d+", time)) == sorted(re.findall(r"\d+", estimated)), (time, estimated)
    numbers = [int(n) for n in re.findall(r"(?:^|; )(\d)\) ", listed)]
    assert numbers == list(range(1, len(objectives(path)) + 1)), "one objective per learning objective, in order"


def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("name, text", [("README.md", README), ("INSTRUCTOR_GUIDE.md", GUIDE)])
def test_links_within_a_document_reach_a_heading(name, text):
    anchors = {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, f"{name}: no heading for #{target}"


# --------------------------------------------------------------------------- length of a sitting


def guide_minutes(path):
    """The minutes of the guide's "Timing and flow" table for a notebook, added up."""
    timing = section(section(GUIDE, rf"{notebook_id_of(path)} · "), "Timing and flow", level=3)
    return sum(int(row.group(1)) for row in re.finditer(r"^\|[^|\n]*\| (\d+) \|", timing, re.M))


def estimated_minutes(path):
    """The notebook's own estimate, from its first cell ("**Estimated time:** 2 h 10 min (...)")."""
    stated = re.search(r"\*\*Estimated time:\*\* ([^(,.\n]*)", notebook(path).cells[0].source).group(1)
    hours, minutes = re.search(r"(\d+) h", stated), re.search(r"(\d+) min", stated)
    return 60 * int(hours.group(1) if hours else 0) + int(minutes.group(1) if minutes else 0)


@pytest.mark.parametrize("path", [path for path in SOLUTIONS if notebook_id_of(path) in ("02a", "02b")],
                         ids=lambda p: p.name)
def test_each_part_of_notebook_02_is_one_sitting_its_sections_add_up_to(path):
    # Notebook 02 was one sitting of 5 h and 136 cells; its parts are each at most 3 h 30 min by the guide's section
    # timings, which add up to the time the notebook states, and hold fewer cells than the 114 of the first edition.
    assert guide_minutes(path) == estimated_minutes(path) <= 210
    assert len(notebook(path).cells) < 114


def test_notebook_03s_time_is_its_sections_added_up_in_two_sittings():
    # The first edition said 3 h; its sections added up to 3 h 46 min. The notebook's stated time is now the sum of
    # the guide's section timings, in two sittings of at most 3 h 30 min that break before section 6.
    path = ROOT / "solutions" / "03_ethics_review.ipynb"
    timing = section(section(GUIDE, r"03 · "), "Timing and flow", level=3)
    rows = [(int(row.group(1)), int(row.group(2))) for row in re.finditer(r"^\| (\d+)[^|\n]*\| (\d+) \|", timing, re.M)]
    assert [number for number, _ in rows] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    first = sum(minutes for number, minutes in rows if number < 6)
    assert guide_minutes(path) == estimated_minutes(path) == first + sum(m for n, m in rows if n >= 6)
    assert max(first, guide_minutes(path) - first) <= 210
    assert "in two sittings (§0–5 and §6–12)" in notebook(path).cells[0].source


MONTHS = ("January February March April May June July August September October November December").split()
WRITTEN_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})\b")


def written_dates(text):
    """Every date written "6 January 2026" in ``text``, as ISO strings."""
    return {f"{year}-{MONTHS.index(month) + 1:02d}-{int(day):02d}" for day, month, year in WRITTEN_DATE.findall(text)}


def law_section():
    """Notebook 03's section 6, every Markdown cell of it, and its *last reviewed* date."""
    cells = notebook(ROOT / "solutions" / "03_ethics_review.ipynb").cells
    start = next(i for i, cell in enumerate(cells) if cell.source.startswith("## 6 ·"))
    end = next(i for i, cell in enumerate(cells) if cell.source.startswith("## 7 ·") or "\n## 7 ·" in cell.source)
    text = "\n".join(cell.source for cell in cells[start:end] if cell.cell_type == "markdown")
    text = text.split("\n## 7 ·")[0]
    reviewed = written_dates(re.search(r"\*Law last reviewed: ([^*]+)\.\*", text).group(1)).pop()
    return text, reviewed


def test_the_law_section_was_reviewed_after_every_source_it_cites():
    text, reviewed = law_section()
    table = section(GUIDE, r"Sources of section 6, by date.*", level=3)
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| statement")]
    dated = [row[2] for row in rows]
    assert len(rows) >= 10 and all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in dated), dated
    assert reviewed >= max(dated), f"section 6 was last reviewed {reviewed}, before its source of {max(dated)}"
    heading = re.search(r"### Sources of section 6, by date \(law last reviewed ([^)]*)\)", GUIDE).group(1)
    assert written_dates(heading) == {reviewed}, "the guide and the notebook name the same review"
    listed = set().union(*(written_dates(" ".join(row)) for row in rows)) | set(dated)
    stated = written_dates(text) - {reviewed}
    assert stated <= listed, f"section 6 states dates the guide's table of sources does not list: {stated - listed}"


def test_the_readme_states_what_value_questions_are_worth_of_the_auto_graded_points():
    from course_utils.exercises.questions import QUESTIONS

    value = sum(q.points for q in QUESTIONS.values() if q.answer_type == "value")
    total = sum(q.points for q in QUESTIONS.values())
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"worth {value} of the course's {total} auto-graded points" in text
