"""The test tree stays navigable: every folder of tests is a package, so a test module is
imported by its full name (`tests.batch.conftest`) and two folders may hold files of one name."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _python_sources() -> list[Path]:
    """Our Python files under tests/ (not npm's, not caches)."""
    return [
        path
        for path in TESTS.rglob("*.py")
        if "node_modules" not in path.parts and "__pycache__" not in path.parts
    ]


def test_every_folder_holding_python_is_a_package() -> None:
    folders = {path.parent for path in _python_sources()}
    assert (
        sorted(str(f.relative_to(TESTS)) for f in folders if not (f / "__init__.py").exists()) == []
    )


def test_no_test_imports_a_helper_by_its_bare_name() -> None:
    """`from conftest import ...` works only when pytest happens to put that folder on
    sys.path first; `from tests.batch.conftest import ...` works from anywhere."""
    bare = re.compile(r"^\s*(from|import) (conftest|synthetic_clips)\b", re.MULTILINE)
    offenders = sorted(
        str(path.relative_to(TESTS)) for path in _python_sources() if bare.search(path.read_text())
    )
    assert offenders == []
