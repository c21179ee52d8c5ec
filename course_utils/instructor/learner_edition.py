"""The learner edition: the repository an instructor hands out, with no solutions and no hidden tests.

``course export-learner DIR`` (``make learner-edition``) writes a self-contained course for learners:

* ``notebooks/`` -- the learner release (solutions stubbed, hidden tests removed, no outputs);
* ``course_utils/`` -- the learner API and the exercise engine, without ``course_utils.instructor``;
* ``data/`` -- the shipped data and tables, checksums and datasheets (not the raw source or the build scripts);
* ``pyproject.toml`` and ``environment.yml`` -- the same pins, without the instructor and developer extras;
* ``README.md``, ``Makefile`` and ``.gitignore`` for learners (``make lab``, ``make test``, ``make submit``).

It holds no ``solutions/``, no instructor guide, no hidden test, no reference implementation of a code
answer, and nbgrader is not installed there (so JupyterLab shows learners none of nbgrader's
instructor menus).  The folder is made a git repository on branch ``main``, ready to push for
nbgitpuller or Binder, or to zip.

:func:`write_package` writes the same package alone for the grader: every hand-in's kernel imports
it, so hidden tests run against exactly what learners have.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from course_utils.data import COURSE_TABLES
from course_utils.instructor import release

PACKAGE_ROOT = Path(str(resources.files("course_utils")))
DATA_DIR = Path(str(resources.files("course_utils.datasets")))
TEMPLATES = Path(str(resources.files("course_utils.instructor") / "learner_templates"))

# What never goes to learners: the instructor tools, build leftovers, the raw data and its build script.
_IGNORED = shutil.ignore_patterns("instructor", "__pycache__", "*.pyc", ".ipynb_checkpoints")
# The shipped tables (data.COURSE_TABLES, one Parquet file each) go as data: what the course computed, not the code.
_COURSE_TABLE_FILES = tuple(f"{name}.parquet" for name in COURSE_TABLES)
_DATA_FILES = ("__init__.py", "heart_disease_uci.csv", "heart_baseline_predictions.csv", "heart_model_inputs.csv",
               "heart_debiasing_predictions.csv", "chest_films_sweep.csv", *_COURSE_TABLE_FILES, "SHA256SUMS",
               "DATASHEET_heart_disease.md", "DATASHEET_readmission_cohort.md", "DATASHEET_chest_films.md")


def write_package(target: str | os.PathLike) -> Path:
    """Write the learner edition's ``course_utils`` (data included as ``course_utils/datasets``) into ``target``.

    Returns ``target``, a folder to put on ``PYTHONPATH``: ``import course_utils`` there finds the
    learner API and the exercise engine, and no instructor tools.
    """
    target = Path(target)
    package = target / "course_utils"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(PACKAGE_ROOT, package, ignore=_IGNORED)
    _copy_data(package / "datasets")
    return target


def _copy_data(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in _DATA_FILES:
        shutil.copy2(DATA_DIR / name, target / name)


def export(directory: str | os.PathLike, force: bool = False, git: bool = True) -> Path:
    """Write the learner edition into ``directory``; return its path.

    Parameters
    ----------
    directory : path
        Where to write it.  Must not exist or be empty, unless ``force``.
    force : bool
        Replace an existing folder's content.  A folder that is a git repository keeps its history:
        the new content becomes one more commit on top (none if nothing changed), ready to push to
        where learners pull from.
    git : bool
        Make the folder a git repository with one commit on ``main``.

    Raises
    ------
    ValueError
        If the folder is not empty (without ``force``), or ``notebooks/`` is out of date with
        ``solutions/`` (run ``make release`` first).
    """
    target = Path(directory).resolve()
    if target == release.COURSE_ROOT or release.COURSE_ROOT in target.parents:
        raise ValueError("Write the learner edition outside the course repository, e.g. ../course-learner.")
    if target.exists() and any(target.iterdir()):
        if not force:
            raise ValueError(f"{target} is not empty; give --force to replace its content.")
        _clear(target)
    stale = release.stale_notebooks()
    if stale:
        raise ValueError("notebooks/ is out of date with solutions/ (" + "; ".join(stale) + "); run `make release`.")
    target.mkdir(parents=True, exist_ok=True)
    (target / "notebooks").mkdir()
    for solution in release.solution_paths():
        shutil.copy2(release.NOTEBOOKS_DIR / solution.name, target / "notebooks" / solution.name)
    shutil.copytree(PACKAGE_ROOT, target / "course_utils", ignore=_IGNORED)
    _copy_data(target / "data")
    root = release.COURSE_ROOT
    (target / "pyproject.toml").write_text(learner_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")),
                                          encoding="utf-8")
    (target / "environment.yml").write_text(
        learner_environment((root / "environment.yml").read_text(encoding="utf-8")), encoding="utf-8")
    shutil.copy2(root / "LICENSE", target / "LICENSE")
    for template in TEMPLATES.iterdir():
        shutil.copy2(template, target / template.name.replace("dot-", "."))
    if git:
        _commit(target)
    return target


def learner_pyproject(text: str) -> str:
    """The instructor's ``pyproject.toml`` without the instructor package and the instructor/dev extras.

    Examples
    --------
    >>> text = 'packages = [\\n    "course_utils",\\n    "course_utils.instructor",\\n]\\ninstructor = [\\n    "nbgrader==0.9.6",\\n]\\n'
    >>> print(learner_pyproject(text))
    packages = [
        "course_utils",
    ]
    <BLANKLINE>
    """
    text = re.sub(r'^\s*"course_utils\.instructor",?.*\n', "", text, flags=re.M)
    text = re.sub(r'^"course_utils\.instructor" = .*\n', "", text, flags=re.M)
    return re.sub(r"^(instructor|dev) = \[\n(?:.*\n)*?\]\n", "", text, flags=re.M)


def learner_environment(text: str) -> str:
    """The instructor's ``environment.yml`` without the instructor and development extras."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        marker = line.strip()
        if marker.startswith("# ") and marker.endswith("extra"):
            skipping = marker in ("# instructor extra", "# development extra")
            if skipping:
                continue
        elif marker.startswith("#") or marker.startswith("- -e"):
            skipping = False
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _clear(target: Path) -> None:
    """Remove everything in ``target`` but its ``.git``, so a published edition keeps its history."""
    for child in target.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _commit(target: Path) -> None:
    def git(*args: str, check: bool = True) -> int:
        return subprocess.run(["git", *args], cwd=target, check=check, capture_output=True, text=True).returncode

    if not (target / ".git").exists():
        git("init", "--quiet", "--initial-branch=main")
    git("add", "--all")
    has_history = git("rev-parse", "--verify", "--quiet", "HEAD", check=False) == 0
    if has_history and git("diff", "--cached", "--quiet", check=False) == 0:
        return  # the same edition again: no empty commit for learners to pull
    identity = ["-c", "user.name=Course instructor", "-c", "user.email=instructor@course.invalid"]
    configured = subprocess.run(["git", "config", "user.email"], cwd=target, capture_output=True, text=True)
    git(*([] if configured.stdout.strip() else identity), "commit", "--quiet", "-m",
        "Learner edition of the health-AI fairness course")


def describe(target: Path) -> str:
    """A few lines for the terminal: what was written and how to publish it."""
    notebooks = sorted(path.name for path in (target / "notebooks").glob("*.ipynb"))
    return (f"wrote the learner edition to {target} ({len(notebooks)} notebooks, no solutions, no hidden tests).\n"
            "Publish it as its own repository (push it, then give learners an nbgitpuller or Binder link), "
            "or zip it. Learners run `make lab` and `make test` in it.")
