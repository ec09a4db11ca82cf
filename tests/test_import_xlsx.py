"""`prestatieafspraken import-excel` reads an .xlsx workbook (through agate-excel, csvkit's reader) with the
same checks and messages as a CSV saved by Excel."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from loaders.cli import cli
from loaders.schema import Package
from tests.test_bad_input import make_project

TABLE = "specifications"
# LibreOffice's CSV import: semicolon (59), double quote (34), UTF-8 (76), from line 1, language nl-NL (1043).
LO_DUTCH = "CSV:59,34,76,1,,1043"


def run_import(root: Path, source: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--root", str(root), "import-excel", str(source), "--table", TABLE])


def canonical(root: Path) -> tuple[str, list[list[str]]]:
    path = root / Package.load(root).resource(TABLE).path
    text = path.read_text(encoding="utf-8")
    return text, list(csv.reader(io.StringIO(text, newline="")))


def numeric_columns(root: Path) -> list[int]:
    resource = Package.load(root).resource(TABLE)
    return [i for i, f in enumerate(resource.fields) if f.type in ("number", "integer")]


def test_a_libreoffice_workbook_with_dutch_settings_becomes_the_canonical_csv(tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install -y libreoffice-calc-nogui")
    root = make_project(tmp_path)
    text, rows = canonical(root)
    numbers = numeric_columns(root)
    decimals = [(r, c) for r, row in enumerate(rows[1:], start=2) for c in numbers if "." in row[c]]
    assert decimals, "the table should hold a decimal number for this test to mean something"
    # What a Dutch user types into LibreOffice: semicolons and decimal commas.
    dutch = io.StringIO()
    writer = csv.writer(dutch, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0])
    writer.writerows([v.replace(".", ",") if i in numbers else v for i, v in enumerate(row)] for row in rows[1:])
    work = tmp_path / "lo"
    work.mkdir()
    (work / f"{TABLE}.csv").write_text(dutch.getvalue(), encoding="utf-8")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    f"--infilter={LO_DUTCH}", "--convert-to", "xlsx", "--outdir", str(work),
                    str(work / f"{TABLE}.csv")], check=True, capture_output=True, timeout=180)
    workbook = work / f"{TABLE}.xlsx"
    sheet = openpyxl.load_workbook(workbook, read_only=True).active
    line, column = decimals[0]
    cell = next(sheet.iter_rows(min_row=line, max_row=line))[column]
    assert isinstance(cell.value, float), "LibreOffice read the decimal comma as a number (Dutch settings)"
    (root / Package.load(root).resource(TABLE).path).write_text("", encoding="utf-8")

    result = run_import(root, workbook)
    assert result.exit_code == 0, result.output
    assert (root / Package.load(root).resource(TABLE).path).read_text(encoding="utf-8") == text
    assert f"Excel workbook, sheet '{TABLE}' -> CSV" in result.output


def dutch_workbook(root: Path, sheets: tuple[str, ...] = (TABLE,), header: list[str] | None = None,
                   change: dict[str, str] | None = None) -> bytes:
    """A workbook as Excel nl-NL keeps it: numbers as numbers shown with a decimal comma, full dates as date
    cells shown day-month-year, everything else text."""
    resource = Package.load(root).resource(TABLE)
    _, rows = canonical(root)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets:
        sheet = book.create_sheet(name)
        sheet.append(header or rows[0])
        for row in rows[1:]:
            cells: list[object] = []
            for field, value in zip(resource.fields, row, strict=True):
                value = (change or {}).get(field.name, value)
                if value and field.type in ("number", "integer"):
                    cells.append(float(value) if "." in value else int(value))
                elif value and field.partial_date and len(value) == 10:
                    cells.append(dt.datetime.fromisoformat(value))
                else:
                    cells.append(value or None)
            sheet.append(cells)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "#.##0,00"
                elif isinstance(cell.value, dt.datetime):
                    cell.number_format = "DD-MM-YYYY"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_number_and_date_cells_become_plain_numbers_and_iso_dates(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    text, _ = canonical(root)
    resource = Package.load(root).resource(TABLE)
    assert any(f.partial_date for f in resource.fields)
    source = tmp_path / "uit-excel.xlsx"
    source.write_bytes(dutch_workbook(root))
    (root / resource.path).write_text("", encoding="utf-8")
    result = run_import(root, source)
    assert result.exit_code == 0, result.output
    assert (root / resource.path).read_text(encoding="utf-8") == text


def test_a_workbook_that_would_not_validate_is_not_written_with_the_csv_message(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    path = root / Package.load(root).resource(TABLE).path
    before = path.read_bytes()
    source = tmp_path / "kapot.xlsx"
    source.write_bytes(dutch_workbook(root, change={"source_id": "S987654"}))
    result = run_import(root, source)
    assert result.exit_code == 1
    assert f"{path.relative_to(root)}:2: source_id: 'S987654' does not exist" in result.output
    assert "was not changed" in result.output
    assert path.read_bytes() == before


def test_a_wrong_header_gets_the_csv_message(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    _, rows = canonical(root)
    source = tmp_path / "anders.xlsx"
    source.write_bytes(dutch_workbook(root, header=["kolom", *rows[0][1:]]))
    result = run_import(root, source)
    assert result.exit_code == 1
    assert f"{source}:1: (header): the header must be {','.join(rows[0])}" in result.output


def test_the_sheet_named_after_the_table_is_read_and_otherwise_the_choice_is_asked(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    text, _ = canonical(root)
    source = tmp_path / "twee.xlsx"
    source.write_bytes(dutch_workbook(root, sheets=("Blad1", "Blad2")))
    result = run_import(root, source)
    assert result.exit_code == 1
    assert f"{source}:1: (file): the workbook has 2 sheets (Blad1, Blad2); name the sheet" in result.output
    source.write_bytes(dutch_workbook(root, sheets=("toelichting", TABLE)))
    result = run_import(root, source)
    assert result.exit_code == 0, result.output
    assert (root / Package.load(root).resource(TABLE).path).read_text(encoding="utf-8") == text


@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "an Excel 97-2003 workbook (.xls); save it as .xlsx or as CSV"),
    (b"PK\x03\x04 not really a zip", "not a readable Excel workbook"),
])
def test_an_old_or_broken_workbook_is_one_clear_line(tmp_path: Path, data: bytes, message: str) -> None:
    root = make_project(tmp_path)
    source = tmp_path / "oud.xls"
    source.write_bytes(data)
    result = run_import(root, source)
    assert result.exit_code == 1
    assert f"{source}:1: (file): {message}" in result.output
    assert "Traceback" not in result.output
