"""Helpers for the course "Auditing and mitigating algorithmic bias in health AI".

One module per concept; import the one you need, e.g. ``from course_utils.data import load_heart``.
Importing the package itself loads nothing heavy, so notebooks start quickly.

Modules
-------
data         the shipped UCI Heart Disease data, checksummed and documented
metrics      the group audit table (per-group rates with bootstrap intervals), disparities, calibration
representation  who is in the data: counts, imbalance ratios, prevalence and shares with intervals, missingness
models       the course's baseline diagnostic model and its out-of-fold predictions
plots        the course's figures, drawing the tables they are given, one colour-blind-safe colour per group
mitigation   aif360 imported quietly, and a TensorFlow session for each adversarial de-biasing model
tradeoff     measure a sweep's predictions with paired intervals, draw AUC against FNR gap, Aequitas's verdicts
cohort       the synthetic readmission cohort (label-choice bias, drift) for the ethics review
governance   impact-assessment validation, model card and datasheet rendering
monitoring   group metrics per deployment month and escalation rules for fairness drift
checks       learner feedback on graded exercises: ``check``, ``hint``, ``progress``
questions    the graded questions of every notebook
environment  installed versus tested package versions
release      build learner notebooks from the instructor solutions (nbgrader)
cli          the ``course`` command
"""

__version__ = "0.1.0"
