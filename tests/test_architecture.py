"""The layer contract (.importlinter) holds on the tree, and import-linter catches what it
is there to catch: a lower layer importing a higher one, the core importing Qt, a cycle.
Each bad import is made in a copy of the packages, never in the tree itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = REPO_ROOT / ".importlinter"


def lint_imports(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    code = "import sys; from importlinter.cli import lint_imports_command; " \
           "sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(CONTRACTS), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def copy_of_the_packages(tmp_path: Path) -> Path:
    """``live_snn`` and ``live_snn_ui`` (the ``ui`` folder) copied, Python files only, to be
    imported ahead of the installed ones."""
    only_python = shutil.ignore_patterns("*.safetensors", "__pycache__", "*.pyc")
    shutil.copytree(REPO_ROOT / "live_snn", tmp_path / "live_snn", ignore=only_python)
    shutil.copytree(REPO_ROOT / "ui", tmp_path / "live_snn_ui", ignore=only_python)
    found = subprocess.run(
        [sys.executable, "-c", "import live_snn, live_snn_ui; "
         "print(live_snn.__file__); print(live_snn_ui.__file__)"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True,
        text=True, check=True,
    ).stdout.split()
    assert all(Path(f).is_relative_to(tmp_path) for f in found), found
    return tmp_path


def test_the_tree_keeps_every_contract():
    done = lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "broken", "named"),
    [
        # a lower layer (binning) importing a higher one (the engine)
        ("binning/config.py", "import live_snn.engine.engine", "never back BROKEN",
         "live_snn.binning.config -> live_snn.engine.engine"),
        # a core module importing Qt
        ("events.py", "import PySide6.QtCore", "The core never imports Qt or the GUI BROKEN",
         "live_snn.events -> PySide6"),
        # a cycle inside a package (records <-> run loop)
        ("engine/records.py", "import live_snn.engine.run_loop",
         "No import cycles between the modules of a package BROKEN", "live_snn.engine"),
    ],
    ids=["lower-imports-higher", "core-imports-qt", "cycle"],
)
def test_a_deliberately_bad_import_breaks_its_contract(copy_of_the_packages, module, bad_import,
                                                       broken, named):
    path = copy_of_the_packages / "live_snn" / module
    path.write_text(path.read_text() + f"\n{bad_import}  # deliberately bad\n")
    done = lint_imports(copy_of_the_packages, pythonpath=copy_of_the_packages)
    assert done.returncode != 0
    assert broken in done.stdout and named in done.stdout
