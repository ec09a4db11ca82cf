"""Structural checks of one CSV file, before any cell is read as a value.

Frictionless would report most of these too, but as a cascade of confusing cell
errors; here each gets one message that says what is wrong with the file and how
to save it correctly. The reader also records on which physical line each record
starts, so later messages can point at lines even when a quoted cell spans several.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from .encoding import UnprovenEncoding, decode_proven
from .files import UnreadableInput, read_input
from .problems import Problem, shown
from .schema import Resource

# Dutch Excel saves "CSV" with semicolons; tabs come from copying out of a sheet.
OTHER_DELIMITERS = {";": "semicolon (;)", "\t": "tab"}
BOM = b"\xef\xbb\xbf"
# The longest cell read (Python's csv default): far above any maxLength, and it bounds a runaway quote.
FIELD_LIMIT = 131_072
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Text cells are plain text: no control characters (C0 and C1: they break exports and come from
# misread encodings), no invisible format characters (zero-width space, byte-order mark, soft
# hyphen, bidirectional overrides that make text display differently from what it says), no line
# or paragraph separators, no markup (it comes from copying web pages), no spreadsheet formulas.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
                       "\ufff9-\ufffb\u2028\u2029\ue000-\uf8ff\ufffe\uffff]")
MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>|<!--")
# What a spreadsheet runs when it opens a CSV: a cell starting with = (or the full-width ＝), or with
# + - @ (or ＋ － ＠) followed by anything but a plain number: `+cmd|' /C calc'!A0`, `-2+3`, `@SUM(A1)`,
# `- item`. Leading tabs, carriage returns and spaces do not hide it. A signed number such as -5,
# +3.5 or -5% (alone or followed by a space and words) is a number, not a formula.
FORMULA = re.compile(r"^\s*([=\uff1d]|[+\-@\uff0b\uff0d\uff20](?![0-9][0-9.,]*%?(\s|$)|$))")


@dataclass
class FileReport:
    problems: list[Problem] = field(default_factory=list)
    # record_lines[i] is the physical line where record i starts (0 = header).
    record_lines: array = field(default_factory=lambda: array("L"))

    @property
    def ok(self) -> bool:
        return not self.problems

    def line_of_record(self, record_number: int) -> int:
        """Map frictionless' 1-based row number (header = 1) to a physical line."""
        index = record_number - 1
        if 0 <= index < len(self.record_lines):
            return int(self.record_lines[index])
        return record_number


def _decode_problem(display: str, table: str, data: bytes, error: UnicodeDecodeError) -> Problem:
    line = data.count(b"\n", 0, error.start) + 1
    column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
    try:
        decode_proven(data)
    except UnprovenEncoding as unproven:
        # Converting the whole file from one encoding would garble the characters that are right.
        return Problem(display, unproven.line, f"byte {unproven.column}", f"{unproven.reason}")
    return Problem(
        display,
        line,
        f"byte {column}",
        f"byte 0x{data[error.start]:02X} is not valid UTF-8: the file is in Windows-1252/ANSI (as Excel on Windows "
        "saves it); save it again as 'CSV UTF-8' and remove the byte-order mark, or convert it with "
        f"`prestatieafspraken import-excel {display} --table {table}`",
    )


def check_file(resource: Resource, path: Path, display: str, root: Path | None = None) -> FileReport:
    """Structural problems of one CSV; with `root`, the file must also lie inside it (no symlink out)."""
    report = FileReport()
    add = report.problems.append
    if not path.exists() and not path.is_symlink():
        add(Problem(display, 1, "(file)", f"file is missing; table '{resource.name}' needs it, "
                    f"with the header {','.join(resource.field_names)}"))
        return report
    try:
        data = read_input(path, root)
    except UnreadableInput as error:
        add(Problem(display, 1, "(file)", f"{error}; table '{resource.name}' needs a CSV file here"))
        return report
    if not data.strip():
        add(Problem(display, 1, "(file)", "file is empty; it needs at least the header line "
                    f"{','.join(resource.field_names)}"))
        return report
    if data.startswith(UTF16_BOMS):
        add(Problem(display, 1, "(file)", "file is UTF-16 (as Excel's 'Unicode text' writes it); save it as "
                    "UTF-8 CSV without byte-order mark"))
        return report
    if data.startswith(BOM):
        add(Problem(display, 1, "(file)", "file starts with a UTF-8 byte-order mark (BOM), as Excel "
                    "writes it; save it as UTF-8 without BOM"))
        return report
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        add(_decode_problem(display, resource.name, data, error))
        return report
    crlf = data.find(b"\r\n")
    if crlf >= 0:
        add(Problem(display, data.count(b"\n", 0, crlf) + 1, "(file)", "line ends with CR LF (Windows "
                    "line endings); save the file with LF line endings"))
        return report
    header_line = text.split("\n", 1)[0]
    for delimiter, name in OTHER_DELIMITERS.items():
        if delimiter in header_line and "," not in header_line:
            add(Problem(display, 1, "(file)", f"the header is separated by {name}, not by commas; "
                        "save as comma-separated CSV (in Excel: 'CSV UTF-8 (comma delimited)')"))
            return report
    _check_records(resource, text, display, report)
    return report


def _check_records(resource: Resource, text: str, display: str, report: FileReport) -> None:
    add = report.problems.append
    expected = resource.field_names
    # newline="": split records only at real line ends, not at U+2028 or form feeds inside a cell.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start_line = 1
    # The limit is process-wide and frictionless raises it when it loads: set ours for this read only.
    previous_limit = csv.field_size_limit(FIELD_LIMIT)
    try:
        for record in reader:
            index = len(report.record_lines)
            report.record_lines.append(start_line)
            if index == 0:
                _check_header(record, expected, display, add)
                if report.problems:
                    return
            elif not any(cell.strip() for cell in record):
                add(Problem(display, start_line, "(row)", "empty row; delete it"))
            elif len(record) != len(expected):
                add(Problem(display, start_line, "(row)", f"row has {len(record)} cells but the header "
                            f"has {len(expected)}; check for a missing or extra comma, or a comma inside "
                            "a value that is not enclosed in double quotes"))
            else:
                report.problems.extend(_check_text(resource, record, display, start_line))
            start_line = reader.line_num + 1
        data_rows = len(report.record_lines) - 1
        if not report.problems and data_rows < resource.min_rows:
            add(Problem(display, 2, "(file)", f"file has a header but {data_rows} rows; table '{resource.name}' "
                        f"needs at least {resource.min_rows}"))
    except csv.Error as error:
        if "field limit" in str(error):
            add(Problem(display, start_line, "(row)", f"a cell is longer than {FIELD_LIMIT:,} "
                        "characters, more than any column allows; look for a double quote that is never closed"))
            return
        add(Problem(display, reader.line_num or start_line, "(row)", f"broken quoting ({error}); "
                    "a value with a comma, quote or line break must be enclosed in double quotes, "
                    'and a quote inside it doubled ("")'))
    finally:
        csv.field_size_limit(previous_limit)


def _label(name: str) -> str:
    """A header cell as the column part of a message: a colon would make `file:line: column:` ambiguous."""
    return "(empty)" if not name else "(header)" if ":" in name else shown(name)


def _check_header(header: list[str], expected: list[str], display: str, add) -> None:  # type: ignore[no-untyped-def]
    if header == expected:
        return
    duplicates = sorted({c for c in header if header.count(c) > 1})
    for column in duplicates:
        add(Problem(display, 1, _label(column), f"column '{column}' appears more than once in the header; "
                    f"the header must be: {','.join(expected)}"))
    missing = [c for c in expected if c not in header]
    unknown = [c for c in header if c not in expected]
    for column in missing:
        add(Problem(display, 1, column, f"column '{column}' is missing from the header; "
                    f"the header must be: {','.join(expected)}"))
    for column in unknown:
        if not column.strip():
            add(Problem(display, 1, _label(column), "a column without a name (a comma too many at the end of "
                        f"the header?); remove it if it is empty; the header must be: {','.join(expected)}"))
            continue
        add(Problem(display, 1, _label(column), f"unknown column '{column}'; rename it to one of: "
                    f"{','.join(expected)}; if it holds data no column is meant for, describe that column "
                    "in datapackage.yaml first"))
    if not missing and not unknown and not duplicates:
        add(Problem(display, 1, "(header)", f"columns are out of order; the header must be: "
                    f"{','.join(expected)}"))


def _check_text(resource: Resource, record: list[str], display: str, line: int) -> list[Problem]:
    problems = []
    for column, value in zip(resource.fields, record, strict=True):
        if not value or column.type != "string":
            continue
        hidden = CONTROL.search(value) or INVISIBLE.search(value)
        if hidden:
            char = hidden.group()
            kind = "control character" if CONTROL.match(char) else "invisible character"
            name = unicodedata.name(char, "").lower()
            problems.append(Problem(display, line + value.count("\n", 0, hidden.start()), column.name,
                                    f"{kind} U+{ord(char):04X}{f' ({name})' if name else ''} at position "
                                    f"{hidden.start() + 1}; remove it (it cannot be seen but breaks search, "
                                    "exports or how the text is shown)"))
        elif column.raw.get("format") != "uri" and MARKUP.search(value):
            tag = MARKUP.search(value).group()  # type: ignore[union-attr]
            problems.append(Problem(display, line, column.name, f"text contains HTML markup '{shown(tag, 40)}'; "
                                    "write plain text (copy the words, not the web page)"))
        elif FORMULA.match(value):
            problems.append(Problem(display, line, column.name, f"text starts like a spreadsheet formula "
                                    f"('{shown(value, 20)}'), which Excel would run; write the text so that it "
                                    "starts with a letter or a number"))
    return problems
