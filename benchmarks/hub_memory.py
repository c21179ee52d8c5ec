"""Measure a class on JupyterHub: memory of one learner's server per notebook, link to open notebook, sizes.

Usage (from the repository root, after ``make hub-deps``)::

    .venv/bin/python benchmarks/hub_memory.py [--update-readme]

Starts ``make hub`` on a free loopback port with a temporary class folder (as ``tests/test_hub.py``
does), then in Chromium:

* three new learners each follow the nbgitpuller link: seconds from opening the link to notebook 00
  shown with an idle kernel (their server started, the edition cloned); then one follows it again;
* the first learner opens notebooks 00-04 in turn and runs each (*Run All*), leaving every kernel
  running, as learners do.  Each notebook is first answered as the worked solution answers it (written
  into the learner's clone), because an answered notebook does the most work -- notebook 04 trains the
  learner's CNN only once ``train_cnn`` is written; ``--unanswered`` runs them as handed out.  After each
  notebook: the peak resident memory (``VmHWM``) of their server process and of that notebook's kernel.

Writes ``benchmarks/hub_results.json`` (the Zero to JupyterHub fragment's memory figures are checked
against it) and, with ``--update-readme``, the README's hub table.  Memory is in MB (10^6 bytes), as
Kubernetes' ``M``/``G`` quantities.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hub_browser import (EDITION, LEARNER_ENV, class_processes, follow_link, learner_server_pid,  # noqa: E402
                         log_in, running_hub)
from lab_browser import KERNEL_DISPLAY_NAME, KERNEL_STATUS_JS, PAGE_READY_S, PANEL, chromium, run_all, \
    screenshot, wait_for  # noqa: E402
from run_benchmarks import directory_size_mb  # noqa: E402

from course_utils.exercises.questions import notebook_id_of  # noqa: E402
from course_utils.instructor.hub import memory_quantity  # noqa: E402

RESULTS = ROOT / "benchmarks" / "hub_results.json"
README = ROOT / "README.md"
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
LEARNERS = ("bench1", "bench2", "bench3")
RUN_AS = {True: "answered as the worked solution answers them", False: "unanswered"}


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (``VmHWM``), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) * 1024 / 1e6


# The notebook's kernel as JupyterLab's sessions API lists it; a cookie-authenticated request to a
# JupyterHub user server needs the _xsrf cookie echoed in a header, as JupyterLab itself sends it.
SESSIONS_JS = """async (user) => {
    const xsrf = (document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]+)/) || [])[1] || '';
    const response = await fetch(`/user/${user}/api/sessions`, {headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
    return await response.json();
}"""


def open_and_run(page, hub, learner: str, notebook: str) -> int:
    """Open ``notebook`` in the learner's JupyterLab and Run All; return the process id of its kernel."""
    # A workspace of its own, as tests/test_browser.py opens notebooks: JupyterLab restores no other tab (whose
    # kernels keep running on the server all the same).
    page.goto(f"{hub.url}/user/{learner}/lab/workspaces/{Path(notebook).stem}/tree/{EDITION}/notebooks/{notebook}")
    page.locator(".jp-LabShell").wait_for(timeout=PAGE_READY_S * 1000)
    wait_for(page, f"""() => document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell').length > 0
                 && ({KERNEL_STATUS_JS}) === {json.dumps(KERNEL_DISPLAY_NAME + " | Idle")}""",
             PAGE_READY_S, f"{notebook} with an idle kernel")
    try:
        run_all(page)
    except AssertionError as error:
        raise AssertionError(f"{notebook}: {error}; screenshot: {screenshot(page, 'hub_memory_' + Path(notebook).stem)}") from None
    sessions = page.evaluate(SESSIONS_JS, learner)
    kernels = [session["kernel"]["id"] for session in sessions if session["path"].endswith(f"notebooks/{notebook}")]
    if len(kernels) != 1:
        raise RuntimeError(f"{notebook}: expected one session, the server lists {sessions}")
    kernel = kernels[0]
    return next(pid for pid, command in class_processes(hub.state).items() if f"kernel-{kernel}.json" in command)


def answer(clone: Path, notebook: str) -> None:
    """Write ``notebook`` into the learner's clone answered as the worked solution answers it."""
    import nbformat

    from course_utils.instructor import grading, release

    worked = release.worked_release(grading.solution_notebook(notebook_id_of(notebook)))
    nbformat.write(worked, clone / "notebooks" / notebook)


def measure(answered: bool = True) -> dict:
    results = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "python": platform.python_version(), "answered": answered, "notebooks": {}}
    with tempfile.TemporaryDirectory() as scratch, running_hub(Path(scratch)) as hub, chromium() as browser:
        first_visits, pages = [], {}
        for learner in LEARNERS:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = log_in(context, hub, learner)
            _, seconds = follow_link(page, hub, learner)
            first_visits.append(round(seconds, 1))
            pages[learner] = page
        _, again = follow_link(pages[LEARNERS[0]], hub, LEARNERS[0])
        results["link_to_open_s"] = {"first_visits": first_visits, "again": round(again, 1)}
        # Only the first learner's server runs notebooks: the others' kernels (notebook 00) are shut down.
        for learner in LEARNERS[1:]:
            pages[learner].context.close()
        learner, page = LEARNERS[0], pages[LEARNERS[0]]
        server = learner_server_pid(hub.state, learner)
        kernels = {}
        for notebook in NOTEBOOKS:
            if answered:
                answer(hub.clone(learner), notebook)
            kernels[notebook] = open_and_run(page, hub, learner, notebook)
            kernel_mb, server_mb = peak_rss_mb(kernels[notebook]), peak_rss_mb(server)
            results["notebooks"][notebook] = {"kernel_peak_mb": round(kernel_mb), "server_peak_mb": round(server_mb),
                                              "server_plus_kernel_mb": round(kernel_mb + server_mb)}
            print(f"{notebook}: kernel {kernel_mb:.0f} MB, server {server_mb:.0f} MB", flush=True)
        results["all_kernels_open_mb"] = round(peak_rss_mb(server) + sum(peak_rss_mb(pid) for pid in kernels.values()))
        results["clone_mb"] = round(directory_size_mb(hub.clone(learner)), 1)
    results["learner_env_mb"] = round(directory_size_mb(LEARNER_ENV))
    return results


def readme_table(results: dict) -> str:
    rows = [f"Measured {results['date']} on {results['machine']}, Python {results['python']} "
            f"(`benchmarks/hub_memory.py`; learner notebooks run {RUN_AS[bool(results.get('answered'))]} with "
            "*Run All*, every kernel left running).",
            "", "| what | measured |", "|---|---|"]
    for notebook, row in results["notebooks"].items():
        rows.append(f"| one learner's server after running `{notebook}` (server + its kernel, peak RSS) | "
                    f"{row['server_plus_kernel_mb']} MB (kernel {row['kernel_peak_mb']} MB) |")
    times = results["link_to_open_s"]
    rows += [f"| the same learner with every notebook's kernel still running | {results['all_kernels_open_mb']} MB |",
             f"| so, per learner in `config.yaml`: memory guarantee (the heaviest notebook, rounded up) | "
             f"{memory_quantity(max(row['server_plus_kernel_mb'] for row in results['notebooks'].values()))} |",
             f"| link → notebook 00 open with an idle kernel, first visit (server start + clone; 3 learners) | "
             f"{statistics.median(times['first_visits'])} s (median; {', '.join(map(str, times['first_visits']))}) |",
             f"| the link followed again (fetch + merge) | {times['again']} s |",
             f"| the learners' environment (`.venv-learner`, the single-user image's content) | "
             f"{results['learner_env_mb'] / 1000:.2f} GB |",
             f"| the learner edition cloned into a learner's home | {results['clone_mb']} MB |"]
    return "\n".join(rows)


def update_readme(results: dict) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- hub-benchmarks:start -->", "<!-- hub-benchmarks:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no {start} ... {end} block to update")
    head, rest = text.split(start, 1)
    README.write_text(head + start + "\n" + readme_table(results) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-readme", action="store_true", help="write the figures into README.md's hub table")
    parser.add_argument("--unanswered", action="store_true", help="run the notebooks as handed out, not answered")
    args = parser.parse_args(argv)
    results = measure(answered=not args.unanswered)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(readme_table(results))
    if args.update_readme:
        update_readme(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
