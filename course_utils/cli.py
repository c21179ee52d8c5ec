"""The ``course`` command.

Learners use ``course verify`` (tested versions and data checksums), ``course check`` (run your
notebooks and see where you stand) and ``course submit`` (hand in a notebook); none of them needs
the instructor tools.  Where the instructor tools are installed, :mod:`course_utils.instructor.commands`
adds ``release``, ``execute``, ``grade``, ``marks``, ``export-learner`` and ``hub``.  Run ``course --help`` for the list.
No notebook imports this module.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

INSTRUCTOR_COMMANDS = ("release", "execute", "grade", "similarity", "marks", "report", "export-grades",
                       "export-learner", "hub")


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


def _check(args: argparse.Namespace) -> int:
    from course_utils import selfcheck

    reports = [selfcheck.run_notebook_checks(number, folder=args.folder, timeout=args.timeout)
               for number in (args.notebooks or selfcheck.course_notebooks())]
    for report in reports:
        print(report)
    return 0 if all(report.ran_cleanly for report in reports) else 1


def _not_in_this_edition(args: argparse.Namespace) -> int:
    print(f"course {args.command}: this is an instructor command, and the instructor tools are not installed "
          "here (the learner edition has none). Ask your instructor.", file=sys.stderr)
    return 2


def _instructor_tools_present() -> bool:
    return importlib.util.find_spec("course_utils.instructor") is not None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="Tasks for the health-AI fairness course.")
    commands = parser.add_subparsers(dest="command", required=True)

    submit = commands.add_parser("submit", help="package your notebook for hand-in (learners)")
    submit.add_argument("notebook", help="course notebook number, e.g. 01 or 02b")
    submit.add_argument("--path", help="the notebook to hand in (default: notebooks/NN_*.ipynb)")
    submit.add_argument("--learner", help="your name or id, as your instructor asked (default: your user name)")
    submit.add_argument("--out", default="hand-in", help="folder to write the hand-in to (default: hand-in)")
    submit.set_defaults(run=_submit)

    verify = commands.add_parser("verify", help="check installed versions and the data checksums")
    verify.set_defaults(run=_verify)

    check = commands.add_parser("check", help="run your notebooks and show every exercise's check (learners)")
    check.add_argument("notebooks", nargs="*", help="notebook numbers, e.g. 01 02a (default: every notebook)")
    check.add_argument("--folder", default="notebooks", help="folder with your notebooks (default: notebooks)")
    check.add_argument("--timeout", type=int, default=300, help="seconds allowed per notebook (default 300)")
    check.set_defaults(run=_check)

    if _instructor_tools_present():
        from course_utils.instructor import commands as instructor

        instructor.add_commands(commands)
    else:
        for name in INSTRUCTOR_COMMANDS:
            commands.add_parser(name, help="instructor tools (not in this edition)", add_help=False
                                ).set_defaults(run=_not_in_this_edition)
    return parser


def main(argv: list[str] | None = None) -> int:
    args, extra = build_parser().parse_known_args(argv)
    if extra and args.run is not _not_in_this_edition:
        build_parser().parse_args(argv)  # let argparse report the unknown arguments as usual
    try:
        return args.run(args)
    except (RuntimeError, ValueError, OSError) as error:
        print(f"course {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
