"""Helpers for the course "Auditing and mitigating algorithmic bias in health AI".

One package in three parts; import the module you need, e.g. ``from course_utils.data import load_heart``.
Importing the package itself loads nothing heavy, so notebooks start quickly.

The learner API -- what the notebooks import; teaching helpers only, none computes a graded answer
    data            the shipped UCI Heart Disease data (checksummed, documented), the course's baseline scores,
                    and the tables the notebooks show (load_course_table: the course's own audits, computed once)
    cohort          the synthetic readmission cohort (label-choice bias, drift) for the ethics review
    radiographs     synthetic chest films with a documented causal story (shortcut, soft tissue, label noise,
                    several films per patient) for the imaging project
    models          the heart data's feature lists, in the plain dtypes scikit-learn reads
    metrics         calibration by group, and the names the course's audit tables share
    mitigation      aif360 imported quietly, and a TensorFlow session for each adversarial de-biasing model
    tradeoff        draw AUC against FNR gap with your Pareto front, Aequitas's verdicts
    plots           the course's figures, one colour-blind-safe colour per group throughout
    whatif          the What-If explorer: group thresholds and counterfactual patients (ipywidgets), counts only
    governance      impact-assessment validation, model card and datasheet rendering
    monitoring      a simulated deployment, and escalation rules for fairness drift
    explain         per-patient explanations of a linear model
    environment     installed versus tested package versions
    cli, handin, selfcheck   the learner's ``course`` commands: verify, check, submit

The exercise engine -- ``course_utils.exercises``: ``check``, ``hint``, ``show_cases``, ``progress``;
the questions of every notebook and the public cases of its code exercises.

The instructor tools -- ``course_utils.instructor`` (the ``[instructor]`` extra): the learner release
and edition, grading, the gradebook, the sandbox, and the course's own audit computations behind the
shipped tables (``course_tables``); not part of the learner edition.
"""

__version__ = "0.1.0"
