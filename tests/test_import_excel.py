"""`prestatieafspraken import-excel`: a file as Dutch Excel saves it becomes the canonical CSV, or nothing changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loaders.cli import cli
from tests.test_bad_input import make_project

CANONICAL = "csv/specifications.csv"


def excel_version(canonical: str, encoding: str, bom: bool = False) -> bytes:
    """What Excel (nl-NL) writes for the canonical file: semicolons, decimal commas, CRLF, empty extras."""
    lines = []
    for line in canonical.splitlines():
        lines.append(line.replace(",", ";").replace("907.71", "907,71") + ";;")
    text = "\r\n".join(lines) + "\r\n;;;;\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


@pytest.mark.parametrize(("encoding", "bom"), [("cp1252", False), ("utf-8", True), ("utf-8", False)])
def test_excel_file_is_converted_to_the_canonical_csv(tmp_path: Path, encoding: str, bom: bool) -> None:
    root = make_project(tmp_path)
    canonical = (root / CANONICAL).read_text(encoding="utf-8")
    assert "907.71" in canonical and '"' not in canonical
    source = tmp_path / "uit-excel.csv"
    source.write_bytes(excel_version(canonical.replace("Geplande sloop", "Geplande sloop ë"), encoding, bom))
    result = CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", "specifications"])
    assert result.exit_code == 0, result.output
    assert (root / CANONICAL).read_text(encoding="utf-8") == canonical.replace("Geplande sloop", "Geplande sloop ë")
    assert "delimiter ';' -> ','" in result.output
    assert "line ends CR LF -> LF" in result.output
    assert "numbers: decimal comma / thousands dots -> point: 1" in result.output
    assert "removed 2 empty column(s)" in result.output
    if encoding == "cp1252":
        assert "Windows-1252" in result.output


def test_dutch_dates_and_thousands_are_converted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = root / CANONICAL
    text = path.read_text(encoding="utf-8").replace(",547,", ",1.547,").replace("2024-01-01", "1-1-2024")
    source = tmp_path / "in.csv"
    source.write_text(text.replace(",", ";"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", "specifications"])
    assert result.exit_code == 0, result.output
    written = path.read_text(encoding="utf-8")
    assert ",1547," in written and "2024-01-01" in written


def test_a_file_that_would_not_validate_is_not_written(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    source = tmp_path / "kapot.csv"
    source.write_text((root / CANONICAL).read_text(encoding="utf-8").replace("S002", "S999").replace(",", ";"),
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", "specifications"])
    assert result.exit_code == 1
    assert "csv/specifications.csv:2: source_id: 'S999' does not exist" in result.output
    assert "was not changed" in result.output
    assert (root / CANONICAL).read_bytes() == before
    assert not [p for p in (root / "csv").iterdir() if p.name.startswith(".")]


def test_wrong_header_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    source = tmp_path / "anders.csv"
    shutil.copy(root / "csv" / "sources.csv", source)
    result = CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", "specifications"])
    assert result.exit_code == 1
    assert "(header): the header must be id,indicator" in result.output
