"""The course's shipped data sets, installed as the package ``course_utils.datasets``.

This folder holds data files, not code: the UCI Heart Disease CSV, its SHA-256 checksum list and the
datasheets.  ``pyproject.toml`` maps it to ``course_utils.datasets`` so that ``course_utils.data``
finds the files through ``importlib.resources`` in a clone, an editable install and a wheel alike.
``raw/`` (the source file and the script that builds the CSV from it) is not installed.
"""
