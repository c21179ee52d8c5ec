"""Time a newcomer's path: clone the course, `make lab`, open notebook 00 and run its first code cell.

Usage (from the repository root)::

    .venv/bin/python benchmarks/clone_to_notebook.py [--source .]

Follows the README's quick start only: ``git clone`` into a temporary folder, then ``make lab`` there
(which creates ``.venv`` and installs everything), then opens ``notebooks/00_orientation.ipynb`` in
Chromium (driven by Playwright, as the browser tests do) and runs the environment-check cell.  Prints
the seconds to each step.  pip's download cache is whatever this machine has: a first install on a
slow network takes longer, which the README says.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("make lab stopped before the server answered")
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"no server after {seconds} s")


def _open_and_run_first_cell(url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/notebooks/00_orientation.ipynb")
        page.locator(".jp-LabShell").wait_for(timeout=120_000)
        page.wait_for_function("() => [...document.querySelectorAll('#jp-main-statusbar *')]"
                               ".some(e => e.textContent.trim().endsWith('| Idle'))", timeout=120_000)
        first_code = page.locator(".jp-Notebook .jp-CodeCell").first
        first_code.locator(".cm-content").click()
        page.keyboard.press("Shift+Enter")
        first_code.locator(".jp-OutputArea-output").first.wait_for(timeout=120_000)
        browser.close()


def measure(source: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="newcomer-") as scratch:
        clone = Path(scratch) / "course"
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        subprocess.run(["git", "clone", "--quiet", str(source), str(clone)], check=True)
        cloned = time.monotonic()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "JPY_", "MAKE"))}
        env["JUPYTER_CONFIG_DIR"] = str(Path(scratch) / "jupyter-config")  # a newcomer has none
        lab = subprocess.Popen(["make", "lab", f"PORT={port}",
                                "LAB_OPTS=--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token="],
                               cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        try:
            _wait_for_server(url, lab, 1800)
            served = time.monotonic()
            _open_and_run_first_cell(url)
            ran = time.monotonic()
        finally:
            os.killpg(lab.pid, signal.SIGTERM)
            lab.wait()
    return {"clone_s": round(cloned - started, 1), "install_and_serve_s": round(served - cloned, 1),
            "open_and_run_s": round(ran - served, 1), "total_s": round(ran - started, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(Path(__file__).resolve().parents[1]), help="repository to clone")
    result = measure(Path(parser.parse_args().source))
    print(result)
    sys.exit(0)
