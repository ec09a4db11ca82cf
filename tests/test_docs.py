"""The README and the docs: short enough to read, and every link in them leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loaders.schema import PROJECT_ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")
PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def test_readme_is_short() -> None:
    assert len((PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 160


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^(https?:|mailto:|#)", target):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name}: {target}"
        assert path.is_relative_to(PROJECT_ROOT), f"{page.name}: {target} leaves the project"
