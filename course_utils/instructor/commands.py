"""The instructor's ``course`` subcommands: release, execute, grade, similarity, marks, report, export-grades,
export-learner, hub.

:mod:`course_utils.cli` adds these to the ``course`` command when the instructor tools are
installed; each is a thin layer over one module of this package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_utils.exercises.questions import notebook_id_of
from course_utils.instructor import release

NAMES = ("release", "execute", "grade", "similarity", "marks", "report", "export-grades", "export-learner", "hub")


def _release(args: argparse.Namespace) -> int:
    solutions, notebooks = Path(args.solutions), Path(args.notebooks)
    if args.check:
        problems = release.stale_notebooks(solutions, notebooks)
        for problem in problems:
            print(f"stale: {problem}")
        if problems:
            print("Run `make release` to regenerate the learner notebooks.")
            return 1
        print(f"notebooks/ is up to date with solutions/ ({len(release.solution_paths(solutions))} notebooks).")
        return 0
    for path in release.build_release(solutions, notebooks):
        print(f"wrote {path.parent.name}/{path.name}")
    return 0


def _execute(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.notebooks] or release.solution_paths()
    for path in paths:
        release.execute_in_place(path)
        print(f"executed and saved {path.name}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from course_utils.instructor import gradebook, grading, kernels, limits, sandbox

    status = sandbox.sandbox_status()
    use_sandbox = status.available and not args.no_sandbox
    if not use_sandbox:
        why = "--no-sandbox given" if args.no_sandbox else status.reason
        print(f"warning: grading WITHOUT a sandbox ({why}); learner code can read and write what you can. "
              "Every gradebook row says `unsandboxed`.", file=sys.stderr)
    notebook = notebook_id_of(release.solution_path(args.notebook))
    seconds = args.timeout or grading.time_limit(notebook)
    cpu_seconds = int(args.cpu_time) if args.cpu_time else grading.default_limits(seconds).cpu_seconds
    per_hand_in = limits.Limits(memory=limits.parse_size(args.memory), processes=args.processes,
                                disk=limits.parse_size(args.disk), cpu_seconds=cpu_seconds)
    print(f"limits per hand-in: {seconds:g} s for the whole notebook, {per_hand_in.describe()}")
    for note in kernels.unheld_limits(use_sandbox):
        print(f"note: {note}", file=sys.stderr)
    out = Path(args.out or f"grades/{args.notebook}")
    results = gradebook.grade_class(args.submissions, notebook, out, jobs=args.jobs, seconds=seconds,
                                    use_sandbox=use_sandbox, progress=not args.quiet,
                                    keep_executed=args.keep_executed, limits=per_hand_in, cold_start=args.cold_start,
                                    log=lambda note: print(f"note: {note}", file=sys.stderr), anonymise=args.anonymise,
                                    every_cell=args.every_cell)
    print(gradebook.summary(results))
    print(f"wrote {out / 'gradebook.csv'} and {len(results)} feedback files in {out / 'feedback'}")
    print(f"mark the Reflect answers on the pages in {out / 'marking'}, then: course marks merge {out} marks-*.csv")
    return 0


def _marks(args: argparse.Namespace) -> int:
    from course_utils.instructor import gradebook

    print(gradebook.merge_marks(args.grades, args.csv))
    return 0


def _report(args: argparse.Namespace) -> int:
    from course_utils.instructor import class_report

    page = class_report.write_report(args.grades, anonymise=args.anonymise)
    print(f"wrote {page} and its tables (report-*.csv) beside it")
    return 0


def _similarity(args: argparse.Namespace) -> int:
    from course_utils.instructor import similarity

    out = Path(args.out or f"grades/{args.notebook}")
    result = similarity.similarity_report(args.hand_ins, args.notebook, out, threshold=args.threshold,
                                          anonymise=args.anonymise)
    print(similarity.summary(result))
    print(f"wrote {result.csv_path} and {result.html_path}")
    return 0


def _export_grades(args: argparse.Namespace) -> int:
    from course_utils.instructor import lms_export

    path = lms_export.export_grades(args.grades, args.format, roster=args.roster, out=args.out,
                                    assignment=args.assignment,
                                    log=lambda note: print(f"note: {note}", file=sys.stderr))
    print(f"wrote {path} ({args.format} layout)")
    return 0


def _export_learner(args: argparse.Namespace) -> int:
    from course_utils.instructor import learner_edition

    target = learner_edition.export(args.directory, force=args.force, git=not args.no_git)
    print(learner_edition.describe(target))
    return 0


def _hub(args: argparse.Namespace) -> int:
    from course_utils.instructor import hub

    if args.publish_only:
        repo_url = hub.publish(args.state)
        hub.prepare_learner_environment(args.learner_env, Path(args.state) / "edition")
        print(f"published the learner edition to {repo_url}; learners get it by following the link again "
              "(their own edits are kept).")
        return 0
    class_hub = hub.configure(args.state, args.learner_env, port=args.port, ip=args.ip, password=args.password)
    print(hub.describe(class_hub), flush=True)
    hub.serve(class_hub)  # becomes JupyterHub; returns only if it could not start
    return 1


def add_commands(commands) -> None:
    """Add the instructor subcommands to the ``course`` command's subparsers."""
    parser = commands.add_parser("release", help="generate learner notebooks/ from solutions/ (instructors)")
    parser.add_argument("--check", action="store_true", help="only report (exit 1) if notebooks/ is stale")
    parser.add_argument("--solutions", default=str(release.SOLUTIONS_DIR), help="folder of solution notebooks")
    parser.add_argument("--notebooks", default=str(release.NOTEBOOKS_DIR), help="folder for learner notebooks")
    parser.set_defaults(run=_release)

    parser = commands.add_parser("execute", help="run solution notebooks top to bottom and save their outputs")
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: every solution)")
    parser.set_defaults(run=_execute)

    parser = commands.add_parser("grade", help="grade a folder of learner hand-ins (instructors)")
    parser.add_argument("submissions", help="folder with <learner>.ipynb files or <learner>/<notebook>.ipynb folders")
    parser.add_argument("--notebook", required=True, help="course notebook number, e.g. 01 or 02b")
    parser.add_argument("--out", help="output folder (default: grades/NN)")
    parser.add_argument("--jobs", type=int, help="hand-ins graded at once (default: number of CPU cores)")
    parser.add_argument("--timeout", type=float, help="seconds allowed for one whole notebook (default per notebook)")
    parser.add_argument("--no-sandbox", action="store_true", help="run learner code without bubblewrap (trusted code only)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--keep-executed", action="store_true",
                        help="also save executed hand-ins (with hidden tests: instructor only) in OUT/executed-instructor-only")
    parser.add_argument("--memory", default="2G", help="memory per process of a hand-in, e.g. 2G or 512M (default 2G)")
    parser.add_argument("--processes", type=int, default=256,
                        help="processes and threads a hand-in may run at once (default 256)")
    parser.add_argument("--disk", default="512M", help="size of a hand-in's working folder, e.g. 512M (default 512M)")
    parser.add_argument("--cpu-time", type=float, help="seconds of processor time per process (default: twice --timeout)")
    parser.add_argument("--cold-start", action="store_true",
                        help="start every kernel anew instead of forking it from a warm template (slower)")
    parser.add_argument("--anonymise", action="store_true",
                        help="show learners on the Reflect marking pages under codes, not names")
    parser.add_argument("--every-cell", action="store_true",
                        help="run every cell of each hand-in, also the figures and demonstrations no verdict depends on "
                             "(slower; the executed copies then show every output)")
    parser.set_defaults(run=_grade)

    parser = commands.add_parser("similarity", help="find pairs of hand-ins that share code (instructors)")
    parser.add_argument("hand_ins", help="folder with <learner>.ipynb files or <learner>/<notebook>.ipynb folders")
    parser.add_argument("--notebook", required=True, help="course notebook number, e.g. 02a")
    parser.add_argument("--out", help="output folder for similarity.csv and similarity.html (default: grades/NN)")
    parser.add_argument("--threshold", type=float,
                        help="overall score (0 to 1) at which a pair is flagged (default: the calibrated 0.75)")
    parser.add_argument("--anonymise", action="store_true",
                        help="show learners under codes (those of `course grade --anonymise` when OUT has them)")
    parser.set_defaults(run=_similarity)

    parser = commands.add_parser("marks", help="merge marks of Reflect answers into a gradebook (instructors)")
    marks = parser.add_subparsers(dest="action", required=True)
    merge = marks.add_parser("merge", help="fold marks saved from the marking pages into gradebook.csv and feedback")
    merge.add_argument("grades", help="the folder `course grade` wrote (its --out), e.g. grades/01")
    merge.add_argument("csv", nargs="+", help="marks CSV files saved from the marking pages")
    merge.set_defaults(run=_marks)

    parser = commands.add_parser("report", help="after grading: what the class got wrong, per question and learner")
    parser.add_argument("grades", help="the folder `course grade` wrote (its --out), e.g. grades/01")
    parser.add_argument("--anonymise", action="store_true", help="show learners under codes, as the marking pages do")
    parser.set_defaults(run=_report)

    parser = commands.add_parser("export-learner",
                                 help="write the learner edition (no solutions, no hidden tests) to a folder")
    parser.add_argument("directory", help="folder to write; becomes a git repository to publish")
    parser.add_argument("--force", action="store_true", help="replace the folder if it exists")
    parser.add_argument("--no-git", action="store_true", help="do not make the folder a git repository")
    parser.set_defaults(run=_export_learner)

    parser = commands.add_parser("export-grades", help="write a grades folder as a Canvas or Moodle import file")
    parser.add_argument("grades", help="the folder `course grade` wrote (its --out), e.g. grades/01")
    parser.add_argument("--format", required=True, choices=("canvas", "moodle", "csv"), help="the import layout")
    parser.add_argument("--roster", help="CSV: learner_id and the platform's ids (for canvas, its gradebook export)")
    parser.add_argument("--out", help="file to write (default: canvas-import.csv, moodle-import.csv or "
                                      "grades-by-learner.csv in the grades folder)")
    parser.add_argument("--assignment", help="assignment column name; for Canvas \"NAME (CANVAS ID)\" fills that one")
    parser.set_defaults(run=_export_grades)

    parser = commands.add_parser("hub", help="run a class on a JupyterHub on this machine (local trials, workshops)")
    parser.add_argument("--state", required=True, help="the class's folder: published edition, learners' homes, hub database")
    parser.add_argument("--learner-env", default=".venv-learner",
                        help="the learners' environment, built by `make hub-deps` (default: .venv-learner)")
    parser.add_argument("--port", type=int, default=8000, help="port learners connect to (default 8000)")
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for a classroom network)")
    parser.add_argument("--password", help="the shared workshop password, 8+ characters (default: a new random one)")
    parser.add_argument("--publish-only", action="store_true",
                        help="only publish the current learner edition to the class (the hub may keep running)")
    parser.set_defaults(run=_hub)
