"""`prestatieafspraken import-excel`: a file as Dutch Excel saves it becomes the canonical CSV, or nothing changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    assert "numbers: decimal comma / thousands separators -> plain number: 1" in result.output
    assert "removed 2 empty column(s)" in result.output
    if encoding == "cp1252":
        assert "Windows-1252" in result.output


def test_dutch_dates_and_thousands_are_converted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = root / CANONICAL
    text = path.read_text(encoding="utf-8").replace(",547,", ",1.547.000,").replace("2024-01-01", "1-1-2024")
    source = tmp_path / "in.csv"
    source.write_text(text.replace(",", ";").replace("907.71", "907,71"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", "specifications"])
    assert result.exit_code == 0, result.output
    written = path.read_text(encoding="utf-8")
    assert ",1547000," in written and ",907.71," in written and "2024-01-01" in written


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


def import_file(root: Path, source: Path, table: str = "specifications"):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", table])


def assert_refused_unchanged(root: Path, result, before: bytes, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert expected in result.output, result.output
    assert "was not changed" in result.output.splitlines()[-1]
    assert (root / CANONICAL).read_bytes() == before


@pytest.mark.parametrize("value", ["1.547", "1,547", "-12.500", "999,000"])
def test_a_number_that_reads_two_ways_is_refused(tmp_path: Path, value: str) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    source = tmp_path / "in.csv"
    source.write_text(before.decode().replace(",547,", f',"{value}",'), encoding="utf-8")
    result = import_file(root, source)
    digits = value.replace(".", "").replace(",", "")
    assert_refused_unchanged(root, result, before, f"in.csv:2: value: '{value}' is ambiguous: ")
    assert f"it is {digits}, as decimal separator {value.replace(',', '.')}" in result.output


def test_a_decimal_point_in_a_comma_separated_file_stays_a_decimal_point(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    source = tmp_path / "in.csv"
    source.write_text((root / CANONICAL).read_text(encoding="utf-8").replace("907.71", "0.125"), encoding="utf-8")
    result = import_file(root, source)
    assert result.exit_code == 0, result.output
    assert ",0.125," in (root / CANONICAL).read_text(encoding="utf-8")


def test_a_file_with_both_decimal_separators_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    text = before.decode().replace(",", ";").replace("907.71", "0.125").replace(";547;", ";547,5;")
    source = tmp_path / "in.csv"
    source.write_text(text, encoding="utf-8")
    assert_refused_unchanged(root, import_file(root, source), before,
                             "in.csv:3: value: '0.125' and '547,5' (line 2, value) use different decimal separators")


def test_mac_roman_is_refused_not_guessed(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    source = tmp_path / "mac.csv"
    source.write_bytes(before.decode().replace("Geplande sloop", "Geplande sloop \u00e8").encode("mac_roman"))
    assert_refused_unchanged(root, import_file(root, source), before,
                             "mac.csv:2: byte 23: byte 0x8F is neither UTF-8 nor Windows-1252 (in Mac Roman it is")


def test_mac_roman_that_decodes_as_windows_1252_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    source = tmp_path / "mac.csv"
    source.write_bytes(before.decode().replace("Geplande sloop", "\u00e9\u00e9n sloop").encode("mac_roman"))
    assert_refused_unchanged(root, import_file(root, source), before,
                             "reads as '\u017d' in Windows-1252 but as '\u00e9' in Mac Roman")


def test_utf8_with_one_stray_byte_is_not_turned_into_mojibake(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    source = tmp_path / "half.csv"
    text = before.decode().replace("Geplande sloop", "\u00e9\u00e9n sloop").replace("Oppervlakte", "Opp\x00")
    source.write_bytes(text.encode("utf-8").replace(b"\x00", b"\xeb"))
    assert_refused_unchanged(root, import_file(root, source), before, "the file mixes two encodings")


def test_windows_1252_that_the_bytes_prove_is_converted(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    text = (root / CANONICAL).read_text(encoding="utf-8").replace("Geplande sloop", "\u00e9\u00e9n sloop ca\u00eff")
    source = tmp_path / "ansi.csv"
    source.write_bytes(text.encode("cp1252"))
    result = import_file(root, source)
    assert result.exit_code == 0, result.output
    assert "encoding Windows-1252 -> UTF-8" in result.output
    assert (root / CANONICAL).read_text(encoding="utf-8") == text


def test_a_huge_cell_is_a_clear_error(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    source = tmp_path / "groot.csv"
    source.write_text(before.decode().replace("Geplande sloop", '"' + "x" * 5_000_000 + '"'), encoding="utf-8")
    assert_refused_unchanged(root, import_file(root, source), before,
                             "groot.csv:2: (row): a cell is longer than 131,072 characters")


def test_a_directory_as_source_is_one_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    (tmp_path / "map.csv").mkdir()
    assert_refused_unchanged(root, import_file(root, tmp_path / "map.csv"), before,
                             "map.csv:1: (file): is a directory, not a file")


def test_a_named_pipe_as_source_does_not_hang(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    os.mkfifo(tmp_path / "pijp.csv")
    proc = subprocess.run([sys.executable, "-m", "loaders", "--root", str(root), "import-excel",
                           str(tmp_path / "pijp.csv"), "--table", "specifications"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "pijp.csv:1: (file): is a named pipe (FIFO), not a file" in proc.stderr


def test_a_table_that_leads_outside_the_repository_stops_the_import(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = (root / CANONICAL).read_bytes()
    (root / "csv" / "themes.csv").unlink()
    (root / "csv" / "themes.csv").symlink_to("/dev/zero")
    source = tmp_path / "in.csv"
    source.write_bytes(before)
    assert_refused_unchanged(root, import_file(root, source), before,
                             "csv/themes.csv:1: (file): leads outside the repository (to /dev/zero)")
