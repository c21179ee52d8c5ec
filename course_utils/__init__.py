"""Helpers for the course "Auditing and mitigating algorithmic bias in health AI".

One package in three parts; import the module you need, e.g. ``from course_utils.data import load_heart``.
Importing the package itself loads nothing heavy, so notebooks start quickly.

The learner API -- what the notebooks import; teaching helpers only, none computes a graded answer
    data            the shipped UCI Heart Disease data (checksummed, documented) and the course's baseline scores
    cohort          the synthetic readmission cohort (label-choice bias, drift) for the ethics review
    models          the heart data's feature lists, in the plain dtypes scikit-learn reads
    representation  worked-example tables: category shares and missingness by group, binomial intervals
    metrics         the group audit table (per-group rates with bootstrap intervals), calibration by group
    mitigation      aif360 mitigations as scikit-learn estimators that take each patient's group
    tradeoff        a sweep of mitigations against the FNR gap, with intervals, and its figure
    plots           the course's figures, one colour-blind-safe colour per group throughout
    whatif          the What-If explorer: group thresholds and counterfactual patients (ipywidgets)
    governance      impact-assessment validation, model card and datasheet rendering
    monitoring      group metrics per deployment month and escalation rules for fairness drift
    explain         per-patient explanations of a linear model
    environment     installed versus tested package versions
    cli, handin, selfcheck   the learner's ``course`` commands: verify, check, submit

The exercise engine -- ``course_utils.exercises``: ``check``, ``hint``, ``show_cases``, ``progress``;
the questions of every notebook and the public cases of its code exercises.

The instructor tools -- ``course_utils.instructor`` (the ``[instructor]`` extra): the learner release
and edition, grading, the gradebook, the sandbox; not part of the learner edition.
"""

__version__ = "0.1.0"
