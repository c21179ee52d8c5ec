"""Find code that learners share: a similarity report over a class's hand-ins, question by question.

Hidden tests cannot tell two learners who handed in one solution from two who each wrote their own.
``course similarity HAND_INS --notebook 02a --out grades/02a`` (:func:`similarity_report`) compares every
pair of learners' answers to each code question of a notebook and writes, into the output folder,

* ``similarity.csv``: one row per flagged pair and question (``learner_a``, ``learner_b``, ``question``,
  ``score``, ...) and one ``overall`` row per flagged pair;
* ``similarity.html``: one page, no network, no script, listing the flagged pairs with the two learners'
  answer cells side by side and the lines they share highlighted.

A flag is a reason to look at two hand-ins, never proof: learners may have worked together as allowed, or
both followed a worked example.  Talk to them before anything else.

How answers are compared
------------------------
Answers are the code cells whose nbgrader metadata say ``solution: true`` with a ``grade_id`` ending in
``-answer``; two learners' answers are compared only with the same ``grade_id``.  Each answer is first
*normalised* (:func:`normalise`) so that the disguises of a copy change nothing: it is parsed with
:mod:`ast`, docstrings and other bare strings are dropped, every name the cell itself binds (variables,
arguments, functions it defines) becomes a placeholder numbered by first appearance, while attribute names
and the names it only uses (``pd``, ``.groupby``, ``MetricFrame``) are kept, as they carry the meaning;
keyword arguments are sorted by keyword (:func:`canonical_source` shows the result).  That is printed back
(:func:`ast.unparse`) and split into tokens with :mod:`tokenize`, without comments, blank lines or
indentation, and the placeholders are numbered afresh in each statement, so that swapping two independent
lines does not renumber every name after them (:func:`_number_per_statement`).  A cell that does not parse is
tokenised as it stands with a cruder renaming, and the report says so; one that cannot even be tokenised, a
missing answer cell and an unreadable hand-in are not compared, and the report says so too.

The tokens are fingerprinted by *winnowing* (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms
for document fingerprinting", SIGMOD 2003; the algorithm behind MOSS): every run of :data:`K` tokens is
hashed and, of each :data:`WINDOW` consecutive hashes, the smallest is kept.  Any shared run of
``K + WINDOW - 1`` tokens then gives a shared fingerprint, whatever surrounds it.  Not counted are the
fingerprints of the released cell and of the solution's answer (code every learner starts from or is led
to) and those more than :data:`COMMON_SHARE` of the class share (MOSS's rule for common code), so an idiom
everyone writes alike cannot flag.  An answer left with fewer than :data:`MIN_FINGERPRINTS` fingerprints is
too short to tell a copy from a coincidence and is not scored.

A pair's score on a question is the share of the smaller answer's fingerprints found in the other (a
partial copy scores high too); its overall score adds the shared fingerprints of every question both
answered and divides by the added sizes of the smaller answers, so long answers weigh more.  A pair is
flagged when its overall score reaches the threshold (:data:`DEFAULT_THRESHOLD`), or when one long answer
is nearly identical (:data:`ANSWER_THRESHOLD` with :data:`LONG_ANSWER` shared fingerprints), which finds
the learner who copied one or two answers and wrote the rest.  Both were chosen on a calibration class
(``tests/similarity_class.py``: 40 learners writing apart and 8 disguised copies; ``tests/test_similarity.py``
re-measures them).  The questions listed for a flagged pair are those at or above the threshold.

Learners' code is untrusted text: the page shows it escaped, and its Content-Security-Policy forbids
scripts and every network request.  With ``anonymise`` learners appear under codes; a name a learner wrote
into their own code is not hidden.

Examples
--------
Renaming, comments, docstrings, whitespace and the order of keyword arguments do not change an answer's
fingerprints:

>>> mine = '''
... def audit(y, p):
...     counts = y.groupby(p).size()   # per group
...     return counts.sort_values(ascending=False, kind="stable")
... '''
>>> theirs = '''
... def audit(labels, flagged):
...     "Size of each group."
...     n   =  labels.groupby( flagged ).size()
...     return n.sort_values(kind="stable", ascending=False)
... '''
>>> print(canonical_source(theirs))
def _v0(_v1, _v2):
    _v3 = _v1.groupby(_v2).size()
    return _v3.sort_values(ascending=False, kind='stable')
>>> fingerprints(normalise(mine).tokens) == fingerprints(normalise(theirs).tokens)
True
"""

from __future__ import annotations

import ast
import csv
import hashlib
import html
import io
import keyword
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.exercises.questions import notebook_id_of
from course_utils.handin import read_notebook
from course_utils.instructor import gradebook

#: Tokens per hashed run (the paper's k).  Chosen on the calibration class with WINDOW (k, w = 5, 4; 6, 5; 7, 5;
#: 8, 6 tried): seven tokens are about one short expression -- shorter runs match by chance in any two pandas
#: answers, longer ones lose a copy whose lines were reordered.
K = 7
#: Hashes per winnowing window (the paper's w): every shared run of K + WINDOW - 1 = 11 tokens is detected.
WINDOW = 5
#: A fingerprint more than this share of the class's answers to a question hold is common code, not counted
#: (MOSS ignores passages that occur in many documents for the same reason).
COMMON_SHARE = 0.5
#: Answers with fewer fingerprints than this, once released, solution and common code are set aside, are not
#: scored: a one-line answer written alike by two learners is a coincidence as often as a copy.
MIN_FINGERPRINTS = 8
#: Pairs whose overall score reaches this are flagged.  Chosen on the calibration class (``tests/similarity_class.py``,
#: seeds 0-9, ten classes of 48): every disguised full copy scored 0.87 or more, every pair of learners who wrote
#: their own answers 0.63 or less; 0.75 leaves room on both sides.  On ten more classes (seeds 10-19), not used to
#: choose it, independent pairs stayed at or below 0.70.
DEFAULT_THRESHOLD = 0.75
#: One answer this similar, with at least LONG_ANSWER shared fingerprints (some fifteen lines of code), flags a pair
#: on its own: a learner who copied two long answers and wrote the rest scored 0.63 to 0.84 overall, but 0.85 or more
#: with 71 or more shared fingerprints on a copied answer; no independent pair had an answer at 0.85 with more than 52
#: shared (57 on the ten classes not used to choose it).
ANSWER_THRESHOLD = 0.85
LONG_ANSWER = 60
#: Characters of one answer cell that are compared; a longer cell is cut there (and the report says so).
MAX_CELL_CHARACTERS = 100_000

CSV_NAME = "similarity.csv"
HTML_NAME = "similarity.html"
CODES_NAME = "similarity-codes.json"  # the key to anonymous codes when no results.json holds one
OVERALL = "overall"  # the question column of a pair's overall row in the CSV

_PLACEHOLDER = "_v"  # local names become _v0, _v1, ... (a leading underscore: unlike any library name)
_NOISE = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
_END_OF_STATEMENT = "<newline>"


# --- normalising one answer ------------------------------------------------------------------------

@dataclass(frozen=True)
class Normalised:
    """An answer as tokens, each with the line of the original cell it comes from (0 when unknown).

    ``method`` is ``"ast"`` (parsed), ``"tokens"`` (did not parse: tokenised as written) or ``""`` (could not be
    read as code at all: no tokens); ``note`` says why when it is not ``"ast"``.
    """

    tokens: tuple[str, ...]
    lines: tuple[int, ...]
    method: str
    note: str = ""


def normalise(source: str) -> Normalised:
    """The tokens of ``source`` with its names, comments, docstrings, layout and keyword order normalised.

    See the module docstring.  Never raises on a learner's code: what does not parse is tokenised as it stands.
    """
    python = _as_python(source)
    if python is None:
        problem = _syntax_problem(source)
    else:
        try:
            return _normalise_parsed(python)
        except (SyntaxError, ValueError, RecursionError, MemoryError, tokenize.TokenError) as error:
            problem = type(error).__name__  # e.g. nesting too deep for the printer
    tokens = _tokens_as_written(source)
    if not tokens.tokens:
        return Normalised((), (), "", f"could not be read as Python code ({problem}); not compared")
    return Normalised(tokens.tokens, tokens.lines, "tokens",
                      f"does not parse as Python ({problem}); compared token by token")


def canonical_source(source: str) -> str:
    """``source`` as the comparison sees it: parsed, docstrings dropped, names numbered, keywords sorted.

    Raises :class:`SyntaxError` when ``source`` is not Python (that cell is compared token by token instead).
    """
    python = _as_python(source)
    if python is None:
        raise SyntaxError("not Python code")
    return ast.unparse(_canonical_tree(ast.parse(python)))


def _as_python(source: str) -> str | None:
    """``source`` as plain Python (IPython's ``%magics`` and ``!commands`` turned into calls), or None."""
    try:
        ast.parse(source)
        return source
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        # Only for cells that are not plain Python: importing IPython's transformer costs a third of a second.
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(source)
        ast.parse(python)
        return python
    except Exception:  # noqa: BLE001 -- any failure means "not Python"; the caller falls back to tokens
        return None


def _syntax_problem(source: str) -> str:
    try:
        ast.parse(source)
    except SyntaxError as error:
        return f"{type(error).__name__} on line {error.lineno}: {error.msg}"
    except Exception as error:  # noqa: BLE001 -- RecursionError, MemoryError, ValueError (a NUL character)
        return type(error).__name__
    return "not Python"


def _normalise_parsed(python: str) -> Normalised:
    original = ast.parse(python)
    tree = _canonical_tree(original)
    text = ast.unparse(tree)
    line_of = _line_map(tree, text)
    tokens, lines = [], []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in _NOISE:
            continue
        tokens.append(_END_OF_STATEMENT if token.type == tokenize.NEWLINE else token.string)
        lines.append(line_of.get(token.start[0], 0))
    return Normalised(_number_per_statement(tokens), tuple(lines), "ast")


def _number_per_statement(tokens) -> tuple[str, ...]:
    """Placeholders numbered afresh in each statement, by first appearance there.

    Numbered across the whole cell, swapping two independent lines would renumber every name after them and
    change most fingerprints; one placeholder for all names would make unrelated answers look alike.  Numbered
    within a statement, a name keeps what a run of tokens can see of it -- "the same name as two tokens ago" --
    and nothing else.  On four calibration classes (seeds 0-3) this kept every disguised full copy at or above 0.89
    overall and every independent pair at or below 0.63; numbered across the cell, copies fell to 0.43; with one
    placeholder for every name, independent pairs rose to 0.68.
    """
    numbered, names = [], {}
    for token in tokens:
        if token == _END_OF_STATEMENT:
            names = {}
        elif token.startswith(_PLACEHOLDER) and token[len(_PLACEHOLDER):].isdigit():
            token = names.setdefault(token, f"{_PLACEHOLDER}{len(names)}")
        numbered.append(token)
    return tuple(numbered)


def _canonical_tree(tree: ast.Module) -> ast.Module:
    """The tree with docstrings dropped, local names numbered and keyword arguments sorted (changed in place)."""
    _drop_bare_strings(tree)
    names = {name: f"{_PLACEHOLDER}{number}" for number, name in enumerate(_local_names(tree))}
    functions = {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return _Rename(names, functions & set(names)).visit(tree)


def _drop_bare_strings(tree: ast.AST) -> None:
    """Docstrings and other strings standing alone as statements: comments in all but name."""
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                continue
            kept = [statement for statement in body if not (
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str))]
            if not kept and not isinstance(node, ast.Module):
                kept = [ast.Pass()]  # a function that was only its docstring still needs a body
            setattr(node, name, kept)


def _local_names(tree: ast.AST) -> list[str]:
    """The names ``tree`` binds itself, in order of first appearance; imported names are not local."""
    imported, bound, seen = set(), set(), []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    bound -= imported
    for node in ast.walk(tree):
        name = _bound_name_of(node)
        if name in bound:
            seen.append((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), name))
    order = []
    for *_, name in sorted(seen):
        if name not in order:
            order.append(name)
    return order


def _bound_name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.arg):
        return node.arg
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        return node.name
    return None


class _Rename(ast.NodeTransformer):
    """Local names to placeholders; keyword arguments sorted, and renamed in calls to the cell's own functions."""

    def __init__(self, names: dict[str, str], functions: set[str]):
        self.names, self.functions = names, functions

    def _new(self, name):
        return self.names.get(name, name)

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        self.generic_visit(node)
        return node

    def _visit_named(self, node):
        node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_named

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    def visit_MatchAs(self, node):
        if node.name:
            node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    visit_MatchStar = visit_MatchAs

    def visit_MatchMapping(self, node):
        if node.rest:
            node.rest = self._new(node.rest)
        self.generic_visit(node)
        return node

    def visit_Global(self, node):
        node.names = [self._new(name) for name in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_Call(self, node):
        # A keyword of a function the cell defines is one of its own parameter names: renamed with them.  A keyword
        # of a library call (sensitive_features=) is kept, even when a local variable happens to share its name.
        own = isinstance(node.func, ast.Name) and node.func.id in self.functions
        self.generic_visit(node)
        for argument in node.keywords:
            if own and argument.arg:
                argument.arg = self._new(argument.arg)
        node.keywords.sort(key=lambda argument: (argument.arg is None, argument.arg or ""))  # **kwargs stay last
        return node


def _line_map(tree: ast.AST, text: str) -> dict[int, int]:
    """Line of the printed ``text`` -> line of the learner's cell, matched statement by statement.

    Printing keeps the structure, so re-parsing ``text`` gives the same statements in the same order; each
    carries its line in the printed text, its twin in ``tree`` its line in the cell.  Empty when they differ.
    """
    printed = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.stmt)]
    cell = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    if len(printed) != len(cell):
        return {}
    line_of = {}
    for new, old in zip(printed, cell):
        if getattr(old, "lineno", None) is None:
            continue  # a `pass` put where a docstring was
        line_of.setdefault(new.lineno, old.lineno)  # a compound statement's header: its first line
    return line_of


def _tokens_as_written(source: str) -> Normalised:
    """Tokens of a cell that does not parse: comments, layout and docstring-like strings dropped, and names that
    look bound (assigned, defined, looped over, parameters) numbered.  As far as the tokeniser gets."""
    raw = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.ERRORTOKEN and not token.string.strip():
                continue
            raw.append(token)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError, RecursionError, MemoryError):
        pass  # keep what was read before the tokeniser gave up
    significant = [token for token in raw if token.type not in _NOISE]
    bound = _names_that_look_bound(significant)
    names: dict[str, str] = {}
    tokens, lines = [], []
    previous = None
    for index, token in enumerate(significant):
        if token.type == tokenize.STRING and (previous is None or previous.type == tokenize.NEWLINE):
            following = significant[index + 1] if index + 1 < len(significant) else None
            if following is None or following.type == tokenize.NEWLINE:
                previous = token
                continue  # a docstring or a string standing alone
        text = token.string
        if token.type == tokenize.NEWLINE:
            text = _END_OF_STATEMENT
        elif token.type == tokenize.NAME and text in bound and not (previous is not None and previous.string == "."):
            text = names.setdefault(text, f"{_PLACEHOLDER}{len(names)}")
        if text:
            tokens.append(text)
            lines.append(token.start[0])
        previous = token
    return Normalised(_number_per_statement(tokens), tuple(lines), "tokens")


def _names_that_look_bound(tokens) -> set[str]:
    """Names a cell that does not parse probably binds: ``x =``, ``def f(a, b)``, ``for i in``, ``as e``; not the
    names it imports (``import numpy as np``: ``np`` means the library, as in a cell that parses)."""
    bound, depth, in_signature, importing = set(), 0, False, False
    strings = [token.string for token in tokens]
    for index, token in enumerate(tokens):
        text = token.string
        before = strings[index - 1] if index else ""
        after = strings[index + 1] if index + 1 < len(strings) else ""
        if index == 0 or tokens[index - 1].type == tokenize.NEWLINE:
            importing = text in ("import", "from")
        if importing:
            continue
        if text in "([{" and token.type == tokenize.OP:
            depth += 1
        elif text in ")]}" and token.type == tokenize.OP:
            depth = max(depth - 1, 0)
            if depth == 0:
                in_signature = False
        if token.type != tokenize.NAME or keyword.iskeyword(text):
            continue
        if before in ("def", "class", "lambda"):
            bound.add(text)
            in_signature = before == "def"
        elif in_signature and after in (",", ")", "=", ":") and before in ("(", ",", "*", "**"):
            bound.add(text)
        elif depth == 0 and after in ("=", "+=", "-=", "*=", "/=", "//=", "%=", "**=", "|=", "&=", ":="):
            bound.add(text)
        elif before in ("for", "as") or (depth == 0 and before == "," and after in ("=", ",", "in")):
            bound.add(text)
    return bound


# --- fingerprints ----------------------------------------------------------------------------------

_TOKEN_IDS: dict[str, int] = {}


def _token_id(token: str) -> int:
    """A token's 64-bit number, the same in every process (``hash`` of a string is not)."""
    number = _TOKEN_IDS.get(token)
    if number is None:
        number = int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
        _TOKEN_IDS[token] = number
    return number


def kgram_hashes(tokens, k: int = K) -> list[int]:
    """The hash of every run of ``k`` consecutive tokens, in order (none when there are fewer than ``k``).

    A tuple of integers hashes the same in every process, unlike a string.
    """
    ids = [_token_id(token) for token in tokens]
    return [hash(tuple(ids[start:start + k])) for start in range(len(ids) - k + 1)]


def winnow(hashes, window: int = WINDOW) -> dict[int, int]:
    """Robust winnowing: position -> hash of the smallest hash of each window (the rightmost when tied).

    Examples
    --------
    >>> winnow([77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98], window=4)
    {3: 17, 6: 17, 8: 8, 11: 39, 15: 17}
    """
    hashes = list(hashes)
    if not hashes:
        return {}
    window = max(1, min(window, len(hashes)))
    chosen: dict[int, int] = {}
    for start in range(len(hashes) - window + 1):
        part = hashes[start:start + window]
        smallest = min(part)
        position = start + max(i for i, value in enumerate(part) if value == smallest)
        chosen[position] = smallest
    return chosen


def fingerprints(tokens, k: int = K, window: int = WINDOW) -> set[int]:
    """The winnowed fingerprints of a token sequence."""
    return set(winnow(kgram_hashes(tokens, k), window).values())


# --- reading the class ------------------------------------------------------------------------------

def is_answer_cell(cell) -> bool:
    """An answer cell of a code question: nbgrader ``solution`` with a ``grade_id`` ending in ``-answer``."""
    info = cell.get("metadata", {}).get("nbgrader", {}) or {}
    return bool(info.get("solution")) and str(info.get("grade_id", "")).endswith("-answer")


def code_questions(notebook: str) -> list[str]:
    """The grade ids of the answer cells of ``notebook``'s code questions, in notebook order."""
    from course_utils.instructor import grading

    return [cell.metadata["nbgrader"]["grade_id"] for cell in grading.solution_notebook(notebook).cells
            if cell.cell_type == "code" and is_answer_cell(cell)]


def answer_cells(notebook: nbformat.NotebookNode) -> dict[str, object]:
    """grade id -> answer cell of a notebook (the first when a learner duplicated one)."""
    found = {}
    for cell in notebook.get("cells", []):
        if is_answer_cell(cell):
            found.setdefault(cell["metadata"]["nbgrader"]["grade_id"], cell)
    return found


@dataclass
class Answer:
    """One learner's answer to one question, as compared."""

    source: str
    normalised: Normalised
    kgrams: list[int]
    fingerprints: set[int]


@dataclass(frozen=True)
class Note:
    """Something the report could not compare, or compared differently; ``learner_id`` is "" for a question."""

    learner_id: str
    question: str
    text: str


@dataclass(frozen=True)
class QuestionScore:
    """A pair's score on one question: ``shared`` of the smaller answer's ``min(size_a, size_b)`` fingerprints."""

    question: str
    score: float
    shared: int
    size_a: int
    size_b: int


@dataclass
class PairScore:
    """Two learners (``learner_a`` sorts first), their overall score and their score on each question both answered.

    ``flagged`` lists the questions that make the pair worth a look (empty: not flagged); see :func:`compare_class`.
    """

    learner_a: str
    learner_b: str
    overall: float
    questions: dict[str, QuestionScore]
    flagged: list[QuestionScore] = field(default_factory=list)
    reason: str = ""  # why the pair is flagged, in words ("" when it is not)


@dataclass
class SimilarityResult:
    """Every pair that shares a fingerprint (highest overall first), what was not compared, and the settings."""

    notebook: str
    threshold: float
    learners: list[str]
    questions: list[str]
    pairs: list[PairScore]
    notes: list[Note]
    answers: dict[tuple[str, str], Answer] = field(repr=False)
    excluded: dict[str, set[int]] = field(repr=False)  # per question: k-gram hashes that never count as shared
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0
    csv_path: Path | None = None
    html_path: Path | None = None

    @property
    def flagged(self) -> list[PairScore]:
        return [pair for pair in self.pairs if pair.reason]

    def pair(self, first: str, second: str) -> PairScore | None:
        """The score of two learners, in either order (None when they share nothing)."""
        wanted = {first, second}
        return next((pair for pair in self.pairs if {pair.learner_a, pair.learner_b} == wanted), None)


def _reference_kgrams(notebook: str, questions: list[str], k: int) -> tuple[dict[str, set[int]], list[Note]]:
    """Per question, every k-gram of the released cell and of the solution's answer: code that never counts."""
    from course_utils.instructor import grading, release

    notes = []
    sources = {question: [] for question in questions}
    for question, cell in answer_cells(grading.solution_notebook(notebook)).items():
        if question in sources:
            sources[question].append(cell.source)
    released = release.NOTEBOOKS_DIR / release.solution_path(notebook).name
    skeleton, problem = read_notebook(released) if released.is_file() else (None, "it is missing")
    if skeleton is None:
        notes.append(Note("", "", f"The released notebook {released.name} could not be read ({problem}); only the "
                                  "solution's code is set aside as shared by design."))
    else:
        for question, cell in answer_cells(skeleton).items():
            if question in sources:
                sources[question].append(cell.source)
    return {question: {h for text in texts for h in kgram_hashes(normalise(text).tokens, k)}
            for question, texts in sources.items()}, notes


def _read_answers(hand_ins, questions, k, window, excluded) -> tuple[dict, list[Note]]:
    answers, notes = {}, []
    for hand_in in hand_ins:
        learner = hand_in.learner_id
        if hand_in.path is None:
            notes.append(Note(learner, "", f"No hand-in found ({hand_in.note or 'no notebook'}); not compared."))
            continue
        try:
            notebook, problem = read_notebook(hand_in.path)
        except OSError as error:
            notebook, problem = None, f"the file could not be read ({type(error).__name__})"
        if notebook is None:
            notes.append(Note(learner, "", f"Unreadable hand-in, not compared: {problem}"))
            continue
        cells = answer_cells(notebook)
        for question in questions:
            cell = cells.get(question)
            if cell is None:
                notes.append(Note(learner, question, "The answer cell is missing (deleted, or its nbgrader metadata "
                                                     "lost); not compared."))
                continue
            if cell.get("cell_type") != "code":
                notes.append(Note(learner, question, f"The answer cell is a {cell.get('cell_type')} cell, not code; "
                                                     "not compared."))
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            if len(source) > MAX_CELL_CHARACTERS:
                notes.append(Note(learner, question, f"The answer cell has {len(source):,} characters; only the "
                                                     f"first {MAX_CELL_CHARACTERS:,} are compared."))
                source = source[:MAX_CELL_CHARACTERS]
            normalised = normalise(source)
            if normalised.note:
                notes.append(Note(learner, question, f"The answer cell {normalised.note}."))
            if not normalised.tokens:
                continue
            kgrams = kgram_hashes(normalised.tokens, k)
            chosen = set(winnow(kgrams, window).values()) - excluded[question]
            answers[(learner, question)] = Answer(source, normalised, kgrams, chosen)
    return answers, notes


# --- comparing -------------------------------------------------------------------------------------

def _judge(pair: PairScore, threshold: float, answer_threshold: float, long_answer: int) -> PairScore:
    """Flag the pair when its overall score reaches ``threshold``, or when one long answer is copied nearly whole."""
    copied = [score for score in pair.questions.values()
              if score.score >= answer_threshold and score.shared >= long_answer]
    pair.flagged = [score for score in pair.questions.values() if score.score >= threshold or score in copied]
    if pair.overall >= threshold:
        pair.reason = f"overall score {pair.overall:.2f}, at or above {threshold:.2f}"
    elif copied:
        pair.reason = "; ".join(f"{score.question} nearly identical ({score.score:.2f}, {score.shared} shared "
                                f"fingerprints)" for score in copied)
    return pair


def compare_class(folder, notebook: str, threshold: float | None = None, *, k: int = K, window: int = WINDOW,
                  common_share: float = COMMON_SHARE, min_fingerprints: int = MIN_FINGERPRINTS,
                  answer_threshold: float = ANSWER_THRESHOLD, long_answer: int = LONG_ANSWER) -> SimilarityResult:
    """Compare every pair of hand-ins in ``folder`` on each code question of ``notebook``; write nothing.

    A pair is flagged when its overall score reaches ``threshold``, or when one of its answers, with at least
    ``long_answer`` shared fingerprints, scores ``answer_threshold`` or more: a learner who copied one long
    answer and wrote the rest is found although the rest lowers the overall score.

    Parameters
    ----------
    folder : path
        The hand-ins, in either layout :func:`course_utils.instructor.gradebook.find_hand_ins` reads.
    notebook : str
        Course notebook number, e.g. ``"02a"``.
    threshold : float, optional
        Overall score at which a pair is flagged (default :data:`DEFAULT_THRESHOLD`).
    k, window : int
        Tokens per hashed run and hashes per winnowing window (default :data:`K`, :data:`WINDOW`).
    common_share : float
        Fingerprints more than this share of a question's answers hold are not counted.  A fingerprint only two
        answers hold always counts, however small the class: that is what a copy looks like.
    min_fingerprints : int
        Answers with fewer counted fingerprints are too short to score.
    answer_threshold, long_answer : float, int
        One answer's score and shared fingerprints that flag a pair on their own (default
        :data:`ANSWER_THRESHOLD`, :data:`LONG_ANSWER`).

    Returns
    -------
    SimilarityResult
        ``pairs``: every pair sharing at least one counted fingerprint, highest overall score first.
    """
    import numpy as np
    from scipy import sparse

    from course_utils.instructor import release

    started = time.perf_counter()
    threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if not 0 < threshold <= 1:
        raise ValueError(f"The threshold is a score between 0 and 1 (default {DEFAULT_THRESHOLD}); got {threshold:g}.")
    notebook = notebook_id_of(release.solution_path(notebook))
    hand_ins = gradebook.find_hand_ins(folder, notebook)
    learners = [hand_in.learner_id for hand_in in hand_ins]
    questions = code_questions(notebook)
    excluded, notes = _reference_kgrams(notebook, questions, k)
    answers, learner_notes = _read_answers(hand_ins, questions, k, window, excluded)
    notes += learner_notes
    n = len(learners)
    index_of = {learner: i for i, learner in enumerate(learners)}
    shared_total, smaller_total = np.zeros((n, n)), np.zeros((n, n))
    per_question: dict[str, tuple] = {}
    for question in questions:
        holders: dict[int, list[int]] = {}  # the inverted index: fingerprint -> learners whose answer has it
        answered = [learner for learner in learners if (learner, question) in answers]
        for learner in answered:
            for h in answers[(learner, question)].fingerprints:
                holders.setdefault(h, []).append(index_of[learner])
        common_limit = max(common_share * len(answered), 2)
        common = {h for h, who in holders.items() if len(who) > common_limit}
        excluded[question] = excluded[question] | common
        sizes = np.zeros(n)
        short = 0
        for learner in answered:
            answer = answers[(learner, question)]
            answer.fingerprints -= common
            if len(answer.fingerprints) >= min_fingerprints:
                sizes[index_of[learner]] = len(answer.fingerprints)
            else:
                short += 1
        if short:
            notes.append(Note("", question, f"{short} of {len(answered)} answers have fewer than {min_fingerprints} "
                                            "fingerprints of their own (short, or as released or as in the "
                                            "solution): not scored."))
        # Shared counts of every pair at once: the learner-by-fingerprint incidence matrix times its transpose,
        # i.e. the inverted index walked in compiled code rather than pair by pair in Python.
        rows, columns = [], []
        for column, (h, who) in enumerate(item for item in holders.items() if item[0] not in common):
            for row in who:
                if sizes[row]:
                    rows.append(row)
                    columns.append(column)
        incidence = sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n, max(len(holders), 1)))
        shared = np.asarray((incidence @ incidence.T).todense())
        scored = sizes > 0
        smaller = np.where(np.outer(scored, scored), np.minimum.outer(sizes, sizes), 0.0)
        np.fill_diagonal(shared, 0)
        np.fill_diagonal(smaller, 0)
        shared_total += shared
        smaller_total += smaller
        per_question[question] = (shared, sizes)
    pairs = []
    for a, b in zip(*np.nonzero(np.triu(shared_total, 1))):
        first, second = sorted((learners[a], learners[b]), key=str.casefold)
        i, j = index_of[first], index_of[second]
        scores = {}
        for question, (shared, sizes) in per_question.items():
            if sizes[i] and sizes[j]:
                scores[question] = QuestionScore(question, float(shared[i, j] / min(sizes[i], sizes[j])),
                                                 int(shared[i, j]), int(sizes[i]), int(sizes[j]))
        overall = float(shared_total[i, j] / smaller_total[i, j])
        pairs.append(_judge(PairScore(first, second, overall, scores), threshold, answer_threshold, long_answer))
    pairs.sort(key=lambda pair: (not pair.reason, -pair.overall, pair.learner_a.casefold(), pair.learner_b.casefold()))
    settings = {"k": k, "window": window, "common_share": common_share, "min_fingerprints": min_fingerprints,
                "answer_threshold": answer_threshold, "long_answer": long_answer}
    return SimilarityResult(notebook, threshold, learners, questions, pairs, notes, answers, excluded, settings,
                            seconds=time.perf_counter() - started)


# --- writing ---------------------------------------------------------------------------------------

def similarity_report(folder, notebook: str, out, threshold: float | None = None,
                      anonymise: bool = False) -> SimilarityResult:
    """Compare a class's hand-ins (:func:`compare_class`) and write ``similarity.csv`` and ``similarity.html``.

    Parameters
    ----------
    folder : path
        The hand-ins (see :func:`course_utils.instructor.gradebook.find_hand_ins`).
    notebook : str
        Course notebook number, e.g. ``"02a"``.
    out : path
        Output folder, e.g. ``grades/02a`` (created; it must not be inside ``folder``).
    threshold : float, optional
        Overall score at which a pair is flagged (default :data:`DEFAULT_THRESHOLD`).
    anonymise : bool
        Show learners under codes in both files: those ``course grade --anonymise`` stored in
        ``out/results.json`` when there are any, else codes kept in ``out/similarity-codes.json`` (the key; keep
        it to yourself).
    """
    folder, out = Path(folder).resolve(), Path(out).resolve()
    if out == folder or folder in out.parents:
        raise ValueError("Write the report outside the hand-in folder (--out), so it is never taken for a hand-in.")
    result = compare_class(folder, notebook, threshold)
    out.mkdir(parents=True, exist_ok=True)
    codes = gradebook.anonymous_codes(result.learners, out, CODES_NAME) if anonymise else None
    result.csv_path = write_csv(result, out / CSV_NAME, codes)
    result.html_path = write_html(result, out / HTML_NAME, codes)
    return result


def _shown(learner: str, codes: dict | None) -> str:
    return codes[learner] if codes else learner


def _without_names(text: str, codes: dict | None) -> str:
    """A note with every learner's name replaced by their code (a note may quote a folder name)."""
    for learner, code in sorted((codes or {}).items(), key=lambda item: -len(item[0])):
        text = text.replace(learner, code)
    return text


def write_csv(result: SimilarityResult, path: Path, codes: dict | None = None) -> Path:
    """``similarity.csv``: per flagged pair, its ``overall`` row, then a row per question at or above the threshold.

    UTF-8 with a byte-order mark, as ``gradebook.csv``, so spreadsheets show accented names correctly.
    """

    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner_a", "learner_b", "question", "score", "shared_fingerprints", "fingerprints_a",
                         "fingerprints_b"])
        for pair in result.flagged:
            a, b = (gradebook.spreadsheet_safe(_shown(learner, codes)) for learner in (pair.learner_a, pair.learner_b))
            sizes = [sum(score.size_a for score in pair.questions.values()),
                     sum(score.size_b for score in pair.questions.values())]
            writer.writerow([a, b, OVERALL, f"{pair.overall:.3f}", sum(s.shared for s in pair.questions.values()),
                             *sizes])
            for score in pair.flagged:
                writer.writerow([a, b, score.question, f"{score.score:.3f}", score.shared, score.size_a, score.size_b])
    return path


def matched_lines(result: SimilarityResult, learner: str, other: str, question: str) -> set[int]:
    """Lines of ``learner``'s answer cell with a run of tokens found in ``other``'s (released, solution and
    common code aside): what the page highlights."""
    mine, theirs = result.answers.get((learner, question)), result.answers.get((other, question))
    if mine is None or theirs is None:
        return set()
    k = result.settings.get("k", K)
    wanted = set(theirs.kgrams) - result.excluded.get(question, set())
    lines = set()
    for start, h in enumerate(mine.kgrams):
        if h in wanted:
            lines.update(line for line in mine.normalised.lines[start:start + k] if line)
    return lines


def _code_block(source: str, highlighted: set[int]) -> str:
    rows = []
    for number, line in enumerate(source.splitlines() or [""], start=1):
        css = ' class="m"' if number in highlighted else ""
        rows.append(f'<span{css}><span class="n">{number}</span>{html.escape(line) or " "}</span>')
    return f"<pre>{''.join(rows)}</pre>"


def write_html(result: SimilarityResult, path: Path, codes: dict | None = None) -> Path:
    """``similarity.html``: the flagged pairs with their answers side by side, shared lines highlighted.

    Everything a learner wrote (code, names) is escaped, and the page's policy allows no script and no request.
    """
    from course_utils.instructor import release

    e = html.escape
    title = release.solution_path(result.notebook).stem
    sections = []
    for number, pair in enumerate(result.flagged, start=1):
        a, b = _shown(pair.learner_a, codes), _shown(pair.learner_b, codes)
        rows = "".join(
            f"<tr{HIT if score in pair.flagged else ''}><td><code>{e(score.question)}</code></td>"
            f"<td>{score.score:.2f}</td><td>{score.shared} of {min(score.size_a, score.size_b)}</td></tr>"
            for score in pair.questions.values())
        sides = []
        for score in pair.flagged:
            question = score.question
            left = _code_block(result.answers[(pair.learner_a, question)].source,
                               matched_lines(result, pair.learner_a, pair.learner_b, question))
            right = _code_block(result.answers[(pair.learner_b, question)].source,
                                matched_lines(result, pair.learner_b, pair.learner_a, question))
            sides.append(f'<h3><code>{e(question)}</code>: {score.score:.2f}</h3><div class="sides">'
                         f"<div><h4>{e(a)}</h4>{left}</div><div><h4>{e(b)}</h4>{right}</div></div>")
        sections.append(
            f'<section class="pair" id="pair-{number}"><h2>{number}. {e(a)} and {e(b)}: overall {pair.overall:.2f}'
            f'</h2><p class="why">Flagged: {e(pair.reason)}.</p><table class="scores">'
            "<tr><th>question</th><th>score</th><th>shared fingerprints</th></tr>"
            f"{rows}</table>{''.join(sides)}</section>")
    below = [pair for pair in result.pairs if not pair.reason][:10]
    closest = "".join(f"<tr><td>{e(_shown(pair.learner_a, codes))}</td><td>{e(_shown(pair.learner_b, codes))}</td>"
                      f"<td>{pair.overall:.2f}</td></tr>" for pair in below)
    notes = "".join(f"<li>{e(_shown(note.learner_id, codes)) + ': ' if note.learner_id else ''}"
                    f"{'<code>' + e(note.question) + '</code>: ' if note.question else ''}"
                    f"{e(_without_names(note.text, codes))}</li>" for note in result.notes)
    settings = result.settings
    found = (f"{len(result.flagged)} pair(s) flagged: an overall score at or above {result.threshold:.2f}, or one "
             f"answer with {settings.get('long_answer', LONG_ANSWER)} or more shared fingerprints scoring "
             f"{settings.get('answer_threshold', ANSWER_THRESHOLD):.2f} or more." if result.flagged
             else f"No pair is flagged (threshold {result.threshold:.2f}).")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Shared code · {e(title)}</title>
<style>{STYLE}</style></head>
<body><main>
<h1>Shared code in the hand-ins of {e(title)}</h1>
<p class="how">{len(result.learners)} hand-ins, {len(result.questions)} code questions. {found}
A question's score is the share of the smaller answer's fingerprints (runs of {settings.get("k", K)} tokens, after
names, comments, docstrings, layout and keyword order are normalised) found in the other; the overall score weighs
questions by their fingerprints. Code from the released notebook or the solution, and code more than
{settings.get("common_share", COMMON_SHARE):.0%} of the class share, never counts; answers with fewer than
{settings.get("min_fingerprints", MIN_FINGERPRINTS)} fingerprints of their own are not scored. Highlighted lines hold
shared code. <strong>A high score is a reason to look, not proof</strong>: talk to the learners first.</p>
{''.join(sections)}
<section class="below"><h2>Closest pairs below the threshold</h2>
{'<table><tr><th>learner</th><th>learner</th><th>overall</th></tr>' + closest + '</table>' if closest
 else '<p>No other pair shares code.</p>'}</section>
<section class="notes"><h2>Not compared, or compared differently ({len(result.notes)})</h2>
{'<ul>' + notes + '</ul>' if notes else '<p>Every answer was compared.</p>'}</section>
</main></body></html>
"""
    Path(path).write_text(page, encoding="utf-8")
    return Path(path)


HIT = ' class="hit"'  # a question's row at or above the threshold, in a flagged pair's table
STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #1b1b1b; }
main { max-width: 90rem; margin: auto; padding: 1rem 1.5rem 4rem; }
section { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; margin: 1rem 0; }
h2 { font-size: 1.15rem; } h3 { font-size: 1rem; margin-bottom: 0.3rem; } h4 { margin: 0.2rem 0; font-size: 0.95rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 0.2rem 0.5rem; text-align: left; }
tr.hit td { font-weight: bold; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.sides > div { min-width: 0; }
pre { font: 13px/1.45 ui-monospace, monospace; background: #fafafa; border: 1px solid #ddd; padding: 0.4rem 0;
      overflow-x: auto; margin: 0; }
pre > span { display: block; padding: 0 0.5rem; white-space: pre; }
pre > span.m { background: #fde7b0; }
pre .n { display: inline-block; width: 2.5rem; color: #666; user-select: none; }
"""


def summary(result: SimilarityResult) -> str:
    """A few lines for the terminal: how many pairs were flagged and how many answers were not compared (no
    names: with ``--anonymise`` the terminal must not give away what the files hide)."""
    lines = [f"{len(result.learners)} hand-ins, {len(result.questions)} code questions compared in "
             f"{result.seconds:.1f} s: {len(result.flagged)} pair(s) flagged (overall score at or above "
             f"{result.threshold:.2f}, or one long answer nearly identical)."]
    skipped = [note for note in result.notes if note.learner_id]
    if skipped:
        lines.append(f"{len(skipped)} answer(s) or hand-in(s) not compared as usual; the page lists them.")
    return "\n".join(lines)


__all__ = ["ANSWER_THRESHOLD", "COMMON_SHARE", "DEFAULT_THRESHOLD", "K", "LONG_ANSWER", "MIN_FINGERPRINTS", "WINDOW",
           "Normalised", "Note", "PairScore",
           "QuestionScore", "SimilarityResult", "answer_cells", "canonical_source", "code_questions",
           "compare_class", "fingerprints", "kgram_hashes", "matched_lines", "normalise", "similarity_report",
           "summary", "winnow", "write_csv", "write_html"]
