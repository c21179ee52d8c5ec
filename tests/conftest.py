"""Fixtures shared by the notebook tests: a notebook's stored outputs and its prose as text.

Each ``tests/test_notebookNN.py`` defines a ``notebook`` fixture (its executed solution); these
fixtures turn it into strings its findings can be searched in.
"""

import pytest


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
