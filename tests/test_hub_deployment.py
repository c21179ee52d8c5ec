"""What a real class on JupyterHub is built from agrees with what the course tests.

* ``deploy/singleuser/requirements.txt`` (the learners' environment of ``make hub`` and the single-user
  image) pins exactly the learner edition's pins plus the hub's own two packages, as ``pyproject.toml``;
* ``deploy/zero-to-jupyterhub/config.yaml`` parses, asks for the memory ``benchmarks/hub_memory.py``
  measured, and opens the course with the link ``make hub`` builds;
* ``course hub``'s pieces refuse what would fail later, in the instructor's words, and JupyterHub's
  configuration file sets what the end-to-end test relies on (``tests/test_hub.py`` runs it for real).
"""

import json
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from traitlets.config import Config

from course_utils.instructor import hub
from test_packaging import _parse

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "deploy" / "singleuser" / "requirements.txt"
Z2JH = ROOT / "deploy" / "zero-to-jupyterhub" / "config.yaml"
MEASURED = json.loads((ROOT / "benchmarks" / "hub_results.json").read_text())
HUB_PACKAGES = {"jupyterhub", "nbgitpuller"}


def requirement_lines(path):
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()
            if line.split("#", 1)[0].strip()]


def test_the_single_user_environment_pins_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = {_parse(requirement) for requirement in project["dependencies"]}
    expected |= {_parse(requirement) for requirement in project["optional-dependencies"]["instructor"]
                 if _parse(requirement)[0] in HUB_PACKAGES}
    pinned = {_parse(requirement) for requirement in requirement_lines(REQUIREMENTS)}
    assert pinned == expected, (f"deploy/singleuser/requirements.txt differs from pyproject.toml.\n"
                                f"  only in requirements.txt: {sorted(pinned - expected)}\n"
                                f"  only in pyproject.toml:   {sorted(expected - pinned)}")
    assert not {name for name, _, _ in pinned} & {"nbgrader", "playwright", "pytest"}, "no instructor or test tools"


def test_the_image_builds_on_the_tested_python_from_the_same_requirements():
    dockerfile = (ROOT / "deploy" / "singleuser" / "Dockerfile").read_text()
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"FROM python:{minimum.removeprefix('>=')}-slim" in dockerfile
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in dockerfile
    assert "pip install --no-cache-dir --no-deps /tmp/health-ai-fairness-learner" in dockerfile


def test_the_zero_to_jupyterhub_fragment_asks_for_the_measured_memory():
    singleuser = yaml.safe_load(Z2JH.read_text())["singleuser"]
    # The guarantee covers one learner's server with the heaviest notebook's kernel; the limit, every kernel left running.
    heaviest = max(row["server_plus_kernel_mb"] for row in MEASURED["notebooks"].values())
    assert singleuser["memory"]["guarantee"] == hub.memory_quantity(heaviest)
    limit = singleuser["memory"]["limit"]
    assert limit.endswith("G") and float(limit[:-1]) * 1000 >= MEASURED["all_kernels_open_mb"], (
        f"the limit {limit} is below what one learner with every kernel running used: {MEASURED['all_kernels_open_mb']} MB")
    assert sorted(MEASURED["notebooks"]) == sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))


def test_the_zero_to_jupyterhub_fragment_opens_the_course_with_the_link_make_hub_builds():
    default_url = yaml.safe_load(Z2JH.read_text())["singleuser"]["defaultUrl"]
    query = parse_qs(urlsplit(default_url).query)
    assert urlsplit(default_url).path == "/git-pull" and set(query) == {"repo", "branch", "urlpath"}
    repo = query["repo"][0]
    assert repo.rstrip("/").split("/")[-1] == hub.EDITION_NAME
    # The link handed out is the hub's user-redirect to this same path and query.
    assert hub.nbgitpuller_link("https://hub.example.org", repo) == (
        "https://hub.example.org/hub/user-redirect" + default_url)
    notebook = query["urlpath"][0].removeprefix(f"lab/tree/{hub.EDITION_NAME}/")
    assert (ROOT / notebook).is_file(), notebook


def test_jupyterhubs_configuration_gives_each_learner_a_home_and_the_learners_environment(tmp_path):
    settings = {"state": str(tmp_path), "ip": "127.0.0.1", "port": 8123, "password": "a-workshop-password",
                "learner_env": "/opt/learners", "proxy": "/opt/chp", "path": "/usr/bin:/bin",
                "hub_port": 8124, "proxy_api_port": 8125, "as_root": True}
    (tmp_path / "hub-settings.json").write_text(json.dumps(settings))
    config_file = tmp_path / "jupyterhub_config.py"
    config_file.write_text(hub.CONFIG_TEMPLATE.read_text())
    c = Config()
    exec(compile(config_file.read_text(), str(config_file), "exec"), {"get_config": lambda: c, "__file__": str(config_file)})
    assert c.JupyterHub.bind_url == "http://127.0.0.1:8123"
    assert (c.JupyterHub.authenticator_class, c.SharedPasswordAuthenticator.user_password) == (
        "shared-password", "a-workshop-password")
    assert c.JupyterHub.spawner_class == "simple"
    assert c.SimpleLocalProcessSpawner.home_dir_template == f"{tmp_path}/homes/{{username}}"
    assert c.Spawner.cmd == ["/opt/learners/bin/jupyterhub-singleuser"]
    assert c.Spawner.environment["PATH"].startswith("/opt/learners/bin:")
    assert c.Spawner.environment["COURSE_HUB_STATE"] == str(tmp_path)
    assert "--allow-root" in c.Spawner.args and c.JupyterHub.cleanup_servers is True
    assert c.ConfigurableHTTPProxy.command == ["/opt/chp"]


def test_course_hub_refuses_a_short_password_and_a_missing_environment(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="at least 8 characters; it has 5"):
        hub.configure(tmp_path / "class", tmp_path / "env", password="short")
    monkeypatch.setattr(hub, "PROXY", tmp_path / "no-proxy")
    with pytest.raises(RuntimeError, match=r"proxy is not installed .*make hub-deps"):
        hub.configure(tmp_path / "class", tmp_path / "env", password="long enough")
    with pytest.raises(RuntimeError, match=r"learners' environment .* is missing .*make hub-deps"):
        hub.prepare_learner_environment(tmp_path / "env", tmp_path)


def test_publishing_again_adds_a_commit_only_when_the_edition_changed(tmp_path):
    url = hub.publish(tmp_path)
    published = Path(urlsplit(url).path)
    assert published == tmp_path / "published" / hub.EDITION_NAME

    def history():
        return subprocess.run(["git", "log", "--format=%H", "main"], cwd=published, capture_output=True, text=True,
                              check=True).stdout.split()

    first = history()
    assert len(first) == 1
    assert hub.publish(tmp_path) == url and history() == first, "an unchanged edition made a new commit"
    # A file the edition does not have (say, left by hand) is removed by the next publish, on top of the history.
    (tmp_path / "edition" / "stray.txt").write_text("not part of the course")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "add", "stray.txt"],
                   cwd=tmp_path / "edition", check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "stray"],
                   cwd=tmp_path / "edition", check=True)
    hub.publish(tmp_path)
    after = history()
    assert len(after) == 3 and after[2] == first[0], "publishing rewrote the history learners pulled"
    assert not (tmp_path / "edition" / "stray.txt").exists()
