"""The wheel ships every package: pyproject's explicit list must name each package folder,
or a non-editable install silently lacks it (``live_snn.teach`` once did)."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parents[1]


def _package_folders() -> set[str]:
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for init in (ROOT / "live_snn").rglob("__init__.py")}
    return found | {"live_snn_ui"}


def test_pyproject_lists_every_package_folder():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert _package_folders() - listed == set(), "package folders missing from pyproject.toml"
    assert listed - _package_folders() == set(), "pyproject.toml lists packages that do not exist"
