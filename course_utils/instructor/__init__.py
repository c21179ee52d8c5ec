"""Instructor tools: build the learner release and edition, grade hand-ins, keep the course healthy.

Needs the ``[instructor]`` extra (nbgrader); nothing in the learner API or the exercise engine imports
this package, and the learner edition (``course export-learner``) does not contain it.

Modules
-------
release          learner notebooks from the solution notebooks, with nbgrader's own preprocessors
learner_edition  ``course export-learner``: the repository an instructor hands out to learners
grading          grade one hand-in: restore hidden tests, run it sandboxed, score it
gradebook        grade a class in parallel; ``gradebook.csv`` and per-learner feedback
class_report     ``course report``: after grading, difficulty and discrimination per question, the cases and
                 misconceptions most failed, who needs help
similarity       ``course similarity``: pairs of hand-ins that share code (winnowed fingerprints, as MOSS)
lms_export       ``course export-grades``: the gradebook in Canvas's or Moodle's import layout
sandbox          the bubblewrap sandbox each hand-in's kernel runs in
limits           each hand-in's memory, processes, folder size and processor time
kernels          a fresh kernel per hand-in, forked from a warm template or started cold
kernel_template  the warm template process (run as a script, in the kernel's environment)
commands         the instructor's ``course`` subcommands
course_tables    the course's audit tables, bootstrap, sweep and monitoring computations behind the shipped tables
                 (``data/<name>.parquet``): they compute what code exercises grade, so learners get their results only
uci              read and decode the original UCI Heart Disease files (``data/raw/build_heart_data.py``,
                 ``load_heart_from_uci``): the decoder flags recorded zeros, what a code exercise grades
"""


def require_nbgrader(task: str) -> None:
    """Raise a clear error when nbgrader (the ``[instructor]`` extra) is not installed."""
    try:
        import nbgrader  # noqa: F401
    except ImportError as error:
        raise RuntimeError(
            f"{task} needs nbgrader, which comes with the instructor tools: install them with "
            "`pip install -e '.[instructor]'` (or run `make install` in the instructor repository)."
        ) from error
