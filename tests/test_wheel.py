"""The package installs as a wheel: data, schemas, templates and public cases come with it.

The wheel is built from this repository with the pinned setuptools (no build isolation, so nothing
is downloaded) and installed -- not editable -- into a fresh virtual environment.  That environment
borrows the already-installed dependencies through a ``.pth`` line (so the test needs no network and
no second 2 GB install), but not the course itself: the repository's editable install is invisible
there, which the first assertion checks.  Then ``course verify``, ``load_heart()`` and a ``check()``
run from a folder outside the repository.
"""

import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                           "--wheel-dir", str(out), str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("course_utils-*.whl")
    return path


@pytest.fixture(scope="module")
def fresh_python(wheel, tmp_path_factory):
    """A new virtual environment with the wheel installed (not editable); returns its python."""
    target = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies: the course environment's site-packages as a plain path entry.  Its .pth files are
    # not run from there, so the repository's editable course_utils does not come along.
    (Path(purelib) / "course-dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    # --ignore-installed: install into the new environment even though pip sees the editable one.
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                           "--no-index", "--ignore-installed", str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def run_outside(python, code, tmp_path):
    environment = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "agg"}
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=environment)


def test_the_wheel_holds_the_data_schema_templates_and_public_cases(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("course_utils/datasets/heart_disease_uci.csv", "course_utils/datasets/SHA256SUMS",
                   "course_utils/datasets/DATASHEET_heart_disease.md",
                   "course_utils/templates/impact_assessment.schema.json",
                   "course_utils/templates/impact_assessment_template.yaml",
                   "course_utils/exercises/questions/cases/orient-share-function.yaml",
                   "course_utils/instructor/learner_templates/README.md"):
        assert needed in names, needed
    assert not [name for name in names if "/raw/" in name or name.endswith(".ipynb")]


def test_the_installed_course_is_the_wheel_not_the_repository(fresh_python, tmp_path):
    done = run_outside(fresh_python, "import course_utils, sys; print(course_utils.__file__)", tmp_path)
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip())
    assert location.is_relative_to(fresh_python.parents[1]) and not location.is_relative_to(ROOT)


def test_course_verify_runs_from_the_wheel(fresh_python, tmp_path):
    done = subprocess.run([str(fresh_python.parent / "course"), "verify"], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": f"{fresh_python.parent}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "heart data: checksum OK" in done.stdout


def test_data_governance_and_checks_work_from_the_wheel(fresh_python, tmp_path):
    code = """
from course_utils.data import load_heart
from course_utils.exercises import evaluate
from course_utils.governance import validate_assessment, template_path
from course_utils.monitoring import load_rules
heart = load_heart()
print(len(heart), heart["sex"].value_counts()["Female"])
print(evaluate("orient-n-patients", len(heart)).status)
share_of = lambda data, column, value: float((data[column] == value).mean()) if len(data) else float("nan")
print(evaluate("orient-share-function", share_of).status)
rule = {"name": "r", "metric": "fnr", "group": "Black", "threshold": 0.1, "notify": "owner", "action": "review"}
print(len(validate_assessment(template_path())), len(load_rules([rule])))
"""
    done = run_outside(fresh_python, code, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[:3] == ["920 194", "correct", "correct"]
    problems, rules = map(int, lines[3].split())
    assert problems > 10 and rules > 0  # the blank template has a problem per field to fill
