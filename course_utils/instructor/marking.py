"""Marking the Reflect answers: one page per question, and marks merged into the gradebook and feedback.

Reflect items are written answers an instructor marks with the rubric in ``solutions/INSTRUCTOR_GUIDE.md``.
``course grade`` writes, next to ``gradebook.csv``, the folder ``marking/`` with one HTML page per Reflect
question: the question, its rubric, and every learner's answer (Markdown rendered; in a stable order;
under a code instead of a name with ``--anonymise``), each with a points field and a comment.  The page
needs no network and no server -- open it from disk in any browser -- and its *Save marks* button
downloads the marks as a CSV file (``learner_id,grade_id,points,comment``); marks typed so far stay in
the browser until then.  ``course marks merge GRADES_DIR CSV...`` (:func:`merge`) then puts the marks
into ``gradebook.csv`` (totals include them) and each learner's feedback file (with the comment).

Learners' answers are untrusted text: raw HTML in them is shown as text and links to scripts are
removed (mistune's escaping renderer), so an answer cannot run code in the marker's browser.

Examples
--------
>>> [(item.grade_id, item.points) for item in reflect_items("00")]
[('orient-reflect-bias-stages', 2.0)]
>>> print(render_markdown("**Two** stages <script>alert(1)</script>"))
<p><strong>Two</strong> stages &lt;script&gt;alert(1)&lt;/script&gt;</p>
"""

from __future__ import annotations

import csv
import functools
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from course_utils.exercises.questions import notebook_id
from course_utils.instructor import grading, release

FOLDER = "marking"
GUIDE = release.SOLUTIONS_DIR / "INSTRUCTOR_GUIDE.md"
CSV_COLUMNS = ["learner_id", "grade_id", "points", "comment"]


@dataclass(frozen=True)
class ReflectItem:
    """One Reflect question: its id, its points and its text as learners read it (Markdown)."""

    grade_id: str
    points: float
    question: str


def reflect_items(notebook: str) -> list[ReflectItem]:
    """The Reflect questions of course notebook ``notebook``, in notebook order."""
    source = grading.solution_notebook(notebook_id(notebook))
    items = []
    for index, cell in enumerate(source.cells):
        info = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and info.get("grade") and info.get("solution"):
            items.append(ReflectItem(info["grade_id"], float(info.get("points", 0)),
                                     _question_text(source.cells[index - 1].source if index else "")))
    return items


def _question_text(text: str) -> str:
    """The part of the cell before an answer that asks the question: from its last "Reflect" heading on."""
    lines = text.splitlines()
    headings = [i for i, line in enumerate(lines) if line.startswith("#") and "Reflect" in line]
    return "\n".join(lines[headings[-1]:] if headings else lines).strip()


def rubric(grade_id: str, guide: Path = GUIDE) -> str:
    """The rubric of ``grade_id`` in the instructor guide (Markdown), or a note that it has none."""
    text = _guide_text(Path(guide))
    heading = re.search(rf"^### Rubric — `{re.escape(grade_id)}`.*$", text, re.M)
    if heading is None:
        return f"*The instructor guide has no rubric for `{grade_id}`.*"
    rest = text[heading.end():]
    end = re.search(r"^#{1,3} ", rest, re.M)
    return rest[:end.start() if end else len(rest)].strip()


@functools.cache
def _guide_text(guide: Path) -> str:
    return guide.read_text(encoding="utf-8")


@functools.cache
def _markdown():
    import mistune

    # escape=True shows raw HTML as text; mistune also replaces javascript:, vbscript: and data: links.
    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """HTML for ``text``, safe to show whatever it contains."""
    return _markdown()(text or "").strip()


# --- the pages ---------------------------------------------------------------------------------------

def _points(value) -> str:
    return "" if value is None else f"{value:g}"


def write_pages(results, notebook: str, folder: Path, codes: dict | None = None) -> list[Path]:
    """One marking page per Reflect question of ``notebook`` in ``folder``, and ``index.html`` linking them.

    ``codes`` (learner id -> code) anonymises the pages: learners appear under their codes, in the order
    of the codes.  Learners whose hand-in could not be run are left out; the page says how many.
    """
    folder.mkdir(parents=True, exist_ok=True)
    title = release.solution_path(notebook).stem
    ran = [result for result in results if result.kernel]
    shown = sorted(ran, key=lambda result: (codes[result.learner_id] if codes else result.learner_id.casefold()))
    pages = []
    for item in reflect_items(notebook):
        path = folder / f"{item.grade_id}.html"
        path.write_text(_page(item, title, notebook, shown, len(results) - len(ran), codes), encoding="utf-8")
        pages.append(path)
    links = "".join(f'<li><a href="{html.escape(page.name)}">{html.escape(page.stem)}</a></li>' for page in pages)
    (folder / "index.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Marking {html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><main><h1>Reflect answers of {html.escape(title)}</h1>"
        f"<p>One page per question; each saves its marks as a CSV file for "
        f"<code>course marks merge</code>.</p><ul>{links}</ul></main></body></html>\n", encoding="utf-8")
    return pages


def _page(item: ReflectItem, title: str, notebook: str, results, left_out: int, codes) -> str:
    sections = []
    for result in results:
        shown_as = codes[result.learner_id] if codes else result.learner_id
        answer = result.answers.get(item.grade_id)
        points = result.scores.get(item.grade_id)
        comment = result.comments.get(item.grade_id, "")
        if answer is None and item.grade_id not in result.comments:
            body = ('<p class="none">No answer: left as handed out, so it scores 0 with nothing to mark.</p>'
                    if points == 0 else '<p class="none">The answer cell is missing from this hand-in.</p>')
            sections.append(f'<section class="learner unanswered"><h2>{html.escape(shown_as)}</h2>{body}</section>')
            continue
        sections.append(
            f'<section class="learner" data-learner="{html.escape(shown_as, quote=True)}">'
            f"<h2>{html.escape(shown_as)}</h2><div class=\"answer\">{render_markdown(answer or '')}</div>"
            f'<div class="mark"><label>Points (0 to {item.points:g}) <input type="number" name="points" min="0" '
            f'max="{item.points:g}" step="0.5" value="{_points(points)}"></label>'
            f'<label>Comment for the learner <textarea name="comment" rows="2">{html.escape(comment)}</textarea>'
            "</label></div></section>")
    note = (f"<p>{left_out} hand-in(s) could not be run (missing, unreadable or another notebook) and are not "
            "listed.</p>" if left_out else "")
    settings = json.dumps({"notebook": notebook, "gradeId": item.grade_id, "max": item.points,
                           "storageKey": f"course-marks:{title}:{item.grade_id}"}).replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>Marking {html.escape(item.grade_id)} · {html.escape(title)}</title>
<style>{STYLE}</style></head>
<body><main>
<h1>Marking <code>{html.escape(item.grade_id)}</code> ({item.points:g} points) · {html.escape(title)}</h1>
<p class="how">Mark each answer with the rubric, then press <strong>Save marks</strong>: it downloads
<code>marks-{html.escape(item.grade_id)}.csv</code> for <code>course marks merge</code>. Marks stay in this browser
until you save; a blank points field means "not marked yet".</p>
<section class="question"><h2>The question</h2>{render_markdown(item.question)}</section>
<section class="rubric"><h2>Rubric</h2>{render_markdown(rubric(item.grade_id))}</section>
{note}
{''.join(sections)}
<p class="save"><button type="button" id="save">Save marks</button> <span id="status" role="status"></span></p>
</main>
<script>const SETTINGS = {settings};
{SCRIPT}</script>
</body></html>
"""


STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #1b1b1b; }
main { max-width: 60rem; margin: auto; padding: 1rem 1.5rem 4rem; }
section { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin: 1rem 0; }
section.question, section.rubric { background: #eef3f8; }
.learner h2 { font-size: 1.05rem; margin: 0.3rem 0; }
.answer { border-left: 4px solid #8da9c4; padding-left: 0.8rem; }
.none { color: #555; font-style: italic; }
.mark { display: flex; gap: 1rem; align-items: flex-start; flex-wrap: wrap; margin: 0.5rem 0; }
.mark label { display: flex; flex-direction: column; font-size: 0.9rem; }
.mark textarea { width: 32rem; max-width: 80vw; }
input.invalid { outline: 3px solid #b00020; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 0.2rem 0.5rem; vertical-align: top; }
.save { position: sticky; bottom: 0; background: #f6f6f4; padding: 0.6rem 0; }
button { font-size: 1rem; padding: 0.4rem 1.2rem; }
"""

# The form, saved in the browser as it is filled in and downloaded as CSV: no library, no network.
SCRIPT = r"""
const sections = Array.from(document.querySelectorAll("section.learner[data-learner]"));
const stored = JSON.parse(localStorage.getItem(SETTINGS.storageKey) || "{}");
for (const section of sections) {
  const mark = stored[section.dataset.learner];
  if (mark) {
    section.querySelector("[name=points]").value = mark.points;
    section.querySelector("[name=comment]").value = mark.comment;
  }
  section.addEventListener("input", remember);
}
function remember() {
  const marks = {};
  for (const section of sections) {
    marks[section.dataset.learner] = {points: section.querySelector("[name=points]").value,
                                      comment: section.querySelector("[name=comment]").value};
  }
  localStorage.setItem(SETTINGS.storageKey, JSON.stringify(marks));
}
function quoted(text) {
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}
document.getElementById("save").addEventListener("click", () => {
  const rows = [["learner_id", "grade_id", "points", "comment"]];
  const problems = [];
  for (const section of sections) {
    const field = section.querySelector("[name=points]");
    const text = field.value.trim();
    const points = Number(text);
    const wrong = text !== "" && (!Number.isFinite(points) || points < 0 || points > SETTINGS.max);
    field.classList.toggle("invalid", wrong);
    if (wrong) problems.push(section.dataset.learner);
    if (text !== "" && !wrong) {
      rows.push([section.dataset.learner, SETTINGS.gradeId, text, section.querySelector("[name=comment]").value]);
    }
  }
  const status = document.getElementById("status");
  if (problems.length) {
    status.textContent = "Not saved: points must be between 0 and " + SETTINGS.max + " for " + problems.join(", ") + ".";
    return;
  }
  const csv = "\ufeff" + rows.map(row => row.map(quoted).join(",")).join("\r\n") + "\r\n";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([csv], {type: "text/csv;charset=utf-8"}));
  link.download = "marks-" + SETTINGS.gradeId + ".csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
  status.textContent = "Saved " + (rows.length - 1) + " mark(s) of " + sections.length + " answers to " + link.download + ".";
});
"""


# --- merging -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mark:
    """One learner's mark on one Reflect item, as read from a marks CSV file."""

    learner_id: str
    grade_id: str
    points: float
    comment: str
    source: str  # "file.csv, line 3", for messages


def read_marks(paths) -> tuple[list[Mark], list[str]]:
    """The marks in the CSV files ``paths`` and, in words, every row that is not a mark."""
    marks, problems = [], []
    for path in map(Path, paths):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in CSV_COLUMNS[:3] if column not in (reader.fieldnames or [])]
            if missing:
                problems.append(f"{path.name}: no column {', '.join(missing)} (expected {', '.join(CSV_COLUMNS)}).")
                continue
            for line, row in enumerate(reader, start=2):
                where = f"{path.name}, line {line}"
                text = (row.get("points") or "").strip()
                if not text:
                    continue  # not marked yet
                try:
                    points = float(text)
                except ValueError:
                    problems.append(f"{where}: points {text!r} is not a number.")
                    continue
                marks.append(Mark((row.get("learner_id") or "").strip(), (row.get("grade_id") or "").strip(),
                                  points, (row.get("comment") or "").strip(), where))
    return marks, problems


def check_marks(marks: list[Mark], notebook: str, learners: set[str], codes: dict | None = None) -> list[str]:
    """Why any of ``marks`` cannot go into notebook ``notebook``'s gradebook (empty when all can)."""
    items = {item.grade_id: item for item in reflect_items(notebook)}
    by_code = {code: learner for learner, code in (codes or {}).items()}
    problems, seen = [], {}
    for mark in marks:
        learner = by_code.get(mark.learner_id, mark.learner_id)
        item = items.get(mark.grade_id)
        if item is None:
            problems.append(f"{mark.source}: {mark.grade_id!r} is not a Reflect question of notebook {notebook} "
                            f"({', '.join(items) or 'it has none'}).")
        elif learner not in learners:
            problems.append(f"{mark.source}: no learner {mark.learner_id!r} in this gradebook.")
        elif not math.isfinite(mark.points) or not 0 <= mark.points <= item.points:
            problems.append(f"{mark.source}: {mark.points:g} points for {mark.learner_id} on {mark.grade_id}, "
                            f"which is worth {item.points:g}; give 0 to {item.points:g}.")
        elif (learner, mark.grade_id) in seen:
            problems.append(f"{mark.source}: a second mark for {mark.learner_id} on {mark.grade_id} "
                            f"(the first is in {seen[learner, mark.grade_id]}).")
        else:
            seen[learner, mark.grade_id] = mark.source
    return problems


def apply_marks(results, marks: list[Mark], codes: dict | None = None) -> set[str]:
    """Put checked ``marks`` into the results (scores and comments); return the Reflect items they mark."""
    by_code = {code: learner for learner, code in (codes or {}).items()}
    by_learner = {result.learner_id: result for result in results}
    for mark in marks:
        result = by_learner[by_code.get(mark.learner_id, mark.learner_id)]
        result.scores[mark.grade_id] = mark.points
        result.comments[mark.grade_id] = mark.comment
    return {mark.grade_id for mark in marks}
