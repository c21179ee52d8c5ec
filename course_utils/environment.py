"""Check that the installed packages are the versions the course was tested with.

The pins are read from this package's own metadata (``pyproject.toml``), so there is one
list of versions to maintain.

Examples
--------
>>> report = environment_report()
>>> list(report.columns)
['package', 'tested_version', 'installed_version', 'ok']
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["environment_report", "pinned_versions", "python_ok"]

_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)\s*(?:;\s*(.+))?$")


def pinned_versions() -> dict[str, str]:
    """The exact versions ``course_utils`` pins for this platform (core dependencies only)."""
    pins = {}
    for requirement in metadata.requires("course_utils") or []:
        match = _PIN.match(requirement)
        if not match:
            continue
        name, version, marker = match.groups()
        if marker and "extra ==" in marker:
            continue  # instructor and developer extras are optional for learners
        if marker and not _marker_applies(marker):
            continue
        pins[name] = version
    return pins


def _marker_applies(marker: str) -> bool:
    from packaging.markers import Marker  # packaging ships with pip and every jupyter install

    return Marker(marker).evaluate()


def environment_report() -> "pd.DataFrame":
    """A table of each pinned package: tested version, installed version, and whether they match."""
    import pandas as pd

    rows = []
    for name, tested in sorted(pinned_versions().items(), key=lambda item: item[0].lower()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        rows.append({"package": name, "tested_version": tested, "installed_version": installed,
                     "ok": installed == tested})
    return pd.DataFrame(rows)


def python_ok() -> bool:
    """True on the Python versions the course supports (3.11 or newer)."""
    return sys.version_info >= (3, 11)
