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
