"""JupyterHub's configuration for a class on one machine (``course hub``, ``make hub``).

``course hub`` copies this file into the class's state folder and writes ``hub-settings.json`` beside it.
For local trials and workshops on a machine you control: the one shared password lets anyone who has it
log in as any learner, and every learner's server runs as the hub's own system user.  For a course whose
grades matter, use your institution's login and a container per learner (Zero to JupyterHub; see
deploy/zero-to-jupyterhub/config.yaml in the course repository).
"""

import json
from pathlib import Path

settings = json.loads((Path(__file__).resolve().parent / "hub-settings.json").read_text(encoding="utf-8"))
state = Path(settings["state"])
learner_bin = Path(settings["learner_env"]) / "bin"
c = get_config()  # noqa: F821 -- JupyterHub defines get_config when it reads this file

# --- the hub and its proxy: their state in the class's folder, their internal ports free ones --------
c.JupyterHub.bind_url = f"http://{settings['ip']}:{settings['port']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = settings["hub_port"]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server (the default; relied on)
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")

# --- logging in: any learner name with the workshop password (JupyterHub's own shared-password login) --
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = settings["password"]
c.Authenticator.allow_all = True
# Names become folder names: keep them plain (JupyterHub lowercases them first).
c.Authenticator.username_pattern = r"^[a-z0-9][a-z0-9._-]{0,31}$"

# --- each learner's server: their own home folder, the learners' environment ---------------------------
c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner: no system account needed per learner
c.SimpleLocalProcessSpawner.home_dir_template = str(state / "homes" / "{username}")
c.Spawner.cmd = [str(learner_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    # Nothing that reaches the internet: no news feed, no update check, no extension manager queries.
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
] + (["--allow-root"] if settings["as_root"] else [])  # containers and CI machines run everything as root
# Only these of the hub's variables reach learners; `python`, `course` and `git` come from PATH.
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]
c.Spawner.environment = {"PATH": f"{learner_bin}:{settings['path']}", "COURSE_HUB_STATE": str(state)}
# JupyterLab with the course's packages takes a while to start on a busy 2-core machine.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120
