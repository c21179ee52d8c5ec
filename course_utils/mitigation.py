"""aif360 in a notebook, quietly: import it, and give each adversarial model a TensorFlow session of its own.

Notebook 02b asks you to call aif360 yourself -- ``Reweighing`` on a ``BinaryLabelDataset``,
``AdversarialDebiasing`` -- and fairlearn's ``ThresholdOptimizer``.  Two pieces of boilerplate are not the
lesson, and this module hides them:

:func:`load_aif360`
    Imports aif360 (and TensorFlow, in the graph mode its ``AdversarialDebiasing`` needs) with their
    start-up messages silenced.  Call it once before your ``from aif360... import ...`` lines: those imports
    then print nothing.  aif360 logs ``No module named ...`` for optional backends it does not find, and
    TensorFlow announces its CPU features; neither helps a learner.
:func:`tensorflow_session`
    A fresh TensorFlow 1 graph and a single-threaded session for one ``AdversarialDebiasing`` model::

        with tensorflow_session() as sess:
            adversarial = AdversarialDebiasing(..., scope_name="adversary", sess=sess, seed=0)
            adversarial.fit(training_dataset)
            new_scores = adversarial.predict(new_dataset).scores.ravel()

    Fit and predict inside the ``with`` block: the session closes when it ends.  A graph of its own lets you
    fit a second model without "Variable ... already exists"; one thread per operation makes a seed give the
    same model every time; the progress lines ``fit`` prints ("epoch 0; iter: 0; batch classifier loss: ...")
    are left out of the output, and what you print yourself still shows.

Neither function computes anything you are asked to compute.  ``import course_utils.mitigation`` imports
neither aif360 nor TensorFlow (about 3 s and a page of log lines): only the functions do.

Examples
--------
>>> from course_utils.mitigation import load_aif360, tensorflow_session
>>> load_aif360()
>>> from aif360.algorithms.preprocessing import Reweighing
>>> with tensorflow_session() as sess:
...     type(sess).__name__
'Session'
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["load_aif360", "tensorflow_session"]

# Modules whose deprecation warnings _quiet() silences (a regular expression on the warning's module).
_NOISY_LIBRARIES = r"(aif360|tensorflow|keras|tf_keras)(\.|$)"

# aif360's subpackages a notebook imports from; importing the in-processing one imports TensorFlow.
_AIF360_MODULES = ("aif360.datasets", "aif360.metrics", "aif360.algorithms.preprocessing",
                   "aif360.algorithms.inprocessing", "aif360.algorithms.postprocessing")


@contextlib.contextmanager
def _quiet(keep_prints: bool = False):
    """Silence aif360's and TensorFlow's messages about optional backends, deprecations and training progress.

    ``keep_prints=True`` lets through what is printed inside the block, except aif360's training progress.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    stdout = _without_training_progress() if keep_prints else contextlib.redirect_stdout(io.StringIO())
    try:
        with stdout, warnings.catch_warnings():
            # aif360 and TensorFlow's TF1 compatibility layer call APIs that pandas, NumPy and
            # TensorFlow have deprecated; a learner can do nothing about those.  Only deprecation
            # warnings raised from inside these libraries are silenced, and only in this block.
            for category in (DeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=_NOISY_LIBRARIES)
            yield
    finally:
        logging.disable(previous)


class _WithoutTrainingProgress(io.TextIOBase):
    """A stdout that passes every line through except aif360's per-batch training progress."""

    _PROGRESS = re.compile(r"epoch \d+; iter: \d+; batch classifier loss: ")

    def __init__(self, target):
        self._target, self._pending = target, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if not self._PROGRESS.match(line):
                self._target.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending and not self._PROGRESS.match(self._pending):
            self._target.write(self._pending)
        self._pending = ""
        self._target.flush()


@contextlib.contextmanager
def _without_training_progress():
    stream = _WithoutTrainingProgress(sys.stdout)
    try:
        with contextlib.redirect_stdout(stream):
            yield
    finally:
        stream.flush()


@contextlib.contextmanager
def _numpy_global_rng_untouched():
    # aif360's AdversarialDebiasing calls np.random.seed(seed) in fit and predict; restore the
    # learner's global NumPy random state afterwards so its seeding does not leak into theirs.
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


def _tensorflow_environment():
    """TensorFlow's log and oneDNN switches, which it reads once, at its first import.

    oneDNN's custom operations announce themselves on stderr with a line TF_CPP_MIN_LOG_LEVEL does
    not silence; turning them off silences it (and removes one source of run-to-run numeric
    differences).  Set when this module is imported too: a notebook may import aif360's in-processing
    module (which imports TensorFlow) itself, after this one, and a grader's warm kernel imports the
    notebook's modules in the notebook's order.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


_tensorflow_environment()


def _tensorflow():
    """Import TensorFlow in graph (TF1) mode with its log output silenced (its switches were set on import)."""
    with _quiet():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        try:
            from absl import logging as absl_logging

            absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError:  # absl ships with TensorFlow; be tolerant anyway
            pass
    # aif360's AdversarialDebiasing builds a TF1 graph: it refuses to run eagerly (AIF360
    # issue #289, PR #230).  This switch is process-wide and cannot be undone, which is one more
    # reason to import TensorFlow only here.
    tf.compat.v1.disable_eager_execution()
    return tf


def load_aif360() -> None:
    """Import aif360 and TensorFlow (graph mode) with their start-up messages silenced.

    Call it once, before importing from aif360: ``from aif360.datasets import BinaryLabelDataset`` and the
    like then print nothing.  It takes a few seconds the first time (TensorFlow) and nothing afterwards.

    Examples
    --------
    >>> load_aif360()
    >>> import sys
    >>> "aif360.algorithms.inprocessing" in sys.modules
    True
    """
    import importlib

    _tensorflow()
    with _quiet():
        for name in _AIF360_MODULES:
            importlib.import_module(name)


@contextlib.contextmanager
def tensorflow_session() -> Iterator[Any]:
    """A fresh TensorFlow 1 graph and single-threaded session, for one aif360 ``AdversarialDebiasing`` model.

    Use it as ``with tensorflow_session() as session:`` and pass ``sess=session`` to
    ``AdversarialDebiasing``; fit and predict inside the block.  Inside it, aif360's progress lines and
    TensorFlow's deprecation messages are silenced, NumPy's global random state is restored afterwards
    (aif360 reseeds it), and the session is closed at the end.

    Yields
    ------
    tensorflow.compat.v1.Session

    Examples
    --------
    >>> with tensorflow_session() as first, tensorflow_session() as second:
    ...     first is not second and first.graph is not second.graph
    True
    """
    tf = _tensorflow()
    load_aif360()
    graph = tf.Graph()
    # One thread per operation: parallel sums in another order would give another model for the same seed.
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with graph.as_default(), tf.compat.v1.Session(graph=graph, config=config) as session, \
            _quiet(keep_prints=True), _numpy_global_rng_untouched():
        yield session
