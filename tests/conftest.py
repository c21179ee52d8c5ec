"""Fixtures shared by the notebook tests: a notebook's stored outputs and its prose as text.

Each ``tests/test_notebookNN.py`` defines a ``notebook`` fixture (its executed solution); these
fixtures turn it into strings its findings can be searched in.
"""

import os

import pytest

# TensorFlow reads these once, at its first import -- whichever test imports it first (importing aif360's
# metrics or in-processing algorithms imports it too).  oneDNN off gives the same numbers from run to run (the
# shipped adversarial predictions are compared byte for byte); the log level keeps TensorFlow's start-up lines
# out of the test output.  course_utils.mitigation sets the same values for notebooks.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="module")
def outputs(notebook):
    """Every printed line and text/plain result of the stored, executed solution."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def prose(notebook):
    """The notebook's Markdown, with line breaks folded so a sentence can span lines."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return " ".join(text.split())
