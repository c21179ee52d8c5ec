"""A corpus of hostile hand-ins: code that tries to earn points without the skill, one hand-in per class of attack.

Each attack is a cell put at the top of the notebook (after its imports).  :func:`hand_in` builds it on the
unanswered learner release ("nothing answered": it must score 0) or on the release with some questions answered
honestly ("mixed": it must score exactly those questions' points, no more and no less).

The classes (every one earned full marks on the grader that judged inside the learner's kernel):

* error-display hooks -- ``showtraceback`` replaced, ``sys.excepthook`` replaced;
* exception hooks -- IPython's ``set_custom_exc``;
* input transformers -- check cells rewritten to ``pass``; every graded cell rewritten into a forger;
* a patched ``run_cell`` -- errors swallowed, graded cells replaced by a forger;
* patched comparisons -- NumPy, pandas, ``math`` and builtins made to say "equal"; objects equal to everything;
* ``sys.exit`` and ``os._exit`` mid-notebook;
* exfiltration through exceptions, stdout and files;
* a thread that rewrites the answer files while grading runs.

A *forger* writes answer files the way the harness does, with what a learner could read off the page: the public
cases' stored results, constants.  It cannot write a hidden case's reference: that never enters the sandbox.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from course_utils.instructor.release import worked_release

ROOT = Path(__file__).resolve().parents[1]

#: Writes answer files for the questions in QIDS from what is public: every code case's output is a public case's
#: stored result, every value is 0.  Used by the forging attacks below; needs `answers` (the folder) and `QIDS`.
FORGE = '''
def _forge(answers, qids):
    import json as _json
    from pathlib import Path as _Path
    from course_utils.exercises._transfer import encode as _encode
    from course_utils.exercises.questions import QUESTIONS as _QUESTIONS
    for _qid in qids:
        _question = _QUESTIONS[_qid]
        if _question.answer_type == "value":
            _record = {"question": _qid, "value": 0}
        else:
            _public = [_encode(case.expected) for case in _question.cases()]
            _record = {"question": _qid, "cases": {f"{kind}{n}": {"output": _public[(n - 1) % len(_public)]}
                                                   for kind in "ph" for n in range(1, 40)}}
        try:
            (_Path(answers) / f"{_qid}.json").write_text(_json.dumps(_record))
        except OSError:
            pass


def _answers_dir(source):
    import re as _re
    found = _re.findall(r"'([^']*/answers)'\\)", source)
    return found[0] if found else None
'''

ATTACKS = {
    "showtraceback": "get_ipython().showtraceback = lambda *a, **k: None",
    "excepthook": "import sys\nsys.excepthook = lambda *a, **k: None\nget_ipython().showsyntaxerror = lambda *a, **k: None",
    "custom exception handler": (
        "get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)"),
    "input transformer: check cells to pass": (
        "get_ipython().input_transformers_cleanup.append(\n"
        "    lambda lines: ['pass\\n'] if lines and lines[0].lstrip().startswith('check(') else lines)"),
    "input transformer: graded cells to a forger": FORGE + (
        "QIDS = %FORGED%\n"
        "def _rewrite(lines):\n"
        "    answers = _answers_dir(''.join(lines))\n"
        "    mine = [qid for qid in QIDS if repr(qid) in ''.join(lines)]\n"
        "    return [f'_forge({answers!r}, {mine!r})\\n'] if answers and mine else lines\n"
        "get_ipython().input_transformers_cleanup.append(_rewrite)"),
    "patched run_cell": FORGE + (
        "QIDS = %FORGED%\n"
        "_ip = get_ipython()\n"
        "_original = _ip.run_cell\n"
        "def _run_cell(raw_cell, *args, **kwargs):\n"
        "    answers = _answers_dir(raw_cell)\n"
        "    mine = [qid for qid in QIDS if repr(qid) in raw_cell]\n"
        "    if answers and mine:\n"
        "        _forge(answers, mine)\n"
        "        raw_cell = 'pass'\n"
        "    result = _original(raw_cell, *args, **kwargs)\n"
        "    result.error_in_exec = None\n"
        "    return result\n"
        "_ip.run_cell = _run_cell"),
    "patched comparisons": (
        "import builtins, math\nimport numpy, pandas\n"
        "numpy.isclose = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n"
        "numpy.array_equal = lambda *a, **k: True\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
        "pandas.DataFrame.equals = lambda *a, **k: True\npandas.Series.equals = lambda *a, **k: True\n"
        "pandas.testing.assert_frame_equal = lambda *a, **k: None\n"
        "math.isclose = lambda *a, **k: True\n"
        "builtins.abs = lambda x: 0\nbuiltins.round = lambda x, *a: 0"),
    "objects equal to everything": (
        "class AlwaysEqual(float):\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    def __lt__(self, other): return True\n"
        "    __le__ = __gt__ = __ge__ = __lt__\n"
        "    def __hash__(self): return 0\n"
        "class AlwaysEqualText(str):\n"
        "    def __eq__(self, other): return True\n"
        "    def __hash__(self): return 0\n"
        "class Anything:\n"
        "    def __eq__(self, other): return True\n"
        "    def __getattr__(self, name): return self\n"
        "    def __call__(self, *a, **k): return self\n"
        "    def __float__(self): return float('nan')\n"
        "%ASSIGNMENTS%"),
    "sys.exit mid-notebook": "import sys\nsys.exit(0)",
    "os._exit mid-notebook": None,  # put after the last graded cell: see hand_in()
    "exfiltration through exceptions": (
        "import inspect\n"
        "def _loud(*args, **kwargs):\n"
        "    stack = ' '.join(repr(frame.frame.f_locals) for frame in inspect.stack())\n"
        "    raise AssertionError('LEAKED ' + stack)\n"
        "%LEAKS%"),
    "exfiltration through stdout": (
        "from pathlib import Path\n"
        "for place in [Path.cwd(), *Path.cwd().parents, Path('/tmp')]:\n"
        "    try:\n"
        "        for path in list(place.rglob('*'))[:2000]:\n"
        "            if path.is_file() and path.stat().st_size < 200_000:\n"
        "                print(path, path.read_text(errors='ignore')[:5000])\n"
        "    except OSError:\n"
        "        pass"),
    "exfiltration through files": (
        "import shutil\nfrom pathlib import Path\n"
        "for place in ['/tmp', str(Path.home()), str(Path.cwd())]:\n"
        "    for target in [Path(place) / 'copy', *[p / 'leak.json' for p in Path.cwd().parents]]:\n"
        "        try:\n"
        "            target.parent.mkdir(parents=True, exist_ok=True)\n"
        "            target.write_text('{\"question\": \"orient-n-patients\", \"value\": 920}')\n"
        "        except OSError:\n"
        "            pass"),
    "a thread rewriting answer files": FORGE + (
        "import threading, time\n"
        "QIDS = %FORGED%\n"
        "def _keep_forging():\n"
        "    while True:\n"
        "        for source in list(get_ipython().user_ns.get('In', [])):\n"
        "            answers = _answers_dir(source)\n"
        "            if answers:\n"
        "                _forge(answers, QIDS)\n"
        "        time.sleep(0.005)\n"
        "threading.Thread(target=_keep_forging, daemon=True).start()"),
}


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def graded_questions(notebook: str) -> dict:
    """Auto-graded question id -> points, in notebook order."""
    from course_utils.exercises.questions import QUESTIONS

    return {qid: q.points for qid, q in QUESTIONS.items() if q.notebook == notebook}


def hand_in(notebook: str, attack: str, honest: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """The learner release of ``notebook`` with ``attack`` at its top and the ``honest`` questions answered.

    Answers come from the solution (an honest learner's work); every other answer cell stays as released.
    """
    from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS

    solution = nbformat.read(ROOT / "solutions" / f"{NOTEBOOKS[notebook]}.ipynb", as_version=4)
    worked = {_grade_id(cell): cell.source for cell in worked_release(solution).cells if _grade_id(cell)}
    notebook_node = nbformat.read(ROOT / "notebooks" / f"{NOTEBOOKS[notebook]}.ipynb", as_version=4)
    for cell in notebook_node.cells:
        if _grade_id(cell).removesuffix("-answer") in honest and _grade_id(cell).endswith("-answer"):
            cell.source = worked[_grade_id(cell)]
    forged = tuple(qid for qid in graded_questions(notebook) if qid not in honest)
    own = [qid for qid in graded_questions(notebook)]
    if attack == "os._exit mid-notebook":
        last = max(i for i, cell in enumerate(notebook_node.cells) if _grade_id(cell) in own)
        notebook_node.cells.insert(last + 1, nbformat.v4.new_code_cell("import os\nos._exit(3)"))
        return notebook_node
    source = ATTACKS[attack]
    if attack == "objects equal to everything":
        lines = []
        for qid in forged:
            question = QUESTIONS[qid]
            if question.answer_type == "code":
                lines.append(f"{question.name} = lambda *a, **k: AlwaysEqual(0.5)")
            elif question.kind in ("choice", "text"):
                lines.append(f"{_variable(notebook_node, qid)} = AlwaysEqualText('anything')")
            else:
                lines.append(f"{_variable(notebook_node, qid)} = AlwaysEqual(0)")
        source = source.replace("%ASSIGNMENTS%", "\n".join(lines))
    elif attack == "exfiltration through exceptions":
        source = source.replace("%LEAKS%", "\n".join(
            f"{QUESTIONS[qid].name} = _loud" for qid in forged if QUESTIONS[qid].answer_type == "code"))
    source = source.replace("%FORGED%", repr(list(forged)))
    first_code = next(i for i, cell in enumerate(notebook_node.cells) if cell.cell_type == "code")
    notebook_node.cells.insert(first_code + 1, nbformat.v4.new_code_cell(source))
    # The answers an attack sets must not be undone by the released answer cells below it ("x = None", stubs).
    if attack in ("objects equal to everything", "exfiltration through exceptions"):
        for cell in notebook_node.cells:
            if _grade_id(cell).endswith("-answer") and _grade_id(cell).removesuffix("-answer") in forged:
                cell.source = "pass"
    return notebook_node


def _variable(notebook_node, question_id: str) -> str:
    """The variable a value question's check cell reads (``check("id", n_patients)`` -> ``n_patients``)."""
    from course_utils.instructor.judge import answer_expression

    cell = next(cell for cell in notebook_node.cells if _grade_id(cell) == question_id)
    return answer_expression(cell.source, question_id)
