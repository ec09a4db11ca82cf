"""Structural checks of one CSV file, streamed: the records come out one at a time as they pass.

A cell-by-cell checker would report most of these too, but as a cascade of confusing cell
errors; here each gets one message that says what is wrong with the file and how
to save it correctly. The reader also records on which physical line each record
starts, so later messages can point at lines even when a quoted cell spans several.
Nothing holds the whole file, except the message for a file that is not UTF-8 (loaders/encoding.py
needs every byte to tell which encoding it is in).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .encoding import UnprovenEncoding, decode_proven
from .files import CHUNK, MAX_BYTES, UnreadableInput, open_input, read_input
from .problems import Problem, shown
from .schema import Resource

# Dutch Excel saves "CSV" with semicolons; tabs come from copying out of a sheet.
OTHER_DELIMITERS = {";": "semicolon (;)", "\t": "tab"}
BOM = b"\xef\xbb\xbf"
# The longest cell read (Python's csv default): far above any maxLength, and it bounds a runaway quote.
FIELD_LIMIT = 131_072
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEAD = 1 << 16
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
# A quick look at a whole record first (see _text_checker): any character CONTROL, INVISIBLE or MARKUP could
# start at, and any first character of a cell FORMULA could match at.
SUSPECT_CHARS = re.compile(f"{CONTROL.pattern[:-1]}{INVISIBLE.pattern[1:-1]}<]")
FORMULA_FIRST = re.compile(r"[\s=\uff1d+\-@\uff0b\uff0d\uff20]")


@dataclass
class FileReport:
    problems: list[Problem] = field(default_factory=list)
    # record_lines[i] is the physical line where record i starts (0 = header): 4 bytes a record.
    record_lines: array = field(default_factory=lambda: array("I"))

    @property
    def ok(self) -> bool:
        return not self.problems

    def line_of_record(self, record_number: int) -> int:
        """Map a 1-based record number (header = 1) to a physical line."""
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


def read_records(resource: Resource, path: Path, display: str, report: FileReport,
                 root: Path | None = None) -> Iterator[tuple[int, list[str]]]:
    """Stream the file's data records as (line, cells), checking its structure on the way into `report`.

    Records are yielded only while the file has no problem. A problem of the whole file found late (a byte that
    is not UTF-8, a CR LF line end) replaces every other problem, as it explains them: read to the end and look
    at report.ok before trusting what was yielded. Memory stays flat: one record at a time.
    """
    add = report.problems.append
    if not path.exists() and not path.is_symlink():
        add(Problem(display, 1, "(file)", f"file is missing; table '{resource.name}' needs it, "
                    f"with the header {','.join(resource.field_names)}"))
        return
    undecodable = False
    try:
        with open_input(path, root) as raw:
            head = _head_problem(resource, display, raw)
            if head:
                add(head)
                return
            raw.seek(0)
            stream = _Lines(io.TextIOWrapper(raw, encoding="utf-8", newline=""), raw)
            try:
                header_line = _first_line(path, root)
                yield from _records(resource, stream, display, report, header_line)
                stream.drain()
            except UnicodeDecodeError:
                undecodable = True
            if stream.too_long:
                report.problems[:] = [Problem(display, 1, "(file)", f"file grew past {MAX_BYTES:,} bytes while it "
                                              "was read; check that it is the right file")]
            elif stream.crlf_line and not undecodable:
                report.problems[:] = [Problem(display, stream.crlf_line, "(file)", "line ends with CR LF (Windows "
                                              "line endings); save the file with LF line endings")]
    except UnreadableInput as error:
        report.problems[:] = [Problem(display, 1, "(file)", f"{error}; table '{resource.name}' needs a CSV file here")]
        return
    except OSError as error:
        report.problems[:] = [Problem(display, 1, "(file)", f"cannot be read: {error.strerror or error}; table "
                                      f"'{resource.name}' needs a CSV file here")]
        return
    if undecodable:
        # Only now is the whole file read: telling Windows-1252 from Mac Roman needs every byte (encoding.py).
        data = read_input(path, root)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            report.problems[:] = [_decode_problem(display, resource.name, data, error)]
        del report.record_lines[:]


def _head_problem(resource: Resource, display: str, raw: BinaryIO) -> Problem | None:
    """What the first bytes tell: an empty file, or one in UTF-16 or with a byte-order mark."""
    head = raw.read(HEAD)
    if not head.strip():
        while head and not head.strip():  # a file of blanks only is empty too, however long
            head = raw.read(HEAD)
        if not head.strip():
            return Problem(display, 1, "(file)", "file is empty; it needs at least the header line "
                           f"{','.join(resource.field_names)}")
        raw.seek(0)
        head = raw.read(HEAD)
    if head.startswith(UTF16_BOMS):
        return Problem(display, 1, "(file)", "file is UTF-16 (as Excel's 'Unicode text' writes it); save it as "
                       "UTF-8 CSV without byte-order mark")
    if head.startswith(BOM):
        return Problem(display, 1, "(file)", "file starts with a UTF-8 byte-order mark (BOM), as Excel "
                       "writes it; save it as UTF-8 without BOM")
    return None


def _first_line(path: Path, root: Path | None) -> str:
    """The header line, up to the first LF, for the delimiter check; a bad byte in it is found by the stream."""
    with open_input(path, root) as raw:
        return raw.readline(FIELD_LIMIT).decode("utf-8", errors="replace").split("\n", 1)[0]


class _Lines:
    """The file's lines (split as csv wants them, newline=""), noting the first CR LF and the bytes read."""

    def __init__(self, text: io.TextIOWrapper, raw: BinaryIO) -> None:
        self.text = text
        self.raw = raw
        self.newlines = 0
        self.crlf_line = 0
        self.too_long = False

    def __iter__(self) -> Iterator[str]:
        newlines = 0
        for line in self.text:
            if line[-1:] == "\n":
                if line[-2:] == "\r\n":
                    self.crlf_line = newlines + 1
                    return
                newlines += 1
                if newlines % 65_536 == 0 and self.raw.tell() > MAX_BYTES:
                    self.too_long = True
                    return
            yield line

    def drain(self) -> None:
        """Read what is left (a CR LF or a bad byte further on outranks the problems found so far)."""
        if self.crlf_line or self.too_long:
            while self.text.read(CHUNK):  # decode only: a bad byte still outranks the CR LF
                if self.raw.tell() > MAX_BYTES:
                    self.too_long = True
                    return
            return
        for _line in self:
            pass


def _records(resource: Resource, lines: _Lines, display: str, report: FileReport,
             header_line: str) -> Iterator[tuple[int, list[str]]]:
    add = report.problems.append
    expected = resource.field_names
    width = len(expected)
    text_check = _text_checker(resource)
    # newline="": split records only at real line ends, not at U+2028 or form feeds inside a cell.
    reader = csv.reader(lines, strict=True)
    start_line = 1
    # The limit is process-wide; ours holds for this read only.
    previous_limit = csv.field_size_limit(FIELD_LIMIT)
    lines_append = report.record_lines.append
    try:
        for record in reader:
            index = len(report.record_lines)
            lines_append(start_line)
            if index == 0:
                if _delimiter_problem(header_line, display, add):
                    return
                _check_header(record, expected, display, add)
                if report.problems:
                    return
            elif not "".join(record).strip():
                add(Problem(display, start_line, "(row)", "empty row; delete it"))
            elif len(record) != width:
                add(Problem(display, start_line, "(row)", f"row has {len(record)} cells but the header "
                            f"has {width}; check for a missing or extra comma, or a comma inside "
                            "a value that is not enclosed in double quotes"))
            else:
                found = text_check(record, start_line)
                if found:
                    report.problems.extend(found)
                elif not report.problems:
                    yield start_line, record
            start_line = reader.line_num + 1
        data_rows = len(report.record_lines) - 1
        if not report.problems and data_rows < resource.min_rows and not lines.crlf_line:
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


def _delimiter_problem(header_line: str, display: str, add: Callable[[Problem], None]) -> bool:
    for delimiter, name in OTHER_DELIMITERS.items():
        if delimiter in header_line and "," not in header_line:
            add(Problem(display, 1, "(file)", f"the header is separated by {name}, not by commas; "
                        "save as comma-separated CSV (in Excel: 'CSV UTF-8 (comma delimited)')"))
            return True
    return False


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


def _text_checker(resource: Resource) -> Callable[[list[str], int], list[Problem]]:
    """_check_text behind two searches per record: most records hold nothing suspect, and one search over the
    record's text and one over the first characters of its cells cost less than four per cell."""
    columns = [i for i, f in enumerate(resource.fields) if f.type == "string"]
    if not columns:
        return lambda record, line: []
    display = resource.path

    def check(record: list[str], line: int) -> list[Problem]:
        cells = [record[i] for i in columns]
        if SUSPECT_CHARS.search("".join(cells)) is None and FORMULA_FIRST.search(
                "".join([cell[:1] for cell in cells])) is None:
            return []
        return _check_text(resource, record, display, line)

    return check
