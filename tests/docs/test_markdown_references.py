"""The project's Markdown stays true to the tree: every relative link leads somewhere, every
path and `python -m` module it names exists, and the README stays a page."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "bench" / "README.md",
        REPO / "infra" / "README.md",
        *(REPO / "docs").glob("*.md"),
    ]
)
README_MAX_LINES = 250

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
CODE_SPAN_TEXT = re.compile(r"`([^`\n]+)`")
# A code span naming a file or folder of the repository: `app/api/deps.py`, `tests/faults/`.
REPOSITORY_PATH = re.compile(
    r"^(?:app|alembic|batch|bench|contracts|devstack|docs|infra|lambdas|scripts|tests)/[\w./-]*$"
)
RUNNABLE_MODULE = re.compile(r"python -m ([\w.]+)")


def prose(markdown: str) -> str:
    """The text a reader follows links in: fenced blocks and code spans hold no links."""
    return CODE_SPAN.sub("", FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", document.read_text()))}


def relative_links(document: Path) -> list[str]:
    targets = LINK.findall(prose(document.read_text(encoding="utf-8")))
    return [target for target in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", target)]


def test_every_document_is_present() -> None:
    assert all(document.is_file() for document in DOCUMENTS)
    assert len(DOCUMENTS) > 4  # docs/ holds the reference pages beside the README


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_resolve(document: Path) -> None:
    broken = []
    for target in relative_links(document):
        path_part, _, fragment = target.partition("#")
        destination = (document.parent / path_part).resolve() if path_part else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            broken.append(f"{target}: no heading #{fragment} in {destination.name}")

    assert not broken, f"{document.relative_to(REPO)}: {broken}"


def test_a_link_to_a_missing_file_or_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## The part\n")
    document = tmp_path / "page.md"
    document.write_text(
        "[ok](other.md#the-part) [gone](missing.md) `[code](ignored.md)` [web](https://x.y)\n"
    )

    assert relative_links(document) == ["other.md#the-part", "missing.md"]
    assert "the-part" in anchors(tmp_path / "other.md")
    assert "missing" not in anchors(tmp_path / "other.md")


def test_headings_become_githubs_anchors() -> None:
    assert slug("Quality, measured against ground truth") == "quality-measured-against-ground-truth"
    assert slug("Dependencies: one resolution for every artifact") == (
        "dependencies-one-resolution-for-every-artifact"
    )
    assert slug("Locally, without Stripe") == "locally-without-stripe"


def named_paths(document: Path) -> list[str]:
    spans = CODE_SPAN_TEXT.findall(FENCE.sub("", document.read_text(encoding="utf-8")))
    return [span.rstrip(".,;:") for span in spans if REPOSITORY_PATH.match(span)]


def named_modules(document: Path) -> list[str]:
    return RUNNABLE_MODULE.findall(document.read_text(encoding="utf-8"))


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_named_paths_and_modules_exist(document: Path) -> None:
    missing = [path for path in named_paths(document) if not (REPO / path).exists()]
    missing += [f"python -m {m}" for m in named_modules(document) if not importable(m)]

    assert not missing, f"{document.relative_to(REPO)} names what is not there: {missing}"


def test_a_path_or_module_that_is_not_there_is_found(tmp_path: Path) -> None:
    document = tmp_path / "page.md"
    document.write_text(
        "`app/config.py`, `app/gone.py`; `python -m app.cli`, `python -m app.gone`, "
        "`python -m gone.too`.\n"
        "```\napp/in_a_block_is_a_sketch.py\n```\n"
    )

    assert named_paths(document) == ["app/config.py", "app/gone.py"]
    assert [importable(module) for module in named_modules(document)] == [True, False, False]


def test_the_readme_is_a_page() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")

    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/"
