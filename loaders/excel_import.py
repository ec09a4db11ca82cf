"""Convert a CSV as Dutch Excel saves it into the canonical form of csv/<table>.csv.

Partners keep the data in spreadsheets. Excel writes "CSV" with semicolons, in
Windows-1252 or UTF-8 with a byte-order mark, with CRLF line ends, decimal commas,
day-month-year dates and sometimes empty trailing columns and rows. Rather than
guessing at load time, this explicit import converts such a file, says what it
changed, validates the result together with the rest of the package, and only then
writes it: a file that would not validate is never written.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem
from .schema import Package, Resource
from .validate import validate

THOUSANDS_AND_DECIMAL = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


@dataclass
class Conversion:
    text: str
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 with byte-order mark"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252"), "Windows-1252"


def _number(value: str) -> str:
    if THOUSANDS_AND_DECIMAL.match(value):
        return value.replace(".", "").replace(",", ".")
    if DECIMAL_COMMA.match(value):
        return value.replace(",", ".")
    return value


def _date(value: str) -> str:
    match = DUTCH_DATE.match(value)
    if not match:
        return value
    day, month, year = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def convert(data: bytes, resource: Resource, display: str) -> Conversion:
    text, encoding = decode(data)
    result = Conversion(text="")
    if encoding != "UTF-8":
        result.changes.append(f"encoding {encoding} -> UTF-8 without byte-order mark")
    if "\r\n" in text:
        result.changes.append("line ends CR LF -> LF")
    first_line = text.split("\n", 1)[0]
    delimiter = max([";", ",", "\t"], key=first_line.count)
    if delimiter != ",":
        result.changes.append(f"delimiter {'tab' if delimiter == chr(9) else delimiter!r} -> ','")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
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
                                       f"found {','.join(header)}"))
        return result
    counts: Counter[str] = Counter()
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
                converted = _number(value.strip())
                if converted != value:
                    counts["numbers: decimal comma / thousands dots -> point"] += 1
                row[index] = converted
            elif column.partial_date:
                converted = _date(value.strip())
                if converted != value:
                    counts["dates: day-month-year -> YYYY-MM-DD"] += 1
                row[index] = converted
        body.append(row)
    result.changes += [f"{what}: {n}" for what, n in sorted(counts.items())]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(expected)
    writer.writerows(body)
    result.text = out.getvalue()
    return result


def import_excel(package: Package, table: str, source: Path) -> Conversion:
    """Convert `source` into csv/<table>.csv if the whole package then validates."""
    resource = package.resource(table)
    result = convert(source.read_bytes(), resource, str(source))
    if result.problems:
        return result
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch)
        shutil.copy(package.root / "datapackage.yaml", trial / "datapackage.yaml")
        shutil.copytree(package.root / Path(resource.path).parent, trial / Path(resource.path).parent)
        (trial / resource.path).write_text(result.text, encoding="utf-8")
        result.problems = validate(Package.load(trial))
    if result.problems:
        return result
    target = package.root / resource.path
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(result.text)
    os.replace(tmp, target)
    return result
