"""The two ways to install the course (pip via pyproject.toml, conda via environment.yml) agree."""

import re
import tomllib
from pathlib import Path

import yaml

from course_utils.environment import pinned_versions

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)\s*(?:;\s*([^#]+?))?\s*(?:#.*)?$")


def _parse(requirement):
    match = PIN.match(requirement)
    assert match, f"not an exact pin: {requirement!r} (every dependency must be pinned with ==)"
    name, version, marker = match.groups()
    return name.lower(), version, (marker or "").replace('"', "'").strip()


def pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_parse(r) for r in requirements}


def environment_pins():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    return {_parse(r) for r in pip_section if not r.startswith("-e")}


def test_environment_yml_and_pyproject_pin_the_same_versions():
    only_pyproject = pyproject_pins() - environment_pins()
    only_environment = environment_pins() - pyproject_pins()
    assert not only_pyproject and not only_environment, (
        f"pins differ.\n  only in pyproject.toml: {sorted(only_pyproject)}\n"
        f"  only in environment.yml: {sorted(only_environment)}"
    )


def test_conda_python_matches_requires_python():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert minimum == ">=" + python.split("=")[1]


def test_every_pin_has_a_comment_saying_why():
    for path in ("pyproject.toml", "environment.yml"):
        for line in (ROOT / path).read_text().splitlines():
            if "==" in line and not line.strip().startswith("#"):
                assert "#" in line.split("==", 1)[1], f"{path}: pin without a comment: {line.strip()}"


def test_installed_versions_are_the_pinned_ones():
    from importlib import metadata

    wrong = {name: (version, metadata.version(name)) for name, version in pinned_versions().items()
             if metadata.version(name) != version}
    assert not wrong, f"installed versions differ from the pins (pinned, installed): {wrong}"


def test_tensorflow_is_pinned_for_every_platform_by_marker():
    pins = {name: marker for name, _, marker in pyproject_pins()}
    assert pins["tensorflow-cpu"] == "sys_platform != 'darwin'"
    assert pins["tensorflow"] == "sys_platform == 'darwin'"
