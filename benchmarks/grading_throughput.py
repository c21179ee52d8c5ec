"""Grading throughput: hand-ins of a notebook (01 by default) graded per minute by `course grade` and by `nbgrader autograde`.

All grade the same class of full-marks hand-ins (the learner release with the solution's answers typed
in) on this machine: `course grade` with its default parallelism (one hand-in per core, each in its own
bubblewrap sandbox under its resource limits), with kernels forked from the warm template (the default)
with ``--cold-start`` (a new Python per hand-in) and with ``--every-cell`` (no cell skipped, see
:mod:`course_utils.instructor.cell_plan`); `nbgrader autograde` as nbgrader runs it (one
hand-in after another, no sandbox).  For `course grade` it also reports where a hand-in's time goes, as
the median over the class: starting its kernel, the notebook's first cell (its imports), the other cells,
and the graded cells (the judge's harness: every public and hidden case).  The time to prepare the judge
(writing the cases' inputs, computing their references) is part of `course grade`'s total.
Used by ``run_benchmarks.py``; run alone with ``.venv/bin/python benchmarks/grading_throughput.py [--notebook 02b]``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nbformat

from course_utils.instructor import cell_plan, gradebook, release, sandbox

NOTEBOOK = "01"
THROUGHPUT_TARGET = 50.0  # hand-ins per minute on 2 cores, from the judge issue
#: Targets per notebook, from the issues (notebook 02b runs TensorFlow and Aequitas in every hand-in; 02a, the audit,
#: is held to 03's pace).
THROUGHPUT_TARGETS = {"01": THROUGHPUT_TARGET, "02a": 15.0, "02b": 10.0, "03": 15.0, "04": 6.0}
SPLIT = ("start", "imports", "cells", "tests")
BIN = Path(sys.executable).parent


def _class(folder: Path, size: int, notebook: str = NOTEBOOK) -> list[Path]:
    """``size`` learners' hand-ins, each the worked release (so every cell runs and every check passes)."""
    solution = release.solution_path(notebook)
    worked = release.worked_release(nbformat.read(solution, as_version=4))
    paths = []
    for number in range(size):
        path = folder / f"learner-{number:03d}" / notebook / solution.name  # nbgrader's submitted/ layout
        path.parent.mkdir(parents=True)
        nbformat.write(worked, path)
        paths.append(path)
    return paths


def cells_run(notebook: str) -> dict:
    """How many of a full-marks hand-in's code cells `course grade` runs (the rest no verdict depends on)."""
    solution = release.solution_path(notebook)
    source = nbformat.read(solution, as_version=4)
    worked = release.worked_release(source)
    code = sum(cell.cell_type == "code" for cell in worked.cells)
    return {"run": code - len(cell_plan.cells_to_skip(worked, release.release_notebook(source))), "of": code}


def time_course_grade(hand_ins: Path, out: Path, jobs: int | None, cold_start: bool = False,
                      notebook: str = NOTEBOOK, every_cell: bool = False) -> dict:
    """Seconds for `course grade` on the class, and the median seconds of each part of one hand-in."""
    started = time.perf_counter()
    results = gradebook.grade_class(hand_ins, notebook, out, jobs=jobs, progress=False, cold_start=cold_start,
                                    every_cell=every_cell)
    seconds = time.perf_counter() - started
    wrong = [r.learner_id for r in results if r.total != r.max_points]
    if wrong:
        raise RuntimeError(f"benchmark hand-ins did not get full marks: {wrong}")
    split = {part: round(statistics.median(r.timings.get(part, 0.0) for r in results), 2) for part in SPLIT}
    split["hand_in"] = round(statistics.median(r.seconds for r in results), 2)
    return {"seconds": round(seconds, 1), "per_min": round(60 * len(results) / seconds, 1),
            "kernels": sorted({r.kernel for r in results}), "split_s": split,
            "cells": cells_run(notebook) if not every_cell else None}


def time_nbgrader_autograde(hand_ins: Path, course: Path, notebook: str = NOTEBOOK) -> float:
    """Seconds for `nbgrader autograde` on the same hand-ins, in a throwaway nbgrader course."""
    solution = release.solution_path(notebook)
    (course / "source" / notebook).mkdir(parents=True)
    shutil.copy(solution, course / "source" / notebook / solution.name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'benchmark'\n"
        f"c.CourseDirectory.root = {str(course)!r}\nc.Execute.timeout = 300\n")
    shutil.copytree(hand_ins, course / "submitted")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTER_CONFIG_DIR": str(course / ".jupyter")}

    def nbgrader(*arguments):
        subprocess.run([str(BIN / "nbgrader"), *arguments], cwd=course, env=env, check=True, capture_output=True)

    nbgrader("generate_assignment", notebook, "--force")
    started = time.perf_counter()
    nbgrader("autograde", notebook, "--create", "--force")
    return time.perf_counter() - started


def measure(size: int = 16, jobs: int | None = None, notebook: str = NOTEBOOK) -> dict:
    """Grade a class of ``size`` hand-ins three ways; return hand-ins per minute and the time split.

    ``load_average`` is the system's one-minute load average just before: other work on the machine.
    """
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as scratch:
        scratch = Path(scratch)
        _class(scratch / "hand-ins", size, notebook)
        warm = time_course_grade(scratch / "hand-ins", scratch / "grades-warm", jobs, notebook=notebook)
        cold = time_course_grade(scratch / "hand-ins", scratch / "grades-cold", jobs, cold_start=True, notebook=notebook)
        every = time_course_grade(scratch / "hand-ins", scratch / "grades-every", jobs, notebook=notebook,
                                  every_cell=True)
        nbgrader_seconds = time_nbgrader_autograde(scratch / "hand-ins", scratch / "nbgrader-course", notebook)
    return {"date": date.today().isoformat(), "notebook": notebook, "hand_ins": size, "jobs": jobs or os.cpu_count(),
            "sandbox": sandbox.sandbox_status().label, "load_average": round(load, 2),
            "course_grade": warm, "course_grade_cold_start": cold, "course_grade_every_cell": every,
            "course_grade_per_min": warm["per_min"],
            "nbgrader_autograde_s": round(nbgrader_seconds, 1),
            "nbgrader_autograde_per_min": round(60 * size / nbgrader_seconds, 1)}


def measure_course_grade(notebook: str, size: int = 8, jobs: int | None = None) -> dict:
    """`course grade` alone (warm kernels, sandbox on) on ``size`` full-marks hand-ins of ``notebook``."""
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as scratch:
        scratch = Path(scratch)
        _class(scratch / "hand-ins", size, notebook)
        warm = time_course_grade(scratch / "hand-ins", scratch / "grades", jobs, notebook=notebook)
    return {"notebook": notebook, "hand_ins": size, "jobs": jobs or os.cpu_count(),
            "sandbox": sandbox.sandbox_status().label, **warm}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Hand-ins graded per minute, `course grade` and `nbgrader autograde`.")
    parser.add_argument("--notebook", default=NOTEBOOK, help="two-digit notebook number (default 01)")
    parser.add_argument("--hand-ins", type=int, default=16, help="class size (default 16)")
    arguments = parser.parse_args()
    result = measure(arguments.hand_ins, notebook=arguments.notebook)
    result["target_per_min"] = THROUGHPUT_TARGETS.get(arguments.notebook)
    print(json.dumps(result, indent=2))
