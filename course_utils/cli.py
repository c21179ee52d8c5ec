"""The ``course`` command: instructor and maintenance tasks, thin over the modules.

Run ``course --help`` for the list.  Each subcommand returns an exit code and prints
plain messages; none of the course's notebooks import this module.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _release(args: argparse.Namespace) -> int:
    from course_utils import release

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
    from course_utils import release

    paths = [Path(p) for p in args.notebooks] or release.solution_paths()
    for path in paths:
        release.execute_in_place(path)
        print(f"executed and saved {path.name}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from course_utils import gradebook, sandbox

    status = sandbox.sandbox_status()
    if args.no_sandbox or not status.available:
        why = "--no-sandbox given" if args.no_sandbox else status.reason
        print(f"warning: grading WITHOUT a sandbox ({why}); learner code can read and write what you can. "
              "Every gradebook row says `unsandboxed`.", file=sys.stderr)
    out = Path(args.out or f"grades/{args.notebook}")
    results = gradebook.grade_class(args.submissions, args.notebook, out, jobs=args.jobs, seconds=args.timeout,
                                    use_sandbox=False if args.no_sandbox else None, progress=not args.quiet,
                                    keep_executed=args.keep_executed)
    print(gradebook.summary(results))
    print(f"wrote {out / 'gradebook.csv'} and {len(results)} feedback files in {out / 'feedback'}")
    return 0


def _submit(args: argparse.Namespace) -> int:
    from course_utils import handin

    path = handin.package(args.notebook, source=args.path, learner=args.learner, out=Path(args.out))
    print(handin.describe(path))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from course_utils import data, environment

    report = environment.environment_report()
    print(report.to_string(index=False))
    digest = data.verify_heart_data()
    print(f"\nheart data: checksum OK ({digest[:12]}...)")
    return 0 if bool(report["ok"].all()) else 1


def build_parser() -> argparse.ArgumentParser:
    from course_utils.release import NOTEBOOKS_DIR, SOLUTIONS_DIR

    parser = argparse.ArgumentParser(prog="course", description="Tasks for the health-AI fairness course.")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="generate learner notebooks/ from solutions/")
    release.add_argument("--check", action="store_true", help="only report (exit 1) if notebooks/ is stale")
    release.add_argument("--solutions", default=str(SOLUTIONS_DIR), help="folder of solution notebooks")
    release.add_argument("--notebooks", default=str(NOTEBOOKS_DIR), help="folder for learner notebooks")
    release.set_defaults(run=_release)

    execute = commands.add_parser("execute", help="run solution notebooks top to bottom and save their outputs")
    execute.add_argument("notebooks", nargs="*", help="notebooks to run (default: every solution)")
    execute.set_defaults(run=_execute)

    grade = commands.add_parser("grade", help="grade a folder of learner hand-ins (instructors)")
    grade.add_argument("submissions", help="folder with <learner>.ipynb files or <learner>/<notebook>.ipynb folders")
    grade.add_argument("--notebook", required=True, help="course notebook number, e.g. 01")
    grade.add_argument("--out", help="output folder (default: grades/NN)")
    grade.add_argument("--jobs", type=int, help="hand-ins graded at once (default: number of CPU cores)")
    grade.add_argument("--timeout", type=float, help="seconds allowed for one whole notebook (default per notebook)")
    grade.add_argument("--no-sandbox", action="store_true", help="run learner code without bubblewrap (trusted code only)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--keep-executed", action="store_true",
                       help="also save executed hand-ins (with hidden tests: instructor only) in OUT/executed-instructor-only")
    grade.set_defaults(run=_grade)

    submit = commands.add_parser("submit", help="package your notebook for hand-in (learners)")
    submit.add_argument("notebook", help="course notebook number, e.g. 01")
    submit.add_argument("--path", help="the notebook to hand in (default: notebooks/NN_*.ipynb)")
    submit.add_argument("--learner", help="your name or id, as your instructor asked (default: your user name)")
    submit.add_argument("--out", default="hand-in", help="folder to write the hand-in to (default: hand-in)")
    submit.set_defaults(run=_submit)

    verify = commands.add_parser("verify", help="check installed versions and the data checksums")
    verify.set_defaults(run=_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (RuntimeError, ValueError, OSError) as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
