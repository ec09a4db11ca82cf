"""Convert a CSV as Dutch Excel saves it into the canonical form of csv/<table>.csv.

Partners keep the data in spreadsheets. Excel writes "CSV" with semicolons, in
Windows-1252 or UTF-8 with a byte-order mark, with CRLF line ends, decimal commas,
day-month-year dates and sometimes empty trailing columns and rows. Rather than
guessing at load time, this explicit import converts such a file, says what it
changed, validates the result together with the rest of the package, and only then
writes it: a file that would not validate is never written. It converts only what it
can prove: an encoding the bytes do not prove (loaders/encoding.py), a number that
reads differently with the point or comma as thousands or decimal separator (1.547),
or a file that uses both decimal separators is refused, with the reason.

An Excel workbook (.xlsx, as Excel or LibreOffice save it) is read through agate-excel, csvkit's
reader for it (`in2csv` uses the same code): every cell as text, a date cell as YYYY-MM-DD, a number as
its stored value (the decimal comma is only how a Dutch spreadsheet shows it). The sheet then goes through
the same conversion and checks as a CSV, so the messages are the same.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import agate
import agateexcel  # noqa: F401 - adds agate.Table.from_xlsx
import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from .encoding import UnprovenEncoding, decode_proven
from .filecheck import FIELD_LIMIT
from .files import UnreadableInput, read_input
from .problems import Problem, shown
from .schema import DESCRIPTOR_NAME, Package, Resource
from .validate import validate

DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
# Numbers as spreadsheets write them. A group of exactly three digits after a single separator
# (1.547, 1,547) reads as a thousands group or as decimals: that is never decided by guessing.
NUMBER_FORMS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"[0-9]+"), "", "plain"),
    (re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}"), "", "ambiguous"),
    (re.compile(r"[0-9]+\.[0-9]+"), "point", "decimal point"),
    (re.compile(r"[0-9]+,[0-9]+"), "comma", "decimal comma"),
    (re.compile(r"[1-9][0-9]{0,2}(\.[0-9]{3}){2,}"), "comma", "thousands points"),
    (re.compile(r"[1-9][0-9]{0,2}(,[0-9]{3}){2,}"), "point", "thousands commas"),
    (re.compile(r"[1-9][0-9]{0,2}(\.[0-9]{3})+,[0-9]+"), "comma", "thousands points and decimal comma"),
    (re.compile(r"[1-9][0-9]{0,2}(,[0-9]{3})+\.[0-9]+"), "point", "thousands commas and decimal point"),
)


@dataclass
class Conversion:
    text: str
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _number(value: str) -> tuple[str, str, str]:
    """(canonical text, decimal convention it proves: "point", "comma" or "", form); form "ambiguous" or
    "" (not a number form at all: left for validation to refuse) leave the text as it is."""
    sign, digits = ("-", value[1:]) if value.startswith("-") else ("", value)
    for pattern, convention, form in NUMBER_FORMS:
        if pattern.fullmatch(digits):
            if form == "ambiguous":
                return value, "", form
            if convention == "comma":
                digits = digits.replace(".", "").replace(",", ".")
            elif convention == "point":
                digits = digits.replace(",", "")
            return sign + digits, convention, form
    return value, "", ""


def _ambiguous(value: str) -> str:
    grouped = value.replace(".", "").replace(",", "")
    decimal = value.replace(",", ".")
    return (f"'{shown(value)}' is ambiguous: with '{value.lstrip('-')[-4]}' as thousands separator it is "
            f"{grouped}, as decimal separator {decimal}; the import does not guess: in the spreadsheet, format the "
            "column without thousands separators, and with four or more decimals if it holds decimal numbers")


def _date(value: str) -> str:
    match = DUTCH_DATE.match(value)
    if not match:
        return value
    day, month, year = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _parse(text: str, delimiter: str, display: str, result: Conversion) -> list[list[str]] | None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_limit = csv.field_size_limit(FIELD_LIMIT)
    try:
        return list(reader)
    except csv.Error as error:
        if "field limit" in str(error):
            reason = (f"a cell is longer than {FIELD_LIMIT:,} characters, more than any column allows; look for a "
                      "double quote that is never closed")
        else:
            reason = f"broken quoting ({error})"
        result.problems.append(Problem(display, reader.line_num, "(row)", reason))
        return None
    finally:
        csv.field_size_limit(previous_limit)


def convert(data: bytes, resource: Resource, display: str) -> Conversion:
    result = Conversion(text="")
    try:
        text, encoding = decode_proven(data)
    except UnprovenEncoding as error:
        result.problems.append(Problem(display, error.line, f"byte {error.column}", error.reason))
        return result
    if encoding != "UTF-8":
        result.changes.append(f"encoding {encoding} -> UTF-8 without byte-order mark")
    if "\r\n" in text:
        result.changes.append("line ends CR LF -> LF")
    first_line = text.split("\n", 1)[0]
    delimiter = max([";", ",", "\t"], key=first_line.count)
    if delimiter != ",":
        result.changes.append(f"delimiter {'tab' if delimiter == chr(9) else delimiter!r} -> ','")
    rows = _parse(text, delimiter, display, result)
    if rows is None:
        return result
    if not rows:
        result.problems.append(Problem(display, 1, "(file)", "file is empty"))
        return result
    header = rows[0]
    while header and not header[-1].strip():
        header = header[:-1]
    if len(header) < len(rows[0]):
        result.changes.append(f"removed {len(rows[0]) - len(header)} empty column(s) at the end")
    expected = resource.field_names
    if [h.strip() for h in header] != expected:
        result.problems.append(Problem(display, 1, "(header)", f"the header must be {','.join(expected)}; "
                                       f"found {shown(','.join(header), 300)}"))
        return result
    counts: Counter[str] = Counter()
    # The first cell that proves each decimal convention: a file may use one, never both.
    proof: dict[str, tuple[int, str, str]] = {}
    body = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            counts["empty rows removed"] += 1
            continue
        extra = row[len(expected):]
        if any(cell.strip() for cell in extra):
            result.problems.append(Problem(display, line, "(row)", f"row has {len(row)} cells, the header "
                                           f"{len(expected)}"))
            continue
        row = (row + [""] * len(expected))[: len(expected)]
        for index, column in enumerate(resource.fields):
            value = row[index]
            if column.type in ("number", "integer"):
                converted, convention, form = _number(value.strip())
                if form == "ambiguous":
                    result.problems.append(Problem(display, line, column.name, _ambiguous(value.strip())))
                    continue
                if convention:
                    proof.setdefault(convention, (line, column.name, value.strip()))
                if converted != value:
                    counts["numbers: decimal comma / thousands separators -> plain number"] += 1
                row[index] = converted
            elif column.partial_date:
                converted = _date(value.strip())
                if converted != value:
                    counts["dates: day-month-year -> YYYY-MM-DD"] += 1
                row[index] = converted
        body.append(row)
    if len(proof) == 2:
        first, second = sorted(proof.values())
        result.problems.append(Problem(display, second[0], second[1], f"'{shown(second[2])}' and '{shown(first[2])}' "
                                       f"(line {first[0]}, {first[1]}) use different decimal separators; the import "
                                       "does not guess which one the file means: make them agree in the spreadsheet"))
    result.changes += [f"{what}: {n}" for what, n in sorted(counts.items())]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(expected)
    writer.writerows(body)
    result.text = out.getvalue()
    return result


ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx file is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


def _sheet(data: bytes, resource: Resource, display: str) -> tuple[str | None, Problem | None]:
    """The sheet that holds the table: the only one, or the one named after the table."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as error:
        return None, Problem(display, 1, "(file)", f"not a readable Excel workbook ({error}); save it again as "
                             ".xlsx or as CSV")
    names = list(book.sheetnames)
    book.close()
    if len(names) == 1:
        return names[0], None
    if resource.name in names:
        return resource.name, None
    return None, Problem(display, 1, "(file)", f"the workbook has {len(names)} sheets "
                         f"({', '.join(shown(n) for n in names)}); name the sheet that holds the table "
                         f"'{resource.name}', or keep only that sheet")


def workbook_as_csv(data: bytes, resource: Resource, display: str) -> tuple[bytes, str | None, Problem | None]:
    """(UTF-8 CSV bytes, what changed, problem) for an .xlsx workbook, read by agate-excel with every cell
    as text, so that nothing is guessed: a number is its stored value, a date cell YYYY-MM-DD."""
    sheet, problem = _sheet(data, resource, display)
    if problem:
        return b"", None, problem
    text = agate.Text(cast_nulls=False)  # an "NA" or "null" in a cell is text, not empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "column names not specified": the header is a row
        table = agate.Table.from_xlsx(io.BytesIO(data), sheet=sheet, header=False,
                                      column_types=agate.TypeTester(types=[text]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(["" if value is None else value for value in row] for row in table.rows)
    return out.getvalue().encode("utf-8"), f"Excel workbook, sheet '{shown(str(sheet))}' -> CSV", None


def _trial_package(package: Package, resource: Resource, text: str, trial: Path) -> list[Problem]:
    """A copy of the package in `trial` with `text` as the table; problems if another file cannot be read."""
    problems = []
    (trial / DESCRIPTOR_NAME).write_bytes(read_input(package.root / DESCRIPTOR_NAME, package.root))
    for other in package.resources:
        target = trial / other.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if other.name == resource.name:
            target.write_text(text, encoding="utf-8")
            continue
        source = package.root / other.path
        if not source.exists() and not source.is_symlink():
            continue  # validation reports the missing file
        try:
            target.write_bytes(read_input(source, package.root))
        except UnreadableInput as error:
            problems.append(Problem(other.path, 1, "(file)", str(error)))
    return problems


def import_excel(package: Package, table: str, source: Path) -> Conversion:
    """Convert `source` into csv/<table>.csv if the whole package then validates."""
    resource = package.resource(table)
    try:
        data = read_input(source)
    except UnreadableInput as error:
        return Conversion(text="", problems=[Problem(str(source), 1, "(file)", str(error))])
    display = str(source)
    if data.startswith(OLE_MAGIC):
        return Conversion(text="", problems=[Problem(display, 1, "(file)", "an Excel 97-2003 workbook (.xls); "
                                                     "save it as .xlsx or as CSV")])
    sheet_note = None
    if data.startswith(ZIP_MAGIC):
        data, sheet_note, problem = workbook_as_csv(data, resource, display)
        if problem:
            return Conversion(text="", problems=[problem])
    result = convert(data, resource, display)
    if sheet_note:
        result.changes.insert(0, sheet_note)
    if result.problems:
        return result
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch)
        result.problems = _trial_package(package, resource, result.text, trial)
        if not result.problems:
            result.problems = validate(Package.load(trial))
    if result.problems:
        return result
    target = package.root / resource.path
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(result.text)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return result
