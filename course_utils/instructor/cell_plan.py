"""Which cells of a hand-in a verdict can depend on: the grader runs those and skips the rest.

The judge scores only what the harness cells write, and the harness calls the learner's answers.  A
notebook also has many cells the learner did not write and did not change -- figures, tables,
demonstrations of the learner's function on the notebook's data -- and in notebooks 03 and 04 they are
most of a hand-in's running time.  Running them cannot change a verdict unless a cell that does run
reads something they made.  So the grader runs:

* every cell the learner wrote or changed (any code cell whose source is not a released cell's, word
  for word), every graded cell (the harness) and the notebook's first code cell (its imports);
* every released cell that writes files, reaches names dynamically or cannot be read as Python;
* and, working back from those, every earlier released cell that binds or may change a name they load.

"May change" is read generously: a name whose attribute or item is assigned; what a function the
notebook defined is given (a learner's answer may change its arguments); the receiver and arguments
of a method, except methods that only read (``predict``, ``groupby``, ``drop`` without ``inplace``) or
only fit their receiver (``fit``); and what an imported function is given when it is called for its
effect (``np.random.seed(0)``, ``random.shuffle(order)``).
When a learner's cell reaches names dynamically (``globals()``, ``eval``, ``exec``, IPython magics and
history) or is not valid Python, the grader runs every cell, as a notebook would.

One route is not followed: a skipped cell that changes an object the learner reaches later under a
*different* name (an alias the learner made before it).  Released cells change only objects the
notebook made; a test grades every course notebook's worked solution both ways and requires the
same answers, byte for byte.

Examples
--------
>>> names = cell_names("model.fit(X, y)\\nscores = model.predict(X)")
>>> sorted(names.binds), sorted(names.changes)
(['scores'], ['model'])
>>> cell_names("total = eval('1 + 1')").dynamic
True
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass
from typing import Iterable, Sequence

import nbformat
# Imported here, once, in the grader's main thread: hand-ins are planned in several threads at once, and a first
# import of IPython racing in two threads can meet a partly initialised module.
from IPython.core.inputtransformer2 import TransformerManager

#: The tag the grader puts on the cells it skips; nbclient does not run a cell that carries it.
SKIP_TAG = "course-grader-skips"

#: Names that reach the notebook's variables by name at run time: a cell using them could read anything.
DYNAMIC_NAMES = frozenset({"globals", "locals", "vars", "eval", "exec", "get_ipython", "__builtins__", "__main__",
                           "In", "Out", "_ih", "_oh", "_dh"})
#: Calls that write outside the kernel's variables (files, the process); a released cell making one always runs.
WRITING_CALLS = frozenset({"open", "write_text", "write_bytes", "to_csv", "to_parquet", "to_json", "to_pickle",
                           "to_excel", "savefig", "save", "dump", "mkdir", "makedirs", "chdir", "putenv", "system",
                           "remove", "unlink", "rmtree", "touch", "copyfile", "copytree", "symlink_to"})
#: Statement-level calls that only show something: they change no state a later cell can read.
SHOWING_CALLS = frozenset({"print", "display", "plt.show", "plt.close"})
#: Methods that change neither their receiver nor their arguments (pandas, NumPy, scikit-learn, str, Path).
READING_METHODS = frozenset({
    "predict", "predict_proba", "predict_log_proba", "decision_function", "score", "transform",
    "get_feature_names_out", "get_params", "assign", "copy", "groupby", "agg", "aggregate", "mean", "median", "sum",
    "std", "var", "min", "max", "abs", "round", "quantile", "count", "nunique", "unique", "value_counts", "to_numpy",
    "to_frame", "to_dict", "to_list", "tolist", "to_string", "astype", "isin", "isna", "notna", "query", "merge",
    "join", "head", "tail", "sort_values", "sort_index", "drop", "drop_duplicates", "rename", "rename_axis",
    "set_index", "reset_index", "fillna", "dropna", "where", "clip", "unstack", "stack", "pivot_table", "describe",
    "corr", "items", "keys", "values", "get", "reindex", "map", "format", "startswith", "endswith", "split",
    "splitlines", "strip", "lower", "upper", "read_text", "exists", "any", "all", "argmax", "argmin", "cumsum",
    "diff", "between", "reshape", "ravel", "flatten", "squeeze", "iterrows", "itertuples", "explode", "melt"})
#: Methods that change their receiver only (a model learns; what it learns from stays as it was).
FITTING_METHODS = frozenset({"fit", "partial_fit", "fit_transform", "fit_predict"})
#: Builtins that never change their arguments (a learner who rebinds one makes it an ordinary name again).
PURE_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - DYNAMIC_NAMES - {
    "open", "next", "iter", "input", "breakpoint", "exit", "quit", "help", "compile", "setattr", "delattr"}


@dataclass(frozen=True)
class CellNames:
    """What one cell does with the notebook's names, read from its source without running it.

    ``loads``: the notebook-level names it reads (in the bodies of its functions too, but not their local
    names);  ``binds``: names it assigns, defines or imports;  ``imports``: (name, what was imported) for its
    imports;  ``changes``: names whose object it may change in place (see the module's docstring);
    ``writes``: it writes files or changes the process (``os.chdir``);  ``dynamic``: it reaches names at run time, or is
    not Python this module can read.
    """

    loads: frozenset = frozenset()
    binds: frozenset = frozenset()
    imports: frozenset = frozenset()
    changes: frozenset = frozenset()
    writes: bool = False
    dynamic: bool = False

    @property
    def affects(self) -> frozenset:
        """Names a later cell could see differently because this cell ran."""
        return self.binds | self.changes


def python_source(cell_source: str) -> str | None:
    """The cell as plain Python (IPython's magics and ``!`` commands turned into calls); None if it is not Python."""
    try:
        source = TransformerManager().transform_cell(cell_source)
        ast.parse(source)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None
    return source


def cell_names(cell_source: str, imported: Iterable[str] = (), rebound: Iterable[str] = ()) -> CellNames:
    """Read what a cell does with the notebook's names.

    ``imported``: names the notebook binds only by importing them (modules and their functions);
    ``rebound``: builtins the notebook binds to something else (``list = ...``), which may then change things.

    Examples
    --------
    >>> names = cell_names("explanation = shap_values(model, train[features])", imported={"np"})
    >>> sorted(names.loads), sorted(names.changes)
    (['features', 'model', 'shap_values', 'train'], ['features', 'model', 'train'])
    >>> sorted(cell_names("mean = np.mean(x)", imported={"np"}).changes)
    []
    >>> sorted(cell_names("np.random.seed(0)", imported={"np"}).changes)
    ['np']

    A function's own names are not the notebook's:

    >>> sorted(cell_names("def rate(table):\\n    shift = 1\\n    return table.sum() + shift + offset").loads)
    ['offset']
    """
    source = python_source(cell_source)
    if source is None:
        return CellNames(dynamic=True)
    try:
        loads, binds, visible = _scoped_names(symtable.symtable(source, "<cell>", "exec"))
    except (SyntaxError, RecursionError):
        return CellNames(dynamic=True)
    plain = frozenset(imported) | (PURE_BUILTINS - frozenset(rebound))
    imports, changes = set(), set()
    writes = False
    tree = ast.parse(source)
    effects = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return CellNames(dynamic=True)  # binds names no one can list
                module = f"{node.module}." if isinstance(node, ast.ImportFrom) else ""
                imports.add((alias.asname or alias.name.split(".")[0], f"{'.' * getattr(node, 'level', 0)}"
                                                                        f"{module}{alias.name}"))
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            changes.update(_root_names(node))  # df["x"] = ..., model.coef_ = ..., del table[0]
        elif isinstance(node, ast.Attribute) and node.attr in {"__dict__", "modules", "f_globals", "f_locals"}:
            return CellNames(dynamic=True)  # sys.modules["__main__"], frame.f_globals: the names by another door
        elif isinstance(node, ast.Call):
            writes |= _call_name(node.func).split(".")[-1] in WRITING_CALLS
            changes.update(_changed_by_call(node, plain, statement=id(node) in effects))
    return CellNames(frozenset(loads), frozenset(binds), frozenset(imports), frozenset(changes & visible), writes,
                     dynamic=bool(loads & DYNAMIC_NAMES))


def _scoped_names(table: symtable.SymbolTable) -> tuple[set, set, set]:
    """The notebook-level names a cell reads and binds, and every notebook-level name it mentions.

    Python's own symbol table says which names inside a function or comprehension are its locals.
    """
    loads, binds, visible = set(), set(), set()

    def visit(scope: symtable.SymbolTable, top: bool) -> None:
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if top or symbol.is_global():
                visible.add(name)
                if symbol.is_referenced():
                    loads.add(name)
                if (top and (symbol.is_assigned() or symbol.is_imported())) or symbol.is_declared_global():
                    binds.add(name)
        for child in scope.get_children():
            visit(child, False)

    visit(table, True)
    return loads, binds, visible


def _root_names(node: ast.AST) -> set[str]:
    """The variable an attribute or item chain hangs from: ``df`` in ``df.loc[rows, "x"]``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def _call_name(func: ast.AST) -> str:
    """``"np.random.seed"`` for ``np.random.seed(...)``; the last part alone when the chain does not start at a name."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _changed_by_call(call: ast.Call, plain: frozenset, statement: bool) -> set[str]:
    """Names a call may change.  ``statement``: the call is a statement of its own, made for its effect.

    A function the notebook defined (a learner's answer) may change what it is given; a method may change
    its receiver and its arguments, except the methods that only read (``predict``, ``groupby``) or only
    fit their receiver; an imported function or a builtin changes nothing, unless it is called for its
    effect (``np.random.seed(0)``, ``random.shuffle(order)``).
    """
    name = _call_name(call.func)
    if name in SHOWING_CALLS:
        return set()
    arguments = {node.id for argument in [*call.args, *(keyword.value for keyword in call.keywords)]
                 for node in ast.walk(argument) if isinstance(node, ast.Name)} - plain
    if isinstance(call.func, ast.Name):
        return arguments if statement or call.func.id not in plain else set()
    receiver = _root_names(call.func)
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    in_place = any(keyword.arg == "inplace" for keyword in call.keywords)
    if method in READING_METHODS and not in_place:
        return set()
    if receiver and receiver <= plain:  # a module's function: np.mean(x), pd.concat(frames)
        return receiver | arguments if statement else set()
    if method in FITTING_METHODS and not in_place:
        return receiver
    return receiver | arguments


def _released_sources(released: nbformat.NotebookNode) -> set[str]:
    """The sources of the released notebook's ordinary code cells (not the learner's answer or check cells)."""
    return {cell.source for cell in released.cells
            if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("solution")
            and not cell.metadata.get("nbgrader", {}).get("grade")}


def cells_to_skip(notebook: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[int]:
    """Indices of the code cells in ``notebook`` (a hand-in, harness in place) no verdict can depend on.

    ``released``: the notebook as handed out, which says which cells the learner left as they were.

    Examples
    --------
    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> answer = {"nbgrader": {"solution": True, "grade": False}}
    >>> released = new_notebook(cells=[new_code_cell("import numpy as np"), new_code_cell("x = np.ones(3)"),
    ...                                new_code_cell("table = np.outer(x, x)"),
    ...                                new_code_cell("def f(): ...", metadata=answer)])
    >>> cells_to_skip(released, released)
    [1, 2]

    A learner's answer that reads ``x`` needs the cell that made it:

    >>> handed_in = new_notebook(cells=[*released.cells[:3],
    ...                                 new_code_cell("def f(): return x.sum()", metadata=answer)])
    >>> cells_to_skip(handed_in, released)
    [2]
    """
    as_released = _released_sources(released)
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    if not code:
        return []
    first_reading = [cell_names(notebook.cells[index].source) for index in code]
    imported = {name for n in first_reading for name, _ in n.imports}
    assigned = set().union(*(n.binds for n in first_reading)) - imported
    names = {index: cell_names(notebook.cells[index].source, imported - assigned, assigned) for index in code}
    affects, seen = {}, set()
    for index in code:
        # Importing again what an earlier cell imported under the same name changes nothing (import pandas as pd).
        again = {name for name, target in names[index].imports if (name, target) in seen}
        affects[index] = names[index].affects - again
        seen |= names[index].imports
    graded = {index for index in code if notebook.cells[index].metadata.get("nbgrader", {}).get("grade")}
    learners = {index for index in code if notebook.cells[index].source not in as_released} - graded
    if any(names[index].dynamic for index in learners):
        return []  # the learner's code may read any name: run the notebook as it is
    needed = learners | graded | {code[0]} | {index for index in code if names[index].writes or names[index].dynamic}
    # Back from the last cell: a needed cell needs every earlier cell that binds or may change a name it reads.
    for index in reversed(code):
        if index not in needed:
            continue
        wanted = names[index].loads
        needed.update(earlier for earlier in code if earlier < index and affects[earlier] & wanted)
    return [index for index in code if index not in needed]


def mark_skipped(notebook: nbformat.NotebookNode, released: nbformat.NotebookNode | None) -> list[int]:
    """Tag the cells :func:`cells_to_skip` finds with :data:`SKIP_TAG`, and no other cell; return their indices.

    ``released`` None: skip nothing (``course grade --every-cell``).
    """
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags")
        if tags and SKIP_TAG in tags:
            cell.metadata["tags"] = [tag for tag in tags if tag != SKIP_TAG]  # a learner's own tag counts for nothing
    skipped = [] if released is None else cells_to_skip(notebook, released)
    for index in skipped:
        cell = notebook.cells[index]
        cell.metadata["tags"] = [*cell.metadata.get("tags", []), SKIP_TAG]
    return skipped


__all__: Sequence[str] = ("SKIP_TAG", "CellNames", "cell_names", "cells_to_skip", "mark_skipped", "python_source")
