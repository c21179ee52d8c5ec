"""After grading: what the class got wrong, whether each question measures skill, and who needs help.

``course report GRADES_DIR`` (:func:`write_report`) reads the ``results.json`` that ``course grade`` wrote
-- the judge's per-case results, the misconceptions its checks recognised, the Reflect marks merged so far
-- and writes, in the same folder:

* ``report.html``: one page that opens from disk with no network (figures are embedded PNGs, the style
  is inline, there is no script).  It holds the score distribution; per question its **difficulty**
  (the mean share of its points the class earned) and **discrimination** (the corrected item-total
  correlation: the Pearson correlation between the question's points and the rest of each learner's
  score, which for a right-or-wrong question is the point-biserial correlation), the hidden cases failed
  most often and the misconceptions seen most often; one compact row per learner; and the Reflect marks.
* the same numbers as CSV: ``report-questions.csv``, ``report-cases.csv``, ``report-misconceptions.csv``,
  ``report-learners.csv``.

Which hand-ins count
    A hand-in counts when its notebook ran (status ``graded``, ``timeout``, ``memory``, ``resources`` or
    ``kernel-died``: points before the stop are points earned).  Missing, unreadable, wrong-notebook and
    grader-error hand-ins are listed apart and left out of every statistic: a learner who handed in
    nothing says nothing about a question.
What counts as a question's points
    Auto-graded questions always; Reflect items once their marks are merged (``course marks merge``).
    A learner's "rest score" is the sum over those items minus the question's own points.
Undefined is undefined
    A discrimination needs at least three counted learners and spread in both the question's points and
    the rest score; otherwise it is reported as undefined (empty in the CSV, "undefined" on the page),
    never as 0.

With ``anonymise=True`` learners appear under codes: those of the marking pages when grading was
anonymised, otherwise codes kept in ``report-codes.json`` (the key; not for learners' eyes).

Examples
--------
>>> item_rest_correlation([0, 1, 1, 0, 1], [3, 7, 9, 2, 6])
0.9...
>>> item_rest_correlation([1, 1, 1], [3, 7, 9]) is None   # everyone got it: no spread, undefined
True
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from course_utils.exercises._question import CORRECT, INVALID, UNANSWERED
from course_utils.exercises.questions import QUESTIONS
from course_utils.instructor import gradebook, grading, release

HTML_FILE = "report.html"
CODES_FILE = "report-codes.json"
COUNTED = grading.RAN  # the notebook ran: its points are earned
EASY = 0.95          # difficulty at or above: nearly everyone earns it, it tells no one apart
HARD = 0.20          # difficulty at or below: re-teach it, or check the exercise
WEAK = 0.20          # discrimination below: it does not tell strong learners from weak ones (a common rule of thumb)
NEEDS_HELP = 0.5     # a learner below this share of the points so far is shown as needing help
TOP = 3              # cases and misconceptions shown per question on the page (the CSV has all)


def item_rest_correlation(item, rest) -> float | None:
    """The Pearson correlation of a question's points with the rest of the score; None where undefined.

    Undefined with fewer than three learners or with no spread in either (a question everyone got).
    """
    item, rest = np.asarray(item, dtype=float), np.asarray(rest, dtype=float)
    if len(item) < 3 or rest.shape != item.shape or item.std() <= 1e-12 or rest.std() <= 1e-12:
        return None
    return float(np.corrcoef(item, rest)[0, 1])


@dataclass
class QuestionRow:
    """One graded item's statistics over the counted learners."""

    grade_id: str
    kind: str                   # "auto" or "reflect"
    points: float
    learners: int               # counted learners with a mark on it
    mean_points: float | None
    difficulty: float | None    # mean share of its points earned
    full_marks: float | None    # share of learners with all its points
    unanswered: float | None    # share who left it unanswered (auto-graded questions)
    discrimination: float | None
    flags: list[str] = field(default_factory=list)


@dataclass
class ClassReport:
    """Everything on the report page, as data (the CSV files are these tables)."""

    notebook: str
    title: str
    counted: list            # SubmissionResult of the counted hand-ins
    left_out: list           # (learner id, status, message) of the others
    items: list              # the GradedCell items in the statistics (auto + marked Reflect)
    unmarked: list           # Reflect items whose marks are not merged yet
    questions: list[QuestionRow]
    cases: list[dict]        # grade_id, case_id, name, public, failed, answered, share
    misconceptions: list[dict]  # grade_id, misconception, learners, share, feedback
    learners: list[dict]     # learner, total, max, share, status, needs_help, marks (grade_id -> symbol)
    reflect: list[dict]      # grade_id, points, marked learners, mean, to_mark


def _totals(result, items) -> float:
    return float(sum(result.scores.get(item.grade_id) or 0.0 for item in items))


def build_report(out) -> ClassReport:
    """The class report of the grades in ``out`` (the folder ``course grade`` wrote)."""
    record = gradebook.read_record(out)
    notebook = record["notebook"]
    results = [grading.SubmissionResult(**fields) for fields in record["results"]]
    marked = set(record.get("marked") or [])
    every = grading.graded_cells(notebook)
    items = [item for item in every if item.auto or item.grade_id in marked]
    unmarked = [item for item in every if not item.auto and item.grade_id not in marked]
    counted = [result for result in results if result.status in COUNTED]
    left_out = [(r.learner_id, r.status, r.message) for r in results if r.status not in COUNTED]
    totals = {result.learner_id: _totals(result, items) for result in counted}
    possible = sum(item.points for item in items)

    questions = []
    for item in items:
        points = [float(result.scores.get(item.grade_id) or 0.0) for result in counted]
        rest = [totals[result.learner_id] - mine for result, mine in zip(counted, points)]
        n = len(points)
        mean = sum(points) / n if n else None
        unanswered = (sum(result.statuses.get(item.grade_id) == UNANSWERED for result in counted) / n
                      if n and item.auto else None)
        row = QuestionRow(item.grade_id, "auto" if item.auto else "reflect", item.points, n, mean,
                          mean / item.points if n and item.points else None,
                          sum(p >= item.points - 1e-9 for p in points) / n if n else None,
                          unanswered, item_rest_correlation(points, rest))
        row.flags = _flags(row)
        questions.append(row)

    case_names = record.get("case_names") or {}
    cases, seen = [], []
    for item in (item for item in items if item.auto):
        answered = [r for r in counted if r.statuses.get(item.grade_id) not in (None, UNANSWERED)]
        failed, ran = Counter(), Counter()
        for result in answered:
            for case_id, passed in result.cases.get(item.grade_id, []):
                ran[case_id] += 1
                failed[case_id] += not passed
        names = case_names.get(item.grade_id, {})
        for case_id in ran:
            info = names.get(case_id, {})
            cases.append({"grade_id": item.grade_id, "case_id": case_id, "name": info.get("name", case_id),
                          "public": bool(info.get("public", case_id.startswith("p"))), "failed": failed[case_id],
                          "answered": ran[case_id], "share": failed[case_id] / ran[case_id]})
        counts = Counter(mid for result in answered for mid in result.misconceptions.get(item.grade_id, []))
        for mid, count in counts.items():
            seen.append({"grade_id": item.grade_id, "misconception": mid, "learners": count,
                         "share": count / len(answered), "feedback": misconception_text(mid)})
    cases.sort(key=lambda row: (row["grade_id"], -row["failed"], row["case_id"]))
    seen.sort(key=lambda row: (row["grade_id"], -row["learners"], row["misconception"]))

    learners = []
    for result in sorted(counted, key=lambda r: (totals[r.learner_id], r.learner_id.casefold())):
        share = totals[result.learner_id] / possible if possible else None
        learners.append({"learner": result.learner_id, "total": totals[result.learner_id], "max": possible,
                         "share": share, "status": result.status,
                         "needs_help": result.status != "graded" or (share is not None and share < NEEDS_HELP),
                         "marks": {item.grade_id: _mark(result, item) for item in items}})
    reflect = []
    for item in (item for item in every if not item.auto):
        # The marks given to written answers, once merged (an unanswered item's 0 is not a mark).
        given = [result.scores.get(item.grade_id) for result in counted if item.grade_id in marked
                 and item.grade_id in result.answers and result.scores.get(item.grade_id) is not None]
        to_mark = sum(item.grade_id in result.answers and result.scores.get(item.grade_id) is None
                      for result in counted)
        reflect.append({"grade_id": item.grade_id, "points": item.points, "marked": item.grade_id in marked,
                        "learners_marked": len(given), "mean": sum(given) / len(given) if given else None,
                        "to_mark": to_mark})
    return ClassReport(notebook, release.solution_path(notebook).stem, counted, left_out, items, unmarked,
                       questions, cases, seen, learners, reflect)


def _flags(row: QuestionRow) -> list[str]:
    flags = []
    if row.difficulty is not None and row.difficulty >= EASY:
        flags.append("nearly everyone earns it: it tells no one apart")
    if row.difficulty is not None and row.difficulty <= HARD:
        flags.append("few earn it: re-teach it, or check the exercise")
    if row.discrimination is not None and row.discrimination < 0:
        flags.append("stronger learners do worse on it: check its hidden cases and wording")
    elif row.discrimination is not None and row.discrimination < WEAK:
        flags.append("weak discrimination: it barely tells strong learners from weak ones")
    return flags


def _mark(result, item) -> str:
    """One character per question for the learner table: full, partial, none, unanswered, invalid."""
    points = result.scores.get(item.grade_id)
    status = result.statuses.get(item.grade_id)
    if status == UNANSWERED or (not item.auto and item.grade_id not in result.answers and not points):
        return "–"
    if status == INVALID:
        return "!"
    if points is None:
        return "?"
    if points >= item.points - 1e-9 or status == CORRECT:
        return "✓"
    return "◐" if points > 0 else "✗"


def misconception_text(misconception: str) -> str:
    """The feedback a misconception's rule gives, from its id (``question-id#m2``); "" if unknown."""
    question_id, _, number = misconception.partition("#m")
    question = QUESTIONS.get(question_id)
    try:
        return question.misconceptions[int(number) - 1].feedback if question else ""
    except (ValueError, IndexError):
        return ""


# --- writing ---------------------------------------------------------------------------------------

def write_report(out, anonymise: bool = False) -> Path:
    """Write ``report.html`` and the CSV tables into ``out``; return the page's path."""
    out = Path(out)
    report = build_report(out)
    learners = sorted([result.learner_id for result in report.counted] + [row[0] for row in report.left_out])
    codes = gradebook.anonymous_codes(learners, out, CODES_FILE) if anonymise else None
    shown = (lambda learner: codes[learner]) if codes else (lambda learner: learner)
    _write_csv(out / "report-questions.csv",
               ["grade_id", "kind", "points", "learners", "mean_points", "difficulty", "full_marks", "unanswered",
                "discrimination", "flags"],
               [[q.grade_id, q.kind, q.points, q.learners, q.mean_points, q.difficulty, q.full_marks, q.unanswered,
                 q.discrimination, "; ".join(q.flags)] for q in report.questions])
    _write_csv(out / "report-cases.csv", ["grade_id", "case_id", "name", "public", "failed", "answered", "share"],
               [[c[k] for k in ("grade_id", "case_id", "name", "public", "failed", "answered", "share")]
                for c in report.cases])
    _write_csv(out / "report-misconceptions.csv", ["grade_id", "misconception", "learners", "share", "feedback"],
               [[m[k] for k in ("grade_id", "misconception", "learners", "share", "feedback")]
                for m in report.misconceptions])
    _write_csv(out / "report-learners.csv",
               ["learner_id", "total", "max", "share", "status", "needs_help", *(i.grade_id for i in report.items)],
               [[gradebook.spreadsheet_safe(shown(row["learner"])), row["total"], row["max"], row["share"], row["status"], row["needs_help"],
                 *(row["marks"][i.grade_id] for i in report.items)] for row in report.learners])
    page = out / HTML_FILE
    page.write_text(_page(report, shown), encoding="utf-8")
    return page


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if value is None else round(value, 4) if isinstance(value, float) else value
                           for value in row] for row in rows])


def _number(value, digits=2, percent=False) -> str:
    if value is None:
        return "undefined"
    return f"{100 * value:.0f} %" if percent else f"{value:.{digits}f}"


def _figure_png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _distribution_figure(report: ClassReport) -> str:
    from course_utils import plots

    shares = [row["share"] for row in report.learners if row["share"] is not None]
    return _figure_png(plots.plot_score_distribution(shares, needs_help_below=NEEDS_HELP).figure)


def _items_figure(report: ClassReport) -> str:
    import pandas as pd

    from course_utils import plots

    items = pd.DataFrame({"difficulty": [q.difficulty for q in report.questions],
                          "discrimination": [q.discrimination for q in report.questions],
                          "flagged": [bool(q.flags) for q in report.questions]})
    items = items.astype({"difficulty": float, "discrimination": float})  # None (undefined) becomes NaN
    return _figure_png(plots.plot_item_statistics(items, weak_below=WEAK).figure)


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #1b1b1b; }
main { max-width: 70rem; margin: auto; padding: 1rem 1.5rem 3rem; }
section { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin: 1rem 0; }
table { border-collapse: collapse; margin: 0.5rem 0; } th, td { border: 1px solid #bbb; padding: 0.2rem 0.45rem;
  vertical-align: top; text-align: left; } th { background: #eef3f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flag { color: #8a3000; } .help { background: #fdf0e6; } figure { margin: 0.5rem 0; }
figcaption { font-size: 0.9rem; color: #444; max-width: 44rem; } .marks { font-family: monospace; letter-spacing: 0.2em; }
details { margin: 0.3rem 0; } .muted { color: #555; }
"""


def _page(report: ClassReport, shown) -> str:
    e = html.escape
    counted, possible = len(report.counted), sum(item.points for item in report.items)
    mean = sum(row["total"] for row in report.learners) / counted if counted else None
    help_count = sum(row["needs_help"] for row in report.learners)
    parts = [f"<h1>Class report · {e(report.title)}</h1>",
             f"<p>{counted} hand-in(s) counted, {len(report.left_out)} left out; points graded so far: "
             f"{possible:g} ({'auto-graded' if not report.unmarked else 'auto-graded; Reflect items not yet marked: '}"
             f"{e(', '.join(item.grade_id for item in report.unmarked))}). Mean score "
             f"{_number(mean)} of {possible:g}; {help_count} learner(s) below {100 * NEEDS_HELP:.0f} % or not fully "
             "graded.</p>"]
    if counted:
        parts.append(
            '<section><h2>Scores</h2><figure><img alt="Histogram of learners\' scores as a share of the points graded '
            f'so far" src="data:image/png;base64,{_distribution_figure(report)}"><figcaption>Figure 1. Each bar counts '
            "learners whose score falls in a band of 10 % of the points graded so far; the dashed line marks "
            f"{100 * NEEDS_HELP:.0f} %, below which a learner is listed as needing help.</figcaption></figure>"
            '<figure><img alt="Scatter of each question\'s difficulty against its discrimination" '
            f'src="data:image/png;base64,{_items_figure(report)}"><figcaption>Figure 2. Each question by its number in '
            "the table below: difficulty (right = easier) against discrimination (up = tells strong learners from "
            f"weak ones better). Questions in the grey band (discrimination below {WEAK}) or flagged are drawn in "
            "vermillion; a cross marks an undefined discrimination, drawn at 0.</figcaption></figure></section>")
    rows = []
    for number, q in enumerate(report.questions, start=1):
        flags = "".join(f'<div class="flag">{e(flag)}</div>' for flag in q.flags)
        rows.append(f"<tr><td class=num>{number}</td><td><code>{e(q.grade_id)}</code></td><td>{q.kind}</td>"
                    f"<td class=num>{q.points:g}</td><td class=num>{_number(q.difficulty, percent=True)}</td>"
                    f"<td class=num>{_number(q.full_marks, percent=True)}</td>"
                    f"<td class=num>{'' if q.unanswered is None else _number(q.unanswered, percent=True)}</td>"
                    f"<td class=num>{_number(q.discrimination)}</td><td>{flags}</td></tr>")
    parts.append("<section><h2>Questions</h2><p class=muted>Difficulty: the mean share of the question's points the "
                 "class earned. Full: the share with all its points. Discrimination: the correlation of the "
                 "question's points with the rest of the score (item-rest r); undefined when nobody or everybody "
                 "earns it.</p><table><thead><tr><th>#</th><th>question</th><th>kind</th><th>points</th>"
                 "<th>difficulty</th><th>full</th><th>unanswered</th><th>discrimination</th><th>look at</th></tr>"
                 f"</thead><tbody>{''.join(rows)}</tbody></table></section>")
    blocks = []
    for q in (q for q in report.questions if q.kind == "auto"):
        failed = [c for c in report.cases if c["grade_id"] == q.grade_id and c["failed"]][:TOP]
        mistakes = [m for m in report.misconceptions if m["grade_id"] == q.grade_id][:TOP]
        if not failed and not mistakes:
            continue
        case_items = "".join(f"<li>{'public' if c['public'] else 'hidden'} case <em>{e(c['name'])}</em>: failed by "
                             f"{c['failed']} of {c['answered']} who answered ({_number(c['share'], percent=True)})</li>"
                             for c in failed)
        mistake_items = "".join(f"<li>{m['learners']} learner(s) ({_number(m['share'], percent=True)}): "
                                f"{e(m['feedback'] or m['misconception'])}</li>" for m in mistakes)
        blocks.append(f"<details open><summary><code>{e(q.grade_id)}</code></summary>"
                      + (f"<p>Cases failed most often:</p><ul>{case_items}</ul>" if case_items else "")
                      + (f"<p>Misconceptions seen most often:</p><ul>{mistake_items}</ul>" if mistake_items else "")
                      + "</details>")
    parts.append("<section><h2>What to re-teach</h2>" + ("".join(blocks) or "<p>No case failed.</p>") + "</section>")
    reflect_rows = "".join(
        f"<tr><td><code>{e(r['grade_id'])}</code></td><td class=num>{r['points']:g}</td>"
        f"<td>{'merged' if r['marked'] else 'not merged yet'}</td><td class=num>{r['learners_marked']}</td>"
        f"<td class=num>{_number(r['mean']) if r['marked'] else '—'}</td><td class=num>{r['to_mark']}</td></tr>"
        for r in report.reflect)
    if reflect_rows:
        parts.append("<section><h2>Reflect marks</h2><table><thead><tr><th>item</th><th>points</th><th>marks</th>"
                     "<th>answers marked</th><th>mean mark of those</th><th>answers still to mark</th></tr></thead>"
                     f"<tbody>{reflect_rows}</tbody></table></section>")
    header = "".join(f"<th title='{e(item.grade_id)}'>{number}</th>"
                     for number, item in enumerate(report.items, start=1))
    learner_rows = "".join(
        f"<tr class='{'help' if row['needs_help'] else ''}'><td>{e(shown(row['learner']))}</td>"
        f"<td class=num>{row['total']:g} / {row['max']:g}</td><td>{e(row['status'])}</td>"
        + "".join(f"<td class=marks>{row['marks'][item.grade_id]}</td>" for item in report.items) + "</tr>"
        for row in report.learners)
    parts.append("<section><h2>Learners</h2><p class=muted>Lowest scores first; shaded rows need help (below "
                 f"{100 * NEEDS_HELP:.0f} % or not fully graded). ✓ all points, ◐ some, ✗ none, – unanswered, "
                 "! not readable as an answer, ? to mark. Columns are the questions' numbers above.</p>"
                 f"<table><thead><tr><th>learner</th><th>score</th><th>status</th>{header}</tr></thead>"
                 f"<tbody>{learner_rows}</tbody></table></section>")
    if report.left_out:
        items = "".join(f"<li>{e(shown(learner))}: {e(status)} — {e(message[:200])}</li>"
                        for learner, status, message in report.left_out)
        parts.append(f"<section><h2>Left out of the statistics</h2><ul>{items}</ul></section>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>Class report · {e(report.title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")

