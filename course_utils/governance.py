"""Governance documents for a health AI system: the impact assessment, the model card and the datasheet.

Notebook 03 ends with paperwork that must be true: an AI Impact Assessment the learner writes in
YAML, and a model card and a datasheet rendered from the numbers the notebook computed.

validate_assessment   check an impact assessment against ``impact_assessment.schema.json``; returns
                      every problem, each with its place in the document and a plain-words message
render_model_card     a model card (Mitchell et al. 2019) in Markdown or HTML from real results
render_datasheet      a datasheet (Gebru et al. 2021) in Markdown or HTML, its composition computed
                      from the data passed in
template_path         the blank impact-assessment template learners start from

Validation is :mod:`jsonschema` (Draft 2020-12) with its messages translated for learners; the
hints come from each field's ``description`` in the schema, so the schema is the single place to
change them.  Rendering uses :class:`string.Template` and :func:`html.escape`: no template engine.

Examples
--------
>>> from course_utils.governance import template_path, validate_assessment
>>> len(validate_assessment(template_path())) > 10  # the blank template: every field still to fill
True
>>> problems = validate_assessment({"system_name": "Readmission risk v1", "contestability": "ask"})
>>> print(problems[0])
missing field 'intended_use': say in a sentence or two what decision the system supports, for whom, and where
"""

from __future__ import annotations

import datetime
import difflib
import html
import json
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd

from course_utils import _validation as check
from course_utils.metrics import RATE_METRICS

__all__ = [
    "SCHEMA_PATH",
    "MODEL_CARD_SECTIONS",
    "DATASHEET_SECTIONS",
    "Problem",
    "load_schema",
    "render_datasheet",
    "render_model_card",
    "template_path",
    "validate_assessment",
]

# Package data, found through importlib.resources so a wheel install finds it too.
_TEMPLATE_DIR = Path(str(resources.files("course_utils") / "templates"))
SCHEMA_PATH = _TEMPLATE_DIR / "impact_assessment.schema.json"
_TEMPLATES = {"template": _TEMPLATE_DIR / "impact_assessment_template.yaml"}

# --- the impact assessment -----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem in an impact assessment.

    Attributes
    ----------
    location : str
        Where it is, e.g. ``"fairness_metrics[1].threshold"`` (``"(document)"`` for the whole file).
    message : str
        What is wrong and what to write instead, in plain words.
    line : int or None
        Line in the YAML file (1-based), when the document came from YAML.
    """

    location: str
    message: str
    line: int | None = None

    def __str__(self):
        # The message already names the place; the line helps find it in the file.
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


def template_path(which: str = "template") -> Path:
    """Path of the blank impact-assessment template (``"template"``), with a comment on every field.

    The course's worked assessment is instructor material: it is not shipped to learners.

    Examples
    --------
    >>> template_path().name
    'impact_assessment_template.yaml'
    """
    if which not in _TEMPLATES:
        raise ValueError(f"which should be 'template' (the blank template learners fill in); got {which!r}.")
    return _TEMPLATES[which]


@lru_cache(maxsize=1)
def _schema_text():
    return SCHEMA_PATH.read_text(encoding="utf-8")


def load_schema() -> dict:
    """The impact-assessment JSON Schema as a dict (a fresh copy on each call).

    Examples
    --------
    >>> "contestability" in load_schema()["required"]
    True
    """
    return json.loads(_schema_text())


def _location(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _join(location, name):
    return name if location == "(document)" else f"{location}.{name}"


def _hint(schema, name=None):
    if name is not None:
        schema = schema.get("properties", {}).get(name, {})
    return schema.get("description", "")


def _with_hint(text, hint):
    return f"{text}: {hint}" if hint else text


_TYPE_WORDS = {"string": "text", "number": "a number", "integer": "a whole number", "array": "a list",
               "object": "a section of named fields", "boolean": "true or false", "null": "empty"}


def _range_words(schema):
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"a number between {low:g} and {high:g}"
    if low is not None:
        return f"a number of at least {low:g}"
    if high is not None:
        return f"a number of at most {high:g}"
    return None


def _suggestion(value, options):
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _missing_name(error):
    # jsonschema reports one error per missing field, naming it only in the message: "'x' is a required property".
    match = re.match(r"^(['\"])(.*)\1 is a required property", error.message)
    return match.group(2) if match else next(n for n in error.validator_value if n not in error.instance)


def _translate(error):
    """Plain-words problems for one jsonschema error: a list of (path, message)."""
    path, kind, schema, value = list(error.absolute_path), error.validator, error.schema, error.instance
    where = _location(path)
    if kind == "required":
        name = _missing_name(error)
        inside = "" if not path else f" in {where}"
        return [(path + [name], _with_hint(f"missing field {name!r}{inside}", _hint(schema, name)))]
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed]
        return [(path + [k], f"unknown field {k!r} in {'the document' if not path else where}"
                 f"{_suggestion(k, allowed)}; the fields here are {', '.join(allowed)}") for k in extras]
    if value is None:
        return [(path, _with_hint(f"{where} is blank", _hint(schema)))]
    if kind == "type":
        # "x-expected" says in words what a field holds where its limits alone would mislead
        expected = schema.get("x-expected") or (_range_words(schema) if schema.get("type") == "number" else None)
        expected = expected or _TYPE_WORDS.get(error.validator_value, str(error.validator_value))
        return [(path, f"{where} should be {expected}, got {value!r}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        expected = schema.get("x-expected") or _range_words(schema) or "within its limits"
        return [(path, f"{where} should be {expected}, got {value!r}")]
    if kind == "enum":
        options = ", ".join(repr(o) for o in error.validator_value)
        return [(path, f"{where} should be one of {options}, got {value!r}{_suggestion(value, error.validator_value)}")]
    if kind == "const":
        reason = schema.get("x-message")
        text = f"{where} should be {error.validator_value!r} here, got {value!r}"
        return [(path, f"{text}: {reason}" if reason else text)]
    if kind == "minLength":
        if not str(value).strip():
            return [(path, _with_hint(f"{where} is blank", _hint(schema)))]
        return [(path, _with_hint(f"{where} is too short ({len(value)} characters)", _hint(schema)))]
    if kind == "minItems":
        if len(value) == 0:
            return [(path, _with_hint(f"{where} is an empty list", _hint(schema)))]
        return [(path, _with_hint(f"{where} should list at least {error.validator_value} items, got {len(value)}",
                                  _hint(schema)))]
    if kind == "pattern":
        return [(path, _with_hint(f"{where} is not in the expected form, got {value!r}", _hint(schema)))]
    if kind == "format":
        if "pattern" in schema and not re.search(schema["pattern"], str(value)):
            return []  # the pattern error already says what form is expected
        return [(path, _with_hint(f"{where} is not a real {error.validator_value}, got {value!r}", _hint(schema)))]
    return [(path, f"{where}: {error.message}")]


def _plain(document):
    """YAML reads an unquoted 2026-05-01 as a date; the schema checks dates as text."""
    if isinstance(document, Mapping):
        return {k: _plain(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_plain(v) for v in document]
    if isinstance(document, (datetime.date, datetime.datetime)):
        return document.isoformat()
    return document


def _read_source(source):
    """(document, YAML text or None), or a Problem for a file that is not readable YAML."""
    import yaml  # imported here: only reading YAML needs it

    if isinstance(source, Mapping):
        return dict(source), None
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No impact assessment at {path}. Give the path of your YAML file, "
                                    "its text, or a dict; start from template_path('template').")
        source = path.read_text(encoding="utf-8")
    if not isinstance(source, str):
        raise TypeError(f"validate_assessment needs a YAML file path, YAML text or a dict; got {type(source).__name__}.")
    try:
        return yaml.safe_load(source), source
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        where = "" if mark is None else f" at line {line}, column {mark.column + 1}"
        problem = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        detail = f"{problem}" + (f" ({context})" if context else "")
        return Problem("(document)", f"the file is not valid YAML{where}: {detail}. Check the indentation and "
                                     "that every 'field: value' has a space after the colon.", line)


def _line_of(root, path):
    """1-based line of the YAML node at ``path`` (or of its nearest existing parent)."""
    node, line = root, None if root is None else root.start_mark.line + 1
    for part in path:
        child = None
        if isinstance(part, int) and getattr(node, "id", "") == "sequence" and part < len(node.value):
            child = node.value[part]
        elif getattr(node, "id", "") == "mapping":
            child = next((v for k, v in node.value if k.value == part), None)
            if child is not None and getattr(child, "id", "") == "scalar":
                # A scalar's line is that of its key, also for a blank value.
                key = next(k for k, v in node.value if v is child)
                return key.start_mark.line + 1
        if child is None:
            return line
        node, line = child, child.start_mark.line + 1
    return line


def _order(schema):
    # Document order: the schema's field order (the template's order), then line, then place.
    names = list(schema.get("properties", {}))

    def key(problem):
        top = re.split(r"[.\[]", problem.location, maxsplit=1)[0]
        rank = names.index(top) if top in names else len(names)
        return rank, problem.line if problem.line is not None else 0, problem.location

    return key


def _jsonschema():
    """jsonschema's validator and format checker, imported on first use.

    jsonschema looks for optional format libraries when it is imported; one of them,
    ``rfc3987_syntax`` (installed with JupyterLab, for IRI formats), compiles a grammar at import
    and takes about a second.  The assessment schema checks no IRI, so that one import is skipped
    while jsonschema loads; the library itself is left importable for anyone else.
    """
    import sys

    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` raise ImportError
        try:
            import jsonschema  # noqa: F401
        finally:
            del sys.modules["rfc3987_syntax"]
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator, FormatChecker


def validate_assessment(path_or_dict: str | Path | Mapping) -> list[Problem]:
    """Check an AI Impact Assessment and return every problem found (an empty list if it is valid).

    Parameters
    ----------
    path_or_dict : str, pathlib.Path or dict
        The path of a YAML file, YAML text (anything with a newline in it), or the document as
        a dict.

    Returns
    -------
    list of Problem
        Every problem, in document order.  Each has a ``location`` such as
        ``"fairness_metrics[1].threshold"``, a plain-words ``message`` and, for YAML input, the
        ``line``.  A file that is not valid YAML gives one problem with its line number.

    Raises
    ------
    FileNotFoundError
        If a path is given and no file is there.

    Notes
    -----
    The schema checks the document's form: every field present and of the right kind, thresholds
    as proportions (a difference between 0 and 1), the facts the EU AI Act class follows from
    (medical-device class, Annex III point, profiling, Article 6(3) condition) recorded in
    ``use_context``.  It does not decide the class: that is the assessor's reasoning, written in
    ``risk_class_rationale``.  Dates may be written with or without quotes.

    Examples
    --------
    >>> document = "system_name: Readmission risk v1\\nfairness_metrics:\\n  - metric: fnr\\n    threshold: five percent\\n"
    >>> problems = validate_assessment(document)
    >>> for problem in problems[:2]:
    ...     print(problem)
    missing field 'intended_use': say in a sentence or two what decision the system supports, for whom, and where
    missing field 'intended_users': list who uses the output (roles such as 'care-management nurses'), one per line
    >>> for problem in problems:
    ...     if problem.location.startswith("fairness_metrics"):
    ...         print(problem)
    line 3: missing field 'comparison' in fairness_metrics[0]: say which group is compared with which, and how
    line 3: missing field 'met_at_validation' in fairness_metrics[0]: true if the value at validation is within the threshold (a difference at most, a ratio at least the threshold)
    line 3: missing field 'rationale' in fairness_metrics[0]: say why this metric matters for patients
    line 3: missing field 'value_at_validation' in fairness_metrics[0]: the value the notebook measured at validation, group compared with reference as the comparison says
    line 4: fairness_metrics[0].threshold should be a number: for a difference between 0 and 1 (0.05, not 5), for a ratio such as 0.8 or 1.2, got 'five percent'
    """
    import yaml

    Draft202012Validator, FormatChecker = _jsonschema()
    read = _read_source(path_or_dict)
    if isinstance(read, Problem):
        return [read]
    document, text = read
    if document is None:
        return [Problem("(document)", "the document is empty: start from the template, "
                                      "template_path('template')", 1 if text is not None else None)]
    if not isinstance(document, Mapping):
        return [Problem("(document)", f"the document should be a set of 'field: value' lines; "
                                      f"it is {_TYPE_WORDS.get(type(document).__name__, type(document).__name__)}",
                        1 if text is not None else None)]
    schema = load_schema()
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    root = yaml.compose(text) if text is not None else None
    found = []
    for error in validator.iter_errors(_plain(document)):
        for path, message in _translate(error):
            found.append(Problem(_location(path), message, _problem_line(root, document, path)))
    return sorted(_deduplicate(found), key=_order(schema))


def _problem_line(root, document, path):
    """Line of the value at ``path``; for a missing field the line of the section it belongs in."""
    if root is None:
        return None
    if _exists(document, path):
        return _line_of(root, path)
    # A missing top-level field belongs to no particular line.
    return _line_of(root, path[:-1]) if len(path) > 1 else None


def _exists(document, path):
    node = document
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _deduplicate(problems):
    """One problem per place: a rule with its own message (the EU AI Act class) wins over a generic one."""
    specific = {p.location for p in problems if "EU AI Act" in p.message}
    seen, kept = set(), []
    for problem in problems:
        if problem.location in specific and "EU AI Act" not in problem.message:
            continue
        if (problem.location, problem.message) not in seen:
            seen.add((problem.location, problem.message))
            kept.append(problem)
    return kept


# --- rendering: one small document model, two output formats --------------------------------

MODEL_CARD_SECTIONS = {
    "model_details": "Model details",
    "intended_use": "Intended use",
    "factors": "Factors",
    "metrics": "Metrics",
    "evaluation_data": "Evaluation data",
    "training_data": "Training data",
    "quantitative_analyses": "Quantitative analyses",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
}

DATASHEET_SECTIONS = {
    "motivation": "Motivation",
    "composition": "Composition",
    "collection_process": "Collection process",
    "preprocessing": "Preprocessing, cleaning and labelling",
    "uses": "Uses",
    "distribution": "Distribution",
    "maintenance": "Maintenance",
}

_FORMATS = ("markdown", "html")

_HTML_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.2em .5em;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head>
<body>
<h1>$title</h1>
$body
</body>
</html>
""")
_MARKDOWN_PAGE = Template("# $title\n\n$body\n")


class _Table:
    """A rendered-ready table: a header row and rows of cell strings."""

    def __init__(self, header, rows, caption=""):
        self.header, self.rows, self.caption = header, rows, caption


def _number(value, decimals):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.{decimals}f}"
    return str(value)


def _group_label(key):
    return " × ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def _audit_block(table, decimals, caption=""):
    if not isinstance(table, pd.DataFrame) or "n" not in table.columns:
        raise TypeError("quantitative_analyses should be an audit table DataFrame, one row per group with 'n' and the "
                        "rates (or a dict of them); "
                        f"got {type(table).__name__}" + ("" if not isinstance(table, pd.DataFrame) else " without an 'n' column") + ".")
    metrics = [m for m in RATE_METRICS if m in table.columns]
    with_ci = all(f"{m}_ci_low" in table.columns for m in metrics)
    header = ["group", "n", *metrics]
    rows = []
    for key, row in table.iterrows():
        cells = [_group_label(key), _number(int(row["n"]), decimals)]
        for m in metrics:
            cell = _number(row[m], decimals)
            if with_ci and not pd.isna(row[m]) and not pd.isna(row[f"{m}_ci_low"]):
                cell += f" [{_number(row[f'{m}_ci_low'], decimals)}, {_number(row[f'{m}_ci_high'], decimals)}]"
            cells.append(cell)
        rows.append(cells)
    notes = ""
    if with_ci:
        notes = "Values with bootstrap confidence intervals in brackets; 'undefined' where a metric has no denominator."
    if "small_group" in table.columns and table["small_group"].any():
        small = ", ".join(_group_label(k) for k in table.index[table["small_group"].astype(bool)])
        notes += f" Small groups (rates are imprecise): {small}."
    return [_Table(header, rows, caption)] + ([notes.strip()] if notes.strip() else [])


def _blocks(value, decimals):
    """Text -> paragraph; list -> bullets; dict -> labelled bullets; DataFrame -> table."""
    if isinstance(value, pd.DataFrame):
        return [_Table([str(value.index.name or "")] + [str(c) for c in value.columns],
                       [[_group_label(k)] + [_number(v, decimals) for v in row] for k, row in value.iterrows()])]
    if isinstance(value, Mapping):
        return [[(str(k).replace("_", " "), _number(v, decimals) if not isinstance(v, (list, tuple)) else
                  "; ".join(_number(x, decimals) for x in v)) for k, v in value.items()]]
    if isinstance(value, (list, tuple)):
        return [[(None, _number(v, decimals)) for v in value]]
    return [_number(value, decimals)]


def _markdown_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _to_markdown(sections):
    out = []
    for title, blocks in sections:
        out.append(f"## {title}\n")
        for block in blocks:
            if isinstance(block, _Table):
                if block.caption:
                    out.append(f"**{block.caption}**\n")
                out.append("| " + " | ".join(map(_markdown_cell, block.header)) + " |")
                out.append("|" + "|".join(["---"] + ["---:"] * (len(block.header) - 1)) + "|")
                out += ["| " + " | ".join(map(_markdown_cell, row)) + " |" for row in block.rows]
                out.append("")
            elif isinstance(block, list):
                out += [f"- **{label}:** {text}" if label is not None else f"- {text}" for label, text in block]
                out.append("")
            else:
                out.append(f"{block}\n")
    return "\n".join(out).rstrip()


def _to_html(sections):
    e = html.escape
    out = []
    for title, blocks in sections:
        out.append(f"<h2>{e(title)}</h2>")
        for block in blocks:
            if isinstance(block, _Table):
                caption = f"<caption>{e(block.caption)}</caption>" if block.caption else ""
                head = "".join(f"<th>{e(h)}</th>" for h in block.header)
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows)
                out.append(f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif isinstance(block, list):
                items = "".join(f"<li><strong>{e(label)}:</strong> {e(text)}</li>" if label is not None
                                else f"<li>{e(text)}</li>" for label, text in block)
                out.append(f"<ul>{items}</ul>")
            else:
                out.append(f"<p>{e(block)}</p>")
    return "\n".join(out)


def _render(title, sections, fmt):
    if fmt not in _FORMATS:
        raise ValueError(f"fmt should be 'markdown' or 'html'; got {fmt!r}.")
    if fmt == "html":
        return _HTML_PAGE.substitute(title=html.escape(title), body=_to_html(sections))
    return _MARKDOWN_PAGE.substitute(title=title, body=_to_markdown(sections))


def _check_decimals(decimals):
    check.check_whole_number(decimals, "decimals", low=0, high=6)


def _check_sections(results, sections, what, optional=()):
    if not isinstance(results, Mapping):
        raise TypeError(f"results should be a dict with the {what} sections as keys; got {type(results).__name__}.")
    missing = [k for k in sections if k not in results and k not in optional]
    unknown = [k for k in results if k not in sections and k != "title"]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing section(s) {', '.join(map(repr, missing))}")
        if unknown:
            parts.append(f"unknown section(s) {', '.join(repr(k) + _suggestion(k, sections) for k in unknown)}")
        raise ValueError(f"results for the {what}: {'; '.join(parts)}. The sections are {', '.join(sections)}.")


def render_model_card(results: Mapping, fmt: str = "markdown", *, decimals: int = 3) -> str:
    """Render a model card (Mitchell et al. 2019) from the results you computed.

    Parameters
    ----------
    results : dict
        One entry per model-card section: ``model_details``, ``intended_use``, ``factors``,
        ``metrics``, ``evaluation_data``, ``training_data``, ``quantitative_analyses``,
        ``ethical_considerations``, ``caveats_and_recommendations``; optionally ``title``.
        Text becomes a paragraph, a list bullets, a dict labelled bullets.
        ``quantitative_analyses`` is an audit table (one row per group with ``n``, the rates of
        :data:`~course_utils.metrics.RATE_METRICS` and optionally their ``_ci_low`` / ``_ci_high``, e.g.
        ``load_course_table("readmission_validation_audit_by_race")``), or a dict of them (e.g.
        ``{"by race": table, "by sex": table2}``), shown as tables.
    fmt : {"markdown", "html"}, default "markdown"
        HTML escapes every value, so text from a data set cannot inject markup.
    decimals : int, default 3
        Decimals shown for every non-integer number.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n": [120, 80], "selection_rate": [0.1, 0.25], "fnr": [0.3, float("nan")]},
    ...                      index=pd.Index(["White", "Black"], name="race"))
    >>> results = {section: "..." for section in MODEL_CARD_SECTIONS}
    >>> results.update(model_details={"name": "Readmission risk", "version": "1.0"}, quantitative_analyses=table)
    >>> card = render_model_card(results)
    >>> print(card[card.index("## Quantitative"):card.index("## Ethical")].strip())
    ## Quantitative analyses
    <BLANKLINE>
    | group | n | selection_rate | fnr |
    |---|---:|---:|---:|
    | White | 120 | 0.100 | 0.300 |
    | Black | 80 | 0.250 | undefined |
    """
    _check_sections(results, MODEL_CARD_SECTIONS, "model card")
    _check_decimals(decimals)
    details = results["model_details"]
    name = details.get("name") if isinstance(details, Mapping) else None
    title = results.get("title") or (f"Model card: {name}" if name else "Model card")
    sections = []
    for key, heading in MODEL_CARD_SECTIONS.items():
        value = results[key]
        if key == "quantitative_analyses":
            tables = value if isinstance(value, Mapping) else {"": value}
            blocks = [b for caption, t in tables.items() for b in _audit_block(t, decimals, str(caption))]
        else:
            blocks = _blocks(value, decimals)
        sections.append((heading, blocks))
    return _render(str(title), sections, fmt)


def _composition(data, group_cols, outcome, decimals):
    blocks = [f"{len(data)} rows and {data.shape[1]} columns."]
    blocks.append(_Table(["column", "dtype", "missing values"],
                         [[str(c), str(data[c].dtype), str(int(data[c].isna().sum()))] for c in data.columns],
                         "Columns"))
    for column in group_cols:
        grouped = data.groupby(column, observed=False)
        counts = grouped.size()
        header = [column, "n", "share"]
        rows = [[_group_label(k), str(int(n)), _number(n / len(data), decimals)] for k, n in counts.items()]
        if outcome is not None:
            cases = grouped[outcome].sum()
            header += [f"{outcome} cases", f"{outcome} rate"]
            for row, n, k in zip(rows, counts, cases):
                row += [str(int(k)), _number(k / n if n else float("nan"), decimals)]
        blocks.append(_Table(header, rows, f"By {column}"))
    if outcome is not None:
        blocks.append(f"Overall {outcome} rate: {_number(float(data[outcome].mean()), decimals)} "
                      f"({int(data[outcome].sum())} of {len(data)}).")
    return blocks


def render_datasheet(data: pd.DataFrame, info: Mapping, fmt: str = "markdown", *, group_cols: str | list[str],
                     outcome_col: str | None = None, decimals: int = 3) -> str:
    """Render a datasheet (Gebru et al. 2021) whose composition section is computed from ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        The data set described; its size, columns, missing values, group counts and shares (and
        outcome rates per group) are computed here, so the document cannot disagree with the data.
    info : dict
        The written sections: ``motivation``, ``collection_process``, ``preprocessing``, ``uses``,
        ``distribution``, ``maintenance`` (text, list or dict each); optionally ``composition``
        (notes placed before the computed tables) and ``title``.
    fmt : {"markdown", "html"}, default "markdown"
    group_cols : str or list of str
        Columns to tabulate by group, e.g. ``["race", "sex"]``.
    outcome_col : str, optional
        A 0/1 column whose rate is given per group, e.g. ``"readmitted_30d"``.
    decimals : int, default 3

    Returns
    -------
    str

    Examples
    --------
    >>> from course_utils.cohort import make_readmission_cohort
    >>> cohort = make_readmission_cohort(n=1000, random_state=0)
    >>> info = {key: "..." for key in DATASHEET_SECTIONS if key != "composition"}
    >>> sheet = render_datasheet(cohort, info, group_cols=["race"], outcome_col="readmitted_30d")
    >>> [line for line in sheet.splitlines() if line.startswith("| Black")]
    ['| Black | 171 | 0.171 | 16 | 0.094 |']
    """
    check.check_dataframe(data)
    _check_sections(info, DATASHEET_SECTIONS, "datasheet", optional=("composition",))
    _check_decimals(decimals)
    group_cols = check.check_columns(data, group_cols, "group_cols")
    outcome = None if outcome_col is None else check.check_column(data, outcome_col, "outcome_col")
    sections = []
    for key, heading in DATASHEET_SECTIONS.items():
        if key == "composition":
            notes = _blocks(info["composition"], decimals) if "composition" in info else []
            sections.append((heading, notes + _composition(data, group_cols, outcome, decimals)))
        else:
            sections.append((heading, _blocks(info[key], decimals)))
    return _render(str(info.get("title") or "Datasheet"), sections, fmt)
