"""TensorFlow and Keras, imported once with the course's switches: quiet on stderr, oneDNN on.

Importing this module does the import (a few seconds); :func:`course_utils.radiographs.load_keras` is how notebooks
reach it, and the grader's warm kernel template imports it ahead of a notebook that calls ``load_keras()``.

TensorFlow reads its switches once, at its first import, and then announces its CPU features and oneDNN on stderr
from C++, past Python's ``sys.stderr``: the import runs with the process's stderr pointed at nothing.  oneDNN is
switched on whatever the environment says: it trains the course's CNN about three times faster on a CPU, and the
course's sweep was built with it.  A kernel started by a process that imported course_utils.mitigation (aif360 wants
oneDNN off) inherits "0", and the same seed would then give other scores.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow reads the switch at import; the process's environment is put back afterwards, so that programs started
# from here (aif360's, which want oneDNN off) see what they would have seen.
_before = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
_saved, _nothing = os.dup(2), os.open(os.devnull, os.O_WRONLY)
os.dup2(_nothing, 2)
try:
    import keras
    import tensorflow as tf
finally:
    os.dup2(_saved, 2)
    os.close(_saved)
    os.close(_nothing)
    if _before is None:
        del os.environ["TF_ENABLE_ONEDNN_OPTS"]
    else:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = _before

tf.get_logger().setLevel("ERROR")  # retracing notices: a learner's loop of predictions is not an error
