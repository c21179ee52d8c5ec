"""The learner edition holds what learners need and nothing that gives answers away.

``course export-learner`` writes it once for this module.  Fast tests read the files: no solutions, no
instructor guide, no hidden test line, no solution line, and no callable in its package that answers
a code question.  The slow test clones it as a learner would, runs its own ``make test`` (a real
install of its pins into the clone's ``.venv``) and opens notebook 00 in JupyterLab in Chromium.
"""

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from course_utils.exercises.questions import NOTEBOOKS, QUESTIONS
from course_utils.instructor import learner_edition, release

ROOT = Path(__file__).resolve().parents[1]
CODE_QUESTIONS = sorted(qid for qid, question in QUESTIONS.items() if question.answer_type == "code")


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    return learner_edition.export(tmp_path_factory.mktemp("export") / "health-ai-fairness-learner")


def text_files(folder):
    """Every file of the edition that is text (everything but .git)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(folder).parts:
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def instructor_only_lines():
    """Lines (20+ characters, no imports, whitespace folded) of the hidden cases and every solution region."""
    found = {}
    for hidden in sorted((ROOT / "solutions" / "hidden").glob("*.py")):
        for line in hidden.read_text(encoding="utf-8").splitlines():
            marker = line.strip()
            # A case's inputs, names and numbers are in lines with a literal; plain code ("frame = frame.copy()")
            # says nothing about an answer and recurs anywhere.
            if len(marker) >= 20 and not marker.startswith(("import ", "from ", "#", '"""')) and (
                    re.search(r"[\"']|\d\.\d|\d\d", marker)):
                found[" ".join(marker.split())] = f"hidden/{hidden.name}"
    for solution in release.solution_paths():
        for cell in nbformat.read(solution, as_version=4).cells:
            for begin, end in (("### BEGIN SOLUTION", "### END SOLUTION"),):
                inside = False
                for line in cell.source.splitlines():
                    marker = line.strip()
                    if marker == begin:
                        inside = True
                    elif marker == end:
                        inside = False
                    # Shorter lines ("if len(data) == 0:") and imports say nothing about an answer.
                    elif inside and len(marker) >= 20 and not marker.startswith(("import ", "from ")):
                        found[" ".join(marker.split())] = f"{solution.name}: {begin[4:].lower()}"
    return found


def test_the_edition_has_the_notebooks_package_data_and_learner_files(edition):
    assert sorted(path.name for path in (edition / "notebooks").iterdir()) == sorted(
        f"{stem}.ipynb" for stem in NOTEBOOKS.values())
    for name in ("README.md", "Makefile", "pyproject.toml", "environment.yml", "LICENSE", ".gitignore",
                 "data/heart_disease_uci.csv", "data/SHA256SUMS", "data/readmission_deployment_by_month.parquet",
                 "course_utils/exercises/__init__.py",
                 "course_utils/exercises/questions/cases/orient-share-function.yaml"):
        assert (edition / name).is_file(), name
    for absent in ("solutions", "tests", "benchmarks", "course_utils/instructor", "data/raw", "CHANGELOG.md",
                   ".ci"):
        assert not (edition / absent).exists(), absent
    assert not list(edition.rglob("INSTRUCTOR_GUIDE*")) and not list(edition.rglob("__pycache__"))


def test_the_edition_is_a_git_repository_ready_to_publish(edition):
    log = subprocess.run(["git", "log", "--oneline", "main"], cwd=edition, capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 1
    status = subprocess.run(["git", "status", "--porcelain"], cwd=edition, capture_output=True, text=True, check=True)
    assert status.stdout == ""


def test_the_learner_notebooks_are_the_release(edition):
    for stem in NOTEBOOKS.values():
        assert (edition / "notebooks" / f"{stem}.ipynb").read_bytes() == (ROOT / "notebooks" / f"{stem}.ipynb").read_bytes()


def test_the_edition_installs_no_instructor_tools(edition):
    pyproject = (edition / "pyproject.toml").read_text(encoding="utf-8")
    assert "nbgrader" not in pyproject and "course_utils.instructor" not in pyproject
    import tomllib

    project = tomllib.loads(pyproject)
    assert "course_utils.instructor" not in project["tool"]["setuptools"]["packages"]
    assert set(project["project"]["optional-dependencies"]) == {"test"}
    environment = (edition / "environment.yml").read_text(encoding="utf-8")
    assert "nbgrader" not in environment and "playwright" not in environment
    assert "pip install --quiet -e .\n" in (edition / "Makefile").read_text(encoding="utf-8")


def test_no_hidden_test_or_solution_line_is_in_any_file(edition):
    secret = instructor_only_lines()
    assert len(secret) > 100
    for path, text in text_files(edition):
        lines = {" ".join(line.split()) for line in text.splitlines()}
        if path.suffix == ".ipynb":  # the notebook's cells, not its JSON escaping
            lines = {" ".join(line.split()) for cell in nbformat.reads(text, as_version=4).cells
                     for line in cell.source.splitlines()}
        leaked = sorted(lines & set(secret))
        assert not leaked, f"{path.relative_to(edition)} holds {[(line, secret[line]) for line in leaked[:5]]}"


def solution_functions():
    """Source of every function a solution region defines (the reference implementations of code answers)."""
    sources = []
    for solution in release.solution_paths():
        for cell in nbformat.read(solution, as_version=4).cells:
            if "### BEGIN SOLUTION" in cell.source and cell.cell_type == "code":
                code = "\n".join(line for line in cell.source.splitlines() if "### " not in line)
                try:
                    tree = ast.parse(code)
                except SyntaxError:
                    continue
                sources += [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    return sources


def test_no_reference_function_is_in_the_package(edition):
    # The same function under any name and with any comments: compared as code (AST), not as text.
    references = {ast.dump(ast.parse(source).body[0].body[-1]): source for source in solution_functions()}
    assert references, "the solutions define no function: are there code exercises?"
    for path in (edition / "course_utils").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and len(node.body) > 0:
                body = [statement for statement in node.body if not (
                    isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))]  # docstrings
                same = [references[ast.dump(s)] for s in body if ast.dump(s) in references
                        and len(ast.unparse(s)) > 30]
                assert not same, f"{path.relative_to(edition)}: {node.name} holds a reference solution's code"


SCAN = textwrap.dedent("""
    import importlib, inspect, json, pkgutil, sys
    import matplotlib
    matplotlib.use("agg")
    import course_utils
    from course_utils.exercises.questions import QUESTIONS

    # Commands that act on files or processes, not computations: never candidates for an answer.
    SKIP = {"course_utils.cli", "course_utils.handin", "course_utils.selfcheck"}
    candidates, classes = {}, {}
    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        if info.name in SKIP:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if not str(getattr(value, "__module__", "")).startswith("course_utils"):
                continue
            if inspect.isclass(value):
                classes[f"{value.__module__}.{value.__qualname__}"] = value
            elif callable(value):
                candidates[f"{info.name}.{name}"] = value
    functions = len(candidates)

    # Every public method of every class the edition defines: unbound (the inputs fill self and the arguments),
    # and bound to an instance where the class can be built without arguments.
    for label, cls in classes.items():
        try:
            instance = cls()
        except Exception:
            instance = None
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not callable(member) or inspect.isclass(member):
                continue
            if not str(getattr(member, "__module__", "")).startswith("course_utils"):
                continue  # inherited from Python or a library
            candidates[f"{label}.{name}"] = member
            if instance is not None:
                candidates[f"{label}().{name}"] = getattr(instance, name)

    def positional(function):
        return lambda **inputs: function(*inputs.values())

    answers = {}
    for qid in json.loads(sys.argv[1]):
        question = QUESTIONS[qid]
        for label, function in candidates.items():
            for call in (function, positional(function)):
                try:
                    if question.evaluate(call).passed:
                        answers.setdefault(qid, []).append(label)
                except BaseException:
                    pass
    print(json.dumps({"scanned": len(candidates), "functions": functions, "methods": len(candidates) - functions,
                      "answers": answers}))
""")


@pytest.mark.slow  # calls every function and method of the package on every public case: ~20 s
def test_nothing_a_learner_can_import_answers_a_code_question(edition, tmp_path):
    # Every function of the edition's package, and every public method of its classes, called as the check calls
    # the learner's answer (by keyword and by position), on every code question's public cases: none may pass them
    # all.  tests/test_no_importable_answers.py tries the known routes that need a few lines of wrapping.
    environment = {"PYTHONPATH": str(edition), "PATH": os.environ["PATH"], "HOME": str(tmp_path), "MPLBACKEND": "agg"}
    done = subprocess.run([sys.executable, "-c", SCAN, json.dumps(CODE_QUESTIONS)], capture_output=True, text=True,
                          cwd=tmp_path, env=environment, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["scanned"] > 150 and result["methods"] >= 20, result  # e.g. the What-If explorer's 12 methods
    assert result["answers"] == {}, f"importable answers to code questions: {result['answers']}"


def test_export_refuses_a_folder_with_content_and_a_stale_release(tmp_path, monkeypatch):
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty; give --force"):
        learner_edition.export(tmp_path / "occupied", git=False)
    assert (tmp_path / "occupied" / "notes.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="outside the course repository"):
        learner_edition.export(ROOT / "learner-edition", git=False)
    monkeypatch.setattr(release, "stale_notebooks", lambda: ["00_orientation.ipynb: differs"])
    with pytest.raises(ValueError, match="run `make release`"):
        learner_edition.export(tmp_path / "new", git=False)


# --------------------------------------------------------------------------------------------------
# A learner's fresh clone: `make test`, then notebook 00 in JupyterLab


@pytest.fixture(scope="module")
def learner_clone(edition, tmp_path_factory):
    """A git clone of the edition with its own `make test` run (which installs its .venv)."""
    clone = tmp_path_factory.mktemp("learner") / "course"
    subprocess.run(["git", "clone", "--quiet", str(edition), str(clone)], check=True)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "COURSE_DATA_DIR")
                   and not key.startswith(("JUPYTER", "JPY_", "PYTEST"))}
    environment["PATH"] = os.pathsep.join(part for part in environment["PATH"].split(os.pathsep)
                                          if not part.startswith(str(ROOT)))  # not the course's own .venv
    done = subprocess.run(["make", "--no-print-directory", "test"], cwd=clone, env=environment, capture_output=True,
                          text=True, timeout=1800)
    return clone, done


@pytest.mark.slow
def test_a_fresh_clone_passes_its_own_make_test(learner_clone):
    clone, done = learner_clone
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "heart data: checksum OK" in done.stdout
    for number, stem in NOTEBOOKS.items():
        assert f"Notebook {number} ({stem}): 0 of " in done.stdout
    assert re.search(r"⏳ orient-share-function: not answered yet", done.stdout)
    assert "❗" not in done.stdout, "a notebook cell raised an error in the learner's own run"
    # what the clone installed: the course from the clone itself, and no nbgrader
    python = clone / ".venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import course_utils; print(course_utils.__file__)"],
                           capture_output=True, text=True, check=True, cwd=clone.parent)
    assert Path(where.stdout.strip()).is_relative_to(clone)
    assert subprocess.run([str(python), "-c", "import nbgrader"], capture_output=True, cwd=clone).returncode != 0
    extensions = subprocess.run([str(clone / ".venv" / "bin" / "jupyter"), "labextension", "list"],
                                capture_output=True, text=True, cwd=clone)
    assert "nbgrader" not in extensions.stdout + extensions.stderr


@pytest.mark.slow
def test_a_fresh_clone_opens_notebook_00_in_jupyterlab(learner_clone, tmp_path):
    from lab_browser import chromium, close_page, evidence, open_page, page_cells, run_all, running_lab

    clone, done = learner_clone
    assert done.returncode == 0, "the clone's make test failed; see the test above"
    with running_lab(clone, tmp_path, clone) as lab, chromium() as browser:
        context, notebook = open_page(browser, lab, clone / "notebooks" / "00_orientation.ipynb", "learner")
        try:
            with evidence(notebook, "learner_edition_00"):
                menus = notebook.page.locator("#jp-MainMenu").inner_text()
                assert "Nbgrader" not in menus and "File" in menus
                run_all(notebook.page)
                shown = " ".join(output["text"] for cell in page_cells(notebook.page) for output in cell["outputs"])
                assert "⏳ orient-share-function: not answered yet" in shown and "Traceback" not in shown
        finally:
            close_page(context, notebook)
        assert not notebook.external_requests
